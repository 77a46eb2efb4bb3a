"""A starting book shown as the deposits and trades that build it from an empty one.

z3 answers with a *state*: a book whose balances and positions are whatever the model chose, then
the events that break a claim. A risk committee reads such a story with suspicion ("where did this
book come from?"). :func:`from_empty` rewrites it as an ordinary story: an empty book at the same
mark, each account's deposits (cash and spot, and a trader's collateral assets at the book's own
prices: a system account's start at zero), trades at the mark that open every position (each
long bought from a short, largest first), then the original events. Only traders trade, so a
position z3 gave a system account (the order book's inventory) is held by a fully collateralized
trader, ``maker``, instead. Trades at the mark move no
cash against the mark (settle-to-mark: a fill pays only ``lots × (price − mark)``); what fees they
charge is paid by depositing that much more, measured by replaying the prefix once.

An isolated position (an account of the book with an ``owner``, docs/portfolio.md decision 3a)
is reached as a venue reaches it: its owner deposits the position's margin with its own cash and
moves it in (``AddMargin``, before any trade, so the position's opening is covered by its own
margin), and the owner's trade in that market is the position's (``rules.isolated.route``). Only
an isolated position in the book's first market is rebuilt. On a book of several markets each
market's positions open by trades in it at its own mark (not when a further market's fund holds
money or a market keeps a capped claim's running total: those books stay states).

The rewritten book need not equal z3's: what deposits and trades cannot set (a negative balance,
a debt, a withdrawal history, a cost basis away from the mark) is left at what they give. The
rewrite is believed only if the engine says so: the new story is replayed and must break the same
claim at the original failing event. Otherwise (a trade its buyer's margin does not cover at
opening, or a claim that depends on what the rewrite changed, such as the clock or the cost basis)
the answer is None and the state-based story stands, labelled as such by the reports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import attrs

from solvent.properties.catalog import Invariant
from solvent.properties.played import first_violation, replay
from solvent.properties.scenarios import Story
from solvent.rules.book import Asset, Book, MarginMode, Market, Role, new_book
from solvent.rules.engine import Step
from solvent.rules.events import AddMargin, AssetDeposit, Deposit, Event, SpotDeposit, Taker, Trade
from solvent.rules.policy import Policy


@attrs.frozen
class Built:
    """The rewritten story, how many of its events build the starting book, the failing step's
    index and the steps the engine ran."""

    story: Story
    prefix: int
    failing: int
    steps: tuple[Step, ...]


@attrs.frozen
class ToppedUp:
    """What :func:`topped_up` built last: the empty book, its events, the steps the engine ran and
    whether every account named ended with its cash."""

    empty: Book
    events: tuple[Event, ...]
    steps: tuple[Step, ...]
    exact: bool

    @property
    def reached(self) -> Book:
        """The book the events reach."""
        return self.steps[-1].after if self.steps else self.empty


def topped_up(
    policy: Policy,
    build: Callable[[dict[str, int]], tuple[Book, tuple[Event, ...]] | None],
    amounts: dict[str, int],
    cash: Mapping[str, int],
    tries: int,
    move: Callable[[dict[str, int], dict[str, int]], dict[str, int]] | None = None,
    keep: Callable[[Book], bool] | None = None,
) -> ToppedUp | None:
    """The events ``build`` makes of ``amounts`` (what each account deposits), replayed, each amount
    then moved by what its account's cash misses of ``cash`` at the end (the trades' fees, an inverse
    contract's settlement), built again, ``tries`` builds at most: the first whose every account in
    ``cash`` ends with its cash, else the last. ``move``: how the shortfalls (by account, of those in
    ``cash``) move the amounts (default: each by its own, kept where positive). None where ``build``
    gives nothing, the engine refuses an event or a reached book fails ``keep``. Deposits are set by
    measurement, not by formula: one loop for every route that tops them up (:func:`from_empty`,
    ``solver.history``)."""
    for i in range(tries):
        built = build(amounts)
        if built is None:
            return None
        empty, events = built
        steps = replay(policy, Story(empty, events))
        if steps is None:
            return None
        done = ToppedUp(empty, tuple(events), tuple(steps), False)
        got = done.reached
        if keep is not None and not keep(got):
            return None
        short = {n: c - got.account(n).cash_quote for n, c in cash.items()}
        if all(v == 0 for v in short.values()):
            return attrs.evolve(done, exact=True)
        if i == tries - 1:
            return done
        amounts = (move or _each_by_its_own)(amounts, short)
    return None


def _each_by_its_own(amounts: dict[str, int], short: dict[str, int]) -> dict[str, int]:
    return {n: v + short.get(n, 0) for n, v in amounts.items() if v + short.get(n, 0) > 0}


def from_empty(policy: Policy, invariant: Invariant, story: Story, failing: int) -> Built | None:
    """``story`` (breaking ``invariant`` at step ``failing``) started from an empty book, or None."""
    book = story.book
    plan = opening(book)
    if plan is None:
        return None
    empty, deposits, trades = plan
    margins = isolated_margins(book)

    def build(amounts: dict[str, int]) -> tuple[Book, tuple[Event, ...]]:
        cash = {n: v for n, v in amounts.items() if n not in margins}
        return empty, opening_events(book, cash, trades, {n: v for n, v in amounts.items() if n in margins})

    def move(amounts: dict[str, int], short: dict[str, int]) -> dict[str, int]:
        short = dict(short)
        for name in margins:  # an isolated position's fees: its owner deposits and moves that much more
            owner = book.account(name).owner
            short[owner] = short.get(owner, 0) + short.get(name, 0)
        return _each_by_its_own(amounts, short)

    amounts = {**deposits, **margins}
    wanted = {a.name: a.cash_quote for a in book.accounts if a.name in amounts}  # the maker is no account of it
    # once as asked, once more topped up by what the trades' fees took
    done = topped_up(policy, build, amounts, wanted, 2, move)
    if done is None:
        return None
    prefix = done.events
    rewritten = Story(empty, prefix + tuple(story.events[: failing + 1]))
    steps = replay(policy, rewritten)
    if steps is None or first_violation(policy, invariant, steps) != len(prefix) + failing:
        return None
    return Built(rewritten, len(prefix), len(prefix) + failing, tuple(steps))


def opening(book: Book, with_maker: bool = False) -> tuple[Book, dict[str, int], tuple[Trade, ...]] | None:
    """The empty book like ``book`` (its markets and accounts), the deposits that give its balances
    and the trades at the mark that open its positions (a system account's position held by the
    fully collateralized trader ``maker``, there also when ``with_maker``); None when its open interest does not balance or its
    accounts are not those of a new book. What deposits and trades cannot set (a debt, a withdrawal
    history, a cost basis away from the mark, a negative balance) they leave at what they give.
    An isolated position's margin is deposited by its owner (moved in by :func:`opening_events`)
    and its position opened by its owner's trade, which the engine routes to it. On a book of
    several markets each market's positions are opened by trades in it at its own mark; a book
    whose further markets' funds hold money, or whose markets keep a capped claim's running total,
    is not rebuilt (None)."""
    markets = book.markets
    if any(sum(a.positions[i].size_lots for a in book.accounts) != 0 for i in range(len(markets))):
        return None
    if book.more_markets and (
        any(f != 0 for a in book.accounts for f in a.more_funds)
        or any(m.fund_settled_quote is not None for m in markets)
    ):
        return None
    per_market: list[dict[str, int]] = []
    for i in range(len(markets)):
        positions: dict[str, int] = {}
        for a in book.accounts:
            size = a.positions[i].size_lots
            if size != 0 and a.is_trader:
                name = a.owner or a.name  # an isolated position trades in its owner's name
                positions[name] = positions.get(name, 0) + size
        per_market.append(positions)
    held = [sum(a.positions[i].size_lots for a in book.accounts if not a.is_trader) for i in range(len(markets))]
    maker = fresh_name(book, "maker") if any(held) or with_maker else None
    if maker is not None:
        for positions, lots in zip(per_market, held, strict=True):
            if lots:
                positions[maker] = lots  # what the system accounts hold, a trader holds (only traders trade)
    empty = _empty_like(book, maker)
    if empty is None:
        return None
    deposits = {
        a.name: a.cash_quote for a in book.accounts if a.role is not Role.CLEARING and not a.owner and a.cash_quote > 0
    }
    for name, margin in isolated_margins(book).items():
        owner = book.account(name).owner
        deposits[owner] = deposits.get(owner, 0) + margin
    if maker is not None:  # fully collateralized: the whole notional, so it is no part of the story
        deposits[maker] = sum(abs(lots) * m.mark_quote for lots, m in zip(held, markets, strict=True)) + 1
    trades = tuple(
        trade
        for i, (positions, m) in enumerate(zip(per_market, markets, strict=True))
        for trade in trades_at_mark(positions, m.mark_quote, "" if i == 0 else m.name)
    )
    return empty, deposits, trades


def fresh_name(book: Book, name: str) -> str:
    """``name``, or ``name1``, ``name2``... the first no account of ``book`` holds."""
    taken = {a.name for a in book.accounts}
    return next(f"{name}{i or ''}" for i in range(len(taken) + 1) if f"{name}{i or ''}" not in taken)


def _empty_like(book: Book, maker: str | None) -> Book | None:
    """An empty book with ``book``'s market and accounts (names, roles, margin modes, isolated
    positions, in order), and ``maker`` after its traders if one is given; None for a book with an
    isolated position in a market other than its first (only one market is rebuilt). Its collateral
    assets are ``book``'s at their prices there, none deposited yet and their lending indices at one,
    as a venue's start (what z3 gave the indices is no history's)."""
    market = book.market
    owned = [a for a in book.accounts if a.owner]
    if any(a.isolated_market != market.name for a in owned):
        return None
    cross = [a for a in book.traders if not a.owner]
    traders = tuple(a.name for a in cross) + ((maker,) if maker else ())
    isolated = tuple(a.name for a in cross if a.margin_mode is MarginMode.ISOLATED)
    more = tuple(Market(m.name, m.mark_quote, m.tick_quote, m.previous_mark_quote) for m in book.more_markets)
    empty = new_book(
        market=market.name,
        mark_quote=market.mark_quote,
        traders=traders,
        tick_quote=market.tick_quote,
        isolated=isolated,
        isolated_positions=tuple((a.owner, a.isolated_market) for a in owned),
        more_markets=more,
        fund_per_market=book.funds_per_market,
        assets=tuple(Asset(x.name, x.price_quote) for x in book.assets),
    )
    if [(a.name, a.role) for a in empty.accounts if a.name != maker] != [(a.name, a.role) for a in book.accounts]:
        return None
    return attrs.evolve(empty, market=attrs.evolve(empty.market, previous_mark_quote=market.previous_mark_quote))


def trades_at_mark(positions: dict[str, int], mark: int, market: str = "") -> tuple[Trade, ...]:
    """Trades at the mark that open every position: longs buy from shorts, largest first
    (``market``: the market traded, ``""`` the book's first)."""
    longs = sorted(((size, name) for name, size in positions.items() if size > 0), reverse=True)
    shorts = sorted(((-size, name) for name, size in positions.items() if size < 0), reverse=True)
    need = [list(x) for x in longs]
    have = [list(x) for x in shorts]
    out, i, j = [], 0, 0
    while i < len(need) and j < len(have):
        lots = min(need[i][0], have[j][0])
        out.append(Trade(need[i][1], have[j][1], lots, mark, Taker.BUYER, market=market))
        need[i][0] -= lots
        have[j][0] -= lots
        i += need[i][0] == 0
        j += have[j][0] == 0
    return tuple(out)


def isolated_margins(book: Book) -> dict[str, int]:
    """Each isolated position's margin (its cash where positive), by the position's name."""
    return {a.name: a.cash_quote for a in book.accounts if a.owner and a.cash_quote > 0}


def opening_events(
    book: Book, deposits: dict[str, int], trades: Sequence[Trade], margins: dict[str, int] | None = None
) -> tuple[Event, ...]:
    """The deposits (cash, then ``book``'s spot balances, then each trader's collateral-asset balance
    with the engine's own asset deposit), each isolated position's margin moved in by its owner
    (``margins``, by position name; default :func:`isolated_margins`), and the trades, in that
    order. A system account's asset balance is not deposited: it starts at zero, as a venue's does
    (z3's may hold anything, −10¹² of the asset among it), and a negative balance (a borrow) is no
    deposit's."""
    cash = tuple(Deposit(n, amount) for n, amount in deposits.items())
    spot = tuple(SpotDeposit(a.name, a.spot_quote) for a in book.accounts if a.spot_quote > 0)
    spot += tuple(
        AssetDeposit(a.name, asset.name, held)
        for a in book.traders
        if not a.owner
        for asset, held in zip(book.assets, a.asset_balances, strict=True)
        if held > 0
    )
    moved = isolated_margins(book) if margins is None else margins
    margin = tuple(AddMargin(book.account(n).owner, amount) for n, amount in moved.items())
    return cash + spot + margin + tuple(trades)


__all__ = [
    "Built",
    "ToppedUp",
    "fresh_name",
    "from_empty",
    "isolated_margins",
    "opening",
    "opening_events",
    "topped_up",
    "trades_at_mark",
]

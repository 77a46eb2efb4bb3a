"""Hypothesis strategies for books, accounts, positions, price paths and whole stories.

Built by construction, never by filtering: every drawn story starts from a well-formed book (the
predicate the prover assumes, ``solvent.rules.wellformed``) and is a sequence of events resolved
against the book they meet (``solvent.properties.actions``) that the engine accepts; the engine
takes a trade only as a venue does on order entry (initial margin from equity less fee and open
loss, no credit for a price better than the mark), and :func:`play` drops what it rejects. Bounds
come from keyword-only options in hypothesis's style (``min_value``/``max_value``); impossible
combinations raise ``InvalidArgument``. Each docstring says what the strategy shrinks toward.

Users import these for their own tests::

    from solvent.properties.strategies import stories
    @given(stories(my_policy))
    def test_my_claim(story): ...

A drawn book, account, event, action or story prints as the Python that builds it (``repr``, and
hypothesis's falsifying example: ``Book(market=Market(name='PERP', mark_quote=150), accounts=(...))``,
``Trade(..., taker=Taker.SELLER)``), so a failing one pastes into ``@example(...)`` with
:data:`EXAMPLE_IMPORTS` in scope.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from solvent.properties import actions as act
from solvent.properties.actions import LIQUIDITY_QUOTE, PPM_PER_BP
from solvent.properties.played import keep_played, played_steps, remember
from solvent.properties.scenarios import Story
from solvent.rules.arith import PPM, Rounding, mul_ppm
from solvent.rules.book import Account, Asset, Book, Market, new_book, on_tick
from solvent.rules.engine import RejectedEvent, Step, step
from solvent.rules.events import Deposit, MarkPrice
from solvent.rules.isolated import with_isolated_positions
from solvent.rules.market_funds import shaped_for
from solvent.rules.policy import Policy
from solvent.rules.wellformed import reasons

NAMES = ("alice", "bob", "carol", "dave", "erin", "frank")

#: The imports under which a drawn value's ``repr`` is the Python that builds it again.
EXAMPLE_IMPORTS = (
    "from solvent.rules.book import Account, Asset, Book, MarginMode, Market, Role\n"
    "from solvent.rules.events import Deposit, Funding, MarkPrice, SpotDeposit, Taker, Trade, Withdraw\n"
    "from solvent.rules.events import AssetDeposit, AssetPrice, AssetWithdraw, InterestAccrual\n"
    "from solvent.rules.events import AddMargin, RemoveMargin\n"
    "from solvent.properties.story import Story\n"
    "from solvent.properties.actions import Close, Move, Open, Pay, PayFunding, PaySpot, SeedFund, Take, TakeProfit\n"
    "from solvent.properties.actions import MoveAsset, PayAsset, TakeAsset, BorrowAsset, AccrueInterest, MoveMargin\n"
)


def _check_range(name: str, low: int, high: int) -> None:
    if low > high:
        raise InvalidArgument(f"min_{name}={low} must be <= max_{name}={high}")


def positions(*, max_lots: int = 10_000) -> st.SearchStrategy[int]:
    """A signed position in lots; shrinks toward 0, then smaller sizes, longs before shorts."""
    if max_lots < 0:
        raise InvalidArgument(f"max_lots={max_lots} must be >= 0")
    return st.integers(-max_lots, max_lots)


def accounts(*, name: str = "alice", max_quote: int = 10**9) -> st.SearchStrategy[Account]:
    """A flat trader account holding cash and spot; shrinks toward an empty account.

    A bare account with a position is not a well-formed book on its own (open interest must
    balance), so positions come from trades in :func:`stories`.
    """
    return st.builds(
        Account,
        name=st.just(name),
        cash_quote=st.integers(0, max_quote),
        spot_quote=st.integers(0, max_quote),
    )


def books(
    *,
    min_traders: int = 2,
    max_traders: int = 3,
    min_mark: int = 100,
    max_mark: int = 100_000,
    markets: int = 1,
    assets: int | Sequence[str] = 0,
    market_names: tuple[str, ...] = (),
) -> st.SearchStrategy[Book]:
    """An empty, well-formed book of 2–3 traders at a mark price; shrinks toward two traders and a low mark.

    ``markets`` (1–3): the book's perpetual markets, each at a mark of its own (docs/portfolio.md),
    named ``market_names`` (a policy's) or else ``PERP`` then ``PERP2``, ``PERP3``. ``assets``: the collateral assets (0–3; or their names,
    e.g. a policy's ``[[collateral]]`` tables), ``ASSET``, ``ASSET2``… by default, each at an
    oracle price of 1 to 10,000 settlement quanta per asset quantum, held by nobody yet; shrinks
    toward a price of 1. With none the book is drawn exactly as before books had assets."""
    names = _asset_names(assets)
    if names:
        plain = books(
            min_traders=min_traders,
            max_traders=max_traders,
            min_mark=min_mark,
            max_mark=max_mark,
            markets=markets,
            market_names=market_names,
        )
        prices = st.lists(st.integers(1, 10_000), min_size=len(names), max_size=len(names))
        return st.builds(lambda b, p: _with_assets(b, names, p), plain, prices)
    _check_range("traders", min_traders, max_traders)
    _check_range("mark", min_mark, max_mark)
    if min_traders < 2 or max_traders > len(NAMES):
        raise InvalidArgument(f"traders must be between 2 and {len(NAMES)}: {min_traders}..{max_traders}")
    if min_mark < 1:
        raise InvalidArgument(f"min_mark={min_mark} must be >= 1")
    if not 1 <= markets <= 3:
        raise InvalidArgument(f"markets={markets} must be between 1 and 3")
    market_names = market_names or ("PERP",) + tuple(f"PERP{i}" for i in range(2, markets + 1))
    if len(market_names) != markets:
        raise InvalidArgument(f"market_names={market_names!r} must name the {markets} markets")
    if markets == 1:  # drawn exactly as before books had several markets
        return st.builds(
            lambda n, mark: new_book(market=market_names[0], mark_quote=mark, traders=NAMES[:n]),
            st.integers(min_traders, max_traders),
            st.integers(min_mark, max_mark),
        )
    marks = st.lists(st.integers(min_mark, max_mark), min_size=markets, max_size=markets)
    return st.builds(
        lambda n, m: new_book(
            market=market_names[0],
            mark_quote=m[0],
            traders=NAMES[:n],
            more_markets=tuple(Market(name, mark) for name, mark in zip(market_names[1:], m[1:], strict=True)),
        ),
        st.integers(min_traders, max_traders),
        marks,
    )


def _asset_names(assets: int | Sequence[str]) -> tuple[str, ...]:
    if isinstance(assets, int):
        if not 0 <= assets <= 3:
            raise InvalidArgument(f"assets={assets} must be between 0 and 3")
        return ("ASSET",) + tuple(f"ASSET{i}" for i in range(2, assets + 1)) if assets else ()
    names = tuple(assets)
    if len(names) > 3 or len(set(names)) != len(names) or not all(names):
        raise InvalidArgument(f"assets={names!r} must be at most 3 distinct names")
    return names


def _with_assets(book: Book, names: tuple[str, ...], prices: list[int]) -> Book:
    """``book`` (empty, just drawn) holding the collateral assets ``names`` at ``prices``, every
    account at a zero balance of each."""
    none = tuple(0 for _ in names)
    accounts = tuple(
        Account(a.name, a.role, a.margin_mode, more_positions=a.more_positions, asset_balances=none)
        for a in book.accounts
    )
    return Book(
        book.market,
        accounts,
        more_markets=book.more_markets,
        assets=tuple(Asset(n, p) for n, p in zip(names, prices, strict=True)),
    )


def _ppm(bp: int) -> int:
    return bp * PPM_PER_BP


def _spike(up_ppm: int) -> list[int]:
    """Up ``up_ppm``, then down by what takes the mark back to where it started (``up / (1 + up)``
    of the raised mark), in whole basis points rounded toward no move."""
    back = up_ppm * PPM // (PPM + up_ppm) // PPM_PER_BP * PPM_PER_BP
    return [up_ppm, -back]


def price_paths(
    *, min_moves: int = 1, max_moves: int = 4, max_gap_ppm: int = 9_000 * PPM_PER_BP
) -> st.SearchStrategy[list[int]]:
    """Mark moves in ppm of the mark, in whole basis points: smooth ticks, one-tick gaps, cascades
    and spike-and-recover.

    Shrinks toward one small move. A gap is a single move of up to ``max_gap_ppm`` (90% by
    default); a cascade is several moves the same way; a spike goes up to 5× and comes back.
    """
    _check_range("moves", min_moves, max_moves)
    smooth = st.integers(-300, 300).map(_ppm)
    widest = max_gap_ppm // PPM_PER_BP
    gap = st.integers(-widest, widest).map(_ppm)
    cascade = st.integers(1, 4).flatmap(lambda k: st.integers(-2_000, -100).map(lambda bp: [_ppm(bp)] * k))
    spike = st.integers(1_000, 40_000).map(lambda up: _spike(_ppm(up)))
    single = st.one_of(smooth, gap).map(lambda move: [move])
    # every part has at least one move, so min_moves parts give at least min_moves moves
    path = st.lists(st.one_of(single, cascade, spike), min_size=min_moves, max_size=max_moves)
    return path.map(lambda parts: [move for part in parts for move in part][:max_moves])


def price_events(moves_ppm: Sequence[int], mark_quote: int, tick_quote: int = 1) -> list[MarkPrice]:
    """The mark events a path of moves (``price_paths()``, ``moves()``: ppm of the mark) makes
    from ``mark_quote``, as the search makes them: each move of the mark before it, rounded down
    onto the tick grid and at least one tick; a move that leaves the price where it was makes no
    event. ``price_events([-50_000, 20_000], 10_000)`` is ``[MarkPrice(9500), MarkPrice(9690)]``."""
    if mark_quote < tick_quote or tick_quote < 1:
        raise ValueError(f"a mark of at least one tick is needed: mark {mark_quote}, tick {tick_quote}")
    events, mark = [], mark_quote
    for move in moves_ppm:
        price = max(
            tick_quote,
            on_tick(mark + mul_ppm(mark, move, rounding=Rounding.FLOOR), tick_quote, rounding=Rounding.FLOOR),
        )
        if price != mark:
            events.append(MarkPrice(price))
            mark = price
    return events


def _move_bps() -> st.SearchStrategy[int]:
    """Mark moves in whole basis points, as the search draws them (:func:`moves` states them in ppm)."""
    gaps = st.sampled_from(
        [-100, 100, -500, 500, -1_000, 1_000, -2_000, 2_000, -3_000, -5_000, 5_000, -7_000, -9_000, 20_000]
    )
    return st.one_of(gaps, st.integers(-9_900, 9_900))


def moves() -> st.SearchStrategy[int]:
    """Mark moves in ppm of the mark, in whole basis points; about half are gaps of 5–90%.
    Shrinks toward a 1% move down."""
    return _move_bps().map(_ppm)


def _move(bp: int) -> act.Move:
    """A drawn move (whole basis points) as the action, in ppm."""
    return act.Move(_ppm(bp))


def _pairs(traders: int) -> st.SearchStrategy[tuple[int, int]]:
    """Two different traders, by construction (the second is an offset from the first)."""
    return st.tuples(st.integers(0, traders - 1), st.integers(1, traders - 1)).map(
        lambda p: (p[0], (p[0] + p[1]) % traders)
    )


def _opens(traders: int) -> st.SearchStrategy[act.Open]:
    percent = st.integers(1, 100)
    premium_bps = st.integers(-100, 100)  # within ±1% of the mark
    return st.builds(
        lambda p, f, bp, t: act.Open(p[0], p[1], f, _ppm(bp), t), _pairs(traders), percent, premium_bps, st.booleans()
    )


def _take_profits(traders: int) -> st.SearchStrategy[act.TakeProfit]:
    move_bps = st.integers(1, 3_000)  # up to 30% in the trader's favour
    return st.builds(lambda p, bp: act.TakeProfit(p[0], p[1], _ppm(bp)), _pairs(traders), move_bps)


def _asset_actions(
    traders: int, max_amount: int, assets: int, lending: bool = False
) -> list[st.SearchStrategy[act.Action]]:
    """Actions on collateral assets: a deposit, an oracle move (a drift of up to ±5%, or a depeg
    of 10–90% down) and a withdrawal; none on a book without assets (so its draws are unchanged).
    With ``lending`` (the policy lends a collateral asset, rules/lending.py) a borrow of a share of
    what the venue holds, an interest step (up to 20% of the borrow, or up to 139 days at the
    asset's rate curve), and a pump of up to 10x too."""
    if not assets:
        return []
    which = st.integers(0, assets - 1)
    who = st.integers(0, traders - 1)
    drift = st.integers(-500, 500)
    depeg = st.integers(-9_000, -1_000)
    out = [
        st.builds(act.PayAsset, who, which, st.integers(1, max_amount)),
        st.builds(lambda a, bp: act.MoveAsset(a, _ppm(bp)), which, st.one_of(drift, depeg)),
        st.builds(act.TakeAsset, who, which, st.integers(1, 1_000_000)),
    ]
    if lending:
        pump = st.integers(1_000, 90_000)  # +10% to +900%: a borrowed asset's oracle running up
        out += [
            st.builds(act.BorrowAsset, who, which, st.integers(1, 1_000_000)),
            st.builds(act.AccrueInterest, which, st.integers(1, 200_000)),
            st.builds(lambda a, bp: act.MoveAsset(a, _ppm(bp)), which, pump),
        ]
    return out


def _margin_moves(traders: int) -> st.SearchStrategy[act.MoveMargin]:
    """A trader moving a share of what it may into or out of its isolated position."""
    return st.builds(act.MoveMargin, st.integers(0, traders - 1), st.integers(1, 1_000_000), st.booleans())


def _actions(
    traders: int,
    max_amount: int,
    take_profits: bool = False,
    markets: int = 1,
    assets: int = 0,
    lending: bool = False,
    isolated: bool = False,
    fund_per_market: bool = False,
    final_settlement: bool = False,
) -> st.SearchStrategy[act.Action]:
    who = st.integers(0, traders - 1)
    amount = st.integers(1, max_amount)
    fraction = st.integers(1, 1_000_000)
    move = _move_bps()
    pair = _pairs(traders)

    def in_market(actions: st.SearchStrategy[act.Action]) -> st.SearchStrategy[act.Action]:
        # one market: the action itself (a one-market search draws exactly what it drew before)
        if markets == 1:
            return actions
        return st.builds(act.InMarket, st.integers(0, markets - 1), actions)

    return st.one_of(
        in_market(_opens(traders)),
        in_market(st.builds(_move, move)),
        st.builds(act.Pay, who, amount),
        in_market(st.builds(lambda p, f: act.Close(p[0], p[1], f), pair, fraction)),
        # a fund kept per market is topped up in a market of its own (drawn only then, so a pooled
        # policy's search draws what it drew before funds per market)
        (in_market if fund_per_market else lambda a: a)(st.builds(act.SeedFund, amount, st.booleans())),
        in_market(st.builds(act.PayFunding, st.integers(-10_000, 10_000))),
        st.builds(act.Take, who, fraction),
        st.builds(act.PaySpot, who, amount),
        *([in_market(_take_profits(traders))] if take_profits else []),
        *_asset_actions(traders, max_amount, assets, lending),
        *([st.builds(act.InMarket, st.integers(0, markets - 1), _margin_moves(traders))] if isolated else []),
        # a delisting at a settlement price, only where the venue settles that way (so every
        # other policy's draws are unchanged)
        *([in_market(st.builds(act.Delist, st.builds(_ppm, move)))] if final_settlement else []),
    )


def events(
    *,
    traders: int = 3,
    min_size: int = 1,
    max_size: int = 8,
    max_amount: int = 10**8,
    take_profits: bool = False,
    markets: int = 1,
    assets: int = 0,
    lending: bool = False,
    isolated: bool = False,
    fund_per_market: bool = False,
    final_settlement: bool = False,
) -> st.SearchStrategy[list[act.Action]]:
    """State-relative actions (resolved to events by :func:`stories`); shrinks toward fewer, simpler ones.

    The order of alternatives is the shrink order: opens, moves, deposits, closes, fund top-ups,
    funding, withdrawals, spot deposits, and with ``take_profits`` a move in one trader's favour
    followed by its closing the whole position (:class:`~solvent.properties.actions.TakeProfit`).
    With ``markets`` > 1 every open, move, close and funding names a market
    (:class:`~solvent.properties.actions.InMarket`). With ``assets`` > 0 a deposit, an oracle
    move (a drift or a depeg) or a withdrawal of a collateral asset may come after them
    (:class:`~solvent.properties.actions.PayAsset`, ``MoveAsset``, ``TakeAsset``); with
    ``lending`` also a borrow, an interest step and a pump (``BorrowAsset``, ``AccrueInterest``).
    With ``isolated`` (the book holds isolated positions) a margin move into or out of one, last
    (:class:`~solvent.properties.actions.MoveMargin`). With ``fund_per_market`` (a policy that
    keeps a fund per market) a fund top-up names a market too. With ``final_settlement`` a
    delisting at a settlement price a drawn move from the mark, after them
    (:class:`~solvent.properties.actions.Delist`, a ``FinalSettlement``).
    """
    _check_range("size", min_size, max_size)
    actions = _actions(
        traders, max_amount, take_profits, markets, assets, lending, isolated, fund_per_market, final_settlement
    )
    return st.lists(actions, min_size=min_size, max_size=max_size)


#: A memo of the pure engine, so that hypothesis's shrinking (which replays many stories sharing a
#: prefix) does not run the same step twice: the step each (book, action) pair resolved to. Keyed by
#: the policy object's id, checked by identity. The steps :func:`play` ran for its latest stories
#: are kept by :mod:`solvent.properties.played` (``played_steps``), which replays without hypothesis.
_STEPS: dict[tuple[int, Book, object], tuple[Policy, Step | None]] = {}


def _step_for(policy: Policy, book: Book, action: act.Action | Deposit) -> Step | None:
    """The step ``action`` (or a concrete deposit) takes on ``book``; None if it means nothing or is rejected."""
    key = (id(policy), book, action)
    hit = _STEPS.get(key)
    if hit is not None and hit[0] is policy:
        return hit[1]
    event = action if isinstance(action, Deposit) else act.resolve(policy, book, action)
    try:
        result = None if event is None else step(policy, book, event)
    except RejectedEvent:
        result = None
    remember(_STEPS, key, (policy, result))
    return result


def play(policy: Policy, book: Book, actions: list[act.Action]) -> Story:
    """Resolve actions one by one against the book they meet; rejected or empty ones are dropped.

    ``book`` must be well formed (``solvent.rules.wellformed``), or ``InvalidArgument`` says why."""
    broken = reasons(policy, book)
    if broken:
        raise InvalidArgument(f"a story starts from a well-formed book: {'; '.join(broken)}")
    start = book
    first = _step_for(policy, book, Deposit("liquidity", LIQUIDITY_QUOTE))
    assert first is not None
    steps = [first]
    for action in (one for drawn in actions for one in act.steps_of(drawn)):
        s = _step_for(policy, steps[-1].after, action)
        if s is not None:
            steps.append(s)
    story = Story(start, tuple(s.event for s in steps))
    keep_played(policy, story, steps)
    return story


@functools.lru_cache(maxsize=64)
def _books(
    min_traders: int,
    max_traders: int,
    markets: int = 1,
    assets: tuple[str, ...] = (),
    market_names: tuple[str, ...] = (),
) -> st.SearchStrategy[Book]:
    """:func:`books`, built once per size (hypothesis validates a new strategy on every draw)."""
    return books(
        min_traders=min_traders, max_traders=max_traders, markets=markets, assets=assets, market_names=market_names
    )


@functools.lru_cache(maxsize=64)
def _story_parts(
    traders: int,
    max_events: int,
    take_profits: bool = False,
    markets: int = 1,
    assets: int = 0,
    lending: bool = False,
    isolated: bool = False,
    fund_per_market: bool = False,
    final_settlement: bool = False,
) -> tuple[st.SearchStrategy, ...]:
    """The per-size sub-strategies of a story, built once (building them per draw cost ~25 ms)."""
    gap = st.builds(_move, _move_bps())
    if markets > 1:
        gap = st.builds(act.InMarket, st.integers(0, markets - 1), gap)
    return (
        st.integers(1, 10**6),
        _opens(traders),
        events(
            traders=traders,
            max_size=max_events,
            take_profits=take_profits,
            markets=markets,
            assets=assets,
            lending=lending,
            isolated=isolated,
            fund_per_market=fund_per_market,
            final_settlement=final_settlement,
        ),
        st.none() | gap,
        st.none() | st.builds(act.Pay, st.integers(0, traders - 1), st.integers(1, 10**8)),
    )


def story_markets(policy: Policy, markets: int | None = None) -> tuple[int, tuple[str, ...]]:
    """How many markets a story's book holds and their names: the policy's own (its ``[[market]]``
    tables; one market without), or ``markets`` named as :func:`books` names them unless the
    policy declares exactly that many."""
    declared = policy.market_names
    if markets is None:
        markets = max(1, len(declared))
    return markets, declared if len(declared) == markets else ()


@st.composite
def stories(
    draw,
    policy: Policy,
    *,
    min_traders: int = 2,
    max_traders: int = 3,
    max_events: int = 8,
    take_profits: bool = False,
    markets: int | None = None,
    assets: int = 0,
) -> Story:
    """A book and the concrete events a policy accepts on it.

    Every story starts with the order book's depth deposited to the ``liquidity`` account and one
    deposit per trader (0.01 to 10,000 lots' notional at the starting mark, in hundredths of a
    lot: the mark then shrinks without changing what the deposits margin), then up to
    ``max_events`` state-relative actions (``take_profits``: one of
    them may be a trader taking a profit and going flat, see :func:`events`). Shrinks toward two
    traders, fewer events, smaller amounts and smaller moves; :func:`solvent.properties.search.minimize`
    then removes every event and account the failure does not need. ``markets`` (1–3): a book of
    that many markets (:func:`books`), each open, move, close and funding in one of them; absent,
    the markets the policy declares (its ``[[market]]`` tables, by their names; one without).
    ``assets`` (0–3): the book's collateral assets, named after the policy's ``[[collateral]]``
    tables first (so their weights apply), each trader depositing some of each before it opens,
    and asset deposits, oracle moves and withdrawals among the actions (:func:`events`).
    On a policy that declares isolated margin in some market (``Policy.isolated_markets``), each
    trader may hold one such market isolated (docs/portfolio.md decision 3a): it moves a share of
    its deposit into the position first, and margin moves are among the actions; a policy that
    does not declare its modes is drawn exactly as before. A policy whose venue delists by final
    settlement (``liquidation.final_settlement``) may meet a delisting among them.
    """
    names = _asset_names(assets)
    names = (
        tuple(c.name for c in policy.collateral)
        + tuple(n for n in names if n not in {c.name for c in policy.collateral})
    )[: len(names)]
    markets, market_names = story_markets(policy, markets)
    book = shaped_for(policy.waterfall, draw(_books(min_traders, max_traders, markets, names, market_names)))
    n = len(book.traders)
    lending = any(c.lends for c in policy.collateral if c.name in names)
    allowed = policy.isolated_markets(tuple(m.name for m in book.markets))
    isolated: list[act.Action] = []
    if allowed:
        market = draw(st.sampled_from(allowed), label="isolated market")
        owners = draw(st.lists(st.booleans(), min_size=n, max_size=n), label="isolated owners")
        held = tuple((book.traders[i].name, book.markets[market].name) for i in range(n) if owners[i])
        book = with_isolated_positions(book, held)
        isolated = [
            act.InMarket(market, act.MoveMargin(i, draw(st.integers(1, 1_000_000), label=f"isolated margin {i}")))
            for i in range(n)
            if owners[i]
        ]
    delists = policy.liquidation.final_settlement
    amounts, opens, plans, gaps, pays = _story_parts(
        n, max_events, take_profits, markets, len(names), lending, bool(allowed), book.funds_per_market, delists
    )
    funding = [
        act.Pay(i, max(1, draw(amounts, label=f"deposit {i}") * book.market.mark_quote // 100)) for i in range(n)
    ]
    if names:  # collateral too: 0.01 to 10,000 lots' notional of each asset at its price
        funding += [
            act.PayAsset(
                i,
                k,
                max(1, draw(amounts, label=f"asset deposit {i}") * book.market.mark_quote // (100 * a.price_quote)),
            )
            for i in range(n)
            for k, a in enumerate(book.assets)
        ]
    funding += isolated
    first_open = draw(opens, label="first open")
    plan = draw(plans)
    # the shape of most failures is open → gap → someone pays in; both tail actions shrink away
    gap = draw(gaps, label="final gap")
    pay = draw(pays, label="final deposit")
    tail = [a for a in (gap, pay) if a is not None]
    return play(policy, book, funding + [first_open] + plan + tail)


__all__ = [
    "EXAMPLE_IMPORTS",
    "accounts",
    "books",
    "events",
    "moves",
    "play",
    "played_steps",
    "positions",
    "price_events",
    "price_paths",
    "stories",
]

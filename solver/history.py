"""A z3 story's starting book reached from an empty one through a short history of trades and moves.

``reachable.from_empty`` reaches a book by deposits and trades at its own mark, and
``plain_book.opened_before_a_move`` by positions opened on one side at an earlier mark, then one move.
Neither reaches three kinds of book z3 answers with
(docs/solver-notes.md#stories-told-from-an-empty-book-through-a-history-issue-18):

- a trader whose cash is below its principal: deposits alone give principal equal to cash; only a
  loss after the deposit leaves cash below it (a withdrawal lowers principal to cash, rules/engine.py).
  A principal-protected or no-haircut story needs such a payer.
- traders on both sides where one needs a move against it (a short only above maintenance beside a
  long): one move goes against one side only.
- a system account holding a position with no cash behind it (Hyperliquid's liquidator vault,
  BitMEX's fund, after a takeover): ``from_empty`` gives it to a trader ``maker``, which tells
  another story.

:func:`with_history` tells such a story as a venue would have reached it (:func:`routes`, in
order): every trader deposits (its principal), each position is opened against a fully
collateralized trader ``maker`` at its own mark (a long above the story's mark, a short below it,
so the moves that follow go against it and take its cash down to the story's), the mark visits
those marks farthest first and ends at the story's, where the positions that need no history open.
A flat trader's loss or profit is a round trip of one lot against the maker. Where the system
accounts hold positions, each is taken over from a trader (``carol``, ``dave``...) opened away from
the mark with no more than the move back takes: that move liquidates her and the venue's own rules
hand her position to the account that takes it; where no liquidation gives the order book a position
(BitMEX's fund takes every one), the maker holds the order book's inventory, as ``from_empty``'s does,
and only the other accounts' are taken over. A pool's cash that comes with a trader's margin is not
deposited again: its deposit is measured as a trader's is. The maker takes every fill (its taker fee
is no trader's), ends holding what the system accounts held or flat, and a flat added trader withdraws
its cash. A trader's collateral-asset balance is deposited with the engine's asset deposit
(``reachable.opening_events``; the system accounts' start at zero), a trader below zero deposits
its spot after the last move (a move's sweep would convert it), and a flat one takes its loss by
selling the lot it bought at the mark below it (:func:`below_zero`). Where the trades' fees fill
the insurance fund beyond the story's, a fresh trader's bankruptcy drains it back (``drain``).

The deposits are set by measurement, not by formula (``reachable.topped_up``, the loop
``from_empty`` uses too): the history is replayed and each trader's deposit moved by what its cash
misses at the end (the trades' fees, an inverse contract's settlement), three times at most. The built story is believed only if the engine says so: replayed from
the empty book it breaks the claim at the same event, and the book the history reaches breaks it
within the proof's bounds (``plain_book.breaks``: its assumptions and numbers). Otherwise None, and
the story stays a state.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import attrs

from solvent.properties.catalog import Invariant
from solvent.properties.played import first_violation, replay
from solvent.properties.reachable import Built, fresh_name, opening, opening_events, topped_up, trades_at_mark
from solvent.properties.scenarios import Story
from solvent.rules.book import Account, Book, Role
from solvent.rules.events import Deposit, Event, MarkPrice, SpotDeposit, Taker, Trade, Withdraw
from solvent.rules.margin import initial_margin, maintenance_margin
from solvent.rules.policy import Policy
from solvent.solver.bounds import Bounds
from solvent.solver.plain_book import DRIFT_STEPS, breaks


@attrs.frozen
class Route:
    """Where each trader's history starts: ``opens``, the mark each position is opened at (the
    story's own mark: no history), and ``flat``, the mark a trader opens one lot at to close it at
    the story's mark (its loss as a round trip); ``settle``: one more move to the story's mark at the
    end, so the previous mark is the mark; ``taken_over``: for each system account's position, in
    turn, a fresh trader (``carol``, ``dave``...) holding those lots opened that far from the story's
    mark and left with that equity by the move back to it, which liquidates her, and the venue's own
    rules hand her position to the account that takes it (a pool taking her margin with it, the order
    book the position alone); none: the maker holds what the system accounts hold.
    ``maker_holds_book``: with ``taken_over``, the order book's position is the maker's and only the
    other system accounts' are taken over (every system account's otherwise). ``below``: a flat
    trader whose cash is below zero, the price it sells back below the story's mark the lot it
    bought from the maker at that mark (:func:`below_zero`). ``drain``: how far (quanta) a fresh trader
    (:func:`_drainer`), opened a lot at the story's mark on its traders' side after every other
    trade, is moved against and back: her bankruptcy takes from the insurance fund what the trades'
    fees put in it beyond the story's fund (her deposit set by measurement), and the traders beside
    her deposit what the move takes and withdraw it after (:func:`_through_the_drain`)."""

    opens: tuple[tuple[str, int], ...]
    flat: tuple[tuple[str, int], ...] = ()
    settle: bool = False
    taken_over: tuple[tuple[int, int, int], ...] = ()
    below: tuple[tuple[str, int], ...] = ()
    drain: int = 0
    maker_holds_book: bool = False


def loss_needed(book: Book) -> dict[str, int]:
    """Each trader whose principal exceeds its cash, and by how much: the loss its history needs."""
    return {a.name: a.principal_quote - a.cash_quote for a in book.traders if a.principal_quote > a.cash_quote}


def below_zero(book: Book, policy: Policy | None) -> tuple[tuple[str, int], ...]:
    """Each flat trader whose cash is below zero, and the price below the mark its loss is taken at:
    one lot bought from the maker at the story's mark and sold back to it that far below (a fill away
    from the mark pays the difference at once). A move cannot give that loss: the lot still open
    when the move takes the cash below zero is liquidated in the move's sweep. The trader deposits
    its loss less what it ends below zero, at least one lot's initial margin at the mark (what the
    purchase needs; whole ticks); the sale needs only equity at or above zero, which its spot, in
    before the sale, gives. None without a policy or where the price would be below one quantum."""
    if policy is None:
        return ()
    mark, tick = book.market.mark_quote, book.market.tick_quote
    out = []
    for a in book.traders:
        if a.size_lots != 0 or a.cash_quote >= 0:
            continue
        loss = _away(initial_margin(policy.margin, policy.rounding, 1, mark) - a.cash_quote, tick)
        if mark - loss >= 1:
            out.append((a.name, mark - loss))
    return tuple(out)


def _away(distance: int, tick: int) -> int:
    """``distance`` quanta rounded up to whole ticks."""
    return -(-distance // tick) * tick


def routes(book: Book, bounds: Bounds, policy: Policy | None = None) -> Iterator[Route]:
    """The histories tried, in order: each trader that needs a loss opened where the move to the
    story's mark takes that much (a long above, a short below; whole ticks), the others at the mark;
    then every trader with a position opened one tick, two, four... (:data:`DRIFT_STEPS`) against it,
    at least as far as its loss needs. Each with and without a last settling move. Then, where the
    system accounts hold a position, each taken over from a liquidated trader (``taken_over``: one
    tick, two, four... away, left with the account's cash or just under maintenance, in the book's
    order or the reverse; then, where the order book holds a position beside another system account,
    the maker holding the order book's and the others' taken over: :func:`_taken_sets`), each loss a
    round trip before and every position opened at the mark after. Last, where the trades pay the insurance fund a fee, the fund drained back to the
    story's by a fresh trader's bankruptcy (:func:`_drains`). Routes leaving the proof's
    price range are skipped."""
    mark, tick = book.market.mark_quote, book.market.tick_quote
    below = below_zero(book, policy)
    loss = {n: v for n, v in loss_needed(book).items() if n not in dict(below)}  # below zero: a sale below
    losses = tuple(
        (a.name, mark + _away(loss[a.name], tick)) for a in book.traders if a.size_lots == 0 and a.name in loss
    )
    gains = profits(book, policy)
    for extra in ((), gains) if gains else ((),):
        flat = losses + extra
        for k in (None, *range(DRIFT_STEPS)):
            drift = 0 if k is None else tick * 2**k
            opens = []
            for a in book.traders:
                if a.size_lots == 0:
                    continue
                need = _away(-(-loss.get(a.name, 0) // abs(a.size_lots)), tick)
                side = 1 if a.size_lots > 0 else -1
                opens.append((a.name, mark + side * max(need, drift)))
            marks = [p for _, p in opens] + [p for _, p in flat]
            if any(not bounds.min_price <= p <= bounds.max_price for p in marks):
                if k is None:
                    continue
                break
            if k is None and not flat and not below and not any(p != mark for _, p in opens):
                continue  # nothing to add: from_empty's own book
            for settle in (False, True):
                yield Route(tuple(opens), flat, settle, below=below)
    yield from _takeovers(book, bounds, policy, loss, below)
    yield from _drains(book, bounds, policy)


def _takeovers(
    book: Book, bounds: Bounds, policy: Policy | None, loss: dict[str, int], below: tuple[tuple[str, int], ...]
) -> Iterator[Route]:
    """Where the system accounts hold positions, each taken over from a liquidated trader (:func:`routes`)."""
    mark, tick = book.market.mark_quote, book.market.tick_quote
    gains = profits(book, policy)
    pools = [a for a in book.accounts if not a.is_trader and a.size_lots != 0]
    trips = tuple((name, mark + _away(lost, tick)) for name, lost in loss.items())
    if not pools or any(p > bounds.max_price for _, p in trips):
        return
    at_mark = tuple((a.name, mark) for a in book.traders if a.size_lots != 0)
    for taken, held in _taken_sets(pools):
        # the equity each liquidated trader is left with: a pool's cash (it takes her margin), or one
        # quantum under maintenance (a liquidation the order book takes, not a pool's takeover)
        equities = [sorted({max(a.cash_quote, 0), *_under_maintenance(policy, a.size_lots, mark)}) for a in taken]
        for extra in ((), gains) if gains else ((),):
            for k in range(DRIFT_STEPS):
                drift = tick * 2**k
                if mark - drift < bounds.min_price or mark + drift > bounds.max_price:
                    break
                for left in itertools.product(*equities):
                    turns = tuple((a.size_lots, drift, e) for a, e in zip(taken, left, strict=True))
                    for order in dict.fromkeys((turns, turns[::-1])):
                        yield Route(at_mark, trips + extra, taken_over=order, below=below, maker_holds_book=held)


def _taken_sets(pools: list[Account]) -> Iterator[tuple[list[Account], bool]]:
    """The system accounts whose positions a takeover route takes over from liquidated traders: all
    of them; then, where the order book holds a position beside another account's, the others alone,
    the maker holding the order book's inventory as ``reachable.from_empty``'s does (a venue whose
    every liquidation goes to a pool, BitMEX's fund by ``fund_unwind_ppm``, never gives the order
    book a position). With each, whether the maker holds the order book's inventory."""
    yield pools, False
    rest = [a for a in pools if a.role is not Role.LIQUIDITY]
    if rest and len(rest) < len(pools):
        yield rest, True


def _drains(book: Book, bounds: Bounds, policy: Policy | None) -> Iterator[Route]:
    """Where every trader's position is on one side, needs no history (cash at or above its principal)
    and the policy's trades pay the insurance fund a fee: the positions opened at the mark, then a
    fresh trader's lot on their side moved one tick, two, four... against her and back (``drain``),
    her bankruptcy taking from the fund what the fees put in it (the story's fund is where a venue's
    would be after them). None while the move leaves the proof's prices."""
    held = [a for a in book.traders if a.size_lots != 0]
    fees = (
        policy is not None and policy.fees.insurance_share_ppm > 0 and (policy.fees.taker_ppm or policy.fees.maker_ppm)
    )
    if not fees or not held or len({a.size_lots > 0 for a in held}) != 1 or loss_needed(book) or profits(book, policy):
        return
    mark, tick = book.market.mark_quote, book.market.tick_quote
    side = 1 if held[0].size_lots > 0 else -1
    for k in range(DRIFT_STEPS):
        drift = tick * 2**k
        if not bounds.min_price <= mark - side * drift <= bounds.max_price:
            return
        yield Route(tuple((a.name, mark) for a in held), drain=drift)


def _drainer(book: Book) -> str:
    """The name of the trader a drain route bankrupts: carol, or the first free name after it."""
    return fresh_name(book, "carol")


def _through_the_drain(book: Book, route: Route) -> dict[str, int]:
    """What each trader beside the drainer deposits more and withdraws after the drain's move back:
    its loss on the move and its whole notional at the far mark, so the move cannot liquidate it."""
    if not route.drain:
        return {}
    mark = book.market.mark_quote
    side = 1 if any(a.size_lots > 0 for a in book.traders) else -1
    far = mark - side * route.drain
    return {a.name: abs(a.size_lots) * (route.drain + far) for a in book.traders if a.size_lots != 0}


def profits(book: Book, policy: Policy | None) -> tuple[tuple[str, int], ...]:
    """Each flat trader whose cash is above its principal, as a round trip that gains it: one lot
    bought below the mark and sold at it, the trader's deposit its principal or, where that is
    less, one lot's initial margin at the mark (what the purchase needs); the gain rounded down to
    whole ticks, so the deposit is never below that. None without a policy."""
    if policy is None:
        return ()
    mark, tick = book.market.mark_quote, book.market.tick_quote
    out = []
    for a in book.traders:
        if a.size_lots != 0 or a.principal_quote >= a.cash_quote:
            continue
        deposit = max(a.principal_quote, initial_margin(policy.margin, policy.rounding, 1, mark))
        gain = (a.cash_quote - deposit) // tick * tick
        if gain > 0 and mark - gain >= 1:
            out.append((a.name, mark - gain))
    return tuple(out)


def _under_maintenance(policy: Policy | None, lots: int, mark: int) -> tuple[int, ...]:
    """One quantum under the maintenance margin of ``lots`` at ``mark`` (none without a policy)."""
    if policy is None:
        return ()
    mm = maintenance_margin(policy.margin, policy.rounding, abs(lots), mark)
    return (mm - 1,) if mm > 0 else ()


def history_events(book: Book, route: Route, deposits: dict[str, int]) -> tuple[Book, tuple[Event, ...]] | None:
    """The empty book at the first mark ``route`` visits and the events that take it to ``book``:
    the deposits (``deposits`` for the traders and the maker, the system accounts' cash as
    ``reachable.opening`` gives it), each position opened against the maker at its own mark
    (farthest from the story's mark first), the move to the story's mark, the round trips' lots
    closed, the liquidated trader's history (``taken_over``), the spot of each trader whose cash is
    below zero (:func:`_spot_late`), each flat one's lot bought at the mark and sold below it
    (``below``), the positions that need no history opened at the mark."""
    mark = book.market.mark_quote
    opens = dict(route.opens)
    away = {p for p in opens.values() if p != mark} | {p for _, p in route.flat}
    path = sorted(away, key=lambda p: (-abs(p - mark), p))
    first = path[0] if path else mark
    start = attrs.evolve(book, market=attrs.evolve(book.market, mark_quote=first, previous_mark_quote=first))
    liquidated = _liquidated(book, route)
    drainer = (_drainer(book),) if route.drain else ()
    if liquidated or drainer:
        n = len(book.traders)
        added = tuple(_trader(book, name) for name in (*liquidated, *drainer))
        start = attrs.evolve(start, accounts=(*book.accounts[:n], *added, *book.accounts[n:]))
    plan = opening(start, with_maker=True)
    if plan is None:
        return None
    empty, system, _ = plan
    late = _spot_late(book)
    start = attrs.evolve(
        start, accounts=tuple(attrs.evolve(a, spot_quote=0) if a.name in late else a for a in start.accounts)
    )
    maker = fresh_name(start, "maker")  # as reachable.opening names it
    funds = {n: v for n, v in system.items() if n not in {a.name for a in book.traders} and n != maker}
    funds = {n: v for n, v in {**funds, **deposits}.items() if v > 0}  # a measured deposit of 0: none
    for name, (lots, drift, left) in zip(liquidated, route.taken_over, strict=True):
        funds[name] = abs(lots) * drift + left  # the move back to the mark takes all but ``left``
    events: list[Event] = list(opening_events(start, funds, (), {}))
    maker_lots, current = 0, first
    for p in path:
        if p != current:
            events.append(MarkPrice(p))
            current = p
        sizes = {n: s for n, s in ((a.name, a.size_lots) for a in book.traders) if opens.get(n) == p}
        sizes.update({n: sizes.get(n, 0) + 1 for n, q in route.flat if q == p})
        for name, lots in sizes.items():
            events.append(_against(name, maker, lots, p))
            maker_lots -= lots
    if current != mark:
        events.append(MarkPrice(mark))
    events.extend(_against(name, maker, -1, mark) for name, _ in route.flat)
    maker_lots += len(route.flat)
    for name, (lots, drift, _) in zip(liquidated, route.taken_over, strict=True):
        opened_at = mark + (1 if lots > 0 else -1) * drift  # where the move back goes against her
        events += [MarkPrice(opened_at), _against(name, maker, lots, opened_at), MarkPrice(mark)]
        maker_lots -= lots
    events += [SpotDeposit(name, spot) for name, spot in late.items()]
    for name, price in route.below:
        events += [_against(name, maker, 1, mark), _against(name, maker, -1, price)]
    at_mark = {a.name: a.size_lots for a in book.traders if a.size_lots != 0 and opens.get(a.name) == mark}
    # the maker ends holding what the system accounts hold beyond what they took over
    goal = -sum(a.size_lots for a in book.traders) - sum(lots for lots, _, _ in route.taken_over)
    if goal != maker_lots:
        at_mark[maker] = goal - maker_lots
    events.extend(trades_at_mark(at_mark, mark))
    if drainer:
        side = 1 if any(a.size_lots > 0 for a in book.traders) else -1
        events += [_against(drainer[0], maker, side, mark), MarkPrice(mark - side * route.drain), MarkPrice(mark)]
    if route.settle:
        events.append(MarkPrice(mark))
    return empty, tuple(events)


def _spot_late(book: Book) -> dict[str, int]:
    """The spot of each trader whose cash is below zero, deposited after the history's moves: a
    sweep (a move's) converts spot into the cash below zero (``rules.collateral``), so a book holding
    both is reached only by a spot deposit no move has followed."""
    return {a.name: a.spot_quote for a in book.traders if a.cash_quote < 0 and a.spot_quote > 0}


def _against(name: str, maker: str, lots: int, price: int) -> Trade:
    """``name`` opens ``lots`` (a long buys, a short sells) against ``maker`` at ``price``; the maker
    takes, so a taker's fee is the fully collateralized maker's and the trader's margin meets the
    trade as its deposit stands."""
    if lots > 0:
        return Trade(name, maker, lots, price, Taker.SELLER)
    return Trade(maker, name, -lots, price, Taker.BUYER)


def _maker_funds(book: Book, route: Route) -> int:
    """Enough for the maker never to be short of margin on the path, fully collateralized: the
    most lots it can hold at the highest mark visited, and what those lots can lose across the
    marks visited, plus one quantum."""
    marks = [book.market.mark_quote, *(p for _, p in route.opens), *(p for _, p in route.flat)]
    marks += [book.market.mark_quote + drift for _, drift, _ in route.taken_over]
    marks += [book.market.mark_quote - drift for _, drift, _ in route.taken_over]
    marks += [book.market.mark_quote + d for d in (route.drain, -route.drain) if route.drain]
    lots = sum(abs(a.size_lots) for a in book.traders) + len(route.flat) + len(route.below) + bool(route.drain)
    lots += sum(abs(n) for n, _, _ in route.taken_over)
    return lots * max(marks) + lots * (max(marks) - min(marks)) + 1


def _reach(policy: Policy, book: Book, route: Route) -> tuple[Book, tuple[Event, ...], Book] | None:
    """The empty book, the history and the book it reaches, each trader's cash the story's (its
    deposit moved by what it missed, three times at most); None where the engine refuses an event, a
    deposit would be negative or a position is not the story's."""
    mark = book.market.mark_quote
    opens = dict(route.opens)
    deposits = {a.name: a.cash_quote - a.size_lots * (mark - opens.get(a.name, mark)) for a in book.traders}
    for name, p in route.flat:
        deposits[name] += p - mark
    for name, p in route.below:
        deposits[name] += mark - p
    extras = _through_the_drain(book, route)
    for name, extra in extras.items():
        deposits[name] += extra
    cash = {a.name: a.cash_quote + extras.get(a.name, 0) for a in book.traders}
    if route.taken_over:
        # a pool that takes a liquidated trader's margin with her position (Hyperliquid's vault) holds
        # its cash by the takeover: its deposit measured as a trader's is, less what the takeover
        # brings, and a pool whose story holds none ends with none (a margin it took is another book)
        for a in book.accounts:
            if not a.is_trader and a.size_lots != 0 and a.cash_quote >= 0:
                deposits[a.name], cash[a.name] = a.cash_quote, a.cash_quote
    move = _moved
    if route.drain:
        # the drainer's deposit, at first the move against her (her bankruptcy taking the fees alone),
        # then moved by what the fund holds beyond the story's: so much less, so much more deficit
        drainer = _drainer(book)
        fund = next(a.name for a in book.accounts if a.role is Role.INSURANCE_FUND)
        deposits[drainer] = route.drain
        cash[fund] = book.account(fund).cash_quote

        def move(amounts: dict[str, int], short: dict[str, int]) -> dict[str, int]:
            return {
                **_moved({n: v for n, v in amounts.items() if n != drainer}, short),
                drainer: amounts[drainer] + short[fund],
            }

    maker = fresh_name(book, "maker")

    def build(amounts: dict[str, int]) -> tuple[Book, tuple[Event, ...]] | None:
        if any(v < 0 for v in amounts.values()):
            return None
        first = history_events(book, route, amounts)
        if first is None:
            return None
        empty, events = first
        return empty, _funded(events, maker, _maker_funds(book, route))

    def the_story_s(got: Book) -> bool:
        """Every trader's position and collateral assets are the story's; after a takeover, every system
        account's position too (the order book's none where the maker holds its inventory): a liquidation
        handed to another account than the route meant is another history."""
        traders = all(
            (got.account(a.name).size_lots, got.account(a.name).asset_balances) == (a.size_lots, a.asset_balances)
            for a in book.traders
        )
        return traders and all(
            got.account(a.name).size_lots == (0 if route.maker_holds_book and a.role is Role.LIQUIDITY else a.size_lots)
            for a in book.accounts
            if route.taken_over and not a.is_trader
        )

    done = topped_up(policy, build, deposits, cash, 3, move, the_story_s)
    if done is None or not done.exact:
        return None
    empty, events, got = done.empty, done.events, done.reached
    # the traders beside a drain take out what they put in for it; the traders the history added,
    # what a flat one holds
    out = tuple(Withdraw(n, extra) for n, extra in extras.items())
    out += tuple(
        Withdraw(n, got.account(n).cash_quote)
        for n in (maker, *_liquidated(book, route), *((_drainer(book),) if route.drain else ()))
        if got.account(n).size_lots == 0 and got.account(n).cash_quote > 0
    )
    if out:
        events += out
        steps = replay(policy, Story(empty, events))
        if steps is None:
            return None
        got = steps[-1].after
    return empty, events, got


def _moved(amounts: dict[str, int], short: dict[str, int]) -> dict[str, int]:
    """Each deposit moved by what its trader missed, a negative one kept (:func:`_reach`'s build refuses it)."""
    return {n: v + short.get(n, 0) for n, v in amounts.items()}


def _liquidated(book: Book, route: Route) -> tuple[str, ...]:
    """The names of the traders ``route`` liquidates into the system accounts: carol, dave, erin..."""
    names: list[str] = []
    for base in ("carol", "dave", "erin", "frank")[: len(route.taken_over)]:
        names.append(
            fresh_name(attrs.evolve(book, accounts=(*book.accounts, *(_trader(book, n) for n in names))), base)
        )
    return tuple(names)


def _trader(book: Book, name: str) -> Account:
    """A trader ``name`` holding nothing, with a zero balance of each of ``book``'s collateral assets."""
    return Account(name, asset_balances=tuple(0 for _ in book.assets))


def _funded(events: tuple[Event, ...], maker: str, amount: int) -> tuple[Event, ...]:
    """``events`` with the maker's deposit set to ``amount`` (added before the first trade)."""
    kept = [e for e in events if not (isinstance(e, Deposit) and e.account == maker)]
    at = next((i for i, e in enumerate(kept) if not isinstance(e, Deposit)), len(kept))
    return (*kept[:at], Deposit(maker, amount), *kept[at:])


def with_history(policy: Policy, invariant: Invariant, story: Story, failing: int, bounds: Bounds) -> Built | None:
    """``story`` (breaking ``invariant`` at step ``failing``) told from an empty book through a
    history (:func:`routes`), the first route whose reached book breaks the claim at the same event
    within ``bounds`` on the concrete engine; None where none does (a book of several markets or
    an isolated position is not rebuilt here; a trader's collateral assets are deposited as
    ``reachable.opening_events`` deposits them, and a borrow of one, a negative balance, is not
    reached)."""
    book = story.book
    if book.more_markets or any(a.owner for a in book.accounts):
        return None
    events = story.events[: failing + 1]
    for route in routes(book, bounds, policy):
        reached = _reach(policy, book, route)
        if reached is None:
            continue
        empty, prefix, got = reached
        if not breaks(policy, invariant, Story(got, events), bounds):
            continue
        rewritten = Story(empty, prefix + events)
        steps = replay(policy, rewritten)
        if steps is None or first_violation(policy, invariant, steps) != len(prefix) + failing:
            continue
        return Built(rewritten, len(prefix), len(prefix) + failing, tuple(steps))
    return None


__all__ = ["Route", "below_zero", "history_events", "loss_needed", "profits", "routes", "with_history"]

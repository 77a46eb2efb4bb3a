"""The ``adl`` layer, auto-deleveraging: close a bankrupt position against opposing traders in ranking
order. (``pool_adl`` reuses its score and queue for GMX's ``[pnl_to_pool_adl]``; the OKX trigger
``[deficit.fund_drawdown]`` is ``fund_drawdown``.)

The queue holds every trader with a position opposite to the bankrupt one. It is sorted by the
policy's ranking score, highest first, ties by book order; whole positions are closed before the
next (BitMEX's walk down the queue, docs/venues.md#bitmex-adl). Each ADL'd trader is closed at the bankrupt
account's price, so every one pays the same gap per lot relative to mark (§1, §2, §5). With
``book_last`` (the default) the order book's resting liquidity, which stands for the rest of the
market, is deleveraged after the traders at the same price; only what nobody opposite holds (a
taking-over vault's position) is closed into the book at the liquidation fill.

Formula (bankrupt size S lots, equity at mark E):
    g   = ⌈−E / S⌉ per lot (rounded up: the bankrupt account is not left below zero; the excess,
          under S quanta in all, goes to the insurance fund; per fill, :func:`rounds_per_fill`, each
          fill pays ⌈D × q / L⌉ over the mark instead), and with ``price_on_tick`` up to a
          whole number of ticks (Bybit); g = 0 with ``price = "mark"``;
          g = M_prev − M (long) or M − M_prev (short) with ``price = "previous_mark"`` in a sweep
          that moved the mark, and the first g in one that moved none (a funding payment's: :func:`at_bankruptcy`)
    BP  = M + g for a bankrupt long (winners buy from it above mark), M − g for a bankrupt short
    (Binance's BP = EP − side × WB / size with EP = M, WB = E: ``venue_formulas.bankruptcy_gap_per_lot``
    and ``price_at_gap``)
Scores (Ratio num/den, den > 0; UP = PnL since entry, E equity, N notional, MM maintenance):
    bitmex       UP/|C| × N/E  if UP > 0, else UP/|C| × E/N
    binance      max(0, UP)/max(1, E − UP) × MM/E  (0 when E ≤ 0)
    hyperliquid  (M × |S|/|C|) × N/E                 (0 when E ≤ 0)
    order        0 for all (book order decides)
"""

from __future__ import annotations

import functools
from typing import Any

import attrs

from solvent.rules.arith import (
    PPM,
    Ratio,
    Rounding,
    abs_,
    and_,
    div,
    is_concrete,
    ite,
    max_,
    min_,
    not_,
    or_,
    safe_divisor,
    sum_,
    when,
)
from solvent.rules.book import Account, Book, Role, on_tick
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.margin import (
    MarginRule,
    account_initial_margin,
    account_maintenance,
    equity,
    maintenance_margin,
    notional,
    position_pnl,
)
from solvent.rules.outcomes import AdlFill, BookDeleveraged, outcome_market
from solvent.rules.positions import _moved, close_against
from solvent.rules.rounding import RoundingRule
from solvent.rules.venue_formulas import bankruptcy_gap_per_lot, price_at_gap
from solvent.rules.waterfall import Adl, AdlPrice, GapRounding, Ranking


def score(ranking: Ranking, rule: MarginRule, rounding: RoundingRule, account: Account, mark: Any) -> Ratio:
    """The account's ADL ranking score as a ratio with a positive denominator."""
    up = position_pnl(account, mark)
    e = equity(rule, account)
    n = notional(account.size_lots, mark)
    cost = max_(abs_(account.cost_quote), 1)
    positive_e = e > 0
    e_safe = max_(e, 1)
    if ranking is Ranking.BITMEX:
        n_safe = max_(n, 1)
        num = ite(up > 0, up * n, up * e_safe)
        den = ite(up > 0, cost * e_safe, cost * n_safe)
        return Ratio(num, den)
    if ranking is Ranking.BINANCE:
        mm = maintenance_margin(rule, rounding, account.size_lots, mark)
        wallet = max_(e - up, 1)
        return Ratio(when(positive_e, max_(up, 0) * mm), wallet * e_safe)
    if ranking is Ranking.HYPERLIQUID:
        return Ratio(when(positive_e, n * n), cost * e_safe)
    return Ratio(0, 1)


@attrs.frozen
class _Entry:
    eligible: Any
    num: Any
    den: Any
    index: int | Any
    lots: Any
    #: the candidate's equity, position and further positions, where the layer checks that its
    #: bankruptcy price overlaps (``overlap_only``); None otherwise
    holding: Any = None


@attrs.frozen
class _Holding:
    """What the overlap check reads of an offsetting account (numbers only, so a sorting network
    can choose between two accounts' holdings under z3)."""

    equity: Any
    size_lots: Any
    cost_quote: Any
    more_positions: tuple[Any, ...] = ()


def _opposite(size: Any, other: Any) -> Any:
    """``other`` holds a position on the other side of ``size``."""
    return or_(and_(size > 0, other < 0), and_(size < 0, other > 0))


def _before(a: _Entry, b: _Entry) -> Any:
    """Whether ``a`` is served before ``b``: eligible first, then higher score, then book order."""
    higher = a.num * b.den > b.num * a.den
    tie = a.num * b.den == b.num * a.den
    return and_(a.eligible, or_(not_(b.eligible), higher, and_(tie, a.index < b.index)))


def _order(a: _Entry, b: _Entry) -> int:
    """``_before`` as a three-way comparison, on concrete entries: eligible first, then the higher
    score (cross-multiplied), then the lower index; two ineligible entries are equivalent."""
    if a.eligible is not b.eligible:
        return -1 if a.eligible else 1
    if not a.eligible:
        return 0
    left, right = a.num * b.den, b.num * a.den
    if left != right:
        return -1 if left > right else 1
    return -1 if a.index < b.index else 1 if a.index > b.index else 0


def _sortable(entries: list[_Entry]) -> bool:
    """Concrete entries with positive denominators and distinct indices: ``_before`` is then a
    strict weak order (eligible first, then score, then index), so a stable sort gives exactly the
    network's order."""
    for e in entries:
        if type(e.eligible) is not bool or not is_concrete(e.num, e.den, e.index) or e.den <= 0:
            return False
    return len({e.index for e in entries}) == len(entries)


def sort_queue(entries: list[_Entry]) -> list[_Entry]:
    """The queue in serving order (entries need ``eligible``, ``num``, ``den`` and ``index``): the
    order of :func:`sort_network`, found in O(N log N) comparisons on concrete entries. Bubble sort
    swaps only a strictly earlier neighbour, so it is stable, and a stable sort by a strict weak
    order has one result."""
    if _sortable(entries):
        return sorted(entries, key=functools.cmp_to_key(_order))
    return sort_network(entries)


def sort_network(entries: list[_Entry]) -> list[_Entry]:
    """A bubble sorting network of compare-and-swap steps, the same network under z3 (O(N²))."""
    out = list(entries)
    for i in range(len(out)):
        for k in range(len(out) - 1 - i):
            swap = _before(out[k + 1], out[k])
            out[k], out[k + 1] = ite(swap, out[k + 1], out[k]), ite(swap, out[k], out[k + 1])
    return out


def _ahead(a: _Entry, b: _Entry) -> Any:
    """Whether ``a`` is served before an eligible ``b``: :func:`_before` where ``b.eligible``
    holds, both indices concrete and distinct, both denominators positive. ``a`` eligible, with the
    higher score, or the same score and the lower index: one comparison of the cross-multiplied
    scores (``≥`` where ``a`` comes first in the book, ``>`` where it comes after)."""
    if a.index < b.index:
        return and_(a.eligible, a.num * b.den >= b.num * a.den)
    return and_(a.eligible, a.num * b.den > b.num * a.den)


def queue_fills(entries: list[_Entry], lots: Any) -> list[Any]:
    """What the queue takes from each entry (in the entries' own order) when ``lots`` (≥ 0) lots
    are closed against it: walking down the queue in serving order (:func:`sort_queue`), each
    eligible entry gives ``min(remaining, entry.lots)`` (``lots`` of each entry ≥ 0).

    Concrete entries: that walk, on the sorted queue. Otherwise the same numbers by rank, without
    sorting: before an entry, the walk has ``max(L − A, 0)`` left, where ``A`` is the lots of the
    eligible entries served before it (by induction over the queue: ``r − min(r, l) = max(r − l,
    0)`` and ``max(max(x, 0) − l, 0) = max(x − l, 0)`` for ``l ≥ 0``), so

        q_i = [eligible_i] × min(max(L − Σ_{j ahead of i} lots_j, 0), lots_i)

    with "ahead" :func:`_ahead`, one comparison of two entries' own scores. A sorting network
    builds O(N²) ``ite`` terms of whole entries per queue, and :func:`taken` O(N²) more to find each
    account's fill again; this builds O(N²) comparisons of the entries as they are, and z3 reads
    each score as the engine wrote it instead of through nested swaps
    (docs/solver-notes.md#the-adl-queue-by-rank-issue-18; equal to the walk: tests/rules/test_linear_engine.py,
    tests/differential/test_adl_queue_z3.py)."""
    if _sortable(entries) and is_concrete(lots):
        remaining, by_index = lots, {}
        for entry in sort_queue(entries):
            q = when(entry.eligible, min_(remaining, entry.lots))
            remaining = remaining - q
            by_index[entry.index] = q
        return [by_index[e.index] for e in entries]
    return fills_by_rank(entries, lots)


def fills_by_rank(entries: list[_Entry], lots: Any) -> list[Any]:
    """:func:`queue_fills` by rank, on any entries with distinct concrete indices (the symbolic
    path; on concrete entries it gives the walk's numbers, which the tests check)."""
    if not all(type(e.index) is int for e in entries) or len({e.index for e in entries}) != len(entries):
        raise ValueError("queue_fills needs distinct concrete indices (the book order of each candidate)")
    out = []
    for e in entries:
        ahead = sum_(when(_ahead(other, e), other.lots) for other in entries if other is not e)
        out.append(when(e.eligible, min_(max_(lots - ahead, 0), e.lots)))
    return out


def gap_with_fee(equity_quote: Any, lots: Any, long: Any, mark_quote: Any, fee_ppm: int) -> Any:
    """The bankruptcy gap per lot when the bankruptcy price includes the fee to close at it.

    Formula: closing |S| lots at BP = M + side × g brings in |S| × g and costs f × |S| × BP / 1e6;
    the two leave the account at zero when g = (−E × 1e6 + f × |S| × M) / (|S| × (1e6 − side × f)),
    rounded up (the account is not left below zero; the excess goes to the fund), and at least 0.

    A short's is written through its price, over one denominator
    (docs/solver-notes.md#bybits-fee-to-close-as-one-division): with c = 1e6 + f,
    ``M − ⌈n / (|S| c)⌉ = ⌊(M |S| c − n) / (|S| c)⌋`` exactly (M is an integer), so
        short  BP = min(⌊1e6 × (|S| × M + E) / (|S| × c)⌋, M),  g = M − BP:
    the same integers, and the price is non-negative exactly when E ≥ −|S| × M, a fact linear in
    the book (a long's price, M + g, is at least M as written).

    A short whose equity at price zero, Z = |S| × M + E, is below zero (an earlier ADL in the same
    step bought its lots back above the mark: docs/solver-notes.md#bybits-second-fee-to-close-a-negative-price)
    has no price ≥ 0 that leaves it at zero. Its price is then 0, the least price a lot trades at
    (``max(⌊…⌋, 0)``): the winners give up their lots for nothing, at most the lots' whole value at
    mark, and the fee on it is 0; what is left, −Z, Bybit resets to zero (:func:`deleverage`,
    docs/venues.md#bybit-negative-balances). For Z ≥ 0 the price is the one above.
    """
    lots = safe_divisor(lots)
    up = div(-equity_quote * PPM + fee_ppm * lots * mark_quote, lots * max(PPM - fee_ppm, 1), rounding=Rounding.CEIL)
    at_zero = lots * mark_quote + equity_quote  # a short's equity at price zero
    below = div(at_zero * PPM, lots * (PPM + fee_ppm), rounding=Rounding.FLOOR)
    # a price is never below zero: a short below zero at price zero closes at 0 (the rest, −Z, is
    # reset by the venue in ``deleverage``)
    return ite(long, max_(up, 0), mark_quote - max_(min_(below, mark_quote), 0))


def tick_gap(layer: Adl, gap: Any, tick: Any) -> Any:
    """The gap per lot that puts the bankruptcy price on the tick grid, against the counterparty,
    where the layer says so (``price_on_tick``); ``gap`` unchanged otherwise.

    Formula: ``⌈g / tick⌉ × tick``. The mark is on the grid (a well-formed book's, and every mark
    event's), so ``M + side × ⌈g⌉_tick`` is the bankruptcy price rounded onto the grid up for a
    long and down for a short: the rounding never leaves the bankrupt account below zero.
    """
    if not layer.price_on_tick or tick == 1:  # every gap is a whole quantum: no term for z3 to carry
        return gap
    return on_tick(gap, tick, rounding=Rounding.CEIL)


def fill_gap(deficit: Any, lots_left: Any, lots: Any) -> Any:
    """What the winners pay over the mark for ``lots`` of a bankrupt position of ``lots_left`` lots
    that is ``deficit`` below zero, rounded once for the fill (``gap_rounding = "per_fill"``).

    Formula: ⌈D × q / L⌉ (D ≥ 0; 0 when q = 0): the fill's share of the deficit, rounded toward the
    bankrupt account so closing the whole position at such fills leaves it at zero or above. dYdX
    v4's bankruptcy quote for a partial delta, "-DNNV - TNC × |DMMR| / TMMR" rounded "towards
    positive infinity" (liquidations.go ``GetBankruptcyPriceInQuoteQuantums``), with the lots'
    share for the maintenance share.
    """
    return div(max_(deficit, 0) * lots, safe_divisor(lots_left), rounding=Rounding.CEIL)


def overlaps(
    rule: MarginRule, rounding: RoundingRule, holding: _Holding, delta: Any, paid: Any, mark: Any, others: Any = ()
) -> Any:
    """Whether an offsetting account may take its side of a fill that changes its position by
    ``delta`` lots (toward zero) for ``paid`` over the mark (``overlap_only``): after the fill it
    covers initial margin, or it is no riskier.

    dYdX v4's rule for a subaccount update that leaves it below initial margin
    (``IsValidStateTransitionForUndercollateralizedSubaccount``): valid iff maintenance does not
    rise, neither maintenance is zero, and NC' / MMR' ≥ NC / MMR, i.e. NC' × MMR ≥ NC × MMR'. The
    fill shrinks the offsetting position by ``|delta|`` and its equity by ``paid``, so its
    maintenance never rises (it grows with the notional or the entry value), and a fill that
    closes it whole makes the ratio test NC' ≥ 0, the initial margin of no position: the first
    branch. Only a zero maintenance rate (no preset's) would differ: dYdX refuses it, this serves it.
    """
    size = holding.size_lots
    new_size, new_cost = _moved(size, delta, holding.cost_quote, mark)
    before = Account("offsetting", size_lots=size, cost_quote=holding.cost_quote, more_positions=holding.more_positions)
    after = Account("offsetting", size_lots=new_size, cost_quote=new_cost, more_positions=holding.more_positions)
    e0, e1 = holding.equity, holding.equity - paid
    mm0 = account_maintenance(rule, rounding, before, mark, others)
    mm1 = account_maintenance(rule, rounding, after, mark, others)
    collateralized = e1 >= account_initial_margin(rule, rounding, after, mark, others)
    return or_(collateralized, e1 * mm0 >= e0 * mm1)


def taken(served: list[tuple[Any, Any]], indices: list[int]) -> list[Any]:
    """For each candidate index, what the queue took from it: Σ q over the served (index, q) pairs
    with that index. Under z3 the sorted indices are terms, so that is a sum of ``ite``s per
    candidate; concrete indices are distinct ints, so it is one lookup (the same sum: 0 + q)."""
    if all(type(i) is int for i, _ in served):
        by_index = dict(served)
        return [sum_((by_index[i],)) if i in by_index else 0 for i in indices]
    return [sum_(ite(index == i, q, 0) for index, q in served) for i in indices]


def reach(ctx: Ctx, size: Any, bankrupt: str, pools: tuple[Role, ...]) -> Any:
    """How many lots of a bankrupt position of ``size`` lots the gap is spread over where ``pools``
    hold lots: |S| − :func:`unreached`, the position less the pools' lots that ADL's fills leave
    (a pool that holds lots where no fund takes over what ADL leaves: ``bankruptcy.spread_over``;
    BitMEX's fund was one until session 21,
    docs/model.md#superseded-in-session-21-the-gap-is-over-the-whole-position-again; session 27:
    docs/model.md#session-27-the-lots-the-pools-keep-are-those-the-fills-leave)."""
    return abs_(size) - unreached(ctx, size, bankrupt, pools)


def unreached(ctx: Ctx, size: Any, bankrupt: str, pools: tuple[Role, ...]) -> Any:
    """The lots of a bankrupt position of ``size`` lots that no ADL fill closes and a pool holds
    opposite: ``min(|S| − min(|S|, C), P)``, ``C`` the lots the queue and the book hold opposite
    (:func:`_closable_opposite`), ``P`` the lots the ``pools`` other than the bankrupt one hold
    opposite. :func:`deleverage` walks the queue and the book first, each taking
    ``min(remaining, its lots)``, so they close ``min(|S|, C)`` lots and only what they leave goes on
    to the counterparty at the liquidation fill: a pool keeps its own opposing lots where the
    traders opposite can take the whole position (before session 27 this was ``min(|S|, P)``, the
    pools' lots counted out even where the queue closed them all;
    docs/model.md#session-27-the-lots-the-pools-keep-are-those-the-fills-leave).

    Built as ``min(|S| − min(|S|, C), min(|S|, P))``, the same integer (what the fills leave is at most
    |S|): of nine forms of it the one z3 decides on the three funding questions measured to read it
    (hyperliquid's conservation on the isolated scope over mark, funding and margin, proved; its
    adl-price-fair there, refuted and accepted; deficit-charged-once over mark and funding at N = 2,
    proved), docs/solver-notes.md#the-gaps-lots-are-the-lots-adls-fills-close-session-27.
    Where no pool other than the bankrupt account holds lots (its own deleveraging) ``P`` is 0 and so
    is this: the very term ``min(|S|, 0)`` built before (z3's questions there unchanged)."""
    before = min_(abs_(size), _held_opposite(ctx, size, bankrupt, pools))
    if not _other_pools(ctx, bankrupt, pools):
        return before
    return min_(abs_(size) - min_(abs_(size), _closable_opposite(ctx, size, bankrupt)), before)


def _other_pools(ctx: Ctx, bankrupt: str, pools: tuple[Role, ...]) -> list[str]:
    """The names of the ``pools`` other than the bankrupt account, in name order."""
    return sorted({ctx.system(role) for role in pools} - {bankrupt})


def _held_opposite(ctx: Ctx, size: Any, bankrupt: str, pools: tuple[Role, ...]) -> Any:
    """Σ |s| over the ``pools`` (other than the bankrupt one) on the other side of ``size``."""
    names = _other_pools(ctx, bankrupt, pools)
    return sum_(when(_opposite(size, ctx.account(n).size_lots), abs_(ctx.account(n).size_lots)) for n in names)


def queue_candidates(book: Book, bankrupt: str) -> list[tuple[int, Account]]:
    """ADL's candidates against ``bankrupt``, with their book indices: every trader but the
    bankrupt account (a pool is never ranked)."""
    return [(i, a) for i, a in enumerate(book.accounts) if a.is_trader and a.name != bankrupt]


def _closable_opposite(ctx: Ctx, size: Any, bankrupt: str) -> Any:
    """Σ |s| on the other side of ``size`` over the accounts ADL's fills close against: the queue's
    candidates (:func:`queue_candidates`) and the order book. The book's lots count also where it
    is exempt (``book_last = false``), as they did before: what an exempt book takes at the mark is a
    residual (docs/model.md#the-gap-is-spread-over-the-lots-adl-can-close)."""
    accounts = [a for _, a in queue_candidates(ctx.book, bankrupt)]
    accounts.append(ctx.account(ctx.system(Role.LIQUIDITY)))
    return sum_(when(_opposite(size, a.size_lots), abs_(a.size_lots)) for a in accounts)


def _close(ctx: Ctx, bankrupt: str, winner: str, lots: Any, price: Any, paid: Any, per_fill: bool) -> Ctx:
    """Close ``lots`` of the bankrupt position against ``winner``: at the bankruptcy price per lot,
    or (``per_fill``) at the mark with the fill's rounded share of the deficit, ``paid``, from the
    winner to the bankrupt account."""
    if not per_fill:
        return close_against(ctx, bankrupt, winner, lots, price, Reason.ADL)
    ctx = close_against(ctx, bankrupt, winner, lots, ctx.market.mark_quote, Reason.ADL)
    return ctx.transfer(winner, bankrupt, paid, Reason.ADL)


def fee_to_close_at(fee_ppm: int, closed_lots: Any, price: Any, cash_quote: Any, rounding: Rounding) -> Any:
    """The fee to close the bankrupt account pays on ``closed_lots`` closed at its bankruptcy price
    ``price`` (Bybit, ``liquidation.fee_to_close``): the taker fee ``f × lots × BP / 1e6``, rounded
    as ``rounding`` (the policy's fee rounding), from what the fills brought in, so at most the
    account's cash, and never below zero (as ``liquidation.fee_to_close`` floors the solvent close's).

    Formula: ``min(max(⌈f × q × BP / 1e6⌉, 0), max(cash, 0))``. The floor at zero is taken only
    where ``BP < 0``: a short whose equity at price zero is below zero after an earlier ADL took
    from it (docs/solver-notes.md#bybits-second-fee-to-close-a-negative-price). There the fee
    formula is negative, and a fee is never paid backwards (the ledger refuses a negative transfer:
    before the floor the engine stopped with an internal error on such a book); everywhere else it
    is the same integer.
    """
    fee = div(fee_ppm * closed_lots * price, PPM, rounding=rounding)
    return min_(max_(fee, 0), max_(cash_quote, 0))


def _pay_fee_to_close(ctx: Ctx, rounding: RoundingRule, bankrupt: str, fee_ppm: int, closed: Any, price: Any) -> Ctx:
    """The bankrupt account pays :func:`fee_to_close_at` to the fee account (a trading fee)."""
    fee = fee_to_close_at(fee_ppm, closed, price, ctx.account(bankrupt).cash_quote, rounding.fee)
    return ctx.transfer(bankrupt, ctx.system(Role.FEE_ACCOUNT), fee, Reason.TRADING_FEE)


def _reset_below_price_zero(ctx: Ctx, bankrupt: str, size: Any, at_zero: Any) -> Ctx:
    """Bybit: a short whose equity at price zero ``at_zero`` (Z = |S| × M + E) is below zero was
    closed at price 0 (:func:`gap_with_fee`), which leaves it at Z; the venue resets that negative
    balance to zero (``Reason.VENUE_ABSORBS``), as Bybit documents no debt carried by a trader and
    no layer after ADL, and no Bybit trade is at a price below zero for the winners to pay
    (docs/venues.md#bybit-negative-balances). Nothing where Z ≥ 0: the price then leaves the
    account at zero or above (the dust to the fund)."""
    below = and_(size < 0, at_zero < 0)
    reset = when(below, max_(-ctx.account(bankrupt).cash_quote, 0))
    return ctx.transfer(ctx.system(Role.VENUE), bankrupt, reset, Reason.VENUE_ABSORBS)


def gaps_of(
    ctx: Ctx, layer: Adl, bankrupt: str, own: Any, lots: Any, fee_ppm: int, pools: tuple[Role, ...]
) -> tuple[Any, Any, Any]:
    """``(fair_gap, gap, price)`` of :func:`deleverage`: the bankrupt account's fair gap per lot
    (its bankruptcy price's distance from mark, its position closed to bring ``own``, the equity it
    is closed for, to zero, ``lots`` its size; :func:`fair_gap_of`), the gap the winners are closed at (the fair gap
    where :func:`at_bankruptcy`, 0 at the mark, the move back at the previous mark) and the price at that gap."""
    fair_gap = fair_gap_of(ctx, layer, bankrupt, own, lots, fee_ppm, pools)
    book = ctx.book
    mark = book.market.mark_quote
    size = book.account(bankrupt).size_lots
    if at_bankruptcy(ctx, layer):
        gap = fair_gap
    elif layer.price is AdlPrice.PREVIOUS_MARK:
        previous = book.market.previous_mark_quote
        gap = ite(size > 0, previous - mark, mark - previous)
    else:
        gap = 0
    return fair_gap, gap, price_at_gap(mark, size, gap)


def at_bankruptcy(ctx: Ctx, layer: Adl) -> bool:
    """Whether the layer closes the winners at the bankrupt account's bankruptcy price, the fair gap
    (:func:`fair_gap_of`): at ``price = "bankruptcy"``, and at ``"previous_mark"`` in a sweep that moved
    no mark (a funding payment's: ``Ctx.mark_moved`` false). There the book's previous mark is an
    earlier event's and no move took the account under, so there is no move to pay back: the winners
    pay the deficit, as every other venue's ADL has them, and what the rounding brings in beyond it is
    the vault's as at the previous mark (the lead's decision, session 25:
    docs/model.md#the-funds-own-bankruptcy, "A trader bankrupt at a funding event"). A Python bool."""
    if layer.price is AdlPrice.PREVIOUS_MARK:
        return not ctx.mark_moved
    return layer.price is AdlPrice.BANKRUPTCY


def rounds_per_fill(ctx: Ctx, layer: Adl) -> bool:
    """Whether the layer's close shares the deficit per fill (:func:`fill_gap`, each fill
    ``⌈D × q / L⌉`` over the mark) rather than per lot (the gap ``⌈−E / |S|⌉`` every lot pays): in a
    sweep that moved no mark (``Ctx.mark_moved`` false) where the layer closes at the bankruptcy
    price (:func:`at_bankruptcy`), as ``gap_rounding_without_move`` says, and otherwise as
    ``gap_rounding``. A funding payment moved no mark, so no winner gained a move the per-lot
    excess could come out of, and a quantum a lot can be more than all a winner holds (the lead's
    decision, session 26: docs/model.md#the-funds-own-bankruptcy, "The gap at a funding sweep,
    per fill"). A Python bool: at a mark move every term is the one ``gap_rounding`` built."""
    if not ctx.mark_moved and at_bankruptcy(ctx, layer):
        return layer.gap_rounding_without_move is GapRounding.PER_FILL
    return layer.gap_rounding is GapRounding.PER_FILL


def pool_takes_over(ctx: Ctx, layer: Adl, pools: tuple[Role, ...]) -> bool:
    """Whether a trader's ADL at this sweep leaves what its fills do not pay to the ``pools`` (the
    caller's takeover, ``rules.bankruptcy.vault_takes_over``) instead of spreading its gap around
    their lots: where the spread would apply (``pools`` that hold lots, the layer closing at the
    bankruptcy price: :func:`at_bankruptcy`) at a sweep that moved no mark (``Ctx.mark_moved``
    false, a funding payment's). There the deficit is over the whole position, as where no pool
    holds lots, so no winner pays beyond the bankruptcy-price close of the lots its fills close,
    and the lots the fills leave (a pool's) owe their share at that price: the pool pays it, below
    zero if need be, as BitMEX's fund takes over what ADL leaves (the lead's decision, session 28:
    docs/model.md#session-28-at-a-funding-sweep-the-vault-takes-over-what-adl-leaves). At a mark
    move the spread stays (session 21's BitMEX story: docs/model.md#the-gap-is-spread-over-the-lots-adl-can-close).
    A Python bool: no term is built for it."""
    return bool(pools) and not ctx.mark_moved and at_bankruptcy(ctx, layer)


def unreached_lots(ctx: Ctx, layer: Adl, bankrupt: str, pools: tuple[Role, ...]) -> Any:
    """The lots of the bankrupt position no fill closes and a pool holds opposite (:func:`unreached`,
    ``|S| − reach``), where the gap is spread around them (``pools`` and :func:`at_bankruptcy`, as
    :func:`fair_gap_of` spreads it); None elsewhere (no term built). Per fill, a fill's share is of
    the lots the queue and the book can still close, so the deficit is spread over the same
    reachable lots as the per-lot gap."""
    if not (pools and at_bankruptcy(ctx, layer)):
        return None
    size = ctx.book.account(bankrupt).size_lots
    # the very term :func:`reach` subtracts (z3 builds it once), not |S| − reach
    return unreached(ctx, size, bankrupt, pools)


def entry_of(rule: MarginRule, rounding: RoundingRule, layer: Adl, size: Any, mark: Any, i: int, a: Account) -> _Entry:
    """Candidate ``a`` (book index ``i``) in the queue against a bankrupt position of ``size``
    lots: its score, whether it holds the other side, and its holding where ``overlap_only``."""
    s = score(layer.ranking, rule, rounding, a, mark)
    eligible = _opposite(size, a.size_lots)
    holding = _Holding(equity(rule, a), a.size_lots, a.cost_quote, a.more_positions) if layer.overlap_only else None
    return _Entry(eligible, s.num, s.den, i, abs_(a.size_lots), holding)


def fair_gap_of(ctx: Ctx, layer: Adl, bankrupt: str, own: Any, lots: Any, fee_ppm: int, pools: tuple[Role, ...]) -> Any:
    """The bankrupt account's fair gap per lot (its bankruptcy price's distance from mark) for
    :func:`deleverage`, its position (``lots``, its size) closed to bring ``own`` (the equity it is
    closed for) to zero.

    The caller runs ADL for equity < 0 at mark, so the gap is at least one quantum per lot, unless
    the fund's drawdown triggered it. Where a pool holds lots the queue cannot reach, the
    bankruptcy price is spread over the rest (:func:`reach`)."""
    book = ctx.book
    mark = book.market.mark_quote
    size = book.account(bankrupt).size_lots
    spread = pools and at_bankruptcy(ctx, layer)
    if spread:
        r = reach(ctx, size, bankrupt, pools)
        fair_gap = bankruptcy_gap_per_lot(own, r) if not fee_ppm else gap_with_fee(own, r, size > 0, mark, fee_ppm)
    else:  # the very terms every policy without pool lots built before (z3's questions unchanged)
        fair_gap = (
            bankruptcy_gap_per_lot(own, size) if not fee_ppm else gap_with_fee(own, lots, size > 0, mark, fee_ppm)
        )
    if layer.fund_drawdown is not None:
        # a drawdown-triggered ADL may run after the fund paid it all (equity ≥ 0): then the
        # bankrupt account's price is the mark, never better for it
        fair_gap = max_(fair_gap, 0)
    return tick_gap(layer, fair_gap, book.market.tick_quote)  # Bybit: the venue's price is on its tick


def walk_start(own: Any, lots: Any) -> tuple[Any, Any]:
    """Where the walk down the queue starts (:func:`walk_step`): the whole position's ``lots`` left
    to close, and what the fills still owe the bankrupt account (``per_fill``), its deficit
    ``max(−own, 0)``."""
    return lots, max_(-own, 0)


def _sharing(remaining: Any, unreached: Any) -> Any:
    """The lots left that share the deficit per fill: ``remaining`` less the ``unreached`` ones."""
    return remaining if unreached is None else remaining - unreached


def walk_step(
    rule: MarginRule,
    rounding: RoundingRule,
    layer: Adl,
    book: Book,
    size: Any,
    gap: Any,
    entry: _Entry,
    remaining: Any,
    deficit: Any,
    per_fill: bool,
    unreached: Any = None,
) -> tuple[Any, Any, Any, Any]:
    """One candidate of the walk down the queue (:func:`deleverage` where a fill depends on the
    fills before it): ``(q, paid, remaining', deficit')``, the lots the candidate gives, what it
    pays the bankrupt account over the mark, and what is left to close and still owed after it.

    Each eligible entry gives ``min(remaining, lots)``; ``per_fill`` (dYdX), it pays the fill's
    share of the deficit left, rounded once (:func:`fill_gap`); ``overlap_only`` (dYdX), an
    offsetting account the fill would leave riskier is skipped, not served (:func:`overlaps`).
    ``per_fill``: :func:`rounds_per_fill` of the step; ``unreached``: :func:`unreached_lots`, the
    lots no fill shares the deficit over (None: none)."""
    q = when(entry.eligible, min_(remaining, entry.lots))
    paid = fill_gap(deficit, _sharing(remaining, unreached), q) if per_fill else q * gap if layer.overlap_only else 0
    if layer.overlap_only:
        # dYdX: an offsetting account the fill would leave riskier is skipped, not served
        delta = ite(size > 0, q, -q)  # the offsetting account buys a bankrupt long, sells a short
        ok = overlaps(rule, rounding, entry.holding, delta, paid, book.market.mark_quote, book.more_markets)
        q, paid = when(ok, q), when(ok, paid)
    remaining = remaining - q
    if per_fill:
        deficit = deficit - paid
    return q, paid, remaining, deficit


def record_fill(
    ctx: Ctx,
    book: Book,
    bankrupt: str,
    winner: Account,
    entry: _Entry,
    q: Any,
    gap: Any,
    fair_gap: Any,
    price: Any,
    paid: Any,
    per_fill: bool,
) -> Ctx:
    """Record one candidate's fill (``AdlFill``) and close its ``q`` lots against the bankrupt
    account (:func:`_close`)."""
    fill = AdlFill(
        bankrupt,
        winner.name,
        q,
        gap,
        fair_gap,
        entry.num,
        entry.den,
        winner.size_lots,
        entry.eligible,
        outcome_market(book),
    )
    ctx = ctx.note(fill)
    return _close(ctx, bankrupt, winner.name, q, price, paid, per_fill)


def deleverage(
    ctx: Ctx,
    rule: MarginRule,
    rounding: RoundingRule,
    layer: Adl,
    bankrupt: str,
    counterparty: str,
    px: Any,
    fee_ppm: int = 0,
    owed: Any = None,
    pools: tuple[Role, ...] = (),
) -> Ctx:
    """Close ``bankrupt``'s position against the queue; any lots left go to ``counterparty`` at ``px``.

    ``fee_ppm``: the taker rate of the fee to close that the bankruptcy price includes
    (``liquidation.fee_to_close``, Bybit); the bankrupt account pays it on the lots closed at that
    price, and the winners' price covers it (:func:`gap_with_fee`).

    ``owed``: the share of the account's deficit this position is closed for, where the deficit
    is split between markets (``rules.deficit_split``, dYdX v4's bankruptcy price of one position
    of a cross account); absent, the account's whole deficit (its equity below zero).

    ``pools``: the system pools around whose lots the gap is spread (``bankruptcy.spread_over``: a
    pool that holds what it takes over where no fund takes over what ADL leaves). ADL's queue never
    ranks a pool: the queue and the book close first, and what they leave goes to ``counterparty``
    at ``px``; the gap is spread over the lots but the pools' among those (:func:`reach`,
    :func:`unreached`), so the pool's lots, closed at the fill, leave no share of the deficit unpaid,
    and lots a pool keeps raise no winner's share (docs/model.md#the-gap-is-spread-over-the-lots-adl-can-close,
    docs/model.md#session-27-the-lots-the-pools-keep-are-those-the-fills-leave). Since session 28 a trader's
    ADL at a sweep that moved no mark is given none (:func:`pool_takes_over`): its deficit is over the whole
    position and the vault takes over what the fills leave (``rules.bankruptcy.vault_takes_over``)."""
    book = ctx.book
    mark = book.market.mark_quote
    b = book.account(bankrupt)
    size = b.size_lots
    lots = abs_(size)
    own = equity(rule, b) if owed is None else -owed  # the equity this position is closed to bring to zero
    fair_gap, gap, price = gaps_of(ctx, layer, bankrupt, own, lots, fee_ppm, pools)
    candidates = queue_candidates(book, bankrupt)
    per_fill = rounds_per_fill(ctx, layer)
    unreached = unreached_lots(ctx, layer, bankrupt, pools) if per_fill else None
    entries = [entry_of(rule, rounding, layer, size, mark, i, a) for i, a in candidates]
    remaining, deficit = walk_start(own, lots)
    indices = [i for i, _ in candidates]
    if per_fill or layer.overlap_only or len(entries) < 2:
        # a fill depends on the fills before it (the deficit left, an account skipped), or there is
        # one candidate (nothing to rank: the terms the walk always built): the walk. By book order
        # (``Ranking.ORDER``, every score alike) the queue is the eligible entries in book order,
        # and an ineligible entry walked in between takes nothing and changes nothing (q = 0, so
        # paid = 0): the candidates are walked as they are, without a sort
        ordered = entries if layer.ranking is Ranking.ORDER else sort_queue(entries)
        served, paid_by = [], []
        for entry in ordered:
            q, paid, remaining, deficit = walk_step(
                rule, rounding, layer, book, size, gap, entry, remaining, deficit, per_fill, unreached
            )
            served.append((entry.index, q))
            paid_by.append((entry.index, paid))
        q_each = taken(served, indices)
        paid_each = taken(paid_by, indices) if per_fill else [0] * len(indices)
    else:
        # each fill is min(remaining, lots), in ranking order: by rank, without sorting (:func:`queue_fills`)
        q_each = queue_fills(entries, lots)
        remaining = lots - sum_(q_each)
        paid_each = [0] * len(indices)
    fills = zip(candidates, entries, q_each, paid_each, strict=True)
    for (_, a), entry, q, paid in fills:
        ctx = record_fill(ctx, book, bankrupt, a, entry, q, gap, fair_gap, price, paid, per_fill)
    if layer.book_last:
        # the rest of the market, last and unranked: the book's opposing position at the same price
        book_name = ctx.system(Role.LIQUIDITY)
        resting = ctx.account(book_name).size_lots
        q = when(_opposite(size, resting), min_(remaining, abs_(resting)))
        ctx = ctx.note_if(q > 0, BookDeleveraged(bankrupt, book_name, q, gap))
        paid = fill_gap(deficit, _sharing(remaining, unreached), q) if per_fill else q * gap
        ctx = _close(ctx, bankrupt, book_name, q, price, paid, per_fill)
        remaining = remaining - q
    if fee_ppm and layer.price is AdlPrice.BANKRUPTCY:
        ctx = _pay_fee_to_close(ctx, rounding, bankrupt, fee_ppm, lots - remaining, price)
    ctx = close_against(ctx, bankrupt, counterparty, remaining, px, Reason.LIQUIDATION_SLIPPAGE)
    if layer.price is AdlPrice.BANKRUPTCY:
        # the account was below zero at mark, so anything above zero now is the per-lot rounding,
        # whether the queue took the whole position or the book took the rest (for a share of a
        # split deficit: anything the fills brought in beyond the share)
        cash = ctx.account(bankrupt).cash_quote
        dust = max_(cash if owed is None else cash - b.cash_quote - owed, 0)
        ctx = ctx.transfer(bankrupt, ctx.system(Role.INSURANCE_FUND), dust, Reason.PRO_RATA_DUST)
        if fee_ppm:
            ctx = _reset_below_price_zero(ctx, bankrupt, size, lots * mark + own)
    elif layer.price is AdlPrice.PREVIOUS_MARK:
        # At the previous mark the winners pay the whole move back, more than the deficit. The
        # excess is not the bankrupt trader's: Hyperliquid's backstop has taken the account over
        # with its margin ("the trader ends at zero", docs/venues.md#hyperliquid-liquidation), so
        # what its position brings in at the previous mark is the liquidator vault's.
        surplus = max_(ctx.account(bankrupt).cash_quote, 0)
        ctx = ctx.transfer(bankrupt, ctx.system(Role.BACKSTOP_VAULT), surplus, Reason.ADL_SURPLUS)
    return ctx

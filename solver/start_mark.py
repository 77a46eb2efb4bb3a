"""Bybit's payer claims over K mark moves: a premise read against the mark the story started at.

The induction over mark moves (:mod:`solvent.solver.induction`) keeps a per-trader premise, the
margin floor ``v ≥ 0 ∧ v × 10⁶ ≥ f × |S| × M``, which a move does not keep on Bybit: maintenance is
read on the entry value, the fee to close at the mark
(docs/solver-notes.md#bybit-at-k--3-and-n--8-session-21). What a payer needs is a premise across
the pair, the bankrupt account's worth and its own against the fee per lot
(``entry_floor.cross_charge_lemma``); what a move keeps is the pair's worth *as settlement moves it*.
Both are read off one number the engine never changes: **the mark the story started at**, ``Mₛ``
(a ghost: a free integer every lemma is asked for all values of, the same in each move's lemmas).

The premise R of a trader, in exchange terms: **worth at least zero, and at least what an
initial-margin holder of its lots from Mₛ would be worth at the mark**:

    v ≥ 0   and   v × 10⁶ ≥ |S| × i × Mₛ + 10⁶ × S × (M − Mₛ)

with ``i`` the policy's least initial rate (10,000 ppm on Bybit: 100x in its first tier, every
later tier higher). Settlement moves both sides by ``S × ΔM``, so R is kept by a move's settlement
exactly; it reads no maintenance, no entry price and no tier. Why it gives the payer what the pair
premise asked: a long below its fee to close at ``M₀`` has ``i·Mₛ + (M₀ − Mₛ) < f·M₀`` per lot, so
the mark is below the start by about ``i``; every short then holds ``i·Mₛ + (Mₛ − M₀)`` a lot, about
twice its initial margin, more than the fee and the tick the bankrupt long's price may take of it.
The same the other way round. The two sides cannot both be thin at one mark: what one lost since
the start, the other gained.

The argument (each lemma exact z3 on the engine's own functions; :func:`argument`):

1. **start**: a trader meeting initial margin at the start mark meets R with ``Mₛ`` that mark;
2. **the charge** (the engine's ``resolve``, two traders, every number free): a bankrupt account
   settled from R charges a payer ``q`` lots at a gap per lot of at most ``|ΔM|`` plus the payer's
   own side's allowance ``max(0, i·Mₛ ± (M₀ − Mₛ))`` (nothing off the winning side);
3. **R kept**: the payer's contract with R as the claim, charged within 2 before and after its turn;
4. **the claim**: the payer's contract with the claim, from R, charged within 2;
5. **open interest** after every move (as in :mod:`solvent.solver.induction`).

By induction over the moves: R holds at the start (1); a loser is never served, so at its turn it
is settled from R and meets 2's premise; a winner is charged within 2 only, so it keeps R (3) and
the claim (4); so every move starts from a book whose traders meet R, for every N and any K.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.properties.catalog import Invariant, StepView
from solvent.rules.arith import PPM, abs_, all_
from solvent.rules.bankruptcy import fee_to_close_rate
from solvent.rules.book import Book
from solvent.rules.engine import after_sweep, closing, liquidation_turn, requirements
from solvent.rules.events import MarkPrice
from solvent.rules.liquidation import slip_per_lot
from solvent.rules.margin import equity
from solvent.rules.policy import Policy
from solvent.rules.waterfall import GapRounding
from solvent.rules.wellformed import trader_conditions
from solvent.solver import induction
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds
from solvent.solver.payer_facts import CLOSED, PayerFacts, _pairs, bankrupt_question, instance, resolve_starts
from solvent.solver.payer_lemma import (
    BEFORE,
    PAYER_CLAIMS,
    _adl_only,
    _charged,
    _gap_reads_no_payer,
    _move,
    _rest_of_market,
)
from solvent.solver.payer_lemma import charge_question as plain_charge
from solvent.solver.per_account import (
    _conjuncts,
    _decomposes,
    _one_event_frame,
    _reads_only,
    _settled,
    _with_fresh_system,
)
from solvent.solver.story import symbolic_book

#: the premise's name in a verdict
SAYS = (
    "every trader worth at least zero and at least what an initial-margin holder of its lots from the story's "
    "first mark is worth at the mark (its lots × the least initial rate × that mark, plus its PnL since it), and "
    "its own well-formedness"
)
#: the one-event book's start margin (``Bounds.start_margin``): every trader meets the premise
START = "start-mark"
#: the start's assumption on a book (``solver.assumptions``), and the order book's beside it, as
#: ``rules.wellformed`` states it with a start margin
NAMED = "traders worth at least zero and at least an initial-margin holder of their lots from the first mark"
ORDER_BOOK = "the order book starts with non-negative cash"
#: what an all-N, any-K verdict by this argument assumes beyond the payer's argument's own
ASSUMES = f"induction over mark moves on the premise {SAYS}"
#: a trader's own conditions the premise leaves out (as ``induction.NOT_KEPT``)
NOT_KEPT = ("cost basis follows the position",)


def initial_rate(policy: Policy) -> int:
    """``i``: the least initial rate of the policy's tiers (ppm)."""
    return min(t.initial_ppm for t in policy.margin.tiers)


def start_mark(book: Book) -> Any:
    """``Mₛ``, the ghost: the mark the story started at, named as the market's so that a trader's
    own premise (its account and the market) reads it."""
    return z3.Int(f"s0.{book.market.name}.start_mark_quote")


def reach(policy: Policy, account: Any, mark: Any, ms: Any) -> Any:
    """``v × 10⁶ ≥ |S| × i × Mₛ + 10⁶ × S × (M − Mₛ)``: worth what an initial-margin holder of its
    lots from ``Mₛ`` is worth at ``mark``."""
    s = account.size_lots
    return equity(policy.margin, account) * PPM >= abs_(s) * initial_rate(policy) * ms + PPM * s * (mark - ms)


def allowance(policy: Policy, size: Any, m0: Any, ms: Any) -> Any:
    """The payer's allowance per lot beyond the move, in millionths of a quantum: ``max(0, i·Mₛ ±
    10⁶·(M₀ − Mₛ))``, the sign its side's (what R gives a holder of that side at ``M₀`` a lot)."""
    own = z3.If(size > 0, initial_rate(policy) * ms + PPM * (m0 - ms), initial_rate(policy) * ms - PPM * (m0 - ms))
    return z3.If(own > 0, own, 0)


def own(policy: Policy, book: Book, name: str) -> list[Any]:
    """R of trader ``name`` on ``book`` (its conjuncts): its own well-formedness without a margin
    (but :data:`NOT_KEPT`), worth at least zero, :func:`reach` at the mark, ``Mₛ ≥ 1``."""
    conditions = trader_conditions(policy, book, name, margin=None)
    account = book.account(name)
    ms = start_mark(book)
    kept = [c for cond in conditions if cond.name not in NOT_KEPT for c in _conjuncts(cond.holds)]
    return [*kept, ms >= 1, equity(policy.margin, account) >= 0, reach(policy, account, book.market.mark_quote, ms)]


def book_premise(policy: Policy, book: Book) -> Any:
    """R for every trader of ``book``, as the one-event book's start (``Bounds.start_margin`` =
    :data:`START`; ``solver.assumptions``): on a symbolic book with the ghost ``Mₛ ≥ 1`` free; on a
    concrete book, whether some ``Mₛ ≥ 1`` makes every trader meet it (each trader's :func:`reach`
    is ``a × Mₛ ≤ b``, an interval of ``Mₛ``)."""
    traders = list(book.traders)
    mark = book.market.mark_quote
    if not isinstance(mark, int):
        ms = start_mark(book)
        return all_(
            [ms >= 1, *(c for t in traders for c in (equity(policy.margin, t) >= 0, reach(policy, t, mark, ms)))]
        )
    low, high = 1, None
    for t in traders:
        s, e = t.size_lots, equity(policy.margin, t)
        if e < 0:
            return False
        a, b = abs(s) * initial_rate(policy) - PPM * s, e * PPM - PPM * s * mark
        if a > 0:
            high = b // a if high is None else min(high, b // a)
        elif a < 0:
            low = max(low, -(b // -a))
    return high is None or low <= high


def start_question(policy: Policy, bounds: Bounds) -> tuple[list[Any], Any]:
    """Step 1: (premise, claim) on one trader meeting the question's start at ``bounds.start_margin``
    (its own assumptions), with ``Mₛ`` the mark: it meets R."""
    one = Bounds(accounts=1, events=1, start_margin=bounds.start_margin)
    book, _ = symbolic_book(one)
    [name] = [a.name for a in book.traders]
    reads = (f"s0.{name}.", *(f"s0.{m.name}." for m in book.markets))
    premise = [c for a in book_assumptions(policy, book, one) for c in _conjuncts(a.holds) if _reads_only(c, reads)]
    premise.append(start_mark(book) == book.market.mark_quote)
    return premise, z3.And(*own(policy, book, name))


def gap_question(policy: Policy, side: str, bankrupt: str = "alice", payer: str = "bob"):
    """Step 2a: (premise, claim) on the engine's ``resolve`` (``payer_lemma.charge_question``'s free
    two-trader book): a bankrupt account on ``side`` settled from ``v₀ ≥ 0`` at ``M₀`` (no floor, no
    ghost) closes every lot at a gap ``g ≥ 0`` within the move plus its own shortfall below the fee
    to close and one tick: ``(g − |ΔM| − 1) × (10⁶ ± f) × |S| < f × M₀ × |S| − 10⁶ × v₀`` (``+`` for a
    short bankrupt account, whose price is rounded down, ``−`` for a long, rounded up)."""
    charge = plain_charge(policy, bankrupt, payer)
    book = charge.book
    m0 = book.market.previous_mark_quote
    d = book.market.mark_quote - m0
    account = book.account(bankrupt)
    e, size = equity(policy.margin, account), account.size_lots
    before = z3.Int(BEFORE)
    f = fee_to_close_rate(policy)
    resolved = e - abs_(size) * slip_per_lot(policy.liquidation, book.market.mark_quote) < 0
    settled = z3.And(e >= before + size * d, before >= 0)
    own_side = size > 0 if side == "long" else size < 0
    premise = [book.market.mark_quote >= 1, m0 >= 1, resolved, settled, own_side]
    if charge.per_fill or charge.gap is None:
        raise ValueError(f"{policy.name}: the start-mark charge is built for one gap per position")
    gap, n = charge.gap, abs_(size)
    factor = PPM - f if side == "long" else PPM + f
    bound = z3.Implies(
        charge.lots > 0,
        z3.And(
            gap >= 0,
            (gap - charge.move - 1) * factor * n < f * m0 * n - PPM * before,
            z3.Implies(charge.size * d <= 0, gap == 0),
        ),
    )
    return premise, z3.And(charge.fill, bound), charge


def per_lot_question() -> tuple[list[Any], Any]:
    """Step 2b over free integers: a bound on ``n`` lots is a bound per lot. With ``P`` the gap's
    excess (``(g − |ΔM| − 1) × (10⁶ ± f)``), ``Q`` the fee per lot (``f × M₀``), ``W = 10⁶ × v₀``
    and ``Y`` what R gives a lot at ``M₀``: ``P·n < Q·n − W``, ``W ≥ n·Y``, ``W ≥ 0``, ``n ≥ 1``
    give ``P < Q − max(0, Y)``."""
    p, q, w, y, n = z3.Ints("lot.excess lot.fee lot.worth lot.reach lot.lots")
    premise = [n >= 1, w >= 0, w >= n * y, p * n < q * n - w]
    return premise, p < q - z3.If(y > 0, y, 0)


def allowance_question(policy: Policy, side: str) -> tuple[list[Any], Any]:
    """Step 2c over free integers (gap, move, M₀, Mₛ), linear: 2b's bound per lot for a bankrupt
    account on ``side``, ``(g − |ΔM| − 1) × (10⁶ ± f) < f × M₀ − max(0, i·Mₛ ± 10⁶·(M₀ − Mₛ))``, gives
    each lot's gap within ``|ΔM|`` plus the payer's :func:`allowance` (the payer on the other side)."""
    g, move, m0, ms = z3.Ints("mark.gap mark.move mark.previous mark.start")
    f = fee_to_close_rate(policy)
    sign = 1 if side == "long" else -1
    factor = PPM - f if side == "long" else PPM + f
    y = initial_rate(policy) * ms + PPM * sign * (m0 - ms)
    premise = [g >= 0, move >= 0, m0 >= 1, ms >= 1, (g - move - 1) * factor < f * m0 - z3.If(y > 0, y, 0)]
    return premise, g * PPM <= move * PPM + allowance(policy, z3.IntVal(-sign), m0, ms)


@attrs.frozen
class StartMarkFacts(PayerFacts):
    """:func:`facts`: the payer's facts' place in ``solver.payer_direct`` (its pieces, its gaps
    abstracted first), each instance on the question's terms and the ghost ``Mₛ`` its own."""

    sides: tuple[tuple[str, Any, Any], ...] = ()
    per_lot: Any = None
    allowances: tuple[tuple[str, Any], ...] = ()
    payers: tuple[tuple[str, Any], ...] = ()
    scaled: Any = None

    def instances(self, policy: Policy, book: Book, runs: list[Any], gaps: list[Any] | None = None) -> list[Any]:
        gaps = [] if gaps is None else gaps
        out: list[Any] = []
        ms, f, rate = start_mark(book), fee_to_close_rate(policy), initial_rate(policy)
        p, q, w, y, n = z3.Ints("lot.excess lot.fee lot.worth lot.reach lot.lots")
        g, mv, m0v, msv = z3.Ints("mark.gap mark.move mark.previous mark.start")
        fv = z3.Ints(
            "facts.before facts.lots facts.previous facts.mark facts.start facts.taken1 facts.taken2 facts.closed1 facts.closed2"
        )
        sg, sq, sb = z3.Ints("scaled.gap scaled.lots scaled.bound")
        for slot in runs[:1]:
            for run in slot.runs:
                if not isinstance(run.variant.event, MarkPrice):
                    continue
                for trader, start in resolve_starts(policy, book, run.variant.event):
                    for bankrupt, free, formula in self.closed:
                        if bankrupt == trader:
                            out.append(instance(formula, list(_pairs(free, start))))
                    e0 = equity(policy.margin, book.account(trader))
                    for side, charge, formula in self.sides:
                        if charge.bankrupt != trader:
                            continue
                        mapped = [*_pairs(charge.book, start), (z3.Int(BEFORE), e0)]
                        out.append(instance(formula, mapped))
                        gap, lots, move = (instance(t, mapped) for t in (charge.gap, charge.lots, charge.move))
                        if side == "long":
                            gaps.append(gap)
                        m0, m1 = start.market.previous_mark_quote, start.market.mark_quote
                        size = start.account(trader).size_lots
                        sign = 1 if side == "long" else -1
                        factor = PPM - f if side == "long" else PPM + f
                        reach_y = rate * ms + PPM * sign * (m0 - ms)
                        terms = [(gap - move - 1) * factor, f * m0, PPM * e0, reach_y, abs_(size)]
                        out.append(z3.substitute(self.per_lot, *zip((p, q, w, y, n), terms, strict=True)))
                        out.append(
                            z3.substitute(dict(self.allowances)[side], (g, gap), (mv, move), (m0v, m0), (msv, ms))
                        )
                        other = "short" if side == "long" else "long"
                        payer = book.account(charge.payer)
                        bound = move * PPM + allowance(policy, z3.IntVal(-sign), m0, ms)
                        out.append(z3.substitute(self.scaled, (sg, gap), (sq, lots), (sb, bound)))
                        v0 = equity(policy.margin, payer)
                        held = -sign * payer.size_lots
                        terms = [v0, held, m0, m1, ms, lots * gap, z3.IntVal(0), lots, z3.IntVal(0)]
                        out.append(z3.substitute(dict(self.payers)[other], *zip(fv, terms, strict=True)))
        return out


@attrs.frozen
class Contract:
    """One trader's step (``payer_lemma.payer_contract``'s run: settled, charged, its turn with the
    system accounts fresh, charged again, the phases after the sweep) with each charge's amount left
    free: the terms the engine lemma and the arithmetic lemma share."""

    premise: tuple[Any, ...]
    #: what the facts lemma gives of the charges (a trader on the winning side, or flat, is worth at
    #: least zero after each), assumed by the engine lemma beside ``premise``
    facts: tuple[Any, ...]
    view: StepView
    name: str
    size: Any
    move: Any
    change: Any
    #: the cash each charge took and the lots it closed
    taken: tuple[Any, Any]
    closed: tuple[Any, Any]
    #: the trader's equity before the move and after the step, its size after the step
    before: Any
    after: Any
    size_after: Any
    #: the trader's size after its first charge and after its own turn
    charged: Any
    turned: Any


def contract(policy: Policy, event: Any, field_bounds: Any) -> Contract:
    """The payer's contract's run for one trader on a free one-trader book, each charge of any amount
    (``payer_lemma._charged`` with ``free``), its premise the trader's own well-formedness and worth at least zero (R
    without :func:`reach`: the arithmetic lemma reads it) and what the arithmetic lemma gives of the
    charges: a trader on the winning side (or flat) is worth at least zero after each."""
    one = Bounds(accounts=1, events=1)
    book, _ = symbolic_book(one)
    [name] = [a.name for a in book.traders]
    start = book.account(name)
    ctx = _settled(policy, book, event)
    _, d, move = _move(ctx.book)
    settled = ctx.account(name)
    ctx, first = _charged(ctx, name, "payer.before.", d, move, free=True)
    charged = ctx.account(name)
    ctx = _with_fresh_system(ctx)
    market = _rest_of_market(ctx, name)
    ctx = liquidation_turn(policy, ctx, name)
    turned = ctx.account(name)
    ctx, then = _charged(ctx, name, "payer.after.", d, move, free=True)
    again = ctx.account(name)
    ctx = closing(policy, after_sweep(policy, ctx))
    after = ctx.book.account(name)
    taken = (settled.cash_quote - charged.cash_quote, turned.cash_quote - again.cash_quote)
    closed = (abs_(settled.size_lots) - abs_(charged.size_lots), abs_(turned.size_lots) - abs_(again.size_lots))
    s = start.size_lots
    e0 = equity(policy.margin, start)
    winning = s * d >= 0
    kept = [
        z3.Implies(winning, e0 + s * d - taken[0] >= 0),
        z3.Implies(winning, e0 + s * d - taken[0] - taken[1] >= 0),
    ]
    own_reads = (f"s0.{name}.", *(f"s0.{m.name}." for m in book.markets), "e1.")
    wellformed = [
        c
        for cond in trader_conditions(policy, book, name, margin=None)
        if cond.name not in NOT_KEPT
        for c in _conjuncts(cond.holds)
    ]
    premise = [*wellformed, e0 >= 0, *_conjuncts(field_bounds)]
    premise += [c for r in requirements(policy, book, event) for c in _conjuncts(r.holds)]
    premise = [c for c in premise if _reads_only(c, own_reads)] + [first, then, market]
    view = StepView(policy, book, event, ctx.book, ctx.entries, ctx.outcomes)
    return Contract(
        tuple(premise),
        tuple(kept),
        view,
        name,
        s,
        move,
        d,
        taken,
        closed,
        e0,
        equity(policy.margin, after),
        after.size_lots,
        charged.size_lots,
        turned.size_lots,
    )


def turn_claim(run: Contract) -> Any:
    """The turn lemma's claim: the trader's own turn leaves its position as the first charge left
    it, or closes it (Bybit closes a liquidated position whole), whatever the charges took."""
    return z3.Or(run.turned == run.charged, run.turned == 0)


def shape(policy: Policy, run: Contract) -> Any:
    """What the engine lemma claims of the trader after its step: its own well-formedness (but
    :data:`NOT_KEPT`), worth at least zero, and either flat or its equity before the move plus what
    settlement paid it less the two charges, on its position less the lots they closed."""
    after = run.view.after
    wellformed = [
        c
        for cond in trader_conditions(policy, after, run.name, margin=None)
        if cond.name not in NOT_KEPT
        for c in _conjuncts(cond.holds)
    ]
    s, s1 = run.size, run.size_after
    moved = z3.And(
        run.after == run.before + s * run.change - run.taken[0] - run.taken[1],
        s * s1 >= 0,
        abs_(s1) == abs_(s) - run.closed[0] - run.closed[1],
    )
    return z3.And(*wellformed, run.after >= 0, z3.Or(s1 == 0, moved))


def kept_question(policy: Policy, side: str) -> tuple[list[Any], Any]:
    """The kept lemma over free integers for a trader on ``side`` holding ``n`` lots: R at ``M₀``
    (``v₀ ≥ 0``, :func:`reach`), two charges within the move and its :func:`allowance` (nothing off
    the winning side), and the step's shape (:func:`shape`: worth ``v₁ ≥ 0`` after it, and flat or
    ``v₁ = v₀ + S·ΔM − c₁ − c₂`` on ``n − r₁ − r₂`` lots of its side) give :func:`reach` at ``M₁``."""
    v0, n, m0, m1, ms, c1, c2, r1, r2, v1, n1 = z3.Ints(
        "kept.before kept.lots kept.previous kept.mark kept.start kept.taken1 kept.taken2 kept.closed1 kept.closed2 "
        "kept.after kept.lots_after"
    )
    sign = 1 if side == "long" else -1
    s, s1 = sign * n, sign * n1
    d = m1 - m0
    r = initial_rate(policy)
    premise = [
        n >= 0,
        n1 >= 0,
        m0 >= 1,
        m1 >= 1,
        ms >= 1,
        v0 >= 0,
        v0 * PPM >= n * r * ms + PPM * s * (m0 - ms),
        *_charges(policy, sign, n, m0, ms, d, (c1, c2), (r1, r2)),
        v1 >= 0,
        z3.Or(n1 == 0, z3.And(n1 == n - r1 - r2, v1 == v0 + s * d - c1 - c2)),
    ]
    return premise, v1 * PPM >= n1 * r * ms + PPM * s1 * (m1 - ms)


def _charges(
    policy: Policy, sign: int, n: Any, m0: Any, ms: Any, d: Any, taken: tuple[Any, Any], closed: tuple[Any, Any]
) -> list[Any]:
    """Two charges within the move and the allowance of a trader of ``sign`` holding ``n`` lots
    (nothing off the winning side), closing at most its lots between them."""
    move = z3.If(d >= 0, d, -d)
    extra = allowance(policy, z3.IntVal(sign), m0, ms)
    s = sign * n
    out = []
    for c, k in zip(taken, closed, strict=True):
        out += [
            c >= 0,
            k >= 0,
            c * PPM <= k * (move * PPM + extra),
            z3.Implies(s * d <= 0, c == 0),
            z3.Implies(s * d < 0, k == 0),
        ]
    return [*out, closed[0] + closed[1] <= n]


def facts_question(policy: Policy, side: str) -> tuple[list[Any], Any]:
    """The facts lemma over free integers for a trader on ``side`` holding ``n ≥ 1`` lots: R at
    ``M₀`` and two charges within the move and its :func:`allowance`, closing at most its lots
    between them (the turn lemma: its turn leaves or closes its position), leave it worth at least
    zero after each where it is on the winning side: the facts :func:`contract` assumes."""
    v0, n, m0, m1, ms, c1, c2, r1, r2 = z3.Ints(
        "facts.before facts.lots facts.previous facts.mark facts.start facts.taken1 facts.taken2 facts.closed1 "
        "facts.closed2"
    )
    sign = 1 if side == "long" else -1
    s, d = sign * n, m1 - m0
    premise = [
        n >= 0,
        m0 >= 1,
        m1 >= 1,
        ms >= 1,
        v0 >= 0,
        v0 * PPM >= n * initial_rate(policy) * ms + PPM * s * (m0 - ms),
        *_charges(policy, sign, n, m0, ms, d, (c1, c2), (r1, r2)),
    ]
    winning = s * d >= 0
    return premise, z3.And(z3.Implies(winning, v0 + s * d - c1 >= 0), z3.Implies(winning, v0 + s * d - c1 - c2 >= 0))


def scaled_question() -> tuple[list[Any], Any, tuple[Any, ...]]:
    """Over free integers: a bound per lot is a bound on ``q`` lots (``g × 10⁶ ≤ b``, ``q ≥ 0`` give
    ``q × g × 10⁶ ≤ q × b``): the payer's charge from its gap, as the direct check's fact."""
    g, q, b = z3.Ints("scaled.gap scaled.lots scaled.bound")
    return [g * PPM <= b, q >= 0], q * g * PPM <= q * b, (g, q, b)


def _implied(premise: list[Any], claim: Any) -> Any:
    return z3.Implies(z3.And(*premise), claim)


def facts(policy: Policy, valid: Callable[[str, list[Any], Any], str]) -> Any:
    """The lemmas as facts of the direct check on the one-event book from the premise
    (``solver.payer_direct``, ``StartMarkFacts``), each proved by ``valid`` first: the bankrupt's side
    (``payer_facts.bankrupt_question``), 2a for each bankrupt account and side, 2b, 2c per side, the
    scaling, and the facts lemma per side. None where the argument does not fit."""
    closed = []
    for bankrupt in ("alice", "bob"):
        free, premise, claim = bankrupt_question(policy, bankrupt)
        valid(f"{CLOSED} ({bankrupt})", premise, claim)
        closed.append((bankrupt, free, _implied(premise, claim)))
    sides = []
    for bankrupt, payer in (("alice", "bob"), ("bob", "alice")):
        for side in ("long", "short"):
            premise, claim, charge = gap_question(policy, side, bankrupt, payer)
            valid(f"start mark's charge as a fact ({bankrupt} bankrupt {side}, {payer} paying)", premise, claim)
            sides.append((side, charge, _implied(premise, claim)))
    premise, claim = per_lot_question()
    valid("start mark's charge per lot, as a fact", premise, claim)
    per_lot = _implied(premise, claim)
    allowances, payers = {}, {}
    for side in ("long", "short"):
        premise, claim = allowance_question(policy, side)
        valid(f"start mark's allowance ({side} bankrupt), as a fact", premise, claim)
        allowances[side] = _implied(premise, claim)
        premise, claim = facts_question(policy, side)
        valid(f"start mark's charges ({side} payer), as a fact", premise, claim)
        payers[side] = _implied(premise, claim)
    premise, claim, _ = scaled_question()
    valid("start mark's charge on its lots, as a fact", premise, claim)
    return StartMarkFacts(
        charges=(),
        steps=(),
        floor=(None, z3.BoolVal(True)),
        closed=tuple(closed),
        lemmas=(
            "the start mark's lemmas as facts (z3, exact, every number free; instantiated on the question's terms): "
            "the bankrupt's side, each bankrupt account's gap within the move plus its shortfall and a tick, per lot, "
            "within the payer's allowance, on the payer's lots, and the payer worth at least zero after it",
        ),
        sides=tuple(sides),
        per_lot=per_lot,
        allowances=tuple(allowances.items()),
        payers=tuple(payers.items()),
        scaled=_implied(*scaled_question()[:2]),
    )


def fits(policy: Policy, bounds: Bounds) -> bool:
    """Whether :func:`argument` is the one :mod:`solvent.solver.induction` asks for ``policy`` at K > 1:
    where the induction fits and the bankruptcy price includes a fee to close (Bybit), whose floor a
    move does not keep; one gap per position (the charge's bound is on it)."""
    per_position = policy.adl is not None and policy.adl.gap_rounding is not GapRounding.PER_FILL
    return induction.fits(policy, bounds) and fee_to_close_rate(policy) > 0 and per_position


def contract_lemmas(
    policy: Policy,
    invariant: Invariant,
    label: str,
    event: Any,
    field_bounds: Any,
    valid: Callable[[str, list[Any], Any], str],
) -> list[str]:
    """Steps 3 and 4 of the module docstring on one event variant: the turn lemma (engine), the
    facts (integers, per side), the step's shape and the claim (engine, from the facts), the premise
    kept (integers, per side, from the shape)."""
    run = contract(policy, event, field_bounds)
    out = [
        valid(
            f"start mark's turn ({label}): a trader's own turn leaves its position or closes it",
            list(run.premise),
            turn_claim(run),
        )
    ]
    for side in ("long", "short"):
        premise, claim = facts_question(policy, side)
        out.append(
            valid(
                f"start mark's charges ({side}): a winner charged within the charge is worth at least zero after each",
                premise,
                claim,
            )
        )
    facts = [*run.premise, *run.facts]
    out.append(
        valid(
            f"start mark's step ({label}): a trader's step from the premise, charged, is flat or what settlement left less its charges",
            facts,
            shape(policy, run),
        )
    )
    out.append(
        valid(
            f"{invariant.id} on {label}: holds for one trader charged within the charge before and after its turn",
            facts,
            invariant.holds(run.view),
        )
    )
    for side in ("long", "short"):
        premise, claim = kept_question(policy, side)
        out.append(valid(f"start mark's premise kept ({side}): from the step's shape and the charges", premise, claim))
    return [
        f"the premise kept and {invariant.id} ({label}; z3 on one trader's step, the engine's settle, liquidation_turn, "
        "after_sweep and closing, its charges free; then over free integers): its turn leaves or closes its "
        "position; charged within the charge it stays at or above zero; its step leaves it flat or with what "
        "settlement left less the charges, and the claim holds; from that shape the premise holds at the new mark",
        *out,
    ]


def charge_lemmas(
    policy: Policy, valid: Callable[[str, list[Any], Any], str], fail: Callable[[str], None]
) -> list[str]:
    """Step 2 of the module docstring: 2a on the engine per side, 2b and 2c over free integers."""
    lemmas = []
    for side in ("long", "short"):
        premise, claim, charge = gap_question(policy, side)
        if not charge.fills:
            fail("ADL's queue records no fill for the payer")
        _gap_reads_no_payer(charge.book, list(charge.fills), charge.bankrupt, fail)
        lemmas.append(
            valid(
                f"start mark's charge: a {side} bankrupt account settled from zero or more closes each lot within the "
                "move plus its shortfall below its fee to close and a tick",
                premise,
                claim,
            )
        )
    premise, claim = per_lot_question()
    lemmas.append(valid("start mark's charge: a bound on every lot of a position is a bound per lot", premise, claim))
    for side in ("long", "short"):
        premise, claim = allowance_question(policy, side)
        other = "short" if side == "long" else "long"
        lemmas.append(
            valid(
                f"start mark's charge: from a {side} bankrupt account's premise, a {other} payer's gap per lot is "
                "within the move and its own allowance",
                premise,
                claim,
            )
        )
    return [
        "charge (z3, the engine's resolve, two traders, every number free; then over free integers): a bankrupt "
        "account settled from the premise closes each lot it hands a payer at a gap within the move plus what the "
        "premise gives a lot of the payer's side at the previous mark (nothing off the winning side); the gap reads "
        "no payer's numbers",
        *lemmas,
    ]


def argument(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    valid: Callable[[str, list[Any], Any], str],
    fail: Callable[[str], None],
    open_interest: Callable[[Bounds], list[str]],
) -> list[str]:
    """The lemmas of the module docstring for a payer's claim at K > 1 mark moves, or ``fail(reason)``
    (``valid`` raises where one does not hold)."""
    if invariant.id not in PAYER_CLAIMS:
        fail(f"{invariant.id}: the induction over moves covers {', '.join(PAYER_CLAIMS)}")
    one = attrs.evolve(bounds, events=1)
    _, book, slot = _one_event_frame(invariant, one, fail, "induction's")
    if not all(isinstance(v.event, MarkPrice) for v in slot.variants):
        fail(f"{invariant.id}: the induction over moves covers mark moves (the payer's argument's events)")
    lemmas = []
    premise, claim = start_question(policy, bounds)
    lemmas.append(
        valid(
            f"start: a trader meeting {bounds.start_margin} margin at the first mark meets the premise", premise, claim
        )
    )
    for variant in slot.variants:
        lemmas.append(_decomposes(policy, book, variant.label, variant.event, fail))
        lemmas.append(_adl_only(policy, book, variant.label, variant.event, fail))
    lemmas += charge_lemmas(policy, valid, fail)
    for variant in slot.variants:
        lemmas += contract_lemmas(policy, invariant, variant.label, variant.event, slot.field_bounds, valid)
    lemmas += open_interest(one)
    lemmas.append(
        f"induction over mark moves: the premise ({SAYS}) holds at the start, and each move keeps it for each trader "
        f"(a loser is never served, so at its turn it is settled from the premise and meets the charge's premise; a "
        f"winner is charged within the charge only); from it each move keeps {invariant.id}, for any N and any K"
    )
    return lemmas


__all__ = [
    "ASSUMES",
    "SAYS",
    "START",
    "Contract",
    "allowance",
    "allowance_question",
    "book_premise",
    "argument",
    "charge_lemmas",
    "contract",
    "contract_lemmas",
    "facts_question",
    "fits",
    "gap_question",
    "initial_rate",
    "kept_question",
    "own",
    "per_lot_question",
    "reach",
    "shape",
    "start_mark",
    "start_question",
    "turn_claim",
]

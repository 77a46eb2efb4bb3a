"""The payer's side: what a winner pays for another trader's bankruptcy is at most what it gained.

Auto-deleveraging closes a winner against a bankrupt account at the bankrupt account's price
(Binance §1, BitMEX §2, Bybit §3, OKX §4, dYdX §5 in docs/venues.md), in *that* trader's turn of the
sweep, so a winner's equity after a mark move is not its own turn's alone and the per-trader
argument of :mod:`solvent.solver.per_account` does not apply. In exchange terms the payer's lemma
is: a bankrupt account that met its margin before the move is below zero by at most its own
move, so its gap per lot, the price it closes the winners at beyond the mark, is at most the move;
a winner closed for ``q`` lots at that gap pays ``q·g ≤ q·|ΔM|``, no more than those lots gained in
the move. So whatever the number of bankrupts and their order, a winner keeps

    slack = E − |S|·|ΔM|   (its equity less what its open lots gained in the move)

at least where settlement put it, its equity before the move, and ends the step with equity at
least that: at least zero for a trader that met its margin. A trader on the losing side is never
in the queue (it holds the bankrupt account's side), so its state at its own turn is its settled
one, which is what makes every bankrupt account's gap at most the move.

The argument for ``no-negative-equity`` and ``loss-bounded-by-collateral`` (claims on each
trader's account after the step) on one mark move, where the only layer that moves money between
traders is ADL at the bankruptcy price, checked on the engine's own functions
(docs/solver-notes.md#the-payers-side-lemma):

1. **Decomposition** (:func:`solvent.solver.per_account._decomposes`, two traders): the engine's
   transition is settle, one liquidation turn per trader, and phases around the turns that touch
   no trader.
2. **ADL is the only coupling** (two traders, the system accounts fresh at each turn): a turn
   writes nothing that names another trader but ADL fills (``Reason.ADL`` entries, ``AdlFill``
   outcomes), and changes neither the market nor the book's totals.
3. **The charge** (z3, the engine's ``resolve`` on a two-trader book, every number free): for an
   account resolved from a state that is its settled one after a margin-meeting start (its equity
   at least its equity before the move, ``e₀``, plus its move, with ``e₀ ≥ 0`` and, where the
   bankruptcy price includes the fee to close, ``e₀ × 10⁶ ≥ f × |S| × M₀``) or at or above zero,
   the other trader's account changes only by a fill: its position shrinks toward zero by ``q ≤ |S|``
   lots, its cash by what the fill pays, and nothing else of it; what the fill pays is at most
   ``q·|ΔM|``, nothing for a trader not on the winning side of the move, and a trader on the losing
   side is not served. Per position (one gap for every fill), the gap read off the ``AdlFill`` is in
   ``[0, |ΔM|]``, and its term reads only the bankrupt account, the market and the event, so every
   fill of every N has it; per fill (dYdX), each fill's share of what is left is at most ``q·|ΔM|``
   and leaves the deficit per lot no larger (z3 on ``adl.fill_gap``).
4. **The margin floor** (z3, one trader): a trader meeting its margin before the move has
   ``e₀ ≥ 0`` and ``e₀ × 10⁶ ≥ f × |S| × M₀`` (the fee to close inside its margin).
5. **The payer's contract** (z3, one trader): from its own assumptions, settled, then charged any
   amount within 3 (its position shrunk toward zero by ``r``, its cash by ``c ≤ r·|ΔM|``, nothing
   for a trader off the winning side), its own turn with the system accounts fresh, then charged
   again within 3, the claim holds for it. Charges within 3 compose (``c₁ + c₂ ≤ (r₁ + r₂)·|ΔM|``),
   so one charge before and one after its turn stand for all.

By induction over the turns: a loser is never served (3), so at its turn it is settled and meets
3's premise by 4; a winner is only charged within 3, so its equity stays at or above its slack,
at least zero, and a resolved winner meets 3's premise too. So each trader's end is 5's, for any
N, given that each turn moves another trader's account only by ADL fills, the queue ahead of a
payer taking lots at the same gap (per fill: each fill's share of what is left), and a bankrupt
account's lots bringing it the same whoever of the queue and the book takes them. One mark move
(K = 1): a funding payment rounds each payer up and each receiver down, so a winner's gain is not
the bankrupt account's per-lot loss; the argument says so and asks nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.properties.catalog import Invariant, StepView
from solvent.properties.scenarios import Story
from solvent.rules.adl import fill_gap, rounds_per_fill
from solvent.rules.arith import PPM, abs_, and_
from solvent.rules.bankruptcy import fee_to_close_rate, resolve
from solvent.rules.book import Book, Role
from solvent.rules.clawback import claw_back
from solvent.rules.engine import after_sweep, before_turns, closing, liquidation_turn, opening, requirements, settle
from solvent.rules.events import MarkPrice
from solvent.rules.haircut_ratio import haircut
from solvent.rules.ledger import HAIRCUT_REASONS, Ctx, Reason
from solvent.rules.liquidation import fund_holds, pools_holding, slip_per_lot
from solvent.rules.margin import equity
from solvent.rules.outcomes import AdlFill, Bankrupt, BookDeleveraged, Liquidated
from solvent.rules.policy import Policy
from solvent.rules.socialized_loss import socialize
from solvent.rules.waterfall import (
    Adl,
    AdlPrice,
    BackstopVault,
    Clawback,
    FeePool,
    HaircutRatio,
    InsuranceFund,
    Over,
    SocializedLoss,
)
from solvent.solver import adl_claims, payer_ghost, wall
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds
from solvent.solver.effort import safety_net_s
from solvent.solver.per_account import (
    _added,
    _conjuncts,
    _decomposes,
    _named,
    _one_event_frame,
    _reads_only,
    _same_totals,
    _settled,
    _with_fresh_system,
    integer_atoms,
)
from solvent.solver.story import decode, symbolic_book
from solvent.solver.verdicts import QueryStats, SpuriousCounterexample, Verdict

#: the claims on each trader's account after the step that the payer's argument covers
PAYER_CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral")
#: the waterfall layers a payer's argument allows beside ADL: each pays the bankrupt account from a
#: system account, never from a trader
SYSTEM_LAYERS = (InsuranceFund, BackstopVault, FeePool)
#: what an all-N verdict of :func:`payer_argument` assumes, said in its scope
ADL_FILLS_ONLY = (
    "each trader's step depends on the others only through the system accounts and ADL's fills at the "
    "bankrupt account's price (a payer served after others closing at the same gap), and the queue and the "
    "book, holding every lot opposite a bankrupt account while open interest balances, take its whole "
    "position at that price as the book alone would"
)
#: what an all-N verdict of :func:`payer_argument` assumes on a policy whose fund takes over what ADL
#: leaves (:func:`takes_over`, BitMEX), said in its scope
ADL_FILLS_OR_FUND = (
    "each trader's step depends on the others only through the system accounts and ADL's fills at the "
    "bankrupt account's price (a payer served after others closing at the same gap, the fund's own deleveraging "
    "before the turns too); what the queue and the book leave of a bankrupt position is the fund's at that price "
    "(its takeover)"
)


def fills_only(policy: Policy) -> str:
    """What an all-N verdict of :func:`payer_argument` on ``policy`` assumes."""
    return ADL_FILLS_OR_FUND if takes_over(policy) else ADL_FILLS_ONLY


#: the symbolic equity a bankrupt account had before the move (the charge lemma's ``e₀``)
BEFORE = "payer.equity_before"


def _move(book: Book, ref: Any = None) -> tuple[Any, Any, Any]:
    """(M₀, d, |d|): the mark before the event, the move and its size, read off a settled market.
    ``ref``: a reference price read in M₀'s place (``solver.ghost_step``: the ghost price P, the
    move since the story's first mark)."""
    m0 = book.market.previous_mark_quote if ref is None else ref
    d = book.market.mark_quote - m0
    return m0, d, z3.If(d >= 0, d, -d)


def bankrupt_premise(policy: Policy, book: Book, name: str, ref: Any = None) -> Any:
    """What the engine guarantees of an account ``resolve`` runs for, in a sweep after one mark move
    (the charge lemma's premise): it is bankrupt at the liquidation's execution price, and either at
    or above zero at mark (a winner, which no ADL runs for but a fund's drawdown) or settled from a
    margin-meeting start, its equity at least ``e₀`` plus its move, ``e₀ ≥ 0`` and ``e₀ × 10⁶ ≥ f ×
    |S| × M₀`` with ``f`` the fee to close its bankruptcy price includes (:func:`floor_lemma`).
    ``ref``: M₀ read as that price (:func:`_move`)."""
    m0, d, _ = _move(book, ref)
    account = book.account(name)
    e, size = equity(policy.margin, account), account.size_lots
    before = z3.Int(BEFORE)
    fee = fee_to_close_rate(policy)
    settled = z3.And(e >= before + size * d, before >= 0, before * PPM >= fee * abs_(size) * m0)
    resolved = e - abs_(size) * slip_per_lot(policy.liquidation, book.market.mark_quote) < 0
    return z3.And(resolved, z3.Or(e >= 0, settled))


def _served(ctx: Ctx, payer: str) -> Any:
    """The lots the queue took from ``payer`` (its ``AdlFill``, where the guard holds)."""
    fills = [g for g in ctx.outcomes if isinstance(g.item, AdlFill) and g.item.winner == payer]
    return sum((z3.If(g.guard, g.item.lots, 0) for g in fills), z3.IntVal(0)), fills


def _paid(ctx: Ctx, payer: str, bankrupt: str) -> Any:
    """What ``payer`` paid ``bankrupt`` in ADL entries (per fill: its share of the deficit)."""
    entries = [g for g in ctx.entries if g.item.reason is Reason.ADL and g.item.source == payer]
    return sum(
        (z3.If(g.guard, g.item.amount_quote, 0) for g in entries if g.item.destination == bankrupt), z3.IntVal(0)
    )


def _gap_reads_no_payer(book: Book, fills: list[Any], bankrupt: str, fail: Callable[[str], None]) -> None:
    """Every fill's gap per lot is one term of the bankrupt account's, the market's and the system
    accounts' numbers (what the fund paid in first): no payer's, so a payer served after others, on
    a book of any N, closes at the same gap."""
    payers = tuple(f"s0.{a.name}." for a in book.traders if a.name != bankrupt)
    for g in fills:
        read = [str(x) for x in integer_atoms(z3.IntVal(0) + g.item.gap_per_lot_quote)]
        foreign = [x for x in read if x.startswith(payers)]
        if foreign:
            fail(f"ADL's gap per lot reads {foreign[0]}: a fill's price depends on a payer's numbers")


@attrs.frozen
class Charge:
    """The charge lemma's question for one bankrupt account and one payer: the engine's ``resolve``
    for ``bankrupt`` on a two-trader book whose every number is free (``book``), and what it reads
    off the payer (step 3 of the module docstring). Each formula is over ``book``'s variables and
    :data:`BEFORE` only, so an instance on other terms (``solver.payer_facts``) is a substitution."""

    book: Book
    bankrupt: str
    payer: str
    premise: tuple[Any, ...]
    #: the payer's position shrinks toward zero by ``lots``, its cash by ``paid``, nothing else moves
    fill: Any
    #: per position: the gap per lot is within ``[0, |ΔM|]`` (0 off the winning side); per fill: what
    #: the first fill pays is within ``[0, lots·|ΔM|]``
    bound: Any
    lots: Any
    #: the gap per lot every fill closes at (None per fill, or where the queue records no fill)
    gap: Any
    move: Any
    size: Any
    per_fill: bool
    fills: tuple[Any, ...]
    #: the move ΔM itself (``move`` is its size)
    change: Any = None
    #: the payer's account before and after the fill (its cash, for :data:`KEPT_SLACK`)
    cash: tuple[Any, Any] | None = None
    #: the payer's position after the fill
    after_size: Any = None


def charge_question(policy: Policy, bankrupt: str = "alice", payer: str = "bob", ref: Any = None) -> Charge:
    """The charge lemma's question for ``bankrupt`` and ``payer`` on a fresh two-trader book.
    ``ref``: the move read from that price instead of the mark before the event (a free term the
    engine's ``resolve`` does not read: ``solver.ghost_step``, the ghost price P)."""
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    market = book.market
    start = market.previous_mark_quote if ref is None else ref
    premise = (market.mark_quote >= 1, start >= 1, bankrupt_premise(policy, book, bankrupt, ref))
    ctx = resolve(policy, Ctx(book), bankrupt)
    _, d, move = _move(book, ref)
    before, after = book.account(payer), ctx.book.account(payer)
    q, fills = _served(ctx, payer)
    s = before.size_lots
    kept = [
        after.spot_quote == before.spot_quote,
        after.debt_quote == before.debt_quote,
        after.principal_quote == before.principal_quote,
        after.withdrawn_quote == before.withdrawn_quote,
    ]
    per_fill = rounds_per_fill(ctx, policy.adl)
    gap = None if per_fill or not fills else fills[0].item.gap_per_lot_quote
    paid = _paid(ctx, payer, bankrupt) if per_fill else q * (0 if gap is None else gap)
    fill = z3.And(
        q >= 0,
        q <= abs_(s),
        after.size_lots == z3.If(s > 0, s - q, s + q),
        after.cash_quote == before.cash_quote - paid,
        *kept,
        z3.Implies(s * d < 0, q == 0),
    )
    if per_fill:
        bound = z3.And(paid >= 0, paid <= q * move, z3.Implies(s * d <= 0, paid == 0))
    else:
        bound = z3.Implies(q > 0, z3.And(gap >= 0, gap <= move, z3.Implies(s * d <= 0, gap == 0)))
    cash = (before.cash_quote, after.cash_quote)
    return Charge(
        book, bankrupt, payer, premise, fill, bound, q, gap, move, s, per_fill, tuple(fills), d, cash, after.size_lots
    )


def takes_over(policy: Policy) -> bool:
    """The fund is the one pool that holds what it takes over, and it takes over what ADL leaves
    (``rules.bankruptcy.fund_takes_over``, BitMEX): a trader's ADL is then over its whole position
    (``bankruptcy.spread_over``), and the fund's own deleveraging before the turns is a charge on the
    traders like a trader's (:func:`pool_charge_question`)."""
    return fund_holds(policy.liquidation) and pools_holding(policy.liquidation) == (Role.INSURANCE_FUND,)


#: the fund's equity before the move, ``c₀``, in the pool charge lemma's premise ``e ≥ c₀ + S·d``; free
#: since session 23 (a fund below zero after a takeover included), so that conjunct binds nothing
#: and the lemma holds from any fund: the fund's own deleveraging spreads at most its lots' loss in
#: the move (``rules.pool_bankruptcy``), whatever it owed before the move
FUND_BEFORE = "payer.fund_before"


def pool_charge_question(policy: Policy, payer: str = "bob") -> Charge:
    """The charge lemma for the fund's own deleveraging before the turns (``before_turns``:
    ``pool_bankruptcy.deleverage_pools``, then the fund's unwind into the book), on a fresh two-trader
    book: from any fund (its settled equity at least ``c₀`` plus its move, ``c₀`` free: below zero after
    a takeover included), ``payer``'s position shrinks toward zero by the lots it serves, its cash by
    ``q·g`` with ``0 ≤ g ≤ |ΔM|`` (0 off the winning side), and nothing else of it changes. The fund
    is deleveraged only where its lots lost in the move, ``L = −S·ΔM > 0``, for ``min(D, L)``: a gap of
    ``⌈min(D, L) / |S|⌉ ≤ |ΔM|`` (``rules.pool_bankruptcy``, session 23; before it the lemma needed
    ``c₀ ≥ 0``, and a fund below zero after a takeover handed its whole deficit on, beyond the move)."""
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    market = book.market
    fund = book.role(Role.INSURANCE_FUND)
    _, d, move = _move(book)
    c0 = z3.Int(FUND_BEFORE)
    premise = (
        market.mark_quote >= 1,
        market.previous_mark_quote >= 1,
        equity(policy.margin, fund) >= c0 + fund.size_lots * d,
    )
    ctx = before_turns(policy, Ctx(book))
    before, after = book.account(payer), ctx.book.account(payer)
    q, fills = _served(ctx, payer)
    s = before.size_lots
    gap = fills[0].item.gap_per_lot_quote if fills else None
    paid = q * (0 if gap is None else gap)
    fill = z3.And(
        q >= 0,
        q <= abs_(s),
        after.size_lots == z3.If(s > 0, s - q, s + q),
        after.cash_quote == before.cash_quote - paid,
        after.spot_quote == before.spot_quote,
        after.debt_quote == before.debt_quote,
        after.principal_quote == before.principal_quote,
        after.withdrawn_quote == before.withdrawn_quote,
        z3.Implies(s * d < 0, q == 0),
    )
    bound = z3.Implies(q > 0, z3.And(gap >= 0, gap <= move, z3.Implies(s * d <= 0, gap == 0)))
    cash = (before.cash_quote, after.cash_quote)
    return Charge(
        book, fund.name, payer, premise, fill, bound, q, gap, move, s, False, tuple(fills), d, cash, after.size_lots
    )


def pool_charge_lemma(
    policy: Policy, valid: Callable[[str, list[Any], Any], str], fail: Callable[[str], None]
) -> list[str]:
    """The fund's own deleveraging before the turns charges each trader within the charge lemma
    (:func:`pool_charge_question`, both traders of the two-trader book), so the payer's contract
    starts from settlement and counts it among the charges before its turn."""
    lemmas = []
    for payer in ("alice", "bob"):
        charge = pool_charge_question(policy, payer)
        if not charge.fills:
            fail("the fund's own deleveraging records no fill for a trader")
        _gap_reads_no_payer(charge.book, list(charge.fills), charge.bankrupt, fail)
        premise = list(charge.premise)
        lemmas.append(
            valid(
                f"the fund's deleveraging charges {payer} within the move", premise, z3.And(charge.fill, charge.bound)
            )
        )
    return [
        "the fund's charge (z3, the engine's before_turns, two traders, every number free): from any fund (below "
        "zero included), its own deleveraging shrinks a trader's position toward zero by the lots it serves and takes at most "
        "those lots times the move of its cash (nothing off the winning side); its gap reads no payer's numbers",
        *lemmas,
    ]


#: the arithmetic step of the charge lemma, over free integers: a gap within the move costs a payer
#: at most its lots times the move, and lots within its position at most its position times the move
ARITHMETIC = "payer's charge: q·g ≤ q·|ΔM| for 0 ≤ g ≤ |ΔM|, q ≥ 0"
WITHIN_POSITION = "payer's charge: q·|ΔM| ≤ |s|·|ΔM| for 0 ≤ q ≤ |s|, |ΔM| ≥ 0"
#: what settlement paid a payer on the winning side, in the terms the two steps above bound its
#: charge by: ``|s|·|ΔM|`` is its settled gain ``s·ΔM`` (docs/solver-notes.md#the-payers-settled-gain)
SETTLED_GAIN = "payer's gain: |s|·|ΔM| = s·ΔM where s·ΔM ≥ 0"
#: a fill within the charge lemma keeps the payer's slack, its cash less its open lots' settled gain
KEPT_SLACK = "payer's slack: c' − s'·ΔM ≥ c − s·ΔM for a fill of q lots at a gap within the move"


def arithmetic(which: str = ARITHMETIC) -> tuple[tuple[Any, ...], Any, tuple[Any, ...]]:
    """(premise, claim, variables) of one arithmetic step, over free integers: (lots, gap or size,
    move) for the charge's two steps, (size, ΔM) for the settled gain (``|ΔM|`` written as
    ``_move`` writes it, so an instance names the charge's own term)."""
    g, n, m = z3.Ints("payer.gap payer.lots payer.move")
    if which == ARITHMETIC:
        return (g >= 0, g <= m, n >= 0), n * g <= n * m, (n, g, m)
    if which == SETTLED_GAIN:
        s, d = z3.Ints("payer.size payer.change")
        return (s * d >= 0,), abs_(s) * z3.If(d >= 0, d, -d) == s * d, (s, d)
    if which == KEPT_SLACK:  # the charge's fill and bound, as charge_question writes them
        c, c1, s, s1, d = z3.Ints("payer.cash payer.cash_after payer.size payer.size_after payer.change")
        move = z3.If(d >= 0, d, -d)
        premise = (
            n >= 0,
            n <= abs_(s),
            s1 == z3.If(s > 0, s - n, s + n),
            c1 == c - n * g,
            z3.Implies(s * d < 0, n == 0),
            z3.Implies(n > 0, z3.And(g >= 0, g <= move, z3.Implies(s * d <= 0, g == 0))),
        )
        return premise, c1 - s1 * d >= c - s * d, (c, c1, s, s1, n, g, d)
    s = z3.Int("payer.size")
    return (n >= 0, n <= abs_(s), m >= 0), n * m <= abs_(s) * m, (n, s, m)


def charge_lemma(policy: Policy, valid: Callable[[str, list[Any], Any], str], fail: Callable[[str], None]) -> list[str]:
    """Step 3 of the module docstring, on the engine's ``resolve`` (the waterfall a turn runs) for
    alice on a two-trader book, bob the payer, every number free."""
    charge = charge_question(policy)
    premise = list(charge.premise)
    lemmas = [
        valid(
            "payer's charge: a fill shrinks the payer's position toward zero and takes only its cash",
            premise,
            charge.fill,
        )
    ]
    if charge.per_fill:
        lemmas.append(
            valid("payer's charge: its first fill pays at most its lots times the move", premise, charge.bound)
        )
        lemmas.append(_ratio_lemma(valid))
    else:
        if not charge.fills:
            fail("ADL's queue records no fill for the payer")
        _gap_reads_no_payer(charge.book, list(charge.fills), charge.bankrupt, fail)
        lemmas.append(
            valid("payer's charge: the bankrupt account's gap per lot is at most the move", premise, charge.bound)
        )
        arith_premise, arith_claim, _ = arithmetic()
        lemmas.append(valid(ARITHMETIC, list(arith_premise), arith_claim))
    return [
        "charge (z3, the engine's resolve, two traders, every number free): from a bankrupt account that met "
        "its margin before the move, a payer's position shrinks toward zero by the lots it serves, its cash by "
        "at most those lots times the move (nothing off the winning side), and nothing else of it changes; "
        "a trader on the losing side is not served"
        + (
            "; per fill, each share of what is left is at most its lots times the move and leaves no more per lot"
            if charge.per_fill
            else "; the gap per lot reads no payer's numbers (only the bankrupt account, the market and what the fund paid in), so every fill of any N has it"
        ),
        *lemmas,
    ]


def _ratio_lemma(valid: Callable[[str, list[Any], Any], str]) -> str:
    """dYdX's per-fill share (``adl.fill_gap``): with the deficit left per lot at most the first's,
    ``D·L₀ ≤ D₀·L``, and the first at most the move, ``D₀ ≤ L₀·|ΔM|``, a fill of ``q ≤ L`` lots pays at
    most ``q·|ΔM|`` and leaves ``(D − paid)·L₀ ≤ D₀·(L − q)``: whatever fills came before, each pays
    at most its lots times the move."""
    d0, l0, d, n, q, move = z3.Ints("ratio.first_deficit ratio.first_lots ratio.deficit ratio.lots ratio.q ratio.move")
    paid = fill_gap(d, n, q)
    premise = [l0 > 0, n > 0, n <= l0, q >= 0, q <= n, d >= 0, d0 >= 0, d * l0 <= d0 * n, d0 <= l0 * move, move >= 0]
    claim = z3.And(paid >= 0, paid <= q * move, (d - paid) * l0 <= d0 * (n - q))
    return valid("payer's charge per fill: each fill's share pays at most its lots times the move", premise, claim)


#: a trader's own assumptions on a one-trader book, as a lemma's premise (``Assumed``): by default
#: the starting book's (``book_assumptions`` at the bounds' start margin, the value bounds with them)
Assumed = Callable[[Policy, Book, Bounds], list[Any]]


def starting(policy: Policy, book: Book, bounds: Bounds) -> list[Any]:
    """The default :data:`Assumed`: every conjunct of the starting book's assumptions."""
    return [c for a in book_assumptions(policy, book, bounds) for c in _conjuncts(a.holds)]


def floor_question(
    policy: Policy, start_margin: str = "initial", assumed: Assumed = starting
) -> tuple[Book, list[Any], Any]:
    """Step 4's question on a fresh one-trader book: (book, the trader's own assumptions, the floor).
    ``start_margin``: the margin the trader starts with (``Bounds.start_margin``; "solvent" where
    the question's book is a later step's, ``solver.induction``); ``assumed``: what of it is assumed."""
    one = Bounds(accounts=1, events=1, start_margin=start_margin)
    book, _ = symbolic_book(one)
    [name] = [a.name for a in book.traders]
    own = (f"s0.{name}.", *(f"s0.{m.name}." for m in book.markets))
    premise = [c for c in assumed(policy, book, one) if _reads_only(c, own)]
    account = book.account(name)
    e = equity(policy.margin, account)
    fee = fee_to_close_rate(policy)
    claim = z3.And(e >= 0, e * PPM >= fee * abs_(account.size_lots) * book.market.mark_quote)
    return book, premise, claim


FLOOR = "margin floor: a trader meeting its margin holds its fee to close and is not below zero"


def floor_lemma(
    policy: Policy,
    valid: Callable[[str, list[Any], Any], str],
    start_margin: str = "initial",
    assumed: Assumed = starting,
) -> str:
    """Step 4: a trader that meets the starting book's margin (its own assumptions) has equity ≥ 0
    and ``e₀ × 10⁶ ≥ f × |S| × M₀``: the fee to close its bankruptcy price includes is inside its
    margin."""
    _, premise, claim = floor_question(policy, start_margin, assumed)
    return valid(FLOOR, premise, claim)


def _charged(ctx: Ctx, name: str, prefix: str, d: Any, move: Any, free: bool = False) -> tuple[Ctx, Any]:
    """``ctx`` with ``name`` charged any amount the charge lemma allows: its position shrunk toward
    zero by ``r`` lots, its cash by ``c ≤ r·|ΔM|`` (nothing where it is not on the winning side, and
    no change at all on the losing side), its cost basis and clawback window any value. ``free``:
    no bound on ``c`` (``solver.start_mark``'s engine lemmas, which state what they need of the
    charges themselves). Returns the context and the constraint."""
    before = ctx.account(name)
    size, cost, cash, window = z3.Ints(f"{prefix}size {prefix}cost {prefix}cash {prefix}window")
    after = attrs.evolve(before, size_lots=size, cost_quote=cost, cash_quote=cash, window_pnl_quote=window)
    s = before.size_lots
    r = abs_(s) - abs_(size)
    c = before.cash_quote - cash
    bound = [] if free else [c <= r * move]
    constraint = z3.And(
        s * size >= 0,
        r >= 0,
        c >= 0,
        *bound,
        z3.Implies(s * d <= 0, c == 0),
        z3.Implies(s * d < 0, r == 0),
    )
    accounts = tuple(after if a.name == name else a for a in ctx.book.accounts)
    return ctx.with_book(ctx.book.with_balances(accounts)), constraint


def _rest_with_vault(ctx: Ctx, name: str) -> Any:
    """:func:`_rest_of_market` where the backstop vault holds positions and ADL closes at the previous
    mark (``solver.payer_previous``): the book stands for every other trader and the book, and it
    and the vault together hold at least ``name``'s lots on the other side (open interest balanced
    among traders, book and vault), the vault worth ≥ 0 at the previous mark (kept through the
    sweep: ``sweep_invariant.vault_kept``). The lots the vault holds are closed to it at the
    mark, so what they bring the bankrupt account short of the previous mark is the vault's to pay,
    out of the worth it holds."""
    size = ctx.account(name).size_lots
    book = ctx.account(ctx.system(Role.LIQUIDITY)).size_lots
    vault = ctx.account(ctx.system(Role.BACKSTOP_VAULT))
    held = vault.size_lots
    m = ctx.market
    worth = vault.cash_quote - held * (m.mark_quote - m.previous_mark_quote)  # sweep_invariant.worth
    opposite = z3.If(size * held < 0, abs_(held), 0)
    return z3.And(size * book <= 0, abs_(book) + opposite >= abs_(size), worth >= 0)


def _rest_of_market(ctx: Ctx, name: str) -> Any:
    """The book's liquidity, fresh at ``name``'s turn, standing for the rest of the market (every
    other trader and the book): it holds at least ``name``'s lots on the other side. With open
    interest balanced (every long has a short; proved for every N) and only traders and the book
    holding positions, the opposite side holds that many, and ADL's queue (every opposite trader,
    eligible by its side alone) and then the book take them all, each lot at the bankrupt account's
    price, as the book alone would."""
    size = ctx.account(name).size_lots
    book = ctx.account(ctx.system(Role.LIQUIDITY)).size_lots
    return z3.And(size * book <= 0, abs_(book) >= abs_(size))


#: the cases the payer's contract is asked in, by what the trader's own turn did (each a partition of
#: every book: :func:`turn_cases`)
RESOLVED, LIQUIDATED_ONLY, NOT_LIQUIDATED = "resolved", "liquidated, not resolved", "not liquidated"


def turn_cases(outcomes: Any, name: str) -> list[tuple[str, list[Any]]]:
    """The cases the payer's contract is asked in: ``(the name's suffix, the case's conditions)``,
    read off the guards of the ``Liquidated`` and ``Bankrupt`` outcomes ``name``'s turn noted (the
    engine's own conditions, not a copy): resolved; liquidated and not resolved; neither. The three
    cover every book (``b ∨ (¬b ∧ l) ∨ (¬b ∧ ¬l)`` is a tautology), so the contract holds when each
    case does. Asked whole, Bybit's contract cost z3 from 1.0M to 7.1M units as the order of its
    terms moved (8.3M after the direct check's question in ``prove``, past what a 10M question
    leaves it); by these cases 0.5-1.6M over the same orders
    (docs/solver-notes.md#the-payers-contract-after-a140d5a-cheaper-session-28). A guard the engine
    decided (a Python bool) splits nothing; a turn that notes neither is asked whole (one case, no
    condition)."""

    def guard(kind: type) -> Any:
        found = [g.guard for g in outcomes if isinstance(g.item, kind) and g.item.account == name]
        return found[0] if found and z3.is_expr(found[0]) else None

    bankrupt, liquidated = guard(Bankrupt), guard(Liquidated)
    if bankrupt is None and liquidated is None:
        return [("", [])]
    if bankrupt is None:
        return [(f" ({LIQUIDATED_ONLY})", [liquidated]), (f" ({NOT_LIQUIDATED})", [z3.Not(liquidated)])]
    if liquidated is None:
        return [(f" ({RESOLVED})", [bankrupt]), (" (not resolved)", [z3.Not(bankrupt)])]
    return [
        (f" ({RESOLVED})", [bankrupt]),
        (f" ({LIQUIDATED_ONLY})", [z3.Not(bankrupt), liquidated]),
        (f" ({NOT_LIQUIDATED})", [z3.Not(bankrupt), z3.Not(liquidated)]),
    ]


def payer_contract(
    policy: Policy,
    invariant: Invariant,
    label: str,
    event: Any,
    field_bounds: Any,
    valid: Callable[[str, list[Any], Any], str],
    start_margin: str = "initial",
    assumed: Assumed = starting,
    previous_mark: bool = False,
    ghost: Any = None,
) -> str:
    """Step 5: one trader, charged within the charge lemma before and after its own turn (the system
    accounts fresh at its turn): the claim holds for it from its own assumptions (its margin
    ``start_margin``, ``assumed`` of it). ``invariant`` may be a premise to keep (``solver.induction``).
    ``previous_mark`` (``solver.payer_previous``): from the settled book without the pools' own
    deleveraging (it charges the trader within the first charge), the vault at its turn fresh but
    worth ≥ 0 at the previous mark and holding with the book the lots opposite (:func:`_rest_with_vault`).
    ``ghost`` (``solver.ghost_step``): ``(P, premise)``, the charges read against the price P (each
    within its lots times ``|M − P|``, nothing off the winning side of P) and ``premise(book)`` the
    trader's conjuncts that read P, added to its own. Asked in the cases of the trader's turn
    (:func:`turn_cases`) where the queue and the book take a bankrupt position at its price; whole
    at the previous mark or where the fund takes over."""
    one = Bounds(accounts=1, events=1, start_margin=start_margin)
    book, _ = symbolic_book(one)
    [name] = [a.name for a in book.traders]
    pools = takes_over(policy)
    # where the fund's own deleveraging charges traders (:func:`pool_charge_lemma`), the charge before
    # the turn stands for it too: the contract starts from settlement
    ctx = settle(policy, opening(policy, book), event) if previous_mark or pools else _settled(policy, book, event)
    _, d, move = _move(ctx.book, None if ghost is None else ghost[0])
    ctx, first = _charged(ctx, name, "payer.before.", d, move)
    ctx = _with_fresh_system(ctx)
    # where the fund takes over what the queue and the book leave, the bankrupt account ends at zero
    # whoever holds the lots opposite: nothing is assumed of them
    market = _rest_with_vault(ctx, name) if previous_mark else z3.BoolVal(True) if pools else _rest_of_market(ctx, name)
    noted = len(ctx.outcomes)
    ctx = liquidation_turn(policy, ctx, name)
    # by the cases of its turn where the queue and the book take the position at the bankruptcy
    # price; whole where a pool takes over or closes at the previous mark, where the whole question
    # was no harder than its cases (:func:`turn_cases`): its terms, and so every later query, as before
    cases = [("", [])] if previous_mark or pools else turn_cases(ctx.outcomes[noted:], name)
    ctx, then = _charged(ctx, name, "payer.after.", d, move)
    ctx = closing(policy, after_sweep(policy, ctx))
    claim = invariant.holds(StepView(policy, book, event, ctx.book, ctx.entries, ctx.outcomes))
    own = (f"s0.{name}.", *(f"s0.{m.name}." for m in book.markets), "e1.")
    premise = assumed(policy, book, one)
    premise += _conjuncts(field_bounds) + [c for r in requirements(policy, book, event) for c in _conjuncts(r.holds)]
    premise = [c for c in premise if _reads_only(c, own)] + [first, then, market]
    title = f"{invariant.id} on {label}: holds for one trader charged within the charge lemma before and after its turn"
    if ghost is not None:
        premise += list(ghost[1](book))
        title += " (the charges read against the ghost price P)"
    for case, condition in cases:
        valid(f"{title}{case}", [*premise, *condition], claim)
    return (
        f"payer's contract ({label}): {invariant.id} holds for {name} charged by any ADL fills before and after "
        "its own turn, from its own assumptions, for every balance and position of the system accounts"
    )


def _adl_only(policy: Policy, book: Book, label: str, event: Any, fail: Callable[[str], None]) -> str:
    """Step 2: each trader's turn on ``book`` (two traders, the system accounts fresh) writes nothing
    naming another trader but ADL fills, and leaves the market and the book's totals."""
    traders = frozenset(a.name for a in book.traders)
    for t in sorted(traders):
        ctx = _with_fresh_system(_settled(policy, book, event))
        start = ctx.book
        n, m, f = len(ctx.entries), len(ctx.outcomes), len(ctx.fills)
        ctx = liquidation_turn(policy, ctx, t)
        for g in _added(ctx, n, m, f):
            others = _named(g.item, traders) - {t}
            if not others:
                continue
            adl = isinstance(g.item, AdlFill | BookDeleveraged) or getattr(g.item, "reason", None) is Reason.ADL
            if not adl:
                what = getattr(getattr(g.item, "reason", None), "value", type(g.item).__name__)
                fail(f"{label}: {t}'s turn records {what} naming {', '.join(sorted(others))}: not an ADL fill")
        if not _same_totals(start, ctx.book):
            fail(f"{label}: {t}'s turn changes the market or the book's totals, which later turns read")
    return f"ADL only ({label}): each turn writes nothing naming another trader but ADL fills, whatever the system accounts hold"


def applies(
    policy: Policy, whole: bool = True, previous_mark: bool = False, ghost: bool = False, vault: bool = False
) -> str | None:
    """Why the payer's argument does not apply to ``policy`` (None when it does). ``whole=False``:
    every reason but the two that let the queue and the book leave part of a bankrupt position
    untaken (dYdX's overlap rule, pools holding positions the queue does not reach), for an argument
    that does not need the whole position taken (``solver.resolution_facts``' price, which gives a
    pool's own deleveraging a fact of its own). ``ghost``: every reason but dYdX's overlap rule, for
    an argument that proves no reachable candidate is skipped (the ghost invariant,
    docs/solver-notes.md#dydxs-payer-claims-session-21). ``vault``: the backstop vault's holdings are no bar
    (``solver.payer_previous``: the vault's worth at the previous mark, kept through the sweep,
    stands for the lots it holds opposite a bankrupt account)."""
    layer = policy.adl
    per_lot = policy.layer(SocializedLoss)
    if per_lot is not None and per_lot.over is Over.OPEN_INTEREST:
        return (
            "its socialized loss is shared per lot of open interest (losers too), not by profit, so no share is "
            "bounded by a gain"
            + ("; a payer it sinks below zero is resolved in turn (the cascade)" if per_lot.cascade else "")
        )
    if layer is None:
        return "the policy has no ADL layer"
    if layer.price is not AdlPrice.BANKRUPTCY and not (previous_mark and layer.price is AdlPrice.PREVIOUS_MARK):
        return f"its ADL closes winners at the {layer.price.value.replace('_', ' ')}, not the bankrupt account's price"
    others = [lay.kind for lay in policy.deficit if not isinstance(lay, (Adl, *SYSTEM_LAYERS))]
    if others:
        return f"its waterfall also charges traders through {', '.join(others)}"
    if policy.pnl_to_pool_adl is not None:
        return "its PnL-to-pool ADL after the sweep charges every winner"
    if layer.overlap_only and whole and not ghost:
        return (
            "its queue skips an offsetting account a fill would leave riskier (dYdX's overlap rule), so the queue "
            "and the book need not take a bankrupt account's whole position"
        )
    held = pools_holding(policy.liquidation) if whole else ()
    if vault:  # the backstop vault's lots: its worth at the previous mark carried (solver.payer_previous)
        held = tuple(r for r in held if r is not Role.BACKSTOP_VAULT)
    if takes_over(policy):
        # what the queue and the book leave of the position is the fund's (``bankruptcy.fund_takes_over``):
        # the bankrupt account ends at zero whoever takes its lots, and the gap is over the whole
        # position (``bankruptcy.spread_over``), so each fill is within the move
        # (docs/solver-notes.md#bitmexs-payer-claims-with-the-takeover-session-21)
        held = ()
    if held:
        return (
            f"its {' and '.join(r.value.replace('_', ' ') for r in held)} "
            f"{'hold' if len(held) > 1 else 'holds'} positions ADL's queue does not reach, "
            "so the queue and the book need not take a bankrupt account's whole position"
        )
    return None


def ghost_covers(policy: Policy, bounds: Bounds) -> bool:
    """Whether the payer's argument applies to ``policy`` within ``bounds`` once dYdX's overlap rule
    is covered by the ghost invariant (every position holder worth its initial margin at the mark
    the story started from, so no candidate a walk reaches is skipped: ``adl_claims``), and the
    overlap rule is the one reason it did not."""
    return (
        applies(policy) is not None
        and policy.adl is not None
        and policy.adl.overlap_only
        and applies(policy, ghost=True) is None
        and adl_claims.walks(policy)
        # the ghost's bounds (mark moves, an initial-margin start), one market, no isolated position,
        # no final settlement: where the ranking's argument on the walk holds
        and adl_claims.not_covered(policy, bounds, adl_claims.RANKING) is None
    )


def fits(policy: Policy, bounds: Bounds) -> bool:
    """Whether the payer's argument applies to ``policy`` within ``bounds`` (:func:`applies`, or
    :func:`ghost_covers`)."""
    return applies(policy) is None or ghost_covers(policy, bounds)


def _shares(policy: Policy, bounds: Bounds, record: Callable[[QueryStats], None]) -> str:
    """The share lemma's verdicts on ``policy``'s pro-rata layer, as the reason the payer's argument
    stops there: the per-payer lemma is decided, the composition over the sweep is built for ADL."""
    layer = share_layer(policy)
    said = []
    spent = 0
    for claim in share_claims(layer):
        if bounds.effort - spent <= 0:
            said.append(f"{SHARE_CLAIMS[claim]}: not asked (the effort was spent)")
            break
        lemma = share_check(policy, claim, bounds.effort - spent)  # the claims share the effort
        spent += lemma.stats.units
        record(lemma.stats)
        said.append(f"{lemma.claim}: {lemma.verdict.value}")
        if lemma.verdict is Verdict.REFUTED:
            said[-1] += f" ({lemma.detail}; replayed on the engine's {layer.kind})"
            break
    return (
        f"the payer's share lemma on {layer.kind} (z3, the engine's own layer function, any N's weights): "
        f"{'; '.join(said)}; the composition over the sweep's turns is built for ADL's fills, not this layer's shares"
    )


def payer_argument(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    valid: Callable[[str, list[Any], Any], str],
    fail: Callable[[str], None],
    record: Callable[[QueryStats], None] = lambda stats: None,
    assumed: Assumed = starting,
    ghost: bool | None = None,
    read_at: Callable[[], list[str]] | None = None,
) -> list[str]:
    """The lemmas of the module docstring's argument, or ``fail(reason)`` where the argument does not
    apply (the lemmas' own ``valid`` raises where one does not hold). On a policy whose pro-rata
    layer charges the payers, the reason carries its share lemma's verdicts (each query given to
    ``record``, so its units count). ``ghost``: whether dYdX's overlap rule is covered by the ghost
    invariant (default :func:`ghost_covers` of ``bounds``; ``solver.induction`` says it for its step,
    whose one-event bounds start from its premise, the ghost price across accounts in it). ``read_at``:
    the charge, the floor and the contract read against another price than the mark before the
    move, ``read_at()`` their lemmas (``solver.ghost_step``, the ghost price)."""
    if invariant.id not in PAYER_CLAIMS:
        fail(
            f"{invariant.id}: the payer's argument covers {', '.join(PAYER_CLAIMS)} (claims on each account after the step)"
        )
    # dYdX's overlap rule: covered by the ghost invariant, its lemmas asked first (solver.payer_ghost)
    ghost = ghost_covers(policy, bounds) if ghost is None else ghost
    why = None if ghost else applies(policy)
    if why is not None and share_layer(policy) is not None:
        fail(f"{invariant.id}: {_shares(policy, bounds, record)}")
    if why is not None:
        fail(f"{invariant.id}: the payer's argument covers ADL at the bankruptcy price: {why}")
    _, book, slot = _one_event_frame(invariant, bounds, fail, "payer's")
    variants = [(v.event, v.label) for v in slot.variants]
    for event, label in variants:
        if not isinstance(event, MarkPrice):
            fail(
                f"{invariant.id} on {label}: the payer's argument covers mark moves (funding rounds each payer up "
                "and each receiver down, so a winner's gain is not the bankrupt account's loss per lot)"
            )
    lemmas = payer_ghost.lemmas(policy, bounds, valid, fail) if ghost else []
    pools = takes_over(policy)  # the fund's own deleveraging before the turns charges traders
    for event, label in variants:
        lemmas.append(_decomposes(policy, book, label, event, fail, first_phase_charges=pools))
        lemmas.append(_adl_only(policy, book, label, event, fail))
    if read_at is not None:  # the charge, the floor and the contract against the ghost price
        return lemmas + read_at()
    if pools:
        lemmas += pool_charge_lemma(policy, valid, fail)
    lemmas += charge_lemma(policy, valid, fail)
    lemmas.append(floor_lemma(policy, valid, bounds.start_margin, assumed))
    for event, label in variants:
        lemmas.append(
            payer_contract(policy, invariant, label, event, slot.field_bounds, valid, bounds.start_margin, assumed)
        )
    lemmas.append(
        f"aggregate: a loser is never served, so it meets the charge lemma's premise at its turn; a winner is only "
        f"charged within it, so its equity stays at least its equity before the move; {invariant.id} is each "
        "trader's contract, for any N"
    )
    return lemmas


# --- the pro-rata layers: what each payer's share may take ---------------------------------


@attrs.frozen
class ShareLemma:
    """The payer's lemma of one pro-rata layer (``haircut_ratio``, ``clawback``, ``socialized_loss``
    over winners) on one policy: PROVED for every book of a bankrupt account and two payers (a trader
    and the book), REFUTED with the concrete book on which the engine's own layer function takes
    more than the claim allows (replayed), or UNKNOWN."""

    policy: str
    layer: str
    claim: str
    verdict: Verdict
    stats: QueryStats
    counterexample: Book | None = None
    detail: str = ""


#: what a payer's share may take, by layer: its profit over principal (``E − P``, which leaves it
#: its principal, and so equity at or above zero), and for a clawback first its profit in the window
SHARE_CLAIMS = {
    "window": "a payer's share is at most its profit in the clawback window",
    "principal": "a payer's share is at most its profit over principal, so it keeps its principal",
}
#: the deficit a pro-rata layer is asked to share (a free number in the share lemma)
DEFICIT = "payer.deficit"


def share_layer(policy: Policy) -> Any:
    """The policy's first pro-rata layer that weighs payers by profit (the share lemma's subject):
    a haircut, a clawback, or a socialized loss over winners; None where it has none."""
    for layer in policy.deficit:
        if isinstance(layer, HaircutRatio | Clawback):
            return layer
        if isinstance(layer, SocializedLoss) and layer.over is Over.WINNERS:
            return layer
    return None


def share_claims(layer: Any) -> tuple[str, ...]:
    """The share lemma's claims for ``layer``, weakest first (keys of :data:`SHARE_CLAIMS`)."""
    return ("window", "principal") if isinstance(layer, Clawback) else ("principal",)


def _charge_layer(policy: Policy, layer: Any, ctx: Ctx, bankrupt: str, remaining: Any) -> Ctx:
    """The engine's own function for ``layer``, called as ``rules.bankruptcy`` calls it."""
    if isinstance(layer, HaircutRatio):
        return haircut(ctx, policy.margin, policy.rounding, bankrupt, remaining)[0]
    if isinstance(layer, Clawback):
        return claw_back(ctx, policy.rounding, layer, bankrupt, remaining)[0]
    return socialize(ctx, policy.margin, policy.rounding, layer, bankrupt, remaining)[0]


def _positive(x: Any) -> Any:
    return z3.If(x > 0, x, 0) if isinstance(x, z3.ExprRef) else max(x, 0)


def _share_question(policy: Policy, layer: Any, book: Book, deficit: Any, claim: str) -> tuple[Any, Any, Any]:
    """(premise, claim, what bob paid) of the share lemma on ``book``: alice bankrupt with
    ``deficit`` left for the layer, bob and the book's liquidity paying."""
    ctx = _charge_layer(policy, layer, Ctx(book), "alice", deficit)
    paid: Any = 0
    for g in ctx.entries:
        if g.item.source == "bob" and g.item.reason in HAIRCUT_REASONS:
            paid = paid + (g.item.amount_quote if g.guard is True else z3.If(g.guard, g.item.amount_quote, 0))
    bob = book.account("bob")
    cap = bob.window_pnl_quote if claim == "window" else equity(policy.margin, bob) - bob.principal_quote
    premise = [deficit >= 0, *(a.principal_quote >= 0 for a in book.accounts)]
    return premise, and_(paid >= 0, paid <= _positive(cap)), paid


def share_check(policy: Policy, claim: str = "principal", units: int = 10_000_000) -> ShareLemma:
    """The share lemma (``claim``, a key of :data:`SHARE_CLAIMS`) of ``policy``'s pro-rata layer,
    on the engine's own layer function: a bankrupt account and two payers, bob and the book, every
    number free, so the total weight ranges over every value at least bob's (the share of a book of
    any N: a payer's share reads only the deficit, its weight and the total). A model is decoded
    into a concrete book and deficit and replayed on the concrete function; one it does not confirm
    is a :class:`~solvent.solver.verdicts.SpuriousCounterexample`."""
    layer = share_layer(policy)
    if layer is None:
        raise ValueError(f"{policy.name} has no pro-rata layer that weighs payers by profit")
    started = time.perf_counter()
    book, variables = symbolic_book(Bounds(accounts=2, effort=units))
    deficit = z3.Int(DEFICIT)
    premise, holds, _ = _share_question(policy, layer, book, deficit, claim)
    answer = wall.check([*premise, z3.Not(holds)], [*variables, deficit], units, safety_net_s(units))
    stats = QueryStats(f"share lemma ({layer.kind}, {claim})", answer.result, time.perf_counter() - started)
    stats = attrs.evolve(stats, units=answer.units)
    said = SHARE_CLAIMS[claim]
    if answer.result == "unsat":
        return ShareLemma(policy.name, layer.kind, said, Verdict.PROVED, stats)
    if answer.result != "sat":
        return ShareLemma(policy.name, layer.kind, said, Verdict.UNKNOWN, stats, detail=answer.reason)
    evaluate = wall.evaluator(answer.values, [*variables, deficit])
    concrete = decode(book, (), evaluate).book
    owed = z3.simplify(evaluate(deficit)).as_long()
    _, replayed, paid = _share_question(policy, layer, concrete, owed, claim)
    if replayed is not False:
        raise SpuriousCounterexample(
            f"z3 found a book on which {policy.name}'s {layer.kind} takes more than a payer's share, and the "
            f"concrete engine does not confirm it\nbook: {Story(concrete, ())!r}, deficit {owed}"
        )
    bob = concrete.account("bob")
    detail = (
        f"bob pays {paid} of a deficit of {owed} with equity {equity(policy.margin, bob)}, "
        f"principal {bob.principal_quote} and window PnL {bob.window_pnl_quote}"
    )
    return ShareLemma(policy.name, layer.kind, said, Verdict.REFUTED, stats, concrete, detail)


__all__ = [
    "ADL_FILLS_ONLY",
    "ADL_FILLS_OR_FUND",
    "SHARE_CLAIMS",
    "ShareLemma",
    "PAYER_CLAIMS",
    "ARITHMETIC",
    "FLOOR",
    "SETTLED_GAIN",
    "WITHIN_POSITION",
    "Charge",
    "applies",
    "arithmetic",
    "bankrupt_premise",
    "charge_lemma",
    "charge_question",
    "floor_lemma",
    "floor_question",
    "payer_argument",
    "payer_contract",
    "turn_cases",
    "share_check",
    "share_claims",
    "share_layer",
]

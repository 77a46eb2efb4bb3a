"""The pro-rata split's lemma: proved once on the engine's own split, then used by every question.

A socialized loss, a haircut or a clawback spreads a deficit ``R`` over payers of weights ``w_i``
with ``rules.pro_rata.charge``: each pays ``⌈T·w_i / W⌉`` (``W = Σ w_i``, ``T = R`` where
``W > 0``, else 0) and, where the policy rounds shares up (``rounding.pro_rata =
"up_dust_to_insurance_fund"``), the bankrupt account passes the excess ``Σ⌈T·w_i / W⌉ − T`` to
the insurance fund as rounding dust. That the dust is never negative (the shares rounded up cover
the target) is true for every integer ``R`` and every weights, whatever their signs: a ceiling is
at least its quotient, and the quotients sum to ``T·W / W = T``.

Inside a whole question the dust of every bankruptcy of the sweep and of its cascade is an
obligation of the non-negative-transfers claim (Drift at N = 4: 64 of them, each a sum of
quotients that share a divisor), and z3 re-derives the argument for each one from the purified
products: the side facts of a split grow with the square of the products sharing its divisor,
and the question ran out before it was built (docs/solver-notes.md#the-pro-rata-split-as-a-proved-lemma).
Here the lemma is asked once per (rounding, number of payers, capped), on ``charge`` itself
with every number a free variable (:func:`split_lemma`); a transfer of the question is then
discharged when its amount *is* the lemma's dust with the question's own terms put for the free
numbers (:func:`dust_instance`: the term rebuilt by substitution is the same z3 term, so the
lemma's proof covers it). The same kind of step as ``solver.frames``' proved frame equations: a
fact proved on the engine's functions, never assumed; a lemma that is not proved (refuted or
undecided) discharges nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import attrs
import z3

from solvent.rules.ledger import Ctx, InternalError, Reason
from solvent.rules.rounding import ProRata, RoundingRule, SideIndex
from solvent.rules.side_index import charge_k_up
from solvent.solver import dust_lemma, effort, wall
from solvent.solver.bounds import Bounds
from solvent.solver.exact_split_lemma import ExactSplits, charge_on_free_book
from solvent.solver.linearize import Linearizer
from solvent.solver.story import symbolic_book
from solvent.solver.verdicts import QueryStats, SpuriousCounterexample, Verdict

#: units the lemma gets (its own budget, not a question's: its verdict never depends on what
#: ran before; a question that uses it is charged :attr:`SplitLemma.units` each time)
LEMMA_UNITS = 2_000_000
#: the free numbers' names
REMAINING = "split.remaining"
WEIGHT = "split.w{}"
#: ... and the side index's (``side_dust``)
SIDE_REMAINING = "side.remaining"
SIDE_WEIGHT = "side.w{}"


@attrs.frozen
class SplitLemma:
    """``Σ⌈T·w_i / W⌉ − T ≥ 0`` for ``payers`` free weights and a free deficit: its verdict."""

    payers: int
    capped: bool
    verdict: Verdict
    stats: QueryStats
    #: on a refutation: (remaining, weights), and the concrete ``charge``'s refusal of its dust
    counterexample: tuple[int, tuple[int, ...]] | None = None
    detail: str = ""
    #: the side index's dust (``side_dust``: percolator Gen B's ``k_up``), not ``charge``'s
    side: bool = False

    @property
    def units(self) -> int:
        return self.stats.units


def _free(payers: int, side: bool = False) -> tuple[z3.ArithRef, list[z3.ArithRef]]:
    if side:
        return z3.Int(SIDE_REMAINING), [z3.Int(SIDE_WEIGHT.format(i)) for i in range(payers)]
    return z3.Int(REMAINING), [z3.Int(WEIGHT.format(i)) for i in range(payers)]


def split_dust(rounding: RoundingRule, remaining: Any, weights: list[Any], *, capped: bool) -> Any:
    """The rounding dust ``charge`` passes to the fund for ``remaining`` and ``weights`` (the
    engine's own function on a book of ``len(weights)`` payers and one bankrupt account)."""
    ctx, _ = charge_on_free_book(rounding, remaining, weights, capped=capped, reason=Reason.SOCIALIZED_LOSS)
    dust = [e.item.amount_quote for e in ctx.entries if e.item.reason is Reason.PRO_RATA_DUST]
    return dust[0] if dust else 0


def side_dust(remaining: Any, weights: list[Any]) -> Any:
    """The rounding dust ``side_index.charge_k_up`` passes to the fund for ``remaining`` and the
    opposing lots ``weights`` (the engine's own function on a book of ``len(weights)`` payers and
    one bankrupt account): ``Σ⌈w_i·ΔK / 10^6⌉ − T`` with ``ΔK = ⌈T·10^6 / OI⌉``, ``OI = Σ w_i``,
    ``T = R`` where ``OI > 0``, else 0. Never negative for any integers: each ceiling is at least
    ``w_i·ΔK / 10^6``, they sum to ``OI·ΔK / 10^6``, and ``OI·ΔK ≥ T·10^6``."""
    book, _ = symbolic_book(Bounds(accounts=len(weights) + 1, effort=1))
    bankrupt, *payers = [a.name for a in book.traders]
    ctx, _ = charge_k_up(Ctx(book), list(zip(payers, weights, strict=True)), bankrupt, remaining)
    dust = [e.item.amount_quote for e in ctx.entries if e.item.reason is Reason.PRO_RATA_DUST]
    return dust[0] if dust else 0


def _dust(rounding: RoundingRule, remaining: Any, weights: list[Any], capped: bool, side: bool) -> Any:
    return side_dust(remaining, weights) if side else split_dust(rounding, remaining, weights, capped=capped)


@lru_cache(maxsize=64)
def _verdict(rounding: RoundingRule, payers: int, capped: bool, side: bool = False) -> SplitLemma:
    """The lemma asked once per process per shape (it reads no policy field but the rounding):
    purified with the split's own side facts (``Linearizer``): PROVED when unsat for every integer
    deficit and weights. Otherwise a counterexample is looked for, exactly, where the engine's
    ``charge`` runs (deficit and weights at least 0), and replayed on the concrete ``charge``."""
    started = time.perf_counter()
    remaining, weights = _free(payers, side)
    dust = _dust(rounding, remaining, weights, capped, side)
    name = f"pro-rata split lemma ({payers} payers{', capped' if capped else ''}): the dust is never negative"
    if side:
        name = f"side index lemma (k_up, {payers} payers): the dust is never negative"
    if type(dust) is int:
        return SplitLemma(payers, capped, Verdict.PROVED, QueryStats(name, "unsat (no dust)", 0.0), side=side)
    # each phase in a forked child from its SMT-LIB text, so its units do not depend on what this
    # process asked before (docs/solver-notes.md#process-history)
    lin = Linearizer(prefix="split")
    (goal,) = lin.rewrite([dust < 0])
    lin.finish()
    safety = effort.safety_net_s(LEMMA_UNITS)
    purified = wall.check([goal, *lin.facts], [], LEMMA_UNITS, safety)
    spent, result = purified.units, f"{purified.result} (purified)"
    if purified.result == "unsat":
        stats = QueryStats(name, result, time.perf_counter() - started, units=spent)
        return SplitLemma(payers, capped, Verdict.PROVED, stats, side=side)
    exact = wall.check([dust < 0], [], LEMMA_UNITS, safety)
    spent, result = spent + exact.units, f"{result}, then {exact.result} (exact)"
    if exact.result == "unsat":
        stats = QueryStats(name, result, time.perf_counter() - started, units=spent)
        return SplitLemma(payers, capped, Verdict.PROVED, stats, side=side)
    # a counterexample is looked for where the engine's ``charge`` runs (a transfer is never
    # negative: the deficit and the weights at least 0), so that it replays on the concrete one
    domain = [remaining >= 0, *(w >= 0 for w in weights)]
    answer = wall.check([*domain, dust < 0], [remaining, *weights], LEMMA_UNITS, safety)
    spent, result = spent + answer.units, f"{result}, then {answer.result} (exact, deficit and weights ≥ 0)"
    stats = QueryStats(name, result, time.perf_counter() - started, units=spent)
    if answer.result != "sat":  # unsat in the domain only is not the lemma the questions use
        return SplitLemma(payers, capped, Verdict.UNKNOWN, stats, side=side)
    r = answer.values.get(str(remaining), 0)
    ws = tuple(answer.values.get(str(w), 0) for w in weights)
    refused = _replay(rounding, r, ws, capped, side)
    if refused is None:
        function = "rules.side_index.charge_k_up" if side else "rules.pro_rata.charge"
        raise SpuriousCounterexample(
            f"z3 found a negative pro-rata dust for remaining {r} and weights {ws} that the concrete "
            f"{function} does not confirm (it gives {_dust(rounding, r, list(ws), capped, side)})"
        )
    return SplitLemma(payers, capped, Verdict.REFUTED, stats, (r, ws), refused, side=side)


def _replay(
    rounding: RoundingRule, remaining: int, weights: tuple[int, ...], capped: bool, side: bool = False
) -> str | None:
    """The concrete ``charge`` (or ``charge_k_up``) on these numbers: the engine's refusal of a
    negative dust transfer (``InternalError``, as a whole question's replay reads it), or None
    where it pays one ≥ 0."""
    try:
        _dust(rounding, remaining, list(weights), capped, side)
    except InternalError as exc:
        if Reason.PRO_RATA_DUST.value in str(exc):
            return str(exc)
        raise
    return None


def split_lemma(rounding: RoundingRule, payers: int, *, capped: bool = False, side: bool = False) -> SplitLemma:
    """The lemma for this rounding, number of payers and cap (asked once per process, in a z3
    context of its own; the answer holds only integers and text); with ``side``, the side index's
    (``side_dust``: the rounding and the cap play no part).

    Asked as a question (``effort.question``: a fresh context, the caller's put back after, and
    its releases held until it is answered, ``solver.held_terms``), so its units are the same
    whoever asks it first and whatever releases the asker's other threads make meanwhile."""
    with effort.question():
        # its build steps on a meter of their own: a question pays the lemma's units (the same
        # whether this process asked it before or not), never the steps of its first asking
        with effort.building(effort.MAX_UNITS, counted=False):
            return _verdict(rounding, payers, capped, side)


def _shares(charged: z3.ExprRef) -> list[z3.ExprRef] | None:
    """The shares of ``0 + s_1 + … + s_k`` as ``sum_`` builds it (a left-nested sum from 0)."""
    out = []
    node = charged
    while z3.is_add(node) and node.num_args() == 2:
        out.append(node.arg(1))
        node = node.arg(0)
    if not (z3.is_int_value(node) and node.as_long() == 0):
        return None
    return out[::-1]


def _weight(share: z3.ExprRef, factor: int = 1) -> z3.ExprRef | None:
    """``w`` of a share ``±((±(T·w)) div d)``: the second factor of its numerator's product (the
    first, ``factor=0``, for the side index's ``±((±(w·ΔK)) div 10^6)``)."""
    node = share
    for _ in range(4):
        if z3.is_app_of(node, z3.Z3_OP_MUL) and node.num_args() == 2:
            return node.arg(factor)
        if not z3.is_app(node) or node.num_args() == 0:
            return None
        node = node.arg(0)
    return None


def _charged_shares(amount: Any, factor: int) -> tuple[Any, list[Any]] | None:
    """``(target, weights)`` when ``amount`` reads ``charged − ite(…)`` with ``charged`` a sum of
    shares whose weights :func:`_weight` finds (``factor``: which factor of a share's product is
    its weight), the shape both the pro-rata split's dust and the side index's take; else None."""
    if not (z3.is_expr(amount) and z3.is_sub(amount) and amount.num_args() == 2):
        return None
    charged, target = amount.children()
    shares = _shares(charged)
    if not shares or not z3.is_app_of(target, z3.Z3_OP_ITE):
        return None
    weights = [_weight(s, factor=factor) for s in shares]
    if any(w is None for w in weights):
        return None
    return target, weights


def dust_instance(
    amount: Any, rounding: RoundingRule, built: dict[tuple[int, bool], Any] | None = None
) -> tuple[Any, list[Any], bool] | None:
    """``(remaining, weights, capped)`` when ``amount`` is, term for term, the dust ``charge``
    makes of them (:func:`split_dust` substituted back gives the very same z3 term), else None.
    ``built``: the lemma's terms by (payers, capped), kept by a caller that asks many times."""
    parts = _charged_shares(amount, factor=1)
    if parts is None:
        return None
    target, weights = parts
    then = target.arg(1)
    candidates = [(then, False)]
    if z3.is_app_of(then, z3.Z3_OP_ITE):  # capped: min(R, W)
        candidates.append((then.arg(1), True))
    remaining, free = _free(len(weights))
    built = {} if built is None else built
    for actual, capped in candidates:
        key = (len(weights), capped)
        if key not in built:
            built[key] = split_dust(rounding, remaining, free, capped=capped)
        lemma = built[key]
        pairs = [(remaining, actual), *zip(free, weights, strict=True)]
        if type(lemma) is not int and z3.substitute(lemma, *pairs).eq(amount):
            return actual, weights, capped
    return None


def side_instance(amount: Any, built: dict[Any, Any] | None = None) -> tuple[Any, list[Any]] | None:
    """``(remaining, weights)`` when ``amount`` is, term for term, the dust ``charge_k_up`` makes of
    them (:func:`side_dust` substituted back gives the very same z3 term), else None. ``built``:
    the lemma's terms by ``("side", payers)``, kept by a caller that asks many times."""
    parts = _charged_shares(amount, factor=0)
    if parts is None:
        return None
    target, weights = parts
    remaining, free = _free(len(weights), side=True)
    built = {} if built is None else built
    key = ("side", len(weights))
    if key not in built:
        built[key] = side_dust(remaining, free)
    lemma = built[key]
    pairs = [(remaining, target.arg(1)), *zip(free, weights, strict=True)]
    if type(lemma) is not int and z3.substitute(lemma, *pairs).eq(amount):
        return target.arg(1), weights
    return None


class Discharger:
    """For one question: whether a transfer obligation ``guard → amount ≥ 0`` is the dust of a
    pro-rata split whose lemma is proved (:func:`split_lemma`). Each lemma used is charged to the
    question's build once (its units, :func:`effort.charge`) and listed in :attr:`used`."""

    def __init__(
        self, rounding: RoundingRule, paid: dict[tuple[Any, ...], Any] | None = None, *, any_payers: bool = False
    ) -> None:
        self.rounding = rounding
        #: a split's dust by the lemma for any number of payers (``solver.dust_lemma``, asked once for
        #: every split whose engine terms are its chain), not by the lemma at the split's own count
        self.any_payers = any_payers
        self.used: dict[tuple[Any, ...], Any] = {}
        #: the lemmas the question already paid for, shared by the dischargers of one question's parts
        #: (``fund_facts``: one per trader's turn): each charged once (default: this one's own)
        self.paid = self.used if paid is None else paid
        self._built: dict[Any, Any] = {}
        #: the exact split's lemma (``solver.exact_split_lemma``: ``Σ shares = T``), where the
        #: policy's pro_rata is exact_in_order (no dust transfer to discharge there): its facts go
        #: to every phase of a question (``Query``), the exact one too
        self.exact = ExactSplits(rounding, self.paid)
        #: per amount asked (kept alive with it): whether a proved lemma covers it
        self._asked: dict[int, tuple[Any, bool]] = {}

    def __call__(self, obligation: z3.BoolRef) -> bool:
        claim = obligation.arg(1) if z3.is_implies(obligation) else obligation
        if not (z3.is_ge(claim) and z3.is_int_value(claim.arg(1)) and claim.arg(1).as_long() == 0):
            return False
        return self.covers(claim.arg(0))

    def facts(self, ctxs: Iterable[Ctx]) -> list[z3.BoolRef]:
        """``dust ≥ 0`` for every dust transfer of ``ctxs`` that a proved lemma covers: true of
        every value (the lemma holds for every deficit and weights, whatever the guard), so a
        question given them keeps exactly its models (the fund's balance reads the dust)."""
        out: list[z3.BoolRef] = []
        seen: set[int] = set()
        for ctx in ctxs:
            for e in ctx.entries:
                amount = e.item.amount_quote
                if e.item.reason is not Reason.PRO_RATA_DUST or not z3.is_expr(amount) or amount.get_id() in seen:
                    continue
                seen.add(amount.get_id())
                if self.covers(amount):
                    out.append(amount >= 0)
        return out

    def covers(self, amount: Any) -> bool:
        """Whether ``amount`` is the dust of a split (or of the side index's charge) whose lemma is proved."""
        split = self.rounding.pro_rata is ProRata.UP_DUST_TO_INSURANCE_FUND
        side = self.rounding.side_index is SideIndex.K_UP
        if not (split or side) or not z3.is_expr(amount):
            return False
        hit = self._asked.get(amount.get_id())
        if hit is None:
            hit = self._asked[amount.get_id()] = (amount, self._covers(amount, split, side))
        return hit[1]

    def _covers(self, amount: Any, split: bool, side: bool) -> bool:
        instance = dust_instance(amount, self.rounding, self._built) if split else None
        if instance is not None and self.any_payers:
            payers, capped = len(instance[1]), instance[2]
            key: tuple[Any, ...] = ("any payers", capped)
            if key not in self.used:
                self.used[key] = dust_lemma.dust_lemma(self.rounding, capped=capped)
                if self.paid is self.used or key not in self.paid:
                    self.paid[key] = self.used[key]
                    effort.charge(self.used[key].units)
            return self.used[key].verdict is Verdict.PROVED and dust_lemma.fits(self.rounding, payers, capped=capped)
        if instance is not None:
            key = (len(instance[1]), instance[2])
        else:
            per_lot = side_instance(amount, self._built) if side else None
            if per_lot is None:
                return False
            if self.any_payers:  # the side chain for any number of payers (``dust_lemma.side_dust_lemma``)
                key = ("side any payers",)
                if key not in self.used:
                    self.used[key] = dust_lemma.side_dust_lemma()
                    if self.paid is self.used or key not in self.paid:
                        self.paid[key] = self.used[key]
                        effort.charge(self.used[key].units)
                return self.used[key].verdict is Verdict.PROVED and dust_lemma.side_fits(len(per_lot[1]))
            key = ("side", len(per_lot[1]))
        if key not in self.used:
            if key[0] == "side":
                self.used[key] = split_lemma(self.rounding, key[1], side=True)
            else:
                self.used[key] = split_lemma(self.rounding, key[0], capped=key[1])
            if self.paid is self.used or key not in self.paid:
                self.paid[key] = self.used[key]
                effort.charge(self.used[key].units)
        return self.used[key].verdict is Verdict.PROVED

    @property
    def stats(self) -> list[QueryStats]:
        return [lemma.stats for lemma in self.used.values()] + self.exact.stats


__all__ = [
    "LEMMA_UNITS",
    "Discharger",
    "SplitLemma",
    "dust_instance",
    "side_dust",
    "side_instance",
    "split_dust",
    "split_lemma",
]

"""The exact split's lemma: ``ProRata.EXACT_IN_ORDER``'s shares add up to the target, proved once.

``rules.pro_rata.charge`` in the exact mode (percolator Gen A's haircut) pays each payer
``f_i = ⌊T·w_i / d⌋`` (``d = W`` where ``W = Σ w_i > 0``, else 1; ``T`` the deficit, capped at
``W`` where the layer takes profit only, 0 where ``W ≤ 0``) plus one quantum where its share had
a fraction (``f_i·d ≠ T·w_i``) and fewer such payers came before it (``extra_before``) than the
remainder ``left = T − Σ f_i``. No dust transfer carries the rounding (the old rounding up had
``Σ⌈⌉ − T`` as its dust, ``solver.pro_rata_lemma``), so a question reading the layer's cover
against the payers' transfers (deficit-charged-once) needs ``Σ share_i = T``, a counting argument
z3 does not find inside a whole question (docs/solver-notes.md#the-exact-splits-lemma-session-21).

The lemma, for ``k`` payers with every number free (``split.remaining``, ``split.w{i}``), on the
terms the engine's own ``charge`` builds, where the deficit and the weights are at least 0 (what
the engine passes: a deficit and profits): ``Σ share_i = T``, the reported paid is ``T``, and each
share is ``≥ 0``, ``≤ ⌈T·w_i / d⌉`` and ``≤ w_i`` (capped only). Asked in steps, each its own z3
query whose premises are the steps proved before it (so no step is assumed), with ``m_i = T·w_i −
f_i·d`` the remainders and ``c_j`` the engine's ``extra_before`` before payer ``j``:

1. ``Σ m_i = left · d`` (a ring identity with ``W = Σ w_i``; ``T = 0`` where ``W ≤ 0``);
2. ``0 ≤ m_i < d`` for each payer (the floor's definition);
3. by induction over the payers in book order, ``Σ_{i<j} m_i ≤ c_j·(d − 1)`` (one payer a step);
4. counting, on free numbers (``L·D = M``, ``0 ≤ M ≤ C·(D − 1)``, ``D > 0`` give ``L ≥ 0`` and
   ``L = 0`` or ``L < C``), instantiated at ``left``, ``d``, ``Σ m_i``, ``c_k``;
5. by induction over the payers, the extras so far ``E_j = min(c_j, left)`` (the engine's
   ``extra_before < left`` gives one more exactly while ``c_j < left``);
6. the sum (``Σ f_i + min(c_k, left) = Σ f_i + left = T``);
7. a share's bounds on free numbers (a floor plus a quantum in {0, 1} only where it had a
   fraction, ``T ≤ W`` where capped), instantiated at each payer's terms (four payers 53,127
   units in all, where asking the bounds on the split's terms cost 80K a payer).

Each step's query is on ``k``'s terms, but none holds more than one payer's nonlinear terms
beyond what the steps before it settled, so its cost grows slowly with ``k`` (one z3 search over
all of it at once ran out at 4 payers within 20M units). A lemma that is not proved (any step
refuted or undecided) gives no fact. The questions get the lemma as facts on their own terms
(:class:`ExactSplits`): each run of a split's share transfers that :func:`instance` finds is,
term for term, the lemma's with the question's deficit and weights substituted, so the fact
``(deficit ≥ 0 ∧ each weight ≥ 0) → conclusions`` holds of every value and the question keeps
exactly its models.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import attrs
import z3

from solvent.rules.arith import Rounding, div, min_, safe_divisor, sum_, when
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.pro_rata import charge
from solvent.rules.rounding import ProRata, RoundingRule
from solvent.solver import effort, wall
from solvent.solver.bounds import Bounds
from solvent.solver.story import symbolic_book
from solvent.solver.verdicts import QueryStats, Verdict

#: units each step's query gets (its own budget, never a question's)
STEP_UNITS = 2_000_000
REMAINING = "exact.remaining"
WEIGHT = "exact.w{}"
#: the layers whose payers a split charges (one transfer each, payer to bankrupt account)
SPLIT_REASONS = frozenset({Reason.SOCIALIZED_LOSS, Reason.HAIRCUT, Reason.CLAWBACK})


@attrs.frozen
class Split:
    """The engine's exact split of ``remaining`` over ``weights`` and the lemma's named terms."""

    remaining: Any
    weights: list[Any]
    shares: list[Any]
    paid: Any
    target: Any
    divisor: Any
    floors: list[Any]
    #: the engine's ``extra_before`` ahead of each payer, and after the last
    before: list[Any]

    @property
    def left(self) -> Any:
        return self.target - sum_(self.floors)

    def remainder(self, i: int) -> Any:
        return self.target * self.weights[i] - self.floors[i] * self.divisor

    def ceiling(self, i: int) -> Any:
        return -div(-(self.target * self.weights[i]), self.divisor, rounding=Rounding.FLOOR)

    def domain(self) -> Any:
        """Where the engine charges: a deficit and weights at least 0."""
        return z3.And(self.remaining >= 0, *(w >= 0 for w in self.weights))

    def conclusions(self, capped: bool) -> tuple[list[Any], list[Any]]:
        """(the sum, true of every value; each share's bounds, true in :meth:`domain`)"""
        total = [sum_(self.shares) == self.target, _expr(self.paid) == self.target]
        bounds = []
        for i, s in enumerate(self.shares):
            bounds += [s >= 0, s <= self.ceiling(i)]
            if capped:
                bounds.append(s <= self.weights[i])
        return total, bounds


def _expr(x: Any) -> Any:
    return z3.IntVal(x) if type(x) is int else x


def charge_on_free_book(
    rounding: RoundingRule, remaining: Any, weights: list[Any], *, capped: bool, reason: Reason
) -> tuple[Ctx, Any]:
    """The engine's own ``pro_rata.charge`` of ``remaining`` over ``weights`` on a free book of
    ``len(weights)`` payers and one bankrupt account (the first trader): ``(ctx, paid)``. The split
    lemmas here and in ``solver.pro_rata_lemma`` read their shares and dust off its entries."""
    book, _ = symbolic_book(Bounds(accounts=len(weights) + 1, effort=1))
    bankrupt, *payers = [a.name for a in book.traders]
    return charge(
        Ctx(book),
        rounding,
        list(zip(payers, weights, strict=True)),
        bankrupt,
        remaining,
        capped=capped,
        reason=reason,
    )


def split(rounding: RoundingRule, remaining: Any, weights: list[Any], *, capped: bool) -> Split:
    """The engine's ``charge`` (exact in order) on a book of ``len(weights)`` payers and one
    bankrupt account: its share transfers and reported paid, with the target, divisor, floors and
    the counters ``c_j`` of payers with a fraction named for the steps (terms of the proof only:
    the conclusions read the engine's shares and paid, and the steps tie the engine's extra
    quanta ``share_i − f_i`` to these counters, so a wrong name here fails a step)."""
    ctx, paid = charge_on_free_book(rounding, remaining, weights, capped=capped, reason=Reason.HAIRCUT)
    shares = [e.item.amount_quote for e in ctx.entries if e.item.reason is Reason.HAIRCUT]
    total = sum_(weights)
    target = when(total > 0, min_(remaining, total) if capped else remaining)
    divisor = safe_divisor(total)
    floors = [div(target * w, divisor, rounding=Rounding.FLOOR) for w in weights]
    before: list[Any] = [0]
    for w, f in zip(weights, floors, strict=True):
        before.append(before[-1] + when(f * divisor != target * w, 1))
    return Split(remaining, list(weights), shares, paid, target, divisor, floors, before)


@attrs.frozen
class ExactLemma:
    """The exact split's lemma for ``payers`` free weights: its verdict and its steps' stats."""

    payers: int
    capped: bool
    verdict: Verdict
    steps: tuple[QueryStats, ...]
    detail: str = ""

    @property
    def units(self) -> int:
        return sum(s.units for s in self.steps)

    @property
    def stats(self) -> QueryStats:
        result = "unsat (every step)" if self.verdict is Verdict.PROVED else self.detail
        return QueryStats(self.name, result, sum(s.seconds for s in self.steps), units=self.units)

    @property
    def name(self) -> str:
        return f"exact split lemma ({self.payers} payers{', capped' if self.capped else ''}): Σ shares = T"


def free(payers: int) -> tuple[z3.ArithRef, list[z3.ArithRef]]:
    return z3.Int(REMAINING), [z3.Int(WEIGHT.format(i)) for i in range(payers)]


def steps(s: Split, capped: bool) -> list[tuple[str, list[Any], list[Any]]]:
    """The lemma's steps as (name, premises, conclusions): each step's premises are the
    conclusions of steps before it (or the domain), never an assumption of its own."""
    k = len(s.weights)
    d, left = s.divisor, s.left
    m = [s.remainder(i) for i in range(k)]
    c = s.before
    extras = [s.shares[i] - s.floors[i] for i in range(k)]
    total = [sum_(m) == left * d]
    bounds = [z3.And(0 <= m[i], m[i] < d) for i in range(k)]
    out: list[tuple[str, list[Any], list[Any]]] = [("Σ m_i = left·d", [], total)]
    out += [(f"0 ≤ m_{i} < d", [], [bounds[i]]) for i in range(k)]
    prefix = [sum_(m[:j]) <= c[j] * (d - 1) for j in range(k + 1)]
    out += [(f"Σ_(i<{j + 1}) m_i ≤ c_{j + 1}·(d − 1)", [prefix[j], bounds[j]], [prefix[j + 1]]) for j in range(k)]
    big_l, big_d, big_m, big_c = (z3.Int(f"exact.count.{x}") for x in "LDMC")
    out.append(
        (
            "counting (free numbers)",
            [big_d > 0, big_m == big_l * big_d, 0 <= big_m, big_m <= big_c * (big_d - 1), big_c >= 0],
            [big_l >= 0, z3.Or(big_l == 0, big_l < big_c)],
        )
    )
    counted = [left >= 0, z3.Or(left == 0, left < c[k])]
    # the counting lemma (just proved for every value) at left, d, Σ m_i, c_k
    pairs = [(big_l, left), (big_d, d), (big_m, sum_(m)), (big_c, _expr(c[k]))]
    premises, conclusions = out[-1][1], out[-1][2]
    at = z3.Implies(z3.And(premises), z3.And(conclusions))
    out.append(("counting at the split", [z3.substitute(at, *pairs), *total, *bounds, prefix[k]], counted))
    ext = [sum_(extras[:j]) == min_(c[j], left) for j in range(k + 1)]
    out += [(f"E_{j + 1} = min(c_{j + 1}, left)", [left >= 0, ext[j]], [ext[j + 1]]) for j in range(k)]
    out.append(("Σ shares = T", [*counted, ext[k]], [sum_(s.shares) == s.target, _expr(s.paid) == s.target]))
    # each share's bounds: on free numbers once (a floor plus an extra quantum only where the
    # floor had a fraction), then at each payer's terms (its premises checked there)
    big_t, big_dd, w, f, e, big_w = (z3.Int(f"exact.share.{x}") for x in "TDwfeW")
    premises = [
        big_dd > 0,
        f == div(big_t * w, big_dd, rounding=Rounding.FLOOR),
        z3.Or(e == 0, e == 1),
        z3.Implies(e == 1, f * big_dd != big_t * w),
        big_t >= 0,
        w >= 0,
        w <= big_w,
        z3.Implies(big_w > 0, big_dd == big_w),
        z3.Implies(big_w <= 0, big_t == 0),
    ] + ([z3.Implies(big_w > 0, big_t <= big_w)] if capped else [])
    ceiling = -div(-(big_t * w), big_dd, rounding=Rounding.FLOOR)
    conclusions = [f + e >= 0, f + e <= ceiling] + ([f + e <= w] if capped else [])
    out.append(("a share's bounds (free numbers)", premises, conclusions))
    at = z3.Implies(z3.And(premises), z3.And(conclusions))
    for i in range(k):
        pairs = [
            (big_t, s.target),
            (big_dd, d),
            (w, s.weights[i]),
            (f, s.floors[i]),
            (e, extras[i]),
            (big_w, sum_(s.weights)),
        ]
        each = [s.shares[i] >= 0, s.shares[i] <= s.ceiling(i)] + ([s.shares[i] <= s.weights[i]] if capped else [])
        out.append((f"share {i}'s bounds", [z3.substitute(at, *pairs), s.domain()], each))
    return out


@lru_cache(maxsize=32)
def _verdict(rounding: RoundingRule, payers: int, capped: bool) -> ExactLemma:
    remaining, weights = free(payers)
    s = split(rounding, remaining, weights, capped=capped)
    asked: list[QueryStats] = []
    for name, premises, conclusions in steps(s, capped):
        started = time.perf_counter()
        answer = wall.check([*premises, z3.Not(z3.And(conclusions))], [], STEP_UNITS, effort.safety_net_s(STEP_UNITS))
        asked.append(QueryStats(name, answer.result, time.perf_counter() - started, units=answer.units))
        if answer.result != "unsat":
            return ExactLemma(payers, capped, Verdict.UNKNOWN, tuple(asked), f"step '{name}': {answer.result}")
    return ExactLemma(payers, capped, Verdict.PROVED, tuple(asked))


def exact_lemma(rounding: RoundingRule, payers: int, *, capped: bool) -> ExactLemma:
    """The lemma for this number of payers and cap, asked once per process (a question of its own:
    its units the same whoever asks it first, ``effort.question``)."""
    if rounding.pro_rata is not ProRata.EXACT_IN_ORDER:
        raise ValueError(f"the exact split's lemma is about exact_in_order, not {rounding.pro_rata.value}")
    with effort.question(), effort.building(effort.MAX_UNITS, counted=False):
        return _verdict(rounding, payers, capped)


def _parts(share: Any) -> tuple[Any, Any] | None:
    """``(target, weight)`` of a share ``((T·w) div d) + ite(..)``."""
    if not (z3.is_expr(share) and z3.is_add(share) and share.num_args() == 2):
        return None
    floor = share.arg(0)
    if not (z3.is_app_of(floor, z3.Z3_OP_IDIV) and z3.is_app_of(floor.arg(0), z3.Z3_OP_MUL)):
        return None
    product = floor.arg(0)
    if product.num_args() != 2:
        return None
    return product.arg(0), product.arg(1)


def instance(rounding: RoundingRule, shares: list[Any], built: dict[Any, Split]) -> tuple[Split, bool] | None:
    """``(the split on the question's terms, capped)`` when ``shares`` are, term for term, the
    shares ``charge`` makes of a deficit and weights (the lemma's terms with them substituted give
    the very same z3 terms), else None."""
    parts = [_parts(s) for s in shares]
    if any(p is None for p in parts):
        return None
    target = parts[0][0]  # type: ignore[index]
    weights = [p[1] for p in parts]  # type: ignore[index]
    if not z3.is_app_of(target, z3.Z3_OP_ITE):
        return None
    then = target.arg(1)
    candidates = [(then, False)]
    if z3.is_app_of(then, z3.Z3_OP_ITE):  # capped: min(R, W), tried first (it has ``share ≤ w``)
        candidates.insert(0, (then.arg(1), True))
    remaining, free_w = free(len(shares))
    for actual, capped in candidates:
        key = (len(shares), capped)
        if key not in built:
            built[key] = split(rounding, remaining, free_w, capped=capped)
        pairs = [(remaining, actual), *zip(free_w, weights, strict=True)]
        lemma = built[key]
        if all(z3.substitute(a, *pairs).eq(b) for a, b in zip(lemma.shares, shares, strict=True)):
            return _substituted(lemma, pairs), capped
    return None


def _substituted(s: Split, pairs: list[tuple[Any, Any]]) -> Split:
    def sub(x: Any) -> Any:
        return z3.substitute(x, *pairs) if z3.is_expr(x) else x

    return Split(
        sub(s.remaining),
        [sub(w) for w in s.weights],
        [sub(x) for x in s.shares],
        sub(s.paid),
        sub(s.target),
        sub(s.divisor),
        [sub(f) for f in s.floors],
        [sub(c) for c in s.before],
    )


def runs(ctxs: Iterable[Ctx]) -> list[list[Any]]:
    """Each run of consecutive split transfers (one layer's reason, into one account)."""
    out: list[list[Any]] = []
    for ctx in ctxs:
        key = None
        for e in ctx.entries:
            t = e.item
            if getattr(t, "reason", None) in SPLIT_REASONS and z3.is_expr(t.amount_quote):
                here = (t.reason, t.destination)
                if here == key:
                    out[-1].append(t.amount_quote)
                else:
                    out.append([t.amount_quote])
                key = here
            else:
                key = None
    return out


class ExactSplits:
    """For one question: the exact split lemma's facts on its splits. Each lemma used is charged
    to the question's build once (:func:`effort.charge`) and listed in :attr:`used`."""

    def __init__(self, rounding: RoundingRule, paid: dict[Any, Any] | None = None) -> None:
        self.rounding = rounding
        self.used: dict[Any, ExactLemma] = {}
        self.paid = self.used if paid is None else paid
        self._built: dict[Any, Split] = {}

    def facts(self, ctxs: Iterable[Ctx]) -> list[Any]:
        if self.rounding.pro_rata is not ProRata.EXACT_IN_ORDER:
            return []
        out: list[Any] = []
        seen: set[tuple[int, ...]] = set()
        for shares in runs(ctxs):
            ids = tuple(s.get_id() for s in shares)
            if ids in seen:
                continue
            seen.add(ids)
            found = instance(self.rounding, shares, self._built)
            if found is None:
                continue
            s, capped = found
            key = ("exact", len(shares), capped)
            if key not in self.used:
                self.used[key] = exact_lemma(self.rounding, len(shares), capped=capped)
                if self.paid is self.used or key not in self.paid:
                    self.paid[key] = self.used[key]
                    effort.charge(self.used[key].units)
            if self.used[key].verdict is Verdict.PROVED:
                # the sum for every deficit and weights; each share's bounds where the engine charges
                total, bounds = s.conclusions(capped)
                out += [*total, z3.Implies(s.domain(), z3.And(bounds))]
        return out

    @property
    def stats(self) -> list[QueryStats]:
        return [lemma.stats for lemma in self.used.values()]


__all__ = [
    "ExactLemma",
    "ExactSplits",
    "Split",
    "charge_on_free_book",
    "exact_lemma",
    "instance",
    "runs",
    "split",
    "steps",
]

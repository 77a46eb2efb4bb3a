"""The pro-rata split's rounding dust is at or above zero for any number of payers: a chain lemma.

``rules.pro_rata.charge`` with shares rounded up (``rounding.pro_rata = "up_dust_to_insurance_fund"``:
Drift, Mango v4) charges each payer ``c(T, w_i, D) = ⌈T·w_i / D⌉`` (``W = Σ w_i``, ``T = R`` where
``W > 0``, else 0, capped at ``W`` where the layer takes profit only; ``D = W`` where ``W > 0``, else
1) and passes the dust ``Σ c(T, w_i, D) − T`` from the bankrupt account to the insurance fund.
``solver.pro_rata_lemma.split_lemma`` proves ``dust ≥ 0`` for one number of payers at a time, one
z3 search over that split; a book of N traders has splits over N payers (the other traders and the
book), so ``solver.cascade_holders`` stated "the dust is at or above 0 over any number of payers" as
an assumption. Here it is proved for every number ``k`` of payers, in the exact split lemma's chain
shape (``solver.exact_split_lemma``): one payer's step as an exact z3 query on free values, and an
induction over the payers in the engine's order.

**The shape** (no query; :func:`shape`): on the engine's own ``charge`` over ``k`` free weights and a
free deficit, each share is ``s_i = c(T, w_i, D)`` for one term ``c`` of three free values (read off
the share: the target ``T`` is the first factor of its product with the payer's weight, ``D`` its
division's divisor), the same ``T`` and ``D`` for every payer, and the dust is the shares' sum from 0
less ``T``; ``T`` and ``D`` read only the deficit and the total weight ``W = Σ w_i``. Checked term for
term at every number of payers the lemma is used at (and at 1 to :data:`SHAPE_PAYERS` when it is
asked), and ``c``, ``T(R, W)`` and ``D(W)`` the same terms at each: the engine's split is a loop over
its payers, each share the same function of ``T``, its own weight and ``D``.

**The lemma** (:func:`steps`, each an exact z3 query on free integers, all unsat):

1. *the divisor*: ``D(W) > 0`` for every ``W``;
2. *the base*: ``0·D ≥ T·0`` (no payer yet: the sum of no shares, the sum of no weights);
3. *one payer's step*: ``D > 0`` and ``S·D ≥ T·P`` give ``(S + c(T, w, D))·D ≥ T·(P + w)``, for
   every ``S``, ``P``, ``T``, ``w`` and ``D`` (a share rounded up covers its part of the target);
4. *the close*: ``S·D(W) ≥ T(R, W)·W`` gives ``S − T(R, W) ≥ 0`` for every ``S``, ``R``, ``W``.

By induction over the payers (2, then 3 once a payer, with ``S`` the shares so far and ``P`` the
weights so far; 1 for ``D > 0``), ``S_k·D ≥ T·W`` after the last payer, and 4 at ``S = S_k`` gives
``dust = S_k − T ≥ 0``, for every deficit and weights (whatever their signs) and every ``k``. A
step not proved (a model, or undecided) leaves the lemma unproved: it gives no fact. A model of a
step is a model on free values, not a split's: it refutes nothing about the engine (the per-``k``
lemma, ``split_lemma``, searches and replays a split's counterexample). Measured: 3,218 units (capped
4,467), where the split's lemma at three payers took 14,512
(docs/solver-notes.md#drifts-dust-lemma-for-any-number-of-payers-session-23).
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

import attrs
import z3

from solvent.rules.arith import sum_
from solvent.rules.ledger import Reason
from solvent.rules.rounding import ProRata, RoundingRule
from solvent.solver import effort, wall
from solvent.solver.exact_split_lemma import charge_on_free_book
from solvent.solver.verdicts import QueryStats, Verdict

#: units each step's query gets (its own budget, never a question's)
STEP_UNITS = 2_000_000
#: the shape is checked at 1 to this many payers when the lemma is asked (and at every number a
#: question uses it at): the lemma's terms are the same at each
SHAPE_PAYERS = 8
#: the free values' names
REMAINING = "dust.remaining"
WEIGHT = "dust.w{}"
T_, D_, W_, S_, P_, TOTAL = (f"dust.{x}" for x in ("T", "D", "w", "S", "P", "W"))


@attrs.frozen
class Shape:
    """The engine's split over ``payers`` free weights, its terms on free values: ``share`` is
    ``c(T, w, D)`` on the free ``T``, ``w`` and ``D``; ``target`` and ``divisor`` read the free
    deficit and the free total weight only."""

    payers: int
    share: Any
    target: Any
    divisor: Any

    @property
    def key(self) -> tuple[str, str, str]:
        """The three terms as text: the same text is the same term (every name is the lemma's), and
        text outlives the z3 context the terms were built in (each question has its own)."""
        return (self.share.sexpr(), self.target.sexpr(), self.divisor.sexpr())


def free() -> tuple[z3.ArithRef, ...]:
    """``(T, D, w, S, P, R, W)``: the lemma's free integers."""
    return tuple(z3.Int(x) for x in (T_, D_, W_, S_, P_, REMAINING, TOTAL))


def _find(term: Any, kind: int) -> Any:
    """The first node of ``kind`` in ``term`` (depth first, left to right), else None."""
    todo = [term]
    while todo:
        node = todo.pop()
        if z3.is_app_of(node, kind):
            return node
        if z3.is_app(node):
            todo.extend(reversed(node.children()))
    return None


def _vars(term: Any) -> set[str]:
    out: set[str] = set()
    todo = [term]
    while todo:
        node = todo.pop()
        if z3.is_const(node) and node.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            out.add(str(node))
        elif z3.is_app(node):
            todo.extend(node.children())
    return out


def _parts(share: Any, weight: Any) -> tuple[Any, Any] | None:
    """``(T, D)`` of a share that divides a product ``T·w`` (``w`` the payer's weight) by ``D``."""
    division = _find(share, z3.Z3_OP_IDIV)
    if division is None:
        return None
    product = _find(division.arg(0), z3.Z3_OP_MUL)
    if product is None or product.num_args() != 2 or not product.arg(1).eq(weight):
        return None
    return product.arg(0), division.arg(1)


def shape(rounding: RoundingRule, payers: int, *, capped: bool) -> Shape | str:
    """The engine's own ``charge`` over ``payers`` free weights, read as the lemma's chain (a
    :class:`Shape`), or why it does not read so (the lemma then says nothing of it)."""
    remaining = z3.Int(REMAINING)
    weights = [z3.Int(WEIGHT.format(i)) for i in range(payers)]
    ctx, _ = charge_on_free_book(rounding, remaining, weights, capped=capped, reason=Reason.SOCIALIZED_LOSS)
    shares = [e.item.amount_quote for e in ctx.entries if e.item.reason is Reason.SOCIALIZED_LOSS]
    dust = [e.item.amount_quote for e in ctx.entries if e.item.reason is Reason.PRO_RATA_DUST]
    if len(shares) != payers or len(dust) != 1 or not all(z3.is_expr(s) for s in shares):
        return f"{payers} payers: not one share a payer and one dust transfer"
    parts = _parts(shares[0], weights[0])
    if parts is None:
        return f"{payers} payers: the first share does not divide the target times its weight"
    target, divisor = parts
    t, d, w, _s, _p, _r, total = free()
    template = z3.substitute(shares[0], (target, t), (divisor, d), (weights[0], w))
    if not _vars(template) <= {T_, D_, W_}:
        return f"{payers} payers: a share reads more than the target, its own weight and the divisor"
    for i, s in enumerate(shares):
        if not z3.substitute(template, (t, target), (d, divisor), (w, weights[i])).eq(s):
            return f"{payers} payers: share {i} is not the first share's term at its weight"
    if not z3.is_expr(dust[0]) or not (sum_(shares) - target).eq(dust[0]):
        return f"{payers} payers: the dust is not the shares' sum less the target"
    whole = sum_(weights)  # the chain's weights so far after the last payer: the split's total weight
    at_total = [z3.substitute(x, (whole, total)) for x in (target, divisor)]
    if not (_vars(at_total[0]) <= {REMAINING, TOTAL} and _vars(at_total[1]) <= {TOTAL}):
        return f"{payers} payers: the target or the divisor reads more than the deficit and the total weight"
    if not all(z3.substitute(a, (total, whole)).eq(x) for a, x in zip(at_total, (target, divisor), strict=True)):
        return f"{payers} payers: the target or the divisor is not a term of the total weight"
    return Shape(payers, template, *at_total)


def steps(s: Shape) -> list[tuple[str, list[Any], list[Any]]]:
    """The lemma's steps as (name, premises, conclusions), each on free integers."""
    t, d, w, big_s, p, _r, total = free()
    return [
        ("the divisor is positive", [], [s.divisor > 0]),
        ("the base: no payer yet", [d > 0], [0 * d >= t * 0]),
        ("one payer's step", [d > 0, big_s * d >= t * p], [(big_s + s.share) * d >= t * (p + w)]),
        ("the close", [big_s * s.divisor >= s.target * total], [big_s - s.target >= 0]),
    ]


@attrs.frozen
class DustLemma:
    """The dust lemma for any number of payers: its verdict and its steps' stats."""

    capped: bool
    verdict: Verdict
    steps: tuple[QueryStats, ...]
    detail: str = ""
    #: the shape's terms as text (:attr:`Shape.key`), where it was read
    shape: tuple[str, ...] | None = None
    #: the side index's dust (:func:`side_dust_lemma`), not the pro-rata split's
    side: bool = False

    @property
    def units(self) -> int:
        return sum(s.units for s in self.steps)

    @property
    def name(self) -> str:
        if self.side:
            return "side index dust lemma (k_up, any number of payers): Σ⌈wᵢ·ΔK/10⁶⌉ − T ≥ 0"
        return f"pro-rata dust lemma (any number of payers{', capped' if self.capped else ''}): Σ⌈T·wᵢ/D⌉ − T ≥ 0"

    @property
    def stats(self) -> QueryStats:
        result = "unsat (every step)" if self.verdict is Verdict.PROVED else self.detail
        return QueryStats(self.name, result, sum(s.seconds for s in self.steps), units=self.units)


def _shapes(rounding: RoundingRule, capped: bool) -> Shape | str:
    """The shape at 1 to :data:`SHAPE_PAYERS` payers, the same terms at each, or why not."""
    return _the_same_at_each_count(
        lambda k: shape(rounding, k, capped=capped),
        "the share, the target or the divisor is not the same term as at one payer",
    )


def _the_same_at_each_count(make: Any, differs: str) -> Any:
    """``make(k)`` at 1 to :data:`SHAPE_PAYERS` payers when each is the same terms as at one (their
    ``key``), else why not: ``make``'s own reason, or ``"<k> payers: <differs>"``."""
    first = None
    for k in range(1, SHAPE_PAYERS + 1):
        here = make(k)
        if isinstance(here, str):
            return here
        if first is not None and first.key != here.key:
            return f"{k} payers: {differs}"
        first = first or here
    assert first is not None
    return first


@lru_cache(maxsize=8)
def _verdict(rounding: RoundingRule, capped: bool) -> DustLemma:
    found = _shapes(rounding, capped)
    if isinstance(found, str):
        return DustLemma(capped, Verdict.UNKNOWN, (), f"the shape: {found}")
    asked: list[QueryStats] = []
    for name, premises, conclusions in steps(found):
        started = time.perf_counter()
        answer = wall.check([*premises, z3.Not(z3.And(conclusions))], [], STEP_UNITS, effort.safety_net_s(STEP_UNITS))
        asked.append(QueryStats(name, answer.result, time.perf_counter() - started, units=answer.units))
        if answer.result != "unsat":
            return DustLemma(capped, Verdict.UNKNOWN, tuple(asked), f"step '{name}': {answer.result}", found.key)
    return DustLemma(capped, Verdict.PROVED, tuple(asked), "", found.key)


def dust_lemma(rounding: RoundingRule, *, capped: bool) -> DustLemma:
    """The lemma for this rounding and cap, asked once per process (a question of its own: its units
    the same whoever asks it first, ``effort.question``)."""
    if rounding.pro_rata is not ProRata.UP_DUST_TO_INSURANCE_FUND:
        raise ValueError(f"the dust lemma is about up_dust_to_insurance_fund, not {rounding.pro_rata.value}")
    with effort.question(), effort.building(effort.MAX_UNITS, counted=False):
        return _verdict(rounding, capped)


@lru_cache(maxsize=64)
def _fits(rounding: RoundingRule, payers: int, capped: bool) -> bool:
    lemma = _verdict(rounding, capped)
    here = shape(rounding, payers, capped=capped)
    return lemma.shape is not None and not isinstance(here, str) and lemma.shape == here.key


def fits(rounding: RoundingRule, payers: int, *, capped: bool) -> bool:
    """Whether the engine's split over ``payers`` is the lemma's chain (its shape the same terms):
    the lemma, where proved, then covers its dust."""
    with effort.question(), effort.building(effort.MAX_UNITS, counted=False):
        return _fits(rounding, payers, capped)


# -- the side index's dust (percolator Gen B's ``k_up``) for any number of payers -------------------------
#
# ``rules.side_index.charge_k_up`` charges each opposing position ``⌈w_i·ΔK / 10⁶⌉`` (``w_i`` its lots,
# ``ΔK = ⌈T·10⁶ / OI⌉``, ``OI = Σ w_i``, ``T = R`` where ``OI > 0``, else 0) and passes the dust
# ``Σ⌈w_i·ΔK / 10⁶⌉ − T`` from the bankrupt account to the fund (spec v11.31 §5.6 step 7, ``delta_K``
# rounded up; §5.3 each position's loss read with a floor of a negative K difference: rounded up).
# ``pro_rata_lemma.split_lemma(side=True)`` proves ``dust ≥ 0`` at one number of payers; a book of N
# traders charges N − 1 of them and the book. The same chain as the pro-rata split's, with the share's
# factor ``ΔK`` where the split has ``T`` and the close reading ``ΔK·OI ≥ T·10⁶``
# (docs/solver-notes.md#gen-bs-non-negative-transfers-for-every-n-session-24):
#
# 1. *the divisor*: the share's divisor (10⁶, a numeral) is positive;
# 2. *the base*: ``0·D ≥ K·0``;
# 3. *one payer's step*: ``S·D ≥ K·P`` gives ``(S + c(K, w))·D ≥ K·(P + w)`` for every ``S``, ``P``, ``K``, ``w``;
# 4. *the close*: ``S·D ≥ ΔK(R, W)·W`` gives ``S − T(R, W) ≥ 0`` for every ``S``, ``R``, ``W``.
#
# By induction over the payers ``S_k·D ≥ ΔK·OI`` after the last, and 4 gives ``dust = S_k − T ≥ 0``.


@attrs.frozen
class SideShape:
    """The engine's ``charge_k_up`` over ``payers`` free weights, its terms on free values: ``share`` is
    ``c(K, w)`` on the free ``K`` (:data:`T_`) and ``w``; ``divisor`` the share's (a numeral); ``step``
    (``ΔK``) and ``target`` read the free deficit and the free total weight only."""

    payers: int
    share: Any
    divisor: Any
    step: Any
    target: Any

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(x.sexpr() for x in (self.share, self.divisor, self.step, self.target))


def side_shape(payers: int) -> SideShape | str:
    """``rules.side_index.charge_k_up`` over ``payers`` free weights and a free deficit, read as the side
    chain (a :class:`SideShape`), or why it does not read so."""
    from solvent.rules.ledger import Ctx
    from solvent.rules.side_index import charge_k_up
    from solvent.solver.bounds import Bounds
    from solvent.solver.story import symbolic_book

    remaining = z3.Int(REMAINING)
    weights = [z3.Int(WEIGHT.format(i)) for i in range(payers)]
    book, _ = symbolic_book(Bounds(accounts=payers + 1, effort=1))
    bankrupt, *names = [a.name for a in book.traders]
    ctx, target = charge_k_up(Ctx(book), list(zip(names, weights, strict=True)), bankrupt, remaining)
    shares = [e.item.amount_quote for e in ctx.entries if e.item.reason is Reason.SOCIALIZED_LOSS]
    dust = [e.item.amount_quote for e in ctx.entries if e.item.reason is Reason.PRO_RATA_DUST]
    if len(shares) != payers or len(dust) != 1 or not all(z3.is_expr(s) for s in shares + [target]):
        return f"{payers} payers: not one share a payer and one dust transfer"
    division = _find(shares[0], z3.Z3_OP_IDIV)
    product = None if division is None else _find(division.arg(0), z3.Z3_OP_MUL)
    if product is None or product.num_args() != 2 or not product.arg(0).eq(weights[0]):
        return f"{payers} payers: the first share does not divide its weight times the index step"
    step, divisor = product.arg(1), division.arg(1)
    if _vars(divisor):
        return f"{payers} payers: the share's divisor is not a number"
    t, _d, w, _s, _p, _r, total = free()
    template = z3.substitute(shares[0], (step, t), (weights[0], w))
    if not _vars(template) <= {T_, W_}:
        return f"{payers} payers: a share reads more than the index step and its own weight"
    for i, s in enumerate(shares):
        if not z3.substitute(template, (t, step), (w, weights[i])).eq(s):
            return f"{payers} payers: share {i} is not the first share's term at its weight"
    if not (sum_(shares) - target).eq(dust[0]):
        return f"{payers} payers: the dust is not the shares' sum less the target"
    whole = sum_(weights)
    at_total = [z3.substitute(x, (whole, total)) for x in (step, target)]
    if not all(_vars(x) <= {REMAINING, TOTAL} for x in at_total):
        return f"{payers} payers: the index step or the target reads more than the deficit and the total weight"
    if not all(z3.substitute(a, (total, whole)).eq(x) for a, x in zip(at_total, (step, target), strict=True)):
        return f"{payers} payers: the index step or the target is not a term of the total weight"
    return SideShape(payers, template, divisor, *at_total)


def side_steps(s: SideShape) -> list[tuple[str, list[Any], list[Any]]]:
    """The side chain's steps as (name, premises, conclusions), each on free integers."""
    k, _d, w, big_s, p, _r, total = free()
    d = s.divisor
    return [
        ("the divisor is positive", [], [d > 0]),
        ("the base: no payer yet", [], [0 * d >= k * 0]),
        ("one payer's step", [big_s * d >= k * p], [(big_s + s.share) * d >= k * (p + w)]),
        ("the close", [big_s * d >= s.step * total], [big_s - s.target >= 0]),
    ]


def _side_shapes() -> SideShape | str:
    return _the_same_at_each_count(
        side_shape, "the share, its divisor, the index step or the target is not the same term as at one"
    )


@lru_cache(maxsize=1)
def _side_verdict() -> DustLemma:
    found = _side_shapes()
    if isinstance(found, str):
        return DustLemma(False, Verdict.UNKNOWN, (), f"the shape: {found}", side=True)
    asked: list[QueryStats] = []
    for name, premises, conclusions in side_steps(found):
        started = time.perf_counter()
        answer = wall.check([*premises, z3.Not(z3.And(conclusions))], [], STEP_UNITS, effort.safety_net_s(STEP_UNITS))
        asked.append(QueryStats(name, answer.result, time.perf_counter() - started, units=answer.units))
        if answer.result != "unsat":
            detail = f"step '{name}': {answer.result}"
            return DustLemma(False, Verdict.UNKNOWN, tuple(asked), detail, found.key, side=True)
    return DustLemma(False, Verdict.PROVED, tuple(asked), "", found.key, side=True)


def side_dust_lemma() -> DustLemma:
    """The side index's dust lemma for any number of payers, asked once per process (a question of its
    own, as :func:`dust_lemma`)."""
    with effort.question(), effort.building(effort.MAX_UNITS, counted=False):
        return _side_verdict()


@lru_cache(maxsize=64)
def _side_fits(payers: int) -> bool:
    lemma = _side_verdict()
    here = side_shape(payers)
    return lemma.shape is not None and not isinstance(here, str) and lemma.shape == here.key


def side_fits(payers: int) -> bool:
    """Whether the engine's ``charge_k_up`` over ``payers`` is the side chain (the same terms)."""
    with effort.question(), effort.building(effort.MAX_UNITS, counted=False):
        return _side_fits(payers)


__all__ = [
    "DustLemma",
    "SHAPE_PAYERS",
    "STEP_UNITS",
    "Shape",
    "SideShape",
    "dust_lemma",
    "fits",
    "shape",
    "side_dust_lemma",
    "side_fits",
    "side_shape",
    "side_steps",
    "steps",
]

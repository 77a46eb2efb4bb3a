"""The measured cost of sitting at the edge: a simulation at fractions of a proved threshold.

``solvent simulate POLICY --at-threshold QUESTION`` finds the threshold with ``solvent
thresholds``' own machinery (``solvent.solver.thresholds.threshold``: z3 within a budget of effort
units, a count, so the same answer on any machine), takes its proved value ``v`` and runs the
scenario at ``--fractions`` of it (95%, 99% and 100% by default), side by side. Each question is
set where its proof puts it:

- ``safe-move`` (the largest one-tick move with no bad debt) caps every mark event's move at the
  value: the scenario's ``[path] max_move_ppm`` (a price band; the capped mark chases the model's);
- ``fund-for-gap`` (the smallest fund, as a share of the long open interest, with no ADL or
  haircut for a gap) sets the scenario's ``[book] insurance_fund_ppm``, the same share;
- ``penalty-bankrupts`` sets the policy's ``liquidation.penalty_ppm``;
- ``maintenance-for-leverage`` runs the policy the proof asked about: one tier at the question's
  leverage, its maintenance rate at the value (``thresholds._maintenance_setup``).

A fraction's value is ``f × v`` rounded toward the proved side (down for the largest safe move, up
for the smallest safe fund, rate or penalty), so 100% is exactly the proved value and a rounding
never moves a point toward risk. On a question whose safe side is above the answer (the fund, the
rate, the penalty), fractions below 100% lie beyond the boundary: the report says on which side of
what the probes decided each point lies (:func:`solvent.solver.thresholds.side`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from fractions import Fraction
from typing import Any

import attrs

from solvent.rules.arith import PPM, Rounding, div
from solvent.simulation.executors import CellError, ExecutorError
from solvent.simulation.grids import ThresholdCell, find_thresholds
from solvent.simulation.paths import Prepared
from solvent.simulation.run import DEFAULT_BATCH
from solvent.simulation.sweep import Point, Sweep, SweepError, run, variant
from solvent.solver.thresholds import (
    Direction,
    Question,
    Threshold,
    ThresholdStatus,
    default_bounds,
    questions,
    side,
)

#: the default fractions of the proved value, in percent
FRACTIONS = (Fraction(95), Fraction(99), Fraction(100))
#: the default effort per solver question and proof attempts per threshold (``solvent thresholds``')
EFFORT = 30_000_000
PROBES = 40

#: where each question's value goes: a ``--sweep`` field, or a policy variant (see the docstring)
FIELDS = {
    "safe-move": "scenario.path.max_move_ppm",
    "fund-for-gap": "scenario.book.insurance_fund_ppm",
    "penalty-bankrupts": "liquidation.penalty_ppm",
}
MAINTENANCE = "maintenance-for-leverage"


class NoProvedValue(ValueError):
    """The threshold has no proved value to take fractions of (undecided within its budget, or
    failing everywhere): the message says what the probes found."""


def _setter(question: Question, policy: Any) -> tuple[str, str, Callable[[Prepared, int], Prepared]]:
    """(the field shown, a note, how a value is set) for one question."""
    if question.id in FIELDS:
        field = FIELDS[question.id]
        return field, "", lambda prepared, value: variant(prepared, field, value)
    bounds = default_bounds()

    def maintenance(prepared: Prepared, value: int) -> Prepared:
        return attrs.evolve(prepared, policy=question.setup(prepared.policy, value, bounds).policy)

    initial = question.setup(policy, 0, bounds).policy.margin.tiers[0].initial_ppm
    note = (
        f"the policy the proof asks about: one margin tier, initial {initial:,} ppm "
        f"({float(Fraction(PPM, initial)):.4g}x), maintenance at the value"
    )
    return "margin.tiers[0].maintenance_ppm", note, maintenance


def summary(t: Threshold) -> dict[str, Any]:
    """The answer as plain data without its timings (a simulation's JSON carries no time): the
    boundary, the proved and refuted values, the effort units spent, a count."""
    return {
        "question": t.question,
        "title": t.title,
        "direction": t.direction.value,
        "status": t.status.value,
        "boundary": t.boundary,
        "value_ppm": t.value,
        "proved_at_ppm": t.proved_at,
        "refuted_at_ppm": t.refuted_at,
        "probes": len(t.probes),
        "units": sum(p.units for p in t.probes),
        "comparison": t.comparison,
        "note": t.note,
    }


def at_fraction(t: Threshold, fraction: Fraction) -> int:
    """``fraction``% of the proved value, rounded toward the proved side."""
    exact = Fraction(t.proved_at) * fraction / 100
    toward = Rounding.FLOOR if t.direction is Direction.LARGEST else Rounding.CEIL
    return div(exact.numerator, exact.denominator, rounding=toward)


def _cell(prepared: Prepared, question_id: str, effort: int, probes: int, params: dict[str, int]) -> ThresholdCell:
    """The threshold cell of ``question_id`` on the policy simulated, with ``solvent thresholds``'
    bounds (its own count of traders, ``effort`` units a probe)."""
    question = questions(**params)[question_id]
    bounds = default_bounds(accounts=question.accounts(prepared.policy) or 2, effort=effort)
    return ThresholdCell(prepared.policy, question_id, bounds, probes, tuple(sorted(params.items())))


def find(
    prepared: Prepared,
    question_id: str,
    *,
    effort: int = EFFORT,
    probes: int = PROBES,
    **params: int,
) -> tuple[Question, Threshold]:
    """The threshold on the policy simulated (its scenario's slippage included), found as a cell
    of a threshold grid is (``solvent.simulation.grids.answer_threshold``)."""
    [found] = find_cells([(prepared, question_id)], effort=effort, probes=probes, **params)
    return found


def find_all(
    prepared: Prepared,
    question_ids: Sequence[str],
    *,
    effort: int = EFFORT,
    probes: int = PROBES,
    executor: Executor | None = None,
    **params: int,
) -> list[tuple[Question, Threshold]]:
    """Each question's threshold on ``prepared`` (:func:`find_cells`), in the order asked."""
    cells = [(prepared, q) for q in question_ids]
    return find_cells(cells, effort=effort, probes=probes, executor=executor, **params)


def find_cells(
    cells: Sequence[tuple[Prepared, str]],
    *,
    effort: int = EFFORT,
    probes: int = PROBES,
    executor: Executor | None = None,
    **params: int,
) -> list[tuple[Question, Threshold]]:
    """The threshold of each (variant, question) cell, one task per cell on ``executor`` (in this
    process without one), in order: a threshold grid (``solvent.simulation.grids``), whose cells
    each spend their own count of units from a fresh start, so the answers are the same wherever
    they run. A simulation needs every answer: a cell without one is an :class:`ExecutorError`
    that names it."""
    table = questions(**params)
    answers = find_thresholds([_cell(p, q, effort, probes, params) for p, q in cells], executor)
    for (p, q), a in zip(cells, answers, strict=True):
        if isinstance(a, CellError):
            raise ExecutorError(f"threshold {q} on {p.policy.name}: {a}")
    return [(table[q], t) for (_, q), t in zip(cells, answers, strict=True)]


@attrs.frozen
class Plan:
    """What an edge runs: the threshold, the field it sets, and each fraction's value and variant."""

    threshold: Threshold
    field: str
    note: str
    points: tuple[tuple[Fraction, int, Prepared], ...]


def plan(prepared: Prepared, found: tuple[Question, Threshold], fractions: Sequence[Fraction] = FRACTIONS) -> Plan:
    """Each fraction's value and variant, checked before any path runs: a threshold that does not
    apply is a :class:`SweepError`, one without a proved value :class:`NoProvedValue`, and a value
    the scenario cannot hold (a cap below 1 ppm) the validator's message."""
    question, t = found
    if t.status is ThresholdStatus.NOT_APPLICABLE:
        raise SweepError(f"{question.id} does not apply to {prepared.policy.name}: {t.note}")
    if t.proved_at is None:
        raise NoProvedValue(
            f"{question.id} on {prepared.policy.name}: no proved value to take fractions of ({t.boundary}); "
            f"a larger --threshold-effort or --threshold-probes may decide it"
        )
    field, note, setter = _setter(question, prepared.policy)
    points = []
    for f in fractions:
        value = at_fraction(t, f)
        points.append((f, value, setter(prepared, value)))
    return Plan(t, field, note, tuple(points))


def edge(
    prepared: Prepared,
    question_id: str,
    fractions: Sequence[Fraction] = FRACTIONS,
    *,
    paths: int,
    seed: int,
    executor: Executor | None = None,
    until: float | None = None,
    batch: int = DEFAULT_BATCH,
    engine: str = "fast",
    effort: int = EFFORT,
    probes: int = PROBES,
    planned: Plan | None = None,
    **params: int,
) -> Sweep:
    """The scenario at ``fractions`` of ``question_id``'s proved value (see the module docstring).
    ``planned``: a :func:`plan` made already (its threshold and fractions are used)."""
    if planned is None:
        planned = plan(prepared, find(prepared, question_id, effort=effort, probes=probes, **params), fractions)
    t = planned.threshold
    results = run(
        [(v, p) for _, v, p in planned.points],
        paths=paths,
        seed=seed,
        executor=executor,
        until=until,
        batch=batch,
        engine=engine,
    )
    points = tuple(
        Point(v, r, fraction=f, side=side(t, v)) for (f, v, _), r in zip(planned.points, results, strict=True)
    )
    return Sweep(planned.field, points, threshold=summary(t), note=planned.note, base=prepared.policy)


__all__ = [
    "EFFORT",
    "FIELDS",
    "FRACTIONS",
    "NoProvedValue",
    "PROBES",
    "Plan",
    "at_fraction",
    "edge",
    "find",
    "find_all",
    "find_cells",
    "plan",
    "summary",
]

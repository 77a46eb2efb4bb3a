"""The finding model: every violation of a report grouped into findings, one per failing step of
one story, each listing every claim that story breaks there (a story is judged against every claim,
``solvent.verdicts.check.cross_judged``). Renderers number and tell these groups; they do not
regroup.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from solvent.rules.engine import Step
from solvent.verdicts.check import ClaimStatus, ClaimVerdict, PolicyReport, Violation


@attrs.frozen
class FindingGroup:
    """One failing step of one story, with every invariant it breaks (each told once)."""

    number: int
    violation: Violation
    invariants: tuple[str, ...]
    #: the subset of ``invariants`` whose failure the policy accepts
    accepted: tuple[str, ...]

    @property
    def labels(self) -> list[str]:
        return [i + (" (accepted)" if i in self.accepted else "") for i in self.invariants]

    @property
    def all_accepted(self) -> bool:
        return set(self.invariants) == set(self.accepted)

    @property
    def step(self) -> Step:
        return self.violation.step

    @property
    def anchor(self) -> str:
        return f"finding-{self.number}"


def _key(violation: Violation) -> tuple:
    first = violation.scenario if violation.origin == "scenario" else violation.origin
    return (first, violation.step_index, violation.story.book, violation.story.events)


def group_findings(report: PolicyReport) -> tuple[FindingGroup, ...]:
    """Every violation of the report, grouped by (story, failing step), in verdict order."""
    order: dict[tuple, Violation] = {}
    ids: dict[tuple, list[str]] = {}
    accepted: dict[tuple, list[str]] = {}
    for v in report.verdicts:
        for violation in v.violations:
            key = _key(violation)
            order.setdefault(key, violation)
            ids.setdefault(key, []).append(v.invariant.id)
            if v.status is ClaimStatus.ACCEPTED:
                accepted.setdefault(key, []).append(v.invariant.id)
    return tuple(
        FindingGroup(n, violation, tuple(ids[key]), tuple(accepted.get(key, ())))
        for n, (key, violation) in enumerate(order.items(), start=1)
    )


def number_of(violation: Violation, groups: Sequence[FindingGroup]) -> int | None:
    """The number of the finding group that tells this violation."""
    key = _key(violation)
    return next((g.number for g in groups if _key(g.violation) == key), None)


def groups_of(verdict: ClaimVerdict, groups: Sequence[FindingGroup]) -> list[FindingGroup]:
    """The finding groups that tell this verdict's violations."""
    keys = {_key(v) for v in verdict.violations}
    return [g for g in groups if _key(g.violation) in keys]


__all__ = ["FindingGroup", "group_findings", "groups_of", "number_of"]

"""The policy diff model: two versions of a policy compared: failures that appeared or vanished, verdicts that changed,
policy fields that changed, and rows added by extensions (thresholds that moved).

The new version is **worse** when an invariant fails in it that did not fail (unaccepted) in the
old one, or when an extension row says so; ``solvent diff`` then exits 1. A failure the new
version merely declares accepted is not worse, but it is listed ("now accepted") for review.

Extension point: :data:`ROW_SOURCES` holds functions ``(old_report, new_report) -> [DiffRow]``.
:func:`thresholds_moved` reports boundaries that moved ("largest one-tick move with no bad debt
0.8% → 0.5%", worse) when both checks computed thresholds; :func:`proofs_changed` the invariants
z3 newly proves or no longer proves when both checks proved within a budget.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from solvent.rules.loading import dumps_policy
from solvent.rules.policy import Policy
from solvent.verdicts.check import ClaimStatus, ClaimVerdict, PolicyReport
from solvent.verdicts.findings import group_findings

FAILING = (ClaimStatus.FAILS, ClaimStatus.ACCEPTED)
_SKIPPED_FIELDS = ("description", "sources")


@attrs.frozen
class VerdictChange:
    """One invariant whose verdict differs between the two versions."""

    invariant: str
    claim: str
    old: ClaimStatus
    new: ClaimStatus
    #: the two verdicts, for what each rests on (``reports.story.evidence``)
    old_verdict: ClaimVerdict
    new_verdict: ClaimVerdict

    @property
    def kind(self) -> str:
        old_fails, new_fails = self.old in FAILING, self.new in FAILING
        if self.old is self.new:
            return "fails in another story"
        if not old_fails and new_fails:
            return "failure appeared" if self.new is ClaimStatus.FAILS else "accepted failure appeared"
        if old_fails and not new_fails:
            return "failure vanished"
        if old_fails and new_fails:
            return "now accepted" if self.new is ClaimStatus.ACCEPTED else "no longer accepted"
        return "coverage changed"

    @property
    def worse(self) -> bool:
        return self.new is ClaimStatus.FAILS and self.old is not ClaimStatus.FAILS


@attrs.frozen
class FieldChange:
    """A policy field (dotted TOML path) whose value differs; None where absent."""

    key: str
    old: Any
    new: Any


@attrs.frozen
class DiffRow:
    """A row an extension adds, e.g. section "thresholds moved", subject "largest safe gap"."""

    section: str
    subject: str
    old: str
    new: str
    worse: bool = False


#: For each threshold question, which direction of the boundary is worse for users: a smaller
#: safe move, a larger fund or maintenance rate needed. ``None``: a change is listed, not judged
#: (a lower penalty that bankrupts every liquidation is neither safer nor riskier by itself).
WORSE_WHEN = {
    "safe-move": "lower",
    "cross-market-safe-move": "lower",
    "fund-for-gap": "higher",
    "maintenance-for-leverage": "higher",
    "penalty-bankrupts": None,
}


def thresholds_moved(old: PolicyReport, new: PolicyReport) -> list[DiffRow]:
    """A row for every threshold whose answer changed (``check --thresholds`` on both sides).

    Worse when both answers are decided and the boundary moved toward risk (:data:`WORSE_WHEN`),
    or when a boundary that existed is gone ("none": no value in the range is safe any more).
    An undecided side is shown, never judged.
    """
    from solvent.solver.thresholds import ThresholdStatus as T

    before = {(t.question, t.market): t for t in old.thresholds}  # a per-market question: one per market
    rows = []
    for t in new.thresholds:
        o = before.get((t.question, t.market))
        if o is None or (o.status, o.proved_at, o.refuted_at) == (t.status, t.proved_at, t.refuted_at):
            continue
        direction = WORSE_WHEN.get(t.question)
        worse = False
        if direction is not None and o.value is not None and t.value is not None:
            worse = t.value < o.value if direction == "lower" else t.value > o.value
        elif direction is not None and o.status in (T.EXACT, T.ALL) and t.status is T.NONE:
            worse = True
        rows.append(DiffRow("thresholds moved", t.title, o.boundary, t.boundary, worse))
    return rows


def proofs_changed(old: PolicyReport, new: PolicyReport) -> list[DiffRow]:
    """Invariants z3 newly proved, or no longer proves (``check`` with a proof budget on both sides).

    A proof lost to a refutation is worse (and the verdict table shows the new failure); one lost
    to a timeout is listed only: a budget, not the policy, may explain it.
    """
    before = {v.invariant.id: v.proof for v in old.verdicts if v.proof is not None}
    rows = []
    for v in new.verdicts:
        o, n = before.get(v.invariant.id), v.proof
        if o is None or n is None or o.verdict is n.verdict:
            continue
        label = "newly proved" if n.proved else "proof lost" if o.proved else "z3 verdict changed"
        old_text = f"{o.verdict.value} ({o.scope.text})"
        new_text = (
            f"{n.verdict.value} ({n.scope.text})"
            if n.proved or n.verdict.value == "refuted"
            else f"{n.verdict.value}: {n.reason[:80]}"
        )
        rows.append(
            DiffRow(
                "proofs",
                f"{v.invariant.id}: {label}",
                old_text,
                new_text,
                worse=o.proved and n.verdict.value == "refuted",
            )
        )
    return rows


#: Functions that add rows to every policy diff, from the two checks; append to extend.
ROW_SOURCES: list[Callable[[PolicyReport, PolicyReport], Sequence[DiffRow]]] = [thresholds_moved, proofs_changed]


@attrs.frozen
class PolicyDiff:
    old: PolicyReport
    new: PolicyReport
    verdicts: tuple[VerdictChange, ...]
    fields: tuple[FieldChange, ...]
    rows: tuple[DiffRow, ...]
    unchanged: tuple[str, ...]

    @property
    def worse(self) -> bool:
        return any(c.worse for c in self.verdicts) or any(r.worse for r in self.rows)

    @property
    def no_change(self) -> bool:
        """Nothing differs: no rule (a policy field but its description and sources), no verdict, no row."""
        return not (self.fields or self.verdicts or self.rows)

    @property
    def appeared(self) -> tuple[VerdictChange, ...]:
        return tuple(c for c in self.verdicts if c.old not in FAILING and c.new in FAILING)

    @property
    def vanished(self) -> tuple[VerdictChange, ...]:
        return tuple(c for c in self.verdicts if c.old in FAILING and c.new not in FAILING)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def field_changes(old: Policy, new: Policy) -> list[FieldChange]:
    """Every field whose value differs, as the policies are written out (defaults made explicit)."""
    a = _flatten(tomllib.loads(dumps_policy(old)))
    b = _flatten(tomllib.loads(dumps_policy(new)))
    keys = list(dict.fromkeys([*a, *b]))
    return [
        FieldChange(k, a.get(k), b.get(k))
        for k in keys
        if a.get(k) != b.get(k) and k.split(".")[0] not in _SKIPPED_FIELDS
    ]


def _story_keys(report: PolicyReport, invariant: str) -> set:
    """The stress scenarios (and failing steps) in which ``invariant`` fails.

    Only scenario stories are compared: they follow from the policy alone. The stories of the
    search, of z3 and of the findings database depend on what the database held when each side
    was checked, and the old side saves what it finds before the new side is checked, so the new
    side of ``solvent diff P P`` replays more stories than the old one had: comparing those would
    report "fails in another story" for a policy against itself.
    """
    return {
        (g.violation.scenario, g.violation.step_index)
        for g in group_findings(report)
        if invariant in g.invariants and g.violation.origin == "scenario"
    }


def diff_reports(old: PolicyReport, new: PolicyReport) -> PolicyDiff:
    """Compare the verdicts of two checks of (versions of) a policy, invariant by invariant."""
    before = {v.invariant.id: v for v in old.verdicts}
    changes, unchanged = [], []
    for v in new.verdicts:
        o = before.get(v.invariant.id)
        if o is None:
            continue
        same_story = o.status not in FAILING or _story_keys(old, v.invariant.id) == _story_keys(new, v.invariant.id)
        if o.status is v.status and same_story:
            unchanged.append(v.invariant.id)
            continue
        changes.append(VerdictChange(v.invariant.id, v.invariant.claim, o.status, v.status, o, v))
    rows = tuple(r for source in ROW_SOURCES for r in source(old, new))
    return PolicyDiff(old, new, tuple(changes), tuple(field_changes(old.policy, new.policy)), rows, tuple(unchanged))


# --- rendering -----------------------------------------------------------------------------------

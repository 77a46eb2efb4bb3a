"""Two versions of a policy compared: failures that appeared or vanished, verdicts that changed,
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

import json
import tomllib
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from solvent.properties.findings import policy_digest
from solvent.reports import markdown
from solvent.reports.story import KEY, LABEL, evidence, group_findings, told
from solvent.rules.loading import dumps_policy
from solvent.rules.policy import Policy
from solvent.verdicts.check import ClaimStatus, PolicyReport

SCHEMA = "solvent.diff/1"
FAILING = (ClaimStatus.FAILS, ClaimStatus.ACCEPTED)
_SKIPPED_FIELDS = ("description", "sources")


@attrs.frozen
class VerdictChange:
    """One invariant whose verdict differs between the two versions."""

    invariant: str
    claim: str
    old: ClaimStatus
    new: ClaimStatus
    old_evidence: str
    new_evidence: str

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

    before = {t.question: t for t in old.thresholds}
    rows = []
    for t in new.thresholds:
        o = before.get(t.question)
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
        changes.append(VerdictChange(v.invariant.id, v.invariant.claim, o.status, v.status, evidence(o), evidence(v)))
    rows = tuple(r for source in ROW_SOURCES for r in source(old, new))
    return PolicyDiff(old, new, tuple(changes), tuple(field_changes(old.policy, new.policy)), rows, tuple(unchanged))


# --- rendering -----------------------------------------------------------------------------------


def _value(x: Any) -> str:
    return "(absent)" if x is None else json.dumps(x, ensure_ascii=False) if not isinstance(x, (int, str)) else str(x)


#: What every format says when nothing differs (``solvent diff P P``).
NO_CHANGE = "no change: the same rules, verdicts and thresholds"


def verdict_line(d: PolicyDiff) -> str:
    if d.no_change:
        return NO_CHANGE
    if not d.worse:
        return "not worse: no new failure"
    failing = [c.invariant for c in d.verdicts if c.worse]
    return (
        f"WORSE: {', '.join(failing)} now fail{'s' if len(failing) == 1 else ''}"
        if failing
        else "WORSE: see the rows below"
    )


def render_text(d: PolicyDiff) -> str:
    from tabulate import tabulate

    from solvent.reports.text import story

    out = [
        f"Policy diff: {d.old.source} → {d.new.source} ({d.old.policy.name} → {d.new.policy.name})",
        verdict_line(d),
        "",
    ]
    if d.fields:
        out += [
            "Fields changed:",
            tabulate(
                [(f.key, _value(f.old), _value(f.new)) for f in d.fields],
                headers=("field", "old", "new"),
                tablefmt="simple",
            ),
            "",
        ]
    if d.verdicts:
        rows = [(c.invariant, LABEL[c.old], LABEL[c.new], c.kind, c.new_evidence) for c in d.verdicts]
        out += [
            "Verdicts changed:",
            tabulate(rows, headers=("invariant", "old", "new", "change", "new evidence"), tablefmt="simple"),
            "",
        ]
    else:
        out += ["No verdict changed.", ""]
    for section in dict.fromkeys(r.section for r in d.rows):
        rows = [(r.subject, r.old, r.new, "worse" if r.worse else "") for r in d.rows if r.section == section]
        out += [f"{section.capitalize()}:", tabulate(rows, headers=("", "old", "new", ""), tablefmt="simple"), ""]
    out.append(f"{len(d.unchanged)} invariants unchanged.")
    appeared = {c.invariant for c in d.appeared}
    for g in group_findings(d.new):
        if appeared & set(g.invariants):
            out += ["", "New failure:", story(g.violation, g.labels, d.new)]
    return "\n".join(out)


def render_markdown(d: PolicyDiff) -> str:
    out = [f"# Policy diff: `{d.old.source}` → `{d.new.source}`", "", f"**{verdict_line(d)}**", ""]
    if d.fields:
        out += [
            "## Fields changed",
            "",
            *markdown.table(("field", "old", "new"), [(f"`{f.key}`", _value(f.old), _value(f.new)) for f in d.fields]),
            "",
        ]
    out += ["## Verdicts changed", ""]
    if d.verdicts:
        rows = [
            (f"`{c.invariant}`", LABEL[c.old], LABEL[c.new], f"**{c.kind}**" if c.worse else c.kind, c.new_evidence)
            for c in d.verdicts
        ]
        out += markdown.table(("invariant", "old", "new", "change", "new evidence"), rows) + [""]
    else:
        out += ["No verdict changed.", ""]
    for section in dict.fromkeys(r.section for r in d.rows):
        rows = [(r.subject, r.old, r.new, "**worse**" if r.worse else "") for r in d.rows if r.section == section]
        out += [f"## {section.capitalize()}", "", *markdown.table(("", "old", "new", ""), rows), ""]
    out += [f"{len(d.unchanged)} invariants unchanged.", ""]
    appeared = {c.invariant for c in d.appeared}
    stories = [t for t in told(d.new) if appeared & set(t.group.invariants)]
    if stories:
        out += ["## New failures", ""]
        for t in stories:
            out += markdown.finding(t)
    return "\n".join(out).rstrip() + "\n"


def diff_data(d: PolicyDiff) -> dict[str, Any]:
    from solvent.reports.json_report import finding_data

    def side(r: PolicyReport) -> dict[str, Any]:
        return {"source": r.source, "name": r.policy.name, "digest": policy_digest(r.policy), "failed": r.failed}

    appeared = {c.invariant for c in d.appeared}
    return {
        "schema": SCHEMA,
        "old": side(d.old),
        "new": side(d.new),
        "worse": d.worse,
        "no_change": d.no_change,
        "summary": verdict_line(d),
        "fields": [{"key": f.key, "old": f.old, "new": f.new} for f in d.fields],
        "verdicts": [
            {
                "invariant": c.invariant,
                "old": KEY[c.old],
                "new": KEY[c.new],
                "change": c.kind,
                "worse": c.worse,
                "old_evidence": c.old_evidence,
                "new_evidence": c.new_evidence,
            }
            for c in d.verdicts
        ],
        "rows": [attrs.asdict(r) for r in d.rows],
        "unchanged": list(d.unchanged),
        "new_findings": [finding_data(t) for t in told(d.new) if appeared & set(t.group.invariants)],
    }


def render_json(d: PolicyDiff) -> str:
    return json.dumps(diff_data(d), indent=2, ensure_ascii=False, default=str) + "\n"


def render_sarif(d: PolicyDiff) -> str:
    """SARIF for code scanning: each changed verdict on the line that changed (``sarif.render_diff``)."""
    from solvent.reports.sarif import render_diff

    return render_diff([d])


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json, "sarif": render_sarif}


def render(fmt: str, diffs: Sequence[PolicyDiff]) -> str:
    """A diff in ``text``, ``markdown``, ``json`` or ``sarif`` (``formats.write`` calls this with one diff)."""
    (d,) = diffs
    return RENDERERS[fmt](d)


__all__ = [
    "NO_CHANGE",
    "DiffRow",
    "FieldChange",
    "PolicyDiff",
    "ROW_SOURCES",
    "SCHEMA",
    "VerdictChange",
    "WORSE_WHEN",
    "diff_reports",
    "field_changes",
    "proofs_changed",
    "render",
    "thresholds_moved",
]

"""Two versions of a policy compared: failures that appeared or vanished, verdicts that changed,
policy fields that changed, and rows added by extensions (thresholds that moved).

The new version is **worse** when an invariant fails in it that did not fail (unaccepted) in the
old one, or when an extension row says so; ``solvent diff`` then exits 1. A failure the new
version merely declares accepted is not worse, but it is listed ("now accepted") for review.

Extension point: :data:`ROW_SOURCES` holds functions ``(old_policy, new_policy) -> [DiffRow]``.
:func:`thresholds_moved` is the place the solver's threshold synthesis will report "largest safe
gap 3.1% → 2.4%"; until then it adds no row.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from solvent.properties.check import PolicyReport, Status
from solvent.properties.findings import policy_digest
from solvent.reports import markdown
from solvent.reports.story import KEY, LABEL, evidence, group_findings, told
from solvent.rules.loading import dumps_policy
from solvent.rules.policy import Policy

SCHEMA = "solvent.diff/1"
FAILING = (Status.FAILS, Status.ACCEPTED)
_SKIPPED_FIELDS = ("description", "sources")


@attrs.frozen
class VerdictChange:
    """One invariant whose verdict differs between the two versions."""

    invariant: str
    claim: str
    old: Status
    new: Status
    old_evidence: str
    new_evidence: str

    @property
    def kind(self) -> str:
        old_fails, new_fails = self.old in FAILING, self.new in FAILING
        if self.old is self.new:
            return "fails in another story"
        if not old_fails and new_fails:
            return "failure appeared" if self.new is Status.FAILS else "accepted failure appeared"
        if old_fails and not new_fails:
            return "failure vanished"
        if old_fails and new_fails:
            return "now accepted" if self.new is Status.ACCEPTED else "no longer accepted"
        return "coverage changed"

    @property
    def worse(self) -> bool:
        return self.new is Status.FAILS and self.old is not Status.FAILS


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


def thresholds_moved(old: Policy, new: Policy) -> list[DiffRow]:
    """Extension point for "thresholds moved" rows (largest gap with no bad debt, smallest fund
    with no ADL, ...), to be filled from ``solvent.solver``'s threshold synthesis. Returns no row
    until that exists; a row with ``worse=True`` makes ``solvent diff`` exit 1."""
    return []


#: Functions that add rows to every policy diff; append to extend.
ROW_SOURCES: list[Callable[[Policy, Policy], Sequence[DiffRow]]] = [thresholds_moved]


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
    return [FieldChange(k, a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k) and k.split(".")[0] not in _SKIPPED_FIELDS]


def _story_keys(report: PolicyReport, invariant: str) -> set:
    return {(g.violation.scenario, g.violation.step_index) for g in group_findings(report) if invariant in g.invariants}


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
    rows = tuple(r for source in ROW_SOURCES for r in source(old.policy, new.policy))
    return PolicyDiff(old, new, tuple(changes), tuple(field_changes(old.policy, new.policy)), rows, tuple(unchanged))


# --- rendering -----------------------------------------------------------------------------------


def _value(x: Any) -> str:
    return "(absent)" if x is None else json.dumps(x, ensure_ascii=False) if not isinstance(x, (int, str)) else str(x)


def verdict_line(d: PolicyDiff) -> str:
    if not d.worse:
        return "not worse: no new failure"
    failing = [c.invariant for c in d.verdicts if c.worse]
    return f"WORSE: {', '.join(failing)} now fail{'s' if len(failing) == 1 else ''}" if failing else "WORSE: see the rows below"


def render_text(d: PolicyDiff) -> str:
    from tabulate import tabulate

    from solvent.reports.text import story

    out = [f"Policy diff: {d.old.source} → {d.new.source} ({d.old.policy.name} → {d.new.policy.name})", verdict_line(d), ""]
    if d.fields:
        out += ["Fields changed:", tabulate([(f.key, _value(f.old), _value(f.new)) for f in d.fields], headers=("field", "old", "new"), tablefmt="simple"), ""]
    if d.verdicts:
        rows = [(c.invariant, LABEL[c.old], LABEL[c.new], c.kind, c.new_evidence) for c in d.verdicts]
        out += ["Verdicts changed:", tabulate(rows, headers=("invariant", "old", "new", "change", "new evidence"), tablefmt="simple"), ""]
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
        out += ["## Fields changed", "", *markdown.table(("field", "old", "new"), [(f"`{f.key}`", _value(f.old), _value(f.new)) for f in d.fields]), ""]
    out += ["## Verdicts changed", ""]
    if d.verdicts:
        rows = [(f"`{c.invariant}`", LABEL[c.old], LABEL[c.new], f"**{c.kind}**" if c.worse else c.kind, c.new_evidence) for c in d.verdicts]
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
        "fields": [{"key": f.key, "old": f.old, "new": f.new} for f in d.fields],
        "verdicts": [
            {"invariant": c.invariant, "old": KEY[c.old], "new": KEY[c.new], "change": c.kind, "worse": c.worse, "old_evidence": c.old_evidence, "new_evidence": c.new_evidence}
            for c in d.verdicts
        ],
        "rows": [attrs.asdict(r) for r in d.rows],
        "unchanged": list(d.unchanged),
        "new_findings": [finding_data(t) for t in told(d.new) if appeared & set(t.group.invariants)],
    }


def render_json(d: PolicyDiff) -> str:
    return json.dumps(diff_data(d), indent=2, ensure_ascii=False, default=str) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}


def render(fmt: str, diffs: Sequence[PolicyDiff]) -> str:
    """A diff in ``text``, ``markdown`` or ``json`` (``formats.write`` calls this with one diff)."""
    (d,) = diffs
    return RENDERERS[fmt](d)


__all__ = ["DiffRow", "FieldChange", "PolicyDiff", "ROW_SOURCES", "SCHEMA", "VerdictChange", "diff_reports", "field_changes", "render", "thresholds_moved"]

"""How a policy diff reads (the model is ``solvent.verdicts.diff``): text, Markdown, JSON
(schema ``solvent.diff/1``) and SARIF."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs

from solvent.properties.findings import policy_digest
from solvent.reports import markdown
from solvent.reports.story import KEY, LABEL, evidence, told
from solvent.reports.text import WIDTH
from solvent.verdicts.check import PolicyReport
from solvent.verdicts.diff import PolicyDiff
from solvent.verdicts.findings import group_findings

SCHEMA = "solvent.diff/1"


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


def render_text(d: PolicyDiff, width: int = WIDTH) -> str:
    """The diff as text, every line within ``width`` columns (default :data:`text.WIDTH`, what a
    file or a pipe gets; a terminal gets its own width): the tables' long columns are folded, as
    ``solvent check``'s are, and the new failures' stories are told at that width. A command to
    run again is never folded (``text.story``), but moves to a line of its own when it does not fit."""
    from solvent.reports.terminal import table
    from solvent.reports.text import _wrap, story

    out = [
        *_wrap(f"Policy diff: {d.old.source} → {d.new.source} ({d.old.policy.name} → {d.new.policy.name})", width),
        *_wrap(verdict_line(d), width),
        "",
    ]
    if d.fields:
        rows = [(f.key, _value(f.old), _value(f.new)) for f in d.fields]
        out += ["Fields changed:", table(rows, ("field", "old", "new"), width, wrap=(0, 1, 2)), ""]
    if d.verdicts:
        rows = [(c.invariant, LABEL[c.old], LABEL[c.new], c.kind, evidence(c.new_verdict)) for c in d.verdicts]
        headers = ("invariant", "old", "new", "change", "new evidence")
        out += ["Verdicts changed:", table(rows, headers, width, wrap=(1, 2, 3, 4)), ""]
    else:
        out += ["No verdict changed.", ""]
    for section in dict.fromkeys(r.section for r in d.rows):
        rows = [(r.subject, r.old, r.new, "worse" if r.worse else "") for r in d.rows if r.section == section]
        out += [f"{section.capitalize()}:", table(rows, ("", "old", "new", ""), width, wrap=(0, 1, 2)), ""]
    out.append(f"{len(d.unchanged)} invariants unchanged.")
    appeared = {c.invariant for c in d.appeared}
    for g in group_findings(d.new):
        if appeared & set(g.invariants):
            out += ["", "New failure:", story(g.violation, g.labels, d.new, width)]
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
            (
                f"`{c.invariant}`",
                LABEL[c.old],
                LABEL[c.new],
                f"**{c.kind}**" if c.worse else c.kind,
                evidence(c.new_verdict),
            )
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
                "old_evidence": evidence(c.old_verdict),
                "new_evidence": evidence(c.new_verdict),
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


def render(fmt: str, diffs: Sequence[PolicyDiff], width: int = WIDTH) -> str:
    """A diff in ``text`` (folded to ``width``), ``markdown``, ``json`` or ``sarif``
    (``formats.write`` calls this with one diff)."""
    (d,) = diffs
    return render_text(d, width) if fmt == "text" else RENDERERS[fmt](d)


__all__ = [
    "NO_CHANGE",
    "RENDERERS",
    "SCHEMA",
    "diff_data",
    "render",
    "render_json",
    "render_markdown",
    "render_sarif",
    "render_text",
    "verdict_line",
]

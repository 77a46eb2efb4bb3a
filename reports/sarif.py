"""SARIF 2.1.0: each failing policy × invariant as a code-scanning result on the policy file.

A result points at the line of the rule involved (``locate``): the ``[[deficit]]`` layer that took
a winner's profit, the ``[liquidation]`` trigger, the ADL ranking, so a code-scanning UI
annotates that line in the pull request's diff. Each invariant of the catalog is a reporting rule
(``tool.driver.rules``) with its claim and severity.

Written for the platforms that read it (GitHub code scanning first):

- **Paths** are relative URIs under a base id declared in ``originalUriBaseIds``, never absolute
  paths of the machine that ran the check: a policy file under the working directory is
  ``%SRCROOT%``-relative (run ``solvent`` from the repository root, as CI does), a bundled preset
  is ``rules/presets/NAME.toml`` under ``SOLVENTROOT`` (Solvent's source tree: the same path in
  the repository and in an installed package), wherever Solvent is installed. The base ids carry
  no absolute ``uri``, so the document is the same on every machine; only a file outside the
  working directory keeps an absolute ``file:`` URI.
- **An accepted trade-off** (a failure the policy lists in ``accepts``) is not an open alert:
  GitHub ignores ``suppressions``, so such a result is ``"kind": "informational"`` with level
  ``"none"`` (SARIF requires ``none`` for any kind but ``fail``) and still carries its ``inSource``
  suppression, located at the ``accepts`` line, with the justification. Only unaccepted failures
  are alerts: ``error`` for a critical or high invariant, ``warning`` for a medium one.
- **A diff** (``solvent diff --format sarif``, :func:`render_diff`) puts each changed verdict on
  the policy line that changed between the two versions (the changed field nearest the rule
  involved), with the rule's own line as a ``relatedLocations`` entry; a new failure keeps its
  invariant's level, an old failure failing in another story is a ``note``, a newly accepted one
  is informational. A threshold or proof row that makes the diff worse is an error result too,
  so the alerts agree with the exit code.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from solvent.properties.catalog import Invariant, Severity
from solvent.reports.json_report import version
from solvent.reports.story import (
    KEY,
    Told,
    bankruptcies,
    deficit_sentence,
    describe_event,
    evidence,
    origin_label,
    told,
)
from solvent.verdicts.check import ClaimStatus, ClaimVerdict, PolicyReport
from solvent.verdicts.findings import groups_of
from solvent.verdicts.locate import RuleRef, key_lines, locate_accepts, policy_file

if TYPE_CHECKING:
    from solvent.verdicts.diff import PolicyDiff

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning"}
SRCROOT = "%SRCROOT%"
SOLVENTROOT = "SOLVENTROOT"
#: The base ids every location is relative to; no absolute ``uri``: the consumer (GitHub: the
#: repository root) resolves them, so the document does not depend on where it was made.
BASE_IDS = {
    SRCROOT: {
        "description": {
            "text": "The root of the repository under check: the working directory solvent ran in. Policy files are relative to it."
        }
    },
    SOLVENTROOT: {
        "description": {
            "text": "The root of Solvent's source tree (the solvent package folder when installed): bundled presets are rules/presets/NAME.toml in it."
        }
    },
}


def _camel(id: str) -> str:
    return "".join(part.capitalize() for part in id.split("-"))


def rule(inv: Invariant) -> dict[str, Any]:
    return {
        "id": inv.id,
        "name": _camel(inv.id),
        "shortDescription": {"text": inv.claim},
        "fullDescription": {"text": f"Solvent invariant {inv.id} ({inv.severity.value}): {inv.claim}."},
        "help": {
            "text": f"Run `solvent check POLICY --invariant {inv.id}` to see the failing story; list the id in the policy's `accepts` if the venue gives this up by design."
        },
        "defaultConfiguration": {"level": LEVEL[inv.severity]},
        "properties": {
            "tags": ["solvent", "risk-policy"],
            "severity": inv.severity.value,
            "problem.severity": LEVEL[inv.severity],
        },
    }


def artifact(path: Path) -> dict[str, str]:
    """A policy file as a SARIF ``artifactLocation``: a bundled preset under ``SOLVENTROOT``, a
    file under the working directory under ``%SRCROOT%``, anything else an absolute file URI."""
    from solvent.rules.presets import PRESETS_DIR

    resolved = Path(path).resolve()
    for base, root, prefix in (
        (SOLVENTROOT, PRESETS_DIR.resolve(), "rules/presets/"),
        (SRCROOT, Path.cwd().resolve(), ""),
    ):
        if resolved.is_relative_to(root):
            return {"uri": quote(prefix + resolved.relative_to(root).as_posix()), "uriBaseId": base}
    return {"uri": resolved.as_uri()}


def physical(ref: RuleRef, report: PolicyReport) -> dict[str, Any]:
    """A location on the policy file (a logical location when the policy has no file)."""
    if ref.file is None:
        return {"logicalLocations": [{"name": report.policy.name, "kind": "module"}]}
    return {"physicalLocation": {"artifactLocation": artifact(ref.file), "region": {"startLine": ref.line}}}


def message(report: PolicyReport, v: ClaimVerdict, t: Told | None) -> str:
    fails = "fails, as the policy accepts (a trade-off by design)" if v.status is ClaimStatus.ACCEPTED else "fails"
    head = f"{report.policy.name}: {v.invariant.id} {fails} — {v.invariant.claim}."
    if t is None:
        return head
    g = t.group
    s = g.violation.step
    said = " ".join(
        deficit_sentence(b, t.money) for b in bankruptcies(t.steps) if b.step_index == g.violation.step_index
    )
    event = describe_event(s.event, s.before, report.policy.contract, t.money)
    story = f" {origin_label(g.violation).capitalize()}, step {g.violation.step_index + 1}: {event}."
    return (
        head
        + story
        + (f" {said}" if said else "")
        + f" Rule involved: {t.rule.key}. Reproduce: {t.replay}"
        + (f" ({t.replay_note})" if t.replay_note else "")
    )


def fingerprint(report: PolicyReport, v: ClaimVerdict) -> str:
    return hashlib.sha256(f"{report.policy.name}\0{v.invariant.id}".encode()).hexdigest()[:32]


def _told(v: ClaimVerdict, findings: Sequence[Told]) -> Told | None:
    """The first finding that tells this verdict's failure."""
    groups = groups_of(v, [t.group for t in findings])
    return next((t for t in findings if groups and t.group == groups[0]), None)


def rule_ref(report: PolicyReport, v: ClaimVerdict, findings: Sequence[Told]) -> RuleRef:
    """The line of the rule involved in the verdict's failure (the policy's name without a story)."""
    t = _told(v, findings)
    return t.rule if t else RuleRef("name", "name", 1, policy_file(report.source))


def result(report: PolicyReport, v: ClaimVerdict, index: int, findings: Sequence[Told]) -> dict[str, Any]:
    t = _told(v, findings)
    ref = rule_ref(report, v, findings)
    accepted = v.status is ClaimStatus.ACCEPTED
    out: dict[str, Any] = {
        "ruleId": v.invariant.id,
        "ruleIndex": index,
        # an accepted trade-off is no open alert (GitHub ignores suppressions): informational,
        # and SARIF wants level "none" for every kind but "fail"
        "level": "none" if accepted else LEVEL[v.invariant.severity],
        "kind": "informational" if accepted else "fail",
        "message": {"text": message(report, v, t)},
        "locations": [{**physical(ref, report), "message": {"text": f"{ref.key}: the rule involved"}}],
        "partialFingerprints": {"solventPolicyInvariant/v1": fingerprint(report, v)},
        "properties": {
            "policy": report.policy.name,
            "source": report.source,
            "verdict": "accepted" if accepted else "fails",
            "evidence": evidence(v),
            "replay": t.replay if t else "",
        },
    }
    if accepted:
        accepts = locate_accepts(report.policy, policy_file(report.source))
        suppression: dict[str, Any] = {
            "kind": "inSource",
            "status": "accepted",
            "justification": f"{report.policy.name} lists {v.invariant.id} in accepts: a trade-off by design",
        }
        if accepts.file is not None:
            suppression["location"] = physical(accepts, report)
        out["suppressions"] = [suppression]
    return out


def _invariants(reports: Sequence[PolicyReport]) -> list[Invariant]:
    seen: dict[str, Invariant] = {}
    for r in reports:
        for v in r.verdicts:
            seen.setdefault(v.invariant.id, v.invariant)
    return list(seen.values())


def _document(rules: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "solvent", "version": version(), "rules": rules}},
                "originalUriBaseIds": BASE_IDS,
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def sarif_data(reports: Sequence[PolicyReport]) -> dict[str, Any]:
    invariants = _invariants(reports)
    index = {inv.id: i for i, inv in enumerate(invariants)}
    results = []
    for r in reports:
        findings = told(r)
        results += [
            result(r, v, index[v.invariant.id], findings)
            for v in r.verdicts
            if v.status in (ClaimStatus.FAILS, ClaimStatus.ACCEPTED)
        ]
    return _document([rule(inv) for inv in invariants], results)


def render(reports: Sequence[PolicyReport]) -> str:
    return json.dumps(sarif_data(reports), indent=2, ensure_ascii=False) + "\n"


# --- a policy diff ------------------------------------------------------------------------------

_PART = re.compile(r"[^.\[\]]+|\[\d+\]")


def _parts(key: str) -> list[str]:
    """``deficit[1].cap_quote`` → ``["deficit", "[1]", "cap_quote"]``."""
    return _PART.findall(key)


def _shared(a: str, b: str) -> int:
    n = 0
    for x, y in zip(_parts(a), _parts(b), strict=False):
        if x != y:
            break
        n += 1
    return n


def _key_line(lines: dict[str, int], key: str) -> tuple[str, int] | None:
    """The line of ``key`` in the file, else of its nearest enclosing table or key."""
    parts = _parts(key)
    for n in range(len(parts), 0, -1):
        k = "".join(p if p.startswith("[") or i == 0 else "." + p for i, p in enumerate(parts[:n]))
        if k in lines:
            return k, lines[k]
    return None


def _text_changes(old: Path | None, new: Path) -> list[int]:
    """The lines of ``new`` that differ from ``old`` (every line, without an old file)."""
    import difflib

    new_lines = new.read_text(encoding="utf-8").splitlines()
    old_lines = old.read_text(encoding="utf-8").splitlines() if old is not None else []
    changed = []
    for tag, _, _, j1, j2 in difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes():
        if tag in ("replace", "insert"):
            changed += range(j1 + 1, j2 + 1)
    return changed


def changed_lines(d: PolicyDiff) -> list[RuleRef]:
    """The new version's lines that state a changed field (``diff.fields``), in field order: the
    field's own line, else its table's; without such a field (a change only in comments or
    descriptive text), the first line that differs textually. Empty without a new file."""
    new_file = policy_file(d.new.source)
    if new_file is None:
        return []
    lines = key_lines(new_file.read_text(encoding="utf-8"))
    refs = []
    for f in d.fields:
        found = _key_line(lines, f.key)
        if found is not None:
            refs.append(RuleRef(f.key, found[0], found[1], new_file))
    if not refs:
        refs = [
            RuleRef("(text)", "(changed text)", n, new_file)
            for n in _text_changes(policy_file(d.old.source), new_file)[:1]
        ]
    return refs


def _nearest_change(changes: Sequence[RuleRef], rule_key: str) -> RuleRef | None:
    """The changed line most related to the rule involved: the longest shared key path, and
    then a policy field before the policy's name (renaming a version changes no rule)."""
    if not changes:
        return None
    return max(changes, key=lambda c: (_shared(c.wanted, rule_key), c.wanted != "name", -changes.index(c)))


def _on_change(out: dict[str, Any], report: PolicyReport, rule: RuleRef, change: RuleRef | None) -> dict[str, Any]:
    """Move a result's location to the changed line; the rule's line becomes a related location."""
    if change is None:
        return out
    if (change.file, change.line) == (rule.file, rule.line):
        out["locations"][0]["message"]["text"] = f"{rule.key}: the rule involved, changed in this version"
        return out
    (rule_location,) = out["locations"]
    out["locations"] = [{**physical(change, report), "message": {"text": f"{change.key}: changed in this version"}}]
    out["relatedLocations"] = [{"id": 1, **rule_location}]
    out["message"]["text"] += f" Changed line: {change.key}; the rule involved: [{rule.key}](1)."
    return out


ROW_RULE = "solvent-diff-worse"


def render_diff_data(d: PolicyDiff) -> dict[str, Any]:
    """A policy diff as SARIF: each invariant whose verdict changed to failing (or accepted), on
    the changed line nearest its rule, and each row (threshold, proof) that makes the diff worse."""
    report = d.new
    verdicts = {v.invariant.id: v for v in report.verdicts}
    failing = [c for c in d.verdicts if c.new in (ClaimStatus.FAILS, ClaimStatus.ACCEPTED) and c.invariant in verdicts]
    invariants = [verdicts[c.invariant].invariant for c in failing]
    index = {inv.id: i for i, inv in enumerate(invariants)}
    findings = told(report)
    changes = changed_lines(d)
    results = []
    for c in failing:
        v = verdicts[c.invariant]
        out = result(report, v, index[v.invariant.id], findings)
        if not c.worse and v.status is ClaimStatus.FAILS:
            out["level"] = "note"  # it failed in the old version too: not what this change broke
        out["message"]["text"] = f"{c.kind} ({KEY[c.old]} → {KEY[c.new]}): " + out["message"]["text"]
        out["properties"].update({"change": c.kind, "old": KEY[c.old], "new": KEY[c.new], "worse": c.worse})
        ref = rule_ref(report, v, findings)
        results.append(_on_change(out, report, ref, _nearest_change(changes, ref.key)))
    rules = [rule(inv) for inv in invariants]
    worse_rows = [r for r in d.rows if r.worse]
    if worse_rows:
        rules.append(
            {
                "id": ROW_RULE,
                "name": "DiffWorse",
                "shortDescription": {"text": "a threshold or proof of the new version is worse than the old one's"},
                "help": {"text": "Run `solvent diff OLD NEW` to see the rows that moved toward risk."},
                "defaultConfiguration": {"level": "error"},
                "properties": {"tags": ["solvent", "risk-policy"], "problem.severity": "error"},
            }
        )
    where = changes[0] if changes else RuleRef("name", "name", 1, policy_file(report.source))
    for row in worse_rows:
        results.append(
            {
                "ruleId": ROW_RULE,
                "ruleIndex": len(rules) - 1,
                "level": "error",
                "kind": "fail",
                "message": {
                    "text": f"{report.policy.name}: {row.section}: {row.subject}: {row.old} → {row.new} (worse)"
                },
                "locations": [
                    {**physical(where, report), "message": {"text": f"{where.key}: changed in this version"}}
                ],
                "partialFingerprints": {
                    "solventPolicyInvariant/v1": hashlib.sha256(
                        f"{report.policy.name}\0{row.section}\0{row.subject}".encode()
                    ).hexdigest()[:32]
                },
                "properties": {
                    "policy": report.policy.name,
                    "source": report.source,
                    "section": row.section,
                    "old": row.old,
                    "new": row.new,
                },
            }
        )
    return _document(rules, results)


def render_diff(diffs: Sequence[PolicyDiff]) -> str:
    """``solvent diff --format sarif``: one diff's SARIF document."""
    (d,) = diffs
    return json.dumps(render_diff_data(d), indent=2, ensure_ascii=False) + "\n"


__all__ = ["BASE_IDS", "artifact", "changed_lines", "render", "render_diff", "render_diff_data", "sarif_data"]

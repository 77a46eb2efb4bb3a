"""SARIF 2.1.0: each failing policy × invariant as a code-scanning result on the policy file.

A result points at the line of the rule involved (``locate``): the ``[[deficit]]`` layer that took
a winner's profit, the ``[liquidation]`` trigger, the ADL ranking, so a code-scanning UI
annotates that line in the pull request's diff. A failure the policy accepts carries an
``inSource`` suppression located at the ``accepts`` line. Each invariant of the catalog is a
reporting rule (``tool.driver.rules``) with its claim and severity.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from solvent.properties.check import PolicyReport, Status, Verdict
from solvent.properties.catalog import Invariant, Severity
from solvent.reports.json_report import version
from solvent.reports.locate import RuleRef, display_path, locate_accepts, policy_file
from solvent.reports.story import Told, bankruptcies, deficit_sentence, describe_event, evidence, groups_of, origin_label, told

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning"}


def _camel(id: str) -> str:
    return "".join(part.capitalize() for part in id.split("-"))


def rule(inv: Invariant) -> dict[str, Any]:
    return {
        "id": inv.id,
        "name": _camel(inv.id),
        "shortDescription": {"text": inv.claim},
        "fullDescription": {"text": f"Solvent invariant {inv.id} ({inv.severity.value}): {inv.claim}."},
        "help": {"text": f"Run `solvent check POLICY --invariant {inv.id}` to see the failing story; list the id in the policy's `accepts` if the venue gives this up by design."},
        "defaultConfiguration": {"level": LEVEL[inv.severity]},
        "properties": {"tags": ["solvent", "risk-policy"], "severity": inv.severity.value, "problem.severity": LEVEL[inv.severity]},
    }


def physical(ref: RuleRef, report: PolicyReport) -> dict[str, Any]:
    """A location on the policy file (relative to the checkout when it is inside it)."""
    shown = display_path(ref.file)
    if shown is None:
        return {"logicalLocations": [{"name": report.policy.name, "kind": "module"}]}
    artifact = {"uri": shown, "uriBaseId": "%SRCROOT%"} if not shown.startswith("/") else {"uri": Path(shown).as_uri()}
    return {"physicalLocation": {"artifactLocation": artifact, "region": {"startLine": ref.line}}}


def message(report: PolicyReport, v: Verdict, t: Told | None) -> str:
    head = f"{report.policy.name}: {v.invariant.id} fails — {v.invariant.claim}."
    if t is None:
        return head
    g = t.group
    s = g.violation.step
    said = " ".join(deficit_sentence(b) for b in bankruptcies(t.steps) if b.step_index == g.violation.step_index)
    story = f" {origin_label(g.violation).capitalize()}, step {g.violation.step_index + 1}: {describe_event(s.event, s.before, report.policy.contract)}."
    return head + story + (f" {said}" if said else "") + f" Rule involved: {t.rule.key}. Reproduce: {t.replay}" + (f" ({t.replay_note})" if t.replay_note else "")


def fingerprint(report: PolicyReport, v: Verdict) -> str:
    return hashlib.sha256(f"{report.policy.name}\0{v.invariant.id}".encode()).hexdigest()[:32]


def result(report: PolicyReport, v: Verdict, index: int, findings: Sequence[Told]) -> dict[str, Any]:
    groups = groups_of(v, [t.group for t in findings])
    t = next((t for t in findings if groups and t.group == groups[0]), None)
    ref = t.rule if t else RuleRef("name", "name", 1, policy_file(report.source))
    out: dict[str, Any] = {
        "ruleId": v.invariant.id,
        "ruleIndex": index,
        "level": LEVEL[v.invariant.severity],
        "kind": "fail",
        "message": {"text": message(report, v, t)},
        "locations": [{**physical(ref, report), "message": {"text": f"{ref.key}: the rule involved"}}],
        "partialFingerprints": {"solventPolicyInvariant/v1": fingerprint(report, v)},
        "properties": {
            "policy": report.policy.name,
            "source": report.source,
            "verdict": "accepted" if v.status is Status.ACCEPTED else "fails",
            "evidence": evidence(v),
            "replay": t.replay if t else "",
        },
    }
    if v.status is Status.ACCEPTED:
        accepts = locate_accepts(report.policy, policy_file(report.source))
        out["suppressions"] = [
            {
                "kind": "inSource",
                "status": "accepted",
                "justification": f"{report.policy.name} lists {v.invariant.id} in accepts: a trade-off by design",
                "location": physical(accepts, report) if accepts.file else {},
            }
        ]
        if not out["suppressions"][0]["location"]:
            del out["suppressions"][0]["location"]
    return out


def _invariants(reports: Sequence[PolicyReport]) -> list[Invariant]:
    seen: dict[str, Invariant] = {}
    for r in reports:
        for v in r.verdicts:
            seen.setdefault(v.invariant.id, v.invariant)
    return list(seen.values())


def sarif_data(reports: Sequence[PolicyReport]) -> dict[str, Any]:
    invariants = _invariants(reports)
    index = {inv.id: i for i, inv in enumerate(invariants)}
    results = []
    for r in reports:
        findings = told(r)
        results += [result(r, v, index[v.invariant.id], findings) for v in r.verdicts if v.status in (Status.FAILS, Status.ACCEPTED)]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "solvent", "version": version(), "rules": [rule(inv) for inv in invariants]}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def render(reports: Sequence[PolicyReport]) -> str:
    return json.dumps(sarif_data(reports), indent=2, ensure_ascii=False) + "\n"


__all__ = ["render", "sarif_data"]

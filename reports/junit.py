"""JUnit XML: one test suite per policy, one test case per policy × invariant.

Valid against the Jenkins JUnit schema ``junit-10.xsd`` (the one pytest's own tests validate
against; ``tests/schemas/junit-10.xsd``): ``<properties>`` only on the suite (the policy's source,
file, waterfall and accepts), never in a test case, so a case's verdict, severity, claim, evidence
and the policy line involved are the first lines of its ``<system-out>``. A failing invariant is
a ``<failure>`` whose text is the story (the text report's); a failure the policy accepts is a
passing test case whose ``<system-out>`` opens with "accepted failure" and tells the story; an
invariant neither scenarios nor search exercised is ``<skipped>``. Each case's ``time`` is the
time spent on that invariant: judging it on the scenario steps, its part of the search (a share
of the scan all invariants ran together, plus its own search) and its z3 question. Times are
measurements only; nothing else in the document depends on them. CI dashboards (GitHub, GitLab,
Jenkins) show the policy as the suite and the invariant as the test.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from solvent.reports.story import KEY, Told, counts, evidence, told
from solvent.reports.text import story as text_story
from solvent.verdicts.check import ClaimStatus, ClaimVerdict, PolicyReport
from solvent.verdicts.findings import FindingGroup, groups_of
from solvent.verdicts.locate import display_path, policy_file


def _properties(parent: ET.Element, items: Sequence[tuple[str, str]]) -> None:
    props = ET.SubElement(parent, "properties")
    for name, value in items:
        ET.SubElement(props, "property", name=name, value=value)


def _stories(report: PolicyReport, groups: Sequence[FindingGroup]) -> str:
    return "\n\n".join(text_story(g.violation, g.labels, report) for g in groups)


def seconds(v: ClaimVerdict) -> float:
    """Wall seconds spent on this invariant: scenario judging, its part of the search, its z3 question."""
    searched = v.search.stats.seconds_spent if v.search is not None else 0.0
    proved = getattr(v.proof, "seconds", 0.0) if v.proof is not None else 0.0
    return v.seconds + searched + proved


def details(report: PolicyReport, v: ClaimVerdict, findings: Sequence[Told]) -> list[str]:
    """The case's facts, one ``name: value`` line each (what a testcase's properties would say)."""
    groups = groups_of(v, [t.group for t in findings])
    located = next((t.rule for t in findings if t.group in groups), None)
    lines = [
        f"verdict: {KEY[v.status]}",
        f"severity: {v.invariant.severity.value}",
        f"claim: {v.invariant.claim}",
        f"evidence: {evidence(v)}",
    ]
    if located is not None:
        lines.append(f"rule: {display_path(located.file) or report.source}:{located.line} ({located.key})")
    return lines


def testcase(report: PolicyReport, v: ClaimVerdict, findings: Sequence[Told]) -> ET.Element:
    case = ET.Element(
        "testcase", name=v.invariant.id, classname=f"solvent.{report.policy.name}", time=f"{seconds(v):.3f}"
    )
    groups = groups_of(v, [t.group for t in findings])
    facts = "\n".join(details(report, v, findings))
    if v.status is ClaimStatus.FAILS:
        failure = ET.SubElement(
            case, "failure", message=f"{v.invariant.id} fails: {evidence(v)}", type=v.invariant.severity.value
        )
        failure.text = f"{v.invariant.claim}\n\n{_stories(report, groups)}\n"
    elif v.status is ClaimStatus.NOT_EXERCISED:
        ET.SubElement(case, "skipped", message=f"not exercised: {evidence(v)}")
    out = ET.SubElement(case, "system-out")
    if v.status is ClaimStatus.ACCEPTED:
        out.text = (
            f"accepted failure: {report.policy.name} lists {v.invariant.id} in accepts (a trade-off by design), "
            f"so this test passes.\n{facts}\n\n{_stories(report, groups)}\n"
        )
    else:
        out.text = f"{facts}\n"
    return case


def testsuite(report: PolicyReport) -> ET.Element:
    c = counts(report)
    suite = ET.Element(
        "testsuite",
        name=report.policy.name,
        tests=str(len(report.verdicts)),
        failures=str(c[ClaimStatus.FAILS]),
        errors="0",
        skipped=str(c[ClaimStatus.NOT_EXERCISED]),
    )
    p = report.policy
    _properties(
        suite,
        [
            ("source", report.source),
            ("file", display_path(policy_file(report.source)) or ""),
            ("waterfall", " → ".join(layer.kind for layer in p.deficit)),
            ("accepts", ", ".join(p.accepts)),
        ],
    )
    findings = told(report)
    for v in report.verdicts:
        suite.append(testcase(report, v, findings))
    suite.set("time", f"{sum(seconds(v) for v in report.verdicts):.3f}")
    return suite


def render(reports: Sequence[PolicyReport]) -> str:
    """The JUnit XML document for one or more policies."""
    suites = [testsuite(r) for r in reports]
    root = ET.Element(
        "testsuites",
        name="solvent check",
        tests=str(sum(len(r.verdicts) for r in reports)),
        failures=str(sum(counts(r)[ClaimStatus.FAILS] for r in reports)),
        errors="0",
        time=f"{sum(float(s.get('time', '0')) for s in suites):.3f}",
    )  # junit-10.xsd allows no 'skipped' on <testsuites>; each <testsuite> carries its own
    root.extend(suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


__all__ = ["details", "render", "seconds", "testcase", "testsuite"]

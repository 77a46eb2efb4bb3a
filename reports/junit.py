"""JUnit XML: one test suite per policy, one test case per policy × invariant.

A failing invariant is a ``<failure>`` whose text is the story (the text report's); a failure
the policy accepts is a passing test case with a ``verdict=accepted`` property and the story in
``<system-out>``; an invariant neither scenarios nor search exercised is ``<skipped>``. CI
dashboards (GitHub, GitLab, Jenkins) show the policy as the suite and the invariant as the test.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from solvent.properties.check import PolicyReport, Status, Verdict
from solvent.reports.locate import display_path, policy_file
from solvent.reports.story import KEY, FindingGroup, Told, counts, evidence, groups_of, told
from solvent.reports.text import story as text_story


def _properties(parent: ET.Element, items: Sequence[tuple[str, str]]) -> None:
    props = ET.SubElement(parent, "properties")
    for name, value in items:
        ET.SubElement(props, "property", name=name, value=value)


def _stories(report: PolicyReport, groups: Sequence[FindingGroup]) -> str:
    return "\n\n".join(text_story(g.violation, g.labels, report) for g in groups)


def _seconds(v: Verdict) -> str:
    return f"{v.search.stats.seconds_total:.3f}" if v.search is not None else "0.000"


def testcase(report: PolicyReport, v: Verdict, findings: Sequence[Told]) -> ET.Element:
    case = ET.Element("testcase", name=v.invariant.id, classname=f"solvent.{report.policy.name}", time=_seconds(v))
    groups = groups_of(v, [t.group for t in findings])
    located = next((t.rule for t in findings if t.group in groups), None)
    items = [("verdict", KEY[v.status]), ("severity", v.invariant.severity.value), ("claim", v.invariant.claim), ("evidence", evidence(v))]
    if located is not None:
        items.append(("rule", f"{display_path(located.file) or report.source}:{located.line} ({located.key})"))
    _properties(case, items)
    if v.status is Status.FAILS:
        failure = ET.SubElement(case, "failure", message=f"{v.invariant.id} fails: {evidence(v)}", type=v.invariant.severity.value)
        failure.text = f"{v.invariant.claim}\n\n{_stories(report, groups)}\n"
    elif v.status is Status.ACCEPTED:
        out = ET.SubElement(case, "system-out")
        out.text = (
            f"accepted failure: {report.policy.name} lists {v.invariant.id} in accepts (a trade-off by design), "
            f"so this test passes.\n{v.invariant.claim}\n\n{_stories(report, groups)}\n"
        )
    elif v.status is Status.NOT_EXERCISED:
        ET.SubElement(case, "skipped", message=f"not exercised: {evidence(v)}")
    return case


def testsuite(report: PolicyReport) -> ET.Element:
    c = counts(report)
    suite = ET.Element(
        "testsuite",
        name=report.policy.name,
        tests=str(len(report.verdicts)),
        failures=str(c[Status.FAILS]),
        errors="0",
        skipped=str(c[Status.NOT_EXERCISED]),
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
    return suite


def render(reports: Sequence[PolicyReport]) -> str:
    """The JUnit XML document for one or more policies."""
    suites = [testsuite(r) for r in reports]
    root = ET.Element(
        "testsuites",
        name="solvent check",
        tests=str(sum(len(r.verdicts) for r in reports)),
        failures=str(sum(counts(r)[Status.FAILS] for r in reports)),
        errors="0",
        skipped=str(sum(counts(r)[Status.NOT_EXERCISED] for r in reports)),
    )
    root.extend(suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


__all__ = ["render", "testcase", "testsuite"]

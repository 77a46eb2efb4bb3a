"""`pytest --solvent DIR` collects each policy file × invariant as a test item, with JUnit for free."""

from __future__ import annotations

import shutil

import pytest

from solvent.rules.presets import preset_path

pytest_plugins = ["pytester"]


def test_policy_items_pass_and_fail(pytester: pytest.Pytester) -> None:
    policies = pytester.mkdir("policies")
    shutil.copy(preset_path("backpack"), policies / "backpack.toml")
    result = pytester.runpytest("--solvent", str(policies), "--solvent-examples", "30", "-p", "no:cacheprovider", "-q", "--junitxml=out.xml")
    # backpack accepts every failure the scenarios show, so all its items pass
    result.assert_outcomes(passed=16)
    assert (pytester.path / "out.xml").read_text().count("<testcase") == 16


def test_a_failing_invariant_prints_the_story(pytester: pytest.Pytester) -> None:
    policies = pytester.mkdir("policies")
    text = preset_path("backpack").read_text().replace("accepts = [", 'accepts = ["spot-isolated", ').split("\n")
    # drop the declared trade-offs: the debt carry failures must now fail the items
    text = [line for line in text if not line.startswith("accepts")]
    (policies / "carry.toml").write_text("\n".join(text))
    result = pytester.runpytest("--solvent", str(policies), "--solvent-examples", "30", "-p", "no:cacheprovider", "-q", "-k", "deposit")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*deposit-not-absorbed*", "*reproduce with:*"])


def test_a_broken_policy_file_is_a_collection_error(pytester: pytest.Pytester) -> None:
    policies = pytester.mkdir("policies")
    (policies / "bad.toml").write_text('name = "bad"\n[margin]\ntiers = [{floor_notional_quote = 0, initial_ppm = 0.1, maintenance_ppm = 1}]\n')
    result = pytester.runpytest("--solvent", str(policies), "-p", "no:cacheprovider", "-q")
    assert "'initial_ppm' must be an integer number of ppm: Fraction(1, 10) @ $.margin.tiers[0].initial_ppm" in result.stdout.str()
    assert result.ret != 0

"""The search's seed (issue 16): ``solvent check --seed N`` and ``seed=`` draw the stories of that
seed, the same every run and different from another seed's; the default stays derandomized."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

import solvent
from solvent.properties import catalog
from solvent.properties.search import CI, SearchBudget, scan
from solvent.rules.presets import load_preset
from solvent.verdicts.check import Judgement
from tests.cli_support import solvent as run_solvent

BINANCE = load_preset("binance")
CLAIMS = [catalog.get("no-negative-equity")]


def _drawn(budget: SearchBudget) -> tuple[int, dict[str, int]]:
    """What a scan of 15 stories drew: its events and the engine paths they took."""
    stats = scan(BINANCE, CLAIMS, budget)["no-negative-equity"]
    return stats.events, dict(stats.paths)


def test_same_seed_same_draws_other_seed_other_draws() -> None:
    small = attrs.evolve(CI, max_examples=15)
    one, again, two = (_drawn(attrs.evolve(small, seed=s)) for s in (1, 1, 2))
    assert one == again
    assert one != two
    assert _drawn(small) == _drawn(small)  # derandomized without a seed


def test_options_carry_the_seed_and_deep_picks_one() -> None:
    assert Judgement.from_options().search.seed is None  # CI: derandomized
    assert Judgement.from_options(seed=9).search.seed == 9
    deep = Judgement.from_options(deep=True).search
    assert deep.seed is not None and not deep.derandomize  # a fresh seed, printed with the report
    with pytest.raises(ValueError, match=r"'seed' must be a whole number >= 0: -1"):
        solvent.check(BINANCE, seed=-1, prove_budget=0, examples=1, findings_dir=None)


def _timeless(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _timeless(v) for k, v in data.items() if not k.startswith("seconds")}
    if isinstance(data, list):
        return [_timeless(x) for x in data]
    return data


def _check(cwd: Path, *args: str) -> tuple[int, Any]:
    """One run in a fresh folder (its own findings directory, so no run replays another's story)."""
    cwd.mkdir(parents=True)
    out = cwd / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "solvent", "check", "binance", "--invariant", "no-negative-equity", "--examples", "15"]
        + ["--prove-budget", "0", "--format", "json", "--output", str(out), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, _timeless(json.loads(out.read_text()))


def test_the_command_line_seed_gives_the_same_json(tmp_path: Path) -> None:
    first, again, other = (_check(tmp_path / n, "--seed", s) for n, s in (("a", "7"), ("b", "7"), ("c", "8")))
    assert first == again
    assert first[1]["policies"][0]["search_seed"] == 7
    assert first[1]["policies"][0]["verdicts"] != other[1]["policies"][0]["verdicts"]
    plain = _check(tmp_path / "d")
    assert "search_seed" not in plain[1]["policies"][0]


def test_a_bad_seed_is_bad_input(tmp_path: Path) -> None:
    done = run_solvent("check", "binance", "--seed", "-3", cwd=tmp_path)  # a traceback: raised here
    assert done.exit_code == 2 and "--seed" in done.stderr


def test_a_hypothesis_profile_does_not_change_the_draws() -> None:
    """A user's profile is the base of the search's settings, but what decides a verdict is
    Solvent's: the budget's examples, derandomized (or the seed), no database, no deadline."""
    from hypothesis import Verbosity, settings

    from solvent.properties.search import search_settings

    small = attrs.evolve(CI, max_examples=15)
    before, name = _drawn(small), settings.get_current_profile_name()
    settings.register_profile(
        "solvent-test-loose", max_examples=3, derandomize=False, deadline=50, verbosity=Verbosity.quiet
    )
    settings.load_profile("solvent-test-loose")
    try:
        config = search_settings(small)
        assert (config.max_examples, config.derandomize, config.database, config.deadline) == (15, True, None, None)
        assert config.verbosity is Verbosity.quiet  # the profile's own choice is kept
        assert _drawn(small) == before
        assert _drawn(attrs.evolve(small, seed=1)) == _drawn(attrs.evolve(small, seed=1))
    finally:
        settings.load_profile(name)


class _Config:
    """The options ``pytest --solvent`` reads (missing ones raise, as pytest's do)."""

    def __init__(self, **options: object) -> None:
        self.options = {"solvent_examples": None, "solvent_prove_budget": None, "solvent_findings_dir": None}
        self.options.update(options)

    def getoption(self, name: str) -> object:
        if name not in self.options:
            raise ValueError(f"no option named {name!r}")
        return self.options[name]


def test_pytest_solvent_takes_its_seed_or_hypothesis_seed() -> None:
    from solvent.pytest_plugin import judgement

    assert judgement(_Config(solvent_seed=4)).search.seed == 4
    assert judgement(_Config(solvent_seed=None, hypothesis_seed="12")).search.seed == 12
    assert judgement(_Config(solvent_seed=3, hypothesis_seed="12")).search.seed == 3
    assert judgement(_Config(solvent_seed=None, hypothesis_seed="not-a-number")).search.seed is None
    assert judgement(_Config(solvent_seed=None)).search.seed is None  # derandomized
    with pytest.raises(pytest.UsageError, match="--solvent-seed: must be a whole number >= 0: -1"):
        judgement(_Config(solvent_seed=-1))


def test_a_printed_search_command_asks_for_the_same_budget() -> None:
    """The same seed under another budget draws other stories: the command carries --deep and
    --examples where the search had them, then the seed; derandomized, neither."""
    from solvent.properties.search import DEEP
    from solvent.reports.story import _searched
    from solvent.verdicts.check import PolicyReport

    def command(budget: SearchBudget | None) -> str:
        return _searched(PolicyReport(BINANCE, "binance", (), (), None, (), budget), "--invariant x")[0]

    assert command(CI) == command(None) == "solvent check binance --invariant x"
    assert command(attrs.evolve(CI, seed=4)) == "solvent check binance --invariant x --seed 4"
    assert (
        command(attrs.evolve(CI, seed=4, max_examples=9)) == "solvent check binance --invariant x --examples 9 --seed 4"
    )
    assert command(attrs.evolve(DEEP, seed=4)) == "solvent check binance --invariant x --deep --seed 4"
    deep = Judgement.from_options(deep=True, examples=50).search
    assert command(deep) == f"solvent check binance --invariant x --deep --examples 50 --seed {deep.seed}"


def test_the_text_report_names_the_seed() -> None:
    from solvent.reports.text import render

    options = dict(examples=2, prove_budget=0, findings_dir=None, invariants=["no-negative-equity"])
    seeded = render(solvent.check(BINANCE, seed=3, **options))
    assert "  search seed 3 (--seed 3 draws the same stories)" in seeded.splitlines()
    assert "search seed" not in render(solvent.check(BINANCE, **options))

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
    done = subprocess.run(
        [sys.executable, "-m", "solvent", "check", "binance", "--seed", "-3"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "--seed" in done.stderr and "Traceback" not in done.stderr

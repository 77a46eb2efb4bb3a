"""Sane control policies, one per waterfall family, raise no alarm beyond what they accept (issue 11).

``tests/planted_control/`` holds an insurance fund then ADL, a fund then the fee pool then a
socialized loss, a fund then a haircut ratio then the venue, a backstop vault then ADL, a fund then
the venue, and a broker's debt carry. ``solvent check`` must exit 0 on each: every claim held, not
exercised, or failing only where the policy's ``accepts`` says so. The default suite runs a small
budget; the ``deep`` test runs the command exactly as a user would, at the default budget.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CONTROLS = sorted((Path(__file__).resolve().parent / "planted_control").glob("*.toml"))
FAMILIES = {"fund-then-adl", "fund-fee-pool-socialized", "haircut-then-venue", "vault-then-adl", "broker-fronts-debt"}


def _check(tmp_path: Path, policy: Path, *budget: str) -> tuple[int, dict]:
    out = tmp_path / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "solvent",
            "check",
            str(policy),
            *budget,
            "--findings-dir",
            str(tmp_path / "findings"),
            "--format",
            "json",
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    return done.returncode, json.loads(out.read_text())


def _alarms(data: dict) -> list[str]:
    return [v["invariant"] for v in data["policies"][0]["verdicts"] if v["verdict"] == "fails"]


def test_every_waterfall_family_has_a_control() -> None:
    assert FAMILIES <= {p.stem for p in CONTROLS}


@pytest.mark.parametrize("policy", CONTROLS, ids=[p.stem for p in CONTROLS])
def test_a_control_raises_no_alarm(tmp_path: Path, policy: Path) -> None:
    code, data = _check(tmp_path, policy, "--examples", "40", "--prove-budget", "12M")
    assert _alarms(data) == [] and code == 0


@pytest.mark.deep
@pytest.mark.parametrize("policy", CONTROLS, ids=[p.stem for p in CONTROLS])
def test_a_control_raises_no_alarm_at_the_default_budget(tmp_path: Path, policy: Path) -> None:
    code, data = _check(tmp_path, policy)
    assert _alarms(data) == [] and code == 0

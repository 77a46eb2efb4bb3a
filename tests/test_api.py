"""The Python API judges a policy exactly as `solvent check` does (one judgement, one set of defaults)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import solvent
from solvent.reports import json_report
from solvent.verdicts.check import ClaimStatus, Judgement


def _timeless(data):
    if isinstance(data, dict):
        return {k: _timeless(v) for k, v in data.items() if not k.startswith("seconds")}
    if isinstance(data, list):
        return [_timeless(x) for x in data]
    return data


#: four of backpack's claims (session 27; all twenty at 2M took 13.45 s of CPU against 5.09 s at
#: load 7): conservation held, no-negative-equity accepted (a scenario's and the search's stories),
#: deposit-not-absorbed accepted (a scenario's), each z3 question undecided (133,333 units of 400K, as
#: every question was with 2M over all claims), and cadence-invariant held (a relational search)
CLAIMS = ("conservation", "no-negative-equity", "deposit-not-absorbed", "cadence-invariant")


def test_the_api_and_the_cli_give_the_same_report(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    report = solvent.check(
        "backpack", examples=10, prove_budget=400_000, findings_dir=tmp_path / "api", invariants=CLAIMS
    )
    api = _timeless(json.loads(json_report.render([report])))
    cli = tmp_path / "cli.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "solvent",
            "check",
            "backpack",
            "--examples",
            "10",
            "--prove-budget",
            "400K",
            "--findings-dir",
            str(tmp_path / "cli"),
            "--format",
            "json",
            "--output",
            str(cli),
            *(o for c in CLAIMS for o in ("--invariant", c)),
        ],
        check=False,
        capture_output=True,
    )
    assert api["policies"][0]["verdicts"] == _timeless(json.loads(cli.read_text()))["policies"][0]["verdicts"]


def test_the_defaults_are_solvent_checks() -> None:
    default = Judgement()
    assert Judgement.from_options() == default
    assert default.search is not None and default.search.max_examples == 200
    assert default.proofs is not None and default.proofs.total == 60_000_000
    assert str(default.findings_dir) == ".solvent/findings"
    assert Judgement.from_options(search=False).proofs is None  # --no-search: scenarios only


def test_load_and_check_a_policy_object() -> None:
    policy = solvent.load("backpack")
    report = solvent.check(policy, search=False)
    statuses = {v.invariant.id: v.status for v in report.verdicts}
    assert statuses["no-negative-equity"] is ClaimStatus.ACCEPTED  # backpack carries the debt by design
    assert report.source == "backpack"

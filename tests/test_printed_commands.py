"""Every command Solvent prints for a user to run is run here (issue 11: "Printed commands that fail").

``solvent check`` prints, for each failure, the command that shows it again: ``solvent check
POLICY --scenario NAME`` for a scenario, ``solvent replay FILE`` for a saved search or z3 story,
``solvent check POLICY --invariant ID`` for a relational property's derandomized search, and
``solvent prove ...`` for a z3 story that was not saved. Each is run, in the same folder (so the
default findings directory is the one the check wrote), and must show the same claim failing: exit
1, or exit 0 with the failure marked accepted where the policy accepts it.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
POLICIES = {
    "drift": "drift",  # scenario, search and relational failures
    "capped": str(ROOT / "examples" / "binance-capped-fund.toml"),  # a z3 refutation (waterfall-order)
}


def _solvent(cwd: Path, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "solvent", *args], cwd=cwd, capture_output=True, text=True)


def _printed(
    cwd: Path, policy: str, options: tuple[str, ...] = ("--examples", "40", "--prove-budget", "60M")
) -> list[tuple[str, list[str], dict[str, bool]]]:
    """(command, the claims the finding breaks, which are accepted) for every finding ``solvent
    check`` reports (one finding: one story, listed under every claim it breaks)."""
    done = _solvent(cwd, ["check", policy, *options, "--format", "json", "--output", "report.json"])
    assert done.returncode in (0, 1), done.stderr
    data = json.loads((cwd / "report.json").read_text())
    (report,) = data["policies"]
    accepted = {v["invariant"]: v["verdict"] == "accepted" for v in report["verdicts"]}
    out = []
    for finding in report["findings"]:
        command = finding["replay"]["command"]
        assert command.startswith("solvent ") or command.startswith("pytest "), command
        out.append((command, finding["invariants"], {i: accepted[i] for i in finding["invariants"]}))
    return out


def _shows_the_failure(
    cwd: Path, command: str, invariants: list[str], accepted: dict[str, bool], *, cheap: bool
) -> None:
    args = shlex.split(command)[1:]
    if cheap and args[0] == "check" and "--scenario" in args:
        args += ["--no-search", "--prove-budget", "0"]  # a scenario needs neither search nor z3
    done = _solvent(cwd, args)
    text = done.stdout
    if args[0] == "replay":  # exit 1 while the story still fails, whatever the policy accepts
        assert done.returncode == 1, (command, text[-2000:], done.stderr[-2000:])
        named = text.splitlines()[0].split("invariant ", 1)[1].split(":", 1)[0]
        also = next((line for line in text.splitlines() if line.startswith("the same story also breaks: ")), "")
        for i in invariants:
            assert i == named or f"{i} (step " in also, (command, i, text[-2000:])
    elif args[0] == "prove":
        assert done.returncode == 1 and "refuted" in text.splitlines()[0], (command, text[:500])
    else:
        assert done.returncode == (0 if all(accepted.values()) else 1), (command, text[-2000:], done.stderr[-2000:])
        for i in invariants:
            row = next(line for line in text.splitlines() if line.startswith(i + " "))
            assert ("fails (accepted)" if accepted[i] else "FAILS") in row, (command, row)


def _run_all(tmp_path: Path, name: str, *, cheap: bool) -> None:
    printed = _printed(tmp_path, POLICIES[name])
    assert printed, "the check reported no failure to reproduce"
    for command, invariants, accepted in printed:
        _shows_the_failure(tmp_path, command, invariants, accepted, cheap=cheap)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_printed_command_shows_the_same_failure(tmp_path: Path, name: str) -> None:
    """Scenario commands run scenarios only (what they reproduce needs neither search nor z3);
    every other command runs exactly as printed."""
    _run_all(tmp_path, name, cheap=True)


@pytest.mark.deep
@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_printed_command_runs_verbatim(tmp_path: Path, name: str) -> None:
    _run_all(tmp_path, name, cheap=False)


def test_a_relational_property_is_a_known_invariant(tmp_path: Path) -> None:
    """`--invariant round-trip-neutral` is judged (by search), not "unknown invariant"; with
    --no-search it is bad input that says why."""
    done = _solvent(
        tmp_path, ["check", "binance", "--invariant", "round-trip-neutral", "--examples", "10", "--prove-budget", "0"]
    )
    assert done.returncode in (0, 1), done.stderr
    assert any(line.startswith("round-trip-neutral ") for line in done.stdout.splitlines())
    refused = _solvent(tmp_path, ["check", "binance", "--invariant", "round-trip-neutral", "--no-search"])
    assert refused.returncode == 2 and "judged by search only" in refused.stderr
    unknown = _solvent(tmp_path, ["check", "binance", "--invariant", "round-trip-neutrall"])
    assert (
        unknown.returncode == 2
        and "unknown invariant 'round-trip-neutrall'" in unknown.stderr
        and "round-trip-neutral" in unknown.stderr
    )


def test_a_seeded_search_prints_its_seed_and_the_command_runs(tmp_path: Path) -> None:
    """With ``--seed``, every printed command that searches again carries the seed (a seeded
    search's story is that seed's, not the derandomized one's), and shows the same failure."""
    planted = str(ROOT / "tests" / "planted_relational" / "funding-rounds-toward-users.toml")
    options = ("--invariant", "cadence-invariant", "--seed", "5", "--examples", "100", "--prove-budget", "0")
    printed = _printed(tmp_path, planted, options)
    searches = [p for p in printed if p[0].startswith("solvent check") and "--scenario" not in p[0]]
    assert searches, printed  # a relational failure is searched again by the command it prints
    for command, invariants, accepted in searches:
        assert command.endswith(" --examples 100 --seed 5"), command  # the seed under the same budget
        _shows_the_failure(tmp_path, command, invariants, accepted, cheap=True)


def _documented_sweeps() -> list[str]:
    """Every ``solvent simulate`` command with ``--sweep`` or ``--at-threshold`` that the README and
    docs/simulation.md print in a shell block (a trailing ``# comment`` left off), once each."""
    commands: dict[str, None] = {}
    for page in (ROOT / "README.md", ROOT / "docs" / "simulation.md"):
        shell = False
        for line in page.read_text(encoding="utf-8").splitlines():
            if line.startswith("```"):
                shell = line.strip() == "```sh"
                continue
            command = line.split("   #", 1)[0].strip()
            if (
                shell
                and command.startswith("solvent simulate ")
                and ("--sweep" in command or "--at-threshold" in command)
            ):
                commands[command] = None
    return list(commands)


def test_the_documented_sweeps_run_verbatim(tmp_path: Path) -> None:
    """The sweep and threshold-edge commands of the README and the simulation docs run as printed
    (from the repository, where their scenario is) and report every value they name."""
    commands = _documented_sweeps()
    assert any("--sweep" in c for c in commands) and any("--at-threshold" in c for c in commands), commands
    for command in commands:
        args = shlex.split(command)[1:]
        done = _solvent(ROOT, args)
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
        if "json" in args:
            sweeps = json.loads(done.stdout)["sweeps"]
            assert sweeps and all(s["points"] for s in sweeps), command
        elif "--sweep" in args:
            field, values = args[args.index("--sweep") + 1].split("=", 1)
            assert f"sweep of {field} over {len(values.split(','))} values" in done.stdout, (command, done.stdout)
        else:
            for question in args[args.index("--at-threshold") + 1].split(","):
                assert f"threshold {question}, " in done.stdout, (command, done.stdout)

"""Every command Solvent prints for a user to run is run here (issue 11: "Printed commands that fail").

``solvent check`` prints, for each failure, the command that shows it again: ``solvent check
POLICY --scenario NAME`` for a scenario, ``solvent replay FILE`` for a saved search or z3 story,
``solvent check POLICY --invariant ID`` for a relational property's derandomized search, and
``solvent prove ...`` for a z3 story that was not saved. Each is run, in the same folder (so the
default findings directory is the one the check wrote), and must show the same claim failing: exit
1, or exit 0 with the failure marked accepted where the policy accepts it.

The README and docs print commands too: every one of them is parsed here as Solvent parses it (its
command, options and values exist), and those that take seconds are run as printed (issue 16:
``solvent fmt``, the narrow ``diff``, the seeded ``gallery``, ``replay``, and the command ``fmt
--check`` prints to fix what it found).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.printed_support import ROOT, parse, printed_commands, run_printed

#: the module's tests run as one xdist group, sent out among the first units of work (``--dist
#: loadgroup`` sends the groups before the ungrouped tests, the larger first): ungrouped, its
#: long tests were among the last in collection order, and one worker waited idle while the
#: other ran them (simulated on a whole run's durations at 85dd36f, load 6-8: one worker idle
#: for about 77 s at the end in main's order, under 1 s with this and the other four
#: top-level modules grouped: test_controls, test_notebook, test_printed_commands,
#: test_pytest_plugin, test_reproducible; session 25)
pytestmark = pytest.mark.xdist_group("printed-commands")

POLICIES = {
    "drift": "drift",  # scenario, search and relational failures
    "capped": str(ROOT / "examples" / "binance-capped-fund.toml"),  # a z3 refutation (waterfall-order)
}
#: a venue's preset: its documented rules are not failures, so a command it prints never shows a
#: FAILS row (drift's round-trip-neutral false alarm of 2026-12-03 showed one, and exit 1)
NO_ALARM = {"drift"}


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
    cwd: Path, command: str, invariants: list[str], accepted: dict[str, bool], *, cheap: bool, no_alarm: bool = False
) -> None:
    args = shlex.split(command)[1:]
    if cheap and args[0] == "check" and "--scenario" in args:
        args += ["--no-search", "--prove-budget", "0"]  # a scenario needs neither search nor z3
    if cheap and args[0] == "prove":
        # the story as z3 found it, as the cheap check was asked to show it (CHEAP): the same
        # verdict; telling it at its least move was 10 of the capped fund's 13 s of CPU, and is
        # the verbatim variant's (deep) and test_prove_cli.py's (the option reaches that step)
        args += ["--no-least-move"]
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
        # Its own claims failing unaccepted exit 1. A verbatim scenario command runs the whole check
        # (search and z3 too), so another finding's unaccepted failure (binance-capped-fund's
        # waterfall-order: ADL while the capped fund keeps money, docs/model.md#a-capped-fund-and-the-layer-order)
        # exits 1 as well: the exit code is the verdict table's, every row of it.
        unaccepted = [line for line in text.splitlines() if re.match(r"^[a-z][a-z0-9-]* +FAILS ", line)]
        assert not (no_alarm and unaccepted), (command, unaccepted)
        assert done.returncode == (0 if all(accepted.values()) and not unaccepted else 1), (
            command,
            unaccepted,
            text[-2000:],
            done.stderr[-2000:],
        )
        for i in invariants:
            row = next(line for line in text.splitlines() if line.startswith(i + " "))
            assert ("fails (accepted)" if accepted[i] else "FAILS") in row, (command, row)


#: what the cheap variant asks instead of ``--examples 40 --prove-budget 60M`` on all claims (the
#: verbatim variant under ``deep`` asks that): drift's printed commands are scenario and search
#: commands, the same with z3 off (its z3 decides none of its claims at check's budget and took 15
#: minutes of the suite's 80 under load); the capped fund's are asked of the two claims whose
#: findings print every kind of command (a scenario, a saved search story, a saved z3 story shared
#: by two claims, a `solvent prove` of an unsaved z3 story), its z3 refutation (waterfall-order)
#: among them. principal-protected's (a scenario and a saved story: kinds already run) is left to
#: the verbatim run: its z3 story's minimization made this test the suite's slowest (173 s at load 5-8).
#: The check shows its z3 stories as found (--no-least-move), and so does the printed `solvent prove`
#: asked here (the verbatim variant runs it as printed, minimizing its own story at its least move)
CHEAP = {
    "drift": ("--examples", "40", "--prove-budget", "0"),
    "capped": ("--examples", "40", "--prove-budget", "60M", "--no-least-move")
    + tuple(o for i in ("no-haircut", "waterfall-order") for o in ("--invariant", i)),
}


def _run_all(tmp_path: Path, name: str, *, cheap: bool) -> None:
    printed = _printed(tmp_path, POLICIES[name], *([CHEAP[name]] if cheap else []))
    assert printed, "the check reported no failure to reproduce"
    for command, invariants, accepted in printed:
        _shows_the_failure(tmp_path, command, invariants, accepted, cheap=cheap, no_alarm=name in NO_ALARM)


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
    --no-search it is bad input that says why. (Not printed commands: run in this process.)"""
    from tests.cli_support import solvent

    done = solvent(
        "check", "binance", "--invariant", "round-trip-neutral", "--examples", "10", "--prove-budget", "0", cwd=tmp_path
    )
    assert done.exit_code in (0, 1), done.stderr
    assert any(line.startswith("round-trip-neutral ") for line in done.stdout.splitlines())
    refused = solvent("check", "binance", "--invariant", "round-trip-neutral", "--no-search", cwd=tmp_path)
    assert refused.exit_code == 2 and "judged by search only" in refused.stderr
    unknown = solvent("check", "binance", "--invariant", "round-trip-neutrall", cwd=tmp_path)
    assert (
        unknown.exit_code == 2
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


#: the paths the default suite's variant asks instead of the documented ``--paths`` (the verbatim
#: variant, under ``deep``, asks those: 2,080 paths and a z3 boundary took 86 s of the suite)
FEWER_PATHS = "6"


def _fewer_paths(args: list[str]) -> list[str]:
    i = args.index("--paths")
    return [*args[: i + 1], FEWER_PATHS, *args[i + 2 :]]


def test_the_documented_sweeps_run_with_fewer_paths() -> None:
    """The sweep and threshold-edge commands of the README and the simulation docs, each as
    printed but for its path count (from the repository, where their scenario is): every value
    they name is reported."""
    _run_documented_sweeps(_fewer_paths)


@pytest.mark.deep
def test_the_documented_sweeps_run_verbatim() -> None:
    """The same commands exactly as printed."""
    _run_documented_sweeps(lambda args: args)


def _run_documented_sweeps(adjust) -> None:  # noqa: ANN001
    commands = _documented_sweeps()
    assert any("--sweep" in c for c in commands) and any("--at-threshold" in c for c in commands), commands
    assert all("--paths" in shlex.split(c) for c in commands), commands
    for command in commands:
        args = adjust(shlex.split(command)[1:])
        done = _solvent(ROOT, args)
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
        if "json" in args:
            sweeps = json.loads(done.stdout)["sweeps"]
            assert sweeps and all(s["points"] for s in sweeps), command
        elif "--sweep" in args:
            # a grid (--sweep twice) prints a table per row: the columns' field at each row's value
            specs = [args[i + 1] for i, a in enumerate(args) if a == "--sweep"]
            field, values = specs[-1].split("=", 1)
            at = f" at {specs[0].split('=', 1)[0]} = " if len(specs) == 2 else ""
            expected = f"sweep of {field} over {len(values.split(','))} values{at}"
            assert expected in done.stdout, (command, done.stdout)
        else:
            for question in args[args.index("--at-threshold") + 1].split(","):
                assert f"threshold {question}, " in done.stdout, (command, done.stdout)


# --- the commands the README and docs print ------------------------------------------------------

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def documented_commands() -> list[tuple[str, str]]:
    """(document, command) for every ``solvent`` command the README and docs print
    (``printed_support.printed_commands``)."""
    return printed_commands(DOCUMENTS)


def test_there_are_documented_commands() -> None:
    commands = [c for _, c in documented_commands()]
    assert len(commands) > 30
    assert any(c.startswith("solvent fmt --check ") for c in commands)
    assert any(c.startswith("solvent gallery ") and "--seed" in c for c in commands)


@pytest.mark.parametrize(("document", "command"), documented_commands())
def test_every_documented_command_parses(document: str, command: str) -> None:
    """Each command the README and docs print names a command and options that exist, with values
    they accept (an invariant, scenario or preset name, a seed, a budget): click parses it as
    Solvent would, up to running it. Running each one whole would take hours (the gallery with
    thresholds, 200-path simulations, z3 at its full budget); the tests below run those of them
    that take seconds, as printed."""
    parse(command)


def _documented(prefix: str) -> str:
    (command,) = {c for _, c in documented_commands() if c.startswith(prefix)}
    return command


def test_the_fmt_command_runs_as_printed() -> None:
    done = run_printed(ROOT, _documented("solvent fmt --check "))  # writes nothing
    assert done.returncode == 0 and done.stdout == "1 file(s) already formatted\n", done.stderr


def test_the_narrow_diff_runs_as_printed(tmp_path: Path) -> None:
    done = run_printed(tmp_path, _documented("COLUMNS=80 solvent diff "))
    assert done.returncode in (0, 1), done.stderr
    assert done.stdout.startswith("Policy diff: binance → bybit")
    assert max(len(line) for line in done.stdout.splitlines()) <= 80


def test_the_seeded_gallery_runs_as_printed(tmp_path: Path) -> None:
    command = _documented("solvent gallery my-gallery ")
    done = run_printed(tmp_path, command)
    assert done.returncode == 0, done.stderr[-2000:]
    index = (tmp_path / "my-gallery" / "index.md").read_text(encoding="utf-8")
    assert "the CI search drawn from seed 7" in index
    # the presets named, in the order named, and no other
    written = sorted(p.name for p in (tmp_path / "my-gallery").iterdir())
    assert written == ["backpack.html", "backpack.md", "binance.html", "binance.md", "index.md"], written
    assert index.index("`binance`") < index.index("`backpack`")
    assert "--seed 7 --preset binance --preset backpack`" in index


def test_the_replay_command_runs_as_printed(tmp_path: Path) -> None:
    """After a check of binance has saved its no-haircut story (accepted: binance gives it up by
    design), the README's replay line re-runs it, in USDT."""
    # the claim whose story the line replays: the search's scan draws the same stories whatever the
    # claims judged, so the story saved is the same file byte for byte (3.1 -> 2.1 s of CPU the
    # check, load 7, session 29), without shrinking the other claims' stories
    check = _solvent(
        tmp_path, ["check", "binance", "--examples", "40", "--prove-budget", "0", "--invariant", "no-haircut"]
    )
    assert check.returncode == 0, check.stderr
    done = run_printed(tmp_path, _documented("solvent replay "))
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("policy binance, invariant no-haircut: ")
    assert "amounts in USDT" in done.stdout and "who paid: " in done.stdout


def test_the_command_fmt_prints_runs(tmp_path: Path) -> None:
    """``solvent fmt --check`` prints the command that rewrites what it would change; it does."""
    policy = tmp_path / "venue.toml"
    policy.write_text('name="v"\n\n[units]\nlot = "1 contract"\nquote = "0.01 USD"\n', encoding="utf-8")
    check = _solvent(tmp_path, ["fmt", "--check", "venue.toml"])
    assert check.returncode == 1, check.stderr
    printed = check.stderr.splitlines()[-1]
    assert printed == "solvent fmt venue.toml"
    assert run_printed(tmp_path, printed).returncode == 0
    assert _solvent(tmp_path, ["fmt", "--check", "venue.toml"]).returncode == 0
    assert policy.read_text(encoding="utf-8") == 'name = "v"\n\n[units]\nquote = "0.01 USD"\nlot = "1 contract"\n'


def test_the_partial_liquidation_threshold_runs_as_printed() -> None:
    """The cascade question as the README prints it: Backpack's half-position steps add no bad
    debt over two moves of at most 5% (proved at 0, one probe)."""
    command = _documented("solvent thresholds backpack --question partial-liquidation")
    done = run_printed(ROOT, command)  # writes nothing
    assert done.returncode == 0, done.stderr[-2000:]
    assert "partial-liquidation-extra-bad-debt" in done.stdout
    assert "holds across the whole range, even at 0 ppm" in done.stdout


def _scale_out_commands() -> list[str]:
    """The commands of the README's "Scale out" section, in its order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Scale out") :]
    section = section[: section.index("\n### ", 1)]
    (block,) = re.findall(r"```sh\n(.*?)```", section, re.S)
    return block.splitlines()


def test_the_scale_out_commands_run_as_printed() -> None:
    """The README's scale-out examples, one per command, run as printed on two worker processes:
    the simulation's report, the threshold grid's policy x question table (backpack and
    okx-2018 both 10%) and the proof grid's claim x (N, K) table (conservation proved for every
    N; no-negative-equity refuted, replayed, and accepted by backpack's policy: exit 1)."""
    commands = _scale_out_commands()
    assert [shlex.split(c)[1] for c in commands] == ["simulate", "thresholds", "prove"]
    assert all("--workers 2" in c for c in commands)
    simulated, thresholds, proofs = (run_printed(ROOT, c) for c in commands)
    assert simulated.returncode == 0, simulated.stderr[-2000:]
    assert "engine: fast on all 20 paths" in simulated.stdout
    assert thresholds.returncode == 0, thresholds.stderr[-2000:]
    table = thresholds.stdout[thresholds.stdout.index("thresholds grid: 2 policies x 1 question") :].splitlines()
    assert [row.split()[0] for row in table[3:5]] == ["backpack", "okx-2018"]
    assert all("100,000 ppm (10%)" in row for row in table[3:5])
    # progress on standard error, a line as each cell is answered (a pipe: plain lines)
    assert "solvent: [1/2] " in thresholds.stderr and "okx-2018 safe-move: 100,000 ppm (10%)" in thresholds.stderr
    assert proofs.returncode == 1, proofs.stderr[-2000:]
    assert "counterexample (replayed on the concrete engine)" in proofs.stdout
    table = proofs.stdout[proofs.stdout.index("proofs on backpack: 2 claims x 2 scopes") :].splitlines()
    assert table[1].split()[:5] == ["claim", "N=1,", "K=1", "N=2,", "K=1"]
    assert table[3].startswith("conservation") and table[3].count("proved, the claim all N") == 2
    assert table[4].startswith("no-negative-equity") and table[4].count("refuted (accepted by the policy)") == 2


# --- the thresholds table of docs/benchmarks.md and the commands that build it ----------------------------------


def _thresholds_section() -> str:
    text = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    section = text[text.index("## Thresholds per preset") :]
    after = re.search(r"\n##+ ", section)  # the next heading, if any: the section is the page's last
    return section if after is None else section[: after.start()]


def _bench_commands(section: str) -> list[str]:
    """The ``python benchmarks/bench_thresholds.py ...`` commands the section prints, in order."""
    return [" ".join(c.split()) for c in re.findall(r"`(python benchmarks/bench_thresholds\.py [^`]+)`", section)]


def test_the_thresholds_table_is_what_its_command_prints() -> None:
    """The thresholds table (docs/benchmarks.md) is the benchmark's own rendering of the committed rows: the
    ``--table`` command the section prints, run as printed (no z3: it reads the JSON), prints the
    summary line and every row of the table the section shows, character for character."""
    section = _thresholds_section()
    (table,) = [c for c in _bench_commands(section) if "--table" in c]
    done = subprocess.run([sys.executable, *shlex.split(table)[1:]], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = done.stdout.splitlines()
    rows = [line for line in printed if line.startswith("| ")]
    assert len(rows) > 80 and all(row in section for row in rows)
    assert printed[0] in section  # the summary: questions, decided, median and worst seconds


@pytest.mark.deep
def test_the_thresholds_run_command_builds_such_rows(tmp_path: Path) -> None:
    """The command that measured the table, as printed, on one preset (every preset takes about
    forty minutes on the shared cores) and writing its rows to a scratch file instead of the
    committed one: every question the table asks is answered in its own process."""
    section = _thresholds_section()
    (run,) = [c for c in _bench_commands(section) if "--table" not in c]
    args = shlex.split(run)[1:]
    args[args.index("--json") + 1] = str(tmp_path / "rows.json")
    done = subprocess.run(
        [sys.executable, *args, "--presets", "backpack"], cwd=ROOT, capture_output=True, text=True, timeout=1800
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads((tmp_path / "rows.json").read_text())["rows"]
    asked = args[args.index("--questions") + 1].split(",")
    assert [r["question"] for r in rows] == asked
    assert {r["question"]: r["status"] for r in rows} == {
        "safe-move": "exact",
        "fund-for-gap": "not-applicable",
        "maintenance-for-leverage": "exact",
        "penalty-bankrupts": "exact",
        "vault-loss-for-gap": "not-applicable",
        "partial-liquidation-extra-bad-debt": "all",
    }

"""``solvent simulate``: the report, exported stories that ``solvent replay`` runs, and bad input
(exit 2, a message naming the file, field or line and the expected form, nothing written)."""

import json
import os
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner
from sim_base import BASE
from test_sim_outcomes import CRASH, CRASH_CSV

from solvent.cli import main
from solvent.reports.money import Money
from solvent.rules.presets import load_preset

ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


class TestReport:
    def test_text_and_json(self, write, tmp_path: Path) -> None:
        scenario = str(write())
        done = invoke("simulate", "binance", "--scenario", scenario, "--paths", "6")
        assert done.exit_code == 0, done.output
        assert "policy binance, scenario small: 6 paths (seed 11)" in done.output
        assert "probability that" in done.output and "VaR 99%" in done.output
        assert "Amounts in USDT;" in done.output  # the policy's currency, as every other report reads amounts
        out = tmp_path / "r.json"
        done = invoke(
            "simulate", "binance", "--scenario", scenario, "--paths", "6", "--format", "json", "--output", str(out)
        )
        assert done.exit_code == 0, done.output
        data = json.loads(out.read_text())
        assert data["schema"] == "solvent.simulation/1" and len(data["per_path"]) == 6
        assert isinstance(data["summary"]["tails"]["bad_debt_quote"]["var_95"]["value"], int)

    def test_html_with_three_plots_is_deterministic(self, write, tmp_path: Path) -> None:
        scenario = str(write())
        pages = []
        for name in ("a.html", "b.html"):
            out = str(tmp_path / name)
            done = invoke(
                "simulate", "binance", "--scenario", scenario, "--paths", "5", "--format", "html", "--output", out
            )
            assert done.exit_code == 0, done.output
            pages.append((tmp_path / name).read_text())
        assert pages[0] == pages[1]
        assert pages[0].count("<svg") == 3 and "VaR 99%" in pages[0] and "insurance fund not yet exhausted" in pages[0]
        # the plots carry the estimates' intervals: each VaR's as the JSON gives it, and the survival band
        out = tmp_path / "r.json"
        done = invoke(
            "simulate", "binance", "--scenario", scenario, "--paths", "5", "--format", "json", "--output", str(out)
        )
        tails = json.loads(out.read_text())["summary"]["tails"]["bad_debt_quote"]
        usdt = Money.of(load_preset("binance"))  # amounts read in the policy's currency: 0.01 USDT a quantum
        for level in ("95", "99"):
            q = tails[f"var_{level}"]
            low, value, high = (usdt.number(q[k]) for k in ("low", "value", "high"))
            assert f"VaR {level}%: {value}, 95% interval [{low}, {high}] shaded" in pages[0]
        assert "bad debt per path (USDT)" in pages[0] and "price (USDT/BTC)" in pages[0]
        assert "band: 95% interval (Wilson)" in pages[0] and "paths have no bad debt" in pages[0]


def documented_runs() -> list[str]:
    """The single runs the README and docs/simulation.md print (``solvent simulate`` without
    ``--sweep`` or ``--at-threshold``, which tests/test_printed_commands.py runs) on a scenario
    that exists in the repository (``my.toml`` stands for the reader's own)."""
    commands: dict[str, None] = {}
    for page in (ROOT / "README.md", ROOT / "docs" / "simulation.md"):
        for block in page.read_text(encoding="utf-8").split("```sh\n")[1:]:
            for line in block.split("```", 1)[0].splitlines():
                command = line.split("   #", 1)[0].strip()
                args = shlex.split(command)
                if args[:2] != ["solvent", "simulate"] or "--sweep" in args or "--at-threshold" in args:
                    continue
                if (ROOT / args[args.index("--scenario") + 1]).exists():
                    commands[command] = None
    return list(commands)


def _runs_as_printed(command: str) -> str:
    done = invoke(*shlex.split(command)[1:])
    assert done.exit_code == 0, (command, done.output[-2000:])
    assert "probability that" in done.output and "engine: fast on all" in done.output, command
    return done.output


def test_the_documented_single_runs_run_as_printed(monkeypatch) -> None:
    """The README's crash day on two workers runs from the repository as printed (the scale-out
    section's 20 paths run in tests/test_printed_commands.py; the rest in the deep suite)."""
    monkeypatch.chdir(ROOT)
    commands = documented_runs()
    assert len(commands) >= 4 and sum("--until" in c for c in commands) == 1, commands
    crash = "solvent simulate binance --scenario examples/simulation/crash-day.toml"
    assert "100 paths (seed 20200312)" in _runs_as_printed(crash + " --workers 2")


@pytest.mark.deep
def test_the_documented_single_runs_run_as_printed_deep(monkeypatch) -> None:
    """Every one: the crash day on one worker gives the README's two-worker report, and the
    --until example stops after the first batch of 50 whose widest interval is at most 0.1 (bad
    debt's: 0.1015 wide at 200 paths, 0.0861 at 250), not at its --paths 1000."""
    monkeypatch.chdir(ROOT)
    outputs = {c: _runs_as_printed(c) for c in documented_runs()}
    crash = "solvent simulate binance --scenario examples/simulation/crash-day.toml"
    assert outputs[crash] == outputs[crash + " --workers 2"]
    [until] = [c for c in outputs if "--until" in c]
    assert "stopped: every probability's 95% interval is at most 0.1 wide after 250 paths" in outputs[until]


class TestExport:
    @pytest.mark.parametrize(("policy", "invariant"), [("binance", "no-haircut"), ("backpack", "no-negative-equity")])
    def test_the_printed_replay_command_replays_the_failure(self, write, tmp_path: Path, policy, invariant) -> None:
        """On Binance the crash's deficits reach ADL (winners pay); on Backpack they stay as debt."""
        scenario = str(write(CRASH, **{"crash.csv": CRASH_CSV}))
        out = tmp_path / "stories"
        done = invoke(
            "simulate", policy, "--scenario", scenario, "--paths", "2", "--export", str(out), "--export-max", "1"
        )
        assert done.exit_code == 0, done.output
        commands = [line.removeprefix("replay: ") for line in done.output.splitlines() if line.startswith("replay: ")]
        assert commands, done.output
        assert all(c.endswith(f"-{invariant}.json") for c in commands), commands
        for command in commands:
            args = shlex.split(command)
            assert args[:2] == ["solvent", "replay"]
            replayed = invoke(*args[1:])
            assert replayed.exit_code == 1, replayed.output
            assert f"invariant {invariant}" in replayed.output and "<- fails here" in replayed.output


def _dies(*_args) -> None:  # noqa: ANN002
    """A chunk whose worker process exits (module level, so the pool's workers find it)."""
    os._exit(9)


def bad(*args: str) -> str:
    done = invoke("simulate", *args)
    assert done.exit_code == 2, done.output
    assert "Traceback" not in done.output
    return done.output


class TestBadInput:
    def test_a_missing_field(self, write, tmp_path: Path) -> None:
        out = tmp_path / "r.json"
        path = write(BASE.replace("traders = 3\n", ""))
        message = bad("binance", "--scenario", str(path), "--output", str(out))
        assert f"{path}: 1 error(s)\n  'traders' is required @ $.book (line 4)" in message
        assert not out.exists()

    def test_a_wrong_type(self, write) -> None:
        path = write(BASE.replace("sigma = 0.5", 'sigma = "wide"'))
        assert "'sigma' must be a finite number: 'wide' @ $.book.size.sigma (line 12)" in bad(
            "binance", "--scenario", str(path)
        )

    def test_non_monotone_csv_timestamps(self, write, tmp_path: Path) -> None:
        out = tmp_path / "r.json"
        path = write(CRASH, **{"crash.csv": CRASH_CSV.replace("\n2,", "\n0,")})
        message = bad("binance", "--scenario", str(path), "--output", str(out))
        assert "crash.csv:3: 'time' must be later than line 2's (1): 0 (candles in increasing time order)" in message
        assert not out.exists()

    def test_a_missing_csv_column(self, write) -> None:
        path = write(CRASH, **{"crash.csv": "time,open,high,close\n1,1,1,1\n"})
        assert "missing column(s) 'low'" in bad("binance", "--scenario", str(path))

    def test_a_non_positive_csv_price(self, write) -> None:
        path = write(CRASH, **{"crash.csv": CRASH_CSV.replace("5000,5000", "-5,5000")})
        assert "crash.csv:3: 'low' must be a finite number > 0: '-5'" in bad("binance", "--scenario", str(path))

    def test_a_missing_csv_file(self, write) -> None:
        assert "cannot read the CSV of candles" in bad("binance", "--scenario", str(write(CRASH)))

    def test_slippage_on_a_policy_that_does_not_close_at_market(self, write) -> None:
        path = write(BASE + "\n[liquidation]\nslippage_ppm = 5000\n")
        assert (
            "'slippage_ppm' needs a policy whose liquidation executes at market: bitmex closes at 'bankruptcy'"
            in bad("bitmex", "--scenario", str(path))
        )

    def test_a_malformed_executor(self, write) -> None:
        # refused as the command line is read, by the parser the executor uses (one for every command)
        assert "Invalid value for '--executor': must be dask://HOST:PORT: 'tcp://x'" in bad(
            "binance", "--scenario", str(write()), "--executor", "tcp://x"
        )

    @pytest.mark.parametrize("extra", [(), ("--sweep", "liquidation.penalty_ppm=0,1")])
    def test_an_unreachable_scheduler_names_the_option_not_the_scenario(self, write, monkeypatch, extra) -> None:
        """The scheduler's fault is the option's: the message names it, not the scenario file (it
        was prefixed with the scenario's path, as if the file were wrong). The executor raises as
        an unreachable scheduler does, without the ten seconds Dask waits for one."""
        from solvent.simulation import executors

        def unreachable(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
            raise executors.ExecutorError("'--executor' cannot reach the Dask scheduler at 127.0.0.1:1: timed out")

        monkeypatch.setattr(executors, "executor_for", unreachable)
        path = write()
        told = bad("binance", "--scenario", str(path), "--executor", "dask://127.0.0.1:1", *extra)
        assert told.startswith("solvent: '--executor' cannot reach the Dask scheduler at 127.0.0.1:1"), told
        assert str(path) not in told

    @pytest.mark.parametrize("extra", [(), ("--sweep", "liquidation.penalty_ppm=0,1")])
    def test_a_lost_worker_is_said_with_nothing_written(self, write, tmp_path: Path, monkeypatch, extra) -> None:
        """A worker process that dies running paths (here its chunk exits the process) leaves the
        run without them: the message says which paths and why, exit 3, no report (it was a
        BrokenProcessPool traceback)."""
        from solvent.simulation import run

        monkeypatch.setattr(run, "run_chunk", _dies)  # forked into the pool's workers with the patch
        out = tmp_path / "r.json"
        done = invoke(
            "simulate", "binance", "--scenario", str(write()), "--paths", "4", "--workers", "2",
            "--format", "json", "--output", str(out), *extra,
        )  # fmt: skip
        assert done.exit_code == 3 and "Traceback" not in done.output, done.output
        assert "gave no answer: worker lost (BrokenProcessPool" in done.output and "nothing written" in done.output
        assert not out.exists()

    def test_a_scenario_in_another_policys_quanta_is_refused(self, write, tmp_path: Path) -> None:
        """A scenario's sizes, fund and prices are quanta of the policy its [units] name: binance's
        0.01 USDT runs (written 0.010 USDT too), drift's micro-USDC is refused with the line, and
        nothing is written; a scenario that names no units runs on any policy, as before."""
        units = '[units]\nquote = "0.010 USDT"\nlot = "0.001 BTC"\n\n'
        path = write(BASE.replace("[book]\n", units + "[book]\n"))
        assert invoke("simulate", "binance", "--scenario", str(path), "--paths", "2").exit_code == 0
        out = tmp_path / "r.json"
        told = bad("drift", "--scenario", str(path), "--output", str(out))
        assert (
            "'quote' is '0.010 USDT', but drift counts in '0.000001 USDC': the scenario's amounts and prices are "
            "quanta of another policy's units @ $.units.quote (line 5)"
        ) in told
        assert not out.exists()
        assert invoke("simulate", "drift", "--scenario", str(write()), "--paths", "2").exit_code == 0
        malformed = write(BASE.replace("[book]\n", '[units]\nquote = "USDT"\n\n[book]\n'))
        assert (
            "'quote' must be a quantity as a policy's [units] writes it ('0.01 USDT'): 'USDT' @ $.units.quote"
            in bad("binance", "--scenario", str(malformed))
        )

    @pytest.mark.parametrize("until", ["0", "nan", "2"])
    def test_an_impossible_until(self, write, until: str) -> None:
        bad("binance", "--scenario", str(write()), "--until", until)


GARCH = BASE.replace("volatility = 0.8", "omega = 0.00001\nalpha = 0.3\nbeta = 0.7").replace('"gbm"', '"garch"')
PARETO = BASE.replace(
    'distribution = "lognormal"\nmedian = 1000000\nsigma = 0.5', 'distribution = "pareto"\nminimum = 5\nalpha = 0'
)
#: each kind of bad input the issue names: (scenario, CSV or None, the file named, the message after it)
REFUSED = {
    "csv missing column": (
        CRASH,
        "time,open,high,close\n1,1,1,1\n",
        "crash.csv",
        "crash.csv:1: missing column(s) 'low'",
    ),
    "csv non-monotone time": (
        CRASH,
        CRASH_CSV.replace("\n2,", "\n1,"),
        "crash.csv",
        "crash.csv:3: 'time' must be later than line 2's (1): 1 (candles in increasing time order)",
    ),
    "csv non-positive price": (
        CRASH,
        CRASH_CSV.replace(",5000,5000", ",0,5000"),
        "crash.csv",
        "crash.csv:3: 'low' must be a finite number > 0: '0'",
    ),
    "csv nan": (
        CRASH,
        CRASH_CSV.replace("2,10000", "2,nan"),
        "crash.csv",
        "crash.csv:3: 'open' must be a finite number > 0: 'nan'",
    ),
    "scenario nan": (
        BASE.replace("volatility = 0.8", "volatility = nan"),
        None,
        "scenario.toml",
        "'volatility' must be a finite number: nan @ $.prices.volatility (line 27)",
    ),
    "uniform high below low": (
        BASE.replace("high = 10", "high = 1"),
        None,
        "scenario.toml",
        "'high' must be >= low (2): 1 @ $.book.leverage.high (line 17)",
    ),
    "pareto alpha 0": (PARETO, None, "scenario.toml", "'alpha' must be > 0: 0 @ $.book.size.alpha (line 12)"),
    "lognormal median beyond a float": (
        BASE.replace("median = 1000000", "median = 1e400"),
        None,
        "scenario.toml",
        "'median' must be a finite number, at most 1.79769e+308 in size (it is drawn from as a float): "
        "1.00000e+400 @ $.book.size.median (line 11)",
    ),
    "garch not stationary": (
        GARCH,
        None,
        "scenario.toml",
        "'beta' must be < 1 - alpha (0.7) for a stationary GARCH(1,1): 0.7 @ $.prices.beta (line 29)",
    ),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_bad_input_exits_2_naming_the_file_and_writes_nothing(write, tmp_path: Path, case: str) -> None:
    """Every kind of bad input issue 14 names, through the command line with a report and an export
    asked for: exit 2, no traceback, the file and its line or field with the expected form, and
    neither the report nor the export folder written."""
    scenario, csv, named, message = REFUSED[case]
    path = write(scenario, **({"crash.csv": csv} if csv is not None else {}))
    out, stories = tmp_path / "report.json", tmp_path / "stories"
    told = bad("binance", "--scenario", str(path), "--format", "json", "--output", str(out), "--export", str(stories))
    assert told.startswith(f"solvent: {tmp_path / named}: 1 error(s)\n"), told
    assert message in told.replace(f"{tmp_path}/", "")
    assert not out.exists() and not stories.exists()

"""The terminal: progress per policy and per claim with the budget left (rich on a terminal,
plain lines in a log, nothing in memory), the text report folded to the terminal's width and
coloured there, byte for byte the same in a file or a pipe. No test waits on a clock."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from rich.console import Console

from solvent.cli import main
from solvent.properties.progress import Status, listening, report
from solvent.reports import progress, terminal, text
from solvent.verdicts.check import PolicyReport


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class Piped(io.StringIO):
    """A stream with a file descriptor that is not a terminal: a pipe or a CI log."""

    def fileno(self) -> int:
        return 2


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CI", "SOLVENT_PROGRESS", "COLUMNS", "TERM", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)


class TestWhere:
    def test_a_terminal_gets_the_live_display(self) -> None:
        assert progress.mode(Tty()) == "live" and progress.wanted(Tty())

    def test_a_log_gets_lines(self, monkeypatch: pytest.MonkeyPatch) -> None:
        assert progress.mode(Piped()) == "lines"
        monkeypatch.setenv("CI", "true")
        assert progress.mode(Tty()) == "lines"

    def test_memory_and_off_get_nothing(self, monkeypatch: pytest.MonkeyPatch) -> None:
        assert progress.mode(io.StringIO()) == "off"
        assert progress.mode(Tty(), show=False) == "off"
        monkeypatch.setenv("SOLVENT_PROGRESS", "off")
        assert progress.mode(Tty()) == "off"

    def test_nothing_written_when_off(self) -> None:
        stream = io.StringIO()
        with progress.progress(2, stream=stream) as tick:
            tick("checking a")
            report("z3", "conservation", 0, 60_000_000, "units")
        assert stream.getvalue() == ""


class TestBudget:
    def test_units_and_examples(self) -> None:
        assert progress.status_text(Status("z3", "no-haircut", 18_000_000, 60_000_000, "units")) == (
            "z3 no-haircut: 42M of 60M units left"
        )
        assert progress.status_text(Status("search", "16 claims", 80, 200, "examples")) == (
            "search 16 claims: 120 of 200 examples left"
        )
        assert progress.budget_text(Status("search", "x", 250, 200, "examples")) == "0 of 200 examples left"
        assert progress.status_text(Status("scenarios")) == "scenarios"

    def test_nothing_listens_by_default(self) -> None:
        report("z3", "conservation", 1, 2, "units")  # no listener: nothing happens, nothing fails
        heard: list[Status] = []
        with listening(heard.append):
            report("z3", "conservation", 1, 2, "units")
        report("z3", "after", 1, 2, "units")
        assert heard == [Status("z3", "conservation", 1, 2, "units")]


class TestLines:
    def test_one_line_per_policy_and_per_claim(self) -> None:
        stream = io.StringIO()
        with progress.progress(2, stream=stream, show=True) as tick:
            tick("checking binance")
            for done in (0, 1, 2):
                report("search", "16 claims", done, 200, "examples")
            report("z3", "conservation", 0, 60_000_000, "units")
            report("z3", "no-haircut", 18_000_000, 60_000_000, "units")
            tick("checking drift")
        assert stream.getvalue().splitlines() == [
            "solvent: [1/2] checking binance",
            "solvent:   search 16 claims: 200 of 200 examples left",
            "solvent:   z3 conservation: 60M of 60M units left",
            "solvent:   z3 no-haircut: 42M of 60M units left",
            "solvent: [2/2] checking drift",
        ]
        assert "\x1b" not in stream.getvalue() and "\r" not in stream.getvalue()


class TestLive:
    def test_draws_the_claim_and_the_budget_then_clears(self) -> None:
        out = io.StringIO()
        console = Console(file=out, force_terminal=True, width=120, color_system=None)
        with progress.progress(2, console=console) as tick:
            tick("checking binance")
            report("z3", "no-haircut", 18_000_000, 60_000_000, "units")
        drawn = out.getvalue()
        assert "[1/2] checking binance · z3 no-haircut" in drawn and "42M of 60M units left" in drawn
        assert drawn.endswith("\x1b[2K")  # transient: the last thing drawn is the line erased


class TestReport:
    def test_a_pipe_gets_the_same_bytes(self, binance: PolicyReport) -> None:
        out = io.StringIO()
        terminal.echo(text.render(binance), stream=out)
        assert out.getvalue() == text.render(binance) + "\n"

    def test_a_terminal_gets_colour(self, binance: PolicyReport) -> None:
        out = io.StringIO()
        console = Console(file=out, force_terminal=True, color_system="standard", width=200)
        terminal.echo(text.render(binance), console=console)
        coloured = out.getvalue()
        assert "\x1b[" in coloured and "\x1b[32mheld\x1b[0m" in coloured  # held in green
        assert "\x1b[33mfails (accepted)\x1b[0m" in coloured
        plain = Console(file=io.StringIO(), width=200)
        with plain.capture() as captured:
            plain.print(terminal.coloured(text.render(binance)), soft_wrap=True)
        assert captured.get().rstrip("\n") == text.render(binance)  # colour only, no reflow

    @pytest.mark.parametrize("variable", ["FORCE_COLOR", "TTY_COMPATIBLE"])
    def test_a_pipe_told_it_is_a_terminal_gets_colour(self, variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """``echo`` skips ``rich`` only where rich would print plainly too (``_surely_not_a_terminal``):
        a pipe with ``FORCE_COLOR`` or ``TTY_COMPATIBLE=1`` set is coloured, as rich decides."""
        monkeypatch.setenv(variable, "1")
        out = io.StringIO()
        terminal.echo("conservation  held", stream=out)
        assert "\x1b[" in out.getvalue() and "held" in out.getvalue()
        monkeypatch.delenv(variable)
        out = io.StringIO()
        terminal.echo("conservation  held", stream=out)
        assert out.getvalue() == "conservation  held\n"

    def test_width_follows_columns(self, monkeypatch: pytest.MonkeyPatch) -> None:
        assert terminal.width(io.StringIO()) == text.WIDTH == 120
        monkeypatch.setenv("COLUMNS", "100")
        assert terminal.width(io.StringIO()) == 100
        monkeypatch.setenv("COLUMNS", "wide")
        assert terminal.width(io.StringIO()) == 120


class TestCommandLine:
    @pytest.mark.parametrize("columns", [120, 100])
    def test_check_fits_the_terminal(self, columns: int) -> None:
        result = CliRunner().invoke(main, ["check", "binance", "--no-search"], env={"COLUMNS": str(columns)})
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert max(map(len, lines)) <= columns, max(lines, key=len)
        assert "\x1b" not in result.stdout  # not a terminal: no colour
        assert result.stderr == ""  # an in-memory stream: no progress

    def test_bad_input_still_exits_2(self) -> None:
        result = CliRunner().invoke(main, ["check", "no-such-venue", "--no-search"], env={"COLUMNS": "120"})
        assert result.exit_code == 2 and "no-such-venue" in result.stderr


@pytest.mark.parametrize("command", ["presets", "invariants", "scenarios"])
@pytest.mark.parametrize("columns", [120, 100])
def test_the_listings_fit_the_terminal(command: str, columns: int) -> None:
    result = CliRunner().invoke(main, [command], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) > 5 and max(map(len, lines)) <= columns, max(lines, key=len)


def test_a_table_folds_only_its_prose_columns() -> None:
    rows = [("binance", "linear", "word " * 30, "x")]
    out = terminal.table(rows, ("preset", "contract", "waterfall", "source"), 60, wrap=(2,))
    assert max(map(len, out.splitlines())) <= 60
    assert out.splitlines()[2].startswith("binance   linear")  # the fixed columns stay whole

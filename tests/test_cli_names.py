"""Names on the command line: a misspelt preset, invariant, scenario or question is bad input
(exit 2, the closest name, no traceback, nothing written), and the shell completes each."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.shell_completion import ShellComplete
from click.testing import CliRunner

from solvent.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("check", "binanse", "--no-search"), "'binanse' (did you mean 'binance'?)"),
        (("diff", "binance", "bybti", "--no-search"), "'bybti' (did you mean 'bybit'?)"),
        (("check", "binance", "--no-search", "--invariant", "no-haircutt"), "(did you mean 'no-haircut'?)"),
        (("check", "binance", "--no-search", "--scenario", "wahle"), "(did you mean 'whale'?)"),
        (
            ("check", "binance", "--no-search", "--accept", "principal-protectd"),
            "(did you mean 'principal-protected'?)",
        ),
        (
            ("check", "binance", "--no-search", "--thresholds", "--threshold-question", "fund-for-gap,safe-mov"),
            "(did you mean 'safe-move'?)",
        ),
        (
            ("diff", "binance", "bybit", "--no-search", "--invariant", "waterfal-order"),
            "(did you mean 'waterfall-order'?)",
        ),
        (("prove", "binance", "--invariant", "conservaton"), "(did you mean 'conservation'?)"),
        (("thresholds", "binance", "--question", "safe-move,fund-for-gapp"), "(did you mean 'fund-for-gap'?)"),
        (("tradeoffs", "okx2018", "--no-search"), "(did you mean 'okx-2018'?)"),
    ],
)
def test_a_misspelt_name_is_bad_input_with_the_closest(args: tuple[str, ...], says: str, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = run(*args, *(("--format", "json", "--output", str(out)) if args[0] in ("check", "diff") else ()))
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()


def test_a_bad_policy_file_names_file_field_line_and_the_closest_key(tmp_path: Path) -> None:
    path = tmp_path / "venue.toml"
    path.write_text(
        'name = "v"\n[[margin.tiers]]\nfloor_notional_quote = 0\ninitial_ppm = 0.1\nmaintenance_ppm = 5\n'
        "[liquidation]\npenalty_pm = 5\n",
        encoding="utf-8",
    )
    out = tmp_path / "report.sarif"
    result = run("check", str(path), "--no-search", "--format", "sarif", "--output", str(out))
    assert result.exit_code == 2 and not out.exists()
    assert result.stderr.splitlines() == [
        f"solvent: {path}: 2 error(s)",
        f"  'initial_ppm' must be an integer number of ppm: 0.1 @ $.margin.tiers[0].initial_ppm ({path}:4:15)",
        "  unknown key 'penalty_pm' (did you mean 'penalty_ppm'?) (allowed keys: trigger, execution, slippage_ppm, "
        "partial_close_ppm, penalty_ppm, penalty_recipient, takeover_below_ppm, partial_above_notional_quote, "
        "partial_share_ppm, fee_to_close, fund_unwind_ppm, order, final_settlement, shortage_buffer_ppm) "
        f"@ $.liquidation.penalty_pm ({path}:7:1)",
    ]


def completions(args: list[str], incomplete: str) -> list[str]:
    complete = ShellComplete(main, {}, "solvent", "_SOLVENT_COMPLETE")
    return [item.value for item in complete.get_completions(args, incomplete) if item.type == "plain"]


class TestCompletion:
    def test_preset_names(self) -> None:
        assert completions(["check"], "okx") == ["okx", "okx-2018"]
        assert completions(["diff", "binance"], "by") == ["bybit"]
        assert completions(["thresholds"], "dy") == ["dydx-v4"]

    def test_a_policy_argument_also_completes_files(self) -> None:
        complete = ShellComplete(main, {}, "solvent", "_SOLVENT_COMPLETE")
        assert "file" in {item.type for item in complete.get_completions(["check"], "ex")}

    def test_invariants_and_relational_properties(self) -> None:
        assert completions(["check", "binance", "--invariant"], "no-") == [
            "no-negative-equity",
            "no-haircut",
        ]
        assert "round-trip-neutral" in completions(["check", "binance", "--accept"], "round")
        assert completions(["prove", "binance", "--invariant"], "round") == []  # z3 proves no relational property
        assert completions(["prove", "binance", "--invariant"], "conse") == ["conservation"]

    def test_scenarios(self) -> None:
        assert completions(["check", "binance", "--scenario"], "wh") == ["whale"]
        assert completions(["diff", "binance", "bybit", "--scenario"], "gap-crash") == ["gap-crash", "gap-crash-funded"]

    def test_questions_complete_after_a_comma(self) -> None:
        assert completions(["thresholds", "binance", "--question"], "safe-move,fu") == ["safe-move,fund-for-gap"]
        assert completions(["check", "binance", "--threshold-question"], "pen") == ["penalty-bankrupts"]

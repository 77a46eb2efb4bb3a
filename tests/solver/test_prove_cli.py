"""``solvent prove``: exit 0 proved, 1 refuted (with the replayed story), 3 unknown, 2 bad input."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from solvent.cli import main


def run(*args: str):
    return CliRunner().invoke(main, ["prove", *args])


def test_proved_exits_0() -> None:
    """Conservation of a mark move on Backpack holds for every number of accounts."""
    result = run("backpack", "--invariant", "conservation", "--accounts", "2", "--effort", "30M")
    assert result.exit_code == 0, result.output
    # the headline takes the weaker scope (non-negative transfers: N ≤ 2); the claim's own follows
    assert "conservation on backpack: proved (N ≤ 2, K ≤ 1 (mark)" in result.output
    assert "; conservation proved (all N, any K (mark)" in result.output


def test_refuted_exits_1_and_prints_the_replayed_story() -> None:
    # the story as shrunk, not bisected to its least move (that is test_smallest_move's)
    result = run(
        "backpack", "--invariant", "no-negative-equity", "--accounts", "1", "--effort", "30M", "--no-least-move"
    )
    assert result.exit_code == 1, result.output
    assert "counterexample (replayed on the concrete engine)" in result.output
    assert "<- fails here" in result.output and "replay: Story(" in result.output


def test_unknown_exits_3() -> None:
    """Within one unit nothing is built. On backpack, not drift: drift's all-N lemmas for conservation
    (about 2 s of CPU, its two margin scopes) ran before the same unknown (session 28)."""
    result = run("backpack", "--invariant", "conservation", "--accounts", "3", "--effort", "1")
    assert result.exit_code == 3, result.output
    assert "backpack: unknown (" in result.output.splitlines()[0]  # the verdict, not an obligation


@pytest.mark.parametrize(
    "args, message",
    [
        (("nowhere", "--invariant", "conservation"), "'policy' must be an existing .toml file or one of"),
        (("backpack", "--invariant", "nope"), "unknown invariant 'nope'"),
        (("backpack", "--invariant", "conservation", "--event-kinds", "mark,teleport"), "'event_kinds' must be among"),
        (
            ("backpack", "--invariant", "conservation", "--min-price", "10", "--max-price", "5"),
            "'max_price' must be >= min_price (10): 5",
        ),
    ],
    ids=["unknown policy", "unknown invariant", "unknown event kind", "empty price range"],
)
def test_bad_input_exits_2(args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("abc", "'abc' is not a whole price of at least 1 quote quantum per lot"),
        ("0", "'0' is not a whole price of at least 1 quote quantum per lot"),
        ("-5", "'-5' is not a whole price of at least 1 quote quantum per lot"),
        ("1.5", "'1.5' is not a whole price"),
        ("100,,200", "'100,,200' has an empty price between commas"),
        ("100,100", "'100' is given twice"),
    ],
)
def test_a_bad_price_grid_is_bad_input_naming_the_option(grid: str, message: str) -> None:
    """Before anything is built: exit 2, the option and what was expected, no traceback."""
    result = run("backpack", "--invariant", "conservation", "--price-grid", grid)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '--price-grid': {message}" in result.output
    assert "Traceback" not in result.output


def test_a_price_grid_reads_with_spaces_and_underscores() -> None:
    """``' 10_000, 10_100'`` is the grid {10000, 10100}: the verdict says so."""
    result = run("backpack", "--invariant", "conservation", "--accounts", "1", "--price-grid", " 10_000, 10_100")
    assert result.exit_code == 0, result.output
    assert "prices in {10000, 10100}" in result.output


def test_vacuous_assumptions_exit_2() -> None:
    """A price grid outside the price range leaves no book to prove anything about."""
    result = run(
        "backpack", "--invariant", "conservation", "--accounts", "1", "--max-price", "100", "--price-grid", "500"
    )
    assert result.exit_code == 2, result.output
    assert "vacuous" in result.output and "prices within bounds" in result.output


@pytest.mark.parametrize("command", [("prove", "binance", "--invariant", "conservation"), ("thresholds", "binance")])
@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--effort", "inf", "'inf' is not a number of units"),
        ("--effort", "nan", "'nan' is not a number of units"),
        ("--effort", "1e308", "must be between 1 and 4,000,000,000 units"),
        ("--effort", "-5", "'-5' must be between 1 and 4,000,000,000 units"),
        ("--effort", "0", "'0' must be between 1 and 4,000,000,000 units"),
        ("--effort", "5000G", "'5000G' must be between 1 and 4,000,000,000 units"),
        ("--effort", "1.5", "'1.5' is not a whole number of units"),
        ("--safety-net", "inf", "--safety-net"),
        ("--safety-net", "nan", "--safety-net"),
        ("--safety-net", "-1", "--safety-net"),
    ],
)
def test_a_bad_budget_is_bad_input_naming_the_option(command, option, value, message) -> None:
    """inf, nan, negative, zero, fractional or absurdly large: exit 2 naming the option, no traceback."""
    result = CliRunner().invoke(main, [*command, option, value])
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.output and message in result.output, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    "args",
    [
        ("check", "binance", "--prove-budget", "inf"),
        ("check", "binance", "--prove-budget", "nan"),
        ("check", "binance", "--prove-budget", "-1"),
        ("check", "binance", "--prove-effort", "0"),
        ("check", "binance", "--threshold-probes", "-1"),
        ("diff", "binance", "binance", "--prove-budget", "1e308"),
        ("gallery", "out", "--prove-budget", "nan"),
        ("thresholds", "binance", "--probes", "inf"),
        ("prove", "binance", "--invariant", "conservation", "--accounts", "1000000000"),
    ],
)
def test_every_budget_option_refuses_nonsense(args) -> None:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 2, result.output
    assert "Invalid value for" in result.output and "Traceback" not in result.output


def test_units_are_exact_with_suffixes() -> None:
    from solvent.cli import Units

    units = Units()
    assert [units.convert(v, None, None) for v in ("30M", "2.5M", "500k", "1_000", "1,000", "1G", 7)] == [
        30_000_000,
        2_500_000,
        500_000,
        1_000,
        1_000,
        10**9,
        7,
    ]


def test_prove_hands_its_answer_to_the_least_move_unless_told_not_to(monkeypatch) -> None:
    """``solvent prove`` tells its answer at the least move by default (``--least-move``) and as
    found with ``--no-least-move``: the option reaches the cell and the cell the least-move step.
    The step itself is ``test_smallest_move.py``'s; the command run whole, at its own budget, is
    that file's deep test and the verbatim printed-commands test (the default one asks the capped
    fund's printed ``solvent prove`` with ``--no-least-move``, as its check was asked)."""
    import solvent.simulation.grids as grids
    from solvent.solver.prove import scope_of
    from solvent.solver.verdicts import ProofResult, Verdict

    def answered(policy, invariant, bounds, scopes, **options):  # no z3: the wiring is under test
        return ProofResult(policy.name, invariant, Verdict.PROVED, scope_of(bounds), 0.0, "canned", bounds=bounds)

    told = []

    def at_least_move(policy, invariant, result, *rest):
        told.append((policy.name, invariant.id, result.verdict))
        return result

    monkeypatch.setattr(grids, "prove_on_scopes", answered)
    monkeypatch.setattr(grids, "told_at_least_move", at_least_move)
    assert run("backpack", "--invariant", "conservation").exit_code == 0
    assert told == [("backpack", "conservation", Verdict.PROVED)]
    assert run("backpack", "--invariant", "conservation", "--no-least-move").exit_code == 0
    assert len(told) == 1

"""``solvent diff`` with proofs and thresholds: the issue's acceptance example (two versions of
the Binance preset, the new one capping what the insurance fund pays per bankruptcy) shows the new
failure, z3's verdict on it and the moved threshold; the judging of moved thresholds on its own."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from solvent.cli import main
from solvent.rules.presets import load_preset
from solvent.solver.thresholds import Direction, Threshold, ThresholdStatus
from solvent.verdicts import diff as diff_model
from solvent.verdicts.check import check_policy

CAPPED = str(Path(__file__).resolve().parents[2] / "examples" / "binance-capped-fund.toml")


def test_capped_fund_diff_shows_new_failure_lost_proof_and_moved_threshold() -> None:
    result = CliRunner().invoke(
        main,
        [
            "diff",
            "binance",
            CAPPED,
            "--no-search",
            "--prove-budget",
            "120M",
            "--prove-effort",
            "60M",
            "--invariant",
            "waterfall-order",
            "--thresholds",
            "--threshold-question",
            "fund-for-gap",
            "--threshold-probes",
            "40",
            "--no-least-move",  # the capped fund's story as z3 found it: its least move is test_smallest_move's
        ],
        env={"COLUMNS": "200"},  # the content, unfolded (folding to the width: tests/reports/test_diff_width.py)
    )
    assert result.exit_code == 1, result.output
    out = result.output
    assert "WORSE: waterfall-order now fails" in out
    assert "deficit[0].cap_quote" in out and "100000" in out
    proofs = out.split("Proofs:", 1)[1].split("\n\n", 1)[0]
    # binance's proof is for every N (solver/waterfall_claims.py): its scope's assumption is long, and
    # the table wraps the claim's name ("waterfall-" / "order: proof lost") beside it
    assert "waterfall-" in proofs and "lost" in proofs and "proved (all N given that" in proofs
    assert "refuted (N ≤ 2" in proofs
    moved = out.split("Thresholds moved:", 1)[1].split("\n\n", 1)[0]
    assert "192,000 ppm (19.2%)" in moved and "none: fails even at 1,000,000 ppm" in moved and "worse" in moved


def _t(question: str, status: ThresholdStatus, proved: int | None, refuted: int | None) -> Threshold:
    direction = Direction.LARGEST if question == "safe-move" else Direction.SMALLEST
    return Threshold(question, question, "p", direction, status, proved_at=proved, refuted_at=refuted)


@pytest.fixture(scope="module")
def base():
    return check_policy(load_preset("binance"), invariants=["conservation"])


@pytest.mark.parametrize(
    ("old", "new", "worse"),
    [
        (
            _t("safe-move", ThresholdStatus.EXACT, 8_000, 8_001),
            _t("safe-move", ThresholdStatus.EXACT, 5_000, 5_001),
            True,
        ),
        (
            _t("safe-move", ThresholdStatus.EXACT, 5_000, 5_001),
            _t("safe-move", ThresholdStatus.EXACT, 8_000, 8_001),
            False,
        ),
        (
            _t("fund-for-gap", ThresholdStatus.EXACT, 192_000, 191_999),
            _t("fund-for-gap", ThresholdStatus.EXACT, 250_000, 249_999),
            True,
        ),
        (
            _t("fund-for-gap", ThresholdStatus.EXACT, 192_000, 191_999),
            _t("fund-for-gap", ThresholdStatus.NONE, None, 1_000_000),
            True,
        ),
        (
            _t("fund-for-gap", ThresholdStatus.EXACT, 192_000, 191_999),
            _t("fund-for-gap", ThresholdStatus.BOUNDED, 260_000, 200_000),
            False,
        ),
        (
            _t("penalty-bankrupts", ThresholdStatus.EXACT, 500_000, 499_999),
            _t("penalty-bankrupts", ThresholdStatus.EXACT, 400_000, 399_999),
            False,
        ),
    ],
)
def test_which_moves_are_worse(base, old: Threshold, new: Threshold, worse: bool) -> None:
    (row,) = diff_model.thresholds_moved(attrs.evolve(base, thresholds=(old,)), attrs.evolve(base, thresholds=(new,)))
    assert row.worse is worse
    assert row.section == "thresholds moved"


def test_unchanged_thresholds_add_no_row(base) -> None:
    same = _t("safe-move", ThresholdStatus.EXACT, 8_000, 8_001)
    assert (
        diff_model.thresholds_moved(attrs.evolve(base, thresholds=(same,)), attrs.evolve(base, thresholds=(same,)))
        == []
    )

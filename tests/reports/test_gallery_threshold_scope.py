"""Each threshold answer in the gallery's index carries its own scope (issue 17): the questions are
proved on different numbers of traders, so one header line cannot state it for the whole table."""

from __future__ import annotations

import attrs

from solvent.reports.gallery import index
from solvent.rules.presets import load_preset
from solvent.solver.thresholds import Direction, Threshold, ThresholdStatus
from solvent.solver.verdicts import ProofResult, Scope, Verdict
from solvent.verdicts.check import check_policy


def _answer(question: str, traders: int | None) -> Threshold:
    scope = Scope(traders, 1, ("mark",), "prices 1..1000000000")
    proof = ProofResult("binance", question, Verdict.PROVED, scope, 0.0, "bounded")
    return Threshold(question, question, "binance", Direction.LARGEST, ThresholdStatus.EXACT, 8_000, 8_001, proof=proof)


def test_each_threshold_cell_states_its_own_number_of_traders() -> None:
    report = check_policy(load_preset("binance"), invariants=["conservation"])
    report = attrs.evolve(report, thresholds=(_answer("safe-move", 2), _answer("fund-for-gap", 1)))
    row = next(line for line in index([report], searched=False).splitlines() if line.startswith("| `binance`"))
    assert "8,000 ppm (0.8%) (N ≤ 2)" in row
    assert "(N ≤ 1)" in row


def test_an_all_n_answer_says_so() -> None:
    report = check_policy(load_preset("binance"), invariants=["conservation"])
    report = attrs.evolve(report, thresholds=(_answer("safe-move", None),))
    row = next(line for line in index([report], searched=False).splitlines() if line.startswith("| `binance`"))
    assert "(all N)" in row

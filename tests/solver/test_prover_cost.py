"""Decisions issue 18's prover-cost round restored, each at a fixed unit budget (deterministic: the
same verdict on an idle or a loaded machine; docs/solver-notes.md#the-prover-cost-of-the-fidelity-changes-issue-18).

- dYdX v4's per-fill gap ``⌈D·q / L⌉`` made every claim's transfers obligation run out at N = 4
  within 10M units; the transfer shapes now read its safe divisor and the queue's lots left.
- OKX 2018's insurance fund for a 20% gap is exact again: 100,000 ppm proved, 99,999 refuted with a
  story replayed on the concrete engine (one side only in the round before).
"""

from __future__ import annotations

import solvent.solver.thresholds as th
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds
from solvent.solver.effort import question
from solvent.solver.prove import prove
from solvent.solver.refinement import replay
from solvent.solver.verdicts import Verdict


def test_dydx_per_fill_transfers_are_decided_at_four_traders() -> None:
    """spot-isolated on dydx-v4, four traders, one mark move, 10M units: the claim and the
    non-negative transfers both proved (the transfers ran out of units before: "partial")."""
    result = prove("dydx-v4", "spot-isolated", Bounds(accounts=4, effort=10_000_000))
    by_name = {o.obligation: o for o in result.obligations}
    assert by_name["non-negative-transfers"].verdict is Verdict.PROVED, result.summary()
    assert result.verdict is Verdict.PROVED, result.summary()
    assert by_name["non-negative-transfers"].scope.accounts == 4


def _probe(value: int):
    """One fund-for-gap probe on okx-2018 as ``solvent thresholds`` makes it (its default units)."""
    s = th.questions()["fund-for-gap"].setup(load_preset("okx-2018"), value, th.default_bounds())
    with question():
        result, _size = th._decide(s)
    return s, result


def test_okx_2018_fund_for_a_gap_is_exact_at_ten_percent() -> None:
    """A fund of 10% of the open interest pays every deficit a 20% gap brings on two traders
    (proved); one ppm less and a story, replayed on the engine, reaches the clawback."""
    _, at = _probe(100_000)
    assert at.verdict is Verdict.PROVED, at.reason
    s, below = _probe(99_999)
    assert below.verdict is Verdict.REFUTED and below.counterexample is not None, below.reason
    assert replay(s.policy, s.claim, below.counterexample.story, s.bounds).violates

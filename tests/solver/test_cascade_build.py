"""What the cascade in turn (``rules.bankruptcy._cascade``, a loop where it was a recursion over
every order of the traders) buys the prover at N = 4 (docs/solver-notes.md#the-cascade-in-turn-issue-18)."""

from __future__ import annotations

import pytest

from solvent.solver.bounds import Bounds
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict

FOUR = Bounds(accounts=4, events=1, effort=10_000_000)


@pytest.mark.deep  # 5.2M units: 153 s of wall at load 20 (about 20 s of CPU)
def test_drifts_fund_is_proved_at_four_traders_within_ten_million_units() -> None:
    """Drift's insurance-fund-non-negative at N = 4: the claim undecided in each of its three phases
    (0.37M units each, 9.84M in all) while the recursion's build took 10,923 steps; with the
    loop's 7,329 the claim is proved (5.20M in all). Asked bounded (``compositional=False``): since session
    24 the all-N argument (``solver.frame_claims``: the fund a system holder) decides it with nothing built
    at N = 4, and this test is about the build."""
    result = prove("drift", "insurance-fund-non-negative", FOUR, minimize=False, compositional=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert result.units <= FOUR.effort


@pytest.mark.deep  # 8.4M units: 7 s of wall at load 5
def test_gen_bs_spot_isolated_is_proved_at_four_traders_within_ten_million_units() -> None:
    """percolator Gen B's spot-isolated at N = 4: its build was 31,761 steps where 7.5M units (18,750
    steps) were left for N = 4, so the question was never asked; with the cascade's loop, the
    shrink moved once and the opposing lots read once, 14,859 steps, and the claim is proved. Asked bounded
    (``compositional=False``): since session 24 the all-N argument (``solver.frame_claims`` on Gen B's own
    decomposition) decides it with nothing built at N = 4, and this test is about the build."""
    result = prove("percolator-gen-b", "spot-isolated", FOUR, minimize=False, compositional=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert result.units <= FOUR.effort

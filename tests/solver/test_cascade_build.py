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
    loop's 7,329 the claim is proved (5.20M in all)."""
    result = prove("drift", "insurance-fund-non-negative", FOUR, minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert result.units <= FOUR.effort

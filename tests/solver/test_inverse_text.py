"""z3's stories on an inverse contract read in the venue's terms (``solvent prove``/``thresholds``)."""

from __future__ import annotations

from solvent.reports.proof_text import render, render_thresholds
from solvent.rules.contract import contracts
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict

BITMEX = load_preset("bitmex")


def test_a_refutation_is_told_in_usd_and_contracts() -> None:
    """The story as z3 found it (893,265 units): its least move (10M units more, about 2.4 s of CPU)
    changes the numbers the text shows, not the terms it shows them in (session 28)."""
    result = prove(BITMEX, "no-haircut", Bounds(accounts=2, events=1, effort=60_000_000), minimize=False)
    assert result.verdict is Verdict.REFUTED, result.summary()
    text = render(result, contract=BITMEX.contract)
    assert "size (contracts)" in text and "size (lots)" not in text
    assert "in the venue's terms (inverse contract):" in text
    assert "coin value" in text  # the mark event, with the coin value beside its USD price
    alice = result.counterexample.story.book.account("alice")
    row = next(line for line in text.splitlines() if line.strip().startswith("alice"))
    if alice.size_lots:
        assert f"{contracts(BITMEX.contract, alice.size_lots)}" in row.split()
    linear = render(result)
    assert "size (lots)" in linear and "venue's terms" not in linear


def test_threshold_moves_are_said_to_be_coin_value_moves() -> None:
    assert "moves are of each contract's coin value" in render_thresholds([], contract=BITMEX.contract)
    assert "coin value" not in render_thresholds([], contract=load_preset("binance").contract)

"""The all-N arguments: the frame lemma on the book's balances, lemmas on the engine's functions."""

from __future__ import annotations

from solvent.properties import catalog
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds
from solvent.solver.compositional import ARGUMENTS, extend, writers

KINDS = ("mark", "funding", "deposit", "withdraw", "trade", "spot-deposit")


class TestStaticChecks:
    """Positions change only through fills (balances are checked by the frame lemma instead: a
    syntactic scan cannot see a whole record written back)."""

    def test_positions_are_written_only_by_move_position(self) -> None:
        assert writers("size_lots") == {"positions.move_position"}


class TestExtension:
    def test_conservation_holds_for_every_n_and_every_event_kind(self) -> None:
        """Every lemma of the conservation argument holds on Binance's engine, for all six kinds."""
        ext = extend(load_preset("binance"), catalog.get("conservation"), Bounds(event_kinds=KINDS, effort=20_000_000))
        assert ext is not None
        assert "all N" in ext.method and "uniformly" in ext.method
        decided = [q for q in ext.queries if "conditions abstracted" not in q.name]
        assert {q.result.split(" ")[0] for q in decided} <= {"unsat", "holds", "trivial"}
        assert any(lemma.startswith("F (mark)") for lemma in ext.lemmas)
        assert any(lemma.startswith("C5 (funding)") for lemma in ext.lemmas)
        assert any(lemma.startswith("aggregate") for lemma in ext.lemmas)

    def test_open_interest_balance_has_an_argument(self) -> None:
        ext = extend(load_preset("drift"), catalog.get("open-interest-balance"), Bounds(effort=20_000_000))
        assert ext is not None and any(lemma.startswith("O2") for lemma in ext.lemmas)

    def test_per_account_claims_have_no_argument(self) -> None:
        """No compositional argument is claimed where there is none: the verdict stays bounded."""
        assert set(ARGUMENTS) == {"conservation", "open-interest-balance"}
        assert extend(load_preset("backpack"), catalog.get("no-negative-equity"), Bounds()) is None

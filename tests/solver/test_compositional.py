"""The all-N arguments: static checks of who writes balances, lemmas on the engine's functions."""

from __future__ import annotations

from solvent.properties import catalog
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds
from solvent.solver.compositional import ARGUMENTS, extend, writers

KINDS = ("mark", "funding", "deposit", "withdraw", "trade", "spot-deposit")


class TestStaticChecks:
    """Balances change only through the ledger, positions only through fills."""

    def test_cash_and_spot_are_written_only_by_the_ledger(self) -> None:
        assert writers("cash_quote") == {"ledger._balance"}
        assert writers("spot_quote") == {"ledger._balance"}

    def test_positions_are_written_only_by_move_position(self) -> None:
        assert writers("size_lots") == {"positions.move_position"}


class TestExtension:
    def test_conservation_holds_for_every_n_and_every_event_kind(self) -> None:
        """Every lemma of the conservation argument holds on Binance's engine, for all six kinds."""
        ext = extend(load_preset("binance"), catalog.get("conservation"), Bounds(event_kinds=KINDS, effort=20_000_000))
        assert ext is not None
        assert "all N" in ext.method and "uniformly" in ext.method
        assert {q.result for q in ext.queries} <= {"unsat", "holds", "trivial"}
        assert any(lemma.startswith("C5 (funding)") for lemma in ext.lemmas)
        assert any(lemma.startswith("aggregate") for lemma in ext.lemmas)

    def test_open_interest_balance_has_an_argument(self) -> None:
        ext = extend(load_preset("drift"), catalog.get("open-interest-balance"), Bounds(effort=20_000_000))
        assert ext is not None and any(lemma.startswith("O2") for lemma in ext.lemmas)

    def test_per_account_claims_have_no_argument(self) -> None:
        """No compositional argument is claimed where there is none: the verdict stays bounded."""
        assert set(ARGUMENTS) == {"conservation", "open-interest-balance"}
        assert extend(load_preset("backpack"), catalog.get("no-negative-equity"), Bounds()) is None

"""z3's one-event induction for the well-formed rule "a debt the venue fronted is owed only by a
trader, flat at cash 0" (``solver.fronted_debt.kept``): every event kind the engine accepts keeps
it on broker-reg-t and the planted policies that state it, on one market and two, with isolated
positions and with a (weightless) collateral asset; and where ``wellformed.debt_owed_flat`` leaves
it out, z3 shows the event that would break it (a trade on spot collateral or on weighted
collateral, a deposit collected off the book, a delisting on a book of two markets, margin moved
to or from an isolated position)."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from solvent.rules import wellformed
from solvent.rules.arith import and_, implies
from solvent.rules.presets import load_preset, resolve_policy
from solvent.rules.waterfall import DebtCarry, Lender
from solvent.solver.bounds import Bounds
from solvent.solver.fronted_debt import kept

BROKER = load_preset("broker-reg-t")
TESTS = Path(__file__).resolve().parents[1]
#: every kind a book without assets or isolated positions draws
KINDS = ("mark", "funding", "deposit", "withdraw", "trade", "spot-deposit", "final-settlement")


def _answers(found: list) -> dict[str, str]:
    return {k.label: k.result for k in found}


def test_every_event_keeps_it_on_broker_reg_t() -> None:
    """Two traders, one market: 23 events (a deposit and a spot deposit to each account, a
    withdrawal each, four trades, mark, funding, delisting), each unsat, 147,052 units in all
    when measured (a bound here, not the figure)."""
    found = kept(BROKER, Bounds(accounts=2, event_kinds=KINDS))
    assert len(found) == 23 and set(_answers(found).values()) == {"unsat"}
    assert sum(k.units for k in found) < 1_000_000


@pytest.mark.parametrize(
    "path", ["planted_control/broker-fronts-debt.toml", "planted/debt-carry-swallows-deposit.toml"]
)
def test_every_event_keeps_it_on_the_planted_policies(path: str) -> None:
    found = kept(resolve_policy(TESTS / path), Bounds(accounts=2, event_kinds=KINDS))
    assert len(found) == 23 and set(_answers(found).values()) == {"unsat"}


def test_two_markets_isolated_positions_and_assets() -> None:
    """On a book of two markets (no delisting), with alice's isolated position moving margin, and
    with a collateral asset (weightless on broker-reg-t: no ``[[collateral]]``)."""
    two = kept(BROKER, Bounds(accounts=2, markets=2, event_kinds=KINDS[:-1]))
    isolated = kept(
        BROKER, Bounds(accounts=2, markets=2, isolated=1, event_kinds=("margin", "trade", "deposit", "mark", "funding"))
    )
    kinds = ("asset-deposit", "asset-price", "asset-withdraw", "trade", "deposit", "mark", "funding")
    assets = kept(BROKER, Bounds(accounts=2, assets=1, event_kinds=kinds))
    for found in (two, isolated, assets):
        assert found and set(_answers(found).values()) == {"unsat"}
    assert {"add margin to alice:PERP2", "remove margin from alice:PERP2"} <= set(_answers(isolated))


def test_a_delisting_on_two_markets_breaks_it() -> None:
    """A final settlement resolves one market's bankruptcy while the trader keeps the other
    market's position (``rules.final_settlement``): why a policy that delists is left out. Not
    broker-reg-t's event (``liquidation.final_settlement`` false: the search never draws it)."""
    found = kept(BROKER, Bounds(accounts=2, markets=2, event_kinds=("final-settlement",)))
    assert set(_answers(found).values()) == {"sat"}
    after = found[0].after
    debtors = [a for a in after.traders if a.debt_quote > 0]
    assert debtors and any(p.size_lots != 0 for a in debtors for p in a.positions)


def _stated(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule stated on every policy that lends off the book (what ``debt_owed_flat`` leaves out)."""
    monkeypatch.setattr(wellformed, "debt_owed_flat", wellformed.lends_off_book)


def test_spot_collateral_would_let_a_debtor_open(monkeypatch: pytest.MonkeyPatch) -> None:
    _stated(monkeypatch)
    spot = attrs.evolve(BROKER, margin=attrs.evolve(BROKER.margin, spot_collateral=True))
    answers = _answers(kept(spot, Bounds(accounts=2, event_kinds=("trade", "spot-deposit"))))
    assert answers["trade alice<-bob (buyer takes)"] == "sat"
    assert answers["spot-deposit alice"] == "unsat"


def test_collateral_with_a_weight_would_let_a_debtor_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backpack's SOL table on broker-reg-t: SOL beside the debt is margin, and a trade opens (on
    broker-reg-t's own asset book, weightless, the same trade keeps the rule: above)."""
    _stated(monkeypatch)
    sol = attrs.evolve(BROKER, collateral=load_preset("backpack").collateral)
    bounds = Bounds(accounts=2, assets=1, asset_names=("SOL",), event_kinds=("trade",))
    found = kept(sol, bounds, labels=("trade alice<-bob (buyer takes)",))
    assert _answers(found) == {"trade alice<-bob (buyer takes)": "sat"}


def test_a_deposit_collected_off_the_book_would_become_cash(monkeypatch: pytest.MonkeyPatch) -> None:
    _stated(monkeypatch)
    off = attrs.evolve(BROKER, deficit=(DebtCarry(Lender.VENUE, deposits_repay_debt=False),))
    found = kept(off, Bounds(accounts=2, event_kinds=("deposit",)), labels=("deposit alice",))
    assert _answers(found) == {"deposit alice": "sat"}
    alice = found[0].after.account("alice")
    assert alice.debt_quote > 0 and alice.cash_quote > 0


def test_margin_moved_with_an_isolated_position_would_be_cash(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read on the owner and its isolated position too, the rule breaks: margin added to the
    position, or removed to the owner, passes no repayment."""

    def every_trader(book, account):
        if not account.is_trader:
            return account.debt_quote == 0
        flat = and_(account.cash_quote == 0, *(p.size_lots == 0 for p in account.positions))
        return implies(account.debt_quote > 0, flat)

    monkeypatch.setattr(wellformed, "_owes_flat", every_trader)
    found = kept(BROKER, Bounds(accounts=2, markets=2, isolated=1, event_kinds=("margin",)))
    assert _answers(found) == {"add margin to alice:PERP2": "sat", "remove margin from alice:PERP2": "sat"}

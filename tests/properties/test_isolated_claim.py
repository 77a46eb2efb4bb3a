"""``isolated-loss-contained`` on concrete steps (docs/portfolio.md decision 3a): it holds on the
engine's margin moves, liquidations and bankruptcies of an isolated position, and fails on an
engine whose margin move is booked with another reason or moves one quantum more than asked."""

from __future__ import annotations

import pytest

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules import isolated
from solvent.rules.book import new_book
from solvent.rules.engine import run, step
from solvent.rules.events import AddMargin, Deposit, MarkPrice, RemoveMargin, Trade
from solvent.rules.ledger import Reason
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.policy import Policy
from solvent.rules.waterfall import InsuranceFund, VenueAbsorbs

POLICY = Policy(
    "flat",
    MarginRule(
        tiers=(Tier(floor_notional_quote=0, initial_ppm=100_000, maintenance_ppm=50_000),), modes=("cross", "isolated")
    ),
    deficit=(InsuranceFund(), VenueAbsorbs()),
)
CLAIM = catalog.get("isolated-loss-contained")


def _opened():
    book = new_book(mark_quote=100, traders=("alice", "bob"), isolated_positions=(("alice", "PERP"),))
    events = [Deposit("liquidity", 10**6), Deposit("alice", 1_000), Deposit("bob", 10_000), AddMargin("alice", 300)]
    return run(POLICY, book, [*events, Trade("alice", "bob", 10, 100)])[-1].after


@pytest.mark.parametrize(
    "event", [AddMargin("alice", 50), RemoveMargin("alice", 150), MarkPrice(70), MarkPrice(60)], ids=repr
)
def test_it_holds_on_margin_moves_and_on_the_isolated_positions_liquidation(event) -> None:
    s = step(POLICY, _opened(), event)
    assert CLAIM.holds(StepView.of(POLICY, s))
    assert CLAIM.exercised(StepView.of(POLICY, s)) is not False


def test_it_is_judged_where_a_policy_declares_isolated_margin() -> None:
    assert CLAIM.applies(POLICY)
    assert not CLAIM.applies(Policy("undeclared", MarginRule(tiers=POLICY.margin.tiers)))


@pytest.mark.parametrize("mutant", ["another reason", "one quantum more"])
def test_it_fails_on_an_engine_that_lets_the_owner_pay(monkeypatch, mutant: str) -> None:
    real = isolated.move_margin

    def booked(ctx, source, destination, amount):
        if mutant == "another reason":
            return ctx.transfer(source, destination, amount, Reason.DEPOSIT)
        return real(ctx, source, destination, amount + 1)

    monkeypatch.setattr(isolated, "move_margin", booked)
    s = step(POLICY, _opened(), AddMargin("alice", 50))
    assert not CLAIM.holds(StepView.of(POLICY, s))

"""z3 on a book with collateral assets (issue 13 stage 2; docs/portfolio.md decision 8): the
symbolic book holds A assets, asset events act on any of them, conservation per asset is proved
for every N, and a depeg story is found and replayed on the concrete engine."""

from __future__ import annotations

import attrs
import pytest

from solvent.properties import catalog
from solvent.rules.assets import Collateral
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds
from solvent.solver.compositional import Extension, attempt
from solvent.solver.prove import fixed_text, prove
from solvent.solver.story import slots, symbolic_book
from solvent.solver.verdicts import Verdict

USDE = Collateral("USDe", initial_weight_ppm=900_000, maintenance_weight_ppm=950_000)
POLICY = attrs.evolve(load_preset("binance"), collateral=(USDE,))
KINDS = ("asset-price", "asset-deposit", "asset-withdraw")


def bounds(**changes) -> Bounds:
    return Bounds(**{"accounts": 2, "events": 1, "assets": 1, "event_kinds": KINDS, "effort": 20_000_000, **changes})


def test_the_symbolic_book_holds_every_asset_and_events_act_on_each() -> None:
    book, variables = symbolic_book(bounds(assets=2, asset_names=("USDe",)))
    assert [a.name for a in book.assets] == ["USDe", "ASSET"]
    assert {"s0.USDe.price_quote", "s0.alice@ASSET.balance"} <= {str(v) for v in variables}
    (slot,) = slots(book, bounds(assets=2))
    labels = [v.label for v in slot.variants]
    assert "price of USDe" in labels and "price of ASSET" in labels and "withdraw ASSET bob" in labels


def test_bounds_hold_at_most_three_assets_and_asset_events_need_one() -> None:
    with pytest.raises(ValueError, match="'assets' must be <= 3: 4"):
        Bounds(assets=4)
    with pytest.raises(ValueError, match="'assets' must be >= 1 for the event kinds asset-price"):
        Bounds(event_kinds=("asset-price",))


def test_the_scope_says_which_assets() -> None:
    assert "1 collateral asset (USDe)" in fixed_text(attrs.evolve(bounds(), asset_names=("USDe",)))
    assert "collateral" not in fixed_text(Bounds())


def test_conservation_per_asset_holds_for_every_n() -> None:
    # the per-asset lemma read off prove's own lemmas (the policy names its asset USDe), where the
    # compositional attempt was asked again beside prove (1.15 s of CPU, 112,835 units; session 28)
    result = prove(POLICY, "conservation", bounds())
    assert result.verdict is Verdict.PROVED
    assert "all N" in result.method
    per_asset = [q for q in result.queries if "USDe's net deposits change by exactly its external transfers" in q.name]
    assert per_asset and all(q.result.startswith("unsat") for q in per_asset)


def test_an_asset_balance_moved_without_a_ledger_entry_breaks_the_frame_lemma(monkeypatch) -> None:
    from solvent.rules import engine

    def price_and_a_gift(ctx, event):  # the oracle move also credits alice one quantum, unrecorded
        assets = (attrs.evolve(ctx.book_field("assets")[0], price_quote=event.price_quote),)
        alice = ctx.account("alice")
        ctx = ctx.evolve_book(assets=assets)
        return ctx.update_account("alice", asset_balances=(alice.asset_balances[0] + 1,))

    monkeypatch.setattr(engine, "_asset_price", price_and_a_gift)
    found = attempt(POLICY, catalog.get("conservation"), bounds(event_kinds=("asset-price",), asset_names=("USDe",)))
    assert not isinstance(found, Extension)
    assert found.failed.startswith("F (price of USDe)")


def test_a_depeg_story_is_found_and_replayed() -> None:
    """A flat account whose settlement balance is a loan against USDe: the oracle falls below the
    loan, the collateral is sold whole and the rest goes down the waterfall, whose fund is short
    of it (ADL has no position to close: docs/portfolio.md)."""
    result = prove(POLICY, "claims-backed", bounds(event_kinds=("asset-price",)))
    assert result.verdict is Verdict.REFUTED
    story = result.counterexample.story
    (event,) = story.events
    assert event.asset == "USDe"
    assert event.price_quote < story.book.assets[0].price_quote

"""``flat-accounts-never-pay`` at K > 1: the flat-trader argument asked from any state (the mark and
previous mark within the price bounds, which every accepted move keeps; the event's bounds and
acceptance; a flat trader's cost basis and every other number free), so it covers every K and
the K-event question rests on the one-event book asked first
(docs/solver-notes.md#flat-accounts-never-pay-at-any-k-issue-18).

Binance at N = 3, K = 3 within 20M units: partial before (18,099,445 units, the claim out of units
in each of its three phases), proved for every N and K after in 3,054,282 (the lemma 2,690).
"""

from __future__ import annotations

import pytest
from mutant_support import socialize_weighted

from solvent.properties import catalog
from solvent.rules.arith import abs_
from solvent.rules.presets import resolve_policy
from solvent.solver import compositional
from solvent.solver.bounds import Bounds
from solvent.solver.per_account import TURNS_ALIKE
from solvent.solver.prove import prove
from solvent.solver.verdicts import TRANSFERS, Verdict

THREE_MOVES = Bounds(accounts=2, events=3, effort=10_000_000)
LEMMA = "flat-accounts-never-pay on mark: no turn charges a flat trader, whatever the system accounts hold at each turn"


def _attempt(preset: str, bounds: Bounds = THREE_MOVES):
    return compositional.attempt(resolve_policy(preset), catalog.get("flat-accounts-never-pay"), bounds)


@pytest.mark.parametrize("preset", ["binance", "bitmex", "mango-v4", "hyperliquid"])
def test_at_three_moves_the_flat_lemma_holds_from_any_state_for_every_k(preset: str) -> None:
    found = _attempt(preset)
    assert isinstance(found, compositional.Extension), found.failed
    assert found.every_k and found.assumes == TURNS_ALIKE
    assert "any K" in found.method and "a flat trader's cost basis free" in found.method
    assert [q.name for q in found.queries if q.name == LEMMA]


def test_at_one_move_the_flat_lemma_covers_that_move_only() -> None:
    found = _attempt("binance", Bounds(accounts=2, events=1, effort=10_000_000))
    assert isinstance(found, compositional.Extension) and not found.every_k
    assert "one event" in found.method


def test_a_clawback_of_a_flat_winner_fails_the_lemma_at_any_k() -> None:
    found = _attempt("okx-2018")  # §4: closed positions' profit is clawed back
    assert isinstance(found, compositional.Attempt) and found.applies
    assert "no turn charges a flat trader" in found.failed


def test_a_socialized_loss_weighted_by_the_wrong_account_fails_the_lemma_at_any_k(monkeypatch) -> None:
    # socialized_loss.socialize with one token changed: each payer weighted by the bankrupt's lots
    socialize_weighted(monkeypatch, lambda at, book, payer, bankrupt: abs_(at.account(bankrupt).size_lots))
    found = _attempt("mango-v4")
    assert isinstance(found, compositional.Attempt) and found.applies
    assert "no turn charges a flat trader" in found.failed


def test_with_a_collateral_asset_the_any_k_argument_does_not_apply() -> None:
    found = _attempt("binance", Bounds(accounts=2, events=3, assets=1, effort=10_000_000))
    assert isinstance(found, compositional.Attempt) and not found.applies


def test_binance_at_two_moves_is_proved_for_every_n_and_k() -> None:
    """5 s at load 10: proved at N ≤ 2, K ≤ 2 before (1,459,128 units: the two-move question), for
    every N and K after (1,436,922): the lemma, the one-event book first, the transfers at K = 2."""
    result = prove("binance", "flat-accounts-never-pay", Bounds(accounts=2, events=2, effort=5_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    own = next(o for o in result.obligations if o.obligation == "flat-accounts-never-pay")
    assert own.scope.accounts is None and own.scope.events is None


@pytest.mark.deep  # 3.1M units: 4-10 s at load 5-10
def test_binance_at_three_traders_and_three_moves_is_proved_for_every_n_and_k() -> None:
    """The lemma, the one-event book (N = 2, K = 1) first, then the transfers alone at N = 3, K = 3
    (partial before: the claim's three-event question out of units, 18.1M spent)."""
    result = prove(
        "binance", "flat-accounts-never-pay", Bounds(accounts=3, events=3, effort=20_000_000), minimize=False
    )
    assert result.verdict is Verdict.PROVED, result.summary()
    own = next(o for o in result.obligations if o.obligation == "flat-accounts-never-pay")
    assert own.scope.accounts is None and own.scope.events is None and own.scope.assumes == TURNS_ALIKE
    transfers = next(o for o in result.obligations if o.obligation == TRANSFERS)
    assert (transfers.scope.accounts, transfers.scope.events) == (3, 3)
    asked_at_k = [q.name for q in result.queries if not q.name.endswith("(on the lemmas' book, N = 2, K = 1)")]
    assert not any(n.startswith("flat-accounts-never-pay (") or n == "flat-accounts-never-pay" for n in asked_at_k)
    assert result.units <= 20_000_000

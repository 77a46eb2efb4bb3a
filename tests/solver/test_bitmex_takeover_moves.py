"""BitMEX's payer claims at K = 3: the two-move search (``solver.takeover_moves``), now a regression.

Under the session-20 rule the fund's own deleveraging after a takeover broke both claims over moves
(tests/solver/test_bitmex_fund_deleverage_story.py, by hand), and the prover found such a story in two
steps, each decided by the engine: one move on two traders on the grid to a book where the fund is
below zero holding lots opposite a trader worth less than a quantum a lot (the search's target), then
one more move at the same mark, replayed against the claim. Since session 23 the fund hands on at most
its lots' loss in the move (``rules.pool_bankruptcy``): the first step still finds its book, the replay
breaks nothing, and the claims are proved for every N and any K by the induction over moves; with the
session-20 rule as a mutant the search finds its story again, in the same 2,135,302 units
(docs/solver-notes.md#bitmex-at-k--3-the-funds-own-deleveraging-after-a-takeover-session-23).
"""

from __future__ import annotations

import pytest

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules import engine
from solvent.rules.book import Role
from solvent.rules.ledger import Reason
from solvent.rules.margin import equity
from solvent.rules.presets import resolve_policy
from solvent.solver import prove as prove_module
from solvent.solver import takeover_moves
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict
from tests.solver.test_bitmex_fund_deleverage_story import EXACT, _story, session_20_rule

BITMEX = resolve_policy("bitmex")
K3 = Bounds(accounts=3, events=3, effort=20_000_000)
#: the units the two steps took to the story under the session-20 rule (the first step's build and its
#: exact query)
FOUND = 2_135_302

_PROVED: dict[str, object] = {}


def _proved(claim: str):
    if claim not in _PROVED:
        _PROVED[claim] = prove(BITMEX, claim, K3, minimize=False)
    return _PROVED[claim]


@pytest.mark.deep
@pytest.mark.parametrize("claim", ["no-negative-equity", "loss-bounded-by-collateral"])
def test_the_claim_is_proved_at_k_3_by_the_induction(claim: str) -> None:
    result = _proved(claim)
    assert result.verdict is Verdict.PROVED, result.reason
    assert result.scope.accounts is None and result.scope.events is None  # every N, any K
    assert "induction over mark moves" in result.scope.assumes
    assert "(its takeover)" in result.scope.assumes  # what the queue and the book leave is the fund's: said


def test_the_search_finds_its_book_and_no_story() -> None:
    """The rule: the first step's book is found (a model replayed against the target), and the second
    move at the same mark breaks no claim: nothing is reported, the units counted."""
    bounds = for_policy(K3, BITMEX)
    found, spent = prove_module._takeover_moves(BITMEX, catalog.get("no-negative-equity"), bounds, 6_000_000)
    assert found is None
    assert any(q.result.startswith("sat") for q in spent)  # the target's book was found
    assert sum(q.units for q in spent) < 6_000_000


@pytest.mark.parametrize(
    "claim", ["no-negative-equity", pytest.param("loss-bounded-by-collateral", marks=pytest.mark.deep)]
)
def test_under_the_session_20_rule_the_search_refutes_the_claim(claim: str, monkeypatch) -> None:
    """The mutant (the rule before session 23, its very terms): the search finds the two-move story
    in exactly the units it took then, the payer flat below zero after paying the fund."""
    session_20_rule(monkeypatch)
    bounds = for_policy(K3, BITMEX)
    result, spent = prove_module._takeover_moves(BITMEX, catalog.get(claim), bounds, 6_000_000)
    assert result is not None and result.verdict is Verdict.REFUTED, spent
    assert sum(q.units for q in spent) == FOUND
    cx = result.counterexample
    first, second = cx.story.events
    assert first.price_quote == second.price_quote  # the second move moves nothing
    assert cx.step_index == 1
    step = cx.steps[1]
    fund = step.before.role(Role.INSURANCE_FUND)
    assert fund.cash_quote < 0 and fund.size_lots != 0
    paid = [t for t in step.transfers if t.reason is Reason.ADL and t.destination == fund.name]
    [payer] = {t.source for t in paid}
    assert equity(BITMEX.margin, step.after.account(payer)) < 0
    assert step.after.account(payer).size_lots == 0


def test_the_target_is_thin_one_quantum_a_lot() -> None:
    """The hand-built story after its first move: charlie, short 200 opposite the fund's 200 lots at
    −45, worth 199 meets the target (and ends the next move at −1 under the session-20 rule); worth 200,
    exactly a quantum a lot, does not (and ends at 0 there): the target's boundary was the claim's."""
    for cash, thin in ((EXACT - 1, True), (EXACT, False)):
        story = _story(cash)
        step = engine.step(BITMEX, story.book, story.events[0])
        view = StepView.of(BITMEX, step)
        assert takeover_moves.TARGET.holds(view) is (not thin)


def test_the_search_is_asked_only_for_the_payer_claims_over_moves_where_the_fund_takes_over() -> None:
    nne = catalog.get("no-negative-equity")
    three = for_policy(Bounds(accounts=3, events=3), BITMEX)
    assert takeover_moves.fits(BITMEX, nne, three)
    assert takeover_moves.fits(BITMEX, catalog.get("loss-bounded-by-collateral"), three)
    assert not takeover_moves.fits(BITMEX, nne, for_policy(Bounds(accounts=4, events=1), BITMEX))
    assert not takeover_moves.fits(BITMEX, catalog.get("conservation"), three)
    for other in ("binance", "bybit", "dydx-v4", "okx", "hyperliquid"):
        policy = resolve_policy(other)
        assert not takeover_moves.fits(policy, nne, for_policy(Bounds(accounts=3, events=3), policy))


def test_without_the_funds_own_deleveraging_the_search_says_nothing(monkeypatch) -> None:
    """The fund's own bankruptcy mutated away: the first step still finds its book (the fund below zero
    after a takeover, a thin trader opposite), but the second move breaks no claim, and the replay
    against the claim itself says so: nothing is reported, the units are counted."""
    monkeypatch.setattr(engine, "deleverage_pools", lambda policy, ctx: ctx)
    bounds = for_policy(K3, BITMEX)
    found, spent = prove_module._takeover_moves(BITMEX, catalog.get("no-negative-equity"), bounds, 6_000_000)
    assert found is None
    assert spent and sum(q.units for q in spent) > 0
    assert any(q.result.startswith("sat") for q in spent)  # the target's book was found

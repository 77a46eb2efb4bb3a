"""claims-backed's system holders through one liquidation turn (solver/fund_facts.py ``holders``).

The system holders' part of claims-backed (solver/claims_backed.py) reads the fund's, the fee
account's and the vault's cash after the step. The turn lemma its question gets keeps every one of
them at or above zero (the fund's own question keeps the fund's alone, its terms as before): on
Bybit at N = 4 the part was proved in 4,932,197 units (its exact claim 3,487,394), now 1,568,211
(86,544), so no-negative-equity on two traders fits in what it leaves and claims-backed is proved at
N = 4 (docs/solver-notes.md#bitmexs-payer-facts-and-the-last-bybit-and-okx-cells-session-20).
"""

from __future__ import annotations

import pytest
import z3

import solvent.rules.bankruptcy as bankruptcy_module
from solvent.rules.arith import max_
from solvent.rules.ledger import system
from solvent.rules.presets import resolve_policy
from solvent.solver import claims_backed, fund_facts, payer_direct, wall
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict


def _answer(premise, claim) -> str:
    return wall.check([*premise, z3.Not(claim)], [], 5_000_000, 60.0).result


def _pays_all(ctx, role, bankrupt, remaining, reason, cap=None, *, all_or_nothing=False, floor=0):
    """``insurance_fund.pay_from`` paying the whole deficit, not ``min(deficit, balance)``."""
    source = system(ctx.book, role)
    pay = max_(remaining, 0)
    ctx = ctx.transfer(source, bankrupt, pay, reason)
    return ctx, pay, ctx.book.account(source).cash_quote <= floor


def test_the_holders_are_the_fund_then_the_fee_account_and_the_vault() -> None:
    book, _, _ = fund_facts.turn_question(resolve_policy("bybit"), 2, "alice", claim_id=claims_backed.SYSTEM_ID)
    assert fund_facts.holders(book, claims_backed.SYSTEM_ID) == ["insurance_fund", "fee_account", "backstop_vault"]
    assert fund_facts.holders(book, fund_facts.FUND) == ["insurance_fund"]


def test_the_turn_keeps_every_holder_and_needs_each_ones_premise() -> None:
    """Bybit, the last of four traders' turns: valid; without the fee account's ``≥ 0`` before the
    turn (or the fund's) z3 finds a book where it is below zero after."""
    policy = resolve_policy("bybit")
    _, premise, claim = fund_facts.turn_question(policy, 4, "dave", claim_id=claims_backed.SYSTEM_ID)
    assert _answer(premise, claim) == "unsat"
    for dropped in (1, 2):  # the fund's cash, the fee account's
        assert _answer([p for i, p in enumerate(premise) if i != dropped], claim) == "sat"


def test_the_funds_own_question_keeps_its_lemma() -> None:
    """insurance-fund-non-negative's turn lemma is the fund's alone: the same premise and claim as
    before this change (the mark, the fund's cash, then the dust)."""
    policy = resolve_policy("bybit")
    book, premise, claim = fund_facts.turn_question(policy, 2, "alice")
    _, holders_premise, holders_claim = fund_facts.turn_question(policy, 2, "alice", claim_id=claims_backed.SYSTEM_ID)
    assert len(holders_premise) == len(premise) + 2
    assert premise[1].eq(holders_premise[1]) and claim.eq(holders_claim.arg(0))


def test_a_fund_that_pays_more_than_it_holds_gives_the_holders_no_fact(monkeypatch) -> None:
    policy = resolve_policy("bybit")
    monkeypatch.setattr(bankruptcy_module, "pay_from", _pays_all)
    bounds = for_policy(Bounds(accounts=2, events=1, effort=2_000_000), policy)
    cases, _ = payer_direct.prepared(policy, bounds, claims_backed.SYSTEM_ID)
    assert cases is None


def test_the_system_holders_at_two_traders() -> None:
    """Bybit, N = 2 within 5M: the lemma 15,976 units (bob's alice's renamed), the build 544,000,
    the claim exact 15,130, the transfers 56: 575,162."""
    result = prove("bybit", claims_backed.SYSTEM, Bounds(accounts=2, events=1, effort=5_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert result.queries[0].name == f"{fund_facts.HOLDERS_LEMMA} (alice's)"
    assert result.units == 575_162


@pytest.mark.deep  # 8.9M units: 20 s at load 9
def test_bybits_claims_backed_is_proved_at_four_traders() -> None:
    """Undecided at f3323ad (10,000,000: the system holders 4.93M, no-negative-equity on two traders
    then out of what was left); 8,877,026 now."""
    result = prove("bybit", "claims-backed", Bounds(accounts=4, events=1, effort=10_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert result.units <= 10_000_000

"""The insurance fund through one liquidation turn as facts of a step's question (solver/fund_facts.py).

``fund ≥ 0`` before a trader's turn implies ``fund ≥ 0`` after it, proved by z3 on the engine's own
``liquidation_turn`` for every value of a free book of the question's N traders, and instantiated at
each turn of the question's sweep: the chain z3 then follows decides insurance-fund-non-negative at
N = 4, where the question alone ran out at 30M units (docs/solver-notes.md#the-fund-turn-by-turn-issue-18).
"""

from __future__ import annotations

import pytest
import z3
from term_support import occurs

import solvent.rules.bankruptcy as bankruptcy_module
from solvent.properties import catalog
from solvent.rules.arith import max_
from solvent.rules.book import Role
from solvent.rules.engine import liquidation_turn
from solvent.rules.ledger import Ctx, system
from solvent.rules.presets import resolve_policy
from solvent.solver import fund_facts, payer_direct, wall
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.query import StoryQuery
from solvent.solver.verdicts import Verdict

FOUR = Bounds(accounts=4, events=1, effort=10_000_000)


def _holds(policy, accounts: int, trader: str) -> str:
    _, premise, claim = fund_facts.turn_question(policy, accounts, trader)
    return wall.check([*premise, z3.Not(claim)], [], 5_000_000, 60.0).result


def _pays_all(ctx, role, bankrupt, remaining, reason, cap=None, *, all_or_nothing=False, floor=0):
    """``insurance_fund.pay_from`` with the fund paying the whole deficit, not ``min(deficit,
    balance)``: one token of rules/insurance_fund.py."""
    source = system(ctx.book, role)
    pay = max_(remaining, 0)
    ctx = ctx.transfer(source, bankrupt, pay, reason)
    return ctx, pay, ctx.book.account(source).cash_quote <= floor


def test_each_turn_keeps_the_fund_at_or_above_zero_and_needs_its_premise() -> None:
    """Proved for the last trader's turn on Bybit's four-trader book; without ``fund ≥ 0`` before
    the turn z3 finds a book (a fund already below zero stays there)."""
    policy = resolve_policy("bybit")
    assert _holds(policy, 4, "dave") == "unsat"
    book, premise, claim = fund_facts.turn_question(policy, 4, "dave")
    assert wall.check([premise[0], z3.Not(claim)], [], 5_000_000, 60.0).result == "sat"


def test_a_fund_that_pays_more_than_it_holds_breaks_the_lemma_and_gets_no_fact(monkeypatch) -> None:
    policy = resolve_policy("bybit")
    monkeypatch.setattr(bankruptcy_module, "pay_from", _pays_all)
    assert _holds(policy, 2, "alice") == "sat"
    cases, _ = payer_direct.prepared(
        policy, for_policy(Bounds(accounts=2, events=1, effort=2_000_000), policy), "insurance-fund-non-negative"
    )
    assert cases is None


def test_each_instance_names_the_fund_the_turn_starts_and_ends_with() -> None:
    """At each of the four turns the instance's premise reads the fund the turn starts from, the
    fund after the last turn is the question's own fund after the step, and each turn's start is
    the previous turn's end: the chain the question's claim follows."""
    policy = resolve_policy("bybit")
    bounds = for_policy(Bounds(accounts=4, events=1, effort=20_000_000), policy)
    cases, _ = payer_direct.prepared(policy, bounds, "insurance-fund-non-negative")
    assert cases is not None and isinstance(cases.facts, fund_facts.FundFacts)
    invariant = catalog.get("insurance-fund-non-negative")
    query = StoryQuery(policy, invariant, bounds, obligations=(invariant,), lemma_facts=cases.instances)
    run = query.runs[0].runs[0]
    starts = list(fund_facts.turn_starts(policy, query.book, run.variant.event))
    assert [t for t, _ in starts] == ["alice", "bob", "carol", "dave"]
    assert len(query.facts) == 4
    fund = query.book.role(Role.INSURANCE_FUND).name
    for fact, (trader, book) in zip(query.facts, starts, strict=True):
        assert occurs(book.account(fund).cash_quote, fact)
        end = liquidation_turn(policy, Ctx(book), trader).book.account(fund).cash_quote
        assert occurs(end, fact)
    last = liquidation_turn(policy, Ctx(starts[-1][1]), "dave").book.account(fund).cash_quote
    assert last.eq(run.ctx.book.account(fund).cash_quote)


@pytest.mark.deep  # 5.3M units: 5-14 s at load 5-9
def test_the_fund_is_proved_at_four_traders_within_ten_million_units() -> None:
    """Bybit at N = 4, one mark move: undecided at 10M (and 30M) asked alone; with the turn facts
    proved, the claim itself in well under 0.1M units (5.4M in all, the N = 1-3 passes included)."""
    result = prove("bybit", "insurance-fund-non-negative", FOUR, minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert payer_direct.FUND_METHOD in result.method
    assert result.units <= FOUR.effort


@pytest.mark.deep  # the turn lemma flips the verdict: about 20 s at load 5
def test_with_a_fund_that_pays_more_than_it_holds_the_claim_is_refuted(monkeypatch) -> None:
    monkeypatch.setattr(bankruptcy_module, "pay_from", _pays_all)
    result = prove("bybit", "insurance-fund-non-negative", Bounds(accounts=2, events=1, effort=10_000_000))
    assert result.verdict is Verdict.REFUTED, result.summary()


def test_claims_backed_gets_the_funds_turn_lemma_beside_the_payers() -> None:
    """claims-backed's conjuncts include the fund's cash: its question gets the turn lemma at each
    of the two traders' turns after the payer's facts (Binance's fund pieces cost 1.2M and more
    without it); insurance-fund-non-negative gets the turn lemma alone."""
    policy = resolve_policy("bybit")
    bounds = for_policy(Bounds(accounts=2, events=1, effort=10_000_000), policy)
    backed, queries = payer_direct.prepared(policy, bounds, "claims-backed")
    assert backed is not None and isinstance(backed.fund, fund_facts.FundFacts)
    assert [q.result for q in queries if q.name.startswith(fund_facts.LEMMA)] == ["unsat", "unsat"]
    alone, _ = payer_direct.prepared(policy, bounds, "no-negative-equity")
    assert alone is not None and alone.fund is None


def test_at_two_moves_each_moves_turns_get_an_instance_on_the_book_it_starts_from() -> None:
    """K = 2 (issue 18's K = 3 target): the lemma holds of every book, so each move's turns get an
    instance, the second move's on the book the first one left (its slot's ``before``): four facts
    on two traders, each naming the fund its turn starts and ends with, and the last the question's
    own fund after the second move (docs/solver-notes.md#every-claim-at-n--8-and-at-k--3-issue-18)."""
    policy = resolve_policy("binance")
    bounds = for_policy(Bounds(accounts=2, events=2, effort=20_000_000), policy)
    assert fund_facts.applies(bounds)
    cases, _ = payer_direct.prepared(policy, bounds, "insurance-fund-non-negative")
    assert cases is not None and isinstance(cases.facts, fund_facts.FundFacts)
    invariant = catalog.get("insurance-fund-non-negative")
    query = StoryQuery(policy, invariant, bounds, obligations=(invariant,), lemma_facts=cases.instances)
    assert len(query.facts) == 4
    fund = query.book.role(Role.INSURANCE_FUND).name
    second = query.runs[1]
    [run] = second.runs
    starts = list(fund_facts.turn_starts(policy, second.before, run.variant.event))
    for fact, (trader, book) in zip(query.facts[2:], starts, strict=True):
        assert occurs(book.account(fund).cash_quote, fact)
        assert occurs(liquidation_turn(policy, Ctx(book), trader).book.account(fund).cash_quote, fact)
    last = liquidation_turn(policy, Ctx(starts[-1][1]), "bob").book.account(fund).cash_quote
    assert last.eq(run.ctx.book.account(fund).cash_quote)


@pytest.mark.deep  # 9.8M units: 30 s at load 10
def test_the_fund_is_proved_at_three_traders_and_three_moves() -> None:
    """Binance at N = 3, K = 3 within 20M units: undecided with the facts at the first move only
    (18.4M units spent, the claim out of effort in each phase); with every move's, proved, the
    claim itself in about 0.16M units (9.85M in all, the N = 1-2 passes included)."""
    result = prove(
        "binance", "insurance-fund-non-negative", Bounds(accounts=3, events=3, effort=20_000_000), minimize=False
    )
    assert result.verdict is Verdict.PROVED, result.summary()
    assert payer_direct.FUND_METHOD in result.method
    assert result.units <= 20_000_000

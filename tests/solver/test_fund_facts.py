"""The insurance fund through one liquidation turn as facts of a step's question (solver/fund_facts.py).

``fund ≥ 0`` before a trader's turn implies ``fund ≥ 0`` after it, proved by z3 on the engine's own
``liquidation_turn`` for every value of a free book of the question's N traders, and instantiated at
each turn of the question's sweep: the chain z3 then follows decides insurance-fund-non-negative at
N = 4, where the question alone ran out at 30M units (docs/solver-notes.md#the-fund-turn-by-turn-issue-18).
"""

from __future__ import annotations

import attrs
import pytest
import z3
from term_support import occurs

import solvent.rules.bankruptcy as bankruptcy_module
from solvent.properties import catalog
from solvent.rules.arith import max_
from solvent.rules.book import Role
from solvent.rules.engine import liquidation_turn
from solvent.rules.ledger import Ctx, Reason, asset_balance, system
from solvent.rules.lending import cover_unpaid_borrows
from solvent.rules.presets import resolve_policy
from solvent.solver import fund_facts, payer_direct, story, wall
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.query import StoryQuery
from solvent.solver.story import symbolic_book
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
    assert [q.result for q in queries if q.name.startswith(fund_facts.LEMMA)] == [
        "unsat",
        fund_facts.RENAMED.format(first="alice"),
    ]
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


@pytest.mark.deep  # about 5M units: 10 s at load 15
def test_the_fund_is_proved_at_three_traders_and_three_moves() -> None:
    """Binance at N = 3, K = 3 within 20M units: undecided with the facts at the first move only
    (18.4M units spent, the claim out of effort in each phase); with every move's, proved, the
    claim itself in about 0.16M units (9.85M in all, the N = 1-2 passes included; 2.84M at f3323ad).
    Since session 20 by induction over the three events (tests/solver/test_fund_induction.py): a
    step at each clock, the turn lemma's facts in each, then the transfers at K = 3 (2.2M of it).
    Since session 21 for any K: Binance reads no clock, so the step at clock 0 stands for every
    event's (3,331,988 units where K ≤ 3 took 4,861,796)."""
    result = prove(
        "binance", "insurance-fund-non-negative", Bounds(accounts=3, events=3, effort=20_000_000), minimize=False
    )
    assert result.verdict is Verdict.PROVED, result.summary()
    assert result.method.startswith("by induction over any number of events at N = 3")
    assert result.units <= 20_000_000


# --- on a lending book (Drift's and Mango's check question: the collateral asset and its oracle move)

#: ``solvent check``'s question on a policy that lends a collateral asset (``verdicts.proofs``): two
#: traders, its first asset, a mark or an oracle move, within about its first-round share
CHECK_BOOK = Bounds(accounts=2, events=1, effort=3_750_000, assets=1, event_kinds=("mark", "asset-price"))


def test_the_fund_buys_an_unpaid_borrow_at_the_oracle_price() -> None:
    """``lending._fund_buys`` states its payment as ``min(bought × price, cash)`` so that z3 sees
    the fund pays at most its cash; the minimum never binds: on every book the fund's cash paid is
    exactly the oracle value of the quanta it bought for the borrower (z3, exact, every number free,
    the price ≥ 1). Rounding the quanta bought up (``Rounding.FLOOR`` → ``CEIL``) makes the minimum
    bind and fails this."""
    policy = resolve_policy("drift")
    book, _ = symbolic_book(fund_facts.free_bounds(1, ("SOL",)))
    ctx = cover_unpaid_borrows(policy, Ctx(book), "alice")
    fund = book.role(Role.INSURANCE_FUND).name
    paid = [
        g.item.amount_quote for g in ctx.entries if g.item.reason is Reason.INSURANCE_FUND and g.item.source == fund
    ]
    bought = [
        g.item.amount_quote
        for g in ctx.entries
        if g.item.reason is Reason.INSURANCE_FUND
        and g.item.source == asset_balance(book.role(Role.LIQUIDITY).name, "SOL")
        and g.item.destination == asset_balance("alice", "SOL")
    ]
    assert len(paid) == len(bought) == 1
    price = book.assets[0].price_quote
    asked = [price >= 1, paid[0] != bought[0] * price]
    assert wall.check(asked, [], 2_000_000, 60.0).result == "unsat"


@pytest.mark.parametrize(("preset", "asset"), [("mango-v4", "USDC"), ("drift", "SOL")])
def test_each_turn_keeps_the_fund_on_a_lending_book(preset: str, asset: str) -> None:
    """The lemma on a free two-trader book holding the policy's first collateral asset (its
    balances, oracle price and lending indices free): proved for both turns (measured 0.15-0.47M
    units each; undecided within 5M before the fund's purchase was stated with its cash bound);
    with a fund that pays the whole deficit it does not hold. Session 32: on drift a flat borrower's
    settlement cut (``engine._exchange_loan``) adds to each turn, and a holder it sinks is resolved in
    the turn: alice's turn unsat in 2,646,351 units, bob's in 1,696,906, so drift is given 3M."""
    policy = resolve_policy(preset)
    units = 3_000_000 if preset == "drift" else 2_000_000
    for trader in ("alice", "bob"):
        _, premise, claim = fund_facts.turn_question(policy, 2, trader, (asset,))
        assert wall.check([*premise, z3.Not(claim)], [], units, 60.0).result == "unsat", trader


def test_the_pro_rata_dust_is_given_to_the_lemma_and_beside_each_instance() -> None:
    """Drift rounds each socialized share up and passes the excess to the fund as dust: each dust
    of a turn is ``≥ 0`` by the split's proved lemma (``solver.pro_rata_lemma``), a premise of the
    turn's lemma (without it alice's turn was undecided within 5M units at N = 2; with it 46K) and
    a fact of its own beside each instance (the question's exact phase gets no split facts)."""
    policy = resolve_policy("drift")
    bounds = for_policy(Bounds(accounts=2, events=1, effort=10_000_000), policy)
    cases, _ = payer_direct.prepared(policy, bounds, "insurance-fund-non-negative")
    assert cases is not None and isinstance(cases.facts, fund_facts.FundFacts)
    dust = dict(cases.facts.dust)
    assert set(dust) == {"alice", "bob"} and all(dust.values())
    book, premise, claim = fund_facts.turn_question(policy, 2, "alice")
    turn = liquidation_turn(policy, Ctx(book), "alice")
    amounts = {g.item.amount_quote.get_id() for g in turn.entries if g.item.reason is Reason.PRO_RATA_DUST}
    assert all(z3.is_ge(d) and d.arg(0).get_id() in amounts for d in premise[2:])
    invariant = catalog.get("insurance-fund-non-negative")
    query = StoryQuery(policy, invariant, bounds, obligations=(invariant,), lemma_facts=cases.instances)
    assert len(query.facts) == 2 + len(dust["alice"]) + len(dust["bob"])


def test_the_fund_is_proved_on_mangos_check_question() -> None:
    """Mango v4 as ``solvent check`` asks it (two traders, USDC, a mark or an oracle move, 3.75M):
    undecided before (the turn lemma refused the asset book); now the lemma first, no smaller book
    searched, the claim with its facts in under 0.1M: proved. Its lemmas 0.37M units and 2,128,756
    in all until issue 18's cascade repaid a sunk payer's borrow; 0.71M and 2,714,664 since; 0.47M and
    2,471,443 with bob's turn lemma proved as alice's renamed (tests/solver/test_turn_renamed.py).
    Session 30: partial within 3.75M once a turn resolved a depositor the cut sank unless resolved
    earlier in the step (the lemma's turn started from no earlier resolution, so bob's instance missed
    the question's turn); with the earlier resolutions free booleans in the lemma, 2,262,490."""
    result = prove("mango-v4", "insurance-fund-non-negative", CHECK_BOOK, minimize=False, payer_first=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert payer_direct.FUND_METHOD in result.method
    names = [q.name for q in result.queries]
    assert names[0].startswith(fund_facts.LEMMA) and names[1].startswith(fund_facts.LEMMA)
    assert [n for n in names if n.startswith("build")] == ["build"]  # N's own pass only
    assert result.units <= CHECK_BOOK.effort


def test_with_a_fund_that_pays_more_than_it_holds_mango_is_refuted(monkeypatch) -> None:
    """The mutated fund: the lemma does not hold (undecided within its quarter), so no fact is
    given and the smaller books are searched as before: refuted with a replayed story."""
    monkeypatch.setattr(bankruptcy_module, "pay_from", _pays_all)
    result = prove("mango-v4", "insurance-fund-non-negative", CHECK_BOOK, minimize=False, payer_first=False)
    assert result.verdict is Verdict.REFUTED, result.summary()
    assert result.counterexample is not None


# --- the turn's earlier resolutions (session 30, winback) ----------------------------------------


def _mango_instances(monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[list, object, str]:
    """Mango v4's check book, its turn lemma built (not asked: ``valid`` a no-op) and instantiated on
    the mark move's sweep; returns (instances at each turn, the run, the fund's name)."""
    policy = resolve_policy("mango-v4")
    bounds = attrs.evolve(CHECK_BOOK, event_kinds=("mark",))
    facts = fund_facts.prove(policy, lambda *_: None, "insurance-fund-non-negative", bounds)
    assert facts is not None
    book, _ = symbolic_book(bounds)
    [slot] = story.run(policy, book, story.slots(book, bounds))
    [run] = slot.runs
    return facts.instances(policy, book, [slot]), run, book.role(Role.INSURANCE_FUND).name


def test_the_last_turns_instance_speaks_of_the_questions_own_fund() -> None:
    """Since a turn resolves a depositor the cut sank unless resolved earlier in the step
    (``bankruptcy.sunk_by_turn`` reads the step's outcomes), bob's turn depends on alice's: the
    lemma's free turn starts from a free boolean for each other trader's earlier resolution, and the
    instance at bob's turn puts the question's own disjunction there, so its conclusion is the
    question's fund after the step, the same z3 term (what lets the claim follow the chain: proved
    in 2,262,490 units within check's 3.75M, partial without)."""
    instances, run, fund = _mango_instances()
    claim = run.ctx.book.account(fund).cash_quote >= 0
    assert [z3.is_implies(i) and i.arg(1).eq(claim) for i in instances].count(True) == 1


def test_mutant_without_the_earlier_resolutions_the_instance_misses_the_question(monkeypatch) -> None:
    """The lemma's free turn started from no outcomes (the session-30 depositor's lemma): valid, but its
    instance at bob's turn reads alice as never resolved, not the question's term."""
    monkeypatch.setattr(fund_facts, "earlier", lambda policy, book, trader: ())
    instances, run, fund = _mango_instances()
    claim = run.ctx.book.account(fund).cash_quote >= 0
    assert not any(z3.is_implies(i) and i.arg(1).eq(claim) for i in instances)

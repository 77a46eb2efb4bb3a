"""The payer's claims over K mark moves by induction on a premise each move keeps (``solver.induction``;
docs/solver-notes.md#the-per-trader-claims-at-k--3-by-induction-session-20).

The premise of a trader (``StartMargin.SOLVENT``): worth at least zero, the fee to close its
bankruptcy price includes within that worth, and its own well-formedness. Binance's
no-negative-equity at N = 3, K = 3 within 20M units: partial before (18,666,390 units, the claim out
of units in its three phases), proved for every N and any K after (5,422,411).
"""

from __future__ import annotations

import functools

import attrs
import pytest

import solvent.rules.adl as adl_module
import solvent.rules.wellformed as wellformed
from solvent.properties import catalog
from solvent.rules.assets import account_value
from solvent.rules.book import Account, Book, Role, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.presets import resolve_policy
from solvent.rules.wellformed import StartMargin, conditions, covers_margin
from solvent.solver import compositional, induction, start_mark
from solvent.solver.bounds import Bounds
from solvent.solver.compositional import _Checker, _Failed
from solvent.solver.payer_lemma import ADL_FILLS_ONLY, payer_contract
from solvent.solver.per_account import _one_event_frame
from solvent.solver.prove import prove
from solvent.solver.verdicts import TRANSFERS, Verdict
from tests.solver.test_payer_facts import _gap_rounded_down

_RULES = wellformed._rules

UNITS = 10_000_000
KEPT = "solvent-premise-kept on mark: holds for one trader charged within the charge lemma before and after its turn"


def _valid(units: int = UNITS):
    """A lemma's check as the argument asks it: exact z3 (``compositional._payer``)."""
    return functools.partial(_Checker(Bounds(effort=units)).valid, exact=True)


def _contract(preset: str, claim: catalog.Invariant) -> str:
    """The payer's contract of ``claim`` from the premise, no value bound assumed (``induction.assumed``)."""
    policy = resolve_policy(preset)
    one = Bounds(accounts=2, events=1, start_margin=induction.PREMISE)
    _, _, slot = _one_event_frame(claim, one, lambda why: pytest.fail(why), "induction's")
    [variant] = slot.variants
    return payer_contract(
        policy, claim, variant.label, variant.event, slot.field_bounds, _valid(), induction.PREMISE, induction.assumed
    )


@pytest.mark.parametrize("preset", ["binance", "okx", "bybit"])
def test_a_trader_at_initial_margin_meets_the_premise(preset: str) -> None:
    assert induction.start_lemma(resolve_policy(preset), Bounds(), _valid()).startswith("start (initial margin)")


def test_a_maintenance_start_meets_the_premise_only_with_its_flat_traders_at_zero_or_above() -> None:
    """ "Not liquidatable" says nothing of a flat trader's balance: with that alone z3 finds a flat
    trader below zero. A maintenance start also asks every trader worth at least zero (session 25,
    ``rules.wellformed``), so on Binance (no fee to close in its price) it meets the premise."""
    induction.start_lemma(resolve_policy("binance"), Bounds(start_margin="maintenance"), _valid())
    not_liquidatable_only = [
        r
        for r in wellformed._rules(resolve_policy("binance"), StartMargin.MAINTENANCE, False)
        if r.name != "traders worth at least zero"
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            wellformed,
            "_rules",
            lambda policy, margin, assets: (
                not_liquidatable_only if margin is StartMargin.MAINTENANCE else _RULES(policy, margin, assets)
            ),
        )
        with pytest.raises(_Failed, match="z3 found a model"):
            induction.start_lemma(resolve_policy("binance"), Bounds(start_margin="maintenance"), _valid())


def test_initial_margin_does_not_mean_not_liquidatable() -> None:
    """Why the premise is not "not liquidatable": on Binance a long of 2 lots at the mark 2 with
    equity 1 covers initial margin (1 quantum, rounded up) and sits at maintenance (1 quantum),
    which Binance triggers at or below. One quantum more equity and it is not liquidatable."""
    policy = resolve_policy("binance")
    at = Account("alice", cash_quote=1, size_lots=2, cost_quote=3)  # equity 1
    assert covers_margin(policy, at, 2, StartMargin.INITIAL)
    assert not covers_margin(policy, at, 2, StartMargin.MAINTENANCE)
    assert covers_margin(policy, attrs.evolve(at, cash_quote=2), 2, StartMargin.MAINTENANCE)
    assert covers_margin(policy, at, 2, StartMargin.SOLVENT)


def test_the_premise_at_its_boundary() -> None:
    """Worth exactly its fee to close holds; a quantum less does not (Bybit's 550 ppm taker rate on
    1,000 lots at the mark 1,000: 550 quanta); on Binance, whose price leaves the fee out, worth 0."""
    bybit, binance = resolve_policy("bybit"), resolve_policy("binance")
    flat = Account("alice", cash_quote=550, size_lots=1_000, cost_quote=1_000_000)
    assert covers_margin(bybit, flat, 1_000, StartMargin.SOLVENT)
    assert not covers_margin(bybit, attrs.evolve(flat, cash_quote=549), 1_000, StartMargin.SOLVENT)
    assert covers_margin(binance, attrs.evolve(flat, cash_quote=0), 1_000, StartMargin.SOLVENT)
    assert not covers_margin(binance, attrs.evolve(flat, cash_quote=-1), 1_000, StartMargin.SOLVENT)


@pytest.mark.parametrize("preset", ["binance", "okx"])
def test_a_mark_move_keeps_the_premise(preset: str) -> None:
    assert "solvent-premise-kept" in _contract(preset, induction.premise_claim(resolve_policy(preset)))


def test_bybits_premise_is_not_kept_by_a_move() -> None:
    """A finding, not a refutation: Bybit measures maintenance on the entry value and its bankruptcy
    price includes the fee to close at the mark, so a trader not liquidated after a move need not
    hold its fee to close at the new mark (z3: a lemma's model)."""
    with pytest.raises(_Failed, match="z3 found a model"):
        _contract("bybit", induction.premise_claim(resolve_policy("bybit")))


def _bybit_two_moves() -> tuple[Book, Book, Book, tuple]:
    """Bybit from an initial-margin book at the mark 1: alice long 10,000 lots and bob short 10,001,
    both opened at 1, alice on 200, bob on 10,001 × 9,999 + 52; the order book holds the other long
    lot. Two moves: to 10,000, then to 10,001. (The books, and the second step's transfers.)"""
    b = new_book(mark_quote=1)
    bob_cash = 10_001 * 9_999 + 52
    for name, fields in (
        ("alice", {"cash_quote": 200, "principal_quote": 200, "size_lots": 10_000, "cost_quote": 10_000}),
        ("bob", {"cash_quote": bob_cash, "principal_quote": bob_cash, "size_lots": -10_001, "cost_quote": -10_001}),
        (b.role(Role.LIQUIDITY).name, {"size_lots": 1, "cost_quote": 1}),
    ):
        i = b.index(name)
        b = b.replace_account(i, attrs.evolve(b.accounts[i], **fields))
    start = attrs.evolve(b, net_deposits_quote=200 + bob_cash)
    bybit = resolve_policy("bybit")
    first = step(bybit, start, MarkPrice(10_000)).after
    second = step(bybit, first, MarkPrice(10_001))
    return start, first, second.after, second.transfers


def test_bybits_premise_fails_one_move_after_an_initial_book_and_the_payers_bound_with_it() -> None:
    """The finding behind Bybit's lemma model, on the concrete engine: after a move from 1 to 10,000
    bob holds 52, above maintenance on his entry value (51) but far under his fee to close at the
    mark (550 ppm of 100,010,000: 55,005), so the premise fails; at the next move of 1 his
    bankruptcy price is 7 a lot over the mark and alice pays 70,000 for 10,000 lots that gained
    10,000: the one-move payer's bound (a winner pays at most what its lots gained) fails at a later
    move. no-negative-equity holds (alice gained 99,990,000 in the first move): not a refutation."""
    bybit = resolve_policy("bybit")
    start, first, end, transfers = _bybit_two_moves()
    assert not [c.name for c in conditions(bybit, start, margin=StartMargin.INITIAL) if not c.holds]
    bob = first.account("bob")
    assert (bob.cash_quote, bob.size_lots) == (52, -10_001)
    failed = [c.name for c in conditions(bybit, first, margin=StartMargin.SOLVENT) if not c.holds]
    assert failed == ["traders worth at least zero, their fee to close within it"]
    assert not [c.name for c in conditions(bybit, first, margin=StartMargin.MAINTENANCE) if not c.holds]
    paid = sum(t.amount_quote for t in transfers if t.source == "alice" and t.reason is Reason.ADL)
    assert paid == 70_000 > 10_000 * (10_001 - 10_000)
    assert all(a.cash_quote >= 0 for a in end.traders)


def test_a_premise_one_quantum_weaker_does_not_give_the_claim(monkeypatch) -> None:
    """The premise's "worth at least zero" as "at least −1": the contract of no-negative-equity from
    it has a model (a trader that starts at −1 and is not liquidated ends at −1)."""
    real = covers_margin

    def weaker(policy, account, mark, margin, others=(), assets=()):
        if margin is StartMargin.SOLVENT:  # Binance's price leaves the fee out: worth alone
            return account_value(policy, tuple(assets), account) >= -1
        return real(policy, account, mark, margin, others, assets)

    claim = catalog.get("no-negative-equity")
    assert "payer's contract" in _contract("binance", claim)
    monkeypatch.setattr(wellformed, "covers_margin", weaker)
    with pytest.raises(_Failed, match="z3 found a model"):
        _contract("binance", claim)


def test_the_argument_at_three_moves_holds_on_binance_and_bybit_takes_the_start_mark() -> None:
    claim = catalog.get("no-negative-equity")
    three = Bounds(accounts=3, events=3, effort=UNITS)
    found = compositional.attempt(resolve_policy("binance"), claim, three)
    assert isinstance(found, compositional.Extension), found.failed
    assert found.every_k and found.one_event_start == induction.PREMISE
    assert found.assumes == f"{ADL_FILLS_ONLY}; {induction.ASSUMES}"
    asked = [q.name for q in found.queries]
    # each of the four steps asked: the premise kept, the start, the claim, open interest (each contract
    # in its cases of the trader's turn, payer_lemma.turn_cases)
    assert any(name.startswith(KEPT) for name in asked)
    assert any(name.startswith("start: a trader meeting initial margin meets the premise") for name in asked)
    assert any(
        name.startswith(
            "no-negative-equity on mark: holds for one trader charged within the charge lemma before and after its turn"
        )
        for name in asked
    )
    assert any(name.startswith("P (mark): every position after the event") for name in asked)
    assert all(q.result in ("unsat", "trivial") or q.result.startswith("holds") for q in found.queries)
    # Bybit's floor is not kept (test_bybits_premise_is_not_kept_by_a_move): its induction is on the
    # start-mark premise instead (solver.start_mark, tests/solver/test_start_mark.py)
    bybit = compositional.attempt(resolve_policy("bybit"), claim, three)
    assert isinstance(bybit, compositional.Extension) and bybit.one_event_start == start_mark.START
    assert not any(q.name.startswith(KEPT) for q in bybit.queries)
    # not where the payer's argument does not apply: nothing asked of the premise (hyperliquid's
    # previous-mark argument has its own induction: tests/solver/test_payer_previous.py; dYdX's
    # queue is covered by the ghost over mark moves, its premise carrying the ghost price:
    # tests/solver/test_ghost_start.py, and not with funding, where the ghost is not proved)
    funding = attrs.evolve(three, event_kinds=("mark", "funding"))
    other = compositional.attempt(resolve_policy("dydx-v4"), claim, funding)
    assert isinstance(other, compositional.Attempt) and not any("premise" in q.name for q in other.queries)


def test_a_one_token_change_to_the_adl_price_stops_the_argument(monkeypatch) -> None:
    """The bankruptcy gap per lot rounded down (one token of rules.venue_formulas): the induction's
    lemmas no longer all hold, so no verdict beyond the bounded one rests on them."""
    monkeypatch.setattr(adl_module, "bankruptcy_gap_per_lot", _gap_rounded_down)
    found = compositional.attempt(
        resolve_policy("binance"), catalog.get("no-negative-equity"), Bounds(accounts=3, events=3, effort=UNITS)
    )
    assert isinstance(found, compositional.Attempt) and found.applies


@pytest.mark.deep  # a whole proof; its lemmas and mutants stay in the default suite (docs/solver-notes.md#the-default-suites-time-session-24)
def test_binance_is_proved_for_every_n_and_k_at_two_moves() -> None:
    result = prove("binance", "no-negative-equity", Bounds(accounts=2, events=2, effort=8_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    own = next(o for o in result.obligations if o.obligation == "no-negative-equity")
    assert own.scope.accounts is None and own.scope.events is None
    assert induction.ASSUMES in own.scope.assumes
    assert f"its traders starting {induction.PREMISE}" in result.method
    asked = [q.name for q in result.queries]
    assert "no-negative-equity (on the lemmas' book, N = 2, K = 1)" in asked
    transfers = next(o for o in result.obligations if o.obligation == TRANSFERS)
    assert transfers.verdict is Verdict.PROVED and transfers.scope.events == 2
    assert result.units <= 8_000_000


def test_a_question_from_the_premise_is_the_one_move_argument() -> None:
    """At one move from the premise the payer's argument is asked as at initial margin (its step)."""
    result = prove(
        "okx",
        "no-negative-equity",
        Bounds(accounts=2, events=1, start_margin="solvent", effort=6_000_000),
        minimize=False,
    )
    own = next(o for o in result.obligations if o.obligation == "no-negative-equity")
    assert own.verdict is Verdict.PROVED and own.scope.accounts is None and own.scope.events == 1
    assert own.scope.assumes == ADL_FILLS_ONLY


@pytest.mark.deep  # 16 s in the default suite (session 22's CI): the whole proof at two moves
def test_claims_backed_at_two_moves_by_the_fund_and_the_other_pools() -> None:
    """claims-backed at K > 1 by its parts: no-negative-equity for any K (the induction), the system
    holders as the fund's claim (its own induction over events) and the fee account's and vault's.
    OKX at N = 3, K = 3, 20M: undecided before (the system holders whole out of units, 11.1M),
    proved in 7,512,387 units. Here N = 2, K = 2 within 20M (12M before the induction's lemmas were
    asked at okx's eight clocks, docs/solver-notes.md#any-k-at-every-clock-session-20: within 12M its
    no-negative-equity part then runs out), proved in 9,424,342."""
    result = prove("okx", "claims-backed", Bounds(accounts=2, events=2, effort=20_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    asked = [q.name for q in result.queries]
    split = (
        "claims-backed/system-holders equals insurance-fund-non-negative and the other pools (every book of 2 traders)"
    )
    assert split in asked
    assert any(name.startswith("insurance-fund-non-negative by induction over events") for name in asked)
    assert "claims-backed/other-pools" in asked
    assert "by the fund and the other pools" in result.method
    own = next(o for o in result.obligations if o.obligation == "claims-backed")
    assert own.scope.events == 2 and induction.ASSUMES in own.scope.assumes


def test_other_pools_that_leave_out_the_fee_account_are_not_the_system_holders(monkeypatch) -> None:
    """The split is asked only where z3 shows the fund and the other pools are the system holders:
    with the fee account left out of the other pools (one role more excluded) it is not, and the
    system holders are asked whole (no part asked)."""
    from solvent.rules.arith import all_
    from solvent.solver import claims_backed

    def ask(*_args):
        raise AssertionError("no part is asked where the split does not hold")

    def fewer(view):
        excluded = (Role.VENUE, Role.CLEARING, Role.LIQUIDITY, Role.INSURANCE_FUND, Role.FEE_ACCOUNT)
        return all_(a.cash_quote >= 0 for a in view.after.accounts if not a.is_trader and a.role not in excluded)

    bounds = Bounds(accounts=2, events=2, effort=1_000_000)
    okx = resolve_policy("okx")
    monkeypatch.setattr(claims_backed, "POOLS", attrs.evolve(claims_backed.POOLS, predicate=fewer))
    assert claims_backed._by_fund(okx, bounds, 1_000_000, ask, _Checker(bounds)) is None

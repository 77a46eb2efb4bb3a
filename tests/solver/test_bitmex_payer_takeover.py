"""BitMEX's payer claims with the takeover: the payer's argument for every N (session 21, helper C).

With the fund taking over what ADL leaves (``rules.bankruptcy.fund_takes_over``) and a trader's ADL
over its whole position (``bankruptcy.spread_over``), the payer's argument
(``solver.payer_lemma``) holds on bitmex: a bankrupt account ends at zero whoever holds the lots
opposite, so nothing is assumed of them (``_rest_of_market`` is not asked), and the fund's own
deleveraging before the turns is one more charge within the move (``pool_charge_question``), from
any fund since session 23 (it hands on at most its lots' loss in the move; until then, from a fund
not below zero before the move). Each piece is needed: without the takeover the payer's own turn
leaves it below zero; with the spread of sessions 16-20 the charge has a model (a gap above the
move); under the session-20 rule, without the fund's cash before the move, the fund's charge has one
(docs/solver-notes.md#bitmexs-payer-claims-with-the-takeover-session-21).
"""

from __future__ import annotations

import functools

import attrs
import pytest
import z3

from solvent.properties import catalog
from solvent.rules import bankruptcy
from solvent.rules.liquidation import pools_holding
from solvent.rules.presets import resolve_policy
from solvent.solver import compositional, effort, induction
from solvent.solver.bounds import Bounds
from solvent.solver.payer_lemma import (
    ADL_FILLS_OR_FUND,
    FUND_BEFORE,
    applies,
    charge_question,
    fills_only,
    payer_contract,
    pool_charge_question,
    takes_over,
)
from solvent.solver.per_account import _one_event_frame
from tests.solver.test_bitmex_fund_deleverage_story import session_20_rule

BITMEX = resolve_policy("bitmex")
ONE_MOVE = Bounds(accounts=2, events=1, effort=10_000_000)
#: z3's resource limit for a lemma asked here on its own (each is decided within a tenth of it)
LIMIT = 20_000_000


def _attempt(claim: str = "no-negative-equity"):
    return compositional.attempt(BITMEX, catalog.get(claim), ONE_MOVE)


def _sat(question) -> z3.CheckSatResult:
    """Whether ``question()`` (premise, claim), built inside a fresh z3 context, has a model of the
    premise and the claim's negation."""
    with effort.question():
        premise, claim = question()
        solver = z3.Solver()
        solver.set("rlimit", LIMIT)
        solver.add(*premise)
        solver.add(z3.Not(claim))
        return solver.check()


def _charge(charge) -> tuple[list, object]:
    return list(charge.premise), z3.And(charge.fill, charge.bound)


def test_only_bitmex_takes_over() -> None:
    assert takes_over(BITMEX) and applies(BITMEX) is None
    for preset in ("binance", "bybit", "okx", "hyperliquid", "dydx-v4"):
        assert not takes_over(resolve_policy(preset)), preset
        assert fills_only(resolve_policy(preset)) != ADL_FILLS_OR_FUND


@pytest.mark.parametrize("claim", ["no-negative-equity", "loss-bounded-by-collateral"])
def test_the_payers_argument_holds_on_bitmex_for_every_n(claim: str) -> None:
    found = _attempt(claim)
    assert isinstance(found, compositional.Extension), found
    assert found.assumes == ADL_FILLS_OR_FUND and not found.every_k
    names = [q.name for q in found.queries]
    for payer in ("alice", "bob"):
        assert f"the fund's deleveraging charges {payer} within the move" in names
    assert "payer's charge: the bankrupt account's gap per lot is at most the move" in names
    assert all(q.result == "unsat" for q in found.queries)
    assert 0 < sum(q.units for q in found.queries) < 10_000_000


def test_without_the_takeover_the_argument_does_not_hold(monkeypatch) -> None:
    """The takeover mutated away: a bankrupt payer whose lots the book does not hold (nothing is
    assumed of who holds them) is left below zero, and the payer's contract has a model. Asked alone,
    as ``payer_lemma.payer_argument`` asks it last (on each event of its one-event frame, exact), where
    the whole attempt asked the charge lemmas before it (session 30; they held under the mutant there)."""
    monkeypatch.setattr(bankruptcy, "fund_takes_over", lambda policy, ctx, name: ctx)
    invariant = catalog.get("no-negative-equity")
    checker = compositional._Checker(ONE_MOVE)
    with effort.question(), pytest.raises(compositional._Failed, match="model of its negation") as failed:
        _, _, slot = _one_event_frame(invariant, ONE_MOVE, pytest.fail, "payer's")
        for variant in slot.variants:
            payer_contract(
                BITMEX,
                invariant,
                variant.label,
                variant.event,
                slot.field_bounds,
                functools.partial(checker.valid, exact=True),
                ONE_MOVE.start_margin,
            )
    assert "holds for one trader charged" in str(failed.value)


@pytest.mark.parametrize(("bankrupt", "payer"), [("alice", "bob"), ("bob", "alice")])
def test_the_gap_over_the_whole_position_is_within_the_move(bankrupt: str, payer: str) -> None:
    assert _sat(lambda: _charge(charge_question(BITMEX, bankrupt, payer))) == z3.unsat


def test_with_the_spread_back_a_gap_passes_the_move(monkeypatch) -> None:
    """The spread of sessions 16-20 (``spread_over`` mutated back to every pool that holds): the
    charge has a model, a winner's gap per lot above the move where the fund holds lots opposite."""
    monkeypatch.setattr(bankruptcy, "spread_over", lambda policy: pools_holding(policy.liquidation))
    assert _sat(lambda: _charge(charge_question(BITMEX, "bob", "alice"))) == z3.sat


@pytest.mark.parametrize("payer", ["alice", "bob"])
def test_the_funds_own_deleveraging_charges_within_the_move(payer: str) -> None:
    def question():
        charge = pool_charge_question(BITMEX, payer)
        assert charge.fills and charge.bankrupt == "insurance_fund"
        return _charge(charge)

    assert _sat(question) == z3.unsat


def test_the_funds_charge_needs_no_cash_before_the_move() -> None:
    """Since session 23 (the fund hands on at most its lots' loss in the move) the premise says nothing
    of the fund's cash before the move (no ``c₀ ≥ 0``): the charge holds from any fund, below zero after
    a takeover included (the test above), which is what lets the induction over moves ask bitmex."""
    premise, _ = _charge(pool_charge_question(BITMEX, "bob"))
    assert not any(z3.eq(p, z3.Int(FUND_BEFORE) >= 0) for p in premise)


def test_under_the_session_20_rule_the_funds_charge_needs_its_cash_before_the_move(monkeypatch) -> None:
    """The mutant (the rule before session 23, its very terms): a fund already below zero spreads more
    than the move over its lots, and the charge from any fund has a model; with ``c₀ ≥ 0`` it had none."""
    session_20_rule(monkeypatch)
    assert _sat(lambda: _charge(pool_charge_question(BITMEX, "bob"))) == z3.sat


def test_the_induction_over_moves_fits_bitmex() -> None:
    three = Bounds(accounts=3, events=3, event_kinds=("mark",))
    assert induction.fits(BITMEX, three)
    assert induction.fits(resolve_policy("binance"), three)


@pytest.mark.deep
@pytest.mark.parametrize("claim", ["no-negative-equity", "loss-bounded-by-collateral"])
def test_the_claim_is_proved_at_k_3_by_the_induction(claim: str) -> None:
    """N = 3, K = 3, 20M (session 23's cells; moved here from the two-move search's tests, dropped in
    session 24: docs/solver-notes.md#bitmexs-fund-at-a-funding-sweep-session-24): proved for every N and
    any K by the induction over mark moves, the fund's takeover said."""
    from solvent.solver.prove import prove
    from solvent.solver.verdicts import Verdict

    result = prove(BITMEX, claim, Bounds(accounts=3, events=3, effort=20_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert result.scope.accounts is None and result.scope.events is None  # every N, any K
    assert "induction over mark moves" in result.scope.assumes
    assert "(its takeover)" in result.scope.assumes  # what the queue and the book leave is the fund's: said


def _grid_story(fund_cash: int):
    """The fund's cell on the grid of a doubling (``prove._on_grid``'s prices, 2 → 4), N = 2: alice
    short 10 and bob short 2 on 1 each, the fund long 4 on ``fund_cash``, the book long 8."""
    from solvent.properties.story import Story
    from solvent.rules.book import Account, Book, Market, Role
    from solvent.rules.events import MarkPrice

    def trader(name: str, size: int) -> Account:
        return Account(name=name, cash_quote=1, size_lots=size, cost_quote=size * 2, principal_quote=1)

    accounts = (
        trader("alice", -10),
        trader("bob", -2),
        Account(name="liquidity", role=Role.LIQUIDITY, size_lots=8, cost_quote=16),
        Account(name="insurance_fund", role=Role.INSURANCE_FUND, cash_quote=fund_cash, size_lots=4, cost_quote=8),
        *(Account(name=r.value, role=r) for r in (Role.FEE_ACCOUNT, Role.BACKSTOP_VAULT, Role.VENUE, Role.CLEARING)),
    )
    book = Book(market=Market(name="PERP", mark_quote=2, previous_mark_quote=2), accounts=accounts)
    return Story(attrs.evolve(book, net_deposits_quote=2 + fund_cash), (MarkPrice(price_quote=4),))


@pytest.mark.parametrize(("fund_cash", "fund_after"), [(3, -1), (4, 0)])
def test_the_funds_claim_fails_on_the_grid_with_two_traders(fund_cash: int, fund_after: int) -> None:
    """The fund pays alice its 11 (3 and its 4 lots' 8); the book's 10 lots pay 1 a lot for her 8
    left, 2 back to the fund as dust, and the fund keeps 2 lots; bob owes 3, the fund pays its 2, and
    only the fund's 2 lots are opposite him: it takes the last 1 over and ends at −1. One more of the
    fund's cash and it ends at 0. Since session 22 the prover finds a story on one trader's grid
    (tests/solver/test_bitmex_takeover_grid.py)."""
    from solvent.solver.bounds import for_policy
    from solvent.solver.refinement import replay

    story = _grid_story(fund_cash)
    bounds = for_policy(Bounds(accounts=2, events=1, price_grid=(2, 4)), BITMEX)
    result = replay(BITMEX, catalog.get("insurance-fund-non-negative"), story, bounds)
    assert result.outside == () and not result.rejected
    [step] = result.steps
    assert {a.name: a.cash_quote for a in step.after.accounts}["insurance_fund"] == fund_after
    assert bool(result.violates) == (fund_after < 0)
    assert "insurance-fund-non-negative" in BITMEX.accepts


def test_claims_backed_holders_are_not_argued_for_every_n_on_bitmex() -> None:
    """claims-backed's system holders for every N (``claims_backed.holders_every_n``) borrow the
    payer's coupling; on bitmex the takeover takes the fund below zero within a turn, so the argument
    is not asked there (the claim is false: the stories above)."""
    from solvent.solver import claims_backed
    from solvent.solver.compositional import _Checker, _Failed

    bounds = Bounds(accounts=4, events=1, effort=1_000_000)
    with pytest.raises(_Failed, match="its fund takes over what ADL leaves"):
        claims_backed.holders_every_n(BITMEX, bounds, _Checker(bounds, 1_000_000))

"""percolator Gen B's per-liquidation and flat-trader claims for every N (session 21).

Gen B opens every event by releasing a slope's worth of each account's reserve
(``haircut_ratio.release_reserves``) and closes it by re-basing each account's capital and reserve
on its own trading PnL (``settle_reserves``): both change every trader, each from its own account
and the entries naming it. The per-liquidation and flat-trader arguments check their claim on a
run that includes both phases, so they accept a phase that is per account (``per_account._each_own``)
where the per-trader contract still asks that the phases touch no trader. The flat-trader lemma on
a per-lot charge of the opposing side starts each turn from a book with open interest balanced
(``solver.side_claims``): from fresh system accounts with nothing said of their positions z3 built
a bankrupt account with nobody opposite, whose deficit fell through to the haircut of a flat
trader's matured profit, a book no event reaches. Each argument fails a one-token mutant of the
rule it rests on.
"""

from __future__ import annotations

import pytest

import solvent.rules.haircut_ratio as haircut_ratio
import solvent.rules.side_index as side_index
from solvent.properties import catalog
from solvent.rules.arith import ite
from solvent.rules.ledger import PNL_REASONS
from solvent.rules.presets import resolve_policy
from solvent.rules.pro_rata import payers
from solvent.solver import compositional, side_claims
from solvent.solver.bounds import Bounds
from solvent.solver.per_account import TURNS_ALIKE, each_trader_argument

ONE_MOVE = Bounds(accounts=4, events=1, effort=10_000_000)
FLAT = "flat-accounts-never-pay"
LIQUIDATION = "liquidation-only-below-maintenance"


def _attempt(preset: str, claim: str):
    return compositional.attempt(resolve_policy(preset), catalog.get(claim), ONE_MOVE)


@pytest.mark.parametrize("preset", ["percolator-gen-b", "percolator-gen-a"])
def test_each_liquidation_holds_for_every_n_past_the_per_account_opening_and_closing(preset: str) -> None:
    found = _attempt(preset, LIQUIDATION)
    assert isinstance(found, compositional.Extension), getattr(found, "failed", found)
    assert found.assumes == TURNS_ALIKE and found.every_k
    assert any(lemma.startswith("each liquidation (mark)") for lemma in found.lemmas)
    [turn] = [q for q in found.queries if "every liquidation of a turn" in q.name]
    assert turn.result == "unsat"


def test_a_flat_trader_is_never_charged_on_gen_b_for_every_n() -> None:
    found = _attempt("percolator-gen-b", FLAT)
    assert isinstance(found, compositional.Extension), getattr(found, "failed", found)
    assert found.assumes == TURNS_ALIKE and not found.every_k
    assert side_claims.SAID in found.method
    [lemma] = [q for q in found.queries if "no turn charges a flat trader" in q.name]
    # asked exact: 106,714 units at 6080291's build (purified, 5.98M)
    assert lemma.result == "unsat" and lemma.units < 1_000_000, lemma


def test_without_open_interest_balanced_at_each_turn_the_flat_lemma_has_a_model(monkeypatch) -> None:
    # nobody opposite the bankrupt account: the deficit reaches the haircut of flat bob's matured profit
    monkeypatch.setattr(side_claims, "balanced", lambda policy, book: [])
    found = _attempt("percolator-gen-b", FLAT)
    assert isinstance(found, compositional.Attempt) and found.applies
    assert "no turn charges a flat trader" in found.failed and "z3 found a model" in found.failed


def test_a_per_lot_charge_weighing_every_payer_alike_breaks_the_flat_lemma(monkeypatch) -> None:
    # side_index.opposing_lots with one token changed: each payer's weight 1, not its opposing lots
    monkeypatch.setattr(
        side_index, "opposing_lots", lambda book, bankrupt: [(a.name, 1) for a in payers(book, bankrupt)]
    )
    found = _attempt("percolator-gen-b", FLAT)
    assert isinstance(found, compositional.Attempt) and found.applies
    assert "z3 found a model" in found.failed


def test_a_closing_that_reads_every_traders_pnl_is_not_per_account(monkeypatch) -> None:
    # haircut_ratio.step_pnl without its "name in (source, destination)": every PnL entry counted
    def step_pnl(ctx, name):
        total = 0
        for entry in ctx.entries:
            t = entry.item
            if t.reason in PNL_REASONS and t.source != t.destination:
                total = total + ite(entry.guard, t.amount_quote if t.destination == name else -t.amount_quote, 0)
        return total

    monkeypatch.setattr(haircut_ratio, "step_pnl", step_pnl)
    found = _attempt("percolator-gen-b", LIQUIDATION)
    assert isinstance(found, compositional.Attempt) and not found.applies
    assert "mark: closing the event changes" in found.failed and "it couples the traders' accounts" in found.failed
    assert found.queries == ()


def test_an_opening_that_releases_by_another_accounts_slope_is_not_per_account(monkeypatch) -> None:
    import solvent.rules.engine as engine
    from solvent.rules.arith import max_, min_

    def release_reserves(policy, ctx):
        # haircut_ratio.release_reserves with one token changed: the first trader's slope for every account
        first = ctx.book.traders[0].reserve_slope_quote
        updates = []
        for account in ctx.book.accounts:
            if not (account.is_trader or account.role.value == "liquidity"):
                continue
            released = min_(max_(account.window_pnl_quote, 0), first)
            updates.append((account.name, account.principal_quote - released, account.window_pnl_quote - released))
        for name, principal, reserve in updates:
            ctx = ctx.update_account(name, principal_quote=principal, window_pnl_quote=reserve)
        return ctx

    monkeypatch.setattr(engine, "release_reserves", release_reserves)
    found = _attempt("percolator-gen-b", LIQUIDATION)
    assert isinstance(found, compositional.Attempt) and not found.applies
    assert "mark: opening the event changes bob from own.alice.reserve_slope_quote" in found.failed, found.failed


def test_the_per_trader_contract_still_stops_at_the_opening() -> None:
    # each_trader_argument asks that the phases around the turns touch no trader: unchanged, with no z3
    # question (principal-protected then holds by the payer's bound since session 25: the attempt goes on to
    # solver/gen_b_principal.py, tests/solver/test_gen_b_principal.py)
    checker = compositional._Checker(ONE_MOVE)
    with pytest.raises(compositional._Failed, match="opening the event changes or names traders"):
        each_trader_argument(
            resolve_policy("percolator-gen-b"),
            catalog.get("principal-protected"),
            ONE_MOVE,
            checker.valid,
            checker.fail,
        )
    assert checker.queries == []


# --- insurance-fund-non-negative, entry by entry (solver/side_fund.py) ---------------------------

FUND = "insurance-fund-non-negative"


def test_gen_b_keeps_its_fund_at_or_above_zero_for_every_n_and_k() -> None:
    from solvent.solver import side_fund

    found = _attempt("percolator-gen-b", FUND)
    assert isinstance(found, compositional.Extension), getattr(found, "failed", found)
    assert found.every_k and found.method == side_fund.METHOD and found.assumes == side_fund.ASSUMES
    assert [q.result for q in found.queries if q.units] == ["unsat"] * len([q for q in found.queries if q.units])
    assert any("through alice's resolve" in q.name for q in found.queries)
    assert sum(q.units for q in found.queries) < 1_000_000  # 13,808 units at b29c731, 10,497 at 45e0aae


@pytest.mark.parametrize("preset", ["percolator-gen-a", "binance", "mango-v4"])
def test_the_fund_argument_is_gen_bs_alone(preset: str) -> None:
    from solvent.solver import side_fund

    found = _attempt(preset, FUND)
    if preset == "mango-v4":  # since session 24 its fund has the system holders' argument (solver.frame_claims)
        assert isinstance(found, compositional.Extension) and found.method != side_fund.METHOD
        assert "the insurance fund is one of the system holders" in found.method
    else:
        assert found is None  # no argument asked, as before


def test_a_fund_layer_paying_the_whole_deficit_breaks_the_resolve_lemma(monkeypatch) -> None:
    import solvent.rules.bankruptcy as bankruptcy
    from solvent.rules.book import Role
    from solvent.rules.ledger import Reason

    def pay_insurance_fund(policy, ctx, layer, name, remaining):
        # bankruptcy.pay_insurance_fund without pay_from's "at most what the fund holds"
        ctx = ctx.transfer(ctx.system(Role.INSURANCE_FUND), name, remaining, Reason.INSURANCE_FUND)
        return ctx, remaining, True

    monkeypatch.setattr(bankruptcy, "pay_insurance_fund", pay_insurance_fund)
    found = _attempt("percolator-gen-b", FUND)
    assert isinstance(found, compositional.Attempt) and found.applies
    assert "through alice's resolve" in found.failed and "z3 found a model" in found.failed


def test_per_lot_shares_rounded_down_break_the_dust_lemmas(monkeypatch) -> None:
    from solvent.rules.arith import Rounding, div, safe_divisor, sum_, when
    from solvent.rules.book import Role
    from solvent.rules.ledger import Reason

    def charge_k_up(ctx, weights, bankrupt, remaining):
        # side_index.charge_k_up with one token changed: each share rounded down (FLOOR for CEIL)
        oi = sum_(w for _, w in weights)
        target = when(oi > 0, remaining)
        delta_k = div(target * side_index.SCALE, safe_divisor(oi), rounding=Rounding.CEIL)
        charged = 0
        for name, w in weights:
            share = div(w * delta_k, side_index.SCALE, rounding=Rounding.FLOOR)
            ctx = ctx.transfer(name, bankrupt, share, Reason.SOCIALIZED_LOSS)
            charged = charged + share
        ctx = ctx.transfer(bankrupt, ctx.system(Role.INSURANCE_FUND), charged - target, Reason.PRO_RATA_DUST)
        return ctx, target

    monkeypatch.setattr(side_index, "charge_k_up", charge_k_up)
    found = _attempt("percolator-gen-b", FUND)
    assert isinstance(found, compositional.Attempt) and found.applies
    assert "the per-lot charge's shares are ⌈w·K/S⌉" in found.failed and "z3 found a model" in found.failed


@pytest.mark.deep  # a whole proof; its lemmas and mutants stay in the default suite (docs/solver-notes.md#the-default-suites-time-session-24)
def test_gen_b_proves_its_fund_at_n_4_with_the_transfers() -> None:
    from solvent.solver.prove import prove
    from solvent.solver.verdicts import Verdict

    result = prove("percolator-gen-b", FUND, ONE_MOVE, minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    claim = next(o for o in result.obligations if o.obligation == FUND)
    assert claim.scope.accounts is None  # all N
    assert "the lemmas' book (N = 2) asked first" in result.method


# --- deficit-charged-once: the call's lemma holds, the step's exclusivity is what is left ----------


def test_gen_b_deficit_call_lemma_names_no_candidate_and_holds() -> None:
    import z3

    from solvent.solver import side_deficit, wall, waterfall_claims

    policy = resolve_policy("percolator-gen-b")
    call, premise, claim = side_deficit.deficit_question(policy, ONE_MOVE)
    assert waterfall_claims.strangers(call, claim) == []
    assert wall.check([*premise, z3.Not(claim)], [], 1_000_000, ONE_MOVE.safety_net).result == "unsat"
    # without the haircut's total weight freed the claim still reads the candidates' profits
    assert side_deficit.deficit_not_covered(resolve_policy("mango-v4"), ONE_MOVE) is not None

"""Per-trader claims for every N (solver/per_account.py, ``each_trader_argument``).

no-negative-equity, loss-bounded-by-collateral, principal-protected and flat-accounts-never-pay
are a conjunction over the traders. Where each trader's liquidation turn changes and reads no other
trader (a waterfall of balances: a fund, the venue, a carried debt) the claim is proved for every N
from one trader's contract, the assumption said in the verdict's scope; where a layer moves money
between traders (ADL, a socialized loss, a clawback, the haircut ratio, the PnL-to-pool ADL) the
argument does not apply and the reason names the entry that couples them. A one-token mutation of
a rule the contract rests on (the penalty's cap, the deficit's sign) breaks the contract.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from mutant_support import socialize_weighted

import solvent.rules.bankruptcy as bankruptcy
import solvent.rules.liquidation as liquidation
from solvent.properties import catalog
from solvent.rules.arith import abs_, max_, min_
from solvent.rules.engine import run
from solvent.rules.ledger import Reason
from solvent.rules.margin import equity
from solvent.rules.presets import resolve_policy
from solvent.solver import compositional
from solvent.solver.bounds import Bounds
from solvent.solver.per_account import EACH_TRADER, THROUGH_SYSTEM, still_refuted, with_empty_traders
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict
from solvent.verdicts.proofs import ProofBudget, prove_within

ONE_MOVE = Bounds(accounts=2, events=1, effort=10_000_000)


def _attempt(policy, claim: str, bounds: Bounds = ONE_MOVE):
    return compositional.attempt(
        resolve_policy(policy) if isinstance(policy, str) else policy, catalog.get(claim), bounds
    )


def _with_penalty(name: str = "broker-reg-t"):
    """The preset with a 1% liquidation penalty and fills 0.5% from mark, so the penalty's cap and
    the slippage in the deficit are on the path the contract covers."""
    policy = resolve_policy(name)
    return attrs.evolve(policy, liquidation=attrs.evolve(policy.liquidation, penalty_ppm=10_000, slippage_ppm=5_000))


@pytest.mark.parametrize("claim", EACH_TRADER)
def test_a_venue_that_fronts_the_deficit_holds_each_claim_for_every_n_or_fails_its_contract(claim: str) -> None:
    found = _attempt("broker-reg-t", claim)
    if claim == "loss-bounded-by-collateral":  # the fronted deficit is a debt: §11, accepted by the preset
        assert isinstance(found, compositional.Attempt) and found.applies
        assert "holds for one trader after its turn" in found.failed and "z3 found a model" in found.failed
        return
    assert isinstance(found, compositional.Extension) and not found.every_k
    assert found.assumes == THROUGH_SYSTEM
    assert any(lemma.startswith("locality (mark): alice's") for lemma in found.lemmas)
    assert any(lemma.startswith("locality (mark): bob's") for lemma in found.lemmas)
    assert any(lemma.startswith("contract (mark)") for lemma in found.lemmas)


@pytest.mark.parametrize(
    ("preset", "why"),
    [
        ("binance", "alice's turn moves bob's account (auto-deleveraging"),
        ("bitmex", "a pool's own deleveraging (fund or vault) and the fund's unwind before the turns changes"),
        ("bybit", "alice's turn moves bob's account (auto-deleveraging"),
        ("okx", "alice's turn moves bob's account (auto-deleveraging"),
        ("dydx-v4", "alice's turn moves bob's account (auto-deleveraging"),
        ("hyperliquid", "a pool's own deleveraging (fund or vault) and the fund's unwind before the turns changes"),
        ("drift", "socialized loss"),
        ("mango-v4", "socialized loss"),
        ("okx-2018", "alice's turn moves bob's account (clawback entries)"),
        ("gmx-v2", "after the sweep (the PnL-to-pool ADL) changes or names traders"),
        # both generations vest or release a slope's worth of each account's profit as the event
        # opens (haircut_ratio.release_reserves), before closing it re-bases realized losses; Gen A's
        # principal-protected then holds by the haircut's own argument (tests/solver/test_haircut_claims.py),
        # Gen B's by the payer's bound (tests/solver/test_gen_b_cells.py, test_gen_b_principal.py)
    ],
)
def test_where_a_layer_couples_the_traders_the_argument_says_which_and_asks_nothing(preset: str, why: str) -> None:
    # principal-protected: a claim on each haircut transfer as it is paid, which the payer's
    # argument (solver/payer_lemma.py, tests/solver/test_payer_lemma.py) does not cover
    found = _attempt(preset, "principal-protected")
    assert isinstance(found, compositional.Attempt) and not found.applies
    assert why in found.failed
    assert found.queries == ()  # no z3 question: the coupling is read off the engine's own run


def test_gen_a_couples_at_opening_and_its_haircut_argument_holds() -> None:
    found = _attempt("percolator-gen-a", "principal-protected")
    assert isinstance(found, compositional.Extension)
    assert found.method.startswith("compositional, all N, one event: each haircut a trader pays")
    # the per-trader argument stops at the warm-up's opening, as before (flat-accounts-never-pay: then its
    # flat-trader lemma has a model too)
    found = _attempt("percolator-gen-a", "flat-accounts-never-pay")
    assert isinstance(found, compositional.Attempt) and "opening the event changes or names traders" in found.failed
    # where it stops, the payer's two claims hold by the sweep's junior cover (solver/haircut_payer.py;
    # docs/solver-notes.md#percolator-gen-as-payer-claims-for-every-n-session-22): asserted by
    # tests/solver/test_haircut_payer.py::test_gen_a_holds_for_every_n (the same attempt at N = 4,
    # ``method == haircut_payer.METHOD``), no longer asked again here at N = 2 (session 28: 1.51 s of CPU)


def test_backpack_keeps_the_winners_owed_so_only_its_haircut_claims_hold_for_every_n() -> None:
    assert isinstance(_attempt("backpack", "principal-protected"), compositional.Extension)
    assert isinstance(_attempt("backpack", "flat-accounts-never-pay"), compositional.Extension)
    found = _attempt("backpack", "no-negative-equity")
    assert isinstance(found, compositional.Attempt) and found.applies


def test_proved_for_every_n_with_the_assumption_in_the_verdict() -> None:
    result = prove("broker-reg-t", "no-negative-equity", ONE_MOVE, minimize=False)
    claim = next(o for o in result.obligations if o.obligation == "no-negative-equity")
    assert claim.verdict is Verdict.PROVED
    assert claim.scope.accounts is None and claim.scope.events == 1
    assert claim.scope.text.startswith(f"all N given that {THROUGH_SYSTEM}, K ≤ 1 (mark)")
    assert result.method.startswith("compositional, all N, one event")
    assert f"assumes {THROUGH_SYSTEM}" in result.method


def test_check_shows_the_all_n_verdict_and_its_assumption() -> None:
    policy = resolve_policy("broker-reg-t")
    [result] = prove_within(policy, ["no-negative-equity"], ProofBudget(total=10_000_000)).values()
    assert result.verdict is Verdict.PROVED
    assert result.scope.accounts is None
    assert f"given that {THROUGH_SYSTEM}" in result.scope.text


def test_a_refutation_is_replayed_on_larger_books_with_empty_traders() -> None:
    result = prove("gmx-v2", "no-negative-equity", ONE_MOVE, minimize=False)
    assert result.verdict is Verdict.REFUTED
    cx = result.counterexample
    n = len(cx.story.book.traders)
    assert f"refuted for every N ≥ {n}" in result.method and "up to 8" in result.method
    policy = resolve_policy("gmx-v2")
    padded = with_empty_traders(cx.story.book, 8 - n)
    assert len(padded.traders) == 8
    steps = run(policy, padded, list(cx.story.events))
    assert catalog.get("no-negative-equity").holds(catalog.StepView.of(policy, steps[cx.step_index])) is False
    assert still_refuted(policy, catalog.get("no-negative-equity"), cx.story, cx.step_index) == 8


def test_two_events_and_deposits_are_not_covered() -> None:
    two = _attempt("broker-reg-t", "no-negative-equity", Bounds(accounts=2, events=2, effort=10_000_000))
    assert isinstance(two, compositional.Attempt) and "covers one event (K = 1), not K = 2" in two.failed
    deposits = _attempt(
        "broker-reg-t", "no-negative-equity", Bounds(accounts=2, events=1, event_kinds=("deposit",), effort=10_000_000)
    )
    assert isinstance(deposits, compositional.Attempt) and "covers the sweep's events" in deposits.failed


def test_with_a_penalty_and_slippage_the_contract_still_holds() -> None:
    found = _attempt(_with_penalty(), "no-negative-equity")
    assert isinstance(found, compositional.Extension)


def test_a_penalty_cap_mutated_from_min_to_max_breaks_the_contract(monkeypatch) -> None:
    # venue_formulas.liquidation_fee_paid is min_(max_fee, max_(surplus, 0)): one token changed
    monkeypatch.setattr(liquidation, "liquidation_fee_paid", lambda surplus, max_fee: max_(max_fee, max_(surplus, 0)))
    found = _attempt(_with_penalty(), "no-negative-equity")
    assert isinstance(found, compositional.Attempt) and found.applies
    assert "no-negative-equity on mark: holds for one trader after its turn" in found.failed


def test_a_deficit_with_the_slippage_sign_flipped_breaks_the_contract(monkeypatch) -> None:
    def remaining_deficit(policy, ctx, name):  # bankruptcy.remaining_deficit with - (E - |S| slip) as - (E + |S| slip)
        account = ctx.book.account(name)
        slip = liquidation.slip_per_lot(policy.liquidation, ctx.book.market.mark_quote)
        return max_(-(equity(policy.margin, account) + abs_(account.size_lots) * slip), 0)

    monkeypatch.setattr(bankruptcy, "remaining_deficit", remaining_deficit)
    found = _attempt(_with_penalty(), "no-negative-equity")
    assert isinstance(found, compositional.Attempt) and found.applies
    assert "holds for one trader after its turn" in found.failed


def test_a_debt_shared_with_another_trader_breaks_locality(monkeypatch) -> None:
    original = bankruptcy.carry

    def shares_the_debt(ctx, layer, name, remaining):  # a quantum of the deficit charged to the next trader
        ctx = original(ctx, layer, name, remaining)
        other = next(a.name for a in ctx.book.traders if a.name != name)
        return ctx.transfer(other, name, min_(remaining, 1), Reason.SOCIALIZED_LOSS)

    monkeypatch.setattr(bankruptcy, "carry", shares_the_debt)
    found = _attempt("broker-reg-t", "no-negative-equity")
    assert isinstance(found, compositional.Attempt) and not found.applies
    assert "alice's turn moves bob's account (socialized loss entries)" in found.failed


def test_the_readme_command_proves_it_for_every_n() -> None:
    from tests.printed_support import run_printed
    from tests.test_printed_commands import _documented

    # the README's line (docs/model.md prints the same command without its comment)
    command = _documented("solvent prove broker-reg-t --invariant no-negative-equity --accounts 2   # each trader")
    done = run_printed(Path(__file__).resolve().parents[2], command)
    assert done.returncode == 0, done.stderr
    assert "no-negative-equity on broker-reg-t: proved (N ≤ 2, K ≤ 1 (mark)" in done.stdout
    assert f"; no-negative-equity proved (all N given that {THROUGH_SYSTEM}, K ≤ 1 (mark)" in done.stdout
    assert "compositional, all N, one event" in done.stdout


def test_where_adl_or_a_socialized_loss_couples_traders_a_flat_trader_is_still_never_charged_for_every_n() -> None:
    from solvent.solver.per_account import TURNS_ALIKE

    for preset in ("binance", "bitmex", "mango-v4"):  # bitmex: its fund's own deleveraging before the turns too
        found = _attempt(preset, "flat-accounts-never-pay")
        assert isinstance(found, compositional.Extension), preset
        assert found.assumes == TURNS_ALIKE
        assert "charges a trader with no position" in found.method
        assert any(lemma.startswith("flat trader (mark): with bob flat") for lemma in found.lemmas)


def test_a_clawback_of_a_flat_winner_fails_the_flat_lemma() -> None:
    found = _attempt("okx-2018", "flat-accounts-never-pay")  # §4: closed positions' profit is clawed back
    assert isinstance(found, compositional.Attempt) and found.applies
    assert "(clawback entries)" in found.failed and "no turn charges a flat trader" in found.failed


def test_a_socialized_loss_weighted_by_the_wrong_account_breaks_the_flat_lemma(monkeypatch) -> None:
    # socialized_loss.socialize with one token changed: each payer weighted by the bankrupt's lots
    socialize_weighted(monkeypatch, lambda at, book, payer, bankrupt: abs_(at.account(bankrupt).size_lots))
    found = _attempt("mango-v4", "flat-accounts-never-pay")
    assert isinstance(found, compositional.Attempt) and found.applies
    assert "no turn charges a flat trader" in found.failed


def test_each_liquidation_records_equity_at_or_below_maintenance_for_every_n() -> None:
    from solvent.solver.per_account import TURNS_ALIKE

    for preset in ("binance", "okx-2018"):  # ADL, a clawback: whatever earlier turns did, from any state
        found = _attempt(preset, "liquidation-only-below-maintenance")
        assert isinstance(found, compositional.Extension), preset
        # from any trader state with the prices within bounds, which every accepted mark move keeps:
        # any K (docs/solver-notes.md#every-claim-at-n--8-and-at-k--3-issue-18)
        assert found.assumes == TURNS_ALIKE and found.every_k
        assert any(lemma.startswith("each liquidation (mark)") for lemma in found.lemmas)
    # a socialized loss with its cascade, and BitMEX's fund deleveraging before the turns: the lemma asked
    # exact holds in 4-22K units each (10,323 on drift, whatever this process asked before: ``attempt``
    # is a question of its own since session 21, tests/solver/test_process_history.py); purified it
    # was undecided within 2.5M on drift and bitmex (mango's 1.66M)
    # (docs/solver-notes.md#the-socialized-loss-for-every-n-session-20)
    for preset in ("mango-v4", "drift", "bitmex"):
        found = _attempt(preset, "liquidation-only-below-maintenance")
        assert isinstance(found, compositional.Extension), preset
        turn = [q for q in found.queries if "every liquidation of a turn" in q.name]
        assert [q.result for q in turn] == ["unsat"] and turn[0].units < 100_000, turn


@pytest.mark.parametrize("preset", ["binance", "drift"])
def test_a_trigger_mutated_from_at_or_below_to_at_or_above_breaks_the_liquidation_lemma(monkeypatch, preset) -> None:
    import solvent.rules.engine as engine
    from solvent.rules.arith import and_

    # liquidation.is_triggered's at-or-below branch, and_(size != 0, e <= mm), with <= turned to >=
    monkeypatch.setattr(engine, "is_triggered", lambda rule, e, mm, size: and_(size != 0, e >= mm))
    found = _attempt(preset, "liquidation-only-below-maintenance")
    assert isinstance(found, compositional.Attempt) and found.applies
    assert "every liquidation of a turn, from any trader state: z3 found a model" in found.failed


def test_the_headline_takes_the_weaker_scope_and_the_detail_lines_state_both() -> None:
    """An all-N claim proved beside non-negative transfers proved for N ≤ 2: the headline says N ≤ 2
    (what every obligation holds for), then the claim with its own all-N scope; each obligation's
    line keeps its own scope. A headline of one scope (a bounded proof) reads as before."""
    from solvent.reports.proof_text import render
    from solvent.solver.verdicts import ObligationResult, ProofResult, Scope, Verdict

    bounded = Scope(2, 1, ("mark",), "prices 1..9")
    every_n = Scope(None, 1, ("mark",), "prices 1..9", assumes="the turns are alike")
    result = ProofResult(
        "p",
        "no-negative-equity",
        Verdict.PROVED,
        every_n,
        0.5,
        "compositional",
        obligations=(
            ObligationResult("no-negative-equity", Verdict.PROVED, "", every_n),
            ObligationResult("non-negative-transfers", Verdict.PROVED, "", bounded),
        ),
    )
    head, *rest = render(result).splitlines()
    assert head == (
        "no-negative-equity on p: proved (N ≤ 2, K ≤ 1 (mark), prices 1..9) in 0.50 s; "
        "no-negative-equity proved (all N given that the turns are alike, K ≤ 1 (mark), prices 1..9)"
    )
    assert "  no-negative-equity: proved (all N given that the turns are alike, K ≤ 1 (mark), prices 1..9)" in rest
    assert "  non-negative-transfers: proved (N ≤ 2, K ≤ 1 (mark), prices 1..9)" in rest
    alone = attrs.evolve(result, scope=bounded, obligations=(ObligationResult("x", Verdict.PROVED, "", bounded),))
    assert alone.summary() == "no-negative-equity on p: proved (N ≤ 2, K ≤ 1 (mark), prices 1..9) in 0.50 s"
    # both obligations all N: the headline is all N (one event for the one, any for the other: K ≤ 1)
    both = attrs.evolve(result, obligations=(ObligationResult("x", Verdict.PROVED, "", every_n),) * 2)
    assert both.summary().startswith("no-negative-equity on p: proved (all N given that the turns are alike, K ≤ 1")

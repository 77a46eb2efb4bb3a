"""waterfall-order for every N by a lemma on one call of the waterfall (solver/waterfall_claims.py).

The claim reads only each bankrupt account's layer records and the fund before the step. The call's
lemma is proved by exact z3 on the engine's own ``resolve`` (and the pools' own deleveraging where
a fund or vault holds what it takes over), with the book before the step free and ADL's cover free
up to what it was handed; the verdict then covers every N and K and says what it assumes. dYdX's
fund that declines a deficit it cannot pay whole breaks the lemma (its claim stays refuted by the
bounded question); a fund reporting "exhausted" one quantum late, or an ADL covering a quantum more
than it was handed, breaks a lemma; a waterfall with a pro-rata layer, a capped fund claim or a
second market is not covered.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import attrs
import pytest
from mutant_support import charge_returns_shares

import solvent.rules.bankruptcy as bankruptcy_module
from solvent.properties import catalog
from solvent.rules import engine
from solvent.rules.insurance_fund import pay_from
from solvent.rules.ledger import system
from solvent.rules.outcomes import LayerUsed
from solvent.rules.presets import resolve_policy
from solvent.rules.rounding import ProRata
from solvent.solver import compositional as comp
from solvent.solver import effort, waterfall_claims
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict

POOLED = ("binance", "okx", "bybit", "bitmex", "hyperliquid")
UNITS = 5_000_000


def _attempt(preset: str, bounds: Bounds | None = None) -> comp.Extension | comp.Attempt | None:
    policy = resolve_policy(preset)
    with effort.question():
        return comp.attempt(
            policy, catalog.get(waterfall_claims.CLAIM), for_policy(bounds or Bounds(accounts=4), policy), units=UNITS
        )


@pytest.mark.parametrize("preset", POOLED)
def test_the_lemmas_hold_on_the_pooled_presets(preset: str) -> None:
    """Each call's lemma, the queue's cover and what an account still owes proved by z3, 2-30K units
    each; BitMEX and Hyperliquid have their pool's own deleveraging as a second call, and
    Hyperliquid's step builds one call a turn (the engine's takeover branch on below zero first), so
    no two calls are left to prove exclusive (tests/solver/test_adl_claims.py keeps the two-branch
    shape's check)."""
    found = _attempt(preset)
    assert isinstance(found, comp.Extension), found
    assert found.every_k and found.assumes == waterfall_claims.ASSUMES and not found.trivial_extends
    asked = [q for q in found.queries if q.units]
    assert asked and all(q.result == "unsat" for q in asked)
    assert sum(q.units for q in asked) < 500_000
    assert any(q.name.startswith("waterfall-order of alice's resolve") for q in asked)
    pools = [q for q in found.queries if "the pools' own deleveraging" in q.name]
    assert bool(pools) is (preset in ("bitmex", "hyperliquid"))
    exclusive = [q for q in found.queries if "are exclusive" in q.name]
    assert not exclusive


def test_dydxs_fund_that_declines_breaks_the_lemma() -> None:
    """dYdX's fund pays a deficit whole or not at all: declining, it keeps money and is not spent,
    and ADL below it runs (its documented rule, waterfall-order refuted): z3 finds the call."""
    found = _attempt("dydx-v4")
    assert isinstance(found, comp.Attempt) and found.applies
    assert "waterfall-order of alice's resolve" in found.failed and "z3 found a model of its negation" in found.failed


@pytest.mark.parametrize(
    ("preset", "why"),
    [
        ("okx-2018", "clawback): the argument covers pools with ADL last, or a socialized loss last"),
        ("percolator-gen-a", "haircut_ratio): the argument covers pools with ADL last"),
    ],
)
def test_a_layer_reading_other_traders_is_not_covered(preset: str, why: str) -> None:
    """okx-2018's clawback; Gen A's haircut after its fund (Gen B's haircut after its per-lot charge is
    covered by its own argument: solver/side_deficit.py, test_gen_b_once.py)."""
    found = _attempt(preset)
    assert isinstance(found, comp.Attempt) and not found.applies and found.queries == ()
    assert why in found.failed


def test_mangos_socialized_loss_last_is_covered() -> None:
    """Mango v4: the fund, then a socialized loss resolved in turn by the cascade. The call is one
    resolve alone (the cascade's each is another); the step at three traders builds five calls
    for each account (its own turn and the cascade's turns), pairwise exclusive; the socialized
    loss's cover, its weights' condition free, is at most what it was handed
    (docs/solver-notes.md#the-socialized-loss-for-every-n-session-20)."""
    found = _attempt("mango-v4")
    assert isinstance(found, comp.Extension), found
    assert found.every_k and found.assumes == waterfall_claims.ASSUMES_SOCIALIZED
    asked = [q for q in found.queries if q.units]
    assert asked and all(q.result == "unsat" for q in asked)
    names = [q.name for q in found.queries]
    assert sum("are exclusive" in n for n in names) == 30  # 3 accounts x C(5, 2)
    assert any(
        n.startswith("waterfall-order of alice's resolve, 2 candidates (one call of the cascade)") for n in names
    )
    assert any(
        "the socialized loss covers at most the deficit it was handed, whatever its payers weigh" in n for n in names
    )
    assert "the socialized loss's cover free" in found.method


def test_drifts_fund_capped_per_bankruptcy_is_not_covered() -> None:
    """Drift's fund pays at most ``cap_quote`` a bankruptcy (§7 step 1), so its socialized loss charges
    while the fund keeps money, as the preset accepts: not covered (no lemma asked), the bounded
    question refutes the claim as before. Asked, the call's lemma has a model (4,225 units), and the
    terms it builds moved the bounded question's units: at N = 3, K = 3 it lost the refutation."""
    found = _attempt("drift")
    assert isinstance(found, comp.Attempt) and not found.applies and found.queries == ()
    assert "pays at most a cap a bankruptcy before the socialized loss" in found.failed


def test_a_socialized_loss_rounded_down_or_per_opposing_lot_is_not_covered() -> None:
    mango = resolve_policy("mango-v4")
    bounds = for_policy(Bounds(accounts=2), mango)
    assert waterfall_claims.not_covered(mango, bounds) is None
    down = attrs.evolve(mango, rounding=attrs.evolve(mango.rounding, pro_rata=ProRata.DOWN_REMAINDER_TO_NEXT_LAYER))
    assert "rounded down" in waterfall_claims.not_covered(down, bounds)


def test_a_socialized_cover_that_reads_the_shares_is_not_covered(monkeypatch) -> None:
    """One token of ``pro_rata.charge``: under up rounding it returns the sum of the rounded-up
    shares (``charged``) instead of the deficit it charged (``target``). The cover then reads each
    payer's weight, and exceeds what it was handed by the dust: a lemma fails."""
    charge_returns_shares(monkeypatch)
    found = _attempt("mango-v4")
    assert isinstance(found, comp.Attempt) and found.applies
    assert "the socialized loss covers at most the deficit it was handed" in found.failed


def test_mangos_fund_spent_one_quantum_late_breaks_the_call_lemma(monkeypatch) -> None:
    """``pay_from``'s ``<=`` read as ``<`` on Mango: a fund paid down to 0 with a deficit left is
    "not spent" while the socialized loss charges the rest: the call's lemma has a model."""

    def late(ctx, role, bankrupt, remaining, reason, cap=None, *, all_or_nothing=False, floor=0):
        paid_ctx, pay, _ = pay_from(
            ctx, role, bankrupt, remaining, reason, cap, all_or_nothing=all_or_nothing, floor=floor
        )
        return paid_ctx, pay, paid_ctx.book.account(system(paid_ctx.book, role)).cash_quote < floor

    monkeypatch.setattr(bankruptcy_module, "pay_from", late)
    found = _attempt("mango-v4")
    assert isinstance(found, comp.Attempt) and found.applies
    assert "waterfall-order of alice's resolve" in found.failed and "z3 found a model" in found.failed


def test_a_fund_capped_per_bankruptcy_breaks_the_call_lemma() -> None:
    """examples/binance-capped-fund.toml: the fund pays at most 1,000 USDT a bankrupt account, and
    ADL charges the winners while it keeps money (waterfall-order refuted there, as the claim says):
    the per-bankruptcy cap is the call's own, so the lemma, not the scope, says so."""
    capped = resolve_policy(str(Path(__file__).resolve().parents[2] / "examples" / "binance-capped-fund.toml"))
    assert waterfall_claims.not_covered(capped, for_policy(Bounds(accounts=2), capped)) is None
    with effort.question():
        found = comp.attempt(
            capped, catalog.get(waterfall_claims.CLAIM), for_policy(Bounds(accounts=4), capped), units=UNITS
        )
    assert isinstance(found, comp.Attempt) and found.applies and "z3 found a model" in found.failed


def test_a_second_market_is_not_covered() -> None:
    binance = resolve_policy("binance")
    assert waterfall_claims.not_covered(binance, Bounds(accounts=2)) is None
    assert "one market" in waterfall_claims.not_covered(binance, Bounds(accounts=2, markets=2))


def test_a_fund_spent_one_quantum_late_breaks_the_call_lemma(monkeypatch) -> None:
    """One token of ``pay_from``: the fund counted exhausted below its floor (``<``) instead of at
    it (``<=``). A fund paid down to 0 with a deficit left is then "not spent" while ADL covers the
    rest: the call's lemma has a model."""

    def late(ctx, role, bankrupt, remaining, reason, cap=None, *, all_or_nothing=False, floor=0):
        paid_ctx, pay, _ = pay_from(
            ctx, role, bankrupt, remaining, reason, cap, all_or_nothing=all_or_nothing, floor=floor
        )
        return paid_ctx, pay, paid_ctx.book.account(system(paid_ctx.book, role)).cash_quote < floor

    monkeypatch.setattr(bankruptcy_module, "pay_from", late)
    found = _attempt("binance")
    assert isinstance(found, comp.Attempt) and found.applies
    assert "waterfall-order of alice's resolve" in found.failed and "z3 found a model" in found.failed


def test_an_empty_fund_left_unrecorded_breaks_the_call_lemma_through_the_book_before(monkeypatch) -> None:
    """``resolve`` records a layer reached with a deficit left even when it paid nothing; with the
    record kept only where it paid (``or_(covered != 0, remaining > 0)`` read as its first operand),
    a fund an earlier bankruptcy of the step drained leaves no record, and ADL then pays while the
    fund held money before the step. Only the free book before the step shows it: seen from the
    book the call starts from, the fund is empty and the lemma would hold."""
    monkeypatch.setattr(bankruptcy_module, "or_", lambda first, *_rest: first)
    found = _attempt("binance")
    assert isinstance(found, comp.Attempt) and found.applies
    assert "waterfall-order of alice's resolve" in found.failed and "z3 found a model" in found.failed


def test_an_adl_covering_more_than_it_was_handed_breaks_the_queue_lemma(monkeypatch) -> None:
    """What the account still owes one quantum less (``remaining_deficit`` − 1): ADL's cover, the
    deficit handed less that, is a quantum more than it was handed, so the lemma its free cover rests
    on fails."""
    real = bankruptcy_module.remaining_deficit
    monkeypatch.setattr(bankruptcy_module, "remaining_deficit", lambda policy, ctx, name: real(policy, ctx, name) - 1)
    found = _attempt("okx")
    assert isinstance(found, comp.Attempt) and found.applies
    assert "ADL covers at most the deficit it was handed" in found.failed


def _step_checked(policy_name: str, monkeypatch, change) -> str:
    """``one_call_a_step`` on ``policy_name`` with the engine's step changed by ``change`` (on its
    ``LayerUsed`` records): the reason the argument failed, or "held"."""
    policy = resolve_policy(policy_name)
    bounds = for_policy(Bounds(accounts=2), policy)
    real = engine.transition

    def changed(policy, book, event):
        ctx = real(policy, book, event)
        used = tuple(g for g in ctx.outcomes if isinstance(g.item, LayerUsed))
        others = tuple(g for g in ctx.outcomes if not isinstance(g.item, LayerUsed))
        return SimpleNamespace(outcomes=[*others, *change(used)])  # all the check reads of the step

    monkeypatch.setattr(waterfall_claims, "transition", changed)
    checker = comp._Checker(bounds, UNITS)
    with effort.question():
        try:
            waterfall_claims.one_call_a_step(policy, bounds, checker.valid, checker.fail)
        except comp._Failed as failed:
            return str(failed)
    return "held"


def test_the_step_holds_one_call_a_bankrupt_account(monkeypatch) -> None:
    """Binance's step: each account's records are one call's. One call recorded twice under the
    same guard (two calls that can both run), and the argument does not apply."""
    assert _step_checked("binance", monkeypatch, lambda used: used) == "held"
    twice = _step_checked("binance", monkeypatch, lambda used: used + used)
    assert "waterfall calls 1 and 2 of 2 are exclusive: z3 found a model of its negation" in twice


def test_the_verdict_says_every_n_and_k_and_what_it_assumes() -> None:
    """OKX at N = 2: the direct check proves the claim there, the lemmas beyond: every N, and K ≤ 1,
    not any K (OKX's fund-drawdown window reads the book's clock and the lemmas were asked at clock
    0 only: docs/solver-notes.md#any-k-at-every-clock-session-20); binance, whose transition reads
    no clock, any K."""
    result = prove("okx", "waterfall-order", Bounds(accounts=2, effort=4_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED
    claim = next(o for o in result.obligations if o.obligation == "waterfall-order")
    assert claim.scope.accounts is None and claim.scope.events == 1
    assert claim.scope.assumes == waterfall_claims.ASSUMES
    assert result.method.startswith("compositional, all N, K ≤ 1: the claim of one bankrupt account's waterfall call")
    result = prove("binance", "waterfall-order", Bounds(accounts=2, effort=4_000_000), minimize=False)
    claim = next(o for o in result.obligations if o.obligation == "waterfall-order")
    assert claim.verdict is Verdict.PROVED and claim.scope.accounts is None and claim.scope.events is None
    assert result.method.startswith("compositional, all N, any K: the claim of one bankrupt account's waterfall call")


def test_a_broken_lemma_leaves_the_verdict_bounded(monkeypatch) -> None:
    """dYdX: the lemma has a model, nothing is extended, and the bounded question refutes the
    claim with a story replayed on the concrete engine."""
    result = prove("dydx-v4", "waterfall-order", Bounds(accounts=2, effort=4_000_000), minimize=False)
    assert result.verdict is Verdict.REFUTED and result.counterexample is not None
    assert "the all-N argument did not hold" in result.method and result.scope.assumes == ""


@pytest.mark.deep  # N = 4 and K = 3: 9.0M and 2.7M units, about 15 s together
def test_okx_is_proved_at_four_traders_and_three_moves() -> None:
    """Undecided before at N = 4 (its three phases out of units) and at K = 3: the direct check on
    the lemmas' book decides, the lemmas extend it."""
    for bounds in (Bounds(accounts=4, effort=10_000_000), Bounds(accounts=3, events=3, effort=20_000_000)):
        result = prove("okx", "waterfall-order", bounds, minimize=False)
        assert result.verdict is Verdict.PROVED, result.reason
        # OKX reads the book's clock (solver.clock): at K = 1 the lemmas at clock 0, K ≤ 1; at K = 3
        # at every clock's representatives, 0..7, any K
        assert result.scope.accounts is None and result.scope.events == (1 if bounds.events == 1 else None)

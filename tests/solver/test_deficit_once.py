"""``deficit-charged-once`` for every N and any K by lemmas on one resolution (solver/deficit_once.py).

The claim of one bankrupt account's ``resolve`` is proved by exact z3 on a free two-trader book; a
lemma on one ADL fill (the engine's ``close_against``) and the queue's order (``rules.adl._ahead``,
a strict total order on free scores; each score's denominator ≥ 1) carry it to a queue of any
length, and the step holds each account's resolution once. Where ADL is not the one layer between
traders (percolator Gen B: no ADL layer) nothing is extended; Hyperliquid's price at the previous mark is covered at one move with the sweep's invariant
(tests/solver/test_sweep_invariant.py). Each lemma fails on a one-token mutant of the rule it reads, and
the verdict is then the bounded one.
"""

from __future__ import annotations

from types import SimpleNamespace

import attrs
import pytest

import solvent.rules.adl as adl_module
import solvent.rules.positions as positions
from solvent.properties import catalog
from solvent.rules import engine
from solvent.rules.arith import Ratio, and_, max_, when
from solvent.rules.outcomes import Bankrupt
from solvent.rules.presets import resolve_policy
from solvent.solver import compositional as comp
from solvent.solver import deficit_once, effort, haircut_once, resolution_facts
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict

CLAIM = deficit_once.CLAIM
COVERED = ("binance", "okx", "bybit", "bitmex")
UNITS = 5_000_000


def _attempt(preset: str, **bounds: object) -> comp.Extension | comp.Attempt | None:
    policy = resolve_policy(preset)
    with effort.question():
        return comp.attempt(policy, catalog.get(CLAIM), for_policy(Bounds(accounts=4, **bounds), policy), units=UNITS)


def _refuted(lemmas, preset: str) -> str:
    """``lemmas(policy, valid, fail)`` alone, as ``deficit_once.argument`` asks them (its ``valid`` and
    ``fail``, within the attempt's purse): the reason the first that did not hold gave (session 30: a mutant
    test asked the whole attempt, every lemma before it too)."""
    checker = comp._Checker(Bounds(accounts=4, effort=UNITS))
    with effort.question(), pytest.raises(comp._Failed) as failed:
        lemmas(resolve_policy(preset), checker.valid, checker.fail)
    return str(failed.value)


@pytest.mark.parametrize("preset", COVERED)
def test_the_lemmas_hold_where_adl_is_the_one_layer_between_traders(preset: str) -> None:
    """Every lemma proved (binance 0.26M units in all, okx 0.46M, bybit 0.63M, bitmex 0.37M), the
    argument covering any K; BitMEX's fund, holding what it takes over, deleverages the traders
    before the turns: a call of its own, with its own lemma (on a book of one trader)."""
    found = _attempt(preset)
    assert isinstance(found, comp.Extension), found
    assert found.every_k and found.assumes == deficit_once.ASSUMES and not found.trivial_extends
    asked = [q for q in found.queries if q.units]
    pools = [q for q in asked if "the pools'" in q.name]
    assert len(pools) == (2 if preset == "bitmex" else 0)
    assert len(asked) == 8 + len(pools) and all(q.result == "unsat" for q in asked)
    assert sum(q.units for q in asked) < 1_000_000
    names = " ".join(found.lemmas)
    for said in ("alice's resolve on two traders", "bob's resolve", "one ADL fill", "exactly one is ahead"):
        assert said in names
    assert "transitive" in names and "denominator ≥ 1" in names


def test_gen_a_is_not_the_adl_routes_but_its_own() -> None:
    """percolator-gen-a: no ADL layer, so the ADL call's route does not apply; since session 23 its
    haircut has a per-call lemma of its own (solver/haircut_once.py: test_haircut_once.py), which the
    attempt takes. drift and mango-v4: a socialized loss last, covered by solver/deficit_socialized.py
    (test_socialized_loss_any_n.py); hyperliquid: at one move with the sweep's invariant
    (test_sweep_invariant.py); percolator-gen-b: by its per-call lemma and its turns
    (solver/side_deficit.py, solver/side_once.py: test_gen_b_once.py)."""
    policy = resolve_policy("percolator-gen-a")
    assert "no ADL layer" in deficit_once.not_covered(policy, Bounds(accounts=2))
    found = _attempt("percolator-gen-a")
    assert isinstance(found, comp.Extension) and found.method == haircut_once.METHOD


def test_more_markets_isolated_positions_and_assets_are_not_covered() -> None:
    policy = resolve_policy("binance")
    assert deficit_once.not_covered(policy, Bounds(accounts=2)) is None
    assert "one market" in deficit_once.not_covered(policy, Bounds(accounts=2, markets=2))
    assert "isolated" in deficit_once.not_covered(policy, Bounds(accounts=2, isolated=1))
    assert "collateral assets" in deficit_once.not_covered(policy, Bounds(accounts=2, assets=1))
    layers = tuple(attrs.evolve(x, max_deleveraged_per_event=2) if x is policy.adl else x for x in policy.deficit)
    limited = attrs.evolve(policy, deficit=layers)
    assert "reached its limit" in deficit_once.not_covered(limited, Bounds(accounts=2))


def test_a_venue_reset_of_one_quantum_too_much_breaks_the_call_lemma(monkeypatch) -> None:
    """Bybit's reset of a short below zero at price zero paying one quantum more than it is short:
    the bankrupt account receives more than the layers covered; z3 finds the call."""
    reset = adl_module._reset_below_price_zero

    def more(ctx, bankrupt, size, at_zero):
        out = reset(ctx, bankrupt, size, at_zero)
        below = and_(size < 0, at_zero < 0)
        return out.transfer(
            out.system(adl_module.Role.VENUE), bankrupt, when(below, 1), adl_module.Reason.VENUE_ABSORBS
        )

    monkeypatch.setattr(adl_module, "_reset_below_price_zero", more)
    found = _attempt("bybit")
    assert isinstance(found, comp.Attempt) and found.applies
    assert found.failed.startswith(f"{CLAIM} of alice's resolve on two traders")
    assert "z3 found a model of its negation" in found.failed


def test_a_fill_that_moves_the_position_one_lot_short_breaks_the_fill_lemma(monkeypatch) -> None:
    """The seller's position moved by ``1 − q`` instead of ``−q`` (one token of ``positions.fill``):
    the two-trader call still holds (it closes the rest into the book: the whole attempt, this test's
    form until session 30, asked it first and it held), the one-fill lemma does not, so no queue of
    fills is said to add up to one. The one-fill lemma alone, as ``deficit_once.argument`` asks it
    (every route's, the walk's too: it reads no policy)."""

    def fill(ctx, buyer, seller, lots, price, reason):
        diff = lots * (price - ctx.market.mark_quote)
        ctx = ctx.transfer(buyer, seller, max_(diff, 0), reason)
        ctx = ctx.transfer(seller, buyer, max_(-diff, 0), reason)
        ctx = ctx.record_fill(buyer, seller, lots, price, reason)
        ctx = positions.move_position(ctx, buyer, lots, price)
        return positions.move_position(ctx, seller, 1 - lots, price)

    monkeypatch.setattr(positions, "fill", fill)
    # the one-fill lemma alone, as deficit_once.argument asks it (every route's, the walk's too: it reads no
    failed = _refuted(lambda policy, valid, fail: deficit_once.fill_lemma(valid, fail), "binance")
    assert failed.startswith("one ADL fill of q ≤ |S| lots") and "z3 found a model" in failed


def test_ties_both_ahead_break_the_order_lemma(monkeypatch) -> None:
    """``_ahead`` with ``≥`` for every pair (one token: the later book index no longer loses a tie):
    two eligible candidates of one score are each ahead of the other, the queue could serve both
    whole, more than the bankrupt position."""
    monkeypatch.setattr(adl_module, "_ahead", lambda a, b: and_(a.eligible, a.num * b.den >= b.num * a.den))
    failed = _refuted(lambda policy, valid, fail: deficit_once.order_lemmas(policy, valid), "binance")
    assert "exactly one is ahead: z3 found a model" in failed


def test_a_denominator_that_can_be_zero_breaks_the_order(monkeypatch) -> None:
    real = adl_module.score
    monkeypatch.setattr(adl_module, "score", lambda *args: (lambda s: Ratio(s.num, s.den - 1))(real(*args)))
    failed = _refuted(lambda policy, valid, fail: deficit_once.order_lemmas(policy, valid), "okx")
    assert "denominator ≥ 1 (rules.adl.score, one account): z3 found a model" in failed


def test_an_account_resolved_twice_in_a_step_breaks_the_step(monkeypatch) -> None:
    """The step's ``Bankrupt`` outcomes recorded twice under the same guard: z3 finds both can hold."""
    real = engine.transition

    def twice(policy, book, event):
        ctx = real(policy, book, event)
        again = [g for g in ctx.outcomes if isinstance(g.item, Bankrupt)]
        return SimpleNamespace(outcomes=[*ctx.outcomes, *again])

    monkeypatch.setattr(deficit_once, "transition", twice)
    policy = resolve_policy("binance")
    checker = comp._Checker(Bounds(), UNITS)
    with effort.question(), pytest.raises(comp._Failed, match="alice resolved at most once: z3 found a model"):
        deficit_once.step_lemmas(policy, for_policy(Bounds(accounts=2), policy), checker.valid, checker.fail)


@pytest.mark.deep  # a whole proof; its lemmas and mutants stay in the default suite (docs/solver-notes.md#the-default-suites-time-session-24)
def test_binance_is_proved_for_every_n_and_k() -> None:
    """At N = 2 within 4M units (1.87M): the claim's scope names no N and no K and says what it
    assumes, the lemmas' book asked with the resolution facts, whose lemma the argument proved
    already (no query for it)."""
    result = prove("binance", CLAIM, Bounds(accounts=2, effort=4_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED
    claim = next(o for o in result.obligations if o.obligation == CLAIM)
    assert claim.verdict is Verdict.PROVED
    assert claim.scope.accounts is None and claim.scope.events is None
    assert claim.scope.assumes == deficit_once.ASSUMES
    assert result.method.startswith("compositional, all N, any K: the claim of one bankrupt account's resolve")
    again = [q for q in result.queries if q.name.startswith(resolution_facts.LEMMA)]
    assert len(again) == 2 and all(q.result == resolution_facts.PROVED_BEFORE and q.units == 0 for q in again)


# deep (docs/solver-notes.md#second-pass-session-24): the same mutant as test_ties_both_ahead_break_the_order_lemma,
# which fails it in the default suite on the argument itself; prove's bounded verdict where an
# argument fails is the default suite's in test_adl_claims.py::test_a_mutated_ranking_leaves_the_verdict_bounded
# and test_waterfall_claims.py::test_a_broken_lemma_leaves_the_verdict_bounded
@pytest.mark.deep
def test_a_mutated_call_leaves_the_verdict_bounded(monkeypatch) -> None:
    """With the order broken nothing is extended: the claim keeps the bounded scope at N."""
    monkeypatch.setattr(adl_module, "_ahead", lambda a, b: and_(a.eligible, a.num * b.den >= b.num * a.den))
    result = prove("binance", CLAIM, Bounds(accounts=2, effort=3_000_000), minimize=False)
    claim = next(o for o in result.obligations if o.obligation == CLAIM)
    assert claim.scope.accounts == 2 and result.scope.assumes == ""
    assert "the all-N argument did not hold" in result.method


def test_a_pools_layer_covering_one_quantum_more_breaks_the_pools_lemma(monkeypatch) -> None:
    """BitMEX's fund, deleveraging the traders for its own deficit, records ADL as covering one
    quantum more than it did (``deficit − left + 1``, one token of ``pool_bankruptcy._resolve``): the
    layers add up to more than the deficit, and z3 finds the pools' call beside one trader."""
    from solvent.rules import pool_bankruptcy
    from solvent.rules.adl import deleverage
    from solvent.rules.bankruptcy import fee_to_close_rate
    from solvent.rules.book import Role
    from solvent.rules.liquidation import pools_holding
    from solvent.rules.outcomes import LayerUsed, Residual
    from solvent.rules.waterfall import Adl

    def resolve_pool(policy, ctx, pool, own):
        deficit = -ctx.account(pool).cash_quote
        ctx = ctx.note(Bankrupt(pool, deficit))
        for index, layer in enumerate(policy.deficit):
            if isinstance(layer, own):
                ctx = ctx.note(LayerUsed(pool, index, layer.kind, 0, True))
            elif isinstance(layer, Adl):
                book, mark = ctx.system(Role.LIQUIDITY), ctx.market.mark_quote
                hold = pools_holding(policy.liquidation)
                ctx = deleverage(
                    ctx, policy.margin, policy.rounding, layer, pool, book, mark, fee_to_close_rate(policy), pools=hold
                )
                left = max_(-ctx.account(pool).cash_quote, 0)
                ctx = ctx.note(LayerUsed(pool, index, layer.kind, deficit - left + 1, True))
                return ctx.note_if(left > 0, Residual(pool, left))
        return ctx

    monkeypatch.setattr(pool_bankruptcy, "_resolve", resolve_pool)
    failed = _refuted(deficit_once._pools_lemmas, "bitmex")  # as call_lemmas asks them, after the traders' calls
    assert failed.startswith(f"{CLAIM} of the pools' own deleveraging") and "z3 found a model" in failed


def test_a_call_that_pays_another_trader_from_the_fund_is_not_covered(monkeypatch) -> None:
    """A resolve that also passes one quantum on from the bankrupt account to another trader as
    ``insurance_fund`` cover writes what that trader's conjunct reads (its waterfall inflow): the
    argument does not apply, with no query asked for it."""
    from solvent.rules.ledger import Reason

    real = deficit_once.resolve

    def paying(policy, ctx, name, *args, **kwargs):
        out = real(policy, ctx, name, *args, **kwargs)
        other = next(a.name for a in out.book.traders if a.name != name)
        return out.transfer(name, other, 1, Reason.INSURANCE_FUND)

    monkeypatch.setattr(deficit_once, "resolve", paying)
    found = _attempt("binance")
    assert isinstance(found, comp.Attempt) and not found.applies and found.queries == ()
    assert "alice's resolve pays bob by insurance" in found.failed


def test_at_n_4_the_lemmas_book_is_asked_first_and_n_asks_the_transfers_alone() -> None:
    """OKX at N = 4 within 4M units (2.70M): the lemmas' book's question first (N = 2, its facts,
    the all-N argument) proves the claim for every N; N's own question asks the non-negative
    transfers alone (before: the bounded N = 4 question first, undecided in 6M, 9.12M within 10M)."""
    result = prove("okx", CLAIM, Bounds(accounts=4, effort=4_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED
    claim = next(o for o in result.obligations if o.obligation == CLAIM)
    assert claim.scope.accounts is None and claim.scope.assumes == deficit_once.ASSUMES
    transfers = next(o for o in result.obligations if o.obligation != CLAIM)
    assert transfers.verdict is Verdict.PROVED and transfers.scope.accounts == 4
    on_n = [q for q in result.queries if "lemmas' book" not in q.name and q.name == CLAIM]
    assert on_n == [] and any(q.name == f"{CLAIM} (on the lemmas' book, N = 2)" for q in result.queries)

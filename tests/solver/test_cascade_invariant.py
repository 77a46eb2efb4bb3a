"""The socialized loss's cascade invariant (``solver.cascade_invariant``): no-negative-equity and
loss-bounded-by-collateral for every N on Drift and Mango v4, by the cascade loop's iteration and
exit, a turn without the cascade and the step's start, each a lemma on the engine's own
functions (docs/solver-notes.md#the-socialized-losss-cascade-invariant-session-21).

Mutants: a socialized loss that charges a flat trader (its lots plus one) fails the iteration; the
cascade's test one quantum off (``value < -1``) fails its exit; the loop one iteration short fails the
loop whole at three traders (kept for the tests, not the verdict's); a socialized loss without the
liquidator's lots (the payers may weigh nothing) leaves the resolved trader below zero. The
decomposition the verdict assumes (a turn with the cascade is the turn without it followed, where it
resolved its trader, by the loop) is checked on the concrete engine on random books.
"""

from __future__ import annotations

import random

import attrs
import pytest
from mutant_support import socialize_weighted

from solvent.rules import bankruptcy
from solvent.rules.arith import abs_
from solvent.rules.engine import before_turns, liquidation_turn, opening, settle
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Ctx
from solvent.rules.outcomes import Bankrupt
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import SocializedLoss
from solvent.solver import cascade_invariant
from solvent.solver import compositional as comp
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict
from tests.cascade_books import random_book

FOUR = Bounds(accounts=4, effort=10_000_000)
PRESETS = ("drift", "mango-v4")


def _argument(preset: str, units: int = 6_000_000) -> tuple[list[str] | None, str, list]:
    """The argument's lemmas (None where it failed), the failure and the queries asked."""
    policy = load_preset(preset)
    bounds = for_policy(FOUR, policy)
    checker = comp._Checker(bounds, units)
    try:
        return cascade_invariant.argument(policy, bounds, checker.valid, checker.fail), "", checker.queries
    except comp._Failed as failed:
        return None, str(failed), checker.queries


@pytest.mark.parametrize("preset", PRESETS)
def test_every_lemma_holds_on_both_presets(preset: str) -> None:
    lemmas, failed, queries = _argument(preset)
    assert lemmas is not None, failed
    asked = [q for q in queries]
    assert len(asked) == 6 and all(q.result == "unsat" for q in asked), [(q.name, q.result) for q in asked]
    names = " | ".join(q.name for q in asked)
    for part in ("the cascade's iteration", "the cascade's exit", "without the cascade", "the step (mark"):
        assert part in names
    assert lemmas[-1].startswith("aggregate, by induction over the turns")


def test_a_flat_trader_charged_by_the_socialized_loss_breaks_the_iteration(monkeypatch) -> None:
    """One token of the share's weight: a payer weighs its lots plus one, so a flat trader pays."""
    socialize_weighted(monkeypatch, lambda at, now, payer, bankrupt: abs_(at.account(payer).size_lots) + 1)
    lemmas, failed, _ = _argument("mango-v4")
    assert lemmas is None
    assert "the cascade's iteration" in failed and "a flat one its value" in failed and "z3 found a model" in failed


def test_the_cascades_test_one_quantum_off_breaks_its_exit(monkeypatch) -> None:
    """The loop's requeue: a trader is taken as sunk only below −1, so one at −1 with a position stays."""
    from solvent.rules.arith import and_
    from solvent.rules.assets import account_value
    from solvent.rules.margin import open_lots

    def sunk(policy, ctx, names):
        assets = ctx.book_field("assets")
        return [
            (n, and_(open_lots(ctx.book.account(n)) != 0, account_value(policy, assets, ctx.book.account(n)) < -1))
            for n in names
        ]

    monkeypatch.setattr(bankruptcy, "sunk", sunk)
    lemmas, failed, _ = _argument("mango-v4")
    assert lemmas is None
    assert "the cascade's exit" in failed and "z3 found a model" in failed


def test_the_loop_whole_holds_and_one_iteration_short_breaks_it(monkeypatch) -> None:
    """The loop's requeue: one iteration fewer than the traders outside the chain. Each iteration and
    the exit still hold; the loop whole at three traders (two iterations) has a model."""
    checker = comp._Checker(for_policy(FOUR, load_preset("mango-v4")), 3_000_000)
    cascade_invariant.loop_lemma(load_preset("mango-v4"), checker.valid)
    assert [q.result for q in checker.queries] == ["unsat"]

    def cascade(policy, ctx, resolving):
        layer = policy.layer(SocializedLoss)
        if layer is None or not layer.cascade:
            return ctx
        names = [a.name for a in ctx.book.traders if a.name not in resolving]
        for _ in names[1:]:
            ctx, resolved = bankruptcy._first_below(policy, ctx, bankruptcy.sunk(policy, ctx, names), resolving)
            if not resolved:
                return ctx
        return ctx

    monkeypatch.setattr(bankruptcy, "_cascade", cascade)
    lemmas, failed, queries = _argument("mango-v4")
    assert lemmas is not None, failed  # each iteration and the exit are the loop's parts: they still hold
    checker = comp._Checker(for_policy(FOUR, load_preset("mango-v4")), 3_000_000)
    with pytest.raises(comp._Failed, match="the cascade's loop whole .*z3 found a model"):
        cascade_invariant.loop_lemma(load_preset("mango-v4"), checker.valid)


def test_a_waterfall_without_the_liquidators_lots_breaks_the_iteration() -> None:
    """Without ``liquidator_pays`` the payers' total weight may be 0 (only the bankrupt account held
    lots against the book): the argument does not apply, and asked anyway the resolved trader is left
    below zero."""
    policy = load_preset("mango-v4")
    off = attrs.evolve(
        policy,
        deficit=tuple(
            attrs.evolve(x, liquidator_pays=False) if x.kind == "socialized_loss" else x for x in policy.deficit
        ),
    )
    bounds = for_policy(FOUR, policy)
    assert "liquidator's lots" in cascade_invariant.not_covered(off, bounds)
    checker = comp._Checker(bounds, 3_000_000)
    with pytest.raises(comp._Failed, match="resolved and ends flat, worth at least 0: z3 found a model"):
        cascade_invariant.iteration_lemmas(off, checker.valid)


def test_where_the_argument_does_not_apply() -> None:
    mango = load_preset("mango-v4")
    bounds = for_policy(FOUR, mango)
    assert cascade_invariant.not_covered(mango, bounds) is None
    assert cascade_invariant.not_covered(load_preset("drift"), for_policy(FOUR, load_preset("drift"))) is None
    assert "cascade" in cascade_invariant.not_covered(load_preset("binance"), Bounds(accounts=4))
    gen_b = load_preset("percolator-gen-b")
    assert cascade_invariant.not_covered(gen_b, for_policy(FOUR, gen_b)) is not None
    assert "collateral asset" in cascade_invariant.not_covered(mango, attrs.evolve(bounds, assets=1))
    assert "one mark move" in cascade_invariant.not_covered(mango, attrs.evolve(bounds, events=2))


@pytest.mark.parametrize("preset", PRESETS)
def test_a_turn_is_the_turn_without_the_cascade_then_the_loop(preset: str) -> None:
    """What the verdict assumes of the turn, on the concrete engine: each turn of the sweep equals the
    turn without the cascade followed, where it resolved its trader, by the loop from that trader's
    chain (the same book, entries and outcomes); and after every step every trader is worth at least 0."""
    policy = load_preset(preset)
    off = cascade_invariant.without_cascade(policy)
    rng = random.Random(f"cascade invariant {preset}")
    cascades = 0
    for _ in range(120):
        book = random_book(rng, rng.choice((3, 4, 5)))
        start = before_turns(policy, settle(policy, opening(policy, book), MarkPrice(rng.choice((60, 70, 80, 130)))))
        now = start.book
        for name in [a.name for a in now.traders]:
            whole = liquidation_turn(policy, Ctx(now), name)
            parts = liquidation_turn(off, Ctx(now), name)
            if any(isinstance(g.item, Bankrupt) and g.item.account == name for g in parts.outcomes):
                parts = bankruptcy._cascade(policy, parts, (name,))
            assert (whole.book, whole.entries, whole.outcomes) == (parts.book, parts.entries, parts.outcomes)
            cascades += sum(isinstance(g.item, Bankrupt) for g in whole.outcomes) >= 2
            now = whole.book
        assert all(cascade_invariant._value(policy, now, a.name) >= 0 for a in now.traders)
    assert cascades >= 5  # not vacuous: turns whose cascade resolved another trader


@pytest.mark.deep  # a whole proof; its lemmas and mutants stay in the default suite (docs/solver-notes.md#the-default-suites-time-session-24)
def test_mango_no_negative_equity_is_proved_for_every_n_on_two_traders() -> None:
    """On the lemmas' own book: the direct check and the argument, a verdict for every N."""
    result = prove("mango-v4", "no-negative-equity", Bounds(accounts=2, effort=10_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert result.method.startswith(cascade_invariant.METHOD[:60]) or cascade_invariant.METHOD[:60] in result.method
    assert "all N" in result.method


@pytest.mark.deep
@pytest.mark.parametrize("claim", cascade_invariant.CLAIMS)
def test_mangos_claims_are_proved_for_every_n_at_four_traders(claim: str) -> None:
    result = prove("mango-v4", claim, FOUR, minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert cascade_invariant.METHOD[:60] in result.method


@pytest.mark.deep
@pytest.mark.parametrize("claim", cascade_invariant.CLAIMS)
def test_drifts_claims_are_proved_for_every_n_at_four_traders(claim: str) -> None:
    """Drift's direct check on the lemmas' two-trader book decides with each turn's facts
    (``solver.cascade_facts``), asked first: the claim for every N, N = 4 asking the transfers alone
    (undecided within 10M before, docs/solver-notes.md#drifts-direct-check-session-21)."""
    result = prove("drift", claim, FOUR, minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert cascade_invariant.METHOD[:60] in result.method
    assert "the lemmas' book (N = 2) asked first, where the claim is proved for every N" in result.method

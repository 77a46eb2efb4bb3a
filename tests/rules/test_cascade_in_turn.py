"""The socialized loss's cascade in turn (``rules.bankruptcy._cascade``): a loop that resolves the
first trader below zero and reads the book again, against the recursion it replaced (each resolved
account cascading from itself, book order at each level, its chain never resolved again), which is
kept here as the reference: the same step (after-book, transfers, outcomes, fills) on random books
of Drift, Mango v4 and percolator Gen B, among them cascades of two and more accounts; and the
symbolic mark move at N = 4 builds a third fewer steps than the recursion did
(docs/solver-notes.md#the-cascade-in-turn-issue-18)."""

from __future__ import annotations

import random

import pytest

from solvent.rules import bankruptcy
from solvent.rules.arith import and_
from solvent.rules.assets import account_value
from solvent.rules.engine import step, transition
from solvent.rules.events import MarkPrice
from solvent.rules.margin import open_lots
from solvent.rules.outcomes import Bankrupt
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import SocializedLoss
from solvent.solver import effort
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.story import slots, symbolic_book
from tests.cascade_books import random_book

PRESETS = ("drift", "mango-v4", "percolator-gen-b")


def chains(policy, ctx, resolving):
    """The recursion as the engine ran it until session 19 (75e536e): every trader outside the
    chain below zero with a position, in book order, resolved, and cascading from itself."""
    layer = policy.layer(SocializedLoss)
    if layer is None or not layer.cascade:
        return ctx
    assets = ctx.book_field("assets")
    for name in [a.name for a in ctx.book.traders if a.name not in resolving]:
        account = ctx.book.account(name)
        below_zero = and_(open_lots(account) != 0, account_value(policy, assets, account) < 0)
        ctx = ctx.branch(below_zero, lambda c, n=name: bankruptcy._bankrupt_in_turn(policy, c, n, resolving))
    return ctx


@pytest.mark.parametrize("preset", PRESETS)
def test_the_loop_is_the_recursion(preset: str, monkeypatch) -> None:
    policy = load_preset(preset)
    rng = random.Random(f"cascade {preset}")
    prices = (60, 70, 80, 90, 110, 120, 130, 140)
    cases = [(random_book(rng, rng.choice((3, 4, 5))), MarkPrice(rng.choice(prices))) for _ in range(150)]
    loop = [step(policy, book, event) for book, event in cases]
    monkeypatch.setattr(bankruptcy, "_cascade", chains)
    recursion = [step(policy, book, event) for book, event in cases]
    assert loop == recursion
    # not vacuous: on every preset some steps resolve three accounts and more
    assert sum(sum(isinstance(o, Bankrupt) for o in s.outcomes) >= 3 for s in loop) >= 5


def _steps_of_a_mark_move(policy, accounts: int) -> int:
    bounds = for_policy(Bounds(accounts=accounts, events=1), policy)
    with effort.question():
        book, _ = symbolic_book(bounds)
        ((variant,),) = [s.variants for s in slots(book, bounds)]
        with effort.building(10**9) as meter:
            transition(policy, book, variant.event)
    return meter.spent // effort.BUILD_STEP


def test_the_loop_builds_fewer_steps_at_four_traders(monkeypatch) -> None:
    """Drift's symbolic mark move at N = 4: the recursion built every order of the traders (60
    resolutions), the loop each step once for every trader (36)."""
    policy = load_preset("drift")
    loop = _steps_of_a_mark_move(policy, 4)
    monkeypatch.setattr(bankruptcy, "_cascade", chains)
    recursion = _steps_of_a_mark_move(policy, 4)
    assert loop < 0.7 * recursion


def test_two_traders_build_the_same_steps(monkeypatch) -> None:
    """At N = 2 the cascade has one candidate and one step: the loop builds what the recursion did."""
    policy = load_preset("percolator-gen-b")
    loop = _steps_of_a_mark_move(policy, 2)
    monkeypatch.setattr(bankruptcy, "_cascade", chains)
    assert _steps_of_a_mark_move(policy, 2) == loop

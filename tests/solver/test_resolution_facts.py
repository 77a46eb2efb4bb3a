"""A claim about one resolution as facts of the step's question (solver/resolution_facts.py).

``adl-price-fair`` and ``deficit-charged-once`` were undecided on Bybit inside ``solvent check``
(N = 2, one mark move): each speaks of what one account's ``resolve`` does, and the step's sums mix
two calls whose reverse fills are 0 only through a product's sign. Proved first of the engine's own
``resolve`` on a free book, then instantiated on the question's terms, they decide within check's
share. The lemma is itself proved by z3 here; its premise (the mark a price) is needed; an engine
whose ADL price is one quantum a lot against the winners, or whose venue reset pays one quantum too
much, breaks it; and the instances name only the question's own terms.
"""

from __future__ import annotations

import pytest
import z3

import solvent.rules.adl as adl_module
from solvent.properties import catalog
from solvent.rules.arith import and_, when
from solvent.rules.presets import resolve_policy
from solvent.rules.venue_formulas import price_at_gap
from solvent.solver import payer_direct, resolution_facts, wall
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.query import StoryQuery
from solvent.solver.verdicts import Verdict

BYBIT = resolve_policy("bybit")
UNITS = 2_000_000


def _asked(claim_id: str, bankrupt: str = "alice", *, premise: bool = True) -> str:
    """The lemma's negation asked of exact z3 (as ``payer_direct.prepared`` asks it): its result."""
    _, given, claim = resolution_facts.resolution_question(BYBIT, bankrupt, claim_id)
    return wall.check([*(given if premise else []), z3.Not(claim)], [], UNITS, 60.0).result


@pytest.mark.parametrize("claim_id", resolution_facts.RESOLUTION_CLAIMS)
def test_the_lemma_holds_of_bybits_resolve_for_every_value(claim_id: str) -> None:
    """Each claim of one resolution, with no ADL transfer leaving the bankrupt account, holds of the
    engine's ``resolve`` on a free two-trader book (exact z3: 30K-0.3M units each)."""
    assert _asked(claim_id) == "unsat"


def test_the_mark_being_a_price_is_needed() -> None:
    """At a mark below 1 a short's gap is the mark itself (its price floored at 0), below zero, so a
    fill moves money from the bankrupt account to the winner: without the premise z3 finds it."""
    assert _asked("adl-price-fair", premise=False) == "sat"


def test_a_price_against_the_winners_breaks_the_fill_lemma(monkeypatch) -> None:
    """The bankruptcy price one quantum a lot against the winners (``price_at_gap`` with ``g + 1``):
    each winner pays more than its lots times the fair gap, and z3 finds the book."""
    monkeypatch.setattr(adl_module, "price_at_gap", lambda mark, size, gap: price_at_gap(mark, size, gap + 1))
    assert _asked("adl-price-fair") == "sat"


def test_a_venue_reset_of_one_quantum_too_much_breaks_the_deficit_lemma(monkeypatch) -> None:
    """The venue's reset of a short below zero at price zero paying one quantum more than the account
    is short: it receives more than the layers covered, and z3 finds the book (Z < 0)."""
    reset = adl_module._reset_below_price_zero

    def more(ctx, bankrupt, size, at_zero):
        out = reset(ctx, bankrupt, size, at_zero)
        below = and_(size < 0, at_zero < 0)
        return out.transfer(
            out.system(adl_module.Role.VENUE), bankrupt, when(below, 1), adl_module.Reason.VENUE_ABSORBS
        )

    monkeypatch.setattr(adl_module, "_reset_below_price_zero", more)
    assert _asked("deficit-charged-once") == "sat"
    monkeypatch.undo()
    assert _asked("deficit-charged-once") == "unsat"


def test_the_instances_speak_of_the_questions_terms_only() -> None:
    """Every instance's variables are the question's own (``payer_facts.instance`` raises on a lemma
    variable left without a term), and the facts hold of the question: they remove none of its
    models (the assumptions and the facts together are satisfiable)."""
    bounds = for_policy(Bounds(accounts=2, events=1, effort=20_000_000), BYBIT)
    cases, _ = payer_direct.prepared(BYBIT, bounds, "adl-price-fair")
    assert cases is not None and isinstance(cases.facts, resolution_facts.ResolutionFacts)
    invariant = catalog.get("adl-price-fair")
    query = StoryQuery(BYBIT, invariant, bounds, obligations=(invariant,), lemma_facts=cases.instances)
    own = {v.get_id() for v in query.variables} | {query.runs[0].runs[0].variant.event.price_quote.get_id()}
    instances = cases.instances(query.book, list(query.runs))
    assert len(instances) == 2
    for fact in instances:
        free = {x.get_id() for x in _variables(fact)}
        assert free <= own
    assert query.check_assumptions().verdict is Verdict.WITNESSED


def _variables(e: z3.ExprRef) -> list[z3.ExprRef]:
    seen, out, stack = set(), [], [e]
    while stack:
        x = stack.pop()
        if x.get_id() in seen:
            continue
        seen.add(x.get_id())
        if z3.is_const(x) and x.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            out.append(x)
        stack.extend(x.children())
    return out


@pytest.mark.deep
@pytest.mark.parametrize("preset", ["bybit", "binance", "okx"])
@pytest.mark.parametrize("claim_id", resolution_facts.RESOLUTION_CLAIMS)
def test_decided_within_checks_share(preset: str, claim_id: str) -> None:
    """As ``solvent check`` asks it (N = 2, one mark move, ``payer_first=False``), within 4M units,
    about what its first round gives a claim: proved, with the resolution lemma as facts (Bybit's
    two were undecided with 4.1M and 7.1M before)."""
    bounds = Bounds(accounts=2, events=1, effort=4_000_000)
    result = prove(preset, claim_id, bounds, minimize=False, payer_first=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert "the resolution lemma as proved facts" in result.method
    assert result.units <= 4_000_000


@pytest.mark.deep
def test_an_unfair_price_is_refuted_with_a_replayed_story(monkeypatch) -> None:
    """With the price one quantum a lot against the winners the lemma fails, so no fact is given,
    and z3 refutes the claim on the step with a story the (mutated) engine replays."""
    monkeypatch.setattr(adl_module, "price_at_gap", lambda mark, size, gap: price_at_gap(mark, size, gap + 1))
    result = prove(BYBIT, "adl-price-fair", Bounds(accounts=2, events=1, effort=4_000_000), minimize=False)
    assert result.verdict is Verdict.REFUTED, result.reason
    assert "resolution lemma" not in result.method


# --- where the queue may leave part of a position: BitMEX's fund, dYdX's overlap rule ---------------

BITMEX = resolve_policy("bitmex")


def _asked_on(policy, bankrupt: str) -> str:
    _, given, claim = resolution_facts.resolution_question(policy, bankrupt, "adl-price-fair")
    return wall.check([*given, z3.Not(claim)], [], UNITS, 60.0).result


def test_the_price_fits_where_the_queue_may_leave_part_of_a_position() -> None:
    """The price does not need a bankrupt position taken whole, so BitMEX (its fund holds lots the
    queue does not reach) and dYdX (its overlap rule) get the price's facts; deficit-charged-once gets
    them on BitMEX too (its lemma holds of each trader's resolve and of the pools' call: what the
    queue leaves is closed into the book, the deficit still covered once; solver/deficit_once.py),
    not on dYdX (its per-fill walk); Hyperliquid's price at the previous mark does not get the price's
    (its lemma is false) but gets deficit-charged-once's, with the sweep's invariant as its premise
    (solver/sweep_invariant.py)."""
    assert resolution_facts.fits(BITMEX, "adl-price-fair") and resolution_facts.fits(
        resolve_policy("dydx-v4"), "adl-price-fair"
    )
    assert resolution_facts.fits(BITMEX, "deficit-charged-once")
    assert not resolution_facts.fits(resolve_policy("dydx-v4"), "deficit-charged-once")
    assert not resolution_facts.fits(resolve_policy("hyperliquid"), "adl-price-fair")
    assert resolution_facts.fits(resolve_policy("hyperliquid"), "deficit-charged-once")
    assert resolution_facts.fits(BYBIT, "deficit-charged-once")


def test_bitmexs_pools_own_deleveraging_is_a_call_with_its_own_fact() -> None:
    """BitMEX's fund, below zero holding what it took over, deleverages the traders before the
    turns: the lemma holds of that call too (every number free), so the step's question gets three
    instances (each trader's resolve and the pools' call), on its own terms only, removing none of
    its models."""
    assert _asked_on(BITMEX, resolution_facts.POOLS) == "unsat"
    bounds = for_policy(Bounds(accounts=2, events=1, effort=20_000_000), BITMEX)
    cases, _ = payer_direct.prepared(BITMEX, bounds, "adl-price-fair")
    assert cases is not None and isinstance(cases.facts, resolution_facts.ResolutionFacts)
    assert [b for b, _, _ in cases.facts.calls] == ["alice", "bob", resolution_facts.POOLS]
    assert resolution_facts.AND_POOLS in cases.facts.lemmas[0]
    invariant = catalog.get("adl-price-fair")
    query = StoryQuery(BITMEX, invariant, bounds, obligations=(invariant,), lemma_facts=cases.instances)
    own = {v.get_id() for v in query.variables} | {query.runs[0].runs[0].variant.event.price_quote.get_id()}
    instances = cases.instances(query.book, list(query.runs))
    assert len(instances) == 3
    for fact in instances:
        assert {x.get_id() for x in _variables(fact)} <= own
    assert query.check_assumptions().verdict is Verdict.WITNESSED


def test_a_price_against_the_winners_breaks_the_pools_lemma(monkeypatch) -> None:
    monkeypatch.setattr(adl_module, "price_at_gap", lambda mark, size, gap: price_at_gap(mark, size, gap + 1))
    assert _asked_on(BITMEX, resolution_facts.POOLS) == "sat"


def test_bitmexs_price_is_proved_on_the_lemmas_book_with_the_facts() -> None:
    """BitMEX's adl-price-fair at N = 2: undecided before (1.14M a phase, its effort out), proved
    with the three facts (3.05M units in all, the all-N lemmas included, within 10M)."""
    result = prove("bitmex", "adl-price-fair", Bounds(accounts=2, effort=10_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    claim = next(o for o in result.obligations if o.obligation == "adl-price-fair")
    assert claim.verdict is Verdict.PROVED and claim.scope.accounts is None
    assert any(resolution_facts.AND_POOLS in lemma for lemma in result.lemmas)

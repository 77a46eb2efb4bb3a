"""dYdX's final settlement in the search and in z3 (issue 15; docs/venues.md#dydx-v4-final-settlement):
the ``FinalSettlement`` event is drawn by hypothesis for a policy whose venue delists that way
(``liquidation.final_settlement``: dydx-v4) and is a z3 event kind (``--event-kinds
final-settlement``), both running the engine's one rule (``rules/final_settlement.py``).

- z3 with the kind: a refutation is replayed on the concrete engine and breaks the claim there at a
  FinalSettlement (dYdX's winner closed at the bankrupt account's price: no-haircut, which dydx-v4
  accepts); a proof covers the kind (conservation on broker-reg-t).
- search: dydx-v4's stories meet delistings; every other preset's draws are exactly as before (no
  delisting drawn, the same stories).
"""

from __future__ import annotations

import collections

from hypothesis import HealthCheck, given, settings

import solvent
from solvent.properties import catalog
from solvent.properties.strategies import stories
from solvent.rules.engine import step
from solvent.rules.events import FinalSettlement
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds
from solvent.solver.verdicts import Verdict


def test_the_kind_is_known() -> None:
    assert Bounds(event_kinds=("final-settlement",)).event_kinds == ("final-settlement",)


def test_a_z3_refutation_is_a_final_settlement_the_engine_replays() -> None:
    proof = solvent.prove("dydx-v4", "no-haircut", accounts=2, events=1, event_kinds="final-settlement", effort="5M")
    assert proof.verdict is Verdict.REFUTED and proof.accepted
    cx = proof.counterexample
    # z3's one event, told after the deposits and trades that build its book from an empty one
    # (solver.from_empty, as check tells a z3 story)
    assert isinstance(cx.story.events[cx.step_index], FinalSettlement)
    assert cx.step_index == len(cx.story.events) - 1
    assert not any(isinstance(e, FinalSettlement) for e in cx.story.events[: cx.step_index])
    # the concrete engine, run again here, breaks the claim at that event
    policy = load_preset("dydx-v4")
    book = cx.story.book
    for event in cx.story.events[: cx.step_index]:
        book = step(policy, book, event).after
    s = step(policy, book, cx.story.events[cx.step_index])
    assert catalog.get("no-haircut").holds(catalog.StepView.of(policy, s)) is False


def test_a_z3_proof_covers_the_kind() -> None:
    proof = solvent.prove(
        "broker-reg-t", "conservation", accounts=2, events=1, event_kinds="final-settlement", effort="5M"
    )
    assert proof.verdict is Verdict.PROVED
    assert "final-settlement" in proof.scope.text


def _drawn(name: str, examples: int = 60) -> collections.Counter:
    policy = load_preset(name)
    seen: collections.Counter = collections.Counter()

    @settings(max_examples=examples, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(stories(policy))
    def run(story) -> None:
        seen["stories"] += 1
        seen["delisted"] += any(isinstance(e, FinalSettlement) for e in story.events)
        seen[repr(story.events)] += 1

    run()
    return seen


def test_the_search_draws_a_delisting_where_the_venue_settles_that_way() -> None:
    assert load_preset("dydx-v4").liquidation.final_settlement
    seen = _drawn("dydx-v4")
    assert seen["delisted"] > 0, dict(seen)
    print(f"dydx-v4: {seen['delisted']} of {seen['stories']} stories delist the market")


def test_no_other_preset_draws_one() -> None:
    from solvent.rules.presets import preset_names

    declaring = [n for n in preset_names() if load_preset(n).liquidation.final_settlement]
    assert declaring == ["dydx-v4"]
    assert _drawn("binance", 30)["delisted"] == 0


def test_the_state_machine_delists_where_the_venue_settles_that_way() -> None:
    from solvent.properties.machine import machine

    dydx = machine(load_preset("dydx-v4"), findings_dir=None)
    binance = machine(load_preset("binance"), findings_dir=None)
    assert "delist" in dir(dydx) and "delist" not in dir(binance)
    m = dydx()
    m.open_book(mark=1_000, worth=[10, 10, 10])
    m.open_position(buyer=0, offset=1, use=100, taker=True)
    m.delist(move_bp=-500)
    assert isinstance(m.steps[-1].event, FinalSettlement)
    assert all(a.size_lots == 0 for a in m.book.accounts)

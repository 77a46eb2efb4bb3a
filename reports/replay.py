"""What ``solvent replay FILE`` prints: a saved story re-run, told in the policy's units.

The text reads as the check's stories do (``reports.money``: amounts in the policy's currency with
its decimals, prices per unit of the lot, sizes in lots or contracts): the units line, each event
in words with the failing one marked, the failing step's transfers, its outcomes and who paid.
``--format json`` (schema ``solvent.replay/1``) carries the same words beside the exact data: each
event as the engine's integers (the finding file's shape), each transfer's amount in quanta.

The first line (``policy P, invariant I: claim``) and ``the same story also breaks: I (step N),
...`` are read by tools and tests; their shape does not change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs

from solvent.properties import catalog
from solvent.properties.findings import Finding
from solvent.properties.played import first_violation
from solvent.reports.json_report import _step as step_data
from solvent.reports.json_report import _units as finding_units
from solvent.reports.money import Money
from solvent.reports.story import (
    bankruptcies,
    deficit_sentence,
    describe_event,
    describe_outcome,
    extreme_story_note,
    margin_modes_text,
    units_text,
    worth_showing,
)
from solvent.reports.text import WIDTH, _fold, transfers_table
from solvent.rules.engine import Step

SCHEMA = "solvent.replay/1"


@attrs.frozen
class Replayed:
    """A saved finding run again on the concrete engine."""

    finding: Finding
    steps: tuple[Step, ...]
    #: the step that breaks the saved invariant now (None: it no longer fails)
    failing: int | None
    #: every other claim the same story breaks, with the first step that breaks it
    also: tuple[tuple[str, int], ...]

    @property
    def money(self) -> Money:
        return Money.of(self.finding.policy)


def replayed(finding: Finding, steps: Sequence[Step]) -> Replayed:
    """Judge the replayed ``steps`` against the saved invariant and every other claim."""
    inv = catalog.get(finding.invariant)
    index = first_violation(finding.policy, inv, steps)
    also = []
    if index is not None:  # every story is judged against every claim
        for other in catalog.CATALOG.values():
            at = None if other.id == inv.id else first_violation(finding.policy, other, steps)
            if at is not None:
                also.append((other.id, at))
    return Replayed(finding, tuple(steps), index, tuple(also))


def _indent(text: str, pad: str = "  ") -> str:
    return "\n".join(pad + line for line in text.splitlines())


def render_text(r: Replayed, width: int = WIDTH) -> str:
    f, money, contract = r.finding, r.money, r.finding.policy.contract
    inv = catalog.get(f.invariant)
    lines = [f"policy {f.policy.name}, invariant {inv.id}: {inv.claim}"]
    lines += _fold([f"  {units_text(f.policy)}"], width)
    modes = margin_modes_text(f.story.book)
    lines += _fold([f"  {modes}"] if modes else [], width)
    events = [
        f"  {i + 1}. {describe_event(s.event, s.before, contract, money)}{'  <- fails here' if i == r.failing else ''}"
        for i, s in enumerate(r.steps)
    ]
    lines += _fold(events, width)
    note = extreme_story_note(f.story, r.failing, money) if f.origin == "z3" else None
    lines += _fold([f"  {note}"] if note else [], width)
    if r.failing is None:
        lines.append("no longer fails: the story runs and the invariant holds at every step")
        return "\n".join(lines)
    if r.failing != f.step_index:
        lines.append(f"fails at step {r.failing + 1} (saved: step {f.step_index + 1})")
    step = r.steps[r.failing]
    lines += ["  transfers in the failing step:", _indent(transfers_table(step, money), "    ")]
    shown = [o for o in step.outcomes if worth_showing(o)]
    if shown:
        lines += ["  outcomes:"] + _fold([f"    - {describe_outcome(o, contract, money)}" for o in shown], width)
    said = [deficit_sentence(b, money) for b in bankruptcies(r.steps) if b.step_index == r.failing]
    lines += _fold([f"  who paid: {' '.join(said)}"] if said else [], width)
    if r.also:
        lines.append(f"the same story also breaks: {', '.join(f'{i} (step {at + 1})' for i, at in r.also)}")
    return "\n".join(lines)


def replay_data(r: Replayed) -> dict[str, Any]:
    """The replay as data: the words of the text beside the engine's exact integers."""
    f, money, contract = r.finding, r.money, r.finding.policy.contract
    inv = catalog.get(f.invariant)
    steps = []
    for i, s in enumerate(r.steps):
        data = step_data(i, s, contract, money)
        data["transfers"] = [
            t | {"amount_text": money.amount(t["amount"]) if isinstance(t["amount"], int) else str(t["amount"])}
            for t in data["transfers"]
        ]
        steps.append(data)
    return {
        "schema": SCHEMA,
        "policy": f.policy.name,
        "units": finding_units(f.policy),
        "invariant": inv.id,
        "claim": inv.claim,
        "fails": r.failing is not None,
        "failing_step": None if r.failing is None else r.failing + 1,
        "saved_step": f.step_index + 1,
        "steps": steps,
        "paid": [
            {
                "account": b.account,
                "deficit": b.deficit,
                "deficit_text": money.amount(b.deficit),
                "sentence": deficit_sentence(b, money),
            }
            for b in bankruptcies(r.steps)
            if b.step_index == r.failing
        ],
        "also_breaks": [{"invariant": i, "step": at + 1} for i, at in r.also],
    }


def render_json(r: Replayed) -> str:
    return json.dumps(replay_data(r), indent=2, ensure_ascii=False, default=str) + "\n"


__all__ = ["SCHEMA", "Replayed", "render_json", "render_text", "replay_data", "replayed"]

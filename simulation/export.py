"""A simulated path as a Solvent story: a finding file ``solvent replay`` runs exactly.

A path that leaves a trader below zero fails ``no-negative-equity``; one in which a winner pays
for another's deficit fails ``no-haircut``. Its story is the empty book and the path's events (the
deposits and opening trades, then the mark events) up to the failing step, rebuilt from the
path's seed and index and replayed on the exact engine; the finding's step is where the catalog's
own invariant first fails on that replay (``origin = "simulation"``).
"""

from __future__ import annotations

from pathlib import Path as FilePath

from solvent.properties import catalog
from solvent.properties.findings import Finding, save
from solvent.properties.played import first_violation
from solvent.properties.story import Story
from solvent.rules.engine import run
from solvent.simulation.outcome import PathOutcome
from solvent.simulation.paths import Prepared, build

#: what a path's outcome says it breaks: invariant id → the outcome field holding the failing event
BROKEN = {"no-negative-equity": "first_negative_event", "no-haircut": "first_haircut_event"}


def exportable(outcome: PathOutcome) -> bool:
    return any(getattr(outcome, field) is not None for field in BROKEN.values())


def finding(prepared: Prepared, seed: int, outcome: PathOutcome, invariant: str) -> Finding | None:
    """The path's story for ``invariant``, cut after the step that first fails it (None if it holds)."""
    at = getattr(outcome, BROKEN[invariant])
    if at is None:
        return None
    path = build(prepared, seed, outcome.index)
    story = Story(path.population.book, path.events[: at + 1])
    steps = run(prepared.policy, story.book, story.events)
    index = first_violation(prepared.policy, catalog.get(invariant), steps)
    if index is None:
        return None
    return Finding(prepared.policy, invariant, Story(story.book, story.events[: index + 1]), index, origin="simulation")


def export(prepared: Prepared, seed: int, outcome: PathOutcome, directory: FilePath) -> list[FilePath]:
    """Write a finding for every invariant the path breaks; returns the files written."""
    written = []
    for invariant in BROKEN:
        found = finding(prepared, seed, outcome, invariant)
        if found is not None:
            written.append(save(found, directory / f"path-{outcome.index}-{invariant}.json"))
    return written


def worst_first(outcomes: tuple[PathOutcome, ...]) -> list[PathOutcome]:
    """Exportable paths, the largest bad debt (then haircut) first, ties by index."""
    chosen = [o for o in outcomes if exportable(o)]
    return sorted(chosen, key=lambda o: (-o.bad_debt_quote, -o.haircut_quote, o.index))


__all__ = ["BROKEN", "export", "exportable", "finding", "worst_first"]

"""The cost basis a question does not read: built as a fresh term, checked absent from the question.

A position's cost basis after a move (``rules.positions._moved``: ``C' = C + Δ·P``, or scaled by
``|S + Δ| / |S|``, or ``(S + Δ)·P`` when it crosses zero) costs about twelve build steps a move, and
on percolator Gen B's N = 4 mark move the opposing side's shrink moves 352 positions: 4,224 of its
14,889 build steps (28%). No catalog claim reads a cost basis after the event, and under these
policies the engine does not either (no ADL score, no maintenance on the entry notional, no
liquidation order across markets); the well-formed rules read it on the book before.

So a question's symbolic run may give every moved position's cost basis as a fresh variable
(:func:`solvent.rules.positions.cost_unread`) instead of its term: the engine's code is the same, and
the concrete engine always builds it. That is the question's *cone of influence*: what it asks is
built from the book before, the event and the outputs it reads. The cut is checked, not assumed:
after the build, no formula the question asserts (assumptions, obligations, frames, facts, parts)
may contain one of the fresh variables (:func:`occurs`: ``z3.substitute`` of each by 0 gives the very
same term). A formula that does (a claim or a rule that reads the cost after all) is rebuilt with the
cost built (:class:`~solvent.solver.query.StoryQuery`), so the question asked is always the one
the engine's own terms make: a fresh variable nobody reads changes no model's answer.

Where: :func:`fits`, the policies with a haircut-ratio layer (the percolator generations), where it
was measured (docs/solver-notes.md#percolator-at-n--4-session-20). Any policy whose engine reads
no cost could take it; the others are left as they were so that their questions build the same
terms and spend the same units (the catalog tables are measured per commit).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import z3

from solvent.rules.margin import MaintenanceBasis
from solvent.rules.policy import Policy
from solvent.rules.waterfall import Adl, HaircutRatio

#: the fresh variables' name prefix (no book or event variable is named so)
PREFIX = "unread.cost."


def engine_reads_cost(policy: Policy) -> bool:
    """Whether the engine reads a cost basis during an event under ``policy``: an ADL layer's
    score (``rules.adl.score``), maintenance on the entry notional (``MaintenanceBasis.ENTRY``), or
    more than one market (the liquidation order and the deficit's split read each position's
    maintenance or loss since entry: ``rules.liquidation_order``, ``rules.deficit_split``)."""
    if any(isinstance(layer, Adl) for layer in policy.deficit):
        return True
    if len(policy.market) > 1:
        return True
    rules = (policy.margin, *policy.more_margins)
    return any(rule.maintenance_basis is MaintenanceBasis.ENTRY for rule in rules)


def fits(policy: Policy) -> bool:
    """The cut is tried on this policy's questions: a haircut-ratio layer and no engine reader."""
    return any(isinstance(layer, HaircutRatio) for layer in policy.deficit) and not engine_reads_cost(policy)


class Fresh:
    """Makes the fresh variables of one build, numbered in the order asked (the same every run)."""

    def __init__(self) -> None:
        self.made: list[z3.ArithRef] = []

    def __call__(self) -> z3.ArithRef:
        term = z3.Int(f"{PREFIX}{len(self.made)}")
        self.made.append(term)
        return term


def occurs(formulas: Iterable[Any], fresh: list[z3.ArithRef]) -> bool:
    """Whether any of ``fresh`` occurs in ``formulas`` (z3 terms; Python constants read nothing):
    each formula with every fresh variable replaced by 0 is a different term exactly then."""
    if not fresh:
        return False
    pairs = [(v, z3.IntVal(0)) for v in fresh]
    for f in formulas:
        if isinstance(f, z3.ExprRef) and not z3.substitute(f, *pairs).eq(f):
            return True
    return False


__all__ = ["PREFIX", "Fresh", "engine_reads_cost", "fits", "occurs"]

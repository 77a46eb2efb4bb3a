"""A one-event question over mark moves and funding payments, asked one event kind at a time.

At K = 1 a question over several event kinds asks the claim after *one* event that is any of
them: it holds for the kinds together exactly where it holds for each kind's events alone (a
story is one book and one event, of one kind). So the claim over ``mark, funding`` is decided by
the claim over the other kinds (mark moves, with margin moves on a book with an isolated position)
and the claim over funding payments, each a question of its own with its own arguments: the payer's
argument for mark moves (``solver.payer_lemma``, ``solver.payer_previous``: mark moves only), the
per-call lemmas of ``solver.deficit_once`` for each kind. Asked in one question, the two kinds'
terms sit in one z3 search and neither argument applies (every direct check ran out:
docs/solver-notes.md#funding-questions-on-hyperliquid-session-26).

The verdict over the kinds is :func:`solvent.solver.verdicts.joined`'s, as over margin scopes:
proved only where each kind's question is (for every N only where each is), refuted where either
is, with that question's replayed story, whose one event is of the kinds asked. Each kind's
question is asked as its own question (a fresh z3 context), within the question's whole effort,
as each margin scope is: so each part's answer is, to the unit, the one the same bounds with that
kind alone give (docs/solver-notes.md#the-payer-claims-on-mark-and-funding-by-event-kind-session-27).

Only where it is exact and where it was measured to decide: one event (at K > 1 a story mixes
kinds, and the claim over the mix is an induction's, not the parts'), the kinds including funding
and at least one other, and the claims ``CLAIMS`` (each a predicate of one step).
"""

from __future__ import annotations

from solvent.solver.bounds import Bounds

#: the event kind asked on its own
FUNDING = "funding"
#: the claims asked by kind: each a predicate of one step, undecided over both kinds in one question
CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "deficit-charged-once")


def kinds(claim: str, bounds: Bounds) -> tuple[tuple[str, ...], ...]:
    """The event kinds of each question ``claim`` within ``bounds`` is asked as: the kinds but
    funding, then funding alone, where the split applies (see the module docstring); else one
    question, ``bounds``' own kinds."""
    rest = tuple(k for k in bounds.event_kinds if k != FUNDING)
    if claim not in CLAIMS or bounds.events != 1 or FUNDING not in bounds.event_kinds or not rest:
        return (tuple(bounds.event_kinds),)
    return (rest, (FUNDING,))


def label(kinds: tuple[str, ...]) -> str:
    """How a report names the events one part covers."""
    return f"{', '.join(kinds)} events"


__all__ = ["CLAIMS", "FUNDING", "kinds", "label"]

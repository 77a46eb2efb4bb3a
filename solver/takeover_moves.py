"""The payer's claims over K > 1 moves where the fund takes over what ADL leaves: a two-move story searched.

On a policy whose fund takes over what ADL leaves, below zero if need be (``payer_lemma.takes_over``:
BitMEX), a move may leave the fund below zero holding lots (``rules.bankruptcy.fund_takes_over``), and
the next sweep starts with the fund's own bankruptcy (``rules.pool_bankruptcy``). Under the session-20
rule its position was deleveraged against the traders opposite it at ``⌈D / |S|⌉`` a lot beyond the
mark, its whole deficit, whatever the move: a trader opposite it holding no more lots than the fund,
worth less than a quantum a lot, was closed whole and ended flat below zero, and this search found
that story (docs/solver-notes.md#bitmex-at-k--3-the-funds-own-deleveraging-after-a-takeover-session-23).
Since session 23 the fund hands on at most its lots' loss in the move, a winner pays at most its gain
in it, and ``no-negative-equity`` and ``loss-bounded-by-collateral`` are proved for every N and any K
by the induction over moves (``solver.induction``). The search stays, asked first, as a regression:
it finds its book and no story (tests/solver/test_bitmex_takeover_moves.py; under the session-20 rule
as a mutant it finds the story again).

z3 did not find that story as one question (two traders, two moves on the grid: unknown within 30M
units), so it is searched in two steps, each decided by the engine: (1) one move, two traders, on the
grid's doubling and halving (``prove._on_grid``'s prices), exact, to a book where :data:`TARGET` fails
(the fund below zero holding lots, a trader opposite it thin as above): a model replayed on the
concrete engine against the target; (2) that story with one more move at the same mark
(:func:`extended`), replayed on the concrete engine against the claim itself, within the question's
own bounds. Only a replayed failure of the claim is reported; the target is a place to look, not a
claim and not a rule: what the second move does is the engine's.
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.properties.catalog import Invariant, Severity, StepView
from solvent.properties.story import Story
from solvent.rules.arith import abs_, and_, not_, or_
from solvent.rules.book import Role
from solvent.rules.events import MarkPrice
from solvent.rules.margin import equity
from solvent.rules.policy import Policy
from solvent.solver.bounds import Bounds
from solvent.solver.payer_lemma import PAYER_CLAIMS, takes_over

#: the search's traders: the bankrupt account whose deficit the fund takes over, and one opposite the fund
TRADERS = 2


def _thin_opposite(view: StepView) -> Any:
    """After the step: the fund below zero holding lots, and some trader holding lots opposite it, no
    more than the fund's, worth less than one quantum a lot."""
    fund = view.after.role(Role.INSURANCE_FUND)
    held = fund.size_lots
    thin = [
        and_(
            t.size_lots * held < 0,
            abs_(t.size_lots) <= abs_(held),
            equity(view.policy.margin, t) < abs_(t.size_lots),
        )
        for t in view.after.traders
    ]
    return and_(fund.cash_quote < 0, held != 0, or_(*thin))


#: the first step's target, asked as a claim whose failure is the state looked for (not a catalog claim)
TARGET = Invariant(
    "fund-below-zero-opposite-a-thin-trader",
    "after a move, the insurance fund is not below zero holding lots with a trader opposite it holding no more "
    "lots, worth less than a quantum a lot (a search target)",
    Severity.HIGH,
    lambda view: not_(_thin_opposite(view)),
)


def fits(policy: Policy, invariant: Invariant, bounds: Bounds) -> bool:
    """Whether the question is one this search is for: a payer's claim over K > 1 mark moves on one
    market, at least two traders, no collateral asset or isolated position, on a policy whose fund
    takes over what ADL leaves."""
    moves = set(bounds.event_kinds) == {"mark"} and bounds.markets == 1 and not bounds.assets and not bounds.isolated
    return (
        invariant.id in PAYER_CLAIMS
        and takes_over(policy)
        and bounds.events > 1
        and bounds.accounts >= TRADERS
        and moves
    )


def first_move(bounds: Bounds) -> Bounds:
    """The first step's bounds: two traders, one move, exact (no purified stage: the model is found at
    a count that does not move with the search's share)."""
    return attrs.evolve(bounds, accounts=TRADERS, events=1, linearize=False)


def extended(story: Story) -> Story:
    """``story`` (one move) with one more move at the mark it ended at: the next sweep, with no move."""
    [move] = story.events
    return Story(story.book, (move, MarkPrice(price_quote=move.price_quote)))


#: what a refutation found this way says, in its method
SAYS = (
    "found in two steps: one move on two traders on the grid's doubling and halving (exact) to a book where the "
    "fund is below zero holding lots opposite a trader worth less than a quantum a lot, then one more move at "
    "the same mark; the story replayed on the concrete engine against the claim"
)


__all__ = ["SAYS", "TARGET", "TRADERS", "extended", "first_move", "fits"]

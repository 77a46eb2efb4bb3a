"""Does a proof's scope cover a story? The check behind the internal-consistency alarm.

A PROVED verdict says: for every starting book inside the proof's assumptions and every accepted
sequence of events inside its bounds, the claim holds after each event. A story replayed on the
concrete engine that breaks the claim inside that scope contradicts the proof, so one of Solvent's
own answers is wrong (an unsound argument, or the two interpreters of the engine disagree). Such a
pair is never printed side by side: :func:`covered_failure` finds it, and the verdicts floor stops
with :class:`~solvent.solver.verdicts.InconsistentProof`.

Coverage is decided strictly, so the alarm never fires on a story the proof does not speak about:

- the window of events that ends at the failing step starts from a book that satisfies the proof's
  own assumptions (``solvent.solver.assumptions.book_assumptions``, evaluated on the concrete
  book: the bounds and the well-formed book) and holds every value the symbolic book fixes (the
  clock, the tick, each trader's margin mode, the accounts in order; the traders' names too,
  unless the proof is for every N, whose argument assumes the engine treats accounts uniformly);
- the window is no longer than the proof's K events (any length for a proof by induction), every
  event in it is of the proof's kinds, inside its number bounds (and price grid, and largest move);
- the book has the proof's N traders (any number for an all-N proof).
"""

from __future__ import annotations

from typing import Any

import attrs
import z3

from solvent.properties.scenarios import Story
from solvent.rules.engine import RejectedEvent, Step, step
from solvent.rules.events import AddMargin, Deposit, Funding, MarkPrice, RemoveMargin, SpotDeposit, Trade, Withdraw
from solvent.rules.policy import Policy
from solvent.solver.assumptions import book_assumptions, move_within
from solvent.solver.bounds import Bounds
from solvent.solver.story import event_within, market_within, symbolic_book
from solvent.solver.verdicts import ProofResult, Verdict

KIND = {MarkPrice: "mark", Funding: "funding", Deposit: "deposit", SpotDeposit: "spot-deposit"}
KIND |= {Withdraw: "withdraw", Trade: "trade", AddMargin: "margin", RemoveMargin: "margin"}


def covered_failure(policy: Policy, proof: ProofResult, story: Story, failing: int) -> int | None:
    """The first event (index) of a window of ``story`` that the PROVED ``proof`` covers and that ends
    at the ``failing`` step, or None when the proof does not speak about that step."""
    claim = next((o for o in proof.obligations if o.obligation == proof.invariant), None)
    bounds = proof.bounds
    if claim is None or claim.verdict is not Verdict.PROVED or bounds is None:
        return None
    scope = claim.scope or proof.scope
    steps = _replay(policy, story, failing)
    if steps is None:
        return None
    first = 0 if scope.events is None else max(0, failing - scope.events + 1)
    for start in range(failing, first - 1, -1):
        window = steps[start : failing + 1]
        if not all(_event_inside(s, bounds) for s in window):
            return None  # an event outside the proof's kinds or bounds: no longer window can help
        if _book_inside(policy, window[0].before, bounds, every_n=scope.accounts is None):
            return start
    return None


def _replay(policy: Policy, story: Story, failing: int) -> list[Step] | None:
    book, out = story.book, []
    for event in story.events[: failing + 1]:
        try:
            s = step(policy, book, event)
        except RejectedEvent:  # the proof covers accepted events only
            return None
        out.append(s)
        book = s.after
    return out if len(out) == failing + 1 else None


def _event_inside(s: Step, bounds: Bounds) -> bool:
    kind = KIND.get(type(s.event))
    if kind is None or kind not in bounds.event_kinds:
        return False
    if (
        event_within(s.event, bounds) is not True
        or move_within(s.before, s.event, bounds) is not True
        or not market_within(s.event, bounds)
    ):
        return False
    price = getattr(s.event, "price_quote", None)
    return not bounds.price_grid or price is None or price in bounds.price_grid


def _book_inside(policy: Policy, book: Any, bounds: Bounds, *, every_n: bool) -> bool:
    traders = len([a for a in book.traders if not a.owner])  # an isolated position is its owner's
    if not every_n and traders != bounds.accounts:
        return False
    try:
        sized = attrs.evolve(bounds, accounts=traders) if traders else bounds
    except ValueError:  # bounds that cannot hold this many traders (a trade-only proof, one trader)
        return False
    shape, _ = symbolic_book(sized)
    if not _same_shape(shape, book, names=not every_n):
        return False
    return all(a.holds is True for a in book_assumptions(policy, book, sized))


def _same_shape(symbolic: Any, concrete: Any, *, names: bool) -> bool:
    """Every value the symbolic book fixes (not a z3 term) is the concrete book's value too. The
    markets' names never matter, their number does; the collateral assets' names do (the policy's
    weights are by name); the accounts' names matter unless ``names`` is False."""
    if len(symbolic.accounts) != len(concrete.accounts) or len(symbolic.markets) != len(concrete.markets):
        return False  # as many markets as the proof's book, too (a further market's position is data)
    if [a.name for a in symbolic.assets] != [a.name for a in concrete.assets]:
        return False  # the same collateral assets: a policy weighs each by its name
    pairs = [(symbolic, concrete, ("market", "accounts", "more_markets", "assets"))]
    pairs += [(s, c, ("name",)) for s, c in zip(symbolic.markets, concrete.markets, strict=True)]
    skip = ("more_positions", "asset_balances") if names else ("name", "more_positions", "asset_balances")
    pairs += [(s, c, skip) for s, c in zip(symbolic.accounts, concrete.accounts, strict=True)]
    for sym, con, free in pairs:
        for field in attrs.fields(type(sym)):
            expected = getattr(sym, field.name)
            if not field.eq or field.name in free or isinstance(expected, z3.ExprRef):
                continue
            if expected != getattr(con, field.name):
                return False
    return True


__all__ = ["covered_failure"]

"""How ``solvent check`` shares its z3 units among the claims: two rounds, in one fixed order.

The rule (docs/solver-notes.md#check-shares-its-units-in-two-rounds):

1. **First round.** Every claim is asked once, in the order given (the all-N arguments first, then
   the catalog's order), with its fair share of what is left: the units left divided by the claims
   not yet asked, and at most ``per_question``. A claim that decides early leaves what it did not
   spend to the claims after it.
2. **Second round.** What the first round left goes to the claims it left undecided, in the same
   order: each is asked again, from the start, with its fair share of what is left (divided by the
   undecided claims not yet asked again), at most ``per_question``, but only where that share is
   larger than what it had in the first round (the same question with no more units would stop
   where it stopped); a claim passed over leaves its share to the ones after it. The second
   answer replaces the first; the units of both are spent.

Which claim is asked, with how much, follows from the order, the budget and the units each answer
spent; units are deterministic (``solvent.solver.effort``), so the whole allotment, and every
verdict in it, is a function of the policy, the options and Solvent's version: the same on an idle
and on a loaded machine, in one process or another.

Measured on the presets (``benchmarks/bench_check_proofs.py``): the first round leaves most of
the budget on some policies (Binance: about 24M of 60M units, with four claims undecided), because
claims that decide do so well within their share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs


@attrs.frozen
class Allotment:
    """One question asked for ``claim``: in which round, the units it was ``given`` and ``spent``
    (at most what it was given: every part of a question is paid from its effort,
    docs/solver-notes.md#a-questions-effort-is-one-purse), and whether it decided the claim."""

    claim: str
    round: int
    given: int
    spent: int
    decided: bool
    #: the margin scope it was asked on (``solvent.solver.margin_scopes``), where a policy has two;
    #: empty where it has one
    scope: str = ""


#: the question for a claim within ``units``: (decided, units spent)
Ask = Callable[[str, int], tuple[bool, int]]


def allot(order: Sequence[str], total: int, per_question: int, ask: Ask) -> tuple[Allotment, ...]:
    """Every question asked for the claims of ``order`` within ``total`` units (see the module
    docstring), in the order asked."""
    asked: list[Allotment] = []
    spent = 0
    for k, claim in enumerate(order):
        left = total - spent
        if left <= 0:
            break
        given = max(min(per_question, left // (len(order) - k)), 1)
        decided, used = ask(claim, given)
        spent += used
        asked.append(Allotment(claim, 1, given, used, decided))
    undecided = [a for a in asked if not a.decided]
    for k, first in enumerate(undecided):
        left = total - spent
        if left <= 0:
            break
        given = min(per_question, left // (len(undecided) - k))
        if given <= first.given:
            continue  # no more than it had: its share goes to the claims after it
        decided, used = ask(first.claim, given)
        spent += used
        asked.append(Allotment(first.claim, 2, given, used, decided))
    return tuple(asked)


def spent(asked: Sequence[Allotment]) -> int:
    """The units every question spent, in both rounds."""
    return sum(a.spent for a in asked)


__all__ = ["Allotment", "Ask", "allot", "spent"]

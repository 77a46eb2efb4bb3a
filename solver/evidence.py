"""Proofs inside ``solvent check``: the invariants z3 decides quickly, within a time budget.

``solvent check`` judges every invariant on scenarios and by search; that evidence says "held",
never "proved". :func:`prove_within` adds z3's verdicts where they come cheaply: each invariant is
asked once, on every book of ``accounts`` traders and one mark move (the liquidation sweep and the
whole waterfall), with the invariants that have an all-N argument first (conservation,
open-interest balance), each with a timeout of at most ``per_question_s`` (building the question
included) and at most half its fair share of the budget left, so that every invariant is asked
before the budget is spent.

What comes back is each :class:`~solvent.solver.verdicts.ProofResult` as it is: PROVED with its
scope, REFUTED with a counterexample the concrete engine replayed, UNKNOWN/PARTIAL with the reason.
An invariant the budget did not reach has no result at all (it is not "unknown": it was not asked).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import attrs

from solvent.rules.policy import Policy
from solvent.solver.bounds import Bounds
from solvent.solver.verdicts import ProofResult

#: Invariants with an all-N argument (``solvent.solver.compositional``): asked first.
FIRST = ("conservation", "open-interest-balance")


@attrs.frozen
class ProofBudget:
    """How much proving ``solvent check`` may do per policy."""

    seconds: float = 30.0
    per_question_s: float = 10.0
    accounts: int = 2

    def __attrs_post_init__(self) -> None:
        if self.seconds < 0:
            raise ValueError(f"'seconds' must be >= 0: {self.seconds}")
        if self.per_question_s <= 0:
            raise ValueError(f"'per_question_s' must be > 0: {self.per_question_s}")


def prove_within(policy: Policy, invariant_ids: Sequence[str], budget: ProofBudget) -> dict[str, ProofResult]:
    """z3's verdict for as many of ``invariant_ids`` as the budget allows (see the module docstring)."""
    import solvent.solver  # noqa: F401  (registers the z3 backend)
    from solvent.solver.prove import prove

    started = time.perf_counter()
    order = [i for i in FIRST if i in invariant_ids] + [i for i in invariant_ids if i not in FIRST]
    out: dict[str, ProofResult] = {}
    for k, invariant_id in enumerate(order):
        left = budget.seconds - (time.perf_counter() - started)
        if left <= 0:
            break
        # a fair share of what is left, so every invariant is asked (a prove call may spend a few
        # times its per-question timeout: the small-scope phase, then N itself)
        share = left / (len(order) - k) / 2
        timeout_ms = max(int(min(budget.per_question_s, share) * 1000), 1)
        bounds = Bounds(accounts=budget.accounts, events=1, timeout_ms=timeout_ms)
        out[invariant_id] = prove(policy, invariant_id, bounds, minimize=False)
    return out


__all__ = ["FIRST", "ProofBudget", "prove_within"]

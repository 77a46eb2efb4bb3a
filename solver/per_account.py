"""Per-account claims for every N: a claim that reads one account is proved on that account alone.

``deposit-not-absorbed`` ("a deposit raises the depositor's withdrawable claim by the whole
deposit") speaks of one account: the depositor. Its all-N argument (the design in
docs/solver-notes.md#per-account-claims-for-every-n-the-design, step 2 and its first case) is,
for each event variant of the bounded kinds, run through the engine's own ``transition`` on the
lemmas' two-trader book:

- the predicate returns ``True`` without a formula (an event that is not a deposit): it holds on
  every book, whatever N, because the claim is decided by the event's kind alone;
- otherwise the claim's formula reads only the depositor's account, the market and the event's
  numbers (checked on the formula's variables: no other account's appears in it), and z3 proves it
  valid from the assumptions that read only those too (the depositor's own well-formedness and
  margin, the event's bounds and its acceptance; every assumption about other accounts is dropped,
  which only weakens the premise). The depositor of an N-trader book satisfies the same
  per-account assumptions and, the engine treating accounts uniformly, is given the same formula:
  so the claim holds for every depositor of every book.

Only one event at a time is covered (K = 1): a claim about one step is not an invariant of the
book, so the argument says nothing about what K earlier events can reach.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.properties.catalog import Invariant
from solvent.rules.policy import Policy
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds
from solvent.solver.story import run, slots, symbolic_book, view

#: the claims whose truth on a step is about the account the event names (``event.account``)
ONE_ACCOUNT = ("deposit-not-absorbed",)


def _conjuncts(formula: Any) -> list[Any]:
    """``formula`` split at its top-level ``And``s (a Python bool stands for itself)."""
    if type(formula) is bool:
        return [] if formula else [z3.BoolVal(False)]
    if z3.is_and(formula):
        return [c for child in formula.children() for c in _conjuncts(child)]
    return [formula]


def integer_atoms(term: Any) -> list[Any]:
    """The uninterpreted integer constants in ``term`` (a book's or an event's variables, or an
    abstraction's fresh integers), each once, in a fixed order (first met, depth first)."""
    seen: set[int] = set()
    out: list[Any] = []
    stack = [term]
    while stack:
        e = stack.pop()
        if e.get_id() in seen:
            continue
        seen.add(e.get_id())
        if z3.is_const(e):
            if z3.is_int(e) and not z3.is_int_value(e):
                out.append(e)
            continue
        stack.extend(reversed(e.children()))
    return out


def _reads_only(term: Any, prefixes: tuple[str, ...]) -> bool:
    return all(str(x).startswith(prefixes) for x in integer_atoms(term))


def one_account_argument(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    valid: Callable[[str, list[Any], Any], str],
    fail: Callable[[str], None],
    traders: int = 2,
) -> list[str]:
    """The lemmas of the argument in the module docstring, or ``fail(reason)`` where one does not
    hold (``valid(name, assumptions, claim)``: z3 within the effort, failing when not unsat)."""
    if bounds.markets != 1 or bounds.assets:
        fail(f"{invariant.id}: the per-account argument covers one market without collateral assets")
    if bounds.events != 1:
        # a later event starts from a book the first one reached, where the depositor's own
        # assumptions (its margin, its well-formedness) need not hold any more
        fail(f"{invariant.id}: the per-account argument covers one event (K = 1), not K = {bounds.events}")
    small = attrs.evolve(bounds, accounts=traders, events=1)
    book, _ = symbolic_book(small)
    [slot] = slots(book, small)
    [step] = run(policy, book, [slot])
    market = tuple(f"s0.{m.name}." for m in book.markets)
    assumed = [c for a in book_assumptions(policy, book, small) for c in _conjuncts(a.holds)]
    lemmas = []
    for variant_run in step.runs:
        event = variant_run.variant.event
        label = variant_run.variant.label
        claim = invariant.holds(view(policy, book, variant_run))
        if claim is True:
            lemmas.append(f"{invariant.id} on {label}: true whatever the book (the event's kind decides it)")
            continue
        account = getattr(event, "account", None)
        if account is None:
            fail(f"{invariant.id} on {label}: the event names no account")
        own = (f"s0.{account}.", *market, f"e{slot.index + 1}.")
        if not _reads_only(claim, own):
            fail(f"{invariant.id} on {label}: the claim reads another account than {account}")
        premise = assumed + _conjuncts(slot.field_bounds) + _conjuncts(variant_run.accepted)
        premise = [c for c in premise if _reads_only(c, own)]
        valid(f"{invariant.id} on {label}: holds from {account}'s own assumptions alone", premise, claim)
        lemmas.append(
            f"{invariant.id} on {label}: reads only {account}'s account, the market and the event, "
            f"and holds from {account}'s own assumptions, for any other accounts"
        )
    return lemmas


__all__ = ["ONE_ACCOUNT", "integer_atoms", "one_account_argument"]

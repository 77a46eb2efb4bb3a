"""``deficit-charged-once`` for every N where the waterfall ends in a socialized loss (Mango v4).

The claim, for each bankrupt account ``b`` of the step: the layers' covers and the residual add up to
``b``'s deficit, no layer covers a negative amount, and ``b`` receives through the waterfall (less the
dust it passes on) no more than the layers covered. ``solver.deficit_once`` proves it per call where
ADL is the layer that reads the other traders; here the socialized loss is, and its charge is
``pro_rata.charge`` with shares rounded up: each payer ``i`` pays ``b`` a share ``s_i`` (a quotient of
its lots), and ``b`` passes the dust ``Σ s_i − target`` on to the fund, so what ``b`` keeps is
``target`` (the deficit handed where any payer weighs something, else 0) whatever the shares are.

1. **The call's lemma** (z3, exact): the engine's ``resolve`` of the book's first trader with two
   candidates (under a cascade ``resolve(..., alone=True)``: each account the cascade resolves is
   such a call of its own), the catalog's own predicate on its entries and outcomes, with every
   socialized-loss share made a free integer (``z3.substitute`` on the transfer amounts: the dust is
   built from the same terms) and every condition that reads a candidate a free boolean
   (``waterfall_claims.conditions_freed``). So generalized, the claim names no candidate's number
   (checked), and the call at any N builds an instance of it (more shares, a different total
   weight): proved for every value, it holds at any N.
2. **The step** (``deficit_once.step_lemmas``, on the step at three traders): each account's
   ``Bankrupt`` outcomes pairwise exclusive (a step resolves it at most once: its own turn or one
   of the cascade's), and every entry of a reason the claim reads names the call's bankrupt account
   (a payer's share is paid *to* it), so another account's conjunct reads nothing of this call.

docs/solver-notes.md#the-socialized-loss-for-every-n-session-20.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import z3

from solvent.properties import catalog
from solvent.rules.bankruptcy import resolve
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.liquidation import pools_holding
from solvent.rules.policy import Policy
from solvent.solver import deficit_once, waterfall_claims
from solvent.solver.adl_claims import Call
from solvent.solver.bounds import Bounds
from solvent.solver.story import symbolic_book

#: what the all-N verdict assumes of the engine (``Scope.assumes``)
ASSUMES = (
    "each bankrupt account is resolved at most once a step (its own turn or the cascade's; checked on the step "
    "at three traders), and its resolve reads the other traders only through its socialized loss's shares, whose "
    "sum less the dust it passes on to the fund is pro_rata.charge's target (shares rounded up)"
)
#: the prefix of the call's free shares
FREE = "dcs."

Valid = Callable[..., str]


def not_covered(policy: Policy, bounds: Bounds) -> str | None:
    """Why the argument does not apply (None where it does): a waterfall of pools with a socialized
    loss last, its shares rounded up and not per opposing lot (``waterfall_claims``' conditions), no
    pool holding what it takes over, no fee to close; one market, no asset, no isolated position."""
    kinds = [layer.kind for layer in policy.deficit]
    if not kinds or kinds[-1] != waterfall_claims.SOCIALIZED:
        return "not a socialized loss last"
    if any(k not in waterfall_claims.POOLS for k in kinds[:-1]):
        return f"a layer above the socialized loss that reads other traders ({', '.join(kinds)})"
    reason = waterfall_claims._socialized_not_covered(policy)
    if reason is not None:
        return reason
    if pools_holding(policy.liquidation) or policy.liquidation.fee_to_close:
        return "a pool holding what it takes over, or a fee to close in the bankruptcy price"
    if (beyond := bounds.beyond_one_plain_market()) is not None:
        return beyond
    return None


def question(policy: Policy, bounds: Bounds) -> tuple[Call, list[Any], Any]:
    """``(call, premise, claim)``: the call's claim with its shares and the candidates' conditions free."""
    book, _ = symbolic_book(waterfall_claims.shape(bounds))
    bankrupt = book.traders[0].name
    out = resolve(policy, Ctx(book), bankrupt, alone=waterfall_claims.cascades(policy))
    call = Call(f"{bankrupt}'s resolve, {waterfall_claims.CANDIDATES} candidates", book, out, (bankrupt,))
    claim = catalog.get(deficit_once.CLAIM).holds(call.view(policy))
    claim = z3.BoolVal(claim) if type(claim) is bool else claim
    shares = [e.item.amount_quote for e in out.entries if e.item.reason is Reason.SOCIALIZED_LOSS]
    pairs = [(s, z3.Int(f"{FREE}share{k}")) for k, s in enumerate(shares) if z3.is_expr(s)]
    if pairs:
        claim = z3.substitute(claim, *pairs)
    return call, [book.market.mark_quote >= 1], totals_freed(call, claim)


def totals_freed(call: Call, term: Any) -> Any:
    """``term`` with each side of a comparison that reads a candidate's number, in the condition of an
    ``If`` (the payers' total weight: ``when(total > 0, target)``, ``safe_divisor(total)``), replaced
    by a free integer, the same one wherever that side occurs."""
    sides: list[Any] = []
    for t in waterfall_claims.stranger_ifs(call, term, into_conditions=True):
        condition = t.arg(0)
        for side in condition.children() if condition.num_args() == 2 else ():
            if z3.is_arith(side) and waterfall_claims.strangers(call, side) and not any(side.eq(x) for x in sides):
                sides.append(side)
    # the innermost such sides only (a side that holds another, ``remaining − when(total > 0, …) > 0``,
    # is not a total: it keeps its own terms, the total inside it freed)
    inner = [x for x in sides if not any(y is not x and _holds(x, y) for y in sides)]
    pairs = [(side, z3.Int(f"{FREE}total{k}")) for k, side in enumerate(inner)]
    return z3.substitute(term, *pairs) if pairs else term


def _holds(term: Any, part: Any) -> bool:
    """Whether ``part`` is a proper subterm of ``term``."""
    seen: set[int] = set()
    todo = list(term.children())
    while todo:
        t = todo.pop()
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        if t.eq(part):
            return True
        todo.extend(t.children())
    return False


def argument(policy: Policy, bounds: Bounds, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """The lemmas' names (each proved by ``valid``, exact), or ``fail`` where the argument does not apply."""
    reason = not_covered(policy, bounds)
    if reason is not None:
        fail(reason)
    call, premise, claim = question(policy, bounds)
    stray = waterfall_claims.strangers(call, claim)
    if stray:
        fail(f"{call.label}: the claim reads the candidates' numbers ({', '.join(stray[:4])})")
    lemmas = [
        valid(
            f"{deficit_once.CLAIM} of {call.label}"
            + (" (one call of the cascade)" if waterfall_claims.cascades(policy) else "")
            + ", every number free, each socialized-loss share free and the weights' conditions free",
            premise,
            claim,
            exact=True,
        )
    ]
    lemmas += deficit_once.step_lemmas(policy, bounds, valid, fail, alone=waterfall_claims.cascades(policy))
    lemmas.append(
        "the call at any N: its claim, each share and the payers' total weight free, names no candidate, so the call "
        "at any number of payers is an instance of it"
    )
    return lemmas


__all__ = ["ASSUMES", "argument", "not_covered", "question"]

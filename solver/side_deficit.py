"""``deficit-charged-once`` for every N on percolator Gen B, by a lemma on one resolve.

Gen B's waterfall (rules/presets/percolator-gen-b.toml) is the insurance fund, then a per-lot charge
of the opposing side (``side_index.charge_k_up``: each opposing position pays ``⌈w × ΔK / SCALE⌉``
and the bankrupt account passes what they pay beyond the deficit on to the fund as dust), then the
haircut ratio over the payers' matured profit (``pro_rata.charge``, capped at its total weight,
shares rounded up, the dust to the fund). ``solver.deficit_socialized`` proves the claim per call
where a socialized loss is last; here two layers read the other traders, and each keeps its target
whatever its shares are, so:

1. **The call's lemma** (z3, exact): the engine's ``resolve(..., alone=True)`` of the book's first
   trader with two candidates (each account the cascade resolves is a call of its own), the
   catalog's own predicate on its records, with every share of both layers a free integer, the
   haircut's total weight a free integer (recorded as the engine's ``haircut_ratio.charge`` is
   called: :func:`weights_recorded`), and every side of a condition that reads a candidate free
   (the opposing open interest, ``deficit_socialized.totals_freed``). So generalized the claim names
   no candidate's number (checked), and the call at any N builds an instance of it.
2. **The step** (``solver.side_once``): each account resolved at most once a step, by the sweep's
   turns (a resolve leaves its account flat, a flat account is neither triggered nor in the cascade,
   no close of another account gives it a position: lemmas on the engine's close and on each turn
   from a free book of three traders); and every entry of a reason the claim reads names the call's
   bankrupt account, one into another trader none (``deficit_once._read_by_others``), so another
   account's conjunct reads nothing of this call. On the whole step z3 did not decide the
   exclusivity (session 21: 2M units a pair undecided); by the turns it costs about 0.65M units.

``deficit_not_covered`` is also the scope of ``solver.side_fund``.

docs/solver-notes.md#percolator-gen-bs-cells-session-21,
docs/solver-notes.md#percolator-gen-bs-remaining-cells-session-22.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import z3

import solvent.rules.haircut_ratio as haircut_ratio
from solvent.properties import catalog
from solvent.rules.arith import sum_
from solvent.rules.bankruptcy import resolve
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.policy import Policy
from solvent.solver import deficit_once, deficit_socialized, side_claims, side_once, waterfall_claims
from solvent.solver.adl_claims import Call
from solvent.solver.bounds import Bounds
from solvent.solver.story import symbolic_book

#: what the all-N verdict assumes of the engine (``Scope.assumes``)
ASSUMES = (
    f"{side_once.SAID}; and its resolve reads the other traders only through the per-lot charge's shares and the "
    "haircut's shares and their total weight, whose sums less the dust it passes on to the fund are the layers' "
    "targets (shares rounded up)"
)
#: what the all-N ``waterfall-order`` verdict assumes of the engine (``Scope.assumes``)
WATERFALL_ASSUMES = (
    f"{side_once.SAID}; and each call's layers read the other traders only through the per-lot charge's open "
    "interest and shares and the haircut's shares and total weight"
)
#: the all-N ``waterfall-order`` verdict's method
WATERFALL_METHOD = (
    "compositional, all N, any K: the claim of one bankrupt account's waterfall call (the engine's resolve, one call "
    "of the cascade), proved by z3 on a book of three traders with every number free, the book before the step free, "
    "each share of the per-lot charge and of the haircut free and the open interest and the haircut's total weight "
    f"free, so it names no other trader; the step's claim the conjunction of its calls'; assumes {WATERFALL_ASSUMES}"
)
#: Gen B's waterfall, in order (rules/presets/percolator-gen-b.toml)
LAYERS = ("insurance_fund", "socialized_loss", "haircut_ratio")
#: the prefix of the call's free numbers: the shares of both pro-rata layers, the haircut's total weight
FREE = "dcb."
#: the haircut calls' weights, where :func:`weights_recorded` records them
_RECORDED: list[list[Any]] = []


def deficit_not_covered(policy: Policy, bounds: Bounds) -> str | None:
    """Why the per-call argument for ``deficit-charged-once`` does not apply (None where it does): Gen
    B's waterfall (a fund, the per-lot charge of the opposing side, the haircut ratio), shares rounded
    up, one market, no asset, no isolated position, no final settlement."""
    if not side_claims.applies(policy) or tuple(layer.kind for layer in policy.deficit) != LAYERS:
        return "not percolator Gen B's waterfall (fund, per-lot charge of the opposing side, haircut ratio)"
    if policy.rounding.pro_rata.value != "up_dust_to_insurance_fund" or policy.rounding.side_index.value != "k_up":
        return "its shares are not rounded up with the dust to the fund"
    if (beyond := bounds.beyond_one_plain_market()) is not None:
        return beyond
    return None


@contextmanager
def weights_recorded() -> Iterator[list[Any]]:
    """Within the block, the weights each haircut call charges by are appended to the list yielded
    (the engine's ``haircut_ratio.charge`` called as before: its terms are the engine's)."""
    seen: list[Any] = []
    charge = haircut_ratio.charge

    def recorded(ctx: Ctx, rounding: Any, weights: list[tuple[str, Any]], *args: Any, **kwargs: Any) -> Any:
        seen.append(sum_(w for _, w in weights))  # pro_rata.charge's total_weight, the same term
        return charge(ctx, rounding, weights, *args, **kwargs)

    haircut_ratio.charge = recorded
    try:
        yield seen
    finally:
        haircut_ratio.charge = charge


def deficit_question(policy: Policy, bounds: Bounds) -> tuple[Call, list[Any], Any]:
    """``(call, premise, claim)``: the catalog's ``deficit-charged-once`` on one resolve of the book's
    first trader (``alone``: each account the cascade resolves is a call of its own) on a free book of
    three traders, with every share of the per-lot charge and of the haircut a free integer, the
    haircut's total weight a free integer (what reads the payers' profits), and every side of a
    condition that reads a candidate's number free (the opposing open interest,
    ``deficit_socialized.totals_freed``)."""
    return freed_question(policy, bounds, deficit_once.CLAIM)


def freed_question(
    policy: Policy, bounds: Bounds, claim_id: str, before: Any = None, *, flat: bool = False
) -> tuple[Call, list[Any], Any]:
    """:func:`deficit_question` for the catalog's ``claim_id``; ``before``: the view's book before the
    step (``waterfall-order`` reads the fund's balance there: a second free book, whatever the step did
    before this call). ``flat``: the write-off's call instead (``bankruptcy.write_off_turn``:
    ``resolve(..., flat=True, alone=True)`` of a trader holding no position, premise size 0)."""
    book, _ = symbolic_book(waterfall_claims.shape(bounds))
    bankrupt = book.traders[0].name
    with weights_recorded() as totals:
        out = resolve(policy, Ctx(book), bankrupt, flat=flat, alone=True)
    what = "write-off" if flat else "resolve"
    call = Call(f"{bankrupt}'s {what}, {waterfall_claims.CANDIDATES} candidates", book, out, (bankrupt,))
    view = call.view(policy) if before is None else attrs.evolve(call.view(policy), before=before)
    claim = catalog.get(claim_id).holds(view)
    claim = z3.BoolVal(claim) if type(claim) is bool else claim
    shares = [e.item.amount_quote for e in out.entries if e.item.reason in (Reason.SOCIALIZED_LOSS, Reason.HAIRCUT)]
    pairs = [(x, z3.Int(f"{FREE}share{k}")) for k, x in enumerate(shares) if z3.is_expr(x)]
    claim = z3.substitute(claim, *pairs) if pairs else claim
    # the total as the claim now holds it: its shares' terms already free
    freed = [z3.substitute(t, *pairs) if pairs else t for t in totals if z3.is_expr(t)]
    weights = [(t, z3.Int(f"{FREE}weight{k}")) for k, t in enumerate(freed)]
    claim = z3.substitute(claim, *weights) if weights else claim
    premise = [book.market.mark_quote >= 1]
    if flat:
        premise.append(book.account(bankrupt).size_lots == 0)
    return call, premise, deficit_socialized.totals_freed(call, claim)


def _call_lemma(
    policy: Policy,
    bounds: Bounds,
    valid: Any,
    fail: Callable[[str], None],
    claim_id: str,
    before: Any = None,
    *,
    flat: bool = False,
) -> str:
    """The claim ``claim_id`` of one resolve (``flat``: of the write-off's), freed
    (:func:`freed_question`), proved by ``valid``; ``fail`` where Gen B's argument does not apply or the
    freed claim still names a candidate."""
    reason = deficit_not_covered(policy, bounds)
    if reason is not None:
        fail(reason)
    call, premise, claim = freed_question(policy, bounds, claim_id, before, flat=flat)
    stray = waterfall_claims.strangers(call, claim)
    if stray:
        fail(f"{call.label}: the claim reads the candidates' numbers ({', '.join(stray[:4])})")
    return valid(
        f"{claim_id} of {call.label} ({'the write-off at the end of a turn' if flat else 'one call of the cascade'}), "
        "every number free"
        + (", the book before the step free" if before is not None else "")
        + ", each share of the per-lot charge and of the haircut free, the haircut's total weight and the opposing "
        "open interest free",
        premise,
        claim,
        exact=True,
    )


def argument(policy: Policy, bounds: Bounds, valid: Any, fail: Callable[[str], None]) -> list[str]:
    """The all-N argument for ``deficit-charged-once`` on Gen B (see the module): the lemmas' names,
    each proved by ``valid`` (exact z3), or ``fail`` where the argument does not apply."""
    lemmas = [_call_lemma(policy, bounds, valid, fail, deficit_once.CLAIM, flat=flat) for flat in _CALLS]
    lemmas += side_once.at_most_once(policy, bounds, side_once.bankrupts, valid, fail, "resolutions")
    book, _ = symbolic_book(attrs.evolve(bounds, accounts=side_once.STEP_TRADERS, events=1))
    first = book.traders[0].name
    for flat in _CALLS:
        out = resolve(policy, Ctx(book), first, flat=flat, alone=True)
        label = f"{first}'s {'write-off' if flat else 'resolve'}"
        deficit_once._read_by_others(label, out, {first}, {a.name for a in book.traders}, fail)
    lemmas.append(
        "every waterfall entry of a call (a resolve, a write-off) names its bankrupt account, none into another "
        "trader (checked on one call of each at three traders); the call at any N: its claim, each share, the total "
        "weight and the open interest free, names no candidate, so the call at any number of payers is an instance "
        "of it"
    )
    return lemmas


#: the two calls of the waterfall a Gen B step makes: a resolve (the sweep's, the cascade's) and the
#: write-off's (``flat``, ``bankruptcy.write_off_turn``)
_CALLS = (False, True)


def waterfall_argument(policy: Policy, bounds: Bounds, valid: Any, fail: Callable[[str], None]) -> list[str]:
    """The all-N argument for ``waterfall-order`` on Gen B: the claim of one resolve (``alone``) seen
    from a free book before the step, freed as :func:`deficit_question` frees its claim, and each
    account's waterfall records one call's a step (``solver.side_once`` on the runs of its records)."""
    before, _ = symbolic_book(waterfall_claims.shape(bounds), prefix=f"{waterfall_claims.FREE}before.")
    lemmas = [_call_lemma(policy, bounds, valid, fail, waterfall_claims.CLAIM, before, flat=flat) for flat in _CALLS]
    lemmas += side_once.at_most_once(policy, bounds, side_once.runs, valid, fail, "waterfall calls")
    lemmas.append(
        "the step: each account's records are its one call's, and the claim pairs records of one account; the call's "
        "claim, its shares, total weight and open interest free, names no candidate, so it holds at any N"
    )
    return lemmas

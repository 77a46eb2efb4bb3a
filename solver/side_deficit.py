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
2. **The step** (``deficit_once.step_lemmas``): each account resolved at most once a step, and every
   entry of a reason the claim reads names the call's bankrupt account. Not proved: on Gen B's step at
   three traders z3 does not decide that an account's own turn and a cascade's resolution of it are
   exclusive (10M units undecided; pair by pair 2M each undecided), so the argument is not wired and
   the call's lemma (1) stands alone, tested (docs/solver-notes.md#percolator-gen-bs-cells-session-21).
   ``deficit_not_covered`` is also the scope of ``solver.side_fund``.

docs/solver-notes.md#percolator-gen-bs-cells-session-21.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import z3

import solvent.rules.haircut_ratio as haircut_ratio
from solvent.properties import catalog
from solvent.rules.arith import sum_
from solvent.rules.bankruptcy import resolve
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.policy import Policy
from solvent.solver import deficit_once, deficit_socialized, side_claims, waterfall_claims
from solvent.solver.adl_claims import Call
from solvent.solver.bounds import Bounds
from solvent.solver.story import symbolic_book

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
    if bounds.markets != 1 or bounds.isolated or bounds.assets or "final-settlement" in bounds.event_kinds:
        return "one market, no isolated positions, no collateral assets and no final settlement only"
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
    book, _ = symbolic_book(waterfall_claims.shape(bounds))
    bankrupt = book.traders[0].name
    with weights_recorded() as totals:
        out = resolve(policy, Ctx(book), bankrupt, alone=True)
    call = Call(f"{bankrupt}'s resolve, {waterfall_claims.CANDIDATES} candidates", book, out, (bankrupt,))
    claim = catalog.get(deficit_once.CLAIM).holds(call.view(policy))
    claim = z3.BoolVal(claim) if type(claim) is bool else claim
    shares = [e.item.amount_quote for e in out.entries if e.item.reason in (Reason.SOCIALIZED_LOSS, Reason.HAIRCUT)]
    pairs = [(x, z3.Int(f"{FREE}share{k}")) for k, x in enumerate(shares) if z3.is_expr(x)]
    claim = z3.substitute(claim, *pairs) if pairs else claim
    # the total as the claim now holds it: its shares' terms already free
    freed = [z3.substitute(t, *pairs) if pairs else t for t in totals if z3.is_expr(t)]
    weights = [(t, z3.Int(f"{FREE}weight{k}")) for k, t in enumerate(freed)]
    claim = z3.substitute(claim, *weights) if weights else claim
    return call, [book.market.mark_quote >= 1], deficit_socialized.totals_freed(call, claim)

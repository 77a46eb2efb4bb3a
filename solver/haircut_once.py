"""``deficit-charged-once`` for every N on percolator Gen A, by a lemma on one resolve.

Gen A's waterfall is one layer, the haircut ratio (rules/presets/percolator-gen-a.toml): a bankrupt
account's deficit is charged to the payers' junior profit by ``pro_rata.charge`` in the exact mode
(``exact_in_order``: shares floored, the remainder a quantum each to the first payers in book order
with a fraction), capped at the payers' total weight; no dust transfer. ``solver.side_deficit`` proves
the claim per call on Gen B, where each layer's shares round up and the dust carries the rounding, so
the layer keeps its target whatever its shares are; here the shares carry the target exactly, which
is the exact split's lemma (``solver.exact_split_lemma``: ``Σ share_i = T`` over ``k`` payers, every
number free, proved in steps for each ``k`` a question holds). So:

1. **The call's lemma** (z3, exact): the engine's ``resolve`` of the book's first trader with two
   candidates and the book's liquidity account (three payers), the catalog's own predicate on its
   records, with every haircut share a free integer, the payers' total weight a free integer
   (recorded as the engine's ``haircut_ratio.charge`` is called: ``side_deficit.weights_recorded``),
   the split's target ``T`` as the engine's ``pro_rata.charge`` computes it from them (recorded as
   it is handed to the exact split: :func:`targets_recorded`), every side of a condition that reads
   a candidate free (``deficit_socialized.totals_freed``), and the premise ``Σ shares = T`` (the
   exact split's lemma's conclusion). So generalized the claim names no candidate's number (checked),
   and the call at any N builds an instance of it: its shares sum to ``T`` by the lemma at that N.
2. **The step** (``deficit_once.step_lemmas``, on the step at three traders): each account's
   ``Bankrupt`` outcomes pairwise exclusive (Gen A has no cascade: a step resolves an account in its
   own turn), and every entry of a reason the claim reads names the call's bankrupt account (a
   payer's share is paid *to* it), so another account's conjunct reads nothing of this call.

What the verdict assumes (:data:`ASSUMES`): the step's exclusivity as checked at three traders, as
every per-call argument's; and the exact split's sum for the number of payers of the step, which
the exact split's lemma proves for each number it is asked at (here at the call's three payers and
at N's; 8 payers 112,290 units), not for every number at once (as ``haircut_payer.ASSUMES`` says of
Gen A's payer claims).

docs/solver-notes.md#percolator-gen-as-deficit-charged-once-for-every-n-session-23.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import z3

import solvent.rules.pro_rata as pro_rata
from solvent.properties import catalog
from solvent.rules.bankruptcy import resolve
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.policy import Policy
from solvent.rules.rounding import ProRata
from solvent.rules.waterfall import HaircutRatio
from solvent.solver import deficit_once, deficit_socialized, side_deficit, waterfall_claims
from solvent.solver.adl_claims import Call
from solvent.solver.bounds import Bounds
from solvent.solver.exact_split_lemma import exact_lemma
from solvent.solver.story import symbolic_book
from solvent.solver.verdicts import QueryStats, Verdict

#: what the all-N verdict assumes of the engine (``Scope.assumes``)
ASSUMES = (
    "each bankrupt account is resolved at most once a step (checked on the step at three traders), and its resolve "
    "reads the other traders only through the haircut's shares and their total weight, whose shares sum to the "
    "split's target (the exact split's lemma, proved for each number of payers a question holds)"
)
#: the all-N verdict's method
METHOD = (
    "compositional, all N, any K: the claim of one bankrupt account's resolve, proved by z3 on a book of two "
    "candidates and the book's account with every number free, each haircut share free with their sum the split's "
    "target and the payers' total weight free, so it names no other trader; the step's claim the conjunction of its "
    f"calls'; assumes {ASSUMES}"
)
#: the prefix of the call's free numbers: the haircut's shares and total weight
FREE = "dch."
#: the payers of the call's lemma: its two candidates and the book's liquidity account
CALL_PAYERS = waterfall_claims.CANDIDATES + 1


def not_covered(policy: Policy, bounds: Bounds) -> str | None:
    """Why the argument does not apply (None where it does): percolator Gen A's waterfall, the haircut
    ratio alone, its split exact (``exact_in_order``); one market, no asset, no isolated position, no
    final settlement."""
    if [type(layer) for layer in policy.deficit] != [HaircutRatio]:
        return "not percolator Gen A's waterfall (the haircut ratio alone)"
    if policy.rounding.pro_rata is not ProRata.EXACT_IN_ORDER:
        return "its haircut's split is not exact in order"
    if (beyond := bounds.beyond_one_plain_market()) is not None:
        return beyond
    return None


@contextmanager
def targets_recorded() -> Iterator[list[Any]]:
    """Within the block, each target the engine's ``pro_rata.charge`` hands its exact split is appended
    to the list yielded (``pro_rata._exact_in_order`` called as before: its terms are the engine's)."""
    seen: list[Any] = []
    split = pro_rata._exact_in_order

    def recorded(ctx: Ctx, weights: Any, bankrupt: str, target: Any, total_weight: Any, reason: Reason) -> Any:
        seen.append(target)
        return split(ctx, weights, bankrupt, target, total_weight, reason)

    pro_rata._exact_in_order = recorded
    try:
        yield seen
    finally:
        pro_rata._exact_in_order = split


def question(policy: Policy, bounds: Bounds) -> tuple[Call, list[Any], Any]:
    """``(call, premise, claim)``: the catalog's ``deficit-charged-once`` on one resolve of the book's
    first trader on a free book of three traders, each haircut share and the total weight free, the
    premise the mark ≥ 1 and the shares' sum the split's target (each freed alike)."""
    book, _ = symbolic_book(waterfall_claims.shape(bounds))
    bankrupt = book.traders[0].name
    with side_deficit.weights_recorded() as totals, targets_recorded() as targets:
        out = resolve(policy, Ctx(book), bankrupt)
    call = Call(f"{bankrupt}'s resolve, {waterfall_claims.CANDIDATES} candidates", book, out, (bankrupt,))
    claim = catalog.get(deficit_once.CLAIM).holds(call.view(policy))
    claim = z3.BoolVal(claim) if type(claim) is bool else claim
    shares = [e.item.amount_quote for e in out.entries if e.item.reason is Reason.HAIRCUT]
    pairs = [(x, z3.Int(f"{FREE}share{k}")) for k, x in enumerate(shares) if z3.is_expr(x)]
    weights = [(t, z3.Int(f"{FREE}weight{k}")) for k, t in enumerate(_freed(totals, pairs, []))]

    def freed(term: Any) -> Any:
        return deficit_socialized.totals_freed(call, _freed([term], pairs, weights)[0])

    premise = [book.market.mark_quote >= 1]
    if pairs:
        [target] = targets  # one split a call: the haircut's
        premise.append(z3.Sum([v for _, v in pairs]) == freed(target))
    return call, premise, freed(claim)


def _freed(terms: list[Any], pairs: list[Any], weights: list[Any]) -> list[Any]:
    """Each z3 term of ``terms`` with ``pairs`` then ``weights`` substituted (a term that is not z3 kept)."""
    out = []
    for t in terms:
        if z3.is_expr(t):
            t = z3.substitute(t, *pairs) if pairs else t
            t = z3.substitute(t, *weights) if weights else t
        out.append(t)
    return out


def argument(
    policy: Policy, bounds: Bounds, valid: Any, fail: Callable[[str], None], record: Callable[[QueryStats], None]
) -> list[str]:
    """The all-N argument for ``deficit-charged-once`` on Gen A (see the module): the lemmas' names,
    each proved by ``valid`` (exact z3), or ``fail`` where the argument does not apply. First the exact
    split's lemma at the call's payers and at the question's (``record``: its units, counted in the
    question's whatever it answered)."""
    reason = not_covered(policy, bounds)
    if reason is not None:
        fail(reason)
    lemmas = []
    for payers in sorted({CALL_PAYERS, max(CALL_PAYERS, bounds.accounts)}):
        split = exact_lemma(policy.rounding, payers, capped=True)
        record(split.stats)
        if split.verdict is not Verdict.PROVED:
            fail(f"{split.name}: {split.detail}")
        lemmas.append(f"{split.name}: proved ({split.units:,} units)")
    call, premise, claim = question(policy, bounds)
    stray = waterfall_claims.strangers(call, claim) + waterfall_claims.strangers(call, z3.And(*premise))
    if stray:
        fail(f"{call.label}: the claim reads the candidates' numbers ({', '.join(stray[:4])})")
    lemmas.append(
        valid(
            f"{deficit_once.CLAIM} of {call.label}, every number free, each haircut share free with their sum the "
            "split's target, the payers' total weight free",
            premise,
            claim,
            exact=True,
        )
    )
    lemmas += deficit_once.step_lemmas(policy, bounds, valid, fail)
    lemmas.append(
        "the call at any N: its claim, each share and the payers' total weight free, the shares' sum the split's "
        "target (the exact split's lemma at that number of payers), names no candidate, so the call at any number "
        "of payers is an instance of it"
    )
    return lemmas


__all__ = ["ASSUMES", "CALL_PAYERS", "METHOD", "argument", "not_covered", "question", "targets_recorded"]

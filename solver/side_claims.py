"""Percolator Gen B's claims by its side indices: what a per-lot charge of the opposing side needs.

Gen B (rules/side_index.py, docs/venues.md#percolator-side-indices) closes a liquidated position
against the opposing side and charges a deficit the fund left per opposing lot; only where no
opposing position exists does the deficit reach the haircut ratio (matured profit). A flat trader
holds no lot, so the per-lot charge gives it ``⌈0 × ΔK / SCALE⌉ = 0``; but its matured profit is
the haircut's weight. On a reachable book the haircut is never reached in one market: open
interest is balanced (Σ size = 0, proved for every N and K: ``open-interest-balance``) and only
traders and the order book hold positions, so a bankrupt account's opposing lots add up to at least
its own. A turn checked from fresh system accounts must be told so (:func:`balanced`), or it
builds a book no event reaches (the order book on the bankrupt's side, nobody opposite).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import z3

import solvent.rules.haircut_ratio as haircut_ratio
from solvent.properties import catalog
from solvent.rules.arith import sum_
from solvent.rules.bankruptcy import resolve
from solvent.rules.book import Book
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.policy import Policy
from solvent.rules.side_index import shrinks_opposing_side
from solvent.rules.wellformed import holders
from solvent.solver import deficit_once, deficit_socialized, waterfall_claims
from solvent.solver.adl_claims import Call
from solvent.solver.bounds import Bounds
from solvent.solver.story import symbolic_book


#: what the flat-trader lemma's method line adds on such a policy
SAID = (
    "each turn from a book with open interest balanced and only traders and the order book holding positions "
    "(every well-formed book; each phase moves positions by its fills alone, open-interest-balance's frame, and "
    "every fill of the run names a trader or the order book), so a bankrupt account's opposing lots are never "
    "none and the per-lot charge, ⌈0 × ΔK⌉ = 0 on a flat trader, takes the whole deficit"
)


def applies(policy: Policy) -> bool:
    """Whether the policy charges a deficit per lot of the opposing side (percolator Gen B)."""
    return shrinks_opposing_side(policy)


def balanced(policy: Policy, book: Book) -> list[Any]:
    """What every reachable book holds, at any turn's start: open interest balanced in each market
    (``wellformed``'s "open interest balanced", kept by every phase: each moves positions by fills
    alone) and only the policy's holders holding a position ("only traders and the order book ...")."""
    out = []
    for i in range(len(book.markets)):
        sizes = [a.positions[i].size_lots for a in book.accounts]
        out.append(sum_(sizes) == 0)
        roles = holders(policy)
        out += [a.positions[i].size_lots == 0 for a in book.accounts if a.role not in roles]
    return [c for c in out if c is not True]


def holders_only(policy: Policy, ctx: Any, fail: Any) -> None:
    """Every fill of the run names a trader or a holder (no other account is handed a position), so
    each phase keeps "only traders and the order book hold positions" as it keeps open interest
    balanced (its position moves are its fills); ``fail(reason)`` where a fill names another."""
    roles = holders(policy)
    allowed = {a.name for a in ctx.book.accounts if a.role in roles}
    stray = sorted({n for g in ctx.fills for n in (g.item.buyer, g.item.seller)} - allowed)
    if stray:
        fail(f"a fill hands a position to {', '.join(stray)}, which the policy's holders do not include")


# --- deficit-charged-once: one resolve of Gen B's waterfall ---------------------------------------

#: Gen B's waterfall, in order (rules/presets/percolator-gen-b.toml)
LAYERS = ("insurance_fund", "socialized_loss", "haircut_ratio")
#: the prefix of the call's free numbers: the shares of both pro-rata layers, the haircut's total weight
FREE = "dcb."
#: what the all-N verdict assumes of the engine (``Scope.assumes``)
ASSUMES = (
    "each bankrupt account is resolved at most once a step (its own turn or the cascade's; checked on the step "
    "at three traders), and its resolve reads the other traders only through the per-lot charge's shares and the "
    "opposing open interest, and the haircut's shares and total weight; what each layer keeps of its shares is "
    "its target, the dust passed on to the fund (shares rounded up)"
)
#: the haircut calls' weights, where :func:`weights_recorded` records them
_RECORDED: list[list[Any]] = []


def deficit_not_covered(policy: Policy, bounds: Bounds) -> str | None:
    """Why the per-call argument for ``deficit-charged-once`` does not apply (None where it does): Gen
    B's waterfall (a fund, the per-lot charge of the opposing side, the haircut ratio), shares rounded
    up, one market, no asset, no isolated position, no final settlement."""
    if not applies(policy) or tuple(layer.kind for layer in policy.deficit) != LAYERS:
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


def deficit_argument(
    policy: Policy, bounds: Bounds, valid: Callable[..., str], fail: Callable[[str], None]
) -> list[str]:
    """The lemmas of ``deficit-charged-once`` for every N on Gen B (each proved by ``valid``, exact),
    or ``fail`` where the argument does not apply."""
    reason = deficit_not_covered(policy, bounds)
    if reason is not None:
        fail(reason)
    call, premise, claim = deficit_question(policy, bounds)
    stray = waterfall_claims.strangers(call, claim)
    if stray:
        fail(f"{call.label}: the claim reads the candidates' numbers ({', '.join(stray[:4])})")
    lemmas = [
        valid(
            f"{deficit_once.CLAIM} of {call.label} (one call of the cascade), every number free, each share of the "
            "per-lot charge and of the haircut free, the opposing open interest and the haircut's total weight free",
            premise,
            claim,
            exact=True,
        )
    ]
    lemmas += deficit_once.step_lemmas(policy, bounds, valid, fail, alone=True)
    lemmas.append(
        "the call at any N: its claim, each share, the opposing open interest and the haircut's total weight free, "
        "names no candidate, so the call at any number of payers is an instance of it"
    )
    return lemmas

"""The opposing side's per-lot charge and shrink: percolator Gen B's lazy side indices, eagerly.

Percolator Gen B (spec v11.31 §5, "Lazy A/K Side Indices"; docs/venues.md#percolator-side-indices)
keeps two accumulators per side of the book: ``A`` (the share of each position that survives,
scaled by ``ADL_ONE = 10^6``) and ``K`` (PnL per unit of position, scaled by ``A × POS_SCALE``).
A position reads them only when its account is next touched (§5.3 ``settle_side_effects``). A
liquidation of ``q`` units from one side calls ``enqueue_adl`` (§5.6, §9.4 step 12, §9.5 step
11): the position is closed "synthetically" at the oracle price (§9.5 step 5), so nobody takes it
over; the opposing side's open interest falls by ``q`` (``A_opp := ⌊A_old × OI_post / OI⌋``, every
opposing position shrinks pro rata), and a deficit ``D_rem`` the insurance fund left is written
into the opposing side's ``K``: ``ΔK = ⌈D_rem × A_old × POS_SCALE / OI⌉`` (step 7), which each
opposing position reads as a loss of ``⌈|basis| × ΔK / (a_basis × POS_SCALE)⌉`` (§5.3 and §4.8:
the floor of a negative K difference). §5.1 states the indices as an eager event law
(``q' = α q``, ``p' = p + β q``); Solvent settles every account at every event, so it applies that
law eagerly, with percolator's roundings for an account attached at the side's current ``A``
(``a_basis = A_old``, as every account is after a trade, §4.6):

    OI       = Σ |s_i| over the opposing positions (the traders', and the order book's, which stands
               for the rest of the market), before the close
    shrink   one split of the q lots over the opposing holders, weights |s_i|, exact in order
             (``ProRata.EXACT_IN_ORDER``, ``pro_rata.exact_split``): each gives up taken_i =
             ⌊|s_i| × q / OI⌋ lots, one more for each of the first holders in book order whose share
             had a fraction until the lots add up to q (the order book's is the rest: its own share
             where OI ≥ q, all q where no position is opposite), at the mark (no cash: settle-to-mark).
             A solvent liquidation's close shrinks the opposing side the same way (§9.4 step 12, §9.5
             step 11 with D = 0), its penalty charged as any liquidation's (``liquidation.close_step``)
    charge   in proportion to the lots each gives up (taken_i, Σ taken_i = q), ``rounding.side_index``:
               k_up   ΔK = ⌈D × SCALE / q⌉ with SCALE = ADL_ONE = 10^6, and each holder pays
                      ⌈taken_i × ΔK / SCALE⌉ (percolator's two roundings, §5.6 step 7 and §5.3, for a
                      lot of one base unit, read per lot taken: with OI and the basis in q-units,
                      ``POS_SCALE`` = 10^6 of them a base unit, ⌈D × A × POS_SCALE / OI_q⌉ is
                      ⌈D × A / OI⌉ exactly, and ⌈|b_q| × ΔK / (A × POS_SCALE)⌉ is ⌈|s| × ΔK / A⌉)
               exact  D split by the lots taken, each share D × taken_i / q rounded per
                      ``rounding.pro_rata`` (``pro_rata.charge``)
             what the charges add up to beyond D (under one quantum per payer, and with ``k_up``
             one more where ΔK rounded) is the insurance fund's (``PRO_RATA_DUST``); percolator
             leaves it in the vault as junior slack (v16.9 requirement 14: the rounding residue
             has an explicit sink)

What percolator does: one factor for every opposing position, ``A_opp := ⌊A_old × OI_post / OI⌋``,
each position then ``⌊|basis| × A / a_basis⌋`` in q-units (10^-6 of a base unit), and the deficit
``D × |s| / OI`` to each (§5.6): the shrink and the charge are the same share ``|s| / OI`` of ``q`` and
of ``D``, so a position pays for exactly what it gives up. What Solvent does: positions are whole lots
(base units), so the shrink must round; it is one exact split of the q lots, and the charge follows
the lots taken: in exact arithmetic percolator's rule (``D × (q × |s| / OI) / q = D × |s| / OI``),
under whole lots a payer pays only for lots it gives up, each at the deficit per lot (at most the move
per lot for an account solvent at the previous mark). Why (the lead's decision, session 22,
docs/model.md#percolator-gen-bs-whole-lot-shrink-the-charge-follows-the-lots-taken-session-22):
the rule before (each trader gives up ⌊|s_i| × q / OI⌋, the order book the rest, and D charged per
lot of the side as it stood) charged a trader for a lot it kept and again when a later close in the
cascade took that lot, leaving it flat below zero where percolator would not (helper F's stories,
docs/solver-notes.md#a-finding-the-payer-claims-are-false-on-gen-b-by-the-whole-lot-shrink:
tests/solver/test_gen_b_payer_story.py keeps that rule as a mutant). Rejected: rounding each
trader's shrink up (a one-lot close flattens every one-lot position opposite) and finer lots alone
(the claims still fail by a quantum). Not modelled: the lots below one base unit percolator's
positions keep (here the split's rounding moves them between holders, at most one lot each), and
``A``'s truncation below one q-unit, its "phantom dust" (§4.7, §5.6 step 12). With no lots
to close (a flat account's loan, q = 0) or no opposing position (OI = 0, which a book whose open
interest balances never has; the order book then takes the lots), nothing is charged and the deficit
passes to the next layer (§5.6 steps 4-5: ``record_uninsured_protocol_loss``, the haircut ``h``).
The order book's lots in the charge are ``max(q − Σ traders' shares, 0)``, the same number (the
split's shares add up to q), written so a transfer's sign reads without that sum.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from itertools import islice
from typing import Any

from solvent.rules.adl import _opposite
from solvent.rules.arith import Rounding, abs_, div, max_, safe_divisor, sum_, when
from solvent.rules.book import Book, Role
from solvent.rules.ledger import Ctx, Reason, system
from solvent.rules.positions import close_against_once
from solvent.rules.pro_rata import charge, exact_split, payers
from solvent.rules.recording import Recorder
from solvent.rules.rounding import RoundingRule, SideIndex
from solvent.rules.waterfall import Over

#: percolator's ``ADL_ONE`` (spec v11.31 §1.3: ``A`` at a fresh side): ``K`` per base unit (a lot)
#: is kept in millionths of a quantum for an account attached at the side's current ``A``.
SCALE = 1_000_000


def opposing_lots(book: Book, bankrupt: str) -> list[tuple[str, Any]]:
    """Each payer's lots opposite to ``bankrupt``'s position (0 for a position on its side or none).

    A bankruptcy reads them twice on one book, the shrink (:func:`close_against_side`) and the
    charge (:func:`charge_per_lot`, on the book before the shrink): the last answer is kept with
    the book it was read on (that very object, held so its identity is not another's) and given
    again (percolator Gen B's N = 4 build, 5% of its steps)."""
    last = _LAST[0]
    if last is not None and last[0] is book and last[1] == bankrupt:
        return list(last[2])
    size = book.account(bankrupt).size_lots
    lots = [(a.name, when(_opposite(size, a.size_lots), abs_(a.size_lots))) for a in payers(book, bankrupt)]
    _LAST[0] = (book, bankrupt, tuple(lots))
    return lots


#: the last (book, bankrupt, opposing lots) :func:`opposing_lots` read
_LAST: list[tuple[Book, str, tuple[tuple[str, Any], ...]] | None] = [None]


def shrinks_opposing_side(policy: Any) -> bool:
    """Whether the policy closes a liquidated position against the opposing side (a socialized loss
    over ``opposing_side``): a bankrupt one before its waterfall, a solvent one in its close."""
    return any(getattr(layer, "over", None) is Over.OPPOSING_SIDE for layer in policy.deficit)


def lots_taken(book: Book, name: str, lots: Any) -> list[tuple[str, Any]]:
    """The lots closing ``lots`` of ``name``'s position takes from each opposing holder (module
    docstring): ``ProRata.EXACT_IN_ORDER``'s split of ``q = lots`` by ``|s_i|`` over the traders in
    book order (``pro_rata.exact_split``), the order book the rest, so the lots add up to ``q``. On a
    book whose open interest balances (``Σ |s_i| ≥ q`` opposite) the rest is the order book's own
    share of the split, each holder giving ``⌊|s_i|·q/OI⌋`` or ``⌈|s_i|·q/OI⌉``, never more than it
    holds; with no opposing position (``OI = 0``) the order book takes all ``q``, as before.

    The close (:func:`close_against_side`) and the charge (:func:`charge_per_lot`, on the book before
    the close, whose ``q`` is the bankrupt's whole position) read it on one book: the last answer is
    kept with the book it was read on and given again for the same ``q`` (percolator Gen B's build)."""
    kept = _kept(book, name, lots)
    if kept is not None:
        return kept
    weights = opposing_lots(book, name)
    oi = sum_(w for _, w in weights)
    liquidity = system(book, Role.LIQUIDITY)
    taken: list[tuple[str, Any]] = []
    given: Any = 0
    for other, share in _but_the_book_last(exact_split(weights, lots, oi), weights, liquidity):
        if other == liquidity:
            continue
        taken.append((other, share))
        given = given + share
    taken.append((liquidity, lots - given))
    _TAKEN[0] = (book, name, lots, tuple(taken))
    return taken


def _but_the_book_last(split: Any, weights: list[tuple[str, Any]], liquidity: str) -> Any:
    """The split's shares but the order book's where it is last, as in every book (its share, the
    rest, is then not built: fewer terms for z3); the split itself where it is not."""
    if weights and weights[-1][0] == liquidity:
        return islice(split, len(weights) - 1)
    return split


def _kept(book: Book, name: str, lots: Any) -> list[tuple[str, Any]] | None:
    """:func:`lots_taken`'s last answer where it was read on this very book for ``name`` and ``lots``."""
    last = _TAKEN[0]
    if last is None or last[0] is not book or last[1] != name or not _same(last[2], lots):
        return None
    return list(last[3])


def _same(a: Any, b: Any) -> bool:
    """Whether two numbers are the same: equal integers, or one z3 term (structurally)."""
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    eq = getattr(a, "eq", None)
    return eq is not None and not isinstance(b, int) and bool(eq(b))


#: the last (book, name, lots, lots taken) :func:`lots_taken` read
_TAKEN: list[tuple[Book, str, Any, tuple[tuple[str, Any], ...]] | None] = [None]


def close_against_side(ctx: Ctx, name: str, lots: Any, price: Any) -> Ctx:
    """Close ``lots`` of ``name``'s position at ``price`` against the opposing side pro rata: each
    opposing holder gives up its lots of :func:`lots_taken` (the exact split of ``lots`` by ``|s_i|``,
    the order book the rest), the order book last."""
    for other, d in lots_taken(ctx.book, name, lots):
        ctx = close_against_once(ctx, name, other, d, price, Reason.LIQUIDATION_SLIPPAGE)
    return ctx


#: one call of :func:`charge_per_lot`: the book at the bankruptcy, the bankrupt account, the deficit it
#: was given and the entries it wrote
Charge = tuple[Book, str, Any, tuple[Any, ...]]
#: where set, each call of :func:`charge_per_lot` appends its terms (:func:`charges_recorded`)
_charges = Recorder("solvent_side_charges")
#: where set, each ``k_up`` charge appends its ``ΔK`` (:func:`delta_k_recorded`)
_delta_k = Recorder("solvent_side_delta_k")


def charges_recorded() -> AbstractContextManager[list[Charge]]:
    """Within the block, each call of :func:`charge_per_lot` appends to the list yielded ``(book at the
    bankruptcy, bankrupt, D, its entries)`` (the engine's own terms; the step is unchanged, the list only
    appended to): ``solver.side_payer`` instantiates its per-lot lemma on them."""
    return _charges.recorded()


def delta_k_recorded() -> AbstractContextManager[list[Any]]:
    """Within the block, each ``k_up`` charge (:func:`charge_k_up`) appends its ``ΔK`` to the list
    yielded, in build order (the engine's own term; the step is unchanged): ``solver.side_payer`` cuts
    its per-lot lemma there."""
    return _delta_k.recorded()


def charge_per_lot(
    ctx: Ctx, rounding: RoundingRule, bankrupt: str, remaining: Any, at_bankruptcy: Book
) -> tuple[Ctx, Any]:
    """Charge ``remaining`` in proportion to the lots each opposing holder gave up when the bankrupt
    position (whole, as it stood at the bankruptcy) closed against the side (:func:`lots_taken`);
    returns (ctx, paid): all of it when the position had lots, else nothing (a flat account's loan)."""
    taken = lots_taken(at_bankruptcy, bankrupt, abs_(at_bankruptcy.account(bankrupt).size_lots))
    given = remaining  # the deficit as the waterfall gave it (what charges_recorded records)
    # §5.6 steps 4-5: with no position opposite the order book takes the lots and no loss, which
    # passes on (unreachable where open interest balances)
    remaining = when(sum_(w for _, w in opposing_lots(at_bankruptcy, bankrupt)) > 0, remaining)
    # the order book's lots, q less the traders' shares, are never below 0 (the split's shares add
    # up to q); said where its charge is built, so a transfer's sign reads it without the sum
    (book, rest), *_ = taken[-1:]
    taken = [*taken[:-1], (book, max_(rest, 0))]
    before = len(ctx.entries)
    if rounding.side_index is SideIndex.EXACT:
        out = charge(ctx, rounding, taken, bankrupt, remaining, capped=False, reason=Reason.SOCIALIZED_LOSS)
    else:
        out = charge_k_up(ctx, taken, bankrupt, remaining)
    _charges.note((at_bankruptcy, bankrupt, given, tuple(out[0].entries[before:])))  # for the solver
    return out


def charge_k_up(ctx: Ctx, weights: list[tuple[str, Any]], bankrupt: str, remaining: Any) -> tuple[Ctx, Any]:
    """``k_up`` (module docstring): ``ΔK = ⌈D × SCALE / OI⌉``, each payer of ``weights`` (its
    opposing lots) pays ``⌈w × ΔK / SCALE⌉``, and what they pay beyond ``D`` goes from the
    bankrupt account to the insurance fund as dust; returns (ctx, paid: ``D`` where ``OI > 0``)."""
    oi = sum_(w for _, w in weights)
    target = when(oi > 0, remaining)
    delta_k = div(target * SCALE, safe_divisor(oi), rounding=Rounding.CEIL)
    _delta_k.note(delta_k)  # for the solver (delta_k_recorded); the step is unchanged
    charged: Any = 0
    for name, w in weights:
        share = div(w * delta_k, SCALE, rounding=Rounding.CEIL)
        ctx = ctx.transfer(name, bankrupt, share, Reason.SOCIALIZED_LOSS)
        charged = charged + share
    ctx = ctx.transfer(bankrupt, ctx.system(Role.INSURANCE_FUND), charged - target, Reason.PRO_RATA_DUST)
    return ctx, target


__all__ = [
    "SCALE",
    "Charge",
    "charge_k_up",
    "charge_per_lot",
    "charges_recorded",
    "close_against_side",
    "delta_k_recorded",
    "lots_taken",
    "opposing_lots",
    "shrinks_opposing_side",
]

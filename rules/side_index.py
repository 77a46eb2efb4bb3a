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
    shrink   each opposing trader gives up ⌊|s_i| × q / OI⌋ lots at the mark; the order book takes
             the rest of the q lots (no cash at the mark: settle-to-mark). A solvent liquidation's
             close shrinks the opposing side the same way (§9.4 step 12, §9.5 step 11 with D = 0),
             its penalty charged as any liquidation's (``liquidation.close_step``)
    charge   ``rounding.side_index``:
               k_up   ΔK = ⌈D × SCALE / OI⌉ with SCALE = ADL_ONE = 10^6, and each opposing
                      position pays ⌈|s_i| × ΔK / SCALE⌉ (percolator's two roundings, §5.6 step 7
                      and §5.3, for a lot of one base unit: with OI and the basis in q-units,
                      ``POS_SCALE`` = 10^6 of them a base unit, ⌈D × A × POS_SCALE / OI_q⌉ is
                      ⌈D × A / OI⌉ exactly, and ⌈|b_q| × ΔK / (A × POS_SCALE)⌉ is ⌈|s| × ΔK / A⌉)
               exact  each pays D × |s_i| / OI rounded per ``rounding.pro_rata`` (``pro_rata.charge``)
             what the charges add up to beyond D (under one quantum per payer, and with ``k_up``
             one more where ΔK rounded) is the insurance fund's (``PRO_RATA_DUST``); percolator
             leaves it in the vault as junior slack (v16.9 requirement 14: the rounding residue
             has an explicit sink)

The shrink's rounding is Solvent's, not percolator's: a position is whole lots (base units), so
what a percolator position would lose below one lot (and ``A``'s truncation below one q-unit, its
"phantom dust", §4.7, §5.6 step 12) stays the order book's to close. With no opposing position (a flat account's loan), nothing is
charged and the deficit passes to the next layer (§5.6 steps 4-5: ``record_uninsured_protocol_loss``,
the haircut ``h``).
"""

from __future__ import annotations

from typing import Any

from solvent.rules.adl import _opposite
from solvent.rules.arith import Rounding, abs_, div, safe_divisor, sum_, when
from solvent.rules.book import Book, Role
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.positions import close_against_once
from solvent.rules.pro_rata import charge, payers
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


def close_against_side(ctx: Ctx, name: str, lots: Any, price: Any) -> Ctx:
    """Close ``lots`` of ``name``'s position at ``price`` against the opposing side pro rata: each
    opposing trader gives up ⌊|s_i| × q / OI⌋ lots, the order book the rest (module docstring)."""
    q = lots
    lots = opposing_lots(ctx.book, name)
    oi = sum_(w for _, w in lots)
    book = ctx.system(Role.LIQUIDITY)
    given: Any = 0
    for other, w in lots:
        if other == book:
            continue
        d = div(w * q, safe_divisor(oi), rounding=Rounding.FLOOR)
        ctx = close_against_once(ctx, name, other, d, price, Reason.LIQUIDATION_SLIPPAGE)
        given = given + d
    return close_against_once(ctx, name, book, q - given, price, Reason.LIQUIDATION_SLIPPAGE)


def charge_per_lot(
    ctx: Ctx, rounding: RoundingRule, bankrupt: str, remaining: Any, at_bankruptcy: Book
) -> tuple[Ctx, Any]:
    """Charge ``remaining`` per lot of the opposing side as it stood at the bankruptcy; returns
    (ctx, paid): all of it when an opposing position exists, else nothing."""
    weights = opposing_lots(at_bankruptcy, bankrupt)
    if rounding.side_index is SideIndex.EXACT:
        return charge(ctx, rounding, weights, bankrupt, remaining, capped=False, reason=Reason.SOCIALIZED_LOSS)
    return charge_k_up(ctx, weights, bankrupt, remaining)


def charge_k_up(ctx: Ctx, weights: list[tuple[str, Any]], bankrupt: str, remaining: Any) -> tuple[Ctx, Any]:
    """``k_up`` (module docstring): ``ΔK = ⌈D × SCALE / OI⌉``, each payer of ``weights`` (its
    opposing lots) pays ``⌈w × ΔK / SCALE⌉``, and what they pay beyond ``D`` goes from the
    bankrupt account to the insurance fund as dust; returns (ctx, paid: ``D`` where ``OI > 0``)."""
    oi = sum_(w for _, w in weights)
    target = when(oi > 0, remaining)
    delta_k = div(target * SCALE, safe_divisor(oi), rounding=Rounding.CEIL)
    charged: Any = 0
    for name, w in weights:
        share = div(w * delta_k, SCALE, rounding=Rounding.CEIL)
        ctx = ctx.transfer(name, bankrupt, share, Reason.SOCIALIZED_LOSS)
        charged = charged + share
    ctx = ctx.transfer(bankrupt, ctx.system(Role.INSURANCE_FUND), charged - target, Reason.PRO_RATA_DUST)
    return ctx, target


__all__ = ["SCALE", "charge_k_up", "charge_per_lot", "close_against_side", "opposing_lots", "shrinks_opposing_side"]

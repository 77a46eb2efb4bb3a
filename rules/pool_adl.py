"""ADL by PnL-to-pool factor (GMX v2): profitable positions are reduced while a side's pending
profit is too large for the pool that must pay it.

GMX v2 has no insurance fund: the GM pool is the counterparty and pays traders' profit. When the
pending PnL of one side exceeds ``MAX_PNL_FACTOR_FOR_ADL`` of the pool's value, keepers decrease
profitable positions of that side at the oracle price; each decrease must lower the factor and
must not take it below ``MIN_PNL_FACTOR_AFTER_ADL`` (docs/venues.md#gmx-v2-adl; gmx-synthetics
``contracts/adl/AdlUtils.sol``, ``contracts/exchange/AdlHandler.sol`` ``PnlOvercorrected``,
``MarketUtils.isPnlFactorExceeded``). The run happens after the liquidation sweep of every mark
move or funding payment, long side first.

Formula (side s, mark M, pool value V = the backstop vault's balance, trader i on side s with
size S_i and cost basis C_i):
    P_s     = Σ (S_i × M − C_i)                      the side's net pending PnL (GMX ``getPnl``)
    trigger   V > 0 and P_s × 1e6 > max_factor_ppm × V  (GMX: factor 0 when the pool is 0)
    room    = P_s − ⌈min_factor_ppm × V / 1e6⌉       PnL that may come off without overcorrecting
    for each profitable position (p_i = S_i × M − C_i > 0) in ranking order:
        q_i   = min(|S_i|, ⌊room × |S_i| / p_i⌋)    lots closed at M against ``liquidity``
        room −= p_i − p_i'                          p_i' after the close, cost basis as positions.py
Rounds: q_i down and the floor of the remaining PnL up, so the factor never ends below the
minimum (GMX reverts an overcorrection); because the cost basis of a reduced position is
rounded toward −∞, a position's PnL falls by at most q_i × p_i / |S_i|, so ``room`` never goes
negative. Afterwards min ≤ factor, and factor < min + one lot's PnL of the last position reduced
unless the side ran out of profitable lots. A close at mark moves no money under settle-to-mark
accounting: the profit already paid stays with the trader, only the exposure goes.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from solvent.rules.adl import score, sort_queue, taken
from solvent.rules.arith import PPM, Rounding, abs_, and_, div, ite, max_, min_, safe_divisor, sum_, when
from solvent.rules.book import Role
from solvent.rules.fields import ppm_field
from solvent.rules.ledger import Ctx, Reason, system
from solvent.rules.margin import MarginRule, position_pnl
from solvent.rules.outcomes import PoolAdlFill, PoolAdlTriggered
from solvent.rules.positions import close_against
from solvent.rules.rounding import RoundingRule
from solvent.rules.waterfall import Ranking


@attrs.frozen
class PnlToPoolAdl:
    """Reduce profitable positions of a side whose pending PnL exceeds ``max_factor_ppm`` of the
    pool, toward ``min_factor_ppm`` and never below it."""

    kind: ClassVar[str] = "pnl_to_pool_adl"
    max_factor_ppm: int = ppm_field(min_value=1)
    min_factor_ppm: int = ppm_field()
    ranking: Ranking = attrs.field(default=Ranking.BITMEX, validator=attrs.validators.instance_of(Ranking))

    def __attrs_post_init__(self) -> None:
        if self.min_factor_ppm > self.max_factor_ppm:
            raise ValueError(
                f"'min_factor_ppm' must be <= max_factor_ppm ({self.max_factor_ppm}): the factor ADL "
                f"reduces toward must not be above the one that starts it: {self.min_factor_ppm}"
            )


@attrs.frozen
class _Candidate:
    """One trader in the queue of a side (the fields ``sort_queue`` orders by, and what a close needs)."""

    eligible: Any
    num: Any
    den: Any
    index: int | Any
    lots: Any
    size: Any
    cost: Any
    pnl: Any


def side_pnl(ctx: Ctx, long: bool) -> Any:
    """P_s: the net pending PnL of every trader on the side (losers on it count, as in GMX)."""
    mark = ctx.book.market.mark_quote
    return sum_(when(a.size_lots > 0 if long else a.size_lots < 0, position_pnl(a, mark)) for a in ctx.book.traders)


def pool_value(ctx: Ctx) -> Any:
    """V: the pool's value, the backstop vault's balance (how the GMX preset maps the GM pool)."""
    return ctx.book.role(Role.BACKSTOP_VAULT).cash_quote


def is_exceeded(rule: PnlToPoolAdl, pnl: Any, pool: Any) -> Any:
    """GMX ``isPnlFactorExceeded``: factor > 0 and factor > max, compared by cross-multiplying."""
    return and_(pool > 0, pnl > 0, pnl * PPM > rule.max_factor_ppm * pool)


def _pnl_after(c: _Candidate, q: Any, mark: Any) -> Any:
    """p' after closing ``q`` of the candidate's lots (cost basis scaled down, rounded toward −∞)."""
    rest = c.lots - q
    cost = div(c.cost * rest, safe_divisor(c.lots), rounding=Rounding.FLOOR)
    return ite(c.size > 0, rest, -rest) * mark - cost


def _reduce_side(rule: PnlToPoolAdl, margin: MarginRule, rounding: RoundingRule, ctx: Ctx, long: bool) -> Ctx:
    book = ctx.book
    mark = book.market.mark_quote
    pnl, pool = side_pnl(ctx, long), max_(pool_value(ctx), 0)
    exceeded = is_exceeded(rule, pnl, pool)
    ctx = ctx.note_if(exceeded, PoolAdlTriggered("long" if long else "short", pnl, pool))
    room = when(exceeded, pnl - div(rule.min_factor_ppm * pool, PPM, rounding=Rounding.CEIL))
    candidates = [(i, a) for i, a in enumerate(book.accounts) if a.is_trader]
    entries = []
    for i, a in candidates:
        s = score(rule.ranking, margin, rounding, a, mark)
        p = position_pnl(a, mark)
        on_side = a.size_lots > 0 if long else a.size_lots < 0
        entries.append(
            _Candidate(and_(on_side, p > 0), s.num, s.den, i, abs_(a.size_lots), a.size_lots, a.cost_quote, p)
        )
    served = []
    for c in sort_queue(entries):
        q = when(c.eligible, min_(c.lots, div(room * c.lots, safe_divisor(c.pnl), rounding=Rounding.FLOOR)))
        room = room - when(c.eligible, c.pnl - _pnl_after(c, q, mark))
        served.append((c.index, q))
    liquidity = system(book, Role.LIQUIDITY)
    for (_, a), entry, q in zip(candidates, entries, taken(served, [i for i, _ in candidates]), strict=True):
        ctx = ctx.note_if(q > 0, PoolAdlFill(a.name, q, mark, a.size_lots, entry.pnl))
        ctx = close_against(ctx, a.name, liquidity, q, mark, Reason.POOL_ADL)
    return ctx


def reduce_profits(rule: PnlToPoolAdl, margin: MarginRule, rounding: RoundingRule, ctx: Ctx) -> Ctx:
    """Run the PnL-to-pool ADL on the long side, then the short side."""
    ctx = _reduce_side(rule, margin, rounding, ctx, long=True)
    return _reduce_side(rule, margin, rounding, ctx, long=False)

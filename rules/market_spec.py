"""A market the venue lists: its name and the parts of its contract specification that differ
from market to market (docs/portfolio.md, decision 1b).

A venue publishes one specification per symbol: Binance's "Leverage and Margin" table per
contract (BTCUSDT's first bracket 125x and 0.40% maintenance, ETHUSDT's its own brackets:
binance.com/en/futures/trading-rules/perpetual/leverage-margin), Bybit's risk limit per symbol
(bybit.com/en/help-center/article/Risk-Limit-Perpetual-and-Futures), dYdX v4's per-market
``initialMarginPpm``/``maintenanceFractionPpm`` (dydxprotocol/v4-chain, protocol/x/perpetuals,
liquidity tiers), Hyperliquid's per-asset max leverage (hyperliquid.gitbook.io, "Margin tiers").
What is per market in Solvent's policy language is the tier table (initial and maintenance
rates, notional floors, maintenance amounts, and whether the tiers are risk-limit steps) and the
lot and tick a market's prices are quoted in. Funding has no parameter per market: the rate is
each ``Funding`` event's own, and how a payment rounds is the venue's (``[rounding]``).

The first market's tiers are ``[margin]``'s, and its lot and tick ``[units]``', always: a one-market policy is the policy it was,
and a ``[[market]]`` table without tiers shares them. The engine reads market *m*'s own rules by
focusing the policy on *m* (:meth:`solvent.rules.policy.Policy.focused`), as it focuses the book.
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.fields import quote_field
from solvent.rules.margin import Tier, check_modes, check_steps, check_tiers


def _check_own_tiers(inst: Any, attribute: Any, tiers: tuple[Tier, ...]) -> None:
    """No tiers: the market shares ``[margin]``'s; tiers: the same rules a ``[margin]`` table has."""
    if tiers:
        check_tiers(inst, attribute, tiers)


@attrs.frozen
class MarketSpec:
    """One perpetual market of the venue: its name, and its own tier table where it has one."""

    #: The market's name as the book and the reports say it ("BTCUSDT", "ETH-PERP")
    name: str = attrs.field(validator=attrs.validators.min_len(1))
    #: One lot of this market, as ``[units].lot`` ("0.01 ETH"); absent: ``[units].lot``. The
    #: first market's is ``[units].lot``. Its price grid (one quote quantum per lot) is checked
    #: against its tick as ``[units]``' is (a warning naming ``$.market[i].tick``)
    lot: str = ""
    #: This market's price tick, as ``[units].tick`` ("0.01 USDT"); absent: ``[units].tick``. The
    #: first market's is ``[units].tick``
    tick: str = ""
    #: This market's tiers are risk-limit steps (as ``[margin].risk_limit_steps``); only with ``tiers``
    risk_limit_steps: bool = attrs.field(default=False, validator=check_steps)
    #: The market's own tiers, read as ``[margin].tiers`` are (a notional bracket or, with
    #: ``risk_limit_steps``, a risk-limit step); absent: the market shares ``[margin].tiers``. The
    #: first market's tiers are always ``[margin]``'s, so its table does not give any.
    tiers: tuple[Tier, ...] = attrs.field(default=(), converter=tuple, validator=_check_own_tiers)
    #: The margin modes a position in this market may take, as ``[margin].modes``: ``["isolated"]``
    #: for an isolated-only market (dYdX v4's isolated markets, ``market_type`` ISOLATED in
    #: ``protocol/x/perpetuals``; Hyperliquid's "strict isolated" assets), ``["cross"]`` for a market
    #: without isolated margin; absent: ``[margin].modes``
    modes: tuple[str, ...] = attrs.field(default=(), converter=tuple, validator=check_modes)
    #: Whether the owner of an isolated position in this market may take margin out of it while
    #: the position is open (``RemoveMargin``). Hyperliquid's isolated-only assets: "margin cannot
    #: be removed", it leaves pro rata as the position closes (docs/venues.md#isolated-margin);
    #: here it stays in the position until the position is flat, then may be removed whole.
    #: Absent: true.
    margin_removable: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    #: The insurance fund this market shares with the other markets naming the same group, where
    #: ``[waterfall] scope = "per_group"`` (Binance's "category of contracts", OKX's funds per
    #: "business line, settlement currency and underlying": docs/portfolio.md decision 5b); every
    #: table names one there, and none under another scope. Absent: "".
    fund_group: str = attrs.field(default="", validator=attrs.validators.instance_of(str))
    #: The most the insurance fund pays toward this market's bankruptcies in total, since the
    #: market opened, in quote quanta: once its payments here add up to it, the rest of every
    #: deficit goes to the waterfall's next layer. Drift's ``quote_max_insurance`` per perpetual
    #: market, counted against ``quote_settled_insurance`` (``resolve_perp_bankruptcy``:
    #: docs/venues.md#drift-v2-bankruptcy); the book keeps the running total
    #: (``Market.fund_settled_quote``, ``rules.insurance_claim``). The insurance-fund layer's
    #: ``cap_quote`` still caps each bankruptcy, and the lower of the two applies (docs/portfolio.md
    #: decisions 5d, 5e). Absent: no cap of the market's own.
    fund_cap_quote: int | None = quote_field(default=None, min_value=1)

    def __attrs_post_init__(self) -> None:
        if self.risk_limit_steps and not self.tiers:
            raise ValueError("'risk_limit_steps' needs tiers of the market's own (else it shares [margin]'s): true")

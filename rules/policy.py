"""A policy: the whole risk rule set of one venue, as one frozen, validated value."""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.contract import LINEAR, Contract
from solvent.rules.fees import FeeRule
from solvent.rules.liquidation import LiquidationRule
from solvent.rules.margin import MarginRule
from solvent.rules.pool_adl import PnlToPoolAdl
from solvent.rules.rounding import RoundingRule
from solvent.rules.waterfall import LAYER_TYPES, Adl, DebtCarry, Layer, check_layers


def _check_deficit(_inst: Any, _attribute: Any, layers: tuple) -> None:
    for i, layer in enumerate(layers):
        if not isinstance(layer, LAYER_TYPES):
            raise ValueError(f"'deficit' must hold waterfall layers: {layer!r} @ deficit[{i}]")
    check_layers(layers)


@attrs.frozen
class Units:
    """What one integer unit means: shown in reports, never used in arithmetic."""

    quote: str = "0.01 USD"
    lot: str = "1 contract"
    #: The venue's price tick, in the quote currency per unit of the lot's asset ("0.1 USDT": a
    #: price per BTC when ``lot = "0.001 BTC"``; an inverse contract's in its price currency per
    #: coin, "0.5 USD"). Absent: not checked. The price grid the quanta state (one quote quantum
    #: per lot; an inverse contract's ``value_quanta``) must hold every tick, a whole number of
    #: grid steps each; a grid coarser than the tick, or one the tick is no multiple of, cannot
    #: state the venue's prices, and loading the policy warns (``loading.PolicyWarning``).
    tick: str = ""


def _percent(ppm: int) -> str:
    """ppm as an exact percentage: 550000 → '55%', 12500 → '1.25%'."""
    whole, frac = divmod(ppm, 10_000)
    return f"{whole}.{frac:04d}".rstrip("0").rstrip(".") + "%"


@attrs.frozen
class Policy:
    """Margin, liquidation, fees, the deficit waterfall and rounding of one venue."""

    name: str
    margin: MarginRule
    liquidation: LiquidationRule = LiquidationRule()
    fees: FeeRule = FeeRule()
    deficit: tuple[Layer, ...] = attrs.field(default=(), converter=tuple, validator=_check_deficit)
    rounding: RoundingRule = RoundingRule()
    #: ADL by PnL-to-pool factor (GMX v2, docs/venues.md#gmx-v2-adl): runs after every mark move or funding
    #: payment, apart from the deficit waterfall; absent: never
    pnl_to_pool_adl: PnlToPoolAdl | None = None
    units: Units = Units()
    #: The contract the market trades: linear (the default) or inverse, coin-margined
    #: (``solvent.rules.contract``); the engine runs on lot values either way
    contract: Contract = attrs.field(default=LINEAR, validator=attrs.validators.instance_of(Contract))
    description: str = ""
    sources: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: Invariant ids the venue gives up by design (its documented trade-off, e.g. ``no-haircut``
    #: for a venue that deleverages winners). Their failures are reported, marked accepted, and do
    #: not fail ``solvent check``.
    accepts: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    def waterfall_summary(self) -> str:
        """The deficit waterfall in a few words, with the triggers that change when layers run:
        ``insurance_fund → adl (also on fund drawdown)``, plus a PnL-to-pool ADL when present."""
        parts = []
        for layer in self.deficit:
            notes = []
            if getattr(layer, "fund_drawdown", None) is not None:
                notes.append("also on fund drawdown")
            if getattr(layer, "book_last", True) is False:
                notes.append("book exempt")
            if getattr(layer, "all_or_nothing", False):
                notes.append("all or nothing")
            if getattr(layer, "liquidator_pays", False):
                notes.append("liquidator's lots count")
            if getattr(layer, "cascade", False):
                notes.append("a payer sunk below zero is resolved in turn")
            if getattr(layer, "losses_settle_capital", False):
                notes.append("losses settle into capital")
            if getattr(layer, "warmup_events", None) is not None:
                notes.append(f"profit warms up over {layer.warmup_events} events")
            if getattr(layer, "matured_only", False):
                notes.append("matured profit only")
            parts.append(layer.kind + (f" ({', '.join(notes)})" if notes else ""))
        text = " → ".join(parts) or "(none)"
        pool = self.pnl_to_pool_adl
        if pool is not None:
            text += f"; ADL when PnL > {_percent(pool.max_factor_ppm)} of the pool (to {_percent(pool.min_factor_ppm)})"
        return text

    def layer(self, cls: type) -> Any:
        """The waterfall layer of that type, or None."""
        return next((layer for layer in self.deficit if isinstance(layer, cls)), None)

    @property
    def adl(self) -> Adl | None:
        return self.layer(Adl)

    @property
    def debt_carry(self) -> DebtCarry | None:
        return self.layer(DebtCarry)

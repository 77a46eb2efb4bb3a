"""A policy: the whole risk rule set of one venue, as one frozen, validated value."""

from __future__ import annotations

from typing import Any

import attrs

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


@attrs.frozen
class Policy:
    """Margin, liquidation, fees, the deficit waterfall and rounding of one venue."""

    name: str
    margin: MarginRule
    liquidation: LiquidationRule = LiquidationRule()
    fees: FeeRule = FeeRule()
    deficit: tuple[Layer, ...] = attrs.field(default=(), converter=tuple, validator=_check_deficit)
    rounding: RoundingRule = RoundingRule()
    #: ADL by PnL-to-pool factor (GMX v2, mechanics.md §9): runs after every mark move or funding
    #: payment, apart from the deficit waterfall; absent: never
    pnl_to_pool_adl: PnlToPoolAdl | None = None
    units: Units = Units()
    description: str = ""
    sources: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: Invariant ids the venue gives up by design (its documented trade-off, e.g. ``no-haircut``
    #: for a venue that deleverages winners). Their failures are reported, marked accepted, and do
    #: not fail ``solvent check``.
    accepts: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    def layer(self, cls: type) -> Any:
        """The waterfall layer of that type, or None."""
        return next((layer for layer in self.deficit if isinstance(layer, cls)), None)

    @property
    def adl(self) -> Adl | None:
        return self.layer(Adl)

    @property
    def debt_carry(self) -> DebtCarry | None:
        return self.layer(DebtCarry)

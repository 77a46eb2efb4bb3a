"""A collateral asset's haircut by tiers of the value held, or of the quantity held
(docs/portfolio.md, decision 2b): one bracket rule in two forms.

Some venues count a large holding of an asset at a smaller share of its value than a small one:
OKX's "discount rate" in its multi-currency and portfolio margin modes is stated per tier of the
holding's USD value ("BETH: 0 ~ 2,000,000 USD 0.95; 2,000,000 ~ 4,000,000 0.85; 4,000,000 ~
8,000,000 0.5; > 8,000,000 0", OKX's announcement of 18 July 2024, globenewswire.com/news-release/
2024/07/18/2915393). Bybit's Unified Trading Account states its "collateral value ratio" per tier of
the quantity held instead ("Assume the tiered value rates of BTC ... Tier(Quantity) ... BTC 0 - 10
0.98; >10 - 20 0.95; >20 - 30 0.9; >30 - 40 0.85; >40 - 50 0.8; >50 0",
testnet.bytick.com/en/help-center/article/Assets-Collateral-Value-Ratio-List-UTA), and its API
gives each tier as ``minQty`` and ``maxQty`` "in coin" with a ``collateralRatio`` ("Get Tiered
Collateral Ratio", GET /v5/spot-margin-trade/collateral,
bybit-exchange.github.io/docs/v5/spot-margin-uta/tier-collateral-ratio). Each tier's rate applies
to the part of the holding inside the tier, as income tax brackets do: OKX's worked example counts
11M USDT as 5M × 1 + 5M × 0.9 + 1M × 0.8 = 10.3M USD (OKX's announcement of LUNA's discount rates,
June 2022, as reproduced at ukcamo.com/6126.html). So the counted value is continuous in the
holding: one quantum more in a lower tier adds its rate, never a jump.

One bracket sum, ``B(x) = Σ_i r_i × (min(x, f_{i+1}) − f_i)⁺`` over floors f_0 = 0 < f_1 < … with
ratios r_0 ≥ r_1 ≥ … (the last tier open above), read in either unit:
    by value    (``value_tiers``, floors in settlement quanta, V = balance × price):
        counted = ⌊B(V) / 1e6⌋
    by quantity (``quantity_tiers``, floors in asset quanta, Q = balance):
        counted = ⌊B(Q) × price / 1e6⌋
each rounded once by ``rounding.collateral``. The two agree where the value floors are the quantity
floors times the price (B is linear in x and its floors together), so a tier by quantity is a tier
by value whose floors move with the price. The tiers replace the table's one weight for initial
and maintenance margin both, as OKX and Bybit state one rate per tier for both. They count a
positive balance; a lent asset's borrow counts at its liability weight instead (Bybit: "For
assets with a negative balance default to a 100% collateral value ratio", the default weight of
1,000,000), in ``assets.collateral_value``.
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.arith import PPM, Rounding, div, max_, min_, sum_
from solvent.rules.fields import asset_field, ppm_field, quote_field


@attrs.frozen
class ValueTier:
    """One tier of a collateral asset's value: from ``floor_value_quote`` (settlement quanta of the
    holding's oracle value) up to the next tier's floor, each quantum counts ``ratio_ppm`` as margin
    (OKX's discount rate of the tier)."""

    floor_value_quote: int = quote_field()
    ratio_ppm: int = ppm_field()

    @property
    def floor(self) -> int:
        return self.floor_value_quote


@attrs.frozen
class QuantityTier:
    """One tier of a collateral asset's quantity: from ``floor_quanta`` (asset quanta held) up to
    the next tier's floor, each quantum counts ``ratio_ppm`` of its oracle value as margin (Bybit's
    collateral value ratio of the tier, whose ``minQty`` is the floor)."""

    floor_quanta: int = asset_field()
    ratio_ppm: int = ppm_field()

    @property
    def floor(self) -> int:
        return self.floor_quanta


#: Each form's table key and floor field, by tier class.
FORMS = {ValueTier: ("value_tiers", "floor_value_quote"), QuantityTier: ("quantity_tiers", "floor_quanta")}


def check_tiers(tiers: tuple[Any, ...], cls: type = ValueTier) -> None:
    """Tiers of one form (``cls``) are empty (the table's weights apply) or start at 0, their floors
    strictly increasing and their ratios never rising (a larger holding never counts at a larger
    share)."""
    key, floor = FORMS[cls]
    for i, tier in enumerate(tiers):
        if not isinstance(tier, cls):
            raise ValueError(f"'{key}' must hold tiers: {tier!r} @ {key}[{i}]")
    if not tiers:
        return
    if tiers[0].floor != 0:
        raise ValueError(f"'{floor}' must be 0 at the first tier: {tiers[0].floor} @ {key}[0].{floor}")
    for i in range(1, len(tiers)):
        before, tier = tiers[i - 1], tiers[i]
        if tier.floor <= before.floor:
            raise ValueError(f"'{floor}' must be > {before.floor} (the tier before): {tier.floor} @ {key}[{i}].{floor}")
        if tier.ratio_ppm > before.ratio_ppm:
            raise ValueError(
                f"'ratio_ppm' must be <= {before.ratio_ppm} (the tier before: a larger holding never "
                f"counts at a larger share): {tier.ratio_ppm} @ {key}[{i}].ratio_ppm"
            )


def check_value_tiers(tiers: tuple[ValueTier, ...]) -> None:
    """:func:`check_tiers` of the value form."""
    check_tiers(tiers, ValueTier)


def brackets(tiers: tuple[Any, ...], amount: Any) -> Any:
    """``Σ_i r_i × (min(amount, f_{i+1}) − f_i)⁺``: each tier's ratio (ppm) on the part of
    ``amount`` inside it, in the tiers' own unit (settlement quanta or asset quanta) times 1e6."""
    parts = []
    for i, tier in enumerate(tiers):
        top = amount if i + 1 == len(tiers) else min_(amount, tiers[i + 1].floor)
        parts.append(tier.ratio_ppm * max_(top - tier.floor, 0))
    return sum_(parts)


def tiered_value(tiers: tuple[ValueTier, ...], value: Any, rounding: Rounding) -> Any:
    """What a holding worth ``value`` settlement quanta counts as margin under tiers by value."""
    return div(brackets(tiers, value), PPM, rounding=rounding)


def tiered_quantity(tiers: tuple[QuantityTier, ...], quanta: Any, price: Any, rounding: Rounding) -> Any:
    """What a holding of ``quanta`` asset quanta at ``price`` settlement quanta each counts as
    margin under tiers by quantity: the same brackets over the quantity, times the price."""
    return div(brackets(tiers, quanta) * price, PPM, rounding=rounding)


__all__ = [
    "FORMS",
    "QuantityTier",
    "ValueTier",
    "brackets",
    "check_tiers",
    "check_value_tiers",
    "tiered_quantity",
    "tiered_value",
]

"""A collateral asset's haircut by tiers of the value held (docs/portfolio.md, decision 2b).

Some venues count a large holding of an asset at a smaller share of its value than a small one:
OKX's "discount rate" in its multi-currency and portfolio margin modes is stated per tier of the
holding's USD value ("BETH: 0 ~ 2,000,000 USD 0.95; 2,000,000 ~ 4,000,000 0.85; 4,000,000 ~
8,000,000 0.5; > 8,000,000 0", OKX's announcement of 18 July 2024, globenewswire.com/news-release/
2024/07/18/2915393). Bybit's Unified Trading Account states a "collateral value ratio" per tier of
the quantity held instead ("Assume ... BTC 0 - 10 0.98, >10 - 20 0.95, ... >50 0",
testnet.bytick.com/en/help-center/article/Assets-Collateral-Value-Ratio-List-UTA); tiers by
quantity are not built (a tier by value is OKX's form). Each tier's rate
applies to the part of the holding inside the tier, as income tax brackets do: OKX's worked
example counts 11M USDT as 5M × 1 + 5M × 0.9 + 1M × 0.8 = 10.3M USD (OKX's announcement of
LUNA's discount rates, June 2022, as reproduced at ukcamo.com/6126.html). So the counted value is
continuous in the holding: one quantum more in a lower tier adds its rate, never a jump.

Formula, for a holding worth V settlement quanta at the oracle price (``balance × price``) and
tiers starting at floors f_0 = 0 < f_1 < … with ratios r_0 ≥ r_1 ≥ …:
    counted = ⌊Σ_i r_i × (min(V, f_{i+1}) − f_i)⁺ / 1e6⌋     rounded by ``rounding.collateral``
(the last tier open above). The tiers replace the table's one weight for initial and maintenance
margin both, as OKX and Bybit state one rate per tier for both.
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.arith import PPM, Rounding, div, max_, min_, sum_
from solvent.rules.fields import ppm_field, quote_field


@attrs.frozen
class ValueTier:
    """One tier of a collateral asset's value: from ``floor_value_quote`` (settlement quanta of the
    holding's oracle value) up to the next tier's floor, each quantum counts ``ratio_ppm`` as margin
    (OKX's discount rate of the tier, Bybit's collateral value ratio)."""

    floor_value_quote: int = quote_field()
    ratio_ppm: int = ppm_field()


def check_value_tiers(tiers: tuple[ValueTier, ...]) -> None:
    """Tiers are empty (the table's weights apply) or start at 0, their floors strictly increasing
    and their ratios never rising (a larger holding never counts at a larger share)."""
    for i, tier in enumerate(tiers):
        if not isinstance(tier, ValueTier):
            raise ValueError(f"'value_tiers' must hold tiers: {tier!r} @ value_tiers[{i}]")
    if not tiers:
        return
    if tiers[0].floor_value_quote != 0:
        raise ValueError(
            f"'floor_value_quote' must be 0 at the first tier: {tiers[0].floor_value_quote}"
            " @ value_tiers[0].floor_value_quote"
        )
    for i in range(1, len(tiers)):
        before, tier = tiers[i - 1], tiers[i]
        if tier.floor_value_quote <= before.floor_value_quote:
            raise ValueError(
                f"'floor_value_quote' must be > {before.floor_value_quote} (the tier before): "
                f"{tier.floor_value_quote} @ value_tiers[{i}].floor_value_quote"
            )
        if tier.ratio_ppm > before.ratio_ppm:
            raise ValueError(
                f"'ratio_ppm' must be <= {before.ratio_ppm} (the tier before: a larger holding never "
                f"counts at a larger share): {tier.ratio_ppm} @ value_tiers[{i}].ratio_ppm"
            )


def tiered_value(tiers: tuple[ValueTier, ...], value: Any, rounding: Rounding) -> Any:
    """What a holding worth ``value`` settlement quanta counts as margin under ``tiers``."""
    parts = []
    for i, tier in enumerate(tiers):
        top = value if i + 1 == len(tiers) else min_(value, tiers[i + 1].floor_value_quote)
        parts.append(tier.ratio_ppm * max_(top - tier.floor_value_quote, 0))
    return div(sum_(parts), PPM, rounding=rounding)


__all__ = ["ValueTier", "check_value_tiers", "tiered_value"]

"""A lent asset's borrow rate as a function of its utilization (docs/portfolio.md, decision 6b).

A lending venue does not set a borrow rate per step: it reads one off a curve of the asset's
utilization, borrows over deposits, so that borrowing gets dearer as the pool runs dry. The
curve is piecewise linear between points (utilization, annual rate), both in ppm:

    Drift (programs/drift/src/math/spot_balance.rs, calculate_borrow_rate, github.com/drift-labs/
    protocol-v2): linear from 0 to ``optimal_borrow_rate`` at ``optimal_utilization``, then up to
    ``max_borrow_rate`` at 100% in six segments ending at 85%, 90%, 95%, 99%, 99.5% and 100% of
    utilization, each adding 5, 10, 15, 20, 25 and 25% of (max − optimal), each share rounded down
    (``total_extra_rate × weight / 100``); rates and utilization in 1e6 precision, annual.
    Mango v4 (programs/mango-v4/src/state/bank.rs, interest_rate_curve_calculator, github.com/
    blockworks-foundation/mango-v4): ``zero_util_rate`` at 0, ``rate0`` at ``util0``, ``rate1`` at
    ``util1``, ``max_rate`` at 1, linear between, annual.
    Backpack: "Each borrow lend market has its own Utilization Rate curve", "Utilization Rate =
    Total Borrowed / Total Lent", "Interest is charged every hour"
    (guide.backpack.exchange/borrow-and-lend/utilization-and-interest-rates); its points are shown
    on its Lend page, not published.

Formula, for utilization u between points (u_i, r_i) and (u_j, r_j), u_i < u ≤ u_j:
    rate = r_i + (u − u_i) × (r_j − r_i) / (u_j − u_i)     rounded by ``rounding.borrow_rate``
(floor by default: Drift's ``safe_div``); at a point the rate is the point's own. Between two
points Drift divides the same way (the segment's share of the extra rate times the utilization
into the segment, over the segment's width); below its optimal utilization it first rounds the
slope, ``⌊optimal_rate × 1e6 / optimal_util⌋``, which reads the same wherever the slope is whole
(its test markets', 70,000 over 700,000).

Utilization (``utilization_ppm``) is ⌊B × 1e6 / D⌋ over the traders' borrows B and deposits D,
at most 1e6: Drift's ``calculate_utilization`` (1e6 when there are borrows and no deposits);
Mango clamps to [0, 1] the same way.
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.arith import PPM, Rounding, div, ite, max_, min_, safe_divisor, sum_
from solvent.rules.fields import ppm_field

#: The seconds in a year an annual rate is spread over: Drift's ``ONE_YEAR`` (31,536,000,
#: programs/drift/src/math/constants.rs), Mango's ``YEAR_I80F48`` (365 days, bank.rs).
SECONDS_PER_YEAR = 31_536_000

#: The highest annual rate a curve may state, 10,000%: Drift's rates are u32 in 1e6 precision
#: (up to 4,294%), Mango's test group's ``max_rate`` is 150%.
MAX_RATE_PPM = 100 * PPM


@attrs.frozen
class RatePoint:
    """One point of a lent asset's borrow-rate curve: at ``utilization_ppm`` of its deposits lent
    out, borrowers pay ``rate_ppm`` a year (Drift's ``optimal_utilization`` /
    ``optimal_borrow_rate``, Mango's ``util0`` / ``rate0``)."""

    utilization_ppm: int = ppm_field()
    rate_ppm: int = ppm_field(max_value=MAX_RATE_PPM)


def check_rate_curve(points: tuple[RatePoint, ...]) -> None:
    """A curve is empty (no curve: the rate is each event's own) or runs from utilization 0 to
    1e6 over strictly increasing utilizations, its rate never falling."""
    for i, point in enumerate(points):
        if not isinstance(point, RatePoint):
            raise ValueError(f"'rate_curve' must hold points: {point!r} @ rate_curve[{i}]")
    if not points:
        return
    if len(points) < 2:
        raise ValueError("'rate_curve' must have at least 2 points (utilization 0 and 1000000): 1")
    if points[0].utilization_ppm != 0:
        raise ValueError(
            f"'utilization_ppm' must be 0 at the curve's first point: {points[0].utilization_ppm}"
            " @ rate_curve[0].utilization_ppm"
        )
    last = len(points) - 1
    if points[last].utilization_ppm != PPM:
        raise ValueError(
            f"'utilization_ppm' must be {PPM} at the curve's last point: {points[last].utilization_ppm}"
            f" @ rate_curve[{last}].utilization_ppm"
        )
    for i in range(1, len(points)):
        before, point = points[i - 1], points[i]
        if point.utilization_ppm <= before.utilization_ppm:
            raise ValueError(
                f"'utilization_ppm' must be > {before.utilization_ppm} (the point before): "
                f"{point.utilization_ppm} @ rate_curve[{i}].utilization_ppm"
            )
        if point.rate_ppm < before.rate_ppm:
            raise ValueError(
                f"'rate_ppm' must be >= {before.rate_ppm} (the point before: a rate never falls as "
                f"utilization rises): {point.rate_ppm} @ rate_curve[{i}].rate_ppm"
            )


def borrow_rate_ppm(points: tuple[RatePoint, ...], utilization: Any, rounding: Rounding) -> Any:
    """The annual borrow rate, in ppm, the curve gives at ``utilization`` (ppm, 0 to 1e6)."""
    rate: Any = points[-1].rate_ppm
    for lo, hi in reversed(list(zip(points, points[1:], strict=False))):
        climb = div(
            (utilization - lo.utilization_ppm) * (hi.rate_ppm - lo.rate_ppm),
            hi.utilization_ppm - lo.utilization_ppm,
            rounding=rounding,
        )
        rate = ite(utilization <= hi.utilization_ppm, lo.rate_ppm + climb, rate)
    return rate


def utilization_ppm(balances: list[Any]) -> Any:
    """Borrows over deposits among the given balances of one asset, in ppm, rounded down and at
    most 1e6 (1e6 with borrows and no deposit, 0 with neither)."""
    borrows = sum_(-min_(b, 0) for b in balances)
    deposits = sum_(max_(b, 0) for b in balances)
    return min_(div(borrows * PPM, safe_divisor(deposits), rounding=Rounding.FLOOR), PPM)


__all__ = ["MAX_RATE_PPM", "SECONDS_PER_YEAR", "RatePoint", "borrow_rate_ppm", "check_rate_curve", "utilization_ppm"]

"""The venues' own margin and bankruptcy formulas, as named functions the engine calls.

Each function states the venue formula it implements (its section of docs/venues.md, §N for short: docs/venues.md#section-numbers), in the venue's own
acronyms. Functions over the arithmetic interface (``solvent.rules.arith``) are the ones the engine
runs, on Python ints and on z3 terms alike; they round only through :func:`~solvent.rules.arith.div`
with a named direction. Functions that return a :class:`~fractions.Fraction` are exact report or
validation quantities (no rounding at all); the engine never calls them on symbolic values.

Glossary: N notional (quote quanta), MMR maintenance rate (ppm), cum maintenance amount, E equity,
S signed size (lots, + long), M mark, BP bankruptcy price, TNC total net collateral, TMMR total
maintenance requirement, NNV net notional value, ABR adjusted bankruptcy rating, BA bankruptcy
adjustment, SMMR spread-to-maintenance-margin ratio, L leverage.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from solvent.rules.arith import PPM, Rounding, abs_, div, ite, max_, min_, mul_ppm, safe_divisor

# --- Binance (docs/venues.md#binance-margin): tiered maintenance -----------------------------


def maintenance_amount(previous_amount: Any, floor_notional: Any, previous_mmr_ppm: int, mmr_ppm: int) -> Fraction:
    """The maintenance amount of a tier that keeps MM continuous at its floor, exactly.

    Formula (Binance, faq b3c689c1…): ``cum_n = cum_{n−1} + floor_n × (MMR_n − MMR_{n−1})``,
    ``cum_1 = 0``. Doc example: ``250,000 × (1% − 0.5%) + 50 = 1,300``.
    Rounds: never (a Fraction; the caller decides whether a whole quantum is required).
    """
    return previous_amount + Fraction(floor_notional * (mmr_ppm - previous_mmr_ppm), PPM)


def tiered_maintenance_margin(notional_quote: Any, mmr_ppm: Any, amount_quote: Any, *, rounding: Rounding) -> Any:
    """MM of a position in its notional tier, never negative.

    Formula (Binance §1, Bybit §3, Hyperliquid §6): ``MM = max(N × MMR_tier − cum_tier, 0)``.
    Rounds: ``N × MMR`` in the named direction (the policy's margin rounding), then the whole
    maintenance amount is subtracted.
    """
    return max_(mul_ppm(notional_quote, mmr_ppm, rounding=rounding) - amount_quote, 0)


# --- bankruptcy price in settle-to-mark terms (docs/venues.md#binance-liquidation, #bitmex-liquidation, #bybit-liquidation, #dydx-v4-liquidation) ---


def bankruptcy_gap_per_lot(equity_quote: Any, size_lots: Any) -> Any:
    """How far from mark, per lot, a bankrupt position's bankruptcy price lies (0 when solvent).

    Formula: Binance's ``BP = EP − side × (WB + UPNL1) / size`` (§1) with settle-to-mark
    accounting, where every position is settled to mark (EP = M) and the wallet is the equity E:
    ``BP = M − side × E / |S|``; for E < 0 the gap is ``g = −E / |S|`` and ``BP = M + side × g``.
    Rounds: up (toward +∞), so closing at the rounded price leaves the bankrupt account at or
    above zero, as dYdX's ``GetBankruptcyPriceInQuoteQuantums`` rounds (§5); the excess is under
    one quantum per lot.
    """
    return max_(div(-equity_quote, safe_divisor(abs_(size_lots)), rounding=Rounding.CEIL), 0)


def price_at_gap(mark_quote: Any, size_lots: Any, gap_per_lot: Any) -> Any:
    """The price ``gap_per_lot`` away from mark against the position's counterparty: ``M + side × g``.

    A long is closed above mark (the buyer pays more), a short below (the seller receives less).
    """
    return ite(size_lots > 0, mark_quote + gap_per_lot, mark_quote - gap_per_lot)


def bankruptcy_price(mark_quote: Any, size_lots: Any, equity_quote: Any) -> Any:
    """The price at which closing the whole position leaves the account at zero (rounded up per lot).

    Formula: ``BP = M + side × ⌈−E / |S|⌉`` for E < 0, else M (see :func:`bankruptcy_gap_per_lot`).
    """
    return price_at_gap(mark_quote, size_lots, bankruptcy_gap_per_lot(equity_quote, size_lots))


def bankruptcy_price_exact(entry_price: Any, size: Any, wallet: Any, other_upnl: Any = 0) -> Fraction:
    """Binance's derived bankruptcy price of a one-way position, exactly (§1).

    Formula: ``WB + UPNL1 + side × |S| × (BP − EP) = 0``  ⇒  ``BP = EP − side × (WB + UPNL1) / |S|``.
    UPNL1 is the unrealized PnL of the account's other contracts (0 in isolated mode).
    """
    side = 1 if size > 0 else -1
    return Fraction(entry_price) - side * Fraction(wallet + other_upnl) / abs(size)


def linear_bankruptcy_price(entry_price: Any, leverage: Any, side: int) -> Fraction:
    """Bybit's isolated linear (USDT) bankruptcy price, exactly (§3): ``EP × (1 − side / L)``.

    Derived from ``BP_long = EP − IM / size`` with ``IM = size × EP / L``.
    """
    return Fraction(entry_price) * (1 - Fraction(side) / Fraction(leverage))


def inverse_bankruptcy_price(entry_price: Any, leverage: Any, side: int) -> Fraction:
    """BitMEX's and Bybit's isolated inverse bankruptcy price, exactly (§2, §3): ``EP × L / (L + side)``.

    Long: ``EP × L / (L + 1)``; short: ``EP × L / (L − 1)`` (the margin, in coin, is ``Qty / (EP × L)``
    and the coin PnL ``Qty × (1/EP − 1/BP)`` must lose exactly that).
    """
    lev = Fraction(leverage)
    return Fraction(entry_price) * lev / (lev + side)


def round_to_tick(price: Fraction, tick: Fraction, rounding: Rounding) -> Fraction:
    """A price on the tick grid, rounded in the named direction (Bybit rounds an inverse long's
    bankruptcy price up to 0.5 and a short's down, §3)."""
    units = price / tick
    whole = div(units.numerator, units.denominator, rounding=rounding)
    return whole * tick


# --- OKX (docs/venues.md#okx) ----------------------------------------------------------------


def okx_adl_threshold(eight_hour_average: Any, floor_amount: Any = 50_000) -> Fraction:
    """The insurance-fund level below which OKX starts ADL (one of the two published wordings, §4).

    Formula: ``threshold = 8h average − max(30% × 8h average, $50K)``; ADL runs while the fund is
    below it. Not used by the engine (the preset does not model the trigger).
    """
    average = Fraction(eight_hour_average)
    return average - max(average * Fraction(30, 100), Fraction(floor_amount))


def clawback_rate(system_loss: Any, insurance_fund: Any, total_net_profit: Any) -> Fraction:
    """OKEx-style clawback rate (§4): ``(system losses − insurance fund) / total net profit``, never below 0."""
    return max(Fraction(system_loss) - Fraction(insurance_fund), Fraction(0)) / Fraction(total_net_profit)


# --- dYdX v4 (docs/venues.md#dydx-v4-liquidation) ---------------------------------------------


def liquidation_insurance_fund_delta(surplus_quote: Any, max_fee_quote: Any) -> Any:
    """What a liquidated account pays the insurance fund (> 0) or the fund pays it (≤ 0).

    Formula (dYdX ``GetLiquidationInsuranceFundDelta``): ``d = quoteReceived − BQ``, the surplus
    left after closing at the fill price; if ``d ≤ 0`` the fund pays ``|d|`` (returned as ``d``);
    else the account pays ``min(d, |quoteReceived| × MaxLiquidationFeePpm)``.
    """
    return ite(surplus_quote <= 0, surplus_quote, liquidation_fee_paid(surplus_quote, max_fee_quote))


def liquidation_fee_paid(surplus_quote: Any, max_fee_quote: Any) -> Any:
    """The positive part of :func:`liquidation_insurance_fund_delta`: the penalty the account pays.

    Formula: ``min(max_fee, max(d, 0))``: the whole fee while the surplus covers it, the surplus
    when it does not, nothing when there is none (the fund's side, ``d ≤ 0``, is the waterfall's).
    The engine charges exactly this, so a penalty never creates a deficit.
    """
    return min_(max_fee_quote, max_(surplus_quote, 0))


def max_liquidation_fee(quote_magnitude: Any, fee_ppm: Any, *, rounding: Rounding) -> Any:
    """``|quote| × MaxLiquidationFeePpm / 1e6`` for a magnitude ``|quote| ≥ 0`` (§5).

    Rounds: in the named direction; dYdX's ``BigIntMulPpm`` rounds toward −∞, the engine uses the
    policy's fee rounding.
    """
    return mul_ppm(quote_magnitude, fee_ppm, rounding=rounding)


def bankruptcy_quote(delta_nnv: Any, delta_mmr: Any, tnc: Any, tmmr: Any) -> Any:
    """dYdX's bankruptcy price of a position delta, in quote quantums.

    Formula (``GetBankruptcyPriceInQuoteQuantums``): ``BQ = −ΔNNV − TNC × |ΔMMR| / TMMR``; closing
    the whole only position reduces to ``−ΔNNV − TNC``.
    Rounds: the division toward −∞ (Go's Euclidean ``Div`` with TMMR > 0), so BQ rounds toward +∞.
    """
    return -delta_nnv - div(tnc * abs_(delta_mmr), tmmr, rounding=Rounding.FLOOR)


def adjusted_bankruptcy_rating(tnc: Any, tmmr: Any, ba_ppm: int) -> Fraction:
    """dYdX's ABR, exactly: ``clamp(BA × (1 − TNC / TMMR), 0, 1)`` (§5)."""
    unbounded = Fraction(ba_ppm, PPM) * (1 - Fraction(tnc, tmmr))
    return min(max(unbounded, Fraction(0)), Fraction(1))


def fillable_price(
    oracle_price: Any, size: Any, tnc: Any, tmmr: Any, mmf: Fraction, *, ba_ppm: int, smmr_ppm: int
) -> Fraction:
    """The limit price of dYdX's liquidation order for the whole position, exactly (``GetFillablePrice``).

    Formula: ``FP = (PNNV − ABR × SMMR × PMMR) / PS`` with ``PNNV = PS × P`` and
    ``PMMR = |PS| × P × MMF``: a long sells below the oracle, a short buys above it, at most
    ``SMMR × MMF`` away.
    """
    price = Fraction(oracle_price)
    pnnv = size * price
    pmmr = abs(size) * price * Fraction(mmf)
    spread = adjusted_bankruptcy_rating(tnc, tmmr, ba_ppm) * Fraction(smmr_ppm, PPM) * pmmr
    return (pnnv - spread) / size


def fillable_price_doc_form(
    oracle_price: Any, tnc: Any, tmmr: Any, mmf: Fraction, *, ba_ppm: int, smmr_ppm: int
) -> Fraction:
    """The fillable price as dYdX's documentation writes it, for "both short and long position" (§5).

    Formula: ``FP = P × (1 − (SMMR × MMF) × (BA × (1 − Q)))`` with ``Q = V / TMMR`` (no clamp).
    """
    q = Fraction(tnc, tmmr)
    return Fraction(oracle_price) * (1 - Fraction(smmr_ppm, PPM) * Fraction(mmf) * Fraction(ba_ppm, PPM) * (1 - q))


# --- Hyperliquid (docs/venues.md#hyperliquid-margin) ------------------------------------------


def hyperliquid_maintenance_rate(max_leverage: int) -> Fraction:
    """Maintenance margin is half the initial margin at maximum leverage: ``MMR = 1 / (2 × maxLev)``."""
    return Fraction(1, 2 * max_leverage)


def rate_ppm(rate: Fraction, *, rounding: Rounding) -> int:
    """An exact rate as whole ppm, rounded in the named direction."""
    scaled = rate * PPM
    return div(scaled.numerator, scaled.denominator, rounding=rounding)


# --- Drift v2 (docs/venues.md#drift-v2-liquidation) -------------------------------------------

#: ``LIQUIDATION_FEE_ADJUST_GRACE_PERIOD_SLOTS`` (~10 minutes of slots) and the ramp per slot in
#: ppm (``LIQUIDATION_FEE_INCREASE_PER_SLOT``, 0.0001%), drift-labs/protocol-v2 math/constants.rs.
DRIFT_FEE_GRACE_SLOTS = 1_500
DRIFT_FEE_INCREASE_PER_SLOT_PPM = 1


def drift_max_liquidation_fee(liquidator_fee_ppm: int, maintenance_ratio_ppm: int) -> int:
    """A market's liquidator fee ceiling: ``min(3 × liquidator_fee, maintenance margin ratio)``."""
    return min(3 * liquidator_fee_ppm, maintenance_ratio_ppm)


def drift_liquidation_fee(base_fee_ppm: int, max_fee_ppm: int, slots_since_last_active: int) -> int:
    """The liquidator fee after ``slots_since_last_active`` slots (``get_liquidation_fee``).

    Formula: ``base`` within the grace period; after it
    ``min(max_fee, base + slots_since_last_active × 0.0001%)``. Rounds: never (whole ppm).
    """
    if slots_since_last_active < DRIFT_FEE_GRACE_SLOTS:
        return base_fee_ppm
    return min(max_fee_ppm, base_fee_ppm + slots_since_last_active * DRIFT_FEE_INCREASE_PER_SLOT_PPM)


def drift_if_fee(
    margin_shortage: Any, base_value: Any, margin_ratio_ppm: int, liquidator_fee_ppm: int, max_if_fee_ppm: int
) -> Fraction:
    """The insurance-fund fee rate charged on a perp liquidation (``calculate_perp_if_fee``), exactly.

    Formula: ``if_fee = min(max_if_fee, 0.95 × max(0, MR − liq_fee − shortage / (base × price)))``;
    the 0.95 keeps the fee from pushing the user into bankruptcy. ``base_value`` is
    ``base × price`` in the shortage's quote unit. Rates returned as a Fraction of 1.
    """
    room = Fraction(margin_ratio_ppm - liquidator_fee_ppm, PPM) - Fraction(margin_shortage) / Fraction(base_value)
    return min(Fraction(max_if_fee_ppm, PPM), Fraction(95, 100) * max(room, Fraction(0)))


__all__ = [
    "DRIFT_FEE_GRACE_SLOTS",
    "DRIFT_FEE_INCREASE_PER_SLOT_PPM",
    "adjusted_bankruptcy_rating",
    "bankruptcy_gap_per_lot",
    "bankruptcy_price",
    "bankruptcy_price_exact",
    "bankruptcy_quote",
    "clawback_rate",
    "drift_if_fee",
    "drift_liquidation_fee",
    "drift_max_liquidation_fee",
    "fillable_price",
    "fillable_price_doc_form",
    "hyperliquid_maintenance_rate",
    "inverse_bankruptcy_price",
    "linear_bankruptcy_price",
    "liquidation_fee_paid",
    "liquidation_insurance_fund_delta",
    "maintenance_amount",
    "okx_adl_threshold",
    "max_liquidation_fee",
    "price_at_gap",
    "rate_ppm",
    "round_to_tick",
    "tiered_maintenance_margin",
]

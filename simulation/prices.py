"""Price paths: a named model's draws, or a CSV's candles, as whole quote quanta per lot.

Each path is ``steps × cadence`` venue prices, one per mark event. A model is simulated on that
fine grid (``dt = step / cadence``), so the cadence changes how often the engine looks at the
price, not the law of the price at the end of each step. Draws are floats (a numpy
``Generator``); the one place a float becomes money is :func:`to_quanta`.

Formulas (``Z`` standard normal, ``dt`` in years):

- GBM (Black & Scholes 1973; exact log-Euler step): ``ln S' − ln S = (μ − σ²/2) dt + σ √dt Z``.
- Merton jump-diffusion (Merton 1976, "Option pricing when underlying stock returns are
  discontinuous", J. Financial Economics 3): the GBM step plus ``Σ_{i≤N} J_i − λ κ dt`` with
  ``N ~ Poisson(λ dt)``, ``J_i ~ N(μ_J, σ_J²)``, ``κ = exp(μ_J + σ_J²/2) − 1`` (so ``E[S'/S] = e^{μ dt}``).
- GARCH(1,1) (Bollerslev 1986, J. Econometrics 31): per step ``r_t = m + ε_t``, ``ε_t = σ_t z_t``,
  ``σ_t² = ω + α ε_{t−1}² + β σ_{t−1}²``, ``σ_0² = ω / (1 − α − β)``; a step's shock is split
  into ``cadence`` independent normal sub-shocks of variance ``σ_t² / cadence`` (and mean
  ``m / cadence``), whose sum is the step's ``ε_t``.
- Candles, replayed: each candle becomes ``cadence`` marks along open → first extreme → second
  extreme → close (the low first on a candle that closes at or above its open): 1 gives the close,
  2 the first extreme and the close, 3 or more both extremes and the close, with the rest spread
  linearly over the three legs (exact, in ``Fraction``).
- Candles, bootstrapped (Künsch 1989, the moving-block bootstrap): blocks of ``block`` consecutive
  candles, each candle as its prices over the previous close, drawn uniformly and chained from
  the start price.

Rounds: :data:`PRICE_ROUNDING` (half-even) to a whole quote quantum per lot, and never below one.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from solvent.rules.arith import Rounding, div
from solvent.simulation.candles import Candle, CandleSeries
from solvent.simulation.scenario import (
    CandleMode,
    Candles,
    Garch,
    Gbm,
    Merton,
    PathSpec,
    PriceModel,
    UnrunnableScenario,
)

#: a drawn price rounds to the nearest whole quote quantum per lot (ties to even): unbiased
PRICE_ROUNDING = Rounding.HALF_EVEN
#: a drawn price above this many quanta per lot is refused as a model that ran away
MAX_PRICE = 10**15


class PriceError(UnrunnableScenario):
    """A price path that cannot be priced in whole quanta (the model overflowed)."""


def to_quanta(price: Any) -> int:
    """A price (float or Fraction) as whole quote quanta per lot, rounded half-even, at least 1."""
    if isinstance(price, float) and not math.isfinite(price):
        raise PriceError(f"the price model produced {price}: lower its volatility or the number of steps")
    exact = Fraction(price)
    if exact > MAX_PRICE:
        raise PriceError(f"the price model produced {float(exact):.3g} quanta per lot (more than {MAX_PRICE:.0e})")
    return max(div(exact.numerator, exact.denominator, rounding=PRICE_ROUNDING), 1)


def _gbm_increments(model: Gbm | Merton, dt: float, n: int, rng: np.random.Generator) -> np.ndarray:
    mu, sigma = float(model.drift), float(model.volatility)
    return (mu - sigma * sigma / 2) * dt + sigma * math.sqrt(dt) * rng.standard_normal(n)


def _merton_increments(model: Merton, dt: float, n: int, rng: np.random.Generator) -> np.ndarray:
    base = _gbm_increments(model, dt, n, rng)
    lam, mj, sj = float(model.jump_intensity), float(model.jump_mean), float(model.jump_stdev)
    kappa = math.exp(mj + sj * sj / 2) - 1
    jumps = rng.poisson(lam * dt, n)
    sizes = mj * jumps + sj * np.sqrt(jumps) * rng.standard_normal(n)
    return base + sizes - lam * kappa * dt


def _garch_increments(model: Garch, steps: int, cadence: int, rng: np.random.Generator) -> np.ndarray:
    omega, alpha, beta, mean = (float(model.omega), float(model.alpha), float(model.beta), float(model.mean))
    variance = omega / (1 - alpha - beta)
    shocks = rng.standard_normal((steps, cadence))
    out = np.empty((steps, cadence))
    for t in range(steps):
        sub = math.sqrt(variance / cadence) * shocks[t]
        out[t] = mean / cadence + sub
        epsilon = float(sub.sum())
        variance = omega + alpha * epsilon * epsilon + beta * variance
    return out.reshape(-1)


def model_path(model: Gbm | Merton | Garch, spec: PathSpec, rng: np.random.Generator) -> list[int]:
    """``steps × cadence`` venue prices from a model, in whole quanta per lot."""
    steps, cadence = spec.steps or 0, spec.cadence
    dt = spec.step_years / cadence
    n = steps * cadence
    if isinstance(model, Merton):
        increments = _merton_increments(model, dt, n, rng)
    elif isinstance(model, Gbm):
        increments = _gbm_increments(model, dt, n, rng)
    else:
        increments = _garch_increments(model, steps, cadence, rng)
    with np.errstate(over="ignore"):
        levels = model.start * np.exp(np.cumsum(increments))
    return [to_quanta(float(x)) for x in levels]


# --- candles -------------------------------------------------------------------------------------


def _legs(candle: Candle, cadence: int) -> list[Any]:
    """The ``cadence`` points a candle is split into (see the module's formulas)."""
    first, second = (candle.low, candle.high) if candle.close >= candle.open else (candle.high, candle.low)
    if cadence == 1:
        return [candle.close]
    if cadence == 2:
        return [first, candle.close]
    counts = [cadence // 3 + (1 if i < cadence % 3 else 0) for i in range(3)]
    points: list[Any] = []
    for (a, b), count in zip(((candle.open, first), (first, second), (second, candle.close)), counts, strict=True):
        points += [a + (b - a) * Fraction(j, count) for j in range(1, count + 1)]
    return points


def replay_path(model: Candles, series: CandleSeries, spec: PathSpec) -> list[int]:
    """The candles as they are (the first ``steps`` if given), ``cadence`` marks each, exactly."""
    candles = series.candles[: spec.steps] if spec.steps else series.candles
    scale = Fraction(model.scale)
    return [to_quanta(p * scale) for c in candles for p in _legs(c, spec.cadence)]


def _relative(series: CandleSeries) -> np.ndarray:
    """Each candle's open, high, low and close over the previous close (the first: its own open)."""
    rows, previous = [], series.candles[0].open
    for c in series.candles:
        rows.append(
            [float(c.open / previous), float(c.high / previous), float(c.low / previous), float(c.close / previous)]
        )
        previous = c.close
    return np.array(rows)


def bootstrap_path(
    model: Candles, series: CandleSeries, spec: PathSpec, rng: np.random.Generator, start: int
) -> list[int]:
    """``steps`` candles drawn in blocks from the file, chained from ``start``, ``cadence`` marks each."""
    relative = _relative(series)
    steps, block = spec.steps or 0, model.block
    starts = rng.integers(0, len(relative) - block + 1, size=-(-steps // block))
    chosen = np.concatenate([relative[s : s + block] for s in starts])[:steps]
    level, prices = float(start), []
    for o, h, lo, c in chosen:
        candle = Candle(*(Fraction(level * x) for x in (o, h, lo, c)))
        prices += [to_quanta(p) for p in _legs(candle, spec.cadence)]
        level = level * c
    return prices


def start_price(model: PriceModel, series: CandleSeries | None) -> int:
    """The venue price every path starts at, whole quanta per lot."""
    if not isinstance(model, Candles):
        return model.start
    assert series is not None
    if model.mode is CandleMode.BOOTSTRAP and model.start is not None:
        return model.start
    return to_quanta(series.candles[0].open * Fraction(model.scale))


def price_path(
    model: PriceModel, spec: PathSpec, rng: np.random.Generator, series: CandleSeries | None = None
) -> list[int]:
    """One path's venue prices, one per mark event."""
    if not isinstance(model, Candles):
        return model_path(model, spec, rng)
    assert series is not None
    if model.mode is CandleMode.REPLAY:
        return replay_path(model, series, spec)
    return bootstrap_path(model, series, spec, rng, start_price(model, series))


__all__ = ["MAX_PRICE", "PRICE_ROUNDING", "PriceError", "price_path", "start_price", "to_quanta"]

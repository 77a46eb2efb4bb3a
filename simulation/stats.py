"""Estimates with their uncertainty, deterministic for a given set of path outcomes.

- A probability ``k / n`` with its Wilson score interval (Wilson 1927, JASA 22): no seed, and
  sensible at ``k = 0`` and ``k = n``, where the normal interval collapses to a point.
- A quantile (VaR, LaR): the empirical quantile ``X_(⌈q n⌉)``, the smallest outcome with at least a
  share ``q`` of paths at or below it, an exact integer; its interval is distribution-free,
  ``[X_(l), X_(u)]`` with ``l, u`` from the binomial law of the number of paths below the true
  quantile (Hahn & Meeker 1991, §5.2), covering at least 95% when ``n`` allows (else the widest,
  and ``covered`` says so).
- Expected shortfall ``ES_q``: the mean of the outcomes from ``X_(⌈q n⌉)`` up, and a mean; each with
  a percentile bootstrap interval (Efron & Tibshirani 1993) of :data:`RESAMPLES` resamples drawn
  from ``SeedSequence(seed, spawn_key=(STATS_KEY, i))``: the same numbers for the same outcomes.

Rounds: a mean or an expected shortfall is shown in whole quanta, half-even (:data:`MEAN_ROUNDING`);
the exact value is ``sum / count``, both integers, kept beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from solvent.rules.arith import Rounding, div

#: the two-sided 95% normal quantile, Φ⁻¹(0.975)
Z95 = 1.959963984540054
LEVEL = 0.95
RESAMPLES = 1000
#: the spawn key that keeps the statistics' streams apart from every path's (paths use (i,))
STATS_KEY = 2**32 - 1
MEAN_ROUNDING = Rounding.HALF_EVEN


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for ``k`` successes in ``n`` trials."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


def _binomial_cdf(n: int, q: float) -> list[float]:
    """``F[j] = P(Bin(n, q) < j)`` for j = 0..n+1, by log-gamma terms (no underflow at large n)."""
    if q <= 0 or q >= 1:
        raise ValueError(f"a quantile level must be strictly between 0 and 1: {q}")
    log_q, log_p = math.log(q), math.log1p(-q)
    base = math.lgamma(n + 1)
    cdf, total = [0.0], 0.0
    for i in range(n + 1):
        total += math.exp(base - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_q + (n - i) * log_p)
        cdf.append(min(total, 1.0))
    return cdf


def quantile_index(n: int, q: float) -> int:
    """The 1-based rank of the empirical ``q`` quantile: ``⌈q n⌉`` (at least 1)."""
    return max(1, math.ceil(round(q * n, 9)))


def quantile(sorted_values: Sequence[int], q: float) -> dict[str, Any]:
    """``X_(⌈q n⌉)`` of sorted outcomes, with its distribution-free interval."""
    n = len(sorted_values)
    value = sorted_values[quantile_index(n, q) - 1]
    cdf = _binomial_cdf(n, q)
    alpha = (1 - LEVEL) / 2
    # coverage of [X_(l), X_(u)] is P(l <= B < u) = cdf[u] - cdf[l], B ~ Bin(n, q)
    lows = [j for j in range(1, n + 1) if cdf[j] <= alpha]
    highs = [j for j in range(1, n + 1) if cdf[j] >= 1 - alpha]
    low, high = (lows[-1] if lows else 1), (highs[0] if highs else n)
    return {
        "value": value,
        "low": sorted_values[low - 1],
        "high": sorted_values[high - 1],
        "covered": bool(lows and highs),
    }


def _rounded(total: int, count: int) -> int:
    return div(total, count, rounding=MEAN_ROUNDING) if count else 0


def _resample_stats(values: np.ndarray, q: float | None, seed: int, key: int) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean (``q`` None) or of ``ES_q``."""
    n = len(values)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STATS_KEY, key)))
    out = np.empty(RESAMPLES)
    chunk = max(1, min(RESAMPLES, 2_000_000 // max(n, 1)))
    for start in range(0, RESAMPLES, chunk):
        rows = min(chunk, RESAMPLES - start)
        sample = values[rng.integers(0, n, size=(rows, n))]
        if q is None:
            out[start : start + rows] = sample.mean(axis=1)
        else:
            sample.sort(axis=1)
            out[start : start + rows] = sample[:, quantile_index(n, q) - 1 :].mean(axis=1)
    low, high = np.quantile(out, [(1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2])
    return float(low), float(high)


def mean(values: Sequence[int], seed: int, key: int) -> dict[str, Any]:
    total, n = sum(values), len(values)
    low, high = _resample_stats(np.asarray(values, dtype=np.float64), None, seed, key) if n else (0.0, 0.0)
    return {"value": _rounded(total, n), "sum": total, "count": n, "low": low, "high": high}


def shortfall(sorted_values: Sequence[int], q: float, seed: int, key: int) -> dict[str, Any]:
    """``ES_q``: the mean of the outcomes from the ``q`` quantile up, with a bootstrap interval."""
    n = len(sorted_values)
    tail = sorted_values[quantile_index(n, q) - 1 :]
    low, high = _resample_stats(np.asarray(sorted_values, dtype=np.float64), q, seed, key)
    return {"value": _rounded(sum(tail), len(tail)), "sum": sum(tail), "count": len(tail), "low": low, "high": high}


def probability(k: int, n: int) -> dict[str, Any]:
    low, high = wilson(k, n)
    return {"count": k, "paths": n, "value": k / n if n else 0.0, "low": low, "high": high}


__all__ = ["LEVEL", "RESAMPLES", "mean", "probability", "quantile", "shortfall", "wilson"]

"""A user's CSV of candles, read exactly and checked line by line.

The header names the columns ``time, open, high, low, close`` (any order, other columns ignored,
names case-insensitive). ``time`` is a number (e.g. Unix seconds) or an ISO 8601 timestamp and
must strictly increase; prices are decimal numbers, read exactly as ``Fraction``, positive and
finite, with ``low ≤ open, close ≤ high``. A problem is reported as ``<file>:<line>: ...`` with
the expected form; every problem found is reported at once (:class:`~solvent.simulation.loading.ScenarioError`).
"""

from __future__ import annotations

import csv
import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs

from solvent.simulation.loading import ScenarioError

COLUMNS = ("time", "open", "high", "low", "close")
PRICES = COLUMNS[1:]
#: at most this many problems are listed; the rest are counted
MAX_ERRORS = 20


@attrs.frozen
class Candle:
    """One candle's prices, exact, in the CSV's own units."""

    open: Fraction
    high: Fraction
    low: Fraction
    close: Fraction


@attrs.frozen
class CandleSeries:
    """The candles of one file, in time order, and where they came from."""

    source: str
    candles: tuple[Candle, ...]


def _price(text: str) -> Fraction | None:
    """A positive finite decimal, exactly; None for anything else (nan, inf, 0, -1, 'abc')."""
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def _time(text: str) -> Any:
    """A number, or an ISO 8601 timestamp (a naive one is read as UTC); None if neither."""
    text = text.strip()
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        pass
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return Fraction(moment.timestamp()).limit_denominator(10**6)


def _header(row: list[str], source: str) -> dict[str, int]:
    names = [c.strip().lower() for c in row]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise ScenarioError(
            source,
            [
                f"{source}:1: missing column(s) {', '.join(repr(c) for c in missing)}: {row!r} "
                f"(expected a header row naming {', '.join(COLUMNS)})"
            ],
        )
    return {c: names.index(c) for c in COLUMNS}


def _candle(row: list[str], at: dict[str, int], where: str, errors: list[str]) -> tuple[Any, Candle | None]:
    if len(row) <= max(at.values()):
        errors.append(f"{where}: expected {len(COLUMNS)} values ({', '.join(COLUMNS)}): {','.join(row)!r}")
        return None, None
    time = _time(row[at["time"]])
    if time is None:
        errors.append(f"{where}: 'time' must be a number or an ISO 8601 timestamp: {row[at['time']].strip()!r}")
    prices = {c: _price(row[at[c]]) for c in PRICES}
    bad = [c for c in PRICES if prices[c] is None]
    for c in bad:
        errors.append(f"{where}: '{c}' must be a finite number > 0: {row[at[c]].strip()!r}")
    if bad:
        return time, None
    candle = Candle(**prices)
    if not candle.low <= min(candle.open, candle.close) or not candle.high >= max(candle.open, candle.close):
        errors.append(
            f"{where}: prices must satisfy low <= open, close <= high: open {row[at['open']].strip()}, "
            f"high {row[at['high']].strip()}, low {row[at['low']].strip()}, close {row[at['close']].strip()}"
        )
        return time, None
    return time, candle


def load_candles(path: str | Path) -> CandleSeries:
    """The candles in a CSV file, or ScenarioError naming the file, the line and the expected form."""
    source = str(path)
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ScenarioError(source, [f"cannot read the CSV of candles: {exc}"]) from None
    if not rows:
        raise ScenarioError(source, [f"{source}: empty file (expected a header row naming {', '.join(COLUMNS)})"])
    at = _header(rows[0], source)
    errors: list[str] = []
    candles: list[Candle] = []
    last: tuple[int, Any] | None = None
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"{source}:{line}"
        time, candle = _candle(row, at, where, errors)
        if time is not None and last is not None and time <= last[1]:
            errors.append(
                f"{where}: 'time' must be later than line {last[0]}'s ({rows[last[0] - 1][at['time']].strip()}): "
                f"{row[at['time']].strip()} (candles in increasing time order)"
            )
        if time is not None:
            last = (line, time)
        if candle is not None:
            candles.append(candle)
    if not errors and not candles:
        errors.append(f"{source}: no candles after the header (expected rows of {', '.join(COLUMNS)})")
    if errors:
        extra = len(errors) - MAX_ERRORS
        shown = errors[:MAX_ERRORS] + ([f"... and {extra} more"] if extra > 0 else [])
        raise ScenarioError(source, shown)
    return CandleSeries(source, tuple(candles))


__all__ = ["COLUMNS", "Candle", "CandleSeries", "load_candles"]

"""The insurance fund's drawdown: the ADL trigger OKX uses (docs/venues.md#okx-adl).

OKX starts ADL when the insurance fund of a contract falls too far below its recent level: "the
8-hour average minus the higher of 30% or $50K" (OKX ADL page; worked example: fund $200K, 8-hour
average $400K, threshold $280K, so ADL). Solvent counts events, not hours: the window is
``window_events`` events long, and the book keeps the running sum of the fund's balance at the
start of each event of the current window (``Book.insurance_window_sum_quote``).

Formula (clock t, window W, fund balance F_t at the start of event t, in the current window of
k = t mod W + 1 samples):
    sum       = F_t                       at a window's first event (t mod W = 0)
              = sum + F_t                 otherwise
    reference = ⌊sum / k⌋                 the window's average
    drawdown  = max(⌊reference × drawdown_ppm / 1e6⌋, min_drawdown_quote)
    triggered   F < reference − drawdown  (F: the fund's balance now, after what it paid)
Rounds: the average down (a lower reference: ADL starts no earlier than on the exact average)
and the percentage down (a smaller allowed fall: ADL starts no later than on the exact
percentage); each is off by less than one quantum.
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.arith import PPM, Rounding, div, max_
from solvent.rules.book import Book, Role
from solvent.rules.fields import count_field, ppm_field, quote_field


@attrs.frozen
class FundDrawdown:
    """ADL also runs while the insurance fund is below its window average minus the larger of
    ``drawdown_ppm`` of that average and ``min_drawdown_quote``."""

    drawdown_ppm: int = ppm_field(min_value=1)
    window_events: int = count_field(min_value=1)
    min_drawdown_quote: int = quote_field(default=0)


def sample(rule: FundDrawdown, book: Book) -> Book:
    """The book with the fund's balance at the start of this event added to the window's sum;
    where the fund is kept per market (``Book.more_window_sums``), every market's fund to its own
    window's sum, on every event (each market's fund is "the applicable fund" of its contracts,
    docs/venues.md#okx-insurance-fund)."""
    fund = book.role(Role.INSURANCE_FUND)
    first = book.clock % rule.window_events == 0
    total = fund.cash_quote if first else book.insurance_window_sum_quote + fund.cash_quote
    if not book.more_window_sums:
        return attrs.evolve(book, insurance_window_sum_quote=total)
    sums = tuple(f if first else s + f for s, f in zip(book.more_window_sums, fund.more_funds, strict=True))
    return attrs.evolve(book, insurance_window_sum_quote=total, more_window_sums=sums)


def reference(rule: FundDrawdown, book: Book) -> Any:
    """The window's average fund balance, rounded down (``book`` already sampled this event)."""
    samples = book.clock % rule.window_events + 1
    return div(book.insurance_window_sum_quote, samples, rounding=Rounding.FLOOR)


def threshold(rule: FundDrawdown, book: Book) -> Any:
    """reference − max(⌊reference × drawdown_ppm / 1e6⌋, min_drawdown_quote)."""
    ref = reference(rule, book)
    fall = max_(div(ref * rule.drawdown_ppm, PPM, rounding=Rounding.FLOOR), rule.min_drawdown_quote)
    return ref - fall


def is_drawn_down(rule: FundDrawdown, book: Book) -> Any:
    """Whether the fund's balance now is below the threshold."""
    return book.role(Role.INSURANCE_FUND).cash_quote < threshold(rule, book)

"""A path's book: traders drawn from the scenario's distributions, opened by ordinary engine events.

The book starts empty (``solvent.rules.book.new_book``) and is filled by the same events a story
uses: deposits to the order book's ``liquidity`` account and the insurance fund, then for each
trader a deposit and a trade at the start price with ``maker``, the trader account that takes the
other side of every trade (so it ends holding the book's net imbalance). So every unit on the
book was deposited, the engine accepts every opening as a venue would, and a path is a story
``solvent replay`` can run.

Draws are floats; what enters the engine is whole quanta and lots:

- lots = ⌊notional / lot value⌋, at least 1 (:data:`SIZE_ROUNDING`: never more exposure than drawn);
- collateral = ⌈lots × lot value / leverage⌉ (:data:`COLLATERAL_ROUNDING`: never more leverage than
  drawn), raised to the policy's initial margin plus the taker fee where the draw is above the
  policy's leverage (counted as ``capped``).
"""

from __future__ import annotations

import math
from fractions import Fraction

import attrs
import numpy as np

from solvent.rules.arith import Rounding, div, mul_ppm
from solvent.rules.book import Book, new_book
from solvent.rules.contract import lot_value, to_engine
from solvent.rules.events import Deposit, Event, Taker, Trade
from solvent.rules.margin import initial_margin
from solvent.rules.policy import Policy
from solvent.simulation.scenario import BookSpec, Distribution, Fixed, LogNormal, Pareto, Uniform, UnrunnableScenario

#: a drawn notional becomes whole lots rounded down: a trader never holds more than it drew
SIZE_ROUNDING = Rounding.FLOOR
#: collateral for a drawn leverage is rounded up: a trader never runs more leverage than it drew
COLLATERAL_ROUNDING = Rounding.CEIL
MAKER = "maker"


@attrs.frozen
class Population:
    """A path's empty book, the events that open it (engine terms), and what was drawn."""

    book: Book
    setup: tuple[Event, ...]
    deposits_quote: dict[str, int]
    capped: int
    long_notional_quote: int


def draw(dist: Distribution, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` draws of a distribution (floats)."""
    if isinstance(dist, Fixed):
        return np.full(n, float(dist.value))
    if isinstance(dist, Uniform):
        return rng.uniform(float(dist.low), float(dist.high), n)
    if isinstance(dist, LogNormal):
        return float(dist.median) * np.exp(float(dist.sigma) * rng.standard_normal(n))
    if isinstance(dist, Pareto):
        x = float(dist.minimum) * (1.0 + rng.pareto(float(dist.alpha), n))
        return x if dist.cap is None else np.minimum(x, float(dist.cap))
    raise TypeError(f"not a distribution: {dist!r}")


def _exact(x: float, what: str) -> tuple[int, int]:
    """A finite float draw, exactly: its numerator and denominator in lowest terms (a float is a
    dyadic rational; what ``Fraction(x)`` holds)."""
    if not math.isfinite(x) or x <= 0:
        raise UnrunnableScenario(f"a drawn {what} is {x}: the distribution's tail is too heavy (set 'cap')")
    return float(x).as_integer_ratio()


def _fee(policy: Policy, notional: int, rate_ppm: int) -> int:
    return mul_ppm(notional, max(rate_ppm, 0), rounding=policy.rounding.fee)


def trader_names(n: int) -> tuple[str, ...]:
    width = len(str(n - 1))
    return tuple(f"t{i:0{width}d}" for i in range(n))


def populate(policy: Policy, spec: BookSpec, start: int, rng: np.random.Generator) -> Population:
    """Draw ``spec.traders`` traders (side, notional, leverage, in that order) and open their
    positions at venue price ``start``."""
    n = spec.traders
    longs = rng.random(n) < float(spec.long_share)
    notionals = draw(spec.size, rng, n)
    leverages = draw(spec.leverage, rng, n)
    mark = lot_value(policy.contract, start)
    names = trader_names(n)
    book = new_book(mark_quote=mark, traders=(*names, MAKER))
    trades: list[Event] = []
    deposits: dict[str, int] = {}
    capped, maker_lots, maker_peak, maker_fees = 0, 0, 0, 0
    # the draws as Python floats and bools (the same values; numpy's scalars are slow one at a time)
    draws = zip(names, longs.tolist(), notionals.tolist(), leverages.tolist(), strict=True)
    for name, is_long, notional, leverage in draws:
        value, per = _exact(notional, "size")
        lots = max(div(value, per * mark, rounding=SIZE_ROUNDING), 1)
        times, over = _exact(leverage, "leverage")
        collateral = div(lots * mark * over, times, rounding=COLLATERAL_ROUNDING)
        floor = initial_margin(policy.margin, policy.rounding, lots, mark) + _fee(
            policy, lots * mark, policy.fees.taker_ppm
        )
        if collateral < floor:
            capped += 1
            collateral = floor
        deposits[name] = collateral
        buyer, seller = (name, MAKER) if is_long else (MAKER, name)
        taker = Taker.BUYER if is_long else Taker.SELLER
        trades += [Deposit(name, collateral), Trade(buyer, seller, lots, start, taker)]
        maker_lots += -lots if is_long else lots
        maker_peak = max(maker_peak, abs(maker_lots))
        maker_fees += _fee(policy, lots * mark, policy.fees.maker_ppm)
    long_lots = sum(int(x) for x in _long_lots(trades, maker_lots))
    long_notional = long_lots * mark
    maker_leverage = Fraction(spec.maker_leverage)
    maker_margin = initial_margin(policy.margin, policy.rounding, maker_peak, mark) + maker_fees + 1
    maker_deposit = max(
        div(maker_peak * mark * maker_leverage.denominator, maker_leverage.numerator, rounding=COLLATERAL_ROUNDING)
        + maker_fees,
        maker_margin,
    )
    deposits[MAKER] = maker_deposit
    fund = spec.insurance_fund_quote + mul_ppm(long_notional, spec.insurance_fund_ppm, rounding=Rounding.FLOOR)
    liquidity = mul_ppm(long_notional, spec.liquidity_ppm, rounding=Rounding.FLOOR)
    opening: list[Event] = []
    if liquidity > 0:
        opening.append(Deposit("liquidity", liquidity))
        deposits["liquidity"] = liquidity
    if fund > 0:
        opening.append(Deposit("insurance_fund", fund))
    opening.append(Deposit(MAKER, maker_deposit))
    events = tuple(to_engine(policy.contract, e) for e in (*opening, *trades))
    return Population(book, events, deposits, capped, long_notional)


def _long_lots(trades: list[Event], maker_lots: int) -> list[int]:
    """The long positions after the opening trades: each long trader's lots, and the maker's if long."""
    out = [e.lots for e in trades if isinstance(e, Trade) and e.seller == MAKER]
    return out + ([maker_lots] if maker_lots > 0 else [])


__all__ = ["COLLATERAL_ROUNDING", "MAKER", "SIZE_ROUNDING", "Population", "draw", "populate", "trader_names"]

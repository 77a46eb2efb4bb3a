"""A path from its index alone: seeds, book, prices and events, the same in any process.

Path ``i`` of a scenario seeded ``s`` draws from ``numpy.random.SeedSequence(s, spawn_key=(i,))``
(what ``SeedSequence(s).spawn(n)[i]`` gives), split into one stream for the book and one for the
prices. So a path's draws depend on nothing but ``(s, i)``: not on which worker runs it, in which
batch, or how many paths run; and the price path does not change when the book's size does.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import attrs
import numpy as np

from solvent.rules.arith import Rounding, mul_ppm
from solvent.rules.contract import from_engine, to_engine
from solvent.rules.events import Event, MarkPrice
from solvent.rules.liquidation import Execution
from solvent.rules.policy import Policy
from solvent.simulation.candles import CandleSeries
from solvent.simulation.population import Population, populate
from solvent.simulation.prices import price_path, start_price
from solvent.simulation.scenario import Scenario


class ScenarioPolicyError(ValueError):
    """The scenario asks the policy for something it does not have (slippage on a non-market close)."""


@attrs.frozen
class Prepared:
    """Everything a worker needs to run any path: plain, picklable values."""

    policy: Policy
    scenario: Scenario
    series: CandleSeries | None = None

    @property
    def start(self) -> int:
        return start_price(self.scenario.prices, self.series)


def same_quantity(a: str, b: str) -> bool:
    """``"0.01 USDT"`` and ``"0.010  USDT"`` are one quantity: the same number and unit."""
    (x, _, u), (y, _, v) = (s.strip().partition(" ") for s in (a, b))
    try:
        return Fraction(x) == Fraction(y) and u.strip() == v.strip()
    except (ValueError, ZeroDivisionError):
        return a.strip() == b.strip()


def with_scenario(policy: Policy, scenario: Scenario) -> Policy:
    """The policy with the scenario's liquidation overrides (slippage on a market close), after
    checking that the scenario is written in the policy's quanta (its ``[units]``, where given)."""
    for key in ("quote", "lot"):
        written, counted = getattr(scenario.units, key), getattr(policy.units, key)
        if written is not None and not same_quantity(written, counted):
            raise ScenarioPolicyError(
                f"'{key}' is {written!r}, but {policy.name} counts in {counted!r}: the scenario's amounts and "
                f"prices are quanta of another policy's units @ $.units.{key}"
            )
    slippage = scenario.liquidation.slippage_ppm
    if slippage is None:
        return policy
    if policy.liquidation.execution is not Execution.MARKET:
        raise ScenarioPolicyError(
            f"'slippage_ppm' needs a policy whose liquidation executes at market: {policy.name} closes at "
            f"{policy.liquidation.execution.value!r} @ $.liquidation.slippage_ppm"
        )
    return attrs.evolve(policy, liquidation=attrs.evolve(policy.liquidation, slippage_ppm=slippage))


def streams(seed: int, index: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Path ``index``'s two random streams: the book's and the prices'."""
    book, prices = np.random.SeedSequence(seed, spawn_key=(index,)).spawn(2)
    return np.random.default_rng(book), np.random.default_rng(prices)


@attrs.frozen
class Path:
    """Path ``index``: its book and opening events, and its mark events (engine terms)."""

    index: int
    population: Population
    marks: tuple[Event, ...]
    prices: tuple[int, ...]

    @property
    def events(self) -> tuple[Event, ...]:
        return (*self.population.setup, *self.marks)


#: a price band's half-width, ⌊cap_ppm × M / 10⁶⌋: down, so a capped move never exceeds the cap
BAND_ROUNDING = Rounding.FLOOR


def capped(marks: Sequence[int], start: int, cap_ppm: int | None) -> list[int]:
    """Engine marks that move at most ``cap_ppm`` of the previous mark per event, chasing ``marks``
    from ``start``: each mark is the target clamped to ``M ± ⌊cap_ppm × M / 10⁶⌋``, so
    ``|M' − M| × 10⁶ ≤ cap_ppm × M`` exactly (the safe move's measure, ``⌈|M' − M| × 10⁶ / M⌉``,
    is at most the cap). ``None``: no cap."""
    if cap_ppm is None:
        return list(marks)
    out, mark = [], start
    for target in marks:
        band = mul_ppm(mark, cap_ppm, rounding=BAND_ROUNDING)
        mark = min(max(target, mark - band), mark + band)
        out.append(mark)
    return out


def _engine_marks(prepared: Prepared, prices: Sequence[int]) -> list[int]:
    contract = prepared.policy.contract
    marks = [to_engine(contract, MarkPrice(p)).price_quote for p in prices]
    start = to_engine(contract, MarkPrice(prepared.start)).price_quote
    return capped(marks, start, prepared.scenario.path.max_move_ppm)


def venue_prices(prepared: Prepared, seed: int, index: int) -> list[Any]:
    """Path ``index``'s venue prices as the engine sees them (after ``[path] max_move_ppm``): the
    model's prices, or with a cap the capped marks in the venue's terms (exact; a ``Fraction`` on
    an inverse contract where a lot's value does not give a whole price)."""
    prices = price_path(prepared.scenario.prices, prepared.scenario.path, streams(seed, index)[1], prepared.series)
    if prepared.scenario.path.max_move_ppm is None:
        return prices
    contract = prepared.policy.contract
    return [from_engine(contract, MarkPrice(m)).price_quote for m in _engine_marks(prepared, prices)]


def build(prepared: Prepared, seed: int, index: int) -> Path:
    book_rng, price_rng = streams(seed, index)
    scenario, policy = prepared.scenario, prepared.policy
    population = populate(policy, scenario.book, prepared.start, book_rng)
    prices = price_path(scenario.prices, scenario.path, price_rng, prepared.series)
    if scenario.path.max_move_ppm is None:
        marks = tuple(to_engine(policy.contract, MarkPrice(p)) for p in prices)
        return Path(index, population, marks, tuple(prices))
    engine = _engine_marks(prepared, prices)
    venue = tuple(from_engine(policy.contract, MarkPrice(m)).price_quote for m in engine)
    return Path(index, population, tuple(MarkPrice(m) for m in engine), venue)


__all__ = ["Path", "Prepared", "ScenarioPolicyError", "build", "capped", "streams", "venue_prices", "with_scenario"]

"""A path from its index alone: seeds, book, prices and events, the same in any process.

Path ``i`` of a scenario seeded ``s`` draws from ``numpy.random.SeedSequence(s, spawn_key=(i,))``
(what ``SeedSequence(s).spawn(n)[i]`` gives), split into one stream for the book and one for the
prices. So a path's draws depend on nothing but ``(s, i)``: not on which worker runs it, in which
batch, or how many paths run; and the price path does not change when the book's size does.
"""

from __future__ import annotations

import attrs
import numpy as np

from solvent.rules.contract import to_engine
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


def with_scenario(policy: Policy, scenario: Scenario) -> Policy:
    """The policy with the scenario's liquidation overrides (slippage on a market close)."""
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


def build(prepared: Prepared, seed: int, index: int) -> Path:
    book_rng, price_rng = streams(seed, index)
    scenario, policy = prepared.scenario, prepared.policy
    population = populate(policy, scenario.book, prepared.start, book_rng)
    prices = price_path(scenario.prices, scenario.path, price_rng, prepared.series)
    marks = tuple(to_engine(policy.contract, MarkPrice(p)) for p in prices)
    return Path(index, population, marks, tuple(prices))


__all__ = ["Path", "Prepared", "ScenarioPolicyError", "build", "streams", "with_scenario"]

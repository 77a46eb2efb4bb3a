"""Run a scenario's paths on any ``concurrent.futures.Executor`` and summarize them.

Paths run in batches of ``batch`` (by index: 0..batch−1, then the next batch, ...); each batch is
cut into chunks submitted to the executor, and every chunk returns plain data (one dict per
path). Outcomes are put back in index order before anything is computed from them, so the result
is the same for 1 worker, 2 workers, a process pool or a Dask cluster. With ``until``, the run
stops after the first batch at which every probability's 95% interval is at most ``until`` wide,
or at ``paths``: a rule on counts, never on time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import attrs

from solvent.rules.policy import Policy
from solvent.simulation import stats
from solvent.simulation.candles import CandleSeries, load_candles
from solvent.simulation.engine import PathEngine, exact
from solvent.simulation.loading import ScenarioError, load_scenario
from solvent.simulation.outcome import PathOutcome
from solvent.simulation.paths import Prepared, build, with_scenario
from solvent.simulation.scenario import CandleMode, Candles, Scenario

#: probabilities: name → the outcome test a path passes
PROBABILITIES: dict[str, Callable[[PathOutcome], bool]] = {
    "bad_debt": lambda o: o.bad_debt_quote > 0,
    "fund_exhausted": lambda o: o.fund_exhausted,
    "adl": lambda o: o.adl,
    "socialized_loss_or_haircut": lambda o: o.socialized,
    "winners_pay": lambda o: o.haircut_quote > 0,
    "negative_balance": lambda o: o.first_negative_event is not None,
}
#: distributions whose tail is summarized: name → the outcome field
TAILS = {
    "fund_drawdown_quote": "fund_drawdown_quote",
    "bad_debt_quote": "bad_debt_quote",
    "liquidations": "liquidations",
    "liquidated_notional_quote": "liquidated_notional_quote",
    "haircut_quote": "haircut_quote",
    "haircut_rate_ppm": "haircut_rate_ppm",
}
LEVELS = (0.95, 0.99)
DEFAULT_BATCH = 100
#: a batch is cut into this many chunks (unless told the chunk size): enough to keep a few
#: workers busy to the end of the batch, few enough that each chunk outweighs its dispatch
CHUNKS_PER_BATCH = 8


def prepare(policy: Policy, scenario_path: str | Path) -> Prepared:
    """The scenario file (and its CSV, relative to it) checked against the policy, ready to run."""
    scenario = load_scenario(scenario_path)
    series = None
    if isinstance(scenario.prices, Candles):
        series = load_candles(Path(scenario_path).parent / scenario.prices.file)
        _check_candles(scenario, series, str(scenario_path))
    try:
        return Prepared(with_scenario(policy, scenario), scenario, series)
    except ValueError as exc:
        raise ScenarioError(str(scenario_path), [str(exc)]) from None


def _check_candles(scenario: Scenario, series: CandleSeries, source: str) -> None:
    model, steps, n = scenario.prices, scenario.path.steps, len(series.candles)
    assert isinstance(model, Candles)
    if model.mode is CandleMode.REPLAY and steps is not None and steps > n:
        raise ScenarioError(
            source, [f"'steps' must be <= the {n} candles of {series.source} to replay them: {steps} @ $.path.steps"]
        )
    if model.mode is CandleMode.BOOTSTRAP and model.block > n:
        raise ScenarioError(
            source, [f"'block' must be <= the {n} candles of {series.source}: {model.block} @ $.prices.block"]
        )


def run_chunk(
    prepared: Prepared, seed: int, indices: Sequence[int], engine: PathEngine = exact
) -> list[dict[str, Any]]:
    """Paths ``indices`` on ``engine``, as plain dicts (what a worker sends back)."""
    out = []
    for i in indices:
        path = build(prepared, seed, i)
        out.append(engine(prepared.policy, path.population, path.marks, i).to_data())
    return out


def _chunks(start: int, stop: int, size: int) -> list[range]:
    return [range(i, min(i + size, stop)) for i in range(start, stop, size)]


@attrs.frozen
class Result:
    """What a run found: its outcomes in index order, how it stopped, and the summary."""

    prepared: Prepared
    seed: int
    outcomes: tuple[PathOutcome, ...]
    stopped: str
    batches: int
    summary: dict[str, Any]


def simulate(
    prepared: Prepared,
    *,
    paths: int,
    seed: int,
    executor: Executor | None = None,
    until: float | None = None,
    batch: int = DEFAULT_BATCH,
    chunk: int | None = None,
    engine: PathEngine = exact,
) -> Result:
    """Run up to ``paths`` paths (all of them unless ``until`` stops the run earlier)."""
    outcomes: list[PathOutcome] = []
    batches, stopped = 0, f"ran the {paths:,} paths asked"
    while len(outcomes) < paths:
        start, stop = len(outcomes), min(len(outcomes) + batch, paths)
        chunks = _chunks(start, stop, chunk or max(1, math.ceil((stop - start) / CHUNKS_PER_BATCH)))
        if executor is None:
            rows = [r for c in chunks for r in run_chunk(prepared, seed, c, engine)]
        else:
            futures = [executor.submit(run_chunk, prepared, seed, c, engine) for c in chunks]
            rows = [r for f in futures for r in f.result()]
        outcomes += sorted((PathOutcome.from_data(r) for r in rows), key=lambda o: o.index)
        batches += 1
        if until is not None and widest(outcomes) <= until:
            stopped = f"every probability's 95% interval is at most {until} wide after {len(outcomes):,} paths"
            break
    else:
        if until is not None:
            stopped = (
                f"reached --paths {paths:,} before every 95% interval was {until} wide (widest {widest(outcomes):.4f})"
            )
    return Result(prepared, seed, tuple(outcomes), stopped, batches, summarize(outcomes, seed))


def widest(outcomes: Sequence[PathOutcome]) -> float:
    """The widest 95% interval among the probabilities."""
    n = len(outcomes)
    widths = []
    for test in PROBABILITIES.values():
        low, high = stats.wilson(sum(1 for o in outcomes if test(o)), n)
        widths.append(high - low)
    return max(widths)


def summarize(outcomes: Sequence[PathOutcome], seed: int) -> dict[str, Any]:
    """Every estimate with its interval (see ``solvent.simulation.stats``)."""
    n = len(outcomes)
    out: dict[str, Any] = {"paths": n, "probabilities": {}, "tails": {}}
    for name, test in PROBABILITIES.items():
        out["probabilities"][name] = stats.probability(sum(1 for o in outcomes if test(o)), n)
    for key, (name, field) in enumerate(TAILS.items()):
        values = sorted(getattr(o, field) for o in outcomes)
        entry: dict[str, Any] = {"mean": stats.mean(values, seed, 3 * key)}
        for j, q in enumerate(LEVELS, start=1):
            label = f"{round(q * 100)}"
            entry[f"var_{label}"] = stats.quantile(values, q)
            entry[f"es_{label}"] = stats.shortfall(values, q, seed, 3 * key + j)
        entry["max"] = values[-1] if values else 0
        out["tails"][name] = entry
    out["events"] = sum(o.mark_events for o in outcomes)
    out["capped_traders"] = sum(o.capped for o in outcomes)
    return out


__all__ = ["DEFAULT_BATCH", "PROBABILITIES", "Result", "TAILS", "prepare", "run_chunk", "simulate", "summarize"]

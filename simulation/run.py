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
from solvent.simulation.executors import worker_lost
from solvent.simulation.fast import fast
from solvent.simulation.loading import ScenarioError, load_scenario, placed_in
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
        check_candles(scenario, series, str(scenario_path))
    try:
        return Prepared(with_scenario(policy, scenario), scenario, series)
    except ValueError as exc:
        raise ScenarioError(str(scenario_path), [placed_in(str(exc), scenario_path)]) from None


def check_candles(scenario: Scenario, series: CandleSeries, source: str) -> None:
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


#: the engines ``--engine`` names: ``fast`` falls back to ``exact`` path by path where it must
ENGINES: dict[str, PathEngine] = {"fast": fast, "exact": exact}


def run_chunk(prepared: Prepared, seed: int, indices: Sequence[int], engine: PathEngine = fast) -> list[dict[str, Any]]:
    """Paths ``indices`` on ``engine``, as plain dicts (what a worker sends back): the outcome's
    fields, and ``engine`` and ``fallback`` (which engine ran it and why, not part of the outcome)."""
    out = []
    for i in indices:
        path = build(prepared, seed, i)
        ran = engine(prepared.policy, path.population, path.marks, i)
        row = {
            "engine": ran.engine,
            "fallback": ran.fallback,
            "exact_steps": ran.exact_steps,
            "whole_book": [list(pair) for pair in ran.whole_book],
        }
        out.append({**ran.outcome.to_data(), **row})
    return out


@attrs.frozen
class EngineUse:
    """Which engine ran the paths: ``asked`` (``fast`` or ``exact``), how many ran on each, and
    why the exact engine ran paths the fast one was asked for (reason → paths)."""

    asked: str = "exact"
    fast: int = 0
    exact: int = 0
    reasons: tuple[tuple[str, int], ...] = ()
    #: mark events run on the exact engine where the fast one was asked, and all mark events
    exact_steps: int = 0
    steps: int = 0
    #: liquidations the fast engine ran on the whole book (mechanism → liquidations)
    whole_book: tuple[tuple[str, int], ...] = ()

    def add(self, rows: Sequence[dict[str, Any]]) -> EngineUse:
        reasons, whole = dict(self.reasons), dict(self.whole_book)
        for r in rows:
            if r["fallback"] is not None:
                reasons[r["fallback"]] = reasons.get(r["fallback"], 0) + 1
            for mechanism, n in r.get("whole_book", ()):
                whole[mechanism] = whole.get(mechanism, 0) + n
        fast_paths = sum(1 for r in rows if r["engine"] == "fast")
        return attrs.evolve(
            self,
            exact_steps=self.exact_steps + sum(r["exact_steps"] for r in rows),
            steps=self.steps + sum(r["mark_events"] for r in rows),
            fast=self.fast + fast_paths,
            exact=self.exact + len(rows) - fast_paths,
            reasons=tuple(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
            whole_book=tuple(sorted(whole.items(), key=lambda kv: (-kv[1], kv[0]))),
        )

    def line(self) -> str:
        """``engine: fast on 180 of 200 paths; 20 ran 31 of their mark events on the exact engine:
        ADL layer (20)`` (the count after a reason is of paths), then the liquidations the fast
        engine ran on the whole book, if any (``; 12 liquidations on the whole book: socialized
        loss layer (12)``, the count after a mechanism of liquidations)."""
        line = self._paths()
        if self.whole_book and self.asked != "exact":
            total = sum(n for _, n in self.whole_book)
            what = ", ".join(f"{mechanism} ({count:,})" for mechanism, count in self.whole_book)
            line += f"; {total:,} liquidation{'s' if total != 1 else ''} on the whole book: {what}"
        return line

    def _paths(self) -> str:
        n = self.fast + self.exact
        why = ", ".join(f"{reason} ({count:,})" for reason, count in self.reasons)
        if self.asked == "exact":
            return f"engine: exact on all {n:,} paths (--engine exact)"
        if self.exact == 0:
            return f"engine: fast on all {n:,} paths"
        if self.fast == 0 and self.exact_steps == self.steps:
            return f"engine: exact on all {n:,} paths; the fast engine does not cover: {why}"
        return (
            f"engine: fast on {self.fast:,} of {n:,} paths; {self.exact:,} ran {self.exact_steps:,} of their "
            f"mark events on the exact engine: {why}"
        )


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
    #: which engine ran the paths (not in the JSON: the outcomes are the same on either)
    engine: EngineUse = EngineUse()


def simulate(
    prepared: Prepared,
    *,
    paths: int,
    seed: int,
    executor: Executor | None = None,
    until: float | None = None,
    batch: int = DEFAULT_BATCH,
    chunk: int | None = None,
    engine: PathEngine | str = "fast",
) -> Result:
    """Run up to ``paths`` paths (all of them unless ``until`` stops the run earlier)."""
    asked = engine if isinstance(engine, str) else ("fast" if engine is fast else "exact")
    engine = ENGINES[engine] if isinstance(engine, str) else engine
    use = EngineUse(asked)
    outcomes: list[PathOutcome] = []
    batches, stopped = 0, f"ran the {paths:,} paths asked"
    while len(outcomes) < paths:
        start, stop = len(outcomes), min(len(outcomes) + batch, paths)
        chunks = _chunks(start, stop, chunk or max(1, math.ceil((stop - start) / CHUNKS_PER_BATCH)))
        if executor is None:
            rows = [r for c in chunks for r in run_chunk(prepared, seed, c, engine)]
        else:
            futures = [executor.submit(run_chunk, prepared, seed, c, engine) for c in chunks]
            rows = [r for c, f in zip(chunks, futures, strict=True) for r in _answer(c, f)]
        use = use.add(rows)
        outcomes += sorted((_outcome(r) for r in rows), key=lambda o: o.index)
        batches += 1
        if until is not None and widest(outcomes) <= until:
            stopped = f"every probability's 95% interval is at most {until} wide after {len(outcomes):,} paths"
            break
    else:
        if until is not None:
            stopped = (
                f"reached --paths {paths:,} before every 95% interval was {until} wide (widest {widest(outcomes):.4f})"
            )
    return Result(prepared, seed, tuple(outcomes), stopped, batches, summarize(outcomes, seed), use)


class LostPaths(RuntimeError):
    """A chunk of paths whose worker was lost (killed, out of memory, dropped by its cluster): the
    run has no answer for them, and a summary without them would be another run's."""


def _answer(chunk: range, future: Any) -> list[dict[str, Any]]:
    try:
        return future.result()
    except Exception as exc:
        lost = worker_lost(exc)
        if lost is None:
            raise
        raise LostPaths(f"paths {chunk.start:,} to {chunk.stop - 1:,} gave no answer: {lost}") from None


def _outcome(row: dict[str, Any]) -> PathOutcome:
    return PathOutcome.from_data(
        {k: v for k, v in row.items() if k not in ("engine", "fallback", "exact_steps", "whole_book")}
    )


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


__all__ = [
    "DEFAULT_BATCH",
    "ENGINES",
    "PROBABILITIES",
    "EngineUse",
    "LostPaths",
    "Result",
    "TAILS",
    "check_candles",
    "prepare",
    "run_chunk",
    "simulate",
    "summarize",
]

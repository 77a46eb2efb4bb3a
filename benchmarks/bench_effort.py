"""How many effort units this machine spends per second (``solvent.solver.effort``).

Verdicts never depend on this figure: budgets are counted in z3 resource units and build steps.
It calibrates ``UNITS_PER_SECOND`` (the "about N s" of help texts and the defaults) and
``BUILD_STEP`` (a build step's price in z3 units). For each question it builds the query (build
steps per second) and asks the invariant within a fixed effort (z3 units per second); the load
average is printed beside the figures, because a shared machine's seconds vary while the units
do not.

    python benchmarks/bench_effort.py [--effort 5M] [--presets binance,drift]
"""

from __future__ import annotations

import argparse
import os
import time

import solvent.solver  # noqa: F401  (registers the z3 backend)
from solvent.properties import catalog
from solvent.rules.presets import load_preset
from solvent.solver import effort
from solvent.solver.bounds import Bounds
from solvent.solver.query import StoryQuery

QUESTIONS = (
    ("binance", "no-negative-equity", 2),
    ("binance", "claims-backed", 4),
    ("drift", "conservation", 2),
    ("binance", "no-negative-equity", 8),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--effort", type=int, default=5_000_000, help="units per question")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    print(f"{'question':<40} {'build steps/s':>14} {'z3 units/s':>12} {'units':>11} verdict")
    for preset, invariant, accounts in QUESTIONS:
        started = time.perf_counter()
        query = StoryQuery(
            load_preset(preset), catalog.get(invariant), Bounds(accounts=accounts, effort=effort.MAX_UNITS)
        )
        build_s = time.perf_counter() - started
        steps = query.build_units // effort.BUILD_STEP
        started = time.perf_counter()
        answer = query.check_obligation(catalog.get(invariant), units=args.effort)
        solve_s = time.perf_counter() - started
        name = f"{preset} {invariant} N={accounts}"
        print(
            f"{name:<40} {steps / build_s:>14,.0f} {answer.stats.units / solve_s:>12,.0f} {answer.stats.units:>11,} {answer.verdict.value}"
        )
    print(f"load average after: {os.getloadavg()}")
    print(f"BUILD_STEP = {effort.BUILD_STEP} units, UNITS_PER_SECOND = {effort.UNITS_PER_SECOND:,}")


if __name__ == "__main__":
    main()

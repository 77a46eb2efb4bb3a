"""How fast ``solvent simulate`` runs on the exact engine, and how well it uses a second worker.

    python benchmarks/bench_simulate.py [--preset binance] [--paths 40] [--traders 3,30] [--steps 48]

For each book size: the same paths with 1 worker (in process) and with 2 worker processes; mark
events per second, paths per second, and parallel efficiency ``T1 / (2 × T2)``. The two runs'
reports must be identical (the benchmark stops if not). The load average is printed before and
after: on a shared machine the ratios within one run are what to compare.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from solvent.reports.simulation import render_json
from solvent.rules.presets import load_preset
from solvent.simulation.run import prepare, simulate

SCENARIO = """\
name = "bench"
seed = 1
[book]
traders = {traders}
long_share = 0.6
insurance_fund_ppm = 5000
[book.size]
distribution = "pareto"
minimum = 100000
alpha = 1.3
cap = 500000000
[book.leverage]
distribution = "uniform"
low = 2
high = 50
[path]
steps = {steps}
step_minutes = 15
cadence = 2
[prices]
model = "merton"
start = 6000
volatility = 0.6
jump_intensity = 20
jump_mean = -0.04
jump_stdev = 0.04
"""


def _timed(prepared, paths: int, workers: int) -> tuple[float, str, int]:
    start = time.perf_counter()
    if workers == 1:
        result = simulate(prepared, paths=paths, seed=1)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            result = simulate(prepared, paths=paths, seed=1, executor=pool)
    return time.perf_counter() - start, render_json(result), result.summary["events"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="binance")
    parser.add_argument("--paths", type=int, default=40)
    parser.add_argument("--traders", default="3,30")
    parser.add_argument("--steps", type=int, default=48)
    args = parser.parse_args()
    policy = load_preset(args.preset)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| traders | paths | mark events | 1 worker: s | events/s | paths/s | 2 workers: s | paths/s | efficiency |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for traders in (int(t) for t in args.traders.split(",")):
            path = Path(tmp) / f"bench-{traders}.toml"
            path.write_text(SCENARIO.format(traders=traders, steps=args.steps), encoding="utf-8")
            prepared = prepare(policy, path)
            t1, one, events = _timed(prepared, args.paths, 1)
            t2, two, _ = _timed(prepared, args.paths, 2)
            if one != two:
                raise SystemExit("the 1-worker and 2-worker reports differ: a determinism bug")
            print(
                f"| {traders} | {args.paths} | {events:,} | {t1:.2f} | {events / t1:,.0f} | {args.paths / t1:.2f} "
                f"| {t2:.2f} | {args.paths / t2:.2f} | {t1 / (2 * t2):.0%} |"
            )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

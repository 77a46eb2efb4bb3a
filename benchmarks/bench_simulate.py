"""How fast ``solvent simulate`` runs on the exact and the fast engine, and the percolator-sized run.

    python benchmarks/bench_simulate.py [--preset binance] [--traders 30,300,2000] [--paths 8]
        [--steps 48] [--exact-paths 4] [--target] [--target-paths 200] [--workers 2] [--efficiency 20]
        [--dask] [--skip-compare]

Part 1, for each book size, in one process: the same paths on the exact engine and on the fast
one; paths per second, mark events per second and account-updates per second (mark events × the
book's accounts: each mark settles and checks every account), and the ratio. The two reports' JSON
must be identical (the benchmark stops if not). The exact engine runs fewer paths at large books
(``--exact-paths``); its rate is per path, so the ratio stays a ratio of rates.

Part 2 (``--target``): percolator's stress size, 200 paths × 2,000 traders × 600 mark events
(300 steps at cadence 2), on the fast engine with ``--workers`` processes, against the target of
60 s on 2 cores; it says how many paths fell back to the exact engine and why. Its insurance fund
is ``--target-fund-ppm`` (5% of the long open interest): with part 1's 0.5%, some crashes exhaust
the fund and one step then resolves hundreds of bankruptcies by ADL (on the arrays since ADL was
vectorized: a few seconds per such path at 2,000 traders; before, a step on the exact engine). ``--efficiency PATHS`` times that many
target paths on 1 worker, on ``--workers`` processes and on a Dask ``LocalCluster`` of as many
worker processes (``--dask``): the parallel efficiency ``T1 / (w × Tw)``; the reports must be
identical.

Every timing is printed as wall-clock seconds and as CPU seconds (this process's and its
children's, the pool's or the cluster's worker processes, counted once they have exited): on a
machine shared with other work the wall clock measures the machine, the CPU time the engine. The
load average is printed before and after each part: compare the ratios measured within one run.
The efficiency runs also print the cores they kept busy on average (CPU s / wall s): a parallel
efficiency means what it says only where the two workers kept close to two cores busy; on a
loaded machine the one-worker run may have a core to itself while the two share what is left.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
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
insurance_fund_ppm = {fund}
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


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _cpu() -> float:
    """CPU seconds of this process and of its children that have exited."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


@contextlib.contextmanager
def _dask(workers: int):
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        yield client.get_executor()


def _timed(prepared, paths: int, engine: str, workers: int = 1, dask: bool = False):
    """(wall s, CPU s, result): in this process (1 worker), a process pool or a Dask LocalCluster
    (its start-up outside the wall time; its CPU time, start-up included, once its workers exit)."""
    cpu = _cpu()
    if workers == 1 and not dask:
        start = time.perf_counter()
        result = simulate(prepared, paths=paths, seed=1, engine=engine)
        seconds = time.perf_counter() - start
    else:
        with _dask(workers) if dask else ProcessPoolExecutor(max_workers=workers) as pool:
            start = time.perf_counter()
            result = simulate(prepared, paths=paths, seed=1, engine=engine, executor=pool)
            seconds = time.perf_counter() - start
    return seconds, _cpu() - cpu, result


def compare(policy, tmp: Path, traders: list[int], paths: int, exact_paths: int, steps: int) -> None:
    print(f"load average before: {_load()}")
    print(
        "| traders | marks/path | exact: paths | s | paths/s | events/s | account-updates/s "
        "| fast: paths | s | paths/s | events/s | account-updates/s | fast/exact | on the exact engine |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for n in traders:
        path = tmp / f"bench-{n}.toml"
        path.write_text(SCENARIO.format(traders=n, steps=steps, fund=5000), encoding="utf-8")
        prepared = prepare(policy, path)
        accounts = n + 1 + 6  # the traders, maker and the six venue accounts
        k = min(exact_paths, paths)
        te, _, exact = _timed(prepared, k, "exact")
        tf, _, fast = _timed(prepared, paths, "fast")
        _, _, fast_k = _timed(prepared, k, "fast")
        if render_json(exact) != render_json(fast_k):
            raise SystemExit(f"{n} traders: the exact and fast engines' reports differ: a bug")
        marks = fast.summary["events"] // paths
        exact_rate, fast_rate = k / te, paths / tf
        print(
            f"| {n:,} | {marks} | {k} | {te:.2f} | {exact_rate:.3g} | {exact_rate * marks:,.0f} "
            f"| {exact_rate * marks * accounts:,.0f} "
            f"| {paths} | {tf:.2f} | {fast_rate:.3g} | {fast_rate * marks:,.0f} | {fast_rate * marks * accounts:,.0f} "
            f"| {fast_rate / exact_rate:.0f}x | {fast.engine.exact} ({', '.join(r for r, _ in fast.engine.reasons) or '-'}) |"
        )
    print(f"load average after: {_load()}")


def target(policy, tmp: Path, paths: int, workers: int, fund_ppm: int) -> None:
    path = tmp / "target.toml"
    path.write_text(SCENARIO.format(traders=2000, steps=300, fund=fund_ppm), encoding="utf-8")
    prepared = prepare(policy, path)
    print(f"\nload average before: {_load()}")
    seconds, cpu, result = _timed(prepared, paths, "fast", workers)
    marks = result.summary["events"]
    print(
        f"{paths} paths × 2,000 traders × {marks // paths} mark events (fund {fund_ppm:,} ppm of the long open "
        f"interest) on the fast engine, {workers} worker(s): "
        f"{seconds:.1f} s ({paths / seconds:.2f} paths/s, {marks * 2007 / seconds:,.0f} account-updates/s; "
        f"target 60 s), {cpu:.1f} CPU s ({cpu / workers:.1f} s a core); {result.engine.line()}"
    )
    print(f"load average after: {_load()}")


def efficiency(policy, tmp: Path, paths: int, workers: int, fund_ppm: int, dask: bool) -> None:
    """The target's book and path on 1 worker (in process), on ``workers`` processes and on a Dask
    LocalCluster of ``workers`` processes."""
    path = tmp / "efficiency.toml"
    path.write_text(SCENARIO.format(traders=2000, steps=300, fund=fund_ppm), encoding="utf-8")
    prepared = prepare(policy, path)
    print(f"\nload average before: {_load()}")
    t1, c1, one = _timed(prepared, paths, "fast", 1)
    print(f"{paths} such paths: 1 worker {t1:.1f} s ({c1:.1f} CPU s, {c1 / t1:.2f} of a core)")
    runs = [("a process pool", False)] + ([("a Dask LocalCluster", True)] if dask else [])
    for label, on_dask in runs:
        tw, cw, many = _timed(prepared, paths, "fast", workers, dask=on_dask)
        if render_json(one) != render_json(many):
            raise SystemExit(f"the 1-worker report and {label}'s differ: a determinism bug")
        print(
            f"  {workers} workers on {label}: {tw:.1f} s ({cw:.1f} CPU s, {cw / tw:.2f} cores busy on average): "
            f"parallel efficiency T1 / ({workers} × T{workers}) = {t1 / (workers * tw):.0%} (identical reports)"
        )
    print(f"load average after: {_load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="binance")
    parser.add_argument("--traders", default="30,300,2000")
    parser.add_argument("--paths", type=int, default=8)
    parser.add_argument("--exact-paths", type=int, default=4)
    parser.add_argument("--steps", type=int, default=48)
    parser.add_argument("--target", action="store_true", help="also run 200 paths × 2,000 traders × 600 marks")
    parser.add_argument("--target-paths", type=int, default=200)
    parser.add_argument(
        "--efficiency", type=int, default=0, metavar="PATHS", help="also time PATHS target paths on 1 and on --workers"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dask", action="store_true", help="--efficiency also on a Dask LocalCluster")
    parser.add_argument("--skip-compare", action="store_true", help="skip part 1")
    parser.add_argument(
        "--target-fund-ppm",
        type=int,
        default=50_000,
        help="the target run's insurance fund (a fund the crashes exhaust sends each ADL step to the exact engine)",
    )
    args = parser.parse_args()
    policy = load_preset(args.preset)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_compare:
            compare(
                policy, Path(tmp), [int(t) for t in args.traders.split(",")], args.paths, args.exact_paths, args.steps
            )
        if args.target:
            target(policy, Path(tmp), args.target_paths, args.workers, args.target_fund_ppm)
        if args.efficiency:
            efficiency(policy, Path(tmp), args.efficiency, args.workers, args.target_fund_ppm, args.dask)


if __name__ == "__main__":
    main()

"""The same run on a Dask cluster: identical JSON to one local worker and to two worker processes."""

import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from click.testing import CliRunner

from solvent.cli import main
from solvent.reports.simulation import render_json
from solvent.rules.presets import load_preset
from solvent.simulation.run import prepare, simulate


def _client(cluster):  # noqa: ANN001, ANN202
    """A client of ``cluster``; ``distributed`` is imported here, not while the suite collects (the
    cluster fixtures skip where it is not installed): 0.4 s of CPU in each xdist worker, where one
    runs these tests."""
    import distributed

    return distributed.Client(cluster)


def test_a_local_cluster_gives_the_same_json_as_one_and_two_local_workers(cluster, write) -> None:
    prepared = prepare(load_preset("binance"), write())
    run = {"paths": 10, "seed": 9, "batch": 5, "chunk": 2}
    alone = render_json(simulate(prepared, **run))
    with ProcessPoolExecutor(max_workers=2) as pool:
        pooled = render_json(simulate(prepared, executor=pool, **run))
    with _client(cluster) as client:
        on_dask = render_json(simulate(prepared, executor=client.get_executor(), **run))
    assert alone == pooled == on_dask


def test_the_command_line_reaches_the_scheduler(cluster, write, tmp_path) -> None:
    address = cluster.scheduler_address.removeprefix("tcp://")
    args = ["simulate", "binance", "--scenario", str(write()), "--paths", "4", "--format", "json"]
    local = CliRunner().invoke(main, [*args, "--output", str(tmp_path / "local.json")])
    remote = CliRunner().invoke(
        main, [*args, "--output", str(tmp_path / "dask.json"), "--executor", f"dask://{address}"]
    )
    assert (local.exit_code, remote.exit_code) == (0, 0), remote.output
    assert (tmp_path / "local.json").read_text() == (tmp_path / "dask.json").read_text()


def test_a_threshold_cell_runs_inside_a_daemonic_dask_worker(process_cluster, write) -> None:
    """A Dask worker process is daemonic, where multiprocessing forbids the solver's hard-kill
    child (it raised 'daemonic processes are not allowed to have children'): the threshold cell
    --at-threshold runs (binance's safe move, whose probes run z3's exact nonlinear check in that
    child twice) gives the same answer, probes and units there as in this process."""
    from solvent.simulation.edge import find_all, summary
    from solvent.solver import wall

    prepared = prepare(load_preset("binance"), write())
    cell = {"effort": 30_000_000, "probes": 40}
    [(question, here)] = find_all(prepared, ["safe-move"], **cell)
    with _client(process_cluster) as client:
        executor = client.get_executor()
        assert executor.submit(wall.may_fork).result() is False  # the worker is daemonic
        [(_, there)] = find_all(prepared, ["safe-move"], executor=executor, **cell)
    assert question.id == "safe-move"
    assert summary(there) == summary(here)
    assert (there.status.value, there.proved_at, there.refuted_at) == ("exact", 8000, 8001)


def _hang(record: str):  # noqa: ANN202
    """A stand-in for the child's z3 check that never answers: it notes its pid, sleeps, and notes
    that it lived on if nobody killed it."""

    def solve(*_args):  # noqa: ANN002, ANN202
        Path(record).write_text(f"{os.getpid()}\n")
        time.sleep(3)
        with open(record, "a") as out:
            out.write("lived on\n")

    return solve


def kill_in_this_process(record: str) -> tuple[bool, str, str, bool]:
    """Module level, so a Dask worker can run it: the solver's hard-kill wrapper with a child that
    hangs, in whatever process this is. Returns whether multiprocessing would let this process
    fork, the answer, its reason, and whether the child's pid is gone once ``check`` returns."""
    import z3

    from solvent.solver import wall

    solve, grace = wall._solve, wall.GRACE_S
    wall._solve, wall.GRACE_S = _hang(record), 0.2
    try:
        x = z3.Int("x")
        answer = wall.check([x > 1], [x], 1000, 0.1)
    finally:
        wall._solve, wall.GRACE_S = solve, grace
    pid = int(Path(record).read_text().split()[0])
    try:
        os.kill(pid, 0)
        gone = False
    except ProcessLookupError:
        gone = True
    return wall.may_fork(), answer.result, answer.reason, gone


def test_the_hard_kill_fires_inside_a_daemonic_dask_worker(process_cluster, tmp_path) -> None:
    """The safety net itself, not only an answer, inside a Dask worker process (daemonic, where
    multiprocessing forbids children): a child that never answers is killed at the safety net plus
    the grace, the answer is unknown and says so, the child is reaped, and it never lived on past
    the kill (with the kill removed, the wrapper waits for it and the record says it lived on)."""
    record = tmp_path / "child.txt"
    with _client(process_cluster) as client:
        may_fork, result, reason, gone = client.get_executor().submit(kill_in_this_process, str(record)).result()
    assert may_fork is False  # the worker is daemonic
    assert result == "unknown" and reason.endswith("(the child was killed)")
    assert gone and "lived on" not in record.read_text()


def _profiling(dask_worker) -> bool:  # noqa: ANN001
    return dask_worker.periodic_callbacks["profile"].is_running()


def test_a_dask_run_pauses_each_workers_sampling_profiler_and_restarts_it(process_cluster) -> None:
    """The sampler holds task frames (and their z3 terms) at moments set by the machine's timing,
    which moved a question's units (docs/solver-notes.md#process-history): paused for the run on
    every worker, running again afterwards; a worker whose sampler was off stays off."""
    from distributed import Client

    from solvent.simulation.executors import dask_executor

    address = process_cluster.scheduler_address.removeprefix("tcp://")
    with Client(process_cluster) as client:
        workers = sorted(client.run(_profiling))
        assert len(workers) == 2 and all(client.run(_profiling).values())
        with dask_executor(address) as executor:
            assert executor.submit(sum, [1, 2]).result() == 3
            assert not any(client.run(_profiling).values())
        assert all(client.run(_profiling).values())
        # a sampler its owner turned off is not turned on by a run
        client.run(lambda dask_worker: dask_worker.periodic_callbacks["profile"].stop(), workers=workers[:1])
        with dask_executor(address):
            pass
        assert client.run(_profiling) == {workers[0]: False, workers[1]: True}
        # every sampler off: a run turns none on
        client.run(lambda dask_worker: dask_worker.periodic_callbacks["profile"].stop())
        with dask_executor(address):
            pass
        assert not any(client.run(_profiling).values())
        client.run(lambda dask_worker: dask_worker.periodic_callbacks["profile"].start())

"""Where paths run: a ``concurrent.futures.Executor``, chosen by the command line.

- no workers beyond the caller (``--workers 1``, the default): paths run in this process, no pool;
- ``--workers N``: the standard library's ``ProcessPoolExecutor`` with N processes;
- ``--executor dask://HOST:PORT``: a Dask distributed scheduler (the optional ``dask`` extra,
  ``pip install 'solvent[dask]'``), through ``Client.get_executor()``, which is an ``Executor``.

Whatever runs them, path ``i`` draws from its own seed and the outcomes are put back in index
order (``solvent.simulation.run``), so the choice changes the time taken, never the result.

Grids of proofs and thresholds (``solvent prove`` and ``solvent thresholds`` over several cells,
``solvent.simulation.grids``) run on the same executors through :func:`map_cells`: one task per
cell, answers in the cells' order, and a cell that gives no answer (its task raised, or its worker
was lost) comes back as a :class:`CellError` in its place instead of stopping the others, so the
result table always prints (docs/executors.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import BrokenExecutor, CancelledError, Executor, ProcessPoolExecutor, as_completed
from typing import Any

import attrs

from solvent.rules.ledger import InternalError

SCHEME = "dask://"


class ExecutorError(ValueError):
    """An executor that cannot be started: names the option and what was expected."""


#: How long a run waits to reach its Dask scheduler before it is bad input (Dask's own default):
#: time to connect, not a budget of any answer
CONNECT_SECONDS = 10


@contextlib.contextmanager
def dask_executor(address: str) -> Iterator[Executor]:
    """An executor on the Dask scheduler at ``HOST:PORT``."""
    try:
        from distributed import Client
    except ImportError:
        raise ExecutorError(
            f"'--executor' {SCHEME}{address} needs Dask distributed: pip install 'solvent[dask]'"
        ) from None
    try:
        client = Client(f"tcp://{address}", timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError) as exc:
        raise ExecutorError(f"'--executor' cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        paused: dict[str, bool] = {}
        # a worker that cannot be asked (lost while connecting) does not stop the run: its sampler
        # stays as it was, which costs only the units' independence from its timing
        with contextlib.suppress(Exception):
            paused = client.run(_sampling_profiler, False)
        try:
            yield client.get_executor()
        finally:
            restart = [w for w, was in paused.items() if was]
            with contextlib.suppress(Exception):  # a worker lost meanwhile has no profiler to restart
                if restart:  # (an empty list must not read as "every worker")
                    client.run(_sampling_profiler, True, workers=restart)
    finally:
        client.close()


def _sampling_profiler(on: bool, dask_worker: Any = None) -> bool:
    """Run on each Dask worker: start or stop its sampling profiler; whether it was running.

    A Dask worker samples its task threads' stacks every 10 ms (``distributed.worker.profile``, on
    by default) from its event loop's thread. A sampled frame keeps that function's locals alive
    until the sampler lets go, z3 terms among them, so terms are released at moments that depend on
    the machine's timing, from another thread; z3 gives a released term's number to the next term
    built, and its simplifier orders sums by those numbers. A question's units then moved with the
    worker's timing (backpack's conservation at N = 2: 1,061,875 units in a fresh process, 980,010
    on a Dask worker), which the reproducible-verdicts rule forbids. So a run pauses the sampler on
    every worker it finds at the start and restarts those it paused at the end
    (docs/solver-notes.md#process-history, docs/executors.md). Since the held releases
    (``solver.held_terms``: a question's releases wait until it is answered, from any thread) the
    pause is belt and braces, no longer what keeps the units the same."""
    callback = dask_worker.periodic_callbacks.get("profile") if dask_worker is not None else None
    if callback is None:
        return False
    was = callback.is_running()
    if on:
        callback.start()
    else:
        callback.stop()
    return was


def dask_address(url: str) -> str:
    """``dask://HOST:PORT`` → ``HOST:PORT``; anything else is an :class:`ExecutorError` that says
    the form expected (the one parser of ``--executor``, for every command that takes it)."""
    host, _, port = url[len(SCHEME) :].rpartition(":") if url.startswith(SCHEME) else ("", "", "")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ExecutorError(f"'--executor' must be {SCHEME}HOST:PORT: {url!r} (PORT a number from 1 to 65535)")
    return f"{host}:{port}"


@contextlib.contextmanager
def executor_for(workers: int = 1, url: str | None = None) -> Iterator[Executor | None]:
    """The executor the options ask for (None: run in this process)."""
    if url is not None:
        with dask_executor(dask_address(url)) as executor:
            yield executor
        return
    if workers <= 1:
        yield None
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        # the first task forks every worker now, while this process runs no thread of its own
        # (a progress display's, started after): a fork copies only the forking thread, and a
        # lock another thread held at that moment would stay held in the worker
        pool.submit(int).result()
        yield pool


# --- grids: one task per cell, every cell answered or said why not ------------------------------


@attrs.frozen
class CellError:
    """A cell that gave no answer: its task raised (``kind`` "raised"; "internal" for Solvent's
    own :class:`~solvent.rules.ledger.InternalError`) or its worker process was lost ("worker
    lost": killed, out of memory, the cluster dropped it). ``message`` says which and why."""

    kind: str
    message: str

    def __str__(self) -> str:
        return f"error: {self.message}"


def worker_lost(exc: BaseException) -> str | None:
    """``worker lost (<type>: <why>)`` when an exception from a future means its worker was lost
    (a broken process pool, Dask's ``KilledWorker``, a task cancelled because its scheduler went
    away), else None: the task's own exception."""
    if isinstance(exc, BrokenExecutor | CancelledError) or type(exc).__name__ == "KilledWorker":
        return f"worker lost ({type(exc).__name__}: {str(exc)[:200]})"
    return None


def _failure(exc: BaseException) -> CellError:
    """What an exception from a cell's future means: a lost worker or the task's own exception,
    named with its type."""
    lost = worker_lost(exc)
    if lost is not None:
        return CellError("worker lost", lost)
    kind = "internal" if isinstance(exc, InternalError) else "raised"
    return CellError(kind, f"{type(exc).__name__}: {str(exc)[:300]}")


def _distinct(cells: Sequence[Any]) -> tuple[list[Any], list[list[int]]]:
    """The distinct cells, in order of first appearance, and the indices of ``cells`` each stands
    for. Cells are frozen values (a policy, a question, bounds, a budget in units), and a cell's
    answer depends on nothing else (docs/executors.md), so two equal cells are one task: a grid
    sweep whose rows vary only the scenario asks its row's threshold of one policy once, not once
    a row. Cells that cannot be hashed are all kept."""
    first: dict[Any, int] = {}
    unique: list[Any] = []
    where: list[list[int]] = []
    for j, cell in enumerate(cells):
        try:
            i = first.setdefault(cell, len(unique))
        except TypeError:
            return list(cells), [[j] for j in range(len(cells))]
        if i == len(unique):
            unique.append(cell)
            where.append([])
        where[i].append(j)
    return unique, where


def _in_this_process(task: Callable[[Any], Any], cell: Any) -> Any:
    try:
        return task(cell)
    except Exception as exc:  # noqa: BLE001 (a cell's failure is its row of the table, not the run's end)
        return _failure(exc)


def _alone(task: Callable[[Any], Any], cell: Any) -> Any:
    """``cell`` again in a pool of its own process: a cell that kills its worker is then told
    apart from the cells that were lost with it."""
    with ProcessPoolExecutor(max_workers=1) as pool:
        try:
            return pool.submit(task, cell).result()
        except Exception as exc:  # noqa: BLE001
            return _failure(exc)


def map_cells(
    task: Callable[[Any], Any],
    cells: Sequence[Any],
    executor: Executor | None = None,
    done: Callable[[int, Any], None] | None = None,
) -> list[Any]:
    """``task(cell)`` for every cell, one task each on ``executor`` (in this process without one),
    answers in the cells' order; a cell without an answer is a :class:`CellError` in its place.
    ``done(index, answer)`` is called once per cell as its final answer arrives (progress).

    ``task`` must be a module-level function (pickled by reference) returning plain data (no z3
    object: they do not pickle). When a local process pool breaks (a worker killed), every cell
    it had not answered is run again, each in a process of its own, so only a cell that kills its
    worker by itself is reported lost. A Dask scheduler reschedules a lost worker's tasks itself
    and gives up on a task that kills workers (``KilledWorker``); it counts every task queued on a
    dying worker as a suspect, so a cell can be lost beside the one that kills. On any executor,
    every lost cell is run again alone in a local process of its own, so only a cell that kills
    its worker by itself is reported lost (not again on the cluster: a killer submitted alone there
    kills more workers and waits on their restarts, which Dask does not promise, and hung the CI
    run of 2026-12-06; a task cancelled because the scheduler went away is run here too). The
    answers do not depend on where a cell ran: each task starts its z3 questions from a fresh context and counts units,
    never seconds (docs/executors.md)."""
    tell = done or (lambda index, answer: None)
    unique, where = _distinct(cells)
    if len(unique) < len(cells):  # a cell asked twice is answered once (its answer is a function of it)
        shared = map_cells(task, unique, executor, lambda i, answer: [tell(j, answer) for j in where[i]])
        out: list[Any] = [None] * len(cells)
        for i, answer in enumerate(shared):
            for j in where[i]:
                out[j] = answer
        return out
    answers: list[Any] = [None] * len(cells)
    if executor is None:
        for i, cell in enumerate(cells):
            answers[i] = _in_this_process(task, cell)
            tell(i, answers[i])
        return answers
    index = {executor.submit(task, cell): i for i, cell in enumerate(cells)}
    lost = []
    for future in as_completed(index):
        i = index[future]
        try:
            answers[i] = future.result()
        except Exception as exc:  # noqa: BLE001
            answers[i] = _failure(exc)
        if isinstance(answers[i], CellError) and answers[i].kind == "worker lost":
            lost.append(i)
            continue
        tell(i, answers[i])
    for i in sorted(lost):
        answers[i] = _alone(task, cells[i])
        tell(i, answers[i])
    return answers


__all__ = ["CellError", "ExecutorError", "dask_address", "executor_for", "map_cells", "worker_lost"]

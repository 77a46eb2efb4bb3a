"""Where paths run: a ``concurrent.futures.Executor``, chosen by the command line.

- no workers beyond the caller (``--workers 1``, the default): paths run in this process, no pool;
- ``--workers N``: the standard library's ``ProcessPoolExecutor`` with N processes;
- ``--executor dask://HOST:PORT``: a Dask distributed scheduler (the optional ``dask`` extra,
  ``pip install 'solvent[dask]'``), through ``Client.get_executor()``, which is an ``Executor``.

Whatever runs them, path ``i`` draws from its own seed and the outcomes are put back in index
order (``solvent.simulation.run``), so the choice changes the time taken, never the result.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor

SCHEME = "dask://"


class ExecutorError(ValueError):
    """An executor that cannot be started: names the option and what was expected."""


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
        client = Client(f"tcp://{address}", timeout=10)
    except (OSError, TimeoutError) as exc:
        raise ExecutorError(f"'--executor' cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        yield client.get_executor()
    finally:
        client.close()


@contextlib.contextmanager
def executor_for(workers: int = 1, url: str | None = None) -> Iterator[Executor | None]:
    """The executor the options ask for (None: run in this process)."""
    if url is not None:
        if not url.startswith(SCHEME) or ":" not in url[len(SCHEME) :]:
            raise ExecutorError(f"'--executor' must be {SCHEME}HOST:PORT: {url!r}")
        with dask_executor(url[len(SCHEME) :]) as executor:
            yield executor
        return
    if workers <= 1:
        yield None
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield pool


__all__ = ["ExecutorError", "executor_for"]

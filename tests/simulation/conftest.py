"""Fixtures for the simulation tests: scenario files written under tmp_path, and Dask
``LocalCluster`` s (skipped where Dask distributed is not installed)."""

from pathlib import Path

import pytest
from sim_base import BASE


@pytest.fixture
def write(tmp_path: Path):
    """Write a scenario (and any extra files) under tmp_path; returns the scenario's path."""

    def _write(text: str = BASE, name: str = "scenario.toml", **files: str) -> Path:
        for file, content in files.items():
            (tmp_path / file).write_text(content, encoding="utf-8")
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


def _local_cluster(**options):  # noqa: ANN202
    distributed = pytest.importorskip(
        "distributed", reason="Dask distributed is not installed (pip install 'solvent[dask]' or '.[test]')"
    )
    return distributed.LocalCluster(protocol="tcp", host="127.0.0.1", dashboard_address=None, **options)


@pytest.fixture(scope="module")
def cluster():
    """A cluster of one in-process worker with two threads (simulation paths)."""
    with _local_cluster(n_workers=1, threads_per_worker=2, processes=False) as c:
        yield c


@pytest.fixture(scope="module")
def process_cluster():
    """A cluster of two worker processes, one thread each: as ``dask worker`` processes run,
    daemonic (where the solver's hard-kill child must still be forked)."""
    with _local_cluster(n_workers=2, threads_per_worker=1, processes=True) as c:
        yield c


@pytest.fixture
def disposable_cluster():
    """Two worker processes for one test that kills them: its own, so the nannies' restarts
    (slow on a loaded machine, and not promised at all) never decide whether the module's
    ``process_cluster`` still has workers for the tests after. A grid run on a cluster left
    without workers waits for one; a shared cluster a test had emptied hung the suite (CI run
    of 2026-12-03: the threshold grid's Dask run waited on a scheduler with no workers). Its
    scheduler gives a task up (``KilledWorker``) the first time a worker dies under it
    (``allowed-failures`` 0, Dask's default 3): the grid's handling of a lost cell is the same
    after one loss as after four, and each loss is a worker's restart by its nanny, a fresh
    process importing Dask and Solvent (the test 16.8-20.0 -> 10.5 s of CPU, load 7, session 29)."""
    import dask

    # distributed imported first: its defaults loaded, so the set puts back the value it found (set
    # before the import, it removed the whole "distributed" section on the way out, and the next
    # cluster failed on it)
    pytest.importorskip("distributed")
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        _local_cluster(n_workers=2, threads_per_worker=1, processes=True) as c,
    ):
        yield c

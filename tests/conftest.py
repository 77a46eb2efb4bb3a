"""Hypothesis profiles, picked by the SOLVENT_PROFILE environment variable (default ``ci``).

``ci``: derandomized, no example database, no deadline, generate and shrink only (the explain
phase dominated time-to-report, docs/solver-notes.md#no-explain-phase). ``dev``: random seeds, local database. ``deep``:
many more examples, for ``pytest -m deep`` runs.
"""

import gc
import os

from hypothesis import HealthCheck, Phase, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
    suppress_health_check=(HealthCheck.too_slow,),
    print_blob=True,
)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.register_profile("deep", parent=settings.get_profile("ci"), derandomize=False, max_examples=5_000)
settings.load_profile(os.environ.get("SOLVENT_PROFILE", "ci"))


def _children_cache_their_bytecode() -> None:
    """Where the environment asks Python to write no bytecode (``PYTHONDONTWRITEBYTECODE``, as on the
    shared CI machine), every ``python -m solvent`` a test starts compiled Solvent's and its
    dependencies' modules from source again (0.3-0.5 s of CPU a process, measured in session 23):
    the processes this run starts (its xdist workers and the commands the tests run) share one
    bytecode folder of the run's own, outside the checkout, removed at the end. Set in the
    controller, before the workers start; a worker finds it set and keeps it."""
    import atexit
    import shutil
    import tempfile

    if not os.environ.get("PYTHONDONTWRITEBYTECODE") or os.environ.get("PYTHONPYCACHEPREFIX"):
        return
    folder = tempfile.mkdtemp(prefix="solvent-tests-bytecode-")
    os.environ["PYTHONPYCACHEPREFIX"] = folder
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    atexit.register(shutil.rmtree, folder, ignore_errors=True)


_children_cache_their_bytecode()


def _units_decide_the_tests() -> None:
    """z3's verdicts are budgeted in units; a wall-clock safety net (``solver.effort.safety_net_s``,
    ten times a question's reference time and at least 60 s) only guards against a tactic that stops
    counting, and an answer it cuts short says it depends on the machine. On a loaded machine it
    fired before the units were spent: session 27's whole deep run failed five tests that way at
    load 10-20 (docs/solver-notes.md#the-deep-suite-run-whole-session-27), each passing with the net
    raised. So in the test process the default net is 20 times as generous (and at least 15
    minutes): a test's outcome is its units', never the machine's load. Tests of the net itself give
    their own seconds; commands a test starts in a subprocess keep the product's default."""
    from solvent.solver import effort

    effort.SAFETY_FACTOR *= 20
    effort.SAFETY_MIN_S = max(effort.SAFETY_MIN_S, 900.0)


_units_decide_the_tests()


import pytest  # noqa: E402


@pytest.hookimpl(wrapper=True)
def pytest_collection(session):
    """No cyclic garbage collection while a worker collects, then the collected modules frozen.

    Collecting imports every test module and rewrites its asserts: millions of short-lived objects,
    so Python ran its full collection about 47 times in a worker's collection, each walking every
    object alive (the imported modules, the items): 5.5-6 s of a 17-19 s collection's CPU, in each
    worker (measured with ``gc.callbacks``, session 27). Collection leaves little cyclic garbage,
    so the collector waits until it is done, collects once, and moves what is alive then (modules,
    functions, items: about 256,000 objects) to the permanent generation (``gc.freeze``), which
    the collections during the tests no longer walk. Nothing a test asserts depends on when the
    collector runs: a z3 question holds it off itself (``solvent.solver.effort.question``)."""
    gc.disable()
    try:
        return (yield)
    finally:
        gc.collect()
        gc.freeze()
        gc.enable()


@pytest.fixture(autouse=True)
def _no_inherited_columns(monkeypatch):
    """Every test starts without a ``COLUMNS`` of its caller's: the text report folds to it when
    set (``reports.terminal.width``), and a runner that sets it (pytest-xdist's workers do) would
    otherwise fold the output the tests compare. A test that wants a width sets its own."""
    monkeypatch.delenv("COLUMNS", raising=False)


@pytest.fixture(autouse=True)
def _draws_independent_of_the_tests_before(request):
    """Hypothesis (6.131 on) mixes the integer literals of every local module in ``sys.modules`` into
    its draws, the test modules among them, so a ``@given`` test drew other examples depending on
    which test files its xdist worker had imported before it (a differential test then reached no
    pool ADL under one schedule: clean CI at 2d6ec10). Every test draws from Solvent's own pinned
    pool, as a search does (``properties.search.same_draws_in_any_process``), so its examples are
    the same however the suite is scheduled. Tests of that pool itself opt out
    (``@pytest.mark.hypothesis_pool_of_its_own``)."""
    if request.node.get_closest_marker("hypothesis_pool_of_its_own"):
        yield
        return
    from solvent.properties.search import same_draws_in_any_process

    with same_draws_in_any_process():
        yield


@pytest.fixture(autouse=True)
def _z3_context_put_back(request):
    """A test that leaves z3's global context replaced fails, and the next test on its worker finds
    the context it expects (``tests/z3_context.py``: a term made at a module's import and one made
    in a context a test left behind do not mix)."""
    from tests.z3_context import kept

    with kept(request.node.nodeid):
        yield

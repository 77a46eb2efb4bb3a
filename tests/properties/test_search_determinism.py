"""A seed means the same stories whatever modules the process has imported.

(Found when a new module of Solvent's own changed the story a planted policy's search shrank to.)

Hypothesis mixes integer literals from every local module in ``sys.modules`` into its draws; the
search pins that pool to Solvent's own literals (``search.same_draws_in_any_process``), so
importing a module full of numbers between two runs of one search changes nothing.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import tomllib
from pathlib import Path

import pytest

from solvent.properties import search as search_module
from solvent.properties.search import SEARCH_PACKAGES, SearchBudget, same_draws_in_any_process, search
from solvent.rules.loading import load_policy
from solvent.rules.presets import load_preset

#: these tests set hypothesis's pool of literals themselves (tests/conftest.py pins it for the rest)
pytestmark = pytest.mark.hypothesis_pool_of_its_own

providers = pytest.importorskip("hypothesis.internal.conjecture.providers")

PLANT = "tests/planted/debt-carry-swallows-deposit.toml"


@pytest.fixture
def module_of_numbers(tmp_path, monkeypatch):
    """A local module whose integer literals hypothesis would otherwise draw."""
    (tmp_path / "numbers_for_hypothesis.py").write_text(
        "VALUES = (" + ", ".join(str(n) for n in (1, 3, 7, 10, 11, 99, 100, 101, 111, 997, 10_000, 99_999)) + ")\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield lambda: importlib.import_module("numbers_for_hypothesis")
    sys.modules.pop("numbers_for_hypothesis", None)


def test_the_pool_is_solvents_own_inside_and_restored_after(module_of_numbers) -> None:
    module_of_numbers()
    assert 99_999 in providers._get_local_constants().integers  # the leak this guards against
    with same_draws_in_any_process():
        inside = providers._get_local_constants().integers
        assert 99_999 not in inside
        assert {10_000, 1_000_000} <= set(inside)  # Solvent's own literals (scenarios' mark, PPM)
    assert 99_999 in providers._get_local_constants().integers


def test_the_pool_is_the_rules_and_the_strategies_only() -> None:
    """The draws may use the engine's and the strategies' literals, never the reports' or the
    command line's: a literal added to the money formatting once cost the search a planted bug."""
    config = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    installed = set(config["tool"]["setuptools"]["packages"])
    assert set(SEARCH_PACKAGES) == {"solvent.rules", "solvent.properties"} and set(SEARCH_PACKAGES) <= installed
    pool = search_module._solvent_constants()
    if pool is not None:
        assert 1_000_000 in pool.integers  # PPM, the rules' own
        assert 525_960 not in pool.integers  # minutes in a year: only the simulation's price models hold it


def _fingerprint(result) -> tuple:
    """What the search drew and found, without its timings."""
    st = result.stats
    return (result.outcome, result.story, result.step_index, st.examples, st.events, st.exercised_steps, dict(st.paths))


#: examples a search runs where it must find and shrink the plant's story (the loaded-clock tests)
EXAMPLES = 300
#: examples the pool's searches run: the pool steers an unguarded search within them (the control
#: below: with the numbers it finds the plant's story, without them it finds none), and a guarded
#: one draws the same 50 examples either way. At 300 both guarded searches found and shrank the
#: story (2.8 s of CPU each at load 6, against 0.4 s at 50) and the control told the same (session 26)
POOL_EXAMPLES = 50
NUMBERS = frozenset((1, 2, 3, 5, 7, 10, 11, 20, 50, 99, 100, 101, 111, 200, 500, 997, 10_000, 99_999))


def _search_with_pool(monkeypatch, integers: frozenset[int], *, guarded: bool):
    """One seeded search while hypothesis's pool of local constants holds ``integers``."""
    from hypothesis.internal.constants_ast import Constants

    pool = Constants(integers=set(integers))
    monkeypatch.setattr(providers, "_get_local_constants", lambda: pool)
    providers.CONSTANTS_CACHE.cache.clear()
    if not guarded:
        monkeypatch.setattr(search_module, "same_draws_in_any_process", contextlib.nullcontext)
    try:
        return search(load_policy(PLANT), "deposit-not-absorbed", SearchBudget(max_examples=POOL_EXAMPLES))
    finally:
        monkeypatch.undo()
        providers.CONSTANTS_CACHE.cache.clear()


def test_a_seeded_search_ignores_the_pool(monkeypatch) -> None:
    without = _search_with_pool(monkeypatch, frozenset(), guarded=True)
    with_numbers = _search_with_pool(monkeypatch, NUMBERS, guarded=True)
    assert without.stats.examples == POOL_EXAMPLES and without.stats.events > 0
    assert _fingerprint(with_numbers) == _fingerprint(without)


def test_without_the_guard_the_pool_changes_the_draws(monkeypatch) -> None:
    """The control: the comparison above can fail (the pool does steer an unguarded search)."""
    without = _search_with_pool(monkeypatch, frozenset(), guarded=False)
    with_numbers = _search_with_pool(monkeypatch, NUMBERS, guarded=False)
    assert _fingerprint(with_numbers) != _fingerprint(without)


def test_a_policy_that_lends_nothing_draws_from_the_pool_before_lending() -> None:
    """Lending's literals (the index's 1.0, the pump, the Mango incident's prices) moved every draw
    of every policy and cost the search the planted haircut-last-layer bug: a policy that lends
    nothing draws from the pool as it stood before lending, in hypothesis's order; one that lends
    from the pool as it stood at 30f97e6 (lending's literals in), frozen too, so a literal added to
    the rules since (the seconds in a year of a rate curve) moves no lending policy's draws."""
    from solvent.properties.draw_literals import BEFORE_LENDING, WITH_LENDING
    from solvent.rules.book import INDEX_ONE

    plain = load_policy("tests/planted/haircut-last-layer.toml")
    lending = load_preset("drift")
    with same_draws_in_any_process(plain):
        inside = providers._get_local_constants().integers
        assert tuple(inside) == BEFORE_LENDING and INDEX_ONE not in inside
    with same_draws_in_any_process(lending):
        inside = providers._get_local_constants().integers
        assert tuple(inside) == WITH_LENDING and INDEX_ONE in inside
    assert INDEX_ONE not in BEFORE_LENDING and 1_000_000 in BEFORE_LENDING


engine = pytest.importorskip("hypothesis.internal.conjecture.engine")


class _LoadedClock:
    """The clock of a machine so loaded that every reading is 1,000 s after the last: hypothesis's
    shrinking deadline (300 s) passes at its first check. Only ``perf_counter`` (what the deadline
    reads) jumps; the rest is the real ``time`` module."""

    def __init__(self) -> None:
        import time

        self._time, self._now = time, 0.0

    def perf_counter(self) -> float:
        self._now += 1_000.0
        return self._now

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._time, name)


def _plant_search(monkeypatch, *, loaded: bool, guarded: bool = True):
    if loaded:
        monkeypatch.setattr(engine, "time", _LoadedClock())
    if not guarded:
        monkeypatch.setattr(search_module, "shrinking_without_a_clock", contextlib.nullcontext)
    try:
        return search(load_policy(PLANT), "deposit-not-absorbed", SearchBudget(max_examples=EXAMPLES))
    finally:
        monkeypatch.undo()


def test_a_search_lifts_hypothesis_shrinking_clock_and_restores_it() -> None:
    assert engine.MAX_SHRINKING_SECONDS == 300  # hypothesis's own: wall seconds
    with same_draws_in_any_process():
        assert engine.MAX_SHRINKING_SECONDS == search_module.SHRINK_SECONDS >= 10**9
    assert engine.MAX_SHRINKING_SECONDS == 300


@pytest.mark.deep
def test_the_story_shrinks_as_far_on_a_loaded_clock(monkeypatch) -> None:
    """Hypothesis ends a shrink after 300 s of wall time; inside a search that limit is lifted
    (``search.shrinking_without_a_clock``), so the story shown does not depend on machine load."""
    idle = _plant_search(monkeypatch, loaded=False)
    loaded = _plant_search(monkeypatch, loaded=True)
    assert idle.story is not None and idle.stats.examples > 0
    assert _fingerprint(loaded) == _fingerprint(idle)
    assert engine.MAX_SHRINKING_SECONDS == 300  # restored after the search


@pytest.mark.deep
def test_without_lifting_the_limit_the_loaded_clock_changes_the_story(monkeypatch) -> None:
    """The control: the comparison above can fail (the clock does cut an unguarded shrink)."""
    idle = _plant_search(monkeypatch, loaded=False)
    loaded = _plant_search(monkeypatch, loaded=True, guarded=False)
    assert _fingerprint(loaded) != _fingerprint(idle)


class _LoadedWallClock(_LoadedClock):
    """Both of hypothesis's clocks jump 1,000 s a reading: ``monotonic`` too, which the 10 s it
    keeps generating after a first failure reads (``report_multiple_bugs``)."""

    def monotonic(self) -> float:
        return self.perf_counter()


def _first_failure(monkeypatch, config, *, loaded: bool) -> tuple[int, list[int]]:  # noqa: ANN001
    """``hypothesis.find`` with a search's settings, as every search asks it: the example found and
    every example tried, on the real clock or a loaded one."""
    from hypothesis import find, strategies

    tried: list[int] = []
    if loaded:
        monkeypatch.setattr(engine, "time", _LoadedWallClock())
    try:
        with same_draws_in_any_process():
            found = find(strategies.integers(0, 10**6), lambda x: tried.append(x) or x >= 1_000, settings=config)
    finally:
        monkeypatch.undo()
    return found, tried


def test_generation_ends_at_the_first_failure_on_any_clock(monkeypatch) -> None:
    """A search's settings say one bug (``report_multiple_bugs=False``, which ``find`` forces too):
    hypothesis stops generating at the first failure instead of looking on for others until 10 s
    have passed, so the failure it shrinks, and every example it tries, is the same on a loaded
    clock as on the real one."""
    config = search_module.search_settings(SearchBudget(max_examples=200))
    assert config.report_multiple_bugs is False
    idle = _first_failure(monkeypatch, config, loaded=False)
    assert idle[0] == 1_000 and len(idle[1]) > 1
    assert _first_failure(monkeypatch, config, loaded=True) == idle


def test_with_several_bugs_reported_the_loaded_clock_ends_generation_early(monkeypatch) -> None:
    """The control: with ``report_multiple_bugs`` on (a ``@given`` test under hypothesis's
    defaults) the 10 s after the first failure decide how many more examples are generated."""
    from hypothesis import given, settings, strategies

    def run(loaded: bool) -> list[int]:
        tried: list[int] = []

        @settings(search_module.search_settings(SearchBudget(max_examples=200)), report_multiple_bugs=True)
        @given(strategies.integers(0, 10**6))
        def fails_from_a_thousand(x: int) -> None:
            tried.append(x)
            assert x < 1_000

        if loaded:
            monkeypatch.setattr(engine, "time", _LoadedWallClock())
        try:
            with same_draws_in_any_process(), pytest.raises(AssertionError):
                fails_from_a_thousand()
        finally:
            monkeypatch.undo()
        return tried

    assert len(run(loaded=True)) < len(run(loaded=False))

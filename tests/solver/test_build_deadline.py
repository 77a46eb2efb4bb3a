"""The per-question timeout covers building the question, and a question builds only what it asks.

Building a large question (the engine's liquidation sweep run symbolically over N = 8 traders,
then linearized) takes longer than a short timeout; the answer must still come within about that
timeout, undecided and saying why, never proved. Timings are compared within one run (the same
machine, the same load), never against a fixed figure.
"""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

import solvent.solver.query as query_module
from solvent.cli import main
from solvent.properties import catalog
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds
from solvent.solver.deadline import BuildTimeout
from solvent.solver.prove import prove
from solvent.solver.story import SlotRun
from solvent.solver.verdicts import TRANSFERS, Verdict

BUILD_REASON = "building the question took longer than the 0.1 s timeout, stopped after "


@pytest.fixture(scope="module")
def unbounded_build_s() -> float:
    """How long Binance's N = 8 no-negative-equity question (the claim and the transfer signs, one
    mark move: the whole liquidation sweep) takes to build with no timeout in sight."""
    query = query_module.StoryQuery(load_preset("binance"), catalog.get("no-negative-equity"), Bounds(accounts=8))
    return query.build_seconds


def _obligation(result, name: str):
    return next(o for o in result.obligations if o.obligation == name)


class TestBuildTimeout:
    def test_a_short_timeout_stops_the_engine_run_itself(self, unbounded_build_s: float) -> None:
        """The deadline is seen inside the engine's symbolic sweep (through the z3 backend), not
        only between build phases: the build stops near the timeout, far before it would end."""
        started = time.perf_counter()
        with pytest.raises(BuildTimeout) as stop:
            query_module.StoryQuery(load_preset("binance"), catalog.get("no-negative-equity"), Bounds(accounts=8, timeout_ms=50))
        took = time.perf_counter() - started
        assert stop.value.reason.startswith("building the question took longer than the 0.05 s timeout, stopped after ")
        assert took < unbounded_build_s / 3, (took, unbounded_build_s)

    def test_a_large_question_with_a_tiny_timeout_is_undecided_and_says_why(self, unbounded_build_s: float) -> None:
        """Binance, N = 8, 0.1 s per question: both obligations are undecided because the build
        outlasted the timeout, and say so; never PROVED, nor VACUOUS (no build finished, so no
        assumption was refuted). The answer comes long before the build would have ended."""
        started = time.perf_counter()
        result = prove("binance", "no-negative-equity", Bounds(accounts=8, timeout_ms=100))
        took = time.perf_counter() - started
        assert result.verdict is Verdict.UNKNOWN, result.summary()
        for name in ("no-negative-equity", TRANSFERS):
            obligation = _obligation(result, name)
            assert obligation.verdict is Verdict.UNKNOWN
            assert obligation.reason.startswith(BUILD_REASON), obligation.reason
            assert f"{name}: unknown ({BUILD_REASON}" in result.reason
        assert any(q.name == "build" and q.result == "timeout" for q in result.queries)
        assert took < unbounded_build_s / 3, (took, unbounded_build_s)

    def test_the_cli_reports_the_build_timeout_and_exits_3(self) -> None:
        """Conservation is proved for every N by its lemmas; the transfer signs at N = 8 are not
        decided within 0.1 s, and the verdict says which part and why."""
        result = CliRunner().invoke(main, ["prove", "binance", "--invariant", "conservation", "--accounts", "8", "--timeout", "0.1"])
        assert result.exit_code == 3, result.output
        first = result.output.splitlines()[0]
        assert "proved (all N" not in first
        line = next(x for x in result.output.splitlines() if x.startswith(f"  {TRANSFERS}: "))
        assert line.startswith(f"  {TRANSFERS}: unknown (N ≤ 8") and f") - {BUILD_REASON}" in line, line

    def test_z3_gets_only_what_the_build_left(self, monkeypatch) -> None:
        """A build that spends 0.6 s of a 1 s timeout leaves each check at most the other 0.4 s."""
        real_run = query_module.run

        def slow_run(*args):
            time.sleep(0.6)
            return real_run(*args)

        monkeypatch.setattr(query_module, "run", slow_run)
        query = query_module.StoryQuery(load_preset("backpack"), catalog.get("conservation"), Bounds(accounts=1, timeout_ms=1_000))
        assert query.build_seconds >= 0.6
        assert query.solve_ms == 1_000 - int(query.build_seconds * 1000)
        timeouts: list[int] = []
        real_set = query.solver.set

        def spy_set(*args, **kw):
            timeouts.append(kw.get("timeout", 0))
            return real_set(*args, **kw)

        monkeypatch.setattr(query.solver, "set", spy_set)
        query.check_obligation(catalog.get("conservation"))
        assert timeouts and max(timeouts) <= query.solve_ms


class TestOnlyWhatIsAsked:
    def test_a_transfers_only_question_never_builds_the_invariant(self, monkeypatch) -> None:
        """Conservation has an all-N argument, so the bounded queries ask about the transfers
        only: the invariant's per-event formula is never built, and the verdict is still PROVED."""
        built: list[int] = []
        real = SlotRun.obligation

        def counted(self, policy, invariant):
            built.append(1)
            return real(self, policy, invariant)

        monkeypatch.setattr(SlotRun, "obligation", counted)
        result = prove("binance", "conservation", Bounds(accounts=3, timeout_ms=30_000))
        assert result.verdict is Verdict.PROVED, result.summary()
        assert built == []
        bounded = prove("binance", "conservation", Bounds(accounts=2, timeout_ms=30_000), compositional=False)
        assert bounded.verdict is Verdict.PROVED, bounded.summary()
        assert built  # the same invariant, asked of the bounded query, is built

    def test_asking_an_obligation_the_query_was_not_built_for(self) -> None:
        query = query_module.StoryQuery(load_preset("backpack"), catalog.get("conservation"), Bounds(accounts=1), obligations=(None,))
        with pytest.raises(ValueError) as error:
            query.check_obligation(catalog.get("conservation"))
        assert str(error.value) == "this query was built without 'conservation': pass it in StoryQuery(..., obligations=...)"

    def test_a_normal_large_question_still_proves(self) -> None:
        """Binance, N = 8, one mark move, the default timeout: proved (conservation for all N by
        its lemmas, the transfer signs for N ≤ 8)."""
        result = prove("binance", "conservation", Bounds(accounts=8))
        assert result.verdict is Verdict.PROVED, result.summary()
        assert _obligation(result, TRANSFERS).scope.accounts == 8

"""A question's effort is counted in deterministic units, building included; a question builds
only what it asks.

Building a large question (the engine's liquidation sweep run symbolically over N = 4 traders,
then linearized) costs build steps; with a small effort the build stops at the same step on any
machine, undecided and saying why, never proved. Nothing here compares seconds: the units a
question spends are the same however loaded the machine is.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import solvent.solver.query as query_module
from solvent.cli import main
from solvent.properties import catalog
from solvent.rules.presets import load_preset
from solvent.solver import effort
from solvent.solver.bounds import Bounds
from solvent.solver.effort import BUILD_STEP, OutOfEffort
from solvent.solver.prove import prove
from solvent.solver.story import SlotRun
from solvent.solver.verdicts import TRANSFERS, Verdict

#: the module's tests run on one xdist worker (``--dist loadgroup`` sends every ungrouped test
#: on its own, so its tests were split over both workers and each built the module's fixtures):
#: `unbounded_build_units` and `built_at_its_units` (binance's N = 4 build, twice): 10 s under load,
#: built on each worker that ran one of their tests (session 25)
pytestmark = pytest.mark.xdist_group("effort")

BUILD_REASON = "building the question needed more than its 100,000 units ("
#: The traders of the question whose build is counted exactly: 3,765 build steps at N = 4 (2.5 s a
#: build); the counting is the same at N = 8 (the tests below with a tiny effort), 8 times the time
BUILT = 4


@pytest.fixture(scope="module")
def unbounded_build_units() -> int:
    """The units Binance's N = 4 no-negative-equity question (the claim and the transfer signs,
    one mark move: the whole liquidation sweep) spends building with no limit in sight."""
    query = query_module.StoryQuery(load_preset("binance"), catalog.get("no-negative-equity"), Bounds(accounts=BUILT))
    return query.build_units


@pytest.fixture(scope="module")
def built_at_its_units(unbounded_build_units: int) -> query_module.StoryQuery:
    """The same question built again, its limit exactly the units the first build spent: the second
    build both tests below read (one build asked once, not twice; session 24's second pass)."""
    return query_module.StoryQuery(
        load_preset("binance"),
        catalog.get("no-negative-equity"),
        Bounds(accounts=BUILT, effort=unbounded_build_units),
    )


def _obligation(result, name: str):
    return next(o for o in result.obligations if o.obligation == name)


class TestBuildEffort:
    def test_the_build_costs_the_same_units_every_time(
        self, unbounded_build_units: int, built_at_its_units: query_module.StoryQuery
    ) -> None:
        """The same question built again spends exactly the same units (steps are counted, not timed)."""
        again = built_at_its_units
        assert again.build_units == unbounded_build_units
        assert again.build_units % BUILD_STEP == 0 and again.build_units > 1_000 * BUILD_STEP

    def test_a_small_effort_stops_the_engine_run_itself(self, unbounded_build_units: int) -> None:
        """The meter is charged inside the engine's symbolic sweep (through the z3 backend), not
        only between build phases: the build stops at the first step past the limit."""
        limit = unbounded_build_units // 10
        with pytest.raises(OutOfEffort) as stop:
            query_module.StoryQuery(
                load_preset("binance"), catalog.get("no-negative-equity"), Bounds(accounts=BUILT, effort=limit)
            )
        assert stop.value.steps == limit // BUILD_STEP + 1
        assert (
            stop.value.reason
            == f"building the question needed more than its {effort.units_text(limit)} ({limit // BUILD_STEP + 1:,} build steps)"
        )

    def test_a_build_exactly_at_its_effort_finishes(
        self, unbounded_build_units: int, built_at_its_units: query_module.StoryQuery
    ) -> None:
        """Equality is enough: a limit of exactly the build's units builds, one unit less does not."""
        query = built_at_its_units
        assert query.build_units == unbounded_build_units and query.solve_units == 1
        with pytest.raises(OutOfEffort):
            query_module.StoryQuery(
                load_preset("binance"),
                catalog.get("no-negative-equity"),
                Bounds(accounts=BUILT, effort=unbounded_build_units - 1),
            )

    def test_a_large_question_with_a_tiny_effort_is_undecided_and_says_why(self) -> None:
        """Binance, N = 8, 100,000 units per question: both obligations are undecided because the
        build needed more, and say so; never PROVED, nor VACUOUS (no build finished, so no
        assumption was refuted)."""
        result = prove("binance", "no-negative-equity", Bounds(accounts=8, effort=100_000))
        assert result.verdict is Verdict.UNKNOWN, result.summary()
        for name in ("no-negative-equity", TRANSFERS):
            obligation = _obligation(result, name)
            assert obligation.verdict is Verdict.UNKNOWN
            assert obligation.reason.startswith(BUILD_REASON), obligation.reason
            assert f"{name}: unknown ({BUILD_REASON}" in result.reason
        assert any(q.name == "build" and q.result == "out of effort" for q in result.queries)

    def test_the_cli_reports_the_build_effort_and_exits_3(self) -> None:
        """Conservation is proved for every N by its lemmas; the transfer signs at N = 8 are not
        decided within 100k units, and the verdict says which part and why."""
        result = CliRunner().invoke(
            # every trader cross (binance declares both margin modes: --isolated 0 fixes the book's)
            main,
            [
                "prove",
                "binance",
                "--invariant",
                "conservation",
                "--accounts",
                "8",
                "--effort",
                "100k",
                "--isolated",
                "0",
            ],
        )
        assert result.exit_code == 3, result.output
        first = result.output.splitlines()[0]
        assert "proved (all N" not in first
        line = next(x for x in result.output.splitlines() if x.startswith(f"  {TRANSFERS}: "))
        assert line.startswith(f"  {TRANSFERS}: unknown (N ≤ 8") and f") - {BUILD_REASON}" in line, line

    def test_z3_gets_only_what_the_build_left(self, monkeypatch) -> None:
        """Each check's rlimit is at most the units the build left, and the build's units are its steps."""
        query = query_module.StoryQuery(
            load_preset("backpack"), catalog.get("conservation"), Bounds(accounts=1, effort=5_000_000)
        )
        assert query.solve_units == 5_000_000 - query.build_units
        limits: list[int] = []
        real_set = query.solver.set

        def spy_set(*args, **kw):
            if "rlimit" in kw:
                limits.append(kw["rlimit"])
            return real_set(*args, **kw)

        monkeypatch.setattr(query.solver, "set", spy_set)
        answer = query.check_obligation(catalog.get("conservation"))
        assert limits and max(limits) <= query.solve_units
        assert 0 < answer.stats.units


class TestSolve:
    def test_an_unknown_from_the_units_says_so(self) -> None:
        import z3

        x, y, z = z3.Ints("x y z")
        solver = z3.Solver()
        solver.add(x * x * x + y * y * y == z * z * z, x > 0, y > 0, z > 0)
        solved = effort.solve(solver, 50_000, safety_s=600)
        assert solved.result == "unknown" and solved.stopped_by == "effort"
        assert solved.units >= 50_000 and solved.reason.startswith("its effort ran out (")

    # deep: test_check_asks_each_question_as_a_fresh_process_would asks the same two claims in
    # this process (another hash seed, after other questions) and in a fresh one (36 s at load 8)
    @pytest.mark.deep
    def test_a_fresh_process_spends_the_same_units(self) -> None:
        """The same questions in two fresh processes (different hash seeds) spend exactly the same
        units and get the same verdicts. (Within one process z3's shared context keeps caches, so
        a repeated question may spend a few units more or less: a command is reproducible as a
        whole, from a fresh process, which is how it runs.)"""
        import os
        import subprocess
        import sys

        program = (
            "import solvent.solver\n"
            "from solvent.solver.prove import prove\n"
            "from solvent.solver.bounds import Bounds\n"
            "for inv in ('claims-backed', 'waterfall-order'):\n"
            "    r = prove('binance', inv, Bounds(accounts=2, effort=3_000_000))\n"
            "    print(inv, r.verdict.value, r.units, [(q.name, q.result, q.units) for q in r.queries])\n"
        )
        outs = [
            subprocess.run(
                [sys.executable, "-c", program],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONHASHSEED": seed},
            ).stdout
            for seed in ("1", "2")
        ]
        assert outs[0] == outs[1] and outs[0].count("\n") == 2

    def test_the_safety_net_is_reported_as_such(self) -> None:
        assert effort.stopped_by("canceled", 10, 1_000, 61.0, 60.0) == "safety net"
        assert effort.stopped_by("canceled", 1_000, 1_000, 61.0, 60.0) == "effort"  # units first
        assert effort.stopped_by("canceled", 10, 1_000, 30.0, 60.0) == "canceled"
        assert "depends on the machine" in effort.Solved("unknown", 10, "safety net", 61.0).reason

    def test_units_text(self) -> None:
        assert effort.units_text(30_000_000) == "30M units"
        assert effort.units_text(2_500_000) == "2.5M units"
        assert effort.units_text(999_999) == "999,999 units"


class TestOnlyWhatIsAsked:
    def test_a_transfers_only_question_never_builds_the_invariant(self, monkeypatch) -> None:
        """A query asked about the transfers only never builds the invariant's per-event formula
        (linearizing it over a liquidation sweep is most of a large build); one asked about the
        invariant does."""
        built: list[int] = []
        real = SlotRun.obligation

        def counted(self, policy, invariant):
            built.append(1)
            return real(self, policy, invariant)

        monkeypatch.setattr(SlotRun, "obligation", counted)
        binance, conservation = load_preset("binance"), catalog.get("conservation")
        query_module.StoryQuery(binance, conservation, Bounds(accounts=2), obligations=(None,))
        assert built == []
        query_module.StoryQuery(binance, conservation, Bounds(accounts=2), obligations=(conservation,))
        assert built

    def test_asking_an_obligation_the_query_was_not_built_for(self) -> None:
        query = query_module.StoryQuery(
            load_preset("backpack"), catalog.get("conservation"), Bounds(accounts=1), obligations=(None,)
        )
        with pytest.raises(ValueError) as error:
            query.check_obligation(catalog.get("conservation"))
        assert (
            str(error.value)
            == "this query was built without 'conservation': pass it in StoryQuery(..., obligations=...)"
        )

    @pytest.mark.deep  # N = 8 at the default effort: minutes
    def test_a_normal_large_question_still_proves(self) -> None:
        """Binance, N = 8, one mark move, the default effort: the transfer signs are proved for
        N ≤ 8. Conservation's all-N lemmas hold, but the claim is made for every N only when the
        direct check at N = 8 decides it too; where it does not, the claim says so and keeps N."""
        result = prove("binance", "conservation", Bounds(accounts=8))
        assert _obligation(result, TRANSFERS).verdict is Verdict.PROVED
        assert _obligation(result, TRANSFERS).scope.accounts == 8
        claim = _obligation(result, "conservation")
        if claim.verdict is Verdict.PROVED:
            assert claim.scope.accounts is None
        else:
            assert claim.verdict is Verdict.UNKNOWN and claim.scope.accounts == 8
            assert "the all-N lemmas held" in claim.reason


def test_check_asks_each_question_as_a_fresh_process_would() -> None:
    """The z3 answers inside ``check`` do not depend on what this process asked z3 before:
    a question asked after others spends the units it spends in a fresh process."""
    import os
    import subprocess
    import sys

    from solvent.verdicts.proofs import ProofBudget, prove_within

    # Two questions check proves at N = 2, each within 1.1M units, after a question that runs out
    # (500,000 units): with effort.question() a no-op (no fresh context, the collector not held)
    # both spend more here than in a fresh process (1,134,692 and 1,082,658 against 1,129,865 and
    # 1,077,827 units). The pair asked before (claims-backed at 6M, out of effort, and
    # waterfall-order after a 2M history) told the same mutant at three times the CPU (session 26).
    ids = ["waterfall-order", "insurance-fund-non-negative"]
    budget = ProofBudget(total=3_000_000, per_question=2_000_000)
    prove("binance", "no-negative-equity", Bounds(accounts=2, effort=500_000))  # history
    here = {k: (r.verdict.value, r.units) for k, r in prove_within(load_preset("binance"), ids, budget).items()}
    program = (
        "from solvent.rules.presets import load_preset\n"
        "from solvent.verdicts.proofs import ProofBudget, prove_within\n"
        f"r = prove_within(load_preset('binance'), {ids!r}, ProofBudget(total=3_000_000, per_question=2_000_000))\n"
        "print({k: (v.verdict.value, v.units) for k, v in r.items()})\n"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, env=dict(os.environ)
    ).stdout.strip()
    assert [v[0] for v in here.values()] == ["proved", "proved"]  # decided: every query of the proof compared
    assert repr(here) == fresh


class TestQuestion:
    """``effort.question()``: a fresh z3 context and no cyclic collection while a question runs (the
    collector's timing decides which freed term numbers z3 reuses, and so the units a query spends)."""

    def test_the_collector_waits_inside_and_is_restored_after(self) -> None:
        import gc

        assert gc.isenabled()
        with effort.question():
            assert not gc.isenabled()
        assert gc.isenabled()
        gc.disable()
        try:
            with effort.question():
                pass
            assert not gc.isenabled()  # a caller that had it off keeps it off
        finally:
            gc.enable()

    def test_the_same_question_spends_the_same_units_after_garbage(self) -> None:
        """Cycles of z3 terms left by earlier work: the same question spends what it spends alone."""
        import gc

        import z3

        from solvent.solver.prove import prove

        bounds = Bounds(accounts=2, effort=2_000_000)
        with effort.question():
            alone = prove("backpack", "conservation", bounds, minimize=False).units
        for i in range(200):  # reference cycles holding z3 terms, freed only by the collector
            a = [z3.Int(f"junk{i}") + i]
            a.append(a)
        with effort.question():
            again = prove("backpack", "conservation", bounds, minimize=False).units
        gc.collect()
        assert again == alone

    def test_only_the_outermost_question_collects(self, monkeypatch) -> None:  # noqa: ANN001
        """``prove`` inside a ``check`` question: one full collection, not one per level."""
        import gc

        calls = []
        monkeypatch.setattr(gc, "collect", lambda *a: calls.append(a) or 0)
        with effort.question():
            with effort.question():
                pass
            with effort.question():
                pass
        assert len(calls) == 1
        with effort.question():
            pass
        assert len(calls) == 2

    def test_the_callers_context_is_back_after_the_question(self) -> None:
        """A term built before a question can be used with terms built after it: the question had
        its own context and put the caller's back (``prove`` inside a threshold probe)."""
        import z3

        before = z3.Int("before_the_question")
        with effort.question():
            inside = z3.Int("inside")
            assert inside.ctx is not before.ctx
        after = z3.Int("after_the_question")
        assert after.ctx is before.ctx
        assert z3.simplify(before - after + 1 - 1).eq(z3.simplify(before - after))  # no context mismatch


def _plain(result) -> dict:  # noqa: ANN001 (a ProofResult)
    """A proof result as plain data without its seconds: what must not depend on the process."""
    import attrs

    def clean(value):  # noqa: ANN001, ANN202
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if "second" not in k}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value if isinstance(value, (int, str, type(None), bool)) else repr(value)

    return clean(attrs.asdict(result, recurse=True))


def answered_in_a_fresh_process(policy: str, invariant: str, **bounds: int) -> dict:
    """``prove(policy, invariant, Bounds(**bounds))`` asked in a fresh interpreter, as
    :func:`_plain` data (what a question asked after others in this process must equal)."""
    import json
    import os
    import subprocess
    import sys

    program = (
        "import json\n"
        "from solvent.solver.bounds import Bounds\n"
        "from solvent.solver.prove import prove\n"
        "from tests.solver.test_effort import _plain\n"
        f"print(json.dumps(_plain(prove({policy!r}, {invariant!r}, Bounds(**{bounds!r})))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, env=dict(os.environ)
    )
    return json.loads(done.stdout)


def test_prove_answers_as_a_fresh_process_would_after_other_questions() -> None:
    """``solver.prove.prove`` itself, called straight after another question in this process,
    gives field for field what a fresh process gives: the path through z3, the units of every
    query and the counterexample. Before ``prove`` asked as its own question, Backpack's no-negative-equity at N = 2 ran "sat (replayed)" in 71,435 units
    after conservation at N = 1, and "out of effort, then unknown (exact), then sat" in 224,190 in
    a fresh process, with another story (docs/solver-notes.md#process-history)."""
    import json

    prove("backpack", "conservation", Bounds(accounts=1, effort=5_000_000))  # history
    here = _plain(prove("backpack", "no-negative-equity", Bounds(accounts=2, effort=5_000_000)))
    fresh = answered_in_a_fresh_process("backpack", "no-negative-equity", accounts=2, effort=5_000_000)
    assert here["verdict"] == repr(Verdict.REFUTED) and here["counterexample"] is not None
    assert json.loads(json.dumps(here)) == fresh

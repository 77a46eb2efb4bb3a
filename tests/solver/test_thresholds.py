"""Thresholds: exact boundaries with a z3 proof on the safe side and a replayed story beyond it.

The expected numbers follow from the policy by hand, independently of the prover:

- Binance's loosest tier opens at 125x (initial rate 8,000 ppm), fills liquidations at the mark
  and caps its penalty at the equity left. A trader holding at least initial margin loses
  ``|size| · |Δp|`` on a move, so no move of at most 0.8% can push its equity below zero, and a
  move a hair above 0.8% can (a trader opened at exactly initial margin).
- For a 20% gap, a long at 125x is 19.2% of its notional short of covering the loss: the fund
  must hold 19.2% of the long open interest before ADL is never needed (one trader against the
  book, the question's default scope).
- At 10x, a position still above a maintenance rate ``m`` survives a 5% gap without bad debt
  exactly when ``m ≥ 5%`` (no slippage; the penalty never exceeds the equity left).
"""

from __future__ import annotations

import itertools
import json
from fractions import Fraction

import attrs
import pytest
from click.testing import CliRunner

import solvent.solver.thresholds as th
from solvent.cli import main
from solvent.properties.scenarios import Story
from solvent.rules.events import MarkPrice
from solvent.rules.presets import load_preset
from solvent.solver.refinement import replay
from solvent.solver.thresholds import ThresholdStatus, threshold
from solvent.solver.verdicts import Counterexample, ProofResult, Scope, Verdict

BINANCE = load_preset("binance")


def _beyond(t: th.Threshold) -> bool:
    """The counterexample breaks the claim when replayed at the refuted value's bounds."""
    question = th.questions()[t.question]
    s = question.setup(BINANCE, t.refuted_at, th.default_bounds())
    return replay(s.policy, s.claim, t.counterexample.story, s.bounds).violates


def test_binance_safe_move_is_its_loosest_initial_rate() -> None:
    t = threshold(BINANCE, "safe-move", minimize=False)
    assert t.status is ThresholdStatus.EXACT, t.summary()
    assert (t.value, t.proved_at, t.refuted_at) == (8_000, 8_000, 8_001)
    assert t.proof is not None and t.proof.verdict is Verdict.PROVED
    assert _beyond(t)
    assert all(p.units > 0 for p in t.probes)  # each probe counts what it spent
    assert t.comparison.startswith("this policy's loosest initial rate is 0.8% (125x): exactly the answer")
    story = t.counterexample.story
    before, (event,) = story.book.market.mark_quote, story.events
    # the refuting move lies in (8000, 8001] ppm of the mark: just beyond the proved bound
    assert 8_000 * before < abs(event.price_quote - before) * 10**6 <= 8_001 * before


def test_binance_fund_for_a_20pct_gap_is_gap_less_initial_rate() -> None:
    t = threshold(BINANCE, "fund-for-gap", minimize=False)
    assert t.status is ThresholdStatus.EXACT, t.summary()
    assert (t.proved_at, t.refuted_at) == (192_000, 191_999)
    assert _beyond(t)
    assert t.claim.startswith("no deficit reaches ADL")
    assert "one trader against the book" in t.note and t.scope.startswith("N ≤ 1")
    assert t.comparison.endswith(
        "leaves 19.2% of the notional beyond the margin: exactly the answer, so the fund must hold every loss beyond the margin"
    )


def test_binance_maintenance_for_10x_and_a_5pct_gap() -> None:
    t = threshold(BINANCE, "maintenance-for-leverage", minimize=False)
    assert t.status is ThresholdStatus.EXACT, t.summary()
    assert (t.value, t.refuted_at) == (50_000, 49_999)
    assert _beyond(t)
    assert "changes the policy" in t.note  # not monotone by construction: said so


def test_parameters_change_the_question() -> None:
    t = threshold(BINANCE, "maintenance-for-leverage", minimize=False, leverage=20, maintenance_gap_ppm=30_000)
    assert t.status is ThresholdStatus.EXACT, t.summary()
    assert t.value == 30_000
    assert "20x" in t.title and "3%" in t.title


def test_a_policy_without_an_insurance_fund_has_no_fund_threshold() -> None:
    t = threshold("backpack", "fund-for-gap")
    assert t.status is ThresholdStatus.NOT_APPLICABLE and t.value is None and not t.probes
    assert "no insurance fund" in t.summary()


def test_no_budget_decides_nothing_and_claims_nothing() -> None:
    t = threshold(BINANCE, "safe-move", max_probes=0)
    assert t.status is ThresholdStatus.UNKNOWN and t.value is None and t.proof is None and t.counterexample is None


@pytest.mark.parametrize(
    ("params", "message"),
    [({"gap_ppm": 0}, "'gap_ppm' must be in 1..1000000: 0"), ({"leverage": 0}, "'leverage' must be in 1..1000000: 0")],
)
def test_bad_parameters_are_named(params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        th.questions(**params)


def test_unknown_question_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: safe-move, fund-for-gap"):
        threshold(BINANCE, "largest-fund")


# --- the bisection, on a stand-in prover ------------------------------------------------------


def _fake_prove(verdict_at):
    story = Story(_plain_book(), (MarkPrice(10_000),))

    def fake(policy, claim, bounds, **_kw):
        value = bounds.max_move_ppm
        verdict = verdict_at(value)
        scope = Scope(2, 1, ("mark",), "")
        cx = Counterexample(story, (), 0, claim.id, "stand-in") if verdict is Verdict.REFUTED else None
        return ProofResult(policy.name, claim.id, verdict, scope, 0.0, "stand-in", counterexample=cx)

    return fake


def _plain_book():
    from solvent.rules.book import new_book

    return new_book(mark_quote=10_000, traders=("alice", "bob"))


@pytest.fixture
def stand_in(monkeypatch):
    import solvent.solver.prove as prove_module

    def install(verdict_at):
        fake = _fake_prove(verdict_at)
        monkeypatch.setattr(prove_module, "prove", fake)
        monkeypatch.setattr(th, "_decide", lambda s: (fake(s.policy, s.claim, s.bounds), None))
        monkeypatch.setattr(th, "_reached", lambda q, p, value, *a: value)
        monkeypatch.setattr(th, "_smallest", lambda q, p, value, b, cx, **kw: th.Told(cx))

    return install


def test_bisection_finds_the_boundary_in_logarithmic_probes(stand_in) -> None:
    stand_in(lambda v: Verdict.PROVED if v <= 123_456 else Verdict.REFUTED)
    t = threshold(BINANCE, "safe-move")
    assert t.status is ThresholdStatus.EXACT and t.value == 123_456
    assert len(t.probes) <= 24  # hints, both ends, then ~log2(10⁶) bisection steps


def test_an_undecided_middle_is_reported_as_bounded_never_as_a_value(stand_in) -> None:
    stand_in(lambda v: Verdict.PROVED if v <= 1_000 else Verdict.UNKNOWN if v < 1_010 else Verdict.REFUTED)
    t = threshold(BINANCE, "safe-move", max_probes=200)  # enough to probe every undecided value
    assert t.status is ThresholdStatus.BOUNDED and t.value is None
    assert (t.proved_at, t.refuted_at) == (1_000, 1_010)
    assert "between 1,000 and 1,010 ppm" in t.summary()
    assert "z3 left 9 values undecided within 30M units each (at 1,002: unknown)" in t.note  # the reason is said


def test_refuted_everywhere_is_none(stand_in) -> None:
    stand_in(lambda v: Verdict.REFUTED)
    t = threshold(BINANCE, "safe-move")
    assert t.status is ThresholdStatus.NONE and t.value is None and t.refuted_at == 0


#: The probes of the safe-move stand-in above, in order: the hint (Binance's loosest initial rate,
#: 8,000) and the value just riskier, the riskiest end, then the bisection. Pinned: the bisection
#: record must make the same probes in the same order as the search it replaced.
SAFE_MOVE_PROBES = [
    (8_000, "proved"),
    (8_001, "proved"),
    (999_999, "refuted"),
    (504_000, "refuted"),
    (256_000, "refuted"),
    (132_000, "refuted"),
    (70_000, "proved"),
    (101_000, "proved"),
    (116_500, "proved"),
    (124_250, "refuted"),
    (120_375, "proved"),
    (122_312, "proved"),
    (123_281, "proved"),
    (123_765, "refuted"),
    (123_523, "refuted"),
    (123_402, "proved"),
    (123_462, "refuted"),
    (123_432, "proved"),
    (123_447, "proved"),
    (123_454, "proved"),
    (123_458, "refuted"),
    (123_456, "proved"),
    (123_457, "refuted"),
]


def test_the_probes_come_in_a_fixed_order(stand_in) -> None:
    stand_in(lambda v: Verdict.PROVED if v <= 123_456 else Verdict.REFUTED)
    t = threshold(BINANCE, "safe-move")
    assert [(p.value, p.verdict.value) for p in t.probes] == SAFE_MOVE_PROBES


def _bench_thresholds():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_thresholds.py"
    spec = importlib.util.spec_from_file_location("bench_thresholds", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_search_stopped_part_way_still_says_what_it_decided(stand_in) -> None:
    """``on_probe`` is told the state after every probe: the benchmark keeps the last one, so a
    cell killed at its wall reports the proved and refuted values it had (Binance's penalty was
    "timeout (killed)" with nothing else, where its probes had proved 500,000 and refuted 437,499)."""
    stand_in(lambda v: Verdict.PROVED if v <= 123_456 else Verdict.REFUTED)
    seen: list[th.Bisection] = []
    t = threshold(BINANCE, "safe-move", on_probe=seen.append)
    assert [len(s.probes) for s in seen] == list(range(1, len(t.probes) + 1))
    assert (seen[-1].proved[0], seen[-1].refuted[0]) == (t.proved_at, t.refuted_at) == (123_456, 123_457)
    bench = _bench_thresholds()
    third = bench._decided_so_far(seen[2])  # 8,000 and 8,001 proved, 999,999 refuted
    assert third == {"proved_at_ppm": 8_001, "refuted_at_ppm": 999_999, "probes": 3, "units": 0}
    killed = {"status": "timeout (killed)", "boundary": "", "so_far": third}
    assert bench._answer(killed) == "timeout (killed): proved at 8,001, refuted at 999,999 before it"
    assert bench._answer({"status": "timeout (killed)", "boundary": ""}) == "timeout (killed)"
    one_side = {"status": "timeout (killed)", "so_far": {**third, "proved_at_ppm": None}}
    assert bench._answer(one_side) == "timeout (killed): refuted at 999,999 before it"


def _fund_question_on_the_move_bound() -> th.Question:
    """fund-for-gap (a SMALLEST question, hint 192,000) with its value where the stand-in reads it."""
    fund = th.questions()["fund-for-gap"]
    return attrs.evolve(fund, setup=lambda p, v, b: th.Setup(p, th.NO_HAIRCUT_LAYER, attrs.evolve(b, max_move_ppm=v)))


def test_a_smallest_question_bisects_from_the_other_side(stand_in) -> None:
    stand_in(lambda v: Verdict.PROVED if v >= 100_000 else Verdict.REFUTED)
    t = threshold(BINANCE, _fund_question_on_the_move_bound(), max_probes=7)
    # the hint and the value just riskier (one ppm less), the riskiest end (0); the safest end is
    # already decided by the proof at the hint; then halvings until the probes run out
    assert [p.value for p in t.probes] == [192_000, 191_999, 0, 95_999, 143_999, 119_999, 107_999]
    assert t.status is ThresholdStatus.BOUNDED and (t.proved_at, t.refuted_at) == (107_999, 95_999)
    t = threshold(BINANCE, _fund_question_on_the_move_bound())
    assert t.status is ThresholdStatus.EXACT and (t.proved_at, t.refuted_at) == (100_000, 99_999)
    assert [p.value for p in t.probes][-4:] == [100_000, 99_997, 99_998, 99_999]


def _result(verdict: Verdict) -> ProofResult:
    story = Story(_plain_book(), (MarkPrice(10_000),))
    cx = Counterexample(story, (), 0, "claim", "stand-in") if verdict is Verdict.REFUTED else None
    return ProofResult("p", "claim", verdict, Scope(2, 1, ("mark",), ""), 0.0, "stand-in", counterexample=cx)


def _recorded(state: th.Bisection, value: int, verdict: Verdict, reached: int | None = None) -> th.Bisection:
    return state.record(th.Probe(value, verdict, 0.0), _result(verdict), reached=reached)


class TestBisection:
    """The bisection record on its own: what each result changes, what is decided, what comes next."""

    LARGEST = th.Bisection(th.Direction.LARGEST, safe_end=0, risky_end=1_000, max_probes=10)
    SMALLEST = th.Bisection(th.Direction.SMALLEST, safe_end=1_000, risky_end=0, max_probes=10)

    def test_ends_follow_the_direction(self) -> None:
        assert th.Bisection.over(th.questions()["safe-move"], BINANCE, 5) == th.Bisection(
            th.Direction.LARGEST, 0, 999_999, 5
        )
        assert th.Bisection.over(th.questions()["fund-for-gap"], BINANCE, 5) == th.Bisection(
            th.Direction.SMALLEST, 1_000_000, 0, 5
        )
        assert self.LARGEST.safer(1, 2) and not self.LARGEST.safer(2, 2) and self.SMALLEST.safer(2, 1)
        assert (self.LARGEST.riskier(10), self.SMALLEST.riskier(10)) == (11, 9)
        assert (self.LARGEST.limit, self.SMALLEST.limit) == (-1, 1_001)  # one beyond the safe end
        assert self.LARGEST.candidates([300]) == [300, 301, 1_000, 0]

    def test_a_proof_counts_only_where_it_is_riskier(self) -> None:
        state = _recorded(self.LARGEST, 300, Verdict.PROVED)
        assert state.proved[0] == 300 and state.limit == 300
        assert _recorded(state, 200, Verdict.PROVED).proved[0] == 300
        assert _recorded(state, 400, Verdict.PROVED).proved[0] == 400
        assert state.decided(300) and state.decided(0) and not state.decided(301)

    def test_a_refutation_counts_where_its_story_reaches(self) -> None:
        state = _recorded(self.LARGEST, 800, Verdict.REFUTED, reached=700)
        assert state.refuted[0] == 700
        assert _recorded(state, 750, Verdict.REFUTED).refuted[0] == 700  # not safer than 700
        assert _recorded(state, 650, Verdict.REFUTED).refuted[0] == 650
        assert state.decided(700) and state.decided(1_000) and not state.decided(699)

    def test_anything_else_is_undecided_and_splits_the_interval(self) -> None:
        state = _recorded(_recorded(self.LARGEST, 100, Verdict.PROVED), 500, Verdict.REFUTED)
        assert state.next_value() == 300
        state = _recorded(state, 300, Verdict.UNKNOWN)
        assert state.undecided == (300,) and state.decided(300)
        assert state.next_value() == 400  # the widest part, the later one on a tie
        state = _recorded(state, 400, Verdict.REFUTED)  # a refutation without its reach
        assert state.refuted[0] == 400 and state.next_value() == 200
        no_story = state.record(
            th.Probe(200, Verdict.REFUTED, 0.0), attrs.evolve(_result(Verdict.REFUTED), counterexample=None)
        )
        assert no_story.undecided == (300, 200) and no_story.refuted[0] == 400
        assert [p.value for p in no_story.probes] == [100, 500, 300, 400, 200]

    def test_the_status_and_the_end_of_the_search(self) -> None:
        assert self.LARGEST.status is ThresholdStatus.UNKNOWN and self.LARGEST.next_value() is None
        exact = _recorded(_recorded(self.LARGEST, 41, Verdict.PROVED), 42, Verdict.REFUTED)
        assert exact.status is ThresholdStatus.EXACT and exact.next_value() is None
        assert _recorded(self.LARGEST, 1_000, Verdict.PROVED).status is ThresholdStatus.ALL
        assert _recorded(self.SMALLEST, 1_000, Verdict.REFUTED).status is ThresholdStatus.NONE
        assert _recorded(self.LARGEST, 5, Verdict.PROVED).status is ThresholdStatus.BOUNDED
        full = attrs.evolve(self.LARGEST, max_probes=1)
        assert not full.exhausted and _recorded(full, 5, Verdict.UNKNOWN).exhausted


# --- CLI --------------------------------------------------------------------------------------


def test_cli_prints_the_boundary_and_writes_json(tmp_path) -> None:
    out = tmp_path / "t.json"
    result = CliRunner().invoke(
        main, ["thresholds", "binance", "--question", "safe-move", "--probes", "40", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "8,000 ppm (0.8%)" in result.output and "replayed on the concrete engine" in result.output
    data = json.loads(out.read_text())
    assert data["schema"] == "solvent.thresholds/1"
    (only,) = data["thresholds"]
    assert (only["status"], only["value_ppm"], only["refuted_at_ppm"]) == ("exact", 8_000, 8_001)
    assert only["counterexample"]["story"]["events"]


def test_cli_bad_question_is_bad_input() -> None:
    result = CliRunner().invoke(main, ["thresholds", "binance", "--question", "nope"])
    assert result.exit_code == 2
    assert "unknown threshold question 'nope'" in result.output


@pytest.mark.deep
@pytest.mark.parametrize("preset", ["drift", "hyperliquid", "okx-2018"])
def test_every_question_on_a_preset_is_decided_or_bounded_honestly(preset: str) -> None:
    """Each side an answer names carries its evidence: a proof where it says proved, a story that
    replays where it says refuted. A bounded answer with one side only (refuted, z3 undecided at
    every value tried on the other, as penalty-bankrupts on drift and hyperliquid were at two traders
    since every step runs the vault's own ADL, f66c7e1, and Hyperliquid's vault is) carries no proof
    and says why: the undecided probes and z3's reason, never a proof it does not have."""
    policy = load_preset(preset)
    for t in th.thresholds(policy, max_probes=40):
        if t.proved_at is not None and t.status is not ThresholdStatus.NOT_APPLICABLE:
            assert t.proof is not None and t.proof.verdict is Verdict.PROVED, t
        else:
            assert t.proof is None, t
        if t.refuted_at is not None and t.status is not ThresholdStatus.NOT_APPLICABLE:
            question = th.questions()[t.question]
            s = question.setup(policy, t.refuted_at, th.default_bounds())
            assert replay(s.policy, s.claim, t.counterexample.story, s.bounds).violates, t
        if t.status is ThresholdStatus.EXACT:
            assert t.proved_at is not None and abs(t.proved_at - t.refuted_at) == 1, t
        if t.status in (ThresholdStatus.BOUNDED, ThresholdStatus.UNKNOWN) and t.proved_at is None:
            undecided = [p for p in t.probes if p.verdict not in (Verdict.PROVED, Verdict.REFUTED)]
            assert undecided, t  # nothing proved because z3 left a value undecided, not for want of trying
            assert f"z3 left {len(undecided)} value" in t.note and f"at {undecided[-1].value:,}" in t.note, t
            assert "one side only" in t.boundary or t.status is ThresholdStatus.UNKNOWN, t


def test_maintenance_hints_bracket_a_slipping_liquidation_from_the_policy_s_own_slippage() -> None:
    """The rounding model's answer, then g + s(1 + g) and two roundings above it at the lowest
    price: Drift's 1% slippage at 10x and a 5% gap gives 60,500 and 60,700 ppm, between which its
    answer (60,595) lies; a policy whose liquidation does not slip is hinted the gap alone."""
    hints = th._maintenance_hints(10, 50_000)
    # the rounding model's answer first (60,595: test_the_rounding_model_by_hand)
    assert hints(load_preset("drift"), th.default_bounds()) == [60_595, 50_000, 60_500, 60_700]
    assert hints(load_preset("binance"), th.default_bounds()) == [50_000]
    # above the initial rate a hint is outside the question's range and left out
    assert th._maintenance_hints(20, 50_000)(load_preset("drift"), th.default_bounds()) == [50_000]


def test_penalty_hints_come_from_the_policy_s_tiers_slippage_and_order_share() -> None:
    """A liquidated account keeps at most its maintenance margin: m − A/N of its notional in a
    tier of rate m less an amount A, most at the largest notional N a trader reaches with the
    bounds' cash C, N = (C + C/i + A)/(1 + m) (Binance's top tier: i = 100%, m = 50%, A =
    42,148,145,000, C = 10¹²: N = (2·10¹² + A)/1.5, 469,041.3 ppm kept); a market liquidation's
    slippage s takes s of it before the penalty (Drift and Mango: 5% − 1%), and an order of a
    share f of the position is charged the penalty on that share only (Hyperliquid: 2.5% less
    187,500,000 over N ≈ 2.0488·10¹³, over 20%). Each rounded up, then the same with m itself for
    the kept share, then m; a value twice is asked once."""
    hints = th.questions()["penalty-bankrupts"].hints
    bounds = th.default_bounds()
    n = Fraction(2 * 10**12 + 42_148_145_000) / Fraction(3, 2)
    assert th._kept_share(BINANCE, bounds) == 500_000 - Fraction(42_148_145_000 * 10**6) / n  # exact, no float
    assert hints(BINANCE, bounds) == [469_042, 500_000]
    assert hints(load_preset("drift"), bounds) == [40_000, 50_000]
    assert hints(load_preset("mango-v4"), bounds) == [40_000, 50_000]
    assert hints(load_preset("hyperliquid"), bounds) == [124_955, 125_000, 25_000]
    assert hints(load_preset("gmx-v2"), bounds) == [10_000]
    # the kept share follows the bounds' cash: ten times the cash, a larger notional, nearer 50%
    assert hints(BINANCE, attrs.evolve(bounds, max_quote=10**13))[0] == 496_846
    # a slippage as large as what is kept leaves no hint below zero
    slipping = attrs.evolve(BINANCE, liquidation=attrs.evolve(BINANCE.liquidation, slippage_ppm=500_000))
    assert hints(slipping, bounds) == [0, 500_000]


def test_penalty_asks_one_trader_by_default_and_says_so() -> None:
    """The penalty is set against a lone trader's own liquidation (docs/model.md, "How many
    traders"): the default scope is one trader, the note says why and how to ask two; a caller's
    two traders are asked as given, with no such note."""
    q = th.questions()["penalty-bankrupts"]
    assert q.accounts(BINANCE) == 1
    t = threshold("broker-reg-t", "penalty-bankrupts", max_probes=0)
    assert th.PENALTY_ACCOUNTS_NOTE in t.note and "--accounts 2" in th.PENALTY_ACCOUNTS_NOTE
    assert t.scope.startswith("N ≤ 1")
    two = threshold("broker-reg-t", "penalty-bankrupts", th.default_bounds(accounts=2), max_probes=0)
    assert th.PENALTY_ACCOUNTS_NOTE not in two.note and two.scope.startswith("N ≤ 2")


def test_a_pool_holding_a_position_is_not_what_the_questions_bound() -> None:
    """safe-move and fund-for-gap speak about what the policy does to traders' positions: a fund
    that already holds a taken-over position is bankrupt in any move against it (its own ADL,
    rules/pool_bankruptcy.py), whatever the margin. The same depleting move (BitMEX's example,
    tests/rules/test_fidelity_fund_bankruptcy.py) breaks no-bad-debt and no-haircut-layer from a
    book where the fund is flat before it, and is not bounded from one where it holds."""
    from solvent.properties.catalog import StepView
    from solvent.rules.engine import run
    from tests.rules import test_fidelity_fund_bankruptcy as fund

    taken, depleted = run(fund.BITMEX, fund.book(1_000), [MarkPrice(994), MarkPrice(985)])
    assert taken.before.account("insurance_fund").size_lots == 0
    assert depleted.before.account("insurance_fund").size_lots == 1_000
    held = StepView.of(fund.BITMEX, depleted)
    assert th.NO_BAD_DEBT.holds(held) is True and th.NO_HAIRCUT_LAYER.holds(held) is True
    flat = attrs.evolve(depleted, before=taken.before)  # the same outcomes, the fund flat before
    view = StepView.of(fund.BITMEX, flat)
    assert th.NO_BAD_DEBT.holds(view) is False and th.NO_HAIRCUT_LAYER.holds(view) is False


def test_the_rounding_model_by_hand() -> None:
    """A market liquidation fills ⌈p′·s⌉ per lot beyond the new mark p′. Drift (10% initial, 5%
    maintenance, 1% slippage), by hand: at a starting mark of 10,469 a short holding exactly 10% of
    its notional (1,046.9 a lot) and moved up 932 quanta is closed at 11,401 + ⌈114.01⌉ = 11,516:
    932 + 115 = 1,047 a lot, more than it holds; 931 quanta (to 11,400, slipping exactly 114) cost
    1,045. So the least move it fails in there is ⌈932·10⁶ / 10,469⌉ = 89,025 ppm (932·10⁶ is
    931,992,256 above 89,024 × 10,469), the least of any mark: the safe move's first hint is
    89,024. A short at exactly 5% maintenance at 10,100 gapped 5% (505 quanta, to 10,605) is closed
    ⌈106.05⌉ = 107 beyond it: 612 a lot, 60,594.06 ppm of 10,100, so it needs 60,595, the most of
    any mark: the maintenance rate's first hint."""
    bounds = th.default_bounds()
    moves = th._least_failing_moves(bounds, 100_000, 10_000)
    assert th._slipped_loss(10_469, 932, 10_000) == 1_047 and th._slipped_loss(10_469, 931, 10_000) == 1_045
    assert moves[10_469] == 89_025
    assert min(moves.values()) == 89_025 and [p for p, v in moves.items() if v == 89_025] == [10_469]
    assert set(moves) == set(range(10_000, 20_000))  # the rounding region: the lowest price to twice it
    rates = th._least_safe_rates(bounds, 50_000, 10_000)
    assert th._slipped_loss(10_100, 505, 10_000) == 612 and rates[10_100] == 60_595
    assert max(rates.values()) == 60_595
    assert th._safe_move_hints(load_preset("drift"), bounds) == [89_024, 100_000, 89_108, 88_908]
    assert th._safe_move_hints(load_preset("mango-v4"), bounds)[0] == 89_024
    assert th._safe_move_hints(BINANCE, bounds) == [8_000]  # no slippage: no model
    # the fund for a 20% gap: a short at 10% at 10,085 gapped 2,017 quanta, closed ⌈121.02⌉ = 122
    # beyond 12,102, owes 2,139 a lot: ⌈212,097.2⌉ − 100,000 of its notional beyond its margin
    assert th._slipped_loss(10_085, 2_017, 10_000) == 2_139
    fund = th.questions()["fund-for-gap"].hints
    assert fund(load_preset("mango-v4"), bounds) == [112_098, 100_000]
    assert fund(BINANCE, bounds) == [192_000]  # the gap less its 0.8%, no model
    # the model is the policy's arithmetic on the concrete engine too: the short above moved to
    # 11,401 fails within 89,025 and lies outside 89,024, where the most it may move (to 11,400)
    # leaves it whole
    drift = load_preset("drift")
    setup = th.questions()["safe-move"].setup
    at, past = setup(drift, 89_024, bounds), setup(drift, 89_025, bounds)
    assert replay(past.policy, past.claim, _short_at_its_margin(drift, 10_469, 11_401), past.bounds).violates
    assert replay(at.policy, at.claim, _short_at_its_margin(drift, 10_469, 11_401), at.bounds).outside
    held = replay(at.policy, at.claim, _short_at_its_margin(drift, 10_469, 11_400), at.bounds)
    assert not held.violates and not held.outside and not held.rejected


def _short_at_its_margin(policy, mark: int, moved_to: int | tuple[int, ...], lots: int = 1_000_000):
    """One trader short ``lots`` at ``mark`` holding exactly its initial margin, the book long; then
    the mark moved to ``moved_to`` (several marks: one event each)."""
    from solvent.rules.book import Role, new_book
    from solvent.rules.margin import initial_margin

    book = new_book(mark_quote=mark, traders=("alice",))
    im = initial_margin(policy.margin, policy.rounding, -lots, mark)
    accounts = []
    for a in book.accounts:
        if a.name == "alice":
            a = attrs.evolve(a, cash_quote=im, size_lots=-lots, cost_quote=-lots * mark)
        elif a.role is Role.LIQUIDITY:
            a = attrs.evolve(a, cash_quote=10**11, size_lots=lots, cost_quote=lots * mark)
        accounts.append(a)
    book = attrs.evolve(book, accounts=tuple(accounts), net_deposits_quote=im + 10**11)
    marks = moved_to if isinstance(moved_to, tuple) else (moved_to,)
    return Story(book, tuple(MarkPrice(m) for m in marks))


@pytest.mark.parametrize(
    ("rate", "move", "proved", "mark", "moved_to"),
    [
        (100_000, 89_024, True, None, None),  # Drift's and Mango's safe move: the lattice's answer
        (100_000, 89_025, False, 10_469, 11_401),  # one ppm beyond: the rounding model's near miss
        (60_595, 50_000, True, None, None),  # their maintenance rate for 10x and a 5% gap
        (60_594, 50_000, False, None, None),  # one ppm less: a short at the lattice gapped 5%
    ],
)
def test_the_lemma_per_lot_is_the_rounding_model_proved_or_refuted_at_its_mark(
    rate: int, move: int, proved: bool, mark: int | None, moved_to: int | None
) -> None:
    """The rounding model as a lemma z3 decides (``SlipLemma``): per lot, ``rate·p ≥ 10⁶·(|p′ − p| +
    ⌈p′·s⌉)`` for every move within ``move``. Proved at the answer; one ppm beyond, z3's model is a
    lot that owes more than it holds, near the lowest price (at 89,025 the model's only mark,
    10,469)."""
    from solvent.solver import effort

    policy = load_preset("drift")
    with effort.question():
        answer = th.SlipLemma(rate, move).prove(policy, th.default_bounds())
    assert answer.result == ("unsat" if proved else "sat")
    assert answer.units < 200_000
    if not proved:
        p, p2 = answer.values["lemma.p"], answer.values["lemma.p2"]
        assert mark is None or (p, p2) == (mark, moved_to)
        assert 10_000 <= p < 20_000 and abs(p2 - p) * 1_000_000 <= move * p
        assert rate * p < 1_000_000 * (abs(p2 - p) + -(-p2 * 10_000 // 1_000_000))


def test_the_closest_marks_are_asked_alone_first_and_the_cells_still_cover_every_mark() -> None:
    """With the rounding model a probe's cells are cell_edges' cells with the marks closest to
    failing cut out and asked first, closest first (Drift's safe move at 89,024: 10,469 is 1 ppm
    from failing, 10,379 2); the cells cover the price bounds exactly, so a proof on each is a
    proof. An undecided cell of the rounding region is split around its closest mark, asked first,
    the rest on each side halved; without a model, at the geometric middle as before."""
    policy = load_preset("drift")
    bounds = th.default_bounds(accounts=1)
    s = th.questions()["safe-move"].setup(policy, 89_024, bounds)
    close = s.closeness()
    assert close[10_469] == 1 and close[10_379] == 2 and min(close.values()) == 1
    pins = th._pins(close)
    assert pins[:2] == [10_469, 10_379] and len(pins) == 13 and all(close[p] <= th.TIGHT_PPM for p in pins)
    cells = th._cells(s, close)
    assert cells[-1] == (10_469, 10_470) and cells[-2] == (10_379, 10_380)  # popped from the end
    covered = sorted(cells)
    assert covered[0][0] == bounds.min_price and covered[-1][1] == bounds.max_price + 1
    assert all(a[1] == b[0] for a, b in itertools.pairwise(covered))  # no gap, no overlap
    # split around the closest mark inside (10,478 is 20 ppm from failing there), it asked first
    parts = th._split_at(10_470, 10_479, close)
    assert parts == [(10_470, 10_474), (10_474, 10_478), (10_478, 10_479)]
    assert th._split_at(10_000, 10_100, {}) == [(10_000, 10_049), (10_049, 10_100)]
    # a cell holding several marks within twice TIGHT_PPM of failing: each alone (the closest asked
    # first), the gaps between them whole
    near = sorted(p for p in range(10_470, 10_569) if abs(close[p]) <= 2 * th.TIGHT_PPM)
    assert near == [10_478, 10_479, 10_568]
    parts = th._split_at(10_470, 10_569, close)
    assert parts[:2] == [(10_470, 10_478), (10_480, 10_568)]
    assert sorted(parts[2:]) == [(p, p + 1) for p in near] and parts[-1] == (10_479, 10_480)
    assert abs(close[10_479]) == min(abs(close[p]) for p in near)
    # no slippage, no model: the probe's cells are cell_edges' own
    plain = th.questions()["safe-move"].setup(BINANCE, 8_000, bounds)
    assert plain.closeness is None
    edges = th.cell_edges(bounds)
    assert th._cells(plain, {}) == list(zip(edges, [*edges[1:], bounds.max_price + 1], strict=True))


def test_safe_move_and_maintenance_ask_one_trader_where_the_fill_slips() -> None:
    """Where a market liquidation slips (Drift, Mango v4) both questions ask one trader against the
    book by default and say so; elsewhere two, as before."""
    for qid in ("safe-move", "maintenance-for-leverage"):
        q = th.questions()[qid]
        assert q.accounts(load_preset("drift")) == 1 and q.accounts(load_preset("mango-v4")) == 1
        assert q.accounts(BINANCE) is None
        t = threshold("drift", qid, max_probes=0)
        assert th.SLIPPAGE_ACCOUNTS_NOTE in t.note and t.scope.startswith("N ≤ 1")
        assert th.SLIPPAGE_ACCOUNTS_NOTE not in threshold("binance", qid, max_probes=0).note

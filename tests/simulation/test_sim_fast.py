"""The fast engine equals the exact one: the book after every step, the liquidations' transfers and
outcomes, and every path's outcome; where it does not cover a mechanism it falls back and says so;
and a one-token change to any of its vectorized rules is caught by the same comparison."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from sim_base import BASE
from test_sim_outcomes import CRASH, CRASH_CSV

from solvent.reports.simulation import to_data
from solvent.rules.arith import Rounding
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.liquidation import Execution, Trigger
from solvent.rules.margin import MaintenanceBasis
from solvent.rules.presets import load_preset, preset_names
from solvent.rules.waterfall import HaircutRatio, Release
from solvent.simulation import fast as fast_module
from solvent.simulation.engine import exact
from solvent.simulation.fast import covers
from solvent.simulation.paths import build
from solvent.simulation.run import prepare, simulate

COVERED = [name for name in preset_names() if covers(load_preset(name)) is None]
NOT_COVERED = [name for name in preset_names() if covers(load_preset(name)) is not None]
VOLATILE = BASE.replace("volatility = 0.8", "volatility = 3").replace("traders = 3", "traders = 12")
#: a jump-diffusion that gaps: liquidations, bankruptcies, the fund paying, sometimes ADL
GAPPY = VOLATILE.replace(
    'model = "gbm"\nstart = 10000\nvolatility = 3',
    'model = "merton"\nstart = 10000\nvolatility = 1.5\njump_intensity = 4000\njump_mean = -0.03\njump_stdev = 0.1',
).replace("insurance_fund_ppm = 10000", "insurance_fund_ppm = 50000")


def _no_settlement(transfers) -> list:
    return [t for t in transfers if t.reason is not Reason.SETTLEMENT]


def first_difference(policy, population, marks, module: types.ModuleType = fast_module) -> str | None:
    """Run the path on ``module``'s fast engine and step by step on the exact engine; the first
    step whose book, transfers (but settlement's) or outcomes differ, or the outcome, else None."""
    exact_steps = []
    book = population.book
    for event in (*population.setup, *marks):
        s = step(policy, book, event)
        exact_steps.append(s)
        book = s.after
    seen: list[int] = []
    found: list[str] = []

    def compare(at, fast_book, transfers, outcomes) -> None:
        seen.append(at)
        if found:
            return
        s = exact_steps[at]
        if fast_book != s.after:
            diff = [
                (a.name, f)
                for a, b in zip(fast_book.accounts, s.after.accounts, strict=True)
                for f in attrs.fields_dict(type(a))
                if getattr(a, f) != getattr(b, f)
            ]
            found.append(f"step {at}: the books differ {diff[:3]} (market {fast_book.market} / {s.after.market})")
        elif transfers is None:  # an opening step: the fast engine keeps the book, not the transfers
            return
        elif _no_settlement(transfers) != _no_settlement(s.transfers):
            found.append(f"step {at}: the transfers differ")
        elif list(outcomes) != list(s.outcomes):
            found.append(f"step {at}: the outcomes differ")

    ran = module.FastPath(policy, population).run(marks, 0, compare)
    if found:
        return found[0]
    if ran.exact_steps < len(marks) and seen != list(range(len(exact_steps))):
        return f"steps seen {len(seen)} of {len(exact_steps)}"
    if ran.outcome != exact(policy, population, marks, 0).outcome:
        return "the path outcomes differ"
    return None


def _prepared(policy_name: str, text: str, write):
    return prepare(load_preset(policy_name), write(text, **{"crash.csv": CRASH_CSV}))


@pytest.mark.parametrize("preset", COVERED)
def test_every_covered_preset_steps_like_the_exact_engine(preset: str, write) -> None:
    """A gapping jump-diffusion on every preset the fast engine covers: every step's book,
    liquidation transfers and outcomes, and the path's outcome, equal the exact engine's."""
    prepared = _prepared(preset, GAPPY, write)
    liquidations = 0
    for i in range(3):
        path = build(prepared, 7, i)
        assert first_difference(prepared.policy, path.population, path.marks) is None
        liquidations += exact(prepared.policy, path.population, path.marks, i).outcome.liquidations
    assert liquidations > 0  # the comparison went through the liquidation sweep


@pytest.mark.parametrize("preset", COVERED)
def test_same_json_on_either_engine(preset: str, write) -> None:
    prepared = _prepared(preset, GAPPY, write)
    a = simulate(prepared, paths=6, seed=3, engine="fast")
    b = simulate(prepared, paths=6, seed=3, engine="exact")
    assert to_data(a) == to_data(b)
    assert a.engine.fast + a.engine.exact == 6
    # most steps ran fast (hyperliquid's backstop vault starts empty, so each of its bankruptcies
    # reaches ADL)
    assert a.engine.exact_steps < a.engine.steps // 2
    assert (b.engine.asked, b.engine.exact) == ("exact", 6)


def test_the_cli_gives_the_same_json_with_both_engines_and_says_which_ran(write) -> None:
    from solvent.cli import main

    path = write(GAPPY)
    runner = CliRunner()
    out = {}
    for engine in ("fast", "exact"):
        r = runner.invoke(
            main,
            ["simulate", "binance", "--scenario", str(path), "--paths", "5", "--format", "json", "--engine", engine],
        )
        assert r.exit_code == 0, r.output
        out[engine] = json.loads(r.stdout)
    assert out["fast"] == out["exact"]
    r = runner.invoke(main, ["simulate", "binance", "--scenario", str(path), "--paths", "5"])
    assert "engine: fast on" in r.output
    r = runner.invoke(main, ["simulate", "binance", "--scenario", str(path), "--engine", "turbo"])
    assert r.exit_code == 2 and "turbo" in r.output


@pytest.mark.parametrize("preset", NOT_COVERED)
def test_an_uncovered_mechanism_falls_back_and_says_so(preset: str, write) -> None:
    policy = load_preset(preset)
    reason = covers(policy)
    assert reason
    prepared = _prepared(preset, VOLATILE, write)
    result = simulate(prepared, paths=3, seed=1)
    assert (result.engine.fast, result.engine.exact) == (0, 3)
    assert result.engine.reasons == ((reason, 3),)
    assert f"the fast engine does not cover: {reason} (3)" in result.engine.line()
    assert to_data(result) == to_data(simulate(prepared, paths=3, seed=1, engine="exact"))


def test_a_fund_that_holds_what_it_takes_over_falls_back(write) -> None:
    """``liquidation.fund_unwind_ppm`` (tests/rules/test_fidelity_fund_holds.py): the fund unwinds
    at the start of every sweep, which the arrays do not run, so its paths run on the exact engine.
    The ``bitmex`` preset declares it; without the field its paths run on the arrays."""
    policy = load_preset("bitmex")
    closing = attrs.evolve(policy, liquidation=attrs.evolve(policy.liquidation, fund_unwind_ppm=None))
    assert covers(policy) == "the insurance fund's held position" and covers(closing) is None
    prepared = prepare(policy, write(GAPPY, **{"crash.csv": CRASH_CSV}))
    result = simulate(prepared, paths=3, seed=1)
    assert (result.engine.fast, result.engine.exact) == (0, 3)
    assert to_data(result) == to_data(simulate(prepared, paths=3, seed=1, engine="exact"))


def test_a_capped_insurance_claim_falls_back(write) -> None:
    """A market whose table caps the fund's total payments (``fund_cap_quote``, Drift's
    ``quote_max_insurance``: docs/portfolio.md decision 5e) keeps the running total on the book's
    market, which the arrays' small books do not carry: its paths run on the exact engine."""
    from solvent.rules.market_spec import MarketSpec

    policy = load_preset("binance")
    capped = attrs.evolve(policy, market=(MarketSpec("PERP", fund_cap_quote=1_000),))
    assert covers(policy) is None
    assert covers(capped) == "an insurance claim capped per market (its running total)"
    prepared = prepare(capped, write(GAPPY, **{"crash.csv": CRASH_CSV}))
    result = simulate(prepared, paths=3, seed=1)
    assert (result.engine.fast, result.engine.exact) == (0, 3)
    assert to_data(result) == to_data(simulate(prepared, paths=3, seed=1, engine="exact"))


def test_a_step_that_reaches_adl_runs_on_the_fast_engine(write) -> None:
    """Every trader long at 10x and the price halves, with no fund: the fund is empty, so the
    waterfall reaches ADL against the maker (short) and the book; the step runs on the arrays
    (the queue on a book of the traders it can reach), every step equal to the exact engine's."""
    text = CRASH.replace("insurance_fund_ppm = 10000", "insurance_fund_ppm = 0")
    prepared = _prepared("binance", text, write)
    result = simulate(prepared, paths=4, seed=1)
    assert (result.engine.fast, result.engine.exact, result.engine.exact_steps) == (4, 0, 0)
    assert result.engine.line() == "engine: fast on all 4 paths"
    assert all(o.adl for o in result.outcomes)
    assert to_data(result) == to_data(simulate(prepared, paths=4, seed=1, engine="exact"))
    path = build(prepared, 1, 0)
    assert first_difference(prepared.policy, path.population, path.marks) is None


#: a two-sided book with no fund: every bankruptcy goes down to ADL against several traders
NO_FUND = GAPPY.replace("insurance_fund_ppm = 50000", "insurance_fund_ppm = 0")


def _adl_variant(preset: str, ranking, price, book_last: bool):
    base = load_preset(preset)
    layer = attrs.evolve(base.adl, ranking=ranking, price=price, book_last=book_last)
    return attrs.evolve(base, deficit=tuple(layer if x is base.adl else x for x in base.deficit))


def _fills(policy, population, marks) -> tuple[int, int]:
    """(fills that closed lots, eligible traders the queue left) over the path on the exact engine."""
    from solvent.rules.outcomes import AdlFill

    served = left = 0
    book = population.book
    for event in (*population.setup, *marks):
        s = step(policy, book, event)
        book = s.after
        served += sum(1 for o in s.outcomes if isinstance(o, AdlFill) and o.lots)
        left += sum(1 for o in s.outcomes if isinstance(o, AdlFill) and o.eligible and not o.lots)
    return served, left


@pytest.mark.parametrize("ranking", ["bitmex", "binance", "hyperliquid", "order"])
@pytest.mark.parametrize(("price", "book_last"), [("bankruptcy", True), ("mark", False), ("previous_mark", True)])
def test_adl_on_the_arrays_steps_like_the_exact_engine(ranking: str, price: str, book_last: bool, write) -> None:
    """Every ranking, price and book_last: each step of three gapping paths with no fund equals
    the exact engine's (every trader's fill, served or left in the queue, in book order), the
    paths ran on the fast engine throughout, and the queue both served traders and left some."""
    from solvent.rules.waterfall import AdlPrice, Ranking

    policy = _adl_variant("binance", Ranking(ranking), AdlPrice(price), book_last)
    prepared = prepare(policy, write(NO_FUND))
    served = left = 0
    for i in range(3):
        path = build(prepared, 7, i)
        assert first_difference(prepared.policy, path.population, path.marks) is None
        ran = fast_module.fast(prepared.policy, path.population, path.marks, i)
        assert (ran.engine, ran.exact_steps) == ("fast", 0)
        s, lf = _fills(prepared.policy, path.population, path.marks)
        served, left = served + s, left + lf
    assert served > 0 and left > 0


def _without_warmup(policy):
    """Percolator's haircut without its PnL warm-up (which the fast engine leaves to the exact one)."""
    layers = (
        attrs.evolve(x, warmup_events=None, release=Release.WINDOW_END) if isinstance(x, HaircutRatio) else x
        for x in policy.deficit
    )
    return attrs.evolve(policy, deficit=tuple(layers))


#: (policy, scenario, the mechanism over other traders its bankruptcies reach)
OVER_OTHERS = [
    ("drift", "gappy", "socialized loss with cascade"),
    ("mango-v4", "no fund", "socialized loss layer"),
    ("okx", "gappy", "ADL on insurance-fund drawdown"),
    ("okx", "no fund", "ADL layer"),
    ("okx-2018", "no fund", "clawback layer"),
    ("percolator-gen-a", "gappy", "haircut layer"),
]


@pytest.mark.parametrize(("preset", "scenario", "mechanism"), OVER_OTHERS)
def test_a_mechanism_over_other_traders_runs_on_the_whole_book(preset: str, scenario: str, mechanism: str, write):
    """A liquidation whose deficit reaches a layer that charges other traders (a socialized loss,
    a haircut, a clawback, OKX's ADL) or that may run over them (a cascading socialized loss, ADL on
    the fund's drawdown) runs again on the whole book, the step staying on the arrays: every step
    equals the exact engine's, no step ran exact, and the path counts those liquidations."""
    policy = load_preset(preset)
    if preset.startswith("percolator"):
        policy = _without_warmup(policy)
    prepared = prepare(policy, write(GAPPY if scenario == "gappy" else NO_FUND))
    whole = 0
    for i in range(3):
        path = build(prepared, 7, i)
        assert first_difference(prepared.policy, path.population, path.marks) is None
        ran = fast_module.fast(prepared.policy, path.population, path.marks, i)
        assert (ran.engine, ran.exact_steps) == ("fast", 0)
        assert {m for m, _ in ran.whole_book} <= {mechanism}
        whole += dict(ran.whole_book).get(mechanism, 0)
    assert whole > 0


def test_the_report_counts_the_liquidations_on_the_whole_book(write) -> None:
    """OKX's ADL may start on the fund's drawdown with no deficit left: those liquidations run on
    the whole book, every path on the fast engine, the line says how many; the outcome is the same."""
    prepared = _prepared("okx", NO_FUND, write)
    result = simulate(prepared, paths=3, seed=7)
    assert (result.engine.fast, result.engine.exact_steps) == (3, 0)
    whole = dict(result.engine.whole_book)
    assert set(whole) <= {"ADL layer", "ADL on insurance-fund drawdown"} and whole
    total = sum(whole.values())
    assert result.engine.line().startswith(f"engine: fast on all 3 paths; {total} liquidations on the whole book: ")
    assert to_data(result) == to_data(simulate(prepared, paths=3, seed=7, engine="exact"))


def test_a_big_crash_with_adl_equals_the_exact_engine(write) -> None:
    """60 traders, both sides, no fund, a crash path: many bankruptcies in one sweep, each ADL
    changing later traders (re-checked when the sweep reaches them), every step equal."""
    text = NO_FUND.replace("traders = 12", "traders = 60")
    prepared = _prepared("binance", text, write)
    served = 0
    for i in range(2):
        path = build(prepared, 11, i)
        assert first_difference(prepared.policy, path.population, path.marks) is None
        served += _fills(prepared.policy, path.population, path.marks)[0]
    assert served > 10


def test_a_crash_the_fund_covers_stays_fast(write) -> None:
    prepared = _prepared("binance", CRASH.replace("insurance_fund_ppm = 10000", "insurance_fund_ppm = 900000"), write)
    result = simulate(prepared, paths=4, seed=1)
    assert (result.engine.fast, result.engine.exact) == (4, 0)
    assert all(o.bankruptcies == 3 and o.fund_paid_quote > 0 for o in result.outcomes)
    assert to_data(result) == to_data(simulate(prepared, paths=4, seed=1, engine="exact"))


def test_a_product_beyond_int64_falls_back(write) -> None:
    """A price so large that |S| × M × 1e6 could leave int64: refused before multiplying, the path
    runs on the exact engine (Python ints), the same outcome."""
    prepared = _prepared("binance", BASE.replace("start = 10000", "start = 10000000000000"), write)
    path = build(prepared, 1, 0)
    ran = fast_module.fast(prepared.policy, path.population, path.marks, 0)
    assert (ran.engine, ran.fallback) == ("exact", "int64 bound")
    assert ran.outcome == exact(prepared.policy, path.population, path.marks, 0).outcome


# --- generated stories ----------------------------------------------------------------------


def _variant(policy, data):
    """The policy with drawn roundings, trigger and maintenance basis (what the arrays compute)."""
    rounding = attrs.evolve(policy.rounding, margin=data.draw(st.sampled_from(list(Rounding))))
    margin = policy.margin
    if data.draw(st.booleans()):
        margin = attrs.evolve(margin, maintenance_basis=data.draw(st.sampled_from(list(MaintenanceBasis))))
    liquidation = attrs.evolve(policy.liquidation, trigger=data.draw(st.sampled_from(list(Trigger))))
    if liquidation.execution is Execution.MARKET and data.draw(st.booleans()):
        liquidation = attrs.evolve(liquidation, slippage_ppm=data.draw(st.integers(0, 50_000)))
    return attrs.evolve(policy, rounding=rounding, margin=margin, liquidation=liquidation)


@st.composite
def stories(draw, presets=tuple(COVERED)):
    """A covered preset (roundings and trigger drawn), a drawn book, and marks drawn move by move."""
    policy = _variant(load_preset(draw(st.sampled_from(presets))), draw(st.data()))
    moves = draw(st.lists(st.integers(-400_000, 300_000), min_size=1, max_size=8))
    return policy, draw(st.integers(0, 2**32)), draw(st.integers(0, 2)), moves


def _story_path(policy, path_seed, index, moves, write_path):
    prepared = prepare(policy, write_path)
    path = build(prepared, path_seed, index)
    price = path.population.book.market.mark_quote
    marks = []
    for ppm in moves:
        price = max(1, price + price * ppm // 1_000_000)
        marks.append(MarkPrice(price))
    return prepared.policy, path.population, tuple(marks)


@pytest.fixture(scope="module")
def story_scenario(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("stories") / "scenario.toml"
    path.write_text(VOLATILE.replace("insurance_fund_ppm = 10000", "insurance_fund_ppm = 3000"), encoding="utf-8")
    return path


@seed(14)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(story=stories())
def test_generated_stories_step_like_the_exact_engine(story, story_scenario) -> None:
    policy, path_seed, index, moves = story
    policy, population, marks = _story_path(policy, path_seed, index, moves, story_scenario)
    assert first_difference(policy, population, marks) is None


@pytest.mark.deep
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(story=stories())
def test_generated_stories_step_like_the_exact_engine_deep(story, story_scenario) -> None:
    policy, path_seed, index, moves = story
    policy, population, marks = _story_path(policy, path_seed, index, moves, story_scenario)
    assert first_difference(policy, population, marks) is None


#: the presets whose ADL runs on the arrays (every ADL but OKX's drawdown trigger)
ADL_PRESETS = tuple(n for n in COVERED if fast_module.covers_adl(load_preset(n)))


@st.composite
def adl_stories(draw):
    """A preset with ADL on the arrays, its ranking, price and book_last drawn as well as its
    roundings and trigger, on a two-sided book with no fund, and drawn moves."""
    from solvent.rules.waterfall import AdlPrice, GapRounding, Ranking

    policy = _variant(load_preset(draw(st.sampled_from(ADL_PRESETS))), draw(st.data()))
    price = draw(st.sampled_from(list(AdlPrice)))
    per_fill = price is AdlPrice.BANKRUPTCY and not policy.adl.price_on_tick and not policy.liquidation.fee_to_close
    layer = attrs.evolve(
        policy.adl,
        ranking=draw(st.sampled_from(list(Ranking))),
        price=price,
        book_last=draw(st.booleans()),
        gap_rounding=draw(st.sampled_from(list(GapRounding))) if per_fill else GapRounding.PER_LOT,
        overlap_only=False,  # a skipped account breaks the arrays' prefix of the queue (covers_adl)
    )
    policy = attrs.evolve(policy, deficit=tuple(layer if x is policy.adl else x for x in policy.deficit))
    moves = draw(st.lists(st.integers(-400_000, 300_000), min_size=1, max_size=6))
    return policy, draw(st.integers(0, 2**32)), draw(st.integers(0, 2)), moves


@pytest.fixture(scope="module")
def adl_scenario(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("adl") / "scenario.toml"
    path.write_text(NO_FUND, encoding="utf-8")
    return path


@seed(15)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(story=adl_stories())
def test_generated_adl_stories_step_like_the_exact_engine(story, adl_scenario) -> None:
    policy, path_seed, index, moves = story
    policy, population, marks = _story_path(policy, path_seed, index, moves, adl_scenario)
    assert first_difference(policy, population, marks) is None


@pytest.mark.deep
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(story=adl_stories())
def test_generated_adl_stories_step_like_the_exact_engine_deep(story, adl_scenario) -> None:
    policy, path_seed, index, moves = story
    policy, population, marks = _story_path(policy, path_seed, index, moves, adl_scenario)
    assert first_difference(policy, population, marks) is None


def test_generated_adl_stories_reach_the_queue(adl_scenario) -> None:
    """The drawn ADL stories do go down the queue: hypothesis finds one that closes lots by ADL."""
    from hypothesis import find

    def reaches(story) -> bool:
        policy, population, marks = _story_path(*story, adl_scenario)
        return _fills(policy, population, marks)[0] > 0

    assert reaches(find(adl_stories(), reaches, settings=settings(max_examples=50, database=None)))


@pytest.mark.deep
@pytest.mark.parametrize("preset", COVERED)
def test_every_covered_preset_many_paths_deep(preset: str, write) -> None:
    for text in (GAPPY, VOLATILE, CRASH):
        prepared = _prepared(preset, text, write)
        for i in range(12):
            path = build(prepared, 5, i)
            assert first_difference(prepared.policy, path.population, path.marks) is None


# --- mutations: a one-token change to a vectorized rule is caught ------------------------------

MUTATIONS = [
    ("pnl = size * (new - old)", "pnl = size * (old - new)"),  # settlement's sign
    ("F[WINDOW] += pnl", "F[WINDOW] -= pnl"),  # the window PnL settlement counts
    ("F[PRINCIPAL, idx] = np.minimum(", "F[PRINCIPAL, idx] = np.maximum("),  # losses settle capital (percolator)
    ("return -((-n) // d)", "return ((-n) // d)"),  # ceil in the named rounding
    ("return (size != 0) & (equity < mm)", "return (size != 0) & (equity <= mm)"),  # the trigger at maintenance
    ("n = np.abs(size) * mark", "n = size * mark"),  # the notional of a short
    (
        "np.maximum(div(n * mmr, PPM, policy.rounding.margin) - amount, 0)",
        "np.maximum(div(n * mmr, PPM, policy.rounding.margin) + amount, 0)",
    ),  # the tier's maintenance amount
    ("eligible = ((own > 0) & (size < 0))", "eligible = ((own > 0) & (size <= 0))"),  # ADL: who is opposite
    ("np.maximum(up, 0) * mm", "np.maximum(up, 1) * mm"),  # ADL: binance's score of a loser
    ("np.searchsorted(covered, abs(own))", "np.searchsorted(covered, abs(own) // 2)"),  # ADL: the queue's reach
    ("AdlFill(name, ab.names[j], 0, gap, fair, num, den,", "AdlFill(name, ab.names[j], 0, gap, fair, den, num,"),
    # a liquidation that reaches other traders: a layer that charges them, re-run on the whole book
    ("reason = _others(done, adl)", "reason = None"),
    # ... and a cascading socialized loss or ADL on the fund's drawdown after a bankruptcy
    ("if not reason and (drawdown or cascade) and", "if not reason and (drawdown and cascade) and"),
    # a sweep's liquidations on one small book together: kept where one reached other traders
    ("        if _reaches_others(p, now):\n            return None", "        if False:\n            return None"),
    ("return (p.drawdown or p.cascade) and", "return (p.drawdown and p.cascade) and"),
]


def _mutant(old: str, new: str) -> types.ModuleType:
    source = Path(fast_module.__file__).read_text(encoding="utf-8")
    assert source.count(old) == 1, old
    module = types.ModuleType(f"fast_mutant_{abs(hash(old))}")
    module.__file__ = fast_module.__file__
    sys.modules[module.__name__] = module
    exec(compile(source.replace(old, new), fast_module.__file__, "exec"), module.__dict__)  # noqa: S102
    return module


@pytest.fixture(scope="module")
def boundary_cases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mutations")

    def write(text: str, name: str = "scenario.toml") -> Path:
        path = folder / name
        path.write_text(text, encoding="utf-8")
        return path

    return _boundary_story(write)


def _boundary_story(write):
    """Gapping paths (longs and shorts, several tiers, ceil and floor margin rounding) and a path
    whose trader's equity lands exactly on its maintenance margin: what the mutations change."""
    cases = []
    base = load_preset("binance")
    for rounding in (Rounding.CEIL, Rounding.FLOOR):
        policy = attrs.evolve(base, rounding=attrs.evolve(base.rounding, margin=rounding))
        prepared = prepare(policy, write(GAPPY))
        for i in range(3):
            path = build(prepared, 7, i)
            cases.append((prepared.policy, path.population, path.marks))
    # percolator's capital absorbing its losses, without the warm-up the fast engine leaves to the exact one
    percolator = load_preset("percolator")
    percolator = attrs.evolve(percolator, deficit=(HaircutRatio(losses_settle_capital=True),))
    prepared = prepare(percolator, write(GAPPY))
    cases += [(prepared.policy, build(prepared, 7, i).population, build(prepared, 7, i).marks) for i in range(2)]
    cases += _exact_tie(write) + _within_the_amount(write)
    # ADL with no fund: every bankruptcy goes down the queue of a two-sided book
    prepared = prepare(base, write(NO_FUND, name="adl.toml"))
    cases += [(prepared.policy, build(prepared, 7, i).population, build(prepared, 7, i).marks) for i in range(3)]
    # mechanisms over other traders, on the whole book: a socialized loss (mango-v4 with no fund),
    # a cascading one (drift) and ADL on the fund's drawdown (okx's, at 10% and one quantum, so
    # that the fund's payments in a gap draw it down: ADL then runs with no deficit left)
    okx = load_preset("okx")
    drawn = attrs.evolve(okx.adl.fund_drawdown, drawdown_ppm=100_000, min_drawdown_quote=1)
    okx = attrs.evolve(
        okx, deficit=tuple(attrs.evolve(x, fund_drawdown=drawn) if x is okx.adl else x for x in okx.deficit)
    )
    gap = GAPPY.replace("insurance_fund_ppm = 50000", "insurance_fund_ppm = 300000")
    for policy, text, at in ((load_preset("mango-v4"), NO_FUND, 7), (load_preset("drift"), GAPPY, 7), (okx, gap, 1)):
        prepared = prepare(policy, write(text, name=f"{policy.name}.toml"))
        paths = [build(prepared, at, i) for i in (1, 2)]
        cases += [(prepared.policy, path.population, path.marks) for path in paths]
    return cases


def _one_trader(write, value: int, name: str):
    """One long trader of notional ``value`` at 10,000 on binance, and its account after the setup."""
    text = (
        BASE.replace("traders = 3", "traders = 1")
        .replace("long_share = 0.5", "long_share = 1")
        .replace(
            'distribution = "lognormal"\nmedian = 1000000\nsigma = 0.5', f'distribution = "fixed"\nvalue = {value}'
        )
    )
    prepared = prepare(load_preset("binance"), write(text, name=name))
    population = build(prepared, 1, 0).population
    book = population.book
    for event in population.setup:
        book = step(prepared.policy, book, event).after
    return prepared.policy, population, book.account("t0"), book.market.mark_quote


def _first_price(policy, population, account, mark, test):
    """The highest price below the mark at which ``test(equity, N × MMR rounded, cum)`` holds, as
    a path under either trigger (below, and at or below maintenance)."""
    from solvent.rules.margin import _tier_field
    from solvent.rules.venue_formulas import tiered_maintenance_margin

    for price in range(mark, 0, -1):
        equity = account.cash_quote + account.size_lots * (price - mark)
        n = abs(account.size_lots) * price
        cum = _tier_field(policy.margin, n, "maintenance_amount_quote")
        rated = tiered_maintenance_margin(
            n, _tier_field(policy.margin, n, "maintenance_ppm"), 0, rounding=policy.rounding.margin
        )
        if test(equity, rated, cum):
            marks = (MarkPrice(mark), MarkPrice(price))
            return [
                (attrs.evolve(policy, liquidation=attrs.evolve(policy.liquidation, trigger=t)), population, marks)
                for t in Trigger
            ]
    raise AssertionError("no such price")


def _exact_tie(write):
    """One lot: equity falls one quantum per tick, so some price puts it exactly on maintenance."""
    return _first_price(*_one_trader(write, 5000, "tie.toml"), lambda e, rated, cum: e == rated - cum)


def _within_the_amount(write):
    """1,000 lots, in binance's second tier (a maintenance amount of 5,000 quanta): the first price
    at which equity is at or below N × MMR, still above N × MMR − cum (not liquidated)."""
    return _first_price(*_one_trader(write, 10_000_000, "amount.toml"), lambda e, rated, cum: e <= rated and cum > 0)


@pytest.mark.parametrize(("old", "new"), MUTATIONS, ids=[m[1][:40] for m in MUTATIONS])
def test_a_one_token_mutation_of_a_fast_rule_fails_the_comparison(old: str, new: str, boundary_cases) -> None:
    mutant = _mutant(old, new)
    assert any(first_difference(*case, module=mutant) is not None for case in boundary_cases)


def test_the_mutation_corpus_passes_unmutated(boundary_cases) -> None:
    assert all(first_difference(*case) is None for case in boundary_cases)


def test_a_refused_opening_is_refused_alike(write) -> None:
    """Without its deposit a trader's opening trade is below initial margin: both engines refuse
    the scenario with the exact engine's own message."""
    from solvent.rules.events import Deposit
    from solvent.simulation.engine import SetupRejected

    prepared = _prepared("binance", BASE, write)
    path = build(prepared, 1, 0)
    setup = tuple(e for e in path.population.setup if not (isinstance(e, Deposit) and e.account == "t1"))
    population = attrs.evolve(path.population, setup=setup)
    messages = []
    for engine in (exact, fast_module.fast):
        with pytest.raises(SetupRejected) as info:
            engine(prepared.policy, population, path.marks, 0)
        messages.append(str(info.value))
    assert messages[0] == messages[1] and "t1 would hold less than initial margin" in messages[0]


def test_an_isolated_position_in_the_population_runs_on_the_exact_engine(write) -> None:
    """The arrays leave an isolated position's link to its owner (``Account.owner``,
    ``isolated_market``) at its default: a population book that holds one runs on the exact engine
    and says why, with the exact engine's outcome; the same book without it stays on the arrays."""
    import attrs

    from solvent.rules.book import Account

    prepared = _prepared("binance", GAPPY, write)
    path = build(prepared, 7, 0)
    assert fast_module.fast(prepared.policy, path.population, path.marks, 0).fallback is None
    book = path.population.book
    # a trader who opens nothing on this path, with a flat isolated position beside it
    solo = Account(name="solo")
    isolated = Account(name=f"solo:{book.market.name}", owner="solo", isolated_market=book.market.name)
    population = attrs.evolve(path.population, book=attrs.evolve(book, accounts=(*book.accounts, solo, isolated)))
    ran = fast_module.fast(prepared.policy, population, path.marks, 0)
    assert (ran.engine, ran.fallback) == ("exact", "an isolated position or a fund per market")
    assert ran.outcome == exact(prepared.policy, population, path.marks, 0).outcome


def test_a_fund_per_market_in_the_population_runs_on_the_exact_engine_and_says_why(write) -> None:
    """A population book whose insurance fund is kept per market (``[waterfall] scope =
    "per_market"`` or ``"per_group"``, docs/portfolio.md decisions 5a and 5b) holds a second
    market's fund and its drawdown window, which the arrays do not: it runs on the exact engine,
    says why (before its second market is named), and gives the exact engine's outcome."""
    from solvent.rules.book import Market, Position
    from solvent.rules.market_funds import Scope, WaterfallScope, shaped_for

    prepared = _prepared("binance", GAPPY, write)
    path = build(prepared, 7, 0)
    book = path.population.book
    two = attrs.evolve(
        book,
        more_markets=(Market("ETH", book.market.mark_quote),),
        accounts=tuple(attrs.evolve(a, more_positions=(Position(),)) for a in book.accounts),
    )
    per = shaped_for(WaterfallScope(Scope.PER_MARKET), two)
    assert per.funds_per_market and not two.funds_per_market
    policy = attrs.evolve(prepared.policy, waterfall=WaterfallScope(Scope.PER_MARKET))
    ran = fast_module.fast(policy, attrs.evolve(path.population, book=per), path.marks, 0)
    assert (ran.engine, ran.fallback) == ("exact", "an isolated position or a fund per market")
    assert ran.outcome == exact(policy, attrs.evolve(path.population, book=per), path.marks, 0).outcome
    pooled = fast_module.fast(prepared.policy, attrs.evolve(path.population, book=two), path.marks, 0)
    assert pooled.fallback == "a book of several markets"

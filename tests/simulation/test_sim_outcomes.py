"""Simulated outcomes at their boundaries, read off the exact engine, and the run's determinism."""

from concurrent.futures import ProcessPoolExecutor

import pytest
from sim_base import BASE

from solvent.properties import catalog
from solvent.properties.search import first_violation
from solvent.reports.simulation import render_json
from solvent.rules.engine import run
from solvent.rules.presets import load_preset
from solvent.simulation import stats
from solvent.simulation.paths import build
from solvent.simulation.run import prepare, run_chunk, simulate, widest

BINANCE = load_preset("binance")
FLAT = BASE.replace("volatility = 0.8", "volatility = 0")
#: 400% a year over six hours at up to 40x: bad debt on most paths, the fund exhausted on some
VOLATILE = BASE.replace("volatility = 0.8", "volatility = 4").replace("high = 10", "high = 40")
#: every trader long at 10x, then one candle that halves the price: each is bankrupt
CRASH = (
    BASE.replace("long_share = 0.5", "long_share = 1")
    .replace('distribution = "uniform"\nlow = 2\nhigh = 10', 'distribution = "fixed"\nvalue = 10')
    .replace('model = "gbm"\nstart = 10000\nvolatility = 0.8', 'model = "candles"\nfile = "crash.csv"')
    .replace("steps = 6\n", "")
    .replace("cadence = 2", "cadence = 1")
)
CRASH_CSV = "time,open,high,low,close\n1,10000,10000,10000,10000\n2,10000,10000,5000,5000\n"


class TestBoundaries:
    def test_a_flat_price_liquidates_nobody(self, write) -> None:
        result = simulate(prepare(BINANCE, write(FLAT)), paths=10, seed=1)
        assert {o.liquidations for o in result.outcomes} == {0}
        assert {o.bad_debt_quote for o in result.outcomes} == {0}
        assert result.summary["probabilities"]["bad_debt"]["count"] == 0
        assert result.summary["tails"]["fund_drawdown_quote"]["var_99"]["value"] == 0

    def test_a_certain_crash_bankrupts_every_path(self, write) -> None:
        result = simulate(prepare(BINANCE, write(CRASH, **{"crash.csv": CRASH_CSV})), paths=8, seed=1)
        p = result.summary["probabilities"]["bad_debt"]
        assert (p["count"], p["paths"], p["value"], p["high"]) == (8, 8, 1.0, 1.0)
        # three traders long at 10x, each loses half its notional: five times its collateral
        assert {o.liquidations for o in result.outcomes} == {3}
        assert all(o.bankruptcies == 3 and o.bad_debt_quote > 0 for o in result.outcomes)

    def test_each_output_is_what_the_engines_record_says_at_a_crash(self, write) -> None:
        """Path 0 of the certain crash, read two ways: the outcome (from the step's transfers) against
        the step's named outcomes. Every deficit is covered by the fund and then ADL, which takes
        it from ``maker``, the one winner; the winners' haircut rate is what maker paid over its
        profit before paying it, rounded down; the fund is exhausted at the second mark event."""
        from solvent.rules.margin import equity
        from solvent.rules.outcomes import AdlFill, Bankrupt, LayerUsed, Liquidated

        prepared = prepare(BINANCE, write(CRASH, **{"crash.csv": CRASH_CSV}))
        path = build(prepared, 1, 0)
        steps = run(prepared.policy, path.population.book, path.events)
        [o] = simulate(prepared, paths=1, seed=1).outcomes
        crash = steps[-1].outcomes
        lots = [x.size_lots for x in crash if isinstance(x, Liquidated)]
        assert (o.liquidations, o.liquidated_notional_quote) == (3, 5000 * sum(lots))
        deficits = sum(x.deficit_quote for x in crash if isinstance(x, Bankrupt))
        assert o.bad_debt_quote == deficits == sum(x.covered_quote for x in crash if isinstance(x, LayerUsed)) > 0
        paid = sum(x.lots * x.gap_per_lot_quote for x in crash if isinstance(x, AdlFill) and x.winner == "maker")
        assert o.haircut_quote == o.adl_quote == paid > 0 and o.socialized_quote == 0
        maker = steps[-1].after.account("maker")
        profit = equity(prepared.policy.margin, maker) - path.population.deposits_quote["maker"] + paid
        assert o.haircut_rate_ppm == paid * 1_000_000 // profit and 0 < o.haircut_rate_ppm < 1_000_000
        assert (o.fund_exhausted, o.fund_exhausted_mark, o.adl) == (True, 1, True)
        assert o.first_haircut_event == len(path.events) - 1 and o.first_negative_event is None

    def test_a_payer_bankrupt_in_the_same_step_is_not_a_winner_paying(self, write) -> None:
        """Drift with no fund, a volatile book of 8: on path 6 a trader pays its share of a
        socialized loss in the step that bankrupts it. What winners pay counts only payers not
        bankrupt in that step (as no-haircut counts them): counting that one would add its share."""
        from solvent.rules.ledger import HAIRCUT_REASONS
        from solvent.rules.outcomes import Bankrupt

        text = VOLATILE.replace("volatility = 4", "volatility = 6").replace("traders = 3", "traders = 8")
        prepared = prepare(
            load_preset("drift"), write(text.replace("insurance_fund_ppm = 10000", "insurance_fund_ppm = 0"))
        )
        path = build(prepared, 1, 6)
        steps = run(prepared.policy, path.population.book, path.events)
        payers = {a.name for a in path.population.book.accounts if a.is_trader or a.name == "liquidity"}
        paid = {True: 0, False: 0}  # by whether the payer went bankrupt in the same step
        for step in steps[len(path.population.setup) :]:
            bankrupt = {x.account for x in step.outcomes if isinstance(x, Bankrupt)}
            for t in step.transfers:
                if t.reason in HAIRCUT_REASONS and t.source in payers:
                    paid[t.source in bankrupt] += t.amount_quote
        assert paid[True] > 0 and paid[False] > 0
        [o] = run_chunk(prepared, 1, [6])
        assert o["haircut_quote"] == paid[False]

    def test_the_fund_pays_what_the_ledger_says(self, write) -> None:
        result = simulate(prepare(BINANCE, write(CRASH, **{"crash.csv": CRASH_CSV})), paths=4, seed=1)
        for o in result.outcomes:
            assert o.fund_start_quote - o.fund_end_quote <= o.fund_paid_quote
            assert o.fund_drawdown_quote == o.fund_start_quote - o.fund_min_quote

    def test_a_finer_cadence_liquidates_before_the_gap_bankrupts(self, write) -> None:
        """The same halving candle: seen once (cadence 1) it gaps every 10x long past zero; seen
        in 5% steps (cadence 30) the sweep closes each trader on the way down, with no deficit."""
        fine = CRASH.replace("cadence = 1", "cadence = 30")
        coarse = simulate(prepare(BINANCE, write(CRASH, **{"crash.csv": CRASH_CSV})), paths=3, seed=1)
        smooth = simulate(prepare(BINANCE, write(fine, **{"crash.csv": CRASH_CSV})), paths=3, seed=1)
        assert [o.liquidations for o in smooth.outcomes] == [o.liquidations for o in coarse.outcomes] == [3, 3, 3]
        assert all(o.bad_debt_quote > 0 for o in coarse.outcomes)
        assert [o.bad_debt_quote for o in smooth.outcomes] == [0, 0, 0]

    def test_the_scenarios_slippage_reaches_the_liquidation(self, write) -> None:
        """The same halving seen in 5% steps, where the sweep closes every 10x long with equity
        left: at no slippage no path has bad debt; with the scenario's 5% slippage on every
        liquidation fill (a 10x long near maintenance has far less than 5% of its notional left)
        every path's liquidations end in bad debt."""
        fine = CRASH.replace("cadence = 1", "cadence = 30")
        runs = [
            simulate(prepare(BINANCE, write(fine + extra, **{"crash.csv": CRASH_CSV})), paths=3, seed=1)
            for extra in ("\n[liquidation]\nslippage_ppm = 0\n", "\n[liquidation]\nslippage_ppm = 50000\n")
        ]
        assert [r.prepared.policy.liquidation.slippage_ppm for r in runs] == [0, 50_000]
        assert [o.bad_debt_quote for o in runs[0].outcomes] == [0, 0, 0]
        assert all(o.liquidations == 3 and o.bad_debt_quote > 0 for o in runs[1].outcomes)

    @pytest.mark.parametrize("preset", ["bitmex", "drift", "gmx-v2"])
    def test_a_flat_price_liquidates_nobody_on_any_contract(self, write, preset: str) -> None:
        result = simulate(prepare(load_preset(preset), write(FLAT)), paths=3, seed=1)
        assert {o.liquidations for o in result.outcomes} == {0}

    def test_every_step_of_a_simulated_path_conserves_money(self, write) -> None:
        """The exported story of a crash path, judged step by step by the catalog's conservation."""
        prepared = prepare(BINANCE, write(CRASH, **{"crash.csv": CRASH_CSV}))
        path = build(prepared, 1, 0)
        steps = run(prepared.policy, path.population.book, path.events)
        assert first_violation(prepared.policy, catalog.get("conservation"), steps) is None
        assert first_violation(prepared.policy, catalog.get("no-haircut"), steps) is not None


class TestDeterminism:
    def test_a_path_depends_only_on_its_seed_and_index(self, write) -> None:
        prepared = prepare(BINANCE, write())
        assert run_chunk(prepared, 5, [3]) == run_chunk(prepared, 5, range(6))[3:4]
        assert build(prepared, 5, 3).prices != build(prepared, 5, 4).prices

    def test_same_seed_same_json_and_another_seed_differs(self, write) -> None:
        prepared = prepare(BINANCE, write())
        a, b = (render_json(simulate(prepared, paths=12, seed=3, batch=5)) for _ in range(2))
        assert a == b
        assert render_json(simulate(prepared, paths=12, seed=4, batch=5)) != a

    def test_two_worker_processes_give_the_same_json_as_one(self, write) -> None:
        prepared = prepare(BINANCE, write())
        alone = render_json(simulate(prepared, paths=12, seed=3, batch=6, chunk=2))
        with ProcessPoolExecutor(max_workers=2) as pool:
            pooled = render_json(simulate(prepared, paths=12, seed=3, batch=6, chunk=2, executor=pool))
        assert pooled == alone

    def test_until_stops_at_the_same_path_on_one_or_two_workers(self, write) -> None:
        """A volatile book where things happen: after 30 paths the widest interval (bad debt, 25 of
        30) is still above 0.3, after 40 it is below; the rule reads the batch's counts in index
        order, so two worker processes, each given chunks of 3 paths, stop at the same path with
        the same JSON as one."""
        prepared = prepare(BINANCE, write(VOLATILE))
        run = {"paths": 80, "seed": 3, "until": 0.3, "batch": 10, "chunk": 3}
        alone = simulate(prepared, **run)
        with ProcessPoolExecutor(max_workers=2) as pool:
            pooled = simulate(prepared, executor=pool, **run)
        assert (len(alone.outcomes), alone.batches) == (40, 4)
        assert widest(alone.outcomes[:30]) > 0.3 >= widest(alone.outcomes)
        assert render_json(pooled) == render_json(alone)

    def test_until_stops_by_counts(self, write) -> None:
        """Nothing happens on a flat path, so every probability is 0/n with Wilson upper bound
        z²/(n + z²): above 0.1 at 30 paths (0.113), below it at 40 (0.088)."""
        result = simulate(prepare(BINANCE, write(FLAT)), paths=100, seed=1, until=0.1, batch=10)
        assert (len(result.outcomes), result.batches) == (40, 4)
        assert "at most 0.1 wide after 40 paths" in result.stopped


class TestStats:
    def test_wilson_at_the_edges(self) -> None:
        assert stats.wilson(0, 40)[0] == 0.0
        assert stats.wilson(40, 40)[1] == 1.0
        low, high = stats.wilson(5, 10)
        assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
        # one path either side of the edges is no longer pinned to 0 or 1 (Wilson's own bounds)
        assert (round(stats.wilson(1, 10)[0], 4), round(stats.wilson(9, 10)[1], 4)) == (0.0179, 0.9821)

    def test_a_quantile_is_an_order_statistic_with_a_binomial_interval(self) -> None:
        values = list(range(1, 1001))
        q = stats.quantile(values, 0.95)
        assert q["value"] == 950
        # B ~ Bin(1000, 0.95): sd 6.9, so about ±13 ranks around 950
        assert q["covered"] and 934 <= q["low"] < 950 < q["high"] <= 966

    def test_the_quantile_rank_rounds_up_between_ranks_and_not_at_one(self) -> None:
        """q n = 9.5 of 10 paths: VaR 95% is the 10th smallest (the smallest with at least 95% of
        paths at or below it), not the 9th; q n = 19 of 20 is the 19th exactly (0.95 × 20 is
        19.000000000000004 in floats: a rank read without rounding it first would be the 20th)."""
        assert stats.quantile(list(range(1, 11)), 0.95)["value"] == 10
        assert stats.quantile(list(range(1, 21)), 0.95)["value"] == 19
        assert stats.quantile(list(range(1, 21)), 0.99)["value"] == 20
        es = stats.shortfall(list(range(1, 21)), 0.95, seed=0, key=0)
        assert (es["sum"], es["count"], es["value"]) == (19 + 20, 2, 20)  # 19.5, half-even

    def test_expected_shortfall_is_the_tail_mean(self) -> None:
        values = list(range(1, 101))
        es = stats.shortfall(values, 0.95, seed=0, key=0)
        assert (es["sum"], es["count"], es["value"]) == (sum(range(95, 101)), 6, 98)
        assert es["low"] <= 98 <= es["high"]

    @pytest.mark.parametrize("n", [1, 3])
    def test_too_few_paths_says_so(self, n: int) -> None:
        assert stats.quantile(list(range(n)), 0.99)["covered"] is False

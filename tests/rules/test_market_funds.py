"""``[waterfall] scope = "per_market"`` (issue 13; docs/portfolio.md decision 5, ``solvent.rules.market_funds``):
each market keeps an insurance fund of its own, a deficit found in one market is paid by that
market's fund and then by that market's ADL, and the other markets' funds keep their money. Tested
at the boundary (a fund exactly the deficit: no ADL; one quantum short: ADL in that market only),
against the pooled waterfall on the same book, on the ledger and conservation, on z3 (the same
transition, the claim proved and refuted), in the loader and in the search."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from solvent.properties.catalog import StepView, get
from solvent.properties.scenarios import build
from solvent.properties.strategies import stories
from solvent.rules.book import Role, new_book
from solvent.rules.engine import RejectedEvent, run, step, transition
from solvent.rules.events import Deposit, Funding, MarkPrice, Trade
from solvent.rules.fees import FeeRule
from solvent.rules.fund_drawdown import FundDrawdown
from solvent.rules.loading import PolicyError, dumps_policy, loads_policy
from solvent.rules.market_funds import Scope, WaterfallScope, fund_balance, fund_balances, shaped_for, split_fund
from solvent.rules.outcomes import AdlFill, Bankrupt, LayerUsed
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import Adl, InsuranceFund, Ranking
from tests.rules.test_market_tables import POLICY, TWO

POOLED = POLICY  # BTC and ETH, each on its own tiers; a fund, then ADL
PER = attrs.evolve(POLICY, waterfall=WaterfallScope(Scope.PER_MARKET))
OWN = get("market-fund-pays-own-market")


def gap(policy, btc_fund: int, eth_fund: int):
    """The cross-market gap (alice long BTC and ETH, ETH gaps through her whole equity), with the
    funds ``btc_fund`` and ``eth_fund`` (pooled: their sum in the one fund); its last step."""
    story = build(policy, "cross-market-gap")
    events = [e for e in story.events if not (isinstance(e, Deposit) and e.account == "insurance_fund")]
    if policy.waterfall.per_market:
        funds = [Deposit("insurance_fund", btc_fund), Deposit("insurance_fund", eth_fund, market="ETH")]
    else:
        funds = [Deposit("insurance_fund", btc_fund + eth_fund)]
    steps = run(policy, story.book, [events[0], *(f for f in funds if f.amount_quote), *events[1:]])
    return steps


def deficit(s) -> int:
    (bankrupt,) = [o for o in s.outcomes if isinstance(o, Bankrupt)]
    return bankrupt.deficit_quote


D = deficit(gap(PER, 1, 1)[-1])  # alice's deficit in ETH: the funds do not change it


def adl_lots(s) -> list[tuple[str, int, str]]:
    return [(o.winner, o.lots, o.market) for o in s.outcomes if isinstance(o, AdlFill) and o.lots]


class TestTheBoundary:
    def test_a_fund_exactly_the_deficit_pays_it_and_nobody_is_deleveraged(self) -> None:
        s = gap(PER, 0, D)[-1]
        assert D == 330_098
        assert adl_lots(s) == []
        used = [(o.layer, o.covered_quote) for o in s.outcomes if isinstance(o, LayerUsed)]
        assert used[0] == ("insurance_fund", D)
        assert fund_balances(s.after)[1] == 0 and s.after.account("bob").more_positions[0].size_lots == -100

    def test_one_quantum_short_deleverages_eth_only_and_btc_fund_keeps_its_money(self) -> None:
        s = gap(PER, 10 * D, D - 1)[-1]
        assert adl_lots(s) == [("bob", 100, "ETH")]
        assert fund_balance(s.before, 0) == 10 * D == fund_balance(s.after, 0)  # BTC's fund untouched
        paid = [t for t in s.transfers if t.reason.name == "INSURANCE_FUND"]
        assert [(t.source, t.amount_quote) for t in paid] == [("insurance_fund#ETH", D - 1)]

    def test_pooled_the_other_markets_money_pays_and_nobody_is_deleveraged(self) -> None:
        s = gap(POOLED, 10 * D, D - 1)[-1]
        assert adl_lots(s) == []
        assert fund_balances(s.after) == (10 * D + D - 1 - D,)

    def test_pooled_and_per_market_differ_exactly_by_the_other_funds_share(self) -> None:
        """The default scenario's fund split half and half: pooled, the whole fund pays before ADL;
        per market, ETH's half, and the winners pay the other half more."""
        pooled, per = (
            run(p, build(p, "cross-market-gap").book, list(build(p, "cross-market-gap").events)) for p in (POOLED, PER)
        )
        fund = fund_balances(pooled[-1].before)[0]
        assert fund_balances(per[-1].before) == (fund // 2, fund - fund // 2) == (41_250, 41_250)
        covered = {
            name: {o.layer: o.covered_quote for o in s[-1].outcomes if isinstance(o, LayerUsed)}
            for name, s in (("pooled", pooled), ("per", per))
        }
        assert covered["pooled"]["insurance_fund"] == fund and covered["per"]["insurance_fund"] == fund // 2
        assert covered["per"]["adl"] - covered["pooled"]["adl"] == fund // 2
        assert fund_balance(per[-1].after, 0) == fund // 2  # BTC's half as it was

        # every step before the gap moves the traders' money the same way
        def traders(steps):
            return [s.after.traders for s in steps[:-1] if getattr(s.event, "account", "") != "insurance_fund"]

        assert traders(pooled) == traders(per) and len(per) == len(pooled) + 1  # ETH's fund: one deposit more


class TestTheLedger:
    def test_every_step_conserves_money_and_names_the_fund_it_moved(self) -> None:
        steps = gap(PER, 500, 700)
        for s in steps:
            assert s.after.total_cash_quote() == s.after.net_deposits_quote
        names = {t.source for t in steps[-1].transfers} | {t.destination for t in steps[-1].transfers}
        assert "insurance_fund#ETH" in names and "insurance_fund" not in names
        assert fund_balances(steps[-1].after)[0] == 500

    def test_focusing_twice_is_the_identity_and_swaps_the_fund(self) -> None:
        b = shaped_for(PER.waterfall, gap(PER, 500, 700)[-2].after)
        assert b.focused(1).focused(1) == b
        assert b.focused(1).role(Role.INSURANCE_FUND).cash_quote == 700 == fund_balance(b, 1)

    def test_a_deposit_names_a_market_only_for_the_fund(self) -> None:
        b = gap(PER, 1, 1)[2].after  # the liquidity and both funds in
        with pytest.raises(RejectedEvent, match="only to fill that market's insurance fund"):
            step(PER, b, Deposit("alice", 10, market="ETH"))
        assert fund_balance(step(PER, b, Deposit("insurance_fund", 10, market="ETH")).after, 1) == 11

    def test_the_book_must_hold_the_funds_the_policy_keeps(self) -> None:
        pooled_book = new_book(
            market="BTC", mark_quote=30_000, traders=("alice", "bob"), more_markets=gap(PER, 1, 1)[0].after.more_markets
        )
        with pytest.raises(ValueError, match="scope is 'per_market' but the book holds one fund"):
            transition(PER, pooled_book, MarkPrice(1))
        with pytest.raises(ValueError, match="scope is 'pooled' but the book holds a fund per market"):
            transition(POOLED, shaped_for(PER.waterfall, pooled_book), MarkPrice(1))

    def test_split_rounds_each_share_down_and_gives_the_first_market_the_rest(self) -> None:
        assert split_fund(PER.waterfall, 2, 7) == (4, 3)
        assert split_fund(WaterfallScope(Scope.PER_MARKET, (333_333, 666_667)), 2, 10) == (4, 6)
        assert split_fund(POOLED.waterfall, 2, 7) == (7,)


class TestOneMarket:
    @pytest.mark.parametrize("name", ["binance", "bybit", "okx"])
    def test_declaring_per_market_on_a_one_market_preset_changes_nothing(self, name: str) -> None:
        preset = load_preset(name)
        per = attrs.evolve(preset, waterfall=WaterfallScope(Scope.PER_MARKET))
        for scenario in ("gap-crash", "whale"):
            story = build(preset, scenario)
            assert build(per, scenario) == story
            assert run(per, story.book, list(story.events)) == run(preset, story.book, list(story.events))


class TestTheClaims:
    def test_the_own_market_claim_holds_per_market_and_fails_pooled(self) -> None:
        per, pooled = gap(PER, 10 * D, D - 1)[-1], gap(POOLED, 10 * D, D - 1)[-1]
        assert OWN.exercised(StepView.of(PER, per)) and OWN.holds(StepView.of(PER, per))
        assert not OWN.holds(StepView.of(POOLED, pooled))  # the one fund is BTC's too
        assert OWN.applies(PER) and not OWN.applies(POOLED) and not OWN.applies(attrs.evolve(PER, market=()))

    @pytest.mark.parametrize("taken", [1, -1])
    def test_btc_fund_moved_by_one_quantum_either_way(self, taken: int) -> None:
        s = gap(PER, 10 * D, D - 1)[-1]
        fund = s.after.role(Role.INSURANCE_FUND)
        forged = attrs.evolve(
            s,
            after=s.after.replace_account(
                s.after.index(fund.name), attrs.evolve(fund, cash_quote=fund.cash_quote - taken)
            ),
        )
        assert OWN.holds(StepView.of(PER, forged)) is (taken < 0)  # a fund may receive; it may not pay

    def test_insurance_fund_non_negative_reads_every_market(self) -> None:
        s = gap(PER, 10 * D, D - 1)[-1]
        claim = get("insurance-fund-non-negative")
        assert claim.holds(StepView.of(PER, s))
        fund = s.after.role(Role.INSURANCE_FUND)
        below = attrs.evolve(fund, more_funds=(-1,))
        forged = attrs.evolve(s, after=s.after.replace_account(s.after.index(fund.name), below))
        assert not claim.holds(StepView.of(PER, forged))

    def test_waterfall_order_reads_the_fund_of_the_market_in_deficit(self) -> None:
        """ADL runs while BTC's fund holds 10 × D: per market that is not the fund in deficit, so
        no profit is haircut "while the fund holds money"; ETH's fund is exhausted first."""
        s = gap(PER, 10 * D, D - 1)[-1]
        assert fund_balance(s.before, 0) == 10 * D and adl_lots(s)
        assert get("waterfall-order").holds(StepView.of(PER, s))

    def test_waterfall_order_fails_when_the_fund_in_deficit_keeps_money(self) -> None:
        """A capped fund (cap 1,000 a bankruptcy): ETH's fund pays its cap and keeps the rest
        while ETH's winners are deleveraged; the layer order holds (a fund that paid its cap is
        spent for it), but no profit may be haircut while the fund holds money: waterfall-order
        fails, reading ETH's fund, though BTC's fund is empty (a claim that read the first
        market's fund would let it pass)."""
        policy = attrs.evolve(PER, deficit=(InsuranceFund(cap_quote=1_000), Adl(Ranking.ORDER)))
        s = gap(policy, 0, 10 * D)[-1]
        assert adl_lots(s) == [("bob", 100, "ETH")]
        assert fund_balances(s.after)[0] == 0 and fund_balances(s.after)[1] >= 10 * D - 1_000
        assert not get("waterfall-order").holds(StepView.of(policy, s))


class TestTheDrawdownPerMarket:
    """OKX starts ADL when "the applicable insurance fund" falls below its window average less 30%
    (docs/venues.md#okx-adl); with a fund per market each market's fund has its own window
    (``Book.more_window_sums``), sampled on every event."""

    DD = FundDrawdown(drawdown_ppm=300_000, window_events=1_000)

    def policy(self, base):
        return attrs.evolve(base, deficit=(InsuranceFund(), Adl(Ranking.ORDER, fund_drawdown=self.DD)))

    def test_eth_fund_drawn_down_deleverages_eth_while_pooled_does_not(self) -> None:
        per, pooled = (gap(self.policy(p), 10 * D, 3 * D // 2)[-1] for p in (PER, POOLED))
        # ETH's fund (1.5 D) pays the whole deficit and is left below 70% of its window's average:
        # ADL in ETH; BTC's fund and window untouched
        assert fund_balances(per.after) == (10 * D, 3 * D // 2 - D) and adl_lots(per) == [("bob", 100, "ETH")]
        assert per.after.more_window_sums[0] > 0 and per.before.insurance_window_sum_quote > 0
        # pooled, the one fund of 11.5 D pays it and stays above its window's threshold: no ADL
        assert adl_lots(pooled) == [] and fund_balances(pooled.after) == (10 * D + 3 * D // 2 - D,)

    def test_each_window_is_sampled_on_every_event(self) -> None:
        steps = gap(self.policy(PER), 10 * D, 3 * D // 2)
        eth = [fund_balance(s.before, 1) for s in steps]  # the window sums what ETH's fund held at each start
        last = steps[-1].after
        assert last.focused(1).insurance_window_sum_quote == sum(eth) == last.more_window_sums[0]

    def test_the_symbolic_engine_agrees_on_the_drawdown_step(self) -> None:
        from tests.z3_step import z3_step_agrees

        policy = self.policy(PER)
        s = gap(policy, 10 * D, 3 * D // 2)[-1]
        z3_step_agrees(policy, s.before, s.event)


class TestOneSemantics:
    @pytest.mark.parametrize("which", ["gap", "btc-move", "eth-fund-deposit", "eth-trade-fee", "eth-funding"])
    def test_the_symbolic_engine_agrees_on_a_per_market_step(self, which: str) -> None:
        """Five steps on the per-market book: the gap (ETH's fund pays, ETH deleverages), a BTC
        move, a deposit into ETH's fund, an ETH trade whose fee shares go to ETH's fund, funding in
        ETH: z3's evaluation of the same transition gives the same book, ledger and outcomes."""
        from tests.z3_step import z3_step_agrees

        policy = attrs.evolve(PER, fees=FeeRule(taker_ppm=500, maker_ppm=200, insurance_share_ppm=500_000))
        steps = gap(PER, 10 * D, D - 1)
        book, event = {
            "gap": (steps[-1].before, steps[-1].event),
            "btc-move": (steps[-1].before, MarkPrice(27_000)),
            "eth-fund-deposit": (steps[-1].before, Deposit("insurance_fund", 5, market="ETH")),
            "eth-trade-fee": (steps[-2].before, Trade("carol", "bob", 3, 10_000, market="ETH")),
            "eth-funding": (steps[-1].before, Funding(2_000, market="ETH")),
        }[which]
        expected = transition(policy, book, event)
        if which == "eth-trade-fee":
            paid = [
                (t.destination, t.amount_quote)
                for t in (e.item for e in expected.entries)
                if t.reason.name == "TRADING_FEE"
            ]
            assert ("insurance_fund#ETH", 7) in paid and all(d != "insurance_fund" for d, _ in paid)
        z3_step_agrees(policy, book, event)

    def test_each_market_fund_is_a_variable_of_the_symbolic_book(self) -> None:
        import z3

        from solvent.solver.symbolic import variable_book

        lifted, made = variable_book(gap(PER, 500, 700)[-2].after)
        assert "insurance_fund#ETH.cash_quote" in {str(v) for v in made}
        assert z3.is_const(lifted.role(Role.INSURANCE_FUND).more_funds[0])

    def test_a_fund_below_zero_in_any_market_is_not_a_well_formed_start(self) -> None:
        from solvent.rules.wellformed import reasons

        b = gap(PER, 500, 700)[-2].after
        assert "pools non-negative" not in " ".join(reasons(PER, b))
        fund = b.role(Role.INSURANCE_FUND)
        below = b.replace_account(b.index(fund.name), attrs.evolve(fund, more_funds=(-1,)))
        assert "pools non-negative" in " ".join(reasons(PER, below))

    def test_z3_proves_the_own_market_claim_at_two_traders_and_two_markets(self) -> None:
        from solvent.solver.bounds import Bounds
        from solvent.solver.prove import prove
        from solvent.solver.verdicts import Verdict

        result = prove(PER, "market-fund-pays-own-market", Bounds(accounts=2, effort=20_000_000))
        assert result.verdict is Verdict.PROVED, result
        assert "2 markets (BTC, ETH)" in result.scope.fixed

    @pytest.mark.deep
    def test_z3_refutes_it_on_the_pooled_policy_with_a_replayed_story(self) -> None:
        from solvent.solver.bounds import Bounds
        from solvent.solver.prove import prove
        from solvent.solver.verdicts import Verdict

        result = prove(POOLED, "market-fund-pays-own-market", Bounds(accounts=2, effort=20_000_000))
        assert result.verdict is Verdict.REFUTED, result
        assert result.counterexample is not None


class TestTheLoader:
    def _policy(self, waterfall: str) -> str:
        return TWO + "\n[waterfall]\n" + waterfall

    def test_per_market_loads_and_writes_back(self) -> None:
        policy = loads_policy(self._policy('scope = "per_market"\nfund_shares_ppm = [600000, 400000]\n'))
        assert policy.waterfall == WaterfallScope(Scope.PER_MARKET, (600_000, 400_000))
        assert loads_policy(dumps_policy(policy)) == policy
        assert "[waterfall]" not in dumps_policy(attrs.evolve(policy, waterfall=POOLED.waterfall))

    @pytest.mark.parametrize(
        ("waterfall", "message"),
        [
            (
                'scope = "per_markt"\n',
                "'scope' must be one of 'pooled', 'per_market', 'per_group': 'per_markt' (did you mean 'per_market'?) @ $.waterfall.scope (venue.toml:",
            ),
            (
                'scope = "per_market"\nfund_shares_ppm = [500000, 300000, 200000]\n',
                "'waterfall' must give fund_shares_ppm one share per [[market]] table (2: BTC, ETH): 3 shares @ $.waterfall (venue.toml:",
            ),
            (
                'scope = "per_market"\nfund_shares_ppm = [500000, 500001]\n',
                "'fund_shares_ppm' must add up to 1,000,000: 1,000,001 @ $.waterfall.fund_shares_ppm (venue.toml:",
            ),
            (
                'scope = "pooled"\nfund_shares_ppm = [500000, 500000]\n',
                "'fund_shares_ppm' splits a fund kept per market; it needs scope = 'per_market'",
            ),
        ],
        ids=["unknown-scope", "shares-per-market", "shares-sum", "shares-pooled"],
    )
    def test_bad_input_names_the_field_and_line(self, waterfall: str, message: str) -> None:
        text = self._policy(waterfall)
        with pytest.raises(PolicyError) as raised:
            loads_policy(text, source="venue.toml")
        (error,) = raised.value.errors
        assert message in error
        line = int(error.rsplit("venue.toml:", 1)[1].split(":")[0])
        assert (
            "waterfall" in text.splitlines()[line - 1]
            or "scope" in text.splitlines()[line - 1]
            or "fund_shares" in text.splitlines()[line - 1]
        )

    def test_the_command_line_exits_2_and_writes_nothing(self, tmp_path) -> None:
        from click.testing import CliRunner

        from solvent.cli import main

        path = tmp_path / "venue.toml"
        path.write_text(self._policy('scope = "per_markt"\n'), encoding="utf-8")
        result = CliRunner().invoke(main, ["check", str(path), "--no-search", "--findings-dir", str(tmp_path / "f")])
        assert result.exit_code == 2 and "@ $.waterfall.scope" in result.output and "Traceback" not in result.output
        assert not (tmp_path / "f").exists()


def test_searched_per_market_stories_conserve_money_and_keep_each_fund() -> None:
    """The search draws books with a fund per market (and tops up a market's fund): every step
    conserves money, no fund goes below zero, and a step in one market leaves the others' funds.
    40 derandomized stories (the count is asserted: a search that found nothing says how many)."""
    ran: list[int] = []

    @settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
    @given(stories(PER, max_events=6))
    def judged(story) -> None:
        ran.append(len(story.events))
        assert story.book.funds_per_market
        for s in run(PER, story.book, list(story.events)):
            view = StepView.of(PER, s)
            assert s.after.total_cash_quote() == s.after.net_deposits_quote
            assert get("insurance-fund-non-negative").holds(view) and OWN.holds(view)

    judged()
    assert len(ran) == 40


def test_the_search_tops_up_a_market_s_own_fund() -> None:
    """Under per_market a fund top-up is drawn in a market of its own, and resolves to a deposit
    naming it; a pooled policy's actions draw no such wrapper (its search as before)."""
    from hypothesis import find

    from solvent.properties import actions as act
    from solvent.properties.strategies import events

    def seeds_in_market(actions) -> bool:
        return any(isinstance(a, act.InMarket) and isinstance(a.action, act.SeedFund) for a in actions)

    found = find(events(traders=2, markets=2, fund_per_market=True), seeds_in_market, settings=settings(database=None))
    (wrapped,) = [a for a in found if isinstance(a, act.InMarket)]
    book = gap(PER, 1, 1)[2].after
    event = act.resolve(PER, book, act.InMarket(1, wrapped.action))
    assert event == Deposit("insurance_fund", wrapped.action.amount_quote, market="ETH") or event == Deposit(
        "backstop_vault", wrapped.action.amount_quote
    )
    assert act.resolve(PER, book, act.InMarket(1, act.SeedFund(5))) == Deposit("insurance_fund", 5, market="ETH")
    assert act.resolve(PER, book, act.InMarket(1, act.Pay(0, 5))) == Deposit("alice", 5)  # a trader's: no market


class TestTheBinanceExample:
    """``examples/binance-markets.toml``: Binance on BTCUSDT and ETHUSDT, a fund per market
    (docs/venues.md#binance-insurance-fund). The cross-market gap in ETHUSDT drains ETHUSDT's fund
    and deleverages ETHUSDT; BTCUSDT's fund keeps its money. Pooled, the same story spends both."""

    ROOT = Path(__file__).resolve().parents[2]

    def policy(self):
        from solvent.rules.loading import load_policy

        return load_policy(self.ROOT / "examples" / "binance-markets.toml")

    def test_eth_crash_drains_eth_fund_only_and_pooled_spends_both(self) -> None:
        per = self.policy()
        assert per.waterfall.per_market and per.market_names == ("BTCUSDT", "ETHUSDT")
        pooled = attrs.evolve(per, waterfall=POOLED.waterfall)
        paid = {}
        for name, policy in (("per", per), ("pooled", pooled)):
            story = build(policy, "cross-market-gap")
            last = run(policy, story.book, list(story.events))[-1]
            paid[name] = (
                fund_balances(last.before),
                fund_balances(last.after),
                {o.layer: o.covered_quote for o in last.outcomes if isinstance(o, LayerUsed)},
                adl_lots(last),
            )
        assert paid["per"] == (
            (2_200, 2_200),
            (2_200, 2),
            {"insurance_fund": 2_200, "adl": 15_498},
            [("bob", 100, "ETHUSDT")],
        )
        assert paid["pooled"] == ((4_400,), (2,), {"insurance_fund": 4_400, "adl": 13_298}, [("bob", 100, "ETHUSDT")])
        assert per.waterfall_summary() == pooled.waterfall_summary() + "; a fund per market"

    def test_the_readme_command_runs_as_printed_and_shows_each_fund(self) -> None:
        from tests.printed_support import run_printed
        from tests.test_printed_commands import _documented

        command = _documented("solvent check examples/binance-markets.toml --scenario cross-market-gap")
        done = run_printed(self.ROOT, command)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "insurance_fund#ETHUSDT  alice" in done.stdout and "fund ETHUSDT (USDT)" in done.stdout
        assert "paid by 1. insurance_fund (ETHUSDT) USDT 22.00" in done.stdout
        assert "market-fund-pays-own-market" in done.stdout

    def test_the_readme_proof_runs_as_printed(self) -> None:
        from tests.printed_support import run_printed
        from tests.test_printed_commands import _documented

        done = run_printed(
            self.ROOT, _documented("solvent prove examples/binance-markets.toml --invariant market-fund")
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert "market-fund-pays-own-market on binance-markets: proved (N ≤ 2, K ≤ 1 (mark)" in done.stdout
        assert "2 markets (BTCUSDT, ETHUSDT)" in done.stdout

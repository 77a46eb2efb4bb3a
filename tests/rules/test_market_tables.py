"""``[[market]]`` tables (issue 13, stage 5; docs/portfolio.md, decision 1b): each market of a
policy on its own tiers, read by focusing the policy on the market as the book is focused.

Policy: BTC shares ``[margin]``'s flat 10% initial / 5% maintenance; ETH has its own 20% / 10%.
alice holds 1 BTC at 30,000 (initial 3,000, maintenance 1,500) and 10 ETH at 2,000 (notional
20,000: initial 4,000, maintenance 2,000 on ETH's tiers; 2,000 and 1,000 on BTC's).
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules.book import Book, Market, new_book
from solvent.rules.engine import RejectedEvent, run, step, transition
from solvent.rules.events import Deposit, Funding, MarkPrice, Trade, Withdraw
from solvent.rules.liquidation import LiquidationRule, Trigger
from solvent.rules.loading import PolicyError, dumps_policy, loads_policy
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.market_spec import MarketSpec
from solvent.rules.outcomes import Liquidated
from solvent.rules.policy import Policy
from solvent.rules.presets import load_preset, preset_names
from solvent.rules.waterfall import Adl, InsuranceFund, Ranking

FLAT = MarginRule((Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),))
ETH_TIERS = (Tier(0, initial_ppm=200_000, maintenance_ppm=100_000),)
POLICY = Policy(
    "own-tiers",
    FLAT,
    deficit=(InsuranceFund(), Adl(Ranking.ORDER)),
    market=(MarketSpec("BTC"), MarketSpec("ETH", tiers=ETH_TIERS)),
)
SHARED = attrs.evolve(POLICY, market=(MarketSpec("BTC"), MarketSpec("ETH")))
BTC, ETH = 30_000, 2_000


def book() -> Book:
    return new_book(market="BTC", mark_quote=BTC, traders=("alice", "bob", "carol"), more_markets=(Market("ETH", ETH),))


def opened(alice_cash: int, policy: Policy = POLICY) -> Book:
    """alice long 1 BTC (against carol) and 10 ETH (against bob), then holding ``alice_cash``."""
    events = [
        Deposit("alice", 1_000_000),
        Deposit("bob", 1_000_000),
        Deposit("carol", 1_000_000),
        Trade("alice", "carol", 1, BTC),
        Trade("alice", "bob", 10, ETH, market="ETH"),
    ]
    after = run(policy, book(), events)[-1].after
    alice = after.account("alice")
    changed = after.replace_account(after.index("alice"), attrs.evolve(alice, cash_quote=alice_cash, principal_quote=0))
    return changed.with_fields(net_deposits_quote=after.net_deposits_quote - alice.cash_quote + alice_cash)


def sizes(b: Book, name: str) -> tuple[int, ...]:
    return tuple(p.size_lots for p in b.account(name).positions)


class TestFocusingThePolicy:
    def test_focused_on_a_market_the_policy_reads_its_tiers_and_swaps_its_table_first(self) -> None:
        f = POLICY.focused(1)
        assert f.margin.tiers == ETH_TIERS and f.market_names == ("ETH", "BTC")
        assert f.more_margins == (FLAT,) and f.market[0].tiers == ()

    def test_focused_twice_it_reads_every_market_as_before(self) -> None:
        again = POLICY.focused(1).focused(1)
        assert again.margin == POLICY.margin and again.more_margins == POLICY.more_margins
        assert again.market_names == POLICY.market_names

    def test_a_market_with_a_lot_of_its_own_is_focused_too(self) -> None:
        policy = attrs.evolve(POLICY, market=(MarketSpec("BTC"), MarketSpec("ETH", lot="0.01 ETH", tiers=ETH_TIERS)))
        f = policy.focused(1)
        assert f.margin.tiers == ETH_TIERS and f.market_names == ("ETH", "BTC")

    def test_a_one_market_policy_is_the_same_in_every_market(self) -> None:
        one = Policy("one", FLAT)
        assert one.focused(2) is one and one.more_margins == () and one.market_names == ()

    def test_a_market_the_policy_does_not_declare_is_an_error(self) -> None:
        with pytest.raises(IndexError, match=r"market 2 is not one of the policy's 2 markets \('BTC', 'ETH'\)"):
            POLICY.focused(2)


class TestEachMarketOnItsOwnTiers:
    @pytest.mark.parametrize("moved", [MarkPrice(BTC), MarkPrice(ETH, market="ETH")], ids=["BTC", "ETH"])
    @pytest.mark.parametrize(
        ("trigger", "cash", "liquidated"),
        [
            (Trigger.BELOW_MAINTENANCE, 3_499, True),
            (Trigger.BELOW_MAINTENANCE, 3_500, False),
            (Trigger.AT_OR_BELOW_MAINTENANCE, 3_500, True),
            (Trigger.AT_OR_BELOW_MAINTENANCE, 3_501, False),
        ],
    )
    def test_the_trigger_sums_each_markets_maintenance_on_its_own_tiers(
        self, moved: MarkPrice, trigger: Trigger, cash: int, liquidated: bool
    ) -> None:
        """1,500 (BTC, 5%) + 2,000 (ETH, 10%) = 3,500, whichever market the event moves (shared
        tiers: 2,500; the tables swapped: 3,000 + 1,000 = 4,000)."""
        policy = attrs.evolve(POLICY, liquidation=LiquidationRule(trigger=trigger))
        s = step(policy, opened(cash), moved)
        (liq,) = [o for o in s.outcomes if isinstance(o, Liquidated)] or [None]
        assert (liq is not None) is liquidated
        if liq is not None:
            assert liq.maintenance_quote == 3_500

    def test_shared_tiers_are_the_first_markets(self) -> None:
        s = step(SHARED, opened(2_500, SHARED), MarkPrice(ETH, market="ETH"))
        assert not any(isinstance(o, Liquidated) for o in s.outcomes)
        s = step(SHARED, opened(2_499, SHARED), MarkPrice(ETH, market="ETH"))
        (liq,) = [o for o in s.outcomes if isinstance(o, Liquidated)]
        assert liq.maintenance_quote == 2_500

    @pytest.mark.parametrize(("deposit", "accepted"), [(7_000, True), (6_999, False)])
    def test_opening_in_a_market_needs_its_own_initial_rate(self, deposit: int, accepted: bool) -> None:
        """1 BTC (3,000 at 10%) held; 10 ETH opened need 4,000 at ETH's 20%."""
        b = run(POLICY, book(), [Deposit("alice", deposit), Deposit("carol", 10**6), Deposit("bob", 10**6)])[-1].after
        b = step(POLICY, b, Trade("alice", "carol", 1, BTC)).after
        opening = Trade("alice", "bob", 10, ETH, market="ETH")
        if accepted:
            assert sizes(step(POLICY, b, opening).after, "alice") == (1, 10)
        else:
            with pytest.raises(RejectedEvent, match="alice would hold less than initial margin"):
                step(POLICY, b, opening)

    @pytest.mark.parametrize(("deposit", "accepted"), [(7_000, True), (6_999, False)])
    def test_opening_in_the_first_market_counts_the_others_own_rate(self, deposit: int, accepted: bool) -> None:
        """10 ETH (4,000 at 20%) held; 1 BTC opened needs 3,000 on [margin]'s 10%."""
        b = run(POLICY, book(), [Deposit("alice", deposit), Deposit("carol", 10**6), Deposit("bob", 10**6)])[-1].after
        b = step(POLICY, b, Trade("alice", "bob", 10, ETH, market="ETH")).after
        opening = Trade("alice", "carol", 1, BTC)
        if accepted:
            assert sizes(step(POLICY, b, opening).after, "alice") == (1, 10)
        else:
            with pytest.raises(RejectedEvent, match="alice would hold less than initial margin"):
                step(POLICY, b, opening)

    @pytest.mark.parametrize(("amount", "accepted"), [(3_000, True), (3_001, False)])
    def test_free_margin_counts_each_markets_initial_rate(self, amount: int, accepted: bool) -> None:
        b = opened(10_000)  # initial margin 3,000 + 4,000
        if accepted:
            assert step(POLICY, b, Withdraw("alice", amount)).after.account("alice").cash_quote == 10_000 - amount
        else:
            with pytest.raises(RejectedEvent, match="free margin"):
                step(POLICY, b, Withdraw("alice", amount))

    @pytest.mark.parametrize(("lots", "needed"), [(9, 3_600), (10, 8_000)])
    def test_a_markets_own_tier_floor(self, lots: int, needed: int) -> None:
        """ETH's initial rate 20% below a notional of 20,000 and 40% from it (maintenance continuous):
        10 lots at 2,000 are at the floor and pay the upper rate, 40% of 20,000; 9 lots 20% of 18,000."""
        tiers = (
            Tier(0, initial_ppm=200_000, maintenance_ppm=50_000),
            Tier(20_000, initial_ppm=400_000, maintenance_ppm=100_000, maintenance_amount_quote=1_000),
        )
        policy = attrs.evolve(POLICY, market=(MarketSpec("BTC"), MarketSpec("ETH", tiers=tiers)))
        b = run(policy, book(), [Deposit("alice", 10**6), Deposit("bob", 10**6)])[-1].after
        b = step(policy, b, Trade("alice", "bob", lots, ETH, market="ETH")).after
        free = 10**6 - needed
        assert step(policy, b, Withdraw("alice", free)).after.account("alice").cash_quote == needed
        with pytest.raises(RejectedEvent, match="free margin"):
            step(policy, b, Withdraw("alice", free + 1))


class TestOneSemantics:
    """z3 runs the same transition with each market's own tiers: every value agrees."""

    @pytest.mark.parametrize(
        "event",
        [
            MarkPrice(1_900, market="ETH"),
            MarkPrice(1_500, market="ETH"),
            MarkPrice(29_000),
            Funding(-2_000, market="ETH"),
            Trade("bob", "alice", 4, 2_100, market="ETH"),
            Trade("alice", "bob", 1, 2_000, market="ETH"),
            Trade("carol", "alice", 1, 30_000),
        ],
        ids=repr,
    )
    @pytest.mark.parametrize("cash", [3_499, 3_500, 5_000])
    def test_the_symbolic_engine_agrees_with_per_market_tiers(self, event, cash: int) -> None:
        from tests.z3_step import z3_step_agrees

        concrete = opened(cash)
        z3_step_agrees(POLICY, concrete, event)

    def test_the_symbolic_requirements_read_the_markets_own_rate(self) -> None:
        from solvent.rules.engine import post_requirements
        from solvent.solver.symbolic import constant_book, constant_event, simplifier

        b = opened(6_999)
        trade = Trade("alice", "bob", 1, ETH, market="ETH")  # alice adds: 3,000 + 4,400 > 6,999
        after = transition(POLICY, b, trade).book
        concrete = [bool(r.holds) for r in post_requirements(POLICY, b, after, trade)]
        lifted = transition(POLICY, constant_book(b), constant_event(trade)).book
        symbolic = post_requirements(POLICY, constant_book(b), lifted, constant_event(trade))
        simplify = simplifier()
        assert [bool(simplify(r.holds)) if not isinstance(r.holds, bool) else r.holds for r in symbolic] == concrete
        assert concrete[0] is False


TWO = """\
name = "two-markets"

[margin]

[[margin.tiers]]
floor_notional_quote = 0
initial_ppm = 100000
maintenance_ppm = 50000

[[market]]
name = "BTC"

[[market]]
name = "ETH"
lot = "0.01 ETH"

[[market.tiers]]
floor_notional_quote = 0
initial_ppm = 200000
maintenance_ppm = 100000

[[deficit]]
layer = "insurance_fund"

[[deficit]]
layer = "venue_absorbs"
"""


def errors(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        loads_policy(text, source="venue.toml")
    return caught.value.errors


class TestTheTables:
    def test_two_market_tables_load_and_write_back(self) -> None:
        policy = loads_policy(TWO)
        assert policy.market_names == ("BTC", "ETH") and policy.market[1].tiers == ETH_TIERS
        assert policy.market[1].lot == "0.01 ETH" and policy.more_margins[0].tiers == ETH_TIERS
        text = dumps_policy(policy)
        assert loads_policy(text) == policy
        assert '[[market]]\nname = "BTC"\n\n[[market]]\nname = "ETH"\nlot = "0.01 ETH"\n\n[[market.tiers]]' in text

    @pytest.mark.parametrize("name", preset_names())
    def test_a_one_market_policy_is_written_as_before(self, name: str) -> None:
        policy = load_preset(name)
        assert policy.market == () and "[[market]]" not in dumps_policy(policy)

    def test_the_first_markets_tiers_are_margins(self) -> None:
        text = TWO.replace(
            'name = "BTC"\n',
            'name = "BTC"\n\n[[market.tiers]]\nfloor_notional_quote = 0\ninitial_ppm = 1\nmaintenance_ppm = 1\n',
        )
        (error,) = errors(text)
        assert error.startswith("'tiers' of the first market are [margin].tiers")
        assert error.endswith("@ $.market[0].tiers (venue.toml:13:1)"), error

    def test_a_misspelt_key_says_the_closest(self) -> None:
        (error,) = errors(TWO.replace('lot = "0.01 ETH"', 'lto = "0.01 ETH"'))
        assert error.startswith("unknown key 'lto' (did you mean 'lot'?)")
        assert error.endswith("@ $.market[1].lto (venue.toml:15:1)"), error

    def test_a_name_twice_and_a_name_missing(self) -> None:
        (twice,) = errors(TWO.replace('name = "ETH"', 'name = "BTC"'))
        assert twice.startswith(
            "'name' must differ from every other market's: 'BTC' @ $.market[1].name (venue.toml:14:8)"
        )
        (missing,) = errors(TWO.replace('name = "ETH"\n', ""))
        assert missing.startswith("'name' is required") and "$.market[1]" in missing

    def test_a_markets_tiers_are_checked_as_margins_are(self) -> None:
        tiered = TWO.replace(
            "maintenance_ppm = 100000\n",
            "maintenance_ppm = 100000\n\n[[market.tiers]]\nfloor_notional_quote = 50000\ninitial_ppm = 400000\n"
            "maintenance_ppm = 200000\nmaintenance_amount_quote = 4999\n",
        )
        (error,) = errors(tiered)
        assert error.startswith("'maintenance_amount_quote' must be 5000 to keep maintenance continuous at 50000: 4999")
        assert "@ $.market[1].tiers[1].maintenance_amount_quote (venue.toml:" in error

    def test_risk_limit_steps_need_tiers_of_the_markets_own(self) -> None:
        (error,) = errors(TWO.replace('name = "BTC"\n', 'name = "BTC"\nrisk_limit_steps = true\n'))
        assert "'risk_limit_steps' needs tiers of the market's own" in error and "$.market[0]" in error


def test_fmt_puts_market_tables_after_margin_with_their_keys_in_order() -> None:
    from solvent.policy_format import canonical

    text = (
        'name = "two"\n\n[[market]]\nname = "BTC"\n\n[[deficit]]\nlayer = "venue_absorbs"\n\n'
        '[[market]]\nlot = "0.01 ETH"  # one lot\nname = "ETH"\n\n[[market.tiers]]\nmaintenance_ppm = 100000\nfloor_notional_quote = 0\n'
        "initial_ppm = 200000\n\n[margin]\n\n[[margin.tiers]]\nfloor_notional_quote = 0\ninitial_ppm = 100000\n"
        "maintenance_ppm = 50000\n"
    )
    out = canonical(text)
    assert out.index("[margin]") < out.index("[[market]]") < out.index("[[deficit]]")
    assert '[[market]]\nname = "ETH"\nlot = "0.01 ETH"  # one lot\n' in out
    assert "[[market.tiers]]\nfloor_notional_quote = 0\ninitial_ppm = 200000\nmaintenance_ppm = 100000\n" in out
    assert loads_policy(out) == loads_policy(text)


class TestEachMarketsLotAndTick:
    """A market's own lot and tick are checked against its own price grid: 0.01 USD a quantum per
    0.01 ETH is a grid of 1 USD per ETH."""

    def grid_problems(self, lot: str, tick: str) -> list[str]:
        from solvent.rules.loading import price_grid_problems
        from solvent.rules.policy import Units

        policy = attrs.evolve(
            POLICY,
            units=Units(quote="0.01 USD", lot="0.001 BTC", tick="10 USD"),
            market=(MarketSpec("BTC"), MarketSpec("ETH", lot=lot, tick=tick)),
        )
        return price_grid_problems(policy)

    def test_a_tick_of_whole_grid_steps_is_stated(self) -> None:
        assert self.grid_problems("0.01 ETH", "1 USD") == []
        assert self.grid_problems("0.01 ETH", "2 USD") == []

    def test_a_tick_finer_than_the_markets_grid_is_named_at_its_table(self) -> None:
        (problem,) = self.grid_problems("0.01 ETH", "0.5 USD")
        assert "1 USD a step, is coarser than the venue's tick of 0.5 USD" in problem
        assert problem.endswith("@ $.market[1].tick")

    def test_the_markets_lot_is_read_with_the_policys_tick(self) -> None:
        """No tick of its own: [units]' 10 USD is whole steps of ETH's grid at 0.01 ETH a lot (1
        USD), and too fine for its grid at 0.0001 ETH a lot (100 USD); BTC's grid (10 USD) is fine."""
        assert self.grid_problems("0.01 ETH", "") == []
        (problem,) = self.grid_problems("0.0001 ETH", "")
        assert "100 USD a step" in problem and problem.endswith("@ $.market[1].tick")

    @pytest.mark.parametrize("key", ["lot", "tick"])
    def test_the_first_markets_lot_and_tick_are_units(self, key: str) -> None:
        (error,) = errors(TWO.replace('name = "BTC"\n', f'name = "BTC"\n{key} = "1 USD"\n'))
        assert error.startswith(f"'{key}' of the first market is [units].{key}; give it there: '1 USD'")
        assert f"@ $.market[0].{key} (venue.toml:12:" in error

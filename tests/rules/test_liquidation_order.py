"""``liquidation.order`` (issue 13; docs/portfolio.md, decision 4): which market's position a
liquidation closes first, re-checking the whole account after each order.

Book: alice long 1 BTC (entry 30,000) against carol and long 10 ETH (entry 2,000) against bob;
flat 10% initial / 5% maintenance in both markets, no fees, no slippage (the numbers are exact by
hand), an insurance fund then ADL. Each test sets the marks, then alice's cash, then runs a mark
event at an unchanged price (the sweep), in either market.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules.book import Book, Market, new_book
from solvent.rules.engine import run, step
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.liquidation import Execution, LiquidationRule, Order, Trigger
from solvent.rules.loading import PolicyError, dumps_policy, loads_policy
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.outcomes import Liquidated
from solvent.rules.policy import Policy
from solvent.rules.waterfall import Adl, InsuranceFund, Ranking

FLAT = MarginRule((Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),))
BTC, ETH = 30_000, 2_000


def policy(order: Order, **rule) -> Policy:
    return Policy(
        "ordered", FLAT, liquidation=LiquidationRule(order=order, **rule), deficit=(InsuranceFund(), Adl(Ranking.ORDER))
    )


def positioned(btc: int, eth: int, cash: int) -> Book:
    """alice's two positions with the marks moved to ``btc`` and ``eth`` while she was rich, then
    her cash set to ``cash`` (from outside: net deposits follow)."""
    p = policy(Order.ALL_AT_ONCE)
    b = new_book(market="BTC", mark_quote=BTC, traders=("alice", "bob", "carol"), more_markets=(Market("ETH", ETH),))
    events = [Deposit(n, 10**6) for n in ("alice", "bob", "carol")]
    events += [Trade("alice", "carol", 1, BTC), Trade("alice", "bob", 10, ETH, market="ETH")]
    events += [MarkPrice(btc), MarkPrice(eth, market="ETH")]
    return with_cash(run(p, b, events)[-1].after, cash)


def with_cash(b: Book, cash: int) -> Book:
    alice = b.account("alice")
    changed = b.replace_account(b.index("alice"), attrs.evolve(alice, cash_quote=cash, principal_quote=0))
    return changed.with_fields(net_deposits_quote=b.net_deposits_quote - alice.cash_quote + cash)


def sweep_in(b: Book, market: str) -> MarkPrice:
    """A mark event at the market's own mark: no money moves, the sweep runs."""
    index = b.market_index(market)
    return MarkPrice(b.markets[index].mark_quote, market="" if index == 0 else market)


def sizes(b: Book, name: str = "alice") -> tuple[int, ...]:
    return tuple(p.size_lots for p in b.account(name).positions)


def conserved(b: Book) -> bool:
    return sum(a.cash_quote + a.spot_quote for a in b.accounts) == b.net_deposits_quote


EITHER = pytest.mark.parametrize("market", ["BTC", "ETH"])


class TestWhichGoesFirst:
    """ETH at 1,900: alice's ETH has lost 1,000, her BTC nothing. Cash 2,000 against maintenance
    1,500 (BTC) + 950 (ETH) = 2,450: liquidated."""

    @EITHER
    @pytest.mark.parametrize(
        ("order", "left"),
        [(Order.LARGEST_LOSS_FIRST, (1, 0)), (Order.LARGEST_MAINTENANCE_FIRST, (0, 10)), (Order.ALL_AT_ONCE, (0, 0))],
    )
    def test_the_first_position_closed_and_the_rest_kept(self, market: str, order: Order, left: tuple) -> None:
        """Largest loss: ETH goes, and 2,000 covers BTC's 1,500: BTC stays. Largest maintenance:
        BTC's 1,500 goes, and 2,000 covers ETH's 950. All at once: both."""
        b = positioned(BTC, 1_900, 2_000)
        s = step(policy(order), b, sweep_in(b, market))
        assert [o.account for o in s.outcomes if isinstance(o, Liquidated)] == ["alice"]
        assert sizes(s.after) == left and sizes(s.after, "liquidity") == (1 - left[0], 10 - left[1])
        assert s.after.account("alice").cash_quote == 2_000 and conserved(s.after)

    @EITHER
    @pytest.mark.parametrize(("eth", "left"), [(1_899, (1, 0)), (1_900, (0, 10)), (1_901, (0, 10))])
    def test_equal_losses_go_to_the_name_that_sorts_first(self, market: str, eth: int, left: tuple) -> None:
        """BTC at 29,000 has lost 1,000; ETH at 1,900 too: a tie, BTC goes first (from an event in
        either market). ETH at 1,899 has lost 1,010 and goes first; at 1,901, 990, and BTC goes.
        Maintenance 1,450 + 950 = 2,400 > 2,000; either one left is covered."""
        b = positioned(29_000, eth, 2_000)
        s = step(policy(Order.LARGEST_LOSS_FIRST), b, sweep_in(b, market))
        assert sizes(s.after) == left and conserved(s.after)

    @EITHER
    @pytest.mark.parametrize(("lots", "left"), [(10, (0, 10)), (11, (1, 0))])
    def test_equal_maintenance_goes_to_the_name_that_sorts_first(self, market: str, lots: int, left: tuple) -> None:
        """ETH at 3,000 a lot: 10 lots have maintenance 1,500, BTC's own; a tie, and BTC goes. 11
        lots (1,650) go first. Cash 2,000 covers whichever is left."""
        b = positioned(BTC, 3_000, 10**6)
        if lots > 10:
            b = step(policy(Order.ALL_AT_ONCE), b, Trade("alice", "bob", lots - 10, 3_000, market="ETH")).after
        b = with_cash(b, 2_000)
        s = step(policy(Order.LARGEST_MAINTENANCE_FIRST), b, sweep_in(b, market))
        assert sizes(s.after) == left and conserved(s.after)


class TestTheWholeAccountIsCheckedAgain:
    @EITHER
    @pytest.mark.parametrize(
        ("trigger", "cash", "left"),
        [
            (Trigger.BELOW_MAINTENANCE, 1_500, (1, 0)),
            (Trigger.BELOW_MAINTENANCE, 1_499, (0, 0)),
            (Trigger.AT_OR_BELOW_MAINTENANCE, 1_501, (1, 0)),
            (Trigger.AT_OR_BELOW_MAINTENANCE, 1_500, (0, 0)),
        ],
    )
    def test_after_the_first_market_at_the_boundary(self, market: str, trigger: Trigger, cash: int, left) -> None:
        """ETH closed first; then BTC's maintenance 1,500 against the cash left: equal is not
        below maintenance, so BTC stays open under the strict trigger and goes under the other."""
        b = positioned(BTC, 1_900, cash)
        s = step(policy(Order.LARGEST_LOSS_FIRST, trigger=trigger), b, sweep_in(b, market))
        assert sizes(s.after) == left and conserved(s.after)

    @pytest.mark.parametrize(("cash", "left"), [(1_690, (1, 0)), (1_689, (0, 0))])
    def test_the_penalty_is_paid_before_the_check(self, cash: int, left: tuple) -> None:
        """A 1% penalty on ETH's 19,000 closed: 190 to the fund, then cash − 190 against 1,500."""
        b = positioned(BTC, 1_900, cash)
        s = step(policy(Order.LARGEST_LOSS_FIRST, penalty_ppm=10_000), b, sweep_in(b, "ETH"))
        assert sizes(s.after) == left and conserved(s.after)
        assert s.after.account("insurance_fund").cash_quote >= 190

    @pytest.mark.parametrize(("cash", "left"), [(2_000, (1, 5)), (1_974, (1, 0))])
    def test_a_partial_step_closes_part_of_one_markets_position(self, cash: int, left: tuple) -> None:
        """Half of ETH first (5 lots): maintenance 1,500 + 475 = 1,975; 2,000 covers it and the
        other 5 ETH stay open; 1,974 does not, and the rest of ETH goes (then 1,974 covers BTC)."""
        b = positioned(BTC, 1_900, cash)
        s = step(policy(Order.LARGEST_LOSS_FIRST, partial_close_ppm=500_000), b, sweep_in(b, "ETH"))
        assert sizes(s.after) == left and conserved(s.after)


@EITHER
def test_a_bankrupt_account_is_closed_all_at_once_whatever_the_order(market: str) -> None:
    """Below zero, the deficit is the whole account's: the same transfers as all at once."""
    b = positioned(BTC, 1_900, -100)
    ordered = step(policy(Order.LARGEST_LOSS_FIRST), b, sweep_in(b, market))
    at_once = step(policy(Order.ALL_AT_ONCE), b, sweep_in(b, market))
    assert ordered.transfers == at_once.transfers and ordered.after == at_once.after
    assert sizes(ordered.after) == (0, 0)


class TestOneSemantics:
    @pytest.mark.parametrize("order", [Order.LARGEST_LOSS_FIRST, Order.LARGEST_MAINTENANCE_FIRST])
    @pytest.mark.parametrize(
        ("btc", "eth", "cash", "event"),
        [
            (BTC, 1_900, 2_000, MarkPrice(1_900, market="ETH")),
            (29_000, 1_900, 2_000, MarkPrice(29_000)),
            (29_000, 1_900, 2_000, MarkPrice(1_899, market="ETH")),
            (BTC, 1_900, 1_500, MarkPrice(BTC)),
            (BTC, 1_900, -100, MarkPrice(1_850, market="ETH")),
        ],
        ids=repr,
    )
    def test_the_symbolic_engine_agrees(self, order: Order, btc: int, eth: int, cash: int, event) -> None:
        from tests.z3_step import z3_step_agrees

        p = policy(order, partial_close_ppm=500_000)
        concrete = positioned(btc, eth, cash)
        z3_step_agrees(p, concrete, event)


class TestTheField:
    def test_written_only_when_set_and_read_back(self) -> None:
        assert "\norder =" not in dumps_policy(policy(Order.ALL_AT_ONCE))
        text = dumps_policy(policy(Order.LARGEST_LOSS_FIRST))
        assert 'order = "largest_loss_first"' in text and loads_policy(text) == policy(Order.LARGEST_LOSS_FIRST)

    def test_a_misspelt_order_names_the_closest(self) -> None:
        text = dumps_policy(policy(Order.ALL_AT_ONCE)).replace(
            "[liquidation]\n", '[liquidation]\norder = "largest_los_first"\n'
        )
        with pytest.raises(PolicyError) as caught:
            loads_policy(text, source="venue.toml")
        (error,) = caught.value.errors
        assert "(did you mean 'largest_loss_first'?)" in error and "@ $.liquidation.order (venue.toml:" in error

    @pytest.mark.parametrize("execution", [Execution.BANKRUPTCY, Execution.TAKEOVER])
    def test_an_order_needs_a_market_execution(self, execution: Execution) -> None:
        with pytest.raises(ValueError, match=f"needs execution = 'market' \\(a '{execution.value}' execution"):
            LiquidationRule(order=Order.LARGEST_LOSS_FIRST, execution=execution)

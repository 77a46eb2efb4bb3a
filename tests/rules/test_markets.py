"""A book of several markets (issue 13, stage 1; docs/portfolio.md): the one-market rules, run on
the book focused on the event's market, and cross margin summed over markets.

Policy: flat 10x initial (10%), 5% maintenance, no fees, liquidation at mark with no penalty (the
numbers below are then exact by hand), an insurance fund then ADL by book order.
"""

from __future__ import annotations

import attrs
import pytest
import z3

from solvent.rules.book import Account, Book, Market, Position, new_book
from solvent.rules.engine import RejectedEvent, run, step, transition
from solvent.rules.events import Deposit, Funding, MarkPrice, Trade, Withdraw
from solvent.rules.ledger import Reason
from solvent.rules.liquidation import LiquidationRule, Trigger
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.outcomes import Liquidated
from solvent.rules.policy import Policy
from solvent.rules.waterfall import Adl, InsuranceFund, Ranking

FLAT = MarginRule((Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),))
POLICY = Policy("two-markets", FLAT, deficit=(InsuranceFund(), Adl(Ranking.ORDER)))
BTC, ETH = 30_000, 2_000  # marks, quote quanta per lot


def book(*traders: str) -> Book:
    return new_book(
        market="BTC", mark_quote=BTC, traders=traders or ("alice", "bob", "carol"), more_markets=(Market("ETH", ETH),)
    )


def opened(alice_cash: int) -> Book:
    """alice long 1 BTC (against carol) and long 10 ETH (against bob), with ``alice_cash``."""
    steps = run(
        POLICY,
        book(),
        [
            Deposit("alice", 10_000),
            Deposit("bob", 1_000_000),
            Deposit("carol", 1_000_000),
            Trade("alice", "carol", 1, BTC),
            Trade("alice", "bob", 10, ETH, market="ETH"),
        ],
    )
    after = steps[-1].after
    alice = after.account("alice")
    changed = after.replace_account(after.index("alice"), attrs.evolve(alice, cash_quote=alice_cash, principal_quote=0))
    # the cash comes from outside: net deposits follow, so the book conserves money
    return changed.with_fields(net_deposits_quote=after.net_deposits_quote - alice.cash_quote + alice_cash)


def sizes(b: Book, name: str) -> tuple[int, ...]:
    return tuple(p.size_lots for p in b.account(name).positions)


class TestShape:
    def test_a_one_market_book_is_the_book_it_was(self) -> None:
        one = new_book(mark_quote=100)
        assert one.markets == (one.market,) and one.more_markets == ()
        assert one.focused(0) is one and one.account("alice").positions == (Position(),)

    def test_focusing_swaps_a_market_and_every_position_in_it_and_back(self) -> None:
        b = opened(10_000)
        f = b.focused(1)
        assert [m.name for m in f.markets] == ["ETH", "BTC"]
        assert sizes(f, "alice") == (10, 1) and sizes(b, "alice") == (1, 10)
        assert f.focused(1) == b

    def test_every_account_holds_one_position_per_further_market(self) -> None:
        b = book()
        alice = attrs.evolve(b.account("alice"), more_positions=())
        with pytest.raises(ValueError, match="account 'alice' must hold one position per further market: 0 for 1"):
            Book(b.market, (alice, *b.accounts[1:]), more_markets=b.more_markets)

    def test_market_names_are_unique(self) -> None:
        with pytest.raises(ValueError, match="names of their own"):
            new_book(market="BTC", mark_quote=1, more_markets=(Market("BTC", 2),))

    def test_an_unknown_market_is_rejected_naming_the_markets(self) -> None:
        with pytest.raises(RejectedEvent, match=r"unknown market 'SOL'; the book has \['BTC', 'ETH'\]"):
            step(POLICY, opened(10_000), MarkPrice(10, market="SOL"))


class TestEventsActOnTheirMarket:
    def test_a_mark_move_settles_only_that_markets_positions(self) -> None:
        s = step(POLICY, opened(1_000_000), MarkPrice(1_900, market="ETH"))
        settled = {(t.source, t.destination, t.amount_quote) for t in s.transfers if t.reason is Reason.SETTLEMENT}
        assert settled == {("alice", "clearing", 1_000), ("clearing", "bob", 1_000)}  # 10 lots x 100
        assert [m.mark_quote for m in s.after.markets] == [BTC, 1_900]
        assert s.after.markets[1].previous_mark_quote == ETH and s.after.market.previous_mark_quote == BTC

    def test_funding_charges_only_that_markets_positions(self) -> None:
        s = step(POLICY, opened(1_000_000), Funding(1_000, market="ETH"))  # 0.1% of 10 x 2,000
        paid = {(t.source, t.destination, t.amount_quote) for t in s.transfers if t.reason is Reason.FUNDING}
        assert paid == {("alice", "clearing", 20), ("clearing", "bob", 20)}

    def test_a_trade_fills_its_own_market_and_says_so_in_the_position_ledger(self) -> None:
        b = opened(1_000_000)
        ctx = transition(POLICY, b, Trade("bob", "alice", 3, ETH, market="ETH"))
        assert sizes(ctx.book, "alice") == (1, 7) and sizes(ctx.book, "bob") == (0, -7)
        assert [f.item.market for f in ctx.fills] == ["ETH"]


class TestCrossMarginSumsOverMarkets:
    """alice holds 1 BTC (maintenance 1,500) and 10 ETH (maintenance 1,000): 2,500 in all."""

    @pytest.mark.parametrize(
        ("trigger", "cash", "liquidated"),
        [
            (Trigger.BELOW_MAINTENANCE, 2_499, True),
            (Trigger.BELOW_MAINTENANCE, 2_500, False),
            (Trigger.AT_OR_BELOW_MAINTENANCE, 2_500, True),
            (Trigger.AT_OR_BELOW_MAINTENANCE, 2_501, False),
        ],
    )
    def test_the_trigger_is_the_whole_accounts_maintenance(self, trigger: Trigger, cash: int, liquidated: bool) -> None:
        """A move of nothing runs the sweep: at the boundary of 1,500 + 1,000 (either market's
        maintenance alone, 1,500 or 1,000, is far below the equity)."""
        policy = attrs.evolve(POLICY, liquidation=LiquidationRule(trigger=trigger))
        s = step(policy, opened(cash), MarkPrice(ETH, market="ETH"))
        assert any(isinstance(o, Liquidated) for o in s.outcomes) is liquidated

    def test_a_liquidated_account_is_closed_in_every_market(self) -> None:
        """ETH falls 2,000 -> 1,800: alice pays 2,000 and is left with 1,000 < 1,500 + 900; both
        positions go into the book, the other market's first, at each market's mark."""
        s = step(POLICY, opened(3_000), MarkPrice(1_800, market="ETH"))
        (liq,) = [o for o in s.outcomes if isinstance(o, Liquidated)]
        assert liq.account == "alice" and liq.equity_quote == 1_000 and liq.maintenance_quote == 2_400
        assert sizes(s.after, "alice") == (0, 0) and sizes(s.after, "liquidity") == (1, 10)
        assert s.after.account("alice").cash_quote == 1_000
        for index in range(2):  # open interest balanced in each market
            assert sum(a.positions[index].size_lots for a in s.after.accounts) == 0
        total = sum(a.cash_quote + a.spot_quote for a in s.after.accounts)
        assert total == s.after.net_deposits_quote and s.after.account("clearing").cash_quote == 0

    def test_a_bankrupt_accounts_deficit_is_the_whole_accounts_and_adl_runs_in_the_market_that_moved(self) -> None:
        """ETH falls 2,000 -> 1,500: alice owes 2,000 in all. Her BTC goes into the book at the mark;
        her ETH is deleveraged against bob, the opposite ETH position, at the price that leaves her at
        exactly 0 (200 per lot over 10 lots); carol, opposite in BTC only, is not touched."""
        s = step(POLICY, opened(3_000), MarkPrice(1_500, market="ETH"))
        adl = [(t.source, t.destination, t.amount_quote) for t in s.transfers if t.reason is Reason.ADL]
        assert adl == [("bob", "alice", 2_000)]
        assert s.after.account("alice").cash_quote == 0 and sizes(s.after, "alice") == (0, 0)
        assert sizes(s.after, "carol") == (-1, 0) and sizes(s.after, "liquidity") == (1, 0)
        assert sizes(s.after, "bob") == (0, 0)


class TestInitialMarginCountsEveryMarket:
    """alice holds 1 BTC (initial margin 3,000) and opens 10 ETH (2,000)."""

    @pytest.mark.parametrize(("deposit", "accepted"), [(5_000, True), (4_999, False)])
    def test_opening_in_a_second_market_needs_margin_for_both(self, deposit: int, accepted: bool) -> None:
        b = run(
            POLICY,
            book(),
            [Deposit("alice", deposit), Deposit("carol", 1_000_000), Deposit("bob", 1_000_000)],
        )[-1].after
        b = step(POLICY, b, Trade("alice", "carol", 1, BTC)).after
        opening = Trade("alice", "bob", 10, ETH, market="ETH")
        if accepted:
            assert sizes(step(POLICY, b, opening).after, "alice") == (1, 10)
        else:
            with pytest.raises(RejectedEvent, match="alice would hold less than initial margin"):
                step(POLICY, b, opening)

    @pytest.mark.parametrize(("amount", "accepted"), [(5_000, True), (5_001, False)])
    def test_free_margin_for_a_withdrawal_counts_every_market(self, amount: int, accepted: bool) -> None:
        b = opened(10_000)  # initial margin 3,000 + 2,000
        if accepted:
            assert step(POLICY, b, Withdraw("alice", amount)).after.account("alice").cash_quote == 10_000 - amount
        else:
            with pytest.raises(RejectedEvent, match="free margin"):
                step(POLICY, b, Withdraw("alice", amount))


class TestOneSemantics:
    """z3 runs the same transition on the same two-market book: every value agrees."""

    @pytest.mark.parametrize(
        "event",
        [
            MarkPrice(1_800, market="ETH"),
            MarkPrice(27_000),
            Funding(-2_000, market="ETH"),
            Trade("bob", "alice", 4, 2_100, market="ETH"),
        ],
        ids=repr,
    )
    def test_the_symbolic_engine_agrees_on_a_two_market_book(self, event) -> None:
        from tests.z3_step import z3_step_agrees

        concrete = opened(3_000)
        z3_step_agrees(POLICY, concrete, event)

    def test_further_markets_and_positions_are_lifted_into_variables(self) -> None:
        from solvent.solver.symbolic import variable_book

        lifted, made = variable_book(opened(3_000))
        names = {str(v) for v in made}
        assert {"ETH.mark_quote", "alice.ETH.size_lots", "alice.ETH.cost_quote"} <= names
        assert z3.is_const(lifted.account("alice").more_positions[0].size_lots)


def test_a_story_of_two_markets_is_saved_and_read_back(tmp_path) -> None:
    """A finding's JSON holds the further markets and positions (and leaves them out for one market)."""
    from solvent.properties.findings import _converter, event_from_data, event_to_data

    b = opened(3_000)
    data = _converter.unstructure(b)
    assert data["more_markets"][0]["name"] == "ETH" and data["accounts"][0]["more_positions"] == [
        {"size_lots": 10, "cost_quote": 20_000}
    ]
    assert _converter.structure(data, Book) == b
    one = _converter.unstructure(new_book(mark_quote=5))
    assert "more_markets" not in one and "more_positions" not in one["accounts"][0]
    event = MarkPrice(1_800, market="ETH")
    assert event_from_data(event_to_data(event)) == event and "market" not in event_to_data(MarkPrice(5))
    assert Account("x").more_positions == ()


def test_a_book_unbalanced_in_its_second_market_is_not_well_formed_and_says_where() -> None:
    from solvent.rules.wellformed import reasons, well_formed

    b = opened(10_000)
    assert well_formed(POLICY, b) and reasons(POLICY, b) == []
    bob = b.account("bob")
    lopsided = b.replace_account(b.index("bob"), attrs.evolve(bob, more_positions=(Position(-9, -18_000),)))
    assert not well_formed(POLICY, lopsided)
    assert reasons(POLICY, lopsided) == ["open interest balanced (in ETH): Σ size 1 lots"]


def test_an_account_bankrupt_in_turn_is_closed_in_every_market() -> None:
    """Under a socialized loss with ``cascade`` (Drift), a payer left below zero is bankrupt in
    turn: like the sweep's liquidation, its positions in the other markets go into the book too
    (only the first market's was closed before)."""
    from solvent.rules.bankruptcy import _cascade
    from solvent.rules.ledger import Ctx
    from solvent.rules.waterfall import SocializedLoss

    policy = attrs.evolve(POLICY, deficit=(InsuranceFund(), SocializedLoss(cascade=True)))
    b = opened(-500)  # alice: 1 BTC and 10 ETH, equity below zero
    after = _cascade(policy, Ctx(b), ("bob",)).book
    assert sizes(after, "alice") == (0, 0) and sizes(after, "liquidity") == (1, 10)
    assert sum(a.cash_quote + a.spot_quote for a in after.accounts) == after.net_deposits_quote

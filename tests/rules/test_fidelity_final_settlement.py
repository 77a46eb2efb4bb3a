"""dYdX v4's final settlement (issue 15): a delisted market closes every position, an account below
zero at its bankruptcy price, every other one at the oracle price, and no liquidation runs
(``rules/final_settlement.py``; docs/venues.md#dydx-v4-deleveraging; v4-chain
protocol/x/clob/keeper/deleveraging.go ``CanDeleverageSubaccount``, clob_pair.go: in final
settlement "Only allow deleveraging events").

The worked examples are dYdX's own end-to-end tests (protocol/x/clob/e2e/liquidation_deleveraging_test.go),
at the ``dydx-v4`` preset's units (1 quantum = 0.000001 USDC, BTC in lots of 1e-8, so $50,000 a
BTC is 500 a lot). dYdX's subaccounts hold a USDC balance beside the position; the engine settles
to mark, so an account's cash here is its TNC at the mark.

- "Deleveraging occurs at bankruptcy price for negative TNC subaccount with open position in final
  settlement market": Carl short 1 BTC on $50,499, Dave long 1 BTC on $50,000, the oracle at
  $50,500 (Carl's TNC −$1). Carl ends with nothing, Dave with $50,000 + $50,499 and no position:
  Dave sold to Carl at Carl's bankruptcy price, $50,499.
- "Deleveraging occurs at oracle price for non-negative TNC subaccounts with open positions in
  final settlement market": Carl short 1 BTC on $100,000, Dave long 1 BTC on $50,000, the oracle at
  $50,000. Carl ends with $100,000 − $50,000, Dave with $50,000 + $50,000, both flat.
"""

from __future__ import annotations

import attrs

from solvent.properties import catalog
from solvent.rules import final_settlement
from solvent.rules.engine import step
from solvent.rules.events import FinalSettlement, MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.outcomes import AdlFill, Bankrupt, FinalSettled, LayerUsed, Liquidated, Residual
from solvent.rules.presets import load_preset
from tests.rules.test_fidelity_fund_bankruptcy import opened
from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught

DYDX = load_preset("dydx-v4")
BTC = 100_000_000  # lots of 1e-8 BTC
USD = 1_000_000  # quanta


def book(carl_usdc: int, fund: int = 0):
    """At $50,000 (500 a lot): Carl short 1 BTC on ``carl_usdc`` dollars of USDC, Dave long 1 BTC
    on $50,000 of USDC (each account's cash: its TNC at the mark); the fund ``fund``."""
    rows = (
        ("carl", -BTC, (carl_usdc - 50_000) * USD),
        ("dave", BTC, (50_000 + 50_000) * USD),
        ("insurance_fund", 0, fund),
    )
    return opened(500, ("carl", "dave"), rows)


def settled(carl_usdc: int, price: int, fund: int = 0):
    return step(DYDX, book(carl_usdc, fund), FinalSettlement(price))


class TestDydxFinalSettlement:
    def test_negative_tnc_at_the_bankruptcy_price(self) -> None:
        s = settled(50_499, 505)  # the oracle at $50,500
        carl, dave = s.after.account("carl"), s.after.account("dave")
        assert (carl.cash_quote, carl.size_lots) == (0, 0)
        assert (dave.cash_quote, dave.size_lots) == ((50_000 + 50_499) * USD, 0)
        assert Bankrupt("carl", USD) in s.outcomes
        assert [(o.winner, o.lots) for o in s.outcomes if isinstance(o, AdlFill) and o.lots] == [("dave", BTC)]
        assert [(o.layer, o.covered_quote) for o in s.outcomes if isinstance(o, LayerUsed)] == [("adl", USD)]

    def test_no_liquidation_and_the_fund_is_not_asked(self) -> None:
        """A market in final settlement refuses liquidation orders: with $1,000 in the fund Carl is
        still deleveraged; a mark move to the same price instead liquidates him and the fund pays."""
        s = settled(50_499, 505, fund=1_000 * USD)
        assert not any(isinstance(o, Liquidated) for o in s.outcomes)
        assert s.after.account("insurance_fund").cash_quote == 1_000 * USD
        moved = step(DYDX, book(50_499, fund=1_000 * USD), MarkPrice(505))
        assert any(isinstance(o, Liquidated) for o in moved.outcomes)
        assert moved.after.account("insurance_fund").cash_quote < 1_000 * USD

    def test_non_negative_tnc_at_the_oracle_price(self) -> None:
        s = settled(100_000, 500)
        carl, dave = s.after.account("carl"), s.after.account("dave")
        assert (carl.cash_quote, carl.size_lots) == ((100_000 - 50_000) * USD, 0)
        assert (dave.cash_quote, dave.size_lots) == ((50_000 + 50_000) * USD, 0)
        assert [o for o in s.outcomes if isinstance(o, FinalSettled)] == [FinalSettled("carl", "dave", BTC, 500)]
        assert [t for t in s.transfers if t.reason is not Reason.SETTLEMENT] == []  # at the mark: no cash

    def test_at_exactly_zero_it_is_closed_at_the_oracle_price(self) -> None:
        s = settled(50_500, 505)  # Carl's TNC exactly 0 at $50,500
        assert not any(isinstance(o, Bankrupt) for o in s.outcomes)
        assert [o.account for o in s.outcomes if isinstance(o, FinalSettled)] == ["carl"]
        assert (s.after.account("carl").cash_quote, s.after.account("dave").cash_quote) == (0, 100_500 * USD)

    def test_every_position_is_closed_and_the_claims_hold(self) -> None:
        ids = ("conservation", "open-interest-balance", "deficit-charged-once", "claims-backed", "no-negative-equity")
        for s in (settled(50_499, 505), settled(100_000, 500), settled(50_500, 505)):
            assert all(a.size_lots == 0 for a in s.after.accounts)
            assert all(catalog.get(i).holds(catalog.StepView.of(DYDX, s)) for i in ids)

    def test_what_no_one_can_take_is_a_residual(self) -> None:
        s = both_under()
        assert Residual("carl", USD) in s.outcomes
        assert [(o.bankrupt, o.winner) for o in s.outcomes if isinstance(o, AdlFill) and o.lots] == []
        assert all(a.size_lots == 0 for a in s.after.accounts)
        assert catalog.get("deficit-charged-once").holds(catalog.StepView.of(DYDX, s)) is True

    def test_each_counterparty_takes_what_is_left(self) -> None:
        closes = [(o.account, o.counterparty, o.lots) for o in spread().outcomes if isinstance(o, FinalSettled)]
        assert closes == [("carl", "dave", BTC // 2), ("carl", "liquidity", BTC // 2), ("erin", "liquidity", BTC)]

    def test_an_account_a_deleveraging_left_under_water_is_bankrupt_in_its_turn(self) -> None:
        s = pushed_under()
        assert [o.account for o in s.outcomes if isinstance(o, Bankrupt)] == ["c", "b"]
        assert all(a.size_lots == 0 for a in s.after.accounts)
        assert all(a.cash_quote >= 0 for a in s.after.traders)

    def test_a_counterparty_at_exactly_zero_takes_the_close(self) -> None:
        closes = [(o.account, o.counterparty) for o in counterparty_at_zero().outcomes if isinstance(o, FinalSettled)]
        assert closes == [("carl", "dave")]

    def test_a_position_a_pool_holds_is_closed_too(self) -> None:
        """Settled at 12,000 the vault (103,347,410) has lost 42,105 × 2,342 and the longs close
        against it; settled at 20,000 it is below zero and deleveraged first, at the previous mark."""
        s = vault_held(12_000)
        closes = [(o.account, o.counterparty, o.lots) for o in s.outcomes if isinstance(o, FinalSettled)]
        assert closes == [("alice", "backstop_vault", 30_000), ("bob", "backstop_vault", 12_105)]
        assert s.after.account("backstop_vault").cash_quote == 103_347_410 - 42_105 * 2_342
        assert all(a.size_lots == 0 for a in s.after.accounts)
        s = vault_held(20_000)
        assert Bankrupt("backstop_vault", 332_102_500) in s.outcomes
        assert not any(isinstance(o, FinalSettled) for o in s.outcomes)
        assert s.after.account("backstop_vault").cash_quote == 103_347_410
        assert all(a.size_lots == 0 for a in s.after.accounts)

    def test_the_book_takes_what_no_trader_holds(self) -> None:
        """Carl short 1 BTC on $100,000 against the book (Dave flat): closed against the book."""
        b = opened(500, ("carl", "dave"), (("carl", -BTC, 50_000 * USD), ("liquidity", BTC, 0)))
        s = step(DYDX, b, FinalSettlement(500))
        assert [o for o in s.outcomes if isinstance(o, FinalSettled)] == [FinalSettled("carl", "liquidity", BTC, 500)]


def both_under() -> object:
    """Carl short 1 BTC at −$1 and Dave long 1 BTC at −$1,500 after the move to $50,500: the
    overlap rule skips Dave, so Carl's position goes to the book at the oracle price with his
    deficit left; Dave, next, is deleveraged against the book, which now holds Carl's short."""
    rows = (("carl", -BTC, 499 * USD), ("dave", BTC, -2_000 * USD))
    return step(DYDX, opened(500, ("carl", "dave"), rows), FinalSettlement(505))


def spread() -> object:
    """Carl short 1 BTC, Dave long 0.5, Erin short 1, the book long 1.5, at $50,000: Carl closes
    0.5 against Dave and 0.5 against the book, Erin 1 against the book."""
    rows = (("carl", -BTC, 10_000 * USD), ("dave", BTC // 2, 10_000 * USD), ("erin", -BTC, 10_000 * USD))
    rows += (("liquidity", 3 * BTC // 2, 0),)
    return step(DYDX, opened(500, ("carl", "dave", "erin"), rows), FinalSettlement(500))


def pushed_under() -> object:
    """Without the overlap rule, at $49,500: A long 1 BTC on $10,000; B short 2 BTC at $50 after
    the move; C long 1 BTC at −$200. C is deleveraged against B, who pays $200 and is left at −$150
    short 1 BTC; A, next in the second pass, is not closed against B (under water) and waits; B,
    bankrupt in its turn, is deleveraged against A."""
    layers = tuple(attrs.evolve(x, overlap_only=False) if x.kind == "adl" else x for x in DYDX.deficit)
    policy = attrs.evolve(DYDX, deficit=layers)
    rows = (("a", BTC, 10_000 * USD), ("b", -2 * BTC, -950 * USD), ("c", BTC, 300 * USD))
    return step(policy, opened(500, ("a", "b", "c"), rows), FinalSettlement(495))


def counterparty_at_zero() -> object:
    """Carl short 1 BTC on $500 and Dave long 1 BTC at exactly $0 at $50,500: Dave, not under
    water, takes Carl's close."""
    rows = (("carl", -BTC, 1_000 * USD), ("dave", BTC, -500 * USD))
    return step(DYDX, opened(500, ("carl", "dave"), rows), FinalSettlement(505))


def vault_held(price: int) -> object:
    """Hyperliquid's JELLY book (tests/rules/test_fidelity_vault_adl.py): the vault holds the
    whale's short taken over at 9,658; the market is then settled at ``price``."""
    from tests.rules import test_fidelity_vault_adl as jelly

    held = step(jelly.HYPERLIQUID, jelly.book(), MarkPrice(9_658)).after
    return step(jelly.HYPERLIQUID, held, FinalSettlement(price))


def observe():
    """The boundaries: one quantum below zero, at zero, the oracle close, the fund not asked."""
    out = []
    for carl, price, fund in ((50_499, 505, 0), (50_500, 505, 0), (100_000, 500, 0), (50_499, 505, USD)):
        s = settled(carl, price, fund)
        out.append((tuple(s.after.accounts), tuple(s.outcomes)))
    for s in (both_under(), spread(), pushed_under(), counterparty_at_zero(), vault_held(12_000), vault_held(20_000)):
        out.append((tuple(s.after.accounts), tuple(s.outcomes)))
    return out


def test_every_mutant_of_final_settlement_is_caught(monkeypatch) -> None:
    # settle_final has no operator to swap: its two passes are the boundary cases above
    for name in ("_below_zero", "_bankrupt", "_close"):
        assert_every_mutant_is_caught(monkeypatch, final_settlement, name, observe, at_least=1)


def test_the_z3_transition_agrees() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "differential"))
    from tests.differential.test_engine_step import pinned_step_agrees

    for carl, price in ((50_499, 505), (100_000, 500), (50_500, 505)):
        got = pinned_step_agrees(DYDX, book(carl), FinalSettlement(price)).got
        assert all(a.size_lots == 0 for a in got.after.accounts)
    from tests.rules import test_fidelity_vault_adl as jelly

    held = step(jelly.HYPERLIQUID, jelly.book(), MarkPrice(9_658)).after
    for price in (12_000, 20_000):  # the vault closed against, and deleveraged first
        got = pinned_step_agrees(jelly.HYPERLIQUID, held, FinalSettlement(price)).got
        assert all(a.size_lots == 0 for a in got.after.accounts)
    assert attrs.has(FinalSettlement)


def test_a_saved_story_keeps_the_event_and_reports_tell_it(tmp_path) -> None:
    """A finding whose story ends in final settlement is saved and read back with the event, and
    the story reads it in the policy's money."""
    from solvent.properties import findings
    from solvent.properties.scenarios import Story
    from solvent.reports.money import Money
    from solvent.reports.story import describe_event

    story = Story(book(50_499), (FinalSettlement(505),))
    path = findings.save(findings.Finding(DYDX, "no-haircut", story, 0), tmp_path / "f.json")
    assert findings.load(path).story.events == (FinalSettlement(505),)
    text = describe_event(FinalSettlement(505), book(50_499), money=Money.of(DYDX))
    assert text.startswith("final settlement at ") and text.endswith(": every position closed")


class TestTheMarketAfterItsSettlement:
    """The decision (docs/venues.md#dydx-v4-final-settlement): no market status. v4-chain's only way
    out of STATUS_FINAL_SETTLEMENT is a re-listing (-> INITIALIZING -> ACTIVE), which starts flat as
    the settlement leaves the market; a mark move after it moves no cash, and a trade opens
    positions in the re-listed market, priced against the mark as any trade."""

    def test_a_mark_move_after_it_moves_nothing(self) -> None:
        after = settled(100_000, 500).after
        moved = step(DYDX, after, MarkPrice(250))
        assert moved.after.accounts == after.accounts
        assert [t for t in moved.transfers if t.amount_quote] == []

    def test_a_trade_after_it_opens_the_relisted_market(self) -> None:
        from solvent.rules.events import Taker, Trade

        after = settled(100_000, 500).after
        traded = step(DYDX, after, Trade("dave", "carl", BTC, 500, Taker.BUYER))
        sizes = {a.name: a.size_lots for a in traded.after.accounts if a.size_lots}
        assert sizes == {"dave": BTC, "carl": -BTC}

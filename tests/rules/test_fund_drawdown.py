"""The insurance fund's drawdown as an ADL trigger (OKX, docs/venues.md#okx-adl).

Amounts in the okx preset's quanta of 0.01 USDT ($1 = 100).
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules.book import Book, Role, new_book
from solvent.rules.engine import run
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.fund_drawdown import is_drawn_down, reference, sample, threshold
from solvent.rules.loading import PolicyError, loads_policy
from solvent.rules.outcomes import AdlFill, LayerUsed, Residual
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import AdlPrice

OKX = load_preset("okx")
RULE = OKX.adl.fund_drawdown  # 30% or $50K below the average of an 8-event window
USD = 100  # quanta per dollar


def _with_fund(book: Book, cash: int) -> Book:
    i = book.index("insurance_fund")
    return attrs.evolve(
        book.replace_account(i, attrs.evolve(book.accounts[i], cash_quote=cash)),
        net_deposits_quote=book.net_deposits_quote + cash,
    )


def _window(average: int, samples: int, fund: int) -> Book:
    """A book whose window so far has ``samples`` events averaging ``average``, the fund at ``fund``."""
    book = _with_fund(new_book(mark_quote=10_000), fund)
    return attrs.evolve(book, clock=samples - 1, insurance_window_sum_quote=average * samples)


class TestThreshold:
    def test_okx_worked_example(self) -> None:
        """OKX ADL page (§4): reserve $200K, 8-hour average $400K: threshold $400K − max(30%, $50K)
        = $280K, and $200K is below it, so ADL."""
        book = _window(400_000 * USD, 8, 200_000 * USD)
        assert reference(RULE, book) == 400_000 * USD
        assert threshold(RULE, book) == 280_000 * USD
        assert is_drawn_down(RULE, book) is True

    def test_the_50k_floor_when_30_percent_is_smaller(self) -> None:
        """Average $100K: 30% is $30K < $50K, so the threshold is $50K; $50K itself is not below it."""
        assert threshold(RULE, _window(100_000 * USD, 3, 0)) == 50_000 * USD
        assert is_drawn_down(RULE, _window(100_000 * USD, 3, 50_000 * USD)) is False
        assert is_drawn_down(RULE, _window(100_000 * USD, 3, 50_000 * USD - 1)) is True

    def test_average_rounds_down(self) -> None:
        """Samples 10, 10, 11: ⌊31 / 3⌋ = 10."""
        book = attrs.evolve(new_book(mark_quote=1), clock=2, insurance_window_sum_quote=31)
        assert reference(RULE, book) == 10

    def test_window_restarts_every_window_events(self) -> None:
        """At clock 8 (a window's first event) the sum restarts from the fund's balance; at 9 it adds."""
        book = _with_fund(new_book(mark_quote=1), 700)
        first = sample(RULE, attrs.evolve(book, clock=8, insurance_window_sum_quote=123_456))
        assert first.insurance_window_sum_quote == 700
        assert sample(RULE, attrs.evolve(first, clock=9)).insurance_window_sum_quote == 1_400


# A crash that bankrupts alice by $340K: long 7_000 lots at $100 with $10K, mark to $50.
OPEN = (
    Deposit("alice", 10_000 * USD),
    Deposit("bob", 1_000_000 * USD),
    Trade("alice", "bob", 7_000, 100 * USD),  # notional $700K, IM 1.33% = $9,310
)
CRASH = MarkPrice(50 * USD)  # alice: equity $10K − $350K = −$340K


def _crash(fund_usd: int, policy=OKX):
    """The book starts at a window's first event with the fund at ``fund_usd``; every event of the
    window samples the same balance, so the reference is the fund before the crash."""
    book = attrs.evolve(
        _with_fund(new_book(mark_quote=100 * USD, traders=("alice", "bob", "carol")), fund_usd * USD), clock=8
    )
    return run(policy, book, (*OPEN, CRASH))[-1]


class TestEngine:
    def test_fund_pays_then_drawdown_sends_the_position_to_the_winner_at_mark(self) -> None:
        """Fund $400K pays the $340K deficit and is left with $60K < $280K: ADL closes alice's 7_000
        lots against bob at mark (gap 0): bob loses the position, not money."""
        s = _crash(400_000)
        fund = s.after.role(Role.INSURANCE_FUND).cash_quote
        assert fund == 60_000 * USD
        fills = [o for o in s.outcomes if isinstance(o, AdlFill) and o.lots]
        assert [(o.winner, o.lots, o.gap_per_lot_quote) for o in fills] == [("bob", 7_000, 0)]
        assert s.after.account("bob").size_lots == 0 and s.after.account("liquidity").size_lots == 0
        assert not any(t.reason.name == "ADL" for t in s.transfers)  # no money moved by ADL

    def test_without_drawdown_the_book_takes_the_position(self) -> None:
        """Fund $2M pays $340K, $1.66M is above $1.4M: no ADL, the position goes to the book."""
        s = _crash(2_000_000)
        assert not any(isinstance(o, AdlFill) and o.lots for o in s.outcomes)
        assert s.after.account("liquidity").size_lots == 7_000 and s.after.account("bob").size_lots == -7_000

    def test_depleted_fund_closes_winners_at_the_bankruptcy_price(self) -> None:
        """Fund $200K pays $200K of $340K; ADL at the bankruptcy price after the fund: gap
        ⌈$140K / 7_000⌉ = $20 a lot, bob pays $140K, nothing is left unpaid."""
        s = _crash(200_000)
        fills = [o for o in s.outcomes if isinstance(o, AdlFill) and o.lots]
        assert [(o.winner, o.lots, o.gap_per_lot_quote) for o in fills] == [("bob", 7_000, 20 * USD)]
        assert [(o.layer, o.covered_quote) for o in s.outcomes if isinstance(o, LayerUsed)] == [
            ("insurance_fund", 200_000 * USD),
            ("adl", 140_000 * USD),
        ]
        assert not any(isinstance(o, Residual) for o in s.outcomes)

    def test_mark_price_adl_leaves_the_unpaid_part_as_residual(self) -> None:
        """With ``price = "mark"`` instead, the drawdown still hands the position to bob, and the
        $140K the fund could not pay stays on alice's account."""
        policy = attrs.evolve(OKX, deficit=(OKX.deficit[0], attrs.evolve(OKX.adl, price=AdlPrice.MARK)))
        s = _crash(200_000, policy)
        assert [o.amount_quote for o in s.outcomes if isinstance(o, Residual)] == [140_000 * USD]


class TestLoading:
    @pytest.mark.parametrize(
        ("table", "error"),
        [
            (
                "drawdown_ppm = 0\nwindow_events = 8",
                "'drawdown_ppm' must be >= 1: 0 @ $.deficit[0].fund_drawdown.drawdown_ppm (t.toml:9:16)",
            ),
            (
                "drawdown_ppm = 300000",
                "'window_events' is required (an integer number of events >= 1) @ $.deficit[0].fund_drawdown (t.toml:8:1)",
            ),
            (
                "drawdown_ppm = 300000\nwindow_events = 8\nmin_drawdown_quote = -1",
                "'min_drawdown_quote' must be >= 0: -1 @ $.deficit[0].fund_drawdown.min_drawdown_quote (t.toml:11:22)",
            ),
            (
                "drawdown_ppm = 300000\nwindow_events = 8\nwindow = 3",
                "unknown key 'window' (did you mean 'window_events'?) (allowed keys: drawdown_ppm, window_events, min_drawdown_quote) @ $.deficit[0].fund_drawdown.window (t.toml:11:1)",
            ),
            (
                "drawdown_ppm = 300000\nwindow_events = 8",
                "'fund_drawdown' needs price = 'bankruptcy' or 'mark': a drawdown may start ADL after the fund paid the whole deficit, and at the previous mark the winners would pay the move again: 'previous_mark' @ $.deficit[0].fund_drawdown (t.toml:9:1)",
            ),
        ],
        ids=["zero drawdown", "window missing", "negative floor", "unknown key", "previous mark"],
    )
    def test_errors_name_the_field(self, table: str, error: str) -> None:
        price = 'price = "previous_mark"\n' if "previous" in error else ""
        text = (
            'name = "t"\n[[margin.tiers]]\nfloor_notional_quote = 0\ninitial_ppm = 100000\nmaintenance_ppm = 50000\n[[deficit]]\nlayer = "adl"\n'
            + price
            + "[deficit.fund_drawdown]\n"
            + table
            + "\n"
        )
        with pytest.raises(PolicyError) as info:
            loads_policy(text, source="t.toml")
        assert info.value.errors == [error]

"""Isolated liquidation prices through the engine, against each venue's formula (docs/venues.md).

An isolated position's liquidation price depends on its own margin only: Binance's one-way formula
with the other contracts' terms zero and ``WB`` the isolated wallet (faq b3c689c1, "in isolated
mode"), Bybit's USDT isolated formula (Liquidation-Price-USDT-Contract, Example 1). Each test runs
the position as an isolated position of an account that also holds a large cross balance, finds
where the engine's trigger flips, and compares it with the formula; the same position in cross
margin is not liquidated there (its owner's whole balance backs it).
"""

from __future__ import annotations

from fractions import Fraction

import attrs
import pytest

from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.fees import FeeRule
from solvent.rules.liquidation_price import binance_liquidation_price, brackets_of, bybit_linear_liquidation_price
from solvent.rules.margin import MaintenanceBasis
from solvent.rules.outcomes import Liquidated
from solvent.rules.presets import load_preset

CROSS_CASH = 10**9  # the owner's cross balance: none of it backs the isolated position


def _book(*, margin: int, size: int, mark: int, isolated: bool) -> Book:
    """alice long ``size`` lots at ``mark`` with ``margin`` behind the position (isolated: its own
    margin, beside ``CROSS_CASH`` in her cross account; cross: both in her one account), bob short."""
    positions = (("alice", "PERP"),) if isolated else ()
    book = new_book(mark_quote=mark, traders=("alice", "bob"), isolated_positions=positions)
    holder = "alice:PERP" if isolated else "alice"
    fields = {
        holder: {"cash_quote": margin, "principal_quote": margin, "size_lots": size, "cost_quote": size * mark},
        "bob": {"cash_quote": 10**12, "principal_quote": 10**12, "size_lots": -size, "cost_quote": -size * mark},
    }
    fields.setdefault("alice", {})
    fields["alice"] = {**fields["alice"], "cash_quote": CROSS_CASH + (0 if isolated else margin)}
    fields["alice"]["principal_quote"] = fields["alice"]["cash_quote"]
    for name, values in fields.items():
        i = book.index(name)
        book = book.replace_account(i, attrs.evolve(book.accounts[i], **values))
    return attrs.evolve(book, net_deposits_quote=sum(a.cash_quote for a in book.accounts))


def _liquidated(policy, book: Book, mark: int) -> list[tuple[str, int, int]]:
    s = step(policy, book, MarkPrice(mark))
    assert s.after.account("alice").cash_quote >= CROSS_CASH  # the cross balance never pays
    return [(o.account, o.equity_quote, o.maintenance_quote) for o in s.outcomes if isinstance(o, Liquidated)]


class TestBinanceIsolated:
    """faq b3c689c1's 13 BTC long at 50,000 USDT with 65,000 USDT, as an isolated position: on the
    ``binance`` preset (0.01 USDT quanta, 0.001 BTC lots) 13,000 lots at 5,000 quanta with
    6,500,000 quanta of isolated margin. The formula, with TMM1 = UPNL1 = 0 and WB the isolated
    wallet, walks to tier 2 (MMR 0.5%, cum 50 USDT): LP = (65,000 + 50 − 650,000) / (13 × 0.005 − 13)
    = 45,222.26… USDT, 4,522.2… quanta a lot. Fees are left out (the formula has none)."""

    policy = attrs.evolve(load_preset("binance"), fees=FeeRule())
    wallet, size, entry = 6_500_000, 13_000, 5_000

    def test_the_formula_is_the_faqs(self) -> None:
        lp = binance_liquidation_price(self.wallet, self.size, self.entry, brackets_of(self.policy.margin))
        assert lp * 10 == Fraction(65_000 + 50 - 13 * 50_000, 13 * Fraction("0.005") - 13)

    def test_the_engine_liquidates_at_the_formulas_price(self) -> None:
        lp = binance_liquidation_price(self.wallet, self.size, self.entry, brackets_of(self.policy.margin))
        below = int(lp)  # 4,522: the first tick at or below LP
        book = _book(margin=self.wallet, size=self.size, mark=self.entry, isolated=True)
        assert [name for name, *_ in _liquidated(self.policy, book, below)] == ["alice:PERP"]
        assert _liquidated(self.policy, book, below + 1) == []

    def test_in_cross_the_same_position_is_not_liquidated_there(self) -> None:
        book = _book(margin=self.wallet, size=self.size, mark=self.entry, isolated=False)
        assert _liquidated(self.policy, book, int(binance_liquidation_price(
            self.wallet, self.size, self.entry, brackets_of(self.policy.margin)
        ))) == []  # fmt: skip


class TestBybitIsolated:
    """Bybit's Example 1 (1 BTC long at 20,000 USDT at 50x, MMR 0.5%: IM 400, MM 100, LP 19,700) as
    an isolated position on the ``bybit`` preset (maintenance on the entry value): 1,000 lots at
    2,000 quanta with 40,000 quanta of isolated margin. The engine liquidates at 1,970 with equity
    = maintenance = 10,000 (Bybit's "reaches 100%") and not at 1,971."""

    policy = load_preset("bybit")

    @pytest.mark.parametrize("side", [1, -1])
    def test_the_engine_liquidates_at_bybits_price(self, side: int) -> None:
        assert self.policy.margin.maintenance_basis is MaintenanceBasis.ENTRY
        lp = bybit_linear_liquidation_price(2_000, side * 1_000, 40_000, 10_000)
        assert lp == (1_970 if side > 0 else 2_030)
        book = _book(margin=40_000, size=side * 1_000, mark=2_000, isolated=True)
        assert _liquidated(self.policy, book, int(lp)) == [("alice:PERP", 10_000, 10_000)]
        assert _liquidated(self.policy, book, int(lp) + side) == []

    def test_the_loss_stops_at_the_position_margin(self) -> None:
        book = _book(margin=40_000, size=1_000, mark=2_000, isolated=True)
        s = step(self.policy, book, MarkPrice(1_800))  # far past the bankruptcy price 1,960
        assert s.after.account("alice").cash_quote == CROSS_CASH
        assert s.after.account("alice:PERP").size_lots == 0
        assert not [t for t in s.transfers if "alice" in (t.source, t.destination)]

    def test_in_cross_the_same_position_is_not_liquidated_there(self) -> None:
        book = _book(margin=40_000, size=1_000, mark=2_000, isolated=False)
        assert _liquidated(self.policy, book, 1_970) == []

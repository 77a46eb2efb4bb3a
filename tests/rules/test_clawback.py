"""The ``clawback`` layer (solvent.rules.clawback), called directly.

Trading profit made in the current window is taken back pro rata (solvent.rules.pro_rata; OKEx
2018: docs/venues.md#okex-clawback-2018):
    w = max(window PnL, 0) over every trader but the bankrupt one and the order book,
    R capped at W if cap_at_profit
A window is ``window_events`` events long; at the first event of each window but the first,
every account's window PnL starts again at 0 (``open_window``).
"""

from __future__ import annotations

import attrs

from solvent.rules.book import Book
from solvent.rules.clawback import claw_back, open_window
from solvent.rules.ledger import Ctx, Reason, Transfer
from solvent.rules.rounding import RoundingRule
from solvent.rules.waterfall import Clawback

WINDOW = {
    "bob": {"cash_quote": 800, "window_pnl_quote": 300},
    "carol": {"cash_quote": 600, "window_pnl_quote": -50},
}


def _claw_back(layer: Clawback, deficit: int, book: Book):
    """(paid, {name: cash after}, transfers) for alice's deficit."""
    ctx, paid = claw_back(Ctx(book), RoundingRule(), layer, "alice", deficit)
    return paid, {a.name: a.cash_quote for a in ctx.book.accounts if a.cash_quote != 0}, [e.item for e in ctx.entries]


class TestClawBack:
    def test_only_window_winners_pay_capped_at_their_window_profit(self, deficit_book) -> None:
        # weights: bob max(300, 0) = 300, carol max(−50, 0) = 0; R 500 capped at 300: bob pays 300
        paid, cash, _ = _claw_back(Clawback(), 500, deficit_book(500, **WINDOW))
        assert paid == 300 and cash == {"alice": -200, "bob": 500, "carol": 600}

    def test_uncapped_takes_the_whole_deficit(self, deficit_book) -> None:
        # cap_at_profit = false: bob pays all 500
        paid, cash, _ = _claw_back(Clawback(cap_at_profit=False), 500, deficit_book(500, **WINDOW))
        assert paid == 500 and cash == {"bob": 300, "carol": 600}

    def test_the_reason_names_the_layer(self, deficit_book) -> None:
        _, _, entries = _claw_back(Clawback(), 100, deficit_book(100, **WINDOW))
        assert entries == [Transfer("bob", "alice", 100, Reason.CLAWBACK)]


class TestOpenWindow:
    def _pnl(self, book: Book) -> dict[str, int]:
        return {a.name: a.window_pnl_quote for a in book.accounts if a.window_pnl_quote}

    def test_a_new_window_starts_every_window_events(self, deficit_book) -> None:
        # window 3: events 3, 6, ... open a window; event 0 does not (nothing to forget yet)
        layer = Clawback(window_events=3)
        book = deficit_book(0, **WINDOW)
        opened = {clock: self._pnl(open_window(layer, attrs.evolve(book, clock=clock))) for clock in range(7)}
        assert [clock for clock, pnl in opened.items() if not pnl] == [3, 6]
        assert opened[4] == {"bob": 300, "carol": -50}

    def test_without_a_clawback_layer_nothing_resets(self, deficit_book) -> None:
        book = attrs.evolve(deficit_book(0, **WINDOW), clock=3)
        assert open_window(None, book) is book

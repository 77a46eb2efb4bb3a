"""Fidelity (issue 15): percolator Gen B releases its reserve linearly (docs/venues.md#percolator-warm-up).

Spec v11.31 (§2.1 ``w_slope_i``, ``w_start_i``; §4.9; §6.3-6.5; §10.1 step 7): a touch first
releases ``min(R_i, w_slope_i × elapsed)`` of the reserve into matured profit
(``advance_profit_warmup``), then books the account's new PnL (``set_pnl``: a gain joins the
reserve, a loss takes it first); a reserve that grew restarts ``w_slope_i = max(1, ⌊R_i / T⌋)``
from the current slot (``restart_warmup_after_reserve_increase``), a release or a loss keeps it.
Solvent touches every account at every event and an event stands for a slot, so each event
releases ``min(R, w_slope)`` as it opens (``haircut_ratio.release_reserves``) and sets the slope
as it closes (``haircut_ratio.linear_slope``); the preset's ``T`` is the README's
``warmup_period_slots`` 100.

The worked example is percolator's kani harness ``proof_warmup_release_bounded_by_slope`` (50,000 of
PnL reserved on a deposit; released at most ``slope × elapsed``), run through the engine: alice
gains 50,000 on a move, so 500 matures an event and the last 500 at the 100th.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules import engine, haircut_ratio
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import Deposit, MarkPrice, Taker, Trade
from solvent.rules.loading import PolicyError, loads_policy
from solvent.rules.margin import equity
from solvent.rules.presets import load_preset, preset_path
from solvent.rules.waterfall import HaircutRatio, Release
from solvent.rules.wellformed import reasons
from tests.rules.test_fidelity_round_two import _evolve, assert_every_mutant_is_caught

GEN_B = load_preset("percolator-gen-b")


def released_at_window_end() -> object:
    """The preset with the reserve maturing whole at each window's last event (the rule before)."""
    layers = tuple(
        attrs.evolve(x, release=Release.WINDOW_END) if isinstance(x, HaircutRatio) else x for x in GEN_B.deficit
    )
    return attrs.evolve(GEN_B, deficit=layers)


def opened(lots: int, policy=GEN_B) -> Book:
    """alice buys ``lots`` from bob at 1,000, each on a deposit of 1,000,000 (a fee of 0.1%)."""
    book = new_book(mark_quote=1_000, traders=("alice", "bob"))
    for event in (
        Deposit("liquidity", 10**9),
        Deposit("alice", 1_000_000),
        Deposit("bob", 1_000_000),
        Trade("alice", "bob", lots, 1_000, Taker.BUYER),
    ):
        book = step(policy, book, event).after
    return book


def quiet(book: Book, events: int, policy=GEN_B) -> Book:
    """``events`` events that move nobody's PnL (a quantum into the insurance fund each)."""
    for _ in range(events):
        book = step(policy, book, Deposit("insurance_fund", 1)).after
    return book


def book_short() -> Book:
    """The order book (the rest of the market) short 100 lots at 1,000 against alice's long, each
    on deposits only; the mark then falls to 500, a gain of 50,000 for the book."""
    book = _evolve(
        new_book(mark_quote=1_000, traders=("alice", "bob")),
        alice={"cash_quote": 1_000_000, "principal_quote": 1_000_000, "size_lots": 100, "cost_quote": 100_000},
        liquidity={"cash_quote": 10**9, "principal_quote": 10**9, "size_lots": -100, "cost_quote": -100_000},
    )
    return step(GEN_B, book, MarkPrice(500)).after


def reserve(book: Book, name: str = "alice") -> tuple[int, int, int]:
    """(reserve, slope, matured profit) of ``name``: matured profit is equity less capital and reserve."""
    a = book.account(name)
    return a.window_pnl_quote, a.reserve_slope_quote, equity(GEN_B.margin, a) - a.principal_quote


def worked(policy=GEN_B) -> Book:
    """The harness's 50,000: alice long 100 lots, the mark 1,000 → 1,500."""
    return step(policy, opened(100, policy), MarkPrice(1_500)).after


class TestTheHarnessExample:
    def test_the_preset_declares_it(self) -> None:
        assert GEN_B.layer(HaircutRatio).release is Release.LINEAR
        assert GEN_B.waterfall_summary().endswith("matured profit only, released linearly)")  # solvent presets
        assert load_preset("percolator-gen-a").layer(HaircutRatio).release is Release.LINEAR  # Gen A vests linearly too

    def test_the_gain_is_reserved_with_a_slope_of_a_hundredth(self) -> None:
        assert reserve(worked()) == (50_000, 500, 0)  # max(1, ⌊50,000 / 100⌋)

    def test_a_slope_matures_each_event(self) -> None:
        assert reserve(quiet(worked(), 1)) == (49_500, 500, 500)
        assert reserve(quiet(worked(), 99)) == (500, 500, 49_500)

    def test_the_last_slope_at_the_hundredth_event_and_no_slope_after(self) -> None:
        assert reserve(quiet(worked(), 100)) == (0, 0, 50_000)
        assert reserve(quiet(worked(), 101)) == (0, 0, 50_000)

    def test_the_order_books_reserve_matures_too(self) -> None:
        # the book (the rest of the market) keeps capital and reserve as a trader does
        book = book_short()
        assert reserve(book, "liquidity")[:2] == (50_000, 500)
        assert reserve(quiet(book, 1), "liquidity")[:2] == (49_500, 500)

    def test_no_money_moves(self) -> None:
        before, after = worked(), quiet(worked(), 1)
        assert after.account("alice").cash_quote == before.account("alice").cash_quote
        assert after.account("alice").principal_quote == before.account("alice").principal_quote - 500

    def test_at_the_window_end_it_all_matured_at_once(self) -> None:
        window = released_at_window_end()
        book = worked(window)
        ends = window.layer(HaircutRatio).warmup_events - 1 - book.clock % 100  # events before the window's last
        assert reserve(quiet(book, ends, window))[0] == 50_000
        assert reserve(quiet(book, ends + 1, window))[0] == 0


class TestTheSlope:
    @pytest.mark.parametrize(("gain", "slope"), [(99, 1), (100, 1), (199, 1), (200, 2)])
    def test_max_one_and_the_floor_of_a_hundredth(self, gain: int, slope: int) -> None:
        book = step(GEN_B, opened(1), MarkPrice(1_000 + gain)).after
        assert reserve(book)[:2] == (gain, slope)
        assert reserve(quiet(book, 1))[:2] == (gain - slope, slope)

    def test_a_gain_restarts_the_slope_on_the_whole_reserve(self) -> None:
        # after 30 events 35,000 is left at 500 an event; the move's event releases 500 more as it
        # opens, then its 1,000 makes 35,500, paced over 100 events from now (§6.4: new profit gets
        # none of the old maturity), not 500 an event
        book = step(GEN_B, quiet(worked(), 30), MarkPrice(1_510)).after
        assert reserve(book)[:2] == (35_500, 355)

    def test_a_loss_takes_the_reserve_and_keeps_the_slope(self) -> None:
        book = step(GEN_B, quiet(worked(), 30), MarkPrice(1_450)).after  # 500 released, then −5,000
        assert reserve(book)[:2] == (29_500, 500)
        assert reserve(quiet(book, 1))[:2] == (29_000, 500)

    def test_a_loss_beyond_the_reserve_leaves_no_slope(self) -> None:
        book = step(GEN_B, quiet(worked(), 30), MarkPrice(1_000)).after  # −50,000 on 35,000 reserved
        assert reserve(book)[:2] == (0, 0)


class TestWellFormed:
    def test_a_reserve_without_a_slope_is_not_a_book_gen_b_reaches(self) -> None:
        book = worked()
        i = book.index("alice")
        no_slope = book.replace_account(i, attrs.evolve(book.accounts[i], reserve_slope_quote=0))
        assert not any("reserve has a slope" in r for r in reasons(GEN_B, book, margin=None))
        assert any(r.startswith("a reserve has a slope, and only a reserve: alice") for r in reasons(GEN_B, no_slope))
        assert not any("reserve has a slope" in r for r in reasons(released_at_window_end(), no_slope))

    def test_linear_needs_a_warmup_and_settled_losses(self) -> None:
        with pytest.raises(ValueError, match="release = 'linear' needs warmup_events and losses_settle_capital"):
            HaircutRatio(losses_settle_capital=True, release=Release.LINEAR)
        with pytest.raises(ValueError, match="release = 'linear' needs warmup_events and losses_settle_capital"):
            HaircutRatio(warmup_events=100, release=Release.LINEAR)

    def test_a_policy_file_names_the_field(self) -> None:
        text = preset_path("percolator-gen-b").read_text().replace('release = "linear"', 'release = "lineal"')
        with pytest.raises(PolicyError) as caught:
            loads_policy(text, source="venue.toml")
        assert "release" in str(caught.value) and "linear" in str(caught.value) and "venue.toml" in str(caught.value)


def observe() -> list:
    out = [reserve(worked()), reserve(quiet(worked(), 1)), reserve(quiet(worked(), 100))]
    for gain in (99, 199, 200):
        out.append(reserve(quiet(step(GEN_B, opened(1), MarkPrice(1_000 + gain)).after, 1)))
    for mark in (1_510, 1_450, 1_000):
        out.append(reserve(quiet(step(GEN_B, quiet(worked(), 30), MarkPrice(mark)).after, 1)))
    out.append(reserve(quiet(book_short(), 1), "liquidity"))
    return out


@pytest.mark.parametrize(("name", "importers"), [("release_reserves", (engine,)), ("linear_slope", ())])
def test_every_mutant_of_the_release_is_caught(monkeypatch, name: str, importers: tuple) -> None:
    assert_every_mutant_is_caught(monkeypatch, haircut_ratio, name, observe, at_least=3, importers=importers)

"""Fidelity, round two (issue 15): percolator, one preset per generation (docs/venues.md#percolator).
Each mechanism is a worked example run through the engine (``rules.engine.step``/``run``) at its
boundary, and every one-token mutant of its rule changes a case.

- Gen A (spec v7 §3.2): one haircut ratio over all positive PnL, the insurance fund senior. The
  README's stressed example, "Residual = 50, PNL_pos_tot = 200 → h = 0.25": every profit keeps a
  quarter of its face.
- The warm-up window (spec v7 §5-6, v11.31 §6; ``haircut_ratio.warmup_events``): profit is junior
  until its window's last event, then capital (Gen A) or matured (Gen B).
- Gen B (spec v11.31 §3.2-3.5, §4.4, §7.4; ``haircut_ratio.matured_only``): the haircut reaches
  matured profit only; fresh profit is reserved, a loss takes the reserve first, and a flat
  account's matured profit converts into capital.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules import haircut_ratio
from solvent.rules.book import Book, new_book
from solvent.rules.engine import run, step
from solvent.rules.events import MarkPrice
from solvent.rules.outcomes import LayerUsed
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import Clawback, HaircutRatio, Release, check_layers
from tests.rules.test_fidelity_round_two import _evolve, assert_every_mutant_is_caught


def _with(name: str, **fields) -> object:
    """The preset ``name`` with its haircut layer's fields changed."""
    policy = load_preset(name)
    layers = tuple(attrs.evolve(x, **fields) if isinstance(x, HaircutRatio) else x for x in policy.deficit)
    return attrs.evolve(policy, deficit=layers)


def gen_b_haircut():
    """Gen B's waterfall as it runs when no opposing position is left (spec v11.31 §5.6 steps 4-5:
    what the fund leaves is an uninsured loss that ``h`` carries): the preset without its per-lot
    charge of the opposing side (tests/rules/test_fidelity_percolator_side_index.py), so a book
    whose opposing side that charge would reach shows the matured-profit haircut."""
    policy = load_preset("percolator-gen-b")
    return attrs.evolve(policy, deficit=tuple(x for x in policy.deficit if x.kind != "socialized_loss"))


def _haircuts(s) -> dict[str, int]:
    return {t.source: t.amount_quote for t in s.transfers if t.reason.value == "profit haircut"}


def _state(book: Book) -> list[tuple]:
    return [(a.name, a.cash_quote, a.principal_quote, a.window_pnl_quote) for a in book.accounts]


def stressed_book(
    *, bob_reserve: int = 0, junior: bool = False, dave_cash: int = 50, fund: int = 1_000, clock: int = 0
) -> Book:
    """Mark 100. alice long 8 with 160 of matured profit (cash 1,160 on capital 1,000); bob long 2
    on capital 1,000, with ``bob_reserve`` of profit still warming up (Gen B keeps it as principal
    = capital + reserve and window PnL = reserve, released at a slope of max(1, ⌊R / 100⌋) an
    event under the preset's linear release: 1 for 40; with ``junior``, the same profit on capital
    1,000, as Gen A counts it); dave short 10 on ``dave_cash`` (50: at his maintenance, 5%). The
    insurance fund holds ``fund``."""
    reserved = 0 if junior else bob_reserve
    book = _evolve(
        new_book(mark_quote=100, traders=("alice", "bob", "dave")),
        alice={"cash_quote": 1_160, "principal_quote": 1_000, "size_lots": 8, "cost_quote": 800},
        bob={"cash_quote": 1_000 + bob_reserve, "principal_quote": 1_000 + reserved, "window_pnl_quote": reserved,
             "reserve_slope_quote": max(1, reserved // 100) if reserved else 0, "size_lots": 2, "cost_quote": 200},
        dave={"cash_quote": dave_cash, "principal_quote": dave_cash, "size_lots": -10, "cost_quote": -1_000},
        insurance_fund={"cash_quote": fund},
    )  # fmt: skip
    return attrs.evolve(book, clock=clock)


class TestGenerationA:
    """The mark rises 100 → 120: alice gains 160, bob 40, dave loses 200 on 50 and is closed at the
    oracle, bankrupt by 150. alice's earlier 160 has vested (capital 1,160), so PNL_pos_tot = 160 +
    40 = 200, Residual = 200 − 150 = 50 and h = 0.25 (the README's stressed example): alice keeps 40
    of 160, bob 10 of 40, and the fund (spec v7 §3.1: senior) pays nothing though it holds 1,000."""

    def book(self, **kw) -> Book:
        book = stressed_book(**kw)
        i = book.index("alice")
        return book.replace_account(i, attrs.evolve(book.accounts[i], principal_quote=1_160))

    def test_h_is_a_quarter(self) -> None:
        s = step(load_preset("percolator-gen-a"), self.book(), MarkPrice(120))
        assert _haircuts(s) == {"alice": 120, "bob": 30}  # 160 × 0.75, 40 × 0.75
        after = s.after
        assert after.account("alice").cash_quote - after.account("alice").principal_quote == 40
        assert after.account("bob").cash_quote - after.account("bob").principal_quote == 10
        assert after.account("insurance_fund").cash_quote == 1_000  # dave had nothing left for a penalty
        assert [o.layer for o in s.outcomes if isinstance(o, LayerUsed)] == ["haircut_ratio"]

    def test_percolator_is_gen_a(self) -> None:
        assert _state(step(load_preset("percolator"), self.book(), MarkPrice(120)).after) == _state(
            step(load_preset("percolator-gen-a"), self.book(), MarkPrice(120)).after
        )


class TestWarmupWindow:
    """Gen A with its window vesting at once (``release = "window_end"``; the preset vests linearly,
    tests/rules/test_fidelity_percolator_gen_a_vesting.py) and a window of 2 events: alice's 160 of junior profit vests into capital at the end
    of the window's last event (clock 1), not before (clock 0), and a window of 3 has not ended."""

    @pytest.mark.parametrize(
        ("warmup", "clock", "vested"), [(2, 1, True), (2, 0, False), (3, 1, False), (3, 2, True), (1, 0, True)]
    )
    def test_profit_vests_at_the_windows_last_event(self, warmup: int, clock: int, vested: bool) -> None:
        s = step(
            _with("percolator-gen-a", release=Release.WINDOW_END, warmup_events=warmup),
            stressed_book(clock=clock),
            MarkPrice(100),
        )
        assert s.after.account("alice").principal_quote == (1_160 if vested else 1_000)
        dave = s.after.account("dave")  # at his maintenance, liquidated (spec v7 §9.2: <=), the penalty paid
        assert dave.principal_quote == dave.cash_quote == 45  # a loss settles into capital

    def test_a_vested_profit_is_capital_the_haircut_cannot_reach(self) -> None:
        # dave on 51, above his maintenance until the gap: bankrupt by 149 at clock 2
        events = [MarkPrice(100), MarkPrice(100), MarkPrice(120)]
        steps = run(
            _with("percolator-gen-a", release=Release.WINDOW_END, warmup_events=2), stressed_book(dave_cash=51), events
        )
        # alice's 160 vested at clock 1; the bankruptcy finds 200 of junior profit: ⌊149 × 160/200⌋ = 119
        # and ⌊149 × 40/200⌋ = 29, the remainder 1 to alice, the first payer with a fraction (exact_in_order)
        assert _haircuts(steps[-1]) == {"alice": 120, "bob": 29}
        unvested = run(
            _with("percolator-gen-a", release=Release.WINDOW_END, warmup_events=3), stressed_book(dave_cash=51), events
        )
        assert _haircuts(unvested[-1]) == {"alice": 133, "bob": 16}  # 149 over 320 and 40: 132 + 16, alice the 1 left

    def test_without_a_window_profit_never_vests(self) -> None:
        steps = run(
            _with("percolator-gen-a", release=Release.WINDOW_END, warmup_events=None),
            stressed_book(),
            [MarkPrice(100)] * 3,
        )
        assert steps[-1].after.account("alice").principal_quote == 1_000


class TestGenerationB:
    """The same move on Gen B with an empty fund: bob's 40 of profit from earlier events is still
    warming up (reserved), alice's 160 has matured. h reaches matured profit only (spec v11.31
    §3.3), and the profit the move itself makes is charged as matured (the reserve is booked at
    the event's end): alice's 160 + 160 and bob's 40 from the move, with the 1 his reserve's slope
    releases as the event opens (spec v11.31 §4.9), pay the 150; the 39 still reserved does not.
    Gen A's rule would weigh bob's whole reserve too."""

    def run(self, **kw):
        return step(gen_b_haircut(), stressed_book(bob_reserve=40, fund=0, **kw), MarkPrice(120))

    def test_the_reserve_is_out_of_reach(self) -> None:
        assert _haircuts(self.run()) == {"alice": 133, "bob": 18}  # ⌈150 × 320/361⌉, ⌈150 × 41/361⌉
        gen_a = step(load_preset("percolator-gen-a"), stressed_book(bob_reserve=40, junior=True), MarkPrice(120))
        assert _haircuts(gen_a) == {"alice": 120, "bob": 30}  # Gen A: over 320 and 80

    def test_fresh_profit_is_reserved_at_the_events_end(self) -> None:
        after = self.run().after
        # bob: 40 − 1 released + 40 fresh; the 18 charged leaves 62 of profit, all of it reserved
        assert (after.account("bob").principal_quote, after.account("bob").window_pnl_quote) == (1_062, 62)
        # alice: 160 fresh reserved; 187 − 160 = 27 of matured profit left
        alice = after.account("alice")
        assert (alice.cash_quote, alice.principal_quote, alice.window_pnl_quote) == (1_187, 1_160, 160)

    def test_the_fund_pays_first(self) -> None:
        s = step(load_preset("percolator-gen-b"), stressed_book(bob_reserve=40, fund=100), MarkPrice(120))
        assert [(o.layer, o.covered_quote) for o in s.outcomes if isinstance(o, LayerUsed)] == [
            ("insurance_fund", 100),
            ("socialized_loss", 50),  # the opposing longs, per lot (side index); nothing left for h
        ]
        s = step(gen_b_haircut(), stressed_book(bob_reserve=40, fund=100), MarkPrice(120))
        assert [(o.layer, o.covered_quote) for o in s.outcomes if isinstance(o, LayerUsed)] == [
            ("insurance_fund", 100),
            ("haircut_ratio", 50),
        ]

    @pytest.mark.parametrize(("mark", "reserve", "capital"), [(90, 19, 1_000), (80, 0, 1_000), (70, 0, 980)])
    def test_a_loss_takes_the_reserve_first(self, mark: int, reserve: int, capital: int) -> None:
        # bob (long 2, reserve 40 on capital 1,000, 1 of it released as the event opens) loses 20,
        # 40 or 60: the reserve goes first, then the loss settles into capital (spec v11.31 §4.4
        # set_pnl, §7.1)
        after = step(load_preset("percolator-gen-b"), stressed_book(bob_reserve=40), MarkPrice(mark)).after
        bob = after.account("bob")
        assert (bob.principal_quote - bob.window_pnl_quote, bob.window_pnl_quote) == (capital, reserve)

    def test_the_reserve_matures_at_the_windows_end(self) -> None:
        policy = _with("percolator-gen-b", warmup_events=2, release=Release.WINDOW_END)
        for clock, reserve in ((0, 40), (1, 0)):
            b = stressed_book(bob_reserve=40, clock=clock, dave_cash=51)  # dave above maintenance
            bob = step(policy, b, MarkPrice(100)).after.account("bob")
            assert (bob.principal_quote, bob.window_pnl_quote) == (1_000 + reserve, reserve)

    def test_liquidated_at_exactly_maintenance(self) -> None:
        # spec v11.31 §9.3: liquidatable when Eq_net <= MM_req; dave on 50 is at his 5% of 1,000
        # (MM_req floored, §9.1), on 51 one quantum above it
        policy = load_preset("percolator-gen-b")
        at = step(policy, stressed_book(), MarkPrice(100))
        assert [o.account for o in at.outcomes if type(o).__name__ == "Liquidated"] == ["dave"]
        assert {a.name: a.size_lots for a in at.after.accounts if a.size_lots} == {}  # the longs shrank by his 10
        above = step(policy, stressed_book(dave_cash=51), MarkPrice(100))
        assert not [o for o in above.outcomes if type(o).__name__ == "Liquidated"]

    def test_a_flat_accounts_matured_profit_converts(self) -> None:
        book = stressed_book(dave_cash=51)  # dave above maintenance: nobody is liquidated
        i = book.index("alice")
        flat = book.replace_account(i, attrs.evolve(book.accounts[i], size_lots=0, cost_quote=0))
        policy = load_preset("percolator-gen-b")
        assert step(policy, flat, MarkPrice(100)).after.account("alice").principal_quote == 1_160  # §7.4
        assert step(policy, book, MarkPrice(100)).after.account("alice").principal_quote == 1_000  # open: junior

    def test_a_flat_account_holding_matured_profit_is_a_book_gen_b_never_reaches(self) -> None:
        """Every event converts a flat account's matured profit (above), so a well-formed starting
        book for Gen B has a flat account's principal at its equity (the z3 story that broke
        flat-accounts-never-pay started from one that did not); one quantum of matured profit
        left unconverted is not well formed, and the book after any event is."""
        from solvent.rules.wellformed import reasons

        policy = load_preset("percolator-gen-b")
        book = stressed_book()
        i = book.index("alice")
        alice = attrs.evolve(book.accounts[i], size_lots=0, cost_quote=0, principal_quote=1_160)
        converted = book.replace_account(i, alice)
        assert not any("matured profit is capital" in r for r in reasons(policy, converted))
        unconverted = book.replace_account(i, attrs.evolve(alice, principal_quote=1_159))
        assert any(
            r.startswith("a flat account's matured profit is capital (principal equals equity): alice")
            for r in reasons(policy, unconverted)
        )
        after = step(policy, unconverted, MarkPrice(100)).after
        assert not any("matured profit is capital" in r for r in reasons(policy, after))
        assert not any("matured profit" in r for r in reasons(load_preset("percolator-gen-a"), unconverted))

    def test_a_clawback_cannot_share_the_window_pnl(self) -> None:
        layer = HaircutRatio(losses_settle_capital=True, warmup_events=2, matured_only=True)
        with pytest.raises(ValueError, match="cannot share a waterfall with 'clawback'"):
            check_layers((layer, Clawback()))
        with pytest.raises(ValueError, match="needs warmup_events and losses_settle_capital"):
            HaircutRatio(losses_settle_capital=False, warmup_events=2, matured_only=True)


def _observe() -> list:
    gen_a, gen_b = load_preset("percolator-gen-a"), load_preset("percolator-gen-b")
    window_a = _with("percolator-gen-a", release=Release.WINDOW_END, warmup_events=2)
    window_b = _with("percolator-gen-b", warmup_events=2, release=Release.WINDOW_END)
    runs = [
        step(gen_a, TestGenerationA().book(), MarkPrice(120)),
        step(window_a, stressed_book(clock=1), MarkPrice(100)),
        step(window_a, stressed_book(clock=0), MarkPrice(100)),
        step(gen_b_haircut(), stressed_book(bob_reserve=40, fund=0), MarkPrice(120)),
        step(window_b, stressed_book(bob_reserve=40, clock=1), MarkPrice(100)),
        step(window_b, stressed_book(bob_reserve=40, clock=0), MarkPrice(100)),
        *(step(gen_b, stressed_book(bob_reserve=40), MarkPrice(m)) for m in (90, 80, 70, 110)),
    ]
    book = stressed_book(bob_reserve=40)
    i = book.index("alice")
    flat = book.replace_account(i, attrs.evolve(book.accounts[i], size_lots=0, cost_quote=0))
    runs.append(step(gen_b, flat, MarkPrice(100)))
    i = book.index("bob")  # bob flat with his reserve: it stays reserved, nothing matured converts
    runs.append(
        step(gen_b, book.replace_account(i, attrs.evolve(book.accounts[i], size_lots=0, cost_quote=0)), MarkPrice(100))
    )
    runs.append(
        step(
            _with("percolator-gen-a", release=Release.WINDOW_END, warmup_events=None),
            stressed_book(clock=1),
            MarkPrice(100),
        )
    )
    runs.append(
        step(
            _with("percolator-gen-a", release=Release.WINDOW_END, warmup_events=3),
            stressed_book(clock=2),
            MarkPrice(100),
        )
    )
    return [_state(r.after) for r in runs]


@pytest.mark.parametrize("name", ["vest", "window_ends", "settle_reserves", "step_pnl"])
def test_every_mutant_of_the_warmup_is_caught(monkeypatch, name: str) -> None:
    assert_every_mutant_is_caught(monkeypatch, haircut_ratio, name, _observe, at_least=1)

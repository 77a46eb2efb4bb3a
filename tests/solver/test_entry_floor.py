"""Bybit's fee-to-close floor from maintenance on the entry value (``solver.entry_floor``;
docs/solver-notes.md#bybit-at-k--3-and-n--8-session-21).

A long that is not liquidatable and whose cash at its entry prices (``ρ = cash − (S·M − cost)``) is
at least zero holds its fee to close (z3, exact, on ``wellformed.covers_margin``); a short does not.
The one-sided premise this gives is the route for Bybit's per-trader claims at K > 1.
"""

from __future__ import annotations

import functools

import pytest

from solvent.rules.presets import resolve_policy
from solvent.rules.wellformed import StartMargin, conditions, covers_margin
from solvent.solver import entry_floor
from solvent.solver.bounds import Bounds
from solvent.solver.compositional import _Checker, _Failed
from tests.solver.test_induction import _bybit_two_moves

UNITS = 10_000_000


def _valid():
    return functools.partial(_Checker(Bounds(effort=UNITS)).valid, exact=True)


def test_a_long_not_liquidatable_with_its_entry_cash_holds_its_fee_to_close_on_bybit() -> None:
    assert entry_floor.floor_lemma(resolve_policy("bybit"), _valid(), "long")


def test_a_short_does_not_on_bybit() -> None:
    """The asymmetry: a short's PnL runs against it as the mark rises, so ρ ≥ 0 does not bound its
    cash against its notional at the mark."""
    with pytest.raises(_Failed, match="z3 found a model"):
        entry_floor.floor_lemma(resolve_policy("bybit"), _valid(), "short")


def test_the_long_lemma_at_its_boundary() -> None:
    """ρ may fall to −8 × cost and the floor still holds (maintenance 0.5% of the entry value against
    550 ppm of the notional: the boundary is 8.08); at −9 × cost z3 finds a long below it."""
    bybit = resolve_policy("bybit")
    assert entry_floor.floor_lemma(bybit, _valid(), "long", slack=8)
    with pytest.raises(_Failed, match="z3 found a model"):
        entry_floor.floor_lemma(bybit, _valid(), "long", slack=9)


def test_without_a_fee_to_close_both_sides_hold_on_binance() -> None:
    """Binance's bankruptcy price includes no fee: the floor is worth ≥ 0, which maintenance gives
    either side. The asymmetry is Bybit's fee to close at the mark against maintenance at entry."""
    binance = resolve_policy("binance")
    for side in entry_floor.SIDES:
        assert entry_floor.floor_lemma(binance, _valid(), side)


def test_a_mutated_floor_check_is_caught(monkeypatch) -> None:
    """The floor one quantum stronger (``v × 10⁶ ≥ f × |S| × M + 1``) is not implied at ρ ≥ 0 with
    slack: a lemma that cannot fail would pass this too."""
    real = covers_margin

    def stronger(policy, account, mark, margin, others=(), assets=()):
        held = real(policy, account, mark, margin, others, assets)
        if margin is StartMargin.SOLVENT:
            return held if isinstance(held, bool) else held & (account.cash_quote * 1_000_000 >= 550 * mark * 10**9)
        return held

    monkeypatch.setattr(entry_floor, "covers_margin", stronger)
    with pytest.raises(_Failed, match="z3 found a model"):
        entry_floor.floor_lemma(resolve_policy("bybit"), _valid(), "long")


def test_settlement_keeps_the_entry_cash_and_the_short_loses_its_floor_on_the_engine() -> None:
    """On the concrete engine (session 20's two-move book): the first move (1 → 10,000) liquidates
    nobody, and each trader's ρ is what it was; bob (short) then sits under his fee to close, alice
    (long) holds hers, as the lemma says of each side."""
    bybit = resolve_policy("bybit")
    start, first, _, _ = _bybit_two_moves()
    for name in ("alice", "bob"):
        before, after = start.account(name), first.account(name)
        assert after.size_lots == before.size_lots
        assert entry_floor.entry_cash(after, first.market.mark_quote) == entry_floor.entry_cash(
            before, start.market.mark_quote
        )
    alice, bob = first.account("alice"), first.account("bob")
    mark = first.market.mark_quote
    assert entry_floor.entry_cash(alice, mark) >= 0 and covers_margin(bybit, alice, mark, StartMargin.MAINTENANCE)
    assert covers_margin(bybit, alice, mark, StartMargin.SOLVENT)
    assert covers_margin(bybit, bob, mark, StartMargin.MAINTENANCE)
    assert not covers_margin(bybit, bob, mark, StartMargin.SOLVENT)
    assert [c.name for c in conditions(bybit, first, margin=StartMargin.SOLVENT) if not c.holds]


def test_an_unknown_side_is_refused() -> None:
    with pytest.raises(ValueError, match="side must be one of long, short"):
        entry_floor.floor_question(resolve_policy("bybit"), "flat")


@pytest.mark.parametrize("pair", ["payer-floor", "per-lot"])
def test_a_payer_charged_by_a_bankrupt_account_below_its_floor_needs_more_than_these(pair: str) -> None:
    """On the engine's ``resolve`` (Bybit, two traders, every number free): a bankrupt account worth
    at least zero and not liquidatable at the previous mark but below its own floor charges the
    payer its fee per lot beyond the move, and the price's tick beside it. The payer's own floor
    does not cover that (z3's model); nor do the two worths per lot against the fee per lot without
    the tick (a model at the boundary: the long's price rounded up to the tick).

    Asked with the bankrupt account long (a model there is a model of the question for either
    side): z3 finds it within 773,393 units (payer-floor) and 117,433 (per-lot), where the question
    for either side took 4,849,980 and 489,774 (session 28)."""
    with pytest.raises(_Failed, match="z3 found a model"):
        entry_floor.cross_charge_lemma(resolve_policy("bybit"), _valid(), pair, "long")


def test_an_unknown_pair_is_refused() -> None:
    with pytest.raises(ValueError, match="pair must be one of"):
        entry_floor.cross_charge_question(resolve_policy("bybit"), "none")


@pytest.mark.parametrize("side", entry_floor.SIDES)
def test_the_pairs_worths_with_a_tick_a_lot_pay_the_charge(side: str) -> None:
    """The pair premise with each side's worse factor and a tick a lot is enough on the engine's
    ``resolve``, for either side of the bankrupt account (z3, exact; a long bankrupt 553,753 units
    with the tick's factor 1 − f, a short one 424,294 with 1 + f when written; at session 28 the
    long 527,202 and the short 3,347,834, and the long holds with either factor)."""
    assert entry_floor.cross_charge_lemma(resolve_policy("bybit"), _valid(), "per-lot-tick", side)


def test_the_pair_premise_with_the_ticks_factor_one_f_short_is_not_enough_for_a_short_bankrupt(monkeypatch) -> None:
    """``f × M₀ + (1 − f)`` on the right (the long side's factor on the tick): the short side is then
    undecided or has a model, never valid within the test's units: the tick's factor is 1 + f.

    The units are 4M because the right premise is valid for a short within 3,347,834 units (at 3M,
    as before session 28, this test could not fail: the right premise was undecided there too);
    the weaker one is still undecided at 10M. The long side holds with either factor (176,508)."""
    real = entry_floor.cross_charge_question

    def weaker(policy, pair="per-lot-tick", side=None):
        premise, claim = real(policy, pair, side)
        *rest, _ = premise
        import z3

        from solvent.rules.arith import PPM, abs_

        sa, sb = z3.Int("s0.alice.size_lots"), z3.Int("s0.bob.size_lots")
        a0, b0 = z3.Ints("cross.alice_before cross.bob_before")
        m0 = z3.Int("s0.PERP.previous_mark_quote")
        f = 550
        return [
            *rest,
            b0 * (PPM - f) * abs_(sa) + a0 * PPM * abs_(sb) >= (f * m0 + PPM - f) * abs_(sa) * abs_(sb),
        ], claim

    monkeypatch.setattr(entry_floor, "cross_charge_question", weaker)
    with pytest.raises(_Failed):
        entry_floor.cross_charge_lemma(
            resolve_policy("bybit"),
            functools.partial(_Checker(Bounds(effort=4_000_000)).valid, exact=True),
            "per-lot-tick",
            "short",
        )

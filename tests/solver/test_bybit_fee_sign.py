"""Bybit's second fee to close (issue 18): the transfer every Bybit claim stopped at.

On a Bybit book the first bankrupt account's ADL can take a short winner's equity at price zero
below zero (it buys back at the bankrupt long's price, above the mark); that short, bankrupt in
its turn, then has a bankruptcy price below zero and the taker fee on it, ``⌈f × q × BP / 1e6⌉``,
is negative. The engine stopped there with an internal error (a negative transfer); the fee to
close is now floored at zero (``rules.adl.fee_to_close_at``, as ``liquidation.fee_to_close``
floors the solvent close's), the same integer wherever the fee is not negative, and the transfer's
sign is then its shape's, so z3 is not asked. docs/solver-notes.md#bybits-second-fee-to-close-a-negative-price.
"""

from __future__ import annotations

import attrs
import pytest
import z3

from solvent.properties import catalog
from solvent.rules import adl
from solvent.rules.arith import PPM, Rounding, div, max_, min_
from solvent.rules.book import Book, Role, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import InternalError, Reason, Transfer
from solvent.rules.presets import load_preset
from solvent.rules.wellformed import StartMargin, conditions
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.query import StoryQuery
from solvent.solver.verdicts import Verdict

BYBIT = load_preset("bybit")
TAKER = BYBIT.fees.taker_ppm  # 550: 0.055%


def _unfloored(fee_ppm, closed_lots, price, cash_quote, rounding):
    """The fee as it was before the floor: ``max_(fee, 0)`` → ``fee``, a one-token mutant."""
    return min_(div(fee_ppm * closed_lots * price, PPM, rounding=rounding), max_(cash_quote, 0))


def _book() -> Book:
    """Mark 10,000 a lot. alice long 10,000 lots and bob short 10,001, both opened at 1 a lot, on
    51 and 52: above maintenance, which Bybit reads on the entry value (0.5% of 10,000 and of
    10,001: 50 and 51), but far under initial margin at the mark; the order book holds the other
    long lot. The insurance fund is empty."""
    b = new_book(mark_quote=10_000)
    for name, fields in (
        ("alice", {"cash_quote": 51, "principal_quote": 51, "size_lots": 10_000, "cost_quote": 10_000}),
        ("bob", {"cash_quote": 52, "principal_quote": 52, "size_lots": -10_001, "cost_quote": -10_001}),
        (b.role(Role.LIQUIDITY).name, {"size_lots": 1, "cost_quote": 1}),
    ):
        i = b.index(name)
        b = b.replace_account(i, attrs.evolve(b.accounts[i], **fields))
    return attrs.evolve(b, net_deposits_quote=103)


def test_the_book_is_well_formed_at_maintenance_only() -> None:
    failed = {m: [c.name for c in conditions(BYBIT, _book(), margin=m) if not c.holds] for m in StartMargin}
    assert failed == {StartMargin.MAINTENANCE: [], StartMargin.INITIAL: ["traders margin-compliant"]}


def test_a_short_below_zero_at_price_zero_pays_no_fee_to_close(monkeypatch) -> None:
    """A one-quantum fall: alice (−9,900) is closed against bob at her bankruptcy price 10,006 (7 a
    lot over the mark: the fee to close is in it), 70,000 from bob; bob is left short one lot on
    −59,898 + 5,018 from the fund (alice's dust): −44,930 at price zero, so his bankruptcy price
    is −44,930 (no fee is paid on a price below zero, so none is in it) and the order book's lot
    pays him the gap, 54,929: he ends at zero. With the fee unfloored, ⌈0.055% × −44,930⌉ = −24
    and the engine stops."""
    s = step(BYBIT, _book(), MarkPrice(9_999))
    fees = [t for t in s.transfers if t.reason is Reason.TRADING_FEE]
    assert fees == [Transfer("alice", "fee_account", 55_033, Reason.TRADING_FEE)]  # ⌈0.055% × 10,000 × 10,006⌉
    adl_paid = [t for t in s.transfers if t.reason is Reason.ADL]
    assert s.after.account("bob").cash_quote == 0 and s.after.account("bob").size_lots == 0
    assert adl_paid == [
        Transfer("bob", "alice", 70_000, Reason.ADL),
        Transfer("liquidity", "bob", 54_929, Reason.ADL),
    ]
    monkeypatch.setattr(adl, "fee_to_close_at", _unfloored)
    with pytest.raises(InternalError, match="negative transfer -24 bob->fee_account"):
        step(BYBIT, _book(), MarkPrice(9_999))


@pytest.mark.parametrize(
    ("price", "fee", "unfloored"),
    [
        (9_800, 5_390, 5_390),  # 1,000 lots at 9,800: 0.055% × 9,800,000, exact
        (1, 1, 1),  # ⌈0.55⌉
        (0, 0, 0),
        (-1, 0, 0),  # ⌈−0.55⌉ = 0 either way
        (-1_818, 0, 0),  # ⌈−0.9999⌉
        (-1_819, 0, -1),  # ⌈−1.00045⌉: the first price whose fee is below zero
    ],
)
def test_the_floor_changes_only_a_negative_fee(price: int, fee: int, unfloored: int) -> None:
    lots = 1_000 if price == 9_800 else 1
    cash = 10**9
    assert adl.fee_to_close_at(TAKER, lots, price, cash, Rounding.CEIL) == fee
    assert _unfloored(TAKER, lots, price, cash, Rounding.CEIL) == unfloored
    assert adl.fee_to_close_at(TAKER, lots, price, 3, Rounding.CEIL) == min(fee, 3)  # at most the cash


def _transfers(start_margin: str) -> StoryQuery:
    bounds = for_policy(Bounds(accounts=2, effort=2_000_000, start_margin=start_margin), BYBIT)
    return StoryQuery(BYBIT, catalog.get("conservation"), bounds, obligations=(None,))


def test_the_transfer_signs_are_proved_at_two_traders() -> None:
    """Every transfer of Bybit's mark move at N = 2 is non-negative: 65 units (the whole obligation
    was undecided at 60M before the floor, its bob's-fee piece unknown at 10M)."""
    query = _transfers("initial")
    answer = query.check_obligation(None)
    assert answer.verdict is Verdict.PROVED and answer.stats.units < 10_000, answer.stats


def _pinned(query: StoryQuery) -> z3.BoolRef:
    """The starting book and event of :func:`_book`, pinned on the query's variables."""
    names = {str(v): v for v in query.variables}
    pin = {
        "s0.PERP.mark_quote": 10_000,
        "s0.alice.cash_quote": 51,
        "s0.alice.size_lots": 10_000,
        "s0.alice.cost_quote": 10_000,
        "s0.bob.cash_quote": 52,
        "s0.bob.size_lots": -10_001,
        "s0.bob.cost_quote": -10_001,
        "s0.liquidity.size_lots": 1,
        "s0.liquidity.cost_quote": 1,
        "s0.insurance_fund.cash_quote": 0,
    }
    return z3.And(*[names[k] == v for k, v in pin.items()], z3.Int("e1.price_quote") == 9_999)


def test_the_unfloored_fee_is_refuted_with_a_replayed_story(monkeypatch) -> None:
    """On books at maintenance, the one-token mutant (the floor dropped) is refuted by z3 on the
    book above (pinned: the open question is unknown at 10M units either way, so it is not
    asked), and the story replays on the mutated engine to its negative transfer; the floored fee
    is proved on the same book."""
    monkeypatch.setattr(adl, "fee_to_close_at", _unfloored)
    query = _transfers("maintenance")
    answer = query.check_obligation(None, extra=_pinned(query))
    assert answer.verdict is Verdict.REFUTED, answer.stats
    assert "negative transfer -24 bob->fee_account" in answer.replay.detail
    monkeypatch.undo()
    query = _transfers("maintenance")
    assert query.check_obligation(None, extra=_pinned(query)).verdict is Verdict.PROVED


@pytest.mark.parametrize(
    ("equity", "gap"),
    [
        (-6_999, 1_000),  # Z = +1: the price with the fee in it, ⌊1e6 / (7 × 1.00055e6)⌋ = 0
        (-7_000, 1_000),  # Z = 0: price 0
        (-7_001, 1_001),  # Z = −1: price ⌊−1 / 7⌋ = −1, no fee in it
        (-21_000, 3_000),  # Z = −14,000: price −2,000; with the fee in it, ⌊−1,998.9⌋ = −1,999 (gap 2,999)
    ],
)
def test_a_shorts_price_below_zero_has_no_fee_in_it(equity: int, gap: int) -> None:
    """7 lots short at a mark of 1,000 (Z = 7,000 + E): where Z < 0 the gap is ⌈−E / 7⌉, the
    gap without the fee, so closing at it leaves the account at zero with no fee to pay."""
    assert adl.gap_with_fee(equity, 7, False, 1_000, TAKER) == gap
    if 7_000 + equity < 0:
        assert gap == -(equity // 7)


def test_a_price_that_changed_had_a_negative_fee_before() -> None:
    """Where a short's whole position is closed at its price (as on a Bybit book), the price differs
    from the one first written (the fee in it also below zero) only where the old fee on it was
    below zero, so where the engine stopped: the same integers wherever it ran."""
    mark, changed = 1_000, 0
    for lots in range(1, 13):
        for at_zero in range(-4_000, 0):
            price = mark - adl.gap_with_fee(at_zero - lots * mark, lots, False, mark, TAKER)
            before = min(at_zero * PPM // (lots * (PPM + TAKER)), mark)
            if price != before:
                changed += 1
                assert _unfloored(TAKER, lots, before, 10**9, Rounding.CEIL) < 0, (lots, at_zero)
    assert changed > 0

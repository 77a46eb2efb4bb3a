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
from solvent.rules.arith import PPM, Rounding, div, ite, max_, min_, safe_divisor
from solvent.rules.book import Book, Role, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Ctx, Reason, Transfer
from solvent.rules.presets import load_preset
from solvent.rules.wellformed import StartMargin, conditions
from solvent.solver import adl_lemma
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
    # nor a book of the induction's premise (solver.induction): neither holds its fee to close at the mark
    assert failed == {
        StartMargin.MAINTENANCE: [],
        StartMargin.INITIAL: ["traders margin-compliant"],
        StartMargin.SOLVENT: ["traders worth at least zero, their fee to close within it"],
    }


def _price_unfloored(equity_quote, lots, long, mark_quote, fee_ppm):
    """:func:`adl.gap_with_fee` with a short's price below zero kept, as before the floor (the
    fee still out of it): ``max_(min_(below, M), 0)`` → ``min_(below, M)``, a one-token mutant."""
    lots = safe_divisor(lots)
    up = div(-equity_quote * PPM + fee_ppm * lots * mark_quote, lots * (PPM - fee_ppm), rounding=Rounding.CEIL)
    at_zero = lots * mark_quote + equity_quote
    below = div(at_zero * PPM + fee_ppm * min_(at_zero, 0), lots * (PPM + fee_ppm), rounding=Rounding.FLOOR)
    return ite(long, max_(up, 0), mark_quote - min_(below, mark_quote))


def test_a_short_below_zero_at_price_zero_closes_at_zero_and_the_venue_resets_it(monkeypatch) -> None:
    """A one-quantum fall: alice (−9,900) is closed against bob at her bankruptcy price 10,006 (7 a
    lot over the mark: the fee to close is in it), 70,000 from bob; bob is left short one lot on
    −59,898 + 5,018 from the fund (alice's dust): −44,930 at price zero. He closes at price 0: the
    order book's lot pays him 9,999, the lot's whole value at mark, no fee is paid on price 0, and
    the venue resets the 44,930 left (docs/venues.md#bybit-negative-balances). With the price left
    below zero (the rule before), the book's lot paid 54,929, more than it was worth."""
    s = step(BYBIT, _book(), MarkPrice(9_999))
    fees = [t for t in s.transfers if t.reason is Reason.TRADING_FEE]
    assert fees == [Transfer("alice", "fee_account", 55_033, Reason.TRADING_FEE)]  # ⌈0.055% × 10,000 × 10,006⌉
    paid = [t for t in s.transfers if t.reason in (Reason.ADL, Reason.VENUE_ABSORBS)]
    assert s.after.account("bob").cash_quote == 0 and s.after.account("bob").size_lots == 0
    assert paid == [
        Transfer("bob", "alice", 70_000, Reason.ADL),
        Transfer("liquidity", "bob", 9_999, Reason.ADL),
        Transfer("venue", "bob", 44_930, Reason.VENUE_ABSORBS),
    ]
    monkeypatch.setattr(adl, "gap_with_fee", _price_unfloored)
    s = step(BYBIT, _book(), MarkPrice(9_999))
    assert [t for t in s.transfers if t.reason in (Reason.ADL, Reason.VENUE_ABSORBS)] == [
        Transfer("bob", "alice", 70_000, Reason.ADL),
        Transfer("liquidity", "bob", 54_929, Reason.ADL),
    ]


def _short(equity_quote: int, lots: int = 7, mark: int = 1_000) -> Book:
    """alice short ``lots`` at ``mark`` on ``equity_quote``; the order book holds the other side."""
    b = new_book(mark_quote=mark)
    for name, fields in (
        ("alice", {"cash_quote": equity_quote, "size_lots": -lots, "cost_quote": -lots * mark}),
        (b.role(Role.LIQUIDITY).name, {"size_lots": lots, "cost_quote": lots * mark}),
    ):
        i = b.index(name)
        b = b.replace_account(i, attrs.evolve(b.accounts[i], **fields))
    return b


@pytest.mark.parametrize(
    ("equity", "book_pays", "to_fund", "venue_pays"),
    [
        (-6_999, 7_000, 1, 0),  # Z = +1: price ⌊1e6 / (7 × 1.00055e6)⌋ = 0, the 1 left is dust
        (-7_000, 7_000, 0, 0),  # Z = 0: price 0 leaves it at exactly zero
        (-7_001, 7_000, 0, 1),  # Z = −1: price 0, the venue resets the 1 left
        (-21_000, 7_000, 0, 14_000),  # Z = −14,000: the book pays the lots' value, no more
    ],
)
def test_who_pays_at_the_boundary_of_price_zero(equity: int, book_pays: int, to_fund: int, venue_pays: int) -> None:
    """ADL of 7 lots short at a mark of 1,000 (Z = 7,000 + E), the queue empty and the book holding
    the lots: the book pays at most the lots' value at mark (price 0), the account ends at zero,
    and the venue pays only where Z < 0."""
    closed = adl_lemma.close(BYBIT, _short(equity))
    assert (closed.cash_after_quote, closed.size_after_lots, closed.to_fund_quote) == (0, 0, to_fund)
    ctx = Ctx(_short(equity))
    out = adl.deleverage(ctx, BYBIT.margin, BYBIT.rounding, BYBIT.adl, "alice", "insurance_fund", 1_000, TAKER)
    moved = {(g.item.source, g.item.destination, g.item.reason): g.item.amount_quote for g in out.entries}
    assert moved.get(("liquidity", "alice", Reason.ADL), 0) == book_pays
    assert moved.get(("venue", "alice", Reason.VENUE_ABSORBS), 0) == venue_pays
    assert not any(r is Reason.TRADING_FEE for _, _, r in moved)  # no fee on price 0


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


def _price_as_first_written(equity_quote, lots, long, mark_quote, fee_ppm):
    """:func:`adl.gap_with_fee` as first written: a short's price below zero, with the fee in it."""
    lots = safe_divisor(lots)
    up = div(-equity_quote * PPM + fee_ppm * lots * mark_quote, lots * (PPM - fee_ppm), rounding=Rounding.CEIL)
    below = div((lots * mark_quote + equity_quote) * PPM, lots * (PPM + fee_ppm), rounding=Rounding.FLOOR)
    return ite(long, max_(up, 0), mark_quote - min_(below, mark_quote))


def test_the_negative_price_with_its_fee_is_refuted_with_a_replayed_story(monkeypatch) -> None:
    """On books at maintenance, the rule as first written (a short's price below zero with the fee
    in it, the fee unfloored) is refuted by z3 on the book above (pinned: the open question is
    unknown at 10M units, so it is not asked), and the story replays on that engine to its negative
    transfer; the rule now is proved on the same book."""
    monkeypatch.setattr(adl, "fee_to_close_at", _unfloored)
    monkeypatch.setattr(adl, "gap_with_fee", _price_as_first_written)
    query = _transfers("maintenance")
    answer = query.check_obligation(None, extra=_pinned(query))
    assert answer.verdict is Verdict.REFUTED, answer.stats
    assert "negative transfer -24 bob->fee_account" in answer.replay.detail
    monkeypatch.undo()
    query = _transfers("maintenance")
    assert query.check_obligation(None, extra=_pinned(query)).verdict is Verdict.PROVED


@pytest.mark.parametrize("equity", [-6_999, -7_000, -7_001, -21_000])
def test_a_shorts_price_is_never_below_zero(equity: int) -> None:
    """7 lots short at a mark of 1,000 (Z = 7,000 + E): at Z = +1 the price with the fee in it is
    ⌊1e6 / (7 × 1.00055e6)⌋ = 0, at Z = 0 it is 0, and below zero it stays 0 (the gap is the whole
    mark); before, Z = −1 closed at −1 and Z = −14,000 at −2,000."""
    assert adl.gap_with_fee(equity, 7, False, 1_000, TAKER) == 1_000
    assert _price_unfloored(equity, 7, False, 1_000, TAKER) == 1_000 - min(0, (7_000 + equity) // 7)


def test_a_price_changed_only_where_it_was_below_zero() -> None:
    """Against the rule before (a short's price ⌊Z / |S|⌋ below zero): the same price wherever
    Z ≥ 0, and 0 wherever Z < 0, over Z from −4,000 to 4,000 and 1-12 lots."""
    mark, changed = 1_000, 0
    for lots in range(1, 13):
        for at_zero in range(-4_000, 4_001):
            equity = at_zero - lots * mark
            price = mark - adl.gap_with_fee(equity, lots, False, mark, TAKER)
            before = mark - _price_unfloored(equity, lots, False, mark, TAKER)
            if at_zero >= 0:
                assert price == before, (lots, at_zero)
            else:
                assert (price, before < 0) == (0, True), (lots, at_zero)
                changed += 1
    assert changed == 12 * 4_000

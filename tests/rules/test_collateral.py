"""Spot collateral conversion (solvent.rules.collateral.convert_spot), called directly.

Formula: converted = min(spot, max(−cash, 0)), only for a cross account under a policy whose
``margin.spot_collateral`` is true (Backpack converts non-USDC collateral when USDC is short,
docs/venues.md#backpack-settlement-and-borrowing). Isolated accounts never touch spot (docs/model.md#the-book).
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules.book import Book, new_book
from solvent.rules.collateral import convert_spot
from solvent.rules.ledger import Ctx, InternalError, Reason, Transfer
from solvent.rules.margin import MarginRule


def _book(cash: int, spot: int, *, isolated: bool = False) -> Book:
    book = new_book(mark_quote=100, isolated=("alice",) if isolated else ())
    i = book.index("alice")
    return book.replace_account(i, attrs.evolve(book.accounts[i], cash_quote=cash, spot_quote=spot))


def _convert(rule: MarginRule, cash: int, spot: int, *, isolated: bool = False):
    ctx = convert_spot(rule, Ctx(_book(cash, spot, isolated=isolated)), "alice")
    alice = ctx.book.account("alice")
    return (alice.cash_quote, alice.spot_quote), [e.item for e in ctx.entries]


@pytest.fixture
def spot_rule(flat_margin) -> MarginRule:
    return attrs.evolve(flat_margin, spot_collateral=True)


class TestConvertSpot:
    def test_converts_only_the_shortfall(self, spot_rule) -> None:
        # min(spot 100, max(−(−30), 0) = 30) = 30: cash −30 → 0, spot 100 → 70
        balances, entries = _convert(spot_rule, -30, 100)
        assert balances == (0, 70)
        assert entries == [Transfer("alice.spot", "alice", 30, Reason.COLLATERAL_CONVERSION)]

    def test_spot_short_of_the_shortfall_converts_all_of_it(self, spot_rule) -> None:
        # min(spot 40, 100) = 40: cash −100 → −60, spot 40 → 0 (the rest stays a deficit)
        balances, _ = _convert(spot_rule, -100, 40)
        assert balances == (-60, 0)

    def test_spot_equal_to_the_shortfall_leaves_both_at_zero(self, spot_rule) -> None:
        # min(40, 40) = 40
        assert _convert(spot_rule, -40, 40)[0] == (0, 0)

    def test_one_quantum_short(self, spot_rule) -> None:
        # cash −1: exactly one quantum converted; cash 0 (the boundary): nothing
        assert _convert(spot_rule, -1, 5) == (
            (0, 4),
            [Transfer("alice.spot", "alice", 1, Reason.COLLATERAL_CONVERSION)],
        )
        assert _convert(spot_rule, 0, 5) == ((0, 5), [])

    def test_positive_cash_converts_nothing(self, spot_rule) -> None:
        # max(−7, 0) = 0: a solvent account keeps its spot
        assert _convert(spot_rule, 7, 5) == ((7, 5), [])

    def test_negative_spot_is_never_converted(self, spot_rule) -> None:
        # max(spot −5, 0) = 0: a spot balance below zero backs nothing (and no negative transfer is made)
        assert _convert(spot_rule, -10, -5) == ((-10, -5), [])

    def test_isolated_account_never_touches_spot(self, spot_rule) -> None:
        # isolated mode: counts_spot is false whatever the policy says (docs/model.md, "The book")
        assert _convert(spot_rule, -30, 100, isolated=True) == ((-30, 100), [])

    def test_policy_without_spot_collateral_never_touches_spot(self, flat_margin) -> None:
        assert _convert(flat_margin, -30, 100) == ((-30, 100), [])

    def test_largest_value(self, spot_rule) -> None:
        # exact integers at any size: 2**62 − 1 short, 2**62 spot → converts 2**62 − 1, leaves 1
        big = 2**62
        assert _convert(spot_rule, -(big - 1), big)[0] == (0, 1)


def test_a_negative_transfer_would_be_an_internal_error() -> None:
    """The guard the max(spot, 0) keeps away: Ctx refuses a negative concrete transfer."""
    with pytest.raises(InternalError):
        Ctx(_book(0, 0)).transfer("alice.spot", "alice", -1, Reason.COLLATERAL_CONVERSION)

"""The pro-rata charge shared by ``socialized_loss``, ``haircut_ratio`` and ``clawback``
(solvent.rules.pro_rata), called directly with the weights a layer would pass.

Formula: share_i = R × w_i / W, rounded per ``rounding.pro_rata`` (up: the excess Σshare − R goes
to the insurance fund as dust; down: the unpaid remainder passes to the next layer;
docs/model.md#pro-rata-rounding-is-a-policy-choice); R capped at W when the layer takes profit
only. The payers are every trader but the bankrupt one, and the order book
(docs/model.md#the-book-in-every-profit-taking-layer). Each layer's weights are tested in its own
file (test_socialized_loss, test_haircut_ratio, test_clawback).

The weights: bob 300, carol 100 (W = 400); alice is bankrupt at −R.
"""

from __future__ import annotations

from solvent.rules.book import new_book
from solvent.rules.ledger import Ctx, Reason, Transfer
from solvent.rules.pro_rata import charge, payers
from solvent.rules.rounding import ProRata, RoundingRule

UP = RoundingRule()  # up_dust_to_insurance_fund, the default
DOWN = RoundingRule(pro_rata=ProRata.DOWN_REMAINDER_TO_NEXT_LAYER)
WEIGHTS = [("bob", 300), ("carol", 100)]


def _charge(book, deficit: int, weights=WEIGHTS, rounding: RoundingRule = UP, capped: bool = False):
    """(paid, {name: cash after}, transfers) for alice's deficit."""
    ctx, paid = charge(Ctx(book), rounding, weights, "alice", deficit, capped=capped, reason=Reason.SOCIALIZED_LOSS)
    return paid, {a.name: a.cash_quote for a in ctx.book.accounts if a.cash_quote != 0}, [e.item for e in ctx.entries]


class TestPayers:
    def test_every_trader_but_the_bankrupt_then_the_book(self, deficit_book) -> None:
        assert [a.name for a in payers(deficit_book(100), "bob")] == ["alice", "carol", "liquidity"]

    def test_only_the_book_when_the_bankrupt_is_the_only_trader(self) -> None:
        book = new_book(mark_quote=100, traders=("alice",))
        assert [a.name for a in payers(book, "alice")] == ["liquidity"]


class TestCharge:
    def test_exact_shares(self, deficit_book) -> None:
        # R 100: bob 100 × 300 / 400 = 75, carol 100 × 100 / 400 = 25, no dust
        paid, cash, entries = _charge(deficit_book(100), 100)
        assert paid == 100 and cash == {"bob": -75, "carol": -25}
        assert entries[0] == Transfer("bob", "alice", 75, Reason.SOCIALIZED_LOSS)

    def test_shares_round_up_and_the_dust_goes_to_the_fund(self, deficit_book) -> None:
        # R 101: bob ⌈75.75⌉ = 76, carol ⌈25.25⌉ = 26: charged 102, one quantum of dust to the fund;
        # alice −101 + 102 − 1 = 0
        paid, cash, entries = _charge(deficit_book(101), 101)
        assert paid == 101 and cash == {"bob": -76, "carol": -26, "insurance_fund": 1}
        assert entries[-1] == Transfer("alice", "insurance_fund", 1, Reason.PRO_RATA_DUST)

    def test_shares_round_down_and_the_remainder_passes_on(self, deficit_book) -> None:
        # R 101: bob ⌊75.75⌋ = 75, carol ⌊25.25⌋ = 25: paid 100, alice keeps −1 for the next layer
        paid, cash, _ = _charge(deficit_book(101), 101, rounding=DOWN)
        assert paid == 100 and cash == {"alice": -1, "bob": -75, "carol": -25}

    def test_uncapped_takes_more_than_the_weights(self, deficit_book) -> None:
        # R 500 > W 400, not capped: bob 500 × 300/400 = 375, carol 125
        paid, cash, _ = _charge(deficit_book(500), 500)
        assert paid == 500 and cash == {"bob": -375, "carol": -125}

    def test_capped_at_the_total_weight(self, deficit_book) -> None:
        # R 500 capped at W 400: bob 300, carol 100; 100 passes on
        paid, cash, _ = _charge(deficit_book(500), 500, capped=True)
        assert paid == 400 and cash == {"alice": -100, "bob": -300, "carol": -100}

    def test_no_weight_charges_nothing(self, deficit_book) -> None:
        # W = 0: target 0, no transfer, the deficit passes on
        paid, cash, entries = _charge(deficit_book(100), 100, weights=[("bob", 0), ("carol", 0)])
        assert (paid, cash, entries) == (0, {"alice": -100}, [])


def test_largest_value(deficit_book) -> None:
    # exact at any size: R = 2**62 + 1 over weights 3 × 2**61 and 2**61 (W = 2**63):
    # bob ⌈(2**62 + 1) × 3/4⌉ = 3 × 2**60 + 1, carol ⌈(2**62 + 1)/4⌉ = 2**60 + 1, dust 1
    big = 2**61
    paid, cash, _ = _charge(deficit_book(2 * big + 1), 2 * big + 1, weights=[("bob", 3 * big), ("carol", big)])
    assert paid == 2 * big + 1
    assert cash == {"bob": -(3 * 2**60 + 1), "carol": -(2**60 + 1), "insurance_fund": 1}

"""Funding remainder carry (issue 15): Mango v4 books funding into an I80F48 fixed-point balance,
so no payment is rounded to a native unit and the part below one unit counts in the next payment
(docs/venues.md#mango-v4-funding; ``settle_funding`` in
programs/mango-v4/src/state/mango_account_components.rs). ``rounding.funding_remainder =
"carried"`` states it: each account carries its remainder in millionths of a quantum
(``Account.funding_remainder_millionths``), and the venue account ``rounding.funding`` names holds
the quanta behind every remainder, moved through the clearing account as ledger transfers.

The worked example follows ``settle_funding``'s formula, ``quote −= (long_funding −
long_settled_funding) × base_lots``, as no Mango page gives funding in numbers: alice long 3
lots and bob short 3 at a mark of 1,000 quanta, two payments of 500 ppm (0.5 quanta a lot). Mango
books −1.5 and +1.5, then −3 and +3 in all. Solvent's cash is that balance rounded down: alice
998 carrying 0.5, bob 1,001 carrying 0.5, the fee account holding the 1 behind them; after the
second payment 997 and 1,003, nothing carried, the fee account back at 0. Paid as dust instead,
alice pays 2 twice, bob gets 1 twice, and the fee account keeps 2.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules import engine, settlement
from solvent.rules.book import Book, new_book
from solvent.rules.engine import run, step
from solvent.rules.events import Funding
from solvent.rules.ledger import Reason, Transfer
from solvent.rules.presets import load_preset
from solvent.rules.rounding import FundingRemainder, FundingRounding
from solvent.rules.wellformed import reasons
from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught

UP = FundingRounding.PAYERS_UP_DUST_TO_FEE_ACCOUNT
DOWN = FundingRounding.PAYERS_DOWN_SHORTFALL_FROM_FEE_ACCOUNT
CARRIED, DUST = FundingRemainder.CARRIED, FundingRemainder.PAID_AS_DUST


def policy(remainder: FundingRemainder = CARRIED, funding: FundingRounding = UP):
    mango = load_preset("mango-v4")
    return attrs.evolve(mango, rounding=attrs.evolve(mango.rounding, funding=funding, funding_remainder=remainder))


def book(alice_lots: int = 3, mark: int = 1_000, **carry: int) -> Book:
    """alice long ``alice_lots``, bob short as many, both opened at ``mark`` on 1,000 each."""
    b = new_book(mark_quote=mark)
    for name, lots in (("alice", alice_lots), ("bob", -alice_lots)):
        i = b.index(name)
        b = b.replace_account(
            i,
            attrs.evolve(
                b.accounts[i],
                cash_quote=1_000,
                principal_quote=1_000,
                size_lots=lots,
                cost_quote=lots * mark,
                funding_remainder_millionths=carry.get(name, 0),
            ),
        )
    fee = b.index("fee_account")
    backing = sum(carry.values()) // 1_000_000
    b = b.replace_account(fee, attrs.evolve(b.accounts[fee], cash_quote=backing))
    return attrs.evolve(b, net_deposits_quote=2_000 + backing)


def balances(b: Book) -> dict[str, tuple[int, int]]:
    return {
        a.name: (a.cash_quote, a.funding_remainder_millionths)
        for a in b.accounts
        if a.name in ("alice", "bob", "fee_account", "clearing")
    }


class TestMangoFundingCarry:
    def test_the_preset_carries(self) -> None:
        assert load_preset("mango-v4").rounding.funding_remainder is CARRIED
        assert load_preset("binance").rounding.funding_remainder is DUST  # the default

    def test_the_worked_example(self) -> None:
        first = step(policy(), book(), Funding(500))
        assert balances(first.after) == {
            "alice": (998, 500_000),
            "bob": (1_001, 500_000),
            "fee_account": (1, 0),
            "clearing": (0, 0),
        }
        assert first.transfers == (
            Transfer("alice", "clearing", 2, Reason.FUNDING),
            Transfer("clearing", "bob", 1, Reason.FUNDING),
            Transfer("clearing", "fee_account", 1, Reason.FUNDING_CARRY),
        )
        second = step(policy(), first.after, Funding(500))
        assert balances(second.after) == {
            "alice": (997, 0),
            "bob": (1_003, 0),
            "fee_account": (0, 0),
            "clearing": (0, 0),
        }
        assert Transfer("fee_account", "clearing", 1, Reason.FUNDING_CARRY) in second.transfers
        assert reasons(policy(), first.after) == [] and reasons(policy(), second.after) == []

    def test_paid_as_dust_the_venue_keeps_it(self) -> None:
        after = run(policy(DUST), book(), [Funding(500), Funding(500)])[-1].after
        assert balances(after) == {"alice": (996, 0), "bob": (1_002, 0), "fee_account": (2, 0), "clearing": (0, 0)}

    @pytest.mark.parametrize("funding", [UP, DOWN])
    def test_split_payments_equal_one(self, funding) -> None:
        """Carried, the cash is the exact total rounded once: two payments of 500 ppm (or three of
        333 and one of 1) leave every balance where one payment of 1,000 does."""
        one = step(policy(funding=funding), book(), Funding(1_000)).after
        two = run(policy(funding=funding), book(), [Funding(500), Funding(500)])[-1].after
        four = run(policy(funding=funding), book(), [Funding(333)] * 3 + [Funding(1)])[-1].after
        assert balances(one) == balances(two) == balances(four)

    def test_payers_down_carry_a_debit(self) -> None:
        """Where payers round down, the cash is the exact balance rounded up and the remainder is a
        debit: the fee account fronts the quantum and is repaid at the next payment."""
        first = step(policy(funding=DOWN), book(), Funding(500)).after
        assert balances(first) == {
            "alice": (999, -500_000),
            "bob": (1_002, -500_000),
            "fee_account": (-1, 0),
            "clearing": (0, 0),
        }


def observe():
    """The boundary cases: remainders of 0 and just under a quantum, both signs of the rate, both
    directions, carried and paid as dust."""
    out = []
    for remainder in (CARRIED, DUST):
        for funding in (UP, DOWN):
            p = policy(remainder, funding)
            for start, rate in ((book(), 500), (book(), -500), (book(), 1_000), (book(alice=999_999, bob=1), 1)):
                if remainder is DUST and start.account("alice").funding_remainder_millionths:
                    continue
                if funding is DOWN and start.account("alice").funding_remainder_millionths:
                    continue
                s = step(p, start, Funding(rate))
                out.append((balances(s.after), s.transfers))
    return out


def test_every_mutant_of_the_carry_is_caught(monkeypatch) -> None:
    assert_every_mutant_is_caught(monkeypatch, settlement, "carried_amounts", observe, at_least=2)
    assert_every_mutant_is_caught(monkeypatch, settlement, "pay_funding", observe, at_least=5, importers=(engine,))

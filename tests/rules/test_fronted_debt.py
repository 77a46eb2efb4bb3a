"""A debt the venue fronted is owed only by a trader, flat at cash 0 (``rules.wellformed``'s
``FRONTED_DEBT``, where ``debt_owed_flat``): the well-formed rule at its edges, and the engine's
history that makes it the only book a debt is reached in (broker-reg-t: a bankruptcy fronts the
deficit and leaves the trader flat at cash 0; a deposit repays the debt before it is cash; a
withdrawal or an opening waits). z3's one-event induction is ``tests/solver/test_fronted_debt_kept.py``.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from solvent.rules.book import Book, Role, new_book
from solvent.rules.engine import RejectedEvent, run, step
from solvent.rules.events import Deposit, MarkPrice, SpotDeposit, Taker, Trade, Withdraw
from solvent.rules.presets import load_preset, resolve_policy
from solvent.rules.waterfall import DebtCarry, Lender
from solvent.rules.wellformed import FRONTED_DEBT, StartMargin, conditions, debt_owed_flat, reasons

BROKER = load_preset("broker-reg-t")
TESTS = Path(__file__).resolve().parents[1]
MARK = 10_000  # USD 100.00 a share


def _book(**alice: int) -> Book:
    """broker-reg-t's empty book with alice's fields set, the money on the book deposited."""
    book = new_book(mark_quote=MARK)
    a = attrs.evolve(book.account("alice"), **alice)
    book = book.replace_account(book.index("alice"), a)
    return attrs.evolve(book, net_deposits_quote=a.cash_quote + a.spot_quote)


def _broken(book: Book, margin: StartMargin | None = StartMargin.INITIAL) -> list[str]:
    return [c.name for c in conditions(BROKER, book, margin=margin) if not c.holds]


class TestTheRule:
    def test_a_debt_of_a_quantum_at_cash_0_flat_is_well_formed(self):
        assert reasons(BROKER, _book(debt_quote=1)) == []

    def test_a_debt_of_a_quantum_beside_a_quantum_of_cash_is_not(self):
        assert reasons(BROKER, _book(debt_quote=1, cash_quote=1)) == [
            f"{FRONTED_DEBT}: alice: cash_quote 1, debt_quote 1"
        ]

    def test_a_quantum_of_cash_owing_nothing_is_well_formed(self):
        assert reasons(BROKER, _book(cash_quote=1)) == []

    def test_cash_below_zero_beside_a_debt_is_not(self):
        broken = _book(debt_quote=1, cash_quote=-1)
        assert _broken(broken, margin=None) == [FRONTED_DEBT]

    def test_a_lot_beside_a_debt_is_not(self):
        """alice long a lot against bob's short, at cash 0 owing a quantum: the position breaks it
        (read with no margin condition, so only this rule speaks); the lot without the debt does not."""
        book = _book(debt_quote=1, size_lots=1, cost_quote=MARK)
        bob = attrs.evolve(book.account("bob"), size_lots=-1, cost_quote=-MARK)
        book = book.replace_account(book.index("bob"), bob)
        assert _broken(book, margin=None) == [FRONTED_DEBT]
        owing_nothing = book.replace_account(book.index("alice"), attrs.evolve(book.account("alice"), debt_quote=0))
        assert _broken(owing_nothing, margin=None) == []

    def test_spot_beside_a_debt_is_well_formed_where_spot_is_no_margin(self):
        assert reasons(BROKER, _book(debt_quote=1, spot_quote=500)) == []

    def test_only_a_trader_owes_the_venue(self):
        book = new_book(mark_quote=MARK)
        for role in (Role.LIQUIDITY, Role.INSURANCE_FUND, Role.VENUE):
            name = book.role(role).name
            owing = book.replace_account(book.index(name), attrs.evolve(book.role(role), debt_quote=1))
            assert _broken(owing, margin=None) == [FRONTED_DEBT], role
        assert _broken(book, margin=None) == []

    def test_an_isolated_position_and_its_owner_are_not_read(self):
        """Margin added to an isolated position, or removed from it to its owner, is cash no
        repayment passes through (z3's model in tests/solver/test_fronted_debt_kept.py): neither is
        bound, and a cross trader beside them still is."""
        book = new_book(mark_quote=MARK, traders=("alice", "bob"), isolated_positions=(("alice", "PERP"),))
        for name in ("alice", "alice:PERP", "bob"):
            owing = book.replace_account(book.index(name), attrs.evolve(book.account(name), debt_quote=1, cash_quote=1))
            owing = attrs.evolve(owing, net_deposits_quote=1)
            assert _broken(owing, margin=None) == ([FRONTED_DEBT] if name == "bob" else []), name


class TestWhereItIsStated:
    def test_broker_and_the_planted_policies_that_repay_first(self):
        assert debt_owed_flat(BROKER)
        assert debt_owed_flat(resolve_policy(TESTS / "planted_control/broker-fronts-debt.toml"))
        assert debt_owed_flat(resolve_policy(TESTS / "planted/debt-carry-swallows-deposit.toml"))

    @pytest.mark.parametrize(
        "change",
        [
            {"deficit": (DebtCarry(Lender.VENUE, deposits_repay_debt=False),)},
            {"deficit": (DebtCarry(Lender.WINNERS),)},
            {"margin": attrs.evolve(BROKER.margin, spot_collateral=True)},
            {"liquidation": attrs.evolve(BROKER.liquidation, final_settlement=True)},
        ],
        ids=["collected-off-the-book", "owed-to-the-winners", "spot-collateral", "delisting"],
    )
    def test_not_where_a_debtor_reaches_cash_another_way(self, change):
        policy = attrs.evolve(BROKER, **change)
        assert not debt_owed_flat(policy)
        assert FRONTED_DEBT not in [c.name for c in conditions(policy, _book(debt_quote=1, cash_quote=1))]

    @pytest.mark.parametrize("field", ["collateral", "settlement_lending"])
    def test_not_under_collateral_assets_or_settlement_lending(self, field):
        """Backpack's SOL collateral, or its USDC lending, on broker-reg-t: each is margin or cash
        a debtor may hold beside the debt."""
        backpack = load_preset("backpack")
        assert not debt_owed_flat(attrs.evolve(BROKER, **{field: getattr(backpack, field)}))

    def test_a_debt_collected_off_the_book_is_reached_beside_cash_and_a_position(self):
        """venue-bills-the-loser (deposits do not repay): after her bankruptcy alice deposits, holds
        the cash beside the debt, and opens again: the rule would hide that book."""
        policy = resolve_policy(TESTS / "planted/venue-bills-the-loser.toml")
        book = new_book(mark_quote=20_000, traders=("alice", "maker"))
        steps = run(policy, book, [*_gap(), Deposit("alice", 5_000)])
        alice = steps[-1].after.account("alice")
        assert (alice.cash_quote, alice.debt_quote) == (5_000, 5_001)
        opened = step(policy, steps[-1].after, Trade("alice", "maker", 1, 4_999, Taker.BUYER)).after.account("alice")
        assert (opened.size_lots, opened.debt_quote) == (1, 5_001)


def _gap() -> list:
    """alice buys a share at USD 200.00 with USD 100.00; a gap to USD 49.99 leaves her USD 50.01 short."""
    return [
        Deposit("alice", 10_000),
        Deposit("maker", 100_000),
        Trade("alice", "maker", 1, 20_000, Taker.SELLER),
        MarkPrice(4_999),
    ]


@pytest.fixture
def owing() -> Book:
    """broker-reg-t after alice's bankruptcy: flat at cash 0, owing USD 50.01 the broker fronted."""
    book = new_book(mark_quote=20_000, traders=("alice", "maker"))
    return run(BROKER, book, _gap())[-1].after


class TestTheEngineKeepsIt:
    def test_the_bankruptcy_leaves_her_flat_at_cash_0_with_the_debt(self, owing):
        alice = owing.account("alice")
        assert (alice.cash_quote, alice.size_lots, alice.debt_quote) == (0, 0, 5_001)
        assert owing.role(Role.VENUE).cash_quote == -5_001
        assert reasons(BROKER, owing) == []

    @pytest.mark.parametrize(
        ("amount", "cash", "debt"), [(5_000, 0, 1), (5_001, 0, 0), (5_002, 1, 0)], ids=["short", "exact", "above"]
    )
    def test_a_deposit_repays_the_debt_before_it_is_cash(self, owing, amount, cash, debt):
        after = step(BROKER, owing, Deposit("alice", amount)).after
        assert (after.account("alice").cash_quote, after.account("alice").debt_quote) == (cash, debt)
        assert reasons(BROKER, after) == []

    def test_a_withdrawal_waits(self, owing):
        with pytest.raises(RejectedEvent, match="owes a debt"):
            step(BROKER, owing, Withdraw("alice", 1))

    @pytest.mark.parametrize("price", [MARK - 1, MARK, 1], ids=["a-tick-below", "at-the-mark", "far-below"])
    def test_she_opens_nothing_beside_the_debt(self, owing, price):
        at_mark = step(BROKER, owing, MarkPrice(MARK)).after
        for buyer, seller, taker in (("alice", "maker", Taker.BUYER), ("maker", "alice", Taker.SELLER)):
            p = price if buyer == "alice" else 2 * MARK - price  # a sale above the mark for her short
            with pytest.raises(RejectedEvent, match="alice would hold less than initial margin"):
                step(BROKER, at_mark, Trade(buyer, seller, 1, p, taker))

    def test_spot_deposited_beside_the_debt_is_no_margin(self, owing):
        after = step(BROKER, owing, SpotDeposit("alice", 1_000_000)).after
        alice = after.account("alice")
        assert (alice.cash_quote, alice.spot_quote, alice.debt_quote) == (0, 1_000_000, 5_001)
        assert reasons(BROKER, after) == []
        with pytest.raises(RejectedEvent, match="alice would hold less than initial margin"):
            step(BROKER, after, Trade("alice", "maker", 1, 4_999, Taker.BUYER))

    def test_moves_and_funding_leave_her_as_she_is(self, owing):
        from solvent.rules.events import Funding

        steps = run(BROKER, owing, [MarkPrice(1), Funding(1_000_000), MarkPrice(10**9), Funding(-1_000_000)])
        alice = steps[-1].after.account("alice")
        assert (alice.cash_quote, alice.size_lots, alice.debt_quote) == (0, 0, 5_001)

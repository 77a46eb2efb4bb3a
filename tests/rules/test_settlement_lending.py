"""A negative settlement balance on a lending venue is a borrow (issue 13; rules/lending.py
``SettlementLending``, docs/portfolio.md decision 6c): Backpack "borrows USDC from the lending
pool" when an account's USDC runs short, so "a negative USDC balance is an interest-bearing borrow"
(guide.backpack.exchange/es/trading/liquidacion-y-realizacion); "Utilization Rate = Total Borrowed /
Total Lent", "Interest is charged every hour", "The Lend Rate is equal to Borrow Rate * Utilization"
(guide.backpack.exchange/borrow-and-lend/utilization-and-interest-rates). Run through the engine:
an ``InterestAccrual("", seconds=…)`` on the traders' cash.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from solvent.cli import main
from solvent.properties.catalog import CATALOG, StepView
from solvent.rules.book import SYSTEM_ROLES, Account, Asset, Book, Market
from solvent.rules.engine import RejectedEvent, step
from solvent.rules.events import Deposit, InterestAccrual
from solvent.rules.ledger import Reason
from solvent.rules.loading import dumps_policy, loads_policy
from solvent.rules.presets import load_preset
from solvent.rules.rate_curve import SECONDS_PER_YEAR

ROOT = Path(__file__).parents[2]
BACKPACK = load_preset("backpack")


def book(cash: dict[str, int], sol: dict[str, int] | None = None) -> Book:
    """Traders with ``cash`` (a negative balance is a borrow of the settlement currency) and
    ``sol`` quanta of SOL at 100,000 quote quanta (100 USDC) a quantum, to back a borrower."""
    sol = sol or {}
    traders = tuple(Account(n, cash_quote=c, asset_balances=(sol.get(n, 0),)) for n, c in cash.items())
    system = tuple(Account(r.value, role=r, asset_balances=(0,)) for r in SYSTEM_ROLES)
    return Book(
        Market("PERP", 1_000),
        traders + system,
        net_deposits_quote=sum(cash.values()),
        assets=(Asset("SOL", 100_000, sum(sol.values())),),
    )


def interest(s) -> list[tuple[str, str, int]]:
    return [
        (t.source, t.destination, t.amount_quote) for t in s.transfers if t.reason is Reason.INTEREST and t.amount_quote
    ]


class TestTheBorrowBearsInterest:
    # alice lends 10^12 quanta (1M USDC); bob owes 5 × 10^11, backed by 10^7 SOL quanta (1B USDC)
    START = book({"alice": 10**12, "bob": -5 * 10**11}, {"bob": 10**7})

    def test_an_hour_at_half_utilization(self) -> None:
        # utilization 500,000 ppm on the preset's USDC curve (two slopes, 7% at 70%): 50,000 ppm a
        # year; an hour of it on 5 × 10^11, rounded up, all to the only lender
        s = step(BACKPACK, self.START, InterestAccrual("", seconds=3_600))
        paid = -(-5 * 10**11 * 50_000 * 3_600 // (10**6 * SECONDS_PER_YEAR))
        assert paid == 2_853_882
        assert interest(s) == [("bob", "fee_account", paid), ("fee_account", "alice", paid)]
        assert s.after.account("bob").cash_quote == -5 * 10**11 - paid
        assert s.after.account("alice").cash_quote == 10**12 + paid

    def test_the_lend_rate_is_the_borrow_rate_times_utilization(self) -> None:
        # a second lender doubles the deposits: utilization 250,000 ppm, the borrow rate 25,000,
        # each lender's rate 25,000 × 0.25 on its own deposit
        start = book({"alice": 10**12, "carol": 10**12, "bob": -5 * 10**11}, {"bob": 10**7})
        s = step(BACKPACK, start, InterestAccrual("", seconds=SECONDS_PER_YEAR))
        paid = 5 * 10**11 * 25_000 // 10**6
        assert interest(s) == [
            ("bob", "fee_account", paid),
            ("fee_account", "alice", paid // 2),
            ("fee_account", "carol", paid // 2),
        ]
        assert paid // 2 == 10**12 * 25_000 // 10**6 * 250_000 // 10**6

    def test_no_claim_of_the_catalog_fails_on_the_step_but_those_the_venue_accepts(self) -> None:
        s = step(BACKPACK, self.START, InterestAccrual("", seconds=3_600))
        view = StepView.of(BACKPACK, s)
        failing = [inv.id for inv in CATALOG.values() if inv.applies(BACKPACK) and not inv.holds(view)]
        assert set(failing) <= set(BACKPACK.accepts), failing

    def test_a_debt_left_by_a_liquidation_bears_interest_and_a_deposit_repays_it_with_it(self) -> None:
        # the debt carry's negative balance is the same borrow: an hour's interest, then a deposit
        debtor = book({"alice": 10**12, "bob": -5 * 10**11})
        s = step(BACKPACK, debtor, InterestAccrual("", seconds=3_600))
        owed = -s.after.account("bob").cash_quote
        assert owed == 5 * 10**11 + 2_853_882
        repaid = step(BACKPACK, s.after, Deposit("bob", owed))
        assert repaid.after.account("bob").cash_quote == 0


class TestTheEvent:
    def test_a_policy_that_does_not_lend_its_settlement_currency_refuses_the_step(self) -> None:
        plain = attrs.evolve(BACKPACK, settlement_lending=None)
        with pytest.raises(RejectedEvent, match=r"no \[settlement_lending\]"):
            step(plain, TestTheBorrowBearsInterest.START, InterestAccrual("", seconds=3_600))

    def test_the_step_takes_seconds_not_a_rate(self) -> None:
        with pytest.raises(RejectedEvent, match="give seconds"):
            step(BACKPACK, TestTheBorrowBearsInterest.START, InterestAccrual("", 125_000))
        with pytest.raises(RejectedEvent, match="seconds must be between 1"):
            step(BACKPACK, TestTheBorrowBearsInterest.START, InterestAccrual("", seconds=0))


class TestPolicyText:
    def test_the_table_round_trips_and_a_policy_without_it_is_written_as_before(self) -> None:
        text = dumps_policy(BACKPACK)
        assert "[settlement_lending]" in text and "[[settlement_lending.rate_curve]]" in text
        assert loads_policy(text) == BACKPACK
        assert "settlement_lending" not in dumps_policy(attrs.evolve(BACKPACK, settlement_lending=None))

    def test_a_bad_curve_is_bad_input_naming_file_field_and_line(self, tmp_path) -> None:
        text = (ROOT / "rules" / "presets" / "backpack.toml").read_text(encoding="utf-8")
        head, tail = text.split("[settlement_lending]", 1)
        tail = tail.replace("utilization_ppm = 700000  #", "utilization_ppm = 0  #", 1)
        path = tmp_path / "venue.toml"
        path.write_text(head + "[settlement_lending]" + tail, encoding="utf-8")
        rows = path.read_text(encoding="utf-8").splitlines()
        start = next(i for i, row in enumerate(rows) if row == "[settlement_lending]")
        line = next(
            i
            for i, row in enumerate(rows, 1)
            if i > start and row.startswith("utilization_ppm = 0  #") and "kink" in row
        )
        out = tmp_path / "report.json"
        result = CliRunner().invoke(main, ["check", str(path), "--no-search", "--format", "json", "--output", str(out)])
        assert result.exit_code == 2 and not out.exists()
        assert "Traceback" not in result.output
        assert f"@ $.settlement_lending.rate_curve[1].utilization_ppm ({path}:{line}:19)" in result.stderr

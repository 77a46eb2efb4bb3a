"""Hyperliquid's transfer margin requirement (``[margin] transfer_floor_ppm``, ``rules.transfer_floor``):
margin leaves an isolated position (``RemoveMargin``) or a cross account (``Withdraw``) only while
what stays covers ``max(initial margin, 10% of the positions' notional)``
(hyperliquid-docs/trading/margining; docs/venues.md#hyperliquid-margin).

The book: a flat 5% initial / 2.5% maintenance rule (20x, so the 10% floor is the larger of the
two), alice long 1 lot at 30,000. Her isolated position holds 5,000: the floor is 3,000 (initial
margin 1,500), so 2,000 may be removed and 2,001 may not; without the floor 3,500 may.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules.book import Market, new_book
from solvent.rules.engine import RejectedEvent, requirements, run, step
from solvent.rules.events import AddMargin, Deposit, MarkPrice, RemoveMargin, Trade, Withdraw
from solvent.rules.loading import PolicyError, dumps_policy, loads_policy
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.policy import Policy, Units
from solvent.rules.transfer_floor import floor
from solvent.rules.waterfall import InsuranceFund

HL = MarginRule(
    (Tier(0, initial_ppm=50_000, maintenance_ppm=25_000),), modes=("cross", "isolated"), transfer_floor_ppm=100_000
)
POLICY = Policy("floor", HL, deficit=(InsuranceFund(),), units=Units(quote="1 USD", lot="1 contract"))
NO_FLOOR = attrs.evolve(POLICY, margin=attrs.evolve(HL, transfer_floor_ppm=0))
REASON = "would keep less than 10% of its positions' notional as margin after the move"


def isolated(policy: Policy, mark: int = 30_000):
    book = new_book(mark_quote=mark, traders=("alice", "bob"), isolated_positions=(("alice", "PERP"),))
    events = [
        Deposit("alice", 10_000),
        Deposit("bob", 100_000),
        AddMargin("alice", 5_000),
        Trade("alice", "bob", 1, mark),
    ]
    return run(policy, book, events)[-1].after


def cross(policy: Policy):
    book = new_book(mark_quote=30_000, traders=("alice", "bob"))
    return run(policy, book, [Deposit("alice", 5_000), Deposit("bob", 100_000), Trade("alice", "bob", 1, 30_000)])[
        -1
    ].after


def refusals(policy: Policy, book, event) -> list[str]:
    return [r.message for r in requirements(policy, book, event) if not r.holds]


class TestTheBoundary:
    def test_a_removal_leaving_exactly_the_floor_is_accepted(self) -> None:
        book = isolated(POLICY)
        assert floor(POLICY, book, book.account("alice:PERP")) == 3_000
        s = step(POLICY, book, RemoveMargin("alice", 2_000))
        assert s.after.account("alice:PERP").cash_quote == 3_000

    def test_one_quantum_more_is_refused_by_name(self) -> None:
        book = isolated(POLICY)
        (why,) = refusals(POLICY, book, RemoveMargin("alice", 2_001))
        assert (
            why
            == f"alice:PERP {REASON} (transfer_floor_ppm: the margin left must cover max(initial margin, that share))"
        )
        with pytest.raises(RejectedEvent, match="alice:PERP would keep less than 10%"):
            step(POLICY, book, RemoveMargin("alice", 2_001))

    def test_without_the_floor_initial_margin_alone_limits_the_removal(self) -> None:
        book = isolated(NO_FLOOR)
        assert step(NO_FLOOR, book, RemoveMargin("alice", 3_500)).after.account("alice:PERP").cash_quote == 1_500
        assert refusals(NO_FLOOR, book, RemoveMargin("alice", 3_501)) == [
            "alice:PERP would hold less than initial margin after the removal"
        ]

    def test_the_floor_rounds_up_as_every_requirement(self) -> None:
        """At a mark of 30,001 the floor is 3,000.1, so 3,001 must stay (``rounding.margin`` = ceil)."""
        book = isolated(POLICY, mark=30_001)
        assert floor(POLICY, book, book.account("alice:PERP")) == 3_001
        assert refusals(POLICY, book, RemoveMargin("alice", 1_999)) == []
        assert len(refusals(POLICY, book, RemoveMargin("alice", 2_000))) == 1

    def test_the_floor_follows_the_mark(self) -> None:
        """After the mark rises to 33,000 the position holds 8,000 and its floor is 3,300: 4,700 may go."""
        book = step(POLICY, isolated(POLICY), MarkPrice(33_000)).after
        assert book.account("alice:PERP").cash_quote == 8_000
        assert refusals(POLICY, book, RemoveMargin("alice", 4_700)) == []
        assert len(refusals(POLICY, book, RemoveMargin("alice", 4_701))) == 1

    def test_a_cross_withdrawal_keeps_the_floor_too(self) -> None:
        """Hyperliquid's sentence covers the cross account: alice's 5,000 backs 1 lot at 30,000."""
        book = cross(POLICY)
        assert refusals(POLICY, book, Withdraw("alice", 2_000)) == []
        assert refusals(POLICY, book, Withdraw("alice", 2_001)) == [
            f"alice {REASON} (transfer_floor_ppm: the margin left must cover max(initial margin, that share))"
        ]
        assert refusals(NO_FLOOR, book, Withdraw("alice", 3_500)) == []

    def test_a_flat_account_has_no_floor(self) -> None:
        book = run(POLICY, new_book(mark_quote=100), [Deposit("alice", 50)])[-1].after
        assert refusals(POLICY, book, Withdraw("alice", 50)) == []


class TestOneSemantics:
    @pytest.mark.parametrize(
        ("which", "event"),
        [
            ("isolated", RemoveMargin("alice", 2_000)),
            ("isolated", RemoveMargin("alice", 2_001)),
            ("cross", Withdraw("alice", 2_000)),
            ("cross", Withdraw("alice", 2_001)),
        ],
        ids=["remove-at-floor", "remove-one-more", "withdraw-at-floor", "withdraw-one-more"],
    )
    def test_z3_reads_the_same_verdicts(self, which: str, event) -> None:
        from solvent.solver.symbolic import (
            constant_book,
            constant_event,
            evaluate_requirements,
            simplifier,
            symbolic_requirements,
        )

        book = isolated(POLICY) if which == "isolated" else cross(POLICY)
        concrete = tuple(requirements(POLICY, book, event))
        got = evaluate_requirements(
            symbolic_requirements(POLICY, constant_book(book), constant_event(event)), simplifier()
        )
        assert got == concrete and repr(got) == repr(concrete)


class TestTheLoader:
    def test_it_loads_and_writes_back_and_is_left_out_at_zero(self) -> None:
        text = dumps_policy(POLICY)
        assert "transfer_floor_ppm = 100000" in text and loads_policy(text) == POLICY
        assert "transfer_floor_ppm" not in dumps_policy(NO_FLOOR)

    def test_a_floor_above_one_million_names_the_field_and_line(self) -> None:
        text = dumps_policy(POLICY).replace("transfer_floor_ppm = 100000", "transfer_floor_ppm = 1000001")
        with pytest.raises(PolicyError) as raised:
            loads_policy(text, source="venue.toml")
        (error,) = raised.value.errors
        assert "'transfer_floor_ppm' must be <= 1000000: 1000001 @ $.margin.transfer_floor_ppm (venue.toml:" in error
        line = int(error.rsplit("venue.toml:", 1)[1].split(":")[0])
        assert "transfer_floor_ppm" in text.splitlines()[line - 1]


def test_the_hyperliquid_example_keeps_ten_percent_at_forty_times() -> None:
    """``examples/hyperliquid-markets.toml`` states the floor; on BTC at 40x (initial margin 2.5%)
    the floor, not initial margin, limits a withdrawal: 1 lot at 100,000 USDC backed by 20,000
    keeps 10,000 (1,000,000 cents), so 1,000,000 cents may go and one more may not."""
    from pathlib import Path

    from solvent.rules.loading import load_policy

    policy = load_policy(Path(__file__).resolve().parents[2] / "examples" / "hyperliquid-markets.toml")
    assert policy.margin.transfer_floor_ppm == 100_000 and all(
        m.transfer_floor_ppm == 100_000 for m in policy.more_margins
    )
    mark = 10_000_000  # 100,000 USDC a lot, in cents
    book = new_book(
        market="BTC", mark_quote=mark, traders=("alice", "bob"), more_markets=(Market("ETH", 1), Market("SOL", 1))
    )
    book = run(policy, book, [Deposit("alice", 2_000_000), Deposit("bob", 10**9), Trade("alice", "bob", 1, mark)])[
        -1
    ].after
    assert refusals(policy, book, Withdraw("alice", 1_000_000)) == []
    assert len(refusals(policy, book, Withdraw("alice", 1_000_001))) == 1

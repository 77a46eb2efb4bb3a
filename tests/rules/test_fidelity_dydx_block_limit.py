"""dYdX v4's per-block deleveraging limit (issue 15; docs/venues.md#dydx-v4-deleveraging).

v4-chain's ``DeleverageSubaccounts`` (protocol/x/clob/keeper/deleveraging.go) attempts at most
``MaxDeleveragingAttemptsPerBlock`` subaccounts a block (default 10, protocol/x/clob/flags/flags.go),
in its list's order; the rest keep their positions, below zero, for a later block. The preset
declares ``adl.max_deleveraged_per_event = 10``, an event standing for a block
(``rules.deleveraging_limit``); the limit counts accounts, as v4-chain's loop does, so the
boundary is 10 bankrupt accounts against 11.

The book: ``n`` shorts of 100 lots at 500, each on 500 of cash, and a long winner on 10^9; the
fund empty (dYdX's all-or-nothing fund pays none of a loss it cannot pay whole). The mark moves
to 510: every short is 500 below zero at the mark, bankrupt, and is deleveraged against the winner.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules import bankruptcy, deleveraging_limit
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.loading import PolicyError, loads_policy
from solvent.rules.outcomes import DeleverageAttempt
from solvent.rules.presets import load_preset, preset_path
from solvent.rules.waterfall import Adl
from tests.rules.test_fidelity_round_two import _evolve, assert_every_mutant_is_caught

DYDX = load_preset("dydx-v4")
MARK, MOVED, LOTS = 500, 510, 100


def limited(limit: int | None):
    """The preset with ``max_deleveraged_per_event = limit`` (None: no limit)."""
    layers = tuple(attrs.evolve(x, max_deleveraged_per_event=limit) if isinstance(x, Adl) else x for x in DYDX.deficit)
    return attrs.evolve(DYDX, deficit=layers)


def shorts(n: int) -> Book:
    """``n`` shorts, each 500 below zero once the mark is at 510, and the winner long them all."""
    names = tuple(f"short{i:02}" for i in range(n))
    book = new_book(mark_quote=MARK, traders=(*names, "winner"))
    rows = {name: {"cash_quote": 500, "principal_quote": 500, "size_lots": -LOTS, "cost_quote": -LOTS * MARK}
            for name in names}  # fmt: skip
    rows["winner"] = {
        "cash_quote": 10**9,
        "principal_quote": 10**9,
        "size_lots": n * LOTS,
        "cost_quote": n * LOTS * MARK,
    }
    return _evolve(book, **rows)


def moved(n: int, policy=DYDX):
    return step(policy, shorts(n), MarkPrice(MOVED))


def open_shorts(s) -> dict[str, int]:
    return {a.name: a.size_lots for a in s.after.traders if a.size_lots < 0}


def attempts(s) -> list[tuple[str, bool]]:
    return [(o.account, o.deferred) for o in s.outcomes if isinstance(o, DeleverageAttempt)]


class TestTheBlockLimit:
    def test_the_preset_declares_v4_chains_default(self) -> None:
        assert DYDX.adl.max_deleveraged_per_event == 10
        assert DYDX.waterfall_summary() == "insurance_fund (all or nothing) → adl (at most 10 accounts an event)"

    def test_at_the_limit_every_bankrupt_account_is_deleveraged(self) -> None:
        s = moved(10)
        assert open_shorts(s) == {}
        assert attempts(s) == [(f"short{i:02}", False) for i in range(10)]

    def test_one_account_more_waits_for_the_next_block(self) -> None:
        s = moved(11)
        assert open_shorts(s) == {"short10": -LOTS}  # the 11th in book order keeps its position
        assert attempts(s)[-1] == ("short10", True)
        assert s.after.account("short10").cash_quote == 500 - LOTS * (MOVED - MARK)  # 500 below zero
        again = step(DYDX, s.after, MarkPrice(MOVED))  # the next block finds it again
        assert open_shorts(again) == {}
        assert attempts(again) == [("short10", False)]

    def test_the_story_says_it_waits(self) -> None:
        from solvent.reports.story import bankruptcies, deficit_sentence

        told = [deficit_sentence(b) for b in bankruptcies([moved(11)])]
        assert told[-1] == (
            "short10 went bankrupt with a deficit of 500; paid by unpaid 500. It keeps its position, below zero,"
            " for a later event: this one had deleveraged its limit of accounts."
        )
        assert not any("keeps its position" in t for t in told[:-1])

    def test_without_the_limit_all_eleven_go_at_once(self) -> None:
        assert open_shorts(moved(11, limited(None))) == {}
        assert attempts(moved(11, limited(None))) == []

    def test_a_limit_no_book_can_reach_adds_nothing_to_the_step(self) -> None:
        # 10 shorts and the winner are 11 traders: a limit of 11 can never defer, so no outcome is
        # noted and z3 gets no term (rules.deleveraging_limit.binds)
        at = moved(10, limited(11))
        assert attempts(at) == [] and open_shorts(at) == {}
        assert at.after == moved(10, limited(None)).after

    def test_a_limit_of_one(self) -> None:
        s = moved(3, limited(1))
        assert open_shorts(s) == {"short01": -LOTS, "short02": -LOTS}
        assert attempts(s) == [("short00", False), ("short01", True), ("short02", True)]


class TestPolicyFile:
    def test_at_least_one(self) -> None:
        with pytest.raises(ValueError, match="'max_deleveraged_per_event' must be >= 1: 0"):
            Adl(max_deleveraged_per_event=0)

    def test_a_policy_file_names_the_field_and_line(self) -> None:
        text = (
            preset_path("dydx-v4")
            .read_text()
            .replace("max_deleveraged_per_event = 10", "max_deleveraged_per_event = 0")
        )
        with pytest.raises(PolicyError) as caught:
            loads_policy(text, source="venue.toml")
        message = str(caught.value)
        assert "max_deleveraged_per_event" in message and "venue.toml:" in message and ">= 1" in message


def observe() -> list:
    out = []
    for n, policy in ((10, DYDX), (11, DYDX), (11, limited(None)), (10, limited(11)), (3, limited(1))):
        s = moved(n, policy)
        out.append((open_shorts(s), attempts(s)))
    return out


@pytest.mark.parametrize(
    ("name", "importers"), [("binds", ()), ("attempts", ()), ("deleverage_within_limit", (bankruptcy,))]
)
def test_every_mutant_of_the_limit_is_caught(monkeypatch, name: str, importers: tuple) -> None:
    assert_every_mutant_is_caught(monkeypatch, deleveraging_limit, name, observe, at_least=1, importers=importers)

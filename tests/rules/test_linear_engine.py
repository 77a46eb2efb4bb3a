"""What keeps a mark move on N traders O(N) without changing a result (issue 14): the step's working
copy of the accounts (``Ctx``), the book's name index, and the ADL queue sorted in O(N log N).

The whole engine is compared with the engine before, story by story, in
``tests/differential/test_engine_scale.py``; these tests pin each piece on its own.
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from solvent.rules.adl import _Entry, fills_by_rank, queue_fills, sort_network, sort_queue, taken
from solvent.rules.arith import ite, sum_
from solvent.rules.book import Account, Book, Role, new_book
from solvent.rules.ledger import EXTERNAL, Ctx, InternalError, Reason
from solvent.rules.positions import close_against


def _book() -> Book:
    book = new_book(mark_quote=100, traders=("alice", "bob", "carol"))
    book = book.replace_account(book.index("alice"), attrs.evolve(book.account("alice"), size_lots=5, cost_quote=500))
    return book.replace_account(book.index("bob"), attrs.evolve(book.account("bob"), size_lots=-5, cost_quote=-500))


class TestBookIndex:
    """Lookups by name and role are dictionary reads that agree with a scan of the accounts."""

    def test_index_and_role_agree_with_a_scan(self) -> None:
        book = _book()
        for i, account in enumerate(book.accounts):
            assert book.index(account.name) == i and book.account(account.name) is account
        for role in Role:
            if role is not Role.TRADER:
                assert book.role(role) is next(a for a in book.accounts if a.role is role)

    def test_unknown_name_is_named(self) -> None:
        with pytest.raises(KeyError, match=r"unknown account 'dave'; the book has \['alice', 'bob', 'carol', "):
            _book().index("dave")

    def test_duplicate_names_are_refused_after_a_valid_book(self) -> None:
        book = _book()
        accounts = (*book.accounts, Account("alice"))
        with pytest.raises(ValueError, match=r"'accounts' must have unique names: \['alice'\]"):
            attrs.evolve(book, accounts=accounts)

    def test_a_missing_role_is_refused(self) -> None:
        book = _book()
        accounts = tuple(a for a in book.accounts if a.role is not Role.VENUE)
        with pytest.raises(ValueError, match="'accounts' must hold exactly one venue account: 0"):
            attrs.evolve(book, accounts=accounts)

    def test_replacing_a_name_checks_the_book_again(self) -> None:
        book = _book()
        with pytest.raises(ValueError, match="unique names"):
            book.replace_account(book.index("alice"), Account("bob"))

    def test_a_rebuilt_book_equals_the_evolved_one(self) -> None:
        book = _book()
        accounts = tuple(attrs.evolve(a, cash_quote=a.cash_quote + 1) for a in book.accounts)
        rebuilt = book.with_balances(accounts)
        assert rebuilt == attrs.evolve(book, accounts=accounts)
        assert repr(rebuilt) == repr(attrs.evolve(book, accounts=accounts))
        assert rebuilt.account("carol").cash_quote == 1


class TestCtx:
    """A step's context changes one working copy in place, and every frozen book it hands out
    stays what it was."""

    def test_a_book_read_stays_frozen_while_the_step_goes_on(self) -> None:
        ctx = Ctx(_book())
        before = ctx.book
        ctx = ctx.transfer(EXTERNAL, "alice", 70, Reason.DEPOSIT)
        assert before.account("alice").cash_quote == 0
        assert ctx.account("alice").cash_quote == 70 and ctx.book.account("alice").cash_quote == 70

    def test_accounts_read_through_the_context_equal_the_book(self) -> None:
        ctx = Ctx(_book()).transfer("alice", "bob", 30, Reason.SETTLEMENT).update_account("carol", debt_quote=4)
        ctx = ctx.evolve_book(clock=3, net_deposits_quote=9)
        book = ctx.book
        assert [ctx.account(a.name) for a in book.accounts] == list(book.accounts)
        assert (book.clock, book.net_deposits_quote, ctx.book_field("clock")) == (3, 9, 3)
        assert book.account("bob").window_pnl_quote == 30 and book.account("carol").debt_quote == 4

    def test_the_ledger_keeps_every_entry_in_order(self) -> None:
        ctx = Ctx(_book())
        for amount in (1, 2, 3):
            ctx = ctx.transfer("alice", "bob", amount, Reason.SETTLEMENT)
        assert [e.item.amount_quote for e in ctx.entries] == [1, 2, 3]

    def test_a_context_moved_on_from_is_refused(self) -> None:
        first = Ctx(_book())
        first.transfer(EXTERNAL, "alice", 1, Reason.DEPOSIT)
        with pytest.raises(InternalError, match="used after a later one was made from it"):
            first.account("alice")

    def test_closing_nothing_changes_nothing(self) -> None:
        book = _book()
        ctx = close_against(Ctx(book), "alice", "liquidity", 0, 97, Reason.ADL)
        assert ctx.book == book and ctx.entries == ()


def _entries(draw: st.DrawFn) -> list[_Entry]:
    n = draw(st.integers(0, 9))
    order = draw(st.permutations(range(n)))
    scores = st.tuples(st.integers(-5, 5), st.integers(1, 4))
    out = []
    for index in order:
        num, den = draw(scores)
        out.append(_Entry(draw(st.booleans()), num, den, index, draw(st.integers(0, 5))))
    return out


class TestSortQueue:
    """The concrete sort serves the queue in exactly the network's order, ties included."""

    @given(st.composite(_entries)())
    def test_equals_the_network(self, entries: list[_Entry]) -> None:
        assert sort_queue(entries) == sort_network(entries)

    @given(st.composite(_entries)())
    def test_taken_equals_the_ite_sum(self, entries: list[_Entry]) -> None:
        served = [(e.index, e.lots) for e in entries]
        indices = [e.index for e in entries]
        expected = [sum_(ite(index == i, q, 0) for index, q in served) for i in indices]
        assert taken(served, indices) == expected


def _walk(entries: list[_Entry], lots: int) -> list[int]:
    """The queue as ADL walked it before issue 18's rank: the network's order, min(remaining,
    lots) from each eligible entry, each fill found again by index (``taken``)."""
    remaining, served = lots, []
    for e in sort_network(entries):
        q = min(remaining, e.lots) if e.eligible else 0
        remaining -= q
        served.append((e.index, q))
    return taken(served, [e.index for e in entries])


class TestQueueFills:
    """ADL's fills by rank (``fills_by_rank``, what z3 is given) are the walk's, ties, ineligible
    entries and a queue longer or shorter than the position included."""

    @given(st.composite(_entries)(), st.integers(0, 30))
    def test_by_rank_equals_the_walk(self, entries: list[_Entry], lots: int) -> None:
        assert fills_by_rank(entries, lots) == _walk(entries, lots)

    @given(st.composite(_entries)(), st.integers(0, 30))
    def test_the_concrete_path_equals_the_walk(self, entries: list[_Entry], lots: int) -> None:
        assert queue_fills(entries, lots) == _walk(entries, lots)

    def test_a_tie_serves_the_first_in_book_order(self) -> None:
        # 1/2 = 2/4: a tie; the entry first in the book (index 0) is served first, whichever
        # comes first in the list: ``>=`` before a later index, ``>`` before an earlier one
        first, second = _Entry(True, 1, 2, 0, 3), _Entry(True, 2, 4, 1, 3)
        assert fills_by_rank([second, first], 4) == [1, 3]
        assert fills_by_rank([first, second], 4) == [3, 1]

    def test_a_higher_score_later_in_the_book_comes_first(self) -> None:
        low, high = _Entry(True, 1, 3, 0, 3), _Entry(True, 1, 2, 1, 3)
        assert fills_by_rank([low, high], 4) == [1, 3]

    def test_an_ineligible_entry_takes_nothing_and_holds_nobody_back(self) -> None:
        out, top = _Entry(False, 9, 1, 0, 5), _Entry(True, 1, 1, 1, 2)
        assert fills_by_rank([out, top], 4) == [0, 2]

    def test_symbolic_indices_are_refused(self) -> None:
        with pytest.raises(ValueError, match="distinct concrete indices"):
            fills_by_rank([_Entry(True, 1, 1, 0, 1), _Entry(True, 1, 1, 0, 1)], 1)

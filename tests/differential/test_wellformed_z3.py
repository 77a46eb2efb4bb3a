"""The well-formed-book predicate, two interpreters: on a concrete book it is a Python ``bool``; on
the same book lifted into z3 (every data field an ``IntVal``, or a free ``z3.Int`` pinned to its
value) it is a z3 Boolean that must read back to the same verdict, condition by condition.

Books are reached by the search's own strategy (``stories``) on presets, then optionally nudged by
one quantum, one lot or one tick in one field, so both verdicts occur (the test counts them).
"""

from __future__ import annotations

from collections import Counter

import attrs
import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvent.properties.search import replay
from solvent.properties.strategies import stories
from solvent.rules.book import Account, Book
from solvent.rules.presets import load_preset
from solvent.rules.wellformed import StartMargin, conditions, well_formed
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds
from solvent.solver.symbolic import constant_book, data_fields, holds, pin, simplifier, variable_book
from solvent.solver.z3_backend import as_bool_term

PRESETS = ("binance", "backpack", "hyperliquid", "broker-reg-t")
MARGINS = (StartMargin.INITIAL, StartMargin.MAINTENANCE, StartMargin.SOLVENT, None)
FIELDS = data_fields(Account)
#: Books per preset: 20 (40 before session 28), each judged at four start margins; both verdicts are
#: still met at the default margin on every preset (asserted below).
EXAMPLES = 20


def _nudge(book: Book, data: st.DataObject) -> Book:
    """The book, or one account field, the mark or net deposits moved by -1, +1 or a tick."""
    where = data.draw(st.sampled_from(("none", "account", "mark", "deposits")))
    delta = data.draw(st.sampled_from((-1, 1)))
    if where == "account":
        i = data.draw(st.integers(0, len(book.accounts) - 1))
        field = data.draw(st.sampled_from(FIELDS))
        account = book.accounts[i]
        return book.replace_account(i, attrs.evolve(account, **{field: getattr(account, field) + delta}))
    if where == "mark":
        market = book.market
        return attrs.evolve(
            book, market=attrs.evolve(market, mark_quote=max(market.mark_quote + delta * market.tick_quote, 0))
        )
    if where == "deposits":
        return attrs.evolve(book, net_deposits_quote=book.net_deposits_quote + delta)
    return book


def _books(policy):
    """A book some drawn story passes through (its start or after any step), maybe nudged."""

    @st.composite
    def draw(draw_, story=stories(policy, max_traders=3, max_events=6)):
        s = draw_(story)
        steps = replay(policy, s) or []
        books = [s.book, *(x.after for x in steps)]
        book = books[draw_(st.integers(0, len(books) - 1))]
        return _nudge(book, draw_(st.data()))

    return draw()


@pytest.mark.parametrize("preset", PRESETS)
def test_symbolic_and_concrete_predicates_agree(preset):
    policy = load_preset(preset)
    verdicts: Counter = Counter()

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(_books(policy))
    def agree(book: Book) -> None:
        lifted = constant_book(book)
        for margin in MARGINS:
            concrete = conditions(policy, book, margin=margin)
            symbolic = conditions(policy, lifted, margin=margin)
            assert [c.name for c in symbolic] == [c.name for c in concrete]
            for c, s in zip(concrete, symbolic, strict=True):
                assert type(c.holds) is bool, c
                assert holds(s.holds, simplifier()) is c.holds, (c.name, book)
            whole = well_formed(policy, book, margin=margin)
            assert holds(well_formed(policy, lifted, margin=margin), simplifier()) is whole
            verdicts[(margin, whole)] += 1

    agree()
    # both verdicts were met at the default margin, so agreement was tested on each side
    assert verdicts[(StartMargin.INITIAL, True)] > 0 and verdicts[(StartMargin.INITIAL, False)] > 0, verdicts


@pytest.mark.parametrize("preset", ("binance", "hyperliquid"))
def test_free_variables_pinned_to_a_book_decide_the_same(preset):
    """With every field a free ``z3.Int`` pinned to a concrete book, the predicate is satisfiable
    exactly when the concrete book is well formed (and the prover's assumptions contain it)."""
    policy = load_preset(preset)
    bounds = Bounds(accounts=3)
    seen: Counter = Counter()

    @settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(_books(policy))
    def decide(book: Book) -> None:
        variables, _ = variable_book(book)
        expected = well_formed(policy, book)
        solver = z3.Solver()
        solver.add(*pin(variables, book), as_bool_term(well_formed(policy, variables)))
        assert (solver.check() == z3.sat) is expected, book
        names = {a.name for a in book_assumptions(policy, variables, bounds)}
        assert {c.name for c in conditions(policy, variables)} <= names
        seen[expected] += 1

    decide()
    assert seen[True] > 0, seen

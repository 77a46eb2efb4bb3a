"""``plain_book.tidy``'s cuts of the amounts z3 leaves arbitrary (docs/model.md, "A z3 story is told at its
least move"): each kept only while the concrete engine still fails the claim, each at its least.

Binance's ``principal-protected`` as check's z3 story had it (the gallery before session 33): alice holds
USDT 0.80 of cash below USDT 100,000 of principal, one lot long, and the deleveraging that covers bob's
bankruptcy takes from her. Her principal need only stand above what the deleveraging leaves her."""

from __future__ import annotations

import attrs

from solvent.properties import catalog
from solvent.properties.scenarios import Story
from solvent.rules.book import Account, Book, Market, Role
from solvent.rules.events import MarkPrice
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds
from solvent.solver.plain_book import breaks, tidy
from tests.book_support import system_accounts

SYSTEM = system_accounts()


def _binance_story() -> Story:
    accounts = (
        Account("alice", cash_quote=80, size_lots=1, cost_quote=10_000, principal_quote=10_000_000),
        Account("bob", cash_quote=39_920, size_lots=-499, cost_quote=-4_990_000),
        Account("liquidity", Role.LIQUIDITY, size_lots=498, cost_quote=4_980_000),
        *SYSTEM,
    )
    return Story(Book(Market("PERP", 10_000), accounts, net_deposits_quote=40_000), (MarkPrice(10_081),))


def _with(story: Story, name: str, **fields: int) -> Story:
    book = story.book
    i = book.index(name)
    return attrs.evolve(story, book=book.replace_account(i, attrs.evolve(book.accounts[i], **fields)))


def test_a_principal_z3_left_far_above_the_cash_is_cut_to_the_least_that_fails() -> None:
    policy, claim, bounds = load_preset("binance"), catalog.get("principal-protected"), Bounds(accounts=2, events=1)
    story = _binance_story()
    assert breaks(policy, claim, story, bounds)
    told = tidy(policy, claim, story, bounds)
    alice = told.book.account("alice")
    assert alice.cash_quote == 80 and alice.principal_quote == 161  # USDT 1.61, not 100,000
    assert breaks(policy, claim, told, bounds)
    assert not breaks(policy, claim, _with(told, "alice", principal_quote=160), bounds)  # one quantum less holds
    # with z3's principal gone the book divides: bob's 499 lots short become 31
    assert told.book.account("bob").size_lots == -31

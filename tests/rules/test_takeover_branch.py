"""The takeover threshold's branch (rules/engine.py ``liquidate``) in the shape the prover builds.

Under ``takeover_below_ppm`` (Hyperliquid) a liquidated account goes to the backstop vault below that
share of its maintenance, else to the book. Written as "taken over or not, each then solvent or
bankrupt", the symbolic step built two resolves a turn (the market rule's and the takeover rule's).
Where a close at its fill is bankrupt exactly when the account is below zero (one market, no
collateral assets, no slippage, closed whole), below zero is taken over (maintenance ≥ 0) and an
account not taken over is solvent: the engine branches on that, and builds one resolve a turn.

Differential: on a free book z3 finds no state where the two shapes leave any account or the ledger
differently (exact, every number free, the mark and previous mark prices); on concrete books the
two shapes write the same entries and outcomes; with slippage the shortcut is not taken, and forced
there it differs from the two-branch shape (z3 has a model).
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
import z3

import solvent.rules.engine as engine
from solvent.rules.arith import sum_, when
from solvent.rules.book import Account, Book, Market, Role
from solvent.rules.ledger import Ctx
from solvent.rules.liquidation import is_taken_over, takeover_rule
from solvent.rules.outcomes import Bankrupt
from solvent.rules.presets import resolve_policy
from solvent.solver import effort, wall
from solvent.solver.bounds import Bounds
from solvent.solver.story import symbolic_book

HYPERLIQUID = resolve_policy("hyperliquid")
UNITS = 20_000_000


def _two_branches(policy: Any, ctx: Ctx, name: str) -> Ctx:
    """The branch as it was written before: taken over or not, then ``_liquidate`` under each rule."""
    account = ctx.account(name)
    e = engine.margin_equity(policy, ctx.book_field("assets"), account)
    mm = engine._maintenance(policy, ctx, account)
    taken = attrs.evolve(policy, liquidation=takeover_rule(policy.liquidation))
    return ctx.branch(
        is_taken_over(policy.liquidation, e, mm),
        lambda c: engine._liquidate(taken, c, name),
        lambda c: engine._liquidate(policy, c, name),
    )


def _moved(ctx: Ctx, account: str) -> Any:
    """What the ledger moved into ``account`` less what it moved out, by the call's entries."""
    ins = sum_(when(e.guard, e.item.amount_quote) for e in ctx.entries if e.item.destination == account)
    outs = sum_(when(e.guard, e.item.amount_quote) for e in ctx.entries if e.item.source == account)
    return ins - outs


def _differs(policy: Any) -> str:
    """z3 on a free two-trader book: any account's cash, position or cost basis, or what the ledger
    moved into it, differs between ``liquidate`` and the two-branch shape."""
    with effort.question():
        book, _ = symbolic_book(Bounds(accounts=2, events=1))
        one = engine.liquidate(policy, Ctx(book), "alice")
        two = _two_branches(policy, Ctx(book), "alice")
        differ = []
        for a in book.accounts:
            x, y = one.book.account(a.name), two.book.account(a.name)
            differ += [x.cash_quote != y.cash_quote, x.size_lots != y.size_lots, x.cost_quote != y.cost_quote]
            differ.append(z3.IntVal(0) + _moved(one, a.name) != z3.IntVal(0) + _moved(two, a.name))
        prices = [book.market.mark_quote >= 1, book.market.previous_mark_quote >= 1]
        return wall.check([*prices, z3.Or(*differ)], [], UNITS, 120.0).result


def test_the_one_resolve_shape_is_the_two_branch_shape_on_a_free_book() -> None:
    assert engine._below_zero_is_taken_over(HYPERLIQUID, Ctx(symbolic_book(Bounds(accounts=2))[0]))
    assert _differs(HYPERLIQUID) == "unsat"


def test_with_slippage_the_shortcut_is_not_taken_and_forced_it_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A market close one ppm from the mark: an account not taken over may be bankrupt at its fill,
    so the engine keeps the two-branch shape; forcing the shortcut there gives z3 a model."""
    slipping = attrs.evolve(HYPERLIQUID, liquidation=attrs.evolve(HYPERLIQUID.liquidation, slippage_ppm=1))
    assert not engine._below_zero_is_taken_over(slipping, Ctx(symbolic_book(Bounds(accounts=2))[0]))
    monkeypatch.setattr(engine, "_below_zero_is_taken_over", lambda policy, ctx: True)
    assert _differs(slipping) == "sat"


def _book(cash: int, size: int, mark: int, previous: int, vault: int) -> Book:
    """A concrete book: alice holds ``size`` lots with ``cash``, the order book the other side."""
    accounts = (
        Account("alice", cash_quote=cash, size_lots=size, cost_quote=size * previous),
        Account("bob", cash_quote=1_000_000),
        Account("book", Role.LIQUIDITY, cash_quote=10**9, size_lots=-size, cost_quote=-size * previous),
        Account("vault", Role.BACKSTOP_VAULT, cash_quote=vault),
        Account("clearing", Role.CLEARING),
        Account("venue", Role.VENUE),
        Account("fee", Role.FEE_ACCOUNT),
        Account("fund", Role.INSURANCE_FUND),
    )
    return Book(Market("BTC", mark_quote=mark, previous_mark_quote=previous), accounts)


#: at a mark of 3,000,000 quanta a lot, one lot's maintenance is 37,500 (1.25%), two thirds 25,000;
#: 100 lots are a notional of 300M quanta, above the partial order's 10M (maintenance 3.75M)
@pytest.mark.parametrize(
    ("cash", "size", "vault", "bankrupt", "to_vault"),
    [
        (-500, 1, 0, True, False),  # below zero, the vault empty: ADL closes it against the book's side
        (-500, 1, 10_000, True, True),  # below zero, the vault pays
        (0, 1, 0, False, True),  # at zero: below 2/3 of maintenance, taken over, solvent
        (20_000, 1, 0, False, True),  # above zero, below 2/3 of maintenance: taken over
        (30_000, 1, 0, False, False),  # between 2/3 of maintenance and maintenance: to the book
        (3_000_000, 100, 0, False, False),  # a large position not taken over: a partial order to the book
    ],
)
def test_concrete_books_write_the_same_entries_and_outcomes(
    cash: int, size: int, vault: int, bankrupt: bool, to_vault: bool
) -> None:
    book = _book(cash, size, mark=3_000_000, previous=3_100_000, vault=vault)
    one = engine.liquidate(HYPERLIQUID, Ctx(book), "alice")
    two = _two_branches(HYPERLIQUID, Ctx(book), "alice")
    assert [e.item for e in one.entries] == [e.item for e in two.entries]
    assert [g.item for g in one.outcomes] == [g.item for g in two.outcomes]
    assert one.book == two.book
    assert any(isinstance(g.item, Bankrupt) for g in one.outcomes) is bankrupt
    assert (one.book.account("vault").size_lots != 0) is to_vault
    if size == 100:  # the partial order: a fifth of the position to the book
        assert one.book.account("alice").size_lots == 80

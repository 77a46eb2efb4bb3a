"""The turn lemmas' system accounts are fresh at every turn (``per_account._with_fresh_system``).

A lemma proved for one turn is used for every turn, so the system accounts it starts from must
be every value, not what an earlier turn left. ``variable_book`` lifts integers only and keeps a
field that is already a term; before session 21 the second turn's "fresh" fund was the first
turn's fund plus what that turn paid in (helper F's finding). These tests fail with the zeroing
taken out of ``_with_fresh_system``.
"""

from __future__ import annotations

import pytest
import z3

from solvent.rules.engine import liquidation_turn
from solvent.rules.events import MarkPrice
from solvent.rules.fields import data_fields
from solvent.rules.presets import resolve_policy
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.per_account import FRESH, _settled, _with_fresh_system
from solvent.solver.story import symbolic_book


def _fields(account) -> list:
    return [getattr(account, name) for name in data_fields(type(account))]


@pytest.mark.parametrize("preset", ["binance", "bitmex", "percolator-gen-b"])
def test_every_system_number_is_a_fresh_variable_at_every_turn(preset: str) -> None:
    policy = resolve_policy(preset)
    book, _ = symbolic_book(for_policy(Bounds(accounts=2, events=1), policy))
    ctx = _settled(policy, book, MarkPrice(price_quote=z3.Int("e1.mark")))
    for t in [a.name for a in book.traders]:
        prefix = f"{FRESH}{t}."
        ctx = _with_fresh_system(ctx, prefix)
        for account in ctx.book.accounts:
            if account.is_trader:
                continue
            for value in _fields(account):
                # a variable of its own, named for this turn: not a term over an earlier turn's
                assert z3.is_const(value) and str(value).startswith(prefix), (account.name, value)
        ctx = liquidation_turn(policy, ctx, t)


def test_the_traders_are_kept() -> None:
    policy = resolve_policy("binance")
    book, _ = symbolic_book(for_policy(Bounds(accounts=2, events=1), policy))
    ctx = _settled(policy, book, MarkPrice(price_quote=z3.Int("e1.mark")))
    start = ctx.book
    fresh = _with_fresh_system(ctx, "x.")
    for before, after in zip(start.accounts, fresh.book.accounts, strict=True):
        if before.is_trader:
            assert after is before

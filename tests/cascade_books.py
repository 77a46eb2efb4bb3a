"""Random books for the socialized loss's cascade, shared by the engine's test of the cascade loop
(``tests/rules/test_cascade_in_turn.py``) and the solver's test of what the cascade's invariant
assumes of a turn (``tests/solver/test_cascade_invariant.py``). Tests import it as
``from tests.cascade_books import random_book``.
"""

from __future__ import annotations

import random

import attrs

from solvent.rules.book import Book, new_book


def random_book(rng: random.Random, traders: int) -> Book:
    """Mark 100, each trader a random position opened there on random cash (its principal), the
    order book holding the other side, a small insurance fund. The draws from ``rng`` in a fixed
    order (each trader's size then cash, then the fund), so a seed gives the same book."""
    book = new_book(mark_quote=100, traders=tuple(f"t{i}" for i in range(traders)))
    total = 0
    for i in range(traders):
        size, cash = rng.randint(-20, 20), rng.randint(0, 400)
        total += size
        k = book.index(f"t{i}")
        account = attrs.evolve(
            book.accounts[k], size_lots=size, cost_quote=100 * size, cash_quote=cash, principal_quote=cash
        )
        book = book.replace_account(k, account)
    k = book.index("liquidity")
    book = book.replace_account(k, attrs.evolve(book.accounts[k], size_lots=-total, cost_quote=-100 * total))
    k = book.index("insurance_fund")
    book = book.replace_account(k, attrs.evolve(book.accounts[k], cash_quote=rng.randint(0, 50)))
    return attrs.evolve(book, net_deposits_quote=sum(a.cash_quote + a.spot_quote for a in book.accounts))

"""Percolator Gen B's ``flat-accounts-never-pay`` over mark moves
(docs/solver-notes.md#gen-bs-flat-accounts-never-pay-at-k--3-session-26).

At K > 1 the flat-trader argument is asked from any state (``per_account.flat_trader_argument``:
the prices within bounds, every other number free). On Gen B that lemma has a model: alice flat
at −2 and the insurance fund below what she owes at her turn, so her §7.3 write-off
(``bankruptcy.write_off``) goes past the fund to the haircut over matured profit, and bob, flat
with a reserve whose slot's release (``haircut_ratio.release_reserves``) made a quantum of it
matured, pays that quantum. On the concrete engine (``tests/solver/test_gen_b_flat.py``) the only
condition of the well-formed book that book breaks is alice's margin: a flat trader below zero.
bob's side of it is a book Gen B reaches (a flat account keeps its reserve, spec v11.31 §7.4
converts matured profit only), so the claim rests on the other side: no flat trader below zero.

So on Gen B the argument takes one fact more of the book before the move, :data:`PREMISE`
(:func:`premise`: each trader with no open lots is worth at least zero), and proves
(:func:`flat_lemma`, exact z3 on the engine's own run, the system accounts fresh at each turn):

- the catalog's claim: no turn charges bob, flat (nor alice when flat);
- bob's part of the premise kept: bob ends the move flat at the cash he started it with.

Over moves (``compositional._gen_b_flat``, where ``gen_b_payer.inducts``): the premise at the first
move from the question's start and at every later one from the premise over moves (:func:`start_lemma`
at both), kept for a trader that *becomes* flat in a move (liquidated, or its lots all taken by an
opposing bankruptcy's shrink and charged per lot) by no-negative-equity over moves (``gen_b_payer``:
every trader at or above 0 after each move and through each turn).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.properties import catalog
from solvent.rules.book import Book
from solvent.rules.margin import equity, open_lots
from solvent.rules.policy import Policy
from solvent.rules.wellformed import StartMargin, trader_conditions
from solvent.solver.bounds import Bounds
from solvent.solver.per_account import _b, flat_trader_argument
from solvent.solver.story import symbolic_book

Valid = Callable[..., str]

#: the fact of the book before a move the lemma takes beside the prices
PREMISE = "every trader with no open lots is worth at least zero when the move starts"
#: the method line of the claim over moves (``compositional._gen_b_flat``)
METHOD = (
    "compositional, all N, any K: no turn charges a flat trader from flat traders worth at least zero at the "
    "move's start, the flat trader ending the move flat at its cash (z3, exact, on the engine's own run, the system "
    "accounts fresh at each turn); that premise from each move's start (the question's, then the premise over "
    "moves) and every trader at or above 0 after each move by no-negative-equity's induction"
)
#: the claim's id
FLAT = "flat-accounts-never-pay"
#: the lemma's book: two traders, any K (the argument's any-K frame: events > 1)
LEMMA_BOUNDS = Bounds(accounts=2, events=2)


def worth(policy: Policy, account: Any, floor: Any = 0) -> Any:
    """One trader's part of :data:`PREMISE`: with no open lots, its equity at least ``floor``
    (0 the premise; −1 the mutant one quantum lower)."""
    return z3.Implies(_b(open_lots(account) == 0), _b(equity(policy.margin, account) >= floor))


def premise(policy: Policy, floor: Any = 0) -> Callable[[Book], list[Any]]:
    """:data:`PREMISE` on a book, one conjunct a trader (:func:`worth`)."""
    return lambda book: [worth(policy, a, floor) for a in book.traders]


def kept(before: Book, after: Book) -> Any:
    """bob (the argument's flat trader, the book's last) ends the move flat at the cash he started with."""
    name = before.traders[-1].name
    was, now = before.account(name), after.account(name)
    return z3.And(_b(open_lots(now) == 0), _b(now.cash_quote == was.cash_quote))


def flat_lemma(policy: Policy, valid: Valid, fail: Callable[[str], None], floor: Any = 0) -> list[str]:
    """The flat-trader argument from any state with :data:`PREMISE` added (``per_account.flat_trader_argument``
    with ``start``), the claim asked with :func:`kept`: exact z3 on the engine's own run."""
    return flat_trader_argument(
        policy,
        catalog.get(FLAT),
        LEMMA_BOUNDS,
        valid,
        fail,
        start=premise(policy, floor),
        kept=kept,
        said=", from flat traders worth at least zero; the flat trader ends flat at its cash",
    )


def start_lemma(policy: Policy, valid: Valid, margin: StartMargin = StartMargin.MAINTENANCE) -> list[str]:
    """A trader meeting its own well-formed conditions at ``margin`` (``wellformed.trader_conditions``)
    meets :data:`PREMISE` (one query a trader of the two-trader book, exact)."""
    book, _ = symbolic_book(attrs.evolve(LEMMA_BOUNDS, events=1))
    out = []
    for a in book.traders:
        conditions = [_b(c.holds) for c in trader_conditions(policy, book, a.name, margin=margin)]
        said = f"{a.name} well formed at {margin.value} margin is worth at least zero if flat"
        out.append(valid(said, conditions, worth(policy, a)))
    return out


__all__ = ["FLAT", "LEMMA_BOUNDS", "PREMISE", "flat_lemma", "kept", "premise", "start_lemma", "worth"]

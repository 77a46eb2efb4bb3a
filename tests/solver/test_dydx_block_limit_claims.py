"""A finding (session 20): dYdX v4's per-block deleveraging limit breaks ``no-negative-equity``,
``loss-bounded-by-collateral`` and ``claims-backed`` from a well-formed book at N = 12
(docs/solver-notes.md#dydxs-walk-the-remaining-claims-session-20).

dYdX deleverages at most 10 bankrupt subaccounts a block (``adl.max_deleveraged_per_event = 10``,
v4-chain deleveraging.go ``DeleverageSubaccounts``, flags.go default 10; ``rules.deleveraging_limit``);
the 11th keeps its position, below zero, for a later block. The story: 11 shorts of 100 lots at 500,
each on exactly its initial margin (5%: 2,500), and one long winner of 1,100 lots on 10^6; the
fund empty. The mark moves 6% to 530: every short is 500 below zero, 10 are deleveraged against the
winner, the 11th is deferred and ends the step at −500 with its position. Replayed on the concrete
engine; the preset does not accept these claims (its ``accepts``): reported as a finding for the
lead. With 10 shorts (N = 11) nobody is deferred and every claim holds. Neither proof of this session
rests on the claims it breaks: ``deficit-charged-once`` and ``adl-ranking-respected`` hold of the
story (a deferred account's call is covered, ``deficit_once.deferred_lemma``).
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties.catalog import StepView, get
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.presets import resolve_policy
from solvent.rules.wellformed import reasons
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds, for_policy

DYDX = resolve_policy("dydx-v4")
MARK, MOVED, LOTS, MARGIN = 500, 530, 100, 2_500
BROKEN = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed")
KEPT = ("deficit-charged-once", "adl-ranking-respected", "adl-price-fair", "conservation", "open-interest-balance")


def shorts(n: int) -> Book:
    names = tuple(f"short{i:02}" for i in range(n))
    book = new_book(mark_quote=MARK, traders=(*names, "winner"))
    rows = {name: {"cash_quote": MARGIN, "principal_quote": MARGIN, "size_lots": -LOTS, "cost_quote": -LOTS * MARK}
            for name in names}  # fmt: skip
    rows["winner"] = {
        "cash_quote": 10**6,
        "principal_quote": 10**6,
        "size_lots": n * LOTS,
        "cost_quote": n * LOTS * MARK,
    }
    for name, fields in rows.items():
        i = book.index(name)
        book = book.replace_account(i, attrs.evolve(book.accounts[i], **fields))
    return attrs.evolve(book, net_deposits_quote=sum(a.cash_quote for a in book.accounts))


def holds(n: int, claim: str) -> bool:
    return get(claim).holds(StepView.of(DYDX, step(DYDX, shorts(n), MarkPrice(MOVED))))


@pytest.mark.parametrize("n", [10, 11])
def test_the_start_is_within_the_provers_assumptions(n: int) -> None:
    """Well formed at initial margin (each short exactly at its 5%), every value within the bounds."""
    book = shorts(n)
    assert reasons(DYDX, book) == []
    unmet = [
        a.name for a in book_assumptions(DYDX, book, for_policy(Bounds(accounts=n + 1), DYDX)) if a.holds is not True
    ]
    assert unmet == []


def test_the_eleventh_bankrupt_account_ends_the_step_below_zero() -> None:
    after = step(DYDX, shorts(11), MarkPrice(MOVED)).after
    assert {a.name: (a.cash_quote, a.size_lots) for a in after.traders if a.size_lots} == {
        "short10": (MARGIN - LOTS * (MOVED - MARK), -LOTS),  # −500, its position kept
        "winner": (10**6 + 11 * LOTS * (MOVED - MARK) - 10 * 500, LOTS),  # its gain, less 10 deficits paid
    }


@pytest.mark.parametrize("claim", BROKEN)
def test_the_block_limit_breaks_the_payers_claims_at_twelve_traders(claim: str) -> None:
    assert not holds(11, claim)
    assert holds(10, claim)  # eleven traders: nobody deferred
    assert claim not in DYDX.accepts  # the finding: not accepted by the preset


@pytest.mark.parametrize("claim", KEPT)
def test_the_claims_proved_for_every_n_hold_of_the_story(claim: str) -> None:
    assert holds(11, claim) and holds(10, claim)

"""dYdX v4's per-block deleveraging limit at N = 12: the 11th bankrupt account is left for a later
block, and the payer's claims read it at its resolution (decision:
docs/model.md#an-account-deferred-to-a-later-block; the finding that led to it:
docs/solver-notes.md#dydxs-walk-the-remaining-claims-session-20).

dYdX deleverages at most 10 bankrupt subaccounts a block (``adl.max_deleveraged_per_event = 10``,
v4-chain deleveraging.go ``DeleverageSubaccounts``, flags.go default 10; ``rules.deleveraging_limit``);
the 11th keeps its position, below zero, for a later block. The story: 11 shorts of 100 lots at 500,
each on exactly its initial margin (5%: 2,500), and one long winner of 1,100 lots on 10^6; the
fund empty. The mark moves 6% to 530: every short is 500 below zero, 10 are deleveraged against the
winner, the 11th is deferred and ends the step at −500 with its position. Its waterfall has not run,
so ``no-negative-equity``, ``loss-bounded-by-collateral`` and ``claims-backed`` (what the waterfall
leaves) do not read it in this step; every other account they still read, and the preset accepts none
of them. ``deficit-charged-once`` and ``adl-ranking-respected`` hold of the story as their all-N
arguments say (a deferred account's call is covered, ``deficit_once.deferred_lemma``).
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties.catalog import StepView, get
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.outcomes import DeleverageAttempt
from solvent.rules.presets import resolve_policy
from solvent.rules.wellformed import reasons
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds, for_policy

DYDX = resolve_policy("dydx-v4")
MARK, MOVED, LOTS, MARGIN = 500, 530, 100, 2_500
DEFERRED = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed")
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


def test_the_step_notes_the_eleventh_account_deferred_and_nobody_else() -> None:
    s = step(DYDX, shorts(11), MarkPrice(MOVED))
    view = StepView.of(DYDX, s)
    assert [a.name for a in s.after.traders if view.deferred(a.name)] == ["short10"]
    assert not any(view.deferred(a.name) for a in step(DYDX, shorts(10), MarkPrice(MOVED)).after.traders)


@pytest.mark.parametrize("claim", DEFERRED)
def test_the_payers_claims_read_the_deferred_account_at_its_resolution(claim: str) -> None:
    assert holds(11, claim) and holds(10, claim)
    assert claim not in DYDX.accepts  # no blanket acceptance: every other account is still read


@pytest.mark.parametrize("claim", DEFERRED)
def test_without_the_deferral_note_the_account_below_zero_breaks_the_claim(claim: str) -> None:
    """The exclusion is exactly the engine's note: the same step with its deferral outcome dropped is a
    step that left an account below zero after its waterfall, and each claim fails on it."""
    s = step(DYDX, shorts(11), MarkPrice(MOVED))
    unnoted = attrs.evolve(s, outcomes=tuple(o for o in s.outcomes if not isinstance(o, DeleverageAttempt)))
    assert not get(claim).holds(StepView.of(DYDX, unnoted))


@pytest.mark.parametrize("claim", DEFERRED)
def test_another_account_below_zero_is_still_read(claim: str) -> None:
    """A deferral excuses only the deferred account: the winner put below zero after the same step
    breaks each claim."""
    s = step(DYDX, shorts(11), MarkPrice(MOVED))
    i = s.after.index("winner")
    winner = s.after.accounts[i]
    sunk = s.after.replace_account(i, attrs.evolve(winner, cash_quote=-(10**7)))
    assert not get(claim).holds(StepView.of(DYDX, attrs.evolve(s, after=sunk)))


@pytest.mark.parametrize("claim", KEPT)
def test_the_claims_proved_for_every_n_hold_of_the_story(claim: str) -> None:
    assert holds(11, claim) and holds(10, claim)

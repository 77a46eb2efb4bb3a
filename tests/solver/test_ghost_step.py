"""dYdX's K-move step read against the ghost price P: an account the block limit defers is within the
premise (solver/ghost_step.py; docs/solver-notes.md#dydxs-block-limit-lifted-session-23).

Each lemma of the step is asked here on its own (each well under a second), then with one token of
the engine rule it rests on changed, where it must have a model. The premise is pinned on the block
limit's concrete story: the eleventh short, deferred at −500, is exactly on its initial margin at
P = 500 (the mark the story started from) and outside at 501, and outside the solvent premise at the mark.
"""

from __future__ import annotations

import attrs
import pytest
import z3

import solvent.rules.deleveraging_limit as limit_module
from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules.arith import PPM
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.outcomes import DeleverageAttempt
from solvent.rules.presets import resolve_policy
from solvent.rules.wellformed import StartMargin
from solvent.solver import effort, ghost_step, induction, payer_ghost, wall
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.payer_lemma import charge_question
from solvent.solver.per_account import integer_atoms

DYDX = resolve_policy("dydx-v4")


@pytest.fixture(autouse=True)
def _nothing_remembered():
    payer_ghost.forget()
    yield
    payer_ghost.forget()


def _check(premise, claim) -> str:
    return wall.check([*premise, z3.Not(claim)], [], 8_000_000, 300.0).result


def _ask(build) -> str:
    with effort.question():
        return _check(*build())


# --- the deferred step -----------------------------------------------------------------------


def _limit_reached_strictly(layer, ctx, name, deleverage):
    """``deleverage_within_limit`` with one token changed: the limit reached at ``>``, not ``>=``."""
    if not limit_module.binds(layer, ctx):
        return deleverage(ctx)
    full = limit_module.attempts(ctx) > layer.max_deleveraged_per_event
    return ctx.branch(
        full,
        lambda c: c.note(DeleverageAttempt(name, True)),
        lambda c: deleverage(c.note(DeleverageAttempt(name, False))),
    )


#: a book the mutant's model is asked on (its z3 search over every book costs 5.1M units): alice long
#: 10 at 100 on her initial margin (50), bob short 10 on his, the mark falling to 50, P = 100
_ALICE_FALLS = {
    "s0.PERP.mark_quote": 100,
    "payer.deferred.new_mark": 50,
    "payer.ghost_mark": 100,
    "s0.alice.size_lots": 10,
    "s0.alice.cash_quote": 50,
    "s0.alice.cost_quote": 1_000,
    "s0.bob.size_lots": -10,
    "s0.bob.cash_quote": 50,
    "s0.bob.cost_quote": -1_000,
}


def _deferred_on(book: dict[str, int]):
    premise, claim = ghost_step.deferred_step_question(DYDX)
    read = {str(x) for x in integer_atoms(z3.And(*premise, claim))}
    assert set(book) <= read, set(book) - read  # each pinned number is one the question reads
    return [*premise, *(z3.Int(name) == value for name, value in book.items())], claim


def test_a_deferred_step_leaves_the_account_within_the_premise(monkeypatch) -> None:
    """A mark's settlement, then the turn with the limit reached (at 1, one attempt before): both
    traders stay within the ghost, the account within its own part of the premise, as settlement left
    it or flat at or above zero, the other as settlement left it (0.16M units, every number free).
    With the limit read one attempt late (``>=`` → ``>``), the account is deleveraged against the
    other trader: on alice's fall from 100 to 50 the claim has a model."""
    assert _ask(lambda: ghost_step.deferred_step_question(DYDX)) == "unsat"
    assert _ask(lambda: _deferred_on(_ALICE_FALLS)) == "unsat"
    import solvent.rules.bankruptcy as bankruptcy

    monkeypatch.setattr(bankruptcy, "deleverage_within_limit", _limit_reached_strictly)
    assert _ask(lambda: _deferred_on(_ALICE_FALLS)) == "sat"


# --- the floor and the charge at P -----------------------------------------------------------


def test_the_floor_at_the_ghost_price(monkeypatch) -> None:
    """Within the ghost at P: worth ≥ 0 at P with the fee to close at P inside it. With the fee to
    close one token off (``else 0`` → ``else PPM``: 100% of the notional), it is not."""
    assert _ask(lambda: ghost_step.floor_question(DYDX)) == "unsat"
    monkeypatch.setattr(ghost_step, "fee_to_close_rate", lambda policy: PPM)
    assert _ask(lambda: ghost_step.floor_question(DYDX)) == "sat"


def _charge(part: str):
    charge = charge_question(DYDX, ref=ghost_step.price())
    return list(charge.premise), getattr(charge, part)


def test_the_charge_read_against_the_ghost_price(monkeypatch) -> None:
    """The engine's resolve, from a bankrupt account worth ≥ 0 at P: a payer's fill shrinks its
    position and takes its cash only, the first fill at most its lots times |M − P|. With the fill's
    share of the deficit over the lots left instead of the lots filled (one token in
    ``rules.adl.fill_gap``), the first fill pays the whole deficit: the bound has a model."""
    assert _ask(lambda: _charge("fill")) == "unsat"
    assert _ask(lambda: _charge("bound")) == "unsat"
    from solvent.rules import adl
    from solvent.rules.arith import Rounding, div, max_, safe_divisor

    def whole(deficit, lots_left, lots):
        return div(max_(deficit, 0) * lots_left, safe_divisor(lots_left), rounding=Rounding.CEIL)

    monkeypatch.setattr(adl, "fill_gap", whole)
    assert _ask(lambda: _charge("bound")) == "sat"


# --- the contracts at P ----------------------------------------------------------------------


def _contracts() -> list[str]:
    """The two contracts at P (the premise's own part kept, then no-negative-equity), each answer:
    "sat" where one of its cases of the trader's turn (``payer_lemma.turn_cases``) has a model."""
    answers: dict[str, list[str]] = {}
    bounds = attrs.evolve(for_policy(Bounds(accounts=3, events=3), DYDX), events=1, start_margin=induction.PREMISE)

    def fail(reason: str) -> None:
        raise AssertionError(reason)

    def valid(name, premise, claim, exact=False):
        cases = answers.setdefault(name.rsplit(" (", 1)[0], [])
        cases.append("not asked" if "sat" in cases else _check(premise, claim))  # a model: the lemma fails there
        return name

    with effort.question():
        invariant = catalog.get("no-negative-equity")
        claims = [ghost_step.premise_claim(DYDX, ghost_step.price()), invariant]
        ghost_step.contracts(DYDX, invariant, claims, bounds, valid, fail)
    assert all(len(cases) == 3 for cases in answers.values()), answers
    return [
        "sat" if "sat" in cases else "unsat" if set(cases) == {"unsat"} else "unknown" for cases in answers.values()
    ]


def test_the_contracts_at_the_ghost_price(monkeypatch) -> None:
    """One trader within its part of the premise and the ghost at P, charged within |M − P| a lot
    before and after its own turn: its part holds again and no-negative-equity holds (0.34M and
    0.24M units). With the liquidation penalty no longer capped at the surplus (``min_`` → ``max_``
    in ``rules.venue_formulas.liquidation_fee_paid``), both have a model."""
    assert _contracts() == ["unsat", "unsat"]
    import solvent.rules.liquidation as liquidation
    from solvent.rules.arith import max_

    monkeypatch.setattr(liquidation, "liquidation_fee_paid", lambda surplus, fee: max_(fee, max_(surplus, 0)))
    assert _contracts() == ["sat", "sat"]


# --- the premise on the block limit's story ----------------------------------------------------


def _shorts_and_a_winner() -> Book:
    """tests/solver/test_ghost_start.py's book: 11 shorts of 100 lots at 500 on exactly their initial
    margin (2,500), a long of 1,100 on exactly its own (27,500)."""
    names = tuple(f"short{i:02}" for i in range(11))
    b = new_book(mark_quote=500, traders=(*names, "winner"))
    rows = {n: {"cash_quote": 2_500, "size_lots": -100, "cost_quote": -50_000} for n in names}
    rows["winner"] = {"cash_quote": 27_500, "size_lots": 1_100, "cost_quote": 550_000}
    for name, fields in rows.items():
        i = b.index(name)
        b = b.replace_account(i, attrs.evolve(b.accounts[i], principal_quote=fields["cash_quote"], **fields))
    return attrs.evolve(b, net_deposits_quote=sum(a.cash_quote for a in b.accounts))


def _meets(book: Book, name: str, ghost: int) -> bool:
    own = ghost_step.own(DYDX, book, name, ghost)
    return all(c is True for c in own) and ghost_step.within(DYDX, book, name, ghost) is True


def test_the_deferred_account_meets_the_premise_at_its_boundary() -> None:
    """After the rise to 530, the eleventh short is deferred at −500: below zero at the mark (outside
    the solvent premise), and at P = 500 worth −500 + 100 × 30 = 2,500, exactly its initial margin
    there; at P = 501 worth 2,400 against 2,505, outside. Every trader meets the premise at 500."""
    first = step(DYDX, _shorts_and_a_winner(), MarkPrice(530))
    deferred = [g.account for g in first.outcomes if isinstance(g, DeleverageAttempt) and g.deferred]
    after = first.after
    assert deferred == ["short10"] and after.account("short10").cash_quote == -500
    solvent = induction.own(DYDX, after, "short10", margin=StartMargin.SOLVENT)
    assert not all(c is True for c in solvent)
    assert all(_meets(after, a.name, 500) for a in after.traders)
    assert not _meets(after, "short10", 501)
    assert ghost_step.worth(DYDX, after.account("short10"), 530, 500) == 2_500
    # the move that resolves it keeps the premise at the same P, and the claims hold of that step
    then = step(DYDX, after, MarkPrice(560))
    assert then.after.account("short10").size_lots == 0
    assert all(_meets(then.after, a.name, 500) for a in then.after.traders)
    for claim in ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed"):
        assert catalog.get(claim).holds(StepView.of(DYDX, then)) is True, claim


def _book_of(mark: int, lots: int, winner: int) -> Book:
    """Eleven shorts of ``lots`` at ``mark`` on exactly their initial margin and a long of their lots on
    its own initial margin (``winner`` 0), one quantum more (1) or twice it (2)."""
    names = tuple(f"short{i:02}" for i in range(11))
    b = new_book(mark_quote=mark, traders=(*names, "winner"))
    margin = -(-lots * mark * 5 // 100)  # ⌈5%⌉ of the notional: dydx-v4's initial margin
    held = 11 * lots
    own = -(-held * mark * 5 // 100)
    rows = {n: {"cash_quote": margin, "size_lots": -lots, "cost_quote": -lots * mark} for n in names}
    rows["winner"] = {"cash_quote": (own, own + 1, 2 * own)[winner], "size_lots": held, "cost_quote": held * mark}
    for name, fields in rows.items():
        i = b.index(name)
        b = b.replace_account(i, attrs.evolve(b.accounts[i], principal_quote=fields["cash_quote"], **fields))
    return attrs.evolve(b, net_deposits_quote=sum(a.cash_quote for a in b.accounts))


@pytest.mark.deep
def test_every_two_move_story_keeps_the_premise_and_the_claims() -> None:
    """Session 22's two-move stories, on the concrete engine: marks 500, 1,000 and 97; 100, 7 and 13
    lots a short; the winner on its margin, one quantum more or twice it; a rise of 1-39% (the
    eleventh short deferred on most), then nine second marks. After each move every trader meets
    the premise at P = the first mark, and the three claims hold of the second move: 9,369 stories,
    8,262 of them after a deferral."""
    claims = [catalog.get(c) for c in ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed")]
    stories = after_deferral = 0
    for mark in (500, 1_000, 97):
        for lots in (100, 7, 13):
            for winner in (0, 1, 2):
                start = _book_of(mark, lots, winner)
                assert all(_meets(start, a.name, mark) for a in start.traders)
                for pct in range(1, 40):
                    rise = mark * (100 + pct) // 100
                    if rise == mark:  # 97 × 1.01 rounds to 97: no move
                        continue
                    first = step(DYDX, start, MarkPrice(rise))
                    deferred = any(isinstance(g, DeleverageAttempt) and g.deferred for g in first.outcomes)
                    assert all(_meets(first.after, a.name, mark) for a in first.after.traders), (mark, lots, rise)
                    seconds = {
                        mark,
                        rise,
                        rise + 1,
                        rise - 1,
                        (mark + rise) // 2,
                        2 * rise,
                        rise // 2,
                        rise * 11 // 10,
                        1,
                    }
                    for second in sorted(seconds):
                        then = step(DYDX, first.after, MarkPrice(second))
                        stories += 1
                        after_deferral += deferred
                        assert all(_meets(then.after, a.name, mark) for a in then.after.traders), (rise, second)
                        for claim in claims:
                            assert claim.holds(StepView.of(DYDX, then)) is True, (mark, lots, winner, rise, second)
    assert (stories, after_deferral) == (9_369, 8_262)

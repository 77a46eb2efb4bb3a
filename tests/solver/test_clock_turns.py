"""The engine's transition depends on the book's clock where a rule counts events (session 20, helper D).

The book's clock (the number of events before) is concrete, and the engine branches on it in Python:
OKX's fund-drawdown window (``[deficit.fund_drawdown] window_events = 8``), a clawback window, a
warm-up. So a lemma proved on a free book at clock 0 speaks of the first event's transition only.
An argument that claims any K asks its lemmas at clocks whose transitions are every clock's
(``solver/clock.py``: ``clock.every``, clock 0 alone where no rule reads the clock; session 20,
docs/solver-notes.md#any-k-at-every-clock-session-20), else at the question's own clocks 0..K-1 and
says K ≤ K: ``compositional.attempt`` for the all-N arguments (tests/solver/test_clock_any_k.py),
and since session 21 the fund's induction over events (``fund_facts.induction``,
tests/solver/test_fund_induction.py; docs/solver-notes.md#the-funds-induction-at-any-k-session-21).
These tests pin where the transition moves with the clock, and that a policy with no window builds
the same terms at every clock, which those arguments rest on.
"""

from __future__ import annotations

import attrs
import pytest
import z3

from solvent.rules.bankruptcy import resolve
from solvent.rules.engine import liquidation_turn
from solvent.rules.ledger import Ctx
from solvent.rules.presets import resolve_policy
from solvent.solver import effort
from solvent.solver.bounds import Bounds
from solvent.solver.story import symbolic_book


def _terms(policy, book, clock: int) -> list:
    at = attrs.evolve(book, clock=clock)
    turn = liquidation_turn(policy, Ctx(at), "alice").book
    called = resolve(policy, Ctx(at), "alice").book
    return [a.cash_quote for a in (*turn.accounts, *called.accounts)] + [a.size_lots for a in turn.accounts]


def _same(left: list, right: list) -> bool:
    def one(x, y) -> bool:
        if isinstance(x, z3.ExprRef) or isinstance(y, z3.ExprRef):
            return isinstance(x, z3.ExprRef) and isinstance(y, z3.ExprRef) and x.eq(y)
        return x == y

    return all(one(x, y) for x, y in zip(left, right, strict=True))


@pytest.mark.parametrize(
    ("preset", "moves"),
    [
        ("okx", (1, 2, 7)),
        # the others' turn and resolve at a free clock are their clock-0 terms in the default suite
        # (tests/solver/test_clock_any_k.py::test_a_policy_without_a_window_reads_no_clock, every clock at
        # once); at these four clocks one by one behind deep (session 29)
        *(
            pytest.param(p, (), marks=pytest.mark.deep)
            for p in ("binance", "bybit", "bitmex", "dydx-v4", "hyperliquid", "percolator-gen-a")
        ),
    ],
)
def test_which_clocks_change_a_turn(preset: str, moves: tuple[int, ...]) -> None:
    """OKX's turn and resolve at clocks 1-7 are other terms than at clock 0, and at clock 8 (the
    window's next start) the same; the other flagships' and percolator Gen A's read no clock there
    (Gen A's warm-up is read at the event's end, ``rules/haircut_ratio.py``, not in a turn)."""
    policy = resolve_policy(preset)
    with effort.question():
        book, _ = symbolic_book(Bounds(accounts=2, events=1))
        first = _terms(policy, book, 0)
        for clock in (1, 2, 7, 8):
            assert _same(_terms(policy, book, clock), first) is (clock not in moves), clock

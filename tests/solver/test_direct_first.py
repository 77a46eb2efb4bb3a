"""On the payer's lemmas' own book, where the payer's facts serve the direct check, ``prove`` asks
the direct check first and the all-N argument after a proof, with what it left (as ``solvent
check`` does); on any other book, or where the facts do not fit, the lemmas first as before
(docs/solver-notes.md#the-direct-check-first-on-the-lemmas-book).

Bybit's no-negative-equity at N = 2 within 10M units: the all-N argument first took 4.84M (its
contract unknown within its half) and left the direct check 2.74M, undecided (partial, 9,608,799
units); the direct check first proves it at N = 2 and the all-N argument then holds: proved for
every N in 7,920,088.
"""

from __future__ import annotations

import pytest

import solvent.solver.prove as prove_module
from solvent.solver import compositional
from solvent.solver.bounds import Bounds
from solvent.solver.payer_lemma import ADL_FILLS_ONLY, LIQUIDATED_ONLY, NOT_LIQUIDATED, RESOLVED
from solvent.solver.verdicts import Verdict


def _first_asked(monkeypatch, preset: str, claim: str, accounts: int) -> list[bool]:
    asked: list[bool] = []
    real = compositional.attempt

    def attempt(policy, invariant, bounds, *, payer=True, units=None):
        asked.append(payer)
        return real(policy, invariant, bounds, payer=payer, units=units)

    monkeypatch.setattr(compositional, "attempt", attempt)
    prove_module.prove(preset, claim, Bounds(accounts=accounts, events=1, effort=1), minimize=False)
    return asked


@pytest.mark.parametrize("claim", ["no-negative-equity", "loss-bounded-by-collateral"])
def test_on_the_lemmas_book_the_direct_check_is_asked_first(monkeypatch, claim: str) -> None:
    """N = 2 where the payer's facts fit (bybit): the all-N argument is not asked first (and, the
    direct check undecided within one unit, not at all)."""
    assert _first_asked(monkeypatch, "bybit", claim, 2) == [False]


@pytest.mark.parametrize(
    ("preset", "claim", "accounts"),
    [
        # (bybit at N = 3 and 4: the lemmas' book's own question first, tests/solver/test_lemmas_book_first.py)
        ("gmx-v2", "no-negative-equity", 2),  # the payer's argument does not fit (no ADL layer)
        ("gmx-v2", "no-negative-equity", 4),
        ("bybit", "principal-protected", 2),  # not a payer's claim
    ],
)
def test_elsewhere_the_lemmas_are_asked_first_as_before(monkeypatch, preset: str, claim: str, accounts: int) -> None:
    assert _first_asked(monkeypatch, preset, claim, accounts)[:1] == [True]


@pytest.mark.deep  # 5.8M units (session 28; 7.9M before a140d5a, past 10M after it)
def test_bybit_no_negative_equity_at_two_traders_is_proved_for_every_n_within_ten_million() -> None:
    result = prove_module.prove("bybit", "no-negative-equity", Bounds(accounts=2, events=1, effort=10_000_000))
    assert result.verdict is Verdict.PROVED, result.summary()
    own = next(o for o in result.obligations if o.obligation == "no-negative-equity")
    assert own.scope.accounts is None and own.scope.assumes == ADL_FILLS_ONLY
    contract = [q for q in result.queries if "holds for one trader charged" in q.name]
    # asked once, after the direct check, in its three cases (payer_lemma.turn_cases): each held
    assert [q.name.rsplit(" (", 1)[1] for q in contract] == [
        f"{case})" for case in (RESOLVED, LIQUIDATED_ONLY, NOT_LIQUIDATED)
    ]
    assert [q.result for q in contract] == ["unsat"] * 3
    assert result.units <= 10_000_000

"""deposit-not-absorbed for every N (solver/per_account.py): the claim reads the depositor alone.

Proved for all N on a deposit where the engine credits the whole deposit; refuted, with no all-N
claim, where a deposit repays debt (broker-reg-t, the venue's documented rule); a deposit rule
mutated to take one quantum, or to read another account, breaks the argument.
"""

from __future__ import annotations

import pytest

import solvent.rules.engine as engine
from solvent.properties import catalog
from solvent.rules.arith import max_
from solvent.rules.book import Role
from solvent.rules.ledger import Reason
from solvent.rules.presets import resolve_policy
from solvent.solver import compositional
from solvent.solver.bounds import Bounds
from solvent.solver.per_account import _conjuncts, _reads_only
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict

CLAIM = catalog.get("deposit-not-absorbed")
ON_DEPOSITS = Bounds(accounts=2, events=1, event_kinds=("deposit",), effort=10_000_000)


def test_a_deposit_is_proved_whole_for_every_n() -> None:
    result = prove("binance", "deposit-not-absorbed", ON_DEPOSITS, minimize=False)
    claim = next(o for o in result.obligations if o.obligation == CLAIM.id)
    assert claim.verdict is Verdict.PROVED
    assert claim.scope.accounts is None and claim.scope.events == 1  # all N, the one event
    assert result.method.startswith("compositional, all N, one event")
    assert "assumes the engine treats accounts uniformly" in result.method
    assert any("reads only alice's account" in lemma for lemma in result.lemmas)
    assert any("reads only bob's account" in lemma for lemma in result.lemmas)


def test_on_a_mark_move_the_event_kind_decides_it_for_every_n() -> None:
    found = compositional.attempt(resolve_policy("binance"), CLAIM, Bounds(accounts=2, effort=10_000_000))
    assert isinstance(found, compositional.Extension) and not found.every_k
    assert all("the event's kind decides it" in lemma for lemma in found.lemmas)
    assert found.queries == ()  # no z3 question: the predicate returned True without a formula


def test_a_deposit_that_repays_debt_is_refuted_and_claimed_for_no_larger_book() -> None:
    found = compositional.attempt(resolve_policy("broker-reg-t"), CLAIM, ON_DEPOSITS)
    assert isinstance(found, compositional.Attempt)
    assert "holds from alice's own assumptions alone" in found.failed
    result = prove("broker-reg-t", "deposit-not-absorbed", ON_DEPOSITS, minimize=False)
    assert result.verdict is Verdict.REFUTED
    assert result.scope.accounts == 2


def test_two_events_are_not_covered() -> None:
    two = Bounds(accounts=2, events=2, event_kinds=("deposit",), effort=10_000_000)
    found = compositional.attempt(resolve_policy("binance"), CLAIM, two)
    assert isinstance(found, compositional.Attempt)
    assert "covers one event (K = 1), not K = 2" in found.failed


def test_a_deposit_that_keeps_one_quantum_breaks_the_lemma(monkeypatch) -> None:
    original = engine._deposit

    def keeps_one(policy, ctx, event):
        ctx = original(policy, ctx, event)
        return ctx.transfer(event.account, ctx.system(Role.FEE_ACCOUNT), 1, Reason.TRADING_FEE)

    monkeypatch.setattr(engine, "_deposit", keeps_one)
    found = compositional.attempt(resolve_policy("binance"), CLAIM, ON_DEPOSITS)
    assert isinstance(found, compositional.Attempt)
    assert "holds from alice's own assumptions alone" in found.failed


def test_a_deposit_that_reads_another_account_is_not_claimed_for_every_n(monkeypatch) -> None:
    original = engine._deposit

    def pays_the_fund(policy, ctx, event):  # the fund below zero takes from the deposit
        ctx = original(policy, ctx, event)
        fund = ctx.system(Role.INSURANCE_FUND)
        owed = max_(-ctx.account(fund).cash_quote, 0)
        return ctx.transfer(event.account, fund, owed, Reason.INSURANCE_FUND)

    monkeypatch.setattr(engine, "_deposit", pays_the_fund)
    found = compositional.attempt(resolve_policy("binance"), CLAIM, ON_DEPOSITS)
    assert isinstance(found, compositional.Attempt)
    assert "reads another account than alice" in found.failed


@pytest.mark.parametrize(
    ("formula", "parts"),
    [(True, 0), (False, 1)],
)
def test_a_python_bool_premise_splits_into_what_it_asserts(formula: bool, parts: int) -> None:
    assert len(_conjuncts(formula)) == parts


def test_reads_only_names_the_prefixes() -> None:
    import z3

    a, b = z3.Int("s0.alice.cash_quote"), z3.Int("s0.bob.cash_quote")
    assert _reads_only(a + 1 > 0, ("s0.alice.",))
    assert not _reads_only(a + b > 0, ("s0.alice.",))


def test_the_readme_command_proves_it_for_every_n() -> None:
    from pathlib import Path

    from tests.printed_support import run_printed
    from tests.test_printed_commands import _documented

    command = _documented("solvent prove binance --invariant deposit-not-absorbed --event-kinds deposit")
    done = run_printed(Path(__file__).resolve().parents[2], command)
    assert done.returncode == 0, done.stderr
    # binance declares both margin modes (docs/portfolio.md 3d): each scope proved, each for every N
    assert "deposit-not-absorbed on binance: proved (all-cross books: N ≤ " in done.stdout
    assert "; deposit-not-absorbed proved (all N, K ≤ 1 (deposit)" in done.stdout
    assert "books with an isolated position: N ≤ " in done.stdout
    assert "; deposit-not-absorbed proved (all N, K ≤ 1 (deposit, margin)" in done.stdout
    assert "compositional, all N, one event" in done.stdout

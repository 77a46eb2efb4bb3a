"""Percolator Gen B's ``principal-protected`` for every N (``solver.gen_b_principal``, session 25): each charge's
payer is credited after it only where it is bankrupt, so its running equity at the charge is at least its cash
after the step, at or above 0 by the payer's bound, and the close leaves its principal at most ``max(E, 0)``
(docs/solver-notes.md#gen-bs-principal-protected-for-every-n-session-25).

Default: the credit lemmas of bob in alice's turn (one query an entry), the step's structural part and the
close's principal, the boundary on the concrete engine (a charge leaving its payer exactly at its principal
after), and two mutants: the per-lot charge's transfer with its ends swapped (a charge credits its payer: the
credit lemma has a model) and the close's capital floored at 1 instead of 0 (a principal after above
``max(E, 0)``: the close's lemma has a model), and a turn's ledger (each trader's cash its ledger's). Deep: the
claim proved for every N at N = 2 and N = 4 with both assumptions in its scope."""

from __future__ import annotations

import functools
import inspect
import textwrap

import attrs
import pytest

import solvent.rules.haircut_ratio as haircut_ratio
import solvent.rules.side_index as side_index
from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules.book import new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import HAIRCUT_REASONS
from solvent.rules.presets import resolve_policy
from solvent.rules.wellformed import reasons
from solvent.solver import gen_b_payer, gen_b_principal
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.compositional import _Checker, _Failed
from solvent.solver.story import symbolic_book
from solvent.solver.verdicts import Verdict

GEN_B = resolve_policy("percolator-gen-b")
CLAIM = gen_b_principal.CLAIM
ONE_MOVE = Bounds(accounts=2, events=1, effort=10_000_000)
UNITS = 2_000_000


def _checker() -> _Checker:
    return _Checker(Bounds(effort=UNITS))


def _fail(reason: str) -> None:
    raise _Failed(reason)


def _bobs_credits_in_alices_turn(checker: _Checker) -> list[str]:
    book, _ = symbolic_book(Bounds(accounts=gen_b_principal.TRADERS))
    valid = functools.partial(checker.valid, exact=True)
    parts = gen_b_principal.credit_parts(GEN_B, book, "alice")
    return [valid(f"alice's turn: {said}", [], claim) for said, claim in parts if "into bob's cash" in said]


def test_a_trader_is_credited_in_anothers_turn_only_where_it_is_bankrupt() -> None:
    """Every entry into bob's cash in alice's turn with its cascade (the fund's cover, the per-lot charge
    and the haircut paid to him where the cascade resolves him, the slippage at 0) is made only where bob is
    bankrupt in the turn (13 queries, 6,190 units at this section's commit; all 62 of both turns 38,968)."""
    checker = _checker()
    names = _bobs_credits_in_alices_turn(checker)
    assert len(names) == 13
    assert [q.result for q in checker.queries] == ["unsat"] * 13
    assert sum(q.units for q in checker.queries) < 1_000_000


def test_a_charge_paid_to_its_payer_breaks_the_credit_lemma(monkeypatch: pytest.MonkeyPatch) -> None:
    """``charge_k_up``'s transfer with its ends swapped (the engine's own source otherwise, its ΔK hook
    included): the per-lot charge credits bob, not bankrupt: the credit lemma has a model."""
    source = textwrap.dedent(inspect.getsource(side_index.charge_k_up))
    old = "ctx = ctx.transfer(name, bankrupt, share, Reason.SOCIALIZED_LOSS)"
    assert source.count(old) == 1
    namespace = dict(vars(side_index))
    swapped = old.replace("name, bankrupt", "bankrupt, name")
    exec(compile(source.replace(old, swapped), side_index.__file__, "exec"), namespace)  # noqa: S102
    monkeypatch.setattr(side_index, "charge_k_up", namespace["charge_k_up"])
    checker = _checker()
    with pytest.raises(_Failed, match="z3 found a model"):
        _bobs_credits_in_alices_turn(checker)
    assert checker.queries[-1].result == "sat" and "(socialized_loss from alice)" in checker.queries[-1].name


def test_the_close_leaves_each_principal_at_most_its_equity() -> None:
    """The step's phases, every charge in a turn and the ledger around the turns (term for term, no query);
    each trader's principal after the step at most max(E, 0), the close's numbers free (2,010 units each
    at this section's commit)."""
    checker = _checker()
    lemmas = gen_b_principal.step_lemmas(
        GEN_B, for_policy(ONE_MOVE, GEN_B), functools.partial(checker.valid, exact=True), _fail
    )
    assert lemmas[0].startswith("the step (mark, 2 traders): the phases")
    assert [q.result for q in checker.queries] == ["unsat"] * 2
    assert sum(q.units for q in checker.queries) < 200_000


def test_a_capital_floored_at_one_breaks_the_close(monkeypatch: pytest.MonkeyPatch) -> None:
    """``settle_reserves``' capital ``min(C, max(E, 0))`` read with ``max(E, 1)`` (one token): an account at
    E = 0 keeps a principal of 1, above max(E, 0): the close's lemma has a model."""
    source = textwrap.dedent(inspect.getsource(haircut_ratio.settle_reserves))
    old = "capital = min_(account.principal_quote - started, max_(e, 0))"
    assert source.count(old) == 1
    namespace = dict(vars(haircut_ratio))
    exec(
        compile(source.replace(old, old.replace("max_(e, 0)", "max_(e, 1)")), haircut_ratio.__file__, "exec"), namespace
    )  # noqa: S102
    monkeypatch.setattr(haircut_ratio, "settle_reserves", namespace["settle_reserves"])
    checker = _checker()
    with pytest.raises(_Failed, match="z3 found a model"):
        gen_b_principal.step_lemmas(
            GEN_B, for_policy(ONE_MOVE, GEN_B), functools.partial(checker.valid, exact=True), _fail
        )
    assert checker.queries[-1].result == "sat" and "principal after the step" in checker.queries[-1].name


def _story(bob_cash: int):
    """alice long 2 at 10 on 2 of cash, bob short 2 on ``bob_cash`` (all principal); the mark falls to 7:
    alice is bankrupt by 4, which the per-lot charge takes from bob (m = 3 a lot, 2 lots)."""
    book = new_book(mark_quote=10, traders=("alice", "bob"))
    fields = {
        "alice": {"size_lots": 2, "cost_quote": 20, "cash_quote": 2, "principal_quote": 2},
        "bob": {"size_lots": -2, "cost_quote": -20, "cash_quote": bob_cash, "principal_quote": bob_cash},
    }
    for name, values in fields.items():
        i = book.index(name)
        book = book.replace_account(i, attrs.evolve(book.accounts[i], **values))
    book = attrs.evolve(book, net_deposits_quote=sum(a.cash_quote for a in book.accounts))
    assert reasons(GEN_B, book) == []
    return step(GEN_B, book, MarkPrice(7))


@pytest.mark.parametrize("bob_cash", [2, 10])
def test_a_charge_leaves_its_payer_exactly_at_its_principal_after(bob_cash: int) -> None:
    """bob gains 6 and pays 4 (at most m·t = 6): his running equity at the charge, 2 more than his cash
    before, is his cash after and his principal after (flat: matured into capital), equal, the claim's
    boundary, whatever his cash (2 is his initial margin: the least a well-formed book gives him)."""
    s = _story(bob_cash)
    view = StepView.of(GEN_B, s)
    charges = [g.item.amount_quote for g in view.transfers if g.item.reason in HAIRCUT_REASONS]
    assert charges == [4]
    bob = s.after.account("bob")
    assert bob.cash_quote == bob.principal_quote == bob_cash + 6 - 4
    assert catalog.get(CLAIM).holds(view) is True


def test_a_turns_cash_is_its_ledgers() -> None:
    """In each trader's turn with its cascade each trader's cash after the turn is its cash before plus its
    guarded entries (every number free; 4 queries, 54,481 units at this section's commit)."""
    checker = _checker()
    lemmas = gen_b_principal.ledger_lemmas(GEN_B, functools.partial(checker.valid, exact=True))
    assert len(lemmas) == 4
    assert [q.result for q in checker.queries] == ["unsat"] * 4
    assert sum(q.units for q in checker.queries) < 500_000


@pytest.mark.deep  # a whole proof: 4,040,090 units at N = 4 and 8 (session 25), 15 s at load 3
@pytest.mark.parametrize("accounts", [2, 4])
def test_gen_b_proves_principal_protected_for_every_n(accounts: int) -> None:
    from solvent.solver.prove import prove

    result = prove("percolator-gen-b", CLAIM, attrs.evolve(ONE_MOVE, accounts=accounts), minimize=False)
    claim = next(o for o in result.obligations if o.obligation == CLAIM)
    assert claim.verdict is Verdict.PROVED and claim.scope.accounts is None, result.reason
    assert claim.scope.assumes == f"{gen_b_payer.ASSUMES}; {gen_b_principal.ASSUMES}"

"""principal-protected for every N where the haircut ratio is the one layer charging traders
(``solver.haircut_claims``: percolator Gen A): the turn's lemma and the step's facts hold on the
engine's own functions, and fail where the haircut or the closing is mutated by one token
(docs/solver-notes.md#percolator-at-n--4-session-20)."""

from __future__ import annotations

import attrs
import pytest

import solvent.rules.engine as engine
from solvent.properties import catalog
from solvent.rules import haircut_ratio
from solvent.rules.arith import max_, min_
from solvent.rules.margin import equity
from solvent.rules.presets import load_preset
from solvent.solver import compositional as comp
from solvent.solver import haircut_claims
from solvent.solver.bounds import Bounds

GEN_A = "percolator-gen-a"
PP = catalog.get("principal-protected")


def _attempt(preset: str, accounts: int = 4, units: int = 5_000_000, **bounds):
    return comp.attempt(load_preset(preset), PP, Bounds(accounts=accounts, effort=10_000_000, **bounds), units=units)


#: gen-a's engine is extended within 2M (969,792 units, the step's last fact 216,106); a closing that
#: raises principal leaves that fact undecided (out of effort after 4,246,314 units within 5M): 2M
#: tells the two apart at less than half the CPU (session 28)
RAISED_UNITS = 2_000_000


def test_gen_a_holds_for_every_n() -> None:
    result = _attempt(GEN_A)
    assert isinstance(result, comp.Extension), result
    assert not result.every_k and result.assumes == haircut_claims.ASSUMES
    # the turn, the start meeting the premise, the opening's conversion lemma from it (Gen A converts at h),
    # and the step's three facts
    assert [q.result for q in result.queries] == ["unsat"] * 6
    assert any(q.name.startswith("the opening's conversion") for q in result.queries)
    assert sum(q.units for q in result.queries) < 1_000_000


@pytest.mark.parametrize(
    ("preset", "why"),
    [
        ("percolator-gen-b", "more than the haircut ratio"),  # its socialized loss over the opposing side
        ("binance", "no haircut-ratio layer"),
    ],
)
def test_not_covered(preset: str, why: str) -> None:
    assert why in haircut_claims.not_covered(load_preset(preset), Bounds(accounts=4))
    if preset == "percolator-gen-b":
        return  # its principal-protected has its own all-N route since session 25 (solver.gen_b_principal)
    assert not isinstance(_attempt(preset), comp.Extension)


def test_mark_moves_and_one_market_only() -> None:
    policy = load_preset(GEN_A)
    assert haircut_claims.not_covered(policy, Bounds(accounts=4, events=2)) is None  # by the induction (below)
    assert "one mark move" in haircut_claims.not_covered(policy, Bounds(accounts=4, event_kinds=("mark", "trade")))
    assert haircut_claims.not_covered(policy, Bounds(accounts=4, event_kinds=("mark", "funding"))) is None


# --- any K: the step's facts from the premise a move keeps (session 24) ---------------------------


def _at_k3():
    return comp.attempt(load_preset(GEN_A), PP, Bounds(accounts=3, events=3, effort=20_000_000), units=5_000_000)


def test_gen_a_holds_for_every_n_and_any_k() -> None:
    result = _at_k3()
    assert isinstance(result, comp.Extension), result
    assert result.every_k and haircut_claims.INDUCTION_ASSUMES in result.assumes
    names = [q.name for q in result.queries]
    assert any(n.startswith("the start") for n in names)
    assert any("the premise after the step" in n for n in names)
    assert all("from the premise" in n for n in names if n.startswith("the step"))
    # the turn, the start, the opening's conversion lemma, the kept and three facts
    assert [q.result for q in result.queries] == ["unsat"] * 7
    assert sum(q.units for q in result.queries) < 1_000_000


def test_mutant_a_premise_without_the_slopes_fails_the_step(monkeypatch) -> None:
    """The premise without its slopes (a negative slope lowers a principal as the event opens, and the
    close keeps it below 0): the step's facts from it have a model. Since Gen A converts at h the first to
    fail is the opening's conversion lemma (a negative slope's warmable profit ``x < 0`` converts to a
    capital ``y < 0``), asked before the premise after the step."""
    monkeypatch.setattr(haircut_claims, "premise_of", lambda book: [a.principal_quote >= 0 for a in book.accounts])
    result = _at_k3()
    assert isinstance(result, comp.Attempt)
    assert "the opening's conversion" in result.failed and "0 ≤ y ≤ x" in result.failed
    assert "model of its negation" in result.failed


@pytest.mark.deep  # 4.6 s at load 9
def test_mutant_a_closing_without_the_floor_fails_the_premise_kept(monkeypatch) -> None:
    """The close re-basing principal to equity without its floor at 0 (``max(E, 0)`` read ``E``, one
    token): a trader below zero ends with a negative principal, and the premise kept has a model."""
    original = haircut_ratio.settle_losses

    def unfloored(policy, ctx):
        book = ctx.book
        for i, account in enumerate(book.accounts):
            if account.is_trader:
                capital = min_(account.principal_quote, equity(policy.margin, account))
                book = book.replace_account(i, attrs.evolve(account, principal_quote=capital))
        return original(policy, ctx.with_book(book))

    monkeypatch.setattr(engine, "settle_losses", unfloored)
    result = _at_k3()
    assert isinstance(result, comp.Attempt)
    assert "the premise after the step" in result.failed and "model of its negation" in result.failed


def test_a_haircut_weighted_by_equity_fails_the_turn(monkeypatch) -> None:
    """Weights by equity where the engine's are profit over principal (one token): a payer's share may
    take principal, and the turn's lemma has a model."""
    monkeypatch.setattr(haircut_ratio, "profit", lambda rule, account: max_(equity(rule, account), 0))
    result = _attempt(GEN_A)
    assert isinstance(result, comp.Attempt)
    assert "the turn" in result.failed and "model of its negation" in result.failed


def test_a_closing_that_raises_principal_fails_the_step(monkeypatch) -> None:
    """A closing that first raises principal to equity (``max`` where ``settle_losses`` takes ``min``):
    principal may rise after the haircut, and the step's last fact is undecided (it has no proof)."""
    original = haircut_ratio.settle_losses

    def raised(policy, ctx):
        book = ctx.book
        for i, account in enumerate(book.accounts):
            if account.is_trader:
                capital = max_(account.principal_quote, max_(equity(policy.margin, account), 0))
                book = book.replace_account(i, attrs.evolve(account, principal_quote=capital))
        return original(policy, ctx.with_book(book))

    monkeypatch.setattr(engine, "settle_losses", raised)
    result = _attempt(GEN_A, units=RAISED_UNITS)
    assert isinstance(result, comp.Attempt)
    assert "principal after the step" in result.failed

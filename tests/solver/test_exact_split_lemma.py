"""The exact split's lemma (``solver.exact_split_lemma``): proved in steps on the engine's own
``charge`` (exact in order), broken by a one-token change of the split, and given to a question
only where its shares are, term for term, the lemma's."""

from __future__ import annotations

import inspect
import textwrap

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from solvent.rules import pro_rata
from solvent.rules.haircut_ratio import haircut
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.presets import load_preset
from solvent.solver import exact_split_lemma
from solvent.solver.bounds import Bounds
from solvent.solver.exact_split_lemma import ExactSplits, exact_lemma, instance, runs, split
from solvent.solver.story import symbolic_book
from solvent.solver.verdicts import Verdict

GEN_A = load_preset("percolator-gen-a")
#: the engine's split against the lemma's terms: each one-token mutant of ``exact_split`` below
#: fails it within this many examples (150 before session 28)
EXAMPLES = 40
DRIFT = load_preset("drift")


@pytest.fixture(autouse=True)
def fresh_lemmas():
    """Each test asks the lemma itself: a mutated ``charge`` must not meet a cached verdict."""
    exact_split_lemma._verdict.cache_clear()
    yield
    exact_split_lemma._verdict.cache_clear()


def _mutated(monkeypatch: pytest.MonkeyPatch, old: str, new: str) -> None:
    """``rules.pro_rata.exact_split`` (the split ``_exact_in_order`` transfers) with one token of its
    own text changed."""
    source = textwrap.dedent(inspect.getsource(pro_rata.exact_split))
    assert source.count(old) == 1, old
    namespace = dict(vars(pro_rata))
    exec(compile(source.replace(old, new), pro_rata.__file__, "exec"), namespace)  # noqa: S102
    monkeypatch.setattr(pro_rata, "exact_split", namespace["exact_split"])


@pytest.mark.parametrize(("payers", "capped"), [(1, True), (2, False), (3, True), (4, True)])
def test_the_shares_add_up_to_the_target_for_any_weights(payers: int, capped: bool) -> None:
    lemma = exact_lemma(GEN_A.rounding, payers, capped=capped)
    assert lemma.verdict is Verdict.PROVED, lemma.steps
    assert all(s.result == "unsat" for s in lemma.steps)
    assert all(s.units < exact_split_lemma.STEP_UNITS for s in lemma.steps)
    if (payers, capped) == (4, True):
        # units are stable per input (z3-solver 5.4.1): the four-payer capped lemma, every step
        # (asked once here, where a test of its own asked it again: session 28)
        assert lemma.units == 53_127


@pytest.mark.parametrize(
    ("old", "new", "step"),
    [
        ("extra_before < left", "extra_before <= left", "E_"),  # one quantum too many once r is reached
        ("floor * divisor != target * w", "floor * divisor == target * w", "E_1"),  # to the exact shares
        ("extra_before + when(fraction, 1)", "extra_before + when(fraction, 0)", "E_2"),  # never counts
    ],
)
def test_a_split_mutated_by_one_token_fails_the_lemma(
    monkeypatch: pytest.MonkeyPatch, old: str, new: str, step: str
) -> None:
    _mutated(monkeypatch, old, new)
    lemma = exact_lemma(GEN_A.rounding, 3, capped=True)
    assert lemma.verdict is Verdict.UNKNOWN
    # the step that ties the engine's extra quanta to the count of payers with a fraction
    assert lemma.steps[-1].result == "sat", lemma.detail
    assert lemma.detail.startswith(f"step '{step}"), lemma.detail


def test_the_lemma_refuses_another_rounding() -> None:
    with pytest.raises(ValueError, match="exact_in_order"):
        exact_lemma(DRIFT.rounding, 2, capped=False)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    remaining=st.integers(0, 10**6),
    weights=st.lists(st.integers(0, 10**4), min_size=1, max_size=5),
    capped=st.booleans(),
)
def test_the_lemma_terms_are_the_engines_split(remaining: int, weights: list[int], capped: bool) -> None:
    """The lemma's terms at integers are the concrete ``charge``'s shares, and its conclusions
    hold there (the sum is the target: min(R, W) capped, R else, 0 with no weight)."""
    r, ws = exact_split_lemma.free(len(weights))
    s = split(GEN_A.rounding, r, ws, capped=capped)
    pairs = [(r, z3.IntVal(remaining)), *((w, z3.IntVal(v)) for w, v in zip(ws, weights, strict=True))]
    symbolic = [z3.simplify(z3.substitute(x, *pairs)).as_long() for x in s.shares]
    book, _ = symbolic_book(Bounds(accounts=len(weights) + 1, effort=1))
    bankrupt, *payers = [a.name for a in book.traders]
    ctx, paid = pro_rata.charge(
        Ctx(book),
        GEN_A.rounding,
        list(zip(payers, weights, strict=True)),
        bankrupt,
        remaining,
        capped=capped,
        reason=Reason.HAIRCUT,
    )
    concrete = {e.item.source: e.item.amount_quote for e in ctx.entries if e.item.reason is Reason.HAIRCUT}
    assert symbolic == [concrete.get(p, 0) for p in payers]  # a zero share is no transfer
    total = sum(weights)
    target = 0 if total == 0 else (min(remaining, total) if capped else remaining)
    assert sum(symbolic) == paid == target
    total_c, bounds = s.conclusions(capped)
    for fact in [*total_c, *bounds]:
        assert z3.is_true(z3.simplify(z3.substitute(fact, *pairs)))


def _haircut_book(traders: int):
    book, _ = symbolic_book(Bounds(accounts=traders, effort=1))
    bankrupt = book.traders[0].name
    ctx, _ = haircut(Ctx(book), GEN_A.margin, GEN_A.rounding, bankrupt, z3.Int("deficit"))
    return ctx


def test_a_questions_haircut_is_an_instance() -> None:
    """Gen A's haircut on a symbolic book of three traders (two traders and the book's liquidity
    pay): found as the capped lemma's instance, three facts (the sum, the paid, the bounds)."""
    ctx = _haircut_book(3)
    (shares,) = runs([ctx])
    assert len(shares) == 3
    found = instance(GEN_A.rounding, shares, {})
    assert found is not None and found[1] is True
    assert found[0].remaining.eq(z3.Int("deficit"))
    splits = ExactSplits(GEN_A.rounding)
    assert len(splits.facts([ctx])) == 3
    assert [k for k in splits.used] == [("exact", 3, True)]


def test_shares_out_of_order_are_no_instance() -> None:
    (shares,) = runs([_haircut_book(3)])
    assert instance(GEN_A.rounding, [shares[1], shares[0], shares[2]], {}) is None
    assert instance(GEN_A.rounding, shares[:2], {}) is None


def test_no_facts_for_another_rounding() -> None:
    assert ExactSplits(DRIFT.rounding).facts([_haircut_book(3)]) == []


def test_a_haircut_transfer_is_read_as_a_split() -> None:
    assert Reason.HAIRCUT in exact_split_lemma.SPLIT_REASONS

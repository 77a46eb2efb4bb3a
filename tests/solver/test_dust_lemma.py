"""The pro-rata split's dust for any number of payers (``solver.dust_lemma``): the engine's own
``charge`` read as a chain of one share term, one payer's step and the close proved on free values
(docs/solver-notes.md#drifts-dust-lemma-for-any-number-of-payers-session-23).

Drift's claims-backed stated "the dust is at or above 0 over any number of payers" as an assumption
(the split's lemma was asked at the three-trader book's count, 14,512 units); now proved, 3,218 units.

Mutants (one token of ``rules.pro_rata.charge``): the shares rounded down where they round up gives one
payer's step a model; each share weighed against one more than the total weight gives the close one.
Each mutant's dust is negative on a small split of the concrete engine (its transfer refused).
"""

from __future__ import annotations

import inspect
import random
import textwrap

import pytest
import z3

from solvent.rules import pro_rata
from solvent.rules.ledger import InternalError, Reason
from solvent.rules.presets import load_preset
from solvent.solver import dust_lemma, effort, exact_split_lemma, wall
from solvent.solver.pro_rata_lemma import Discharger, split_dust
from solvent.solver.verdicts import Verdict

DRIFT = load_preset("drift")
STEPS = ["the divisor is positive", "the base: no payer yet", "one payer's step", "the close"]


@pytest.fixture(autouse=True)
def fresh_lemmas():
    """Each test asks the lemma itself: a mutated ``charge`` must not meet a cached verdict."""
    dust_lemma._verdict.cache_clear()
    dust_lemma._fits.cache_clear()
    yield
    dust_lemma._verdict.cache_clear()
    dust_lemma._fits.cache_clear()


def _mutated(monkeypatch: pytest.MonkeyPatch, old: str, new: str):
    """``rules.pro_rata.charge`` with one token of its own text changed, where the lemma's free split
    (``exact_split_lemma.charge_on_free_book``) reads it; the mutated function."""
    source = textwrap.dedent(inspect.getsource(pro_rata.charge))
    assert source.count(old) == 1, old
    namespace = dict(vars(pro_rata))
    exec(compile(source.replace(old, new), pro_rata.__file__, "exec"), namespace)  # noqa: S102
    monkeypatch.setattr(exact_split_lemma, "charge", namespace["charge"])
    return namespace["charge"]


def _dust(remaining: int, weights: list[int], capped: bool = False) -> int:
    """The concrete engine's dust (``charge`` as the lemma reads it) for these numbers."""
    ctx, _ = exact_split_lemma.charge_on_free_book(
        DRIFT.rounding, remaining, weights, capped=capped, reason=Reason.SOCIALIZED_LOSS
    )
    return next(e.item.amount_quote for e in ctx.entries if e.item.reason is Reason.PRO_RATA_DUST)


@pytest.mark.parametrize(("capped", "units"), [(False, 3_218), (True, 4_467)])
def test_the_dust_is_never_negative_for_any_number_of_payers(capped: bool, units: int) -> None:
    """Every step unsat; units pinned (z3-solver's rlimit, each step from its SMT-LIB text)."""
    lemma = dust_lemma.dust_lemma(DRIFT.rounding, capped=capped)
    assert lemma.verdict is Verdict.PROVED, lemma.detail
    assert [(s.name, s.result) for s in lemma.steps] == [(n, "unsat") for n in STEPS]
    assert lemma.units == units


def test_the_engines_split_is_the_chain_at_every_count() -> None:
    """The shape read off the engine's ``charge``: one share term of ``T``, the payer's weight and ``D``,
    the same at 1 to 12 payers (past :data:`SHAPE_PAYERS`, where the lemma is asked)."""
    one = dust_lemma.shape(DRIFT.rounding, 1, capped=False)
    assert not isinstance(one, str)
    assert one.key == (
        "(- (div (- (* dust.T dust.w)) dust.D))",
        "(ite (> dust.W 0) dust.remaining 0)",
        "(ite (> dust.W 0) dust.W 1)",
    )
    for k in range(1, 13):
        here = dust_lemma.shape(DRIFT.rounding, k, capped=False)
        assert not isinstance(here, str), here
        assert here.key == one.key
        assert dust_lemma.fits(DRIFT.rounding, k, capped=False)


def test_the_concrete_dust_at_its_boundaries() -> None:
    """The engine's dust is 0 where every share divides exactly and one quantum where one share had
    a fraction; over random splits of 1 to 12 payers it is at or above 0 and is Σ⌈T·wᵢ/W⌉ − T."""
    assert split_dust(DRIFT.rounding, 6, [1, 2], capped=False) == 0  # 2 + 4 = 6
    assert split_dust(DRIFT.rounding, 7, [1, 2], capped=False) == 1  # ⌈7/3⌉ + ⌈14/3⌉ = 3 + 5 = 8
    assert split_dust(DRIFT.rounding, 5, [0, 0], capped=False) == 0  # no weight: no target
    rng = random.Random("dust any payers")
    for _ in range(300):
        ws = [rng.choice((0, 1, 2, 3, 7, 100)) for _ in range(rng.randint(1, 12))]
        r = rng.randint(0, 10_000)
        total = sum(ws)
        target = r if total > 0 else 0
        shares = sum(-((-target * w) // (total if total > 0 else 1)) for w in ws)
        assert split_dust(DRIFT.rounding, r, ws, capped=False) == shares - target >= 0


def test_the_step_needs_its_premise_to_the_quantum() -> None:
    """One payer's step with its premise one quantum short (S·D ≥ T·P − 1) has a model: the chain's
    invariant is what carries the step, not the ceiling alone."""
    shape = dust_lemma.shape(DRIFT.rounding, 2, capped=False)
    assert not isinstance(shape, str)
    t, d, w, s, p, _r, _total = dust_lemma.free()
    claim = (s + shape.share) * d >= t * (p + w)
    assert wall.check([d > 0, s * d >= t * p, z3.Not(claim)], [], 200_000, 30.0).result == "unsat"
    assert wall.check([d > 0, s * d >= t * p - 1, z3.Not(claim)], [], 200_000, 30.0).result == "sat"


def test_the_shares_rounded_down_give_one_payers_step_a_model(monkeypatch) -> None:
    """``Rounding.CEIL if up`` → ``Rounding.FLOOR if up``: a share no longer covers its part."""
    charge = _mutated(monkeypatch, "direction = Rounding.CEIL if up", "direction = Rounding.FLOOR if up")
    with effort.question():
        lemma = dust_lemma._verdict.__wrapped__(DRIFT.rounding, False)
    assert lemma.verdict is Verdict.UNKNOWN
    assert lemma.detail == "step 'one payer's step': sat"
    assert charge is exact_split_lemma.charge
    with pytest.raises(InternalError, match=Reason.PRO_RATA_DUST.value):  # 0 + 0 − 1 on the concrete engine
        _dust(1, [1, 1])


def test_a_share_weighed_against_one_more_than_the_total_gives_the_close_a_model(monkeypatch) -> None:
    """``safe_divisor(total_weight)`` → ``safe_divisor(total_weight + 1)`` in the share: each payer's
    share is mis-weighted (``w / (W + 1)``), every step but the close still holds."""
    _mutated(
        monkeypatch,
        "share = div(target * w, safe_divisor(total_weight), rounding=direction)",
        "share = div(target * w, safe_divisor(total_weight + 1), rounding=direction)",
    )
    with effort.question():
        lemma = dust_lemma._verdict.__wrapped__(DRIFT.rounding, False)
    assert lemma.verdict is Verdict.UNKNOWN
    assert [s.result for s in lemma.steps] == ["unsat", "unsat", "unsat", "sat"]
    with pytest.raises(InternalError, match=Reason.PRO_RATA_DUST.value):  # ⌈2·1/2⌉ − 2 = −1
        _dust(2, [1])


def test_a_share_that_reads_another_payers_weight_is_not_the_chain(monkeypatch) -> None:
    """A share over the first payer's weight for every payer is no chain of one share term: the lemma
    says nothing (no model, no fact)."""
    _mutated(
        monkeypatch,
        "share = div(target * w, safe_divisor(total_weight), rounding=direction)",
        "share = div(target * weights[0][1], safe_divisor(total_weight), rounding=direction)",
    )
    with effort.question():
        lemma = dust_lemma._verdict.__wrapped__(DRIFT.rounding, False)
    assert lemma.verdict is Verdict.UNKNOWN and lemma.steps == ()
    assert lemma.detail.startswith("the shape: 2 payers:")


def test_the_discharger_covers_any_count_with_one_lemma() -> None:
    """With ``any_payers`` a split's dust at 5 and at 9 payers is covered by the one lemma, charged
    once (3,218 units); without it each count asks the split's own lemma."""
    paid: dict = {}
    facts = Discharger(DRIFT.rounding, paid, any_payers=True)
    for k in (5, 9):
        amount = split_dust(DRIFT.rounding, z3.Int(f"r{k}"), [z3.Int(f"w{k}.{i}") for i in range(k)], capped=False)
        assert facts.covers(amount)
    assert list(paid) == [("any payers", False)]
    assert [s.units for s in facts.stats] == [3_218]
    plain = Discharger(DRIFT.rounding)
    assert plain.covers(split_dust(DRIFT.rounding, z3.Int("r"), [z3.Int("a"), z3.Int("b")], capped=False))
    assert list(plain.used) == [(2, False)]

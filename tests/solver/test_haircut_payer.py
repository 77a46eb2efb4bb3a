"""percolator-gen-a's payer claims for every N by the sweep's junior cover (``solver.haircut_payer``):
the settlement's and each turn's parts hold on the engine's own functions, decide the direct check on
two traders as facts, and fail where the haircut's cap, the penalty's cap or its source is mutated by one
token
(docs/solver-notes.md#percolator-gen-as-payer-claims-for-every-n-session-22)."""

from __future__ import annotations

import functools

import pytest

import solvent.rules.engine as engine
from solvent.properties import catalog
from solvent.rules import haircut_ratio, liquidation
from solvent.rules.arith import max_
from solvent.rules.presets import load_preset
from solvent.solver import compositional as comp
from solvent.solver import effort, haircut_payer, payer_direct
from solvent.solver.bounds import Bounds
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict

GEN_A = "percolator-gen-a"
NNE = "no-negative-equity"


def _attempt(claim: str = NNE, accounts: int = 4):
    bounds = Bounds(accounts=accounts, effort=10_000_000)
    return comp.attempt(load_preset(GEN_A), catalog.get(claim), bounds, units=3_000_000)


#: the readers of :func:`asked_once`, on one xdist worker
ONCE = pytest.mark.xdist_group("haircut-payer-asked-once")


@pytest.fixture(scope="module")
def asked_once() -> dict:
    """The two claims' attempts and the direct check's facts, asked in one question (``effort.question()``)
    on the engine as it is (a module fixture: set up before any test of the module patches the engine):
    no-negative-equity's attempt asks the argument; loss-bounded-by-collateral's, the same argument
    (``haircut_payer.argument`` reads no claim), then recalls each of its lemmas, the same z3 formula
    proved earlier in this question (``haircut_payer._ask``: no query); the facts recall the conversion's
    and the settlement's claims and alice's turn and ask bob's own turn and the sum. Asked apart, each test
    asked the conversion lemma's nine exact queries anew. Its readers run as one xdist group
    (:data:`ONCE`: ``--dist loadgroup`` sends each ungrouped test alone, and each worker that ran one would
    build the fixture)."""
    policy = load_preset(GEN_A)
    with effort.question():
        attempts = {claim: _attempt(claim) for claim in haircut_payer.CLAIMS}
        facts = payer_direct.prepared(policy, Bounds(accounts=2, effort=5_000_000), NNE)
    return {"attempts": attempts, "facts": facts}


@ONCE
def test_gen_a_holds_for_every_n(asked_once: dict) -> None:
    result = asked_once["attempts"][NNE]
    assert isinstance(result, comp.Extension), result
    assert result.method == haircut_payer.METHOD and result.assumes == haircut_payer.ASSUMES
    assert not result.every_k
    asked = [q for q in result.queries if "renamed" not in q.result]
    assert asked and {q.result for q in asked} == {"unsat"}
    # the opening's conversion lemma's 9 claims (y within [0, x] and y = x at h = 1 for each trader and the
    # book, each trader's lost part, the book's cash), the settlement's 12 claims (four of each trader, three
    # of the book's, open interest), alice's five parts and the close; bob's five renamed
    assert len(asked) == 9 + 18 and len(result.queries) == 9 + 23
    assert sum(q.name.startswith("the opening's conversion") for q in asked) == 9
    assert sum(q.units for q in result.queries) < 1_000_000


@ONCE
def test_loss_bounded_takes_the_same_argument(asked_once: dict) -> None:
    """loss-bounded-by-collateral's attempt, after no-negative-equity's in the same question: the same
    route, method and assumption, and every one of its lemmas the same z3 formula as one the first proved
    (each recalled, none asked: 0 units), in the same order."""
    first, result = (asked_once["attempts"][c] for c in haircut_payer.CLAIMS)
    assert isinstance(result, comp.Extension), result
    assert (result.method, result.assumes, result.every_k) == (first.method, first.assumes, first.every_k)
    assert [q.name for q in result.queries] == [q.name for q in first.queries]
    recalled = [q for q in result.queries if "renamed" not in q.result]
    assert len(recalled) == 9 + 18 and {q.result for q in recalled} == {haircut_payer.PROVED_BEFORE}
    assert sum(q.units for q in result.queries) == 0


@pytest.mark.deep  # the same attempt asked on its own (the default test recalls no-negative-equity's lemmas)
def test_loss_bounded_holds_for_every_n_asked_alone() -> None:
    result = _attempt(haircut_payer.CLAIMS[1])
    assert isinstance(result, comp.Extension), result
    assert result.method == haircut_payer.METHOD and not result.every_k
    asked = [q for q in result.queries if "renamed" not in q.result]
    assert len(asked) == 9 + 18 and {q.result for q in asked} == {"unsat"}


@pytest.mark.deep  # a whole proof; its lemmas and mutants stay in the default suite (docs/solver-notes.md#the-default-suites-time-session-24)
def test_the_direct_check_on_two_traders_proves_every_n() -> None:
    """z3 alone ran out at N = 2 (8.28M of 10M); with the parts as facts the claim itself is small."""
    result = prove(GEN_A, NNE, Bounds(accounts=2, effort=10_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED
    own = next(o for o in result.obligations if o.obligation == NNE)
    assert own.scope is not None and own.scope.accounts is None  # every N
    claim = [q for q in result.queries if q.name == NNE]
    assert [q.result for q in claim] == ["unsat (exact)"] and claim[0].units < 100_000
    assert result.units < 2_000_000


@ONCE
def test_the_facts_are_given_on_the_lemmas_book(asked_once: dict) -> None:
    found, queries = asked_once["facts"]
    assert found is not None and isinstance(found.facts, haircut_payer.HaircutFacts)
    assert found.method == payer_direct.JUNIOR_METHOD
    # the conversion lemma, both traders' turns asked on their own (the terms the question builds), the sum's arithmetic
    assert len(queries) == 9 + 12 + 10 + 1
    # what the attempts proved in this question is recalled (the conversion's, the settlement's, alice's turn):
    # bob's own turn and the sum asked, each proved
    proved = [q.name for q in queries if q.result == "unsat"]
    assert len(proved) == 5 + 1 and all(n.startswith("bob's turn") or n.startswith("Σ S") for n in proved)
    assert {q.result for q in queries} == {"unsat", haircut_payer.PROVED_BEFORE}


@pytest.mark.parametrize(
    ("preset", "bounds", "why"),
    [
        ("percolator-gen-b", Bounds(accounts=4), "more than the haircut ratio"),
        ("binance", Bounds(accounts=4), "no haircut-ratio layer"),
        (GEN_A, Bounds(accounts=4, events=2, markets=2), "one market"),
        (GEN_A, Bounds(accounts=4, event_kinds=("mark", "funding")), "mark moves only"),
    ],
)
def test_not_covered(preset: str, bounds: Bounds, why: str) -> None:
    assert why in haircut_payer.not_covered(load_preset(preset), bounds)
    assert not haircut_payer.fits(load_preset(preset), bounds, NNE)


def test_k_moves_are_covered_by_the_induction_not_by_the_facts() -> None:
    """Since session 25 K > 1 mark moves are the argument's (its premise over moves,
    tests/solver/test_haircut_payer_moves.py); the direct check's facts stay one move's."""
    bounds = Bounds(accounts=4, events=2)
    assert haircut_payer.not_covered(load_preset(GEN_A), bounds) is None
    assert not haircut_payer.fits(load_preset(GEN_A), bounds, NNE)


def fee_from_cash(monkeypatch: pytest.MonkeyPatch) -> None:
    """The penalty from cash (junior profit first), the principal untouched: session 21's old rule."""
    monkeypatch.setattr(engine, "fee_from_capital", lambda policy: False)


def fee_cap_read_max(monkeypatch: pytest.MonkeyPatch) -> None:
    """The penalty's cap ``min(penalty, max(principal, 0))`` read ``max``: at least the principal, past
    the surplus. (``min_`` in ``rules/liquidation.py``; on Gen A's path its one use is this cap: Gen A's
    fund holds nothing to unwind, and no bankruptcy price with a fee to close is computed.)"""
    monkeypatch.setattr(liquidation, "min_", max_)


def uncapped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The haircut not capped at the payers' total junior profit (``capped=True`` read False)."""
    charge = haircut_ratio.charge

    def mutated(ctx, rounding, weights, bankrupt, remaining, capped, reason):
        return charge(ctx, rounding, weights, bankrupt, remaining, capped=False, reason=reason)

    monkeypatch.setattr(haircut_ratio, "charge", mutated)


#: each mutant and the turn's part it breaks
MUTANTS = [
    (fee_from_cash, haircut_payer.PARTS[1]),  # the penalty takes junior profit a later deficit needs
    (fee_cap_read_max, haircut_payer.PARTS[0]),  # a penalty past the surplus leaves its trader below zero
    (uncapped, haircut_payer.PARTS[2]),  # a payer charged past its profit sinks below zero
]


@pytest.mark.parametrize(("mutate", "part"), MUTANTS)
def test_a_mutated_engine_fails_a_part(monkeypatch: pytest.MonkeyPatch, mutate, part: str) -> None:
    """The turn's parts asked alone, as the argument asks them after the conversion's and the settlement's
    lemmas (``haircut_payer.argument``: exact, within the attempt's purse): the mutated part is the first
    part z3 finds a model of. The whole attempt, and the facts after it, are asked for one mutant below
    (session 30: the attempt asked the 21 lemmas before the turn's each time)."""
    mutate(monkeypatch)
    checker = comp._Checker(Bounds(accounts=4, effort=10_000_000), 3_000_000)
    with effort.question(), pytest.raises(comp._Failed, match="model of its negation") as failed:
        haircut_payer._turn_lemmas(load_preset(GEN_A), functools.partial(checker.valid, exact=True), checker.said)
    assert part in str(failed.value)
    assert part in checker.queries[-1].name and checker.queries[-1].result == "sat"


def test_a_mutated_part_fails_the_attempt_and_gives_no_fact(monkeypatch: pytest.MonkeyPatch) -> None:
    """The attempt and the facts asked in one question: the facts recall the lemmas the attempt proved (the
    conversion's, the settlement's, alice's parts before the mutated one) and ask the mutated part again."""
    mutate, part = MUTANTS[1]
    mutate(monkeypatch)
    with effort.question():
        result = _attempt()
        found, queries = payer_direct.prepared(load_preset(GEN_A), Bounds(accounts=2, effort=5_000_000), NNE)
    assert isinstance(result, comp.Attempt)
    assert part in result.failed and "model of its negation" in result.failed
    assert found is None  # no fact is given from a part that does not hold
    assert part in queries[-1].name and queries[-1].result.startswith("sat")  # asked again, not recalled


def _conversion_refuted(policy) -> list[str]:
    """The conversion lemma's claims z3 finds a model of the negation of (exact, within 2M units each)."""
    import z3

    premise, claims = haircut_payer.conversion_lemma(policy, Bounds(accounts=2, effort=5_000_000))
    refuted = []
    for name, claim in claims:
        solver = z3.Solver()
        solver.set("rlimit", 2_000_000)
        solver.add(*premise, z3.Not(claim))
        if solver.check() == z3.sat:
            refuted.append(name)
    return refuted


@ONCE
def test_the_conversion_lemma_holds_on_the_engine(asked_once: dict) -> None:
    """Its nine claims, each proved exact in no-negative-equity's attempt (asked once, ``asked_once``), are
    the claims the mutants below refute."""
    _, claims = haircut_payer.conversion_lemma(load_preset(GEN_A), Bounds(accounts=2, effort=5_000_000))
    conversion = [q for q in asked_once["attempts"][NNE].queries if q.name.startswith("the opening's conversion")]
    assert [q.name.split(": ", 1)[1] for q in conversion] == [name for name, _ in claims]
    assert {q.result for q in conversion} == {"unsat"}


def test_mutant_the_conversion_divided_past_its_total_breaks_its_lemma(monkeypatch: pytest.MonkeyPatch) -> None:
    """``y = x × h_num / h_den`` divided by ``h_den + 1`` (``safe_divisor(total)`` read ``total + 1``): at
    ``h = 1`` (Residual ≥ PNL_pos_tot) a quantum of the warmable profit lost. (``h_num = min(Residual,
    PNL_pos_tot)`` read ``max`` changes nothing: ``Residual = max(0, Σ (E − principal))`` is never above
    ``PNL_pos_tot = Σ max(E − principal, 0)``.)"""
    monkeypatch.setattr(haircut_ratio, "safe_divisor", lambda total: total + 1)
    refuted = _conversion_refuted(load_preset(GEN_A))
    assert "alice's y = x where Residual ≥ PNL_pos_tot" in refuted
    assert not any("0 ≤ y ≤ x" in name or "lost part" in name for name in refuted)


def test_mutant_the_conversion_not_divided_breaks_its_lemma(monkeypatch: pytest.MonkeyPatch) -> None:
    """``y = x × h_num / h_den`` with the divisor dropped (``safe_divisor(total)`` read 1): capital beyond
    the warmable profit, and the lost part ``x − y`` below zero (never moved: the guard keeps it at 0)."""
    monkeypatch.setattr(haircut_ratio, "safe_divisor", lambda total: 1)
    refuted = _conversion_refuted(load_preset(GEN_A))
    assert "alice's capital 0 ≤ y ≤ x" in refuted and "bob's capital 0 ≤ y ≤ x" in refuted


def _liquidation_attempt():
    bounds = Bounds(accounts=4, effort=10_000_000)
    return comp.attempt(load_preset(GEN_A), catalog.get("liquidation-only-below-maintenance"), bounds)


def test_the_conversion_does_not_couple_the_per_liquidation_argument() -> None:
    """The opening's conversion (one h read on every account) changes each trader only by its own capital
    and lost part, freed as its own numbers: liquidation-only-below-maintenance for every N, as before
    Gen A converted at h."""
    result = _liquidation_attempt()
    assert isinstance(result, comp.Extension), result
    assert [q.result for q in result.queries] == ["unsat"]


def test_mutant_a_conversion_booked_as_a_haircut_couples_the_traders(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lost part booked under ``Reason.HAIRCUT`` (one token of ``convert``'s transfer): the opening's
    entries then name the traders, and the argument refuses before asking anything."""
    from solvent.rules.ledger import Reason

    class Reasons:
        CONVERSION_HAIRCUT = Reason.HAIRCUT

    monkeypatch.setattr(haircut_ratio, "Reason", Reasons)
    result = _liquidation_attempt()
    assert isinstance(result, comp.Attempt)
    assert "opening the event names traders" in result.failed and not result.queries

"""Percolator Gen B's payer claims wired into ``prove`` (``solver.gen_b_payer``, session 25): the payer's
bound kept turn by turn, as the all-N argument and as facts of the direct check on the lemmas' book
(docs/solver-notes.md#gen-bs-payer-claims-wired-into-prove-session-25).

Default: where the argument applies (Gen B, one mark move), the turns' start (the fund at or above 0,
the book reachable, from the question's assumptions), the close, and the route failing on a start one
token weaker with the bound at the initial margin (read at maintenance: the settlement's lemma has a model). Deep: the argument whole, the
claim proved for every N at N = 2 and N = 4, and the direct check without the sweep's facts undecided
(the facts are what decide it)."""

from __future__ import annotations

import attrs
import pytest

from solvent.properties import catalog
from solvent.rules.margin import initial_margin
from solvent.rules.presets import resolve_policy
from solvent.solver import compositional, gen_b_payer, haircut_payer, side_payer
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.compositional import _Checker
from solvent.solver.story import symbolic_book
from solvent.solver.verdicts import QueryStats, Verdict

GEN_B = resolve_policy("percolator-gen-b")
NNE = "no-negative-equity"
ONE_MOVE = Bounds(accounts=2, events=1, effort=10_000_000)


@pytest.mark.parametrize(
    ("preset", "bounds", "why"),
    [
        ("percolator-gen-b", ONE_MOVE, None),
        ("percolator-gen-b", Bounds(accounts=4, events=1), None),
        ("percolator-gen-b", Bounds(accounts=3, events=3), None),  # by induction over moves (test_gen_b_payer_moves)
        ("percolator-gen-b", Bounds(accounts=2, events=1, event_kinds=("mark", "funding")), "mark moves"),
        ("percolator-gen-a", ONE_MOVE, "not Gen B's waterfall"),
        ("drift", ONE_MOVE, "not Gen B's waterfall"),
        ("binance", ONE_MOVE, "not Gen B's waterfall"),
    ],
)
def test_the_bound_covers_gen_b_mark_moves_only(preset: str, bounds: Bounds, why: str | None) -> None:
    policy = resolve_policy(preset)
    said = gen_b_payer.not_covered(policy, for_policy(bounds, policy))
    assert said is None if why is None else why in said


def test_the_turns_start_with_the_fund_at_or_above_zero_and_a_reachable_book() -> None:
    checker = _Checker(ONE_MOVE)
    bounds = for_policy(ONE_MOVE, GEN_B)
    for _, _, _, parts in gen_b_payer.turns_start_parts(GEN_B, bounds):
        for said, premise, claim in parts:
            checker.valid(said, premise, claim, exact=True)
    # the fund 1,858 units, the book 1,828 (session 25)
    assert [q.result for q in checker.queries] == ["unsat"] * 2


def test_the_close_keeps_every_traders_cash_on_gen_b() -> None:
    checker = _Checker(ONE_MOVE)
    free, _ = symbolic_book(Bounds(accounts=gen_b_payer.TRADERS))
    checker.valid("the close", [], haircut_payer.close_parts(GEN_B, free), exact=True)
    assert [q.result for q in checker.queries] == ["unsat"]


def _initial_floor(monkeypatch) -> None:
    """The bound's floor read at the initial margin whatever the start (before the induction over moves, session
    25: ``side_payer.floor`` at a maintenance start reads the maintenance margin)."""

    def floor(policy, size_lots, price):
        return initial_margin(policy.margin, policy.rounding, size_lots, price)

    monkeypatch.setattr(side_payer, "floor", floor)


def test_a_start_read_at_maintenance_breaks_the_route_at_the_initial_floor(monkeypatch) -> None:
    """The question's start one token weaker (``start_margin`` at maintenance) with the bound still read at the
    initial margin: the settlement's lemma, the argument's first query, has a model, so the argument fails and
    says why (no all-N verdict)."""
    _initial_floor(monkeypatch)
    bounds = attrs.evolve(ONE_MOVE, start_margin="maintenance")
    found = compositional.attempt(GEN_B, catalog.get(NNE), for_policy(bounds, GEN_B))
    assert isinstance(found, compositional.Attempt) and found.applies
    assert "Gen B's payer bound" in found.failed and "z3 found a model" in found.failed


@pytest.mark.deep  # the whole argument: 2,099,510 units, 15 s at load 6 (session 25)
def test_the_payers_bound_holds_on_gen_b() -> None:
    bounds = for_policy(ONE_MOVE, GEN_B)
    checker = _Checker(bounds)

    def said(name: str, how: str) -> None:
        checker.queries.append(QueryStats(name, how, 0.0))

    lemmas = gen_b_payer.argument(GEN_B, bounds, checker.valid, checker.fail, said)
    assert lemmas[-1].startswith("aggregate, by induction over the turns")
    assert {q.result for q in checker.queries} == {"unsat"}


@pytest.mark.deep  # whole proofs (N = 2: 2.79M units, 17 s; N = 4: see the notes)
@pytest.mark.parametrize("accounts", [2, 4])
def test_gen_b_proves_no_negative_equity_for_every_n(accounts: int) -> None:
    from solvent.solver.prove import prove

    result = prove("percolator-gen-b", NNE, attrs.evolve(ONE_MOVE, accounts=accounts), minimize=False)
    claim = next(o for o in result.obligations if o.obligation == NNE)
    assert claim.verdict is Verdict.PROVED and claim.scope.accounts is None, result.reason
    assert claim.scope.assumes == gen_b_payer.ASSUMES
    assert "the payer's bound as proved facts" in result.method


@pytest.mark.deep  # a whole direct check without the sweep's facts
def test_without_the_sweeps_facts_the_direct_check_is_not_decided(monkeypatch) -> None:
    from solvent.solver.prove import prove

    instances = gen_b_payer.GenBFacts.instances

    def no_sweep(self, policy, book, runs):
        return instances(attrs.evolve(self, sweeps=()), policy, book, runs)

    monkeypatch.setattr(gen_b_payer.GenBFacts, "instances", no_sweep)
    # the same budget as the proof above (the argument holds first; its facts recalled, the sweep's not given)
    result = prove("percolator-gen-b", NNE, ONE_MOVE, minimize=False)
    claim = next(o for o in result.obligations if o.obligation == NNE)
    assert claim.verdict is Verdict.UNKNOWN


def test_the_facts_asked_first_fail_on_a_start_read_at_maintenance(monkeypatch) -> None:
    """The facts asked with no argument before them (no lemma recalled: each asked through the direct
    check's own ``valid``): on a start read at maintenance with the bound at the initial margin the settlement's
    lemma has a model, so no fact is given (the question is asked as before), the query counted."""
    from solvent.solver import payer_direct

    _initial_floor(monkeypatch)

    bounds = for_policy(attrs.evolve(ONE_MOVE, start_margin="maintenance", effort=2_000_000), GEN_B)
    found, queries = payer_direct.prepared(GEN_B, bounds, NNE)
    assert found is None
    assert queries[-1].result == "sat" and "settlement" in queries[-1].name


# --- claims-backed's system holders on Gen B (claims_backed.holders_every_n) ------------------------------


def test_gen_bs_system_holders_are_kept_by_each_turn() -> None:
    """The system holders' argument on Gen B's waterfall: the step's phases (opening and closing each
    trader's own), the holders at or above zero before the turns, the fund's turn lemma with the cascade
    (alice's; bob's by renaming), each dust by its lemma for any number of payers (not at one count, so the
    holders hold for every N): 65,377 units at N = 4 (session 25)."""
    from solvent.solver import claims_backed

    bounds = for_policy(Bounds(accounts=3, events=1, effort=10_000_000), GEN_B)
    checker = _Checker(bounds, units=2_000_000)
    lemmas = claims_backed.holders_every_n(GEN_B, bounds, checker)
    assert lemmas[-1].startswith("the system holders by induction over the sweep's turns")
    assert {q.result.split(" ")[0] for q in checker.queries} <= {"unsat", "an"}
    assert claims_backed.every_n_assumes(GEN_B, bounds) == claims_backed.EVERY_N_ASSUMES_GEN_B
    dust = [q.name for q in checker.queries if "dust" in q.name]
    assert dust and all("any number of payers" in name for name in dust)
    assert not any(q.name.startswith(claims_backed.PER_COUNT) for q in checker.queries)


def test_a_fund_paying_the_whole_deficit_breaks_gen_bs_system_holders(monkeypatch) -> None:
    """``pay_insurance_fund`` without ``pay_from``'s "at most what the fund holds above its floor" (the
    rule's cap dropped): the holders' turn lemma no longer holds (z3 finds no proof: undecided within 0.2M
    units, and within 2M, where the rule as written is unsat in 56,481), so the argument fails at it."""
    import solvent.rules.bankruptcy as bankruptcy
    from solvent.rules.book import Role
    from solvent.rules.ledger import Reason
    from solvent.solver import claims_backed
    from solvent.solver.compositional import _Failed

    def pay_insurance_fund(policy, ctx, layer, name, remaining):
        ctx = ctx.transfer(ctx.system(Role.INSURANCE_FUND), name, remaining, Reason.INSURANCE_FUND)
        return ctx, remaining, True

    monkeypatch.setattr(bankruptcy, "pay_insurance_fund", pay_insurance_fund)
    bounds = for_policy(Bounds(accounts=3, events=1, effort=10_000_000), GEN_B)
    with pytest.raises(_Failed, match="one liquidation turn keeps every system holder"):
        claims_backed.holders_every_n(GEN_B, bounds, _Checker(bounds, units=200_000))


@pytest.mark.deep  # a whole proof: 3,566,663 units at N = 4 (session 25)
def test_gen_b_proves_claims_backed_for_every_n_at_n_4() -> None:
    from solvent.solver.prove import prove

    result = prove("percolator-gen-b", "claims-backed", attrs.evolve(ONE_MOVE, accounts=4), minimize=False)
    claim = next(o for o in result.obligations if o.obligation == "claims-backed")
    assert result.verdict is Verdict.PROVED and claim.scope.accounts is None, result.reason
    assert claims_backed_assumes() in claim.scope.assumes


def claims_backed_assumes() -> str:
    from solvent.solver import claims_backed

    return claims_backed.EVERY_N_ASSUMES_GEN_B


def test_the_turns_start_reads_the_funds_start() -> None:
    """The turns' start is not vacuous: with the question's assumptions on the fund's cash dropped from its
    premise (every conjunct that reads it), "the fund at or above 0" has a model."""
    from solvent.solver.compositional import _Failed

    checker = _Checker(ONE_MOVE)
    [(_, _, _, parts)] = gen_b_payer.turns_start_parts(GEN_B, for_policy(ONE_MOVE, GEN_B))
    said, premise, claim = parts[0]
    assert said == "the fund at or above 0"
    kept = [c for c in premise if "insurance_fund.cash" not in str(c)]
    assert len(kept) < len(premise)
    with pytest.raises(_Failed, match="z3 found a model"):
        checker.valid(said, kept, claim, exact=True)

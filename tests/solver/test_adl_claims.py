"""ADL's two claims for every N by lemmas on one call (solver/adl_claims.py).

``adl-ranking-respected`` and ``adl-price-fair`` speak only of one bankrupt account's ADL call. The
call's lemma is proved by exact z3 on the engine's own ``resolve`` (and the pools' own deleveraging
where a fund or vault holds what it takes over) on a book of three (two) free candidates; the
verdict then covers every N and K and says what it assumes. Hyperliquid's price at the previous
mark breaks the price lemma (its claim stays refuted, with a replayed story); dYdX's sequential
walk is not covered; an engine whose ties go to the later book index, or whose ADL price is a
quantum a lot against the winners, breaks its lemma, and the verdict is then the bounded one.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import z3

import solvent.rules.adl as adl_module
from solvent.properties import catalog
from solvent.rules import engine
from solvent.rules.arith import Ratio
from solvent.rules.outcomes import AdlFill
from solvent.rules.presets import resolve_policy
from solvent.rules.venue_formulas import price_at_gap
from solvent.solver import adl_claims, effort
from solvent.solver import compositional as comp
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.verdicts import TRIVIALLY, Verdict
from tests.solver.test_resolution_facts import _variables

RANKED = ("binance", "okx", "bybit", "bitmex")
UNITS = 5_000_000


def _attempt(preset: str, claim_id: str) -> comp.Extension | comp.Attempt | None:
    policy = resolve_policy(preset)
    with effort.question():
        return comp.attempt(policy, catalog.get(claim_id), for_policy(Bounds(accounts=4), policy), units=UNITS)


@pytest.mark.parametrize("claim_id", adl_claims.ADL_CLAIMS)
@pytest.mark.parametrize("preset", RANKED)
def test_the_lemmas_hold_on_the_ranked_presets(preset: str, claim_id: str) -> None:
    """Each call's lemma (and the ranking's denominators) proved by z3, 2K-0.3M units each; BitMEX
    has its fund's own deleveraging as a second call."""
    found = _attempt(preset, claim_id)
    assert isinstance(found, comp.Extension), found
    assert found.every_k and found.assumes == adl_claims.ASSUMES and not found.trivial_extends
    asked = [q for q in found.queries if q.units]
    assert asked and all(q.result == "unsat" for q in asked)
    assert sum(q.units for q in asked) < 1_000_000
    pools = [q for q in asked if "the pools' own deleveraging" in q.name]
    assert bool(pools) is (preset == "bitmex")


def test_hyperliquids_price_at_the_previous_mark_breaks_the_price_lemma() -> None:
    """The winners pay the whole move back, more than the fair gap: z3 finds the call, and the
    claim goes to the bounded question (the ranking lemma still holds there)."""
    found = _attempt("hyperliquid", "adl-price-fair")
    assert isinstance(found, comp.Attempt) and found.applies
    assert "z3 found a model of its negation" in found.failed
    assert isinstance(_attempt("hyperliquid", "adl-ranking-respected"), comp.Extension)


def test_hyperliquid_still_refutes_the_price_with_a_replayed_story() -> None:
    result = prove("hyperliquid", "adl-price-fair", Bounds(accounts=2, effort=4_000_000), minimize=False)
    assert result.verdict is Verdict.REFUTED
    assert result.counterexample is not None and result.counterexample.obligation == "adl-price-fair"
    assert "the all-N argument did not hold" in result.method and result.scope.assumes == ""


def test_dydxs_walk_proves_the_price_by_induction() -> None:
    """dYdX's walk (a gap per fill from the deficit left, an offsetting account skipped): the walk
    starts within its invariant and each turn from any state within it records a fair fill and keeps
    it (5K and 88K units), the call's lemma on one candidate (48K): every N and K."""
    found = _attempt("dydx-v4", "adl-price-fair")
    assert isinstance(found, comp.Extension), found
    assert found.every_k and found.assumes == adl_claims.ASSUMES_WALK and not found.trivial_extends
    asked = [q for q in found.queries if q.units]
    assert [q.result for q in asked] == ["unsat"] * 3 and sum(q.units for q in asked) < 1_000_000
    assert "the walk starts within its invariant" in asked[0].name and "turn of the walk" in asked[1].name
    assert "alice's resolve, 1 candidate," in asked[2].name
    assert found.method.startswith("compositional, all N, any K: the price of one bankrupt account's ADL walk")


def test_dydxs_ranking_is_not_covered_beyond_mark_moves() -> None:
    """The walk skips an offsetting account whose fill would leave it riskier, so an earlier
    eligible account can be left whole while a later one is served: the ghost invariant that rules
    that out is proved for mark moves from initial margin (tests/solver/test_dydx_walk_ranking.py);
    with funding no argument, no units."""
    policy = resolve_policy("dydx-v4")
    bounds = for_policy(Bounds(accounts=4, event_kinds=("mark", "funding")), policy)
    with effort.question():
        found = comp.attempt(policy, catalog.get("adl-ranking-respected"), bounds, units=UNITS)
    assert isinstance(found, comp.Attempt) and not found.applies and found.queries == ()
    assert found.failed.startswith(adl_claims.WALK_RANKING)


def _failed_lemma(preset: str, monkeypatch, name: str, mutant) -> str:
    monkeypatch.setattr(adl_module, name, mutant)
    found = _attempt(preset, "adl-price-fair")
    assert isinstance(found, comp.Attempt) and found.applies, found
    return found.failed


def test_a_walk_a_quantum_a_lot_against_the_winners_breaks_its_turn(monkeypatch) -> None:
    real = adl_module.fill_gap
    failed = _failed_lemma("dydx-v4", monkeypatch, "fill_gap", lambda d, left, lots: real(d, left, lots) + lots)
    assert "turn of the walk" in failed and "z3 found a model of its negation" in failed


def test_a_walk_owing_a_quantum_more_breaks_its_start(monkeypatch) -> None:
    real = adl_module.walk_start
    failed = _failed_lemma(
        "dydx-v4", monkeypatch, "walk_start", lambda own, lots: (lambda r, d: (r, d + 1))(*real(own, lots))
    )
    assert "the walk starts within its invariant" in failed


def test_a_walk_that_forgets_what_was_paid_breaks_its_turn(monkeypatch) -> None:
    """Each turn priced from the whole deficit, not what the turns before it left (the deficit
    never decreased): a later fill pays more than its share."""
    real = adl_module.walk_step
    failed = _failed_lemma(
        "dydx-v4",
        monkeypatch,
        "walk_step",
        lambda *a: (lambda q, paid, r, d: (q, paid, r, a[8]))(*real(*a)),  # a[8]: the deficit it was given
    )
    assert "turn of the walk" in failed


def test_more_markets_are_not_covered() -> None:
    policy = resolve_policy("binance")
    assert adl_claims.not_covered(policy, Bounds(accounts=2)) is None
    assert "one market" in adl_claims.not_covered(policy, Bounds(accounts=2, markets=2))


def _ties_to_the_later_index(monkeypatch) -> None:
    """One token of the queue changed: each candidate's book index negated where ``deleverage``
    builds its entry, so a tie in score goes to the later account (both the concrete walk and the
    symbolic queue read it)."""
    entry = adl_module._Entry
    monkeypatch.setattr(
        adl_module,
        "_Entry",
        lambda eligible, num, den, index, lots, holding=None: entry(eligible, num, den, -index, lots, holding),
    )


def test_ties_to_the_later_index_break_the_ranking_lemma(monkeypatch) -> None:
    _ties_to_the_later_index(monkeypatch)
    found = _attempt("binance", "adl-ranking-respected")
    assert isinstance(found, comp.Attempt) and found.applies
    assert "adl-ranking-respected of alice's resolve, 3 candidates" in found.failed


def test_a_price_against_the_winners_breaks_the_price_lemma(monkeypatch) -> None:
    monkeypatch.setattr(adl_module, "price_at_gap", lambda mark, size, gap: price_at_gap(mark, size, gap + 1))
    found = _attempt("binance", "adl-price-fair")
    assert isinstance(found, comp.Attempt) and found.applies


def test_the_verdict_says_every_n_and_k_and_what_it_assumes() -> None:
    """Binance at N = 2: the direct check is trivially true there (one candidate for each bankrupt
    account, so no pair of fills), which the all-N verdict does not call trivial: the lemmas prove
    it beyond."""
    result = prove("binance", "adl-ranking-respected", Bounds(accounts=2, effort=4_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED and not result.trivial
    claim = next(o for o in result.obligations if o.obligation == "adl-ranking-respected")
    assert claim.scope.accounts is None and claim.scope.events is None
    assert claim.scope.assumes == adl_claims.ASSUMES
    assert "each pair compared on its own (rules.adl.queue_fills)" in result.scope.assumes
    assert result.method.startswith("compositional, all N, any K: the claim of one bankrupt account's ADL call")
    assert f"(trivially there: {TRIVIALLY[len('trivially: ') :]})" in result.method
    assert "2 candidates" not in result.method and any("3 candidates" in lemma for lemma in result.lemmas)


def test_a_mutated_ranking_leaves_the_verdict_bounded(monkeypatch) -> None:
    """With ties to the later index the lemma fails, so nothing is extended: the claim is asked at
    N as before, and not proved (BitMEX's fund deleverages both traders at N = 2, a pair of fills
    the bounded question holds; its z3 runs out there, 3.6M units)."""
    _ties_to_the_later_index(monkeypatch)
    result = prove("bitmex", "adl-ranking-respected", Bounds(accounts=2, effort=2_000_000), minimize=False)
    assert result.verdict is not Verdict.PROVED
    claim = next(o for o in result.obligations if o.obligation == "adl-ranking-respected")
    assert claim.verdict is not Verdict.PROVED and claim.scope.accounts == 2
    assert result.scope.assumes == "" and "the all-N argument did not hold" in result.method


@pytest.mark.deep  # N = 3: about 20 s; the mutated queue at N = 3 is not proved (z3 out of its units)
def test_a_mutated_ranking_is_not_proved_at_three_traders(monkeypatch) -> None:
    _ties_to_the_later_index(monkeypatch)
    result = prove("binance", "adl-ranking-respected", Bounds(accounts=3, effort=10_000_000), minimize=False)
    claim = next(o for o in result.obligations if o.obligation == "adl-ranking-respected")
    assert claim.verdict is not Verdict.PROVED and claim.scope.accounts == 3


def test_a_denominator_that_can_be_zero_breaks_the_ranking(monkeypatch) -> None:
    """The ranking lemma asks its claim of free ratios with den ≥ 1, which is only sound with the
    engine's own denominators proved ≥ 1: a score one less in its denominator (0 for an account
    whose cost and equity are 1) fails that lemma, and nothing is extended."""
    real = adl_module.score
    monkeypatch.setattr(adl_module, "score", lambda *args: (lambda s: Ratio(s.num, s.den - 1))(real(*args)))
    found = _attempt("bybit", "adl-ranking-respected")
    assert isinstance(found, comp.Attempt) and found.applies
    assert "each score's denominator ≥ 1" in found.failed


def test_the_lemmas_book_is_asked_with_the_resolution_facts_first(monkeypatch) -> None:
    """Where the lemmas held at a larger N, the pass on the lemmas' two-trader book is asked with
    the resolution lemma's facts (cheap, and they decide it within its quarter: bybit's N = 8 build
    then keeps its whole share, its transfers proved); N's own pass with none (they speak of the
    two-trader book). The bounded question itself is not asked here: a recorder stands in."""
    from solvent.solver import prove as prove_module
    from solvent.solver.prove import scope_of
    from solvent.solver.verdicts import ProofResult

    seen: list[tuple[int, tuple[str, ...]]] = []
    exact: list[bool] = []

    def recorded(policy, invariant, bounds, units=None, *, transfers=True, cases=None, claim=True, exact_first=False):
        by_cases, _ = (None, ()) if cases is None else cases(bounds)
        seen.append((bounds.accounts, () if by_cases is None else by_cases.facts.lemmas))
        exact.append(exact_first)
        return ProofResult(policy.name, invariant.id, Verdict.UNKNOWN, scope_of(bounds), 0.0, "stand-in")

    monkeypatch.setattr(prove_module, "_bounded", recorded)
    prove("bybit", "adl-price-fair", Bounds(accounts=3, effort=8_000_000), minimize=False)
    assert [n for n, _ in seen] == [2, 3, 2]  # the lemmas' book, N, the lemmas' book again (undecided)
    assert all(
        lemmas and "adl-price-fair of each trader's resolve as a fact" in lemmas[0] for n, lemmas in seen if n == 2
    )
    assert seen[1][1] == ()
    assert not any(exact)  # the exact phase first is Gen B's per-call claims' alone (test_lemmas_book_first)


def _step_checked(policy_name: str, monkeypatch, change) -> str:
    """``one_call_a_step`` on ``policy_name`` with the engine's step changed by ``change`` (on its
    ``AdlFill`` outcomes): the reason the argument failed, or "held"."""
    policy = resolve_policy(policy_name)
    bounds = for_policy(Bounds(accounts=2), policy)
    real = engine.transition

    def changed(policy, book, event):
        ctx = real(policy, book, event)
        fills = tuple(g for g in ctx.outcomes if isinstance(g.item, AdlFill))
        others = tuple(g for g in ctx.outcomes if not isinstance(g.item, AdlFill))
        return SimpleNamespace(outcomes=[*others, *change(fills)])  # all the check reads of the step

    monkeypatch.setattr(adl_claims, "transition", changed)
    checker = comp._Checker(bounds, UNITS)
    with effort.question():
        try:
            adl_claims.one_call_a_step(policy, bounds, checker.valid, checker.fail)
        except comp._Failed as failed:
            return str(failed)
    return "held"


def test_the_step_holds_one_call_a_bankrupt_account_in_book_order(monkeypatch) -> None:
    """Binance's step: each bankrupt account's fills are one call's, in book order. Recorded in
    reverse, or one call recorded twice under the same guard (two calls that can both run), the
    argument does not apply. Hyperliquid's engine builds one call a turn (its takeover branch on below
    zero first: nothing to prove exclusive); in the two-branch shape (the market rule's and the
    takeover rule's ``_liquidate``, the shortcut off) its two calls a turn are proved exclusive."""
    assert _step_checked("binance", monkeypatch, lambda fills: fills) == "held"
    reversed_order = _step_checked("binance", monkeypatch, lambda fills: fills[::-1])
    assert "not calls of one fill a candidate in book order" in reversed_order
    twice = _step_checked("binance", monkeypatch, lambda fills: fills + fills)
    assert "ADL calls 1 and 2 of 2 are exclusive: z3 found a model of its negation" in twice
    monkeypatch.undo()  # the engine's own step again
    policy = resolve_policy("hyperliquid")

    def one_call_a_step() -> list[str]:
        return adl_claims.one_call_a_step(
            policy,
            for_policy(Bounds(accounts=2), policy),
            comp._Checker(Bounds(), UNITS).valid,
            comp._Checker(Bounds()).fail,
        )

    assert sum("are exclusive" in lemma for lemma in one_call_a_step()) == 0
    monkeypatch.setattr(engine, "_below_zero_is_taken_over", lambda policy, ctx: False)
    assert sum("are exclusive" in lemma for lemma in one_call_a_step()) == 3


def test_dydxs_walk_skips_nobody_worth_its_margin_at_a_common_price() -> None:
    """Half of an all-N argument for dYdX's ranking (not wired into a verdict): a candidate worth
    its initial margin, and a bankrupt account worth 0, at a common ghost price P (the start mark)
    are never skipped: the turn with the overlap rule serves what the turn without it serves
    (1.96M units)."""
    bounds = for_policy(Bounds(accounts=2), DYDX)
    assert _decided(lambda: adl_claims.skip_question(DYDX, bounds), 10_000_000) == "unsat"


def test_worth_only_zero_at_the_common_price_is_skipped() -> None:
    """Without the margin floor the premise admits a skip (z3's model, 1.33M units): each side worth
    exactly 0 at P = 286, the mark 301, alice short 59 lots at cash −885 (15 a lot under), bob long
    36 at cash 540 (15 a lot over); bob's turn takes the 27 lots left for the 405 still owed,
    leaving 135 under the initial margin of 9 lots (⌈135.45⌉ = 136), and the ratio test refuses it
    through the maintenance's rounding: 135 × 326 < 540 × 82. The premise holds there and the
    claim does not."""
    policy = resolve_policy("dydx-v4")
    premise, claim = adl_claims.skip_question(policy, for_policy(Bounds(accounts=2), policy), floor=False)
    values = {
        "adlw.deficit": 405,
        "adlw.ghost_mark": 286,
        "adlw.remaining": 27,
        "s0.PERP.mark_quote": 301,
        "s0.alice.cash_quote": -885,
        "s0.alice.size_lots": -59,
        "s0.bob.cash_quote": 540,
        "s0.bob.size_lots": 36,
    }
    formula = z3.And(*premise, z3.Not(claim))
    pairs = [(v, z3.IntVal(values.get(str(v), 0))) for v in _variables(formula)]
    assert z3.is_true(z3.simplify(z3.substitute(z3.And(*premise), *pairs)))
    assert z3.is_false(z3.simplify(z3.substitute(claim, *pairs)))


def _decided(question, units: int) -> str:
    """``question()`` (a ``(premise, claim)``), built and asked of exact z3 inside one question (its
    terms numbered as a question's are, ``solver.held_terms``) in a forked child: its result."""
    from solvent.solver import wall

    with effort.question():
        premise, claim = question()
        negation = [*premise, z3.Not(claim)]
        return wall.check(negation, [], units, 300.0).result


DYDX = resolve_policy("dydx-v4")


def test_a_winner_worth_its_margin_at_the_ghost_price_stays_so_after_its_fill() -> None:
    """The ranking's half-built argument, its second lemma, for a bankrupt long (0.13M units asked
    first in a process, 3.19M after this file's other questions: z3's search follows its terms'
    numbering; a bankrupt short's, 6.37M, in the deep suite): the winner pays at most the move since P a lot, so
    its worth at P does not fall below its margin there, and the walk still owes no more a lot."""
    bounds = for_policy(Bounds(accounts=2), DYDX)
    assert _decided(lambda: adl_claims.kept_question(DYDX, bounds, long=True), 10_000_000) == "unsat"


@pytest.mark.deep  # 6.37M units
def test_a_winner_of_a_bankrupt_short_stays_worth_its_margin() -> None:
    bounds = for_policy(Bounds(accounts=2), DYDX)
    assert _decided(lambda: adl_claims.kept_question(DYDX, bounds, long=False), 10_000_000) == "unsat"


@pytest.mark.parametrize("long", [True, False])
def test_two_turns_of_the_walk_keep_the_ranking(long: bool) -> None:
    """The third lemma (0.30M units for a bankrupt long, 0.10M for a short; both at once 1.65-2.25M
    or undecided within 10M, by the process's history): the catalog's ranking of two turns, the
    earlier candidate worth its margin at P, the later one's from any state the turns between can
    leave. A turn that leaves one lot of a whole position behind breaks it (below)."""
    bounds = for_policy(Bounds(accounts=3), DYDX)
    assert _decided(lambda: adl_claims.ranking_walk_question(DYDX, bounds, long), 4_000_000) == "unsat"


def test_a_turn_leaving_a_lot_behind_breaks_the_walks_ranking(monkeypatch) -> None:
    real = adl_module.walk_step

    def short_one(*args):
        q, paid, r, d = real(*args)
        entry = args[6]
        fewer = adl_module.ite(adl_module.and_(q == entry.lots, q > 0), q - 1, q)
        return fewer, paid, r + (q - fewer), d

    monkeypatch.setattr(adl_module, "walk_step", short_one)
    bounds = for_policy(Bounds(accounts=3), DYDX)
    assert _decided(lambda: adl_claims.ranking_walk_question(DYDX, bounds, True), 8_000_000) == "sat"

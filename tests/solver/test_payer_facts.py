"""The payer's lemmas as facts of the direct check (solver/payer_facts.py, solver/payer_direct.py).

The direct check that an all-N verdict of the payer's argument needs was undecided at N = 2 on
Binance, Bybit and OKX. With the payer's lemmas proved on the engine's own ``resolve`` for every value,
then instantiated on the question's own terms, and the claim asked trader by trader in each case of
which accounts were resolved, it decides. The instances name the question's own ``resolve`` results
(the engine builds the same term from the same terms); a piece left out would leave a model
uncovered, so the pieces are checked to cover the question; a one-token change to the ADL price or
to the fee to close flips the verdict.
"""

from __future__ import annotations

import attrs
import pytest
import z3
from term_support import occurs

import solvent.rules.adl as adl_module
from solvent.properties import catalog
from solvent.rules.arith import PPM, Rounding, abs_, div, ite, max_, min_, safe_divisor
from solvent.rules.bankruptcy import resolve
from solvent.rules.collateral import convert_spot
from solvent.rules.ledger import Ctx
from solvent.rules.outcomes import Bankrupt
from solvent.rules.presets import resolve_policy
from solvent.solver import payer_direct, payer_facts, wall
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.payer_lemma import ADL_FILLS_ONLY, SETTLED_GAIN, arithmetic
from solvent.solver.per_account import _conjuncts, _settled
from solvent.solver.prove import prove
from solvent.solver.query import StoryQuery
from solvent.solver.story import view
from solvent.solver.verdicts import Verdict

#: the module's tests run on one xdist worker (``--dist loadgroup`` sends every ungrouped test
#: on its own, so its tests were split over both workers and each built the module's fixtures):
#: `binance` (the question built once per z3 context): 4 s under load, built on both workers
#: (session 25)
pytestmark = pytest.mark.xdist_group("payer-facts")

TWO = Bounds(accounts=2, events=1, effort=20_000_000)


def _question(preset: str, claim: str = "no-negative-equity") -> tuple[object, payer_direct.ByCases, StoryQuery]:
    policy = resolve_policy(preset)
    cases = payer_direct.prepare(policy, TWO)
    assert cases is not None
    invariant = catalog.get(claim)
    query = StoryQuery(
        policy, invariant, for_policy(TWO, policy), obligations=(invariant, None), lemma_facts=cases.instances
    )
    return policy, cases, query


_BUILT: dict[int, tuple] = {}


@pytest.fixture
def binance():
    """Binance's no-negative-equity question at N = 2, with the payer's lemmas as facts: built once
    per z3 context (a ``prove`` in between starts a fresh one, whose terms do not mix with these)."""
    key = id(z3.main_ctx())
    if key not in _BUILT:
        _BUILT.clear()
        _BUILT[key] = _question("binance")
    return _BUILT[key]


def test_each_charge_instance_names_the_questions_own_resolve_results(binance) -> None:
    policy, cases, query = binance
    event = query.runs[0].runs[0].variant.event
    starts = convert_spot(policy.margin, Ctx(_settled(policy, query.book, event).book), "alice").book
    charge, formula = next((c, f) for c, f in cases.facts.charges if c.bankrupt == "alice")
    free_cash = resolve(policy, Ctx(charge.book), "alice").book.account("bob").cash_quote
    own_cash = resolve(policy, Ctx(starts), "alice").book.account("bob").cash_quote
    mapped = list(payer_facts._pairs(charge.book, starts))
    assert payer_facts.instance(free_cash, mapped).eq(own_cash)
    # the question's fact holds that very term, and so does bob's balance after the step
    assert any(occurs(own_cash, fact) for fact in query.facts)
    assert occurs(own_cash, query.runs[0].after.account("bob").cash_quote)
    # the floor for both traders; per resolve the charge, its three arithmetic steps and the bankrupt's side
    assert len(query.facts) == 2 + 2 * 5
    assert [q.result for q in cases.queries] == ["unsat"] * 8


def test_the_settled_gain_names_what_settlement_paid_the_payer(binance) -> None:
    """The gain step's instance for bob paying alice's bankruptcy holds bob's settlement PnL term,
    ``s·(M' − M)``, the very term the mark move's settlement transfers are built from: so the
    charge's bound ``|s|·|ΔM|`` reaches what bob was paid."""
    policy, cases, query = binance
    event = query.runs[0].runs[0].variant.event
    bob = query.book.account("bob")
    pnl = bob.size_lots * (event.price_quote - query.book.market.mark_quote)
    gains = [f for f in query.facts if z3.is_implies(f) and z3.is_ge(f.arg(0)) and f.arg(0).arg(0).eq(pnl)]
    assert len(gains) == 1, "no gain fact on bob's settlement term"


def test_the_settled_gain_is_proved_and_needs_its_premise() -> None:
    """``|s|·|ΔM| = s·ΔM`` where ``s·ΔM ≥ 0``, proved by z3 for every integer; without the premise
    (a payer on the losing side, s = 1 and ΔM = −1) it fails."""
    premise, claim, _ = arithmetic(SETTLED_GAIN)
    assert wall.check([*premise, z3.Not(claim)], [], 1_000_000, 30.0).result == "unsat"
    assert wall.check([z3.Not(claim)], [], 1_000_000, 30.0).result == "sat"


def test_an_instance_needs_a_term_for_every_variable_of_its_lemma() -> None:
    x, y = z3.Ints("x y")
    assert payer_facts.instance(x + y, [(x, z3.IntVal(1)), (y, x)]).eq(1 + x)
    with pytest.raises(ValueError, match="a lemma's variable has no term in the question: y"):
        payer_facts.instance(x + y, [(x, z3.IntVal(1))])


def test_the_pieces_cover_every_model_of_the_question(binance) -> None:
    """Each trader's equity failing, in each case of who was resolved: with every conjunct and every
    resolution guard standing for a Boolean of its own, the claim failing implies some piece."""
    policy, _, query = binance
    invariant = catalog.get("no-negative-equity")
    pieces = payer_direct._pieces(policy, query, invariant)
    assert len(pieces) == 2 * 4  # each trader's equity, in each case of who was resolved
    run = query.runs[0].runs[0]
    conjuncts = _conjuncts(invariant.holds(view(policy, query.runs[0].before, run)))
    guards = [g.guard for g in run.ctx.outcomes if isinstance(g.item, Bankrupt)]
    assert len(conjuncts) == 2 and len(guards) == 2
    ctx = pieces[0].ctx  # the question's own context (a later question may have made a fresh one)
    stand_in = [(t, z3.Bool(f"b{k}", ctx)) for k, t in enumerate([*conjuncts, *guards])]
    solver = z3.Solver(ctx=ctx)
    solver.add(z3.Not(z3.substitute(z3.And(*conjuncts), *stand_in)))
    solver.add(*(z3.Not(z3.substitute(p, *stand_in)) for p in pieces))
    assert solver.check() == z3.unsat
    solver = z3.Solver(ctx=ctx)  # and one piece fewer leaves a case uncovered
    solver.add(z3.Not(z3.substitute(z3.And(*conjuncts), *stand_in)))
    solver.add(*(z3.Not(z3.substitute(p, *stand_in)) for p in pieces[1:]))
    assert solver.check() == z3.sat


def test_where_the_payers_argument_does_not_apply_no_lemma_is_given() -> None:
    # dydx-v4's overlap rule is covered by the ghost invariant now (tests/solver/test_payer_ghost.py)
    # hyperliquid's are its own (ADL at the previous mark: solver.payer_previous.facts); these refuse it
    assert payer_facts.prove(resolve_policy("hyperliquid"), lambda *asked: pytest.fail(f"asked {asked[0]}")) is None
    assert payer_direct.prepare(resolve_policy("gmx-v2"), TWO) is None  # no ADL layer (bitmex fits since session 21)


@pytest.mark.deep  # 5-9M units, 7-12 s each at load 3-5
@pytest.mark.parametrize(
    ("preset", "claim"),
    [("binance", "no-negative-equity"), ("binance", "loss-bounded-by-collateral"), ("okx", "no-negative-equity")],
)
def test_the_direct_check_with_the_payers_lemmas_proves_the_claim_for_every_n(preset: str, claim: str) -> None:
    result = prove(preset, claim, TWO)
    assert result.verdict is Verdict.PROVED, result.summary()
    own = next(o for o in result.obligations if o.obligation == claim)
    assert own.scope.accounts is None and own.scope.assumes == ADL_FILLS_ONLY
    assert result.proved_scope.accounts == 2  # the transfers obligation at N = 2
    assert payer_direct.METHOD in result.method


def _gap_rounded_down(equity_quote, size_lots):
    """The bankruptcy gap per lot rounded down instead of up: one token of rules.venue_formulas."""
    return max_(div(-equity_quote, safe_divisor(abs_(size_lots)), rounding=Rounding.FLOOR), 0)


def _fee_left_out_of_a_shorts_price(equity_quote, lots, long, mark_quote, fee_ppm):
    """Bybit's gap with the fee to close subtracted where it is added, in the short's denominator:
    one token of rules.adl.gap_with_fee."""
    lots = safe_divisor(lots)
    up = div(-equity_quote * PPM + fee_ppm * lots * mark_quote, lots * max(PPM - fee_ppm, 1), rounding=Rounding.CEIL)
    below = div((lots * mark_quote + equity_quote) * PPM, lots * (PPM - fee_ppm), rounding=Rounding.FLOOR)
    return ite(long, max_(up, 0), mark_quote - min_(below, mark_quote))


MUTATIONS = [
    pytest.param("binance", "bankruptcy_gap_per_lot", _gap_rounded_down, id="adl-price-rounded-down"),
    pytest.param("bybit", "gap_with_fee", _fee_left_out_of_a_shorts_price, id="fee-to-close-sign"),
]


@pytest.mark.parametrize(("preset", "name", "mutated"), MUTATIONS)
def test_a_one_token_change_to_the_adl_price_or_the_fee_to_close_breaks_the_bankrupts_side(
    monkeypatch, preset: str, name: str, mutated
) -> None:
    """The bankrupt's side holds as written and no longer ends at zero once changed, so no fact
    is given (``payer_direct.prepare``: the lemma that fails first)."""
    policy = resolve_policy(preset)

    def holds() -> bool:
        _, premise, claim = payer_facts.bankrupt_question(policy, "alice")
        return wall.check([*premise, z3.Not(claim)], [], 10_000_000, 60.0).result == "unsat"

    assert holds()
    monkeypatch.setattr(adl_module, name, mutated)
    assert not holds()
    assert payer_direct.prepare(policy, TWO) is None


@pytest.mark.deep  # 8 s and 25 s at load 3-5
@pytest.mark.parametrize(("preset", "name", "mutated"), MUTATIONS)
def test_a_one_token_change_to_the_adl_price_or_the_fee_to_close_flips_the_verdict(
    monkeypatch, preset: str, name: str, mutated
) -> None:
    """Proved for every N as written (test above, and bybit's below); refuted with a replayed story
    once the bankruptcy price rounds down, or once a short's price leaves the fee out."""
    monkeypatch.setattr(adl_module, name, mutated)
    result = prove(preset, "no-negative-equity", TWO)
    assert result.verdict is Verdict.REFUTED, result.summary()
    assert result.counterexample is not None and result.counterexample.obligation == "no-negative-equity"


@pytest.mark.deep  # bybit's fee to close in its bankruptcy price: 23M units, 59 s at load 3-5
def test_bybit_is_proved_for_every_n_with_its_transfers_at_n_2() -> None:
    result = prove("bybit", "no-negative-equity", TWO)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert result.proved_scope.accounts == 2
    assert "no-negative-equity proved (all N given that" in result.summary()


@pytest.mark.deep  # three questions, one in a fresh process: 494 s at load 12 on the 2 shared cores
def test_the_direct_check_with_facts_answers_as_a_fresh_process_would_after_other_questions() -> None:
    """The lemmas are proved again for each question and their instances built in its own z3
    context: binance's proof after okx's spends, query for query, what a fresh process spends."""
    import json

    from tests.solver.test_effort import _plain, answered_in_a_fresh_process

    prove("okx", "no-negative-equity", TWO)  # history
    here = _plain(prove("binance", "no-negative-equity", TWO))
    fresh = answered_in_a_fresh_process("binance", "no-negative-equity", accounts=2, events=1, effort=20_000_000)
    assert here["verdict"] == repr(Verdict.PROVED)
    assert json.loads(json.dumps(here)) == fresh


#: ``solvent check``'s question (two traders, one mark move) within its first-round share
CHECK = Bounds(accounts=2, events=1, effort=3_750_000)


def test_the_payers_facts_are_proved_first_and_no_smaller_book_is_searched() -> None:
    """On the lemmas' book the payer's facts are asked first, within a quarter of the question;
    where they hold, N's own pass gets every unit left and the one-trader book is not searched (a
    one-trader story is a two-trader one with an empty trader: N's pass has its models)
    (docs/solver-notes.md#the-payers-facts-first-issue-18). Within a small budget: the facts'
    queries first, then one build."""
    result = prove("binance", "no-negative-equity", attrs.evolve(CHECK, effort=1_500_000), payer_first=False)
    names = [q.name for q in result.queries]
    first = next(k for k, n in enumerate(names) if n.startswith("build"))
    assert first > 0 and all(not n.startswith(("build", "no-negative-equity")) for n in names[:first])
    assert [n for n in names if n.startswith("build")] == ["build"]


@pytest.mark.deep  # 3.5M and 7.9M units: 32 s and 34 s at load 13-15
@pytest.mark.parametrize(("preset", "effort"), [("binance", 3_750_000), ("okx", 3_750_000), ("bybit", 9_000_000)])
def test_no_negative_equity_is_proved_as_check_asks_it(preset: str, effort: int) -> None:
    """Binance and OKX within check's first-round share (partial before: 3.50M and 3.49M spent, the
    smaller book taking 0.9-1.2M); Bybit within 9M (its second-round share was 8.89M and left it
    undecided; now the direct check takes about 4.8M of it and the all-N argument the rest)."""
    result = prove(preset, "no-negative-equity", attrs.evolve(CHECK, effort=effort), minimize=False, payer_first=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert result.units <= effort

"""dYdX's payer claims at K > 1: the induction's premise across accounts (solver/ghost_start.py;
docs/solver-notes.md#dydx-at-k--3-session-22).

At K = 1 the payer's argument on dYdX reads the ranking's ghost invariant at the story's first mark.
Over K moves the induction's step starts from a premise, and a premise of each trader on its own
(worth at least zero) lets the queue skip a candidate: the premise carries one ghost price shared
by the book, every trader flat or worth its initial margin at it. Shared, not each trader's own: a
bankrupt account and a candidate within the ghost at two different prices give the skip lemma a
model. One token off in the skip rule and the K-move argument stops; the premise's floor and its
shared price are pinned at their boundary on a concrete book.
"""

from __future__ import annotations

import functools

import attrs
import pytest
import z3
from mutant_support import overlap_both_required

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.properties.story import Story
from solvent.rules.arith import and_, or_
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.margin import equity
from solvent.rules.outcomes import DeleverageAttempt
from solvent.rules.presets import resolve_policy
from solvent.solver import adl_claims, effort, ghost_start, induction, payer_ghost, wall
from solvent.solver import compositional as comp
from solvent.solver import prove as prove_module
from solvent.solver.bounds import GHOST_START, Bounds, for_policy
from solvent.solver.prove import prove
from solvent.solver.query import StoryQuery
from solvent.solver.verdicts import Verdict

DYDX = resolve_policy("dydx-v4")
K3 = for_policy(Bounds(accounts=3, events=3), DYDX)


@pytest.fixture(autouse=True)
def _nothing_remembered():
    """Each test proves its own skip and turn lemmas (a mutant must not reuse the real engine's)."""
    payer_ghost.forget()
    yield
    payer_ghost.forget()


def _book(bob_cash: int):
    """At the mark 100: alice long 20 lots on 100 (her initial margin at 100: ⌈20 × 100 × 5%⌉ = 100),
    bob short 20 on ``bob_cash``. Re-valued at P, alice is worth 100 + 20(P − 100) against a margin of
    P, so within the ghost from P = 100 up; bob ``bob_cash`` − 20(P − 100) against P, so up to
    (bob_cash + 2,000) / 21."""
    b = new_book(mark_quote=100)
    for name, size, cash in (("alice", 20, 100), ("bob", -20, bob_cash)):
        i = b.index(name)
        b = b.replace_account(i, attrs.evolve(b.accounts[i], cash_quote=cash, size_lots=size, cost_quote=size * 100))
    return b


def test_the_premise_is_one_price_shared_at_its_boundary() -> None:
    """Bob on 100: both within the ghost at P = 100, the mark. Bob on 99, one quantum less: bob is
    within it at 99 (his own price), alice at 100 (hers), and no price holds both."""
    b = for_policy(Bounds(), DYDX)
    assert ghost_start.holds(DYDX, _book(100), b, 100)
    assert not ghost_start.holds(DYDX, _book(100), b, 99)  # alice below her margin at 99: 80 < 99
    short = _book(99)
    assert adl_claims.worth_kept(DYDX, short.account("bob"), 100, 99) is True
    assert adl_claims.worth_kept(DYDX, short.account("alice"), 100, 100) is True
    assert not any(ghost_start.holds(DYDX, short, b, p) for p in range(1, 1_001))
    assert not ghost_start.holds(DYDX, _book(100), attrs.evolve(b, max_price=99), 100)  # P within the bounds


def test_a_flat_trader_is_within_at_any_price() -> None:
    b = new_book(mark_quote=100)
    i = b.index("alice")
    b = b.replace_account(i, attrs.evolve(b.accounts[i], cash_quote=-5))
    assert ghost_start.holds(DYDX, b, for_policy(Bounds(), DYDX), 7)


def test_two_ghost_prices_let_the_queue_skip() -> None:
    """The skip lemma with the candidate within the ghost at a price of its own (not the bankrupt
    account's) has a model (0.19M units): the premise has to share its price across accounts."""
    with effort.question():
        premise, claim = adl_claims.skip_question(DYDX, Bounds(accounts=2, events=1))
        ghost, other = z3.Int(f"{adl_claims.WALK}ghost_mark"), z3.Int("own_ghost_mark")
        candidate = premise[4]  # the candidate covered at P (``skip_question``'s premise order)
        assert not z3.substitute(candidate, (ghost, other)).eq(candidate)  # it reads P
        own = [*premise[:4], z3.substitute(candidate, (ghost, other)), premise[5], other >= 1]
        assert wall.check([*own, z3.Not(claim)], [], 4_000_000, 300.0).result == "sat"


def test_the_induction_takes_dydx_with_the_ghost_and_says_so() -> None:
    """K = 3 mark moves from an initial-margin book: the induction fits dYdX where the ghost covers
    its queue, and its step is checked from the premise across accounts; not where it does not."""
    assert induction.fits(DYDX, K3) and induction.ghost(DYDX, K3)
    assert induction.start(DYDX, K3) == GHOST_START
    funding = for_policy(Bounds(accounts=3, events=3, event_kinds=("mark", "funding")), DYDX)
    assert not induction.fits(DYDX, funding)
    binance = resolve_policy("binance")
    assert induction.fits(binance, K3) and induction.start(binance, K3) == induction.PREMISE
    assert ghost_start.SAYS in induction.assumes(True) and ghost_start.SAYS not in induction.assumes(False)
    assert induction.assumes(False) == induction.ASSUMES and induction.limit(binance) is None
    # dYdX's block limit: a deferred account meets the premise read at P (solver.ghost_step), nothing assumed of it
    assert induction.limit(DYDX) == 10 and ghost_start.STEP_SAYS in induction.assumes(True, 10)
    assert "no account deferred" not in induction.assumes(True, 10)


#: the argument's purse: the engine's own rule is extended within 2,805,737 units at K = 3 (every
#: lemma unsat, measured in session 25), so 3.5M decides it; with the stricter overlap rule the
#: ghost's own liquidation turn spends 2,361,140 units and the long's walk is undecided after
#: 3,389,115 more (at 6M), so within 3.5M the mutant is never extended: the purse tells the two
#: apart (it was 6M)
ATTEMPT_UNITS = 3_500_000


def _attempt() -> comp.Extension | comp.Attempt | None:
    with effort.question():
        return comp.attempt(DYDX, catalog.get("no-negative-equity"), K3, units=ATTEMPT_UNITS)


def test_the_argument_holds_for_any_k_on_the_shared_premise() -> None:
    found = _attempt()
    assert isinstance(found, comp.Extension), found
    assert found.every_k and found.one_event_start == GHOST_START
    assert payer_ghost.ASSUMES in found.assumes and ghost_start.SAYS in found.assumes
    assert ghost_start.STEP_SAYS in found.assumes and "no account deferred" not in found.assumes
    asked = [q for q in found.queries if q.units]
    assert all(q.result == "unsat" for q in asked), [(q.name, q.result) for q in asked]
    names = " | ".join(q.name for q in asked)
    parts = (payer_ghost.SKIP, "own liquidation turn", "ghost-premise-kept", "at initial margin is within")
    for part in (*parts, "a deferred account's step", "floor at P", "payer's charge at P"):
        assert part in names, part
    assert "solvent-premise-kept" not in names  # the premise asks no margin at the mark


@pytest.mark.deep  # the whole attempt at K = 3 under the mutant; the same mutant, written into
# rules.adl.overlaps, fails test_payer_ghost.py::test_each_skip_case_holds[1] and [3] (session 28)
def test_a_stricter_overlap_rule_stops_the_argument_at_k3(monkeypatch) -> None:
    """``or_`` → ``and_`` in ``rules.adl.overlaps`` (the fill must leave the offsetting account
    collateralized *and* no riskier): a skip case has a model, nothing is extended."""
    overlap_both_required(monkeypatch)
    found = _attempt()
    assert isinstance(found, comp.Attempt) and found.applies, found
    assert "z3 found a model of its negation" in found.failed or "undecided" in found.failed


def _floor_at_zero(policy, book, ghost):
    """The premise one token weaker: each trader worth at least 0 at P, not its initial margin."""
    mark = book.market.mark_quote
    return and_(
        *(or_(a.size_lots == 0, equity(policy.margin, a) + a.size_lots * (ghost - mark) >= 0) for a in book.traders)
    )


def _step(units: int = 8_000_000):
    """The induction's step checked directly: the lemmas' book (N = 2, K = 1) from the premise across
    accounts, with the payer's facts, as ``prove`` asks it first at K = 3."""
    invariant = catalog.get("no-negative-equity")
    with effort.question():
        facts = functools.partial(prove_module._payer_cases, DYDX, invariant)
        return prove_module._one_event_first(DYDX, invariant, K3, 2, facts, units, GHOST_START)


@pytest.mark.deep
def test_the_step_from_the_premise_is_proved() -> None:
    """6.18M units (the skip and turn lemmas proved by the facts themselves here)."""
    assert _step().verdict is Verdict.PROVED


@pytest.mark.deep
def test_the_step_from_a_weaker_premise_is_not(monkeypatch) -> None:
    monkeypatch.setattr(ghost_start, "within", _floor_at_zero)
    assert _step().verdict is not Verdict.PROVED


@pytest.mark.deep
@pytest.mark.parametrize("claim", ["no-negative-equity", "loss-bounded-by-collateral"])
def test_prove_at_k3_proves_every_n_and_k(claim: str) -> None:
    """N = 3, K = 3 within 20M: proved for every N and K (9,278,674 units for no-negative-equity)."""
    result = prove("dydx-v4", claim, Bounds(accounts=3, events=3, effort=20_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.method
    own = next(o for o in result.obligations if o.obligation == claim)
    assert own.scope.accounts is None and own.scope.events is None
    assert ghost_start.SAYS in result.scope.assumes and payer_ghost.ASSUMES in result.scope.assumes
    assert ghost_start.STEP_SAYS in result.scope.assumes and "no account deferred" not in result.scope.assumes


def _shorts_and_a_winner() -> Book:
    """11 shorts of 100 lots at the mark 500, each on exactly its initial margin (2,500), and one
    long of 1,100 on exactly its own (27,500): the book of tests/solver/test_dydx_block_limit_claims.py
    with the winner at its margin."""
    names = tuple(f"short{i:02}" for i in range(11))
    b = new_book(mark_quote=500, traders=(*names, "winner"))
    rows = {n: {"cash_quote": 2_500, "size_lots": -100, "cost_quote": -50_000} for n in names}
    rows["winner"] = {"cash_quote": 27_500, "size_lots": 1_100, "cost_quote": 550_000}
    for name, fields in rows.items():
        i = b.index(name)
        b = b.replace_account(i, attrs.evolve(b.accounts[i], principal_quote=fields["cash_quote"], **fields))
    return attrs.evolve(b, net_deposits_quote=sum(a.cash_quote for a in b.accounts))


@pytest.mark.parametrize("second", [560, 1_000])
def test_the_block_limits_case_on_the_engine(second: int) -> None:
    """The block limit's case on the concrete engine: the rise to 530 defers the eleventh short
    (−500, its position kept: below zero at the mark, within the premise read at P = 500,
    tests/solver/test_ghost_step.py); the second move resolves it, the winner paying its deficit,
    and the three claims hold of that step, as the step read at P proves of every such move
    (docs/solver-notes.md#dydxs-block-limit-lifted-session-23; 3,123 two-move stories in session 22)."""
    first = step(DYDX, _shorts_and_a_winner(), MarkPrice(530))
    deferred = [g.account for g in first.outcomes if isinstance(g, DeleverageAttempt) and g.deferred]
    assert deferred == ["short10"] and first.after.account("short10").cash_quote == -500
    then = step(DYDX, first.after, MarkPrice(second))
    assert then.after.account("short10").size_lots == 0 and then.after.account("winner").cash_quote >= 0
    for claim in ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed"):
        assert catalog.get(claim).holds(StepView.of(DYDX, then)), claim


def test_a_models_book_is_checked_at_the_models_ghost_price() -> None:
    """From the ghost start a question states the premise across accounts with its own free P, and a
    model's book counts only where it meets it at the model's P (``StoryQuery._replay``): bob on 100
    is within at P = 100 and outside at P = 99 (alice below her margin there)."""
    bounds = for_policy(Bounds(accounts=2, events=1, start_margin=GHOST_START, effort=10_000_000), DYDX)
    with effort.question():
        query = StoryQuery(DYDX, catalog.get("no-negative-equity"), bounds)
        assert ghost_start.NAME in [a.name for a in query.assumptions]
        assert any(v.eq(ghost_start.price()) for v in query.inputs)
        story = Story(_book(100), (MarkPrice(100),))
        assert ghost_start.NAME not in query._replay(None, story, lambda term: z3.IntVal(100)).outside
        assert ghost_start.NAME in query._replay(None, story, lambda term: z3.IntVal(99)).outside
        plain = StoryQuery(DYDX, catalog.get("no-negative-equity"), attrs.evolve(bounds, start_margin="solvent"))
        assert ghost_start.NAME not in [a.name for a in plain.assumptions]

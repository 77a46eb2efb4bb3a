"""BitMEX's payer claims at N = 4: the payer's slack kept by every charge, as a fact (session 22, helper A).

On bitmex a trader that is not resolved may be charged twice in one sweep: by the fund's own
deleveraging before the turns, then by another trader's ADL. The direct check on the lemmas' two-trader
book needed 9.1M units for its eight pieces (two of them 5.0M and 3.1M), more than the 8.75M a question
at N = 4 gives that book. The slack step (``payer_lemma.KEPT_SLACK``, free integers) says what each
charge's fill and bound give: the payer's cash less its open lots' settled gain, ``c − s·ΔM``, is no
lower after the fill. Instantiated on every charge (``PayerFacts.slack``: the fund's, on the settled
book; each resolve's, at its start), the chain from settlement to the step's end is linear in the
question's own products (docs/solver-notes.md#bitmexs-four-cells-at-n--4-session-22).
"""

from __future__ import annotations

import pytest
import z3
from term_support import occurs

import solvent.rules.pool_bankruptcy as pool_bankruptcy
from solvent.properties import catalog
from solvent.rules.presets import resolve_policy
from solvent.solver import payer_direct, payer_facts, wall
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.payer_lemma import KEPT_SLACK, arithmetic, pool_charge_question
from solvent.solver.prove import prove
from solvent.solver.query import StoryQuery
from solvent.solver.verdicts import Verdict

BITMEX = resolve_policy("bitmex")
TWO = Bounds(accounts=2, events=1, effort=20_000_000)


def _asked(premise, claim) -> str:
    return wall.check([*premise, z3.Not(claim)], [], 1_000_000, 30.0).result


def test_the_slack_step_is_proved() -> None:
    premise, claim, variables = arithmetic(KEPT_SLACK)
    assert _asked(premise, claim) == "unsat"
    assert len(variables) == 7


@pytest.mark.parametrize(
    ("dropped", "why"),
    [
        (4, "a payer on the losing side served: its slack falls by its lots times the move"),
        (5, "a gap beyond the move: the payer pays more than its lots gained"),
    ],
)
def test_the_slack_step_needs_its_premises(dropped: int, why: str) -> None:
    premise, claim, _ = arithmetic(KEPT_SLACK)
    assert _asked([p for k, p in enumerate(premise) if k != dropped], claim) == "sat", why


def test_a_gap_one_quantum_past_the_move_breaks_the_slack() -> None:
    """The bound a charge gives mutated by one token (``g ≤ |ΔM| + 1``): the step has a model."""
    premise, claim, (c, c1, s, s1, n, g, d) = arithmetic(KEPT_SLACK)
    move = z3.If(d >= 0, d, -d)
    loose = z3.Implies(n > 0, z3.And(g >= 0, g <= move + 1, z3.Implies(s * d <= 0, g == 0)))
    assert _asked([*premise[:5], loose], claim) == "sat"


def test_each_charge_gets_the_slack_step_on_the_questions_terms() -> None:
    """Four instances (the fund's charge of each trader, each trader's resolve charging the other);
    the fund's charge of alice holds alice's cash as settlement left it, the very term the question's
    sweep starts from."""
    cases = payer_direct.prepare(BITMEX, TWO)
    assert cases is not None and cases.facts.slack is not None
    invariant = catalog.get("no-negative-equity")
    query = StoryQuery(
        BITMEX, invariant, for_policy(TWO, BITMEX), obligations=(invariant, None), lemma_facts=cases.instances
    )
    # the floor for both traders; per resolve the charge, its three steps and the bankrupt's side; per
    # payer the fund's charge and its q·g ≤ q·|ΔM|; the slack on each of the four charges
    assert len(query.facts) == 2 + 2 * 5 + 2 * 2 + 4
    event = query.runs[0].runs[0].variant.event
    alice = query.book.account("alice")
    pnl = alice.size_lots * (event.price_quote - query.book.market.mark_quote)
    slack = query.facts[-4:]
    assert all(z3.is_implies(f) for f in slack)
    assert occurs(pnl, slack[0]), "the fund's charge of alice: no slack fact on her settlement term"


def test_no_other_preset_gets_the_slack_step() -> None:
    """The slack is given where ``payer_lemma.takes_over`` says the fund takes over, which
    ``test_bitmex_payer_takeover.py::test_only_bitmex_takes_over`` asks of every preset: one other
    preset's cases show the gate (binance, bybit and okx were each prepared here before session 24's
    second pass, the same gate three times)."""
    cases = payer_direct.prepare(resolve_policy("binance"), TWO)
    assert cases is not None and cases.facts.slack is None


def test_the_fund_charging_one_quantum_more_leaves_no_facts(monkeypatch) -> None:
    """The fund's own deleveraging closed for one quantum more than it hands on (``min(D, L)``, its
    lots' loss in the move at most, since session 23; a one-token change to ``pool_bankruptcy._resolve``'s
    call): its charge passes the move, its lemma has a model, and the direct check gets no fact at all
    (a lemma is never assumed)."""
    deleverage = pool_bankruptcy.deleverage

    def more(ctx, margin, rounding, layer, pool, book, mark, fee, owed, pools):
        return deleverage(ctx, margin, rounding, layer, pool, book, mark, fee, owed=owed + 1, pools=pools)

    monkeypatch.setattr(pool_bankruptcy, "deleverage", more)
    charge = pool_charge_question(BITMEX, "bob")
    solver = z3.Solver()
    solver.set("rlimit", 20_000_000)
    solver.add(*charge.premise, z3.Not(z3.And(charge.fill, charge.bound)))
    assert solver.check() == z3.sat
    assert payer_direct.prepare(BITMEX, TWO) is None


@pytest.mark.deep  # a whole proof; its lemmas and mutants stay in the default suite (docs/solver-notes.md#the-default-suites-time-session-24)
def test_no_negative_equity_on_the_lemmas_book_within_what_n_4_gives_it() -> None:
    """bitmex's no-negative-equity on two traders within the 8.75M units a question at N = 4 gives the
    lemmas' book (``prove.AT_N_SHARE``): proved for every N, where it needed 11.6M before the slack."""
    result = prove(BITMEX, "no-negative-equity", Bounds(accounts=2, events=1, effort=8_750_000), transfers=False)
    [claim] = result.obligations
    assert claim.verdict is Verdict.PROVED and claim.scope.accounts is None, result.reason
    assert result.units < 8_750_000


@pytest.mark.deep  # two questions at N = 4, 7.3M units each: 20 s each at load 12
@pytest.mark.parametrize("claim", ["no-negative-equity", "loss-bounded-by-collateral"])
def test_the_payer_claims_at_n_4_are_proved_for_every_n(claim: str) -> None:
    result = prove(BITMEX, claim, Bounds(accounts=4, events=1, effort=10_000_000))
    assert result.verdict is Verdict.PROVED, result.reason
    own = next(o for o in result.obligations if o.obligation == claim)
    assert own.scope.accounts is None


@pytest.mark.deep  # the whole 8.75M spent: 40 s at load 15
def test_without_the_slack_the_lemmas_book_is_undecided_within_what_n_4_gives_it(monkeypatch) -> None:
    """The slack's instances left out (the facts otherwise as they are): the same question runs out
    within 8.75M units, as it did before session 22 (it needed 11.6M)."""
    monkeypatch.setattr(payer_facts.PayerFacts, "_kept", lambda self, charged: [])
    result = prove(BITMEX, "no-negative-equity", Bounds(accounts=2, events=1, effort=8_750_000), transfers=False)
    [claim] = result.obligations
    assert claim.verdict is Verdict.UNKNOWN, claim.reason

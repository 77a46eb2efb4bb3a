"""claims-backed's system holders for every N under a socialized loss per lot with a cascade
(``solver.cascade_holders``, the turn step of ``claims_backed.holders_every_n`` on Drift and Mango v4;
docs/solver-notes.md#drifts-claims-backed-and-bybits-principal-protected-at-n--8-session-22).

Drift's claims-backed at N = 4 (10M units) was undecided: its system holders' question at N ran out
(the fund's turn lemma at N = 4 907,272 + 832,283 units, the third turn's undecided), then the whole
question's build. The holders by the turn without the cascade and one iteration of the loop, each on
three traders (27,672 + 26,011 units), the transfers at N asked alone: proved, 7,009,742.

Mutants: a pool paying the whole deficit (``min(deficit, balance)`` → the deficit) fails both lemmas;
the split's dust passed *from* the fund (its sign) fails the iteration. What the argument assumes of
a turn (the turn without the cascade, then the loop) and its conclusion (every holder at or above 0
after every turn) are checked on the concrete engine on random books of three to five traders.
"""

from __future__ import annotations

import random

import attrs
import pytest
import z3
from test_fund_facts import _pays_all

import solvent.rules.bankruptcy as bankruptcy_module
import solvent.rules.pro_rata as pro_rata_module
from solvent.rules import bankruptcy
from solvent.rules.engine import before_turns, liquidation_turn, opening, settle
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Ctx
from solvent.rules.outcomes import Bankrupt
from solvent.rules.presets import resolve_policy
from solvent.solver import cascade_holders, cascade_invariant, claims_backed, effort, fund_facts, wall
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.compositional import _Checker, _Failed
from solvent.solver.prove import prove, scope_of
from solvent.solver.verdicts import ObligationResult, ProofResult, Verdict
from tests.cascade_books import random_book

UNITS = 2_000_000
PRESETS = ("drift", "mango-v4")
SYSTEM = claims_backed.SYSTEM_ID


def _bounds(preset: str, accounts: int = 4) -> Bounds:
    return for_policy(Bounds(accounts=accounts, events=1, effort=UNITS), resolve_policy(preset))


def _argument(preset: str) -> tuple[tuple[str, ...], _Checker]:
    bounds = _bounds(preset)
    with effort.question():
        checker = _Checker(bounds, units=UNITS)
        return claims_backed.holders_every_n(resolve_policy(preset), bounds, checker), checker


def _check(premise: list, claim) -> str:
    return wall.check([*premise, z3.Not(claim)], [], UNITS, 60.0).result


@pytest.mark.parametrize("preset", PRESETS)
def test_the_holders_are_kept_for_every_n_through_the_cascade(preset: str) -> None:
    """The phases before the turns, the turn without the cascade and one iteration of the loop, each z3
    exact; the dust lemma for any number of payers behind the dust facts paid once (3,218 units; the
    split's lemma at three payers was 14,512 before session 23). Drift 1,468 + 27,672 + about 26K +
    3,218 units, Mango 1,636 + 2,409 + about 9K + 3,218 (the iteration 25,589 and 8,457 in a fresh
    process at eca22b5, before and after this change; session 22's notes have 26,011 and 10,051)."""
    lemmas, checker = _argument(preset)
    assert lemmas[0].startswith("decomposition (mark)")
    assert lemmas[-1].startswith("the system holders by induction over the sweep's turns")
    assert cascade_holders.LOOP in lemmas and cascade_holders.DUST in lemmas
    asked = [(q.name.split(" (")[0], q.result) for q in checker.queries]
    assert asked == [
        ("before the turns", "unsat"),
        (cascade_holders.TURN.format(trader="alice", n=3).split(" (")[0], "unsat"),
        (cascade_holders.ITERATION.format(n=3).split(" (")[0], "unsat"),
        ("pro-rata dust lemma", "unsat (every step)"),
    ]
    assert checker.queries[-1].units == 3_218
    assert sum(q.units for q in checker.queries) < 150_000


def test_only_the_socialized_loss_with_its_cascade_takes_this_turn_step() -> None:
    """Drift and Mango (a loss per lot, the cascade): this step; bybit: the payer's fund lemma; Gen A (a
    haircut): its own turn step since session 25 (tests/solver/test_holders_every_n.py); okx-2018 (a
    clawback): neither, the argument stops."""
    for preset in PRESETS:
        policy = resolve_policy(preset)
        assert claims_backed._by_cascade(policy, _bounds(preset))
        assumes = claims_backed.every_n_assumes(policy, _bounds(preset))
        assert cascade_holders.ASSUMES in assumes
        assert "any number of payers" not in assumes  # the dust: a lemma since session 23, no longer assumed
    bybit = resolve_policy("bybit")
    assert not claims_backed._by_cascade(bybit, _bounds("bybit"))
    assert claims_backed.every_n_assumes(bybit, _bounds("bybit")) == claims_backed.EVERY_N_ASSUMES
    gen_a = resolve_policy("percolator-gen-a")
    assert not claims_backed._by_cascade(gen_a, _bounds("percolator-gen-a"))
    assert claims_backed.every_n_assumes(gen_a, _bounds("percolator-gen-a")) == claims_backed.EVERY_N_ASSUMES_HAIRCUT
    with pytest.raises(_Failed, match="assumes the payer's coupling"):
        _argument("okx-2018")


@pytest.mark.parametrize("question", [cascade_holders.turn_question, cascade_holders.iteration_question])
def test_a_pool_paying_the_whole_deficit_breaks_each_lemma(monkeypatch, question) -> None:
    """One token of ``insurance_fund.pay_from`` (``min(deficit, balance)`` → the deficit): the fund and
    the fee pool may be paid below zero, in the turn and in the loop's resolution alike."""
    policy = resolve_policy("drift")
    assert _check(*question(policy, SYSTEM, {})) == "unsat"
    monkeypatch.setattr(bankruptcy_module, "pay_from", _pays_all)
    assert _check(*question(policy, SYSTEM, {})) == "sat"


def test_the_dust_paid_from_the_fund_breaks_the_iteration(monkeypatch) -> None:
    """The split's dust the other way (the fund pays it to the bankrupt account): the fund may end
    below zero after a resolution of the loop."""
    policy = resolve_policy("drift")
    real = pro_rata_module.Ctx.transfer

    def reversed_dust(self, source, destination, amount, reason):
        if reason is pro_rata_module.Reason.PRO_RATA_DUST:
            source, destination = destination, source
        return real(self, source, destination, amount, reason)

    monkeypatch.setattr(pro_rata_module.Ctx, "transfer", reversed_dust)
    assert _check(*cascade_holders.iteration_question(policy, SYSTEM, {})) == "sat"


def test_the_lemmas_need_every_holder_at_or_above_zero_before() -> None:
    """Without the holders' premise z3 finds a book (a pool already below zero stays there)."""
    policy = resolve_policy("drift")
    premise, claim = cascade_holders.turn_question(policy, SYSTEM, {})
    assert _check([premise[0]], claim) == "sat"


@pytest.mark.parametrize("preset", PRESETS)
def test_every_holder_stays_at_or_above_zero_through_every_turn_and_iteration(preset: str) -> None:
    """The argument's parts on the concrete engine, random books of three to five traders (more than
    the lemmas'), the fund and the fee account holding a little or nothing: each turn is the turn without
    the cascade then the loop, and every holder is at or above zero after the turn without the cascade,
    after each iteration of the loop and after the turn."""
    policy = resolve_policy(preset)
    off = cascade_invariant.without_cascade(policy)
    rng = random.Random(f"cascade holders {preset}")
    iterations = 0
    for _ in range(120):
        book = random_book(rng, rng.choice((3, 4, 5)))
        k = book.index("fee_account")
        book = book.replace_account(k, attrs.evolve(book.accounts[k], cash_quote=rng.choice((0, 1, 7, 40))))
        book = attrs.evolve(book, net_deposits_quote=sum(a.cash_quote + a.spot_quote for a in book.accounts))
        names = fund_facts.holders(book, SYSTEM)
        start = before_turns(policy, settle(policy, opening(policy, book), MarkPrice(rng.choice((60, 70, 80, 130)))))
        now = start.book
        for name in [a.name for a in now.traders]:
            whole = liquidation_turn(policy, Ctx(now), name)
            parts = liquidation_turn(off, Ctx(now), name)
            assert all(parts.book.account(h).cash_quote >= 0 for h in names)
            if any(isinstance(g.item, Bankrupt) and g.item.account == name for g in parts.outcomes):
                rest = [a.name for a in parts.book.traders if a.name != name]
                for _ in rest:  # the loop, one iteration at a time (bankruptcy._cascade's own)
                    parts, resolved = bankruptcy._first_below(
                        policy, parts, bankruptcy.sunk(policy, parts, rest), (name,)
                    )
                    iterations += resolved
                    assert all(parts.book.account(h).cash_quote >= 0 for h in names)
            assert (whole.book, whole.entries, whole.outcomes) == (parts.book, parts.entries, parts.outcomes)
            now = whole.book
    assert iterations >= 5  # not vacuous: resolutions inside the loop


def _traders(bounds: Bounds, accounts: int | None) -> ProofResult:
    """no-negative-equity proved (an answer ``solvent check`` would give claims-backed) on ``accounts``
    (None: every N) with the cascade invariant's assumption."""
    scope = attrs.evolve(scope_of(bounds), accounts=accounts, assumes=cascade_invariant.ASSUMES)
    own = ObligationResult(claims_backed.TRADERS, Verdict.PROVED, "", scope)
    return ProofResult("drift", claims_backed.TRADERS, Verdict.PROVED, scope, 0.0, "", obligations=(own,))


@pytest.mark.parametrize("traders", [None, 4])
def test_the_claim_is_for_every_n_only_where_both_parts_are(traders: int | None) -> None:
    """The traders' part given: the holders by the argument (for every N, the dust a lemma: no longer
    assumed) and, since session 23, the transfers for every N too (``claims_backed.transfers_every_n``)
    within a small budget. The claim's own obligation is proved for every N where the traders' part is,
    at N = 4 where it is only there (the headline the narrower); each assumption said once."""
    bounds = for_policy(Bounds(accounts=4, events=1, effort=520_000), resolve_policy("drift"))
    result = prove(
        "drift", "claims-backed", bounds, minimize=False, given={claims_backed.TRADERS: _traders(bounds, traders)}
    )
    claim = next(o for o in result.obligations if o.obligation == claims_backed.CLAIM)
    assert claim.verdict is Verdict.PROVED, result.summary()
    assert claim.scope.accounts == traders
    assert result.verdict is Verdict.PROVED and result.proved_scope.accounts == traders
    assert claim.scope.assumes.count(cascade_invariant.ASSUMES) == 1
    assert cascade_holders.ASSUMES in claim.scope.assumes and "any number of payers" not in claim.scope.assumes
    assert cascade_holders.DUST in result.lemmas


@pytest.mark.deep  # 8 s: the whole cell at N = 4; its lemmas and mutants stay in the default suite
def test_drifts_claims_backed_at_four_traders_is_proved_by_its_parts() -> None:
    """The N = 4 table's cell: undecided (10,000,000) before session 22, proved (7,009,742) with the
    holders for every N; since session 23 the dust a lemma for any number of payers (3,218 units where
    the split's lemma at three payers took 14,512): the claim proved for every N (6,998,448), the
    transfers at N = 4; since session 23 the transfers for every N as well (4,258,434: their N = 4 build,
    2,919,062 units, no longer asked); no system holders' question at N; what the argument still assumes said."""
    result = prove("drift", "claims-backed", Bounds(accounts=4, events=1, effort=10_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert result.scope.accounts is None and result.proved_scope.accounts is None
    assert claims_backed.TRANSFERS_ASSUMES in result.proved_scope.assumes
    assert cascade_holders.ASSUMES in result.scope.assumes
    assert "any number of payers" not in result.scope.assumes
    assert not any(q.name == SYSTEM for q in result.queries)
    builds = [q.name for q in result.queries if q.name.startswith("build")]
    assert builds == ["build (no-negative-equity, N = 2)"]  # the traders' part's book only: nothing built at N
    assert result.units == 4_258_434

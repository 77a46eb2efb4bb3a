"""The non-negative transfers for every N under a socialized loss per lot with a cascade
(``claims_backed.transfers_every_n``, ``cascade_holders.transfer_lemmas``; Drift and Mango v4;
docs/solver-notes.md#drifts-claims-backed-at-n--8-the-transfers-for-every-n-session-23).

Drift's claims-backed at N = 8 (12M units) was partial: the claim proved for every N, the transfers'
N = 8 build out of the 7.92M its parts left (the build alone needs 31,631,795 units). The transfers by
the holders' decomposition: the phases before the turns per account and non-negative by their shape,
each turn's parts (the turn without the cascade, one iteration of the loop) on three free traders.

Mutants (one token each): the shares rounded down (``pro_rata.charge``'s ``Rounding.CEIL`` →
``Rounding.FLOOR``, the dust lemma then not proved) and a payer's weight its signed size
(``socialize``'s ``abs_(size)`` → ``size``) give both turn lemmas a model; a transfer before the turns
that reads a second account stops the argument. (Tried, not kept: the penalty's floor at zero dropped
leaves the iteration unsat, it charges no penalty, and the turn undecided within 2M units.)
"""

from __future__ import annotations

import inspect
import textwrap

import attrs
import pytest
import z3

import solvent.rules.socialized_loss as socialized_loss_module
from solvent.rules import pro_rata
from solvent.rules.ledger import Reason
from solvent.rules.presets import resolve_policy
from solvent.solver import cascade_holders, claims_backed, dust_lemma, effort, exact_split_lemma, wall
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.compositional import _Checker, _Failed
from solvent.solver.verdicts import TRANSFERS, Verdict

UNITS = 2_000_000
PRESETS = ("drift", "mango-v4")
SYSTEM = claims_backed.SYSTEM_ID
QUESTIONS = (cascade_holders.turn_question, cascade_holders.iteration_question)


def _bounds(preset: str, accounts: int = 8, events: int = 1) -> Bounds:
    return for_policy(Bounds(accounts=accounts, events=events, effort=UNITS), resolve_policy(preset))


def _check(premise: list, claim) -> str:
    return wall.check([*premise, z3.Not(claim)], [], UNITS, 60.0).result


def _argument(preset: str, **changes) -> tuple[tuple[str, ...], _Checker]:
    bounds = _bounds(preset, **changes)
    with effort.question():
        checker = _Checker(bounds, units=UNITS)
        return claims_backed.transfers_every_n(resolve_policy(preset), bounds, checker), checker


@pytest.mark.parametrize("preset", PRESETS)
def test_the_transfers_are_proved_for_every_n(preset: str) -> None:
    """Both turn lemmas unsat (z3, exact), the dust lemma behind their dust facts; every transfer before
    the turns non-negative by its shape; none after the sweep."""
    lemmas, checker = _argument(preset)
    asked = {q.name: q for q in checker.queries}
    turn = cascade_holders.TRANSFERS_TURN.format(trader="alice", n=cascade_holders.TRADERS)
    iteration = cascade_holders.TRANSFERS_ITERATION.format(n=cascade_holders.TRADERS)
    assert asked[turn].result == "unsat" and asked[iteration].result == "unsat"
    assert any(q.name.startswith("pro-rata dust lemma (any number of payers)") for q in checker.queries)
    assert any("non-negative by their shape for every input" in lemma for lemma in lemmas)
    assert lemmas[-1].endswith("for every N, one mark move")


@pytest.fixture
def fresh_dust_lemma():
    """The dust lemma's verdicts are kept per process: cleared after the test's own asking."""
    yield
    dust_lemma._verdict.cache_clear()
    dust_lemma._fits.cache_clear()


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_shares_rounded_down_break_each_lemma(monkeypatch, fresh_dust_lemma, question) -> None:
    """``pro_rata.charge``'s ``Rounding.CEIL if up`` → ``Rounding.FLOOR if up`` (the engine's socialized loss
    and the dust lemma's free split alike): the dust lemma no longer holds, so no dust fact, and the dust
    the resolution passes to the fund is negative where a share had a fraction."""
    policy = resolve_policy("drift")
    assert _check(*question(policy, SYSTEM, {}, transfers=True)) == "unsat"
    old, new = "direction = Rounding.CEIL if up", "direction = Rounding.FLOOR if up"
    source = textwrap.dedent(inspect.getsource(pro_rata.charge))
    assert source.count(old) == 1
    namespace = dict(vars(pro_rata))
    exec(compile(source.replace(old, new), pro_rata.__file__, "exec"), namespace)  # noqa: S102
    monkeypatch.setattr(socialized_loss_module, "charge", namespace["charge"])
    monkeypatch.setattr(exact_split_lemma, "charge", namespace["charge"])
    dust_lemma._verdict.cache_clear()  # the real split's verdict, asked above, is not the mutant's
    dust_lemma._fits.cache_clear()
    assert _check(*question(policy, SYSTEM, {}, transfers=True)) == "sat"


@pytest.mark.parametrize("question", QUESTIONS)
def test_a_payers_signed_weight_breaks_each_lemma(monkeypatch, question) -> None:
    """``socialize``'s weight ``abs_(size)`` → ``size``: a short payer's share (and the dust) turn
    negative."""
    policy = resolve_policy("drift")
    monkeypatch.setattr(socialized_loss_module, "abs_", lambda x: x)
    assert _check(*question(policy, SYSTEM, {}, transfers=True)) == "sat"


def test_a_transfer_before_the_turns_reading_another_account_stops_the_argument(monkeypatch) -> None:
    """The phases before the turns are the same term for each account at any N only where each transfer
    reads one account it names: one that reads a second (alice pays bob's cash) is not covered."""
    real = claims_backed._settled

    def settled(policy, book, event):
        ctx = real(policy, book, event)
        return ctx.transfer("alice", "clearing", ctx.book.account("bob").cash_quote, Reason.SETTLEMENT)

    monkeypatch.setattr(claims_backed, "_settled", settled)
    with pytest.raises(_Failed, match="reads more than one account it names"):
        _argument("drift")


@pytest.mark.parametrize(
    ("preset", "changes"),
    [("bybit", {}), ("drift", {"events": 3}), ("drift", {"accounts": 2})],
)
def test_the_argument_covers_one_move_on_a_larger_book_under_the_cascade(preset: str, changes: dict) -> None:
    """Not the payer's route (its turn is the fund's lemma on two traders, with no transfer lemma), not K > 1
    (a later move starts from a book the lemmas' premise need not describe), not the lemmas' own book."""
    with pytest.raises(_Failed, match="covers one mark move under a socialized loss"):
        _argument(preset, **changes)


def test_the_transfers_obligation_says_its_assumption() -> None:
    """With the traders' part given, the claim's question at N = 8 builds nothing at N: the holders and
    the transfers both for every N, the headline's scope saying the transfers' assumption too."""
    from test_cascade_holders import _traders

    from solvent.solver.prove import prove

    bounds = _bounds("drift")
    bounds = attrs.evolve(bounds, effort=520_000)
    result = prove(
        "drift", "claims-backed", bounds, minimize=False, given={claims_backed.TRADERS: _traders(bounds, None)}
    )
    assert result.verdict is Verdict.PROVED, result.summary()
    transfers = next(o for o in result.obligations if o.obligation == TRANSFERS)
    assert transfers.verdict is Verdict.PROVED and transfers.scope.accounts is None
    assert claims_backed.TRANSFERS_ASSUMES in transfers.scope.assumes
    assert result.proved_scope.accounts is None and claims_backed.TRANSFERS_ASSUMES in result.proved_scope.assumes
    assert not any(q.name.startswith("build") for q in result.queries)

"""The non-negative transfers for every N on every cascade cell (drift, mango-v4), not claims-backed's
alone (``claims_backed.transfers_for_every_n``, asked by ``prove._then_transfers`` where a claim is
proved for every N and by ``prove._answered`` where a claim's all-N argument held;
docs/solver-notes.md#the-transfers-for-every-n-on-every-cascade-cell-session-23).

At N = 8 (12M) drift's 9 and mango-v4's 10 cells whose claim is proved for every N were partial: the
transfers' N = 8 build out. The argument is session 23's (helper drift8's ``transfers_every_n``) with the
system holders' all-N argument as its premise (``holders_every_n``). Mutants on this call path: the
shares rounded down and a payer's signed weight (drift8's, ``test_cascade_transfers.py``) leave no
obligation; a claim proved only at N does not take the argument (the transfers asked at N).
"""

from __future__ import annotations

import inspect
import textwrap

import attrs
import pytest

import solvent.rules.socialized_loss as socialized_loss_module
from solvent.rules import pro_rata
from solvent.rules.presets import resolve_policy
from solvent.solver import cascade_holders, claims_backed, dust_lemma, effort, exact_split_lemma, prove
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.verdicts import TRANSFERS, ObligationResult, ProofResult, Verdict

UNITS = 2_000_000
PRESETS = ("drift", "mango-v4")


def _bounds(preset: str, accounts: int = 4, events: int = 1, **changes) -> Bounds:
    bounds = Bounds(accounts=accounts, events=events, effort=UNITS, **changes)
    return for_policy(bounds, resolve_policy(preset))


def _every(preset: str, **changes) -> claims_backed.EveryNTransfers | None:
    with effort.question():
        return prove._every_n_transfers(resolve_policy(preset), _bounds(preset, **changes), UNITS)


@pytest.mark.parametrize("preset", PRESETS)
def test_the_transfers_for_every_n_on_the_cascades_route(preset: str) -> None:
    """Held: the obligation proved for every N, its scope saying the holders' and the transfers' assumptions;
    both turn lemmas asked (unsat) after the holders' own."""
    every = _every(preset)
    assert every is not None and every.obligation is not None, every
    assert every.obligation.obligation == TRANSFERS and every.obligation.verdict is Verdict.PROVED
    scope = every.obligation.scope
    assert scope.accounts is None and scope.events == 1
    assert claims_backed.TRANSFERS_ASSUMES in scope.assumes
    assert claims_backed.EVERY_N_ASSUMES_CASCADE in scope.assumes
    asked = {q.name: q.result for q in every.queries}
    turn = cascade_holders.TRANSFERS_TURN.format(trader="alice", n=cascade_holders.TRADERS)
    assert asked[turn] == "unsat" and asked[cascade_holders.TRANSFERS_ITERATION.format(n=3)] == "unsat"
    assert every.units == sum(q.units for q in every.queries) > 0
    assert every.lemmas[-1].endswith("for every N, one mark move")


@pytest.mark.parametrize(
    ("preset", "changes"),
    [("binance", {}), ("bybit", {"accounts": 8}), ("drift", {"events": 3}), ("drift", {"accounts": 2})],
)
def test_refused_off_the_route_without_a_unit(preset: str, changes: dict) -> None:
    """Not the payer's route (binance, bybit), not K > 1, not the lemmas' own book: nothing asked, so
    every other preset's cell spends what it spent."""
    bounds = _bounds(preset, **changes)
    assert not claims_backed.transfers_route(resolve_policy(preset), bounds)
    assert _every(preset, **changes) is None
    refused = claims_backed.transfers_for_every_n(resolve_policy(preset), bounds, UNITS)
    assert refused.obligation is None and refused.queries == () and "covers one mark move" in refused.why


@pytest.fixture
def fresh_dust_lemma():
    """The dust lemma's verdicts are kept per process: cleared before and after the mutant."""
    dust_lemma._verdict.cache_clear()
    dust_lemma._fits.cache_clear()
    yield
    dust_lemma._verdict.cache_clear()
    dust_lemma._fits.cache_clear()


def test_the_shares_rounded_down_leave_no_obligation(monkeypatch, fresh_dust_lemma) -> None:
    """``pro_rata.charge``'s ``Rounding.CEIL if up`` → ``Rounding.FLOOR if up``: a lemma of the argument
    no longer holds, so the transfers are not said for every N (asked at N)."""
    old, new = "direction = Rounding.CEIL if up", "direction = Rounding.FLOOR if up"
    source = textwrap.dedent(inspect.getsource(pro_rata.charge))
    assert source.count(old) == 1
    namespace = dict(vars(pro_rata))
    exec(compile(source.replace(old, new), pro_rata.__file__, "exec"), namespace)  # noqa: S102
    monkeypatch.setattr(socialized_loss_module, "charge", namespace["charge"])
    monkeypatch.setattr(exact_split_lemma, "charge", namespace["charge"])
    every = _every("drift")
    assert every is not None and every.obligation is None and every.queries, every
    assert "z3 found a model" in every.why  # a lemma refuted (the holders' turn, its premise), not out of units


def test_a_payers_signed_weight_leaves_no_obligation(monkeypatch) -> None:
    """``socialize``'s weight ``abs_(size)`` → ``size``: a short payer's share turns negative."""
    monkeypatch.setattr(socialized_loss_module, "abs_", lambda x: x)
    every = _every("drift")
    assert every is not None and every.obligation is None and every.queries, every


@pytest.mark.parametrize("all_n", [True, False])
def test_the_argument_only_where_the_claim_is_proved_for_every_n(monkeypatch, all_n: bool) -> None:
    """``_then_transfers`` asks the all-N transfers only beside a claim proved for every N: a claim proved at
    N alone keeps the transfers at N (its bounded question), the argument not asked."""
    policy = resolve_policy("drift")
    bounds = _bounds("drift")
    asked: list[str] = []
    real = claims_backed.transfers_for_every_n

    def every(*args):
        asked.append("every")
        return real(*args)

    def bounded(policy, invariant, bounds, units, **kwargs):
        asked.append("at N")
        at_n = ObligationResult(TRANSFERS, Verdict.PROVED, "", prove.scope_of(bounds))
        return ProofResult(
            policy.name, invariant.id, Verdict.PROVED, prove.scope_of(bounds), 0.0, "", obligations=(at_n,)
        )

    monkeypatch.setattr(claims_backed, "transfers_for_every_n", every)
    monkeypatch.setattr(prove, "_bounded", bounded)
    scope = prove.scope_of(bounds)
    claim = ObligationResult("conservation", Verdict.PROVED, "", attrs.evolve(scope, accounts=None) if all_n else scope)
    with effort.question():
        result = prove._then_transfers(policy, prove.catalog.get("conservation"), bounds, claim, UNITS, "")
    transfers = next(o for o in result.obligations if o.obligation == TRANSFERS)
    assert asked == (["every"] if all_n else ["at N"])
    assert transfers.scope.accounts == (None if all_n else 4)
    assert result.verdict is Verdict.PROVED


@pytest.mark.deep
@pytest.mark.parametrize("claim", ["conservation", "no-negative-equity"])
def test_drift_at_n4_builds_nothing_at_n(claim: str) -> None:
    """The two call paths whole: an all-N argument's claim (conservation: checked on the lemmas' book) and a
    claim proved for every N on the lemmas' book first (no-negative-equity): proved for every N, the headline
    saying the transfers' assumption, no query built at N = 4."""
    result = prove.prove("drift", claim, attrs.evolve(_bounds("drift"), effort=10_000_000))
    assert result.verdict is Verdict.PROVED, result.summary()
    transfers = next(o for o in result.obligations if o.obligation == TRANSFERS)
    assert transfers.scope.accounts is None and result.proved_scope.accounts is None
    assert claims_backed.TRANSFERS_ASSUMES in result.proved_scope.assumes
    builds = [q.name for q in result.queries if q.name.startswith("build")]
    assert len(builds) == 1 and builds[0].startswith("build (on the lemmas' book, N = 2")  # none at N = 4

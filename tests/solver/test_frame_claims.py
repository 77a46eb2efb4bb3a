"""Drift's and Mango v4's ADL and market claims, spot-isolated and the fund for every N at one move
(``solver.frame_claims``; docs/solver-notes.md#the-adl-and-market-claims-and-the-fund-at-n--8-session-24).

At N = 8 (12M) the seven cells ran out in the N-trader build. The frame: each part of the step (the
phases before the turns and after the sweep on two traders, the turn without the cascade and one
iteration of the loop on three) records no ADL fill and writes no spot balance, and the catalog's own
predicate, read on the book of N traders with the step's outputs withheld but for the frame, is true.
The fund: a system holder, at or above zero for every N by the holders' argument. On percolator Gen B the
same frame on its own decomposition (``gen_b_transfers``' three runs: the turn with the cascade left out,
a cascade resolution, the write-off, each for every trader of a free book of three).

Mutants: the socialized loss's charge booked under the ADL reason, or charged to the payer's spot
balance (one token each), stops the frame; a claim that reads one quantum more than the frame keeps
(spot-isolated's expected balance + 1) is not true on the frame, and one that reads what the frame does
not keep (the cash after the step, who went bankrupt) stops the reading; a pool paying the whole deficit,
or the fund left out of the holders' predicate, stops the fund's argument; ``prove._extended`` without
the vacuous claim's "trivially" makes the all-N verdict a plain proof. On Gen B, its haircut booked under
the ADL reason, or charged to the payer's spot balance, stops the frame at the turn and at the write-off's
run alone. Off the route nothing is asked.
"""

from __future__ import annotations

import attrs
import pytest
from test_fund_facts import _pays_all

import solvent.rules.bankruptcy as bankruptcy_module
from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules import haircut_ratio, socialized_loss
from solvent.rules.arith import all_
from solvent.rules.book import Role
from solvent.rules.ledger import SPOT, Reason
from solvent.rules.presets import resolve_policy
from solvent.solver import claims_backed, effort, frame_claims, gen_b_transfers
from solvent.solver import prove as prove_module
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.compositional import Extension, _Checker, _Failed
from solvent.solver.prove import prove
from solvent.solver.story import symbolic_book
from solvent.solver.verdicts import TRIVIALLY, ObligationResult, ProofResult, Verdict

UNITS = 2_000_000
SEVEN = (*frame_claims.READS, frame_claims.FUND)


def _bounds(preset: str, accounts: int = 4, events: int = 1, **changes) -> Bounds:
    return for_policy(Bounds(accounts=accounts, events=events, effort=UNITS, **changes), resolve_policy(preset))


def _argument(preset: str, claim: str, accounts: int = 4) -> tuple[list[str], _Checker]:
    bounds = _bounds(preset, accounts)
    with effort.question():
        checker = _Checker(bounds, units=UNITS)
        return frame_claims.argument(resolve_policy(preset), bounds, claim, checker), checker


def test_the_route_is_drift_mango_and_gen_b_at_one_move_only() -> None:
    """Drift and Mango v4 at N = 4 and 8, one move: every claim but Drift's spot-isolated (spot collateral:
    its engine writes spot balances); percolator-gen-b (its own decomposition, ``frame_claims.gen_b``) the six
    the frame covers, not the fund (Gen B's fund has its own argument, ``side_fund``); not at N = 2 or K = 3,
    not on binance, bybit or bitmex (an ADL layer), not another claim. No units: a static test."""
    for preset in ("drift", "mango-v4", "percolator-gen-b"):
        policy = resolve_policy(preset)
        for n in (4, 8):
            asked = {c for c in SEVEN if frame_claims.fits(policy, c, _bounds(preset, n))}
            left = {"drift": {"spot-isolated"}, "mango-v4": set(), "percolator-gen-b": {frame_claims.FUND}}[preset]
            assert asked == set(SEVEN) - left
            assert frame_claims.gen_b(policy, _bounds(preset, n)) is (preset == "percolator-gen-b")
        assert not any(frame_claims.fits(policy, c, _bounds(preset, 2)) for c in SEVEN)
        assert not any(frame_claims.fits(policy, c, _bounds(preset, 3, events=3)) for c in SEVEN)
        assert not frame_claims.fits(policy, "conservation", _bounds(preset))
    for preset in ("binance", "bybit", "bitmex"):
        assert not any(frame_claims.fits(resolve_policy(preset), c, _bounds(preset)) for c in SEVEN)


@pytest.mark.parametrize(
    ("preset", "claim"),
    [("drift", "adl-price-fair"), ("mango-v4", "adl-ranking-respected"), ("mango-v4", "spot-isolated")],
)
def test_no_part_writes_what_the_claim_reads(preset: str, claim: str) -> None:
    """The frame held with no solver query (each part's records read off the engine's own run), and the
    predicate true on the frame at N = 8."""
    lemmas, checker = _argument(preset, claim, accounts=8)
    what = frame_claims.UNWRITTEN[frame_claims.READS[claim]][0]
    assert lemmas[0].startswith("decomposition (mark)")
    assert f"the turn without the cascade (3 traders, every number free) {what}" in lemmas
    assert f"one iteration of the cascade's loop (3 traders, every number free) {what}" in lemmas
    assert lemmas[-1].startswith(f"{claim}'s predicate on the book of 8 traders")
    assert checker.queries == []


@pytest.mark.parametrize("claim", ["adl-price-fair", "spot-isolated"])
def test_no_part_of_gen_bs_turn_writes_what_the_claim_reads(claim: str) -> None:
    """percolator-gen-b at N = 8: the phases (opening and closing each trader's own, ``each_own``) and each of
    Gen B's three runs (the turn with the cascade left out, a cascade resolution, the write-off) for every
    trader of the free book of three read off the engine's own run, no solver query; the predicate true on
    the frame. The scope says Gen B's decomposition, not the cascade invariant's."""
    lemmas, checker = _argument("percolator-gen-b", claim, accounts=8)
    what = frame_claims.UNWRITTEN[frame_claims.READS[claim]][0]
    assert lemmas[0].startswith("decomposition (mark)") and "opening and closing change each trader" in lemmas[0]
    for said in frame_claims.GEN_B_RUNS:
        for trader in ("alice", "bob", "carol"):
            assert f"{said.format(trader=trader)} (3 traders, every number free) {what}" in lemmas
    assert not any("iteration of the cascade's loop" in lemma for lemma in lemmas)
    assert lemmas[-1].startswith(f"{claim}'s predicate on the book of 8 traders")
    assert checker.queries == []
    policy, bounds = resolve_policy("percolator-gen-b"), _bounds("percolator-gen-b", 8)
    said = frame_claims.assumes(policy, bounds, claim)
    assert "Gen B's decomposition" in said and "cascade invariant's" not in said
    assert said in frame_claims.method(claim, policy, bounds)
    assert "cascade invariant's" in frame_claims.assumes(resolve_policy("drift"), _bounds("drift", 8), "adl-price-fair")


def _haircut_planted(monkeypatch, planted_reason: Reason | None = None, spot: bool = False) -> None:
    """Plant Gen B's haircut (``haircut_ratio.haircut``'s call of ``charge``) with one token changed: its
    reason (``Reason.HAIRCUT`` → ``Reason.ADL``), or each share charged to the payer's spot balance
    (``name`` → ``name + SPOT``). The haircut runs in the turn, in a cascade resolution and in the write-off."""
    real = haircut_ratio.charge

    def charge(ctx, rounding, weights, bankrupt, remaining, *, capped, reason):
        weights = [(name + SPOT, w) for name, w in weights] if spot else weights
        return real(ctx, rounding, weights, bankrupt, remaining, capped=capped, reason=planted_reason or reason)

    monkeypatch.setattr(haircut_ratio, "charge", charge)


def _write_off_unwritten(reads: str) -> None:
    """The write-off's run alone (``gen_b_transfers``' third, alice's) read by the frame."""
    policy = resolve_policy("percolator-gen-b")
    three, _ = symbolic_book(Bounds(accounts=3, events=1))
    ctx = gen_b_transfers._write_off(policy, three, "alice")
    frame_claims.unwritten("alice's write-off", reads, three, ctx, _raise)


def test_gen_bs_haircut_booked_as_adl_stops_the_frame(monkeypatch) -> None:
    """Gen B's haircut under the ADL reason: the turn writes an ADL transfer, and so does the write-off's
    run alone (which holds unplanted): the argument stops and says which part."""
    _write_off_unwritten(frame_claims.FILLS)
    _haircut_planted(monkeypatch, Reason.ADL)
    with pytest.raises(_Failed, match="alice's turn with the cascade left out .* writes an ADL transfer"):
        _argument("percolator-gen-b", "adl-price-fair")
    with pytest.raises(_Failed, match="alice's write-off writes an ADL transfer"):
        _write_off_unwritten(frame_claims.FILLS)


def test_gen_bs_haircut_to_the_spot_balance_stops_the_frame(monkeypatch) -> None:
    """Each haircut share charged to the payer's spot balance: spot-isolated's frame stops at the turn,
    and the write-off's run alone writes a spot balance; the ADL claims' frame still holds."""
    _write_off_unwritten(frame_claims.SPOT_BALANCES)
    _haircut_planted(monkeypatch, spot=True)
    with pytest.raises(_Failed, match="alice's turn with the cascade left out .* writes a spot balance"):
        _argument("percolator-gen-b", "spot-isolated")
    with pytest.raises(_Failed, match="alice's write-off writes a spot balance"):
        _write_off_unwritten(frame_claims.SPOT_BALANCES)
    _argument("percolator-gen-b", "adl-price-fair")


@pytest.mark.parametrize(
    "claim", ["adl-in-deficit-market-only", "market-fund-pays-own-market", "isolated-loss-contained"]
)
def test_a_claim_of_the_books_shape_reads_nothing_of_the_step(claim: str) -> None:
    """One market and no isolated position: the predicate is true with every output of the step withheld
    (no part run). On a book of two markets the same predicate reads the step, and the reading stops."""
    lemmas, checker = _argument("drift", claim)
    assert lemmas == [
        f"{claim}'s predicate on the book of 4 traders, the step's outputs withheld but nothing: true for every value"
    ]
    assert checker.queries == []
    changed = {"isolated": 1} if claim == "isolated-loss-contained" else {"markets": 2}
    with pytest.raises(_Failed, match="which the frame does not keep"):
        frame_claims.reading(resolve_policy("drift"), _bounds("drift", **changed), claim, frame_claims.SHAPE, _raise)


def _raise(why: str) -> None:
    raise _Failed(why)


def _charge_reason(monkeypatch, planted_reason: Reason | None = None, spot: bool = False) -> None:
    """Plant ``socialized_loss.charge`` (as ``socialize`` calls it) with one token changed: its reason
    (``Reason.SOCIALIZED_LOSS`` → ``reason``), or each share charged to the payer's spot balance
    (``name`` → ``name + SPOT``)."""
    real = socialized_loss.charge

    def charge(ctx, rounding, weights, bankrupt, remaining, *, capped, reason):
        weights = [(name + SPOT, w) for name, w in weights] if spot else weights
        return real(ctx, rounding, weights, bankrupt, remaining, capped=capped, reason=planted or reason)

    planted = planted_reason

    monkeypatch.setattr(socialized_loss, "charge", charge)


def test_a_charge_booked_as_adl_stops_the_frame(monkeypatch) -> None:
    """The socialized loss's charge under the ADL reason: the turn writes an ADL transfer."""
    _argument("mango-v4", "adl-price-fair")  # holds unplanted (also above)
    _charge_reason(monkeypatch, Reason.ADL)
    with pytest.raises(_Failed, match="writes an ADL transfer"):
        _argument("mango-v4", "adl-price-fair")


def test_a_charge_to_the_spot_balance_stops_the_frame(monkeypatch) -> None:
    """Each payer's share charged to its spot balance: the turn writes a spot balance (the ADL claims'
    frame, which does not read spot balances, still holds)."""
    _charge_reason(monkeypatch, spot=True)
    with pytest.raises(_Failed, match="writes a spot balance"):
        _argument("mango-v4", "spot-isolated")
    _argument("mango-v4", "adl-price-fair")


def test_a_predicate_reading_one_quantum_more_is_not_true_on_the_frame(monkeypatch) -> None:
    """spot-isolated's expected balance one quantum up (``expected + 1``): not true on the frame; a
    predicate reading the cash after the step, or who went bankrupt (which the frame does not keep),
    stops the reading."""
    policy, bounds = resolve_policy("mango-v4"), _bounds("mango-v4")
    real = catalog.get("spot-isolated")

    def plus_one(view):
        return all_(
            a1.spot_quote == a0.spot_quote + 1 for a0, a1 in zip(view.before.accounts, view.after.accounts, strict=True)
        )

    def cash(view):
        return all_(a.cash_quote >= 0 for a in view.after.accounts)

    def bankrupt(view):
        return view.went_bankrupt("alice")

    for holds, match in (
        (plus_one, "not true for every value"),
        (cash, "which the frame does not keep"),
        (bankrupt, "Bankrupt outcomes, which the frame does not keep"),
    ):
        monkeypatch.setattr(catalog, "get", lambda _id, h=holds: attrs.evolve(real, predicate=h))
        with pytest.raises(_Failed, match=match):
            frame_claims.reading(policy, bounds, "spot-isolated", frame_claims.SPOT_BALANCES, _raise)


def test_the_fund_follows_from_the_holders_at_zero_and_not_one_quantum_below() -> None:
    """The fund's predicate and the holders' at a fund of 0 (true) and -1 (false), every other holder at 0;
    the implication lemma asked of every book of N traders (z3, exact)."""
    book, _ = symbolic_book(_bounds("drift"))
    policy = resolve_policy("drift")
    concrete = book.with_balances(
        tuple(attrs.evolve(a, cash_quote=0, spot_quote=0) if not a.is_trader else a for a in book.accounts)
    )
    fund = concrete.role(Role.INSURANCE_FUND).name
    for cash, holds in ((0, True), (-1, False)):
        after = concrete.with_balances(
            tuple(attrs.evolve(a, cash_quote=cash) if a.name == fund else a for a in concrete.accounts)
        )
        view = StepView(policy, None, None, after, (), ())  # type: ignore[arg-type]
        assert bool(catalog.get(frame_claims.FUND).holds(view)) is holds
        assert bool(claims_backed.SYSTEM.holds(view)) is holds
    with effort.question():
        checker = _Checker(_bounds("drift"), units=UNITS)
        assert frame_claims._fund_follows(policy, _bounds("drift"), checker).startswith(frame_claims.FUND)
    assert [q.result for q in checker.queries] == ["unsat"]


def test_the_fund_left_out_of_the_holders_or_paying_the_whole_deficit_stops_the_fund(monkeypatch) -> None:
    """The holders' predicate without the fund (``SYSTEM`` → ``POOLS``): the implication has a model; a
    pool paying the whole deficit (``pay_from``'s ``min(deficit, balance)`` → the deficit): the turn lemma does."""
    policy, bounds = resolve_policy("mango-v4"), _bounds("mango-v4")
    monkeypatch.setattr(frame_claims.claims_backed, "SYSTEM", claims_backed.POOLS)
    with effort.question(), pytest.raises(_Failed, match="found a model"):
        frame_claims._fund_follows(policy, bounds, _Checker(bounds, units=UNITS))
    monkeypatch.undo()
    monkeypatch.setattr(bankruptcy_module, "pay_from", _pays_all)
    with pytest.raises(_Failed, match="found a model"):
        _argument("mango-v4", frame_claims.FUND)


@pytest.mark.parametrize("vacuous", [True, False])
def test_a_vacuous_claim_stays_trivially_true_for_every_n(vacuous: bool) -> None:
    """``prove._extended`` on the transfers' route (the claim not asked at N, the lemmas' book proved it
    trivially): the all-N verdict says "trivially" where the argument says the claim cannot fail there
    (``Extension.vacuous``), and is a plain proof where it does not (session 23's cells, unchanged)."""
    scope = prove_module.scope_of(_bounds("drift"))
    claim = catalog.get("adl-price-fair")
    unasked = ObligationResult(claim.id, Verdict.UNKNOWN, prove_module.EVERY_N_TRANSFERS_FIRST, scope)
    outcome = ProofResult("drift", claim.id, Verdict.UNKNOWN, scope, 0.0, "at N", obligations=(unasked,))
    small_scope = attrs.evolve(scope, accounts=2)
    trivially = ObligationResult(claim.id, Verdict.PROVED, TRIVIALLY, small_scope)
    small = ProofResult("drift", claim.id, Verdict.PROVED, small_scope, 0.0, "N = 2", obligations=(trivially,))
    extension = Extension("the frame", ("a lemma",), (), every_k=False, vacuous=vacuous)
    result = prove_module._extended(outcome, claim, extension, small)
    assert result.proved and result.proved_scope.accounts is None
    assert result.trivial is vacuous


@pytest.mark.deep
@pytest.mark.parametrize(
    ("preset", "claim", "trivial"),
    [
        ("drift", "adl-price-fair", True),
        ("mango-v4", "spot-isolated", True),
        ("drift", frame_claims.FUND, False),
        ("percolator-gen-b", "spot-isolated", True),
    ],
)
def test_the_cell_at_n_4_is_proved_for_every_n(preset: str, claim: str, trivial: bool) -> None:
    """The whole question at N = 4: proved for every N, the frame's (or the holders') assumption and the
    transfers' said in the scope (Gen B's: its own decomposition's, both); an ADL or spot claim trivially (nothing to check), the fund not; nothing
    built at N = 4 (the direct check on the lemmas' book, N = 2)."""
    result = prove(preset, claim, Bounds(accounts=4, events=1, effort=10_000_000))
    assert result.proved and result.proved_scope.accounts is None and result.proved_scope.events == 1
    assert result.trivial is trivial
    transfers = gen_b_transfers.ASSUMES if preset == "percolator-gen-b" else claims_backed.TRANSFERS_ASSUMES
    assert transfers in result.proved_scope.assumes
    said = frame_claims.assumes(resolve_policy(preset), _bounds(preset), claim)
    assert said in result.proved_scope.assumes
    assert not any(q.name.startswith("build") and "lemmas' book" not in q.name for q in result.queries)

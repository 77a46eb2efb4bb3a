"""The lent asset's deposit-index cut in a per-account argument (``solver.asset_cut``; session 33,
docs/solver-notes.md#a-per-account-argument-on-the-asset-books-session-33).

On the engine's own ``lending.cover_unpaid_borrows`` over a free three-trader book (exact z3): a trader's
cut is within its deposit, the borrower is covered whole where the holders' balances sum to at least 0,
and the asset is conserved between its holders and the fund; the holders' sum is *not* kept (the dust
goes to the fund), and on two traders it is (no second borrower is left to need it). The story built
from that is replayed on the concrete engine: inside every assumption of check's question at N = 3,
it breaks no-negative-equity, loss-bounded-by-collateral and claims-backed, at every N to 8, so the
all-N attempt on check's asset book says so. Mutants: the dust kept by the borrower (the story breaks
nothing, the sum is kept), and a share one quantum over (a trader's cut beyond its deposit).
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.properties.story import Story
from solvent.rules import lending
from solvent.rules.engine import step
from solvent.rules.ledger import Reason
from solvent.rules.policy import Policy
from solvent.rules.presets import load_preset
from solvent.solver import asset_cut, effort, per_account
from solvent.solver import compositional as comp
from solvent.solver import prove as prove_module
from solvent.solver.verdicts import Verdict

PRESETS = ("drift", "mango-v4")
#: each fact's units (exact z3 on three traders; measured: drift 50,225, 406,824, 2 and 152,724)
UNITS = 2_000_000


def _answers(preset: str, traders: int = 3, units: int = UNITS) -> dict[str, str]:
    """Each fact's z3 answer (``unsat``: it holds) on ``traders`` traders, each in a z3 context of its own."""
    policy = load_preset(preset)
    out = {}
    for k in range(4):
        with effort.question():
            name, premise, claim = asset_cut.facts(policy, traders)[k]
            checker = comp._Checker(asset_cut._bounds(policy, traders), units)
            try:
                checker.valid(name, premise, claim, exact=True)
            except comp._Failed:
                pass
            out[name] = checker.queries[-1].result
    return out


@pytest.fixture
def fresh_replay():
    asset_cut.replayed.cache_clear()
    yield
    asset_cut.replayed.cache_clear()


@pytest.mark.parametrize("preset", PRESETS)
def test_the_cut_keeps_each_trader_within_its_deposit_and_covers_the_borrower_but_not_the_sum(preset: str) -> None:
    assert _answers(preset) == {
        asset_cut.WITHIN: "unsat",
        asset_cut.COVERED: "unsat",
        asset_cut.CONSERVED: "unsat",
        asset_cut.KEPT: "sat",  # the dust left the holders for the fund
    }


def test_on_two_traders_the_sum_is_kept() -> None:
    # the first cut's payers are the other trader and the order book, both holders: a share rounded up
    # takes at most a holder's deposit, so the dust is at most what the deposits exceed the borrow by
    assert _answers("drift", traders=2, units=4_000_000)[asset_cut.KEPT] == "unsat"  # 3,100,247 units


@pytest.mark.parametrize("preset", PRESETS)
def test_the_story_is_inside_every_assumption_and_breaks_the_three_claims_at_every_n_to_8(
    preset: str, fresh_replay: None
) -> None:
    policy = load_preset(preset)
    replay = asset_cut.replayed(policy)
    assert replay is not None and replay.refutes
    assert replay.outside == ()
    assert replay.broken == asset_cut.CLAIMS
    assert dict(replay.up_to) == dict.fromkeys(asset_cut.CLAIMS, asset_cut.UP_TO)
    book, (event,) = replay.story.book, replay.story.events
    # deposits equal to borrows at the start: the assumption's boundary
    assert sum(a.asset_balances[0] for a in lending.settlement_holders(book)) == 0
    # the least move: one quantum less (the borrowers buy every quantum back) breaks nothing
    lower = attrs.evolve(replay.story, events=(attrs.evolve(event, price_quote=event.price_quote - 1),))
    assert all(_holds(policy, lower, claim) for claim in asset_cut.CLAIMS)


def _holds(policy: Policy, story: Story, claim: str) -> bool:
    return catalog.get(claim).holds(StepView.of(policy, step(policy, story.book, story.events[0]))) is True


def _kept_by_borrower(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mutant: the cut's rounded-up excess stays with the borrower (no ``PRO_RATA_DUST`` to the fund)."""

    def cut(ctx, shares, loss, name, balance):
        for depositor, share in shares:
            ctx = ctx.transfer(balance(depositor), balance(name), share, Reason.DEPOSIT_INDEX_LOSS)
        return ctx

    monkeypatch.setattr(lending, "_cut", cut)


@pytest.mark.parametrize("preset", PRESETS)
def test_with_the_dust_kept_by_the_borrower_the_sum_is_kept_and_the_story_breaks_nothing(
    preset: str, monkeypatch: pytest.MonkeyPatch, fresh_replay: None
) -> None:
    _kept_by_borrower(monkeypatch)
    answers = _answers(preset)
    assert answers[asset_cut.KEPT] == "unsat"
    assert answers[asset_cut.COVERED] == "sat"  # over-covered: the borrower keeps the excess
    policy = load_preset(preset)
    replay = asset_cut.replayed(policy)
    assert replay is not None and replay.broken == () and not replay.refutes
    assert asset_cut.refusal(policy, "no-negative-equity") is None


@pytest.mark.parametrize("preset", PRESETS)
def test_a_share_one_quantum_over_takes_a_trader_beyond_its_deposit(
    preset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pro_rata = lending._pro_rata

    def one_more(policy, deposits, missing):
        shares, loss, total = pro_rata(policy, deposits, missing)
        return [(n, s + 1) for n, s in shares], loss, total

    monkeypatch.setattr(lending, "_pro_rata", one_more)
    assert _answers(preset)[asset_cut.WITHIN] == "sat"


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("claim", ("no-negative-equity", "loss-bounded-by-collateral"))
def test_the_all_n_attempt_on_checks_asset_book_says_why_no_argument_exists(
    preset: str, claim: str, fresh_replay: None
) -> None:
    policy = load_preset(preset)
    bounds = attrs.evolve(asset_cut._bounds(policy, 2), effort=1_000_000)
    tried = comp.attempt(policy, catalog.get(claim), bounds, units=1_000_000)
    assert isinstance(tried, comp.Attempt) and not tried.applies
    assert "replayed on the concrete engine at N = 3 to 8" in tried.failed
    assert sum(q.units for q in tried.queries) == 0  # a concrete replay: no z3 units


@pytest.mark.parametrize("claim", ("no-negative-equity", "loss-bounded-by-collateral"))
def test_on_drifts_isolated_scope_the_story_with_alices_position_isolated_says_the_same(
    claim: str, fresh_replay: None
) -> None:
    policy = load_preset("drift")
    replay = asset_cut.replayed(policy, True)
    assert replay is not None and replay.refutes and replay.outside == ()
    assert [a.name for a in replay.story.book.traders] == ["alice", "alice:PERP", "bob", "carol"]
    assert dict(replay.up_to) == dict.fromkeys(asset_cut.CLAIMS, asset_cut.UP_TO)
    isolated = attrs.evolve(asset_cut._bounds(policy, 1, True), effort=1_000_000)  # check's isolated scope: N = 1
    tried = comp.attempt(policy, catalog.get(claim), isolated, units=1_000_000)
    assert isinstance(tried, comp.Attempt) and "replayed on the concrete engine at N = 3 to 8" in tried.failed
    found = prove_module._by_asset_cut(policy, catalog.get(claim), attrs.evolve(isolated, accounts=3))
    assert found is not None and found.verdict is Verdict.REFUTED and found.units == 0
    assert prove_module._by_asset_cut(policy, catalog.get(claim), isolated) is None  # one trader: not its book


def test_no_refusal_where_no_lent_asset_is_cut_by_the_deposit_index(fresh_replay: None) -> None:
    for preset in ("backpack", "binance"):  # backpack's lender ADL; binance lends nothing
        policy = load_preset(preset)
        assert asset_cut.applies(policy) is None
        assert asset_cut.story(policy) is None and asset_cut.refusal(policy, "no-negative-equity") is None


@pytest.mark.parametrize("preset", PRESETS)
def test_solvent_prove_refutes_the_three_claims_at_n_3_by_the_story_replayed_with_no_z3_units(
    preset: str, fresh_replay: None
) -> None:
    policy = load_preset(preset)
    bounds = attrs.evolve(asset_cut._bounds(policy, 3), effort=1_000_000)
    for claim in asset_cut.CLAIMS:
        found = prove_module._by_asset_cut(policy, catalog.get(claim), bounds)
        assert found is not None and found.verdict is Verdict.REFUTED and found.units == 0
        cx = found.counterexample
        assert cx is not None and cx.step_index == 0 and len(cx.story.book.traders) == 3
        said = "refuted for every N ≥ 3" in found.method
        assert said == (claim in per_account.EACH_TRADER)  # claims-backed is not a per-trader claim
    at_five = prove_module._by_asset_cut(policy, catalog.get("no-negative-equity"), attrs.evolve(bounds, accounts=5))
    assert at_five is not None and len(at_five.counterexample.story.book.traders) == 5


def test_the_story_is_not_used_where_it_is_not_the_questions_own(fresh_replay: None) -> None:
    policy = load_preset("drift")
    nne = catalog.get("no-negative-equity")
    bounds = attrs.evolve(asset_cut._bounds(policy, 3), effort=1_000_000)
    assert prove_module._by_asset_cut(policy, nne, attrs.evolve(bounds, accounts=2)) is None  # two traders
    assert prove_module._by_asset_cut(policy, nne, attrs.evolve(bounds, events=2)) is None
    assert prove_module._by_asset_cut(policy, nne, attrs.evolve(bounds, event_kinds=("mark",))) is None
    # the oracle's 121 beyond the question's prices: not its story
    assert prove_module._by_asset_cut(policy, nne, attrs.evolve(bounds, max_price=120)) is None
    assert prove_module._by_asset_cut(policy, nne, attrs.evolve(bounds, max_price=121)) is not None
    # a bound on the mark's moves leaves the oracle's free (``Bounds.max_move_ppm``): still the question's story
    assert prove_module._by_asset_cut(policy, nne, attrs.evolve(bounds, max_move_ppm=200_000)) is not None


def test_with_the_dust_kept_by_the_borrower_solvent_prove_asks_as_before(
    monkeypatch: pytest.MonkeyPatch, fresh_replay: None
) -> None:
    _kept_by_borrower(monkeypatch)
    policy = load_preset("drift")
    bounds = attrs.evolve(asset_cut._bounds(policy, 3), effort=1_000_000)
    assert prove_module._by_asset_cut(policy, catalog.get("no-negative-equity"), bounds) is None

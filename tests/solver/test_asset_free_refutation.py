"""A refutation searched on the book without its collateral assets first
(``prove._without_assets``, docs/solver-notes.md#a-refutation-searched-without-the-asset-first).

On drift and mango-v4 ``solvent check`` asks every claim with the first collateral asset on the book;
there the claims the presets accept as failing (§7's socialized loss, its fund cap, its total
collateral) stayed undecided: z3 found their stories at N = 1 only with 3.0-4.6M units. On the book
without the asset the same stories take 0.3-0.6M; each is then written on the asset book with no
account holding the asset and replayed there on the concrete engine, so it is a story within
check's bounds.

Since session 30 a claim the policy accepts as failing is searched there within half its question, its
claim asked exact first (``ACCEPTED_WITHOUT_ASSETS_SHARE``): drift's no-haircut and waterfall-order on
the isolated scope were undecided in check (the quarter, purified first, 1.19M of 4.7M) and are refuted
in 793,931 and 1,154,136 units (1,084,767 and 720,104 since session 32: the search states the asset book's
settlement assumption, docs/model.md#settlement-deposits-cover-settlement-borrows-session-32)
(docs/solver-notes.md#asset-price-events-in-checks-questions-session-30).
"""

from __future__ import annotations

import attrs
import pytest

import solvent.solver.prove as prove_module
from solvent.properties import catalog
from solvent.properties.scenarios import Story
from solvent.rules.book import new_book
from solvent.rules.presets import resolve_policy
from solvent.solver import effort
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.margin_scopes import margin_scopes, scope_bounds
from solvent.solver.per_account import with_inert_assets
from solvent.solver.prove import prove
from solvent.solver.refinement import Replay
from solvent.solver.verdicts import Verdict


def _check_question(preset: str) -> tuple[object, Bounds]:
    policy = resolve_policy(preset)
    bounds = Bounds(accounts=2, events=1, effort=3_750_000, assets=1, event_kinds=("mark", "asset-price"))
    return policy, attrs.evolve(for_policy(bounds, policy), asset_names=tuple(c.name for c in policy.collateral))


def test_drift_spot_isolated_is_refuted_within_checks_share_as_its_accepted_story() -> None:
    policy, bounds = _check_question("drift")
    result = prove(policy, "spot-isolated", bounds, minimize=False, payer_first=False)
    assert result.verdict is Verdict.REFUTED and result.accepted
    assert result.scope.accounts == 2  # found on one trader: a refutation within N <= 2
    assert "found on the book without its collateral assets" in result.method
    book = result.counterexample.story.book
    assert [a.name for a in book.assets] == ["SOL"] and all(a.asset_balances == (0,) for a in book.accounts)
    assert result.units < 1_000_000  # undecided within 3.75M before


@pytest.mark.deep
@pytest.mark.parametrize(
    ("preset", "claim", "units"),
    [
        # session 32: with the asset book's settlement assumption stated on the search (Bounds.settlement_covered)
        # drift's story takes 1,790,561 units, undecided within 3.75M; check gives it 5,189,036
        ("drift", "no-haircut", 5_189_036),
        ("drift", "waterfall-order", 3_750_000),
        ("mango-v4", "no-haircut", 3_750_000),
    ],
)
def test_the_accepted_refutations_within_checks_share(preset: str, claim: str, units: int) -> None:
    policy, bounds = _check_question(preset)
    result = prove(policy, claim, attrs.evolve(bounds, effort=units), minimize=False, payer_first=False)
    assert result.verdict is Verdict.REFUTED and result.accepted, result.reason
    assert result.counterexample.story.book.assets


def test_a_story_that_does_not_break_the_claim_on_the_asset_book_is_not_reported(monkeypatch) -> None:
    """The asset book's replay is the gate: with it reporting the claim held, the asset-free story is
    not a verdict, and the question goes on to the book with the asset (undecided in 1M units)."""
    monkeypatch.setattr(prove_module, "replay", lambda policy, invariant, story, bounds: Replay(story, (), None))
    policy, bounds = _check_question("drift")
    result = prove(policy, "spot-isolated", attrs.evolve(bounds, effort=1_000_000), minimize=False, payer_first=False)
    assert result.verdict is not Verdict.REFUTED
    assert "found on the book without its collateral assets" not in result.method


def _isolated_question(preset: str, units: int) -> tuple[object, Bounds]:
    """Check's question on the isolated scope: one trader, its position isolated, margin moves beside."""
    policy, bounds = _check_question(preset)
    return policy, scope_bounds(attrs.evolve(bounds, effort=units), "isolated", margin_scopes(policy))


class _Asked(Exception):
    pass


@pytest.mark.parametrize(
    ("claim", "share", "exact_first"), [("no-haircut", 2_000_000, True), ("no-negative-equity", 1_000_000, False)]
)
def test_an_accepted_claim_is_searched_without_the_asset_within_half_exact_first(
    monkeypatch, claim: str, share: int, exact_first: bool
) -> None:
    """The route: drift accepts no-haircut (half of 4M, exact first); no-negative-equity it does not (the
    smaller books' quarter, purified first, as before). The search is stubbed: nothing is asked of z3."""
    asked = []

    def record(policy, invariant, bounds, accounts, units, exact_first=False):
        asked.append((invariant.id, accounts, units, exact_first))
        raise _Asked

    monkeypatch.setattr(prove_module, "_without_assets", record)
    policy, bounds = _isolated_question("drift", 4_000_000)
    with pytest.raises(_Asked):
        prove_module._small_scope_first(policy, catalog.get(claim), bounds, units=4_000_000)
    assert asked == [(claim, 1, share, exact_first)]


@pytest.mark.deep
@pytest.mark.parametrize(("claim", "units"), [("no-haircut", 1_084_767), ("waterfall-order", 720_104)])
def test_the_isolated_scopes_accepted_refutations_within_checks_share(claim: str, units: int) -> None:
    """Drift's two cells on the isolated scope, at the 4.7M check gave them: refuted on the book without
    the asset, exact first, at the same count whatever the share above the exact stage's need (793,931
    and 1,154,136 before session 32's settlement assumption, stated on the search too)."""
    for effort_units in (4_700_000, 10_000_000):
        policy, bounds = _isolated_question("drift", effort_units)
        result = prove(policy, claim, bounds, minimize=False, payer_first=False)
        assert result.verdict is Verdict.REFUTED and result.accepted, result.reason
        assert "found on the book without its collateral assets" in result.method
        assert result.units == units


@pytest.mark.deep
def test_the_exact_stage_finds_drifts_isolated_no_haircut_where_the_purified_one_does_not() -> None:
    """The mutant of the route's second token: the same search, 1.8M units (1.2M before session 32's
    settlement assumption), purified first finds nothing."""
    policy, bounds = _isolated_question("drift", 4_000_000)
    claim = catalog.get("no-haircut")
    with effort.question():  # each search in a fresh z3 context, as in its question
        found, spent = prove_module._without_assets(policy, claim, bounds, 1, 1_800_000, exact_first=True)
    assert found is not None and found.verdict is Verdict.REFUTED
    assert sum(q.units for q in spent) == 1_084_767
    with effort.question():
        found, spent = prove_module._without_assets(policy, claim, bounds, 1, 1_800_000, exact_first=False)
    assert found is None and sum(q.units for q in spent) == 1_800_000


@pytest.mark.parametrize("preset", ["drift", "binance"])
def test_the_search_without_the_asset_assumes_the_asset_books_settlement_cash(monkeypatch, preset: str) -> None:
    """Session 32: on drift (a policy with ``[settlement]``) the asset book assumes that the traders' and
    the order book's settlement cash covers their borrows (``assumptions.settlement_assumptions``); the
    search without the asset states it too (``Bounds.settlement_covered``), or the stories it finds
    start outside the asset book's assumptions and their replay is refused: drift's no-haircut and
    waterfall-order went undecided so. On binance (no ``[settlement]``) the flag states nothing. Stubbed."""
    from types import SimpleNamespace

    from solvent.solver.assumptions import SETTLEMENT_COVERED, book_assumptions

    seen = []

    def bounded(policy, invariant, bounds, units, **options):
        seen.append(bounds)
        return SimpleNamespace(verdict=Verdict.UNKNOWN, counterexample=None, queries=())

    monkeypatch.setattr(prove_module, "_bounded", bounded)
    policy, bounds = _isolated_question(preset, 4_000_000) if preset == "drift" else _binance_question()
    assert prove_module._without_assets(policy, catalog.get("no-haircut"), bounds, 1, 1_000_000) == (None, ())
    (bare,) = seen
    assert (bare.assets, bare.settlement_covered) == (0, True)
    book = new_book(mark_quote=100)  # a book without assets, as the search's
    names = [a.name for a in book_assumptions(policy, book, bare)]
    assert (SETTLEMENT_COVERED in names) is (preset == "drift")
    assert SETTLEMENT_COVERED not in [
        a.name for a in book_assumptions(policy, book, attrs.evolve(bare, settlement_covered=False))
    ]


def _binance_question() -> tuple[object, Bounds]:
    policy = resolve_policy("binance")
    return policy, attrs.evolve(
        Bounds(accounts=2, events=1, effort=4_000_000, assets=1, event_kinds=("mark", "asset-price")),
        asset_names=("BNB",),
    )


def test_inert_assets_are_held_by_no_account() -> None:
    story = Story(new_book(mark_quote=100), ())
    lifted = with_inert_assets(story, ("SOL",), 7)
    assert [(a.name, a.price_quote, a.net_deposits) for a in lifted.book.assets] == [("SOL", 7, 0)]
    assert all(a.asset_balances == (0,) for a in lifted.book.accounts)
    with pytest.raises(ValueError, match="already holds"):
        with_inert_assets(lifted, ("SOL",), 7)

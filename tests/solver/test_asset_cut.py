"""The lent asset's deposit-index cut in a per-account argument (``solver.asset_cut``; session 33,
docs/solver-notes.md#a-per-account-argument-on-the-asset-books-session-33), and the lead's decision on its
rounding dust (docs/model.md#the-cuts-rounding-dust-is-the-assets-own-insurance-fund-session-33): the fund's
balance of a lent asset is the asset's own insurance fund, spent first by its layer (``lending._fund_buys``)
and counted in the named assumption (``assumptions.lent_assumptions``).

On the engine's own ``lending.cover_unpaid_borrows`` over a free three-trader book (exact z3): a trader's
cut is within its deposit, the borrower is covered whole inside the assumption, the asset is conserved
between its holders and the fund, and the assumption is kept. The story that broke no-negative-equity,
loss-bounded-by-collateral and claims-backed at every N from 3 while the dust was stranded in the fund
(two flat borrowers, the first one's cut's dust to the fund, the second left owing a quantum) now holds
them at N = 3 to 8, at the least move and every larger one tried; the mutant that does not spend the
fund's balance of the asset (the fund's layer as before the decision) breaks them again there, and not
one price lower. Mutants of the cut: the dust kept by the borrower (the sum kept, the borrower covered a
quantum over), and a share one quantum over (a trader's cut beyond its deposit).
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.properties.story import Story
from solvent.rules import lending
from solvent.rules.arith import Rounding, div, max_, min_, safe_divisor
from solvent.rules.book import Role
from solvent.rules.engine import step
from solvent.rules.ledger import Reason, Transfer, asset_balance
from solvent.rules.policy import Policy
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import TokenLayer
from solvent.solver import asset_cut, effort
from solvent.solver import compositional as comp
from solvent.solver.assumptions import book_assumptions, lent_assumptions, lent_covered

PRESETS = ("drift", "mango-v4")
#: each fact's units (exact z3 on three traders; measured on drift: 48,716, 403,404, 2 and 2)
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


HOLDS = dict.fromkeys((asset_cut.WITHIN, asset_cut.COVERED, asset_cut.CONSERVED, asset_cut.KEPT), "unsat")


def _fund_buys_with_cash_only(ctx, k, name, missing, floor):  # type: ignore[no-untyped-def]
    """The mutant: the fund's layer as before the decision, buying with its cash above its floor and
    never giving what it holds of the asset (the cut's dust stranded there)."""
    asset = ctx.book_field("assets")[k]
    fund, book = ctx.system(Role.INSURANCE_FUND), ctx.system(Role.LIQUIDITY)
    held = ctx.account(fund).cash_quote
    cash = max_(held - floor, 0)
    bought = max_(min_(missing, div(cash, safe_divisor(asset.price_quote), rounding=Rounding.FLOOR)), 0)
    ctx = ctx.transfer(fund, book, max_(min_(bought * asset.price_quote, cash), 0), Reason.INSURANCE_FUND)
    return ctx.transfer(asset_balance(book, asset.name), asset_balance(name, asset.name), bought, Reason.INSURANCE_FUND)


def _fund_keeping_a_quantum(ctx, k, name, missing, floor):  # type: ignore[no-untyped-def]
    """The mutant: the fund gives its balance of the asset but keeps a floor of one quantum of it (as
    Drift keeps one native unit), then buys the rest as the engine does."""
    asset = ctx.book_field("assets")[k]
    fund = ctx.system(Role.INSURANCE_FUND)
    given = max_(min_(missing, ctx.account(fund).asset_balances[k] - 1), 0)
    ctx = ctx.transfer(asset_balance(fund, asset.name), asset_balance(name, asset.name), given, Reason.INSURANCE_FUND)
    return _fund_buys_with_cash_only(ctx, k, name, max_(-ctx.account(name).asset_balances[k], 0), floor)


@pytest.fixture
def cash_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lending, "_fund_buys", _fund_buys_with_cash_only)


def _broken(policy: Policy, story: Story, price: int | None = None) -> tuple[str, ...]:
    event = story.events[0] if price is None else attrs.evolve(story.events[0], price_quote=price)
    view = StepView.of(policy, step(policy, story.book, event))
    return tuple(c for c in asset_cut.CLAIMS if catalog.get(c).holds(view) is False)


@pytest.mark.parametrize("preset", PRESETS)
def test_the_cut_keeps_each_trader_within_its_deposit_covers_the_borrower_and_keeps_the_assumption(
    preset: str,
) -> None:
    assert _answers(preset) == HOLDS


@pytest.mark.parametrize("preset", PRESETS)
def test_on_two_traders_every_fact_holds(preset: str) -> None:
    assert _answers(preset, traders=2) == HOLDS  # mango-v4's sum: undecided at 5M before the fund was counted


@pytest.mark.parametrize("preset", PRESETS)
def test_with_the_funds_balance_of_the_asset_not_spent_the_borrower_is_not_covered(
    preset: str, cash_only: None
) -> None:
    # the assumption still counts the fund, and a step still keeps it (conserved), but the fund's quanta
    # are not given: a book inside it whose holders are short leaves the borrower owing
    assert _answers(preset) == {**HOLDS, asset_cut.COVERED: "sat"}


@pytest.mark.parametrize("preset", PRESETS)
def test_the_story_holds_the_three_claims_at_every_n_from_3_to_8(preset: str) -> None:
    policy = load_preset(preset)
    for traders in range(3, 9):
        replay = asset_cut.replayed(policy, traders=traders)
        assert replay is not None and len(replay.story.book.traders) == traders
        assert (replay.outside, replay.broken) == ((), ())
    book, (event,) = replay.story.book, replay.story.events
    # deposits equal to borrows at the start: the assumption's boundary (the fund holds none of the asset)
    assert sum(a.asset_balances[0] for a in lending.settlement_holders(book)) == 0
    assert book.role(Role.INSURANCE_FUND).asset_balances == (0,)
    # alice's cut's dust of a quantum goes to the fund; carol's quantum is the fund's to give
    name = event.asset
    s = step(policy, book, event)
    fund = asset_balance(Role.INSURANCE_FUND.value, name)
    assert [t for t in s.transfers if fund in (t.source, t.destination)] == [
        Transfer(asset_balance("alice", name), fund, 1, Reason.PRO_RATA_DUST),
        Transfer(fund, asset_balance("carol", name), 1, Reason.INSURANCE_FUND),
    ]
    assert [a.asset_balances for a in s.after.traders[:3]] == [(0,), (0,), (0,)]
    assert s.after.role(Role.INSURANCE_FUND).asset_balances == (0,)
    # every larger move of the oracle too, to four times the price
    assert [p for p in range(event.price_quote, 4 * asset_cut.PRICE) if _broken(policy, replay.story, p)] == []


@pytest.mark.parametrize("preset", PRESETS)
def test_mutant_the_funds_balance_of_the_asset_not_spent_breaks_the_story_again(preset: str, cash_only: None) -> None:
    policy = load_preset(preset)
    for traders in range(3, 9):
        replay = asset_cut.replayed(policy, traders=traders)
        assert replay is not None and replay.outside == () and replay.broken == asset_cut.CLAIMS
    story = asset_cut.story(policy)
    assert story is not None
    (event,) = story.events
    assert step(policy, story.book, event).after.account("carol").asset_balances == (-1,)
    # the least move: one price lower every borrower buys its whole borrow back
    assert _broken(policy, story, event.price_quote - 1) == ()


@pytest.mark.parametrize("preset", PRESETS)
def test_mutant_a_floor_of_one_quantum_on_the_funds_balance_of_the_asset_breaks_the_story_again(
    preset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the fund's balance of the asset holds only the cut's dust: a floor there keeps carol's quantum
    monkeypatch.setattr(lending, "_fund_buys", _fund_keeping_a_quantum)
    replay = asset_cut.replayed(load_preset(preset))
    assert replay is not None and replay.outside == () and replay.broken == asset_cut.CLAIMS


@pytest.mark.parametrize("isolated", (False, True))
def test_on_drifts_isolated_scope_the_story_holds_too_and_the_mutant_breaks_it(
    isolated: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = load_preset("drift")
    replay = asset_cut.replayed(policy, isolated)
    assert replay is not None and (replay.outside, replay.broken) == ((), ())
    if isolated:
        assert [a.name for a in replay.story.book.traders] == ["alice", "alice:PERP", "bob", "carol"]
    monkeypatch.setattr(lending, "_fund_buys", _fund_buys_with_cash_only)
    broken = asset_cut.replayed(policy, isolated)
    assert broken is not None and broken.outside == () and broken.broken == asset_cut.CLAIMS


def test_the_assumption_counts_the_funds_balance_where_its_layer_comes_first() -> None:
    policy = load_preset("drift")
    story = asset_cut.story(policy)
    assert story is not None
    # the holders one quantum short, the fund holding it: inside; the fund holding none: outside
    book = story.book
    i = book.index(Role.INSURANCE_FUND.value)
    alice = book.index("alice")
    short = book.replace_account(alice, attrs.evolve(book.accounts[alice], asset_balances=(-(asset_cut.BORROW + 1),)))
    (covers,) = lent_assumptions(policy, short)
    assert covers.name == lent_covered(policy, "SOL") and "insurance fund" in covers.name and covers.holds is False
    funded = short.replace_account(i, attrs.evolve(short.accounts[i], asset_balances=(1,)))
    assert lent_assumptions(policy, funded)[0].holds is True
    # where deposit_index comes first (or alone) the fund is not counted, as before the decision
    for layers in ((TokenLayer.DEPOSIT_INDEX,), (TokenLayer.DEPOSIT_INDEX, TokenLayer.INSURANCE_FUND)):
        rule = attrs.evolve(policy.collateral[0], bankruptcy=layers, fund_floor_quote=0)
        later = attrs.evolve(policy, collateral=(rule, *policy.collateral[1:]))
        (held,) = lent_assumptions(later, funded)
        assert held.holds is False and "insurance fund" not in held.name
        assert held.name == lent_covered(later, "SOL")


def _story_with_fund(quanta: int, cash: int):  # type: ignore[no-untyped-def]
    """Drift's story stepped with the fund holding ``quanta`` of SOL and ``cash`` more than its floor (both
    counted in the net deposits), its book inside every assumption of check's question at N = 3."""
    policy = load_preset("drift")
    story = asset_cut.story(policy)
    assert story is not None
    book, (event,) = story.book, story.events
    i = book.index(Role.INSURANCE_FUND.value)
    fund = book.accounts[i]
    book = book.replace_account(i, attrs.evolve(fund, asset_balances=(quanta,), cash_quote=fund.cash_quote + cash))
    book = attrs.evolve(
        book,
        assets=(attrs.evolve(book.assets[0], net_deposits=book.assets[0].net_deposits + quanta),),
        net_deposits_quote=book.net_deposits_quote + cash,
    )
    assert [a.name for a in book_assumptions(policy, book, asset_cut._bounds(policy, 3)) if a.holds is not True] == []
    return policy, step(policy, book, event)


def test_the_fund_gives_its_quanta_of_the_asset_before_any_holder_is_cut() -> None:
    # the story's book with the fund holding 2 quanta of the asset: each borrower's last quantum is the
    # fund's, and no holder is cut (no dust either)
    policy, s = _story_with_fund(quanta=2, cash=0)
    fund = asset_balance(Role.INSURANCE_FUND.value, "SOL")
    assert [t for t in s.transfers if fund in (t.source, t.destination)] == [
        Transfer(fund, asset_balance("alice", "SOL"), 1, Reason.INSURANCE_FUND),
        Transfer(fund, asset_balance("carol", "SOL"), 1, Reason.INSURANCE_FUND),
    ]
    assert not [t for t in s.transfers if t.reason is Reason.DEPOSIT_INDEX_LOSS]
    assert s.after.account("bob").asset_balances == (1,)
    assert all(catalog.get(c).holds(StepView.of(policy, s)) is True for c in asset_cut.CLAIMS)


def test_the_fund_buys_only_what_its_gift_left_owed() -> None:
    # the fund holds 1 quantum of the asset and cash for ten more above its floor: alice's last quantum is
    # its gift (none bought for her), carol's is bought at the oracle (none left to give)
    policy, s = _story_with_fund(quanta=1, cash=10 * 121)
    price = s.event.price_quote
    paid = [t for t in s.transfers if t.reason is Reason.INSURANCE_FUND]
    assert paid == [
        Transfer(
            asset_balance(Role.INSURANCE_FUND.value, "SOL"), asset_balance("alice", "SOL"), 1, Reason.INSURANCE_FUND
        ),
        Transfer(Role.INSURANCE_FUND.value, Role.LIQUIDITY.value, price, Reason.INSURANCE_FUND),
        Transfer(asset_balance(Role.LIQUIDITY.value, "SOL"), asset_balance("carol", "SOL"), 1, Reason.INSURANCE_FUND),
    ]
    assert [s.after.account(n).asset_balances for n in ("alice", "carol")] == [(0,), (0,)]


def _kept_by_borrower(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mutant: the cut's rounded-up excess stays with the borrower (no ``PRO_RATA_DUST`` to the fund)."""

    def cut(ctx, shares, loss, name, balance):
        for depositor, share in shares:
            ctx = ctx.transfer(balance(depositor), balance(name), share, Reason.DEPOSIT_INDEX_LOSS)
        return ctx

    monkeypatch.setattr(lending, "_cut", cut)


@pytest.mark.parametrize("preset", PRESETS)
def test_with_the_dust_kept_by_the_borrower_the_sum_is_kept_and_the_story_breaks_nothing(
    preset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _kept_by_borrower(monkeypatch)
    answers = _answers(preset)
    assert answers[asset_cut.KEPT] == "unsat"
    assert answers[asset_cut.COVERED] == "sat"  # over-covered: the borrower keeps the excess
    policy = load_preset(preset)
    replay = asset_cut.replayed(policy)
    assert replay is not None and replay.broken == ()


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


def test_no_story_where_no_lent_asset_is_cut_by_the_deposit_index() -> None:
    for preset in ("backpack", "binance"):  # backpack's lender ADL; binance lends nothing
        policy = load_preset(preset)
        assert asset_cut.applies(policy) is None
        assert asset_cut.story(policy) is None and asset_cut.replayed(policy) is None

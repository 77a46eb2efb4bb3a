"""Where `no-negative-equity`, `loss-bounded-by-collateral` and `claims-backed` can fail on
``solvent check``'s asset book of Drift and Mango v4, and which of those books a venue can be in
(session 32, helper assetneg; docs/model.md#a-flat-borrowers-settlement-debt-session-32,
docs/model.md#settlement-deposits-cover-settlement-borrows-session-32).

Check asks every claim of a policy with ``[[collateral]]`` on a book of two traders holding its first
asset, over one mark move or one oracle move of that asset (``verdicts/proofs.py``); the bounds are
``test_lending_depositor_story._check_bounds``.

1. Session 31's failing book (the order book at −9,100) is **outside** check's assumptions: the
   well-formed book's "the order book starts with non-negative cash" (``rules.wellformed``) refuses it.
2. A book **inside** them failed at main by another road: a flat trader borrowing settlement cash
   against the asset (alice: 1 quantum at 3, cash −2), the asset's oracle falls to 1. Her loan is
   exchanged, her quantum sold for 1, and the −1 left went down the ``[[deficit]]`` waterfall
   (``bankruptcy.resolve_loan``), where no layer pays (the fund at its floor, no open interest for a
   socialized loss): she kept −1, though bob held settlement cash. A venue's state (every USDC borrow
   covered by a deposit), which the venue resolves: her USDC borrow with nothing left to sell is a
   spot bankruptcy of the USDC market. The engine now runs the policy's declared ``[settlement]``
   bankruptcy there too (``engine._exchange_loan``): bob pays her 1.
3. What fails after it needs settlement borrows larger than the traders' and the order book's
   settlement deposits (or, on Drift, the fund below its floor of one quantum): no venue's state, and
   stated as a named assumption (``solver.assumptions.settlement_assumptions``). At the boundary,
   deposits equal to borrows, the claims hold; one quantum short, alice is left at −1.
4. A borrow of the lent asset left unpaid where no *trader* holds a deposit of it (the order book bought
   the depositor's collateral earlier in the same step) failed them too, while the traders took the
   asset's cut alone (session 31). The lead's decision (session 32, helper assetdep): the cut takes from
   every holder of the asset, the order book included, beside the named assumption that the asset's
   deposits cover its borrows (docs/model.md#a-lent-assets-cut-takes-from-every-holder-of-the-asset-session-32).
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties.catalog import StepView, get
from solvent.rules import engine, lending
from solvent.rules.book import Asset, Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import AssetPrice, MarkPrice
from solvent.rules.ledger import Reason, Transfer
from solvent.rules.outcomes import Residual, SettlementCut
from solvent.rules.policy import Policy
from solvent.rules.presets import load_preset
from solvent.solver.assumptions import (
    SETTLEMENT_COVERED,
    book_assumptions,
    lent_assumptions,
    lent_covered,
    settlement_assumptions,
)
from tests.solver.test_lending_depositor_story import (
    BROKEN,
    _check_bounds,
    _floor,
    _inside,
    _with,
    _with_carol,
    _worth,
)

PRESETS = ("drift", "mango-v4")


def _book(
    policy: Policy,
    alice: tuple[int, int, int],
    bob: tuple[int, int, int],
    liquidity: tuple[int, int],
    *,
    fund: int | None = None,
    asset_price: int = 100,
) -> Book:
    """Check's two-trader book at the mark 100: alice and bob each (cash, asset quanta, lots at 100),
    the order book (cash, asset quanta) on the other side of their lots, the fund at ``fund``
    (its floor by default)."""
    name = policy.collateral[0].name
    held = alice[1] + bob[1] + liquidity[1]
    book = new_book(mark_quote=100, traders=("alice", "bob"), assets=(Asset(name, asset_price, held),))
    lots = alice[2] + bob[2]
    cash = _floor(policy) if fund is None else fund
    changes: dict[str, dict[str, object]] = {
        "alice": {
            "cash_quote": alice[0],
            "asset_balances": (alice[1],),
            "size_lots": alice[2],
            "cost_quote": alice[2] * 100,
        },
        "bob": {"cash_quote": bob[0], "asset_balances": (bob[1],), "size_lots": bob[2], "cost_quote": bob[2] * 100},
        "liquidity": {
            "cash_quote": liquidity[0],
            "asset_balances": (liquidity[1],),
            "size_lots": -lots,
            "cost_quote": -lots * 100,
        },
        "insurance_fund": {"cash_quote": cash},
    }
    book = attrs.evolve(book, market=attrs.evolve(book.market, previous_mark_quote=100))
    return _with(book, changes, alice[0] + bob[0] + liquidity[0] + cash)


def _holds(policy: Policy, s: engine.Step) -> list[bool]:
    view = StepView.of(policy, s)
    return [get(c).holds(view) for c in BROKEN]


@pytest.mark.parametrize("preset", PRESETS)
def test_session_31s_failing_book_is_outside_checks_assumptions_by_the_order_books_cash(preset: str) -> None:
    # the book of test_the_settlement_cut_takes_at_most_what_the_holders_hold: the order book at −9,100;
    # at −9,099 it is still refused by the same condition, at 0 the book is inside
    policy = load_preset(preset)
    order_book = "the order book starts with non-negative cash"
    assert _inside(policy, _with_carol(policy, -4_901, 0, -9_099)) == [order_book]
    assert order_book in _inside(policy, _with_carol(policy, -4_901, 0, -9_100))
    assert _inside(policy, _with_carol(policy, -4_901, 0, 0)) == []


def _smallest(policy: Policy, bob_cash: int = 2) -> Book:
    """alice flat, 1 quantum of the asset at 3 and cash −2 (her initial margin covered: 0.8 × 3 ≥ 2);
    bob holds ``bob_cash`` of settlement cash and nothing else; the order book nothing."""
    return _book(policy, (-2, 1, 0), (bob_cash, 0, 0), (0, 0), asset_price=3)


@pytest.mark.parametrize("preset", PRESETS)
def test_a_flat_borrower_the_oracle_gaps_is_resolved_by_the_settlement_cut(preset: str) -> None:
    policy = load_preset(preset)
    name = policy.collateral[0].name
    book = _smallest(policy)
    assert _inside(policy, book) == []  # check's assumptions, the two new ones included
    s = step(policy, book, AssetPrice(name, 1))
    assert s.transfers == (
        Transfer(f"alice@{name}", f"liquidity@{name}", 1, Reason.COLLATERAL_SALE),
        Transfer("liquidity", "alice", 1, Reason.COLLATERAL_SALE),
        Transfer("bob", "alice", 1, Reason.DEPOSIT_INDEX_LOSS),  # USDC's depositor pays her −1
    )
    assert (Residual("alice", 1) in s.outcomes, SettlementCut("alice", 1) in s.outcomes) == (True, True)
    assert (_worth(policy, s.after, "alice"), s.after.account("bob").cash_quote) == (0, 1)
    assert _holds(policy, s) == [True] * 3


@pytest.mark.parametrize("preset", PRESETS)
def test_mutants_without_the_cut_after_a_flat_loan_she_keeps_minus_one(
    preset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # main before session 32: the settlement cut ran only for a depositor a lent asset's cut sank
    policy = load_preset(preset)
    name = policy.collateral[0].name
    with monkeypatch.context() as m:
        m.setattr(engine, "cover_settlement_borrow", lambda policy, ctx, who: ctx)
        s = step(policy, _smallest(policy), AssetPrice(name, 1))
        assert (_worth(policy, s.after, "alice"), _holds(policy, s)) == (-1, [False] * 3)
    bare = attrs.evolve(policy, settlement=None)  # and without the preset's [settlement] table
    s = step(bare, _smallest(bare), AssetPrice(name, 1))
    assert (_worth(bare, s.after, "alice"), _holds(bare, s)) == (-1, [False] * 3)


@pytest.mark.parametrize("preset", PRESETS)
def test_the_flat_borrowers_cut_is_pro_rata_over_the_traders_and_the_order_book(preset: str) -> None:
    # alice: 9 quanta at 100, cash −384; the oracle falls to 10: her 9 quanta fetch 90, and 294 is
    # left. bob holds 19,907, the order book 18,082 − 90 = 17,992 once it bought her quanta
    # (D = 37,899): ⌈294 × 19,907 / 37,899⌉ = 155 and ⌈294 × 17,992 / 37,899⌉ = 140, one quantum of dust to the fund
    policy = load_preset(preset)
    name = policy.collateral[0].name
    book = _book(policy, (-384, 9, 0), (19_907, 0, 0), (18_082, 0))
    assert _inside(policy, book) == []
    s = step(policy, book, AssetPrice(name, 10))
    cut = [t for t in s.transfers if t.reason in (Reason.DEPOSIT_INDEX_LOSS, Reason.PRO_RATA_DUST)]
    assert cut == [
        Transfer("bob", "alice", 155, Reason.DEPOSIT_INDEX_LOSS),
        Transfer("liquidity", "alice", 140, Reason.DEPOSIT_INDEX_LOSS),
        Transfer("alice", "insurance_fund", 1, Reason.PRO_RATA_DUST),
    ]
    assert SettlementCut("alice", 294) in s.outcomes
    assert _worth(policy, s.after, "alice") == 0 and _holds(policy, s) == [True] * 3


def _over_borrowed(policy: Policy, bob_cash: int) -> Book:
    """alice: 100 quanta at 100, cash −7,000; bob has borrowed 50 of them and is long 50 lots against
    the order book, which holds no cash: the settlement holders' cash sums to ``bob_cash − 7,000``."""
    return _book(policy, (-7_000, 100, 0), (bob_cash, -50, 50), (0, 0))


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize(("bob_cash", "alice"), [(7_000, 0), (6_999, -1), (6_500, -500)])
def test_where_settlement_borrows_exceed_deposits_nobody_holds_what_she_owes(
    preset: str, bob_cash: int, alice: int
) -> None:
    # the mark falls to 1: bob loses his cash to the order book, his unpaid 50 quanta are cut from
    # alice's deposit and she owes 2,000 after her 50 left are sold; every quantum of settlement
    # cash the book holds is then cut, and what is short stays on her. Inside check's assumptions at
    # main; the new assumption refuses exactly the books where she is left below zero
    policy = load_preset(preset)
    book = _over_borrowed(policy, bob_cash)
    covered = bob_cash >= 7_000
    assert _inside(policy, book) == ([] if covered else [SETTLEMENT_COVERED])
    s = step(policy, book, MarkPrice(1))
    assert _worth(policy, s.after, "alice") == alice
    assert _holds(policy, s) == [covered] * 3


@pytest.mark.parametrize(("fund", "alice"), [(1, 0), (0, -1)])
def test_drifts_fund_below_its_floor_keeps_a_quantum_she_is_owed(fund: int, alice: int) -> None:
    # settlement deposits exactly cover borrows (−2,947 + 2,921 + 26 = 0); bob's liquidation pays the
    # fund a penalty, which an empty fund keeps up to its floor of one quantum: that quantum is
    # missing when alice's debt is cut from the holders. Drift's fund never holds less than 1
    policy = load_preset("drift")
    book = _book(policy, (-2_947, 40, 0), (2_921, -20, 26), (26, 0), fund=fund)
    assert _inside(policy, book) == ([] if fund else [SETTLEMENT_COVERED])
    s = step(policy, book, MarkPrice(1))
    assert _worth(policy, s.after, "alice") == alice
    assert _holds(policy, s) == [alice == 0] * 3


def test_the_settlement_assumptions_are_stated_only_on_asset_books_under_settlement() -> None:
    drift, mango, binance = load_preset("drift"), load_preset("mango-v4"), load_preset("binance")
    names = lambda policy, book: [a.name for a in settlement_assumptions(policy, book)]  # noqa: E731
    assert names(drift, _smallest(drift)) == names(mango, _smallest(mango)) == [SETTLEMENT_COVERED]
    # Drift's fund keeps a floor of 1: the sum must also make up what the fund lacks of it; Mango's has none
    covered = settlement_assumptions(drift, _smallest(drift))[0].holds  # −2 + 2 held, the fund at 1
    assert covered is True
    assert settlement_assumptions(drift, _smallest(drift, bob_cash=1))[0].holds is False
    short = _book(drift, (-2, 1, 0), (2, 0, 0), (0, 0), fund=0, asset_price=3)
    assert settlement_assumptions(drift, short)[0].holds is False
    assert settlement_assumptions(mango, _book(mango, (-2, 1, 0), (2, 0, 0), (0, 0), fund=0, asset_price=3))[0].holds
    flat = new_book(mark_quote=100)
    assert names(drift, flat) == [] and names(attrs.evolve(drift, settlement=None), _smallest(drift)) == []
    assert names(binance, flat) == []
    every = [a.name for a in book_assumptions(drift, _smallest(drift), _check_bounds(drift))]
    assert every.index(SETTLEMENT_COVERED) == every.index("asset net deposits within bounds") + 1


def _lent_book(policy: Policy, bob_borrow: int = 87) -> Book:
    """alice short 94 with 93 quanta and cash −4,587; bob short 54, has borrowed ``bob_borrow`` quanta,
    cash 15,658; the order book long 148 with 22 quanta: the asset's holders sum to 28 − (bob_borrow − 87)."""
    return _book(policy, (-4_587, 93, -94), (15_658, -bob_borrow, -54), (0, 22))


def _cut_of(s: engine.Step) -> list[Transfer]:
    return [t for t in s.transfers if t.reason is Reason.DEPOSIT_INDEX_LOSS and "@" in t.source]


@pytest.mark.parametrize("preset", PRESETS)
def test_a_borrow_of_the_lent_asset_is_cut_from_the_order_book_that_holds_the_asset(preset: str) -> None:
    # the mark triples: alice's turn sells her 93 quanta to the order book (22 + 93); bob's cash buys back
    # 20 of it and the 67 left are cut from the only holder of the asset, the order book (115 − 20 = 95):
    # it pays 67, the deposit index falls by ⌈10¹⁰ × 67 / 95⌉. Before session 32 (traders only) he kept
    # −67 quanta, worth −6,626
    policy = load_preset(preset)
    name = policy.collateral[0].name
    book = _lent_book(policy)
    assert _inside(policy, book) == []
    s = step(policy, book, MarkPrice(300))
    assert _cut_of(s) == [Transfer(f"liquidity@{name}", f"bob@{name}", 67, Reason.DEPOSIT_INDEX_LOSS)]
    assert (s.after.account("bob").asset_balances, s.after.account("liquidity").asset_balances) == ((0,), (28,))
    assert s.after.assets[0].deposit_index == 10**10 - -(-(10**10) * 67 // 95) == 2_947_368_421
    assert _worth(policy, s.after, "bob") == 74 and _holds(policy, s) == [True] * 3


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize(("borrow", "left", "bob"), [(115, 0, 74), (116, -1, -26)])
def test_the_order_book_holding_exactly_what_is_owed_pays_it_one_quantum_less_leaves_it(
    preset: str, borrow: int, left: int, bob: int
) -> None:
    # bob has borrowed 115: after his buy-back he owes 95, exactly what the order book then holds (the
    # asset's holders sum to 0, the assumption's boundary), and it pays all of it. At 116 he owes 96 of
    # its 95: the book is outside the new assumption by that name alone, and he keeps −1 quantum
    policy = load_preset(preset)
    name = policy.collateral[0].name
    book = _lent_book(policy, borrow)
    assert _inside(policy, book) == ([] if left == 0 else [lent_covered(policy, name)])
    s = step(policy, book, MarkPrice(300))
    assert _cut_of(s) == [Transfer(f"liquidity@{name}", f"bob@{name}", 95, Reason.DEPOSIT_INDEX_LOSS)]
    assert (s.after.account("bob").asset_balances, s.after.account("liquidity").asset_balances) == ((left,), (0,))
    assert _worth(policy, s.after, "bob") == bob and _holds(policy, s) == [left == 0] * 3


@pytest.mark.parametrize("preset", PRESETS)
def test_mutant_the_lent_assets_cut_back_to_the_traders_leaves_bob_owing_67(
    preset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # session 31's choice: only traders pay a lent asset's cut (the settlement cut keeps the order book)
    policy = load_preset(preset)
    cut = lending._deposit_index_loss

    def traders_only(policy: Policy, ctx: object, k: int, who: str, missing: object) -> object:
        with monkeypatch.context() as m:
            m.setattr(lending, "settlement_holders", lambda book: list(book.traders))
            return cut(policy, ctx, k, who, missing)

    monkeypatch.setattr(lending, "_deposit_index_loss", traders_only)
    s = step(policy, _lent_book(policy), MarkPrice(300))
    assert (_cut_of(s), s.after.account("bob").asset_balances) == ([], (-67,))
    assert (_worth(policy, s.after, "bob"), _holds(policy, s)) == (-6_626, [False] * 3)


def test_the_lent_assumption_is_stated_only_where_a_lent_asset_is_cut_by_its_deposit_index() -> None:
    drift, mango, backpack = load_preset("drift"), load_preset("mango-v4"), load_preset("backpack")
    names = lambda policy, book: [a.name for a in lent_assumptions(policy, book)]  # noqa: E731
    assert names(drift, _lent_book(drift)) == [lent_covered(drift, "SOL")]
    assert names(mango, _lent_book(mango)) == [lent_covered(mango, mango.collateral[0].name)]
    assert lent_assumptions(drift, _lent_book(drift, 115))[0].holds is True  # 93 − 115 + 22 = 0
    assert lent_assumptions(drift, _lent_book(drift, 116))[0].holds is False
    assert names(backpack, _lent_book(drift)) == []  # SOL under lender_adl: its own cut, nothing assumed
    assert names(drift, new_book(mark_quote=100)) == []
    every = [a.name for a in book_assumptions(drift, _lent_book(drift), _check_bounds(drift))]
    assert every.index(lent_covered(drift, "SOL")) == every.index(SETTLEMENT_COVERED) + 1

"""ADL spreads the gap over the lots it can close (``rules.adl.reach``), where a pool holds lots.

The book is z3's first counterexample to ``no-negative-equity`` on ``bitmex`` before the rule
(``solvent prove bitmex --invariant no-negative-equity --accounts 1``, session 16): alice short 307
contracts on 31,005 XBt, the book long 304, and the insurance fund long 3 that it took over
(``liquidation.fund_unwind_ppm``) with no cash of its own. The mark goes 10,000 → 10,103: alice
owes 616. Before the turns the fund sends ⌈3 × 50%⌉ = 2 lots to the book (book 306, fund 1), and
its gain on its 3 lots, 309, is all its cash; it pays that to alice. 307 is left, over 307 lots.
ADL's queue reaches the book's 306 lots only; the fund's last lot goes to the fund at the mark.

- Spread over the whole position (the old rule): ⌈307 / 307⌉ = 1 a lot, the book pays 306, and
  1 XBt stays unpaid: alice ends at −1 (a residual), three claims fail.
- Spread over the lots ADL can close: ⌈307 / 306⌉ = 2 a lot, the book pays 612, alice ends at 0
  and the 305 above her deficit (under one quantum a closed lot) goes to the fund, as any
  bankruptcy price's rounding does. BitMEX's own price for these winners is the liquidated
  order's bankruptcy price before its fund paid anything, ⌈616 / 307⌉ = 3 a lot: never less
  (docs/model.md#the-gap-is-spread-over-the-lots-adl-can-close).
- Since session 20 a deficit ADL leaves is the fund's (``bankruptcy.fund_takes_over``), and since
  session 21 a trader's ADL on such a policy spreads over the whole position again
  (``bankruptcy.spread_over``): the spread charged winners beyond the move where the fund had spent
  its lots' gain on an earlier bankruptcy (tests/solver/test_bitmex_payer_story.py). The quantum
  the fund's lot leaves is now the fund's: alice at 0, the fund at −1. ``reach`` still serves a
  pool that holds where no fund takes over.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties.catalog import StepView, get
from solvent.rules import adl, bankruptcy
from solvent.rules.arith import abs_, min_
from solvent.rules.book import Account, Book, Market, Role
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.liquidation import pools_holding
from solvent.rules.outcomes import BookDeleveraged, Residual
from solvent.rules.presets import load_preset

BITMEX = load_preset("bitmex")


def unreached_before_session_27(ctx, size, bankrupt, pools):
    """``adl.unreached`` as it was until session 27, the named mutant: the pools' opposing lots,
    ``min(|S|, P)``, counted out of the spread whoever closes the position."""
    return min_(abs_(size), adl._held_opposite(ctx, size, bankrupt, pools))


def book(fund_lots: int = 3, book_lots: int = 304) -> Book:
    """alice short ``fund_lots + book_lots`` at 10,000 on 31,005 XBt; the book and the fund long."""
    short = fund_lots + book_lots
    accounts = (
        Account(name="alice", cash_quote=31_005, size_lots=-short, cost_quote=-short * 10_000),
        Account(name="liquidity", role=Role.LIQUIDITY, size_lots=book_lots, cost_quote=book_lots * 10_000),
        Account(name="insurance_fund", role=Role.INSURANCE_FUND, size_lots=fund_lots, cost_quote=fund_lots * 10_000),
        Account(name="fee_account", role=Role.FEE_ACCOUNT),
        Account(name="backstop_vault", role=Role.BACKSTOP_VAULT),
        Account(name="venue", role=Role.VENUE),
        Account(name="clearing", role=Role.CLEARING),
    )
    return Book(
        market=Market(name="PERP", mark_quote=10_000, previous_mark_quote=1),
        accounts=accounts,
        net_deposits_quote=31_005,
    )


def _paid(s, source: str, reason: Reason) -> int:
    return sum(t.amount_quote for t in s.transfers if t.source == source and t.reason is reason)


def test_the_fund_takes_over_the_quantum_its_lot_leaves() -> None:
    """Since session 21 (``bankruptcy.spread_over``): the gap over the whole position, ⌈307 / 307⌉ =
    1 a lot; the book's 306 lots pay 306, the fund's last lot, closed at the mark, leaves 1, and the
    fund takes it over (``fund_takes_over``): alice at 0, the fund at −1 holding nothing."""
    s = step(BITMEX, book(), MarkPrice(price_quote=10_103))
    after = {a.name: a for a in s.after.accounts}
    assert _paid(s, "insurance_fund", Reason.INSURANCE_FUND) == 309
    [fill] = [o for o in s.outcomes if isinstance(o, BookDeleveraged)]
    assert (fill.lots, fill.gap_per_lot_quote) == (306, 1)
    assert _paid(s, "liquidity", Reason.ADL) == 306
    assert _paid(s, "insurance_fund", Reason.FUND_TAKEOVER) == 1
    assert _paid(s, "alice", Reason.PRO_RATA_DUST) == 0
    assert after["alice"].cash_quote == 0 and after["alice"].size_lots == 0
    assert after["insurance_fund"].size_lots == 0 and after["insurance_fund"].cash_quote == -1
    assert not [o for o in s.outcomes if isinstance(o, Residual)]
    view = StepView.of(BITMEX, s)
    for claim in ("no-negative-equity", "loss-bounded-by-collateral", "adl-price-fair", "conservation"):
        assert get(claim).holds(view), claim
    for claim in ("insurance-fund-non-negative", "claims-backed"):  # the fund's loss against the mark
        assert not get(claim).holds(view), claim


def test_the_spread_of_sessions_16_to_20(monkeypatch) -> None:
    """The rule before session 21 (the gap spread over the lots ADL reaches, ``adl.reach``): ⌈307 /
    306⌉ = 2 a lot, the book pays 612, alice ends at 0 and the 305 above her deficit goes to the
    fund. The same engine with ``spread_over`` mutated back to every pool that holds."""
    monkeypatch.setattr(bankruptcy, "spread_over", lambda policy: pools_holding(policy.liquidation))
    s = step(BITMEX, book(), MarkPrice(price_quote=10_103))
    after = {a.name: a for a in s.after.accounts}
    [fill] = [o for o in s.outcomes if isinstance(o, BookDeleveraged)]
    assert (fill.lots, fill.gap_per_lot_quote) == (306, 2)  # ⌈307 / 306⌉
    assert _paid(s, "liquidity", Reason.ADL) == 612
    assert _paid(s, "alice", Reason.PRO_RATA_DUST) == 305
    assert _paid(s, "insurance_fund", Reason.FUND_TAKEOVER) == 0
    assert after["alice"].cash_quote == 0 and after["insurance_fund"].cash_quote == 305


def test_where_the_book_holds_every_opposing_lot_nothing_changes() -> None:
    """No pool lots opposite: the gap is the whole position's, ⌈D / |S|⌉, as on every venue."""
    s = step(BITMEX, book(fund_lots=0, book_lots=307), MarkPrice(price_quote=10_103))
    [fill] = [o for o in s.outcomes if isinstance(o, BookDeleveraged)]
    # the fund holds nothing and has no cash, so ADL takes the whole 616: ⌈616 / 307⌉ = 3
    assert (fill.lots, fill.gap_per_lot_quote) == (307, 3)
    assert {a.name: a.cash_quote for a in s.after.accounts}["alice"] == 0


@pytest.mark.parametrize(
    ("size", "fund", "vault", "expected"),
    [
        (-10, 3, 0, 7),  # the fund holds 3 of the opposing lots: ADL closes the other 7
        (-10, 10, 0, 0),  # every opposing lot is the fund's: equality at the cap
        (-10, 12, 0, 0),  # more than the position: nothing for ADL, never below zero
        (-10, -3, 0, 10),  # the fund on the bankrupt's own side is not opposite
        (10, -2, -1, 7),  # a bankrupt long: both pools short
        (10, -2, 5, 8),  # the vault long, on the bankrupt's side
    ],
)
def test_reach_leaves_out_the_pools_opposing_lots(size, fund, vault, expected) -> None:
    b = book(fund_lots=0, book_lots=0)
    for name, lots in (("insurance_fund", fund), ("backstop_vault", vault)):
        b = b.replace_account(b.index(name), attrs.evolve(b.account(name), size_lots=lots))
    pools = (Role.BACKSTOP_VAULT, Role.INSURANCE_FUND)
    assert adl.reach(Ctx(b), size, "alice", pools) == expected


@pytest.mark.parametrize(
    ("bob", "book_lots", "expected"),
    [
        (10, 0, 10),  # bob holds exactly |S| opposite: the queue closes it all, the fund keeps its 3
        (9, 0, 9),  # one lot under: the queue leaves 1, and that 1 is the fund's
        (11, 0, 10),  # one over: as at |S|
        (7, 0, 7),  # the queue leaves 3, all the fund's: as before session 27
        (5, 0, 7),  # the queue leaves 5, of which the fund holds 3: 2 nobody holds stay in the spread
        (8, 2, 10),  # the book's lots count as the queue's
        (-10, 0, 7),  # bob on alice's side is no candidate opposite
    ],
)
def test_reach_leaves_out_only_the_pools_lots_the_fills_leave(bob, book_lots, expected) -> None:
    """Session 27: alice short 10, the fund long 3, bob (a trader of the queue) and the book
    opposite: ``|S| − min(|S| − min(|S|, C), P)``, ``C`` the queue's and the book's opposing lots."""
    b = book(fund_lots=3, book_lots=book_lots)
    b = attrs.evolve(b, accounts=(*b.accounts, Account(name="bob", size_lots=bob, cost_quote=bob * 10_000)))
    pools = (Role.BACKSTOP_VAULT, Role.INSURANCE_FUND)
    assert adl.reach(Ctx(b), -10, "alice", pools) == expected
    before = 10 - unreached_before_session_27(Ctx(b), -10, "alice", pools)
    assert before == 7  # the named mutant: the fund's 3 counted out whoever closes (caught where expected != 7)


def test_a_pool_is_never_its_own_opposite() -> None:
    """The fund's own bankruptcy (``pool_bankruptcy``): its lots are the position, not a pool's
    opposing lots, so ADL spreads its deficit over all of them."""
    b = book(fund_lots=0, book_lots=0)
    b = b.replace_account(b.index("backstop_vault"), attrs.evolve(b.account("backstop_vault"), size_lots=4))
    assert adl.reach(Ctx(b), -10, "insurance_fund", (Role.INSURANCE_FUND,)) == 10
    assert adl.reach(Ctx(b), -10, "insurance_fund", (Role.INSURANCE_FUND, Role.BACKSTOP_VAULT)) == 6

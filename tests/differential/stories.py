"""Small local story strategies and policies for the differential tests (not the public strategies).

A story is a book reached from ``new_book`` by concrete engine steps (so it satisfies every book
invariant the engine maintains) plus one final event, biased toward mark-price gaps so that the
liquidation sweep, bankruptcy, ADL and the default waterfall actually run.
"""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import strategies as st

from solvent.rules.arith import PPM, Rounding
from solvent.rules.book import Book, Role, new_book, on_tick
from solvent.rules.engine import RejectedEvent, step
from solvent.rules.events import Deposit, Funding, MarkPrice, SpotDeposit, Taker, Trade, Withdraw
from solvent.rules.fees import FeeRule
from solvent.rules.liquidation import Execution, LiquidationRule, Recipient, Trigger
from solvent.rules.margin import MarginRule, Tier, equity
from solvent.rules.policy import Policy
from solvent.rules.rounding import FundingRounding, ProRata, RoundingRule
from solvent.rules.waterfall import (
    Adl,
    AdlPrice,
    BackstopVault,
    Clawback,
    DebtCarry,
    FeePool,
    HaircutRatio,
    InsuranceFund,
    Lender,
    Over,
    Ranking,
    SocializedLoss,
    VenueAbsorbs,
)

TRADERS = ("alice", "bob", "carol")
POOLS = (Role.INSURANCE_FUND.value, Role.BACKSTOP_VAULT.value, Role.FEE_ACCOUNT.value)

FLAT_10X = MarginRule((Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),))

# Binance-style brackets; maintenance amounts keep MM continuous:
#   cum_1 = 100_000 × (100_000 − 50_000) / 1e6 = 5_000
#   cum_2 = 5_000 + 500_000 × (125_000 − 100_000) / 1e6 = 17_500
TIERED = MarginRule(
    (
        Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),
        Tier(100_000, initial_ppm=200_000, maintenance_ppm=100_000, maintenance_amount_quote=5_000),
        Tier(500_000, initial_ppm=250_000, maintenance_ppm=125_000, maintenance_amount_quote=17_500),
    )
)

SPOT_20X = MarginRule((Tier(0, initial_ppm=50_000, maintenance_ppm=25_000),), spot_collateral=True)

POLICIES: dict[str, Policy] = {
    "flat-fund-capped-adl-order-socialize-winners-venue": Policy(
        "flat",
        FLAT_10X,
        fees=FeeRule(taker_ppm=500, maker_ppm=200, insurance_share_ppm=500_000),
        deficit=(InsuranceFund(cap_quote=2_000), Adl(Ranking.ORDER), SocializedLoss(Over.WINNERS), VenueAbsorbs()),
    ),
    "tiered-partial-slippage-vault-adl-bitmex-mark-oi-debt-winners": Policy(
        "tiered",
        TIERED,
        liquidation=LiquidationRule(
            slippage_ppm=2_000, partial_close_ppm=400_000, penalty_ppm=5_000, penalty_recipient=Recipient.FEE_ACCOUNT
        ),
        fees=FeeRule(taker_ppm=700, maker_ppm=0),
        deficit=(
            InsuranceFund(),
            BackstopVault(),
            Adl(Ranking.BITMEX, AdlPrice.MARK),
            SocializedLoss(Over.OPEN_INTEREST),
            DebtCarry(Lender.WINNERS),
        ),
        rounding=RoundingRule(pro_rata=ProRata.DOWN_REMAINDER_TO_NEXT_LAYER),
    ),
    "spot-half-even-haircut-adl-binance-clawback-debt-venue-funding-down": Policy(
        "spot",
        SPOT_20X,
        liquidation=LiquidationRule(slippage_ppm=10_000, penalty_ppm=10_000),
        fees=FeeRule(taker_ppm=1_000, maker_ppm=500, insurance_share_ppm=250_000),
        deficit=(
            FeePool(),
            HaircutRatio(),
            Adl(Ranking.BINANCE),
            Clawback(window_events=3),
            DebtCarry(Lender.VENUE, deposits_repay_debt=True),
        ),
        rounding=RoundingRule(
            fee=Rounding.HALF_EVEN,
            margin=Rounding.HALF_EVEN,
            funding=FundingRounding.PAYERS_DOWN_SHORTFALL_FROM_FEE_ACCOUNT,
        ),
    ),
    "bankruptcy-exec-at-or-below-adl-hyperliquid-clawback-uncapped-venue-funding-dust-fund": Policy(
        "bankruptcy",
        TIERED,
        liquidation=LiquidationRule(trigger=Trigger.AT_OR_BELOW_MAINTENANCE, execution=Execution.BANKRUPTCY),
        fees=FeeRule(taker_ppm=300, maker_ppm=100, insurance_share_ppm=1_000_000),
        deficit=(InsuranceFund(), Adl(Ranking.HYPERLIQUID), Clawback(cap_at_profit=False), VenueAbsorbs()),
        rounding=RoundingRule(
            fee=Rounding.FLOOR,
            pro_rata=ProRata.UP_DUST_TO_INSURANCE_FUND,
            funding=FundingRounding.PAYERS_UP_DUST_TO_INSURANCE_FUND,
        ),
    ),
    "takeover-vault-socialize-winners-down-debt-venue-no-repay": Policy(
        "takeover",
        FLAT_10X,
        liquidation=LiquidationRule(
            execution=Execution.TAKEOVER, penalty_ppm=20_000, penalty_recipient=Recipient.BACKSTOP_VAULT
        ),
        deficit=(BackstopVault(), SocializedLoss(Over.WINNERS), DebtCarry(Lender.VENUE, deposits_repay_debt=False)),
        rounding=RoundingRule(margin=Rounding.FLOOR, pro_rata=ProRata.DOWN_REMAINDER_TO_NEXT_LAYER),
    ),
    "no-waterfall-residual": Policy("bare", SPOT_20X, liquidation=LiquidationRule(slippage_ppm=5_000)),
}


# --- events relative to the book ------------------------------------------------------------


def _to_tick_grid(price: int, tick: int) -> int:
    """The largest multiple of ``tick`` not above ``price``, at least one tick."""
    return max(on_tick(price, tick, rounding=Rounding.FLOOR), tick)


@st.composite
def mark_moves(draw: Any, book: Book, *, max_gap_bp: int = 4_000) -> MarkPrice:
    """A mark move of up to ±``max_gap_bp`` basis points, half of them gaps beyond a third of it.

    Shrinks toward no move."""
    big = st.integers(max_gap_bp // 3, max_gap_bp).flatmap(lambda g: st.sampled_from((-g, g)))
    gap_bp = draw(st.one_of(st.integers(-max_gap_bp, max_gap_bp), big))
    mark = book.market.mark_quote
    return MarkPrice(_to_tick_grid(mark + mark * gap_bp // 10_000, book.market.tick_quote))


def _leverage(policy: Policy, account: Any) -> tuple[int, int]:
    """Leverage as a sortable pair: (1, lots) without positive equity, else (0, lots × 1e6 // E)."""
    e = equity(policy.margin, account)
    n = abs(account.size_lots)
    return (1, n) if e <= 0 else (0, n * PPM // e)


@st.composite
def adverse_moves(draw: Any, policy: Policy, book: Book, *, max_gap_bp: int = 4_000) -> MarkPrice:
    """A gap of 10% to ``max_gap_bp`` bp against one open position (any direction if none is open).

    Shrinks toward the most leveraged position and the largest gap (the stress this is for)."""
    ranked = sorted((a for a in book.traders if a.size_lots != 0), key=lambda a: _leverage(policy, a), reverse=True)
    if not ranked:
        return draw(mark_moves(book, max_gap_bp=max_gap_bp))
    size = draw(st.sampled_from(ranked)).size_lots
    gap_bp = (max_gap_bp - draw(st.integers(0, max_gap_bp - 1_000))) * (-1 if size > 0 else 1)
    mark = book.market.mark_quote
    return MarkPrice(_to_tick_grid(mark + mark * gap_bp // 10_000, book.market.tick_quote))


@st.composite
def trades(draw: Any, policy: Policy, book: Book) -> Trade:
    """A trade between two traders, sized as a percentage of what the poorer side can margin.

    The size is 1–110% of the size affordable at one tier's initial rate (above 100%, or when the
    notional lands in a stricter tier, the initial-margin check rejects it). Shrinks toward full
    leverage at the strictest tier's rate."""
    buyer, seller = draw(st.permutations(TRADERS))[:2]
    mark, tick = book.market.mark_quote, book.market.tick_quote
    price = _to_tick_grid(mark + mark * draw(st.integers(-200, 200)) // 10_000, tick)
    poorer = min(equity(policy.margin, book.account(n)) for n in (buyer, seller))
    initial_ppm = draw(st.sampled_from([t.initial_ppm for t in reversed(policy.margin.tiers)]))
    affordable = max(poorer, 0) * PPM // (price * initial_ppm)
    lots = max(1, affordable * (100 - draw(st.integers(-10, 99))) // 100)
    return Trade(buyer, seller, lots, price, draw(st.sampled_from(Taker)))


@st.composite
def events(draw: Any, policy: Policy, book: Book, *, final: bool = False) -> Any:
    """One event for ``book``; ``final=True`` favours mark gaps (the sweep and the waterfall)."""
    if final:
        kinds = ["adverse"] * 5 + ["mark"] * 2 + ["funding", "deposit", "withdraw", "trade", "spot"]
    else:
        kinds = ["deposit", "deposit", "trade", "trade", "trade", "mark", "funding", "withdraw", "spot", "pool"]
    kind = draw(st.sampled_from(kinds))
    name = draw(st.sampled_from(TRADERS))
    if kind == "mark":
        return draw(mark_moves(book))
    if kind == "adverse":
        return draw(adverse_moves(policy, book))
    if kind == "funding":
        return Funding(draw(st.integers(-50_000, 50_000)))
    if kind == "deposit":
        return Deposit(name, draw(st.integers(1, 50_000)))
    if kind == "pool":
        return Deposit(draw(st.sampled_from(POOLS)), draw(st.integers(1, 20_000)))
    if kind == "spot":
        return SpotDeposit(name, draw(st.integers(1, 20_000)))
    if kind == "withdraw":
        cash = book.account(name).cash_quote
        return Withdraw(name, max(1, cash * draw(st.integers(1, 100)) // 100))
    return draw(trades(policy, book))


@attrs.frozen
class Story:
    """A book reached by accepted concrete steps, and the event to compare both ways."""

    book: Book
    prefix: tuple[Any, ...]
    event: Any


@st.composite
def stories(draw: Any, policy: Policy, *, max_prefix: int = 8) -> Story:
    """A fresh 3-trader book: deposits, one or two opening trades, up to ``max_prefix`` more events,
    then one final event.

    Rejected events are skipped (they leave the book unchanged). Shrinks toward 50_000 deposits,
    one fully leveraged trade and no further events.
    """
    tick = draw(st.sampled_from((1, 5)))
    mark = tick * draw(st.integers(100, 4_000))
    isolated = draw(st.sampled_from(((), ("carol",))))
    book = new_book(mark_quote=mark, traders=TRADERS, tick_quote=tick, isolated=isolated)
    accepted = []
    for name in TRADERS:
        amount = 50_000 - draw(st.integers(0, 50_000))
        if amount:
            book = step(policy, book, Deposit(name, amount)).after
            accepted.append(Deposit(name, amount))
    opening = draw(st.integers(1, 2))
    for i in range(opening + draw(st.integers(0, max_prefix))):
        event = draw(trades(policy, book) if i < opening else events(policy, book))
        try:
            book = step(policy, book, event).after
        except RejectedEvent:
            continue
        accepted.append(event)
    return Story(book, tuple(accepted), draw(events(policy, book, final=True)))


def replay(policy: Policy, book: Book, events_: tuple[Any, ...] | list[Any]) -> Book:
    """The book after applying every event concretely (each must be accepted)."""
    for event in events_:
        book = step(policy, book, event).after
    return book

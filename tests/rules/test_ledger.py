"""The ledger: over random stories, every step's transfers explain every balance change exactly.

For each accepted step (rejected events are skipped, the book carried on unchanged):
- each transfer moves a positive integer amount between known balances;
- for every cash and spot balance, Σ in − Σ out over the step's transfers equals its change, and
  money from or to ``external`` equals the change in net deposits;
- the clearing account ends the step at zero;
- Σ cash + spot over every non-clearing account equals the book's net deposits;
- Σ size over all accounts is zero (every lot bought was sold by someone).
"""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from solvent.rules.arith import Rounding
from solvent.rules.book import Book, Role, new_book
from solvent.rules.engine import RejectedEvent, step
from solvent.rules.events import Deposit, Funding, MarkPrice, SpotDeposit, Taker, Trade, Withdraw
from solvent.rules.fees import FeeRule
from solvent.rules.ledger import EXTERNAL, SPOT
from solvent.rules.liquidation import Execution, LiquidationRule, Recipient, Trigger
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.outcomes import Bankrupt
from solvent.rules.policy import Policy
from solvent.rules.rounding import ProRata, RoundingRule
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
FUNDED_SYSTEM = ("insurance_fund", "backstop_vault", "fee_account")

FLAT = MarginRule(tiers=(Tier(0, 100_000, 50_000),))
TIERED = MarginRule(tiers=(Tier(0, 50_000, 20_000), Tier(2_000, 100_000, 50_000, 60)), spot_collateral=True)

POLICIES = [
    Policy(
        "market, fund, adl bitmex, venue",
        FLAT,
        LiquidationRule(slippage_ppm=20_000, partial_close_ppm=500_000, penalty_ppm=10_000),
        FeeRule(taker_ppm=700, maker_ppm=200, insurance_share_ppm=300_000),
        (InsuranceFund(), Adl(ranking=Ranking.BITMEX), VenueAbsorbs()),
    ),
    Policy(
        "bankruptcy, capped fund, vault, fees, oi loss, venue debt",
        FLAT,
        LiquidationRule(execution=Execution.BANKRUPTCY, penalty_ppm=5_000, penalty_recipient=Recipient.FEE_ACCOUNT),
        FeeRule(taker_ppm=1_000),
        (
            InsuranceFund(cap_quote=50),
            BackstopVault(),
            FeePool(),
            SocializedLoss(over=Over.OPEN_INTEREST),
            DebtCarry(lender=Lender.VENUE),
        ),
        RoundingRule(pro_rata=ProRata.DOWN_REMAINDER_TO_NEXT_LAYER),
    ),
    Policy(
        "takeover, haircut, clawback, winners debt, spot collateral",
        TIERED,
        LiquidationRule(execution=Execution.TAKEOVER, trigger=Trigger.AT_OR_BELOW_MAINTENANCE),
        deficit=(HaircutRatio(), Clawback(window_events=3, cap_at_profit=False), DebtCarry()),
        rounding=RoundingRule(fee=Rounding.FLOOR, margin=Rounding.FLOOR),
    ),
    Policy(
        "adl binance at mark, winners loss",
        TIERED,
        LiquidationRule(slippage_ppm=50_000, penalty_ppm=20_000, penalty_recipient=Recipient.LIQUIDITY),
        deficit=(Adl(ranking=Ranking.BINANCE, price=AdlPrice.MARK), SocializedLoss(), VenueAbsorbs()),
    ),
    Policy("adl hyperliquid, residual", FLAT, deficit=(Adl(ranking=Ranking.HYPERLIQUID),)),
    Policy("no waterfall", FLAT, LiquidationRule(slippage_ppm=100_000)),
]

KINDS = ("deposit", "spot", "withdraw", "trade", "trade", "trade", "mark", "mark", "mark", "funding")


def next_event(data, book: Book):
    """One event drawn relative to the book: trades near mark and sized to the buyer's cash, marks
    moved by up to ±40% (gaps that bankrupt accounts). Shrinks toward deposits and small amounts."""
    kind = data.draw(st.sampled_from(KINDS), label="kind")
    mark = book.market.mark_quote
    if kind == "deposit":
        return Deposit(data.draw(st.sampled_from(TRADERS + FUNDED_SYSTEM)), data.draw(st.integers(1, 3_000)))
    if kind == "spot":
        return SpotDeposit(data.draw(st.sampled_from(TRADERS)), data.draw(st.integers(1, 500)))
    if kind == "withdraw":
        return Withdraw(data.draw(st.sampled_from(TRADERS)), data.draw(st.integers(1, 1_000)))
    if kind == "trade":
        buyer, seller = data.draw(st.permutations(TRADERS))[:2]
        room = max(book.account(buyer).cash_quote, book.account(seller).cash_quote, 1) * 12 // mark
        lots = data.draw(st.integers(1, max(1, room)))
        price = data.draw(st.integers(max(1, mark - mark // 20), mark + mark // 20))
        return Trade(buyer, seller, lots, price, data.draw(st.sampled_from(Taker)))
    if kind == "mark":
        return MarkPrice(data.draw(st.integers(max(1, mark - 2 * mark // 5), mark + 2 * mark // 5)))
    return Funding(data.draw(st.integers(-30_000, 30_000)))


STATS: Counter[str] = Counter()


def balances(book: Book) -> dict[str, int]:
    out = {}
    for a in book.accounts:
        out[a.name] = a.cash_quote
        out[a.name + SPOT] = a.spot_quote
    return out


def check_step(s) -> None:
    """Every conservation fact of one accepted step."""
    before, after = balances(s.before), balances(s.after)
    flow: Counter[str] = Counter()
    for t in s.transfers:
        assert type(t.amount_quote) is int and t.amount_quote > 0, t
        assert t.source != t.destination, t
        for end in (t.source, t.destination):
            assert end == EXTERNAL or end in before, t
        flow[t.source] -= t.amount_quote
        flow[t.destination] += t.amount_quote
    for key in before:
        assert after[key] - before[key] == flow[key], (key, s.transfers)
    assert -flow[EXTERNAL] == s.after.net_deposits_quote - s.before.net_deposits_quote
    assert s.after.role(Role.CLEARING).cash_quote == 0
    assert s.after.total_cash_quote() == s.after.net_deposits_quote
    assert sum(a.size_lots for a in s.after.accounts) == 0


class TestLedger:
    """Transfers explain every balance change; clearing nets to zero; cash matches net deposits; sizes sum to zero."""

    @settings(deadline=None, database=None, max_examples=300)
    @given(
        policy=st.sampled_from(POLICIES),
        deposits=st.lists(st.integers(50, 3_000), min_size=3, max_size=3),
        data=st.data(),
    )
    def test_transfers_explain_every_change(self, policy, deposits, data):
        STATS["examples"] += 1
        book = new_book(mark_quote=100, traders=TRADERS)
        for name, amount in zip(TRADERS, deposits, strict=True):
            book = apply(policy, book, Deposit(name, amount))
        for _ in range(data.draw(st.integers(0, 25), label="events")):
            book = apply(policy, book, next_event(data, book))


def apply(policy: Policy, book: Book, event) -> Book:
    """Step and check; a rejected event leaves the book as it was."""
    try:
        s = step(policy, book, event)
    except RejectedEvent:
        STATS["rejected"] += 1
        return book
    check_step(s)
    STATS["steps"] += 1
    STATS["bankruptcies"] += sum(1 for o in s.outcomes if isinstance(o, Bankrupt))
    return s.after


def teardown_module(_module) -> None:
    print(f"\ntest_ledger: {dict(STATS)}")


def test_a_branch_may_not_change_whether_the_mark_moved() -> None:
    """``Ctx.mark_moved`` is a Python bool, set before any branch (``engine.opening``, ``settle_mark``):
    a branch whose side changes it is refused (the merged step could not say which it is), one that
    keeps it is not; a side's fork starts with the step's own."""
    import pytest
    import z3

    import solvent.solver  # noqa: F401  (registers the z3 backend)
    from solvent.rules.ledger import Ctx, InternalError

    cond = z3.Bool("c")
    seen = []
    kept = Ctx(new_book(mark_quote=100), moved=False).branch(cond, lambda c: seen.append(c.mark_moved) or c)
    assert (kept.mark_moved, seen) == (False, [False])
    with pytest.raises(InternalError):
        Ctx(new_book(mark_quote=100), moved=False).branch(cond, lambda c: c.with_mark_moved(True))

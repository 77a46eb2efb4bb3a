"""Liquidation: when an account is closed out, at what price, against whom, and what it pays.

Trigger (Binance ``margin ratio ≥ 100%``, docs/venues.md#binance-liquidation; dYdX ``TNC < TMMR``, docs/venues.md#dydx-v4-margin): the account
holds a position and its equity is below (or at, if the policy says so) maintenance margin.

Execution:
- ``market``: the position is sold into the order book (the ``liquidity`` account) at mark
  worsened by ``slippage_ppm`` (per lot, rounded against the liquidated account), in partial
  steps of ``partial_close_ppm`` of the position while still below maintenance (Binance, OKX,
  Hyperliquid's book orders). A penalty of ``penalty_ppm`` of the closed notional is paid to
  ``penalty_recipient``, never more than the equity left (Drift's 0.95 factor serves the same end).
- ``bankruptcy``: the position is taken over at the bankruptcy price; the remaining margin goes to
  the insurance fund (BitMEX and Bybit: the maintenance margin is lost to the fund, §2, §3).
  Money-equivalent here: closed at mark against the book, the remaining equity paid to the fund.
- ``takeover``: the backstop vault takes the position at mark together with the remaining
  margin (Hyperliquid's liquidator vault, §6).

One order per event for a large position (``partial_above_notional_quote``, Hyperliquid,
docs/venues.md#hyperliquid-liquidation): while the position's notional at mark is above the
threshold, a liquidation sends ⌈|S| × partial_share_ppm / 1e6⌉ lots and stops, even if the account
is still below maintenance; its next liquidation is at the next event's sweep.

Formula: slip = ⌈M × slippage_ppm / 1e6⌉ per lot; fill price P = M − slip (long) or M + slip
(short); equity after closing all: E_x = E − |S| × slip. E_x < 0 makes the account bankrupt and
its deficit −E_x goes down the waterfall (``solvent.rules.bankruptcy``).
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from solvent.rules.arith import PPM, Rounding, abs_, and_, div, ite, max_, min_, mul_ppm, safe_divisor, sum_
from solvent.rules.book import Account, Role
from solvent.rules.fields import ppm_field, quote_field
from solvent.rules.haircut_ratio import fee_from_capital
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.margin import equity
from solvent.rules.outcomes import Liquidated, market_named
from solvent.rules.positions import close_against
from solvent.rules.venue_formulas import liquidation_fee_paid, max_liquidation_fee


class Trigger(enum.Enum):
    BELOW_MAINTENANCE = "equity_below_maintenance"
    AT_OR_BELOW_MAINTENANCE = "equity_at_or_below_maintenance"


class Execution(enum.Enum):
    MARKET = "market"
    BANKRUPTCY = "bankruptcy"
    TAKEOVER = "takeover"


class Order(enum.Enum):
    """Which of a liquidated account's positions is closed first, when it holds several markets
    (docs/portfolio.md, decision 4).

    ``all_at_once``: every position goes in the one liquidation, the other markets' into the book
    first, then the market that moved (Hyperliquid's backstop takes "every cross position" at once,
    docs/venues.md#hyperliquid-liquidation; Solvent's rule before this field existed).
    ``largest_loss_first``: the position with the largest loss since entry (size × mark − cost
    basis, most negative first) is closed first. ``largest_maintenance_first``: the position whose
    maintenance margin, on its own market's tiers, is largest. Under either order, after each
    order the whole account is checked again (equity against the maintenance of every position
    still open) and liquidation stops once it is no longer below maintenance, the other positions
    left open. Equal losses or maintenance: the market whose name sorts first goes first (the same
    on the book focused on any market, ``rules.liquidation_order``).
    An account that cannot pay the slippage of closing everything (bankrupt) is closed all at
    once whatever the order: the deficit is the whole account's either way.
    ``collateral_first``: on a book with collateral assets, the account's collateral is sold first
    (at the oracle price less the asset's discount, in the book's order) as far as its liability,
    the negative settlement balance, and the whole account is checked again; only if it is still
    below maintenance are its positions closed, all at once. Bybit's Unified Trading Account
    liquidation repays liabilities from the account's assets before any position is reduced
    (Bybit help, "Liquidation Process (Unified Trading Account)", article 000001876;
    docs/venues.md#which-position-goes-first). Without assets, or with no liability, it is
    ``all_at_once``. The one order besides ``all_at_once`` that a bankruptcy-price execution
    takes: its positions close at once, as Bybit's liquidation engine takes them over at the
    bankruptcy price once the assets have repaid the liabilities."""

    ALL_AT_ONCE = "all_at_once"
    LARGEST_LOSS_FIRST = "largest_loss_first"
    LARGEST_MAINTENANCE_FIRST = "largest_maintenance_first"
    COLLATERAL_FIRST = "collateral_first"


class Recipient(enum.Enum):
    INSURANCE_FUND = "insurance_fund"
    FEE_ACCOUNT = "fee_account"
    BACKSTOP_VAULT = "backstop_vault"
    LIQUIDITY = "liquidity"

    @property
    def role(self) -> Role:
        return Role(self.value)


@attrs.frozen
class LiquidationRule:
    """When and how an account below maintenance is closed out."""

    trigger: Trigger = attrs.field(default=Trigger.BELOW_MAINTENANCE, validator=attrs.validators.instance_of(Trigger))
    execution: Execution = attrs.field(default=Execution.MARKET, validator=attrs.validators.instance_of(Execution))
    slippage_ppm: int = ppm_field(default=0, max_value=PPM - 1)
    partial_close_ppm: int = ppm_field(default=PPM, min_value=1)
    penalty_ppm: int = ppm_field(default=0)
    penalty_recipient: Recipient = attrs.field(
        default=Recipient.INSURANCE_FUND, validator=attrs.validators.instance_of(Recipient)
    )
    #: below this share of maintenance margin the backstop vault takes the account over instead
    #: of the book (Hyperliquid: equity < 2/3 of MM, docs/venues.md#hyperliquid-liquidation); absent: never
    takeover_below_ppm: int | None = ppm_field(default=None, min_value=1)
    #: A large position is liquidated a share at a time. Absent (the default): every liquidation
    #: order is for the whole position (or ``partial_close_ppm`` steps within the event). Set: while
    #: the position's notional at mark is above this amount, one liquidation sends only
    #: ``partial_share_ppm`` of the position (rounded up to a whole lot) to the book and the rest
    #: waits, even if the account is still below maintenance, for the next event's sweep; at or
    #: below it, the order is for the whole position. Hyperliquid
    #: (docs/venues.md#hyperliquid-liquidation, hyperliquid-docs/trading/liquidations): "For
    #: liquidatable positions larger than 100k USDC (10k USDC on testnet), only 20% of the position
    #: will be sent as a market liquidation order to the book". Its 30-second cooldown after a
    #: partial liquidation, during which "all market liquidation orders for that user will be for
    #: the entire position", is not modelled: the engine has no clock in seconds, and each event is
    #: taken as a block after the cooldown (a position still large sends its share again).
    partial_above_notional_quote: int | None = quote_field(default=None, min_value=1)
    #: The share of a large position one liquidation order sends (Hyperliquid: 20%); only with
    #: ``partial_above_notional_quote``
    partial_share_ppm: int = ppm_field(default=PPM, min_value=1)
    #: The bankruptcy price includes the fee to close the position at it: the taker fee
    #: (``fees.taker_ppm``) on the position's notional at that price, which the liquidated account
    #: pays to the fee account. Bybit: "Bankruptcy Price ... includes the fee to close"; its UTA
    #: pages add the "Estimated Fee to Close Position" (quantity × bankruptcy price × taker fee)
    #: to the position margin (docs/venues.md#bybit-liquidation). A closeout at the bankruptcy
    #: price (``execution = "bankruptcy"``) pays the fee from the margin left before the fund takes
    #: the rest; ADL at the bankruptcy price closes the winners at the price that also covers it.
    #: ``false`` (the default): no fee to close.
    fee_to_close: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    #: The insurance fund holds a position taken over at the bankruptcy price and closes it into
    #: the book over later events, instead of at once. Absent (the default): a takeover is closed
    #: into the book in the same event. Set (needs ``execution = "bankruptcy"``): the fund takes
    #: the position over at mark with the margin left in it (the same money as the bankruptcy
    #: price, settled to mark), its balance moves with every later mark as a trader's cash does,
    #: and at the start of each later sweep (a mark move or a funding payment) it sends
    #: ⌈|S_fund| × fund_unwind_ppm / 1e6⌉ lots of what it holds to the book at the mark. BitMEX's
    #: liquidation engine took over large XBTUSD longs on 12-13 March 2020 and offered them "at
    #: prices that gradually became more aggressive"; the fund's largest unrealized loss on
    #: positions it still had to close was 5,652 XBT (blog.bitmex.com/bitmex-insurance-fund-your-
    #: questions-answered/, docs/venues.md#bitmex-march-2020). The pace is not published: a choice.
    fund_unwind_ppm: int | None = ppm_field(default=None, min_value=1)
    #: Which position of an account holding several markets is closed first (:class:`Order`):
    #: ``all_at_once`` (the default), ``largest_loss_first`` or ``largest_maintenance_first``,
    #: re-checking the whole account after each order; ``collateral_first`` sells collateral assets
    #: as far as the account's liability before any position. An order other than all at once needs
    #: ``execution = "market"`` (a bankruptcy-price or takeover execution hands the whole margin
    #: over, leaving nothing to keep another position open), but ``collateral_first`` also takes
    #: ``"bankruptcy"`` (its positions close at once), and no ``partial_above_notional_quote``.
    #: Matters only on a book of several markets, or, for ``collateral_first``, with assets.
    order: Order = attrs.field(default=Order.ALL_AT_ONCE, validator=attrs.validators.instance_of(Order))
    #: The venue delists a market by final settlement as the engine's ``FinalSettlement`` event runs
    #: it (``rules.final_settlement``): every position settles to the settlement price, an account
    #: below zero is deleveraged at its bankruptcy price and every other one closed against the
    #: opposite side at that price, with no liquidation. ``true``: the search draws a delisting at a
    #: settlement price among its actions, so a story may end a market that way (dYdX v4,
    #: docs/venues.md#dydx-v4-final-settlement: ``STATUS_FINAL_SETTLEMENT``, deleveraging.go,
    #: final_settlement.go). ``false`` (the default): the venue's delisting rule is not modelled, and
    #: the search draws none; a scenario that names a delisting (an incident's) still runs the
    #: engine's rule.
    final_settlement: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    #: A liquidation closes only what brings the account back to maintenance margin plus this
    #: buffer (a share of the notional), not the whole position. Absent (the default): the whole
    #: position (or the ``partial_close_ppm`` steps). Set: the margin shortage is
    #: ``MM + ⌊N × buffer_ppm / 1e6⌋ − E`` (the requirement plus buffer over every open position,
    #: less the equity) and one order closes ⌈shortage × 1e6 / (M × (MMR + buffer_ppm −
    #: penalty_ppm) − slip × 1e6)⌉ lots, at most the position (the whole position where a lot frees
    #: nothing), MMR being the maintenance rate of the position's tier and slip the fill's distance
    #: a lot. Each lot closed at the fill frees its maintenance and buffer and costs its slippage
    #: and penalty, so the least whole number of lots that covers the shortage leaves the account
    #: at maintenance plus buffer or above it (below it only by the rounding up of maintenance and
    #: penalty, a quantum each). Drift v2 (docs/venues.md#drift-v2-liquidation): ``liquidate_perp`` takes
    #: ``calculate_base_asset_amount_to_cover_margin_shortage(shortage, margin_ratio +
    #: liquidation_margin_buffer_ratio, liquidator_fee, if_fee, oracle)``, rounded up to the order
    #: step (``standardize_base_asset_amount_ceil``), the shortage being ``margin_requirement_plus_buffer
    #: − total_collateral`` (``MarginCalculation.margin_shortage``, state/margin_calculation.rs,
    #: each position adding ``liability_value × buffer / MARGIN_PRECISION``); the state's
    #: ``liquidation_margin_buffer_ratio`` defaults to 2% (``DEFAULT_LIQUIDATION_MARGIN_BUFFER_RATIO``,
    #: math/constants.rs, github.com/drift-labs/protocol-v2). Needs ``execution = "market"``, one
    #: order (no ``partial_close_ppm`` steps, no ``partial_above_notional_quote``) and
    #: ``order = "all_at_once"``; a bankrupt account still closes whole (its shortage exceeds
    #: what the position frees).
    shortage_buffer_ppm: int | None = ppm_field(default=None, min_value=0)

    def __attrs_post_init__(self) -> None:
        if self.shortage_buffer_ppm is not None:
            clash = [
                text
                for text, bad in (
                    (f"execution = '{self.execution.value}'", self.execution is not Execution.MARKET),
                    (f"partial_close_ppm = {self.partial_close_ppm}", self.partial_close_ppm != PPM),
                    ("partial_above_notional_quote", self.partial_above_notional_quote is not None),
                    (f"order = '{self.order.value}'", self.order is not Order.ALL_AT_ONCE),
                )
                if bad
            ]
            if clash:
                raise ValueError(
                    "'shortage_buffer_ppm' sizes one market order to the margin shortage and needs "
                    "execution = 'market', partial_close_ppm = 1000000, no partial_above_notional_quote "
                    f"and order = 'all_at_once': {clash[0]}"
                )
        if self.order is not Order.ALL_AT_ONCE:
            # collateral first sells collateral, then closes every position at once: a close at the
            # bankruptcy price hands the margin over no differently than all at once (Bybit's UTA)
            whole = self.order is Order.COLLATERAL_FIRST and self.execution is Execution.BANKRUPTCY
            if self.execution is not Execution.MARKET and not whole:
                also = " or 'bankruptcy'" if self.order is Order.COLLATERAL_FIRST else ""
                raise ValueError(
                    f"'order' = '{self.order.value}' needs execution = 'market'{also} (a '{self.execution.value}' "
                    f"execution hands the whole margin over): '{self.order.value}'"
                )
            if self.partial_above_notional_quote is not None:
                raise ValueError(
                    f"'order' = '{self.order.value}' cannot be combined with partial_above_notional_quote "
                    f"(one order per event): '{self.order.value}'"
                )
        if self.partial_above_notional_quote is None and self.partial_share_ppm != PPM:
            raise ValueError(
                f"'partial_share_ppm' needs partial_above_notional_quote (the notional above which an "
                f"order is a share of the position): {self.partial_share_ppm}"
            )
        if self.partial_above_notional_quote is not None:
            if self.partial_share_ppm == PPM:
                raise ValueError(
                    f"'partial_share_ppm' must be < {PPM} with partial_above_notional_quote (a share of "
                    f"the position per order): {self.partial_share_ppm}"
                )
            if self.partial_close_ppm != PPM:
                raise ValueError(
                    f"'partial_close_ppm' must be {PPM} with partial_above_notional_quote (one order per "
                    f"event, not steps within it): {self.partial_close_ppm}"
                )
            if self.execution is not Execution.MARKET:
                raise ValueError(
                    f"'partial_above_notional_quote' needs execution = 'market' (orders sent to the book): "
                    f"execution = '{self.execution.value}'"
                )
        if self.fund_unwind_ppm is not None and self.execution is not Execution.BANKRUPTCY:
            raise ValueError(
                f"'fund_unwind_ppm' needs execution = 'bankruptcy' (the insurance fund takes the position "
                f"over at the bankruptcy price): execution = '{self.execution.value}'"
            )
        if self.takeover_below_ppm is not None and self.execution is not Execution.MARKET:
            raise ValueError(
                f"'takeover_below_ppm' needs execution = 'market' (it switches a market close to a "
                f"takeover): execution = '{self.execution.value}'"
            )
        if self.execution is not Execution.MARKET:
            if self.slippage_ppm:
                raise ValueError(
                    f"'slippage_ppm' must be 0 when execution = '{self.execution.value}' "
                    f"(only a market close has a fill price away from mark): {self.slippage_ppm}"
                )
            if self.partial_close_ppm != PPM:
                raise ValueError(
                    f"'partial_close_ppm' must be {PPM} when execution = '{self.execution.value}' "
                    f"(a takeover moves the whole position): {self.partial_close_ppm}"
                )


def takeover_rule(rule: LiquidationRule) -> LiquidationRule:
    """The same rule with the backstop vault taking the whole position over."""
    return attrs.evolve(
        rule,
        execution=Execution.TAKEOVER,
        slippage_ppm=0,
        partial_close_ppm=PPM,
        takeover_below_ppm=None,
        partial_above_notional_quote=None,
        partial_share_ppm=PPM,
        order=Order.ALL_AT_ONCE,
    )


def is_taken_over(rule: LiquidationRule, equity_quote: Any, maintenance_quote: Any) -> Any:
    """Equity below ``takeover_below_ppm`` of maintenance: the backstop vault takes over."""
    if rule.takeover_below_ppm is None:
        return False
    return equity_quote * PPM < maintenance_quote * rule.takeover_below_ppm


def is_triggered(rule: LiquidationRule, equity_quote: Any, maintenance_quote: Any, size_lots: Any) -> Any:
    """The account holds a position and its equity is below (or at) maintenance margin."""
    if rule.trigger is Trigger.AT_OR_BELOW_MAINTENANCE:
        return and_(size_lots != 0, equity_quote <= maintenance_quote)
    return and_(size_lots != 0, equity_quote < maintenance_quote)


def slip_per_lot(rule: LiquidationRule, mark_quote: Any) -> Any:
    """Per-lot distance of the fill from mark, rounded up (against the liquidated account)."""
    if rule.execution is not Execution.MARKET:
        return 0
    return mul_ppm(mark_quote, rule.slippage_ppm, rounding=Rounding.CEIL)


def fill_price(rule: LiquidationRule, account: Account, mark_quote: Any) -> Any:
    slip = slip_per_lot(rule, mark_quote)
    return ite(account.size_lots > 0, mark_quote - slip, mark_quote + slip)


def counterparty(rule: LiquidationRule, ctx: Ctx) -> str:
    """Who takes the closed position: the backstop vault for a takeover, the insurance fund where
    it holds what it takes over (``fund_unwind_ppm``), else the order book."""
    role = Role.LIQUIDITY
    if rule.execution is Execution.TAKEOVER:
        role = Role.BACKSTOP_VAULT
    elif fund_holds(rule):
        role = Role.INSURANCE_FUND
    return system(ctx, role)


def system(ctx: Ctx, role: Role) -> str:
    """Name of the step's system account of that role, read without building its book (every
    account a liquidation pays or closes against is found through here)."""
    return ctx.system(role)


def fund_holds(rule: LiquidationRule) -> bool:
    """Whether the insurance fund holds the positions it takes over (``fund_unwind_ppm``)."""
    return rule.fund_unwind_ppm is not None


def pools_holding(rule: LiquidationRule) -> tuple[Role, ...]:
    """The system pools that hold the positions they take over: the backstop vault where the rule
    hands it positions (a takeover execution or a takeover threshold), and the insurance fund
    where it holds what it takes over (``fund_unwind_ppm``)."""
    vault = rule.execution is Execution.TAKEOVER or rule.takeover_below_ppm is not None
    return (*((Role.BACKSTOP_VAULT,) if vault else ()), *((Role.INSURANCE_FUND,) if fund_holds(rule) else ()))


def unwind_lots(rule: LiquidationRule, fund_size_lots: Any) -> Any:
    """Lots of its held position the fund sends to the book at one sweep:
    min(⌈|S| × fund_unwind_ppm / 1e6⌉, |S|) (at least one lot while it holds any)."""
    whole = abs_(fund_size_lots)
    return min_(mul_ppm(whole, rule.fund_unwind_ppm, rounding=Rounding.CEIL), whole)


def unwind_fund(rule: LiquidationRule, ctx: Ctx) -> Ctx:
    """The insurance fund closes a share of the position it holds into the book at the mark
    (``fund_unwind_ppm``); the fill is at the mark, so no cash moves: the fund's gain or loss on
    it was settled by every mark move it held it through."""
    if not fund_holds(rule):
        return ctx
    fund = system(ctx, Role.INSURANCE_FUND)
    lots = unwind_lots(rule, ctx.account(fund).size_lots)
    book = system(ctx, Role.LIQUIDITY)
    return close_against(ctx, fund, book, lots, ctx.market.mark_quote, Reason.LIQUIDATION_SLIPPAGE)


def note_liquidated(ctx: Ctx, name: str, equity_quote: Any, maintenance_quote: Any, price: Any) -> Ctx:
    size = ctx.account(name).size_lots
    market = market_named(ctx.market, ctx.book_field("more_markets"))
    return ctx.note(Liquidated(name, equity_quote, maintenance_quote, size, price, market))


def close_step(
    rule: LiquidationRule,
    fee_rounding: Rounding,
    ctx: Ctx,
    name: str,
    lots: Any,
    equity_of,
    close_lots=None,
    *,
    from_capital: bool = False,
) -> Ctx:
    """Close ``lots`` at the fill price, then charge the penalty.

    The penalty never exceeds the equity left after the rest of the position would be closed at
    the fill price, so a solvent liquidation stays solvent through every partial step.
    ``close_lots(ctx, name, lots, price)``: who takes the lots, where it is not the counterparty
    (percolator Gen B's opposing side, ``rules.side_index``); absent: the counterparty.
    ``from_capital`` (percolator Gen A, ``haircut_ratio.fee_from_capital``): the penalty is charged
    from the account's capital, at most its principal, and lowers the principal by as much, so
    its junior profit ``E − principal`` is untouched (spec v7 §9.3; docs/model.md#percolator-gen-as-fee-from-capital-and-a-haircut-without-dust-session-21).
    """
    mark = ctx.market.mark_quote
    price = fill_price(rule, ctx.account(name), mark)
    if close_lots is None:
        ctx = close_against(ctx, name, counterparty(rule, ctx), lots, price, Reason.LIQUIDATION_SLIPPAGE)
    else:
        ctx = close_lots(ctx, name, lots, price)
    max_fee = max_liquidation_fee(lots * mark, rule.penalty_ppm, rounding=fee_rounding)
    # dYdX's insurance-fund delta: never more than what is left after the rest of the position
    # pays its own slippage (the whole remaining surplus, not dYdX's per-fill share of it)
    after = ctx.account(name)
    left = equity_of(after) - abs_(after.size_lots) * slip_per_lot(rule, mark)
    penalty = liquidation_fee_paid(left, max_fee)
    if from_capital:
        penalty = min_(penalty, max_(after.principal_quote, 0))
        ctx = ctx.update_account(name, principal_quote=after.principal_quote - penalty)
    return ctx.transfer(name, system(ctx, rule.penalty_recipient.role), penalty, Reason.LIQUIDATION_PENALTY)


def partial_lots(rule: LiquidationRule, size_lots: Any) -> Any:
    """Lots closed by the first step: ⌈|S| × partial_close_ppm / 1e6⌉ (at least one lot)."""
    return mul_ppm(abs_(size_lots), rule.partial_close_ppm, rounding=Rounding.CEIL)


def order_lots(rule: LiquidationRule, size_lots: Any, mark_quote: Any) -> Any:
    """Lots one liquidation order closes: the whole position, or, while its notional |S| × M is
    above ``partial_above_notional_quote``, ⌈|S| × partial_share_ppm / 1e6⌉ (Hyperliquid's 20%)."""
    whole = abs_(size_lots)
    if rule.partial_above_notional_quote is None:
        return whole
    share = min_(mul_ppm(whole, rule.partial_share_ppm, rounding=Rounding.CEIL), whole)
    return ite(whole * mark_quote > rule.partial_above_notional_quote, share, whole)


def shortage_quote(rule: LiquidationRule, equity_quote: Any, maintenance_quote: Any, notional_quote: Any) -> Any:
    """The margin shortage with the buffer (``shortage_buffer_ppm``): MM + ⌊N × buffer / 1e6⌋ − E,
    ``notional_quote`` being Σ |S| × M over the account's open positions (Drift's
    ``margin_requirement_plus_buffer − total_collateral``)."""
    return maintenance_quote + mul_ppm(notional_quote, rule.shortage_buffer_ppm, rounding=Rounding.FLOOR) - equity_quote


def shortage_lots(rule: LiquidationRule, size_lots: Any, mark_quote: Any, mmr_ppm: Any, shortage: Any) -> Any:
    """Lots one order closes to cover ``shortage`` (``shortage_buffer_ppm``):
    min(|S|, max(1, ⌈shortage × 1e6 / f⌉)) with f = M × (MMR + buffer − penalty) − slip × 1e6,
    what a lot frees in millionths of a quantum (its maintenance and buffer, less its penalty and
    the fill's distance from mark as the engine charges it, ``slip_per_lot``); |S| where f ≤ 0
    (Drift returns u64::MAX when the margin ratio does not exceed the liquidator fee,
    math/liquidation.rs). Drift's worked example (math/liquidation/tests.rs
    ``one_percent_liquidation_fee``): a $10 shortage at a 10% ratio with buffer, a 1% fee and $100
    a base is 10/9 base, rounded up to the step."""
    whole = abs_(size_lots)
    freed = mark_quote * (mmr_ppm + rule.shortage_buffer_ppm - rule.penalty_ppm) - slip_per_lot(rule, mark_quote) * PPM
    lots = div(shortage * PPM, safe_divisor(freed), rounding=Rounding.CEIL)
    return ite(freed > 0, min_(whole, max_(lots, 1)), whole)


def fee_to_close(taker_ppm: Any, lots: Any, long: Any, mark_quote: Any, margin_left: Any, rounding: Rounding) -> Any:
    """The taker fee on closing ``lots`` (a long position where ``long``) at the bankruptcy price
    that leaves exactly that fee of ``margin_left`` (the equity at mark, with the position open),
    at most what is left.

    Formula: the bankruptcy price BP = M − side × (E − fee) / |S| and fee = f × |S| × BP / 1e6
    give fee = f × (N − side × E) / (1e6 − side × f), N = |S| × M; rounded as ``rounding`` (the
    policy's fee rounding), and never more than E (a fee never makes a deficit). Bybit's example
    (docs/venues.md#bybit-liquidation): 1 BTC long at 10,000 on 207.35 USDT at 50x, f = 0.075%:
    BP = 9,800, fee = 1 × 9,800 × 0.075% = 7.35 USDT whatever the mark it is liquidated at.
    """
    n = lots * mark_quote
    num = taker_ppm * ite(long, n - margin_left, n + margin_left)
    fee = ite(long, div(num, max(PPM - taker_ppm, 1), rounding=rounding), div(num, PPM + taker_ppm, rounding=rounding))
    return min_(max_(fee, 0), max_(margin_left, 0))


def hand_over_surplus(rule: LiquidationRule, ctx: Ctx, name: str) -> Ctx:
    """Bankruptcy and takeover executions pass the remaining cash margin to the fund or vault."""
    if rule.execution is Execution.MARKET:
        return ctx
    role = Role.INSURANCE_FUND if rule.execution is Execution.BANKRUPTCY else Role.BACKSTOP_VAULT
    surplus = max_(ctx.account(name).cash_quote, 0)
    return ctx.transfer(name, system(ctx, role), surplus, Reason.LIQUIDATION_SURPLUS)


def close_other_markets(policy: Any, ctx: Ctx, name: str) -> Ctx:
    """A liquidated account's positions in the book's other markets, closed whole into the book at
    each market's liquidation fill with its penalty, before the market being liquidated is resolved
    (docs/portfolio.md: stage 1 closes every position; the order is a later policy field). Each
    market is closed on the book focused on it, so the rules are the one-market rules. Used by the
    sweep's liquidation and by an account bankrupt in turn (``bankruptcy._bankrupt_in_turn``)."""
    for index in range(1, len(ctx.book_field("more_markets")) + 1):
        ctx = close_in_market(policy, ctx, name, index, lambda a: abs_(a.size_lots))
    return ctx


def close_in_market(policy: Any, ctx: Ctx, name: str, index: int, lots_of: Any) -> Ctx:
    """Close ``lots_of(account)`` of ``name``'s position in market ``index`` at that market's
    liquidation fill, with its penalty, on the book focused on it (and turned back after). The
    penalty leaves what every position still open in the other markets needs for its own
    slippage, so an account solvent before stays solvent.

    Where the insurance fund is kept per market (or per group of markets), the funds are not
    swapped: the penalty of every market a liquidation closes goes to the fund of the market whose
    event liquidated the account, the fund that also takes its deficit, so one liquidation pays one
    fund and the ledger names it (docs/portfolio.md, decision 5b)."""
    rule = policy.liquidation
    ctx = ctx.with_book(ctx.book.focused(index, funds=False))
    markets = ctx.book_field("more_markets")

    def left(a: Any) -> Any:
        rest = sum_(
            abs_(p.size_lots) * slip_per_lot(rule, m.mark_quote) for p, m in zip(a.more_positions, markets, strict=True)
        )
        return equity(policy.margin, a) - rest

    capital = fee_from_capital(policy)
    ctx = close_step(rule, policy.rounding.fee, ctx, name, lots_of(ctx.account(name)), left, from_capital=capital)
    return ctx.with_book(ctx.book.focused(index, funds=False))

"""The default waterfall: ordered layers that pay a bankrupt account's deficit.

Each layer absorbs what it can and passes the rest down (docs/design.md#the-deficit-waterfall). The same
vocabulary describes crypto venues and clearing houses:

- ``insurance_fund``: the fund pays, up to its balance and an optional per-event cap (Binance,
  BitMEX, dYdX; Drift caps per market with ``quote_max_insurance``; docs/venues.md#binance-insurance-fund, #bitmex-insurance-fund, #dydx-v4-insurance-fund, #drift-v2-bankruptcy).
- ``backstop_vault``: a liquidity-provider vault pays up to its balance (Hyperliquid HLP, §6).
- ``fee_pool``: the venue's collected fees pay (Drift's market fee pool, §7).
- ``adl``: the bankrupt position is closed against opposing traders in the policy's ranking
  order, whole positions first, at the bankrupt account's price (§1, §2, §5, §6).
- ``socialized_loss``: every winner pays pro rata to profit, or every open position pays per lot
  as Drift and Mango do through funding (§7, §8).
- ``haircut_ratio``: profits are paid only as far as backed; the deficit is charged pro rata to
  profit and never beyond it, principal is senior (percolator, github.com/aeyakovenko/percolator).
- ``clawback``: realized profit within a window is taken back pro rata (OKEx 2018, §4).
- ``debt_carry``: the deficit stays owed by the account, to the winners (Backpack: negative USDC
  balance, later deposits repay it, §10) or to a lender that fronts it (broker margin, §11).
- ``venue_absorbs``: the venue pays from its own capital.

Where each layer lives (``bankruptcy.resolve`` runs them in order; docs/model.md#where-each-layer-lives):

    layer            module                    function
    insurance_fund   rules/insurance_fund.py   pay_from (the fund's balance, ``cap_quote``)
    backstop_vault   rules/insurance_fund.py   pay_from (the vault's balance)
    fee_pool         rules/insurance_fund.py   pay_from (the fee account's balance)
    adl              rules/adl.py              deleverage (trigger ``fund_drawdown``: rules/fund_drawdown.py)
    socialized_loss  rules/socialized_loss.py  socialize, over rules/pro_rata.py's charge
    haircut_ratio    rules/haircut_ratio.py    haircut, over rules/pro_rata.py's charge
    clawback         rules/clawback.py         claw_back, over rules/pro_rata.py's charge; open_window
    debt_carry       rules/debt_carry.py       carry (a deposit's repayment: engine's deposit)
    venue_absorbs    rules/venue_absorbs.py    venue_pays

A lent collateral asset has a waterfall of its own, for a borrow its borrower cannot repay
(``[[collateral]] bankruptcy``, :class:`TokenLayer`, ``solvent.rules.lending``): the unpaid
borrow is in the asset's quanta, so its layers pay in them.

    layer            who pays                                                   venue
    insurance_fund   the fund gives what it holds of the asset (the cut's       Drift, Mango (§7, §8)
                     dust), then buys the rest for the borrower at the oracle
    deposit_index    every depositor of the asset, pro rata, by a cut of the    Drift, Mango (§7, §8)
                     deposit index (``DEPOSIT_INDEX_LOSS``)
    lender_adl       every lender of the asset gives up its tokens pro rata     Backpack (§10)
                     and is paid their oracle value in settlement cash by the
                     borrower (``LENDER_ADL``), "in USD terms"

The three balance layers share one mechanism (a balance pays up to what it holds), so they share
the insurance fund's module; the three profit-taking layers keep their weights in their own
modules and share the pro-rata charge and its rounding (``[rounding] pro_rata``).
"""

from __future__ import annotations

import enum
from typing import ClassVar

import attrs

from solvent.rules.fields import META, _integer_in, count_field, quote_field
from solvent.rules.fund_drawdown import FundDrawdown


class TokenLayer(enum.Enum):
    """A layer of a lent asset's own waterfall (``[[collateral]] bankruptcy``): who covers a
    borrow of that asset that its borrower's liquidation could not repay, in the venue's order.

    ``insurance_fund``: the insurance fund gives the borrower what it holds of the asset (the
    deposit-index cut's rounding dust: the asset's own fund), then buys the missing quanta left at
    the oracle price, as far as its cash goes (Drift ``resolve_spot_bankruptcy``: "the fund pays
    min(borrow, IF_balance − 1)"; Mango ``token_liq_bankruptcy``: the USDC insurance vault pays for
    the liability; docs/venues.md#drift-v2-bankruptcy, #mango-v4-bankruptcy).
    ``deposit_index``: the rest is taken from the asset's depositors pro rata to their deposits,
    through the deposit index (Drift: ``cumulative_deposit_interest`` cut by
    ``cum_interest × loss / total_deposits``; Mango: ``deposit_index − remaining_loss /
    total_indexed_deposits``; same sources). Rounded by ``rounding.deposit_loss``.
    ``lender_adl``: the asset's lenders are deleveraged pro rata: each gives up its share of the
    missing quanta and is paid their oracle value in settlement cash by the borrower, whose cash
    may go below zero (Backpack: "ADL pays lenders the USD value instead of the token: a lender of
    1 BTC at $100,000 receives $100,000 USDC", docs/venues.md#backpack-liquidation).
    """

    INSURANCE_FUND = "insurance_fund"
    DEPOSIT_INDEX = "deposit_index"
    LENDER_ADL = "lender_adl"


class Ranking(enum.Enum):
    """ADL queue order.

    ``bitmex``: PnL% × effective leverage if PnL% > 0 else PnL% ÷ effective leverage (§2).
    ``binance``: LeveragePnl = max(0, UP)/max(1, WB) × MM/(WB + UP) (§1).
    ``hyperliquid``: (mark/entry) × (notional/account value), as written in its docs (§6).
    ``order``: the book's account order (a deterministic stand-in for dYdX's random start, §5).
    """

    BITMEX = "bitmex"
    BINANCE = "binance"
    HYPERLIQUID = "hyperliquid"
    ORDER = "order"


class AdlPrice(enum.Enum):
    """``bankruptcy``: winners are closed at the bankrupt account's price (Binance, BitMEX, Bybit,
    dYdX). ``mark``: at mark, so winners pay nothing and the deficit passes down (OKX, §4).
    ``previous_mark``: at the mark before the last move, as Hyperliquid's docs state (§6): the
    winners give back the whole move, which may be more or less than the deficit."""

    BANKRUPTCY = "bankruptcy"
    MARK = "mark"
    PREVIOUS_MARK = "previous_mark"


class GapRounding(enum.Enum):
    """Where an ADL at the bankruptcy price rounds: the gap per lot, or each fill's amount."""

    PER_LOT = "per_lot"
    PER_FILL = "per_fill"


class Release(enum.Enum):
    """How reserved profit matures (percolator Gen B's warm-up): all of a window's reserve at the
    window's last event, or linearly, a slope's worth an event from the reserve's last increase."""

    WINDOW_END = "window_end"
    LINEAR = "linear"


class Over(enum.Enum):
    """Who a socialized loss is spread over: winners by profit, open positions per lot, or the
    positions opposite to the bankrupt one per lot, which also take its position over pro rata
    (percolator Gen B's side indices, ``solvent.rules.side_index``)."""

    WINNERS = "winners"
    OPEN_INTEREST = "open_interest"
    OPPOSING_SIDE = "opposing_side"


class Lender(enum.Enum):
    """Who is owed a carried debt: the winners (the venue's books stay short) or a fronting venue."""

    WINNERS = "winners"
    VENUE = "venue"


@attrs.frozen
class InsuranceFund:
    """The insurance fund pays up to its balance, and at most ``cap_quote`` per bankruptcy if set."""

    kind: ClassVar[str] = "insurance_fund"
    terminal: ClassVar[bool] = False
    cap_quote: int | None = quote_field(default=None, min_value=1)
    #: ``false`` (the default): the fund pays what it can, up to its balance and cap, and the rest
    #: passes down. ``true``: it pays the whole remaining deficit or none of it: when its balance
    #: (or cap) is short of the deficit by even one quantum it pays nothing and the whole deficit
    #: passes to the next layer, while the fund keeps its money. dYdX v4
    #: (docs/venues.md#dydx-v4-insurance-fund): a liquidation fill is matched only if the fund can
    #: pay its whole insurance-fund delta (``IsValidInsuranceFundDelta``: balance + delta ≥ 0,
    #: checked in liquidations.go, which otherwise refuses the fill with
    #: ``ErrInsuranceFundHasInsufficientFunds``), and the subaccount left with negative TNC is
    #: deleveraged instead (deleveraging.go).
    all_or_nothing: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    #: What the fund keeps back: it pays a deficit only from its balance above this floor, and is
    #: exhausted (for the layers below it) once down to it. 0 (the default): it pays down to zero.
    #: Percolator Gen B (docs/venues.md#percolator-generations, spec v11.31 §4.11, §5.6): "Real
    #: bankruptcy losses MUST first consume the Insurance Fund down to I_floor" (``use_insurance_buffer``
    #: spends ``I − I_floor``); the engine's fuzz tests' ``default_params`` set ``insurance_floor: 0``.
    floor_quote: int = quote_field(default=0)
    #: Where the fund holds what it takes over (``liquidation.fund_unwind_ppm``) and the policy has an
    #: ``adl`` layer: whether the fund, below zero holding lots, is deleveraged at a sweep that moved no
    #: mark (a funding payment's: ``Ctx.mark_moved`` false), for its whole deficit at its bankruptcy
    #: price, as the backstop vault is by default. ``false`` (the default): it keeps that debt as its
    #: own until a move its lots lose in, which hands on at most that loss: BitMEX deleverages a
    #: liquidated order that "cannot be filled by the time the Mark Price reaches the Bankruptcy
    #: Price", a price's move, and funding moves no mark (session 24: docs/model.md#the-funds-own-bankruptcy,
    #: "At a funding event"). ``rules.pool_bankruptcy.bankrupt_by``.
    deleveraged_without_move: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))


@attrs.frozen
class BackstopVault:
    """The backstop vault pays up to its balance."""

    kind: ClassVar[str] = "backstop_vault"
    terminal: ClassVar[bool] = False
    #: Where the vault holds what it takes over (``liquidation.takeover_below_ppm`` or a takeover
    #: execution) and the policy has an ``adl`` layer: whether the vault, below zero holding lots, is
    #: deleveraged at a sweep that moved no mark (a funding payment's: ``Ctx.mark_moved`` false), its
    #: whole position at its bankruptcy price (``true``, the default: Hyperliquid's liquidator is an
    #: account, and its ADL runs where "an account value ... becomes negative", whatever took it there;
    #: session 27, docs/model.md#the-funds-own-bankruptcy, "The vault at a funding event, again"), or keeps
    #: that debt as its own until a move its lots lose in (``false``: session 24's rule, as BitMEX's fund
    #: by default). ``rules.pool_bankruptcy.bankrupt_by``.
    deleveraged_without_move: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))


@attrs.frozen
class FeePool:
    """Fees the venue collected pay, up to the fee account's balance."""

    kind: ClassVar[str] = "fee_pool"
    terminal: ClassVar[bool] = False


@attrs.frozen
class Adl:
    """Close the bankrupt position against ranked opposing traders.

    ADL runs on a deficit the layers above left unpaid (the account still below zero at mark);
    with ``fund_drawdown`` it also runs while the insurance fund is drawn down past its threshold
    (OKX, §4), closing the position at the bankrupt account's price after what the fund paid.
    """

    kind: ClassVar[str] = "adl"
    terminal: ClassVar[bool] = False
    ranking: Ranking = attrs.field(default=Ranking.ORDER, validator=attrs.validators.instance_of(Ranking))
    price: AdlPrice = attrs.field(default=AdlPrice.BANKRUPTCY, validator=attrs.validators.instance_of(AdlPrice))
    fund_drawdown: FundDrawdown | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(FundDrawdown))
    )
    #: After every opposing trader, the order book's resting liquidity is deleveraged too, at the
    #: same price: the book stands for the rest of the market, whose positions belong to users a
    #: venue's ADL reaches like any other (docs/venues.md#binance-adl, #bitmex-adl: "opposing positions"). ``false``
    #: exempts the book (a venue that spares its designated market makers): what the traders
    #: cannot take is closed into the book at the liquidation fill and the deficit passes down.
    book_last: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    #: The bankruptcy price is rounded onto the market's price tick (``Market.tick_quote``) before
    #: the winners are closed at it, against the bankrupt account's counterparty: a bankrupt long's
    #: price up, a short's down, so the account is not left below zero; what that adds (under one
    #: tick per lot) goes to the insurance fund with the per-lot rounding. ``false`` (the default):
    #: the price is rounded only to a whole quote quantum per lot. Bybit rounds a long's bankruptcy
    #: price up to the tick and a short's down (docs/venues.md#bybit-liquidation); the position's
    #: price is rounded once and every lot pays it. Only the bankruptcy price is rounded: with
    #: ``price = "mark"`` or ``"previous_mark"`` the winners' price is a mark, on the tick already.
    price_on_tick: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    #: How the bankruptcy price's rounding is taken. ``per_lot`` (the default): the gap per lot
    #: ⌈−E / |S|⌉ is rounded up to a whole quote quantum once and every lot pays it, so with a fine
    #: lot the winners pay up to one quantum a lot beyond the deficit (to the insurance fund).
    #: ``per_fill``: each fill of ``q`` lots pays ⌈D × q / L⌉ over the mark, ``D`` the bankrupt
    #: account's deficit and ``L`` its lots as they stand before that fill, so the winners pay the
    #: deficit to within one quantum per fill, however fine the lot. dYdX v4
    #: (docs/venues.md#dydx-v4-deleveraging): each deleveraging fill is a partial delta of the
    #: position priced by ``GetBankruptcyPriceInQuoteQuantums`` from the account's current TNC,
    #: "-DNNV - TNC × |DMMR| / TMMR", "rounded towards positive infinity" (liquidations.go), and
    #: each offsetting subaccount takes only ``min(remaining, its position)``
    #: (deleveraging.go ``OffsetSubaccountPerpetualPosition``); Solvent shares by lots, which is
    #: dYdX's maintenance share for a one-market account whose maintenance rounds nothing. Needs
    #: ``price = "bankruptcy"``, and neither ``price_on_tick`` (a price on the tick is a price
    #: per lot) nor ``liquidation.fee_to_close``.
    gap_rounding: GapRounding = attrs.field(
        default=GapRounding.PER_LOT, validator=attrs.validators.instance_of(GapRounding)
    )
    #: How the bankruptcy price's rounding is taken in a sweep that moved no mark (a funding
    #: payment's: ``Ctx.mark_moved`` false), where the layer closes at the bankruptcy price
    #: (``rules.adl.at_bankruptcy``); ``gap_rounding`` at a mark move. ``per_fill`` (the default):
    #: each fill pays ⌈D × q / L⌉ over the mark, as ``gap_rounding = "per_fill"`` (``L`` the lots
    #: the queue can reach where the gap is spread around a pool's lots), so the winners pay the
    #: deficit to within one quantum a fill. ``per_lot``: the gap per lot ⌈−E / |S|⌉, every lot
    #: paying it. A venue rounds the bankruptcy price to its tick, thousands of times finer than a
    #: preset's quantum a lot; at a mark move the per-lot excess is at most the move back a winner
    #: gained, but a funding payment moved no mark and the excess can exceed all a winner holds
    #: (the lead's decision, session 26: docs/model.md#the-funds-own-bankruptcy, "The gap at a
    #: funding sweep, per fill"). Per fill no price per lot is formed: ``price_on_tick`` is not
    #: applied, and a fee to close (``liquidation.fee_to_close``) takes only what the fills bring
    #: in beyond the deficit.
    gap_rounding_without_move: GapRounding = attrs.field(
        default=GapRounding.PER_FILL, validator=attrs.validators.instance_of(GapRounding)
    )
    #: A fill is made only where the offsetting account's bankruptcy price overlaps the bankrupt
    #: account's: dYdX v4 applies a deleveraging match as a subaccount update that must leave the
    #: offsetting account at or above initial margin, or no riskier (maintenance not higher and
    #: not zero, net collateral over maintenance not lower; ``IsValidStateTransitionForUndercollateralizedSubaccount``),
    #: and skips an offsetting subaccount whose update fails ("the subaccounts' bankruptcy prices do
    #: not overlap", deleveraging.go ``OffsetSubaccountPerpetualPosition``), going on to the next.
    #: So an account that is itself underwater, like a second bankrupt account on the other side
    #: in the same block, is never made worse. ``false`` (the default): every opposing trader is
    #: in the queue.
    overlap_only: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    #: At most this many bankrupt accounts are deleveraged in one event, an event standing for a
    #: block; the rest keep their positions, below zero, until a later event's sweep finds them
    #: again (``rules.deleveraging_limit``). dYdX v4 attempts at most
    #: ``MaxDeleveragingAttemptsPerBlock`` subaccounts a block, in the order of its list of unfilled
    #: liquidations (github.com/dydxprotocol/v4-chain, protocol/x/clob/keeper/deleveraging.go
    #: ``DeleverageSubaccounts``; default 10, protocol/x/clob/flags/flags.go, a node flag). Absent
    #: (the default): every bankrupt account in the event.
    max_deleveraged_per_event: int | None = attrs.field(
        default=None,
        validator=_integer_in("accounts", 1, None, optional=True),
        metadata={META: {"unit": "count", "min": 1, "max": None}},
    )

    def __attrs_post_init__(self) -> None:
        if self.gap_rounding is GapRounding.PER_FILL and (self.price is not AdlPrice.BANKRUPTCY or self.price_on_tick):
            raise ValueError(
                "'gap_rounding' = 'per_fill' needs price = 'bankruptcy' without price_on_tick (it shares "
                f"the deficit over the fills): price = '{self.price.value}', price_on_tick = {str(self.price_on_tick).lower()}"
            )
        if self.fund_drawdown is not None and self.price is AdlPrice.PREVIOUS_MARK:
            raise ValueError(
                "'fund_drawdown' needs price = 'bankruptcy' or 'mark': a drawdown may start ADL after "
                "the fund paid the whole deficit, and at the previous mark the winners would pay the "
                "move again: 'previous_mark'"
            )


@attrs.frozen
class SocializedLoss:
    """Charge the whole remaining deficit pro rata (it may reach winners' principal)."""

    kind: ClassVar[str] = "socialized_loss"
    terminal: ClassVar[bool] = False  # nothing to charge when no one has profit or a position
    over: Over = attrs.field(default=Over.WINNERS, validator=attrs.validators.instance_of(Over))
    #: What happens to a payer the charge leaves below zero. ``false`` (the default): nothing; its
    #: equity stays negative (a residual ``no-negative-equity`` reports). ``true``: it is bankrupt in
    #: turn, in the same step: every trader still holding a position with equity below zero once the
    #: waterfall is done is liquidated (closed into the book at the liquidation fill; against the
    #: opposing side under ``over = "opposing_side"``) and its own
    #: deficit runs down the same waterfall, whose socialized loss is then spread over the positions
    #: still open, and so on (each account at most once per chain, so it ends). Drift
    #: (docs/venues.md#drift-v2-bankruptcy): ``resolve_perp_bankruptcy`` socializes through the
    #: cumulative funding rates, and ``settle_funding_payment`` books the charge into the
    #: position's quote with no cap, so a fellow loser can go below zero; it is then liquidatable
    #: (``liquidate_perp``) and, flat with a negative quote, bankrupt, resolved by
    #: ``resolve_perp_bankruptcy`` in its turn. The venue does this over several keeper
    #: transactions; the engine, which runs every liquidation a mark move triggers within its step,
    #: runs these too (docs/model.md#a-socialized-loss-that-bankrupts-a-payer). Mango v4
    #: (docs/venues.md#mango-v4-bankruptcy) the same way: ``settle_funding`` books the per-lot loss
    #: into ``quote_position_native`` with no cap, and the account is liquidated and resolved by
    #: ``perp_liq_negative_pnl_or_bankruptcy`` in its turn.
    cascade: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    #: With ``over = "open_interest"``: whoever took the bankrupt position over pays per lot for it
    #: too, beside the rest of the market. ``false`` (the default): the order book is charged only
    #: for the lots it held when the account went bankrupt. ``true``: the book, which stands for
    #: the liquidator when the position is closed into it, is also charged for the bankrupt
    #: account's lots, so the loss is spread over every open lot, the taken-over ones included.
    #: Drift (docs/venues.md#drift-v2-bankruptcy): ``liquidate_perp`` moves the user's base to the
    #: liquidator before ``resolve_perp_bankruptcy``, whose Δ divides the loss by
    #: ``|base_asset_amount_long| + |base_asset_amount_short|``, the liquidator's lots counted.
    #: Mango v4 (docs/venues.md#mango-v4-bankruptcy): ``socialize_loss`` divides by
    #: ``open_interest``, which counts long and short base lots, and runs only once a liquidator
    #: has taken the account's base over (``require_after_phase2_liquidation``).
    liquidator_pays: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    # ``over = "opposing_side"`` (percolator Gen B, spec v11.31 §5.6 ``enqueue_adl``; docs/venues.md
    # #percolator-side-indices): the bankrupt position is closed at the mark against the opposing
    # positions pro rata, which shrink (``A``), before the waterfall, instead of into the order
    # book; the deficit is then charged per lot of the opposing side as it stood (``K``), rounded
    # by ``rounding.side_index``. With no opposing position nothing is charged and the deficit
    # passes to the next layer (the haircut, §5.6 steps 4-5). Needs a waterfall without ``adl``.

    def __attrs_post_init__(self) -> None:
        if self.liquidator_pays and self.over is not Over.OPEN_INTEREST:
            raise ValueError(
                "'liquidator_pays' needs over = 'open_interest': a liquidator pays per lot it took "
                "over, and a loss over the winners weighs profit, not lots: True"
            )


@attrs.frozen
class HaircutRatio:
    """Charge the deficit pro rata to profit, never more than the profit (principal is senior)."""

    kind: ClassVar[str] = "haircut_ratio"
    terminal: ClassVar[bool] = False
    #: What the junior profit is counted from. ``false`` (the default): the principal is what was
    #: deposited and not withdrawn, so an account that lost and then gained back has no profit until
    #: it is above its deposits. ``true``: losses settle against capital as they are realized, so
    #: after every event each trader's and the book's principal is at most its equity
    #: (``min(principal, max(equity, 0))``) and any later gain is junior profit the haircut reaches.
    #: percolator (github.com/aeyakovenko/percolator, tests/unit_tests.rs
    #: ``test_negative_pnl_settles_immediately_independent_of_slope``: "Capital should be reduced by
    #: full loss amount", PnL 0 after; ``test_loss_exceeding_capital_leaves_negative_pnl``: capital
    #: 0 and the rest written off; invariant N1 "pnl >= 0 || capital == 0"): negative PnL settles
    #: into capital at once, and only positive PnL is junior.
    losses_settle_capital: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    #: The warm-up window, in events: profit is junior (not yet capital) while it warms up, and
    #: warms up at the end of every ``warmup_events``-th event of the book's clock (the window's
    #: last event). Absent (the default): profit never becomes capital while it stays in the book.
    #: percolator's PnL warm-up (github.com/aeyakovenko/percolator spec.md v7 §5, v11.31 §6: profit
    #: vests over ``T = warmup_period_slots``; docs/venues.md#percolator-warm-up): an event stands
    #: for a slot, and the window's end stands for the linear vesting (every profit of the window
    #: vests at once; docs/venues.md#percolator-what-is-not-modelled).
    #: Without ``matured_only`` (Gen A, spec v7 §6.2): at the window's end every trader's and the
    #: book's junior profit converts into capital (principal := max(principal, E)).
    warmup_events: int | None = attrs.field(
        default=None,
        validator=_integer_in("events", 1, None, optional=True),
        metadata={META: {"unit": "count", "min": 1, "max": None}},
    )
    #: Which profit the haircut reaches. ``false`` (the default, percolator Gen A, spec v7 §3.2:
    #: ``h = min(Residual, PNL_pos_tot) / PNL_pos_tot``): all junior profit. ``true`` (Gen B, spec
    #: v11.31 §3.2-3.3: ``h = min(Residual, PNL_matured_pos_tot) / PNL_matured_pos_tot``): only
    #: matured profit; profit still warming up is reserved (``R_i``, §6.2) and out of the haircut's
    #: reach, as capital is. The reserve takes fresh gains and loses first to losses (§4.4
    #: ``set_pnl``), matures at the window's end (§6.3), and a flat account's matured profit
    #: converts into capital (§7.4: auto-conversion only on flat accounts). Kept in the book as
    #: principal = capital + reserve and ``window_pnl_quote`` = reserve (``haircut_ratio.settle_losses``),
    #: so the policy may not also have a ``clawback`` layer, which reads that field. Needs
    #: ``warmup_events`` and ``losses_settle_capital``.
    matured_only: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    #: How profit warms up. ``"window_end"`` (the default): all of it at the window's last event.
    #: ``"linear"`` without ``matured_only`` (Gen A, spec v7 §5: ``min(AvailGross, w_slope ×
    #: elapsed)`` converts into capital, ``w_slope = max(1, ⌊AvailGross / T⌋)`` restarted on new
    #: profit): each account's junior profit ``max(E − principal, 0)`` vests ``min(junior,
    #: w_slope)`` into capital as every event opens (principal rises by it), and an event whose
    #: trading PnL was a gain restarts the slope at ``max(1, ⌊junior / T⌋)`` of what is left
    #: (``haircut_ratio.vest_linearly``). ``"linear"`` under ``matured_only`` (Gen B, spec v11.31
    #: §4.9, §6.3-6.5): each account releases
    #: ``min(R, w_slope)`` of its reserve into matured profit an event (an event stands for a slot,
    #: and Solvent touches every account at every event, so a touch's elapsed slots are 1), and a
    #: reserve that grew restarts its slope at ``w_slope = max(1, ⌊R / T⌋)`` with ``T =
    #: warmup_events`` (``restart_warmup_after_reserve_increase``); a release alone keeps the
    #: slope (§6.5). The slope is the account's ``reserve_slope_quote``.
    release: Release = attrs.field(default=Release.WINDOW_END, validator=attrs.validators.instance_of(Release))

    def __attrs_post_init__(self) -> None:
        if self.matured_only and (self.warmup_events is None or not self.losses_settle_capital):
            raise ValueError(
                "'matured_only' needs warmup_events and losses_settle_capital = true: profit matures "
                "at the end of its warm-up window, and the reserve is kept beside a capital that "
                "losses settle into: True"
            )
        if self.release is Release.LINEAR and (self.warmup_events is None or not self.losses_settle_capital):
            raise ValueError(
                "release = 'linear' needs warmup_events and losses_settle_capital = true: it vests the "
                "junior profit (Gen A, spec v7 §5) or releases the reserve (Gen B, spec v11.31 §4.9) a "
                "slope's worth an event: 'linear'"
            )


@attrs.frozen
class Clawback:
    """Take back trading profit made in the current window of ``window_events`` events."""

    kind: ClassVar[str] = "clawback"
    terminal: ClassVar[bool] = False
    window_events: int = count_field(min_value=1, default=1_000_000)
    cap_at_profit: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))


@attrs.frozen
class DebtCarry:
    """Leave the deficit owed by the account; later deposits repay it first if so stated."""

    kind: ClassVar[str] = "debt_carry"
    terminal: ClassVar[bool] = True
    lender: Lender = attrs.field(default=Lender.WINNERS, validator=attrs.validators.instance_of(Lender))
    deposits_repay_debt: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))

    def __attrs_post_init__(self) -> None:
        if self.lender is Lender.WINNERS and not self.deposits_repay_debt:
            raise ValueError(
                "'deposits_repay_debt' must be true when lender = 'winners': the debt is the "
                "account's negative balance, so any deposit lands in it; use lender = 'venue' for "
                "a debt collected off the book: False"
            )


@attrs.frozen
class VenueAbsorbs:
    """The venue pays the remaining deficit from its own capital."""

    kind: ClassVar[str] = "venue_absorbs"
    terminal: ClassVar[bool] = True


Layer = (
    InsuranceFund | BackstopVault | FeePool | Adl | SocializedLoss | HaircutRatio | Clawback | DebtCarry | VenueAbsorbs
)
LAYER_TYPES: tuple[type, ...] = Layer.__args__  # type: ignore[attr-defined]
LAYER_KINDS = {cls.kind: cls for cls in LAYER_TYPES}


def check_layers(layers: tuple) -> None:
    """A waterfall uses each layer at most once and nothing follows a layer that takes all."""
    seen: set[str] = set()
    for i, layer in enumerate(layers):
        if layer.kind in seen:
            raise ValueError(f"'layer' must appear once in the waterfall: {layer.kind!r} again @ deficit[{i}]")
        seen.add(layer.kind)
    kinds = [layer.kind for layer in layers]
    if "clawback" in kinds and any(getattr(layer, "matured_only", False) for layer in layers):
        raise ValueError(
            "'matured_only' cannot share a waterfall with 'clawback': both keep their state in each "
            f"account's window PnL (the reserve, the clawback window's profit) @ deficit[{kinds.index('clawback')}]"
        )
    sides = [i for i, layer in enumerate(layers) if getattr(layer, "over", None) is Over.OPPOSING_SIDE]
    if sides and "adl" in kinds:
        raise ValueError(
            "'over' = 'opposing_side' closes the bankrupt position against the opposing side itself, "
            f"so it cannot share a waterfall with 'adl' @ deficit[{sides[0]}].over"
        )
    for i, layer in enumerate(layers[:-1]):
        if layer.terminal:
            raise ValueError(
                f"'layer' {layers[i + 1].kind!r} is unreachable: {layer.kind!r} @ deficit[{i}] takes "
                f"every remaining deficit; move it last @ deficit[{i + 1}]"
            )

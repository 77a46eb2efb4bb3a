"""The engine: ``step(policy, book, event) -> Step``, written once over the arithmetic interface.

:func:`transition` is the semantics. The concrete :func:`step` runs it on Python ints and rejects
bad events; ``solvent.solver`` runs the very same function on z3 terms, where the event's
requirements become assumptions instead of errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import attrs

from solvent.rules import deficit_split, insurance_claim, transfer_floor
from solvent.rules.arith import PPM, abs_, and_, implies, max_, min_, or_, sum_
from solvent.rules.assets import (
    account_value,
    exchange_loan,
    holds_collateral,
    loan_due,
    margin_equity,
    sell_collateral,
)
from solvent.rules.bankruptcy import resolve, resolve_loan, resolve_sunk, settle_collateral, standing, write_off
from solvent.rules.book import Book, MarginMode, Role, is_on_tick
from solvent.rules.clawback import open_window
from solvent.rules.collateral import convert_spot
from solvent.rules.events import (
    ASSET_EVENTS,
    MARGIN_EVENTS,
    AddMargin,
    AssetDeposit,
    AssetPrice,
    AssetWithdraw,
    Deposit,
    Event,
    FinalSettlement,
    Funding,
    InterestAccrual,
    MarkPrice,
    RemoveMargin,
    SpotDeposit,
    Taker,
    Trade,
    Withdraw,
)
from solvent.rules.fees import charge_fee
from solvent.rules.final_settlement import settle_final
from solvent.rules.fund_drawdown import sample
from solvent.rules.haircut_ratio import fee_from_capital, release_reserves, settle_losses
from solvent.rules.isolated import apply as move_isolated_margin
from solvent.rules.isolated import check_one_mode, mode_checks, position_of, route
from solvent.rules.ledger import EXTERNAL, SPOT, Ctx, Reason, Transfer, asset_balance
from solvent.rules.lending import (
    SETTLEMENT,
    accrue_interest,
    borrowed_value,
    charge_origination_fee,
    cover_settlement_borrow,
    lends_any,
    lent_rule,
    owed_on_withdrawal,
    settle_borrows,
)
from solvent.rules.liquidation import (
    Execution,
    Order,
    close_other_markets,
    close_step,
    fee_to_close,
    fill_price,
    hand_over_surplus,
    is_taken_over,
    is_triggered,
    note_liquidated,
    order_lots,
    partial_lots,
    shortage_lots,
    shortage_quote,
    slip_per_lot,
    takeover_rule,
    unwind_fund,
)
from solvent.rules.liquidation_order import close_in_order
from solvent.rules.margin import (
    account_initial_margin,
    account_maintenance,
    counts_spot,
    equity,
    maintenance_rate,
    open_lots,
)
from solvent.rules.market_funds import check_scope, focused_on, renamed_in_market, unfocused
from solvent.rules.outcomes import DepositAbsorbed
from solvent.rules.policy import Policy
from solvent.rules.pool_adl import reduce_profits
from solvent.rules.pool_bankruptcy import deleverage_pools
from solvent.rules.positions import fill
from solvent.rules.rate_curve import SECONDS_PER_YEAR
from solvent.rules.settlement import funding_cap_ppm, pay_funding, settle_mark
from solvent.rules.side_index import close_against_side, shrinks_opposing_side
from solvent.rules.waterfall import Clawback, Lender
from solvent.rules.wellformed import opening_covered


class RejectedEvent(ValueError):
    """The event is not allowed on this book; the book is unchanged."""

    def __init__(self, event: Any, reason: str) -> None:
        super().__init__(f"{event!r} rejected: {reason}")
        self.event = event
        self.reason = reason


@attrs.frozen
class Requirement:
    """A condition an event needs, with the sentence a user reads when it does not hold."""

    holds: Any
    message: str


@attrs.frozen
class Step:
    """One applied event: the book before and after, the ledger transfers and the outcomes."""

    before: Book
    event: Any
    after: Book
    transfers: tuple[Transfer, ...]
    outcomes: tuple[Any, ...]


# --- requirements -------------------------------------------------------------------------


def _check_names(book: Book, event: Any) -> None:
    event = route(book, event)
    for field in ("account", "buyer", "seller"):
        name = getattr(event, field, None)
        if name is None:
            continue
        try:
            account = book.account(name)
        except KeyError:
            raise RejectedEvent(
                event, f"unknown account {name!r}; the book has {sorted(a.name for a in book.accounts)}"
            ) from None
        if account.role is Role.CLEARING:
            raise RejectedEvent(event, f"{name!r} is the clearing account; nothing trades or deposits there")
    if isinstance(event, (Trade, Withdraw, AssetWithdraw, *MARGIN_EVENTS)):
        # in the event's field order: a set of the names iterated in the process's string-hash
        # order, so a trade between two system accounts named one or the other by PYTHONHASHSEED
        for name in dict.fromkeys(getattr(event, f, None) for f in ("account", "buyer", "seller")):
            if name is None:
                continue
            account = book.account(name)
            if not account.is_trader:
                raise RejectedEvent(event, f"{name!r} is the {account.role.value} account, not a trader")
    if isinstance(event, Trade) and event.buyer == event.seller:
        raise RejectedEvent(event, f"buyer and seller are the same account {event.buyer!r}")
    try:
        market_of(book, event)
        if isinstance(event, ASSET_EVENTS) and not (isinstance(event, InterestAccrual) and event.asset == SETTLEMENT):
            book.asset_index(event.asset)
        if isinstance(event, MARGIN_EVENTS):
            position_of(book, event)
    except KeyError as unknown:
        raise RejectedEvent(event, unknown.args[0]) from None


def market_of(book: Book, event: Any) -> int:
    """The position in ``book.markets`` of the market the event acts on (0 for events that name
    none: deposits and withdrawals act on the account, not a market)."""
    return book.market_index(getattr(event, "market", ""))


def requirements(policy: Policy, book: Book, event: Event) -> list[Requirement]:
    """What must hold of the book before the event for it to be accepted, read on the book
    focused on the event's market (every caller, the prover's included, gets the same answer).
    What the policy's margin modes and the book's isolated positions require comes first
    (``rules.isolated.mode_checks``)."""
    event = route(book, event)
    modes = [Requirement(holds, message) for holds, message in mode_checks(policy, book, event)]
    index = market_of(book, event)
    policy, book = policy.focused(index), book.focused(index)
    return modes + _requirements(policy, book, event)


def _requirements(policy: Policy, book: Book, event: Event) -> list[Requirement]:
    if isinstance(event, MARGIN_EVENTS):
        return _margin_requirements(policy, book, event)
    if isinstance(event, Deposit) and event.market:
        fund = book.account(event.account).role is Role.INSURANCE_FUND
        return [
            Requirement(event.amount_quote > 0, "amount_quote must be > 0"),
            Requirement(fund, "a deposit names a market only to fill that market's insurance fund"),
        ]
    if isinstance(event, (Deposit, SpotDeposit)):
        return [Requirement(event.amount_quote > 0, "amount_quote must be > 0")]
    if isinstance(event, AssetDeposit):
        return [Requirement(event.amount > 0, "amount must be > 0")]
    if isinstance(event, AssetPrice):
        return [Requirement(event.price_quote > 0, "price_quote must be > 0")]
    if isinstance(event, InterestAccrual):
        return _interest_requirements(policy, event)
    if isinstance(event, AssetWithdraw):
        return _asset_withdraw_requirements(policy, book, event)
    if isinstance(event, Withdraw):
        a = book.account(event.account)
        free = _free_margin(policy, book, a)
        return [
            Requirement(event.amount_quote > 0, "amount_quote must be > 0"),
            Requirement(a.debt_quote == 0, "the account owes a debt; withdrawals wait until it is repaid")
            if policy.debt_carry is None or policy.debt_carry.deposits_repay_debt
            else Requirement(True, "a debt collected off the book does not block withdrawals"),
            Requirement(event.amount_quote <= a.cash_quote, "amount_quote must be <= the cash balance"),
            Requirement(event.amount_quote <= free, "amount_quote must be <= free margin (equity - initial margin)"),
            *(Requirement(holds, why) for holds, why in transfer_floor.checks(policy, book, a, event.amount_quote)),
        ]
    if isinstance(event, Trade):
        return [
            Requirement(event.lots > 0, "lots must be > 0"),
            Requirement(event.price_quote > 0, "price_quote must be > 0"),
            Requirement(
                is_on_tick(event.price_quote, book.market.tick_quote),
                f"price_quote must be a multiple of the tick {book.market.tick_quote}",
            ),
        ]
    if isinstance(event, (MarkPrice, FinalSettlement)):
        return [
            Requirement(event.price_quote > 0, "price_quote must be > 0"),
            Requirement(
                is_on_tick(event.price_quote, book.market.tick_quote),
                f"price_quote must be a multiple of the tick {book.market.tick_quote}",
            ),
        ]
    if isinstance(event, Funding):
        return _funding_requirements(policy, event)
    raise TypeError(f"not an event: {event!r}")


def _funding_requirements(policy: Policy, event: Funding) -> list[Requirement]:
    """A funding rate lies within ±100% a payment, and within the venue's cap where the policy
    states one (``[funding] max_rate_ppm``, ``rules.settlement.funding_cap_ppm``: Hyperliquid's 4%
    an hour): a rate beyond it is not the venue's event."""
    cap = funding_cap_ppm(policy)
    venue = "" if cap == PPM else " (the policy's [funding] max_rate_ppm)"
    return [Requirement(abs_(event.rate_ppm) <= cap, f"rate_ppm must be between -{cap} and {cap}{venue}")]


def _margin_requirements(policy: Policy, book: Book, event: AddMargin | RemoveMargin) -> list[Requirement]:
    """A margin move is positive; an addition comes out of the owner's free margin (as a
    withdrawal does), a removal leaves the isolated position's initial margin covered, and the
    policy's transfer floor (``rules.transfer_floor``, Hyperliquid's 10% of notional)."""
    owner, position = book.account(event.account), book.account(position_of(book, event))
    amount = event.amount_quote
    out = [Requirement(amount > 0, "amount_quote must be > 0 (add-margin adds, remove-margin removes)")]
    if isinstance(event, AddMargin):
        return out + [
            Requirement(amount <= owner.cash_quote, "amount_quote must be <= the owner's cash balance"),
            Requirement(
                amount <= _free_margin(policy, book, owner),
                "amount_quote must be <= the owner's free margin (equity - initial margin of its cross positions)",
            ),
        ]
    return (
        out
        + [
            Requirement(amount <= position.cash_quote, f"amount_quote must be <= the margin of {position.name}"),
            Requirement(
                amount <= _free_margin(policy, book, position),
                f"{position.name} would hold less than initial margin after the removal",
            ),
        ]
        + [Requirement(holds, why) for holds, why in transfer_floor.checks(policy, book, position, amount)]
    )


def _interest_requirements(policy: Policy, event: InterestAccrual) -> list[Requirement]:
    """An interest step names a lent asset and, by the asset's table, either the seconds it
    accrues for at the asset's curve (a ``rate_curve``) or its own rate (none)."""
    if event.asset == SETTLEMENT:
        return _settlement_interest_requirements(policy, event)
    rule = lent_rule(policy, event.asset)
    if rule is None:
        return [Requirement(False, f"the policy does not lend {event.asset} (no [[collateral]] lends = true)")]
    if rule.rate_curve:
        return [
            Requirement(
                event.rate_ppm is None, f"{event.asset}'s rate comes from its rate_curve: give seconds, not rate_ppm"
            ),
            Requirement(
                and_(event.seconds >= 1, event.seconds <= SECONDS_PER_YEAR),
                f"seconds must be between 1 and {SECONDS_PER_YEAR} (a year)",
            ),
        ]
    if event.rate_ppm is None:
        return [Requirement(False, f"{event.asset} has no rate_curve: the step must give its rate_ppm")]
    return [Requirement(and_(event.rate_ppm >= 0, event.rate_ppm <= PPM), f"rate_ppm must be between 0 and {PPM}")]


def _settlement_interest_requirements(policy: Policy, event: InterestAccrual) -> list[Requirement]:
    """An interest step on the settlement currency needs ``[settlement_lending]`` and names the
    seconds it accrues for at its curve."""
    if policy.settlement_lending is None:
        return [Requirement(False, "the policy does not lend its settlement currency (no [settlement_lending])")]
    return [
        Requirement(event.rate_ppm is None, "the settlement rate comes from [settlement_lending]: give seconds"),
        Requirement(
            and_(event.seconds >= 1, event.seconds <= SECONDS_PER_YEAR),
            f"seconds must be between 1 and {SECONDS_PER_YEAR} (a year)",
        ),
    ]


def _free_margin(policy: Policy, book: Book, account: Any) -> Any:
    """Equity with collateral at its initial weights, less the initial margin of every position."""
    return margin_equity(policy, book.assets, account, initial=True) - account_initial_margin(
        policy.margin, policy.rounding, account, book.market.mark_quote, book.more_markets, policy.more_margins
    )


def _asset_withdraw_requirements(policy: Policy, book: Book, event: AssetWithdraw) -> list[Requirement]:
    """A collateral asset leaves only as far as the account's initial margin stays covered (the free
    margin after the withdrawal is not negative), and never owing a debt it must repay first."""
    a = book.account(event.account)
    k = book.asset_index(event.asset)
    balances = a.asset_balances
    # a new borrow owes its loan origination fee too (the amount alone where the asset has none)
    owed = owed_on_withdrawal(policy, event.asset, balances[k], event.amount)
    after = attrs.evolve(a, asset_balances=balances[:k] + (balances[k] - owed,) + balances[k + 1 :])
    if lent_rule(policy, event.asset) is not None and a.margin_mode is MarginMode.CROSS:
        # a lent asset: beyond the balance is a borrow, as far as the venue holds the asset
        held = Requirement(
            event.amount <= book.assets[k].net_deposits,
            f"amount must be <= the {event.asset} the venue holds (its net deposits): the rest is lent out",
        )
    else:
        held = Requirement(event.amount <= balances[k], f"amount must be <= the {event.asset} balance")
    return [
        Requirement(event.amount > 0, "amount must be > 0"),
        Requirement(a.debt_quote == 0, "the account owes a debt; withdrawals wait until it is repaid")
        if policy.debt_carry is None or policy.debt_carry.deposits_repay_debt
        else Requirement(True, "a debt collected off the book does not block withdrawals"),
        held,
        Requirement(
            _free_margin(policy, book, after) >= 0,
            "amount must leave free margin (equity with collateral at initial weights - initial margin) >= 0",
        ),
    ]


def post_requirements(policy: Policy, before: Book, after: Book, event: Event) -> list[Requirement]:
    """What must hold after the event: a trade that adds to a position must meet initial margin as
    the venue checks it on order entry, with no credit for a price better than the mark
    (:func:`solvent.rules.wellformed.opening_covered`); both books read focused on the event's market."""
    if not isinstance(event, Trade):
        return []
    event = route(before, event)
    index = market_of(before, event)
    policy, before, after = policy.focused(index), before.focused(index), after.focused(index)
    out = []
    mark = after.market.mark_quote
    for name in (event.buyer, event.seller):
        a0, a1 = before.account(name), after.account(name)
        e = margin_equity(policy, after.assets, a1)
        # a flip (long to short or back) opens a new position, so it needs initial margin too
        grows = or_(abs_(a1.size_lots) > abs_(a0.size_lots), a1.size_lots * a0.size_lots < 0)
        covered = opening_covered(
            policy, a1, a1.size_lots - a0.size_lots, event.price_quote, mark, after.more_markets, after.assets
        )
        out.append(Requirement(implies(grows, covered), f"{name} would hold less than initial margin after the trade"))
        out.append(Requirement(e >= 0, f"{name} would end with negative equity after the trade"))
    return out


# --- transitions ---------------------------------------------------------------------------


def _deposit(policy: Policy, ctx: Ctx, event: Deposit) -> Ctx:
    name, amount = event.account, event.amount_quote
    before = ctx.account(name)
    ctx = ctx.transfer(EXTERNAL, name, amount, Reason.DEPOSIT)
    ctx = ctx.evolve_book(net_deposits_quote=ctx.book_field("net_deposits_quote") + amount)
    absorbed: Any = min_(amount, max_(-account_value(policy, ctx.book_field("assets"), before), 0))
    carry = policy.debt_carry
    if carry is not None and carry.lender is Lender.VENUE and carry.deposits_repay_debt:
        repay = min_(amount, before.debt_quote)
        ctx = ctx.transfer(name, ctx.system(Role.VENUE), repay, Reason.DEBT_REPAYMENT)
        ctx = ctx.update_account(name, debt_quote=ctx.account(name).debt_quote - repay)
        absorbed = absorbed + repay
    ctx = ctx.note_if(absorbed > 0, DepositAbsorbed(name, absorbed))
    return ctx.update_account(name, principal_quote=ctx.account(name).principal_quote + amount - absorbed)


def _withdraw(ctx: Ctx, event: Withdraw) -> Ctx:
    name, amount = event.account, event.amount_quote
    ctx = ctx.transfer(name, EXTERNAL, amount, Reason.WITHDRAWAL)
    ctx = ctx.evolve_book(net_deposits_quote=ctx.book_field("net_deposits_quote") - amount)
    a = ctx.account(name)
    return ctx.update_account(
        name, withdrawn_quote=a.withdrawn_quote + amount, principal_quote=min_(a.principal_quote, a.cash_quote)
    )


def _spot_deposit(policy: Policy, ctx: Ctx, event: SpotDeposit) -> Ctx:
    ctx = ctx.transfer(EXTERNAL, event.account + SPOT, event.amount_quote, Reason.SPOT_DEPOSIT)
    ctx = ctx.evolve_book(net_deposits_quote=ctx.book_field("net_deposits_quote") + event.amount_quote)
    account = ctx.account(event.account)
    if not counts_spot(policy.margin, account):
        return ctx
    # spot that backs margin is deposited capital, not profit a haircut may take
    return ctx.update_account(event.account, principal_quote=account.principal_quote + event.amount_quote)


def _asset_deposit(ctx: Ctx, event: AssetDeposit) -> Ctx:
    return _move_asset(ctx, event.asset, EXTERNAL, event.account, event.amount, Reason.ASSET_DEPOSIT)


def _asset_withdraw(policy: Policy, ctx: Ctx, event: AssetWithdraw) -> Ctx:
    """The asset leaves the account; a new borrow of a lent asset pays its loan origination fee
    (``lending.charge_origination_fee``), read on the balance before the withdrawal."""
    balance = ctx.account(event.account).asset_balances[ctx.book.asset_index(event.asset)]
    ctx = _move_asset(ctx, event.asset, event.account, EXTERNAL, event.amount, Reason.ASSET_WITHDRAWAL)
    return charge_origination_fee(policy, ctx, event.account, event.asset, balance, event.amount)


def _move_asset(ctx: Ctx, asset: str, source: str, destination: str, amount: Any, reason: Reason) -> Ctx:
    """``amount`` quanta of ``asset`` in to (from ``external``) or out of an account, counted in the
    asset's net deposits (conservation per asset, docs/portfolio.md decision 7)."""
    ends = [n if n == EXTERNAL else asset_balance(n, asset) for n in (source, destination)]
    ctx = ctx.transfer(ends[0], ends[1], amount, reason)
    assets = list(ctx.book_field("assets"))
    k = ctx.book.asset_index(asset)
    signed = amount if source == EXTERNAL else -amount
    assets[k] = attrs.evolve(assets[k], net_deposits=assets[k].net_deposits + signed)
    return ctx.evolve_book(assets=tuple(assets))


def _asset_price(ctx: Ctx, event: AssetPrice) -> Ctx:
    """The asset's oracle price moves; nothing is paid (collateral is valued, not settled)."""
    assets = list(ctx.book_field("assets"))
    k = ctx.book.asset_index(event.asset)
    assets[k] = attrs.evolve(assets[k], price_quote=event.price_quote)
    return ctx.evolve_book(assets=tuple(assets))


def _trade(policy: Policy, ctx: Ctx, event: Trade) -> Ctx:
    ctx = fill(ctx, event.buyer, event.seller, event.lots, event.price_quote, Reason.TRADE_PRICE)
    taker, maker = (event.buyer, event.seller) if event.taker is Taker.BUYER else (event.seller, event.buyer)
    notional = event.lots * event.price_quote
    ctx = charge_fee(policy.fees, policy.rounding, ctx, taker, notional, policy.fees.taker_ppm)
    return charge_fee(policy.fees, policy.rounding, ctx, maker, notional, policy.fees.maker_ppm)


def liquidate(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    """Close out ``name``: in the book if it stays solvent, down the waterfall if not.

    Under a takeover threshold, an account far enough below maintenance goes to the backstop
    vault instead of the book.
    """
    rule = policy.liquidation
    if rule.takeover_below_ppm is None:
        return _liquidate(policy, ctx, name)
    account = ctx.account(name)
    e = margin_equity(policy, ctx.book_field("assets"), account)
    mm = _maintenance(policy, ctx, account)
    taken = attrs.evolve(policy, liquidation=takeover_rule(rule))
    if _below_zero_is_taken_over(policy, ctx):
        # Below zero at a fill at the mark is below any share of a maintenance ≥ 0 (tiers are
        # continuous from 0, rates ≥ 0: rules.margin), so an account not taken over is at or above
        # zero, solvent at its fill: the same outcomes as the branch below, without the market
        # rule's resolve, which it cannot reach; the symbolic step builds one resolve a turn, not two
        # (docs/solver-notes.md#hyperliquids-sweep-invariant-session-20; tests/rules/test_takeover_branch.py)
        return ctx.branch(
            is_taken_over(rule, e, mm),
            lambda c: _liquidate(taken, c, name),
            lambda c: _liquidate_solvent(policy, c, name),
        )
    return ctx.branch(
        is_taken_over(rule, e, mm),
        lambda c: _liquidate(taken, c, name),
        lambda c: _liquidate(policy, c, name),
    )


def _below_zero_is_taken_over(policy: Policy, ctx: Ctx) -> bool:
    """Whether, under a takeover threshold, an account's close at its fill is bankrupt exactly when
    its equity is below zero, on either rule: one market, no collateral assets, the market close
    at the mark (no slippage) and closed whole (no shortage-sized order)."""
    rule = policy.liquidation
    simple = rule.slippage_ppm == 0 and rule.shortage_buffer_ppm is None and rule.order is not Order.COLLATERAL_FIRST
    return simple and not ctx.book_field("more_markets") and not ctx.book_field("assets")


def _liquidate_solvent(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    """:func:`_liquidate` of an account at or above zero at its fill (one market, no assets: see
    :func:`_below_zero_is_taken_over`): noted, then closed solvent; its resolve is not reached."""
    account = ctx.account(name)
    ctx = note_liquidated(
        ctx,
        name,
        margin_equity(policy, ctx.book_field("assets"), account),
        _maintenance(policy, ctx, account),
        fill_price(policy.liquidation, account, ctx.market.mark_quote),
    )
    return _close_solvent(policy, ctx, name)


def _maintenance(policy: Policy, ctx: Ctx, account: Any) -> Any:
    """The account's maintenance margin over every market of the book (cross margin)."""
    return account_maintenance(
        policy.margin,
        policy.rounding,
        account,
        ctx.market.mark_quote,
        ctx.book_field("more_markets"),
        policy.more_margins,
    )


def _triggered(policy: Policy, ctx: Ctx, name: str) -> Any:
    """The account holds a position and is below (or at) its maintenance over every market."""
    a = ctx.account(name)
    e = margin_equity(policy, ctx.book_field("assets"), a)
    return is_triggered(policy.liquidation, e, _maintenance(policy, ctx, a), open_lots(a))


def _liquidate(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    rule = policy.liquidation
    account = ctx.account(name)
    mark = ctx.market.mark_quote
    ctx = note_liquidated(
        ctx,
        name,
        margin_equity(policy, ctx.book_field("assets"), account),
        _maintenance(policy, ctx, account),
        fill_price(rule, account, mark),
    )
    if rule.order is Order.COLLATERAL_FIRST:
        return _collateral_first(policy, ctx, name)
    if rule.order is Order.ALL_AT_ONCE or not ctx.book_field("more_markets"):
        return _close_all(policy, ctx, name)
    # one market at a time, in the policy's order, while the account's cash pays every slippage
    # (with less, collateral is sold and the account closed all at once, as before)
    slippage = sum_(
        abs_(p.size_lots) * slip_per_lot(rule, m.mark_quote)
        for p, m in zip(account.positions, ctx.book.markets, strict=True)
    )
    return ctx.branch(
        equity(policy.margin, account) - slippage >= 0,
        lambda c: convert_spot(
            policy.margin, close_in_order(policy, c, name, lambda c2: _triggered(policy, c2, name)), name
        ),
        lambda c: _close_all(policy, c, name),
    )


def _collateral_first(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    """``liquidation.order = "collateral_first"``: the account's collateral sold as far as its
    liability (negative cash), then, if the whole account is still below maintenance, every
    position closed at once (Bybit's Unified Trading Account repays liabilities from the account's
    assets before reducing positions)."""
    if not ctx.book_field("assets"):
        return _close_all(policy, ctx, name)
    ctx = sell_collateral(policy, ctx, name, max_(-ctx.account(name).cash_quote, 0))
    return ctx.branch(_triggered(policy, ctx, name), lambda c: _close_all(policy, c, name))


def _close_all(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    """Every position of ``name`` closed: the other markets' into the book, collateral sold as far
    as owed, then the market that moved, solvent or down the waterfall. Where the policy splits a
    deficit between markets (``[waterfall] deficit_split``, dYdX v4), an account below zero at the
    mark is resolved market by market for its shares (``rules.deficit_split``)."""
    if policy.waterfall.by_maintenance and ctx.book_field("more_markets"):
        below_zero = equity(policy.margin, ctx.account(name)) < 0  # fills at the mark (validated)
        return ctx.branch(
            below_zero, lambda c: deficit_split.resolve(policy, c, name), lambda c: _close_each(policy, c, name)
        )
    return _close_each(policy, ctx, name)


def _close_each(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    if ctx.book_field("more_markets"):
        ctx = close_other_markets(policy, ctx, name)
    if policy.liquidation.shortage_buffer_ppm is None:
        return _close_whole(policy, ctx, name)
    # Drift's liquidate_perp: one order sized to the shortage on the account as it stands; an
    # order short of the whole position touches no spot balance (controller/liquidation.rs:
    # collateral and borrows move only in liquidate_spot, liquidate_perp_pnl_for_deposit and
    # liquidate_borrow_for_perp_pnl, the last two once the perp's base is 0)
    lots = _shortage_lots(policy, ctx, name)
    return ctx.branch(
        lots < abs_(ctx.account(name).size_lots),
        lambda c: _close_part(policy, c, name, lots),
        lambda c: _close_whole(policy, c, name),
    )


def _close_whole(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    """The whole position closed: collateral sold and borrows repaid first as far as the account
    would owe once closed, then solvent into the book or bankrupt down the waterfall."""
    rule = policy.liquidation
    mark = ctx.market.mark_quote
    ctx = settle_collateral(policy, ctx, name)  # collateral sold, borrows repaid (a book with assets)
    account = ctx.account(name)
    e = equity(policy.margin, account)
    bankrupt = e - abs_(account.size_lots) * slip_per_lot(rule, mark) < 0
    return ctx.branch(bankrupt, lambda c: resolve(policy, c, name), lambda c: _close_solvent(policy, c, name))


def _close_part(policy: Policy, ctx: Ctx, name: str, lots: Any) -> Ctx:
    """Drift's sized order short of the whole position (``liquidation.shortage_buffer_ppm``): the
    lots into the book, the penalty capped by what the account holds at its margin weights
    (Drift's total collateral, its deposits counted), and nothing else: no collateral sold, no
    borrow repaid, no bankruptcy (Drift's user is bankrupt only with no base left,
    math/bankruptcy.rs)."""
    assets = ctx.book_field("assets")
    closer = close_against_side if shrinks_opposing_side(policy) else None
    capital = fee_from_capital(policy)

    def eq(a: Any) -> Any:
        return margin_equity(policy, assets, a)

    ctx = close_step(policy.liquidation, policy.rounding.fee, ctx, name, lots, eq, closer, from_capital=capital)
    return convert_spot(policy.margin, ctx, name)


def _close_solvent(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    rule = policy.liquidation
    size = ctx.account(name).size_lots
    # percolator Gen B: the opposing side takes the lots pro rata (rules.side_index), not the book
    closer = close_against_side if shrinks_opposing_side(policy) else None
    capital = fee_from_capital(policy)

    def eq(a: Any) -> Any:
        return equity(policy.margin, a)

    def close_rest(c: Ctx) -> Ctx:
        return close_step(
            rule, policy.rounding.fee, c, name, abs_(c.account(name).size_lots), eq, closer, from_capital=capital
        )

    if rule.partial_above_notional_quote is not None:
        # Hyperliquid: one order this event, a share of a large position; the rest waits
        lots = order_lots(rule, ctx.account(name).size_lots, ctx.market.mark_quote)
        ctx = close_step(rule, policy.rounding.fee, ctx, name, lots, eq, closer, from_capital=capital)
    elif rule.partial_close_ppm < PPM:
        first = min_(partial_lots(rule, ctx.account(name).size_lots), abs_(ctx.account(name).size_lots))
        ctx = close_step(rule, policy.rounding.fee, ctx, name, first, eq, closer, from_capital=capital)
        a = ctx.account(name)
        mm = _maintenance(policy, ctx, a)
        e = margin_equity(policy, ctx.book_field("assets"), a)
        ctx = ctx.branch(is_triggered(rule, e, mm, a.size_lots), close_rest)
    else:
        ctx = close_rest(ctx)
    ctx = convert_spot(policy.margin, ctx, name)
    if rule.fee_to_close and rule.execution is Execution.BANKRUPTCY and policy.fees.taker_ppm:
        # Bybit: the bankruptcy price includes the fee to close, paid from the margin left
        fee = fee_to_close(
            policy.fees.taker_ppm,
            abs_(size),
            size > 0,
            ctx.market.mark_quote,
            ctx.account(name).cash_quote,
            policy.rounding.fee,
        )
        ctx = ctx.transfer(name, ctx.system(Role.FEE_ACCOUNT), fee, Reason.TRADING_FEE)
    return hand_over_surplus(rule, ctx, name)


def _shortage_lots(policy: Policy, ctx: Ctx, name: str) -> Any:
    """Lots of ``name``'s position that cover its margin shortage plus the buffer
    (``liquidation.shortage_buffer_ppm``, Drift's ``liquidate_perp``), on the whole account's
    maintenance and equity, the buffer on every open position's notional."""
    rule, a, mark = policy.liquidation, ctx.account(name), ctx.market.mark_quote
    notional = abs_(a.size_lots) * mark + sum_(
        abs_(p.size_lots) * m.mark_quote for p, m in zip(a.more_positions, ctx.book_field("more_markets"), strict=True)
    )
    e = margin_equity(policy, ctx.book_field("assets"), a)
    shortage = shortage_quote(rule, e, _maintenance(policy, ctx, a), notional)
    return shortage_lots(rule, a.size_lots, mark, maintenance_rate(policy.margin, a.size_lots, mark), shortage)


def sweep(policy: Policy, ctx: Ctx) -> Ctx:
    """Liquidate, in book order, every trader whose equity is below maintenance; first, where the
    insurance fund holds what it took over, it closes its share of that into the book. On a book
    with collateral assets a trader left holding no position whose loan has reached its
    collateral's weighted value has the collateral sold as far as owed (``assets.exchange_loan``);
    a loan the whole collateral did not cover goes down the waterfall (``bankruptcy.resolve_loan``),
    once: the account holds no collateral after, so a later sweep does not resolve it again. A fund
    or vault that holds a position below zero is deleveraged first (``pool_bankruptcy``)."""
    ctx = before_turns(policy, ctx)
    seen, outcomes = _turn_starts.get(), _turn_outcomes.get()
    for name in [a.name for a in ctx.book.traders]:
        if seen is not None:
            seen.append((name, ctx.book))
        if outcomes is not None:
            outcomes.append(ctx.outcomes)
        ctx = liquidation_turn(policy, ctx, name)
    return ctx


#: where set, each sweep's turns are appended to it (:func:`turn_starts_recorded`)
_turn_starts: ContextVar[list[tuple[str, Book]] | None] = ContextVar("solvent_turn_starts", default=None)


#: where set, the outcomes of the step so far at each of a sweep's turns (:func:`turn_outcomes_recorded`)
_turn_outcomes: ContextVar[list[tuple[Any, ...]] | None] = ContextVar("solvent_turn_outcomes", default=None)


@contextmanager
def turn_outcomes_recorded() -> Iterator[list[tuple[Any, ...]]]:
    """Within the block, the step's outcomes so far at the start of each turn of every sweep (the
    same order as :func:`turn_starts_recorded`'s books). A turn on a deposit-cutting policy's asset
    book reads them (``bankruptcy.sunk_by_turn``: at most once per account in a step), so
    ``solver.fund_facts`` instantiates its turn lemma's earlier resolutions on them. Only appended to."""
    seen: list[tuple[Any, ...]] = []
    token = _turn_outcomes.set(seen)
    try:
        yield seen
    finally:
        _turn_outcomes.reset(token)


@contextmanager
def turn_starts_recorded() -> Iterator[list[tuple[str, Book]]]:
    """Within the block, each turn of every sweep is recorded in the list yielded: the trader and
    the book its turn starts from, in sweep order. The step itself is unchanged (the list is only
    appended to): ``solver.story`` keeps them so that a fact about one turn is instantiated on the
    books the step's own sweep reached, not on books built a second time (``solver.fund_facts``)."""
    seen: list[tuple[str, Book]] = []
    token = _turn_starts.set(seen)
    try:
        yield seen
    finally:
        _turn_starts.reset(token)


def before_turns(policy: Policy, ctx: Ctx) -> Ctx:
    """What the sweep does before the traders' turns: a fund or vault that holds a position below
    zero is deleveraged (``pool_bankruptcy``), then the fund closes its share of what it took over
    into the book."""
    return unwind_fund(policy.liquidation, deleverage_pools(policy, ctx))


def liquidation_turn(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    """One trader's turn in the sweep (its touch): its spot converted as its margin mode says,
    liquidated if below (or at) maintenance, and on a book with collateral assets, a flat account's
    loan that has reached its collateral's weighted value exchanged; then, on a book with collateral
    assets under a policy whose lent asset cuts the deposit index, every other trader the turn sank
    below zero (a depositor the cut of this trader's unpaid borrow sank, flat or not) resolved in
    turn (``bankruptcy.resolve_sunk``, session 30); last, on percolator Gen B, its
    negative remainder written off if it holds no position (``bankruptcy.write_off``, spec v11.11
    §7.3, §10.1 step 10). The sweep runs it for every trader in book order (``solver.per_account``
    checks what one turn reads and writes)."""
    was = standing(policy, ctx, name)  # the others at or above zero (a deposit-cutting policy's asset book)
    ctx = convert_spot(policy.margin, ctx, name)
    ctx = ctx.branch(_triggered(policy, ctx, name), lambda c: liquidate(policy, c, name))
    if ctx.book_field("assets"):  # a flat account's loan at its collateral's weighted value
        a = ctx.account(name)
        due = and_(open_lots(a) == 0, loan_due(policy, ctx.book_field("assets"), a))
        ctx = ctx.branch(due, lambda c: _exchange_loan(policy, c, name))
    ctx = resolve_sunk(policy, ctx, name, was)  # a depositor the turn's deposit-index cut sank (session 30)
    return write_off(policy, ctx, name)


def _exchange_loan(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    """Auto exchange of a flat account's loan; what the collateral it held could not cover is bad
    debt for the waterfall. On a lending policy its borrows count in what it owes and are repaid
    with its cash, what that leaves going down each lent asset's own waterfall
    (``lending.settle_borrows``). What the waterfall leaves it owing in settlement cash goes to the
    settlement currency's own bankruptcy where the policy declares one (``[settlement]``,
    ``lending.cover_settlement_borrow``; nothing otherwise): a flat borrower of USDC whose collateral
    an oracle gap took below its loan is a spot bankruptcy of the USDC market on Drift and Mango, as a
    depositor the cut sank is (session 32: docs/model.md#a-flat-borrowers-settlement-debt-session-32)."""
    held = holds_collateral(policy, ctx.book_field("assets"), ctx.account(name))
    if lends_any(policy):
        borrowed = borrowed_value(policy, ctx.book_field("assets"), ctx.account(name).asset_balances)
        ctx = exchange_loan(policy, ctx, name, borrowed)
        ctx = settle_borrows(policy, ctx, name, ctx.account(name).cash_quote)
    else:
        ctx = exchange_loan(policy, ctx, name)
    unbacked = and_(held, ctx.account(name).cash_quote < 0)
    return ctx.branch(unbacked, lambda c: cover_settlement_borrow(policy, resolve_loan(policy, c, name), name))


def after_sweep(policy: Policy, ctx: Ctx) -> Ctx:
    """What runs once the sweep is done: the PnL-to-pool ADL, if the policy has one."""
    rule = policy.pnl_to_pool_adl
    if rule is None:
        return ctx
    return reduce_profits(rule, policy.margin, policy.rounding, ctx)


def _sample_fund(policy: Policy, book: Book) -> Book:
    layer = policy.adl
    if layer is None or layer.fund_drawdown is None:
        return book
    return sample(layer.fund_drawdown, book)


def transition(policy: Policy, book: Book, event: Event) -> Ctx:
    """The semantics of one event, on either interpreter. Requirements are not checked here.

    An event on a market other than the book's first runs on the book focused on it
    (``Book.focused``): the same rules, with that market in first place, and the book turned back
    after. A trade of an account that holds the market isolated is its isolated position's
    (``rules.isolated.route``); a book holding one market both cross and isolated for one trader
    is refused (``rules.isolated.check_one_mode``)."""
    book = insurance_claim.shaped_for(policy, book)
    event = route(book, event)
    check_scope(policy.waterfall, book)
    check_one_mode(book)
    index = market_of(book, event)
    lead = policy.fund_of(index) if book.funds_per_market else index
    if index == 0:
        return _transition(policy, book, event)
    ctx = _transition(policy.focused(index), focused_on(book, index, lead), event)
    # a fund kept per market (or per group): what the focused step paid to or from "the insurance
    # fund" was the fund of market ``index``'s group, and the ledger says so (rules.market_funds)
    return ctx.with_book(unfocused(ctx.book, index, lead)).renamed(renamed_in_market(book, lead))


def opening(policy: Policy, book: Book) -> Ctx:
    """The context every event starts from: the clawback window opened where it has lapsed, the
    insurance fund's drawdown sampled for an ADL that watches it, and a linearly released reserve's
    slot of it matured (percolator Gen B). No mark has moved in it yet (``Ctx.mark_moved``: only a
    mark move's settlement moves one)."""
    start = _sample_fund(policy, open_window(policy.layer(Clawback), book))
    return release_reserves(policy, Ctx(start, moved=False))


def settle(policy: Policy, ctx: Ctx, event: MarkPrice | AssetPrice | Funding) -> Ctx:
    """What a price or funding event does before the sweep: every position settled to the new
    mark, a collateral asset's oracle price moved, or funding paid between longs and shorts."""
    if isinstance(event, MarkPrice):
        return settle_mark(ctx, event.price_quote)
    if isinstance(event, AssetPrice):
        return _asset_price(ctx, event)
    return pay_funding(ctx, event.rate_ppm, policy.rounding.funding, policy.rounding.funding_remainder)


def closing(policy: Policy, ctx: Ctx) -> Ctx:
    """What ends every event: realized losses re-based into capital (percolator) and the clock."""
    ctx = settle_losses(policy, ctx)
    return ctx.evolve_book(clock=ctx.book_field("clock") + 1)


def _transition(policy: Policy, book: Book, event: Event) -> Ctx:
    ctx = opening(policy, book)
    if isinstance(event, Deposit):
        ctx = _deposit(policy, ctx, event)
    elif isinstance(event, SpotDeposit):
        ctx = _spot_deposit(policy, ctx, event)
    elif isinstance(event, Withdraw):
        ctx = _withdraw(ctx, event)
    elif isinstance(event, Trade):
        ctx = _trade(policy, ctx, event)
    elif isinstance(event, (MarkPrice, AssetPrice, Funding)):
        ctx = after_sweep(policy, sweep(policy, settle(policy, ctx, event)))
    elif isinstance(event, AssetDeposit):
        ctx = _asset_deposit(ctx, event)
    elif isinstance(event, AssetWithdraw):
        ctx = _asset_withdraw(policy, ctx, event)
    elif isinstance(event, MARGIN_EVENTS):
        ctx = move_isolated_margin(ctx, event)
    elif isinstance(event, InterestAccrual):
        ctx = after_sweep(
            policy, sweep(policy, accrue_interest(policy, ctx, event.asset, event.rate_ppm, event.seconds))
        )
    elif isinstance(event, FinalSettlement):
        # no sweep: a market in final settlement allows no liquidation (rules.final_settlement)
        ctx = settle_final(policy, settle_mark(ctx, event.price_quote))
    else:
        raise TypeError(f"not an event: {event!r}")
    return closing(policy, ctx)


def step(policy: Policy, book: Book, event: Event) -> Step:
    """Apply one event concretely; a bad event raises :class:`RejectedEvent` and changes nothing."""
    _check_names(book, event)
    for req in requirements(policy, book, event):
        if not req.holds:
            raise RejectedEvent(event, req.message)
    ctx = transition(policy, book, event)
    for req in post_requirements(policy, book, ctx.book, event):
        if not req.holds:
            raise RejectedEvent(event, req.message)
    return Step(
        before=book,
        event=event,
        after=ctx.book,
        transfers=tuple(e.item for e in ctx.entries),
        outcomes=tuple(o.item for o in ctx.outcomes),
    )


def run(policy: Policy, book: Book, events: list[Event] | tuple[Event, ...]) -> list[Step]:
    """Apply events in order; returns every step (raises on the first rejected event)."""
    steps = []
    for event in events:
        s = step(policy, book, event)
        steps.append(s)
        book = s.after
    return steps


__all__ = [
    "RejectedEvent",
    "Requirement",
    "Step",
    "before_turns",
    "closing",
    "liquidation_turn",
    "market_of",
    "opening",
    "post_requirements",
    "requirements",
    "run",
    "settle",
    "step",
    "transition",
]

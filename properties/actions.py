"""State-relative actions: what a trader means to do, turned into a concrete event on the current book.

Search draws actions, not events: "Alice opens at 80% of the leverage she can afford against Bob",
"the mark gaps down 35%". Each is resolved against the book it meets into one concrete event that
the policy accepts (or into nothing). docs/solver-notes.md#hypothesis-search-speed measured this: state-relative sizes found a
negative balance twice as fast as absolute sizes, and generators that respect the book's own
constraints never report a precondition as a policy bug. A finding is always reported as the
concrete events, so it replays exactly without the actions.
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.arith import PPM, Rounding, div, mul_ppm
from solvent.rules.assets import margin_equity
from solvent.rules.book import Book, Role, on_tick
from solvent.rules.events import (
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
from solvent.rules.fields import python_repr
from solvent.rules.lending import lent_rule
from solvent.rules.margin import account_initial_margin
from solvent.rules.policy import Policy
from solvent.rules.rate_curve import SECONDS_PER_YEAR
from solvent.rules.settlement import funding_cap_ppm

MAX_LOTS = 1_000_000

#: ppm in one basis point. Mark moves and trade premiums are ppm of the mark, drawn in whole
#: basis points (a 100 ppm grid, ``strategies``) and turned into ppm where the action is built, with no strategy
#: in between: the draws, and so the stories a seed gives, are the ones drawn when actions were
#: stated in basis points (a ``.map`` would add a span to every draw and change them).
PPM_PER_BP = 100
#: The order book's depth, the first deposit of every drawn story: enough to take any liquidated position.
LIQUIDITY_QUOTE = 10**12


@python_repr
@attrs.frozen
class Pay:
    """Trader ``who`` deposits ``amount_quote``."""

    who: int
    amount_quote: int


@python_repr
@attrs.frozen
class SeedFund:
    """Someone tops up the insurance fund (or the backstop vault) by ``amount_quote``."""

    amount_quote: int
    vault: bool = False


@python_repr
@attrs.frozen
class PaySpot:
    """Trader ``who`` deposits ``amount_quote`` to its spot balance."""

    who: int
    amount_quote: int


@python_repr
@attrs.frozen
class Open:
    """``buyer`` buys from ``seller`` ``use_pct``% of the most both can afford (at least one lot), ``premium_ppm`` off mark."""

    buyer: int
    seller: int
    use_pct: int
    premium_ppm: int = 0
    taker_is_buyer: bool = True


@python_repr
@attrs.frozen
class Close:
    """``who`` closes ``fraction_ppm`` of its position against trader ``against``."""

    who: int
    against: int
    fraction_ppm: int


@python_repr
@attrs.frozen
class Move:
    """The mark moves by ``move_ppm`` of itself (−990,000 … +5,000,000 ppm): a tick, a gap or a spike."""

    move_ppm: int


@python_repr
@attrs.frozen
class Delist:
    """The market is delisted at a settlement price ``move_ppm`` of the mark away from it: a
    ``FinalSettlement`` (drawn only for a policy whose venue settles that way,
    ``liquidation.final_settlement``)."""

    move_ppm: int


@python_repr
@attrs.frozen
class PayFunding:
    """A funding payment at ``rate_ppm``."""

    rate_ppm: int


@python_repr
@attrs.frozen
class TakeProfit:
    """``who`` takes a profit and goes flat: the mark moves ``move_ppm`` of itself in its favour,
    then it closes its whole position against trader ``against``. Two events; stories that need
    an account that profited and went flat (``flat-accounts-never-pay``) rarely meet the pair by
    chance (a favourable move, then a close of exactly the whole position)."""

    who: int
    against: int
    move_ppm: int


@python_repr
@attrs.frozen
class Take:
    """``who`` withdraws ``fraction_ppm`` of what it may withdraw."""

    who: int
    fraction_ppm: int


@python_repr
@attrs.frozen
class InMarket:
    """``action`` in the book's market number ``market`` (counted from 0, modulo the markets the
    book has): resolved on the book focused on that market, its trade, move or funding tagged with
    the market's name (docs/portfolio.md)."""

    market: int
    action: Any


@python_repr
@attrs.frozen
class PayAsset:
    """Trader ``who`` deposits ``amount`` quanta of the book's collateral asset number ``asset``
    (counted from 0, modulo the book's assets; docs/portfolio.md decision 2)."""

    who: int
    asset: int
    amount: int


@python_repr
@attrs.frozen
class MoveAsset:
    """The oracle price of the book's collateral asset number ``asset`` moves by ``move_ppm`` of
    itself (at least one quantum): a drift, or a depeg."""

    asset: int
    move_ppm: int


@python_repr
@attrs.frozen
class TakeAsset:
    """``who`` withdraws ``fraction_ppm`` of its balance of collateral asset number ``asset``
    (the engine refuses what would leave its initial margin uncovered)."""

    who: int
    asset: int
    fraction_ppm: int


@python_repr
@attrs.frozen
class BorrowAsset:
    """``who`` withdraws ``fraction_ppm`` of what the venue holds of collateral asset number
    ``asset`` (its net deposits): beyond its own balance, a borrow of a lent asset
    (rules/lending.py; the engine refuses what the asset's table or initial margin does not allow)."""

    who: int
    asset: int
    fraction_ppm: int


@python_repr
@attrs.frozen
class AccrueInterest:
    """One interest step of collateral asset number ``asset`` (``InterestAccrual``): ``size`` is the
    step's rate in ppm for an asset without a rate curve, and the minutes it accrues for at the
    curve's rate for one with (``size × 60`` seconds: up to 139 days for the search's draws)."""

    asset: int
    size: int


@python_repr
@attrs.frozen
class MoveMargin:
    """``who`` moves ``fraction_ppm`` of what it may move into (``add``) or out of its isolated
    position in the market the action is in (:class:`InMarket`; nothing without one): into it, a
    share of its cross free margin; out of it, a share of what exceeds the position's initial
    margin (docs/portfolio.md decision 3a)."""

    who: int
    fraction_ppm: int
    add: bool = True


Action = (
    Pay
    | SeedFund
    | PaySpot
    | Open
    | Close
    | Move
    | Delist
    | PayFunding
    | Take
    | TakeProfit
    | InMarket
    | PayAsset
    | MoveAsset
    | TakeAsset
    | BorrowAsset
    | AccrueInterest
    | MoveMargin
)


def _trader(book: Book, index: int) -> str:
    """The trader at ``index`` (modulo), counting accounts of their own: an isolated position is
    reached through its owner (a trade of the owner in its market is routed to it)."""
    traders = [a for a in book.traders if not a.owner] if book.has_isolated else book.traders
    return traders[index % len(traders)].name


def _holder(book: Book, name: str) -> str:
    """The account that holds ``name``'s position in the book's (focused) market: its isolated
    position there, or itself (``rules.isolated.route``)."""
    return book.isolated_account(name, book.market.name) or name


def _free(policy: Policy, book: Book, name: str) -> int:
    """What ``name`` may take out: its cash, at most its equity less the initial margin of its positions."""
    account = book.account(name)
    free = margin_equity(policy, book.assets, account, initial=True) - account_initial_margin(
        policy.margin, policy.rounding, account, book.market.mark_quote, book.more_markets, policy.more_margins
    )
    return min(free, account.cash_quote)


def _to_tick_grid(book: Book, price: int) -> int:
    """``price`` rounded down onto the book's tick grid and at least one tick: a price the engine accepts."""
    tick = book.market.tick_quote
    return max(tick, on_tick(price, tick, rounding=Rounding.FLOOR))


def _affordable(policy: Policy, book: Book, name: str, lots_delta: int, price: int, fee_ppm: int) -> bool:
    """Whether ``name`` still meets initial margin after trading ``lots_delta`` at ``price``
    (with its positions in the book's other markets, which need theirs too)."""
    account = book.account(name)
    mark = book.market.mark_quote
    size = account.size_lots + lots_delta
    fee = mul_ppm(abs(lots_delta) * price, fee_ppm, rounding=policy.rounding.fee)
    after = margin_equity(policy, book.assets, account, initial=True) - lots_delta * (price - mark) - fee
    if abs(size) <= abs(account.size_lots):
        return True
    moved = attrs.evolve(account, size_lots=size)
    return after >= account_initial_margin(
        policy.margin, policy.rounding, moved, mark, book.more_markets, policy.more_margins
    )


def max_lots(policy: Policy, book: Book, buyer: str, seller: str, price: int, taker_is_buyer: bool) -> int:
    """The most lots both sides can trade at ``price`` and still meet initial margin (binary search)."""
    fees = policy.fees
    buyer_fee, seller_fee = (fees.taker_ppm, fees.maker_ppm) if taker_is_buyer else (fees.maker_ppm, fees.taker_ppm)

    def ok(lots: int) -> bool:
        return _affordable(policy, book, buyer, lots, price, buyer_fee) and _affordable(
            policy, book, seller, -lots, price, seller_fee
        )

    low, high = 0, MAX_LOTS
    while low < high:
        mid = (low + high + 1) // 2
        if ok(mid):
            low = mid
        else:
            high = mid - 1
    return low


def steps_of(action: Action) -> tuple[Action, ...]:
    """The one-event actions an action stands for, in order (a take-profit is a move, then a close)."""
    if isinstance(action, InMarket):
        return tuple(InMarket(action.market, one) for one in steps_of(action.action))
    if isinstance(action, TakeProfit):
        return (_Favour(action.who, action.move_ppm), Close(action.who, action.against, PPM))
    return (action,)


@attrs.frozen
class _Favour:
    """The mark moves ``move_ppm`` of itself in the direction that pays trader ``who``'s position."""

    who: int
    move_ppm: int


def _favour(book: Book, action: _Favour) -> Event | None:
    size = book.account(_holder(book, _trader(book, action.who))).size_lots
    mark = book.market.mark_quote
    move_ppm = action.move_ppm if size > 0 else -action.move_ppm
    price = _to_tick_grid(book, mark + mul_ppm(mark, move_ppm, rounding=Rounding.FLOOR))
    return MarkPrice(price) if size != 0 and price != mark else None


def resolve(policy: Policy, book: Book, action: Action) -> Event | None:
    """The concrete event ``action`` means on ``book``, or None when it means nothing here."""
    if isinstance(action, InMarket):
        index = action.market % len(book.markets)
        event = resolve(policy.focused(index), book.focused(index), action.action)
        if index == 0 or event is None or not hasattr(event, "market"):
            return event
        if isinstance(event, Deposit) and book.account(event.account).role is not Role.INSURANCE_FUND:
            return event  # a deposit names a market only to fill that market's insurance fund
        return attrs.evolve(event, market=book.markets[index].name)
    mark = book.market.mark_quote
    if isinstance(action, Pay):
        return Deposit(_trader(book, action.who), action.amount_quote)
    if isinstance(action, SeedFund):
        return Deposit("backstop_vault" if action.vault else "insurance_fund", action.amount_quote)
    if isinstance(action, PaySpot):
        return SpotDeposit(_trader(book, action.who), action.amount_quote)
    if isinstance(action, Open):
        buyer, seller = _trader(book, action.buyer), _trader(book, action.seller)
        if buyer == seller:
            return None
        price = _to_tick_grid(book, mark + mul_ppm(mark, action.premium_ppm, rounding=Rounding.FLOOR))
        most = max_lots(policy, book, _holder(book, buyer), _holder(book, seller), price, action.taker_is_buyer)
        lots = div(most * action.use_pct, 100, rounding=Rounding.CEIL)
        if lots <= 0:
            return None
        return Trade(buyer, seller, lots, price, Taker.BUYER if action.taker_is_buyer else Taker.SELLER)
    if isinstance(action, Close):
        who, against = _trader(book, action.who), _trader(book, action.against)
        size = book.account(_holder(book, who)).size_lots
        lots = mul_ppm(abs(size), action.fraction_ppm, rounding=Rounding.CEIL)
        if who == against or lots == 0:
            return None
        buyer, seller = (against, who) if size > 0 else (who, against)
        return Trade(buyer, seller, lots, mark, Taker.BUYER if buyer == who else Taker.SELLER)
    if isinstance(action, Move):
        price = _to_tick_grid(book, mark + mul_ppm(mark, action.move_ppm, rounding=Rounding.FLOOR))
        return MarkPrice(price) if price != mark else None
    if isinstance(action, Delist):
        return FinalSettlement(_to_tick_grid(book, mark + mul_ppm(mark, action.move_ppm, rounding=Rounding.FLOOR)))
    if isinstance(action, PayFunding):
        # within the venue's cap (``[funding] max_rate_ppm``): a rate beyond it is not its event
        cap = funding_cap_ppm(policy)
        rate = max(-cap, min(cap, action.rate_ppm))
        return Funding(rate) if rate else None
    if isinstance(action, _Favour):
        return _favour(book, action)
    if isinstance(action, Take):
        name = _trader(book, action.who)
        amount = mul_ppm(_free(policy, book, name), action.fraction_ppm, rounding=Rounding.FLOOR)
        return Withdraw(name, amount) if amount > 0 and book.account(name).debt_quote == 0 else None
    if isinstance(action, MoveMargin):
        owner = _trader(book, action.who)
        position = book.isolated_account(owner, book.market.name)
        if position is None:
            return None
        amount = mul_ppm(
            _free(policy, book, owner if action.add else position), action.fraction_ppm, rounding=Rounding.FLOOR
        )
        if amount <= 0:
            return None
        return AddMargin(owner, amount) if action.add else RemoveMargin(owner, amount)
    if isinstance(action, (PayAsset, MoveAsset, TakeAsset, BorrowAsset, AccrueInterest)):
        return _asset_event(policy, book, action)
    raise TypeError(f"not an action: {action!r}")


def _asset_event(
    policy: Policy, book: Book, action: PayAsset | MoveAsset | TakeAsset | BorrowAsset | AccrueInterest
) -> Event | None:
    """The event an action on a collateral asset means (None on a book without assets)."""
    if not book.assets:
        return None
    asset = book.assets[action.asset % len(book.assets)]
    if isinstance(action, AccrueInterest):
        rule = lent_rule(policy, asset.name)
        if rule is not None and rule.rate_curve:
            return InterestAccrual(asset.name, seconds=min(action.size * 60, SECONDS_PER_YEAR))
        return InterestAccrual(asset.name, action.size)
    if isinstance(action, BorrowAsset):
        amount = mul_ppm(max(asset.net_deposits, 0), action.fraction_ppm, rounding=Rounding.FLOOR)
        return AssetWithdraw(_trader(book, action.who), asset.name, amount) if amount > 0 else None
    if isinstance(action, PayAsset):
        return AssetDeposit(_trader(book, action.who), asset.name, action.amount)
    if isinstance(action, MoveAsset):
        price = max(1, asset.price_quote + mul_ppm(asset.price_quote, action.move_ppm, rounding=Rounding.FLOOR))
        return AssetPrice(asset.name, price) if price != asset.price_quote else None
    name = _trader(book, action.who)
    held = book.account(name).asset_balances[book.asset_index(asset.name)]
    amount = mul_ppm(held, action.fraction_ppm, rounding=Rounding.FLOOR)
    return AssetWithdraw(name, asset.name, amount) if amount > 0 else None


__all__: list[Any] = [
    "AccrueInterest",
    "Action",
    "BorrowAsset",
    "Close",
    "InMarket",
    "Move",
    "MoveAsset",
    "Open",
    "Pay",
    "PayAsset",
    "PayFunding",
    "PaySpot",
    "SeedFund",
    "Take",
    "TakeAsset",
    "TakeProfit",
    "max_lots",
    "resolve",
    "steps_of",
    "PPM",
]

"""Whose insurance fund pays: one fund for every market (pooled) or a fund per market.

``[waterfall] scope`` (docs/portfolio.md, decision 5; docs/venues.md for each venue's rule):

- ``pooled`` (the default): one insurance fund backs every market. dYdX v4's cross markets share
  one fund module account (docs/venues.md#dydx-v4-insurance-fund), and Hyperliquid's HLP vault
  backs every market (docs/venues.md#hyperliquid-negative-balances).
- ``per_market``: each market has a fund of its own, and a deficit found in one market is paid
  by that market's fund, then by that market's ADL (or the later layers), never by another
  market's fund. Binance keeps "several funds, each for a category of contracts"
  (docs/venues.md#binance-insurance-fund), OKX one per "underlying" of its USDT perpetuals
  (docs/venues.md#okx-insurance-fund), Bybit pools "per symbol" (docs/venues.md#bybit-insurance-fund);
  Solvent's market is the finest of these (a category of one contract).
- ``per_group``: a fund per group of markets, each ``[[market]]`` table naming its group
  (``fund_group``): Binance's "category of contracts", OKX's funds kept apart by "business line,
  settlement currency and underlying". A deficit found in any market of a group is paid by the
  group's one fund, then by ADL in the market in deficit (docs/portfolio.md, decision 5b).

Where the per-market balances live: on the insurance fund's own account, one balance per market
(``Account.more_funds`` beside ``cash_quote``, the first market's), swapped by focusing exactly
as every account's positions are (``Book.focused``). So every rule that reads or pays "the
insurance fund" on a book focused on market *m* reads and pays market *m*'s fund, on the concrete
engine and under z3, without a market index in any rule. A transfer a step on market *m* makes
with the fund is written in the ledger under market *m*'s name for it, ``insurance_fund#ETH``
(:func:`fund_name`; the first market's fund keeps the name ``insurance_fund``), so the ledger
names each balance as the unfocused book holds it.

Which market a cross account's deficit belongs to (the attribution rule, ``liquidated_market``):
the market whose event found the account bankrupt. The engine closes the account's positions in
the other markets into the book first, at their liquidation fills, and resolves what is left on
the market that moved (``engine._close_all``), as Binance closes the positions it can and hands
the last one to the fund at its bankruptcy price (docs/venues.md#binance-liquidation): the loss
left at the end is the last position's, and it is that contract's fund that takes it. A collateral
asset's price move, and a flat account's loan, resolve in the book's first market. No venue page
we hold states how a cross account's deficit is split between funds; the alternative of sharing
it by each position's maintenance margin (dYdX v4's bankruptcy quote of a partial delta,
``-DNNV - TNC × |DMMR| / TMMR``, docs/venues.md#dydx-v4-deleveraging) is not built.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from solvent.rules.arith import PPM
from solvent.rules.book import Book, Role
from solvent.rules.events import Deposit
from solvent.rules.fields import enum_repr

#: ``insurance_fund#ETH``: the insurance fund's balance in market ETH, where the fund is kept per
#: market (the first market's is the fund's own name)
MARKET_FUND = "#"


class Scope(enum.Enum):
    """One insurance fund for every market, or one per market (module docstring)."""

    POOLED = "pooled"
    PER_MARKET = "per_market"
    PER_GROUP = "per_group"

    __repr__ = enum_repr


class DeficitSplit(enum.Enum):
    """Which market's waterfall a bankrupt cross account's deficit goes down (decision 5c)."""

    #: the whole deficit in the market whose event found the account (decision 5a)
    ONE_MARKET = "one_market"
    #: each market the account holds takes a share by its position's maintenance margin (dYdX v4)
    MAINTENANCE_SHARE = "maintenance_share"

    __repr__ = enum_repr


def _check_shares(_inst: Any, _attribute: Any, shares: tuple) -> None:
    for i, share in enumerate(shares):
        if type(share) is not int or not 0 <= share <= PPM:
            raise ValueError(f"'fund_shares_ppm' must hold shares between 0 and {PPM}: {share!r} (share {i})")


@attrs.frozen
class WaterfallScope:
    """``[waterfall]``: how far the deficit waterfall's insurance fund reaches."""

    #: ``pooled`` (the default): one insurance fund for every market; ``per_market``: a fund per
    #: market, a deficit paid by the fund of the market whose event found the account bankrupt and
    #: then by that market's ADL (docs/portfolio.md, decision 5); ``per_group``: a fund per group of
    #: markets, each ``[[market]]`` table naming its ``fund_group`` (decision 5b). On a one-market
    #: policy the three are the same.
    scope: Scope = attrs.field(default=Scope.POOLED, validator=attrs.validators.instance_of(Scope))
    #: With ``per_market``: each ``[[market]]`` table's share of a fund the stress scenarios and
    #: the search put in, in ppm, in the tables' order, adding up to 1,000,000 (each share rounded
    #: down, the rest to the first market). Absent: equal shares.
    fund_shares_ppm: tuple[int, ...] = attrs.field(default=(), converter=tuple, validator=_check_shares)
    #: How a bankrupt cross account's deficit is divided between its markets: ``one_market`` (the
    #: default: all of it in the market whose event found the account, docs/portfolio.md decision
    #: 5a) or ``maintenance_share`` (dYdX v4: each market's position takes ``⌈deficit × its
    #: maintenance / the maintenance of every position left⌉``, ``rounding.deficit_share``, the
    #: last the rest, each down its own market's waterfall; ``solvent.rules.deficit_split``,
    #: decision 5c)
    deficit_split: DeficitSplit = attrs.field(
        default=DeficitSplit.ONE_MARKET, validator=attrs.validators.instance_of(DeficitSplit)
    )

    def __attrs_post_init__(self) -> None:
        if self.fund_shares_ppm and self.scope is not Scope.PER_MARKET:
            raise ValueError(
                "'fund_shares_ppm' splits a fund kept per market; it needs scope = 'per_market': "
                f"{list(self.fund_shares_ppm)} @ fund_shares_ppm"
            )
        if self.fund_shares_ppm and sum(self.fund_shares_ppm) != PPM:
            raise ValueError(f"'fund_shares_ppm' must add up to {PPM:,}: {sum(self.fund_shares_ppm):,}")

    @property
    def per_market(self) -> bool:
        """Whether the book keeps a fund balance per market (``per_market``, and ``per_group``,
        whose group's fund is kept in the balance of its first market: :func:`focused_on`)."""
        return self.scope is not Scope.POOLED

    @property
    def by_maintenance(self) -> bool:
        """Whether the deficit is split between markets by maintenance share (dYdX v4)."""
        return self.deficit_split is DeficitSplit.MAINTENANCE_SHARE

    @property
    def grouped(self) -> bool:
        """Whether markets share a fund by the ``fund_group`` their tables name."""
        return self.scope is Scope.PER_GROUP


POOLED = WaterfallScope()


def fund_name(book: Book, index: int) -> str:
    """The ledger name of market ``index``'s insurance fund: the fund's own name for the first
    market (and for every market of a pooled book), ``insurance_fund#<market>`` for a further
    market's fund kept per market."""
    fund = book.role(Role.INSURANCE_FUND).name
    if index == 0 or not book.funds_per_market:
        return fund
    return f"{fund}{MARKET_FUND}{book.markets[index].name}"


def fund_balance(book: Book, index: int) -> Any:
    """The balance of market ``index``'s insurance fund (a pooled book's one fund for any index)."""
    fund = book.role(Role.INSURANCE_FUND)
    if index == 0 or not book.funds_per_market:
        return fund.cash_quote
    return fund.more_funds[index - 1]


def fund_balances(book: Book) -> tuple[Any, ...]:
    """Every market's fund balance in the book's order (one balance on a pooled book)."""
    fund = book.role(Role.INSURANCE_FUND)
    return (fund.cash_quote, *fund.more_funds)


def renamed_in_market(book: Book, index: int) -> dict[str, str]:
    """What a step run on the book focused on market ``index`` calls ``insurance_fund``, as the
    ledger names it on the book itself (``{"insurance_fund": "insurance_fund#ETH"}``); empty
    where nothing is renamed (the first market, a pooled book)."""
    if index == 0 or not book.funds_per_market:
        return {}
    return {book.role(Role.INSURANCE_FUND).name: fund_name(book, index)}


def _slot(index: int, lead: int) -> int:
    """Where market ``lead``'s fund balance stands on the book focused on market ``index``."""
    return index if lead == 0 else 0 if lead == index else lead


def _fund_first(book: Book, slot: int) -> Book:
    """``book`` with the fund balance at ``slot`` and the first one swapped, with their drawdown
    windows (a permutation of fields, the same under z3; applied twice, the book itself)."""
    if slot == 0 or not book.funds_per_market:
        return book
    i = book.index(book.role(Role.INSURANCE_FUND).name)
    fund = book.accounts[i]
    funds = list(fund.more_funds)
    funds[slot - 1], cash = fund.cash_quote, funds[slot - 1]
    changes: dict[str, Any] = {}
    if book.more_window_sums:
        sums = list(book.more_window_sums)
        sums[slot - 1], changes["insurance_window_sum_quote"] = book.insurance_window_sum_quote, sums[slot - 1]
        changes["more_window_sums"] = tuple(sums)
    moved = book.replace_account(i, attrs.evolve(fund, cash_quote=cash, more_funds=tuple(funds)))
    return moved.with_fields(**changes) if changes else moved


def focused_on(book: Book, index: int, lead: int) -> Book:
    """The book focused on market ``index`` (``Book.focused``) with the fund that pays its
    deficits standing first: the balance kept for market ``lead`` (``Policy.fund_of``: the market
    itself, or the first market of its fund group). Every rule that reads "the insurance fund"
    then reads the group's one fund, with no group index in any rule (decision 5b)."""
    return _fund_first(book.focused(index), _slot(index, lead))


def unfocused(book: Book, index: int, lead: int) -> Book:
    """The inverse of :func:`focused_on`: the book as it was before focusing."""
    return _fund_first(book, _slot(index, lead)).focused(index)


def split_fund(scope: WaterfallScope, markets: int, amount: int) -> tuple[int, ...]:
    """A fund of ``amount`` split over ``markets`` markets by ``fund_shares_ppm`` (equal shares
    where absent): each share rounded down, the rest to the first market, so the parts add up to
    ``amount`` exactly. A pooled scope, or one market: the whole fund in one part."""
    if not scope.per_market or markets < 2:
        return (amount,)
    shares = scope.fund_shares_ppm or tuple(PPM // markets for _ in range(markets))
    parts = [amount * share // PPM for share in shares]
    parts[0] += amount - sum(parts)
    return tuple(parts)


def check_scope(policy_scope: WaterfallScope, book: Book) -> None:
    """The book holds the funds the policy keeps: one per market under ``per_market`` on a book of
    several markets, one otherwise; ``ValueError`` saying which, else nothing."""
    wants = policy_scope.per_market and bool(book.more_markets)
    if wants != book.funds_per_market:
        held = "a fund per market" if book.funds_per_market else "one fund"
        raise ValueError(
            f"the policy's [waterfall] scope is '{policy_scope.scope.value}' but the book holds {held} "
            f"for its {len(book.markets)} markets (new_book(fund_per_market=...))"
        )


def shaped_for(scope: WaterfallScope, book: Book) -> Book:
    """``book`` holding the funds ``scope`` keeps: where it keeps one per market on a book of
    several markets and the book holds one, the fund holds its balance in the first market and
    nothing yet in the others (money is never split here; a deposit names the market it fills)."""
    if not scope.per_market or not book.more_markets or book.funds_per_market:
        return book
    i = book.index(book.role(Role.INSURANCE_FUND).name)
    zeros = tuple(0 for _ in book.more_markets)
    fund = attrs.evolve(book.accounts[i], more_funds=zeros)
    return book.replace_account(i, fund).with_fields(more_window_sums=zeros)


def fund_deposits(scope: WaterfallScope, book: Book, amount: int) -> list[Deposit]:
    """The deposits that put a fund of ``amount`` in: one, or one per market split by
    :func:`split_fund` (a market whose share is 0 gets none), each naming its market."""
    fund = book.role(Role.INSURANCE_FUND).name
    if not book.funds_per_market:
        return [Deposit(fund, amount)] if amount else []
    parts = split_fund(scope, len(book.markets), amount)
    return [Deposit(fund, part, market="" if k == 0 else book.markets[k].name) for k, part in enumerate(parts) if part]

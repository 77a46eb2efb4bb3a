"""Events a book undergoes. Each is a frozen value; the engine maps (policy, book, event) to a step.

Amounts, sizes, prices and rates are data fields (``solvent.rules.fields.data``): the solver may
vary them; account names and the taker side are structural."""

from __future__ import annotations

import enum
from typing import Any

import attrs

from solvent.rules.fields import data, enum_repr, python_repr


class Taker(enum.Enum):
    BUYER = "buyer"
    SELLER = "seller"

    __repr__ = enum_repr


@python_repr
@attrs.frozen
class Deposit:
    """Money in from outside the venue to an account's margin balance. ``market``: only for the
    insurance fund, the market whose fund it fills where the policy keeps a fund per market
    (``solvent.rules.market_funds``; ``""``: the book's first market, or the one pooled fund)."""

    account: str
    amount_quote: Any = data()
    market: str = ""


@python_repr
@attrs.frozen
class Withdraw:
    """Money out of an account's margin balance to outside the venue; only from free margin."""

    account: str
    amount_quote: Any = data()


@python_repr
@attrs.frozen
class SpotDeposit:
    """Money in to an account's spot balance, which is kept apart from margin."""

    account: str
    amount_quote: Any = data()


@python_repr
@attrs.frozen
class Trade:
    """``buyer`` buys ``lots`` from ``seller`` at ``price_quote`` per lot; the taker pays taker fee.
    ``market``: the market traded (``""``: the book's first)."""

    buyer: str
    seller: str
    lots: Any = data()
    price_quote: Any = data()
    taker: Taker = Taker.BUYER
    market: str = ""


@python_repr
@attrs.frozen
class MarkPrice:
    """The mark price of ``market`` (``""``: the book's first) moves; its positions settle to it,
    then the liquidation sweep runs over every account."""

    price_quote: Any = data()
    market: str = ""


@python_repr
@attrs.frozen
class FinalSettlement:
    """``market`` (``""``: the book's first) is delisted at the settlement price ``price_quote``:
    its positions settle to it, and every position is closed there (``rules.final_settlement``):
    an account below zero is deleveraged at its bankruptcy price, every other one closed against
    the opposite side at the settlement price. No liquidation runs."""

    price_quote: Any = data()
    market: str = ""


@python_repr
@attrs.frozen
class Funding:
    """A funding payment in ``market`` (``""``: the book's first): at a positive rate longs pay
    shorts ``rate × notional``, else the reverse."""

    rate_ppm: Any = data()
    market: str = ""


@python_repr
@attrs.frozen
class AssetPrice:
    """The oracle price of collateral asset ``asset`` moves to ``price_quote`` (settlement quanta
    per asset quantum); every account's collateral is valued at it, then the liquidation sweep
    runs over every account, as after a mark move (docs/portfolio.md, decision 2)."""

    asset: str
    price_quote: Any = data()


@python_repr
@attrs.frozen
class AssetDeposit:
    """``amount`` quanta of collateral asset ``asset`` in from outside the venue to an account."""

    account: str
    asset: str
    amount: Any = data()


@python_repr
@attrs.frozen
class AssetWithdraw:
    """``amount`` quanta of collateral asset ``asset`` out of an account to outside the venue; only
    what leaves the account's initial margin covered."""

    account: str
    asset: str
    amount: Any = data()


@python_repr
@attrs.frozen
class InterestAccrual:
    """One step of a lent asset's indices (``solvent.rules.lending``): every borrower of ``asset``
    pays interest on its borrow, the depositors receive it pro rata to their deposits less the
    venue's share, then the liquidation sweep runs. On an asset with a ``rate_curve`` the step
    accrues for ``seconds`` at the curve's annual rate for the book's utilization (``rate_ppm``
    None: ``InterestAccrual("SOL", seconds=3_600)``, Backpack's hourly charge); on one without,
    the step's rate is its own ``rate_ppm`` of the borrow, as a funding rate is."""

    asset: str
    rate_ppm: Any = data(default=None)
    seconds: Any = data(default=0)


@python_repr
@attrs.frozen
class AddMargin:
    """``account`` moves ``amount_quote`` of its cross cash into the margin of its isolated
    position in ``market`` (``""``: the book's first): Bybit's "Extra Margin Added" in its isolated
    liquidation price, OKX's "margin added to or reduced from this position"
    (docs/venues.md#isolated-margin, docs/portfolio.md decision 3a). The amount is positive: a
    removal is :class:`RemoveMargin`."""

    account: str
    amount_quote: Any = data()
    market: str = ""


@python_repr
@attrs.frozen
class RemoveMargin:
    """``account`` moves ``amount_quote`` out of its isolated position's margin in ``market``
    back to its cross cash; only what leaves the position's initial margin covered (Hyperliquid's
    transfer rule, docs/venues.md#isolated-margin; docs/portfolio.md decision 3a)."""

    account: str
    amount_quote: Any = data()
    market: str = ""


#: the events that move margin between an account and its isolated position
MARGIN_EVENTS = (AddMargin, RemoveMargin)


Event = (
    Deposit
    | Withdraw
    | SpotDeposit
    | Trade
    | MarkPrice
    | Funding
    | AssetPrice
    | AssetDeposit
    | AssetWithdraw
    | InterestAccrual
    | FinalSettlement
    | AddMargin
    | RemoveMargin
)

#: the events that act on a collateral asset (they name it in ``asset``)
ASSET_EVENTS = (AssetPrice, AssetDeposit, AssetWithdraw, InterestAccrual)


def omit_one_market_defaults(converter: Any) -> None:
    """Have ``converter`` (cattrs) write books and events as they were written before books had
    several markets and accounts carried a funding remainder: a book's ``more_markets``, an
    account's ``more_positions`` and ``funding_remainder_millionths`` and an event's ``market``
    are left out at their defaults (saved findings and JSON reports stay as they were; reading
    them back gives the same values, the fields' defaults). A book's ``assets`` and an account's
    ``asset_balances`` likewise: a book with no collateral asset is written as before."""
    from cattrs.gen import make_dict_unstructure_fn, override

    from solvent.rules.book import Account, Asset, Book, Market
    from solvent.rules.outcomes import AdlFill, LayerUsed, Liquidated

    later = {
        Account: (
            "more_positions",
            "funding_remainder_millionths",
            "asset_balances",
            "owner",
            "isolated_market",
            "more_funds",
            "reserve_slope_quote",
        ),
        Asset: ("deposit_index", "borrow_index"),
        Market: ("fund_settled_quote",),
        Book: ("more_markets", "assets", "more_window_sums"),
        Deposit: ("market",),
        Trade: ("market",),
        MarkPrice: ("market",),
        Funding: ("market",),
        FinalSettlement: ("market",),
        AddMargin: ("market",),
        RemoveMargin: ("market",),
        InterestAccrual: ("seconds",),
        Liquidated: ("market",),
        AdlFill: ("market",),
        LayerUsed: ("market",),
    }
    # accounts and assets first: the book's hook takes the account's as it stands when it is made
    for cls, names in later.items():
        hook = make_dict_unstructure_fn(cls, converter, **{name: override(omit_if_default=True) for name in names})
        converter.register_unstructure_hook(cls, hook)

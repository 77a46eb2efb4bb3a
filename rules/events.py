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
    """Money in from outside the venue to an account's margin balance."""

    account: str
    amount_quote: Any = data()


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
    """``buyer`` buys ``lots`` from ``seller`` at ``price_quote`` per lot; the taker pays taker fee."""

    buyer: str
    seller: str
    lots: Any = data()
    price_quote: Any = data()
    taker: Taker = Taker.BUYER


@python_repr
@attrs.frozen
class MarkPrice:
    """The mark price moves; positions settle to it, then the liquidation sweep runs."""

    price_quote: Any = data()


@python_repr
@attrs.frozen
class Funding:
    """A funding payment: at a positive rate longs pay shorts ``rate × notional``, else the reverse."""

    rate_ppm: Any = data()


Event = Deposit | Withdraw | SpotDeposit | Trade | MarkPrice | Funding

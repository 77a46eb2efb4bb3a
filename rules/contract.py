"""The contract a market trades: linear (USDT-margined) or inverse (coin-margined).

A **linear** contract (Binance USDⓈ-M, Bybit USDT, dYdX, Hyperliquid) pays a long of ``n`` lots
``n × (P − EP)`` in the quote currency: the engine's price *is* the venue's price.

An **inverse** contract (BitMEX XBTUSD, Bybit inverse, OKEx 2018 futures; docs/venues.md#bitmex-liquidation, #bybit-liquidation, #okex-btc0928-clawback-2018) has
a face value in the quote currency (USD 1, USD 100), is margined and settled in the coin, and pays a
long of ``n`` contracts ``n × V × (1/EP − 1/P)`` coins. Write ``v(P) = V / P``, one contract's
value in coin: the PnL is ``−n × (v(P) − v(EP))``. So a long of ``n`` inverse contracts *is* a
short of ``n`` lots of a linear market whose price is ``v(P)``, with cash in coin quanta:
settle-to-mark pays ``S × (v' − v)`` exactly, margin is ``|S| × v × rate`` (the position's value in
coin, BitMEX's and Bybit's basis), funding is ``rate × position value``, and the engine's
bankruptcy value ``v_BP`` is the price ``V / v_BP`` = ``EP × L / (L + 1)`` for an isolated long at
leverage L.

Decision (docs/model.md, "Inverse contracts"): the engine keeps one semantics, in *lot values*.
Its price is always what one lot is worth in the settlement currency (``Market.mark_quote``), and
its positions are signed by that value's direction. This module is the one change of variables
between the venue's terms (a price ``P`` in quote units per coin, contracts long or short) and the
engine's (a lot value ``v(P)``, a signed size): events are translated on the way in
(:func:`to_engine`), prices, sides and sizes on the way out (:func:`price_of`, :func:`venue_price`,
:func:`contracts`, :func:`from_engine`). z3 runs the same engine on lot values, so every question stays linear; the
alternative (the engine holding ``P`` and dividing) makes settlement non-linear in the solver's
variables. The one rounding is the price grid: ``v(P)`` is rounded to a whole coin quantum per
contract by the named ``value_rounding``; where ``P`` divides ``V`` there is no rounding at all.

Formula: ``V = value_quanta`` = face value × coin quanta per coin × price quanta per unit of the
quote currency (XBTUSD, prices in whole USD, cash in satoshi: ``1 × 10^8 × 1``; in USD 0.5 ticks:
``1 × 10^8 × 2``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import attrs

from solvent.rules.arith import Rounding, div
from solvent.rules.events import Event, FinalSettlement, Funding, MarkPrice, Taker, Trade


class ContractKind(enum.Enum):
    """How a contract pays: in the quote currency per unit of price (linear) or in coin (inverse)."""

    LINEAR = "linear"
    INVERSE = "inverse"


@attrs.frozen
class Contract:
    """The contract of the policy's market; ``[contract]`` in a policy's TOML.

    ``value_quanta`` is the inverse contract's ``V`` (see the module), required for an inverse
    contract and meaningless for a linear one; ``value_rounding`` names how ``V / P`` is rounded to
    a whole coin quantum when ``P`` does not divide it; ``price`` says what one price quantum is
    (display only, e.g. ``"1 USD per XBT"``).
    """

    kind: ContractKind = attrs.field(default=ContractKind.LINEAR, validator=attrs.validators.instance_of(ContractKind))
    value_quanta: int = attrs.field(default=0, validator=attrs.validators.instance_of(int))
    value_rounding: Rounding = attrs.field(default=Rounding.HALF_EVEN, validator=attrs.validators.instance_of(Rounding))
    price: str = attrs.field(default="", validator=attrs.validators.instance_of(str))

    def __attrs_post_init__(self) -> None:
        if isinstance(self.value_quanta, bool):
            raise ValueError(
                f"'value_quanta' must be an integer number of coin quanta × price quanta: {self.value_quanta!r}"
            )
        if self.kind is ContractKind.INVERSE and self.value_quanta <= 0:
            raise ValueError(
                f"'value_quanta' must be > 0 for an inverse contract (face value × coin quanta per coin × "
                f"price quanta per quote unit, e.g. 100000000 for XBTUSD in whole USD and satoshi): {self.value_quanta}"
            )
        if self.kind is ContractKind.LINEAR and self.value_quanta != 0:
            raise ValueError(
                f"'value_quanta' must be absent (0) for a linear contract, whose price is its lot value: {self.value_quanta}"
            )

    @property
    def is_inverse(self) -> bool:
        return self.kind is ContractKind.INVERSE


LINEAR = Contract()


def lot_value(contract: Contract, price: Any) -> Any:
    """The engine's price for the venue's price ``P``: ``P`` (linear), ``V / P`` rounded (inverse)."""
    if not contract.is_inverse:
        return price
    if price <= 0:
        raise ValueError(f"an inverse contract's price must be > 0: {price}")
    value = div(contract.value_quanta, price, rounding=contract.value_rounding)
    if value <= 0:
        raise ValueError(
            f"at price {price} an inverse contract of value_quanta {contract.value_quanta} is worth {value} coin quanta: "
            f"state the contract's value in finer quanta ('value_quanta') or the price in coarser ones"
        )
    return value


def price_of(contract: Contract, value: Any) -> Any:
    """The venue's price for the engine's lot value, exactly: ``v`` (linear), ``V / v`` (inverse)."""
    if not contract.is_inverse:
        return value
    return Fraction(contract.value_quanta, value)


def venue_price(contract: Contract, value: Any) -> Any:
    """The venue's price to show for the engine's lot value: on an inverse contract the whole price
    nearest ``V / v`` whose coin value rounds to ``v`` (the price a story on the venue's grid
    said), else ``V / v`` exactly; on a linear one ``v`` itself. Display and reports only: the
    engine's value is the lot value, and every price in its preimage settles the same."""
    exact = price_of(contract, value)
    if not contract.is_inverse or exact.denominator == 1:
        return exact.numerator if contract.is_inverse else exact
    below, above = exact.numerator // exact.denominator, exact.numerator // exact.denominator + 1
    whole = [
        p for p in sorted((below, above), key=lambda p: abs(p - exact)) if p > 0 and lot_value(contract, p) == value
    ]
    return whole[0] if whole else exact


def contracts(contract: Contract, size_lots: Any) -> Any:
    """The venue's signed position (long > 0) for the engine's size: the sign flips when inverse."""
    return -size_lots if contract.is_inverse else size_lots


def engine_lots(contract: Contract, signed_contracts: Any) -> Any:
    """The engine's size for the venue's signed position (the inverse of :func:`contracts`)."""
    return contracts(contract, signed_contracts)


def _swap(taker: Taker) -> Taker:
    return Taker.SELLER if taker is Taker.BUYER else Taker.BUYER


def _mirrored(event: Event, price: Callable[[Any], Any]) -> Event:
    """The event seen from the other side of an inverse contract: its price through ``price``, the
    trade's sides swapped (the taker keeps its side), the funding rate's sign flipped. The map is
    its own mirror image, so ``to_engine`` and ``from_engine`` differ only in ``price``."""
    if isinstance(event, (MarkPrice, FinalSettlement)):
        return attrs.evolve(event, price_quote=price(event.price_quote))
    if isinstance(event, Trade):
        return attrs.evolve(
            event,
            buyer=event.seller,
            seller=event.buyer,
            price_quote=price(event.price_quote),
            taker=_swap(event.taker),
        )
    if isinstance(event, Funding):
        return attrs.evolve(event, rate_ppm=-event.rate_ppm)
    return event  # the market an event names is kept: each market's contract is the policy's


def to_engine(contract: Contract, event: Event) -> Event:
    """An event in the venue's terms as the engine's event.

    Inverse: a mark at ``P`` is a mark at ``v(P)``; ``buyer`` buying contracts at ``P`` sells that
    many lots at ``v(P)`` (the taker keeps its side of the trade); a funding rate at which longs pay
    is one at which the engine's shorts pay, so its sign flips. Money events pass unchanged.
    """
    if not contract.is_inverse:
        return event
    return _mirrored(event, lambda price: lot_value(contract, price))


def from_engine(contract: Contract, event: Event) -> Event:
    """An engine event in the venue's terms, for reading: the price is exact (a ``Fraction`` when
    ``V / v`` is not whole). ``to_engine(from_engine(e)) == e`` whenever the price rounds back."""
    if not contract.is_inverse:
        return event
    return _mirrored(event, lambda value: price_of(contract, value))


def price_moves(move_ppm: Any) -> tuple[Fraction, Fraction]:
    """The price moves an inverse contract's coin-value move of ``move_ppm`` stands for, in ppm,
    exactly: a coin value up by ``m`` is a price fall of ``m / (1 + m)``, down by ``m`` a price
    rise of ``m / (1 − m)`` (``v = V / P``). Returns ``(fall, rise)``; the rise is unbounded
    (``m ≥ 10⁶``: the price would have to reach infinity) and then reported as ``None``."""
    m = Fraction(move_ppm, 10**6)
    fall = m / (1 + m) * 10**6
    rise = m / (1 - m) * 10**6 if m < 1 else None
    return fall, rise


def pnl(contract: Contract, signed_contracts: Any, entry_price: Any, price: Any) -> Any:
    """A venue position's PnL between two prices, exactly, in the venue's own formula (not the
    engine's): ``n × (P − EP)`` linear, ``n × V × (1/EP − 1/P)`` coin quanta inverse."""
    if not contract.is_inverse:
        return signed_contracts * (price - entry_price)
    return signed_contracts * contract.value_quanta * (Fraction(1, entry_price) - Fraction(1, price))


__all__ = [
    "LINEAR",
    "Contract",
    "ContractKind",
    "contracts",
    "engine_lots",
    "from_engine",
    "lot_value",
    "pnl",
    "price_moves",
    "price_of",
    "to_engine",
    "venue_price",
]

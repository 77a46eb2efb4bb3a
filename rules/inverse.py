"""Inverse (coin-margined) contracts on the linear engine: a contract is linear in its coin value.

An inverse contract (BitMEX XBTUSD, Bybit inverse, OKEx 2018 futures; mechanics.md §2-§4) has a
face value in the quote currency (USD 1, USD 100), is margined and settled in the coin, and pays a
long of ``n`` contracts ``PnL = n × V × (1/EP − 1/P)`` coins. Write ``v(P) = V / P``, one
contract's value in coin: ``PnL = −n × (v(P) − v(EP))``. So a long of ``n`` inverse contracts is
exactly a short of ``n`` lots of a linear market whose mark is ``v(P)`` and whose cash is in coin
quanta: settle-to-mark pays ``S × (v' − v)`` with no rounding, margin is ``|S| × v × rate`` (the
position's value in coin, BitMEX's and Bybit's basis), and the engine's bankruptcy price ``v_BP``
maps back to ``P_BP = V / v_BP`` = ``EP × L / (L + 1)`` for an isolated long at leverage L.

This module is that mapping, and nothing else: the book, the engine and every invariant stay the
linear ones, so conservation and the catalog hold unchanged. The one rounding is the price grid:
``v(P)`` is rounded to a whole coin quantum per contract (named at each call); choose the contract
value in fine enough quanta (``value_quanta`` below) and prices that divide it where exactness is
needed. Sides swap: an inverse long is a linear short, and a buy of inverse contracts is a linear
sell.

Formula: ``v = value_quanta / price_quanta`` where ``value_quanta`` = face value × coin quanta per
coin × price quanta per unit of the quote currency (XBTUSD with prices in USD 0.5 ticks and cash
in satoshis: ``1 × 10^8 × 2``).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import attrs

from solvent.rules.arith import Rounding, div
from solvent.rules.events import MarkPrice, Taker, Trade


@attrs.frozen
class InverseContract:
    """One inverse contract: its face value, in coin quanta times price quanta (see the module)."""

    name: str
    value_quanta: int = attrs.field(validator=attrs.validators.gt(0))
    rounding: Rounding = attrs.field(default=Rounding.HALF_EVEN, validator=attrs.validators.instance_of(Rounding))

    def coin_value(self, price_quanta: Any) -> Any:
        """``v(P) = V / P`` in coin quanta per contract, rounded by the contract's price rounding."""
        return div(self.value_quanta, price_quanta, rounding=self.rounding)

    def price_of(self, coin_value: Any) -> Fraction:
        """The quote price whose coin value is ``coin_value``, exactly: ``P = V / v``."""
        return Fraction(self.value_quanta, coin_value)

    def mark(self, price_quanta: Any) -> MarkPrice:
        """A mark move to quote price ``P``, as the linear book's mark ``v(P)``."""
        return MarkPrice(self.coin_value(price_quanta))

    def trade(self, buyer: str, seller: str, contracts: Any, price_quanta: Any, taker: Taker = Taker.BUYER) -> Trade:
        """``buyer`` buys ``contracts`` inverse contracts at ``P``: on the linear book it sells them at ``v(P)``."""
        swapped = Taker.SELLER if taker is Taker.BUYER else Taker.BUYER
        return Trade(seller, buyer, contracts, self.coin_value(price_quanta), swapped)


def linear_size(inverse_contracts: Any) -> Any:
    """The linear book's position for a signed inverse position: the sign flips."""
    return -inverse_contracts


def inverse_pnl(contracts: Any, value_quanta: int, entry_price: Any, price: Any) -> Fraction:
    """A signed inverse position's PnL in coin quanta, exactly: ``n × V × (1/EP − 1/P)``."""
    return contracts * value_quanta * (Fraction(1, entry_price) - Fraction(1, price))


__all__ = ["InverseContract", "inverse_pnl", "linear_size"]

"""Liquidation prices: where a position's equity meets its maintenance margin, exactly.

A liquidation price is a report quantity (the engine triggers on equity against maintenance at
the current mark, ``solvent.rules.liquidation.is_triggered``), so every function here is exact:
``Fraction`` in, ``Fraction`` out, no rounding. Each states the venue formula it implements.

Glossary: WB wallet balance, TMM1 / UPNL1 maintenance margin / unrealized PnL of the account's
other contracts (0 in isolated mode), cum maintenance amount, EP entry price, S signed size.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import attrs

from solvent.rules.arith import PPM


@attrs.frozen
class Bracket:
    """One maintenance tier as a venue publishes it: from ``floor_notional``, ``MMR`` and ``cum``."""

    floor_notional: Fraction = attrs.field(converter=Fraction)
    mmr: Fraction = attrs.field(converter=Fraction)
    cum: Fraction = attrs.field(converter=Fraction, default=Fraction(0))


def brackets_of(rule: Any) -> tuple[Bracket, ...]:
    """The tiers of a :class:`~solvent.rules.margin.MarginRule` as exact brackets (quote quanta)."""
    return tuple(
        Bracket(t.floor_notional_quote, Fraction(t.maintenance_ppm, PPM), t.maintenance_amount_quote)
        for t in rule.tiers
    )


def bracket_at(brackets: Sequence[Bracket], notional: Fraction) -> int:
    """Index of the bracket whose range holds ``notional`` (the last one has no ceiling)."""
    index = 0
    for i, b in enumerate(brackets):
        if notional >= b.floor_notional:
            index = i
    return index


def one_way_liquidation_price(
    wallet: Any, size: Any, entry_price: Any, bracket: Bracket, *, other_maintenance: Any = 0, other_upnl: Any = 0
) -> Fraction:
    """Binance's liquidation price of a one-way ("BOTH") position in one bracket (§1).

    Formula: ``LP = (WB − TMM1 + UPNL1 + cumB − side × |S| × EP) / (|S| × MMR_B − side × |S|)``.
    """
    side = 1 if size > 0 else -1
    lots = abs(Fraction(size))
    num = (
        Fraction(wallet)
        - Fraction(other_maintenance)
        + Fraction(other_upnl)
        + bracket.cum
        - side * lots * Fraction(entry_price)
    )
    return num / (lots * bracket.mmr - side * lots)


def binance_liquidation_price(
    wallet: Any,
    size: Any,
    entry_price: Any,
    brackets: Sequence[Bracket],
    *,
    other_maintenance: Any = 0,
    other_upnl: Any = 0,
) -> Fraction:
    """Binance's liquidation price, with the tier taken at the liquidation price (§1).

    Start from the bracket of the entry notional; if the notional at the resulting price
    ``|S| × LP`` falls in another bracket, recompute with that bracket's MMR and cum, until the
    bracket used is the bracket at the price found. MM is continuous and increasing in the
    notional, so the price is unique and the walk ends within one pass over the brackets.
    """
    lots = abs(Fraction(size))
    used = bracket_at(brackets, lots * Fraction(entry_price))
    for _ in range(len(brackets) + 1):
        price = one_way_liquidation_price(
            wallet, size, entry_price, brackets[used], other_maintenance=other_maintenance, other_upnl=other_upnl
        )
        at_price = bracket_at(brackets, lots * max(price, Fraction(0)))
        if at_price == used:
            return price
        used = at_price
    raise ArithmeticError(f"no bracket is consistent with its own liquidation price (last tried bracket {used})")


def settle_to_mark_liquidation_price(rule: Any, size_lots: int, mark_quote: int, equity_quote: int) -> Fraction:
    """The mark at which an account's equity meets its maintenance margin under ``rule``, exactly.

    Settle-to-mark accounting settles every position to mark, so the Binance formula applies with
    EP = M and WB = E (``solvent.rules.margin``'s tiers are Binance's brackets; the policy's
    margin rounding is not applied, so the price is the exact crossing).
    """
    return binance_liquidation_price(equity_quote, size_lots, mark_quote, brackets_of(rule))


def bybit_linear_liquidation_price(
    entry_price: Any, size: Any, initial_margin: Any, maintenance_margin: Any, extra_margin: Any = 0
) -> Fraction:
    """Bybit's isolated USDT liquidation price (§3).

    Formula: ``LP_long = EP − (IM − MM)/size − ExtraMargin/size``; the short mirrors it with ``+``.
    """
    side = 1 if size > 0 else -1
    lots = abs(Fraction(size))
    return (
        Fraction(entry_price)
        - side * (Fraction(initial_margin) - Fraction(maintenance_margin) + Fraction(extra_margin)) / lots
    )


def bybit_inverse_liquidation_price(
    entry_price: Any, qty: Any, initial_margin_coin: Any, maintenance_margin_coin: Any
) -> Fraction:
    """Bybit's isolated inverse liquidation price (§3), ``Qty`` in USD contracts, margins in coin.

    Formula: ``LP_long = Qty / [PosValue + (IM − MM)]``, ``LP_short = Qty / [PosValue − (IM − MM)]``,
    ``PosValue = Qty / EP``.
    """
    side = 1 if qty > 0 else -1
    contracts = abs(Fraction(qty))
    pos_value = contracts / Fraction(entry_price)
    return contracts / (pos_value + side * (Fraction(initial_margin_coin) - Fraction(maintenance_margin_coin)))


def hyperliquid_liquidation_price(price: Any, size: Any, margin_available: Any, maintenance_rate: Fraction) -> Fraction:
    """Hyperliquid's liquidation price (§6).

    Formula: ``liq_price = price − side × margin_available / position_size / (1 − l × side)`` with
    ``l = 1 / maintenance_leverage`` (the MMR) and ``margin_available`` = isolated margin (or
    account value) − maintenance margin required at ``price``.
    """
    side = 1 if size > 0 else -1
    lots = abs(Fraction(size))
    return Fraction(price) - side * Fraction(margin_available) / lots / (1 - Fraction(maintenance_rate) * side)


def hyperliquid_margin_available(margin: Any, size: Any, price: Any, maintenance_rate: Fraction) -> Fraction:
    """``margin_available = margin − MM_required`` with ``MM_required = |size| × price × MMR`` (§6)."""
    return Fraction(margin) - abs(Fraction(size)) * Fraction(price) * Fraction(maintenance_rate)


def dydx_liquidation_price(equity: Any, size: Any, price: Any, mmf: Any, other_maintenance: Any = 0) -> Fraction:
    """dYdX's documented liquidation price (v4-documentation liquidations.mdx, §5).

    Formula: isolated ``p' = (e − s × p) / (|s| × MMF − s)``; cross
    ``p' = (e − s × p − MMR_o) / (|s| × MMF − s)`` with ``MMR_o`` the other positions' requirement.
    """
    s = Fraction(size)
    return (Fraction(equity) - s * Fraction(price) - Fraction(other_maintenance)) / (abs(s) * Fraction(mmf) - s)


__all__ = [
    "Bracket",
    "binance_liquidation_price",
    "bracket_at",
    "brackets_of",
    "bybit_inverse_liquidation_price",
    "bybit_linear_liquidation_price",
    "dydx_liquidation_price",
    "hyperliquid_liquidation_price",
    "hyperliquid_margin_available",
    "one_way_liquidation_price",
    "settle_to_mark_liquidation_price",
]

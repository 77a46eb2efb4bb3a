"""Amounts and prices as a person reads them: in the policy's currency, with its decimals.

The engine counts integer quanta (``docs/model.md``, "Money is integers in declared quanta"); a
policy's ``[units]`` says what one quantum and one lot are, e.g. ``quote = "0.01 USDT"`` and
``lot = "0.001 BTC"``. Reports read those strings here, once:

- an **amount** of ``n`` quanta is ``n × 0.01`` USDT, written ``USDT 1,100.99`` (``USDT -0.01``
  when negative): exact, since a quantum with ``d`` decimals times an integer has ``d`` decimals.
  Trailing zeros beyond two decimals are dropped (``USDC 88.01``, not ``USDC 88.010000``);
- a **price** (the engine's quanta per lot) is shown per unit of what a lot counts, when the lot
  names one (``0.001 BTC``: ``10,000`` quanta per lot is ``USDT 100,000/BTC``), else per lot;
- an **inverse** contract's amounts are coin: ``quote = "1 XBt (0.00000001 XBT)"`` gives
  ``XBT 0.00057407`` (the last ``decimal CODE`` pair in the string names the unit a person
  counts in); its prices are already the venue's (``contract.price``) and stay as they are.

A quantum the strings do not state as ``<decimal> <name>`` (``"1 contract"``) leaves amounts in
quanta, as before. Display only: JSON keeps the exact integers, and nothing here feeds back into
arithmetic.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

import attrs

from solvent.rules.contract import LINEAR, Contract, venue_price
from solvent.rules.ledger import EXTERNAL, asset_of
from solvent.rules.policy import Policy, Units

#: ``0.01 USDT``, ``1 XBt``, ``0.000000001 base``: a decimal and the name after it
_QUANTITY = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s+([A-Za-z][\w\-]*(?: [a-z][\w\-]*)*)")


def _decimal(text: str) -> tuple[Fraction, int]:
    """``"0.01"`` → (1/100, 2)."""
    whole, _, frac = text.partition(".")
    return Fraction(int(whole + frac), 10 ** len(frac)), len(frac)


def parse_quantity(text: str) -> tuple[Fraction, int, str] | None:
    """The quantity a unit string states: ``"0.01 USDT"`` → (1/100, 2, "USDT");
    ``"1 XBt (0.00000001 XBT)"`` → the last pair, (1/10⁸, 8, "XBT"); None when there is none or
    it is zero."""
    found = [m for m in _QUANTITY.finditer(text)]
    if not found:
        return None
    number, name = found[-1].group(1), found[-1].group(2)
    value, decimals = _decimal(number)
    if value <= 0:
        return None
    return value, decimals, name


def _decimals_of(value: Fraction) -> int | None:
    """How many decimals write ``value`` exactly (None when no finite number does)."""
    for d in range(0, 19):
        if (value * 10**d).denominator == 1:
            return d
    return None


def _digits(value: Fraction, decimals: int, keep: int) -> str:
    """``value`` with ``decimals`` places, thousands separated, trailing zeros dropped down to
    ``keep`` places; ``≈`` when it is not exact at that many places (a rounded display only)."""
    scaled = value * 10**decimals
    approx = "" if scaled.denominator == 1 else "≈"
    n = round(scaled)
    sign = "-" if n < 0 else ""
    whole, frac = divmod(abs(n), 10**decimals)
    text = f"{sign}{whole:,}"
    if decimals:
        places = f"{frac:0{decimals}d}"
        trimmed = places.rstrip("0")
        places = places[: max(len(trimmed), min(keep, decimals))]
        text += f".{places}" if places else ""
    return approx + text


def _whole(x: Any) -> str:
    """An exact count for people: thousands separated, a Fraction as n/d."""
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, Fraction):
        return f"{x.numerator:,}" if x.denominator == 1 else f"{x.numerator:,}/{x.denominator:,}"
    return str(x)


@attrs.frozen
class Money:
    """How a policy's quanta read: the currency and decimals of amounts, the unit of prices."""

    #: the currency amounts are counted in (``USDT``, ``XBT``); empty: amounts stay in quanta
    currency: str = ""
    #: one quantum in that currency (``1/100``)
    quantum: Fraction = Fraction(1)
    decimals: int = 0
    #: what a price is per (``BTC``, ``contract``); empty: per lot
    per: str = ""
    #: one price quantum per lot in ``currency`` per ``per`` (quantum / lot size)
    price_quantum: Fraction = Fraction(1)
    price_decimals: int = 0
    contract: Contract = LINEAR
    #: how the prices of a market with a lot of its own read (a ``[[market]]`` table's ``lot``),
    #: by market name; every other market's read as these
    markets: tuple[tuple[str, Money], ...] = ()

    @classmethod
    def of(cls, policy: Policy) -> Money:
        money = cls.from_units(policy.units, policy.contract)
        own = tuple(
            (spec.name, cls.from_units(attrs.evolve(policy.units, lot=spec.lot), policy.contract))
            for spec in policy.market[1:]
            if spec.lot
        )
        return attrs.evolve(money, markets=own) if own else money

    def in_market(self, name: str) -> Money:
        """How prices in market ``name`` read: its own lot's (``USDT 2,000/ETH``), or these."""
        return next((money for market, money in self.markets if market == name), self)

    @classmethod
    def from_units(cls, units: Units, contract: Contract = LINEAR) -> Money:
        quote = parse_quantity(units.quote)
        if quote is None:
            return cls(contract=contract)
        quantum, decimals, currency = quote
        per, price_quantum, price_decimals = "", quantum, decimals
        lot = parse_quantity(units.lot) if not contract.is_inverse else None
        if lot is not None:
            size, _, name = lot
            exact = _decimals_of(quantum / size)
            if exact is not None:
                per, price_quantum, price_decimals = name, quantum / size, exact
        return cls(currency, quantum, decimals, per, price_quantum, price_decimals, contract)

    @property
    def readable(self) -> bool:
        """Whether amounts are shown in a currency (else in quanta)."""
        return bool(self.currency)

    # --- amounts ---------------------------------------------------------------------------------

    def number(self, quanta: Any, *, fixed: bool = False) -> str:
        """An amount of quanta as a number in the currency, no name: ``1,100.99``; ``fixed``:
        every decimal written, so that a column of them lines up (``0.30000000``)."""
        if not self.readable or isinstance(quanta, bool) or not isinstance(quanta, (int, Fraction)):
            return _whole(quanta)
        return _digits(Fraction(quanta) * self.quantum, self.decimals, self.decimals if fixed else 2)

    def amount(self, quanta: Any) -> str:
        """An amount with its currency: ``USDT 1,100.99``, ``USDT -0.01``, ``XBT 0.00057407``."""
        text = self.number(quanta)
        return f"{self.currency} {text}" if self.readable and text[-1:].isdigit() else text

    @property
    def quantum_text(self) -> str:
        """One quantum in the currency, every decimal written: ``0.01``, ``0.00000001``."""
        return _digits(self.quantum, self.decimals, self.decimals)

    def column(self, header: str) -> str:
        """A table header for a column of amounts: ``cash (USDT)``."""
        return f"{header} ({self.currency})" if self.readable else header

    # --- prices ----------------------------------------------------------------------------------

    def price_number(self, value: Any) -> str:
        """The venue's price for the engine's lot value ``value``, no currency: ``100,000``.

        Inverse: the whole price whose coin value is ``value`` when there is one, else ``V / v``
        to two decimals marked ``≈``."""
        if self.contract.is_inverse:
            price = Fraction(venue_price(self.contract, value))
            if price.denominator == 1:
                return _whole(price.numerator)
            hundredths = round(price * 100)
            return f"≈{hundredths // 100:,}.{hundredths % 100:02d}"
        if not self.readable or not isinstance(value, (int, Fraction)) or isinstance(value, bool):
            return _whole(value)
        return _digits(Fraction(value) * self.price_quantum, self.price_decimals, self.price_decimals)

    @property
    def price_unit(self) -> str:
        """What a price is in: ``USDT/BTC``, ``USDC/lot``, the contract's own words when inverse,
        empty when unknown."""
        if self.contract.is_inverse:
            return self.contract.price
        if not self.readable:
            return ""
        return f"{self.currency}/{self.per or 'lot'}"

    def price(self, value: Any) -> str:
        """A price with its currency, for sentences: ``USDT 100,000/BTC``; inverse: ``10,000``
        (the contract's price words are in the units line)."""
        text = self.price_number(value)
        if self.contract.is_inverse or not self.readable:
            return text
        return f"{self.currency} {text}/{self.per or 'lot'}"

    def describe(self) -> str:
        """What the report's numbers are in, for its units line."""
        if not self.readable:
            return ""
        prices = "" if self.contract.is_inverse else f"; prices in {self.price_unit}"
        return f"amounts in {self.currency}{prices}"


#: amounts in quanta, prices as the engine's values: what reports showed before ``[units]`` was read
QUANTA = Money()


def transfer_amount(money: Money, transfer: Any) -> str:
    """A ledger transfer's amount for a table: in the policy's money, or, for a collateral asset's
    balance (``alice@USDe``), in that asset's quanta named after it (``1,053 USDe``)."""
    asset = asset_of(transfer.destination if transfer.source == EXTERNAL else transfer.source)
    if asset:
        return f"{_whole(transfer.amount_quote)} {asset}"
    return money.number(transfer.amount_quote, fixed=True)


__all__ = ["QUANTA", "Money", "parse_quantity", "transfer_amount"]

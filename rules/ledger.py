"""The ledger: every balance change is a transfer with a reason, and a step's running context.

A :class:`Ctx` is the state of one engine step in progress: the book so far, the transfers made
and the outcomes named. ``Ctx.transfer`` is the only place the engine changes a cash or spot
balance, so the ledger and the book cannot disagree. Under a symbolic interpreter each transfer
and outcome carries the path condition (``guard``) under which it happens.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import attrs

from solvent.rules.arith import and_, is_concrete, ite, not_
from solvent.rules.book import Book, Role

EXTERNAL = "external"
SPOT = ".spot"


class Reason(enum.Enum):
    """Why money moved. Waterfall reasons name the layer that paid."""

    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    SPOT_DEPOSIT = "spot deposit"
    SETTLEMENT = "mark-to-market settlement"
    TRADE_PRICE = "trade price vs mark"
    TRADING_FEE = "trading fee"
    FUNDING = "funding"
    FUNDING_DUST = "funding rounding dust"
    LIQUIDATION_SLIPPAGE = "liquidation fill vs mark"
    LIQUIDATION_PENALTY = "liquidation penalty"
    LIQUIDATION_SURPLUS = "remaining margin on liquidation"
    COLLATERAL_CONVERSION = "spot collateral converted"
    INSURANCE_FUND = "insurance fund cover"
    BACKSTOP_VAULT = "backstop vault cover"
    FEE_POOL = "fee pool cover"
    VENUE_ABSORBS = "venue absorbs"
    ADL = "auto-deleveraging at bankruptcy price"
    POOL_ADL = "ADL by PnL-to-pool factor, at mark"
    SOCIALIZED_LOSS = "socialized loss"
    HAIRCUT = "profit haircut"
    CLAWBACK = "clawback"
    PRO_RATA_DUST = "pro-rata rounding dust"
    DEBT_FRONTED = "debt fronted by lender"
    DEBT_REPAYMENT = "debt repayment"


#: Transfers that are trading PnL (they count toward a clawback window's profit).
PNL_REASONS = frozenset(
    {Reason.SETTLEMENT, Reason.TRADE_PRICE, Reason.FUNDING, Reason.LIQUIDATION_SLIPPAGE, Reason.ADL, Reason.POOL_ADL}
)

#: Transfers that take money from a winner to pay someone else's deficit.
HAIRCUT_REASONS = frozenset({Reason.ADL, Reason.SOCIALIZED_LOSS, Reason.HAIRCUT, Reason.CLAWBACK})


@attrs.frozen
class Transfer:
    """``amount_quote`` (≥ 0) moves from ``source`` to ``destination`` because of ``reason``.

    Balances are account names (cash) or ``name.spot``; ``external`` is outside the venue.
    """

    source: str
    destination: str
    amount_quote: Any
    reason: Reason


@attrs.frozen
class Guarded:
    """A ledger entry or outcome together with the condition under which it happened."""

    guard: Any
    item: Any


def _balance(name: str) -> tuple[str, str]:
    if name.endswith(SPOT):
        return name[: -len(SPOT)], "spot_quote"
    return name, "cash_quote"


class InternalError(AssertionError):
    """Solvent itself broke one of its own guarantees: a bug to report, never a policy finding."""


@attrs.frozen
class Ctx:
    """One engine step in progress."""

    book: Book
    entries: tuple[Guarded, ...] = ()
    outcomes: tuple[Guarded, ...] = ()
    guard: Any = True

    def transfer(self, source: str, destination: str, amount: Any, reason: Reason) -> Ctx:
        """Move ``amount`` (≥ 0); concrete zero transfers are not recorded."""
        if is_concrete(amount):
            if amount == 0:
                return self
            if amount < 0 and self.guard is True:
                raise InternalError(f"negative transfer {amount} {source}->{destination} ({reason.value})")
        book = self.book
        pnl = reason in PNL_REASONS
        if source != EXTERNAL:
            book = _adjust(book, source, -amount, pnl)
        if destination != EXTERNAL:
            book = _adjust(book, destination, amount, pnl)
        entry = Guarded(self.guard, Transfer(source, destination, amount, reason))
        return attrs.evolve(self, book=book, entries=self.entries + (entry,))

    def note(self, outcome: Any) -> Ctx:
        """Name something that happened."""
        return attrs.evolve(self, outcomes=self.outcomes + (Guarded(self.guard, outcome),))

    def note_if(self, cond: Any, outcome: Any) -> Ctx:
        """Name something that happened only where ``cond`` holds."""
        if type(cond) is bool:
            return self.note(outcome) if cond else self
        return attrs.evolve(self, outcomes=self.outcomes + (Guarded(and_(self.guard, cond), outcome),))

    def with_book(self, book: Book) -> Ctx:
        return attrs.evolve(self, book=book)

    def branch(self, cond: Any, then: Callable[[Ctx], Ctx], other: Callable[[Ctx], Ctx] | None = None) -> Ctx:
        """Run ``then`` where ``cond`` holds and ``other`` (default: nothing) where it does not."""
        other = other or (lambda c: c)
        if type(cond) is bool:
            return then(self) if cond else other(self)
        a = then(attrs.evolve(self, guard=and_(self.guard, cond)))
        b = other(attrs.evolve(self, guard=and_(self.guard, not_(cond))))
        n, m = len(self.entries), len(self.outcomes)
        return Ctx(
            book=ite(cond, a.book, b.book),
            entries=self.entries + a.entries[n:] + b.entries[n:],
            outcomes=self.outcomes + a.outcomes[m:] + b.outcomes[m:],
            guard=self.guard,
        )


def _adjust(book: Book, name: str, delta: Any, pnl: bool) -> Book:
    owner, field = _balance(name)
    i = book.index(owner)
    account = book.accounts[i]
    changes = {field: getattr(account, field) + delta}
    if pnl:
        changes["window_pnl_quote"] = account.window_pnl_quote + delta
    return book.replace_account(i, attrs.evolve(account, **changes))


def system(book: Book, role: Role) -> str:
    """Name of the book's system account of that role."""
    return book.role(role).name


__all__ = ["Ctx", "Guarded", "HAIRCUT_REASONS", "PNL_REASONS", "InternalError", "Reason", "Transfer", "system"]

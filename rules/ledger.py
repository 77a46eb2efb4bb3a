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
from solvent.rules.book import Account, Book, Role
from solvent.rules.fields import data_fields

EXTERNAL = "external"
SPOT = ".spot"
#: ``alice@USDe``: alice's balance of the collateral asset USDe (``Account.asset_balances``); a
#: transfer between such balances moves asset quanta, never settlement quanta
ASSET = "@"


def asset_balance(name: str, asset: str) -> str:
    """The ledger name of account ``name``'s balance of collateral asset ``asset``."""
    return f"{name}{ASSET}{asset}"


def asset_of(balance: str) -> str:
    """The collateral asset a ledger balance is held in (``""``: settlement cash or spot)."""
    return balance.partition(ASSET)[2]


class Reason(enum.Enum):
    """Why money moved. Waterfall reasons name the layer that paid."""

    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    SPOT_DEPOSIT = "spot deposit"
    ASSET_DEPOSIT = "collateral asset deposit"
    ASSET_WITHDRAWAL = "collateral asset withdrawal"
    COLLATERAL_SALE = "collateral sold on liquidation, at the oracle price"
    SETTLEMENT = "mark-to-market settlement"
    TRADE_PRICE = "trade price vs mark"
    TRADING_FEE = "trading fee"
    FUNDING = "funding"
    FUNDING_DUST = "funding rounding dust"
    FUNDING_CARRY = "funding remainder carried"
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
    CONVERSION_HAIRCUT = "vesting profit not converted at h, into the order book's hole"
    CLAWBACK = "clawback"
    PRO_RATA_DUST = "pro-rata rounding dust"
    ADL_SURPLUS = "ADL at the previous mark beyond the deficit"
    FUND_TAKEOVER = "insurance fund takeover at the bankruptcy price, below its floor"
    VAULT_TAKEOVER = "backstop vault takeover at the bankruptcy price at a funding sweep, below zero"
    DEBT_FRONTED = "debt fronted by lender"
    DEBT_REPAYMENT = "debt repayment"
    INTEREST = "borrow interest, through the venue to depositors"
    BORROW_REPAYMENT = "borrow repaid on liquidation, at the oracle price"
    DEPOSIT_INDEX_LOSS = "unpaid borrow socialized onto the deposit index"
    LENDER_ADL = "lender auto-deleveraged, paid in settlement cash"
    LOAN_ORIGINATION_FEE = "loan origination fee on a new borrow, to the venue"
    FINAL_SETTLEMENT = "closed at the final settlement price"
    ISOLATED_MARGIN = "margin moved to or from an isolated position"


#: Transfers that are trading PnL (they count toward a clawback window's profit).
PNL_REASONS = frozenset(
    {Reason.SETTLEMENT, Reason.TRADE_PRICE, Reason.FUNDING, Reason.LIQUIDATION_SLIPPAGE, Reason.ADL, Reason.POOL_ADL}
)

#: Transfers that take money from a winner to pay someone else's deficit.
HAIRCUT_REASONS = frozenset({Reason.ADL, Reason.SOCIALIZED_LOSS, Reason.HAIRCUT, Reason.CLAWBACK})


@attrs.frozen
class Transfer:
    """``amount_quote`` (≥ 0) moves from ``source`` to ``destination`` because of ``reason``.

    Balances are account names (cash) or ``name.spot``, in settlement quanta, or ``name@ASSET``,
    a collateral asset's balance, in that asset's quanta (both ends of a transfer are in the same
    asset); ``external`` is outside the venue.
    """

    source: str
    destination: str
    amount_quote: Any
    reason: Reason


@attrs.frozen
class Fill:
    """``lots`` (≥ 0) of the position in ``market`` move from ``seller`` to ``buyer`` at
    ``price_quote``.

    The position ledger: every change of a position is a fill, as every change of a balance is a
    transfer, so the prover can check the book's positions against it (``solver.compositional``).
    """

    buyer: str
    seller: str
    lots: Any
    price_quote: Any
    reason: Reason
    market: str = ""


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


#: an account's fields in order, and those that hold data (``fields.data``: no converter, no validator)
_ACCOUNT_FIELDS = tuple(f.name for f in attrs.fields(Account))
_ACCOUNT_DATA = frozenset(data_fields(Account))


def _evolved(account: Any, changes: dict[str, Any]) -> Any:
    """``attrs.evolve(account, **changes)``. Where every change is to a data field of an
    :class:`Account` (none runs a converter or a validator, and an account has no post-init step),
    the copy is made field by field, as ``__init__`` would make it from the same values, without
    the keyword call evolve builds (a step changes an account at every transfer)."""
    if type(account) is not Account or not _ACCOUNT_DATA.issuperset(changes):
        return attrs.evolve(account, **changes)
    copy = object.__new__(Account)
    for name in _ACCOUNT_FIELDS:
        object.__setattr__(copy, name, getattr(account, name))
    for name, value in changes.items():
        object.__setattr__(copy, name, value)
    return copy


class _Work:
    """The mutable state behind one step's contexts: the book as it started (``head``: the market,
    the totals, the clock and the name index), a working copy of its accounts made at the first
    change, the ledger entries and outcomes so far, and the book built from them (until the next
    change). ``version`` counts changes, so a context that has been moved on from is caught.
    ``moved``: whether the book's last move (its previous mark to its mark) is this step's own
    (:attr:`Ctx.mark_moved`)."""

    __slots__ = ("head", "accounts", "book", "entries", "outcomes", "fills", "version", "moved")

    def __init__(
        self, book: Book, entries: list[Guarded], outcomes: list[Guarded], fills: list[Guarded], moved: bool = True
    ) -> None:
        self.head = book
        self.moved = moved
        self.accounts: list[Any] | None = None
        self.book: Book | None = book
        self.entries = entries
        self.outcomes = outcomes
        self.fills = fills
        self.version = 0

    def current(self) -> Book:
        if self.book is None:
            self.book = self.head.with_balances(tuple(self.accounts))
            self.head = self.book
        return self.book

    def get(self, name: str) -> Any:
        i = self.head.index(name)
        return self.accounts[i] if self.accounts is not None else self.head.accounts[i]

    def put(self, name: str, changes: dict[str, Any]) -> None:
        i = self.head.index(name)
        if self.accounts is None:
            self.accounts = list(self.head.accounts)
        self.accounts[i] = _evolved(self.accounts[i], changes)
        self.book = None

    def adjust(self, name: str, delta: Any, pnl: bool) -> None:
        """Add ``delta`` to a cash (``name``), spot (``name.spot``) or collateral asset
        (``name@ASSET``) balance; PnL also counts toward the account's window PnL."""
        owner, asset = name.split(ASSET) if ASSET in name else (name, "")
        owner, field = _balance(owner)
        i = self.head.index(owner)
        if self.accounts is None:
            self.accounts = list(self.head.accounts)
        account = self.accounts[i]
        if asset:
            k = self.head.asset_index(asset)
            balances = account.asset_balances
            held = balances[:k] + (balances[k] + delta,) + balances[k + 1 :]
            self.accounts[i] = attrs.evolve(account, asset_balances=held)
            self.book = None
            return
        changes = {field: getattr(account, field) + delta}
        if pnl:
            changes["window_pnl_quote"] = account.window_pnl_quote + delta
        self.accounts[i] = _evolved(account, changes)
        self.book = None


class Ctx:
    """One engine step in progress: the book so far, the transfers made and the outcomes named.

    A context is used linearly: every change (``transfer``, ``note``, ``update_account``,
    ``evolve_book``, ``with_book``, ``branch``) returns the context to continue with, and the one it
    was called on may not be used again (``InternalError`` if it is). That lets a step keep one
    working copy of the accounts and change an account in O(1), where a frozen book would copy the
    whole account tuple on every transfer; ``book`` builds the frozen book from it when asked (and
    keeps it until the next change), so hot paths read accounts through ``account`` instead.
    """

    __slots__ = ("_work", "_version", "guard")

    def __init__(
        self,
        book: Book,
        entries: tuple[Guarded, ...] = (),
        outcomes: tuple[Guarded, ...] = (),
        guard: Any = True,
        fills: tuple[Guarded, ...] = (),
        *,
        moved: bool = True,
    ) -> None:
        self._work = _Work(book, list(entries), list(outcomes), list(fills), moved)
        self._version = 0
        self.guard = guard

    def _live(self) -> _Work:
        work = self._work
        if work.version != self._version:
            raise InternalError("a step's context was used after a later one was made from it")
        return work

    def _next(self, work: _Work) -> Ctx:
        work.version += 1
        ctx = object.__new__(Ctx)
        ctx._work, ctx._version, ctx.guard = work, work.version, self.guard
        return ctx

    # --- reading -------------------------------------------------------------------------------

    @property
    def book(self) -> Book:
        """The book so far, frozen (built from the working copy on the first read after a change)."""
        return self._live().current()

    @property
    def entries(self) -> tuple[Guarded, ...]:
        return tuple(self._live().entries)

    @property
    def outcomes(self) -> tuple[Guarded, ...]:
        return tuple(self._live().outcomes)

    @property
    def fills(self) -> tuple[Guarded, ...]:
        """The position ledger so far: every :class:`Fill`, with the condition it happened under."""
        return tuple(self._live().fills)

    def account(self, name: str) -> Any:
        """The named account as it stands now (``book.account(name)`` without building the book)."""
        return self._live().get(name)

    @property
    def market(self) -> Any:
        return self._live().head.market

    @property
    def mark_moved(self) -> bool:
        """Whether the book's last move, ``market.previous_mark_quote`` to ``market.mark_quote``, is
        this step's own: a context made from a book takes it to be (a question about a sweep asked on
        a free book asks about the move that book holds); an event's context starts without one
        (``engine.opening``) and a mark move makes it so (``settlement.settle_mark``). A funding
        payment, an asset's price or interest moves no mark: their sweep reads the last move's
        marks, which are an earlier event's (``pool_bankruptcy.lots_lost``). A Python bool, never a term."""
        return self._live().moved

    def with_mark_moved(self, moved: bool) -> Ctx:
        """The same step, with :attr:`mark_moved` set."""
        work = self._live()
        work.moved = moved
        return self._next(work)

    def book_field(self, name: str) -> Any:
        """A field of the book other than its accounts (``net_deposits_quote``, ``clock``, ...)."""
        if name == "accounts":
            raise TypeError("book_field reads the book's other fields; use account() or book.accounts")
        return getattr(self._live().head, name)

    def system(self, role: Role) -> str:
        """Name of the book's system account of that role."""
        return self._live().head.role(role).name

    # --- changing ------------------------------------------------------------------------------

    def transfer(self, source: str, destination: str, amount: Any, reason: Reason) -> Ctx:
        """Move ``amount`` (≥ 0); concrete zero transfers are not recorded."""
        if is_concrete(amount):
            if amount == 0:
                return self
            if amount < 0 and self.guard is True:
                raise InternalError(f"negative transfer {amount} {source}->{destination} ({reason.value})")
        work = self._live()
        pnl = reason in PNL_REASONS
        if source != EXTERNAL:
            work.adjust(source, -amount, pnl)
        if destination != EXTERNAL:
            work.adjust(destination, amount, pnl)
        work.entries.append(Guarded(self.guard, Transfer(source, destination, amount, reason)))
        return self._next(work)

    def update_account(self, name: str, **changes: Any) -> Ctx:
        """Set fields of the named account (not its name or role)."""
        work = self._live()
        work.put(name, changes)
        return self._next(work)

    def evolve_book(self, **changes: Any) -> Ctx:
        """Set fields of the book other than its accounts (the market, the totals, the clock)."""
        work = self._live()
        work.head = work.head.with_fields(**changes)
        if work.book is not None:
            work.book = work.head
        return self._next(work)

    def note(self, outcome: Any) -> Ctx:
        """Name something that happened."""
        work = self._live()
        work.outcomes.append(Guarded(self.guard, outcome))
        return self._next(work)

    def note_if(self, cond: Any, outcome: Any) -> Ctx:
        """Name something that happened only where ``cond`` holds."""
        if type(cond) is bool:
            return self.note(outcome) if cond else self
        work = self._live()
        work.outcomes.append(Guarded(and_(self.guard, cond), outcome))
        return self._next(work)

    def record_fill(self, buyer: str, seller: str, lots: Any, price_quote: Any, reason: Reason) -> Ctx:
        """Enter a fill in the position ledger (``positions.fill`` does, before it moves the lots)."""
        work = self._live()
        fill = Fill(buyer, seller, lots, price_quote, reason, work.head.market.name)
        work.fills.append(Guarded(self.guard, fill))
        return self._next(work)

    def renamed(self, names: dict[str, str]) -> Ctx:
        """The same step with its ledger entries' balances renamed (``{"insurance_fund":
        "insurance_fund#ETH"}``): what a step run on a focused book calls a balance, as the book
        itself names it (``solvent.rules.market_funds``). Names only: no amount changes."""
        if not names:
            return self
        work = self._live()
        work.entries = [
            Guarded(
                g.guard,
                attrs.evolve(
                    g.item,
                    source=names.get(g.item.source, g.item.source),
                    destination=names.get(g.item.destination, g.item.destination),
                ),
            )
            for g in work.entries
        ]
        return self._next(work)

    def with_book(self, book: Book) -> Ctx:
        work = self._live()
        work.head = work.book = book
        work.accounts = None
        return self._next(work)

    def _fork(self, guard: Any) -> Ctx:
        """An independent context from the state so far, under ``guard`` (one side of a branch)."""
        work = self._live()
        return Ctx(
            work.current(), tuple(work.entries), tuple(work.outcomes), guard, tuple(work.fills), moved=work.moved
        )

    def branch(self, cond: Any, then: Callable[[Ctx], Ctx], other: Callable[[Ctx], Ctx] | None = None) -> Ctx:
        """Run ``then`` where ``cond`` holds and ``other`` (default: nothing) where it does not."""
        other = other or (lambda c: c)
        if type(cond) is bool:
            return then(self) if cond else other(self)
        work = self._live()
        n, m, f = len(work.entries), len(work.outcomes), len(work.fills)
        a = then(self._fork(and_(self.guard, cond)))
        b = other(self._fork(and_(self.guard, not_(cond))))
        wa, wb = a._live(), b._live()
        if wa.moved is not work.moved or wb.moved is not work.moved:
            raise InternalError("a branch of a step changed whether its mark moved (settle the mark before branching)")
        work.head = work.book = ite(cond, wa.current(), wb.current())
        work.accounts = None
        work.entries += wa.entries[n:] + wb.entries[n:]
        work.outcomes += wa.outcomes[m:] + wb.outcomes[m:]
        work.fills += wa.fills[f:] + wb.fills[f:]
        return self._next(work)


def system(book: Book, role: Role) -> str:
    """Name of the book's system account of that role."""
    return book.role(role).name


__all__ = [
    "ASSET",
    "Ctx",
    "Fill",
    "Guarded",
    "HAIRCUT_REASONS",
    "PNL_REASONS",
    "InternalError",
    "Reason",
    "Transfer",
    "asset_balance",
    "asset_of",
    "system",
]

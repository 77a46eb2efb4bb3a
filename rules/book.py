"""The book: the perpetual markets, the accounts trading them, and the venue's own accounts.

Accounting is settle-to-mark (variation margin), as dYdX v4, Backpack and clearing houses do
(docs/venues.md#dydx-v4-margin, #backpack-settlement-and-borrowing): every mark move pays each position's PnL in cash, so an account's equity
is its cash (plus spot collateral where the policy counts it) and every balance change is a
ledger transfer. The cost basis is kept only to state PnL since entry (ADL ranking, reports).

A book has one market or several (``Book.markets``, docs/portfolio.md). The first is ``market``
and each account's position in it is the account's own ``size_lots`` and ``cost_quote``; further
markets are ``more_markets`` and the positions in them ``Account.more_positions``, in the same
order. Every rule is written for "the market": an event on another market runs the same rules on
the book *focused* on it (:meth:`Book.focused`, a permutation that swaps that market and every
account's position in it into first place, and back afterwards), so there is one semantics for
one market and for many, and a one-market book is exactly the book it always was.

Counterparties are accounts too: the order book's aggregate (``liquidity``), the insurance fund,
the fee account, the backstop vault, the venue's own capital, and the ``clearing`` account that
nets mark-to-market settlement and must end every step at zero.
"""

from __future__ import annotations

import collections
import enum
import functools
import threading
from typing import Any

import attrs

from solvent.rules.arith import Rounding, div, sum_
from solvent.rules.fields import data, enum_repr, python_repr


class Role(enum.Enum):
    """What an account is for. Every book has exactly one account of each system role."""

    TRADER = "trader"
    LIQUIDITY = "liquidity"
    INSURANCE_FUND = "insurance_fund"
    FEE_ACCOUNT = "fee_account"
    BACKSTOP_VAULT = "backstop_vault"
    VENUE = "venue"
    CLEARING = "clearing"

    __repr__ = enum_repr


SYSTEM_ROLES = tuple(r for r in Role if r is not Role.TRADER)


class MarginMode(enum.Enum):
    """Cross: spot balances may back the margin account (if the policy says so). Isolated: never."""

    CROSS = "cross"
    ISOLATED = "isolated"

    __repr__ = enum_repr


@python_repr
@attrs.frozen
class Market:
    """One perpetual market. Prices are quote quanta per lot.

    ``previous_mark_quote`` is the mark before the last move (Hyperliquid closes ADL'd positions
    at the previous mark, docs/venues.md#hyperliquid-adl); it starts equal to the mark.

    ``fund_settled_quote`` is what the insurance fund has paid toward this market's bankruptcies
    since the market opened, kept where the policy caps that total (``[[market]]
    fund_cap_quote``: Drift's ``quote_settled_insurance`` beside ``quote_max_insurance``,
    :mod:`solvent.rules.insurance_claim`); ``None`` on a market whose policy sets no such cap, so
    every other book reads, digests and lifts into z3 as it did.
    """

    name: str
    mark_quote: Any = data()
    tick_quote: int = 1
    previous_mark_quote: Any = data(default=attrs.Factory(lambda self: self.mark_quote, takes_self=True))
    fund_settled_quote: Any = data(default=None)


def on_tick(price: Any, tick: Any, *, rounding: Rounding) -> Any:
    """``price`` rounded onto the tick grid (a whole number of ticks) in the named direction.

    ``rounding`` is required, as for :func:`~solvent.rules.arith.div`: ``FLOOR`` is the tick at or
    below the price, ``CEIL`` the tick at or above it, ``HALF_EVEN`` the nearest (ties to an even
    number of ticks). A price already on the grid is returned unchanged whatever the direction.
    Written over the arithmetic interface: an ``int`` on the concrete engine, a term on z3.

    Formula: ⌊price / tick⌉ × tick, with ⌊·⌉ the named rounding; the tick must be positive.
    """
    return div(price, tick, rounding=rounding) * tick


def is_on_tick(price: Any, tick: Any) -> Any:
    """Whether ``price`` is a whole number of ticks: a ``bool``, or a z3 Boolean on a term."""
    return on_tick(price, tick, rounding=Rounding.FLOOR) == price


#: 1.0 in the index quantum of a lent asset's deposit and borrow indices: 10^-10, Drift's
#: ``SPOT_CUMULATIVE_INTEREST_PRECISION`` (github.com/drift-labs/protocol-v2,
#: programs/drift/src/math/constants.rs), so an index step of one ppm of a ppm is still exact
INDEX_ONE = 10_000_000_000


@python_repr
@attrs.frozen
class Asset:
    """One collateral asset on the book (docs/portfolio.md, decision 2): its oracle price in
    settlement quanta per asset quantum, and its net deposits (asset quanta in minus out), which
    the accounts' balances of it must add up to (conservation per asset).

    An oracle move of the asset is the event ``AssetPrice``; its value as margin is the policy's
    (``[[collateral]]`` weights and cap, ``solvent.rules.assets``)."""

    name: str
    price_quote: Any = data()
    net_deposits: Any = data(default=0)
    #: the cumulative deposit and borrow indices of a lent asset (``solvent.rules.lending``), in
    #: units of ``INDEX_ONE`` (1.0): a record of every interest step and deposit-index loss, which
    #: the balances themselves receive as ledger transfers (docs/portfolio.md, decision 6)
    deposit_index: Any = data(default=INDEX_ONE)
    borrow_index: Any = data(default=INDEX_ONE)


@python_repr
@attrs.frozen
class Position:
    """An account's position in one market beyond the first: signed size and cost basis, as
    ``Account.size_lots`` and ``Account.cost_quote`` are for the first."""

    size_lots: Any = data(default=0)
    cost_quote: Any = data(default=0)


@python_repr
@attrs.frozen
class Account:
    """One account's balances.

    ``cash_quote`` is the margin balance (negative only when a deficit is carried);
    ``spot_quote`` is a spot balance kept apart from margin; ``size_lots`` is the signed position;
    ``cost_quote`` is the signed cost basis (Σ lots × entry price); ``principal_quote`` is the
    deposited capital still in the account; ``withdrawn_quote`` the total withdrawn;
    ``debt_quote`` what the account owes a lender off the book; ``window_pnl_quote`` the trading
    PnL since the current clawback window began. ``size_lots`` and ``cost_quote`` are the position
    in the book's first market; ``more_positions`` the positions in its further markets, in order.
    ``asset_balances`` holds the account's balance of each of the book's collateral assets
    (``Book.assets``), in that asset's quanta, in the book's order (empty on a one-asset book).
    ``owner`` and ``isolated_market`` make the account an isolated position (docs/portfolio.md,
    decision 3a): the margin ``owner`` set aside for its position in the market of that name, held
    apart from the owner's cross balances as a venue's isolated wallet is; empty for every other
    account (:func:`isolated_name`, :mod:`solvent.rules.isolated`).
    ``funding_remainder_millionths`` is the part of the account's funding below one quantum, in
    millionths of a quantum, where the policy carries it to the next payment
    (``rounding.funding_remainder = "carried"``; always 0 otherwise): the account's exact balance is
    ``cash_quote`` plus it, and a venue account holds the quanta that back it.
    """

    name: str
    role: Role = Role.TRADER
    margin_mode: MarginMode = MarginMode.CROSS
    cash_quote: Any = data(default=0)
    spot_quote: Any = data(default=0)
    size_lots: Any = data(default=0)
    cost_quote: Any = data(default=0)
    principal_quote: Any = data(default=0)
    withdrawn_quote: Any = data(default=0)
    debt_quote: Any = data(default=0)
    window_pnl_quote: Any = data(default=0)
    more_positions: tuple[Position, ...] = attrs.field(default=(), converter=tuple)
    funding_remainder_millionths: Any = data(default=0)
    asset_balances: tuple[Any, ...] = attrs.field(default=(), converter=tuple)
    #: the cross account whose isolated position this account is ("": an account of its own)
    owner: str = ""
    #: the market of that isolated position, by name ("" with no owner)
    isolated_market: str = ""
    #: The insurance fund's balance in each further market, in the book's order, where the policy
    #: keeps a fund per market (``[waterfall] scope = "per_market"``, ``solvent.rules.market_funds``);
    #: ``cash_quote`` is then the first market's fund. Empty on every other account, and on the
    #: fund of a pooled book (one fund for every market)
    more_funds: tuple[Any, ...] = attrs.field(default=(), converter=tuple)
    #: The quanta of reserved profit the account releases into matured profit an event, where the
    #: policy's haircut releases the reserve linearly (``haircut_ratio.release = "linear"``:
    #: percolator Gen B's ``w_slope_i``, spec v11.31 §2.1, §4.9); 0 with no reserve, and on every
    #: other policy's accounts
    reserve_slope_quote: Any = data(default=0)

    @property
    def is_trader(self) -> bool:
        return self.role is Role.TRADER

    @property
    def positions(self) -> tuple[Position, ...]:
        """The account's position in every market of its book, in the book's order."""
        return (Position(self.size_lots, self.cost_quote), *self.more_positions)

    def focused(self, index: int, funds: bool = True) -> Account:
        """This account with its position in market ``index`` and in the first market swapped
        (:meth:`Book.focused`), and a fund kept per market its balance in them too (unless
        ``funds`` is false); applied twice, the account itself."""
        if index == 0:
            return self
        other = self.more_positions[index - 1]
        more = list(self.more_positions)
        more[index - 1] = Position(self.size_lots, self.cost_quote)
        changes: dict[str, Any] = {}
        if self.more_funds and funds:
            funds = list(self.more_funds)
            funds[index - 1], changes["cash_quote"] = self.cash_quote, funds[index - 1]
            changes["more_funds"] = tuple(funds)
        return attrs.evolve(
            self, size_lots=other.size_lots, cost_quote=other.cost_quote, more_positions=tuple(more), **changes
        )


class _Checked:
    """The last few account tuples that passed ``_check_accounts``, by identity. A tuple and its
    accounts' names and roles never change, so a tuple checked once needs no second check when a
    book is evolved in another field or rebuilt around it (the engine does both on every step)."""

    def __init__(self, size: int) -> None:
        self._tuples: collections.OrderedDict[int, tuple[Account, ...]] = collections.OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def __contains__(self, accounts: tuple[Account, ...]) -> bool:
        with self._lock:
            return self._tuples.get(id(accounts)) is accounts

    def add(self, accounts: tuple[Account, ...]) -> None:
        with self._lock:
            self._tuples[id(accounts)] = accounts  # the reference keeps the id from being reused
            self._tuples.move_to_end(id(accounts))
            while len(self._tuples) > self._size:
                self._tuples.popitem(last=False)


_CHECKED = _Checked(size=16)


def _check_accounts(book: Book, _attribute: Any, accounts: tuple[Account, ...]) -> None:
    if accounts in _CHECKED:
        return
    names = [a.name for a in accounts]
    if len(set(names)) != len(names):
        counts = collections.Counter(names)
        raise ValueError(f"'accounts' must have unique names: {sorted(n for n, c in counts.items() if c > 1)}")
    _check_owners(accounts)
    roles = collections.Counter(a.role for a in accounts)
    for role in SYSTEM_ROLES:
        if roles[role] != 1:
            raise ValueError(f"'accounts' must hold exactly one {role.value} account: {roles[role]}")
    _CHECKED.add(accounts)


def _check_owners(accounts: tuple[Account, ...]) -> None:
    """An isolated position belongs to a cross trader of the same book, one per owner and market."""
    by_name = {a.name: a for a in accounts}
    seen = set()
    for a in accounts:
        if not a.owner and not a.isolated_market:
            continue
        owner = by_name.get(a.owner)
        if owner is None or not owner.is_trader or owner.owner or not a.isolated_market or not a.is_trader:
            raise ValueError(
                f"account {a.name!r} must be an isolated position of a trader of the book, in a named market: "
                f"owner {a.owner!r}, market {a.isolated_market!r}"
            )
        if (a.owner, a.isolated_market) in seen:
            raise ValueError(f"{a.owner!r} must hold one isolated position per market: two in {a.isolated_market!r}")
        seen.add((a.owner, a.isolated_market))


def isolated_name(owner: str, market: str) -> str:
    """The account name of ``owner``'s isolated position in ``market``: ``alice:BTC``."""
    return f"{owner}:{market}"


@python_repr
@attrs.frozen
class Book:
    """The whole state a policy acts on. ``net_deposits_quote`` counts money in minus money out;
    ``insurance_window_sum_quote`` is the sum of the insurance fund's balance at the start of each
    event of the current drawdown window (OKX's ADL trigger, ``solvent.rules.fund_drawdown``)."""

    market: Market
    accounts: tuple[Account, ...] = attrs.field(validator=_check_accounts)
    net_deposits_quote: Any = data(default=0)
    insurance_window_sum_quote: Any = data(default=0)
    clock: int = 0
    more_markets: tuple[Market, ...] = attrs.field(default=(), converter=tuple)
    #: the collateral assets besides settlement cash (docs/portfolio.md, decision 2), in the order
    #: of every account's ``asset_balances``; empty: the one-asset book
    assets: tuple[Asset, ...] = attrs.field(default=(), converter=tuple)
    #: where the insurance fund is kept per market (``Account.more_funds``): the drawdown window's
    #: sum of each further market's fund, as ``insurance_window_sum_quote`` is the first market's
    #: (``solvent.rules.fund_drawdown``); empty on every other book
    more_window_sums: tuple[Any, ...] = attrs.field(default=(), converter=tuple)

    def __attrs_post_init__(self) -> None:
        if self.assets:
            self._check_assets()
        if not self.more_markets:  # one market: nothing more to check (books are built on every step)
            return
        names = [m.name for m in self.markets]
        if len(set(names)) != len(names):
            raise ValueError(f"'more_markets' must have names of their own: {names}")
        for a in self.accounts:
            if len(a.more_positions) != len(self.more_markets):
                raise ValueError(
                    f"account {a.name!r} must hold one position per further market: "
                    f"{len(a.more_positions)} for {len(self.more_markets)}"
                )
            if a.more_funds and (a.role is not Role.INSURANCE_FUND or len(a.more_funds) != len(self.more_markets)):
                raise ValueError(
                    f"only the insurance fund holds a balance per further market: {a.name!r} holds "
                    f"{len(a.more_funds)} for {len(self.more_markets)}"
                )
        if self.more_window_sums and len(self.more_window_sums) != len(self.more_markets):
            raise ValueError(
                f"'more_window_sums' must hold one sum per further market: {len(self.more_window_sums)} "
                f"for {len(self.more_markets)}"
            )

    def _check_assets(self) -> None:
        names = [a.name for a in self.assets]
        if len(set(names)) != len(names) or "" in names:
            raise ValueError(f"'assets' must have names of their own: {names}")
        for a in self.accounts:
            if len(a.asset_balances) != len(self.assets):
                raise ValueError(
                    f"account {a.name!r} must hold one balance per asset: {len(a.asset_balances)} for {len(self.assets)}"
                )

    def asset_index(self, name: str) -> int:
        """Position of the named collateral asset in ``assets``; ``KeyError`` naming the assets otherwise."""
        for i, a in enumerate(self.assets):
            if a.name == name:
                return i
        raise KeyError(f"unknown asset {name!r}; the book has {[a.name for a in self.assets]}")

    @property
    def markets(self) -> tuple[Market, ...]:
        """Every market of the book, the first one first."""
        return (self.market, *self.more_markets)

    def market_named(self, name: str) -> Market:
        """The named market (``""``: the first), as :meth:`market_index` finds it."""
        return self.markets[self.market_index(name)]

    def market_index(self, name: str) -> int:
        """Position of the named market (``""``: the first); ``KeyError`` naming the markets otherwise."""
        if not name or name == self.market.name:
            return 0
        for i, m in enumerate(self.more_markets, start=1):
            if m.name == name:
                return i
        raise KeyError(f"unknown market {name!r}; the book has {[m.name for m in self.markets]}")

    def focused(self, index: int, funds: bool = True) -> Book:
        """The same book with market ``index`` first: that market and every account's position
        in it swapped with the first (a permutation of fields, no arithmetic, so the same under
        z3), and a fund kept per market with its window swapped too unless ``funds`` is false
        (``rules.liquidation.close_in_market``: what a liquidation pays while closing another
        market goes to the fund that already stands first). The rules act on the first market;
        applied twice, the book itself."""
        if index == 0:
            return self
        more = list(self.more_markets)
        more[index - 1] = self.market
        accounts = tuple(a.focused(index, funds) for a in self.accounts)
        changes: dict[str, Any] = {}
        if self.more_window_sums and funds:  # a fund kept per market: its drawdown window goes with it
            sums = list(self.more_window_sums)
            sums[index - 1], changes["insurance_window_sum_quote"] = self.insurance_window_sum_quote, sums[index - 1]
            changes["more_window_sums"] = tuple(sums)
        return self.with_balances(accounts).with_fields(
            market=self.more_markets[index - 1], more_markets=tuple(more), **changes
        )

    @functools.cached_property
    def _positions(self) -> dict[str, int]:
        """Account name → position in ``accounts``, built once per book (and shared by the books a
        step rebuilds around new balances, whose names stand where they stood)."""
        return {a.name: i for i, a in enumerate(self.accounts)}

    @functools.cached_property
    def _isolated(self) -> dict[tuple[str, str], str]:
        """(owner, market name) → the name of the owner's isolated position in that market."""
        return {(a.owner, a.isolated_market): a.name for a in self.accounts if a.owner}

    @property
    def has_isolated(self) -> bool:
        """Whether any account of the book is an isolated position."""
        return bool(self._isolated)

    def isolated_account(self, owner: str, market: str) -> str | None:
        """The name of ``owner``'s isolated position in the market named ``market``, or None (its
        position there, if any, is cross)."""
        return self._isolated.get((owner, market)) if self._isolated else None

    @functools.cached_property
    def _role_positions(self) -> dict[Role, int]:
        """Role → position of the first account of that role."""
        out: dict[Role, int] = {}
        for i, a in enumerate(self.accounts):
            out.setdefault(a.role, i)
        return out

    def index(self, name: str) -> int:
        """Position of the named account; ``KeyError`` naming the known accounts otherwise."""
        try:
            return self._positions[name]
        except KeyError:
            raise KeyError(f"unknown account {name!r}; the book has {[a.name for a in self.accounts]}") from None

    def account(self, name: str) -> Account:
        return self.accounts[self.index(name)]

    def role(self, role: Role) -> Account:
        """The system account of that role."""
        return self.accounts[self._role_positions[role]]

    @property
    def traders(self) -> tuple[Account, ...]:
        return tuple(a for a in self.accounts if a.is_trader)

    def replace_account(self, index: int, account: Account) -> Book:
        """This book with ``account`` at ``index`` (a copy of the whole tuple: a step in progress
        updates its working copy instead, ``solvent.rules.ledger.Ctx``)."""
        accounts = self.accounts[:index] + (account,) + self.accounts[index + 1 :]
        if account.name != self.accounts[index].name or account.role is not self.accounts[index].role:
            return attrs.evolve(self, accounts=accounts)
        return self.with_balances(accounts)

    def with_balances(self, accounts: tuple[Account, ...]) -> Book:
        """This book with ``accounts`` in place of its own: the same names and roles in the same
        order, with other balances (the caller's promise; not checked again). The name index is
        shared, so the new book looks accounts up without building it again."""
        _CHECKED.add(accounts)
        return self._keeping_lookups(attrs.evolve(self, accounts=accounts))

    def with_fields(self, **changes: Any) -> Book:
        """``attrs.evolve`` of fields other than ``accounts``, keeping the lookups built so far."""
        if "accounts" in changes:
            raise TypeError("with_fields changes the book's other fields; use with_balances for its accounts")
        return self._keeping_lookups(attrs.evolve(self, **changes))

    def _keeping_lookups(self, book: Book) -> Book:
        for cached in _cached_names(self):
            object.__setattr__(book, cached, getattr(self, cached))
        return book

    @property
    def funds_per_market(self) -> bool:
        """Whether the insurance fund keeps a balance per market (``Account.more_funds``)."""
        return bool(self.more_markets) and bool(self.role(Role.INSURANCE_FUND).more_funds)

    def total_cash_quote(self) -> Any:
        """Σ cash + spot over every account except clearing (money the venue holds for someone),
        a fund kept per market counted in every market."""
        held = sum_(a.cash_quote + a.spot_quote for a in self.accounts if a.role is not Role.CLEARING)
        if not self.funds_per_market:
            return held  # the same sum (and z3 term) as before funds per market
        return held + sum_(self.role(Role.INSURANCE_FUND).more_funds)

    def total_asset(self, index: int) -> Any:
        """Σ balance of collateral asset ``index`` over every account except clearing, in its quanta."""
        return sum_(a.asset_balances[index] for a in self.accounts if a.role is not Role.CLEARING)


def _cached_names(book: Book) -> set[str]:
    """The cached lookups ``book`` has built so far."""
    out = set()
    for name in ("_positions", "_role_positions", "_isolated"):
        try:
            object.__getattribute__(book, name)
        except AttributeError:
            continue
        out.add(name)
    return out


def new_book(
    *,
    market: str = "PERP",
    mark_quote: int,
    traders: tuple[str, ...] = ("alice", "bob"),
    tick_quote: int = 1,
    isolated: tuple[str, ...] = (),
    more_markets: tuple[Market, ...] = (),
    assets: tuple[Asset, ...] = (),
    isolated_positions: tuple[tuple[str, str], ...] = (),
    fund_per_market: bool = False,
) -> Book:
    """An empty book: the named traders and one account per system role, all at zero, in one
    market or (``more_markets``) several, holding no collateral asset (``assets``) yet. Each
    (trader, market name) of ``isolated_positions`` gives that trader an isolated position in that
    market (``alice:BTC``, right after its owner), holding no margin yet. With ``fund_per_market`` the insurance fund holds a
    balance in each market (``[waterfall] scope = "per_market"``)."""
    flat = tuple(Position() for _ in more_markets)
    none = tuple(0 for _ in assets)
    accounts: list[Account] = []  # a list: a tuple grown one trader at a time is copied each time
    for name in traders:
        mode = MarginMode.ISOLATED if name in isolated else MarginMode.CROSS
        accounts.append(Account(name, margin_mode=mode, more_positions=flat, asset_balances=none))
        accounts += (
            Account(
                isolated_name(name, m),
                margin_mode=MarginMode.ISOLATED,
                more_positions=flat,
                asset_balances=none,
                owner=name,
                isolated_market=m,
            )
            for owner, m in isolated_positions
            if owner == name
        )
    funds = tuple(0 for _ in more_markets) if fund_per_market else ()
    accounts += (
        Account(
            role.value,
            role=role,
            more_positions=flat,
            asset_balances=none,
            more_funds=funds if role is Role.INSURANCE_FUND else (),
        )
        for role in SYSTEM_ROLES
    )
    return Book(
        Market(market, mark_quote, tick_quote),
        tuple(accounts),
        more_markets=more_markets,
        assets=assets,
        more_window_sums=funds,
    )

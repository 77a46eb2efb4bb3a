"""The fast path engine: a path's book as numpy int64 arrays over accounts, equal to the exact engine.

One semantics, split by what a step reads. A mark event does two kinds of work:

- **Over every account** (vectorized here): mark-to-market settlement (``settlement.settle_mark``:
  each position is paid ``S × (M' − M)`` through ``clearing``), the maintenance check of every
  trader (``margin.account_maintenance`` and ``liquidation.is_triggered``: tiers, the policy's
  margin rounding, the mark or entry basis), the clawback window's reset (``clawback.open_window``),
  the fund's drawdown window (``fund_drawdown.sample``) and the re-basing of capital on losses (``haircut_ratio.settle_losses``). These are written
  again below over arrays, with the same named roundings (:func:`div`, the rules' ``div``), and
  guarded against int64 overflow before any product is taken.
- **For one account at a time** (run by the exact engine's own functions): the liquidation of each
  trader the check found, in book order, through ``solvent.rules.engine.liquidate`` on a *small
  book* holding that trader and the venue's accounts (the book's liquidity, the insurance fund, the
  fee account, the backstop vault, the venue, clearing), then written back. Execution at market,
  at bankruptcy or by takeover, slippage, penalties, partial closes, the insurance fund, the
  backstop vault, the fee pool, the venue and a carried debt read and change nothing else, so the
  small book gives the same transfers, outcomes and balances as the whole one.
- **The opening deposits and trades** on plain ints, as ``engine._deposit`` and ``engine._trade``
  do them into a fresh account at the mark (positions by ``positions._moved``, fees by the rules'
  ``mul_ppm``, the order-entry check by ``wellformed.opening_covered``); any other opening event,
  or one that check refuses, through ``solvent.rules.engine.step`` on a small book of the accounts
  it names (which accepts it or rejects it with its own message).

- **ADL** (:func:`_deleverage`): a liquidation the small book shows reaching the ``adl`` layer
  runs again on a book of that trader, the venue's accounts and the traders the queue can reach:
  the opposing traders are scored over the arrays (``adl.score``, exact Python ints), ordered as
  floats, and every one whose float score is within :data:`FLOAT_MARGIN` of the last the order
  needs to cover the position, or above, is in that book, so the exact engine's own sort serves the
  same prefix; a trader left out closes nothing and leaves only its ``AdlFill`` of 0 lots, which
  is put back in book order with its score. A trader the queue changed is checked again when the
  sweep reaches it, as ``engine.sweep`` does.

- **A mechanism over other traders** (the liquidation runs on the whole book): a liquidation the
  small book shows reaching a waterfall layer that charges other traders with a deficit left
  (``socialized_loss``, ``haircut_ratio``, ``clawback``; ``adl`` where :func:`covers_adl` refuses
  it), or a bankruptcy under ADL on the insurance fund's drawdown (okx: ADL may then run with no
  deficit left) or under a socialized loss with ``cascade`` (drift, mango-v4: every other trader
  left below zero is resolved in turn), is run again by the exact engine's own ``liquidate`` on
  the whole book built from the arrays, and written back; the step stays on the arrays (the
  settlement, the maintenance check, the other liquidations), and the traders it changed later
  in the order are checked again when the sweep reaches them, as ``engine.sweep`` does. The path
  counts those liquidations by mechanism (``Ran.whole_book``; the report's engine line).

What the arrays do not hold runs on the exact engine, a step on the whole book built from the
arrays as they stood before it; the arrays take its book after it, and the path goes on fast; the
path's result says why (``Ran.fallback``, ``Ran.exact_steps``):

- statically (:func:`covers`), a policy with a PnL-to-pool ADL (it runs over every account after
  every sweep), percolator's PnL warm-up or side index (a liquidation's lots go to every opposing
  position), a fund that holds what it takes over: every step of its paths runs on the exact engine;
- a balance or product that might leave int64 (checked on magnitudes before multiplying), a spot
  balance, an event that is not a valid mark price, ADL fills not in the one run the queue writes.

Equality is the contract: ``tests/simulation/test_sim_fast.py`` compares the book after every step,
the liquidations' transfers and outcomes, and every path's :class:`PathOutcome` with the exact
engine's, on generated paths and every preset.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import attrs
import numpy as np

from solvent.rules.arith import PPM, Rounding, mul_ppm
from solvent.rules.book import Account, Book, MarginMode, Role
from solvent.rules.engine import RejectedEvent, liquidate, step
from solvent.rules.events import Deposit, Event, MarkPrice, SpotDeposit, Taker, Trade, Withdraw
from solvent.rules.haircut_ratio import settles_losses
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.liquidation import Trigger, fund_holds, pools_holding
from solvent.rules.margin import MaintenanceBasis, counts_spot
from solvent.rules.margin import equity as equity_of
from solvent.rules.outcomes import AdlFill, Bankrupt, BookDeleveraged, LayerUsed, PoolAdlFill, PoolAdlTriggered
from solvent.rules.policy import Policy
from solvent.rules.positions import _moved
from solvent.rules.side_index import shrinks_opposing_side
from solvent.rules.waterfall import Clawback, HaircutRatio, Ranking, SocializedLoss
from solvent.rules.wellformed import opening_covered
from solvent.simulation.engine import Ran, SetupRejected, exact
from solvent.simulation.outcome import PathOutcome, Tally, pays_for_others
from solvent.simulation.population import Population

#: the account fields the arrays hold, in row order
FIELDS = (
    "cash_quote",
    "spot_quote",
    "size_lots",
    "cost_quote",
    "principal_quote",
    "withdrawn_quote",
    "debt_quote",
    "window_pnl_quote",
)
CASH, SPOT, SIZE, COST, PRINCIPAL, WITHDRAWN, DEBT, WINDOW = range(len(FIELDS))
#: account fields beyond those that are empty on a book of one market (``Account.more_positions``,
#: the positions in further markets), on a path with no funding payment (a path moves the mark
#: only, so ``Account.funding_remainder_millionths`` stays 0) and on a book with no collateral
#: assets (``Account.asset_balances``: a simulated book deposits settlement currency only): an
#: account built from the arrays leaves them at their default
ONE_MARKET_FIELDS = frozenset({"more_positions", "funding_remainder_millionths", "asset_balances"})
#: account fields the arrays leave at their default too, on a book with no isolated position
#: (``Account.owner``, ``isolated_market``: docs/portfolio.md decision 3a) and no fund per market
#: (``more_funds`` on the insurance fund: decision 5a; the book's ``more_window_sums`` beside it); a
#: population book that sets any of them runs on the exact engine, and says so
DEFAULT_FIELDS = frozenset({"owner", "isolated_market", "more_funds", "reserve_slope_quote"})
#: every magnitude an array operation may produce stays below this (int64 holds up to 2^63 − 1)
LIMIT = 2**62
#: waterfall layers that charge other traders: reached with a deficit, the step leaves the fast path
OTHERS_LAYERS = {
    "adl": "ADL layer",
    "socialized_loss": "socialized loss layer",
    "haircut_ratio": "haircut layer",
    "clawback": "clawback layer",
}
#: outcomes only a mechanism over other accounts names
OTHERS_OUTCOMES = (AdlFill, BookDeleveraged, PoolAdlFill, PoolAdlTriggered)
#: of those, the ADL layer's, which the fast engine runs (:func:`_deleverage`)
ADL_OUTCOMES = (AdlFill, BookDeleveraged)


class Fallback(Exception):
    """This step needs the exact engine on the whole book; ``reason`` says why (shown in reports)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def covers(policy: Policy) -> str | None:
    """``None`` when the fast engine covers the policy's mechanisms, else why it does not (a
    mechanism that reads every account inside a step, which a path then runs on the exact engine)."""
    reasons = []
    if policy.pnl_to_pool_adl is not None:
        reasons.append("PnL-to-pool ADL")
    haircut = policy.layer(HaircutRatio)
    if haircut is not None and haircut.warmup_events is not None:
        reasons.append("percolator's PnL warm-up")
    if fund_holds(policy.liquidation):
        reasons.append("the insurance fund's held position")
    if shrinks_opposing_side(policy):
        reasons.append("percolator's side index (every liquidation shrinks the opposing positions)")
    if policy.fund_capped_markets:
        # the running total is the market's (Market.fund_settled_quote), which the small books a
        # liquidation runs on are built without and not written back from
        reasons.append("an insurance claim capped per market (its running total)")
    return ", ".join(reasons) or None


# --- exact integer arithmetic over arrays, the rules' named roundings ------------------------


def div(n: np.ndarray, d: int, rounding: Rounding) -> np.ndarray:
    """``solvent.rules.arith.div`` over an int64 array: ``n / d`` rounded as named, ``d > 0``."""
    if d <= 0:
        raise ZeroDivisionError(f"div needs a positive divisor, got {d}")
    if rounding is Rounding.FLOOR:
        return n // d
    if rounding is Rounding.CEIL:
        return -((-n) // d)
    q, r = np.divmod(n, d)
    twice = 2 * r
    return q + ((twice > d) | ((twice == d) & (q % 2 == 1)))


#: the most policies (and tier tables) the caches below hold before they start again
CACHED = 256
#: each tier table's floors, maintenance rates and amounts as arrays, by the tiers' identity
_TIER_ARRAYS: dict[int, tuple[Any, np.ndarray, np.ndarray, np.ndarray]] = {}


def _tier_arrays(tiers: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tiers' floors, ``maintenance_ppm`` and ``maintenance_amount_quote``, as int64 arrays
    (built once per tier table: a mark step reads them for every trader)."""
    hit = _TIER_ARRAYS.get(id(tiers))
    if hit is None or hit[0] is not tiers:
        hit = (
            tiers,
            *(
                np.array([getattr(t, f) for t in tiers], dtype=np.int64)
                for f in ("floor_notional_quote", "maintenance_ppm", "maintenance_amount_quote")
            ),
        )
        if len(_TIER_ARRAYS) >= CACHED:
            _TIER_ARRAYS.clear()  # a long run of many policies (tests, sweeps) keeps none alive for good
        _TIER_ARRAYS[id(tiers)] = hit
    return hit[1], hit[2], hit[3]


def maintenance(policy: Policy, size: np.ndarray, cost: np.ndarray, mark: int) -> np.ndarray:
    """``margin.account_maintenance`` over arrays: ``max(N × MMR_tier (rounded) − cum_tier, 0)``,
    N = |S| × M (or |cost| on an entry basis). The caller has bounded N × PPM."""
    if policy.margin.maintenance_basis is MaintenanceBasis.ENTRY:
        n = np.abs(cost)
    else:
        n = np.abs(size) * mark
    return _tiered(policy, n)


def _tiered(policy: Policy, n: np.ndarray) -> np.ndarray:
    """``venue_formulas.tiered_maintenance_margin`` of notionals ``n`` in their tiers
    (``margin._tier_field``: the last tier whose floor the notional reaches)."""
    tiers = policy.margin.tiers
    if len(tiers) == 1:
        mmr, amount = tiers[0].maintenance_ppm, tiers[0].maintenance_amount_quote
    else:
        floors, rates, amounts = _tier_arrays(tiers)
        # floors rise from 0: the tier is the last one whose floor is at or below the notional
        at = np.searchsorted(floors, n, side="right") - 1
        mmr, amount = rates[at], amounts[at]
    return np.maximum(div(n * mmr, PPM, policy.rounding.margin) - amount, 0)


def triggered(policy: Policy, equity: np.ndarray, mm: np.ndarray, size: np.ndarray) -> np.ndarray:
    """``liquidation.is_triggered`` over arrays."""
    if policy.liquidation.trigger is Trigger.AT_OR_BELOW_MAINTENANCE:
        return (size != 0) & (equity <= mm)
    return (size != 0) & (equity < mm)


def _bound(*magnitudes: int) -> None:
    if max(magnitudes) >= LIMIT:
        raise Fallback("int64 bound")


def _absmax(a: np.ndarray) -> int:
    return int(np.abs(a).max()) if a.size else 0


# --- the book as arrays ----------------------------------------------------------------------


class ArrayBook:
    """A book's accounts as an int64 array ``F[field, account]`` in the book's order, and its
    other fields as Python values. :meth:`to_book` gives back the frozen book, equal to the exact
    engine's."""

    def __init__(self, book: Book) -> None:
        self.names = tuple(a.name for a in book.accounts)
        self.roles = tuple(a.role for a in book.accounts)
        self.modes = tuple(a.margin_mode for a in book.accounts)
        self.index = {name: i for i, name in enumerate(self.names)}
        self.system = [i for i, r in enumerate(self.roles) if r is not Role.TRADER]
        self.system_set = frozenset(self.system)
        self.is_trader = [r is Role.TRADER for r in self.roles]
        self.traders = np.array([i for i, r in enumerate(self.roles) if r is Role.TRADER], dtype=np.intp)
        #: the traders' columns: a slice where they are contiguous (a population book's are: the
        #: traders, then the venue's accounts), so a read of them is a view rather than a copy
        first = int(self.traders[0]) if len(self.traders) else 0
        contiguous = np.array_equal(self.traders, np.arange(first, first + len(self.traders)))
        self.columns: slice | np.ndarray = slice(first, first + len(self.traders)) if contiguous else self.traders
        self.clearing = self.roles.index(Role.CLEARING)
        self.fund = self.roles.index(Role.INSURANCE_FUND)
        self.liquidity = self.roles.index(Role.LIQUIDITY)
        self.fee_account = self.roles.index(Role.FEE_ACCOUNT)
        self.cross = np.array([m is MarginMode.CROSS for m in self.modes])
        self.load(book)

    def load(self, book: Book) -> None:
        """Take the balances and fields of ``book`` (the same accounts, after an exact step);
        ``OverflowError`` if a balance leaves int64."""
        self.F = np.array([[getattr(a, f) for a in book.accounts] for f in FIELDS], dtype=np.int64)
        self.market = book.market
        self.net_deposits = book.net_deposits_quote
        self.window_sum = book.insurance_window_sum_quote
        self.clock = book.clock

    def account_of(self, i: int, cols: list[list[int]]) -> Account:
        """Account ``i`` of the columns ``cols`` (the fields after name, role and margin mode are
        :data:`FIELDS`, in that order: ``FastPath.run`` checks it)."""
        return Account(self.names[i], self.roles[i], self.modes[i], *[col[i] for col in cols])

    def account(self, i: int, F: np.ndarray | None = None) -> Account:
        return self.accounts([i], self.F if F is None else F)[0]

    def accounts(self, indices: list[int], F: np.ndarray) -> tuple[Account, ...]:
        """The accounts ``indices`` of ``F``, in that order (the fields after name, role and margin
        mode are :data:`FIELDS`, in that order: ``FastPath.run`` checks it)."""
        names, roles, modes = self.names, self.roles, self.modes
        rows = F[:, indices].T.tolist()
        return tuple(Account(names[i], roles[i], modes[i], *row) for i, row in zip(indices, rows, strict=True))

    def to_book(self, F: np.ndarray | None = None) -> Book:
        accounts = self.accounts(list(range(len(self.names))), self.F if F is None else F)
        return Book(self.market, accounts, self.net_deposits, self.window_sum, self.clock)

    def small(
        self, named: Sequence[int], F: np.ndarray, built: dict[int, Account] | None = None
    ) -> tuple[list[int], Book]:
        """The named accounts and every venue account, in book order, as a small book. ``built``:
        accounts already built from ``F`` as it stands, by index (a sweep keeps the venue's accounts
        there between liquidations, and puts in what each liquidation wrote back); it takes the
        ones built here."""
        indices = sorted(self.system_set.union(named))
        if built is None:
            accounts = self.accounts(indices, F)
        else:
            missing = [j for j in indices if j not in built]
            if missing:
                built.update(zip(missing, self.accounts(missing, F), strict=True))
            accounts = tuple(built[j] for j in indices)
        return indices, Book(self.market, accounts, self.net_deposits, self.window_sum, self.clock)

    def write(self, indices: list[int], book: Book, F: np.ndarray, before: Book) -> list[tuple[int, Account]]:
        """Write a small book's accounts back (``Fallback`` if a value leaves int64); the accounts
        written, by index (an account the step did not change is the same object)."""
        changed = [(i, a) for i, a, was in zip(indices, book.accounts, before.accounts, strict=True) if a is not was]
        try:
            for i, a in changed:
                F[:, i] = [getattr(a, f) for f in FIELDS]
        except OverflowError:
            raise Fallback("int64 bound") from None
        return changed


# --- the engine --------------------------------------------------------------------------------


def _equity(policy: Policy, ab: ArrayBook, F: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``margin.equity``: cash, plus spot for a cross account under a spot-collateral policy."""
    if policy.margin.spot_collateral:
        return F[CASH, idx] + np.where(ab.cross[idx], F[SPOT, idx], 0)
    return F[CASH, idx]


def _named(event: Event) -> list[str]:
    return [n for f in ("account", "buyer", "seller") if (n := getattr(event, f, None)) is not None]


def setup_step(policy: Policy, ab: ArrayBook, event: Event) -> tuple[list[Any], list[Any]]:
    """An opening deposit or trade: ``step`` on the small book of the accounts it names."""
    if not isinstance(event, (Deposit, Trade, Withdraw, SpotDeposit)):
        raise Fallback(f"a {type(event).__name__} event in the setup")
    named = []
    for name in _named(event):
        if name not in ab.index:
            raise Fallback("an unknown account in the setup")
        named.append(ab.index[name])
    indices, small = ab.small(named, ab.F)
    s = step(policy, small, event)
    after = s.after
    ab.write(indices, after, ab.F, small)
    ab.market, ab.net_deposits = after.market, after.net_deposits_quote
    ab.window_sum, ab.clock = after.insurance_window_sum_quote, after.clock
    return list(s.transfers), list(s.outcomes)


def _fresh(cols: list[list[int]], i: int) -> bool:
    return all(col[i] == 0 for col in cols)


def _opening_deposit(policy: Policy, ab: ArrayBook, cols: list[list[int]], event: Deposit) -> bool:
    """``engine._deposit`` into an account that holds nothing yet (every opening deposit): its cash
    and principal become the amount (nothing to absorb, no debt to repay), the book's deposits grow.
    False where that does not apply (the caller runs the exact step instead)."""
    i = ab.index.get(event.account)
    amount = event.amount_quote
    if i is None or type(amount) is not int or amount <= 0 or ab.roles[i] is Role.CLEARING or not _fresh(cols, i):
        return False
    cols[CASH][i] = amount
    cols[PRINCIPAL][i] = amount
    ab.net_deposits += amount
    return True


def _opening_trade(policy: Policy, ab: ArrayBook, cols: list[list[int]], event: Trade) -> bool:
    """``engine._trade`` at the mark (every opening trade): no cash moves for the price
    (``positions.fill``: lots × (P − M) = 0), each side's position moves (``positions._moved``),
    each pays its fee to the fund's share and the fee account (``fees.charge_fee``); the order-entry
    check (``engine.post_requirements``) read on each side after. False where any of that does not
    hold: the caller runs the exact step, which accepts or rejects the event itself."""
    lots, price, mark = event.lots, event.price_quote, ab.market.mark_quote
    b, s = ab.index.get(event.buyer), ab.index.get(event.seller)
    if b is None or s is None or b == s or ab.roles[b] is not Role.TRADER or ab.roles[s] is not Role.TRADER:
        return False
    if type(lots) is not int or lots <= 0 or price != mark or price % ab.market.tick_quote:
        return False
    fees, rounding = policy.fees, policy.rounding
    if min(fees.taker_ppm, fees.maker_ppm, fees.insurance_share_ppm) < 0:
        return False
    taker = b if event.taker is Taker.BUYER else s
    notional = lots * price
    # each side's fields (FIELDS order) as the trade leaves them, written to the columns once
    # both pass the order-entry check (a refused trade changes nothing: the exact step rejects it)
    rows = {i: [col[i] for col in cols] for i in (b, s)}
    to_fund = to_fee = 0
    for i, delta in ((b, lots), (s, -lots)):
        row = rows[i]
        row[SIZE], row[COST] = _moved(row[SIZE], delta, row[COST], price)
        fee = mul_ppm(notional, fees.taker_ppm if i == taker else fees.maker_ppm, rounding=rounding.fee)
        share = mul_ppm(fee, fees.insurance_share_ppm, rounding=Rounding.FLOOR)
        row[CASH] -= fee
        to_fund += share
        to_fee += fee - share
    settles = plan(policy).settles_capital
    for i, delta in ((b, lots), (s, -lots)):
        row, s0 = rows[i], cols[SIZE][i]
        after = Account(ab.names[i], ab.roles[i], ab.modes[i], *row)
        if settles:
            equity = row[CASH] + (row[SPOT] if counts_spot(policy.margin, after) else 0)
            row[PRINCIPAL] = min(row[PRINCIPAL], max(equity, 0))
            after = Account(ab.names[i], ab.roles[i], ab.modes[i], *row)
        grows = abs(after.size_lots) > abs(s0) or after.size_lots * s0 < 0
        if (grows and not opening_covered(policy, after, delta, price, mark)) or equity_of(policy.margin, after) < 0:
            return False
    for i, row in rows.items():
        for col, v in zip(cols, row, strict=True):
            col[i] = v
    cols[CASH][ab.fund] += to_fund
    cols[CASH][ab.fee_account] += to_fee
    return True


def fast_setup(policy: Policy, ab: ArrayBook, events: Sequence[Event]) -> None:
    """The opening deposits and trades on plain ints (each as the exact step does it, checked by the
    differential tests), any other event on a small book; then into the arrays."""
    cols = ab.F.tolist()
    for event in events:
        window_sum = ab.window_sum
        ab.window_sum = sampled(policy, ab, cols[CASH][ab.fund])
        done = (isinstance(event, Deposit) and _opening_deposit(policy, ab, cols, event)) or (
            isinstance(event, Trade) and _opening_trade(policy, ab, cols, event)
        )
        if done:
            ab.clock += 1
            continue
        ab.window_sum = window_sum  # the exact step samples the fund itself
        ab.F = _array(cols)
        setup_step(policy, ab, event)
        cols = ab.F.tolist()
    ab.F = _array(cols)


def _array(cols: list[list[int]]) -> np.ndarray:
    try:
        return np.array(cols, dtype=np.int64)
    except OverflowError:
        raise Fallback("int64 bound") from None


def sampled(policy: Policy, ab: ArrayBook, fund: int) -> Any:
    """``fund_drawdown.sample`` at the start of an event: the window's running sum of the fund's
    balance (unchanged without ADL on a fund drawdown)."""
    window = plan(policy).drawdown_window
    if window is None:
        return ab.window_sum
    return fund if ab.clock % window == 0 else ab.window_sum + fund


def _others(outcomes: Sequence[Any], adl: bool = False) -> str | None:
    """Why these outcomes need the whole book, or None; ``adl``: the ADL layer's own records are
    covered (:func:`_deleverage` runs it on a book of the accounts it can reach)."""
    for o in outcomes:
        if adl and type(o) is AdlFill:
            continue
        if isinstance(o, LayerUsed) and o.layer in OTHERS_LAYERS:
            if adl and o.layer == "adl":
                continue
            return OTHERS_LAYERS[o.layer]
        if isinstance(o, OTHERS_OUTCOMES):
            if adl and isinstance(o, ADL_OUTCOMES):
                continue
            return "ADL fill"
    return None


def covers_adl(policy: Policy) -> bool:
    """The policy's ADL layer runs on the arrays (:func:`_deleverage`): any ranking, price and
    rounding, with or without ``book_last``; not the OKX trigger on the fund's drawdown, which may
    deleverage with no deficit left, nor dYdX's overlap rule (``overlap_only``), which may skip an
    account inside the prefix of the queue the arrays take (those steps go to the exact engine)."""
    return policy.adl is not None and policy.adl.fund_drawdown is None and not policy.adl.overlap_only


def _adl_ran(outcomes: Sequence[Any]) -> bool:
    return any(isinstance(o, ADL_OUTCOMES) or (isinstance(o, LayerUsed) and o.layer == "adl") for o in outcomes)


def scores(policy: Policy, ab: ArrayBook, F: np.ndarray, idx: np.ndarray, mark: int) -> tuple[np.ndarray, np.ndarray]:
    """``adl.score`` of the accounts ``idx`` as exact Python ints (numpy object arrays; the
    products may leave int64): the numerators and the positive denominators."""
    ranking = policy.adl.ranking
    size = F[SIZE, idx].astype(object)
    cost = F[COST, idx].astype(object)
    e = _equity(policy, ab, F, idx).astype(object)
    up = size * mark - cost
    value = np.abs(size) * mark
    cost_safe = np.maximum(np.abs(cost), 1)
    e_safe = np.maximum(e, 1)
    zero = np.zeros(len(idx), dtype=object)
    if ranking is Ranking.BITMEX:
        profit = up > 0
        return (
            np.where(profit, up * value, up * e_safe),
            np.where(profit, cost_safe * e_safe, cost_safe * np.maximum(value, 1)),
        )
    if ranking is Ranking.BINANCE:
        _bound(_absmax(F[SIZE, idx]) * mark * PPM)
        mm = _maintenance_at_mark(policy, F[SIZE, idx], mark).astype(object)
        wallet = np.maximum(e - up, 1)
        return np.where(e > 0, np.maximum(up, 0) * mm, zero), wallet * e_safe
    if ranking is Ranking.HYPERLIQUID:
        return np.where(e > 0, value * value, zero), cost_safe * e_safe
    return zero, np.ones(len(idx), dtype=object)


def _maintenance_at_mark(policy: Policy, size: np.ndarray, mark: int) -> np.ndarray:
    """``margin.maintenance_margin``: on the notional at the mark whatever the policy's basis."""
    return _tiered(policy, np.abs(size) * mark)


#: a float score is within this relative distance of the exact one (ints to doubles and a
#: division: a few units in the last place, 10⁻¹⁵); the queue's prefix is taken with a wide margin
FLOAT_MARGIN = 1e-9


def _reach(policy: Policy, ab: ArrayBook, F: np.ndarray, i: int, mark: int) -> tuple[list[int], dict[int, Any]]:
    """The traders ADL can close for ``i`` (a superset of the queue's served prefix), and every
    candidate's :class:`AdlFill` fields other than the fill (``j → (num, den, size, eligible)``).

    The queue serves eligible traders (opposite sides) by score, highest first, ties by book
    order, each whole position until ``i``'s lots are covered. Scores are sorted as floats; every
    trader whose float score is within :data:`FLOAT_MARGIN` of the last one the float order needs,
    or above, is in the set, so the exact order (the exact engine's own sort, on the smaller book)
    serves the same prefix."""
    tr = ab.traders
    cand = tr[tr != i]
    if not len(cand):
        return [], {}
    num, den = scores(policy, ab, F, cand, mark)
    size = F[SIZE, cand]
    own = int(F[SIZE, i])
    eligible = ((own > 0) & (size < 0)) | ((own < 0) & (size > 0))
    fields = {
        j: (a, b, c, bool(d))
        for j, a, b, c, d in zip(
            cand.tolist(), num.tolist(), den.tolist(), size.tolist(), eligible.tolist(), strict=True
        )
    }
    at = np.flatnonzero(eligible)
    if not len(at):
        return [int(cand[0])], fields  # one candidate, so the smaller book shows the fills' gap
    f = np.array(num[at], dtype=np.float64) / np.array(den[at], dtype=np.float64)
    order = np.lexsort((cand[at], -f))
    covered = np.cumsum(np.abs(size[at][order]))
    last = min(int(np.searchsorted(covered, abs(own))), len(order) - 1)
    t = f[order[last]]
    reach = cand[at][f >= t - abs(t) * FLOAT_MARGIN]
    return reach.tolist(), fields


def _deleverage(
    policy: Policy, ab: ArrayBook, F: np.ndarray, i: int, mark: int
) -> tuple[list[int], Book, Ctx, list[Any]]:
    """``i``'s liquidation when it reaches ADL, on a book of ``i``, the venue's accounts and the
    traders the queue can reach (:func:`_reach`): the exact engine's own ``liquidate`` there gives
    every transfer and record of the whole book's but the fills of the traders it left out, which
    closed nothing (an ``AdlFill`` of 0 lots, in book order, with the score the queue gave them);
    those are put back in place."""
    reach, fields = _reach(policy, ab, F, i, mark)
    indices, book = ab.small([i, *reach], F)
    ctx = liquidate(policy, Ctx(book), ab.names[i])
    done = [o.item for o in ctx.outcomes]
    at = [k for k, o in enumerate(done) if isinstance(o, AdlFill)]
    if not at:
        return indices, book, ctx, done
    first, ran = at[0], {o.winner: o for o in (done[k] for k in at)}
    if at != list(range(first, first + len(at))) or len(ran) != len(at):
        raise Fallback("ADL layer")  # not the one run of fills deleverage writes: let the exact engine say
    gap, fair = done[first].gap_per_lot_quote, done[first].fair_gap_per_lot_quote
    name = ab.names[i]
    fills = [
        ran.get(ab.names[j]) or AdlFill(name, ab.names[j], 0, gap, fair, num, den, lots, eligible)
        for j, (num, den, lots, eligible) in fields.items()
    ]
    return indices, book, ctx, [*done[:first], *fills, *done[first + len(at) :]]


@attrs.frozen
class Plan:
    """What a mark step reads of the policy besides the arrays, read once per policy (a path asks
    it at each of its hundreds of marks, a sweep at each liquidation): the clawback's window
    (``clawback.open_window``) and the window of OKX's fund drawdown (``fund_drawdown.sample``),
    whether losses settle capital (``haircut_ratio.settle_losses``), the pools that hold what
    they take over where ADL may deleverage them (``pool_bankruptcy.deleverage_pools``), whether
    a bankruptcy may reach other traders with no deficit left (OKX's ADL on the fund's drawdown;
    a cascading socialized loss), whether ADL runs on the arrays (:func:`covers_adl`), and the
    maintenance basis."""

    clawback_window: int | None
    drawdown_window: int | None
    settles_capital: bool
    pools: tuple[Role, ...]
    drawdown: bool
    cascade: bool
    adl: bool
    entry_basis: bool

    @classmethod
    def of(cls, policy: Policy) -> Plan:
        clawback = policy.layer(Clawback)
        social = policy.layer(SocializedLoss)
        adl = policy.adl
        return cls(
            clawback_window=None if clawback is None else clawback.window_events,
            drawdown_window=None if adl is None or adl.fund_drawdown is None else adl.fund_drawdown.window_events,
            settles_capital=settles_losses(policy),
            pools=() if adl is None else pools_holding(policy.liquidation),
            drawdown=adl is not None and adl.fund_drawdown is not None,
            cascade=social is not None and social.cascade,
            adl=covers_adl(policy),
            entry_basis=policy.margin.maintenance_basis is MaintenanceBasis.ENTRY,
        )


#: each policy's plan, by the policy's identity (a path's marks all run on one policy)
_PLANS: dict[int, tuple[Policy, Plan]] = {}


def plan(policy: Policy) -> Plan:
    """:class:`Plan` of ``policy``, built once per policy."""
    hit = _PLANS.get(id(policy))
    if hit is None or hit[0] is not policy:
        hit = (policy, Plan.of(policy))
        if len(_PLANS) >= CACHED:
            _PLANS.clear()
        _PLANS[id(policy)] = hit
    return hit[1]


class Stepped(NamedTuple):
    """A mark step on the arrays, not yet committed: the new array, the liquidations' transfers
    and outcomes, the fund's window sum and the market at the new mark."""

    F: np.ndarray
    transfers: list[Any]
    outcomes: list[Any]
    window_sum: Any
    market: Any


def mark_step(policy: Policy, ab: ArrayBook, event: Event, whole: dict[str, int] | None = None) -> Stepped:
    """One mark event on the arrays, leaving ``ab`` as it was (the caller commits).
    ``Fallback`` if not covered. ``whole``: counts the liquidations run on the whole book, by
    mechanism."""
    if not isinstance(event, MarkPrice):
        raise Fallback(f"a {type(event).__name__} event")
    new = event.price_quote
    tick = ab.market.tick_quote
    if type(new) is not int or new <= 0 or new % tick:
        raise Fallback("a mark price the engine rejects")
    p = plan(policy)
    F = ab.F.copy()
    if p.clawback_window is not None and ab.clock != 0 and ab.clock % p.clawback_window == 0:
        F[WINDOW, :] = 0  # clawback.open_window
    old = ab.market.mark_quote
    size = F[SIZE]
    big = _absmax(size)
    # every product below stays within int64: settlement's, and N × PPM of every position at the
    # new mark (the sweep's maintenance check)
    _bound(big * abs(new - old) * len(ab.names) + max(_absmax(F[CASH]), _absmax(F[WINDOW])), big * max(new, old) * PPM)
    # settlement.settle_mark: every account but clearing is paid S × (M' − M); clearing nets it
    pnl = size * (new - old)
    pnl[ab.clearing] = 0
    total = int(pnl.sum())
    F[CASH] += pnl
    F[WINDOW] += pnl
    F[CASH, ab.clearing] -= total
    F[WINDOW, ab.clearing] -= total
    # pool_bankruptcy.deleverage_pools: a pool below zero holding what it took over is
    # deleveraged over every opposing trader: that step on the exact engine
    for role in p.pools:
        pool = ab.roles.index(role)
        if F[SIZE, pool] and F[CASH, pool] < 0:
            raise Fallback("a pool below zero holding a position")
    market, window_sum = ab.market, ab.window_sum
    sample = sampled(policy, ab, int(ab.F[CASH, ab.fund]))  # at the event's start, as transition does
    moved = attrs.evolve(market, mark_quote=new, previous_mark_quote=old)
    ab.market = moved
    ab.window_sum = sample
    try:
        transfers, outcomes = _sweep(policy, p, ab, F, new, {} if whole is None else whole)
    finally:
        ab.market, ab.window_sum = market, window_sum
    if p.settles_capital:
        # haircut_ratio.settle_losses: traders' and the book's principal falls to max(equity, 0)
        idx = np.append(ab.traders, ab.liquidity)
        F[PRINCIPAL, idx] = np.minimum(F[PRINCIPAL, idx], np.maximum(_equity(policy, ab, F, idx), 0))
    return Stepped(F, transfers, outcomes, sample, moved)


def _sweep(
    policy: Policy, p: Plan, ab: ArrayBook, F: np.ndarray, mark: int, whole: dict[str, int]
) -> tuple[list[Any], list[Any]]:
    """``engine.sweep``: every trader below maintenance, in book order, liquidated on a small book;
    one that reaches a mechanism over other traders, on the whole book (``whole`` counts them by
    mechanism). The caller has bounded N × PPM at the mark of every position (``mark_step``)."""
    tr = ab.traders
    cols = ab.columns  # the same traders, as a view where it can be
    if p.entry_basis:
        _bound(_absmax(F[COST, cols]) * PPM)
    if F[SPOT].any():
        raise Fallback("a spot balance")
    size = F[SIZE, cols]
    mm = maintenance(policy, size, F[COST, cols], mark)
    hit = tr[triggered(policy, _equity(policy, ab, F, cols), mm, size)]
    transfers: list[Any] = []
    outcomes: list[Any] = []
    if not len(hit):
        return transfers, outcomes
    together = _together(policy, p, ab, F, hit.tolist())
    if together is not None:
        return together
    drawdown, cascade, adl = p.drawdown, p.cascade, p.adl
    # the venue's accounts (and each account a liquidation wrote back) as built from F, kept
    # between this sweep's liquidations: each small book holds every venue account
    built: dict[int, Account] = {}
    # the sweep's queue, in book order: a trader ADL changed later in the order is checked again
    # when the sweep reaches it, as engine.sweep checks every trader then
    queue, live = hit.tolist(), set(hit.tolist())
    heapq.heapify(queue)
    while queue:
        i = heapq.heappop(queue)
        if i not in live:
            continue
        live.discard(i)
        indices, small = ab.small([i], F, built)
        ctx = liquidate(policy, Ctx(small), ab.names[i])
        done = [o.item for o in ctx.outcomes]
        if adl and _adl_ran(done):
            indices, small, ctx, done = _deleverage(policy, ab, F, i, mark)
        reason = _others(done, adl)
        if not reason and (drawdown or cascade) and any(isinstance(o, Bankrupt) for o in done):
            # ADL may also run on the fund's drawdown with no deficit left, and a cascading
            # socialized loss resolves every other trader below zero after a bankruptcy: both
            # over other traders
            reason = "ADL on insurance-fund drawdown" if drawdown else "socialized loss with cascade"
        if reason:
            # a mechanism over other traders: this liquidation again, on the whole book
            indices = list(range(len(ab.names)))
            small = Book(ab.market, ab.accounts(indices, F), ab.net_deposits, ab.window_sum, ab.clock)
            ctx = liquidate(policy, Ctx(small), ab.names[i])
            done = [o.item for o in ctx.outcomes]
            whole[reason] = whole.get(reason, 0) + 1
        changed = ab.write(indices, ctx.book, F, small)
        built.update(changed)
        later = [j for j, _ in changed if j > i and ab.is_trader[j]]
        if later:
            later = np.array(later, dtype=np.intp)
            mm = maintenance(policy, F[SIZE, later], F[COST, later], mark)
            for j, now in zip(
                later.tolist(),
                triggered(policy, _equity(policy, ab, F, later), mm, F[SIZE, later]).tolist(),
                strict=True,
            ):
                if now and j not in live:
                    live.add(j)
                    heapq.heappush(queue, j)
                elif not now:
                    live.discard(j)
        transfers += [e.item for e in ctx.entries]
        outcomes += done
    return transfers, outcomes


def _together(
    policy: Policy, p: Plan, ab: ArrayBook, F: np.ndarray, hit: list[int]
) -> tuple[list[Any], list[Any]] | None:
    """Every trader the check found, liquidated in book order on *one* small book of them and the
    venue's accounts: a liquidation that reaches no other trader reads and changes only its trader
    and the venue's accounts, so this is each of them on a small book of its own, in turn, with one
    book built and written back instead of one each (a crash liquidates hundreds in one sweep).
    ``None`` where a liquidation did reach others (:func:`_reaches_others`), with nothing written:
    the sweep then runs them one at a time, each that does on the whole book or through ADL."""
    indices, book = ab.small(hit, F)
    ctx = Ctx(book)
    done: list[Any] = []
    for i in hit:
        ctx = liquidate(policy, ctx, ab.names[i])
        now = [o.item for o in ctx.outcomes[len(done) :]]
        # checked after each: a liquidation that reaches ADL here would deleverage the other
        # traders of this book, and the ones after it with them (a crash's whole sweep)
        if _reaches_others(p, now):
            return None
        done += now
    ab.write(indices, ctx.book, F, book)
    return [e.item for e in ctx.entries], done


def _reaches_others(p: Plan, done: Sequence[Any]) -> bool:
    """The liquidations' records show a mechanism over other traders: ADL, a layer that charges
    them (:func:`_others`), or a bankruptcy where the policy may reach them with no deficit left
    (ADL on the fund's drawdown, a cascading socialized loss)."""
    if (p.adl and _adl_ran(done)) or _others(done, p.adl):
        return True
    return (p.drawdown or p.cascade) and any(isinstance(o, Bankrupt) for o in done)


#: what a test sees of each step: its index, the book after it, its transfers but settlement's, its outcomes
OnStep = Callable[[int, Book, Sequence[Any], Sequence[Any]], None]


class FastPath:
    """A path on the arrays: the setup, then the marks; ``on_step`` (tests) sees each step's book."""

    def __init__(self, policy: Policy, population: Population) -> None:
        self.policy = policy
        self.population = population
        self.ab = ArrayBook(population.book)

    def run(self, marks: Sequence[Event], index: int, on_step: OnStep | None = None) -> Ran:
        """Run the path; ``on_step(at, book, transfers, outcomes)``, if given, sees every step's book
        after it (built from the arrays), and the transfers other than settlement's and the
        outcomes (``None`` for an opening step, whose transfers are not recorded)."""
        policy, population = self.policy, self.population
        static = covers(policy)
        names = tuple(f.name for f in attrs.fields(Account))[3:]
        if names[: len(FIELDS)] != FIELDS or set(names[len(FIELDS) :]) - ONE_MARKET_FIELDS - DEFAULT_FIELDS:
            static = "an account field the arrays do not hold"
        elif population.book.more_window_sums or any(
            getattr(a, f) for a in population.book.accounts for f in DEFAULT_FIELDS
        ):
            static = "an isolated position or a fund per market"
        elif getattr(population.book, "more_markets", ()):
            static = "a book of several markets"
        elif getattr(population.book, "assets", ()):
            static = "a book of collateral assets"
        if static is not None:
            return exact(policy, population, marks, index)._replace(fallback=static, exact_steps=len(marks))
        ab = self.ab
        try:
            if on_step is None:
                fast_setup(policy, ab, population.setup)
            for at, event in enumerate(population.setup if on_step is not None else ()):
                fast_setup(policy, ab, (event,))  # step by step, so a test sees every book
                on_step(at, ab.to_book(), None, None)
        except RejectedEvent as exc:
            raise SetupRejected(
                f"path {index}: the policy refuses an opening event: {exc.reason} ({exc.event!r})"
            ) from None
        except Fallback as exc:
            return exact(policy, population, marks, index)._replace(fallback=exc.reason, exact_steps=len(marks))
        tally = Tally(policy, population.deposits_quote)
        payers = frozenset(n for n, r in zip(ab.names, ab.roles, strict=True) if pays_for_others(r))
        tally.begin(payers, ab.names[ab.fund], int(ab.F[CASH, ab.fund]))  # Tally.start, without building the book
        offset = len(population.setup)
        traders = ab.traders
        reasons: dict[str, int] = {}
        whole: dict[str, int] = {}
        for i, event in enumerate(marks):
            step_whole: dict[str, int] = {}
            try:
                F, transfers, outcomes, window_sum, market = mark_step(policy, ab, event, step_whole)
            except Fallback as exc:
                # this step on the exact engine, on the whole book built from the arrays; then on
                reasons[exc.reason] = reasons.get(exc.reason, 0) + 1
                s = step(policy, ab.to_book(), event)
                tally.add(offset + i, s)
                if on_step is not None:
                    on_step(offset + i, s.after, _no_settlement(s.transfers), s.outcomes)
                try:
                    ab.load(s.after)
                except OverflowError:
                    rest = self._finish_exact(s.after, marks[i + 1 :], offset + i + 1, tally, index, on_step)
                    return Ran(rest, "exact", _reason({**reasons, "int64 bound": 1}), len(marks) - i)
                continue
            ab.F = F
            for reason, n in step_whole.items():
                whole[reason] = whole.get(reason, 0) + n
            ab.market = market
            ab.clock += 1
            ab.window_sum = window_sum
            below = lambda: bool((_equity(policy, ab, ab.F, traders) < 0).any())  # noqa: E731
            tally.read(offset + i, transfers, outcomes, int(ab.F[CASH, ab.fund]), below)
            if on_step is not None:
                on_step(offset + i, ab.to_book(), transfers, outcomes)
        outcome = tally.finish(index, ab.to_book(), population.capped)
        counted = tuple(sorted(whole.items()))
        if reasons:
            return Ran(outcome, "exact", _reason(reasons), sum(reasons.values()), counted)
        return Ran(outcome, "fast", None, 0, counted)

    def _finish_exact(
        self, book: Book, marks: Sequence[Event], at: int, tally: Tally, index: int, on_step: OnStep | None
    ) -> PathOutcome:
        """The rest of the path on the exact engine (a balance beyond int64)."""
        for i, event in enumerate(marks):
            s = step(self.policy, book, event)
            tally.add(at + i, s)
            book = s.after
            if on_step is not None:
                on_step(at + i, s.after, _no_settlement(s.transfers), s.outcomes)
        return tally.finish(index, book, self.population.capped)


def _reason(reasons: dict[str, int]) -> str:
    """The reasons a path's steps ran on the exact engine, most frequent first."""
    return ", ".join(r for r, _ in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))


def _no_settlement(transfers: Sequence[Any]) -> list[Any]:
    return [t for t in transfers if t.reason is not Reason.SETTLEMENT]


def fast(policy: Policy, population: Population, marks: Sequence[Event], index: int) -> Ran:
    """Path ``index`` on the fast engine, continuing on the exact engine where it does not cover a step."""
    return FastPath(policy, population).run(marks, index)


__all__ = [
    "ArrayBook",
    "FastPath",
    "Fallback",
    "covers",
    "covers_adl",
    "div",
    "fast",
    "maintenance",
    "mark_step",
    "plan",
    "scores",
    "triggered",
]

"""What a proof assumes of the starting book, written over the engine's arithmetic interface.

:func:`book_assumptions` returns named conditions. On a symbolic book (every data field a z3
variable) they are the proof's assumptions; on a concrete book they are Python booleans, which is
how a counterexample's starting book is checked to lie inside the assumptions before it counts.

The assumptions describe a *well-formed* book, not necessarily a reachable one (PROBE.md: a
one-step counterexample may start from an unreachable state; it is still a real counterexample
to the inductive claim "every well-formed book stays good"):

- value bounds (``Bounds``), marks on the tick;
- the clearing account is empty and only traders, the order book and (under a takeover policy)
  the backstop vault hold positions; open interest is balanced (Σ size = 0);
- conservation at the start: Σ cash + spot (all but clearing) = net deposits;
- pools (insurance fund, fee account, backstop vault) are non-negative;
- no debt is owed off the book unless the policy lends through a venue debt carry;
- every trader is margin-compliant (equity ≥ initial margin of its position), or with
  ``Bounds.start_margin = "maintenance"`` only not liquidatable (the engine's own trigger);
- with ``Bounds.min_fund_ppm``, the insurance fund holds that share of the long open interest's
  notional at the mark, and the fee account and backstop vault start empty (so the fund alone is
  measured). (Mark moves within ``Bounds.max_move_ppm`` are an assumption on the events:
  :func:`move_within`.)
- the cost basis follows the position (zero when flat, same sign, at least one quantum per lot).
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.arith import PPM, Rounding, all_, and_, div, implies, max_, not_, sum_
from solvent.rules.events import MarkPrice
from solvent.rules.book import Account, Book, Role
from solvent.rules.liquidation import Execution, is_triggered
from solvent.rules.margin import equity, initial_margin, maintenance_margin
from solvent.rules.policy import Policy
from solvent.rules.waterfall import Lender
from solvent.solver.bounds import Bounds

POOLS = (Role.INSURANCE_FUND, Role.FEE_ACCOUNT, Role.BACKSTOP_VAULT)


def holders(policy: Policy) -> tuple[Role, ...]:
    """Who may hold a position: traders, the order book, and the backstop vault when the policy
    hands it positions (a takeover execution or a takeover threshold)."""
    rule = policy.liquidation
    takes_over = rule.execution is Execution.TAKEOVER or getattr(rule, "takeover_below_ppm", None) is not None
    return (Role.TRADER, Role.LIQUIDITY, Role.BACKSTOP_VAULT) if takes_over else (Role.TRADER, Role.LIQUIDITY)


@attrs.frozen
class Assumption:
    """A named condition on the starting book (a z3 Boolean, or a bool on a concrete book)."""

    name: str
    holds: Any


def _within(x: Any, low: int, high: int) -> Any:
    return and_(x >= low, x <= high)


def _on_tick(price: Any, tick: int) -> Any:
    return div(price, tick, rounding=Rounding.FLOOR) * tick == price


def _account_bounds(account: Account, bounds: Bounds) -> Any:
    q, lots = bounds.max_quote, bounds.max_lots
    return all_(
        [
            _within(account.cash_quote, -q, q),
            _within(account.spot_quote, 0, q),
            _within(account.size_lots, -lots, lots),
            _within(account.cost_quote, -lots * bounds.max_price, lots * bounds.max_price),
            _within(account.principal_quote, 0, q),
            _within(account.withdrawn_quote, 0, q),
            _within(account.debt_quote, 0, q),
            _within(account.window_pnl_quote, -q, q),
        ]
    )


def _cost_follows_position(account: Account) -> Any:
    s, c = account.size_lots, account.cost_quote
    return and_(implies(s == 0, c == 0), implies(s > 0, c >= s), implies(s < 0, c <= s))


def book_assumptions(policy: Policy, book: Book, bounds: Bounds) -> list[Assumption]:
    """The named assumptions on a starting book (see the module docstring)."""
    market = book.market
    tick = market.tick_quote
    out = [
        Assumption("prices within bounds and on the tick", and_(
            _within(market.mark_quote, bounds.min_price, bounds.max_price),
            _within(market.previous_mark_quote, bounds.min_price, bounds.max_price),
            _on_tick(market.mark_quote, tick),
            _on_tick(market.previous_mark_quote, tick),
        )),
        Assumption("balances within bounds", all_(_account_bounds(a, bounds) for a in book.accounts)),
        Assumption("net deposits within bounds", _within(book.net_deposits_quote, -bounds.max_quote * len(book.accounts), bounds.max_quote * len(book.accounts))),
    ]
    clearing = book.role(Role.CLEARING)
    out.append(Assumption("clearing account empty", all_(getattr(clearing, f) == 0 for f in ("cash_quote", "spot_quote", "size_lots", "cost_quote", "principal_quote", "debt_quote"))))
    out.append(Assumption("only traders and the order book (and a taking-over vault) hold positions", all_(a.size_lots == 0 for a in book.accounts if a.role not in holders(policy))))
    out.append(Assumption("open interest balanced", sum_(a.size_lots for a in book.accounts) == 0))
    out.append(Assumption("conservation at the start", book.total_cash_quote() == book.net_deposits_quote))
    out.append(Assumption("pools non-negative", all_(book.role(r).cash_quote >= 0 for r in POOLS)))
    carry = policy.debt_carry
    if carry is None or carry.lender is not Lender.VENUE:
        out.append(Assumption("no debt owed off the book", all_(a.debt_quote == 0 for a in book.accounts)))
    out.append(Assumption("cost basis follows the position", all_(_cost_follows_position(a) for a in book.accounts)))
    if bounds.start_margin == "maintenance":
        out.append(Assumption("traders not liquidatable (above maintenance)", all_(
            not_(is_triggered(policy.liquidation, equity(policy.margin, a), maintenance_margin(policy.margin, policy.rounding, a.size_lots, market.mark_quote), a.size_lots))
            for a in book.traders
        )))
    else:
        out.append(Assumption("traders margin-compliant", all_(
            equity(policy.margin, a) >= initial_margin(policy.margin, policy.rounding, a.size_lots, market.mark_quote)
            for a in book.traders
        )))
    if bounds.min_fund_ppm is not None:
        fund = book.role(Role.INSURANCE_FUND).cash_quote
        long_notional = long_open_interest(policy, book)
        out.append(Assumption(
            f"insurance fund >= {bounds.min_fund_ppm} ppm of the long open interest's notional",
            fund * PPM >= long_notional * bounds.min_fund_ppm,
        ))
        # the fund alone is measured: a fee pool or vault above the haircut layers starts empty
        out.append(Assumption(
            "the other pools start empty (the fund alone is measured)",
            all_(book.role(r).cash_quote == 0 for r in (Role.FEE_ACCOUNT, Role.BACKSTOP_VAULT)),
        ))
    return out


def long_open_interest(policy: Policy, book: Book) -> Any:
    """The long side's notional at the mark: Σ max(size, 0) × mark over who may hold a position."""
    return sum_(max_(a.size_lots, 0) * book.market.mark_quote for a in book.accounts if a.role in holders(policy))


def move_within(before_mark: Any, event: Any, bounds: Bounds) -> Any:
    """A mark event moves the price at most ``bounds.max_move_ppm`` of the mark before it (True for
    other events, or when the bounds set no limit): ``|p' − p| · 10⁶ ≤ m · p``."""
    if bounds.max_move_ppm is None or not isinstance(event, MarkPrice):
        return True
    move = event.price_quote - before_mark
    return and_(move * PPM <= bounds.max_move_ppm * before_mark, -move * PPM <= bounds.max_move_ppm * before_mark)


__all__ = ["Assumption", "book_assumptions", "long_open_interest", "move_within"]

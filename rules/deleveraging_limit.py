"""How many bankrupt accounts one event deleverages: dYdX v4's per-block limit.

dYdX v4 deleverages, after a block's liquidations, the subaccounts whose liquidation order went
unfilled, one attempt each, and stops after ``MaxDeleveragingAttemptsPerBlock`` of them
(github.com/dydxprotocol/v4-chain, protocol/x/clob/keeper/deleveraging.go ``DeleverageSubaccounts``:
the loop runs while ``i < MaxDeleveragingAttemptsPerBlock`` and ``i < len(subaccountsToDeleverage)``;
the default is 10, protocol/x/clob/flags/flags.go ``DefaultMaxDeleveragingAttemptsPerBlock``, a
node flag). A subaccount past the limit keeps its position, below zero, and is found again by a
later block's liquidation daemon (docs/venues.md#dydx-v4-deleveraging).

In Solvent an event stands for a block (decision, docs/venues.md#dydx-v4-deleveraging): the sweep
liquidates in book order, each bankrupt account that reaches the ``adl`` layer with its equity
below zero at the mark is an attempt (``DeleverageAttempt``), and once ``Adl.max_deleveraged_per_event``
attempts were made in the event the next such account is left as it stands, its position open
(``deferred``); the next event with a sweep liquidates it again. The limit counts accounts, as
v4-chain's loop does, not lots.

Where the book holds no more traders than the limit, no account can be deferred (an account is
deleveraged once an event, and only a deferred one can be reached again), so the rule adds
nothing to the step: no outcome, no term for z3.
"""

from __future__ import annotations

from typing import Any

from solvent.rules.arith import sum_, when
from solvent.rules.ledger import Ctx
from solvent.rules.outcomes import DeleverageAttempt


def binds(layer: Any, ctx: Ctx) -> bool:
    """Whether the limit can defer anyone on this book: it is set and below the traders' number."""
    limit = layer.max_deleveraged_per_event
    return limit is not None and len(ctx.book.traders) > limit


def attempts(ctx: Ctx) -> Any:
    """The accounts this event has deleveraged so far under the limit (each attempt noted)."""
    return sum_(when(g.guard, 1) for g in ctx.outcomes if isinstance(g.item, DeleverageAttempt) and not g.item.deferred)


def deleverage_within_limit(layer: Any, ctx: Ctx, name: str, deleverage: Any) -> Ctx:
    """Run ``deleverage`` on ``ctx`` for ``name`` unless the event reached its limit; then
    ``name`` keeps its position (noted ``deferred``)."""
    if not binds(layer, ctx):
        return deleverage(ctx)
    full = attempts(ctx) >= layer.max_deleveraged_per_event
    return ctx.branch(
        full,
        lambda c: c.note(DeleverageAttempt(name, True)),
        lambda c: deleverage(c.note(DeleverageAttempt(name, False))),
    )


__all__ = ["attempts", "binds", "deleverage_within_limit"]

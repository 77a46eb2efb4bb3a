"""Bybit's fee-to-close floor from maintenance on the entry value: a long keeps it, a short does not.

The K > 1 induction (:mod:`solvent.solver.induction`) needs every trader at the start of a move to
hold the floor the payer's charge lemma reads of a bankrupt account, ``v ≥ 0`` and
``v × 10⁶ ≥ f × |S| × M`` (``StartMargin.SOLVENT``; ``f`` the fee to close Bybit's bankruptcy
price includes, 550 ppm). On Bybit a move does not keep it: maintenance is read on the entry value
(``margin.maintenance_basis = "entry"``), so a trader above maintenance may hold far less than its
fee to close at a mark far from its entry
(docs/solver-notes.md#the-per-trader-claims-at-k--3-by-induction-session-20).

Which traders lose it (docs/solver-notes.md#bybit-at-k--3-and-n--8-session-21). The book settles to
the mark (``margin.equity`` is cash), so a position's cash at its entry prices,

    ρ = cash − (S × M − cost)        (cash less the position's PnL since entry, ``margin.position_pnl``)

is what settlement leaves alone: a mark move adds ``S × ΔM`` to both. A **long** that is not
liquidatable and has ``ρ ≥ 0`` holds the floor: where its notional is at most ``MMR / f`` (about 9)
times its entry value its maintenance (at least 0.5% of the entry value in every tier) is above
the fee, and where it is larger its cash holds the PnL, at least ``(1 − 1/9)`` of the notional. A
**short** does not: its PnL runs against it as the mark rises, so ``ρ ≥ 0`` says nothing there
(z3's model: a short of 278,200,216 lots opened near 1.8 at the mark 1,451). So a premise a move
may keep is one-sided: every trader worth at least zero, every long at its floor (through ``ρ``);
a short below its floor, resolved in a later move, charges the longs opposite it at most its fee
per lot more than the move (``BP − M₀ ≥ −f × M₀ / (1 + f)`` from its worth at least zero), which the
longs' floor pays. The lemma here is the first piece of that route, on the engine's own margin
functions (``wellformed.covers_margin``: maintenance as the sweep triggers it, the floor as the
premise states it); the charge lemma without the bankrupt account's floor and ``ρ`` kept through
an ADL fill are not built (the notes say what each needs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from solvent.rules.wellformed import StartMargin, covers_margin
from solvent.rules.policy import Policy
from solvent.solver.bounds import Bounds
from solvent.solver.story import symbolic_book

#: the sides the lemma is asked of (the sign of the position)
SIDES = ("long", "short")


def entry_cash(account: Any, mark: Any) -> Any:
    """``ρ``: the account's cash less its position's PnL since entry at ``mark`` (settle-to-mark:
    a mark move changes both by ``S × ΔM``, so ρ is its cash at its entry prices)."""
    return account.cash_quote - (account.size_lots * mark - account.cost_quote)


def floor_question(policy: Policy, side: str = "long", slack: int = 0) -> tuple[list[Any], Any]:
    """(premise, claim) on a free one-trader book: a trader on ``side`` (its cost basis following
    its position, no spot and no debt), not liquidatable at the mark (the sweep's own trigger on
    maintenance), with ``ρ + slack × cost`` at least zero (``slack`` in whole multiples of the
    position's signed cost: 0 is the premise; the boundary on Bybit lies between 8 and 9), holds
    the floor ``v ≥ 0 ∧ v × 10⁶ ≥ f × |S| × M``."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {', '.join(SIDES)}, not {side!r}")
    book, _ = symbolic_book(Bounds(accounts=1, events=1))
    [trader] = book.traders
    mark = book.market.mark_quote
    s, cost = trader.size_lots, trader.cost_quote
    own = s > 0 if side == "long" else s < 0
    follows = cost >= s if side == "long" else cost <= s
    premise = [
        mark >= 1,
        trader.spot_quote == 0,
        trader.debt_quote == 0,
        own,
        follows,
        covers_margin(policy, trader, mark, StartMargin.MAINTENANCE),
        entry_cash(trader, mark) + slack * cost >= 0,
    ]
    return premise, covers_margin(policy, trader, mark, StartMargin.SOLVENT)


def floor_lemma(policy: Policy, valid: Callable[[str, list[Any], Any], str], side: str = "long", slack: int = 0) -> str:
    """:func:`floor_question` asked by ``valid`` (exact z3; it raises where z3 finds a model)."""
    premise, claim = floor_question(policy, side, slack)
    title = f"a {side} not liquidatable with its cash at entry prices at least {-slack} × its cost holds its fee to close"
    return valid(title, premise, claim)


__all__ = ["SIDES", "entry_cash", "floor_lemma", "floor_question"]

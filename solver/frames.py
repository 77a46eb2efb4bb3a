"""The ledger frame of a step, as facts a proof query may use once they are proved.

Every balance after an event is the balance before plus the guarded ledger entries that name it,
and net deposits move by exactly the transfers from and to outside the venue: the frame lemma F
and C3 of the conservation argument (``solver.compositional``; docs/model.md, "An all-N proof
rests on a frame lemma and a direct check"). There they are proved on the engine's own
``transition`` to extend conservation to every N. Here the same identities are proved on the
terms of one bounded question, balance by balance (:func:`solvent.solver.case_split.identity_holds`:
an identity of ``if``s, decided by splitting on its conditions), and each one that holds is handed
to the question as a fact: an equation true of every value, so a query with it has exactly the
models it had without it.

Why: the direct check of conservation asks z3 whether ``Σ balances after = net deposits after``
can fail, where every balance after is an ``if`` tree over the sweep and the pools' own
deleveraging. That the trees cancel is an identity of ``if``s, which z3's arithmetic decides
slowly (BitMEX, two traders, one mark move: 16.8M units); with each balance's frame as a fact the
sum cancels term by term and the question is linear (1.4M). A frame that does not hold (or is not
decided within its budget) is simply not given: the question is then asked as before.
"""

from __future__ import annotations

from typing import Any

import attrs
import z3

from solvent.rules.arith import sum_
from solvent.rules.book import Book
from solvent.rules.ledger import EXTERNAL, SPOT, Ctx, asset_balance, asset_of
from solvent.solver.case_split import identity_holds


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def bought(ctx: Ctx, name: str, market: str) -> Any:
    """Lots the position ledger moved to ``name`` in ``market`` minus the lots it moved away."""
    fills = [f for f in ctx.fills if f.item.market == market]
    into = sum_(z3.If(_b(f.guard), f.item.lots, 0) for f in fills if f.item.buyer == name)
    out = sum_(z3.If(_b(f.guard), f.item.lots, 0) for f in fills if f.item.seller == name)
    return into - out


def moved(ctx: Ctx, balance: str) -> Any:
    """What the guarded ledger entries put into ``balance`` minus what they took out of it."""
    into = sum_(z3.If(_b(e.guard), e.item.amount_quote, 0) for e in ctx.entries if e.item.destination == balance)
    out = sum_(z3.If(_b(e.guard), e.item.amount_quote, 0) for e in ctx.entries if e.item.source == balance)
    return into - out


def external(ctx: Ctx, asset: str) -> Any:
    """Σ of the guarded transfers from outside the venue minus those to it, in ``asset`` (``""``:
    settlement cash and spot)."""
    return sum_(
        z3.If(_b(e.guard), e.item.amount_quote, 0) * (1 if e.item.source == EXTERNAL else -1)
        for e in ctx.entries
        if EXTERNAL in (e.item.source, e.item.destination)
        and asset_of(e.item.destination if e.item.source == EXTERNAL else e.item.source) == asset
    )


@attrs.frozen
class Frame:
    """The frame equations of one step that were proved, and what proving them cost."""

    facts: tuple[Any, ...]
    units: int
    #: equations asked, and how many of them held
    asked: int
    held: int


def _equations(before: Book, ctx: Ctx) -> list[tuple[Any, Any, Any]]:
    """``(after, before, entries)`` for every balance of every account (cash, spot, each collateral
    asset) and for net deposits (settlement cash and each asset's)."""
    after = ctx.book
    out = []
    for a in before.accounts:
        now = after.account(a.name)
        out.append((now.cash_quote, a.cash_quote, moved(ctx, a.name)))
        out.append((now.spot_quote, a.spot_quote, moved(ctx, a.name + SPOT)))
        for i, x in enumerate(before.assets):
            out.append((now.asset_balances[i], a.asset_balances[i], moved(ctx, asset_balance(a.name, x.name))))
    out.append((after.net_deposits_quote, before.net_deposits_quote, external(ctx, "")))
    for i, x in enumerate(before.assets):
        out.append((after.assets[i].net_deposits, x.net_deposits, external(ctx, x.name)))
    return out


def frame(before: Book, ctx: Ctx, budget: int) -> Frame:
    """The frame equations of the step from ``before`` to ``ctx.book`` that hold for every value,
    each proved within what is left of ``budget`` units (an equation not proved is left out).
    Each gap is written as the frame lemma F writes it (``after − before − entries``), so a piece
    F already split in this question is not split again (``case_split.vanishes``)."""
    facts, spent, asked = [], 0, 0
    for now, was, entries in _equations(before, ctx):
        gap = z3.simplify(now - was - entries)
        asked += 1
        if spent >= budget:
            continue
        split = identity_holds(gap, budget - spent)
        spent += split.units
        if split.result == "unsat":
            facts.append(now == was + entries)
    return Frame(tuple(facts), spent, asked, len(facts))


__all__ = ["Frame", "bought", "external", "frame", "moved"]

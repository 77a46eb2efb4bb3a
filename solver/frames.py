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

from collections.abc import Iterable
from typing import Any

import attrs
import z3

from solvent.rules.arith import PPM, sum_
from solvent.rules.book import Book, Role
from solvent.rules.events import Funding, MarkPrice
from solvent.rules.ledger import ASSET, EXTERNAL, SPOT, Ctx, Reason, asset_balance, asset_of
from solvent.solver import effort
from solvent.solver.case_split import identity_holds, recalled, remember
from solvent.solver.linearize import Linearizer

#: the reasons of the transfers that settle positions through the clearing account
SETTLING = frozenset({Reason.SETTLEMENT, Reason.FUNDING})


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


def owner(balance: str) -> str:
    """The account a balance name belongs to (``alice``, ``alice.spot`` and ``alice@USDe`` are all alice's)."""
    return balance.partition(ASSET)[0].removesuffix(SPOT)


def flow(ctx: Ctx, name: str, clearing: str, reasons: frozenset[Reason]) -> Any:
    """What ``name`` (any of its balances) paid into clearing minus what it received, for ``reasons``."""

    def paid(src: str, dst: str) -> Any:
        return sum_(
            z3.If(_b(e.guard), e.item.amount_quote, 0)
            for e in ctx.entries
            if owner(e.item.source) == src and owner(e.item.destination) == dst and e.item.reason in reasons
        )

    return paid(name, clearing) - paid(clearing, name)


def settled_flows(before: Book, ctx: Ctx, event: MarkPrice) -> list[tuple[str, Any, Any]]:
    """For a mark move, each account's (but clearing's) ``(name, flow, expected)``: its net flow
    into the clearing account and ``−s·(M' − M)``, its size in the moved market times the move.
    Conservation's C5 on a mark move is that the two are equal for every account
    (``solver.compositional``); the same equations serve a bounded question as facts
    (:func:`settlement`)."""
    clearing = before.role(Role.CLEARING).name
    book = before.focused(before.market_index(event.market))  # sizes and mark of the market it acts on
    move = event.price_quote - book.market.mark_quote
    return [
        (a.name, flow(ctx, a.name, clearing, SETTLING), -(a.size_lots * move))
        for a in book.accounts
        if a.role is not Role.CLEARING
    ]


def funding_flows(before: Book, ctx: Ctx, event: Funding, carry: str | None = None) -> list[Any]:
    """On a funding payment, conservation's C5 (``solver.compositional``), one statement a piece:
    for each account but clearing, ``1e6 × its net flow into clearing ≥ s·M·r`` (its size and the
    mark in the market paid, the event's rate: payers round up, receivers down), and the dust
    transfer takes what is left in clearing if it is above zero. Where the remainder is carried
    (``carry``, the venue account that backs every carried remainder: mango-v4), one statement
    instead: the carry transfers take the clearing balance, either sign. The all-N argument asks
    their conjunction (C5); a bounded question gets each one proved as a fact (:func:`settlement`)."""
    book = before.focused(before.market_index(event.market))  # sizes and mark of the market it acts on
    clearing = book.role(Role.CLEARING).name
    others = [a for a in book.accounts if a.role is not Role.CLEARING]
    flows = [flow(ctx, a.name, clearing, SETTLING) for a in others]
    if carry is not None:
        carried = flow(ctx, clearing, carry, frozenset({Reason.FUNDING_CARRY}))
        return [carried == book.role(Role.CLEARING).cash_quote + sum_(flows)]
    mark, rate = book.market.mark_quote, event.rate_ppm
    per_account = [PPM * f >= a.size_lots * mark * rate for f, a in zip(flows, others, strict=True)]
    dust = sum_(z3.If(_b(e.guard), e.item.amount_quote, 0) for e in ctx.entries if e.item.reason is Reason.FUNDING_DUST)
    before_dust = book.role(Role.CLEARING).cash_quote + sum_(flows)
    return [*per_account, dust == z3.If(before_dust >= 0, before_dust, 0)]


def settlement(before: Book, ctx: Ctx, event: Any, budget: int, safety_s: float, carry: str | None = None) -> Frame:
    """On a mark move, conservation's C5 on the question's own terms, account by account: what
    the account paid into clearing minus what it received is ``−s·(M' − M)``; on a funding payment
    C5's statements there (:func:`funding_flows`, ``carry`` as it says). Each equation proved for
    every value (its negation unsat, products purified: a sound over-approximation) within what is
    left of ``budget`` units; an equation not proved is left out. No facts for other events. Why
    (docs/solver-notes.md#settlement-as-proved-facts): the engine pays ``max_(−s·ΔM, 0)`` one way
    and ``max_(s·ΔM, 0)`` the other, and z3's simplifier writes the second as a sign test, so
    ``flow = −s·ΔM`` needs each product's sign; asked alone it is a few thousand units, inside the
    question over a lending sweep it was not decided in 8M. On funding (session 26): hyperliquid's
    isolated scope over mark, funding and margin was undecided at 10M without them, proved with
    them (docs/solver-notes.md#funding-questions-on-hyperliquid-session-26)."""
    claims: Iterable[Any]
    if isinstance(event, MarkPrice):  # each equation made as it is asked (z3's terms in the order they always were)
        claims = (paid == expected for _, paid, expected in settled_flows(before, ctx, event))
    elif isinstance(event, Funding):
        claims = funding_flows(before, ctx, event, carry)
    else:
        return Frame((), 0, 0, 0)
    facts, spent, asked = [], 0, 0
    for claim in claims:
        asked += 1
        if spent >= budget:
            continue
        lin = Linearizer(prefix="settled")
        terms = lin.rewrite([z3.Not(claim)])
        lin.finish()
        solver = effort.smt_core()
        solver.add(*terms, *lin.facts)
        solved = effort.solve(solver, budget - spent, safety_s)
        spent += solved.units
        if solved.result == "unsat":
            facts.append(claim)
    return Frame(tuple(facts), spent, asked, len(facts), tuple(facts))


@attrs.frozen
class Frame:
    """The frame equations of one step that were proved, and what proving them cost."""

    facts: tuple[Any, ...]
    units: int
    #: equations asked, and how many of them held
    asked: int
    held: int
    #: the facts that need no balance after the step to be read as its ``if`` tree: each asset's
    #: totals (:func:`_totals`) and the settlement's flows (:func:`settlement`); also in ``facts``
    sums: tuple[Any, ...] = ()


def positions(before: Book, ctx: Ctx, budget: int) -> Frame:
    """The position frame of the step, as the frame lemma P states it (``solver.compositional``):
    every position after it is the position before plus its guarded fills (bought minus sold),
    each equation proved for every value within what is left of ``budget`` units (one proved by P
    on the same book in this question is not asked again); and where every equation of a market
    held and the fills cancel (each fill's lots bought by one account and sold by another), their
    sum: Σ sizes after = Σ sizes before, in that market (:attr:`Frame.sums`). Why: the direct
    check of open-interest balance on drift's lending sweep (N = 2) was undecided within 1.09M
    units; it is the sum, read with the sizes after opaque (docs/solver-notes.md#settlement-as-proved-facts)."""
    facts, sums, spent, asked = [], [], 0, 0
    for i in range(len(before.markets)):
        equations = position_equations(before, ctx, i)
        held = True
        for now, was, fills in equations:
            raw = now - was - fills
            asked += 1
            ok = recalled(raw) == "unsat" or not z3.is_expr(raw) and raw == 0
            if not ok and spent < budget and z3.is_expr(raw):
                split = identity_holds(z3.simplify(raw), budget - spent)
                spent += split.units
                ok = split.result == "unsat"
                if ok:
                    remember(raw, "unsat")
            held = held and ok
            if ok and z3.is_expr(now == was + fills):
                facts.append(now == was + fills)
        rest = sum_(fills for _, _, fills in equations)
        if held and (z3.simplify(rest).eq(z3.IntVal(0)) if z3.is_expr(rest) else rest == 0):
            total = sum_(now for now, _, _ in equations) == sum_(was for _, was, _ in equations)
            if z3.is_expr(total):
                sums.append(total)
    return Frame(tuple(facts) + tuple(sums), spent, asked, len(facts), tuple(sums))


def sizes_after(ctx: Ctx) -> list[Any]:
    """Every position's size after the step, in every market: what a question reads as opaque
    once :func:`positions`'s sums speak of them."""
    after = ctx.book
    return [a.positions[i].size_lots for a in after.accounts for i in range(len(after.markets))]


def balances_after(ctx: Ctx) -> list[Any]:
    """Every balance of the book after the step (each account's cash, spot and asset balances)
    and its net deposits: the terms a question may read as opaque once :attr:`Frame.sums` speak
    of them."""
    after = ctx.book
    out = [after.net_deposits_quote, *(x.net_deposits for x in after.assets)]
    for a in after.accounts:
        out += [a.cash_quote, a.spot_quote, *a.asset_balances]
    return out


def balance_equations(before: Book, ctx: Ctx) -> list[tuple[str, Any, Any, Any]]:
    """``(group, after, before, entries)`` for every balance of every account (cash, spot, each
    collateral asset); ``group`` is the asset the balance is counted in (``""``: settlement cash
    and spot). The frame lemma F (``solver.compositional``) and a question's frame (:func:`frame`)
    state the same equations from here, so one proved by F is recalled by the other."""
    after = ctx.book
    out = []
    for a in before.accounts:
        now = after.account(a.name)
        out.append(("", now.cash_quote, a.cash_quote, moved(ctx, a.name)))
        out.append(("", now.spot_quote, a.spot_quote, moved(ctx, a.name + SPOT)))
        for i, x in enumerate(before.assets):
            out.append((x.name, now.asset_balances[i], a.asset_balances[i], moved(ctx, asset_balance(a.name, x.name))))
    return out


def position_equations(before: Book, ctx: Ctx, index: int) -> list[tuple[Any, Any, Any]]:
    """``(after, before, fills)`` for every account's position in market ``index``: the frame
    lemma P's equations (``solver.compositional``), a question's position frame's too (:func:`positions`)."""
    market = before.markets[index].name
    after = ctx.book
    return [
        (after.account(a.name).positions[index].size_lots, a.positions[index].size_lots, bought(ctx, a.name, market))
        for a in before.accounts
    ]


def _equations(before: Book, ctx: Ctx) -> list[tuple[str, Any, Any, Any]]:
    """:func:`balance_equations`, then net deposits' (settlement cash and each asset's)."""
    after = ctx.book
    out = balance_equations(before, ctx)
    out.append(("", after.net_deposits_quote, before.net_deposits_quote, external(ctx, "")))
    for i, x in enumerate(before.assets):
        out.append((x.name, after.assets[i].net_deposits, x.net_deposits, external(ctx, x.name)))
    return out


def frame(before: Book, ctx: Ctx, budget: int) -> Frame:
    """The frame equations of the step from ``before`` to ``ctx.book`` that hold for every value,
    each proved within what is left of ``budget`` units (an equation not proved is left out).
    Each gap is written as the frame lemma F writes it (``after − before − entries``), so a piece
    F already split in this question is not split again (``case_split.vanishes``).

    Where every equation of an asset held (settlement cash and spot: ``""``), their sum is a fact
    too (:func:`_totals`): Σ balances − net deposits is what it was before the step."""
    facts, spent, asked = [], 0, 0
    equations = _equations(before, ctx)
    held: dict[str, list[bool]] = {}
    for group, now, was, entries in equations:
        raw = now - was - entries
        asked += 1
        ok = recalled(raw) == "unsat"  # proved already in this question (the frame lemma F, N = 2)
        if not ok and spent < budget:
            split = identity_holds(z3.simplify(raw), budget - spent)
            spent += split.units
            ok = split.result == "unsat"
            if ok:
                remember(raw, "unsat")
        held.setdefault(group, []).append(ok)
        if ok:
            facts.append(now == was + entries)
    found = [_totals([e[1:] for e in equations if e[0] == group]) for group, ok in held.items() if all(ok)]
    totals = tuple(t for t in found if t is not None)
    return Frame(tuple(facts) + totals, spent, asked, len(facts), totals)


def _totals(equations: list[tuple[Any, Any, Any]]) -> Any:
    """The sum of one asset's frame equations (every balance of it, then its net deposits), each
    proved: ``Σ after − net deposits after == Σ before − net deposits before``, when its entries
    cancel (each transfer between two balances of the book is in one account's entries with + and
    in another's with −, so Σ entries − the external ones folds to 0 under z3's simplifier);
    else None. A sum of proved equations, so true of every value: it asks nothing of z3. Why
    (docs/solver-notes.md#settlement-as-proved-facts): the question's conjunct Σ cash + spot =
    net deposits is this sum over a book of If trees, which z3 did not find within 12M units on
    drift's lending sweep with each equation a fact."""
    *balances, (nd_after, nd_before, external_entries) = equations
    rest = sum_(entries for _, _, entries in balances) - external_entries
    if z3.is_expr(rest):
        rest = z3.simplify(rest)
        rest = rest.as_long() if z3.is_int_value(rest) else None
    if rest != 0:
        return None
    total = sum_(now for now, _, _ in balances) - nd_after == sum_(was for _, was, _ in balances) - nd_before
    return total if z3.is_expr(total) else None  # nothing to say where every term is a number


__all__ = [
    "SETTLING",
    "Frame",
    "balances_after",
    "bought",
    "external",
    "flow",
    "frame",
    "funding_flows",
    "moved",
    "owner",
    "settled_flows",
    "settlement",
]

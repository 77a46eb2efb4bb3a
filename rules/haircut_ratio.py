"""The ``haircut_ratio`` layer: profits are paid only as far as they are backed. The deficit is
charged pro rata to profit and never beyond it, so principal is senior (percolator,
github.com/aeyakovenko/percolator; docs/model.md#a-haircut-is-charged-for-what-it-took).

Weights over ``pro_rata.payers`` (the traders but the bankrupt one, and the order book):
    w = profit = max(E − principal, 0), and R is capped at W
What the profit cannot pay passes to the next layer. The charge itself, and its rounding, is
``pro_rata.charge``.

With ``losses_settle_capital`` (percolator: negative PnL settles into capital at once), every
event ends by re-basing the principal of each trader and of the book on its losses:
principal := min(principal, max(E, 0)) (``settle_losses``), so profit is junior PnL since the
last loss, as percolator counts it.

With ``warmup_events`` (percolator's PnL warm-up, docs/venues.md#percolator-warm-up) the same
end-of-event step vests profit at the end of each window of that many events (the book's clock):

- Gen A (spec v7 §6.2; ``matured_only`` false): principal := max(principal, E), every junior
  profit is capital from then on. Until then the haircut reaches all of it (``h`` over ``PNL_pos_tot``).
- Gen B (spec v11.31 §3-§7; ``matured_only``): the account holds capital C, a reserve R (profit
  still warming up) and matured profit M = E − C − R. The book keeps principal = C + R, so the
  haircut's weight ``max(E − principal, 0)`` is the matured profit (``h`` over
  ``PNL_matured_pos_tot``) and the reserve is out of its reach as capital is, and
  ``window_pnl_quote`` = R, which the ledger moves by the next event's trading PnL Δ. At the
  event's end, with R₀ = window PnL − Δ the reserve it started with: C := principal − R₀, losses
  settle into it (C := min(C, max(E, 0))), R := clamp(R₀ + Δ, 0, max(E − C, 0)) (fresh gains join
  the reserve, losses take it first: ``set_pnl``), R := 0 at the window's end (it matures), and a
  flat account's matured profit converts into capital (C := C + M, §7.4). Profit made in the
  event of a bankruptcy is charged as matured: the reserve is booked at the event's end.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import attrs

from solvent.rules.arith import Rounding, div, ite, max_, min_, safe_divisor, sum_
from solvent.rules.book import Role
from solvent.rules.ledger import PNL_REASONS, Ctx, Reason
from solvent.rules.margin import MarginRule, equity, is_flat, profit
from solvent.rules.pro_rata import charge, payers
from solvent.rules.recording import Recorder
from solvent.rules.rounding import RoundingRule
from solvent.rules.waterfall import HaircutRatio, Release


def haircut(ctx: Ctx, rule: MarginRule, rounding: RoundingRule, bankrupt: str, remaining: Any) -> tuple[Ctx, Any]:
    """Charge ``remaining``, at most the payers' total profit, pro rata to profit; returns (ctx, paid)."""
    weights = [(account.name, profit(rule, account)) for account in payers(ctx.book, bankrupt)]
    return charge(ctx, rounding, weights, bankrupt, remaining, capped=True, reason=Reason.HAIRCUT)


def fee_from_capital(policy: Any) -> bool:
    """Whether a liquidation penalty is charged from capital (principal), at most the principal:
    Gen A's haircut ratio (spec v7 §9.3 "charged from principal to insurance"; the junior profit
    moved into the senior fund would be a senior claim the vault's residual no longer backs).
    Gen B (``matured_only``) keeps the penalty from cash, as before."""
    layer = policy.layer(HaircutRatio)
    return layer is not None and not layer.matured_only


def settles_losses(policy: Any) -> bool:
    """Whether the policy's haircut counts profit from capital that realized losses reduced."""
    layer = policy.layer(HaircutRatio)
    return layer is not None and layer.losses_settle_capital


def settle_losses(policy: Any, ctx: Ctx) -> Ctx:
    """At the end of an event, under ``losses_settle_capital``: each trader's and the book's
    principal falls to its equity where a loss took it below (never below zero); then, with
    ``warmup_events``, profit vests at the window's end (``vest``; Gen B: ``settle_reserves``)."""
    layer = policy.layer(HaircutRatio)
    if not settles_losses(policy):
        return vest(policy, ctx)
    if layer.matured_only:
        return settle_reserves(policy, ctx)
    book = ctx.book
    for i, account in enumerate(book.accounts):
        if account.is_trader or account.role is Role.LIQUIDITY:
            capital = min_(account.principal_quote, max_(equity(policy.margin, account), 0))
            book = book.replace_account(i, attrs.evolve(account, principal_quote=capital))
    if layer.release is Release.LINEAR:
        return vest_linearly(policy, ctx.with_book(book))
    return vest(policy, ctx.with_book(book))


def window_ends(policy: Any, ctx: Ctx) -> bool:
    """Whether the event ``ctx`` runs is the last of a warm-up window (its clock + 1 a multiple of
    ``warmup_events``); never without a warm-up."""
    layer = policy.layer(HaircutRatio)
    if layer is None or layer.warmup_events is None:
        return False
    return (ctx.book_field("clock") + 1) % layer.warmup_events == 0


def vest(policy: Any, ctx: Ctx) -> Ctx:
    """Gen A (spec v7 §6.2): at a warm-up window's end, each trader's and the book's junior profit
    ``max(E − principal, 0)`` converts into capital at ``h`` (``convert``)."""
    if not window_ends(policy, ctx):
        return ctx
    margin = policy.margin
    return convert(policy, ctx, [(a.name, max_(equity(margin, a) - a.principal_quote, 0)) for a in holders(ctx)])


def vest_linearly(policy: Any, ctx: Ctx) -> Ctx:
    """Gen A's end of an event under ``release = "linear"`` (spec v7 §5): each trader's and the
    book's slope over its junior profit ``max(E − principal, 0)``, restarted at ``max(1, ⌊junior /
    T⌋)`` where the event's trading PnL was a gain (new profit: percolator's
    ``restart_on_new_profit``, after the slot's vesting, ``release_reserves``, converted what the
    old slope had warmed), kept otherwise, none without junior profit (``linear_slope``)."""
    layer = policy.layer(HaircutRatio)
    updates = []
    for account in ctx.book.accounts:
        if not (account.is_trader or account.role is Role.LIQUIDITY):
            continue
        junior = max_(equity(policy.margin, account) - account.principal_quote, 0)
        gain = max_(step_pnl(ctx, account.name), 0)
        kept = max_(junior - gain, 0)
        updates.append((account.name, linear_slope(layer.warmup_events, kept, junior, account.reserve_slope_quote)))
    for name, slope in updates:
        ctx = ctx.update_account(name, reserve_slope_quote=slope)
    return ctx


def step_pnl(ctx: Ctx, name: str) -> Any:
    """The trading PnL ``name`` made in the step so far: what the ledger added to its window PnL
    (the transfers of ``PNL_REASONS``, each where its guard holds)."""
    total: Any = 0
    for entry in ctx.entries:
        t = entry.item
        if t.reason in PNL_REASONS and name in (t.source, t.destination) and t.source != t.destination:
            amount = t.amount_quote if t.destination == name else -t.amount_quote
            total = total + ite(entry.guard, amount, 0)
    return total


def settle_reserves(policy: Any, ctx: Ctx) -> Ctx:
    """Gen B's end of an event (``matured_only``): capital, reserve and matured profit of each
    trader and of the book, kept as principal = capital + reserve and window PnL = reserve; under
    ``release = "linear"`` the reserve's slope too (``linear_release``)."""
    layer = policy.layer(HaircutRatio)
    linear = layer.release is Release.LINEAR
    matures = not linear and window_ends(policy, ctx)
    updates = []
    for account in ctx.book.accounts:
        if not (account.is_trader or account.role is Role.LIQUIDITY):
            continue
        e = equity(policy.margin, account)
        w = account.window_pnl_quote
        started = min_(max_(w - step_pnl(ctx, account.name), 0), account.principal_quote)
        capital = min_(account.principal_quote - started, max_(e, 0))  # losses settle into capital
        junior = max_(e - capital, 0)
        slope = account.reserve_slope_quote
        if linear:  # the slot's release was made as the event opened (release_reserves)
            reserve = min_(max_(w, 0), junior)
            slope = linear_slope(layer.warmup_events, started, reserve, slope)
        else:
            reserve = 0 if matures else min_(max_(w, 0), junior)  # fresh gains reserved; losses take it first
        flat = is_flat(account)
        capital = ite(flat, capital + junior - reserve, capital)  # a flat account's matured profit converts
        updates.append((account.name, capital + reserve, reserve, slope))
    for name, principal, reserve, slope in updates:
        changes = {"principal_quote": principal, "window_pnl_quote": reserve}
        if linear:
            changes["reserve_slope_quote"] = slope
        ctx = ctx.update_account(name, **changes)
    return ctx


def releases_linearly(policy: Any) -> bool:
    """Whether the policy's reserve matures linearly (``release = "linear"``, percolator Gen B)."""
    layer = policy.layer(HaircutRatio)
    return layer is not None and layer.release is Release.LINEAR


def release_reserves(policy: Any, ctx: Ctx) -> Ctx:
    """What opens every event under ``release = "linear"``: each trader and the book releases
    ``min(R, w_slope)`` of its reserve into matured profit (spec v11.31 §4.9
    ``advance_profit_warmup``, which a touch runs before the account's new PnL, §10.1 step 7; an
    event is a slot in which every account is touched, so the elapsed slots are 1). No money
    moves: principal (capital + reserve) and the reserve fall by the release, so the matured
    profit ``E − principal`` grows by it; the slope is the event's end's to keep (§6.5) or drop
    with the reserve (``linear_slope``)."""
    if not releases_linearly(policy):
        return ctx
    if not policy.layer(HaircutRatio).matured_only:
        return _vest_slope(policy, ctx)
    updates = []
    for account in ctx.book.accounts:
        if not (account.is_trader or account.role is Role.LIQUIDITY):
            continue
        released = min_(max_(account.window_pnl_quote, 0), account.reserve_slope_quote)
        updates.append((account.name, account.principal_quote - released, account.window_pnl_quote - released))
    for name, principal, reserve in updates:
        ctx = ctx.update_account(name, principal_quote=principal, window_pnl_quote=reserve)
    return ctx


def _vest_slope(policy: Any, ctx: Ctx) -> Ctx:
    """Gen A's opening under ``release = "linear"`` (spec v7 §5, an event a slot): each trader and
    the book converts ``min(junior, w_slope)`` of its junior profit into capital at ``h``
    (``convert``, spec v7 §6.2)."""
    vested = []
    for account in holders(ctx):
        # min(junior, w_slope), junior = max(E − principal, 0)
        junior = max_(equity(policy.margin, account) - account.principal_quote, 0)
        vested.append((account.name, min_(junior, account.reserve_slope_quote)))
    return convert(policy, ctx, vested)


def holders(ctx: Ctx) -> list[Any]:
    """Who holds capital and junior profit: every trader and the order book (``pro_rata.payers``)."""
    return [a for a in ctx.book.accounts if a.is_trader or a.role is Role.LIQUIDITY]


#: one call of :func:`convert`: ``h_num``, ``h_den`` and each account's ``(name, x, y, lost)``
Conversion = tuple[Any, Any, tuple[tuple[str, Any, Any, Any], ...]]
#: where a block records, each call of :func:`convert` appends its terms (:func:`conversions_recorded`)
_conversions = Recorder("solvent_conversions")


def conversions_recorded() -> AbstractContextManager[list[Conversion]]:
    """Within the block, each call of :func:`convert` appends to the list yielded ``(h_num, h_den,
    accounts)``, its ratio and its accounts' ``(name, x, y, lost)``: the warmable profit, the capital it became and the part moved into the
    order book's hole (the engine's own terms; the step is unchanged, the list only appended to):
    ``solver.haircut_payer`` proves facts of them and frees them in its settlement lemmas."""
    return _conversions.recorded()


def convert(policy: Any, ctx: Ctx, vested: list[tuple[str, Any]]) -> Ctx:
    """Gen A's profit conversion (spec v7 §6.2): each ``(name, x)`` of ``vested`` (its warmable
    profit, at most its junior profit) becomes ``y = x × h_num / h_den`` of capital, rounded by
    ``rounding.conversion`` (the spec's floor), with ``h`` the pre-conversion ratio of §3.2:
    ``h_num = min(Residual, PNL_pos_tot)``, ``h_den = PNL_pos_tot`` (the spec's ``y = x`` where
    ``PNL_pos_tot = 0`` is the same 0: x is at most the junior profit). On the engine's accounts
    (the haircut's: the traders and the order book) ``PNL_pos_tot`` is Σ max(E − principal, 0) and ``Residual = max(0, V − C_tot − I)`` is
    ``max(0, Σ (E − principal))``: every quote outside them is the insurance fund's, and the order
    book's loss beyond its cash (which percolator would have written off, §6.1) counts against it.
    One ``h`` for the event's conversions (every account is touched in the same slot; the spec:
    conversions "are order-independent up to rounding").

    The spec reduces the junior claim by ``x`` and raises capital by ``y``: the part not converted,
    ``x − y``, is lost to the account. Here it is a ``CONVERSION_HAIRCUT`` transfer into the order
    book's loss beyond its cash (``max(−E, 0)``, in book order, each at most what is left of it):
    the vault's backing that percolator's write-off left unowned. What that loss does not take stays
    the account's junior profit (the book's own always does): the capital is ``y`` either way."""
    margin = policy.margin
    accounts = holders(ctx)
    total = sum_(max_(equity(margin, a) - a.principal_quote, 0) for a in accounts)  # PNL_pos_tot
    residual = max_(sum_(equity(margin, a) - a.principal_quote for a in accounts), 0)  # V − C_tot − I
    h_num = min_(residual, total)
    order_book = ctx.system(Role.LIQUIDITY)
    hole = max_(-equity(margin, ctx.account(order_book)), 0)
    updates = []
    for name, x in vested:
        y = div(x * h_num, safe_divisor(total), rounding=policy.rounding.conversion)
        lost: Any = 0
        if name != order_book:
            lost = min_(max_(x - y, 0), hole)  # x − y ≥ 0 (h ≤ 1), said so the transfer is plainly non-negative
            hole = hole - lost
        updates.append((name, x, y, lost))
    _conversions.note((h_num, total, tuple(updates)))  # for the solver (conversions_recorded)
    for name, _, y, lost in updates:
        ctx = ctx.transfer(name, order_book, lost, Reason.CONVERSION_HAIRCUT)
        ctx = ctx.update_account(name, principal_quote=ctx.account(name).principal_quote + y)
    return ctx


def linear_slope(warmup: int, kept: Any, reserve: Any, slope: Any) -> Any:
    """The reserve's slope after an event, percolator Gen B's ``w_slope_i`` (spec v11.31 §4.9,
    §6.4-6.5): ``kept`` is the reserve the release left, ``reserve`` the reserve once the event's
    PnL joined it (gains) or took from it (losses, first), both after the slot's release
    (``release_reserves``). A reserve that grew restarts over the
    whole warm-up, ``max(1, ⌊R / T⌋)`` (``restart_warmup_after_reserve_increase``: new profit gets
    no maturity the old slope had earned); one that did not keeps its slope (§6.5: a release or a
    loss does not re-pace what is left); none left, no slope (§4.9 step 6)."""
    restarted = max_(1, div(reserve, warmup, rounding=Rounding.FLOOR))
    return ite(reserve > kept, restarted, ite(reserve == 0, 0, slope))

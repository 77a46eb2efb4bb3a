"""Bankruptcy: run the policy's default waterfall over a liquidated account's deficit.

The deficit is measured at the execution price: ``R = max(0, −(E − open lots × slip))``, what the
account would owe after closing the rest of its position into the book. Each layer in order
reduces R by what it can; ADL closes the position itself, every other layer pays cash in. ADL
runs only against an account whose equity at mark is below zero (dYdX requires TNC < 0,
docs/venues.md#dydx-v4-deleveraging, #invariants-the-mechanisms-suggest): a deficit made only of slippage is closed into the book instead. Where
the policy has no ADL layer the position is closed into the book first. What no layer pays is a
residual: the account is left below zero. Where the insurance fund holds what it takes over
(BitMEX), what ADL leaves is the fund's, below zero if need be (:func:`fund_takes_over`).

A socialized loss with ``cascade`` (Drift, docs/venues.md#drift-v2-bankruptcy) may leave a payer
below zero; once the waterfall is done, every such trader still holding a position is liquidated
and resolved in turn, through the same waterfall, in the same step (``_bankrupt_in_turn``). On a
book with collateral assets "below zero" is the account's whole value at oracle prices
(``assets.account_value``: cash, deposits, borrows), as Drift's total collateral and Mango's health
count it, and the payer is liquidated as the sweep's whole close does it (``settle_collateral``:
collateral sold, borrows repaid from its cash, the rest down each lent asset's own waterfall)
before its deficit is resolved (issue 18, docs/solver-notes.md#a-socialized-loss-sinks-a-borrower-below-zero-issue-18).
"""

from __future__ import annotations

from typing import Any

from solvent.rules import insurance_claim
from solvent.rules.adl import deleverage, pool_takes_over
from solvent.rules.arith import abs_, and_, max_, not_, or_
from solvent.rules.assets import account_value, sell_collateral
from solvent.rules.book import Book, Role
from solvent.rules.clawback import claw_back
from solvent.rules.collateral import convert_spot
from solvent.rules.debt_carry import carry
from solvent.rules.deleveraging_limit import deleverage_within_limit
from solvent.rules.fund_drawdown import is_drawn_down
from solvent.rules.haircut_ratio import haircut
from solvent.rules.insurance_fund import pay_from
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.lending import borrowed_value, cover_settlement_borrow, cuts_deposits, lends_any, settle_borrows
from solvent.rules.liquidation import (
    close_other_markets,
    counterparty,
    fill_price,
    fund_holds,
    note_liquidated,
    pools_holding,
    slip_per_lot,
)
from solvent.rules.margin import account_maintenance, counts_spot, equity, open_lots
from solvent.rules.outcomes import Bankrupt, LayerUsed, Residual
from solvent.rules.policy import Policy
from solvent.rules.positions import close_against
from solvent.rules.side_index import close_against_side, shrinks_opposing_side
from solvent.rules.socialized_loss import socialize
from solvent.rules.venue_absorbs import venue_pays
from solvent.rules.waterfall import (
    Adl,
    BackstopVault,
    Clawback,
    DebtCarry,
    FeePool,
    HaircutRatio,
    InsuranceFund,
    Over,
    SocializedLoss,
    VenueAbsorbs,
)


def fee_to_close_rate(policy: Policy) -> int:
    """The taker rate the bankruptcy price includes (``liquidation.fee_to_close``), else 0."""
    return policy.fees.taker_ppm if policy.liquidation.fee_to_close else 0


def remaining_deficit(policy: Policy, ctx: Ctx, name: str) -> Any:
    """R = max(0, −(E − |S| × slip)): the deficit if the rest were closed into the book now."""
    account = ctx.account(name)
    slip = slip_per_lot(policy.liquidation, ctx.market.mark_quote)
    return max_(-(equity(policy.margin, account) - abs_(account.size_lots) * slip), 0)


def settle_collateral(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    """Before a whole position closes on a book with collateral assets: the account's collateral
    sold at the oracle price as far as it would owe once closed (its borrows' oracle value counted,
    ``lending.borrowed_value``), then its borrows repaid with what its cash holds beyond the
    closing's slippage, what that leaves going down each lent asset's own waterfall
    (``lending.settle_borrows``). The sweep's whole close (``engine._close_whole``) and the
    cascade's liquidation (``_bankrupt_in_turn``) both run it. Nothing on a book without assets."""
    if not ctx.book_field("assets"):
        return ctx
    rule = policy.liquidation
    mark = ctx.market.mark_quote
    account = ctx.account(name)
    owed = abs_(account.size_lots) * slip_per_lot(rule, mark) - equity(policy.margin, account)
    if lends_any(policy):
        owed = owed + borrowed_value(policy, ctx.book_field("assets"), account.asset_balances)
    ctx = sell_collateral(policy, ctx, name, owed)
    account = ctx.account(name)
    return settle_borrows(
        policy, ctx, name, equity(policy.margin, account) - abs_(account.size_lots) * slip_per_lot(rule, mark)
    )


def close_into_book(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    account = ctx.account(name)
    price = fill_price(policy.liquidation, account, ctx.market.mark_quote)
    cp = counterparty(policy.liquidation, ctx)
    return close_against(ctx, name, cp, abs_(account.size_lots), price, Reason.LIQUIDATION_SLIPPAGE)


def _close(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    """Close the bankrupt position before a waterfall without ADL: against the opposing side pro
    rata under a per-lot charge of that side (percolator Gen B, ``side_index``), else into the book."""
    if shrinks_opposing_side(policy):
        account = ctx.account(name)
        price = fill_price(policy.liquidation, account, ctx.market.mark_quote)
        return close_against_side(ctx, name, abs_(account.size_lots), price)
    return close_into_book(policy, ctx, name)


def pay_insurance_fund(
    policy: Policy, ctx: Ctx, layer: InsuranceFund, name: str, remaining: Any
) -> tuple[Ctx, Any, Any]:
    """The insurance-fund layer pays what it can of ``remaining`` (its cap, floor and all-or-nothing
    gate as the layer states them, the cap lowered to what the claim of the market the book is
    focused on has left where its table caps the fund's total: ``rules.insurance_claim``, Drift's
    ``quote_max_insurance − quote_settled_insurance``), and the market's running total grows by
    what it paid; returns (ctx, covered, exhausted)."""
    ctx, paid, exhausted = pay_from(
        ctx,
        Role.INSURANCE_FUND,
        name,
        remaining,
        Reason.INSURANCE_FUND,
        insurance_claim.cap_now(policy, ctx.market, layer.cap_quote),
        all_or_nothing=layer.all_or_nothing,
        floor=layer.floor_quote,
    )
    return insurance_claim.record(policy, ctx, paid), paid, exhausted


def fund_takes_over(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    """On a policy whose insurance fund holds what it takes over (``liquidation.fund_unwind_ppm``,
    BitMEX): what the account still owes once ADL has closed its position (the lots nobody opposite
    could take went to the fund, at the mark) is the fund's, paid whatever the fund holds, below
    zero if need be (``Reason.FUND_TAKEOVER``): BitMEX's engine takes the position over at the
    bankruptcy price and "its loss against the mark is the insurance fund's", and the fund "never
    turns to a trader with a negative balance" (docs/venues.md#bitmex-liquidation,
    #bitmex-insurance-fund). The account ends at zero and leaves no residual; a fund below zero
    holding a position is deleveraged at the next sweep (``rules.pool_bankruptcy``). Part of the
    ADL layer's close, so that layer's record covers it
    (docs/model.md#a-deficit-nobody-opposite-can-take-on-a-fund-that-holds-what-it-takes-over)."""
    owed = remaining_deficit(policy, ctx, name)
    return ctx.transfer(ctx.system(Role.INSURANCE_FUND), name, owed, Reason.FUND_TAKEOVER)


def vault_takes_over(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    """At a sweep that moved no mark, where a trader's ADL would spread its gap around the backstop
    vault's lots (``rules.adl.pool_takes_over``): what the account still owes once ADL has closed
    its position over the whole of it (the fills' shares paid, the lots they leave gone to the
    counterparty at the liquidation fill) is the vault's, paid whatever it holds, below zero if need
    be (``Reason.VAULT_TAKEOVER``): the share of the deficit at the bankruptcy price of the lots no
    fill closes, which the vault's own lots among them would pay at that price, as BitMEX's fund
    takes over what ADL leaves (:func:`fund_takes_over`). A vault left below zero holding lots is
    deleveraged at the next sweep (``rules.pool_bankruptcy.bankrupt_by``), one left flat keeps the
    debt (the lead's decision, session 28:
    docs/model.md#session-28-at-a-funding-sweep-the-vault-takes-over-what-adl-leaves). Part of the
    ADL layer's close, so that layer's record covers it. The pools :func:`spread_over` names are
    the vault alone (the fund's never: where it holds, it takes over itself)."""
    # ADL has closed its whole position, so what it owes is its equity below zero (``remaining_deficit``
    # with no lots left), built as its cash where no spot counts (``margin.equity``'s ``cash + 0`` and
    # ``remaining_deficit``'s lots left hyperliquid's isolated conservation over mark, funding and margin
    # undecided at 10M, this form proves it: docs/solver-notes.md#at-a-funding-sweep-each-payer-its-fills-share-session-28)
    account = ctx.account(name)
    owed = max_(-(equity(policy.margin, account) if counts_spot(policy.margin, account) else account.cash_quote), 0)
    return ctx.transfer(ctx.system(Role.BACKSTOP_VAULT), name, owed, Reason.VAULT_TAKEOVER)


def spread_over(policy: Policy) -> tuple[Role, ...]:
    """The pools whose opposing lots a trader's ADL spreads its gap around (``rules.adl.reach``):
    those that hold what they take over, except where the fund takes over what ADL leaves
    (:func:`fund_takes_over`, BitMEX). There the gap is over the whole position, each winner's within
    the move a lot, and what the fund's lots, closed at the mark, leave unpaid is the fund's: the
    spread charged the winners it reached for the fund's lots, beyond the move where the fund had
    already spent their gain on an earlier bankruptcy of the sweep, and the whole deficit a lot where
    the fund's lots covered the position (tests/solver/test_bitmex_payer_story.py,
    docs/model.md#the-gap-is-spread-over-the-lots-adl-can-close)."""
    return () if fund_holds(policy.liquidation) else pools_holding(policy.liquidation)


def _run_layer(
    policy: Policy, ctx: Ctx, name: str, layer: Any, remaining: Any, at_bankruptcy: Book, *, flat: bool = False
) -> tuple[Ctx, Any, Any]:
    """Apply one layer; returns (ctx, covered, exhausted). ``at_bankruptcy`` is the book before the
    bankrupt position was closed (the open interest a per-lot socialized loss is spread over).
    ``flat``: the bankrupt account holds no position (a loan its collateral did not cover), so ADL,
    which closes a position against the winners, has nothing to close and pays nothing."""
    if flat and isinstance(layer, Adl):
        return ctx, 0, True
    if flat and isinstance(layer, SocializedLoss) and layer.over is Over.OPPOSING_SIDE:
        # no lots to close, so none taken and nothing charged per lot (percolator Gen B, spec v11.31
        # §5.6 with q = 0: the deficit passes on to the haircut); not built
        return ctx, 0, True
    if isinstance(layer, InsuranceFund):
        return pay_insurance_fund(policy, ctx, layer, name, remaining)
    if isinstance(layer, BackstopVault):
        return pay_from(ctx, Role.BACKSTOP_VAULT, name, remaining, Reason.BACKSTOP_VAULT)
    if isinstance(layer, FeePool):
        return pay_from(ctx, Role.FEE_ACCOUNT, name, remaining, Reason.FEE_POOL)
    if isinstance(layer, Adl):
        price = fill_price(policy.liquidation, ctx.account(name), ctx.market.mark_quote)
        cp = counterparty(policy.liquidation, ctx)
        bankrupt_at_mark = equity(policy.margin, ctx.account(name)) < 0
        run_adl = and_(remaining > 0, bankrupt_at_mark)
        if layer.fund_drawdown is not None:
            has_position = ctx.account(name).size_lots != 0
            run_adl = or_(run_adl, and_(has_position, is_drawn_down(layer.fund_drawdown, ctx.book)))
        pools = spread_over(policy)
        # at a sweep that moved no mark the vault takes over what the fills leave, no spread (session 28)
        vault = pool_takes_over(ctx, layer, pools)

        def close(d: Ctx) -> Ctx:
            d = deleverage(
                d,
                policy.margin,
                policy.rounding,
                layer,
                name,
                cp,
                price,
                fee_to_close_rate(policy),
                pools=() if vault else pools,
            )
            # what the fills leave, where ADL closed the position (not a deferred one, nor one closed into the book)
            return vault_takes_over(policy, d, name) if vault else d

        ctx = ctx.branch(
            run_adl,
            lambda c: deleverage_within_limit(layer, c, name, close),
            lambda c: close_into_book(policy, c, name),
        )
        if fund_holds(policy.liquidation):
            ctx = fund_takes_over(policy, ctx, name)
        return ctx, remaining - remaining_deficit(policy, ctx, name), True
    if isinstance(layer, SocializedLoss):
        # without ADL the position was closed into the book (or the vault) before the waterfall
        liquidator = counterparty(policy.liquidation, ctx) if policy.adl is None else None
        ctx, paid = socialize(ctx, policy.margin, policy.rounding, layer, name, remaining, at_bankruptcy, liquidator)
        return ctx, paid, True
    if isinstance(layer, HaircutRatio):
        ctx, paid = haircut(ctx, policy.margin, policy.rounding, name, remaining)
        return ctx, paid, True
    if isinstance(layer, Clawback):
        ctx, paid = claw_back(ctx, policy.rounding, layer, name, remaining)
        return ctx, paid, True
    if isinstance(layer, VenueAbsorbs):
        return venue_pays(ctx, name, remaining), remaining, True
    if isinstance(layer, DebtCarry):
        return carry(ctx, layer, name, remaining), remaining, True
    raise TypeError(f"unknown waterfall layer {layer!r}")


def resolve(
    policy: Policy,
    ctx: Ctx,
    name: str,
    resolving: tuple[str, ...] = (),
    *,
    flat: bool = False,
    sold: bool = False,
    alone: bool = False,
) -> Ctx:
    """Pay ``name``'s deficit down the waterfall and close its position; then, under a socialized
    loss with ``cascade``, resolve every payer it left below zero. ``resolving``: the accounts whose
    bankruptcy led to this one (never resolved again in the same chain, so the cascade ends).
    ``flat``: the account holds no position (:func:`resolve_loan`). ``sold``: its collateral was
    sold already by :func:`settle_collateral` (the cascade's liquidation), which leaves either none
    or a deficit of 0, so the sale here could sell nothing; it is not built (fewer terms for z3:
    the fund's turn lemma on Mango's two-trader lending book 1.16M -> 0.71M units). ``alone``: no
    cascade after it (the cascade's own resolutions: :func:`_cascade` goes on with the next)."""
    ctx = convert_spot(policy.margin, ctx, name)
    # collateral first (solvent.rules.assets); a flat loan's was sold by the auto exchange
    if ctx.book_field("assets") and not (flat or sold):
        ctx = sell_collateral(policy, ctx, name, remaining_deficit(policy, ctx, name))
    deficit = remaining_deficit(policy, ctx, name)
    ctx = ctx.note(Bankrupt(name, deficit))
    at_bankruptcy = ctx.book
    if policy.adl is None and not flat:
        ctx = _close(policy, ctx, name)
    remaining = deficit
    for index, layer in enumerate(policy.deficit):
        ctx, covered, exhausted = _run_layer(policy, ctx, name, layer, remaining, at_bankruptcy, flat=flat)
        # a layer reached with a deficit left is recorded even when it paid nothing (an empty fund
        # was asked): "ADL only after the fund is exhausted" is then checkable per account, also
        # when an earlier bankruptcy in the same step drained the fund
        ctx = ctx.note_if(or_(covered != 0, remaining > 0), LayerUsed(name, index, layer.kind, covered, exhausted))
        remaining = remaining - covered
    ctx = ctx.note_if(remaining > 0, Residual(name, remaining))
    return ctx if alone else _cascade(policy, ctx, (*resolving, name))


def resolve_loan(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    """A flat account's loan that its collateral, sold whole, did not cover (``assets.exchange_loan``)
    is bad debt: it goes down the waterfall as a liquidated account's deficit does, measured the
    same way (R = −E with no position), every layer in order except ADL, which has no position to
    close (it is recorded as reached, paying nothing). Binance's auto exchange at a loan-to-value
    of 1 sells the collateral; what a gap leaves short is the insurance fund's, as any bankrupt
    account's balance is ("the Insurance Fund will balance the account back to 0",
    docs/venues.md#binance-insurance-fund)."""
    return resolve(policy, ctx, name, flat=True)


def writes_off_flat(policy: Policy) -> bool:
    """Whether the policy writes a flat trader's negative remainder off at the end of its turn
    (:func:`write_off`): percolator Gen B, whose haircut reaches matured profit only
    (``haircut_ratio.matured_only``, spec v11.31 §3.2-3.5): §7.3 is that account model's rule
    (docs/model.md#percolator-gen-bs-whole-lot-shrink-the-charge-follows-the-lots-taken-session-22)."""
    layer = policy.layer(HaircutRatio)
    return layer is not None and layer.matured_only


def write_off(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    """percolator's zero-position negative remainder (spec v11.11 §7.3) at ``name``'s touch: the end
    of its liquidation turn (``engine.liquidation_turn``), after its liquidation and the cascade it
    set off (:func:`write_off_turn`); nothing on a policy that does not :func:`writes_off_flat`."""
    if not writes_off_flat(policy):
        return ctx
    return write_off_turn(policy, ctx, name)


def write_off_turn(policy: Policy, ctx: Ctx, name: str) -> Ctx:
    """A trader that holds no position and is below zero, and that this step has not resolved, is
    written off: spec v11.11 §7.3 ("if after settling from principal ``PNL_i < 0`` and
    ``effective_pos_q(i) == 0``, the engine MUST call ``absorb_protocol_loss(−PNL_i)`` and
    ``set_pnl(i, 0)``"), §4.9 (``absorb_protocol_loss``: the insurance fund pays
    ``min(loss, I − I_floor)``, the rest is "represented by junior undercollateralization through
    ``h``"). Its deficit ``−E`` goes down the policy's waterfall as a flat account's does
    (:func:`resolve` with ``flat``): the fund above its floor (``Reason.INSURANCE_FUND``), no per-lot
    charge (no lots), then the haircut over the payers' matured profit (``Reason.HAIRCUT``, its dust
    to the fund), each a transfer; ``alone``: nothing it charges sinks a payer (the haircut takes
    profit only). Where the matured profit is short, what is left stays on the account, noted as
    ``Residual`` (as a deficit no layer pays is on every policy): percolator's ``h`` would carry it
    as the reserves' later shortfall, which the engine's haircut, charged when the deficit arises,
    does not reach (docs/model.md, the decision's part 2). An account the step resolved already
    (a ``Bankrupt`` outcome of its own) is not resolved again: what its resolution left is that
    resolution's residual, already noted."""
    account = ctx.account(name)
    resolved = or_(*(g.guard for g in ctx.outcomes if isinstance(g.item, Bankrupt) and g.item.account == name))
    due = and_(open_lots(account) == 0, equity(policy.margin, account) < 0, not_(resolved))
    return ctx.branch(due, lambda c: resolve(policy, c, name, flat=True, alone=True))


def _cascade(policy: Policy, ctx: Ctx, resolving: tuple[str, ...]) -> Ctx:
    """Under ``socialized_loss`` with ``cascade``: every trader outside the chain that still holds a
    position with its value below zero is bankrupt in turn (on Drift the socialized charge is a
    funding payment booked with no cap, and the account it sinks is liquidated and resolved by
    ``resolve_perp_bankruptcy`` in its turn, docs/venues.md#drift-v2-bankruptcy). Its value is
    ``assets.account_value``: equity on a book without collateral assets (the same terms), equity
    plus deposits less borrows at oracle prices on one with them (Drift's total collateral, Mango's
    health: a borrower the charge sinks below its borrow is sunk though its cash is not).

    In turn: while a trader is below zero, the first in book order is resolved, its own socialized
    loss charged, and the book is read again (at most once per trader: its resolution closes the
    account's position, so it is not below zero with a position again). That is the order the
    cascade took when each account it resolved cascaded in turn, book order at each level: the
    cascade from the first account below zero leaves no trader below zero, so the rest of the level
    it started from finds none (docs/solver-notes.md#the-cascade-in-turn-issue-18). As a loop the
    symbolic run builds each step once (N - 1 steps of N - 1 candidates) where the chains built
    every order of the traders: Gen B's mark move at N = 4, 36 resolutions instead of 60."""
    layer = policy.layer(SocializedLoss)
    if layer is None or not layer.cascade:
        return ctx
    names = [a.name for a in ctx.book.traders if a.name not in resolving]
    for _ in names:
        ctx, resolved = _first_below(policy, ctx, sunk(policy, ctx, names), resolving)
        if not resolved:
            return ctx
    return ctx


def sunk(policy: Policy, ctx: Ctx, names: list[str]) -> list[tuple[str, Any]]:
    """The cascade's test, read on one book for each of ``names`` in book order: (name, whether it
    still holds a position with its value below zero). One function so that the prover's lemmas on
    the loop read the engine's own test (``solver.cascade_invariant``)."""
    assets = ctx.book_field("assets")
    below = []
    for name in names:
        account = ctx.book.account(name)
        below.append((name, and_(open_lots(account) != 0, account_value(policy, assets, account) < 0)))
    return below


def _first_below(
    policy: Policy,
    ctx: Ctx,
    below: list[tuple[str, Any]],
    resolving: tuple[str, ...],
    *,
    alone: bool = True,
    settle_cash: bool = False,
) -> tuple[Ctx, bool]:
    """The first of ``below`` (name, below zero, in book order, each read on the same book) that is
    below zero is liquidated and resolved (:func:`_bankrupt_in_turn`), alone where the cascade's own
    loop goes on with the next; ``settle_cash``: then what it still owes in settlement cash goes to
    the settlement currency's own bankruptcy (``lending.cover_settlement_borrow``). Returns (ctx,
    whether one may have been: False only where every test is a plain False)."""
    tests = [(name, sunk) for name, sunk in below if sunk is not False]

    def resolved(d: Ctx, name: str) -> Ctx:
        d = _bankrupt_in_turn(policy, d, name, resolving, alone=alone)
        return cover_settlement_borrow(policy, d, name) if settle_cash else d

    def first(c: Ctx, k: int) -> Ctx:
        name, sunk = tests[k]
        rest = (lambda d: first(d, k + 1)) if k + 1 < len(tests) else None
        return c.branch(sunk, lambda d: resolved(d, name), rest)

    return (first(ctx, 0), True) if tests else (ctx, False)


def _bankrupt_in_turn(policy: Policy, ctx: Ctx, name: str, resolving: tuple[str, ...], *, alone: bool = False) -> Ctx:
    """Liquidate ``name``, below zero after another account's socialized loss, and resolve it: its
    other markets closed first and, on a book with collateral assets, its collateral sold and its
    borrows repaid as the sweep's whole close does (``settle_collateral``), then its deficit down
    the waterfall (``resolve``). The liquidation is noted with the value the cascade's test read
    (``assets.account_value``: below zero, so below the maintenance margin whatever the weights;
    equity itself without assets, as before)."""
    account = ctx.book.account(name)
    mark = ctx.book.market.mark_quote
    mm = account_maintenance(policy.margin, policy.rounding, account, mark, ctx.book.more_markets, policy.more_margins)
    value = account_value(policy, ctx.book_field("assets"), account)
    ctx = note_liquidated(ctx, name, value, mm, fill_price(policy.liquidation, account, mark))
    if ctx.book.more_markets:  # its other markets first, as the sweep's liquidation does
        ctx = close_other_markets(policy, ctx, name)
    ctx = settle_collateral(policy, ctx, name)
    return resolve(policy, ctx, name, resolving, sold=True, alone=alone)


def standing(policy: Policy, ctx: Ctx, name: str) -> list[tuple[str, Any]]:
    """At the start of ``name``'s liquidation turn, on a book with collateral assets and a policy
    that :func:`cuts_deposits`: each other trader in book order and whether its value
    (``assets.account_value``) is at or above zero; nothing otherwise (no terms built)."""
    assets = ctx.book_field("assets")
    if not assets or not cuts_deposits(policy):
        return []
    return [(a.name, account_value(policy, assets, a) >= 0) for a in ctx.book.traders if a.name != name]


def sunk_by_turn(policy: Policy, ctx: Ctx, was: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """For each of ``was`` (:func:`standing`): whether the turn sank it, at or above zero at the
    turn's start and below zero now, flat or holding a position, and not resolved in this step
    already (no ``Bankrupt`` of its own: at most once per account, as :func:`write_off_turn`)."""
    assets = ctx.book_field("assets")
    below = []
    for name, stood in was:
        now = account_value(policy, assets, ctx.book.account(name))
        below.append((name, and_(stood, now < 0, not_(resolved_in_step(ctx.outcomes, name)))))
    return below


def resolved_in_step(outcomes: tuple[Any, ...], name: str) -> Any:
    """Whether ``name`` was resolved in this step so far: the disjunction of the guards of its
    ``Bankrupt`` outcomes among ``outcomes`` (a step's, in order). One function, so that the prover's
    fund lemma reads what :func:`sunk_by_turn` reads (``solver.fund_facts``: the turn's earlier outcomes)."""
    return or_(*(g.guard for g in outcomes if isinstance(g.item, Bankrupt) and g.item.account == name))


def resolve_sunk(policy: Policy, ctx: Ctx, name: str, was: list[tuple[str, Any]]) -> Ctx:
    """At the end of ``name``'s liquidation turn: every other trader the turn sank below zero
    (:func:`sunk_by_turn`) is liquidated and resolved in turn, in book order, at most once each,
    as the cascade resolves a payer the socialized loss sinks (:func:`_bankrupt_in_turn`: its
    collateral sold, its borrows repaid, what is left down the policy's waterfall, then the cascade
    after it). On Drift and Mango v4 it is a depositor the deposit-index cut of ``name``'s unpaid
    borrow sank (``lending._deposit_index_loss``), flat or not: a holder the socialized charge
    sinks is the cascade's, resolved already. What the waterfall leaves it owing in settlement cash
    goes to the settlement currency's own bankruptcy where the policy declares one
    (``[settlement]``, ``lending.cover_settlement_borrow``: USDC's depositors pay, session
    31), before the book is read again, so a holder that cut sinks is resolved in its turn too.
    Drift brings a bankrupt account back to zero (the fund, the fee pool, the socialized loss:
    docs/venues.md#drift-v2-negative-balances,
    #drift-v2-bankruptcy), Mango's ``token_liq_bankruptcy`` leaves it at exactly zero
    (docs/venues.md#mango-v4-bankruptcy); the lead's decision, session 30
    (docs/model.md#a-depositor-the-cut-sinks-is-resolved-in-turn-session-30). Nothing where
    :func:`standing` read nothing (a book without assets, a policy that cuts no deposit)."""
    for _ in was:
        ctx, resolved = _first_below(
            policy, ctx, sunk_by_turn(policy, ctx, was), (name,), alone=False, settle_cash=True
        )
        if not resolved:
            return ctx
    return ctx

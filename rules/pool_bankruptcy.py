"""The bankruptcy of a pool that holds a taken-over position: the insurance fund or the backstop vault.

Where a pool holds what it takes over (the insurance fund under ``liquidation.fund_unwind_ppm``,
the backstop vault under a takeover execution or ``takeover_below_ppm``), its balance moves with
the mark like a trader's cash, so a large enough move takes it below zero: the pool has spent all
it had and owes the rest. Two venues state what happens then:

- BitMEX: "The Insurance Fund is used to prevent ADL. If it is depleted for a given contract, ADL
  will occur", and a position the liquidation engine took over that "cannot be filled by the time
  the mark price reaches the bankruptcy price" is deleveraged against the opposing traders by
  profit and leverage (bitmex.com/app/autoDeleveraging; support.bitmex.com "What is
  Auto-Deleveraging": "and the Insurance Fund is depleted for the given contract";
  bitmex.com/app/liquidation: the fund is spent "on aggressing the position in the market ... If
  this still does not close the liquidated order, this will then lead to an Auto-Deleveraging
  event"; docs/venues.md#bitmex-adl).
- Hyperliquid, since the JELLY incident of March 2025: the liquidator vault has "a tight cap", and
  "ADL will be triggered if the Liquidator loses above a certain threshold, instead of moving
  collateral automatically from the other component vaults" (Hyperliquid's post, tglist.com copy;
  docs/venues.md#hyperliquid-adl). The threshold is not published; here it is the vault's own
  balance: ADL once the vault is below zero, so it never takes collateral it does not hold.

Rule (:func:`deleverage_pools`, at the start of every sweep, before the fund's unwind): a pool
holds a position, its balance is below zero, ``D = −balance``, and its lots lost in this step's move
(:func:`lots_lose`, below: ``L > 0`` said by the signs, one test for both pools since session 25), or
it is the backstop vault at a sweep that moved no mark (:func:`bankrupt_by`, session 27, below). It
is bankrupt: its own layer
(``insurance_fund`` or ``backstop_vault``) is spent, and the policy's ``adl`` layer closes the
pool's whole position against the opposing traders in the layer's ranking, at the layer's price,
the book last, exactly as for a bankrupt trader (``rules.adl.deleverage``): at ``price =
"bankruptcy"`` the gap is ``⌈D / |S|⌉`` a lot, the pool's own bankruptcy price, and the rounding's
excess (under one quantum a lot) stays with the pool; at ``"previous_mark"`` the winners pay the
move back and the excess is the vault's, as for a trader the vault took over. What nobody opposite
holds is closed into the book at the mark; a deficit left is a residual. Other layers are not
asked (both venues' order is the pool, then ADL), and without an ``adl`` layer the pool stays
below zero (``claims-backed`` reports it).

Why the pool's bankruptcy price and not the taken-over order's: BitMEX closes the winners at "the
bankruptcy price of the initial liquidated order", and uses the fund first; the engine's pool
holds every position it took over as one (their orders' prices are not kept), and the price at
which its balance is exactly zero is the one that spends the pool first and no more. Per lot it is
never worse for a winner than the order's own bankruptcy price while the pool's deficit is the
held lots' own loss (docs/model.md#the-funds-own-bankruptcy).

Where the fund also takes over what ADL leaves (``bankruptcy.fund_takes_over``: a policy whose fund
holds what it takes over, ``liquidation.fund_unwind_ppm``, BitMEX), its deficit may be one it took
over from a trader of the *other* side, which the rule above handed whole to the traders opposite
the fund's lots, beyond the move (found in session 23, tests/solver/test_bitmex_fund_deleverage_story.py).
There (the lead's decision, session 23, option (a): docs/model.md#the-funds-own-bankruptcy) the
fund is deleveraged only for the loss its lots made in the move, ``L = −S·(M − M_prev)`` (``S`` its
lots, ``M_prev`` the mark before the last move): it is bankrupt only where ``L > 0`` as well as its
balance below zero, and its position is closed for ``min(D, L)`` (``rules.adl.deleverage``'s
``owed``: at ``price = "bankruptcy"`` a gap of ``⌈min(D, L) / |S|⌉ ≤ |M − M_prev|`` a lot); what it owes
beyond that stays its own, below zero (a residual of the fund). Why: BitMEX closes the traders
opposite a liquidated order at that order's own bankruptcy price ("closed out at the bankruptcy
price of the initial liquidated order", docs/venues.md#bitmex-adl) and no trader owes more than the
margin posted (docs/venues.md#bitmex-negative-balances); the engine keeps no order's price, and the
move's loss of the fund's lots is the bound that price gives: a winner pays at most what its lots
gained in the move. The fund below zero is BitMEX's design (``insurance-fund-non-negative`` and
``claims-backed`` are accepted on bitmex). On every other policy no term is built for it.

``M_prev`` is the mark before *this step's* move (session 24, docs/model.md#the-funds-own-bankruptcy,
"At a funding event"): a funding payment (an asset's price, interest) moves no mark, so the fund's
lots lost nothing in it, ``L = 0``, and a sweep after one never deleverages the fund (``Ctx.mark_moved``:
the book's marks there are an earlier move's, and reading them handed that move's gain over again,
for lots perhaps taken over after it). A fund a funding payment takes below zero keeps that debt as
its own, as what it took over; a later move in which its lots lose hands on at most that loss. Why:
BitMEX deleverages a liquidated order that "cannot be filled by the time the Mark Price reaches the
Bankruptcy Price" (docs/venues.md#bitmex-adl), a price's move; funding is exchanged between the
holders of positions at a funding timestamp and moves no mark (docs/venues.md#bitmex-funding). Not
the funding payment as the lots' loss: spread at ``⌈L / |S|⌉`` a lot it would charge a receiver up
to a quantum a lot beyond the fraction of one it received.

The backstop vault's trigger reads the same ``L`` (session 24, helper hlfund,
docs/model.md#the-funds-own-bankruptcy, "The vault at a funding event"): its ADL prices at the
previous mark, ``market.previous_mark_quote``, which at a sweep that moved no mark is an earlier
event's: the winners paid that move back on lots the vault may have taken over after it (4,740,000
and 1,912,590 for a vault one quantum below zero after a funding payment, in
tests/rules/test_fidelity_vault_adl.py), and where its lots had gained in that move the vault below
zero paid the traders opposite their loss back. Hyperliquid's ADL closes the opposing traders "at the
previous mark price" against an account a price's move took below zero
(docs/venues.md#hyperliquid-adl), and funding is paid between longs and shorts, peer to peer
(docs/venues.md#hyperliquid-funding): so the vault, like the fund, is deleveraged only where its lots
lost in this step's move (:func:`lots_lose`, ``L > 0`` said by the signs), and what a funding
payment takes it below zero by stays its own (a residual once a move closes it). Its price and
``owed`` are unchanged: at the previous mark the winners pay exactly the move's ``L`` back, never more. At a mark move from a vault at or above zero
(every sweep's turns leave it there) its balance below zero already means its lots lost, so the
same accounts are deleveraged there as before.

Session 27 (docs/model.md#the-funds-own-bankruptcy, "The vault at a funding event, again"): at a sweep
that moved no mark the vault below zero holding lots *is* deleveraged (:func:`bankrupt_by`), where
session 24 left it holding on below zero until a move its lots lost in (its funding debt then a
residual). The liquidator vault is an account on Hyperliquid, and Hyperliquid's ADL runs where "an
account value ... becomes negative" (docs/venues.md#hyperliquid-adl), whatever took it there; what
session 24 lacked was a price at a funding sweep, which session 25 gave a trader there (its bankruptcy
price, ``rules.adl.at_bankruptcy``) and session 26 made per fill (``rules.adl.rounds_per_fill``). So
the vault is closed as such a trader is: its whole position, the winners paying its deficit over the
mark, per fill, at most the deficit in all. At a mark move its trigger is session 24's (its lots lost
in the move, the previous mark the price); BitMEX's fund keeps a funding debt as its own at a funding
sweep (its ADL follows a price's move: above), so its terms are unchanged.

Session 28: which pool is deleveraged at a sweep that moved no mark is a policy field, not its role:
``deleveraged_without_move`` on the pool's own layer (``backstop_vault``: default ``true``;
``insurance_fund``: default ``false``), read through :func:`without_move`; the defaults are the rules
above, so no preset's terms change. A fund deleveraged there is closed for its whole deficit (``owed``
unset: no move bounds it).
"""

from __future__ import annotations

from typing import Any

from solvent.rules.adl import deleverage
from solvent.rules.arith import and_, max_, min_, or_
from solvent.rules.bankruptcy import fee_to_close_rate
from solvent.rules.book import Role
from solvent.rules.ledger import Ctx
from solvent.rules.liquidation import pools_holding
from solvent.rules.outcomes import Bankrupt, LayerUsed, Residual
from solvent.rules.policy import Policy
from solvent.rules.waterfall import Adl, BackstopVault, InsuranceFund

#: each pool's own waterfall layer
OWN_LAYER = {Role.INSURANCE_FUND: InsuranceFund, Role.BACKSTOP_VAULT: BackstopVault}


def deleverage_pools(policy: Policy, ctx: Ctx) -> Ctx:
    """Where the policy has an ADL layer: every pool that holds what it takes over, holding a
    position with a balance below zero, is deleveraged (module docstring); otherwise nothing."""
    if policy.adl is None:
        return ctx
    for role in pools_holding(policy.liquidation):
        pool = ctx.system(role)
        # below zero, and its lots lost in this step's move, or (the vault, at a sweep that moved no
        # mark) it holds lots: module docstring
        depleted = and_(ctx.account(pool).cash_quote < 0, bankrupt_by(ctx, pool, without_move(policy, role)))
        ctx = ctx.branch(depleted, lambda c, p=pool, r=role: _resolve(policy, c, p, OWN_LAYER[r]))
    return ctx


def bankrupt_by(ctx: Ctx, pool: str, deleveraged_without_move: bool) -> Any:
    """What makes ``pool``, below zero, bankrupt at this sweep beside its balance: its lots lost in
    this step's move (:func:`lots_lose`); at a sweep that moved no mark (a funding payment's:
    ``Ctx.mark_moved`` false), holding lots where the policy deleverages it there
    (``deleveraged_without_move``, its own layer's field: :func:`without_move`), never otherwise.
    Hyperliquid's liquidator vault is an account on the venue, whose ADL runs where "an account value
    ... becomes negative", whatever took it there (docs/venues.md#hyperliquid-adl); its ADL there closes
    at its bankruptcy price, as a trader's at a funding sweep (``rules.adl.at_bankruptcy``), so the
    winners pay its deficit, per fill (``rules.adl.rounds_per_fill``). BitMEX's fund keeps a funding
    payment's debt as its own (its ADL follows a price's move). Session 27,
    docs/model.md#the-funds-own-bankruptcy, "The vault at a funding event, again"; a field since session 28."""
    if deleveraged_without_move and not ctx.mark_moved:
        return ctx.account(pool).size_lots != 0
    return lots_lose(ctx, pool)


def without_move(policy: Policy, role: Role) -> bool:
    """Whether ``role``'s pool, below zero holding lots, is deleveraged at a sweep that moved no mark:
    its own layer's ``deleveraged_without_move`` (``backstop_vault``'s, ``insurance_fund``'s), and
    where the policy lists no such layer that field's default (the vault yes, the fund no: sessions
    24 and 27). A Python bool, no term."""
    own = OWN_LAYER[role]
    layer = policy.layer(own)
    return (layer if layer is not None else own()).deleveraged_without_move


def lots_lose(ctx: Ctx, pool: str) -> Any:
    """Whether ``pool``'s lots lost in this step's move: ``lots_lost(ctx, pool) > 0`` (so it holds
    lots), said by the signs, long where the mark fell or short where it rose, with no product
    ``S·(M − M_prev)``; ``False`` in a step that moved no mark. Both pools' trigger: at N = 4 on
    hyperliquid the product in the vault's cost z3 up to 1.24M units more a cell than before the trigger
    read the move, the signs up to 0.34M (docs/solver-notes.md#hyperliquids-vault-at-a-funding-sweep-session-24);
    the fund's read the product until session 25 (docs/solver-notes.md#bitmexs-fund-by-the-signs-session-25)."""
    if not ctx.mark_moved:
        return False
    size, market = ctx.account(pool).size_lots, ctx.market
    fell, rose = market.mark_quote < market.previous_mark_quote, market.mark_quote > market.previous_mark_quote
    return or_(and_(size > 0, fell), and_(size < 0, rose))


def lots_lost(ctx: Ctx, pool: str) -> Any:
    """What ``pool``'s lots lost in this step's move, ``−S·(M − M_prev)`` (negative where they
    gained); 0 in a step that moved no mark (a funding payment, an asset's price, interest:
    ``Ctx.mark_moved``), whose book still holds an earlier event's move (module docstring). The
    fund's bound ``min(D, L)`` (:func:`_resolve`); where :func:`lots_lose` holds it is above 0."""
    if not ctx.mark_moved:
        return 0
    market = ctx.market
    return -ctx.account(pool).size_lots * (market.mark_quote - market.previous_mark_quote)


def _resolve(policy: Policy, ctx: Ctx, pool: str, own: type) -> Ctx:
    deficit = -ctx.account(pool).cash_quote
    # the share its lots' loss in the move bounds (module docstring); the rest stays the pool's own. At a
    # sweep that moved no mark (a fund with ``deleveraged_without_move``) there is no move to bound it
    owed = min_(deficit, lots_lost(ctx, pool)) if own is InsuranceFund and ctx.mark_moved else None
    ctx = ctx.note(Bankrupt(pool, deficit))
    for index, layer in enumerate(policy.deficit):
        if isinstance(layer, own):
            # the pool itself, spent: recorded so that ADL below it reads as after the pool
            ctx = ctx.note(LayerUsed(pool, index, layer.kind, 0, True))
        elif isinstance(layer, Adl):
            book = ctx.system(Role.LIQUIDITY)
            mark = ctx.market.mark_quote
            hold = pools_holding(policy.liquidation)
            ctx = deleverage(
                ctx,
                policy.margin,
                policy.rounding,
                layer,
                pool,
                book,
                mark,
                fee_to_close_rate(policy),
                owed=owed,
                pools=hold,
            )
            left = max_(-ctx.account(pool).cash_quote, 0)
            ctx = ctx.note(LayerUsed(pool, index, layer.kind, deficit - left, True))
            return ctx.note_if(left > 0, Residual(pool, left))
    return ctx


__all__ = ["OWN_LAYER", "bankrupt_by", "deleverage_pools", "lots_lose", "lots_lost", "without_move"]

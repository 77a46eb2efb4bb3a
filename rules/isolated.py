"""Isolated margin per position: a position that holds its own margin (docs/portfolio.md, decision 3a).

In exchange terms: a trader who puts a position in isolated mode sets aside an amount of its
cross balance as that position's margin. The position is liquidated when its own margin (with its
PnL) falls to its own maintenance, it goes bankrupt when that margin is gone, and its loss never
reaches the trader's other balance or other positions; its liquidation price depends on its own
margin only (docs/venues.md#isolated-margin):

- Binance: the liquidation price of an isolated position is the one-way formula with the other
  contracts' terms zero and ``WB`` the isolated wallet (faq b3c689c1f50a44cabb3a84e663b81d93);
- Bybit: "the maximum amount a trader would lose from liquidation is limited to the position
  margin placed for that open position" ("Liquidation Price Calculation under Isolated Mode
  (Unified Trading Account)", bybit.com/en/help-center, read on the kbybit.com mirror);
- OKX: an isolated position's margin balance is its "initial margin + margin added to or reduced
  from this position" (okx.com/help-center/6997123251341, "Isolated margin mode");
- dYdX v4: "Each isolated position is held in a separate subaccount", subaccounts 128 and up
  (docs.dydx.exchange/api_integration-guides/how_to_isolated), and an isolated market
  (``PERPETUAL_MARKET_TYPE_ISOLATED``) "can only be margined in isolated"
  (docs.dydx.exchange/api_integration-trading/isolated_markets);
- Hyperliquid: isolated margin "prevents liquidations in that asset from affecting other isolated
  positions or cross positions"; "isolated-only" assets are isolated margin whose margin cannot be
  removed (hyperliquid-docs/trading/margining, as docs.trade.xyz/trading/margin-and-leverage
  restates it).

Solvent does as dYdX v4 does: an isolated position is an account of the book
(``Account.owner``, ``Account.isolated_market``, named ``alice:BTC``) whose cash is the
position's margin. So every rule that measures an account (trigger, liquidation, bankruptcy, the
waterfall, conservation) measures the position on its own margin, written once, the same on z3;
and the owner's cross equity is its own cash, which holds none of the isolated margin. What links
the two is written here:

- *Routing*: a trade of the owner in that market is the isolated position's (:func:`route`): a
  venue's margin mode is per (account, symbol), so a trader's position in a market is either
  cross or isolated, never both.
- *Margin moves*: ``AddMargin`` and ``RemoveMargin``, each one ledger transfer between the owner's
  cash and the position's (``Reason.ISOLATED_MARGIN``), with the principal it carries; a removal
  leaves the position's initial margin covered, and where the policy sets ``[margin]
  transfer_floor_ppm`` that share of the position's notional too (Hyperliquid: the margin left
  must be at least ``max(initial margin required, 10% of the position value)``,
  ``rules.transfer_floor``).
- *What the policy allows*: each market's ``modes`` (:meth:`solvent.rules.policy.Policy.modes_in`).
- *One mode per (trader, market)*: a book where a trader holds a market both cross and isolated is
  refused (:func:`mixed_modes`, :func:`check_one_mode`). Binance sets the margin type per symbol
  (``POST /fapi/v1/marginType``) and Bybit per symbol too, in one-way and hedge mode alike
  (``POST /v5/position/switch-isolated``: one ``tradeMode`` for the symbol, hedge mode only letting
  buy and sell leverage differ under isolated), so neither can hold both. OKX (an order's
  ``tdMode``), Coinbase International and Orderly can, and dYdX v4 by a second subaccount; Solvent
  models those as two traders, not as one trader's two positions in one market
  (docs/portfolio.md decision 3a, docs/venues.md#isolated-margin).
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.arith import all_, is_concrete, min_
from solvent.rules.book import Account, Book, MarginMode, Position, isolated_name
from solvent.rules.events import AddMargin, RemoveMargin, Trade
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.policy import Policy


def with_isolated_positions(book: Book, positions: tuple[tuple[str, str], ...]) -> Book:
    """``book`` with an isolated position, flat and holding no margin, for each (owner, market
    name) of ``positions``, right after its owner (as ``rules.book.new_book`` places them)."""
    if not positions:
        return book
    accounts: list[Account] = []
    for a in book.accounts:
        accounts.append(a)
        for owner, market in positions:
            if owner == a.name:
                accounts.append(
                    Account(
                        isolated_name(owner, market),
                        margin_mode=MarginMode.ISOLATED,
                        more_positions=tuple(Position() for _ in book.more_markets),
                        asset_balances=tuple(0 for _ in book.assets),
                        owner=owner,
                        isolated_market=market,
                    )
                )
    return attrs.evolve(book, accounts=tuple(accounts))


def mixed_modes(book: Book) -> list[tuple[int, int, int]]:
    """Where a concrete book holds a market both cross and isolated: each (owner's index, isolated
    position's index, market index) whose owner holds a position (size or cost basis) in the market
    its isolated position holds. Empty on a book without isolated positions and on a symbolic book
    (there the well-formed condition ``rules.wellformed.ISOLATED_OWN_MARKET`` assumes it away)."""
    out: list[tuple[int, int, int]] = []
    if not book.has_isolated:
        return out
    for j, a in enumerate(book.accounts):
        if not a.owner:
            continue
        i = book.index(a.owner)
        k = book.market_index(a.isolated_market)
        held = book.accounts[i].positions[k]
        if not is_concrete(held.size_lots, held.cost_quote):
            continue
        if held.size_lots != 0 or held.cost_quote != 0:
            out.append((i, j, k))
    return out


def check_one_mode(book: Book) -> None:
    """``ValueError`` naming the trader and the market where a concrete book holds one market both
    cross and isolated (a venue's margin mode is per (account, symbol): :func:`mixed_modes`)."""
    for i, j, k in mixed_modes(book):
        owner, position = book.accounts[i], book.accounts[j]
        raise ValueError(
            f"{owner.name} holds {book.markets[k].name} both cross ({owner.positions[k].size_lots} lots) and "
            f"isolated ({position.name}): a trader's margin mode is per market, so its position there is one "
            "or the other (Binance's marginType and Bybit's switch-isolated are per symbol)"
        )


def market_name(book: Book, event: Any) -> str:
    """The name of the market ``event`` acts on (its ``market``; ``""`` is the book's first)."""
    return book.market_named(getattr(event, "market", "")).name


def route(book: Book, event: Any) -> Any:
    """The event as the engine runs it: a trade by an account that holds the traded market
    isolated is its isolated position's trade. Every other event is unchanged. A pure renaming of
    structural fields (the same on z3), and the identity on a book without isolated positions."""
    if not isinstance(event, Trade) or not book.has_isolated:
        return event
    market = market_name(book, event)
    buyer = book.isolated_account(event.buyer, market) or event.buyer
    seller = book.isolated_account(event.seller, market) or event.seller
    if (buyer, seller) == (event.buyer, event.seller):
        return event
    return attrs.evolve(event, buyer=buyer, seller=seller)


def position_of(book: Book, event: AddMargin | RemoveMargin) -> str:
    """The name of the isolated position a margin move acts on; ``KeyError`` saying what is missing."""
    market = market_name(book, event)
    name = book.isolated_account(event.account, market)
    if name is None:
        raise KeyError(
            f"{event.account!r} holds no isolated position in {market}: its position there is cross "
            "(an isolated position is an account of the book whose owner and isolated_market name it)"
        )
    return name


def mode_checks(policy: Policy, book: Book, event: Any) -> list[tuple[Any, str]]:
    """What the policy's modes and the isolated positions require of an event (the event routed):
    each a (holds, sentence) pair. Constant booleans (the names are structural, so z3 sees the
    same), but for a removal from an open position where margin is not removable (a term on
    its sizes)."""
    out: list[tuple[Any, str]] = []
    if isinstance(event, Trade):
        market = market_name(book, event)
        for name in (event.buyer, event.seller):
            a = book.account(name)
            if not a.is_trader:
                continue
            if a.owner:
                out.append(
                    (
                        a.isolated_market == market,
                        f"{name} is an isolated {a.isolated_market} position: it trades only there",
                    )
                )
            mode = "isolated" if a.owner else "cross"
            allowed = policy.modes_in(market)
            out.append((mode in allowed, f"{market} allows {' and '.join(allowed)} margin only, not {mode} ({name})"))
        return out
    if isinstance(event, (AddMargin, RemoveMargin)):
        market = market_name(book, event)
        allowed = policy.modes_in(market)
        out.append(("isolated" in allowed, f"{market} allows {' and '.join(allowed)} margin only, not isolated"))
        if isinstance(event, RemoveMargin) and not policy.margin_removable_in(market):
            position = book.account(position_of(book, event))
            flat = all_(p.size_lots == 0 for p in position.positions)
            out.append((flat, f"margin cannot be removed from an open position in {market} (margin_removable = false)"))
        return out
    name = getattr(event, "account", None)
    if name is not None and book.account(name).owner:
        out.append(
            (
                False,
                f"{name} is an isolated position: its margin moves only by its owner's AddMargin and RemoveMargin",
            )
        )
    return out


def move_margin(ctx: Ctx, source: str, destination: str, amount: Any) -> Ctx:
    """``amount`` moves from ``source``'s cash to ``destination``'s (an owner and its isolated
    position, either way), with the principal it carries: the source keeps as principal at most
    its cash after the move (as a withdrawal does), and what it gives up is the destination's."""
    ctx = ctx.transfer(source, destination, amount, Reason.ISOLATED_MARGIN)
    a = ctx.account(source)
    kept = min_(a.principal_quote, a.cash_quote)
    ctx = ctx.update_account(source, principal_quote=kept)
    b = ctx.account(destination)
    return ctx.update_account(destination, principal_quote=b.principal_quote + a.principal_quote - kept)


def apply(ctx: Ctx, event: AddMargin | RemoveMargin) -> Ctx:
    """The margin move itself: one ledger transfer (``Reason.ISOLATED_MARGIN``); nothing else moves."""
    position = position_of(ctx.book, event)
    if isinstance(event, AddMargin):
        return move_margin(ctx, event.account, position, event.amount_quote)
    return move_margin(ctx, position, event.account, event.amount_quote)


__all__ = [
    "with_isolated_positions",
    "apply",
    "check_one_mode",
    "market_name",
    "mixed_modes",
    "mode_checks",
    "move_margin",
    "position_of",
    "route",
]

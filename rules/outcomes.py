"""Named things that happen in a step: what a report tells and what the invariants inspect."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class Liquidated:
    """``account`` was liquidated: its equity and maintenance margin when the trigger fired;
    ``size_lots`` and ``fill_price_quote`` are its position and fill in ``market``, the market whose
    event found it below maintenance (named on a book of several markets; ``""`` on one)."""

    account: str
    equity_quote: Any
    maintenance_quote: Any
    size_lots: Any
    fill_price_quote: Any
    market: str = ""


@attrs.frozen
class Bankrupt:
    """Closing ``account`` at the execution price would leave ``deficit_quote`` below zero."""

    account: str
    deficit_quote: Any


@attrs.frozen
class BookDeleveraged:
    """After the ranked traders, ``lots`` of the order book's opposing position (``book``) were
    closed against ``bankrupt`` at the same gap per lot from mark (``Adl.book_last``)."""

    bankrupt: str
    book: str
    lots: Any
    gap_per_lot_quote: Any


@attrs.frozen
class LayerUsed:
    """Waterfall layer ``index`` (``layer``) reduced the deficit of ``account`` by ``covered_quote``.

    ``exhausted`` says whether the layer had nothing left to give afterwards (a fund at zero); a
    layer that always takes the whole remainder reports exhausted.
    """

    account: str
    index: int
    layer: str
    covered_quote: Any
    exhausted: Any
    #: the market whose share of the deficit the layer paid, where the policy splits a deficit
    #: between markets (``[waterfall] deficit_split``, ``rules.deficit_split``); ``""`` otherwise
    market: str = ""


@attrs.frozen
class AdlFill:
    """Auto-deleveraging closed ``lots`` of ``winner`` against ``bankrupt``.

    ``gap_per_lot_quote`` is what the winner paid per lot relative to mark; ``fair_gap_per_lot_quote``
    is the bankrupt account's own gap (its deficit at mark per lot, rounded up). ``score`` is the
    winner's ranking score as ``(num, den)``; ``position_lots`` its position before the fill;
    ``eligible`` whether it was in the queue at all; ``market`` the market deleveraged (named on a
    book of several markets; ``""`` on one).
    """

    bankrupt: str
    winner: str
    lots: Any
    gap_per_lot_quote: Any
    fair_gap_per_lot_quote: Any
    score_num: Any
    score_den: Any
    position_lots: Any
    eligible: Any
    market: str = ""


@attrs.frozen
class DeleverageAttempt:
    """``account``, bankrupt, reached the ADL layer in an event whose deleveraging is limited
    (``Adl.max_deleveraged_per_event``): deleveraged, or, with ``deferred``, left holding its
    position below zero because the event had deleveraged its limit of accounts already. At final
    settlement every account holding a position is an entry, solvent or not
    (``rules.final_settlement``): closed, or, deferred, left holding it for the next one."""

    account: str
    deferred: bool


@attrs.frozen
class PoolAdlTriggered:
    """A side's pending PnL ``pnl_quote`` exceeded the PnL-to-pool ADL's maximum factor of the pool
    value ``pool_quote`` (GMX v2, docs/venues.md#gmx-v2-adl); ``side`` is ``"long"`` or ``"short"``."""

    side: str
    pnl_quote: Any
    pool_quote: Any


@attrs.frozen
class PoolAdlFill:
    """PnL-to-pool ADL closed ``lots`` of ``account``'s profitable position at ``price_quote`` (the
    mark); ``position_lots`` and ``pnl_quote`` are its position and pending PnL before the close."""

    account: str
    lots: Any
    price_quote: Any
    position_lots: Any
    pnl_quote: Any


@attrs.frozen
class DebtCarried:
    """``account``'s deficit stays on the account (or is owed to a lender) instead of being paid."""

    account: str
    amount_quote: Any


@attrs.frozen
class FinalSettled:
    """At final settlement ``account``'s ``lots`` were closed against ``counterparty`` at the
    settlement price ``price_quote`` (its equity was not below zero there)."""

    account: str
    counterparty: str
    lots: Any
    price_quote: Any


@attrs.frozen
class DepositAbsorbed:
    """Part of a deposit went to pay ``account``'s earlier debt instead of its withdrawable balance."""

    account: str
    amount_quote: Any


@attrs.frozen
class LoanExchanged:
    """``account``, holding no position, owed ``owed_quote`` (negative cash) at or above its
    collateral's weighted value, and its collateral was sold as far as owed (Binance's auto
    exchange at a loan-to-value of 1, ``solvent.rules.assets``)."""

    account: str
    owed_quote: Any


@attrs.frozen
class Residual:
    """A deficit no layer paid: ``account`` is left below zero by ``amount_quote``."""

    account: str
    amount_quote: Any


@attrs.frozen
class SettlementCut:
    """The settlement currency's depositors paid ``amount_quote`` of what ``account``'s deficit left
    after the waterfall (its :class:`Residual`): the settlement currency's own bankruptcy
    (``[settlement]``, ``lending.cover_settlement_borrow``), transfers
    ``DEPOSIT_INDEX_LOSS`` from each holder of settlement cash to the account."""

    account: str
    amount_quote: Any


def left_unpaid(outcomes: Any, account: str | None = None) -> Any:
    """What stays on accounts (``account`` alone where named) of the deficits no layer paid: the
    residuals less what the settlement currency's depositors paid of them (:class:`SettlementCut`).
    On concrete outcomes."""
    total = 0
    for o in outcomes:
        if account is not None and getattr(o, "account", None) != account:
            continue
        if isinstance(o, Residual):
            total += o.amount_quote
        elif isinstance(o, SettlementCut):
            total -= o.amount_quote
    return total


Outcome = (
    Liquidated
    | Bankrupt
    | LayerUsed
    | AdlFill
    | PoolAdlTriggered
    | PoolAdlFill
    | DebtCarried
    | DepositAbsorbed
    | LoanExchanged
    | Residual
    | SettlementCut
)


def outcome_market(book: Any) -> str:
    """The market the rules act on (the book's first, as focused), as an outcome names it: ``""``
    on a book of one market, whose outcomes read and digest as they always have."""
    return market_named(book.market, book.more_markets)


def market_named(market: Any, more_markets: tuple[Any, ...]) -> str:
    """:func:`outcome_market` from the book's first market and its further ones (what a step in
    progress reads without building its book)."""
    return market.name if more_markets else ""

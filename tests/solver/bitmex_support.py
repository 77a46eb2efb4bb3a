"""BitMEX's hand-built stories' books (``tests/solver/test_bitmex_residual_story.py``, session 20's
finding, and ``test_bitmex_payer_story.py``, session 21's): traders opened at one mark, the insurance
fund holding lots it took over, the order book holding the rest, the system accounts empty."""

from __future__ import annotations

from solvent.rules.book import Account, Book, Market, Role

#: the mark every position was opened at (XBt a lot)
MARK = 10_000


def trader(name: str, cash: int, size: int) -> Account:
    """A trader holding ``size`` lots opened at :data:`MARK` on ``cash``, its principal."""
    return Account(name=name, cash_quote=cash, size_lots=size, cost_quote=size * MARK, principal_quote=cash)


def book(traders: tuple[Account, ...], fund_lots: int, fund_cash: int = 0) -> Book:
    """``traders``, the insurance fund long ``fund_lots`` with ``fund_cash``, and the order book
    holding the rest (open interest balanced); what was deposited is the traders' and the fund's cash."""
    book_lots = -sum(t.size_lots for t in traders) - fund_lots
    accounts = (
        *traders,
        Account(name="liquidity", role=Role.LIQUIDITY, size_lots=book_lots, cost_quote=book_lots * MARK),
        Account(
            name="insurance_fund",
            role=Role.INSURANCE_FUND,
            cash_quote=fund_cash,
            size_lots=fund_lots,
            cost_quote=fund_lots * MARK,
        ),
        Account(name="fee_account", role=Role.FEE_ACCOUNT),
        Account(name="backstop_vault", role=Role.BACKSTOP_VAULT),
        Account(name="venue", role=Role.VENUE),
        Account(name="clearing", role=Role.CLEARING),
    )
    return Book(
        market=Market(name="PERP", mark_quote=MARK, previous_mark_quote=MARK),
        accounts=accounts,
        net_deposits_quote=sum(t.cash_quote for t in traders) + fund_cash,
    )

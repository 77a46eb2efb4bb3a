"""Books written out by hand in tests: the system accounts every book carries after its traders."""

from __future__ import annotations

from solvent.rules.book import Account, Role

#: the system accounts after the traders and the order book, in the order a book holds them
SYSTEM_ROLES = (Role.INSURANCE_FUND, Role.FEE_ACCOUNT, Role.BACKSTOP_VAULT, Role.VENUE, Role.CLEARING)


def system_accounts(assets: int = 0) -> tuple[Account, ...]:
    """The book's system accounts, each named by its role and empty (``assets``: as many collateral-asset
    balances, each 0)."""
    return tuple(Account(r.value, r, asset_balances=(0,) * assets) for r in SYSTEM_ROLES)


__all__ = ["SYSTEM_ROLES", "system_accounts"]

"""The ``venue_absorbs`` layer: the venue pays the whole remaining deficit from its own capital.

Formula: pay = R, with no limit; the venue's account may go below zero. It takes every remaining
deficit, so nothing may follow it in the waterfall.
"""

from __future__ import annotations

from typing import Any

from solvent.rules.book import Role
from solvent.rules.ledger import Ctx, Reason


def venue_pays(ctx: Ctx, bankrupt: str, remaining: Any) -> Ctx:
    """The venue pays the whole remaining deficit from its own capital."""
    return ctx.transfer(ctx.system(Role.VENUE), bankrupt, remaining, Reason.VENUE_ABSORBS)

"""Trading fees and where they go.

Formula: fee = lots × price × rate_ppm / 1e6, rounded by ``rounding.fee``; the insurance fund's
share is ``fee × insurance_share_ppm / 1e6`` rounded down (a split of money already collected,
so it creates nothing), the rest goes to the fee account.
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.arith import Rounding, mul_ppm
from solvent.rules.book import Role
from solvent.rules.fields import ppm_field
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.rounding import RoundingRule


@attrs.frozen
class FeeRule:
    """Taker and maker fee rates and the insurance fund's share of them."""

    taker_ppm: int = ppm_field(default=0)
    maker_ppm: int = ppm_field(default=0)
    insurance_share_ppm: int = ppm_field(default=0)


def charge_fee(rule: FeeRule, rounding: RoundingRule, ctx: Ctx, payer: str, notional_quote: Any, rate_ppm: int) -> Ctx:
    """The payer pays ``rate × notional`` to the fee account and the insurance fund's share."""
    fee = mul_ppm(notional_quote, rate_ppm, rounding=rounding.fee)
    to_fund = mul_ppm(fee, rule.insurance_share_ppm, rounding=Rounding.FLOOR)
    ctx = ctx.transfer(payer, ctx.system(Role.INSURANCE_FUND), to_fund, Reason.TRADING_FEE)
    return ctx.transfer(payer, ctx.system(Role.FEE_ACCOUNT), fee - to_fund, Reason.TRADING_FEE)

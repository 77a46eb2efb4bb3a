"""Where the policy rounds, and in whose favour.

Settle-to-mark PnL is exact (lots × price difference is an integer), so rounding happens only at
rates (fees, margin, funding) and at pro-rata allocations of a deficit (socialized loss,
haircuts, clawback).
"""

from __future__ import annotations

import enum

import attrs

from solvent.rules.arith import Rounding


class ProRata(enum.Enum):
    """How a deficit is split pro rata.

    ``up_dust_to_insurance_fund``: each share rounded up, the excess over the deficit goes to the
    insurance fund (PROBE.md: this restores conservation). ``down_remainder_to_next_layer``: each
    share rounded down, the unpaid remainder passes to the next waterfall layer.
    """

    UP_DUST_TO_INSURANCE_FUND = "up_dust_to_insurance_fund"
    DOWN_REMAINDER_TO_NEXT_LAYER = "down_remainder_to_next_layer"


@attrs.frozen
class RoundingRule:
    """Rounding directions named by the policy.

    ``fee``: trading fees and liquidation penalties (ceil favours the venue).
    ``margin``: initial and maintenance requirements (ceil favours solvency).
    ``pro_rata``: shares of a deficit charged to many accounts.
    Funding is fixed: payers round up, receivers round down, dust to the fee account.
    """

    fee: Rounding = attrs.field(default=Rounding.CEIL, validator=attrs.validators.instance_of(Rounding))
    margin: Rounding = attrs.field(default=Rounding.CEIL, validator=attrs.validators.instance_of(Rounding))
    pro_rata: ProRata = attrs.field(
        default=ProRata.UP_DUST_TO_INSURANCE_FUND, validator=attrs.validators.instance_of(ProRata)
    )

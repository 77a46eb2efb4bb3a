"""Where the policy rounds, and in whose favour.

Settle-to-mark PnL is exact (lots × price difference is an integer), so rounding happens only at
rates (fees, margin, funding) and at pro-rata allocations of a deficit (socialized loss,
haircuts, clawback).
"""

from __future__ import annotations

import enum

import attrs

from solvent.rules.arith import Rounding
from solvent.rules.book import Role


class ProRata(enum.Enum):
    """How a deficit is split pro rata.

    ``up_dust_to_insurance_fund``: each share rounded up, the excess over the deficit goes to the
    insurance fund (docs/solver-notes.md#rounding-leaks: this restores conservation). ``down_remainder_to_next_layer``: each
    share rounded down, the unpaid remainder passes to the next waterfall layer.
    ``exact_in_order``: each share rounded down, then the remainder ``r = T − Σ⌊T·w_i/W⌋`` paid one
    quantum each by the first ``r`` payers in book order whose share had a fraction
    (``T·w_i mod W ≠ 0``): the shares add up to the target exactly, no dust moves and nothing passes
    on; each share is ``⌊T·w_i/W⌋`` or ``⌈T·w_i/W⌉`` (the fractions sum to ``r``, each under one, so
    more than ``r`` payers have one when ``r > 0``); the split reads the payers before each one
    (docs/model.md#percolator-gen-as-fee-from-capital-and-a-haircut-without-dust-session-21).
    """

    UP_DUST_TO_INSURANCE_FUND = "up_dust_to_insurance_fund"
    DOWN_REMAINDER_TO_NEXT_LAYER = "down_remainder_to_next_layer"
    EXACT_IN_ORDER = "exact_in_order"


class FundingRounding(enum.Enum):
    """How each funding payment rounds, and which venue account holds the difference.

    Each account's amount is ``S × M × r / 1e6`` rounded on its own, so what the payers pay and
    what the receivers get differ by under one quantum per account per payment: the dust.

    ``payers_up_dust_to_fee_account``: payers round up, receivers down; the dust goes to the fee
    account (favours the venue). ``payers_up_dust_to_insurance_fund``: the same, the dust to the
    insurance fund. ``payers_down_shortfall_from_fee_account``: payers round down, receivers up;
    the fee account pays the shortfall (favours users: every extra payment moves the venue's
    money to traders, which ``cadence-invariant`` reports).
    """

    PAYERS_UP_DUST_TO_FEE_ACCOUNT = "payers_up_dust_to_fee_account"
    PAYERS_UP_DUST_TO_INSURANCE_FUND = "payers_up_dust_to_insurance_fund"
    PAYERS_DOWN_SHORTFALL_FROM_FEE_ACCOUNT = "payers_down_shortfall_from_fee_account"

    @property
    def payers_round_up(self) -> bool:
        """True when payers round up and receivers down (the dust goes to the venue's account)."""
        return self is not FundingRounding.PAYERS_DOWN_SHORTFALL_FROM_FEE_ACCOUNT

    @property
    def payer(self) -> Rounding:
        return Rounding.CEIL if self.payers_round_up else Rounding.FLOOR

    @property
    def receiver(self) -> Rounding:
        return Rounding.FLOOR if self.payers_round_up else Rounding.CEIL

    @property
    def dust_account(self) -> Role:
        """The venue account that keeps the dust (or pays the shortfall)."""
        return Role.INSURANCE_FUND if self is FundingRounding.PAYERS_UP_DUST_TO_INSURANCE_FUND else Role.FEE_ACCOUNT


class FundingRemainder(enum.Enum):
    """What becomes of the part of a funding payment below one quantum.

    ``paid_as_dust`` (the default): each payment rounds every account on its own, as
    :class:`FundingRounding` says, and the dust is the named venue account's to keep (or its
    shortfall to pay). ``carried``: the part below one quantum stays the account's own and is
    applied to its next payment (Mango v4 books funding in I80F48 fixed point, so the fraction
    stays in the balance: docs/venues.md#mango-v4-funding). The account keeps it in
    ``Account.funding_remainder_millionths`` (millionths of a quantum: a credit under one quantum
    when payers round up, a debit when they round down), and the quanta that back every account's
    remainder sit in the venue account :attr:`FundingRounding.dust_account` names, moved there and
    back through the clearing account as ledger transfers (``Reason.FUNDING_CARRY``). An account's
    cash is then its exact funding balance rounded once, however often funding runs.
    """

    PAID_AS_DUST = "paid_as_dust"
    CARRIED = "carried"


class SideIndex(enum.Enum):
    """How a deficit charged per lot of the opposing side (``socialized_loss`` with ``over =
    "opposing_side"``, ``solvent.rules.side_index``) rounds.

    ``exact`` (the default): each position's share ``D × |s| / OI`` rounded once, as ``pro_rata``
    says. ``k_up``: percolator Gen B's two roundings (spec v11.31 §5.6 step 7, §5.3, §4.8): the
    charge per lot ``ΔK = ⌈D × 10^6 / OI⌉`` is rounded up at 10^-6 of a quantum (``ADL_ONE``), then
    each position's ``⌈|s| × ΔK / 10^6⌉`` up to a whole quantum, so a share that is exactly a whole
    number of quanta is one quantum more whenever ΔK rounded; the excess goes to the insurance fund.
    """

    EXACT = "exact"
    K_UP = "k_up"


@attrs.frozen
class RoundingRule:
    """Rounding directions named by the policy.

    ``fee``: trading fees and liquidation penalties (ceil favours the venue).
    ``margin``: initial and maintenance requirements (ceil favours solvency).
    ``pro_rata``: shares of a deficit charged to many accounts.
    ``funding``: each account's funding amount, and who holds the dust (:class:`FundingRounding`).
    ``funding_remainder``: whether the part below one quantum is the dust account's or carried to
    the account's next payment (:class:`FundingRemainder`).
    ``collateral``: a collateral asset's weighted value, ``balance × price × weight / 1e6``
    (floor, the default: collateral is never over-counted; ``solvent.rules.assets``).
    ``interest``: a borrower's interest on a lent asset, ``borrow × rate / 1e6`` (ceil, the
    default: the borrower pays at least the rate; the venue's share and each depositor's share
    round down and the dust stays with the venue, the fee account; ``solvent.rules.lending``).
    ``deposit_loss``: a depositor's share of an unpaid borrow socialized onto the deposit index,
    ``loss × deposit / deposits`` (ceil, the default: the borrow is covered whole, the excess of
    under one quantum per depositor to the insurance fund; floor: the shares never exceed the
    loss, what they leave stays unpaid).
    ``side_index``: a deficit charged per lot of the opposing side (:class:`SideIndex`).
    ``borrow_rate``: a lent asset's annual rate read off its curve between two points,
    ``r_i + (u − u_i) × (r_j − r_i) / (u_j − u_i)`` (floor, the default: Drift's ``safe_div`` in
    ``calculate_borrow_rate``; ``solvent.rules.rate_curve``).
    ``deficit_share``: one market's share of a bankrupt cross account's deficit under ``[waterfall]
    deficit_split = "maintenance_share"``, ``deficit × maintenance / total maintenance`` (ceil, the
    default: dYdX v4's bankruptcy quote rounds toward +∞, ``GetBankruptcyPriceInQuoteQuantums``;
    the last market takes what is left, so the shares add up to the deficit;
    ``solvent.rules.deficit_split``).
    ``conversion``: the capital vesting profit converts into under ``haircut_ratio`` without
    ``matured_only`` (percolator Gen A, spec v7 §6.2: ``y = floor(x × h_num / h_den)``), ``x × h``
    (floor, the default and the spec's: the capital never exceeds what the residual backs; the
    part not converted is lost, ``haircut_ratio.convert``).
    """

    fee: Rounding = attrs.field(default=Rounding.CEIL, validator=attrs.validators.instance_of(Rounding))
    margin: Rounding = attrs.field(default=Rounding.CEIL, validator=attrs.validators.instance_of(Rounding))
    pro_rata: ProRata = attrs.field(
        default=ProRata.UP_DUST_TO_INSURANCE_FUND, validator=attrs.validators.instance_of(ProRata)
    )
    funding: FundingRounding = attrs.field(
        default=FundingRounding.PAYERS_UP_DUST_TO_FEE_ACCOUNT, validator=attrs.validators.instance_of(FundingRounding)
    )
    funding_remainder: FundingRemainder = attrs.field(
        default=FundingRemainder.PAID_AS_DUST, validator=attrs.validators.instance_of(FundingRemainder)
    )
    collateral: Rounding = attrs.field(default=Rounding.FLOOR, validator=attrs.validators.instance_of(Rounding))
    interest: Rounding = attrs.field(default=Rounding.CEIL, validator=attrs.validators.instance_of(Rounding))
    deposit_loss: Rounding = attrs.field(default=Rounding.CEIL, validator=attrs.validators.instance_of(Rounding))
    side_index: SideIndex = attrs.field(default=SideIndex.EXACT, validator=attrs.validators.instance_of(SideIndex))
    borrow_rate: Rounding = attrs.field(default=Rounding.FLOOR, validator=attrs.validators.instance_of(Rounding))
    deficit_share: Rounding = attrs.field(default=Rounding.CEIL, validator=attrs.validators.instance_of(Rounding))
    conversion: Rounding = attrs.field(default=Rounding.FLOOR, validator=attrs.validators.instance_of(Rounding))

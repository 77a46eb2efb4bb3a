"""Lending: a venue lends depositors' balances of a collateral asset to borrowers (docs/portfolio.md,
decision 6; Backpack, Drift and Mango borrow/lend, docs/venues.md#backpack-settlement-and-borrowing,
#drift-v2-bankruptcy, #mango-v4-bankruptcy).

A ``[[collateral]]`` table with ``lends = true`` lets an account's balance of the asset go below
zero: a withdrawal beyond the balance borrows from the other depositors, as far as the venue holds
the asset (its net deposits) and the account's initial margin stays covered, the borrow weighed
with the asset's liability weight (``assets.collateral_value``). A deposit into a negative balance
repays it. Balances stay unscaled, in the asset's quanta; the venues keep scaled balances times a
cumulative index, and Solvent turns every index step into ledger transfers, one per borrower and
depositor, keeping the indices on the book (``Asset.deposit_index``, ``Asset.borrow_index``, in
units of ``INDEX_ONE``) as the record of the steps.

Interest (``InterestAccrual``), per borrower and depositor of the asset, at a step rate f: the
asset's curve's annual rate at the book's utilization over the event's ``seconds`` (``[[collateral]]
rate_curve``, ``solvent.rules.rate_curve``: f = rate × seconds / (1e6 × 31,536,000)), or, for an
asset without a curve, the event's own ``rate_ppm`` (f = rate_ppm / 1e6):
    interest_i = ⌈−b_i × f⌉                       (``rounding.interest``; borrowers, b_i < 0)
    I = Σ interest_i;  fee = ⌊I × interest_fee_ppm / 1e6⌋ to the fee account
    share_j = ⌊(I − fee) × d_j / D⌋               (depositors, d_j > 0, D = Σ d_j; dust to the fee account)
    borrow_index  += ⌈borrow_index × f⌉
    deposit_index += ⌊deposit_index × Σ share_j / D⌋
Drift accrues ``cumulative_borrow_interest`` and ``cumulative_deposit_interest`` from one borrow
rate and the utilization, the deposit side's growth being the borrow side's times utilization
less the protocol's cut (programs/drift/src/math/spot_balance.rs, ``calculate_accumulated_interest``);
Mango likewise moves ``borrow_index`` and ``deposit_index`` (programs/mango-v4/src/state/bank.rs,
``compute_index``). Every quantum the borrowers pay reaches a depositor or the fee account.

A liquidated account repays its borrows: after its collateral is sold as far as it owes (the
borrows' oracle value counted in what it owes), it buys back each borrowed asset from the book at
the oracle price with the cash its positions leave (``repay_borrows``, ``BORROW_REPAYMENT``). What
it cannot buy back goes down the asset's own waterfall, ``[[collateral]] bankruptcy``
(``waterfall.TokenLayer``; ``cover_unpaid_borrows``):
    insurance_fund   g = min(missing, fund's balance of the asset) given to the borrower (the dust of earlier
                     cuts), then q = min(missing − g, ⌊(fund cash − fund_floor_quote) / price⌋) bought for it
    deposit_index    L = min(missing, D); depositor j pays ⌈L × d_j / D⌉ (``rounding.deposit_loss``),
                     the excess to the insurance fund; deposit_index −= ⌈deposit_index × L / D⌉
    lender_adl       L = min(missing, D); lender j gives ⌈L × d_j / D⌉ quanta to the borrower and is
                     paid their oracle value in settlement cash by it (its cash may go below zero)
What none covers stays a negative balance: the venue's bad debt in the asset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from solvent.rules.arith import PPM, Rounding, div, max_, min_, mul_ppm, safe_divisor, sum_
from solvent.rules.assets import Collateral
from solvent.rules.book import INDEX_ONE, Asset, Role
from solvent.rules.fields import ppm_field
from solvent.rules.ledger import Ctx, Reason, asset_balance
from solvent.rules.outcomes import SettlementCut
from solvent.rules.rate_curve import SECONDS_PER_YEAR, RatePoint, borrow_rate_ppm, check_rate_curve
from solvent.rules.rate_curve import utilization_ppm as _utilization
from solvent.rules.waterfall import TokenLayer

#: The name an ``InterestAccrual`` gives the settlement currency itself (as ``""`` names the
#: book's first market): a step on the traders' cash, under ``[settlement_lending]``.
SETTLEMENT = ""


@attrs.frozen
class SettlementLending:
    """The venue lends the settlement currency itself: a trader's negative cash balance is a borrow
    from the traders holding positive cash, and bears interest at ``rate_curve``'s annual rate for
    the utilization of cash (negative balances over positive ones), as a lent collateral asset's
    borrow does. Backpack: when USDC runs short the venue "borrows USDC from the lending pool", "a
    negative USDC balance is an interest-bearing borrow" (guide.backpack.exchange/es/trading/
    liquidacion-y-realizacion); its lending pool may be borrowed for "USDC settlements for
    perpetual futures trading" (guide.backpack.exchange/borrow-and-lend). Its liability weight is
    1 (a negative balance counts whole in equity, as it always has), so margin and liquidation are
    unchanged; what a liquidation leaves below zero stays owed (the policy's ``debt_carry``) and
    bears interest too."""

    #: The settlement currency's borrow rate by utilization, ``[[settlement_lending.rate_curve]]``
    #: points as a lent asset's (``solvent.rules.rate_curve``), at least two.
    rate_curve: tuple[RatePoint, ...] = attrs.field(converter=tuple)
    #: The venue's share of the interest, to the fee account.
    interest_fee_ppm: int = ppm_field(default=0)

    def __attrs_post_init__(self) -> None:
        if not self.rate_curve:
            raise ValueError("'rate_curve' must have at least 2 points (utilization 0 and 1000000): 0")
        check_rate_curve(self.rate_curve)


@attrs.frozen
class SettlementBankruptcy:
    """The settlement currency's own bankruptcy: a borrow of it that nobody repays is taken from its
    depositors. On Drift and Mango v4 the settlement currency (USDC) is a spot market like any lent
    token: a user left owing USDC with nothing to sell is resolved by the USDC market's own spot
    bankruptcy, the insurance fund first, then "the rest is taken from depositors pro rata" through
    USDC's deposit index (Drift ``resolve_spot_bankruptcy``, Mango ``token_liq_bankruptcy``;
    docs/venues.md#drift-v2-bankruptcy, #mango-v4-bankruptcy). The engine runs it for a trader a lent
    asset's deposit cut sank below zero (``bankruptcy.resolve_sunk``): after its liquidation and the
    policy's ``[[deficit]]`` waterfall (whose insurance fund, the engine's one fund, has paid what it
    could above its floor), what is still owed is cut from every other holder of settlement cash, the
    traders and the order book (which stands for the venue's other users), pro rata to their positive
    cash (:func:`cover_settlement_borrow`; docs/model.md#the-settlement-currencys-own-bankruptcy-session-31)."""

    #: The layers that cover such a debt after the ``[[deficit]]`` waterfall, in order, as a lent
    #: asset's ``bankruptcy``: ``deposit_index``, the settlement currency's depositors pro rata,
    #: rounded by ``[rounding] deposit_loss``, the excess to the insurance fund; the one layer a
    #: settlement currency's bankruptcy has after the fund (its fund is the waterfall's)
    bankruptcy: tuple[TokenLayer, ...] = attrs.field(converter=tuple)

    def __attrs_post_init__(self) -> None:
        if self.bankruptcy != (TokenLayer.DEPOSIT_INDEX,):
            got = ", ".join(repr(layer.value) for layer in self.bankruptcy) or "none"
            raise ValueError(
                "'bankruptcy' must be [\"deposit_index\"] (the settlement currency's depositors pay; its fund "
                f"is the [[deficit]] waterfall's insurance_fund): {got}"
            )


def lent_rule(policy: Any, name: str) -> Collateral | None:
    """The ``[[collateral]]`` table of the named asset if the policy lends it, else None."""
    return next((t for t in policy.collateral if t.name == name and t.lends), None)


def lends_any(policy: Any) -> bool:
    """Whether the policy lends any of its collateral assets (structural: a policy field)."""
    return any(t.lends for t in policy.collateral)


def cuts_deposits(policy: Any) -> bool:
    """Whether a lent asset's own waterfall has the ``deposit_index`` layer (Drift, Mango v4), the
    one layer that takes a loss from accounts that did not borrow (structural: a policy field)."""
    return any(t.lends and TokenLayer.DEPOSIT_INDEX in t.bankruptcy for t in policy.collateral)


def borrowed_value(policy: Any, assets: tuple[Asset, ...], balances: tuple[Any, ...]) -> Any:
    """What buying back an account's borrows of lent assets would cost, in settlement quanta: the
    oracle value, plus the asset's ``liquidation_fee_ppm`` where it has one (rounded up)."""
    values = []
    for asset, balance in zip(assets, balances, strict=True):
        rule = lent_rule(policy, asset.name)
        if rule is None:
            continue
        value = -min_(balance, 0) * asset.price_quote
        fee = rule.liquidation_fee_ppm
        values.append(value if fee == 0 else div(value * (PPM + fee), PPM, rounding=Rounding.CEIL))
    return sum_(values)


def _paid(amount: Any) -> Any:
    """A transfer's amount that is a product or quotient of non-negative terms, stated so: the
    same number on the concrete engine, and a sign z3 need not rediscover through the product
    (its transfers must be proved non-negative, ``solver.symbolic.transfer_obligations``)."""
    return max_(amount, 0)


def _with_asset(ctx: Ctx, k: int, **changes: Any) -> Ctx:
    assets = list(ctx.book_field("assets"))
    assets[k] = attrs.evolve(assets[k], **changes)
    return ctx.evolve_book(assets=tuple(assets))


def _deposits(ctx: Ctx, k: int, but: str | None = None) -> list[tuple[str, Any]]:
    """Every trader's deposit of asset ``k`` (its balance where positive, else 0), but ``but``'s."""
    return [(a.name, max_(a.asset_balances[k], 0)) for a in ctx.book.traders if a.name != but]


def step_rate(policy: Any, book: Any, asset_name: str, rate_ppm: Any, seconds: Any) -> tuple[Any, Any]:
    """The share of a borrow one interest step charges, as (numerator, denominator): the asset's
    curve's annual rate at the book's utilization times ``seconds`` over a year's, where its table
    has a ``rate_curve`` (``rate_ppm`` is then None), else the event's ``rate_ppm`` over 1e6 (a
    step of the other form, which the engine's requirements refuse, charges its rate or nothing)."""
    rule = lent_rule(policy, asset_name)
    if rate_ppm is not None or rule is None or not rule.rate_curve:
        return (0 if rate_ppm is None else rate_ppm), PPM
    rate = borrow_rate_ppm(
        rule.rate_curve, utilization_ppm(book.asset_index(asset_name), book), policy.rounding.borrow_rate
    )
    return rate * seconds, PPM * SECONDS_PER_YEAR


def _charge(
    policy: Any, ctx: Ctx, holders: list[tuple[str, Any]], venue: str, share: tuple[Any, Any], fee_ppm: int
) -> tuple[Ctx, Any, Any]:
    """One interest step over ``holders`` (each a balance's ledger name and the balance): every
    negative balance pays ``−b × num / den`` (``rounding.interest``) to ``venue``, which keeps
    ``fee_ppm`` of it and pays the rest to the positive balances pro rata (rounded down, the dust
    kept). Returns the context, what the depositors were given and their total deposit."""
    num, den = share
    total = sum_(max_(b, 0) for _, b in holders)
    paid: Any = 0
    for name, balance in holders:
        owed = _paid(div(-min_(balance, 0) * num, den, rounding=policy.rounding.interest))
        ctx = ctx.transfer(name, venue, owed, Reason.INTEREST)
        paid = paid + owed
    fee = mul_ppm(paid, fee_ppm, rounding=Rounding.FLOOR)
    given: Any = 0
    for name, balance in holders:
        got = _paid(div((paid - fee) * max_(balance, 0), safe_divisor(total), rounding=Rounding.FLOOR))
        ctx = ctx.transfer(venue, name, got, Reason.INTEREST)
        given = given + got
    return ctx, given, total


def accrue_settlement_interest(policy: Any, ctx: Ctx, seconds: Any) -> Ctx:
    """One interest step on the settlement currency (``[settlement_lending]``): every trader with
    negative cash pays its borrow times the curve's annual rate for the cash utilization over
    ``seconds`` to the fee account, which keeps ``interest_fee_ppm`` and pays the rest to the
    traders holding positive cash, pro rata (:func:`_charge`). No index is kept: the settlement
    currency has no ``Asset`` record; the transfers are the step."""
    rule = policy.settlement_lending
    if rule is None:
        return ctx
    holders = [(a.name, a.cash_quote) for a in ctx.book.traders]
    rate = borrow_rate_ppm(rule.rate_curve, _utilization([b for _, b in holders]), policy.rounding.borrow_rate)
    share = (rate * seconds, PPM * SECONDS_PER_YEAR)
    return _charge(policy, ctx, holders, ctx.system(Role.FEE_ACCOUNT), share, rule.interest_fee_ppm)[0]


def accrue_interest(policy: Any, ctx: Ctx, asset_name: str, rate_ppm: Any, seconds: Any = 0) -> Ctx:
    """One interest step of a lent asset: every borrower pays the step's share of its borrow
    (:func:`step_rate`, rounded by ``rounding.interest``) to the venue (the fee account, in the
    asset), which keeps ``interest_fee_ppm`` of it and pays the depositors the rest pro rata to
    their deposits (rounded down, the dust kept); the indices record the step. ``asset_name``
    ``""`` is the settlement currency (:func:`accrue_settlement_interest`)."""
    if asset_name == SETTLEMENT:
        return accrue_settlement_interest(policy, ctx, seconds)
    k = ctx.book.asset_index(asset_name)
    rule = lent_rule(policy, asset_name)
    if rule is None:
        return ctx
    num, den = step_rate(policy, ctx.book, asset_name, rate_ppm, seconds)
    venue = asset_balance(ctx.system(Role.FEE_ACCOUNT), asset_name)
    holders = [(asset_balance(a.name, asset_name), a.asset_balances[k]) for a in ctx.book.traders]
    ctx, given, total = _charge(policy, ctx, holders, venue, (num, den), rule.interest_fee_ppm)
    asset = ctx.book_field("assets")[k]
    return _with_asset(
        ctx,
        k,
        borrow_index=asset.borrow_index + div(asset.borrow_index * num, den, rounding=policy.rounding.interest),
        deposit_index=asset.deposit_index
        + div(asset.deposit_index * given, safe_divisor(total), rounding=Rounding.FLOOR),
    )


def origination_fee(policy: Any, asset_name: str, balance: Any, amount: Any) -> Any:
    """What withdrawing ``amount`` of a lent asset from a balance of ``balance`` owes as a loan
    origination fee (``[[collateral]] loan_origination_fee_ppm`` f): on the part that is a new
    borrow, the amount beyond the deposit, ``⌈max(amount − max(balance, 0), 0) × f / 1e6⌉`` by
    ``rounding.fee``. Mango v4's ``withdraw_with_fee`` charges ``loan_origination_fee_rate`` on
    the native amount left to borrow once the deposit is used up (programs/mango-v4/src/state/
    bank.rs). 0 where the asset is not lent or has no fee."""
    rule = lent_rule(policy, asset_name)
    if rule is None or rule.loan_origination_fee_ppm == 0:
        return 0
    borrowed = max_(amount - max_(balance, 0), 0)
    return _paid(mul_ppm(borrowed, rule.loan_origination_fee_ppm, rounding=policy.rounding.fee))


def owed_on_withdrawal(policy: Any, asset_name: str, balance: Any, amount: Any) -> Any:
    """What a withdrawal of ``amount`` takes off the balance: the amount and its
    :func:`origination_fee`; the amount itself, the term it always was, on an asset without the
    fee (so z3's question on every other policy is unchanged)."""
    rule = lent_rule(policy, asset_name)
    if rule is None or rule.loan_origination_fee_ppm == 0:
        return amount
    return amount + origination_fee(policy, asset_name, balance, amount)


def charge_origination_fee(policy: Any, ctx: Ctx, name: str, asset_name: str, balance: Any, amount: Any) -> Ctx:
    """``name``'s withdrawal of ``amount`` from a balance of ``balance`` of a lent asset pays its
    :func:`origination_fee` to the fee account, in the asset: the borrow grows by the fee, as
    Mango adds it to the borrow and to the bank's ``collected_fees_native``. Nothing (no ledger
    entry) on an asset without the fee."""
    rule = lent_rule(policy, asset_name)
    if rule is None or rule.loan_origination_fee_ppm == 0:
        return ctx
    venue = asset_balance(ctx.system(Role.FEE_ACCOUNT), asset_name)
    fee = origination_fee(policy, asset_name, balance, amount)
    return ctx.transfer(asset_balance(name, asset_name), venue, fee, Reason.LOAN_ORIGINATION_FEE)


def repay_borrows(policy: Any, ctx: Ctx, name: str, budget: Any) -> Ctx:
    """Buy back ``name``'s borrows of lent assets from the book (the liquidity account, the
    liquidator) at the oracle price, in the book's order, with at most ``budget`` settlement quanta
    of its cash: ``q = min(borrow, ⌊budget / price⌋)`` quanta to the account, ``q × price`` to the
    book. With the asset's ``liquidation_fee_ppm`` f the liquidator takes the borrow at
    ``price × (1 + f)`` (Mango's token liquidation fee): ``q = min(borrow, ⌊budget × 1e6 / (price ×
    (1e6 + f))⌋)`` for ``⌈q × price × (1e6 + f) / 1e6⌉`` (``rounding.fee``)."""
    book = ctx.system(Role.LIQUIDITY)
    for k, asset in enumerate(ctx.book_field("assets")):
        rule = lent_rule(policy, asset.name)
        if rule is None:
            continue
        price = asset.price_quote
        borrow = max_(-ctx.account(name).asset_balances[k], 0)
        if rule.liquidation_fee_ppm == 0:  # at the oracle price: the terms they always were
            bought = _paid(min_(borrow, div(max_(budget, 0), safe_divisor(price), rounding=Rounding.FLOOR)))
            cost = bought * price
        else:
            per = price * (PPM + rule.liquidation_fee_ppm)  # millionths of a quantum, per quantum bought
            bought = _paid(min_(borrow, div(max_(budget, 0) * PPM, safe_divisor(per), rounding=Rounding.FLOOR)))
            cost = div(bought * per, PPM, rounding=policy.rounding.fee)
        ctx = ctx.transfer(
            asset_balance(book, asset.name), asset_balance(name, asset.name), bought, Reason.BORROW_REPAYMENT
        )
        ctx = ctx.transfer(name, book, _paid(cost), Reason.BORROW_REPAYMENT)
        budget = budget - cost
    return ctx


def cover_unpaid_borrows(policy: Any, ctx: Ctx, name: str) -> Ctx:
    """What ``name`` still owes of each lent asset goes down that asset's ``bankruptcy`` layers in
    order (``waterfall.TokenLayer``); what they leave stays a negative balance."""
    for k, asset in enumerate(ctx.book_field("assets")):
        rule = lent_rule(policy, asset.name)
        if rule is None:
            continue
        for layer in rule.bankruptcy:
            missing = max_(-ctx.account(name).asset_balances[k], 0)
            if layer is TokenLayer.INSURANCE_FUND:
                ctx = _fund_buys(ctx, k, name, missing, rule.fund_floor_quote)
            elif layer is TokenLayer.DEPOSIT_INDEX:
                ctx = _deposit_index_loss(policy, ctx, k, name, missing)
            else:
                ctx = _lender_adl(policy, ctx, k, name, missing)
    return ctx


def _fund_buys(ctx: Ctx, k: int, name: str, missing: Any, floor: int) -> Ctx:
    """The asset's insurance fund covers the missing quanta: first with what it holds of the asset
    itself, given to the borrower (the asset's own fund, as Drift's spot market's insurance fund holds
    that market's token and pays its bankruptcy first, ``if_payment = min(borrow, IF_balance − 1)``,
    ``resolve_spot_bankruptcy``: docs/venues.md#drift-v2-bankruptcy; Mango's insurance vault pays a
    token bankruptcy before the deposit index), then by buying the rest for the borrower at the oracle
    price as far as its cash above ``floor`` goes. Its balance of the asset is what the lent asset's cut's
    rounding dust left it (``_cut``); it is spent whole, with no floor: the engine's fund keeps its floor
    (Drift's one native unit) on its cash, in quote (docs/model.md#the-cuts-rounding-dust-is-the-assets-own-insurance-fund-session-33).
    What the purchase pays, ``bought × price``, is at most that cash (``bought ≤ ⌊cash / price⌋``); the
    amount is stated so, ``min(bought × price, cash)``: the same number (the minimum never binds,
    ``tests/rules/test_lending.py``), and a bound z3 need not rediscover through the product and
    the quotient (the fund's turn lemma, ``solver.fund_facts``: undecided within 5M units on
    Mango's and Drift's one-trader book without it, 0.09M and 0.24M with it)."""
    asset = ctx.book_field("assets")[k]
    fund, book = ctx.system(Role.INSURANCE_FUND), ctx.system(Role.LIQUIDITY)
    given = _paid(min_(missing, ctx.account(fund).asset_balances[k]))
    ctx = ctx.transfer(asset_balance(fund, asset.name), asset_balance(name, asset.name), given, Reason.INSURANCE_FUND)
    held = ctx.account(fund).cash_quote
    cash = max_(held if floor == 0 else held - floor, 0)  # no floor: the term it always was
    rest = max_(-ctx.account(name).asset_balances[k], 0)  # what the gift left owed, read as each layer reads it
    bought = _paid(min_(rest, div(cash, safe_divisor(asset.price_quote), rounding=Rounding.FLOOR)))
    ctx = ctx.transfer(fund, book, _paid(min_(bought * asset.price_quote, cash)), Reason.INSURANCE_FUND)
    return ctx.transfer(asset_balance(book, asset.name), asset_balance(name, asset.name), bought, Reason.INSURANCE_FUND)


def _shares(policy: Any, ctx: Ctx, k: int, name: str, missing: Any) -> tuple[list[tuple[str, Any]], Any, Any]:
    """Each other depositor's share of ``min(missing, D)``, by ``rounding.deposit_loss``; returns
    (shares, the loss taken L, D)."""
    return _pro_rata(policy, _deposits(ctx, k, but=name), missing)


def _pro_rata(policy: Any, deposits: list[tuple[str, Any]], missing: Any) -> tuple[list[tuple[str, Any]], Any, Any]:
    """Each of ``deposits``' share of ``L = min(missing, D)``, ``D`` their sum, by
    ``rounding.deposit_loss``; returns (shares, L, D)."""
    total = sum_(d for _, d in deposits)
    loss = min_(missing, total)
    rounding = policy.rounding.deposit_loss
    return [(n, _paid(div(loss * d, safe_divisor(total), rounding=rounding))) for n, d in deposits], loss, total


def _deposit_index_loss(policy: Any, ctx: Ctx, k: int, name: str, missing: Any) -> Ctx:
    """Drift's and Mango's token bankruptcy: every other holder of a positive balance of the asset,
    the traders and the order book (:func:`settlement_holders`: it stands for the venue's other users,
    the liquidator who bought a depositor's collateral among them), pays the unpaid borrow pro rata to
    its balance, and the deposit index falls by the same share (Drift's ``resolve_spot_bankruptcy``
    lowers the whole market's ``cumulative_deposit_interest``, Mango's ``token_liq_bankruptcy`` the
    bank's deposit index: docs/model.md#a-lent-assets-cut-takes-from-every-holder-of-the-asset-session-32)."""
    asset = ctx.book_field("assets")[k]
    held = [(a.name, max_(a.asset_balances[k], 0)) for a in settlement_holders(ctx.book) if a.name != name]
    shares, loss, total = _pro_rata(policy, held, missing)
    ctx = _cut(ctx, shares, loss, name, lambda n: asset_balance(n, asset.name))
    cut = div(asset.deposit_index * loss, safe_divisor(total), rounding=Rounding.CEIL)
    return _with_asset(ctx, k, deposit_index=asset.deposit_index - cut)


def settlement_holders(book: Any) -> list[Any]:
    """The accounts whose settlement cash, or balance of a lent asset, is a deposit of it or a borrow
    of it: the traders and the order book (which stands for the venue's other users); the fund, the
    fee account and the venue are the protocol's own balances (docs/model.md#the-settlement-currencys-own-bankruptcy-session-31).
    Read by :func:`cover_settlement_borrow` and :func:`_deposit_index_loss` (who pays) and by the
    prover's assumptions that their deposits cover their borrows (``solver.assumptions``, session 32)."""
    return [a for a in book.accounts if a.is_trader or a.role is Role.LIQUIDITY]


def cover_settlement_borrow(policy: Any, ctx: Ctx, name: str) -> Ctx:
    """What ``name`` still owes in settlement cash (a negative cash balance once its collateral is
    sold and its deficit has been down the policy's waterfall) is taken from every other holder of
    settlement cash, traders and the order book, pro rata to their positive cash:
        L = min(owed, D);  holder j pays ⌈L × c_j / D⌉ (``rounding.deposit_loss``), the excess to the fund
    Nothing on a policy without ``[settlement]`` (:class:`SettlementBankruptcy`)."""
    if getattr(policy, "settlement", None) is None:
        return ctx
    holders = [a for a in settlement_holders(ctx.book) if a.name != name]
    owed = max_(-ctx.account(name).cash_quote, 0)
    shares, loss, _total = _pro_rata(policy, [(a.name, max_(a.cash_quote, 0)) for a in holders], owed)
    ctx = _cut(ctx, shares, loss, name, lambda n: n)
    return ctx.note_if(loss > 0, SettlementCut(name, loss))


def _cut(ctx: Ctx, shares: list[tuple[str, Any]], loss: Any, name: str, balance: Callable[[str], str]) -> Ctx:
    """The deposit cut's transfers, a lent asset's or settlement cash's (``balance`` names the
    balance of an account): each depositor's share to ``name`` (``DEPOSIT_INDEX_LOSS``), then what
    the rounded-up shares took beyond ``loss`` from ``name`` to the insurance fund (``PRO_RATA_DUST``)."""
    charged: Any = 0
    for depositor, share in shares:
        ctx = ctx.transfer(balance(depositor), balance(name), share, Reason.DEPOSIT_INDEX_LOSS)
        charged = charged + share
    fund = balance(ctx.system(Role.INSURANCE_FUND))
    return ctx.transfer(balance(name), fund, max_(charged - loss, 0), Reason.PRO_RATA_DUST)


def _lender_adl(policy: Any, ctx: Ctx, k: int, name: str, missing: Any) -> Ctx:
    """Backpack's lender ADL: each lender gives up its share of the unpaid borrow and the borrower
    pays it their oracle value in settlement cash ("in USD terms")."""
    asset = ctx.book_field("assets")[k]
    shares, _loss, _total = _shares(policy, ctx, k, name, missing)
    for lender, share in shares:
        ctx = ctx.transfer(asset_balance(lender, asset.name), asset_balance(name, asset.name), share, Reason.LENDER_ADL)
        ctx = ctx.transfer(name, lender, _paid(share * asset.price_quote), Reason.LENDER_ADL)
    return ctx


def settle_borrows(policy: Any, ctx: Ctx, name: str, budget: Any) -> Ctx:
    """On liquidation: repay ``name``'s borrows with at most ``budget`` of its cash, then cover what
    is left down each asset's own waterfall. Nothing on a policy that lends nothing."""
    if not lends_any(policy):
        return ctx
    return cover_unpaid_borrows(policy, repay_borrows(policy, ctx, name, budget), name)


def utilization_ppm(asset_index: int, book: Any) -> Any:
    """Borrows over deposits of asset ``asset_index`` among the traders, in ppm, at most 1e6
    (``rate_curve.utilization_ppm``)."""
    return _utilization([a.asset_balances[asset_index] for a in book.traders])


__all__ = [
    "INDEX_ONE",
    "SETTLEMENT",
    "SettlementLending",
    "accrue_settlement_interest",
    "accrue_interest",
    "borrowed_value",
    "charge_origination_fee",
    "cover_unpaid_borrows",
    "lends_any",
    "lent_rule",
    "origination_fee",
    "owed_on_withdrawal",
    "repay_borrows",
    "settle_borrows",
    "settlement_holders",
    "step_rate",
    "utilization_ppm",
]

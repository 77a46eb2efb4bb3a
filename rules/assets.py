"""Collateral assets: what a balance of an asset other than the settlement asset is worth as margin,
and how a liquidation turns it into settlement cash (docs/portfolio.md, decision 2).

A policy's ``[[collateral]]`` tables name the assets it accepts, each with a weight for initial
and one for maintenance margin (a haircut of 1 − weight) and an optional cap on the value counted.
Binance's multi-assets mode gives one "collateral value ratio" per asset, 95% for BTC, ETH and BNB
and 99.99% for USDC ("BTC, ETH and BNB used as margin in the Multi-Assets Mode will receive a 5%
value haircut"; binance.com/en/support/faq/29b45c485d664028b9ca1cdf90b24f6f), used for both;
Drift and Mango state an initial and a maintenance asset weight apart.

Formula, for an account in cross margin mode, over the book's assets (``Book.assets``):
    value_a   = ⌊balance_a × price_a × weight_a / 1e6⌋       rounded by ``rounding.collateral``
                (an asset with ``value_tiers``: each tier's ratio on the part of the holding's
                value inside it; with ``quantity_tiers``: on the part of the quantity inside it,
                times the price; ``solvent.rules.value_tiers``; a lent asset's tiers count its
                deposit, max(balance, 0))
                (floor by default: collateral is never over-counted), then min(value_a, cap_a)
    E_margin  = E + Σ_a value_a       with the initial weights for initial margin (opening a
                position, a withdrawal), the maintenance weights for the liquidation trigger
An asset the policy does not list, and any asset of an isolated account, counts 0. A lent asset's
negative balance (a borrow, ``solvent.rules.lending``) counts against the account at the asset's
liability weight instead: ``⌊balance × price × liability_weight / 1e6⌋``, below zero, rounded by
``rounding.collateral`` (floor: a borrow is never under-counted).

On liquidation the account's collateral is sold to the book at the oracle price, no more than
covers what the account would owe once its positions were closed (Binance's auto exchange: "When
users get liquidated, auto exchange will be immediately triggered if the BUSD/USDT in the USDⓈ-M
Futures Wallet balance is not enough to cover the deficit",
binance.com/en/futures/trading-rules/perpetual/multi-asset-info), asset by asset in the book's
order. What is left of the deficit when every asset is sold is bad debt for the waterfall: a
depeg can make it, because the weights that triggered the liquidation were taken at the price
before the move. An account holding no position whose loan (negative cash) reaches its
collateral's weighted value has its collateral sold the same way (``exchange_loan``, Binance's
auto exchange at a loan-to-value of 1).

    need   = max(0, −(E − |S| × slip))                            (``bankruptcy.remaining_deficit``)
    sold_a = min(balance_a, ⌈need / price_a⌉), proceeds_a = sold_a × price_a
With a conversion discount (``sale_value_ppm`` = r < 1e6, Binance's 97.5%):
    sold_a = min(balance_a, ⌈need × 1e6 / (price_a × r)⌉), proceeds_a = ⌊sold_a × price_a × r / 1e6⌋
(rounded by ``rounding.collateral``, floor by default: the proceeds are never over-counted; with
floor, ⌈·⌉ on the quanta sold still covers ``need``). An account left with a loan its collateral
could not cover, holding no position, takes it down the waterfall (``bankruptcy.resolve_loan``).
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.arith import PPM, Rounding, and_, div, max_, min_, mul_ppm, or_, safe_divisor, sum_
from solvent.rules.book import Account, Asset, MarginMode, Role
from solvent.rules.fields import ppm_field, quote_field
from solvent.rules.ledger import Ctx, Reason, asset_balance
from solvent.rules.margin import equity
from solvent.rules.outcomes import LoanExchanged
from solvent.rules.rate_curve import RatePoint, check_rate_curve
from solvent.rules.value_tiers import QuantityTier, ValueTier, check_tiers, tiered_quantity, tiered_value
from solvent.rules.waterfall import TokenLayer


@attrs.frozen
class Collateral:
    """One collateral asset the policy accepts: how much of its oracle value counts as margin.

    ``initial_weight_ppm`` counts toward initial margin (opening, withdrawing), and
    ``maintenance_weight_ppm`` toward maintenance (the liquidation trigger); the initial weight is
    at most the maintenance weight, as Drift and Mango require (a haircut for opening at least the
    one for keeping). ``cap_quote``: the most value the asset may count, in settlement quanta
    (absent: no cap). ``quantum``: what one quantum of the asset is ("0.01 USDe"), shown in
    reports, never used in arithmetic; an asset's oracle price is in settlement quanta per asset
    quantum."""

    name: str = attrs.field(validator=attrs.validators.instance_of(str))
    initial_weight_ppm: int = ppm_field()
    maintenance_weight_ppm: int = ppm_field()
    cap_quote: int | None = quote_field(default=None)
    quantum: str = attrs.field(default="", validator=attrs.validators.instance_of(str))
    #: What a sale of the asset (on liquidation, or the auto exchange of a flat account's loan)
    #: credits per unit of oracle value: 1,000,000 (the default) sells at the oracle price; less is
    #: a conversion discount, the buyer (the order book) keeping the difference. Binance: "when
    #: your BUSD balance is -20,000 BUSD ... 20,000 BUSD / 97.5% = 20,513 BUSD of the BTC will be
    #: changed to BUSD" (binance.com/en/futures/trading-rules/perpetual/multi-asset-info): BTC
    #: sold at 97.5% of its value, 975,000.
    sale_value_ppm: int = ppm_field(min_value=1, default=PPM)
    #: The venue lends depositors' balances of this asset (``solvent.rules.lending``): a balance
    #: may go below zero (a borrow, valued with the liability weights), borrowers pay interest
    #: (``InterestAccrual``) that depositors receive, and a borrow its borrower's liquidation cannot
    #: repay goes down ``bankruptcy``. ``false`` (the default): balances never go below zero.
    lends: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    #: What a borrow of the asset weighs against margin, at least 1e6 (a liability counted at
    #: more than its oracle value): initial (borrowing, opening, withdrawing) and maintenance (the
    #: trigger). Drift's ``initial_liability_weight`` / ``maintenance_liability_weight``, Mango's
    #: ``init_liab_weight`` / ``maint_liab_weight``.
    initial_liability_weight_ppm: int = ppm_field(min_value=PPM, max_value=10 * PPM, default=PPM)
    #: What a borrow weighs at the liquidation trigger, at least 1e6 and at most the initial one
    #: (Drift's ``maintenance_liability_weight``, Mango's ``maint_liab_weight``).
    maintenance_liability_weight_ppm: int = ppm_field(min_value=PPM, max_value=10 * PPM, default=PPM)
    #: The venue's share of the interest borrowers pay, to the fee account in the asset's quanta
    #: (Drift's insurance and protocol factors of a spot market; Mango's loan fee).
    interest_fee_ppm: int = ppm_field(default=0)
    #: What a liquidated borrower pays the liquidator (the book) over the oracle price to buy back
    #: a borrow of this lent asset, in ppm: Mango v4's token ``liquidation_fee`` (its test group's
    #: 0.02: the liqee's 1,000 of collateral at 1 buy back 1,000 / 20 / 1.02 of a borrow priced
    #: 20, programs/mango-v4/tests/cases/test_bankrupt_tokens.rs). 0: at the oracle price.
    liquidation_fee_ppm: int = ppm_field(default=0)
    #: What a new borrow of this lent asset costs its borrower on top, in ppm of the quanta
    #: borrowed: a withdrawal beyond the account's deposit owes ``⌈new borrow × f / 1e6⌉`` more
    #: (``rounding.fee``), paid to the fee account in the asset, so the borrow is the amount
    #: withdrawn plus the fee. Mango v4's token ``loan_origination_fee_rate``: ``withdraw_with_fee``
    #: adds ``loan_origination_fee_rate × native_amount`` of the part borrowed to the borrow and to
    #: the bank's ``collected_fees_native`` (programs/mango-v4/src/state/bank.rs); its test group
    #: registers 0.0005 (programs/mango-v4/tests/program_test/mango_setup.rs). 0: no fee.
    loan_origination_fee_ppm: int = ppm_field(default=0)
    #: The lent asset's own waterfall for a borrow its borrower's liquidation cannot repay, in
    #: order (``waterfall.TokenLayer``: ``insurance_fund``, ``deposit_index``, ``lender_adl``);
    #: what no layer covers stays a negative balance, the venue's bad debt in the asset.
    bankruptcy: tuple[TokenLayer, ...] = attrs.field(default=(), converter=tuple)
    #: What the insurance fund keeps back when it buys a bankrupt borrow of this asset
    #: (``bankruptcy``'s ``insurance_fund`` layer), in settlement quanta: it spends at most its
    #: cash less this floor, ``q = min(missing, ⌊(cash − floor) / price⌋)``, and the rest of the
    #: borrow goes down the next layer. Drift's ``resolve_spot_bankruptcy`` pays ``min(borrow,
    #: IF_vault_balance − 1)``, "subtract 1 so insurance_fund_vault_balance always stays >= 1"
    #: (programs/drift/src/controller/liquidation.rs, github.com/drift-labs/protocol-v2), as its
    #: perp side does (``[[deficit]] insurance_fund floor_quote``). 0 (the default): the fund
    #: spends all it holds.
    fund_floor_quote: int = quote_field(default=0)
    #: The lent asset's borrow rate by its utilization (borrows over deposits), as
    #: ``[[collateral.rate_curve]]`` points with ``utilization_ppm`` (0 first, 1000000 last,
    #: increasing) and an annual ``rate_ppm`` (never falling), linear between
    #: (``solvent.rules.rate_curve``): an ``InterestAccrual`` of the asset then names the seconds it
    #: accrues for and takes its rate from here. Drift's optimal utilization, optimal and maximum
    #: rate with its kinks above the optimum; Mango's util0/rate0, util1/rate1, max_rate. Absent:
    #: each event names its own rate.
    rate_curve: tuple[RatePoint, ...] = attrs.field(default=(), converter=tuple)
    #: The asset counted by tiers of the holding's oracle value, as ``[[collateral.value_tiers]]``
    #: with ``floor_value_quote`` (0 first, increasing) and ``ratio_ppm`` (never rising), each rate
    #: on the part of the holding inside its tier (``solvent.rules.value_tiers``): OKX's discount
    #: rate tiers. They replace the one weight for initial and maintenance margin, so both weights
    #: must equal the first tier's ratio. Absent: the weights apply to the whole holding.
    value_tiers: tuple[ValueTier, ...] = attrs.field(default=(), converter=tuple)
    #: The asset counted by tiers of the quantity held, as ``[[collateral.quantity_tiers]]`` with
    #: ``floor_quanta`` (asset quanta: 0 first, increasing) and ``ratio_ppm`` (never rising), each
    #: rate on the part of the quantity inside its tier, times the oracle price
    #: (``solvent.rules.value_tiers``, the same brackets as ``value_tiers``): Bybit's collateral
    #: value ratio by "Tier(Quantity)". The other form of ``value_tiers``: a table gives one or the
    #: other, and both weights must equal the first tier's ratio. Absent: as ``value_tiers``.
    quantity_tiers: tuple[QuantityTier, ...] = attrs.field(default=(), converter=tuple)

    def __attrs_post_init__(self) -> None:
        check_rate_curve(self.rate_curve)
        check_tiers(self.value_tiers, ValueTier)
        check_tiers(self.quantity_tiers, QuantityTier)
        if self.value_tiers and self.quantity_tiers:
            raise ValueError(
                "'quantity_tiers' is the other form of value_tiers (tiers by the quantity held, not its "
                "value): give one or the other"
            )
        tiers, form = (self.value_tiers, "value") if self.value_tiers else (self.quantity_tiers, "quantity")
        if tiers:
            first = tiers[0].ratio_ppm
            for key in ("initial_weight_ppm", "maintenance_weight_ppm"):
                if getattr(self, key) != first:
                    raise ValueError(
                        f"'{key}' must be the first {form} tier's ratio_ppm ({first}) where {form}_tiers are "
                        f"given: {getattr(self, key)}"
                    )
        if self.liquidation_fee_ppm and not self.lends:
            raise ValueError(
                f"'liquidation_fee_ppm' needs lends = true: only a lent asset's borrow is bought back: "
                f"{self.liquidation_fee_ppm}"
            )
        if self.loan_origination_fee_ppm and not self.lends:
            raise ValueError(
                f"'loan_origination_fee_ppm' needs lends = true: only a lent asset can be borrowed: "
                f"{self.loan_origination_fee_ppm}"
            )
        if self.rate_curve and not self.lends:
            raise ValueError("'rate_curve' needs lends = true: only a lent asset has borrows to charge: false")
        for i, layer in enumerate(self.bankruptcy):
            if not isinstance(layer, TokenLayer):
                raise ValueError(f"'bankruptcy' must hold token layers: {layer!r} @ bankruptcy[{i}]")
        if len(set(self.bankruptcy)) != len(self.bankruptcy):
            raise ValueError(f"'bankruptcy' must name each layer once: {[t.value for t in self.bankruptcy]}")
        if self.bankruptcy and not self.lends:
            raise ValueError("'bankruptcy' needs lends = true: only a lent asset has borrows to cover: false")
        if self.fund_floor_quote and TokenLayer.INSURANCE_FUND not in self.bankruptcy:
            raise ValueError(
                f"'fund_floor_quote' needs \"insurance_fund\" in bankruptcy: only the fund keeps a floor: "
                f"{self.fund_floor_quote}"
            )
        if self.initial_liability_weight_ppm < self.maintenance_liability_weight_ppm:
            raise ValueError(
                f"'initial_liability_weight_ppm' must be >= maintenance_liability_weight_ppm "
                f"({self.maintenance_liability_weight_ppm}): {self.initial_liability_weight_ppm}"
            )
        if not self.name:
            raise ValueError("'name' must name the asset: ''")
        if self.initial_weight_ppm > self.maintenance_weight_ppm:
            raise ValueError(
                f"'initial_weight_ppm' must be <= maintenance_weight_ppm ({self.maintenance_weight_ppm}): "
                f"{self.initial_weight_ppm}"
            )


def check_collateral(_inst: Any, _attribute: Any, tables: tuple[Collateral, ...]) -> None:
    """Every ``[[collateral]]`` table is a :class:`Collateral`, each asset named once."""
    seen: set[str] = set()
    for i, table in enumerate(tables):
        if not isinstance(table, Collateral):
            raise ValueError(f"'collateral' must hold collateral tables: {table!r} @ collateral[{i}]")
        if table.name in seen:
            raise ValueError(f"'name' must name each asset once: {table.name!r} @ collateral[{i}].name")
        seen.add(table.name)


def counts_collateral(account: Account) -> bool:
    """Whether the account's collateral assets back its margin: cross margin mode only."""
    return account.margin_mode is MarginMode.CROSS


def _rule(tables: tuple[Collateral, ...], name: str) -> Collateral | None:
    return next((t for t in tables if t.name == name), None)


def collateral_value(policy: Any, assets: tuple[Asset, ...], account: Account, *, initial: bool) -> Any:
    """Σ over the book's assets of the weighted, capped value of the account's balance, in
    settlement quanta (initial or maintenance weights); 0 for an isolated account."""
    if not assets or not counts_collateral(account):
        return 0
    values = []
    for asset, balance in zip(assets, account.asset_balances, strict=True):
        rule = _rule(policy.collateral, asset.name)
        if rule is None:
            continue
        weight = rule.initial_weight_ppm if initial else rule.maintenance_weight_ppm
        deposit = max_(balance, 0) if rule.lends else balance
        if rule.value_tiers:  # a rate per tier of the holding's value (OKX's discount rate tiers)
            value = tiered_value(rule.value_tiers, deposit * asset.price_quote, policy.rounding.collateral)
        elif rule.quantity_tiers:  # a rate per tier of the quantity held (Bybit's collateral value ratio)
            value = tiered_quantity(rule.quantity_tiers, deposit, asset.price_quote, policy.rounding.collateral)
        else:
            value = mul_ppm(deposit * asset.price_quote, weight, rounding=policy.rounding.collateral)
        values.append(value if rule.cap_quote is None else min_(value, rule.cap_quote))
        if rule.lends:  # a borrow weighs its liability weight; the floor counts it at least whole
            liability = rule.initial_liability_weight_ppm if initial else rule.maintenance_liability_weight_ppm
            values.append(mul_ppm(min_(balance, 0) * asset.price_quote, liability, rounding=policy.rounding.collateral))
    return sum_(values)


def margin_equity(policy: Any, assets: tuple[Asset, ...], account: Account, *, initial: bool = False) -> Any:
    """The equity margin is measured on: cash (+ spot where it counts) plus the weighted value of
    the account's collateral assets (initial weights for ``initial``, else maintenance). With no
    assets on the book, ``margin.equity`` itself (the same terms)."""
    if not assets:
        return equity(policy.margin, account)
    return equity(policy.margin, account) + collateral_value(policy, assets, account, initial=initial)


def oracle_value(assets: tuple[Asset, ...], account: Account) -> Any:
    """The account's collateral at its oracle prices, unweighted: what it could be sold for."""
    return sum_(balance * asset.price_quote for asset, balance in zip(assets, account.asset_balances, strict=True))


def account_value(policy: Any, assets: tuple[Asset, ...], account: Account) -> Any:
    """Everything the account holds for its margin, at oracle prices: equity plus its collateral,
    unweighted (an isolated account's collateral is not its margin's). What a claim on equity
    reads on a book with collateral assets."""
    if not assets or not counts_collateral(account):
        return equity(policy.margin, account)
    return equity(policy.margin, account) + oracle_value(assets, account)


def loan_due(policy: Any, assets: tuple[Asset, ...], account: Account) -> Any:
    """A cross account holding no position whose loan (negative cash) has reached the weighted
    value of its collateral: loan-to-value at or above 1, margin equity at maintenance weights at
    or below 0. Binance: "When you do not have existing positions or open orders, the system will
    continuously calculate the LTV (loan to value). When LTV ≥ 1, auto-exchange will be
    triggered" (binance.com/en/futures/trading-rules/perpetual/multi-asset-info). A position's
    account is the liquidation's instead. Always false on a book without assets."""
    if not assets or not counts_collateral(account):
        return False
    loan = account.cash_quote < 0
    if any(t.lends for t in policy.collateral):  # a borrow of a lent asset is a loan too
        loan = or_(loan, *(b < 0 for t, b in _lent(policy, assets, account)))
    return and_(loan, margin_equity(policy, assets, account) <= 0)


def holds_collateral(policy: Any, assets: tuple[Asset, ...], account: Account) -> Any:
    """The account holds a positive balance of an asset the policy lists (one a sale can sell)."""
    held = [b > 0 for a, b in zip(assets, account.asset_balances, strict=True) if _rule(policy.collateral, a.name)]
    return or_(*held) if held else False


def _lent(policy: Any, assets: tuple[Asset, ...], account: Account) -> list[tuple[Collateral, Any]]:
    """The account's balance of each lent asset, beside the asset's table."""
    return [
        (rule, balance)
        for asset, balance in zip(assets, account.asset_balances, strict=True)
        if (rule := _rule(policy.collateral, asset.name)) is not None and rule.lends
    ]


def exchange_loan(policy: Any, ctx: Ctx, name: str, borrowed: Any = None) -> Ctx:
    """Sell ``name``'s collateral as far as its loan (``loan_due``: its negative cash, plus
    ``borrowed``, the oracle value of its borrows on a lending policy), noting ``LoanExchanged``;
    what the collateral cannot cover stays a negative balance (bad debt the venue holds)."""
    owed = -ctx.account(name).cash_quote
    if borrowed is not None:
        owed = owed + borrowed
    ctx = ctx.note(LoanExchanged(name, owed))
    return sell_collateral(policy, ctx, name, owed)


def sell_collateral(policy: Any, ctx: Ctx, name: str, need: Any) -> Ctx:
    """Sell the account's collateral to the book (the liquidity account) at the oracle price (less
    the asset's conversion discount, ``sale_value_ppm``), asset by asset in the book's order, no
    more than covers ``need`` settlement quanta: per asset ``sold = min(balance, ⌈need / price⌉)``
    quanta (asset quanta to the book, ``sold × price`` to the account, both
    ``Reason.COLLATERAL_SALE``; with a discount, the module's formula)."""
    assets = ctx.book_field("assets")
    if not assets or not counts_collateral(ctx.account(name)):
        return ctx
    book = ctx.system(Role.LIQUIDITY)
    for i, asset in enumerate(assets):
        rule = _rule(policy.collateral, asset.name)
        if rule is None:
            continue
        price = asset.price_quote
        balance = ctx.account(name).asset_balances[i]
        sold = min_(max_(balance, 0), _quanta_for(max_(need, 0), price, rule.sale_value_ppm))
        proceeds = _proceeds(policy, sold, price, rule.sale_value_ppm)
        if rule.lends:  # non-negative by shape: with borrows, z3 meets balances of either sign here
            sold, proceeds = max_(sold, 0), max_(proceeds, 0)
        ctx = ctx.transfer(
            asset_balance(name, asset.name), asset_balance(book, asset.name), sold, Reason.COLLATERAL_SALE
        )
        ctx = ctx.transfer(book, name, proceeds, Reason.COLLATERAL_SALE)
        need = need - proceeds
    return ctx


def _quanta_for(need: Any, price: Any, rate: int) -> Any:
    """The fewest asset quanta whose sale credits at least ``need``: ⌈need / price⌉ at the oracle
    price, ⌈need × 1e6 / (price × rate)⌉ at a discount."""
    if rate == PPM:  # the oracle price: today's terms, unchanged under z3
        return div(need, safe_divisor(price), rounding=Rounding.CEIL)
    return div(need * PPM, safe_divisor(price * rate), rounding=Rounding.CEIL)


def _proceeds(policy: Any, sold: Any, price: Any, rate: int) -> Any:
    """What ``sold`` quanta credit: ``sold × price``, or ⌊sold × price × rate / 1e6⌋ at a discount
    (``rounding.collateral``)."""
    if rate == PPM:
        return sold * price
    return mul_ppm(sold * price, rate, rounding=policy.rounding.collateral)


__all__ = [
    "Collateral",
    "account_value",
    "check_collateral",
    "collateral_value",
    "counts_collateral",
    "exchange_loan",
    "holds_collateral",
    "loan_due",
    "margin_equity",
    "oracle_value",
    "sell_collateral",
]

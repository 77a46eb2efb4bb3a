"""A policy: the whole risk rule set of one venue, as one frozen, validated value."""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.assets import Collateral, check_collateral
from solvent.rules.contract import LINEAR, Contract
from solvent.rules.fees import FeeRule
from solvent.rules.lending import SettlementBankruptcy, SettlementLending, cuts_deposits
from solvent.rules.liquidation import LiquidationRule
from solvent.rules.margin import MODES, MarginRule
from solvent.rules.market_funds import POOLED, WaterfallScope
from solvent.rules.market_spec import MarketSpec
from solvent.rules.pool_adl import PnlToPoolAdl
from solvent.rules.rounding import RoundingRule
from solvent.rules.settlement import FundingRule
from solvent.rules.waterfall import LAYER_TYPES, Adl, DebtCarry, Layer, check_layers


def _check_deficit(_inst: Any, _attribute: Any, layers: tuple) -> None:
    for i, layer in enumerate(layers):
        if not isinstance(layer, LAYER_TYPES):
            raise ValueError(f"'deficit' must hold waterfall layers: {layer!r} @ deficit[{i}]")
    check_layers(layers)


def _check_markets(_inst: Any, _attribute: Any, markets: tuple) -> None:
    for i, spec in enumerate(markets):
        if not isinstance(spec, MarketSpec):
            raise ValueError(f"'market' must hold market tables: {spec!r} @ market[{i}]")
    names = [spec.name for spec in markets]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ValueError(f"'name' must differ from every other market's: {name!r} @ market[{i}].name")
    if markets and markets[0].tiers:
        raise ValueError(
            "'tiers' of the first market are [margin].tiers (a one-market policy's tiers); give them "
            "there, or list this market later: tiers given @ market[0].tiers"
        )
    for key in ("lot", "tick"):
        if markets and getattr(markets[0], key):
            raise ValueError(
                f"'{key}' of the first market is [units].{key}; give it there: "
                f"{getattr(markets[0], key)!r} @ market[0].{key}"
            )


@attrs.frozen
class Units:
    """What one integer unit means: shown in reports, never used in arithmetic."""

    quote: str = "0.01 USD"
    lot: str = "1 contract"
    #: The venue's price tick, in the quote currency per unit of the lot's asset ("0.1 USDT": a
    #: price per BTC when ``lot = "0.001 BTC"``; an inverse contract's in its price currency per
    #: coin, "0.5 USD"). Absent: not checked. The price grid the quanta state (one quote quantum
    #: per lot; an inverse contract's ``value_quanta``) must hold every tick, a whole number of
    #: grid steps each; a grid coarser than the tick, or one the tick is no multiple of, cannot
    #: state the venue's prices, and loading the policy warns (``loading.PolicyWarning``).
    tick: str = ""


def _percent(ppm: int) -> str:
    """ppm as an exact percentage: 550000 → '55%', 12500 → '1.25%'."""
    whole, frac = divmod(ppm, 10_000)
    return f"{whole}.{frac:04d}".rstrip("0").rstrip(".") + "%"


@attrs.frozen
class Policy:
    """Margin, liquidation, fees, the deficit waterfall and rounding of one venue."""

    name: str
    margin: MarginRule
    liquidation: LiquidationRule = LiquidationRule()
    fees: FeeRule = FeeRule()
    deficit: tuple[Layer, ...] = attrs.field(default=(), converter=tuple, validator=_check_deficit)
    rounding: RoundingRule = RoundingRule()
    #: ADL by PnL-to-pool factor (GMX v2, docs/venues.md#gmx-v2-adl): runs after every mark move or funding
    #: payment, apart from the deficit waterfall; absent: never
    pnl_to_pool_adl: PnlToPoolAdl | None = None
    units: Units = Units()
    #: The perpetual markets the venue lists, in the book's order (docs/portfolio.md, decision
    #: 1b): each its name and, where it has them, its own tiers, lot and tick. The first is the
    #: market ``[margin]`` and ``[units]`` describe. Absent: one market, the book's ``PERP``; a
    #: book of several markets then shares ``[margin]``'s tiers in every market.
    market: tuple[MarketSpec, ...] = attrs.field(default=(), converter=tuple, validator=_check_markets)
    #: The contract the market trades: linear (the default) or inverse, coin-margined
    #: (``solvent.rules.contract``); the engine runs on lot values either way
    contract: Contract = attrs.field(default=LINEAR, validator=attrs.validators.instance_of(Contract))
    description: str = ""
    sources: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: The collateral assets the policy accepts besides the settlement asset, each with its
    #: initial and maintenance weight and cap (``[[collateral]]`` tables, ``solvent.rules.assets``,
    #: docs/portfolio.md decision 2); empty: settlement cash only
    collateral: tuple[Collateral, ...] = attrs.field(default=(), converter=tuple, validator=check_collateral)
    #: The venue lends its settlement currency: a negative cash balance is a borrow bearing interest
    #: at this table's curve (``[settlement_lending]``, ``solvent.rules.lending.SettlementLending``;
    #: Backpack's USDC). Absent: a negative balance bears none.
    settlement_lending: SettlementLending | None = None
    #: Invariant ids the venue gives up by design (its documented trade-off, e.g. ``no-haircut``
    #: for a venue that deleverages winners). Their failures are reported, marked accepted, and do
    #: not fail ``solvent check``.
    accepts: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: ``[waterfall]``: one insurance fund for every market (``pooled``, the default) or one per
    #: market (``per_market``; ``solvent.rules.market_funds``, docs/portfolio.md decision 5)
    waterfall: WaterfallScope = attrs.field(default=POOLED, validator=attrs.validators.instance_of(WaterfallScope))
    #: ``[funding]``: the venue's cap on a funding payment's rate (``rules.settlement.FundingRule``,
    #: Hyperliquid's 4% an hour); absent: none of its own (last, so that positional constructions keep their order)
    funding: FundingRule = attrs.field(default=FundingRule(), validator=attrs.validators.instance_of(FundingRule))
    #: ``[settlement]``: a settlement-cash debt that nothing else pays, of a trader a lent
    #: asset's deposit cut sank, is taken from the settlement currency's depositors
    #: (``solvent.rules.lending.SettlementBankruptcy``: Drift's and Mango v4's USDC market); absent:
    #: it stays on the account, noted as a residual (after ``funding``, for the same reason)
    settlement: SettlementBankruptcy | None = None

    def __attrs_post_init__(self) -> None:
        self._check_fund_groups()
        self._check_fund_caps()
        self._check_deficit_split()
        self._check_settlement()
        shares = self.waterfall.fund_shares_ppm
        if shares and len(shares) != len(self.market):
            names = ", ".join(self.market_names) or "none: one market"
            raise ValueError(
                f"'waterfall' must give fund_shares_ppm one share per [[market]] table ({len(self.market)}: "
                f"{names}): {len(shares)} shares"
            )
        for i, layer in enumerate(self.deficit):
            per_fill = getattr(layer, "gap_rounding", None)
            if self.liquidation.fee_to_close and per_fill is not None and per_fill.value == "per_fill":
                raise ValueError(
                    "'gap_rounding' = 'per_fill' shares the deficit at mark over the fills and cannot "
                    "include liquidation.fee_to_close (a fee on a price per lot): per_fill "
                    f"@ deficit[{i}].gap_rounding"
                )

    def _check_fund_groups(self) -> None:
        """Under ``per_group`` every ``[[market]]`` table names its fund group (no market falls
        into a group by default: a forgotten line would merge or split funds silently); under
        another scope none does."""
        grouped = self.waterfall.grouped
        if grouped and len(self.market) < 2:
            raise ValueError(
                "'scope' = 'per_group' shares a fund between the markets of [[market]] tables naming the "
                f"same fund_group; this policy declares {len(self.market)} table(s): per_group"
            )
        for i, spec in enumerate(self.market):
            if grouped and not spec.fund_group:
                raise ValueError(
                    f"'fund_group' must name the fund market {spec.name!r} shares, as [waterfall] scope is "
                    f"'per_group' (a name, e.g. \"USDT-M\"): missing @ market[{i}].fund_group"
                )
            if spec.fund_group and not grouped:
                raise ValueError(
                    f"'fund_group' groups markets under [waterfall] scope = 'per_group'; the scope is "
                    f"'{self.waterfall.scope.value}': {spec.fund_group!r} @ market[{i}].fund_group"
                )

    def _check_settlement(self) -> None:
        """``[settlement] bankruptcy`` runs for a trader a lent asset's deposit cut sank
        (``bankruptcy.resolve_sunk``): without such a cut it would never run, so it is refused
        rather than kept as a line that does nothing."""
        if self.settlement is None:
            return
        if not cuts_deposits(self):
            raise ValueError(
                "'bankruptcy' of [settlement] takes what a trader the deposit-index cut sank still owes from "
                "the settlement currency's depositors, and no [[collateral]] table lends with 'deposit_index' "
                "in its bankruptcy: deposit_index @ settlement.bankruptcy"
            )

    def _check_fund_caps(self) -> None:
        """A market's ``fund_cap_quote`` caps what the insurance fund pays there: the policy's
        waterfall must have an insurance fund."""
        if any(layer.kind == "insurance_fund" for layer in self.deficit):
            return
        for i, spec in enumerate(self.market):
            if spec.fund_cap_quote is not None:
                raise ValueError(
                    f"'fund_cap_quote' caps what the insurance fund pays in market {spec.name!r}, and this "
                    f"policy's [[deficit]] has no insurance_fund layer: {spec.fund_cap_quote} @ market[{i}].fund_cap_quote"
                )

    def _check_deficit_split(self) -> None:
        """``deficit_split = "maintenance_share"`` is built for the waterfall dYdX v4 runs it with
        (docs/portfolio.md decision 5c): one fund for every market, an insurance fund and ADL only,
        fills at the oracle price, no collateral assets. Anything else is refused by name rather
        than run on rules that were not written for it."""
        if not self.waterfall.by_maintenance:
            return
        why = []
        if self.waterfall.per_market:
            why.append(f"a pooled waterfall (scope is '{self.waterfall.scope.value}')")
        kinds = [layer.kind for layer in self.deficit]
        if not set(kinds) <= {"insurance_fund", "adl"}:
            why.append(f"layers insurance_fund and adl only (the waterfall has {', '.join(kinds)})")
        adl = self.adl
        if adl is not None and (
            adl.fund_drawdown is not None
            or adl.price.value != "bankruptcy"
            or adl.max_deleveraged_per_event is not None
        ):
            why.append("an ADL at the bankruptcy price without fund_drawdown or max_deleveraged_per_event")
        rule = self.liquidation
        if rule.slippage_ppm or rule.execution.value != "market" or rule.takeover_below_ppm is not None:
            why.append("liquidation at the mark (execution = 'market', slippage_ppm = 0, no takeover)")
        if rule.fee_to_close:
            why.append("no fee_to_close")
        if self.collateral or self.settlement_lending is not None or self.margin.spot_collateral:
            why.append("no collateral assets, spot collateral or settlement lending")
        if why:
            raise ValueError(
                "'waterfall' deficit_split = 'maintenance_share' is built for dYdX v4's waterfall and needs "
                + "; ".join(why)
                + ": maintenance_share"
            )

    def fund_of(self, index: int) -> int:
        """The market whose fund balance pays market ``index``'s deficits, by the book's order:
        under ``per_group`` the first market of its ``fund_group`` (a group's one fund is kept in
        that market's balance, ``rules.market_funds.focused_on``), else the market itself."""
        if not self.waterfall.grouped:
            return index
        group = self.market[index].fund_group
        return next(i for i, spec in enumerate(self.market) if spec.fund_group == group)

    def waterfall_summary(self) -> str:
        """The deficit waterfall in a few words, with the triggers that change when layers run:
        ``insurance_fund → adl (also on fund drawdown)``, plus a PnL-to-pool ADL when present."""
        parts = []
        for layer in self.deficit:
            notes = []
            if getattr(layer, "fund_drawdown", None) is not None:
                notes.append("also on fund drawdown")
            if getattr(layer, "book_last", True) is False:
                notes.append("book exempt")
            if getattr(layer, "all_or_nothing", False):
                notes.append("all or nothing")
            if getattr(getattr(layer, "over", None), "value", None) == "opposing_side":
                notes.append("the opposing side per lot, its positions shrink")
            if getattr(layer, "liquidator_pays", False):
                notes.append("liquidator's lots count")
            if getattr(layer, "cascade", False):
                notes.append("a payer sunk below zero is resolved in turn")
            if getattr(layer, "losses_settle_capital", False):
                notes.append("losses settle into capital")
            if getattr(layer, "warmup_events", None) is not None:
                notes.append(f"profit warms up over {layer.warmup_events} events")
            if getattr(layer, "matured_only", False):
                notes.append("matured profit only")
            if getattr(getattr(layer, "release", None), "value", None) == "linear":
                notes.append("released linearly")
            if getattr(layer, "max_deleveraged_per_event", None) is not None:
                notes.append(f"at most {layer.max_deleveraged_per_event} accounts an event")
            parts.append(layer.kind + (f" ({', '.join(notes)})" if notes else ""))
        text = " → ".join(parts) or "(none)"
        if self.waterfall.grouped:
            groups = len({spec.fund_group for spec in self.market})
            text += f"; a fund per group of markets ({groups} for {len(self.market)} markets)"
        elif self.waterfall.per_market and len(self.market) > 1:
            text += "; a fund per market"
        pool = self.pnl_to_pool_adl
        if pool is not None:
            text += f"; ADL when PnL > {_percent(pool.max_factor_ppm)} of the pool (to {_percent(pool.min_factor_ppm)})"
        return text

    @property
    def market_names(self) -> tuple[str, ...]:
        """The names of the markets the policy declares, in order; empty for a one-market policy."""
        return tuple(spec.name for spec in self.market)

    def modes_in(self, market: str) -> tuple[str, ...]:
        """The margin modes a position in the market named ``market`` may take: its table's
        ``modes``, else ``[margin].modes``, else (not declared) cross and isolated."""
        for spec in self.market:
            if spec.name == market and spec.modes:
                return spec.modes
        return self.margin.modes or MODES

    def fund_cap_in(self, market: str) -> int | None:
        """The most the insurance fund pays toward the bankruptcies of the market named ``market``
        in total, since the market opened: its table's ``fund_cap_quote`` (Drift's
        ``quote_max_insurance``; docs/portfolio.md decisions 5d, 5e; ``rules.insurance_claim``);
        None where the table sets none."""
        for spec in self.market:
            if spec.name == market:
                return spec.fund_cap_quote
        return None

    @property
    def fund_capped_markets(self) -> frozenset[str]:
        """The markets whose tables cap the fund's total payments (``fund_cap_quote``): the book
        keeps a running total on each (``Market.fund_settled_quote``)."""
        return frozenset(spec.name for spec in self.market if spec.fund_cap_quote is not None)

    def margin_removable_in(self, market: str) -> bool:
        """Whether margin may leave an open isolated position in the market named ``market``: its
        table's ``margin_removable`` (true without a table)."""
        return all(spec.margin_removable for spec in self.market if spec.name == market)

    @property
    def declares_modes(self) -> bool:
        """Whether the policy states which margin modes it allows (``[margin].modes`` or a market's
        ``modes``): ``solvent check`` then draws isolated positions and judges
        ``isolated-loss-contained`` where isolated margin is allowed."""
        return bool(self.margin.modes) or any(spec.modes for spec in self.market)

    def isolated_markets(self, names: tuple[str, ...]) -> tuple[int, ...]:
        """Which of the markets ``names`` (a book's, in order) allow isolated margin, where the
        policy declares its modes (:attr:`declares_modes`); none where it does not, so that a
        policy written before modes draws and reports as it did."""
        if not self.declares_modes:
            return ()
        return tuple(i for i, name in enumerate(names) if "isolated" in self.modes_in(name))

    def market_margin(self, spec: MarketSpec) -> MarginRule:
        """The margin rule of a market: ``[margin]`` with the market's own tiers, where it has them."""
        if not spec.tiers:
            return self.margin
        return attrs.evolve(self.margin, tiers=spec.tiers, risk_limit_steps=spec.risk_limit_steps)

    @property
    def more_margins(self) -> tuple[MarginRule, ...]:
        """The margin rule of each market after the first, in the book's order (what
        ``margin.account_maintenance`` is passed beside ``Book.more_markets``); empty when the
        policy declares one market, whose tiers every market of a book then shares."""
        return tuple(self.market_margin(spec) for spec in self.market[1:])

    def focused(self, index: int) -> Policy:
        """The policy as the engine reads it on a book focused on market ``index``
        (``Book.focused``): that market's margin rule in ``margin``, and its table swapped with the
        first, each further market's tiers written out. The same permutation as the book's, so
        the rules that read "the market" read market ``index``'s tiers, on z3 as on ints. A policy
        of one declared market (or none) is the same in every market."""
        if index == 0 or len(self.market) < 2:
            return self
        if index >= len(self.market):
            raise IndexError(
                f"market {index} is not one of the policy's {len(self.market)} markets {self.market_names}"
            )
        specs = [
            attrs.evolve(spec, tiers=rule.tiers, risk_limit_steps=rule.risk_limit_steps)
            for spec, rule in zip(self.market, (self.margin, *self.more_margins), strict=True)
        ]
        specs[0], specs[index] = specs[index], specs[0]
        # the first table's tiers are ``margin``'s; its lot and tick (what reports say, never
        # arithmetic) are ``units``', which the engine does not read, so they are left out
        specs[0] = attrs.evolve(specs[0], tiers=(), risk_limit_steps=False, lot="", tick="")
        return attrs.evolve(self, margin=self.market_margin(self.market[index]), market=tuple(specs))

    def layer(self, cls: type) -> Any:
        """The waterfall layer of that type, or None."""
        return next((layer for layer in self.deficit if isinstance(layer, cls)), None)

    @property
    def adl(self) -> Adl | None:
        return self.layer(Adl)

    @property
    def debt_carry(self) -> DebtCarry | None:
        return self.layer(DebtCarry)

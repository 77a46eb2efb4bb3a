"""Margin: what an account must hold to open (initial) and to keep (maintenance) a position.

Tiered maintenance is Binance's "tax bracket" (docs/venues.md#binance-margin): ``MM = N × MMR_tier − cum_tier``
with the maintenance amount ``cum_n = cum_{n−1} + floor_n × (MMR_n − MMR_{n−1})``, which keeps MM
continuous across tier boundaries. A single-tier table is the flat rate of dYdX, Drift or a broker.

Formula:
    N   = |size_lots| × mark_quote                     (notional, quote quanta)
          for maintenance under ``maintenance_basis = "entry"``: N = |cost_quote|, the position's
          value at its entry prices (Bybit, docs/venues.md#bybit-liquidation)
    IM  = N × IMR_tier        rounded by ``rounding.margin``
    MM  = N × MMR_tier − cum_tier, rounded by ``rounding.margin``, floored at 0
          (``venue_formulas.tiered_maintenance_margin``; cum checked by ``maintenance_amount``)
          under ``risk_limit_steps`` (BitMEX, docs/venues.md#bitmex-margin) every cum is 0: the
          tier's rates apply to the whole position, and MM jumps at each floor by design
    E   = cash (+ spot when the policy counts spot as collateral and the account is cross)
Glossary: IMR/MMR initial/maintenance rate (ppm), cum maintenance amount (quote quanta).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import attrs

from solvent.rules.arith import PPM, abs_, and_, ite, max_, mul_ppm, sum_
from solvent.rules.book import Account, MarginMode, Market
from solvent.rules.fields import ppm_field, quote_field
from solvent.rules.rounding import RoundingRule
from solvent.rules.venue_formulas import maintenance_amount, tiered_maintenance_margin


@attrs.frozen
class Tier:
    """One notional bracket: from ``floor_notional_quote`` up to the next tier's floor."""

    floor_notional_quote: int = quote_field()
    initial_ppm: int = ppm_field(min_value=1)
    maintenance_ppm: int = ppm_field()
    maintenance_amount_quote: int = quote_field(default=0)

    def __attrs_post_init__(self) -> None:
        if self.maintenance_ppm > self.initial_ppm:
            raise ValueError(f"'maintenance_ppm' must be <= initial_ppm ({self.initial_ppm}): {self.maintenance_ppm}")


def _micro(amount_micro: int) -> str:
    """An exact decimal of a value given in millionths (no float on the way)."""
    sign = "-" if amount_micro < 0 else ""
    whole, frac = divmod(abs(amount_micro), PPM)
    return f"{sign}{whole}.{frac:06d}"


def _check_tiers(inst: Any, _attribute: Any, tiers: tuple[Tier, ...]) -> None:
    if not tiers:
        raise ValueError("'tiers' must hold at least one tier")
    if tiers[0].floor_notional_quote != 0:
        raise ValueError(
            f"'floor_notional_quote' of the first tier must be 0: {tiers[0].floor_notional_quote} @ tiers[0].floor_notional_quote"
        )
    for i, (lower, upper) in enumerate(zip(tiers, tiers[1:], strict=False), start=1):
        if upper.floor_notional_quote <= lower.floor_notional_quote:
            raise ValueError(
                f"'floor_notional_quote' must be > {lower.floor_notional_quote} (tiers[{i - 1}]): "
                f"{upper.floor_notional_quote} @ tiers[{i}].floor_notional_quote"
            )
        if inst.risk_limit_steps:
            continue  # a declared step: the rates apply to the whole position, no amount (checked below)
        expected = maintenance_amount(
            lower.maintenance_amount_quote, upper.floor_notional_quote, lower.maintenance_ppm, upper.maintenance_ppm
        )
        if expected.denominator != 1 or upper.maintenance_amount_quote != expected:
            whole = expected.denominator == 1
            want = f"{expected}" if whole else f"{_micro(int(expected * PPM))} (not a whole quantum)"
            raise ValueError(
                f"'maintenance_amount_quote' must be {want} to keep maintenance continuous at "
                f"{upper.floor_notional_quote}: {upper.maintenance_amount_quote} @ tiers[{i}].maintenance_amount_quote"
            )


def _check_steps(inst: Any, _attribute: Any, steps: bool) -> None:
    """Risk-limit steps apply each step's rates to the whole position: no maintenance amount."""
    attrs.validators.instance_of(bool)(inst, _attribute, steps)
    if not steps:
        return
    for i, tier in enumerate(inst.tiers):
        if tier.maintenance_amount_quote != 0:
            raise ValueError(
                f"'maintenance_amount_quote' must be 0 when risk_limit_steps = true (a risk-limit step "
                f"applies its rates to the whole position): {tier.maintenance_amount_quote} "
                f"@ tiers[{i}].maintenance_amount_quote"
            )


#: The checks a tier table passes wherever it is written (``[margin]``, a ``[[market]]`` table)
check_tiers, check_steps = _check_tiers, _check_steps


class MaintenanceBasis(enum.Enum):
    """The position value maintenance margin is taken on (its tier chosen by the same value).

    ``mark``: |size| × mark, the value now (Binance, OKX, dYdX, Hyperliquid: every margin ratio at
    the mark or oracle). ``entry``: the value at the position's entry prices, the cost basis
    |Σ lots × entry price|, which does not move with the mark (Bybit's liquidation price,
    docs/venues.md#bybit-liquidation: "Position Value = Contract Size × Entry Price",
    "MM = (Position Value × MMR) − MM Deduction", Example 1: 1 BTC at 20,000 at 50x, MMR 0.5% →
    MM 100, LP 19,700). On a linear contract the two differ by MMR × the move: at entry a long's
    maintenance does not fall as the price falls, so it is liquidated a little earlier."""

    MARK = "mark"
    ENTRY = "entry"


#: the margin modes a venue may offer for a position (``MarginRule.modes``, ``MarketSpec.modes``)
MODES = ("cross", "isolated")


def check_modes(_inst: Any, attribute: Any, modes: tuple[str, ...]) -> None:
    """Each mode once, each one of :data:`MODES`; empty: not declared (both allowed)."""
    for mode in modes:
        if mode not in MODES:
            raise ValueError(f"'{attribute.name}' must hold 'cross' and/or 'isolated': {mode!r}")
    if len(set(modes)) != len(modes):
        raise ValueError(f"'{attribute.name}' must name each mode once: {list(modes)}")


@attrs.frozen
class MarginRule:
    """Initial and maintenance requirements, and what counts as collateral."""

    tiers: tuple[Tier, ...] = attrs.field(converter=tuple, validator=_check_tiers)
    spot_collateral: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    #: The position value maintenance is taken on: ``mark`` (the default) or ``entry`` (Bybit)
    maintenance_basis: MaintenanceBasis = attrs.field(
        default=MaintenanceBasis.MARK, validator=attrs.validators.instance_of(MaintenanceBasis)
    )
    #: What the tiers are. ``false`` (the default): notional brackets, Binance's "tax bracket": a
    #: tier's rate applies above its floor only, and each tier's ``maintenance_amount_quote`` must
    #: keep maintenance continuous at its floor (an amount that does not is an error, never a
    #: silent jump). ``true``: risk-limit steps, a declared step function: once the position's
    #: value reaches a tier's floor, that tier's initial and maintenance rates apply to the *whole*
    #: position, so maintenance jumps at each floor, and every ``maintenance_amount_quote`` is 0.
    #: BitMEX (docs/venues.md#bitmex-margin, bitmex.com/app/riskLimitsExamples): "At each step,
    #: the maintenance and initial margin are raised by the base maintenance margin"; XBTUSD
    #: "< 200 XBT 0.50% / 1.00%, < 350 XBT 1.00% / 1.50%", and its trade example: a position of
    #: 180 XBT needs 0.50% (0.90 XBT), raised to 230 XBT it is one step above the base risk limit
    #: and needs 1.00% and 1.50% of the whole position.
    risk_limit_steps: bool = attrs.field(default=False, validator=_check_steps)
    #: The margin modes a position may take in every market (docs/portfolio.md, decision 3a):
    #: ``["cross", "isolated"]`` as Binance, Bybit and OKX offer per symbol; ``["cross"]`` for a
    #: venue without isolated margin; a ``[[market]]`` table's own ``modes`` overrides it (dYdX v4's
    #: isolated markets, Hyperliquid's isolated-only assets: ``["isolated"]``). Absent: not
    #: declared, both allowed, and ``solvent check`` draws no isolated position for the policy.
    modes: tuple[str, ...] = attrs.field(default=(), converter=tuple, validator=check_modes)
    #: The share of its positions' notional (at mark, every market) that an account, or an
    #: isolated position, must keep as margin after it takes margin out (a ``RemoveMargin`` or a
    #: ``Withdraw``), besides initial margin: Hyperliquid's ``transfer_margin_required =
    #: max(initial_margin_required, 0.1 * total_position_value)``, 100,000 ppm
    #: (``rules.transfer_floor``, docs/venues.md#hyperliquid-margin). Absent: 0, no floor beyond
    #: initial margin.
    transfer_floor_ppm: int = ppm_field(default=0)


def continuous_tiers(tiers: Sequence[Tier]) -> tuple[Tier, ...]:
    """The tiers with every maintenance amount derived from continuity, Binance's formula
    ``amount_k = amount_{k−1} + floor_k × (rate_k − rate_{k−1})`` from ``amount_0 = 0``
    (``venue_formulas.maintenance_amount``): what a tier table's amounts must be after a rate or a
    floor changes. An amount that is not a whole quantum is an error naming the tier (no rounding:
    a rounded amount would break the continuity the check asks for)."""
    out: list[Tier] = []
    for i, tier in enumerate(tiers):
        if not out:
            out.append(attrs.evolve(tier, maintenance_amount_quote=0))
            continue
        lower = out[-1]
        amount = maintenance_amount(
            lower.maintenance_amount_quote, tier.floor_notional_quote, lower.maintenance_ppm, tier.maintenance_ppm
        )
        if amount.denominator != 1:
            raise ValueError(
                f"'maintenance_amount_quote' would be {_micro(int(amount * PPM))}, not a whole quantum, to keep "
                f"maintenance continuous at {tier.floor_notional_quote} @ tiers[{i}].maintenance_amount_quote"
            )
        if amount < 0:
            raise ValueError(
                f"'maintenance_amount_quote' would be {amount}, below 0, to keep maintenance continuous at "
                f"{tier.floor_notional_quote} (a rate below the tier before it: {tier.maintenance_ppm} < "
                f"{lower.maintenance_ppm}) @ tiers[{i}].maintenance_amount_quote"
            )
        out.append(attrs.evolve(tier, maintenance_amount_quote=int(amount)))
    return tuple(out)


def with_rate(
    policy: Any, tier_index: int, *, maintenance_ppm: int | None = None, initial_ppm: int | None = None
) -> Any:
    """``policy`` with one tier's maintenance (and/or initial) rate changed and every maintenance
    amount recomputed (:func:`continuous_tiers`), so the new table passes the continuity check::

        wider = with_rate(load_preset("binance"), 1, maintenance_ppm=6_000)

    Under ``risk_limit_steps`` the amounts stay 0 (a step applies its rate to the whole position).
    A bad index or rate is a ``ValueError`` naming ``tiers[i]``."""
    tiers = policy.margin.tiers
    if not -len(tiers) <= tier_index < len(tiers):
        raise ValueError(f"'tier_index' must name one of the {len(tiers)} tiers: {tier_index} @ margin.tiers")
    changes = {
        name: value
        for name, value in (("maintenance_ppm", maintenance_ppm), ("initial_ppm", initial_ppm))
        if value is not None
    }
    i = tier_index % len(tiers)
    try:
        changed = attrs.evolve(tiers[i], **changes)
    except ValueError as exc:
        raise ValueError(f"{exc} @ margin.tiers[{i}]") from None
    tiers = tiers[:i] + (changed,) + tiers[i + 1 :]
    if not policy.margin.risk_limit_steps:
        tiers = continuous_tiers(tiers)
    return attrs.evolve(policy, margin=attrs.evolve(policy.margin, tiers=tiers))


def notional(size_lots: Any, mark_quote: Any) -> Any:
    """|size| × mark, in quote quanta."""
    return abs_(size_lots) * mark_quote


def _tier_field(rule: MarginRule, notional_quote: Any, name: str) -> Any:
    """The field ``name`` of the notional's tier: the last tier whose floor the notional reaches.
    Floors rise (``_check_tiers``), so a floor a concrete notional does not reach ends the walk:
    no later one is reached either (a symbolic notional is given the whole ``ite`` chain)."""
    value = getattr(rule.tiers[0], name)
    for tier in rule.tiers[1:]:
        reached = notional_quote >= tier.floor_notional_quote
        if reached is False:
            break
        value = ite(reached, getattr(tier, name), value)
    return value


def initial_margin(rule: MarginRule, rounding: RoundingRule, size_lots: Any, mark_quote: Any) -> Any:
    """IM = N × IMR_tier, rounded by ``rounding.margin``."""
    n = notional(size_lots, mark_quote)
    return mul_ppm(n, _tier_field(rule, n, "initial_ppm"), rounding=rounding.margin)


def maintenance_margin(rule: MarginRule, rounding: RoundingRule, size_lots: Any, mark_quote: Any) -> Any:
    """MM = max(N × MMR_tier − cum_tier, 0), rounded by ``rounding.margin``."""
    n = notional(size_lots, mark_quote)
    mmr = _tier_field(rule, n, "maintenance_ppm")
    return tiered_maintenance_margin(n, mmr, _tier_field(rule, n, "maintenance_amount_quote"), rounding=rounding.margin)


def maintenance_rate(rule: MarginRule, size_lots: Any, mark_quote: Any) -> Any:
    """The maintenance rate (ppm) of the tier the position's notional at mark falls in (Drift's
    ``get_margin_ratio`` of the position's size, what ``liquidation.shortage_buffer_ppm`` frees a lot at)."""
    return _tier_field(rule, notional(size_lots, mark_quote), "maintenance_ppm")


def _maintenance_of(rule: MarginRule, rounding: RoundingRule, size_lots: Any, cost_quote: Any, mark_quote: Any) -> Any:
    """One position's maintenance margin on the policy's ``maintenance_basis``."""
    if rule.maintenance_basis is MaintenanceBasis.ENTRY:
        n = abs_(cost_quote)
        mmr = _tier_field(rule, n, "maintenance_ppm")
        amount = _tier_field(rule, n, "maintenance_amount_quote")
        return tiered_maintenance_margin(n, mmr, amount, rounding=rounding.margin)
    return maintenance_margin(rule, rounding, size_lots, mark_quote)


def position_maintenance(
    rule: MarginRule, rounding: RoundingRule, size_lots: Any, cost_quote: Any, mark_quote: Any
) -> Any:
    """One position's maintenance margin on its market's rule (``rule``) and the policy's
    ``maintenance_basis``: what ``liquidation.order = "largest_maintenance_first"`` ranks by."""
    return _maintenance_of(rule, rounding, size_lots, cost_quote, mark_quote)


def _rules_of(rule: MarginRule, others: Sequence[Market], other_rules: Sequence[MarginRule]) -> Sequence[MarginRule]:
    """The margin rule of each further market: its own (``Policy.more_margins``), or, where the
    policy declares one market, the first market's for every one."""
    return other_rules if other_rules else (rule,) * len(others)


def account_maintenance(
    rule: MarginRule,
    rounding: RoundingRule,
    account: Account,
    mark_quote: Any,
    others: Sequence[Market] = (),
    other_rules: Sequence[MarginRule] = (),
) -> Any:
    """The account's maintenance margin on the policy's ``maintenance_basis``: at the mark
    (``maintenance_margin`` of its size), or on its value at entry, |cost_quote|.

    ``others``: the book's further markets (``Book.more_markets``); the account's positions in
    them add their own maintenance, each on its market's tiers (``other_rules``, the policy's
    ``more_margins``; none: ``rule``'s in every market) and mark: cross margin sums over markets
    (docs/portfolio.md, decision 3)."""
    own = _maintenance_of(rule, rounding, account.size_lots, account.cost_quote, mark_quote)
    if not others:
        return own
    return own + sum_(
        _maintenance_of(r, rounding, p.size_lots, p.cost_quote, m.mark_quote)
        for p, m, r in zip(account.more_positions, others, _rules_of(rule, others, other_rules), strict=True)
    )


def account_initial_margin(
    rule: MarginRule,
    rounding: RoundingRule,
    account: Account,
    mark_quote: Any,
    others: Sequence[Market] = (),
    other_rules: Sequence[MarginRule] = (),
) -> Any:
    """Initial margin of every position the account holds: ``initial_margin`` of its size in the
    first market at ``mark_quote``, plus each further market's position at that market's mark, on
    that market's tiers (``other_rules``, as for :func:`account_maintenance`)."""
    own = initial_margin(rule, rounding, account.size_lots, mark_quote)
    if not others:
        return own
    return own + sum_(
        initial_margin(r, rounding, p.size_lots, m.mark_quote)
        for p, m, r in zip(account.more_positions, others, _rules_of(rule, others, other_rules), strict=True)
    )


def open_lots(account: Account) -> Any:
    """Non-zero exactly when the account holds a position in some market: its size in the first
    market, or Σ |size| over every market when the book has more than one."""
    if not account.more_positions:
        return account.size_lots
    return sum_(abs_(p.size_lots) for p in account.positions)


def counts_spot(rule: MarginRule, account: Account) -> bool:
    """Whether the account's spot balance backs its margin (cross mode under a spot-collateral policy)."""
    return rule.spot_collateral and account.margin_mode is MarginMode.CROSS


def equity(rule: MarginRule, account: Account) -> Any:
    """E = cash (+ spot where spot counts as collateral). Settle-to-mark: no unsettled PnL."""
    return account.cash_quote + (account.spot_quote if counts_spot(rule, account) else 0)


def position_pnl(account: Account, mark_quote: Any) -> Any:
    """PnL since entry: size × mark − cost basis (already paid in cash by settlement)."""
    return account.size_lots * mark_quote - account.cost_quote


def profit(rule: MarginRule, account: Account) -> Any:
    """Equity above deposited principal, floored at 0: the junior claim haircuts may touch."""
    return max_(equity(rule, account) - account.principal_quote, 0)


def is_flat(account: Account) -> Any:
    """The account holds no position in any market of its book."""
    return and_(*(p.size_lots == 0 for p in account.positions))


def has_position(account: Account) -> Any:
    return account.size_lots != 0


def is_flat_and_solvent(rule: MarginRule, account: Account) -> Any:
    return and_(account.size_lots == 0, equity(rule, account) >= 0)

"""A Monte Carlo scenario: the book as distributions, a price model and the liquidation cadence.

Frozen, validated values, as the policy classes are: the validators write the messages (in the
attrs wording, ``'alpha' must be > 0: -1``) and ``solvent.simulation.loading`` adds the file, the
TOML path and the line. Distribution and model parameters are real numbers (read exactly from
TOML as ``Fraction``, turned into floats only where random draws are made); amounts that enter
the engine are integers in the policy's quanta.

TOML layout: top-level ``name`` (required), ``description``, ``seed``, ``paths``; tables
``[book]`` with ``[book.size]`` and ``[book.leverage]`` (each with ``distribution = "<kind>"``),
``[path]``, ``[prices]`` (with ``model = "<kind>"``) and ``[liquidation]``.
"""

from __future__ import annotations

import enum
import operator
import sys
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

#: the largest book and the most paths a scenario may ask for (the exact engine's reach, with room)
MAX_TRADERS = 100_000
MAX_STEPS = 1_000_000
#: a real parameter becomes a float where random draws are made: a larger one has no float
FLOAT_MAX = Fraction(sys.float_info.max)


class UnrunnableScenario(ValueError):
    """A valid scenario that cannot be run as drawn (a model that overflows, a draw too large for
    the engine, an opening the policy refuses): bad input, reported as such."""


def _is_number(value: Any) -> bool:
    """An exact finite number from TOML: an int or a Fraction (a TOML float), never a bool."""
    return type(value) in (int, Fraction)


_COMPARISONS = ((">", operator.gt), (">=", operator.ge), ("<=", operator.le), ("<", operator.lt))


def number(*, gt: Any = None, ge: Any = None, le: Any = None, lt: Any = None, default: Any = attrs.NOTHING) -> Any:
    """A real parameter within the given bounds: ``'<field>' must be <op> <bound>: <value>``."""

    def check(_inst: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is None and default is None:
            return
        if not _is_number(value):
            raise ValueError(f"'{attribute.name}' must be a finite number: {_shown(value)}")
        for (op, holds), bound in zip(_COMPARISONS, (gt, ge, le, lt), strict=True):
            if bound is not None and not holds(value, bound):
                raise ValueError(f"'{attribute.name}' must be {op} {bound}: {_show(value)}")
        if abs(value) > FLOAT_MAX:
            raise ValueError(
                f"'{attribute.name}' must be a finite number, at most {sys.float_info.max:.6g} in size "
                f"(it is drawn from as a float): {_show(value)}"
            )

    return attrs.field(default=default, validator=check)


def integer(*, ge: int = 0, le: int | None = None, default: Any = attrs.NOTHING, unit: str = "") -> Any:
    """A whole number within bounds (a TOML float such as ``10.0`` is refused, as in a policy)."""

    def check(_inst: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is None and default is None:
            return
        if type(value) is not int:
            raise ValueError(f"'{attribute.name}' must be an integer{unit}: {_shown(value)}")
        if value < ge:
            raise ValueError(f"'{attribute.name}' must be >= {ge}: {value}")
        if le is not None and value > le:
            raise ValueError(f"'{attribute.name}' must be <= {le}: {value}")

    return attrs.field(default=default, validator=check)


def _shown(value: Any) -> str:
    """A value of the wrong kind as TOML wrote it: ``2.5``, ``'three'``, ``nan``."""
    return _show(value) if isinstance(value, Fraction) else repr(value)


def _show(value: Any) -> str:
    """A parameter as the user wrote it: ``0.5`` rather than ``Fraction(1, 2)``, ``1e+30`` rather
    than thirty-one digits (and ``1.00000e+400`` for one beyond a float)."""
    if type(value) in (int, Fraction) and (Fraction(value).denominator != 1 or abs(value) >= 10**16):
        if abs(value) > FLOAT_MAX:
            return f"{Decimal(value.numerator) / Decimal(value.denominator):.6g}"
        return repr(float(value))
    return str(value)


# --- distributions -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Fixed:
    """Every draw is ``value``."""

    kind = "fixed"
    value: Any = number(gt=0)


@attrs.frozen(kw_only=True)
class Uniform:
    """Uniform on ``[low, high]``."""

    kind = "uniform"
    low: Any = number(gt=0)
    high: Any = number(gt=0)

    def __attrs_post_init__(self) -> None:
        if self.high < self.low:
            raise ValueError(f"'high' must be >= low ({_show(self.low)}): {_show(self.high)}")


@attrs.frozen(kw_only=True)
class LogNormal:
    """``median × exp(sigma × Z)``, Z standard normal: a right-skewed size with a moderate tail."""

    kind = "lognormal"
    median: Any = number(gt=0)
    sigma: Any = number(ge=0, le=10)


@attrs.frozen(kw_only=True)
class Pareto:
    """Pareto type I: ``P(X > x) = (minimum / x)^alpha`` for ``x ≥ minimum``, then capped at
    ``cap`` if given. ``alpha ≤ 2`` has infinite variance, ``alpha ≤ 1`` an infinite mean: a few
    whales hold most of the open interest."""

    kind = "pareto"
    minimum: Any = number(gt=0)
    alpha: Any = number(gt=0)
    cap: Any = number(gt=0, default=None)

    def __attrs_post_init__(self) -> None:
        if self.cap is not None and self.cap < self.minimum:
            raise ValueError(f"'cap' must be >= minimum ({_show(self.minimum)}): {_show(self.cap)}")


Distribution = Fixed | Uniform | LogNormal | Pareto
DISTRIBUTION_TYPES = (Fixed, Uniform, LogNormal, Pareto)
DISTRIBUTION_KINDS = tuple(cls.kind for cls in DISTRIBUTION_TYPES)


# --- the book ------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class BookSpec:
    """The population of a path's book, drawn afresh on every path.

    ``size`` is each trader's notional at the start price in quote quanta (the policy's settlement
    quanta); ``leverage`` is notional / collateral, capped at the policy's initial margin;
    ``long_share`` is the probability that a trader is long (0.5: no skew). Every trader trades
    with ``maker``, a trader account that holds the book's net imbalance at ``maker_leverage``.
    The insurance fund starts at ``insurance_fund_quote`` plus ``insurance_fund_ppm`` of the long
    open interest's notional (the share ``solvent thresholds`` measures); the order book's
    ``liquidity`` account, which takes liquidation fills, holds ``liquidity_ppm`` of it.
    """

    traders: int = integer(ge=1, le=MAX_TRADERS)
    size: Distribution
    leverage: Distribution
    long_share: Any = number(ge=0, le=1, default=Fraction(1, 2))
    maker_leverage: Any = number(gt=0, le=1000, default=1)
    insurance_fund_quote: int = integer(default=0)
    insurance_fund_ppm: int = integer(default=0, le=10**9)
    liquidity_ppm: int = integer(default=1_000_000, le=10**9)


# --- price models --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Gbm:
    """Geometric Brownian motion: ``dS = μ S dt + σ S dW``, annual ``drift`` μ and ``volatility`` σ."""

    kind = "gbm"
    start: int = integer(ge=1, unit=" number of quote quanta per lot")
    drift: Any = number(ge=-100, le=100, default=0)
    volatility: Any = number(ge=0, le=100)


@attrs.frozen(kw_only=True)
class Merton:
    """Merton's jump-diffusion: GBM plus jumps at ``jump_intensity`` per year, each multiplying
    the price by ``exp(J)``, ``J ~ N(jump_mean, jump_stdev²)``; the drift is compensated so the
    expected return stays ``drift``."""

    kind = "merton"
    start: int = integer(ge=1, unit=" number of quote quanta per lot")
    drift: Any = number(ge=-100, le=100, default=0)
    volatility: Any = number(ge=0, le=100)
    jump_intensity: Any = number(ge=0, le=1_000_000)
    jump_mean: Any = number(ge=-10, le=10)
    jump_stdev: Any = number(ge=0, le=10)


@attrs.frozen(kw_only=True)
class Garch:
    """GARCH(1,1) log returns per step: ``r_t = mean + ε_t``, ``ε_t = σ_t z_t``,
    ``σ_t² = omega + alpha ε_{t−1}² + beta σ_{t−1}²``, starting at the long-run variance
    ``omega / (1 − alpha − beta)``."""

    kind = "garch"
    start: int = integer(ge=1, unit=" number of quote quanta per lot")
    omega: Any = number(gt=0, le=1)
    alpha: Any = number(ge=0, lt=1)
    beta: Any = number(ge=0, lt=1)
    mean: Any = number(ge=-1, le=1, default=0)

    def __attrs_post_init__(self) -> None:
        if self.alpha + self.beta >= 1:
            raise ValueError(
                f"'beta' must be < 1 - alpha ({_show(1 - self.alpha)}) for a stationary GARCH(1,1): {_show(self.beta)}"
            )


class CandleMode(enum.Enum):
    REPLAY = "replay"
    BOOTSTRAP = "bootstrap"


@attrs.frozen(kw_only=True)
class Candles:
    """A user's CSV of candles (``time, open, high, low, close``), ``replay``ed as they are or
    moving-block ``bootstrap``ped (blocks of ``block`` consecutive candles, each candle's prices
    relative to the close before it). Prices are multiplied by ``scale`` into quote quanta per
    lot; ``file`` is relative to the scenario file."""

    kind = "candles"
    file: str = attrs.field(validator=attrs.validators.instance_of(str))
    mode: CandleMode = attrs.field(default=CandleMode.REPLAY, validator=attrs.validators.instance_of(CandleMode))
    block: int = integer(ge=1, default=1)
    scale: Any = number(gt=0, default=1)
    start: int | None = integer(ge=1, default=None, unit=" number of quote quanta per lot")


PriceModel = Gbm | Merton | Garch | Candles
MODEL_TYPES = (Gbm, Merton, Garch, Candles)
MODEL_KINDS = tuple(cls.kind for cls in MODEL_TYPES)


@attrs.frozen(kw_only=True)
class PathSpec:
    """How long a path is and how often the engine sees the price.

    ``steps`` model steps (candles) of ``step_minutes`` each; every step is split into ``cadence``
    mark events, and the engine runs its liquidation sweep at every mark event. A replayed CSV
    uses its own candles (``steps``, if given, takes the first ones).

    ``max_move_ppm`` caps how far the engine's mark moves at one mark event, as a venue's price
    band or an oracle's cap does: ``|M' − M| × 10⁶ ≤ max_move_ppm × M`` on the engine's mark (a
    lot's value: the price on a linear contract), the measure of ``solvent thresholds``' safe move.
    The capped mark chases the model's: at each event it moves toward the model's price by at most
    the cap, so a gap is spread over several events (``solvent.simulation.paths.capped``).
    """

    steps: int | None = integer(ge=1, le=MAX_STEPS, default=None)
    step_minutes: Any = number(gt=0, le=525_960, default=60)
    cadence: int = integer(ge=1, le=10_000, default=1)
    max_move_ppm: int | None = integer(ge=1, le=999_999, default=None)

    @property
    def step_years(self) -> float:
        """One model step in years (365.25 days), the unit of annual drift and volatility."""
        return float(self.step_minutes) / (365.25 * 24 * 60)


@attrs.frozen(kw_only=True)
class LiquidationSpec:
    """Overrides of the policy's liquidation for this scenario: ``slippage_ppm`` of the mark per
    lot on a market close (only for a policy whose liquidation executes at market)."""

    slippage_ppm: int | None = integer(ge=0, le=999_999, default=None)


def _quantity(_inst: Any, attribute: attrs.Attribute, value: Any) -> None:
    """``"0.01 USDT"``: a positive decimal, a space, a unit, as a policy's ``[units]`` writes it."""
    if value is None:
        return
    number, _, unit = str(value).strip().partition(" ")
    try:
        ok = isinstance(value, str) and Fraction(number) > 0 and bool(unit.strip())
    except (ValueError, ZeroDivisionError):
        ok = False
    if not ok:
        raise ValueError(
            f"'{attribute.name}' must be a quantity as a policy's [units] writes it ('0.01 USDT'): {value!r}"
        )


@attrs.frozen(kw_only=True)
class UnitsSpec:
    """The policy quanta the scenario's amounts and prices are written in, as a policy's ``[units]``
    writes them (``quote = "0.01 USDT"``, ``lot = "0.001 BTC"``). A scenario's sizes, fund and
    start price are quanta of one policy's units and mean something else under another's (crash
    day's start of 6,000 is 60,000 USDT per BTC on binance, a fraction of a cent on a policy that
    counts micro-USDC), so a policy whose ``[units]`` differ is refused. Either may be left out."""

    quote: str | None = attrs.field(default=None, validator=_quantity)
    lot: str | None = attrs.field(default=None, validator=_quantity)


@attrs.frozen(kw_only=True)
class Scenario:
    """One Monte Carlo stress scenario. ``seed`` and ``paths`` are defaults the command line may
    override; path ``i`` draws from ``SeedSequence(seed, spawn_key=(i,))`` whatever runs it."""

    name: str = attrs.field(validator=attrs.validators.instance_of(str))
    book: BookSpec
    prices: PriceModel
    path: PathSpec = PathSpec()
    liquidation: LiquidationSpec = LiquidationSpec()
    units: UnitsSpec = UnitsSpec()
    description: str = attrs.field(default="", validator=attrs.validators.instance_of(str))
    seed: int = integer(ge=0, le=2**63 - 1, default=0)
    paths: int = integer(ge=1, le=10_000_000, default=200)

    def __attrs_post_init__(self) -> None:
        model = self.prices
        replayed = isinstance(model, Candles) and model.mode is CandleMode.REPLAY
        if not replayed and self.path.steps is None:
            what = "bootstrapped" if isinstance(model, Candles) else model.kind
            raise ValueError(f"'path' must give 'steps' (a {what} path has no length of its own)")

    @property
    def mark_events(self) -> int | None:
        """Mark events per path, when the scenario alone says (a replayed CSV needs its file)."""
        return None if self.path.steps is None else self.path.steps * self.path.cadence

"""Price paths: each model at a boundary where its answer is known, candles split exactly, and
the one rounding from a float to whole quanta."""

from fractions import Fraction

import numpy as np
import pytest

from solvent.simulation.candles import Candle, CandleSeries
from solvent.simulation.prices import (
    PriceError,
    _garch_increments,
    _gbm_increments,
    _merton_increments,
    price_path,
    to_quanta,
)
from solvent.simulation.scenario import CandleMode, Candles, Garch, Gbm, Merton, PathSpec

SPEC = PathSpec(steps=200, step_minutes=60, cadence=3)


def rng(seed: int = 1) -> np.random.Generator:
    return np.random.default_rng(seed)


class TestToQuanta:
    @pytest.mark.parametrize(
        ("price", "quanta"), [(10.5, 10), (11.5, 12), (Fraction(7, 3), 2), (0.2, 1), (1e9 + 0.5, 1_000_000_000)]
    )
    def test_half_even_and_never_below_one(self, price, quanta: int) -> None:
        assert to_quanta(price) == quanta

    def test_a_runaway_model_is_refused(self) -> None:
        with pytest.raises(PriceError, match="the price model produced inf"):
            to_quanta(float("inf"))


class TestModels:
    def test_zero_volatility_stays_at_the_start(self) -> None:
        assert set(price_path(Gbm(start=10_000, volatility=0), SPEC, rng())) == {10_000}

    def test_merton_without_jumps_is_the_same_gbm_path(self) -> None:
        gbm = price_path(Gbm(start=10_000, volatility=Fraction(8, 10)), SPEC, rng(5))
        merton = Merton(start=10_000, volatility=Fraction(8, 10), jump_intensity=0, jump_mean=0, jump_stdev=0)
        assert price_path(merton, SPEC, rng(5)) == gbm

    def test_certain_jumps_move_the_price_down(self) -> None:
        """A jump of exactly −10% in log at every mark (intensity far above one per step)."""
        merton = Merton(start=10_000, volatility=0, jump_intensity=10**6, jump_mean=Fraction(-1, 10), jump_stdev=0)
        path = price_path(merton, PathSpec(steps=1, cadence=1, step_minutes=60), rng())
        assert path[0] < 10_000

    def test_gbm_steps_with_the_ito_drift_and_the_root_dt_volatility(self) -> None:
        """A million hourly log steps of μ = 50%, σ = 200% a year (seeded): their mean is
        (μ − σ²/2) dt, about 11 standard errors from μ dt (the same steps without Itô's −σ²/2),
        and their deviation σ √dt within 1% (σ dt would be a hundredth of it)."""
        dt = 1 / (365.25 * 24)
        x = _gbm_increments(Gbm(start=1, drift=Fraction(1, 2), volatility=2), dt, 1_000_000, rng(1))
        error = x.std() / 1000
        assert abs(x.mean() - (0.5 - 2.0) * dt) < 3 * error < abs(x.mean() - 0.5 * dt)
        assert abs(x.std() / (2 * dt**0.5) - 1) < 0.01

    def test_merton_jumps_are_compensated_so_the_expected_return_is_the_drift(self) -> None:
        """With 1,000 jumps a year of mean −5% in log (a crash-heavy market) and no drift, E[S'/S]
        over an hourly step is 1 within 4 standard errors of a million steps: the −λκ dt
        compensator holds the expected price (without it the mean is 0.9946, 200 errors away)."""
        dt = 1 / (365.25 * 24)
        model = Merton(
            start=1,
            volatility=Fraction(1, 5),
            jump_intensity=1000,
            jump_mean=Fraction(-1, 20),
            jump_stdev=Fraction(1, 20),
        )
        ratio = np.exp(_merton_increments(model, dt, 1_000_000, rng(2)))
        assert abs(ratio.mean() - 1) < 4 * ratio.std() / 1000

    def test_garch_has_its_long_run_variance_and_clusters(self) -> None:
        """ω = 10⁻⁵, α = 0.1, β = 0.8: over 200,000 steps the variance of returns is ω / (1 − α − β)
        = 10⁻⁴ within 5%, and a large move makes the next ones larger (squared returns correlate
        at lag 1 by 0.13; without memory, α = β = 0 at the same variance, by under 0.01)."""
        garch = Garch(start=1, omega=Fraction(1, 100_000), alpha=Fraction(1, 10), beta=Fraction(8, 10))
        r = _garch_increments(garch, 200_000, 1, rng(3))
        assert abs(r.var() / 1e-4 - 1) < 0.05
        memoryless = _garch_increments(Garch(start=1, omega=Fraction(1, 10_000), alpha=0, beta=0), 200_000, 1, rng(3))
        lag1 = [np.corrcoef(x[1:] ** 2, x[:-1] ** 2)[0, 1] for x in (r, memoryless)]
        assert lag1[0] > 0.05 and abs(lag1[1]) < 0.01

    def test_garch_without_memory_has_the_constant_variance(self) -> None:
        garch = Garch(start=1_000_000, omega=Fraction(1, 10_000), alpha=0, beta=0)
        prices = price_path(garch, PathSpec(steps=4000, cadence=1), rng(3))
        returns = np.diff(np.log(prices))
        assert abs(returns.std() - 0.01) < 0.0005

    def test_garch_cadence_splits_a_step_without_changing_its_variance(self) -> None:
        garch = Garch(start=1_000_000, omega=Fraction(1, 10_000), alpha=0, beta=0)
        prices = price_path(garch, PathSpec(steps=4000, cadence=4), rng(3))
        per_step = np.diff(np.log(prices[3::4]))
        assert len(prices) == 16_000 and abs(per_step.std() - 0.01) < 0.0005


UP = Candle(open=Fraction(100), high=Fraction(130), low=Fraction(90), close=Fraction(120))
DOWN = Candle(open=Fraction(120), high=Fraction(125), low=Fraction(60), close=Fraction(70))
SERIES = CandleSeries("c.csv", (UP, DOWN))


class TestCandles:
    @pytest.mark.parametrize(
        ("cadence", "prices"),
        [
            (1, [120, 70]),
            (2, [90, 120, 125, 70]),
            (3, [90, 130, 120, 125, 60, 70]),
            (4, [95, 90, 130, 120, 122, 125, 60, 70]),
        ],
        ids=["close", "first extreme and close", "both extremes", "interpolated"],
    )
    def test_replay_splits_each_candle_low_first_on_an_up_candle(self, cadence: int, prices: list[int]) -> None:
        model = Candles(file="c.csv")
        assert price_path(model, PathSpec(cadence=cadence), rng(), SERIES) == prices

    def test_replay_scales_exactly(self) -> None:
        model = Candles(file="c.csv", scale=Fraction(1, 10))
        assert price_path(model, PathSpec(cadence=1), rng(), SERIES) == [12, 7]

    def test_a_bootstrap_of_whole_blocks_chains_relative_moves(self) -> None:
        """One block of both candles: the file's own path, from the start given."""
        model = Candles(file="c.csv", mode=CandleMode.BOOTSTRAP, block=2, start=1000)
        assert price_path(model, PathSpec(steps=2, cadence=1), rng(), SERIES) == [1200, 700]

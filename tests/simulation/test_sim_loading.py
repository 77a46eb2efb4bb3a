"""Scenario files and CSVs of candles: what loads, and every refusal's whole message."""

from fractions import Fraction
from pathlib import Path

import pytest
from sim_base import BASE

from solvent.simulation.candles import load_candles
from solvent.simulation.loading import ScenarioError, line_of, loads_scenario
from solvent.simulation.scenario import Gbm, LogNormal, Uniform

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "simulation"


def errors(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text, source="s.toml")
    assert str(info.value).startswith("s.toml: ")
    return info.value.errors


class TestScenario:
    def test_the_base_scenario_loads_exactly(self) -> None:
        s = loads_scenario(BASE)
        assert s.book.size == LogNormal(median=1000000, sigma=Fraction(1, 2))
        assert s.book.leverage == Uniform(low=2, high=10)
        assert s.prices == Gbm(start=10000, volatility=Fraction(4, 5))
        assert (s.seed, s.paths, s.path.steps, s.path.cadence) == (11, 200, 6, 2)

    def test_a_missing_field_names_its_table_and_line(self) -> None:
        assert errors(BASE.replace("traders = 3\n", "")) == ["'traders' is required @ $.book (line 4)"]

    def test_a_wrong_type(self) -> None:
        assert errors(BASE.replace("traders = 3", 'traders = "three"')) == [
            "'traders' must be an integer: 'three' @ $.book.traders (line 5)"
        ]

    def test_a_float_count_is_refused_not_rounded(self) -> None:
        assert errors(BASE.replace("cadence = 2", "cadence = 2.5")) == [
            "'cadence' must be an integer: 2.5 @ $.path.cadence (line 21)"
        ]

    def test_nan(self) -> None:
        assert errors(BASE.replace("volatility = 0.8", "volatility = nan")) == [
            "'volatility' must be a finite number: nan @ $.prices.volatility (line 27)"
        ]

    def test_a_non_positive_start_price(self) -> None:
        assert errors(BASE.replace("start = 10000", "start = 0")) == [
            "'start' must be >= 1: 0 @ $.prices.start (line 26)"
        ]

    @pytest.mark.parametrize(
        ("old", "new", "message"),
        [
            ("high = 10", "high = 1", "'high' must be >= low (2): 1 @ $.book.leverage.high (line 17)"),
            ("sigma = 0.5", "sigma = -0.5", "'sigma' must be >= 0: -0.5 @ $.book.size.sigma (line 12)"),
            ("long_share = 0.5", "long_share = 1.5", "'long_share' must be <= 1: 1.5 @ $.book.long_share (line 6)"),
        ],
        ids=["uniform high < low", "lognormal sigma < 0", "long share > 1"],
    )
    def test_impossible_distribution_parameters(self, old: str, new: str, message: str) -> None:
        assert errors(BASE.replace(old, new)) == [message]

    def test_a_parameter_beyond_a_float_is_refused_not_a_traceback(self) -> None:
        """A size parameter is drawn from as a float: 1e400 has none (it raised OverflowError in
        the draw); a value out of bounds is shown as written, not as its 309 digits."""
        assert errors(BASE.replace("median = 1000000", "median = 1e400")) == [
            "'median' must be a finite number, at most 1.79769e+308 in size (it is drawn from as a float): "
            "1.00000e+400 @ $.book.size.median (line 11)"
        ]
        assert errors(BASE.replace("volatility = 0.8", "volatility = 1e308")) == [
            "'volatility' must be <= 100: 1e+308 @ $.prices.volatility (line 27)"
        ]

    def test_pareto_needs_a_positive_alpha(self) -> None:
        text = BASE.replace(
            'distribution = "lognormal"\nmedian = 1000000\nsigma = 0.5',
            'distribution = "pareto"\nminimum = 5\nalpha = 0',
        )
        assert errors(text) == ["'alpha' must be > 0: 0 @ $.book.size.alpha (line 12)"]

    def test_a_non_stationary_garch(self) -> None:
        text = BASE.replace(
            'model = "gbm"\nstart = 10000\nvolatility = 0.8',
            'model = "garch"\nstart = 10000\nomega = 0.00001\nalpha = 0.3\nbeta = 0.7',
        )
        assert errors(text) == [
            "'beta' must be < 1 - alpha (0.7) for a stationary GARCH(1,1): 0.7 @ $.prices.beta (line 29)"
        ]

    def test_an_unknown_model_lists_the_known_ones(self) -> None:
        assert errors(BASE.replace('model = "gbm"', 'model = "sabr"')) == [
            "'model' must be one of 'gbm', 'merton', 'garch', 'candles': 'sabr' @ $.prices.model (line 25)"
        ]

    def test_a_misspelt_kind_names_the_closest(self) -> None:
        # the policies' tagged-table reader (rules.loading.tagged_hook), shared: a [[deficit]] layer's
        # misspelt kind is told the same way
        assert errors(BASE.replace('model = "gbm"', 'model = "gmb"')) == [
            "'model' must be one of 'gbm', 'merton', 'garch', 'candles': 'gmb' (did you mean 'gbm'?)"
            " @ $.prices.model (line 25)"
        ]

    def test_a_model_path_needs_steps(self) -> None:
        assert errors(BASE.replace("steps = 6\n", "")) == [
            "'path' must give 'steps' (a gbm path has no length of its own) @ $.path (line 19)"
        ]

    def test_an_inline_table_points_at_its_line(self) -> None:
        text = BASE.replace(
            '[book.size]\ndistribution = "lognormal"\nmedian = 1000000\nsigma = 0.5\n',
            'size = { distribution = "lognormal", median = 0, sigma = 1 }\n',
        )
        assert errors(text) == ["'median' must be > 0: 0 @ $.book.size.median (line 9)"]

    def test_line_of_finds_keys_and_headers(self) -> None:
        assert line_of(BASE, "prices.volatility") == 27
        assert line_of(BASE, "book.size") == 9
        assert line_of(BASE, "nowhere") is None


CSV = "time,open,high,low,close\n1,100,110,95,105\n2,105,106,90,92\n3,92,99,91,98\n"


class TestCandles:
    def test_a_good_file_is_read_exactly(self, tmp_path) -> None:
        (tmp_path / "c.csv").write_text(CSV.replace("100,110", "100.5,110"))
        series = load_candles(tmp_path / "c.csv")
        assert len(series.candles) == 3
        assert series.candles[0].open == Fraction(201, 2)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (
                "time,open,high,close\n1,1,1,1\n",
                "c.csv:1: missing column(s) 'low': ['time', 'open', 'high', 'close'] (expected a header row naming time, open, high, low, close)",
            ),
            (
                CSV.replace("\n3,", "\n1,"),
                "c.csv:4: 'time' must be later than line 3's (2): 1 (candles in increasing time order)",
            ),
            (CSV.replace("3,92,99,91,98", "3,92,99,0,98"), "c.csv:4: 'low' must be a finite number > 0: '0'"),
            (CSV.replace("3,92,99,91,98", "3,nan,99,91,98"), "c.csv:4: 'open' must be a finite number > 0: 'nan'"),
            (
                CSV.replace("3,92,99,91,98", "3,92,90,91,98"),
                "c.csv:4: prices must satisfy low <= open, close <= high: open 92, high 90, low 91, close 98",
            ),
            (CSV.replace("3,92", "x,92"), "c.csv:4: 'time' must be a number or an ISO 8601 timestamp: 'x'"),
        ],
        ids=["missing column", "non-monotone time", "zero price", "nan", "high below close", "bad time"],
    )
    def test_bad_rows_name_the_line(self, tmp_path, text: str, message: str) -> None:
        path = tmp_path / "c.csv"
        path.write_text(text)
        with pytest.raises(ScenarioError) as info:
            load_candles(path)
        assert [e.replace(str(tmp_path) + "/", "") for e in info.value.errors] == [message]

    def test_iso_timestamps(self, tmp_path) -> None:
        (tmp_path / "c.csv").write_text(
            "Time,Open,High,Low,Close,Volume\n2024-01-01T00:00:00Z,1,2,1,2,9\n2024-01-01T01:00:00Z,2,2,1,1,9\n"
        )
        assert len(load_candles(tmp_path / "c.csv").candles) == 2


class TestExamples:
    @pytest.mark.parametrize("name", ["crash-day.toml", "candles-bootstrap.toml"])
    def test_the_bundled_scenarios_load_and_run(self, name: str) -> None:
        from solvent.rules.presets import load_preset
        from solvent.simulation.run import prepare, simulate

        prepared = prepare(load_preset("binance"), EXAMPLES / name)
        assert prepared.scenario.name == name.removesuffix(".toml")
        result = simulate(prepared, paths=1, seed=prepared.scenario.seed)
        assert result.outcomes[0].mark_events == prepared.scenario.path.steps * prepared.scenario.path.cadence

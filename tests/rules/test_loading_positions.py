"""Every loading error names the field's path, where it is written (file:line:column, from a TOML
parser), what was expected, the closest allowed key or value, and floats as the user wrote them."""

from __future__ import annotations

import re

import pytest

from solvent.rules.loading import PolicyError, load_policy, loads_policy

MINIMAL = """\
name = "minimal"

[[margin.tiers]]
floor_notional_quote = 0
initial_ppm = 100000
maintenance_ppm = 50000
"""

PLACED = re.compile(r"^.* @ \$(?:\.[A-Za-z0-9_]+|\[\d+\])* \(policy\.toml:(\d+):(\d+)\)$")


def errors(text: str) -> list[str]:
    with pytest.raises(PolicyError) as info:
        loads_policy(text, source="policy.toml")
    return info.value.errors


def only(text: str) -> str:
    (error,) = errors(text)
    return error


class TestEveryErrorIsPlaced:
    """Each kind of problem, in every table, ends with ``@ $.path (policy.toml:L:C)``, and the line
    and column are those of the offending key or value."""

    CASES = [
        # (text, the offending text the position must point at)
        (MINIMAL + "[fees]\ntaker_ppm = 2000000\n", "2000000"),
        (MINIMAL + "[liquidation]\nexecution = 'auction'\n", "'auction'"),
        (MINIMAL + "[liquidation]\nexecuton = 'market'\n", "executon"),
        (MINIMAL + "[[deficit]]\nlayer = 'adl'\nrankng = 'order'\n", "rankng"),
        (MINIMAL + "[[deficit]]\nlayer = 'bailout'\n", "'bailout'"),
        (MINIMAL + "[[deficit]]\nlayer = 'insurance_fund'\ncap_quote = 0\n", "0"),
        (MINIMAL + "[rounding]\nfee = 'up'\n", "'up'"),
        (MINIMAL + "[units]\nquote = 1\n", "1"),
        (MINIMAL + "[contract]\nkind = 'quanto'\n", "'quanto'"),
        (MINIMAL + "[pnl_to_pool_adl]\nmax_factor_ppm = -1\nmin_factor_ppm = 0\n", "-1"),
        (MINIMAL + "[[deficit]]\nlayer = 'adl'\nfund_drawdown = { drawdown_ppm = 0, window_events = 5 }\n", "0"),
        (MINIMAL.replace("initial_ppm = 100000", "initial_ppm = 0.25"), "0.25"),
        ('nmae = "x"\n' + MINIMAL, "nmae"),
        (MINIMAL + 'margin.spot_collateral = "yes"\n'.replace("margin.", "[margin]\n"), '"yes"'),
    ]

    @pytest.mark.parametrize(("text", "at"), CASES)
    def test_points_at_the_offending_text(self, text: str, at: str) -> None:
        (error,) = errors(text)
        match = PLACED.match(error)
        assert match, error
        line, column = int(match[1]), int(match[2])
        assert text.split("\n")[line - 1][column - 1 :].startswith(at), error

    def test_a_missing_key_points_at_its_table_and_says_what_it_expects(self) -> None:
        text = MINIMAL + "\n[pnl_to_pool_adl]\nmin_factor_ppm = 1\n"
        assert only(text) == (
            "'max_factor_ppm' is required (an integer number of ppm from 1 to 1000000) "
            "@ $.pnl_to_pool_adl (policy.toml:8:1)"
        )

    def test_a_value_inside_a_multiline_string_is_not_mistaken_for_a_key(self) -> None:
        text = MINIMAL.replace('name = "minimal"', 'name = "minimal"\ndescription = """\n[fees]\ntaker_ppm = 1\n"""')
        text += "[fees]\ntaker_ppm = -1\n"
        assert only(text) == "'taker_ppm' must be >= 0: -1 @ $.fees.taker_ppm (policy.toml:12:13)"

    def test_columns_count_characters(self, tmp_path) -> None:
        path = tmp_path / "é.toml"
        path.write_text('name = "€"\nunits = { quote = "€€", lot = 5 }\n' + MINIMAL.split("\n", 1)[1], encoding="utf-8")
        with pytest.raises(PolicyError) as info:
            load_policy(path)
        assert info.value.errors == [f"'lot' must be a string: 5 @ $.units.lot ({path}:2:31)"]


class TestDidYouMean:
    """A misspelt key at every table level, a misspelt enum value or layer kind: the closest one."""

    @pytest.mark.parametrize(
        ("text", "hint"),
        [
            ('nam = "x"\n' + MINIMAL, "'name'"),
            (MINIMAL + "[margin]\nspot_colateral = true\n", "'spot_collateral'"),
            (MINIMAL.replace("initial_ppm", "inital_ppm"), "'initial_ppm'"),
            (MINIMAL + "[liquidation]\npenalty_pm = 1\n", "'penalty_ppm'"),
            (MINIMAL + "[fees]\ntaker_pm = 1\n", "'taker_ppm'"),
            (MINIMAL + "[[deficit]]\nlayer = 'clawback'\nwindow_event = 1\n", "'window_events'"),
            (
                MINIMAL + "[[deficit]]\nlayer = 'adl'\n[deficit.fund_drawdown]\ndrawdown_pm = 1\nwindow_events = 1\n",
                "'drawdown_ppm'",
            ),
            (MINIMAL + "[rounding]\nfunding_ = 'ceil'\n", "'funding'"),
            (MINIMAL + "[units]\nquotes = 'x'\n", "'quote'"),
            (MINIMAL + "[contract]\nkinds = 'linear'\n", "'kind'"),
            (MINIMAL + "[pnl_to_pool_adl]\nmax_factor_pm = 1\nmin_factor_ppm = 0\n", "'max_factor_ppm'"),
            (MINIMAL + "[liquidation]\nexecution = 'markt'\n", "'market'"),
            (MINIMAL + "[[deficit]]\nlayer = 'insurance_fnd'\n", "'insurance_fund'"),
        ],
    )
    def test_the_closest_is_named(self, text: str, hint: str) -> None:
        assert any(f"(did you mean {hint}?)" in e for e in errors(text)), errors(text)

    def test_nothing_close_no_suggestion(self) -> None:
        assert "did you mean" not in only(MINIMAL + "[fees]\nzzz = 1\n")


class TestFloatsAsWritten:
    """A TOML float is read exactly (a Fraction) and shown as the user wrote it."""

    @pytest.mark.parametrize("literal", ["0.1", "1e5", "-2.50", "+1_000.5", "5E-1"])
    def test_in_a_field(self, literal: str) -> None:
        error = only(MINIMAL.replace("initial_ppm = 100000", f"initial_ppm = {literal}"))
        assert f": {literal} @ $.margin.tiers[0].initial_ppm" in error and "Fraction" not in error

    def test_inside_an_array_and_a_table(self) -> None:
        assert only('sources = ["a", 0.1]\n' + MINIMAL).startswith("value must be a string: 0.1 @ $.sources[1]")
        error = only("deficit = { layer = 0.25 }\n" + MINIMAL)
        assert error.startswith("'deficit' must be an array of tables: {'layer': 0.25} @ $.deficit")

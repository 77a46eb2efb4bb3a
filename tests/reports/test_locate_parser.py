"""Locating rules with a TOML parser: text that looks like TOML inside a string is not TOML.

The old line finder scanned text for ``[[deficit]]`` headers, so a multi-line description holding
``[[deficit]]`` shifted every layer index and SARIF pointed at the wrong layer. These tests pin the
parser's positions at the boundaries: a header, a key and an ``accepts`` entry written inside
strings, dotted and quoted keys, inline tables, nested arrays of tables, non-ASCII columns.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from golden_support import ROOT, V2, check

from solvent.reports import sarif
from solvent.rules.toml_source import Position, SourceMap, format_path, parse_path
from solvent.verdicts.locate import key_lines

#: A description that holds a table-array header, a key line and an ``accepts`` line.
TRAP = '''description = """
A waterfall in two layers. An old draft read:

[[deficit]]
layer = "adl"
accepts = ["no-haircut"]
"""
'''


def _trapped(text: str) -> str:
    """``text`` with its one-line description replaced by the trap (before its real ``accepts``)."""
    lines = text.split("\n")
    (at,) = [i for i, line in enumerate(lines) if line.startswith("description = ")]
    lines[at] = TRAP.rstrip("\n")
    return "\n".join(lines)


class TestKeyLines:
    def test_a_header_inside_a_multiline_string_is_text(self) -> None:
        text = 'name = "x"\n' + TRAP + '\n[[deficit]]\nlayer = "insurance_fund"\n\n[[deficit]]\nlayer = "adl"\n'
        lines = key_lines(text)
        assert lines["description"] == 2
        assert lines["deficit[0]"] == 10 and lines["deficit[0].layer"] == 11
        assert lines["deficit[1]"] == 13 and lines["deficit[1].layer"] == 14
        assert "deficit[2]" not in lines and "accepts" not in lines

    def test_literal_strings_arrays_and_comments(self) -> None:
        text = "name = 'a = b'\nsources = [\n  '''[c]''',  # [[deficit]]\n  \"d\",\n]\n[liquidation] # [x]\ntrigger = \"t\"\n"
        lines = key_lines(text)
        assert lines == {
            "name": 1,
            "sources": 2,
            "sources[0]": 3,
            "sources[1]": 4,
            "liquidation": 6,
            "liquidation.trigger": 7,
        }


class TestSourceMap:
    def test_dotted_quoted_and_inline_keys(self) -> None:
        source = SourceMap('margin.spot_collateral = true\n"fees" = { taker_ppm = 5, "maker_ppm" = 2 }\n')
        assert source.find(("margin", "spot_collateral")).key == Position(1, 1)
        assert source.find(("margin", "spot_collateral")).value == Position(1, 26)
        assert source.find(("fees", "taker_ppm")).value == Position(2, 24)
        assert source.find(("fees", "maker_ppm")).key == Position(2, 27)

    def test_nested_arrays_of_tables_index_within_their_parent(self) -> None:
        text = "[[a]]\nx = 1\n[[a.b]]\ny = 1\n[[a]]\n[[a.b]]\ny = 2\n[[a.b]]\ny = 3\n[a.c]\nz = 1\n"
        source = SourceMap(text)
        assert source.find(("a", 0, "b", 0, "y")).key.line == 4
        assert source.find(("a", 1, "b", 0, "y")).key.line == 7
        assert source.find(("a", 1, "b", 1, "y")).key.line == 9
        assert source.find(("a", 1, "c", "z")).key.line == 11
        assert source.find(("a", 2)) is None

    def test_columns_count_characters_not_bytes(self) -> None:
        source = SourceMap('name = "é€𝄞"; x = 1\n'.replace(";", "\n#"))
        assert source.find(("name",)).value == Position(1, 8)
        text = 'units = { quote = "€", lot = "𝄞" }\n'
        assert SourceMap(text).find(("units", "lot")).key == Position(1, 24)

    def test_nearest_falls_back_to_the_enclosing_table(self) -> None:
        source = SourceMap('[liquidation]\ntrigger = "x"\n')
        assert source.nearest(("liquidation", "penalty_ppm")) == (("liquidation",), source.find(("liquidation",)))
        assert source.nearest(("fees", "taker_ppm")) is None

    @pytest.mark.parametrize("path", [(), ("name",), ("deficit", 2, "cap_quote"), ("a", 0, 1, "b")])
    def test_paths_round_trip(self, path: tuple) -> None:
        assert parse_path(format_path(path)) == path
        assert parse_path(format_path(path, root="")) == path


class TestSarifOnTheRightLayer:
    """The regression: a description holding ``[[deficit]]`` does not move a finding's line."""

    @pytest.fixture(scope="class")
    def trapped(self, tmp_path_factory: pytest.TempPathFactory) -> Path:
        path = tmp_path_factory.mktemp("trap") / "venue-v2.toml"
        path.write_text(_trapped((ROOT / V2).read_text(encoding="utf-8")), encoding="utf-8")
        return path

    def test_finding_points_at_the_layer_that_took_profit(self, trapped: Path) -> None:
        report = check(str(trapped))
        (result,) = [
            x for x in sarif.sarif_data([report])["runs"][0]["results"] if x["ruleId"] == "flat-accounts-never-pay"
        ]
        lines = trapped.read_text(encoding="utf-8").splitlines()
        line = result["locations"][0]["physicalLocation"]["region"]["startLine"]
        assert lines[line - 1] == 'layer = "socialized_loss"'
        assert line > lines.index('"""', 2) + 1  # after the description, not the trap's 'layer = "adl"'

    def test_accepted_failure_is_suppressed_at_the_real_accepts_line(self, trapped: Path) -> None:
        report = check(str(trapped))
        (result,) = [x for x in sarif.sarif_data([report])["runs"][0]["results"] if x["ruleId"] == "no-haircut"]
        region = result["suppressions"][0]["location"]["physicalLocation"]["region"]
        lines = trapped.read_text(encoding="utf-8").splitlines()
        assert lines[region["startLine"] - 1].startswith('accepts = ["no-haircut"]  #')

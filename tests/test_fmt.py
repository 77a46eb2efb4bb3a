"""``solvent fmt``: the canonical form of a policy TOML file (issue 16).

Every bundled preset and example is already canonical; formatting is idempotent, keeps every
comment and reads back as the same data; ``--check`` writes nothing and exits 1 with a diff; a
bad file is exit 2 naming its line and column, and leaves every file as it was."""

from __future__ import annotations

import json
import os
import random
import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from solvent.cli import main
from solvent.policy_format import ORDER, FormatError, canonical

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted((ROOT / "rules" / "presets").glob("*.toml")) + sorted((ROOT / "examples").rglob("*.toml"))
IDS = [str(p.relative_to(ROOT)) for p in BUNDLED]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def _comments(text: str) -> list[str]:
    """Every comment as written (outside strings: the files here put no # in a string before one)."""
    return sorted(m[0].rstrip() for m in re.finditer(r"#.*", text))


def _respaced(text: str, rng: random.Random) -> str:
    """``text`` with its spacing spoiled, and nothing else: spaces around ``=`` and before a
    comment, spaces at the ends of lines, blank lines doubled."""
    out = []
    for line in text.split("\n"):
        if re.match(r"^[A-Za-z_][\w.\-]* = ", line):
            key, _, rest = line.partition(" = ")
            line = key + rng.choice(["=", "  =  ", " =", "= "]) + rest
            line = line.replace("  # ", rng.choice([" # ", "    # ", "\t# "]), 1)
        out.append(line + rng.choice(["", " ", "  "]))
        if line == "" and rng.random() < 0.5:
            out.append("")
    return "\n".join(out)


def _shuffled(text: str, rng: random.Random) -> str:
    """``text`` with the key lines of each table in another order (the comment lines above each
    key and a multi-line value move with it) and the root's tables in another order."""
    blocks: list[list[str]] = [[]]  # a header (or the root) and its lines
    for line in text.split("\n"):
        if line.startswith("["):
            blocks.append([])
        blocks[-1].append(line)
    root, tables = blocks[0], blocks[1:]
    # move whole groups of tables (a header and the tables under it up to the next group)
    groups: list[list[list[str]]] = []
    for block in tables:
        first = re.match(r"^\[+\s*([\w\-]+)", block[0])[1]
        if groups and re.match(r"^\[+\s*([\w\-]+)", groups[-1][0][0])[1] == first:
            groups[-1].append(block)
        else:
            groups.append([block])
    rng.shuffle(groups)
    out = list(root)
    for group in groups:
        for block in group:
            out += _keys_shuffled(block, rng)
    return "\n".join(out)


def _keys_shuffled(block: list[str], rng: random.Random) -> list[str]:
    header = [block[0]] if block and block[0].startswith("[") else []
    body = block[len(header) :]
    items: list[list[str]] = []
    pending: list[str] = []
    for line in body:
        if re.match(r"^[A-Za-z_][\w.\-]*\s*=", line) and not (items and _open(items[-1])):
            items.append(pending + [line])
            pending = []
        elif items and _open(items[-1]):
            items[-1].append(line)
        else:
            pending.append(line)
    if len(items) < 2 or any('"""' in "".join(i) for i in items):
        return block
    tail = pending
    rng.shuffle(items)
    return header + [line for item in items for line in item] + tail


def _open(lines: list[str]) -> bool:
    """Whether a multi-line array is still open after these lines."""
    text = "\n".join(re.sub(r"#.*|\"[^\"]*\"", "", line) for line in lines)
    return text.count("[") > text.count("]")


@pytest.mark.parametrize("path", BUNDLED, ids=IDS)
def test_every_bundled_policy_is_canonical(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert canonical(text, str(path)) == text


@pytest.mark.parametrize("path", BUNDLED, ids=IDS)
def test_spoilt_spacing_formats_back_to_the_file(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    spoilt = _respaced(text, random.Random(path.name))
    assert spoilt != text
    assert canonical(spoilt, str(path)) == text


@pytest.mark.parametrize("path", BUNDLED, ids=IDS)
def test_reordered_keys_and_tables_format_to_the_same_data_idempotently(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for seed in range(3):
        rng = random.Random(f"{path.name}{seed}")
        messy = _respaced(_shuffled(text, rng), rng)
        assert tomllib.loads(messy) == tomllib.loads(text)  # the test's own shuffle kept the meaning
        once = canonical(messy, str(path))
        assert canonical(once, str(path)) == once
        assert tomllib.loads(once) == tomllib.loads(text)
        assert _comments(once) == _comments(text)
        # the keys of every table in the canonical order, whatever the shuffle did
        assert [k for k in tomllib.loads(once)] == [k for k in _canonical_keys(tomllib.loads(once))]


def _canonical_keys(data: dict) -> list[str]:
    """The top level's keys in the writer's order, plain values before tables (as TOML must have
    them: a scenario's ``seed`` and ``paths`` come before its ``[units]`` table)."""
    order = ORDER[()]

    def is_table(value: object) -> bool:
        return isinstance(value, dict) or (isinstance(value, list) and bool(value) and isinstance(value[0], dict))

    return sorted(data, key=lambda k: (is_table(data[k]), order.index(k) if k in order else len(order)))


def test_the_key_order_is_the_presets() -> None:
    """A shuffled policy comes back with the keys of each table as the presets write them."""
    messy = (
        '[fees]\nmaker_ppm = 0\ntaker_ppm = 500  # taker\n\n[[deficit]]\nprice = "bankruptcy"\nlayer = "adl"\n\n'
        '[units]\nlot = "1 contract"\nquote = "0.01 USD"\n'
    )
    assert canonical(messy) == (
        '[units]\nquote = "0.01 USD"\nlot = "1 contract"\n\n[fees]\ntaker_ppm = 500  # taker\nmaker_ppm = 0\n\n'
        '[[deficit]]\nlayer = "adl"\nprice = "bankruptcy"\n'
    )


def test_comments_travel_with_their_keys_and_the_top_block_stays() -> None:
    messy = (
        "#:schema ../schemas/policy.schema.json\n# my venue\n\n"
        'description = "d"  # what it does\n# the name, first\nname = "v"\n'
        "unknown_key = 1  # kept, after the known ones\n"
    )
    assert canonical(messy) == (
        "#:schema ../schemas/policy.schema.json\n# my venue\n\n"
        '# the name, first\nname = "v"\ndescription = "d"  # what it does\nunknown_key = 1  # kept, after the known ones\n'
    )


def test_values_are_kept_as_written() -> None:
    text = 'name = "v"\ndescription = """two\nlines [[deficit]]   \n"""\nsources = [\n  "a",  # first\n  "b",\n]\n'
    assert canonical(text) == text


def test_arrays_of_tables_keep_their_order_and_their_subtables() -> None:
    text = (
        '[[deficit]]\nlayer = "adl"\n\n[deficit.fund_drawdown]\nwindow_events = 8\ndrawdown_ppm = 1\n\n'
        '[[deficit]]\nlayer = "insurance_fund"\n'
    )
    out = canonical(text)
    assert (
        out.index('"adl"') < out.index("drawdown_ppm = 1") < out.index("window_events") < out.index('"insurance_fund"')
    )
    assert tomllib.loads(out) == tomllib.loads(text)


@pytest.mark.parametrize(
    ("text", "where"),
    [("name = \n", "1:8"), ('name = "a"\nname = "b"\n', "2:"), ("[units\n", "1:"), ('name = "open\n', "1:")],
)
def test_not_toml_names_the_line_and_column(text: str, where: str) -> None:
    with pytest.raises(FormatError, match=rf"^venue\.toml:{where}\d*.*: not valid TOML: ") as failed:
        canonical(text, "venue.toml")
    assert str(failed.value).startswith(f"venue.toml:{where}")


def test_every_schema_key_has_its_place() -> None:
    """A field added to the policy classes must be given its place in ORDER (the schema's tables
    map to these paths)."""
    schema = json.loads((ROOT / "schemas" / "policy.schema.json").read_text(encoding="utf-8"))
    tables = {
        (): schema["properties"],
        ("units",): "Units",
        ("contract",): "Contract",
        ("margin",): "MarginRule",
        ("margin", "tiers"): "Tier",
        ("market",): "MarketSpec",
        ("liquidation",): "LiquidationRule",
        ("fees",): "FeeRule",
        ("funding",): "FundingRule",
        ("waterfall",): "WaterfallScope",
        ("deficit", "fund_drawdown"): "FundDrawdown",
        ("pnl_to_pool_adl",): "PnlToPoolAdl",
        ("collateral",): "Collateral",
        ("collateral", "rate_curve"): "RatePoint",
        ("collateral", "value_tiers"): "ValueTier",
        ("collateral", "quantity_tiers"): "QuantityTier",
        ("settlement_lending",): "SettlementLending",
        ("settlement_lending", "rate_curve"): "RatePoint",
        ("settlement",): "SettlementBankruptcy",
        ("rounding",): "RoundingRule",
    }
    layers = {"Adl", "BackstopVault", "Clawback", "DebtCarry", "FeePool", "HaircutRatio", "InsuranceFund"}
    layers |= {"SocializedLoss", "VenueAbsorbs"}
    defs = schema["definitions"]
    for path, table in tables.items():
        keys = table if isinstance(table, dict) else defs[table]["properties"]
        assert set(keys) <= set(ORDER[path]), (path, set(keys) - set(ORDER[path]))
    for layer in layers:
        assert set(defs[layer]["properties"]) <= set(ORDER[("deficit",)]), layer
    named = {d for d in defs if "properties" in defs[d]}
    assert named <= layers | {t for t in tables.values() if isinstance(t, str)}, named


class TestCommand:
    def _messy(self, tmp_path: Path, name: str = "venue.toml") -> tuple[Path, str]:
        text = (ROOT / "examples" / "my-policy.toml").read_text(encoding="utf-8")
        path = tmp_path / name
        path.write_text(_respaced(_shuffled(text, random.Random(1)), random.Random(2)), encoding="utf-8")
        return path, text

    def test_check_prints_a_diff_exits_1_and_writes_nothing(self, tmp_path: Path) -> None:
        path, _ = self._messy(tmp_path)
        before = path.read_bytes()
        result = run("fmt", "--check", str(path))
        assert result.exit_code == 1, result.output
        assert result.stdout.startswith(f"--- {path}\n+++ {path} (formatted)\n")
        assert "would be reformatted" in result.stderr
        assert path.read_bytes() == before

    def test_fmt_writes_the_canonical_form_then_check_passes(self, tmp_path: Path) -> None:
        path, original = self._messy(tmp_path)
        os.chmod(path, 0o640)
        result = run("fmt", str(path))
        assert result.exit_code == 0, result.output
        assert f"reformatted {path}" in result.stdout
        out = path.read_text(encoding="utf-8")
        assert canonical(out) == out and tomllib.loads(out) == tomllib.loads(original)
        assert _comments(out) == _comments(original)
        assert path.stat().st_mode & 0o777 == 0o640  # its permissions kept
        assert [p.name for p in tmp_path.iterdir()] == ["venue.toml"]  # no temporary file left
        again = run("fmt", "--check", str(path))
        assert again.exit_code == 0 and again.stdout == "1 file(s) already formatted\n"
        assert run("fmt", str(path)).stdout == "0 reformatted, 1 already formatted\n"

    def test_a_bad_file_is_exit_2_and_nothing_is_written(self, tmp_path: Path) -> None:
        good, _ = self._messy(tmp_path, "good.toml")
        before = good.read_bytes()
        bad = tmp_path / "bad.toml"
        bad.write_text('name = "v"\n[margin\n', encoding="utf-8")
        result = run("fmt", str(good), str(bad))
        assert result.exit_code == 2, result.output
        assert f"solvent: {bad}:2:" in result.stderr and "not valid TOML" in result.stderr
        assert "Traceback" not in result.output
        assert good.read_bytes() == before

    def test_not_utf8_and_missing_are_bad_input(self, tmp_path: Path) -> None:
        latin = tmp_path / "latin.toml"
        latin.write_bytes(b'name = "caf\xe9"\n')
        result = run("fmt", str(latin))
        assert result.exit_code == 2 and "not UTF-8" in result.stderr
        missing = run("fmt", str(tmp_path / "missing.toml"))
        assert missing.exit_code == 2 and "missing.toml" in missing.stderr

    def test_an_interrupted_write_leaves_the_file_whole(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        path, _ = self._messy(tmp_path)
        before = path.read_bytes()

        def fail(*args: object) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "replace", fail)
        result = run("fmt", str(path))
        assert result.exit_code == 2 and "cannot write" in result.stderr and "unchanged" in result.stderr
        assert path.read_bytes() == before
        assert [p.name for p in tmp_path.iterdir()] == ["venue.toml"]

    def test_the_bundled_files_pass_check(self) -> None:
        result = run("fmt", "--check", *map(str, BUNDLED))
        assert result.exit_code == 0, result.output

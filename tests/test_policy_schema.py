"""The policy TOML's JSON Schema: generated from the policy classes, committed for editors, and in
agreement with the loader on every bundled policy and on invalid ones.

Regenerate the committed copy with ``solvent schema --output schemas/policy.schema.json`` (what
``test_committed_schema_is_the_generated_one`` runs and compares).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from solvent.cli import main
from solvent.rules.fields import META
from solvent.rules.loading import PolicyError, loads_policy
from solvent.rules.policy import Policy
from solvent.rules.presets import PRESETS_DIR
from solvent.rules.schema import fields_of, policy_schema
from solvent.rules.waterfall import LAYER_TYPES

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test dependency")

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "schemas" / "policy.schema.json"
REGENERATE = "solvent schema --output schemas/policy.schema.json"
BUNDLED = sorted(PRESETS_DIR.glob("*.toml")) + sorted((ROOT / "examples").glob("*.toml"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_committed_schema_is_the_generated_one() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0, result.output
    assert result.output == COMMITTED.read_text(encoding="utf-8"), f"the schema is stale: run `{REGENERATE}`"


def test_schema_command_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "policy.schema.json"
    assert CliRunner().invoke(main, ["schema", "--output", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8")


def _classes() -> list[type]:
    """Policy and every attrs class under it."""
    seen, todo = [], [Policy, *LAYER_TYPES]
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.append(cls)
        for f in fields_of(cls):
            for t in (f.type, *getattr(f.type, "__args__", ())):
                if isinstance(t, type) and attrs.has(t):
                    todo.append(t)
    return seen


class TestOneSourceOfTruth:
    """The schema is read off the classes: every field, its bounds and its required-ness."""

    def test_every_field_of_every_class_is_described(self) -> None:
        definitions = policy_schema()["definitions"]
        for cls in _classes():
            table = policy_schema() if cls is Policy else definitions[cls.__name__]
            names = {f.name for f in fields_of(cls)} | ({"layer"} if cls in LAYER_TYPES else set())
            assert set(table["properties"]) == names, cls
            required = {f.name for f in fields_of(cls) if f.default is attrs.NOTHING}
            assert set(table.get("required", ())) - {"layer"} == required, cls
            assert table["additionalProperties"] is False

    def test_bounds_come_from_the_field_metadata(self) -> None:
        definitions = policy_schema()["definitions"]
        checked = 0
        for cls in _classes():
            table = policy_schema() if cls is Policy else definitions[cls.__name__]
            for f in fields_of(cls):
                meta = f.metadata.get(META)
                if meta:
                    prop = table["properties"][f.name]
                    assert (prop.get("minimum"), prop.get("maximum")) == (meta["min"], meta["max"]), (cls, f.name)
                    checked += 1
        assert checked > 15


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_every_bundled_policy_validates(path: Path, validator: jsonschema.Draft7Validator) -> None:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert [e.message for e in validator.iter_errors(data)] == []


MINIMAL = """\
name = "minimal"

[[margin.tiers]]
floor_notional_quote = 0
initial_ppm = 100000
maintenance_ppm = 50000
"""

INVALID = {
    "unknown top-level key": 'nmae = "x"\n' + MINIMAL,
    "unknown key in a layer": MINIMAL + '[[deficit]]\nlayer = "adl"\nrankng = "order"\n',
    "unknown layer kind": MINIMAL + '[[deficit]]\nlayer = "bailout"\n',
    "layer tag missing": MINIMAL + '[[deficit]]\nranking = "order"\n',
    "a bound": MINIMAL.replace("maintenance_ppm = 50000", "maintenance_ppm = 1200000"),
    "a float for an integer": MINIMAL.replace("initial_ppm = 100000", "initial_ppm = 0.1"),
    "an enum value": MINIMAL + '[liquidation]\nexecution = "auction"\n',
    "a required key": MINIMAL.replace('name = "minimal"', ""),
    "a required nested key": MINIMAL + "[pnl_to_pool_adl]\nmin_factor_ppm = 1\n",
    "a string for a boolean": MINIMAL + '[margin]\nspot_collateral = "yes"\n',
    "a table for an array of tables": MINIMAL + '[deficit]\nlayer = "adl"\n',
    "a nested bound": MINIMAL + '[[deficit]]\nlayer = "adl"\nfund_drawdown = { drawdown_ppm = 0, window_events = 1 }\n',
}


@pytest.mark.parametrize("text", INVALID.values(), ids=INVALID.keys())
def test_invalid_policies_are_rejected_by_both(text: str, validator: jsonschema.Draft7Validator) -> None:
    assert not validator.is_valid(tomllib.loads(text))
    with pytest.raises(PolicyError):
        loads_policy(text)


def test_a_policy_the_schema_accepts_may_still_break_a_cross_field_rule(validator) -> None:
    """The schema states fields on their own; rules across fields are the loader's."""
    text = MINIMAL.replace("maintenance_ppm = 50000", "maintenance_ppm = 200000")  # above initial
    assert validator.is_valid(tomllib.loads(text))
    with pytest.raises(PolicyError, match="must be <= initial_ppm"):
        loads_policy(text)

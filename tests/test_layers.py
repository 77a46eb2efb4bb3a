"""The floors import only downward: rules < properties < solver < simulation < verdicts < reports < cli.

Any import of a higher floor, at module level or hidden inside a function, is a failure: the
layering is what lets each floor be read, tested and trusted on its own (docs/model.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: each source folder, lowest first; ``solvent`` (the CLI, the pytest plugin) is the top
FLOORS = ("rules", "properties", "solver", "simulation", "verdicts", "reports", "solvent")


def _imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
    return out


def _floor(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "solvent":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in FLOORS else "solvent"


@pytest.mark.parametrize("floor", FLOORS)
def test_no_import_runs_up_a_floor(floor: str) -> None:
    files = sorted((ROOT / floor).rglob("*.py"))
    assert files, floor
    upward = [
        f"{f.relative_to(ROOT)}:{line} imports {module}"
        for f in files
        for line, module in _imports(f)
        if (target := _floor(module)) is not None and FLOORS.index(target) > FLOORS.index(floor)
    ]
    assert upward == []


def test_the_check_finds_an_upward_import(tmp_path: Path) -> None:
    """The rule itself can fail: a rules module importing the verdicts floor is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from solvent.verdicts.check import check_policy\n", encoding="utf-8")
    assert [(_floor(m)) for _, m in _imports(bad)] == ["verdicts"]
    assert FLOORS.index(_floor("solvent.verdicts.check")) > FLOORS.index("rules")

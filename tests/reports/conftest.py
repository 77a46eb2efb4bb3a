"""Fixtures for the report tests (helpers and the golden-file switch are in ``golden_support``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from golden_support import ROOT, V2, binance_accepting, check

from solvent.verdicts.check import PolicyReport


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run at the repository root, so policy paths in reports are repository-relative."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("CI", raising=False)


@pytest.fixture(scope="session")
def binance() -> PolicyReport:
    return check("binance")


@pytest.fixture(scope="session")
def binance_strict_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The binance preset that no longer accepts principal-protected (no-haircut stays accepted):
    the ``whale`` scenario's ADL at the bankruptcy price is then a real failure."""
    path = tmp_path_factory.mktemp("strict") / "binance.toml"
    path.write_text(binance_accepting("no-haircut"), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def binance_strict(binance_strict_file: Path) -> PolicyReport:
    return check(str(binance_strict_file))


@pytest.fixture(scope="session")
def venue_v2() -> PolicyReport:
    return check(V2)


@pytest.fixture(scope="session")
def reports(binance: PolicyReport, venue_v2: PolicyReport) -> list[PolicyReport]:
    """A preset and a policy file, scenarios only: every format's main golden input."""
    return [binance, venue_v2]

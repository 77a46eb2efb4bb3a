"""Fixtures for the report tests (helpers and the golden-file switch are in ``golden_support``)."""

from __future__ import annotations

import pytest
from golden_support import ROOT, V2, check

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
def venue_v2() -> PolicyReport:
    return check(V2)


@pytest.fixture(scope="session")
def reports(binance: PolicyReport, venue_v2: PolicyReport) -> list[PolicyReport]:
    """A preset and a policy file, scenarios only: every format's main golden input."""
    return [binance, venue_v2]

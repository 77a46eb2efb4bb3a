"""pytest plugin: ``pytest --solvent policies/`` checks every policy file × invariant as a test item.

A policy repository runs Solvent with plain pytest and gets JUnit XML (``--junitxml``) for free.
Each item runs the named scenarios and the search (CI budget) for one invariant of one policy;
a failure prints the story. Failures the policy ``accepts`` pass (they are its declared trade-off).
The ``solvent_policies`` ini option lists policy folders or files the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("solvent", "Solvent policy checks")
    group.addoption(
        "--solvent",
        action="append",
        default=[],
        metavar="PATH",
        help="check every *.toml policy under PATH (a folder or a file); repeatable",
    )
    group.addoption("--solvent-examples", type=int, default=None, metavar="N", help="search examples per invariant")
    parser.addini("solvent_policies", type="paths", default=[], help="policy folders or files checked by the Solvent plugin")


def _roots(config: pytest.Config) -> list[Path]:
    given = [Path(p).resolve() for p in config.getoption("solvent")]
    return given + [Path(p).resolve() for p in config.getini("solvent_policies")]


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("solvent"):
        return
    roots = [str(p) for p in _roots(config)]
    # `pytest --solvent DIR` alone checks the policies; explicit test paths are kept beside them
    explicit = config.args_source is pytest.Config.ArgsSource.ARGS
    config.args[:] = (list(config.args) if explicit else []) + [r for r in roots if r not in config.args]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix != ".toml":
        return None
    roots = _roots(parent.config)
    resolved = file_path.resolve()
    if any(resolved == r or r in resolved.parents for r in roots):
        return PolicyFile.from_parent(parent, path=file_path)
    return None


class PolicyFile(pytest.File):
    """One policy file: an item per invariant of the catalog."""

    def collect(self):
        from solvent.properties import catalog
        from solvent.rules.loading import PolicyError, load_policy

        try:
            self.policy = load_policy(self.path)
        except PolicyError as exc:
            raise self.CollectError(str(exc)) from None
        for inv in catalog.ids():
            yield InvariantItem.from_parent(self, name=inv, invariant=inv)


class SolventFailure(Exception):
    """An invariant fails: the message is the story."""


class InvariantItem(pytest.Item):
    """One invariant of one policy, judged on the scenarios and by search."""

    def __init__(self, *, invariant: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.invariant = invariant

    def runtest(self) -> None:
        import attrs

        from solvent.properties.check import Status, check_policy
        from solvent.properties.search import CI
        from solvent.reports.text import render

        examples = self.config.getoption("solvent_examples")
        budget = attrs.evolve(CI, max_examples=examples) if examples else CI
        report = check_policy(self.parent.policy, source=str(self.path), invariants=[self.invariant], search_budget=budget)
        (verdict,) = report.verdicts
        self.user_properties.append(("verdict", verdict.status.value))
        if verdict.status is Status.FAILS:
            raise SolventFailure(render(report))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, SolventFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.path.name}::{self.invariant}"

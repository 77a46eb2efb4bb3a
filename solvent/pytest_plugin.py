"""pytest plugin: ``pytest --solvent policies/`` checks every policy file × claim as a test item.

A policy repository runs Solvent with plain pytest and gets JUnit XML (``--junitxml``) for free.
Each policy file is judged once, by the same judgement ``solvent check`` runs with the same
defaults (``solvent.verdicts.check.Judgement``: the stress scenarios, the CI search, the relational
properties, z3 within its effort budget, the findings directory), and each claim of the catalog
(including invariants registered in the user's own ``conftest.py``) and each relational property
becomes an item:

- fails → a failure that prints the story and how to reproduce it;
- fails as the policy ``accepts`` → **xfail**, with the reason (the declared trade-off);
- held → pass; not exercised (no scenario step or search example took the claim's path) → **skip**,
  with the reason.

Options: ``--solvent-examples N`` (search examples per claim), ``--solvent-prove-budget UNITS``
(``0``: no z3), ``--solvent-findings-dir DIR``, ``--solvent-seed N`` (the search's seed;
hypothesis's ``--hypothesis-seed N`` when not given; default derandomized). The ``solvent_policies`` ini option lists policy
folders or files the same way as ``--solvent``.
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
    group.addoption(
        "--solvent-examples",
        type=int,
        default=None,
        metavar="N",
        help="search examples per claim (default 200, as solvent check)",
    )
    group.addoption(
        "--solvent-prove-budget",
        default=None,
        metavar="UNITS",
        help="z3 effort per policy, as solvent check --prove-budget (default 60M; 0: none)",
    )
    group.addoption(
        "--solvent-seed",
        type=int,
        default=None,
        metavar="N",
        help="the search's seed, as solvent check --seed (default: derandomized; pytest's "
        "--hypothesis-seed is used when this is not given)",
    )
    group.addoption(
        "--solvent-findings-dir",
        default=None,
        metavar="DIR",
        help="counterexample database (default .solvent/findings, as solvent check)",
    )
    parser.addini(
        "solvent_policies", type="paths", default=[], help="policy folders or files checked by the Solvent plugin"
    )


def _roots(config: pytest.Config) -> list[Path]:
    given = [Path(p).resolve() for p in config.getoption("solvent")]
    return given + [Path(p).resolve() for p in config.getini("solvent_policies")]


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("solvent"):
        return
    judgement(config)  # a bad option is a usage error before anything runs
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


def judgement(config: pytest.Config):
    """The judgement the plugin's options describe: ``solvent check``'s, with its defaults."""
    from solvent.cli import Units
    from solvent.verdicts.check import DEFAULT_FINDINGS_DIR, Judgement

    budget = config.getoption("solvent_prove_budget")
    try:
        units = None if budget is None else Units(minimum=0).convert(budget, None, None)
    except Exception as exc:  # click's BadParameter: say which option, no traceback
        raise pytest.UsageError(f"--solvent-prove-budget: {exc}") from None
    folder = config.getoption("solvent_findings_dir")
    seed = config.getoption("solvent_seed")
    if seed is None:
        seed = _hypothesis_seed(config)
    if seed is not None and seed < 0:
        raise pytest.UsageError(f"--solvent-seed: must be a whole number >= 0: {seed}")
    return Judgement.from_options(
        examples=config.getoption("solvent_examples"),
        seed=seed,
        prove_budget=units,
        findings_dir=Path(folder) if folder else DEFAULT_FINDINGS_DIR,
    )


def _hypothesis_seed(config: pytest.Config) -> int | None:
    """hypothesis's own ``--hypothesis-seed`` when it is a whole number (hypothesis also takes any
    string, which it hashes: Solvent's search then stays derandomized)."""
    try:
        given = config.getoption("hypothesis_seed")
    except ValueError:  # hypothesis's pytest plugin not loaded
        return None
    try:
        return None if given is None else int(given)
    except ValueError:
        return None


class PolicyFile(pytest.File):
    """One policy file: an item per claim of the catalog and per relational property."""

    def collect(self):
        from solvent.properties import catalog, relational
        from solvent.rules.loading import PolicyError, load_policy
        from solvent.verdicts.check import known_claims

        try:
            self.policy = load_policy(self.path, claims=known_claims())
        except PolicyError as exc:
            raise self.CollectError(str(exc)) from None
        self._report = None
        # the claims ``solvent check`` judges on this policy (a several-market claim only where it
        # declares its markets), then the relational properties
        judged = [i for i in catalog.ids() if catalog.get(i).applies(self.policy)]
        for claim in [*judged, *relational.ids()]:
            yield ClaimItem.from_parent(self, name=claim, claim=claim)

    def report(self):
        """The policy's judgement, run once for all its items."""
        if self._report is None:
            self._report = judgement(self.config).run(self.policy, source=str(self.path))
        return self._report


class SolventFailure(Exception):
    """A claim fails: the message is the story."""


class ClaimItem(pytest.Item):
    """One claim of one policy, as ``solvent check`` judged it."""

    def __init__(self, *, claim: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.claim = claim

    def runtest(self) -> None:
        import attrs

        from solvent.reports.story import evidence
        from solvent.reports.text import render
        from solvent.verdicts.check import ClaimStatus

        report = self.parent.report()
        (verdict,) = [v for v in report.verdicts if v.invariant.id == self.claim]
        self.user_properties.append(("verdict", verdict.status.value))
        if verdict.status is ClaimStatus.FAILS:
            raise SolventFailure(render(attrs.evolve(report, verdicts=(verdict,))))
        if verdict.status is ClaimStatus.ACCEPTED:
            pytest.xfail(f"fails as the policy accepts (a trade-off by design): {evidence(verdict)}")
        if verdict.status is ClaimStatus.NOT_EXERCISED:
            pytest.skip(
                f"not exercised: no scenario step or search example took this claim's path ({evidence(verdict)})"
            )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, SolventFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.path.name}::{self.claim}"

"""Helpers for the report tests: deterministic reports, and golden files with an overwrite switch.

Reports are built from the named scenarios only (no hypothesis search), so they are the same on
every machine and every hypothesis version. A "searched" report is made by hand: a search result
and a search-origin violation are attached to a scenario report, which is what ``check_policy``
produces after a search, without running one.

Golden files live in ``golden/``. ``SOLVENT_OVERWRITE_GOLDEN=1 pytest tests/reports`` rewrites
them from the current output (then review the diff). Before comparing, output is normalised:
timings become 0, the Solvent version ``<VERSION>``, temporary folders ``<TMP>``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import attrs
import pytest

from solvent.properties.search import Outcome, SearchResult, SearchStats
from solvent.reports.json_report import version
from solvent.rules.presets import resolve_policy
from solvent.verdicts.check import PolicyReport, Violation, check_policy

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
POLICIES = HERE / "policies"
V1 = "tests/reports/policies/venue-v1.toml"
V2 = "tests/reports/policies/venue-v2.toml"
BINANCE = ROOT / "rules" / "presets" / "binance.toml"
OVERWRITE = os.environ.get("SOLVENT_OVERWRITE_GOLDEN") == "1"


def check(source: str, **kwargs) -> PolicyReport:
    """A scenarios-only check of a preset name or a policy path relative to the repository."""
    path = ROOT / source
    return check_policy(resolve_policy(path if path.suffix == ".toml" else source), source=source, **kwargs)


def binance_accepting(*accepts: str) -> str:
    """The binance preset's text with its ``accepts`` list replaced by ``accepts`` (nothing else
    changes, so every other line and line number stays): a copy that fails for a real reason."""
    text = BINANCE.read_text(encoding="utf-8")
    line = re.compile(r"^accepts = \[[^\]\n]*\]", re.MULTILINE)
    assert len(line.findall(text)) == 1, "the binance preset has one accepts line"
    new = line.sub("accepts = [" + ", ".join(f'"{a}"' for a in accepts) + "]", text)
    assert new != text
    return new


def searched(report: PolicyReport, findings_dir: Path | None = None) -> PolicyReport:
    """The report as a search would leave it: stats on every verdict, and one story found by search.

    The "search" story of the first failing verdict is its scenario story, marked as found by
    search (so it is grouped apart from the scenario's and replays through the findings file).
    """
    verdicts = []
    for v in report.verdicts:
        stats = SearchStats(
            examples=200,
            events=1_000,
            exercised_steps=v.steps_exercised,
            paths=Counter({"MarkPrice": 300, "liquidation": 12}),
            seconds_total=1.25,
        )
        if v.violation is not None and not any(x.origin == "search" for u in verdicts for x in u.violations):
            found = Violation(
                v.invariant.id, "search", v.violation.step_index, v.violation.story, v.violation.step, "search"
            )
            stats.seconds_to_first = 0.5
            result = SearchResult(v.invariant.id, Outcome.FOUND, stats, found.story, found.step_index)
            verdicts.append(attrs.evolve(v, search=result, more=v.more + (found,)))
        else:
            verdicts.append(attrs.evolve(v, search=SearchResult(v.invariant.id, Outcome.NONE_FOUND, stats)))
    return attrs.evolve(report, verdicts=tuple(verdicts), findings_dir=findings_dir)


def normalise(text: str, *paths: Path) -> str:
    """Remove what varies between identical runs: timings, the version, temporary paths."""
    for p in paths:
        text = text.replace(str(p), "<TMP>")
    text = re.sub(r'("seconds_(?:to_first|total)": )[0-9.]+', r"\g<1>0", text)
    text = re.sub(r'time="[0-9.]+"', 'time="0.000"', text)
    return text.replace(f'"version": "{version()}"', '"version": "<VERSION>"')


def compare_golden(name: str, actual: str) -> None:
    """Assert ``actual`` equals ``golden/<name>``; with SOLVENT_OVERWRITE_GOLDEN=1, rewrite it."""
    path = GOLDEN / name
    if OVERWRITE or not path.exists():
        assert_nothing_machine_specific(name, actual)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not OVERWRITE:
            pytest.fail(f"golden file {path.relative_to(ROOT)} did not exist; written now, review and commit it")
        return
    expected = path.read_text(encoding="utf-8")
    assert_nothing_machine_specific(name, actual)
    assert actual == expected, (
        f"{name} differs from its golden file; if the change is intended, rerun with SOLVENT_OVERWRITE_GOLDEN=1 and review the diff"
    )


def assert_nothing_machine_specific(name: str, text: str) -> None:
    """A golden file names no absolute path of this machine: not the repository, not the package
    actually imported (a checkout elsewhere whose ``solvent`` resolves here), not the home folder."""
    import solvent

    package_root = Path(solvent.__file__).resolve().parents[1]
    for place in {ROOT, package_root, Path.home()}:
        assert str(place) + os.sep not in text, (
            f"{name} names the absolute path {place}: run from the repository whose solvent is imported"
        )

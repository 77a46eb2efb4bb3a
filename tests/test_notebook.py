"""The Python API in a notebook: ``solvent.check`` returns the report every front end builds, which
Jupyter displays (HTML fragment with scoped style, Markdown); ``solvent.prove`` is ``solvent
prove``; ``price_events`` turns a drawn price path into the mark events the search would make."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings

import solvent
from solvent.properties.strategies import price_events, price_paths
from solvent.reports import html_report, json_report
from solvent.reports.notebook import Proof, Report
from solvent.rules.events import MarkPrice
from solvent.solver.verdicts import ProofResult, Verdict
from solvent.verdicts.check import PolicyReport, check_policy

#: the module's tests run as one xdist group, sent out among the first units of work (``--dist
#: loadgroup`` sends the groups before the ungrouped tests, the larger first): ungrouped, its
#: long tests were among the last in collection order, and one worker waited idle while the
#: other ran them (simulated on a whole run's durations at 85dd36f, load 6-8: one worker idle
#: for about 77 s at the end in main's order, under 1 s with this and the other four
#: top-level modules grouped: test_controls, test_notebook, test_printed_commands,
#: test_pytest_plugin, test_reproducible; session 25)
pytestmark = pytest.mark.xdist_group("notebook")


@pytest.fixture(scope="module")
def report() -> Report:
    return solvent.check("binance", search=False)


class TestReport:
    def test_it_is_the_report_every_front_end_builds(self, report: Report) -> None:
        assert isinstance(report, PolicyReport) and not report.failed
        plain = check_policy(solvent.load("binance"), source="binance")
        assert json.loads(json_report.render([report])) == json.loads(json_report.render([plain]))

    def test_jupyter_shows_html(self, report: Report) -> None:
        shown = report._repr_html_()
        assert shown.startswith('<div class="solvent-report"><style>') and "<html" not in shown and "<body" not in shown
        assert "deficit of USDT 88.99" in shown and "<svg" in shown

    def test_its_style_touches_nothing_around_it(self) -> None:
        css = html_report.scoped_css()
        selectors = [s.strip() for rule in css.splitlines() for s in rule.split("{")[0].split(",")]
        assert selectors and all(s == ".solvent-report" or s.startswith(".solvent-report ") for s in selectors)
        assert not re.search(r"(^|,)\s*(body|:root|table|h1)\b", css, re.MULTILINE)

    def test_markdown_and_text(self, report: Report) -> None:
        assert report._repr_markdown_().startswith("# Solvent report\n\n## `binance` passes")
        assert report.text().startswith("Policy binance (binance)")
        assert repr(report) == "<solvent report: binance passes: 0 fail, 2 fail as accepted, 15 held, 0 not exercised>"


def _shows_as_solvent_prove(proof: object) -> None:
    """``solvent.prove("binance", "conservation", accounts=1, effort="2M")`` (the notebook's own
    call, asked once: ``test_the_example_notebook_runs``) is ``solvent prove``'s result, and
    displays itself as its text."""
    assert isinstance(proof, Proof) and isinstance(proof, ProofResult)
    assert proof.verdict is Verdict.PROVED and proof.scope.accounts in (1, None)
    assert proof._repr_markdown_().startswith("```text\nconservation on binance: proved")
    assert repr(proof).startswith("<solvent proof: conservation on binance: proved (")


class TestProve:
    @pytest.mark.parametrize("effort", ["1.5", "lots", 0, "5000G"])
    def test_a_bad_effort_is_named(self, effort) -> None:
        with pytest.raises(ValueError, match="effort"):
            solvent.prove("binance", "conservation", effort=effort)

    def test_an_unknown_claim_is_named(self) -> None:
        with pytest.raises(KeyError, match="conservatoin"):
            solvent.prove("binance", "conservatoin")


class TestPriceEvents:
    def test_moves_in_ppm_of_the_mark_before(self) -> None:
        assert price_events([-50_000, 20_000], 10_000) == [MarkPrice(9_500), MarkPrice(9_690)]

    def test_rounded_down_onto_the_tick_and_at_least_one_tick(self) -> None:
        assert price_events([-1], 10_000, tick_quote=5) == [MarkPrice(9_995)]
        assert price_events([-990_000, -990_000, -990_000], 10_000) == [MarkPrice(100), MarkPrice(1)]

    def test_a_move_that_leaves_the_price_makes_no_event(self) -> None:
        assert price_events([1, 0], 10) == []

    def test_no_mark_below_a_tick(self) -> None:
        with pytest.raises(ValueError, match="at least one tick"):
            price_events([100], 0)

    @settings(max_examples=50, derandomize=True, database=None)
    @given(price_paths())
    def test_every_drawn_path_makes_events_the_engine_accepts(self, moves: list[int]) -> None:
        events = price_events(moves, 10_000)
        assert len(events) <= len(moves)
        assert all(e.price_quote >= 1 for e in events)
        assert all(a.price_quote != b.price_quote for a, b in zip(events, events[1:], strict=False))


def test_the_example_notebook_runs() -> None:
    """examples/notebook.ipynb, cell by cell in one namespace as a kernel runs it: each cell's last
    expression is what Jupyter displays, and the report and the proof display themselves."""
    import ast
    from pathlib import Path

    book = json.loads((Path(__file__).resolve().parents[1] / "examples" / "notebook.ipynb").read_text())
    namespace: dict = {}
    shown = []
    for cell in (c for c in book["cells"] if c["cell_type"] == "code"):
        assert cell["outputs"] == [], "the notebook is committed without outputs"
        tree = ast.parse("".join(cell["source"]))
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, "notebook", "exec"), namespace)  # noqa: S102 (the repository's own notebook)
        if last is not None:
            shown.append(eval(compile(ast.Expression(last.value), "notebook", "eval"), namespace))  # noqa: S307
    summary, report, failing, proof, events = shown
    assert summary == "insurance_fund → adl"
    assert isinstance(report, Report) and "<svg" in report._repr_html_()
    assert ("no-haircut", "fails (accepted)") in failing
    _shows_as_solvent_prove(proof)
    assert events == [MarkPrice(9_500), MarkPrice(9_690)]

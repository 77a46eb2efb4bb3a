"""Reports of a story on a book of two markets (issue 13): every event names its market, books show
a position per market and each market's mark, the JSON carries the further markets, a saved finding
replays through the CLI, and the HTML draws one price path per market.

The story (policy ``policies/two-markets.toml``: flat 10x, 5% maintenance, no fees, liquidation at
mark): alice is long 1 BTC against carol and 10 ETH against bob with USD 5,000; ETH falls 2,000 ->
1,300 and leaves her USD 1,002 below zero; her BTC goes into the book, her ETH is deleveraged
against bob. A one-market story reads exactly as it did (the golden files).
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import zlib
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner
from golden_support import ROOT
from test_html_screenshot import CHROMIUM, png_chunks

from solvent.cli import main
from solvent.properties import findings
from solvent.properties.scenarios import Story
from solvent.reports import html_report, json_report, markdown, plots, text
from solvent.reports.story import describe_event, extreme_story_note, marks_text
from solvent.rules.book import Market, new_book
from solvent.rules.engine import Step, run
from solvent.rules.events import Deposit, Funding, MarkPrice, Trade
from solvent.rules.loading import load_policy
from solvent.rules.policy import Policy
from solvent.verdicts.check import PolicyReport, Violation, check_policy

SOURCE = "tests/reports/policies/two-markets.toml"
BOOK = new_book(
    market="BTC", mark_quote=30_000, traders=("alice", "bob", "carol"), more_markets=(Market("ETH", 2_000),)
)
EVENTS = (
    Deposit("alice", 5_000),
    Deposit("bob", 100_000),
    Deposit("carol", 100_000),
    Trade("alice", "carol", 1, 30_000),
    Trade("alice", "bob", 10, 2_000, market="ETH"),
    Funding(100, market="ETH"),
    MarkPrice(31_000),
    MarkPrice(1_300, market="ETH"),
)
STORY = Story(BOOK, EVENTS)
FAILING = 7  # the ETH move: bob's profit is deleveraged
TOLD = [
    "alice deposits USD 5,000",
    "bob deposits USD 100,000",
    "carol deposits USD 100,000",
    "alice buys 1 BTC from carol at USD 30,000/contract (alice takes)",
    "alice buys 10 ETH from bob at USD 2,000/contract (alice takes)",
    "funding in ETH at 100 ppm",
    "mark of BTC USD 30,000 → USD 31,000/contract (+3.33%)",
    "mark of ETH USD 2,000 → USD 1,300/contract (−35.00%)",
]


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(ROOT / SOURCE)


@pytest.fixture(scope="module")
def steps(policy: Policy) -> list[Step]:
    return run(policy, BOOK, EVENTS)


@pytest.fixture(scope="module")
def report(policy: Policy, steps: list[Step]) -> PolicyReport:
    """A scenarios-only check of no-haircut, its one finding replaced by the two-market story (as
    a search would have found it)."""
    checked = check_policy(policy, source=SOURCE, invariants=["no-haircut"])
    found = Violation("no-haircut", "search", FAILING, STORY, steps[FAILING], "search")
    (verdict,) = checked.verdicts
    return attrs.evolve(checked, verdicts=(attrs.evolve(verdict, violation=found, more=()),))


class TestEvents:
    def test_every_event_on_a_market_names_it(self, policy: Policy, steps: list[Step]) -> None:
        from solvent.reports.money import Money

        money = Money.of(policy)
        assert [describe_event(s.event, s.before, policy.contract, money) for s in steps] == TOLD

    def test_in_quanta_and_with_no_book_known(self, steps: list[Step]) -> None:
        assert describe_event(steps[7].event, steps[7].before) == "mark of ETH 2,000 → 1,300 (−35.00%)"
        assert describe_event(steps[6].event, steps[6].before) == "mark of BTC 30,000 → 31,000 (+3.33%)"
        assert describe_event(EVENTS[7], None) == "mark of ETH moves to 1,300"
        assert describe_event(EVENTS[6], None) == "mark moves to 31,000"  # the first market, unnamed

    def test_a_one_market_book_reads_as_it_always_has(self) -> None:
        one = new_book(market="BTC", mark_quote=30_000)
        assert describe_event(MarkPrice(27_000), one) == "mark 30,000 → 27,000 (−10.00%)"
        assert (
            describe_event(Trade("alice", "bob", 2, 30_000), one)
            == "alice buys 2 lots from bob at 30,000 (alice takes)"
        )
        assert describe_event(Funding(100), one) == "funding at 100 ppm"
        assert marks_text(one, one) == ""

    def test_the_extreme_marks_note_compares_each_market_with_itself(self) -> None:
        """BTC at 31,000 and ETH at 1,300 are a factor 24 apart, but neither market moved tenfold."""
        assert extreme_story_note(STORY) is None
        crashed = Story(BOOK, (*EVENTS, MarkPrice(100, market="ETH")))
        note = extreme_story_note(crashed)
        assert note is not None and note.startswith("note: the marks span 100 to 2,000:")


class TestBooks:
    def test_the_text_story_shows_a_position_per_market_and_each_mark(self, report: PolicyReport) -> None:
        told = text.story(report.verdicts[0].violation, ["no-haircut"], report)
        lines = told.splitlines()
        assert lines[0] == f"no-haircut — found by search, step 8: {TOLD[7]}"
        assert lines[2:10] == [f"    {i + 1}. {e}" for i, e in enumerate(TOLD)]
        before = lines.index("  book before the failing step; marks in USD/contract: BTC 31,000, ETH 2,000:")
        assert lines[before + 1].split() == ["account", "cash", "(USD)", "size", "BTC", "(lots)", "size", "ETH", "(lots)", "principal", "(USD)"]  # fmt: skip
        assert lines[before + 3].split() == ["alice", "5,998", "1", "10", "5,000"]
        assert lines[before + 4].split() == ["bob", "100,002", "-10", "100,000"]
        after = lines.index("  book after; marks in USD/contract: BTC 31,000, ETH 1,300:")
        assert lines[after + 1].split() == ["account", "cash", "(USD)", "size", "BTC", "(lots)", "size", "ETH", "(lots)", "principal", "(USD)"]  # fmt: skip
        rows = {line.split()[0]: line.split()[1:] for line in lines[after + 3 : after + 8]}
        assert rows["liquidity"] == ["0", "1"]  # alice's BTC, closed into the book; nobody holds ETH

    def test_the_markdown_balances_name_each_market(self, report: PolicyReport) -> None:
        out = markdown.render([report]).splitlines()
        assert "8. **mark of ETH USD 2,000 → USD 1,300/contract (−35.00%)** ← fails here" in out
        at = out.index("Balances in step 8 (before → after); marks in USD/contract: BTC 31,000, ETH 2,000 → 1,300:")
        assert out[at + 2 : at + 5] == [
            "| account | cash (USD) | size BTC (lots) | size ETH (lots) | principal (USD) |",
            "| --- | --- | --- | --- | --- |",
            "| alice | 5,998 → 0 | 1 → 0 | 10 → 0 | 5,000 |",
        ]

    def test_sarif_and_junit_name_the_market_of_the_failing_event(self, report: PolicyReport) -> None:
        from solvent.reports import junit, sarif

        assert f"Found by search, step 8: {TOLD[7]}." in sarif.render([report])
        assert TOLD[7] in junit.render([report])

    def test_the_json_carries_the_further_markets(self, report: PolicyReport) -> None:
        (f,) = json_report.report_data([report])["policies"][0]["findings"]
        assert [m["name"] for m in (f["story"]["book"]["market"], *f["story"]["book"]["more_markets"])] == [
            "BTC",
            "ETH",
        ]
        alice = next(a for a in f["book_before"]["accounts"] if a["name"] == "alice")
        assert (alice["size_lots"], alice["more_positions"]) == (1, [{"size_lots": 10, "cost_quote": 20_000}])
        step = f["steps"][FAILING]
        assert (step["event"], step["market"], step["description"]) == (
            {"type": "MarkPrice", "price_quote": 1_300, "market": "ETH"},
            "ETH",
            TOLD[7],
        )
        assert [(m["name"], m["mark_before"], m["mark_after"]) for m in step["markets"]] == [
            ("BTC", 31_000, 31_000),
            ("ETH", 2_000, 1_300),
        ]
        assert f["steps"][0]["market"] is None  # a deposit acts on no market
        assert findings.story_from_data(f["story"]) == STORY  # the story replays from the report

    def test_the_json_is_valid_against_the_report_schema(self, report: PolicyReport) -> None:
        jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test dependency")
        schema = json.loads((ROOT / "tests" / "schemas" / "solvent.report-1.schema.json").read_text())
        errors = jsonschema.Draft7Validator(schema).iter_errors(json_report.report_data([report]))
        assert [e.message for e in errors] == []

    def test_a_one_market_report_has_no_market_fields(self, binance: PolicyReport) -> None:
        for f in json_report.report_data([binance])["policies"][0]["findings"]:
            assert "more_markets" not in f["story"]["book"]
            assert all("market" not in s and "markets" not in s for s in f["steps"])


class TestReplay:
    def test_a_saved_two_market_finding_replays_through_the_cli(self, policy: Policy, tmp_path: Path) -> None:
        path = findings.save(
            findings.Finding(policy, "no-haircut", STORY, FAILING, "search"),
            findings.database_path(tmp_path, policy, "no-haircut"),
        )
        assert findings.load(path).story == STORY
        result = CliRunner().invoke(main, ["replay", str(path)], catch_exceptions=False)
        assert result.exit_code == 1  # it still fails
        lines = result.stdout.splitlines()
        assert lines[0].startswith("policy two-markets, invariant no-haircut: ")
        assert [line.strip() for line in lines[2:10]] == [f"{i + 1}. {e}" for i, e in enumerate(TOLD[:7])] + [
            f"8. {TOLD[7]}  <- fails here"
        ]
        assert "  who paid: alice went bankrupt with a deficit of USD 1,002; paid by 2. adl USD 1,002." in lines

        result = CliRunner().invoke(main, ["replay", str(path), "--format", "json"], catch_exceptions=False)
        data = json.loads(result.stdout)
        assert result.exit_code == 1 and data["failing_step"] == 8
        assert [s.get("market") for s in data["steps"]] == [None, None, None, "BTC", "ETH", "ETH", "BTC", "ETH"]

    def test_check_replays_a_saved_two_market_story_first_and_tells_it_by_market(
        self, policy: Policy, tmp_path: Path
    ) -> None:
        saved = findings.save(
            findings.Finding(policy, "no-haircut", STORY, FAILING, "search"),
            findings.database_path(tmp_path, policy, "no-haircut"),
        )
        args = ["check", SOURCE, "--invariant", "no-haircut", "--findings-dir", str(tmp_path)]
        args += ["--examples", "5", "--prove-budget", "0", "--format", "json", "--output", str(tmp_path / "r.json")]
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 1
        lines = result.stdout.splitlines()
        assert f"no-haircut — replayed from the findings directory, step 8: {TOLD[7]}" in lines
        assert "  book after; marks in USD/contract: BTC 31,000, ETH 1,300:" in lines
        assert f"  reproduce with: solvent replay {saved}" in lines
        (finding,) = [
            f
            for f in json.loads((tmp_path / "r.json").read_text())["policies"][0]["findings"]
            if f["origin"] == "saved"
        ]
        assert finding["steps"][FAILING]["market"] == "ETH" and findings.story_from_data(finding["story"]) == STORY


class TestPlots:
    def test_one_price_path_per_market_with_markers_where_the_event_acted(
        self, policy: Policy, steps: list[Step], report: PolicyReport
    ) -> None:
        btc, eth = plots.price_paths(steps, FAILING, policy.contract)
        assert "mark price of BTC per lot, before the story" in btc and "mark price of ETH per lot, before" in eth
        # alice is marked liquidated on ETH's path, whose move liquidated her, not on BTC's (each
        # path also draws the legend's smaller circle)
        assert eth.count('r="6" fill="#f59e0b"') == 1 and btc.count('r="6" fill="#f59e0b"') == 0
        assert btc.count('r="5" fill="#f59e0b"') == eth.count('r="5" fill="#f59e0b"') == 1
        page = html_report.render([report])
        titles = re.findall(r"<title>(price path[^<]*)</title>", page)
        assert titles == ["price path of BTC with liquidation markers", "price path of ETH with liquidation markers"]
        assert "<p>Marks in USD/contract: BTC 31,000, ETH 2,000 → 1,300.</p>" in page

    def test_a_one_market_story_has_one_unnamed_path(self, binance: PolicyReport) -> None:
        from solvent.reports.story import told

        t = told(binance)[0]
        (path,) = plots.price_paths(t.steps, t.group.violation.step_index, t.contract, t.money)
        assert path == plots.price_path(t.steps, t.group.violation.step_index, t.contract, t.money)
        assert "<title>price path with liquidation markers</title>" in path


class TestProofText:
    def test_a_two_market_counterexample_shows_each_markets_mark_and_positions(self, steps: list[Step]) -> None:
        """What ``solvent prove --markets 2`` prints for a refutation (built here from the story,
        not asked of z3): each market's mark, and a size and cost column per market."""
        from solvent.reports.proof_text import render
        from solvent.solver.verdicts import Counterexample, ProofResult, Scope, Verdict

        start = steps[FAILING].before
        cx = Counterexample(Story(start, (EVENTS[FAILING],)), (steps[FAILING],), 0, "no-haircut", "bob is deleveraged")
        scope = Scope(2, 1, ("mark",), "any price")
        out = render(ProofResult("two-markets", "no-haircut", Verdict.REFUTED, scope, 0.0, "bmc", counterexample=cx))
        lines = out.splitlines()
        at = lines.index("  starting book (marks BTC 31000, ETH 2000):")
        assert lines[at + 1].split() == [
            "account", "cash", "spot", "size", "BTC", "(lots)", "cost", "BTC", "size", "ETH", "(lots)", "cost", "ETH",
            "principal", "debt",
        ]  # fmt: skip
        assert lines[at + 3].split() == ["alice", "5998", "1", "30000", "10", "20000", "5000"]
        assert "  book after (marks BTC 31000, ETH 1300):" in lines
        assert "    1. MarkPrice(price_quote=1300, market='ETH')  <- fails here" in lines


def test_a_narrow_terminal_folds_the_marks(report: PolicyReport) -> None:
    told = text.story(report.verdicts[0].violation, ["no-haircut"], report, width=60).splitlines()
    at = told.index("  book before the failing step; marks in USD/contract: BTC")
    assert told[at + 1] == "      31,000, ETH 2,000:"


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt-get install chromium)")
def test_chromium_renders_the_two_market_report(report: PolicyReport, tmp_path: Path) -> None:
    """The page with both markets' price paths renders offline to a picture that is not blank
    (``SOLVENT_SCREENSHOT_DIR`` keeps it: two price paths side by side, alice liquidated on ETH's)."""
    page = tmp_path / "report.html"
    page.write_text(html_report.render([report]), encoding="utf-8")
    keep = os.environ.get("SOLVENT_SCREENSHOT_DIR")
    png = Path(keep) / "two-markets.png" if keep else tmp_path / "two-markets.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--window-size=1300,1800",
        f"--screenshot={png}",
        page.as_uri(),
    ]
    subprocess.run(command, capture_output=True, timeout=120, check=False, cwd=tmp_path)
    assert png.exists(), "Chromium wrote no screenshot"
    chunks = png_chunks(png.read_bytes())
    assert struct.unpack(">II", chunks[0][1][:8]) == (1300, 1800)
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(set(pixels[: len(pixels) // 2])) > 50, "the screenshot looks blank"

"""The SVG charts never cut a label: every text lies inside its picture, the price labels inside
the left margin, and no two labels overlap, at the extremes z3 draws (marks from 1 to 10⁹) and
with long account names.

Widths are measured with ``plots.text_width``, an upper bound for sans-serif fonts (checked
against Chromium's own layout by eye: tests/reports/test_html_screenshot.py keeps a PNG with
SOLVENT_SCREENSHOT_DIR)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import pytest

from solvent.reports import plots
from solvent.reports.money import Money
from solvent.reports.story import told
from solvent.rules import events as ev
from solvent.rules.book import new_book
from solvent.rules.engine import Step, run
from solvent.rules.presets import resolve_policy
from solvent.verdicts.check import PolicyReport

LONG = "a-market-maker-with-a-very-long-account-name"
BINANCE = resolve_policy("binance")
MONEY = Money.of(BINANCE)

_TEXT = re.compile(
    r'<text x="([\d.\-]+)" y="([\d.\-]+)" text-anchor="(\w+)" font-size="(\d+)" fill="[^"]*" font-weight="(\w+)">([^<]*)</text>'
)
_VIEW = re.compile(r'viewBox="0 0 ([\d.]+) ([\d.]+)"')


def boxes(svg: str) -> list[tuple[str, float, float, float, float]]:
    """Each label's text and its box (x0, y0, x1, y1), as wide as ``text_width`` says."""
    out = []
    for x, y, anchor, size, weight, s in _TEXT.findall(svg):
        s = html.unescape(s)
        w = plots.text_width(s, float(size), weight)
        x0 = float(x) - {"start": 0, "middle": w / 2, "end": w}[anchor]
        out.append((s, x0, float(y) - 0.8 * float(size), x0 + w, float(y) + 0.25 * float(size)))
    return out


def assert_fits(svg: str) -> None:
    width, height = map(float, _VIEW.search(svg).groups())
    found = boxes(svg)
    assert found
    for s, x0, y0, x1, y1 in found:
        assert 0 <= x0 and x1 <= width and 0 <= y0 and y1 <= height, (s, x0, x1, width)
    for i, a in enumerate(found):
        for b in found[i + 1 :]:
            apart = a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2]
            assert apart, f"{a[0]!r} overlaps {b[0]!r}"


def story(marks: Sequence[int], names: tuple[str, str] = (LONG, "bob")) -> tuple[Step, ...]:
    """A long at the first mark, then each mark in turn (the last one is the failing step)."""
    long, short = names
    events = [
        ev.Deposit("liquidity", 10**12),
        ev.Deposit("insurance_fund", 1),
        ev.Deposit(long, marks[0] // 50 + 1),  # 50x: a fall to a tenth bankrupts it
        ev.Deposit(short, 10**12),
        ev.Trade(long, short, 1, marks[0], ev.Taker.BUYER),
        *(ev.MarkPrice(m) for m in marks[1:]),
    ]
    return tuple(run(BINANCE, new_book(mark_quote=marks[0], traders=names), events))


EXTREMES = {
    "6 to a billion": (6, 1_000_000_000),
    "a billion to 1": (1_000_000_000, 1),
    "1 to a billion and back": (1, 1_000_000_000, 1),
    "a gap of one tick": (10_000, 9_999),
}


@pytest.mark.parametrize("marks", EXTREMES.values(), ids=EXTREMES.keys())
def test_price_labels_fit_at_the_extremes(marks: tuple[int, ...]) -> None:
    steps = story(marks)
    svg = plots.price_path(steps, len(steps) - 1, BINANCE.contract, MONEY)
    assert_fits(svg)
    left = min(float(x) for x, _, anchor, *_ in _TEXT.findall(svg) if anchor == "end")
    labels = [b for b in boxes(svg) if b[0].replace(",", "").isdigit() and len(b[0]) > 3]
    assert labels, "the price axis has labels"
    plot_left = float(re.search(r'<line x1="([\d.]+)"', svg).group(1))
    assert all(x1 <= plot_left for _, _, _, x1, _ in labels)
    assert left < plot_left


def test_the_billion_label_is_whole() -> None:
    steps = story((6, 1_000_000_000))
    svg = plots.price_path(steps, len(steps) - 1, BINANCE.contract, MONEY)
    assert ">10,000,000,000<" in svg  # 10⁹ quanta of 0.01 USDT per 0.001 BTC, per BTC


@pytest.mark.parametrize("marks", EXTREMES.values(), ids=EXTREMES.keys())
@pytest.mark.parametrize("names", [(LONG, "bob"), ("al", "b" * 60)], ids=["long-buyer", "long-seller"])
def test_equity_and_waterfall_fit(marks: tuple[int, ...], names: tuple[str, str]) -> None:
    steps = story(marks, names)
    assert_fits(plots.equity_rows(BINANCE, steps, len(steps) - 1, MONEY))
    usage = plots.waterfall_usage(steps, MONEY)
    if marks[-1] < marks[0] // 10:  # the long is bankrupt: the waterfall is drawn
        assert usage is not None and names[0] in usage
    if usage is not None:
        assert_fits(usage)


def test_a_name_mark_stays_right_of_the_price_labels() -> None:
    """The liquidated account's name beside a marker at the far right is drawn leftwards, never
    over the price labels, and below the title."""
    steps = story((1_000_000_000, 1), ("alice", LONG))
    svg = plots.price_path(steps, len(steps) - 1, BINANCE.contract, MONEY)
    assert_fits(svg)


def test_the_reports_charts_fit(binance: PolicyReport, venue_v2: PolicyReport) -> None:
    for report in (binance, venue_v2):
        for t in told(report):
            failing = t.group.violation.step_index
            assert_fits(plots.price_path(t.steps, failing, t.contract, t.money))
            assert_fits(plots.equity_rows(report.policy, t.steps, failing, t.money))
            usage = plots.waterfall_usage(t.steps, t.money)
            if usage is not None:
                assert_fits(usage)


def test_text_width_is_an_upper_bound_for_digits() -> None:
    """DejaVu Sans (the widest usual fallback) draws a digit 0.636 em wide and a comma 0.318."""
    assert plots.text_width("1,000,000,000", 10) >= (10 * 0.636 + 3 * 0.318) * 10


class TestSubUnitTicks:
    """An inverse contract's coin value per contract can sit near 0.1: no integer tick fits between
    the lowest and highest value, and the axis is labelled in decimals instead (it had crashed)."""

    def test_decimal_ticks_inside_the_range(self) -> None:
        from solvent.reports.plots import _decimal, _ticks

        ticks = _ticks(0.09988, 0.10112, 5)
        assert ticks and all(0.09988 <= t <= 0.10112 for t in ticks)
        assert [_decimal(t) for t in ticks] == ["0.1", "0.1005", "0.101"]

    def test_whole_ranges_keep_integer_ticks(self) -> None:
        from solvent.reports.plots import _ticks

        assert _ticks(4.88, 6.12, 5) == [5, 6]
        assert all(type(t) is int for t in _ticks(0, 10**9, 5))

    def test_exact_decimals(self) -> None:
        from fractions import Fraction

        from solvent.reports.plots import _decimal

        assert _decimal(Fraction(-3, 40)) == "-0.075"
        assert _decimal(Fraction(123_456_789, 1000)) == "123,456.789"

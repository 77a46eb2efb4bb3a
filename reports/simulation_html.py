"""A simulation as one self-contained HTML page: the tables of the text report and three inline SVG
plots (the bad-debt distribution with its VaR lines and their intervals, the insurance fund's
survival curve with its 95% band, a fan of the price paths). Deterministic like the text and JSON
(no time, no random ids), drawn with the story plots' SVG helpers (``solvent.reports.plots``)."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from solvent.reports.html_report import table
from solvent.reports.money import QUANTA, Money
from solvent.reports.plots import _line, _scale, _svg, _text, _ticks
from solvent.reports.simulation import (
    PROBABILITY_HEADERS,
    TAIL_HEADERS,
    heading,
    notes,
    probability_rows,
    tail_rows,
)
from solvent.simulation.paths import venue_prices
from solvent.simulation.run import Result
from solvent.simulation.stats import wilson

HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 70, 540, 20, 185
BINS = 24
#: at most this many paths' prices are redrawn for the fan
FAN_PATHS = 500
FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _axes(y_label: str, x_label: str) -> list[str]:
    return [
        _line(LEFT, BOTTOM, RIGHT, BOTTOM, "#94a3b8"),
        _line(LEFT, TOP, LEFT, BOTTOM, "#94a3b8"),
        _text(LEFT - 60, TOP - 6, y_label, size=10),
        _text(RIGHT, BOTTOM + 30, x_label, anchor="end", size=10),
    ]


#: the loss distribution's legend, under its axis: one line per VaR
LOSS_HEIGHT = HEIGHT + 30


def loss_distribution(values: Sequence[int], var95: dict, var99: dict, money: Money = QUANTA) -> str:
    """A histogram of bad debt per path over the paths that have some (those with none are a count
    in the corner: drawn as a bar, they would flatten the tail this plot is for), with the VaR
    lines, each VaR's 95% interval as a band, and a legend that gives both; amounts in ``money``'s
    currency."""
    positive = [v for v in values if v > 0]
    top = max(values) if values else 0
    width = max(1, -(-top // BINS))
    counts = [0] * BINS
    for v in positive:
        counts[min(v // width, BINS - 1)] += 1
    x = _scale(0, width * BINS, LEFT, RIGHT)
    y = _scale(0, max(counts) or 1, BOTTOM, TOP)
    body = _axes("paths", money.column("bad debt per path") if money.readable else "bad debt per path (quote quanta)")
    none = len(values) - len(positive)
    told = f"{none:,} of {len(values):,} paths have no bad debt" + (" (not drawn)" if positive else "")
    body.append(_text(RIGHT, TOP + 3, told, anchor="end", size=9))
    for i, c in enumerate(counts):
        if c:
            body.append(
                f'<rect x="{x(i * width) + 1:.1f}" y="{y(c):.1f}" width="{x((i + 1) * width) - x(i * width) - 2:.1f}" '
                f'height="{BOTTOM - y(c):.1f}" fill="#2563eb"><title>{c} paths from {i * width:,}</title></rect>'
            )
    for tick in _ticks(0, width * BINS):
        body.append(_text(x(tick), BOTTOM + 14, money.number(tick), anchor="middle", size=9))
    body.append(_text(LEFT - 6, TOP + 3, f"{max(counts):,}", anchor="end", size=9))
    for row, (label, q, colour) in enumerate((("VaR 95%", var95, "#d97706"), ("VaR 99%", var99, "#dc2626"))):
        low, high = x(q["low"]), x(q["high"])
        star = "" if q.get("covered", True) else "*: too few paths for 95% coverage"
        body += [
            f'<rect x="{low:.1f}" y="{TOP}" width="{max(high - low, 1):.1f}" height="{BOTTOM - TOP}" fill="{colour}" '
            f'fill-opacity="0.12"><title>{label} 95% interval</title></rect>',
            _line(x(q["value"]), TOP, x(q["value"]), BOTTOM, colour, dash="4 3"),
            _text(
                LEFT - 60,
                BOTTOM + 44 + 12 * row,
                f"{label}: {money.number(q['value'])}, 95% interval [{money.number(q['low'])}, "
                f"{money.number(q['high'])}] shaded{star}",
                size=9,
                fill=colour,
            ),
        ]
    return _svg(LOSS_HEIGHT, "bad debt per path", body)


def fund_survival(exhausted_at: Sequence[int | None], marks: int) -> str:
    """The share of paths whose insurance fund is not yet exhausted, after each mark event, with
    its 95% Wilson interval at each as a band (a probability like the report's others)."""
    n = len(exhausted_at)
    down = sorted(m for m in exhausted_at if m is not None)
    x = _scale(0, max(marks, 1), LEFT, RIGHT)
    y = _scale(0, 1, BOTTOM, TOP)
    alive, i, shares = n, 0, [n]
    for t in range(marks):
        while i < len(down) and down[i] == t:
            alive, i = alive - 1, i + 1
        shares.append(alive)
    points = [f"{x(t):.1f},{y(k / n if n else 1):.1f}" for t, k in enumerate(shares)]
    bands = [wilson(k, n) for k in shares]
    ring = [f"{x(t):.1f},{y(b[1]):.1f}" for t, b in enumerate(bands)]
    ring += [f"{x(t):.1f},{y(b[0]):.1f}" for t, b in reversed(list(enumerate(bands)))]
    body = _axes("share of paths", "mark events")
    body.append(
        f'<polygon points="{" ".join(ring)}" fill="#bfdbfe" stroke="none"><title>95% interval</title></polygon>'
    )
    body.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#2563eb" stroke-width="2"/>')
    body.append(_text(RIGHT, BOTTOM - 6, "band: 95% interval (Wilson)", anchor="end", size=9))
    for share in (0, 0.5, 1):
        body.append(_text(LEFT - 6, y(share) + 3, f"{share:.0%}", anchor="end", size=9))
    body.append(_text(x(marks), BOTTOM + 14, f"{marks:,}", anchor="middle", size=9))
    return _svg(HEIGHT, "insurance fund not yet exhausted", body)


def price_fan(result: Result) -> str:
    """Quantiles of the venue price across paths at each mark event, redrawn from the seeds."""
    prepared = result.prepared
    count = min(len(result.outcomes), FAN_PATHS)
    paths = np.array(
        [venue_prices(prepared, result.seed, i) for i in range(count)],
        dtype=np.float64,
    )
    start = prepared.start
    bands = np.quantile(np.column_stack([np.full(count, start), paths]), FAN_QUANTILES, axis=0)
    lo, hi = float(bands.min()), float(bands.max())
    x = _scale(0, bands.shape[1] - 1, LEFT, RIGHT)
    y = _scale(lo, hi, BOTTOM, TOP)
    money = Money.of(prepared.policy)
    # a linear contract's venue price is the engine's lot value, which the policy's units read
    # (USDT/BTC); an inverse contract's fan stays in its own venue price
    readable = money.readable and not prepared.policy.contract.is_inverse
    unit = f"price ({money.price_unit})" if readable else "price (quanta per lot)"
    body = _axes(unit, f"mark events ({count:,} paths)")

    def edge(row: np.ndarray) -> list[str]:
        return [f"{x(t):.1f},{y(v):.1f}" for t, v in enumerate(row)]

    for (a, b), shade in (((0, 4), "#dbeafe"), ((1, 3), "#93c5fd")):
        ring = edge(bands[a]) + list(reversed(edge(bands[b])))
        body.append(f'<polygon points="{" ".join(ring)}" fill="{shade}" stroke="none"/>')
    body.append(f'<polyline points="{" ".join(edge(bands[2]))}" fill="none" stroke="#1d4ed8" stroke-width="2"/>')
    for tick in _ticks(lo, hi):
        shown = money.price_number(tick) if readable and isinstance(tick, int) else f"{tick:,}"
        body.append(_text(LEFT - 6, y(tick) + 3, shown, anchor="end", size=9))
    body.append(_text(RIGHT, TOP + 10, "median, 25–75%, 5–95%", anchor="end", size=9))
    return _svg(HEIGHT, "price paths", body)


def _tail_cells(summary: dict, money: Money) -> list[tuple[str, ...]]:
    """The text report's per-path rows with each estimate over its interval (two lines a cell, so
    the table fits the page)."""
    out = []
    for row in tail_rows(summary, money):
        cells = []
        for cell in row[1:6]:
            value, _, interval = cell.partition(" ")
            cells.append(f'{html.escape(value)}<br><span class="iv">{html.escape(interval)}</span>')
        out.append((row[0], *cells, row[6]))
    return out


def render_html(result: Result, exported: list[str] | None = None) -> str:
    tails = result.summary["tails"]["bad_debt_quote"]
    marks = max((o.mark_events for o in result.outcomes), default=0)
    figures = [
        (
            "Bad debt per path",
            loss_distribution(
                [o.bad_debt_quote for o in result.outcomes],
                tails["var_95"],
                tails["var_99"],
                Money.of(result.prepared.policy),
            ),
        ),
        ("Insurance fund survival", fund_survival([o.fund_exhausted_mark for o in result.outcomes], marks)),
        ("Price paths", price_fan(result)),
    ]
    title = f"solvent simulate: {result.prepared.policy.name}, {result.prepared.scenario.name}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#0f172a}"
        "figure{display:inline-block;margin:0 1em 1em 0}table{border-collapse:collapse;margin:6px 0 14px;font-size:13px}"
        "th,td{padding:3px 10px;border-bottom:1px solid #e2e8f0;text-align:left;white-space:nowrap}"
        "td.num{text-align:right;font-variant-numeric:tabular-nums}p.note{font-size:13px;color:#475569}"
        "span.iv{font-size:11px;color:#64748b}</style>",
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
        *(f"<figure><figcaption>{html.escape(name)}</figcaption>{svg}</figure>" for name, svg in figures),
        *(f"<p>{html.escape(line)}</p>" for line in heading(result)),
        table(PROBABILITY_HEADERS, probability_rows(result.summary), numeric=(1, 2)),
        table(
            TAIL_HEADERS,
            _tail_cells(result.summary, Money.of(result.prepared.policy)),
            numeric=range(1, len(TAIL_HEADERS)),
            raw=range(1, 6),
        ),
        *(f'<p class="note">{html.escape(line)}</p>' for line in notes(result, exported)),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


__all__ = ["fund_survival", "loss_distribution", "price_fan", "render_html"]

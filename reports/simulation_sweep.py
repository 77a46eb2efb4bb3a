"""A sweep (``simulate --sweep``) or a threshold's edge (``simulate --at-threshold``) as a text table
or JSON (schema ``solvent.simulation.sweep/1``): one row per value, each estimate with its 95%
interval. Like the single run's report, neither carries a time, so the same command gives the same
bytes on any number of workers.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from tabulate import tabulate

from solvent.properties.findings import policy_digest
from solvent.reports.html_report import table
from solvent.reports.money import Money
from solvent.reports.plots import _line, _svg, _text, text_width
from solvent.reports.simulation import _interval, amounts, units_note
from solvent.simulation.sweep import Point, Sweep, plain, show

SCHEMA = "solvent.simulation.sweep/1"

#: the columns: (header, where in the summary, kind); what moves with a parameter
COLUMNS = (
    ("P(bad debt)", ("probabilities", "bad_debt"), "p"),
    ("P(fund exhausted)", ("probabilities", "fund_exhausted"), "p"),
    ("P(ADL)", ("probabilities", "adl"), "p"),
    ("fund drawdown VaR 95%", ("tails", "fund_drawdown_quote", "var_95"), "q"),
    ("fund drawdown VaR 99%", ("tails", "fund_drawdown_quote", "var_99"), "q"),
    ("winners' haircut VaR 99% (ppm)", ("tails", "haircut_rate_ppm", "var_99"), "q"),
)
SIDES = {"safe": "proved side", "unsafe": "refuted side", None: "undecided"}


def _at(summary: dict[str, Any], where: tuple[str, ...]) -> dict[str, Any]:
    node: Any = summary
    for key in where:
        node = node[key]
    return node


def _probability(p: dict[str, Any]) -> str:
    return f"{p['value']:.3f} [{p['low']:.3f}, {p['high']:.3f}]"


def _row(point: Point, edge: bool) -> list[str]:
    s, money = point.result.summary, Money.of(point.result.prepared.policy)
    head = [f"{show(point.fraction)}%", show(point.value), SIDES[point.side]] if edge else [show(point.value)]
    cells = [
        _probability(_at(s, w)) if kind == "p" else _interval(_at(s, w), amounts(w[1], money)) for _, w, kind in COLUMNS
    ]
    return head + cells


def _cell_text(cell: dict[str, Any], kind: str, where: tuple[str, ...], money: Money) -> tuple[str, str]:
    """A heat map cell's estimate and its interval: a probability to three places, an amount in
    the policy's currency, a count or a rate as it is."""
    if kind == "p":
        return f"{cell['value']:.3f}", f"[{cell['low']:.3f}, {cell['high']:.3f}]"
    m = amounts(where[1], money)
    return m.number(cell["value"]), f"[{m.number(cell['low'])}, {m.number(cell['high'])}]"


def _is_edge(sweep: Sweep) -> bool:
    return any(p.fraction is not None for p in sweep.points)


def heading(sweep: Sweep) -> list[str]:
    """What ran: the policy, the scenario, the values, the threshold (if any), how the runs stopped."""
    first = sweep.points[0].result
    prepared = first.prepared
    scenario = prepared.scenario
    edge = _is_edge(sweep)
    what = (
        f"at {len(sweep.points)} fractions of a proved threshold"
        if edge
        else f"sweep of {sweep.field} over {len(sweep.points)} values"
    )
    if sweep.fixed is not None:
        what += f" at {sweep.fixed[0]} = {show(sweep.fixed[1])}"
    counts = sorted({p.result.summary["paths"] for p in sweep.points})
    paths = f"{counts[0]:,}" if len(counts) == 1 else f"{counts[0]:,}–{counts[-1]:,}"
    lines = [
        f"policy {prepared.policy.name}, scenario {scenario.name}: {what}, {paths} paths each (seed {first.seed}), "
        f"{scenario.book.traders:,} traders, price model {scenario.prices.kind}, cadence {scenario.path.cadence}",
    ]
    t = sweep.threshold
    if t is not None:
        lines.append(
            f"threshold {t['question']}, {t['title']}: {t['boundary']} ({t['status']}; {t['probes']} probes, "
            f"{t['units']:,} units)"
        )
        if t["comparison"]:
            lines.append(f"  {t['comparison']}")
    if edge:
        lines.append(f"set as {sweep.field}" + (f" ({sweep.note})" if sweep.note else ""))
    if _same_stop(sweep):
        lines.append(f"stopped: {first.stopped}")
    return lines


def _same_stop(sweep: Sweep) -> bool:
    return all(p.result.stopped == sweep.points[0].result.stopped for p in sweep.points)


def table_rows(sweep: Sweep) -> tuple[list[str], list[list[str]]]:
    """The table's headers and one row per value."""
    edge = _is_edge(sweep)
    headers = ["share", sweep.field, "side of the boundary"] if edge else [sweep.field]
    headers += [c[0] for c in COLUMNS]
    return headers, [_row(p, edge) for p in sweep.points]


def notes(sweep: Sweep) -> list[str]:
    """The units and how to read the intervals; each value's stop where they differ."""
    prepared = sweep.points[0].result.prepared
    lines = [
        f"{units_note(Money.of(prepared.policy), prepared.policy.units.quote)}; every value runs the same seeds (path i "
        "draws from the same streams at each). [low, high]: 95% intervals (probabilities: Wilson; VaR: "
        "order statistics, * fewer paths than 95% coverage needs).",
    ]
    if not _same_stop(sweep):
        lines += [f"{show(p.value)}: stopped: {p.result.stopped}" for p in sweep.points]
    return lines


def render_text(sweep: Sweep) -> str:
    headers, rows = table_rows(sweep)
    lines = [*heading(sweep), "", tabulate(rows, headers=headers, disable_numparse=True), "", *notes(sweep)]
    return "\n".join(lines) + "\n"


def html_table(sweep: Sweep) -> str:
    """The text report as HTML: its heading, the table with each estimate over its interval (two
    lines a cell, so it fits the page), its notes."""
    headers, rows = table_rows(sweep)
    first = len(headers) - len(COLUMNS)
    cells = []
    for row in rows:
        shown = [html.escape(c) for c in row[:first]]
        for c in row[first:]:
            value, _, interval = c.partition(" ")
            shown.append(f'{html.escape(value)}<br><span class="iv">{html.escape(interval)}</span>')
        cells.append(shown)
    return "\n".join(
        [
            *(f"<p>{html.escape(line)}</p>" for line in heading(sweep)),
            table(headers, cells, numeric=range(first, len(headers)), raw=range(len(headers))),
            *(f'<p class="note">{html.escape(line)}</p>' for line in notes(sweep)),
        ]
    )


#: the heat map's rows: (label, where in the summary, kind)
HEAT_ROWS = (
    ("P(bad debt)", ("probabilities", "bad_debt"), "p"),
    ("P(fund exhausted)", ("probabilities", "fund_exhausted"), "p"),
    ("P(ADL)", ("probabilities", "adl"), "p"),
    ("P(socialized loss or haircut)", ("probabilities", "socialized_loss_or_haircut"), "p"),
    ("P(winners pay)", ("probabilities", "winners_pay"), "p"),
    ("fund drawdown VaR 95%", ("tails", "fund_drawdown_quote", "var_95"), "q"),
    ("bad debt VaR 99%", ("tails", "bad_debt_quote", "var_99"), "q"),
    ("winners' haircut VaR 99% (ppm)", ("tails", "haircut_rate_ppm", "var_99"), "q"),
)
CELL_W, CELL_H, LABEL_W, HEAD_H = 78, 26, 200, 40


def _shade(share: float) -> str:
    """White (0) to red (1)."""
    share = min(max(share, 0.0), 1.0)
    g = round(255 - 190 * share)
    return f"rgb(255,{g},{g})"


def _boundary(sweep: Sweep) -> tuple[float, str] | None:
    """Where the z3 boundary falls on the columns (increasing whole values), and where that is in
    words: the edge between the last column at or before it and the first after it, the boundary
    being the proved value or, with a refuted value next to it, halfway between them. A boundary
    at or after every column is drawn on the right edge of the last, one before every column on
    the left edge of the first, and the words say so. None where there is no proved value or the
    columns are not increasing whole values."""
    t = sweep.threshold
    values = [p.value for p in sweep.points]
    if t is None or t["proved_at_ppm"] is None or not all(type(v) is int for v in values):
        return None
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        return None
    refuted = t["refuted_at_ppm"]
    at = t["proved_at_ppm"] if refuted is None else (t["proved_at_ppm"] + refuted) / 2
    k = sum(1 for v in values if v <= at)
    where = {0: ", before every column", len(values): ", at or after every column"}.get(k, "")
    return LABEL_W + k * CELL_W - 1, where


def heat_map(sweep: Sweep) -> str:
    """Rows of estimates, one column per value, each cell shaded by its estimate (a probability on
    0–1, an amount on its row's largest), the z3 boundary as a dashed line where it is known."""
    n = len(sweep.points)
    money = Money.of(sweep.points[0].result.prepared.policy)
    width = LABEL_W + n * CELL_W + 10
    height = HEAD_H + len(HEAT_ROWS) * CELL_H + 30
    body = [_text(4, 14, sweep.field, size=11, weight="bold")]
    width = max(width, 8 + text_width(sweep.field, 11, weight="bold"))
    for c, p in enumerate(sweep.points):
        label = show(p.value) + (f" ({show(p.fraction)}%)" if p.fraction is not None else "")
        body.append(_text(LABEL_W + (c + 0.5) * CELL_W, HEAD_H - 8, label, anchor="middle", size=9))
    for r, (label, where, kind) in enumerate(HEAT_ROWS):
        y = HEAD_H + r * CELL_H
        label = amounts(where[1], money).column(label)  # an amount's row names its currency
        body.append(_text(LABEL_W - 6, y + CELL_H / 2 + 4, label, anchor="end", size=10))
        cells = [_at(p.result.summary, where) for p in sweep.points]
        top = max((c["value"] for c in cells), default=0) if kind == "q" else 1
        for c, cell in enumerate(cells):
            share = cell["value"] / top if top else 0.0
            text, bounds = _cell_text(cell, kind, where, money)
            tip = f"{label} at {show(sweep.points[c].value)}: {text} {bounds}"
            x = LABEL_W + c * CELL_W
            body.append(
                f'<rect x="{x}" y="{y}" width="{CELL_W - 2}" height="{CELL_H - 2}" fill="{_shade(share)}">'
                f"<title>{html.escape(tip)}</title></rect>"
            )
            body.append(_text(x + CELL_W / 2 - 1, y + CELL_H / 2 + 3, text, anchor="middle", size=9))
    found = _boundary(sweep)
    if found is not None:
        (edge, off), t = found, sweep.threshold
        bottom = HEAD_H + len(HEAT_ROWS) * CELL_H
        note = f"dashed: z3 boundary: {t['boundary']}{off}"
        body.append(_line(edge, HEAD_H - 4, edge, bottom, "#1d4ed8", width=2, dash="5 3"))
        body.append(_text(LABEL_W, bottom + 16, note, size=10, fill="#1d4ed8"))
        width = max(width, LABEL_W + 8 + text_width(note, 10))
    return _svg(height, f"{sweep.field}: estimates by value", body, width=width)


def grid_map(sweeps: Sequence[Sweep], label: str, where: tuple[str, ...], kind: str) -> str:
    """A grid over two fields (:func:`solvent.simulation.sweep.grid`) for one estimate: a row per
    value of the rows' field, a column per value of the columns', each cell shaded by its estimate
    (a probability on 0–1, an amount on the grid's largest), and each row's z3 boundary (found on
    that row's policy) as a dashed line where it falls between two columns."""
    columns = sweeps[0].points
    rows_field, columns_field = sweeps[0].fixed[0], sweeps[0].field
    money = Money.of(columns[0].result.prepared.policy)
    label = amounts(where[1], money).column(label)  # an amount's map names its currency
    height = HEAD_H + 16 + len(sweeps) * CELL_H + 30
    top_y = HEAD_H + 16
    axes = f"rows: {rows_field}; columns: {columns_field}"
    body = [_text(4, 14, label, size=11, weight="bold"), _text(4, 30, axes, size=10)]
    width = max(LABEL_W + len(columns) * CELL_W + 10, 8 + text_width(axes, 10), 8 + text_width(label, 11, "bold"))
    for c, p in enumerate(columns):
        body.append(_text(LABEL_W + (c + 0.5) * CELL_W, top_y - 6, show(p.value), anchor="middle", size=9))
    cells = [[_at(p.result.summary, where) for p in s.points] for s in sweeps]
    top = max((c["value"] for row in cells for c in row), default=0) if kind == "q" else 1
    for r, (s, row) in enumerate(zip(sweeps, cells, strict=True)):
        y = top_y + r * CELL_H
        body.append(_text(LABEL_W - 6, y + CELL_H / 2 + 4, show(s.fixed[1]), anchor="end", size=10))
        for c, cell in enumerate(row):
            text, bounds = _cell_text(cell, kind, where, money)
            tip = f"{label} at {rows_field} = {show(s.fixed[1])}, {columns_field} = {show(s.points[c].value)}: "
            x = LABEL_W + c * CELL_W
            share = cell["value"] / top if top else 0.0
            body.append(
                f'<rect x="{x}" y="{y}" width="{CELL_W - 2}" height="{CELL_H - 2}" fill="{_shade(share)}">'
                f"<title>{html.escape(tip + text + ' ' + bounds)}</title></rect>"
            )
            body.append(_text(x + CELL_W / 2 - 1, y + CELL_H / 2 + 3, text, anchor="middle", size=9))
        found = _boundary(s)
        if found is not None:
            edge, off = found
            body.append(_line(edge, y - 1, edge, y + CELL_H - 1, "#1d4ed8", width=2, dash="5 3"))
            if off:  # off the columns: said beside the row, not only drawn on its edge
                body.append(
                    _text(LABEL_W + len(columns) * CELL_W + 6, y + CELL_H / 2 + 4, off[2:], size=9, fill="#1d4ed8")
                )
                width = max(width, LABEL_W + len(columns) * CELL_W + 12 + text_width(off[2:], 9))
    if any(s.threshold is not None for s in sweeps):
        t = next(s.threshold for s in sweeps if s.threshold is not None)
        note = f"dashed: z3's {t['question']} boundary on each row's policy"
        body.append(_text(LABEL_W, top_y + len(sweeps) * CELL_H + 18, note, size=10, fill="#1d4ed8"))
        width = max(width, LABEL_W + 8 + text_width(note, 10))
    return _svg(height, f"{label} over {rows_field} and {columns_field}", body, width=width)


def render_html(sweeps: Sequence[Sweep]) -> str:
    """One self-contained page: each sweep's heat map (with the z3 boundary where one is known) and
    its text table. No time, no random ids: the same bytes for the same run."""
    first = sweeps[0].points[0].result.prepared
    title = f"solvent simulate: {first.policy.name}, {first.scenario.name}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1400px;margin:2em auto;padding:0 1em;color:#0f172a}"
        "figure{margin:0 0 1em 0}table{border-collapse:collapse;margin:6px 0 14px;font-size:13px}"
        "th,td{padding:3px 10px;border-bottom:1px solid #e2e8f0;text-align:left;white-space:nowrap}"
        "td.num{text-align:right;font-variant-numeric:tabular-nums}p.note{font-size:13px;color:#475569}"
        "span.iv{font-size:11px;color:#64748b}</style>",
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if any(s.fixed is not None for s in sweeps):  # a grid: one map per estimate, then each row's table
        parts += [f"<figure>{grid_map(sweeps, *row)}</figure>" for row in HEAT_ROWS]
        parts += [html_table(s) for s in sweeps]
    else:
        for s in sweeps:
            parts += [f"<figure>{heat_map(s)}</figure>", html_table(s)]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def engine_lines(sweep: Sweep) -> str:
    """Which engine ran each point's paths (not in the JSON: the outcomes are the same on either)."""
    at = "" if sweep.fixed is None else f"{sweep.fixed[0]}={show(sweep.fixed[1])}, "
    return "".join(f"{at}{sweep.field}={show(p.value)}: {p.result.engine.line()}\n" for p in sweep.points)


def _sweep_data(sweep: Sweep) -> dict[str, Any]:
    fixed = {} if sweep.fixed is None else {"fixed": {"field": sweep.fixed[0], "value": plain(sweep.fixed[1])}}
    return {
        "field": sweep.field,
        **fixed,
        "note": sweep.note,
        "threshold": sweep.threshold,
        "points": [
            {
                "value": plain(p.value),
                "fraction_percent": None if p.fraction is None else plain(p.fraction),
                "side": p.side,
                "policy_digest": policy_digest(p.result.prepared.policy),
                "batches": p.result.batches,
                "stopped": p.result.stopped,
                "summary": p.result.summary,
                "per_path": [o.to_data() for o in p.result.outcomes],
            }
            for p in sweep.points
        ],
    }


def to_data(sweeps: Sequence[Sweep]) -> dict[str, Any]:
    """One or more sweeps of one policy, scenario and seed (``--at-threshold`` takes several questions)."""
    first = sweeps[0].points[0].result
    prepared = first.prepared
    return {
        "schema": SCHEMA,
        "policy": {"name": prepared.policy.name, "digest": policy_digest(sweeps[0].base or prepared.policy)},
        "scenario": prepared.scenario.name,
        "seed": first.seed,
        "sweeps": [_sweep_data(s) for s in sweeps],
    }


def render_json(sweeps: Sequence[Sweep]) -> str:
    return json.dumps(to_data(sweeps), indent=2) + "\n"


__all__ = [
    "SCHEMA",
    "engine_lines",
    "grid_map",
    "heading",
    "heat_map",
    "html_table",
    "notes",
    "render_html",
    "render_json",
    "render_text",
    "table_rows",
    "to_data",
]

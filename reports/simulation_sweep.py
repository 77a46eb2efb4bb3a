"""A sweep (``simulate --sweep``) or a threshold's edge (``simulate --at-threshold``) as a text table
or JSON (schema ``solvent.simulation.sweep/1``): one row per value, each estimate with its 95%
interval. Like the single run's report, neither carries a time, so the same command gives the same
bytes on any number of workers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tabulate import tabulate

from solvent.properties.findings import policy_digest
from solvent.reports.simulation import _interval
from solvent.simulation.sweep import Point, Sweep, plain, show

SCHEMA = "solvent.simulation.sweep/1"

#: the columns: (header, where in the summary, kind); what moves with a parameter
COLUMNS = (
    ("P(bad debt)", ("probabilities", "bad_debt"), "p"),
    ("P(fund exhausted)", ("probabilities", "fund_exhausted"), "p"),
    ("P(ADL)", ("probabilities", "adl"), "p"),
    ("fund drawdown VaR 95%", ("tails", "fund_drawdown_quote", "var_95"), "q"),
    ("VaR 99%", ("tails", "fund_drawdown_quote", "var_99"), "q"),
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
    s = point.result.summary
    head = [f"{show(point.fraction)}%", show(point.value), SIDES[point.side]] if edge else [show(point.value)]
    cells = [_probability(_at(s, w)) if kind == "p" else _interval(_at(s, w)) for _, w, kind in COLUMNS]
    return head + cells


def render_text(sweep: Sweep) -> str:
    first = sweep.points[0].result
    prepared = first.prepared
    scenario = prepared.scenario
    edge = sweep.threshold is not None
    what = (
        f"at {len(sweep.points)} fractions of a proved threshold"
        if edge
        else f"sweep of {sweep.field} over {len(sweep.points)} values"
    )
    counts = sorted({p.result.summary["paths"] for p in sweep.points})
    paths = f"{counts[0]:,}" if len(counts) == 1 else f"{counts[0]:,}–{counts[-1]:,}"
    lines = [
        f"policy {prepared.policy.name}, scenario {scenario.name}: {what}, {paths} paths each (seed {first.seed}), "
        f"{scenario.book.traders:,} traders, price model {scenario.prices.kind}, cadence {scenario.path.cadence}",
    ]
    if edge:
        t = sweep.threshold
        lines.append(
            f"threshold {t['question']}, {t['title']}: {t['boundary']} ({t['status']}; {t['probes']} probes, "
            f"{t['units']:,} units)"
        )
        if t["comparison"]:
            lines.append(f"  {t['comparison']}")
        lines.append(f"set as {sweep.field}" + (f" ({sweep.note})" if sweep.note else ""))
    same_stop = all(p.result.stopped == first.stopped for p in sweep.points)
    if same_stop:
        lines.append(f"stopped: {first.stopped}")
    lines.append("")
    headers = ["share", sweep.field, "side of the boundary"] if edge else [sweep.field]
    headers += [c[0] for c in COLUMNS]
    lines.append(tabulate([_row(p, edge) for p in sweep.points], headers=headers, disable_numparse=True))
    lines += [
        "",
        f"Amounts in quote quanta ({prepared.policy.units.quote}); every value runs the same seeds (path i "
        "draws from the same streams at each). [low, high]: 95% intervals (probabilities: Wilson; VaR: "
        "order statistics, * fewer paths than 95% coverage needs).",
    ]
    if not same_stop:
        for p in sweep.points:
            lines.append(f"{show(p.value)}: stopped: {p.result.stopped}")
    return "\n".join(lines) + "\n"


def engine_lines(sweep: Sweep) -> str:
    """Which engine ran each point's paths (not in the JSON: the outcomes are the same on either)."""
    return "".join(f"{sweep.field}={show(p.value)}: {p.result.engine.line()}\n" for p in sweep.points)


def _sweep_data(sweep: Sweep) -> dict[str, Any]:
    return {
        "field": sweep.field,
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


__all__ = ["SCHEMA", "engine_lines", "render_json", "render_text", "to_data"]

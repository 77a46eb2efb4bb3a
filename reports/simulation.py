"""A simulation's result as text (tables) or JSON (schema ``solvent.simulation/1``, amounts as exact ints).

Neither carries a time or anything else that depends on the machine: the same scenario, policy,
seed and path count give byte-identical output whatever executor ran the paths.
"""

from __future__ import annotations

import json
from typing import Any

from tabulate import tabulate

from solvent.properties.findings import policy_digest
from solvent.simulation.run import Result

SCHEMA = "solvent.simulation/1"

PROBABILITY_LABELS = {
    "bad_debt": "a deficit enters the waterfall (bad debt)",
    "fund_exhausted": "the insurance fund is exhausted",
    "adl": "auto-deleveraging closes a position",
    "socialized_loss_or_haircut": "a socialized loss, haircut or clawback",
    "winners_pay": "winners pay for a deficit (ADL or any of the above)",
    "negative_balance": "a trader is left below zero",
}
TAIL_LABELS = {
    "fund_drawdown_quote": "insurance fund drawdown",
    "bad_debt_quote": "bad debt per path",
    "liquidations": "liquidations per path (LaR)",
    "liquidated_notional_quote": "liquidated notional per path",
    "haircut_quote": "paid by winners per path",
    "haircut_rate_ppm": "winners' haircut rate (ppm of profit)",
}


def _int(x: float | int) -> str:
    return f"{round(x):,}"


def _interval(entry: dict[str, Any]) -> str:
    mark = "" if entry.get("covered", True) else "*"
    return f"{entry['value']:,} [{_int(entry['low'])}, {_int(entry['high'])}]{mark}"


PROBABILITY_HEADERS = ("probability that", "paths", "estimate", "95% interval (Wilson)")
TAIL_HEADERS = ("per path", "mean", "VaR 95%", "ES 95%", "VaR 99%", "ES 99%", "max")


def heading(result: Result) -> list[str]:
    """What ran: the policy, the scenario, the paths and how the run stopped."""
    s, prepared = result.summary, result.prepared
    scenario = prepared.scenario
    return [
        f"policy {prepared.policy.name}, scenario {scenario.name}: {s['paths']:,} paths (seed {result.seed}), "
        f"{s['events']:,} mark events, {scenario.book.traders:,} traders each, price model {scenario.prices.kind}, "
        f"cadence {scenario.path.cadence}",
        f"stopped: {result.stopped}",
    ]


def probability_rows(summary: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [
        (PROBABILITY_LABELS[name], f"{p['count']:,}", f"{p['value']:.4f}", f"[{p['low']:.4f}, {p['high']:.4f}]")
        for name, p in summary["probabilities"].items()
    ]


def tail_rows(summary: dict[str, Any]) -> list[tuple[str, ...]]:
    return [
        (
            TAIL_LABELS[name],
            _interval(t["mean"]),
            _interval(t["var_95"]),
            _interval(t["es_95"]),
            _interval(t["var_99"]),
            _interval(t["es_99"]),
            f"{t['max']:,}",
        )
        for name, t in summary["tails"].items()
    ]


def notes(result: Result, exported: list[str] | None = None) -> list[str]:
    """The units and how to read the intervals, the traders opened at the policy's margin, and the
    command that replays each exported story."""
    s, prepared = result.summary, result.prepared
    lines = [
        f"Amounts in quote quanta ({prepared.policy.units.quote}); [low, high]: 95% intervals (VaR: order "
        "statistics, distribution-free; mean and ES: bootstrap, seeded); * fewer paths than that "
        "interval needs for 95% coverage (it spans the extreme paths).",
    ]
    if s["capped_traders"]:
        lines.append(
            f"{s['capped_traders']:,} drawn traders asked for more leverage than the policy allows; they opened at its initial margin."
        )
    return lines + [f"replay: solvent replay {path}" for path in exported or []]


def render_text(result: Result, exported: list[str] | None = None) -> str:
    s = result.summary
    lines = [*heading(result), ""]
    lines.append(tabulate(probability_rows(s), headers=PROBABILITY_HEADERS))
    lines.append("")
    lines.append(tabulate(tail_rows(s), headers=TAIL_HEADERS, disable_numparse=True))
    lines += ["", *notes(result, exported)]
    return "\n".join(lines) + "\n"


def to_data(result: Result, exported: list[str] | None = None) -> dict[str, Any]:
    prepared = result.prepared
    return {
        "schema": SCHEMA,
        "policy": {"name": prepared.policy.name, "digest": policy_digest(prepared.policy)},
        "scenario": prepared.scenario.name,
        "seed": result.seed,
        "batches": result.batches,
        "stopped": result.stopped,
        "summary": result.summary,
        "per_path": [o.to_data() for o in result.outcomes],
        "exported": list(exported or []),
    }


def render_json(result: Result, exported: list[str] | None = None) -> str:
    return json.dumps(to_data(result, exported), indent=2) + "\n"


__all__ = [
    "PROBABILITY_HEADERS",
    "SCHEMA",
    "TAIL_HEADERS",
    "heading",
    "notes",
    "probability_rows",
    "render_json",
    "render_text",
    "tail_rows",
    "to_data",
]

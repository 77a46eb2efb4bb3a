"""A simulation's result as text (tables) or JSON (schema ``solvent.simulation/1``, amounts as exact ints).

Neither carries a time or anything else that depends on the machine: the same scenario, policy,
seed and path count give byte-identical output whatever executor ran the paths.
"""

from __future__ import annotations

import json
from typing import Any

from tabulate import tabulate

from solvent.properties.findings import policy_digest
from solvent.reports.money import QUANTA, Money
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


def _interval(entry: dict[str, Any], money: Money = QUANTA) -> str:
    """``value [low, high]`` (``*`` where the interval lacks 95% coverage), amounts in ``money``'s
    currency; a bootstrap end, a float, is first rounded to whole quanta."""
    mark = "" if entry.get("covered", True) else "*"
    low, high = (money.number(round(entry[end])) for end in ("low", "high"))
    return f"{money.number(entry['value'])} [{low}, {high}]{mark}"


def amounts(name: str, money: Money) -> Money:
    """How a per-path measure reads: an amount of quote quanta (``*_quote``) in the policy's
    currency, a count or a rate in ppm as it is."""
    return money if name.endswith("_quote") else QUANTA


def units_note(money: Money, quote: str) -> str:
    """What the amounts are in: the currency (``Amounts in USDT``) or, where the policy's
    ``[units]`` name none, quote quanta."""
    return f"Amounts in {money.currency}" if money.readable else f"Amounts in quote quanta ({quote})"


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


def tail_rows(summary: dict[str, Any], money: Money = QUANTA) -> list[tuple[str, ...]]:
    """One row per measure: its mean, VaR and ES at 95% and 99% with their intervals, and its
    maximum; amounts in ``money``'s currency."""
    rows = []
    for name, t in summary["tails"].items():
        m = amounts(name, money)
        cells = (_interval(t[k], m) for k in ("mean", "var_95", "es_95", "var_99", "es_99"))
        rows.append((TAIL_LABELS[name], *cells, m.number(t["max"])))
    return rows


def notes(result: Result, exported: list[str] | None = None) -> list[str]:
    """The units and how to read the intervals, the traders opened at the policy's margin, and the
    command that replays each exported story."""
    s, prepared = result.summary, result.prepared
    lines = [
        f"{units_note(Money.of(prepared.policy), prepared.policy.units.quote)}; [low, high]: 95% intervals (VaR: "
        "order statistics, distribution-free; mean and ES: bootstrap, seeded); * fewer paths than that "
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
    lines.append(tabulate(tail_rows(s, Money.of(result.prepared.policy)), headers=TAIL_HEADERS, disable_numparse=True))
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
    "amounts",
    "heading",
    "notes",
    "probability_rows",
    "render_json",
    "render_text",
    "tail_rows",
    "to_data",
    "units_note",
]

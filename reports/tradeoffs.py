"""How the trade-off table reads (the model is ``solvent.verdicts.tradeoffs``): Markdown, as in the
README, and JSON (schema ``solvent.tradeoffs/1``).

The gap's story reads in each policy's currency with its decimals (``reports.money``: ``alice's
deficit is USDT 88.99: insurance fund USDT 22.00, adl USDT 66.99``); the JSON keeps each amount's
exact integer in quote quanta beside its text, and the policy's units.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from solvent.reports.json_report import _units as units_data
from solvent.reports.money import QUANTA, Money
from solvent.verdicts.tradeoffs import PROMISES, TradeOff

SCHEMA = "solvent.tradeoffs/1"
STORY_HEADER = "what the one-tick gap does (gap-crash, then deposit-after-liquidation)"


def money_of(row: TradeOff) -> Money:
    """How the row's amounts read: its policy's units (quanta when the row carries no policy)."""
    return Money.of(row.judged) if row.judged is not None else QUANTA


def story(row: TradeOff) -> str:
    """The gap's story with its amounts in the policy's currency."""
    return row.told(money_of(row).amount)


def markdown(rows: Sequence[TradeOff]) -> str:
    """The table as Markdown: one row per policy, a column per promise, then the gap's story
    (amounts in each policy's currency; the story starts at a mark of 10,000 quanta per lot)."""
    header = ["policy", *PROMISES, STORY_HEADER]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    for row in rows:
        cells = [f"`{row.policy}`", *(row.cell(p) for p in PROMISES), story(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def row_data(row: TradeOff) -> dict[str, Any]:
    money = money_of(row)
    return {
        "policy": row.policy,
        **({"units": units_data(row.judged)} if row.judged is not None else {}),
        "promises": dict(row.cells),
        "gives_up": list(row.gives_up),
        "story": story(row),
        "amounts": [{"quanta": a, "text": money.amount(a)} for a in row.amounts],
    }


def render_json(rows: Sequence[TradeOff]) -> str:
    data = {"schema": SCHEMA, "promises": list(PROMISES), "rows": [row_data(r) for r in rows]}
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


__all__ = ["SCHEMA", "markdown", "money_of", "render_json", "row_data", "story"]

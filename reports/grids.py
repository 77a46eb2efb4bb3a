"""The tables and JSON of a grid of thresholds or proofs (``solvent.simulation.grids``).

A grid's table always prints: a cell without an answer (its task raised, its worker was lost) is
``error`` in its place with the reason in a note under the table, and the other cells read as
they would alone. Cells hold the short answer; what a cell cannot hold (why a threshold is only
bounded, why a proof is undecided, what an error was) is a numbered note under the table.

JSON: a threshold grid is ``solvent.threshold-grid/1``, whose ``policies`` are each the
``solvent.thresholds/1`` document one policy's ``solvent thresholds --json`` writes; a proof grid
is ``solvent.proof-grid/1``, one entry per (claim, N, K) cell. A cell without an answer has
``"status": "error"`` (``"verdict": "error"``) and ``"error"``. Seconds are the only values that
differ between two runs of the same grid, on any executor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from solvent.reports.json_report import proof_data
from solvent.reports.terminal import table
from solvent.simulation.executors import CellError
from solvent.solver.effort import units_text
from solvent.solver.thresholds import SCHEMA as THRESHOLDS_SCHEMA
from solvent.solver.thresholds import Threshold, ThresholdStatus, to_data
from solvent.solver.verdicts import ProofResult, Verdict

THRESHOLD_GRID_SCHEMA = "solvent.threshold-grid/1"
PROOF_GRID_SCHEMA = "solvent.proof-grid/1"


class _Notes:
    """Numbered notes under a table: ``[1] binance fund-for-gap: ...``."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def mark(self, where: str, text: str) -> str:
        self.lines.append(f"[{len(self.lines) + 1}] {where}: {text}")
        return f" [{len(self.lines)}]"

    def __str__(self) -> str:
        return "\n".join(self.lines)


def threshold_cell_text(t: Threshold | CellError, where: str, notes: _Notes) -> str:
    """One cell of a threshold grid: the exact answer, the interval with its reason in a note,
    not applicable (why, in a note), or ``error`` (what, in a note)."""
    if isinstance(t, CellError):
        return "error" + notes.mark(where, str(t))
    if t.status is ThresholdStatus.NOT_APPLICABLE:
        return "not applicable" + notes.mark(where, t.note)
    units = sum(p.units for p in t.probes)
    if t.status in (ThresholdStatus.BOUNDED, ThresholdStatus.UNKNOWN):
        spent = f"{len(t.probes)} probe{'s' if len(t.probes) != 1 else ''}, {units_text(units)}"
        why = f"{t.summary()} ({t.note or 'the probes allowed ran out'}; {spent})"
        return t.boundary.replace(" (undecided in between)", "") + notes.mark(where, why)
    return f"{t.boundary}, {units_text(units)}"


def threshold_keys(count: int, ids: Sequence[str]) -> list[tuple[int, str, str]]:
    """(policy index, question, market) of each cell of a grid of ``count`` policies that asks
    every question once, row by row: the keys when no question is asked per market."""
    return [(i, q, "") for i in range(count) for q in ids]


def _by_policy(
    count: int, keys: Sequence[tuple[int, str, str]], answers: Sequence[Threshold | CellError]
) -> list[list[tuple[str, str, Threshold | CellError]]]:
    """Each policy's (question, market, answer) cells, in order."""
    rows: list[list[tuple[str, str, Threshold | CellError]]] = [[] for _ in range(count)]
    for (i, q, market), answer in zip(keys, answers, strict=True):
        rows[i].append((q, market, answer))
    return rows


def threshold_grid_table(
    sources: Sequence[str],
    ids: Sequence[str],
    answers: Sequence[Threshold | CellError],
    keys: Sequence[tuple[int, str, str]] | None = None,
) -> str:
    """The policy × question table of a threshold grid (``answers`` row by row; ``keys``: each
    cell's (policy index, question, market) when a question is asked per market, whose cell then
    lists each market's answer), then its notes."""
    keys = keys if keys is not None else threshold_keys(len(sources), ids)
    notes = _Notes()
    rows = []
    for source, cells in zip(sources, _by_policy(len(sources), keys, answers), strict=True):
        texts = []
        for q in ids:
            mine = [(m, t) for qq, m, t in cells if qq == q]
            parts = [
                (f"{m}: " if m else "") + threshold_cell_text(t, f"{source} {q}" + (f" {m}" if m else ""), notes)
                for m, t in mine
            ]
            texts.append("; ".join(parts))
        rows.append((source, *texts))
    text = table(rows, ("policy", *ids), wrap=tuple(range(1, len(ids) + 1)))
    return f"{text}\n{notes}" if notes.lines else text


def threshold_error_data(question: str, error: CellError, market: str = "") -> dict[str, Any]:
    """A threshold cell without an answer, in the place of ``solvent.solver.thresholds.to_data``
    (with the market it was asked in, for a per-market question)."""
    data = {"question": question, "status": "error", "error": error.message, "error_kind": error.kind}
    return data | ({"market": market} if market else {})


def thresholds_json(
    policy: str,
    ids: Sequence[str],
    answers: Sequence[Threshold | CellError],
    markets: Sequence[str] | None = None,
) -> dict[str, Any]:
    """One policy's answers: ``solvent.thresholds/1`` (``solvent.solver.thresholds.to_json``), a
    cell without an answer as :func:`threshold_error_data`. ``ids``: each answer's question;
    ``markets``: each answer's market ("" or None: none)."""
    markets = markets if markets is not None else [""] * len(answers)
    cells = [
        threshold_error_data(q, t, m) if isinstance(t, CellError) else to_data(t)
        for q, m, t in zip(ids, markets, answers, strict=True)
    ]
    return {"schema": THRESHOLDS_SCHEMA, "policy": policy, "thresholds": cells}


def threshold_grid_json(
    names: Sequence[str],
    sources: Sequence[str],
    ids: Sequence[str],
    answers: Sequence[Threshold | CellError],
    code: int,
    keys: Sequence[tuple[int, str, str]] | None = None,
) -> dict[str, Any]:
    """``solvent.threshold-grid/1``: each policy's ``solvent.thresholds/1`` document (with the
    name or file it was given as, ``source``), the questions, and the grid's exit code."""
    keys = keys if keys is not None else threshold_keys(len(sources), ids)
    policies = []
    for name, source, cells in zip(names, sources, _by_policy(len(sources), keys, answers), strict=True):
        doc = thresholds_json(name, [q for q, _, _ in cells], [t for _, _, t in cells], [m for _, m, _ in cells])
        policies.append(doc | {"source": source})
    return {"schema": THRESHOLD_GRID_SCHEMA, "questions": list(ids), "exit_code": code, "policies": policies}


# --- proofs --------------------------------------------------------------------------------------

#: the word a proof grid's cell shows for each verdict (unknown and partial are both undecided:
#: neither is a proof; the note says which obligations ran out)
WORDS = {
    Verdict.PROVED: "proved",
    Verdict.REFUTED: "refuted",
    Verdict.UNKNOWN: "undecided",
    Verdict.PARTIAL: "undecided",
    Verdict.VACUOUS: "vacuous",
}


def scope_label(accounts: int, events: int) -> str:
    return f"N={accounts}, K={events}"


def proof_cell_text(r: ProofResult | CellError, where: str, notes: _Notes) -> str:
    """One cell of a proof grid: proved, refuted (replayed) or undecided, with the units spent;
    the reason of an undecided or vacuous cell, or an error, in a note."""
    if isinstance(r, CellError):
        return "error" + notes.mark(where, str(r))
    word = WORDS.get(r.verdict, r.verdict.value)
    if r.verdict is Verdict.REFUTED and r.accepted:
        word = "refuted (accepted by the policy)"  # a documented trade-off, not a failure
    text = f"{word}, {units_text(r.units)}"
    if r.verdict is Verdict.PROVED and r.proved_scope.accounts is None:
        text = f"{word}, all N, {units_text(r.units)}"
    elif r.verdict is Verdict.PROVED and r.scope.accounts is None:  # the claim for all N, an obligation at N
        text = f"{word}, the claim all N, {units_text(r.units)}"
    if r.verdict not in (Verdict.PROVED, Verdict.REFUTED):
        text += notes.mark(where, r.reason or r.verdict.value)
    return text


def proof_grid_table(
    invariants: Sequence[str], scopes: Sequence[tuple[int, int]], answers: Sequence[ProofResult | CellError]
) -> str:
    """The claim × (N, K) table of a proof grid (``answers`` claim by claim), then its notes."""
    notes = _Notes()
    labels = [scope_label(n, k) for n, k in scopes]
    rows = []
    for i, invariant in enumerate(invariants):
        row = answers[i * len(scopes) : (i + 1) * len(scopes)]
        rows.append(
            (invariant, *(proof_cell_text(r, f"{invariant} {s}", notes) for s, r in zip(labels, row, strict=True)))
        )
    text = table(rows, ("claim", *labels), wrap=tuple(range(1, len(labels) + 1)))
    return f"{text}\n{notes}" if notes.lines else text


def proof_cell_data(invariant: str, accounts: int, events: int, r: ProofResult | CellError) -> dict[str, Any]:
    """One cell of ``solvent.proof-grid/1``: the verdict as the JSON report gives it
    (``solvent.reports.json_report.proof_data``), its units, and a refutation's replayed story."""
    from solvent.properties.findings import story_to_data

    where = {"invariant": invariant, "accounts": accounts, "events": events}
    if isinstance(r, CellError):
        return where | {"verdict": "error", "error": r.message, "error_kind": r.kind}
    cx = r.counterexample
    story = None if cx is None else {"detail": cx.detail, "step": cx.step_index, "story": story_to_data(cx.story)}
    return where | proof_data(r) | {"units": r.units, "counterexample": story}


def proof_grid_json(
    policy: str,
    invariants: Sequence[str],
    scopes: Sequence[tuple[int, int]],
    answers: Sequence[ProofResult | CellError],
    code: int,
) -> dict[str, Any]:
    """``solvent.proof-grid/1``: every (claim, N, K) cell, claim by claim, and the exit code."""
    cells = [
        proof_cell_data(invariant, n, k, answers[i * len(scopes) + j])
        for i, invariant in enumerate(invariants)
        for j, (n, k) in enumerate(scopes)
    ]
    return {
        "schema": PROOF_GRID_SCHEMA,
        "policy": policy,
        "invariants": list(invariants),
        "scopes": [{"accounts": n, "events": k} for n, k in scopes],
        "exit_code": code,
        "cells": cells,
    }


__all__ = [
    "PROOF_GRID_SCHEMA",
    "THRESHOLD_GRID_SCHEMA",
    "proof_grid_json",
    "proof_grid_table",
    "threshold_grid_json",
    "threshold_grid_table",
    "threshold_keys",
    "thresholds_json",
]

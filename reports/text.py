"""Terminal report of a policy check: a verdict table, then each failing step told as a story.

Failures at the same step of the same scenario are grouped (``story.group_findings``), so a story
is told once with every claim it breaks. Amounts are integers in the policy's quote quantum
(stated in the header).
"""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from solvent.reports.proof_text import render_thresholds
from solvent.reports.story import (
    LABEL,
    book_value,
    column_header,
    describe_outcome,
    evidence,
    origin_label,
    reproduce,
    story_steps,
    summary_line,
    unconstrained_cash_note,
    units_text,
    venue_terms_lines,
    worth_showing,
)
from solvent.rules.book import Book
from solvent.rules.contract import LINEAR, Contract
from solvent.rules.engine import Step
from solvent.verdicts.check import PolicyReport, Violation
from solvent.verdicts.findings import group_findings

__all__ = ["render", "render_all", "story", "summary_line", "transfers_table", "verdict_table"]


def verdict_table(report: PolicyReport) -> str:
    rows = [(v.invariant.id, LABEL[v.status], evidence(v), v.invariant.claim) for v in report.verdicts]
    return tabulate(
        rows,
        headers=("invariant", "verdict", "evidence", "claim"),
        tablefmt="simple",
        maxcolwidths=[None, None, None, 60],
    )


def _accounts_table(book: Book, contract: Contract = LINEAR) -> str:
    """The book's accounts, sizes in the venue's terms (an inverse contract's long is positive)."""
    rows = [
        (
            a.name,
            a.cash_quote,
            a.spot_quote or "",
            book_value(a, "size_lots", contract) or "",
            a.principal_quote or "",
            a.debt_quote or "",
        )
        for a in book.accounts
        if a.is_trader or a.cash_quote or a.size_lots
    ]
    headers = ("account", "cash", "spot", column_header("size", contract), "principal", "debt")
    return tabulate(rows, headers=headers, tablefmt="simple")


def transfers_table(step: Step) -> str:
    rows = [(t.source, t.destination, t.amount_quote, t.reason.value) for t in step.transfers]
    return tabulate(rows, headers=("from", "to", "amount", "reason"), tablefmt="simple")


def _indent(text: str, pad: str = "    ") -> str:
    return "\n".join(pad + line for line in text.splitlines())


def story(violation: Violation, invariant_ids: list[str], report: PolicyReport) -> str:
    """One failing step: the events that lead to it, the book before, the ledger, the outcomes."""
    step = violation.step
    lines = [
        f"{', '.join(invariant_ids)} — {origin_label(violation)}, step {violation.step_index + 1}: {step.event!r}",
        "  events:",
    ]
    contract = report.policy.contract
    lines += [f"    {i + 1}. {e!r}" for i, e in enumerate(violation.events)]
    steps = story_steps(report.policy, violation) if contract.is_inverse else ()
    lines += venue_terms_lines([s.event for s in steps], [s.before for s in steps], contract)
    if violation.note:
        lines += ["  what differs from the twin:", _indent(violation.note)]
    note = unconstrained_cash_note(violation.story.book)
    if note:
        lines.append(f"  {note}")
    lines += ["  book before the failing step:", _indent(_accounts_table(step.before, contract))]
    lines += ["  transfers in the failing step:", _indent(transfers_table(step))]
    lines += ["  outcomes:"] + [
        f"    - {o!r}" if not contract.is_inverse else f"    - {describe_outcome(o, contract)}"
        for o in step.outcomes
        if worth_showing(o)
    ]
    lines += ["  book after:", _indent(_accounts_table(step.after, contract))]
    lines.append(f"  reproduce with: {reproduce(violation, report)}")
    return "\n".join(lines)


def render(report: PolicyReport) -> str:
    """The whole text report for one policy."""
    p = report.policy
    out = [f"Policy {p.name} ({report.source})"]
    if p.description:
        out.append(f"  {p.description}")
    out.append(f"  {units_text(p)}")
    for r in report.runs:
        state = f"rejected: {r.rejected}" if r.rejected else f"{len(r.steps)} steps"
        out.append(f"  scenario {r.name}: {state}")
    out += ["", verdict_table(report), "", summary_line(report)]
    if report.thresholds:
        out += [
            "",
            "Thresholds (proved on the safe side, replayed story beyond):",
            render_thresholds(list(report.thresholds)),
        ]
    groups = group_findings(report)
    if groups:
        out += ["", "Findings (held = no counterexample in these scenarios or search examples; not a proof):"]
    for group in groups:
        out += ["", story(group.violation, group.labels, report)]
    return "\n".join(out)


def render_all(reports: Sequence[PolicyReport]) -> str:
    """The text reports of several policies, one after another."""
    return "\n\n".join(render(r) for r in reports)

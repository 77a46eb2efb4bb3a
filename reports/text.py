"""Terminal report of a policy check: a verdict table, then each failing step told as a story.

Failures at the same step of the same scenario are grouped (``story.group_findings``), so a story
is told once with every claim it breaks. Amounts are in the policy's currency with its decimals
and prices in its units (``reports.money``; the header states them), sizes in lots.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from tabulate import tabulate

from solvent.reports.money import QUANTA, Money, transfer_amount
from solvent.reports.proof_text import render_thresholds
from solvent.reports.story import (
    LABEL,
    account_label,
    asset_columns,
    bankruptcies,
    deficit_sentence,
    describe_event,
    describe_outcome,
    evidence,
    extreme_marks_note,
    fund_columns,
    holds_position,
    margin_modes_text,
    marks_text,
    origin_label,
    reproduce,
    size_columns,
    smallest_move_note,
    story_steps,
    summary_line,
    unconstrained_cash_note,
    units_text,
    worth_showing,
)
from solvent.reports.terminal import WIDTH
from solvent.rules.book import Account, Book
from solvent.rules.contract import LINEAR, Contract
from solvent.rules.engine import Step
from solvent.verdicts.check import PolicyReport, Violation
from solvent.verdicts.findings import group_findings

__all__ = ["WIDTH", "render", "render_all", "story", "summary_line", "transfers_table", "verdict_table"]


#: the narrowest the evidence and claim columns are squeezed to, however narrow the terminal
_MIN_COLUMN = 16


def verdict_table(report: PolicyReport, width: int = WIDTH) -> str:
    """Invariant, verdict, evidence and claim, the last two wrapped so each line fits ``width``
    (down to 16 characters each: a terminal narrower than the first two columns plus 32 gets
    longer lines rather than unreadable ones). Evidence breaks between its clauses (scenarios;
    search; z3), then after a comma, so each clause reads (and greps) whole where it fits."""
    rows = [(v.invariant.id, LABEL[v.status], evidence(v), v.invariant.claim) for v in report.verdicts]
    headers = ("invariant", "verdict", "evidence", "claim")
    fixed = sum(max(len(headers[k]), *(len(r[k]) for r in rows)) for k in (0, 1)) if rows else 0
    rest = max(2 * _MIN_COLUMN, width - fixed - 2 * 3)
    longest = max((len(part) for r in rows for part in _clauses(r[2])), default=0)
    evidence_width = max(_MIN_COLUMN, min(longest, (rest * 9) // 20))
    claim_width = max(_MIN_COLUMN, rest - evidence_width)
    wrapped = [(a, b, "\n".join(_fill_clauses(c, evidence_width)), d) for a, b, c, d in rows]
    return tabulate(
        wrapped,
        headers=headers,
        tablefmt="simple",
        maxcolwidths=[None, None, None, claim_width],
        disable_numparse=True,
    )


def _clauses(text: str) -> list[str]:
    """``a; b; c`` → ``["a;", "b;", "c"]``."""
    parts = text.split("; ")
    return [p + ";" for p in parts[:-1]] + parts[-1:]


def _fill_clauses(text: str, width: int) -> list[str]:
    """Lines of at most ``width``: clauses kept together on a line while they fit, a clause longer
    than a line broken after its commas, a piece longer still at its spaces."""
    lines: list[str] = []
    for clause in _clauses(text):
        pieces = (
            [clause] if len(clause) <= width else [p + "," for p in clause.split(", ")[:-1]] + [clause.split(", ")[-1]]
        )
        for piece in pieces:
            for part in textwrap.wrap(piece, width, break_long_words=False, break_on_hyphens=False) or [""]:
                if lines and len(lines[-1]) + 1 + len(part) <= width and not lines[-1].endswith(";"):
                    lines[-1] += " " + part
                else:
                    lines.append(part)
    return lines


def _wrap(line: str, width: int, hang: int = 4) -> list[str]:
    """``line`` folded at ``width``: continuation lines indented ``hang`` more than its own indent."""
    if len(line) <= width:
        return [line]
    indent = len(line) - len(line.lstrip(" "))
    return textwrap.wrap(
        line.lstrip(" "),
        width=width,
        initial_indent=" " * indent,
        subsequent_indent=" " * (indent + hang),
        break_long_words=False,
        break_on_hyphens=False,
    )


def _fold(lines: Sequence[str], width: int) -> list[str]:
    return [part for line in lines for part in _wrap(line, width)]


def _accounts_table(book: Book, contract: Contract = LINEAR, money: Money = QUANTA) -> str:
    """The book's accounts, sizes in the venue's terms (an inverse contract's long is positive),
    money in ``money``'s currency."""

    def cash(x: Any) -> str:
        return money.number(x, fixed=True) if x else ""

    def size(get: Callable[[Account], Any]) -> Callable[[Account], str]:
        return lambda a: f"{get(a):,}" if get(a) else ""

    shown = [a for a in book.accounts if a.is_trader or a.cash_quote or holds_position(a)]
    columns: list[tuple[str, Callable[[Account], str]]] = [
        ("account", account_label),
        (money.column("cash"), lambda a: money.number(a.cash_quote, fixed=True)),
        *((header, lambda a, get=get: cash(get(a))) for header, get in fund_columns(book, money)),
        (money.column("spot"), lambda a: cash(a.spot_quote)),
        *((header, size(get)) for header, get in size_columns(book, contract)),
        *((header, size(get)) for header, get in asset_columns(book)),
        (money.column("principal"), lambda a: cash(a.principal_quote)),
        (money.column("debt"), lambda a: cash(a.debt_quote)),
    ]
    # a column empty for every account (spot, debt on most books) is left out; on a book of
    # several markets each market's size column stays (nobody holding ETH is worth saying)
    kept = {h for h, _ in size_columns(book, contract)} if book.more_markets else set()
    columns = [(h, f) for k, (h, f) in enumerate(columns) if k < 2 or h in kept or any(f(a) for a in shown)]
    rows = [[f(a) for _, f in columns] for a in shown]
    headers = [h for h, _ in columns]
    return tabulate(
        rows,
        headers=headers,
        tablefmt="simple",
        colalign=("left",) + ("right",) * (len(headers) - 1),
        disable_numparse=True,
    )


def transfers_table(step: Step, money: Money = QUANTA) -> str:
    rows = [(t.source, t.destination, transfer_amount(money, t), t.reason.value) for t in step.transfers]
    return tabulate(
        rows,
        headers=("from", "to", money.column("amount"), "reason"),
        tablefmt="simple",
        colalign=("left", "left", "right", "left"),
        disable_numparse=True,
    )


def _indent(text: str, pad: str = "    ") -> str:
    return "\n".join(pad + line for line in text.splitlines())


def _book_title(title: str, book: Book, contract: Contract, money: Money) -> str:
    """``  book after:``; on a book of several markets, with each market's mark
    (``  book after; marks in USD/contract: BTC 31,000, ETH 1,300:``)."""
    marks = marks_text(book, None, contract, money)
    return f"  {title}; {marks}:" if marks else f"  {title}:"


def story(violation: Violation, invariant_ids: list[str], report: PolicyReport, width: int = WIDTH) -> str:
    """One failing step: the events that lead to it, the book before, the ledger, the outcomes,
    amounts in the policy's currency and prices in its units (``reports.money``)."""
    step = violation.step
    contract = report.policy.contract
    money = Money.of(report.policy)
    steps = story_steps(report.policy, violation)
    befores = [s.before for s in steps] + [None] * (len(violation.events) - len(steps))
    lines = _wrap(
        f"{', '.join(invariant_ids)} — {origin_label(violation)}, step {violation.step_index + 1}: "
        f"{describe_event(step.event, step.before, contract, money)}",
        width,
    )
    lines.append("  events:")
    lines += _fold(
        [
            f"    {i + 1}. {describe_event(e, b, contract, money)}"
            for i, (e, b) in enumerate(zip(violation.events, befores, strict=True))
        ],
        width,
    )
    notes = (
        smallest_move_note(violation),
        extreme_marks_note(violation, money),
        unconstrained_cash_note(violation.story.book, money),
    )
    notes += (margin_modes_text(violation.story.book),)
    lines += _fold([f"  {note}" for note in notes if note], width)
    if violation.note:
        lines += ["  what differs from the twin:", _indent(violation.note)]
    lines += _wrap(_book_title("book before the failing step", step.before, contract, money), width)
    lines += [_indent(_accounts_table(step.before, contract, money))]
    lines += ["  transfers in the failing step:", _indent(transfers_table(step, money))]
    lines += ["  outcomes:"] + _fold(
        [f"    - {describe_outcome(o, contract, money)}" for o in step.outcomes if worth_showing(o)], width
    )
    said = [deficit_sentence(b, money) for b in bankruptcies(steps) if b.step_index == violation.step_index]
    lines += _fold([f"  who paid: {' '.join(said)}"] if said else [], width)
    lines += _wrap(_book_title("book after", step.after, contract, money), width)
    lines += [_indent(_accounts_table(step.after, contract, money))]
    # a command is never folded (it is copied and pasted, and read by tools after "reproduce with: ");
    # on a terminal narrower than the report's own width it moves to a line of its own if it must
    command = f"  reproduce with: {reproduce(violation, report)}"
    lines += [command] if len(command) <= width or width >= WIDTH else ["  reproduce with:", "    " + command[18:]]
    return "\n".join(lines)


def render(report: PolicyReport, width: int = WIDTH) -> str:
    """The whole text report for one policy, its tables and prose folded to ``width`` columns."""
    p = report.policy
    out = [f"Policy {p.name} ({report.source})"]
    if p.description:
        out += _wrap(f"  {p.description}", width, hang=0)
    out += _wrap(f"  {units_text(p)}", width, hang=2)
    for r in report.runs:
        state = f"rejected: {r.rejected}" if r.rejected else f"{len(r.steps)} steps"
        out.append(f"  scenario {r.name}: {state}")
    if getattr(report, "seed", None) is not None:
        out.append(f"  search seed {report.seed} (--seed {report.seed} draws the same stories)")
    out += ["", verdict_table(report, width), "", summary_line(report)]
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
        out += ["", story(group.violation, group.labels, report, width)]
    return "\n".join(out)


def render_all(reports: Sequence[PolicyReport], width: int = WIDTH) -> str:
    """The text reports of several policies, one after another."""
    return "\n\n".join(render(r, width) for r in reports)

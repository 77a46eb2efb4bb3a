"""Markdown report: per policy a verdict table, then each finding told as a short story.

Made to be pasted into a pull request: the table puts failures first; each finding shows the
events that lead to the failing step, how each account's balances moved in it, who paid the
deficit through which waterfall layer, the policy line involved and the command that replays it.
The full ledger of the failing step sits in a collapsed ``<details>`` block.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from solvent.reports.money import transfer_amount
from solvent.reports.story import (
    LABEL,
    PROOF_HEADERS,
    THRESHOLD_HEADERS,
    Told,
    bankruptcies,
    book_cells,
    book_changes,
    by_attention,
    counts,
    deficit_sentence,
    describe_event,
    describe_outcome,
    evidence,
    extreme_marks_note,
    marks_text,
    origin_label,
    plural,
    proof_rows,
    smallest_move_note,
    summary_line,
    threshold_rows,
    threshold_scope,
    told,
    units_text,
    waterfall_paid,
    worth_showing,
)
from solvent.verdicts.check import ClaimStatus, PolicyReport
from solvent.verdicts.findings import number_of
from solvent.verdicts.locate import display_path, policy_file

HELD_NOTE = "*held* = no counterexample in these scenarios or search examples; not a proof."


def _cell(x: Any) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """A GitHub-flavoured Markdown table."""
    out = ["| " + " | ".join(_cell(h) for h in headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    return out + ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]


def _verdict(status: ClaimStatus) -> str:
    return f"**{LABEL[status]}**" if status is ClaimStatus.FAILS else LABEL[status]


def _searched(report: PolicyReport) -> str:
    examples = [v.search.stats.examples for v in report.verdicts if v.search is not None]
    return f"; search: up to {max(examples):,} examples per invariant" if examples else "; no search (scenarios only)"


def header(report: PolicyReport) -> list[str]:
    p = report.policy
    state = "FAILS" if report.failed else "passes"
    out = [f"## `{p.name}` {state}: {summary_line(report)}", ""]
    if p.description:
        out += [p.description, ""]
    file = display_path(policy_file(report.source))
    runs = ", ".join(
        f"{r.name} ({'rejected: ' + r.rejected if r.rejected else str(len(r.steps)) + ' steps'})" for r in report.runs
    )
    out += [
        f"- **Policy:** `{report.source}`" + (f" (`{file}`)" if file and file != report.source else ""),
        f"- **Waterfall:** {' → '.join(layer.kind for layer in p.deficit) or '(none)'}",
        f"- **Gives up by design:** {', '.join(p.accepts) or 'nothing'}",
        f"- **Units:** {units_text(p)}",
        f"- **Evidence:** scenarios {runs}{_searched(report)}",
        "",
    ]
    return out


def verdicts(report: PolicyReport, findings: Sequence[Told]) -> list[str]:
    groups = [t.group for t in findings]
    rows = []
    for v in by_attention(report):
        refs = sorted({n for n in (number_of(x, groups) for x in v.violations) if n})
        where = evidence(v) + (" — " + ", ".join(f"finding {n}" for n in refs) if refs else "")
        rows.append((f"`{v.invariant.id}`", _verdict(v.status), where))
    return table(("invariant", "verdict", "evidence"), rows) + ["", HELD_NOTE, ""]


def events(t: Told) -> list[str]:
    failing = t.group.violation.step_index
    out = []
    for i, s in enumerate(t.steps):
        text = describe_event(s.event, s.before, t.contract, t.money)
        out.append(f"{i + 1}. **{text}** ← fails here" if i == failing else f"{i + 1}. {text}")
    return out


def paid(t: Told) -> list[str]:
    rows = [
        (
            f"{p.index + 1}. {p.layer}" if p.index >= 0 else p.layer,
            p.bankrupt,
            p.payer,
            t.money.number(p.amount, fixed=True),
        )
        for p in waterfall_paid(t.group.step)
    ]
    if not rows:
        return []
    failing = t.group.violation.step_index
    said = [deficit_sentence(b, t.money) for b in bankruptcies(t.steps) if b.step_index == failing]
    return [" ".join(said), "", *table(("layer", "bankrupt", "paid by", t.money.column("amount")), rows), ""]


def ledger(t: Told) -> list[str]:
    step = t.group.step
    n = t.group.violation.step_index + 1
    transfers = table(
        ("from", "to", t.money.column("amount"), "reason"),
        [(x.source, x.destination, transfer_amount(t.money, x), x.reason.value) for x in step.transfers],
    )
    outcomes = [f"- {describe_outcome(o, t.contract, t.money)}" for o in step.outcomes if worth_showing(o)]
    return [
        f"<details><summary>Ledger of step {n}: {plural(len(step.transfers), 'transfer')}, {plural(len(outcomes), 'outcome')}</summary>",
        "",
        *transfers,
        "",
        *outcomes,
        "",
        "</details>",
        "",
    ]


def finding(t: Told) -> list[str]:
    """One finding as a story: the claims, the events, the book moving, who paid, how to replay."""
    g, v = t.group, t.group.violation
    title = ", ".join(f"`{i}`" + (" (accepted)" if i in g.accepted else "") for i in g.invariants)
    out = [f"### Finding {g.number}: {title}", ""]
    out += [f"> **{i}**: {claim}  " for i, claim in t.claims]
    out[-1] = out[-1].rstrip()
    rule = f"`{t.rule.key}` at `{display_path(t.rule.file)}:{t.rule.line}`" if t.rule.file else f"`{t.rule.key}`"
    out += [
        "",
        f"{origin_label(v).capitalize()}, step {v.step_index + 1} of {len(t.steps)}. Rule involved: {rule}.",
        "",
    ]
    out += events(t) + [""]
    move = smallest_move_note(v)
    if move:
        out += [f"**{move[:1].upper()}{move[1:]}.**", ""]
    note = extreme_marks_note(v, t.money)
    if note:
        out += [f"*{note[:1].upper()}{note[1:]}.*", ""]
    if v.note:
        out += [f"What differs from the twin: {v.note}", ""]
    headers, rows = book_changes(v.step.before, v.step.after, t.contract, t.money)
    marks = marks_text(v.step.before, v.step.after, t.contract, t.money)
    out += [
        f"Balances in step {v.step_index + 1} (before → after){'; ' + marks if marks else ''}:",
        "",
        *table(headers, [(name, *book_cells(headers, cells, t.money)) for name, cells in rows]),
        "",
    ]
    out += paid(t) + ledger(t)
    out += [f"Reproduce: `{t.replay}`" + (f" ({t.replay_note})" if t.replay_note else ""), ""]
    return out


def proofs(report: PolicyReport) -> list[str]:
    """What z3 proved (with its scope) or could not decide, when ``check`` proved within a budget."""
    rows = [(f"`{r[0]}`", *r[1:]) for r in proof_rows(report)]
    if not rows:
        return []
    return ["### Proofs (z3 on the engine's own rules)", ""] + table(PROOF_HEADERS, rows) + [""]


def thresholds(report: PolicyReport) -> list[str]:
    """The threshold answers: each boundary with the value proved and the value refuted."""
    if not report.thresholds:
        return []
    return ["### Thresholds", "", threshold_scope(report), ""] + table(THRESHOLD_HEADERS, threshold_rows(report)) + [""]


def render_policy(report: PolicyReport) -> list[str]:
    findings = told(report)
    out = header(report) + verdicts(report, findings) + proofs(report) + thresholds(report)
    for t in findings:
        out += finding(t)
    return out


def overview(reports: Sequence[PolicyReport]) -> list[str]:
    rows = []
    for r in reports:
        c = counts(r)
        rows.append(
            (
                f"`{r.policy.name}`",
                "**FAILS**" if r.failed else "passes",
                c[ClaimStatus.FAILS],
                c[ClaimStatus.ACCEPTED],
                c[ClaimStatus.HELD],
                c[ClaimStatus.NOT_EXERCISED],
            )
        )
    return table(("policy", "result", "fail", "fail (accepted)", "held", "not exercised"), rows) + [""]


def render(reports: Sequence[PolicyReport]) -> str:
    """The Markdown report of one or more policies."""
    out = ["# Solvent report", ""]
    if len(reports) > 1:
        out += overview(reports)
    for r in reports:
        out += render_policy(r)
    return "\n".join(out).rstrip() + "\n"


__all__ = ["proofs", "render", "render_policy", "table", "thresholds"]

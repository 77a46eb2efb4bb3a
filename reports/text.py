"""Terminal report of a policy check: a verdict table, then each failing step told as a story.

Failures at the same step of the same scenario are grouped, so a story is told once with every
claim it breaks. Amounts are integers in the policy's quote quantum (stated in the header).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tabulate import tabulate

from solvent.properties import findings
from solvent.properties.check import PolicyReport, Status, Verdict, Violation
from solvent.rules.book import Book
from solvent.rules.engine import Step

_MARK = {Status.FAILS: "FAILS", Status.ACCEPTED: "fails (accepted)", Status.HELD: "held", Status.NOT_EXERCISED: "not exercised"}


def _search_evidence(v: Verdict) -> str:
    r = v.search
    if r is None:
        return ""
    if r.story is not None:
        return f"; search: found in {r.stats.examples} examples"
    return f"; search: {r.stats.examples} examples, {r.outcome.value}"


def _evidence(v: Verdict) -> str:
    if v.violation is not None:
        where = "minimal story from search" if v.violation.origin == "search" else "saved story" if v.violation.origin == "saved" else v.violation.scenario
        return f"{where}, step {v.violation.step_index + 1}" + (f" (+{len(v.more)} more)" if v.more else "")
    if v.status is Status.NOT_EXERCISED:
        return f"path never taken in {v.steps_checked} scenario steps" + _search_evidence(v)
    return f"{v.steps_exercised} of {v.steps_checked} scenario steps" + _search_evidence(v)


def verdict_table(report: PolicyReport) -> str:
    rows = [(v.invariant.id, _MARK[v.status], _evidence(v), v.invariant.claim) for v in report.verdicts]
    return tabulate(rows, headers=("invariant", "verdict", "evidence", "claim"), tablefmt="simple", maxcolwidths=[None, None, None, 60])


def _accounts_table(book: Book) -> str:
    rows = [
        (a.name, a.cash_quote, a.spot_quote or "", a.size_lots or "", a.principal_quote or "", a.debt_quote or "")
        for a in book.accounts
        if a.is_trader or a.cash_quote or a.size_lots
    ]
    return tabulate(rows, headers=("account", "cash", "spot", "size (lots)", "principal", "debt"), tablefmt="simple")


def transfers_table(step: Step) -> str:
    rows = [(t.source, t.destination, t.amount_quote, t.reason.value) for t in step.transfers]
    return tabulate(rows, headers=("from", "to", "amount", "reason"), tablefmt="simple")


def _indent(text: str, pad: str = "    ") -> str:
    return "\n".join(pad + line for line in text.splitlines())


def _reproduce(violation: Violation, report: PolicyReport) -> str:
    if violation.origin == "scenario":
        return f"solvent check {report.source} --scenario {violation.scenario}"
    if report.findings_dir is not None:
        return f"solvent replay {findings.database_path(report.findings_dir, report.policy, violation.invariant)}"
    return f"solvent check {report.source} --invariant {violation.invariant} (search is derandomized: same story)"


def story(violation: Violation, invariant_ids: list[str], report: PolicyReport) -> str:
    """One failing step: the events that lead to it, the book before, the ledger, the outcomes."""
    step = violation.step
    lines = [
        f"{', '.join(invariant_ids)} — {_origin(violation)}, step {violation.step_index + 1}: {step.event!r}",
        "  events:",
    ]
    lines += [f"    {i + 1}. {e!r}" for i, e in enumerate(violation.events)]
    lines += ["  book before the failing step:", _indent(_accounts_table(step.before))]
    lines += ["  transfers in the failing step:", _indent(transfers_table(step))]
    lines += ["  outcomes:"] + [f"    - {o!r}" for o in step.outcomes if _worth_showing(o)]
    lines += ["  book after:", _indent(_accounts_table(step.after))]
    lines.append(f"  reproduce with: {_reproduce(violation, report)}")
    return "\n".join(lines)


def _origin(violation: Violation) -> str:
    return {"search": "found by search", "saved": "replayed from the findings directory"}.get(violation.origin, f"scenario {violation.scenario}")


def _worth_showing(outcome: Any) -> bool:
    lots = getattr(outcome, "lots", None)
    return lots is None or lots != 0


def _grouped(report: PolicyReport) -> dict[tuple, tuple[Violation, list[str]]]:
    groups: dict[tuple, tuple[Violation, list[str]]] = {}
    ids: dict[tuple, list[str]] = defaultdict(list)
    for v in report.verdicts:
        for violation in v.violations:
            key = (violation.scenario, violation.step_index, violation.story.events) if violation.origin == "scenario" else (violation.origin, violation.step_index, violation.story.events)
            ids[key].append(v.invariant.id + (" (accepted)" if v.status is Status.ACCEPTED else ""))
            groups.setdefault(key, (violation, ids[key]))
    return groups


def summary_line(report: PolicyReport) -> str:
    counts = {s: sum(1 for v in report.verdicts if v.status is s) for s in Status}
    return (
        f"{counts[Status.FAILS]} fail, {counts[Status.ACCEPTED]} fail as accepted, "
        f"{counts[Status.HELD]} held, {counts[Status.NOT_EXERCISED]} not exercised"
    )


def render(report: PolicyReport) -> str:
    """The whole text report for one policy."""
    p = report.policy
    out = [f"Policy {p.name} ({report.source})"]
    if p.description:
        out.append(f"  {p.description}")
    out.append(f"  amounts in quanta of {p.units.quote}; sizes in lots of {p.units.lot}")
    for r in report.runs:
        state = f"rejected: {r.rejected}" if r.rejected else f"{len(r.steps)} steps"
        out.append(f"  scenario {r.name}: {state}")
    out += ["", verdict_table(report), "", summary_line(report)]
    groups = _grouped(report)
    if groups:
        out += ["", "Findings (held = no counterexample in these scenarios or search examples; not a proof):"]
    for violation, ids in groups.values():
        out += ["", story(violation, ids, report)]
    return "\n".join(out)

"""HTML report: one self-contained page (inline CSS and SVG, nothing fetched) with the Markdown
report's content and pictures where a picture beats a table.

Per finding: the mark price path with liquidations and bankruptcies marked, each trader's equity
over the events, and how each deficit was split across the waterfall layers (``plots``), beside
the events, the balances of the failing step, who paid and the replay command.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from solvent.reports import plots
from solvent.reports.money import transfer_amount
from solvent.reports.story import (
    KEY,
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
from solvent.verdicts.check import ClaimStatus, ClaimVerdict, PolicyReport
from solvent.verdicts.findings import number_of
from solvent.verdicts.locate import display_path, policy_file

CSS = """
:root { color-scheme: light; --ink: #0f172a; --muted: #475569; --line: #e2e8f0; --fail: #dc2626; --accept: #b45309; --held: #15803d; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: #f1f5f9; }
main { max-width: 1280px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 16px; }
h2 { font-size: 19px; margin: 0 0 4px; display: flex; gap: 10px; align-items: center; }
h3 { font-size: 16px; margin: 0 0 8px; }
section.policy { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 20px; margin: 0 0 24px; }
article.finding { border-top: 1px solid var(--line); margin-top: 20px; padding-top: 16px; }
.summary { color: var(--muted); margin: 0 0 8px; }
.desc { margin: 8px 0; max-width: 90ch; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0 16px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f8fafc; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.claim { color: var(--muted); max-width: 52ch; }
.badge { display: inline-block; border-radius: 999px; padding: 1px 9px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.badge.fails { background: #fee2e2; color: var(--fail); }
.badge.accepted { background: #fef3c7; color: var(--accept); }
.badge.held { background: #dcfce7; color: var(--held); }
.badge.not-exercised { background: #e2e8f0; color: var(--muted); }
.badge.passes { background: #dcfce7; color: var(--held); }
blockquote { margin: 6px 0 10px; padding: 4px 12px; border-left: 3px solid var(--line); color: var(--muted); }
.plots { display: flex; flex-wrap: wrap; gap: 12px; margin: 10px 0; }
.plots figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 6px; }
.cols { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.cols > * { flex: 1 1 420px; min-width: 0; }
ol.events { margin: 0; padding-left: 28px; }
ol.events li.fails { color: var(--fail); font-weight: 600; }
code { font: 12.5px ui-monospace, "DejaVu Sans Mono", monospace; background: #f1f5f9; padding: 1px 4px; border-radius: 4px; }
details { margin: 8px 0; }
summary { cursor: pointer; color: var(--muted); }
.note { color: var(--muted); font-size: 12.5px; }
"""


def esc(x: Any) -> str:
    return html.escape(str(x))


def badge(status: ClaimStatus) -> str:
    return f'<span class="badge {KEY[status]}">{esc(LABEL[status])}</span>'


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    numeric: Sequence[int] = (),
    classes: dict[int, str] | None = None,
    raw: Sequence[int] = (),
) -> str:
    """An HTML table; cells in ``raw`` columns are already HTML, the rest are escaped."""
    classes = dict(classes or {})
    for i in numeric:
        classes[i] = "num"
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, c in enumerate(row):
            cls = f' class="{classes[i]}"' if i in classes else ""
            cells.append(f"<td{cls}>{c if i in raw else esc(c)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _anchor(report: PolicyReport, number: int) -> str:
    return f"{report.policy.name}-finding-{number}"


def _evidence_cell(report: PolicyReport, v: ClaimVerdict, findings: Sequence[Told]) -> str:
    groups = [t.group for t in findings]
    refs = sorted({n for n in (number_of(x, groups) for x in v.violations) if n})
    links = ", ".join(f'<a href="#{esc(_anchor(report, n))}">finding {n}</a>' for n in refs)
    return esc(evidence(v)) + (f" — {links}" if links else "")


def facts(report: PolicyReport) -> str:
    p = report.policy
    file = display_path(policy_file(report.source))
    runs = ", ".join(
        f"{r.name} ({'rejected: ' + r.rejected if r.rejected else str(len(r.steps)) + ' steps'})" for r in report.runs
    )
    examples = [v.search.stats.examples for v in report.verdicts if v.search is not None]
    search = f"up to {max(examples):,} examples per invariant" if examples else "none (scenarios only)"
    items = [
        (
            "Policy",
            f"<code>{esc(report.source)}</code>"
            + (f" (<code>{esc(file)}</code>)" if file and file != report.source else ""),
        ),
        ("Waterfall", esc(" → ".join(layer.kind for layer in p.deficit) or "(none)")),
        ("Gives up by design", esc(", ".join(p.accepts) or "nothing")),
        ("Units", esc(units_text(p))),
        ("Scenarios", esc(runs)),
        ("Search", esc(search)),
    ]
    return '<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


def verdict_table(report: PolicyReport, findings: Sequence[Told]) -> str:
    rows = [
        (f"<code>{esc(v.invariant.id)}</code>", badge(v.status), _evidence_cell(report, v, findings), v.invariant.claim)
        for v in by_attention(report)
    ]
    return table(("invariant", "verdict", "evidence", "claim"), rows, raw=(0, 1, 2), classes={3: "claim"})


def _figure(svg: str | None) -> str:
    return f"<figure>{svg}</figure>" if svg else ""


def finding(report: PolicyReport, t: Told) -> str:
    """One finding: claims, pictures, the events, the balances, who paid, the ledger, the replay command."""
    g, v = t.group, t.group.violation
    failing = v.step_index
    title = ", ".join(esc(i) + (" (accepted)" if i in g.accepted else "") for i in g.invariants)
    claims = "".join(f"<div><strong>{esc(i)}</strong>: {esc(c)}</div>" for i, c in t.claims)
    rule = f"<code>{esc(t.rule.key)}</code>" + (
        f" at <code>{esc(display_path(t.rule.file))}:{t.rule.line}</code>" if t.rule.file else ""
    )
    plot_html = (
        "".join(_figure(svg) for svg in plots.price_paths(t.steps, failing, t.contract, t.money))
        + _figure(plots.equity_rows(report.policy, t.steps, failing, t.money))
        + _figure(plots.waterfall_usage(t.steps, t.money))
    )
    events = "".join(
        f'<li class="fails">{esc(describe_event(s.event, s.before, t.contract, t.money))} ← fails here</li>'
        if i == failing
        else f"<li>{esc(describe_event(s.event, s.before, t.contract, t.money))}</li>"
        for i, s in enumerate(t.steps)
    )
    extreme = extreme_marks_note(v, t.money)
    events_note = f'<p class="note">{esc(extreme[:1].upper() + extreme[1:])}.</p>' if extreme else ""
    move = smallest_move_note(v)
    if move:
        events_note = f'<p class="note"><strong>{esc(move[:1].upper() + move[1:])}.</strong></p>' + events_note
    headers, rows = book_changes(v.step.before, v.step.after, t.contract, t.money)
    marks = marks_text(v.step.before, v.step.after, t.contract, t.money)
    balances = (f"<p>{esc(marks[:1].upper() + marks[1:])}.</p>" if marks else "") + table(
        headers,
        [(name, *book_cells(headers, cells, t.money)) for name, cells in rows],
        numeric=range(1, len(headers)),
    )
    paid_rows = [
        (
            f"{p.index + 1}. {p.layer}" if p.index >= 0 else p.layer,
            p.bankrupt,
            p.payer,
            t.money.number(p.amount, fixed=True),
        )
        for p in waterfall_paid(v.step)
    ]
    said = " ".join(deficit_sentence(b, t.money) for b in bankruptcies(t.steps) if b.step_index == failing)
    paid = (
        f"<h4>Who paid</h4><p>{esc(said)}</p>"
        + table(("layer", "bankrupt", "paid by", t.money.column("amount")), paid_rows, numeric=(3,))
        if paid_rows
        else ""
    )
    transfers = table(
        ("from", "to", t.money.column("amount"), "reason"),
        [(x.source, x.destination, transfer_amount(t.money, x), x.reason.value) for x in v.step.transfers],
        numeric=(2,),
    )
    outcomes = "".join(
        f"<li><code>{esc(describe_outcome(o, t.contract, t.money))}</code></li>"
        for o in v.step.outcomes
        if worth_showing(o)
    )
    return (
        f'<article class="finding" id="{esc(_anchor(report, g.number))}">'
        f"<h3>Finding {g.number}: {title}</h3><blockquote>{claims}</blockquote>"
        f"<p>{esc(origin_label(v).capitalize())}, step {failing + 1} of {len(t.steps)}. Rule involved: {rule}.</p>"
        f'<div class="plots">{plot_html}</div>'
        f'<div class="cols"><div><h4>Events</h4><ol class="events">{events}</ol>{events_note}</div>'
        f"<div><h4>Balances in step {failing + 1} (before → after)</h4>{balances}{paid}</div></div>"
        f"<details><summary>Ledger of step {failing + 1}: {plural(len(v.step.transfers), 'transfer')}</summary>{transfers}<ul>{outcomes}</ul></details>"
        f"<p>Reproduce: <code>{esc(t.replay)}</code>{esc(f' ({t.replay_note})' if t.replay_note else '')}</p></article>"
    )


def proofs_and_thresholds(report: PolicyReport) -> str:
    """z3's verdicts and the threshold answers, when the check asked for them."""
    out = ""
    rows = proof_rows(report)
    if rows:
        out += "<h3>Proofs (z3 on the engine's own rules)</h3>" + table(PROOF_HEADERS, rows)
    if report.thresholds:
        out += f'<h3>Thresholds</h3><p class="note">{esc(threshold_scope(report))}</p>' + table(
            THRESHOLD_HEADERS, threshold_rows(report), numeric=(2, 3)
        )
    return out


def policy_section(report: PolicyReport) -> str:
    p = report.policy
    findings = told(report)
    state = '<span class="badge fails">FAILS</span>' if report.failed else '<span class="badge passes">passes</span>'
    desc = f'<p class="desc">{esc(p.description)}</p>' if p.description else ""
    return (
        f'<section class="policy" id="policy-{esc(p.name)}"><h2><code>{esc(p.name)}</code> {state}</h2>'
        f'<p class="summary">{esc(summary_line(report))}</p>{desc}{facts(report)}{verdict_table(report, findings)}'
        '<p class="note">held = no counterexample in these scenarios or search examples; not a proof.</p>'
        + proofs_and_thresholds(report)
        + "".join(finding(report, t) for t in findings)
        + "</section>"
    )


def overview(reports: Sequence[PolicyReport]) -> str:
    rows = []
    for r in reports:
        c = counts(r)
        state = '<span class="badge fails">FAILS</span>' if r.failed else '<span class="badge passes">passes</span>'
        rows.append(
            (
                f'<a href="#policy-{esc(r.policy.name)}">{esc(r.policy.name)}</a>',
                state,
                c[ClaimStatus.FAILS],
                c[ClaimStatus.ACCEPTED],
                c[ClaimStatus.HELD],
                c[ClaimStatus.NOT_EXERCISED],
            )
        )
    return (
        '<section class="policy">'
        + table(
            ("policy", "result", "fail", "fail (accepted)", "held", "not exercised"),
            rows,
            raw=(0, 1),
            numeric=(2, 3, 4, 5),
        )
        + "</section>"
    )


#: the class that scopes a fragment's style (:func:`fragment`)
SCOPE = "solvent-report"


def scoped_css(css: str = CSS, scope: str = SCOPE) -> str:
    """The page's style with every selector inside ``.{scope}`` (``:root`` and ``body`` become
    the scope itself), so a fragment restyles nothing around it."""
    rules = []
    for line in css.strip().splitlines():
        selectors, _, body = line.partition("{")
        scoped = []
        for sel in selectors.split(","):
            sel = sel.strip()
            if sel in (":root", "body"):
                scoped.append(f".{scope}")
            else:
                scoped.append(f".{scope} {sel}")
        rules.append(f"{', '.join(scoped)} {{{body}")
    return "\n".join(rules) + "\n"


def fragment(reports: Sequence[PolicyReport]) -> str:
    """The report as a fragment to place in another page (a Jupyter cell's output): the same
    sections, its style scoped to ``.solvent-report``, no document around it."""
    body = (overview(reports) if len(reports) > 1 else "") + "".join(policy_section(r) for r in reports)
    return f'<div class="{SCOPE}"><style>{scoped_css()}</style><main>{body}</main></div>'


def render(reports: Sequence[PolicyReport]) -> str:
    """The self-contained HTML report of one or more policies."""
    names = ", ".join(r.policy.name for r in reports)
    body = (overview(reports) if len(reports) > 1 else "") + "".join(policy_section(r) for r in reports)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Solvent report: {esc(names)}</title><style>{CSS}</style></head>\n"
        f"<body><main><h1>Solvent report</h1>\n{body}\n</main></body></html>\n"
    )


__all__ = ["fragment", "render", "scoped_css"]

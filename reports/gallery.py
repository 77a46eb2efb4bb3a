"""The gallery: every bundled preset checked, its Markdown and HTML reports, and an index table
of which properties each venue gives up by design and which fail beyond that.

    solvent gallery docs/gallery            # or: python -m solvent.reports.gallery docs/gallery

No findings directory is read or written, so the gallery shows what a fresh ``solvent check
PRESET`` shows (the search is derandomized: the same stories every run).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from solvent.properties.check import PolicyReport, Status, check_policy
from solvent.properties.search import CI, SearchBudget
from solvent.reports import html_report, markdown
from solvent.reports.story import counts
from solvent.rules.presets import load_preset, preset_names


def _ids(report: PolicyReport, status: Status) -> str:
    return ", ".join(v.invariant.id for v in report.verdicts if v.status is status) or "—"


def _proved(report: PolicyReport) -> str:
    proofs = [v.proof for v in report.verdicts if v.proof is not None]
    proved = [p for p in proofs if p.proved]
    every_n = sum(1 for p in proved if p.scope.accounts is None)
    return f"{len(proved)} of {len(proofs)}" + (f" ({every_n} for all N)" if every_n else "")


def _threshold(report: PolicyReport, question: str) -> str:
    t = next((t for t in report.thresholds if t.question == question), None)
    if t is None:
        return "—"
    moves = question == "safe-move" and report.policy.contract.is_inverse
    return t.boundary + (" of the coin value" if moves else "")


def index(reports: Sequence[PolicyReport], *, searched: bool) -> str:
    """The gallery's index: one row per venue."""
    proofs = any(v.proof is not None for r in reports for v in r.verdicts)
    thresholds = any(r.thresholds for r in reports)
    rows = []
    for r in reports:
        p, c = r.policy, counts(r)
        row = [
            f"`{p.name}`" + (" (inverse)" if p.contract.is_inverse else ""),
            p.waterfall_summary(),
            ", ".join(p.accepts) or "—",
            _ids(r, Status.ACCEPTED),
            _ids(r, Status.FAILS),
            f"{c[Status.HELD]} held, {c[Status.NOT_EXERCISED]} not exercised",
        ]
        row += [_proved(r)] if proofs else []
        row += [_threshold(r, "safe-move"), _threshold(r, "fund-for-gap")] if thresholds else []
        rows.append((*row, f"[markdown]({p.name}.md) · [html]({p.name}.html)"))
    headers = ["venue", "deficit waterfall", "gives up by design (accepts)", "seen failing, as accepted", "fails beyond what it accepts", "the rest"]
    headers += ["z3 proved (one mark move, 2 traders)"] if proofs else []
    headers += ["largest safe one-tick move", "fund for a 20% gap (share of OI)"] if thresholds else []
    headers.append("reports")
    how = "the named scenarios and the derandomized CI search" if searched else "the named scenarios only (no search)"
    return "\n".join(
        [
            "# Gallery: the bundled venue presets",
            "",
            f"Each preset checked by `solvent check PRESET` against {how}"
            + ("; z3 asked about every invariant within an effort budget" if proofs else "")
            + ("; thresholds proved on the safe side with a replayed story beyond" if thresholds else "")
            + ". Regenerate with `solvent gallery docs/gallery" + (" --thresholds" if thresholds else "") + "`.",
            "A policy's `accepts` lists what the venue gives up by design; those failures are reported but do not fail the check.",
            "*Held* means no counterexample was found, not that none exists.",
            "",
            *markdown.table(headers, rows),
            "",
        ]
    )


def build(
    out_dir: Path,
    *,
    budget: SearchBudget | None = CI,
    presets: Sequence[str] | None = None,
    tick: Callable[[str], None] | None = None,
    proof_budget: Any = None,
    threshold_probes: int | None = None,
) -> list[Path]:
    """Check each preset and write ``NAME.md``, ``NAME.html`` and ``index.md`` into ``out_dir``
    (with z3 proofs and thresholds when given budgets, as ``solvent check`` does)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    reports = []
    for name in presets or preset_names():
        if tick:
            tick(f"checking {name}")
        reports.append(check_policy(load_preset(name), source=name, search_budget=budget, proof_budget=proof_budget, threshold_probes=threshold_probes))
    written = []
    for r in reports:
        for suffix, render in ((".md", markdown.render), (".html", html_report.render)):
            path = out_dir / f"{r.policy.name}{suffix}"
            path.write_text(render([r]), encoding="utf-8")
            written.append(path)
    path = out_dir / "index.md"
    path.write_text(index(reports, searched=budget is not None), encoding="utf-8")
    return [*written, path]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m solvent.reports.gallery", description="Write the presets' reports and an index into DIR.")
    parser.add_argument("out_dir", type=Path, metavar="DIR")
    parser.add_argument("--no-search", action="store_true", help="scenarios only (fast)")
    parser.add_argument("--examples", type=int, default=None, help="search examples per invariant (default 200)")
    args = parser.parse_args(argv)
    budget = None if args.no_search else (attrs.evolve(CI, max_examples=args.examples) if args.examples else CI)
    for path in build(args.out_dir, budget=budget):
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

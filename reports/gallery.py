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

import attrs

from solvent.properties.check import PolicyReport, Status, check_policy
from solvent.properties.search import CI, SearchBudget
from solvent.reports import html_report, markdown
from solvent.reports.story import counts
from solvent.rules.presets import load_preset, preset_names


def _ids(report: PolicyReport, status: Status) -> str:
    return ", ".join(v.invariant.id for v in report.verdicts if v.status is status) or "—"


def index(reports: Sequence[PolicyReport], *, searched: bool) -> str:
    """The gallery's index: one row per venue."""
    rows = []
    for r in reports:
        p, c = r.policy, counts(r)
        rows.append(
            (
                f"`{p.name}`",
                " → ".join(layer.kind for layer in p.deficit) or "(none)",
                ", ".join(p.accepts) or "—",
                _ids(r, Status.ACCEPTED),
                _ids(r, Status.FAILS),
                f"{c[Status.HELD]} held, {c[Status.NOT_EXERCISED]} not exercised",
                f"[markdown]({p.name}.md) · [html]({p.name}.html)",
            )
        )
    headers = ("venue", "deficit waterfall", "gives up by design (accepts)", "seen failing, as accepted", "fails beyond what it accepts", "the rest", "reports")
    how = "the named scenarios and the derandomized CI search" if searched else "the named scenarios only (no search)"
    return "\n".join(
        [
            "# Gallery: the bundled venue presets",
            "",
            f"Each preset checked by `solvent check PRESET` against {how}. Regenerate with `solvent gallery docs/gallery`.",
            "A policy's `accepts` lists what the venue gives up by design; those failures are reported but do not fail the check.",
            "*Held* means no counterexample was found, not that none exists.",
            "",
            *markdown.table(headers, rows),
            "",
        ]
    )


def build(out_dir: Path, *, budget: SearchBudget | None = CI, presets: Sequence[str] | None = None, tick: Callable[[str], None] | None = None) -> list[Path]:
    """Check each preset and write ``NAME.md``, ``NAME.html`` and ``index.md`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    reports = []
    for name in presets or preset_names():
        if tick:
            tick(f"checking {name}")
        reports.append(check_policy(load_preset(name), source=name, search_budget=budget))
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

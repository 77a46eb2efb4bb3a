"""The gallery: every bundled preset checked, its Markdown and HTML reports, and an index table
of which properties each venue gives up by design and which fail beyond that.

    solvent gallery docs/gallery

No findings directory is read or written, so the gallery shows what a fresh ``solvent check
PRESET`` shows (the search is derandomized: the same stories every run; ``--seed N`` draws from N
as ``solvent check --seed N`` does, and the index says so).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from solvent.reports import html_report, markdown
from solvent.reports.story import counts
from solvent.rules.presets import load_preset, preset_names
from solvent.verdicts.check import ClaimStatus, Judgement, PolicyReport


def _ids(report: PolicyReport, status: ClaimStatus) -> str:
    return ", ".join(v.invariant.id for v in report.verdicts if v.status is status) or "—"


def _proved(report: PolicyReport) -> str:
    proofs = [v.proof for v in report.verdicts if v.proof is not None]
    proved = [p for p in proofs if p.proved and not p.trivial]
    trivial = sum(1 for p in proofs if p.trivial)
    # "for all N" only where every obligation is (the verdict's own head, ProofResult.proved_scope);
    # a claim proved for all N beside transfers proved at N is counted apart
    every_n = sum(1 for p in proved if p.proved_scope.accounts is None)
    # (on a policy of two margin scopes, the claim for all N on both)
    claim_n = sum(1 for p in proved if all(q.scope.accounts is None for q in _scopes(p))) - every_n
    notes = (
        ([f"{every_n} for all N"] if every_n else [])
        + ([f"{claim_n} with the claim for all N"] if claim_n else [])
        + ([f"{trivial} more trivially"] if trivial else [])
    )
    return f"{len(proved)} of {len(proofs)}" + (f" ({'; '.join(notes)})" if notes else "")


def _scopes(proof: Any) -> list[Any]:
    """A proof's answer on each of its margin scopes (``solver.margin_scopes``), or the proof."""
    return [part.result for part in proof.parts] or [proof]


def _threshold(report: PolicyReport, question: str) -> str:
    t = next((t for t in report.thresholds if t.question == question), None)
    if t is None:
        return "—"
    moves = question == "safe-move" and report.policy.contract.is_inverse
    traders = t.proof.scope.accounts if t.proof is not None else None
    # each answer carries its own scope: questions are proved on different numbers of traders
    within = "" if t.proof is None else " (all N)" if traders is None else f" (N ≤ {traders})"
    return t.boundary + (" of the coin value" if moves else "") + within


def index(
    reports: Sequence[PolicyReport], *, searched: bool, seed: int | None = None, presets: Sequence[str] | None = None
) -> str:
    """The gallery's index: one row per venue (``seed``: the search's, when it was not derandomized;
    ``presets``: the presets named, when the gallery is not of every one)."""
    proofs = any(v.proof is not None for r in reports for v in r.verdicts)
    thresholds = any(r.thresholds for r in reports)
    rows = []
    for r in reports:
        p, c = r.policy, counts(r)
        row = [
            f"`{p.name}`" + (" (inverse)" if p.contract.is_inverse else ""),
            p.waterfall_summary(),
            ", ".join(p.accepts) or "—",
            _ids(r, ClaimStatus.ACCEPTED),
            _ids(r, ClaimStatus.FAILS),
            f"{c[ClaimStatus.HELD]} held, {c[ClaimStatus.NOT_EXERCISED]} not exercised",
        ]
        row += [_proved(r)] if proofs else []
        row += [_threshold(r, "safe-move"), _threshold(r, "fund-for-gap")] if thresholds else []
        rows.append((*row, f"[markdown]({p.name}.md) · [html]({p.name}.html)"))
    headers = [
        "venue",
        "deficit waterfall",
        "gives up by design (accepts)",
        "seen failing, as accepted",
        "fails beyond what it accepts",
        "the rest",
    ]
    headers += ["z3 proved (one mark move, 2 traders)"] if proofs else []
    headers += ["largest safe one-tick move", "fund for a 20% gap (share of OI)"] if thresholds else []
    headers.append("reports")
    search = "the derandomized CI search" if seed is None else f"the CI search drawn from seed {seed}"
    how = f"the named scenarios and {search}" if searched else "the named scenarios only (no search)"
    return "\n".join(
        [
            "# Gallery: the bundled venue presets",
            "",
            f"Each preset checked by `solvent check PRESET` against {how}"
            + ("; z3 asked about every invariant within an effort budget" if proofs else "")
            + ("; thresholds proved on the safe side with a replayed story beyond" if thresholds else "")
            + ". Regenerate with `solvent gallery docs/gallery"
            + ("" if searched else " --no-search")
            + (" --thresholds" if thresholds else "")
            + (f" --seed {seed}" if searched and seed is not None else "")
            + "".join(f" --preset {name}" for name in presets or ())
            + "`.",
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
    judgement: Judgement | None = None,
    presets: Sequence[str] | None = None,
    tick: Callable[[str], None] | None = None,
) -> list[Path]:
    """Check each preset (``presets``, default every bundled one) with ``judgement`` (default: what
    ``solvent check`` does, without saving findings) and write ``NAME.md``, ``NAME.html`` and
    ``index.md`` into ``out_dir``; the index's regenerate command names the presets given."""
    judgement = Judgement(findings_dir=None) if judgement is None else judgement
    out_dir.mkdir(parents=True, exist_ok=True)
    reports = []
    for name in presets or preset_names():
        if tick:
            tick(f"checking {name}")
        reports.append(judgement.run(load_preset(name), source=name))
    written = []
    for r in reports:
        for suffix, render in ((".md", markdown.render), (".html", html_report.render)):
            path = out_dir / f"{r.policy.name}{suffix}"
            path.write_text(render([r]), encoding="utf-8")
            written.append(path)
    path = out_dir / "index.md"
    seed = None if judgement.search is None else judgement.search.seed
    path.write_text(index(reports, searched=judgement.search is not None, seed=seed, presets=presets), encoding="utf-8")
    return [*written, path]

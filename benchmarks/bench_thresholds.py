"""Threshold time per question and preset: wall seconds, z3 units spent, probes, and the answer.

Run: ``python benchmarks/bench_thresholds.py`` (every preset × the four questions), or
``--presets binance,drift``, ``--questions safe-move,penalty-bankrupts``, ``--effort 30000000``
(units per solver question, solvent.solver.effort), ``--probes 40``, ``--wall 300`` (the hard kill
per cell, seconds), ``--json PATH`` (also write the rows), ``--markdown`` (print the table of docs/benchmarks.md).

Each cell is one ``solvent.solver.thresholds.threshold`` call with the CLI's defaults, run in its
own process (so nothing a previous cell built is reused) and killed after ``--wall`` seconds. A
cell reports the status, the boundary, the wall seconds, the probes made and the units they spent
(``Probe.units``; blank for a version of Solvent whose probes did not count them). The load
average is read before and after the run: the machine is shared and noisy, so compare figures
from one run. Seconds are measured here only: no verdict depends on them.

The checkout measured is the one this file is in (its root goes first on ``sys.path``, and the
JSON names its commit): run as a script, Python would otherwise import whichever Solvent is
installed, which on a shared machine is another checkout. An editable install of another checkout
wins over ``sys.path`` for the layers it maps, so the run stops unless the engine it imports is
this checkout's (``_imports_this_checkout``). Measure a fixed snapshot (``git
archive COMMIT | tar -x -C DIR``), not a worktree that changes under the run: each cell imports
the engine afresh in its child process.

Target (issue 18): each question exact on every preset, median ≤ 5 s, worst ≤ 30 s.
``--questions`` also takes ``vault-loss-for-gap`` and ``partial-liquidation-extra-bad-debt``.

``--grid`` (issue 14): the threshold grid ``solvent thresholds`` runs for several policies
(``solvent.simulation.grids.find_thresholds``, one task per policy × question) over
``--grid-presets`` (default three) × ``--questions`` (default safe-move and
maintenance-for-leverage, cells of a few seconds each), first in this process (``--workers 1``),
then on a pool of ``--workers`` processes (default 2), in one run: wall seconds of each, the
ratio, CPU seconds (this process and its children), and the load average before and after. The
two grids' answers must be identical, units and probes included (the benchmark stops if not).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout this file is in, not the installed one

QUESTIONS = ("safe-move", "fund-for-gap", "maintenance-for-leverage", "penalty-bankrupts")


def _imports_this_checkout() -> None:
    """Stop unless ``import solvent`` gives this checkout's engine: an editable install of another
    checkout maps ``solvent.solver`` and the other layers to its own folders whatever comes first
    on ``sys.path`` (a snapshot measured from a worktree's virtual environment measured the
    worktree, which changed under the run)."""
    import solvent.solver

    found = Path(solvent.solver.__file__).resolve().parent.parent
    if found != ROOT:
        raise SystemExit(
            f"this benchmark is in {ROOT} but Python imports Solvent from {found}: run it with a Python "
            f"whose Solvent is this checkout (python -m venv --system-site-packages V && "
            f"V/bin/pip install -e {ROOT} --no-deps)"
        )


def _presets() -> tuple[str, ...]:
    from solvent.rules.presets import preset_names

    return tuple(preset_names())


def _cell(preset: str, question: str, effort_units: int, probes: int, out: Any) -> None:
    import solvent.solver  # noqa: F401  (registers the z3 backend)
    from solvent.rules.presets import load_preset
    from solvent.solver.thresholds import default_bounds, questions, threshold

    policy = load_preset(preset)
    q = questions()[question]
    bounds = default_bounds(accounts=q.accounts(policy) or 2, effort=effort_units)
    started = time.perf_counter()

    def so_far(state) -> None:  # noqa: ANN001 (a Bisection): what a kill would otherwise lose
        out.put({"partial": _decided_so_far(state)})

    t = threshold(policy, q, bounds, max_probes=probes, on_probe=so_far)
    seconds = time.perf_counter() - started
    units = [getattr(p, "units", None) for p in t.probes]
    out.put(
        {
            "status": t.status.value,
            "boundary": t.boundary,
            "value_ppm": t.value,
            "seconds": round(seconds, 2),
            "probes": len(t.probes),
            "units": None if any(u is None for u in units) else sum(units),
            "note": t.note[:200],
            "comparison": getattr(t, "comparison", "") or "",
        }
    )


def _decided_so_far(state: Any) -> dict[str, Any]:
    """A search's state (``thresholds.Bisection``) as plain data: the value proved nearest the
    boundary, the one refuted nearest it (by a replayed story), the probes and their units."""
    return {
        "proved_at_ppm": None if state.proved is None else state.proved[0],
        "refuted_at_ppm": None if state.refuted is None else state.refuted[0],
        "probes": len(state.probes),
        "units": sum(p.units for p in state.probes),
    }


def run_cell(preset: str, question: str, effort_units: int, probes: int, wall: float) -> dict[str, Any]:
    """One threshold in a child process, killed after ``wall`` seconds. The child reports the
    search's state after each probe, so a cell killed at the wall still says what it had decided
    (``so_far``: the proved and refuted values, probes and units until then)."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    proc = ctx.Process(target=_cell, args=(preset, question, effort_units, probes, out))
    started = time.perf_counter()
    proc.start()
    result, partial = None, None

    def take(message: dict[str, Any]) -> dict[str, Any] | None:
        nonlocal partial
        if "partial" in message:
            partial = message["partial"]
            return None
        return message

    while proc.is_alive() and time.perf_counter() - started < wall:
        try:
            result = take(out.get(timeout=0.5))
        except Exception:  # noqa: BLE001 - queue.Empty: keep waiting
            continue
        if result is not None:
            break
    while result is None and not out.empty():
        result = take(out.get())
    proc.join(5)
    row: dict[str, Any] = {"preset": preset, "question": question}
    if proc.is_alive():
        proc.kill()
        proc.join()
    if result is None:
        status = "timeout (killed)" if time.perf_counter() - started >= wall else f"error (exit {proc.exitcode})"
        return row | {
            "status": status,
            "boundary": "",
            "value_ppm": None,
            "seconds": round(time.perf_counter() - started, 2),
            **({"so_far": partial, "probes": partial["probes"], "units": partial["units"]} if partial else {}),
        }
    return row | result


def _answer(r: dict[str, Any]) -> str:
    if r["status"] == "not-applicable":
        return "not applicable"
    if r["status"].startswith(("timeout", "error")):
        done = r.get("so_far")
        sides = (
            []
            if done is None
            else [
                f"{word} {done[key]:,}"
                for word, key in (("proved at", "proved_at_ppm"), ("refuted at", "refuted_at_ppm"))
                if done[key] is not None
            ]
        )
        return r["status"] + (f": {', '.join(sides)} before it" if sides else "")
    return (
        r["boundary"]
        .replace("holds across the whole range, even at", "all, even")
        .replace(" (undecided in between)", "")
    )


def markdown(rows: list[dict[str, Any]], before: list[dict[str, Any]] | None = None) -> str:
    """The thresholds table of docs/benchmarks.md: per preset, each question's answer, seconds, units and probes, with the
    load average as the cell ended (and the earlier run's answer, seconds and units: the units,
    unlike the seconds, compare across runs on a loaded machine). A row measured again later and
    put in place of the run's own (its ``remeasured`` commit) says so beside its answer."""
    old = {(r["preset"], r["question"]): r for r in before or []}
    head = "| preset | question | answer | seconds | units | probes | load |" + (" before |" if before else "")
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    for r in rows:
        units = "" if r.get("units") is None else f"{r['units'] / 1e6:.1f}M"
        again = f" (re-measured at {r['remeasured']})" if r.get("remeasured") else ""
        line = (
            f"| {r['preset']} | {r['question']} | {_answer(r)}{again} | {r['seconds']} | {units} | "
            f"{r.get('probes') or ''} | {r.get('load', '')} |"
        )
        if before:
            b = old.get((r["preset"], r["question"]))
            b_units = "" if b is None or b.get("units") is None else f", {b['units'] / 1e6:.1f}M"
            line += "" if b is None else f" {_answer(b)}, {b['seconds']} s{b_units} |"
        lines.append(line)
    return "\n".join(lines)


def summary(rows: list[dict[str, Any]]) -> str:
    """One line against the issue's target (each question exact, 5 s median, 30 s worst), over
    the questions that apply: the seconds (this machine, at the loads beside the rows) and the
    units (the same on any machine; about a second per million on the reference machine,
    ``solvent.solver.effort.UNITS_PER_SECOND``) of the answers decided."""
    asked = [r for r in rows if r["status"] != "not-applicable"]
    if not asked:
        return f"{len(rows)} cells, none applies"
    seconds = [r["seconds"] for r in asked]
    decided = [r for r in asked if r["status"] in ("exact", "all", "none")]
    units = [r["units"] for r in decided if r.get("units") is not None]
    worst = max(asked, key=lambda r: r["seconds"])
    loads = [r["load"] for r in rows if r.get("load") is not None]
    line = (
        f"{len(rows)} cells, {len(asked)} questions that apply: {len(decided)} decided exactly; "
        f"median {statistics.median(seconds):.1f} s, {sum(s <= 5 for s in seconds)} within 5 s, "
        f"{sum(s <= 30 for s in seconds)} within 30 s, worst {worst['seconds']:.1f} s "
        f"({worst['preset']} {worst['question']})"
    )
    if units:
        line += (
            f"; the decided ones in a median of {statistics.median(units) / 1e6:.1f}M units, "
            f"{sum(u <= 5_000_000 for u in units)} within 5M, {sum(u <= 30_000_000 for u in units)} within 30M"
        )
    if loads:
        line += f"; load average {min(loads):.1f}-{max(loads):.1f}"
    return line


GRID_PRESETS = ("backpack", "okx-2018", "broker-reg-t")
GRID_QUESTIONS = ("safe-move", "maintenance-for-leverage")


def grid(presets: tuple[str, ...], questions: tuple[str, ...], workers: int, effort_units: int, probes: int) -> None:
    """The same threshold grid on one worker and on ``workers`` processes (see the docstring)."""
    import resource
    from concurrent.futures import ProcessPoolExecutor

    import attrs

    import solvent.solver  # noqa: F401  (registers the z3 backend)
    from solvent.rules.presets import load_preset
    from solvent.simulation.executors import CellError
    from solvent.simulation.grids import ThresholdCell, find_thresholds
    from solvent.solver.thresholds import default_bounds
    from solvent.solver.thresholds import questions as known

    def _timeless(a):  # noqa: ANN001, ANN202 (an answer without its seconds, which alone may differ)
        if isinstance(a, CellError):
            return a
        return attrs.evolve(a, seconds=0.0, probes=tuple(attrs.evolve(p, seconds=0.0) for p in a.probes))

    def cpu() -> float:
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    table = known()
    cells = []
    for preset in presets:
        policy = load_preset(preset)
        for q in questions:
            bounds = default_bounds(accounts=table[q].accounts(policy) or 2, effort=effort_units)
            cells.append(ThresholdCell(policy, q, bounds, probes))
    print(f"threshold grid: {len(presets)} presets x {len(questions)} questions = {len(cells)} cells", flush=True)
    runs = {}
    for n in (1, workers):
        load, t0, c0 = os.getloadavg(), time.perf_counter(), cpu()
        if n == 1:
            answers = find_thresholds(cells)
        else:
            with ProcessPoolExecutor(max_workers=n) as pool:
                answers = find_thresholds(cells, pool)
        wall, spent = time.perf_counter() - t0, cpu() - c0
        runs[n] = (wall, [_timeless(a) for a in answers])
        after = os.getloadavg()
        units = sum(p.units for a in answers if not isinstance(a, CellError) for p in a.probes)
        print(
            f"{n} worker{'s' if n > 1 else ''}: {wall:.1f} s wall, {spent:.1f} CPU s, {units:,} units; "
            f"load average {load[0]:.2f}/{load[1]:.2f} before, {after[0]:.2f}/{after[1]:.2f} after",
            flush=True,
        )
    if runs[1][1] != runs[workers][1]:
        raise SystemExit(f"the grids' answers differ between 1 and {workers} workers: a bug")
    for cell, a in zip(cells, runs[1][1], strict=True):
        print(f"  {cell.policy.name:13} {cell.question:25} {a if isinstance(a, CellError) else a.boundary}")
    print(
        f"ratio 1 worker / {workers} workers: {runs[1][0] / runs[workers][0]:.2f} (identical answers, units and probes)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="", help="comma-separated (default: every preset)")
    parser.add_argument("--questions", default=",".join(QUESTIONS))
    parser.add_argument("--effort", type=int, default=30_000_000)
    parser.add_argument("--probes", type=int, default=40)
    parser.add_argument("--wall", type=float, default=300.0)
    parser.add_argument("--json", default="")
    parser.add_argument("--before", default="", help="an earlier --json to show beside (the table's before/after)")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--table", default="", help="print the table of an earlier --json (with --before) and stop")
    parser.add_argument("--grid", action="store_true", help="the threshold grid on 1 worker and on --workers")
    parser.add_argument("--grid-presets", default=",".join(GRID_PRESETS))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.grid:
        questions = args.questions if args.questions != ",".join(QUESTIONS) else ",".join(GRID_QUESTIONS)
        grid(
            tuple(p for p in args.grid_presets.split(",") if p),
            tuple(q for q in questions.split(",") if q),
            args.workers,
            args.effort,
            args.probes,
        )
        return
    if args.table:
        with open(args.table) as f:
            rows = json.load(f)["rows"]
        before = None
        if args.before:
            with open(args.before) as f:
                before = json.load(f)["rows"]
        print(summary(rows))
        print(markdown(rows, before))
        return
    _imports_this_checkout()
    presets = tuple(p for p in args.presets.split(",") if p) or _presets()
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    print(f"measuring {ROOT} ({commit or 'not a git checkout'})", flush=True)
    load_before = os.getloadavg()
    rows = []
    for preset in presets:
        for question in (q for q in args.questions.split(",") if q):
            row = run_cell(preset, question, args.effort, args.probes, args.wall)
            row["load"] = round(os.getloadavg()[0], 2)  # the one-minute load average as the cell ended
            rows.append(row)
            print(
                f"{preset:13} {question:25} {row['status']:16} {row['boundary']:<40} {row['seconds']:>7} s"
                f"  units {row.get('units')}  probes {row.get('probes')}  load {row['load']:.2f}",
                flush=True,
            )
    load_after = os.getloadavg()
    print(summary(rows))
    print(
        f"load average before {load_before[0]:.2f}/{load_before[1]:.2f}, after {load_after[0]:.2f}/{load_after[1]:.2f}"
    )
    if args.markdown:
        before = None
        if args.before:
            with open(args.before) as f:
                before = json.load(f)["rows"]
        print(markdown(rows, before))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "rows": rows,
                    "root": str(ROOT),
                    "commit": commit,
                    "load_before": load_before,
                    "load_after": load_after,
                },
                f,
                indent=1,
            )


if __name__ == "__main__":
    main()

"""Proof time against accounts (N) and events (K): z3 verdicts for conservation and no-negative-equity.

Run: ``python benchmarks/bench_proof.py`` (the full table: N × K, all presets, hours on 2 cores), or
``python benchmarks/bench_proof.py --quick`` (the two targets only), ``--presets backpack,binance``,
``--effort 60000000`` (z3 resource units per solver question, solvent.solver.effort), ``--json PATH`` (also write the rows).

Each cell is the cell of a ``solvent prove`` grid (``solvent.simulation.grids.answer_proof``, the
one function both run: ``solvent.solver.prove.prove`` from a fresh z3 context; here with
``minimize=False``: the time to a verdict, not to the smallest counterexample), run in its own
process (so its seconds are its own, not shared with a neighbour's) and killed after
a hard wall of ten minutes plus the question's reference time (z3 may stop counting its units). A cell
reports the verdict, the wall time, and "timeout" when the process was killed. Events are mark
moves (a full liquidation sweep and default waterfall each). Targets from issue 4: N = 8 with one
MarkPrice step under 10 s; K = 3 with N = 3 under 60 s. The machine is shared and noisy: compare
figures from one run.

``--encodings`` compares how ``size × price`` is kept decidable: purified products (the default
portfolio), exact nonlinear arithmetic, and a price grid, on bounded proofs.

``--catalog`` (issue 18's target): every catalog claim (or ``--claims``) on every bundled preset (or ``--presets``) at ``--accounts`` N
(default 4) and ``--events`` K mark moves (default 1), each in its own process, at ``--effort`` units (give 10000000 for
"about 10 s"); prints each cell, then a summary per preset and every claim left undecided with
its reason. Each cell's memory is capped (``MEMORY_CAP``), so a build that outgrows it is a row,
not a machine out of memory.

``--each-trader``: the per-trader and per-liquidation all-N arguments (``solvent.solver.per_account``)
for every preset and each claim they cover, one mark move, at ``--effort`` units: held, did not hold, or does not
apply (with the reason), its units and seconds, and where it held the whole ``prove`` at
``--accounts`` N.

``--each-trader --claims no-negative-equity,loss-bounded-by-collateral --accounts 2``: the same
for the claims the payer's argument covers (``solvent.solver.payer_lemma``, where ADL couples the
traders). ``--share-lemma``: the payer's share lemma on every preset with a pro-rata layer weighed
by profit (haircut, clawback, socialized loss over winners): verdict, units, seconds.

``--adl-lemma``: the ADL lemma (``solvent.solver.adl_lemma``: ADL at the bankruptcy price leaves
the bankrupt account at zero) on every preset that closes there, at 2, 3 and 4 traders, each at
``--effort`` units: verdict, units, seconds.

``--crosshair`` adds a baseline: the same two claims, for the first of ``--presets``, searched on
the concrete engine by hypothesis with the CrossHair backend (``pip install hypothesis-crosshair``, not a project
dependency), and the time ratio to z3.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
from typing import Any

PRESETS = ("backpack", "binance", "broker-reg-t", "drift", "okx-2018", "percolator")
INVARIANTS = ("conservation", "no-negative-equity")
N_SWEEP = (2, 4, 8, 16)
K_SWEEP = (1, 2, 3)
#: address space per cell (bytes): a question that needs more is reported, not swapped
MEMORY_CAP = 6 * 2**30


#: How ``size × price`` is kept decidable (``--encodings``): the default portfolio (purified
#: products with refinement, then exact NIA), exact NIA only, and a price grid (linear queries,
#: one per combination of grid prices; the verdict covers only those prices).
ENCODINGS = {
    "purified": {},
    "exact": {"linearize": False},
    "grid": {"price_grid": (9_000, 10_000, 11_000)},
}


def _cell(
    preset: str,
    invariant: str,
    accounts: int,
    events: int,
    effort_units: int,
    out: Any,
    encoding: str = "purified",
    compositional: bool = True,
) -> None:
    import solvent.solver  # noqa: F401  (registers the z3 backend)
    from solvent.rules.presets import resolve_policy
    from solvent.simulation.grids import ProofCell, answer_proof
    from solvent.solver.bounds import Bounds

    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    except (ImportError, ValueError, OSError):  # pragma: no cover - a platform without it runs uncapped
        pass
    started = time.perf_counter()
    bounds = Bounds(accounts=accounts, events=events, effort=effort_units, **ENCODINGS[encoding])
    # the cell a `solvent prove` grid runs (one code path), without the minimization
    cell = ProofCell(resolve_policy(preset), invariant, bounds, minimize=False, compositional=compositional)
    result = answer_proof(cell)
    claim = next((o for o in result.obligations if o.obligation == invariant), None)
    transfers = next((o for o in result.obligations if o.obligation != invariant), None)
    out.put(
        {
            "verdict": result.verdict.value,
            "scope": result.scope.text,
            "seconds": round(time.perf_counter() - started, 2),
            "reason": result.reason[:300],
            "units": result.units,
            # the claim's own obligation, apart from the transfers beside it: a claim proved for
            # every N (or refuted) is decided at this N whatever the transfers obligation says
            "claim": (claim.verdict.value if claim else result.verdict.value),
            "claim_scope": (claim.scope.text if claim and claim.scope else result.scope.text),
            "claim_reason": (claim.reason if claim else result.reason)[:300],
            "transfers": transfers.verdict.value if transfers else "",
            "transfers_reason": (transfers.reason if transfers else "")[:300],
        }
    )


def _load_once() -> None:
    """Import what a cell runs in this process, before any cell is forked: a child then runs the
    code the run started with, not what the worktree holds when the cell starts (a long run in a
    worktree that is being edited or rebased measured each cell on the code of its own moment)."""
    import solvent.solver  # noqa: F401  (registers the z3 backend)
    import solvent.solver.compositional  # noqa: F401
    import solvent.solver.prove  # noqa: F401
    from solvent.rules.presets import resolve_policy  # noqa: F401
    from solvent.simulation.grids import answer_proof  # noqa: F401


def run_cell(
    preset: str,
    invariant: str,
    accounts: int,
    events: int,
    effort_units: int,
    encoding: str = "purified",
    compositional: bool = True,
) -> dict[str, Any]:
    """One proof in a child process, with a hard wall (ten minutes plus three times the reference time)."""
    _load_once()
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    proc = ctx.Process(
        target=_cell, args=(preset, invariant, accounts, events, effort_units, out, encoding, compositional)
    )
    started = time.perf_counter()
    proc.start()
    proc.join(600 + 3 * effort_units // 1_000_000)
    row = {"preset": preset, "invariant": invariant, "N": accounts, "K": events}
    if proc.is_alive():
        proc.kill()
        proc.join()
        return row | {
            "verdict": "timeout (killed)",
            "scope": "",
            "seconds": round(time.perf_counter() - started, 2),
            "reason": "",
        }
    if out.empty():
        return row | {
            "verdict": f"error (exit {proc.exitcode})",
            "scope": "",
            "seconds": round(time.perf_counter() - started, 2),
            "reason": "",
        }
    return row | out.get()


def cells(presets: tuple[str, ...], quick: bool) -> list[tuple[str, str, int, int]]:
    """(preset, invariant, N, K): every N of the sweep with every K, and the target N = 3, K = 3
    (or only the two targets)."""
    shape = [(8, 1), (3, 3)] if quick else [(n, k) for n in N_SWEEP for k in K_SWEEP] + [(3, 3)]
    return [(p, i, n, k) for p in presets for i in INVARIANTS for n, k in shape]


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| preset | invariant | N | K | verdict | scope | seconds |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['preset']} | {r['invariant']} | {r['N']} | {r['K']} | {r['verdict']} | {r['scope']} | {r['seconds']} |"
        )
    return "\n".join(lines)


# --- the CrossHair baseline --------------------------------------------------------------------


def crosshair_baseline(preset: str, invariant: str, seconds: int) -> dict[str, Any]:
    """Time for hypothesis + CrossHair to find a one-step counterexample (or to give up)."""
    try:
        import hypothesis_crosshair_provider  # noqa: F401
    except ImportError:
        return {"preset": preset, "invariant": invariant, "crosshair": "not installed"}
    import attrs
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from solvent.properties import catalog
    from solvent.properties.catalog import StepView
    from solvent.rules.book import new_book
    from solvent.rules.engine import RejectedEvent, step
    from solvent.rules.events import MarkPrice
    from solvent.rules.margin import equity, initial_margin
    from solvent.rules.presets import load_preset

    policy = load_preset(preset)
    inv = catalog.get(invariant)
    shape = new_book(mark_quote=100, traders=("alice", "bob"))
    found: list[float] = []
    started = time.perf_counter()

    @settings(
        backend="crosshair", max_examples=10_000, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(
        mark=st.integers(1, 10_000),
        new_mark=st.integers(1, 10_000),
        cash=st.lists(st.integers(0, 10**6), min_size=2, max_size=2),
        spot=st.lists(st.integers(0, 10**6), min_size=2, max_size=2),
        size=st.integers(-1000, 1000),
    )
    def one_step(mark: int, new_mark: int, cash: list[int], spot: list[int], size: int) -> None:
        if time.perf_counter() - started > seconds:
            return
        sizes = {"alice": size, "bob": -size}
        accounts = []
        for a in shape.accounts:
            if a.is_trader:
                i = 0 if a.name == "alice" else 1
                a = attrs.evolve(
                    a, cash_quote=cash[i], spot_quote=spot[i], size_lots=sizes[a.name], cost_quote=sizes[a.name] * mark
                )
            accounts.append(a)
        book = attrs.evolve(
            shape,
            market=attrs.evolve(shape.market, mark_quote=mark, previous_mark_quote=mark),
            accounts=tuple(accounts),
        )
        book = attrs.evolve(book, net_deposits_quote=book.total_cash_quote())
        if any(
            equity(policy.margin, a) < initial_margin(policy.margin, policy.rounding, a.size_lots, mark)
            for a in book.traders
        ):
            return
        try:
            s = step(policy, book, MarkPrice(new_mark))
        except RejectedEvent:
            return
        if not inv.holds(StepView.of(policy, s)):
            found.append(time.perf_counter() - started)
            raise AssertionError("counterexample")

    try:
        one_step()
        outcome = "none found"
    except AssertionError:
        outcome = "found"
    except Exception as exc:  # the backend's own failures are the measurement
        outcome = f"crosshair failed: {type(exc).__name__}: {str(exc)[:80]}"
    elapsed = found[0] if found else time.perf_counter() - started
    return {"preset": preset, "invariant": invariant, "crosshair": outcome, "seconds": round(elapsed, 2)}


def compare_encodings(effort_units: int) -> None:
    """Bounded proofs (no compositional shortcut) under each encoding of ``size × price``."""
    cases = [("backpack", "conservation"), ("broker-reg-t", "no-negative-equity"), ("percolator", "conservation")]
    print("| preset | invariant | N | " + " | ".join(ENCODINGS) + " |")
    print("|---|---|---|" + "---|" * len(ENCODINGS))
    for preset, invariant in cases:
        for n in (2, 4, 8):
            cells_ = [
                run_cell(preset, invariant, n, 1, effort_units, encoding, compositional=False) for encoding in ENCODINGS
            ]
            shown = [f"{c['verdict']} {c['seconds']} s" for c in cells_]
            print(f"| {preset} | {invariant} | {n} | " + " | ".join(shown) + " |", flush=True)


def decided(row: dict[str, Any]) -> str:
    """How a catalog cell counts: "proved" (every obligation), "claim proved" (the claim's own
    obligation proved, at N or for every N, the non-negative-transfers obligation beside it open),
    "refuted" (a replayed story), else "undecided"."""
    if row["verdict"].startswith(("proved", "refuted")):
        return row["verdict"].split()[0]
    if row.get("claim") == "proved":
        return "claim proved"
    return "undecided"


def stage(row: dict[str, Any]) -> str:
    """Where an undecided cell ran out, read off its reasons: the build (the symbolic run and its
    linearization), the claim's own z3 question, the transfers obligation, or the process (killed)."""
    if not row["verdict"].startswith(("unknown", "partial")):
        return row["verdict"]
    said = f"{row.get('claim_reason', '')} {row.get('transfers_reason', '')} {row.get('reason', '')}"
    parts = []
    if row.get("claim") != "proved":
        parts.append("the claim's build" if "building the question" in row.get("claim_reason", "") else "the claim")
    if row.get("transfers") not in ("proved", ""):
        parts.append(
            "the transfers' build" if "building the question" in row.get("transfers_reason", "") else "the transfers"
        )
    if not parts:
        parts.append("build" if "building the question" in said else "z3")
    return " and ".join(parts)


def catalog_summary(rows: list[dict[str, Any]]) -> None:
    """The summary per preset of catalog cells (``catalog_table``'s rows, or a ``--json`` file of a
    run stopped part way: ``--summary PATH``), then the cells left open with their reasons."""
    names = list(dict.fromkeys(r["preset"] for r in rows))
    print()
    print(
        "| preset | cells | proved | claim proved, transfers open | refuted | undecided | median s | worst s | units |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for preset in names:
        mine = [r for r in rows if r["preset"] == preset]
        seconds = sorted(r["seconds"] for r in mine)
        count = {
            v: sum(1 for r in mine if r["counts"] == v) for v in ("proved", "claim proved", "refuted", "undecided")
        }
        units = sum(r.get("units", 0) for r in mine)
        print(
            f"| {preset} | {len(mine)} | {count['proved']} | {count['claim proved']} | {count['refuted']} | "
            f"{count['undecided']} | {seconds[len(seconds) // 2]} | {seconds[-1]} | {units:,} |"
        )
    print()
    for r in rows:
        if r["counts"] in ("undecided", "claim proved"):
            print(f"- {r['preset']} {r['invariant']}: {r['verdict']} ({r['stage']}): {r['reason']}")


def _commit() -> str:
    """The worktree's commit at the run's start (with "+changes" when it had uncommitted ones)."""
    import subprocess

    here = os.path.dirname(os.path.abspath(__file__))
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True, text=True
        )
    except OSError:
        return ""
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def catalog_table(
    accounts: int,
    effort_units: int,
    presets: tuple[str, ...] = (),
    events: int = 1,
    claims: tuple[str, ...] = (),
    partial_json: str | None = None,
) -> list[dict[str, Any]]:
    """Every catalog claim (or ``claims``) on every preset (or those named) at N = ``accounts``,
    K = ``events`` mark moves: the cells, then a summary per preset (a claim proved for every N
    counts as decided at any N, its transfers obligation at N shown apart) and the undecided
    claims with their reasons and the stage that ran out."""
    from solvent.properties import catalog
    from solvent.rules.presets import preset_names

    names = presets or tuple(preset_names())
    rows = []
    commit = _commit()
    for preset in names:
        for invariant in claims or catalog.CATALOG.ids():
            row = run_cell(preset, invariant, accounts, events, effort_units)
            row |= {"load_1min": round(os.getloadavg()[0], 2), "counts": decided(row), "stage": stage(row)}
            row["commit"] = commit
            print(
                f"{preset:13} {invariant:36} {row['verdict']:18} {row['counts']:13} {row.get('units', 0):>11,} "
                f"{row['seconds']:>7} s  {row.get('claim_scope', '')[:40]}",
                flush=True,
            )
            rows.append(row)
            if partial_json:  # the rows so far, so a run stopped part way keeps what it measured
                with open(partial_json, "w") as fh:
                    json.dump({"rows": rows}, fh, indent=2)
    catalog_summary(rows)
    return rows


def adl_lemma_table(effort_units: int) -> list[dict[str, Any]]:
    """The ADL lemma per preset and book size (in this process: each call runs z3 in a child)."""
    import solvent.solver  # noqa: F401  (registers the z3 backend)
    from solvent.rules.presets import preset_names, resolve_policy
    from solvent.solver import adl_lemma

    rows = []
    print("| preset | traders | verdict | units | seconds | load |")
    print("|---|---|---|---|---|---|")
    for preset in preset_names():
        policy = resolve_policy(preset)
        if adl_lemma.adl_layer(policy) is None:
            continue
        for traders in (2, 3, 4):
            result = adl_lemma.check(policy, traders, effort_units)
            row = {
                "preset": preset,
                "traders": traders,
                "verdict": result.verdict.value,
                "units": result.stats.units,
                "seconds": round(result.stats.seconds, 2),
                "load_1min": round(os.getloadavg()[0], 2),
            }
            print(
                f"| {preset} | {traders} | {row['verdict']} | {row['units']:,} | {row['seconds']} | {row['load_1min']} |",
                flush=True,
            )
            rows.append(row)
    return rows


def each_trader_table(
    effort_units: int, accounts: int, claims: tuple[str, ...] = (), presets: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """The per-trader all-N argument (``solvent.solver.per_account.each_trader_argument``, and where
    ADL couples the traders the payer's, ``solvent.solver.payer_lemma``) for every preset (or
    ``presets``) and claim it covers (or ``claims``), one mark move: whether it held, did not hold,
    or does not apply (and why), its units and seconds; where it held, the whole ``prove`` at N =
    ``accounts`` too: its headline verdict and scope, and its claim's own (the claim proved for every N
    where the non-negative transfers beside it are proved at N only: the headline takes their scope)."""
    import solvent.solver  # noqa: F401  (registers the z3 backend)
    from solvent.properties import catalog
    from solvent.rules.presets import preset_names, resolve_policy
    from solvent.solver import compositional
    from solvent.solver.bounds import Bounds
    from solvent.solver.per_account import EACH_LIQUIDATION, EACH_TRADER
    from solvent.solver.prove import prove

    rows = []
    print(
        f"| preset | claim | all-N argument | units | s | prove N = {accounts} | the claim's own | units | s | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for preset in presets or preset_names():
        policy = resolve_policy(preset)
        for claim in claims or (*EACH_TRADER, *EACH_LIQUIDATION):
            bounds = Bounds(accounts=accounts, events=1, effort=effort_units)
            started = time.perf_counter()
            found = compositional.attempt(policy, catalog.get(claim), bounds)
            seconds = round(time.perf_counter() - started, 2)
            units = sum(q.units for q in found.queries)
            if isinstance(found, compositional.Extension):
                verdict = "holds"
            else:
                verdict = ("did not hold: " if found.applies else "does not apply: ") + found.failed
            row = {"preset": preset, "claim": claim, "argument": verdict, "units": units, "seconds": seconds}
            if isinstance(found, compositional.Extension):
                started = time.perf_counter()
                result = prove(policy, claim, bounds, minimize=False)
                own = next((o for o in result.obligations if o.obligation == claim), None)
                own_scope = own.scope if own is not None and own.scope is not None else result.proved_scope
                row |= {
                    "prove": f"{result.verdict.value} ({'all N' if result.proved_scope.accounts is None else result.proved_scope.text})",
                    "prove_claim": (
                        f"{own.verdict.value if own is not None else result.verdict.value} "
                        f"({'all N' if own_scope.accounts is None else own_scope.text})"
                    ),
                    "prove_units": result.units,
                    "prove_seconds": round(time.perf_counter() - started, 2),
                }
            row["load_1min"] = round(os.getloadavg()[0], 2)
            print(
                f"| {preset} | {claim} | {verdict} | {units:,} | {seconds} | {row.get('prove', '')} | {row.get('prove_claim', '')} | "
                f"{row.get('prove_units', '')} | {row.get('prove_seconds', '')} | {row['load_1min']} |",
                flush=True,
            )
            rows.append(row)
    return rows


def share_lemma_table(effort_units: int) -> list[dict[str, Any]]:
    """The payer's share lemma (``solvent.solver.payer_lemma.share_check``) on every preset whose
    waterfall has a pro-rata layer weighed by profit: each claim's verdict, units and seconds."""
    from solvent.rules.presets import preset_names, resolve_policy
    from solvent.solver.payer_lemma import share_check, share_claims, share_layer

    rows = []
    print("| preset | layer | claim | verdict | units | s | load |")
    print("|---|---|---|---|---|---|---|")
    for preset in preset_names():
        policy = resolve_policy(preset)
        layer = share_layer(policy)
        if layer is None:
            continue
        for claim in share_claims(layer):
            lemma = share_check(policy, claim, effort_units)
            row = {
                "preset": preset,
                "layer": layer.kind,
                "claim": claim,
                "verdict": lemma.verdict.value,
                "detail": lemma.detail,
                "units": lemma.stats.units,
                "seconds": round(lemma.stats.seconds, 2),
                "load_1min": round(os.getloadavg()[0], 2),
            }
            print(
                f"| {preset} | {layer.kind} | {claim} | {row['verdict']} | {row['units']:,} | {row['seconds']} | "
                f"{row['load_1min']} |",
                flush=True,
            )
            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the two targets")
    parser.add_argument(
        "--presets", default=None, help=f"comma-separated (default {','.join(PRESETS)}; with --catalog, every preset)"
    )
    parser.add_argument("--effort", type=int, default=60_000_000, help="z3 resource units per solver question")
    parser.add_argument("--json", default=None, help="also write the rows here")
    parser.add_argument("--crosshair", action="store_true", help="add the hypothesis-crosshair baseline")
    parser.add_argument("--encodings", action="store_true", help="compare purified, exact and price-grid queries")
    parser.add_argument("--catalog", action="store_true", help="every claim on every preset at N = --accounts, K = 1")
    parser.add_argument("--accounts", type=int, default=4, help="N for --catalog")
    parser.add_argument("--events", type=int, default=1, help="K (mark moves) for --catalog")
    parser.add_argument(
        "--summary", default=None, help="summarize a --catalog run's --json rows (one stopped part way too)"
    )
    parser.add_argument("--adl-lemma", action="store_true", help="the ADL lemma at 2-4 traders per preset")
    parser.add_argument(
        "--each-trader", action="store_true", help="the per-trader all-N argument per preset and claim (N = --accounts)"
    )
    parser.add_argument(
        "--claims", default=None, help="comma-separated claims for --each-trader or --catalog (default: all)"
    )
    parser.add_argument(
        "--share-lemma", action="store_true", help="the payer's share lemma on every preset with a pro-rata layer"
    )
    args = parser.parse_args()
    if args.summary:
        with open(args.summary) as fh:
            catalog_summary(json.load(fh)["rows"])
        return
    if args.share_lemma:
        rows = share_lemma_table(args.effort)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump({"rows": rows}, fh, indent=2)
        return
    if args.each_trader:
        load = os.getloadavg()
        claims = tuple(args.claims.split(",")) if args.claims else ()
        rows = each_trader_table(
            args.effort, args.accounts, claims, tuple(args.presets.split(",")) if args.presets else ()
        )
        print(f"load average (1, 5, 15 min) at the start {load}, at the end {os.getloadavg()}")
        if args.json:
            with open(args.json, "w") as fh:
                json.dump({"rows": rows, "load_average": {"start": load, "end": os.getloadavg()}}, fh, indent=2)
        return
    if args.adl_lemma:
        rows = adl_lemma_table(args.effort)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump({"rows": rows}, fh, indent=2)
        return
    if args.catalog:
        load = os.getloadavg()
        rows = catalog_table(
            args.accounts,
            args.effort,
            tuple(args.presets.split(",")) if args.presets else (),
            args.events,
            tuple(args.claims.split(",")) if args.claims else (),
            args.json,
        )
        print(f"load average (1, 5, 15 min) at the start {load}, at the end {os.getloadavg()}")
        if args.json:
            with open(args.json, "w") as fh:
                json.dump({"rows": rows, "load_average": {"start": load, "end": os.getloadavg()}}, fh, indent=2)
        return
    if args.encodings:
        compare_encodings(args.effort)
        return
    rows = []
    load = {"start": os.getloadavg()}
    presets = tuple((args.presets or ",".join(PRESETS)).split(","))
    for preset, invariant, n, k in cells(presets, args.quick):
        row = run_cell(preset, invariant, n, k, args.effort)
        print(
            f"{preset:13} {invariant:19} N={n:<2} K={k}  {row['verdict']:16} {row['seconds']:>8} s  {row['scope']}",
            flush=True,
        )
        rows.append(row | {"load_1min": round(os.getloadavg()[0], 2)})
    load["end"] = os.getloadavg()
    print()
    print(markdown(rows))
    print(f"load average (1, 5, 15 min) at the start {load['start']}, at the end {load['end']}")
    baseline = []
    if args.crosshair:
        first = presets[0]
        for preset, invariant in ((first, "no-negative-equity"), (first, "conservation")):
            b = crosshair_baseline(preset, invariant, seconds=120)
            z3_row = run_cell(preset, invariant, 2, 1, args.effort)
            b["z3 verdict"], b["z3 seconds"] = z3_row["verdict"], z3_row["seconds"]
            if isinstance(b.get("seconds"), float) and z3_row["seconds"]:
                b["ratio"] = round(b["seconds"] / z3_row["seconds"], 1)
            print(b, flush=True)
            baseline.append(b)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": rows, "crosshair": baseline, "load_average": load}, fh, indent=2)


if __name__ == "__main__":
    main()

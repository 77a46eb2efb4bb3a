"""The least move of each z3 story, per preset (``solvent.solver.smallest_move``).

For each preset and catalog claim, z3 is asked as ``solvent check`` asks it (two traders, one mark
move, 10M units); each one-move refutation is then told at its least move within ``solvent
check``'s budget (``verdicts.proofs.CHECK_MOVES``) or ``solvent prove``'s (``--prove``). Printed:
the answer (exact, bounded), the least move refuted and the largest proved, the shown story's
move and mark, z3's first story's move, probes and units, and seconds with the load average
beside them (seconds vary on a shared machine; the units and the answers do not).

    python benchmarks/bench_smallest_move.py [--presets bybit,gmx-v2] [--prove]
"""

from __future__ import annotations

import argparse
import os
import time

import solvent.solver  # noqa: F401  (registers the z3 backend)
from solvent.properties import catalog
from solvent.rules.presets import load_preset, preset_names
from solvent.solver import effort
from solvent.solver.bounds import Bounds
from solvent.solver.prove import prove
from solvent.solver.smallest_move import DEFAULT_BUDGET, applies, smallest_move
from solvent.solver.verdicts import Verdict
from solvent.verdicts.proofs import CHECK_MOVES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="", help="comma-separated presets (default: every preset)")
    parser.add_argument("--prove", action="store_true", help="solvent prove's budget instead of check's")
    args = parser.parse_args()
    budget = DEFAULT_BUDGET if args.prove else CHECK_MOVES
    names = [p for p in args.presets.split(",") if p] or list(preset_names())
    print(f"load average before: {os.getloadavg()}")
    print(
        "| preset | claim | answer | refuted at | proved at | story (mark, move) | z3's first move | probes | units | s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in names:
        policy = load_preset(name)
        for invariant in catalog.CATALOG.values():
            with effort.question():
                result = prove(policy, invariant, Bounds(accounts=2, events=1, effort=10_000_000), minimize=False)
            if result.verdict is not Verdict.REFUTED or not applies(result.counterexample, invariant):
                continue
            started = time.perf_counter()
            move = smallest_move(policy, invariant, result.counterexample, result.bounds, budget)
            seconds = time.perf_counter() - started
            if move is None:
                print(f"| {name} | {invariant.id} | no story within the budget | | | | | | | {seconds:.1f} |")
                continue
            story = move.counterexample.story
            print(
                f"| {name} | {invariant.id} | {move.status.value} | {move.move_ppm:,} | "
                f"{'' if move.proved_ppm is None else f'{move.proved_ppm:,}'} | "
                f"{story.book.market.mark_quote:,}, {move.story_move_ppm:,} ppm | {move.original_ppm:,} ppm | "
                f"{move.probes} | {move.units / 1e6:.1f}M | {seconds:.1f} |",
                flush=True,
            )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()

"""A large question's build: its seconds against its build steps, with the linearizer's reads of z3
terms through z3's Python API (the reference, ``solver.nodes.PlainNodes``) and through the C API
once a node (``solver.nodes.Nodes``, what ``StoryQuery`` uses).

Run: ``python benchmarks/bench_build.py`` (binance's conservation, the claim and the transfers as
``prove`` builds them, one mark move, at N = 4, 8 and 16), ``--accounts 4,8``, ``--presets
binance,hyperliquid``, ``--claims conservation,deficit-charged-once``, ``--json PATH``.

Each question is built once with each reader, the reference first, each in a fresh z3 context
(``effort.question``), in one process: compare the two within a row (a ratio), never figures from
different runs or machines. A row gives the build's CPU and wall seconds, the linearizer's CPU
seconds (its rewrite, hints and lemmas), the build steps (``effort.BUILD_STEP`` units each) and
the load average before and after. Both builds must give the same build units and the same
number of facts (the readers build the same terms: ``tests/solver/test_nodes.py``); a row where
they differ is reported as a failure. Conservation's build includes its frames, proved by z3 within
a quarter of what the build left (z3's seconds, not the linearizer's): the effort given is
``EFFORT_PER_TRADER`` units a trader, so the N = 16 build fits.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import solvent.solver  # noqa: F401  (registers the z3 backend)
import solvent.solver.query as query_module
from solvent.properties import catalog
from solvent.rules.presets import load_preset
from solvent.solver import effort
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.linearize import Linearizer
from solvent.solver.nodes import Nodes, PlainNodes

#: the build's effort a trader: N = 8 builds binance's conservation in 5.36M units (its frames
#: included), N = 16 in about 4 times that
EFFORT_PER_TRADER = 3_000_000


class _Timed(Linearizer):
    """A linearizer that adds the CPU seconds of its passes to :attr:`spent`."""

    spent = 0.0
    reader: type = Nodes

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, nodes=type(self).reader(), **kwargs)

    def rewrite(self, formulas: Any) -> Any:
        started = time.process_time()
        try:
            return super().rewrite(formulas)
        finally:
            _Timed.spent += time.process_time() - started

    def hint(self, form: Any) -> None:
        started = time.process_time()
        try:
            super().hint(form)
        finally:
            _Timed.spent += time.process_time() - started

    def finish(self) -> None:
        started = time.process_time()
        try:
            super().finish()
        finally:
            _Timed.spent += time.process_time() - started


def build(preset: str, claim: str, accounts: int, reader: type) -> dict[str, Any]:
    """One build of the question, its linearizer reading with ``reader``."""
    policy = load_preset(preset)
    invariant = catalog.get(claim)
    bounds = for_policy(Bounds(accounts=accounts, effort=EFFORT_PER_TRADER * accounts), policy)
    _Timed.reader, _Timed.spent = reader, 0.0
    made = query_module.Linearizer
    query_module.Linearizer = _Timed  # type: ignore[misc]
    load = os.getloadavg()[0]
    try:
        with effort.question():
            cpu, wall = time.process_time(), time.perf_counter()
            query = query_module.StoryQuery(policy, invariant, bounds, obligations=(invariant, None))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            facts = len(query.solver.assertions())
    finally:
        query_module.Linearizer = made  # type: ignore[misc]
    return {
        "reader": reader.__name__,
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "linearizer_cpu_s": round(_Timed.spent, 2),
        "build_units": query.build_units,
        "steps": query.build_units // effort.BUILD_STEP,
        "facts": facts,
        "load": round(load, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="binance")
    parser.add_argument("--claims", default="conservation")
    parser.add_argument("--accounts", default="4,8,16")
    parser.add_argument("--json", default=None, help="also write the rows here")
    args = parser.parse_args()
    rows = []
    print(
        f"{'question':<36} {'steps':>7} {'reader':<10} {'CPU s':>7} {'wall s':>7} {'linearizer CPU s':>17} {'load':>5}"
    )
    for preset in args.presets.split(","):
        for claim in args.claims.split(","):
            for n in (int(x) for x in args.accounts.split(",")):
                plain = build(preset, claim, n, PlainNodes)
                fast = build(preset, claim, n, Nodes)
                same = (plain["build_units"], plain["facts"]) == (fast["build_units"], fast["facts"])
                name = f"{preset} {claim} N={n}"
                for row in (plain, fast):
                    print(
                        f"{name:<36} {row['steps']:>7,} {row['reader']:<10} {row['cpu_s']:>7.2f} {row['wall_s']:>7.2f}"
                        f" {row['linearizer_cpu_s']:>17.2f} {row['load']:>5}"
                    )
                ratio = fast["cpu_s"] / plain["cpu_s"] if plain["cpu_s"] else float("nan")
                lin = (
                    fast["linearizer_cpu_s"] / plain["linearizer_cpu_s"] if plain["linearizer_cpu_s"] else float("nan")
                )
                verdict = "same units and facts" if same else "FAILED: the readers built different questions"
                print(f"{'':<36} build CPU x{ratio:.2f}, linearizer CPU x{lin:.2f}; {verdict}")
                rows.append(
                    {"preset": preset, "claim": claim, "accounts": n, "plain": plain, "nodes": fast, "same": same}
                )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()

"""What a ``solvent`` command imports: only what it uses.

Every ``solvent`` process pays for its imports before it works, and the test suite starts about
seventy of them (docs/solver-notes.md#fixed-costs-processes-and-collection-session-28).
Hypothesis (0.2-0.3 s of CPU to import) is the search's: a command that does not search
(``prove``, ``thresholds``, ``check --no-search``) does not import it, and ``rich`` (0.05 s) is
imported only to colour a terminal's report, not one written to a pipe. A command that prints a
table (``presets``, ``invariants``, ``scenarios``) imports neither z3 nor the report model.

One fresh interpreter runs the commands in turn, in-process, and reports which of the heavy
packages ``sys.modules`` holds after each: a module-level import of them put back on one of these
paths (``properties.search`` from ``properties.reachable``, hypothesis in ``properties.relational``,
``reports.text`` from ``reports.terminal``) fails here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: each command, in the order the child runs them (a later one sees what the earlier imported)
COMMANDS = {
    "presets": ["presets"],
    "invariants": ["invariants"],
    "prove": [
        "prove",
        "backpack",
        "--invariant",
        "insurance-fund-non-negative",
        "--accounts",
        "1",
        "--effort",
        "50K",
        "--isolated",
        "0",
        "--no-least-move",
    ],
    "thresholds": ["thresholds", "backpack", "--question", "safe-move", "--probes", "0"],
    "check --no-search": ["check", "backpack", "--no-search", "--prove-budget", "0", "--invariant", "conservation"],
}

CHILD = """
import json, sys, warnings
warnings.simplefilter("ignore")
from solvent.cli import main
heavy = ("hypothesis", "z3", "numpy", "dask", "rich", "solvent.reports.text")
seen = {}
for name, args in json.loads(sys.argv[1]).items():
    try:
        main(args, standalone_mode=False)
    except SystemExit:
        pass
    seen[name] = [m for m in heavy if m in sys.modules]
print(json.dumps(seen))
"""


def test_a_command_imports_only_what_it_uses() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(COMMANDS)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen == {
        "presets": [],
        "invariants": [],
        "prove": ["z3"],
        "thresholds": ["z3"],
        "check --no-search": ["z3", "solvent.reports.text"],
    }

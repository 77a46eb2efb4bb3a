"""The same command gives the same verdicts on an idle and on a loaded machine (issue 11).

``solvent check`` and ``solvent diff`` run twice, each in a fresh process with a fresh findings
folder: once alone, once beside two processes that burn both cores. Their JSON reports must be
identical once the ``seconds*`` fields (the only ones allowed to vary) are removed, and so must
their exit codes. Every budget that decides a verdict is a count (examples, z3 resource units,
probes), so machine load cannot change an answer; a wall-clock budget would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CAPPED = ROOT / "examples" / "binance-capped-fund.toml"
BUDGET = ["--examples", "15", "--prove-budget", "8M", "--prove-effort", "2M"]


def _timeless(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _timeless(v) for k, v in data.items() if not k.startswith("seconds")}
    if isinstance(data, list):
        return [_timeless(x) for x in data]
    return data


def _run(cwd: Path, *args: str) -> tuple[int, Any]:
    cwd.mkdir(parents=True)
    out = cwd / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "solvent", *args, "--findings-dir", ".solvent/findings", "--format", "json", "--output", str(out)],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, _timeless(json.loads(out.read_text()))


@pytest.fixture
def burners():
    """Two processes that keep both cores busy while the block runs."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True:\n    pass"]) for _ in range(2)]
    try:
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


COMMANDS = {
    "check": ("check", "binance", *BUDGET),
    "diff": ("diff", "binance", str(CAPPED), *BUDGET),
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_same_command_gives_the_same_json_idle_and_loaded(name: str, tmp_path: Path, request) -> None:
    idle = _run(tmp_path / "idle", *COMMANDS[name])
    request.getfixturevalue("burners")
    loaded = _run(tmp_path / "loaded", *COMMANDS[name])
    assert idle == loaded
    if name == "check":  # the report really holds z3's answers, so the comparison covers them
        assert '"proof"' in json.dumps(idle[1])

"""``solvent`` run in the test's own process, for a test that reads a command's output and exit code.

A test that starts ``python -m solvent`` pays for a fresh interpreter and Solvent's imports (0.3-0.5 s
of CPU) before the command does any work
(docs/solver-notes.md#fixed-costs-processes-and-collection-session-28). Where a test checks the
command's answer, and not the console script, the process's environment or a printed command as a
shell runs it, :func:`solvent` runs the same command line in the test's process with click's
runner: the same parsing, the same exit code, standard output and error apart. An exception the
command does not turn into an exit code is raised in the test, not read as exit 1. A printed
command is still run as printed, in a process of its own, by ``tests/test_printed_commands.py``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from click.testing import CliRunner, Result

from solvent.cli import main


def solvent(*args: str, cwd: Path | None = None) -> Result:
    """``solvent ARGS`` in this process (from ``cwd`` when given): ``exit_code``, ``stdout``, ``stderr``."""
    with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext():
        return CliRunner().invoke(main, list(args), catch_exceptions=False)


__all__ = ["solvent"]

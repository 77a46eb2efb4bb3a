"""The commands Solvent's pages print, collected, parsed and run as printed: shared by
``tests/test_printed_commands.py`` (the README and docs/*.md) and ``tests/test_gallery_commands.py``
(the pages ``solvent gallery`` wrote, docs/gallery/*.md).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: a word that stands for something the reader fills in (POLICY, FILE..., DIR/path-I-INVARIANT.json, N)
_PLACEHOLDER = re.compile(r"[A-Z][A-Z_]*(?:\.\.\.)?|.*[A-Z]{2,}[^/]*\.json|N|\.\.\.")


def printed_commands(documents: Iterable[Path]) -> list[tuple[str, str]]:
    """(document, command) for every ``solvent`` command the documents print: each line of a code
    block that runs ``solvent``, and each inline ``solvent ...`` with arguments and no placeholder
    word (``solvent check PRESET`` says how, not what, to run)."""
    out = []
    for doc in documents:
        text = doc.read_text(encoding="utf-8")
        name = str(doc.relative_to(ROOT))
        for block in re.findall(r"```(?:sh|bash|console|shell)?\n(.*?)```", text, re.S):
            out += [(name, line) for line in block.splitlines() if re.match(r"^(?:[A-Z_]+=\S+ )*solvent ", line)]
        for span in re.findall(r"`((?:[A-Z_]+=\S+ )*solvent [^`]+)`", text):
            words = shlex.split(" ".join(span.split()), comments=True)
            if len(words) > 2 and not any(_PLACEHOLDER.fullmatch(w) for w in words[1:]):
                out.append((name, " ".join(span.split())))
    return out


def split(command: str) -> tuple[dict[str, str], list[str]]:
    """A printed command's environment (``COLUMNS=80 ...``) and its arguments after ``solvent``."""
    words = shlex.split(command, comments=True)
    env = {}
    while "=" in words[0] and words[0] != "solvent":
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    assert words[0] == "solvent", command
    return env, words[1:]


def parse(command: str) -> None:
    """Click parses the command as Solvent would, up to running it: its command, options and values
    exist (an option's callback checks an invariant, scenario or question name), or this raises."""
    import click

    from solvent.cli import main

    _, args = split(command)
    parent = click.Context(main, info_name="solvent")
    sub = main.get_command(parent, args[0])
    assert sub is not None, command
    with sub.make_context(args[0], args[1:], parent=parent):
        pass


def run_printed(cwd: Path, command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The command as printed, in a process of its own (``env``: more environment, after the
    command's own ``NAME=value`` words)."""
    own, args = split(command)
    return subprocess.run(
        [sys.executable, "-m", "solvent", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=os.environ | (env or {}) | own,
    )


__all__ = ["ROOT", "parse", "printed_commands", "run_printed", "split"]

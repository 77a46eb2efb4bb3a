"""The text report on a terminal: as wide as the terminal, verdicts in colour.

Written to a file or a pipe, the text report is byte for byte what ``text.render`` gives at
``text.WIDTH`` (120) columns, with no control codes, so goldens and CI logs stay stable. On a
terminal it is folded to the terminal's width (``COLUMNS`` wins when set, as it does for every
program that reads it) and printed through ``rich`` with the verdicts coloured: red for a
failure, yellow for an accepted one or an undecided proof, green for held and proved, dim for
not exercised. ``NO_COLOR`` turns colour off; ``FORCE_COLOR`` forces it.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import click

#: the width of a text report written to a file or a pipe (a terminal gets its own width); here, not
#: in ``text`` (which re-exports it), so that a command that only prints a table (``solvent presets``,
#: ``invariants``, ``scenarios``) does not import the report model, the solver and z3 with ``text``
WIDTH = 120

#: what is coloured, in order (a later match does not recolour an earlier one's text)
STYLES: tuple[tuple[str, str], ...] = (
    (r"\bFAILS\b", "bold red"),
    (r"\b\d+ fail(?=,)", "bold red"),
    (r"\bfails \(accepted\)|\b\d+ fail as accepted\b|\(accepted\)", "yellow"),
    (r"\bnot exercised\b", "dim"),
    (r"\bheld\b", "green"),
    (r"\bz3: (?:proved|the claim proved)\b", "green"),
    (r"\bz3: refuted\b|\brefuted \(replayed\)", "red"),
    (r"\bz3: undecided\b|\bundecided\b", "yellow"),
    (r"^Policy \S+", "bold"),
    (r"^\S.* — (?:scenario|found by search|replayed|z3 counterexample).*$", "bold"),
    (r"note: .*", "italic"),
)


def width(stream: TextIO | None = None) -> int:
    """The columns to fold the text report to: ``COLUMNS`` when set to a number, else the
    terminal's width when ``stream`` (standard output) is one, else :data:`text.WIDTH`."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return shutil.get_terminal_size((WIDTH, 24)).columns
    return WIDTH


def table(
    rows: Sequence[Sequence[Any]], headers: Sequence[str], width: int | None = None, *, wrap: Sequence[int] = ()
) -> str:
    """A plain table (``tabulate``'s ``simple``) whose ``wrap`` columns are folded so every line
    fits ``width`` (default :func:`width`): the room the other columns leave is shared among them
    in proportion to their natural widths, at least 12 characters each."""
    from tabulate import tabulate

    width = width or globals()["width"]()
    # tabulate keeps a column at least two wider than its header
    natural = [max([len(str(h)) + 2, *(len(str(r[k])) for r in rows)]) for k, h in enumerate(headers)]
    fixed = sum(n for k, n in enumerate(natural) if k not in wrap) + 2 * (len(headers) - 1)
    room = max(12 * len(wrap), width - fixed)
    wanted = sum(natural[k] for k in wrap) or 1
    limits: list[int | None] = [None] * len(headers)
    if sum(natural[k] for k in wrap) > room:
        for k in wrap:
            limits[k] = max(12, room * natural[k] // wanted)
    text = tabulate(rows, headers=headers, tablefmt="simple", maxcolwidths=limits, disable_numparse=True)
    # a word longer than its column's share widens that column: take the overflow from the
    # widest folded column that can still give it, and fold again
    for _ in range(len(rows) + 8):
        over = max(map(len, text.splitlines()), default=0) - width
        shrinkable = [k for k in wrap if limits[k] is not None and limits[k] > 12]
        if over <= 0 or not shrinkable:
            break
        k = max(shrinkable, key=lambda k: limits[k])
        limits[k] = max(12, limits[k] - over)
        text = tabulate(rows, headers=headers, tablefmt="simple", maxcolwidths=limits, disable_numparse=True)
    return text


def coloured(text: str) -> object:
    """``text`` as a ``rich.text.Text`` with the verdicts styled (see :data:`STYLES`)."""
    from rich.text import Text

    out = Text(text)
    for pattern, style in STYLES:
        out.highlight_regex(re.compile(pattern, re.MULTILINE), style)
    return out


def _surely_not_a_terminal(stream: TextIO) -> bool:
    """True where ``rich`` would say so too (``Console.is_terminal``): no ``FORCE_COLOR``, no
    ``TTY_COMPATIBLE=1`` and a stream that is not a tty. Then the text is printed without importing
    ``rich`` (0.05 s of CPU in every ``solvent check`` written to a pipe or a file); in any other
    case ``rich`` decides, as before."""
    if "FORCE_COLOR" in os.environ or os.environ.get("TTY_COMPATIBLE") == "1":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return isatty is None or not isatty()
    except ValueError:  # a closed stream: rich says no terminal too
        return True


def echo(text: str, stream: TextIO | None = None, console: object | None = None) -> None:
    """Print ``text`` (and a newline): in colour on a terminal, else exactly as it is."""
    stream = stream or sys.stdout
    if console is None and _surely_not_a_terminal(stream):
        click.echo(text, file=stream)
        return
    from rich.console import Console

    console = console or Console(file=stream, highlight=False, soft_wrap=True)
    if not console.is_terminal:  # type: ignore[attr-defined]
        click.echo(text, file=stream)
        return
    console.print(coloured(text), soft_wrap=True, highlight=False, markup=False)  # type: ignore[attr-defined]


__all__ = ["STYLES", "coloured", "echo", "table", "width"]

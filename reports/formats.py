"""Report formats by name, and how ``--format``/``--output`` pairs on a command line are read.

``--format F --output PATH`` writes format F to PATH; a ``--format`` with no ``--output`` after it
goes to standard output (at most one may); an ``--output`` with no ``--format`` before it takes
its format from the file's extension (``.sarif`` → sarif, ``.xml`` → junit, ``.md`` → markdown,
``.html``, ``.json``, ``.txt``). With no format on standard output, the text report goes there.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

#: format name → module in ``solvent.reports`` with ``render(reports) -> str``
FORMATS = {
    "text": "solvent.reports.text:render_all",
    "markdown": "solvent.reports.markdown:render",
    "html": "solvent.reports.html_report:render",
    "json": "solvent.reports.json_report:render",
    "junit": "solvent.reports.junit:render",
    "sarif": "solvent.reports.sarif:render",
}
EXTENSIONS = {
    ".txt": "text",
    ".md": "markdown",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
    ".xml": "junit",
    ".sarif": "sarif",
}
FORMAT_FLAG, OUTPUT_FLAG = "--format", "--output"


class OutputError(ValueError):
    """A ``--format``/``--output`` combination that cannot be written."""


def renderer(name: str) -> Callable[[Sequence[Any]], str]:
    module, func = FORMATS[name].split(":")
    return getattr(importlib.import_module(module), func)


def _occurrences(args: Sequence[str]) -> list[tuple[str, str]]:
    """The ``--format``/``--output`` flags and their values, in command-line order."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            break
        for flag in (FORMAT_FLAG, OUTPUT_FLAG):
            if a == flag and i + 1 < len(args):
                out.append((flag, args[i + 1]))
                i += 1
            elif a.startswith(flag + "="):
                out.append((flag, a[len(flag) + 1 :]))
        i += 1
    return out


def by_extension(path: str) -> str:
    fmt = EXTENSIONS.get(Path(path).suffix.lower())
    if fmt is None:
        known = ", ".join(f"{ext} ({f})" for ext, f in EXTENSIONS.items())
        raise OutputError(f"'--output' needs a --format before it or a known extension ({known}): {path!r}")
    return fmt


def pair_outputs(args: Sequence[str], *, formats: Sequence[str] = tuple(FORMATS)) -> list[tuple[str, Path | None]]:
    """(format, path) for each requested report; path None is standard output (text by default)."""
    pairs: list[tuple[str, Path | None]] = []
    pending: str | None = None
    for flag, value in _occurrences(args):
        if flag == FORMAT_FLAG:
            if pending is not None:
                pairs.append((pending, None))
            pending = value
        else:
            pairs.append((pending or by_extension(value), Path(value)))
            pending = None
    if pending is not None:
        pairs.append((pending, None))
    for fmt, _ in pairs:
        if fmt not in formats:
            raise OutputError(f"'--format' must be one of {', '.join(formats)}: {fmt!r}")
    stdout = [fmt for fmt, path in pairs if path is None]
    if len(stdout) > 1:
        raise OutputError(
            f"only one format can go to standard output; give the others an --output: {', '.join(stdout)}"
        )
    return pairs if stdout else pairs + [("text", None)]


def write(
    pairs: Sequence[tuple[str, Path | None]],
    reports: Sequence[Any],
    echo: Callable[[str], None],
    render: Callable[..., str] | None = None,
    *,
    terminal: bool = False,
) -> None:
    """Render each format once and write it to its file (creating folders) or through ``echo``.

    ``terminal``: the text report on standard output is folded to the terminal's width and
    coloured there (``reports.terminal``; a ``render`` of its own is then called with
    ``width=``); in a file or a pipe it is the same bytes as ever."""
    draw = render or (lambda fmt, rs: renderer(fmt)(rs))
    for fmt, path in pairs:
        if path is None and terminal and fmt == "text":
            from solvent.reports import terminal as term
            from solvent.reports.text import render_all

            text = render_all(reports, term.width()) if render is None else render(fmt, reports, width=term.width())
            term.echo(text.rstrip("\n"))
            continue
        text = draw(fmt, reports)
        if path is None:
            echo(text.rstrip("\n"))
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write the {fmt} report to {path}: {exc.strerror or exc}") from None


ARGS_KEY = "solvent.report_args"


class ReportCommand(click.Command):
    """A click command that keeps its raw arguments, so ``--format``/``--output`` pair in order."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[ARGS_KEY] = list(args)
        return super().parse_args(ctx, args)


def requested(ctx: click.Context, formats: Sequence[str] = tuple(FORMATS)) -> list[tuple[str, Path | None]]:
    """The (format, path) pairs of the command being run (see :func:`pair_outputs`)."""
    return pair_outputs(ctx.meta.get(ARGS_KEY, []), formats=formats)


__all__ = [
    "ARGS_KEY",
    "EXTENSIONS",
    "FORMATS",
    "OutputError",
    "ReportCommand",
    "by_extension",
    "pair_outputs",
    "renderer",
    "requested",
    "write",
]

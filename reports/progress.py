"""Progress on standard error while a command works: which policy, which claim, the budget left.

What runs and how much of its budget is spent comes from ``solvent.properties.progress`` (the
scan of every claim and each claim's own search in examples, each z3 question in z3's units),
always in the budget's deterministic units, never seconds. Three ways to show it, chosen from
the stream:

- **a terminal** (a TTY, ``TERM`` not ``dumb``, ``CI`` unset): a ``rich`` live display, cleared
  when the work ends: ``⠋ [1/2] checking binance · z3 no-haircut ━━━━━━━ 42M of 60M units left``;
- **a log** (a file or a pipe: a CI job's output, ``2> log``; or ``CI`` set): plain lines, one
  per policy and one each time the work moves to another claim or stage, never a control code:
  ``solvent: [1/2] checking binance`` then ``solvent:   z3 no-haircut: 42M of 60M units left``;
- **nothing** when the stream is neither (an in-memory stream, as in tests), with ``show=False``
  or ``SOLVENT_PROGRESS=off``.

The report itself goes to standard output and never carries any of this.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from solvent.properties.progress import Status, listening
from solvent.solver.effort import units_text


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _is_file(stream: TextIO) -> bool:
    """Whether ``stream`` is backed by a file descriptor (a file, a pipe, a terminal)."""
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


def mode(stream: TextIO | None = None, show: bool | None = None) -> str:
    """``live`` (a person at a terminal), ``lines`` (a log) or ``off``."""
    stream = stream or sys.stderr
    if show is False or os.environ.get("SOLVENT_PROGRESS") == "off":
        return "off"
    terminal = _isatty(stream) and os.environ.get("TERM") != "dumb"
    if terminal and not os.environ.get("CI"):
        return "live"
    if terminal or _is_file(stream) or show:
        return "lines"
    return "off"


def wanted(stream: TextIO | None = None) -> bool:
    """Whether a person is watching: a terminal, and not CI."""
    return mode(stream) == "live"


def budget_text(status: Status) -> str:
    """``42M of 60M units left``, ``120 of 200 examples left``; empty with no budget."""
    if not status.budget:
        return ""
    if status.unit == "units":
        return f"{units_text(status.left).removesuffix(' units')} of {units_text(status.budget)} left"
    return f"{status.left:,} of {status.budget:,} {status.unit} left"


def status_text(status: Status) -> str:
    """``z3 no-haircut: 42M of 60M units left``."""
    what = f"{status.stage} {status.item}".strip()
    left = budget_text(status)
    return f"{what}: {left}" if left else what


class _Lines:
    """Plain lines for a log: one per policy, one per change of stage or claim."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream, self.index = total, stream, 0
        self.last: tuple[str, str] | None = None

    def _write(self, line: str) -> None:
        self.stream.write(f"solvent: {line}\n")
        self.stream.flush()

    def tick(self, label: str) -> None:
        self.index += 1
        self.last = None
        self._write(f"[{self.index}/{self.total}] {label}" if self.total > 1 else label)

    def status(self, status: Status) -> None:
        if (status.stage, status.item) != self.last:
            self.last = (status.stage, status.item)
            self._write(f"  {status_text(status)}")


class _Live:
    """A ``rich`` live display: the policy being checked, and the work with its budget as a bar."""

    def __init__(self, total: int, stream: TextIO, console: object | None = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

        self.console = console or Console(file=stream, stderr=stream is sys.stderr)
        self.total, self.index, self.label = total, 0, ""
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[left]}", style="dim"),
            console=self.console,  # type: ignore[arg-type]
            transient=True,
        )
        self.task = self.bar.add_task("", total=None, left="")

    def tick(self, label: str) -> None:
        self.index += 1
        self.label = f"[{self.index}/{self.total}] {label}" if self.total > 1 else label
        self.bar.update(self.task, description=self.label, total=None, completed=0, left="")

    def status(self, status: Status) -> None:
        what = f"{status.stage} {status.item}".strip()
        self.bar.update(
            self.task,
            description=f"{self.label} · {what}" if self.label else what,
            total=status.budget or None,
            completed=min(status.spent, status.budget),
            left=budget_text(status),
        )


@contextmanager
def progress(
    total: int, *, stream: TextIO | None = None, show: bool | None = None, console: object | None = None
) -> Iterator[Callable[[str], None]]:
    """Yield ``tick(label)``, to call as each of ``total`` items starts; while the block runs, the
    work reported through ``solvent.properties.progress`` is shown beside the item (see the
    module for where and how). ``console``: a ``rich`` console to draw on (tests)."""
    stream = stream or sys.stderr
    how = "live" if console is not None else mode(stream, show)
    if how == "off":
        yield lambda label: None
        return
    view = _Live(total, stream, console) if how == "live" else _Lines(total, stream)
    if isinstance(view, _Live):
        view.bar.start()
    try:
        with listening(view.status):
            yield view.tick
    finally:
        if isinstance(view, _Live):
            view.bar.stop()


__all__ = ["budget_text", "mode", "progress", "status_text", "wanted"]

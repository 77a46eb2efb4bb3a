"""A one-line progress status on standard error for work longer than a second.

Shown only on an interactive terminal: silent when standard error is not a TTY, when ``CI`` is
set (GitHub Actions, GitLab and most CI systems set it) or when ``TERM=dumb``, so logs and piped
output stay clean. A background thread redraws the line (which item, how many, seconds elapsed);
the work itself stays on the calling thread.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

FRAMES = "|/-\\"


def wanted(stream: TextIO | None = None) -> bool:
    """Whether a person is watching: a terminal, and not CI."""
    stream = stream or sys.stderr
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("CI") and os.environ.get("TERM") != "dumb"


class _Status:
    def __init__(self, total: int, stream: TextIO, delay: float) -> None:
        self.total, self.stream, self.delay = total, stream, delay
        self.label, self.index = "", 0
        self.started = time.monotonic()
        self.stopped = threading.Event()
        self.drawn = False

    def tick(self, label: str) -> None:
        self.index += 1
        self.label = label

    def line(self, frame: int) -> str:
        count = f"[{self.index}/{self.total}] " if self.total > 1 else ""
        return f"{FRAMES[frame % len(FRAMES)]} {count}{self.label} {time.monotonic() - self.started:.0f} s"

    def run(self) -> None:
        frame = 0
        while not self.stopped.wait(0.1):
            if time.monotonic() - self.started < self.delay:
                continue
            self.stream.write("\r\x1b[K" + self.line(frame))
            self.stream.flush()
            self.drawn, frame = True, frame + 1

    def clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


@contextmanager
def progress(
    total: int, *, stream: TextIO | None = None, delay: float = 1.0, show: bool | None = None
) -> Iterator[Callable[[str], None]]:
    """Yield ``tick(label)``, to call as each of ``total`` items starts; draws after ``delay`` seconds."""
    stream = stream or sys.stderr
    status = _Status(total, stream, delay)
    if not (wanted(stream) if show is None else show):
        yield status.tick
        return
    thread = threading.Thread(target=status.run, name="solvent-progress", daemon=True)
    thread.start()
    try:
        yield status.tick
    finally:
        status.stopped.set()
        thread.join()
        status.clear()


__all__ = ["progress", "wanted"]

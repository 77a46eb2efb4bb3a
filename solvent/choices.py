"""Names the command line takes (presets, invariants, scenarios, threshold questions): shell
completion for each, and a check that refuses an unknown one with the closest known name.

Each kind is a :class:`Names`: ``complete`` is click's ``shell_complete`` for an argument or
option, ``check`` its ``callback``, which turns a misspelt id into click's usage error (exit 2, no
traceback) naming the option, the known ids and ``did you mean``. The ids are read when asked
(lazily: ``solvent --help`` imports none of the engine), from the same registries the judgement
uses, so an invariant a user registers before the command runs is known to both.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import Any

import click
from click.shell_completion import CompletionItem


def closest(name: str, known: Sequence[str]) -> str | None:
    """The known name closest to ``name`` (difflib), or None if none is close."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return close[0] if close else None


def unknown_message(kind: str, name: str, known: Sequence[str]) -> str:
    """``unknown invariant 'x' (did you mean 'y'?); known: a, b, c``."""
    hint = closest(name, known)
    return f"unknown {kind} {name!r}" + (f" (did you mean {hint!r}?)" if hint else "") + f"; known: {', '.join(known)}"


class Names:
    """One kind of name: where its ids come from, how to complete and check them.

    ``comma``: the option takes ``a,b,c`` in one value (``--question``), each part checked and the
    last completed."""

    def __init__(self, kind: str, ids: Callable[[], Sequence[str]], *, comma: bool = False, files: bool = False):
        self.kind, self._ids, self.comma, self.files = kind, ids, comma, files

    def ids(self) -> list[str]:
        return list(self._ids())

    def complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        head, part = ("", incomplete)
        if self.comma and "," in incomplete:
            head, part = incomplete.rsplit(",", 1)
            head += ","
        items = [CompletionItem(head + i, help=self.kind) for i in self.ids() if i.startswith(part)]
        if self.files:  # a policy may also be a file: let the shell complete paths too
            items.append(CompletionItem(incomplete, type="file"))
        return items

    def check(self, ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        """Click's callback: the value unchanged if every id is known, else a usage error."""
        if value is None:
            return value
        values = value if isinstance(value, tuple) else (value,)
        known = self.ids()
        for v in values:
            for name in (p.strip() for p in v.split(",")) if self.comma else (v,):
                if name and name not in known:
                    raise click.BadParameter(unknown_message(self.kind, name, known), ctx=ctx, param=param)
        return value


def _presets() -> list[str]:
    from solvent.rules.presets import preset_names

    return preset_names()


def _invariants() -> list[str]:
    from solvent.properties import catalog, relational

    return [*catalog.ids(), *relational.ids()]


def _catalog() -> list[str]:
    from solvent.properties import catalog

    return catalog.ids()


def _scenarios() -> list[str]:
    from solvent.properties.scenarios import SCENARIOS

    return list(SCENARIOS)


def _questions() -> list[str]:
    from solvent.solver.thresholds import QUESTION_IDS

    return list(QUESTION_IDS)


#: A policy argument: a preset name (checked where it is resolved: it may also be a file)
PRESETS = Names("preset", _presets, files=True)
#: ``gallery --preset``: a bundled preset only (the gallery shows the bundled venues)
BUNDLED = Names("preset", _presets)
#: ``--invariant`` and ``--accept`` of check and diff: an invariant or a relational property
CLAIMS = Names("invariant", _invariants)
#: ``prove --invariant``: invariants of the catalog, comma-separated (z3 proves no relational property)
INVARIANTS = Names("invariant", _catalog, comma=True)
SCENARIO_NAMES = Names("scenario", _scenarios)
QUESTIONS = Names("threshold question", _questions, comma=True)


__all__ = [
    "BUNDLED",
    "CLAIMS",
    "INVARIANTS",
    "PRESETS",
    "QUESTIONS",
    "SCENARIO_NAMES",
    "Names",
    "closest",
    "unknown_message",
]

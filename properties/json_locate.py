"""Where a value sits in a JSON text: the line and column of a JSON path, for error messages that
point into a saved finding the way a policy's errors point into its TOML (``file:line:col``).

Python's ``json`` keeps no positions, so the text is walked along the path with its own scanner
(``json.decoder.scanstring`` for keys, ``JSONDecoder.raw_decode`` to step over values)."""

from __future__ import annotations

import json
from json.decoder import scanstring

_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def _enter(text: str, pos: int, step: str | int) -> int | None:
    """The offset of ``step`` (an object's key or an array's index) in the value at ``pos``."""
    opening = text[pos] if pos < len(text) else ""
    if opening not in "{[" or (opening == "{") != isinstance(step, str):
        return None
    pos, index = _skip(text, pos + 1), 0
    while pos < len(text) and text[pos] not in "}]":
        if opening == "{":
            key, pos = scanstring(text, pos + 1)
            pos = _skip(text, _skip(text, pos) + 1)  # past the colon
            if key == step:
                return pos
        elif index == step:
            return pos
        _, pos = _DECODER.raw_decode(text, pos)
        pos, index = _skip(text, _skip(text, pos) + 1), index + 1  # past the comma
    return None


def locate(text: str, path: tuple[str | int, ...]) -> tuple[int, int] | None:
    """The (line, column), from 1, of the value at ``path`` in the JSON ``text``; None if absent."""
    pos: int | None = _skip(text, 0)
    for step in path:
        try:
            pos = _enter(text, pos, step)
        except (ValueError, IndexError):
            return None
        if pos is None:
            return None
    return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1


def json_path(path: tuple[str | int, ...]) -> str:
    """``$.story.events[3].amount_quote`` for ``("story", "events", 3, "amount_quote")``."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


__all__ = ["json_path", "locate"]

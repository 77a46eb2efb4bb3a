"""Where each key and value of a TOML document is written: line and column, from a real parser.

``tomllib`` gives the values and no positions; tree-sitter's TOML grammar (``tree-sitter-toml``)
gives a concrete syntax tree with the position of every node, so a multi-line string that
contains ``[[deficit]]`` is a string, not a table header, and an inline table, a dotted key or a
quoted key is found where it is written. :class:`SourceMap` walks that tree once and keeps, for
every path of the document (``("deficit", 2, "cap_quote")``, the loader's ``$.deficit[2].cap_quote``),
where its key and its value start.

Paths follow TOML's own meaning: ``[[a]]`` appends an element to the array ``a`` (indexed from 0),
``[a.b]`` after ``[[a]]`` is a table in the last element of ``a``, ``x.y = 1`` sets ``y`` in the
table ``x``. Lines and columns are 1-based; a column counts characters (Unicode code points), as
SARIF's ``unicodeCodePoints`` and editors do.

A document tomllib reads but tree-sitter's grammar flags (it should not happen for TOML 1.0) keeps
the positions of the parts that parsed; a path not found has no position (``None``), never a guess.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from functools import cache
from typing import Any

import attrs

Path = tuple[str | int, ...]


@attrs.frozen(order=True)
class Position:
    """A 1-based line and column (in characters)."""

    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


@attrs.frozen
class Located:
    """Where one path is written: its key (a ``key =`` or the table header) and its value."""

    key: Position
    value: Position | None = None


@cache
def _parser() -> Any:
    import tree_sitter
    import tree_sitter_toml

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_toml.language()))


_KEY_NODES = ("bare_key", "quoted_key", "dotted_key")
_VALUE_SKIP = ("=", "comment", ",", "[", "]", "{", "}", "ERROR")


class SourceMap:
    """Every path of a TOML document mapped to where it is written (see the module's docstring)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._raw = text.encode("utf-8")
        self._line_starts = [0] + [m.end() for m in re.finditer(rb"\n", self._raw)]
        self.paths: dict[Path, Located] = {}
        self._arrays: dict[Path, int] = {}  # arrays of tables: elements seen so far
        tree = _parser().parse(self._raw)
        self.has_error = tree.root_node.has_error
        self._document(tree.root_node)

    # --- positions -------------------------------------------------------------------------

    def _position(self, node: Any) -> Position:
        row, byte_column = node.start_point
        start = self._line_starts[row]
        column = len(self._raw[start : start + byte_column].decode("utf-8", errors="replace")) + 1
        return Position(row + 1, column)

    def _record(self, path: Path, key: Any, value: Any | None = None) -> None:
        if path not in self.paths:
            self.paths[path] = Located(self._position(key), None if value is None else self._position(value))

    # --- the tree --------------------------------------------------------------------------

    def _key(self, node: Any) -> list[str]:
        """A key node's parts: ``a.b."c d"`` is ``["a", "b", "c d"]``."""
        if node.type == "bare_key":
            return [node.text.decode("utf-8")]
        if node.type == "quoted_key":
            return list(tomllib.loads(node.text.decode("utf-8") + " = 0"))
        return [part for child in node.children if child.type in _KEY_NODES for part in self._key(child)]

    def _resolve(self, keys: list[str]) -> Path:
        """A header's keys as a path: an array of tables along the way means its last element."""
        path: Path = ()
        for key in keys:
            path = (*path, key)
            if path in self._arrays:
                path = (*path, self._arrays[path] - 1)
        return path

    def _document(self, root: Any) -> None:
        for node in root.children:
            if node.type == "pair":
                self._pair((), node)
            elif node.type in ("table", "table_array_element"):
                self._table(node)

    def _table(self, node: Any) -> None:
        key_node = next((c for c in node.children if c.type in _KEY_NODES), None)
        if key_node is None:
            return
        keys = self._key(key_node)
        parent = self._resolve(keys[:-1])
        for i in range(1, len(keys)):  # the tables a dotted header implies, at this header
            self._record(self._resolve(keys[:i]), node)
        path = (*parent, keys[-1])
        if node.type == "table_array_element":
            self._record(path, node)
            self._arrays[path] = self._arrays.get(path, 0) + 1
            path = (*path, self._arrays[path] - 1)
        self._record(path, node)
        for child in node.children:
            if child.type == "pair":
                self._pair(path, child)

    def _pair(self, table: Path, node: Any) -> None:
        key_node = next((c for c in node.children if c.type in _KEY_NODES), None)
        if key_node is None:
            return
        value = _value_of(node, key_node)
        keys = self._key(key_node)
        for i in range(1, len(keys)):
            self._record((*table, *keys[:i]), key_node)
        path = (*table, *keys)
        self._record(path, key_node, value)
        if value is not None:
            self._value(path, value)

    def _value(self, path: Path, node: Any) -> None:
        if node.type == "inline_table":
            for child in node.children:
                if child.type == "pair":
                    self._pair(path, child)
        elif node.type == "array":
            for i, item in enumerate(c for c in node.children if c.type not in _VALUE_SKIP):
                self._record((*path, i), item, item)
                self._value((*path, i), item)

    # --- queries ---------------------------------------------------------------------------

    def find(self, path: Path) -> Located | None:
        """Where ``path`` is written, or None."""
        return self.paths.get(tuple(path))

    def nearest(self, path: Path) -> tuple[Path, Located] | None:
        """``path`` if written, else its closest written ancestor (an absent key: its table)."""
        path = tuple(path)
        for n in range(len(path), 0, -1):
            found = self.paths.get(path[:n])
            if found is not None:
                return path[:n], found
        return None

    def value_literal(self, path: Path) -> str | None:
        """The text of a scalar value as written (``0.1``, ``1e5``), or None."""
        found = self.find(path)
        if found is None or found.value is None:
            return None
        line = self.text.split("\n")[found.value.line - 1]
        match = _SCALAR.match(line, found.value.column - 1)
        return match[0] if match else None

    def __iter__(self) -> Iterator[Path]:
        return iter(self.paths)


_SCALAR = re.compile(r"[+-]?(?:inf|nan|[0-9][0-9_]*(?:\.[0-9_]+)?(?:[eE][+-]?[0-9_]+)?)")


def _value_of(pair: Any, key_node: Any) -> Any | None:
    """The value node of a ``key = value`` pair."""
    return next((c for c in pair.children if c.start_byte >= key_node.end_byte and c.type not in _VALUE_SKIP), None)


# --- paths as the loader spells them -------------------------------------------------------------

_PART = re.compile(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]|^([A-Za-z0-9_\-]+)")


def parse_path(text: str) -> Path:
    """``$.deficit[2].cap_quote`` or ``deficit[2].cap_quote`` as ``("deficit", 2, "cap_quote")``."""
    text = text.removeprefix("$")
    return tuple(int(m[2]) if m[2] is not None else (m[1] or m[3]) for m in _PART.finditer(text))


def format_path(path: Path, *, root: str = "$") -> str:
    """``("deficit", 2, "cap_quote")`` as ``$.deficit[2].cap_quote`` (``root=""``: ``deficit[2].cap_quote``)."""
    out = root
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


__all__ = ["Located", "Position", "SourceMap", "format_path", "parse_path"]

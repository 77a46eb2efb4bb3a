"""One registry for everything Solvent names by id: invariants, relational properties, scenarios.

A :class:`Registry` maps an id to an item in registration order. Registering an id twice is an
error that names the id; asking for an unknown id is a ``KeyError`` that lists the known ids and
suggests the closest one. Solvent's own items are registered explicitly by the module that defines
them (``solvent.properties.catalog``, ``solvent.properties.relational``,
``solvent.properties.scenarios``, which registers the incident replays of
``solvent.properties.incidents`` too); nothing registers by being imported elsewhere. Items a user
registers in their own code (a ``conftest.py``) are told apart from the built-in ones by
:meth:`Registry.builtin`.

The registry is a read-only :class:`~collections.abc.Mapping` (``id in r``, ``r[id]``,
``r.values()``, iteration in registration order), plus :meth:`register` and :meth:`unregister`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")

_MISSING = object()


class Registry(Mapping[str, T], Generic[T]):
    """Items of one ``kind`` (``"invariant"``, ``"scenario"``), keyed by ``key(item)``."""

    def __init__(self, kind: str, key: Callable[[T], str]) -> None:
        self.kind = kind
        self._key = key
        self._items: dict[str, T] = {}
        self._builtin: set[str] = set()

    def register(self, item: T, *, builtin: bool = False) -> T:
        """Add ``item`` under its id; ``ValueError`` naming the id if it is taken. Returns ``item``."""
        id = self._key(item)
        if id in self._items:
            raise ValueError(f"{self.kind} id {id!r} is already registered")
        self._items[id] = item
        if builtin:
            self._builtin.add(id)
        return item

    def seal_builtins(self) -> None:
        """Every id registered so far is one of Solvent's own; later ones are the user's."""
        self._builtin = set(self._items)

    def unregister(self, id: str) -> T:
        """Remove a (user-registered) item and return it; the unknown-id ``KeyError`` otherwise."""
        item = self.get(id)
        del self._items[id]
        self._builtin.discard(id)
        return item

    def get(self, id: str, default: object = _MISSING) -> T:  # type: ignore[override]
        """The item with that id. Unknown: ``default`` if one is given, else a ``KeyError`` that lists
        the known ids in registration order and suggests the closest."""
        try:
            return self._items[id]
        except KeyError:
            if default is not _MISSING:
                return default  # type: ignore[return-value]
            raise KeyError(self.unknown(id)) from None

    def unknown(self, id: str) -> str:
        """The message for an unknown ``id``: the known ids, and the closest one if any is close."""
        close = difflib.get_close_matches(id, list(self._items), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown {self.kind} {id!r}; known: {', '.join(self._items)}{hint}"

    def ids(self) -> list[str]:
        """Every registered id, in registration order."""
        return list(self._items)

    def builtin(self, id: str) -> bool:
        """Whether ``id`` is one of Solvent's own items (known to every ``solvent`` command), not one
        a user registered in their own code (known only where that code runs)."""
        return id in self._builtin

    def __getitem__(self, id: str) -> T:
        return self.get(id)

    def __delitem__(self, id: str) -> None:
        self.unregister(id)

    def __contains__(self, id: object) -> bool:
        return id in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.ids()!r})"


__all__ = ["Registry"]

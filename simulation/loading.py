"""Scenario files: TOML in, a validated :class:`~solvent.simulation.scenario.Scenario` out.

The same reader and error shape as a policy (``solvent.rules.loading``): TOML floats read exactly
(``parse_float=Fraction``; ``nan`` and ``inf`` reach the validator and are refused), cattrs with
``forbid_extra_keys``, every problem on its own line as ``'<field>' must be <op> <bound>: <value>
@ $.<path> (line N)``, raised together as a :class:`ScenarioError` that names the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import cattrs
from cattrs.errors import BaseValidationError
from cattrs.strategies import configure_tagged_union

from solvent.rules.loading import (
    PolicyError,
    _array_hook,
    _as_read,
    _at_key,
    _enum_hook,
    _Invalid,
    _is_array,
    _is_enum,
    _Missing,
    _parse,
    _Problem,
    _string,
    _table_hook,
    errors_of,
)
from solvent.rules.toml_source import SourceMap, parse_path
from solvent.simulation.scenario import (
    DISTRIBUTION_KINDS,
    MODEL_KINDS,
    Distribution,
    PriceModel,
    Scenario,
)


class ScenarioError(PolicyError):
    """A scenario (or its CSV of candles) that could not be loaded: the file and every problem."""


def _tagged_hook(tag: str, kinds: tuple[str, ...], base: Any, structure_tagged: Callable[[Any, Any], Any]):
    """Check a tagged table's ``tag`` key before cattrs' tagged union reads it."""
    must = "must be one of " + ", ".join(repr(k) for k in kinds)

    def structure(value: Any, _: Any) -> Any:
        if not isinstance(value, dict):
            raise _Invalid("must be a table", value)
        if tag not in value:
            raise _Missing(tag)
        if not (isinstance(value[tag], str) and value[tag] in kinds):
            raise _at_key(tag, _Invalid(must, value[tag]))
        return structure_tagged(value, base)

    return structure


def _optional_number(value: Any, _: Any) -> Any:
    return value


def make_converter() -> cattrs.Converter:
    """The converter between scenarios and TOML-shaped data."""
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(str, _string)
    converter.register_structure_hook(int, _as_read)
    converter.register_structure_hook(bool, _as_read)
    converter.register_structure_hook(Any, _as_read)
    converter.register_structure_hook(int | None, _optional_number)
    converter.register_structure_hook_factory(_is_enum, _enum_hook)
    converter.register_structure_hook_factory(_is_array, _array_hook)
    converter.register_structure_hook_factory(attrs.has, _table_hook)
    for base, kinds, tag in (
        (Distribution, DISTRIBUTION_KINDS, "distribution"),
        (PriceModel, MODEL_KINDS, "model"),
    ):
        configure_tagged_union(base, converter, tag_generator=lambda cls: cls.kind, tag_name=tag)
        converter.register_structure_hook(base, _tagged_hook(tag, kinds, base, converter.get_structure_hook(base)))
    return converter


CONVERTER = make_converter()

# --- where a path sits in the file ---------------------------------------------------------------

_PATH = re.compile(r" @ \$((?:\.[A-Za-z0-9_]+|\[\d+\])*)$")


def line_of(text: str, path: str) -> int | None:
    """The 1-based line that writes ``path`` (``book.size.alpha``): its key's line, else the line of
    the nearest enclosing key or table header (an inline table), else None. Read off the policy
    loader's TOML parser with positions (``rules.toml_source``), not by scanning the text."""
    found = SourceMap(text).nearest(parse_path(path))
    return None if found is None else found[1].key.line


_UNKNOWN = re.compile(r"^unknown key '([A-Za-z0-9_\-]+)'")


def _with_line(error: str, text: str) -> str:
    """The error with the line of its path (an unknown key: the key's own line)."""
    match = _PATH.search(error)
    if match is None:
        return error
    unknown = _UNKNOWN.match(error)
    path = match[1].lstrip(".") + (f".{unknown[1]}" if unknown else "")
    line = line_of(text, path)
    return error if line is None else f"{error} (line {line})"


# --- reading -------------------------------------------------------------------------------------


def loads_scenario(text: str, *, source: str = "<string>") -> Scenario:
    """The scenario a TOML document describes, or ScenarioError naming every problem in it."""
    try:
        data = _parse(text, source)
    except PolicyError as exc:
        raise ScenarioError(source, exc.errors) from None
    try:
        return CONVERTER.structure(data, Scenario)
    except (BaseValidationError, _Problem) as exc:
        raise ScenarioError(source, [_with_line(e, text) for e in errors_of(exc)]) from None


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """The scenario in a TOML file (UTF-8); errors name the file."""
    source = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(source, [f"cannot read the scenario file: {exc}"]) from None
    return loads_scenario(text, source=source)


__all__ = ["CONVERTER", "ScenarioError", "line_of", "load_scenario", "loads_scenario"]

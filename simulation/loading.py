"""Scenario files: TOML in, a validated :class:`~solvent.simulation.scenario.Scenario` out.

The same reader and error shape as a policy (``solvent.rules.loading``): TOML floats read exactly
(``parse_float=Fraction``; ``nan`` and ``inf`` reach the validator and are refused), cattrs with
``forbid_extra_keys``, every problem on its own line as ``'<field>' must be <op> <bound>: <value>
@ $.<path> (line N)``, raised together as a :class:`ScenarioError` that names the file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import cattrs

from solvent.rules.loading import PolicyError, add_tagged_union, base_converter, read_toml, structure
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


def make_converter() -> cattrs.Converter:
    """The converter between scenarios and TOML-shaped data: the policies' base converter
    (``rules.loading.base_converter``) and the two tagged tables, distributions and price models."""
    converter = base_converter()
    add_tagged_union(converter, Distribution, DISTRIBUTION_KINDS, "distribution")
    add_tagged_union(converter, PriceModel, MODEL_KINDS, "model")
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


def placed_in(error: str, path: str | os.PathLike[str]) -> str:
    """``error`` (ending ``@ $.<path>``) with the line of the scenario file that writes it: for a
    problem found after loading, against the policy (``solvent.simulation.paths.with_scenario``)."""
    try:
        return _with_line(error, Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return error


# --- reading -------------------------------------------------------------------------------------


def loads_scenario(text: str, *, source: str = "<string>") -> Scenario:
    """The scenario a TOML document describes, or ScenarioError naming every problem in it."""
    try:
        data = read_toml(text, source)
    except PolicyError as exc:
        raise ScenarioError(source, exc.errors) from None
    scenario, errors = structure(CONVERTER, data, Scenario)
    if errors:
        raise ScenarioError(source, [_with_line(e, text) for e in errors])
    return scenario


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """The scenario in a TOML file (UTF-8); errors name the file."""
    source = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(source, [f"cannot read the scenario file: {exc}"]) from None
    return loads_scenario(text, source=source)


__all__ = ["CONVERTER", "ScenarioError", "line_of", "load_scenario", "loads_scenario", "placed_in"]

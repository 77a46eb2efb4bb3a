"""Bundled venue presets: policies modelled on a venue's documentation, each citing its sources.

A preset is a TOML file in ``rules/presets/`` (package data). Every parameter line carries a
comment saying where its number comes from, or, where the sources leave it open, what was picked
and why. ``resolve_policy`` is what the command line uses: a path to a ``.toml`` file, or a
preset name.
"""

from __future__ import annotations

import os
from pathlib import Path

from solvent.rules.loading import Claims, PolicyError, did_you_mean, load_policy
from solvent.rules.policy import Policy

PRESETS_DIR = Path(__file__).with_name("presets")


def preset_names() -> list[str]:
    """The names of the bundled presets, sorted."""
    return sorted(path.stem for path in PRESETS_DIR.glob("*.toml"))


def _unknown(name: str, field: str, expected: str) -> PolicyError:
    names = ", ".join(repr(n) for n in preset_names())
    return PolicyError(
        name, [f"'{field}' must be {expected}one of {names}: {name!r}{did_you_mean(name, preset_names())}"]
    )


def preset_path(name: str) -> Path:
    """The file of the preset ``name``; PolicyError listing the presets if there is none."""
    if name not in preset_names():
        raise _unknown(name, "preset", "")
    return PRESETS_DIR / f"{name}.toml"


def load_preset(name: str, *, claims: Claims | None = None) -> Policy:
    """The bundled preset ``name``, loaded and validated (``accepts`` against ``claims`` if given)."""
    return load_policy(preset_path(name), claims=claims)


def resolve_policy(name_or_path: str | os.PathLike[str], *, claims: Claims | None = None) -> Policy:
    """A policy from a path to an existing ``.toml`` file, else from the preset of that name;
    ``accepts`` is checked against ``claims`` when the caller knows them (see ``loads_policy``)."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.is_file():
        return load_policy(path, claims=claims)
    name = os.fspath(name_or_path)
    if name not in preset_names():
        raise _unknown(name, "policy", "an existing .toml file or ")
    return load_preset(name, claims=claims)

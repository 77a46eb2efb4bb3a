"""Bundled venue presets: policies modelled on a venue's documentation, each citing its sources.

A preset is a TOML file in ``rules/presets/`` (package data). Every parameter line carries a
comment saying where its number comes from, or, where the sources leave it open, what was picked
and why. ``resolve_policy`` is what the command line uses: a path to a ``.toml`` file, or a
preset name.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from solvent.rules.loading import Claims, PolicyError, did_you_mean, load_policy
from solvent.rules.policy import Policy

PRESETS_DIR = Path(__file__).with_name("presets")

#: Other names of a preset, resolved and never listed: ``percolator`` is ``percolator-gen-a``
#: (docs/venues.md#percolator-presets-and-the-alias).
ALIASES = {"percolator": "percolator-gen-a"}


def preset_names() -> list[str]:
    """The names of the bundled presets, sorted."""
    return sorted(path.stem for path in PRESETS_DIR.glob("*.toml"))


def _unknown(name: str, field: str, expected: str) -> PolicyError:
    names = ", ".join(repr(n) for n in preset_names())
    return PolicyError(
        name, [f"'{field}' must be {expected}one of {names}: {name!r}{did_you_mean(name, preset_names())}"]
    )


def preset_path(name: str) -> Path:
    """The file of the preset ``name`` (or of the preset it is another name for, ``ALIASES``);
    PolicyError listing the presets if there is none."""
    name = ALIASES.get(name, name)
    if name not in preset_names():
        raise _unknown(name, "preset", "")
    return PRESETS_DIR / f"{name}.toml"


def load_preset(name: str, *, claims: Claims | None = None) -> Policy:
    """The bundled preset ``name``, loaded and validated (``accepts`` against ``claims`` if given)."""
    return load_policy(preset_path(name), claims=claims)


def _header(name: str) -> list[str]:
    """The preset's leading comment lines, without their ``# ``."""
    lines = []
    for line in preset_path(name).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[2:] if line.startswith("# ") else line[1:])
    return lines


def _names(text: str) -> list[str]:
    """Items of a "Not modelled" list, each cut to its name: parentheticals dropped, split at ``; ``
    and ``, and ``, each ended at its first colon, comma or full stop."""
    text = re.sub(r"\s*\([^()]*\)", "", " ".join(text.split()))
    items = re.split(r"; |, and ", text)
    return [re.split(r": |, |\. |\.$", item)[0].strip() for item in items if item.strip()]


def not_modelled(name: str) -> tuple[str, ...]:
    """What the preset ``name`` leaves out of the venue's mechanism, by name, read from its header:
    a line "Not modelled:" followed by ``- `` bullets (each bullet's first sentence), or a sentence
    "Not modelled: a (why); b (why)." running to the end of the header. ``solvent presets`` shows
    them; the header keeps the reasons."""
    lines = _header(name)
    items: list[str] = []
    for i, line in enumerate(lines):
        if "Not modelled" not in line:
            continue
        rest = line.split("Not modelled", 1)[1].removeprefix(" either").removeprefix(":").strip()
        if not rest:  # a bulleted list follows
            bullets: list[str] = []
            for follow in lines[i + 1 :]:
                if follow.startswith("- "):
                    bullets.append(follow[2:])
                elif follow.startswith("  ") and bullets:
                    bullets[-1] += " " + follow.strip()
                else:
                    break
            for bullet in bullets:
                items += _names(re.split(r"\. ", bullet)[0])
        else:
            tail = [rest]
            for follow in lines[i + 1 :]:
                if not follow.strip() or "Not modelled" in follow:
                    break
                tail.append(follow)
            items += _names(" ".join(tail))
    return tuple(items)


def resolve_policy(name_or_path: str | os.PathLike[str], *, claims: Claims | None = None) -> Policy:
    """A policy from a path to an existing ``.toml`` file, else from the preset of that name;
    ``accepts`` is checked against ``claims`` when the caller knows them (see ``loads_policy``)."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.is_file():
        return load_policy(path, claims=claims)
    name = os.fspath(name_or_path)
    if ALIASES.get(name, name) not in preset_names():
        raise _unknown(name, "policy", "an existing .toml file or ")
    return load_preset(name, claims=claims)

"""Findings on disk: a failing story as a schema-versioned JSON file that replays exactly.

A finding carries the policy itself (as TOML text), the invariant, the starting book, every
concrete event and the failing step, so ``solvent replay FINDING.json`` needs nothing else. A
findings directory doubles as the counterexample database: ``solvent check`` replays the saved
stories of a policy before it searches, so a known failure is reported at once.
"""

from __future__ import annotations

import enum
import hashlib
import json
from pathlib import Path
from typing import Any

import attrs
import cattrs

from solvent.properties.json_locate import json_path, locate
from solvent.properties.scenarios import Story
from solvent.rules import events as ev
from solvent.rules.book import Book
from solvent.rules.isolated import mixed_modes
from solvent.rules.loading import dumps_policy, loads_policy
from solvent.rules.policy import Policy

SCHEMA = "solvent.finding/1"
EVENT_TYPES = {
    cls.__name__: cls
    for cls in (
        ev.Deposit,
        ev.Withdraw,
        ev.SpotDeposit,
        ev.Trade,
        ev.MarkPrice,
        ev.Funding,
        ev.FinalSettlement,
        *ev.ASSET_EVENTS,
        *ev.MARGIN_EVENTS,
    )
}

_converter = cattrs.Converter()
_converter.register_unstructure_hook(enum.Enum, lambda e: e.value)
ev.omit_one_market_defaults(_converter)


class FindingError(ValueError):
    """A finding file that cannot be read: names the file and what was expected."""


@attrs.frozen
class Finding:
    """A story that breaks an invariant of a policy, at ``step_index``."""

    policy: Policy
    invariant: str
    story: Story
    step_index: int
    origin: str = "search"
    examples: int = 0


def policy_digest(policy: Policy) -> str:
    """A short stable fingerprint of the policy's content."""
    return text_digest(dumps_policy(policy))


def text_digest(toml: str) -> str:
    """The digest of a policy already written out by ``dumps_policy`` (so a caller that has the
    text does not write the policy a second time)."""
    return hashlib.sha256(toml.encode()).hexdigest()[:12]


def event_to_data(event: Any) -> dict[str, Any]:
    return {"type": type(event).__name__, **_converter.unstructure(event)}


def event_from_data(data: dict[str, Any]) -> Any:
    data = dict(data)
    kind = data.pop("type", None)
    if kind not in EVENT_TYPES:
        raise FindingError(f"'type' must be one of {', '.join(EVENT_TYPES)}: {kind!r}")
    return _converter.structure(data, EVENT_TYPES[kind])


def story_to_data(story: Story) -> dict[str, Any]:
    return {"book": _converter.unstructure(story.book), "events": [event_to_data(e) for e in story.events]}


def story_from_data(data: dict[str, Any]) -> Story:
    book = _converter.structure(data["book"], Book)
    return Story(book, tuple(event_from_data(e) for e in data["events"]))


def to_data(finding: Finding) -> dict[str, Any]:
    toml = dumps_policy(finding.policy)  # once: a policy's text may be megabytes (its description)
    return {
        "schema": SCHEMA,
        "policy": {"name": finding.policy.name, "digest": text_digest(toml), "toml": toml},
        "invariant": finding.invariant,
        "origin": finding.origin,
        "examples": finding.examples,
        "step_index": finding.step_index,
        "story": story_to_data(finding.story),
    }


def from_data(data: dict[str, Any], source: str = "<finding>") -> Finding:
    if data.get("schema") != SCHEMA:
        raise FindingError(f"{source}: 'schema' must be {SCHEMA!r}: {data.get('schema')!r}")
    try:
        policy = loads_policy(data["policy"]["toml"], source=f"{source}#policy")
        return Finding(
            policy,
            data["invariant"],
            story_from_data(data["story"]),
            int(data["step_index"]),
            data.get("origin", "search"),
            int(data.get("examples", 0)),
        )
    except KeyError as exc:
        raise FindingError(f"{source}: missing key {exc.args[0]!r}") from None
    except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
        if isinstance(exc, FindingError):
            raise
        raise FindingError(f"{source}: {exc}") from None


def save(finding: Finding, path: Path) -> Path:
    """Write the finding as JSON (creating folders); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_data(finding), indent=2, sort_keys=False) + "\n")
    return path


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FindingError(f"{path}: not a readable finding file: {exc}") from None
    if not isinstance(data, dict):
        raise FindingError(f"{path}: a finding must be a JSON object: {type(data).__name__}")
    return data


def load(path: Path) -> Finding:
    finding = from_data(_read(path), str(path))
    check_isolated(finding.policy, finding.story, path)
    return finding


def isolated_problems(policy: Policy, story: Story) -> list[tuple[tuple[str | int, ...], str]]:
    """What a story asks of isolated margin that the policy or the event does not allow, each with
    the JSON path of the field (docs/portfolio.md decision 3a): an isolated position in a market
    whose ``modes`` exclude isolated margin, a trader holding a position in the market its isolated
    position holds (cross and isolated at once: ``rules.isolated.mixed_modes``), a margin move that
    is not a positive amount."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    for i, a in enumerate(story.book.accounts):
        if a.owner and "isolated" not in policy.modes_in(a.isolated_market):
            allowed = " and ".join(policy.modes_in(a.isolated_market))
            out.append(
                (
                    ("story", "book", "accounts", i, "isolated_market"),
                    f"'isolated_market' must be a market that allows isolated margin (the policy allows "
                    f"{allowed} margin only in {a.isolated_market}): {a.isolated_market!r}",
                )
            )
    for i, j, k in mixed_modes(story.book):
        owner, position = story.book.accounts[i], story.book.accounts[j]
        held = owner.positions[k]
        field = "size_lots" if held.size_lots != 0 else "cost_quote"
        where: tuple[str | int, ...] = ("story", "book", "accounts", i)
        where += (field,) if k == 0 else ("more_positions", k - 1, field)
        out.append(
            (
                where,
                f"'{field}' must be 0: {owner.name}'s {story.book.markets[k].name} position is isolated "
                f"({position.name}), and a trader holds a market cross or isolated, never both (a venue's "
                f"margin mode is per symbol): {getattr(held, field)}",
            )
        )
    for k, event in enumerate(story.events):
        if isinstance(event, ev.MARGIN_EVENTS) and not event.amount_quote > 0:
            way = "into" if isinstance(event, ev.AddMargin) else "out of"
            other = "RemoveMargin" if isinstance(event, ev.AddMargin) else "AddMargin"
            out.append(
                (
                    ("story", "events", k, "amount_quote"),
                    f"'amount_quote' must be > 0 ({type(event).__name__} moves that much {way} the isolated "
                    f"position; the other way is {other}): {event.amount_quote}",
                )
            )
    return out


def check_isolated(policy: Policy, story: Story, path: Path) -> None:
    """A ``FindingError`` naming the file, the field's JSON path, its line and what was expected, for
    the first of :func:`isolated_problems`."""
    problems = isolated_problems(policy, story)
    if not problems:
        return
    where, message = problems[0]
    found = locate(Path(path).read_text(encoding="utf-8"), where)
    at = f" ({path}:{found[0]}:{found[1]})" if found else ""
    raise FindingError(f"{path}: {message} @ {json_path(where)}{at}")


def load_story(path: Path) -> Story:
    """Only the story of a finding file: its policy text (as long as the policy's description) is
    not parsed, for the database replays the story on the policy being checked."""
    data = _read(path)
    if data.get("schema") != SCHEMA:
        raise FindingError(f"{path}: 'schema' must be {SCHEMA!r}: {data.get('schema')!r}")
    try:
        return story_from_data(data["story"])
    except KeyError as exc:
        raise FindingError(f"{path}: missing key {exc.args[0]!r} @ $.story") from None
    except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
        if isinstance(exc, FindingError):
            raise
        raise FindingError(f"{path}: {exc} @ $.story") from None


def database_path(root: Path, policy: Policy, invariant: str) -> Path:
    """Where the counterexample database keeps a policy's finding for one invariant."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in policy.name)
    return Path(root) / safe / f"{invariant}.json"


def saved_stories(root: Path, policy: Policy, invariant: str) -> list[Story]:
    """Stories saved for this policy name and invariant (any earlier version of the policy)."""
    path = database_path(root, policy, invariant)
    if not path.exists():
        return []
    try:
        return [load_story(path)]
    except FindingError:
        return []

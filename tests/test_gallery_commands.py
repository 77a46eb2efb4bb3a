"""Every command the gallery prints is run by a test (issue 18, "Deterministic").

``solvent gallery docs/gallery --thresholds`` wrote the pages of docs/gallery/; each finding on a page
ends with the command that shows it again (``Reproduce: ...``): ``solvent check P --scenario S`` for
a scenario's story, ``solvent check P --invariant I`` for the derandomized search's, ``solvent prove P
--invariant I --accounts N --effort U --as-check`` (check's own question: its N, the units its
allotment gave it, check's order; with ``--isolated``, ``--assets``, ``--event-kinds`` or
``--grid-first`` where check asked so) for a z3 story. Here:

- every backticked ``solvent ...`` command of the pages (``printed_support.printed_commands``, as for
  the README and docs/*.md) parses as Solvent parses it and names a preset, invariants and scenarios
  that exist, and every finding's Reproduce line is one of them and names the page's own preset;
- every scenario command runs with its search and z3 off (``--no-search --prove-budget 0``: what it
  reproduces needs neither) and tells the page's story, event for event, with the page's verdicts;
- every command runs as printed, in a process of its own (the four cheapest in the default suite,
  the rest under ``deep``), and shows what the page says: a check the same story (origin,
  failing step, every event as the page tells it) failing the same claims with the page's verdicts,
  and the exit code its verdict table gives; a ``solvent prove`` exit 1, the claim refuted, accepted
  where the page says so, and a replayed story that is the page's, event for event (told from an
  empty book by the same routes as check's, ``solver.from_empty``), at the page's least move where
  the page states one (docs/solver-notes.md#the-gallerys-printed-commands-run-session-34:
  what runs where, and its cost; #reproduce-lines-ask-checks-own-question-session-35: why a z3
  story's line asks check's question).

The gallery's own line (``solvent gallery docs/gallery --thresholds``, on the index) is parsed and
not run: it rewrites every page (992 s of CPU at 4fe0359, docs/solver-notes.md).
"""

from __future__ import annotations

import os
import re
import resource
import shlex
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import attrs
import pytest

from tests.printed_support import ROOT, parse, printed_commands, split

pytestmark = pytest.mark.xdist_group("gallery-commands")

GALLERY = ROOT / "docs" / "gallery"
PAGES = sorted(GALLERY.glob("*.md"))

#: wide enough that the text report folds no line: a story's events compare whole
UNFOLDED = {"COLUMNS": "100000", "SOLVENT_PROGRESS": "off"}


@attrs.frozen
class PageFinding:
    """One finding as its gallery page tells it."""

    page: str
    number: int
    #: the heading's claims, each with " (accepted)" where the policy accepts its failure
    labels: tuple[str, ...]
    #: "scenario gap-crash", "found by search", "z3 counterexample, replayed on the engine"
    origin: str
    #: 1-based failing step, and every event up to it as the page tells it
    step: int
    events: tuple[str, ...]
    #: z3's least move as the page states it (after "smallest move for I: "), if it does
    move: str | None
    command: str

    @property
    def claims(self) -> tuple[str, ...]:
        return tuple(label.removesuffix(" (accepted)") for label in self.labels)


def _finding(page: str, text: str) -> PageFinding:
    head, _, body = text.partition("\n")
    number, labels = re.fullmatch(r"### Finding (\d+): (.*)", head).groups()
    origin, step, _ = re.search(r"^(.+), step (\d+) of (\d+)\. Rule involved: ", body, re.M).groups()
    events = re.findall(r"^\d+\. (.*)$", body.split("\n\n", 2)[2].split("\n\n", 1)[0], re.M)
    failing = re.fullmatch(r"\*\*(.*)\*\* ← fails here", events[-1])
    assert failing is not None and len(events) == int(step), (page, number, events)
    move = re.search(r"^\*\*Smallest move for [a-z0-9-]+: (.*)\.\*\*$", body, re.M)
    (command,) = re.findall(r"^Reproduce: `(solvent [^`]+)`", body, re.M)
    return PageFinding(
        page,
        int(number),
        tuple(label.replace("`", "") for label in labels.split(", ")),
        origin[:1].lower() + origin[1:],
        int(step),
        (*events[:-1], failing.group(1)),
        move.group(1) if move else None,
        command,
    )


@cache
def page_findings() -> tuple[PageFinding, ...]:
    """Every finding of every gallery page, in page order."""
    out = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for section in re.split(r"\n(?=### )", text)[1:]:
            if section.startswith("### Finding "):
                out.append(_finding(page.stem, section.split("\n## ", 1)[0]))
    return tuple(out)


@cache
def page_verdicts(page: str) -> dict[str, str]:
    """Each claim's verdict on the page's table: FAILS, fails (accepted), held, not exercised."""
    text = (GALLERY / f"{page}.md").read_text(encoding="utf-8").split("\n### ", 1)[0]  # the first table
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (?:\*\*)?([a-zA-Z() ]+?)(?:\*\*)? \|", text, re.M)
    return dict(rows)


def gallery_commands() -> list[str]:
    """Every distinct command the gallery pages print, in page order."""
    return list(dict.fromkeys(c for _, c in printed_commands(PAGES)))


def _findings_of(command: str) -> list[PageFinding]:
    return [f for f in page_findings() if f.command == command]


def _options(args: list[str], name: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == name]


# --- parsed: every command, the default suite ------------------------------------------------------


def test_the_gallery_prints_its_commands() -> None:
    """74 distinct commands at b9cf09b (session 34): the 73 of the pages' 77 findings (four print a
    command another finding prints too) and the index's regeneration line; every finding's
    Reproduce line is among them, on its own preset's page."""
    commands = gallery_commands()
    findings = page_findings()
    assert len(findings) > 60 and len(commands) > 60
    assert {f.command for f in findings} <= set(commands)
    kinds = {(split(c)[1][0], "--scenario" in c) for c in commands}
    assert kinds == {("check", True), ("check", False), ("prove", False), ("gallery", False)}
    for f in findings:
        assert split(f.command)[1][1] == f.page, f
    assert {f.origin.split()[0] for f in findings} == {"scenario", "found", "z3"}
    # a z3 story's line asks check's own question: its N, the units check gave it, check's order
    # (docs/solver-notes.md#reproduce-lines-ask-checks-own-question-session-35)
    z3 = [f for f in findings if f.origin.startswith("z3") and f.command.startswith("solvent prove ")]
    assert len(z3) > 20
    for f in z3:
        _, args = split(f.command)
        assert "--as-check" in args and len(_options(args, "--effort")) == 1, f.command


@pytest.mark.parametrize("command", gallery_commands())
def test_every_gallery_command_parses(command: str) -> None:
    """Click parses it as Solvent would (its options' callbacks check the names they take), and the
    preset, invariants and scenarios it names exist."""
    from solvent.properties import catalog, relational
    from solvent.properties.scenarios import SCENARIOS
    from solvent.rules.presets import preset_names

    parse(command)
    _, args = split(command)
    if args[0] == "gallery":
        return
    assert args[1] in preset_names(), command
    invariants = [i for given in _options(args, "--invariant") for i in given.split(",")]
    assert invariants or args[0] == "check", command
    assert all(i in catalog.CATALOG or i in relational.RELATIONAL for i in invariants), command
    assert all(s in SCENARIOS for s in _options(args, "--scenario")), command


# --- what a command prints, read back ------------------------------------------------------------


@attrs.frozen
class Told:
    """A finding as ``solvent check``'s text report tells it (one line, unfolded, then its events)."""

    labels: tuple[str, ...]
    origin: str
    step: int
    events: tuple[str, ...]


def _told(stdout: str) -> list[Told]:
    out = []
    lines = stdout.splitlines()
    for i, line in enumerate(lines):
        head = re.fullmatch(r"(\S.*) — (.+?), step (\d+): .*", line)
        if head is None or lines[i + 1] != "  events:":
            continue
        events = []
        for event in lines[i + 2 :]:
            told = re.fullmatch(r"    \d+\. (.*)", event)
            if told is None:
                break
            events.append(told.group(1))
        out.append(Told(tuple(head.group(1).split(", ")), head.group(2), int(head.group(3)), tuple(events)))
    return out


def _rows(stdout: str) -> dict[str, str]:
    """The verdict table's rows: claim -> verdict."""
    verdicts = r"FAILS|fails \(accepted\)|held|not exercised"
    return {m[0]: m[1] for m in re.findall(rf"^([a-z][a-z0-9-]*) +({verdicts})(?:  |$)", stdout, re.M)}


def _shows_the_pages_stories(command: str, stdout: str, exit_code: int) -> None:
    """A check: each finding that prints this command is told again, the same origin, failing step
    and events, failing every claim of the page's finding this check judges, each with the page's
    verdict; the exit code is its verdict table's (1 for any claim that FAILS unaccepted).

    A claim's verdict keeps the first scenario that breaks it, so the page (every scenario) tells
    this story under the claims no earlier scenario broke, and the command (this scenario only)
    under those and the claims an earlier one broke first (binance's whale: principal-protected on
    the page, and no-haircut, which gap-crash broke first, beside it here): each of those fails on
    the page too, with the same verdict."""
    _, args = split(command)
    judged = set(_options(args, "--invariant"))
    rows = _rows(stdout)
    assert exit_code == (1 if "FAILS" in rows.values() else 0), (command, exit_code, rows)
    told = _told(stdout)
    for f in _findings_of(command):
        same = [t for t in told if (t.origin, t.step, t.events) == (f.origin, f.step, f.events)]
        assert same, (command, f, told)
        labels = same[0].labels
        expected = [label for label, claim in zip(f.labels, f.claims, strict=True) if not judged or claim in judged]
        # (in the verdict table's order, which follows the --invariant options where they name claims)
        assert expected and set(expected) <= set(labels), (command, f.labels, labels)
        for label in labels:
            claim = label.removesuffix(" (accepted)")
            assert rows[claim] == page_verdicts(f.page)[claim], (command, claim, rows[claim])
            assert label == claim + (" (accepted)" if rows[claim] == "fails (accepted)" else ""), (command, label)


def _story_from(stdout: str):  # noqa: ANN202 (a Story)
    """The replayed story ``solvent prove`` prints (``replay: Story(...)``), read back."""
    import solvent.properties.story as story
    import solvent.rules.book as book
    import solvent.rules.events as events

    (line,) = [line for line in stdout.splitlines() if line.startswith("  replay: ")]
    names = {**vars(book), **vars(events), "Story": story.Story}
    return eval(line.removeprefix("  replay: "), {"__builtins__": {}}, names)  # noqa: S307 (our own repr)


def _proves_the_pages_stories(command: str, stdout: str, exit_code: int) -> None:
    """``solvent prove``: exit 1, the claim refuted (and accepted where the page says so), and the
    story it replays is each finding's that prints this command, event for event (from the empty
    book where the page's is), failing at its move, at the least move the finding states."""
    from solvent.properties.played import replay
    from solvent.reports.money import Money
    from solvent.reports.story import describe_event
    from solvent.verdicts.check import resolve

    _, args = split(command)
    policy, (invariant,) = args[1], _options(args, "--invariant")
    first = stdout.splitlines()[0]
    assert exit_code == 1 and first.startswith(f"{invariant} on {policy}: refuted ("), (command, stdout[:2000])
    accepted = "(the policy accepts this invariant's failure by design)" in stdout
    assert accepted == (page_verdicts(policy)[invariant] == "fails (accepted)"), (command, stdout[:2000])
    detail = re.search(r"^counterexample \(replayed on the concrete engine\): (.*)$", stdout, re.M).group(1)
    fails = re.match(rf"{re.escape(invariant)} fails after event (\d+)(?: \([^)]*\))?(?:; (.*))?$", detail)
    assert fails is not None, (command, detail)
    resolved = resolve(policy)
    steps = replay(resolved, _story_from(stdout))[: int(fails.group(1))]
    # every event as the page tells it: the history from an empty book that check told, then z3's
    # event (prove tells its story by the same routes, solver.from_empty)
    told = tuple(describe_event(s.event, s.before, resolved.contract, Money.of(resolved)) for s in steps)
    differs = []
    for f in _findings_of(command):
        assert f.origin == "z3 counterexample, replayed on the engine" and invariant in f.claims, (command, f)
        assert told == f.events, (command, f.number, told, f.events)
        if f.move is not None and fails.group(2) != f.move:
            differs.append((f.number, f.move))
    # after every finding's move is compared: the same move, and what is known of the least move
    assert not differs, f"{command}: prints {fails.group(2)!r}; the page's findings {differs}"


# --- run: the scenario commands cheaply (default suite), every command as printed (deep) ----------


def _scenario_commands() -> list[str]:
    return [c for c in gallery_commands() if "--scenario" in c]


@pytest.mark.parametrize("command", _scenario_commands())
def test_every_scenario_command_tells_the_pages_story(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scenario alone (``--no-search --prove-budget 0``), in this process: the page's story,
    event for event, failing the page's claims with its verdicts."""
    from tests.cli_support import solvent

    for name, value in UNFOLDED.items():
        monkeypatch.setenv(name, value)
    _, args = split(command)
    done = solvent(*args, "--no-search", "--prove-budget", "0")
    _shows_the_pages_stories(command, done.stdout, done.exit_code)


#: a Python that runs ``solvent ARGS`` (the console script's ``main``) and, on its way out, says on
#: standard error how many z3 units it spent (``effort.tallied``): a measurement, never asserted
_TALLIED = (
    "import sys\n"
    "from solvent.cli import main\n"
    "from solvent.solver import effort\n"
    "with effort.tallied() as t:\n"
    "    try:\n"
    "        main(sys.argv[1:], prog_name='solvent')\n"
    "    finally:\n"
    "        print(f'solvent-units: {t.units}', file=sys.stderr)\n"
)


#: the commands that took at most about 3 s of CPU each as printed (session 34's deep run at b9cf09b,
#: load 1.5-5.6: 2.09-2.78 s; as check's question since session 35, at d3d922d: backpack's 3.31 s,
#: broker-reg-t's 1.07, gmx-v2's check 2.61, hyperliquid's 2.38), run as printed in the default suite;
#: every other command took 3.2-149 s (2,168 s for all 73 at b9cf09b) and runs under ``deep``
CHEAPEST = (
    "solvent prove backpack --invariant spot-isolated --accounts 2 --effort 5,176,120 --as-check --assets 1 "
    "--event-kinds mark,asset-price",
    "solvent prove broker-reg-t --invariant loss-bounded-by-collateral --accounts 2 --effort 6,437,878 --as-check",
    "solvent prove hyperliquid --invariant no-haircut --accounts 2 --effort 8,470,846 --as-check --isolated 0",
    "solvent check gmx-v2 --invariant deposit-not-absorbed",
)


def _as_printed(*, cheapest: bool) -> list[str]:
    """The commands run as printed (all but the gallery's own), the cheapest or the others. Until
    session 35 five ``solvent prove`` lines told another story or another least move than their
    page (strict xfails): prove asked its own question, not check's; each line now asks check's
    (docs/solver-notes.md#reproduce-lines-ask-checks-own-question-session-35)."""
    commands = [c for c in gallery_commands() if not c.startswith("solvent gallery ")]
    assert set(CHEAPEST) <= set(commands), set(CHEAPEST) - set(commands)
    return [c for c in commands if (c in CHEAPEST) == cheapest]


@pytest.mark.parametrize("command", _as_printed(cheapest=True))
def test_the_cheapest_commands_show_the_pages_finding(
    command: str, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    _runs_as_printed(command, tmp_path, record_property)


@pytest.mark.deep
@pytest.mark.parametrize("command", _as_printed(cheapest=False))
def test_every_gallery_command_shows_the_pages_finding(
    command: str, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    _runs_as_printed(command, tmp_path, record_property)


def _runs_as_printed(command: str, tmp_path: Path, record_property: pytest.RecordProperty) -> None:
    """As printed, in a fresh folder (no saved findings to replay), in a process of its own; its
    seconds, CPU seconds and z3 units are recorded (``--junitxml``), not asserted."""
    _, args = split(command)
    cpu, wall, load = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter(), os.getloadavg()[0]
    done = subprocess.run(
        [sys.executable, "-c", _TALLIED, *args], cwd=tmp_path, capture_output=True, text=True, env=os.environ | UNFOLDED
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    units = re.search(r"^solvent-units: (\d+)$", done.stderr, re.M)
    record_property("wall_s", round(time.perf_counter() - wall, 2))
    record_property("cpu_s", round(after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime, 2))
    record_property("units", int(units.group(1)) if units else None)
    record_property("load", round(load, 2))
    assert units is not None, (shlex.join(args), done.stderr[-3000:])
    if args[0] == "prove":
        _proves_the_pages_stories(command, done.stdout, done.returncode)
    else:
        _shows_the_pages_stories(command, done.stdout, done.returncode)

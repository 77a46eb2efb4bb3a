"""A policy with a megabytes-long ``description`` is saved, digested and replayed in time linear in
its size (issue 11, item 7: a 50 MB description ran past two minutes, the policy text escaped one
character at a time).

No clock is read here (speed is measured in ``benchmarks/bench_large_policy.py``). Linearity is
checked by structure: the Python lines Solvent itself runs to save, digest and load a finding are
exactly as many for a 5 MB description as for a 5-character one, so every length-dependent step is
one call into C (``json.dumps``, ``str.replace``, ``sha256``) or the TOML reader.
"""

from __future__ import annotations

import gc
import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

import solvent
from solvent.properties import findings
from solvent.properties.scenarios import build
from solvent.rules import loading
from solvent.rules.loading import dumps_policy, loads_policy
from solvent.rules.presets import load_preset
from solvent.verdicts.check import check_policy

#: Every character class the escaping treats differently: plain ASCII, a quote, a backslash, the
#: short escapes, other control characters, DEL, non-ASCII and a character outside the BMP.
UNIT = 'plain "quoted" back\\slash\ttab\nnew\rcr\x08bs\x0cff\x00nul\x1fus\x7fdel é€ 𝄞 '
LARGE = 5_000_000  # characters


def described(text_length: int):
    """drift with a description of ``text_length`` characters (UNIT repeated)."""
    text = (UNIT * (text_length // len(UNIT) + 1))[:text_length]
    return attrs.evolve(load_preset("drift"), description=text)


HELD_TERMS = str(Path("solver", "held_terms.py"))


def solvent_lines(action: Callable[[], object]) -> Counter:
    """How many times each line of Solvent's own source runs during ``action()`` (other frames,
    the standard library's included, are not traced line by line)."""
    root = str(Path(solvent.__file__).resolve().parent.parent)
    counts: Counter = Counter()

    def local(frame, event, _arg):
        if event == "line":
            counts[(frame.f_code.co_filename, frame.f_lineno)] += 1
        return local

    def tracer(frame, _event, _arg):
        name = frame.f_code.co_filename
        # not solver.held_terms's release hook: z3's ``__del__`` calls it when the last reference to
        # a term an earlier test left (in a cache, a module global) drops inside the action, so how
        # many run depends on the tests before, not on the action (a CI run counted 9 against 17)
        return local if name.startswith(root) and not name.endswith(HELD_TERMS) else None

    # the cyclic collector off while tracing: it would otherwise run z3's finalizers for terms an
    # earlier test in this process left behind (solver.held_terms's release hook) at whatever
    # moment it fires, lines that belong to no action here (a CI run counted 18 such releases)
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    sys.settrace(tracer)
    try:
        action()
    finally:
        sys.settrace(None)
        if enabled:
            gc.enable()
    return counts


@pytest.fixture(scope="module")
def large():
    return described(LARGE)


@pytest.fixture(scope="module")
def story():
    return build(load_preset("drift"), "gap-crash")


def test_a_large_description_round_trips_through_a_saved_finding(tmp_path, large, story):
    path = findings.save(findings.Finding(large, "no-haircut", story, len(story.events) - 1), tmp_path / "f.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["policy"]["digest"] == findings.policy_digest(large)
    loaded = findings.load(path)
    assert loaded.policy == large
    assert len(loaded.policy.description) == LARGE
    assert loaded.story == story and loaded.step_index == len(story.events) - 1
    assert findings.load_story(path) == story


def test_escaping_is_one_call_into_c_whatever_the_length(large):
    """Solvent runs the same Python lines to write a 5-character and a 5 MB description."""
    small = described(5)
    assert solvent_lines(lambda: dumps_policy(small)) == solvent_lines(lambda: dumps_policy(large))
    assert solvent_lines(lambda: findings.policy_digest(small)) == solvent_lines(lambda: findings.policy_digest(large))


def test_saving_a_finding_runs_the_same_lines_for_any_description(tmp_path, large, story):
    small = described(5)
    at = len(story.events) - 1
    runs = {
        p: solvent_lines(
            lambda p=p: findings.save(
                findings.Finding(p, "no-haircut", story, at), tmp_path / f"{len(p.description)}.json"
            )
        )
        for p in (small, large)
    }
    assert runs[small] == runs[large]
    stories = {
        p: solvent_lines(lambda p=p: findings.load_story(tmp_path / f"{len(p.description)}.json"))
        for p in (small, large)
    }
    assert stories[small] == stories[large]


def test_loading_a_finding_runs_the_same_lines_for_any_description(tmp_path, story):
    """Reading the policy back is the TOML reader's work, not a loop of Solvent's own. (A plain
    description: under a tracer CPython turns the reader's ``result += chunk`` at each escape into
    a copy, which would make this test, not the loader, quadratic.)"""
    at = len(story.events) - 1
    plain = {n: attrs.evolve(load_preset("drift"), description="plain words " * n) for n in (1, 100_000)}
    for n, policy in plain.items():
        findings.save(findings.Finding(policy, "no-haircut", story, at), tmp_path / f"{n}.json")
    runs = {n: solvent_lines(lambda n=n: findings.load(tmp_path / f"{n}.json")) for n in plain}
    assert runs[1] == runs[100_000]
    assert findings.load(tmp_path / "100000.json").policy == plain[100_000]


def test_the_database_reads_only_the_story_not_the_policy_text(tmp_path, large, story, monkeypatch):
    """Replaying saved findings before a search parses no policy text (it is as long as the description)."""
    path = findings.database_path(tmp_path, large, "no-haircut")
    findings.save(findings.Finding(large, "no-haircut", story, len(story.events) - 1), path)
    parsed: list[str] = []
    monkeypatch.setattr(findings, "loads_policy", lambda *a, **k: parsed.append("policy") or loads_policy(*a, **k))
    assert findings.saved_stories(tmp_path, large, "no-haircut") == [story]
    assert parsed == []


def test_the_toml_string_is_exactly_the_old_per_character_escaping_but_for_the_hex_case():
    """One ``json.dumps``: the same escapes the per-character writer made (``\\uXXXX`` for other
    control characters, now in lower case, which TOML reads the same), and it reads back."""
    old = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}

    def per_character(text: str) -> str:
        return (
            '"'
            + "".join(
                old.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 0x20 else "\\u007F" if c == "\x7f" else c) for c in text
            )
            + '"'
        )

    every = "".join(chr(i) for i in range(0x300)) + UNIT
    assert loading._toml_string(every) == per_character(every)
    assert loads_policy(dumps_policy(attrs.evolve(load_preset("drift"), description=every))).description == every


def test_check_saves_and_replays_a_large_policy(tmp_path):
    """A 1 MB description through ``check_policy`` with a findings database, twice: the second run
    replays what the first saved, and reports the same verdicts."""
    policy = described(1_000_000)
    args = dict(invariants=["no-haircut"], scenarios=["gap-crash"], findings_dir=tmp_path)
    from solvent.properties.search import SearchBudget

    budget = SearchBudget(max_examples=100)  # enough for the scan to meet drift's no-haircut story
    first = check_policy(policy, search_budget=budget, **args)
    again = check_policy(policy, search_budget=budget, **args)
    assert [v.status for v in first.verdicts] == [v.status for v in again.verdicts]
    saved = findings.load(findings.database_path(tmp_path, policy, "no-haircut"))
    assert saved.policy == policy and again.verdicts[0].violation.origin in ("saved", "scenario")

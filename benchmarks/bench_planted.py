"""Planted-bug policies: how fast the search finds each one, and how small the story is.

Run: ``python benchmarks/bench_planted.py [--deep] [--control] [--stem STEM ...]``. Prints the
Markdown table of ``tests/planted/README.md``: per planted policy, the invariant it must break,
the traders and events (besides the order book's seed deposit) of the 1-minimal story, the time
to the first failing example (``stats.seconds_to_first``), the total time to the 1-minimal story
(``stats.seconds_total``: generation, hypothesis's shrinking and ``minimize``), the CPU time of
the whole search, the examples run (shrink attempts included) and examples per second. Each
policy is searched with the budget of ``tests/test_planted.py`` (its ``# budget:`` line, else
2,000 examples); ``--deep`` adds the files marked ``# deep:``. ``--control`` also prints, per
control policy and claimed invariant, the examples run and the steps that exercised the claim.

``--deep-stories`` prints a second table instead: per planted policy, the search at the file's
budget (the first failing example, every example run with shrinking, the 1-minimal story's events), z3's bounded model checking from a funded
book (``solvent.solver.deep_stories.bounded_story`` at the default ``DeepBudget``: the K of the
story, its events, the units spent, seconds) and the search seeded with z3's one-step
counterexample (``seeded_search`` at ``SEEDED_EXAMPLES``: the same counts, events, seconds), then the
deepest story each found. Events never count the order book's seed deposit.

Wall-clock figures depend on the machine's load; the CPU column does much less. Compare figures
from one run.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from tabulate import tabulate

from solvent.properties import catalog
from solvent.properties.search import SearchBudget, search
from solvent.rules.events import Deposit
from solvent.rules.loading import load_policy
from solvent.solver.deep_stories import DeepBudget, bounded_story, one_step_seed, seeded_search

TESTS = Path(__file__).resolve().parent.parent / "tests"
PLANTED_DIR = TESTS / "planted"
CONTROL_DIR = TESTS / "planted_control"
PLANTED_EXAMPLES = 2_000  # as tests/test_planted.py
CONTROL_EXAMPLES = 100  # as tests/test_planted.py
SEEDED_EXAMPLES = 2_000  # the seeded search's budget, as the plain search's default
HEADER = re.compile(r"^#\s*(expect|budget|deep|xfail|holds):\s*(.+?)\s*$", re.MULTILINE)


def header(path: Path) -> dict[str, list[str]]:
    """The file's ``# <key>: <value>`` lines that this script reads."""
    found: dict[str, list[str]] = {}
    for key, value in HEADER.findall(path.read_text(encoding="utf-8")):
        found.setdefault(key, []).append(value)
    return found


def non_seed_events(story) -> int:
    return sum(1 for e in story.events if not (isinstance(e, Deposit) and e.account == "liquidity"))


def planted_row(path: Path) -> list:
    """One row: the search's outcome, story size and timings for one planted policy."""
    head = header(path)
    invariant = head["expect"][0]
    budget = SearchBudget(max_examples=int(head.get("budget", [PLANTED_EXAMPLES])[0]))
    cpu = time.process_time()
    result = search(load_policy(path), invariant, budget)
    cpu = time.process_time() - cpu
    stats, story = result.stats, result.story
    first = f"{stats.seconds_to_first:.2f}" if stats.seconds_to_first is not None else "-"
    rate = stats.examples / stats.seconds_total if stats.seconds_total else 0.0
    return [
        path.stem,
        invariant,
        result.outcome.value,
        len(story.book.traders) if story else "-",
        non_seed_events(story) if story else "-",
        first,
        f"{stats.seconds_total:.2f}",
        f"{cpu:.2f}",
        stats.examples,
        f"{rate:.0f}",
    ]


def first_found(result) -> str:
    """ "at N (M)": the first failing example, and every example run (shrinking and minimizing too);
    "none in M" when none failed."""
    stats = result.stats
    if stats.examples_to_first is None:
        return f"none in {stats.examples:,}"
    return f"at {stats.examples_to_first:,} ({stats.examples:,})"


def deep_row(path: Path) -> list:
    """One row of ``--deep-stories``: the plain search, z3's bounded model checking and the seeded
    search on one planted policy, each with its budget's count and its story's events."""
    head = header(path)
    invariant = head["expect"][0]
    policy = load_policy(path)
    plain = search(policy, invariant, SearchBudget(max_examples=int(head.get("budget", [PLANTED_EXAMPLES])[0])))
    plain_events = non_seed_events(plain.story) if plain.story else "-"
    started = time.perf_counter()
    bounded = bounded_story(policy, invariant)
    bmc_seconds = time.perf_counter() - started
    started = time.perf_counter()
    seed, seed_units = one_step_seed(policy, catalog.get(invariant), DeepBudget())
    seeded = seeded_search(policy, invariant, seed, SearchBudget(max_examples=SEEDED_EXAMPLES)) if seed else None
    seeded_seconds = time.perf_counter() - started
    seeded_events = non_seed_events(seeded.story) if seeded and seeded.story else "-"
    depths = [d for d in (plain_events, bounded.events or "-", seeded_events) if d != "-"]
    return [
        path.stem,
        invariant,
        first_found(plain),
        plain_events,
        bounded.origin or "none",
        bounded.events or "-",
        f"{bounded.units:,}",
        f"{bmc_seconds:.1f}",
        first_found(seeded) if seeded else "no seed",
        seeded_events,
        f"{seed_units:,}",
        f"{seeded_seconds:.1f}",
        max(depths) if depths else "-",
    ]


def control_rows(path: Path) -> list[list]:
    """Rows for one control policy: each claimed invariant's search, which must find nothing."""
    policy = load_policy(path)
    rows = []
    for line in header(path).get("holds", []):
        for invariant in (i.strip() for i in line.split(",")):
            result = search(policy, invariant, SearchBudget(max_examples=CONTROL_EXAMPLES))
            stats = result.stats
            rows.append(
                [
                    path.stem,
                    invariant,
                    result.outcome.value,
                    stats.examples,
                    stats.exercised_steps,
                    f"{stats.seconds_total:.2f}",
                ]
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deep", action="store_true", help="also the planted files marked '# deep:'")
    parser.add_argument("--control", action="store_true", help="also the control policies")
    parser.add_argument("--stem", action="append", default=[], help="only this planted policy (repeatable)")
    parser.add_argument(
        "--deep-stories", action="store_true", help="z3's bounded model checking and the seeded search instead"
    )
    args = parser.parse_args()
    paths = [
        p
        for p in sorted(PLANTED_DIR.glob("*.toml"))
        if (not args.stem or p.stem in args.stem) and (args.deep or args.stem or "deep" not in header(p))
    ]
    start = time.perf_counter()
    if args.deep_stories:
        headers = [
            "policy",
            "invariant",
            "search: first failing example (all)",
            "events",
            "z3 from a funded book",
            "events",
            "units",
            "s",
            "seeded search: first (all)",
            "events",
            "seed's units",
            "s",
            "deepest",
        ]
        print(tabulate([deep_row(p) for p in paths], headers=headers, tablefmt="github"))
        print(f"\n{len(paths)} planted policies, {time.perf_counter() - start:.1f} s in all")
        return
    rows = [planted_row(p) for p in paths]
    headers = [
        "policy",
        "invariant",
        "outcome",
        "traders",
        "events",
        "first (s)",
        "minimal (s)",
        "cpu (s)",
        "examples",
        "examples/s",
    ]
    print(tabulate(rows, headers=headers, tablefmt="github"))
    print(f"\n{len(rows)} planted policies, {time.perf_counter() - start:.1f} s in all")
    if args.control:
        start = time.perf_counter()
        rows = [row for p in sorted(CONTROL_DIR.glob("*.toml")) for row in control_rows(p)]
        print()
        print(
            tabulate(
                rows,
                headers=["control", "invariant", "outcome", "examples", "exercised steps", "seconds"],
                tablefmt="github",
            )
        )
        print(
            f"\n{len(rows)} control searches, {CONTROL_EXAMPLES} examples each, {time.perf_counter() - start:.1f} s in all"
        )


if __name__ == "__main__":
    main()

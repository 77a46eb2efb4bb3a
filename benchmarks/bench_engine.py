"""Engine throughput: concrete events per second on a small book, and scenario-check time.

Run: ``python benchmarks/bench_engine.py``. Figures go in the README's Benchmarks section. The
machine is shared and noisy: compare figures from one run, and take the best of several repeats.
"""

from __future__ import annotations

import random
import statistics
import time

from solvent.rules.book import new_book
from solvent.rules.engine import RejectedEvent, step
from solvent.rules.events import Deposit, Funding, MarkPrice, Trade, Withdraw
from solvent.rules.presets import load_preset, preset_names
from solvent.verdicts.check import check_policy


def random_events(rng: random.Random, n: int, traders: tuple[str, ...]) -> list:
    """A seeded stream of events of every kind, with mark moves up to ±15%."""
    out = []
    mark = 10_000
    for _ in range(n):
        kind = rng.random()
        a, b = rng.sample(traders, 2)
        if kind < 0.15:
            out.append(Deposit(a, rng.randint(1_000, 200_000)))
        elif kind < 0.2:
            out.append(Withdraw(a, rng.randint(1, 20_000)))
        elif kind < 0.55:
            out.append(Trade(a, b, rng.randint(1, 30), mark + rng.randint(-100, 100)))
        elif kind < 0.95:
            mark = max(100, mark + mark * rng.randint(-150, 150) // 1_000)
            out.append(MarkPrice(mark))
        else:
            out.append(Funding(rng.randint(-500, 500)))
    return out


def events_per_second(policy, n: int = 5_000, seed: int = 0) -> tuple[float, int]:
    """Apply ``n`` seeded events to a 3-trader book; rejected events count (they are checked too)."""
    rng = random.Random(seed)
    traders = ("alice", "bob", "carol")
    book = new_book(mark_quote=10_000, traders=traders)
    book = step(policy, book, Deposit("liquidity", 10**9)).after
    events = random_events(rng, n, traders)
    accepted = 0
    start = time.perf_counter()
    for event in events:
        try:
            book = step(policy, book, event).after
            accepted += 1
        except RejectedEvent:
            pass
    return n / (time.perf_counter() - start), accepted


def main() -> None:
    rows = []
    for name in preset_names():
        policy = load_preset(name)
        rates = [events_per_second(policy, seed=s)[0] for s in range(3)]
        _, accepted = events_per_second(policy, seed=0)
        t0 = time.perf_counter()
        check_policy(policy)
        check_ms = (time.perf_counter() - t0) * 1_000
        rows.append((name, f"{max(rates):,.0f}", f"{statistics.median(rates):,.0f}", accepted, f"{check_ms:.0f}"))
    header = ("preset", "events/s (best of 3)", "events/s (median)", "accepted of 5,000", "check, ms")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()

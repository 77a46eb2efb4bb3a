"""Engine throughput: one mark move on books of 3 to 3,000 traders, and a mixed event stream.

Run: ``python benchmarks/bench_engine.py scale [--sizes 3,30,300,3000] [--presets binance,drift]``
for the cost of one mark move on a book of N traders, with nobody liquidated (a 0.1% rise) and
with liquidations (falls of 1.25 and 3.75 times the policy's first initial rate, 1% and 3% on
Binance, that liquidate the most leveraged longs and bankrupt some, so the insurance fund and the
next layers run); ``python benchmarks/bench_engine.py mix`` for events per
second of a seeded stream of every event kind on a 3-trader book, and scenario-check time, per
preset. Figures go in docs/benchmarks.md (the README's Benchmarks section has the headline). The machine is shared and noisy: compare
ratios from one run, take the best of several repeats, and read them beside the load average
printed first and last.

What the scale figures count, per mark move: *events/s* is mark moves per second; *account
updates/s* is traders settled per second (traders × events/s; every trader's position is paid
its PnL on every move); *transfers* is the number of ledger entries the move made.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from solvent.rules.book import Account, Book, Market, Role, new_book
from solvent.rules.engine import RejectedEvent, step
from solvent.rules.events import Deposit, Funding, MarkPrice, Trade, Withdraw
from solvent.rules.margin import initial_margin
from solvent.rules.outcomes import Bankrupt, Liquidated
from solvent.rules.policy import Policy
from solvent.rules.presets import load_preset, preset_names
from solvent.rules.wellformed import reasons
from solvent.verdicts.check import check_policy

MARK = 1_000_000  # quote quanta per lot (10,000 USDT a lot at 0.01 USDT)

#: a rise that liquidates nobody, then falls of 1.25 and 3.75 times the first tier's initial rate
#: (1% and 3% on Binance's 125x): the first liquidates about a tenth of the traders (a few
#: bankrupt), the second bankrupts about a third (each bankruptcy runs the waterfall, and an ADL
#: layer ranks every trader for each: O(N log N) per bankruptcy)
MOVES_PPM = (
    ("+0.1%, none liquidated", 1_000, None),
    ("-1.25 IMR", -1_250_000, "imr"),
    ("-3.75 IMR", -3_750_000, "imr"),
)


def moves(policy: Policy) -> list[tuple[str, int]]:
    """The benchmark's mark moves for ``policy``: (label, new mark)."""
    imr = policy.margin.tiers[0].initial_ppm
    out = []
    for label, ppm, scale in MOVES_PPM:
        change = ppm * imr // 1_000_000 if scale else ppm
        percent = f"{'-' if change < 0 else '+'}{abs(change) // 10_000}.{abs(change) % 10_000 // 100:02d}%"
        out.append((f"{label} ({percent})" if scale else label, MARK + MARK * change // 1_000_000))
    return out


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


def scaled_book(policy: Policy, traders: int, seed: int = 0) -> Book:
    """A well-formed book of ``traders`` traders in long/short pairs opened at the mark, each with
    1 to 20 lots and collateral of 1 to 4 times its initial margin (the pairs' long is the more
    leveraged half), an insurance fund of 1% of the traders' collateral and a deep order book."""
    rng = random.Random(seed)
    accounts = []
    for i in range(traders):
        if i % 2 == 1:
            size = -accounts[-1].size_lots
        else:
            size = 0 if i == traders - 1 else rng.randint(1, 20)  # an odd count: the last trader is flat
        im = initial_margin(policy.margin, policy.rounding, size, MARK)
        cash = max(im * rng.randint(100, 400) // 100, 1_000)
        accounts.append(Account(f"t{i}", cash_quote=cash, size_lots=size, cost_quote=size * MARK, principal_quote=cash))
    collateral = sum(a.cash_quote for a in accounts)
    pools = {Role.INSURANCE_FUND: collateral // 100, Role.LIQUIDITY: 10**15}
    for role in Role:
        if role is not Role.TRADER:
            cash = pools.get(role, 0)
            accounts.append(Account(role.value, role=role, cash_quote=cash, principal_quote=cash))
    book = Book(Market("PERP", MARK), tuple(accounts), net_deposits_quote=sum(a.cash_quote for a in accounts))
    problems = reasons(policy, book)
    if problems:
        raise AssertionError(f"the benchmark book is not well formed: {problems[:3]}")
    return book


def time_move(policy: Policy, book: Book, mark: int, repeats: int) -> tuple[float, object]:
    """Best time of ``repeats`` applications of one mark move to ``book``, and the step."""
    best = float("inf")
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = step(policy, book, MarkPrice(mark))
        best = min(best, time.perf_counter() - start)
    return best, result


def scale(sizes: list[int], presets: list[str], repeats: int) -> None:
    print(f"load average before: {os.getloadavg()}")
    header = ("preset", "traders", "move", "ms/move", "events/s", "account updates/s", "transfers", "liquidated")
    print(" | ".join(header))
    for name in presets:
        policy = load_preset(name)
        for n in sizes:
            book = scaled_book(policy, n)
            for label, mark in moves(policy):
                seconds, s = time_move(policy, book, mark, repeats if n <= 300 else 1)
                liquidated = sum(1 for o in s.outcomes if isinstance(o, Liquidated))
                bankrupt = sum(1 for o in s.outcomes if isinstance(o, Bankrupt))
                row = (
                    name,
                    f"{n:,}",
                    label,
                    f"{seconds * 1_000:,.2f}",
                    f"{1 / seconds:,.1f}",
                    f"{n / seconds:,.0f}",
                    f"{len(s.transfers):,}",
                    f"{liquidated:,} ({bankrupt:,} bankrupt)",
                )
                print(" | ".join(row), flush=True)
    print(f"load average after: {os.getloadavg()}")


def mix() -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("scale", "mix"), nargs="?", default="scale")
    parser.add_argument("--sizes", default="3,30,300,3000", help="trader counts, comma-separated")
    parser.add_argument("--presets", default="binance,drift", help="presets, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="repeats per figure (books up to 300 traders)")
    args = parser.parse_args()
    if args.what == "mix":
        mix()
    else:
        scale([int(n) for n in args.sizes.split(",")], args.presets.split(","), args.repeats)


if __name__ == "__main__":
    main()

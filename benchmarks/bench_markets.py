"""Books of several markets (issue 13): engine events per second and the prover's all-N lemmas.

Run: ``python benchmarks/bench_markets.py [--traders 10] [--repeats 5] [--effort 60000000] [--only engine|prover]``.

*Engine*: a seeded stream of trades, mark moves and funding spread over the book's markets, on a
book of ``--traders`` traders with 1, 2 and 3 markets (Binance's preset), each trader holding a
position in every market; events per second, best of ``--repeats``, and the ratio to one market
(the machine is shared and noisy: read ratios from one run, beside the load average printed).

*Prover*: the all-N lemmas for ``conservation`` and ``open-interest-balance`` on a book of M = 1, 2,
3 markets (``solver.compositional.attempt``: the frame lemma F, the per-market position lemma P,
the clearing lemmas), their verdict, units (deterministic) and seconds; then ``solvent prove``'s
whole question for conservation at N = 2 (the lemmas and the direct check).

*Collateral assets* (docs/portfolio.md decision 2): the same stream on a book of 3 markets and 3
collateral assets (``examples/binance-multi-assets.toml``: USDC, BTC, ETH), each trader holding
some of each, a fifth of the events oracle moves of an asset; and the all-N conservation lemmas
with A = 1, 2, 3 assets and asset events.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

from solvent.rules.book import Asset, Book, Market, new_book
from solvent.rules.engine import RejectedEvent, run, step
from solvent.rules.events import AssetDeposit, AssetPrice, Deposit, Funding, MarkPrice, Trade
from solvent.rules.loading import load_policy
from solvent.rules.presets import load_preset

MULTI_ASSETS = Path(__file__).resolve().parents[1] / "examples" / "binance-multi-assets.toml"
ASSET_PRICES = (100, 100, 40)  # USDC, BTC, ETH: quote quanta per asset quantum (the example's quanta)

MARKS = (3_000_000, 200_000, 15_000)  # quote quanta per lot: three markets at different scales


def opened_book(policy, traders: int, markets: int, assets: int = 0) -> Book:
    """Every trader deposits (cash, and some of each collateral asset) and opens a position in
    every market against the next trader."""
    names = tuple(f"t{i}" for i in range(traders))
    more = tuple(Market(f"M{i + 2}", MARKS[i + 1]) for i in range(markets - 1))
    held = tuple(Asset(c.name, p) for c, p in zip(policy.collateral[:assets], ASSET_PRICES, strict=False))
    book = new_book(market="M1", mark_quote=MARKS[0], traders=names, more_markets=more, assets=held)
    events: list = [Deposit(n, 10**12) for n in names]
    events += [AssetDeposit(n, a.name, 10**6) for n in names for a in held]
    for m in range(markets):
        market = "" if m == 0 else f"M{m + 1}"
        for i in range(0, traders - 1, 2):
            events.append(Trade(names[i], names[i + 1], 10 + i, MARKS[m], market=market))
    return run(policy, book, events)[-1].after


def stream(rng: random.Random, book: Book, count: int) -> list:
    names = [a.name for a in book.traders]
    out = []
    for _ in range(count):
        if book.assets and rng.random() < 0.2:
            k = rng.randrange(len(book.assets))
            price = ASSET_PRICES[k]
            out.append(AssetPrice(book.assets[k].name, price + rng.randint(-price // 50, price // 50)))
            continue
        m = rng.randrange(len(book.markets))
        market = "" if m == 0 else book.markets[m].name
        mark = MARKS[m]
        kind = rng.random()
        if kind < 0.5:
            out.append(MarkPrice(mark + rng.randint(-mark // 50, mark // 50), market=market))
        elif kind < 0.8:
            a, b = rng.sample(names, 2)
            out.append(Trade(a, b, rng.randint(1, 5), mark, market=market))
        else:
            out.append(Funding(rng.randint(-500, 500), market=market))
    return out


def engine(traders: int, repeats: int) -> None:
    base = None
    print("| markets | assets | traders | events | best events/s | vs one market |")
    print("|---|---|---|---|---|---|")
    for markets, assets in ((1, 0), (2, 0), (3, 0), (3, 3)):
        policy = load_policy(MULTI_ASSETS) if assets else load_preset("binance")
        book = opened_book(policy, traders, markets, assets)
        events = stream(random.Random(7), book, 300)
        best = 0.0
        for _ in range(repeats):
            current, started, done = book, time.perf_counter(), 0
            for event in events:
                try:
                    current = step(policy, current, event).after
                    done += 1
                except RejectedEvent:
                    continue
            best = max(best, done / (time.perf_counter() - started))
        base = base or best
        row = f"| {markets} | {assets} | {traders} | {len(events)} | {best:,.0f} | {best / base:.2f} |"
        print(row, flush=True)


def prover(effort_units: int) -> None:
    import attrs

    import solvent.solver  # noqa: F401  (registers the z3 backend)
    from solvent.properties import catalog
    from solvent.solver import effort
    from solvent.solver.bounds import Bounds
    from solvent.solver.compositional import Extension, attempt
    from solvent.solver.prove import prove

    print("| preset | claim | M | lemmas | units | seconds |")
    print("|---|---|---|---|---|---|")
    for preset in ("broker-reg-t", "binance"):
        policy = load_preset(preset)
        for claim in ("conservation", "open-interest-balance"):
            for markets in (1, 2, 3):
                bounds = Bounds(accounts=2, markets=markets, effort=effort_units)
                started = time.perf_counter()
                with effort.question():
                    found = attempt(policy, catalog.get(claim), bounds)
                held = "hold" if isinstance(found, Extension) else f"fail: {getattr(found, 'failed', '')[:50]}"
                units = sum(q.units for q in found.queries)
                seconds = time.perf_counter() - started
                print(f"| {preset} | {claim} | {markets} | {held} | {units:,} | {seconds:.1f} |", flush=True)
    print()
    print("| policy | claim | A | lemmas | units | seconds |")
    print("|---|---|---|---|---|---|")
    multi = load_policy(MULTI_ASSETS)
    for assets in (1, 2, 3):
        kinds = ("asset-price", "asset-deposit", "asset-withdraw")
        bounds = Bounds(accounts=2, assets=assets, event_kinds=kinds, effort=effort_units)
        bounds = attrs.evolve(bounds, asset_names=tuple(c.name for c in multi.collateral))
        started = time.perf_counter()
        with effort.question():
            found = attempt(multi, catalog.get("conservation"), bounds)
        held = "hold" if isinstance(found, Extension) else f"fail: {getattr(found, 'failed', '')[:50]}"
        units = sum(q.units for q in found.queries)
        seconds = time.perf_counter() - started
        print(f"| binance-multi-assets | conservation | {assets} | {held} | {units:,} | {seconds:.1f} |", flush=True)
    print()
    print("| preset | M | solvent prove conservation, N = 2 | seconds |")
    print("|---|---|---|---|")
    for markets in (1, 2, 3):
        started = time.perf_counter()
        with effort.question():
            result = prove("broker-reg-t", "conservation", Bounds(accounts=2, markets=markets, effort=effort_units))
        scope = "all N" if result.scope.accounts is None else f"N ≤ {result.scope.accounts}"
        print(
            f"| broker-reg-t | {markets} | {result.verdict.value} ({scope}) | {time.perf_counter() - started:.1f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traders", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--effort", type=int, default=60_000_000, help="units per question (solver.effort)")
    parser.add_argument("--only", choices=("engine", "prover"), help="run one of the two tables")
    args = parser.parse_args()
    print(f"load average at the start {os.getloadavg()}")
    if args.only != "prover":
        engine(args.traders, args.repeats)
        print()
    if args.only != "engine":
        prover(args.effort)
    print(f"load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()

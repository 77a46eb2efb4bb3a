"""Where no-negative-equity, loss-bounded-by-collateral and claims-backed fail on ``solvent check``'s
asset book: a seeded search over the concrete engine, not z3 (session 32, helper assetneg).

Each sample is a book of check's all-cross question on a lending preset (two traders, the policy's
first collateral asset, the order book on the other side of their lots, the fund at 0, 1 or more),
kept only if it lies inside check's assumptions (``solver.assumptions.book_assumptions`` at check's
bounds) but for the two that deposits cover borrows, which are read separately; then one mark move
and one oracle move of the asset, each judged on the three claims. A failing step is counted by
whether its start meets the settlement assumption (``settlement_assumptions``), whether the asset's
own deposits cover its borrows there (``lent_assumptions``, check's since session 32's helper
assetdep; before it, the asset's net deposits at least 0, the same sum), and by what the trader
left below zero still owes: settlement cash, or a borrow of the lent asset. ``--without-flat-cut``: the engine as
before session 32, a flat borrower's loan not followed by the settlement cut (``engine._exchange_loan``).
``--traders 3`` (session 33, helper assetarg): carol drawn as bob is, after the others (the two-trader
draws are the same at a seed), and check's assumptions at N = 3; ``--dust-kept``: the lent asset's cut's
rounding dust left with the borrower, not sent to the fund (``solver.asset_cut``: an option session 33
measured before the lead decided that the asset's own fund spends it, ``lending._fund_buys``); ``--boundary``: the order book's quanta of the asset drawn so that the
holders' balances sum to exactly 0 (the lent assumption's boundary, where the dust matters).
Verdicts never depend on it; it finds stories, which the tests then pin
(``tests/solver/test_settlement_borrower_story.py``).

    python benchmarks/search_asset_book_failures.py --preset drift --seed 1 --books 20000
"""

from __future__ import annotations

import argparse
import collections
import random

import attrs

from solvent.properties.catalog import StepView, get
from solvent.rules import engine, lending
from solvent.rules.assets import account_value
from solvent.rules.book import Asset, Book, Role, new_book
from solvent.rules.events import AssetPrice, MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.presets import load_preset
from solvent.solver.assumptions import SETTLEMENT_COVERED, book_assumptions, lent_covered
from solvent.solver.bounds import Bounds, for_policy

CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed")


def _book(policy, alice, bob, liquidity, fund, carol=None) -> Book:  # type: ignore[no-untyped-def]
    """alice and bob (and ``carol`` where given) each (cash, asset quanta, lots at the mark 100), the
    order book (cash, quanta) on the other side of their lots, the fund holding ``fund``."""
    traders = {"alice": alice, "bob": bob, **({"carol": carol} if carol is not None else {})}
    lots = sum(t[2] for t in traders.values())
    held = {**traders, "liquidity": (*liquidity, -lots)}
    quanta = sum(h[1] for h in held.values())
    asset = Asset(policy.collateral[0].name, 100, quanta)
    book = new_book(mark_quote=100, traders=tuple(traders), assets=(asset,))
    accounts = []
    for a in book.accounts:
        if a.name in held:
            cash, q, size = held[a.name]
            a = attrs.evolve(a, cash_quote=cash, asset_balances=(q,), size_lots=size, cost_quote=size * 100)
        elif a.role is Role.INSURANCE_FUND:
            a = attrs.evolve(a, cash_quote=fund)
        accounts.append(a)
    net = sum(a.cash_quote for a in accounts)
    return attrs.evolve(
        book,
        accounts=tuple(accounts),
        market=attrs.evolve(book.market, previous_mark_quote=100),
        net_deposits_quote=net,
    )


def _cut_keeping_dust(ctx, shares, loss, name, balance):  # type: ignore[no-untyped-def]
    """``lending._cut`` without its last transfer: the rounded-up shares' excess stays with the borrower."""
    for depositor, share in shares:
        ctx = ctx.transfer(balance(depositor), balance(name), share, Reason.DEPOSIT_INDEX_LOSS)
    return ctx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="drift")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--books", type=int, default=2000, help="books drawn (kept only inside the assumptions)")
    parser.add_argument("--without-flat-cut", action="store_true")
    parser.add_argument("--traders", type=int, default=2, choices=(2, 3), help="3: carol drawn as bob is")
    parser.add_argument(
        "--dust-kept", action="store_true", help="the lent asset's cut's rounding dust left with the borrower"
    )
    parser.add_argument(
        "--boundary", action="store_true", help="the order book's quanta drawn so the asset's holders sum to 0"
    )
    args = parser.parse_args()
    if args.without_flat_cut:
        engine.cover_settlement_borrow = lambda policy, ctx, name: ctx  # type: ignore[assignment]
    if args.dust_kept:  # an experiment (session 33, solver.asset_cut): no PRO_RATA_DUST to the fund
        lending._cut = _cut_keeping_dust  # type: ignore[assignment]
    policy = load_preset(args.preset)
    asset = policy.collateral[0].name
    bounds = for_policy(
        Bounds(accounts=args.traders, events=1, assets=1, asset_names=(asset,), event_kinds=("mark", "asset-price")),
        policy,
    )
    rng = random.Random(args.seed)
    counts: collections.Counter[tuple[str, str, str, str]] = collections.Counter()
    first: dict[tuple[str, str, str, str], str] = {}
    inside = 0
    for _ in range(args.books):
        size = rng.choice([10, 50, 100, 200])
        a_q = rng.randint(0, size)
        b_q = -rng.randint(0, a_q) if rng.random() < 0.8 else rng.randint(0, size)
        l_q = rng.choice([0, 0, rng.randint(-size, size)])
        a_lots, b_lots = rng.choice([0, 0, rng.randint(-100, 100)]), rng.choice([0, rng.randint(-100, 100)])
        alice = (rng.randint(-10_000, 10_000), a_q, a_lots)
        bob = (rng.randint(-10_000, 20_000), b_q, b_lots)
        liquidity = (rng.choice([0, rng.randint(0, 20_000)]), l_q)
        fund = rng.choice([0, 1, rng.randint(0, 200)])
        carol = None
        if args.traders == 3:  # drawn after the others: the two-trader draws are the same at a seed
            c_q = -rng.randint(0, a_q) if rng.random() < 0.8 else rng.randint(0, size)
            carol = (rng.randint(-10_000, 20_000), c_q, rng.choice([0, rng.randint(-100, 100)]))
        if args.boundary:  # the order book holds what makes the asset's holders sum to exactly 0
            liquidity = (liquidity[0], -(a_q + b_q + (carol[1] if carol is not None else 0)))
        book = _book(policy, alice, bob, liquidity, fund, carol)
        outside = [a.name for a in book_assumptions(policy, book, bounds) if a.holds is not True]
        if [n for n in outside if n not in (SETTLEMENT_COVERED, lent_covered(policy, asset))]:
            continue
        inside += 1
        covered = "not covered" if SETTLEMENT_COVERED in outside else "covered"
        lent = "no" if lent_covered(policy, asset) in outside else "yes"  # the asset's own deposits cover its borrows
        for event in (
            MarkPrice(rng.choice([1, 10, 50, 90, 150, 300])),
            AssetPrice(asset, rng.choice([1, 10, 50, 150, 1000])),
        ):
            try:
                s = engine.step(policy, book, event)
            except ValueError:  # an event the engine refuses on this book
                continue
            view = StepView.of(policy, s)
            if all(get(c).holds(view) for c in CLAIMS):
                continue
            sunk = [a for a in s.after.traders if account_value(policy, s.after.assets, a) < 0]
            owes = "a lent asset's borrow" if any(a.asset_balances[0] < 0 for a in sunk) else "settlement cash"
            key = (covered, lent, type(event).__name__, owes)
            counts[key] += 1
            first.setdefault(
                key,
                f"alice {alice}, bob {bob}, "
                + (f"carol {carol}, " if carol is not None else "")
                + f"order book {liquidity}, fund {book.role(Role.INSURANCE_FUND).cash_quote}; {event}",
            )
    print(f"{args.preset}, seed {args.seed}: {args.books:,} books drawn, {inside:,} inside check's other assumptions")
    print(
        "| settlement assumption | the asset's deposits cover its borrows | event | left owing | failing steps"
        " | first found (cash, quanta, lots) |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for key in sorted(counts):
        print(f"| {' | '.join(key)} | {counts[key]} | {first[key]} |")


if __name__ == "__main__":
    main()

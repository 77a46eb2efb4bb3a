"""Percolator Gen A over several mark moves, on the concrete engine: random well-formed books (the
order book holding a position of its own, every trader at or above its initial margin, each
principal anywhere in [0, equity]) stepped through K mark moves (gaps of 1/100 to 100x, and quiet
events that only vest), and after each move three questions (docs/solver-notes.md#percolator-gen-as-payer-claims-over-moves-session-24):

- ``claim``: a trader below zero (no-negative-equity broken; the story is the engine's own run);
- ``residual``: percolator's residual Σ (E − principal) over the traders and the order book below
  zero (spec v7 §3.1's Residual = V − C_tot − I ≥ 0, read on the engine's accounts);
- ``mark``: no common mark at which every trader and the order book is worth at least zero;
- ``cover``: some next mark X (an integer ≥ 1) at which the junior cover fails: after the next
  event's opening (the engine's own: its vest converted at h) and settlement to X, Σ (E − principal′) over the traders (principal′ re-based to
  min(principal, max(E, 0)), which is max(E − principal, 0) − max(−E, 0)) plus the book's junior
  profit below zero, i.e. the traders' deficits more than every payer's junior profit.

Evidence only, never a verdict: a premise found broken here is broken (the story is printed), a
claim not found broken is not proved. Seeded: the same seed gives the same books and moves.

    python benchmarks/search_gen_a_moves.py --seed 1 --books 2000 --moves 6

``--window-end``: the preset with its profit vesting at the 100-event window's end instead of
linearly, so nothing vests within fewer than 100 moves (the order book's hole alone).
"""

from __future__ import annotations

import argparse
import random
from fractions import Fraction

import attrs

from solvent.rules.book import Book, new_book
from solvent.rules.engine import opening, step
from solvent.rules.events import MarkPrice
from solvent.rules.margin import equity
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import HaircutRatio, Release
from solvent.rules.wellformed import reasons

GEN_A = load_preset("percolator-gen-a")
FACTORS = (
    Fraction(1, 100),
    Fraction(1, 10),
    Fraction(1, 2),
    Fraction(19, 20),
    Fraction(1),
    Fraction(1),
    Fraction(21, 20),
    Fraction(2),
    Fraction(10),
    Fraction(100),
)


def holders(book: Book) -> list:
    """The accounts the haircut reads: the traders and the order book (``liquidity``)."""
    return [a for a in book.accounts if a.is_trader or a.name == "liquidity"]


def residual(book: Book) -> int:
    """Σ (E − principal) over the traders and the order book."""
    return sum(equity(GEN_A.margin, a) - a.principal_quote for a in holders(book))


def common_mark(book: Book) -> bool:
    """Whether some mark Z leaves every trader and the order book worth at least zero:
    E + S·(Z − M) ≥ 0 for each (an interval of Z, empty or not)."""
    low = high = None
    mark = book.market.mark_quote
    for a in holders(book):
        e, s = equity(GEN_A.margin, a), a.size_lots
        if s == 0 and e < 0:
            return False
        if s > 0:
            low = max(low, mark - Fraction(e, s)) if low is not None else mark - Fraction(e, s)
        if s < 0:
            high = min(high, mark + Fraction(e, -s)) if high is not None else mark + Fraction(e, -s)
    return low is None or high is None or low <= high


def opened(book: Book) -> Book:
    """The book after the next event's opening: the engine's own (its vest converted at h,
    ``haircut_ratio.convert``; until session 25 this file vested at face here, a copy of the old rule)."""
    return opening(GEN_A, book).book


def cover(book: Book, x: int) -> int:
    """The junior cover less the traders' deficits if the next event opens (:func:`opened`) and
    settles to ``x``."""
    total, mark = 0, book.market.mark_quote
    for a in holders(opened(book)):
        e, p = equity(GEN_A.margin, a), a.principal_quote
        moved = e + a.size_lots * (x - mark)
        if a.is_trader:
            total += moved - min(p, max(moved, 0))
        else:
            total += max(moved - p, 0)
    return total


def cover_at_every_mark(book: Book) -> bool:
    """Whether :func:`cover` is at least zero at every integer mark ≥ 1: it is piecewise linear in
    the mark with a slope at least zero past every break (Σ S = 0), so the breaks (each account's
    E′ = 0 and E′ = principal, either side) and the mark 1 decide it."""
    mark, points = book.market.mark_quote, {1}
    for a in holders(opened(book)):
        if a.size_lots == 0:
            continue
        e, p = equity(GEN_A.margin, a), a.principal_quote
        for level in (0, p):
            at = mark + Fraction(level - e, a.size_lots)
            points.update(v for v in (int(at) - 1, int(at), int(at) + 1, int(at) + 2) if v >= 1)
    return all(cover(book, x) >= 0 for x in points)


def account(size: int, cash: int, principal: int, mark: int) -> dict:
    junior = cash - principal
    linear = GEN_A.layer(HaircutRatio).release is Release.LINEAR
    slope = max(1, junior // 100) if junior > 0 and linear else 0  # a slope exactly where there is junior profit
    return {
        "cash_quote": cash,
        "principal_quote": principal,
        "size_lots": size,
        "cost_quote": size * mark,
        "reserve_slope_quote": slope,
    }


def random_book(rng: random.Random) -> tuple[Book, tuple[str, ...]]:
    names = tuple(f"t{i}" for i in range(rng.randint(2, 6)))
    mark = rng.choice([100, 1_000, 10_000])
    sizes = [rng.choice([-1, 1]) * rng.randint(1, 200) for _ in names]
    fields = {}
    for name, size in zip(names, sizes, strict=True):
        initial = -(-abs(size) * mark // 10)  # the preset's 10% initial margin, rounded up
        cash = initial + rng.choice([0, 0, rng.randint(0, initial), rng.randint(0, 10 * initial)])
        fields[name] = account(size, cash, rng.choice([0, cash, rng.randint(0, cash)]), mark)
    book_cash = rng.choice([0, 0, rng.randint(0, abs(sum(sizes)) * mark + 1)])
    fields["liquidity"] = account(-sum(sizes), book_cash, book_cash, mark)
    book = new_book(mark_quote=mark, traders=names)
    for name, values in fields.items():
        i = book.index(name)
        book = book.replace_account(i, attrs.evolve(book.accounts[i], **values))
    book = attrs.evolve(book, net_deposits_quote=sum(a.cash_quote for a in book.accounts))
    return book, names


def search(seed: int, books: int, moves: int) -> dict[str, int]:
    rng = random.Random(seed)
    found = {"books": 0, "claim": 0, "residual": 0, "mark": 0, "cover": 0}
    for _ in range(books):
        book, names = random_book(rng)
        if reasons(GEN_A, book):
            continue
        found["books"] += 1
        mark, marks, seen = book.market.mark_quote, [], set()
        for _move in range(moves):
            mark = max(1, int(mark * rng.choice(FACTORS)) + rng.randint(-3, 3))
            marks.append(mark)
            book = step(GEN_A, book, MarkPrice(mark)).after
            if any(equity(GEN_A.margin, book.account(n)) < 0 for n in names):
                found["claim"] += 1
                print("claim", seed, marks, flush=True)
                break
            kept = (
                ("residual", residual(book) >= 0),
                ("mark", common_mark(book)),
                ("cover", cover_at_every_mark(book)),
            )
            for name, holds in kept:
                if not holds and name not in seen:
                    seen.add(name)
                    found[name] += 1
                    if name == "cover":
                        print("cover", seed, marks, flush=True)
    return found


def window_end() -> None:
    """Swap the module's policy for the preset with its profit vesting at the window's end."""
    global GEN_A
    layers = tuple(
        attrs.evolve(x, release=Release.WINDOW_END) if isinstance(x, HaircutRatio) else x for x in GEN_A.deficit
    )
    GEN_A = attrs.evolve(GEN_A, deficit=layers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window-end", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--books", type=int, default=2_000)
    parser.add_argument("--moves", type=int, default=6)
    args = parser.parse_args()
    if args.window_end:
        window_end()
    print(search(args.seed, args.books, args.moves))


if __name__ == "__main__":
    main()

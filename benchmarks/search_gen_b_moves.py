"""Percolator Gen B over one or several mark moves, on the concrete engine: random well-formed books
(the order book holding a position of its own, every trader at or above its initial margin, each
principal and reserve anywhere the well-formed book allows) stepped through K mark moves (gaps of
1/100 to 100x), and after each move these questions
(docs/solver-notes.md#gen-b-over-moves-which-premises-a-move-keeps-session-25):

- ``claims``: which of Gen B's payer claims (no-negative-equity, loss-bounded-by-collateral,
  principal-protected, claims-backed) the step breaks, each read by the catalog's own predicate on
  the engine's step (the story is printed);
- ``flat-accounts-never-pay`` (session 26,
  docs/solver-notes.md#gen-bs-flat-accounts-never-pay-at-k--3-session-26): the claim broken, and the
  two facts it rests on over moves: ``flat below zero``, a trader flat after the move worth less than
  zero (the premise the lemma takes, broken), and ``flat with a reserve``, a trader flat after the move
  holding a reserve the next slot releases into matured profit (a haircut would reach it);
- the three facts principal-protected's argument on Gen B reads (none is a claim of the catalog):
  ``credit``: a trader not bankrupt in the step credited after it paid a per-lot charge (a later
  entry into its cash); ``running``: a trader's equity before plus its cash entries is not its equity
  after (the claim's running equity misses a change); ``principal``: a trader not bankrupt in the
  step ends with its principal above ``max(E, 0)``;
- the candidate premises over moves: the book after the move not well formed at the initial margin
  (``initial``), at maintenance (``maintenance``: every trader with a position above it), worth at least
  zero (``solvent``) or with no margin condition at all (``none``), each read by
  ``wellformed.reasons`` (the engine's own conditions, not a copy), and each condition broken counted
  by its name (``"maintenance: the order book starts with non-negative cash"``).

Evidence only, never a verdict: a premise found broken here is broken (the story is printed), a
claim not found broken is not proved. Seeded: the same seed gives the same books and moves.

    python benchmarks/search_gen_b_moves.py --seed 1 --books 2000 --moves 3
"""

from __future__ import annotations

import argparse
import random
from fractions import Fraction

import attrs

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import HAIRCUT_REASONS
from solvent.rules.margin import equity, open_lots
from solvent.rules.presets import load_preset
from solvent.rules.wellformed import StartMargin, reasons

GEN_B = load_preset("percolator-gen-b")
CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "principal-protected", "claims-backed")
#: the flat claim and its two facts over moves (``flat_facts``)
FLAT = ("flat-accounts-never-pay", "flat below zero", "flat with a reserve")
PREMISES = (
    ("initial", StartMargin.INITIAL),
    ("maintenance", StartMargin.MAINTENANCE),
    ("solvent", StartMargin.SOLVENT),
    ("none", None),
)
FACTORS = (
    Fraction(1, 100),
    Fraction(1, 10),
    Fraction(1, 2),
    Fraction(19, 20),
    Fraction(1),
    Fraction(21, 20),
    Fraction(2),
    Fraction(10),
    Fraction(100),
)


def account(rng: random.Random, size: int, mark: int) -> dict:
    """A trader at or above its initial margin (rounded up), its principal in [0, cash] (flat: its cash),
    a reserve within the principal with the slope the preset restarts it at."""
    initial = -(-abs(size) * mark // 10)
    cash = initial + rng.choice([0, 0, rng.randint(0, initial + 2), rng.randint(0, 10 * initial + 2)])
    principal = cash if size == 0 else rng.choice([0, cash, rng.randint(0, cash)])
    reserve = rng.choice([0, 0, rng.randint(0, principal)])
    return {
        "cash_quote": cash,
        "principal_quote": principal,
        "window_pnl_quote": reserve,
        "reserve_slope_quote": max(1, reserve // 100) if reserve > 0 else 0,
        "size_lots": size,
        "cost_quote": size * mark,
    }


def random_book(rng: random.Random) -> tuple[Book, tuple[str, ...]]:
    names = tuple(f"t{i}" for i in range(rng.randint(2, 5)))
    mark = rng.choice([10, 100, 1_000])
    sizes = [rng.choice([-1, 0, 1]) * rng.randint(1, rng.choice([4, 200])) for _ in names]
    fields = {name: account(rng, size, mark) for name, size in zip(names, sizes, strict=True)}
    book_cash = rng.choice([0, 0, rng.randint(0, abs(sum(sizes)) * mark + 1)])
    fields["liquidity"] = {
        "cash_quote": book_cash,
        "principal_quote": book_cash,
        "size_lots": -sum(sizes),
        "cost_quote": -sum(sizes) * mark,
    }
    book = new_book(mark_quote=mark, traders=names)
    for name, values in fields.items():
        i = book.index(name)
        book = book.replace_account(i, attrs.evolve(book.accounts[i], **values))
    fund = book.index("insurance_fund")
    book = book.replace_account(
        fund, attrs.evolve(book.accounts[fund], cash_quote=rng.choice([0, 0, rng.randint(0, 50)]))
    )
    book = attrs.evolve(book, net_deposits_quote=sum(a.cash_quote for a in book.accounts))
    return book, names


def facts(view: StepView, names: tuple[str, ...]) -> dict[str, bool]:
    """Whether each of principal-protected's three facts breaks in ``view`` (True: broken)."""
    broken = {"credit": False, "running": False, "principal": False}
    for name in names:
        if view.went_bankrupt(name):
            continue
        charged, running = False, equity(GEN_B.margin, view.before.account(name))
        for g in view.transfers:
            t = g.item
            if t.destination == name and t.source != name:
                running += t.amount_quote
                broken["credit"] |= charged and t.amount_quote > 0
            if t.source == name and t.destination != name:
                running -= t.amount_quote
                charged |= t.reason in HAIRCUT_REASONS and t.amount_quote > 0
        after = view.after.account(name)
        e = equity(GEN_B.margin, after)
        broken["running"] |= running != e
        broken["principal"] |= after.principal_quote > max(e, 0)
    return broken


def flat_facts(view: StepView) -> dict[str, bool]:
    """:data:`FLAT` on one step: the claim (the catalog's predicate), a trader flat after it below zero,
    a trader flat after it with a reserve (``window_pnl_quote``) and a slope to release it."""
    flat = [a for a in view.after.traders if open_lots(a) == 0]
    return {
        FLAT[0]: catalog.get(FLAT[0]).holds(view) is False,
        FLAT[1]: any(equity(GEN_B.margin, a) < 0 for a in flat),
        FLAT[2]: any(a.window_pnl_quote > 0 and a.reserve_slope_quote > 0 for a in flat),
    }


def search(seed: int, books: int, moves: int) -> dict[str, int]:
    rng = random.Random(seed)
    keys = ("books", "steps", "charged", *CLAIMS, *FLAT, "credit", "running", "principal", *(k for k, _ in PREMISES))
    found = dict.fromkeys(keys, 0)
    conditions: dict[str, int] = {}
    for _ in range(books):
        book, names = random_book(rng)
        if reasons(GEN_B, book):
            continue
        found["books"] += 1
        mark, marks = book.market.mark_quote, []
        for _move in range(moves):
            mark = max(1, int(mark * rng.choice(FACTORS)) + rng.randint(-3, 3))
            marks.append(mark)
            s = step(GEN_B, book, MarkPrice(mark))
            view = StepView.of(GEN_B, s)
            found["steps"] += 1
            found["charged"] += any(t.item.reason in HAIRCUT_REASONS for t in view.transfers)
            broken = [c for c in CLAIMS if catalog.get(c).holds(view) is False]
            broken += [k for k, v in facts(view, names).items() if v]
            broken += [k for k, v in flat_facts(view).items() if v]
            for k, margin in PREMISES:
                why = {r.split(":")[0] for r in reasons(GEN_B, s.after, margin=margin)}
                broken += [k] if why else []
                for r in why:
                    conditions[f"{k}: {r}"] = conditions.get(f"{k}: {r}", 0) + 1
            for k in broken:
                found[k] += 1
                if found[k] <= 2 or k in CLAIMS or k in FLAT[:2]:
                    print(k, seed, marks, flush=True)
            book = s.after
    return found | conditions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--books", type=int, default=2_000)
    parser.add_argument("--moves", type=int, default=3)
    args = parser.parse_args()
    print(search(args.seed, args.books, args.moves))


if __name__ == "__main__":
    main()

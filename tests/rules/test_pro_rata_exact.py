"""``ProRata.EXACT_IN_ORDER`` (percolator Gen A's haircut since session 21) at its boundaries
(docs/model.md#percolator-gen-as-fee-from-capital-and-a-haircut-without-dust-session-21).

The split: each share ⌊T·w/W⌋, then the remainder r = T − Σ⌊T·w/W⌋ one quantum each to the first r
payers in book order whose share had a fraction (T·w mod W ≠ 0); the shares add up to T, no dust.
(The fee from capital is tested on the story book, tests/solver/test_gen_a_payer_stories.py.)

Under z3: tests/differential/test_pro_rata_exact_z3.py (the same cases, both interpreters).
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules.book import new_book
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.pro_rata import charge
from solvent.rules.rounding import ProRata, RoundingRule

EXACT = RoundingRule(pro_rata=ProRata.EXACT_IN_ORDER)
NAMES = ("p0", "p1", "p2", "p3", "p4")


def _book(deficit: int):
    book = new_book(mark_quote=100, traders=("alice", *NAMES))
    i = book.index("alice")
    return book.replace_account(i, attrs.evolve(book.accounts[i], cash_quote=-deficit))


def shares(deficit: int, weights: list[int], *, capped: bool = True) -> tuple[list[int], int, set[Reason]]:
    """(each payer's share, what the bankrupt got, the reasons of the entries)."""
    named = list(zip(NAMES, weights, strict=False))
    ctx, paid = charge(Ctx(_book(deficit)), EXACT, named, "alice", deficit, capped=capped, reason=Reason.HAIRCUT)
    got = {n: 0 for n, _ in named}
    for e in ctx.entries:
        if e.item.reason is Reason.HAIRCUT:
            got[e.item.source] += e.item.amount_quote
    return [got[n] for n, _ in named], paid, {e.item.reason for e in ctx.entries}


# (deficit, weights, shares): each a boundary of the rule
CASES = [
    # r = 0: every share exact (6·w/12), nothing extra
    (6, [2, 4, 6], [1, 2, 3]),
    # r = 0 at D = W: each pays its whole weight
    (7, [3, 4], [3, 4]),
    # r = payers − 1 = 2: ⌊2/3⌋ = 0 each, the first two with a fraction pay one more
    (2, [1, 1, 1], [1, 1, 0]),
    # a zero weight is skipped (no fraction): the remainder goes to the next payers
    (2, [0, 1, 1, 1], [0, 1, 1, 0]),
    # a payer whose share is exact is skipped though its weight is not zero: D 3 over W 6, the
    # first's 3·2/6 = 1 exact, the second's 3/6 has a fraction and takes the remainder r = 1
    (3, [2, 1, 1, 2], [1, 1, 0, 1]),
    # the dust story's split (tests/solver/test_gen_a_payer_stories.py): 8 over five weights 9,
    # ⌊72/45⌋ = 1 each, r = 3 to the first three
    (8, [9, 9, 9, 9, 9], [2, 2, 2, 1, 1]),
    # capped at W: a deficit above the weights takes exactly each weight
    (100, [3, 4], [3, 4]),
]


@pytest.mark.parametrize(("deficit", "weights", "expected"), CASES)
def test_the_split(deficit: int, weights: list[int], expected: list[int]) -> None:
    got, paid, reasons = shares(deficit, weights)
    assert got == expected
    assert paid == sum(got) == min(deficit, sum(weights))
    assert Reason.PRO_RATA_DUST not in reasons


@pytest.mark.parametrize("deficit", range(0, 13))
def test_each_share_is_its_floor_or_ceiling_and_at_most_its_weight(deficit: int) -> None:
    weights = [5, 0, 3, 4]
    got, paid, _ = shares(deficit, weights)
    total = sum(weights)
    target = min(deficit, total)
    assert paid == sum(got) == target
    for share, w in zip(got, weights, strict=True):
        assert target * w // total <= share <= -(-target * w // total)
        assert share <= w


def test_uncapped_above_the_weights_is_exact_too() -> None:
    # R 10 over weights 1, 2 (W 3), not capped: ⌊10/3⌋ = 3, ⌊20/3⌋ = 6, r = 1 to the first
    assert shares(10, [1, 2], capped=False)[:2] == ([4, 6], 10)


def test_the_preset_names_it() -> None:
    from solvent.rules.presets import load_preset

    assert load_preset("percolator-gen-a").rounding.pro_rata is ProRata.EXACT_IN_ORDER

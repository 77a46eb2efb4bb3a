"""ADL's queue at any N as a lemma (``solver.queue_fills_lemma``): the fills of ``rules.adl.fills_by_rank``
add up to ``min(L, Σ eligible lots)``, each within its holder's lots, by induction over the candidates in
book order (docs/solver-notes.md#the-queues-fills-as-a-lemma-session-22).

Each step is its own exact query; the tests pin what each decides and what it costs, and show that a
queue one token off (the engine's comparison, the engine's fill, the lemma's own formula) fails it."""

from __future__ import annotations

import functools
import random

import pytest
import z3

import solvent.rules.adl as adl_module
from solvent.rules.arith import and_, max_, min_, sum_, when
from solvent.rules.presets import resolve_policy
from solvent.solver import effort, payer_previous, queue_fills_lemma, wall
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.compositional import _Checker, _Failed

HYPERLIQUID = resolve_policy("hyperliquid")
UNITS = 2_000_000


def _lemma(candidates: tuple[int, ...] = queue_fills_lemma.sizes(8)) -> tuple[list[str], _Checker]:
    bounds = for_policy(Bounds(accounts=4, events=1, effort=UNITS), HYPERLIQUID)
    with effort.question():
        checker = _Checker(bounds, units=UNITS)

        def fail(why: str) -> None:
            raise _Failed(why)

        names = queue_fills_lemma.lemma(HYPERLIQUID, functools.partial(checker.valid, exact=True), fail, candidates)
        return names, checker


def test_the_queues_fills_hold_for_every_n_in_steps() -> None:
    """Every step unsat, exact: the order (1,119 + 7,450 + 335 + 164), one term (2,503), one candidate
    (985 + 3,057 + 506 + 2,431), the induction (72 + 1,062 + 8,418), the book and the vault (1,402):
    29,504 units in all, the same whatever N the question has (no query names more than three
    candidates). The engine's terms are the formula at one to eight candidates (no query)."""
    names, checker = _lemma()
    assert [n for n in names if "term for term" in n] == [
        f"{queue_fills_lemma.NAME}: on {k} candidates the engine's fills are the formula, term for term (no query)"
        for k in range(1, 9)
    ]
    assert names[-1] == f"{queue_fills_lemma.NAME}: for every N, {queue_fills_lemma.PROVES}"
    assert len(checker.queries) == 13
    assert all(q.result == "unsat" for q in checker.queries), [(q.name, q.result) for q in checker.queries]
    units = [q.units for q in checker.queries]
    assert sum(units) == 29_504, units
    assert max(units) < 10_000  # each step small: the induction's step 8,418
    _, again = _lemma((1, 2, 3))
    assert [q.units for q in again.queries] == units  # the shape check is Python: no units


def test_the_engine_asked_directly_grows_with_the_queue() -> None:
    """Why the steps: Σ fills = min(L, Σ eligible lots) asked directly of the engine's fills_by_rank
    with free scores is unsat at two candidates in 12,956 units and three in 100,639 (more at four,
    not asked here); the induction's 29,504 cover every N."""
    spent = []
    for n in (2, 3):
        with effort.question():
            entries, premise = [], []
            for k in range(n):
                e, p = queue_fills_lemma._entry(f"d{k}", k)
                entries.append(e)
                premise += p
            closing = z3.Int("L")
            fills = adl_module.fills_by_rank(entries, closing)
            claim = sum_(fills) == min_(closing, sum_(when(e.eligible, e.lots) for e in entries))
            answer = wall.check([*premise, closing >= 0, z3.Not(claim)], [], UNITS, 120.0)
        assert answer.result == "unsat"
        spent.append(answer.units)
    assert spent == [12_956, 100_639]


def test_the_walk_closes_what_the_lemma_says() -> None:
    """On concrete queues (the engine's sorted walk, ``queue_fills``), 300 drawn: the fills add up to
    min(L, Σ eligible lots) and each is within its holder's lots; a tie in score is served by book order."""
    rng = random.Random(22)
    for _ in range(300):
        n = rng.randint(1, 7)
        entries = [
            adl_module._Entry(rng.random() < 0.7, rng.randint(0, 5), rng.randint(1, 3), i, rng.randint(0, 40))
            for i in range(n)
        ]
        closing = rng.randint(0, 120)
        fills = adl_module.queue_fills(entries, closing)
        held = sum(e.lots for e in entries if e.eligible)
        assert sum(fills) == min(closing, held)
        assert all(0 <= q <= (e.lots if e.eligible else 0) for q, e in zip(fills, entries, strict=True))
        assert fills == adl_module.fills_by_rank(entries, closing)


def test_a_comparison_that_leaves_ties_unserved_fails_the_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_ahead`` one token off (``>=`` read ``>`` for the earlier candidate in the book): two eligible
    candidates with the same score are each behind the other, so both count only the other's lots as
    not ahead and the queue may close more than L. The order's first lemma has a model."""

    def ahead(a, b):
        return and_(a.eligible, a.num * b.den > b.num * a.den)

    monkeypatch.setattr(adl_module, "_ahead", ahead)
    with pytest.raises(_Failed, match="exactly one is ahead.* z3 found a model"):
        _lemma((1, 2, 3))


def test_an_engine_fill_one_token_off_fails_the_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    """``fills_by_rank`` one token off (a fill not capped at its holder's lots: ``max_(L − A, 0)``
    without the ``min_`` by ``lots``) is not the formula the steps are proved of."""

    def fills(entries, lots):
        out = []
        for e in entries:
            ahead = sum_(when(adl_module._ahead(o, e), o.lots) for o in entries if o is not e)
            out.append(when(e.eligible, max_(lots - ahead, 0)))
        return out

    monkeypatch.setattr(adl_module, "fills_by_rank", fills)
    with pytest.raises(_Failed, match="candidate 0 of 1: the engine's fill is not"):
        _lemma()


def test_a_fill_formula_one_token_off_fails_a_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """The steps decide the formula, not its name: the fill read ``min(max(L − A, 1), l)`` (one token)
    gives a candidate behind the lots closed a lot anyway: step 3's "behind k" has a model."""
    monkeypatch.setattr(
        queue_fills_lemma,
        "fill",
        lambda eligible, ahead, lots, closing: when(eligible, min_(max_(closing - ahead, 1), lots)),
    )
    with pytest.raises(_Failed, match=r"step 3: behind k .* z3 found a model"):
        _lemma(())  # the shape check would stop it first (the engine's fill is not the mutant's)


def test_the_payer_verdict_no_longer_assumes_the_queue() -> None:
    """The assumption the lemma replaces is gone from the payer's scope and the holders'; what is still
    assumed (the bankrupt account reads the others only through ADL's fills at the previous mark) stays."""
    from solvent.solver import claims_backed

    for assumes in (payer_previous.ASSUMES, claims_backed.EVERY_N_ASSUMES_PREVIOUS):
        assert "as the book alone would" not in assumes
        assert "ADL's fills at the previous mark" in assumes

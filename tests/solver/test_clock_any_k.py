"""Any-K verdicts at every clock (session 20, helper I; docs/solver-notes.md#any-k-at-every-clock-session-20).

``solver.clock.windows`` names the rules that read the book's clock, from the policy's fields; a
policy with none builds the same transition, turn and resolve at every clock (so a lemma on a free
book at clock 0 speaks of every event), and one with a window builds other terms at a clock the
window names (so ``windows`` is not a guess). Where the policy reads the clock, the all-N arguments
ask every lemma at each clock 0..K-1 and their verdict says K events, not any K.
"""

from __future__ import annotations

import attrs
import pytest
import z3

import solvent
from solvent.properties import catalog
from solvent.rules.bankruptcy import resolve
from solvent.rules.engine import liquidation_turn, transition
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Ctx
from solvent.rules.presets import preset_names, resolve_policy
from solvent.rules.waterfall import Clawback, HaircutRatio, Release
from solvent.solver import clock, effort
from solvent.solver import compositional as comp
from solvent.solver.bounds import Bounds
from solvent.solver.story import symbolic_book
from solvent.solver.verdicts import Verdict

#: the clock a policy without a window is checked at: a free one, so the terms built at it are every
#: clock's (a rule that reads it in a ``ite`` leaves it in a term, one that branches on it in Python
#: raises); it stood for the clocks 1, 2, 3, 7, 8, 99 and 100 built one by one before session 29
ANY_CLOCK = "the clock"


def _flat(value: object) -> list:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _flat(v)]
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flat(v)]
    return [value]


def _terms(policy, book, at: int) -> list:
    """Every data field of the books the event's transition, alice's turn and her resolve return
    from ``book`` at clock ``at`` (the clock itself left out: it is the input)."""
    book = attrs.evolve(book, clock=at)
    books = (
        transition(policy, book, MarkPrice(z3.Int("e1.mark"))).book,
        liquidation_turn(policy, Ctx(book), "alice").book,
        resolve(policy, Ctx(book), "alice").book,
    )
    return [x for b in books for x in _flat(attrs.asdict(attrs.evolve(b, clock=0), recurse=True))]


def _same(left: list, right: list) -> bool:
    def one(x, y) -> bool:
        if isinstance(x, z3.ExprRef) or isinstance(y, z3.ExprRef):
            return isinstance(x, z3.ExprRef) and isinstance(y, z3.ExprRef) and x.eq(y)
        return x == y

    return len(left) == len(right) and all(one(x, y) for x, y in zip(left, right, strict=True))


@pytest.mark.parametrize("preset", preset_names())
def test_a_policy_without_a_window_reads_no_clock(preset: str) -> None:
    """Where ``windows`` names none, a free clock builds the clock-0 terms (so every clock does); where
    it names W, a clock the rule branches at (1 for a window's sample count, W - 1 for a warm-up's
    end, W for a clawback's reset) builds other terms."""
    policy = resolve_policy(preset)
    with effort.question():
        book, _ = symbolic_book(Bounds(accounts=2, events=1))
        first = _terms(policy, book, 0)
        found = clock.windows(policy)
        if not found:
            assert _same(_terms(policy, book, z3.Int(ANY_CLOCK)), first), preset
        else:
            assert any(not _same(_terms(policy, book, at), first) for w in found for at in {1, w - 1, w}), preset


def test_which_presets_read_the_clock() -> None:
    """OKX's fund-drawdown window and okx-2018's clawback window; no other preset (percolator's warm-up
    releases linearly on both generations: the clock unread; with ``release = "window_end"`` it reads it)."""
    read = {p: clock.windows(resolve_policy(p)) for p in preset_names() if clock.reads_clock(resolve_policy(p))}
    assert read == {"okx": (8,), "okx-2018": (10080,)}
    gen_a = resolve_policy("percolator-gen-a")
    layers = tuple(
        attrs.evolve(layer, release=Release.WINDOW_END) if isinstance(layer, HaircutRatio) else layer
        for layer in gen_a.deficit
    )
    windowed = attrs.evolve(gen_a, deficit=layers)
    assert clock.windows(windowed) == (100,)
    with effort.question():
        book, _ = symbolic_book(Bounds(accounts=2, events=1))
        assert not _same(_terms(windowed, book, 99), _terms(windowed, book, 0))
        assert _same(_terms(windowed, book, 98), _terms(windowed, book, 0))
    assert clock.clocks(resolve_policy("okx"), 3) == (tuple(range(8)), True)
    assert clock.clocks(resolve_policy("okx"), 1) == ((0,), False)
    assert clock.clocks(resolve_policy("binance"), 3) == ((0,), True)


def test_free_books_at_a_clock() -> None:
    with effort.question():
        assert symbolic_book(Bounds(accounts=1))[0].clock == 0
        with clock.at(5):
            assert symbolic_book(Bounds(accounts=1))[0].clock == 5
        assert symbolic_book(Bounds(accounts=1))[0].clock == 0


@pytest.mark.xdist_group("okx_clock")
def test_okx_lemmas_asked_at_every_clock_for_any_k() -> None:
    """On okx at K = 3 every lemma is asked at clocks 0..7, whose transitions are every clock's
    (the window of 8 read as clock mod 8): any K; at K = 1 at clock 0 only (units as before), K ≤ 1.
    A clock loop dropped, or a clock of the eight left out, fails here."""
    okx = resolve_policy("okx")
    found = comp.attempt(okx, catalog.get("open-interest-balance"), Bounds(accounts=2, events=3, effort=20_000_000))
    assert isinstance(found, comp.Extension)
    assert found.events is None
    for at in range(8):
        assert any(line.startswith(f"at clock {at}: P (mark)") for line in found.lemmas), at
    assert not any(line.startswith("at clock 8:") for line in found.lemmas)
    assert "every lemma asked at each clock 0..7, whose transitions are every clock's, so any K" in found.method
    # the all-cross scope alone (isolated=0): the clock's wiring is the same on both scopes, and the
    # isolated one was 586,144 of the 1,068,135 units (session 27)
    proof = solvent.prove("okx", "open-interest-balance", accounts=2, events=1, effort="20M", isolated=0)
    assert proof.verdict is Verdict.PROVED
    assert proof.scope.accounts is None and proof.scope.events == 1
    assert not any(line.startswith("at clock") for line in proof.lemmas)


@pytest.mark.xdist_group("okx_clock")
def test_a_long_window_asks_the_questions_clocks_and_says_k() -> None:
    """okx-2018's clawback window (10,080 events) is too long to ask at every clock: at K = 3 the
    lemmas at clocks 0, 1, 2 and the verdict K ≤ 3, not any K (a dropped loop or K left out of the
    scope fails here)."""
    old = resolve_policy("okx-2018")
    assert clock.every(old) is None and clock.clocks(old, 3) == ((0, 1, 2), False)
    found = comp.attempt(old, catalog.get("open-interest-balance"), Bounds(accounts=2, events=3, effort=20_000_000))
    assert isinstance(found, comp.Extension)
    assert found.events == 3
    for at in (0, 1, 2):
        assert any(line.startswith(f"at clock {at}: P (mark)") for line in found.lemmas), at
    assert found.method.startswith("compositional, all N, K ≤ 3:") and ", any K" not in found.method


def test_every_clocks_representatives() -> None:
    """A window of 8 alone: clocks 0..7 (clock 8 builds clock 0's terms, test_clock_turns); with a
    clawback (which also reads clock == 0), 0..P: clock P's reset is not clock 0's."""
    okx = resolve_policy("okx")
    assert clock.every(okx) == tuple(range(8))
    layers = tuple(
        attrs.evolve(x, window_events=4) if isinstance(x, Clawback) else x for x in resolve_policy("okx-2018").deficit
    )
    short = attrs.evolve(resolve_policy("okx-2018"), deficit=layers)
    assert clock.every(short) == (0, 1, 2, 3, 4)
    with effort.question():
        book, _ = symbolic_book(Bounds(accounts=2, events=1))
        assert not _same(_terms(short, book, 4), _terms(short, book, 0))
        assert _same(_terms(short, book, 8), _terms(short, book, 4))
        assert _same(_terms(short, book, 5), _terms(short, book, 1))
        assert _same(_terms(okx, book, 9), _terms(okx, book, 1))


def test_binance_lemmas_once_and_any_k() -> None:
    """A policy that reads no clock: the lemmas once, at clock 0, and any K."""
    found = comp.attempt(
        resolve_policy("binance"), catalog.get("open-interest-balance"), Bounds(accounts=2, events=3, effort=20_000_000)
    )
    assert isinstance(found, comp.Extension)
    assert found.events is None and not any(line.startswith("at clock") for line in found.lemmas)

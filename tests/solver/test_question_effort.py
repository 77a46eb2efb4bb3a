"""A question's effort is one purse: every part of ``prove`` is given what the parts before it left.

``Bounds.effort`` (``solvent prove --effort``, ``solvent check --prove-effort``) is what one question
may spend in all: the all-N lemmas (at most half), the smaller books' search for a cheap refutation
(a quarter of what the lemmas left, shared; where they held, the lemmas' book's alone), N's own
pass (the rest: its build, its witness, the claim with all but an eighth, the transfers with what
is left), the lemmas' book asked again and the minimization of a story (what is left).
docs/solver-notes.md#a-questions-effort-is-one-purse.

Each case below is a question that wants more than its effort, so every part runs to its share and
the sum of the answer's query units meets the effort exactly, or falls short only by what a part
did not need; with the old rule (each smaller book a quarter on top of N's whole effort, the
transfers the build's whole rest again) each one spent more than it was given. Each takes under a
second.
"""

from __future__ import annotations

from solvent.properties import catalog
from solvent.rules.presets import load_preset
from solvent.solver import compositional, effort
from solvent.solver.bounds import Bounds
from solvent.solver.prove import prove
from solvent.solver.verdicts import TRANSFERS, Verdict


def _spent(result) -> int:
    return sum(q.units for q in result.queries)


def test_the_smaller_book_is_paid_from_the_questions_effort() -> None:
    """Binance waterfall-order, N = 2, 600,000 units: one trader first with a quarter
    (150,000, not enough to build its question), then two with the 450,000 left (not enough
    either): 600,000 in all, where the old rule spent 150,000 + 600,000. (claims-backed, asked here
    before, proves the payer's facts first at N = 2 since it is asked with them.) Asked bounded
    (``compositional=False``): waterfall-order's all-N lemma holds on binance, and where the lemmas
    held no smaller book is searched for a refutation, the search this test is about."""
    bounds = Bounds(accounts=2, events=1, effort=600_000)
    result = prove("binance", "waterfall-order", bounds, minimize=False, compositional=False)
    builds = [q.units for q in result.queries if q.name == "build"]
    assert builds == [150_000, 450_000], [(q.name, q.units) for q in result.queries]
    assert _spent(result) == 600_000
    assert result.verdict is Verdict.UNKNOWN
    assert "needed more than its 600,000 units (450,000 units of it left for N = 2;" in result.reason, result.reason


def test_the_transfers_get_what_the_claim_left() -> None:
    """Binance claims-backed, N = 1 (no smaller book), 300,000 units: the build takes 230,800, the
    claim all but an eighth of the 69,200 left (60,550, spent to the last unit), the transfer signs
    the rest (56 of 8,650): 291,406 in all. The old rule gave the transfers the build's whole rest
    again (300,056 in all). Asked whole (``compositional=False``: not by its parts first,
    ``solver.claims_backed``), the question this test is about."""
    bounds = Bounds(accounts=1, events=1, effort=300_000)
    result = prove("binance", "claims-backed", bounds, minimize=False, compositional=False)
    units = {q.name: q.units for q in result.queries}
    assert units["build"] == 230_800
    assert units["claims-backed"] == 69_200 - 69_200 // 8 == 60_550
    assert units[TRANSFERS] <= 69_200 // 8
    assert _spent(result) <= 300_000
    assert {o.obligation: o.verdict for o in result.obligations} == {
        "claims-backed": Verdict.UNKNOWN,
        TRANSFERS: Verdict.PROVED,
    }


def test_an_all_n_argument_keeps_half_of_ns_share_for_the_lemmas_book() -> None:
    """Broker Reg T principal-protected, N = 3, 200,000 units: its per-trader lemma holds (trivially,
    0 units), so one trader is not searched for a refutation (none can be found where the lemmas
    held) and the lemmas' book (N = 2) gets the whole quarter (50,000); N = 3 gets half of the
    150,000 left, and the lemmas' book is asked again with the other half: 200,000 in all, each
    part out of effort while building, the claim undecided."""
    result = prove("broker-reg-t", "principal-protected", Bounds(accounts=3, events=1, effort=200_000), minimize=False)
    builds = [(q.name, q.units) for q in result.queries if q.name.startswith("build")]
    assert builds == [
        ("build", 50_000),
        ("build", 75_000),
        ("build (on the lemmas' book, N = 2)", 75_000),
    ], builds
    assert _spent(result) == 200_000
    assert result.verdict is Verdict.UNKNOWN


def test_the_lemmas_share_their_effort() -> None:
    """Conservation's lemmas on Broker Reg T within 30,000 units: F and C3 take 14,402 and C5 the
    15,598 they left, undecided there (it needs 20,348); the argument fails within 30,000 (each lemma
    asked with the whole budget, as before session 13, spent more). Asked as ``prove`` asks it, inside
    one question (a fresh z3 context, the collector held): outside one, the units depend on what ran
    before in the process (in a suite's worker C5 was decided and the aggregate left 216 units).
    (40,000 until session 28, when F and C3 took 14,410: every check on z3's SMT core, C3 2 units, C5
    decided in 20,348 of the 25,590 left and the P lemma out of units instead.)"""
    with effort.question():
        found = compositional.attempt(
            load_preset("broker-reg-t"), catalog.get("conservation"), Bounds(accounts=2, events=1, effort=30_000)
        )
    assert isinstance(found, compositional.Attempt)
    assert found.failed.startswith("C5 (mark)") and "undecided within its effort" in found.failed
    assert sum(q.units for q in found.queries) == 30_000


def test_a_story_is_shrunk_within_what_the_question_left() -> None:
    """Broker Reg T loss-bounded-by-collateral, N = 2, 440,000 units, refuted: the minimization
    rebuilds the question with the 52,824 units left (out of effort), so the story stands as found
    and the question spent exactly 440,000, its minimization included. (400,000 until the start
    rule on a fronted debt, session 35: at 400,000 the claim's own query now runs out, partial.)"""
    result = prove("broker-reg-t", "loss-bounded-by-collateral", Bounds(accounts=2, events=1, effort=440_000))
    assert result.verdict is Verdict.REFUTED
    assert [q.name for q in result.queries][-1] == "minimize: build"
    assert _spent(result) == 440_000


def test_two_threads_ask_one_question_at_a_time() -> None:
    """A Dask worker runs several tasks at once on threads; z3's default context and the collector
    switch are the process's, so a second thread's question waits for the first to be answered."""
    import threading

    inside = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def first() -> None:
        with effort.question():
            order.append("first in")
            inside.set()
            release.wait(5)
            order.append("first out")

    def second() -> None:
        inside.wait(5)
        with effort.question():
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    inside.wait(5)
    threads[1].join(0.2)  # the second is waiting for the first question, not inside it
    assert order == ["first in"]
    release.set()
    for t in threads:
        t.join(5)
    assert order == ["first in", "first out", "second in"]
    with effort.question(), effort.question():  # the same thread may ask inside its own question
        pass

"""At N > 2, a payer's claim whose facts fit the policy asks the lemmas' book's own question first
(``prove._lemmas_book_first``: N = 2 as ``prove`` asks it there, the direct check with the payer's
facts, then the all-N argument), within all but an eighth of the purse; proved for every N there,
N asks the non-negative transfers alone with what is left; undecided, N's own bounded question
gets the rest (docs/solver-notes.md#the-lemmas-book-first-at-n--4-and-8-issue-18).

OKX's no-negative-equity at N = 4 within 4M units: partial before (the lemmas first with half, the
direct check at N = 4 and on the lemmas' book out of units, 4,000,000 spent), proved for every N
after in 3,817,691 (the same units as within 10M: 7,965,704 before).
"""

from __future__ import annotations

import attrs
import pytest

import solvent.rules.adl as adl_module
import solvent.solver.prove as prove_module
from solvent.solver.bounds import Bounds
from solvent.solver.payer_lemma import ADL_FILLS_ONLY
from solvent.solver.verdicts import TRANSFERS, ObligationResult, ProofResult, QueryStats, Scope, Verdict
from tests.solver.test_payer_facts import MUTATIONS


def _asked(monkeypatch, preset: str, claim: str, bounds: Bounds) -> list[tuple[int, bool, int]]:
    """Every ``prove`` call the question makes: (its N, with the transfers, its effort)."""
    calls: list[tuple[int, bool, int]] = []
    real = prove_module.prove

    def spy(policy, invariant, bounds=None, **options):
        calls.append((bounds.accounts, options.get("transfers", True), bounds.effort))
        return real(policy, invariant, bounds, **options)

    monkeypatch.setattr(prove_module, "prove", spy)
    spy(preset, claim, bounds, minimize=False)
    return calls


#: N = 3, the first N past the lemmas' book (N = 2 asks no question first: the next test's first case),
#: default; N = 4 and 8 the same route, behind deep (session 29)
@pytest.mark.parametrize(
    "accounts", [3, pytest.param(4, marks=pytest.mark.deep), pytest.param(8, marks=pytest.mark.deep)]
)
@pytest.mark.parametrize(
    ("preset", "claim"),
    [
        ("bybit", "no-negative-equity"),
        ("binance", "loss-bounded-by-collateral"),
        ("bitmex", "no-negative-equity"),  # the fund takes over (session 21): its facts fit
    ],
)
def test_the_lemmas_book_is_asked_first_with_seven_eighths(monkeypatch, preset: str, claim: str, accounts: int) -> None:
    calls = _asked(monkeypatch, preset, claim, Bounds(accounts=accounts, events=1, effort=8_000))
    assert calls[:2] == [(accounts, True, 8_000), (2, False, 7_000)]


@pytest.mark.parametrize(
    ("preset", "claim", "bounds"),
    [
        ("bybit", "no-negative-equity", Bounds(accounts=2, events=1, effort=8_000)),  # the lemmas' book itself
        ("gmx-v2", "no-negative-equity", Bounds(accounts=4, events=1, effort=8_000)),  # the facts do not fit
        ("bybit", "principal-protected", Bounds(accounts=4, events=1, effort=8_000)),  # not a payer's claim
        ("bybit", "no-negative-equity", Bounds(accounts=4, events=2, effort=8_000)),  # two moves: no fact
    ],
)
def test_elsewhere_no_question_on_the_lemmas_book_first(monkeypatch, preset: str, claim: str, bounds: Bounds) -> None:
    assert (2, False, 7_000) not in _asked(monkeypatch, preset, claim, bounds)


def _small(verdict: Verdict, accounts: int | None, units: int) -> ProofResult:
    scope = Scope(
        accounts, 1, ("mark",), "prices 1..1000000000", "", assumes=ADL_FILLS_ONLY if accounts is None else ""
    )
    claim = ObligationResult("no-negative-equity", verdict, "" if verdict is Verdict.PROVED else "stand-in", scope)
    return ProofResult(
        "binance",
        "no-negative-equity",
        verdict,
        scope,
        0.0,
        "stand-in",
        obligations=(claim,),
        queries=(QueryStats("stand-in", "unsat", 0.0, units=units),),
    )


def _bounded_calls(monkeypatch, small: ProofResult) -> tuple[ProofResult, list[dict]]:
    calls: list[dict] = []
    real = prove_module._bounded
    monkeypatch.setattr(prove_module, "prove", lambda *a, **k: small)

    def bounded(policy, invariant, bounds, units=None, **options):
        calls.append({"accounts": bounds.accounts, "units": units, **options})
        return real(policy, invariant, bounds, 1, **options)  # built out of units at once: nothing asked

    monkeypatch.setattr(prove_module, "_bounded", bounded)
    result = prove_module._answered(
        "binance", "no-negative-equity", Bounds(accounts=4, effort=1_000_000), False, True, True, True
    )
    return result, calls


def test_proved_for_every_n_there_n_asks_the_transfers_alone(monkeypatch) -> None:
    result, calls = _bounded_calls(monkeypatch, _small(Verdict.PROVED, None, 300_000))
    assert calls == [{"accounts": 4, "units": 700_000, "transfers": True, "claim": False}]
    own = next(o for o in result.obligations if o.obligation == "no-negative-equity")
    assert own.verdict is Verdict.PROVED and own.scope.accounts is None
    assert [o.obligation for o in result.obligations] == ["no-negative-equity", TRANSFERS]
    assert result.queries[0].name == "stand-in (on the lemmas' book, N = 2)"


@pytest.mark.parametrize("small", [_small(Verdict.UNKNOWN, 2, 600_000), _small(Verdict.PROVED, 2, 600_000)])
def test_not_proved_for_every_n_there_n_asks_its_own_question_with_the_rest(monkeypatch, small: ProofResult) -> None:
    result, calls = _bounded_calls(monkeypatch, small)
    assert calls == [{"accounts": 4, "units": 400_000, "transfers": True}]
    own = next(o for o in result.obligations if o.obligation == "no-negative-equity")
    assert own.verdict is Verdict.UNKNOWN and "; the lemmas' book (N = 2) asked first: " in own.reason
    assert own.scope.accounts == 4


@pytest.mark.deep  # 3.8M units: 27 s at load 5
def test_okx_at_four_traders_is_proved_for_every_n_on_the_lemmas_book_within_four_million() -> None:
    """Partial on main before (4,000,000 units: the lemmas first, N = 4 and the lemmas' book after,
    each out of units); the same question at N = 2 first proves it, and N = 4 builds once, for
    the transfers. Its N = 2 part spends what the N = 2 question spends, unit for unit."""
    bounds = Bounds(accounts=4, events=1, effort=4_000_000)
    result = prove_module.prove("okx", "no-negative-equity", bounds, minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    own = next(o for o in result.obligations if o.obligation == "no-negative-equity")
    assert own.scope.accounts is None and own.scope.assumes == ADL_FILLS_ONLY
    tagged = [q for q in result.queries if q.name.endswith("(on the lemmas' book, N = 2)")]
    at_n = result.queries[len(tagged) :]
    assert result.queries[: len(tagged)] == tuple(tagged)  # the lemmas' book first
    assert [q.name for q in at_n if q.name.startswith("build")] == ["build"]
    assert not any(q.name.startswith("no-negative-equity") for q in at_n)  # the claim not asked at N = 4
    alone = prove_module.prove(
        "okx", "no-negative-equity", attrs.evolve(bounds, accounts=2, effort=3_500_000), minimize=False, transfers=False
    )
    assert sum(q.units for q in tagged) == alone.units
    assert result.units <= 4_000_000


@pytest.mark.deep  # the mutated N = 2 question: 8 s at load 3-5
@pytest.mark.parametrize(("preset", "name", "mutated"), MUTATIONS)
def test_a_one_token_change_is_refuted_at_four_traders(monkeypatch, preset: str, name: str, mutated) -> None:
    """The bankruptcy price rounded down, or a short's price leaving the fee out: the lemmas' book
    refutes it, and the story on two traders is one within N = 4's bounds."""
    monkeypatch.setattr(adl_module, name, mutated)
    result = prove_module.prove(preset, "no-negative-equity", Bounds(accounts=4, events=1, effort=10_000_000))
    assert result.verdict is Verdict.REFUTED, result.summary()
    assert result.counterexample is not None and result.counterexample.obligation == "no-negative-equity"
    assert result.scope.accounts == 4


@pytest.mark.parametrize("accounts", [3, 4])
@pytest.mark.parametrize("claim", ["deficit-charged-once", "waterfall-order"])
def test_gen_bs_per_call_claims_ask_the_lemmas_book_first(monkeypatch, claim: str, accounts: int) -> None:
    """percolator Gen B's two per-call claims (their all-N argument by the sweep's turns,
    solver/side_deficit.py) at N > 2, one move: the lemmas' book first, as Gen B's fund; at N = 4 (10M)
    the N = 4 claim question's build alone (12,324 steps) outlasted what the lemmas' book left it
    (docs/solver-notes.md#gen-bs-per-call-claims-on-the-lemmas-book-first-session-23)."""
    calls = _asked(monkeypatch, "percolator-gen-b", claim, Bounds(accounts=accounts, events=1, effort=8_000))
    assert calls[:2] == [(accounts, True, 8_000), (2, False, 7_000)]


@pytest.mark.parametrize(
    ("preset", "claim", "bounds"),
    [
        ("percolator-gen-b", "waterfall-order", Bounds(accounts=3, events=2, effort=8_000)),  # K > 1: as before
        ("percolator-gen-b", "deficit-charged-once", Bounds(accounts=3, events=2, effort=8_000)),
        ("percolator-gen-a", "waterfall-order", Bounds(accounts=4, events=1, effort=8_000)),  # not Gen B's waterfall
        ("binance", "waterfall-order", Bounds(accounts=4, events=1, effort=8_000)),
    ],
)
def test_other_per_call_cells_keep_their_order(monkeypatch, preset: str, claim: str, bounds: Bounds) -> None:
    assert (2, False, 7_000) not in _asked(monkeypatch, preset, claim, bounds)


def _own_pass_exact_first(monkeypatch, preset: str, claim: str, bounds: Bounds) -> list[bool]:
    """``exact_first`` of each bounded question ``prove`` asks where the all-N argument held (a stand-in
    Extension: what the route reads of it), each built out of units at once (nothing asked)."""
    from solvent.solver import compositional

    held = compositional.Extension("stand-in", (), ())
    monkeypatch.setattr(prove_module, "_attempt", lambda *a, **k: held)
    seen: list[bool] = []
    real = prove_module._bounded

    def bounded(policy, invariant, bounds, units=None, **options):
        seen.append(options.get("exact_first", False))
        return real(policy, invariant, bounds, 1, **options)

    monkeypatch.setattr(prove_module, "_bounded", bounded)
    prove_module.prove(preset, claim, bounds, minimize=False)
    return seen


@pytest.mark.parametrize("claim", ["deficit-charged-once", "waterfall-order"])
def test_on_the_lemmas_book_gen_bs_per_call_claims_are_asked_exact_first(monkeypatch, claim: str) -> None:
    # the exact phase decides them there (deficit-charged-once 1,125,006 units, after 2.4M of purified before)
    book = Bounds(accounts=2, events=1, effort=8_000)
    assert _own_pass_exact_first(monkeypatch, "percolator-gen-b", claim, book) == [True]


@pytest.mark.parametrize(
    ("preset", "claim", "bounds"),
    [
        ("percolator-gen-a", "waterfall-order", Bounds(accounts=2, events=1, effort=8_000)),
        ("binance", "waterfall-order", Bounds(accounts=2, events=1, effort=8_000)),
        ("percolator-gen-b", "conservation", Bounds(accounts=2, events=1, effort=8_000)),
    ],
)
def test_elsewhere_the_own_pass_keeps_its_portfolio(monkeypatch, preset: str, claim: str, bounds: Bounds) -> None:
    assert not any(_own_pass_exact_first(monkeypatch, preset, claim, bounds))

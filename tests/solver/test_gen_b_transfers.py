"""Percolator Gen B's non-negative transfers for every N (``solver.gen_b_transfers``,
``claims_backed.gen_b_transfers_every_n``, ``dust_lemma.side_dust_lemma``;
docs/solver-notes.md#gen-bs-non-negative-transfers-for-every-n-session-24).

Gen B's flat-accounts-never-pay at N = 4 was proved for every N with its transfers open (their N = 4
build needs more than the question left). The transfers by the step's phases: around the turns as on two
traders, and each turn's three runs (the turn with the cascade left out, a cascade resolution, the
write-off) on three free traders, each split's dust by a lemma for any number of payers.

Mutants (one token each): the side index's share rounded down (``charge_k_up``'s ``Rounding.CEIL`` →
``Rounding.FLOOR``) and its index step rounded down leave the side dust lemma unproved (a step has a
model), so the resolutions' dust is covered by no lemma and the argument stops; the haircut's payer
weight signed (``profit``'s floor at 0 dropped) gives the write-off a model; the fund paying what it
holds above its floor unfloored (``pay_from``'s ``max_(…, 0)`` dropped) gives the write-off, the
cascade resolution and the turn a model (the signed haircut weight on the cascade resolution: undecided within 2M
units, not kept); the write-off's pro-rata split rounded down leaves its dust uncovered, and that
dust transfer alone has a model.
"""

from __future__ import annotations

import inspect
import textwrap

import pytest
import z3

import solvent.rules.bankruptcy as bankruptcy_module
import solvent.rules.haircut_ratio as haircut_ratio_module
import solvent.rules.insurance_fund as insurance_fund_module
import solvent.rules.side_index as side_index_module
from solvent.rules import pro_rata
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.margin import equity
from solvent.rules.presets import resolve_policy
from solvent.solver import claims_backed, dust_lemma, effort, exact_split_lemma, gen_b_transfers, wall
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.compositional import _Checker, _Failed
from solvent.solver.story import symbolic_book
from solvent.solver.symbolic import transfer_obligations
from solvent.solver.verdicts import TRANSFERS, Verdict

UNITS = 2_000_000
GEN_B = "percolator-gen-b"
TURN, CASCADE, WRITE_OFF = (run for _, run in gen_b_transfers.RUNS)


def _bounds(preset: str = GEN_B, accounts: int = 4, events: int = 1) -> Bounds:
    return for_policy(Bounds(accounts=accounts, events=events, effort=UNITS), resolve_policy(preset))


def _lemma(run, trader: str = "alice", units: int = UNITS) -> str:
    """One run's lemma on the free three-trader book, z3 exact: "unsat" where it holds."""
    policy = resolve_policy(GEN_B)
    with effort.question():
        book, _ = symbolic_book(Bounds(accounts=gen_b_transfers.TRADERS, events=1))
        premise, claim = gen_b_transfers.question(policy, run, book, trader, {})
        return wall.check([*premise, z3.Not(claim)], [], units, 300.0).result


def _alone(run, reason: Reason) -> str:
    """The run's transfers of ``reason`` alone, from the mark a price and no dust fact: "sat" where one
    may move a negative amount."""
    policy = resolve_policy(GEN_B)
    with effort.question():
        book, _ = symbolic_book(Bounds(accounts=gen_b_transfers.TRADERS, events=1))
        ctx = run(policy, book, "alice")
        mine = Ctx(book, entries=tuple(e for e in ctx.entries if e.item.reason is reason))
        claim = z3.And(*transfer_obligations(mine))
        return wall.check([book.market.mark_quote >= 1, z3.Not(claim)], [], UNITS, 60.0).result


@pytest.fixture
def fresh_dust_lemmas():
    """The dust lemmas' verdicts are kept per process: cleared before and after a mutant's asking."""
    for cache in (dust_lemma._verdict, dust_lemma._fits, dust_lemma._side_verdict, dust_lemma._side_fits):
        cache.cache_clear()
    yield
    for cache in (dust_lemma._verdict, dust_lemma._fits, dust_lemma._side_verdict, dust_lemma._side_fits):
        cache.cache_clear()


def _mutated(module, function, old: str, new: str):
    source = textwrap.dedent(inspect.getsource(function))
    assert source.count(old) == 1
    namespace = dict(vars(module))
    exec(compile(source.replace(old, new), module.__file__, "exec"), namespace)  # noqa: S102
    return namespace[function.__name__]


def test_the_side_dust_lemma_holds_for_any_number_of_payers(fresh_dust_lemmas) -> None:
    """Each of its four steps unsat (z3, exact, on free integers), and the engine's ``charge_k_up`` the
    same chain at 1 to 9 payers."""
    lemma = dust_lemma.side_dust_lemma()
    assert lemma.verdict is Verdict.PROVED and [s.result for s in lemma.steps] == ["unsat"] * 4
    assert all(dust_lemma.side_fits(k) for k in range(1, 10))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "share = div(w * delta_k, SCALE, rounding=Rounding.CEIL)",
            "share = div(w * delta_k, SCALE, rounding=Rounding.FLOOR)",
        ),
        (
            "delta_k = div(target * SCALE, safe_divisor(oi), rounding=Rounding.CEIL)",
            "delta_k = div(target * SCALE, safe_divisor(oi), rounding=Rounding.FLOOR)",
        ),
    ],
)
def test_the_side_charge_rounded_down_leaves_the_side_lemma_unproved(monkeypatch, fresh_dust_lemmas, old, new) -> None:
    """A share or the index step rounded down: the dust may be negative, and a step of the chain has a
    model (the lemma gives no fact: the resolutions' dust is then covered by no lemma)."""
    mutant = _mutated(side_index_module, side_index_module.charge_k_up, old, new)
    monkeypatch.setattr(side_index_module, "charge_k_up", mutant)
    lemma = dust_lemma.side_dust_lemma()
    assert lemma.verdict is Verdict.UNKNOWN and lemma.steps[-1].result == "sat"


def test_the_write_off_moves_no_negative_amount() -> None:
    """The write-off's lemma unsat: the fund pays what it holds above its floor, the haircut at most the
    payers' matured profit, whatever the pools' and the payers' signs before."""
    assert _lemma(WRITE_OFF) == "unsat"


def test_a_haircut_over_signed_profit_breaks_the_write_off(monkeypatch) -> None:
    """``profit``'s floor at 0 dropped (a payer with a loss weighs negative): a negative share."""
    monkeypatch.setattr(
        haircut_ratio_module, "profit", lambda rule, account: equity(rule, account) - account.principal_quote
    )
    assert _lemma(WRITE_OFF) == "sat"


def test_a_fund_below_its_floor_paying_breaks_the_write_off(monkeypatch) -> None:
    """``pay_from``'s ``max_(cash − floor, 0)`` → ``cash − floor``: a fund below its floor pays a negative amount."""
    _unfloored_fund(monkeypatch)
    assert _lemma(WRITE_OFF) == "sat"


def _unfloored_fund(monkeypatch) -> None:
    mutant = _mutated(
        insurance_fund_module,
        insurance_fund_module.pay_from,
        "available = max_(ctx.book.account(source).cash_quote - floor, 0)",
        "available = ctx.book.account(source).cash_quote - floor",
    )
    monkeypatch.setattr(insurance_fund_module, "pay_from", mutant)
    monkeypatch.setattr(bankruptcy_module, "pay_from", mutant)


def test_the_write_offs_split_rounded_down_leaves_its_dust_uncovered(monkeypatch, fresh_dust_lemmas) -> None:
    """``pro_rata.charge``'s ``Rounding.CEIL if up`` → ``Rounding.FLOOR if up``: the dust lemma no longer
    holds, so the write-off's dust is a lemma's for no number of payers (the question refuses it), and
    that dust transfer alone may move a negative amount."""
    mutant = _mutated(pro_rata, pro_rata.charge, "direction = Rounding.CEIL if up", "direction = Rounding.FLOOR if up")
    monkeypatch.setattr(haircut_ratio_module, "charge", mutant)
    monkeypatch.setattr(exact_split_lemma, "charge", mutant)
    with pytest.raises(ValueError, match="not a dust lemma's for any number of payers"):
        _lemma(WRITE_OFF)
    assert _alone(WRITE_OFF, Reason.PRO_RATA_DUST) == "sat"


@pytest.mark.deep
@pytest.mark.parametrize("run", [CASCADE, TURN], ids=["cascade resolution", "turn"])
def test_a_fund_below_its_floor_paying_breaks_the_turns_runs(monkeypatch, run) -> None:
    """The cascade's resolution of a sunk trader and bob's turn with the cascade left out (the fund, the
    side charge, the haircut; the turn's liquidation and write-off too) hold, and with ``pay_from``'s
    floor at 0 dropped a fund below its floor pays a negative amount (the turn's model at 2,693,639 units)."""
    assert _lemma(run, "bob") == "unsat"
    _unfloored_fund(monkeypatch)
    assert _lemma(run, "bob", units=4_000_000) == "sat"


@pytest.mark.parametrize(
    ("preset", "changes"),
    [("drift", {}), (GEN_B, {"events": 3}), (GEN_B, {"accounts": 2}), ("percolator-gen-a", {})],
)
def test_the_argument_covers_gen_b_at_one_move_on_a_larger_book(preset: str, changes: dict) -> None:
    """Not Drift's route (its own argument), not K > 1, not the lemmas' own book, not Gen A (no write-off,
    no per-lot charge of the opposing side): refused with no query."""
    bounds = _bounds(preset, **changes)
    with effort.question():
        checker = _Checker(bounds, units=UNITS)
        with pytest.raises(_Failed):
            claims_backed.gen_b_transfers_every_n(resolve_policy(preset), bounds, checker)
    assert checker.queries == []
    assert claims_backed._by_gen_b(resolve_policy(preset), bounds) is False


@pytest.mark.deep
@pytest.mark.parametrize("accounts", [4, 8])
def test_the_transfers_are_proved_for_every_n_on_gen_b(accounts: int) -> None:
    """The argument at N = 4 and N = 8 (the same lemmas, nothing built at N): the obligation all N with
    its assumption; the three runs asked for alice, bob's and carol's by renaming; both dust lemmas."""
    bounds = _bounds(accounts=accounts)
    every = claims_backed.transfers_for_every_n(resolve_policy(GEN_B), bounds, 10_000_000)
    assert every.obligation is not None and every.obligation.obligation == TRANSFERS
    assert every.obligation.scope.accounts is None and every.obligation.scope.assumes == gen_b_transfers.ASSUMES
    asked = [q for q in every.queries if q.units]
    assert [q.result for q in asked] == ["unsat"] * 3 + ["unsat (every step)"] * 2
    renamed = [q for q in every.queries if q.result.startswith("an instance of alice's")]
    assert len(renamed) == 6

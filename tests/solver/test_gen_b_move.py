"""Percolator Gen B's premise over moves kept by a whole mark move (``solver.gen_b_move``, session 26;
docs/solver-notes.md#gen-bs-premise-over-a-whole-move-session-26).

Default: the premise over moves (``side_payer.OVER_MOVES``) is what the one-move argument's settlement and turns'
start read (each unsat from it; one condition less, a model: the premise's mutants); the close keeps every
position, every pool's cash and the marks (its mutant: a close that pays out of the fund); a whole move keeps the
marks and leaves the fee account and the backstop vault (its mutants: a close charging the fee account; the
premise without the marks; deep, the penalty paid to the fee account); for the record, the close re-bases
principal from any state (its mutant: a close without ``settle_losses``) and a move keeps counts and no debt (its
mutant: without them before). Exact z3 on the engine's own functions."""

from __future__ import annotations

import contextlib

import attrs
import pytest

import solvent.rules.engine as engine
from solvent.rules.ledger import Reason
from solvent.rules.liquidation import Recipient
from solvent.rules.presets import resolve_policy
from solvent.solver import compositional, gen_b_move, gen_b_payer, side_payer
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.compositional import _Checker

GEN_B = resolve_policy("percolator-gen-b")
AT_MAINTENANCE = for_policy(Bounds(accounts=2, events=1, effort=10_000_000, start_margin="maintenance"), GEN_B)
WORTH = "traders worth at least zero"


def _asked(run) -> list[str]:
    checker = _Checker(AT_MAINTENANCE)

    def ask(name, premise, claim, **_):
        with contextlib.suppress(compositional._Failed):  # (a model: "sat")
            checker.valid(name, premise, claim, exact=True)
        return name

    run(ask)
    return [q.result for q in checker.queries]


def test_a_close_that_charges_the_fee_account_touches_it(monkeypatch) -> None:
    """Mutant of the engine's close: one quantum from a trader to the fee account at the end of every event."""
    closing = engine.closing

    def charging(policy, ctx):
        ctx = closing(policy, ctx)
        return ctx.transfer(ctx.book.traders[0].name, "fee_account", 1, Reason.TRADING_FEE)

    monkeypatch.setattr(engine, "closing", charging)
    assert _asked(lambda ask: gen_b_move.step_lemmas(GEN_B, AT_MAINTENANCE, ask)) == ["unsat", "sat", "unsat"]


def _start() -> list[tuple]:
    """The maintenance pass's queries that read the start: the settlement's and the turns' start's."""
    out = []
    with side_payer.premise_over_moves(), side_payer.bound_margin("maintenance"):
        for _, _, _, parts in side_payer.settle_parts(GEN_B, AT_MAINTENANCE):
            out += parts
        for _, _, _, parts in gen_b_payer.turns_start_parts(GEN_B, AT_MAINTENANCE):
            out += parts
    return out


def _parts(parts) -> list[str]:
    return _asked(lambda ask: [ask(said, premise, claim) for said, premise, claim in parts])


def test_the_premise_over_moves_is_what_the_settlement_and_the_turns_start_read() -> None:
    # each trader's E − s·d above its maintenance margin and its position kept; the fund, the reachable book
    assert _parts(_start()) == ["unsat"] * 6


@pytest.mark.parametrize(
    ("dropped", "broken"),
    [
        (WORTH, 0),  # a flat trader below zero settles below its floor of 0
        ("pools non-negative", 4),  # the fund below zero at the turns' start
        ("open interest balanced", 5),  # the book not reachable
    ],
)
def test_the_premise_over_moves_without_a_condition_it_reads(monkeypatch, dropped: str, broken: int) -> None:
    """Mutants of the premise: one condition less, the query that reads it has a model."""
    monkeypatch.setattr(side_payer, "OVER_MOVES", tuple(c for c in side_payer.OVER_MOVES if c != dropped))
    monkeypatch.setattr(side_payer, "start_assumptions", _fewer(side_payer.start_assumptions))
    assert _parts(_start()[broken : broken + 1]) == ["sat"]


def _fewer(start_assumptions):
    """``start_assumptions`` that reads the patched ``OVER_MOVES`` (its length check is the original's)."""

    def fewer(policy, book, bounds):
        from solvent.solver.assumptions import book_assumptions

        if not side_payer._over_moves.get():
            return book_assumptions(policy, book, bounds)
        return [a for a in book_assumptions(policy, book, bounds) if a.name in side_payer.OVER_MOVES]

    return fewer


def test_a_condition_the_well_formed_book_does_not_hold_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(side_payer, "OVER_MOVES", (*side_payer.OVER_MOVES, "no such condition"))
    with pytest.raises(ValueError, match="premise over moves"), side_payer.premise_over_moves():
        side_payer.start_assumptions(GEN_B, side_payer.free_book(), AT_MAINTENANCE)


def test_the_close_keeps_every_position_every_pool_and_the_marks() -> None:
    assert _asked(lambda ask: gen_b_move.close_lemma(GEN_B, ask)) == ["unsat"]


def test_a_close_that_pays_out_of_the_fund_does_not_keep_it(monkeypatch) -> None:
    """Mutant of the close: after_sweep pays one quantum out of the fund to a trader."""

    def paying(policy, ctx):
        return ctx.transfer("insurance_fund", ctx.book.traders[0].name, 1, Reason.INSURANCE_FUND)

    monkeypatch.setattr(gen_b_move, "after_sweep", paying)
    assert _asked(lambda ask: gen_b_move.close_lemma(GEN_B, ask)) == ["sat"]


def test_a_move_keeps_the_marks_and_leaves_the_other_pools() -> None:
    assert _asked(lambda ask: gen_b_move.step_lemmas(GEN_B, AT_MAINTENANCE, ask)) == ["unsat"] * 3


def test_the_premise_without_the_marks_does_not_give_them_after_a_move(monkeypatch) -> None:
    """Mutant of the premise: without "marks positive", the previous mark after the move (the old mark) is free."""
    marks = side_payer.OVER_MOVES[0]
    monkeypatch.setattr(side_payer, "OVER_MOVES", side_payer.OVER_MOVES[1:])
    monkeypatch.setattr(side_payer, "start_assumptions", _fewer(side_payer.start_assumptions))
    assert marks.startswith("marks")
    assert _asked(lambda ask: gen_b_move.step_lemmas(GEN_B, AT_MAINTENANCE, ask))[0] == "sat"


@pytest.mark.deep  # the model costs 750,582 units, 3.2 s at load 4 (session 26)
def test_the_penalty_paid_to_the_fee_account_touches_it() -> None:
    """Mutant of the policy, one token: the liquidation penalty's recipient the fee account (Gen B's is the fund)."""
    assert GEN_B.liquidation.penalty_recipient is Recipient.INSURANCE_FUND
    liquidation = attrs.evolve(GEN_B.liquidation, penalty_recipient=Recipient.FEE_ACCOUNT)
    mutant = attrs.evolve(GEN_B, liquidation=liquidation)
    assert _asked(lambda ask: gen_b_move.step_lemmas(mutant, AT_MAINTENANCE, ask)) == ["unsat", "sat", "unsat"]


def test_the_close_rebases_principal_from_any_state() -> None:
    """For the record (the premise over moves holds neither): after every move each trader's principal is at most
    ``max(E, 0)`` and a flat one's equals it, the numbers the close reads free (2 conditions x 2 traders)."""
    assert _parts(gen_b_move.rebased_parts(GEN_B, AT_MAINTENANCE, pytest.fail)) == ["unsat"] * 4


def test_a_close_without_settling_losses_leaves_principal_above_equity(monkeypatch) -> None:
    """Mutant of the engine's close: ``settle_losses`` (the re-base into capital) left out."""
    monkeypatch.setattr(engine, "settle_losses", lambda policy, ctx: ctx)
    assert _parts(gen_b_move.rebased_parts(GEN_B, AT_MAINTENANCE, pytest.fail)) == ["sat"] * 4


def test_a_move_keeps_counts_and_no_debt() -> None:
    """For the record: from the premise and the condition before, each after the move (2 conditions x 2 traders)."""
    assert _parts(gen_b_move.kept_parts(GEN_B, AT_MAINTENANCE)) == ["unsat"] * 4


def test_counts_not_given_before_a_move_are_not_given_after() -> None:
    """Mutant of the premise: without the condition before (a trader's spot or withdrawals free), a model."""
    assert _parts(gen_b_move.kept_parts(GEN_B, AT_MAINTENANCE, before=False))[0] == "sat"

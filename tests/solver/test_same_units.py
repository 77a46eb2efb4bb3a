"""The same z3 question spends the same units in every process (session 28,
docs/solver-notes.md#the-same-question-the-same-units-in-every-process-session-28).

The cause found: z3's default solver (``z3.Solver()``), asked once without a ``push``, hands its goal
to z3's own strategy for the goal's logic, and for nonlinear integer goals that strategy tries the
SMT core for 2,000 ms and nlsat for 3,000 ms of wall clock before the SMT core again: how far an
attempt got before its clock cut it moved the units with the machine's load (the vault's restore
lemma, tests/solver/test_vault_funding_restore.py: 19.9-20.7M units, or out at 30M, between processes
on the same SMT-LIB text and the same term numbers). Every check Solvent asks is on z3's SMT core
(``effort.smt_core``), which reads no clock but the safety net.

Here a small question of the lemma's kind (products of unknowns, a division rounded down, an ``if``)
is asked in two fresh processes with different hash seeds and here after another question: the same
answer and units to the unit; and z3's own trace shows that the check never entered that strategy,
where the same question on ``z3.Solver()`` (the cause put back) does.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys

import pytest
import z3

from solvent.solver import effort

UNITS = 2_000_000


def small_question() -> list:
    """Can one funding payment within a 4% cap (rounded down) take below zero a position whose cash
    covers 4% of its notional? (No: unsat.) A question of its own, on the solver every check of
    Solvent's uses: its answer and units."""
    with effort.question():
        size, mark, rate, cash = z3.Ints("size mark rate cash")
        solver = effort.smt_core()
        solver.add(size >= -1_000_000, size <= 1_000_000, mark >= 1, mark <= 10**9, rate >= -40_000, rate <= 40_000)
        paid = (size * mark * rate) / 1_000_000
        solver.add(cash >= 0, cash * 25 >= z3.If(size >= 0, size, -size) * mark, cash - paid < 0)
        solved = effort.solve(solver, UNITS, 60.0)
        return [solved.result, solved.units]


def _in_fresh_processes(seeds: tuple[str, ...]) -> list[list]:
    """:func:`small_question` in fresh interpreters, one a hash seed, at once; the program is the
    function's own source, so a child imports z3 and ``effort`` only (not pytest)."""
    program = (
        "import json\nimport z3\nfrom solvent.solver import effort\n"
        f"UNITS = {UNITS}\n{inspect.getsource(small_question)}print(json.dumps(small_question()))\n"
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", program],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        for seed in seeds
    ]
    answers = []
    for child in children:
        out, err = child.communicate()
        assert child.returncode == 0, err
        answers.append(json.loads(out))
    return answers


def test_a_question_spends_the_same_units_in_two_processes_and_after_another_question() -> None:
    with effort.question():  # another question first, in this process
        x = z3.Int("x")
        other = effort.smt_core()
        other.add(x * x * x == 343, x > 0)
        assert effort.solve(other, UNITS, 60.0).result == "sat"
    here = small_question()
    assert here[0] == "unsat" and 0 < here[1] < UNITS
    assert _in_fresh_processes(("1", "2")) == [here, here]


@pytest.fixture
def z3_trace(capfd):
    """z3's verbose trace (written by its C++ to the process's stderr) of the block."""
    z3.set_param("verbose", 2)
    try:
        yield lambda: capfd.readouterr().err
    finally:
        z3.set_param("verbose", 0)


def test_no_check_enters_z3s_own_strategy_for_its_logic(z3_trace, monkeypatch) -> None:
    """z3 names the strategy it runs in its trace: none in incremental mode, where z3 asks its SMT core;
    with the check asked in non-incremental mode (the cause put back: ``effort.incremental_mode`` a
    no-op) the nonlinear integer strategy, whose attempts the clock cuts."""
    z3_trace()
    assert small_question()[0] == "unsat"
    assert "qfnia" not in z3_trace()
    monkeypatch.setattr(effort, "incremental_mode", lambda solver: None)
    assert small_question()[0] == "unsat"
    assert "(qfnia-tactic)" in z3_trace()

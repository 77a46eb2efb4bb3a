"""A question's units do not depend on what the process asked z3 before
(docs/solver-notes.md#units-independent-of-process-history-session-21).

Each test asks a question here after a fixed history of other z3 work in this process, and the same
question alone in a fresh interpreter, and compares the answers field for field (seconds aside).
Before session 21 the solver's exact child (``solver.wall``) parsed its text into the context it
inherited, and outside a question that was the process's shared one: two factors of 391 took 19,268
units in a fresh process and 1,001 after one nonlinear check; Drift's per-liquidation lemma took
10,260 alone and 10,357 after three other presets' arguments.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import z3

from solvent.properties import catalog
from solvent.rules.presets import resolve_policy
from solvent.solver import compositional, effort, wall
from solvent.solver.bounds import Bounds

ONE_MOVE = Bounds(accounts=2, events=1, effort=10_000_000)


def factor_cell() -> list:
    """Two factors of 391 through the exact child, outside any question: answer, model, units."""
    x, y = z3.Ints("x y")
    answer = wall.check([x * y == 391, x > 1, y > 1, x < y], [x, y], 10_000_000, 60.0)
    return [answer.result, answer.values, answer.units]


def drift_liquidation_lemma() -> list:
    """Drift's all-N liquidation argument asked straight (as tests and ``bench_proof --each-trader``
    ask it), outside any question: every query's name, answer and units."""
    found = compositional.attempt(resolve_policy("drift"), catalog.get("liquidation-only-below-maintenance"), ONE_MOVE)
    return [[q.name, q.result, q.units] for q in found.queries]


def _in_a_fresh_process(function: str) -> list:
    program = (
        f"import json\nfrom tests.solver.test_process_history import {function}\nprint(json.dumps({function}()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, env=dict(os.environ)
    )
    return json.loads(done.stdout)


def _nonlinear_history() -> None:
    """z3 work in the process's shared context: a nonlinear check here and one in the child."""
    z = z3.Int("z")
    solver = z3.Solver()
    solver.add(z * z == 49, z > 0)
    assert solver.check() == z3.sat
    assert wall.check([z * z * z == 343], [z], 1_000_000, 60.0).result == "sat"


def test_the_exact_child_answers_outside_a_question_as_in_a_fresh_process() -> None:
    _nonlinear_history()
    here = factor_cell()
    assert here[:2] == ["sat", {"x": 17, "y": 23}]
    assert json.loads(json.dumps(here)) == _in_a_fresh_process("factor_cell")


def test_an_argument_asked_straight_after_others_spends_what_it_spends_alone() -> None:
    _nonlinear_history()
    for preset in ("binance", "okx-2018", "mango-v4"):
        compositional.attempt(resolve_policy(preset), catalog.get("liquidation-only-below-maintenance"), ONE_MOVE)
    here = drift_liquidation_lemma()
    assert [q[1] for q in here] == ["unsat"] and here[0][2] > 0
    assert json.loads(json.dumps(here)) == _in_a_fresh_process("drift_liquidation_lemma")


def test_an_argument_asked_straight_is_a_question_of_its_own_and_inside_one_a_part_of_it(monkeypatch) -> None:
    seen: list[tuple[bool, object]] = []

    def argument(policy, bounds, checker) -> list[str]:  # noqa: ANN001
        import z3.z3 as api

        seen.append((effort.asking(), api._main_ctx))
        return []

    monkeypatch.setitem(compositional.ARGUMENTS, "conservation", argument)
    policy, claim = resolve_policy("binance"), catalog.get("conservation")
    compositional.attempt(policy, claim, ONE_MOVE)
    with effort.question():
        z3.Int("made_in_the_outer_question")  # the outer question's context exists
        import z3.z3 as api

        outer = api._main_ctx
        compositional.attempt(policy, claim, ONE_MOVE)
    assert seen[0][0] and seen[1] == (True, outer)

"""A solver check in a child process: within its units, under a hard wall-clock safety net.

z3's nonlinear arithmetic does not always look at its own limits
(docs/solver-notes.md#hard-process-kill recommends a hard process kill). :func:`check` sends the
assertions as SMT-LIB text to a forked child, which checks them within the caller's units
(``solvent.solver.effort``: the answer that decides is deterministic); the parent kills the child
only at the safety net plus a second of grace, and says so. A sat answer comes back as the values
of the variables the caller names.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence

import attrs
import z3

from solvent.solver import effort

GRACE_S = 1.0


@attrs.frozen
class WallAnswer:
    """``result`` is ``sat``, ``unsat`` or ``unknown``; ``values`` the named variables' values."""

    result: str
    reason: str = ""
    values: dict[str, int] = attrs.field(factory=dict)
    seconds: float = 0.0
    #: the units z3 spent (``solvent.solver.effort``)
    units: int = 0


def _child(text: str, names: list[str], units: int, safety_s: float, out: multiprocessing.Queue) -> None:
    solver = z3.Solver()
    solver.push()  # incremental mode: the SMT core with its nonlinear module (see query.py)
    solver.add(z3.parse_smt2_string(text))
    solved = effort.solve(solver, units, safety_s)
    if solved.result == "sat":
        model = solver.model()
        consts = {str(d): d for d in model.decls()}
        values = {n: model[consts[n]].as_long() for n in names if n in consts}
        out.put(("sat", "", values, solved.units))
    elif solved.result == "unsat":
        out.put(("unsat", "", {}, solved.units))
    else:
        out.put(("unknown", solved.reason, {}, solved.units))


def check(assertions: Sequence[z3.BoolRef], variables: Sequence[z3.ExprRef], units: int, safety_s: float) -> WallAnswer:
    """Check ``assertions`` in a child process within ``units``; killed at ``safety_s`` plus a
    second of grace (an UNKNOWN that says the safety net fired)."""
    started = time.perf_counter()
    solver = z3.Solver()
    solver.add(*assertions)
    text = solver.to_smt2()
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_child, args=(text, [str(v) for v in variables], units, safety_s, out), daemon=True)
    child.start()
    deadline = started + safety_s + GRACE_S
    answer = None
    while answer is None and time.perf_counter() < deadline:
        try:
            answer = out.get(timeout=min(0.05, max(deadline - time.perf_counter(), 0.001)))
        except Exception:  # queue.Empty: still working
            if not child.is_alive() and out.empty():
                break
    if child.is_alive():
        child.kill()
    child.join()
    elapsed = time.perf_counter() - started
    if answer is None:
        return WallAnswer("unknown", effort.safety_net_reason(elapsed) + " (the child was killed)", seconds=elapsed)
    result, reason, values, spent = answer
    return WallAnswer(result, reason, values, elapsed, spent)


def evaluator(values: dict[str, int], variables: Sequence[z3.ExprRef]):
    """An evaluator (as ``solvent.solver.symbolic`` expects) substituting the values, 0 if absent."""
    pairs = [(v, z3.IntVal(values.get(str(v), 0))) for v in variables]

    def evaluate(term: z3.ExprRef) -> z3.ExprRef:
        return z3.simplify(z3.substitute(term, *pairs)) if pairs else z3.simplify(term)

    return evaluate


__all__ = ["WallAnswer", "check", "evaluator"]

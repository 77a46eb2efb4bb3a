"""A solver check with a hard wall-clock limit: z3 in a child process, killed when time is up.

z3's nonlinear arithmetic does not always look at its own timeout (docs/solver-notes.md#hard-process-kill recommends a hard
process kill). :func:`check` sends the assertions as SMT-LIB text to a forked child, which
checks them with the same timeout; the parent kills the child at the deadline plus a second of
grace. A sat answer comes back as the values of the variables the caller names.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence

import attrs
import z3

GRACE_S = 1.0


@attrs.frozen
class WallAnswer:
    """``result`` is ``sat``, ``unsat`` or ``unknown``; ``values`` the named variables' values."""

    result: str
    reason: str = ""
    values: dict[str, int] = attrs.field(factory=dict)
    seconds: float = 0.0


def _child(text: str, names: list[str], timeout_ms: int, out: multiprocessing.Queue) -> None:
    solver = z3.Solver()
    solver.set(timeout=timeout_ms)
    solver.push()  # incremental mode: the SMT core with its nonlinear module (see query.py)
    solver.add(z3.parse_smt2_string(text))
    result = solver.check()
    if result == z3.sat:
        model = solver.model()
        consts = {str(d): d for d in model.decls()}
        values = {n: model[consts[n]].as_long() for n in names if n in consts}
        out.put(("sat", "", values))
    elif result == z3.unsat:
        out.put(("unsat", "", {}))
    else:
        out.put(("unknown", solver.reason_unknown(), {}))


def check(assertions: Sequence[z3.BoolRef], variables: Sequence[z3.ExprRef], timeout_ms: int) -> WallAnswer:
    """Check ``assertions`` in a child process; at most ``timeout_ms`` plus a second of grace."""
    started = time.perf_counter()
    solver = z3.Solver()
    solver.add(*assertions)
    text = solver.to_smt2()
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_child, args=(text, [str(v) for v in variables], timeout_ms, out), daemon=True)
    child.start()
    deadline = started + timeout_ms / 1000 + GRACE_S
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
        return WallAnswer("unknown", "timeout (killed at the wall-clock limit)", seconds=elapsed)
    result, reason, values = answer
    return WallAnswer(result, reason, values, elapsed)


def evaluator(values: dict[str, int], variables: Sequence[z3.ExprRef]):
    """An evaluator (as ``solvent.solver.symbolic`` expects) substituting the values, 0 if absent."""
    pairs = [(v, z3.IntVal(values.get(str(v), 0))) for v in variables]

    def evaluate(term: z3.ExprRef) -> z3.ExprRef:
        return z3.simplify(z3.substitute(term, *pairs)) if pairs else z3.simplify(term)

    return evaluate


__all__ = ["WallAnswer", "check", "evaluator"]

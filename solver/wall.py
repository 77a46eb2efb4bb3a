"""A solver check in a child process: within its units, under a hard wall-clock safety net.

z3's nonlinear arithmetic does not always look at its own limits
(docs/solver-notes.md#hard-process-kill recommends a hard process kill). :func:`check` sends the
assertions as SMT-LIB text to a child process, which checks them within the caller's units
(``solvent.solver.effort``: the answer that decides is deterministic); the parent kills the child
only at the safety net plus a second of grace, and says so. A sat answer comes back as the values
of the variables the caller names.

Two ways to start the child, one check (:func:`_solve`) in both:

- **forked** (``multiprocessing``'s fork context), where the caller may have children: nothing to
  start, the child shares the parent's loaded modules;
- **spawned** (``python -m solvent.solver.wall``, a fresh interpreter through ``subprocess``: the
  request as JSON on its standard input, the answer on its standard output) inside a *daemonic*
  process, which ``multiprocessing`` forbids to have children: a Dask worker (``distributed``
  starts its workers daemonic by default) or a daemonic pool worker. A fresh interpreter also
  avoids forking a process whose other threads (a Dask worker's event loop, another task's z3) may
  hold a lock the child would need. Its start-up (importing z3, a fraction of a second, more on a
  loaded machine) is allowed :data:`STARTUP_S` on top of the safety net, which only a z3 call
  that stops counting ever reaches; the units still decide the answer.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import time
from collections.abc import Sequence

import attrs
import z3

from solvent.solver import effort

GRACE_S = 1.0
#: a spawned child's allowance for starting a Python interpreter and importing z3
STARTUP_S = 30.0


@attrs.frozen
class WallAnswer:
    """``result`` is ``sat``, ``unsat`` or ``unknown``; ``values`` the named variables' values."""

    result: str
    reason: str = ""
    values: dict[str, int] = attrs.field(factory=dict)
    seconds: float = 0.0
    #: the units z3 spent (``solvent.solver.effort``)
    units: int = 0


def _solve(text: str, names: list[str], units: int, safety_s: float) -> tuple[str, str, dict[str, int], int]:
    """The check itself, in the child: ``(result, reason, values, units spent)``."""
    context = z3.Context()  # a fresh one, so the answer and the units depend on the text alone
    solver = z3.Solver(ctx=context)
    solver.push()  # incremental mode: the SMT core with its nonlinear module (see query.py)
    solver.add(z3.parse_smt2_string(text, ctx=context))
    solved = effort.solve(solver, units, safety_s)
    if solved.result == "sat":
        model = solver.model()
        consts = {str(d): d for d in model.decls()}
        values = {n: model[consts[n]].as_long() for n in names if n in consts}
        return ("sat", "", values, solved.units)
    if solved.result == "unsat":
        return ("unsat", "", {}, solved.units)
    return ("unknown", solved.reason, {}, solved.units)


def _child(text: str, names: list[str], units: int, safety_s: float, out: multiprocessing.Queue) -> None:
    out.put(_solve(text, names, units, safety_s))


def may_fork() -> bool:
    """Whether this process may start a ``multiprocessing`` child: not a daemonic process."""
    return not multiprocessing.current_process().daemon


def _forked(text: str, names: list[str], units: int, safety_s: float, deadline: float) -> tuple | None:
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_child, args=(text, names, units, safety_s, out), daemon=True)
    child.start()
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
    return answer


def _spawned(text: str, names: list[str], units: int, safety_s: float, deadline: float) -> tuple | None:
    request = json.dumps({"text": text, "names": names, "units": units, "safety_s": safety_s})
    child = subprocess.Popen(  # noqa: S603 (this interpreter, this module)
        [sys.executable, "-m", "solvent.solver.wall"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = child.communicate(request, timeout=max(deadline + STARTUP_S - time.perf_counter(), 0.001))
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        return None
    if child.returncode != 0:  # not the safety net: the child could not check at all
        raise RuntimeError(f"the solver's child process failed (exit {child.returncode}): {err.strip()[-2000:]}")
    result, reason, values, spent = json.loads(out)
    return result, reason, values, spent


def check(assertions: Sequence[z3.BoolRef], variables: Sequence[z3.ExprRef], units: int, safety_s: float) -> WallAnswer:
    """Check ``assertions`` in a child process within ``units``; killed at ``safety_s`` plus a
    second of grace (an UNKNOWN that says the safety net fired). The child is forked, or spawned
    inside a daemonic process (the module docstring)."""
    started = time.perf_counter()
    solver = z3.Solver()
    solver.add(*assertions)
    text = solver.to_smt2()
    run = _forked if may_fork() else _spawned
    answer = run(text, [str(v) for v in variables], units, safety_s, started + safety_s + GRACE_S)
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


def main() -> None:
    """The spawned child: one request (JSON) on standard input, its answer (JSON) on standard output."""
    request = json.loads(sys.stdin.read())
    answer = _solve(request["text"], request["names"], request["units"], request["safety_s"])
    sys.stdout.write(json.dumps(answer))


__all__ = ["WallAnswer", "check", "evaluator", "may_fork"]


if __name__ == "__main__":
    main()

"""A solver check in a child process: within its units, under a hard wall-clock safety net.

z3's nonlinear arithmetic does not always look at its own limits
(docs/solver-notes.md#hard-process-kill recommends a hard process kill). :func:`check` sends the
assertions as SMT-LIB text to a forked child, which checks them within the caller's units
(``solvent.solver.effort``: the answer that decides is deterministic); the parent kills the child
only at the safety net plus a second of grace, and says so. A sat answer comes back as the values
of the variables the caller names.

The child is forked with ``os.fork`` and answers through a pipe, not through ``multiprocessing``:
``multiprocessing`` refuses any child to a *daemonic* process (``daemonic processes are not
allowed to have children``), and a Dask worker is one (distributed starts its workers daemonic by
default), as is a daemonic pool worker. A forked child shares the parent's loaded modules and its
z3 state, so it answers as the child of any other process in the same state would, wherever it
runs; the child only parses the text, checks it and writes the answer, then leaves with
``os._exit``. The text is parsed into the context the child inherits, where its terms meet the
same terms the parent built for this question, under their numbers: that context is the
question's own (``effort.question``, which every ``prove`` and every probe asks through), so the
answer is a function of the question. A check asked outside any question (a test, a benchmark
calling the solver's parts straight) is parsed into a fresh context instead, so its answer is a
function of its text, not of what the process built before (:func:`_solve`). (Parsed into a context of its own instead, the same text is
another problem to z3's simplifier: OKX 2018's fund for a 20% gap at 10% went from proved to
undecided within its units; docs/solver-notes.md#process-history.)
"""

from __future__ import annotations

import json
import multiprocessing
import os
import select
import signal
import time
import traceback
from collections.abc import Sequence

import attrs
import z3

from solvent.rules.ledger import InternalError
from solvent.solver import effort, incremental

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


def _solve(text: str, names: list[str], units: int, safety_s: float) -> tuple[str, str, dict[str, int], int]:
    """The check itself, in the child: ``(result, reason, values, units spent)``.

    Inside a question (the parent was asking one at the fork) the text is parsed into the
    question's context, which the child inherits: its answer is a function of the question.
    Outside one (a caller of ``check`` that asked no question) the inherited context is the
    process's shared one, full of whatever the process built and checked before, and z3's answer
    moved with it (two factors of 391: 19,268 units in a fresh process, 981 or 1,001 after other
    checks); so it is parsed into a fresh context, and the answer is a function of the text
    (docs/solver-notes.md#units-independent-of-process-history-session-21)."""
    if not effort.asking():
        effort.fresh_context()
    solver = incremental.solver()  # the parent's choice: the child inherits its context variables
    solver.push()  # incremental mode: the SMT core with its nonlinear module (see query.py)
    solver.add(z3.parse_smt2_string(text))
    solved = effort.solve(solver, units, safety_s)
    if solved.result == "sat":
        model = solver.model()
        consts = {str(d): d for d in model.decls()}
        values = {n: model[consts[n]].as_long() for n in names if n in consts}
        return ("sat", "", values, solved.units)
    if solved.result == "unsat":
        return ("unsat", "", {}, solved.units)
    return ("unknown", solved.reason, {}, solved.units)


def may_fork() -> bool:
    """Whether ``multiprocessing`` would let this process start a child (not a daemonic process);
    :func:`check` forks without it either way."""
    return not multiprocessing.current_process().daemon


class WallChildError(InternalError):
    """The forked child raised or died before its deadline (not the safety net): a defect."""


def _forked(text: str, names: list[str], units: int, safety_s: float, deadline: float) -> tuple | None:
    """The answer of a forked child, or None if it was killed at ``deadline``;
    :class:`WallChildError` if it raised or died before."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: check, answer, leave without running the parent's exit handlers
        code = 0
        try:
            os.close(read)
            try:
                payload = json.dumps(_solve(text, names, units, safety_s))
            except BaseException:  # noqa: BLE001 (told to the parent, which raises it)
                code = 1
                payload = json.dumps(["error", traceback.format_exc()])
            with os.fdopen(write, "w") as out:
                out.write(payload)
        finally:
            os._exit(code)
    os.close(write)
    chunks = []
    try:
        while True:
            left = deadline - time.perf_counter()
            if left <= 0 or not select.select([read], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                return None
            chunk = os.read(read, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read)
        _, status = os.waitpid(pid, 0)
    answer = json.loads(b"".join(chunks)) if chunks else None
    if answer is None or answer[0] == "error":
        # the child died or raised before the deadline: a defect to see, never an unknown that
        # would quietly change which story is shown (or a verdict)
        why = answer[1] if answer is not None else f"it ended with wait status {status} and no answer"
        raise WallChildError(f"the solver's child process failed: {why}")
    result, reason, values, spent = answer
    return result, reason, values, spent


def check(assertions: Sequence[z3.BoolRef], variables: Sequence[z3.ExprRef], units: int, safety_s: float) -> WallAnswer:
    """Check ``assertions`` in a forked child within ``units``; killed at ``safety_s`` plus a
    second of grace (an UNKNOWN that says the safety net fired). A child that raises or dies
    before then is :class:`WallChildError`, never an UNKNOWN."""
    started = time.perf_counter()
    solver = z3.Solver()
    solver.add(*assertions)
    text = solver.to_smt2()
    answer = _forked(text, [str(v) for v in variables], units, safety_s, started + safety_s + GRACE_S)
    elapsed = time.perf_counter() - started
    if answer is None:
        return WallAnswer("unknown", effort.safety_net_reason(elapsed) + " (the child was killed)", seconds=elapsed)
    result, reason, values, spent = answer
    effort.count(spent)  # the child's own tally is not the caller's
    return WallAnswer(result, reason, values, elapsed, spent)


def evaluator(values: dict[str, int], variables: Sequence[z3.ExprRef]):
    """An evaluator (as ``solvent.solver.symbolic`` expects) substituting the values, 0 if absent."""
    pairs = [(v, z3.IntVal(values.get(str(v), 0))) for v in variables]

    def evaluate(term: z3.ExprRef) -> z3.ExprRef:
        return z3.simplify(z3.substitute(term, *pairs)) if pairs else z3.simplify(term)

    return evaluate


__all__ = ["WallAnswer", "WallChildError", "check", "evaluator", "may_fork"]

"""Grids of thresholds and proofs: one task per cell on an executor, a table that always prints.

``solvent thresholds A B C`` asks every question of every policy: the cell (policy, question) is
one task (:class:`ThresholdCell`, answered by :func:`answer_threshold`). ``solvent prove POLICY
--invariant I,J --accounts 2,3,4 --events 1,2`` proves every claim at every (N, K): the cell
(claim, N, K) is one task (:class:`ProofCell`, :func:`answer_proof`). Both run on the executor
``--workers N`` or ``--executor dask://HOST:PORT`` chooses (``solvent.simulation.executors``), in
this process without one.

Each task runs the same function a single question runs (``solvent.solver.thresholds.threshold``,
``solvent.solver.prove.prove``), z3 in the worker with its hard-kill child as anywhere else
(``solvent.solver.wall``), and returns plain data: the answer without its z3 objects (the proof
behind a threshold, a proof's witness; a counterexample is a concrete story and travels). Every
budget is a count (z3 units, probes), and each question starts from a fresh z3 context
(``solvent.solver.effort.question``), so a cell's answer is the same on one worker, on several or
on a cluster. A cell that gives no answer is a :class:`~solvent.simulation.executors.CellError` in
its place, and the grid's exit code is its worst cell's (:func:`threshold_exit`,
:func:`proof_exit`; docs/executors.md says why each is ranked where it is).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

import attrs

from solvent.properties import catalog
from solvent.rules.policy import Policy
from solvent.simulation.executors import CellError, map_cells
from solvent.solver import effort
from solvent.solver.bounds import Bounds
from solvent.solver.from_empty import told
from solvent.solver.margin_scopes import prove_on_scopes
from solvent.solver.prove import AS_CHECK
from solvent.solver.smallest_move import told_at_least_move
from solvent.solver.thresholds import DECIDED, Threshold, questions, threshold
from solvent.solver.verdicts import ProofResult, Verdict

#: One cell at a time in a process: a question resets z3's process-wide default context and holds
#: off the garbage collector (``effort.question``), so two cells in two threads of one process (a
#: Dask worker with several threads) would disturb each other's units; in threads they would not
#: run faster anyway (the build is Python, under one interpreter lock).
_ONE_AT_A_TIME = threading.Lock()

#: exit codes (``solvent.cli``): every cell decided, some proof refuted, bad input, some cell
#: undecided or unanswered, Solvent contradicted itself
EXIT_OK, EXIT_REFUTED, EXIT_BAD_INPUT, EXIT_UNDECIDED, EXIT_INTERNAL = 0, 1, 2, 3, 4


@attrs.frozen
class ThresholdCell:
    """One threshold question on one policy: what a worker needs, all of it plain data."""

    policy: Policy
    question: str
    bounds: Bounds
    max_probes: int
    #: the questions' parameters (``gap_ppm``, ``leverage``, ...; ``solvent.solver.thresholds.questions``)
    params: tuple[tuple[str, int], ...] = ()
    #: the market a per-market question moves (``cross-market-safe-move``); "" for the others
    market: str = ""


def answer_threshold(cell: ThresholdCell) -> Threshold | CellError:
    """The cell's threshold, found as ``solvent thresholds`` finds it, from a fresh z3 context;
    without the proof object (z3's), with its counterexample (a replayed concrete story). A probe
    whose assumptions conflict (the bounds leave no book) is the cell's bad input."""
    question = questions(**dict(cell.params))[cell.question]
    try:
        with _ONE_AT_A_TIME, effort.question():
            where = {"market": cell.market} if cell.market else {}  # a per-market question's market
            found = threshold(cell.policy, question, cell.bounds, max_probes=cell.max_probes, **where)
    except ValueError as exc:
        return CellError("bad input", f"bad input: {exc}")
    return attrs.evolve(found, proof=None)


@attrs.frozen
class ProofCell:
    """One claim on one policy within one scope (N traders, K events in ``bounds``)."""

    policy: Policy
    invariant: str
    bounds: Bounds
    #: shrink a counterexample and tell a one-move story at its least move, as ``solvent prove``
    #: does (a benchmark that times the verdict alone turns it off)
    minimize: bool = True
    compositional: bool = True
    #: with ``minimize``: also tell a one-move refutation at its least move (``--no-least-move``:
    #: shown as shrunk, sooner; the verdict is the same)
    least_move: bool = True
    #: the margin scopes to ask it on, each a question of its own within ``bounds.effort``
    #: (``solvent.solver.margin_scopes``; empty or one: ``bounds`` as given)
    scopes: tuple[str, ...] = ()
    #: a claim the policy accepts as failing searched for its story on the grid first, as check's
    #: second round asks it (``solver.prove``'s ``accepted_grid``; ``solvent prove --grid-first``)
    grid_first: bool = False
    #: asked as ``solvent check`` asks it within its allotment (``solvent prove --as-check``): the
    #: bounded check first, the all-N argument for ADL's payers only after it proved the claim at N
    #: (``solver.prove``'s ``payer_first=False``), and z3's first story not shrunk before it is told at
    #: its least move (``minimize=False``). With ``bounds.effort`` the units check gave the question
    #: and check's book, it is check's own question: the same verdict and story (``verdicts.proofs``)
    as_check: bool = False


def answer_proof(cell: ProofCell) -> ProofResult:
    """The cell's proof as ``solvent prove`` runs it (a refutation replayed on the concrete
    engine and told at its least move), without the witness story's z3 values. A cell of several
    margin scopes asks each (the effort per question, as ``--effort`` says) and joins their
    answers (``solvent.solver.verdicts.joined``)."""
    asked = AS_CHECK if cell.as_check else {"minimize": cell.minimize}
    with _ONE_AT_A_TIME:
        result = prove_on_scopes(
            cell.policy,
            cell.invariant,
            cell.bounds,
            cell.scopes,
            compositional=cell.compositional,
            accepted_grid=cell.grid_first,
            **asked,
        )
        if cell.minimize or cell.as_check:
            result = _told(cell.policy, catalog.get(cell.invariant), result, least_move=cell.least_move)
    return without_witness(result)


def _told(policy: Policy, invariant: Any, result: ProofResult, *, least_move: bool) -> ProofResult:
    """A refutation told as ``solvent check`` tells its z3 story (``verdicts.check``): at its least
    move (``--no-least-move``: as z3 found it, shrunk unless ``--as-check``), then from an empty book where a route reaches
    its starting book (``solver.from_empty``: deposits, trades and moves, then z3's event), so the
    command a finding prints shows the finding's events."""
    if least_move:
        result = told_at_least_move(policy, invariant, result)
    cx = result.counterexample
    if result.verdict is not Verdict.REFUTED or cx is None or cx.obligation != invariant.id:
        return result
    if cx.step_index >= len(cx.steps):  # no failing step replayed to tell (as check: verdicts.check)
        return result
    return attrs.evolve(result, counterexample=told(policy, invariant, cx, result.bounds))


def without_witness(result: ProofResult) -> ProofResult:
    """``result`` without the witness stories' z3 values, its margin scopes' answers too (a claim
    asked on two scopes keeps each scope's result in ``parts``): what a cell's answer carries back
    from a worker process, where z3 objects do not pickle."""
    parts = tuple(attrs.evolve(p, result=without_witness(p.result)) for p in result.parts)
    return attrs.evolve(result, witness=None, parts=parts)


def find_thresholds(
    cells: Sequence[ThresholdCell], executor: Executor | None = None, done: Callable[[int, Any], None] | None = None
) -> list[Threshold | CellError]:
    """Every cell's threshold (:func:`answer_threshold`), in order, one task each (``done``: as
    each arrives, ``executors.map_cells``)."""
    return map_cells(answer_threshold, cells, executor, done)


def prove_cells(
    cells: Sequence[ProofCell], executor: Executor | None = None, done: Callable[[int, Any], None] | None = None
) -> list[ProofResult | CellError]:
    """Every cell's proof (:func:`answer_proof`), in order, one task each (``done``: as each arrives)."""
    return map_cells(answer_proof, cells, executor, done)


def _error_exit(answer: CellError) -> int:
    """A cell without an answer: 4 when Solvent contradicted itself, 2 when its input was bad, else
    3 (nothing was decided about it; the table says why)."""
    return {"internal": EXIT_INTERNAL, "bad input": EXIT_BAD_INPUT}.get(answer.kind, EXIT_UNDECIDED)


def threshold_exit(answers: Sequence[Threshold | CellError]) -> int:
    """The worst cell's exit code: 0 decided, 3 bounded, unknown or unanswered, 2 bad input (a
    probe's assumptions conflict), 4 Solvent contradicted itself."""
    rank = (EXIT_OK, EXIT_UNDECIDED, EXIT_BAD_INPUT, EXIT_INTERNAL)
    codes = [EXIT_OK]
    for a in answers:
        if isinstance(a, CellError):
            codes.append(_error_exit(a))
        else:
            codes.append(EXIT_OK if a.status in DECIDED else EXIT_UNDECIDED)
    return max(codes, key=rank.index)


def proof_exit(answers: Sequence[ProofResult | CellError]) -> int:
    """The worst cell's exit code: 0 proved, 3 unknown, partial or unanswered, 1 refuted (a
    replayed story breaks the claim), 2 vacuous (the assumptions conflict: bad input), 4 Solvent
    contradicted itself."""
    rank = (EXIT_OK, EXIT_UNDECIDED, EXIT_REFUTED, EXIT_BAD_INPUT, EXIT_INTERNAL)
    by_verdict = {Verdict.PROVED: EXIT_OK, Verdict.REFUTED: EXIT_REFUTED, Verdict.VACUOUS: EXIT_BAD_INPUT}
    codes = [EXIT_OK]
    for a in answers:
        codes.append(_error_exit(a) if isinstance(a, CellError) else by_verdict.get(a.verdict, EXIT_UNDECIDED))
    return max(codes, key=rank.index)


def parse_counts(text: str, low: int, high: int) -> tuple[int, ...]:
    """``2,3,4``, ``2..4`` or a mix (``1,3..5``): distinct counts in ``[low, high]``, in the order
    given; anything else a ``ValueError`` that says the form expected."""
    out: list[int] = []
    for part in (p.strip() for p in str(text).split(",")):
        first, dots, last = part.partition("..")
        try:
            values = range(int(first), int(last) + 1) if dots else [int(part)]
        except ValueError:
            raise ValueError(f"{part!r} is not a count or a range of counts (e.g. 2,3,4 or 2..4)") from None
        if dots and int(first) > int(last):
            raise ValueError(f"the range {part!r} runs backwards")
        for v in values:
            if not low <= v <= high:
                raise ValueError(f"{v} is not between {low} and {high}")
            if v in out:
                raise ValueError(f"{v} appears twice")
            out.append(v)
    return tuple(out)


__all__ = [
    "ProofCell",
    "ThresholdCell",
    "answer_proof",
    "answer_threshold",
    "find_thresholds",
    "parse_counts",
    "proof_exit",
    "prove_cells",
    "threshold_exit",
    "without_witness",
]

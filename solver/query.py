"""One proof query: a symbolic story, its named assumptions, and obligations checked with refinement.

A :class:`StoryQuery` builds the story once (``solvent.solver.story``), rewrites every formula
with one :class:`~solvent.solver.linearize.Linearizer` (so the assumptions and all obligations
share their purified products), and answers on one z3 solver:

- :meth:`check_assumptions`: is there a book and an accepted event sequence at all? Unsat (of
  the purified assumptions, a weakening of the exact ones) is VACUOUS, with the names of the
  conflicting assumptions; otherwise a *concrete* witness is needed (a plain story, or a model
  replayed on the engine) before any obligation may be called proved.
- :meth:`check_obligation`: can the invariant, or the non-negative-transfer obligation, fail
  after some event? Each sat model is replayed on the concrete engine; a spurious model of the
  purified query is excluded by lemmas and the query re-run (counterexample-guided refinement).
  An *exact* model (every purified definition holds in it) that does not replay as a violation
  is a disagreement between z3 and the engine: :class:`SpuriousCounterexample`. Where the
  purified query stalls, the exact nonlinear query is tried too, in a child process with a hard
  wall-clock limit (a portfolio: purified, exact, purified again).
- :meth:`smaller`: a counterexample of least total magnitude (binary search on Σ|x|).

Every question has a deadline: ``Bounds.timeout_ms`` covers building the query (the symbolic run
and its linearization, ``solvent.solver.deadline``) and then each check, refinement rounds
included, gets what the build left. Only the obligations a caller will ask are built.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import attrs
import z3

from solvent.properties.catalog import Invariant
from solvent.rules.arith import all_, sum_
from solvent.rules.book import Book
from solvent.rules.policy import Policy
from solvent.solver.assumptions import Assumption, book_assumptions, move_within
from solvent.solver.bounds import Bounds
from solvent.solver import deadline, wall
from solvent.solver.linearize import Linearizer
from solvent.solver.refinement import Replay, lemmas, obligation_name, replay
from solvent.solver.story import canonical_witness, decode, event_variables, run, slots, symbolic_book
from solvent.solver.symbolic import under_model
from solvent.solver.verdicts import Counterexample, QueryStats, SpuriousCounterexample, Verdict


@attrs.frozen
class Answer:
    """The result of one question asked of a :class:`StoryQuery`."""

    verdict: Verdict
    stats: QueryStats
    reason: str = ""
    counterexample: Counterexample | None = None
    conflicting: tuple[str, ...] = ()
    replay: Replay | None = None
    size: int | None = None


def _bool(x: Any) -> z3.BoolRef:
    return z3.BoolVal(x) if type(x) is bool else x


def _implies(a: Any, b: Any) -> Any:
    if a is True or b is True:
        return b
    return z3.Implies(_bool(a), _bool(b))


class StoryQuery:
    """The solver state for one policy, invariant, bounds and (optional) price-grid point.

    ``prices``: with a price grid, the starting mark followed by one price per slot (``None`` for
    a slot whose event has no price). ``obligations``: the questions :meth:`check_obligation` will
    be asked (the invariant, or ``None`` for the transfers; default both). Only those are built:
    linearizing an invariant over a liquidation sweep is most of a large query's build, and a
    compositional proof asks about the transfers only.

    Building counts against ``bounds.timeout_ms`` (``solvent.solver.deadline``): a build that
    takes longer raises :class:`~solvent.solver.deadline.BuildTimeout`, and each question then
    gets only what is left of the timeout (:attr:`solve_ms`).
    """

    def __init__(
        self,
        policy: Policy,
        invariant: Invariant,
        bounds: Bounds,
        prices: Sequence[int | None] = (),
        *,
        obligations: Sequence[Invariant | None] | None = None,
    ) -> None:
        started = time.perf_counter()
        self.policy, self.invariant, self.bounds = policy, invariant, bounds
        asked = (invariant, None) if obligations is None else tuple(obligations)
        with deadline.building(bounds.timeout_ms):
            self._build(prices, asked)
        self.build_seconds = time.perf_counter() - started
        #: each question's share of the timeout once the build is paid for (refinement included)
        self.solve_ms = max(bounds.timeout_ms - int(self.build_seconds * 1000), 1)

    def _build(self, prices: Sequence[int | None], asked: Sequence[Invariant | None]) -> None:
        bounds = self.bounds
        self.book, self.variables = symbolic_book(bounds, prices[0] if prices else None)
        self.slots = slots(self.book, bounds, prices[1:])
        self.runs = run(self.policy, self.book, self.slots)
        self.assumptions: list[Assumption] = self._assumptions()
        accepted = [r.accepted() for r in self.runs]
        self.assumptions += [Assumption(f"event {k + 1} accepted", acc) for k, acc in enumerate(accepted)]
        self.violations = {_key(o): _violation(accepted, self._holds(o)) for o in asked}
        formulas = [_bool(a.holds) for a in self.assumptions] + list(self.violations.values())
        self.linearizer = Linearizer() if bounds.linearize else None
        books = [self.book, *(r.after for r in self.runs)]
        if all(o is None for o in asked):
            # a transfer amount reads the book before its event; only an invariant reads the last
            # book whole, and its open-interest hint is the costliest part of a large build
            books.pop()
        rewritten = self._rewrite(formulas, books)
        n = len(self.assumptions)
        self.assumption_terms = rewritten[:n]
        self.goals = dict(zip(self.violations, rewritten[n:], strict=True))
        self.solver = z3.Solver()
        for a, f in zip(self.assumptions, self.assumption_terms, strict=True):
            self.solver.assert_and_track(f, z3.Bool(f"assume: {a.name}"))
        if self.linearizer is not None:
            self.solver.add(*self.linearizer.facts)
        numbers = self.variables + event_variables(self.slots)
        self.inputs = numbers + [slot.choice for slot in self.slots if slot.choice is not None]
        self.size = sum_(z3.If(v >= 0, v, -v) for v in numbers)

    def _assumptions(self) -> list[Assumption]:
        """The book's assumptions, the event numbers' bounds and each mark event's largest move."""
        bounds = self.bounds
        out = book_assumptions(self.policy, self.book, bounds)
        out.append(Assumption("event numbers within bounds", all_(s.field_bounds for s in self.slots)))
        if bounds.max_move_ppm is not None:
            out += [
                Assumption(f"event {k + 1} moves the mark at most {bounds.max_move_ppm} ppm", all_(
                    _implies(r.slot.chosen(v), move_within(r.before.market.mark_quote, vr.variant.event, bounds))
                    for v, vr in enumerate(r.runs)
                ))
                for k, r in enumerate(self.runs)
            ]
        return out

    def _holds(self, obligation: Invariant | None) -> list[Any]:
        """Per event: the invariant holds after it (or, for ``None``, its transfers are non-negative)."""
        if obligation is None:
            return [_bool(r.transfers_ok()) for r in self.runs]
        return [_bool(r.obligation(self.policy, obligation)) for r in self.runs]

    def _rewrite(self, formulas: list[Any], books: Sequence[Book]) -> list[Any]:
        """The formulas linearized, with the open-interest hint for each book they read."""
        if self.linearizer is None:
            return formulas
        rewritten = self.linearizer.rewrite(formulas)
        for book in books:
            self.linearizer.hint(sum_(a.size_lots for a in book.accounts))
        self.linearizer.finish()
        return rewritten

    @property
    def exact(self) -> bool:
        """Whether the query is the exact formula (nothing purified)."""
        return self.linearizer is None or not self.linearizer.over_approximates

    # --- questions ---------------------------------------------------------------------------

    def check_assumptions(self) -> Answer:
        """VACUOUS (with the conflicting assumptions), UNKNOWN, or WITNESSED (a replayed story)."""
        started = time.perf_counter()
        plain = canonical_witness(self.policy, self.book, self.slots, self.bounds)
        if plain is not None:
            rep = replay(self.policy, None, plain, self.bounds)
            if _witnessed(rep, len(self.slots)):
                return _answer(Verdict.WITNESSED, "assumptions", "witness (plain story)", started, 0, replay=rep)
        return self._loop("assumptions", None, None, witness=True, started=started)

    def check_obligation(self, invariant: Invariant | None, extra: Any = None) -> Answer:
        """PROVED (unsat), REFUTED (replayed), or UNKNOWN for the invariant (or transfers, ``None``)."""
        key = _key(invariant)
        name = obligation_name(invariant)
        if key not in self.goals:
            raise ValueError(f"this query was built without {name!r}: pass it in StoryQuery(..., obligations=...)")
        goal = self.goals[key]
        if z3.is_false(z3.simplify(goal)):
            return Answer(Verdict.PROVED, QueryStats(name, "unsat (no symbolic case)", 0.0))
        if extra is not None:
            goal = z3.And(goal, extra)
        if self.linearizer is None:
            return self._loop(name, goal, invariant, witness=False)
        return self._portfolio(name, key, goal, invariant, extra)

    def _portfolio(self, name: str, key: str | None, goal: Any, invariant: Invariant | None, extra: Any) -> Answer:
        """Purified with a few refinement rounds, then exact NIA, then purified again: each phase
        decides what the others stall on (linear proofs at large N; pro-rata rounding at small N)."""
        started = time.perf_counter()
        total = self.solve_ms

        def left() -> int:
            return max(total - int((time.perf_counter() - started) * 1000), 1)

        tried: list[Answer] = []
        first = self._loop(name, goal, invariant, witness=False, budget_ms=total // 3, max_rounds=6)
        tried.append(first)
        if first.verdict is Verdict.UNKNOWN:
            tried.append(self._exact_check(name, key, invariant, extra, left() // 2))
        if tried[-1].verdict is Verdict.UNKNOWN and left() > 1:
            tried.append(self._loop(name, goal, invariant, witness=False, budget_ms=left()))
        last = tried[-1]
        result = ", then ".join(a.stats.result for a in tried)
        stats = attrs.evolve(last.stats, seconds=time.perf_counter() - started, refinements=sum(a.stats.refinements for a in tried), result=result)
        reason = last.reason if last.verdict is not Verdict.UNKNOWN else "; ".join(a.reason for a in tried)
        return attrs.evolve(last, stats=stats, reason=reason)

    def smaller(self, invariant: Invariant | None, answer: Answer, budget_ms: int) -> tuple[Answer, bool]:
        """A counterexample of least Σ|x| over the book's and events' numbers, and whether it is
        proved least (every smaller bound was unsat) or only the least found within ``budget_ms``."""
        stop_at = time.perf_counter() + budget_ms / 1000
        best, low = answer, 0
        while best.size is not None and low < best.size and time.perf_counter() < stop_at:
            middle = (low + best.size) // 2
            trial = self.check_obligation(invariant, self.size <= middle)
            if trial.verdict is Verdict.REFUTED and trial.size is not None:
                best = trial
            elif trial.verdict is Verdict.PROVED:
                low = middle + 1
            else:
                return best, False
        return best, best.size is not None and low >= best.size

    # --- the refinement loop -----------------------------------------------------------------

    def _exact_check(self, name: str, key: str | None, obligation: Invariant | None, extra: Any, budget_ms: int) -> Answer:
        """The exact (nonlinear) query: z3's own NIA decides where purification was too weak.

        Run in a child process with a hard wall-clock limit (``solvent.solver.wall``). Its models
        are exact, so one that does not replay as a violation is a disagreement.
        """
        started = time.perf_counter()
        assertions = [_bool(a.holds) for a in self.assumptions] + [self.violations[key]]
        if extra is not None:
            assertions.append(extra)
        answer = wall.check(assertions, self.inputs, budget_ms)
        if answer.result == "unsat":
            return _answer(Verdict.PROVED, name, "unsat (exact)", started, 0)
        if answer.result != "sat":
            return _answer(Verdict.UNKNOWN, name, "unknown (exact)", started, 0, f"z3: {answer.reason}")
        evaluate = wall.evaluator(answer.values, self.inputs)
        rep = replay(self.policy, obligation, decode(self.book, self.slots, evaluate), self.bounds)
        if not rep.violates:
            raise SpuriousCounterexample(
                f"z3 found an exact model for {name!r} that the concrete engine does not confirm "
                f"({', '.join(rep.outside) or rep.rejected or 'the obligation holds on replay'})\n"
                f"policy: {self.policy.name}\nstory: {rep.story!r}"
            )
        cx = Counterexample(rep.story, rep.steps, rep.failed_at, name, rep.detail)
        size = evaluate(self.size).as_long()
        return _answer(Verdict.REFUTED, name, "sat (exact, replayed)", started, 0, rep.detail, counterexample=cx, replay=rep, size=size)

    def _loop(
        self,
        name: str,
        goal: Any,
        obligation: Invariant | None,
        *,
        witness: bool,
        started: float | None = None,
        budget_ms: int | None = None,
        max_rounds: int | None = None,
    ) -> Answer:
        started = time.perf_counter() if started is None else started
        stop_at = started + (self.solve_ms if budget_ms is None else budget_ms) / 1000
        rounds_allowed = self.bounds.refinements if max_rounds is None else min(max_rounds, self.bounds.refinements)
        self.solver.push()
        if goal is not None:
            self.solver.add(goal)
        try:
            for rounds in range(rounds_allowed + 1):
                remaining = int((stop_at - time.perf_counter()) * 1000)
                if remaining <= 0:
                    return _answer(Verdict.UNKNOWN, name, "timeout", started, rounds, f"timeout after {rounds} refinement rounds")
                self.solver.set(timeout=remaining)
                result = self.solver.check()
                if result == z3.unsat:
                    if witness:
                        core = tuple(sorted(str(c).removeprefix("assume: ") for c in self.solver.unsat_core()))
                        return _answer(Verdict.VACUOUS, name, "unsat", started, rounds, "the assumptions conflict: " + "; ".join(core), conflicting=core)
                    return _answer(Verdict.PROVED, name, "unsat", started, rounds)
                if result == z3.unknown:
                    return _answer(Verdict.UNKNOWN, name, "unknown", started, rounds, f"z3: {self.solver.reason_unknown()}")
                model = self.solver.model()
                story = decode(self.book, self.slots, under_model(model))
                rep = replay(self.policy, obligation, story, self.bounds)
                if witness and _witnessed(rep, len(self.slots)):
                    return _answer(Verdict.WITNESSED, name, "sat (witness replayed)", started, rounds, replay=rep)
                if not witness and rep.violates:
                    cx = Counterexample(rep.story, rep.steps, rep.failed_at, name, rep.detail)
                    size = model.eval(self.size, model_completion=True).as_long()
                    return _answer(Verdict.REFUTED, name, "sat (replayed)", started, rounds, rep.detail, counterexample=cx, replay=rep, size=size)
                facts = self._refine(model, rep, name, rounds)
                # lemmas are true of the exact definitions: they stay for every later question
                self.solver.pop()
                self.solver.add(*facts)
                self.solver.push()
                if goal is not None:
                    self.solver.add(goal)
            return _answer(Verdict.UNKNOWN, name, "sat (spurious)", started, rounds_allowed, f"refinement gave up after {rounds_allowed} rounds")
        finally:
            self.solver.pop()

    def _refine(self, model: z3.ModelRef, rep: Replay, name: str, rounds: int) -> list[z3.BoolRef]:
        """Facts excluding a spurious model; raises when the model was exact (a Solvent bug)."""
        wrong = [] if self.linearizer is None else self.linearizer.mismatches(model)
        if not wrong:
            raise SpuriousCounterexample(
                f"z3 found an exact model for {name!r} that the concrete engine does not confirm "
                f"({', '.join(rep.outside) or rep.rejected or 'the obligation holds on replay'})\n"
                f"policy: {self.policy.name}\nstory: {rep.story!r}"
            )
        # linear lemmas only: the in-process solver stays linear, so its timeout is honoured (the
        # exact nonlinear query runs apart, under a hard wall: see _exact_check)
        return self.linearizer.strengthen(wrong) + lemmas(wrong, model)


def _answer(verdict: Verdict, name: str, result: str, started: float, rounds: int, reason: str = "", **kw: Any) -> Answer:
    return Answer(verdict, QueryStats(name, result, time.perf_counter() - started, rounds), reason, **kw)


def _key(obligation: Invariant | None) -> str | None:
    return None if obligation is None else obligation.id


def _violation(accepted: list[Any], holds: list[Any]) -> z3.BoolRef:
    """Some event k is accepted after accepted events 1..k−1 and breaks the obligation."""
    cases = []
    for k, h in enumerate(holds):
        if z3.is_true(h):
            continue
        cases.append(z3.And(*[_bool(a) for a in accepted[: k + 1]], z3.Not(h)))
    return z3.Or(*cases) if cases else z3.BoolVal(False)


def _witnessed(rep: Replay, events: int) -> bool:
    """The concrete engine accepts the book and every event (a negative transfer counts: the
    engine ran the event, and the transfers obligation reports it)."""
    return not rep.outside and not rep.rejected and (len(rep.steps) == events or rep.failed_at is not None)


__all__ = ["Answer", "StoryQuery"]

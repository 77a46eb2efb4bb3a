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
  purified query stalls, the exact nonlinear query is tried too, in a child process under the
  wall-clock safety net (a portfolio: purified, exact, purified again).
- :meth:`smaller`: a counterexample of least total magnitude (binary search on Σ|x|).

Every question has an effort in deterministic units (``solvent.solver.effort``): ``Bounds.effort``
covers building the query (the symbolic run and its linearization, charged per build step) and
then each check, refinement rounds included, gets the z3 resource units the build left. The same
question gets the same answer on an idle and on a loaded machine. Only the obligations a caller
will ask are built.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import z3

from solvent.properties.catalog import Invariant
from solvent.rules.arith import all_, sum_
from solvent.rules.book import Book
from solvent.rules.policy import Policy
from solvent.rules.positions import cost_unread
from solvent.rules.rounding import FundingRemainder
from solvent.solver import effort, ghost_start, incremental, unread, wall
from solvent.solver.assumptions import Assumption, book_assumptions, move_within
from solvent.solver.bounds import Bounds
from solvent.solver.frames import Frame, balances_after, frame, positions, settlement, sizes_after
from solvent.solver.linearize import Linearizer
from solvent.solver.pro_rata_lemma import Discharger
from solvent.solver.refinement import Replay, lemmas, obligation_name, replay
from solvent.solver.story import SlotRun, canonical_witness, decode, event_variables, run, slots, symbolic_book, view
from solvent.solver.symbolic import under_model
from solvent.solver.verdicts import Counterexample, QueryStats, SpuriousCounterexample, Verdict


def hint_open_interest(linearizer: Linearizer, book: Book) -> None:
    """Hint the purified query with each market's open interest, Σ size, and its notional at the
    mark, Σ size × mark: each sum times every factor that multiplies two or more of its terms gets
    the fact that the sum of products is the product of the sum. A mark move's ``ΔM`` multiplies
    the sizes (the clearing account's net flow is ``−ΔM·Σs``) and a funding rate ``r`` multiplies
    the notionals (each account owes ``(s·M)·r``), so ``Σs = 0`` (open interest balanced) makes the
    clearing account's settlement and funding net to 0 linearly. Every market's, not only the
    first's: a move or a funding payment of a further market settles the positions in it
    (``Account.more_positions``). With the first market's Σ size alone, conservation's direct
    check at N = 2 was undecided on two markets (Binance: 20M units exact, 60M purified) and on
    funding events (Binance, one market: 20M); docs/solver-notes.md#the-open-interest-hint-in-every-market-issue-13."""
    for i, market in enumerate(book.markets):
        linearizer.hint(sum_(a.positions[i].size_lots for a in book.accounts))
        linearizer.hint(sum_(a.positions[i].size_lots * market.mark_quote for a in book.accounts))


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


def _combined(tried: list[Answer], started: float) -> Answer:
    """The last phase's answer, with the units, refinements and results of every phase tried (and
    every phase's reason when none decided)."""
    last = tried[-1]
    stats = attrs.evolve(
        last.stats,
        seconds=time.perf_counter() - started,
        refinements=sum(a.stats.refinements for a in tried),
        result=", then ".join(a.stats.result for a in tried),
        units=sum(a.stats.units for a in tried),
    )
    reason = last.reason if last.verdict is not Verdict.UNKNOWN else "; ".join(a.reason for a in tried)
    return attrs.evolve(last, stats=stats, reason=reason)


def _bool(x: Any) -> z3.BoolRef:
    return z3.BoolVal(x) if type(x) is bool else x


def _implies(a: Any, b: Any) -> Any:
    if a is True or b is True:
        return b
    return z3.Implies(_bool(a), _bool(b))


#: the part of an obligation's units its exact query gets where it is asked first (``exact_first``)
EXACT_FIRST_SHARE = 2
#: invariants whose direct check is given the step's proved ledger frame (``solvent.solver.frames``)
#: and is asked conjunct by conjunct, each conjunct proved handed to the next as a fact: the
#: clearing account's balance first, then the totals, which cancel once the frame and an empty
#: clearing account are facts (docs/solver-notes.md#the-frame-as-proved-facts); open-interest
#: balance with the position frame (one conjunct a market), each asked first with the sizes after
#: the event opaque (docs/solver-notes.md#settlement-as-proved-facts)
FRAMED = frozenset({"conservation", "open-interest-balance"})
#: a framed conjunct is asked with the balances after the event opaque first, within this share of
#: what it has left (:meth:`StoryQuery._opaque_after`; measured on drift at N = 2: 2,710-27,674 units
#: where it decides)
OPAQUE_SHARE = 8
OPAQUE = "unsat (balances after opaque)"


class StoryQuery:
    """The solver state for one policy, invariant, bounds and (optional) price-grid point.

    ``prices``: with a price grid, the starting mark followed by one price per slot (``None`` for
    a slot whose event has no price). ``obligations``: the questions :meth:`check_obligation` will
    be asked (the invariant, or ``None`` for the transfers; default both). Only those are built:
    linearizing an invariant over a liquidation sweep is most of a large query's build, and a
    compositional proof asks about the transfers only. ``lemma_facts``: given the symbolic book and
    its runs, instances on these terms of lemmas proved for every value (``solver.payer_facts``),
    added to every check as the frames are: true of every value, so the query keeps its models.

    Building counts against ``bounds.effort`` (``solvent.solver.effort``): a build whose steps
    cost more raises :class:`~solvent.solver.effort.OutOfEffort`, and each question then gets
    only the units the build left (:attr:`solve_units`).
    """

    def __init__(
        self,
        policy: Policy,
        invariant: Invariant,
        bounds: Bounds,
        prices: Sequence[int | None] = (),
        *,
        obligations: Sequence[Invariant | None] | None = None,
        lemma_facts: Callable[[Book, list[SlotRun]], list[Any]] | None = None,
        abstracted: Callable[[Book, list[SlotRun]], list[Any]] | None = None,
    ) -> None:
        started = time.perf_counter()
        self.policy, self.invariant, self.bounds = policy, invariant, bounds
        #: the pro-rata split's lemma, proved on the engine's own split: each dust transfer that is
        #: its instance is discharged (docs/solver-notes.md#the-pro-rata-split-as-a-proved-lemma)
        self.split_lemmas = Discharger(policy.rounding)
        self._lemma_facts = lemma_facts
        self._abstracted = abstracted
        asked = (invariant, None) if obligations is None else tuple(obligations)
        #: each moved position's cost basis as a fresh variable, where no formula asked reads one
        #: (``solver.unread``); None: every cost basis built
        self.unread: unread.Fresh | None = unread.Fresh() if unread.fits(policy) else None
        with effort.building(bounds.effort) as meter:
            if not self._build(prices, asked):
                # a formula reads a cost basis after all: built again with every cost basis built
                # (the first build's steps stay spent: the same on every run)
                self.unread = None
                self.split_lemmas = Discharger(policy.rounding)
                self._build(prices, asked)
        self.build_seconds = time.perf_counter() - started
        #: the units the build spent (its steps at ``effort.BUILD_STEP`` each)
        self.build_units = meter.spent
        #: each question's units once the build is paid for (refinement included)
        self.solve_units = max(bounds.effort - meter.spent, 1)

    def _build(self, prices: Sequence[int | None], asked: Sequence[Invariant | None]) -> bool:
        """Build the question; False (and nothing asserted) where a formula reads a cost basis
        left unbuilt (:attr:`unread`)."""
        bounds = self.bounds
        self.book, self.variables = symbolic_book(bounds, prices[0] if prices else None)
        self.slots = slots(self.book, bounds, prices[1:])
        with cost_unread(self.unread) if self.unread is not None else contextlib.nullcontext():
            self.runs = run(self.policy, self.book, self.slots)
        self.assumptions: list[Assumption] = self._assumptions()
        accepted = [r.accepted() for r in self.runs]
        self.assumptions += [Assumption(f"event {k + 1} accepted", acc) for k, acc in enumerate(accepted)]
        self.violations = {_key(o): _violation(accepted, self._holds(o)) for o in asked}
        framed = [o for o in asked if o is not None and o.id in FRAMED]
        #: of the proved facts, those that read no balance after an event as its ``if`` tree (each
        #: asset's totals, the settlement's flows), and the balances after each event: a framed
        #: obligation's conjunct is asked first with those balances opaque (:meth:`_opaque_after`)
        self.sums: list[Any] = []
        self.opaque: list[Any] = []
        #: proved equations true of every value (the frames), added to every check
        self.facts: list[Any] = self._frames({o.id for o in framed}) if framed else []
        if self._lemma_facts is not None:  # lemmas proved for every value, instantiated on these terms
            self.facts += self._lemma_facts(self.book, self.runs)
        #: terms an ``"abstracted"`` stage of :meth:`check_staged` replaces by fresh variables
        self.abstracted: list[Any] = [] if self._abstracted is None else self._abstracted(self.book, self.runs)
        #: the proved split lemma's instances (``dust ≥ 0``), for the purified query only: the exact
        #: one reads the quotients as z3 defines them, and the facts cost its search more than they
        #: give (drift principal-protected at N = 2: refuted in 1.4M units without them, undecided
        #: at 10M with them)
        ctxs = [vr.ctx for r in self.runs for vr in r.runs]
        self.split_facts = self.split_lemmas.facts(ctxs) if bounds.linearize else []
        #: the exact split's sum and bounds (``solver.exact_split_lemma``), to every phase: the
        #: exact one needs the sum as much as the purified one (it is a counting argument); only
        #: where an obligation asked reads what they speak of (the transfers, ``None``, or a claim
        #: that reads the splits, ``Invariant.reads_splits``): a claim about the deficit before any
        #: split gets none (percolator-gen-a's safe move at 100,000 ppm: undecided at 18.9M units
        #: with them, proved in 276,669 without;
        #: docs/solver-notes.md#the-split-facts-where-the-claim-reads-the-split-session-23)
        if any(o is None or o.reads_splits for o in asked):
            self.facts += self.split_lemmas.exact.facts(ctxs)
        #: per framed obligation, its conjuncts: (violation, the conjunct as a fact once proved)
        self.parts: dict[str | None, list[tuple[Any, Any]]] = {}
        for o in framed:
            parts = self._parts(o, accepted)
            if len(parts) > 1 or self.sums:  # one conjunct too, where it may be asked opaque first
                self.parts[_key(o)] = parts
        part_formulas = [f for parts in self.parts.values() for pair in parts for f in pair]
        formulas = (
            [_bool(a.holds) for a in self.assumptions]
            + list(self.violations.values())
            + self.facts
            + self.split_facts
            + part_formulas
            + self.sums
            + self.opaque
        )
        if self.unread is not None and unread.occurs(formulas, self.unread.made):
            return False
        self.linearizer = Linearizer() if bounds.linearize else None
        books = [self.book, *(r.after for r in self.runs)]
        if all(o is None for o in asked):
            # a transfer amount reads the book before its event; only an invariant reads the last
            # book whole, and its open-interest hint is the costliest part of a large build
            books.pop()
        rewritten = self._rewrite(formulas, books)
        n, m, f = len(self.assumptions), len(self.violations), len(self.facts) + len(self.split_facts)
        self.assumption_terms = rewritten[:n]
        self.goals = dict(zip(self.violations, rewritten[n : n + m], strict=True))
        fact_terms = rewritten[n + m : n + m + f]
        rest = iter(rewritten[n + m + f :])
        #: the parts as the solver reads them (linearized like the goals)
        self.part_goals = {key: [(next(rest), next(rest)) for _ in parts] for key, parts in self.parts.items()}
        self.sum_terms = [next(rest) for _ in self.sums]
        self.opaque_terms = list(rest)
        self.solver = incremental.solver()
        for a, t in zip(self.assumptions, self.assumption_terms, strict=True):
            self.solver.assert_and_track(t, z3.Bool(f"assume: {a.name}"))
        _add(self.solver, fact_terms)
        if self.linearizer is not None:
            _add(self.solver, self.linearizer.facts)
        numbers = self.variables + event_variables(self.slots)
        self.inputs = numbers + [slot.choice for slot in self.slots if slot.choice is not None]
        if self.bounds.start_margin == ghost_start.GHOST_START:  # its value read back to check a model's book
            self.inputs.append(ghost_start.price())
        self.size = sum_(z3.If(v >= 0, v, -v) for v in numbers)
        return True

    def _assumptions(self) -> list[Assumption]:
        """The book's assumptions, the event numbers' bounds and each mark event's largest move."""
        bounds = self.bounds
        out = book_assumptions(self.policy, self.book, bounds)
        if bounds.start_margin == ghost_start.GHOST_START:  # the premise across accounts (solver.ghost_start)
            out.append(ghost_start.assumption(self.policy, self.book, bounds))
        out.append(Assumption("event numbers within bounds", all_(s.field_bounds for s in self.slots)))
        if bounds.max_move_ppm is not None:
            out += self._moves(bounds.max_move_ppm)
        return out

    def _moves(self, max_move_ppm: int) -> list[Assumption]:
        """Per event: a mark event moves the price at most ``max_move_ppm`` of the mark before it
        (``assumptions.move_within``, the engine's terms for the mark before and the event)."""
        within = attrs.evolve(self.bounds, max_move_ppm=max_move_ppm)
        return [
            Assumption(
                f"event {k + 1} moves the mark at most {max_move_ppm} ppm",
                all_(
                    _implies(r.slot.chosen(v), move_within(r.before, vr.variant.event, within))
                    for v, vr in enumerate(r.runs)
                ),
            )
            for k, r in enumerate(self.runs)
        ]

    def moves_within(self, max_move_ppm: int) -> z3.BoolRef:
        """Every mark event moves the price at most ``max_move_ppm`` of the mark before it: the
        assumption ``Bounds.max_move_ppm`` adds, as one formula to ask a query built without it
        (``check_staged(..., extra=...)``), so one query serves a bisection over the bound
        (``solver.smallest_move``). On one event it is linear (``|p' − p| · 10⁶ ≤ m · p``, the
        mark before being the book's), so it needs no purification."""
        return z3.And(*[_bool(a.holds) for a in self._moves(max_move_ppm)])

    @property
    def _carry(self) -> str | None:
        """The venue account that backs every carried funding remainder, where the policy carries it
        (mango-v4: ``frames.funding_flows``'s one statement then), else None."""
        rounding = self.policy.rounding
        if rounding.funding_remainder is not FundingRemainder.CARRIED:
            return None
        return self.book.role(rounding.funding.dust_account).name

    def _frames(self, framed: set[str]) -> list[Any]:
        """Each event's frame for the ``framed`` obligations (conservation: the ledger frame and
        the settlement's flows; open-interest balance: the position frame), the equations proved
        within a quarter of what the build has left (``solvent.solver.frames``; their splits are
        charged to the build), each one guarded by its variant being the slot's event."""
        budget = max((effort.left() or self.bounds.effort) // 4, 1)
        out: list[Any] = []
        for r in self.runs:
            for v, vr in enumerate(r.runs):
                found: list[Frame] = []
                if "conservation" in framed:
                    found.append(frame(r.before, vr.ctx, budget - sum(f.units for f in found)))
                    found.append(
                        settlement(
                            r.before,
                            vr.ctx,
                            vr.variant.event,
                            budget - sum(f.units for f in found),
                            self.bounds.safety_net,
                            self._carry,
                        )
                    )
                    self.opaque += [b for b in balances_after(vr.ctx) if isinstance(b, z3.ExprRef)]
                if "open-interest-balance" in framed:
                    found.append(positions(r.before, vr.ctx, budget - sum(f.units for f in found)))
                    self.opaque += [b for b in sizes_after(vr.ctx) if isinstance(b, z3.ExprRef)]
                for f in found:
                    effort.charge(f.units)
                budget -= sum(f.units for f in found)
                facts = [x for f in found for x in f.facts]
                sums = [x for f in found for x in f.sums]
                if facts:
                    out.append(_implies(r.slot.chosen(v), z3.And(*facts)))
                if sums:
                    self.sums.append(_implies(r.slot.chosen(v), z3.And(*sums)))
        return out

    def _parts(self, obligation: Invariant, accepted: list[Any]) -> list[tuple[Any, Any]]:
        """The obligation's top-level conjuncts, smallest first, the largest replaced by the whole
        obligation: for each, its violation (as :func:`_violation`) and the fact it becomes once
        proved (every accepted prefix of events keeps it). No parts where the variants'
        conjuncts do not line up."""
        per_run = []
        for r in self.runs:
            per_variant = [_conjuncts(obligation.holds(view(self.policy, r.before, vr))) for vr in r.runs]
            if len({len(c) for c in per_variant}) != 1:
                return []
            per_run.append(
                [
                    all_(_implies(r.slot.chosen(v), c[j]) for v, c in enumerate(per_variant))
                    for j in range(len(per_variant[0]))
                ]
            )
        count = len(per_run[0]) if per_run else 0
        parts = []
        for j in range(count):
            holds = [_bool(run_parts[j]) for run_parts in per_run]
            fact = _bool(all_(_implies(z3.And(*[_bool(a) for a in accepted[: k + 1]]), h) for k, h in enumerate(holds)))
            parts.append((_violation(accepted, holds), fact))
        parts.sort(key=lambda p: _size(p[0]))
        # the largest conjunct is asked as the whole obligation, with the others as facts (BitMEX:
        # 0.25M units, where its totals alone took 6.3M; docs/solver-notes.md#the-frame-as-proved-facts)
        if parts:
            parts[-1] = (_violation(accepted, self._holds(obligation)), parts[-1][1])
        return parts

    def _holds(self, obligation: Invariant | None) -> list[Any]:
        """Per event: the invariant holds after it (or, for ``None``, its transfers are non-negative)."""
        if obligation is None:
            return [_bool(r.transfers_ok(self.split_lemmas)) for r in self.runs]
        return [_bool(r.obligation(self.policy, obligation)) for r in self.runs]

    def _rewrite(self, formulas: list[Any], books: Sequence[Book]) -> list[Any]:
        """The formulas linearized, with the open-interest hint (:func:`hint_open_interest`) for
        each book they read."""
        if self.linearizer is None:
            return formulas
        rewritten = self.linearizer.rewrite(formulas)
        for book in books:
            hint_open_interest(self.linearizer, book)
        self.linearizer.finish()
        return rewritten

    @property
    def exact(self) -> bool:
        """Whether the query is the exact formula (nothing purified)."""
        return self.linearizer is None or not self.linearizer.over_approximates

    # --- questions ---------------------------------------------------------------------------

    def check_assumptions(self, units: int | None = None) -> Answer:
        """VACUOUS (with the conflicting assumptions), UNKNOWN, or WITNESSED (a replayed story),
        within ``units`` (default: what the build left, :attr:`solve_units`)."""
        started = time.perf_counter()
        plain = canonical_witness(self.policy, self.book, self.slots, self.bounds)
        if plain is not None:
            rep = replay(self.policy, None, plain, self.bounds)
            if _witnessed(rep, len(self.slots)):
                return _answer(Verdict.WITNESSED, "assumptions", "witness (plain story)", started, 0, replay=rep)
        return self._loop("assumptions", None, None, witness=True, started=started, budget=units)

    def check_obligation(
        self,
        invariant: Invariant | None,
        extra: Any = None,
        units: int | None = None,
        *,
        exact_first: bool = False,
        exact_share: int = EXACT_FIRST_SHARE,
    ) -> Answer:
        """PROVED (unsat), REFUTED (replayed), or UNKNOWN for the invariant (or transfers, ``None``),
        within ``units`` (default: what the build left, :attr:`solve_units`). ``exact_first``: the
        exact query first, within :data:`EXACT_FIRST_SHARE` of them, then the portfolio with the rest
        (a refutation searched on a smaller book in a z3 context of its own: ``solver.prove``'s
        smallest-first search, docs/solver-notes.md#drifts-claims-backed-and-bybits-principal-protected-at-n--8-session-22).
        ``exact_share``: the exact query's part of them where asked first (1: all, the portfolio none)."""
        key, name, goal = self._goal(invariant, extra)
        if goal is None:
            return Answer(Verdict.PROVED, QueryStats(name, "unsat (no symbolic case)", 0.0))
        total = self.solve_units if units is None else units
        if extra is None and key in self.parts:
            return self._by_parts(name, key, invariant, total)
        if self.linearizer is None:
            return self._loop(name, goal, invariant, witness=False, budget=units)
        if exact_first:
            started = time.perf_counter()
            first = self._exact_check(name, key, invariant, extra, total // exact_share)
            if first.verdict is not Verdict.UNKNOWN or total - first.stats.units <= 1:
                return _combined([first], started)
            rest = self._portfolio(name, key, goal, invariant, extra, total - first.stats.units)
            return _combined([first, rest], started)
        return self._portfolio(name, key, goal, invariant, extra, total)

    def _by_parts(self, name: str, key: str | None, invariant: Invariant | None, total: int) -> Answer:
        """The obligation conjunct by conjunct (:meth:`_parts`), each within what the ones before
        it left: a conjunct proved is added to the solver as a fact for the rest (it holds after
        every accepted event, in every model of the assumptions); a refuted one is a refutation
        of the whole (its story breaks the conjunct, so the invariant: the replay checks the
        invariant itself); an undecided one leaves the whole undecided."""
        started = time.perf_counter()
        tried: list[Answer] = []
        proved: list[tuple[Any, Any]] = []
        for (violation, fact), (goal, fact_term) in zip(self.parts[key], self.part_goals[key], strict=True):
            left = total - sum(a.stats.units for a in tried)
            if left <= 0:
                tried.append(_answer(Verdict.UNKNOWN, name, "out of effort", started, 0, "its effort ran out"))
                break
            part_started = time.perf_counter()
            answer = self._opaque_after(name, goal, [t for _, t in proved], max(left // OPAQUE_SHARE, 1))
            if answer is None or answer.verdict is not Verdict.PROVED:
                first = [] if answer is None else [answer]
                left -= sum(a.stats.units for a in first)
                if self.linearizer is None:
                    answer = self._loop(name, goal, invariant, witness=False, budget=left)
                else:
                    answer = self._portfolio(name, key, goal, invariant, None, left, violation=violation, known=proved)
                answer = _combined([*first, answer], part_started)
            tried.append(answer)
            if answer.verdict is not Verdict.PROVED:
                break
            self.solver.add(fact_term)  # true in every model of the assumptions: kept for every later check
            proved.append((fact, fact_term))
        answer = _combined(tried, started)
        if answer.verdict is Verdict.PROVED:
            units = ", ".join(
                effort.units_text(a.stats.units) + (" opaque" if a.stats.result == OPAQUE else "") for a in tried
            )
            result = f"unsat ({len(tried)} conjunct{'s' if len(tried) > 1 else ''}, each with the frame: {units})"
            return attrs.evolve(answer, stats=attrs.evolve(answer.stats, result=result))
        return answer

    def _opaque_after(self, name: str, goal: Any, proved: list[Any], budget: int) -> Answer | None:
        """A conjunct asked with every balance after an event opaque (a fresh variable for each,
        so a sound over-approximation: each has some value), the assumptions, the facts that need
        no such balance read as its ``if`` tree (:attr:`sums`: each asset's totals, the
        settlement's flows), the conjuncts proved before it and nothing else (no frame, no side
        fact of a purified product: fewer assertions, more models). Unsat is the conjunct proved;
        anything else says nothing (None where the question has no such facts). Why: the totals
        follow from the sums in a few linear steps, and z3 did not find them among the book's
        ``if`` trees (docs/solver-notes.md#settlement-as-proved-facts)."""
        if not self.sum_terms:
            return None
        started = time.perf_counter()
        opaque = [(t, z3.Int(f"after!{k}")) for k, t in enumerate(self.opaque_terms) if not z3.is_const(t)]
        formulas = [*self.assumption_terms, *self.sum_terms, *proved, goal]
        solver = effort.smt_core()
        solver.add(*[z3.substitute(_bool(f), *opaque) if opaque else _bool(f) for f in formulas])
        solved = effort.solve(solver, budget, self.bounds.safety_net)
        if solved.result == "unsat":
            return _answer(Verdict.PROVED, name, OPAQUE, started, 0, units=solved.units)
        return _answer(
            Verdict.UNKNOWN, name, f"{solved.result} (balances after opaque)", started, 0, units=solved.units
        )

    def _goal(self, invariant: Invariant | None, extra: Any) -> tuple[str | None, str, Any]:
        """The obligation's key, name and goal (with ``extra`` conjoined); the goal is None where
        it simplifies to false (no symbolic case can break it)."""
        key = _key(invariant)
        name = obligation_name(invariant)
        if key not in self.goals:
            raise ValueError(f"this query was built without {name!r}: pass it in StoryQuery(..., obligations=...)")
        goal = self.goals[key]
        if extra is not None and self.unread is not None and unread.occurs([extra], self.unread.made):
            raise ValueError("an extra formula reads a cost basis this query left unbuilt (solver.unread)")
        if z3.is_false(z3.simplify(goal)):
            return key, name, None
        return key, name, goal if extra is None else z3.And(goal, extra)

    def _portfolio(
        self,
        name: str,
        key: str | None,
        goal: Any,
        invariant: Invariant | None,
        extra: Any,
        total: int,
        *,
        violation: Any = None,
        known: Sequence[tuple[Any, Any]] = (),
    ) -> Answer:
        """Purified with a few refinement rounds, then exact NIA, then purified again: each phase
        decides what the others stall on (linear proofs at large N; pro-rata rounding at small N).
        The phases share ``total`` units: a third, then half of what is left, then the rest."""
        started = time.perf_counter()
        tried: list[Answer] = []

        def left() -> int:
            return total - sum(a.stats.units for a in tried)

        tried.append(self._loop(name, goal, invariant, witness=False, budget=total // 3, max_rounds=6))
        if tried[-1].verdict is Verdict.UNKNOWN and left() > 1:
            tried.append(self._exact_check(name, key, invariant, extra, left() // 2, violation, known))
        if tried[-1].verdict is Verdict.UNKNOWN and left() > 1:
            tried.append(self._loop(name, goal, invariant, witness=False, budget=left()))
        return _combined(tried, started)

    def check_staged(self, invariant: Invariant | None, stages: Sequence[tuple[str, int]], extra: Any = None) -> Answer:
        """The obligation decided by ``stages`` in order, each ``(phase, units)``: ``"exact"``
        (z3's nonlinear arithmetic in a child process), ``"abstracted"`` (the exact query with
        :attr:`abstracted`'s terms free: it proves, never refutes) or ``"purified"`` (linear, with a few
        refinement rounds whose lemmas stay for the later stages, all of ``Bounds.refinements`` in
        the last stage); the first stage that decides
        answers, and the units of every stage tried are counted. A threshold probe's schedule
        (``solvent.solver.thresholds``): cheap stages of both kinds first, then larger ones, so a
        question either phase decides quickly does not wait for the other's share. On an exact
        query (nothing purified) every stage is the in-process check."""
        key, name, goal = self._goal(invariant, extra)
        if goal is None:
            return Answer(Verdict.PROVED, QueryStats(name, "unsat (no symbolic case)", 0.0))
        started = time.perf_counter()
        tried: list[Answer] = []
        for i, (phase, units) in enumerate(stages):
            if phase == "abstracted":
                tried.append(self._abstracted_check(name, key, extra, units))
            elif phase == "exact" and self.linearizer is not None:
                tried.append(self._exact_check(name, key, invariant, extra, units))
            else:
                rounds = None if i == len(stages) - 1 else 6  # the last stage: every refinement round
                tried.append(self._loop(name, goal, invariant, witness=False, budget=units, max_rounds=rounds))
            if tried[-1].verdict is not Verdict.UNKNOWN:
                break
        if not tried:
            return Answer(Verdict.UNKNOWN, QueryStats(name, "no stage", 0.0), "no stage was allowed")
        return _combined(tried, started)

    def smaller(self, invariant: Invariant | None, answer: Answer, budget: int) -> tuple[Answer, bool, int]:
        """A counterexample of least Σ|x| over the book's and events' numbers, whether it is
        proved least (every smaller bound was unsat) or only the least found within ``budget``
        units, and the units the search spent.

        The purified (linear) phase only, as a threshold's story is shrunk: under a bound on Σ|x|
        z3's nonlinear arithmetic keeps working long after its units are counted (BitMEX's
        no-haircut, N = 2: 505,534 units took 96 s and 523,528 units 142 s in the exact child,
        where the purified query answers in a second; docs/solver-notes.md#minimizing)."""
        best, low, spent = answer, 0, 0
        while best.size is not None and low < best.size and spent < budget:
            middle = (low + best.size) // 2
            trial = self.check_staged(invariant, [("purified", budget - spent)], extra=self.size <= middle)
            spent += trial.stats.units
            if trial.verdict is Verdict.REFUTED and trial.size is not None:
                best = trial
            elif trial.verdict is Verdict.PROVED:
                low = middle + 1
            else:
                return best, False, spent
        return best, best.size is not None and low >= best.size, spent

    # --- the refinement loop -----------------------------------------------------------------

    def _exact_check(
        self,
        name: str,
        key: str | None,
        obligation: Invariant | None,
        extra: Any,
        budget: int,
        violation: Any = None,
        known: Sequence[tuple[Any, Any]] = (),
    ) -> Answer:
        """The exact (nonlinear) query: z3's own NIA decides where purification was too weak.

        Run in a child process within ``budget`` units, killed by the wall-clock safety net if
        z3's nonlinear module stops counting (``solvent.solver.wall``). Its models are exact, so
        one that does not replay as a violation is a disagreement.
        """
        started = time.perf_counter()
        assertions = [_bool(a.holds) for a in self.assumptions] + self.facts + [fact for fact, _ in known]
        assertions.append(self.violations[key] if violation is None else violation)
        if extra is not None:
            assertions.append(extra)
        answer = wall.check(assertions, self.inputs, budget, self.bounds.safety_net)
        spent = answer.units
        if answer.result == "unsat":
            return _answer(Verdict.PROVED, name, "unsat (exact)", started, 0, units=spent)
        if answer.result != "sat":
            return _answer(Verdict.UNKNOWN, name, "unknown (exact)", started, 0, answer.reason, units=spent)
        evaluate = wall.evaluator(answer.values, self.inputs)
        rep = self._replay(obligation, decode(self.book, self.slots, evaluate), evaluate)
        if not rep.violates:
            raise SpuriousCounterexample(
                f"z3 found an exact model for {name!r} that the concrete engine does not confirm "
                f"({', '.join(rep.outside) or rep.rejected or 'the obligation holds on replay'})\n"
                f"policy: {self.policy.name}\nstory: {rep.story!r}"
            )
        cx = Counterexample(rep.story, rep.steps, rep.failed_at, name, rep.detail)
        size = evaluate(self.size).as_long()
        return _answer(
            Verdict.REFUTED,
            name,
            "sat (exact, replayed)",
            started,
            0,
            rep.detail,
            units=spent,
            counterexample=cx,
            replay=rep,
            size=size,
        )

    def _abstracted_check(self, name: str, key: str | None, extra: Any, budget: int) -> Answer:
        """The exact query with each of :attr:`abstracted`'s terms replaced by a fresh variable,
        everywhere at once (its definition forgotten, what the proved facts say of the term kept,
        now of the variable). A weaker question: every model of the query is a model of it with
        each variable set to its term's value, so unsat here is unsat there. A model of it need
        not be one of the query (a variable need not equal its term), so it never refutes: sat is
        UNKNOWN, and the query is asked as it is after it (docs/solver-notes.md#the-gap-abstracted-issue-18)."""
        started = time.perf_counter()
        terms = [t for t in self.abstracted if not z3.is_int_value(t)]
        if not terms:
            return _answer(Verdict.UNKNOWN, name, "nothing to abstract", started, 0, "no term to abstract")
        assertions = [_bool(a.holds) for a in self.assumptions] + self.facts + [self.violations[key]]
        if extra is not None:
            assertions.append(extra)
        free = [(t, z3.Int(f"abstracted.{i}")) for i, t in enumerate(terms)]
        weaker = [z3.substitute(f, *free) for f in assertions]
        answer = wall.check(weaker, [], budget, self.bounds.safety_net)
        if answer.result == "unsat":
            return _answer(Verdict.PROVED, name, "unsat (exact, abstracted)", started, 0, units=answer.units)
        reason = answer.reason or "the abstracted question has a model (its free terms need not equal their terms)"
        return _answer(
            Verdict.UNKNOWN, name, f"{answer.result} (exact, abstracted)", started, 0, reason, units=answer.units
        )

    def _loop(
        self,
        name: str,
        goal: Any,
        obligation: Invariant | None,
        *,
        witness: bool,
        started: float | None = None,
        budget: int | None = None,
        max_rounds: int | None = None,
    ) -> Answer:
        started = time.perf_counter() if started is None else started
        budget = self.solve_units if budget is None else budget
        spent = 0
        rounds_allowed = self.bounds.refinements if max_rounds is None else min(max_rounds, self.bounds.refinements)
        self.solver.push()
        if goal is not None:
            self.solver.add(goal)
        try:
            for rounds in range(rounds_allowed + 1):
                if budget - spent <= 0:
                    return _answer(
                        Verdict.UNKNOWN,
                        name,
                        "out of effort",
                        started,
                        rounds,
                        f"its effort ran out after {rounds} refinement rounds ({effort.units_text(spent)})",
                        units=spent,
                    )
                solved = effort.solve(self.solver, budget - spent, self.bounds.safety_net)
                spent += solved.units
                if solved.result == "unsat":
                    if witness:
                        core = tuple(sorted(str(c).removeprefix("assume: ") for c in self.solver.unsat_core()))
                        return _answer(
                            Verdict.VACUOUS,
                            name,
                            "unsat",
                            started,
                            rounds,
                            "the assumptions conflict: " + "; ".join(core),
                            units=spent,
                            conflicting=core,
                        )
                    return _answer(Verdict.PROVED, name, "unsat", started, rounds, units=spent)
                if solved.result == "unknown":
                    result = (
                        "out of effort"
                        if solved.stopped_by == "effort"
                        else "safety net"
                        if solved.stopped_by == "safety net"
                        else "unknown"
                    )
                    return _answer(Verdict.UNKNOWN, name, result, started, rounds, solved.reason, units=spent)
                model = self.solver.model()
                story = decode(self.book, self.slots, under_model(model))
                rep = self._replay(obligation, story, under_model(model))
                if witness and _witnessed(rep, len(self.slots)):
                    return _answer(
                        Verdict.WITNESSED, name, "sat (witness replayed)", started, rounds, units=spent, replay=rep
                    )
                if not witness and rep.violates:
                    cx = Counterexample(rep.story, rep.steps, rep.failed_at, name, rep.detail)
                    size = model.eval(self.size, model_completion=True).as_long()
                    return _answer(
                        Verdict.REFUTED,
                        name,
                        "sat (replayed)",
                        started,
                        rounds,
                        rep.detail,
                        units=spent,
                        counterexample=cx,
                        replay=rep,
                        size=size,
                    )
                facts = self._refine(model, rep, name, rounds)
                # lemmas are true of the exact definitions: they stay for every later question
                self.solver.pop()
                self.solver.add(*facts)
                self.solver.push()
                if goal is not None:
                    self.solver.add(goal)
            return _answer(
                Verdict.UNKNOWN,
                name,
                "sat (spurious)",
                started,
                rounds_allowed,
                f"refinement gave up after {rounds_allowed} rounds",
                units=spent,
            )
        finally:
            self.solver.pop()

    def _replay(self, obligation: Invariant | None, story: Any, evaluate: Callable[[Any], Any]) -> Replay:
        """``refinement.replay`` of a model's story; from the ghost start (``solver.ghost_start``)
        its book must also meet the premise across accounts at the model's ghost price."""
        rep = replay(self.policy, obligation, story, self.bounds)
        if self.bounds.start_margin == ghost_start.GHOST_START:
            ghost = z3.simplify(evaluate(ghost_start.price())).as_long()
            if not ghost_start.holds(self.policy, story.book, self.bounds, ghost):
                rep = attrs.evolve(rep, outside=(*rep.outside, ghost_start.NAME))
        return rep

    def _refine(self, model: z3.ModelRef, rep: Replay, name: str, rounds: int) -> list[z3.BoolRef]:
        """Facts excluding a spurious model; raises when the model was exact (a Solvent bug)."""
        wrong = [] if self.linearizer is None else self.linearizer.mismatches(model)
        if not wrong:
            raise SpuriousCounterexample(
                f"z3 found an exact model for {name!r} that the concrete engine does not confirm "
                f"({', '.join(rep.outside) or rep.rejected or 'the obligation holds on replay'})\n"
                f"policy: {self.policy.name}\nstory: {rep.story!r}"
            )
        # linear lemmas only: the in-process solver stays linear, so its limits are honoured (the
        # exact nonlinear query runs apart, under the safety net: see _exact_check)
        return self.linearizer.strengthen(wrong) + lemmas(wrong, model)


def _answer(
    verdict: Verdict,
    name: str,
    result: str,
    started: float,
    rounds: int,
    reason: str = "",
    *,
    units: int = 0,
    **kw: Any,
) -> Answer:
    return Answer(verdict, QueryStats(name, result, time.perf_counter() - started, rounds, units), reason, **kw)


def _add(solver: z3.Solver, formulas: list[Any]) -> None:
    """``solver.add(*formulas)``, a Boolean term at a time straight to z3 (``add`` checks each
    one's sort through three wrappers first: 9.6 of a profiled N = 8 build's 77 s,
    docs/solver-notes.md#the-linearizers-seconds-issue-18); anything else through ``add``."""
    ref, handle = solver.ctx.ref(), solver.solver
    for f in formulas:
        if type(f) is z3.BoolRef and f.ctx is solver.ctx:
            z3.Z3_solver_assert(ref, handle, f.as_ast())
        else:
            solver.add(f)


def _key(obligation: Invariant | None) -> str | None:
    return None if obligation is None else obligation.id


def _conjuncts(formula: Any) -> list[Any]:
    """A formula's top-level conjuncts (itself where it is not a conjunction)."""
    if isinstance(formula, z3.BoolRef) and z3.is_and(formula):
        return formula.children()
    return [formula]


def _size(formula: Any) -> int:
    """Distinct subterms of ``formula`` (0 for a Python bool)."""
    if not isinstance(formula, z3.ExprRef):
        return 0
    seen: set[int] = set()
    stack = [formula]
    while stack:
        e = stack.pop()
        if e.get_id() not in seen:
            seen.add(e.get_id())
            stack.extend(e.children())
    return len(seen)


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

"""What a proof reports: a verdict, exactly what it covers, the evidence, and the time spent.

Verdicts are honest (docs/design.md#honest-verdicts):

- ``PROVED``: every query of the proof was unsat, under the stated assumptions and scope.
- ``REFUTED``: a z3 model was turned into a concrete book and events and replayed on the concrete
  engine, which broke the obligation; the replayed story is attached.
- ``UNKNOWN``: a query timed out or z3 gave up (``reason_unknown``), or refinement ran out of
  rounds; the reason and the time are attached. Never reported as proved.
- ``VACUOUS``: the assumptions alone are unsatisfiable (the names of a conflicting subset are
  attached): "proved" would mean nothing.
- ``PARTIAL``: some obligations proved and others unknown; never reported as proved.

``WITNESSED`` answers only "are the assumptions satisfiable?" (a replayed concrete story); it is
kept apart from ``PROVED`` so that a satisfiable assumption set can never be read as a proof.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from solvent.properties.scenarios import Story
from solvent.rules.engine import Step
from solvent.rules.ledger import InternalError


class Verdict(enum.Enum):
    PROVED = "proved"
    REFUTED = "refuted"
    UNKNOWN = "unknown"
    VACUOUS = "vacuous"
    PARTIAL = "partial"
    #: the answer to the vacuity question only: the assumptions are satisfiable, shown by a
    #: concrete story the engine replays. Never the verdict of a proof or an obligation.
    WITNESSED = "witnessed"


class SpuriousCounterexample(InternalError):
    """z3 and the concrete engine disagree: an exact model does not break the claim when replayed.

    A bug in Solvent (the two interpreters of the engine differ), never a finding about a policy.
    """


class InconsistentProof(InternalError):
    """Two of Solvent's own answers contradict each other: an argument said a claim cannot fail,
    and a story replayed on the concrete engine breaks it within the argument's scope.

    A bug in Solvent (an unsound lemma, or an engine path the argument did not see), never a
    finding about a policy; the run stops rather than print the two side by side.
    """


#: The obligation that no transfer moves a negative amount (a negative transfer is an engine bug).
TRANSFERS = "non-negative-transfers"


@attrs.frozen
class Scope:
    """Exactly what a verdict covers.

    ``accounts`` is the number of traders, or ``None`` for every number of traders (a
    compositional proof); ``events`` the length of the event sequences (``None``: any length, by
    induction), each of ``kinds``;
    ``prices`` describes the price range or grid.
    """

    accounts: int | None
    events: int | None
    kinds: tuple[str, ...]
    prices: str
    #: what the symbolic book fixes rather than ranges over, in words (empty: not stated)
    fixed: str = ""
    #: what an all-N verdict assumes of the engine beyond its lemmas, in words (empty: only that
    #: it treats accounts uniformly, stated in the method line)
    assumes: str = ""

    @property
    def text(self) -> str:
        n = "all N" if self.accounts is None else f"N ≤ {self.accounts}"
        if self.accounts is None and self.assumes:
            n += f" given that {self.assumes}"
        k = "any K" if self.events is None else f"K ≤ {self.events}"
        return f"{n}, {k} ({', '.join(self.kinds)}), {self.prices}"


#: the reason of an obligation proved because no event of the kinds asked can break it
TRIVIALLY = "trivially: no event of these kinds can break it"


@attrs.frozen
class QueryStats:
    """One solver query: what it asked, what z3 said, how long it took, refinement rounds, and
    the units it spent (``solvent.solver.effort``: deterministic, unlike ``seconds``)."""

    name: str
    result: str
    seconds: float
    refinements: int = 0
    units: int = 0


@attrs.frozen
class Counterexample:
    """A replayed story that breaks ``obligation`` at step ``step_index`` (0-based)."""

    story: Story
    steps: tuple[Step, ...]
    step_index: int
    obligation: str
    detail: str = ""
    #: for a one-mark-move refutation told at its least move: what the minimization found
    #: (``solvent.solver.smallest_move.SmallestMove``), else None
    move: Any = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class ObligationResult:
    """The verdict of one obligation of a proof (the invariant, or non-negative transfers)."""

    obligation: str
    verdict: Verdict
    reason: str = ""
    scope: Scope | None = None


@attrs.frozen
class ScopeAnswer:
    """z3's answer on one margin scope of a claim (``solvent.solver.margin_scopes``): ``label``
    names the books it covers ("all-cross books", "books with an isolated position")."""

    label: str
    result: ProofResult


@attrs.frozen
class ProofResult:
    """The outcome of :func:`solvent.solver.prove.prove`; for a policy that declares several
    margin modes, the outcome of one question per margin scope (``parts``, :func:`joined`)."""

    policy: str
    invariant: str
    verdict: Verdict
    scope: Scope
    seconds: float
    method: str
    reason: str = ""
    counterexample: Counterexample | None = None
    obligations: tuple[ObligationResult, ...] = ()
    queries: tuple[QueryStats, ...] = ()
    assumptions: tuple[str, ...] = ()
    conflicting: tuple[str, ...] = ()
    lemmas: tuple[str, ...] = ()
    witness: Story | None = None
    accepted: bool = False
    #: the refutation was found by the search on the grid's doubling and halving that a claim the
    #: policy accepts as failing is asked first (``solver.prove``'s ``accepted_grid``, check's second
    #: round; ``solvent prove --grid-first``): what a command that reproduces its story must ask too
    grid_first: bool = False
    #: the bounds the proof was asked within (``solvent.solver.bounds.Bounds``): what
    #: ``solvent.solver.coverage`` checks a replayed story against
    bounds: Any = attrs.field(default=None, eq=False, repr=False)
    #: one answer per margin scope, in the order asked (:func:`joined`); empty: one question
    parts: tuple[ScopeAnswer, ...] = ()

    @property
    def proved(self) -> bool:
        return self.verdict is Verdict.PROVED

    @property
    def trivial(self) -> bool:
        """Proved only because no event of the kinds asked can reach the claim at all (e.g.
        ``deposit-not-absorbed`` on mark moves, an ADL claim on a policy with no ADL layer): true,
        and worth saying, but not evidence about the policy, so reports label it and summaries do
        not count it as a proof."""
        if self.parts:
            return self.proved and all(p.result.trivial for p in self.parts)
        own = next((o for o in self.obligations if o.obligation == self.invariant), None)
        return self.proved and own is not None and own.reason.startswith(TRIVIALLY)

    @property
    def units(self) -> int:
        """The effort spent (``solvent.solver.effort``): the same on any machine, unlike ``seconds``."""
        return sum(q.units for q in self.queries)

    @property
    def proved_scope(self) -> Scope:
        """What the whole verdict covers: where its obligations were proved on different scopes
        (an all-N claim beside non-negative transfers proved for N ≤ 2), the weakest of them, so a
        headline never says more than every obligation it stands for; a verdict of several margin
        scopes covers all N only where every scope's does."""
        if self.parts:
            heads = [p.result.proved_scope for p in self.parts]
            every = all(h.accounts is None for h in heads)
            n = None if every else min(h.accounts for h in heads if h.accounts is not None)
            return attrs.evolve(heads[0], accounts=n, assumes=heads[0].assumes if every else "")
        scopes = [o.scope for o in self.obligations if o.scope is not None] or [self.scope]
        accounts = [s.accounts for s in scopes if s.accounts is not None]
        events = [s.events for s in scopes if s.events is not None]
        n = min(accounts) if accounts else None
        return attrs.evolve(
            self.scope,
            accounts=n,
            events=min(events) if events else None,
            assumes=self.scope.assumes if n is None else "",
        )

    def scopes_text(self) -> tuple[str, str]:
        """(the scope the verdict heads with, what follows it): a proof whose obligations hold on
        different scopes heads with the weakest (:attr:`proved_scope`), then names each obligation
        proved beyond it with its own ("; no-negative-equity proved (all N given that …)"). A
        verdict of several margin scopes names each scope's with its label ("all-cross books: N ≤ 2
        …; books with an isolated position: N ≤ 1 …")."""
        if self.parts:
            return "; ".join(f"{p.label}: {''.join(p.result.scopes_text())}" for p in self.parts), ""
        proved = self.verdict is Verdict.PROVED
        head = self.proved_scope if proved else self.scope
        beyond = [o for o in self.obligations if o.scope is not None and o.scope != head]
        more = "; " + "; ".join(f"{o.obligation} {o.verdict.value} ({o.scope.text})" for o in beyond)
        return head.text, more if beyond and proved else ""

    def summary(self) -> str:
        """One line: verdict, scope (:meth:`scopes_text`), time, and the reason when there is one."""
        head, more = self.scopes_text()
        line = f"{self.invariant} on {self.policy}: {self.verdict.value} ({head}) in {self.seconds:.2f} s{more}"
        return f"{line}: {self.reason}" if self.reason else line


def scoped_verdict(verdicts: list[Verdict]) -> Verdict:
    """The verdict of one claim asked on several margin scopes: refuted if any scope is (its story
    replayed), vacuous if any is (a scope whose assumptions conflict proves nothing), proved only
    if every scope is, partial where some are proved or partly proved, unknown otherwise."""
    if Verdict.REFUTED in verdicts:
        return Verdict.REFUTED
    if Verdict.VACUOUS in verdicts:
        return Verdict.VACUOUS
    if verdicts and all(v is Verdict.PROVED for v in verdicts):
        return Verdict.PROVED
    if Verdict.PROVED in verdicts or Verdict.PARTIAL in verdicts:
        return Verdict.PARTIAL
    return Verdict.UNKNOWN


def part_text(label: str, verdict: Verdict, reason: str) -> str:
    """How a joined verdict's reason names one part's answer: ``label: verdict (reason)``."""
    return f"{label}: {verdict.value}{' (' + reason + ')' if reason else ''}"


def joined(parts: list[ScopeAnswer]) -> ProofResult:
    """One claim's verdict over its margin scopes (:func:`scoped_verdict`), with each scope's answer
    in ``parts``. Its queries are every scope's (its units their sum); its scope, method,
    obligations, bounds and story are those of the scope that decides the headline: the first
    refuting one (its replayed story is the claim's), else the first vacuous, else the first not
    proved (so an undecided scope is never shown as a proof), else the first."""
    if not parts:
        raise ValueError("a claim asked on no margin scope has no verdict")
    if len(parts) == 1:
        return parts[0].result
    verdict = scoped_verdict([p.result.verdict for p in parts])
    lead = next(
        (p.result for p in parts if p.result.verdict is verdict),
        next((p.result for p in parts if p.result.verdict is not Verdict.PROVED), parts[0].result),
    )
    reason = ""
    if verdict is not Verdict.PROVED:
        reason = "; ".join(part_text(p.label, p.result.verdict, p.result.reason) for p in parts)
    return attrs.evolve(
        lead,
        verdict=verdict,
        reason=reason,
        seconds=sum(p.result.seconds for p in parts),
        queries=tuple(q for p in parts for q in p.result.queries),
        parts=tuple(parts),
    )


def combine(results: list[ObligationResult]) -> tuple[Verdict, str]:
    """The verdict of several obligations: refuted if any is, proved only if all are."""
    verdicts = [r.verdict for r in results]
    if not verdicts:
        return Verdict.UNKNOWN, "no obligation was checked"
    if Verdict.VACUOUS in verdicts:
        return Verdict.VACUOUS, next(r.reason for r in results if r.verdict is Verdict.VACUOUS)
    if Verdict.REFUTED in verdicts:
        return Verdict.REFUTED, next(r.reason for r in results if r.verdict is Verdict.REFUTED)
    if all(v is Verdict.PROVED for v in verdicts):
        return Verdict.PROVED, ""
    reasons = "; ".join(
        f"{r.obligation}: {r.verdict.value}{' (' + r.reason + ')' if r.reason else ''}" for r in results
    )
    if Verdict.PROVED in verdicts or Verdict.PARTIAL in verdicts:
        return Verdict.PARTIAL, reasons
    return Verdict.UNKNOWN, reasons


__all__ = [
    "Counterexample",
    "ObligationResult",
    "ProofResult",
    "QueryStats",
    "ScopeAnswer",
    "Scope",
    "InconsistentProof",
    "SpuriousCounterexample",
    "TRANSFERS",
    "Verdict",
    "combine",
    "joined",
    "part_text",
    "scoped_verdict",
]

"""Judge every claim of a policy: on the named scenarios, by search, by z3 within an effort budget,
with every story judged against every claim; the one judgement every front end runs (:class:`Judgement`).

Verdicts are honest about what was done: a failure carries the step that broke the claim and the
whole story up to it; a pass says how many scenario steps exercised the claim and how many search
examples ran ("held"), never "proved"; a claim whose path neither scenarios nor search took is
"not exercised". With a findings directory, stories saved by earlier runs are replayed first.
Every budget is a count (examples, z3 resource units, probes), so a verdict depends only on the
policy, the options and Solvent's version.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

import solvent.solver  # noqa: F401  (registers the z3 backend)
from solvent.properties import catalog, findings, relational
from solvent.properties.catalog import Invariant, StepView
from solvent.properties.played import (
    CI,
    DEEP,
    Outcome,
    SearchBudget,
    SearchResult,
    SearchStats,
    first_violation,
    replay,
)
from solvent.properties.scenarios import SCENARIOS, Story, defaults
from solvent.properties.story import Untold
from solvent.rules.engine import RejectedEvent, Step, step
from solvent.rules.loading import Claims
from solvent.rules.policy import Policy
from solvent.rules.presets import resolve_policy
from solvent.solver.coverage import covered_failure
from solvent.solver.deep_stories import DeepBudget, DeepStory, deep_story
from solvent.solver.from_empty import told
from solvent.solver.smallest_move import MoveBudget, told_at_least_move
from solvent.solver.thresholds import DEFAULT_IDS, Threshold, thresholds
from solvent.solver.verdicts import InconsistentProof, ProofResult
from solvent.verdicts.proofs import ProofBudget, asked_scopes, prove_within


class ClaimStatus(enum.Enum):
    FAILS = "fails"
    ACCEPTED = "fails (accepted)"
    HELD = "held"
    NOT_EXERCISED = "not exercised"


@attrs.frozen
class Violation:
    """The first step of a scenario that broke an invariant, with everything needed to replay it."""

    invariant: str
    scenario: str
    step_index: int
    story: Story
    step: Step = attrs.field(repr=False)
    #: "scenario", "search", "saved" (replayed from the findings directory), "z3" or "deep" (a
    #: deep story, ``solvent.solver.deep_stories``: ``scenario`` then says how, "z3 (K = 3)")
    origin: str = "scenario"
    #: for a relational property: which balances differ between the story and its twin
    note: str = ""
    #: the invariant whose search, proof or saved finding produced this story, when it is another
    #: one (every story is judged against every claim: ``cross_judged``)
    found_for: str = ""
    #: for a z3 story told at its least move: what the minimization found
    #: (``solvent.solver.smallest_move.SmallestMove``: "needs a move of at least 1.0001%")
    move: Any = attrs.field(default=None, eq=False)
    #: for a z3 story: the traders of z3's own book, the N that ``solvent prove`` asks it again at (a
    #: story told from an empty book adds the ``maker`` who holds the order book's inventory); 0 else
    z3_traders: int = attrs.field(default=0, eq=False)

    @property
    def events(self) -> tuple[Any, ...]:
        """The events up to and including the failing one."""
        return self.story.events[: self.step_index + 1]


@attrs.frozen
class ClaimVerdict:
    """What the scenarios showed about one invariant."""

    invariant: Invariant
    status: ClaimStatus
    steps_checked: int
    steps_exercised: int
    violation: Violation | None = None
    search: SearchResult | None = None
    #: the policy (or the command line) declares this failure a deliberate trade-off
    accepted: bool = False
    #: further violations (for example the search's minimal story beside a scenario's)
    more: tuple[Violation, ...] = ()
    #: z3's verdict (``solvent.solver.verdicts.ProofResult``) when ``solvent check`` proved within a budget
    proof: ProofResult | None = None
    #: what the deep-story search did (``solvent.solver.deep_stories.DeepStory``), when asked
    deep: DeepStory | None = None
    #: wall seconds spent judging this invariant on the scenario steps (the search's and z3's own
    #: times are in ``search.stats`` and ``proof``); a measurement only: never compared, never
    #: part of a verdict, shown only as JUnit's per-case time
    seconds: float = attrs.field(default=0.0, eq=False, repr=False)

    @property
    def violations(self) -> tuple[Violation, ...]:
        return ((self.violation,) if self.violation else ()) + self.more


@attrs.frozen
class ScenarioRun:
    """One scenario's steps, or why the policy rejected it."""

    name: str
    story: Story | None
    steps: tuple[Step, ...]
    rejected: str | None = None


@attrs.frozen
class PolicyReport:
    """Every verdict for one policy, and the scenario runs behind them."""

    policy: Policy
    source: str
    verdicts: tuple[ClaimVerdict, ...]
    runs: tuple[ScenarioRun, ...]
    findings_dir: Path | None = None
    #: threshold answers (``solvent.solver.thresholds.Threshold``), when asked for
    thresholds: tuple[Threshold, ...] = ()
    #: the search's budget (None: no search), so that a command printed to search again asks
    #: for the same stories (its seed, ``--deep``, its examples)
    search: SearchBudget | None = None

    @property
    def seed(self) -> int | None:
        """The seed the search drew from (``--seed``, or the one ``--deep`` chose); None: derandomized."""
        return None if self.search is None else self.search.seed

    @property
    def failed(self) -> bool:
        return any(v.status is ClaimStatus.FAILS for v in self.verdicts)


def run_scenario(policy: Policy, name: str) -> ScenarioRun:
    """Apply the scenario's events in order; a rejected event ends the run and says why, and so does
    a story the policy's rules do not let unfold (``Untold``, or an event the engine refuses while a
    scenario sizes its story from the book so far: none of it is run)."""
    try:
        story = SCENARIOS[name].build(policy)
    except (Untold, RejectedEvent) as exc:
        return ScenarioRun(name, None, (), rejected=f"not told on this policy: {exc}")
    steps: list[Step] = []
    book = story.book
    for event in story.events:
        try:
            s = step(policy, book, event)
        except RejectedEvent as exc:
            return ScenarioRun(name, story, tuple(steps), rejected=str(exc))
        steps.append(s)
        book = s.after
    return ScenarioRun(name, story, tuple(steps))


def judge(invariant: Invariant, policy: Policy, runs: Iterable[ScenarioRun], accepted: bool = False) -> ClaimVerdict:
    """Check one invariant on every step of every run."""
    started = time.perf_counter()
    checked = exercised = 0
    violation = None
    for r in runs:
        for index, s in enumerate(r.steps):
            view = StepView.of(policy, s)
            checked += 1
            exercised += bool(invariant.exercised(view))
            if violation is None and not invariant.holds(view):
                violation = Violation(invariant.id, r.name, index, r.story, s)
    if violation is not None:
        status = ClaimStatus.ACCEPTED if accepted else ClaimStatus.FAILS
    else:
        status = ClaimStatus.HELD if exercised else ClaimStatus.NOT_EXERCISED
    return ClaimVerdict(
        invariant, status, checked, exercised, violation, accepted=accepted, seconds=time.perf_counter() - started
    )


def _violation_from(policy: Policy, inv: Invariant, story: Story, origin: str) -> Violation | None:
    steps = replay(policy, story)
    if steps is None:
        return None
    index = first_violation(policy, inv, steps)
    return None if index is None else Violation(inv.id, origin, index, story, steps[index], origin)


def _saved_violation(policy: Policy, inv: Invariant, database: Path | None) -> Violation | None:
    for story in findings.saved_stories(database, policy, inv.id) if database else []:
        saved = _violation_from(policy, inv, story, "saved")
        if saved is not None:
            return saved
    return None


def _search_verdict(policy: Policy, verdict: ClaimVerdict, result: SearchResult, database: Path | None) -> ClaimVerdict:
    inv = verdict.invariant
    found = _violation_from(policy, inv, result.story, "search") if result.story else None
    if found is not None and database is not None:
        findings.save(
            findings.Finding(policy, inv.id, found.story, found.step_index, "search", result.stats.examples),
            findings.database_path(database, policy, inv.id),
        )
    if found is None and verdict.status is ClaimStatus.NOT_EXERCISED and result.outcome is Outcome.NONE_FOUND:
        verdict = attrs.evolve(verdict, status=ClaimStatus.HELD)
    return _merge(verdict, found, result)


def _merge(verdict: ClaimVerdict, found: Violation | None, result: SearchResult | None) -> ClaimVerdict:
    if found is None:
        return attrs.evolve(verdict, search=result)
    failing = ClaimStatus.ACCEPTED if verdict.accepted else ClaimStatus.FAILS
    if verdict.violation is None:
        return attrs.evolve(verdict, status=failing, violation=found, search=result)
    return attrs.evolve(verdict, status=failing, more=verdict.more + (found,), search=result)


def _relational_verdict(policy: Policy, prop_id: str, budget: SearchBudget, accepted: bool) -> ClaimVerdict:
    """A relational property searched like an invariant; its violation is the story, with the twin noted."""
    prop = relational.get(prop_id)
    claim = Invariant(
        prop.id, prop.claim + " (relational: compares the story with a twin)", prop.severity, lambda view: True
    )
    result = relational.search_relational(policy, prop_id, budget)
    stats = result.stats
    searched = SearchResult(
        prop.id,
        result.outcome,
        SearchStats(
            examples=stats.examples,
            events=stats.events,
            exercised_steps=stats.exercised,
            seconds_to_first=stats.seconds_to_first,
            seconds_total=stats.seconds_total,
        ),
    )
    if result.violation is None:
        status = ClaimStatus.HELD if stats.exercised else ClaimStatus.NOT_EXERCISED
        return ClaimVerdict(claim, status, 0, 0, search=searched, accepted=accepted)
    story = result.violation.story
    steps = replay(policy, story)
    assert steps is not None, "a relational story must replay: search produced it"
    found = Violation(prop.id, "search", len(steps) - 1, story, steps[-1], "search", result.violation.explanation)
    return ClaimVerdict(
        claim, ClaimStatus.ACCEPTED if accepted else ClaimStatus.FAILS, 0, 0, found, search=searched, accepted=accepted
    )


def check_policy(
    policy: Policy,
    *,
    source: str = "",
    scenarios: Sequence[str] | None = None,
    invariants: Sequence[str] | None = None,
    accept: Iterable[str] = (),
    search_budget: SearchBudget | None = None,
    findings_dir: Path | None = None,
    relational_properties: bool = True,
    proof_budget: ProofBudget | None = None,
    threshold_probes: int | None = None,
    threshold_ids: Sequence[str] | None = None,
    deep_budget: DeepBudget | None = None,
) -> PolicyReport:
    """Run the scenarios (default: the five stress stories) and judge the invariants (default: the whole catalog).

    With a ``search_budget``, each invariant is also searched (after replaying any story saved in
    ``findings_dir``); new findings are saved there. With a ``proof_budget``
    (``solvent.verdicts.proofs.ProofBudget``), z3 proves or refutes the invariants it decides
    within that budget: a proof is attached to the verdict (and shown as such, with its scope); a
    refutation is a replayed story and counts as a failure like any other. With
    ``threshold_probes``, each threshold question (``solvent.solver.thresholds``; or those in
    ``threshold_ids``) is answered within that many proof attempts. With a ``deep_budget``, each
    claim no story from an ordinary book has broken yet gets a deep-story search
    (:func:`_deep_verdict`). Every budget is a count
    (examples, z3 resource units, probes), never seconds: the verdicts are the same on any machine.
    """
    names = list(scenarios) if scenarios else list(defaults(policy))
    for name in names:
        SCENARIOS.get(name)  # an unknown name: KeyError listing the known ones and the closest
    asked = list(invariants or ())
    for i in asked:
        if i not in relational.RELATIONAL and i not in catalog.CATALOG:
            raise KeyError(f"unknown invariant {i!r}; known: {', '.join(catalog.ids() + relational.ids())}")
    if search_budget is None and any(i in relational.RELATIONAL for i in asked):
        first = next(i for i in asked if i in relational.RELATIONAL)
        raise KeyError(f"{first!r} is a relational property, judged by search only: run it without --no-search")
    chosen = [
        catalog.get(i)
        for i in (asked or catalog.ids())
        if i not in relational.RELATIONAL and (asked or catalog.get(i).applies(policy))
    ]
    relational_ids = (
        [i for i in asked if i in relational.RELATIONAL]
        if asked
        else (relational.ids() if relational_properties else [])
    )
    accepted = set(accept) | set(policy.accepts)
    for i in accepted:
        if i not in relational.RELATIONAL:
            catalog.get(i)
    if proof_budget is not None:
        asked_scopes(policy, proof_budget)  # a margin scope the policy lacks: bad input, before any work
    runs = tuple(run_scenario(policy, n) for n in names)
    verdicts = tuple(judge(inv, policy, runs, inv.id in accepted) for inv in chosen)
    if search_budget is not None:
        # hypothesis only where a search runs: not in ``--no-search`` nor ``solvent prove``'s reports
        # (docs/solver-notes.md#fixed-costs-processes-and-collection-session-28)
        from solvent.properties.search import search_all

        saved = {v.invariant.id: _saved_violation(policy, v.invariant, findings_dir) for v in verdicts}
        fresh = [v.invariant.id for v in verdicts if saved[v.invariant.id] is None]
        results = {r.invariant: r for r in search_all(policy, fresh, search_budget)} if fresh else {}
        verdicts = tuple(
            _merge(v, saved[v.invariant.id], None)
            if saved[v.invariant.id]
            else _search_verdict(policy, v, results[v.invariant.id], findings_dir)
            for v in verdicts
        )
        verdicts += tuple(_relational_verdict(policy, i, search_budget, i in accepted) for i in relational_ids)
    if proof_budget is not None:
        proofs = prove_within(
            policy, [v.invariant.id for v in verdicts if v.invariant.id in catalog.CATALOG], proof_budget
        )
        database = findings_dir if search_budget is not None else None
        verdicts = tuple(
            _proof_verdict(policy, v, proofs.get(v.invariant.id), database, proof_budget.moves) for v in verdicts
        )
    if deep_budget is not None:
        database = findings_dir if search_budget is not None else None
        seed = None if search_budget is None else search_budget.seed
        verdicts = tuple(_deep_verdict(policy, v, deep_budget, database, seed) for v in verdicts)
    verdicts = cross_judged(policy, verdicts, findings_dir if search_budget is not None else None)
    for v in verdicts:
        consistent(policy, v)
    answers: tuple[Threshold, ...] = ()
    if threshold_probes is not None:
        answers = tuple(
            thresholds(policy, ids=threshold_ids or DEFAULT_IDS, max_probes=threshold_probes, minimize=False)
        )
    return PolicyReport(
        policy, source or policy.name, verdicts, runs, findings_dir if search_budget else None, answers, search_budget
    )


def cross_judged(
    policy: Policy, verdicts: Sequence[ClaimVerdict], database: Path | None = None
) -> tuple[ClaimVerdict, ...]:
    """Every story judged against every claim.

    A story found for one invariant (by search, by z3, or replayed from the findings directory)
    may break others too: each catalog invariant is judged on every such story, and a story that
    breaks it is added to its verdict (``found_for`` names the invariant it was found for), with
    a finding saved for it when the invariant has none yet, so the next run replays it first.
    Scenario steps need nothing more: :func:`judge` already judges every invariant on them.
    Relational properties compare a story with its twin and are judged by their own search.
    """
    stories: list[tuple[Violation, list[Step]]] = []
    seen: set[tuple[Any, Any]] = set()
    for v in verdicts:
        for x in v.violations:
            key = (x.story.book, x.story.events)
            if x.origin == "scenario" or v.invariant.id not in catalog.CATALOG or key in seen:
                continue
            seen.add(key)
            steps = replay(policy, x.story)
            if steps is not None:
                stories.append((x, steps))
    out = []
    for v in verdicts:
        inv = v.invariant
        if inv.id not in catalog.CATALOG:
            out.append(v)
            continue
        known = {(x.story.book, x.story.events) for x in v.violations}
        for x, steps in stories:
            if (x.story.book, x.story.events) in known:
                continue
            index = first_violation(policy, inv, steps)
            if index is None:
                continue
            # the story as it was told (its least move, z3's own N) under the claim it breaks too
            found = attrs.evolve(x, invariant=inv.id, step_index=index, step=steps[index], found_for=x.invariant)
            if database is not None:
                path = findings.database_path(database, policy, inv.id)
                if not path.exists():
                    findings.save(findings.Finding(policy, inv.id, x.story, index, x.origin, 0), path)
            if v.status is ClaimStatus.NOT_EXERCISED:
                v = attrs.evolve(v, status=ClaimStatus.HELD)
            v = _merge(v, found, v.search)
            known.add((x.story.book, x.story.events))
        out.append(v)
    return tuple(out)


def consistent(policy: Policy, verdict: ClaimVerdict) -> None:
    """The internal-consistency alarm: a replayed story (scenario, search, saved finding, z3) that
    breaks a claim z3 called proved, inside the proof's scope (``solvent.solver.coverage``), means
    one of Solvent's own answers is wrong. Raise :class:`InconsistentProof` naming both, so the two
    are never printed side by side as if each could be true."""
    if verdict.proof is None or not verdict.violations:
        return
    # a claim asked on several margin scopes: each scope's proof speaks for its own books
    for proof in [p.result for p in verdict.proof.parts] or [verdict.proof]:
        for v in verdict.violations:
            start = covered_failure(policy, proof, v.story, v.step_index)
            if start is not None:
                raise InconsistentProof(
                    f"{policy.name}: z3 proved {verdict.invariant.id} ({proof.scope.text}), but the {v.origin} story "
                    f"{v.scenario!r} breaks it at step {v.step_index + 1}, and its events "
                    f"{start + 1}..{v.step_index + 1} lie inside that proof's scope. One of the two is wrong: "
                    "this is a bug in Solvent."
                )


def _proof_verdict(
    policy: Policy,
    verdict: ClaimVerdict,
    proof: ProofResult | None,
    database: Path | None = None,
    moves: MoveBudget | None = None,
) -> ClaimVerdict:
    """Attach z3's verdict; a refutation's replayed story is a violation (origin "z3"), told at
    its least move within ``moves`` (``solvent.solver.smallest_move``) and saved to the
    counterexample database when the invariant has no saved story yet (the next run replays it
    first, like a searched one)."""
    if proof is None:
        return verdict
    proof = told_at_least_move(policy, verdict.invariant, proof, moves)  # the least move, at the policy's scale
    verdict = attrs.evolve(verdict, proof=proof)
    cx = proof.counterexample
    if cx is None or cx.obligation != verdict.invariant.id or cx.step_index >= len(cx.steps):
        return verdict
    traders = len(cx.story.book.traders)
    z3 = {"origin": "z3", "move": cx.move, "z3_traders": traders}
    # the same failure from an empty book where a route reaches it: deposits and trades, then z3's events
    cx = told(policy, verdict.invariant, cx, proof.bounds)
    found = Violation(verdict.invariant.id, "z3", cx.step_index, cx.story, cx.steps[cx.step_index], **z3)
    if database is not None:
        path = findings.database_path(database, policy, verdict.invariant.id)
        if not path.exists():
            story = attrs.evolve(cx.story, events=cx.story.events[: cx.step_index + 1])
            findings.save(findings.Finding(policy, verdict.invariant.id, story, cx.step_index, "z3", 0), path)
    if any(x.story.book == found.story.book and x.events == found.events for x in verdict.violations):
        return verdict  # the same story, already replayed from the findings directory
    if verdict.status is ClaimStatus.NOT_EXERCISED:
        verdict = attrs.evolve(verdict, status=ClaimStatus.HELD)
    return _merge(verdict, found, verdict.search)


def _from_empty_book(story: Story) -> bool:
    return all(a.cash_quote == 0 and a.size_lots == 0 for a in story.book.accounts)


def _deep_verdict(
    policy: Policy, verdict: ClaimVerdict, budget: DeepBudget, database: Path | None, seed: int | None
) -> ClaimVerdict:
    """A deep-story search (``solvent.solver.deep_stories.deep_story``) for a catalog claim that no
    scenario, search or saved story broke and whose z3 story, if any, starts from a state rather
    than the empty book (its z3 questions in fresh processes, so its story does not depend on what
    the check asked before: ``deep_stories._in_a_fresh_process``). A story found is a
    violation with origin "deep", saved to the counterexample database like a searched one."""
    inv = verdict.invariant
    if inv.id not in catalog.CATALOG:
        return verdict
    if any(x.origin != "z3" or _from_empty_book(x.story) for x in verdict.violations):
        return verdict
    found = deep_story(policy, inv, budget, seed=seed)
    verdict = attrs.evolve(verdict, deep=found)
    if found.story is None or found.step_index is None:
        return verdict
    steps = replay(policy, found.story)
    assert steps is not None, "a deep story is replayed before it is returned"
    violation = Violation(inv.id, found.origin, found.step_index, found.story, steps[found.step_index], "deep")
    if database is not None:
        path = findings.database_path(database, policy, inv.id)
        if not path.exists():
            findings.save(findings.Finding(policy, inv.id, found.story, found.step_index, "deep", found.examples), path)
    if verdict.status is ClaimStatus.NOT_EXERCISED:
        verdict = attrs.evolve(verdict, status=ClaimStatus.HELD)
    return _merge(verdict, violation, verdict.search)


def known_claims() -> Claims:
    """What a policy's ``accepts`` may name: every invariant of the catalog (with those a user
    registered) and every relational property."""
    return Claims(tuple(catalog.ids()), tuple(relational.ids()))


def resolve(name_or_path: str) -> Policy:
    """A policy file or bundled preset, with its ``accepts`` checked against the known claims (a
    bad name is a ``PolicyError`` naming the file, ``$.accepts[i]``, its line and the closest id)."""
    return resolve_policy(name_or_path, claims=known_claims())


#: Where the counterexample database lives unless a front end is told otherwise.
DEFAULT_FINDINGS_DIR = Path(".solvent/findings")


@attrs.frozen
class Judgement:
    """How much evidence a front end asks for: one value, the same defaults everywhere.

    ``solvent check``, ``solvent diff``, ``solvent gallery``, ``pytest --solvent`` and the Python
    API (``solvent.check``) all build one of these from their options and call :meth:`run`, so the
    same policy gets the same verdicts from every front end. The defaults are what ``solvent
    check`` does with no options: the five stress scenarios, the derandomized CI search (200
    examples per claim), the relational properties, z3 within its effort budget
    (:class:`~solvent.verdicts.proofs.ProofBudget`: 60M units per policy), the findings directory
    ``.solvent/findings``, and no thresholds. Every budget is a count, so a verdict depends only
    on the policy, this value and Solvent's version.
    """

    search: SearchBudget | None = CI
    proofs: ProofBudget | None = ProofBudget()
    findings_dir: Path | None = DEFAULT_FINDINGS_DIR
    scenarios: tuple[str, ...] = ()
    invariants: tuple[str, ...] = ()
    accept: tuple[str, ...] = ()
    threshold_probes: int | None = None
    threshold_ids: tuple[str, ...] = ()
    #: the deep-story search per claim (``--deep-stories``), or None
    deep_stories: DeepBudget | None = None

    @classmethod
    def from_options(
        cls,
        *,
        search: bool = True,
        deep: bool = False,
        examples: int | None = None,
        prove_budget: int | None = None,
        prove_effort: int | None = None,
        seed: int | None = None,
        deep_stories: bool = False,
        least_move: bool = True,
        margin_scopes: tuple[str, ...] = (),
        **rest: object,
    ) -> Judgement:
        """The judgement the command-line flags describe: ``--no-search`` runs scenarios only (and
        no z3 unless ``--prove-budget`` asks); ``--deep`` searches longer; ``--examples`` sets
        the search's examples; ``--seed`` the stories it draws (default: derandomized, the same
        every run; ``--deep`` without a seed picks one, which the report prints so that the run can
        be repeated); ``--prove-budget 0`` asks z3 nothing; ``--deep-stories`` adds the deep-story
        search (``DeepBudget()``) for the claims nothing else broke from an ordinary book;
        ``--no-least-move`` (``least_move=False``) shows each z3 story as z3 found it, without the
        minimization whose units are its own beside the budget: the same verdicts, other stories;
        ``--margin-scopes`` (``margin_scopes``) asks z3 on those margin scopes only (default: every
        scope the policy has, ``solvent.solver.margin_scopes``)."""
        budget = None
        if search:
            budget = DEEP if deep else CI
            budget = budget if examples is None else attrs.evolve(budget, max_examples=examples)
            if seed is None and deep:
                import random

                seed = random.SystemRandom().randrange(2**32)
            budget = budget if seed is None else attrs.evolve(budget, seed=seed)
        default = ProofBudget()
        total = (default.total if search else 0) if prove_budget is None else prove_budget
        proofs = (
            ProofBudget(
                total=total,
                per_question=default.per_question if prove_effort is None else prove_effort,
                moves=default.moves if least_move else None,
                scopes=margin_scopes,
            )
            if total > 0
            else None
        )
        deep_budget = DeepBudget() if deep_stories else None
        return cls(search=budget, proofs=proofs, deep_stories=deep_budget, **rest)  # type: ignore[arg-type]

    def run(self, policy: Policy, source: str = "") -> PolicyReport:
        """Judge ``policy`` (``source`` is how the user named it: a path or a preset)."""
        return check_policy(
            policy,
            source=source,
            scenarios=self.scenarios or None,
            invariants=self.invariants or None,
            accept=self.accept,
            search_budget=self.search,
            findings_dir=self.findings_dir,
            proof_budget=self.proofs,
            threshold_probes=self.threshold_probes,
            threshold_ids=self.threshold_ids or None,
            deep_budget=self.deep_stories,
        )


def side_by_side(judgement: Judgement, policies: Sequence[tuple[Policy, str]]) -> list[PolicyReport]:
    """Each (policy, source) judged from the same state of the findings directory.

    ``solvent diff`` compares two versions; if the first version's run saved new stories that the
    second then replayed, the two sides would be judged on different evidence, and the same diff
    run twice would differ (the second run replays what the first saved). So every side reads a
    private copy of the directory as it was before any side ran; afterwards the stories each side
    found are copied into the directory (never over a file already there), and the reports point
    at it.
    """
    import shutil
    import tempfile

    root = judgement.findings_dir
    if root is None or judgement.search is None:
        return [judgement.run(p, source=s) for p, s in policies]
    reports = []
    with tempfile.TemporaryDirectory(prefix="solvent-findings-") as tmp:
        copies = []
        for k, (policy, source) in enumerate(policies):
            copy = Path(tmp) / str(k)
            if Path(root).is_dir():
                shutil.copytree(root, copy)
            else:
                copy.mkdir()
            copies.append(copy)
            reports.append(attrs.evolve(judgement, findings_dir=copy).run(policy, source=source))
        for copy in copies:
            for found in sorted(copy.rglob("*.json")):
                target = Path(root) / found.relative_to(copy)
                if not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(found, target)
    return [attrs.evolve(r, findings_dir=Path(root)) for r in reports]

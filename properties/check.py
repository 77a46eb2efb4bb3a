"""Run a policy through the named scenarios and judge every invariant after every step.

Verdicts are honest about what a scenario run is: a failure carries the step that broke the claim
and the whole story up to it; a pass says how many steps exercised the claim ("held in N steps"),
never "proved"; a claim whose path no scenario took is "not exercised".
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from solvent.properties import catalog
from solvent.properties.catalog import Invariant, StepView
from solvent.properties.scenarios import SCENARIOS, Story
from solvent.rules.engine import RejectedEvent, Step, step
from solvent.rules.policy import Policy


class Status(enum.Enum):
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

    @property
    def events(self) -> tuple[Any, ...]:
        """The events up to and including the failing one."""
        return self.story.events[: self.step_index + 1]


@attrs.frozen
class Verdict:
    """What the scenarios showed about one invariant."""

    invariant: Invariant
    status: Status
    steps_checked: int
    steps_exercised: int
    violation: Violation | None = None


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
    verdicts: tuple[Verdict, ...]
    runs: tuple[ScenarioRun, ...]

    @property
    def failed(self) -> bool:
        return any(v.status is Status.FAILS for v in self.verdicts)


def run_scenario(policy: Policy, name: str) -> ScenarioRun:
    """Apply the scenario's events in order; a rejected event ends the run and says why."""
    story = SCENARIOS[name].build(policy)
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


def judge(invariant: Invariant, policy: Policy, runs: Iterable[ScenarioRun], accepted: bool = False) -> Verdict:
    """Check one invariant on every step of every run."""
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
        status = Status.ACCEPTED if accepted else Status.FAILS
    else:
        status = Status.HELD if exercised else Status.NOT_EXERCISED
    return Verdict(invariant, status, checked, exercised, violation)


def check_policy(
    policy: Policy,
    *,
    source: str = "",
    scenarios: Sequence[str] | None = None,
    invariants: Sequence[str] | None = None,
    accept: Iterable[str] = (),
) -> PolicyReport:
    """Run the scenarios (default: all) and judge the invariants (default: the whole catalog)."""
    names = list(scenarios) if scenarios else list(SCENARIOS)
    for name in names:
        if name not in SCENARIOS:
            raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    chosen = [catalog.get(i) for i in (invariants or catalog.ids())]
    accepted = set(accept) | set(policy.accepts)
    for i in accepted:
        catalog.get(i)
    runs = tuple(run_scenario(policy, n) for n in names)
    verdicts = tuple(judge(inv, policy, runs, inv.id in accepted) for inv in chosen)
    return PolicyReport(policy, source or policy.name, verdicts, runs)

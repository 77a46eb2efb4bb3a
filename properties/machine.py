"""A hypothesis state machine over the engine: rules are actions, invariants are the catalog.

``machine(policy)`` returns a ``RuleBasedStateMachine`` class for one policy. Each rule resolves
one state-relative action (``solvent.properties.actions``) against the current book and applies
it with the concrete engine; the invariant judges every catalog claim (or the chosen ones) on
the last step, and ``target()`` pushes toward bad debt. Use it in a test module::

    TestBinance = machine(load_preset("binance")).TestCase

A failure shows its story: hypothesis's minimal run fails with the text the reports use (the
events, the book before, the transfers, who paid) and the command that replays it, ``solvent
replay FILE``, the story saved in the counterexample database (``findings_dir``, default
``.solvent/findings``, where ``solvent check`` also replays it first).

Its ``TestCase`` runs with hypothesis's literal pool pinned as every search of Solvent's pins it
(``search.same_draws_in_any_process``): under a derandomized profile the same run then draws the
same stories whatever modules the process has imported. A caller of
``run_state_machine_as_test`` does the same by running it inside
``same_draws_in_any_process(policy)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

from hypothesis import strategies as st
from hypothesis import target
from hypothesis.control import current_build_context, currently_in_test_context
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from solvent.properties import actions as act
from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.properties.search import same_draws_in_any_process
from solvent.properties.story import Story
from solvent.properties.strategies import LIQUIDITY_QUOTE, NAMES, PPM_PER_BP, _move_bps
from solvent.rules.book import Book, new_book
from solvent.rules.engine import RejectedEvent, Step, step
from solvent.rules.events import Deposit
from solvent.rules.margin import equity
from solvent.rules.policy import Policy


def _final_run() -> bool:
    """Whether this is hypothesis's last run of the minimal failing example (or no hypothesis run
    at all): only then is the story told and saved, not on every shrinking attempt."""
    return not currently_in_test_context() or current_build_context().is_final


#: How a failing run is told: ``tell(policy, start, steps, broken, findings_dir) -> str``. The
#: default here is a plain story (the events as Python, and the replay command when saved); the
#: public ``solvent.machine`` passes the reports' teller, which tells it as ``solvent check`` does
#: (a floor above this one, so it is handed in, never imported from here).
Teller = Callable[[Policy, Book, Sequence[Step], Sequence[str], Path | None], str]


def told_failure(
    policy: Policy, start: Book, steps: Sequence[Step], broken: Sequence[str], findings_dir: Path | None
) -> str:
    """A failing run's story, plainly: saved for ``broken[0]`` under ``findings_dir`` (then the
    replay command ends it), or printed as Python when there is no folder."""
    from solvent.properties import findings

    story = Story(start, tuple(s.event for s in steps))
    lines = [
        f"{broken[0]} broken at step {len(steps)} (found by the state machine)",
        f"  the story, as Python: {story!r}",
    ]
    if findings_dir is not None:
        path = findings.database_path(findings_dir, policy, broken[0])
        findings.save(findings.Finding(policy, broken[0], story, len(steps) - 1, "machine"), path)
        lines.append(f"  reproduce with: solvent replay {path}")
    return "\n".join(lines)


def machine(
    policy: Policy,
    *,
    traders: int = 3,
    invariants: Sequence[str] | None = None,
    findings_dir: Path | str | None = Path(".solvent/findings"),
    tell: Teller | None = None,
) -> type[RuleBasedStateMachine]:
    """A state machine class that searches ``policy`` for a story breaking any chosen invariant.

    On failure the minimal run's assertion tells the story and how to replay it (the story is
    saved under ``findings_dir``; None: not saved, and the story is printed only)."""
    folder = None if findings_dir is None else Path(findings_dir)
    chosen = [catalog.get(i) for i in (invariants or catalog.ids())]
    who = st.integers(0, traders - 1)
    pct = st.integers(1, 100)
    fraction = st.integers(1, 1_000_000)

    class PolicyMachine(RuleBasedStateMachine):
        @initialize(
            mark=st.integers(100, 100_000), worth=st.lists(st.integers(1, 1_000), min_size=traders, max_size=traders)
        )
        def open_book(self, mark: int, worth: list[int]) -> None:
            """A book whose traders each hold the notional of ``worth[i]`` lots (by construction)."""
            self.book = new_book(mark_quote=mark, traders=NAMES[:traders])
            self.start = self.book
            self.steps: list[Step] = []
            self.last: Step | None = None
            self.worst_bad_debt = 0
            self.apply(Deposit("liquidity", LIQUIDITY_QUOTE))
            for account, lots in zip(self.book.traders, worth, strict=False):
                self.apply(Deposit(account.name, lots * mark))

        def apply(self, event) -> None:
            try:
                s = step(policy, self.book, event)
            except RejectedEvent:
                return
            self.book, self.last = s.after, s
            self.steps.append(s)

        def act(self, action: act.Action) -> None:
            event = act.resolve(policy, self.book, action)
            if event is not None:
                self.apply(event)

        @rule(who=who, lots_worth=st.integers(1, 1_000))
        def deposit(self, who: int, lots_worth: int) -> None:
            """Deposit the notional of ``lots_worth`` lots at the current mark (state-relative)."""
            self.act(act.Pay(who, lots_worth * self.book.market.mark_quote))

        @rule(buyer=who, offset=st.integers(1, traders - 1), use=pct, taker=st.booleans())
        def open_position(self, buyer: int, offset: int, use: int, taker: bool) -> None:
            self.act(act.Open(buyer, (buyer + offset) % traders, use, 0, taker))

        @rule(move_bp=_move_bps())
        def move_mark(self, move_bp: int) -> None:
            self.act(act.Move(move_bp * PPM_PER_BP))

        @precondition(lambda self: any(a.size_lots for a in self.book.traders))
        @rule(who=who, offset=st.integers(1, traders - 1), fraction=fraction)
        def close_position(self, who: int, offset: int, fraction: int) -> None:
            self.act(act.Close(who, (who + offset) % traders, fraction))

        @rule(lots_worth=st.integers(1, 1_000))
        def seed_fund(self, lots_worth: int) -> None:
            self.act(act.SeedFund(lots_worth * self.book.market.mark_quote))

        @rule(rate_ppm=st.integers(-10_000, 10_000))
        def funding(self, rate_ppm: int) -> None:
            self.act(act.PayFunding(rate_ppm))

        @rule(who=who, fraction=fraction)
        def withdraw(self, who: int, fraction: int) -> None:
            self.act(act.Take(who, fraction))

        if policy.liquidation.final_settlement:  # a rule only where the venue delists this way

            @rule(move_bp=_move_bps())
            def delist(self, move_bp: int) -> None:
                """The market delisted at a settlement price ``move_bp`` from the mark."""
                self.act(act.Delist(move_bp * PPM_PER_BP))

        @invariant()
        def catalog_holds(self) -> None:
            if self.last is None:
                return
            view = StepView.of(policy, self.last)
            bad_debt = sum(max(-equity(policy.margin, a), 0) for a in self.book.traders)
            self.worst_bad_debt = max(self.worst_bad_debt, bad_debt)
            broken = [inv.id for inv in chosen if not inv.holds(view)]
            if not broken:
                return
            message = f"{', '.join(broken)} broken by {self.last.event!r}"
            if _final_run():
                message += "\n\n" + (tell or told_failure)(policy, self.start, self.steps, broken, folder)
            raise AssertionError(message)

        def teardown(self) -> None:
            # target() may be called once per label per example: report the worst seen
            target(float(getattr(self, "worst_bad_debt", 0)), label="bad debt")

        @classmethod
        @functools.cache
        def _to_test_case(cls) -> type:
            """hypothesis's ``TestCase`` for this machine, run with the literal pool pinned (see
            the module docstring). (``_to_test_case`` is how hypothesis builds ``.TestCase``;
            tests/properties/test_search.py fails if a release stops calling it.)"""
            plain = super()._to_test_case()

            class Pinned(plain):
                def runTest(self) -> None:  # noqa: N802 (unittest's name)
                    with same_draws_in_any_process(policy):
                        plain.runTest(self)

                runTest.is_hypothesis_test = True
                runTest._hypothesis_state_machine_class = cls

            Pinned.__name__, Pinned.__qualname__ = plain.__name__, plain.__qualname__
            return Pinned

    PolicyMachine.__name__ = f"Machine_{policy.name.replace('-', '_')}"
    return PolicyMachine

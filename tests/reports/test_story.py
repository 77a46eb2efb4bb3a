"""The shared finding model: grouping, who paid, events in words (progress: test_terminal.py)."""

from __future__ import annotations

import attrs
import pytest

from solvent.reports.story import bankruptcies, describe_event, told, waterfall_paid
from solvent.rules import events as ev
from solvent.rules.book import new_book
from solvent.verdicts.check import PolicyReport
from solvent.verdicts.findings import group_findings


class TestGrouping:
    """A story that breaks several claims at one step is told once."""

    def test_one_group_per_failing_step(self, venue_v2: PolicyReport) -> None:
        groups = group_findings(venue_v2)
        keys = [(g.violation.scenario, g.violation.step_index) for g in groups]
        assert len(keys) == len(set(keys))
        assert sum(len(g.invariants) for g in groups) == sum(len(v.violations) for v in venue_v2.verdicts)

    def test_same_step_twice_is_grouped(self, binance: PolicyReport) -> None:
        principal = next(v for v in binance.verdicts if v.invariant.id == "principal-protected")
        twin = attrs.evolve(principal.invariant, id="twin")
        doubled = attrs.evolve(
            binance,
            verdicts=binance.verdicts
            + (attrs.evolve(principal, invariant=twin, violation=attrs.evolve(principal.violation, invariant="twin")),),
        )
        (group,) = [g for g in group_findings(doubled) if "twin" in g.invariants]
        assert group.invariants == ("principal-protected", "twin")

    def test_accepted_invariants_are_marked(self, binance: PolicyReport) -> None:
        (group,) = [g for g in group_findings(binance) if "no-haircut" in g.invariants]
        assert group.accepted == ("no-haircut",) and group.all_accepted
        assert group.labels == ["no-haircut (accepted)"]


class TestWhoPaid:
    """Each waterfall layer's payers, read from the ledger."""

    def test_adl_winners_pay_after_the_fund(self, binance: PolicyReport) -> None:
        (t,) = [t for t in told(binance) if t.group.invariants == ("principal-protected",)]
        paid = [(p.index, p.layer, p.payer, p.amount) for p in waterfall_paid(t.group.step)]
        assert paid == [
            (0, "insurance_fund", "insurance_fund", 1),
            (1, "adl", "bob", 19_200),
            (1, "adl", "carol", 19_200),
            (1, "adl", "dave", 19_200),
        ]

    def test_bankruptcy_split_adds_up_to_the_deficit(self, reports: list[PolicyReport]) -> None:
        for report in reports:
            for t in told(report):
                for b in bankruptcies(t.steps):
                    assert sum(c for _, _, c in b.layers) + b.unpaid == b.deficit


class TestEventsInWords:
    @pytest.mark.parametrize(
        "event, words",
        [
            (ev.Deposit("alice", 8_801), "alice deposits 8,801"),
            (ev.Withdraw("bob", 5), "bob withdraws 5"),
            (ev.Trade("alice", "bob", 100, 10_000), "alice buys 100 lots from bob at 10,000 (alice takes)"),
            (ev.MarkPrice(9_823), "mark 10,000 → 9,823 (−1.77%)"),
            (ev.MarkPrice(10_300), "mark 10,000 → 10,300 (+3.00%)"),
            (ev.Funding(100), "funding at 100 ppm"),
        ],
    )
    def test_describe(self, event, words: str) -> None:
        assert describe_event(event, new_book(mark_quote=10_000)) == words

"""The internal-consistency alarm: a replayed story inside a proof's scope that breaks the claim.

``covered_failure`` decides strictly whether a proof speaks about a story's failing step; the
verdicts floor raises ``InconsistentProof`` when it does, and the command line turns that into a
loud internal error (exit 4), never a verdict printed beside the proof.
"""

from __future__ import annotations

import attrs
import pytest
from click.testing import CliRunner

from solvent.cli import main
from solvent.properties import catalog
from solvent.properties.scenarios import Story
from solvent.rules.book import Role
from solvent.rules.events import Deposit, MarkPrice
from solvent.rules.presets import load_preset
from solvent.solver import effort
from solvent.solver.bounds import Bounds
from solvent.solver.coverage import covered_failure
from solvent.solver.prove import prove as _prove
from solvent.solver.verdicts import InconsistentProof, Verdict
from solvent.verdicts.check import ClaimStatus, ClaimVerdict, Violation, consistent

#: the module's tests run on one xdist worker (``--dist loadgroup`` sends every ungrouped test
#: on its own, so its tests were split over both workers and each built the module's fixtures):
#: `all_n` and `bounded` (two proofs): 4-9 s under load, built on both workers (session 25)
pytestmark = pytest.mark.xdist_group("coverage")

BINANCE = load_preset("binance")


def prove(*args, **kwargs):
    """``solver.prove`` asked as one question (a fresh z3 context, the collector held off), so its
    units and verdict are the same whatever this test process ran before."""
    with effort.question():
        return _prove(*args, **kwargs)


QUICK = {"effort": 20_000_000}


@pytest.fixture(scope="module")
def all_n() -> object:
    result = prove(BINANCE, "conservation", Bounds(accounts=2, **QUICK), minimize=False)
    assert result.verdict is Verdict.PROVED and result.scope.accounts is None and result.witness is not None
    return result


@pytest.fixture(scope="module")
def bounded() -> object:
    result = prove(BINANCE, "conservation", Bounds(accounts=2, **QUICK), minimize=False, compositional=False)
    assert result.verdict is Verdict.PROVED and result.scope.accounts == 2
    return result


def _story(proof: object) -> Story:
    """The proof's own witness: a plain story inside its assumptions, one mark move."""
    story = proof.witness
    assert isinstance(story.events[0], MarkPrice)
    return story


class TestCovered:
    def test_the_proofs_own_witness_is_covered(self, all_n, bounded) -> None:
        assert covered_failure(BINANCE, all_n, _story(all_n), 0) == 0
        assert covered_failure(BINANCE, bounded, _story(bounded), 0) == 0

    def test_an_event_of_another_kind_is_not(self, bounded) -> None:
        story = _story(bounded)
        deposit = attrs.evolve(story, events=(Deposit(story.book.traders[0].name, 100),))
        assert covered_failure(BINANCE, bounded, deposit, 0) is None

    def test_a_price_outside_the_bounds_is_not(self, bounded) -> None:
        story = _story(bounded)
        far = attrs.evolve(story, events=(MarkPrice(bounded.bounds.max_price + 1),))
        assert covered_failure(BINANCE, bounded, far, 0) is None

    def test_a_book_outside_the_assumptions_is_not(self, bounded) -> None:
        """A clearing account that is not empty breaks the well-formed book: not covered."""
        story = _story(bounded)
        i = story.book.index(story.book.role(Role.CLEARING).name)
        clearing = attrs.evolve(story.book.accounts[i], cash_quote=1)
        broken = attrs.evolve(story, book=story.book.replace_account(i, clearing))
        assert covered_failure(BINANCE, bounded, broken, 0) is None

    def test_renamed_traders_are_covered_only_for_every_n(self, all_n, bounded) -> None:
        story = _story(bounded)
        i = story.book.index(story.book.traders[0].name)
        renamed = attrs.evolve(
            story, book=story.book.replace_account(i, attrs.evolve(story.book.accounts[i], name="zed"))
        )
        assert covered_failure(BINANCE, bounded, renamed, 0) is None
        assert covered_failure(BINANCE, all_n, renamed, 0) == 0

    def test_a_window_must_start_where_the_symbolic_book_does(self, bounded) -> None:
        """K = 1 covers a step whose book before it is inside the assumptions *and* holds what the
        symbolic book fixes: after one event the clock reads 1, not 0, so step 2 is not covered,
        while step 1 of the same story is."""
        story = _story(bounded)
        twice = attrs.evolve(story, events=story.events + story.events)
        assert covered_failure(BINANCE, bounded, twice, 0) == 0
        assert covered_failure(BINANCE, bounded, twice, 1) is None

    def test_an_unproved_claim_covers_nothing(self, bounded) -> None:
        unknown = attrs.evolve(
            bounded, obligations=tuple(attrs.evolve(o, verdict=Verdict.UNKNOWN) for o in bounded.obligations)
        )
        assert covered_failure(BINANCE, unknown, _story(bounded), 0) is None


class TestTheAlarm:
    def _verdict(self, proof: object, story: Story) -> ClaimVerdict:
        from solvent.rules.engine import step

        broken = Violation(
            "conservation", "a mutated engine", 0, story, step(BINANCE, story.book, story.events[0]), "search"
        )
        return ClaimVerdict(catalog.get("conservation"), ClaimStatus.FAILS, 1, 1, broken, proof=proof)

    def test_a_covered_failure_beside_a_proof_is_an_internal_error(self, bounded) -> None:
        with pytest.raises(InconsistentProof, match="z3 proved conservation.*this is a bug in Solvent"):
            consistent(BINANCE, self._verdict(bounded, _story(bounded)))

    def test_an_uncovered_failure_is_not(self, bounded) -> None:
        story = _story(bounded)
        far = attrs.evolve(story, events=(MarkPrice(bounded.bounds.max_price + 1),))
        consistent(BINANCE, self._verdict(bounded, far))  # no error: the proof does not speak about it

    def test_the_command_line_stops_with_exit_4(self, monkeypatch, bounded) -> None:
        from solvent.verdicts import check

        def alarm(policy, verdict):
            raise InconsistentProof("binance: z3 proved conservation (…), but the search story … breaks it")

        monkeypatch.setattr(check, "consistent", alarm)
        result = CliRunner().invoke(main, ["check", "binance", "--no-search", "--invariant", "conservation"])
        assert result.exit_code == 4
        assert "INTERNAL ERROR (InconsistentProof)" in result.output and "Traceback" not in result.output


def test_bounds_that_cannot_hold_the_book_cover_nothing() -> None:
    """A trade-only proof needs two traders; a one-trader book is simply not covered (no error)."""
    from solvent.rules.book import new_book
    from solvent.solver.coverage import _book_inside

    one = new_book(mark_quote=100, traders=("alice",))
    assert _book_inside(BINANCE, one, Bounds(accounts=2, event_kinds=("trade",)), every_n=True) is False

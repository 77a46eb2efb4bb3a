"""One event of mark and funding kinds asked one kind at a time (session 27, helper fundsplit:
``solver.kind_split``; docs/solver-notes.md#the-payer-claims-on-mark-and-funding-by-event-kind-session-27),
and deficit-charged-once's all-N argument kept off a funding payment whose ADL closes otherwise than
a mark move's (``solver.deficit_once.not_moved``)."""

from __future__ import annotations

import attrs
import pytest

from solvent.rules import adl
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import Adl, GapRounding
from solvent.solver import deficit_once, kind_split
from solvent.solver.bounds import Bounds
from solvent.solver.prove import prove
from solvent.solver.verdicts import ObligationResult, ProofResult, QueryStats, Scope, ScopeAnswer, Verdict

MARK_FUNDING = Bounds(accounts=3, events=1, event_kinds=("mark", "funding"), isolated=0)
HYPERLIQUID = load_preset("hyperliquid")
BINANCE = load_preset("binance")
BITMEX = load_preset("bitmex")


def with_adl(policy, **changes):
    return attrs.evolve(
        policy, deficit=tuple(attrs.evolve(d, **changes) if isinstance(d, Adl) else d for d in policy.deficit)
    )


class TestWhichQuestions:
    @pytest.mark.parametrize("claim", kind_split.CLAIMS)
    def test_one_event_of_mark_and_funding_is_two_questions(self, claim: str) -> None:
        assert kind_split.kinds(claim, MARK_FUNDING, HYPERLIQUID) == (("mark",), ("funding",))

    def test_the_isolated_scopes_margin_moves_stay_with_the_mark_moves(self) -> None:
        bounds = attrs.evolve(MARK_FUNDING, isolated=1, event_kinds=("mark", "funding", "margin"))
        assert kind_split.kinds("no-negative-equity", bounds) == (("mark", "margin"), ("funding",))

    def test_two_events_are_one_question(self) -> None:
        """At K = 2 a story mixes kinds: the parts do not decide it."""
        assert kind_split.kinds("no-negative-equity", attrs.evolve(MARK_FUNDING, events=2)) == (("mark", "funding"),)

    @pytest.mark.parametrize("kinds", [("mark",), ("funding",)])
    def test_one_kind_is_one_question(self, kinds) -> None:
        bounds = attrs.evolve(MARK_FUNDING, event_kinds=kinds)
        assert kind_split.kinds("deficit-charged-once", bounds) == (kinds,)

    def test_other_claims_are_one_question(self) -> None:
        assert kind_split.kinds("claims-backed", MARK_FUNDING) == (("mark", "funding"),)
        assert kind_split.kinds("flat-accounts-never-pay", MARK_FUNDING) == (("mark", "funding"),)
        assert kind_split.kinds("adl-ranking-respected", MARK_FUNDING) == (("mark", "funding"),)

    def test_conservation_is_asked_by_kind_where_the_vault_is_deleveraged_at_funding(self) -> None:
        """Session 27 (fundgrid): conservation over mark and funding on hyperliquid, undecided in one
        question since the vault's deleveraging at a funding sweep, is two (its lemmas are per kind
        either way), on all-cross books (the isolated scope is proved whole, its funding part alone is not);
        K = 2 one question. Where
        the engine never deleverages the vault at a funding sweep (BitMEX's fund, Binance: no vault)
        one question, as before. Mutants: conservation out of ``CLAIMS``; the vault's condition
        dropped (BitMEX and Binance split); ``BACKSTOP_VAULT`` read as ``INSURANCE_FUND`` (BitMEX
        split, Hyperliquid not); ``bounds.isolated`` dropped (the isolated scope split)."""
        assert kind_split.kinds("conservation", MARK_FUNDING, HYPERLIQUID) == (("mark",), ("funding",))
        bounds = attrs.evolve(MARK_FUNDING, isolated=1, event_kinds=("mark", "funding", "margin"))
        assert kind_split.kinds("conservation", bounds, HYPERLIQUID) == (("mark", "funding", "margin"),)
        two = attrs.evolve(MARK_FUNDING, events=2)
        assert kind_split.kinds("conservation", two, HYPERLIQUID) == (("mark", "funding"),)
        for policy in (BINANCE, BITMEX, None):
            assert kind_split.kinds("conservation", MARK_FUNDING, policy) == (("mark", "funding"),)
        # the payer claims split on every policy, as before
        assert kind_split.kinds("no-negative-equity", MARK_FUNDING, BINANCE) == (("mark",), ("funding",))


def test_the_verdict_joins_each_kinds_question() -> None:
    """Within 1,000 units each question stops at its build: two parts, each its own 1,000 units, the
    headline over both kinds (a build's units, no z3 search: fast)."""
    bounds = attrs.evolve(MARK_FUNDING, accounts=2, effort=1_000)
    r = prove(HYPERLIQUID, "deficit-charged-once", bounds)
    assert [(p.label, p.result.scope.kinds, p.result.units) for p in r.parts] == [
        ("mark events", ("mark",), 1_000),
        ("funding events", ("funding",), 1_000),
    ]
    assert (r.units, r.scope.kinds, r.scope.events) == (2_000, ("mark", "funding"), 1)
    assert r.verdict.value == "unknown"


class TestTheCallsLemmaAtAFundingPayment:
    FUNDING = attrs.evolve(MARK_FUNDING, event_kinds=("funding",))

    def test_hyperliquid_closes_at_the_bankruptcy_price_per_fill_there(self) -> None:
        why = deficit_once.not_covered(HYPERLIQUID, self.FUNDING)
        assert why is not None
        assert "bankruptcy price, not the previous mark" in why and "rounds the gap per fill" in why
        assert deficit_once.not_covered(HYPERLIQUID, MARK_FUNDING) == why
        assert deficit_once.not_covered(HYPERLIQUID, attrs.evolve(MARK_FUNDING, event_kinds=("mark",))) is None

    def test_binance_rounds_per_fill_there(self) -> None:
        why = deficit_once.not_covered(BINANCE, self.FUNDING)
        assert why is not None and "rounds the gap per fill" in why and "bankruptcy price" not in why

    def test_the_same_rounding_at_both_sweeps_is_covered(self) -> None:
        """Binance per lot at a funding payment too (session 25's rounding): the same terms, covered."""
        per_lot = with_adl(BINANCE, gap_rounding_without_move=GapRounding.PER_LOT)
        assert deficit_once.not_moved(per_lot) is None
        assert deficit_once.not_covered(per_lot, self.FUNDING) is None
        hl = deficit_once.not_moved(with_adl(HYPERLIQUID, gap_rounding_without_move=GapRounding.PER_LOT))
        assert hl is not None and "bankruptcy price" in hl and "per fill" not in hl and "per lot" not in hl

    def test_it_reads_the_engines_own_choice(self, monkeypatch) -> None:
        """The mutant: the rounding read as before session 26 (``gap_rounding`` at every sweep): Binance's
        funding payment would be covered again, and this test's observation flips."""
        monkeypatch.setattr(adl, "rounds_per_fill", lambda ctx, layer: layer.gap_rounding is GapRounding.PER_FILL)
        assert deficit_once.not_moved(BINANCE) is None


def _result(
    verdict: Verdict, accounts: int | None, kinds: tuple[str, ...], units: int, assumes: str = ""
) -> ProofResult:
    scope = Scope(accounts, 1, kinds, "prices 1..9", assumes=assumes)
    claim = ObligationResult("deficit-charged-once", verdict, "" if verdict is Verdict.PROVED else "ran out", scope)
    moved = ObligationResult("non-negative-transfers", Verdict.PROVED, "", Scope(2, 1, kinds, "prices 1..9"))
    stats = (QueryStats("q", "unsat", 0.0, units=units),)
    return ProofResult("p", "deficit-charged-once", verdict, scope, 0.0, "m", obligations=(claim, moved), queries=stats)


class TestTheJoin:
    WHOLE = Scope(2, 1, ("mark", "funding"), "prices 1..9")

    def join(self, *results: ProofResult) -> ProofResult:
        labels = ("mark events", "funding events")
        return kind_split.joined_by_kind([ScopeAnswer(k, r) for k, r in zip(labels, results, strict=True)], self.WHOLE)

    def test_all_n_only_where_each_kind_is(self) -> None:
        """The mark moves' claim for every N beside the funding payments' at N ≤ 2: the claim at N ≤ 2 (the
        mutant taking the first part's scope, as ``verdicts.joined`` alone does, says every N)."""
        r = self.join(_result(Verdict.PROVED, None, ("mark",), 5, "A"), _result(Verdict.PROVED, 2, ("funding",), 7))
        assert (r.verdict, r.units, r.scope.text) == (Verdict.PROVED, 12, "N ≤ 2, K ≤ 1 (mark, funding), prices 1..9")
        assert [(o.obligation, o.verdict, o.scope.accounts) for o in r.obligations] == [
            ("deficit-charged-once", Verdict.PROVED, 2),
            ("non-negative-transfers", Verdict.PROVED, 2),
        ]

    def test_every_n_where_both_are_with_each_assumption_once(self) -> None:
        r = self.join(
            _result(Verdict.PROVED, None, ("mark",), 5, "A"), _result(Verdict.PROVED, None, ("funding",), 7, "A")
        )
        assert (r.scope.accounts, r.scope.assumes, r.obligations[0].scope.accounts) == (None, "A", None)
        r = self.join(
            _result(Verdict.PROVED, None, ("mark",), 5, "A"), _result(Verdict.PROVED, None, ("funding",), 7, "B")
        )
        assert r.scope.assumes == "A; B"

    def test_one_kind_undecided_leaves_the_claim_partial(self) -> None:
        r = self.join(_result(Verdict.PROVED, None, ("mark",), 5), _result(Verdict.UNKNOWN, 2, ("funding",), 7))
        assert r.verdict is Verdict.PARTIAL
        claim = r.obligations[0]
        assert (claim.verdict, claim.reason) == (
            Verdict.UNKNOWN,
            "mark events: proved; funding events: unknown (ran out)",
        )


@pytest.mark.deep
def test_deficit_charged_once_over_mark_and_funding_at_n2_is_decided_by_its_kinds() -> None:
    """The cell the split decides (docs/solver-notes.md#the-payer-claims-on-mark-and-funding-by-event-kind-session-27):
    deficit-charged-once over mark and funding at N = 2 on all-cross books, proved for N ≤ 2 (the mark
    moves for every N, the funding payments by the direct check), each part's units, to the unit, the
    question of that kind alone (each part is its own question with the whole effort). 9,634,137 units at
    5140d8f, asked twice."""
    bounds = attrs.evolve(MARK_FUNDING, accounts=2, effort=10_000_000)
    r = prove(HYPERLIQUID, "deficit-charged-once", bounds)
    assert r.verdict.value == "proved" and r.scope.accounts == 2
    mark, funding = (p.result for p in r.parts)
    assert mark.scope.accounts is None or mark.obligations[0].scope.accounts is None
    assert funding.obligations[0].scope.accounts == 2
    for part, kinds in ((mark, ("mark",)), (funding, ("funding",))):
        alone = prove(HYPERLIQUID, "deficit-charged-once", attrs.evolve(bounds, event_kinds=kinds))
        assert (alone.verdict, alone.units) == (part.verdict, part.units), kinds

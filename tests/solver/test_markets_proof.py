"""z3 on books of several markets (issue 13, stage 1): the symbolic book holds M markets, events
act on any of them, and the all-N arguments check positions market by market."""

from __future__ import annotations

import pytest

from solvent.properties import catalog
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds
from solvent.solver.compositional import Attempt, Extension, attempt
from solvent.solver.prove import fixed_text, prove
from solvent.solver.story import slots, symbolic_book
from solvent.solver.verdicts import Verdict

TWO = Bounds(accounts=2, markets=2, effort=20_000_000)


def test_the_symbolic_book_holds_every_market_and_events_act_on_each() -> None:
    book, variables = symbolic_book(TWO)
    assert [m.name for m in book.markets] == ["PERP", "PERP2"]
    assert {"s0.PERP2.mark_quote", "s0.alice.PERP2.size_lots"} <= {str(v) for v in variables}
    (slot,) = slots(book, TWO)
    assert [v.label for v in slot.variants] == ["mark in PERP", "mark in PERP2"]
    assert [v.event.market for v in slot.variants] == ["", "PERP2"]


def test_bounds_hold_at_most_three_markets() -> None:
    assert Bounds(markets=3).market_names == ("PERP", "PERP2", "PERP3")
    with pytest.raises(ValueError, match="'markets' must be <= 3: 4"):
        Bounds(markets=4)
    with pytest.raises(ValueError, match="'markets' must be >= 1: 0"):
        Bounds(markets=0)


def test_the_scope_says_how_many_markets() -> None:
    assert fixed_text(TWO).startswith("2 markets (PERP, PERP2), each on the policy's tiers, the clock at 0")
    assert fixed_text(Bounds()).startswith("the clock at 0")


@pytest.mark.parametrize(
    ("preset", "invariant"), [("broker-reg-t", "conservation"), ("binance", "open-interest-balance")]
)
def test_the_all_n_lemmas_hold_on_two_markets(preset: str, invariant: str) -> None:
    found = attempt(load_preset(preset), catalog.get(invariant), TWO)
    assert isinstance(found, Extension), getattr(found, "failed", "")
    assert any(lemma.startswith("P (mark in PERP2)") for lemma in found.lemmas)


def test_a_fill_booked_in_the_wrong_market_breaks_the_position_lemma(monkeypatch) -> None:
    """The position ledger names each fill's market; a ledger that books every fill in the first
    market no longer accounts for the second market's positions, and the all-N argument fails."""
    import attrs

    from solvent.rules import ledger

    original = ledger.Ctx.record_fill

    def first_market_only(self, buyer, seller, lots, price_quote, reason):
        ctx = original(self, buyer, seller, lots, price_quote, reason)
        work = ctx._live()
        last = work.fills[-1]
        work.fills[-1] = ledger.Guarded(last.guard, attrs.evolve(last.item, market="PERP"))
        return ctx

    monkeypatch.setattr(ledger.Ctx, "record_fill", first_market_only)
    found = attempt(load_preset("broker-reg-t"), catalog.get("open-interest-balance"), TWO)
    # a liquidation in either market closes positions in the other, so both moves catch it
    assert isinstance(found, Attempt) and found.failed.startswith("P (mark in PERP")


@pytest.mark.parametrize("market", [0, 1])
def test_the_purified_query_settles_each_markets_open_interest_to_zero(market: int) -> None:
    """Σ s = 0 ⊢ Σ s·(M' − M) = 0 in either market of a two-market book, linearly: the query's
    open-interest hint (``query.hint_open_interest``) multiplies each market's Σ size by the move.
    With the first market's hint alone the second market's settlement stays a sum of unrelated
    products (sat), which left conservation on Binance at M = 2 undecided (20M units exact)."""
    import z3

    from solvent.rules.arith import max_, sum_
    from solvent.solver.linearize import Linearizer
    from solvent.solver.query import hint_open_interest

    book, _ = symbolic_book(TWO)
    sizes = [a.positions[market].size_lots for a in book.accounts]
    old, new = book.markets[market].mark_quote, z3.Int("new_mark")
    clearing = sum_(max_(-(s * (new - old)), 0) - max_(s * (new - old), 0) for s in sizes)
    lin = Linearizer()
    assumption, goal = lin.rewrite([sum_(sizes) == 0, clearing != 0])
    hint_open_interest(lin, book)
    lin.finish()
    solver = z3.Solver()
    solver.add(assumption, goal, *lin.facts)
    assert solver.check() == z3.unsat


@pytest.mark.parametrize("market", [0, 1])
def test_the_purified_query_nets_each_markets_funding_to_zero(market: int) -> None:
    """Σ s = 0 ⊢ Σ (s·M)·r = 0 in either market, linearly: the notional hint (Σ s·M, multiplied
    by the rate) beside the open-interest one. Without it the funding owed is a sum of unrelated
    products, which left conservation over funding events undecided (Binance, 20M units)."""
    import z3

    from solvent.rules.arith import sum_
    from solvent.solver.linearize import Linearizer
    from solvent.solver.query import hint_open_interest

    book, _ = symbolic_book(TWO)
    sizes = [a.positions[market].size_lots for a in book.accounts]
    mark, rate = book.markets[market].mark_quote, z3.Int("rate_ppm")
    lin = Linearizer()
    assumption, goal = lin.rewrite([sum_(sizes) == 0, sum_(s * mark * rate for s in sizes) != 0])
    hint_open_interest(lin, book)
    lin.finish()
    solver = z3.Solver()
    solver.add(assumption, goal, *lin.facts)
    assert solver.check() == z3.unsat


def test_open_interest_is_proved_in_every_market_for_every_n() -> None:
    result = prove("broker-reg-t", "open-interest-balance", TWO, minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert result.scope.accounts is None


def test_a_two_market_story_is_not_covered_by_a_one_market_proof() -> None:
    """The consistency alarm's coverage counts markets: a proof about one market says nothing about
    a book of two, whatever its numbers."""
    from solvent.rules.book import Market, new_book
    from solvent.solver.coverage import _same_shape

    one, _ = symbolic_book(Bounds(accounts=2))
    two, _ = symbolic_book(TWO)
    concrete = new_book(mark_quote=100, more_markets=(Market("ETH", 10),))
    assert not _same_shape(one, concrete, names=True)
    assert _same_shape(two, concrete, names=True)


def test_a_refutation_on_two_markets_is_replayed_as_found() -> None:
    """z3's story on a two-market book replays on the concrete engine (requirements are read on
    the book focused on the event's market on both sides) and is told as found: the smallest-move
    telling speaks of one mark and leaves a book of several markets alone."""
    from pathlib import Path

    from solvent.solver.smallest_move import applies

    policy = Path(__file__).parents[1] / "reports" / "policies" / "two-markets.toml"
    result = prove(str(policy), "no-haircut", attrs_bounds(effort=20_000_000), minimize=False)
    assert result.verdict is Verdict.REFUTED, result.reason
    cx = result.counterexample
    assert cx is not None and cx.story.book.more_markets
    assert not applies(cx, catalog.get("no-haircut"))


def attrs_bounds(**changes) -> Bounds:
    import attrs

    return attrs.evolve(TWO, **changes)


@pytest.mark.deep
def test_conservation_is_proved_for_every_n_on_two_markets() -> None:
    """The all-N lemmas and the direct check at N = 2 both hold on a book of two markets (mark
    moves in either), so conservation is proved for every N there (broker-reg-t at 20M units: 11.6 s
    at load 8). Deep: the direct check is the slow part."""
    result = prove("broker-reg-t", "conservation", TWO, minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert result.scope.accounts is None and result.scope.events is None
    assert "2 markets (PERP, PERP2)" in fixed_text(TWO)


@pytest.mark.deep
def test_conservation_on_binance_is_proved_for_every_n_on_two_markets() -> None:
    """Binance (tiers, liquidation, fund, ADL) on two markets, mark moves in either: the all-N
    lemmas and the purified direct check at N = 2 (each market's open interest hinted) prove
    conservation for every N within 20M units (12 s by solvent prove at load 4.5, 47 s in pytest
    at load 7); undecided before the second market's hint (20M exact 91 s, 60M purified 124 s)."""
    result = prove("binance", "conservation", TWO, minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert result.scope.accounts is None and result.scope.events is None


@pytest.mark.deep
def test_conservation_on_binance_over_every_event_kind_is_proved_for_every_n_on_two_markets() -> None:
    """Mark moves, funding, trades, deposits and withdrawals in either of two markets: proved for
    every N within 40M units, the question's one purse (37 s at load 4.5; the direct check at
    N = 2: 9,515, 7.64M, 7.44M units; at 20M the N = 2 check's share runs out), undecided at any
    effort measured before the notional hint."""
    import attrs

    kinds = attrs.evolve(TWO, effort=40_000_000, event_kinds=("mark", "funding", "trade", "deposit", "withdraw"))
    result = prove("binance", "conservation", kinds, minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert result.scope.accounts is None and result.scope.events is None


@pytest.mark.deep
def test_conservation_on_binance_over_funding_is_proved_for_every_n() -> None:
    """One market, funding events: proved for every N within 20M units (6 s by solvent prove at
    load 4.5, 13 s in pytest at load 7), where it
    was partial at 20M before the notional hint (9b08dbe: 20,965,815 units)."""
    import attrs

    funding = attrs.evolve(TWO, markets=1, event_kinds=("funding",))
    result = prove("binance", "conservation", funding, minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert result.scope.accounts is None


@pytest.mark.deep
def test_conservation_on_binance_and_its_transfers_are_proved_on_three_markets() -> None:
    """Binance on three markets, mark moves in any: conservation for every N and the transfers'
    obligation at N ≤ 2 within 40M units (19,130,972 spent, load 7-8). The N = 2 transfers check
    needs one purified phase of 7,428,856 units; at 20M the purse leaves it about 10M, which the
    phases share in thirds (3.32M each: purified out of effort, exact unknown, purified out of
    effort again), so that run was partial; at 30M it is proved at its margin (27,499,875 units:
    the third phase decides). docs/solver-notes.md#the-open-interest-hint-in-every-market-issue-13."""
    import attrs

    three = attrs.evolve(TWO, markets=3, effort=40_000_000)
    result = prove("binance", "conservation", three, minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert result.scope.accounts is None and result.scope.events is None
    transfers = next(o for o in result.obligations if o.obligation == "non-negative-transfers")
    assert transfers.verdict is Verdict.PROVED and transfers.scope.accounts == 2


@pytest.mark.deep
def test_conservation_is_proved_for_every_n_on_three_markets_asked_exactly() -> None:
    """On three markets the purified direct check gives up after its refinements (20M and 60M units
    undecided); asked as the exact nonlinear query (``--exact``) it is decided, and with the all-N
    lemmas conservation is proved for every N (broker-reg-t at 20M units: 12.9 s at load 6)."""
    import attrs

    three = attrs.evolve(TWO, markets=3, linearize=False)
    result = prove("broker-reg-t", "conservation", three, minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert result.scope.accounts is None and result.scope.events is None

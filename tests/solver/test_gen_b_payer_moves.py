"""Percolator Gen B's payer claims over K > 1 mark moves (``solver.gen_b_payer``'s induction, session 25):
the one-move argument asked again from the premise over moves (the book well formed at maintenance, the
conditions the argument reads: ``side_payer.OVER_MOVES``, session 26; kept by a move: test_gen_b_move.py), a winner's ``E − |s|·m`` above its maintenance margin (``side_payer.floor``)
(docs/solver-notes.md#gen-bs-payer-claims-at-k--3-by-induction-over-moves-session-25).

Default: the route at K > 1 (claims-backed's holders over moves); the settlement from a maintenance start and a
winner above maintenance never triggered (exact z3 on the engine's own functions), each with its mutant at
the threshold (the floor one quantum higher: the settlement has a model; the floor at the maintenance margin
itself: a winner at it is triggered); the floor read at the initial margin on a maintenance start (the
settlement has a model); the premise over moves on random books on the concrete engine (the engine's
evidence beside the lemmas: it can fail). Deep: the argument whole at N = 3, K = 3 (no-negative-equity's and
principal-protected's) and the claim proved with only the uniformity assumption in its scope."""

from __future__ import annotations

import contextlib
import random

import attrs
import pytest
import z3

from solvent.properties import catalog
from solvent.rules.book import new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import HAIRCUT_REASONS
from solvent.rules.liquidation import Trigger
from solvent.rules.margin import initial_margin, maintenance_margin
from solvent.rules.presets import resolve_policy
from solvent.rules.wellformed import StartMargin, reasons
from solvent.solver import claims_backed, compositional, gen_b_payer, gen_b_principal, gen_b_turn, side_payer
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.compositional import _Checker
from solvent.solver.verdicts import Verdict

GEN_B = resolve_policy("percolator-gen-b")
NNE = "no-negative-equity"
K3 = Bounds(accounts=3, events=3, effort=20_000_000)
AT_MAINTENANCE = Bounds(accounts=2, events=1, effort=10_000_000, start_margin="maintenance")


def test_the_route_covers_gen_b_over_moves() -> None:
    bounds = for_policy(K3, GEN_B)
    assert gen_b_payer.not_covered(GEN_B, bounds) is None and gen_b_payer.inducts(GEN_B, bounds)
    assert not gen_b_payer.inducts(GEN_B, for_policy(attrs.evolve(K3, events=1), GEN_B))
    funding = for_policy(attrs.evolve(K3, event_kinds=("mark", "funding")), GEN_B)
    assert "mark moves" in gen_b_payer.not_covered(GEN_B, funding)
    # the direct check's facts stay one move's
    assert not gen_b_payer.fits(GEN_B, for_policy(attrs.evolve(K3, accounts=2), GEN_B), NNE)


def test_claims_backed_asks_the_holders_over_moves_on_gen_b() -> None:
    """claims-backed by its parts at K > 1 (``claims_backed._over_moves``): Gen B's traders' part is the induction's."""
    from solvent.solver import claims_backed

    assert claims_backed._over_moves(GEN_B, for_policy(K3, GEN_B))
    assert not claims_backed._over_moves(GEN_B, for_policy(attrs.evolve(K3, events=1), GEN_B))


def _settlement(margin: str) -> list[str]:
    checker = _Checker(AT_MAINTENANCE)
    bounds = for_policy(AT_MAINTENANCE, GEN_B)
    with side_payer.bound_margin(margin), contextlib.suppress(compositional._Failed):  # (a model: "sat")
        for _, _, _, parts in side_payer.settle_parts(GEN_B, bounds):
            for said, premise, claim in parts:
                if "E − s·d" in said:
                    checker.valid(said, premise, claim, exact=True)
    return [q.result for q in checker.queries]


def _winner(margin: str) -> list[str]:
    checker = _Checker(AT_MAINTENANCE)
    with side_payer.bound_margin(margin), contextlib.suppress(compositional._Failed):
        side_payer.winner_lemmas(GEN_B, checker.valid)
    return [q.result for q in checker.queries]


def test_a_maintenance_start_settles_within_the_bound_and_a_winner_above_maintenance_is_not_triggered() -> None:
    # each trader's E − s·d above its maintenance margin at the previous mark (a flat trader at 0)
    assert _settlement("maintenance") == ["unsat"] * 2
    # a winner one quantum above it not triggered, each side, and the floor of fewer lots no more
    assert _winner("maintenance") == ["unsat"] * 4


def _floor_plus(extra: int):
    def floor(policy, size_lots, price):  # the maintenance floor with its quantum changed
        above = z3.If(size_lots == 0, 0, extra)
        return maintenance_margin(policy.margin, policy.rounding, size_lots, price) + above

    return floor


def test_the_floor_one_quantum_higher_is_not_what_a_maintenance_start_gives(monkeypatch) -> None:
    """Mutant: MM(s) + 2: a trader one quantum above its maintenance margin is a model of the settlement."""
    monkeypatch.setattr(side_payer, "floor", _floor_plus(2))
    assert "sat" in _settlement("maintenance")


def test_a_winner_at_its_maintenance_margin_is_triggered(monkeypatch) -> None:
    """Mutant: MM(s) + 0 (at the margin, not above it): the engine triggers at or below maintenance."""
    monkeypatch.setattr(side_payer, "floor", _floor_plus(0))
    assert "sat" in _winner("maintenance")


def test_the_floor_read_at_the_initial_margin_on_a_maintenance_start(monkeypatch) -> None:
    """Mutant: the bound's floor the initial margin on a maintenance start: the settlement has a model."""

    def floor(policy, size_lots, price):
        return initial_margin(policy.margin, policy.rounding, size_lots, price)

    monkeypatch.setattr(side_payer, "floor", floor)
    assert "sat" in _settlement("maintenance")


def _kept(lemma, *args) -> list[str]:
    checker = _Checker(AT_MAINTENANCE)
    with side_payer.traders(2), side_payer.bound_margin("maintenance"), contextlib.suppress(compositional._Failed):
        lemma(GEN_B, checker.valid, *args)
    return [q.result for q in checker.queries]


def test_a_loser_not_triggered_stays_so_through_another_traders_turn() -> None:
    """The premise over moves (``gen_b_turn.loser_kept_lemma``): each side losing, exact z3 on the engine's turn."""
    assert _kept(gen_b_turn.loser_kept_lemma) == ["unsat"] * 2


def test_a_loser_triggered_before_another_traders_turn_is_still_triggered_after(monkeypatch) -> None:
    """Mutant: the lemma's premise without "not triggered" (only the losing side): a model."""
    monkeypatch.setattr(
        gen_b_turn, "_untriggered_loser", lambda p, book, name, side: [gen_b_turn._losing(book, name, side)]
    )
    assert _kept(gen_b_turn.loser_kept_lemma)[0] == "sat"


def test_a_turn_that_triggers_only_below_maintenance_leaves_a_trader_at_it() -> None:
    """Mutant of the engine's turn: the trigger one token off (``equity_below_maintenance``): a trader at its
    maintenance margin is not closed, and the engine's own test (at or below) triggers it after its turn."""
    trigger = next(t for t in Trigger if t is not GEN_B.liquidation.trigger)
    mutant = attrs.evolve(GEN_B, liquidation=attrs.evolve(GEN_B.liquidation, trigger=trigger))
    assert _kept(gen_b_turn.own_turn_lemma, mutant)[0] == "sat"


@pytest.mark.deep  # 3,459,730 units, 3-4 s (session 25)
def test_a_traders_own_turn_leaves_it_not_triggered() -> None:
    """The premise over moves (``gen_b_turn.own_turn_lemma``): each side losing, exact z3 on the engine's turn."""
    assert _kept(gen_b_turn.own_turn_lemma) == ["unsat"] * 2


def _random_book(rng: random.Random):
    names = tuple(f"t{i}" for i in range(rng.randint(2, 4)))
    mark = rng.choice([10, 100, 1_000])
    sizes = [rng.choice([-1, 0, 1]) * rng.randint(1, rng.choice([4, 200])) for _ in names]
    book = new_book(mark_quote=mark, traders=names)
    for name, size in zip(names, sizes, strict=True):
        im = -(-abs(size) * mark // 10)
        cash = im + rng.choice([0, rng.randint(0, im + 2), rng.randint(0, 10 * im + 2)])
        i = book.index(name)
        values = {"cash_quote": cash, "principal_quote": cash, "size_lots": size, "cost_quote": size * mark}
        book = book.replace_account(i, attrs.evolve(book.accounts[i], **values))
    i = book.index("liquidity")
    rest = {"size_lots": -sum(sizes), "cost_quote": -sum(sizes) * mark}
    book = book.replace_account(i, attrs.evolve(book.accounts[i], **rest))
    fund = book.index("insurance_fund")
    book = book.replace_account(fund, attrs.evolve(book.accounts[fund], cash_quote=rng.choice([0, 0, 50])))
    return attrs.evolve(book, net_deposits_quote=sum(a.cash_quote for a in book.accounts))


def test_a_move_keeps_the_premise_on_random_books() -> None:
    """The premise over moves on the concrete engine (proved kept by the lemmas, ``solver.gen_b_move``; this is
    the engine's own evidence beside them): from well-formed books, after each of three moves (1/100 to 100×) the
    book is well formed at maintenance but for the order book's cash; not vacuous (moves that break the initial
    margin, and that charge a payer). claims-backed's system holders over moves (the fund, the fee account, the
    vault: ``claims_backed.holders_every_n``, session 26): each at or above zero after every move, and some move
    paid out of the fund or into it."""
    rng = random.Random(7)
    initial_broken = charged = fund_moved = 0
    for _ in range(30):
        book = _random_book(rng)
        assert reasons(GEN_B, book) == []
        mark = book.market.mark_quote
        for _move in range(3):
            mark = max(1, mark * rng.choice([1, 10, 50, 95, 105, 200, 1_000, 10_000]) // 100)
            s = step(GEN_B, book, MarkPrice(mark))
            why = reasons(GEN_B, s.after, margin=StartMargin.MAINTENANCE)
            assert [r for r in why if not r.startswith(gen_b_payer.ORDER_BOOK_CASH)] == [], (book, mark)
            initial_broken += bool(reasons(GEN_B, s.after))
            charged += any(t.reason in HAIRCUT_REASONS and t.amount_quote > 0 for t in s.transfers)
            holders = [a.name for a in book.accounts if not a.is_trader and a.role not in claims_backed._NOT_HOLDERS]
            assert all(s.after.account(h).cash_quote >= 0 for h in holders), (book, mark)
            fund_moved += s.after.account("insurance_fund").cash_quote != book.account("insurance_fund").cash_quote
            book = s.after
    assert initial_broken > 0 and charged > 0 and fund_moved > 0


@pytest.mark.deep  # the whole argument twice and the premise kept (5,826,894 units, 11 s at load 3.2, session 25)
def test_the_argument_over_moves_holds_on_gen_b() -> None:
    found = compositional.attempt(GEN_B, catalog.get(NNE), for_policy(K3, GEN_B), units=10_000_000)
    assert isinstance(found, compositional.Extension), getattr(found, "failed", None)
    assert found.every_k and found.one_event_start == gen_b_payer.MOVES_PREMISE
    assert found.assumes == gen_b_payer.ASSUMES  # the uniformity one alone: the premise kept is proved


@pytest.mark.deep  # the whole argument twice with principal-protected's lemmas (5,899,963 units, 17 s at load 3.5)
def test_the_principal_argument_over_moves_holds_on_gen_b() -> None:
    found = compositional.attempt(GEN_B, catalog.get("principal-protected"), for_policy(K3, GEN_B), units=10_000_000)
    assert isinstance(found, compositional.Extension), getattr(found, "failed", None)
    assert found.every_k and found.assumes == f"{gen_b_payer.ASSUMES}; {gen_b_principal.ASSUMES}"


@pytest.mark.deep  # a whole proof at N = 3, K = 3
def test_gen_b_proves_no_negative_equity_over_moves() -> None:
    from solvent.solver.prove import prove

    result = prove("percolator-gen-b", NNE, K3, minimize=False)
    claim = next(o for o in result.obligations if o.obligation == NNE)
    assert claim.verdict is Verdict.PROVED and claim.scope.accounts is None, result.reason
    assert "not proved" not in claim.scope.assumes and gen_b_payer.ASSUMES in claim.scope.assumes


@pytest.mark.deep  # a whole proof at N = 3, K = 3: 11,564,529 units (119 s at load 6.5-7.4, session 26)
def test_gen_b_proves_claims_backed_for_every_n_over_moves() -> None:
    """claims-backed at N = 3, K = 3: the traders' part by the induction (all N, any K), the system holders by their
    all-N argument over the moves (``claims_backed.holders_every_n``, Gen B's turn step read at one move): all N,
    K ≤ 3 (the transfers asked at the question's K), the holders' assumption in the scope, no system holders'
    question asked at N."""
    from solvent.solver.prove import prove

    result = prove("percolator-gen-b", "claims-backed", K3, minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    claim = next(o for o in result.obligations if o.obligation == "claims-backed")
    assert claim.scope.accounts is None and claim.scope.events == 3
    assert claims_backed.EVERY_N_ASSUMES_GEN_B in claim.scope.assumes and gen_b_payer.ASSUMES in claim.scope.assumes
    assert any(q.name.startswith("the system holders over moves: the start meets") for q in result.queries)
    assert not any(q.name == claims_backed.SYSTEM_ID for q in result.queries)

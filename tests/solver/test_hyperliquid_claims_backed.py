"""Hyperliquid's claims-backed: its system holders for every N, the vault's restore among the lemmas
(``claims_backed.holders_every_n`` where ``payer_previous.fits``;
docs/solver-notes.md#hyperliquids-claims-backed-session-22).

The backstop vault holds what it takes over, so settlement may take it below zero; its own
deleveraging before the turns (``engine.before_turns``) closes its position at the previous mark and
brings it back to its worth there, its cash before the move. Each lemma is exact z3 on two traders;
the tests show the restore is what the argument rests on (a vault that is not deleveraged, or one
closed a quantum short of the previous mark, stops it) and that it needs the vault's worth.
"""

from __future__ import annotations

import attrs
import pytest
import z3

import solvent.rules.engine as engine_module
import solvent.rules.pool_bankruptcy as pool_module
from solvent.rules.book import Role
from solvent.rules.engine import before_turns, run
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.presets import resolve_policy
from solvent.solver import claims_backed, effort, queue_fills_lemma, sweep_invariant, wall
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.compositional import _Checker, _Failed
from solvent.solver.prove import prove
from solvent.solver.story import symbolic_book
from solvent.solver.verdicts import Verdict
from tests.rules.test_fidelity_fund_bankruptcy import opened

#: the module's tests run on one xdist worker (``--dist loadgroup`` sends every ungrouped test
#: on its own, so its tests were split over both workers and each built the module's fixtures):
#: `at_four` (the holders' argument at N = 4): 2-3 s under load, built on both workers (session 25)
pytestmark = pytest.mark.xdist_group("hyperliquid-claims-backed")

HYPERLIQUID = resolve_policy("hyperliquid")
UNITS = 3_000_000
RESTORED = sweep_invariant.RESTORED


def _bounds(accounts: int = 4) -> Bounds:
    return for_policy(Bounds(accounts=accounts, events=1, effort=UNITS), HYPERLIQUID)


def _argument(accounts: int = 4) -> tuple[tuple[str, ...], _Checker]:
    bounds = _bounds(accounts)
    with effort.question():
        checker = _Checker(bounds, units=UNITS)
        return claims_backed.holders_every_n(HYPERLIQUID, bounds, checker), checker


@pytest.fixture(scope="module")
def at_four() -> tuple[tuple[str, ...], _Checker]:
    """The argument at N = 4 on the engine as it is, asked once for the two tests that read it (each
    asked it before session 24's second pass; the mutant tests patch the engine and ask their own)."""
    return _argument(4)


def test_the_holders_are_kept_for_every_n_with_the_vaults_restore(at_four) -> None:
    """The phases before the turns (the fund and fee account, the vault's worth after settlement, no
    position moved, the marks prices: 2,614 units), the vault's restore in its four cases (139 + 101,461 +
    177,624 + 302; 117 + 139,943 + 288,295 + 280 before session 24's trigger by its lots' loss in the move,
    ``pool_bankruptcy.lots_lose``), the queue's fills for every N (29,504: what the restore's instance at N
    rests on, an assumption before session 22), alice's turn (2,868), bob's by renaming: 314,512 units at
    N = 4 and 8 alike (two traders; 463,621 before session 24)."""
    lemmas, checker = at_four
    assert lemmas[0].startswith("decomposition (mark)")
    assert "the vault, which settlement may take below zero" in lemmas[-1]
    assert sum(1 for lemma in lemmas if lemma.startswith(RESTORED)) == 4
    assert all(claims_backed.EVERY_N_ASSUMES_PREVIOUS in lemma for lemma in lemmas if lemma.startswith(RESTORED))
    turn = "one liquidation turn keeps every system holder (the fund, the fee account, the vault) at or above zero"
    expected = [
        ("before the turns (mark): the fund and the fee account at or above zero, the vault worth ≥ 0", "unsat"),
        *[
            (f"{RESTORED} (the vault {case})", "unsat")
            for case in ("at or above zero", "below zero, long", "below zero, short", "below zero, flat")
        ],
        # the queue and the book close what they hold opposite the vault as the book alone would, any N
        # (solver.queue_fills_lemma: the order, then its steps; tests/solver/test_queue_fills_lemma.py)
        *[("the queue's comparison", "unsat")] * 2,
        ("each candidate's score has a denominator ≥ 1", "unsat"),
        *[(queue_fills_lemma.NAME, "unsat")] * 10,
        (f"{turn} (alice's)", "unsat"),
        (f"{turn} (bob's)", "an instance of alice's"),
    ]
    assert len(checker.queries) == len(expected)
    for q, (name, result) in zip(checker.queries, expected, strict=True):
        assert q.name.startswith(name) and q.result.startswith(result), (q.name, q.result)
    units = [q.units for q in checker.queries]
    assert sum(units) == 314_512, units
    _, at_eight = _argument(8)
    assert [q.units for q in at_eight.queries] == units  # the same two-trader lemmas at any N


def test_a_vault_left_below_zero_stops_the_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    """The vault's restore removed (``before_turns`` without the pools' own deleveraging): the vault
    may start the turns below zero, and the restore lemma has a model."""
    monkeypatch.setattr(engine_module, "deleverage_pools", lambda policy, ctx: ctx)
    with pytest.raises(_Failed, match="leaves its cash ≥ 0 .* z3 found a model"):
        _argument()


def _a_quantum_short(deleverage):
    """The vault's own call, one token off: it ends a quantum poorer than its fills leave it (a
    quantum of what its lots brought in at the previous mark sent on to the book)."""

    def call(ctx, rule, rounding, layer, bankrupt, counterparty, *args, **kwargs):
        held = ctx.account(bankrupt).size_lots
        out = deleverage(ctx, rule, rounding, layer, bankrupt, counterparty, *args, **kwargs)
        return out.transfer(bankrupt, counterparty, z3.If(held != 0, 1, 0), Reason.ADL)

    return call


def test_a_vault_restored_a_quantum_short_stops_the_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    """One token of the vault's own deleveraging (``pool_bankruptcy.deleverage`` leaving it a quantum
    short): where its worth at the previous mark was zero its cash after is −1: the restore has a model."""
    monkeypatch.setattr(pool_module, "deleverage", _a_quantum_short(pool_module.deleverage))
    with pytest.raises(_Failed, match="leaves its cash ≥ 0 .* z3 found a model"):
        _argument()


def test_the_restore_needs_the_vaults_worth() -> None:
    """Without "worth ≥ 0 at the previous mark" (settlement's: its cash before the move) the vault's
    own deleveraging may leave it below zero (below zero, long: a model); with it, it holds."""
    with effort.question():
        book, _ = symbolic_book(Bounds(accounts=2, events=1))
        [vault] = sweep_invariant.pools(HYPERLIQUID, book)
        after = before_turns(HYPERLIQUID, Ctx(book)).book
        held = book.account(vault)
        long = [held.cash_quote < 0, held.size_lots > 0]
        pre = [*sweep_invariant._prices(book), *sweep_invariant._oi_balanced(book, (vault,)), *long]
        claim = after.account(vault).cash_quote >= 0
        ask = lambda premise: wall.check([*premise, z3.Not(claim)], [], UNITS, 120.0).result  # noqa: E731
        assert ask(pre) == "sat"
        assert ask([*pre, sweep_invariant.worth(book, vault) >= 0]) == "unsat"


def test_the_argument_is_not_the_plain_payers_on_hyperliquid(at_four) -> None:
    """The plain turn step's assumption (only traders and the book hold positions) is false on
    Hyperliquid's books: the scope says the previous mark's, the vault's lots and its own call in it."""
    assert claims_backed.EVERY_N_ASSUMES != claims_backed.EVERY_N_ASSUMES_PREVIOUS
    assert "the vault's own deleveraging" in claims_backed.EVERY_N_ASSUMES_PREVIOUS
    # what the queue and the book close is a lemma since session 22, no longer assumed; the restore says so
    assert "the rest closed to the vault" not in claims_backed.EVERY_N_ASSUMES_PREVIOUS
    lemmas, _ = at_four
    restored = [lemma for lemma in lemmas if lemma.startswith(RESTORED)]
    assert restored and all(queue_fills_lemma.PROVES in lemma for lemma in restored)
    assert f"{queue_fills_lemma.NAME}: for every N, {queue_fills_lemma.PROVES}" in lemmas


@pytest.mark.deep
@pytest.mark.parametrize(("accounts", "units", "spent"), [(4, 10_000_000, 8_179_397), (8, 12_000_000, 11_060_184)])
def test_claims_backed_on_hyperliquid_by_its_parts(accounts: int, units: int, spent: int) -> None:
    """The N = 4 and N = 8 tables' cells: undecided (9,904,026; 12,000,000) before, proved with the
    system holders for every N, no-negative-equity on two traders, the transfers at N last (7,933,388 and
    10,814,175 before the queue's lemma; +59,008 with it, 29,504 in each part's argument; 7,992,396 and
    10,873,183 before session 24's vault trigger by its lots' loss, +187,001 and +186,997)."""
    result = prove("hyperliquid", "claims-backed", Bounds(accounts=accounts, events=1, effort=units), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert claims_backed.EVERY_N_ASSUMES_PREVIOUS in result.scope.assumes
    assert result.units == spent


def test_the_holders_are_kept_over_mark_moves() -> None:
    """K = 3 at N = 3: the premise each move starts from (the start meets it: 1,123 units; a move keeps the
    marks prices and the other system accounts flat: 95; open-interest-balance's frame: 4 × 16-18K),
    then the one move's lemmas from that premise (the phases before the turns 1,251, the restore, the
    turn): 396,743 units in all."""
    bounds = for_policy(Bounds(accounts=3, events=3, effort=UNITS), HYPERLIQUID)
    with effort.question():
        checker = _Checker(bounds, units=UNITS)
        lemmas = claims_backed.holders_every_n(HYPERLIQUID, bounds, checker)
    assert lemmas[0].startswith(f"the system holders over moves: the start meets {claims_backed.MOVES_PREMISE}")
    assert "by induction over the 3 mark moves" in lemmas[-1]
    assert sum(1 for lemma in lemmas if lemma.startswith(RESTORED)) == 4
    assert all(q.result == "unsat" or not q.units for q in checker.queries)
    assert sum(q.units for q in checker.queries) < 600_000


def test_over_moves_the_argument_needs_hyperliquids_induction() -> None:
    """At K > 1 only where the traders' part has its own induction with the payer's coupling (hyperliquid's
    at the previous mark; Bybit's start-mark, tests/solver/test_start_mark.py); binance's system holders
    at K = 3 are asked as before (the fund's induction, the other pools at N)."""
    bounds = for_policy(Bounds(accounts=3, events=3, effort=UNITS), resolve_policy("binance"))
    with pytest.raises(_Failed, match="one mark move"):
        claims_backed.holders_every_n(resolve_policy("binance"), bounds, _Checker(bounds, units=UNITS))


def test_a_move_that_hands_the_fund_a_position_stops_the_induction(monkeypatch: pytest.MonkeyPatch) -> None:
    """The premise over moves: every account but the traders, the book and the vault flat. A move that
    left the fund a lot (one token: the transition closing with a fill of one lot to the fund) is not
    one the induction covers: the kept lemma has a model."""
    real = claims_backed.transition

    def handing(policy, book, event):
        after = real(policy, book, event).book
        fund = after.role(Role.INSURANCE_FUND).name
        moved = (a if a.name != fund else attrs.evolve(a, size_lots=a.size_lots + 1) for a in after.accounts)
        return Ctx(after.with_balances(tuple(moved)))

    monkeypatch.setattr(claims_backed, "transition", handing)
    bounds = for_policy(Bounds(accounts=3, events=3, effort=UNITS), HYPERLIQUID)
    with effort.question(), pytest.raises(_Failed, match="without a position.* z3 found a model"):
        claims_backed.holders_every_n(HYPERLIQUID, bounds, _Checker(bounds, units=UNITS))


@pytest.mark.deep
def test_claims_backed_on_hyperliquid_over_three_moves() -> None:
    """The K = 3 table's cell: undecided (18,525,671) before; proved with the system holders over moves,
    no-negative-equity's induction on two traders, the transfers at N = 3 and K = 3 last."""
    result = prove("hyperliquid", "claims-backed", Bounds(accounts=3, events=3, effort=20_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert claims_backed.EVERY_N_ASSUMES_PREVIOUS in result.scope.assumes
    # 10,838,763 before the queue's lemma (+29,504 in each part); 10,897,771 before session 24's vault trigger
    assert result.units == 11_100_237


def _vault_after_a_drop(vault_cash: int, book_lots: int = -60) -> tuple[int, int]:
    """A concrete book of four traders at mark 1,000: the vault long 100 lots (taken over) on
    ``vault_cash``, alice and bob short 30 and 20, carol long 10, the book short ``book_lots``'s
    opposite; the mark drops to 900 (the vault loses 10,000). The vault's (cash, lots) after the move."""
    rows = (
        ("alice", -30, 1_000_000),
        ("bob", -20, 1_000_000),
        ("carol", 10, 1_000_000),
        ("dave", 0, 1_000_000),
        ("liquidity", book_lots, 0),
        ("backstop_vault", 100, vault_cash),
    )
    after = run(HYPERLIQUID, opened(1_000, ("alice", "bob", "carol", "dave"), rows), [MarkPrice(900)])[-1].after
    vault = after.account("backstop_vault")
    return vault.cash_quote, vault.size_lots


@pytest.mark.parametrize(("cash", "after"), [(0, (0, 0)), (9_999, (9_999, 0)), (10_000, (0, 100))])
def test_the_restore_on_four_traders_ends_at_the_vaults_worth(cash: int, after: tuple[int, int]) -> None:
    """The engine on N = 4 (concrete): below zero after settlement (cash − 10,000 < 0), the vault's own ADL
    closes its 100 lots at the previous mark against alice's 30, bob's 20 and the book's 50, and it ends
    at its worth there, its cash before the move (0 at the boundary: worth exactly zero); at exactly zero
    after settlement nothing runs and it keeps holding."""
    assert _vault_after_a_drop(cash) == after


def test_the_restore_needs_open_interest_balanced_on_four_traders() -> None:
    """Open interest unbalanced (the book short 49: one lot opposite the vault nobody holds, a book no
    well-formed start or step gives): that lot is closed at the mark, and the vault worth 0 ends at −100."""
    assert _vault_after_a_drop(0, book_lots=-49) == (-100, 0)
    assert _vault_after_a_drop(100, book_lots=-49) == (0, 0)


@pytest.mark.deep
def test_the_restore_holds_on_three_traders_directly() -> None:
    """What the argument carries to N by its assumption, asked directly of the engine on a free book of
    three traders (exact, the vault's four cases): it holds, the queue's fills by rank over two
    candidates beside the book (5.49M units: long 1,517,546, short 3,835,190; 8.53M before session 24's
    vault trigger by its lots' loss, long 6,648,409, short 1,877,406; at four traders the short case ran
    out within 20M, which is why the argument is on two)."""
    with effort.question():
        book, _ = symbolic_book(Bounds(accounts=3, events=1))
        [vault] = sweep_invariant.pools(HYPERLIQUID, book)
        checker = _Checker(for_policy(Bounds(accounts=3, events=1, effort=20_000_000), HYPERLIQUID), units=20_000_000)
        names = sweep_invariant.vault_restored(HYPERLIQUID, checker.valid, book, vault)
    assert len(names) == 4
    assert [q.result for q in checker.queries] == ["unsat"] * 4
    assert [q.units for q in checker.queries] == [139, 1_517_546, 3_835_190, 304]

"""Hyperliquid's payer claims (solver/payer_previous.py): ADL closes the winners at the previous mark and
the backstop vault takes positions over, so the payer's argument takes the takeover rule's resolve,
the vault's own deleveraging as one more charge, and the vault's worth at the previous mark kept
through the sweep (it pays for the lots it holds opposite a bankrupt account).

Each lemma is exact z3 on the engine's own functions; the tests show each premise is needed (z3 has a
model without it) and that one-token mutants of the engine (the winners' previous-mark price, the
vault's charge) stop the argument.
"""

from __future__ import annotations

import functools

import pytest
import z3

import solvent.rules.adl as adl_module
import solvent.rules.pool_bankruptcy as pool_module
from solvent.properties import catalog
from solvent.rules.book import Book, Role
from solvent.rules.engine import before_turns, liquidation_turn
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.margin import equity
from solvent.rules.outcomes import AdlFill
from solvent.rules.presets import resolve_policy
from solvent.rules.venue_formulas import price_at_gap
from solvent.solver import compositional as comp
from solvent.solver import effort, payer_lemma, payer_previous, sweep_invariant, wall
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.per_account import _one_event_frame
from solvent.solver.prove import _payer_fits, prove
from solvent.solver.resolution_facts import call_policy
from solvent.solver.story import symbolic_book
from solvent.solver.verdicts import Verdict

HYPERLIQUID = resolve_policy("hyperliquid")
NNE = catalog.get("no-negative-equity")
UNITS = 4_000_000


def _checker() -> comp._Checker:
    return comp._Checker(Bounds(accounts=2, events=1, effort=UNITS))


def _exact(checker: comp._Checker):
    return functools.partial(checker.valid, exact=True)  # as the argument asks its lemmas


def _asked(premise: list[object], claim: object) -> str:
    return wall.check([*premise, z3.Not(claim)], [], UNITS, 120.0).result


def test_the_argument_fits_hyperliquid_and_no_other_preset() -> None:
    assert payer_previous.fits(HYPERLIQUID)
    assert _payer_fits(HYPERLIQUID, NNE, Bounds(accounts=2))
    for name in ("binance", "okx", "bybit", "bitmex", "dydx-v4", "drift"):
        assert not payer_previous.fits(resolve_policy(name)), name
    # the plain payer's argument still refuses hyperliquid: its vault's lots, its previous-mark price
    assert "closes winners at the previous mark" in payer_lemma.applies(HYPERLIQUID)
    assert "backstop vault holds positions" in payer_lemma.applies(HYPERLIQUID, previous_mark=True)
    assert payer_lemma.applies(HYPERLIQUID, previous_mark=True, vault=True) is None


def test_the_argument_holds_for_every_n_at_one_move() -> None:
    """Every lemma exact z3 (about 4.3M units in all, the contract 1.1-1.7M of it); the extension
    covers one mark move (the sweep's invariant is proved from a well-formed start) and says what it
    assumes."""
    with effort.question():
        found = comp.attempt(HYPERLIQUID, NNE, for_policy(Bounds(accounts=4), HYPERLIQUID), units=10_000_000)
    assert isinstance(found, comp.Extension), found
    assert not found.every_k and found.assumes == payer_previous.ASSUMES
    assert all(q.result == "unsat" for q in found.queries if q.units)
    names = " ".join(q.name for q in found.queries)
    for said in (
        "holds for one trader charged within the charge lemma before and after its turn",
        "the vault's own deleveraging (engine.before_turns) charges alice",
        "keeps its worth at the previous mark ≥ 0, open interest balanced",
        "alice worth ≥ 0 at the previous mark, keeps the vault's ≥ 0",
        "resolves nothing",
    ):
        assert said in names, said


def _contract(monkeypatch: pytest.MonkeyPatch | None = None, vault_worth: bool = True) -> str:
    """The payer's contract at the previous mark, asked; without the vault's worth where told."""
    if not vault_worth and monkeypatch is not None:
        whole = payer_lemma._rest_with_vault

        def without_worth(ctx, name):  # the same market, the vault's worth ≥ 0 left out
            size = ctx.account(name).size_lots
            held = ctx.account(ctx.system(Role.BACKSTOP_VAULT)).size_lots
            book = ctx.account(ctx.system(Role.LIQUIDITY)).size_lots
            opposite = z3.If(size * held < 0, z3.If(held >= 0, held, -held), 0)
            assert whole is not without_worth
            return z3.And(size * book <= 0, z3.If(book >= 0, book, -book) + opposite >= z3.If(size >= 0, size, -size))

        monkeypatch.setattr(payer_lemma, "_rest_with_vault", without_worth)
    checker = _checker()
    with effort.question():
        bounds = for_policy(Bounds(accounts=2, events=1), HYPERLIQUID)
        _, _, slot = _one_event_frame(NNE, bounds, pytest.fail, "payer's")
        [variant] = slot.variants
        payer_lemma.payer_contract(
            HYPERLIQUID, NNE, variant.label, variant.event, slot.field_bounds, checker.valid, previous_mark=True
        )
    return checker.queries[-1].result


def test_the_contract_needs_the_vaults_worth(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the vault holds lots opposite a bankrupt account, the queue and the book do not take its
    whole position at the previous mark: the rest goes to the vault at the mark, and only the vault's
    worth pays what that leaves. Without "the vault worth ≥ 0 at the previous mark" at the trader's turn
    the contract has a model (a trader left below zero); with it, it holds."""
    with pytest.raises(comp._Failed, match="model of its negation"):
        _contract(monkeypatch, vault_worth=False)


def test_a_winner_closed_a_quantum_off_the_previous_mark_breaks_the_charge(monkeypatch: pytest.MonkeyPatch) -> None:
    """One token: the winners' price one quantum a lot further from the mark. A winner then pays more
    than its lots gained: the takeover rule's charge lemma has a model."""
    checker = _checker()
    with effort.question():
        charge_lemma_holds = payer_lemma.charge_lemma(call_policy(HYPERLIQUID), _exact(checker), checker.fail)
    assert charge_lemma_holds
    monkeypatch.setattr(adl_module, "price_at_gap", lambda mark, size, gap: price_at_gap(mark, size, gap + 1))
    checker = _checker()
    with effort.question(), pytest.raises(comp._Failed, match="payer.s charge.*model of its negation"):
        payer_lemma.charge_lemma(call_policy(HYPERLIQUID), _exact(checker), checker.fail)


def _overcharging(deleverage):  # the vault's own call takes one quantum more from each winner it served
    def charged(ctx, *args, **kwargs):
        before = len(ctx.outcomes)
        out = deleverage(ctx, *args, **kwargs)
        pool = args[3]  # deleverage(ctx, margin, rounding, layer, bankrupt, ...)
        for g in out.outcomes[before:]:
            if isinstance(g.item, AdlFill):
                out = out.transfer(g.item.winner, pool, z3.If(z3.And(g.guard, g.item.lots > 0), 1, 0), Reason.ADL)
        return out

    return charged


def test_the_vaults_charge_lemma_fails_on_a_vault_that_overcharges(monkeypatch: pytest.MonkeyPatch) -> None:
    """The vault's own deleveraging charges a winner what its closed lots gained at the previous mark
    (within the payer's bound); a vault taking one quantum more per fill breaks that lemma."""
    checker = _checker()
    with effort.question():
        assert len(sweep_invariant.pools_charge_lemma(HYPERLIQUID, checker.valid)) == 2
    monkeypatch.setattr(pool_module, "deleverage", _overcharging(pool_module.deleverage))
    checker = _checker()
    with effort.question(), pytest.raises(comp._Failed, match="charges alice within the payer's charge.*model"):
        sweep_invariant.pools_charge_lemma(HYPERLIQUID, checker.valid)


def test_the_vaults_charge_needs_its_lots_loss(monkeypatch) -> None:
    """The vault's own deleveraging stays within the payer's bound with or without its worth ≥ 0 at the
    previous mark: since session 24 (hlfund) it is deleveraged only where its lots lost in the move
    (``pool_bankruptcy.lots_lose``). Under the old trigger (no move read) it has a model beyond the bound
    without the worth (a vault below zero whose lots gained, paying the traders opposite their loss back),
    none with it (settlement gives it that worth: its cash before the move)."""
    with effort.question():
        book, _ = symbolic_book(Bounds(accounts=2, events=1))
        prices = sweep_invariant._prices(book)
        worth = sweep_invariant.premise(book, sweep_invariant.pools(HYPERLIQUID, book))[1:]

        def asked(premises):
            after = before_turns(HYPERLIQUID, Ctx(book)).book
            return _asked(premises, sweep_invariant.charged_by_pools(HYPERLIQUID, book, after, "alice"))

        assert asked(prices) == "unsat"
        monkeypatch.setattr(pool_module, "lots_lose", lambda ctx, pool: ctx.account(pool).size_lots != 0)
        assert asked(prices) == "sat"
        assert asked([*prices, *worth]) == "unsat"


def test_a_turn_keeps_the_vaults_worth_only_from_a_trader_worth_zero_or_more() -> None:
    """A takeover hands the vault a losing position worth what the trader's equity lacks, and the
    vault pays at most that deficit: its worth stays ≥ 0 where the trader's is (the sweep's
    invariant); from a trader worth less, z3 has a model."""
    with effort.question():
        book, _ = symbolic_book(Bounds(accounts=2, events=1))
        [vault] = sweep_invariant.pools(HYPERLIQUID, book)
        after = liquidation_turn(HYPERLIQUID, Ctx(book), "alice").book
        pre = [*sweep_invariant._prices(book), sweep_invariant.worth(book, vault) >= 0]
        claim = sweep_invariant.worth(after, vault) >= 0
        assert _asked(pre, claim) == "sat"
        # the cheapest of the cases below zero (long) with the trader's worth: holds
        alice = book.account("alice")
        long = [equity(HYPERLIQUID.margin, alice) < 0, alice.size_lots > 0]
        assert _asked([*pre, sweep_invariant.worth(book, "alice") >= 0, *long], claim) == "unsat"
        assert _asked([*pre, sweep_invariant.worth(book, "alice") >= -1, *long], claim) == "sat"


def _vaults_own_deleveraging() -> tuple[Book, tuple[str, ...], Book]:
    """On a free two-trader book (asked inside a question): the book, Hyperliquid's vaults, and the
    book after the vaults' own deleveraging before the turns (``engine.before_turns``)."""
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    return book, sweep_invariant.pools(HYPERLIQUID, book), before_turns(HYPERLIQUID, Ctx(book)).book


def test_the_vaults_own_deleveraging_keeps_its_worth_only_with_open_interest_balanced() -> None:
    with effort.question():
        book, vaults, after = _vaults_own_deleveraging()
        [vault] = vaults
        pre = [*sweep_invariant._prices(book), sweep_invariant.worth(book, vault) >= 0]
        claim = sweep_invariant.worth(after, vault) >= 0
        assert _asked(pre, claim) == "sat"
        assert _asked([*pre, *sweep_invariant._oi_balanced(book, vaults)], claim) == "unsat"


def test_the_bankrupt_ends_at_zero_only_with_the_vaults_worth() -> None:
    """The direct check's fact on the bankrupt's side: from a trader worth ≥ 0 at the previous mark,
    below zero at the mark, it ends its resolve with nothing, where the vault is worth ≥ 0 too."""
    with effort.question():
        book, premise, claim = payer_previous.closed_question(HYPERLIQUID, "alice")
        [vault] = sweep_invariant.pools(HYPERLIQUID, book)
        without = [p for p in premise if not p.eq(sweep_invariant.worth(book, vault) >= 0)]
        assert len(without) == len(premise) - 1
        assert _asked(premise, claim) == "unsat"
        assert _asked(without, claim) == "sat"


@pytest.mark.deep
@pytest.mark.parametrize("claim", ["no-negative-equity", "loss-bounded-by-collateral"])
def test_proved_for_every_n_on_the_lemmas_book(claim: str) -> None:
    """The lemmas' book (N = 2): the direct check with the facts, then the all-N argument, which
    recalls the invariants' lemmas the facts proved: proved for every N at one mark move within 10M
    (no-negative-equity 6.14M units; undecided at 9.36M before)."""
    bounds = for_policy(Bounds(accounts=2, events=1, effort=10_000_000), HYPERLIQUID)
    result = prove(HYPERLIQUID, catalog.get(claim), bounds, minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert result.scope.accounts is None and result.scope.events == 1
    assert payer_previous.ASSUMES in result.scope.assumes
    assert any("proved earlier in this question" in str(q.result) for q in result.queries)


def test_a_move_keeps_the_vaults_cash() -> None:
    """The induction's premise on the vault (its cash ≥ 0 at each move's start, so its worth at the
    previous mark after settlement is ≥ 0 at every move): its own deleveraging from its worth with open
    interest balanced, each turn, and what runs after the turns keep it (about 0.43M units)."""
    checker = _checker()
    with effort.question():
        names = sweep_invariant.vault_cash_kept(HYPERLIQUID, checker.valid)
    assert any("bob's turn" in n and "renamed" in n for n in names)
    assert all(q.result == "unsat" for q in checker.queries)


def test_the_vaults_own_deleveraging_leaves_it_below_zero_without_its_worth() -> None:
    with effort.question():
        book, vaults, after = _vaults_own_deleveraging()
        [vault] = vaults
        balanced = [*sweep_invariant._prices(book), *sweep_invariant._oi_balanced(book, vaults)]
        claim = after.account(vault).cash_quote >= 0
        assert _asked([*balanced, sweep_invariant.worth(book, vault) >= -1], claim) == "sat"
        assert _asked([*balanced, sweep_invariant.worth(book, vault) >= 0], claim) == "unsat"


def test_the_induction_fits_k_moves_only() -> None:
    assert payer_previous.induction_fits(HYPERLIQUID, Bounds(accounts=3, events=3))
    assert not payer_previous.induction_fits(HYPERLIQUID, Bounds(accounts=3, events=1))
    assert not payer_previous.induction_fits(resolve_policy("binance"), Bounds(accounts=3, events=3))


@pytest.mark.deep
@pytest.mark.parametrize("claim", ["no-negative-equity", "deficit-charged-once"])
def test_proved_for_every_n_and_k_at_three_moves(claim: str) -> None:
    """N = 3, K = 3 (20M): by induction over the moves on each trader's worth, the vault's cash and
    open interest (no-negative-equity 10.6M units, deficit-charged-once 8.69M; undecided before:
    18.74M and 20M), the one-event book asked from the premise."""
    bounds = for_policy(Bounds(accounts=3, events=3, effort=20_000_000), HYPERLIQUID)
    result = prove(HYPERLIQUID, catalog.get(claim), bounds, minimize=False)
    assert result.verdict is Verdict.PROVED, result.reason
    assert result.scope.accounts is None and result.scope.events is None
    assert payer_previous.INDUCTION_ASSUMES in result.scope.assumes

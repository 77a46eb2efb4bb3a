"""The payer's side (solver/payer_lemma.py): what a winner pays for another's bankruptcy.

ADL at the bankruptcy price closes a winner at a gap per lot that is at most the move, for a
bankrupt account that met its margin, so the winner keeps what it had before the move: with that
charge lemma, the margin floor and each trader's contract charged before and after its own turn,
no-negative-equity and loss-bounded-by-collateral hold for every N on binance, bybit and okx (the
verdict states the assumption). Where the argument does not fit the policy (dYdX's overlap rule, a pool
holding positions, ADL at the previous mark) it says why and asks nothing. The pro-rata layers get
the share lemma on their own function: a haircut takes at most the payer's profit over principal;
a clawback at most its window profit, which may exceed its profit over principal (refuted with a
book the concrete function replays). A one-token change in the ADL gap, the haircut's cap or the
clawback's cap flips the lemma.
"""

from __future__ import annotations

import attrs
import pytest

import solvent.rules.adl as adl_module
import solvent.rules.haircut_ratio as haircut_module
from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules.book import Role, new_book
from solvent.rules.engine import run
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.margin import equity, profit
from solvent.rules.presets import resolve_policy
from solvent.rules.pro_rata import charge, payers
from solvent.rules.rounding import ProRata
from solvent.rules.wellformed import reasons
from solvent.solver import compositional
from solvent.solver.bounds import Bounds
from solvent.solver.payer_lemma import ADL_FILLS_ONLY, _share_question, share_check, share_layer
from solvent.solver.verdicts import Verdict

ONE_MOVE = Bounds(accounts=2, events=1, effort=10_000_000)


def _attempt(policy, claim: str = "no-negative-equity"):
    policy = resolve_policy(policy) if isinstance(policy, str) else policy
    return compositional.attempt(policy, catalog.get(claim), ONE_MOVE)


def test_okx_winners_pay_at_most_what_they_gained_so_no_negative_equity_holds_for_every_n() -> None:
    found = _attempt("okx")
    assert isinstance(found, compositional.Extension), found
    assert found.assumes == ADL_FILLS_ONLY and not found.every_k
    names = [q.name for q in found.queries]
    assert "payer's charge: the bankrupt account's gap per lot is at most the move" in names
    assert any(n.startswith("margin floor") for n in names)
    assert any(n.startswith("no-negative-equity on mark: holds for one trader charged") for n in names)
    assert all(q.result == "unsat" for q in found.queries)
    assert 0 < sum(q.units for q in found.queries) < 10_000_000
    assert any(lemma.startswith("ADL only (mark)") for lemma in found.lemmas)
    assert found.lemmas[-1].startswith("aggregate: a loser is never served")


@pytest.mark.parametrize(
    ("preset", "claim"),
    [
        pytest.param("binance", "no-negative-equity", marks=pytest.mark.deep),
        pytest.param("binance", "loss-bounded-by-collateral", marks=pytest.mark.deep),
        pytest.param("bybit", "no-negative-equity", marks=pytest.mark.deep),  # its fee to close inside its margin
        pytest.param("okx", "loss-bounded-by-collateral", marks=pytest.mark.deep),
    ],
)
def test_each_adl_preset_the_argument_fits_holds_for_every_n(preset: str, claim: str) -> None:
    found = _attempt(preset, claim)
    assert isinstance(found, compositional.Extension), found
    assert found.assumes == ADL_FILLS_ONLY


@pytest.mark.parametrize(
    ("preset", "why", "events"),
    [
        # hyperliquid (ADL at the previous mark, its vault holding what it takes over) has an argument of
        # its own: tests/solver/test_payer_previous.py
        ("gmx-v2", "the policy has no ADL layer", 1),
        # the socialized loss's cascade invariant holds there, at one event and (session 24) by induction
        # over moves (solver/cascade_invariant.py, tests/solver/test_cascade_moves.py); with that induction
        # not asked, over two events the payer's argument is asked and says why not
        ("drift", "its socialized loss is shared per lot of open interest (losers too), not by profit", 2),
        ("mango-v4", "a payer it sinks below zero is resolved in turn (the cascade)", 2),
    ],
)
def test_where_the_argument_does_not_fit_it_says_why_and_asks_nothing(
    preset: str, why: str, events: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from solvent.solver import cascade_invariant

    monkeypatch.setattr(cascade_invariant, "inducts", lambda policy, bounds: False)
    policy = resolve_policy(preset)
    found = compositional.attempt(policy, catalog.get("no-negative-equity"), attrs.evolve(ONE_MOVE, events=events))
    assert isinstance(found, compositional.Attempt) and not found.applies
    assert "the payer's side" in found.failed and why in found.failed
    assert found.queries == ()


def test_outside_the_ghost_invariant_dydx_still_says_why_and_asks_nothing() -> None:
    """dYdX's overlap rule is covered only where the ranking's ghost invariant holds (mark moves
    from an initial-margin start: solver/payer_ghost.py); with funding it is the reason, as before."""
    bounds = attrs.evolve(ONE_MOVE, event_kinds=("mark", "funding"))
    found = compositional.attempt(resolve_policy("dydx-v4"), catalog.get("no-negative-equity"), bounds)
    assert isinstance(found, compositional.Attempt) and not found.applies
    why = "its queue skips an offsetting account a fill would leave riskier (dYdX's overlap rule)"
    assert "the payer's side" in found.failed and why in found.failed
    assert found.queries == ()


def test_principal_protected_is_not_the_payers_argument() -> None:
    # a claim on each haircut transfer as it is paid: the payer's argument covers claims on the end state
    found = _attempt("okx", "principal-protected")
    assert isinstance(found, compositional.Attempt) and "payer" not in found.failed


# --- the concrete boundary the charge lemma speaks of --------------------------------------------


def _crash_book():
    """alice short 10 at 1,000 with 450 (margin met), bob long 4 with 40, the book long 6; the
    insurance fund empty. A move to 1,052 leaves alice at -70: a gap of 7 a lot."""
    book = new_book(mark_quote=1000)
    sizes = {"alice": -10, "bob": 4, Role.LIQUIDITY.value: 6}
    cash = {"alice": 450, "bob": 40}
    accounts = tuple(
        attrs.evolve(
            a,
            size_lots=sizes.get(a.name, 0),
            cost_quote=sizes.get(a.name, 0) * 1000,
            cash_quote=cash.get(a.name, 0),
            principal_quote=cash.get(a.name, 0),
        )
        for a in book.accounts
    )
    return attrs.evolve(book, accounts=accounts, net_deposits_quote=490)


def _crash(policy):
    [step] = run(policy, _crash_book(), [MarkPrice(1052)])
    return step


def test_a_winner_closed_at_the_bankruptcy_price_keeps_what_it_had_before_the_move() -> None:
    policy = resolve_policy("binance")
    assert reasons(policy, _crash_book()) == []
    step = _crash(policy)
    after = {a.name: a.cash_quote for a in step.after.traders}
    # bob gained 4 × 52 = 208 and pays 4 × ⌈70 / 10⌉ = 28: 40 + 208 − 28 = 220 ≥ 40, his cash before
    assert after == {"alice": 0, "bob": 220}
    assert catalog.get("no-negative-equity").holds(StepView.of(policy, step)) is True


def test_an_adl_gap_over_one_lot_instead_of_the_position_breaks_the_charge_lemma(monkeypatch) -> None:
    original = adl_module.bankruptcy_gap_per_lot
    # one token: the bankrupt account's deficit per lot over 1 lot, not over its size
    monkeypatch.setattr(adl_module, "bankruptcy_gap_per_lot", lambda equity_quote, size_lots: original(equity_quote, 1))
    found = _attempt("binance")
    assert isinstance(found, compositional.Attempt) and found.applies
    assert "payer's charge: the bankrupt account's gap per lot is at most the move" in found.failed
    # the story the lemma's model stands for, on the mutated engine: bob pays 4 × 70 and ends at −32
    policy = resolve_policy("binance")
    step = _crash(policy)
    assert {a.name: a.cash_quote for a in step.after.traders} == {"alice": 0, "bob": -32}
    assert catalog.get("no-negative-equity").holds(StepView.of(policy, step)) is False


# --- the share lemma of the pro-rata layers -------------------------------------------------------


@pytest.mark.parametrize("preset", ["percolator-gen-a", "percolator-gen-b"])
def test_a_haircut_takes_at_most_the_payers_profit_over_principal(preset: str) -> None:
    lemma = share_check(resolve_policy(preset), "principal")
    assert lemma.verdict is Verdict.PROVED, lemma
    assert 0 < lemma.stats.units < 1_000_000


def test_a_clawback_takes_at_most_the_window_profit_which_may_reach_principal() -> None:
    policy = resolve_policy("okx-2018")
    assert share_check(policy, "window").verdict is Verdict.PROVED
    lemma = share_check(policy, "principal")
    assert lemma.verdict is Verdict.REFUTED
    # replayed on the concrete clawback: the window's profit exceeds the profit over principal, and
    # the share takes bob below his principal
    bob = lemma.counterexample.account("bob")
    assert bob.window_pnl_quote > equity(policy.margin, bob) - bob.principal_quote
    found = _attempt(policy)
    assert "a payer's share is at most its profit in the clawback window: proved" in found.failed
    assert "so it keeps its principal: refuted" in found.failed
    assert sum(q.units for q in found.queries) > 0  # the share lemma's units are counted


def test_the_haircut_share_meets_the_profit_exactly_at_the_cap() -> None:
    """One payer with profit 30 asked for a deficit of 30 or more pays exactly 30 and ends at its
    principal; asked for 29 it pays 29."""
    policy = resolve_policy("percolator-gen-a")
    layer = share_layer(policy)
    book = new_book(mark_quote=100)
    accounts = tuple(
        attrs.evolve(a, cash_quote=130, principal_quote=100) if a.name == "bob" else a for a in book.accounts
    )
    book = attrs.evolve(book, accounts=accounts)
    for deficit, paid in ((29, 29), (30, 30), (31, 30), (10**6, 30)):
        premise, holds, took = _share_question(policy, layer, book, deficit, "principal")
        assert (took, holds) == (paid, True)


def test_a_haircut_without_its_cap_at_profit_is_refuted(monkeypatch) -> None:
    def uncapped(ctx, rule, rounding, bankrupt, remaining):  # capped=True → capped=False
        weights = [(a.name, profit(rule, a)) for a in payers(ctx.book, bankrupt)]
        return charge(ctx, rounding, weights, bankrupt, remaining, capped=False, reason=Reason.HAIRCUT)

    import solvent.solver.payer_lemma as payer_lemma

    monkeypatch.setattr(haircut_module, "haircut", uncapped)
    monkeypatch.setattr(payer_lemma, "haircut", uncapped)
    lemma = share_check(resolve_policy("percolator-gen-a"), "principal")
    assert lemma.verdict is Verdict.REFUTED
    assert "bob pays" in lemma.detail


@pytest.mark.parametrize("rounding", [ProRata.UP_DUST_TO_INSURANCE_FUND, ProRata.DOWN_REMAINDER_TO_NEXT_LAYER])
def test_the_haircut_keeps_principal_whichever_way_its_share_rounds(rounding: ProRata) -> None:
    # the layer caps what it shares at the payers' total profit, so ⌈R·w/W⌉ ≤ w as well as ⌊R·w/W⌋
    policy = resolve_policy("percolator-gen-a")
    policy = attrs.evolve(policy, rounding=attrs.evolve(policy.rounding, pro_rata=rounding))
    assert share_check(policy, "principal").verdict is Verdict.PROVED


def test_a_clawback_without_its_cap_at_profit_is_refuted() -> None:
    policy = resolve_policy("okx-2018")
    layer = share_layer(policy)
    uncapped = attrs.evolve(
        policy, deficit=tuple(attrs.evolve(x, cap_at_profit=False) if x is layer else x for x in policy.deficit)
    )
    lemma = share_check(uncapped, "window")
    assert lemma.verdict is Verdict.REFUTED
    bob = lemma.counterexample.account("bob")
    assert "bob pays" in lemma.detail and bob.window_pnl_quote >= 0


def test_the_planted_clawback_reaches_principal_in_one_step_of_the_share_lemma() -> None:
    """tests/planted/clawback-reaches-principal.toml: uncapped, its clawback takes more than the
    window's profit, and capped it would still take more than the profit over principal (its
    header's second story, seven events for the search): the share lemma finds both in one call."""
    from pathlib import Path

    from solvent.rules.loading import load_policy

    planted = Path(__file__).resolve().parents[1] / "planted" / "clawback-reaches-principal.toml"
    policy = load_policy(planted)
    assert share_check(policy, "window").verdict is Verdict.REFUTED
    assert share_check(policy, "principal").verdict is Verdict.REFUTED


def test_inside_check_the_payers_lemmas_are_asked_only_after_the_direct_check_proved_the_claim(monkeypatch) -> None:
    """``solvent check`` shares its budget among the claims: the payer's lemmas can change a verdict
    only where the direct check at N proved the claim (they extend it to all N), so there
    (``prove(payer_first=False)``) they are asked then and only then. Undecided: no lemma, no unit;
    proved: the lemmas run and the verdict covers every N."""
    import solvent.solver.prove as prove_module
    from solvent.solver.verdicts import ObligationResult

    asked = []
    real_attempt = compositional.attempt

    def attempt(policy, invariant, bounds, *, payer=True, units=None):
        asked.append(payer)
        return real_attempt(policy, invariant, bounds, payer=payer, units=units)

    monkeypatch.setattr(compositional, "attempt", attempt)
    tiny = Bounds(accounts=2, events=1, effort=1)
    undecided = prove_module.prove("okx", "no-negative-equity", tiny, minimize=False, payer_first=False)
    assert asked == [False] and not any("payer" in q.name for q in undecided.queries)
    assert "the all-N argument does not apply" in undecided.method

    def proved_at_n(policy, invariant, bounds, **_):  # the direct check, as if it had proved the claim at N = 2
        done = attrs.evolve(undecided, verdict=Verdict.PROVED, reason="")
        return attrs.evolve(
            done,
            obligations=tuple(ObligationResult(o.obligation, Verdict.PROVED, "", o.scope) for o in done.obligations),
        )

    asked.clear()
    monkeypatch.setattr(prove_module, "_small_scope_first", proved_at_n)
    extended = prove_module.prove("okx", "no-negative-equity", ONE_MOVE, minimize=False, payer_first=False)
    assert asked == [False, True]
    own = next(o for o in extended.obligations if o.obligation == "no-negative-equity")
    assert own.verdict is Verdict.PROVED and own.scope.accounts is None and own.scope.assumes == ADL_FILLS_ONLY
    assert any(q.name.startswith("payer's charge") for q in extended.queries)

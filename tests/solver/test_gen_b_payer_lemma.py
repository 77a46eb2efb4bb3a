"""Percolator Gen B's payer lemma (``solver.side_payer``, session 24): a trader opposite a bankrupt one
pays only for the lots it gives up, and at most the move on each lot where the bankrupt account's
deficit is at most the move on each of its lots (docs/solver-notes.md#gen-bs-payer-lemma-per-lot-session-24).

Each lemma exact on the engine's own ``lots_taken`` and ``charge_per_lot`` (every number free); the
boundary on the concrete engine (``D = q·m`` pays exactly ``m`` a lot taken, one quantum more pays one
more); mutants: the charge per opposing lot as the side stood (session 22's old charge) and a share
weighing one lot more than taken each give a lemma a model.
"""

from __future__ import annotations

import functools
import inspect
import textwrap

import attrs
import pytest

import solvent.rules.liquidation as liquidation
import solvent.rules.side_index as side_index
import solvent.rules.socialized_loss as socialized_loss
from solvent.rules.book import Book, new_book
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.presets import resolve_policy
from solvent.rules.pro_rata import payers
from solvent.solver import side_payer
from solvent.solver.bounds import Bounds
from solvent.solver.compositional import _Checker, _Failed

GEN_B = resolve_policy("percolator-gen-b")
UNITS = 2_000_000


def _checker() -> _Checker:
    return _Checker(Bounds(effort=UNITS))


def test_a_payer_pays_at_most_the_move_on_each_lot_it_gives_up() -> None:
    checker = _checker()
    names = side_payer.lemmas(GEN_B, functools.partial(checker.valid, exact=True))
    # for bob and carol: lots taken at least 0 and within their lots; ΔK; each one's share; the claim
    # on the engine's terms from their instances
    assert len(names) == 8
    assert [q.result for q in checker.queries] == ["unsat"] * 8
    assert sum("at most m·t" in q.name for q in checker.queries) == 2
    # 227,281 units in all at this section's commit (session 24); the charge's ΔK 99,106
    assert sum(q.units for q in checker.queries) < 1_000_000


def _book(sizes: dict[str, int]) -> Book:
    book = new_book(mark_quote=10, traders=("alice", "bob", "carol"))
    accounts = tuple(
        attrs.evolve(a, size_lots=sizes[a.name], cost_quote=10 * sizes[a.name]) if a.name in sizes else a
        for a in book.accounts
    )
    return attrs.evolve(book, accounts=accounts)


def _paid(deficit: int) -> dict[str, int]:
    """alice long 2 bankrupt by ``deficit``, bob and carol short 1 each: what each pays."""
    book = _book({"alice": 2, "bob": -1, "carol": -1})
    ctx, _ = socialized_loss.charge_per_lot(Ctx(book), GEN_B.rounding, "alice", deficit, book)
    out: dict[str, int] = {}
    for g in ctx.entries:
        if g.guard is True and g.item.reason is Reason.SOCIALIZED_LOSS:
            out[g.item.source] = out.get(g.item.source, 0) + g.item.amount_quote
    return out


def test_the_boundary_on_the_concrete_engine() -> None:
    # m = 3 a lot, q = 2, each short gives up 1 lot: D = q·m = 6 charges each exactly m·t = 3
    assert dict(side_index.lots_taken(_book({"alice": 2, "bob": -1, "carol": -1}), "alice", 2)) == {
        "bob": 1,
        "carol": 1,
        "liquidity": 0,
    }
    assert _paid(6) == {"bob": 3, "carol": 3}
    # one quantum above q·m: ΔK = ⌈7·10⁶/2⌉, each pays ⌈3.5⌉ = 4 > m·t (the dust 1 to the fund)
    assert _paid(7) == {"bob": 4, "carol": 4}
    # one below: 5 over 2 lots, each ⌈2.5⌉ = 3 = m·t still
    assert _paid(5) == {"bob": 3, "carol": 3}


def _old_charge(ctx, rounding, bankrupt, remaining, at):
    """Session 22's charge: per lot of the opposing side as it stood, not by the lots taken."""
    return side_index.charge_k_up(ctx, side_index.opposing_lots(at, bankrupt), bankrupt, remaining)


def test_the_charge_per_lot_as_the_side_stood_breaks_the_lemma(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socialized_loss, "charge_per_lot", _old_charge)
    checker = _checker()
    with pytest.raises(_Failed, match="z3 found a model"):
        side_payer.lemmas(GEN_B, functools.partial(checker.valid, exact=True))
    # the lots taken still hold; the charge's ΔK over the side as it stood (OI < q on a free book) does not
    assert checker.queries[-1].result == "sat" and "ΔK ≤ m" in checker.queries[-1].name


def test_a_share_of_one_lot_more_than_taken_breaks_the_share_lemma(monkeypatch: pytest.MonkeyPatch) -> None:
    """``charge_k_up``'s share ``⌈w·ΔK/SCALE⌉`` with ``w + 1`` (one token, the engine's own source
    otherwise, its ``ΔK`` hook included): a payer giving up no lot pays."""
    source = textwrap.dedent(inspect.getsource(side_index.charge_k_up))
    old = "share = div(w * delta_k, SCALE, rounding=Rounding.CEIL)"
    assert source.count(old) == 1
    namespace = dict(vars(side_index))
    exec(
        compile(source.replace(old, old.replace("w * delta_k", "(w + 1) * delta_k")), side_index.__file__, "exec"),
        namespace,
    )  # noqa: S102
    one_more = namespace["charge_k_up"]

    monkeypatch.setattr(side_index, "charge_k_up", one_more)
    checker = _checker()
    with pytest.raises(_Failed, match="z3 found a model"):
        side_payer.lemmas(GEN_B, functools.partial(checker.valid, exact=True))
    assert checker.queries[-1].result == "sat" and "bob's share" in checker.queries[-1].name


@pytest.mark.parametrize("side", side_payer.SIDES, ids=[label for label, _ in side_payer.SIDES])
def test_a_resolve_keeps_the_payers_bound(side) -> None:
    """The bankrupt account ends flat at or above 0, a winner's lots only shrink and its E − |s|·m does
    not fall, every other account is untouched (1,322,669 units for both sides at this section's commit)."""
    checker = _checker()
    side_payer.resolve_lemmas(GEN_B, functools.partial(checker.valid, exact=True), sides=(side,))
    assert [q.result for q in checker.queries] == ["unsat"] * 5
    assert sum(q.units for q in checker.queries) < 1_500_000
    # a winner's lots shrink, never past 0: its lots taken are within its position
    assert any("opposite: its lots only shrink" in q.name for q in checker.queries)


def test_a_shrink_weighing_every_payer_alike_breaks_the_resolve_lemma(monkeypatch: pytest.MonkeyPatch) -> None:
    # side_index.opposing_lots with one token changed: each payer's weight 1, not its lots
    monkeypatch.setattr(
        side_index, "opposing_lots", lambda book, bankrupt: [(a.name, 1) for a in payers(book, bankrupt)]
    )
    checker = _checker()
    with pytest.raises(_Failed, match="z3 found a model"):
        side_payer.resolve_lemmas(GEN_B, functools.partial(checker.valid, exact=True), sides=side_payer.SIDES[:1])
    # bob, opposite with one lot, gives up the weight-1 share of a larger close: his lots change sign
    assert checker.queries[-1].result == "sat" and "bob opposite" in checker.queries[-1].name


def test_a_winner_is_never_triggered() -> None:
    checker = _checker()
    side_payer.winner_lemmas(GEN_B, functools.partial(checker.valid, exact=True))
    assert [q.result for q in checker.queries] == ["unsat"] * 4


def _maintenance(policy, ppm: int):
    tier = attrs.evolve(policy.margin.tiers[0], maintenance_ppm=ppm)
    return attrs.evolve(policy, margin=attrs.evolve(policy.margin, tiers=(tier,)))


def test_a_maintenance_rate_at_the_initial_one_triggers_a_winner() -> None:
    """The policy's ``maintenance_ppm = 50000`` read 100000 (its initial rate): a long winner of one lot
    at 9 with no cash (its initial margin ⌊0.9⌋ = 0) gains 1 on a move to 10, where its maintenance is
    ⌊1.0⌋ = 1: at maintenance, triggered."""
    checker = _checker()
    with pytest.raises(_Failed, match="z3 found a model"):
        side_payer.winner_lemmas(_maintenance(GEN_B, 100_000), functools.partial(checker.valid, exact=True))
    assert "winner" in checker.queries[-1].name and checker.queries[-1].result == "sat"


@pytest.mark.parametrize("side", side_payer.SIDES, ids=[label for label, _ in side_payer.SIDES])
def test_a_losers_solvent_close_keeps_the_payers_bound(side) -> None:
    checker = _checker()
    side_payer.solvent_close_lemmas(GEN_B, functools.partial(checker.valid, exact=True), sides=(side,))
    assert [q.result for q in checker.queries] == ["unsat"] * 5


def test_a_penalty_past_the_surplus_breaks_the_solvent_close(monkeypatch: pytest.MonkeyPatch) -> None:
    # venue_formulas.liquidation_fee_paid's min(max_fee, max(surplus, 0)) read max_fee: the penalty uncapped
    monkeypatch.setattr(liquidation, "liquidation_fee_paid", lambda surplus, max_fee: max_fee)
    checker = _checker()
    with pytest.raises(_Failed, match="z3 found a model"):
        side_payer.solvent_close_lemmas(GEN_B, functools.partial(checker.valid, exact=True), sides=side_payer.SIDES[:1])
    assert "ends flat at or above 0" in checker.queries[-1].name


def test_the_write_off_finds_nobody_at_or_above_zero() -> None:
    checker = _checker()
    side_payer.write_off_lemma(GEN_B, functools.partial(checker.valid, exact=True))
    assert [q.result for q in checker.queries] == ["unsat"]


def test_the_winners_boundary_on_the_concrete_engine() -> None:
    """The model above, on the engine: a long of one lot settled from 9 to 10 on no cash holds 1."""
    from solvent.rules.engine import _triggered

    book = new_book(mark_quote=10, traders=("alice",))
    i = book.index("alice")
    book = book.replace_account(i, attrs.evolve(book.accounts[i], size_lots=1, cost_quote=10, cash_quote=1))
    assert _triggered(GEN_B, Ctx(book), "alice") is False  # maintenance ⌊0.05·10⌋ = 0 < 1
    assert _triggered(_maintenance(GEN_B, 100_000), Ctx(book), "alice") is True  # ⌊0.1·10⌋ = 1, at it


def test_the_settlement_puts_every_trader_within_the_payers_bound() -> None:
    checker = _checker()
    side_payer.settle_lemmas(GEN_B, Bounds(accounts=2, events=1), functools.partial(checker.valid, exact=True))
    assert [q.result for q in checker.queries] == ["unsat"] * 4
    assert sum("initial margin at the previous mark" in q.name for q in checker.queries) == 2


def test_a_start_below_its_initial_margin_breaks_the_settlement() -> None:
    """The well-formed start read at maintenance (``start_margin``, the premise one token weaker): a
    trader between its maintenance and initial margin has E − s·d below its initial margin."""
    checker = _checker()
    with pytest.raises(_Failed, match="z3 found a model"):
        side_payer.settle_lemmas(
            GEN_B,
            Bounds(accounts=2, events=1, start_margin="maintenance"),
            functools.partial(checker.valid, exact=True),
        )


@pytest.mark.deep
@pytest.mark.parametrize("who", ["bob", "carol"])
def test_every_piece_holds_for_each_trader_acted_on(who: str) -> None:
    """The per-lot charge, the resolve and the solvent close with bob or carol the account acted on
    (their payers in book order around them, so not alice's renamed): every lemma exact (session 24:
    bob 209,311 + 1,090,523 + 626,795 units, carol 193,766 + 1,460,603 + 857,660)."""
    checker = _Checker(Bounds(effort=10_000_000))
    valid = functools.partial(checker.valid, exact=True)
    side_payer.lemmas(GEN_B, valid, bankrupt=who)
    side_payer.resolve_lemmas(GEN_B, valid, bankrupt=who)
    side_payer.solvent_close_lemmas(GEN_B, valid, acted=who)
    assert len(checker.queries) == 28 and all(q.result == "unsat" for q in checker.queries)

"""Percolator Gen B's side indices (issue 15; docs/venues.md#percolator-side-indices): a bankrupt
position closes at the oracle against the opposing side pro rata, which shrinks (``A``), and what the
insurance fund leaves is charged per lot of that side (``K``), rounded as percolator rounds
(``rounding.side_index = "k_up"``; spec v11.31 §5.6 step 7, §5.3, §4.8; ``rules/side_index.py``).

The worked example is percolator's own proof harness ``t5_23`` (src, kani proofs: two accounts trade
2 × POS_SCALE at 100, then ``enqueue_adl(Short, q_close = POS_SCALE, D = 500)``: ``A_long`` falls
below ``ADL_ONE``, ``OI_eff_long == POS_SCALE``, ``K_long`` moves), run through the engine: alice long
2, bob and carol short 1 each, bob bankrupt by exactly 500 with an empty fund. ΔK = ⌈500 × 10^6 / 2⌉
= 250,000,000 per lot (millionths of a quantum), alice pays ⌈2 × 250,000,000 / 10^6⌉ = 500 and
keeps 1 lot, the spec's ``OI_eff_long == POS_SCALE``.
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvent.rules import side_index
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.outcomes import Bankrupt, LayerUsed
from solvent.rules.presets import load_preset
from solvent.rules.rounding import SideIndex
from solvent.rules.waterfall import Adl, Over, SocializedLoss, check_layers
from tests.rules.test_fidelity_percolator import stressed_book
from tests.rules.test_fidelity_round_two import _evolve, assert_every_mutant_is_caught

GEN_B = load_preset("percolator-gen-b")


def exact():
    """Gen B with each share rounded once (``side_index = "exact"``), for the rounding's boundary."""
    return attrs.evolve(GEN_B, rounding=attrs.evolve(GEN_B.rounding, side_index=SideIndex.EXACT))


def book(deficit: int, longs: dict[str, int], shorts: dict[str, int] | None = None, fund: int = 0) -> Book:
    """Mark 100, moving to 110 in the test: bob short ``q`` (the sum of ``longs`` less the other
    ``shorts``) on 10q − ``deficit``, so the move leaves him at −``deficit``; every long and other
    short on 1,000; the book flat."""
    shorts = shorts or {}
    q = sum(longs.values()) - sum(shorts.values())
    traders = ("bob", *longs, *shorts)
    accounts = {"bob": {"cash_quote": 10 * q - deficit, "principal_quote": max(10 * q - deficit, 0),
                        "size_lots": -q, "cost_quote": -100 * q}}  # fmt: skip
    for name, lots in longs.items():
        accounts[name] = {"cash_quote": 1_000, "principal_quote": 1_000, "size_lots": lots, "cost_quote": 100 * lots}
    for name, lots in shorts.items():
        accounts[name] = {"cash_quote": 1_000, "principal_quote": 1_000, "size_lots": -lots, "cost_quote": -100 * lots}
    return _evolve(new_book(mark_quote=100, traders=traders), **accounts, insurance_fund={"cash_quote": fund})


def run(policy, b: Book):
    s = step(policy, b, MarkPrice(110))
    charged = {t.source: t.amount_quote for t in s.transfers if t.reason is Reason.SOCIALIZED_LOSS}
    dust = sum(t.amount_quote for t in s.transfers if t.reason is Reason.PRO_RATA_DUST)
    sizes = {a.name: a.size_lots for a in s.after.accounts if a.size_lots}
    return charged, dust, sizes, s


class TestPercolatorsOwnExample:
    """t5_23 through the engine: D = 500 over 2 opposing lots."""

    def test_the_long_pays_500_and_keeps_one_lot(self) -> None:
        charged, dust, sizes, s = run(GEN_B, book(500, {"alice": 2}, {"carol": 1}))
        assert [o for o in s.outcomes if isinstance(o, Bankrupt)] == [Bankrupt("bob", 500)]
        assert charged == {"alice": 500}  # ⌈2 × ⌈500 × 10^6 / 2⌉ / 10^6⌉
        assert dust == 0
        assert sizes == {"alice": 1, "carol": -1}  # OI_eff_long == POS_SCALE: alice shrank by bob's lot
        assert s.after.account("bob").cash_quote == 0
        layers = [(o.layer, o.covered_quote) for o in s.outcomes if isinstance(o, LayerUsed)]
        assert layers == [("insurance_fund", 0), ("socialized_loss", 500)]  # nothing left for h

    def test_the_fund_pays_first(self) -> None:
        charged, _, _, s = run(GEN_B, book(500, {"alice": 2}, {"carol": 1}, fund=300))
        assert charged == {"alice": 200}  # §5.6 step 2: D_rem = use_insurance_buffer(D)
        assert s.after.account("insurance_fund").cash_quote == 0

    def test_only_the_opposing_side_pays(self) -> None:
        # carol, short beside bob, pays nothing; Drift's per-lot loss would charge her too
        charged, _, _, _ = run(GEN_B, book(500, {"alice": 2}, {"carol": 1}))
        assert "carol" not in charged


class TestTheChargesRounding:
    """k_up: ΔK rounds up at 10^-6 of a quantum a lot, then each share up to a quantum. At a ΔK that
    is whole (3 over 3 lots) both roundings charge the exact share; one quantum of deficit less (2
    over 3) and the ΔK rounding shows: k_up charges one lot-holder of 3 lots 2, where the share is 2
    exactly, and the exact rounding 2; with 1 over 3 lots, k_up charges 2, exact 1."""

    @pytest.mark.parametrize(
        ("deficit", "k_up", "exact_share"),
        [(3, 3, 3), (2, 3, 2), (1, 2, 1)],  # ⌈3 × ⌈D × 10^6 / 3⌉ / 10^6⌉ against ⌈D × 3 / 3⌉
    )
    def test_one_payer_of_three_lots(self, deficit: int, k_up: int, exact_share: int) -> None:
        charged, dust, _, _ = run(GEN_B, book(deficit, {"alice": 3}))
        assert (charged, dust) == ({"alice": k_up}, k_up - deficit)
        charged, dust, _, _ = run(exact(), book(deficit, {"alice": 3}))
        assert (charged, dust) == ({"alice": exact_share}, exact_share - deficit)

    def test_three_payers_of_a_lot_each(self) -> None:
        # ΔK = ⌈4 × 10^6 / 3⌉ = 1,333,334: each pays ⌈1.333334⌉ = 2, the fund keeps 2
        charged, dust, _, _ = run(GEN_B, book(4, {"alice": 1, "dave": 1, "erin": 1}))
        assert (charged, dust) == ({"alice": 2, "dave": 2, "erin": 2}, 2)
        charged, dust, _, _ = run(GEN_B, book(3, {"alice": 1, "dave": 1, "erin": 1}))
        assert (charged, dust) == ({"alice": 1, "dave": 1, "erin": 1}, 0)  # at the threshold: exact


class TestTheShrink:
    """One exact split of the q lots over the opposing holders by ``|s|`` (``side_index.lots_taken``,
    ``ProRata.EXACT_IN_ORDER``): each gives up ⌊|s| × q / OI⌋, then a lot more for each of the first in
    book order whose share had a fraction until the lots add up to q; the order book's is the rest."""

    def test_the_whole_side_closes_when_q_is_its_open_interest(self) -> None:
        _, _, sizes, _ = run(GEN_B, book(30, {"alice": 2, "dave": 1}))
        assert sizes == {}

    def test_a_lot_no_share_makes_whole_goes_to_the_first_with_a_fraction(self) -> None:
        # bob short 1 of 3 opposing lots: ⌊2/3⌋ = ⌊1/3⌋ = 0, one lot left: alice's (first, 2/3)
        _, _, sizes, _ = run(GEN_B, book(30, {"alice": 2, "dave": 1}, {"carol": 2}))
        assert sizes == {"alice": 1, "dave": 1, "carol": -2}

    def test_at_a_whole_share_the_traders_shrink(self) -> None:
        # bob short 2 of 4: alice 3 → ⌊3 × 2/4⌋ = 1, dave ⌊1 × 2/4⌋ = 0, the lot left alice's: 2 and 0
        _, _, sizes, _ = run(GEN_B, book(30, {"alice": 3, "dave": 1}, {"carol": 2}))
        assert sizes == {"alice": 1, "dave": 1, "carol": -2}
        _, _, sizes, _ = run(GEN_B, book(30, {"alice": 2, "dave": 2}, {"carol": 2}))
        assert sizes == {"alice": 1, "dave": 1, "carol": -2}

    def test_the_order_book_takes_its_share_of_the_split(self) -> None:
        # bob short 2 against alice long 2 and the order book long 2 (dave flat): 1 lot each, and
        # each pays for its lot, ΔK = 15 a lot
        b = _evolve(
            book(30, {"alice": 2, "dave": 2}, {"carol": 2}),
            dave={"size_lots": 0, "cost_quote": 0},
            liquidity={"size_lots": 2, "cost_quote": 200},
        )
        charged, dust, sizes, _ = run(GEN_B, b)
        assert sizes == {"alice": 1, "carol": -2, "liquidity": 1}
        assert (charged, dust) == ({"alice": 15, "liquidity": 15}, 0)


class TestTheChargeFollowsTheLotsTaken:
    """The deficit is charged in proportion to the lots each holder gave up (``side_index.charge_per_lot``
    on ``lots_taken``): ``k_up`` ΔK = ⌈D × 10^6 / q⌉ a lot taken, ``exact`` D split by the lots taken."""

    def test_q_equal_to_the_open_interest_charges_every_lot(self) -> None:
        # q = 3 = OI: ΔK = 10^7, alice ⌈2 × 10⌉ = 20 and dave 10, and no lot is left
        for policy in (GEN_B, exact()):
            charged, dust, sizes, _ = run(policy, book(30, {"alice": 2, "dave": 1}))
            assert (charged, dust, sizes) == ({"alice": 20, "dave": 10}, 0, {})

    @pytest.mark.parametrize("policy", [GEN_B, exact()], ids=["k_up", "exact"])
    def test_one_lot_positions_one_gives_the_lot_and_pays_the_whole_deficit(self, policy) -> None:
        # bob short 1 against three longs of one lot (and carol short 2): alice, the first with a
        # fraction, gives the lot and pays D = 4; the per-lot charge of the side as it stood was 2 each
        charged, dust, sizes, _ = run(policy, book(4, {"alice": 1, "dave": 1, "erin": 1}, {"carol": 2}))
        assert {k: v for k, v in charged.items() if v} == {"alice": 4}
        assert dust == 0
        assert sizes == {"dave": 1, "erin": 1, "carol": -2}

    def test_a_payer_who_gives_up_no_lot_pays_nothing(self) -> None:
        # dave (1 of 4 opposing lots, q = 2) gives up none: ⌊2/4⌋ = 0 and the lot left is alice's
        charged, _, sizes, s = run(GEN_B, book(30, {"alice": 3, "dave": 1}, {"carol": 2}))
        assert sizes["dave"] == 1
        assert charged.get("dave", 0) == 0 and charged["alice"] == 30
        assert s.after.account("dave").cash_quote == 1_000 + 10  # his gain on the move, nothing paid


def test_the_opposing_side_cannot_share_a_waterfall_with_adl() -> None:
    with pytest.raises(ValueError, match="cannot share a waterfall with 'adl'"):
        check_layers((SocializedLoss(over=Over.OPPOSING_SIDE), Adl()))


def observe() -> list:
    out = []
    for policy in (GEN_B, exact()):
        for b in (
            book(500, {"alice": 2}, {"carol": 1}),
            book(500, {"alice": 2}, {"carol": 1}, fund=300),
            book(1, {"alice": 3}),
            book(3, {"alice": 3}),
            book(4, {"alice": 1, "dave": 1, "erin": 1}),
            book(30, {"alice": 2, "dave": 1}, {"carol": 2}),
            book(30, {"alice": 3, "dave": 1}, {"carol": 2}),
            book(30, {"alice": 2, "dave": 2}, {"carol": 2}),
            book(30, {"alice": 2, "dave": 1}),
            book(4, {"alice": 1, "dave": 1, "erin": 1}, {"carol": 2}),
        ):
            s = step(policy, b, MarkPrice(110))
            out.append([(a.name, a.cash_quote, a.size_lots) for a in s.after.accounts])
    for longs in ((6, 4), (7, 3)):  # a solvent liquidation's shrink
        s = step(GEN_B, TestASolventLiquidationShrinksTheSideToo().book(*longs), MarkPrice(110))
        out.append([(a.name, a.cash_quote, a.size_lots) for a in s.after.accounts])
    out.append(_with_no_opposing_position())
    out.append(_with_nobody_opposite())
    return out


def _with_no_opposing_position():
    """A bankrupt account with no position (a flat loan) has no opposing side: nothing is charged
    and the deficit passes on (spec v11.31 §5.6 steps 4-5)."""
    b = book(7, {"alice": 3})
    i = b.index("bob")
    b = b.replace_account(i, attrs.evolve(b.accounts[i], size_lots=0, cost_quote=0))
    ctx, paid = side_index.charge_per_lot(Ctx(b), GEN_B.rounding, "bob", 7, b)
    return paid, [(t.item.source, t.item.amount_quote) for t in ctx.entries]


def _with_nobody_opposite():
    """A bankrupt short with no position opposite (a book whose open interest does not balance, which
    no event reaches): the order book takes its lots, and no loss (§5.6 steps 4-5: the deficit passes on)."""
    b = book(7, {"alice": 3})
    b = _evolve(b, alice={"size_lots": 0, "cost_quote": 0})
    ctx, paid = side_index.charge_per_lot(Ctx(b), GEN_B.rounding, "bob", 7, b)
    taken = side_index.lots_taken(b, "bob", 3)
    return paid, [(t.item.source, t.item.amount_quote) for t in ctx.entries], taken


def test_with_nobody_opposite_the_order_book_takes_the_lots_and_no_loss() -> None:
    paid, transfers, taken = _with_nobody_opposite()
    assert paid == 0 and all(amount == 0 for _, amount in transfers)
    assert taken == [("alice", 0), ("liquidity", 3)]


def test_with_no_opposing_position_nothing_is_charged() -> None:
    paid, transfers = _with_no_opposing_position()
    assert paid == 0 and all(amount == 0 for _, amount in transfers)


@pytest.mark.parametrize(
    ("name", "importer"),
    [("lots_taken", ""), ("charge_per_lot", "socialized_loss")],
)
def test_every_mutant_of_the_side_index_is_caught(monkeypatch, name: str, importer: str) -> None:
    import importlib

    importers = tuple(importlib.import_module(f"solvent.rules.{m}") for m in importer.split())
    # close_against_side and charge_per_lot call lots_taken through the module: patched there
    assert_every_mutant_is_caught(monkeypatch, side_index, name, observe, at_least=1, importers=importers)


Z3_BOOKS = {
    "t5_23": lambda: book(500, {"alice": 2}, {"carol": 1}),
    "solvent_shrink": lambda: TestASolventLiquidationShrinksTheSideToo().book(7, 3),
    "k_rounds": lambda: book(1, {"alice": 3}),
    "split_in_order": lambda: book(30, {"alice": 3, "dave": 1}, {"carol": 2}),
}


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, marks=pytest.mark.deep if c in ("split_in_order", "solvent_shrink") else ()) for c in Z3_BOOKS],
)
def test_the_z3_transition_agrees(case: str) -> None:
    """The symbolic step with every input pinned equals the concrete one (the charge, its dust and
    the shrink); the cheapest case in the default suite, the others under ``deep``."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "differential"))
    from tests.differential.test_engine_step import pinned_step_agrees

    got = pinned_step_agrees(GEN_B, Z3_BOOKS[case](), MarkPrice(110)).got
    charged = any(t.reason is Reason.SOCIALIZED_LOSS and t.amount_quote > 0 for t in got.transfers)
    assert charged is (case != "solvent_shrink")


class TestASolventLiquidationShrinksTheSideToo:
    """§9.4 step 12, §9.5 step 11 with D = 0: every liquidation's lots are the opposing side's. Mark
    100 → 110: carol (short 5 on 90) is at 40 against a maintenance of 27.5, dave (short 5 on 70)
    at 20, below it and solvent: his 5 lots close against the longs alice 6 and bob 4, who give up
    ⌊6 × 5/10⌋ = 3 and ⌊4 × 5/10⌋ = 2 (the exact split, whole here); his penalty ⌈5 × 110 × 0.5%⌉ = 3 goes to the fund."""

    def book(self, alice: int = 6, bob: int = 4) -> Book:
        def acct(cash: int, lots: int) -> dict:
            return {"cash_quote": cash, "principal_quote": cash, "size_lots": lots, "cost_quote": 100 * lots}

        b = new_book(mark_quote=100, traders=("alice", "bob", "carol", "dave"))
        return _evolve(b, alice=acct(1_000, alice), bob=acct(1_000, bob), carol=acct(90, -5), dave=acct(70, -5))

    def test_the_longs_give_up_the_lots(self) -> None:
        s = step(GEN_B, self.book(), MarkPrice(110))
        assert [o.account for o in s.outcomes if type(o).__name__ == "Liquidated"] == ["dave"]
        assert {a.name: a.size_lots for a in s.after.accounts if a.size_lots} == {"alice": 3, "bob": 2, "carol": -5}
        assert s.after.account("dave").cash_quote == 17  # 70 − 50 − 3
        assert not any(isinstance(o, Bankrupt) for o in s.outcomes)

    def test_below_a_whole_share_the_first_with_a_fraction_gives_the_lot(self) -> None:
        # alice 7, bob 3: ⌊7 × 5/10⌋ = 3, ⌊3 × 5/10⌋ = 1, the fifth lot alice's (first, 3.5)
        s = step(GEN_B, self.book(7, 3), MarkPrice(110))
        sizes = {a.name: a.size_lots for a in s.after.accounts if a.size_lots}
        assert sizes == {"alice": 3, "bob": 2, "carol": -5}  # the order book takes none


class TestWhereTheLazyHMatters:
    """percolator applies ``h`` lazily, when profit converts (docs/venues.md#percolator-what-is-not-modelled);
    Gen B reaches ``h`` only with no opposing position left (spec v11.31 §5.6 steps 4-5). On the
    preset's books a bankrupt position always has one: open interest balances and the order book
    (the rest of the market) is among the payers, so the per-lot charge takes all the fund leaves
    and ``h`` is never reached; the laziness of ``h`` changes nothing there."""

    def test_with_only_the_order_book_opposite_it_pays_per_lot(self) -> None:
        # dave short 10 is 150 below zero at 120; alice and bob flat, the book long the 10 lots
        book = _evolve(
            stressed_book(fund=0),
            alice={"size_lots": 0, "cost_quote": 0, "cash_quote": 1_000, "principal_quote": 1_000},
            bob={"size_lots": 0, "cost_quote": 0},
            liquidity={"size_lots": 10, "cost_quote": 1_000, "cash_quote": 10**6, "principal_quote": 10**6},
        )
        s = step(GEN_B, book, MarkPrice(120))
        assert [(o.layer, o.covered_quote) for o in s.outcomes if isinstance(o, LayerUsed)] == [
            ("insurance_fund", 0),
            ("socialized_loss", 150),
        ]
        assert s.after.account("liquidity").cash_quote == 10**6 + 200 - 150  # its gain less the charge
        assert (s.after.account("alice").cash_quote, s.after.account("bob").cash_quote) == (1_000, 1_000)


@settings(max_examples=300, deadline=None)
@given(
    longs=st.lists(st.integers(0, 9), min_size=1, max_size=4),
    book_lots=st.integers(0, 9),
    q_share=st.integers(1, 10**6),
    deficit=st.integers(0, 10**5),
)
def test_against_percolators_one_factor(longs: list[int], book_lots: int, q_share: int, deficit: int) -> None:
    """Percolator's shrink and charge by one factor (spec v11.31 §5.6): a position gives up ``q·|s|/OI``
    and pays ``D·|s|/OI``, in exact arithmetic. The lots taken are that share rounded to a neighbouring
    whole lot, add up to q and never exceed the position; the ``k_up`` charge is at least the deficit
    per lot taken (``D·taken/q``) and at most two quanta above it, so within ``D/q + 2`` of percolator's
    share, and the charges less the fund's dust are ``D``."""
    oi = sum(longs) + book_lots
    if oi == 0:
        return
    q = 1 + (q_share * (oi - 1)) // 10**6  # 1..OI
    names = [f"l{i}" for i in range(len(longs))]
    b = _evolve(
        new_book(mark_quote=100, traders=("bob", *names)),
        bob={"size_lots": -q, "cost_quote": -100 * q},
        liquidity={"size_lots": book_lots, "cost_quote": 100 * book_lots},
        **{n: {"size_lots": w, "cost_quote": 100 * w, "cash_quote": 10**6} for n, w in zip(names, longs, strict=True)},
    )
    taken = dict(side_index.lots_taken(b, "bob", q))
    weights = dict(zip(names, longs, strict=True)) | {"liquidity": book_lots}
    assert sum(taken.values()) == q
    for name, w in weights.items():
        assert (q * w) // oi <= taken[name] <= -(-(q * w) // oi) and taken[name] <= w
    ctx, paid = side_index.charge_per_lot(Ctx(b), GEN_B.rounding, "bob", deficit, b)
    paid_by = {t.item.source: t.item.amount_quote for t in ctx.entries if t.item.reason is Reason.SOCIALIZED_LOSS}
    dust = sum(t.item.amount_quote for t in ctx.entries if t.item.reason is Reason.PRO_RATA_DUST)
    assert paid == deficit and sum(paid_by.values()) - dust == deficit
    for name, w in weights.items():
        pays = paid_by.get(name, 0)
        assert deficit * taken[name] <= pays * q <= deficit * taken[name] + 2 * q
        assert abs(pays * q * oi - deficit * w * q) <= deficit * oi + 2 * q * oi  # |pays − D·w/OI| ≤ D/q + 2
        if taken[name] == 0:
            assert pays == 0

"""The payer claims at a funding payment: the gap rounded per fill (session 26, helper fundfill: the
lead's decision, docs/model.md#the-funds-own-bankruptcy, "The gap at a funding sweep, per fill";
docs/solver-notes.md#the-gap-at-a-funding-sweep-per-fill-session-26).

At a sweep that moved no mark an ADL at the bankruptcy price (Hyperliquid's at the previous mark
there, session 25) closed the bankrupt trader at the gap ``⌈D / |S|⌉`` a lot: the winners paid the
deficit rounded up to a quantum a lot. At a mark move that excess is at most the move back a winner
gained; a funding payment moved no mark, and at a low price a quantum a lot was more than all a
winner held. Helper fundiso found it (session 26): alice long 100 at 1 on 3, bob short 100 on 3,
funding at 40,000 ppm takes her to −1 and bob paid 100 for her deficit of 1, ending at −93:
no-negative-equity, loss-bounded-by-collateral and claims-backed false inside the proof's
assumptions. A false alarm of the model's price grid (a venue's tick is thousands of times finer
than a preset's quantum a lot), not a venue's rule: the layer's ``gap_rounding_without_move``
(default ``per_fill``, ``rules.adl.rounds_per_fill``) shares the deficit per fill there,
``⌈D × q / L⌉`` a fill, ``L`` the lots the queue can still reach. Bob pays her deficit, 1, and ends
at 3 + 4 − 1 = 6. The old rounding is the named mutant ``gap_rounding_without_move = "per_lot"``:
bob at −93 again, the three claims false.
"""

from __future__ import annotations

import inspect
import textwrap

import attrs
import pytest

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules import adl, bankruptcy
from solvent.rules.engine import run
from solvent.rules.events import Funding, MarkPrice
from solvent.rules.loading import PolicyError, dumps_policy, loads_policy
from solvent.rules.outcomes import AdlFill, Bankrupt, Residual
from solvent.rules.presets import load_preset
from solvent.rules.settlement import FundingRule
from solvent.rules.waterfall import Adl, GapRounding
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds, for_policy
from tests.rules import test_fidelity_trader_funding_adl as vault_story
from tests.rules.test_fidelity_fund_bankruptcy import opened
from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught
from tests.rules.test_fidelity_trader_funding_adl import adl_paid, surplus

HYPERLIQUID = load_preset("hyperliquid")
#: the preset without its funding cap (``[funding] max_rate_ppm``, 4% a payment, session 26): the
#: per-fill sharing's arithmetic at 100%, a rate the venue's own engine never pays
UNCAPPED = attrs.evolve(HYPERLIQUID, funding=FundingRule())
#: the scope the story lies in: two traders, one funding payment, every trader cross
SCOPE = for_policy(Bounds(accounts=2, events=1, event_kinds=("funding",), isolated=0), HYPERLIQUID)
PAYER_CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed")
BANKRUPTCY_PRICE_PRESETS = ("binance", "bybit", "bitmex", "okx")


def with_adl(policy, **changes):
    """``policy`` with its ADL layer changed."""
    return attrs.evolve(
        policy, deficit=tuple(attrs.evolve(d, **changes) if isinstance(d, Adl) else d for d in policy.deficit)
    )


def per_lot(policy):
    """The named mutant: the rounding before session 26's decision, per lot at a funding sweep too."""
    return with_adl(policy, gap_rounding_without_move=GapRounding.PER_LOT)


def book(bob: int, alice: int = 3):
    return opened(1, ("alice", "bob"), (("alice", 100, alice), ("bob", -100, bob)))


def funding_step(bob: int, policy=HYPERLIQUID, alice: int = 3):
    return run(policy, book(bob, alice), [Funding(40_000)])[-1]


def holds(step, claim: str, policy=HYPERLIQUID) -> bool:
    return bool(catalog.get(claim).holds(StepView.of(policy, step)))


def two_winners(rate_ppm: int, policy=HYPERLIQUID):
    """alice long 100 at 1 on 3; bob short 60 and carol short 40, each on 3."""
    rows = (("alice", 100, 3), ("bob", -60, 3), ("carol", -40, 3))
    return run(policy, opened(1, ("alice", "bob", "carol"), rows), [Funding(rate_ppm)])[-1]


def mark_move(policy):
    """alice long 100 at 2 on 99, bob short 100 on 5; the mark 2 → 1 takes her to −1 at a mark move."""
    return run(policy, opened(2, ("alice", "bob"), (("alice", 100, 99), ("bob", -100, 5))), [MarkPrice(1)])[-1]


class TestTheWinnerPaysTheDeficit:
    def test_the_books_are_inside_the_proofs_assumptions(self) -> None:
        for bob in (3, 95):
            failing = [a.name for a in book_assumptions(HYPERLIQUID, book(bob), SCOPE) if not a.holds]
            assert failing == [], bob

    def test_bob_pays_exactly_her_deficit_of_one(self) -> None:
        s = funding_step(3)
        assert Bankrupt("alice", 1) in s.outcomes
        fills = [(o.winner, o.lots) for o in s.outcomes if isinstance(o, AdlFill)]
        assert fills == [("bob", 100)]
        assert adl_paid(s) == {"bob": 1}
        assert surplus(s) == 0
        bob, alice = s.after.account("bob"), s.after.account("alice")
        assert (alice.cash_quote, alice.size_lots) == (0, 0)
        assert (bob.cash_quote, bob.size_lots) == (3 + 4 - 1, 0)
        assert not any(isinstance(o, Residual) for o in s.outcomes)
        assert [holds(s, c) for c in PAYER_CLAIMS] == [True, True, True]

    def test_one_quantum_either_side_of_the_deficit(self) -> None:
        """alice on 2, 3, 4: at −2, −1 and 0 after the payment; bob pays 2, 1 and nothing (at 0 the vault
        takes her over), never a quantum more or less than her deficit."""
        for alice, paid in ((2, 2), (3, 1), (4, 0)):
            s = funding_step(3, alice=alice)
            assert adl_paid(s) == ({"bob": paid} if paid else {}), alice
            assert s.after.account("bob").cash_quote == 3 + 4 - paid, alice
            assert not any(isinstance(o, Residual) for o in s.outcomes), alice
            assert [holds(s, c) for c in PAYER_CLAIMS] == [True] * 3, alice

    def test_two_winners_share_it_per_fill(self) -> None:
        """At 1,000,000 ppm alice is at −97: bob's 60 lots pay ⌈97 × 60 / 100⌉ = 59, then carol's 40
        ⌈38 × 40 / 40⌉ = 38: 97 in all (per lot, 1 a lot: 100). At 40,000 ppm, −1: bob 1, carol 0."""
        s = two_winners(1_000_000, UNCAPPED)
        assert Bankrupt("alice", 97) in s.outcomes
        assert adl_paid(s) == {"bob": 59, "carol": 38}
        assert not any(isinstance(o, Residual) for o in s.outcomes)
        assert adl_paid(two_winners(40_000)) == {"bob": 1}
        assert adl_paid(two_winners(1_000_000, per_lot(UNCAPPED))) == {"bob": 60, "carol": 40}


class TestThePerLotRoundingBack:
    """The named mutant: ``gap_rounding_without_move = "per_lot"`` on the preset (fundiso's finding)."""

    def test_bob_pays_a_quantum_a_lot_and_ends_at_minus_93(self) -> None:
        policy = per_lot(HYPERLIQUID)
        s = funding_step(3, policy)
        assert adl_paid(s) == {"bob": 100}
        assert surplus(s) == 99
        assert s.after.account("bob").cash_quote == 3 + 4 - 100
        assert [holds(s, c, policy) for c in PAYER_CLAIMS] == [False, False, False]

    def test_bob_at_minus_one_zero_and_plus_one(self) -> None:
        policy = per_lot(HYPERLIQUID)
        for bob, end in ((95, -1), (96, 0), (97, 1)):
            s = funding_step(bob, policy)
            assert s.after.account("bob").cash_quote == end
            assert [holds(s, c, policy) for c in PAYER_CLAIMS] == [end >= 0] * 3, bob
            # per fill the same books leave him at 98, 99, 100
            assert funding_step(bob).after.account("bob").cash_quote == bob + 3


@pytest.mark.parametrize("preset", BANKRUPTCY_PRICE_PRESETS)
def test_every_bankruptcy_price_preset_rounds_per_fill_at_funding(preset: str) -> None:
    """Where ADL is at the bankruptcy price at every sweep the same book and payment (a price of 1 in
    the preset's quanta): bob pays 1 and ends at 6, the claims hold; per lot (the mutant) 100 and −93,
    the claims false; at a mark move (2 → 1, alice at −1) per lot as before: bob pays the 100 he gained."""
    policy = load_preset(preset)
    scope = for_policy(Bounds(accounts=2, events=1, event_kinds=("funding",), isolated=0), policy)
    assert [a.name for a in book_assumptions(policy, book(3), scope) if not a.holds] == []
    s = funding_step(3, policy)
    assert adl_paid(s) == {"bob": 1}
    assert s.after.account("bob").cash_quote == 6
    assert all(holds(s, c, policy) for c in PAYER_CLAIMS)
    mutant = per_lot(policy)
    s = funding_step(3, mutant)
    assert (adl_paid(s), s.after.account("bob").cash_quote) == ({"bob": 100}, -93)
    assert not any(holds(s, c, mutant) for c in PAYER_CLAIMS)
    m = mark_move(policy)
    assert Bankrupt("alice", 1) in m.outcomes
    assert (adl_paid(m), m.after.account("bob").cash_quote) == ({"bob": 100}, 5)


class TestAroundTheVaultsLots:
    """Session 25's story (tests/rules/test_fidelity_trader_funding_adl.py): the vault short 400 opposite
    alice, bob short 600, funding at 20,000 ppm takes her to −700. Since session 28 the deficit is over her
    whole position (``rules.adl.pool_takes_over``): per fill bob's 600 lots pay ⌈700 × 600 / 1,000⌉ = 420,
    her other 400 go to the vault at the mark (its own 400 opposite) and the 280 they leave is the vault's
    (``rules.bankruptcy.vault_takes_over``), flat at −280; no residual (per lot: 1 a lot, 600, the vault
    100). Until session 28 bob's lots carried it all, 700 (per lot 1,200)."""

    def step(self, policy=vault_story.HYPERLIQUID):
        return vault_story.funding_step(
            29_100, policy=policy, events=vault_story.SPREAD, bob=-600, vault_lots=-400, vault=-11_920
        )

    def test_bob_pays_his_fills_share_and_the_vault_the_rest(self) -> None:
        s = self.step()
        assert Bankrupt("alice", 700) in s.outcomes
        assert adl_paid(s) == {"bob": 420}
        assert (surplus(s), vault_story.taken_over(s)) == (0, 280)
        assert s.after.account("alice").cash_quote == 0
        assert (s.after.account("backstop_vault").cash_quote, s.after.account("backstop_vault").size_lots) == (-280, 0)
        assert not any(isinstance(o, Residual) for o in s.outcomes)
        per_lot = self.step(vault_story.PER_LOT)
        assert (adl_paid(per_lot), vault_story.taken_over(per_lot)) == ({"bob": 600}, 100)

    def test_session_25s_stories_per_fill(self) -> None:
        """At −1 and −470 after 13,000 ppm bob pays 1 and 470, the vault keeping nothing (per lot: 1,000 each)."""
        for x, paid in ((-1, 1), (-470, 470)):
            s = vault_story.funding_step(vault_story.ALICE[x])
            assert (adl_paid(s), surplus(s), s.after.account("alice").cash_quote) == ({"bob": paid}, 0, 0), x

    def test_without_the_takeover_it_leaves_a_residual(self, monkeypatch) -> None:
        """The mutant: ``bankruptcy.vault_takes_over`` doing nothing. Bob's 600 pay ⌈700 × 600 / 1,000⌉ = 420 and
        280 of her deficit is left below zero, a residual."""
        monkeypatch.setattr(bankruptcy, "vault_takes_over", lambda policy, ctx, name: ctx)
        s = self.step()
        assert adl_paid(s) == {"bob": 420}
        assert Residual("alice", 280) in s.outcomes


def observe() -> list:
    """The boundaries ``rounds_per_fill`` decides: the funding payment on hyperliquid as shipped and per
    lot, binance's mark move as shipped and with ``gap_rounding = "per_fill"``, okx at price mark."""
    binance = load_preset("binance")
    out = [adl_paid(funding_step(3)), adl_paid(funding_step(3, per_lot(HYPERLIQUID)))]
    out += [adl_paid(mark_move(binance)), adl_paid(mark_move(with_adl(binance, gap_rounding=GapRounding.PER_FILL)))]
    both = with_adl(binance, gap_rounding=GapRounding.PER_FILL, gap_rounding_without_move=GapRounding.PER_LOT)
    out += [adl_paid(funding_step(3, both)), adl_paid(mark_move(both))]
    return out


def test_every_mutant_of_rounds_per_fill_is_caught(monkeypatch) -> None:
    """Every one-token mutant of ``rounds_per_fill`` (its ``not``, ``and``, each ``is``)."""
    assert observe() == [{"bob": 1}, {"bob": 100}, {"bob": 100}, {"bob": 1}, {"bob": 100}, {"bob": 1}]
    assert_every_mutant_is_caught(monkeypatch, adl, "rounds_per_fill", observe, at_least=4)


def test_the_rule_is_read_once() -> None:
    """``deleverage`` and the walk decide per fill by ``rounds_per_fill`` alone: no other reading of
    ``gap_rounding`` in rules/adl.py."""
    source = textwrap.dedent(inspect.getsource(adl))
    assert source.count("gap_rounding is GapRounding.PER_FILL") == 1
    assert source.count("gap_rounding_without_move is GapRounding.PER_FILL") == 1


class TestTheField:
    def test_per_fill_by_default_kept_out_of_the_text(self) -> None:
        assert HYPERLIQUID.adl.gap_rounding_without_move is GapRounding.PER_FILL
        assert "gap_rounding_without_move" not in dumps_policy(HYPERLIQUID)

    def test_per_lot_is_read_and_written(self) -> None:
        text = dumps_policy(per_lot(HYPERLIQUID))
        assert 'gap_rounding_without_move = "per_lot"' in text
        assert loads_policy(text).adl.gap_rounding_without_move is GapRounding.PER_LOT

    def test_a_bad_value_names_the_field_its_line_and_the_choices(self) -> None:
        text = dumps_policy(per_lot(HYPERLIQUID)).replace(
            'gap_rounding_without_move = "per_lot"', 'gap_rounding_without_move = "per_tick"'
        )
        line = text.splitlines().index('gap_rounding_without_move = "per_tick"') + 1
        with pytest.raises(PolicyError) as error:
            loads_policy(text)
        assert str(error.value) == (
            "<string>: 1 error(s)\n  'gap_rounding_without_move' must be one of 'per_lot', 'per_fill': 'per_tick' "
            f"(did you mean 'per_lot'?) @ $.deficit[1].gap_rounding_without_move (<string>:{line}:29)"
        )

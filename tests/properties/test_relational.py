"""Relational properties hold where the engine is exact and fail where two runs genuinely differ.

Every failure asserted here is explained with its numbers. Prices are quote quanta per lot; the
margin is 10x (IM 10%, MM 5%) unless a preset is named.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvent.properties import relational as rel
from solvent.properties.relational import Knobs, check_relational, judge
from solvent.properties.scenarios import Story
from solvent.properties.search import Outcome, SearchBudget, replay
from solvent.properties.strategies import stories
from solvent.rules.book import Book, new_book
from solvent.rules.events import Deposit, Funding, MarkPrice, SpotDeposit, Taker, Trade
from solvent.rules.loading import load_policy
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.policy import Policy
from solvent.rules.presets import load_preset, preset_names
from solvent.rules.rounding import FundingRemainder, FundingRounding, RoundingRule
from solvent.rules.waterfall import Adl, InsuranceFund, Ranking

#: the module's tests run on one xdist worker (``--dist loadgroup`` sends every ungrouped test
#: on its own, so its tests were split over both workers and each built the module's fixtures):
#: `found` (the planted funding rounding's search): 10 s under load, built on both workers (session
#: 25)
pytestmark = pytest.mark.xdist_group("relational")

TIERS = (Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),)  # 10x, MM 5%


def policy(ranking: Ranking = Ranking.ORDER, *, spot_collateral: bool = False) -> Policy:
    """Insurance fund, then ADL at the bankruptcy price: a simple, correct waterfall."""
    margin = MarginRule(tiers=TIERS, spot_collateral=spot_collateral)
    return Policy(name="fund-then-adl", margin=margin, deficit=(InsuranceFund(), Adl(ranking=ranking)))


def pair(*events) -> Story:
    """Alice and Bob at mark 100, the order book funded, then ``events``."""
    return Story(new_book(mark_quote=100), (Deposit("liquidity", 10**6),) + tuple(events))


def four(*events) -> Story:
    """Alice, Bob, Carol and Dave at mark 10,000, the order book funded, then ``events``."""
    book = new_book(mark_quote=10_000, traders=("alice", "bob", "carol", "dave"))
    return Story(book, (Deposit("liquidity", 10**9),) + tuple(events))


def judged(p: Policy, id: str, story: Story, site, knobs: Knobs = Knobs()) -> rel.Comparison:
    return judge(p, rel.get(id), story, site, knobs).comparison


def cash(book: Book, name: str) -> int:
    return book.account(name).cash_quote


def _moved(book: Book, *deltas: tuple[str, int]) -> Book:
    """``book`` with the named accounts' cash changed by the deltas."""
    for name, delta in deltas:
        i = book.index(name)
        book = book.replace_account(i, attrs.evolve(book.accounts[i], cash_quote=book.accounts[i].cash_quote + delta))
    return book


class TestRegistry:
    """The four relational properties of docs/design.md#relational-properties are registered under their stable ids."""

    def test_ids(self):
        assert rel.ids() == [
            "cadence-invariant",
            "round-trip-neutral",
            "more-fund-never-hurts",
            "more-collateral-never-hurts",
        ]

    def test_unknown_id_names_the_known_ones(self):
        with pytest.raises(KeyError, match="known: cadence-invariant, round-trip-neutral"):
            rel.get("no-such-property")

    def test_a_rejected_story_is_not_applicable(self):
        story = pair(Trade("alice", "bob", 1, 100))  # nobody has margin: the trade is rejected
        assert not judged(policy(), "cadence-invariant", story, 1).applicable
        assert check_relational(policy(), story) == []


class TestCadenceInvariant:
    """Settle-to-mark is exact, so a split mark move changes nothing; funding rounds per payment."""

    OPEN = (Deposit("alice", 1_000), Deposit("bob", 1_000), Trade("alice", "bob", 1, 100))

    def test_split_mark_move_changes_no_balance(self):
        # 100 → 90 in one step or via 95: alice pays 10 either way (1 lot × 10), no rounding
        story = pair(*self.OPEN, MarkPrice(90))
        got = judged(policy(), "cadence-invariant", story, 4)
        assert got.applicable and got.explanation is None
        assert check_relational(policy(), story, ["cadence-invariant"]) == []

    def test_a_move_that_liquidates_is_not_applicable(self):
        # alice (10 lots at 100, equity 101) loses 400 at 60: liquidated in both runs
        story = pair(Deposit("alice", 101), Deposit("bob", 1_000), Trade("alice", "bob", 10, 100), MarkPrice(60))
        assert not judged(policy(), "cadence-invariant", story, 4).applicable

    def test_split_funding_moves_only_the_declared_dust(self):
        # 1 lot × mark 100 × 1% = 1.0: alice pays 1, bob receives 1.
        # Split 0.5% + 0.5%: alice pays ⌈0.5⌉ + ⌈0.5⌉ = 2, bob receives ⌊0.5⌋ + ⌊0.5⌋ = 0, and the
        # fee account keeps the 2 quanta: each trader one quantum poorer for the one extra
        # payment, paid to the account rounding.funding names: the declared dust, so the claim holds.
        story = pair(*self.OPEN, Funding(10_000))
        got = judge(policy(), rel.get("cadence-invariant"), story, 4, Knobs())
        assert got.comparison.applicable and got.comparison.explanation is None
        assert got.twin.story.events[-2:] == (Funding(5_000), Funding(5_000))
        a, b = replay(policy(), story)[-1].after, replay(policy(), got.twin.story)[-1].after
        assert [cash(a, n) for n in ("alice", "bob", "fee_account")] == [999, 1_001, 0]
        assert [cash(b, n) for n in ("alice", "bob", "fee_account")] == [998, 1_000, 2]
        assert check_relational(policy(), story, ["cadence-invariant"]) == []

    def test_dust_to_the_insurance_fund_is_declared_too(self):
        p = attrs.evolve(policy(), rounding=RoundingRule(funding=FundingRounding.PAYERS_UP_DUST_TO_INSURANCE_FUND))
        story = pair(*self.OPEN, Funding(10_000))
        assert judged(p, "cadence-invariant", story, 4).explanation is None
        twin = judge(p, rel.get("cadence-invariant"), story, 4, Knobs()).twin
        assert cash(replay(p, twin.story)[-1].after, "insurance_fund") == 2

    def test_rounding_in_the_users_favour_fails(self):
        # Payers down, receivers up, the fee account pays: at 1% alice pays 1 and bob gets 1;
        # split, alice pays ⌊0.5⌋ + ⌊0.5⌋ = 0 and bob gets ⌈0.5⌉ + ⌈0.5⌉ = 2, both out of the fee account.
        p = attrs.evolve(
            policy(), rounding=RoundingRule(funding=FundingRounding.PAYERS_DOWN_SHORTFALL_FROM_FEE_ACCOUNT)
        )
        story = pair(*self.OPEN, Funding(10_000))
        got = judged(p, "cadence-invariant", story, 4)
        assert got.applicable
        assert "alice cash 999 vs 1000; bob cash 1001 vs 1002; fee_account cash 0 vs -2" in got.explanation
        assert (
            "Beyond the declared funding rounding (rounding.funding = 'payers_down_shortfall_from_fee_account': "
            "each account with a position at most 1 quantum poorer per extra payment, paid to fee_account): "
            "alice cash +1; bob cash +1; fee_account cash -2 while the payers and receivers lose 0 to rounding."
        ) in got.explanation

    def test_dust_beyond_one_quantum_per_payment_is_not_declared(self):
        # the books as if the split had cost alice 2 quanta for one extra payment
        story = pair(*self.OPEN)
        a = replay(policy(), story)[-1].after
        b = _moved(a, ("alice", -2), ("fee_account", 2))
        assert rel.undeclared_dust(policy(), a, b, 1) == [
            "alice cash -2",
            "fee_account cash +2 while the payers and receivers lose 0 to rounding",
        ]
        assert rel.undeclared_dust(policy(), a, b, 2) == []

    def test_dust_paid_to_another_account_is_not_declared(self):
        story = pair(*self.OPEN)
        a = replay(policy(), story)[-1].after
        b = _moved(a, ("alice", -1), ("insurance_fund", 1))
        assert rel.undeclared_dust(policy(), a, b, 1) == [
            "insurance_fund cash +1",
            "fee_account cash +0 while the payers and receivers lose 1 to rounding",
        ]

    @settings(max_examples=30)
    @given(story=stories(policy()), share_ppm=st.integers(1, 999_999))
    def test_no_split_mark_move_ever_changes_a_balance(self, story, share_ppm):
        """Without spot collateral, every split of every mark move with no liquidation holds."""
        sites = [i for i, e in enumerate(story.events) if isinstance(e, MarkPrice)]
        for i in sites:
            got = judged(policy(), "cadence-invariant", story, i, Knobs(share_ppm=share_ppm))
            assert got.explanation is None, got.explanation


class TestRoundTripNeutral:
    """A detour of the mark settles both ways exactly; spot conversion does not come back."""

    def test_detour_leaves_every_balance_unchanged(self):
        story = pair(Deposit("alice", 1_000), Deposit("bob", 1_000), Trade("alice", "bob", 1, 100))
        for site in (4, 2):
            got = judged(policy(), "round-trip-neutral", story, site, Knobs(excursion_ppm=-100_000))
            assert got.applicable and got.explanation is None
        assert check_relational(policy(), story, ["round-trip-neutral"]) == []

    def test_spot_converted_on_the_dip_is_the_policys_settlement_not_a_leak(self):
        # alice: cash 100, spot 1,000, long 10 at 100. The mark dips to 80: she pays 200, cash is
        # −100, equity 900 ≥ MM 40 (no liquidation), and the sweep converts 100 of spot to cash
        # (the policy's rule: Drift's settle_pnl, Backpack's conversion). Back at 100 she is paid
        # 200: cash 200, spot 900 instead of cash 100, spot 1,000. With the 100 converted put back
        # every balance is run A's: the claim holds (it was a false alarm on drift and backpack).
        p = policy(spot_collateral=True)
        story = pair(
            Deposit("alice", 100), SpotDeposit("alice", 1_000), Deposit("bob", 1_000), Trade("alice", "bob", 10, 100)
        )
        twin = rel.round_trip_twin(p, story, replay(p, story), 5, Knobs(excursion_ppm=-200_000))
        steps_b = replay(p, twin.story)
        assert rel._converted(steps_b, twin.b_window) == {"alice": 100}
        after = steps_b[twin.b_window[1] - 1].after
        assert (cash(after, "alice"), after.account("alice").spot_quote) == (200, 900)
        got = judged(p, "round-trip-neutral", story, 5, Knobs(excursion_ppm=-200_000))
        assert got.applicable and got.explanation is None
        # one quantum more (or less) in cash than the conversion moved is a leak, named
        for delta in (1, -1):
            end = twin.b_window[1] - 1
            leaked = [*steps_b[:end], attrs.evolve(steps_b[end], after=_moved(after, ("alice", delta)))]
            found = rel.round_trip_compare(p, replay(p, story), leaked, twin).explanation
            assert f"alice cash 100 vs {100 + delta}" in found and "spot" not in found

    def test_drift_search_story_holds_with_its_settlement_put_back(self):
        """The story drift's search reported: alice, short 7 after a trade 2 below the mark, cash
        −14 beside 203 of spot; the detour 116 → 117 converts 21 of spot, 117 → 116 pays her 7."""
        p = load_preset("drift")
        book = new_book(mark_quote=116)
        story = Story(
            book, (Deposit("bob", 177), SpotDeposit("alice", 203), Trade("bob", "alice", 7, 114, Taker.SELLER))
        )
        twin = rel.round_trip_twin(p, story, replay(p, story), 3, Knobs(excursion_ppm=8_700))
        assert [e.price_quote for e in twin.story.events[3:]] == [117, 116]
        assert rel._converted(replay(p, twin.story), twin.b_window) == {"alice": 21}
        assert judged(p, "round-trip-neutral", story, 3, Knobs(excursion_ppm=8_700)).explanation is None

    @settings(max_examples=30)
    @given(story=stories(policy()), excursion_ppm=st.integers(-9_000, 20_000).filter(bool).map(lambda bp: bp * 100))
    def test_no_detour_ever_changes_a_balance(self, story, excursion_ppm):
        """Without spot collateral, every detour with no liquidation holds."""
        for i in range(1, len(story.events) + 1):
            got = judged(policy(), "round-trip-neutral", story, i, Knobs(excursion_ppm=excursion_ppm))
            assert got.explanation is None, got.explanation


# Two longs gap down in one sweep. alice: 11,000 for 10 lots at 10,000; carol: 10,000 for 10
# lots. At 8,000 each loses 20,000: alice's deficit 9,000 (900 per lot), carol's 10,000 (1,000
# per lot). bob and dave (100,000 each) hold the shorts; ADL ranks by book order: bob first.
TWO_BANKRUPT = (
    Deposit("alice", 11_000),
    Deposit("bob", 100_000),
    Deposit("carol", 10_000),
    Deposit("dave", 100_000),
    Trade("alice", "bob", 10, 10_000),
    Trade("carol", "dave", 10, 10_000),
    MarkPrice(8_000),
)


class TestMoreFundNeverHurts:
    """A larger fund lowers the total haircut, but the sweep order decides whose haircut it lowers."""

    def test_more_fund_smaller_haircut(self):
        # alice alone: deficit 9,000; fund 0 → bob pays 9,000 by ADL; fund 4,000 → bob pays 5,000
        story = four(*TWO_BANKRUPT[:2], TWO_BANKRUPT[4], MarkPrice(8_000))
        got = judged(policy(), "more-fund-never-hurts", story, "insurance_fund", Knobs(extra_quote=4_000))
        assert got.applicable and got.exercised and got.explanation is None
        assert check_relational(policy(), story, ["more-fund-never-hurts"]) == []

    def test_the_fund_saved_on_one_bankruptcy_moves_the_next_one_onto_the_first_winner(self):
        # Run A (fund 0): alice is ADL'd against bob (bob pays 10 × 900 = 9,000, now flat), then
        # carol against dave (dave pays 10 × 1,000 = 10,000): total 19,000.
        # Run B (fund 9,000): the fund covers alice, her position goes to the book, and bob is
        # still first in the queue for carol: bob pays 10 × 1,000 = 10,000 > 9,000.
        # The total falls (19,000 → 10,000) but bob's haircut grows.
        story = four(*TWO_BANKRUPT)
        got = judged(policy(), "more-fund-never-hurts", story, "insurance_fund", Knobs(extra_quote=9_000))
        assert got.applicable and got.exercised
        assert "bob 9000 vs 10000; in total 19000 vs 10000" in got.explanation


# alice long 10 at 10,000 against bob (20,000 deposited); dave long 10 against carol (30,000).
# At 8,000 alice (11,000) is 9,000 short: 900 per lot. Binance ranks winners by
# max(UP,0) × MM / (wallet × equity): bob 20,000 × 4,000 / (20,000 × 40,000) = 0.1 ranks above
# carol 20,000 × 4,000 / (30,000 × 50,000) ≈ 0.053, so bob alone is ADL'd.
QUEUE = (
    Deposit("alice", 11_000),
    Deposit("bob", 20_000),
    Deposit("carol", 30_000),
    Deposit("dave", 100_000),
    Trade("alice", "bob", 10, 10_000),
    Trade("dave", "carol", 10, 10_000),
    MarkPrice(8_000),
)


class TestMoreCollateralNeverHurts:
    """Extra collateral can reorder the ADL queue or delay a liquidation onto a winner."""

    def test_book_order_queue_is_not_moved_by_collateral(self):
        story = four(*QUEUE)
        for who in ("alice", "bob", "carol", "dave"):
            got = judged(policy(Ranking.ORDER), "more-collateral-never-hurts", story, who, Knobs(extra_quote=100_000))
            assert got.applicable and got.exercised and got.explanation is None, who

    def test_binance_ranking_moves_the_adl_queue_onto_another_winner(self):
        # bob deposits 100,000 more: his score becomes 20,000 × 4,000 / (120,000 × 140,000) ≈ 0.005,
        # below carol's 0.053, so carol is ADL'd instead: she buys back 10 lots at 8,900 and ends
        # with 50,000 − 9,000 = 41,000 instead of 50,000.
        story = four(*QUEUE)
        got = judged(policy(Ranking.BINANCE), "more-collateral-never-hurts", story, "bob", Knobs(extra_quote=100_000))
        assert got.applicable and got.exercised
        assert (
            "carol ends with equity net of debt 50000 in run A vs 41000 in run B (haircuts paid 0 vs 9000)"
            in got.explanation
        )

    def test_collateral_that_delays_a_liquidation_hands_the_gap_to_the_winner(self):
        # Binance preset: alice long 1 lot at 100 with 1, bob short with 2. Funding 1 ppm: alice
        # pays ⌈0.0001⌉ = 1. Run A: equity 0 ≤ MM ⌈0.4⌉ = 1, she is closed at mark into the book;
        # the drop to 97 pays bob 3: he ends with 5. Run B (alice +2): equity 2 > MM, she stays
        # open, the drop to 97 leaves her −1, the fund is empty and bob is ADL'd for 1: he ends with 4.
        story = pair(Deposit("alice", 1), Deposit("bob", 2), Trade("alice", "bob", 1, 100), Funding(1), MarkPrice(97))
        got = judged(load_preset("binance"), "more-collateral-never-hurts", story, "alice", Knobs(extra_quote=2))
        assert got.applicable and got.exercised
        assert "bob ends with equity net of debt 5 in run A vs 4 in run B (haircuts paid 0 vs 1)" in got.explanation

    def test_being_spared_adl_is_not_harm(self):
        # Binance preset at mark 500: alice and carol each deposit 4 (initial margin on 500 at
        # 0.8% is 4: a trade the venue accepts) and alice buys 1 lot from carol at the mark. At 505
        # carol is 1 short: ADL closes alice at 504 (she pays 1) and she ends flat with 8. With 1
        # more, carol ends at 0 ≤ MM: closed into the book, no deficit, alice keeps her long (9)
        # and the drop to 499 costs her 6: she ends with 3. Poorer, but through her own position,
        # after paying no haircut: the claim holds.
        book = new_book(mark_quote=500, traders=("alice", "carol"))
        events = (
            Deposit("alice", 4),
            Deposit("carol", 4),
            Trade("alice", "carol", 1, 500, Taker.SELLER),
            MarkPrice(505),
            MarkPrice(499),
        )
        got = judged(
            load_preset("binance"), "more-collateral-never-hurts", Story(book, events), "carol", Knobs(extra_quote=1)
        )
        assert got.applicable and got.exercised and got.explanation is None


BUDGET = SearchBudget(max_examples=40)
NAMED = [
    "backpack",
    "binance",
    "broker-reg-t",
    "drift",
    "okx-2018",
    "percolator",
]  # the grid's presets; cadence runs on all


class TestSearchOnPresets:
    """A small derandomized search per preset; found stories replay, the rest is recorded.

    Hypothesis's own shrinking is skipped here (each attempt draws a whole story: seconds per
    find); :func:`minimize` still makes every found story 1-minimal.
    """

    @pytest.mark.parametrize("name", preset_names())
    def test_presets_keep_cadence_up_to_their_declared_funding_dust(self, name, record_property):
        """Every preset declares its funding rounding; no split moves more than that dust."""
        p = load_preset(name)
        result = rel.search_relational(p, "cadence-invariant", BUDGET, shrink=False)
        record_property("stats", repr(result.stats))
        assert result.stats.applicable > 0
        if result.outcome is Outcome.FOUND:
            # a split that changes positions (a forced close other than a liquidation, e.g. a
            # PnL-to-pool ADL) is a cadence finding of its own; declared funding dust never is
            change = result.violation.explanation.split(" changes balances")[0]
            assert "Funding(" not in change and " size " in result.violation.explanation, result.violation
        # the dust is really there: split 1%, alice and bob each end one quantum poorer, to the named account;
        # a preset that carries the remainder (mango-v4: rounding.funding_remainder) owes no dust at all
        story = pair(*TestCadenceInvariant.OPEN, Funding(10_000))
        got = judge(p, rel.get("cadence-invariant"), story, 4, Knobs())
        assert got.comparison.applicable and got.comparison.explanation is None
        a, b = replay(p, story)[-1].after, replay(p, got.twin.story)[-1].after
        dust_account = a.role(p.rounding.funding.dust_account).name
        carried = p.rounding.funding_remainder is FundingRemainder.CARRIED
        assert [cash(b, n) - cash(a, n) for n in ("alice", "bob", dust_account)] == (
            [0, 0, 0] if carried else [-1, -1, 2]
        )


PLANTED_FUNDING = Path(__file__).parents[1] / "planted_relational" / "funding-rounds-toward-users.toml"


@pytest.fixture(scope="module")
def found():
    """The cadence search on the planted policy, run once."""
    return rel.search_relational(load_policy(PLANTED_FUNDING), "cadence-invariant", SearchBudget(max_examples=2_000))


class TestPlantedFundingRounding:
    """tests/planted_relational: funding rounded in the users' favour is found by the cadence search."""

    def test_found_as_a_four_event_story(self, found):
        assert found.outcome is Outcome.FOUND
        story = found.violation.story
        assert len(story.book.traders) <= 3
        events = [e for e in story.events if not (isinstance(e, Deposit) and e.account == "liquidity")]
        assert len(events) <= 4 and isinstance(events[-1], Funding), story.events
        assert (
            "Beyond the declared funding rounding (rounding.funding = 'payers_down_shortfall_from_fee_account'"
            in found.violation.explanation
        )
        assert "fee_account cash -" in found.violation.explanation

    def test_story_is_one_minimal(self, found):
        p, prop, story = load_policy(PLANTED_FUNDING), rel.get("cadence-invariant"), found.violation.story
        for i in range(len(story.events)):
            shorter = Story(story.book, story.events[:i] + story.events[i + 1 :])
            assert rel.first_violation(p, prop, shorter, (found.knobs,)) is None, f"still fails without event {i}"

    def test_the_fix_repairs_the_story(self, found):
        """The header's fix (payers up, dust to the fee account) keeps the claim on the same story and twin."""
        text = PLANTED_FUNDING.read_text(encoding="utf-8")
        assert '# fix: rounding.funding = "payers_up_dust_to_fee_account"' in text
        fixed = attrs.evolve(
            load_policy(PLANTED_FUNDING), rounding=RoundingRule(funding=FundingRounding.PAYERS_UP_DUST_TO_FEE_ACCOUNT)
        )
        assert rel.first_violation(fixed, rel.get("cadence-invariant"), found.violation.story, (found.knobs,)) is None

    @pytest.mark.parametrize("id", ["round-trip-neutral", "more-fund-never-hurts", "more-collateral-never-hurts"])
    @pytest.mark.parametrize("name", NAMED)
    def test_search_reports_what_it_tried(self, name, id, record_property):
        p = load_preset(name)
        result = rel.search_relational(p, id, BUDGET, shrink=False)
        stats = result.stats
        record_property("outcome", result.outcome.value)
        record_property("stats", repr(stats))
        print(
            f"{name} {id}: {result.outcome.value}, {stats.examples} examples, {stats.applicable} applicable, {stats.exercised} exercised"
        )
        assert stats.examples > 0 and 0 <= stats.exercised <= stats.applicable <= stats.examples
        if result.outcome is Outcome.FOUND:
            assert rel.first_violation(p, rel.get(id), result.violation.story, (result.knobs,)) == result.violation
        else:
            assert result.violation is None and result.outcome is (
                Outcome.NONE_FOUND if stats.exercised else Outcome.NOT_EXERCISED
            )

    @pytest.mark.parametrize("name", ["backpack", "broker-reg-t"])
    def test_no_fund_layer_means_the_fund_claim_is_not_exercised(self, name):
        result = rel.search_relational(load_preset(name), "more-fund-never-hurts", BUDGET, shrink=False)
        assert result.outcome is Outcome.NOT_EXERCISED and result.stats.applicable == result.stats.examples

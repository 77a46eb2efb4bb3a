"""Drift v2's liquidation sized to the margin shortage plus its buffer (issue 15;
docs/venues.md#drift-v2-liquidation).

``liquidate_perp`` takes from the user only the base that covers its margin shortage,
``margin_requirement_plus_buffer − total_collateral`` (state/margin_calculation.rs), where each lot
taken frees its maintenance plus the buffer and costs the liquidator fee and the insurance-fund fee:
``calculate_base_asset_amount_to_cover_margin_shortage`` (math/liquidation.rs), rounded up to the
order step (github.com/drift-labs/protocol-v2). Solvent: ``liquidation.shortage_buffer_ppm``, the
fill's distance standing for the liquidator fee and the penalty for the insurance-fund fee.

Drift's own worked examples (math/liquidation/tests.rs,
``calculate_base_asset_amount_to_cover_margin_shortage``): a $10 shortage at a 10% margin ratio
(with buffer) and $100 a base takes 1 base with no fee, 10/9 base with a 1% liquidator fee, and
1.25 base with a 1% liquidator fee and a 1% insurance-fund fee. Here a lot is 0.0001 base (Drift's
``DEFAULT_BASE_ASSET_AMOUNT_STEP_SIZE``, math/constants.rs) and a quote quantum 10^-6 USDC, so $100 a
base is 10,000 quanta a lot; alice is long 5 base (50,000 lots) on $40 at a 9% maintenance rate
and a 1% buffer: maintenance $45, buffer $5, shortage exactly $10.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules import engine, liquidation
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.loading import PolicyError, loads_policy
from solvent.rules.margin import Tier, account_maintenance
from solvent.rules.presets import load_preset, preset_path
from tests.rules.test_fidelity_round_two import _evolve, assert_every_mutant_is_caught

DRIFT = load_preset("drift")
MARK = 10_000  # $100 a base, 10^-6 USDC a quantum, 10^-4 base a lot
LOTS = 50_000  # 5 base


def example(mmr_ppm: int = 90_000, buffer_ppm: int | None = 10_000, fee_ppm: int = 10_000, if_fee_ppm: int = 0):
    """The drift preset at Drift's example's rates: one tier of ``mmr_ppm``, the buffer, the
    liquidator fee as the fill's distance and the insurance-fund fee as the penalty."""
    tier = Tier(floor_notional_quote=0, initial_ppm=max(mmr_ppm, 100_000), maintenance_ppm=mmr_ppm)
    rule = attrs.evolve(DRIFT.liquidation, slippage_ppm=fee_ppm, penalty_ppm=if_fee_ppm, shortage_buffer_ppm=buffer_ppm)
    return attrs.evolve(DRIFT, margin=attrs.evolve(DRIFT.margin, tiers=(tier,)), liquidation=rule)


def book(cash: int, lots: int = LOTS, mark: int = MARK) -> Book:
    """alice long ``lots`` at ``mark`` on ``cash``; bob short them on plenty."""
    return _evolve(
        new_book(mark_quote=mark, traders=("alice", "bob")),
        alice={"cash_quote": cash, "principal_quote": cash, "size_lots": lots, "cost_quote": lots * mark},
        bob={"cash_quote": 10**12, "principal_quote": 10**12, "size_lots": -lots, "cost_quote": -lots * mark},
    )


def closed(policy, cash: int, lots: int = LOTS, mark: int = MARK) -> int:
    """Lots of alice's the sweep at an unchanged mark closes."""
    return lots - step(policy, book(cash, lots, mark), MarkPrice(mark)).after.account("alice").size_lots


def room(policy, after: Book) -> int:
    """alice's equity over maintenance plus buffer once liquidated (≥ 0: Drift's can_exit_liquidation)."""
    a = after.account("alice")
    mm = account_maintenance(policy.margin, policy.rounding, a, after.market.mark_quote)
    buffer = abs(a.size_lots) * after.market.mark_quote * policy.liquidation.shortage_buffer_ppm // 10**6
    return a.cash_quote - mm - buffer


class TestDriftsWorkedExamples:
    """math/liquidation/tests.rs, through the engine: $10 of shortage, 10% with the buffer, $100."""

    def test_no_fee_takes_one_base(self) -> None:
        assert closed(example(fee_ppm=0), 40_000_000) == 10_000  # zero_percent_liquidation_fee: 1 base

    def test_a_one_percent_fee_takes_ten_ninths_of_a_base_rounded_up_to_the_step(self) -> None:
        # one_percent_liquidation_fee: BASE_PRECISION × 10 / 9 = 1.111111111 base, 1.1112 at the 10^-4 step
        policy = example()
        s = step(policy, book(40_000_000), MarkPrice(MARK))
        assert LOTS - s.after.account("alice").size_lots == 11_112
        # the least whole number of lots that covers it: 800 over the requirement plus buffer, and
        # one lot less would leave it 100 short (a lot frees 10,000 × 9% = 900 net of its 100 fee)
        assert room(policy, s.after) == 800

    def test_a_one_percent_fee_and_a_one_percent_if_fee_take_a_base_and_a_quarter(self) -> None:
        # one_percent_liquidation_fee_and_one_percent_if_liquidation_fee: 1,250,000,000 = 1.25 base
        policy = example(if_fee_ppm=10_000)
        s = step(policy, book(40_000_000), MarkPrice(MARK))
        assert LOTS - s.after.account("alice").size_lots == 12_500
        paid = sum(t.amount_quote for t in s.transfers if t.reason.value == "liquidation penalty")
        assert paid == 12_500 * MARK // 100  # the insurance-fund fee, 1% of the value taken
        assert room(policy, s.after) == 0  # exactly at maintenance plus buffer


class TestAPriceOffTheFeesGrid:
    """At a mark of 10,001 a lot's 1% is 100.01 and the engine charges ⌈100.01⌉ = 101 a lot: the
    count uses the distance the engine charges, so the order is still the least whole number of
    lots that leaves the account at maintenance plus buffer (Drift's rate formula, 11,116 lots,
    would leave it 10,604 short)."""

    def room_after(self, lots: int) -> int:
        """alice's equity over maintenance plus buffer had the order closed ``lots`` lots."""
        policy, a = example(), book(40_000_000, mark=10_001).account("alice")
        left = attrs.evolve(a, size_lots=LOTS - lots, cash_quote=a.cash_quote - lots * 101)
        mm = account_maintenance(policy.margin, policy.rounding, left, 10_001)
        return left.cash_quote - mm - (LOTS - lots) * 10_001 * 10_000 // 10**6

    def test_the_least_order_that_covers_it(self) -> None:
        s = step(example(), book(40_000_000, mark=10_001), MarkPrice(10_001))
        lots = LOTS - s.after.account("alice").size_lots
        assert lots == 11_128
        assert room(example(), s.after) == self.room_after(lots) == 185
        assert self.room_after(lots - 1) == -714


class TestThePreset:
    """The drift preset: maintenance 5%, Drift's default buffer 2%, fee and IF fee 1% each, so a lot
    frees 5% of its value. alice on $200 against $250 of maintenance and $100 of buffer is $150
    short: 150 × 10^6 × 10^6 / (10,000 × 50,000) = 30,000 lots, which leave her exactly at 14e6
    against 10e6 + 4e6."""

    def test_declares_drifts_default_buffer(self) -> None:
        assert DRIFT.liquidation.shortage_buffer_ppm == 20_000  # DEFAULT_LIQUIDATION_MARGIN_BUFFER_RATIO, 2%
        text = preset_path("drift").read_text(encoding="utf-8")
        assert "shortage_buffer_ppm = 20000  # §7: liquidate_perp" in text
        assert "DEFAULT_LIQUIDATION_MARGIN_BUFFER_RATIO" in text

    def test_the_order_covers_the_shortage_and_no_more(self) -> None:
        s = step(DRIFT, book(20_000_000), MarkPrice(MARK))
        assert s.after.account("alice").size_lots == 20_000
        assert room(DRIFT, s.after) == 0

    def test_above_maintenance_nothing_is_liquidated(self) -> None:
        assert closed(DRIFT, 25_000_000) == 0  # equity at maintenance: Drift's meets_margin_requirement

    def test_a_bankrupt_account_still_closes_whole(self) -> None:
        # on 2,000,000 quanta the slippage of closing all (5,000,000) makes her bankrupt
        assert closed(DRIFT, 2_000_000) == LOTS

    def test_without_the_field_the_whole_position_closes(self) -> None:
        whole = attrs.evolve(DRIFT, liquidation=attrs.evolve(DRIFT.liquidation, shortage_buffer_ppm=None))
        assert closed(whole, 20_000_000) == LOTS

    def test_a_rate_not_above_zero_closes_whole(self) -> None:
        # Drift: u64::MAX when the ratio does not exceed the fee. Here the IF fee equals the 10%
        # rate with no buffer and no slippage: a one-quantum shortage on 2,000,000 lots at 10
        policy = example(mmr_ppm=100_000, buffer_ppm=0, fee_ppm=0, if_fee_ppm=100_000)
        assert closed(policy, 2_000_000 - 1, lots=2_000_000, mark=10) == 2_000_000


def observe() -> tuple[int, ...]:
    return (
        closed(example(fee_ppm=0), 40_000_000),
        closed(example(), 40_000_000),
        closed(example(if_fee_ppm=10_000), 40_000_000),
        closed(DRIFT, 20_000_000),
        closed(example(mmr_ppm=100_000, buffer_ppm=0, fee_ppm=0, if_fee_ppm=100_000), 2_000_000 - 1, 2_000_000, 10),
        closed(example(), 40_000_000, mark=10_001),
    )


@pytest.mark.parametrize("name", ["shortage_lots", "shortage_quote"])
def test_every_mutant_of_the_sizing_is_caught(monkeypatch, name: str) -> None:
    assert_every_mutant_is_caught(monkeypatch, liquidation, name, observe, at_least=1, importers=(engine,))


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ('execution = "bankruptcy"\nslippage_ppm = 0\nshortage_buffer_ppm = 20000', "execution = 'bankruptcy'"),
        ("partial_close_ppm = 500000\nshortage_buffer_ppm = 20000", "partial_close_ppm = 500000"),
    ],
)
def test_a_clash_is_a_policy_error_naming_the_field(line: str, named: str) -> None:
    text = f'name = "x"\n[units]\nquote = "1 USD"\n[[margin.tiers]]\nfloor_notional_quote = 0\ninitial_ppm = 100000\nmaintenance_ppm = 50000\n[liquidation]\n{line}\n[[deficit]]\nlayer = "insurance_fund"\n'
    with pytest.raises(PolicyError) as err:
        loads_policy(text, source="policy.toml")
    message = str(err.value)
    assert "shortage_buffer_ppm" in message and named in message and "policy.toml:" in message

"""A collateral asset counted by tiers of the holding's value (issue 13; rules/value_tiers.py,
docs/portfolio.md decision 2b): each tier's rate on the part of the value inside it, so the counted
value is continuous at every floor, run through the engine's margin checks.

- OKX's worked example (its LUNA discount-rate announcement of June 2022, as reproduced at
  ukcamo.com/6126.html): 11M USDT with tiers 0-5M at 1, 5M-10M at 0.9 and above at 0.8 count
  5M + 4.5M + 0.8M = 10.3M USD.
- OKX's BETH tiers (globenewswire.com/news-release/2024/07/18/2915393): 0-2M USD 0.95, 2M-4M 0.85,
  4M-8M 0.5, above 0; the `examples/okx-multi-currency.toml` table, read at and one quantum either
  side of each floor.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from solvent.cli import main
from solvent.rules.arith import Rounding
from solvent.rules.assets import Collateral, collateral_value
from solvent.rules.book import Asset, Book, new_book
from solvent.rules.engine import RejectedEvent, run, step
from solvent.rules.events import AssetDeposit, AssetPrice, Deposit, Trade
from solvent.rules.loading import dumps_policy, load_policy, loads_policy
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.outcomes import Liquidated
from solvent.rules.policy import Policy
from solvent.rules.value_tiers import ValueTier, tiered_value
from solvent.rules.waterfall import Adl, InsuranceFund, Ranking

FLAT = MarginRule((Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),))
EXAMPLE = "examples/okx-multi-currency.toml"
#: OKX's worked example's tiers, in settlement quanta of 1 USD (the asset priced 1 a quantum)
USDT_TIERS = (ValueTier(0, 1_000_000), ValueTier(5_000_000, 900_000), ValueTier(10_000_000, 800_000))


def policy(table: Collateral) -> Policy:
    return Policy("tiered", FLAT, deficit=(InsuranceFund(), Adl(Ranking.ORDER)), collateral=(table,))


def funded(table: Collateral, price: int, quanta: int) -> tuple[Policy, Book]:
    """alice holds ``quanta`` of the asset at ``price`` and no cash; bob the other side's cash."""
    p = policy(table)
    b = new_book(market="BTC", mark_quote=1_000, traders=("alice", "bob"), assets=(Asset(table.name, price),))
    events = [AssetDeposit("alice", table.name, quanta), Deposit("bob", 10**12)]
    return p, run(p, b, events)[-1].after


class TestOkxWorkedExample:
    USDT = Collateral("USDT", 1_000_000, 1_000_000, value_tiers=USDT_TIERS)

    def test_11m_count_10_3m(self) -> None:
        assert tiered_value(USDT_TIERS, 11_000_000, Rounding.FLOOR) == 10_300_000

    def test_opening_is_covered_to_the_quantum_by_the_tiered_value(self) -> None:
        # 10% initial margin at a mark of 1,000: 100 a lot; 10,300,000 covers 103,000 lots exactly
        p, b = funded(self.USDT, 1, 11_000_000)
        step(p, b, Trade("alice", "bob", 103_000, 1_000))
        with pytest.raises(RejectedEvent, match="initial margin"):
            step(p, b, Trade("alice", "bob", 103_001, 1_000))


class TestBethTiers:
    """BETH priced 100 settlement quanta (1 USDT) a quantum: a holding of q quanta is worth 100q."""

    @pytest.fixture(scope="class")
    def beth(self) -> Collateral:
        return load_policy(EXAMPLE).collateral[0]

    def test_the_example_states_the_announcements_tiers(self, beth: Collateral) -> None:
        assert [(t.floor_value_quote, t.ratio_ppm) for t in beth.value_tiers] == [
            (0, 950_000),
            (200_000_000, 850_000),  # 2M USD in 0.01 USDT quanta
            (400_000_000, 500_000),
            (800_000_000, 0),
        ]

    @pytest.mark.parametrize(
        ("quanta", "counted"),
        [
            (1_999_999, 189_999_905),  # 199,999,900 × 0.95
            (2_000_000, 190_000_000),  # the first floor: 2M USD × 0.95
            (2_000_001, 190_000_085),  # one quantum (100) into the 0.85 tier
            (4_000_000, 360_000_000),  # 190M + 200M × 0.85
            (4_000_001, 360_000_050),  # one quantum into the 0.5 tier
            (8_000_000, 560_000_000),  # 360M + 400M × 0.5
            (8_000_001, 560_000_000),  # above 8M USD nothing more counts
            (20_000_000, 560_000_000),
        ],
    )
    def test_the_counted_value_is_continuous_at_every_floor(self, beth: Collateral, quanta: int, counted: int) -> None:
        p, b = funded(beth, 100, quanta)
        alice = b.account("alice")
        assert collateral_value(p, b.assets, alice, initial=True) == counted
        assert collateral_value(p, b.assets, alice, initial=False) == counted

    def test_the_liquidation_trigger_reads_the_tiers_at_a_floor(self, beth: Collateral) -> None:
        # alice holds 2,000,000 quanta (the first floor at a price of 100) and buys 1,900,000 lots
        # at 1,000: initial margin 190,000,000, the holding's counted value; maintenance 95,000,000.
        # At a BETH price of 50 the holding is worth 100,000,000, counted 95,000,000: maintenance.
        p, b = funded(beth, 100, 2_000_000)
        b = step(p, b, Trade("alice", "bob", 1_900_000, 1_000)).after
        at = step(p, b, AssetPrice("BETH", 50))  # 100,000,000 × 0.95 = 95,000,000: not below
        assert not [o for o in at.outcomes if isinstance(o, Liquidated)]
        below = step(p, b, AssetPrice("BETH", 49))  # 98,000,000 × 0.95 = 93,100,000 < 95,000,000
        assert [o.account for o in below.outcomes if isinstance(o, Liquidated)] == ["alice"]


class TestPolicyText:
    def test_tiers_round_trip_and_a_table_without_them_is_written_as_before(self) -> None:
        okx = load_policy(EXAMPLE)
        assert "[[collateral.value_tiers]]" in dumps_policy(okx) and loads_policy(dumps_policy(okx)) == okx
        plain = Collateral("BETH", 950_000, 950_000)
        assert "value_tiers" not in dumps_policy(policy(plain))

    @pytest.mark.parametrize(
        ("tiers", "says"),
        [
            (((1, 950_000),), "'floor_value_quote' must be 0 at the first tier: 1 @ value_tiers[0]"),
            (((0, 950_000), (0, 900_000)), "must be > 0 (the tier before): 0 @ value_tiers[1].floor_value_quote"),
            (((0, 950_000), (5, 960_000)), "'ratio_ppm' must be <= 950000 (the tier before"),
        ],
    )
    def test_tiers_that_are_not_tiers_are_refused(self, tiers, says: str) -> None:
        with pytest.raises(ValueError) as error:
            Collateral("BETH", 950_000, 950_000, value_tiers=tuple(ValueTier(f, r) for f, r in tiers))
        assert says in str(error.value)

    def test_the_weights_are_the_first_tiers_ratio(self) -> None:
        with pytest.raises(ValueError, match="'initial_weight_ppm' must be the first value tier's ratio_ppm"):
            Collateral("BETH", 900_000, 950_000, value_tiers=(ValueTier(0, 950_000),))

    def test_a_bad_tier_in_a_file_is_bad_input_naming_file_field_and_line(self, tmp_path) -> None:
        text = (__import__("pathlib").Path(__file__).parents[2] / EXAMPLE).read_text(encoding="utf-8")
        path = tmp_path / "venue.toml"
        path.write_text(text.replace("ratio_ppm = 500000  #", "ratio_ppm = 900000  #"), encoding="utf-8")
        line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if row.startswith("ratio_ppm = 900000"))
        out = tmp_path / "report.json"
        result = CliRunner().invoke(main, ["check", str(path), "--no-search", "--format", "json", "--output", str(out)])
        assert result.exit_code == 2 and not out.exists()
        assert "Traceback" not in result.output
        assert (
            "'ratio_ppm' must be <= 850000 (the tier before: a larger holding never counts at a larger share): "
            f"900000 @ $.collateral[0].value_tiers[2].ratio_ppm ({path}:{line}:13)"
        ) in result.stderr


def test_the_example_checks_clean() -> None:
    result = CliRunner().invoke(main, ["check", EXAMPLE, "--no-search", "--prove-budget", "0"])
    assert result.exit_code == 0, result.output


def test_the_symbolic_engine_agrees_at_a_floor() -> None:
    from tests.z3_step import z3_step_agrees

    beth = load_policy(EXAMPLE).collateral[0]
    p, b = funded(beth, 100, 2_000_000)
    b = step(p, b, Trade("alice", "bob", 1_900_000, 1_000)).after
    for price in (49, 50, 101):
        z3_step_agrees(p, b, AssetPrice("BETH", price))

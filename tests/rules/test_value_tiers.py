"""A collateral asset counted by tiers of the holding's value (issue 13; rules/value_tiers.py,
docs/portfolio.md decision 2b): each tier's rate on the part of the value inside it, so the counted
value is continuous at every floor, run through the engine's margin checks.

- OKX's worked example (its LUNA discount-rate announcement of June 2022, as reproduced at
  ukcamo.com/6126.html): 11M USDT with tiers 0-5M at 1, 5M-10M at 0.9 and above at 0.8 count
  5M + 4.5M + 0.8M = 10.3M USD.
- OKX's BETH tiers (globenewswire.com/news-release/2024/07/18/2915393): 0-2M USD 0.95, 2M-4M 0.85,
  4M-8M 0.5, above 0; the `examples/okx-multi-currency.toml` table, read at and one quantum either
  side of each floor.
- Bybit's collateral value ratio by "Tier(Quantity)" (the other form, ``quantity_tiers``; its
  help page's assumed BTC table, testnet.bytick.com/en/help-center/article/
  Assets-Collateral-Value-Ratio-List-UTA): at 10 BTC, one quantum either side, and above 50 BTC
  (nothing counted); equal to tiers by value whose floors are the quantity floors times the price;
  a lent asset's borrow at 100%, as Bybit counts a negative balance; every one-token mutant of the
  bracket sum and of the tier checks caught; bad tiers in a file are exit 2 naming field and line.
  Bybit's example through the engine and its liquidation order: test_bybit_multi_collateral.py.
"""

from __future__ import annotations

import attrs
import pytest
from click.testing import CliRunner

from solvent.cli import main
from solvent.rules import value_tiers
from solvent.rules.arith import Rounding
from solvent.rules.assets import Collateral, collateral_value
from solvent.rules.book import Asset, Book, new_book
from solvent.rules.engine import RejectedEvent, run, step
from solvent.rules.events import AssetDeposit, AssetPrice, Deposit, Trade
from solvent.rules.loading import dumps_policy, load_policy, loads_policy
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.outcomes import Liquidated
from solvent.rules.policy import Policy
from solvent.rules.value_tiers import QuantityTier, ValueTier, check_tiers, tiered_quantity, tiered_value
from solvent.rules.waterfall import Adl, InsuranceFund, Ranking

FLAT = MarginRule((Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),))
EXAMPLE = "examples/okx-multi-currency.toml"
BYBIT_EXAMPLE = "examples/bybit-multi-collateral.toml"
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


# --- the other form: tiers by the quantity held (Bybit's collateral value ratio) -------------------

#: Bybit's "Tier(Quantity)" example (testnet.bytick.com/en/help-center/article/
#: Assets-Collateral-Value-Ratio-List-UTA): BTC 0 - 10 0.98, >10 - 20 0.95, >20 - 30 0.9, >30 - 40
#: 0.85, >40 - 50 0.8, >50 0, in quanta of 0.0001 BTC (examples/bybit-multi-collateral.toml)
BTC_TIERS = tuple(
    QuantityTier(floor, ratio)
    for floor, ratio in (
        (0, 980_000),
        (100_000, 950_000),
        (200_000, 900_000),
        (300_000, 850_000),
        (400_000, 800_000),
        (500_000, 0),
    )
)


class TestQuantityTiers:
    """BTC at 1,000 settlement quanta a quantum (100,000 USDT a BTC in 0.01 USDT quanta), unless said."""

    BTC = Collateral("BTC", 980_000, 980_000, quantity_tiers=BTC_TIERS)

    @pytest.mark.parametrize(
        ("quanta", "price", "counted"),
        [
            (99_999, 1_000, 97_999_020),  # 99,999 × 1,000 × 0.98
            (100_000, 1_000, 98_000_000),  # 10 BTC, the first floor: "0 - 10" at 0.98, the slice above it empty
            (100_001, 1_000, 98_000_950),  # one quantum into ">10 - 20": + 1,000 × 0.95
            (100_001, 999, 97_902_949),  # ⌊98,000.95 × 999⌋, one rounding (per tier: 97,902,000 + 949)
            (200_001, 1_000, 193_000_900),  # 98M + 95M + 1,000 × 0.9
            (500_000, 1_000, 448_000_000),  # 50 BTC: (9.8 + 9.5 + 9 + 8.5 + 8) BTC × 100,000 USDT
            (500_001, 1_000, 448_000_000),  # ">50" at 0: one quantum more counts nothing
            (550_000, 1_000, 448_000_000),
        ],
    )
    def test_each_ratio_counts_the_quantity_inside_its_tier(self, quanta: int, price: int, counted: int) -> None:
        p, b = funded(self.BTC, price, quanta)
        alice = b.account("alice")
        assert collateral_value(p, b.assets, alice, initial=True) == counted
        assert collateral_value(p, b.assets, alice, initial=False) == counted

    def test_opening_is_covered_to_the_quantum_one_quantum_above_the_floor(self) -> None:
        # 10% initial margin at a mark of 1,000: 100 a lot; 10 BTC + 1 quantum count 98,000,950,
        # which covers 980,009 lots (98,000,900) and not 980,010 (98,001,000); at 10 BTC (98,000,000)
        # 980,000 and not one more
        for quanta, lots in ((100_001, 980_009), (100_000, 980_000)):
            p, b = funded(self.BTC, 1_000, quanta)
            step(p, b, Trade("alice", "bob", lots, 1_000))
            with pytest.raises(RejectedEvent, match="initial margin"):
                step(p, b, Trade("alice", "bob", lots + 1, 1_000))

    @pytest.mark.parametrize("quanta", [0, 1, 99_999, 100_000, 100_001, 333_333, 500_000, 500_001, 10**7])
    @pytest.mark.parametrize("price", [1, 999, 1_000, 123_457])
    def test_a_quantity_tier_is_a_value_tier_whose_floors_move_with_the_price(self, quanta: int, price: int) -> None:
        by_value = tuple(ValueTier(t.floor_quanta * price, t.ratio_ppm) for t in BTC_TIERS)
        assert tiered_quantity(BTC_TIERS, quanta, price, Rounding.FLOOR) == tiered_value(
            by_value, quanta * price, Rounding.FLOOR
        )

    def test_a_lent_assets_borrow_counts_whole_and_its_tiers_read_the_deposit_only(self) -> None:
        """Bybit: "The Collateral Value Ratio only applies to assets with a positive balance. For
        assets with a negative balance default to a 100% collateral value ratio": a lent asset's
        borrow weighs its liability weight, 1,000,000 by default, and the tiers count max(balance, 0)."""
        lent = attrs.evolve(self.BTC, lends=True)
        p = policy(lent)
        b = new_book(market="BTC", mark_quote=1_000, traders=("alice",), assets=(Asset("BTC", 1_000),))
        i = b.index("alice")
        for balance, counted in ((-100_001, -100_001_000), (-1, -1_000), (100_001, 98_000_950)):
            account = attrs.evolve(b.accounts[i], asset_balances=(balance,))
            assert collateral_value(p, b.assets, account, initial=False) == counted

    def test_a_table_gives_one_form_or_the_other(self) -> None:
        with pytest.raises(ValueError, match="'quantity_tiers' is the other form of value_tiers"):
            Collateral("BTC", 980_000, 980_000, value_tiers=(ValueTier(0, 980_000),), quantity_tiers=BTC_TIERS)
        with pytest.raises(ValueError, match="'initial_weight_ppm' must be the first quantity tier's ratio_ppm"):
            Collateral("BTC", 950_000, 980_000, quantity_tiers=BTC_TIERS)

    @pytest.mark.parametrize(
        ("tiers", "says"),
        [
            (((1, 980_000),), "'floor_quanta' must be 0 at the first tier: 1 @ quantity_tiers[0].floor_quanta"),
            (((0, 980_000), (0, 950_000)), "'floor_quanta' must be > 0 (the tier before): 0 @ quantity_tiers[1]"),
            (((0, 950_000), (5, 980_000)), "'ratio_ppm' must be <= 950000 (the tier before"),
        ],
    )
    def test_tiers_that_are_not_tiers_are_refused(self, tiers, says: str) -> None:
        with pytest.raises(ValueError) as error:
            Collateral("BTC", tiers[0][1], tiers[0][1], quantity_tiers=tuple(QuantityTier(f, r) for f, r in tiers))
        assert says in str(error.value)

    def test_the_forms_check_their_own_tier_class(self) -> None:
        with pytest.raises(ValueError, match=r"'quantity_tiers' must hold tiers: ValueTier"):
            check_tiers((ValueTier(0, 980_000),), QuantityTier)

    def test_tiers_round_trip(self) -> None:
        p = policy(self.BTC)
        text = dumps_policy(p)
        assert "[[collateral.quantity_tiers]]" in text and "floor_quanta = 100000" in text and loads_policy(text) == p


BAD_FORMS = [
    (
        "both forms",
        lambda t: t.replace(
            "[[collateral.quantity_tiers]]\nfloor_quanta = 0  #",
            "[[collateral.value_tiers]]\nfloor_value_quote = 0\nratio_ppm = 980000\n\n"
            "[[collateral.quantity_tiers]]\nfloor_quanta = 0  #",
            1,
        ),
        "'quantity_tiers' is the other form of value_tiers (tiers by the quantity held, not its value): give one "
        "or the other @ $.collateral[0].quantity_tiers",
        "[[collateral.quantity_tiers]]",
    ),
    (
        "a floor repeated",
        lambda t: t.replace("floor_quanta = 200000  #", "floor_quanta = 100000  #"),
        "'floor_quanta' must be > 100000 (the tier before): 100000 @ $.collateral[0].quantity_tiers[2].floor_quanta",
        'floor_quanta = 100000  # §V: ">20',
    ),
    (
        "a fraction of a quantum",
        lambda t: t.replace("floor_quanta = 200000  #", "floor_quanta = 2.5  #"),
        "'floor_quanta' must be an integer number of asset quanta: 2.5 @ $.collateral[0].quantity_tiers[2].floor_quanta",
        "floor_quanta = 2.5",
    ),
]


@pytest.mark.parametrize(("why", "edit", "says", "at"), BAD_FORMS, ids=[b[0] for b in BAD_FORMS])
def test_a_bad_quantity_tier_in_a_file_is_bad_input_naming_file_field_and_line(tmp_path, why, edit, says, at) -> None:
    text = (__import__("pathlib").Path(__file__).parents[2] / BYBIT_EXAMPLE).read_text(encoding="utf-8")
    path = tmp_path / "venue.toml"
    path.write_text(edit(text), encoding="utf-8")
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if row.startswith(at))
    result = CliRunner().invoke(main, ["check", str(path), "--no-search"])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert f"{says} ({path}:{line}:" in result.stderr


def observe_brackets() -> list[int]:
    """The counted value at and one quantum either side of every floor, both forms."""
    by_value = tuple(ValueTier(t.floor_quanta * 1_000, t.ratio_ppm) for t in BTC_TIERS)
    out = []
    for t in BTC_TIERS:
        for q in (t.floor_quanta - 1, t.floor_quanta, t.floor_quanta + 1):
            out.append(tiered_quantity(BTC_TIERS, q, 999, Rounding.FLOOR))
            out.append(tiered_value(by_value, q * 1_000, Rounding.FLOOR))
    return out


def test_every_one_token_mutant_of_the_brackets_is_caught(monkeypatch) -> None:
    """A comparison or ± swapped in the bracket sum (the last tier's test, the next tier's index,
    the slice's subtraction) changes a count at a floor, for both forms."""
    from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught

    assert_every_mutant_is_caught(monkeypatch, value_tiers, "brackets", observe_brackets, at_least=3)


def test_every_one_token_mutant_of_the_tier_checks_is_caught(monkeypatch) -> None:
    """A floor equal to the one before, a rising ratio and a first floor above 0 are refused;
    tiers that are tiers load. A mutant of the checks lets one through or refuses one."""
    from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught

    cases = [
        BTC_TIERS,
        (QuantityTier(1, 980_000),),
        (QuantityTier(0, 980_000), QuantityTier(0, 950_000)),
        (QuantityTier(0, 980_000), QuantityTier(100_000, 990_000)),
        (QuantityTier(0, 980_000), QuantityTier(100_000, 980_000)),
        (),
        (ValueTier(0, 980_000),),
    ]

    def observe() -> list[str]:
        out = []
        for tiers in cases:
            try:
                value_tiers.check_tiers(tiers, QuantityTier)
                out.append("ok")
            except ValueError as error:
                out.append(str(error))
        return out

    assert_every_mutant_is_caught(monkeypatch, value_tiers, "check_tiers", observe, at_least=4)


def test_the_symbolic_engine_agrees_at_a_quantity_floor() -> None:
    """10 BTC and 10 BTC + one quantum, long 1,000 lots at 1,000 with no cash: the BTC price moves
    and z3's step (the same ``collateral_value``, on z3 terms) equals the concrete one."""
    from tests.z3_step import z3_step_agrees

    btc = TestQuantityTiers.BTC
    for quanta in (100_000, 100_001, 500_001):
        p, b = funded(btc, 1_000, quanta)
        b = step(p, b, Trade("alice", "bob", 1_000, 1_000)).after
        for price in (1, 2, 1_000):
            z3_step_agrees(p, b, AssetPrice("BTC", price))

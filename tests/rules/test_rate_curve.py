"""A lent asset's borrow rate read off its utilization curve (issue 13; rules/rate_curve.py,
docs/portfolio.md decision 6b), run through the engine: an ``InterestAccrual`` of ``seconds`` on a
book whose borrows and deposits give the utilization, the borrower paying ⌈B × rate × seconds /
(1e6 × 31,536,000)⌉ (``rounding.interest``, ceil).

- Drift: the SDK's own test "borrow rates" (github.com/drift-labs/protocol-v2, sdk/tests/spot/test.ts):
  a SOL-like market at 9 decimals, optimal utilization 700,000, optimal rate 70,000, max 1,000,000,
  with deposit balance 88522.734106451e9 at a cumulative deposit interest of 1.0154217042 and
  borrow balance 17089.91675884e9 at 1.0417153549; its rates are 19,805 as it stands, 17,822 with
  10,000 SOL more deposited and 20,918 with 1,000 SOL more borrowed. The token amounts are the
  program's (``get_token_amount``: deposits rounded down, borrows up, over 10^10). Above the
  optimum the rate climbs through the program's six kinks (programs/drift/src/math/spot_balance.rs,
  ``calculate_borrow_rate``), the drift preset's points.
- Mango v4: the curve of its test token group (programs/mango-v4/tests/program_test/mango_setup.rs:
  util0 0.40 / rate0 0.07, util1 0.80 / rate1 0.9, max_rate 1.50) by ``interest_rate_curve_calculator``
  (programs/mango-v4/src/state/bank.rs), on the book of its test ``test_token_update_index_and_rate``
  (10,000 deposited, 5,000 borrowed: utilization 0.5).
- Backpack: "Utilization Rate = Total Borrowed / Total Lent", "Interest is charged every hour",
  "The Lend Rate is equal to Borrow Rate * Utilization"
  (guide.backpack.exchange/borrow-and-lend/utilization-and-interest-rates).
"""

from __future__ import annotations

import attrs
import pytest
from click.testing import CliRunner

from solvent.cli import main
from solvent.rules.arith import Rounding
from solvent.rules.assets import Collateral
from solvent.rules.book import INDEX_ONE, SYSTEM_ROLES, Account, Asset, Book, Market
from solvent.rules.engine import RejectedEvent, step
from solvent.rules.events import InterestAccrual
from solvent.rules.ledger import Reason
from solvent.rules.loading import dumps_policy, loads_policy
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.policy import Policy
from solvent.rules.presets import load_preset
from solvent.rules.rate_curve import SECONDS_PER_YEAR, RatePoint, borrow_rate_ppm
from solvent.rules.rounding import RoundingRule
from solvent.rules.waterfall import InsuranceFund, TokenLayer

FLAT = MarginRule((Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),))
YEAR = SECONDS_PER_YEAR


def lent_table(preset: str, asset: str) -> Collateral:
    """The preset's table of ``asset``, at weight 1 (the curve is what these tests read)."""
    table = next(t for t in load_preset(preset).collateral if t.name == asset)
    return attrs.evolve(
        table,
        initial_weight_ppm=1_000_000,
        maintenance_weight_ppm=1_000_000,
        initial_liability_weight_ppm=1_000_000,
        maintenance_liability_weight_ppm=1_000_000,
        bankruptcy=(TokenLayer.INSURANCE_FUND,),
    )


def policy(preset: str, asset: str) -> Policy:
    return Policy(f"{preset}-curve", FLAT, deficit=(InsuranceFund(),), collateral=(lent_table(preset, asset),))


def book(asset: str, deposits: dict[str, int], borrows: dict[str, int]) -> Book:
    """Depositors holding ``deposits`` of the asset (price 1), borrowers owing ``borrows`` of it
    with twice their borrow in cash (no liquidation can fire)."""
    traders = tuple(Account(n, asset_balances=(d,)) for n, d in deposits.items()) + tuple(
        Account(n, cash_quote=2 * b, asset_balances=(-b,)) for n, b in borrows.items()
    )
    system = tuple(Account(r.value, role=r, asset_balances=(0,)) for r in SYSTEM_ROLES)
    net = sum(deposits.values()) - sum(borrows.values())
    cash = sum(2 * b for b in borrows.values())
    return Book(Market("PERP", 1_000), traders + system, net_deposits_quote=cash, assets=(Asset(asset, 1, net),))


def interest_paid(p: Policy, start: Book, seconds: int, borrower: str = "bob") -> int:
    """What ``borrower`` pays for a step of ``seconds``: its borrow times the curve's annual rate
    times the share of a year, rounded up."""
    asset = start.assets[0].name
    s = step(p, start, InterestAccrual(asset, seconds=seconds))
    source = f"{borrower}@{asset}"
    (paid,) = [t.amount_quote for t in s.transfers if t.reason is Reason.INTEREST and t.source == source]
    return paid


def year_interest(p: Policy, start: Book, borrower: str = "bob") -> int:
    """What ``borrower`` pays over a year."""
    return interest_paid(p, start, YEAR, borrower)


def ceil_div(n: int, d: int) -> int:
    return -(-n // d)


class TestDriftSdkBorrowRates:
    """sdk/tests/spot/test.ts "borrow rates": the token amounts the program computes from the
    scaled balances, their utilization and the rate, 19,805, 17,822 and 20,918 ppm a year."""

    DRIFT = policy("drift", "SOL")
    DEPOSITS = 88_522_734_106_451 * 10_154_217_042 // 10**10  # get_token_amount, deposit: floor
    BORROWS = ceil_div(17_089_916_758_840 * 10_417_153_549, 10**10)  # borrow: ceil

    @pytest.mark.parametrize(
        ("more_deposit", "more_borrow", "rate"),
        [(0, 0, 19_805), (10_000 * 10**9, 0, 17_822), (0, 1_000 * 10**9, 20_918)],
        ids=["as it stands", "10,000 SOL more deposited", "1,000 SOL more borrowed"],
    )
    def test_the_sdks_rates_through_the_engine(self, more_deposit: int, more_borrow: int, rate: int) -> None:
        assert (self.DEPOSITS, self.BORROWS) == (89_887_905_526_815, 17_802_828_701_647)
        start = book("SOL", {"alice": self.DEPOSITS, "carol": more_deposit}, {"bob": self.BORROWS + more_borrow})
        assert year_interest(self.DRIFT, start) == ceil_div((self.BORROWS + more_borrow) * rate, 10**6)

    def test_deposit_interest_is_the_borrow_rate_times_utilization(self) -> None:
        # Drift's deposit side grows by the borrow rate times utilization (calculate_accumulated_interest):
        # every quantum the borrower pays reaches the only depositor (no protocol share here)
        start = book("SOL", {"alice": self.DEPOSITS}, {"bob": self.BORROWS})
        s = step(self.DRIFT, start, InterestAccrual("SOL", seconds=YEAR))
        received = [t.amount_quote for t in s.transfers if t.reason is Reason.INTEREST and t.destination == "alice@SOL"]
        assert received == [ceil_div(self.BORROWS * 19_805, 10**6)]
        # the deposit index moves by the same share of the deposits, the borrow index by the rate
        assert s.after.assets[0].deposit_index == INDEX_ONE + INDEX_ONE * received[0] // self.DEPOSITS
        assert s.after.assets[0].borrow_index == INDEX_ONE + ceil_div(INDEX_ONE * 19_805, 10**6)


class TestDriftKinks:
    """At and around the optimum and the first kink above it (700,000 and 850,000 ppm of
    utilization), on deposits of 10^12: the rate is the point's own at the point and climbs by the
    segment's slope on either side, rounded down (Drift's safe_div)."""

    DRIFT = policy("drift", "SOL")
    D = 10**12

    @pytest.mark.parametrize(
        ("utilization", "rate"),
        [
            (699_999, 69_999),  # ⌊699,999 × 70,000 / 700,000⌋
            (700_000, 70_000),  # the optimum: optimal_borrow_rate
            (700_001, 70_000),  # 70,000 + ⌊1 × 46,500 / 150,000⌋
            (703_225, 70_999),  # 70,000 + ⌊3,225 × 46,500 / 150,000⌋ = 70,000 + ⌊999.75⌋
            (849_999, 116_499),  # 70,000 + ⌊149,999 × 46,500 / 150,000⌋
            (850_000, 116_500),  # the first kink: 70,000 + 930,000 × 5 / 100
            (850_001, 116_501),  # 116,500 + ⌊1 × 93,000 / 50,000⌋
            (1_000_000, 1_000_000),  # full utilization: max_borrow_rate
        ],
    )
    def test_the_rate_at_and_around_a_kink(self, utilization: int, rate: int) -> None:
        borrows = utilization * self.D // 10**6
        start = book("SOL", {"alice": self.D}, {"bob": borrows})
        assert year_interest(self.DRIFT, start) == ceil_div(borrows * rate, 10**6)

    def test_the_curve_function_agrees_with_the_engine_at_every_point_of_the_preset(self) -> None:
        curve = self.DRIFT.collateral[0].rate_curve
        assert [(p.utilization_ppm, p.rate_ppm) for p in curve] == [
            (0, 0),
            (700_000, 70_000),
            (850_000, 116_500),
            (900_000, 209_500),
            (950_000, 349_000),
            (990_000, 535_000),
            (995_000, 767_500),
            (1_000_000, 1_000_000),
        ]
        for point in curve:
            assert borrow_rate_ppm(curve, point.utilization_ppm, Rounding.FLOOR) == point.rate_ppm


class TestMangoCurve:
    """Mango's test token group's curve: util0 0.40 / rate0 0.07, util1 0.80 / rate1 0.9, max 1.50."""

    MANGO = policy("mango-v4", "USDC")
    D = 10**12

    @pytest.mark.parametrize(
        ("utilization", "rate"),
        [
            (399_999, 69_999),  # ⌊399,999 × 70,000 / 400,000⌋ (bank.rs, I80F48: 0.06999982…)
            (400_000, 70_000),  # util0: rate0
            (400_001, 70_002),  # 70,000 + ⌊830,000 / 400,000⌋ (I80F48: 0.070002075)
            (799_999, 899_997),  # 70,000 + ⌊399,999 × 830,000 / 400,000⌋
            (800_000, 900_000),  # util1: rate1
            (800_001, 900_003),  # 900,000 + ⌊600,000 / 200,000⌋
            (1_000_000, 1_500_000),  # max_rate
        ],
    )
    def test_the_rate_at_and_around_util0_and_util1(self, utilization: int, rate: int) -> None:
        borrows = utilization * self.D // 10**6
        start = book("USDC", {"alice": self.D}, {"bob": borrows})
        assert year_interest(self.MANGO, start) == ceil_div(borrows * rate, 10**6)

    def test_utilization_rounds_down_before_the_curve(self) -> None:
        # 8 borrowed over 15 deposited is 533,333.3 ppm: read as 533,333, where the curve climbs
        # 2.075 ppm of rate a ppm of utilization: 70,000 + ⌊133,333 × 830,000 / 400,000⌋ = 346,665
        # (533,334 would give 346,668)
        start = book("USDC", {"alice": 15 * 10**9}, {"bob": 8 * 10**9})
        assert year_interest(self.MANGO, start) == ceil_div(8 * 10**9 * 346_665, 10**6)

    def test_the_book_of_mangos_own_rate_test(self) -> None:
        # test_token_update_index_and_rate: 10,000 deposited, 5,000 borrowed, utilization 0.5:
        # the curve gives 0.07 + (0.9 − 0.07) × (0.5 − 0.4) / (0.8 − 0.4) = 0.2775 a year, and
        # the borrower pays 5,000 × 0.2775 = 1,387.5, rounded up, over a year. The test's own
        # expectation (0.07 + 0.9 × 0.25 = 0.295 over one second, within 0.1 native units) reads
        # rate1 − rate0 as 0.9 and its tolerance does not pin the rate: the curve is bank.rs's.
        start = book("USDC", {"alice": 10_000}, {"bob": 5_000})
        assert year_interest(self.MANGO, start) == 1_388
        # over one second the interest is 5,000 × 0.2775 / 31,536,000 of a native unit: Mango
        # keeps it in I80F48; the engine rounds each step's interest up to a whole quantum
        assert interest_paid(self.MANGO, start, 1) == 1


class TestBackpackHourly:
    """Backpack charges every hour at the curve's rate for Total Borrowed / Total Lent."""

    BACKPACK = policy("backpack", "SOL")

    def test_an_hour_at_half_utilization(self) -> None:
        # utilization 500,000: ⌊500,000 × 70,000 / 700,000⌋ = 50,000 ppm a year; one hour of it
        start = book("SOL", {"alice": 10**12}, {"bob": 5 * 10**11})
        s = step(self.BACKPACK, start, InterestAccrual("SOL", seconds=3_600))
        paid = ceil_div(5 * 10**11 * 50_000 * 3_600, 10**6 * YEAR)
        assert paid == 2_853_882
        interest = [t for t in s.transfers if t.reason is Reason.INTEREST]
        assert [(t.source, t.amount_quote) for t in interest] == [("bob@SOL", paid), ("fee_account@SOL", paid)]
        # the lender's rate is the borrow rate times utilization: its whole share of one borrower's
        assert interest[1].destination == "alice@SOL"


class TestTheEvent:
    DRIFT = policy("drift", "SOL")
    PLAIN = Policy(
        "plain", FLAT, deficit=(InsuranceFund(),), collateral=(attrs.evolve(lent_table("drift", "SOL"), rate_curve=()),)
    )

    def test_an_asset_with_a_curve_takes_seconds_and_refuses_a_rate_of_its_own(self) -> None:
        start = book("SOL", {"alice": 10**6}, {"bob": 500_000})
        with pytest.raises(RejectedEvent, match="rate comes from its rate_curve"):
            step(self.DRIFT, start, InterestAccrual("SOL", 125_000))
        with pytest.raises(RejectedEvent, match="seconds must be between 1 and 31536000"):
            step(self.DRIFT, start, InterestAccrual("SOL", seconds=0))
        step(self.DRIFT, start, InterestAccrual("SOL", seconds=YEAR))
        with pytest.raises(RejectedEvent, match="seconds must be between 1 and 31536000"):
            step(self.DRIFT, start, InterestAccrual("SOL", seconds=YEAR + 1))

    def test_an_asset_without_a_curve_takes_its_rate_from_the_event(self) -> None:
        start = book("SOL", {"alice": 10**6}, {"bob": 500_000})
        with pytest.raises(RejectedEvent, match="no rate_curve"):
            step(self.PLAIN, start, InterestAccrual("SOL", seconds=3_600))
        s = step(self.PLAIN, start, InterestAccrual("SOL", 125_000))
        assert [t.amount_quote for t in s.transfers if t.source == "bob@SOL"] == [62_500]

    def test_the_utilization_is_read_before_the_step_and_at_most_full(self) -> None:
        # borrows with no deposit left (a borrow no layer covered): full utilization, the max rate
        start = book("SOL", {}, {"bob": 10**6})
        assert year_interest(self.DRIFT, start) == 10**6


class TestPolicyText:
    def test_a_curve_round_trips_and_a_table_without_one_is_written_as_before(self) -> None:
        drift = load_preset("drift")
        text = dumps_policy(drift)
        assert "[[collateral.rate_curve]]" in text and loads_policy(text) == drift
        plain = attrs.evolve(drift, collateral=(attrs.evolve(drift.collateral[0], rate_curve=()),))
        assert "rate_curve" not in dumps_policy(plain) and "borrow_rate" not in dumps_policy(plain)
        rounded = attrs.evolve(drift, rounding=attrs.evolve(drift.rounding, borrow_rate=Rounding.CEIL))
        assert 'borrow_rate = "ceil"' in dumps_policy(rounded) and loads_policy(dumps_policy(rounded)) == rounded
        assert RoundingRule().borrow_rate is Rounding.FLOOR

    @pytest.mark.parametrize(
        ("points", "says"),
        [
            (((0, 0),), "at least 2 points"),
            (((1, 0), (1_000_000, 5)), "'utilization_ppm' must be 0 at the curve's first point: 1 @ rate_curve[0]"),
            (((0, 0), (999_999, 5)), "must be 1000000 at the curve's last point: 999999 @ rate_curve[1]"),
            (((0, 0), (0, 1), (1_000_000, 5)), "must be > 0 (the point before): 0 @ rate_curve[1].utilization_ppm"),
            (((0, 9), (1_000_000, 8)), "'rate_ppm' must be >= 9 (the point before"),
        ],
    )
    def test_a_curve_that_is_not_a_curve_is_refused(self, points, says: str) -> None:
        table = lent_table("drift", "SOL")
        with pytest.raises(ValueError, match=None) as error:
            attrs.evolve(table, rate_curve=tuple(RatePoint(u, r) for u, r in points))
        assert says in str(error.value)

    def test_a_curve_needs_a_lent_asset(self) -> None:
        with pytest.raises(ValueError, match="'rate_curve' needs lends = true"):
            Collateral("SOL", 800_000, 900_000, rate_curve=(RatePoint(0, 0), RatePoint(1_000_000, 5)))

    def test_a_bad_curve_in_a_file_is_bad_input_naming_file_field_and_line(self, tmp_path) -> None:
        text = load_preset("backpack").name and (
            __import__("pathlib").Path(__file__).parents[2] / "rules" / "presets" / "backpack.toml"
        ).read_text(encoding="utf-8")
        path = tmp_path / "venue.toml"
        path.write_text(text.replace("rate_ppm = 1000000  #", "rate_ppm = 60000  #"), encoding="utf-8")
        line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if row.startswith("rate_ppm = 60000"))
        out = tmp_path / "report.json"
        result = CliRunner().invoke(main, ["check", str(path), "--no-search", "--format", "json", "--output", str(out)])
        assert result.exit_code == 2 and not out.exists()
        assert "Traceback" not in result.output
        assert (
            "'rate_ppm' must be >= 70000 (the point before: a rate never falls as utilization rises): 60000 "
            f"@ $.collateral[0].rate_curve[2].rate_ppm ({path}:{line}:12)"
        ) in result.stderr


def test_a_story_tells_an_interest_step_in_words() -> None:
    from solvent.reports.story import describe_event

    assert describe_event(InterestAccrual("SOL", seconds=3_600)) == "interest on SOL for 3,600 s at its rate curve"
    assert describe_event(InterestAccrual("SOL", 125_000)) == "interest on SOL at 125,000 ppm"
    assert describe_event(InterestAccrual("", seconds=60)) == "interest on settlement cash for 60 s at its rate curve"

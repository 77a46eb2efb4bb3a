"""Loading policies from TOML: whole error messages for every kind of mistake, and the round trip."""

from __future__ import annotations

import math

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from solvent.properties import catalog, relational
from solvent.rules.arith import PPM, Rounding
from solvent.rules.fees import FeeRule
from solvent.rules.fields import bounds
from solvent.rules.liquidation import Execution, LiquidationRule, Recipient, Trigger
from solvent.rules.loading import PolicyError, dumps_policy, load_policy, loads_policy
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.market_funds import Scope, WaterfallScope
from solvent.rules.policy import Policy, Units
from solvent.rules.rounding import FundingRounding, ProRata, RoundingRule
from solvent.rules.waterfall import (
    LAYER_TYPES,
    Adl,
    AdlPrice,
    BackstopVault,
    Clawback,
    DebtCarry,
    FeePool,
    HaircutRatio,
    InsuranceFund,
    Lender,
    Over,
    Ranking,
    SocializedLoss,
    VenueAbsorbs,
)

MINIMAL = """\
name = "minimal"

[[margin.tiers]]
floor_notional_quote = 0
initial_ppm = 100000   # 10%
maintenance_ppm = 50000  # 5%
"""


def error_of(text: str) -> str:
    """The whole message of the PolicyError that loading ``text`` raises (``accepts`` checked
    against the known claims, as every front end loads)."""
    from solvent.verdicts.check import known_claims

    with pytest.raises(PolicyError) as info:
        loads_policy(text, source="policy.toml", claims=known_claims())
    return str(info.value)


# --- strategies: policies built by construction from the bounds in field metadata -----------------

INT64_MAX = 2**63 - 1  # TOML's integer range, where a field has no upper bound


def ints(cls: type, name: str, *, min_value: int | None = None) -> st.SearchStrategy[int]:
    """Integers within the bounds recorded for ``cls.name``; shrinks toward the lower bound."""
    b = bounds(cls, name)
    low = b["min"] if min_value is None else max(min_value, b["min"])
    return st.integers(min_value=low, max_value=INT64_MAX if b["max"] is None else b["max"])


@st.composite
def margin_rules(draw: st.DrawFn) -> MarginRule:
    """One to four tiers with non-decreasing MMR and continuous maintenance (the margin.py rule).

    Each floor is a multiple of 1e6 / gcd(ΔMMR, 1e6), so the maintenance amount step
    floor × ΔMMR / 1e6 is a whole quantum. Shrinks toward one tier with zero rates.
    """
    count = draw(st.integers(min_value=1, max_value=4))
    mmrs = sorted(draw(st.lists(ints(Tier, "maintenance_ppm"), min_size=count, max_size=count)))
    floor = 0
    amount = draw(st.integers(min_value=bounds(Tier, "maintenance_amount_quote")["min"], max_value=10**12))
    tiers = []
    for i, mmr in enumerate(mmrs):
        if i:
            step = PPM // math.gcd(mmr - mmrs[i - 1], PPM)
            floor = (floor // step + draw(st.integers(min_value=1, max_value=10**6))) * step
            amount += floor * (mmr - mmrs[i - 1]) // PPM
        initial = draw(ints(Tier, "initial_ppm", min_value=mmr))
        tiers.append(Tier(floor, initial, mmr, amount))
    return MarginRule(tuple(tiers), draw(st.booleans()))


@st.composite
def liquidation_rules(draw: st.DrawFn) -> LiquidationRule:
    """Any trigger and execution; slippage and partial closes only where execution is 'market'."""
    execution = draw(st.sampled_from(Execution))
    market = execution is Execution.MARKET
    return LiquidationRule(
        trigger=draw(st.sampled_from(Trigger)),
        execution=execution,
        slippage_ppm=draw(ints(LiquidationRule, "slippage_ppm")) if market else 0,
        partial_close_ppm=draw(ints(LiquidationRule, "partial_close_ppm")) if market else PPM,
        penalty_ppm=draw(ints(LiquidationRule, "penalty_ppm")),
        penalty_recipient=draw(st.sampled_from(Recipient)),
    )


LAYERS: dict[type, st.SearchStrategy] = {
    InsuranceFund: st.builds(InsuranceFund, cap_quote=st.none() | ints(InsuranceFund, "cap_quote")),
    BackstopVault: st.just(BackstopVault()),
    FeePool: st.just(FeePool()),
    Adl: st.builds(Adl, ranking=st.sampled_from(Ranking), price=st.sampled_from(AdlPrice)),
    SocializedLoss: st.builds(SocializedLoss, over=st.sampled_from(Over)),
    HaircutRatio: st.just(HaircutRatio()),
    Clawback: st.builds(Clawback, window_events=ints(Clawback, "window_events"), cap_at_profit=st.booleans()),
    DebtCarry: st.one_of(
        st.just(DebtCarry(Lender.WINNERS, True)),
        st.builds(DebtCarry, lender=st.just(Lender.VENUE), deposits_repay_debt=st.booleans()),
    ),
    VenueAbsorbs: st.just(VenueAbsorbs()),
}


@st.composite
def waterfalls(draw: st.DrawFn) -> tuple:
    """Distinct layers in any order, a terminal layer (debt carry, venue absorbs) only last.

    Shrinks toward the empty waterfall.
    """
    middle = [cls for cls in LAYER_TYPES if not cls.terminal]
    chosen = draw(st.permutations(middle))[: draw(st.integers(min_value=0, max_value=len(middle)))]
    last = draw(st.none() | st.sampled_from([cls for cls in LAYER_TYPES if cls.terminal]))
    layers = tuple(draw(LAYERS[cls]) for cls in [*chosen, *([last] if last else [])])
    if Adl in chosen:  # the opposing side takes the bankrupt position itself: never beside ADL
        side = Over.OPPOSING_SIDE
        layers = tuple(attrs.evolve(x, over=Over.WINNERS) if getattr(x, "over", None) is side else x for x in layers)
    return layers


#: What ``accepts`` may list: the catalog's invariants and the relational properties.
KNOWN = [*catalog.ids(), *relational.ids()]


def policies() -> st.SearchStrategy[Policy]:
    """Well-formed policies of every shape the TOML schema has; shrinks toward the minimal policy."""
    return st.builds(
        Policy,
        name=st.text(),
        margin=margin_rules(),
        liquidation=liquidation_rules(),
        fees=st.builds(FeeRule, *(ints(FeeRule, n) for n in ("taker_ppm", "maker_ppm", "insurance_share_ppm"))),
        deficit=waterfalls(),
        rounding=st.builds(
            RoundingRule,
            st.sampled_from(Rounding),
            st.sampled_from(Rounding),
            st.sampled_from(ProRata),
            st.sampled_from(FundingRounding),
        ),
        units=st.builds(Units, st.text(), st.text()),
        description=st.text(),
        sources=st.lists(st.text()).map(tuple),
        accepts=st.lists(st.sampled_from(KNOWN)).map(tuple),
        # per_group needs [[market]] tables naming their groups, which these policies have none of
        # (its round trip: tests/rules/test_fund_groups.py)
        waterfall=st.builds(WaterfallScope, st.sampled_from([s for s in Scope if s is not Scope.PER_GROUP])),
    )


class TestRoundTrip:
    """dumps_policy writes TOML that loads_policy reads back to the same policy."""

    def test_the_strategy_knows_every_layer(self) -> None:
        """A new waterfall layer must be added to LAYERS, or the round trip would not cover it."""
        assert set(LAYERS) == set(LAYER_TYPES)

    @given(policies())
    def test_loads_dumps_is_identity(self, policy: Policy) -> None:
        """loads_policy(dumps_policy(p)) == p for every well-formed policy."""
        assert loads_policy(dumps_policy(policy)) == policy

    def test_dumps_writes_integers_and_enum_values(self) -> None:
        """Integers stay integers, enums are written by value, an absent cap is omitted."""
        policy = attrs.evolve(loads_policy(MINIMAL), deficit=(InsuranceFund(), Adl(Ranking.BINANCE)))
        assert dumps_policy(policy) == DUMPED

    def test_escapes_strings(self) -> None:
        """Quotes, backslashes and control characters survive the round trip."""
        policy = attrs.evolve(loads_policy(MINIMAL), name='a "b" \\ c\n\x00\x7f é')
        assert loads_policy(dumps_policy(policy)) == policy


DUMPED = """\
name = "minimal"
description = ""
sources = []
accepts = []

[units]
quote = "0.01 USD"
lot = "1 contract"

[margin]
spot_collateral = false

[[margin.tiers]]
floor_notional_quote = 0
initial_ppm = 100000
maintenance_ppm = 50000
maintenance_amount_quote = 0

[liquidation]
trigger = "equity_below_maintenance"
execution = "market"
slippage_ppm = 0
partial_close_ppm = 1000000
penalty_ppm = 0
penalty_recipient = "insurance_fund"

[fees]
taker_ppm = 0
maker_ppm = 0
insurance_share_ppm = 0

[[deficit]]
layer = "insurance_fund"

[[deficit]]
layer = "adl"
ranking = "binance"
price = "bankruptcy"
book_last = true

[rounding]
fee = "ceil"
margin = "ceil"
pro_rata = "up_dust_to_insurance_fund"
funding = "payers_up_dust_to_fee_account"
"""


class TestDefaults:
    """Only ``name`` and the margin tiers are required; everything else takes its default."""

    def test_minimal_policy(self) -> None:
        """A name and one tier make a whole policy with default liquidation, fees and rounding."""
        assert loads_policy(MINIMAL) == Policy("minimal", MarginRule((Tier(0, 100_000, 50_000),)))

    def test_floats_are_read_exactly(self) -> None:
        """An integral float (1e5) is still a Fraction, so an integer field rejects it."""
        assert error_of(MINIMAL.replace("100000", "1e5")) == (
            "policy.toml: 1 error(s)\n"
            "  'initial_ppm' must be an integer number of ppm: 1e5 @ $.margin.tiers[0].initial_ppm (policy.toml:5:15)"
        )


class TestFieldErrors:
    """A field validator's message comes through whole, with the path of the field."""

    def test_bound(self) -> None:
        assert error_of(MINIMAL.replace("maintenance_ppm = 50000", "maintenance_ppm = 1200000")) == (
            "policy.toml: 1 error(s)\n"
            "  'maintenance_ppm' must be <= 1000000: 1200000 @ $.margin.tiers[0].maintenance_ppm (policy.toml:6:19)"
        )

    def test_float_where_integer_required(self) -> None:
        """initial_ppm = 0.1 is read as Fraction(1, 10) and the validator, not cattrs, rejects it."""
        assert error_of(MINIMAL.replace("initial_ppm = 100000", "initial_ppm = 0.1")) == (
            "policy.toml: 1 error(s)\n"
            "  'initial_ppm' must be an integer number of ppm: 0.1 @ $.margin.tiers[0].initial_ppm (policy.toml:5:15)"
        )

    def test_infinity(self) -> None:
        assert error_of(MINIMAL + "[fees]\ntaker_ppm = inf\n") == (
            "policy.toml: 1 error(s)\n  'taker_ppm' must be an integer number of ppm: inf @ $.fees.taker_ppm (policy.toml:8:13)"
        )

    def test_boolean(self) -> None:
        assert error_of(MINIMAL + "[margin]\nspot_collateral = 1\n") == (
            "policy.toml: 1 error(s)\n  'spot_collateral' must be true or false: 1 @ $.margin.spot_collateral (policy.toml:8:19)"
        )

    def test_string(self) -> None:
        assert error_of(MINIMAL.replace('"minimal"', "7")) == (
            "policy.toml: 1 error(s)\n  'name' must be a string: 7 @ $.name (policy.toml:1:8)"
        )

    def test_cross_field_check_in_post_init(self) -> None:
        """An __attrs_post_init__ check points at the field it names."""
        text = MINIMAL + '[liquidation]\nexecution = "bankruptcy"\nslippage_ppm = 5\n'
        assert error_of(text) == (
            "policy.toml: 1 error(s)\n"
            "  'slippage_ppm' must be 0 when execution = 'bankruptcy' (only a market close has a fill "
            "price away from mark): 5 @ $.liquidation.slippage_ppm (policy.toml:9:16)"
        )

    def test_every_error_is_reported(self) -> None:
        """Errors in different tables are all listed, in field order."""
        text = MINIMAL + "[fees]\ntaker_ppm = -1\nmaker_ppm = 2000000\n[rounding]\nfee = 1\n"
        assert error_of(text) == (
            "policy.toml: 2 error(s)\n"
            "  'taker_ppm' must be >= 0: -1 @ $.fees.taker_ppm (policy.toml:8:13)\n"
            "  'fee' must be one of 'floor', 'ceil', 'half_even': 1 @ $.rounding.fee (policy.toml:11:7)"
        )


class TestShapeErrors:
    """Unknown keys, bad enum values, bad layer tags, missing keys and wrong TOML types."""

    def test_unknown_key(self) -> None:
        assert error_of(MINIMAL + "[liquidation]\nfoo = 1\n") == (
            "policy.toml: 1 error(s)\n"
            "  unknown key 'foo' (allowed keys: trigger, execution, slippage_ppm, partial_close_ppm, "
            "penalty_ppm, penalty_recipient, takeover_below_ppm, partial_above_notional_quote, "
            "partial_share_ppm, fee_to_close, fund_unwind_ppm, order, final_settlement, shortage_buffer_ppm) "
            "@ $.liquidation.foo (policy.toml:8:1)"
        )

    def test_unknown_key_in_a_layer_lists_the_tag(self) -> None:
        assert error_of(MINIMAL + '[[deficit]]\nlayer = "insurance_fund"\ncap = 5\n') == (
            "policy.toml: 1 error(s)\n  unknown key 'cap' (allowed keys: layer, cap_quote, all_or_nothing, floor_quote, deleveraged_without_move) @ $.deficit[0].cap (policy.toml:9:1)"
        )

    def test_bad_enum_value(self) -> None:
        assert error_of(MINIMAL + '[liquidation]\nexecution = "auction"\n') == (
            "policy.toml: 1 error(s)\n"
            "  'execution' must be one of 'market', 'bankruptcy', 'takeover': 'auction' @ $.liquidation.execution (policy.toml:8:13)"
        )

    def test_funding_rounding_is_a_named_choice_not_a_direction(self) -> None:
        """A bare direction for funding is refused with the named choices (each says who keeps the dust)."""
        assert error_of(MINIMAL + '[rounding]\nfunding = "ceil"\n') == (
            "policy.toml: 1 error(s)\n"
            "  'funding' must be one of 'payers_up_dust_to_fee_account', 'payers_up_dust_to_insurance_fund', "
            "'payers_down_shortfall_from_fee_account': 'ceil' @ $.rounding.funding (policy.toml:8:11)"
        )

    def test_pro_rata_names_its_three_choices(self) -> None:
        """``exact_in_order`` (session 21) is read, and a bad value lists it with the others."""
        assert (
            loads_policy(MINIMAL + '[rounding]\npro_rata = "exact_in_order"\n').rounding.pro_rata
            is ProRata.EXACT_IN_ORDER
        )
        assert error_of(MINIMAL + '[rounding]\npro_rata = "exact"\n') == (
            "policy.toml: 1 error(s)\n"
            "  'pro_rata' must be one of 'up_dust_to_insurance_fund', 'down_remainder_to_next_layer', "
            "'exact_in_order': 'exact' @ $.rounding.pro_rata (policy.toml:8:12)"
        )

    def test_conversion_rounding_is_a_direction_written_only_when_set(self) -> None:
        """``rounding.conversion`` (session 24, percolator Gen A's y = floor(x × h), spec v7 §6.2):
        floor by default and kept out of a policy's text (its digest) unless set; a bad value named."""
        assert loads_policy(MINIMAL).rounding.conversion is Rounding.FLOOR
        assert "conversion" not in dumps_policy(loads_policy(MINIMAL))
        up = loads_policy(MINIMAL + '[rounding]\nconversion = "ceil"\n')
        assert up.rounding.conversion is Rounding.CEIL and 'conversion = "ceil"' in dumps_policy(up)
        assert error_of(MINIMAL + '[rounding]\nconversion = "down"\n') == (
            "policy.toml: 1 error(s)\n"
            "  'conversion' must be one of 'floor', 'ceil', 'half_even': 'down' @ $.rounding.conversion (policy.toml:8:14)"
        )

    def test_funding_rounding_reads_its_choice(self) -> None:
        policy = loads_policy(MINIMAL + '[rounding]\nfunding = "payers_up_dust_to_insurance_fund"\n')
        assert policy.rounding.funding is FundingRounding.PAYERS_UP_DUST_TO_INSURANCE_FUND
        assert loads_policy(MINIMAL).rounding.funding is FundingRounding.PAYERS_UP_DUST_TO_FEE_ACCOUNT

    def test_bad_layer_tag(self) -> None:
        assert error_of(MINIMAL + '[[deficit]]\nlayer = "insurance_fund"\n[[deficit]]\nlayer = "bailout"\n') == (
            "policy.toml: 1 error(s)\n"
            "  'layer' must be one of 'insurance_fund', 'backstop_vault', 'fee_pool', 'adl', 'socialized_loss', "
            "'haircut_ratio', 'clawback', 'debt_carry', 'venue_absorbs': 'bailout' @ $.deficit[1].layer (policy.toml:10:9)"
        )

    def test_missing_layer_tag(self) -> None:
        assert error_of(MINIMAL + '[[deficit]]\nranking = "binance"\n') == (
            "policy.toml: 1 error(s)\n  'layer' is required (one of 'insurance_fund', 'backstop_vault', 'fee_pool', 'adl', 'socialized_loss', "
            "'haircut_ratio', 'clawback', 'debt_carry', 'venue_absorbs') @ $.deficit[0] (policy.toml:7:1)"
        )

    def test_missing_required(self) -> None:
        assert (
            error_of(MINIMAL.replace('name = "minimal"', ""))
            == "policy.toml: 1 error(s)\n  'name' is required (a string) @ $ (policy.toml:1:1)"
        )

    def test_missing_tiers(self) -> None:
        assert error_of('name = "x"\n[margin]\nspot_collateral = true\n') == (
            "policy.toml: 1 error(s)\n  'tiers' is required (an array of tables) @ $.margin (policy.toml:2:1)"
        )

    def test_table_where_array_of_tables_expected(self) -> None:
        assert error_of(MINIMAL + '[deficit]\nlayer = "adl"\n') == (
            "policy.toml: 1 error(s)\n  'deficit' must be an array of tables: {'layer': 'adl'} @ $.deficit (policy.toml:7:1)"
        )

    def test_string_where_array_expected(self) -> None:
        """A string is refused, not iterated into characters."""
        assert error_of('sources = "docs/venues.md"\n' + MINIMAL) == (
            "policy.toml: 1 error(s)\n  'sources' must be an array of strings: 'docs/venues.md' @ $.sources (policy.toml:1:11)"
        )

    def test_scalar_where_table_expected(self) -> None:
        assert (
            error_of('name = "x"\nmargin = 5\n')
            == "policy.toml: 1 error(s)\n  'margin' must be a table: 5 @ $.margin (policy.toml:2:10)"
        )


class TestPolicyRules:
    """Cross-field rules of the policy classes come through with the path of the object that raised them."""

    def test_unreachable_layer(self) -> None:
        text = MINIMAL + '[[deficit]]\nlayer = "debt_carry"\n[[deficit]]\nlayer = "adl"\n'
        assert error_of(text) == (
            "policy.toml: 1 error(s)\n"
            "  'layer' 'adl' is unreachable: 'debt_carry' @ $.deficit[0] takes every remaining deficit; "
            "move it last @ $.deficit[1] (policy.toml:9:1)"
        )

    def test_repeated_layer(self) -> None:
        text = MINIMAL + '[[deficit]]\nlayer = "adl"\n[[deficit]]\nlayer = "adl"\n'
        assert error_of(text) == (
            "policy.toml: 1 error(s)\n  'layer' must appear once in the waterfall: 'adl' again @ $.deficit[1] (policy.toml:9:1)"
        )

    def test_tier_continuity(self) -> None:
        """Binance's 50k tier needs a maintenance amount of 50 USDT (5000 quanta of 0.01 USDT)."""
        text = (
            'name = "x"\n'
            "[[margin.tiers]]\nfloor_notional_quote = 0\ninitial_ppm = 8000\nmaintenance_ppm = 4000\n"
            "[[margin.tiers]]\nfloor_notional_quote = 5000000\ninitial_ppm = 10000\nmaintenance_ppm = 5000\n"
            "maintenance_amount_quote = 4999\n"
        )
        assert error_of(text) == (
            "policy.toml: 1 error(s)\n"
            "  'maintenance_amount_quote' must be 5000 to keep maintenance continuous at 5000000: 4999 "
            "@ $.margin.tiers[1].maintenance_amount_quote (policy.toml:10:28)"
        )

    def test_first_floor_points_at_the_field(self) -> None:
        assert error_of(MINIMAL.replace("floor_notional_quote = 0", "floor_notional_quote = 5")) == (
            "policy.toml: 1 error(s)\n"
            "  'floor_notional_quote' of the first tier must be 0: 5 @ $.margin.tiers[0].floor_notional_quote (policy.toml:4:24)"
        )

    def test_maintenance_above_initial(self) -> None:
        assert error_of(MINIMAL.replace("maintenance_ppm = 50000", "maintenance_ppm = 200000")) == (
            "policy.toml: 1 error(s)\n"
            "  'maintenance_ppm' must be <= initial_ppm (100000): 200000 @ $.margin.tiers[0].maintenance_ppm (policy.toml:6:19)"
        )

    def test_debt_to_winners_must_take_deposits(self) -> None:
        text = MINIMAL + '[[deficit]]\nlayer = "debt_carry"\nlender = "winners"\ndeposits_repay_debt = false\n'
        assert error_of(text) == (
            "policy.toml: 1 error(s)\n"
            "  'deposits_repay_debt' must be true when lender = 'winners': the debt is the account's negative "
            "balance, so any deposit lands in it; use lender = 'venue' for a debt collected off the book: False "
            "@ $.deficit[0].deposits_repay_debt (policy.toml:10:23)"
        )


class TestSyntaxErrors:
    """A TOML syntax error names the file, the line and the column."""

    def test_unclosed_table_header(self) -> None:
        assert error_of('name = "x"\n[margin\n') == (
            "policy.toml: 1 error(s)\n  invalid TOML: Expected ']' at the end of a table declaration @ policy.toml:2:8"
        )

    def test_error_at_end_of_document(self) -> None:
        assert error_of('name = "x"\nlot = "1') == (
            "policy.toml: 1 error(s)\n  invalid TOML: Unterminated string @ policy.toml:2:9"
        )


class TestAccepts:
    """``accepts`` lists ids of invariants or relational properties; any other name is refused
    with its path, its line, what was expected and the closest known id."""

    EXPECTED = f"an invariant ({', '.join(catalog.ids())}) or a relational property ({', '.join(relational.ids())})"

    def test_known_invariants_and_relational_properties(self) -> None:
        from solvent.verdicts.check import known_claims

        text = MINIMAL.replace('name = "minimal"', 'name = "minimal"\naccepts = ["no-haircut", "round-trip-neutral"]')
        assert loads_policy(text, claims=known_claims()).accepts == ("no-haircut", "round-trip-neutral")

    def test_unknown_name_with_path_line_and_close_match(self, tmp_path) -> None:
        text = MINIMAL.replace(
            'name = "minimal"',
            'name = "minimal"\naccepts = [\n  "no-haircut",  # a comment with "quotes" and ]\n  \'round-trip-neutral\',\n  "no-negative-equiti",\n]',
        )
        path = tmp_path / "venue.toml"
        path.write_text(text, encoding="utf-8")
        from solvent.verdicts.check import known_claims

        with pytest.raises(PolicyError) as info:
            load_policy(path, claims=known_claims())
        assert str(info.value) == (
            f"{path}: 1 error(s)\n"
            f"  'accepts' must each name {self.EXPECTED}: 'no-negative-equiti' (did you mean 'no-negative-equity'?) @ $.accepts[2] ({path}:5:3)"
        )

    def test_every_unknown_name_is_listed_and_a_far_one_has_no_suggestion(self) -> None:
        text = MINIMAL.replace('name = "minimal"', 'name = "minimal"\naccepts = ["haircut", "conservation", "zzz"]')
        assert error_of(text) == (
            "policy.toml: 2 error(s)\n"
            f"  'accepts' must each name {self.EXPECTED}: 'haircut' (did you mean 'no-haircut'?) @ $.accepts[0] (policy.toml:2:12)\n"
            f"  'accepts' must each name {self.EXPECTED}: 'zzz' @ $.accepts[2] (policy.toml:2:39)"
        )

    def test_listed_beside_the_other_errors(self) -> None:
        """An unknown name does not hide a field error, nor the reverse."""
        text = MINIMAL.replace('name = "minimal"', 'name = "minimal"\naccepts = ["zzz"]') + "[fees]\ntaker_ppm = -1\n"
        assert error_of(text) == (
            "policy.toml: 2 error(s)\n"
            "  'taker_ppm' must be >= 0: -1 @ $.fees.taker_ppm (policy.toml:9:13)\n"
            f"  'accepts' must each name {self.EXPECTED}: 'zzz' @ $.accepts[0] (policy.toml:2:12)"
        )

    def test_an_entry_of_the_wrong_type_is_the_converters_error(self) -> None:
        text = MINIMAL.replace('name = "minimal"', 'name = "minimal"\naccepts = [7, "no-haircut"]')
        assert (
            error_of(text) == "policy.toml: 1 error(s)\n  value must be a string: 7 @ $.accepts[0] (policy.toml:2:12)"
        )

    def test_a_multiline_string_in_the_array_is_found_where_it_is_written(self) -> None:
        """The parser knows the string, however it is written."""
        text = MINIMAL.replace('name = "minimal"', 'name = "minimal"\naccepts = ["""zzz"""]')
        assert (
            error_of(text)
            == f"policy.toml: 1 error(s)\n  'accepts' must each name {self.EXPECTED}: 'zzz' @ $.accepts[0] (policy.toml:2:12)"
        )

    def test_solvent_check_exits_2_naming_the_file_and_path(self, tmp_path) -> None:
        from click.testing import CliRunner

        from solvent.cli import main

        path = tmp_path / "venue.toml"
        path.write_text(
            MINIMAL.replace('name = "minimal"', 'name = "minimal"\naccepts = ["no-haircut", "round-trip-neutrl"]'),
            encoding="utf-8",
        )
        result = CliRunner().invoke(main, ["check", str(path), "--no-search"])
        assert result.exit_code == 2
        assert f"{path}: 1 error(s)" in result.stderr
        assert f"'round-trip-neutrl' (did you mean 'round-trip-neutral'?) @ $.accepts[1] ({path}:2:26)" in result.stderr

    def test_without_the_claims_the_loader_leaves_accepts_to_the_judgement(self) -> None:
        """The rules floor does not know the claims: a bare load keeps any name, and the
        judgement refuses an unknown one when it runs."""
        from solvent.verdicts.check import check_policy

        text = MINIMAL.replace('name = "minimal"', 'name = "minimal"\naccepts = ["zzz"]')
        policy = loads_policy(text)
        assert policy.accepts == ("zzz",)
        with pytest.raises(KeyError, match="unknown invariant 'zzz'"):
            check_policy(policy)

    def test_a_user_registered_invariant_may_be_accepted(self) -> None:
        from solvent.properties.catalog import CATALOG, Severity, invariant

        invariant("my-claim", "a claim of the user's own", Severity.MEDIUM)(lambda view: True)
        try:
            from solvent.verdicts.check import known_claims

            text = MINIMAL.replace('name = "minimal"', 'name = "minimal"\naccepts = ["my-claim"]')
            assert loads_policy(text, claims=known_claims()).accepts == ("my-claim",)
        finally:
            del CATALOG["my-claim"]


class TestFiles:
    """load_policy reads a file and names it in errors."""

    def test_loads_a_file(self, tmp_path) -> None:
        path = tmp_path / "p.toml"
        path.write_text(MINIMAL, encoding="utf-8")
        assert load_policy(path) == loads_policy(MINIMAL)

    def test_error_names_the_file(self, tmp_path) -> None:
        path = tmp_path / "p.toml"
        path.write_text(MINIMAL + "[fees]\ntaker_ppm = 0.5\n", encoding="utf-8")
        with pytest.raises(PolicyError) as info:
            load_policy(path)
        assert (info.value.source, info.value.errors) == (
            str(path),
            [f"'taker_ppm' must be an integer number of ppm: 0.5 @ $.fees.taker_ppm ({path}:8:13)"],
        )

    def test_missing_file(self, tmp_path) -> None:
        path = tmp_path / "absent.toml"
        with pytest.raises(PolicyError) as info:
            load_policy(path)
        assert info.value.errors == [f"cannot read the policy file: [Errno 2] No such file or directory: '{path}'"]

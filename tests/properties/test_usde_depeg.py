"""The USDe depeg of 10 October 2025 (docs/venues.md#binance-october-2025) on Binance in
Multi-Assets Mode (examples/binance-multi-assets.toml): a long backed only by USDe, safe at par,
is liquidated when USDe prints $0.65, every USDe it holds is sold at $0.65, and the rest is bad
debt the waterfall pays (the fund's cent, then ADL of the short)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from solvent.cli import main
from solvent.properties.incidents import INCIDENTS
from solvent.properties.story import ScenarioError
from solvent.reports.money import QUANTA, transfer_amount
from solvent.rules.engine import run
from solvent.rules.ledger import Reason, Transfer
from solvent.rules.loading import load_policy
from solvent.rules.outcomes import Bankrupt, LayerUsed, Liquidated
from solvent.rules.presets import load_preset

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "binance-multi-assets.toml"


@pytest.fixture(scope="module")
def steps():
    policy = load_policy(EXAMPLE)
    story = INCIDENTS["usde-depeg-2025-10-10"].build(policy)
    return run(policy, story.book, list(story.events))


def test_the_example_declares_binances_collateral_value_ratios() -> None:
    policy = load_policy(EXAMPLE)
    weights = {c.name: (c.initial_weight_ppm, c.maintenance_weight_ppm) for c in policy.collateral}
    assert weights == {
        "USDC": (999_900, 999_900),
        "BTC": (950_000, 950_000),
        "ETH": (950_000, 950_000),
        "USDe": (950_000, 950_000),
        # the rest of Binance's 2021 table (faq 29b45c48…): 5% haircut on BNB, 10% on XRP, ADA, DOT, SOL
        "BNB": (950_000, 950_000),
        "XRP": (900_000, 900_000),
        "ADA": (900_000, 900_000),
        "DOT": (900_000, 900_000),
        "SOL": (900_000, 900_000),
        "BUSD": (1_000_000, 1_000_000),
    }


def test_safe_at_par(steps) -> None:
    *_, moved, depeg = steps
    alice = moved.after.account("alice")
    # 1,053 USDe at $1 counted at 95% = 1,000.35 USDT against a loss of 920 booked in USDT
    assert (alice.cash_quote, alice.asset_balances, alice.size_lots) == (-92_000, (1_053,), 100)
    assert not any(isinstance(o, Liquidated) for o in moved.outcomes)


def test_the_depeg_sells_every_usde_at_065_and_leaves_bad_debt(steps) -> None:
    depeg = steps[-1]
    assert Transfer("alice@USDe", "liquidity@USDe", 1_053, Reason.COLLATERAL_SALE) in depeg.transfers
    assert Transfer("liquidity", "alice", 68_445, Reason.COLLATERAL_SALE) in depeg.transfers  # 1,053 × 65
    (bankrupt,) = [o for o in depeg.outcomes if isinstance(o, Bankrupt)]
    assert bankrupt.deficit_quote == 23_555  # 92,000 owed − 68,445, closed at the mark: 235.55 USDT
    assert [(o.layer, o.covered_quote) for o in depeg.outcomes if isinstance(o, LayerUsed)] == [
        ("insurance_fund", 1),
        ("adl", 23_554),
    ]
    assert depeg.after.account("alice").asset_balances == (0,)
    assert depeg.after.account("liquidity").asset_balances == (1_053,)


def test_a_ledger_table_shows_asset_quanta_by_the_assets_name(steps) -> None:
    sold = next(t for t in steps[-1].transfers if t.source == "alice@USDe")
    assert transfer_amount(QUANTA, sold) == "1,053 USDe"


def test_a_policy_without_usde_is_told_so() -> None:
    with pytest.raises(ScenarioError, match="needs a \\[\\[collateral\\]\\] table named USDe"):
        INCIDENTS["usde-depeg-2025-10-10"].build(load_preset("binance"))


def test_check_runs_it_and_a_policy_without_usde_is_bad_input() -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["check", str(EXAMPLE), "--scenario", "usde-depeg-2025-10-10", "--no-search"])
    assert ok.exit_code == 0, ok.output
    assert "price of USDe USDT 1.00 → USDT 0.65 (−35.00%)" in ok.output
    assert "USDe (quanta)" in ok.output  # the books show each account's balance of the asset
    bad = runner.invoke(main, ["check", "binance", "--scenario", "usde-depeg-2025-10-10", "--no-search"])
    assert bad.exit_code == 2
    assert "binance: the scenario usde-depeg-2025-10-10 needs a [[collateral]] table named USDe" in bad.output
    assert "Traceback" not in bad.output


def test_check_searches_and_proves_with_the_policys_collateral_on_the_book() -> None:
    from solvent.properties.search import collateral_assets
    from solvent.verdicts.proofs import ProofBudget, prove_within

    policy = load_policy(EXAMPLE)
    assert collateral_assets(policy) == 3 and collateral_assets(load_preset("binance")) == 0
    (result,) = prove_within(policy, ["spot-isolated"], ProofBudget(total=2_000_000, per_question=2_000_000)).values()
    assert (result.bounds.assets, result.bounds.asset_names[0], result.bounds.event_kinds) == (
        1,
        "USDC",
        ("mark", "asset-price"),
    )
    (plain,) = prove_within(load_preset("binance"), ["spot-isolated"], ProofBudget(total=1, per_question=1)).values()
    assert plain.bounds.assets == 0 and plain.bounds.event_kinds == ("mark",)


def test_the_json_report_is_valid_against_the_report_schema() -> None:
    import json

    from solvent.reports import json_report
    from solvent.verdicts.check import check_policy

    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test dependency")
    report = check_policy(load_policy(EXAMPLE), scenarios=["usde-depeg-2025-10-10"])
    schema = json.loads((EXAMPLE.parents[1] / "tests" / "schemas" / "solvent.report-1.schema.json").read_text())
    data = json_report.report_data([report])
    assert [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(data)] == []
    (finding,) = [f for f in data["policies"][0]["findings"] if "no-haircut" in f["invariants"]]
    assert finding["steps"][-1]["event"] == {"type": "AssetPrice", "asset": "USDe", "price_quote": 65}
    assert finding["story"]["book"]["assets"] == [{"name": "USDe", "price_quote": 100, "net_deposits": 0}]


def test_it_starts_well_formed_and_every_book_after_is_too(steps) -> None:
    from solvent.rules.wellformed import reasons

    policy = load_policy(EXAMPLE)
    assert reasons(policy, steps[0].before) == []
    assert all(reasons(policy, s.after, margin=None) == [] for s in steps)

"""A flat account's loan through its collateral (docs/portfolio.md#a-flat-accounts-loan-through-its-collateral):
the scenario ``flat-loan-crash`` on the two multi-asset examples, the boundary of its crash, and the
commands the docs print, run as printed.

alice deposits BTC only, goes long and loses, sells back (flat, a negative USDT balance: the loan),
and BTC's oracle price falls 10%: her BTC sold, the fund's quantum, ADL with no position to close,
and the rest stays on her account (``Residual``). Bybit documents that the UTA's loan shortfall is
the trader's (the example accepts it); Binance's Multi-Assets pages we hold do not (a finding)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from solvent.cli import main
from solvent.properties.catalog import StepView, get
from solvent.properties.scenarios import SCENARIOS, build
from solvent.properties.story import ScenarioError
from solvent.rules.engine import run
from solvent.rules.events import AssetPrice
from solvent.rules.ledger import Reason
from solvent.rules.loading import load_policy
from solvent.rules.outcomes import Bankrupt, LayerUsed, LoanExchanged, Residual
from solvent.rules.presets import load_preset

ROOT = Path(__file__).resolve().parents[2]
BYBIT = ROOT / "examples" / "bybit-multi-collateral.toml"
BINANCE = ROOT / "examples" / "binance-multi-assets.toml"
FAILS = {"no-negative-equity", "loss-bounded-by-collateral", "claims-backed"}


def _steps(policy, story):
    return run(policy, story.book, list(story.events))


def _fails(policy, step) -> set[str]:
    claims = ("conservation", "insurance-fund-non-negative", *sorted(FAILS))
    return {c for c in claims if not get(c).holds(StepView.of(policy, step))}


def test_it_is_run_only_when_named() -> None:
    assert "flat-loan-crash" in SCENARIOS
    from solvent.properties.scenarios import defaults

    assert "flat-loan-crash" not in defaults(load_policy(BYBIT))


def test_on_bybit_the_loan_left_after_the_sale_stays_on_the_flat_account() -> None:
    policy = load_policy(BYBIT)
    story = build(policy, "flat-loan-crash")
    steps = _steps(policy, story)
    before, crash = steps[-2], steps[-1]
    alice = before.after.account("alice")
    # flat, owing 1,099.41 USDT, holding 0.0118 BTC (118 quanta of 0.0001 BTC) at 100,000 USDT a BTC
    assert (alice.size_lots, alice.cash_quote, alice.asset_balances) == (0, -109_941, (118,))
    assert before.after.assets[0].price_quote == 1_000
    assert crash.event == AssetPrice("BTC", 900)  # BTC falls 10%
    sold = sum(
        t.amount_quote for t in crash.transfers if t.reason is Reason.COLLATERAL_SALE and t.source == "liquidity"
    )
    assert sold == 118 * 900  # every quantum, at the oracle price (Bybit sells at it)
    (bankrupt,) = [o for o in crash.outcomes if isinstance(o, Bankrupt)]
    assert bankrupt.deficit_quote == 109_941 - 106_200
    layers = {o.layer: o.covered_quote for o in crash.outcomes if isinstance(o, LayerUsed)}
    assert layers == {"insurance_fund": 1, "adl": 0}  # the fund's quantum; ADL has no position to close
    (left,) = [o for o in crash.outcomes if isinstance(o, Residual)]
    assert left.amount_quote == 3_740 and crash.after.account("alice").cash_quote == -3_740
    assert any(isinstance(o, LoanExchanged) for o in crash.outcomes)
    assert _fails(policy, crash) == FAILS  # conservation and the fund hold
    assert FAILS <= set(policy.accepts)  # documented: the UTA's loan shortfall is the trader's


def test_on_binance_the_same_story_is_a_finding() -> None:
    policy = load_policy(BINANCE)
    steps = _steps(policy, build(policy, "flat-loan-crash"))
    crash = steps[-1]
    assert crash.event == AssetPrice("BTC", 90)  # 0.00001 BTC quanta: 100 quote quanta at 100,000 USDT
    sold = sum(
        t.amount_quote for t in crash.transfers if t.reason is Reason.COLLATERAL_SALE and t.source == "liquidity"
    )
    assert sold == 927 * 90 * 975 // 1000  # BTC sells at 97.5% of its value (the example's sale_value_ppm)
    assert crash.after.account("alice").cash_quote == -(84_000 - sold - 1)  # the fund's quantum
    assert _fails(policy, crash) == FAILS
    assert not FAILS & set(policy.accepts)


def _crash_to(policy, price: int):
    story = build(policy, "flat-loan-crash")
    events = list(story.events)
    events[-1] = attrs.evolve(events[-1], price_quote=price)
    return run(policy, story.book, events)[-1]


def test_the_least_price_whose_sale_repays_the_loan_leaves_no_debt() -> None:
    """The boundary: BTC at the least price at which 118 quanta sell for the loan less the fund's
    quantum leaves alice at zero or above; one quantum lower leaves her owing."""
    policy = load_policy(BYBIT)
    loan = 109_941
    least = -(-(loan - 1) // 118)  # ⌈(loan − the fund's quantum) / 118⌉: 932
    held = _crash_to(policy, least)
    assert held.after.account("alice").cash_quote >= 0 and not _fails(policy, held) & {"no-negative-equity"}
    broken = _crash_to(policy, least - 1)
    assert broken.after.account("alice").cash_quote < 0 and "no-negative-equity" in _fails(policy, broken)


def test_a_policy_without_a_usable_asset_is_told_so() -> None:
    with pytest.raises(ScenarioError, match="needs a \\[\\[collateral\\]\\] table with a positive initial_weight_ppm"):
        build(load_preset("binance"), "flat-loan-crash")
    with pytest.raises(ScenarioError, match="lends = false"):
        build(load_preset("drift"), "flat-loan-crash")  # its SOL is lent: lenders-pay-perp-loss's story
    result = CliRunner().invoke(main, ["check", "binance", "--scenario", "flat-loan-crash", "--no-search"])
    assert result.exit_code == 2 and "Traceback" not in result.output


def _printed() -> list[tuple[str, int]]:
    """The commands docs/portfolio.md prints for the scenario, each with the exit code its comment says."""
    text = (ROOT / "docs" / "portfolio.md").read_text(encoding="utf-8")
    section = text.split("### A flat account's loan through its collateral", 1)[1].split("\n### ", 1)[0]
    block = section.split("```", 2)[1]
    found = re.findall(r"^(solvent check .+?)\s+# exit (\d)", block, flags=re.M)
    return [(command, int(code)) for command, code in found]


def test_the_docs_print_both_commands() -> None:
    assert [c.split()[2] for c, _ in _printed()] == [
        "examples/bybit-multi-collateral.toml",
        "examples/binance-multi-assets.toml",
    ]


@pytest.mark.parametrize(("command", "code"), _printed())
def test_each_printed_command_runs_as_its_comment_says(command: str, code: int, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, shlex.split(command)[1:])
    assert result.exit_code == code, result.output
    fails = {ln.split()[0] for ln in result.output.splitlines() if re.search(r"\s(fails \(accepted\)|FAILS)\s", ln)}
    assert fails == FAILS
    accepted = "0 fail, 3 fail as accepted" in result.output
    assert accepted is (code == 0)
    assert "unpaid USDT" in result.output  # the debt left on the account is said

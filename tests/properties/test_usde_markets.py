"""10 October 2025 across markets with a collateral depeg (issue 13: "the 2025-10-10 scenario as a
multi-market crash with a collateral depeg (published magnitudes, cited)"; docs/venues.md
#october-2025-cascade and #binance-october-2025): BTC −12%, ETH −16%, SOL −31% in about 45
minutes, then USDe printing $0.65 on Binance. On examples/binance-multi-assets.toml (no
``[[market]]`` tables, so PERP, PERP2 and PERP3 on its tiers): a long in every market backed only
by USDe is safe after the whole crash at par, and the depeg alone liquidates it into bad debt."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from solvent.properties.catalog import StepView, get
from solvent.properties.incidents import INCIDENTS, OCTOBER_2025_MOVES_PPM, USDE, USDE_LOW, USDE_MARK
from solvent.properties.story import ScenarioError
from solvent.rules.assets import margin_equity
from solvent.rules.engine import run
from solvent.rules.events import AssetPrice, MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.loading import load_policy
from solvent.rules.margin import account_maintenance
from solvent.rules.market_spec import MarketSpec
from solvent.rules.outcomes import Bankrupt, LayerUsed, Liquidated
from solvent.rules.presets import load_preset

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_policy(ROOT / "examples" / "binance-multi-assets.toml")
SCENARIO = INCIDENTS["usde-markets-2025-10-10"]


@pytest.fixture(scope="module")
def steps():
    story = SCENARIO.build(POLICY)
    return run(POLICY, story.book, list(story.events))


def test_the_published_moves_in_every_market(steps) -> None:
    moves = [(s.event.market, s.before.markets, s.after.markets) for s in steps if isinstance(s.event, MarkPrice)]
    assert [m for m, _, _ in moves] == ["", "PERP2", "PERP3"]
    marks = [m.mark_quote for m in steps[-1].before.markets]
    assert OCTOBER_2025_MOVES_PPM == (120_000, 160_000, 310_000)  # BTC 12%, ETH 16%, SOL 31%
    assert marks == [USDE_MARK * 88 // 100, USDE_MARK * 84 // 100, USDE_MARK * 69 // 100]


def test_the_crash_alone_leaves_her_safe_with_twice_her_maintenance(steps) -> None:
    assert not any(isinstance(o, Liquidated) for s in steps[:-1] for o in s.outcomes)
    book = steps[-1].before
    alice = book.account("alice")
    mm = account_maintenance(
        POLICY.margin, POLICY.rounding, alice, book.market.mark_quote, book.more_markets, POLICY.more_margins
    )
    held = margin_equity(POLICY, book.assets, alice)
    # the USDe she holds is the least whose value at par keeps twice her maintenance
    assert 2 * mm <= held < 2 * mm + 100


def test_the_depeg_sells_every_usde_at_065_and_leaves_bad_debt(steps) -> None:
    last = steps[-1]
    assert last.event == AssetPrice(USDE, USDE_LOW)
    units = last.before.account("alice").asset_balances[last.before.asset_index(USDE)]
    sold = [t for t in last.transfers if t.reason is Reason.COLLATERAL_SALE and t.source == "liquidity"]
    assert [t.amount_quote for t in sold] == [units * USDE_LOW]  # every USDe, at $0.65
    (bankrupt,) = [o for o in last.outcomes if isinstance(o, Bankrupt)]
    losses = sum(100 * (USDE_MARK - m.mark_quote) for m in last.before.markets)
    assert bankrupt.deficit_quote == losses - units * USDE_LOW  # what the crash cost less the USDe's sale
    paid = sum(o.covered_quote for o in last.outcomes if isinstance(o, LayerUsed))
    assert paid == bankrupt.deficit_quote
    assert all(
        a.size_lots == 0 and not any(p.size_lots for p in a.more_positions) for a in [last.after.account("alice")]
    )


@pytest.mark.parametrize("claim", ["conservation", "deficit-charged-once", "spot-isolated", "claims-backed"])
def test_the_depeg_step_holds_the_accounting_claims(steps, claim: str) -> None:
    assert get(claim).holds(StepView.of(POLICY, steps[-1]))


def test_a_policy_without_usde_or_with_one_market_is_told_so() -> None:
    with pytest.raises(ScenarioError, match="needs a \\[\\[collateral\\]\\] table named USDe"):
        SCENARIO.build(load_preset("binance"))
    one = attrs.evolve(POLICY, market=(MarketSpec("BTCUSDT"),))
    with pytest.raises(ScenarioError, match="needs two markets or more"):
        SCENARIO.build(one)


def test_the_command_runs_as_printed() -> None:
    from tests.printed_support import run_printed
    from tests.rules.test_fund_groups import _printed

    done = run_printed(ROOT, _printed("solvent check examples/binance-multi-assets.toml --scenario usde-markets"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "price of USDe USDT 1.00 → USDT 0.65 (−35.00%)" in done.stdout
    assert "mark of PERP3 USDT 100,000 → USDT 69,000/BTC (−31.00%)" in done.stdout

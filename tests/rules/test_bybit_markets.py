"""``examples/bybit-markets.toml``: Bybit's Unified Trading Account in cross margin over BTCUSDT
(the preset's risk-limit table) and ETHPERP (risk id 1 of Bybit's own API example: 1.5% initial,
1% maintenance), with a fund per symbol ("Each symbol has shared and isolated pools",
docs/venues.md#bybit-insurance-fund). The account's maintenance is the sum of each position's at
its own market's rate, as the UTA's "Total Maintenance Margin" is; ETHPERP's crash is paid by
ETHPERP's fund and then by ADL in ETHPERP, BTCUSDT's fund keeping its money."""

from __future__ import annotations

from pathlib import Path

from solvent.properties.catalog import StepView, get
from solvent.properties.scenarios import build
from solvent.rules.engine import run, step
from solvent.rules.events import Deposit, MarkPrice
from solvent.rules.loading import load_policy
from solvent.rules.market_funds import fund_balance
from solvent.rules.outcomes import AdlFill, Bankrupt, LayerUsed, Liquidated

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_policy(ROOT / "examples" / "bybit-markets.toml")


def gap(btc_fund: int, eth_fund: int):
    """The cross-market gap (alice long both, ETHPERP gaps through her equity) with these funds."""
    story = build(POLICY, "cross-market-gap")
    events = [e for e in story.events if not (isinstance(e, Deposit) and e.account == "insurance_fund")]
    funds = [Deposit("insurance_fund", btc_fund), Deposit("insurance_fund", eth_fund, market="ETHPERP")]
    return run(POLICY, story.book, [events[0], *(f for f in funds if f.amount_quote), *events[1:]])[-1]


def adl(s) -> list[tuple[str, int, str]]:
    return [(o.winner, o.lots, o.market) for o in s.outcomes if isinstance(o, AdlFill) and o.lots]


D = next(o.deficit_quote for o in gap(0, 0).outcomes if isinstance(o, Bankrupt))


def test_each_symbol_on_its_own_risk_limit_and_fund() -> None:
    assert POLICY.market_names == ("BTCUSDT", "ETHPERP") and POLICY.waterfall.per_market
    first = [(m.tiers[0].initial_ppm, m.tiers[0].maintenance_ppm) for m in (POLICY.margin, *POLICY.more_margins)]
    assert first == [(10_000, 5_000), (15_000, 10_000)]


def test_the_trigger_sums_each_positions_maintenance_at_its_own_rate() -> None:
    """alice holds 0.1 BTC at 100,000 and 1 ETH at 10,000: maintenance 50 + 100 USDT = 15,000 quanta
    (ETHPERP at BTCUSDT's 0.5% would be 10,000). Bybit liquidates at equity ≤ maintenance: at an
    ETHPERP mark of 9,874 her equity is 14,902, liquidated; at 9,875 it is 15,002, not."""
    before = run(POLICY, build(POLICY, "cross-market-gap").book, list(build(POLICY, "cross-market-gap").events))[
        -1
    ].before
    (liquidated,) = [
        o for o in step(POLICY, before, MarkPrice(9_874, market="ETHPERP")).outcomes if isinstance(o, Liquidated)
    ]
    assert (liquidated.equity_quote, liquidated.maintenance_quote, liquidated.market) == (14_902, 15_000, "ETHPERP")
    assert not [
        o for o in step(POLICY, before, MarkPrice(9_875, market="ETHPERP")).outcomes if isinstance(o, Liquidated)
    ]


def test_a_fund_exactly_the_deficit_pays_it_and_nobody_is_deleveraged() -> None:
    s = gap(10 * D, D)
    assert D == 27_598 and adl(s) == []
    assert fund_balance(s.after, 0) == 10 * D


def test_one_quantum_short_deleverages_ethperp_only_and_btcusdt_keeps_its_fund() -> None:
    s = gap(10 * D, D - 1)
    assert adl(s) == [("bob", 100, "ETHPERP")]
    assert [(o.layer, o.covered_quote) for o in s.outcomes if isinstance(o, LayerUsed)][0] == ("insurance_fund", D - 1)
    assert fund_balance(s.after, 0) == 10 * D
    assert get("market-fund-pays-own-market").holds(StepView.of(POLICY, s))


def test_the_documented_command_runs_as_printed() -> None:
    from tests.printed_support import run_printed
    from tests.rules.test_fund_groups import _printed

    done = run_printed(ROOT, _printed("solvent check examples/bybit-markets.toml"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "market-fund-pays-own-market         held" in done.stdout
    assert "adl-in-deficit-market-only          held" in done.stdout
    assert "paid by 1. insurance_fund (ETHPERP)" in done.stdout
    assert "0 fail, 1 fail as accepted" in done.stdout  # no-haircut, the preset's accepted ADL

"""``examples/okx-markets.toml``: OKX on ADAUSDT and AAVEUSDT, each on its own tier 1 of OKX's
May 2023 position-tier table and with an insurance fund of its own ("every USDT perpetual
underlying has its own", docs/venues.md#okx-insurance-fund). AAVEUSDT's crash drains AAVEUSDT's
fund only: at a fund of exactly the deficit nobody is deleveraged, one quantum less deleverages
AAVEUSDT's winner, and ADAUSDT's fund keeps its money either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from solvent.properties.catalog import StepView, get
from solvent.properties.scenarios import build
from solvent.rules.engine import run
from solvent.rules.events import Deposit
from solvent.rules.loading import load_policy
from solvent.rules.market_funds import fund_balance
from solvent.rules.outcomes import AdlFill, Bankrupt, LayerUsed

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_policy(ROOT / "examples" / "okx-markets.toml")


def gap(ada_fund: int, aave_fund: int):
    """The cross-market gap (alice long both, AAVEUSDT gaps through her equity) with these funds."""
    story = build(POLICY, "cross-market-gap")
    events = [e for e in story.events if not (isinstance(e, Deposit) and e.account == "insurance_fund")]
    funds = [Deposit("insurance_fund", ada_fund), Deposit("insurance_fund", aave_fund, market="AAVEUSDT")]
    return run(POLICY, story.book, [events[0], *(f for f in funds if f.amount_quote), *events[1:]])[-1]


def adl(s) -> list[tuple[str, int, str]]:
    return [(o.winner, o.lots, o.market) for o in s.outcomes if isinstance(o, AdlFill) and o.lots]


D = next(o.deficit_quote for o in gap(0, 0).outcomes if isinstance(o, Bankrupt))


def test_each_underlying_on_its_own_tier_and_fund() -> None:
    assert POLICY.market_names == ("ADAUSDT", "AAVEUSDT") and POLICY.waterfall.per_market
    rates = [(m.tiers[0].initial_ppm, m.tiers[0].maintenance_ppm) for m in (POLICY.margin, *POLICY.more_margins)]
    assert rates == [(13_300, 5_500), (20_000, 7_000)]


def test_a_fund_exactly_the_deficit_pays_it_and_nobody_is_deleveraged() -> None:
    s = gap(10 * D, D)
    assert D == 36_668 and adl(s) == []
    assert fund_balance(s.after, 1) == 0 and fund_balance(s.after, 0) == 10 * D


def test_one_quantum_short_deleverages_aave_only_and_ada_keeps_its_fund() -> None:
    s = gap(10 * D, D - 1)
    assert adl(s) == [("bob", 100, "AAVEUSDT")]
    assert [(o.layer, o.covered_quote) for o in s.outcomes if isinstance(o, LayerUsed)][0] == ("insurance_fund", D - 1)
    assert fund_balance(s.after, 0) == 10 * D
    assert get("market-fund-pays-own-market").holds(StepView.of(POLICY, s))


@pytest.mark.parametrize("claim", ["waterfall-order", "adl-in-deficit-market-only", "conservation"])
def test_the_crash_holds_the_portfolio_claims(claim: str) -> None:
    assert get(claim).holds(StepView.of(POLICY, gap(10 * D, D - 1)))


def test_the_readme_command_runs_as_printed() -> None:
    from tests.printed_support import run_printed
    from tests.rules.test_fund_groups import _printed

    done = run_printed(ROOT, _printed("solvent check examples/okx-markets.toml"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "insurance_fund#AAVEUSDT  alice" in done.stdout
    assert "paid by 1. insurance_fund (AAVEUSDT)" in done.stdout
    assert "market-fund-pays-own-market         held" in done.stdout

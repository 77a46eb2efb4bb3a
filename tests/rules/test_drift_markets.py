"""``examples/drift-markets.toml``: Drift in cross margin over SOL-PERP and BTC-PERP (perp markets
0 and 1), one USDC insurance fund for both, and a claim on it per market: each market's
``quote_max_insurance`` counted against what the fund has paid toward that market's bankruptcies
since it opened (``quote_settled_insurance``; docs/venues.md#drift-v2-bankruptcy, docs/portfolio.md
decision 5e). Alice long 100 BTC-PERP and dave long 100 SOL-PERP at 10,000 against bob, each with
200,000 quanta; BTC-PERP and then SOL-PERP fall to 7,000, and each owes D = 107,000. BTC-PERP's
claim used up leaves the rest of alice's deficit to the fee pool and the socialized loss, while the
same fund still pays dave's in SOL-PERP whole."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from solvent.rules.book import Market, new_book
from solvent.rules.engine import run
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.loading import load_policy
from solvent.rules.outcomes import Bankrupt, LayerUsed

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_policy(ROOT / "examples" / "drift-markets.toml")


def with_btc_claim(cap: int):
    """The example with BTC-PERP's ``fund_cap_quote`` at ``cap`` (SOL-PERP's as the file says)."""
    return attrs.evolve(POLICY, market=(POLICY.market[0], attrs.evolve(POLICY.market[1], fund_cap_quote=cap)))


def crash(policy):
    """The two gaps, BTC-PERP's then SOL-PERP's: the last two steps."""
    book = new_book(
        market="SOL-PERP",
        mark_quote=10_000,
        more_markets=(Market("BTC-PERP", 10_000),),
        traders=("alice", "dave", "bob"),
    )
    events = [Deposit("liquidity", 20_000_000), Deposit("insurance_fund", 10_000_000), Deposit("alice", 200_000)]
    events += [Deposit("dave", 200_000), Deposit("bob", 10_000_000)]
    events += [
        Trade("alice", "bob", 100, 10_000, market="BTC-PERP"),
        Trade("dave", "bob", 100, 10_000, market="SOL-PERP"),
    ]
    events += [MarkPrice(7_000, market="BTC-PERP"), MarkPrice(7_000, market="SOL-PERP")]
    return run(policy, book, events)[-2:]


def layers(s) -> list[tuple[str, str, int]]:
    return [(o.account, o.layer, o.covered_quote) for o in s.outcomes if isinstance(o, LayerUsed)]


def totals(s) -> tuple[int, int]:
    """(SOL-PERP's, BTC-PERP's) running totals after the step."""
    return tuple(m.fund_settled_quote for m in s.after.markets)


D = next(o.deficit_quote for o in crash(POLICY)[0].outcomes if isinstance(o, Bankrupt))


def test_one_fund_and_a_claim_per_market() -> None:
    assert POLICY.market_names == ("SOL-PERP", "BTC-PERP") and not POLICY.waterfall.per_market
    assert [m.fund_cap_quote for m in POLICY.market] == [100_000_000_000, 100_000_000_000]
    assert [getattr(x, "cap_quote", None) for x in POLICY.deficit] == [None, None, None]  # no per-bankruptcy cap


def test_a_claim_of_the_deficit_pays_it_all() -> None:
    btc, sol = crash(with_btc_claim(D))
    assert D == 107_000
    assert layers(btc) == [("alice", "insurance_fund", D)] and totals(btc) == (0, D)
    assert layers(sol) == [("dave", "insurance_fund", D)] and totals(sol) == (D, D)


def test_a_used_up_claim_sends_the_rest_down_btcs_waterfall_and_the_same_fund_pays_sol() -> None:
    btc, sol = crash(with_btc_claim(D - 1))
    # the fund pays BTC-PERP's claim, the fee pool (empty: no fees here) nothing, the open
    # interest of BTC-PERP the last quantum, while the fund still holds almost all its money
    assert layers(btc) == [
        ("alice", "insurance_fund", D - 1),
        ("alice", "fee_pool", 0),
        ("alice", "socialized_loss", 1),
    ]
    assert totals(btc) == (0, D - 1) and btc.after.account("insurance_fund").cash_quote > 9_000_000
    # SOL-PERP's claim is its own: the one fund pays dave's whole deficit
    assert layers(sol) == [("dave", "insurance_fund", D)] and totals(sol) == (D, D - 1)


@pytest.mark.parametrize("cap", [D - 1, D])
def test_every_step_conserves_money(cap: int) -> None:
    for s in crash(with_btc_claim(cap)):
        assert s.after.total_cash_quote() == s.after.net_deposits_quote


def test_the_scenario_the_readme_runs_pays_btc_perps_deficit_down_its_waterfall() -> None:
    """What the README's command shows, on the engine alone (the command itself runs under deep):
    the cross-market gap in BTC-PERP is paid by the fund against BTC-PERP's claim, then by the
    socialized loss; SOL-PERP's claim is untouched."""
    from solvent.properties.scenarios import build

    story = build(POLICY, "cross-market-gap")
    last = run(POLICY, story.book, list(story.events))[-1]
    paid = layers(last)
    assert [layer for _, layer, _ in paid] == ["insurance_fund", "fee_pool", "socialized_loss"]
    assert totals(last) == (0, paid[0][2])


@pytest.mark.deep
def test_the_documented_command_runs_as_printed() -> None:
    """The README's command as printed, in a subprocess (6.6 s at load 5, 1.9 s of CPU)."""
    from tests.printed_support import run_printed
    from tests.rules.test_fund_groups import _printed

    done = run_printed(ROOT, _printed("solvent check examples/drift-markets.toml"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "paid by 1. insurance_fund" in done.stdout and "socialized_loss" in done.stdout
    assert "0 fail, 1 fail as accepted" in done.stdout  # no-haircut: the socialized loss, as the preset accepts

"""The catalog's ``adl-in-deficit-market-only`` (issue 13; docs/portfolio.md decision 5): on a book of
several markets, a trader not itself liquidated keeps its position in every market but the one in
deficit. Judged on the cross-market gap, broken by a step that moves a winner elsewhere, asked of
z3 on the two-market policy, and judged by ``check`` only where the policy declares its markets."""

from __future__ import annotations

import attrs

from solvent.properties.catalog import StepView, get
from solvent.properties.scenarios import build
from solvent.rules.book import Position
from solvent.rules.engine import run
from solvent.rules.events import Trade
from solvent.rules.outcomes import AdlFill
from tests.cli_support import solvent
from tests.rules.test_market_tables import POLICY

TWO = POLICY  # BTC and ETH, each on its own tiers; a fund, then ADL
ONE = attrs.evolve(POLICY, market=())
CLAIM = get("adl-in-deficit-market-only")


def gap_with_bob_long_btc():
    """The cross-market gap with bob, opposite alice in ETH, also long 10 BTC against carol."""
    story = build(TWO, "cross-market-gap")
    events = [*story.events[:-1], Trade("bob", "carol", 10, 10_000), story.events[-1]]
    return run(TWO, story.book, events)[-1]


def test_a_winner_deleveraged_in_eth_keeps_his_btc_and_the_claim_holds() -> None:
    gap = gap_with_bob_long_btc()
    assert [(o.winner, o.lots) for o in gap.outcomes if isinstance(o, AdlFill) and o.lots] == [("bob", 100)]
    view = StepView.of(TWO, gap)
    assert CLAIM.exercised(view) and CLAIM.holds(view)


def test_a_winner_moved_in_the_other_market_breaks_it_by_one_lot() -> None:
    gap = gap_with_bob_long_btc()
    bob = gap.after.account("bob")
    for lots in (9, 11):  # his 10 BTC, one lot either way
        moved = attrs.evolve(bob, size_lots=lots)
        forged = attrs.evolve(gap, after=gap.after.replace_account(gap.after.index("bob"), moved))
        assert not CLAIM.holds(StepView.of(TWO, forged))
    # the liquidated account's own positions close in every market: not the claim's business
    alice = gap.after.account("alice")
    assert [p.size_lots for p in gap.before.account("alice").positions] == [100, 100]
    assert alice.size_lots == 0 and alice.more_positions == (Position(),)


def test_a_one_market_step_is_not_its_business() -> None:
    story = build(ONE, "gap-crash")
    for s in run(ONE, story.book, list(story.events)):
        assert CLAIM.holds(StepView.of(ONE, s)) and not CLAIM.exercised(StepView.of(ONE, s))


def test_check_judges_it_where_the_policy_declares_markets() -> None:
    assert CLAIM.applies(TWO) and not CLAIM.applies(ONE)
    from solvent.verdicts.check import check_policy

    two = check_policy(TWO)
    one = check_policy(ONE)
    assert "adl-in-deficit-market-only" in [v.invariant.id for v in two.verdicts]
    assert "adl-in-deficit-market-only" not in [v.invariant.id for v in one.verdicts]
    (verdict,) = [v for v in two.verdicts if v.invariant.id == "adl-in-deficit-market-only"]
    assert verdict.status.value == "held"


def test_z3_proves_it_on_the_two_market_book() -> None:
    from solvent.solver.bounds import Bounds
    from solvent.solver.prove import prove
    from solvent.solver.verdicts import Verdict

    result = prove(TWO, "adl-in-deficit-market-only", Bounds(accounts=2, effort=20_000_000))
    assert result.verdict is Verdict.PROVED, result
    assert "2 markets (BTC, ETH)" in result.scope.fixed


def test_flat_accounts_never_pay_reads_every_market() -> None:
    """bob, deleveraged in ETH, holds nothing in BTC (the first market): he is not flat, so his
    ADL payment is not a flat account paying (a false alarm on every policy of several markets
    while the claim read the first market only); made flat in every market, he is."""
    gap = run(TWO, (story := build(TWO, "cross-market-gap")).book, list(story.events))[-1]
    bob = gap.before.account("bob")
    assert bob.size_lots == 0 and bob.more_positions[0].size_lots == -100
    claim = get("flat-accounts-never-pay")
    assert claim.holds(StepView.of(TWO, gap))
    flat = attrs.evolve(bob, more_positions=(Position(),))
    forged = attrs.evolve(gap, before=gap.before.replace_account(gap.before.index("bob"), flat))
    assert not claim.holds(StepView.of(TWO, forged))


def test_the_dydx_example_on_three_liquidity_tiers_checks_clean() -> None:
    """``examples/dydx-v4-markets.toml``: BTC-USD, SOL-USD and MKR-USD on dYdX's Large-Cap,
    Mid-Cap and Long-Tail tiers (mainnet genesis); every claim held or accepted as the preset's.
    Its deficit is split by maintenance share (docs/portfolio.md decision 5c), so the cross-market
    gap deleverages in both markets alice held, BTC-USD and SOL-USD, and never in MKR-USD."""
    from pathlib import Path

    from solvent.rules.loading import load_policy

    root = Path(__file__).resolve().parents[2]
    policy = load_policy(root / "examples" / "dydx-v4-markets.toml")
    assert policy.market_names == ("BTC-USD", "SOL-USD", "MKR-USD")
    rates = [(m.tiers[0].initial_ppm, m.tiers[0].maintenance_ppm) for m in (policy.margin, *policy.more_margins)]
    assert rates == [(50_000, 30_000), (100_000, 50_000), (200_000, 100_000)]
    gap = run(policy, (story := build(policy, "cross-market-gap")).book, list(story.events))[-1]
    assert {o.market for o in gap.outcomes if isinstance(o, AdlFill) and o.lots} == {"BTC-USD", "SOL-USD"}
    done = solvent("check", "examples/dydx-v4-markets.toml", "--no-search", cwd=root)
    assert done.exit_code == 0, done.output[-3000:]
    assert "adl-in-deficit-market-only          held" in done.stdout


def test_the_hyperliquid_example_on_its_margin_tiers_checks_clean() -> None:
    """``examples/hyperliquid-markets.toml``: BTC, ETH and SOL on Hyperliquid's mainnet margin tiers
    (MMR half the initial rate at each tier's leverage, the deduction continuous at each floor:
    ETH's 15x tier at 3.3334%, rounded up, with 1,333,400 USDC); every claim held or accepted as
    the preset's."""
    from pathlib import Path

    from solvent.rules.loading import load_policy
    from solvent.rules.margin import maintenance_margin

    root = Path(__file__).resolve().parents[2]
    policy = load_policy(root / "examples" / "hyperliquid-markets.toml")
    assert policy.market_names == ("BTC", "ETH", "SOL")
    eth, sol = policy.more_margins
    # maintenance is continuous at each floor: 100M USDC of ETH at 2% either side, 70M of SOL at 2.5%
    for rule, floor, rate in ((eth, 10_000_000_000, 20_000), (sol, 7_000_000_000, 25_000)):
        assert maintenance_margin(rule, policy.rounding, 1, floor) == floor * rate // 1_000_000
        assert maintenance_margin(rule, policy.rounding, 1, floor - 1) == -(-(floor - 1) * rate // 1_000_000)
    done = solvent("check", "examples/hyperliquid-markets.toml", "--no-search", cwd=root)
    assert done.exit_code == 0, done.output[-3000:]

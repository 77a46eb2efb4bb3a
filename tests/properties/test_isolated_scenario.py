"""The isolated-gap scenario and the example policy that declares isolated margin
(examples/binance-isolated.toml; docs/portfolio.md decision 3a)."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from solvent.cli import main
from solvent.properties import catalog, scenarios
from solvent.properties.catalog import StepView
from solvent.properties.story import ScenarioError
from solvent.rules.book import Role
from solvent.rules.engine import run
from solvent.rules.events import Deposit
from solvent.rules.ledger import Reason
from solvent.rules.loading import load_policy
from solvent.rules.outcomes import Bankrupt, Liquidated
from solvent.rules.presets import load_preset

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "binance-isolated.toml"


def test_the_isolated_position_goes_bankrupt_and_its_owner_pays_nothing() -> None:
    policy = load_policy(EXAMPLE)
    story = scenarios.build(policy, "isolated-gap")
    steps = run(policy, story.book, list(story.events))
    gap = steps[-1]
    assert [o.account for o in gap.outcomes if isinstance(o, (Liquidated, Bankrupt))] == ["alice:PERP"] * 2
    assert gap.after.account("alice").cash_quote == gap.before.account("alice").cash_quote
    for s in steps:
        view = StepView.of(policy, s)
        for claim in ("isolated-loss-contained", "conservation", "no-negative-equity"):
            assert catalog.get(claim).holds(view), (claim, s.event)


def test_it_runs_by_default_only_where_the_policy_declares_isolated_margin() -> None:
    assert "isolated-gap" in scenarios.defaults(load_policy(EXAMPLE))
    assert "isolated-gap" in scenarios.defaults(load_preset("binance"))  # both modes, since decision 3d
    plain = load_preset("binance")
    plain = attrs.evolve(plain, margin=attrs.evolve(plain.margin, modes=()))
    assert "isolated-gap" not in scenarios.defaults(plain)
    cross_only = load_preset("binance")
    cross_only = attrs.evolve(cross_only, margin=attrs.evolve(cross_only.margin, modes=("cross",)))
    with pytest.raises(ScenarioError, match="needs a market that allows isolated margin; 'binance' allows cross"):
        scenarios.build(cross_only, "isolated-gap")


def _readme(command: str, monkeypatch) -> str:
    """Run the README's line for ``command`` as printed, from the repository root."""
    root = EXAMPLE.parents[1]
    line = next(
        line.split("   #")[0].strip()
        for line in (root / "README.md").read_text().splitlines()
        if line.startswith(f"solvent {command} examples/binance-isolated.toml")
    )
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, line.split()[1:])
    assert result.exit_code == 0, (line, result.output)
    return result.output


def test_the_readme_check_holds_isolated_loss_contained_on_the_scenarios(monkeypatch) -> None:
    out = _readme("check", monkeypatch)
    assert "scenario isolated-gap: 7 steps" in out
    row = next(line for line in out.splitlines() if line.startswith("isolated-loss-contained"))
    assert "held" in row and "2 of " in row


@pytest.mark.deep  # about 7 s beside other work; the same proof, direct: tests/solver/test_isolated_proof.py
def test_the_readme_proof_proves_it_on_two_markets(monkeypatch) -> None:
    out = _readme("prove", monkeypatch)
    assert "proved" in out and "isolated positions (alice's in PERP2) on their own margin" in out


def test_per_market_funds_an_isolated_market_is_paid_by_its_own_fund() -> None:
    """dYdX v4: an isolated market has an insurance fund of its own (docs/venues.md#isolated-margin).
    With ``[waterfall] scope = "per_market"``, BTC cross-only and ETH isolated-only, the isolated ETH position's
    deficit is paid by ETH's fund alone; BTC's fund and alice's cross cash keep their money."""
    from tests.rules.test_market_funds import PER

    policy = attrs.evolve(
        PER,
        margin=attrs.evolve(PER.margin, modes=("cross",)),
        market=(PER.market[0], attrs.evolve(PER.market[1], modes=("isolated",))),
    )
    story = scenarios.build(policy, "isolated-gap")
    seed = Deposit("insurance_fund", 10**7, market="ETH")
    events = [seed if isinstance(e, Deposit) and e.account == "insurance_fund" else e for e in story.events]
    gap = run(policy, story.book, events)[-1]
    (bankrupt,) = [o for o in gap.outcomes if isinstance(o, Bankrupt)]
    assert bankrupt.account == "alice:ETH"
    paid = [(t.source, t.destination, t.amount_quote) for t in gap.transfers if t.reason is Reason.INSURANCE_FUND]
    assert paid == [("insurance_fund#ETH", "alice:ETH", bankrupt.deficit_quote)]
    assert gap.after.account("alice").cash_quote == gap.before.account("alice").cash_quote
    assert gap.after.role(Role.INSURANCE_FUND).cash_quote == gap.before.role(Role.INSURANCE_FUND).cash_quote

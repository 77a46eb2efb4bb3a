"""The scenario ``depositor-sunk-by-cut`` (properties/scenarios.py, LENDING): the story of
docs/model.md#a-depositor-the-cut-sinks-is-resolved-in-turn-session-30 and
#the-settlement-currencys-own-bankruptcy-session-31, built from an empty book, run by default for
every policy that lends a collateral asset.

alice deposits the lent asset, goes long against carol, the mark falls and she sells back: flat, her
loss a negative settlement balance her deposit backs. bob borrows all of her deposit and goes long
against dave; the mark rises to dave's bankruptcy price with the cost to close, so dave's short is
closed into the order book whole. The mark crashes: bob is closed, his cash buys back about a quarter
of his borrow, the rest is cut from alice's deposit (the deposit index), which sinks her; she is
resolved in bob's turn, the fund holds its floor, nobody holds a position for the socialized loss, and
the settlement currency's depositors (carol, the order book, bob's change) pay what she owes. On
backpack the lender ADL pays her the oracle value of what it takes instead: bob carries the debt.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties.catalog import StepView, get
from solvent.properties.scenarios import build, defaults
from solvent.properties.story import ScenarioError
from solvent.rules.assets import account_value
from solvent.rules.engine import run, step
from solvent.rules.events import Deposit, MarkPrice
from solvent.rules.ledger import Reason, Transfer
from solvent.rules.outcomes import Bankrupt, DebtCarried, Residual, SettlementCut
from solvent.rules.presets import load_preset
from solvent.verdicts.check import ClaimStatus, check_policy

NAME = "depositor-sunk-by-cut"
#: the claims a depositor left below zero breaks (session 30's finding), and two that must hold anyway
SINKS = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed")
ALWAYS = ("conservation", "deficit-charged-once", "insurance-fund-non-negative")


def _steps(preset: str, **changes: object):
    policy = load_preset(preset)
    policy = attrs.evolve(policy, **changes) if changes else policy
    story = build(policy, NAME)
    return policy, story, run(policy, story.book, list(story.events))


def _worth(policy, step, name: str) -> int:
    return account_value(policy, step.after.assets, step.after.account(name))


def _holds(policy, step, claim: str) -> bool:
    return get(claim).holds(StepView.of(policy, step))


def test_it_runs_by_default_for_every_policy_that_lends_and_is_refused_by_one_that_lends_nothing() -> None:
    for preset in ("drift", "mango-v4", "backpack"):
        assert NAME in defaults(load_preset(preset)), preset
    assert NAME not in defaults(load_preset("binance"))
    with pytest.raises(
        ScenarioError, match=f"the scenario {NAME} needs a \\[\\[collateral\\]\\] table with lends = true"
    ):
        build(load_preset("binance"), NAME)


@pytest.mark.parametrize("preset", ["drift", "mango-v4", "backpack"])
def test_it_starts_from_an_empty_book_with_deposits_trades_borrows_and_moves(preset: str) -> None:
    policy, story, steps = _steps(preset)
    assert all(a.cash_quote == 0 and set(a.asset_balances) <= {0} and a.size_lots == 0 for a in story.book.accounts)
    kinds = {type(e).__name__ for e in story.events}
    assert kinds == {"Deposit", "AssetDeposit", "Trade", "AssetWithdraw", "MarkPrice"}
    # the fund holds its floor only (Drift keeps one quantum): empty above it
    fund = [e.amount_quote for e in story.events if isinstance(e, Deposit) and e.account == "insurance_fund"]
    assert fund == ([1] if preset == "drift" else [])
    before = steps[-2].after
    alice = before.account("alice")
    # alice flat, owing settlement cash her lent deposit backs; nobody but bob holds a position
    assert alice.size_lots == 0 and alice.cash_quote < 0 < alice.asset_balances[0]
    assert [a.name for a in before.accounts if a.size_lots] == ["bob", "liquidity"]
    assert before.account("bob").asset_balances[0] == -alice.asset_balances[0]  # all of it borrowed
    assert isinstance(story.events[-1], MarkPrice)


@pytest.mark.parametrize("preset", ["drift", "mango-v4", "backpack"])
def test_the_rise_closes_daves_short_whole_at_the_highest_price_that_does_not_bankrupt_him(preset: str) -> None:
    # one tick higher and his equity no longer pays for the close: dave bankrupt, his deficit down the
    # waterfall onto bob's long (the socialized loss) before the story's crash
    policy, story, steps = _steps(preset)
    rise = story.events[-2]
    assert isinstance(rise, MarkPrice) and rise.price_quote > steps[-3].after.market.mark_quote
    assert steps[-2].after.account("dave").size_lots == 0 and steps[-2].after.account("dave").cash_quote >= 0
    assert not any(isinstance(o, Bankrupt) for o in steps[-2].outcomes)
    higher = step(policy, steps[-3].after, MarkPrice(rise.price_quote + 1))
    assert [o.account for o in higher.outcomes if isinstance(o, Bankrupt)] == ["dave"]


#: the crash step on each preset after the settlement of bob's long, in the engine's order: bob's
#: buy-back at the oracle price, the rest of his borrow cut from alice's deposit (the deposit index),
#: his fill, her last quanta sold, the fund's cover above its floor (what bob's penalty put in), and
#: the settlement cut of what she still owes from every holder of settlement cash, rounded up, the
#: dust to the fund; then (alice's deficit, what the waterfall left of it: the Residual and the cut)
CRASH = {
    "drift": (
        [
            Transfer("liquidity@SOL", "bob@SOL", 558, Reason.BORROW_REPAYMENT),
            Transfer("bob", "liquidity", 55_800, Reason.BORROW_REPAYMENT),
            Transfer("alice@SOL", "bob@SOL", 1_942, Reason.DEPOSIT_INDEX_LOSS),
            Transfer("bob", "liquidity", 6_608, Reason.LIQUIDATION_SLIPPAGE),
            Transfer("bob", "insurance_fund", 59, Reason.LIQUIDATION_PENALTY),
            Transfer("alice@SOL", "liquidity@SOL", 558, Reason.COLLATERAL_SALE),
            Transfer("liquidity", "alice", 55_800, Reason.COLLATERAL_SALE),
            Transfer("insurance_fund", "alice", 60, Reason.INSURANCE_FUND),
            Transfer("carol", "alice", 9_321, Reason.DEPOSIT_INDEX_LOSS),
            Transfer("liquidity", "alice", 84_820, Reason.DEPOSIT_INDEX_LOSS),
            Transfer("alice", "insurance_fund", 1, Reason.PRO_RATA_DUST),
        ],
        (94_200, 94_140),
    ),
    "mango-v4": (
        [
            Transfer("liquidity@USDC", "bob@USDC", 552, Reason.BORROW_REPAYMENT),
            Transfer("bob", "liquidity", 55_200, Reason.BORROW_REPAYMENT),
            Transfer("alice@USDC", "bob@USDC", 1_948, Reason.DEPOSIT_INDEX_LOSS),
            Transfer("bob", "liquidity", 7_192, Reason.LIQUIDATION_SLIPPAGE),
            Transfer("alice@USDC", "liquidity@USDC", 552, Reason.COLLATERAL_SALE),
            Transfer("liquidity", "alice", 55_200, Reason.COLLATERAL_SALE),
            Transfer("bob", "alice", 2, Reason.DEPOSIT_INDEX_LOSS),
            Transfer("carol", "alice", 13_540, Reason.DEPOSIT_INDEX_LOSS),
            Transfer("dave", "alice", 2, Reason.DEPOSIT_INDEX_LOSS),
            Transfer("liquidity", "alice", 118_759, Reason.DEPOSIT_INDEX_LOSS),
            Transfer("alice", "insurance_fund", 3, Reason.PRO_RATA_DUST),
        ],
        (132_300, 132_300),
    ),
}


@pytest.mark.parametrize("preset", ["drift", "mango-v4"])
def test_the_crash_cuts_alices_deposit_sinks_her_and_the_settlement_currencys_depositors_pay(preset: str) -> None:
    policy, _, steps = _steps(preset)
    crash = steps[-1]
    transfers, (deficit, left) = CRASH[preset]
    assert [t for t in crash.transfers if t.reason is not Reason.SETTLEMENT] == transfers
    # before the crash she is worth more than zero; the cut of her deposit takes more than that
    assert 0 < _worth(policy, steps[-2], "alice") < transfers[2].amount_quote * crash.after.assets[0].price_quote
    # bob's borrow goes down the asset's waterfall (no Bankrupt of his); alice is resolved in his turn
    assert [o for o in crash.outcomes if isinstance(o, Bankrupt)] == [Bankrupt("alice", deficit)]
    # nobody holds a position for the socialized loss: the waterfall leaves it, the settlement cut pays it
    assert [o for o in crash.outcomes if isinstance(o, Residual)] == [Residual("alice", left)]
    assert [o for o in crash.outcomes if isinstance(o, SettlementCut)] == [SettlementCut("alice", left)]
    assert all(a.size_lots == 0 for a in crash.after.accounts)
    assert _worth(policy, crash, "alice") == 0
    assert all(_worth(policy, crash, a.name) >= 0 for a in crash.after.accounts)
    for s in steps:
        assert all(_holds(policy, s, c) for c in SINKS + ALWAYS), s.event
    # the venues' documented trade-offs: a depositor's deposit cut for another's borrow (both accepted)
    assert not _holds(policy, crash, "spot-isolated") and not _holds(policy, crash, "principal-protected")


def test_on_backpack_the_lender_adl_pays_alice_in_usd_and_bob_carries_the_debt() -> None:
    policy, _, steps = _steps("backpack")
    crash = steps[-1]
    adl = [t for t in crash.transfers if t.reason is Reason.LENDER_ADL]
    assert adl == [
        Transfer("alice@SOL", "bob@SOL", 1_876, Reason.LENDER_ADL),
        Transfer("bob", "alice", 187_600, Reason.LENDER_ADL),
    ]
    assert _worth(policy, crash, "alice") == _worth(policy, steps[-2], "alice")  # paid the oracle value
    assert DebtCarried("bob", 187_533) in crash.outcomes
    assert not any(isinstance(o, SettlementCut) for o in crash.outcomes)
    # its accepted trade-offs: the debt carried below zero; a lender's deposit taken (not its principal)
    assert not _holds(policy, crash, "no-negative-equity") and _holds(policy, crash, "principal-protected")


def test_without_the_settlement_bankruptcy_alice_is_left_below_zero_and_check_reports_it() -> None:
    # the mutant: drift's [settlement] table left out; the fund and the socialized loss pay nothing
    policy, _, steps = _steps("drift", settlement=None)
    crash = steps[-1]
    assert _worth(policy, crash, "alice") == -94_140
    assert not any(isinstance(o, SettlementCut) for o in crash.outcomes)
    assert not _holds(policy, crash, "no-negative-equity")
    report = check_policy(policy, scenarios=[NAME], invariants=list(SINKS))
    assert {v.invariant.id: v.status for v in report.verdicts} == {c: ClaimStatus.FAILS for c in SINKS}


@pytest.mark.parametrize("preset", ["drift", "mango-v4", "backpack"])
def test_check_on_the_scenario_fails_only_what_the_preset_accepts(preset: str) -> None:
    report = check_policy(load_preset(preset), scenarios=[NAME])
    fails = {v.invariant.id: v.status for v in report.verdicts if v.status in (ClaimStatus.FAILS, ClaimStatus.ACCEPTED)}
    assert set(fails.values()) == {ClaimStatus.ACCEPTED}
    expected = (
        {"spot-isolated", "principal-protected"}
        if preset != "backpack"
        else {"spot-isolated", "no-negative-equity", "loss-bounded-by-collateral", "claims-backed"}
    )
    assert set(fails) == expected


def test_the_command_docs_model_prints_and_bad_input() -> None:
    """docs/model.md#the-scenario-depositor-sunk-by-cut-session-31 prints the drift command; a policy
    that lends nothing is bad input naming what it needs (exit 2, no traceback)."""
    import re
    import shlex
    from pathlib import Path

    from click.testing import CliRunner

    from solvent.cli import main

    text = (Path(__file__).resolve().parents[2] / "docs" / "model.md").read_text(encoding="utf-8")
    (line,) = re.findall(rf"^solvent check drift --scenario {NAME} --no-search.*$", text, re.MULTILINE)
    out = CliRunner().invoke(main, shlex.split(line.split("#")[0])[1:])
    assert out.exit_code == 0, out.output
    assert "0 fail, 2 fail as accepted" in out.output and "0 fail, 2 fail as accepted" in line
    bad = CliRunner().invoke(main, ["check", "binance", "--scenario", NAME, "--no-search"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert f"the scenario {NAME} needs a [[collateral]] table with lends = true" in bad.output


def _lending(preset: str):
    """``preset`` with drift's lent SOL table added: a lending policy the story was not written for."""
    return attrs.evolve(load_preset(preset), collateral=(load_preset("drift").collateral[0],))


@pytest.mark.parametrize(
    ("preset", "why"),
    [
        # Reg T's initial margin refuses alice's opening trade on the story's deposit
        ("broker-reg-t", "an event was refused while the story was told: Trade(buyer='alice'"),
        # Gen B's rules close bob's long before the crash the story needs
        ("percolator-gen-b", "bob's long was closed before the crash"),
    ],
)
def test_a_policy_whose_rules_do_not_let_it_unfold_reports_it_not_told(preset: str, why: str) -> None:
    # the story runs by default for every lending policy: where its own rules stop it, check says so
    # and judges the rest (an internal error and a traceback before: a ZeroDivisionError on Gen B)
    from solvent.properties.story import Untold
    from solvent.verdicts.check import run_scenario

    policy = _lending(preset)
    with pytest.raises(Untold, match="^" + why.replace("(", r"\(")):
        build(policy, NAME)
    r = run_scenario(policy, NAME)
    assert (r.story, r.steps) == (None, ())
    assert r.rejected is not None and r.rejected.startswith("not told on this policy: " + why)
    report = check_policy(policy)
    assert [x.rejected for x in report.runs if x.name == NAME] == [r.rejected]
    assert len(report.verdicts) > 0


def test_the_cli_reports_it_not_told_without_a_traceback(tmp_path) -> None:
    from click.testing import CliRunner

    from solvent.cli import main
    from solvent.rules.loading import dumps_policy

    path = tmp_path / "gen-b-lends.toml"
    path.write_text(dumps_policy(_lending("percolator-gen-b")), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(path), "--no-search"])
    assert result.exit_code in (0, 1), result.output  # a verdict, not bad input (2) nor an internal error (4)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert (
        f"scenario {NAME}: rejected: not told on this policy: bob's long was closed before the crash" in result.output
    )


def test_any_scenario_refused_while_its_story_is_sized_is_reported_not_told(monkeypatch) -> None:
    # the safety net for every scenario that runs the engine while it sizes its story (lenders-pay-perp-loss
    # reads the book after its setup to size the gap): an event refused there is reported, not raised
    from solvent.properties import scenarios
    from solvent.rules.engine import RejectedEvent
    from solvent.rules.events import MarkPrice as Move
    from solvent.verdicts.check import run_scenario

    def refused(policy, book, events):
        raise RejectedEvent(Move(1), "refused for the test")

    monkeypatch.setattr(scenarios, "_after", refused)
    r = run_scenario(load_preset("drift"), "lenders-pay-perp-loss")
    assert (r.story, r.steps) == (None, ())
    assert r.rejected == "not told on this policy: MarkPrice(price_quote=1) rejected: refused for the test"

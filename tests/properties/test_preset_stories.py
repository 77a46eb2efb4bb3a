"""Each bundled preset shows its documented behaviour: who pays when a gap bankrupts an account."""

from __future__ import annotations

import attrs
import pytest

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.properties.scenarios import gap_price, leveraged_deposit
from solvent.rules.book import new_book
from solvent.rules.contract import lot_value, to_engine
from solvent.rules.engine import run
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.ledger import Reason
from solvent.rules.outcomes import AdlFill, Bankrupt, DebtCarried, DepositAbsorbed, LayerUsed
from solvent.rules.presets import load_preset, preset_names
from solvent.verdicts.check import ClaimStatus, check_policy


def two_account_crash(policy, *, fund_quote: int, redeposit: bool):
    """Alice long 100 lots near the policy's maximum leverage against Bob; the mark gaps through her
    bankruptcy price (twice her equity per lot); then Alice may deposit again."""
    mark, lots = 10_000, 100  # told in the venue's terms: on an inverse contract alice is long contracts
    value = lot_value(policy.contract, mark)
    deposit = leveraged_deposit(policy, lots, mark)
    events = [Deposit("liquidity", 10**9), Deposit("alice", deposit), Deposit("bob", lots * value * 2)]
    if fund_quote:
        events.append(Deposit("insurance_fund", fund_quote))
    events.append(to_engine(policy.contract, Trade("alice", "bob", lots, mark)))
    book = new_book(mark_quote=value, traders=("alice", "bob"))
    opened = run(policy, book, events)[-1].after
    events.append(to_engine(policy.contract, MarkPrice(gap_price(policy, opened, "alice", mark))))
    if redeposit:
        events.append(Deposit("alice", deposit))
    return run(policy, book, events)


def holds(policy, step, invariant_id: str) -> bool:
    return catalog.get(invariant_id).holds(StepView.of(policy, step))


class TestConservationEverywhere:
    """Conservation and open-interest balance hold for every preset in every scenario."""

    @pytest.mark.parametrize("name", preset_names())
    def test_conservation(self, name):
        report = check_policy(load_preset(name))
        verdicts = {v.invariant.id: v for v in report.verdicts}
        assert not [r.name for r in report.runs if r.rejected]
        for inv in ("conservation", "open-interest-balance"):
            assert verdicts[inv].status is ClaimStatus.HELD
            assert verdicts[inv].steps_checked == sum(len(r.steps) for r in report.runs)
        assert verdicts["deficit-charged-once"].status is ClaimStatus.HELD


class TestHyperliquid:
    """ADL at the previous mark, as Hyperliquid's docs state it, charges winners the whole move (docs/venues.md#hyperliquid-adl)."""

    def test_winners_pay_more_than_the_deficit(self):
        policy = load_preset("hyperliquid")
        crash = two_account_crash(policy, fund_quote=0, redeposit=False)[-1]
        bankrupt = next(o for o in crash.outcomes if isinstance(o, Bankrupt))
        paid = sum(t.amount_quote for t in crash.transfers if t.reason is Reason.ADL and t.source == "bob")
        assert paid > bankrupt.deficit_quote  # the whole move, not the bankrupt account's gap
        assert not holds(policy, crash, "adl-price-fair")  # accepted by the preset, with its source
        # the excess is the liquidator vault's (it took the account over), so the deficit is still
        # charged once and the liquidated trader ends at zero, not with money back
        surplus = sum(t.amount_quote for t in crash.transfers if t.reason is Reason.ADL_SURPLUS)
        assert surplus == paid - bankrupt.deficit_quote
        assert crash.after.account("alice").cash_quote == 0
        assert (
            crash.after.account("backstop_vault").cash_quote - crash.before.account("backstop_vault").cash_quote
            == surplus
        )
        assert holds(policy, crash, "deficit-charged-once")


class TestBackpack:
    """Debt carry: the loser's deficit stays on the account and eats the next deposit (docs/venues.md#backpack-debt-carry)."""

    def test_deposit_after_liquidation_is_absorbed(self):
        policy = load_preset("backpack")
        steps = two_account_crash(policy, fund_quote=0, redeposit=True)
        crash, redeposit = steps[-2], steps[-1]
        carried = [o for o in crash.outcomes if isinstance(o, DebtCarried)]
        assert carried and carried[0].account == "alice"
        debt = -crash.after.account("alice").cash_quote
        assert debt == carried[0].amount_quote > 0
        absorbed = min(debt, redeposit.event.amount_quote)  # the whole deposit if the hole is deeper
        assert [o for o in redeposit.outcomes if isinstance(o, DepositAbsorbed)] == [DepositAbsorbed("alice", absorbed)]
        assert not holds(policy, redeposit, "deposit-not-absorbed")
        assert not holds(policy, crash, "no-negative-equity")
        assert holds(policy, crash, "no-haircut")


class TestBinance:
    """Insurance fund, then ADL at the bankruptcy price (docs/venues.md#binance-adl)."""

    def test_fund_pays_while_it_has_money(self):
        policy = load_preset("binance")
        steps = two_account_crash(policy, fund_quote=10**9, redeposit=True)
        crash, redeposit = steps[-2], steps[-1]
        assert [o.layer for o in crash.outcomes if isinstance(o, LayerUsed)] == ["insurance_fund"]
        for inv in ("no-haircut", "no-negative-equity", "waterfall-order"):
            assert holds(policy, crash, inv), inv
        assert holds(policy, redeposit, "deposit-not-absorbed")

    def test_exhausted_fund_means_adl_haircut(self):
        policy = load_preset("binance")
        steps = two_account_crash(policy, fund_quote=1, redeposit=True)
        crash, redeposit = steps[-2], steps[-1]
        assert [o.layer for o in crash.outcomes if isinstance(o, LayerUsed)] == ["insurance_fund", "adl"]
        fills = [o for o in crash.outcomes if isinstance(o, AdlFill) and o.lots]
        assert [(f.winner, f.lots) for f in fills] == [("bob", 100)]
        assert not holds(policy, crash, "no-haircut")
        for inv in ("no-negative-equity", "waterfall-order", "adl-price-fair", "deficit-charged-once"):
            assert holds(policy, crash, inv), inv
        assert holds(policy, redeposit, "deposit-not-absorbed")


class TestBrokerRegT:
    """The broker fronts the deficit and the customer owes it (docs/venues.md#reg-t-broker-debt)."""

    def test_customer_owes_and_repays_from_the_next_deposit(self):
        policy = load_preset("broker-reg-t")
        steps = two_account_crash(policy, fund_quote=0, redeposit=True)
        crash, redeposit = steps[-2], steps[-1]
        alice = crash.after.account("alice")
        assert alice.cash_quote == 0 and alice.debt_quote > 0
        assert holds(policy, crash, "no-negative-equity") and holds(policy, crash, "claims-backed")
        assert not holds(policy, crash, "loss-bounded-by-collateral")
        assert redeposit.after.account("alice").debt_quote == max(0, alice.debt_quote - redeposit.event.amount_quote)
        assert not holds(policy, redeposit, "deposit-not-absorbed")


class TestOkx2018:
    """Fund, then clawback of the winners' profit (docs/venues.md#okex-clawback-2018, #okex-btc0928-clawback-2018)."""

    def test_winner_is_clawed_back(self):
        policy = load_preset("okx-2018")
        crash = two_account_crash(policy, fund_quote=1, redeposit=False)[-1]
        layers = [o.layer for o in crash.outcomes if isinstance(o, LayerUsed)]
        assert layers == ["insurance_fund", "clawback"]
        assert not holds(policy, crash, "no-haircut")
        assert holds(policy, crash, "no-negative-equity") and holds(policy, crash, "principal-protected")


class TestDrift:
    """Fund (capped), fee pool, then socialized loss over open interest (docs/venues.md#drift-v2-bankruptcy)."""

    def test_open_interest_pays_what_the_fund_does_not(self):
        policy = load_preset("drift")
        crash = two_account_crash(policy, fund_quote=1, redeposit=False)[-1]
        layers = [o.layer for o in crash.outcomes if isinstance(o, LayerUsed)]
        assert layers[0] == "insurance_fund" and layers[-1] == "socialized_loss"
        assert not holds(policy, crash, "no-haircut")
        assert holds(policy, crash, "no-negative-equity")


class TestPercolator:
    """Haircut ratio: winners' profit pays, principal never does; Gen B after its fund through its
    side index (the opposing position per lot, here out of its profit), Gen A (also named
    percolator) with no fund layer (docs/venues.md#percolator-generations)."""

    @pytest.mark.parametrize(
        ("name", "layers"),
        [
            ("percolator-gen-b", ["insurance_fund", "socialized_loss"]),
            ("percolator-gen-a", ["haircut_ratio"]),
            ("percolator", ["haircut_ratio"]),
        ],
    )
    def test_profit_haircut_never_reaches_principal(self, name: str, layers: list[str]):
        policy = load_preset(name)
        crash = two_account_crash(policy, fund_quote=1, redeposit=False)[-1]
        assert [o.layer for o in crash.outcomes if isinstance(o, LayerUsed)] == layers
        assert not holds(policy, crash, "no-haircut")
        assert holds(policy, crash, "principal-protected") and holds(policy, crash, "no-negative-equity")


class TestBybitFeeToClose:
    """Bybit's bankruptcy price includes the fee to close (docs/venues.md#bybit-fees): the winners'
    price covers it and the bankrupt account pays it on, so it is not part of the deficit."""

    def test_the_fee_passes_through_and_one_quantum_more_is_charged_twice(self):
        policy = load_preset("bybit")
        crash = two_account_crash(policy, fund_quote=0, redeposit=False)[-1]
        fees = [t for t in crash.transfers if t.reason is Reason.TRADING_FEE and t.source == "alice"]
        assert fees and all(t.amount_quote > 0 for t in fees)
        assert holds(policy, crash, "deficit-charged-once")
        # the winner pays one quantum more into the bankrupt account than the deficit and the fee
        more = tuple(
            attrs.evolve(t, amount_quote=t.amount_quote + 1) if t.reason is Reason.ADL else t for t in crash.transfers
        )
        assert not holds(policy, attrs.evolve(crash, transfers=more), "deficit-charged-once")
        # without fee_to_close the same fee is not taken off what the bankrupt account kept
        plain = attrs.evolve(policy, liquidation=attrs.evolve(policy.liquidation, fee_to_close=False))
        assert not holds(plain, crash, "deficit-charged-once")

"""A depositor left below zero by a borrower's unpaid borrow, at an oracle move of the lent asset and at
a mark move: found by hand inside the assumptions of ``solvent check``'s all-cross question on Drift
and Mango v4 (session 30, helper assetdec;
docs/solver-notes.md#asset-price-events-in-checks-questions-session-30), and resolved in turn since
(the lead's decision, session 30, helper depositor:
docs/solver-notes.md#a-depositor-the-cut-sinks-is-resolved-in-turn-session-30,
docs/model.md#a-depositor-the-cut-sinks-is-resolved-in-turn-session-30).

Check asks every claim of a policy with ``[[collateral]]`` on a book of two traders holding its first
asset, over one mark move or one oracle move of that asset (``verdicts/proofs.py``).

- alice holds 100 quanta of the lent asset at 100 and cash −8,000 (a loss her deposit backs: her
  initial margin exactly covered, −8,000 + 0.8 × 10,000 = 0); bob holds cash 12,000 and has borrowed
  her 100 quanta (his initial margin exactly covered at the 1.2 liability weight).
- The asset's oracle moves to 7,999. Bob's borrow at 1.1 is above his 12,000: his loan is exchanged
  (``engine._exchange_loan``): he buys back ``⌊12,000 / 7,999⌋ = 1`` quantum at the oracle price
  (``lending.repay_borrows``) and keeps the change, 4,001; the 99 he cannot buy go down the asset's
  waterfall, the fund (which buys none: it holds less than a quantum's price above its floor), then
  the deposit index (``lending._deposit_index_loss``): alice, the one other depositor, pays all 99 and
  is left with 1 quantum and her −8,000: worth −1. At 8,000 she is worth 0, at 8,001 worth 1.

The same at a **mark move**, with no rounding to it: alice holds 100 quanta at 100 and cash −4,901,
bob has borrowed them with cash 14,000 and is long 100 lots at 100 against the order book (the
liquidity account short 100), each at its initial margin; the mark falls to 10. Bob's settlement takes
9,000; he is closed (``bankruptcy.settle_collateral``): his 4,900 left beyond the slippage buy back 49
quanta, the 51 left are cut from alice's deposit, and she is worth −1 (0 at −4,900, +1 at −4,899;
−3,100 from −8,000).

The engine now resolves her in bob's turn (``bankruptcy.resolve_sunk``, run by
``engine.liquidation_turn``): a trader at or above zero at the turn's start that the turn sinks below
zero, flat or not, is liquidated and resolved as the cascade resolves a payer (her collateral sold,
then her deficit down the policy's waterfall), once. With the fund holding 99 above its floor
(``FUND``) it pays her 1 and she ends at 0; with the fund empty no layer pays (nobody holds a position
for the socialized loss once bob is closed) and what is left stays on her, noted as a ``Residual``: the
three claims still fail there, as on any deficit no layer pays.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties.catalog import StepView, get
from solvent.rules import bankruptcy, engine
from solvent.rules.arith import and_
from solvent.rules.assets import account_value
from solvent.rules.book import Asset, Book, Role, new_book
from solvent.rules.engine import step
from solvent.rules.events import AssetPrice, MarkPrice
from solvent.rules.ledger import Reason, Transfer
from solvent.rules.margin import open_lots
from solvent.rules.outcomes import Bankrupt, Residual, SettlementCut
from solvent.rules.policy import Policy
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import InsuranceFund, TokenLayer
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds, for_policy

PRESETS = ("drift", "mango-v4")
#: the claims the story breaks where alice is left below zero (and that hold where she is not)
BROKEN = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed")
#: the fund's cash above its floor in the funded variant: less than a quantum's price, so it buys none
#: of bob's unpaid borrow (the asset's waterfall), and 99 for alice's deficit (the policy's waterfall)
FUND = 99


def _floor(policy: Policy) -> int:
    """The fund's floor, the same for the policy's waterfall and the asset's on both presets."""
    layer = policy.layer(InsuranceFund)
    assert layer is not None and layer.floor_quote == policy.collateral[0].fund_floor_quote
    return layer.floor_quote


def _with(book: Book, changes: dict[str, dict[str, object]], net: int) -> Book:
    accounts = tuple(attrs.evolve(a, **changes[a.name]) if a.name in changes else a for a in book.accounts)
    return attrs.evolve(book, accounts=accounts, net_deposits_quote=net)


def _start(policy: Policy, fund: int = 0) -> Book:
    """The oracle-move story's book (see the module docstring), on the shape of check's question; the
    fund holds ``fund`` above its floor."""
    asset = policy.collateral[0].name
    book = new_book(mark_quote=100, traders=("alice", "bob"), assets=(Asset(asset, 100),))
    cash = _floor(policy) + fund
    changes: dict[str, dict[str, object]] = {
        "alice": {"cash_quote": -8_000, "asset_balances": (100,)},
        "bob": {"cash_quote": 12_000, "asset_balances": (-100,)},
        "insurance_fund": {"cash_quote": cash},
    }
    return _with(book, changes, 4_000 + cash)


def _check_bounds(policy: Policy) -> Bounds:
    """The bounds of check's all-cross question on ``policy`` (N = 2, its first asset, mark and oracle moves)."""
    asset = policy.collateral[0].name
    bounds = Bounds(accounts=2, events=1, assets=1, asset_names=(asset,), event_kinds=("mark", "asset-price"))
    return for_policy(bounds, policy)


def _worth(policy: Policy, book: Book, name: str) -> int:
    return account_value(policy, book.assets, book.account(name))


def _inside(policy: Policy, book: Book) -> list[str]:
    return [a.name for a in book_assumptions(policy, book, _check_bounds(policy)) if a.holds is not True]


@pytest.mark.parametrize("preset", PRESETS)
def test_the_start_is_inside_checks_assumptions_each_trader_at_its_initial_margin(preset: str) -> None:
    policy = load_preset(preset)
    book = _start(policy)
    assert _inside(policy, book) == []
    assert _inside(policy, _start(policy, FUND)) == []
    assert (_worth(policy, book, "alice"), _worth(policy, book, "bob")) == (2_000, 2_000)


def _claims(policy: Policy, s: engine.Step, alice: int) -> None:
    view = StepView.of(policy, s)
    assert [get(c).holds(view) for c in BROKEN] == [alice >= 0] * len(BROKEN)
    assert get("conservation").holds(view)
    assert get("deficit-charged-once").holds(view)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize(
    ("price", "fund", "alice"), [(7_999, 0, 0), (7_999, FUND, 0), (8_000, FUND, 0), (8_001, FUND, 1)]
)
def test_the_depositor_the_cut_sinks_is_resolved_in_the_borrowers_turn(
    preset: str, price: int, fund: int, alice: int
) -> None:
    policy = load_preset(preset)
    asset = policy.collateral[0].name
    s = step(policy, _start(policy, fund), AssetPrice(asset, price))
    cut = (
        Transfer(f"liquidity@{asset}", f"bob@{asset}", 1, Reason.BORROW_REPAYMENT),
        Transfer("bob", "liquidity", price, Reason.BORROW_REPAYMENT),
        Transfer(f"alice@{asset}", f"bob@{asset}", 99, Reason.DEPOSIT_INDEX_LOSS),
    )
    assert s.transfers[:3] == cut
    sunk = price == 7_999
    # the change, under one quantum at the price; with the fund empty it pays alice's last quantum
    assert s.after.account("bob").cash_quote == 12_000 - price - (sunk and fund == 0)
    if sunk:  # sunk by one quantum: her last quantum sold, her −1 down the waterfall
        sale = (
            Transfer(f"alice@{asset}", f"liquidity@{asset}", 1, Reason.COLLATERAL_SALE),
            Transfer("liquidity", "alice", 7_999, Reason.COLLATERAL_SALE),
        )
        # the fund pays it; empty, the settlement currency's depositors do: bob holds the only cash
        # (the order book's is back at 0 once it bought her quantum)
        paid = (Transfer("insurance_fund", "alice", 1, Reason.INSURANCE_FUND),) if fund else ()
        cut = () if fund else (Transfer("bob", "alice", 1, Reason.DEPOSIT_INDEX_LOSS),)
        assert s.transfers[3:] == sale + paid + cut
        assert Bankrupt("alice", 1) in s.outcomes
        assert (Residual("alice", 1) in s.outcomes) is (fund == 0)  # what the waterfall left
        assert (SettlementCut("alice", 1) in s.outcomes) is (fund == 0)  # and who then paid it
    else:  # not sunk: nothing resolves her
        assert s.transfers == cut
        assert not any(isinstance(o, Bankrupt) for o in s.outcomes)
    assert _worth(policy, s.after, "alice") == alice
    _claims(policy, s, alice)


@pytest.mark.parametrize("preset", PRESETS)
def test_without_the_deposit_index_the_depositor_keeps_her_deposit(preset: str) -> None:
    # the mutant: the lent asset's waterfall without its deposit_index layer; bob's 99 stay his negative
    # balance (the venue's bad debt: bob, not alice, is then below zero) and alice keeps 100 quanta
    policy = load_preset(preset)
    rule = policy.collateral[0]
    assert TokenLayer.DEPOSIT_INDEX in rule.bankruptcy
    layers = tuple(x for x in rule.bankruptcy if x is not TokenLayer.DEPOSIT_INDEX)
    mutant = attrs.evolve(
        policy, collateral=(attrs.evolve(rule, bankruptcy=layers), *policy.collateral[1:]), settlement=None
    )
    s = step(mutant, _start(mutant), AssetPrice(rule.name, 7_999))
    assert _worth(mutant, s.after, "alice") == -8_000 + 100 * 7_999
    assert s.after.account("bob").asset_balances == (-99,)
    assert _worth(mutant, s.after, "bob") == 12_000 - 7_999 - 99 * 7_999


def _before_the_crash(policy: Policy, alice_cash: int, fund: int = 0, carol: bool = False) -> Book:
    """The mark-move story's book (module docstring): bob long 100 against the order book, his borrow
    of alice's 100 quanta behind it; the fund holds ``fund`` above its floor; ``carol``: a third
    trader, holding nothing, after them."""
    asset = policy.collateral[0].name
    traders = ("alice", "bob", "carol") if carol else ("alice", "bob")
    book = new_book(mark_quote=100, traders=traders, assets=(Asset(asset, 100),))
    cash = _floor(policy) + fund
    changes: dict[str, dict[str, object]] = {
        "alice": {"cash_quote": alice_cash, "asset_balances": (100,)},
        "bob": {"cash_quote": 14_000, "asset_balances": (-100,), "size_lots": 100, "cost_quote": 10_000},
        "liquidity": {"cash_quote": 12_000, "size_lots": -100, "cost_quote": -10_000},
        "insurance_fund": {"cash_quote": cash},
    }
    book = attrs.evolve(book, market=attrs.evolve(book.market, previous_mark_quote=100))
    return _with(book, changes, 26_000 + alice_cash + cash)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize(
    ("cash", "fund", "alice"),
    [(-4_901, FUND, 0), (-4_901, 0, 0), (-4_900, FUND, 0), (-4_899, FUND, 1), (-8_000, FUND, 0), (-8_000, 0, 0)],
)
def test_at_a_mark_move_the_depositor_the_cut_sinks_is_resolved_in_turn(
    preset: str, cash: int, fund: int, alice: int
) -> None:
    policy = load_preset(preset)
    asset = policy.collateral[0].name
    book = _before_the_crash(policy, cash, fund)
    assert _inside(policy, book) == []
    s = step(policy, book, MarkPrice(10))
    assert Transfer(f"liquidity@{asset}", f"bob@{asset}", 49, Reason.BORROW_REPAYMENT) in s.transfers
    assert Transfer(f"alice@{asset}", f"bob@{asset}", 51, Reason.DEPOSIT_INDEX_LOSS) in s.transfers
    assert (_worth(policy, s.after, "alice"), _worth(policy, s.after, "bob")) == (alice, 0)
    deficit = max(-(cash + 49 * 100), 0)  # her 49 quanta left sold, at the asset's unmoved 100
    paid = min(deficit, fund)
    fund_paid = Transfer("insurance_fund", "alice", paid, Reason.INSURANCE_FUND)
    assert (fund_paid in s.transfers) is (paid > 0)
    assert (Bankrupt("alice", deficit) in s.outcomes) is (deficit > 0)
    assert (Residual("alice", deficit - paid) in s.outcomes) is (deficit > paid)
    # what the fund leaves, the order book pays: the one holder of settlement cash (bob is at 0)
    cut = Transfer("liquidity", "alice", deficit - paid, Reason.DEPOSIT_INDEX_LOSS)
    assert (cut in s.transfers) is (deficit > paid)
    cuts = [o for o in s.outcomes if isinstance(o, SettlementCut)]
    assert cuts == ([SettlementCut("alice", deficit - paid)] if deficit > paid else [])
    assert sum(isinstance(o, Bankrupt) and o.account == "alice" for o in s.outcomes) == (deficit > 0)
    _claims(policy, s, alice)


def _resolved(policy: Policy, book: Book) -> tuple[int, int]:
    """(alice's worth, how many times she is resolved) after the mark falls to 10."""
    s = step(policy, book, MarkPrice(10))
    return _worth(policy, s.after, "alice"), sum(isinstance(o, Bankrupt) and o.account == "alice" for o in s.outcomes)


@pytest.mark.parametrize("preset", PRESETS)
def test_mutants_the_resolution_dropped_or_read_as_for_holders_only_leave_her_below_zero(
    preset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = load_preset(preset)
    book = _before_the_crash(policy, -4_901, FUND)
    assert _resolved(policy, book) == (0, 1)
    with monkeypatch.context() as m:  # the new step dropped: assetdec's −1
        m.setattr(engine, "resolve_sunk", lambda policy, ctx, name, was: ctx)
        assert _resolved(policy, book) == (-1, 0)
    sunk = bankruptcy.sunk_by_turn

    def holders_only(policy: Policy, ctx: object, was: list) -> list:  # the cascade's test: a position held
        return [(n, and_(t, open_lots(ctx.book.account(n)) != 0)) for n, t in sunk(policy, ctx, was)]  # type: ignore[attr-defined]

    with monkeypatch.context() as m:
        m.setattr(bankruptcy, "sunk_by_turn", holders_only)
        assert _resolved(policy, book) == (-1, 0)


def test_mutant_without_the_once_guard_resolves_her_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # three traders (the loop runs once per other trader), the fund empty: her resolution leaves her
    # −1 (a Residual), so without the guard the loop's next pass resolves her a second time
    # without [settlement]: the settlement currency's depositors would pay her −1
    policy = attrs.evolve(load_preset("drift"), settlement=None)
    book = _before_the_crash(policy, -4_901, 0, carol=True)
    assert _resolved(policy, book) == (-1, 1)
    sunk = bankruptcy.sunk_by_turn

    def unguarded(policy: Policy, ctx: object, was: list) -> list:
        assets = ctx.book.assets  # type: ignore[attr-defined]
        return [(n, and_(t, account_value(policy, assets, ctx.book.account(n)) < 0)) for n, t in was]  # type: ignore[attr-defined]

    assert sunk is not unguarded
    monkeypatch.setattr(bankruptcy, "sunk_by_turn", unguarded)
    assert _resolved(policy, book) == (-1, 2)


def _with_carol(policy: Policy, alice_cash: int, carol_cash: int, liquidity_cash: int = 12_000) -> Book:
    """The mark-move story with the fund empty, carol holding ``carol_cash`` of settlement cash and
    nothing else, and the order book starting at ``liquidity_cash`` (12,000 in the story)."""
    book = _before_the_crash(policy, alice_cash, 0, carol=True)
    changes = {"carol": {"cash_quote": carol_cash}, "liquidity": {"cash_quote": liquidity_cash}}
    return _with(book, changes, book.net_deposits_quote + carol_cash + liquidity_cash - 12_000)


@pytest.mark.parametrize("preset", PRESETS)
def test_the_settlement_cut_is_pro_rata_over_every_holder_of_cash_rounded_up_the_dust_to_the_fund(preset: str) -> None:
    # alice's 3,100 left after the waterfall (her −8,000 less her 49 quanta at 100; the fund empty) is
    # cut from the order book's 21,100 and carol's 3,000 (D = 24,100), each share rounded up
    # (rounding.deposit_loss = "ceil"): ⌈3,100 × 21,100 / 24,100⌉ = 2,715 and ⌈3,100 × 3,000 / 24,100⌉ = 386,
    # one quantum more than the debt, which goes to the fund; bob, at 0, pays nothing
    policy = load_preset(preset)
    assert policy.rounding.deposit_loss.value == "ceil"
    s = step(policy, _with_carol(policy, -8_000, 3_000), MarkPrice(10))
    cut = [
        t for t in s.transfers if t.reason in (Reason.DEPOSIT_INDEX_LOSS, Reason.PRO_RATA_DUST) and "@" not in t.source
    ]
    assert cut == [  # in book order: the traders, then the order book
        Transfer("carol", "alice", 386, Reason.DEPOSIT_INDEX_LOSS),
        Transfer("liquidity", "alice", 2_715, Reason.DEPOSIT_INDEX_LOSS),
        Transfer("alice", "insurance_fund", 1, Reason.PRO_RATA_DUST),
    ]
    assert (Residual("alice", 3_100) in s.outcomes, SettlementCut("alice", 3_100) in s.outcomes) == (True, True)
    assert (_worth(policy, s.after, "alice"), s.after.account("carol").cash_quote) == (0, 2_614)
    assert s.after.role(Role.INSURANCE_FUND).cash_quote == _floor(policy) + 1
    _claims(policy, s, 0)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize(("liquidity", "alice"), [(-9_100, -1), (-9_099, 0), (-9_098, 0)])
def test_the_settlement_cut_takes_at_most_what_the_holders_hold(preset: str, liquidity: int, alice: int) -> None:
    # the order book ends the step holding 9,100 more than it started with; started at −9,100 it holds
    # 0 when alice's 1 is due and nobody else holds cash: nothing is cut and she keeps her −1 (the
    # venue's bad debt, which the three claims report); at −9,099 it holds exactly her 1
    policy = load_preset(preset)
    s = step(policy, _with_carol(policy, -4_901, 0, liquidity), MarkPrice(10))
    assert _worth(policy, s.after, "alice") == alice
    assert (SettlementCut("alice", 1) in s.outcomes) is (alice == 0)
    assert s.after.account("liquidity").cash_quote == liquidity + 9_100 - (alice == 0)
    _claims(policy, s, alice)


def test_without_settlement_the_debt_stays_on_her_and_the_claims_fail() -> None:
    # the mutant: the preset's [settlement] table left out; the fund empty, she keeps the −1 the waterfall left
    policy = load_preset("drift")
    assert policy.settlement is not None
    mutant = attrs.evolve(policy, settlement=None)
    s = step(mutant, _before_the_crash(mutant, -4_901, 0), MarkPrice(10))
    assert _worth(mutant, s.after, "alice") == -1
    assert not any(isinstance(o, SettlementCut) for o in s.outcomes)
    _claims(mutant, s, -1)


@pytest.mark.parametrize("preset", PRESETS)
def test_the_reports_name_who_paid_her_and_leave_nothing_unpaid(preset: str) -> None:
    # the waterfall's Residual of 1 stays its record (deficit-charged-once reads it); what a person reads
    # is who paid it: the order book, under the settlement deposit cut, and nothing left unpaid
    from solvent.reports.story import Paid, bankruptcies, waterfall_paid
    from solvent.rules.outcomes import left_unpaid

    policy = load_preset(preset)
    s = step(policy, _before_the_crash(policy, -4_901, 0), MarkPrice(10))
    rows = [p for p in waterfall_paid(s) if p.bankrupt == "alice"]
    assert Paid(-1, "settlement deposit cut", "alice", "liquidity", 1) in rows
    assert not [p for p in rows if p.layer == "unpaid"]
    assert left_unpaid(s.outcomes, "alice") == 0 and left_unpaid(s.outcomes) == 0
    assert [b.unpaid for b in bankruptcies([s]) if b.account == "alice"] == [0]
    # without [settlement] the same step leaves her 1 unpaid, and the reports say so
    bare = attrs.evolve(policy, settlement=None)
    s = step(bare, _before_the_crash(bare, -4_901, 0), MarkPrice(10))
    assert Paid(-1, "unpaid", "alice", "no one", 1) in waterfall_paid(s)
    assert [b.unpaid for b in bankruptcies([s]) if b.account == "alice"] == [1]

"""A depositor left below zero by a borrower's unpaid borrow, at an oracle move of the lent asset and at
a mark move: found by hand inside the assumptions of ``solvent check``'s all-cross question on Drift
and Mango v4 (session 30, helper assetdec;
docs/solver-notes.md#asset-price-events-in-checks-questions-session-30).

Check asks every claim of a policy with ``[[collateral]]`` on a book of two traders holding its first
asset, over one mark move or one oracle move of that asset (``verdicts/proofs.py``). On that book
``no-negative-equity``, ``loss-bounded-by-collateral`` and ``claims-backed`` are false, and z3 had not
found it (every cell undecided, 10M units a question, exact or purified):

- alice holds 100 quanta of the lent asset at 100 and cash −8,000 (a loss her deposit backs: her
  initial margin exactly covered, −8,000 + 0.8 × 10,000 = 0); bob holds cash 12,000 and has borrowed
  her 100 quanta (his initial margin exactly covered at the 1.2 liability weight); the fund is empty.
- The asset's oracle moves to 7,999. Bob's borrow at 1.1 is above his 12,000: his loan is exchanged
  (``engine._exchange_loan``): he buys back ``⌊12,000 / 7,999⌋ = 1`` quantum at the oracle price
  (``lending.repay_borrows``) and keeps the change, 4,001, less than one quantum at the new price; the 99
  he cannot buy go down the asset's waterfall, the empty fund, then the deposit index
  (``lending._deposit_index_loss``): alice, the one other depositor, pays all 99. Alice is left with 1
  quantum and her −8,000: worth −1. At 8,000 she is worth 0, at 8,001 worth 1.

The same at a **mark move**, with no rounding to it (check's question asks mark moves on the same book):
alice holds 100 quanta at 100 and cash −4,901, bob has borrowed them with cash 14,000 and is long 100
lots at 100 against the order book (the liquidity account short 100), each at its initial margin; the
mark falls to 10. Bob's settlement takes 9,000; he is closed (``bankruptcy.settle_collateral``): his
4,900 left beyond the slippage buy back 49 quanta, the 51 left are cut from alice's deposit, and she
ends at −1 (0 at −4,900, +1 at −4,899; −3,100 from −8,000). The cascade after bob's resolution takes
traders holding a position: alice is flat.

Alice's turn came before bob's, and the cascade (``rules.bankruptcy``) runs after a bankruptcy's
resolution and takes traders holding a position: here neither (a flat borrower whose loan is exchanged
resolves nothing, and alice is flat), so nothing resolves her in this step. At two traders both at initial margin the story needs
the change bob keeps (under one quantum at the new price, ``⌊budget / price⌋``) to exceed what his
cash holds beyond her loan (at least 0.4 × her deposit's value at the start): a quantum's rounding
where the move is large against the deposit; at a mark move the borrower's perp loss takes the cash behind
his borrow, and no rounding is needed. The deposit index is the venues' rule (Drift §7, Mango §8:
docs/venues.md), and so is a depositor left short by it until a keeper liquidates her; the engine resolves
no depositor the cut sinks within the step. The lead's to decide (accept, or resolve such a depositor);
nothing is changed here.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties.catalog import StepView, get
from solvent.rules.assets import account_value
from solvent.rules.book import Asset, Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import AssetPrice, MarkPrice
from solvent.rules.ledger import Reason, Transfer
from solvent.rules.policy import Policy
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import TokenLayer
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds, for_policy

PRESETS = ("drift", "mango-v4")
#: the claims the story breaks at 7,999 (and that hold at 8,000 and 8,001)
BROKEN = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed")


def _start(policy: Policy) -> Book:
    """The book before the move (see the module docstring), on the shape of check's question."""
    asset = policy.collateral[0].name
    book = new_book(mark_quote=100, traders=("alice", "bob"), assets=(Asset(asset, 100),))
    changes = {
        "alice": {"cash_quote": -8_000, "asset_balances": (100,)},
        "bob": {"cash_quote": 12_000, "asset_balances": (-100,)},
    }
    accounts = tuple(attrs.evolve(a, **changes[a.name]) if a.name in changes else a for a in book.accounts)
    return attrs.evolve(book, accounts=accounts, net_deposits_quote=4_000)


def _check_bounds(policy: Policy) -> Bounds:
    """The bounds of check's all-cross question on ``policy`` (N = 2, its first asset, mark and oracle moves)."""
    asset = policy.collateral[0].name
    bounds = Bounds(accounts=2, events=1, assets=1, asset_names=(asset,), event_kinds=("mark", "asset-price"))
    return for_policy(bounds, policy)


def _worth(policy: Policy, book: Book, name: str) -> int:
    return account_value(policy, book.assets, book.account(name))


@pytest.mark.parametrize("preset", PRESETS)
def test_the_start_is_inside_checks_assumptions_each_trader_at_its_initial_margin(preset: str) -> None:
    policy = load_preset(preset)
    book = _start(policy)
    failing = [a.name for a in book_assumptions(policy, book, _check_bounds(policy)) if a.holds is not True]
    assert failing == []
    assert (_worth(policy, book, "alice"), _worth(policy, book, "bob")) == (2_000, 2_000)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize(("price", "alice"), [(7_999, -1), (8_000, 0), (8_001, 1)])
def test_the_depositor_pays_the_unbought_quanta_and_ends_below_zero_one_quantum_short(
    preset: str, price: int, alice: int
) -> None:
    policy = load_preset(preset)
    asset = policy.collateral[0].name
    s = step(policy, _start(policy), AssetPrice(asset, price))
    assert s.transfers == (
        Transfer(f"liquidity@{asset}", f"bob@{asset}", 1, Reason.BORROW_REPAYMENT),
        Transfer("bob", "liquidity", price, Reason.BORROW_REPAYMENT),
        Transfer(f"alice@{asset}", f"bob@{asset}", 99, Reason.DEPOSIT_INDEX_LOSS),
    )
    assert _worth(policy, s.after, "alice") == alice
    assert s.after.account("bob").cash_quote == 12_000 - price  # the change, under one quantum at the price
    view = StepView.of(policy, s)
    assert [get(c).holds(view) for c in BROKEN] == [alice >= 0] * len(BROKEN)
    assert get("conservation").holds(view)


@pytest.mark.parametrize("preset", PRESETS)
def test_without_the_deposit_index_the_depositor_keeps_her_deposit(preset: str) -> None:
    # the mutant: the lent asset's waterfall without its deposit_index layer; bob's 99 stay his negative
    # balance (the venue's bad debt: bob, not alice, is then below zero) and alice keeps 100 quanta
    policy = load_preset(preset)
    rule = policy.collateral[0]
    assert TokenLayer.DEPOSIT_INDEX in rule.bankruptcy
    layers = tuple(x for x in rule.bankruptcy if x is not TokenLayer.DEPOSIT_INDEX)
    mutant = attrs.evolve(policy, collateral=(attrs.evolve(rule, bankruptcy=layers), *policy.collateral[1:]))
    s = step(mutant, _start(mutant), AssetPrice(rule.name, 7_999))
    assert _worth(mutant, s.after, "alice") == -8_000 + 100 * 7_999
    assert s.after.account("bob").asset_balances == (-99,)
    assert _worth(mutant, s.after, "bob") == 12_000 - 7_999 - 99 * 7_999


def _before_the_crash(policy: Policy, alice_cash: int) -> Book:
    """The mark-move story's book (module docstring): bob long 100 against the order book, his borrow
    of alice's 100 quanta behind it."""
    asset = policy.collateral[0].name
    book = new_book(mark_quote=100, traders=("alice", "bob"), assets=(Asset(asset, 100),))
    changes = {
        "alice": {"cash_quote": alice_cash, "asset_balances": (100,)},
        "bob": {"cash_quote": 14_000, "asset_balances": (-100,), "size_lots": 100, "cost_quote": 10_000},
        "liquidity": {"cash_quote": 12_000, "size_lots": -100, "cost_quote": -10_000},
    }
    accounts = tuple(attrs.evolve(a, **changes[a.name]) if a.name in changes else a for a in book.accounts)
    market = attrs.evolve(book.market, previous_mark_quote=100)
    return attrs.evolve(book, accounts=accounts, market=market, net_deposits_quote=26_000 + alice_cash)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize(("cash", "alice"), [(-4_901, -1), (-4_900, 0), (-4_899, 1), (-8_000, -3_100)])
def test_at_a_mark_move_the_borrowers_perp_loss_leaves_the_depositor_below_zero(
    preset: str, cash: int, alice: int
) -> None:
    policy = load_preset(preset)
    asset = policy.collateral[0].name
    book = _before_the_crash(policy, cash)
    assert [a.name for a in book_assumptions(policy, book, _check_bounds(policy)) if a.holds is not True] == []
    s = step(policy, book, MarkPrice(10))
    assert Transfer(f"liquidity@{asset}", f"bob@{asset}", 49, Reason.BORROW_REPAYMENT) in s.transfers
    assert Transfer(f"alice@{asset}", f"bob@{asset}", 51, Reason.DEPOSIT_INDEX_LOSS) in s.transfers
    assert (_worth(policy, s.after, "alice"), _worth(policy, s.after, "bob")) == (alice, 0)
    view = StepView.of(policy, s)
    assert [get(c).holds(view) for c in BROKEN] == [alice >= 0] * len(BROKEN)
    assert get("conservation").holds(view)

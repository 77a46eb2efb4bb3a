"""A z3 story told from an empty book through a history of trades and moves (``solver.history``;
docs/solver-notes.md, "Stories told from an empty book").

Binance's ``principal-protected`` as check's z3 answers it: alice long 1 lot at USDT 100,000/BTC with
USDT 0.80 of cash and a principal of USDT 1.66; bob short 499 lots with USDT 399.20, below the margin a
trade at that mark needs; the order book long 498. The mark rises 0.81%: bob is bankrupt and ADL takes
USDT 0.01 from alice, leaving her below her principal. Deposits give a principal equal to cash, and
bob's short cannot be opened at the mark: only a history reaches this book."""

from __future__ import annotations

from types import SimpleNamespace

import attrs
import pytest

from solvent.properties import catalog
from solvent.properties.played import first_violation, replay
from solvent.properties.reachable import from_empty
from solvent.properties.scenarios import Story
from solvent.rules.book import Account, Asset, Book, Market, Role
from solvent.rules.events import AssetDeposit, Deposit, MarkPrice, SpotDeposit, Taker, Trade, Withdraw
from solvent.rules.presets import load_preset
from solvent.solver import history
from solvent.solver.bounds import Bounds
from solvent.solver.from_empty import opened_first, told_from_empty
from solvent.solver.history import Route, loss_needed, routes, with_history
from tests.book_support import system_accounts

BOUNDS = Bounds(accounts=2)
POLICY = load_preset("binance")
CLAIM = catalog.get("principal-protected")


def _story(principal: int = 166, alice_lots: int = 1, alice_cash: int = 80, bob_cash: int = 39_920) -> Story:
    """alice long ``alice_lots`` with ``alice_cash`` and ``principal``, bob short 499, the order book long."""
    accounts = (
        Account(
            "alice",
            cash_quote=alice_cash,
            size_lots=alice_lots,
            cost_quote=10_000 * alice_lots,
            principal_quote=principal,
        ),
        Account("bob", cash_quote=bob_cash, size_lots=-499, cost_quote=-4_990_000),
        Account("liquidity", Role.LIQUIDITY, size_lots=499 - alice_lots, cost_quote=10_000 * (499 - alice_lots)),
        *system_accounts(),
    )
    return Story(Book(Market("PERP", 10_000), accounts, net_deposits_quote=alice_cash + bob_cash), (MarkPrice(10_081),))


def _reached(built) -> Book:
    return built.steps[built.prefix - 1].after


def test_the_z3_story_breaks_the_claim_but_neither_earlier_route_reaches_it() -> None:
    story = _story()
    steps = replay(POLICY, story)
    assert steps is not None and first_violation(POLICY, CLAIM, steps) == 0
    assert from_empty(POLICY, CLAIM, story, 0) is None
    assert opened_first(POLICY, CLAIM, SimpleNamespace(story=story, step_index=0), BOUNDS) is None


def test_a_loss_and_a_short_opened_lower_reach_the_book_from_empty() -> None:
    built = with_history(POLICY, CLAIM, _story(), 0, BOUNDS)
    assert built is not None
    assert all(a.cash_quote == 0 and a.size_lots == 0 for a in built.story.book.accounts)  # an empty book
    events = built.story.events
    assert Deposit("alice", 166) in events and Deposit("bob", 39_920) in events  # principal deposited
    trades = [e for e in events if isinstance(e, Trade)]
    # alice bought 86 quanta above the story's mark: the fall to it is her loss of 0.86
    assert (trades[0].buyer, trades[0].seller, trades[0].price_quote) == ("alice", "maker", 10_086)
    assert trades[1].seller == "bob" and trades[1].price_quote == 10_000
    reached = _reached(built)
    alice = reached.account("alice")
    assert (alice.cash_quote, alice.principal_quote, alice.size_lots) == (80, 166, 1)
    assert reached.account("bob").cash_quote == 39_920 and reached.account("bob").size_lots == -499
    assert reached.account("maker").size_lots == 498  # the order book's inventory, held by the maker
    assert built.failing == built.prefix == len(events) - 1 and events[-1] == MarkPrice(10_081)
    assert first_violation(POLICY, CLAIM, list(built.steps)) == built.failing


def test_cash_exactly_its_principal_needs_no_loss_one_quantum_below_needs_one() -> None:
    assert loss_needed(_story(principal=80).book) == {}
    assert loss_needed(_story(principal=81).book) == {"alice": 1}
    first = next(routes(_story(principal=81).book, BOUNDS))
    assert dict(first.opens) == {"alice": 10_001, "bob": 10_000}
    # no loss needed: the first route is the one-tick drift (the book from_empty would build is not tried again)
    first = next(routes(_story(principal=80).book, BOUNDS))
    assert dict(first.opens) == {"alice": 10_001, "bob": 9_999}


def test_a_loss_that_does_not_divide_by_the_lots_is_rounded_up_to_a_whole_quantum() -> None:
    book = _story(principal=166, alice_lots=3).book
    opens = dict(next(routes(book, BOUNDS)).opens)
    assert opens["alice"] == 10_029  # 3 lots x 29 = 87 >= 86 (28 would lose only 84)
    assert opens["bob"] == 10_000


def test_a_short_that_needs_a_loss_opens_below_the_mark() -> None:
    accounts = (
        Account("alice", cash_quote=100, size_lots=-2, cost_quote=-20_000, principal_quote=150),
        Account("bob", cash_quote=10_000, size_lots=2, cost_quote=20_000),
        Account("liquidity", Role.LIQUIDITY),
        *system_accounts(),
    )
    book = Book(Market("PERP", 10_000), accounts, net_deposits_quote=10_100)
    assert dict(next(routes(book, BOUNDS)).opens) == {"alice": 9_975, "bob": 10_000}


def test_a_move_against_each_side_takes_the_farthest_mark_first() -> None:
    book = _story().book
    route = Route((("alice", 10_086), ("bob", 9_996)))
    empty, events = history.history_events(book, route, {"alice": 166, "bob": 41_916})
    assert empty.market.mark_quote == 10_086  # the farthest opening mark is where the book starts
    marks = [e.price_quote for e in events if isinstance(e, MarkPrice)]
    assert marks == [9_996, 10_000]
    settled = history.history_events(book, attrs.evolve(route, settle=True), {"alice": 166, "bob": 41_916})[1]
    assert [e.price_quote for e in settled if isinstance(e, MarkPrice)] == [9_996, 10_000, 10_000]


def test_each_deposit_is_moved_by_what_the_trader_missed() -> None:
    """bybit charges the taker a fee: the deposit is topped up so the reached cash is the story's."""
    policy = load_preset("bybit")
    accounts = (
        Account("alice", cash_quote=100, size_lots=-1, cost_quote=-10_000, principal_quote=196),
        Account("bob", cash_quote=700, size_lots=7, cost_quote=70_000),
        Account("liquidity", Role.LIQUIDITY, size_lots=-6, cost_quote=-60_000),
        *system_accounts(),
    )
    story = Story(Book(Market("PERP", 10_000), accounts, net_deposits_quote=800), (MarkPrice(9_899),))
    built = with_history(policy, CLAIM, story, 0, BOUNDS)
    assert built is not None
    reached = _reached(built)
    assert reached.account("alice").cash_quote == 100 and reached.account("bob").cash_quote == 700
    assert reached.account("alice").principal_quote > 196  # her deposit paid the fee too
    assert reached.account("fee_account").cash_quote > 0


def test_a_flat_maker_takes_its_money_out() -> None:
    """No system position: the maker is flat at the end and withdraws, so it holds nothing in the story."""
    accounts = (
        Account("alice", cash_quote=80, size_lots=1, cost_quote=10_000, principal_quote=166),
        Account("bob", cash_quote=39_920, size_lots=-1, cost_quote=-10_000),
        Account("liquidity", Role.LIQUIDITY),
        *system_accounts(),
    )
    book = Book(Market("PERP", 10_000), accounts, net_deposits_quote=40_000)
    reached = history._reach(POLICY, book, Route((("alice", 10_086), ("bob", 10_000))))
    assert reached is not None
    _, events, got = reached
    assert isinstance(events[-1], Withdraw) and events[-1].account == "maker"
    assert got.account("maker").cash_quote == 0 and got.account("maker").size_lots == 0
    assert got.account("alice").principal_quote == 166 and got.account("alice").cash_quote == 80


@pytest.mark.parametrize("principal", [160, 166])
def test_the_book_must_still_break_the_claim(principal: int) -> None:
    """Alice pays 0.01 and gains 0.81 on the move: below a principal of 1.61 only. At 1.60 the story holds
    and nothing is told; at 1.66 the history is told."""
    built = with_history(POLICY, CLAIM, _story(principal=principal), 0, BOUNDS)
    assert (built is not None) == (principal > 160)


def test_check_tells_the_story_through_the_history_after_the_earlier_routes() -> None:
    cx = SimpleNamespace(story=_story(), step_index=0)
    built = told_from_empty(POLICY, CLAIM, cx, BOUNDS)
    assert built is not None and built.story == with_history(POLICY, CLAIM, _story(), 0, BOUNDS).story
    assert told_from_empty(POLICY, CLAIM, cx, None) is None  # no bounds: nothing to check the reached book against


def test_a_book_the_history_does_not_rebuild_is_left_as_a_state() -> None:
    story = _story()
    outside = Bounds(accounts=2, max_price=10_050)  # alice's opening mark 10,086 lies beyond the proof's prices
    assert with_history(POLICY, CLAIM, story, 0, outside) is None


def test_the_reached_book_must_lie_within_the_proof_s_bounds() -> None:
    """The maker's deposit (USDT 50,860) lies beyond balances of at most 10,000.00: the story is not told."""
    assert with_history(POLICY, CLAIM, _story(), 0, Bounds(accounts=2, max_quote=1_000_000)) is None
    assert with_history(POLICY, CLAIM, _story(), 0, Bounds(accounts=2, max_quote=10_000_000)) is not None


def _vault_story(principal: int) -> Story:
    """Hyperliquid's principal-protected as check's z3 answers it: the liquidator vault (HLP) short the
    lot alice holds, with nothing behind it; the mark rises a quantum, the vault is below zero and its
    own ADL takes a quantum from alice, below her principal of 2.51 where she holds 2.50."""
    accounts = (
        Account("alice", cash_quote=250, size_lots=1, cost_quote=10_000, principal_quote=principal),
        Account("liquidity", Role.LIQUIDITY),
        Account("insurance_fund", Role.INSURANCE_FUND),
        Account("fee_account", Role.FEE_ACCOUNT),
        Account("backstop_vault", Role.BACKSTOP_VAULT, size_lots=-1, cost_quote=-10_000),
        Account("venue", Role.VENUE),
        Account("clearing", Role.CLEARING),
    )
    return Story(Book(Market("PERP", 10_000), accounts, net_deposits_quote=250), (MarkPrice(10_001),))


def test_a_vault_s_position_is_taken_over_from_a_liquidated_trader() -> None:
    policy = load_preset("hyperliquid")
    story = _vault_story(251)
    assert from_empty(policy, CLAIM, story, 0) is None  # the maker holding the vault's lot: no vault ADL
    built = with_history(policy, CLAIM, story, 0, BOUNDS)
    assert built is not None
    events = built.story.events
    # alice's loss a round trip first: a lot bought at 100.01, the mark back to 100.00, sold there
    assert events[3:6] == (
        Trade("alice", "maker", 1, 10_001, Taker.SELLER),
        MarkPrice(10_000),
        Trade("maker", "alice", 1, 10_000, Taker.BUYER),
    )
    # carol sold at the first mark her deposit covers (2.5% initial margin: 128 quanta below is too
    # little at 9,872, 256 enough at 9,744), all of it lost by the move back, where the vault takes her over
    assert Deposit("carol", 256) in events
    assert events[6:9] == (MarkPrice(9_744), Trade("maker", "carol", 1, 9_744, Taker.BUYER), MarkPrice(10_000))
    reached = _reached(built)
    vault = reached.account("backstop_vault")
    assert (vault.size_lots, vault.cash_quote) == (-1, 0)
    assert (reached.account("alice").cash_quote, reached.account("alice").principal_quote) == (250, 251)
    assert reached.account("carol").size_lots == 0 and reached.account("maker").cash_quote == 0
    assert first_violation(policy, CLAIM, list(built.steps)) == built.failing == len(events) - 1


def test_a_vault_story_that_does_not_break_is_not_told() -> None:
    """At a principal of 2.50 alice's ADL leaves her at it: the story holds, nothing is told."""
    assert with_history(load_preset("hyperliquid"), CLAIM, _vault_story(250), 0, BOUNDS) is None


def test_carol_s_deposit_is_what_the_move_back_takes() -> None:
    book = _vault_story(251).book
    route = next(r for r in routes(book, BOUNDS) if r.taken_over == ((-1, 256, 0),))
    assert route.opens == (("alice", 10_000),) and route.flat == (("alice", 10_001),)
    _, events = history.history_events(book, route, {"alice": 251})
    assert Deposit("carol", 256) in events


def test_the_order_book_and_the_vault_each_take_a_liquidated_trader_s_lot() -> None:
    """Hyperliquid's no-haircut as check's z3 answers it: the order book long a lot, the vault short it,
    neither with cash; a quantum up puts the vault below zero and its ADL takes the book's profit.
    carol is left one quantum under maintenance (1.25 of USDC 100.00: 124 quanta), so the book takes her
    long; dave is left nothing, below two thirds of it, so the vault takes his short over."""
    policy, claim = load_preset("hyperliquid"), catalog.get("no-haircut")
    accounts = (
        Account("alice"),
        Account("liquidity", Role.LIQUIDITY, size_lots=1, cost_quote=10_000),
        Account("insurance_fund", Role.INSURANCE_FUND),
        Account("fee_account", Role.FEE_ACCOUNT),
        Account("backstop_vault", Role.BACKSTOP_VAULT, size_lots=-1, cost_quote=-10_000),
        Account("venue", Role.VENUE),
        Account("clearing", Role.CLEARING),
    )
    story = Story(Book(Market("PERP", 10_000), accounts), (MarkPrice(10_001),))
    assert from_empty(policy, claim, story, 0) is None
    built = with_history(policy, claim, story, 0, BOUNDS)
    assert built is not None
    events = built.story.events
    assert Deposit("carol", 256 + 124) in events and Deposit("dave", 256) in events
    reached = _reached(built)
    assert reached.account("liquidity").size_lots == 1 and reached.account("backstop_vault").size_lots == -1
    assert reached.account("backstop_vault").cash_quote == 0 and reached.account("liquidity").cash_quote == 0
    assert Withdraw("carol", 124) in events  # what the order book's liquidation left her, taken out
    assert all(reached.account(n).cash_quote == 0 and reached.account(n).size_lots == 0 for n in ("carol", "dave"))


def _flat_winner(bob_principal: int) -> Story:
    """Percolator Gen A's flat-accounts-never-pay as the gallery tells it: alice long 1 lot at USDC 0.01
    with 0.001, bob flat with 0.002501 of cash over ``bob_principal``; the mark falls 10.01%."""
    accounts = (
        Account("alice", cash_quote=1_000, size_lots=1, cost_quote=10_000, principal_quote=1_000),
        Account("bob", cash_quote=2_501, principal_quote=bob_principal),
        Account("liquidity", Role.LIQUIDITY, cash_quote=1, size_lots=-1, cost_quote=-10_000),
        *system_accounts(),
    )
    return Story(Book(Market("PERP", 10_000), accounts, net_deposits_quote=3_502), (MarkPrice(8_999),))


def test_a_flat_trader_s_profit_is_a_round_trip_that_gains_it() -> None:
    policy, claim = load_preset("percolator-gen-a"), catalog.get("flat-accounts-never-pay")
    story = _flat_winner(0)
    assert from_empty(policy, claim, story, 0) is None
    # bob deposits one lot's initial margin (10%: 1,000 quanta) and gains the rest, 1,501, from 8,499
    assert history.profits(story.book, policy) == (("bob", 8_499),)
    assert history.profits(_flat_winner(2_501).book, policy) == ()  # cash at its principal: no profit to make
    assert history.profits(story.book, None) == ()
    built = with_history(policy, claim, story, 0, BOUNDS)
    assert built is not None
    assert Trade("bob", "maker", 1, 8_499, Taker.SELLER) in built.story.events
    bob = _reached(built).account("bob")
    assert bob.cash_quote == 2_501 and bob.size_lots == 0 and bob.principal_quote < 2_501


# --- collateral assets: Backpack's and Drift's spot-isolated (issue 18) ----------------------------

ASSET_BOUNDS = Bounds(accounts=2, assets=1, asset_names=("SOL",), event_kinds=("mark", "asset-price"))
SPOT = catalog.get("spot-isolated")


def _asset_book(traders: tuple[Account, ...], system: dict[str, tuple[int, int, int]], price: int) -> Book:
    """A one-asset (SOL at ``price`` quanta a quantum) book: ``traders``, then the order book and every
    other system account, each holding the (lots, SOL, cash) ``system`` gives it, the rest nothing."""

    def held(a: Account) -> Account:
        lots, sol, cash = system.get(a.name, (0, 0, 0))
        return attrs.evolve(a, size_lots=lots, cost_quote=lots * 10_000, asset_balances=(sol,), cash_quote=cash)

    accounts = (Account("liquidity", Role.LIQUIDITY, asset_balances=(0,)), *system_accounts(assets=1))
    return Book(Market("PERP", 10_000), (*traders, *map(held, accounts)), assets=(Asset("SOL", price),))


def _backpack_story(sol: int = 20_002) -> Story:
    """Backpack's spot-isolated as check's z3 answers it: alice short a lot at USDC 0.01 with USDC
    −0.007287 of cash, 0.000001 of spot and ``sol`` quanta of SOL (2 quanta of USDC each); the order
    book long the lot and z3's system accounts holding SOL of their own (the venue −10¹²). The mark
    stays: the sweep converts her spot into the cash below zero."""
    alice = Account("alice", cash_quote=-7_287, spot_quote=1, size_lots=-1, cost_quote=-10_000, asset_balances=(sol,))
    system = {"liquidity": (1, 22_461, 0), "fee_account": (0, 26_999, 0), "venue": (0, -(10**12), 0)}
    return Story(_asset_book((alice,), system, 2), (MarkPrice(10_000),))


def _drift_story(sol: int = 0) -> Story:
    """Drift's spot-isolated as check's z3 answers it: alice flat with USDC −0.000001 of cash and 0.000001
    of spot (``sol`` of SOL), the order book's and the fund's quantum of cash covering her borrow (the
    proof assumes the settlement deposits do), the system accounts at up to −10¹² of SOL; the sweep
    converts her spot."""
    alice = Account("alice", cash_quote=-1, spot_quote=1, asset_balances=(sol,))
    system = {"liquidity": (0, 1, 1), "insurance_fund": (0, -1, 1), "fee_account": (0, -(10**12), 0)}
    return Story(_asset_book((alice,), system, 10**9), (MarkPrice(10_000),))


def test_a_trader_s_collateral_asset_is_deposited_and_its_spot_after_the_move() -> None:
    policy = load_preset("backpack")
    story = _backpack_story()
    steps = replay(policy, story)
    assert steps is not None and first_violation(policy, SPOT, steps) == 0
    assert from_empty(policy, SPOT, story, 0) is None  # cash below zero: no deposit gives it
    built = with_history(policy, SPOT, story, 0, ASSET_BOUNDS)
    assert built is not None
    assert built.story.book.assets == (Asset("SOL", 2),)  # the asset at the story's price, nothing deposited
    events = built.story.events
    assert events[: built.prefix] == (
        Deposit("maker", 17_288),
        AssetDeposit("alice", "SOL", 20_002),  # the engine's own asset deposit
        Trade("maker", "alice", 1, 2_713, Taker.BUYER),  # her short 0.007287 below the mark
        MarkPrice(10_000),  # the move her loss is
        SpotDeposit("alice", 1),  # after the move: its sweep would have converted it
    )
    reached = _reached(built)
    alice = reached.account("alice")
    assert (alice.cash_quote, alice.spot_quote, alice.size_lots, alice.asset_balances) == (-7_287, 1, -1, (20_002,))
    # the system accounts start where a venue's do: no SOL (z3's −10¹² of it is no deposit's), and the
    # book still breaks the claim within the proof's bounds
    assert all(a.asset_balances == (0,) for a in reached.accounts if not a.is_trader)
    assert reached.account("maker").size_lots == 1  # the order book's lot, held by the maker
    assert first_violation(policy, SPOT, list(built.steps)) == built.failing == built.prefix


def test_the_asset_deposit_exactly_enough_for_initial_margin_and_one_quantum_less() -> None:
    """The proof starts from traders at initial margin: alice's SOL at its initial weight (0.8) and
    2 quanta each must cover her cash below zero and USDC 0.001 of margin. 5,179 quanta are worth
    8,286 (rounded down) against 7,287 + 1,000 less her quantum of spot; 5,178 are worth 8,284."""
    policy = load_preset("backpack")
    assert with_history(policy, SPOT, _backpack_story(5_179), 0, ASSET_BOUNDS) is not None
    assert with_history(policy, SPOT, _backpack_story(5_178), 0, ASSET_BOUNDS) is None


def test_a_flat_trader_below_zero_sells_its_lot_below_the_mark() -> None:
    policy = load_preset("drift")
    story = _drift_story()
    assert from_empty(policy, SPOT, story, 0) is None
    # one lot's initial margin (10% of USDC 0.01: 1,000 quanta) and its quantum below zero
    assert history.below_zero(story.book, policy) == (("alice", 8_999),)
    assert history.below_zero(story.book, None) == ()
    at_zero = attrs.evolve(
        story.book, accounts=(Account("alice", spot_quote=1, asset_balances=(0,)), *story.book.accounts[1:])
    )
    assert history.below_zero(at_zero, policy) == () and history._spot_late(at_zero) == {}  # cash at zero: none
    assert history._spot_late(story.book) == {"alice": 1}
    built = with_history(policy, SPOT, story, 0, ASSET_BOUNDS)
    assert built is not None
    events = built.story.events
    assert Deposit("alice", 1_000) in events
    spot, bought, sold = (
        events.index(e)
        for e in (
            SpotDeposit("alice", 1),
            Trade("alice", "maker", 1, 10_000, Taker.SELLER),
            Trade("maker", "alice", 1, 8_999, Taker.BUYER),
        )
    )
    assert spot < sold and bought < sold  # her spot in before the sale, whose equity it keeps at zero
    assert not any(isinstance(e, MarkPrice) for e in events[: built.prefix])  # no move: it would liquidate the lot
    reached = _reached(built)
    alice = reached.account("alice")
    assert (alice.cash_quote, alice.spot_quote, alice.size_lots) == (-1, 1, 0)
    assert all(a.asset_balances == (0,) for a in reached.accounts)
    assert first_violation(policy, SPOT, list(built.steps)) == built.failing == built.prefix


def test_a_trader_s_borrowed_asset_is_not_reached() -> None:
    """A negative SOL balance (a borrow) is no deposit's: the history leaves alice at zero, and the
    story stays a state rather than be told on a book without her borrow."""
    assert with_history(load_preset("drift"), SPOT, _drift_story(sol=-1), 0, ASSET_BOUNDS) is None


def test_a_trader_below_zero_beside_a_position_that_needs_no_history() -> None:
    """bob long a lot with twice its initial margin opens it at the story's mark (the first route), as
    from_empty would, beside alice's sale below it."""
    story = _drift_story()
    bob = Account("bob", cash_quote=2_000, size_lots=1, cost_quote=10_000, asset_balances=(0,))
    book = story.book
    accounts = (
        book.accounts[0],
        bob,
        *(
            attrs.evolve(a, size_lots=-1, cost_quote=-10_000) if a.role is Role.LIQUIDITY else a
            for a in book.accounts[1:]
        ),
    )
    built = with_history(
        load_preset("drift"), SPOT, Story(attrs.evolve(book, accounts=accounts), story.events), 0, ASSET_BOUNDS
    )
    assert built is not None
    assert Trade("bob", "maker", 1, 10_000, Taker.BUYER) in built.story.events
    assert not any(isinstance(e, MarkPrice) for e in built.story.events[: built.prefix])


# --- a fund the opening's fees fill, drained: Percolator Gen B's no-haircut (issue 18) ---------------

GEN_B = load_preset("percolator-gen-b")
CLAIM_NO_HAIRCUT = catalog.get("no-haircut")


def _gen_b_story() -> Story:
    """Percolator Gen B's no-haircut as check's z3 answers it: alice short a lot at USDC 0.01 with
    0.001, the order book long it, the insurance fund empty. The mark rises 10.01%: alice's deficit
    of a quantum finds no fund and is socialized over the opposing side, a haircut."""
    accounts = (
        Account("alice", cash_quote=1_000, size_lots=-1, cost_quote=-10_000),
        Account("liquidity", Role.LIQUIDITY, size_lots=1, cost_quote=10_000),
        *system_accounts(),
    )
    return Story(Book(Market("PERP", 10_000), accounts, net_deposits_quote=1_000), (MarkPrice(11_001),))


def test_the_opening_s_fees_fill_the_fund_which_then_covers_the_deficit() -> None:
    """Why the earlier routes fail: alice's short at the mark pays the fund a fee (0.1%: 10 quanta, and
    the maker 10), and a fund of 20 covers a deficit of 1."""
    story = _gen_b_story()
    assert from_empty(GEN_B, CLAIM_NO_HAIRCUT, story, 0) is None
    assert opened_first(GEN_B, CLAIM_NO_HAIRCUT, SimpleNamespace(story=story, step_index=0), BOUNDS) is None
    assert not any(r.drain for r in routes(story.book, BOUNDS, GEN_B) if not r.drain)  # only a drain is tried


def test_a_fund_the_fees_filled_is_drained_by_a_bankruptcy_of_exactly_its_size() -> None:
    story = _gen_b_story()
    built = with_history(GEN_B, CLAIM_NO_HAIRCUT, story, 0, BOUNDS)
    assert built is not None
    events = built.story.events
    # carol short a lot at the mark beside alice, the mark 20.48% up and back: 2,048 quanta against her.
    # Her deposit, measured: the move less the fund's 40 quanta of fees (alice's and carol's trades,
    # each side 10) plus her own fee, so that her deficit is the fund's 40 exactly
    assert Deposit("carol", 2_048 - 40 + 10) in events
    assert events[3:8] == (
        Trade("maker", "alice", 1, 10_000, Taker.BUYER),
        Trade("maker", "carol", 1, 10_000, Taker.BUYER),
        MarkPrice(12_048),
        MarkPrice(10_000),
        Withdraw("alice", 2_048 + 12_048),  # what she put in to stay whole through the move
    )
    drained = built.steps[5]
    assert [o.deficit_quote for o in drained.outcomes if type(o).__name__ == "Bankrupt"] == [40]
    reached = _reached(built)
    assert reached.account("insurance_fund").cash_quote == 0  # the story's fund, after the venue's own fees
    assert (reached.account("alice").cash_quote, reached.account("alice").size_lots) == (1_000, -1)
    assert reached.account("carol").cash_quote == 0 and reached.account("maker").size_lots == 1
    assert first_violation(GEN_B, CLAIM_NO_HAIRCUT, list(built.steps)) == built.failing == built.prefix


def test_a_drainer_with_one_quantum_more_leaves_the_fund_a_quantum_that_covers_the_deficit() -> None:
    """alice's deposit as measured (her 0.001, her fee and what the drain's move takes); carol's
    2,018 drains the fund to zero, 2,019 leaves it one quantum, which pays alice's deficit."""
    story = _gen_b_story()
    route = Route((("alice", 10_000),), drain=2_048)
    for carol, fund, breaks_it in ((2_018, 0, True), (2_019, 1, False)):
        empty, events = history.history_events(story.book, route, {"alice": 1_010 + 14_096, "carol": carol})
        events = history._funded(events, "maker", history._maker_funds(story.book, route))
        events += (Withdraw("alice", 14_096), MarkPrice(11_001))
        steps = replay(GEN_B, Story(empty, events))
        assert steps is not None and steps[-2].after.account("insurance_fund").cash_quote == fund
        assert (first_violation(GEN_B, CLAIM_NO_HAIRCUT, steps) == len(events) - 1) is breaks_it


def test_no_drain_without_fees_for_the_fund_or_with_traders_on_both_sides() -> None:
    story = _gen_b_story()
    assert [r.drain for r in routes(story.book, BOUNDS, GEN_B) if r.drain][:3] == [1, 2, 4]
    no_share = attrs.evolve(GEN_B, fees=attrs.evolve(GEN_B.fees, insurance_share_ppm=0))
    assert not any(r.drain for r in routes(story.book, BOUNDS, no_share))
    bob = Account("bob", cash_quote=2_000, size_lots=1, cost_quote=10_000)
    both = attrs.evolve(story.book, accounts=(story.book.accounts[0], bob, *story.book.accounts[1:]))
    assert not any(r.drain for r in routes(both, BOUNDS, GEN_B))
    # a trader that needs a loss, or a flat one a profit, has a history of its own: no drain beside it
    loser = attrs.evolve(story.book.accounts[0], principal_quote=1_001)
    assert not any(
        r.drain for r in routes(attrs.evolve(story.book, accounts=(loser, *story.book.accounts[1:])), BOUNDS, GEN_B)
    )
    winner = Account("bob", cash_quote=2_000, principal_quote=1_000)
    with_winner = attrs.evolve(story.book, accounts=(story.book.accounts[0], winner, *story.book.accounts[1:]))
    assert history.profits(with_winner, GEN_B) and not any(r.drain for r in routes(with_winner, BOUNDS, GEN_B))
    # the move against carol stays within the proof's prices: up to 64 quanta below 10,100, and the
    # 2,048 the story needs lie beyond them
    near = Bounds(accounts=2, max_price=10_100)
    assert [r.drain for r in routes(story.book, near, GEN_B) if r.drain] == [1, 2, 4, 8, 16, 32, 64]
    assert with_history(GEN_B, CLAIM_NO_HAIRCUT, story, 0, near) is None


def test_a_history_whose_cash_no_try_meets_is_not_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """The history believes only deposits that meet every trader's cash: the same build, marked as
    missing it, tells nothing."""
    real = history.topped_up

    def missing(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 (the real one's arguments, passed on)
        done = real(*args, **kwargs)
        return None if done is None else attrs.evolve(done, exact=False)

    assert with_history(POLICY, CLAIM, _story(), 0, BOUNDS) is not None
    monkeypatch.setattr(history, "topped_up", missing)
    assert with_history(POLICY, CLAIM, _story(), 0, BOUNDS) is None


# --- the order book's inventory held by the maker, the pools' positions taken over (session 35) ---

BITMEX = load_preset("bitmex")
NO_HAIRCUT = catalog.get("no-haircut")


def _bitmex_story() -> Story:
    """BitMEX's no-haircut as check's z3 answers it (coin values: a contract worth XBT 0.0001 at
    10,000): the order book short a contract, the fund long it, neither with cash; the coin value
    falls a quantum, the fund is bankrupt by XBT 0.00000001 and its ADL takes the short's profit."""
    accounts = (
        Account("alice"),
        Account("liquidity", Role.LIQUIDITY, size_lots=-1, cost_quote=-10_000),
        Account("insurance_fund", Role.INSURANCE_FUND, size_lots=1, cost_quote=10_000),
        Account("fee_account", Role.FEE_ACCOUNT),
        Account("backstop_vault", Role.BACKSTOP_VAULT),
        Account("venue", Role.VENUE),
        Account("clearing", Role.CLEARING),
    )
    return Story(Book(Market("PERP", 10_000), accounts), (MarkPrice(9_999),))


def test_bitmex_s_fund_takes_carol_over_while_the_maker_holds_the_order_book_s_short() -> None:
    """On BitMEX every liquidation goes to the fund (``fund_unwind_ppm``), so no route gives the order
    book its short; the maker holds it, as from_empty's does, and the fund takes carol's long over at
    10,000 with nothing left: 128 quanta above (1% initial margin on XBT 0.0001 is more than the 64
    of a move half as far), then the fund's bankruptcy deleverages the maker."""
    story = _bitmex_story()
    assert from_empty(BITMEX, NO_HAIRCUT, story, 0) is None
    built = with_history(BITMEX, NO_HAIRCUT, story, 0, BOUNDS)
    assert built is not None
    events = built.story.events
    assert events[:2] == (Deposit("carol", 128), Deposit("maker", 10_385))
    assert events[2:] == (
        MarkPrice(10_128),
        Trade("carol", "maker", 1, 10_128, Taker.SELLER),
        MarkPrice(10_000),
        MarkPrice(9_999),
    )
    reached = _reached(built)
    assert reached.account("insurance_fund").size_lots == 1 and reached.account("insurance_fund").cash_quote == 0
    assert reached.account("maker").size_lots == -1 and reached.account("liquidity").size_lots == 0
    assert reached.account("carol").size_lots == 0 and reached.account("carol").cash_quote == 0
    assert first_violation(BITMEX, NO_HAIRCUT, list(built.steps)) == built.failing == built.prefix
    fills = [o for o in built.steps[built.failing].outcomes if type(o).__name__ == "AdlFill" and o.lots]
    assert [(o.winner, o.lots) for o in fills] == [("maker", 1)]


def test_a_route_giving_the_order_book_its_short_comes_first_and_fails_on_bitmex(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    story = _bitmex_story()
    taken = [r for r in routes(story.book, BOUNDS, BITMEX) if r.taken_over]
    first_held = next(i for i, r in enumerate(taken) if r.maker_holds_book)
    assert first_held > 0 and not any(r.maker_holds_book for r in taken[:first_held])  # every pool first
    assert all(len(r.taken_over) == 2 for r in taken[:first_held])
    assert all(len(r.taken_over) == 1 for r in taken[first_held:])
    assert taken[first_held].taken_over == ((1, 1, 0),)  # the fund's long alone, a tick away first
    # the order book alone never leaves the maker the pools': a book without a pool's position gets none
    alone = attrs.evolve(
        story.book,
        accounts=tuple(
            attrs.evolve(a, size_lots=0, cost_quote=0) if a.role is Role.INSURANCE_FUND else a
            for a in story.book.accounts
        ),
    )
    alone = attrs.evolve(alone, accounts=(Account("alice", size_lots=1, cost_quote=10_000), *alone.accounts[1:]))
    assert not any(r.maker_holds_book for r in routes(alone, BOUNDS, BITMEX))
    # only the fund holds a position beside alice's: every pool taken over is the fund alone, tried once
    fund_only = attrs.evolve(
        alone,
        accounts=tuple(
            attrs.evolve(a, size_lots=0, cost_quote=0) if a.role is Role.LIQUIDITY else a for a in story.book.accounts
        ),
    )
    fund_only = attrs.evolve(
        fund_only, accounts=(Account("alice", size_lots=-1, cost_quote=-10_000), *fund_only.accounts[1:])
    )
    tried = [r for r in routes(fund_only, BOUNDS, BITMEX) if r.taken_over]
    assert tried and not any(r.maker_holds_book for r in tried) and len(set(tried)) == len(tried)
    # every pool taken over, the order book among them: none of those routes tells BitMEX's story
    monkeypatch.setattr(history, "_taken_sets", lambda pools: iter([(pools, False)]))
    assert with_history(BITMEX, NO_HAIRCUT, story, 0, BOUNDS) is None


def _hyperliquid_adl_story() -> Story:
    """Hyperliquid's adl-price-fair as check's z3 answers it: alice short a lot with USDC 2.50, the
    order book short 99,952, the vault long 99,953 with USDC 999.53; the mark falls 2 quanta, the vault
    is bankrupt and ADL closes the shorts at the previous mark, a gap of 2 where the fair one is 1."""
    accounts = (
        Account("alice", cash_quote=250, size_lots=-1, cost_quote=-10_000),
        Account("liquidity", Role.LIQUIDITY, size_lots=-99_952, cost_quote=-999_520_000),
        Account("insurance_fund", Role.INSURANCE_FUND),
        Account("fee_account", Role.FEE_ACCOUNT),
        Account("backstop_vault", Role.BACKSTOP_VAULT, cash_quote=99_953, size_lots=99_953, cost_quote=999_530_000),
        Account("venue", Role.VENUE),
        Account("clearing", Role.CLEARING),
    )
    return Story(Book(Market("PERP", 10_000), accounts, net_deposits_quote=100_203), (MarkPrice(9_998),))


def test_hyperliquid_s_vault_takes_carol_over_with_her_margin_as_its_cash() -> None:
    """The vault's 99,953 lots come whole from one takeover (below two thirds of maintenance the
    position and its margin move together: no partial liquidation), with her 999.53 as the vault's
    cash, so the vault deposits nothing; the maker holds the order book's short."""
    policy, claim = load_preset("hyperliquid"), catalog.get("adl-price-fair")
    story = _hyperliquid_adl_story()
    built = with_history(policy, claim, story, 0, BOUNDS)
    assert built is not None
    events = built.story.events
    assert Deposit("carol", 99_953 * 256 + 99_953) in events  # the move back takes 256 a lot, leaves 999.53
    assert not any(isinstance(e, Deposit) and e.account == "backstop_vault" for e in events)
    assert events[3:] == (
        MarkPrice(10_256),
        Trade("carol", "maker", 99_953, 10_256, Taker.SELLER),
        MarkPrice(10_000),
        Trade("maker", "alice", 1, 10_000, Taker.BUYER),
        MarkPrice(9_998),
    )
    reached = _reached(built)
    vault = reached.account("backstop_vault")
    assert (vault.size_lots, vault.cash_quote) == (99_953, 99_953)
    assert reached.account("maker").size_lots == -99_952 and reached.account("liquidity").size_lots == 0
    assert first_violation(policy, claim, list(built.steps)) == built.failing == built.prefix


def test_a_takeover_handed_to_another_account_is_another_history() -> None:
    """Every pool first: carol's short meant for the order book goes to the vault (below two thirds of
    maintenance), whose bankruptcy on the way to dave's mark deleverages the maker. The book it reaches
    has the order book flat, not short: that route is refused, and no step before z3's event is a
    bankruptcy."""
    policy, claim = load_preset("hyperliquid"), catalog.get("adl-price-fair")
    story = _hyperliquid_adl_story()
    every = next(
        r for r in routes(story.book, BOUNDS, policy) if r.taken_over == ((-99_952, 256, 0), (99_953, 256, 99_953))
    )
    assert not every.maker_holds_book and history._reach(policy, story.book, every) is None
    built = with_history(policy, claim, story, 0, BOUNDS)
    assert not any(type(o).__name__ == "Bankrupt" for s in built.steps[: built.failing] for o in s.outcomes)


def test_a_debt_is_reached_only_by_a_bankruptcy_that_breaks_the_claim_itself() -> None:
    """broker-reg-t's loss-bounded-by-collateral as check's z3 answers it: alice long a share at
    USD 100.00 with USD 50.00 beside a debt of USD 50.01 the broker fronted. The engine's own history
    gives the debt at her bankruptcy, which breaks the claim there (value 0 less the debt), and after
    it a trade that opens her share is refused (a price below the mark earns no margin credit, and a
    deposit repays the debt first): the story stays a state."""
    policy, claim = load_preset("broker-reg-t"), catalog.get("loss-bounded-by-collateral")
    accounts = (
        Account("alice", cash_quote=5_000, size_lots=1, cost_quote=10_000, debt_quote=5_001),
        Account("liquidity", Role.LIQUIDITY, size_lots=-1, cost_quote=-10_000),
        *system_accounts(),
    )
    story = Story(Book(Market("PERP", 10_000), accounts, net_deposits_quote=5_000), (MarkPrice(10_000),))
    assert with_history(policy, claim, story, 0, BOUNDS) is None
    empty = Book(Market("PERP", 20_000), (Account("alice"), Account("maker"), *accounts[1:]))
    empty = attrs.evolve(empty, accounts=tuple(attrs.evolve(a, size_lots=0, cost_quote=0) for a in empty.accounts))
    gap = (
        Deposit("alice", 10_000),
        Deposit("maker", 100_000),
        Trade("alice", "maker", 1, 20_000, Taker.SELLER),
        MarkPrice(4_999),  # a gap of 15,001 on her 10,000: bankrupt by 5,001, the debt fronted
    )
    steps = replay(policy, Story(empty, gap))
    assert steps is not None and steps[-1].after.account("alice").debt_quote == 5_001
    assert first_violation(policy, claim, steps) == len(gap) - 1  # the bankruptcy itself breaks it
    share = (MarkPrice(10_000), Trade("alice", "maker", 1, 5_000, Taker.SELLER))
    assert replay(policy, Story(empty, gap + share)) is None  # her share, beside the debt, refused
    repaid = replay(policy, Story(empty, (*gap, Deposit("alice", 5_000))))
    assert repaid is not None  # a deposit repays the debt before it is cash
    assert (repaid[-1].after.account("alice").cash_quote, repaid[-1].after.account("alice").debt_quote) == (0, 1)


def test_the_maker_ends_holding_the_order_book_s_lot_beside_traders_on_both_sides() -> None:
    """alice long 3, bob short 1, the order book short 1 and the fund short 1 (carol's, taken over): the
    maker, long carol's lot after her trade, sells alice 2 at the mark and bob sells her 1, so the maker
    ends short the order book's lot."""
    accounts = (
        Account("alice", cash_quote=10_000, size_lots=3, cost_quote=30_000),
        Account("bob", cash_quote=10_000, size_lots=-1, cost_quote=-10_000),
        Account("liquidity", Role.LIQUIDITY, size_lots=-1, cost_quote=-10_000),
        Account("insurance_fund", Role.INSURANCE_FUND, size_lots=-1, cost_quote=-10_000),
        Account("fee_account", Role.FEE_ACCOUNT),
        Account("backstop_vault", Role.BACKSTOP_VAULT),
        Account("venue", Role.VENUE),
        Account("clearing", Role.CLEARING),
    )
    book = Book(Market("PERP", 10_000), accounts, net_deposits_quote=20_000)
    route = Route((("alice", 10_000), ("bob", 10_000)), taken_over=((-1, 128, 0),), maker_holds_book=True)
    _, events = history.history_events(book, route, {"alice": 10_000, "bob": 10_000})
    trades = [e for e in events if isinstance(e, Trade)]
    assert trades == [
        Trade("maker", "carol", 1, 9_872, Taker.BUYER),
        Trade("alice", "maker", 2, 10_000, Taker.BUYER),
        Trade("alice", "bob", 1, 10_000, Taker.BUYER),
    ]


def test_a_fund_whose_story_holds_no_cash_takes_no_margin_with_carol_s_lot() -> None:
    """BitMEX's fund takes carol over with what she is left: left nothing, it ends with the story's
    nothing; left a quantum, its quantum is not the story's, and the route reaches nothing."""
    book = _bitmex_story().book
    for left, fund in ((0, 0), (1, None), (49, None)):
        reached = history._reach(BITMEX, book, Route((), taken_over=((1, 128, left),), maker_holds_book=True))
        assert (None if reached is None else reached[2].account("insurance_fund").cash_quote) == fund

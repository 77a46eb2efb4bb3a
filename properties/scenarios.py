"""Named stress scenarios: deterministic stories built from the policy's own margin rules.

Each scenario sizes deposits from the policy's initial margin (so the opening trades are accepted
by any policy) and sizes the price gap from the account's equity (so the gap really bankrupts it).
Its starting book, and the book its gap meets, are well formed (``solvent.rules.wellformed``: every
trader covers initial margin at the mark), the books the prover starts from; a scenario whose
setup is not raises ``ValueError`` naming what breaks.
Prices are quote quanta per lot; the starting mark is 10,000 (e.g. $100.00 in cents). Each story
is told in the venue's terms and translated for the engine by the policy's contract
(``solvent.rules.contract.to_engine``): on an inverse contract (BitMEX XBTUSD) the long is a long
of contracts, the price starts at 10,000 quote units per coin and the crash is a fall in that
price, exactly as on a linear one.

- ``gap-crash``: one-tick gap. Alice is long near maximum leverage against Bob; the mark gaps down
  by twice Alice's equity per lot; the insurance fund holds a quarter of the deficit.
- ``gap-crash-funded``: the same gap with an insurance fund ten times the position's notional.
- ``deposit-after-liquidation``: the gap crash, then Alice deposits again (Backpack, Oct 2025,
  docs/venues.md#backpack-debt-carry, #backpack-october-2025).
- ``whale``: a two-sided book. A whale is long against three shorts of different entry price and
  leverage; the mark rises 3%, then gaps down through the whale's bankruptcy price, so the ADL
  queue order matters.
- ``flat-winner``: Carol takes a profit and goes flat before the crash; who pays the deficit?

For a policy of several markets (``[[market]]`` tables, docs/portfolio.md) the stress scenarios
run on a book of its markets, by their names, and one more runs by default:

- ``cross-market-gap``: Alice is long near maximum leverage in the first two markets, each on its
  own tiers (Carol short against her in the first, Bob in the second); the second market gaps
  down by twice Alice's equity per lot, so her whole account is bankrupt by one market's move.
  Carol, who holds nothing in the market that moved, is where "the other markets" are tested.
  Named with ``--scenario`` it runs for any policy, on a book of two markets sharing the tiers.

For a policy that declares isolated margin (``[margin].modes`` or a market's ``modes``,
rules/isolated.py) one more runs by default:

- ``isolated-gap``: Alice keeps ten times the position's notional in cross and puts just above
  initial margin into an isolated long against Bob; the mark gaps down by twice that margin per
  lot, so the isolated position is bankrupt on its own margin while Alice's cross cash is untouched.

For a policy that lends a collateral asset (``[[collateral]] lends = true``, rules/lending.py) two
more run by default, the seed's question, "do spot holders pay perp losses?", and a depositor the
deposit cut sinks:

- ``lenders-pay-perp-loss``: Carol deposits the first lent asset and holds no position. Alice
  deposits cash, borrows some of Carol's asset against it (withdrawn, as a borrower does) and goes
  long near maximum leverage against Bob; the mark gaps down by twice her equity per lot. Her
  perp loss takes the cash that backed the borrow, so the borrow goes down the asset's own
  waterfall: the fund, then Carol's deposit through the deposit index (Drift, Mango) or Carol
  deleveraged into a USDC claim on Alice (Backpack's lender ADL). A policy that lends nothing
  has no such scenario (bad input, exit 2, when named).
- ``depositor-sunk-by-cut``: Alice deposits the first lent asset, goes long against Carol, the mark
  falls and she sells back: flat, a loss of three quarters of her deposit's initial-weighted value
  in settlement cash, which the deposit backs. Bob borrows all of her deposit (covered at its
  initial liability weight) and goes long four times its worth near maximum leverage against
  Dave; the mark rises to Dave's bankruptcy price with the cost to close, so Dave's short is
  closed into the order book whole and nobody but Bob holds a position. The mark crashes until
  Bob's cash buys back a quarter of his borrow: the rest is cut from Alice's deposit (Drift,
  Mango), which sinks her; she is resolved in Bob's turn, the fund holds only its floor, the
  socialized loss has no lots, and the settlement currency's depositors pay what she owes
  (``[settlement] bankruptcy``, docs/model.md#the-scenario-depositor-sunk-by-cut-session-31). On
  Backpack the lender ADL pays her the oracle value instead and Bob carries the debt.

For a policy with a collateral asset it does not lend, one more runs when named:

- ``flat-loan-crash``: Alice deposits BTC only (the policy's BTC table, else its first asset not
  lent), ten long margins' worth at its initial weight, goes long against Bob, loses until her
  equity is her maintenance and two fees, and sells back: flat, her loss a negative settlement
  balance (a loan backed by her BTC). BTC's oracle price falls 10%: she is liquidated, her BTC
  sold, and what the sale leaves of the loan goes down the waterfall, where no position is left
  for ADL to close (docs/portfolio.md#a-flat-accounts-loan-through-its-collateral).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import attrs

from solvent.properties.incidents import INCIDENTS
from solvent.properties.registry import Registry
from solvent.properties.story import Scenario, ScenarioError, Story, Untold
from solvent.rules.arith import Rounding, mul_ppm
from solvent.rules.assets import margin_equity
from solvent.rules.book import Asset, Book, Market, isolated_name, new_book
from solvent.rules.contract import lot_value, price_of, to_engine
from solvent.rules.engine import RejectedEvent, run
from solvent.rules.events import (
    AddMargin,
    AssetDeposit,
    AssetPrice,
    AssetWithdraw,
    Deposit,
    Event,
    MarkPrice,
    Taker,
    Trade,
)
from solvent.rules.isolated import with_isolated_positions
from solvent.rules.liquidation import slip_per_lot
from solvent.rules.margin import equity, initial_margin, maintenance_margin
from solvent.rules.market_funds import fund_deposits, shaped_for
from solvent.rules.policy import Policy
from solvent.rules.waterfall import InsuranceFund
from solvent.rules.wellformed import reasons

MARK = 10_000  # quote quanta per lot at the start (e.g. $100.00 in cents)
LOTS = 100  # the leveraged account's position


def _fee(policy: Policy, notional: int) -> int:
    rate = max(policy.fees.taker_ppm, policy.fees.maker_ppm)
    return mul_ppm(notional, rate, rounding=Rounding.CEIL)


def leveraged_deposit(policy: Policy, lots: int, price: int) -> int:
    """Just above initial margin plus fees at venue price ``price``: the most leverage the policy
    allows, with 10% headroom."""
    mark = lot_value(policy.contract, price)
    im = initial_margin(policy.margin, policy.rounding, lots, mark)
    return im + im // 10 + _fee(policy, lots * mark) + 1


def _safe_deposit(policy: Policy, lots: int, price: int, leverage: int = 1) -> int:
    """Collateral for ``leverage``× (never less than initial margin with headroom)."""
    mark = lot_value(policy.contract, price)
    return max(lots * mark // leverage, leveraged_deposit(policy, lots, price)) + _fee(policy, lots * mark)


def gap_price(policy: Policy, book: Book, name: str, price: int, take: int | None = None) -> int:
    """A venue price that takes ``take`` (default: twice the account's equity) from its position
    (its lot value at least 1/10 of the one at ``price``), rounded on the venue's price grid toward
    the account's loss."""
    account = book.account(name)
    mark = lot_value(policy.contract, price)
    take = 2 * equity(policy.margin, account) if take is None else take
    drop = -(-take // abs(account.size_lots))
    direction = -1 if account.size_lots > 0 else 1
    target = max(mark + direction * drop, mark // 10)
    exact = Fraction(price_of(policy.contract, target))
    # a lower lot value hurts the engine's long; the venue price that gives it rounds the same way
    # on a linear contract and the other way on an inverse one (v = V / P)
    lower = (direction < 0) != policy.contract.is_inverse
    return math.floor(exact) if lower else math.ceil(exact)


def market_names(policy: Policy, at_least: int = 1) -> tuple[str, ...]:
    """The markets of a scenario's book: the policy's own (its ``[[market]]`` names), or ``PERP``
    (then ``PERP2``…) where it declares fewer than ``at_least``."""
    names = policy.market_names
    if len(names) >= at_least:
        return names
    return ("PERP",) + tuple(f"PERP{i}" for i in range(2, at_least + 1))


def _seeded(
    policy: Policy, traders: tuple[str, ...], liquidity: int, fund: int, markets: int = 1
) -> tuple[Book, list[Event]]:
    names, mark = market_names(policy, markets), lot_value(policy.contract, MARK)
    more = tuple(Market(name, mark) for name in names[1:])
    book = shaped_for(policy.waterfall, new_book(market=names[0], mark_quote=mark, traders=traders, more_markets=more))
    events: list[Event] = [Deposit("liquidity", liquidity)]
    # a fund kept per market is split over the markets (``[waterfall] fund_shares_ppm``)
    events += fund_deposits(policy.waterfall, book, fund)
    return book, events


def _engine(policy: Policy, events: list[Event]) -> list[Event]:
    """The venue-terms events as the engine's (the policy's contract translates them)."""
    return [to_engine(policy.contract, e) for e in events]


def _well_formed(policy: Policy, book: Book, what: str) -> Book:
    """``book``, which must be well formed (``solvent.rules.wellformed``): a scenario that starts, or
    meets its gap, from a book the prover would not start from is a bug in the scenario."""
    broken = reasons(policy, book)
    if broken:
        raise ValueError(f"{what} is not a well-formed book: {'; '.join(broken)}")
    return book


def _story(policy: Policy, book: Book, events: list[Event]) -> Story:
    return Story(_well_formed(policy, book, "the scenario's starting book"), tuple(_engine(policy, events)))


def _after(policy: Policy, book: Book, events: list[Event]) -> Book:
    """The book the gap meets: the setup run, every trader covering initial margin at the mark."""
    return _well_formed(
        policy, run(policy, book, _engine(policy, events))[-1].after, "the book before the scenario's gap"
    )


def _crash(policy: Policy, fund_share: tuple[int, int]) -> Story:
    notional = LOTS * lot_value(policy.contract, MARK)
    alice = leveraged_deposit(policy, LOTS, MARK)
    num, den = fund_share
    fund = max(alice * num // den, 1)
    book, events = _seeded(policy, ("alice", "bob", "carol"), 10 * notional, fund)
    events += [
        Deposit("alice", alice),
        Deposit("bob", _safe_deposit(policy, LOTS, MARK)),
        Deposit("carol", notional // 2),
        Trade("alice", "bob", LOTS, MARK, Taker.BUYER),
    ]
    events.append(MarkPrice(gap_price(policy, _after(policy, book, events), "alice", MARK)))
    return _story(policy, book, events)


def gap_crash(policy: Policy) -> Story:
    return _crash(policy, (1, 4))


def gap_crash_funded(policy: Policy) -> Story:
    return _crash(policy, (100, 1))


def deposit_after_liquidation(policy: Policy) -> Story:
    story = _crash(policy, (1, 4))
    return attrs.evolve(story, events=story.events + (Deposit("alice", leveraged_deposit(policy, LOTS, MARK)),))


def whale(policy: Policy) -> Story:
    whale_lots, short_lots = 300, 100
    book, events = _seeded(
        policy, ("whale", "bob", "carol", "dave"), 10 * whale_lots * lot_value(policy.contract, MARK), 1
    )
    up = MARK + MARK * 3 // 100
    events += [
        Deposit("whale", leveraged_deposit(policy, whale_lots, up)),
        Deposit("bob", _safe_deposit(policy, short_lots, up, leverage=2)),
        Deposit("carol", _safe_deposit(policy, short_lots, up, leverage=3)),
        Deposit("dave", _safe_deposit(policy, short_lots, up, leverage=1)),
        Trade("whale", "bob", short_lots, MARK, Taker.BUYER),
        MarkPrice(up),
        Trade("whale", "carol", short_lots, up, Taker.BUYER),
        Trade("whale", "dave", short_lots, up, Taker.BUYER),
    ]
    events.append(MarkPrice(gap_price(policy, _after(policy, book, events), "whale", up)))
    return _story(policy, book, events)


def flat_winner(policy: Policy) -> Story:
    notional = LOTS * lot_value(policy.contract, MARK)
    book, events = _seeded(policy, ("alice", "bob", "carol"), 10 * notional, 1)
    up = MARK + MARK * 2 // 100
    events += [
        Deposit("alice", leveraged_deposit(policy, LOTS, up)),
        Deposit("bob", 2 * _safe_deposit(policy, LOTS, up)),
        Deposit("carol", _safe_deposit(policy, LOTS // 10, up)),
        Trade("carol", "bob", LOTS // 10, MARK, Taker.BUYER),
        MarkPrice(up),
        Trade("bob", "carol", LOTS // 10, up, Taker.SELLER),
        Trade("alice", "bob", LOTS, up, Taker.BUYER),
    ]
    events.append(MarkPrice(gap_price(policy, _after(policy, book, events), "alice", up)))
    return _story(policy, book, events)


def _gap_market(policy: Policy) -> int:
    """The market the cross-market gap moves: the second, or where the policy keeps a fund per
    group of markets the first whose group's fund is kept in another market's balance (so the
    story shows a group's one fund paying for a market other than the one it is kept under)."""
    if policy.waterfall.grouped:
        return next((i for i in range(1, len(policy.market)) if policy.fund_of(i) != i), 1)
    return 1


def cross_market_gap(policy: Policy) -> Story:
    notional = LOTS * lot_value(policy.contract, MARK)
    index = _gap_market(policy)
    second = policy.focused(index)  # the gapping market's tiers, where the policy declares them
    alice = leveraged_deposit(policy, LOTS, MARK) + leveraged_deposit(second, LOTS, MARK)
    book, events = _seeded(policy, ("alice", "bob", "carol"), 20 * notional, max(alice // 4, 1), markets=2)
    name = book.markets[index].name
    events += [
        Deposit("alice", alice),
        Deposit("bob", _safe_deposit(second, LOTS, MARK)),
        Deposit("carol", _safe_deposit(policy, LOTS, MARK)),
        Trade("alice", "carol", LOTS, MARK, Taker.BUYER),
        Trade("alice", "bob", LOTS, MARK, Taker.BUYER, market=name),
    ]
    before = _after(policy, book, events).focused(index)
    events.append(MarkPrice(gap_price(second, before, "alice", MARK), market=name))
    return _story(policy, book, events)


def isolated_gap(policy: Policy) -> Story:
    """Alice holds ten times the position's notional in cross and puts just above initial margin
    into an isolated position in the first market the policy allows it in (docs/portfolio.md
    decision 3a), long near maximum leverage against Bob (isolated too in an isolated-only market);
    the mark gaps down by twice the isolated margin per lot. The position is bankrupt on its own margin and its deficit goes down the
    waterfall; Alice's cross cash pays none of it."""
    names = market_names(policy, 1)
    allowed = policy.isolated_markets(names) or tuple(
        i for i, name in enumerate(names) if "isolated" in policy.modes_in(name)
    )
    if not allowed:
        raise ScenarioError(
            f"the scenario isolated-gap needs a market that allows isolated margin; {policy.name!r} allows "
            f"{' and '.join(policy.modes_in(names[0]))} margin only ([margin].modes)"
        )
    index = allowed[0]
    name, own = names[index], policy.focused(index)  # the market's own tiers
    market = "" if index == 0 else name
    notional = LOTS * lot_value(policy.contract, MARK)
    margin = leveraged_deposit(own, LOTS, MARK)
    book, events = _seeded(policy, ("alice", "bob"), 10 * notional, max(margin // 4, 1))
    # in an isolated-only market (dYdX v4's isolated markets) Bob's short is isolated too
    bob_isolated = "cross" not in policy.modes_in(name)
    book = with_isolated_positions(book, (("alice", name),) + ((("bob", name),) if bob_isolated else ()))
    safe = _safe_deposit(own, LOTS, MARK)
    events += [
        Deposit("alice", 10 * notional + margin),
        Deposit("bob", safe),
        AddMargin("alice", margin, market=market),
        *([AddMargin("bob", safe, market=market)] if bob_isolated else []),
        Trade("alice", "bob", LOTS, MARK, Taker.BUYER, market=market),
    ]
    after = _after(policy, book, events).focused(index)
    events.append(MarkPrice(gap_price(own, after, isolated_name("alice", name), MARK), market=market))
    return _story(policy, book, events)


#: the lent asset's price in ``lenders-pay-perp-loss``, quote quanta per asset quantum, and what
#: Carol deposits of it (as a share of the position's notional, ten times it)
LENT_PRICE = 100


def _lent_asset(policy: Policy, scenario: str) -> Any:
    """The policy's first lent asset; a policy that lends nothing has no such scenario."""
    rule = next((c for c in policy.collateral if c.lends), None)
    if rule is None:
        raise ScenarioError(
            f"the scenario {scenario} needs a [[collateral]] table with lends = true (a lent asset); "
            f"{policy.name!r} lends {[c.name for c in policy.collateral if c.lends] or 'nothing'}"
        )
    return rule


def lenders_pay_perp_loss(policy: Policy) -> Story:
    rule = _lent_asset(policy, "lenders-pay-perp-loss")
    notional = LOTS * lot_value(policy.contract, MARK)
    margin = leveraged_deposit(policy, LOTS, MARK)
    # a borrow worth half the margin, covered at its initial liability weight by as much cash again
    borrowed = max(margin // (2 * LENT_PRICE), 1)
    cover = -(-borrowed * LENT_PRICE * rule.initial_liability_weight_ppm // 1_000_000)
    book, events = _seeded(policy, ("alice", "bob", "carol"), 10 * notional, 1)
    book = new_book(
        market=book.market.name,
        mark_quote=book.market.mark_quote,
        traders=("alice", "bob", "carol"),
        assets=(Asset(rule.name, LENT_PRICE),),
    )
    events += [
        AssetDeposit("carol", rule.name, 10 * notional // LENT_PRICE),
        Deposit("alice", margin + cover),
        Deposit("bob", _safe_deposit(policy, LOTS, MARK)),
        AssetWithdraw("alice", rule.name, borrowed),
        Trade("alice", "bob", LOTS, MARK, Taker.BUYER),
    ]
    events.append(MarkPrice(gap_price(policy, _after(policy, book, events), "alice", MARK)))
    return _story(policy, book, events)


#: ``depositor-sunk-by-cut``: the share of alice's lent deposit (at its initial weight) her realized
#: loss takes, the borrow's worth in bob's notional, and the share of the borrow his cash buys back
#: after the crash (each a fraction)
SUNK_LOSS, SUNK_LEVERAGE, SUNK_BUYBACK = Fraction(3, 4), 4, Fraction(1, 4)


def depositor_sunk_by_cut(policy: Policy) -> Story:
    """The story below, or :class:`Untold` where the policy's rules do not let it unfold."""
    try:
        return _depositor_sunk_by_cut(policy)
    except RejectedEvent as exc:
        raise Untold(f"an event was refused while the story was told: {exc}") from None


def _depositor_sunk_by_cut(policy: Policy) -> Story:
    """Alice's lent deposit backs a realized loss; bob borrows all of it and is closed at a crash
    with cash for a quarter of it; the rest is cut from alice's deposit, which sinks her. Dave's
    short, bob's counterparty, is closed into the order book first, so no trader holds a position
    when alice is resolved (the socialized loss has no lots): the fund, then the settlement
    currency's depositors pay what she owes (``[settlement] bankruptcy``)."""
    rule = _lent_asset(policy, "depositor-sunk-by-cut")
    price, lots = LENT_PRICE, LOTS
    notional = lots * lot_value(policy.contract, MARK)
    units = max(notional // (SUNK_LEVERAGE * price), 1)
    value = units * price
    traders = ("alice", "bob", "carol", "dave")
    book, events = _seeded(policy, traders, 10 * notional, _fund_floor(policy, rule))
    book = new_book(
        market=book.market.name, mark_quote=book.market.mark_quote, traders=traders, assets=(Asset(rule.name, price),)
    )
    # alice: long against carol, the mark falls, she sells back: flat, her loss a negative settlement
    # balance her deposit backs, three quarters of its initial-weighted value
    events += [
        AssetDeposit("alice", rule.name, units),
        Deposit("carol", _safe_deposit(policy, lots, MARK)),
        Trade("alice", "carol", lots, MARK, Taker.BUYER),
    ]
    loss = int(value * rule.initial_weight_ppm // 1_000_000 * SUNK_LOSS)
    low = gap_price(policy, _after(policy, book, events), "alice", MARK, take=loss)
    events += [MarkPrice(low), Trade("carol", "alice", lots, low, Taker.SELLER)]
    # bob: borrows all of alice's deposit, covered at its initial liability weight, and goes long a
    # notional SUNK_LEVERAGE times the borrow's worth near maximum leverage against dave
    bob_lots = -(-SUNK_LEVERAGE * value // lot_value(policy.contract, low))
    cover = -(-value * rule.initial_liability_weight_ppm // 1_000_000)
    events += [
        Deposit("bob", cover + leveraged_deposit(policy, bob_lots, low)),
        Deposit("dave", leveraged_deposit(policy, bob_lots, low)),
        AssetWithdraw("bob", rule.name, units),
        Trade("bob", "dave", bob_lots, low, Taker.BUYER),
    ]
    # the mark rises to the highest price at which dave's equity still pays for closing his short
    # (the liquidation's slippage and a fee): it is closed into the order book whole, and nobody
    # but dave loses by it
    up = _closing_price(policy, _after(policy, book, events), "dave", low)
    events.append(MarkPrice(up))
    before = _after(policy, book, events)
    if before.account("dave").size_lots != 0:
        raise Untold("dave's short is not closed whole before the crash")
    if before.account("bob").size_lots == 0:
        raise Untold("bob's long was closed before the crash")
    # the crash: bob's cash after his loss buys back a quarter of his borrow
    take = max(before.account("bob").cash_quote - int(value * SUNK_BUYBACK), 1)
    events.append(MarkPrice(gap_price(policy, before, "bob", up, take=take)))
    return _story(policy, book, events)


def _closing_price(policy: Policy, book: Book, name: str, price: int) -> int:
    """The venue price, moved from ``price`` toward the loss of ``name``'s position, at which its
    equity still covers closing the whole position at the liquidation's fill and a fee: its
    bankruptcy price with the cost to close, on the grid, a tick back while the rounded costs
    exceed what is left."""
    account = book.account(name)
    size, cash, entry = account.size_lots, equity(policy.margin, account), lot_value(policy.contract, price)
    rate = policy.liquidation.slippage_ppm + max(policy.fees.taker_ppm, policy.fees.maker_ppm)
    # the position's loss at its bankruptcy price with the costs: cash / (1 + rate), near enough
    at = gap_price(policy, book, name, price, take=cash * 1_000_000 // (1_000_000 + rate))
    back = -1 if at > price else 1  # one tick toward the position's gain (the venue price moved away)

    def left(at: int) -> int:
        v = lot_value(policy.contract, at)
        return cash + size * (v - entry) - abs(size) * slip_per_lot(policy.liquidation, v) - _fee(policy, abs(size) * v)

    for _ in range(1_000):  # the estimate is within a few ticks of it
        if left(at) >= 0:
            return at
        at += back
    raise Untold(f"no price near {at} leaves {name}'s equity above the cost to close its position")


def _fund_floor(policy: Policy, rule: Any) -> int:
    """An empty fund: what it keeps (its floor, the policy's or the lent asset's), nothing above."""
    layer = policy.layer(InsuranceFund)
    return max(layer.floor_quote if layer is not None else 0, rule.fund_floor_quote)


#: ``flat-loan-crash``: the asset alice deposits, in long margins at its initial weight, and the
#: share of the asset's price its oracle move takes (ppm)
LOAN_COLLATERAL, LOAN_CRASH_PPM = 10, 100_000


def flat_loan_crash(policy: Policy) -> Story:
    rule = _loan_asset(policy)
    notional = LOTS * lot_value(policy.contract, MARK)
    margin = leveraged_deposit(policy, LOTS, MARK)
    price = _coin_price(policy, rule)
    # ten times the long's margin at the asset's initial weight: the long opens on the asset alone
    units = -(-LOAN_COLLATERAL * margin * 1_000_000 // (price * rule.initial_weight_ppm))
    book, events = _seeded(policy, ("alice", "bob"), 10 * notional, 1)
    book = new_book(
        market=book.market.name,
        mark_quote=book.market.mark_quote,
        traders=("alice", "bob"),
        assets=(Asset(rule.name, price),),
    )
    events += [
        AssetDeposit("alice", rule.name, units),
        Deposit("bob", _safe_deposit(policy, LOTS, MARK)),
        Trade("alice", "bob", LOTS, MARK, Taker.BUYER),
    ]
    # the mark falls until her equity is her maintenance and two fees: not liquidated, her loss
    # booked in the settlement currency (a negative balance: the loan)
    opened = _after(policy, book, events)
    alice = opened.account("alice")
    mark = lot_value(policy.contract, MARK)
    keep = maintenance_margin(policy.margin, policy.rounding, LOTS, mark) + 2 * _fee(policy, notional)
    drop = max((margin_equity(policy, opened.assets, alice) - keep) // LOTS, 1)
    low = math.ceil(Fraction(price_of(policy.contract, mark - drop)))
    events += [MarkPrice(low), Trade("bob", "alice", LOTS, low, Taker.SELLER)]  # she closes: flat, owing
    crash = price - max(mul_ppm(price, LOAN_CRASH_PPM, rounding=Rounding.FLOOR), 1)
    events.append(AssetPrice(rule.name, crash))
    return _story(policy, book, events)


def _coin_price(policy: Policy, rule: Any) -> int:
    """The asset's price per quantum at the perp's starting mark where its quantum and the policy's
    lot are amounts of the same coin ("0.0001 BTC" beside a lot of "0.001 BTC": the mark's value of
    a tenth of a lot), so the story's BTC is the market's; else ``LENT_PRICE``."""
    try:
        (amount, coin), (lot, lot_coin) = rule.quantum.split(), policy.units.lot.split()
        per_quantum = Fraction(amount) / Fraction(lot) * lot_value(policy.contract, MARK)
    except (ValueError, ZeroDivisionError):
        return LENT_PRICE
    return int(per_quantum) if coin == lot_coin == rule.name and per_quantum == int(per_quantum) >= 1 else LENT_PRICE


def _loan_asset(policy: Policy) -> Any:
    """The asset behind ``flat-loan-crash``'s loan: the policy's BTC table where it has one (the
    finding's asset), else its first; a positive initial weight and not lent (a lent asset's
    borrow is ``lenders-pay-perp-loss``'s story)."""
    usable = [c for c in policy.collateral if c.initial_weight_ppm > 0 and not c.lends]
    rule = next((c for c in usable if c.name == "BTC"), usable[0] if usable else None)
    if rule is None:
        raise ScenarioError(
            "the scenario flat-loan-crash needs a [[collateral]] table with a positive initial_weight_ppm "
            "and lends = false (examples/bybit-multi-collateral.toml); "
            f"{policy.name!r} has {[c.name for c in policy.collateral] or 'none'}"
        )
    return rule


#: The named stress scenarios, which ``solvent check`` runs by default.
STRESS: tuple[Scenario, ...] = (
    Scenario("gap-crash", "a leveraged long meets a one-tick gap; the fund holds a quarter of the deficit", gap_crash),
    Scenario("gap-crash-funded", "the same gap with a fund ten times the notional", gap_crash_funded),
    Scenario(
        "deposit-after-liquidation", "the gap crash, then the liquidated user deposits again", deposit_after_liquidation
    ),
    Scenario(
        "whale", "a whale long against three shorts of different entry and leverage gaps through bankruptcy", whale
    ),
    Scenario("flat-winner", "a user takes profit and goes flat before the crash", flat_winner),
)


def _registry() -> Registry[Scenario]:
    """Every scenario Solvent ships: the stress scenarios, then the incident replays
    (``solvent.properties.incidents.INCIDENTS``), which run when named with ``--scenario``."""
    registry: Registry[Scenario] = Registry("scenario", key=lambda s: s.name)
    for scenario in (*STRESS, *PORTFOLIO, *LENDING, *ISOLATED, *COLLATERAL, *INCIDENTS.values()):
        registry.register(scenario, builtin=True)
    return registry


#: Scenarios of a book of several markets, run by default for a policy that declares several
#: (``defaults``), and for any policy when named.
PORTFOLIO: tuple[Scenario, ...] = (
    Scenario(
        "cross-market-gap",
        "a long in two markets; the second gaps through the whole account's equity",
        cross_market_gap,
    ),
)

#: Scenarios of isolated margin, run by default for a policy that declares it (``Policy.isolated_markets``).
ISOLATED: tuple[Scenario, ...] = (
    Scenario(
        "isolated-gap",
        "an isolated long gaps through its own margin while its owner holds ten times more in cross",
        isolated_gap,
    ),
)

#: Scenarios of a lending policy, run by default for a policy that lends a collateral asset.
LENDING: tuple[Scenario, ...] = (
    Scenario(
        "lenders-pay-perp-loss",
        "a borrower's perp loss takes the cash behind its borrow; the lenders cover it",
        lenders_pay_perp_loss,
    ),
    Scenario(
        "depositor-sunk-by-cut",
        "a borrower's unpaid borrow is cut from a depositor whose deposit backs a loss; she sinks and is resolved",
        depositor_sunk_by_cut,
    ),
)

#: Scenarios of collateral assets, run only when named (``--scenario``).
COLLATERAL: tuple[Scenario, ...] = (
    Scenario(
        "flat-loan-crash",
        "a flat account's loan backed by an asset; the asset falls 10% and no position is left to deleverage",
        flat_loan_crash,
    ),
)

SCENARIOS: Registry[Scenario] = _registry()

#: The scenarios ``solvent check`` runs by default (the incident replays run when named).
DEFAULT: tuple[str, ...] = tuple(s.name for s in STRESS)


def defaults(policy: Policy) -> tuple[str, ...]:
    """The scenarios ``solvent check`` runs for ``policy`` by default: the stress scenarios, and
    for a policy of several markets the ones of a book of several (``PORTFOLIO``), for a policy
    that lends a collateral asset the lending ones (``LENDING``)."""
    out = DEFAULT
    if len(policy.market_names) >= 2:
        out += tuple(s.name for s in PORTFOLIO)
    if any(c.lends for c in policy.collateral):
        out += tuple(s.name for s in LENDING)
    if policy.isolated_markets(market_names(policy, 1)):
        out += tuple(s.name for s in ISOLATED)
    return out


def get(name: str) -> Scenario:
    """The scenario of that name; ``KeyError`` listing the known ones (and the closest) otherwise."""
    return SCENARIOS.get(name)


def build(policy: Policy, name: str) -> Story:
    return get(name).build(policy)


__all__: list[Any] = [
    "DEFAULT",
    "COLLATERAL",
    "ISOLATED",
    "LENDING",
    "PORTFOLIO",
    "SCENARIOS",
    "STRESS",
    "Scenario",
    "Story",
    "build",
    "defaults",
    "get",
]

"""Incident scenarios: published crises replayed as deterministic stories (docs/venues.md#incidents).

``INCIDENTS`` holds them; ``solvent.properties.scenarios`` registers each in ``SCENARIOS`` beside the
stress scenarios, so ``solvent check --scenario NAME`` runs it against any policy. Each story uses
the published figures scaled to integer quanta (its docstring states the scale) and sizes the
leveraged deposits from the policy's own initial margin, so every policy accepts it; on the venue's own preset the deposits are
the published leverage and the outcome is the one the venue reported (tests/properties/test_incidents.py).

Figures are press-reported and approximate (docs/venues.md#gaps-and-caveats); where the published numbers do not
fit together, the docstring says which ones the story keeps.
"""

from __future__ import annotations

from typing import Any

from solvent.properties.story import Scenario, ScenarioError, Story
from solvent.rules.arith import Rounding, div, mul_ppm
from solvent.rules.book import new_book
from solvent.rules.contract import Contract, ContractKind, engine_lots, lot_value, to_engine
from solvent.rules.events import (
    AssetDeposit,
    AssetPrice,
    AssetWithdraw,
    Deposit,
    Event,
    FinalSettlement,
    MarkPrice,
    Taker,
    Trade,
    Withdraw,
)
from solvent.rules.margin import initial_margin, maintenance_margin
from solvent.rules.policy import Policy

# --- sizing -------------------------------------------------------------------------------------


def _fee(policy: Policy, notional: int) -> int:
    """The larger trading fee of the two sides, rounded up: what a deposit must also cover."""
    return mul_ppm(notional, max(policy.fees.taker_ppm, policy.fees.maker_ppm), rounding=Rounding.CEIL)


def margin_for(policy: Policy, lots: int, mark: int, leverage: int) -> int:
    """Collateral for ``lots`` at ``mark`` with ``leverage``× (notional / leverage, rounded up), never
    less than the policy's initial margin, plus the trading fee: a deposit the policy accepts."""
    notional = lots * mark
    wanted = div(notional, leverage, rounding=Rounding.CEIL)
    return max(wanted, initial_margin(policy.margin, policy.rounding, lots, mark)) + _fee(policy, notional)


def at_initial_margin(policy: Policy, lots: int, mark: int) -> int:
    """Exactly the policy's initial margin (plus fees): the most leverage it allows."""
    return initial_margin(policy.margin, policy.rounding, lots, mark) + _fee(policy, lots * mark)


# --- OKEx BTC0928, 31 Jul – 3 Aug 2018 ------------------------------------------------------

BTC0928 = Contract(
    ContractKind.INVERSE, value_quanta=100 * 10**8, price="whole USD per BTC"
)  # USD 100 face, cash in satoshi
BTC = 10**8  # satoshi
OKEX_WHALE_CONTRACTS = 4_168_515  # the reported position: 4,168,515 contracts × USD 100 ≈ $416.85M
OKEX_ENTRY = (
    8_844  # a 10x entry whose inverse bankruptcy price 8,844 × 10/11 ≈ $8,040 is the reported liquidation price
)
OKEX_SETTLEMENT = 7_480  # the reported settlement price
OKEX_FUND = 10 * BTC  # ~10 BTC in the fund
OKEX_INJECTION = 2_500 * BTC  # OKEx put 2,500 BTC into the fund before the clawback
OKEX_DAVE = 80_000  # contracts (≈ $8M): a long that loses for the week


def okex_2018_clawback(policy: Policy) -> Story:
    """OKEx BTC0928 (docs/venues.md#okex-btc0928-clawback-2018): a $416M 10x long's liquidation could not fill; settled at $7,480.

    Scale: the BTC0928 contract as OKEx stated it (the ``okx-2018`` preset's ``[contract]``): cash in
    satoshi, contracts of USD 100, prices in whole USD, the engine marked at each contract's BTC
    value ``10^10 / P`` satoshi (``solvent.rules.contract``); told in BTC0928 whatever the policy's
    own contract. The whale goes long the reported 4,168,515 contracts at $8,844 with exactly the
    policy's initial margin; at 10x its bankruptcy price is 8,844 × 10/11 ≈ $8,040, the reported
    liquidation price, and the one-tick gap to the settlement price leaves a shortfall of
    416,851,500 × (1/7,480 − 1/8,040) ≈ 3,882 BTC (reported ~3,877 BTC). The fund holds ~10 BTC,
    and OKEx's 2,500 BTC injection arrives before settlement; the rest is clawed back from the
    week's net winners (bob and carol, the whale's counterparties). Dave, long 80,000 contracts
    against carol, loses: he pays nothing. The published figures do not add up exactly (3,877 −
    10 − 2,500 = 1,367 BTC against ~1,200 BTC clawed back, ~17-18%); here the clawback is the
    shortfall left after the fund, as a share of the winners' profit for the week, ≈ 15.7% on the
    okx-2018 preset.
    """
    contracts, entry = OKEX_WHALE_CONTRACTS, OKEX_ENTRY
    v_entry, v_settle = lot_value(BTC0928, entry), lot_value(BTC0928, OKEX_SETTLEMENT)
    book = new_book(mark_quote=v_entry, traders=("whale", "bob", "carol", "dave"))
    bob, carol = contracts * 3 // 4, contracts - contracts * 3 // 4
    events: list[Event] = [
        Deposit("liquidity", contracts * v_settle),
        Deposit("insurance_fund", OKEX_FUND),
        # exactly initial margin, plus the fee of each of the two fills (each rounds up on its own)
        Deposit(
            "whale",
            at_initial_margin(policy, contracts, v_entry)
            - _fee(policy, contracts * v_entry)
            + _fee(policy, bob * v_entry)
            + _fee(policy, carol * v_entry),
        ),
        Deposit("bob", margin_for(policy, bob, v_settle, 1)),
        Deposit("carol", margin_for(policy, carol + OKEX_DAVE, v_settle, 1)),
        Deposit("dave", margin_for(policy, OKEX_DAVE, v_entry, 1)),
        Trade("whale", "bob", bob, entry, Taker.BUYER),
        Trade("whale", "carol", carol, entry, Taker.BUYER),
        Trade("dave", "carol", OKEX_DAVE, entry, Taker.BUYER),
        Deposit("insurance_fund", OKEX_INJECTION),
        MarkPrice(OKEX_SETTLEMENT),
    ]
    return Story(book, tuple(to_engine(BTC0928, e) for e in events))


# --- BitMEX, 12-13 March 2020 ---------------------------------------------------------------

XBTUSD = Contract(
    ContractKind.INVERSE, value_quanta=10**8, price="1 USD per XBT"
)  # USD 1 face, cash in satoshi, prices in whole USD
XBT = BTC  # satoshi
BITMEX_OPEN, BITMEX_MAR12, BITMEX_MAR13 = 7_900, 5_700, 3_800  # USD per BTC
BITMEX_FUND = 36_000 * XBT  # the fund held 35k-36k XBT in early March
BITMEX_A, BITMEX_B, BITMEX_C = 1_000_000, 31_271_750, 1_000_000  # contracts (USD 1 each)


def bitmex_2020_03(policy: Policy) -> Story:
    """BitMEX 12-13 March 2020 (docs/venues.md#bitmex-march-2020): the insurance fund paid every bankruptcy; no ADL.

    Scale: XBTUSD as BitMEX states it (the ``bitmex`` preset's ``[contract]``): cash in satoshi,
    contracts of USD 1, prices in whole USD, the engine marked at each contract's coin value
    ``10^8 / P`` satoshi (``solvent.rules.contract``). The story is told in XBTUSD whatever the
    policy's own contract: against a linear policy it reads as a coin-settled linear market on
    those lot values. BTC falls from $7,900 to $5,700 on 12 March and to $3,800 on 13 March, each
    a one-tick gap. The fund starts at 36,000 XBT. On 12 March a 100x long (a, $1M) goes bankrupt
    and a ≈2.6x long (c, $1M) is liquidated just above zero, so its remaining margin goes to the
    fund; on 13 March b, long $31.3M at the most leverage the policy allows, is bankrupt by 2,606
    XBT, what the fund paid on its largest daily decline. Bob, short against all three, keeps all
    his profit. Under a policy whose fund holds what it takes over (the ``bitmex`` preset's
    ``fund_unwind_ppm``) the fund also carries the loss on a's and c's contracts, taken over on 12
    March, through 13 March: 175.44 XBT, a counterpart at this story's scale to the 5,652 XBT
    unrealized loss BitMEX reported on positions still to close.
    """
    v_open, v_mar12, v_mar13 = (lot_value(XBTUSD, p) for p in (BITMEX_OPEN, BITMEX_MAR12, BITMEX_MAR13))
    book = new_book(mark_quote=v_open, traders=("a", "b", "c", "bob"))
    loss_c = BITMEX_C * (v_mar12 - v_open)
    mm_c = maintenance_margin(policy.margin, policy.rounding, engine_lots(XBTUSD, BITMEX_C), v_mar12)
    c_margin = max(loss_c + mm_c // 2, at_initial_margin(policy, BITMEX_C, v_open))  # above zero, below maintenance
    every = BITMEX_A + BITMEX_B + BITMEX_C
    events: list[Event] = [
        Deposit("liquidity", every * v_mar13),
        Deposit("insurance_fund", BITMEX_FUND),
        Deposit("a", at_initial_margin(policy, BITMEX_A, v_open)),
        Deposit("c", c_margin),
        Deposit("bob", margin_for(policy, every, v_mar13, 1)),
        Trade("a", "bob", BITMEX_A, BITMEX_OPEN),
        Trade("c", "bob", BITMEX_C, BITMEX_OPEN),
        MarkPrice(BITMEX_MAR12),
        Deposit("b", at_initial_margin(policy, BITMEX_B, v_mar12)),
        Trade("b", "bob", BITMEX_B, BITMEX_MAR12),
        MarkPrice(BITMEX_MAR13),
    ]
    return Story(book, tuple(to_engine(XBTUSD, e) for e in events))


# --- Mango Markets, 11 October 2022 ---------------------------------------------------------

MANGO_LOW, MANGO_SPIKE = 3_800, 91_000  # cents per lot of 1,000 MNGO: $0.038 and $0.91 per MNGO
MANGO_LOTS = 145_260  # sized so the free margin at the spike is the reported ~$114M
MANGO_DRAINED = 11_400_000_000  # ~$114M, in cents


def mango_2022(policy: Policy) -> Story:
    """Mango Markets (docs/venues.md#mango-v4-bankruptcy, #mango-markets-2022): MNGO's oracle spiked from $0.038 to $0.91; ~$114M drained.

    Scale: 1 quote quantum = $0.01, 1 lot = 1,000 MNGO, prices in cents per lot. The attacker goes
    long 145,260 lots at $0.038 against two honest shorts (who stand for Mango's depositors; they
    hold enough to pay the spike), the oracle spikes to $0.91 and settle-to-mark pays the attacker
    ≈ $126.7M, of which ≈ $114M is free margin and is withdrawn (the reported drain). The price
    returns to $0.038: the attacker's account is short by about what it withdrew. Mango's
    insurance fund (choice: $1M; reported only as insufficient) pays first, the rest is socialized
    per lot of open interest: the honest shorts and, under Mango v4's rule (``liquidator_pays``),
    the liquidator that took the attacker's long over. The attacker's $67M return is not in the story.
    """
    lots = MANGO_LOTS
    book = new_book(mark_quote=MANGO_LOW, traders=("attacker", "depositor_a", "depositor_b"))
    half = lots // 2
    spike_cover = lots * (MANGO_SPIKE - MANGO_LOW)  # what the shorts pay at the spike
    events: list[Event] = [
        Deposit("liquidity", lots * MANGO_LOW),
        Deposit("insurance_fund", 100_000_000),  # $1M
        Deposit("attacker", at_initial_margin(policy, lots, MANGO_LOW)),
        Deposit("depositor_a", margin_for(policy, half, MANGO_SPIKE, 1) + spike_cover // 2),
        Deposit("depositor_b", margin_for(policy, lots - half, MANGO_SPIKE, 1) + spike_cover // 2),
        Trade("attacker", "depositor_a", half, MANGO_LOW, Taker.BUYER),
        Trade("attacker", "depositor_b", lots - half, MANGO_LOW, Taker.BUYER),
        MarkPrice(MANGO_SPIKE),
    ]
    before = _run(policy, book, events)
    attacker = before.account("attacker")
    im = initial_margin(policy.margin, policy.rounding, attacker.size_lots, MANGO_SPIKE)
    free = min(attacker.cash_quote - im, MANGO_DRAINED)
    if free > 0:
        events.append(Withdraw("attacker", free))
    events.append(MarkPrice(MANGO_LOW))
    return Story(book, tuple(events))


# --- Mango Markets, 11 October 2022, as a collateral pump ------------------------------------

MNGO, USDC = "MNGO", "USDC"
MNGO_LOW, MNGO_SPIKE = 38_000, 910_000  # quote quanta (0.000001 USDC) per MNGO: $0.038, $0.91
MNGO_BORROWED = 114_000_000_000_000  # ~$114M borrowed against the pumped MNGO and withdrawn
MNGO_DEPOSITS = 60_000_000_000_000  # choice: $60M of USDC from each of two depositors, enough to lend it
MNGO_FUND = 1_000_000_000_000  # choice: $1M in the insurance vault (reported only as insufficient)


def mango_2022_collateral_pump(policy: Policy) -> Story:
    """Mango Markets as a collateral pump (docs/venues.md#mango-markets-2022): MNGO's oracle price
    went from about $0.038 to about $0.91 and roughly $110–117M was borrowed against it and
    withdrawn, more than the insurance fund could cover.

    Scale: 1 quote quantum = 0.000001 USDC (the ``mango-v4`` preset's), USDC lent at a price of 1 a
    quantum, MNGO priced per whole MNGO. Two depositors lend $60M of USDC each. The attacker
    deposits MNGO, sized so that at the spike its value at MNGO's initial weight lets him borrow
    the reported $114M of USDC, which he withdraws. The oracle returns to $0.038: his MNGO is sold
    for what it is worth (about $8M), which repays that much of the borrow; the insurance fund
    buys what its $1M can, and the rest is taken from the USDC depositors through the deposit
    index (token bankruptcy). The attacker's $67M return is not in the story. Needs a policy that
    lends USDC and takes MNGO as collateral (the mango-v4 preset)."""
    usdc = next((c for c in policy.collateral if c.name == USDC and c.lends), None)
    mngo = next((c for c in policy.collateral if c.name == MNGO), None)
    if usdc is None or mngo is None or mngo.initial_weight_ppm == 0:
        raise ScenarioError(
            "the scenario mango-2022-collateral-pump needs a [[collateral]] table named USDC with lends = true "
            "and one named MNGO with a positive initial_weight_ppm (the mango-v4 preset); "
            f"{policy.name!r} has {[c.name for c in policy.collateral] or 'none'}"
        )
    from solvent.rules.book import Asset

    # MNGO whose value at the spike, at its initial weight, covers the borrow at USDC's liability weight
    need = div(MNGO_BORROWED * usdc.initial_liability_weight_ppm, 1_000_000, rounding=Rounding.CEIL)
    held = div(need * 1_000_000, MNGO_SPIKE * mngo.initial_weight_ppm, rounding=Rounding.CEIL)
    book = new_book(
        mark_quote=1_000_000,
        traders=("attacker", "depositor_a", "depositor_b"),
        assets=(Asset(USDC, 1), Asset(MNGO, MNGO_LOW)),
    )
    events: list[Event] = [
        Deposit("insurance_fund", MNGO_FUND),
        AssetDeposit("depositor_a", USDC, MNGO_DEPOSITS),
        AssetDeposit("depositor_b", USDC, MNGO_DEPOSITS),
        AssetDeposit("attacker", MNGO, held),
        AssetPrice(MNGO, MNGO_SPIKE),
        AssetWithdraw("attacker", USDC, MNGO_BORROWED),
        AssetPrice(MNGO, MNGO_LOW),
    ]
    return Story(book, tuple(events))


# --- Hyperliquid JELLY, 26 March 2025 -------------------------------------------------------

JELLY_ENTRY, JELLY_PUMP, JELLY_TOP, JELLY_SETTLE = 9_500, 9_700, 20_000, 37_555  # cents per 10,000 JELLY
JELLY_LOTS = 42_105  # ≈ $4M at $0.0095 per JELLY
HLP_CAPITAL = 5_000_000_000  # choice: $50M of HLP capital behind the liquidator vault


def hyperliquid_jelly_2025(policy: Policy) -> Story:
    """Hyperliquid JELLY (docs/venues.md#hyperliquid-liquidation, #hyperliquid-jelly-2025): a $4M self-traded short went to the backstop, no ADL.

    Scale: 1 quote quantum = $0.01, 1 lot = 10,000 JELLY, prices in cents per lot ($0.0095 per
    JELLY = 9,500). The attacker shorts 42,105 lots (≈ $4M) at $0.0095 to its own two long accounts,
    with the policy's initial margin. A 2% pump leaves the short below two thirds of its
    maintenance margin but above zero, so Hyperliquid's backstop (the liquidator vault, part of
    HLP; choice: $50M behind it) takes over the position and its margin; the price then runs more
    than 4x, and the market is delisted at the $0.037555 at which the longs were settled (a
    ``FinalSettlement``: every position closed there, the longs against the vault). The vault's
    position loses ≈ $11.7M, paid to the longs in full; no trader goes below zero, so ADL never
    runs.
    """
    lots = JELLY_LOTS
    book = new_book(mark_quote=JELLY_ENTRY, traders=("jelly_short", "jelly_long_1", "jelly_long_2"))
    half = lots // 2
    events: list[Event] = [
        Deposit("liquidity", lots * JELLY_ENTRY),
        Deposit("backstop_vault", HLP_CAPITAL),
        Deposit("jelly_short", at_initial_margin(policy, lots, JELLY_ENTRY)),
        Deposit("jelly_long_1", margin_for(policy, half, JELLY_ENTRY, 1)),
        Deposit("jelly_long_2", margin_for(policy, lots - half, JELLY_ENTRY, 1)),
        Trade("jelly_long_1", "jelly_short", half, JELLY_ENTRY, Taker.SELLER),
        Trade("jelly_long_2", "jelly_short", lots - half, JELLY_ENTRY, Taker.SELLER),
        MarkPrice(JELLY_PUMP),
        MarkPrice(JELLY_TOP),
        FinalSettlement(JELLY_SETTLE),
    ]
    return Story(book, tuple(events))


# --- The 10-11 October 2025 cascade ---------------------------------------------------------

CASCADE_PATH = (10_000, 9_600, 9_000, 8_200, 7_400, 6_900, 7_800)  # cents per SOL: −31% in ~45 min, then a rebound
LIQUIDATOR_VAULT = 200_000  # choice: $2,000 left in the (capped) liquidator vault
#: (name, lots, cents of collateral per lot at $100, seller): 40x, 20x, 8x and 3.19x longs.
CASCADE_LONGS = (
    ("long_40x", 4_000, 250, "short_a"),
    ("long_20x", 3_000, 500, "short_b"),
    ("long_8x", 2_000, 1_250, "short_a"),
    ("long_3x", 1_000, 3_130, "short_b"),
)
LATE_SHORT_LOTS, LATE_SHORT_PER_LOT = 1_400, 986  # a 7x short at the bottom, 1/7 of the longs


def cascade_2025_10_10(policy: Policy) -> Story:
    """The 10-11 October 2025 cascade (docs/venues.md#october-2025-cascade), on one SOL-like market.

    Scale: 1 quote quantum = $0.01, 1 lot = 1 SOL, prices in cents per SOL. SOL falls 31% in five
    steps ($100 → $69), then rebounds to $78. Four longs (40x, 20x, 8x, 3.19x; 10,000 lots) meet
    the fall against two shorts (2x and 1x); a 7x short of 1,400 lots opened at the bottom meets
    the rebound (shorts were about 1/7 of the day's liquidations). On Hyperliquid's preset: the 20x
    long, above 100k USDC, sends 20% to the book and keeps the rest with its margin restored
    (partial liquidation), which the next fall gaps below zero; the 40x and 8x longs gap below zero, the
    capped liquidator vault (choice: $2,000 left in it) pays what it can and ADL closes opposing
    winners at the previous mark (Hyperliquid's first cross-margin ADL in over two years), which
    pays the 40x long's position more than its deficit: the excess is the vault's, which had
    taken the account over. With it the vault covers the 20x long's deficit whole and holds that
    position down the fall (the JELLY risk: the vault's own ADL threshold, a 2025 change, is not
    modelled, so the vault's loss on it is carried). The 3.19x long is just above zero at the
    bottom, below two thirds of maintenance, so the vault takes it over with its margin and earns
    on the rebound (HLP earned an estimated $30-40M); the late short sends 20% to the book on the
    rebound and keeps the rest; no trader's deficit is left unpaid (Hyperliquid reported zero bad
    debt), though the capped vault here ends below zero.
    """
    start, bottom = CASCADE_PATH[0], CASCADE_PATH[-2]
    names = tuple(n for n, _, _, _ in CASCADE_LONGS) + ("short_a", "short_b", "late_short")
    book = new_book(mark_quote=start, traders=names)
    total = sum(lots for _, lots, _, _ in CASCADE_LONGS)
    sold = {seller: sum(lots for _, lots, _, s in CASCADE_LONGS if s == seller) for seller in ("short_a", "short_b")}
    events: list[Event] = [Deposit("liquidity", 10 * total * start), Deposit("backstop_vault", LIQUIDATOR_VAULT)]
    for name, lots, per_lot, _ in CASCADE_LONGS:
        events.append(
            Deposit(name, max(lots * per_lot, at_initial_margin(policy, lots, start)) + _fee(policy, lots * start))
        )
    events += [
        Deposit("short_a", margin_for(policy, sold["short_a"], start, 2)),
        Deposit("short_b", margin_for(policy, sold["short_b"] + LATE_SHORT_LOTS, start, 1)),
    ]
    events += [Trade(name, seller, lots, start, Taker.BUYER) for name, lots, _, seller in CASCADE_LONGS]
    events += [MarkPrice(price) for price in CASCADE_PATH[1:-1]]
    late = LATE_SHORT_LOTS
    events += [
        Deposit(
            "late_short",
            max(late * LATE_SHORT_PER_LOT, at_initial_margin(policy, late, bottom)) + _fee(policy, late * bottom),
        ),
        Trade("short_b", "late_short", late, bottom, Taker.SELLER),
        MarkPrice(CASCADE_PATH[-1]),
    ]
    return Story(book, tuple(events))


# --- Binance USDe, 10 October 2025 -------------------------------------------------------------

USDE = "USDe"
USDE_PAR, USDE_LOW = 100, 65  # quote quanta (cents) per USDe: $1, and the ~$0.65 Binance printed
USDE_MARK, USDE_LOTS = 10_000, 100  # a BTC-like market at $100.00 a lot, alice's long
USDE_LEVERAGE = 10


def _usde_rule(policy: Policy, scenario: str) -> Any:
    """The policy's USDe table, which a USDe scenario needs with a positive initial weight on a
    linear contract; else the error naming what is missing."""
    rule = next((c for c in policy.collateral if c.name == USDE), None)
    if rule is None or rule.initial_weight_ppm == 0:
        raise ScenarioError(
            f"the scenario {scenario} needs a [[collateral]] table named {USDE} with a positive "
            f"initial_weight_ppm (examples/binance-multi-assets.toml); {policy.name!r} has "
            f"{[c.name for c in policy.collateral] or 'none'}"
        )
    if policy.contract.is_inverse:
        raise ValueError(f"the scenario {scenario} needs a linear contract (USDe margins a USDT-settled market)")
    return rule


def usde_depeg_2025_10_10(policy: Policy) -> Story:
    """Binance, 10 October 2025 (docs/venues.md#binance-october-2025): USDe, held as collateral in
    Multi-Assets Mode, traded down to about $0.65 on Binance alone between 21:36 and 22:16 UTC.

    Scale: 1 quote quantum = $0.01, one USDe quantum = 1 USDe (so USDe is priced in cents, 100 at
    par), 1 lot at $100.00. alice holds only USDe, enough that its value at the policy's USDe
    initial weight margins 100 lots at 10x; she buys them from bob. The mark falls until her
    equity at par, with USDe at its maintenance weight, is twice her maintenance margin: safe at
    $1. Then USDe prints $0.65: her collateral no longer covers the loss she has already booked in
    USDT, she is liquidated, every USDe she holds is sold at $0.65, and what is still owed goes
    down the waterfall: a depeg of the collateral alone makes bad debt. Needs a policy with a
    ``[[collateral]]`` table named USDe (examples/binance-multi-assets.toml)."""
    rule = _usde_rule(policy, "usde-depeg-2025-10-10")
    from solvent.rules.book import Asset

    notional = USDE_LOTS * USDE_MARK
    need = margin_for(policy, USDE_LOTS, USDE_MARK, USDE_LEVERAGE)  # in quote quanta, at the initial weight
    units = div(need * 1_000_000, USDE_PAR * rule.initial_weight_ppm, rounding=Rounding.CEIL)
    book = new_book(mark_quote=USDE_MARK, traders=("alice", "bob"), assets=(Asset(USDE, USDE_PAR),))
    held = div(units * USDE_PAR * rule.maintenance_weight_ppm, 1_000_000, rounding=Rounding.FLOOR)
    mm = maintenance_margin(policy.margin, policy.rounding, USDE_LOTS, USDE_MARK)
    drop = max(1, (held - 2 * mm) // USDE_LOTS)  # per lot: at par she keeps twice her maintenance
    events: list[Event] = [
        Deposit("liquidity", 10 * notional),
        Deposit("insurance_fund", 1),
        AssetDeposit("alice", USDE, units),
        Deposit("bob", margin_for(policy, USDE_LOTS, USDE_MARK, 1)),
        Trade("alice", "bob", USDE_LOTS, USDE_MARK, Taker.BUYER),
        MarkPrice(USDE_MARK - drop),
        AssetPrice(USDE, USDE_LOW),
    ]
    return Story(book, tuple(events))


#: 10 October 2025, about 45 minutes (docs/venues.md#october-2025-cascade): BTC fell 12%, ETH 16%
#: and SOL 31%, in ppm of the mark, for the first, second and third market of the story
OCTOBER_2025_MOVES_PPM = (120_000, 160_000, 310_000)


def usde_markets_2025_10_10(policy: Policy) -> Story:
    """10 October 2025 across markets with a collateral depeg (docs/venues.md#october-2025-cascade,
    #binance-october-2025): BTC −12%, ETH −16% and SOL −31% in about 45 minutes, then USDe printing
    $0.65 on Binance.

    Scale as ``usde-depeg-2025-10-10``: 1 quote quantum = $0.01, one USDe quantum = 1 USDe, every
    market at $100.00 a lot (the moves are shares of the mark). alice holds only USDe and is long
    100 lots in each of the policy's markets (up to three; a policy without ``[[market]]`` tables
    gets PERP, PERP2 and PERP3 on its tiers) against bob. She holds enough USDe that after the three
    falls, at par and at its maintenance weight, her equity is twice her maintenance: the crash
    alone leaves her safe. Then USDe prints $0.65: she is liquidated in every market, her USDe sold
    at $0.65, and what is still owed goes down the waterfall. Needs a ``[[collateral]]`` table named
    USDe (examples/binance-multi-assets.toml)."""
    from solvent.rules.book import Asset, Market
    from solvent.rules.margin import position_maintenance
    from solvent.rules.market_funds import fund_deposits, shaped_for

    rule = _usde_rule(policy, "usde-markets-2025-10-10")
    names = policy.market_names[:3] or ("PERP", "PERP2", "PERP3")
    if len(names) < 2:
        raise ScenarioError(
            "the scenario usde-markets-2025-10-10 needs two markets or more ([[market]] tables), or none "
            f"(then PERP, PERP2 and PERP3 on [margin]'s tiers); {policy.name!r} declares {list(names)}"
        )
    more = tuple(Market(name, USDE_MARK) for name in names[1:])
    book = shaped_for(
        policy.waterfall,
        new_book(
            market=names[0],
            mark_quote=USDE_MARK,
            traders=("alice", "bob"),
            more_markets=more,
            assets=(Asset(USDE, USDE_PAR),),
        ),
    )
    falls = [mul_ppm(USDE_MARK, ppm, rounding=Rounding.FLOOR) for ppm in OCTOBER_2025_MOVES_PPM[: len(names)]]
    rules = (policy.margin, *(policy.more_margins or (policy.margin,) * (len(names) - 1)))
    mm = sum(
        position_maintenance(r, policy.rounding, USDE_LOTS, USDE_LOTS * USDE_MARK, USDE_MARK - fall)
        for r, fall in zip(rules, falls, strict=True)
    )
    losses = sum(USDE_LOTS * f for f in falls)
    # at par, at the maintenance weight, she keeps twice her maintenance after the falls
    units = div((losses + 2 * mm) * 1_000_000, USDE_PAR * rule.maintenance_weight_ppm, rounding=Rounding.CEIL)
    events: list[Event] = [Deposit("liquidity", 10 * USDE_LOTS * USDE_MARK * len(names))]
    events += fund_deposits(policy.waterfall, book, 1)
    events += [
        AssetDeposit("alice", USDE, units),
        Deposit("bob", len(names) * margin_for(policy, USDE_LOTS, USDE_MARK, 1)),
    ]
    for i, name in enumerate(names):
        events.append(Trade("alice", "bob", USDE_LOTS, USDE_MARK, Taker.BUYER, market="" if i == 0 else name))
    for i, (name, fall) in enumerate(zip(names, falls, strict=True)):
        events.append(MarkPrice(USDE_MARK - fall, market="" if i == 0 else name))
    events.append(AssetPrice(USDE, USDE_LOW))
    return Story(book, tuple(events))


def _run(policy: Policy, book, events):
    from solvent.rules.engine import run

    return run(policy, book, events)[-1].after


INCIDENTS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "okex-2018-clawback",
            "OKEx BTC0928, Aug 2018: a $416M long settles $560 below its bankruptcy price; fund, then clawback",
            okex_2018_clawback,
        ),
        Scenario(
            "bitmex-2020-03",
            "BitMEX, 12-13 Mar 2020 (XBTUSD, in XBT): BTC $7,900 → $3,800; the fund pays every bankruptcy, no ADL",
            bitmex_2020_03,
        ),
        Scenario(
            "mango-2022",
            "Mango, Oct 2022: an oracle spike's profit is withdrawn; the bad debt goes to the fund, then the others",
            mango_2022,
        ),
        Scenario(
            "hyperliquid-jelly-2025",
            "Hyperliquid JELLY, Mar 2025: the backstop takes a $4M short that then runs 4x; no ADL",
            hyperliquid_jelly_2025,
        ),
        Scenario(
            "cascade-2025-10-10",
            "10-11 Oct 2025: a 31% cascade and rebound; capped vault, ADL, no bad debt",
            cascade_2025_10_10,
        ),
        Scenario(
            "usde-depeg-2025-10-10",
            "Binance, 10 Oct 2025: USDe collateral prints $0.65; a long safe at par is liquidated into bad debt",
            usde_depeg_2025_10_10,
        ),
        Scenario(
            "mango-2022-collateral-pump",
            "Mango, Oct 2022: MNGO $0.038 -> $0.91 on the oracle, $114M of USDC borrowed against it; depositors pay",
            mango_2022_collateral_pump,
        ),
        Scenario(
            "usde-markets-2025-10-10",
            "10 Oct 2025 across markets: BTC -12%, ETH -16%, SOL -31%, then USDe prints $0.65; a USDe-backed long safe after the crash ends in bad debt",
            usde_markets_2025_10_10,
        ),
    )
}


__all__ = [
    "INCIDENTS",
    "bitmex_2020_03",
    "cascade_2025_10_10",
    "hyperliquid_jelly_2025",
    "mango_2022",
    "mango_2022_collateral_pump",
    "okex_2018_clawback",
    "usde_depeg_2025_10_10",
    "usde_markets_2025_10_10",
]

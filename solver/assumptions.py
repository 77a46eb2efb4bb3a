"""What a proof assumes of the starting book, written over the engine's arithmetic interface.

:func:`book_assumptions` returns named conditions. On a symbolic book (every data field a z3
variable) they are the proof's assumptions; on a concrete book they are Python booleans, which is
how a counterexample's starting book is checked to lie inside the assumptions before it counts.

The assumptions are the prover's scope (value bounds, ``Bounds``) and a *well-formed* book, whose
one definition is :mod:`solvent.rules.wellformed` (shared with the search's strategies and the
named scenarios): not necessarily a reachable book (docs/solver-notes.md#unreachable-counterexamples: a one-step counterexample may
start from an unreachable state; it is still a real counterexample to the inductive claim "every
well-formed book stays good"). Beside it:

- value bounds (``Bounds``): prices, balances, positions, net deposits;
- the margin the traders start with is ``Bounds.start_margin`` (initial margin by default, or only
  not liquidatable);
- with ``Bounds.start`` "funded", the book is one a venue's day could start from (:func:`funded`):
  every account flat with nothing behind its balance but deposits, so that a counterexample of K
  events is a whole story from an ordinary book (deposits, then trades and moves), not a state;
- with ``Bounds.start`` "traded", only the traders have traded (:func:`traded`): the system
  accounts as on a funded book, the traders any well-formed state (the deep-story search's seed,
  written from the empty book by deposits, trades and round trips);
- with ``Bounds.min_fund_ppm``, the insurance fund holds that share of the long open interest's
  notional at the mark, and the fee account and backstop vault start empty (so the fund alone is
  measured). (Mark moves within ``Bounds.max_move_ppm`` are an assumption on the events:
  :func:`move_within`.)
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.arith import PPM, all_, and_, max_, sum_
from solvent.rules.book import Account, Book, Role
from solvent.rules.events import MarkPrice
from solvent.rules.lending import lent_rule, settlement_holders
from solvent.rules.policy import Policy
from solvent.rules.waterfall import InsuranceFund, TokenLayer
from solvent.rules.wellformed import StartMargin, conditions, holders
from solvent.solver.bounds import Bounds


@attrs.frozen
class Assumption:
    """A named condition on the starting book (a z3 Boolean, or a bool on a concrete book)."""

    name: str
    holds: Any


def _within(x: Any, low: int, high: int) -> Any:
    return and_(x >= low, x <= high)


def _account_bounds(account: Account, bounds: Bounds) -> Any:
    q, lots = bounds.max_quote, bounds.max_lots
    return all_(
        [
            _within(account.cash_quote, -q, q),
            account.spot_quote <= q,
            # the position and cost basis in every market of the book (docs/portfolio.md)
            *(_within(p.size_lots, -lots, lots) for p in account.positions),
            *(_within(p.cost_quote, -lots * bounds.max_price, lots * bounds.max_price) for p in account.positions),
            account.principal_quote <= q,
            account.withdrawn_quote <= q,
            account.debt_quote <= q,
            _within(account.window_pnl_quote, -q, q),
        ]
    )


def book_assumptions(policy: Policy, book: Book, bounds: Bounds) -> list[Assumption]:
    """The named assumptions on a starting book: the bounds, then the well-formed book
    (:func:`solvent.rules.wellformed.conditions` at ``bounds.start_margin``), then the fund floor."""
    out = [
        Assumption(
            "prices within bounds",
            all_(
                and_(
                    _within(market.mark_quote, bounds.min_price, bounds.max_price),
                    _within(market.previous_mark_quote, bounds.min_price, bounds.max_price),
                )
                for market in book.markets
            ),
        ),
        Assumption("balances within bounds", all_(_account_bounds(a, bounds) for a in book.accounts)),
        Assumption(
            "net deposits within bounds",
            _within(
                book.net_deposits_quote, -bounds.max_quote * len(book.accounts), bounds.max_quote * len(book.accounts)
            ),
        ),
    ]
    if book.assets:  # collateral assets (docs/portfolio.md decision 8): stated only where the book has them
        q = bounds.max_quote
        out += [
            Assumption(
                "asset prices within bounds",
                all_(_within(a.price_quote, bounds.min_price, bounds.max_price) for a in book.assets),
            ),
            Assumption(
                "asset balances within bounds",
                all_(_within(x, -q, q) for a in book.accounts for x in a.asset_balances),
            ),
            Assumption(
                "asset net deposits within bounds",
                all_(_within(a.net_deposits, -q * len(book.accounts), q * len(book.accounts)) for a in book.assets),
            ),
        ]
    out += settlement_assumptions(policy, book, bounds.settlement_covered)
    out += lent_assumptions(policy, book)
    if bounds.start_margin == "start-mark":  # solver.start_mark's premise: its own condition, a ghost first mark
        from solvent.solver import start_mark

        out += [Assumption(c.name, c.holds) for c in conditions(policy, book, margin=None)]
        out.append(Assumption(start_mark.NAMED, start_mark.book_premise(policy, book)))
        out.append(Assumption(start_mark.ORDER_BOOK, book.role(Role.LIQUIDITY).cash_quote >= 0))
    else:
        # "solvent-ghost": the solvent start; its ghost price is the question's (``solver.ghost_start``)
        margin = StartMargin(bounds.start_margin.removesuffix("-ghost"))
        out += [Assumption(c.name, c.holds) for c in conditions(policy, book, margin=margin)]
    if bounds.start == "funded":
        out.append(funded(book))
    if bounds.start == "traded":
        out.append(traded(book))
    if bounds.min_fund_ppm is not None:
        fund = book.role(Role.INSURANCE_FUND).cash_quote
        long_notional = long_open_interest(policy, book)
        out.append(
            Assumption(
                f"insurance fund >= {bounds.min_fund_ppm} ppm of the long open interest's notional",
                fund * PPM >= long_notional * bounds.min_fund_ppm,
            )
        )
        # the fund alone is measured: a fee pool or vault above the haircut layers starts empty
        out.append(
            Assumption(
                "the other pools start empty (the fund alone is measured)",
                all_(book.role(r).cash_quote == 0 for r in (Role.FEE_ACCOUNT, Role.BACKSTOP_VAULT)),
            )
        )
    return out


#: the named assumption a book with collateral assets takes under a policy that declares the
#: settlement currency's own bankruptcy (:func:`settlement_assumptions`)
SETTLEMENT_COVERED = (
    "settlement deposits cover settlement borrows (the traders' and the order book's cash sum to at least 0,"
    " and to at least what the insurance fund lacks of its floor)"
)


def settlement_assumptions(policy: Policy, book: Book, without_assets: bool = False) -> list[Assumption]:
    """What the settlement currency's own bankruptcy (``[settlement]``, ``lending.cover_settlement_borrow``)
    rests on, stated only on a book with collateral assets under a policy that declares it (``drift``,
    ``mango-v4``): nothing elsewhere, so no other question's terms change.

    The settlement currency is a lent token there (Drift's USDC spot market 0, Mango's USDC bank): its
    deposits cover its borrows. A borrow is a withdrawal from the token's vault, and Drift caps what can
    be borrowed at what is deposited and not yet borrowed (``spot_withdraw.rs``
    ``get_max_withdraw_for_market_with_token_amount``: the borrow limit is at most
    ``deposit_token_amount − borrow_token_amount``). On the book: the cash of every holder of settlement
    cash (``lending.settlement_holders``: the traders and the order book) sums to at least 0. Where the
    policy's fund layer keeps a floor (Drift's fund pays ``IF_balance − 1`` at most "so
    insurance_fund_vault_balance always stays >= 1", docs/venues.md#drift-v2-bankruptcy) that sum is
    also at least what the fund lacks of its floor, ``Σ + fund ≥ floor``: what both venue facts
    (deposits cover borrows, the fund at its floor) imply, written as one sum because a premise on the
    fund alone costs drift's conservation its all-N argument (session 32, measured).

    Without it a story can leave a trader owing settlement cash that nobody on the book holds, which
    the venue cannot be in (docs/model.md#settlement-deposits-cover-settlement-borrows-session-32).
    ``without_assets`` (``Bounds.settlement_covered``): stated on a book without assets too, for the
    search a question on the asset book asks first without them, whose stories are replayed with them."""
    if not (book.assets or without_assets) or getattr(policy, "settlement", None) is None:
        return []
    held = sum_(a.cash_quote for a in settlement_holders(book))
    layer = policy.layer(InsuranceFund)
    floor = 0 if layer is None else layer.floor_quote
    fund = book.role(Role.INSURANCE_FUND).cash_quote
    return [Assumption(SETTLEMENT_COVERED, and_(held >= 0, held + fund >= floor) if floor > 0 else held >= 0)]


def lent_covered(policy: Policy, asset: str) -> str:
    """The name of the assumption that ``asset``'s deposits cover its borrows (:func:`lent_assumptions`):
    the insurance fund's balance of the asset counted with the holders' where its layers put the fund
    first (:func:`fund_first`)."""
    rule = lent_rule(policy, asset)
    if rule is not None and fund_first(rule):
        return (
            f"{asset} deposits cover {asset} borrows (the traders', the order book's and the insurance fund's"
            " balances of it sum to at least 0)"
        )
    return (
        f"{asset} deposits cover {asset} borrows (the traders' and the order book's balances of it sum to at least 0)"
    )


def fund_first(rule: Any) -> bool:
    """Whether the asset's ``bankruptcy`` layers put ``insurance_fund`` before ``deposit_index``: its fund
    then spends its balance of the asset before any holder is cut (``lending._fund_buys``)."""
    layers = list(rule.bankruptcy)
    return (
        TokenLayer.INSURANCE_FUND in layers
        and TokenLayer.DEPOSIT_INDEX in layers
        and layers.index(TokenLayer.INSURANCE_FUND) < layers.index(TokenLayer.DEPOSIT_INDEX)
    )


def lent_assumptions(policy: Policy, book: Book) -> list[Assumption]:
    """What a lent asset's deposit-index cut (``lending._deposit_index_loss``: Drift's and Mango's
    token bankruptcy) rests on, stated for each asset of the book whose ``bankruptcy`` layers include
    ``deposit_index`` (``drift``, ``mango-v4``): nothing elsewhere (backpack's ``lender_adl``, a book
    without assets), so no other question's terms change.

    As for settlement cash (:func:`settlement_assumptions`): a borrow of a token is a withdrawal from
    its vault, capped at what is deposited and not yet borrowed (Drift's ``spot_withdraw.rs``
    ``get_max_withdraw_for_market_with_token_amount``; Mango's ``token_withdraw.rs`` refuses more than
    the bank's vault holds and, on a borrow, enforces a minimum vault-to-deposits ratio). On the
    book: the balances of the asset held by the traders and the order book
    (``lending.settlement_holders``) sum to at least 0. Without it a story can leave a trader owing
    quanta of the asset that nobody on the book holds
    (docs/model.md#a-lent-assets-cut-takes-from-every-holder-of-the-asset-session-32).

    Where the asset's layers put ``insurance_fund`` before ``deposit_index`` (:func:`fund_first`: drift's
    SOL, mango-v4's USDC and MNGO) the insurance fund's balance of the asset is counted with the holders',
    as :func:`settlement_assumptions` counts the fund's cash: the cut's rounding dust goes there
    (``lending._cut``) and the fund's layer gives it to the next borrower before any holder is cut
    (``lending._fund_buys``), so a step keeps that sum (``solver.asset_cut``), where it does not keep the
    holders' alone (docs/model.md#the-cuts-rounding-dust-is-the-assets-own-insurance-fund-session-33)."""
    if not book.assets:
        return []
    out = []
    for k, asset in enumerate(book.assets):
        rule = lent_rule(policy, asset.name)
        if rule is None or TokenLayer.DEPOSIT_INDEX not in rule.bankruptcy:
            continue
        counted = settlement_holders(book)
        if fund_first(rule):
            counted = [*counted, book.role(Role.INSURANCE_FUND)]
        held = sum_(a.asset_balances[k] for a in counted)
        out.append(Assumption(lent_covered(policy, asset.name), held >= 0))
    return out


#: the system accounts a funded book starts without money: the venue's own account, the clearing
#: account and the fee pool (only trading fills them); the insurance fund, the backstop vault and
#: the order book's liquidity may start seeded, as deposits
UNFUNDED = (Role.VENUE, Role.CLEARING, Role.FEE_ACCOUNT)


def funded(book: Book) -> Assumption:
    """A book just funded: every account flat (no position, no cost basis in any market), nothing
    withdrawn, owed or carried, no trading PnL in the clawback window, no spot, every balance a
    non-negative deposit that is all principal, the venue, clearing and fee accounts empty, net
    deposits the sum of the balances, and one mark (no previous move). Every such book is the
    empty book after deposits (``solvent.properties.reachable.from_empty`` writes it so), so a
    story from it needs no "where did this book come from?"."""
    per_account = [c for a in book.accounts for c in _deposits_only(a)]
    marks = [m.previous_mark_quote == m.mark_quote for m in book.markets]
    # a market's capped insurance claim (rules.insurance_claim): nothing paid yet on a new book
    marks += [m.fund_settled_quote == 0 for m in book.markets if m.fund_settled_quote is not None]
    return Assumption(
        "a funded book: every account flat, its balance deposits only",
        all_([*per_account, *marks, book.net_deposits_quote == sum_(a.cash_quote for a in book.accounts)]),
    )


def traded(book: Book) -> Assumption:
    """A book where only the traders have traded: every system account (the order book, the pools,
    the venue) as on a funded book (:func:`funded`'s conditions for one account: flat, nothing
    behind its balance but deposits, the venue, clearing and fee accounts empty); the traders any
    well-formed state. A seed's opening (``solvent.properties.reachable.opening``) writes such a
    book's system accounts exactly, by deposits; what a trader holds it writes by trades at the
    mark and a round trip for a profit or a loss (``solvent.solver.deep_stories``), where a
    well-formed book may also give the order book a position and a loss history that no deposit
    or trade gives it (docs/solver-notes.md#a-seeds-loss-history-built-issue-18)."""
    return Assumption(
        "only the traders have traded: every system account flat, its balance deposits only",
        all_([c for a in book.accounts if not a.is_trader for c in _deposits_only(a)]),
    )


def _deposits_only(a: Account) -> list[Any]:
    """One account of a funded book: flat in every market, nothing withdrawn, owed, carried or in
    the clawback window, no spot, a non-negative balance that is all principal (none for the
    venue, clearing and fee accounts, ``UNFUNDED``)."""
    out = [p.size_lots == 0 for p in a.positions] + [p.cost_quote == 0 for p in a.positions]
    out += [
        a.withdrawn_quote == 0,
        a.debt_quote == 0,
        a.window_pnl_quote == 0,
        a.funding_remainder_millionths == 0,
        a.spot_quote == 0,
        a.cash_quote >= 0,
        a.principal_quote == (0 if a.role in UNFUNDED else a.cash_quote),
    ]
    if a.role in UNFUNDED:
        out.append(a.cash_quote == 0)
    return out


def long_open_interest(policy: Policy, book: Book) -> Any:
    """The long side's notional at the mark: Σ max(size, 0) × mark over who may hold a position."""
    return sum_(max_(a.size_lots, 0) * book.market.mark_quote for a in book.accounts if a.role in holders(policy))


def move_within(before: Book, event: Any, bounds: Bounds) -> Any:
    """A mark event moves the price of its market at most ``bounds.max_move_ppm`` of that
    market's mark in the book ``before`` it (True for other events, or when the bounds set no
    limit): ``|p' − p| · 10⁶ ≤ m · p``. The event's own market: on a book of several markets a
    move in ETH is measured against ETH's mark, not the first market's."""
    if bounds.max_move_ppm is None or not isinstance(event, MarkPrice):
        return True
    before_mark = before.market_named(event.market).mark_quote
    move = event.price_quote - before_mark
    return and_(move * PPM <= bounds.max_move_ppm * before_mark, -move * PPM <= bounds.max_move_ppm * before_mark)


def mark_move_ppm(book: Book, event: MarkPrice) -> int:
    """:func:`move_ppm_of` a mark event, against the mark of its own market in ``book``."""
    return move_ppm_of(book.market_named(event.market).mark_quote, event.price_quote)


def move_ppm_of(before_mark: int, price_quote: int) -> int:
    """⌈|p′ − p| · 10⁶ / p⌉: the least ``max_move_ppm`` a move from ``before_mark`` to
    ``price_quote`` lies within (:func:`move_within`); concrete prices only."""
    return -(-abs(price_quote - before_mark) * PPM // before_mark)


__all__ = [
    "Assumption",
    "SETTLEMENT_COVERED",
    "UNFUNDED",
    "book_assumptions",
    "fund_first",
    "funded",
    "lent_assumptions",
    "lent_covered",
    "traded",
    "holders",
    "long_open_interest",
    "mark_move_ppm",
    "move_ppm_of",
    "move_within",
    "settlement_assumptions",
]

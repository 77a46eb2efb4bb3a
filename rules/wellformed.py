"""A well-formed book: a state the venue could be in when a story starts. Written once over the
arithmetic interface, so the same function gives a ``bool`` on a concrete book and a z3 Boolean on
a symbolic one (``solvent.solver.assumptions`` makes it the prover's assumptions).

In exchange terms a book is well formed when:

- **prices**: the mark (and the mark before the last move) is a positive price on the market's tick;
- **positions**: only traders and the order book hold positions (and the backstop vault, where the
  policy hands it positions by a takeover, or the insurance fund, where it holds what it takes over
  at the bankruptcy price); open interest balances (every long has a short); each
  cost basis follows its position (zero when flat, the position's sign, at least a quantum a lot);
- **claims**: where a market's table caps what the insurance fund pays toward its bankruptcies in
  total (``fund_cap_quote``), what it has paid so far is between 0 and that cap;
- **money**: the ``clearing`` account is empty (settlement nets to zero); every unit on the book was
  deposited (Σ cash + spot over every account but clearing = net deposits); collateral is never
  negative (spot balances, the insurance fund, the fee account and the backstop vault; principal,
  withdrawn totals and debts are non-negative counts); nobody owes a debt off the book unless the
  policy lends through a venue debt carry, and there (deposits repaying it first, margin from cash
  alone) only a trader owes it, flat in every market at cash 0 (:func:`debt_owed_flat`);
- **margin**: every trader's equity covers the initial margin of its position at the mark, as a
  venue checks on order entry (``StartMargin.INITIAL``, the default). ``StartMargin.MAINTENANCE``
  asks only that no trader be liquidatable (a position that drifted toward its liquidation price,
  the threshold question for a maintenance rate) and that none be worth less than zero (a flat
  trader is never liquidatable; one below zero carries an earlier event's deficit).
  ``margin=None`` leaves margin out: the book in the middle of a story, after mark moves a venue
  does not refuse, still satisfies the rest.

Under a haircut whose losses settle into capital (``haircut_ratio.losses_settle_capital``,
percolator), every trader's and the book's principal is at most its equity, as the engine keeps it
after every event; where it releases the reserve linearly (``release = "linear"``, percolator Gen
B), an account has a positive slope exactly when it has a reserve.

The order book's aggregate (``liquidity``, the rest of the market, whose margin the model does not
track) starts with non-negative cash, not a margin requirement. Not required: the cash of the
venue's own account (which fronts a venue debt carry), and, in the middle of a story, the order
book's cash (the rest of the market may lose).

A trade is accepted only if it keeps the book well formed the way a venue does on order entry
(:func:`opening_covered`): a side that opens, adds to or flips a position must cover the new
position's initial margin at the mark from its equity less the fee and less the trade's *open
loss* (what it loses against the mark by trading at a worse price); a price better than the mark
earns no credit (Binance's "cost to open" = initial margin + open loss, docs/venues.md#binance-margin).
Without that rule an account with no deposit could open a 125x position funded only by buying one
tick under the mark.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from solvent.rules.arith import PPM, abs_, all_, and_, implies, is_concrete, max_, not_, sum_
from solvent.rules.assets import account_value, margin_equity
from solvent.rules.bankruptcy import fee_to_close_rate
from solvent.rules.book import Account, Asset, Book, Market, Role, is_on_tick
from solvent.rules.fields import data_fields
from solvent.rules.haircut_ratio import releases_linearly, settles_losses
from solvent.rules.insurance_claim import within_cap
from solvent.rules.liquidation import is_triggered, pools_holding
from solvent.rules.margin import (
    account_initial_margin,
    account_maintenance,
    equity,
    initial_margin,
    is_flat,
    open_lots,
)
from solvent.rules.policy import Policy
from solvent.rules.rounding import FundingRemainder
from solvent.rules.waterfall import HaircutRatio, Lender

#: Accounts that hold the venue's own collateral pools; none may start below zero.
POOLS = (Role.INSURANCE_FUND, Role.FEE_ACCOUNT, Role.BACKSTOP_VAULT)


def _pool_non_negative(account: Any) -> Any:
    """A pool's balance is not below zero, in every market where its fund is kept per market."""
    if not account.more_funds:
        return account.cash_quote >= 0
    return all_(b >= 0 for b in (account.cash_quote, *account.more_funds))


class StartMargin(enum.Enum):
    """What every trader's equity covers when the story starts."""

    INITIAL = "initial"
    MAINTENANCE = "maintenance"
    #: worth at least zero (its equity, its collateral at oracle prices) with the fee to close its
    #: bankruptcy price includes inside that worth: the premise a sequence of mark moves keeps
    #: (docs/solver-notes.md#the-per-trader-claims-at-k--3-by-induction-session-20). Not "not
    #: liquidatable": a trader at initial margin may be liquidatable where both margins round up
    #: to one quantum (equity 1 = initial = maintenance, triggered at or below maintenance)
    SOLVENT = "solvent"


@attrs.frozen
class Condition:
    """One named part of well-formedness: ``holds`` is a ``bool`` on a concrete book, a z3 Boolean on a symbolic one."""

    name: str
    holds: Any


def holders(policy: Policy) -> tuple[Role, ...]:
    """Who may hold a position: traders, the order book, the backstop vault when the policy
    hands it positions (a takeover execution or a takeover threshold), and the insurance fund
    when it holds what it takes over (``liquidation.fund_unwind_ppm``)."""
    return (Role.TRADER, Role.LIQUIDITY, *pools_holding(policy.liquidation))


def lends_off_book(policy: Policy) -> bool:
    """Whether the policy's venue fronts deficits and records them as a debt owed off the book."""
    carry = policy.debt_carry
    return carry is not None and carry.lender is Lender.VENUE


def debt_owed_flat(policy: Policy) -> bool:
    """Whether a debt the venue fronts is owed only by a trader it left flat at cash 0 (the rule
    :data:`FRONTED_DEBT`). So on a policy whose venue fronts the deficit (:func:`lends_off_book`)
    and whose deposits repay the debt first (``deposits_repay_debt``), where a debtor's margin can
    come from its cash alone: no spot collateral (``margin.spot_collateral``), no collateral asset
    or settlement lending (``[[collateral]]``, ``[settlement_lending]``), and no delisting
    (``liquidation.final_settlement``, which on a book of several markets resolves one market's
    bankruptcy while the account keeps the others). A book's isolated positions are read per book
    (:func:`_owes_flat`)."""
    carry = policy.debt_carry
    return (
        lends_off_book(policy)
        and carry is not None
        and carry.deposits_repay_debt
        and not policy.margin.spot_collateral
        and not policy.collateral
        and policy.settlement_lending is None
        and not policy.liquidation.final_settlement
    )


def _owes_flat(book: Book, account: Account) -> Any:
    """Only a trader owes the venue; a trader that owes it is flat in every market at cash 0: the
    bankruptcy that fronts the deficit closes its positions and tops its cash up to 0
    (``bankruptcy.resolve``, ``debt_carry.carry``), a deposit repays the debt before it is cash
    (``engine._deposit``), a withdrawal waits until it is repaid, and at equity 0 it opens nothing
    (:func:`opening_covered`: initial margin is at least a quantum a position). Not read for an
    isolated position or its owner: margin added to the one, or removed to the other, is cash that
    no repayment passes through (z3: ``solver.fronted_debt``)."""
    if not account.is_trader:
        return account.debt_quote == 0
    if account.owner or any(a.owner == account.name for a in book.accounts):
        return True
    return implies(
        account.debt_quote > 0, and_(account.cash_quote == 0, *(p.size_lots == 0 for p in account.positions))
    )


def _cost_follows(account: Account) -> Any:
    s, c = account.size_lots, account.cost_quote
    return and_(implies(s == 0, c == 0), implies(s > 0, c >= s), implies(s < 0, c <= s))


def _counts_non_negative(account: Account) -> Any:
    return and_(
        account.spot_quote >= 0, account.principal_quote >= 0, account.withdrawn_quote >= 0, account.debt_quote >= 0
    )


def covers_margin(
    policy: Policy,
    account: Account,
    mark: Any,
    margin: StartMargin,
    others: Sequence[Market] = (),
    assets: Sequence[Asset] = (),
) -> Any:
    """The trader covers initial margin at the mark, or (``MAINTENANCE``) is not liquidatable, or
    (``SOLVENT``) is worth at least zero (``assets.account_value``: its equity and its collateral
    at oracle prices) and that worth holds the fee to close its bankruptcy price includes on its
    notional at the mark (``v × 10⁶ ≥ f × Σ|S|·M``); in a book of several markets (``others``: its
    further markets) over every position, with its collateral assets (``assets``: the book's) at
    their initial or maintenance weights."""
    if margin is StartMargin.SOLVENT:
        value = account_value(policy, tuple(assets), account)
        marks = (mark, *(m.mark_quote for m in others))
        notional = sum_(abs_(p.size_lots) * m for p, m in zip(account.positions, marks, strict=False))
        return and_(value >= 0, value * PPM >= fee_to_close_rate(policy) * notional)
    if margin is StartMargin.MAINTENANCE:
        mm = account_maintenance(policy.margin, policy.rounding, account, mark, others, policy.more_margins)
        e = margin_equity(policy, tuple(assets), account)
        return not_(is_triggered(policy.liquidation, e, mm, open_lots(account)))
    return margin_equity(policy, tuple(assets), account, initial=True) >= account_initial_margin(
        policy.margin, policy.rounding, account, mark, others, policy.more_margins
    )


def opening_covered(
    policy: Policy,
    after: Account,
    lots_delta: Any,
    price: Any,
    mark: Any,
    others: Sequence[Market] = (),
    assets: Sequence[Asset] = (),
) -> Any:
    """The venue's order-entry check for a side that opens, adds to or flips a position, read on
    the account ``after`` the fill: its equity less the fill's gain against the mark (a price better
    than the mark earns no credit) covers initial margin of the new position at the mark.

    Formula (Δ the signed lots bought, P the price, M the mark, fee the fee charged):
        E_after − max(Δ × (M − P), 0) ≥ IM(S_after, M)
        ⇔ E_before − fee − max(Δ × (P − M), 0) ≥ IM(S_after, M)   (E_after = E_before − Δ(P − M) − fee)

    In a book of several markets (``others``: its further markets) the account's positions there
    need their initial margin too: cross margin covers every position from one equity, with the
    account's collateral assets (``assets``: the book's) at their initial weights.
    """
    improvement = max_(lots_delta * (mark - price), 0)
    return margin_equity(policy, tuple(assets), after, initial=True) - improvement >= account_initial_margin(
        policy.margin, policy.rounding, after, mark, others, policy.more_margins
    )


def _fields(_policy: Policy, _book: Book, account: Account) -> str:
    shown = [f"{f} {getattr(account, f):,}" for f in _SHOWN if getattr(account, f) != 0]
    return ", ".join(shown) or "all zero"


_SHOWN = ("cash_quote", "spot_quote", "size_lots", "cost_quote", "principal_quote", "withdrawn_quote", "debt_quote")


def _margins(policy: Policy, book: Book, account: Account) -> str:
    mark, size = book.market.mark_quote, account.size_lots
    e = equity(policy.margin, account)
    im = initial_margin(policy.margin, policy.rounding, size, mark)
    mm = account_maintenance(policy.margin, policy.rounding, account, mark)
    return f"equity {e:,}, initial margin {im:,}, maintenance margin {mm:,} ({size:,} lots at the mark {mark:,})"


@attrs.frozen
class _Rule:
    """A condition: on the whole book (``book``), or on every account it ``applies`` to
    (``account``), with what a broken one shows (``detail``, concrete books only)."""

    name: str
    book: Callable[[Policy, Book], Any] | None = None
    account: Callable[[Policy, Book, Account], Any] | None = None
    applies: Callable[[Policy, Account], bool] = lambda _policy, _account: True
    detail: Callable[..., str] = _fields
    #: a condition on "the market": it must hold in every market of the book (each read on the
    #: book focused on it, ``Book.focused``)
    per_market: bool = False


def _marks(book: Book) -> str:
    m = book.market
    return f"mark {m.mark_quote:,}, previous mark {m.previous_mark_quote:,}, tick {m.tick_quote:,}"


def _lent(policy: Policy, name: str) -> bool:
    return any(t.name == name and t.lends for t in policy.collateral)


def _asset_rules() -> list[_Rule]:
    """What a book with collateral assets adds (docs/portfolio.md decisions 2 and 7)."""
    return [
        _Rule(
            "asset prices positive",
            book=lambda p, b: all_(a.price_quote > 0 for a in b.assets),
            detail=lambda p, b: ", ".join(f"{a.name} {a.price_quote:,}" for a in b.assets),
        ),
        _Rule(
            "asset balances non-negative (a lent asset's may be a borrow)",
            account=lambda p, b, a: all_(
                x >= 0 for x, asset in zip(a.asset_balances, b.assets, strict=True) if not _lent(p, asset.name)
            ),
            applies=lambda p, a: a.role is not Role.CLEARING,
        ),
        _Rule(
            "clearing account holds no asset",
            account=lambda p, b, a: all_(x == 0 for x in a.asset_balances),
            applies=lambda p, a: a.role is Role.CLEARING,
        ),
        _Rule(
            "conservation of every asset at the start",
            book=lambda p, b: all_(b.total_asset(i) == a.net_deposits for i, a in enumerate(b.assets)),
            detail=lambda p, b: ", ".join(
                f"{a.name}: Σ balances {b.total_asset(i):,}, net deposits {a.net_deposits:,}"
                for i, a in enumerate(b.assets)
            ),
        ),
    ]


#: the rule a debt the venue fronts keeps (:func:`debt_owed_flat`)
FRONTED_DEBT = "a debt the venue fronted is owed only by a trader, flat at cash 0"

#: the one book rule that reads only the market (``trader_conditions`` keeps it with a trader's own)
MARKS = "marks positive and on the tick"


def _rules(policy: Policy, margin: StartMargin | None, assets: bool = False) -> list[_Rule]:
    rules = [
        *(_asset_rules() if assets else ()),
        _Rule(
            MARKS,
            book=lambda p, b: and_(
                b.market.mark_quote > 0,
                b.market.previous_mark_quote > 0,
                is_on_tick(b.market.mark_quote, b.market.tick_quote),
                is_on_tick(b.market.previous_mark_quote, b.market.tick_quote),
            ),
            detail=lambda p, b: _marks(b),
            per_market=True,
        ),
        _Rule(
            "clearing account empty",
            account=lambda p, b, a: all_(getattr(a, f) == 0 for f in _CLEARING_FIELDS),
            applies=lambda p, a: a.role is Role.CLEARING,
        ),
        _Rule(
            "only traders and the order book (and a taking-over vault) hold positions",
            account=lambda p, b, a: a.size_lots == 0,
            applies=lambda p, a: a.role not in holders(p),
            per_market=True,
        ),
        _Rule(
            "open interest balanced",
            book=lambda p, b: sum_(a.size_lots for a in b.accounts) == 0,
            detail=lambda p, b: f"Σ size {sum(a.size_lots for a in b.accounts):,} lots",
            per_market=True,
        ),
        _Rule(
            "conservation at the start",
            book=lambda p, b: b.total_cash_quote() == b.net_deposits_quote,
            detail=lambda p, b: f"Σ cash + spot {b.total_cash_quote():,}, net deposits {b.net_deposits_quote:,}",
        ),
        _Rule(
            "pools non-negative", account=lambda p, b, a: _pool_non_negative(a), applies=lambda p, a: a.role in POOLS
        ),
        _Rule("spot, principal, withdrawals and debts non-negative", account=lambda p, b, a: _counts_non_negative(a)),
    ]
    if not lends_off_book(policy):
        rules.append(_Rule("no debt owed off the book", account=lambda p, b, a: a.debt_quote == 0))
    elif debt_owed_flat(policy):
        # a debt arises only at a bankruptcy, which leaves the trader flat at cash 0, and a deposit
        # repays it before it is cash: z3 had started broker-reg-t's loss-bounded-by-collateral from
        # alice long a share with cash 50.00 beside a debt of 50.01, a book no history reaches
        # (docs/model.md#a-debt-the-venue-fronted-is-owed-by-a-flat-trader-at-cash-0-session-35)
        rules.append(_Rule(FRONTED_DEBT, account=lambda p, b, a: _owes_flat(b, a)))
    if policy.rounding.funding_remainder is FundingRemainder.CARRIED:
        # the part of a funding payment below one quantum an account carries (settlement.carried_amounts):
        # a credit in [0, 1e6) millionths where payers round up, a debit in (-1e6, 0] where they round down
        rules.append(
            _Rule(
                "funding remainders below one quantum",
                account=lambda p, b, a: _remainder_within(p, a.funding_remainder_millionths),
            )
        )
    rules.append(_Rule("cost basis follows the position", account=lambda p, b, a: _cost_follows(a), per_market=True))
    if policy.fund_capped_markets:
        # what the fund has paid toward a market's bankruptcies never passes the market's cap
        # (rules.insurance_claim: the engine pays at most what the claim has left)
        rules.append(
            _Rule(
                "insurance claims within their caps",
                book=lambda p, b: within_cap(p, b.market),
                detail=lambda p, b: (
                    f"{b.market.name}: {b.market.fund_settled_quote} paid of {p.fund_cap_in(b.market.name)}"
                ),
                per_market=True,
            )
        )
    if settles_losses(policy):
        # percolator settles a realized loss into capital at once (haircut_ratio.losses_settle_capital),
        # and the engine re-bases after every event: a principal above its equity is a loss not yet
        # settled, which would hide a later gain from the haircut (z3 built exactly that: issue 15)
        rules.append(
            _Rule(
                "losses settled into capital (principal at most equity)",
                account=lambda p, b, a: a.principal_quote <= max_(equity(p.margin, a), 0),
                applies=lambda p, a: a.is_trader or a.role is Role.LIQUIDITY,
            )
        )
        if _matured_only(policy):
            # Gen B converts a flat account's matured profit into capital at the end of every
            # event (haircut_ratio.settle_reserves, spec v11.31 §7.4): a reachable flat account's
            # principal is its equity. z3 had started from a flat account holding matured profit,
            # a book Gen B never reaches, and reported flat-accounts-never-pay broken (issue 15)
            rules.append(
                _Rule(
                    "a flat account's matured profit is capital (principal equals equity)",
                    account=lambda p, b, a: implies(
                        is_flat(a),
                        a.principal_quote == max_(equity(p.margin, a), 0),
                    ),
                    applies=lambda p, a: a.is_trader or a.role is Role.LIQUIDITY,
                )
            )
        if releases_linearly(policy) and not _matured_only(policy):
            # percolator Gen A's slope (haircut_ratio.vest_linearly, spec v7 §5): restarted at at least
            # 1 when new profit leaves junior profit, kept while any is left, none without it
            rules.append(
                _Rule(
                    "junior profit has a slope, and only junior profit",
                    account=lambda p, b, a: and_(
                        a.reserve_slope_quote >= 0,
                        (equity(p.margin, a) > a.principal_quote) == (a.reserve_slope_quote > 0),
                    ),
                    applies=lambda p, a: a.is_trader or a.role is Role.LIQUIDITY,
                )
            )
        if releases_linearly(policy) and _matured_only(policy):
            # percolator Gen B's slope (haircut_ratio.linear_slope, spec v11.31 §4.9): set to at least
            # 1 whenever the reserve grows and kept while any is left; none without a reserve
            rules.append(
                _Rule(
                    "a reserve has a slope, and only a reserve",
                    account=lambda p, b, a: and_(
                        a.reserve_slope_quote >= 0,
                        (a.window_pnl_quote > 0) == (a.reserve_slope_quote > 0),
                    ),
                    applies=lambda p, a: a.is_trader or a.role is Role.LIQUIDITY,
                )
            )
    if margin is not None:
        name = {
            StartMargin.INITIAL: "traders margin-compliant",
            StartMargin.MAINTENANCE: "traders not liquidatable (above maintenance)",
            StartMargin.SOLVENT: "traders worth at least zero, their fee to close within it",
        }[margin]
        rules.append(
            _Rule(
                name,
                account=lambda p, b, a: covers_margin(p, a, b.market.mark_quote, margin, b.more_markets, b.assets),
                applies=lambda p, a: a.is_trader,
                detail=_margins,
            )
        )
        if margin is StartMargin.MAINTENANCE:
            # a flat trader is never liquidatable, so "not liquidatable" alone lets one start below
            # zero: a deficit of an earlier event, not of the move the question asks about (on
            # percolator Gen B the step's write-off sent it down the waterfall, and the maintenance
            # rate's threshold read "none" from a flat account at -1: a false alarm)
            rules.append(
                _Rule(
                    "traders worth at least zero",
                    account=lambda p, b, a: margin_equity(p, tuple(b.assets), a) >= 0,
                    applies=lambda p, a: a.is_trader,
                )
            )
        # the rest of the market starts with collateral, not a debt: otherwise a deficit whose
        # counterparty is the book could go unpaid only because the book was given negative cash
        # (z3 found exactly that on percolator, okx-2018 and mango-v4: a false alarm)
        rules.append(
            _Rule(
                "the order book starts with non-negative cash",
                account=lambda p, b, a: a.cash_quote >= 0,
                applies=lambda p, a: a.role is Role.LIQUIDITY,
            )
        )
    return rules


def _remainder_within(policy: Policy, r: Any) -> Any:
    if policy.rounding.funding.payers_round_up:
        return and_(r >= 0, r < PPM)
    return and_(r <= 0, r > -PPM)


_CLEARING_FIELDS = ("cash_quote", "spot_quote", "size_lots", "cost_quote", "principal_quote", "debt_quote")


def _matured_only(policy: Policy) -> bool:
    layer = policy.layer(HaircutRatio)
    return layer is not None and layer.matured_only


def _holds(rule: _Rule, policy: Policy, book: Book) -> Any:
    if rule.per_market and book.more_markets:
        return all_(_holds_here(rule, policy, book.focused(i)) for i in range(len(book.markets)))
    return _holds_here(rule, policy, book)


def _holds_here(rule: _Rule, policy: Policy, book: Book) -> Any:
    if rule.book is not None:
        return rule.book(policy, book)
    assert rule.account is not None
    return all_(rule.account(policy, book, a) for a in book.accounts if rule.applies(policy, a))


def conditions(policy: Policy, book: Book, *, margin: StartMargin | None = StartMargin.INITIAL) -> list[Condition]:
    """The named conditions of a well-formed book, in a fixed order (see the module docstring);
    on a book with isolated positions, :func:`isolated_condition` last."""
    out = [Condition(rule.name, _holds(rule, policy, book)) for rule in _rules(policy, margin, bool(book.assets))]
    return out + isolated_condition(book)


def trader_conditions(policy: Policy, book: Book, name: str, *, margin: StartMargin | None) -> list[Condition]:
    """The conditions of a well-formed book that speak of one trader ``name`` alone (each rule on
    an account that applies to it, in every market where the rule is per market) and of the marks
    (positive and on the tick): a trader's own well-formedness, which ``solver.induction`` proves
    each mark move keeps. Not the book's totals (open interest, conservation) nor other accounts."""
    out = []
    for rule in _rules(policy, margin, bool(book.assets)):
        focused = (
            [book.focused(i) for i in range(len(book.markets))] if rule.per_market and book.more_markets else [book]
        )
        if rule.book is not None and rule.name == MARKS:
            out.append(Condition(rule.name, all_(rule.book(policy, b) for b in focused)))
        elif rule.account is not None and rule.applies(policy, book.account(name)):
            out.append(Condition(rule.name, all_(rule.account(policy, b, b.account(name)) for b in focused)))
    return out


#: the name of the condition an isolated position's book meets (``isolated_condition``)
ISOLATED_OWN_MARKET = "an isolated position holds its own market only, and its owner holds none there"


def isolated_condition(book: Book) -> list[Condition]:
    """A position is cross or isolated, never both (docs/portfolio.md, decision 3a): an isolated
    position (``Account.owner``) holds nothing in any other market, and its owner nothing in its
    market. Empty on a book without isolated positions, so its terms are the ones they were."""
    checks = []
    for a in book.accounts:
        if not a.owner:
            continue
        k = book.market_index(a.isolated_market)
        owner = book.account(a.owner)
        checks += [p.size_lots == 0 for i, p in enumerate(a.positions) if i != k]
        checks += [p.cost_quote == 0 for i, p in enumerate(a.positions) if i != k]
        checks += [owner.positions[k].size_lots == 0, owner.positions[k].cost_quote == 0]
    return [Condition(ISOLATED_OWN_MARKET, all_(checks))] if checks else []


def well_formed(policy: Policy, book: Book, *, margin: StartMargin | None = StartMargin.INITIAL) -> Any:
    """Every condition at once: a ``bool`` on a concrete book, a z3 Boolean on a symbolic one."""
    return all_(c.holds for c in conditions(policy, book, margin=margin))


def reasons(policy: Policy, book: Book, *, margin: StartMargin | None = StartMargin.INITIAL) -> list[str]:
    """Why a concrete book is not well formed: one line per broken condition, naming the accounts
    and amounts that break it (empty when the book is well formed)."""
    data = [getattr(a, f) for a in book.accounts for f in data_fields(Account)]
    market = book.market
    if not is_concrete(market.mark_quote, market.previous_mark_quote, book.net_deposits_quote, *data):
        raise TypeError("reasons() reads a concrete book; on a symbolic one use conditions() or well_formed()")
    out = []
    for rule in _rules(policy, margin, bool(book.assets)):
        if _holds(rule, policy, book):
            continue
        shown, where = book, ""
        if rule.per_market and book.more_markets:  # the first market it fails in, named
            index = next(i for i in range(len(book.markets)) if not _holds_here(rule, policy, book.focused(i)))
            shown, where = book.focused(index), f" (in {book.markets[index].name})"
        if rule.book is not None:
            out.append(f"{rule.name}{where}: {rule.detail(policy, shown)}")
            continue
        assert rule.account is not None
        broken = [a for a in shown.accounts if rule.applies(policy, a) and not rule.account(policy, shown, a)]
        out.append(f"{rule.name}{where}: " + "; ".join(f"{a.name}: {rule.detail(policy, shown, a)}" for a in broken))
    return out + [c.name for c in isolated_condition(book) if not c.holds]


__all__ = [
    "FRONTED_DEBT",
    "POOLS",
    "Condition",
    "StartMargin",
    "trader_conditions",
    "conditions",
    "covers_margin",
    "debt_owed_flat",
    "holders",
    "lends_off_book",
    "opening_covered",
    "reasons",
    "well_formed",
]

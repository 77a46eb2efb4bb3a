"""The invariant catalog: each property has a stable id, a one-sentence claim and a predicate.

Predicates are written over the same arithmetic interface as the engine (``solvent.rules.arith``)
and read a :class:`StepView`: the policy, the book before and after one event, and the step's
guarded transfers and outcomes. On a concrete step every guard is ``True`` and a predicate
returns a Python bool; on a symbolic step it returns a z3 formula. So the search and the proof
check the very same claim.

A user adds an invariant by calling :func:`register` with their own predicate.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from solvent.properties.registry import Registry
from solvent.rules.arith import abs_, all_, and_, any_, implies, max_, not_, or_, sum_, when
from solvent.rules.assets import account_value
from solvent.rules.bankruptcy import fee_to_close_rate
from solvent.rules.book import Account, Book, Role
from solvent.rules.engine import Step, market_of
from solvent.rules.events import MARGIN_EVENTS, AddMargin, AssetDeposit, AssetWithdraw, Deposit, SpotDeposit
from solvent.rules.insurance_claim import settled
from solvent.rules.ledger import HAIRCUT_REASONS, SPOT, Guarded, Reason, asset_balance
from solvent.rules.lending import lends_any, lent_rule
from solvent.rules.liquidation import Trigger
from solvent.rules.margin import counts_spot, equity, open_lots
from solvent.rules.market_funds import fund_balance, fund_balances
from solvent.rules.outcomes import AdlFill, Bankrupt, DeleverageAttempt, LayerUsed, Liquidated, LoanExchanged, Residual
from solvent.rules.policy import Policy


class Severity(enum.Enum):
    CRITICAL = "critical"  # money created, lost or double-charged: a bug in any policy
    HIGH = "high"  # a user loses what the venue promised to protect
    MEDIUM = "medium"  # a fairness or ordering promise is broken


@attrs.frozen
class StepView:
    """What an invariant sees of one step. Transfers and outcomes carry their guards."""

    policy: Policy
    before: Book
    event: Any
    after: Book
    transfers: tuple[Guarded, ...]
    outcomes: tuple[Guarded, ...]

    @classmethod
    def of(cls, policy: Policy, step: Step) -> StepView:
        """The view of a concrete step: every guard is ``True``."""
        return cls(
            policy,
            step.before,
            step.event,
            step.after,
            tuple(Guarded(True, t) for t in step.transfers),
            tuple(Guarded(True, o) for o in step.outcomes),
        )

    def outcomes_of(self, kind: type) -> Iterator[Guarded]:
        return (g for g in self.outcomes if isinstance(g.item, kind))

    def outflow(self, name: str, reasons: frozenset[Reason] | set[Reason]) -> Any:
        """Σ of the amounts ``name`` paid for any of ``reasons`` in this step."""
        return sum_(
            when(g.guard, g.item.amount_quote)
            for g in self.transfers
            if g.item.source == name and g.item.reason in reasons
        )

    def inflow(self, name: str, reasons: frozenset[Reason] | set[Reason]) -> Any:
        """Σ of the amounts ``name`` received for any of ``reasons`` in this step."""
        return sum_(
            when(g.guard, g.item.amount_quote)
            for g in self.transfers
            if g.item.destination == name and g.item.reason in reasons
        )

    def went_bankrupt(self, name: str) -> Any:
        return any_(g.guard for g in self.outcomes_of(Bankrupt) if g.item.account == name)

    def deferred(self, name: str) -> Any:
        """Whether this step left ``name`` for a later event by the venue's documented limit: dYdX v4
        deleverages at most ``Adl.max_deleveraged_per_event`` bankrupt accounts a block, and final
        settlement defers an account it cannot close (``rules.deleveraging_limit``,
        ``rules.final_settlement``). Such an account keeps its position and its deficit; its waterfall
        has not run, so the claims about what the waterfall leaves read it at its resolution
        (decision: docs/model.md#an-account-deferred-to-a-later-block). ``False`` where the step
        noted no deferral, so on every other book the claims' terms are unchanged."""
        return any_(g.guard for g in self.outcomes_of(DeleverageAttempt) if g.item.deferred and g.item.account == name)


Predicate = Callable[[StepView], Any]


@attrs.frozen
class Invariant:
    """A named, checkable claim about every step a policy can take."""

    id: str
    claim: str
    severity: Severity
    predicate: Predicate = attrs.field(repr=False)
    #: Whether a concrete step took the path this claim is about (for coverage, not verdicts).
    exercised: Predicate = attrs.field(default=lambda view: True, repr=False)
    #: Whether ``solvent check`` judges the claim on a policy without being asked for it: a claim
    #: about what only a book of several markets can do is judged on a policy that declares
    #: ``[[market]]`` tables (so a one-market policy's report is the one it was). Asked by name
    #: (``--invariant``), or in a search or proof, a claim is judged on any policy.
    applies: Callable[[Policy], bool] = attrs.field(default=lambda policy: True, repr=False)
    #: Whether the claim reads what a pro-rata split's share transfers make: the transfers, the
    #: balances after them, a layer's cover (``LayerUsed.covered_quote``). The exact split's lemma
    #: (``solver.exact_split_lemma``: ``Σ shares = T``, each share's bounds) speaks of those, and a
    #: question is given its facts only where its claim reads them (``solver.query.StoryQuery``;
    #: docs/solver-notes.md#the-split-facts-where-the-claim-reads-the-split-session-23). False for a
    #: claim that reads only the deficit before any split (the threshold questions' no bad debt).
    reads_splits: bool = attrs.field(default=True, kw_only=True)

    def holds(self, view: StepView) -> Any:
        return self.predicate(view)


#: Every invariant, in catalog order: this module's own, then any a user registers.
CATALOG: Registry[Invariant] = Registry("invariant", key=lambda inv: inv.id)


def register(invariant: Invariant) -> Invariant:
    """Add an invariant to the catalog (ids are unique)."""
    return CATALOG.register(invariant)


def invariant(
    id: str,
    claim: str,
    severity: Severity,
    *,
    exercised: Predicate | None = None,
    applies: Callable[[Policy], bool] | None = None,
):
    """Decorator form of :func:`register` for a predicate function."""

    def wrap(fn: Predicate) -> Predicate:
        register(Invariant(id, claim, severity, fn, exercised or (lambda view: True), applies or (lambda policy: True)))
        return fn

    return wrap


def get(id: str) -> Invariant:
    """The invariant with that id; ``KeyError`` listing the known ids (and the closest) otherwise."""
    return CATALOG.get(id)


# --- shared vocabulary ----------------------------------------------------------------------


def _traders(book: Book) -> tuple[Account, ...]:
    return book.traders


def _any_outcome(kind: type) -> Predicate:
    return lambda view: any_(g.guard for g in view.outcomes_of(kind))


def _haircut_paid(view: StepView, name: str) -> Any:
    """What ``name`` paid toward someone else's deficit through ADL, socialization or clawback."""
    return when(not_(view.went_bankrupt(name)), view.outflow(name, HAIRCUT_REASONS))


def _layers_for_one_account(view: StepView) -> int:
    """Most waterfall layers used for a single bankrupt account in this step (concrete steps only)."""
    used = [g.item.account for g in view.outcomes_of(LayerUsed)]
    return max((used.count(name) for name in set(used)), default=0)


def _value(view: StepView, book: Book, account: Account) -> Any:
    """The account's equity; on a book with collateral assets, with them at their oracle prices
    (``assets.account_value``: a negative cash balance backed by collateral is a loan, not a loss)."""
    return account_value(view.policy, book.assets, account)


def _claim(view: StepView, account: Account, book: Book | None = None) -> Any:
    """What the account could take out: equity net of debt, floored at zero."""
    return max_(_value(view, book or view.after, account) - account.debt_quote, 0)


WATERFALL_REASONS = frozenset(
    {
        Reason.INSURANCE_FUND,
        Reason.BACKSTOP_VAULT,
        Reason.FEE_POOL,
        Reason.VENUE_ABSORBS,
        Reason.ADL,
        Reason.SOCIALIZED_LOSS,
        Reason.HAIRCUT,
        Reason.CLAWBACK,
        Reason.DEBT_FRONTED,
        Reason.FUND_TAKEOVER,
        Reason.VAULT_TAKEOVER,
    }
)


# --- accounting -----------------------------------------------------------------------------


@invariant(
    "conservation",
    "cash + insurance fund + fees + vaults (+ spot) equals net deposits, exactly, and the clearing account is empty (cash and spot) after every event",
    Severity.CRITICAL,
)
def conservation(view: StepView) -> Any:
    """On a book with collateral assets, per asset too: Σ balances = the asset's net deposits, and
    the clearing account holds none (docs/portfolio.md decision 7)."""
    book = view.after
    clearing = book.role(Role.CLEARING)
    per_asset = [
        and_(book.total_asset(i) == asset.net_deposits, clearing.asset_balances[i] == 0)
        for i, asset in enumerate(book.assets)
    ]
    return and_(
        book.total_cash_quote() == book.net_deposits_quote,
        clearing.cash_quote == 0,
        clearing.spot_quote == 0,
        *per_asset,
    )


@invariant("open-interest-balance", "total long size equals total short size", Severity.CRITICAL)
def open_interest_balance(view: StepView) -> Any:
    """In a book of several markets, in each market (docs/portfolio.md)."""
    book = view.after
    if not book.more_markets:
        return sum_(a.size_lots for a in book.accounts) == 0
    return all_(sum_(a.positions[i].size_lots for a in book.accounts) == 0 for i in range(len(book.markets)))


@invariant(
    "deficit-charged-once",
    "every unit of a bankrupt account's deficit is paid exactly once, by exactly one waterfall layer",
    Severity.CRITICAL,
    exercised=_any_outcome(Bankrupt),
)
def deficit_charged_once(view: StepView) -> Any:
    """What the layers covered, the residual and what the account received are sums over the
    step's outcomes and transfers naming the account, whichever of its resolutions is read: each
    is built once per account (a cascade resolves an account in several branches: percolator Gen
    B's N = 4 mark move records 36 resolutions of 4 traders), the same terms."""
    checks = []
    sums: dict[str, tuple[Any, Any, Any, Any]] = {}
    for b in view.outcomes_of(Bankrupt):
        name = b.item.account
        if name not in sums:
            layers = [g for g in view.outcomes_of(LayerUsed) if g.item.account == name]
            covered = sum_(when(g.guard, g.item.covered_quote) for g in layers)
            residual = sum_(
                when(g.guard, g.item.amount_quote) for g in view.outcomes_of(Residual) if g.item.account == name
            )
            received = (
                view.inflow(name, WATERFALL_REASONS)
                - view.outflow(name, {Reason.PRO_RATA_DUST, Reason.ADL_SURPLUS})
                - _fee_to_close_paid(view, name)
            )
            nonnegative = all_(implies(g.guard, g.item.covered_quote >= 0) for g in layers)
            sums[name] = (covered, residual, received, nonnegative)
        covered, residual, received, nonnegative = sums[name]
        checks.append(
            implies(b.guard, and_(covered + residual == b.item.deficit_quote, nonnegative, received <= covered))
        )
    return all_(checks)


def _fee_to_close_paid(view: StepView, name: str) -> Any:
    """The trading fee ``name`` paid after the waterfall began paying it, under a policy whose
    bankruptcy price includes the fee to close (``liquidation.fee_to_close``, Bybit: the winners'
    price covers it, so it passes through the bankrupt account and is not the deficit's)."""
    if not fee_to_close_rate(view.policy):  # the engine's own reading of the fields
        return 0
    paid, started = [], False
    for g in view.transfers:
        t = g.item
        if t.destination == name and t.reason in WATERFALL_REASONS:
            started = or_(started, g.guard)
        elif t.source == name and t.reason is Reason.TRADING_FEE:
            paid.append(when(and_(started, g.guard), t.amount_quote))
    return sum_(paid)


@invariant(
    "claims-backed",
    "every positive claim is backed by cash the venue holds: no trader, fund, fee account or vault holds a negative cash balance",
    Severity.CRITICAL,
)
def claims_backed(view: StepView) -> Any:
    """On a book with collateral assets a trader's negative cash backed by its collateral at oracle
    prices is a loan the collateral secures (Binance multi-assets: a negative USDT balance)."""
    book = view.after
    holders = [a for a in book.accounts if a.role not in (Role.VENUE, Role.CLEARING, Role.LIQUIDITY)]
    return all_(
        or_(view.deferred(a.name), _value(view, book, a) >= 0) if a.is_trader else a.cash_quote >= 0 for a in holders
    )


# --- protection of users --------------------------------------------------------------------


@invariant("no-negative-equity", "after the waterfall, no account's equity is below zero", Severity.HIGH)
def no_negative_equity(view: StepView) -> Any:
    """An account the step deferred to a later block (:meth:`StepView.deferred`) is not yet through
    its waterfall, and is read when it is."""
    return all_(or_(view.deferred(a.name), _value(view, view.after, a) >= 0) for a in _traders(view.after))


@invariant("insurance-fund-non-negative", "the insurance fund never goes below zero", Severity.HIGH)
def insurance_fund_non_negative(view: StepView) -> Any:
    """Every market's fund, where the policy keeps one per market (``[waterfall] scope``)."""
    fund = view.after.role(Role.INSURANCE_FUND)
    if not fund.more_funds:
        return fund.cash_quote >= 0
    return all_(b >= 0 for b in fund_balances(view.after))


@invariant(
    "deposit-not-absorbed",
    "a deposit raises the depositor's withdrawable claim by the whole deposit",
    Severity.HIGH,
    exercised=lambda view: isinstance(view.event, Deposit) and view.before.account(view.event.account).is_trader,
)
def deposit_not_absorbed(view: StepView) -> Any:
    event = view.event
    if not isinstance(event, Deposit) or not view.before.account(event.account).is_trader:
        return True
    before = _claim(view, view.before.account(event.account), view.before)
    after = _claim(view, view.after.account(event.account))
    return after - before == event.amount_quote


@invariant("spot-isolated", "spot balances are never touched by a margin account's losses", Severity.HIGH)
def spot_isolated(view: StepView) -> Any:
    """Collateral asset balances too (docs/portfolio.md decision 2): a trader's balance of an asset
    changes only by its own deposit or withdrawal of it, or a sale of it on its own liquidation;
    another account's losses never reach it."""
    credited = view.event.account if isinstance(view.event, SpotDeposit) else None
    checks = []
    for a0, a1 in zip(view.before.accounts, view.after.accounts, strict=True):
        expected = a0.spot_quote + (view.event.amount_quote if a0.name == credited else 0)
        checks.append(a1.spot_quote == expected)
    return and_(all_(checks), *_collateral_kept(view))


def _collateral_kept(view: StepView) -> list[Any]:
    event, out = view.event, []
    moved = (
        event.amount if isinstance(event, AssetDeposit) else -event.amount if isinstance(event, AssetWithdraw) else 0
    )
    for a0, a1 in zip(view.before.accounts, view.after.accounts, strict=True):
        if not a0.is_trader:
            continue
        # its own liquidation, or the auto exchange of its own loan, may sell its collateral
        liquidated = any_(
            g.guard
            for g in (*view.outcomes_of(Liquidated), *view.outcomes_of(LoanExchanged))
            if g.item.account == a0.name
        )
        for i, asset in enumerate(view.before.assets):
            own = (
                moved
                if (getattr(event, "account", None), getattr(event, "asset", None)) == (a0.name, asset.name)
                else 0
            )
            balance = asset_balance(a0.name, asset.name)
            sold = view.outflow(balance, {Reason.COLLATERAL_SALE})
            if lent_rule(view.policy, asset.name) is not None:
                # a lent asset: its own interest and loan origination fee, and on its own
                # liquidation its borrow repaid or covered (by the fund, the depositors, the
                # lenders), the cover's dust passed on; a deposit cut for another's borrow is not
                # among them
                interest = view.inflow(balance, {Reason.INTEREST}) - view.outflow(balance, _OWN_CHARGES)
                covered = view.inflow(balance, _BORROW_COVER) - view.outflow(balance, {Reason.PRO_RATA_DUST})
                changed = a0.asset_balances[i] + own - sold + interest + covered
                checks = [a1.asset_balances[i] == changed, implies(or_(sold != 0, covered != 0), liquidated)]
            else:
                checks = [a1.asset_balances[i] == a0.asset_balances[i] + own - sold, implies(sold != 0, liquidated)]
            out.append(and_(*checks))
    return out


#: what a trader pays out of its own balance of a lent asset for its own borrow (``rules.lending``)
_OWN_CHARGES = frozenset({Reason.INTEREST, Reason.LOAN_ORIGINATION_FEE})

#: what reaches a borrower's balance of a lent asset on its own liquidation (``rules.lending``)
_BORROW_COVER = frozenset(
    {Reason.BORROW_REPAYMENT, Reason.INSURANCE_FUND, Reason.DEPOSIT_INDEX_LOSS, Reason.LENDER_ADL}
)


@invariant(
    "loss-bounded-by-collateral",
    "no user loses more than they deposited: no account ends owing money, on the book or to a lender",
    Severity.HIGH,
)
def loss_bounded_by_collateral(view: StepView) -> Any:
    """An account the step deferred to a later block is read at its resolution, as in
    ``no-negative-equity``."""
    return all_(
        or_(view.deferred(a.name), _value(view, view.after, a) - a.debt_quote >= 0) for a in _traders(view.after)
    )


@invariant(
    "principal-protected",
    "haircuts touch profit only, never deposited principal: no ADL, socialized loss, haircut or clawback transfer leaves its payer below its principal",
    Severity.HIGH,
    exercised=lambda view: any_(
        or_(_haircut_paid(view, a.name) > 0, *_deposit_cuts(view, a.name)) for a in _traders(view.after)
    ),
)
def principal_protected(view: StepView) -> Any:
    """On a policy that lends a collateral asset, a deposit of it is principal too ("depositors'
    principal is never haircut"): no depositor pays another account's unpaid borrow out of its
    deposit through the deposit index (Drift's and Mango's token bankruptcy), and a lender
    deleveraged (Backpack's lender ADL) is paid at least the oracle value of what it gave up, in
    settlement cash (docs/portfolio.md, decision 6b)."""
    kept = all_(_haircuts_keep_principal(view, a.name) for a in _traders(view.after))
    if not lends_any(view.policy):
        return kept
    return and_(kept, *(not_(cut) for a in _traders(view.after) for cut in _deposit_cuts(view, a.name)))


def _deposit_cuts(view: StepView, name: str) -> list[Any]:
    """Per lent asset, whether ``name``'s deposit was cut for another's borrow in this step: a
    deposit-index loss it paid, or a lender ADL that paid it less than the oracle value; and, under
    ``[settlement]``, whether its settlement cash was cut for another's debt."""
    out = []
    for asset in view.after.assets:
        if lent_rule(view.policy, asset.name) is None:
            continue
        balance = asset_balance(name, asset.name)
        index_loss = view.outflow(balance, {Reason.DEPOSIT_INDEX_LOSS})
        given = view.outflow(balance, {Reason.LENDER_ADL})
        paid = view.inflow(name, {Reason.LENDER_ADL})
        out.append(or_(index_loss > 0, paid < given * asset.price_quote))
    if view.after.assets and view.policy.settlement is not None:
        # the settlement currency's depositors cut for a sunk depositor's debt (rules.lending.cover_settlement_borrow)
        out.append(view.outflow(name, {Reason.DEPOSIT_INDEX_LOSS}) > 0)
    return out


def _haircuts_keep_principal(view: StepView, name: str) -> Any:
    """Every haircut transfer ``name`` pays leaves its equity at or above its principal, with the
    equity followed through the step's ledger in order.

    A haircut is charged only for what it took: the payer's own losses later in the step (its
    liquidation penalty, its fill away from mark) come after the haircut and are not the
    haircut's; losses before it (the mark move's settlement, an earlier liquidation) had already
    spent the profit, so a haircut that follows them does reach principal. Under a symbolic
    step the ledger is in path order on every path (``Ctx.branch`` keeps each branch's entries
    in order), so the running sum of guarded amounts is the equity on whichever path holds.

    Principal is what the payer deposited, not where it stood when the step began: a payer its
    own mark-to-market loss had taken below principal, and that the step's move brings back
    above it, has recovered principal, not made profit, and a haircut of that recovery takes
    principal (binance's whale scenario; Hyperliquid's ADL at the previous mark, which the
    preset accepts, docs/model.md#a-haircut-is-charged-for-what-it-took).
    """
    before = view.before.account(name)
    cash, spot = name, name + SPOT
    balances = {cash, spot} if counts_spot(view.policy.margin, before) else {cash}
    principal = view.after.account(name).principal_quote
    paying = not_(view.went_bankrupt(name))
    running = equity(view.policy.margin, before)
    checks = []
    for g in view.transfers:
        t = g.item
        delta = (t.amount_quote if t.destination in balances else 0) - (t.amount_quote if t.source in balances else 0)
        if t.destination in balances and t.source in balances:
            continue  # spot converted to cash: equity unchanged
        running = running + when(g.guard, delta)
        if t.source == cash and t.reason in HAIRCUT_REASONS:
            checks.append(implies(and_(g.guard, paying, t.amount_quote > 0), running >= principal))
    return all_(checks)


@invariant(
    "flat-accounts-never-pay",
    "an account with no open position never pays for another account's loss",
    Severity.HIGH,
    exercised=lambda view: (
        any_(g.guard for g in view.outcomes_of(Bankrupt)) and any(open_lots(a) == 0 for a in view.before.traders)
    ),
)
def flat_accounts_never_pay(view: StepView) -> Any:
    """Flat in every market (``margin.open_lots``; on one market, its size): an account short in
    the market that moved and flat in the first is not flat, and ADL there is not a flat account
    paying (the cross-market gap on a policy of several markets read it so)."""
    return all_(implies(open_lots(a) == 0, _haircut_paid(view, a.name) == 0) for a in _traders(view.before))


@invariant(
    "adl-price-fair",
    "an ADL'd winner is closed at the bankrupt account's price, never worse",
    Severity.HIGH,
    exercised=lambda view: any_(and_(g.guard, g.item.lots > 0) for g in view.outcomes_of(AdlFill)),
)
def adl_price_fair(view: StepView) -> Any:
    checks = []
    for g in view.outcomes_of(AdlFill):
        fill = g.item
        fair_total = fill.lots * max_(fill.fair_gap_per_lot_quote, 0)
        paid = sum_(  # what this winner paid this bankrupt account (others may go bankrupt in the same step)
            when(t.guard, t.item.amount_quote)
            for t in view.transfers
            if t.item.reason is Reason.ADL and t.item.source == fill.winner and t.item.destination == fill.bankrupt
        )
        checks.append(
            implies(
                and_(g.guard, fill.lots > 0),
                and_(fill.gap_per_lot_quote <= fill.fair_gap_per_lot_quote, paid <= fair_total),
            )
        )
    return all_(checks)


# --- who pays, and in what order ------------------------------------------------------------


@invariant(
    "no-haircut",
    "no account's profit is reduced by ADL, socialized loss, haircut or clawback",
    Severity.MEDIUM,
    exercised=_any_outcome(Bankrupt),
)
def no_haircut(view: StepView) -> Any:
    # the order book's resting liquidity stands for the rest of the market's users: ADL reaching
    # it (``Adl.book_last``) is a haircut like any other
    payers = [*_traders(view.after), *(a for a in view.after.accounts if a.role is Role.LIQUIDITY)]
    return all_(_haircut_paid(view, a.name) == 0 for a in payers)


@invariant(
    "waterfall-order",
    "a lower waterfall layer is used only after every layer above it is exhausted for that bankruptcy (a capped fund once it paid its cap), and no profit is haircut while the insurance fund holds money, capped or not",
    Severity.MEDIUM,
    exercised=lambda view: _layers_for_one_account(view) > 1,
)
def waterfall_order(view: StepView) -> Any:
    """Each layer's "used" and "spent" are built once and read by every pair they are in (the same
    terms: a cascade records many layers per account, percolator Gen B's N = 4 mark move 108)."""
    used = list(view.outcomes_of(LayerUsed))
    checks = [_no_haircut_while_fund_has_money(view, used)]
    claims = _claims_through(view, used)
    paid: dict[int, Any] = {}
    for upper, claim in zip(used, claims, strict=True):
        spent = None
        for k, lower in enumerate(used):
            if upper.item.account == lower.item.account and upper.item.index < lower.item.index:
                if k not in paid:
                    paid[k] = and_(lower.guard, lower.item.covered_quote > 0)
                if spent is None:
                    spent = _spent(view, upper.item, claim)
                checks.append(implies(and_(upper.guard, paid[k]), spent))
    return all_(checks)


def _paid_in(view: StepView, used: LayerUsed) -> str:
    """The market a layer paid in: the market its outcome names, else the event's."""
    return used.market or view.before.markets[market_of(view.before, view.event)].name


def _claims_through(view: StepView, used: list[Guarded]) -> list[Any]:
    """For each layer used, in the order they paid: where it is the insurance fund paying in a
    market whose table caps the fund's total (``fund_cap_quote``, ``rules.insurance_claim``), that
    market's running total once it had paid (the total before the step plus every payment of the
    fund in that market so far in the step); None for every other layer."""
    totals = {m.name: settled(m) for m in view.before.markets}
    out: list[Any] = []
    for g in used:
        market = _paid_in(view, g.item)
        if view.policy.deficit[g.item.index].kind != "insurance_fund" or view.policy.fund_cap_in(market) is None:
            out.append(None)
            continue
        totals[market] = totals[market] + when(g.guard, g.item.covered_quote)
        out.append(totals[market])
    return out


def _spent(view: StepView, used: LayerUsed, claim: Any = None) -> Any:
    """The layer has nothing more to give this bankruptcy: its balance is at zero, or it paid the
    per-bankruptcy cap its policy documents (``cap_quote``), or, the insurance fund, it has paid
    its market's whole claim (``claim``, the market's running total through this payment, at
    its ``fund_cap_quote``: Drift's ``quote_settled_insurance`` at ``quote_max_insurance``)."""
    layer = view.policy.deficit[used.index]
    cap = getattr(layer, "cap_quote", None)
    spent = [used.exhausted]
    if cap is not None:
        spent.append(used.covered_quote >= cap)
    if claim is not None:
        spent.append(claim >= view.policy.fund_cap_in(_paid_in(view, used)))
    return or_(*spent)


HAIRCUT_LAYERS = frozenset({"adl", "socialized_loss", "haircut_ratio", "clawback"})


def _paying_fund(view: StepView) -> int:
    """Which market's fund balance pays a deficit found by this step's event: the event's market's,
    or under ``per_group`` the balance of the first market of its group (``Policy.fund_of``)."""
    moved = market_of(view.before, view.event)
    return view.policy.fund_of(moved) if view.before.funds_per_market else moved


def _no_haircut_while_fund_has_money(view: StepView, used: list[Guarded]) -> Any:
    """No profit-taking layer pays while the insurance fund holds money: a policy that puts a
    haircut above its fund, or caps the fund per bankruptcy and haircuts past the cap (a fund that
    paid its cap is spent for the layer order, not for this promise: the winners are charged while
    the fund keeps money back). A fund down to its declared floor (``floor_quote``, percolator's
    ``I_floor``) is spent: the money it keeps is the floor the venue documents."""
    if not any(layer.kind == "insurance_fund" for layer in view.policy.deficit):
        return True
    # the fund that pays: the one fund, or where it is kept per market (or group), the fund of the
    # market in deficit (the event's: solvent.rules.market_funds)
    fund_before = fund_balance(view.before, _paying_fund(view))
    checks = []
    for g in used:
        if g.item.layer not in HAIRCUT_LAYERS:
            continue
        drained = any_(
            and_(f.guard, f.item.exhausted)
            for f in used
            if f.item.layer == "insurance_fund" and f.item.account == g.item.account and f.item.index < g.item.index
        )
        checks.append(implies(and_(g.guard, g.item.covered_quote > 0, fund_before > 0), drained))
    return all_(checks)


@invariant(
    "liquidation-only-below-maintenance",
    "no account is liquidated unless its equity is below maintenance margin (or equal to it, where the policy's declared trigger is at or below)",
    Severity.MEDIUM,
    exercised=_any_outcome(Liquidated),
)
def liquidation_only_below_maintenance(view: StepView) -> Any:
    # the policy's declared trigger is the promise: Binance, Bybit, OKX and Backpack document
    # "equity at or below maintenance" (a margin ratio reaching 100%), dYdX and Drift "below"
    at_or_below = view.policy.liquidation.trigger is Trigger.AT_OR_BELOW_MAINTENANCE
    checks = []
    for g in view.outcomes_of(Liquidated):
        e, mm = g.item.equity_quote, g.item.maintenance_quote
        checks.append(implies(g.guard, e <= mm if at_or_below else e < mm))
    return all_(checks)


@invariant(
    "adl-ranking-respected",
    "ADL takes counterparties in the policy's ranking order, whole positions before the next",
    Severity.MEDIUM,
    exercised=lambda view: any_(and_(g.guard, g.item.lots > 0) for g in view.outcomes_of(AdlFill)),
)
def adl_ranking_respected(view: StepView) -> Any:
    fills = list(view.outcomes_of(AdlFill))  # recorded in book order, the tie-break
    checks = []
    for i, ga in enumerate(fills):
        for j, gb in enumerate(fills):
            a, b = ga.item, gb.item
            if i == j or a.bankrupt != b.bankrupt:
                continue
            higher = a.score_num * b.score_den > b.score_num * a.score_den
            tie = a.score_num * b.score_den == b.score_num * a.score_den
            a_first = or_(higher, and_(tie, i < j))
            served_b = and_(ga.guard, gb.guard, a.eligible, b.eligible, a_first, b.lots > 0)
            checks.append(implies(served_b, a.lots == abs_(a.position_lots)))
    return all_(checks)


@invariant(
    "adl-in-deficit-market-only",
    "cross-market ADL touches only the market in deficit: a trader not itself liquidated keeps its position in every other market",
    Severity.MEDIUM,
    exercised=lambda view: (
        bool(view.before.more_markets) and any_(and_(g.guard, g.item.lots > 0) for g in view.outcomes_of(AdlFill))
    ),
    applies=lambda policy: bool(policy.market),
)
def adl_in_deficit_market_only(view: StepView) -> Any:
    """The market in deficit is the one whose event found the account bankrupt (an asset's price
    move: the first market), where the engine resolves the whole account's deficit
    (docs/portfolio.md decision 5: ADL ranks only that market's opposite side). A winner elsewhere
    pays in that market alone; only a liquidated account's own positions close in the others.
    Where the policy splits the deficit by maintenance share (dYdX v4, decision 5c), every market
    the bankrupt account held is in deficit for its share."""
    before, after = view.before, view.after
    if not before.more_markets:
        return True
    moved = market_of(before, view.event)
    checks = []
    for a0 in before.traders:
        liquidated = any_(g.guard for g in view.outcomes_of(Liquidated) if g.item.account == a0.name)
        a1 = after.account(a0.name)
        for k in range(len(before.markets)):
            if k == moved:
                continue
            kept = a1.positions[k].size_lots == a0.positions[k].size_lots
            # where the policy splits a deficit by maintenance share (dYdX v4), every market a
            # bankrupt account held is in deficit for its share (docs/portfolio.md decision 5c)
            checks.append(implies(and_(not_(liquidated), not_(_share_in(view, k))), kept))
    return all_(checks)


def _share_in(view: StepView, k: int) -> Any:
    """Under ``deficit_split = "maintenance_share"``: some account bankrupt in this step held a
    position in market ``k`` before it (so market ``k`` took a share of its deficit)."""
    if not view.policy.waterfall.by_maintenance:
        return False
    return any_(
        and_(g.guard, view.before.account(g.item.account).positions[k].size_lots != 0)
        for g in view.outcomes_of(Bankrupt)
    )


def _allows_isolated(policy: Policy) -> bool:
    """The policy declares its margin modes and isolated margin is among them in some market."""
    return bool(policy.isolated_markets(policy.market_names or ("PERP",)))


def _isolated_touched(view: StepView) -> Any:
    """A margin move, or an isolated position liquidated, in this step."""
    if isinstance(view.event, MARGIN_EVENTS):
        return True
    positions = {a.name for a in view.before.accounts if a.owner}
    return any_(g.guard for g in view.outcomes_of(Liquidated) if g.item.account in positions)


@invariant(
    "isolated-loss-contained",
    "an isolated position's loss stops at its margin: nothing moves between an account and its "
    "isolated position but the account's own margin moves",
    Severity.HIGH,
    exercised=_isolated_touched,
    applies=_allows_isolated,
)
def isolated_loss_contained(view: StepView) -> Any:
    """docs/portfolio.md decision 3a: an isolated position is liquidated and made bankrupt on its
    own margin, its deficit goes down the waterfall as any bankrupt account's, and its owner's
    balances (cash, spot, collateral) pay it nothing: between the two, the only transfers are the
    owner's own ``AddMargin`` and ``RemoveMargin`` of that position, of exactly their amount, with
    the reason ``isolated margin`` (Binance, Bybit, OKX: the most an isolated position can lose is
    the margin placed in it). The owner pays toward the deficit only as any other account of the
    book may (a socialized loss on its profit elsewhere): ADL in the position's market cannot
    reach it, its position there being the isolated one."""
    before, event = view.before, view.event
    checks = []
    for position in before.accounts:
        if not position.owner:
            continue
        owner = position.owner
        own = _balances(before, owner)
        held = _balances(before, position.name)
        expected: Any = 0
        if isinstance(event, MARGIN_EVENTS) and event.account == owner:
            if before.isolated_account(owner, before.markets[market_of(before, event)].name) == position.name:
                expected = event.amount_quote if isinstance(event, AddMargin) else -event.amount_quote
        moved = []
        for g in view.transfers:
            t = g.item
            if t.source in own and t.destination in held:
                moved.append(when(g.guard, t.amount_quote))
            elif t.source in held and t.destination in own:
                moved.append(when(g.guard, -t.amount_quote))
            else:
                continue
            if t.reason is not Reason.ISOLATED_MARGIN:  # a symbolic step keeps zero transfers, guarded
                checks.append(when(g.guard, t.amount_quote) == 0)
        checks.append(sum_(moved) == expected)
    return all_(checks)


def _balances(book: Book, name: str) -> set[str]:
    """Every ledger name of an account's balances: its cash, its spot, each collateral asset's."""
    return {name, name + SPOT, *(asset_balance(name, a.name) for a in book.assets)}


@invariant(
    "market-fund-pays-own-market",
    "a market's insurance fund pays only that market's deficits: a step in one market leaves every other market's fund no lower",
    Severity.MEDIUM,
    exercised=lambda view: bool(view.before.more_markets) and any_(g.guard for g in view.outcomes_of(Bankrupt)),
    applies=lambda policy: bool(policy.market) and policy.waterfall.per_market,
)
def market_fund_pays_own_market(view: StepView) -> Any:
    """A fund kept per market (``[waterfall] scope = "per_market"``: Binance per category of
    contracts, OKX per underlying, Bybit per symbol; solvent.rules.market_funds) is not drawn on by a
    bankruptcy in another market. The market in deficit is the event's, as for
    ``adl-in-deficit-market-only``. On a pooled book of several markets the one fund is every
    market's fund, so any payment from it lowers another market's fund: the claim is refuted there
    by construction, the pooled venue's documented choice (dYdX v4's cross markets, Hyperliquid),
    and ``solvent check`` judges it only on a policy that keeps its funds per market. Under
    ``per_group`` a market's fund is its group's (kept in the balance of the group's first market),
    so a step may lower that one balance and no other."""
    before, after = view.before, view.after
    if not before.more_markets:
        return True
    paying = _paying_fund(view)
    others = [k for k in range(len(before.markets)) if k != paying]
    return all_(fund_balance(after, k) >= fund_balance(before, k) for k in others)


def ids() -> list[str]:
    """Every registered invariant id, in catalog order."""
    return CATALOG.ids()


def builtin(id: str) -> bool:
    """Whether ``id`` is one of Solvent's own claims (known to every ``solvent`` command), not one a
    user registered in their own code (known only where that code runs, e.g. their conftest.py)."""
    return CATALOG.builtin(id)


#: the claims registered above are Solvent's own (see :func:`builtin`)
CATALOG.seal_builtins()

__all__ = ["CATALOG", "Invariant", "Severity", "StepView", "builtin", "get", "ids", "invariant", "register"]

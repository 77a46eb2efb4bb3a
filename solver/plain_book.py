"""A z3 story told on a plain book: the numbers a venue's book would hold, reached from an empty one.

z3 answers with the first model it meets: a liquidity account with a cost basis of 10¹⁵, the
venue's own account at −10¹², a bystander holding 10¹² of spot, a mark 250 times the policy's
price. The story is true and replayed, and no risk committee believes it. Every z3 story shown to a
person goes through this module before it is shown (``solvent prove`` and ``solvent check`` after
the least move, ``solver/smallest_move.py``; every threshold's story beyond its boundary,
``solver/thresholds.py``), each change kept only if the concrete engine still fails the same claim
at the same event within the same bounds (:func:`tidy`):

1. the numbers z3 left arbitrary set to what a plain book holds (the previous mark at the mark, no
   PnL windows, withdrawals or debts, each cost basis at the mark, no spot a claim does not need,
   no negative cash on a system account);
2. every trader the failure does not need emptied (its position taken up by the order book), the
   book divided by 10 and then by 2 while it still fails, and each balance cut to the least that
   still fails (a bisection on the concrete engine);
3. the starting book rebuilt from an empty one (:func:`opened`): the deposits and trades at the
   mark that give it (``solvent.properties.reachable.opening``), replayed; the book they reach is
   the story's starting book, so a person reads where it came from.

What the engine does not confirm is not made. What cannot be made plain is said (:class:`Plain`'s
``note``): a state deposits and trades at one mark do not reach (a trader only above maintenance
opens no position), or numbers beyond the policy's scale (:func:`beyond_scale`, the bound stated
there).
"""

from __future__ import annotations

from collections.abc import Callable
from math import gcd
from typing import Any

import attrs

from solvent.properties.catalog import Invariant
from solvent.properties.played import replay as replay_events
from solvent.properties.reachable import from_empty
from solvent.properties.scenarios import LOTS, MARK, Story
from solvent.rules.book import Account, Book, Role
from solvent.rules.contract import lot_value
from solvent.rules.events import Event, MarkPrice
from solvent.rules.policy import Policy
from solvent.solver.bounds import Bounds
from solvent.solver.refinement import replay


def scale_mark(policy: Policy) -> int:
    """The policy's own scale: the lot value the named scenarios start from."""
    return lot_value(policy.contract, MARK)


#: A story at the policy's scale has its starting mark within this factor of :func:`scale_mark`,
#: either way (Binance: USDT 1,000 to 10,000,000/BTC), every position at most :data:`SCALE_LOTS`
#: lots (the scenarios' leveraged position) and every balance and cost basis at most that many
#: lots' notional at the top of that range. A choice (docs/model.md): a threshold one ppm beyond a
#: margin rate needs a notional of 10⁶ quanta for one ppm to be a quantum, so a few lots at up to
#: 100 times the scale's price, or many at the scale.
MARK_SPAN = 100
SCALE_LOTS = LOTS


def scale_bounds(policy: Policy, bounds: Bounds) -> Bounds:
    """``bounds`` narrowed to the policy's scale, the books :func:`beyond_scale` finds nothing in:
    prices within :data:`MARK_SPAN` times :func:`scale_mark` either way, positions of at most
    :data:`SCALE_LOTS` lots, balances of at most that many lots' notional at the top of that range."""
    scale = scale_mark(policy)
    return attrs.evolve(
        bounds,
        min_price=max(scale // MARK_SPAN, 1),
        max_price=scale * MARK_SPAN,
        max_lots=min(SCALE_LOTS, bounds.max_lots),
        max_quote=min(SCALE_LOTS * MARK_SPAN * scale, bounds.max_quote),
    )


def beyond_scale(policy: Policy, book: Book) -> list[str]:
    """What of ``book`` lies beyond the policy's scale (:data:`MARK_SPAN`, :data:`SCALE_LOTS`:
    :func:`scale_bounds`), in words; empty when nothing does."""
    scale, mark = scale_mark(policy), book.market.mark_quote
    at = scale_bounds(policy, Bounds())
    most = at.max_quote
    out = []
    if not at.min_price <= mark <= at.max_price:
        out.append(f"the mark {mark:,} quanta is beyond {MARK_SPAN}x the policy's {scale:,}")
    for a in book.accounts:
        if abs(a.size_lots) > at.max_lots:
            out.append(f"{a.name} holds {a.size_lots:,} lots (more than {at.max_lots:,})")
        for field in ("cash_quote", "spot_quote", "cost_quote"):
            if abs(getattr(a, field)) > most:
                out.append(f"{a.name}'s {field.removesuffix('_quote')} {getattr(a, field):,} exceeds {most:,} quanta")
    return out


def breaks(policy: Policy, invariant: Invariant, story: Story, bounds: Bounds) -> bool:
    """The concrete engine fails ``invariant`` on ``story``, which lies within ``bounds``."""
    return replay(policy, invariant, story, bounds).violates


def least_ticks(policy: Policy, invariant: Invariant, story: Story, bounds: Bounds) -> Story:
    """The story with its one mark move cut to the fewest ticks (quanta) from its own book, in its
    own direction, that still break ``invariant`` on the concrete engine: a bisection on the tick
    count between 0 (no move) and the story's own, each candidate replayed. The story returned
    breaks the claim, and the same story one tick smaller does not (unless its move is one tick)."""
    event = story.events[0]
    before = story.book.market.mark_quote
    direction = 1 if event.price_quote > before else -1

    def at(ticks: int) -> Story:
        return attrs.evolve(story, events=(MarkPrice(before + direction * ticks),))

    good, bad = abs(event.price_quote - before), 0  # breaks at ``good``; ``bad`` is below any break found
    while good - bad > 1:
        middle = (good + bad) // 2
        if breaks(policy, invariant, at(middle), bounds):
            good = middle
        else:
            bad = middle
    if bad == 0 and good > 0 and breaks(policy, invariant, at(0), bounds):
        return at(0)  # no move at all: the claim fails at the mark (never assumed otherwise)
    return at(good)


#: The quote-valued fields of an account :func:`at_policy_scale` multiplies (positions stay as they are)
_QUOTE = (
    "cash_quote",
    "spot_quote",
    "cost_quote",
    "principal_quote",
    "withdrawn_quote",
    "debt_quote",
    "window_pnl_quote",
    "reserve_slope_quote",
    "funding_remainder_millionths",
)


def at_policy_scale(policy: Policy, invariant: Invariant, story: Story, bounds: Bounds) -> Story:
    """The story brought to the policy's own scale where its mark lies more than :data:`MARK_SPAN`
    times away from it, kept only if the concrete engine still fails the claim at the same event
    within ``bounds``. Below it (z3's grid puts a mark at 4 quanta where the scenarios' lot is worth
    10,000): every price and every quote amount times ``scale_mark // mark``. Above it (drift's
    story at 983,284,171 quanta a lot, USDC 983 billion a SOL): every price and quote amount divided
    by ``mark // scale_mark``, toward zero, or with positive balances rounded up where that is what
    still fails (a margin just met). Positions stay as they are. One factor on every price and
    balance keeps each ratio the rules read (a margin rate, a move's size, a haircut's share) except
    where a rounding lands; a story whose failure lives in such a rounding is told as it was. Only a
    one-market book where no account holds a collateral asset (an asset's prices are in its own unit,
    and are left as they are), and one mark move."""
    book, scale = story.book, scale_mark(policy)
    mark = book.market.mark_quote
    if (
        book.more_markets
        or any(b != 0 for a in book.accounts for b in a.asset_balances)  # an asset's price is in its own unit
        or len(story.events) != 1
        or not isinstance(story.events[0], MarkPrice)
        or mark <= 0
    ):
        return story
    if mark * MARK_SPAN < scale:
        tries = [_rescaled(story, lambda x, f=scale // mark: x * f)]
    elif mark > scale * MARK_SPAN:
        factor = mark // scale
        tries = [_rescaled(story, lambda x: _toward_zero(x, factor))]
        tries.append(_rescaled(story, lambda x: _toward_zero(x, factor), lambda x: -(-x // factor)))
        # a system account's few quanta (drift's fund at its floor of 1) kept, the traders' toward zero
        tries.append(_rescaled(story, lambda x: _toward_zero(x, factor), lambda x: -(-x // factor), system=True))
    else:
        return story
    return next((t for t in tries if breaks(policy, invariant, t, bounds)), story)


def _rescaled(
    story: Story, price: Callable[[int], int], balance: Callable[[int], int] | None = None, system: bool = False
) -> Story:
    """``story`` with every price and quote amount through ``price`` (a positive balance, cash or
    spot, through ``balance`` where given: rounded up; only a system account's where ``system``),
    positions as they are, the net deposits the new balances' sum and what they differed by before
    through ``price``."""
    book = story.book
    settled = book.market.fund_settled_quote
    market = attrs.evolve(
        book.market,
        mark_quote=price(book.market.mark_quote),
        previous_mark_quote=price(book.market.previous_mark_quote),
        fund_settled_quote=None if settled is None else price(settled),
    )

    def amount(account: Account, field: str, x: int) -> int:
        up = balance is not None and field in ("cash_quote", "spot_quote") and x > 0
        up = up and not (system and account.is_trader)
        return balance(x) if up else price(x)

    accounts = tuple(attrs.evolve(a, **{f: amount(a, f, getattr(a, f)) for f in _QUOTE}) for a in book.accounts)
    moved = attrs.evolve(
        book,
        market=market,
        accounts=accounts,
        insurance_window_sum_quote=price(book.insurance_window_sum_quote),
        more_window_sums=tuple(price(w) for w in book.more_window_sums),
    )
    # the net deposits the new balances' sum, beside what they differed by before, brought to scale too
    apart = price(book.net_deposits_quote - book.total_cash_quote())
    moved = attrs.evolve(moved, net_deposits_quote=moved.total_cash_quote() + apart)
    event = story.events[0]
    return attrs.evolve(story, book=moved, events=(attrs.evolve(event, price_quote=price(event.price_quote)),))


def told_plainly(policy: Policy, invariant: Invariant, story: Story, bounds: Bounds) -> Story:
    """A one-mark-move story told on a plain book at the policy's scale, on the concrete engine
    alone, where no least move was bounded by z3 (``solver.smallest_move``'s bisection decided no
    probe, or a story found on check's grid): :func:`tidy`, then :func:`at_policy_scale`, then the
    move cut to its least ticks from that book (:func:`least_ticks`), tidied again there and cut
    again. Each step keeps only what the engine still fails within ``bounds``. Where the tidied book
    is not brought to scale as it is, its move is cut first and the cut book brought to scale: a
    division toward zero takes a move to 2 quanta from 983,284,171 (drift's no-haircut) to no price
    at all, where the least move that still fails (to 893,894,699) divides."""
    tidied = tidy(policy, invariant, story, bounds)
    shown = at_policy_scale(policy, invariant, tidied, bounds)
    if shown == tidied:
        cut = least_ticks(policy, invariant, tidied, bounds)
        scaled = at_policy_scale(policy, invariant, cut, bounds)
        shown = scaled if scaled != cut else tidied
    shown = tidy(policy, invariant, least_ticks(policy, invariant, shown, bounds), bounds)
    return least_ticks(policy, invariant, shown, bounds)


def tidy(policy: Policy, invariant: Invariant, story: Story, bounds: Bounds) -> Story:
    """The story with the numbers z3 left at arbitrary values set to what a plain book holds,
    one at a time, each change kept only if the concrete engine still fails the claim at the same
    event within ``bounds``: the previous mark at the mark, no window sums, PnL windows,
    withdrawals, debts or spot, each cost basis at the mark (``size × mark``), and a system
    account's negative cash at zero (the net deposits following the cash). What the failure needs
    stays as z3 chose it. Then every trader the failure does not need is emptied
    (:func:`_emptied`), the book is scaled down (:func:`_scaled_down`), each balance cut to the
    least that still fails (:func:`_least_balances`), the same fields set again on the smaller
    book, and that book divided by a factor all its numbers share (:func:`_exactly_divided`: an
    exact division keeps every field plain)."""
    plain = _plain_fields(policy, invariant, story, bounds)
    plain = attrs.evolve(plain, book=_emptied(policy, invariant, plain, bounds))
    smaller = attrs.evolve(plain, book=_scaled_down(policy, invariant, plain, bounds))
    smaller = attrs.evolve(smaller, book=_least_balances(policy, invariant, smaller, bounds))
    smaller = _plain_fields(policy, invariant, smaller, bounds)
    return attrs.evolve(smaller, book=_exactly_divided(policy, invariant, smaller, bounds))


def _emptied(policy: Policy, invariant: Invariant, story: Story, bounds: Bounds) -> Book:
    """The book with each trader the failure does not need left with nothing (flat, no balance,
    no history), the order book taking up its position, one trader at a time while the engine
    still fails the claim: a bystander z3 filled with 10¹² of spot is not part of the story."""
    book = story.book
    for name in [a.name for a in book.traders]:
        candidate = _divided(book, {name}, 0)
        if candidate != book and breaks(policy, invariant, attrs.evolve(story, book=candidate), bounds):
            book = candidate
    return book


#: The balances :func:`_least_balances` cuts, each to the least that still fails.
_LEAST = ("spot_quote", "cash_quote")
#: The amounts :func:`_least_balances` cuts with the account's cash, by the same quanta: its principal
#: (the deposited capital, so that what the account holds above it, its profit, stays as it was)
_WITH_CASH = "principal_quote"
#: The amount :func:`_least_balances` cuts alone after the balances, to the least that still fails:
#: the reserve an account releases an event (percolator's warmup slope), which z3 leaves arbitrary
_SLOPE = "reserve_slope_quote"


def _least_balances(policy: Policy, invariant: Invariant, story: Story, bounds: Bounds) -> Book:
    """The book with each account's non-negative cash and spot cut to the least that still fails
    the claim: a bisection on the concrete engine between 0 and the balance, one account and one
    balance at a time (the net deposits following the cash). The failure need not be monotone in a
    balance; each value kept was replayed, so the book returned fails, whatever the bisection
    skipped. The clearing account's cash is no one's balance and is left as it is.

    Then, where an account holds both cash and principal, the two are cut together by the same
    quanta (the account's profit above its principal kept: a flat winner whose junior profit pays a
    haircut keeps that profit, and z3's 10¹² of principal beside it goes), and then its principal
    alone and its reserve slope (:data:`_SLOPE`) are each cut to the least that still fails (an ADL
    payer holding 0.80 of cash below z3's 100,000 of principal: a principal just above what the
    deleveraging leaves shows the same failure)."""
    book = story.book

    def least(book: Book, i: int, value: int, changed: Callable[[int], Account], cash: int) -> Book:
        """``book`` with account ``i`` at the least ``x`` in 0..``value`` that still fails
        (``changed(x)``; ``cash``: the quanta of cash it holds per quantum of ``x`` cut, which
        the net deposits follow)."""

        def at(x: int) -> Book:
            moved = attrs.evolve(book, accounts=book.accounts[:i] + (changed(x),) + book.accounts[i + 1 :])
            return attrs.evolve(moved, net_deposits_quote=book.net_deposits_quote + cash * (x - value))

        good, bad = value, -1  # fails at ``good``; nothing below ``bad`` + 1 was found to
        while good - bad > 1:
            middle = (good + bad) // 2
            if breaks(policy, invariant, attrs.evolve(story, book=at(middle)), bounds):
                good = middle
            else:
                bad = middle
        return at(good)

    for i in range(len(book.accounts)):
        if book.accounts[i].role is Role.CLEARING:
            continue
        for field in _LEAST:
            value, account = getattr(book.accounts[i], field), book.accounts[i]
            if value > 0:
                book = least(book, i, value, lambda x, a=account, f=field: attrs.evolve(a, **{f: x}), 1)
        account = book.accounts[i]
        joint = min(account.cash_quote, getattr(account, _WITH_CASH))
        if joint > 0:  # x quanta of principal left, the cash above it as it was

            def both(x: int, a: Account = account, joint: int = joint) -> Account:
                return attrs.evolve(
                    a, cash_quote=a.cash_quote - joint + x, **{_WITH_CASH: getattr(a, _WITH_CASH) - joint + x}
                )

            book = least(book, i, joint, both, 1)
        for field in (_WITH_CASH, _SLOPE):  # then each alone (no balance: the net deposits stay)
            account = book.accounts[i]
            if getattr(account, field) > 0:
                book = least(
                    book, i, getattr(account, field), lambda x, a=account, f=field: attrs.evolve(a, **{f: x}), 0
                )
    return book


def _plain_fields(policy: Policy, invariant: Invariant, story: Story, bounds: Bounds) -> Story:
    book = story.book
    mark = book.market.mark_quote

    def still(candidate: Any) -> bool:
        return breaks(policy, invariant, attrs.evolve(story, book=candidate), bounds)

    # each change made to the book as it stands after the ones before it (a change built from the
    # book as it came would undo an earlier one that was kept: the previous mark set at the mark, then
    # the window sum's candidate carrying z3's previous mark back)
    def previous_at_mark(b: Book) -> Book:
        return attrs.evolve(b, market=attrs.evolve(b.market, previous_mark_quote=b.market.mark_quote))

    def no_window(b: Book) -> Book:
        return attrs.evolve(b, insurance_window_sum_quote=0)

    def further_previous_at_mark(b: Book) -> Book:  # a book of several markets: each further market's too
        return attrs.evolve(
            b, more_markets=tuple(attrs.evolve(m, previous_mark_quote=m.mark_quote) for m in b.more_markets)
        )

    def further_funds_empty(b: Book) -> Book:  # a fund per market: the further markets' funds empty
        fund = b.role(Role.INSURANCE_FUND)
        if not any(f != 0 for f in fund.more_funds):
            return b
        emptied = attrs.evolve(fund, more_funds=tuple(0 for _ in fund.more_funds))
        candidate = b.replace_account(b.index(fund.name), emptied)
        return candidate.with_fields(net_deposits_quote=b.net_deposits_quote - sum(fund.more_funds))

    changes = [previous_at_mark, no_window]
    if book.more_markets:
        changes += [further_previous_at_mark, further_funds_empty]
    for change in changes:
        candidate = change(book)
        if candidate != book and still(candidate):
            book = candidate
    for i in range(len(book.accounts)):  # a position in a further market: its cost basis at its mark
        account = book.accounts[i]
        positions = tuple(
            attrs.evolve(p, cost_quote=p.size_lots * m.mark_quote)
            for p, m in zip(account.more_positions, book.more_markets, strict=True)
        )
        if positions != account.more_positions:
            changed = attrs.evolve(account, more_positions=positions)
            candidate = attrs.evolve(book, accounts=book.accounts[:i] + (changed,) + book.accounts[i + 1 :])
            if still(candidate):
                book = candidate
    for i in range(len(book.accounts)):
        for field in ("window_pnl_quote", "withdrawn_quote", "debt_quote", "spot_quote", "cost_quote", "cash_quote"):
            account = book.accounts[i]
            value = getattr(account, field)
            if field == "cost_quote":
                want = account.size_lots * mark
            elif field == "cash_quote":
                want = 0 if value < 0 and not account.is_trader else value
            else:
                want = 0
            if want == value:
                continue
            accounts = book.accounts[:i] + (attrs.evolve(account, **{field: want}),) + book.accounts[i + 1 :]
            candidate = attrs.evolve(book, accounts=accounts)
            if field in ("cash_quote", "spot_quote"):  # the net deposits are Σ cash + spot
                candidate = attrs.evolve(candidate, net_deposits_quote=book.net_deposits_quote + want - value)
            if still(candidate):
                book = candidate
    return attrs.evolve(story, book=book)


#: The factors :func:`_scaled_down` divides a book by, largest first.
SCALE_FACTORS = (10, 2)


def _scaled_down(policy: Policy, invariant: Invariant, story: Story, bounds: Bounds) -> Any:
    """The story's book with its numbers divided by 10, then by 2, as long as the engine still
    fails the claim at the same event (a book z3 filled to its position bound, 1,000,000 lots,
    where a few lots show the same failure): every account at once, else one account at a time
    (positions, balances, cost bases, principals; the order book takes up what rounding leaves of
    the open interest, the net deposits follow the balances). A division the book does not survive
    (a margin no longer met, another tier, a payer left with nothing to pay) is not made."""
    book = story.book
    for factor in SCALE_FACTORS:
        for _ in range(64):
            names = [a.name for a in book.accounts if a.role is not Role.LIQUIDITY]
            tries = ((chosen, up) for chosen in [set(names), *({n} for n in names)] for up in (False, True))
            for chosen, up in tries:
                candidate = _divided(book, chosen, factor, up=up)
                if candidate != book and breaks(policy, invariant, attrs.evolve(story, book=candidate), bounds):
                    book = candidate
                    break
            else:
                break
    return book


def _exactly_divided(policy: Policy, invariant: Invariant, story: Story, bounds: Bounds) -> Book:
    """The book divided by a common factor of all its accounts' numbers (positions, balances, cost
    bases, principals: :data:`_SCALED`), which no rounding touches, while the engine still fails
    the claim at the same event: the factor itself, else each of its prime factors (up to
    :data:`_PRIMES_UP_TO`, then what is left of it), largest first. Dividing by 10 and 2
    (:func:`_scaled_down`), cutting the balances (:func:`_least_balances`) and setting each cost
    basis at the mark can leave a book
    whose numbers share another factor: Bybit's short of 199 lots with 19,900 quanta of cash
    (exactly 1% of its notional at a mark of 10,000) is the short of one lot with 100 that one
    division by 199 makes, where halving it rounds its margin off 1%."""
    book = story.book
    for _ in range(64):
        names = {a.name for a in book.accounts if a.role is not Role.LIQUIDITY}
        common = 0
        for a in book.accounts:
            if a.name in names:
                for field in _SCALED:
                    common = gcd(common, getattr(a, field))
        if common <= 1:
            return book
        for factor in (common, *sorted(set(_prime_factors(common)) - {common}, reverse=True)):
            candidate = _divided(book, names, factor)
            if candidate != book and breaks(policy, invariant, attrs.evolve(story, book=candidate), bounds):
                book = candidate
                break
        else:
            return book
    return book


#: :func:`_exactly_divided` looks for a common factor's prime factors up to this
_PRIMES_UP_TO = 1_000


def _prime_factors(n: int) -> list[int]:
    """``n``'s prime factors up to :data:`_PRIMES_UP_TO`, with what is left of ``n`` after them
    (itself a product of larger primes) as one factor."""
    out, p = [], 2
    while p <= _PRIMES_UP_TO and p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    if n > 1:
        out.append(n)
    return out


def _divided(book: Book, names: set[str], factor: int, *, up: bool = False) -> Book:
    """``book`` with the accounts in ``names`` divided by ``factor`` (toward zero; 0 empties
    them), the order book taking up the open interest and the net deposits following the balances.
    ``up``: a positive balance (cash, spot) is rounded up instead, so that an account just above
    its margin stays above it (Bybit's maintenance rate for 10x: a short of 10⁶ lots at its
    maintenance margin, which rounding its cash down leaves below it)."""

    def divided(field: str, value: int) -> int:
        if up and field in ("cash_quote", "spot_quote") and value > 0 and factor > 0:
            return -(-value // factor)
        return _toward_zero(value, factor)

    accounts = tuple(
        attrs.evolve(a, **{f: divided(f, getattr(a, f)) for f in _SCALED}) if a.name in names else a
        for a in book.accounts
    )
    rest = sum(a.size_lots for a in accounts if a.role is not Role.LIQUIDITY)
    mark = book.market.mark_quote
    accounts = tuple(
        attrs.evolve(a, size_lots=-rest, cost_quote=-rest * mark) if a.role is Role.LIQUIDITY else a for a in accounts
    )
    divided = attrs.evolve(book, accounts=accounts)
    return attrs.evolve(divided, net_deposits_quote=divided.total_cash_quote())


def _toward_zero(value: int, factor: int) -> int:
    if factor == 0:
        return 0
    return value // factor if value >= 0 else -(-value // factor)


_SCALED = ("cash_quote", "spot_quote", "size_lots", "cost_quote", "principal_quote", "withdrawn_quote", "debt_quote")


@attrs.frozen
class Plain:
    """A one-step story made plain (:func:`plain_story`): the story whose starting book is the one
    ``opening`` reaches from ``empty`` (None where deposits and trades do not reach it, the
    story then the tidied state), and ``note``: what could not be made plain, in words."""

    story: Story
    empty: Book | None = None
    opening: tuple[Event, ...] = ()
    note: str = ""

    @property
    def reached(self) -> bool:
        """The starting book is reached from an empty one by :attr:`opening`."""
        return self.empty is not None


def opened(policy: Policy, invariant: Invariant, story: Story, bounds: Bounds) -> Plain | None:
    """``story`` (one step that breaks ``invariant`` within ``bounds``) on the book that deposits
    and trades at its mark reach from an empty one (``reachable.from_empty``: each balance
    deposited, each position opened at the mark, the order book's inventory held by a fully
    collateralized trader ``maker``, the trades' fees deposited too), when that book still breaks
    the claim at the same event within ``bounds``; None otherwise. The book told is the one the
    engine reaches, so replaying ``opening`` from ``empty`` gives it exactly."""
    return _reached(policy, invariant, story, (), bounds)


def _reached(
    policy: Policy, invariant: Invariant, story: Story, before: tuple[Event, ...], bounds: Bounds
) -> Plain | None:
    """``story`` told from the book that its book's deposits and trades, then ``before``, reach
    from an empty one, when that book breaks the claim at the same event within ``bounds``."""
    built = from_empty(policy, invariant, attrs.evolve(story, events=before + story.events), len(before))
    if built is None:
        return None
    told = built.prefix + len(before)  # the events that build the starting book
    reached = built.steps[told - 1].after if told else built.story.book
    one = Story(reached, story.events)
    if not breaks(policy, invariant, one, bounds):
        return None
    return Plain(one, built.story.book, built.story.events[:told])


#: How far :func:`opened_before_a_move` looks for the mark the positions opened at: up to this
#: many doublings of a one-quantum step away from the story's mark.
DRIFT_STEPS = 40


def opened_before_a_move(policy: Policy, invariant: Invariant, story: Story, bounds: Bounds) -> Plain | None:
    """``story`` on a book its traders opened at an earlier mark, with the initial margin a trade
    needs, before one move to the story's mark took them toward their liquidation price: the
    book of the maintenance question, whose traders are only above maintenance, which no trade
    at its own mark opens. Every trader with a position on the same side (a short opened lower,
    a long higher: the move went against them, and the maker opposite them gained), each one's
    cash before the move what the move leaves as the story's (``c − s·(p − p₀)``), the cost bases
    at the opening mark. Opening marks one quantum, two, four... away from the story's are tried
    in that order, the first whose opening the engine accepts and whose book breaks the claim at
    the same event within ``bounds`` kept; None when none does."""
    book = story.book
    mark = book.market.mark_quote
    sides = {a.size_lots > 0 for a in book.traders if a.size_lots != 0}
    if len(sides) != 1 or book.more_markets:
        return None
    away = 1 if sides == {True} else -1  # a long opened above the mark, a short below it
    for k in range(DRIFT_STEPS):
        start = mark + away * 2**k
        if not bounds.min_price <= start <= bounds.max_price:
            return None
        shifted = _opened_at(book, start)
        if shifted is None:
            continue
        plain = _reached(policy, invariant, attrs.evolve(story, book=shifted), (MarkPrice(mark),), bounds)
        if plain is not None:
            return plain
    return None


def _opened_at(book: Book, start: int) -> Book | None:
    """``book`` as it stood at mark ``start`` before a move to its own mark: each trader's cash
    less what that move settles to it, cost bases at ``start`` (None if a trader's cash would be
    negative). The order book's inventory is the maker's in the opening, funded in full."""
    mark = book.market.mark_quote

    def before(a: Account) -> Account:
        cash = a.cash_quote - a.size_lots * (mark - start) if a.is_trader else a.cash_quote
        return attrs.evolve(a, cash_quote=cash, cost_quote=a.size_lots * start)

    accounts = tuple(before(a) for a in book.accounts)
    if any(a.cash_quote < 0 for a in accounts if a.is_trader):
        return None
    market = attrs.evolve(book.market, mark_quote=start, previous_mark_quote=start)
    shifted = attrs.evolve(book, market=market, accounts=accounts)
    return attrs.evolve(shifted, net_deposits_quote=shifted.total_cash_quote())


def reached_from(policy: Policy, empty: Book, events: tuple[Event, ...]) -> Book | None:
    """The book the engine reaches from ``empty`` by ``events`` (None if it refuses one)."""
    steps = replay_events(policy, Story(empty, events))
    if steps is None:
        return None
    return steps[-1].after if steps else empty


def plain_story(policy: Policy, invariant: Invariant, story: Story, bounds: Bounds) -> Plain:
    """``story`` (one step that breaks ``invariant`` within ``bounds``) made plain: :func:`tidy`,
    its one mark move cut to the fewest ticks that still break the claim (:func:`least_ticks`), then started from an empty book (:func:`opened`) where deposits and trades reach it, and what
    stays beyond the policy's scale (:func:`beyond_scale`) said in ``note``. Every story returned
    breaks the claim at its one event within ``bounds`` on the concrete engine."""
    tidied = tidy(policy, invariant, story, bounds)
    if len(story.events) == 1 and isinstance(story.events[0], MarkPrice) and not story.book.more_markets:
        # the move and the balances bound each other (a larger balance needs a larger move): the
        # least move for the balances, the least balances for that move, the least move again
        for _ in range(2):
            tidied = least_ticks(policy, invariant, tidied, bounds)
            tidied = attrs.evolve(tidied, book=_least_balances(policy, invariant, tidied, bounds))
        tidied = least_ticks(policy, invariant, tidied, bounds)
    plain = opened(policy, invariant, tidied, bounds) or opened_before_a_move(policy, invariant, tidied, bounds)
    notes = []
    if plain is None:
        plain = Plain(tidied)
        notes.append(
            "the starting book is a state: deposits and trades at its mark, or at an earlier mark before one "
            "move, do not reach it (a balance below zero needs a history) and still break the claim"
        )
    beyond = beyond_scale(policy, plain.story.book)
    if beyond:
        notes.append("the story lies beyond the policy's scale: " + "; ".join(beyond))
    return attrs.evolve(plain, note="; ".join(notes))


__all__ = [
    "MARK_SPAN",
    "Plain",
    "at_policy_scale",
    "SCALE_FACTORS",
    "SCALE_LOTS",
    "beyond_scale",
    "breaks",
    "least_ticks",
    "opened",
    "opened_before_a_move",
    "plain_story",
    "reached_from",
    "scale_bounds",
    "scale_mark",
    "tidy",
    "told_plainly",
]

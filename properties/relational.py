"""Relational properties: leaks that balance every total and show only when two runs are compared.

A single-step invariant (``solvent.properties.catalog``) judges one run. Some leaks keep every
total balanced and charge every deficit once, yet make a user poorer because of *how often* the
engine ran, or because *someone else* was better funded. They show only when the same story is
run twice: once as written (run A) and once as a **twin** that differs in one stated way (run B).

Each :class:`RelationalProperty` has a stable id, a one-sentence claim and a severity, like an
invariant; instead of a predicate it has

- ``sites(story)``: where the twin may differ (which event to split, where to insert a detour,
  which trader deposits more);
- ``twin(policy, story, steps, site, knobs)``: the twin story, or None when that site has no twin
  (a move of one tick cannot be split);
- ``compare(policy, steps_a, steps_b, twin)``: whether the claim applies to this pair, and if it
  does, None when it holds or a paragraph naming the accounts and balances that differ.

A twin the policy rejects (an event that was accepted in run A is not in run B) makes the pair
*not applicable*, never a failure. ``Knobs`` are the twin's free parameters: the search draws
them with hypothesis, :func:`check_relational` tries a few defaults.

The catalog (docs/design.md#relational-properties):

| id | twin | compared |
| --- | --- | --- |
| ``cadence-invariant`` | one mark move (or funding payment) split in two | every balance right after, if neither run liquidates there; a funding split may move the declared rounding dust (below) |
| ``round-trip-neutral`` | a detour ``MarkPrice(x), MarkPrice(back)`` inserted | every balance against run A at the same point, if no liquidation; spot the detour converted into the account's own cash is put back first (the policy's settlement rule, ``round_trip_compare``) |
| ``more-fund-never-hurts`` | more in the insurance fund from the start | haircuts paid by traders, in total and per trader |
| ``more-collateral-never-hurts`` | one trader holds more from the start | every other trader's final equity net of debt, and what it paid toward deficits |

Books are compared where the two runs meet (right after the split or the detour): from there on
both runs apply the same events to the same balances, so an equal book there means an equal
future, except for the event clock (a clawback window counts events, so a twin with one more
event shifts it; that is an artefact of the twin, not a leak, and is not compared).

A funding payment rounds every account on its own (``rounding.funding``), so two payments at rates
``r1 + r2 = r`` need not pay what one at ``r`` pays: that is the rounding the policy declares, not a
leak. ``cadence-invariant`` allows exactly that much and no more (docs/model.md, "Funding rounding
and cadence"): each account holding a position may end at most one quantum per extra payment
*poorer*, the named dust account (``rounding.funding``) gains exactly what they lose, and nothing
else differs. Money flowing the other way (a trader richer for being paid more often) is a leak
even when the policy declares it: the venue's account pays for every extra payment, without bound.

Search says "none found", never "none exists".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from solvent.properties.actions import PPM_PER_BP
from solvent.properties.catalog import Severity
from solvent.properties.played import CI, Outcome, SearchBudget, minimize, replay
from solvent.properties.registry import Registry
from solvent.properties.scenarios import Story
from solvent.rules.arith import PPM, Rounding
from solvent.rules.book import Book, Role, on_tick
from solvent.rules.engine import Step
from solvent.rules.events import Deposit, Funding, MarkPrice
from solvent.rules.ledger import HAIRCUT_REASONS, SPOT, Reason
from solvent.rules.margin import equity, is_flat
from solvent.rules.outcomes import Bankrupt, Liquidated, PoolAdlFill
from solvent.rules.policy import Policy
from solvent.rules.rounding import FundingRounding
from solvent.rules.waterfall import InsuranceFund

if TYPE_CHECKING:
    from hypothesis import strategies as st

BALANCES = (("cash_quote", "cash"), ("spot_quote", "spot"), ("size_lots", "size"), ("debt_quote", "debt"))


# --- the vocabulary -------------------------------------------------------------------------


@attrs.frozen
class Knobs:
    """The twin's free parameters; search draws them, :func:`check_relational` tries defaults.

    ``share_ppm``: where a split puts the intermediate mark (or rate), as a share of the way from
    the old value to the new one. ``excursion_ppm``: how far a detour takes the mark before it
    returns, in ppm of the mark. ``extra_quote``: the extra deposit (None: the story's total trader deposits).
    """

    share_ppm: int = 500_000
    excursion_ppm: int = -1_000 * PPM_PER_BP
    extra_quote: int | None = None


DEFAULT_KNOBS = (
    Knobs(),
    Knobs(share_ppm=250_000, excursion_ppm=1_000 * PPM_PER_BP),
    Knobs(excursion_ppm=-100 * PPM_PER_BP),
    Knobs(excursion_ppm=100 * PPM_PER_BP),
)


@attrs.frozen
class Twin:
    """The changed story and where it differs: steps ``[a_start, a_end)`` of run A are steps
    ``[b_start, b_end)`` of run B. ``account`` is the account the twin gives more, if any."""

    story: Story
    change: str
    a_window: tuple[int, int]
    b_window: tuple[int, int]
    account: str | None = None


@attrs.frozen
class Comparison:
    """How a pair of runs stands toward a claim.

    ``applicable`` is False when the claim says nothing about the pair (a liquidation in the
    window, a rejected twin); ``exercised`` says whether the pair took the path the claim is about
    (a bankruptcy, for the funding claims); ``explanation`` is None when the claim holds.
    """

    applicable: bool
    explanation: str | None = None
    exercised: bool = True


NOT_APPLICABLE = Comparison(applicable=False, exercised=False)

Sites = Callable[[Story], Sequence[Any]]
TwinBuilder = Callable[[Policy, Story, Sequence[Step], Any, Knobs], Twin | None]
Comparer = Callable[[Policy, Sequence[Step], Sequence[Step], Twin], Comparison]


@attrs.frozen
class RelationalProperty:
    """A claim about two runs of the engine: a story and its twin."""

    id: str
    claim: str
    severity: Severity
    twin: TwinBuilder = attrs.field(repr=False)
    compare: Comparer = attrs.field(repr=False)
    sites: Sites = attrs.field(repr=False)


@attrs.frozen
class RelationalViolation:
    """A story, its twin, and the paragraph saying which balances differ and by how much."""

    id: str
    story: Story
    twin: Story
    explanation: str


#: Every relational property, in registration order: this module's own, then any a user registers.
RELATIONAL: Registry[RelationalProperty] = Registry("relational property", key=lambda prop: prop.id)


def register(prop: RelationalProperty) -> RelationalProperty:
    """Add a relational property (ids are unique)."""
    return RELATIONAL.register(prop)


def get(id: str) -> RelationalProperty:
    """The relational property with that id; ``KeyError`` listing the known ids (and the closest) otherwise."""
    return RELATIONAL.get(id)


def ids() -> list[str]:
    return RELATIONAL.ids()


# --- shared helpers -------------------------------------------------------------------------


def _book_before(start: Book, steps: Sequence[Step], index: int) -> Book:
    """The book event ``index`` meets (``index == len(steps)``: the final book)."""
    return start if index == 0 else steps[index - 1].after


def _liquidates(steps: Sequence[Step], window: tuple[int, int]) -> bool:
    """A forced close in the window: a liquidation, or a PnL-to-pool ADL close (GMX), which depends
    on where the price stops just as a liquidation does."""
    return any(
        isinstance(o, (Liquidated, Bankrupt, PoolAdlFill)) for s in steps[window[0] : window[1]] for o in s.outcomes
    )


def _differences(a: Book, b: Book) -> list[str]:
    """``name field A vs B`` for every balance that differs between two books of the same accounts."""
    out = []
    for x in a.accounts:
        y = b.account(x.name)
        out += [
            f"{x.name} {label} {getattr(x, f)} vs {getattr(y, f)}"
            for f, label in BALANCES
            if getattr(x, f) != getattr(y, f)
        ]
    return out


def _equity_note(policy: Policy, a: Book, b: Book) -> str:
    """Whether the differing balances still add up to the same equity for every trader."""
    same = all(equity(policy.margin, x) == equity(policy.margin, b.account(x.name)) for x in a.traders)
    return " Every trader's equity is the same in both runs: the difference is which balance holds it." if same else ""


def _compare_books(policy: Policy, a: Book, b: Book, what: str) -> str | None:
    diffs = _differences(a, b)
    if not diffs:
        return None
    return f"{what} changes balances (run A vs run B): {'; '.join(diffs)}.{_equity_note(policy, a, b)}"


def _tick_toward(price: int, tick: int, toward: int) -> int:
    """``price`` moved onto the tick grid toward ``toward`` (a mark, itself on the grid): down
    from above it, up from below it (the floor when that is not below ``toward``, else the ceiling)."""
    floor = on_tick(price, tick, rounding=Rounding.FLOOR)
    return floor if floor >= toward else on_tick(price, tick, rounding=Rounding.CEIL)


def _trader_deposits(story: Story) -> int:
    names = {a.name for a in story.book.traders}
    return sum(e.amount_quote for e in story.events if isinstance(e, Deposit) and e.account in names)


def _extra(story: Story, knobs: Knobs) -> int:
    return knobs.extra_quote if knobs.extra_quote is not None else max(_trader_deposits(story), 1)


# --- cadence-invariant ----------------------------------------------------------------------


def _cadence_sites(story: Story) -> list[int]:
    return [i for i, e in enumerate(story.events) if isinstance(e, (MarkPrice, Funding))]


def _split_mark(story: Story, steps: Sequence[Step], i: int, knobs: Knobs) -> tuple[Any, Any] | None:
    """MarkPrice(new) → MarkPrice(mid), MarkPrice(new), with mid strictly between the old and new
    mark, both in the event's market."""
    event = story.events[i]
    market = steps[i].before.market_named(event.market)
    old, new = market.mark_quote, event.price_quote
    mid = _tick_toward(old + (new - old) * knobs.share_ppm // PPM, market.tick_quote, old)
    if not min(old, new) < mid < max(old, new):
        return None
    return attrs.evolve(event, price_quote=mid), event


def _split_funding(event: Funding, knobs: Knobs) -> tuple[Any, Any] | None:
    """Funding(r) → Funding(r1), Funding(r − r1), both of r's sign (r1 rounded toward zero), both
    in the event's market."""
    rate = event.rate_ppm
    first = (abs(rate) * knobs.share_ppm // PPM) * (1 if rate > 0 else -1)
    if first == 0 or first == rate:
        return None
    return attrs.evolve(event, rate_ppm=first), attrs.evolve(event, rate_ppm=rate - first)


def cadence_twin(policy: Policy, story: Story, steps: Sequence[Step], i: int, knobs: Knobs) -> Twin | None:
    """Split event ``i`` (a mark move or a funding payment) into two smaller ones."""
    event = story.events[i]
    parts = _split_mark(story, steps, i, knobs) if isinstance(event, MarkPrice) else _split_funding(event, knobs)
    if parts is None:
        return None
    events = story.events[:i] + parts + story.events[i + 1 :]
    change = f"Splitting event {i} {event!r} into {parts[0]!r}, {parts[1]!r}"
    return Twin(Story(story.book, events), change, (i, i + 1), (i, i + 2))


def _payments(steps: Sequence[Step], window: tuple[int, int]) -> int:
    return sum(isinstance(s.event, Funding) for s in steps[window[0] : window[1]])


def _declared(rounding: FundingRounding) -> str:
    return f"rounding.funding = {rounding.value!r}"


def undeclared_dust(policy: Policy, a: Book, b: Book, extra_payments: int) -> list[str]:
    """The differences between book ``a`` and book ``b`` (after ``extra_payments`` more funding
    payments) that the policy's declared funding rounding does not explain; empty if all are dust.

    Declared dust: the cash of each account holding a position (traders, and the order book or a
    vault that took one over: all pay and receive funding) is in ``b`` between ``extra_payments``
    quanta below and exactly its cash in ``a`` (payers round up and receivers down once more per
    extra payment), the named dust account gains exactly what they lose, and nothing else differs.
    """
    dust_account = a.role(policy.rounding.funding.dust_account).name
    out, lost = [], 0
    for x in a.accounts:
        y = b.account(x.name)
        if x.name == dust_account:
            continue
        for field, label in BALANCES:
            delta = getattr(y, field) - getattr(x, field)
            dust = field == "cash_quote" and not is_flat(x) and -extra_payments <= delta <= 0
            if delta and not dust:
                out.append(f"{x.name} {label} {delta:+}")
            elif dust:
                lost -= delta
    gained = b.account(dust_account).cash_quote - a.account(dust_account).cash_quote
    if gained != lost:
        out.append(f"{dust_account} cash {gained:+} while the payers and receivers lose {lost} to rounding")
    return out


def cadence_compare(policy: Policy, a: Sequence[Step], b: Sequence[Step], twin: Twin) -> Comparison:
    if _liquidates(a, twin.a_window) or _liquidates(b, twin.b_window):
        return NOT_APPLICABLE
    book_a, book_b = a[twin.a_window[1] - 1].after, b[twin.b_window[1] - 1].after
    found = _compare_books(policy, book_a, book_b, twin.change)
    extra = _payments(b, twin.b_window) - _payments(a, twin.a_window)
    beyond = undeclared_dust(policy, book_a, book_b, extra) if found else []
    if found and extra and not beyond:
        return Comparison(True, None)  # only the dust the policy declares: see the module docstring
    if found and extra:
        rounding = policy.rounding.funding
        found += (
            f" Beyond the declared funding rounding ({_declared(rounding)}: each account with a position "
            f"at most {extra} quantum poorer per extra payment, paid to {book_a.role(rounding.dust_account).name}): "
            f"{'; '.join(beyond)}."
        )
    return Comparison(True, found and found + " No account was liquidated in either run.")


# --- round-trip-neutral ---------------------------------------------------------------------


def _round_trip_sites(story: Story) -> list[int]:
    return list(range(1, len(story.events) + 1))


def round_trip_twin(policy: Policy, story: Story, steps: Sequence[Step], i: int, knobs: Knobs) -> Twin | None:
    """Insert ``MarkPrice(x), MarkPrice(mark)`` before event ``i``, x ``excursion_ppm`` of the mark away from it."""
    mark = _book_before(story.book, steps, i).market.mark_quote
    away = _tick_toward(mark + mark * knobs.excursion_ppm // PPM, story.book.market.tick_quote, mark)
    if away <= 0 or away == mark:
        return None
    detour = (MarkPrice(away), MarkPrice(mark))
    events = story.events[:i] + detour + story.events[i:]
    change = f"A detour of the mark {mark} → {away} → {mark} inserted after event {i - 1}"
    return Twin(Story(story.book, events), change, (i, i), (i, i + 2))


def round_trip_compare(policy: Policy, a: Sequence[Step], b: Sequence[Step], twin: Twin) -> Comparison:
    """Every balance after the detour equals run A's, once the spot the detour converted into cash
    is put back (:func:`_converted`): the policy's own settlement of a negative cash balance from
    spot (``rules.collateral``; Drift's settle_pnl, Backpack's conversion) runs when the engine
    next meets the account, so *which* of an account's two balances holds its money depends on the
    path by the venue's documented rule, while the sum, and every other balance, must not."""
    if _liquidates(b, twin.b_window):
        return NOT_APPLICABLE
    book_a = _book_before(twin.story.book, a, twin.a_window[0])
    book_b = _converted_back(b[twin.b_window[1] - 1].after, _converted(b, twin.b_window))
    found = _compare_books(policy, book_a, book_b, twin.change)
    return Comparison(True, found and found + " No account was liquidated on the detour.")


def _converted(steps: Sequence[Step], window: tuple[int, int]) -> dict[str, int]:
    """Per account, the spot converted into its own cash in the window (``COLLATERAL_CONVERSION``)."""
    out: dict[str, int] = {}
    for s in steps[window[0] : window[1]]:
        for t in s.transfers:
            if t.reason is Reason.COLLATERAL_CONVERSION and t.source == t.destination + SPOT:
                out[t.destination] = out.get(t.destination, 0) + t.amount_quote
    return out


def _converted_back(book: Book, converted: dict[str, int]) -> Book:
    """``book`` with each account's converted spot moved from its cash back to its spot."""
    accounts = tuple(
        attrs.evolve(x, cash_quote=x.cash_quote - converted[x.name], spot_quote=x.spot_quote + converted[x.name])
        if converted.get(x.name)
        else x
        for x in book.accounts
    )
    return book.with_balances(accounts) if converted else book


# --- more-fund-never-hurts and more-collateral-never-hurts ----------------------------------


def _endow(story: Story, name: str, extra: int, change: str) -> Twin:
    """The same events on a starting book where ``name`` already holds ``extra`` more, as if
    deposited before the first event (cash, principal and net deposits all raised). Starting
    richer rather than inserting a deposit keeps the two runs step for step on the same clock."""
    book = story.book
    i = book.index(name)
    account = book.accounts[i]
    richer = attrs.evolve(
        account, cash_quote=account.cash_quote + extra, principal_quote=account.principal_quote + extra
    )
    book = attrs.evolve(book.replace_account(i, richer), net_deposits_quote=book.net_deposits_quote + extra)
    n = len(story.events)
    return Twin(Story(book, story.events), change, (0, n), (0, n), name)


def _haircuts(steps: Sequence[Step]) -> dict[str, int]:
    """Per trader, what it paid toward other accounts' deficits (ADL, socialization, haircut, clawback)."""
    paid: dict[str, int] = {a.name: 0 for a in steps[0].before.traders} if steps else {}
    for s in steps:
        bankrupt = {o.account for o in s.outcomes if isinstance(o, Bankrupt)}
        for t in s.transfers:
            if t.reason in HAIRCUT_REASONS and t.source in paid and t.source not in bankrupt:
                paid[t.source] += t.amount_quote
    return paid


def _bankruptcies(steps: Sequence[Step]) -> int:
    return sum(isinstance(o, Bankrupt) for s in steps for o in s.outcomes)


def _fund_sites(story: Story) -> list[str]:
    return [story.book.role(Role.INSURANCE_FUND).name]


def fund_twin(policy: Policy, story: Story, steps: Sequence[Step], site: str, knobs: Knobs) -> Twin:
    """The same story with ``extra`` more in the insurance fund from the start."""
    extra = _extra(story, knobs)
    return _endow(story, site, extra, f"With {extra} more in the insurance fund from the start")


def fund_compare(policy: Policy, a: Sequence[Step], b: Sequence[Step], twin: Twin) -> Comparison:
    paid_a, paid_b = _haircuts(a), _haircuts(b)
    exercised = policy.layer(InsuranceFund) is not None and bool(_bankruptcies(a) or _bankruptcies(b))
    worse = [n for n in paid_a if paid_b[n] > paid_a[n]]
    total_a, total_b = sum(paid_a.values()), sum(paid_b.values())
    if not worse and total_b <= total_a:
        return Comparison(True, None, exercised)
    who = "; ".join(f"{n} {paid_a[n]} vs {paid_b[n]}" for n in worse) or "no single trader"
    return Comparison(
        True,
        f"{twin.change}, traders pay more in haircuts (ADL, socialized loss, haircut, clawback): "
        f"per trader, run A vs run B: {who}; in total {total_a} vs {total_b}. "
        f"Bankruptcies: {_bankruptcies(a)} in run A, {_bankruptcies(b)} in run B.",
        exercised,
    )


def _collateral_sites(story: Story) -> list[str]:
    return [a.name for a in story.book.traders]


def collateral_twin(policy: Policy, story: Story, steps: Sequence[Step], who: str, knobs: Knobs) -> Twin:
    """The same story with trader ``who`` holding ``extra`` more collateral from the start."""
    extra = _extra(story, knobs)
    return _endow(story, who, extra, f"When {who} holds {extra} more from the start")


def _net(policy: Policy, book: Book, name: str) -> int:
    """What the account is worth to its owner: equity net of any debt owed to a lender."""
    account = book.account(name)
    return equity(policy.margin, account) - account.debt_quote


def collateral_compare(policy: Policy, a: Sequence[Step], b: Sequence[Step], twin: Twin) -> Comparison:
    """Another trader is worse off when it ends poorer *and* paid more toward deficits in run B.

    Both are needed: a trader that ADL closed in run A but not in run B carries its own market
    risk in run B, and may end poorer through later moves; that is being spared a haircut, not
    harm done by the other account's collateral.
    """
    end_a, end_b = a[-1].after, b[-1].after
    paid_a, paid_b = _haircuts(a), _haircuts(b)
    others = [x.name for x in end_a.traders if x.name != twin.account]
    worse = [n for n in others if _net(policy, end_b, n) < _net(policy, end_a, n) and paid_b[n] > paid_a[n]]
    exercised = any(isinstance(o, Liquidated) for s in (*a, *b) for o in s.outcomes)
    if not worse:
        return Comparison(True, None, exercised)
    lines = [
        f"{n} ends with equity net of debt {_net(policy, end_a, n)} in run A vs {_net(policy, end_b, n)} in run B "
        f"(haircuts paid {paid_a[n]} vs {paid_b[n]})"
        for n in worse
    ]
    return Comparison(True, f"{twin.change}, another trader is worse off: {'; '.join(lines)}.", exercised)


register(
    RelationalProperty(
        "cadence-invariant",
        "splitting a price move (or a funding payment) into smaller steps with no liquidation between them changes no balance "
        "beyond the funding rounding dust the policy declares",
        Severity.HIGH,
        cadence_twin,
        cadence_compare,
        _cadence_sites,
    )
)
register(
    RelationalProperty(
        "round-trip-neutral",
        "a price path that returns to its start with no liquidation leaves every balance unchanged",
        Severity.HIGH,
        round_trip_twin,
        round_trip_compare,
        _round_trip_sites,
    )
)
register(
    RelationalProperty(
        "more-fund-never-hurts",
        "a larger insurance fund never produces a larger haircut on the same story",
        Severity.MEDIUM,
        fund_twin,
        fund_compare,
        _fund_sites,
    )
)
register(
    RelationalProperty(
        "more-collateral-never-hurts",
        "adding collateral to one account never makes another account worse off",
        Severity.MEDIUM,
        collateral_twin,
        collateral_compare,
        _collateral_sites,
    )
)

#: the properties registered above are Solvent's own (``RELATIONAL.builtin``)
RELATIONAL.seal_builtins()


# --- checking one story ---------------------------------------------------------------------


@attrs.frozen
class Judged:
    """One pair of runs: the twin (None if the site has none) and how it stands toward the claim."""

    twin: Twin | None
    comparison: Comparison


def judge(
    policy: Policy,
    prop: RelationalProperty,
    story: Story,
    site: Any,
    knobs: Knobs,
    steps_a: Sequence[Step] | None = None,
) -> Judged:
    """Build the twin at ``site``, run both stories and compare; rejected runs are not applicable."""
    steps_a = replay(policy, story) if steps_a is None else steps_a
    if steps_a is None:
        return Judged(None, NOT_APPLICABLE)
    twin = prop.twin(policy, story, steps_a, site, knobs)
    return Judged(twin, NOT_APPLICABLE if twin is None else _compare_twin(policy, prop, steps_a, twin))


def _compare_twin(policy: Policy, prop: RelationalProperty, steps_a: Sequence[Step], twin: Twin) -> Comparison:
    steps_b = replay(policy, twin.story)
    return NOT_APPLICABLE if steps_b is None else prop.compare(policy, steps_a, steps_b, twin)


def _violation(prop: RelationalProperty, story: Story, judged: Judged) -> RelationalViolation | None:
    if judged.twin is None or judged.comparison.explanation is None:
        return None
    return RelationalViolation(prop.id, story, judged.twin.story, judged.comparison.explanation)


def first_violation(
    policy: Policy, prop: RelationalProperty, story: Story, knobs: Sequence[Knobs] = DEFAULT_KNOBS
) -> RelationalViolation | None:
    """The first twin of ``story`` (every site, each of ``knobs``) that breaks the claim."""
    steps = replay(policy, story)
    if steps is None:
        return None
    tried: set[Story] = set()
    for k in knobs:
        for site in prop.sites(story):
            twin = prop.twin(policy, story, steps, site, k)
            if twin is None or twin.story in tried:
                continue
            tried.add(twin.story)
            found = _violation(prop, story, Judged(twin, _compare_twin(policy, prop, steps, twin)))
            if found is not None:
                return found
    return None


def check_relational(
    policy: Policy, story: Story, ids: Sequence[str] | None = None, knobs: Sequence[Knobs] = DEFAULT_KNOBS
) -> list[RelationalViolation]:
    """Every relational property (or the named ones) that some twin of ``story`` breaks, first twin each."""
    found = (first_violation(policy, get(i), story, knobs) for i in (ids or RELATIONAL))
    return [v for v in found if v is not None]


# --- search ---------------------------------------------------------------------------------


@attrs.mutable
class RelationalStats:
    """What the search did: pairs run, how many the claim applied to, how many took its path."""

    examples: int = 0
    applicable: int = 0
    exercised: int = 0
    events: int = 0
    seconds_to_first: float | None = None
    seconds_total: float = 0.0

    def record(self, steps: Sequence[Step], comparison: Comparison) -> None:
        self.examples += 1
        self.events += len(steps)
        self.applicable += comparison.applicable
        self.exercised += comparison.applicable and comparison.exercised


@attrs.frozen
class RelationalResult:
    """One relational property's search: the 1-minimal violation (if any) and the statistics."""

    id: str
    outcome: Outcome
    stats: RelationalStats
    violation: RelationalViolation | None = None
    knobs: Knobs | None = None


def twin_knobs(*, max_extra_quote: int = 10**9) -> st.SearchStrategy[Knobs]:
    """Twin parameters; shrinks toward a split near the old value, a small detour up, an extra of 1."""
    from hypothesis import strategies as st

    excursion_bps = st.one_of(st.integers(1, 20_000), st.integers(-9_000, -1))  # whole basis points
    return st.builds(_drawn_knobs, st.integers(1, PPM - 1), excursion_bps, st.integers(1, max_extra_quote))


def _drawn_knobs(share_ppm: int, excursion_bp: int, extra_quote: int) -> Knobs:
    """Knobs from drawn values: the excursion is drawn in whole basis points (as the stories'
    moves are, ``strategies.PPM_PER_BP``) and kept in ppm."""
    return Knobs(share_ppm, excursion_bp * PPM_PER_BP, extra_quote)


def _pressure(steps: Sequence[Step]) -> float:
    """Haircuts paid in run A plus bankruptcies, for ``target()``: fund and collateral claims need a deficit."""
    return float(sum(_haircuts(steps).values()) + _bankruptcies(steps))


def _judge_drawn(
    policy: Policy, prop: RelationalProperty, story: Story, steps: Sequence[Step], site_index: int, k: Knobs
) -> Comparison:
    """The comparison at the drawn site (taken modulo the story's sites)."""
    sites = prop.sites(story)
    if not sites or not steps:
        return NOT_APPLICABLE
    return judge(policy, prop, story, sites[site_index % len(sites)], k, steps).comparison


def search_relational(policy: Policy, id: str, budget: SearchBudget = CI, *, shrink: bool = True) -> RelationalResult:
    """Look for the smallest story with a twin that breaks the relational property ``id``.

    The story hypothesis finds is shrunk by hypothesis (unless ``shrink`` is False: every shrink
    attempt draws a whole story through the engine, which dominates the time of a found search),
    then made 1-minimal by :func:`minimize` under the same knobs at any site.
    """
    # hypothesis only where a search runs (docs/solver-notes.md#fixed-costs-processes-and-collection-session-28)
    from hypothesis import find, target
    from hypothesis import strategies as st
    from hypothesis.errors import NoSuchExample

    from solvent.properties.search import same_draws_in_any_process, search_settings
    from solvent.properties.strategies import stories

    prop = get(id)
    stats = RelationalStats()
    start = time.perf_counter()

    def breaks(drawn: tuple[Story, int, Knobs]) -> bool:
        story, site_index, k = drawn
        steps = replay(policy, story) or []
        comparison = _judge_drawn(policy, prop, story, steps, site_index, k)
        stats.record(steps, comparison)
        target(_pressure(steps), label="haircuts and bankruptcies")
        failed = comparison.explanation is not None
        if failed and stats.seconds_to_first is None:
            stats.seconds_to_first = time.perf_counter() - start
        return failed

    config = search_settings(budget, shrink=shrink)
    story_strategy = stories(policy, max_traders=budget.max_traders, max_events=budget.max_events)
    strategy = st.tuples(story_strategy, st.integers(0, 63), twin_knobs())
    try:
        with same_draws_in_any_process(policy):
            story, _, k = find(strategy, breaks, settings=config, random=budget.random())
    except NoSuchExample:
        stats.seconds_total = time.perf_counter() - start
        outcome = Outcome.NONE_FOUND if stats.exercised else Outcome.NOT_EXERCISED
        return RelationalResult(prop.id, outcome, stats)
    minimal = minimize(lambda s: first_violation(policy, prop, s, (k,)) is not None, story)
    violation = first_violation(policy, prop, minimal, (k,))
    assert violation is not None
    stats.seconds_total = time.perf_counter() - start
    return RelationalResult(prop.id, Outcome.FOUND, stats, violation, k)


__all__ = [
    "DEFAULT_KNOBS",
    "RELATIONAL",
    "Comparison",
    "Judged",
    "Knobs",
    "RelationalProperty",
    "RelationalResult",
    "RelationalStats",
    "RelationalViolation",
    "Twin",
    "check_relational",
    "first_violation",
    "get",
    "ids",
    "judge",
    "register",
    "search_relational",
    "twin_knobs",
    "undeclared_dust",
]

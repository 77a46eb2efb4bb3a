"""Thresholds: the exact boundary where a policy starts to fail, with a proof on each side.

A threshold question fixes everything but one number (a move size, a fund size, a maintenance
rate, a liquidation penalty) and asks where a claim stops holding. Each answer is two pieces of
evidence about the *same* engine (``solvent.rules.engine.transition`` run on z3 terms, as in
:func:`solvent.solver.prove.prove`):

- on the safe side, a z3 proof (unsat) that the claim holds for every book and event within the
  bounds at the boundary value;
- on the unsafe side, at the adjacent value (one ppm further), a z3 model turned into a concrete
  book and event that the concrete engine replays into a violation.

The search is a bisection over integer ppm. A question whose parameter only *narrows* the books
(a move bound, a fund floor) is monotone by construction: the safe values form an interval. One
whose parameter changes the policy (a maintenance rate, a penalty) is not; its answer is still
"proved at v, refuted at v ± 1", but that nothing beyond the searched interval flips back is an
assumption of the bisection, and the answer says so (``Threshold.note``).

The questions (issues 4 and 18; exchange meaning first):

``safe-move``
    The largest one-tick move of the mark (either way, in ppm of the mark before it) after which
    no account is bankrupt: no deficit enters the waterfall, from any margin-compliant book. On a
    tiered policy it is about the loosest tier's initial rate less what liquidation costs.
``fund-for-gap``
    The smallest insurance fund, as ppm of the long open interest's notional at the mark, for
    which a move of at most ``gap_ppm`` never reaches a layer that takes profit (ADL, socialized
    loss, haircut, clawback), whoever would pay it (a trader or the book's resting liquidity).
    Only for policies with an insurance fund.
``maintenance-for-leverage``
    The smallest maintenance rate for which an account opened at ``leverage``× (initial rate
    ⌈10⁶ / leverage⌉ ppm, one tier) that is still above maintenance survives a move of at most
    ``gap_ppm`` without bad debt. None if no rate up to the initial rate does.
``penalty-bankrupts``
    The smallest liquidation penalty (ppm of the closed notional) at which every liquidation
    leaves the account with nothing: equity after the step at or below zero.
``vault-loss-for-gap``
    The backstop vault's worst loss for a gap: the smallest share (ppm of the long open interest's
    notional at the mark) that bounds what a vault holding no position before the move loses in a
    move of at most ``gap_ppm`` (the deficits it pays, the positions and margin it takes over, its
    own settlement). Only for policies whose vault is a waterfall layer or takes positions over.
``partial-liquidation-extra-bad-debt`` (asked by name, not in :data:`DEFAULT_IDS`)
    The most bad debt partial liquidation adds over a cascade of ``moves`` mark moves of at most
    ``move_ppm`` each: the smallest share (ppm of the long open interest's notional at the
    starting mark) that bounds the bad debt under the policy less the bad debt under the same
    policy with whole liquidation, on the same book and moves (``solvent.solver.partial_liquidation``,
    two runs judged together). Only for policies whose liquidation can leave part of a position open.

Defaults for the parameters (choice, documented in docs/model.md): ``gap_ppm`` 200,000 (a 20%
one-tick gap, the order of BTC's fall on 12 March 2020 within hours, docs/venues.md#bitmex-march-2020) for
``fund-for-gap`` and ``vault-loss-for-gap``; leverage 10× and a 5% gap for ``maintenance-for-leverage``.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import attrs

from solvent.properties.catalog import HAIRCUT_LAYERS, Invariant, Severity, StepView
from solvent.properties.scenarios import Story
from solvent.rules.arith import PPM, Rounding, abs_, all_, and_, implies, mul_ppm
from solvent.rules.book import Book, Role
from solvent.rules.events import Event, MarkPrice
from solvent.rules.liquidation import pools_holding, slip_per_lot
from solvent.rules.margin import MarginRule, Tier, equity
from solvent.rules.outcomes import Bankrupt, LayerUsed, Liquidated
from solvent.rules.policy import Policy
from solvent.rules.presets import resolve_policy
from solvent.rules.waterfall import BackstopVault, InsuranceFund
from solvent.solver import effort
from solvent.solver.assumptions import mark_move_ppm
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.effort import UNITS_PER_SECOND, OutOfEffort, units_text
from solvent.solver.plain_book import MARK_SPAN, plain_story, scale_mark
from solvent.solver.query import Answer, StoryQuery
from solvent.solver.refinement import replay
from solvent.solver.verdicts import (
    TRIVIALLY,
    Counterexample,
    ObligationResult,
    ProofResult,
    QueryStats,
    SpuriousCounterexample,
    Verdict,
)

DEFAULT_FUND_GAP_PPM = 200_000
DEFAULT_LEVERAGE = 10
DEFAULT_MAINTENANCE_GAP_PPM = 50_000
#: partial-liquidation-extra-bad-debt: a cascade of two moves (the least in which a position left
#: open by a partial liquidation can move again), each at most 5% (choice, docs/model.md)
DEFAULT_CASCADE_MOVES = 2
DEFAULT_CASCADE_MOVE_PPM = 50_000


# --- the claims -----------------------------------------------------------------------------


def _pools_flat(view: StepView) -> Any:
    """No pool holds a position before the step (the insurance fund or backstop vault of a policy
    that hands them what they take over, ``liquidation.pools_holding``): the questions are about
    what the policy's rules do to traders' positions, and a pool already holding one loses with the
    mark like any holder, and is deleveraged below zero (``rules.pool_bankruptcy``), whatever the
    policy's margin, fund or penalty; so a book where one does is not what they bound, as for
    ``vault-loss-for-gap``."""
    return all_(view.before.role(role).size_lots == 0 for role in pools_holding(view.policy.liquidation))


def _no_bad_debt(view: StepView) -> Any:
    return implies(
        _pools_flat(view), all_(implies(g.guard, g.item.deficit_quote <= 0) for g in view.outcomes_of(Bankrupt))
    )


def _holds_every_market(view: StepView, name: str) -> Any:
    """The account ``name`` held a position in every market of the book before the step."""
    return all_(p.size_lots != 0 for p in view.before.account(name).positions)


def _no_cross_bad_debt(view: StepView) -> Any:
    return implies(
        _pools_flat(view),
        all_(
            implies(and_(g.guard, _holds_every_market(view, g.item.account)), g.item.deficit_quote <= 0)
            for g in view.outcomes_of(Bankrupt)
        ),
    )


def _liquidation_leaves_nothing(view: StepView) -> Any:
    return all_(
        implies(g.guard, equity(view.policy.margin, view.after.account(g.item.account)) <= 0)
        for g in view.outcomes_of(Liquidated)
    )


def _no_haircut_layer(view: StepView) -> Any:
    return implies(
        _pools_flat(view),
        all_(
            implies(g.guard, g.item.covered_quote <= 0)
            for g in view.outcomes_of(LayerUsed)
            if g.item.layer in HAIRCUT_LAYERS
        ),
    )


NO_HAIRCUT_LAYER = Invariant(
    "no-haircut-layer",
    "no deficit reaches ADL, socialized loss, a haircut or a clawback: the layers above pay it all",
    Severity.MEDIUM,
    _no_haircut_layer,
)
NO_BAD_DEBT = Invariant(
    "no-bad-debt",
    "no account is bankrupt after the step: no deficit enters the waterfall",
    Severity.HIGH,
    _no_bad_debt,
    reads_splits=False,
)
NO_CROSS_BAD_DEBT = Invariant(
    "no-cross-bad-debt",
    "no account that held a position in every market before the step is bankrupt after it: "
    "no deficit enters the waterfall from a cross account holding them all",
    Severity.HIGH,
    _no_cross_bad_debt,
    reads_splits=False,
)
LIQUIDATION_LEAVES_NOTHING = Invariant(
    "liquidation-leaves-nothing",
    "every liquidated account ends the step with equity at or below zero",
    Severity.MEDIUM,
    _liquidation_leaves_nothing,
)


def vault_loss_within(value: int) -> Invariant:
    """The backstop vault, if it holds no position before the step, loses at most ``value`` ppm
    of the long open interest's notional at the mark before it (cash and spot, before → after)."""

    def holds(view: StepView) -> Any:
        from solvent.solver.assumptions import long_open_interest

        before, after = view.before.role(Role.BACKSTOP_VAULT), view.after.role(Role.BACKSTOP_VAULT)
        loss = before.cash_quote + before.spot_quote - after.cash_quote - after.spot_quote
        return implies(before.size_lots == 0, loss * PPM <= value * long_open_interest(view.policy, view.before))

    return Invariant(
        "vault-loss-within",
        "the backstop vault, flat before the move, loses at most the bound's share of the long open interest's notional",
        Severity.MEDIUM,
        holds,
    )


# --- questions ------------------------------------------------------------------------------


class Direction(enum.Enum):
    LARGEST = "largest"  # the safe values are [low, v]
    SMALLEST = "smallest"  # the safe values are [v, high]


@attrs.frozen
class Setup:
    """What one probe proves: the policy variant, the claim and the bounds at a value."""

    policy: Policy
    claim: Invariant
    bounds: Bounds
    #: a claim that compares two runs of a story (partial against whole liquidation) brings its
    #: own probe (``(setup) -> (ProofResult, None)``) and its own concrete judge of a story
    #: (``(story) -> bool``: the story breaks the claim at this value); None: one
    #: :class:`~solvent.solver.query.StoryQuery` and ``replay`` of the per-step claim
    decide: Callable[[Setup], tuple[ProofResult, int | None]] | None = None
    breaks: Callable[[Story], bool] | None = None
    #: where a question's boundary is a one-quantum rounding near the lowest price (a market
    #: liquidation's slippage, :func:`rounding_closeness`): each starting mark of the rounding
    #: region and how far, by the rounding model, this value lies from failing there (≤ 0: a
    #: story is expected there); the probe asks the closest marks alone first and splits an
    #: undecided cell at its closest mark (:func:`_cell_by_cell`). A guide to where z3 looks,
    #: never evidence: the cells still cover every mark. None: no model applies
    closeness: Callable[[], dict[int, int]] | None = None
    #: where a market liquidation's fill slips: the lemma per lot (:class:`SlipLemma`) a probe
    #: proves first and, proved, gives the query as a fact on every trader (None: none)
    slip_lemma: SlipLemma | None = None


@attrs.frozen
class Question:
    """One threshold question (see the module docstring)."""

    id: str
    title: str
    direction: Direction
    #: the parameter narrows the books (monotone by construction) rather than changing the policy
    monotone: bool
    low: Callable[[Policy], int]
    high: Callable[[Policy], int]
    setup: Callable[[Policy, int, Bounds], Setup]
    hints: Callable[[Policy, Bounds], Sequence[int]]
    #: the safest value at which a refuting story still lies within the bounds, if computable
    reach: Callable[[Policy, Story], int | None] = lambda policy, story: None
    applies: Callable[[Policy], str] = lambda policy: ""
    #: traders in the default bounds for a policy (None: :func:`default_bounds`'s two), and why fewer
    accounts: Callable[[Policy], int | None] = lambda policy: None
    accounts_note: str = ""
    #: the answer compared with the policy's own parameter, in words ("" where none applies)
    compare: Callable[[Policy, Any], str] = lambda policy, threshold: ""
    #: asked once per market of the policy (``threshold(..., market=NAME)``), on a book of every
    #: market it declares, the events in that market only (``Bounds.event_markets``)
    per_market: bool = False


def moving_margin(policy: Policy, bounds: Bounds) -> MarginRule:
    """The margin rule of the market a question's events move: the one market of
    ``bounds.event_markets`` on a book of the policy's markets (its ``[[market]]`` table's tiers),
    else ``[margin]`` (the first market's, as every one-market question reads it)."""
    if len(bounds.event_markets) == 1 and bounds.market_labels:
        (name,) = bounds.event_markets
        spec = next((m for m in policy.market if m.name == name), None)
        if spec is not None:
            return policy.market_margin(spec)
    return policy.margin


def _mark_move_ppm(policy: Policy, story: Story) -> int | None:
    """⌈|p′ − p| · 10⁶ / p⌉ of the story's first mark event: the least move bound it lies within."""
    event = next((e for e in story.events if isinstance(e, MarkPrice)), None)
    if event is None or len(story.events) != 1:
        return None
    return mark_move_ppm(story.book, event)


def _fund_share_ppm(policy: Policy, story: Story) -> int | None:
    """⌊fund · 10⁶ / long notional⌋ of the story's book: the largest fund floor it lies within."""
    from solvent.solver.assumptions import long_open_interest

    book = story.book
    long = long_open_interest(policy, book)
    if long == 0:
        return None
    return min(book.role(Role.INSURANCE_FUND).cash_quote * PPM // long, PPM)


#: Why fund-for-gap asks one trader against the book on every policy (docs/model.md, "How many
#: traders"; docs/solver-notes.md#the-rounding-lattice-one-trader-and-the-closest-marks-issue-18):
#: the book takes part in every layer that takes profit (docs/model.md#the-book-in-every-profit-taking-layer),
#: so one trader's deficit beyond the fund reaches a socialized loss, haircut or clawback through
#: the book as it reaches ADL, and each account's deficit is at most the gap less its margin of its
#: own notional, at most the long open interest in all: one account shows the largest share. Two
#: traders (the default where a layer other than ADL takes profit, before session 16) left Mango's
#: and Percolator Gen B's proofs undecided within 30M units at every fund tried (one side only);
#: one trader decides each in a few hundred thousand.
FUND_ACCOUNTS_NOTE = (
    "one trader against the book: the book takes part in every layer that takes profit, so one trader's "
    "deficit beyond the fund reaches it, and one account shows the largest share of the open interest; "
    "with two traders z3 left Mango's and Percolator Gen B's proofs undecided; --accounts 2 asks anyway"
)


def _safe_move_hints(policy: Policy, bounds: Bounds) -> list[int]:
    """The loosest initial rate ``i``; with a slippage ``s`` on market liquidations, also the move
    after which a short opened at ``i`` and closed ``s`` above the new mark has nothing left,
    ``(i − s) / (1 + s)``, and that less two roundings at the lowest price (Drift: 89,108 and
    88,908 ppm for 10% and 1%; its answer lies between, where the initial rate alone left the
    bisection a dozen probes from it)."""
    initial = min(t.initial_ppm for t in moving_margin(policy, bounds).tiers)
    slip = policy.liquidation.slippage_ppm
    if policy.liquidation.execution.value != "market" or slip == 0 or slip >= initial:
        return [initial]
    continuous = (initial - slip) * PPM // (PPM + slip)
    # the rounding model's answer first: one ppm below the least move it leaves a position short
    # in (Drift and Mango: 89,024, proved there and refuted one ppm beyond in two probes)
    least = min(_least_failing_moves(bounds, initial, slip).values(), default=continuous + 1) - 1
    # a one-quantum rounding at the lowest price moves it by up to 10⁶ / min_price ppm, each way
    out = [least, initial, continuous, max(continuous - 2 * PPM // bounds.min_price, 0)]
    return [v for i, v in enumerate(out) if v not in out[:i]]


def _maintenance_hints(leverage: int, gap_ppm: int) -> Callable[[Policy, Bounds], list[int]]:
    """The gap ``g`` itself (a liquidation that costs nothing needs exactly the gap); with a
    slippage ``s`` on market liquidations, also the rate at which a short at maintenance gapped up
    by ``g`` and closed ``s`` above the new mark has nothing left, ``g + s(1 + g)``, and that plus
    two roundings at the lowest price (Drift and Mango, 1% slippage at 10x and 5%: 60,500 and
    60,700 ppm, their answer 60,595 between, where the gap alone left the bisection 18 probes)."""

    def hints(policy: Policy, bounds: Bounds) -> list[int]:
        top = initial_rate(leverage)
        out = [min(gap_ppm, top)]
        slip = policy.liquidation.slippage_ppm
        if policy.liquidation.execution.value == "market" and slip > 0:
            continuous = gap_ppm + slip * (PPM + gap_ppm) // PPM
            # the rounding model's answer first (Drift and Mango: 60,595, in two probes)
            least = max(_least_safe_rates(bounds, gap_ppm, slip).values(), default=continuous)
            out = [least] + [v for v in out if v != least] if least <= top else out
            out += [v for v in (continuous, continuous + 2 * PPM // bounds.min_price) if v <= top and v not in out]
        return out

    return hints


# --- the rounding model near the lowest price ------------------------------------------------
#
# A market liquidation fills ``⌈p′ · s⌉`` per lot beyond the new mark ``p′`` (``rules.liquidation``,
# rounded against the account). Near the lowest price that rounding is up to 10⁶ / p′ ppm of the
# notional, and it sets Drift's and Mango's safe move and maintenance rate: the answer is where one
# more quantum of move first tips the rounding, at one starting mark. The model below is that
# arithmetic for one position of many lots holding exactly its margin rate ``r`` (its cash over its
# lots is then ``r·p``): a move of ``d`` quanta against it, then a close ``⌈(p ± d)·s⌉`` beyond the
# new mark, leaves it short when ``r·p < 10⁶·(d + ⌈(p ± d)·s / 10⁶⌉)``. It ignores the rest of the
# policy (fees, a penalty capped at what is left, a partial order), so it only guides the search:
# which marks a probe asks alone first, where an undecided cell is split, and the first hint.


def _slipping(policy: Policy) -> int:
    """The slippage of a market liquidation, in ppm (0 where the fill is at the mark)."""
    rule = policy.liquidation
    return rule.slippage_ppm if rule.execution.value == "market" else 0


def _rounding_marks(bounds: Bounds) -> range:
    """The starting marks where a one-quantum rounding is large against the price: from the lowest
    price to :data:`SPLIT_BELOW` times it (where :func:`_cell_by_cell` splits cells)."""
    return range(bounds.min_price, min(bounds.min_price * SPLIT_BELOW, bounds.max_price + 1))


def _slipped_loss(mark: int, move: int, slip_ppm: int) -> int:
    """Per lot, what a position at ``mark`` loses to a move of ``move`` quanta against it and a
    close ``⌈p′·s⌉`` beyond the new mark ``p′``: the worse of a short (mark up) and a long (down).
    The slip is the engine's own rounding (``rules.liquidation.slip_per_lot``: ``mul_ppm``, up)."""
    up = move + mul_ppm(mark + move, slip_ppm, rounding=Rounding.CEIL)
    down = move + mul_ppm(max(mark - move, 0), slip_ppm, rounding=Rounding.CEIL)
    return max(up, down)


def _least_failing_moves(bounds: Bounds, rate_ppm: int, slip_ppm: int) -> dict[int, int]:
    """By the rounding model, for each starting mark ``p`` of the rounding region: the least move
    bound (ppm) within which a position opened at ``rate_ppm`` is left short, ``⌈d·10⁶ / p⌉`` for the
    least ``d`` quanta with ``r·p < 10⁶·loss(d)``. Drift and Mango (10%, 1%): least at p = 10,469
    (d = 932, 89,025 ppm), where the continuous ``(i − s)/(1 + s)`` is 89,108."""
    out = {}
    for p in _rounding_marks(bounds):
        d = max((rate_ppm - slip_ppm) * p // (PPM + slip_ppm) - 2, 0)
        while rate_ppm * p >= PPM * _slipped_loss(p, d, slip_ppm):
            d += 1
        out[p] = -(-d * PPM // p)
    return out


def _least_safe_rates(bounds: Bounds, gap_ppm: int, slip_ppm: int) -> dict[int, int]:
    """By the rounding model, for each starting mark ``p`` of the rounding region: the least margin
    rate (ppm) that a position holding it keeps through a gap of ``gap_ppm`` (``D = ⌊g·p/10⁶⌋``
    quanta) and the slipped close, ``⌈10⁶·loss(D) / p⌉``. Drift and Mango (5%, 1%): most at
    p = 10,100 (60,595 ppm), their maintenance rate for 10x."""
    out = {}
    for p in _rounding_marks(bounds):
        loss = _slipped_loss(p, gap_ppm * p // PPM, slip_ppm)
        out[p] = -(-loss * PPM // p)
    return out


def _fund_hints(gap_ppm: int) -> Callable[[Policy, Bounds], list[int]]:
    """The gap less the loosest initial rate ``i`` (a position gapped past its margin owes the
    rest); with a slippage ``s`` on market liquidations, first the rounding model's share: the most
    a position at ``i`` owes beyond its margin after the gap and the slipped close, ``⌈10⁶·loss /
    p⌉ − i`` at its worst starting mark (Mango: 212,098 − 100,000 = 112,098 ppm at 10,085, its
    answer, which the bisection from 100,000 took 20 probes to reach)."""

    def hints(policy: Policy, bounds: Bounds) -> list[int]:
        initial = min(t.initial_ppm for t in moving_margin(policy, bounds).tiers)
        out = [max(gap_ppm - initial, 0)]
        slip = _slipping(policy)
        if slip:
            least = max(_least_safe_rates(bounds, gap_ppm, slip).values(), default=initial) - initial
            out = [min(max(least, 0), PPM), *out]
        return [v for i, v in enumerate(out) if v not in out[:i]]

    return hints


#: the units a probe gives its lemma per lot (:class:`SlipLemma`; linear arithmetic in two prices:
#: Drift's safe move at 89,024 ppm proved in 17,670 units, refuted at 89,025 in 914)
SLIP_LEMMA_UNITS = 1_000_000
#: the method's words on a probe whose query held the proved lemma per lot
SLIP_LEMMA_NOTE = "; with the lemma per lot on the slipped close (rate·p ≥ 10⁶·(|p′ − p| + slip(p′)), proved in linear arithmetic) as a fact on every trader"


@attrs.frozen
class SlipLemma:
    """The rounding model (:func:`_least_failing_moves`) as a lemma z3 proves per probe: per lot,
    a position holding ``rate_ppm`` of its notional at a starting mark ``p`` covers a move to ``p′``
    of at most ``move_ppm`` and the close ``slip(p′)`` beyond the new mark (the engine's own
    ``rules.liquidation.slip_per_lot``), for every ``p`` and ``p′`` within the price bounds:

        |p′ − p|·10⁶ ≤ move·p  →  rate·p ≥ 10⁶·(|p′ − p| + slip(p′))

    Two integer unknowns and a division by a constant: linear arithmetic, which z3 decides at once
    (Drift at 10% and 89,024 ppm: 17,670 units; at 89,025 the model p = 10,469, p′ = 11,401, the
    rounding model's near miss). Proved, every trader's instance multiplied by its ``|size|`` (a
    product of two numbers ≥ 0) is a fact true of every value, which the probe's query gets
    (``StoryQuery(lemma_facts=...)``): the query keeps exactly its models, and the margin a trader
    holds (at least ``rate`` of its notional, rounded up) meets the lot-by-lot loss linearly, where
    without it z3's nonlinear search met the rounding lattice near the lowest price mark by mark
    (Drift's safe move at 89,024: 22-26M of its 30M units, cell by cell; with it the whole range
    in 0.26M). Not proved (the value lies beyond the lattice): no fact, the probe as before."""

    rate_ppm: int
    move_ppm: int

    def _terms(self, policy: Policy, bounds: Bounds, p: Any, p2: Any) -> tuple[Any, Any]:
        """(premise, what a lot keeps: rate·p − 10⁶·(|p′ − p| + slip(p′)))."""
        import z3

        d = z3.If(p2 >= p, p2 - p, p - p2)
        premise = z3.And(
            p >= bounds.min_price,
            p <= bounds.max_price,
            p2 >= bounds.min_price,
            p2 <= bounds.max_price,
            d * PPM <= self.move_ppm * p,
        )
        return premise, self.rate_ppm * p - PPM * (d + slip_per_lot(policy.liquidation, p2))

    def prove(self, policy: Policy, bounds: Bounds) -> Any:
        """z3's answer on the lemma's negation (``unsat``: proved), within :data:`SLIP_LEMMA_UNITS`."""
        import z3

        from solvent.solver import wall

        p, p2 = z3.Int("lemma.p"), z3.Int("lemma.p2")
        premise, kept = self._terms(policy, bounds, p, p2)
        return wall.check([premise, kept < 0], [p, p2], SLIP_LEMMA_UNITS, bounds.safety_net)

    def facts(self, policy: Policy, bounds: Bounds) -> Callable[[Book, Sequence[Any]], list[Any]]:
        """The proved lemma's instances on a query's terms: for each mark event of the first market
        and each trader, ``premise → |size|·kept ≥ 0`` (none on a book of several markets)."""
        import z3

        def instances(book: Book, runs: Sequence[Any]) -> list[Any]:
            if book.more_markets:
                return []
            out = []
            for r in runs:
                for vr in r.runs:
                    event = vr.variant.event
                    if not isinstance(event, MarkPrice) or event.market:
                        continue
                    premise, kept = self._terms(policy, bounds, r.before.market.mark_quote, event.price_quote)
                    out += [z3.Implies(premise, abs_(a.size_lots) * kept >= 0) for a in r.before.traders]
            return out

        return instances


def _safe_move_setup(policy: Policy, value: int, bounds: Bounds) -> Setup:
    slip, rate = _slipping(policy), min(t.initial_ppm for t in moving_margin(policy, bounds).tiers)
    closeness = None
    if slip and slip < rate:

        def closeness() -> dict[int, int]:
            return {p: least - value for p, least in _least_failing_moves(bounds, rate, slip).items()}

    return Setup(
        policy,
        NO_BAD_DEBT,
        attrs.evolve(bounds, max_move_ppm=value, event_kinds=("mark",)),
        closeness=closeness,
        slip_lemma=SlipLemma(rate, value) if closeness is not None else None,
    )


def _cross_move_setup(policy: Policy, value: int, bounds: Bounds) -> Setup:
    """The move of one market (``bounds.event_markets``) on a book of every market, judged on the
    accounts that hold a position in each of them."""
    return Setup(policy, NO_CROSS_BAD_DEBT, attrs.evolve(bounds, max_move_ppm=value, event_kinds=("mark",)))


def _fund_setup(gap_ppm: int) -> Callable[[Policy, int, Bounds], Setup]:
    def setup(policy: Policy, value: int, bounds: Bounds) -> Setup:
        return Setup(
            policy,
            NO_HAIRCUT_LAYER,
            attrs.evolve(bounds, max_move_ppm=gap_ppm, min_fund_ppm=value, event_kinds=("mark",)),
        )

    return setup


def _vault_setup(gap_ppm: int) -> Callable[[Policy, int, Bounds], Setup]:
    def setup(policy: Policy, value: int, bounds: Bounds) -> Setup:
        return Setup(
            policy, vault_loss_within(value), attrs.evolve(bounds, max_move_ppm=gap_ppm, event_kinds=("mark",))
        )

    return setup


def _vault_applies(policy: Policy) -> str:
    """ "" where the backstop vault can lose money in a move: it is a waterfall layer, or it takes
    positions over (``execution = "takeover"``, or ``takeover_below_ppm``)."""
    liquidation = policy.liquidation
    takes_over = liquidation.execution.value == "takeover" or liquidation.takeover_below_ppm is not None
    if policy.layer(BackstopVault) is not None or takes_over:
        return ""
    return "the policy has no backstop vault layer and no takeover"


def _compare_vault(gap_ppm: int) -> Callable[[Policy, Any], str]:
    """The vault's worst loss against the layer after it in the policy's waterfall: a vault with
    less than the answer's share can be emptied by the gap, and what it cannot pay goes there. Said
    for every decided side: the whole range (it never loses, or it can lose the whole open
    interest), one side only, or an interval (its two ends)."""

    def compare(policy: Policy, t: Any) -> str:
        kinds = [layer.kind for layer in policy.deficit]
        after = kinds[kinds.index("backstop_vault") + 1 :] if "backstop_vault" in kinds else []
        then = f"the rest passes to {after[0]}" if after else "the rest is left unpaid (no layer after it)"
        gap = _pct(gap_ppm)
        if t.status is ThresholdStatus.ALL:
            return f"a vault holding no position loses nothing in a {gap} gap under this policy: whatever it holds, it is never emptied by such a gap"
        if t.status is ThresholdStatus.NONE:
            return f"a vault holding even the whole long open interest can be emptied by a {gap} gap, and {then}"
        emptied = (
            ""
            if t.refuted_at is None
            else f"a vault holding {_pct(t.refuted_at)} of the long open interest or less can be emptied by a {gap} gap, and {then}"
        )
        if t.status is ThresholdStatus.EXACT:
            return (
                f"a vault holding less than {_pct(t.proved_at)} of the long open interest can be emptied by a "
                f"{gap} gap, and {then}; with at least that share it pays every deficit such a gap brings"
            )
        if t.status is not ThresholdStatus.BOUNDED:
            return ""
        pays = (
            "whether a larger share always pays every deficit such a gap brings is undecided within the probes"
            if t.proved_at is None
            else f"a vault holding at least {_pct(t.proved_at)} of it pays every deficit such a gap brings"
        )
        if not emptied:
            emptied = f"whether a vault with less than {_pct(t.proved_at)} of the long open interest can be emptied by a {gap} gap is undecided within the probes"
        return f"{emptied}; {pays}"

    return compare


def initial_rate(leverage: int) -> int:
    """The initial rate of ``leverage``×: ⌈10⁶ / leverage⌉ ppm (rounded toward more margin)."""
    return -(-PPM // leverage)


def _maintenance_setup(leverage: int, gap_ppm: int) -> Callable[[Policy, int, Bounds], Setup]:
    def setup(policy: Policy, value: int, bounds: Bounds) -> Setup:
        tier = Tier(floor_notional_quote=0, initial_ppm=initial_rate(leverage), maintenance_ppm=value)
        margin = MarginRule(tiers=(tier,), spot_collateral=policy.margin.spot_collateral)
        variant = attrs.evolve(policy, margin=margin)
        slip = _slipping(policy)
        closeness = None
        if slip:

            def closeness() -> dict[int, int]:
                return {p: value - least + 1 for p, least in _least_safe_rates(bounds, gap_ppm, slip).items()}

        return Setup(
            variant,
            NO_BAD_DEBT,
            attrs.evolve(bounds, max_move_ppm=gap_ppm, start_margin="maintenance", event_kinds=("mark",)),
            closeness=closeness,
            slip_lemma=SlipLemma(value, gap_ppm) if closeness is not None else None,
        )

    return setup


def _partial_setup(moves: int, move_ppm: int) -> Callable[[Policy, int, Bounds], Setup]:
    """The extra bad debt of partial liquidation over ``moves`` mark moves of at most ``move_ppm``
    each (``solvent.solver.partial_liquidation``): two runs of one story, judged together."""

    def setup(policy: Policy, value: int, bounds: Bounds) -> Setup:
        from solvent.solver import partial_liquidation as partial

        def breaks(story: Story) -> bool:
            try:
                return partial.extra_of(policy, story).breaks(value)
            except Exception:  # noqa: BLE001 - an event the engine refuses breaks nothing
                return False

        cascade = attrs.evolve(bounds, events=moves, max_move_ppm=move_ppm, event_kinds=("mark",))
        return Setup(
            policy,
            partial.claim(value),
            cascade,
            decide=lambda s: partial.decide(s.policy, value, s.bounds),
            breaks=breaks,
        )

    return setup


def _partial_hints(moves: int, move_ppm: int) -> Callable[[Policy, Bounds], list[int]]:
    """Nothing added is the last guess (a refuted story then jumps to its own share). Before it,
    for one order of a share ``f`` per event above a notional over two moves of at most ``g``:
    a short gapped up by ``g`` to just above the equity at which a takeover replaces the market
    order (``t`` of its maintenance ``m``; none: zero) has ``f`` closed and keeps ``1 − f`` open,
    which the second move of ``g`` leaves ``(1 − f)·g`` of the first mark's notional short against
    that equity, both grown by the first move: ``(1 + g)·((1 − f)·g − t·m)`` of the starting
    notional, where whole liquidation closed it on the first move with nothing owed. ``m`` is the
    loosest tier's (the most a position can lose before its liquidation). Hyperliquid (20%, 5%,
    2/3 of 1.25%): 1.05 × (4% − 0.8333%) = 33,250 ppm, its answer, which the bisection from
    nothing took 21-25 probes to reach (231M units)."""

    def hints(policy: Policy, bounds: Bounds) -> list[int]:
        rule = policy.liquidation
        if moves != 2 or rule.partial_above_notional_quote is None:
            return [0]
        g, f = Fraction(move_ppm, PPM), Fraction(rule.partial_share_ppm, PPM)
        t = Fraction(rule.takeover_below_ppm or 0, PPM)
        m = Fraction(min(tier.maintenance_ppm for tier in policy.margin.tiers), PPM)
        share = (1 + g) * ((1 - f) * g - t * m)
        return [math.ceil(share * PPM), 0] if share > 0 else [0]

    return hints


def _partial_reach(policy: Policy, story: Story) -> int | None:
    """The largest bound the story's extra bad debt breaks, from its two concrete runs."""
    from solvent.solver.partial_liquidation import extra_of

    return extra_of(policy, story).largest_broken()


def _partial_applies(policy: Policy) -> str:
    from solvent.solver.partial_liquidation import partial_applies

    return partial_applies(policy)


def _compare_partial(moves: int, move_ppm: int) -> Callable[[Policy, Any], str]:
    def compare(policy: Policy, t: Any) -> str:
        rule = policy.liquidation
        if rule.shortage_buffer_ppm is not None:
            how = f"one order that covers the margin shortage plus a buffer of {_pct(rule.shortage_buffer_ppm)} of notional"
        elif rule.partial_above_notional_quote is not None:
            how = f"one order of {_pct(rule.partial_share_ppm)} of a position above {rule.partial_above_notional_quote:,} quanta of notional per event"
        else:
            how = f"{_pct(rule.partial_close_ppm)} of the position first, the rest only while still below maintenance"
        cascade = f"{moves} moves of at most {_pct(move_ppm)} each"
        if t.status is ThresholdStatus.ALL:
            return f"this policy closes {how}: over {cascade} that adds no bad debt to what whole liquidation leaves"
        if t.status is ThresholdStatus.EXACT and t.value is not None:
            return (
                f"this policy closes {how}: over {cascade} the position it leaves open can add up to "
                f"{_pct(t.value)} of the long open interest in bad debt beyond what closing whole positions leaves"
            )
        if t.status is ThresholdStatus.NONE:
            return (
                f"this policy closes {how}: over {cascade} the position it leaves open can add more bad debt "
                "than the whole long open interest beyond what closing whole positions leaves"
            )
        if t.status is ThresholdStatus.BOUNDED:
            more = "" if t.refuted_at is None else f"more than {_pct(t.refuted_at)}"
            most = "" if t.proved_at is None else f"at most {_pct(t.proved_at)}"
            amount = f"{more} and {most}" if more and most else more or most
            rest = (
                ""
                if more and most
                else " (no bound that always holds was proved within the probes)"
                if more
                else " (how near it comes to that was not decided within the probes)"
            )
            return (
                f"this policy closes {how}: over {cascade} the position it leaves open can add {amount} of the "
                f"long open interest in bad debt beyond what closing whole positions leaves{rest}"
            )
        return ""

    return compare


#: Why safe-move and maintenance-for-leverage ask one trader against the book where a market
#: liquidation's fill slips (docs/solver-notes.md#the-rounding-lattice-one-trader-and-the-closest-marks-issue-18):
#: the claim is that no account is bankrupt after one move, and the step's first deficit is one
#: account's own (its move, then its liquidation against the book; nothing another trader does in
#: the step comes before a deficit), which a lone trader shows. There the boundary is a one-quantum
#: rounding of the slippage at one starting mark near the lowest price, which z3 decides mark by
#: mark on one trader (0.12-0.57M units a mark, Drift's safe move at 89,024) and not on two (4 of
#: 13 marks alone undecided at 3.75M each).
SLIPPAGE_ACCOUNTS_NOTE = (
    "one trader against the book: a move's first deficit is one account's own liquidation, and where "
    "the fill slips the boundary is a one-quantum rounding at one starting mark, which z3 decides on one "
    "trader and not within its units on two; --accounts 2 asks about two"
)

#: Why vault-loss-for-gap asks one trader against the book (docs/solver-notes.md#the-rounding-lattice-one-trader-and-the-closest-marks-issue-18):
#: each account the gap carries past its margin costs the vault at most its own deficit, and the
#: accounts that lose are on one side, whose notional is at most the long open interest, so the
#: share is largest for one account alone. Hyperliquid at two traders was one side only (175,000
#: undecided within 30M units: the bankrupt account's cash read as ``max(c, 0)`` on every path);
#: at one trader 175,000 is proved in 0.58M and 174,999 refuted in 1.1M.
VAULT_ACCOUNTS_NOTE = (
    "one trader against the book: each account a gap carries past its margin costs the vault at most its own "
    "deficit, and those accounts' notional is at most the long open interest, so one account shows the largest "
    "share; z3 left Hyperliquid's proof undecided at two traders; --accounts 2 asks about two"
)

#: Why penalty-bankrupts asks one trader against the book by default (docs/model.md, "How many
#: traders"; docs/solver-notes.md#penalty-bankrupts-one-trader-and-hints-from-the-tiers-issue-18):
#: the claim is about each liquidation, and a lone trader's own liquidation is what its penalty is
#: set against. A second trader adds only the paths where a layer charges it before its own turn
#: (ADL closing part of its position, a socialized loss or a haircut). Measured on Binance at
#: 480,000 ppm, two traders, the claim asked piece by piece with the payer's lemmas as facts: every
#: piece proved within 7.8M units but the one where alice's ADL serves bob before his own
#: liquidation (undecided at 15M; with his notional in the top tier alone, undecided within 5M on
#: 10 of his 12 starting tiers); one trader decides the whole question (469,042 ppm).
PENALTY_ACCOUNTS_NOTE = (
    "one trader against the book: the penalty is set against a lone trader's own liquidation; a second "
    "trader adds the paths where another's deficit charges it before its own turn (ADL, a socialized loss, "
    "a haircut), where z3 left Binance's proof undecided (the piece where alice's ADL serves bob, 15M "
    "units); --accounts 2 asks about two"
)


def _kept_share(policy: Policy, bounds: Bounds) -> Fraction:
    """The largest share of its notional a liquidated account can keep at its maintenance margin,
    read from the tiers and the bounds (a hint, never a verdict): in a tier of rate ``m`` less an
    amount ``A`` it keeps ``m − A / N`` at a notional ``N``, most at the largest ``N`` a trader
    reaches. A short opened with all of a cash balance ``C`` (the bounds' largest) at the tier's
    initial rate ``i`` (a notional of ``C / i``) and gapped up until its equity is its maintenance,
    ``C − (N − C / i) = m·N − A``, reaches ``N = (C + C / i + A) / (1 + m)``, within the tier's
    floors and the bounds' largest notional. Binance's top tier (1x, 50% less 42,148,145,000
    quanta) at 10¹² quanta: N ≈ 1.3614·10¹², 469,041.2 ppm, whose ceiling is its answer."""
    tiers = policy.margin.tiers
    best = Fraction(0)
    for k, t in enumerate(tiers):
        top = tiers[k + 1].floor_notional_quote - 1 if k + 1 < len(tiers) else bounds.max_lots * bounds.max_price
        cash = Fraction(bounds.max_quote)
        reach = (cash + cash * PPM / t.initial_ppm + t.maintenance_amount_quote) / (
            1 + Fraction(t.maintenance_ppm, PPM)
        )
        n = min(reach, Fraction(top))
        if n >= max(t.floor_notional_quote, 1):
            best = max(best, t.maintenance_ppm - Fraction(t.maintenance_amount_quote * PPM) / n)
    return best


def _penalty_hints(policy: Policy, bounds: Bounds) -> list[int]:
    """Where a liquidated account's equity, at most its maintenance margin, is left after the close
    and set against a penalty on what was closed. The share ``k`` of its notional it can keep
    (:func:`_kept_share`: the maintenance rate ``m`` of a tier with no amount), over the order's
    share ``f`` of the position where one order per event closes part of it (Hyperliquid's 20%),
    less the slippage ``s`` of a market liquidation: ``⌈k / f − s⌉``. Then the same with ``m`` for
    ``k`` and ``m`` itself. Measured: Binance 469,042 (its answer, where the maintenance rate alone
    left the bisection 21 probes), Hyperliquid 124,955 (2.5% less its second tier's amount, over
    20%; 19 probes), Drift and Mango 40,000 (5% less 1%; 15 and 16). The most specific first: a
    proof there and a refutation one ppm below decide the question in two probes. Hints order the
    probes only; each side is still proved or replayed."""
    m = max(t.maintenance_ppm for t in policy.margin.tiers)
    rule = policy.liquidation
    share = rule.partial_share_ppm if rule.partial_above_notional_quote is not None else PPM
    slip = rule.slippage_ppm if rule.execution.value == "market" else 0

    def left(kept: Fraction) -> int:
        return math.ceil(kept * PPM / share - slip)

    out = [left(_kept_share(policy, bounds)), left(Fraction(m)), m]
    return [v for i, v in enumerate(out) if 0 <= v <= PPM and v not in out[:i]]


def _penalty_setup(policy: Policy, value: int, bounds: Bounds) -> Setup:
    variant = attrs.evolve(policy, liquidation=attrs.evolve(policy.liquidation, penalty_ppm=value))
    return Setup(variant, LIQUIDATION_LEAVES_NOTHING, attrs.evolve(bounds, event_kinds=("mark",)))


# --- the answer against the policy's own parameter -----------------------------------------


def side(t: Any, x: int) -> str | None:
    """Which side of ``t``'s boundary the value ``x`` lies on, as far as the probes decided:
    "safe" (at or safer than the proved value), "unsafe" (at or riskier than the refuted one),
    or None (undecided in between, or nothing decided)."""
    largest = t.direction is Direction.LARGEST
    if t.status is ThresholdStatus.ALL:
        return "safe"
    if t.status is ThresholdStatus.NONE:
        return "unsafe"
    if t.proved_at is not None and (x <= t.proved_at if largest else x >= t.proved_at):
        return "safe"
    if t.refuted_at is not None and (x >= t.refuted_at if largest else x <= t.refuted_at):
        return "unsafe"
    return None


def _against(t: Any, x: int) -> str:
    """ "above it", "exactly it", "below it" for an exact answer; the side's words otherwise."""
    if t.status is ThresholdStatus.EXACT:
        return "above it" if x > t.value else "exactly it" if x == t.value else "below it"
    if t.status is ThresholdStatus.ALL:
        return "within the range where the claim always holds"
    if t.status is ThresholdStatus.NONE:
        return "within the range where it always fails"
    return {"safe": "on the proved side", "unsafe": "on the refuted side"}.get(side(t, x) or "", "")


def _placed(t: Any, x: int, head: str, safe: str, unsafe: str) -> str:
    """``head`` (the policy's own value ``x`` in words) followed by where ``x`` lies against
    ``t``'s boundary (:func:`_against`) and what that means (``safe`` or ``unsafe``); "" when
    nothing was decided, and "undecided" when ``x`` lies between the decided values."""
    if t.status in (ThresholdStatus.NOT_APPLICABLE, ThresholdStatus.UNKNOWN):
        return ""
    where = _against(t, x)
    if not where:
        return f"{head}: undecided against the boundary within the probes"
    return f"{head}, {where}, {safe if side(t, x) == 'safe' else unsafe}"


def _compare_penalty(policy: Policy, t: Any) -> str:
    x = policy.liquidation.penalty_ppm
    return _placed(
        t,
        x,
        f"this policy charges {_pct(x)}",
        "so every liquidation leaves the account nothing",
        "so a liquidation can leave the account some equity",
    )


def _tiers_allowing(policy: Policy, leverage: int) -> list[Tier]:
    return [t for t in policy.margin.tiers if t.initial_ppm <= initial_rate(leverage)]


def _compare_maintenance(leverage: int, gap_ppm: int) -> Callable[[Policy, Any], str]:
    def compare(policy: Policy, t: Any) -> str:
        allowing = _tiers_allowing(policy, leverage)
        if not allowing:
            loosest = min(tier.initial_ppm for tier in policy.margin.tiers)
            return f"this policy does not allow {leverage}x (its loosest initial rate is {_pct(loosest)})"
        x = min(tier.maintenance_ppm for tier in allowing)
        return _placed(
            t,
            x,
            f"this policy keeps {_pct(x)} maintenance where it allows {leverage}x (its loosest such tier)",
            f"so a {leverage}x position still above maintenance survives a {_pct(gap_ppm)} gap without bad debt",
            f"so a {leverage}x position still above maintenance can go bankrupt on a {_pct(gap_ppm)} gap",
        )

    return compare


def _compare_safe_move(policy: Policy, t: Any) -> str:
    x = min(tier.initial_ppm for tier in policy.margin.tiers)
    return _move_against_margin(t, x, f"this policy's loosest initial rate is {_pct(x)} ({_leverage(x)})")


def _compare_cross_move(policy: Policy, t: Any) -> str:
    """The move in one market against that market's own table: its loosest initial rate (the
    margin a position there opens with) and that tier's maintenance rate. A cross account's other
    markets' positions bring their own margin, so the one market's initial rate less what a
    liquidation costs is the answer unless closing them costs more than their margin covers."""
    spec = next((m for m in policy.market if m.name == t.market), None)
    if spec is None:
        return ""
    loosest = min(policy.market_margin(spec).tiers, key=lambda tier: tier.initial_ppm)
    x = loosest.initial_ppm
    table = "its [[market]] table" if spec.tiers else "[margin]'s tiers, which it takes"
    head = (
        f"{t.market}'s loosest initial rate is {_pct(x)} ({_leverage(x)}), its maintenance rate "
        f"{_pct(loosest.maintenance_ppm)} ({table})"
    )
    more = (
        "what the margin of the account's positions in the other markets pays beyond it (the least such "
        "position's margin against the largest notional this rate allows)"
    )
    return _move_against_margin(t, x, head, more)


def _move_against_margin(
    t: Any, x: int, head: str, more: str = "so a move larger than the margin still leaves no bad debt"
) -> str:
    """A safe move's answer against the initial rate ``x`` that ``head`` names (``more``: why an
    answer above it is)."""
    if t.status is not ThresholdStatus.EXACT:
        return _placed(
            t,
            x,
            head,
            "so a move as large as the margin leaves no bad debt",
            "so a move as large as the margin can leave bad debt",
        )
    if t.value == x:
        return f"{head}: exactly the answer, so a move as large as the margin is the last without bad debt"
    if t.value < x:
        return f"{head}: the answer is {x - t.value:,} ppm less, what a liquidation costs beyond the move (slippage, penalty, rounding)"
    return f"{head}: the answer is {t.value - x:,} ppm more, {more}"


def _compare_fund(gap_ppm: int) -> Callable[[Policy, Any], str]:
    """The fund's share against what the policy's own margin leaves of the gap: a position opened
    at the loosest initial rate ``i`` and gapped by ``g`` owes ``g − i`` of its notional beyond
    its margin, which is what the fund must hold when liquidation costs nothing more."""

    def compare(policy: Policy, t: Any) -> str:
        i = min(tier.initial_ppm for tier in policy.margin.tiers)
        x = max(gap_ppm - i, 0)
        head = (
            f"a {_pct(gap_ppm)} gap less this policy's loosest initial rate ({_pct(i)}) leaves "
            f"{_pct(x)} of the notional beyond the margin"
        )
        if t.status is ThresholdStatus.EXACT:
            if t.value == x:
                return f"{head}: exactly the answer, so the fund must hold every loss beyond the margin"
            if t.value > x:
                return f"{head}: the answer is {t.value - x:,} ppm more, what a liquidation costs beyond the move (slippage, penalty, rounding)"
            return f"{head}: the answer is {x - t.value:,} ppm less, what the liquidation recovers before the fund pays"
        return _placed(
            t,
            x,
            head,
            "so a fund of that share keeps the gap from ADL and haircuts",
            "so a fund of that share can leave a deficit to ADL or a haircut",
        )

    return compare


def _leverage(initial_ppm: int) -> str:
    value = Fraction(PPM, initial_ppm)
    return f"{value.numerator}x" if value.denominator == 1 else f"{float(value):.4g}x"


def questions(
    *,
    gap_ppm: int = DEFAULT_FUND_GAP_PPM,
    leverage: int = DEFAULT_LEVERAGE,
    maintenance_gap_ppm: int = DEFAULT_MAINTENANCE_GAP_PPM,
    moves: int = DEFAULT_CASCADE_MOVES,
    move_ppm: int = DEFAULT_CASCADE_MOVE_PPM,
) -> dict[str, Question]:
    """The threshold questions with their parameters."""
    if not 0 < gap_ppm <= PPM:
        raise ValueError(f"'gap_ppm' must be in 1..{PPM}: {gap_ppm}")
    if not 0 < maintenance_gap_ppm <= PPM:
        raise ValueError(f"'maintenance_gap_ppm' must be in 1..{PPM}: {maintenance_gap_ppm}")
    if not 1 <= leverage <= PPM:
        raise ValueError(f"'leverage' must be in 1..{PPM}: {leverage}")
    if not 0 < move_ppm <= PPM:
        raise ValueError(f"'move_ppm' must be in 1..{PPM}: {move_ppm}")
    if not 2 <= moves <= 8:
        raise ValueError(f"'moves' must be in 2..8 (a cascade: a later move after a partial liquidation): {moves}")
    tiers = lambda p: p.margin.tiers  # noqa: E731
    return {
        "safe-move": Question(
            "safe-move",
            "largest one-tick move with no bad debt",
            Direction.LARGEST,
            True,
            low=lambda p: 0,
            high=lambda p: PPM - 1,
            setup=_safe_move_setup,
            hints=_safe_move_hints,
            reach=_mark_move_ppm,
            accounts=lambda p: 1 if _slipping(p) else None,
            accounts_note=SLIPPAGE_ACCOUNTS_NOTE,
            compare=_compare_safe_move,
        ),
        "cross-market-safe-move": Question(
            "cross-market-safe-move",
            "largest one-tick move of one market with no bad debt, on a book of every market",
            Direction.LARGEST,
            True,
            low=lambda p: 0,
            high=lambda p: PPM - 1,
            setup=_cross_move_setup,
            hints=_safe_move_hints,
            reach=_mark_move_ppm,
            applies=lambda p: (
                ""
                if len(p.market_names) >= 2
                else "the policy declares one market, no [[market]] tables: safe-move asks it"
            ),
            accounts=lambda p: 1,
            accounts_note=(
                "one cross account holding every market against the book: its bad debt is its own "
                "equity less what closing its positions costs; --accounts 2 asks about two"
            ),
            compare=_compare_cross_move,
            per_market=True,
        ),
        "fund-for-gap": Question(
            "fund-for-gap",
            f"smallest insurance fund (share of open interest) with no ADL or haircut for a {_pct(gap_ppm)} gap",
            Direction.SMALLEST,
            True,
            low=lambda p: 0,
            high=lambda p: PPM,
            setup=_fund_setup(gap_ppm),
            hints=_fund_hints(gap_ppm),
            reach=_fund_share_ppm,
            accounts=lambda p: 1,
            accounts_note=FUND_ACCOUNTS_NOTE,
            applies=lambda p: "" if p.layer(InsuranceFund) is not None else "the policy has no insurance fund layer",
            compare=_compare_fund(gap_ppm),
        ),
        "maintenance-for-leverage": Question(
            "maintenance-for-leverage",
            f"smallest maintenance rate at {leverage}x for a {_pct(maintenance_gap_ppm)} gap with no bad debt",
            Direction.SMALLEST,
            False,
            low=lambda p: 0,
            high=lambda p: initial_rate(leverage),
            setup=_maintenance_setup(leverage, maintenance_gap_ppm),
            hints=_maintenance_hints(leverage, maintenance_gap_ppm),
            accounts=lambda p: 1 if _slipping(p) else None,
            accounts_note=SLIPPAGE_ACCOUNTS_NOTE,
            compare=_compare_maintenance(leverage, maintenance_gap_ppm),
        ),
        "penalty-bankrupts": Question(
            "penalty-bankrupts",
            "smallest liquidation penalty at which every liquidation leaves the account nothing",
            Direction.SMALLEST,
            False,
            low=lambda p: 0,
            high=lambda p: PPM,
            setup=_penalty_setup,
            hints=_penalty_hints,
            accounts=lambda p: 1,
            accounts_note=PENALTY_ACCOUNTS_NOTE,
            compare=_compare_penalty,
        ),
        "vault-loss-for-gap": Question(
            "vault-loss-for-gap",
            f"largest loss of a flat backstop vault (share of open interest) for a {_pct(gap_ppm)} gap",
            Direction.SMALLEST,
            True,
            low=lambda p: 0,
            high=lambda p: PPM,
            setup=_vault_setup(gap_ppm),
            # a bankrupt position's deficit is the gap less the margin it opened with
            hints=lambda p, b: [max(gap_ppm - min(t.initial_ppm for t in tiers(p)), 0)],
            applies=_vault_applies,
            accounts=lambda p: 1,
            accounts_note=VAULT_ACCOUNTS_NOTE,
            compare=_compare_vault(gap_ppm),
        ),
        "partial-liquidation-extra-bad-debt": Question(
            "partial-liquidation-extra-bad-debt",
            f"most bad debt partial liquidation adds to whole liquidation (share of open interest) over {moves} moves of at most {_pct(move_ppm)}",
            Direction.SMALLEST,
            True,
            low=lambda p: 0,
            high=lambda p: PPM,
            setup=_partial_setup(moves, move_ppm),
            hints=_partial_hints(moves, move_ppm),
            reach=_partial_reach,
            applies=_partial_applies,
            accounts=lambda p: 1,
            accounts_note=(
                "one trader against the book: the position a partial liquidation leaves open is one "
                "account's; --accounts 2 asks about two traders"
            ),
            compare=_compare_partial(moves, move_ppm),
        ),
    }


#: The questions asked by default (``solvent thresholds``, ``check --thresholds``, the gallery).
DEFAULT_IDS = ("safe-move", "fund-for-gap", "maintenance-for-leverage", "penalty-bankrupts", "vault-loss-for-gap")
#: Every question: the default ones, the cascade question (two runs of K moves each) and the move
#: of one market on a book of every market (one answer per market), asked by name.
QUESTION_IDS = (*DEFAULT_IDS, "partial-liquidation-extra-bad-debt", "cross-market-safe-move")


def _pct(ppm: int | Fraction) -> str:
    """ppm as an exact percentage: 8000 → '0.8%', 1/3 ppm → '0.0000333…%' is never produced (ints)."""
    value = Fraction(ppm) / 10_000
    if value.denominator == 1:
        return f"{value.numerator}%"
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return f"{text}%"


# --- answers --------------------------------------------------------------------------------


class ThresholdStatus(enum.Enum):
    EXACT = "exact"  # proved at value, refuted at the adjacent value
    BOUNDED = "bounded"  # proved at one value, refuted at another, undecided between
    ALL = "all"  # proved even at the riskiest end of the range
    NONE = "none"  # refuted even at the safest end of the range
    UNKNOWN = "unknown"  # nothing was decided within the probes and effort allowed
    NOT_APPLICABLE = "not-applicable"


#: The statuses that decide a question (exit 0 from ``solvent thresholds``).
DECIDED = frozenset({ThresholdStatus.EXACT, ThresholdStatus.ALL, ThresholdStatus.NONE, ThresholdStatus.NOT_APPLICABLE})

#: The schema of :func:`to_json`.
SCHEMA = "solvent.thresholds/1"


@attrs.frozen
class Probe:
    """One proof attempt at one value."""

    value: int
    verdict: Verdict
    seconds: float
    reason: str = ""
    #: the units the probe spent (``solvent.solver.effort``): the same on any machine
    units: int = 0


@attrs.frozen
class Threshold:
    """The answer to one question for one policy.

    ``proved_at``: the value nearest the boundary at which the claim was proved (``proof``);
    ``refuted_at``: the value nearest the boundary at which a replayed story breaks it
    (``counterexample``). EXACT when they are adjacent: the boundary is ``value``.
    """

    question: str
    title: str
    policy: str
    direction: Direction
    status: ThresholdStatus
    proved_at: int | None = None
    refuted_at: int | None = None
    proof: ProofResult | None = None
    counterexample: Counterexample | None = None
    probes: tuple[Probe, ...] = ()
    seconds: float = 0.0
    scope: str = ""
    claim: str = ""
    note: str = ""
    #: the answer against the policy's own parameter, in words ("" where none applies)
    comparison: str = ""
    #: the counterexample's starting book is the one these deposits and trades reach from
    #: ``empty`` (``solvent.solver.plain_book.opened``; None: a state they do not reach)
    empty: Book | None = None
    opening: tuple[Event, ...] = ()
    #: what of the story beyond the boundary could not be made plain, in words ("" when all was)
    story_note: str = ""
    #: the market whose move a per-market question asked about ("" for every other question)
    market: str = ""

    @property
    def value(self) -> int | None:
        """The boundary: the last proved value, when it is exact (or the whole range holds)."""
        return self.proved_at if self.status in (ThresholdStatus.EXACT, ThresholdStatus.ALL) else None

    @property
    def boundary(self) -> str:
        """The answer in a few words: "8,000 ppm (0.8%)", "between … and … ppm", "none: …"."""
        return self._parts()[0]

    def summary(self) -> str:
        """One line a person reads."""
        return f"{self.title}: " + "; ".join(self._parts())

    def _parts(self) -> list[str]:
        if self.status is ThresholdStatus.NOT_APPLICABLE:
            return [f"not applicable ({self.note})"]
        parts = []
        if self.status is ThresholdStatus.EXACT:
            parts.append(f"{self.value:,} ppm ({_pct(self.value)})")
        elif self.status is ThresholdStatus.ALL:
            parts.append(f"holds across the whole range, even at {self.proved_at:,} ppm ({_pct(self.proved_at)})")
        elif self.status is ThresholdStatus.NONE:
            parts.append(f"none: fails even at {self.refuted_at:,} ppm ({_pct(self.refuted_at)})")
        elif self.status is ThresholdStatus.BOUNDED and self.proved_at is not None and self.refuted_at is not None:
            lo, hi = sorted((self.proved_at, self.refuted_at))
            parts.append(f"between {lo:,} and {hi:,} ppm (undecided in between)")
        elif self.status is ThresholdStatus.BOUNDED:
            parts.append("one side only within its probes and effort")
        else:
            parts.append("unknown within its probes and effort")
        if self.proved_at is not None and self.status is not ThresholdStatus.ALL:
            parts.append(f"proved at {self.proved_at:,}")
        if self.refuted_at is not None and self.status is not ThresholdStatus.NONE:
            parts.append(f"refuted at {self.refuted_at:,} (replayed)")
        return parts


#: The lowest price the default bounds allow, in quote quanta per lot. At a price of a few quanta a
#: one-quantum rounding (a slippage rounded up, a fee rounded up) is a move of several percent, and
#: the boundary would describe that artefact; from 10⁴ quanta a rounding is at most 100 ppm.
DEFAULT_MIN_PRICE = 10_000


def default_bounds(**changes: Any) -> Bounds:
    """The scope of a threshold probe unless the caller says otherwise: two traders, one mark
    event, prices from :data:`DEFAULT_MIN_PRICE` to 10⁹, 30M units per solver question (about
    30 s on the reference machine, ``solvent.solver.effort``)."""
    return attrs.evolve(
        Bounds(accounts=2, events=1, effort=30 * UNITS_PER_SECOND, min_price=DEFAULT_MIN_PRICE), **changes
    )


#: Proof attempts one threshold may make: the hints, both ends, then a bisection (a range of 10⁶
#: ppm takes 20 halvings); a count, so the answer does not depend on the machine's speed.
MAX_PROBES = 40


@attrs.frozen
class Bisection:
    """Where one threshold search stands: the value nearest the boundary proved so far (with its
    proof), the one refuted so far (with its story), the values z3 left undecided, and every
    probe made, in order. Immutable: :meth:`record` returns the next state.

    ``safe_end`` and ``risky_end`` are the ends of the question's range: the safest value and the
    riskiest one (for a LARGEST question the safe values are ``[low, v]``, so ``low`` is safe).
    """

    direction: Direction
    safe_end: int
    risky_end: int
    max_probes: int
    proved: tuple[int, ProofResult] | None = None
    refuted: tuple[int, Counterexample] | None = None
    undecided: tuple[int, ...] = ()
    probes: tuple[Probe, ...] = ()

    @classmethod
    def over(cls, question: Question, policy: Policy, max_probes: int) -> Bisection:
        """Nothing decided yet over ``question``'s range for ``policy``."""
        low, high = question.low(policy), question.high(policy)
        largest = question.direction is Direction.LARGEST
        return cls(question.direction, low if largest else high, high if largest else low, max_probes)

    @property
    def _largest(self) -> bool:
        return self.direction is Direction.LARGEST

    def safer(self, a: int, b: int) -> bool:
        """``a`` is strictly on the safe side of ``b``."""
        return a < b if self._largest else a > b

    def riskier(self, value: int) -> int:
        """The value one ppm beyond ``value`` on the risky side."""
        return value + 1 if self._largest else value - 1

    @property
    def limit(self) -> int:
        """How far toward safety a refuting story may reach: the proved value, else one beyond the safe end."""
        if self.proved is not None:
            return self.proved[0]
        return self.safe_end - 1 if self._largest else self.safe_end + 1

    @property
    def exhausted(self) -> bool:
        """Every allowed probe has been made."""
        return len(self.probes) >= self.max_probes

    def decided(self, value: int) -> bool:
        """Probing ``value`` would say nothing new: it is at or safer than a proved value, at or
        riskier than a refuted one, or z3 already left it undecided."""
        if self.proved is not None and not self.safer(self.proved[0], value):
            return True
        if self.refuted is not None and not self.safer(value, self.refuted[0]):
            return True
        return value in self.undecided

    def candidates(self, hints: Sequence[int]) -> list[int]:
        """The first values to probe: each hint and the value just riskier, then the riskiest and the safest end."""
        out = []
        for hint in hints:
            out += [hint, self.riskier(hint)]
        return out + [self.risky_end, self.safe_end]

    def record(self, probe: Probe, result: ProofResult, *, reached: int | None = None) -> Bisection:
        """The state after ``probe`` (whose outcome is ``result``). A proof counts where it is
        riskier than the proof so far; a refutation with a story counts at ``reached`` (the safest
        value its story still breaks, at least ``probe.value``) where that is safer than the
        refutation so far; anything else z3 returned leaves the value undecided."""
        probes = self.probes + (probe,)
        value = probe.value
        if result.verdict is Verdict.PROVED:
            better = self.proved is None or self.safer(self.proved[0], value)
            return attrs.evolve(self, probes=probes, proved=(value, result) if better else self.proved)
        if result.verdict is Verdict.REFUTED and result.counterexample is not None:
            at = value if reached is None else reached
            better = self.refuted is None or self.safer(at, self.refuted[0])
            return attrs.evolve(self, probes=probes, refuted=(at, result.counterexample) if better else self.refuted)
        return attrs.evolve(self, probes=probes, undecided=self.undecided + (value,))

    def next_value(self) -> int | None:
        """The next value to probe between the riskiest proved and the safest refuted value, or None.

        A value z3 could not decide splits the interval; the middle of the widest part with no
        undecided value inside goes next (the larger start on a tie). None before both sides are
        known, or once no part is wider than one ppm."""
        if self.proved is None or self.refuted is None:
            return None
        lo, hi = sorted((self.proved[0], self.refuted[0]))
        marks = sorted({lo, hi, *(u for u in self.undecided if lo < u < hi)})
        gaps = [(b - a, a, b) for a, b in zip(marks, marks[1:], strict=False) if b - a > 1]
        if not gaps:
            return None
        _, a, b = max(gaps)
        return (a + b) // 2

    @property
    def status(self) -> ThresholdStatus:
        """What the probes decided (see :class:`ThresholdStatus`)."""
        proved, refuted = self.proved, self.refuted
        if proved is None and refuted is None:
            return ThresholdStatus.UNKNOWN
        if proved is not None and proved[0] == self.risky_end:
            return ThresholdStatus.ALL
        if refuted is not None and refuted[0] == self.safe_end:
            return ThresholdStatus.NONE
        if proved is not None and refuted is not None:
            return ThresholdStatus.EXACT if abs(proved[0] - refuted[0]) == 1 else ThresholdStatus.BOUNDED
        return ThresholdStatus.BOUNDED


#: A probe's schedule: after the build and the witness, its units go to these stages in turn,
#: each (phase, units) at most half of what is left: z3's exact nonlinear arithmetic and the
#: purified linear query with refinement, each first with a small amount, then larger ones; then
#: half of the rest to each. Measured (benchmarks/bench_thresholds.py): near a boundary either
#: phase may be the one that decides, the exact one usually within a few hundred thousand units
#: (Binance's safe move: 0.7M), the purified one sometimes spending millions on spurious models
#: first; a fixed third for the purified phase first (``StoryQuery.check_obligation``'s
#: portfolio) made most probes wait for it. The exact phase goes first with 2M units: after a
#: purified stage, the same exact query forked from the changed process needed more (Percolator's
#: fund for a 20% gap: proved in 1.8M units first, undecided within 4M after 1M purified).
#: Counts only, never seconds.
STAGES = (("exact", 2_000_000), ("purified", 1_000_000), ("exact", 4_000_000), ("purified", 4_000_000))


def stages(units: int) -> list[tuple[str, int]]:
    """The stages of a check with ``units`` (:data:`STAGES`, each at most half of what is left,
    then half of the rest to the exact phase and the rest to the purified one)."""
    out, left = [], units
    for phase, want in STAGES:
        take = min(want, left // 2)
        if take <= 0:
            break
        out.append((phase, take))
        left -= take
    return out + [("exact", left // 2), ("purified", max(left - left // 2, 1))] if left > 1 else out + [("purified", 1)]


#: The whole range of starting marks gets this share (1/n) of a probe's units; an undecided probe
#: then asks cell by cell (:func:`_cell_by_cell`) with the rest. A half: OKEx 2018's fund for a
#: 20% gap is proved whole at 100,000 ppm in 11.3M units (a quarter left it an interval), and
#: Drift's maintenance rate at 60,595 ppm still has enough for its cells (12M).
WHOLE_SHARE = 2

#: Each cell's check gets at most this share (1/n) of a probe's effort before it is split.
CELL_SHARE = 8

#: Only a cell below this multiple of the lowest price is split when undecided: there a rounding
#: sets the boundary and narrower cells decide (Drift's maintenance rate); above it, halving the
#: highest cell again and again spent a probe's units without deciding anything (Drift's penalty:
#: 16 cells between 897,687,132 and 10⁹ left), so such a probe stops there, undecided.
SPLIT_BELOW = 2

#: The cells' edges, as fractions (numerator, denominator) of the lowest price: narrow near it,
#: where a one-quantum rounding is largest against the price (100 ppm at 10⁴ quanta) and a
#: boundary set by rounding is hardest for z3, wide above. Measured on Drift's maintenance rate
#: for 10x (60,595 ppm): the whole range stayed undecided at 30M units; these ten cells were each
#: proved within 5M units, the cell just above the lowest price the costliest.
CELL_EDGES = ((101, 100), (103, 100), (106, 100), (11, 10), (5, 4), (3, 2), (2, 1), (10, 1), (100, 1))


def cell_edges(bounds: Bounds) -> list[int]:
    """The starting marks at which the cells begin: the lowest price, then :data:`CELL_EDGES`
    within the price bounds (increasing, each cell at least one quantum wide)."""
    edges = [bounds.min_price]
    for num, den in CELL_EDGES:
        edge = bounds.min_price * num // den
        if edges[-1] < edge <= bounds.max_price:
            edges.append(edge)
    return edges


def _edges_text(bounds: Bounds) -> str:
    edges = cell_edges(bounds)
    return ", ".join(f"from {e:,}" for e in edges) + f" to {bounds.max_price:,} quanta"


#: With a rounding model (``Setup.closeness``), the marks asked alone first: those whose value lies
#: within this many ppm of failing there (or beyond it), closest first, at most :data:`PINS`.
#: Measured on Drift's safe move at 89,024 ppm (one trader): each such mark proved alone in
#: 0.12-0.57M units, where a cell of 50-100 marks holding one stayed undecided at 3.75M, and the
#: cells between them in 0.1-0.3M each.
TIGHT_PPM = 10
PINS = 16

#: With a rounding model, a cell of several marks in the rounding region first gets this share
#: (1/n) of a probe's effort (0.94M of 30M), then is split at its closest mark: a cell holding
#: a near miss rarely decides whole, and its parts do in a fraction of that.
ROUNDING_CELL_SHARE = 32


def _pins(close: dict[int, int]) -> list[int]:
    """The marks a probe asks alone first (:data:`TIGHT_PPM`, :data:`PINS`), closest first."""
    near = sorted((abs(gap), p) for p, gap in close.items() if gap <= TIGHT_PPM)
    return [p for _, p in near[:PINS]]


def _split_at(low: int, high: int, close: dict[int, int]) -> list[tuple[int, int]]:
    """The cell ``[low, high)`` split by the rounding model: where it holds several marks within
    twice :data:`TIGHT_PPM` of failing, each of them alone (the closest last, so asked first) and the
    gaps between them whole; else around its closest mark, the rest on each side halved; without a
    model, at its geometric middle. Drift's safe move at 89,024: 21.7M units (25.2M splitting
    around the closest mark only: a cell of 10,470-10,568 holding three such marks was undecided
    four times at 0.94M before it was cut down to them)."""
    inside = [(abs(close[p]), p) for p in range(low, high) if p in close]
    if not inside:
        middle = min(max(math.isqrt(low * high), low + 1), high - 1)
        return [(low, middle), (middle, high)]
    near = sorted(p for gap, p in inside if gap <= 2 * TIGHT_PPM)
    if len(near) > 1:  # every mark near failing alone (closest asked first), the gaps between whole
        cuts = [low, *[x for p in near for x in (p, p + 1)], high]
        gaps = [(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=True) if a < b]
        return gaps + [(p, p + 1) for p in sorted(near, key=lambda p: (-abs(close[p]), -p))]
    _, t = min(inside)
    out = []
    for a, b in ((low, t), (t + 1, high)):  # what is left on each side of it, halved
        if b - a > 1:
            out += [(a, (a + b) // 2), ((a + b) // 2, b)]
        elif b > a:
            out.append((a, b))
    return out + [(t, t + 1)]


def _cells(s: Setup, close: dict[int, int]) -> list[tuple[int, int]]:
    """The cells a probe asks, as a stack (popped from the end): :func:`cell_edges`' cells from the
    highest down, each pinned mark (:func:`_pins`) cut out as a cell of its own and asked before
    them, closest first."""
    edges = cell_edges(s.bounds)
    cells = list(zip(edges, [*edges[1:], s.bounds.max_price + 1], strict=True))
    pins = _pins(close)
    for p in sorted(pins):
        at = next(i for i, (low, high) in enumerate(cells) if low <= p < high)
        low, high = cells[at]
        cells[at : at + 1] = [c for c in ((low, p), (p, p + 1), (p + 1, high)) if c[0] < c[1]]
    alone = [(p, p + 1) for p in pins]
    return [c for c in cells if c not in alone] + alone[::-1]


def _cell_by_cell(query: StoryQuery, s: Setup, units: int, extra: Any = None) -> tuple[Any, list[Any]]:
    """The claim decided separately on each cell of starting marks (:func:`cell_edges`), each
    within at most :data:`CELL_SHARE` of the probe's effort and together within ``units``: a proof
    on every cell is a proof (the cells cover the price bounds), a replayed story in any cell a
    refutation. A cell below :data:`SPLIT_BELOW` times the lowest price left undecided is split in
    two at its geometric middle, the halves asked in its place, until the units run out; any other
    undecided cell ends the probe (UNKNOWN). One query serves every cell (the cell is an extra constraint on
    the starting mark), from the highest cell down, so the same probe makes the same checks in the
    same order on any machine. ``extra``: a constraint conjoined to every cell (a move bound asked
    of a query built without it, :func:`staged_then_cells`).

    With a rounding model (``Setup.closeness``) the marks closest to failing are asked alone first
    (:func:`_cells`), a cell of several marks in the rounding region gets only
    :data:`ROUNDING_CELL_SHARE` of the effort, and one left undecided is split around its closest
    mark (:func:`_split_at`)."""
    import z3

    close = s.closeness() if s.closeness is not None else {}
    mark = _moving_mark(query.book, s.bounds)
    todo = _cells(s, close)
    answers: list[Answer] = []
    spent, proved = 0, 0
    while todo:
        low, high = todo.pop()
        rounding = high <= s.bounds.min_price * SPLIT_BELOW
        per = ROUNDING_CELL_SHARE if close and rounding and high - low > 1 else CELL_SHARE
        share = min(units - spent, max(s.bounds.effort // per, 1))
        if share <= 0:
            todo.append((low, high))
            break
        cell = z3.And(mark >= low, mark < high)
        answer = query.check_staged(s.claim, stages(share), extra=cell if extra is None else z3.And(extra, cell))
        stats = attrs.evolve(answer.stats, name=f"{answer.stats.name} (mark {low:,}..{high - 1:,})")
        answers.append(attrs.evolve(answer, stats=stats))
        spent += answer.stats.units
        if answer.verdict is Verdict.REFUTED:
            return answers[-1], answers
        if answer.verdict is Verdict.PROVED:
            proved += 1
        elif high - low > 1 and rounding:
            todo += _split_at(low, high, close)
        else:  # a cell beyond the rounding region undecided: splitting it did not help (Drift's penalty)
            reason = f"the starting marks {low:,}..{high - 1:,} stayed undecided within {units_text(share)} ({answer.reason})"
            return Answer(Verdict.UNKNOWN, QueryStats(s.claim.id, "unknown (cells)", 0.0), reason), answers
    if not todo:
        return Answer(Verdict.PROVED, QueryStats(s.claim.id, f"unsat in each of {proved} cells", 0.0)), answers
    low, high = todo[-1]
    reason = f"the starting marks {low:,}..{high - 1:,} stayed undecided ({len(todo)} cells left) when the probe's units ran out"
    return Answer(Verdict.UNKNOWN, QueryStats(s.claim.id, "unknown (cells)", 0.0), reason), answers


def _moving_mark(book: Book, bounds: Bounds) -> Any:
    """The starting mark of the market the events move (``Bounds.event_markets``, when it names
    one), else the first market's: the price whose rounding region the cells split."""
    if len(bounds.event_markets) == 1:
        return book.market_named(bounds.event_markets[0]).mark_quote
    return book.market.mark_quote


def staged_then_cells(
    query: StoryQuery, s: Setup, units: int, extra: Any = None, *, whole_first: bool = False
) -> tuple[Any, list[Any], str]:
    """A probe's checks on a built query within ``units``: the whole range of starting marks with
    1/:data:`WHOLE_SHARE` of them (:func:`stages`), then, if z3 left it undecided, cell by cell
    with the rest (:func:`_cell_by_cell`). ``extra``: a constraint conjoined to every check (the
    probe's move bound on a query built without one, ``solver.smallest_move``). The answer, the
    stats of every check, and the method's note when it was proved cell by cell ("" otherwise).
    ``whole_first``: the whole range is asked first even near the rounding model's lattice (the
    query holds the proved lemma per lot, :class:`SlipLemma`)."""
    close = s.closeness() if s.closeness is not None else {}
    if close and _pins(close) and not whole_first:
        # a value within a few ppm of the rounding model's lattice: the whole range holds the near
        # miss and stays undecided (Drift's safe move at 89,024: 15M units, one trader), so the
        # probe goes cell by cell at once, its closest marks first
        answer, queries, note = Answer(Verdict.UNKNOWN, QueryStats(s.claim.id, "skipped", 0.0)), [], ""
    else:
        answer = query.check_staged(s.claim, stages(units // WHOLE_SHARE), extra=extra)
        queries, note = [answer.stats], ""
    if answer.verdict is Verdict.UNKNOWN:
        answer, cells = _cell_by_cell(query, s, units - answer.stats.units, extra)
        queries += [a.stats for a in cells]
        if answer.verdict is Verdict.PROVED:
            note = f"; proved cell by cell over the starting mark ({answer.stats.result}; first cells {_edges_text(s.bounds)})"
    return answer, queries, note


def _decide(s: Setup) -> tuple[ProofResult, int | None]:
    """One probe: the claim at one value, decided on one symbolic book of ``s.bounds.accounts``
    traders (the engine's own ``transition`` on z3 terms, as :func:`solvent.solver.prove.prove`
    runs it), staged by :func:`stages` within ``s.bounds.effort``; and the refuting model's total
    magnitude Σ|x| (for :func:`_smallest`). A refutation is a story replayed on the concrete engine.

    Unlike ``prove``, no smaller books are tried first: a probe near a boundary is rarely refuted
    more cheaply on fewer traders (Binance's safe move one ppm beyond: one trader spent its quarter
    of the effort undecided, two traders refuted in 0.6M units), and a proof needs N itself. The
    whole range of starting marks gets 1/:data:`WHOLE_SHARE` of the units; a probe it leaves
    undecided is asked cell by cell over the starting mark with the rest (:func:`_cell_by_cell`)."""
    from solvent.solver.prove import BOUNDED, PURIFIED, scope_of

    bounds = s.bounds
    scope = scope_of(bounds)
    base = ProofResult(s.policy.name, s.claim.id, Verdict.UNKNOWN, scope, 0.0, BOUNDED)
    lemma: list[QueryStats] = []
    facts = None
    if s.slip_lemma is not None:
        proof = s.slip_lemma.prove(s.policy, bounds)
        lemma.append(QueryStats("the lemma per lot (slipped close)", proof.result, proof.seconds, units=proof.units))
        if proof.result == "unsat":
            facts = s.slip_lemma.facts(s.policy, bounds)
    try:
        query = StoryQuery(s.policy, s.claim, bounds, obligations=(s.claim,), lemma_facts=facts)
    except OutOfEffort as stop:
        stats = QueryStats("build", "out of effort", 0.0, units=stop.limit)
        return attrs.evolve(base, reason=stop.reason, queries=(*lemma, stats)), None
    method = BOUNDED + ("" if query.exact else PURIFIED) + ("" if facts is None else SLIP_LEMMA_NOTE)
    queries = [*lemma, QueryStats("build", "built", query.build_seconds, units=query.build_units)]
    witness = query.check_assumptions()
    queries.append(witness.stats)
    base = attrs.evolve(base, method=method, assumptions=tuple(a.name for a in query.assumptions))
    if witness.verdict is Verdict.VACUOUS:
        return attrs.evolve(
            base,
            verdict=Verdict.VACUOUS,
            reason=witness.reason,
            conflicting=witness.conflicting,
            queries=tuple(queries),
        ), None
    if witness.verdict is not Verdict.WITNESSED:
        return attrs.evolve(base, reason=f"assumptions: {witness.reason}", queries=tuple(queries)), None
    left = query.solve_units - witness.stats.units - sum(q.units for q in lemma)
    answer, checks, note = staged_then_cells(query, s, left, whole_first=facts is not None)
    queries += checks
    if note:
        method += note
        base = attrs.evolve(base, method=method)
    reason = answer.reason
    if answer.verdict is Verdict.PROVED and answer.stats.result == "unsat (no symbolic case)":
        reason = TRIVIALLY
    obligation = ObligationResult(s.claim.id, answer.verdict, reason, scope)
    result = attrs.evolve(
        base,
        verdict=answer.verdict,
        reason="" if answer.verdict is Verdict.PROVED else reason,
        obligations=(obligation,),
        counterexample=answer.counterexample,
        queries=tuple(queries),
        witness=witness.replay.story if witness.replay is not None else None,
    )
    return result, answer.size


def _probe(
    question: Question, policy: Policy, bounds: Bounds, state: Bisection, value: int, sizes: dict[int, int]
) -> Bisection:
    """One proof attempt at ``value`` from a fresh z3 context (:func:`_decide`); a refutation is
    carried as far toward safety as its story still breaks the claim (:func:`_reached`), and its
    Σ|x| kept in ``sizes`` (by the counterexample's id). Conflicting assumptions are an error, not a probe."""
    s = question.setup(policy, value, bounds)
    t0 = time.perf_counter()
    with effort.question():  # each probe's answer independent of the probes before it
        result, size = (s.decide or _decide)(s)
    probe = Probe(value, result.verdict, time.perf_counter() - t0, result.reason[:200], units=result.units)
    if result.verdict is Verdict.VACUOUS:
        raise ValueError(f"threshold {question.id!r} at {value}: the assumptions conflict ({result.reason})")
    reached = None
    if result.verdict is Verdict.REFUTED and result.counterexample is not None:
        if size is not None:
            sizes[id(result.counterexample)] = size
        reached = _reached(question, policy, value, result.counterexample, bounds, state.safer, state.limit)
    return state.record(probe, result, reached=reached)


def threshold(
    policy: Policy | str,
    question: str | Question,
    bounds: Bounds | None = None,
    *,
    max_probes: int = MAX_PROBES,
    minimize: bool = True,
    on_probe: Callable[[Bisection], None] | None = None,
    market: str = "",
    **params: int,
) -> Threshold:
    """The exact boundary for ``question`` (an id of :func:`questions` or a :class:`Question`).

    ``bounds``: the scope of every probe (default: :func:`default_bounds`).
    ``max_probes``: stop after this many proof attempts and report what was decided (BOUNDED or
    UNKNOWN); each attempt has the bounds' effort. Both are counts, never seconds.
    ``minimize``: shrink the final counterexample to its least total magnitude. ``on_probe``: told
    the search's state after each probe (a benchmark that stops a search part-way still reports
    what it had decided: the proved and refuted values so far). ``market``: the market a
    per-market question moves (``Question.per_market``; default the policy's first). ``params``:
    ``gap_ppm``, ``leverage``, ``maintenance_gap_ppm`` for :func:`questions`.

    The probes: each hint and the value just riskier, the riskiest end, the safest end (skipping
    values outside the range or already decided), then a bisection (:meth:`Bisection.next_value`).
    """
    started = time.perf_counter()
    policy = resolve_policy(policy) if isinstance(policy, str) else policy
    if isinstance(question, str):
        table = questions(**params)
        if question not in table:
            raise KeyError(f"unknown threshold question {question!r}; known: {', '.join(QUESTION_IDS)}")
        question = table[question]
    notes = []
    fewer = question.accounts(policy)
    if bounds is None:
        bounds = default_bounds(**({"accounts": fewer} if fewer else {}))
    if question.accounts_note and fewer is not None and bounds.accounts == fewer:
        notes.append(question.accounts_note)
    why_not = question.applies(policy)
    title = question.title
    if question.per_market and not why_not:
        market, bounds = _on_every_market(policy, market, bounds)
        others = [m for m in policy.market_names if m != market]
        title = f"largest one-tick move of {market} with no bad debt, a cross account holding {', '.join(others)} too"
    elif market and not question.per_market:
        raise ValueError(
            f"'market' is asked only of a per-market question (cross-market-safe-move), not {question.id!r}"
        )
    if why_not:
        blank = Threshold(question.id, title, policy.name, question.direction, ThresholdStatus.UNKNOWN)
        return attrs.evolve(blank, status=ThresholdStatus.NOT_APPLICABLE, note=why_not, market=market)

    state = Bisection.over(question, policy, max_probes)
    sizes: dict[int, int] = {}
    for value in state.candidates(question.hints(policy, bounds)):
        if state.exhausted:
            break
        if _inside(value, question, policy) and not state.decided(value):
            state = _probe(question, policy, bounds, state, value, sizes)
            if on_probe is not None:
                on_probe(state)
    while not state.exhausted and (value := state.next_value()) is not None:
        state = _probe(question, policy, bounds, state, value, sizes)
        if on_probe is not None:
            on_probe(state)

    status = state.status
    undecided = [p for p in state.probes if p.verdict not in (Verdict.PROVED, Verdict.REFUTED)]
    if status not in DECIDED and undecided:
        last = undecided[-1]
        notes.append(
            f"z3 left {len(undecided)} value{'s' if len(undecided) > 1 else ''} undecided within "
            f"{units_text(bounds.effort)} each (at {last.value:,}: {last.reason or last.verdict.value})"
        )
    proof = state.proved[1] if state.proved else None
    cx = state.refuted[1] if state.refuted else None
    told = None if cx is None else Told(cx, note="shown as z3 found it (not minimized)")
    if (
        minimize
        and status in (ThresholdStatus.EXACT, ThresholdStatus.BOUNDED, ThresholdStatus.NONE)
        and cx is not None
        and not state.exhausted
    ):
        told = _smallest(question, policy, state.refuted[0], bounds, cx, size=sizes.get(id(cx)))
    if not question.monotone:
        notes.append(
            "the parameter changes the policy: each side is proved, but that no value beyond the boundary flips back is assumed by the bisection"
        )
    moved = f"mark in {market}" if market else "mark"
    scope = (proof.scope.text if proof is not None else "") or f"N ≤ {bounds.accounts}, K ≤ {bounds.events} ({moved})"
    answer = Threshold(
        question.id,
        title,
        policy.name,
        question.direction,
        status,
        proved_at=state.proved[0] if state.proved else None,
        refuted_at=state.refuted[0] if state.refuted else None,
        proof=proof,
        counterexample=None if told is None else told.counterexample,
        empty=None if told is None else told.empty,
        opening=() if told is None else told.opening,
        story_note="" if told is None else told.note,
        probes=state.probes,
        seconds=time.perf_counter() - started,
        scope=scope,
        claim=question.setup(policy, state.safe_end, bounds).claim.claim,
        note="; ".join(notes),
        market=market,
    )
    return attrs.evolve(answer, comparison=question.compare(policy, answer))


def _on_every_market(policy: Policy, market: str, bounds: Bounds) -> tuple[str, Bounds]:
    """A per-market question's market (the policy's first when none is named) and its bounds: a
    book of every market the policy declares, each on its own table (``bounds.for_policy``), the
    events in ``market`` only (``Bounds.event_markets``). A name the policy does not declare is a
    ``ValueError`` naming the markets it has."""
    names = policy.market_names
    market = market or names[0]
    if market not in names:
        raise ValueError(f"'market' must be one of the markets {policy.name} declares ({', '.join(names)}): {market!r}")
    return market, attrs.evolve(for_policy(bounds, policy), event_markets=(market,))


def _inside(value: int, question: Question, policy: Policy) -> bool:
    return question.low(policy) <= value <= question.high(policy)


def _reached(
    question: Question,
    policy: Policy,
    value: int,
    cx: Counterexample,
    bounds: Bounds,
    safer: Callable[[int, int], bool],
    limit: int,
) -> int:
    """The safest value at which the refuting story still breaks the claim, each candidate checked
    by replaying the story on the concrete engine under that value's policy and bounds.

    The question's own formula (``Question.reach``) is tried first; then a bisection by concrete
    replays (milliseconds each) between that and ``limit`` (the proved value, or the safe end).
    Every value returned was replayed; a story that stops breaking the claim part-way is handled
    by keeping the last value it broke at.
    """

    def breaks(at: int) -> bool:
        if not _inside(at, question, policy):
            return False
        s = question.setup(policy, at, bounds)
        try:
            if s.breaks is not None:
                return s.breaks(cx.story)
            return replay(s.policy, s.claim, cx.story, s.bounds).violates
        except ValueError:  # the value makes an invalid policy (a validator refused it)
            return False

    best = value
    formula = question.reach(policy, cx.story)
    if formula is not None and safer(formula, best) and breaks(formula):
        best = formula
    far = limit
    while abs(far - best) > 1:
        middle = (best + far) // 2
        if breaks(middle):
            best = middle
        else:
            far = middle
    return best


#: The most units the final counterexample's shrinking may spend (a quarter of a probe's effort
#: when that is less): it makes the story readable, it decides nothing.
SHRINK_UNITS = 2 * UNITS_PER_SECOND

#: The move a story beyond a boundary is first asked within, where its question bounds none
#: (a choice: a one-tick move of 10% is what BTC did on 12 March 2020, docs/venues.md)
NEAR_MOVE_PPM = 100_000


@attrs.frozen
class Told:
    """The story beyond a boundary as it is shown: the counterexample (one step from the book
    ``opening`` reaches from ``empty``, when it is reached), and ``note``: what could not be made
    plain or was not tried, in words (``solvent.solver.plain_book``)."""

    counterexample: Counterexample
    empty: Book | None = None
    opening: tuple[Event, ...] = ()
    note: str = ""


def _smallest(*args: Any, **kwargs: Any) -> Told:
    """:func:`_smallest_story` asked as one question (``effort.question``: a fresh z3 context, the
    collector held off), so the story shown is the same in any process."""
    with effort.question():
        return _smallest_story(*args, **kwargs)


def _smallest_story(
    question: Question, policy: Policy, value: int, bounds: Bounds, cx: Counterexample, *, size: int | None = None
) -> Told:
    """The counterexample at ``value`` as a person reads it, in two parts (docs/model.md):

    1. **z3, near the policy's scale.** On one purified query built at ``value`` with as many
       traders as the story has, within :data:`SHRINK_UNITS`: a story whose starting mark lies
       within ``plain_book.MARK_SPAN`` times the policy's own (the scenarios' lot value), then
       the least power of ten above its total magnitude Σ|x| (a binary search over the decades
       below the story's own ``size``). Without a story near the scale, z3's own story is shrunk.
    2. **On the concrete engine** (``plain_book.plain_story``, the path ``solvent prove``'s
       stories take): numbers z3 left arbitrary set plain, bystanders emptied, the book divided
       down and each balance cut to the least that fails, then the book rebuilt from an empty one
       by deposits and trades at the mark, which the report shows as those events.

    Every story returned breaks the claim at ``value`` within its bounds on the concrete engine
    (replayed once more at the end: :class:`SpuriousCounterexample` if not). A question judged by
    two runs (``Setup.decide``) is shown as found."""
    import z3

    s = question.setup(policy, value, bounds)
    if s.decide is not None:
        return Told(cx, note="shown as z3 found it: the question compares two runs of the engine")
    n = max(len(cx.story.book.traders), 1)
    notes = []
    best = cx
    try:
        query = StoryQuery(s.policy, s.claim, attrs.evolve(s.bounds, accounts=n), obligations=(s.claim,))
    except OutOfEffort:
        query = None  # the refutation stands as found; only its shrinking is skipped
    if query is not None:
        budget = min(bounds.effort // 4, SHRINK_UNITS)
        scale, mark = scale_mark(s.policy), _moving_mark(query.book, s.bounds)
        near = z3.And(mark >= max(scale // MARK_SPAN, 1), mark <= scale * MARK_SPAN)
        tries = [near]
        event = query.slots[0].variants[0].event if len(query.slots) == 1 else None
        if isinstance(event, MarkPrice) and (s.bounds.max_move_ppm or PPM) > NEAR_MOVE_PPM:
            # a question with no move bound of its own (the penalty's) first asks for a move a
            # person has seen: dYdX's penalty story tripled the mark where 10% shows the same
            price = event.price_quote
            small = z3.And(price * PPM <= mark * (PPM + NEAR_MOVE_PPM), price * PPM >= mark * (PPM - NEAR_MOVE_PPM))
            tries.insert(0, z3.And(near, small))
        spent = 0
        for extra in tries:
            # the exact phase first, as a probe's (Binance's safe move at 8,001 ppm: a story from
            # a mark of 826,720 in 0.2M exact units, none in 1M purified ones)
            share = budget // (4 * len(tries))
            answer = query.check_staged(s.claim, [("exact", share), ("purified", share)], extra=extra)
            spent += answer.stats.units
            if answer.verdict is Verdict.REFUTED:
                break
        if answer.verdict is Verdict.REFUTED and answer.counterexample is not None and answer.size is not None:
            best, size, within = answer.counterexample, answer.size, extra
        else:
            within = z3.BoolVal(True)
            if answer.verdict is Verdict.PROVED:  # a counterexample exists only beyond the scale
                notes.append(
                    f"z3 proved that no story starts within {MARK_SPAN}x of the policy's mark of {scale:,} quanta"
                )
        # a story with Σ|x| ≤ 10^high is known; none with Σ|x| ≤ 10^(low - 1) was found. The
        # purified (linear) phase only: z3's nonlinear arithmetic under a bound on Σ|x| spent a
        # minute on 4M units where the linear query answers in a second (Binance's safe move)
        low, high = 0, len(str(size)) if size is not None else 0
        while low < high and spent < budget:
            middle = (low + high) // 2
            extra = z3.And(within, query.size <= 10**middle)
            answer = query.check_staged(s.claim, [("purified", budget - spent)], extra=extra)
            spent += answer.stats.units
            if answer.verdict is Verdict.REFUTED and answer.counterexample is not None and answer.size is not None:
                best, high = answer.counterexample, min(middle, len(str(answer.size)))
            else:
                low = middle + 1
    plain = plain_story(s.policy, s.claim, best.story, s.bounds)
    final = replay(s.policy, s.claim, plain.story, s.bounds)
    if not final.violates:
        raise SpuriousCounterexample(
            f"the story beyond the {question.id!r} boundary does not break {s.claim.id!r} at {value:,} on the "
            f"concrete engine ({', '.join(final.outside) or final.rejected or 'the claim holds on replay'})\n"
            f"policy: {policy.name}\nstory: {plain.story!r}"
        )
    notes += [plain.note] if plain.note else []
    told = Counterexample(final.story, final.steps, final.failed_at, s.claim.id, final.detail)
    traders = len(final.story.book.traders)
    how = "from an empty book by deposits and trades" if plain.reached else "from a state"
    told = attrs.evolve(told, detail=f"{final.detail} ({traders} trader{'s' if traders > 1 else ''}, {how})")
    return Told(told, plain.empty, plain.opening, "; ".join(notes))


def thresholds(
    policy: Policy | str,
    bounds: Bounds | None = None,
    *,
    ids: Sequence[str] = DEFAULT_IDS,
    max_probes: int = MAX_PROBES,
    minimize: bool = True,
    **params: int,
) -> list[Threshold]:
    """Every threshold question (or those in ``ids``) for one policy; a per-market question once
    for each market it declares (:func:`markets_asked`)."""
    policy = resolve_policy(policy) if isinstance(policy, str) else policy
    table = questions(**params)
    unknown = [i for i in ids if i not in table]
    if unknown:
        raise KeyError(f"unknown threshold question {unknown[0]!r}; known: {', '.join(QUESTION_IDS)}")
    return [
        threshold(policy, table[i], bounds, max_probes=max_probes, minimize=minimize, market=market)
        for i in ids
        for market in markets_asked(policy, table[i])
    ]


def markets_asked(policy: Policy, question: Question, only: Sequence[str] = ()) -> tuple[str, ...]:
    """The markets a question is asked in: for a per-market question on a policy of several
    markets, each it declares (those in ``only`` when given, in the policy's order); ``("",)``
    otherwise (one answer, no market). A name in ``only`` the policy does not declare is a
    ``ValueError`` naming those it has."""
    names = policy.market_names
    unknown = [m for m in only if m not in names]
    if unknown:
        has = f"its markets: {', '.join(names)}" if names else "it declares no [[market]] tables: one market"
        raise ValueError(f"'{unknown[0]}' is not a market of {policy.name} ({has})")
    if not question.per_market or len(names) < 2:
        return ("",)
    return tuple(m for m in names if not only or m in only)


def to_data(t: Threshold) -> dict[str, Any]:
    """One answer as plain data: the boundary, both sides' evidence and the probes."""
    from solvent.properties.findings import story_to_data

    cx = t.counterexample
    return {
        "question": t.question,
        **({"market": t.market} if t.market else {}),
        "title": t.title,
        "direction": t.direction.value,
        "status": t.status.value,
        "value_ppm": t.value,
        "proved_at_ppm": t.proved_at,
        "refuted_at_ppm": t.refuted_at,
        "claim": t.claim,
        "scope": t.scope,
        "note": t.note,
        "comparison": t.comparison,
        "seconds": round(t.seconds, 3),
        "counterexample": None
        if cx is None
        else {
            "detail": cx.detail,
            "step": cx.step_index,
            "story": story_to_data(cx.story),
            "note": t.story_note,
            "from_empty": None if t.empty is None else story_to_data(Story(t.empty, t.opening)),
        },
        "probes": [
            {
                "value_ppm": p.value,
                "verdict": p.verdict.value,
                "seconds": round(p.seconds, 3),
                "units": p.units,
                "reason": p.reason,
            }
            for p in t.probes
        ],
    }


def to_json(policy: Policy, results: Sequence[Threshold]) -> dict[str, Any]:
    """The answers for one policy, schema-versioned (:data:`SCHEMA`)."""
    return {"schema": SCHEMA, "policy": policy.name, "thresholds": [to_data(t) for t in results]}


__all__ = [
    "DECIDED",
    "SCHEMA",
    "to_data",
    "to_json",
    "DEFAULT_CASCADE_MOVES",
    "DEFAULT_CASCADE_MOVE_PPM",
    "DEFAULT_IDS",
    "DEFAULT_FUND_GAP_PPM",
    "DEFAULT_LEVERAGE",
    "DEFAULT_MAINTENANCE_GAP_PPM",
    "DEFAULT_MIN_PRICE",
    "FUND_ACCOUNTS_NOTE",
    "Bisection",
    "Direction",
    "LIQUIDATION_LEAVES_NOTHING",
    "NO_HAIRCUT_LAYER",
    "NO_BAD_DEBT",
    "NO_CROSS_BAD_DEBT",
    "Probe",
    "QUESTION_IDS",
    "Question",
    "ThresholdStatus",
    "Threshold",
    "default_bounds",
    "initial_rate",
    "markets_asked",
    "moving_margin",
    "questions",
    "side",
    "staged_then_cells",
    "vault_loss_within",
    "threshold",
    "thresholds",
]

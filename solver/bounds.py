"""What a proof covers: how many accounts and events, which event kinds, and the value ranges.

A :class:`Bounds` is the "within stated bounds" of a verdict. Every number is an integer in the
engine's own units (quote quanta, lots, quote quanta per lot, ppm); a question's effort is in
deterministic units (``solvent.solver.effort``), never seconds. Validation follows the project's message shape:
``'<field>' must be <op> <bound>: <value>``.
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.arith import PPM
from solvent.rules.settlement import funding_cap_ppm
from solvent.solver.effort import MAX_UNITS, UNITS_PER_SECOND, safety_net_s

#: Event kinds a proof may draw each event from (CLI spelling → what the slot may hold).
EVENT_KINDS = (
    "mark",
    "funding",
    "deposit",
    "withdraw",
    "trade",
    "spot-deposit",
    "asset-price",
    "asset-deposit",
    "asset-withdraw",
    "interest",
    "margin",
    "final-settlement",
)

#: the event kind of a funding payment, whose sweep moves no mark (``Ctx.mark_moved`` false): the
#: kind ``solver.kind_split`` asks on its own and ``solver.deficit_once`` refuses its lemma at
FUNDING = "funding"

#: the kinds that act on a collateral asset (they need ``Bounds.assets`` >= 1); ``interest`` is a
#: lent asset's index step (``rules.lending``), rejected on an asset the policy does not lend
ASSET_KINDS = ("asset-price", "asset-deposit", "asset-withdraw", "interest")

#: What the starting traders are assumed to satisfy (``Bounds.start_margin``).
START_MARGINS = ("initial", "maintenance", "solvent", "start-mark", "solvent-ghost")
#: the induction's premise where ADL's queue may skip: solvent, and every trader within the ghost
#: invariant at one price the book shares (``solver.ghost_start``)
GHOST_START = "solvent-ghost"

#: Which starting books a proof ranges over (``Bounds.start``): every well-formed book, or only a
#: book just funded (every account flat, nothing behind it but deposits), as a venue's day starts,
#: or a book where only the traders have traded (the system accounts as a funded book's).
START_BOOKS = ("well-formed", "funded", "traded")

#: the most markets a symbolic book holds (docs/portfolio.md: M ≤ 3 at first)
MAX_MARKETS = 3

#: the most collateral assets a symbolic book holds (docs/portfolio.md decision 8: A ≤ 3 at first)
MAX_ASSETS = 3

TRADER_NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj")


def _at_least(minimum: int):
    def check(_inst: Any, attribute: attrs.Attribute, value: Any) -> None:
        if type(value) is not int:
            raise ValueError(f"'{attribute.name}' must be an integer: {value!r}")
        if value < minimum:
            raise ValueError(f"'{attribute.name}' must be >= {minimum}: {value}")

    return check


def _at_most(maximum: int):
    def check(_inst: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value > maximum:
            raise ValueError(f"'{attribute.name}' must be <= {maximum:,}: {value}")

    return check


def _kinds(_inst: Any, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    if not value:
        raise ValueError(f"'{attribute.name}' must name at least one of {', '.join(EVENT_KINDS)}: ()")
    for kind in value:
        if kind not in EVENT_KINDS:
            raise ValueError(f"'{attribute.name}' must be among {', '.join(EVENT_KINDS)}: {kind!r}")


def _grid(_inst: Any, attribute: attrs.Attribute, value: tuple[int, ...]) -> None:
    for price in value:
        if type(price) is not int or price < 1:
            raise ValueError(f"'{attribute.name}' must hold integer prices >= 1: {price!r}")


@attrs.frozen
class Bounds:
    """The scope of one proof.

    ``accounts`` traders (besides the venue's system accounts), ``events`` events in a row, each of
    one of ``event_kinds``. Balances lie in ``[-max_quote, max_quote]`` (pools and spot are
    non-negative), positions in ``[-max_lots, max_lots]``, prices in ``[min_price, max_price]``,
    funding rates in ``[-max_rate_ppm, max_rate_ppm]``. With a ``price_grid`` every price (the
    starting mark and each mark event) is one of its values instead, one query per combination:
    ``size × price`` is then linear, but the verdict covers only those prices.

    Three optional assumptions narrow the books and events a threshold question ranges over
    (``solvent.solver.thresholds``): ``max_move_ppm`` (each mark event moves the price by at most
    that share of the mark before it, either way), ``start_margin`` ("initial": every trader covers
    initial margin, as just after opening; "maintenance": only maintenance margin, as a position
    that drifted toward its liquidation price; "solvent": not liquidatable and worth at least zero,
    the premise a sequence of mark moves keeps; "start-mark": worth at least zero and at least an
    initial-margin holder of its lots from the story's first mark, ``solver.start_mark``'s premise) and ``min_fund_ppm`` (the insurance fund holds at
    least that share of the long open interest's notional at the starting mark).
    """

    accounts: int = attrs.field(default=3, validator=_at_least(1))
    events: int = attrs.field(default=1, validator=_at_least(1))
    event_kinds: tuple[str, ...] = attrs.field(default=("mark",), converter=tuple, validator=_kinds)
    max_quote: int = attrs.field(default=10**12, validator=_at_least(1))
    max_lots: int = attrs.field(default=10**6, validator=_at_least(1))
    min_price: int = attrs.field(default=1, validator=_at_least(1))
    max_price: int = attrs.field(default=10**9, validator=_at_least(1))
    max_rate_ppm: int = attrs.field(default=PPM, validator=_at_least(0))
    price_grid: tuple[int, ...] = attrs.field(default=(), converter=tuple, validator=_grid)
    #: units per question, building included (``solvent.solver.effort``; 60M: about a minute on
    #: the reference machine), so a verdict does not depend on the machine's load
    effort: int = attrs.field(default=60 * UNITS_PER_SECOND, validator=[_at_least(1), _at_most(MAX_UNITS)])
    #: the wall-clock safety net per solver check, in seconds (None: ``effort.safety_net_s``)
    safety_s: float | None = attrs.field(default=None)
    #: counterexample-guided refinement rounds before a purified query gives up (UNKNOWN)
    refinements: int = attrs.field(default=40, validator=_at_least(0))
    #: purify products and quotients (sound over-approximation + refinement); False: exact NIA
    linearize: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    #: every mark event moves the price at most this far from the mark before it (ppm), or any move
    max_move_ppm: int | None = attrs.field(default=None, validator=attrs.validators.optional(_at_least(0)))
    #: what the starting traders satisfy: "initial" margin (just opened) or only "maintenance"
    #: (not yet liquidatable: positions that have drifted toward their liquidation price), or
    #: "solvent" (not liquidatable and worth at least zero: ``solver.induction``'s premise), or
    #: "solvent-ghost" (solvent, and every trader flat or worth its initial margin at one ghost price
    #: shared by the book: ``solver.ghost_start``, the induction's premise where the queue may skip)
    start_margin: str = attrs.field(default="initial", validator=attrs.validators.in_(START_MARGINS))
    #: the insurance fund holds at least this share (ppm) of the open interest's notional at the mark
    min_fund_ppm: int | None = attrs.field(default=None, validator=attrs.validators.optional(_at_least(0)))
    #: the starting books: every "well-formed" one (a one-step counterexample may start from a
    #: state no story reaches), or only a "funded" one (flat, deposits only: ``assumptions.funded``),
    #: from which a K-event counterexample is a whole story from an ordinary book (bounded model
    #: checking, ``solvent.solver.deep_stories``), or a "traded" one (the system accounts as a
    #: funded book's, the traders any well-formed state: ``assumptions.traded``, a seed's state)
    start: str = attrs.field(default="well-formed", validator=attrs.validators.in_(START_BOOKS))
    #: perpetual markets in the symbolic book (docs/portfolio.md); each mark, funding or trade
    #: event may act on any of them
    markets: int = attrs.field(default=1, validator=[_at_least(1), _at_most(MAX_MARKETS)])
    #: collateral assets in the symbolic book besides settlement cash (docs/portfolio.md decision
    #: 8), each with its price, net deposits and every account's balance variables
    assets: int = attrs.field(default=0, validator=[_at_least(0), _at_most(MAX_ASSETS)])
    #: the assets' names, first ones first (``solver.prove`` names them after the policy's
    #: ``[[collateral]]`` tables, so their weights apply); the rest are ``ASSET``, ``ASSET2``…
    asset_names: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: the markets' names, a policy's ``[[market]]`` names (:func:`for_policy`); empty: ``PERP``,
    #: ``PERP2``, ``PERP3``
    market_labels: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: how many traders (the first ones) hold their position in the book's last market isolated
    #: (docs/portfolio.md decision 3a): each an isolated position ``alice:PERP2`` of its own, with
    #: its margin a variable; the event kind ``margin`` moves margin to or from it
    isolated: int = attrs.field(default=0, validator=_at_least(0))
    #: the insurance fund holds a balance per market, each a variable (a policy whose
    #: ``[waterfall] scope`` is ``per_market``, :func:`for_policy`); one fund otherwise
    funds_per_market: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    #: the market those positions are in, by its index in the book (-1: the last); ``for_policy``
    #: picks the last market the policy allows isolated margin in
    isolated_market: int = -1
    #: the lent assets whose interest step accrues ``seconds`` at the policy's ``rate_curve``
    #: (:func:`for_policy`), ``""`` for the settlement currency under ``[settlement_lending]``; an
    #: ``interest`` event on any other asset names its own rate
    curve_assets: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: the markets whose insurance claim is capped in total (a policy's ``[[market]]
    #: fund_cap_quote``, :func:`for_policy`): each keeps its running total, a variable
    #: (``Market.fund_settled_quote``, ``rules.insurance_claim``); none on every other policy
    claim_markets: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: the markets an event may act on, by name (a mark move, a funding payment, a trade, a
    #: final settlement); empty: every market of the book. A threshold across markets moves one
    #: market of a book that holds them all (``solver.thresholds``, ``cross-market-safe-move``)
    event_markets: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: the settlement-cash assumption (``solver.assumptions.settlement_assumptions``) stated on a book
    #: without collateral assets too: the search without the assets that a question on the asset book
    #: asks first (``prove._without_assets``), so its stories replay inside that question's assumptions
    settlement_covered: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))

    def __attrs_post_init__(self) -> None:
        if self.max_price < self.min_price:
            raise ValueError(f"'max_price' must be >= min_price ({self.min_price}): {self.max_price}")
        if self.max_rate_ppm > PPM:
            raise ValueError(f"'max_rate_ppm' must be <= {PPM}: {self.max_rate_ppm}")
        if self.max_move_ppm is not None and self.max_move_ppm > PPM:
            raise ValueError(f"'max_move_ppm' must be <= {PPM}: {self.max_move_ppm}")
        if self.assets == 0 and set(self.event_kinds) & set(ASSET_KINDS):
            kinds = ", ".join(k for k in self.event_kinds if k in ASSET_KINDS)
            raise ValueError(f"'assets' must be >= 1 for the event kinds {kinds}: 0")
        if self.isolated == 0 and "margin" in self.event_kinds:
            raise ValueError(
                "'isolated' must be >= 1 for the event kind margin (a margin move needs an isolated position): 0"
            )
        if self.market_labels and len(self.market_labels) != self.markets:
            raise ValueError(f"'market_labels' must name the {self.markets} markets: {self.market_labels}")
        unknown = [m for m in self.event_markets if m not in self.market_names]
        if unknown:
            raise ValueError(
                f"'event_markets' must name markets of the book ({', '.join(self.market_names)}): {unknown[0]!r}"
            )
        if set(self.event_kinds) <= {"trade"} and self.accounts < 2:
            raise ValueError(
                f"'accounts' must be >= 2 when every event is a trade (a trade has two sides): {self.accounts}"
            )

    @property
    def safety_net(self) -> float:
        """The wall-clock safety net of one solver check (seconds)."""
        return self.safety_s if self.safety_s is not None else safety_net_s(self.effort)

    def beyond_one_plain_market(self) -> str | None:
        """Why an argument made for one market's plain book (the per-call and per-turn arguments of
        ``deficit_once``, ``deficit_socialized``, ``side_deficit``, ``haircut_once``) does not cover
        these bounds; None where it does."""
        if self.markets != 1 or self.isolated or self.assets or "final-settlement" in self.event_kinds:
            return "one market, no isolated positions, no collateral assets and no final settlement only"
        return None

    @property
    def market_names(self) -> tuple[str, ...]:
        """The symbolic book's markets: ``market_labels``, or ``PERP``, then ``PERP2``, ``PERP3``."""
        return self.market_labels or ("PERP",) + tuple(f"PERP{i}" for i in range(2, self.markets + 1))

    @property
    def collateral_names(self) -> tuple[str, ...]:
        """The symbolic book's collateral assets: ``asset_names`` first, then ``ASSET``, ``ASSET2``…"""
        given = self.asset_names[: self.assets]
        rest = [n for n in ("ASSET",) + tuple(f"ASSET{i}" for i in range(2, MAX_ASSETS + 2)) if n not in given]
        return given + tuple(rest[: self.assets - len(given)])

    @property
    def isolated_positions(self) -> tuple[tuple[str, str], ...]:
        """(owner, market) of each isolated position: the first ``isolated`` traders, in the last market."""
        market = self.market_names[self.isolated_market]
        return tuple((owner, market) for owner in self.traders[: self.isolated])

    @property
    def traders(self) -> tuple[str, ...]:
        """The traders' names: readable names first, then ``t12``, ``t13``…"""
        names = TRADER_NAMES[: self.accounts]
        return names + tuple(f"t{i}" for i in range(len(names), self.accounts))


def _isolated_where_allowed(bounds: Bounds, policy: Any) -> Bounds:
    """Isolated positions in the last of the book's markets the policy allows isolated margin in
    (a ``ValueError`` where it allows it in none: such a book is not the policy's)."""
    if not bounds.isolated:
        return bounds
    names = policy.market_names or bounds.market_names
    allowed = [i for i, name in enumerate(names) if "isolated" in policy.modes_in(name)]
    if not allowed:
        raise ValueError(f"'isolated' must be 0: the policy allows isolated margin in none of {', '.join(names)}")
    return attrs.evolve(bounds, isolated_market=allowed[-1])


def for_policy(bounds: Bounds, policy: Any) -> Bounds:
    """The bounds on a policy's own markets: a policy with ``[[market]]`` tables is proved on a
    book of those markets, by their names (each on its own tiers), where the bounds ask for one
    market (the default) or for as many as it declares. A policy declares its markets' tiers, so
    a book of another count of markets is not its book: a ``ValueError`` says so. A policy
    without tables is any count's (each market on its tiers). A policy that keeps a fund per
    market is proved on a book whose fund holds a balance in each market. The lent assets with a
    rate curve are named in ``curve_assets`` (their interest events accrue seconds, not a rate).
    Funding rates lie within the policy's cap (``[funding] max_rate_ppm``, ``rules.settlement``)
    where it is below ``max_rate_ppm``: a rate beyond it is no event of the venue's."""
    if policy.waterfall.per_market:
        bounds = attrs.evolve(bounds, funds_per_market=True)
    cap = funding_cap_ppm(policy)
    if cap < bounds.max_rate_ppm:  # the venue's cap narrows the rates, never widens a smaller bound
        bounds = attrs.evolve(bounds, max_rate_ppm=cap)
    claims = tuple(spec.name for spec in policy.market if spec.fund_cap_quote is not None)
    if claims != bounds.claim_markets:
        bounds = attrs.evolve(bounds, claim_markets=claims)
    bounds = _isolated_where_allowed(bounds, policy)
    curves = tuple(t.name for t in policy.collateral if t.lends and t.rate_curve)
    if getattr(policy, "settlement_lending", None) is not None:
        curves += ("",)  # the settlement currency, as an InterestAccrual names it
    if curves != bounds.curve_assets:
        bounds = attrs.evolve(bounds, curve_assets=curves)
    declared = policy.market_names
    if len(declared) < 2:
        return bounds
    if bounds.markets not in (1, len(declared)):
        raise ValueError(
            f"'markets' must be {len(declared)}, the markets the policy declares ({', '.join(declared)}), "
            f"or 1: {bounds.markets}"
        )
    return attrs.evolve(bounds, markets=len(declared), market_labels=declared)


__all__ = [
    "ASSET_KINDS",
    "Bounds",
    "EVENT_KINDS",
    "FUNDING",
    "MAX_ASSETS",
    "MAX_MARKETS",
    "START_BOOKS",
    "START_MARGINS",
    "GHOST_START",
    "for_policy",
]

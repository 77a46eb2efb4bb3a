"""A symbolic story: a book of free variables and K event slots, run through the engine's semantics.

Each slot holds one event whose *kind and accounts* are chosen by a selector variable among the
variants the bounds allow (a deposit to any account, a trade between any two traders with either
side the taker, a mark move, ...), and whose *numbers* are free variables. Every variant is run
by ``solvent.rules.engine.transition`` itself (nothing is re-modelled); the book after the slot
is the variants' books merged by the selector, and feeds the next slot.

For each slot and variant this module keeps what the proof needs: the engine's requirements and
post-requirements (the event is accepted), the step view the invariant reads, and the transfer
obligations (amounts ≥ 0). :func:`decode` reads a z3 model back as a concrete starting book and
concrete events (the story to replay).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import z3

from solvent.properties.catalog import Invariant, StepView
from solvent.properties.scenarios import Story
from solvent.rules.arith import all_, and_, ite
from solvent.rules.book import Account, Asset, Book, Market, Position, Role, new_book
from solvent.rules.engine import (
    RejectedEvent,
    Requirement,
    post_requirements,
    requirements,
    step,
    transition,
    turn_outcomes_recorded,
    turn_starts_recorded,
)
from solvent.rules.events import (
    AddMargin,
    AssetDeposit,
    AssetPrice,
    AssetWithdraw,
    Deposit,
    FinalSettlement,
    Funding,
    InterestAccrual,
    MarkPrice,
    RemoveMargin,
    SpotDeposit,
    Taker,
    Trade,
    Withdraw,
)
from solvent.rules.ledger import Ctx, InternalError
from solvent.rules.policy import Policy
from solvent.rules.rate_curve import SECONDS_PER_YEAR
from solvent.solver import clock, effort
from solvent.solver.bounds import Bounds
from solvent.solver.symbolic import Evaluator, data_fields, evaluate, transfer_obligations, variable_book


@attrs.frozen
class Variant:
    """One concrete shape an event slot may take (its numbers may be z3 variables)."""

    event: Any
    label: str


@attrs.frozen
class Slot:
    """Event ``index`` of the story: its variants, the selector choosing one, its number bounds."""

    index: int
    variants: tuple[Variant, ...]
    choice: Any
    field_bounds: Any

    def chosen(self, v: int) -> Any:
        """The condition under which variant ``v`` is the slot's event."""
        return True if len(self.variants) == 1 else self.choice == v


@attrs.frozen
class VariantRun:
    """One variant of one slot run through ``transition``."""

    variant: Variant
    ctx: Ctx
    accepted: Any
    requirements: tuple[Requirement, ...]
    #: each sweep turn of the run: the trader and the book its turn started from, in sweep order
    #: (``rules.engine.turn_starts_recorded``; ``solver.fund_facts`` instantiates its lemma on them)
    turn_starts: tuple[tuple[str, Book], ...] = ()
    #: the step's outcomes so far at each of those turns (``rules.engine.turn_outcomes_recorded``)
    turn_outcomes: tuple[tuple[Any, ...], ...] = ()


@attrs.frozen
class SlotRun:
    """A slot applied to the book before it; ``after`` merges the variants' books."""

    slot: Slot
    before: Book
    runs: tuple[VariantRun, ...]
    after: Book
    #: variables the proof's assumptions bound below by 1: the starting marks (``prices within
    #: bounds``) and the prices, amounts and lots of this and earlier events (``field_condition``)
    positive: tuple[z3.ArithRef, ...] = ()

    def accepted(self) -> Any:
        """The chosen variant is one of the slot's and the engine accepts it."""
        return z3.Or(*[z3.And(_b(self.slot.chosen(v)), _b(r.accepted)) for v, r in enumerate(self.runs)])

    def obligation(self, policy: Policy, invariant: Invariant) -> Any:
        """The invariant holds of the chosen variant's step."""
        return all_(
            _implies(self.slot.chosen(v), invariant.holds(view(policy, self.before, r)))
            for v, r in enumerate(self.runs)
        )

    def transfers_ok(self, proved: Callable[[z3.BoolRef], bool] | None = None) -> Any:
        """Every transfer the chosen variant makes moves a non-negative amount.

        An amount that is non-negative by its shape alone is left out (nothing to prove). One that
        is non-negative by its shape once a few positive inputs are (a fee ``⌈|s|·M·r / 1e6⌉`` is
        when the price ``M`` is) is replaced by the small claim that those inputs are ``≥ 0``:
        a valid strengthening (``_nonnegative_when``), which the solver still checks against the
        assumptions. ``proved``: whether an obligation is an instance of a lemma proved on the
        engine's own function (``solver.pro_rata_lemma``: the pro-rata dust); it is left out
        too. Any other amount stays a whole obligation.
        """
        memo: dict[int, Any] = {}
        positive = {v.get_id() for v in self.positive}
        return all_(
            _implies(
                self.slot.chosen(v),
                all_(_transfer_claim(o, memo, positive, proved) for o in transfer_obligations(r.ctx)),
            )
            for v, r in enumerate(self.runs)
        )


def _transfer_claim(
    obligation: z3.BoolRef,
    memo: dict[int, Any],
    positive: set[int],
    proved: Callable[[z3.BoolRef], bool] | None = None,
) -> Any:
    """``True``, ``∧ x ≥ 0`` over positive inputs ``x`` that imply the obligation, or the obligation."""
    effort.check()
    if proved is not None and proved(obligation):
        return True
    needed = _nonnegative_when(obligation, memo)
    if needed is None or not {x.get_id() for x in needed} <= positive:
        return obligation
    return all_(x >= 0 for x in needed)


def _nonnegative_anyway(obligation: z3.BoolRef, memo: dict[int, Any] | None = None) -> bool:
    """``guard → amount ≥ 0`` whose amount is non-negative by its shape alone, for every input."""
    return _nonnegative_when(obligation, memo) == ()


def _nonnegative_when(obligation: z3.BoolRef, memo: dict[int, Any] | None = None) -> tuple[z3.ArithRef, ...] | None:
    """Variables ``x`` such that ``∧ x ≥ 0`` implies ``guard → amount ≥ 0`` by the amount's shape
    (``()``: it holds for every input), or None when the shape does not show it.

    Shapes (each a valid implication): a numeral ``≥ 0``; a variable (assumed ``≥ 0``, returned);
    ``max(x, 0)`` and any ``ite`` whose branches are non-negative or guarded by the condition
    (``x ≥ c`` or ``x > c`` with ``c ≥ 0`` picking ``x``; ``x < c`` or ``x ≤ c`` with ``c ≤ 0``
    picking ``−x``, so ``|x|``); a minimum, sum or product of such amounts; a division of one by a
    divisor positive by its shape (a positive constant, ``safe_divisor``, a product of such),
    rounded down or up (``−((−n) div d)``); what is left of an amount after taking at most all of
    it (``R − when(c, min(R, l))``, :func:`_what_is_left`). A syntactic check, so it is cheap and
    never wrong; an amount it cannot see through stays an obligation for the solver.
    """
    amount_ok = obligation.arg(1) if z3.is_implies(obligation) else obligation
    if not (z3.is_ge(amount_ok) and z3.is_int_value(amount_ok.arg(1)) and amount_ok.arg(1).as_long() == 0):
        return None
    found = _nonneg(amount_ok.arg(0), {} if memo is None else memo, 0)
    return None if found is None else tuple(found.values())


_Needed = dict[int, z3.ArithRef]  # variables assumed non-negative, by id


def _nonneg(e: z3.ExprRef, memo: dict[int, Any], depth: int) -> _Needed | None:
    if z3.is_int_value(e):
        return {} if e.as_long() >= 0 else None
    if depth > 60:
        return None
    key = e.get_id()
    if key in memo:
        return memo[key][1]
    memo[key] = (e, None)
    kind = e.decl().kind() if z3.is_app(e) else -1
    children = e.children()
    result: _Needed | None = None
    if kind == z3.Z3_OP_UNINTERPRETED and not children and z3.is_int(e):
        result = {key: e}
    elif kind == z3.Z3_OP_ITE:
        cond, then, other = children
        then_ok = {} if _guarded_by(cond, then, True) else _nonneg(then, memo, depth + 1)
        other_ok = {} if _guarded_by(cond, other, False) else _nonneg(other, memo, depth + 1)
        result = _union(then_ok, other_ok)
    elif kind in (z3.Z3_OP_ADD, z3.Z3_OP_MUL):
        result = _union(*(_nonneg(c, memo, depth + 1) for c in children))
    elif kind == z3.Z3_OP_IDIV:
        if _positive(children[1], depth + 1):
            result = _nonneg(children[0], memo, depth + 1)
    elif kind == z3.Z3_OP_UMINUS and children and z3.is_app_of(children[0], z3.Z3_OP_IDIV):
        # a ceiling: -((-n) div d) ≥ 0 when n ≥ 0 and d > 0
        n, d = children[0].children()
        if z3.is_app_of(n, z3.Z3_OP_UMINUS) and _positive(d, depth + 1):
            result = _nonneg(n.children()[0], memo, depth + 1)
    elif kind == z3.Z3_OP_SUB and len(children) == 2:
        # what is left after taking at most all of it: a − b with every leaf of b's ``if`` tree 0
        # (then a ≥ 0 is needed), a itself, or a term its path's conditions bound by a
        result = _what_is_left(children[0], children[1], memo, depth + 1)
    memo[key] = (e, result)
    return result


def _positive(d: z3.ExprRef, depth: int) -> bool:
    """``d > 0`` by its shape: a positive numeral; a product of such divisors; or an ``if`` whose
    branches are, or whose taken branch the condition says is positive (``safe_divisor``:
    ``ite(x > 0, x, 1)``; ``x > c`` with ``c ≥ 0``, or ``x ≥ c`` with ``c ≥ 1``, picking ``x``)."""
    if z3.is_int_value(d):
        return d.as_long() > 0
    if depth > 60 or not z3.is_app(d):
        return False
    kind = d.decl().kind()
    if kind == z3.Z3_OP_MUL:
        return all(_positive(c, depth + 1) for c in d.children())
    if kind == z3.Z3_OP_ITE:
        cond, then, other = d.children()
        return _positive_when(cond, then, True, depth) and _positive_when(cond, other, False, depth)
    return False


def _positive_when(cond: z3.ExprRef, branch: z3.ExprRef, taken: bool, depth: int) -> bool:
    if _positive(branch, depth + 1):
        return True
    relation = cond.decl().kind() if z3.is_app(cond) else -1
    if relation not in _NEGATED or not z3.is_int_value(cond.arg(1)) or not branch.eq(cond.arg(0)):
        return False
    relation = relation if taken else _NEGATED[relation]
    c = cond.arg(1).as_long()
    return (relation == z3.Z3_OP_GT and c >= 0) or (relation == z3.Z3_OP_GE and c >= 1)


def _what_is_left(whole: z3.ExprRef, taken: z3.ExprRef, memo: dict[int, Any], depth: int) -> _Needed | None:
    """``whole − taken ≥ 0`` by shape: every leaf of ``taken``'s ``if`` tree is a numeral ≤ 0
    (``whole ≥ 0`` then needed), ``whole`` itself, or a term ``t`` a condition on its path bounds
    (``whole ≤ t`` false, ``whole > t``, ``t ≤ whole``...). The queue's lots left, ``R − min(R, l)``
    taken only from an eligible entry, are of this shape at every step."""
    needs: list[_Needed | None] = []
    stack: list[tuple[z3.ExprRef, tuple[tuple[z3.ExprRef, bool], ...]]] = [(taken, ())]
    while stack:
        node, path = stack.pop()
        if len(stack) + len(path) > 64:
            return None
        if node.eq(whole) or any(_bounded_by(c, held, whole, node) for c, held in path):
            continue
        if depth < 8 and any(_below_taken(c, held, whole, node, memo, depth) for c, held in path):
            continue
        if z3.is_app_of(node, z3.Z3_OP_ITE):
            cond, then, other = node.children()
            stack += [(then, (*path, (cond, True))), (other, (*path, (cond, False)))]
        elif z3.is_int_value(node) and node.as_long() <= 0:
            needs.append(_nonneg(whole, memo, depth + 1))
        else:
            return None
    return _union(*needs)


def _below_taken(
    cond: z3.ExprRef, held: bool, whole: z3.ExprRef, part: z3.ExprRef, memo: dict[int, Any], depth: int
) -> bool:
    """``cond`` (if ``held``, else its negation) says ``part ≤ u`` for a term ``u`` that is itself
    at most ``whole`` by :func:`_what_is_left`'s shapes, needing nothing: ``part ≤ u ≤ whole``.
    A capped payment ``min(min(R, available), cap)``: its cap is taken only below ``min(R,
    available)``, which is at most ``R``."""
    relation = cond.decl().kind() if z3.is_app(cond) else -1
    if relation not in _NEGATED:
        return False
    relation = relation if held else _NEGATED[relation]
    a, b = cond.arg(0), cond.arg(1)
    if a.eq(part) and relation in (z3.Z3_OP_LE, z3.Z3_OP_LT):
        bound = b
    elif b.eq(part) and relation in (z3.Z3_OP_GE, z3.Z3_OP_GT):
        bound = a
    else:
        return False
    return _what_is_left(whole, bound, memo, depth + 1) == {}


def _bounded_by(cond: z3.ExprRef, held: bool, whole: z3.ExprRef, part: z3.ExprRef) -> bool:
    """``cond`` (if ``held``, else its negation) says ``part ≤ whole``."""
    relation = cond.decl().kind() if z3.is_app(cond) else -1
    if relation not in _NEGATED:
        return False
    relation = relation if held else _NEGATED[relation]
    a, b = cond.arg(0), cond.arg(1)
    if a.eq(part) and b.eq(whole):
        return relation in (z3.Z3_OP_LE, z3.Z3_OP_LT)
    if a.eq(whole) and b.eq(part):
        return relation in (z3.Z3_OP_GE, z3.Z3_OP_GT)
    return False


def _union(*parts: _Needed | None) -> _Needed | None:
    out: _Needed = {}
    for part in parts:
        if part is None:
            return None
        out.update(part)
    return out


_NEGATED = {z3.Z3_OP_GE: z3.Z3_OP_LT, z3.Z3_OP_GT: z3.Z3_OP_LE, z3.Z3_OP_LT: z3.Z3_OP_GE, z3.Z3_OP_LE: z3.Z3_OP_GT}


def _guarded_by(cond: z3.ExprRef, branch: z3.ExprRef, taken: bool) -> bool:
    """``cond`` (if ``taken``, else its negation) says the integer ``branch ≥ 0``: ``max(x, 0)``
    is ``ite(x ≥ 0, x, 0)`` and ``|x|`` is ``ite(x < 0, −x, x)``."""
    relation = cond.decl().kind() if z3.is_app(cond) else -1
    if relation not in _NEGATED or not z3.is_int_value(cond.arg(1)) or not z3.is_int(cond.arg(0)):
        return False
    relation = relation if taken else _NEGATED[relation]
    x, c = cond.arg(0), cond.arg(1).as_long()
    if relation in (z3.Z3_OP_GE, z3.Z3_OP_GT):  # x ≥ c, or x > c i.e. x ≥ c + 1: then x ≥ 0
        return branch.eq(x) and c >= (0 if relation == z3.Z3_OP_GE else -1)
    # x ≤ c, or x < c i.e. x ≤ c − 1: then −x ≥ 0
    return z3.is_app_of(branch, z3.Z3_OP_UMINUS) and branch.arg(0).eq(x) and c <= (0 if relation == z3.Z3_OP_LE else 1)


def _b(x: Any) -> z3.BoolRef:
    return z3.BoolVal(x) if type(x) is bool else x


def _implies(a: Any, b: Any) -> Any:
    if a is True:
        return b
    if type(b) is bool:
        return True if b else z3.Not(_b(a))
    return z3.Implies(_b(a), b)


def view(policy: Policy, before: Book, run: VariantRun) -> StepView:
    """The invariant's view of a symbolic step (transfers and outcomes keep their guards)."""
    return StepView(policy, before, run.variant.event, run.ctx.book, run.ctx.entries, run.ctx.outcomes)


# --- building --------------------------------------------------------------------------------


def symbolic_book(bounds: Bounds, mark: int | None = None, prefix: str = "s0.") -> tuple[Book, list[z3.ArithRef]]:
    """A book of ``bounds.accounts`` traders and the system accounts, every data field a variable
    named with ``prefix`` (another prefix: a second book, free of the first).

    With ``mark`` (a price grid point) the starting mark is that constant instead. The book's clock
    is 0, or the one ``solver.clock.at`` sets (a lemma about a later event's transition).
    """
    more = tuple(Market(name, 1) for name in bounds.market_names[1:])
    assets = tuple(Asset(name, 1) for name in bounds.collateral_names)
    shape = new_book(
        mark_quote=1,
        traders=bounds.traders,
        market=bounds.market_names[0],
        more_markets=more,
        assets=assets,
        isolated_positions=bounds.isolated_positions,
        fund_per_market=bounds.funds_per_market,
    )
    if bounds.claim_markets:  # a capped insurance claim's running total, a variable (rules.insurance_claim)
        claimed = tuple(
            attrs.evolve(m, fund_settled_quote=0) if m.name in bounds.claim_markets else m for m in shape.markets
        )
        shape = attrs.evolve(shape, market=claimed[0], more_markets=claimed[1:])
    book, variables = variable_book(shape, prefix=prefix)
    if clock.current():  # inside ``clock.at``: a lemma asked at a later event's clock (solver.clock)
        book = attrs.evolve(book, clock=clock.current())
    if mark is not None:
        book = attrs.evolve(book, market=attrs.evolve(book.market, mark_quote=mark))
    return book, variables


def _variants(kind: str, k: int, book: Book, bounds: Bounds, price: int | None) -> list[Variant]:
    p = f"e{k + 1}."
    traders = [a.name for a in book.traders]
    payees = [a.name for a in book.accounts if a.role is not Role.CLEARING]
    markets = _markets(book, bounds.event_markets)
    if kind == "mark":
        price_quote = price if price is not None else z3.Int(p + "price_quote")
        return [Variant(MarkPrice(price_quote, market=m), "mark" + label) for m, label in markets]
    if kind == "final-settlement":  # the market delisted at a settlement price (rules.final_settlement)
        price_quote = price if price is not None else z3.Int(p + "price_quote")
        return [Variant(FinalSettlement(price_quote, market=m), "final settlement" + label) for m, label in markets]
    if kind == "funding":
        rate = z3.Int(p + "rate_ppm")
        return [Variant(Funding(rate, market=m), "funding" + label) for m, label in markets]
    if kind in ("deposit", "spot-deposit"):
        cls = Deposit if kind == "deposit" else SpotDeposit
        amount = z3.Int(p + "amount_quote")
        return [Variant(cls(name, amount), f"{kind} {name}") for name in payees]
    if kind == "withdraw":
        amount = z3.Int(p + "amount_quote")
        return [Variant(Withdraw(name, amount), f"withdraw {name}") for name in traders]
    if kind == "trade":
        lots = z3.Int(p + "lots")
        px = price if price is not None else z3.Int(p + "trade_price_quote")
        return [
            Variant(Trade(b, s, lots, px, taker, market=m), f"trade {b}<-{s} ({taker.value} takes){label}")
            for m, label in markets
            for b in traders
            for s in traders
            if b != s
            for taker in Taker
        ]
    if kind == "asset-price":
        asset_price = z3.Int(p + "asset_price_quote")
        return [Variant(AssetPrice(a.name, asset_price), f"price of {a.name}") for a in book.assets]
    if kind == "interest":
        rate, seconds = z3.Int(p + "rate_ppm"), z3.Int(p + "seconds")
        settlement = [Variant(InterestAccrual("", seconds=seconds), "interest on settlement cash")]
        return [
            Variant(InterestAccrual(a.name, seconds=seconds), f"interest on {a.name} by its curve")
            if a.name in bounds.curve_assets
            else Variant(InterestAccrual(a.name, rate), f"interest on {a.name}")
            for a in book.assets
        ] + (settlement if "" in bounds.curve_assets else [])
    if kind in ("asset-deposit", "asset-withdraw"):
        amount = z3.Int(p + "amount")
        if kind == "asset-deposit":
            return [
                Variant(AssetDeposit(n, a.name, amount), f"deposit {a.name} {n}") for a in book.assets for n in payees
            ]
        return [
            Variant(AssetWithdraw(n, a.name, amount), f"withdraw {a.name} {n}") for a in book.assets for n in traders
        ]
    if kind == "margin":
        amount = z3.Int(p + "amount_quote")
        first = book.market.name
        return [
            Variant(
                cls(a.owner, amount, market="" if a.isolated_market == first else a.isolated_market), f"{verb} {a.name}"
            )
            for a in book.accounts
            if a.owner
            for cls, verb in ((AddMargin, "add margin to"), (RemoveMargin, "remove margin from"))
        ]
    raise ValueError(f"'event_kinds' must be among the known kinds: {kind!r}")


def _markets(book: Book, only: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The markets an event may act on, as an event names them (``""``: the first) with the label
    its variant shows (nothing for a one-market book, whose labels stay as they were); ``only``:
    those named (``Bounds.event_markets``), every market when empty."""
    if not book.more_markets:
        return [("", "")]
    return [
        ("" if i == 0 else m.name, f" in {m.name}") for i, m in enumerate(book.markets) if not only or m.name in only
    ]


#: the events :func:`_markets` draws in each market (``Bounds.event_markets`` narrows them)
MARKET_EVENTS = (MarkPrice, Funding, Trade, FinalSettlement)


def market_within(event: Any, bounds: Bounds) -> bool:
    """A mark move, funding payment, trade or final settlement acts on one of
    ``bounds.event_markets`` (True for any other event, or when the bounds name none); ``""`` is
    the book's first market. Concrete events only."""
    if not bounds.event_markets or not isinstance(event, MARKET_EVENTS):
        return True
    return (event.market or bounds.market_names[0]) in bounds.event_markets


def field_condition(field: str, value: Any, bounds: Bounds) -> Any:
    """The bound on one numeric event field (on a z3 variable, or a concrete value)."""
    if field == "price_quote":
        return and_(value >= bounds.min_price, value <= bounds.max_price)
    if field == "amount_quote":
        return and_(value >= 1, value <= bounds.max_quote)
    if field == "lots":
        return and_(value >= 1, value <= bounds.max_lots)
    if field == "amount":  # a collateral asset's quanta, bounded as balances are
        return and_(value >= 1, value <= bounds.max_quote)
    if field == "seconds":  # an interest step on a rate curve: up to a year
        return and_(value >= 1, value <= SECONDS_PER_YEAR)
    return and_(value >= -bounds.max_rate_ppm, value <= bounds.max_rate_ppm)


NUMBER_FIELDS = ("price_quote", "amount_quote", "lots", "rate_ppm", "amount", "seconds")
#: the event fields :func:`field_condition` bounds below by a positive number
POSITIVE_FIELDS = ("price_quote", "amount_quote", "lots", "amount", "seconds")


def event_within(event: Any, bounds: Bounds) -> Any:
    """Every numeric field of the event lies within the bounds (an interest step on a curve has no
    rate of its own, one without a curve no seconds: the field left unset is not bounded)."""
    return all_(
        field_condition(f, getattr(event, f), bounds)
        for f in NUMBER_FIELDS
        if getattr(event, f, None) is not None and not (f == "seconds" and getattr(event, "rate_ppm", None) is not None)
    )


def _field_bounds(variants: Sequence[Variant], bounds: Bounds) -> Any:
    seen: dict[str, Any] = {}
    for variant in variants:
        for field in NUMBER_FIELDS:
            value = getattr(variant.event, field, None)
            if isinstance(value, z3.ExprRef):
                seen[str(value)] = (field, value)
    return all_(field_condition(field, value, bounds) for field, value in seen.values())


def slots(book: Book, bounds: Bounds, prices: Sequence[int | None] = ()) -> list[Slot]:
    """The K event slots; ``prices[k]`` fixes slot k's price (a grid point) when given."""
    out = []
    for k in range(bounds.events):
        price = prices[k] if k < len(prices) else None
        variants = [v for kind in bounds.event_kinds for v in _variants(kind, k, book, bounds, price)]
        if not variants:
            raise ValueError(
                f"'event_kinds' {', '.join(bounds.event_kinds)} need at least 2 accounts (a trade has two sides): {bounds.accounts}"
            )
        choice = z3.Int(f"e{k + 1}.choice") if len(variants) > 1 else None
        fb = _field_bounds(variants, bounds)
        if choice is not None:
            fb = and_(fb, choice >= 0, choice < len(variants))
        out.append(Slot(k, tuple(variants), choice, fb))
    return out


def _merge(slot: Slot, books: list[Book]) -> Book:
    merged = books[-1]
    for v in range(len(books) - 2, -1, -1):
        merged = ite(slot.chosen(v), books[v], merged)
    return merged


def run(policy: Policy, book: Book, story_slots: Sequence[Slot]) -> list[SlotRun]:
    """Apply every slot in turn with the engine's ``transition`` (one run per variant).

    Charges a build step (``solvent.solver.effort``) before each variant; the z3 backend
    charges one per operation within each run.
    """
    out = []
    market = book.market
    positive = [
        m for m in (market.mark_quote, market.previous_mark_quote) if isinstance(m, z3.ExprRef) and z3.is_const(m)
    ]
    for slot in story_slots:
        positive += [v for v in _slot_variables(slot, POSITIVE_FIELDS) if not any(v.eq(p) for p in positive)]
        runs = []
        for variant in slot.variants:
            effort.check()
            with turn_starts_recorded() as turns, turn_outcomes_recorded() as outcomes:
                ctx = transition(policy, book, variant.event)
            reqs = tuple(requirements(policy, book, variant.event)) + tuple(
                post_requirements(policy, book, ctx.book, variant.event)
            )
            runs.append(VariantRun(variant, ctx, all_(r.holds for r in reqs), reqs, tuple(turns), tuple(outcomes)))
        after = _merge(slot, [r.ctx.book for r in runs])
        out.append(SlotRun(slot, book, tuple(runs), after, tuple(positive)))
        book = after
    return out


# --- reading a model back --------------------------------------------------------------------


def decode(book: Book, story_slots: Sequence[Slot], evaluator: Evaluator) -> Story:
    """The concrete starting book and events a model describes."""
    events = []
    for slot in story_slots:
        v = 0 if slot.choice is None else evaluate(slot.choice, evaluator)
        v = min(max(v, 0), len(slot.variants) - 1)
        events.append(evaluate(slot.variants[v].event, evaluator))
    return Story(evaluate(book, evaluator), tuple(events))


def event_variables(story_slots: Sequence[Slot]) -> list[z3.ArithRef]:
    """The free numbers of the slots' events (not the selectors)."""
    return [v for slot in story_slots for v in _slot_variables(slot, NUMBER_FIELDS)]


def _slot_variables(slot: Slot, fields: Sequence[str]) -> list[z3.ArithRef]:
    seen: dict[int, z3.ArithRef] = {}
    for variant in slot.variants:
        for field in fields:
            value = getattr(variant.event, field, None)
            if isinstance(value, z3.ExprRef):
                seen[value.get_id()] = value
    return list(seen.values())


def _none_paid(market: Market) -> int | None:
    """A market's insurance claim at the start of a plain story: nothing paid yet (``None`` where it
    keeps no running total)."""
    return None if market.fund_settled_quote is None else 0


def canonical_witness(policy: Policy, book: Book, story_slots: Sequence[Slot], bounds: Bounds) -> Story | None:
    """A plain concrete story inside the assumptions, if one of the simplest shapes works.

    Every trader flat with ``max_quote // 2`` cash, all of it deposited principal (a book of
    deposits, as ``assumptions.funded`` writes one, where percolator Gen B's flat account holds its
    equity as capital), the mark at its lowest allowed value (or the grid point), and in each slot the first variant the concrete engine accepts with its numbers
    set to the mark, one lot, one quantum, or a zero funding rate. ``None`` if a slot accepts
    none of these. It shows the assumptions are satisfiable without asking the solver.
    """
    mark = book.market.mark_quote if type(book.market.mark_quote) is int else bounds.min_price
    cash = bounds.max_quote // 2
    flat = tuple(Position() for _ in book.more_markets)
    accounts = tuple(
        attrs.evolve(
            a,
            **{
                f: (cash if a.is_trader and f in ("cash_quote", "principal_quote") else 0) for f in data_fields(Account)
            },
            more_positions=flat,
            asset_balances=tuple(0 for _ in book.assets),
            more_funds=tuple(0 for _ in a.more_funds),
        )
        for a in book.accounts
    )
    market, *more = (
        attrs.evolve(m, mark_quote=mark, previous_mark_quote=mark, fund_settled_quote=_none_paid(m))
        for m in book.markets
    )
    assets = tuple(Asset(a.name, mark) for a in book.assets)  # priced as the mark, held by nobody yet
    start = attrs.evolve(
        book,
        market=market,
        accounts=accounts,
        net_deposits_quote=cash * len(book.traders),
        more_markets=tuple(more),
        assets=assets,
        more_window_sums=tuple(0 for _ in book.more_window_sums),
    )
    current, events = start, []
    for slot in story_slots:
        for variant in slot.variants:
            event = _plain(variant.event, mark)
            if not event_within(event, bounds):
                continue
            try:
                current = step(policy, current, event).after
            except (RejectedEvent, InternalError):
                continue
            events.append(event)
            break
        else:
            return None
    return Story(start, tuple(events))


def _plain(event: Any, mark: int) -> Any:
    plain = {"price_quote": mark, "amount_quote": 1, "lots": 1, "rate_ppm": 0, "amount": 1, "seconds": 1}
    return attrs.evolve(event, **{f: v for f, v in plain.items() if isinstance(getattr(event, f, None), z3.ExprRef)})


__all__ = [
    "Slot",
    "SlotRun",
    "Variant",
    "VariantRun",
    "canonical_witness",
    "decode",
    "event_variables",
    "event_within",
    "run",
    "slots",
    "symbolic_book",
    "view",
]

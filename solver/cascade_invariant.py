"""``no-negative-equity`` and ``loss-bounded-by-collateral`` for every N under a socialized loss per lot
with a cascade (Drift v2, Mango v4).

The per-trader argument stops there (docs/solver-notes.md#why-the-per-trader-argument-does-not-apply-there):
a bankrupt trader's deficit is charged per lot of open interest to every other position, losers too
(``rules.socialized_loss``, ``pro_rata.charge``, shares rounded up), so a payer's part of the claim is
not its own, and a payer the charge sinks below zero is resolved in turn by the cascade's loop
(``rules.bankruptcy._cascade``). The argument here is the loop's invariant and the sweep's, each step
a lemma on the engine's own functions (one semantics), z3 exact, every number free:

1. **The loop's iteration** (``bankruptcy._first_below`` on the engine's own test
   ``bankruptcy.sunk``, a book of three traders): if some trader holds a position with its value below
   zero, the first such is resolved alone (``_bankrupt_in_turn``) and ends flat with its value at
   least 0 (the pools and the socialized loss cover its whole deficit: the book's liquidity account,
   which took the position, weighs its lots, so the payers' total weight is at least 1, and the dust
   the rounded-up shares pass on leaves it exactly the deficit); every other trader keeps its size,
   a trader with no position its value (its weight is 0, so its share is 0), every trader its debt;
   if none is sunk, nothing changes. A payer's share reads the deficit, its own lots and the total
   weight, and the liquidity account weighs with its numbers free, so the total ranges over every
   value at least the bankrupt's lots: a book of any N is covered.
2. **The loop's exit** (the same test): where no trader is sunk, every trader holding a position is
   worth at least 0.
3. **The loop, by induction over its iterations** (``_cascade`` runs one iteration per trader outside
   the chain): no iteration gives a trader a position and each one that resolves makes a trader with
   a position flat, so after as many iterations as there are traders either an iteration found none
   sunk (and the book stayed as it was, 2 holding) or every trader is flat; a trader the loop resolved
   keeps its value at least 0 (1), a flat one its value.
4. **A trader's turn** (``engine.liquidation_turn`` with the cascade left out, three traders, from any
   book whose flat traders are worth at least 0): the trader ends worth at least 0, and flat where it
   was resolved (so the loop after it charges it nothing); every other trader
   keeps its size, its debt, and, where it holds no position or where nobody was resolved in the turn,
   its value. The turn with the cascade is that turn followed, where it resolved the trader, by the loop
   of 3 from the chain of that trader (``bankruptcy.resolve``'s last line; its resolve is the turn's
   last action).
5. **The step** (the engine's ``transition`` at three traders, each event variant of the bounded
   kinds): ``opening``, ``settle``, ``before_turns``, one turn per trader in book order,
   ``after_sweep``, ``closing``; from the question's assumptions every trader with no position is
   worth at least 0 and owes no debt when the turns start; ``after_sweep`` and ``closing`` change no
   trader's cash, position or debt.

So, by induction over the turns, after the k-th turn every flat trader and each of the first k is
worth at least 0 (4 for the turn's own trader; 3 and 4 for the others: a trader the turn or the loop
left holding a position is at least 0 where someone was resolved, else unchanged, and a flat one is
resolved or unchanged), and with no debt anywhere the claim holds after the step, for any N. One
event (the start's facts are the question's). ``solver.prove`` still asks the claim directly, at N and
on the lemmas' two-trader book: the all-N verdict never rests on the lemmas alone
(docs/solver-notes.md#the-socialized-losss-cascade-invariant-session-21).

**Over K moves** (K > 1, session 24): an induction over the moves on the premise P, **every trader
worth at least 0 and owing no debt** (:data:`SAYS`; nothing of the value bounds, the pools or the
trader's other well-formedness: steps 1-4 read none of it, their books free). Two lemmas more, each
exact z3 on the engine's own functions, and the aggregate's own conclusion:

6. **Start** (:func:`start_lemma`): a trader meeting the question's start (its own assumptions at
   ``bounds.start_margin``) meets P (one trader).
7. **The step from P** (:func:`step_facts` with ``premise=True``): step 5 asked from P in place of
   the question's assumptions (three traders, every other number free, each event variant): when the
   turns start every flat trader is worth at least 0 and owes no debt.
8. **P kept**: from 7, steps 1-4 and the induction over the turns give, after the step, every trader
   worth at least 0 and no debt anywhere: P itself (and the claim) after the move, for every N.

So P holds at the start (6) and after every move (7, 8), and every move from P ends with the claim:
for every N and any K of the kinds the step covers. ``solver.prove`` checks the step directly on the
lemmas' one-event book from P's start margin (:data:`PREMISE`: worth at least 0, no fee to close on a
covered policy, with the rest of the book's well-formedness: a stronger start than P, as a check).
(docs/solver-notes.md#drift-and-mango-v4-at-k--3-the-cascade-over-moves-session-24)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.rules import bankruptcy
from solvent.rules.arith import all_, and_, any_, implies, not_, or_
from solvent.rules.assets import account_value
from solvent.rules.book import Book
from solvent.rules.engine import liquidation_turn
from solvent.rules.haircut_ratio import settles_losses
from solvent.rules.ledger import Ctx
from solvent.rules.liquidation import pools_holding
from solvent.rules.margin import open_lots
from solvent.rules.outcomes import Bankrupt
from solvent.rules.policy import Policy
from solvent.rules.waterfall import Over, SocializedLoss
from solvent.rules.wellformed import StartMargin, lends_off_book
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds
from solvent.solver.per_account import _conjuncts, _reads_only, _same
from solvent.solver.story import slots, symbolic_book
from solvent.solver.sweep_step import POOLS, not_one_step, phases

#: the claims the argument covers (a trader's value, and its value less its debt, at least 0)
CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral")
#: traders in the books the lemmas are asked on
TRADERS = 3
#: what the all-N verdict assumes of the engine (``Scope.assumes``)
ASSUMES = (
    "each trader's turn treats every other trader as a three-trader book's turn treats the others, a socialized "
    "loss payer's share reads only the deficit, its own lots and the total weight, and the cascade is the turn's "
    "last action (rules.bankruptcy.resolve: its loop after the trader's own resolution), one iteration per trader"
)

#: what the premise of the induction over moves says of each trader (K > 1)
SAYS = "every trader worth at least 0 and owing no debt"
#: the start margin of the one-event book the induction's step is checked on directly: worth at least 0
#: (a covered policy has no fee to close, ``not_covered``), with the book's own well-formedness
PREMISE = StartMargin.SOLVENT.value
#: what an any-K verdict by the induction assumes beyond :data:`ASSUMES`
INDUCTION_ASSUMES = (
    f"induction over the moves on the premise {SAYS}: the question's start meets it, the step from it "
    "(opening, settle, before_turns) leaves every flat trader at or above 0 with no debt when the turns start, "
    "and the turns then leave every trader at or above 0 with no debt, the premise again"
)

Valid = Callable[..., str]


def not_covered(policy: Policy, bounds: Bounds) -> str | None:
    """Why the argument does not apply (None where it does)."""
    layer = policy.layer(SocializedLoss)
    kinds = [x.kind for x in policy.deficit]
    if layer is None or not layer.cascade or kinds[-1] != "socialized_loss":
        return "not a socialized loss last with a cascade"
    if any(k not in POOLS for k in kinds[:-1]):
        return f"a layer above the socialized loss that reads other traders ({', '.join(kinds)})"
    if layer.over is not Over.OPEN_INTEREST or not layer.liquidator_pays:
        return "the socialized loss is not per lot of open interest with the liquidator's lots counted"
    if pools_holding(policy.liquidation) or policy.liquidation.fee_to_close or policy.pnl_to_pool_adl is not None:
        return "a pool holding what it takes over, a fee to close or a PnL-to-pool ADL"
    if settles_losses(policy) or lends_off_book(policy):
        return "losses settled into capital, or a debt carried off the book"
    return not_one_step(bounds)


def inducts(policy: Policy, bounds: Bounds) -> bool:
    """Whether a K-event question (K > 1) is one the induction over moves decides: the argument covers
    its one-event step and the question does not already start from the premise."""
    one = attrs.evolve(bounds, events=1)
    return bounds.events > 1 and bounds.start_margin != PREMISE and not_covered(policy, one) is None


def covers(policy: Policy, bounds: Bounds) -> bool:
    """Whether the argument applies to ``bounds``: one step (:func:`not_covered`) or K moves
    (:func:`inducts`)."""
    return not_covered(policy, bounds) is None or inducts(policy, bounds)


def premise(policy: Policy, book: Book, name: str) -> list[Any]:
    """P of trader ``name`` on ``book``: worth at least 0, no debt (:data:`SAYS`)."""
    return [_b(_value(policy, book, name) >= 0), _b(book.account(name).debt_quote == 0)]


def without_cascade(policy: Policy) -> Policy:
    """``policy`` with its socialized loss's cascade left out: a turn then ends at its own resolution."""
    deficit = tuple(attrs.evolve(x, cascade=False) if isinstance(x, SocializedLoss) else x for x in policy.deficit)
    return attrs.evolve(policy, deficit=deficit)


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def _value(policy: Policy, book: Book, name: str) -> Any:
    return account_value(policy, book.assets, book.account(name))


def _flat(book: Book, name: str) -> Any:
    return open_lots(book.account(name)) == 0


def _book() -> Book:
    book, _ = symbolic_book(Bounds(accounts=TRADERS))
    return book


def iteration_lemmas(policy: Policy, valid: Valid) -> list[str]:
    """Steps 1 and 2 of the module docstring: one iteration of the loop, and its exit, on the engine's
    own test and resolution."""
    book = _book()
    names = [a.name for a in book.traders]
    tests = bankruptcy.sunk(policy, Ctx(book), names)
    ctx, _ = bankruptcy._first_below(policy, Ctx(book), tests, ())
    after = ctx.book
    any_sunk = any_(t for _, t in tests)
    premise = [book.market.mark_quote >= 1]
    said = f"the cascade's iteration ({TRADERS} traders, every number free)"
    resolved = []
    for k, (name, test) in enumerate(tests):
        first = and_(test, *(not_(t) for _, t in tests[:k]))
        resolved.append(implies(first, and_(_flat(after, name), _value(policy, after, name) >= 0)))
    kept = []
    for name in names:
        resolved_here = and_(not_(_flat(book, name)), _flat(after, name), _value(policy, after, name) >= 0)
        kept.append(or_(after.account(name).size_lots == book.account(name).size_lots, resolved_here))
        kept.append(implies(_flat(book, name), _value(policy, after, name) == _value(policy, book, name)))
        kept.append(after.account(name).debt_quote == book.account(name).debt_quote)
    unchanged = implies(
        not_(any_sunk),
        all_(
            and_(
                after.account(n).size_lots == book.account(n).size_lots,
                _value(policy, after, n) == _value(policy, book, n),
            )
            for n in names
        ),
    )
    exit_claim = implies(
        not_(any_sunk), all_(implies(not_(_flat(book, n)), _value(policy, book, n) >= 0) for n in names)
    )
    return [
        valid(
            f"{said}: the first trader sunk below zero with a position is resolved and ends flat, worth at least 0",
            premise,
            _b(all_(resolved)),
            exact=True,
        ),
        valid(
            f"{said}: every other trader keeps its size (or is the one resolved), a flat one its value, each its debt; "
            "with none sunk nothing changes",
            premise,
            _b(and_(all_(kept), unchanged)),
            exact=True,
        ),
        valid(
            f"the cascade's exit ({TRADERS} traders, the engine's test): with none sunk, every trader holding a "
            "position is worth at least 0",
            premise,
            _b(exit_claim),
            exact=True,
        ),
    ]


def loop_lemma(policy: Policy, valid: Valid) -> str:
    """The loop whole on a book of :data:`TRADERS` traders (two iterations, after the first trader's own
    resolution left it flat): every other trader holding a position at the end is worth at least 0, one
    flat at the start keeps its value, one that held a position and ends flat is worth at least 0; the
    chain's trader keeps its value. The bounded instance of step 3 on the engine's own loop, so that its
    order, its re-reading of the book and its number of iterations are checked, not only its iteration.
    Not one of the verdict's lemmas (step 3 is the induction, on the loop's code): on Drift it costs
    2.3M units asked alone and was undecided within 4.5M after the others; the tests ask it on Mango
    (0.4M), where a loop one iteration short has a model."""
    book = _book()
    chain = book.traders[0].name
    after = bankruptcy._cascade(policy, Ctx(book), (chain,)).book
    premise = [book.market.mark_quote >= 1, _flat(book, chain)]
    checks = [_value(policy, after, chain) == _value(policy, book, chain)]
    for a in book.traders[1:]:
        n = a.name
        checks.append(implies(not_(_flat(after, n)), _value(policy, after, n) >= 0))
        checks.append(implies(_flat(book, n), _value(policy, after, n) == _value(policy, book, n)))
        checks.append(implies(and_(not_(_flat(book, n)), _flat(after, n)), _value(policy, after, n) >= 0))
    return valid(
        f"the cascade's loop whole ({TRADERS} traders, two iterations after {chain}'s resolution, every number "
        "free): every trader left holding a position is worth at least 0, one it resolved too, a flat one keeps "
        "its value",
        premise,
        _b(all_(checks)),
        exact=True,
    )


def turn_lemmas(policy: Policy, valid: Valid) -> list[str]:
    """Step 4 of the module docstring: a trader's turn with the cascade left out."""
    book = _book()
    trader = book.traders[0].name
    others = [a.name for a in book.traders[1:]]
    ctx = liquidation_turn(without_cascade(policy), Ctx(book), trader)
    after = ctx.book
    premise = [book.market.mark_quote >= 1] + [
        implies(_flat(book, a.name), _value(policy, book, a.name) >= 0) for a in book.traders
    ]
    resolved = any_(g.guard for g in ctx.outcomes if isinstance(g.item, Bankrupt))
    said = f"{trader}'s turn without the cascade ({TRADERS} traders, every flat trader worth at least 0)"
    kept = []
    for name in others:
        kept.append(after.account(name).size_lots == book.account(name).size_lots)
        same = _value(policy, after, name) == _value(policy, book, name)
        kept.append(implies(or_(_flat(book, name), not_(resolved)), same))
    debts = all_(after.account(a.name).debt_quote == a.debt_quote for a in book.traders)
    return [
        valid(
            f"{said}: {trader} ends worth at least 0, and flat where it was resolved",
            premise,
            _b(and_(_value(policy, after, trader) >= 0, implies(resolved, _flat(after, trader)))),
            exact=True,
        ),
        valid(
            f"{said}: every other trader keeps its size and its debt, and its value where it is flat or nobody was "
            "resolved",
            premise,
            _b(and_(all_(kept), debts)),
            exact=True,
        ),
    ]


def step_facts(
    policy: Policy, bounds: Bounds, valid: Valid, fail: Callable[[str], None], from_premise: bool = False
) -> list[str]:
    """Step 5 of the module docstring, on :data:`TRADERS` free traders from the question's assumptions,
    every event variant of the bounded kinds; ``from_premise``: step 7, from the induction's premise
    P (:func:`premise`) of every trader instead, nothing else assumed."""
    one = attrs.evolve(bounds, accounts=TRADERS, events=1)
    book, _ = symbolic_book(one)
    names = [a.name for a in book.traders]
    if from_premise:
        assumed = [c for n in names for c in premise(policy, book, n)]
        source = f"from the premise ({SAYS})"
    else:
        assumed = [_b(a.holds) for a in book_assumptions(policy, book, one)]
        source = "from the question's assumptions"
    lemmas = []
    for slot in slots(book, one):
        for variant in slot.variants:
            run = phases(policy, book, variant, names, fail)
            first, turned, end = run.first, run.turned, run.end.book
            fields = ("cash_quote", "size_lots", "cost_quote", "debt_quote", "spot_quote")
            if not all(_same(getattr(turned.account(n), f), getattr(end.account(n), f)) for n in names for f in fields):
                fail(f"the step ({variant.label}): after_sweep or closing changes a trader's account")
            start = all_(
                and_(implies(_flat(first, n), _value(policy, first, n) >= 0), first.account(n).debt_quote == 0)
                for n in names
            )
            said = "" if not from_premise else f", {source}"
            lemmas.append(
                valid(
                    f"the step ({variant.label}, {TRADERS} traders{said}): when the turns start every flat trader is "
                    "worth at least 0 and no trader owes a debt",
                    assumed,
                    _b(start),
                    exact=True,
                )
            )
    return [
        f"the step ({', '.join(bounds.event_kinds)}, {TRADERS} traders, the engine's transition"
        + (f", {source}" if from_premise else "")
        + "): opening, settle, before_turns, a turn per trader in book order, after_sweep and closing, which change "
        "no trader's account",
        *lemmas,
    ]


def start_lemma(policy: Policy, bounds: Bounds, valid: Valid) -> str:
    """Step 6: one trader meeting the question's start (its own assumptions at ``bounds.start_margin``)
    meets the premise P."""
    one = Bounds(accounts=1, events=1, start_margin=bounds.start_margin)
    book, _ = symbolic_book(one)
    [name] = [a.name for a in book.traders]
    reads = (f"s0.{name}.", *(f"s0.{m.name}." for m in book.markets))
    assumed = [c for a in book_assumptions(policy, book, one) for c in _conjuncts(a.holds) if _reads_only(c, reads)]
    return valid(
        f"start: a trader meeting {bounds.start_margin} margin (its own assumptions) meets the premise ({SAYS})",
        assumed,
        z3.And(*premise(policy, book, name)),
        exact=True,
    )


def argument(policy: Policy, bounds: Bounds, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """The lemmas of the module docstring, or ``fail(reason)`` where the argument does not apply
    (``valid`` raises where a lemma does not hold)."""
    moves = inducts(policy, bounds)  # K > 1: by induction over the moves on the premise P
    why = not_covered(policy, attrs.evolve(bounds, events=1) if moves else bounds)
    if why is not None:
        fail(f"the cascade's invariant: {why}")
    lemmas = [start_lemma(policy, bounds, valid)] if moves else []
    lemmas += iteration_lemmas(policy, valid)
    lemmas.append(
        "the cascade's loop, by induction over its iterations (one per trader outside the chain): no iteration gives "
        "a trader a position and each that resolves makes one flat, so when it ends no trader holding a position is "
        "below zero, and a trader it resolved is worth at least 0, a flat one what it was"
    )
    lemmas += turn_lemmas(policy, valid)
    lemmas += step_facts(policy, attrs.evolve(bounds, events=1), valid, fail, from_premise=moves)
    lemmas.append(
        "aggregate, by induction over the turns: after each turn every flat trader and every trader whose turn has "
        "passed is worth at least 0, no trader owes a debt: the claim holds after the step for every trader, for any N"
    )
    if moves:
        lemmas.append(
            f"induction over the moves: the premise ({SAYS}) holds at the start, and the step from it ends with every "
            "trader worth at least 0 and no debt anywhere, the premise again and the claim: the claim holds after "
            "every move, for any N and any K"
        )
    return lemmas


METHOD = (
    "compositional, all N, one event: the socialized loss's cascade by induction over its loop (z3 on the engine's "
    "own iteration and test, three traders, every number free: the first trader sunk below zero is resolved and ends "
    "flat at or above 0, the others keep their sizes and a flat one its value), each trader's turn without the cascade "
    "(it ends at or above 0, the others keep their sizes and, flat or where nobody was resolved, their values), and "
    "the step's turns in book order from a start where every flat trader is at or above 0; "
    f"assumes {ASSUMES}"
)
#: the method line over K moves (:func:`inducts`)
METHOD_OVER_MOVES = (
    "compositional, all N, any K: by induction over the moves on a premise of each trader "
    f"({SAYS}): the start meets it, and each move's step from it (the engine's opening, settle and before_turns, "
    "three traders, every other number free) leaves every flat trader at or above 0 with no debt when the turns "
    "start; then, as for one move, the socialized loss's cascade by induction over its loop, each trader's turn "
    "without the cascade and the turns in book order leave every trader at or above 0 with no debt, the premise "
    f"and the claim after every move; assumes {ASSUMES}; {INDUCTION_ASSUMES}"
)

__all__ = [
    "ASSUMES",
    "CLAIMS",
    "INDUCTION_ASSUMES",
    "METHOD",
    "METHOD_OVER_MOVES",
    "PREMISE",
    "SAYS",
    "argument",
    "covers",
    "inducts",
    "iteration_lemmas",
    "loop_lemma",
    "not_covered",
    "premise",
    "start_lemma",
    "step_facts",
    "turn_lemmas",
    "without_cascade",
]

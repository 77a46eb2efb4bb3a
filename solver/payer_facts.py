"""The payer's lemmas as proved facts of a bounded question, instantiated on its own terms.

The payer's argument (:mod:`solvent.solver.payer_lemma`) extends ``no-negative-equity`` and
``loss-bounded-by-collateral`` to every N where ADL at the bankruptcy price is the one layer that
moves money between traders; the all-N verdict also needs the direct check on the lemmas' two-trader
book, and that check stayed undecided (Binance, Bybit, OKX: 60M units), because z3 has to find, inside
the whole step, that a winner closed for ``q`` lots at a gap ``g`` pays ``q·g ≤ q·|ΔM|``: an inequality
between products that share no factor. Asked of the engine's ``resolve`` on a book whose every number
is free, the same facts take 0.1M units.

So the lemmas are proved first, in the same run and on the engine's own functions, each for every value
of a fresh book's variables:

- **the charge** (for each bankrupt account and each payer of the two-trader book, both ways): from a
  bankrupt account that met its margin before the move (its equity before the move is ``e₀``), the
  payer's position shrinks toward zero by the ``q ≤ |S|`` lots it serves, its cash by ``q·g``, nothing
  else of it moves, and ``0 ≤ g ≤ |ΔM|`` (0 off the winning side);
- **the arithmetic** (free integers): ``q·g ≤ q·|ΔM|`` for ``0 ≤ g ≤ |ΔM|``, ``q·|ΔM| ≤ |S|·|ΔM|``
  for ``0 ≤ q ≤ |S|``, and ``|S|·|ΔM| = S·ΔM`` where ``S·ΔM ≥ 0`` (the payer's settled gain, in the
  terms settlement paid it: docs/solver-notes.md#the-payers-settled-gain);
- **the margin floor** (one trader): its own assumptions give ``e₀ ≥ 0`` and the fee to close inside
  its margin;
- **the bankrupt's side** (the ADL lemma of :mod:`solvent.solver.adl_lemma`, asked of ``resolve``
  instead of ``deleverage`` alone, so whatever the layers before ADL paid): a trader holding a
  position, bankrupt at the liquidation's execution price, with open interest balanced among the
  traders and the book, ends with no cash and no position.

A formula valid for every value of its variables is valid for every value of any terms put in their
place, so each lemma is then instantiated (``z3.substitute``) on the question's own terms: the charge
and the bankrupt's side with the book a trader's ``resolve`` starts from in the question's sweep
(settled, the turns before it run, its spot converted, as the engine's ``liquidation_turn`` does) and
``e₀`` the bankrupt account's equity in the question's starting book; the arithmetic on the charge
instance's lots, gap, position and move; the floor on each trader's starting account. Each instance
is true of every value, so the question keeps exactly its models (a refutation is still a replayed
story); and because the engine builds the same z3 term from the same terms, the instance's
conclusions name the question's own ``resolve`` results (``tests/solver/test_payer_facts.py``
checks they do). Nothing is assumed: a lemma that does
not hold (a mutated engine) leaves no facts, and the question is asked as before
(docs/solver-notes.md#the-payers-lemmas-as-facts-of-the-direct-check).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs
import z3

from solvent.rules.adl import walk_start
from solvent.rules.arith import abs_, sum_
from solvent.rules.bankruptcy import resolve
from solvent.rules.book import Book, Role
from solvent.rules.collateral import convert_spot
from solvent.rules.engine import liquidation_turn, opening, settle
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Ctx
from solvent.rules.liquidation import slip_per_lot
from solvent.rules.margin import equity
from solvent.rules.policy import Policy
from solvent.solver import effort, ghost_start
from solvent.solver.adl_claims import WALK
from solvent.solver.bounds import Bounds
from solvent.solver.payer_ghost import (
    ghost_premise,
    skip_formulas,
    skip_lemmas,
    skips,
    turn_formula,
    turn_lemma,
    turn_proved,
)
from solvent.solver.payer_lemma import (
    ARITHMETIC,
    BEFORE,
    FLOOR,
    FUND_BEFORE,
    KEPT_SLACK,
    SETTLED_GAIN,
    WITHIN_POSITION,
    Charge,
    applies,
    arithmetic,
    charge_question,
    floor_question,
    pool_charge_question,
    takes_over,
)
from solvent.solver.per_account import _settled, constants
from solvent.solver.story import SlotRun, symbolic_book

#: proves ``premise → claim`` for every value (raising where it does not hold), returning its name
Valid = Callable[[str, list[Any], Any], str]


def _pairs(free: Any, term: Any) -> Iterator[tuple[Any, Any]]:
    """``(variable, term)`` for every field where ``free`` holds a z3 variable, walking a record,
    a tuple or a value; a field ``free`` holds as a constant is not a variable of its lemmas."""
    if isinstance(free, z3.ExprRef):
        if z3.is_const(free) and not z3.is_int_value(free):
            yield free, term if isinstance(term, z3.ExprRef) else z3.IntVal(term)
    elif attrs.has(type(free)):
        for f in attrs.fields(type(free)):
            yield from _pairs(getattr(free, f.name), getattr(term, f.name))
    elif isinstance(free, tuple):
        for a, b in zip(free, term, strict=True):
            yield from _pairs(a, b)


def instance(formula: Any, pairs: list[tuple[Any, Any]]) -> Any:
    """``formula`` with each variable replaced by its term (all at once); every variable of the
    formula must be given one, so the instance speaks of the question's terms only."""
    given = {v.get_id() for v, _ in pairs}
    left = [str(x) for x in constants(formula) if z3.is_int(x) and not z3.is_int_value(x) and x.get_id() not in given]
    if left:
        raise ValueError(f"a lemma's variable has no term in the question: {left[0]}")
    return z3.substitute(formula, *pairs)


def renamed(formula: Any, names: dict[str, str]) -> Any:
    """``formula`` with its accounts renamed (``names``: each old account name to its new one, all at
    once): every variable of an account (``s0.alice.cash_quote``, ``s0.alice@SOL.balance``) replaced
    by the same variable of the account it is renamed to. A substitution of variables for
    variables: where ``formula`` is valid, so is the result, whatever ``names`` says; where the result
    *is* another lemma's formula (the same z3 term, ``.eq``), that lemma is proved with no query
    (docs/solver-notes.md#a-turn-lemma-proved-once-for-every-trader)."""
    if not names:
        return formula
    pattern = re.compile(r"(?<=\.)(" + "|".join(map(re.escape, names)) + r")(?=[.@])")
    pairs = []
    for v in constants(formula):
        if z3.is_int_value(v) or z3.is_true(v) or z3.is_false(v):
            continue
        name = v.decl().name()
        to = pattern.sub(lambda m: names[m.group(1)], name)
        if to != name:
            pairs.append((v, z3.Const(to, v.sort())))
    return z3.substitute(formula, *pairs) if pairs else formula


def in_turn_order(traders: list[str], trader: str) -> dict[str, str]:
    """The renaming that takes the first trader's turn to ``trader``'s: the first becomes ``trader``
    and the others keep their order (a book's sums and queues run in book order, so only a renaming
    that keeps it can give the same term)."""
    return dict(zip(traders, [trader, *(t for t in traders if t != trader)], strict=True))


@attrs.frozen
class PayerFacts:
    """The payer's lemmas, each proved for every value (``formula`` is ``premise → claim``), ready
    to be instantiated on a question's terms."""

    #: per (bankrupt, payer): the charge question and its proved formula
    charges: tuple[tuple[Charge, Any], ...]
    #: the arithmetic steps: (proved formula, its (lots, gap or size, move) variables), by name
    steps: tuple[tuple[str, Any, tuple[Any, ...]], ...]
    #: the margin floor: its one-trader book and proved formula
    floor: tuple[Book, Any]
    #: per bankrupt account: the free book and proved formula of the bankrupt's side (ends at zero)
    closed: tuple[tuple[str, Book, Any], ...]
    lemmas: tuple[str, ...]
    #: where the queue may skip (dYdX): the ghost turn lemma's free book and proved formula, its ghost
    #: price the mark before the move at each trader's turn (``solver.payer_ghost.turn_formula``)
    turn: tuple[Book, Any] | None = None
    #: per payer: the fund's own deleveraging before the turns as a charge (where the fund takes
    #: over, ``payer_lemma.takes_over``): its question and proved formula
    pool_charges: tuple[tuple[Charge, Any], ...] = ()
    #: where the fund takes over: the slack step (:data:`payer_lemma.KEPT_SLACK`), proved formula and
    #: variables, instantiated on every charge (the fund's and each resolve's)
    slack: tuple[Any, tuple[Any, ...]] | None = None
    #: the question starts from the induction's premise across accounts (``solver.ghost_start``): the
    #: ghost price the bankrupt's side and the turn lemma read is the question's own, not the mark
    #: before the move (at K = 1 the two are one: the story's start)
    ghost: bool = False

    def _ghost(self, previous: Any) -> Any:
        """The term a lemma's ghost price takes in the question: the question's ghost price from the
        ghost start, else ``previous`` (the mark before the move: the story's start at K = 1)."""
        return ghost_start.price() if self.ghost else previous

    def instances(self, policy: Policy, book: Book, runs: list[SlotRun], gaps: list[Any] | None = None) -> list[Any]:
        """Every lemma's instance on the question's terms (``book`` and its runs; the one event of
        a run a mark move): the floor for each trader, and for each trader's ``resolve`` in the
        sweep the charge of each other trader and the arithmetic on it. ``gaps``, when given,
        receives each charge's gap per lot as the question's term (:meth:`gaps`)."""
        out = []
        floor_book, floor = self.floor
        [alone] = floor_book.traders
        for trader in book.traders:
            mapped = [*_pairs(alone, trader), *_pairs(floor_book.markets, book.markets)]
            out.append(instance(floor, mapped))
        for slot in runs[:1]:
            for run in slot.runs:
                if isinstance(run.variant.event, MarkPrice):
                    starts = self._resolve_starts(policy, book, run)
                    mapped: list[tuple[Charge, list[Any]]] = []  # each charge's terms, for the slack step
                    out += self._charged(policy, book, run.variant.event, [] if gaps is None else gaps, starts, mapped)
                    out += self._pool_charged(policy, book, run.variant.event, [] if gaps is None else gaps, mapped)
                    out += self._kept(mapped)
        return out

    def _kept(self, charged: list[tuple[Charge, list[Any]]]) -> list[Any]:
        """The slack step's instance on every charge (where the fund takes over), on the terms its
        charge instance was given: the fund's on the settled book, each resolve's at its start."""
        if self.slack is None:
            return []
        step, variables = self.slack
        out = []
        for charge, mapped in charged:
            terms = (*charge.cash, charge.size, charge.after_size, charge.lots, charge.gap, charge.change)
            out.append(instance(step, list(zip(variables, [instance(t, mapped) for t in terms], strict=True))))
        return out

    def _resolve_starts(self, policy: Policy, book: Book, run: Any) -> Iterable[tuple[str, Book]] | None:
        """Each trader's ``resolve`` start in ``run``'s sweep, or None for :func:`resolve_starts` of its
        event, built as :meth:`_charged` reads it (the terms in the order the figures were measured in)."""
        return None

    def _pool_charged(
        self, policy: Policy, book: Book, event: MarkPrice, gaps: list[Any], charged: list[Any] | None = None
    ) -> list[Any]:
        """The fund's charge instances at its own deleveraging before the turns (the book it starts
        from: the question's, settled; ``c₀``: the fund's equity in the question's starting book),
        and the arithmetic on each."""
        if not self.pool_charges:
            return []
        settled = settle(policy, opening(policy, book), event).book
        c0 = equity(policy.margin, book.role(Role.INSURANCE_FUND))
        out: list[Any] = []
        for charge, formula in self.pool_charges:
            mapped = [*_pairs(charge.book, settled), (z3.Int(FUND_BEFORE), c0)]
            out.append(instance(formula, mapped))
            if charged is not None:
                charged.append((charge, mapped))
            gaps.append(instance(charge.gap, mapped))
            # ``q·g ≤ q·|ΔM|`` alone: the other two steps as well made the direct check dearer
            # (bitmex, N = 2: its claim 14.4M -> 16.2M units)
            for name, step, variables in self.steps:
                if name == ARITHMETIC:
                    terms = [instance(t, mapped) for t in (charge.lots, charge.gap, charge.move)]
                    out.append(instance(step, list(zip(variables, terms, strict=True))))
        return out

    def gaps(self, policy: Policy, book: Book, runs: list[SlotRun]) -> list[Any]:
        """The gap per lot of each charge in the question, as the question's own terms (the charge
        instances' ``g``): what :mod:`solvent.solver.payer_direct` abstracts first. The facts bound
        each (``0 ≤ g ≤ |ΔM|``, ``q·g ≤ q·|ΔM|``); its definition (on Bybit the bankruptcy price
        with its fee to close and two divisions) is what the payer's pieces need least."""
        out: list[Any] = []
        self.instances(policy, book, runs, out)
        return out

    def _charges_at(
        self, policy: Policy, book: Book, trader: str, starts: Book
    ) -> Iterator[tuple[Charge, Any, list[Any]]]:
        """Each charge lemma of ``trader``'s ``resolve``, its formula and its variables' terms there
        (``starts``: the book that ``resolve`` starts from in the sweep; ``e₀``: the bankrupt
        account's equity in ``book``)."""
        for charge, formula in self.charges:
            if charge.bankrupt == trader:
                e0 = equity(policy.margin, book.account(trader))
                yield charge, formula, [*_pairs(charge.book, starts), (z3.Int(BEFORE), e0)]

    def _charged(
        self,
        policy: Policy,
        book: Book,
        event: MarkPrice,
        gaps: list[Any],
        starts: Iterable[tuple[str, Book]] | None = None,
        charged: list[Any] | None = None,
    ) -> list[Any]:
        """The charge and arithmetic instances at each trader's ``resolve`` in the sweep of ``event``
        (``starts``: each trader and the book its ``resolve`` starts from, where given)."""
        # the settled gains after the other facts: the order the figures were measured in (z3's exact
        # phase near a question's limit depends on it, docs/solver-notes.md#the-payers-settled-gain)
        out: list[Any] = []
        gains: list[Any] = []
        if self.turn is not None:  # the first trader's turn keeps the ghost (the later ones' turns follow it)
            free, formula = self.turn
            first, before = next(turn_starts(policy, book, event))
            if first == free.traders[0].name:
                ghost = self._ghost(before.market.previous_mark_quote)
                mapped = [*_pairs(free, before), (z3.Int(f"{WALK}ghost_mark"), ghost)]
                out.append(instance(formula, mapped))
        for trader, start in resolve_starts(policy, book, event) if starts is None else starts:
            for bankrupt, free, formula in self.closed:
                if bankrupt == trader:
                    pairs = list(_pairs(free, start))
                    if self.ghost:  # its ghost price (the free book's mark before the move) the question's
                        previous = free.market.previous_mark_quote
                        pairs = [(v, ghost_start.price() if v.eq(previous) else t) for v, t in pairs]
                    out.append(instance(formula, pairs))
            for charge, formula, mapped in self._charges_at(policy, book, trader, start):
                out.append(instance(formula, mapped))
                if charged is not None:
                    charged.append((charge, mapped))
                if charge.per_fill:  # each fill's share bounded by the lemma itself: q·|ΔM| ≤ |S|·|ΔM| = S·ΔM
                    on = {
                        WITHIN_POSITION: (charge.lots, charge.size, charge.move),
                        SETTLED_GAIN: (charge.size, charge.change),
                    }
                    for name, step, variables in self.steps:
                        if name in on:
                            terms = [instance(t, mapped) for t in on[name]]
                            (gains if name == SETTLED_GAIN else out).append(
                                instance(step, list(zip(variables, terms, strict=True)))
                            )
                    continue
                if charge.gap is None:
                    continue
                gaps.append(instance(charge.gap, mapped))
                on = {
                    ARITHMETIC: (charge.lots, charge.gap, charge.move),
                    WITHIN_POSITION: (charge.lots, charge.size, charge.move),
                    SETTLED_GAIN: (charge.size, charge.change),
                }
                for name, step, variables in self.steps:
                    terms = [instance(t, mapped) for t in on[name]]
                    (gains if name == SETTLED_GAIN else out).append(
                        instance(step, list(zip(variables, terms, strict=True)))
                    )
        return out + gains


def resolve_starts(policy: Policy, book: Book, event: MarkPrice) -> Iterator[tuple[str, Book]]:
    """Each trader of ``book`` in sweep order and the book its ``resolve`` starts from in the sweep
    of ``event`` (settled, the turns before it run, its spot converted, as ``liquidation_turn`` does):
    the terms a lemma on ``resolve`` is instantiated on."""
    ctx = _settled(policy, book, event)
    for trader in [a.name for a in book.traders]:
        yield trader, convert_spot(policy.margin, Ctx(ctx.book), trader).book
        ctx = liquidation_turn(policy, ctx, trader)


def turn_starts(policy: Policy, book: Book, event: MarkPrice) -> Iterator[tuple[str, Book]]:
    """Each trader of ``book`` in sweep order and the book its liquidation turn starts from in the
    sweep of ``event`` (settled, the turns before it run)."""
    ctx = _settled(policy, book, event)
    for trader in [a.name for a in book.traders]:
        yield trader, ctx.book
        ctx = liquidation_turn(policy, ctx, trader)


def bankrupt_question(policy: Policy, bankrupt: str) -> tuple[Book, list[Any], Any]:
    """The ADL lemma on the engine's ``resolve`` (the bankrupt's side; ``solver.adl_lemma`` asks it of
    ``deleverage`` alone): on a fresh two-trader book, a trader holding a position and bankrupt at
    the liquidation's execution price, with open interest balanced among the traders and the book
    and no other account holding a position, ends its ``resolve`` with no cash and no position,
    whatever the layers before ADL paid. ``(book, premise, claim)``."""
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    liquidity = book.role(Role.LIQUIDITY).name
    holders = [a.size_lots for a in book.accounts if a.is_trader or a.name == liquidity]
    account = book.account(bankrupt)
    slip = abs_(account.size_lots) * slip_per_lot(policy.liquidation, book.market.mark_quote)
    premise = [
        book.market.mark_quote >= 1,
        account.size_lots != 0,
        equity(policy.margin, account) - slip < 0,
    ]
    if not takes_over(policy):  # the fund takes over what the queue and the book leave: nobody need hold them
        premise += [
            sum_(holders) == 0,
            *(a.size_lots == 0 for a in book.accounts if not (a.is_trader or a.name == liquidity)),
        ]
    if skips(policy):  # dYdX's overlap rule: the other trader within the ghost invariant, so not skipped
        premise += ghost_premise(policy, book, bankrupt)
    after = resolve(policy, Ctx(book), bankrupt).book.account(bankrupt)
    return book, premise, z3.And(after.cash_quote == 0, after.size_lots == 0)


def skip_instances(policy: Policy, skip: tuple[Any, ...], book: Book, bankrupt: str) -> list[Any]:
    """The skip lemmas (:func:`skip_lemmas`, the first trader bankrupt) for ``bankrupt`` on the
    free two-trader ``book``: renamed where it is the second trader (a renaming of a valid formula
    is valid), the ghost price the mark before the move, the walk's state its start
    (``rules.adl.walk_start`` of the bankrupt account as it stands)."""
    first = book.traders[0].name
    other = next(a.name for a in book.traders if a.name != bankrupt)
    account = book.account(bankrupt)
    remaining, deficit = walk_start(equity(policy.margin, account), abs_(account.size_lots))
    pairs = [
        (z3.Int(f"{WALK}ghost_mark"), book.market.previous_mark_quote),
        (z3.Int(f"{WALK}remaining"), remaining),
        (z3.Int(f"{WALK}deficit"), deficit),
    ]
    names = {} if bankrupt == first else {first: bankrupt, bankrupt: other}
    return [z3.substitute(renamed(f, names), *pairs) for f in skip]


CLOSED = "the bankrupt's side: resolved with its whole position taken, an account ends with no cash and no position"


def prove(policy: Policy, valid: Valid, start_margin: str = "initial") -> PayerFacts | None:
    """The payer's lemmas on ``policy``, each proved by ``valid`` (exact z3, every number free): for
    each bankrupt account of the two-trader book its side and each payer's charge, the arithmetic
    and the floor. None where
    the payer's argument does not apply (``valid`` raises where a lemma does not hold: no fact is
    given then). Where ADL shares the deficit per fill (dYdX) the charge bounds each payment by the
    lots times the move, and the arithmetic takes it on from there (``q·|ΔM| ≤ |S|·|ΔM| = S·ΔM``);
    where the queue may skip (dYdX's overlap rule) the bankrupt's side is asked with the other
    trader within the ghost invariant at the mark before the move, the skip lemma's instance given
    (``solver.payer_ghost``; docs/solver-notes.md#dydxs-payer-claims-session-21)."""
    if policy.adl is None or applies(policy, ghost=skips(policy)) is not None:
        return None
    names = ("alice", "bob")
    # dYdX's overlap rule: no candidate within the ghost invariant is skipped, proved first (by the
    # bankrupt account's side) and given to the bankrupt's side as its instance at the walk's start
    skip = skip_lemmas(policy, valid) if skips(policy) else ()
    closed = []  # first: the lemma a wrong bankruptcy price breaks
    for bankrupt in names:
        if skip:  # asked in a fresh z3 context, the skip's formulas built again there (solver.payer_ghost)
            with effort.question():
                free, premise, claim = bankrupt_question(policy, bankrupt)
                helped = [*premise, *skip_instances(policy, skip_formulas(policy), free, bankrupt)]
                valid(f"{CLOSED} ({bankrupt})", helped, claim)
        free, premise, claim = bankrupt_question(policy, bankrupt)
        if not skip:
            valid(f"{CLOSED} ({bankrupt})", premise, claim)
        # valid without the skip's instances, which are valid themselves: the fact needs no more
        closed.append((bankrupt, free, z3.Implies(z3.And(*premise), claim)))
    charges = []
    for bankrupt, payer in ((names[0], names[1]), (names[1], names[0])):
        charge = charge_question(policy, bankrupt, payer)
        if not charge.per_fill and charge.gap is None:
            return None
        premise = list(charge.premise)
        claim = z3.And(charge.fill, charge.bound)
        valid(f"payer's charge as a fact ({bankrupt} bankrupt, {payer} paying): its fill and gap", premise, claim)
        charges.append((charge, z3.Implies(z3.And(*premise), claim)))
    steps = []
    for name in (ARITHMETIC, WITHIN_POSITION, SETTLED_GAIN):
        premise, claim, variables = arithmetic(name)
        valid(name, list(premise), claim)
        steps.append((name, z3.Implies(z3.And(*premise) if len(premise) > 1 else premise[0], claim), variables))
    pool_charges = []
    if takes_over(policy):  # the fund's own deleveraging before the turns, a charge of its own
        for payer in names:
            charge = pool_charge_question(policy, payer)
            if charge.gap is None:
                return None
            premise = list(charge.premise)
            claim = z3.And(charge.fill, charge.bound)
            valid(f"the fund's deleveraging charges {payer} within the move, as a fact", premise, claim)
            pool_charges.append((charge, z3.Implies(z3.And(*premise), claim)))
    slack = None
    if takes_over(policy):  # the payer's slack kept by each charge, the fund's and each resolve's
        premise, claim, variables = arithmetic(KEPT_SLACK)
        valid(KEPT_SLACK, list(premise), claim)
        slack = (z3.Implies(z3.And(*premise), claim), variables)
    floor_book, premise, claim = floor_question(policy, start_margin)  # the question's own start
    valid(FLOOR, premise, claim)
    lemmas = (
        "the payer's lemmas as facts (z3, exact, every number free; instantiated on the question's terms): "
        "the charge of each payer at each trader's resolve, q·g ≤ q·|ΔM| ≤ |S|·|ΔM| = S·ΔM, the bankrupt's side "
        "(resolved with its whole position taken, an account ends at zero) and each trader's margin floor"
        + (
            "; the queue's overlap rule covered by the ranking's ghost invariant: the bankrupt's side with the other "
            "trader within it at the mark before the move (the skip lemma's instance given), and the ghost turn "
            "lemma at the first trader's turn"
            if skip
            else ""
        ),
    )
    floor = (floor_book, z3.Implies(z3.And(*premise), claim))
    turn = None
    if skip:  # the ghost turn lemma, proved by the all-N argument in this question or here, alone
        if not turn_proved(policy):
            with effort.question():
                turn_lemma(policy, lambda name, premise, claim, exact=True: valid(name, premise, claim))
        turn = turn_formula(policy)
    ghost = start_margin == ghost_start.GHOST_START
    return PayerFacts(
        tuple(charges), tuple(steps), floor, tuple(closed), lemmas, turn, tuple(pool_charges), slack=slack, ghost=ghost
    )


__all__ = [
    "CLOSED",
    "PayerFacts",
    "Valid",
    "bankrupt_question",
    "in_turn_order",
    "instance",
    "prove",
    "renamed",
    "resolve_starts",
]

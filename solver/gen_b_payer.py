"""``no-negative-equity`` and ``loss-bounded-by-collateral`` for every N on percolator Gen B: the payer's
bound, kept turn by turn (docs/solver-notes.md#gen-bs-payer-claims-wired-into-prove-session-25).

Gen B charges a bankrupt account's deficit to the opposing side per lot it gives up (``side_index``,
``k_up``) and resolves in a cascade every trader the charge sinks. ``solver.side_payer`` proves the
per-call pieces (the per-lot charge, a resolve, a solvent close, a winner never triggered, the write-off)
and ``solver.gen_b_turn`` composes them into a trader's turn with its cascade and the sweep's turns, each
exact z3 on the engine's own functions, every number free. This module asks them as one argument, on a
free book of :data:`TRADERS` traders and the order book (``side_payer.traders``), and gives the same
formulas to the direct check on the lemmas' book as facts (:class:`GenBFacts`):

1. **the step** (``haircut_payer.decomposes``, structurally on three traders: no query): opening,
   settle, before_turns, one turn per trader in book order, after_sweep, closing;
2. **the settlement** (``side_payer.settle_lemmas``): each trader's ``E − s·d`` at least its initial
   margin at the previous mark, its position kept (each account's own assumptions: the same lemma for
   an account of any N); and **when the turns start** (:func:`turns_start_parts`, from the question's
   assumptions): the fund at or above 0 and the book reachable (open interest balanced, only the
   holders holding);
3. **the settlement's arithmetic** (``gen_b_turn.start_lemma``): 2's claim per trader gives its part of
   the sweep's premise (the payer's bound, each winner at ``E − |s|·m ≥ IM(s)``);
4. **the pieces** (``side_payer``: the per-lot charge, the resolve, the solvent close, each with every
   trader the account acted on; a winner never triggered; the write-off; ``gen_b_turn``: a sunk trader a
   loser below zero, the resolve and the close keeping the fund and a reachable book);
5. **each trader's turn with its cascade** (``gen_b_turn``: the iteration over the others, the loop
   after its resolve, the turn): the trader ends at or above 0 and the bound is kept for the others, a
   trader at or above 0 stays so, a winner's lots only shrink and its ``E − |s|·m`` does not fall;
6. **the sweep's turns** (``gen_b_turn.sweep_lemma``): from the bound with every winner at
   ``E − |s|·m ≥ IM(s)``, every trader ends at or above 0;
7. **the close** (``haircut_payer.close_parts``): after_sweep and closing keep every trader's cash.

By induction over the turns in book order (5 on each turn: its own trader at or above 0, the bound kept
for every other, a trader at or above 0 staying so), from 2-3 at the first turn, every trader ends the
sweep at or above 0, and 7 keeps it: no-negative-equity for any N, one mark move (K > 1: :func:`_over_moves`, the
same lemmas again from the premise over moves, ``side_payer.OVER_MOVES``, which a whole move keeps: :data:`KEPT`,
``solver.gen_b_move``); Gen B carries no debt
(``debt_quote`` stays 0: nothing lends), so loss-bounded-by-collateral is the same claim. The all-N step
rests on :data:`ASSUMES`, said in the verdict. ``solver.prove`` still asks the claim directly on the
lemmas' two-trader book, with the same formulas instantiated on the question's terms (the settlement's
on its start and event, 3's and 6's on the book its sweep starts from, 7's on the book its sweep leaves):
an instance of a valid formula is valid, so the question keeps its models.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.rules.book import Book
from solvent.rules.engine import liquidation_turn
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Ctx
from solvent.rules.policy import Policy
from solvent.rules.rounding import SideIndex
from solvent.solver import gen_b_move, gen_b_principal, gen_b_transfers, gen_b_turn, haircut_payer, side_payer
from solvent.solver.bounds import Bounds
from solvent.solver.fund_facts import _starts
from solvent.solver.payer_facts import _pairs, instance
from solvent.solver.per_account import _conjuncts, _settled
from solvent.solver.side_claims import balanced
from solvent.solver.story import SlotRun, slots, symbolic_book

#: the claims the argument decides (a trader's equity after the step; Gen B lends nothing); principal-protected
#: with ``solver.gen_b_principal``'s lemmas beside (each charge's payer ends where the bound leaves it)
CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "principal-protected")
#: the free book's traders (the lemmas' book)
TRADERS = 2
#: what the all-N verdict assumes of the engine (``Scope.assumes``)
ASSUMES = (
    "each trader's turn on Gen B treats every other trader as the two-trader book's turn treats the other (the "
    "order book standing for the rest of the opposing side): a payer's per-lot charge is at most the move on each "
    "lot it gives up whatever the number of payers (its share reads the deficit, its own lots taken and ΔK), the "
    "cascade is the turn's resolve followed by one iteration per other trader, each resolving the first trader "
    "sunk; each account settles, the phases before the turns keep the fund at or above 0 and open interest "
    "balanced, and the close keeps each trader's cash, as on the two-trader book"
)
METHOD = (
    "compositional, all N, one event: the payer's bound on Gen B (a loser at E ≥ −|s|·m, a winner at E − |s|·m ≥ "
    "IM(s), a flat trader at or above 0, the fund at or above 0, the book reachable) from the settlement, kept by "
    "each trader's turn with its cascade (the per-lot charge at most m a lot given up, each resolve and solvent close "
    "leaving its trader flat at or above 0, a winner never triggered; z3, exact, on the engine's own functions, "
    "every number free, each composition cut at its branches and read term for term), by induction over the turns "
    f"in book order; assumes {ASSUMES}"
)
#: the well-formed book's condition the premise over moves drops (``wellformed``: a move against the order book
#: takes its cash below 0; docs/solver-notes.md#gen-b-over-moves-which-premises-a-move-keeps-session-25)
ORDER_BOOK_CASH = "the order book starts with non-negative cash"
#: the premise each move starts from at K > 1 (the induction's; ``Bounds.start_margin``)
MOVES_PREMISE = "maintenance"
#: what the induction over moves proves of the premise a move keeps (gen_b_turn.maintenance_lemmas, gen_b_move
#: and the one-move argument's lemmas; docs/solver-notes.md#gen-bs-premise-over-a-whole-move-session-26)
KEPT = (
    "every trader with a position ends the move not liquidatable at the new mark (its own turn leaves it not "
    "triggered, a loser not triggered stays so through another's turn, a winner keeps its floor through every turn "
    "and a winner at its floor is not triggered: z3, exact, on the engine's own functions), every trader at or "
    "above 0 (the claim), the fund at or above 0, open interest balanced and only the holders holding (the "
    "settlement's, the turn's and the resolve's and solvent close's lemmas), and the close, the marks and the other "
    "pools (gen_b_move: the close keeps every position, every pool's cash and the marks; the move keeps the marks "
    "positive and on the tick and leaves the fee account and the backstop vault)"
)
#: the premise each later move starts from, in words (``side_payer.OVER_MOVES``)
PREMISE_SAID = (
    "the book's marks positive and on the tick, open interest balanced with only the holders holding, the pools at "
    "or above 0, every trader not liquidatable and worth at least zero (the well-formed book's conditions the "
    "one-move argument reads: its settlement's and turns' start's queries asked from them alone; the others, the "
    "question's bounds, conservation and a trader's cost basis, counts, reserves and principal, read by no lemma)"
)
METHOD_MOVES = (
    "compositional, all N, any K: by induction over the mark moves, the payer's bound on Gen B asked twice, each "
    "winner's E − |s|·m at least its initial margin at the previous mark (the first move, from the question's "
    f"start) and above its maintenance margin there (every later move, from the premise each move keeps: {PREMISE_SAID}); "
    "each kept by every trader's turn with its cascade (z3, exact, on the engine's own functions, every number "
    f"free) by induction over the turns in book order; the premise kept by a whole move: {KEPT}; assumes {ASSUMES}"
)
#: said of a lemma this question proved already (the direct check's facts ask the same formulas)
PROVED_BEFORE = haircut_payer.PROVED_BEFORE

Valid = Callable[..., str]


def not_covered(policy: Policy, bounds: Bounds) -> str | None:
    """Why the argument does not apply (None where it does): mark moves on one market, no assets or
    isolated positions, under Gen B's waterfall (a write-off of flat accounts, a per-lot charge of the
    opposing side with a cascade, ``k_up``, no ADL)."""
    if set(bounds.event_kinds) != {"mark"} or bounds.markets != 1:
        return "mark moves on one market"
    if bounds.assets or bounds.isolated:
        return "no collateral assets or isolated positions"
    why = gen_b_transfers.waterfall_not_covered(policy)
    if policy.rounding.side_index is not SideIndex.K_UP or (why is not None and why.startswith("not Gen B's")):
        return "not Gen B's waterfall (a write-off of flat accounts, a per-lot k_up charge of the opposing side with a cascade)"
    return why


def inducts(policy: Policy, bounds: Bounds) -> bool:
    """Whether the payer's bound is asked by induction over ``bounds``' K > 1 mark moves (:data:`MOVES_PREMISE`)."""
    return bounds.events > 1 and not_covered(policy, bounds) is None


def fits(policy: Policy, bounds: Bounds, claim: str) -> bool:
    """Whether the facts serve ``claim``'s direct check within ``bounds``: one of :data:`CLAIMS`, one mark
    move on the lemmas' book, where the argument applies."""
    if claim not in CLAIMS or bounds.accounts != TRADERS or bounds.events != 1:
        return False
    return not_covered(policy, bounds) is None


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def _asked(valid: Valid, said: Callable[[str, str], None]) -> Valid:
    """``valid`` (exact: ``valid(name, premise, claim)``) on ``premise → claim``, or no query where this
    question proved the same formula (the direct check's facts and the argument ask the same formulas)."""

    def ask(name: str, premise: list[Any], claim: Any, **_: Any) -> str:
        return haircut_payer.ask_once(valid, said, name, premise, claim)

    return ask


def turns_start_parts(policy: Policy, bounds: Bounds) -> list[tuple[str, Any, Book, list[tuple[str, list[Any], Any]]]]:
    """Per variant of the move on a free book of :data:`TRADERS` traders: its label, free event, free book
    and the claims, from the question's assumptions, of the book the turns start from (after
    ``per_account._settled``: opening, settle, before_turns): the fund at or above 0, the book reachable."""
    one = attrs.evolve(bounds, accounts=TRADERS, events=1, event_kinds=("mark",))
    book, _ = symbolic_book(one)
    out = []
    for slot in slots(book, one):
        for variant in slot.variants:
            # (at maintenance not the order book's cash: a move against it takes it below 0, the premise over
            # moves has none)
            held = side_payer.start_assumptions(policy, book, one)
            held = [a for a in held if a.name != ORDER_BOOK_CASH or side_payer.margin_of(one) == "initial"]
            premise = [c for a in held for c in _conjuncts(a.holds)]
            premise += _conjuncts(slot.field_bounds)
            start = _settled(policy, book, variant.event).book
            claims = [
                ("the fund at or above 0", _b(start.account("insurance_fund").cash_quote >= 0)),
                (
                    "the book reachable (open interest balanced, only the holders holding)",
                    z3.And(*map(_b, balanced(policy, start))),
                ),
            ]
            out.append((variant.label, variant.event, book, [(s, premise, c) for s, c in claims]))
    return out


def _pieces(policy: Policy, ask: Valid) -> list[str]:
    """4-6 of the module docstring on the free book of :data:`TRADERS` traders."""
    names = [a.name for a in side_payer.free_book().traders]
    lemmas = []
    for name in names:
        lemmas += side_payer.lemmas(policy, ask, bankrupt=name)
        lemmas += side_payer.resolve_lemmas(policy, ask, bankrupt=name)
        lemmas += side_payer.solvent_close_lemmas(policy, ask, acted=name)
        lemmas += gen_b_turn.keeps_lemmas(policy, ask, bankrupt=name)
    lemmas += side_payer.winner_lemmas(policy, ask)
    lemmas += side_payer.write_off_lemma(policy, ask)
    lemmas += gen_b_turn.sunk_lemmas(policy, ask)
    for name in names:
        lemmas += gen_b_turn.iteration_lemma(policy, ask, names=[n for n in names if n != name])
        lemmas += gen_b_turn.loop_lemma(policy, ask, chain=name)
        lemmas += gen_b_turn.turn_lemma(policy, ask, cascade=True, acted=name)
    lemmas += gen_b_turn.sweep_lemma(policy, ask)
    lemmas += gen_b_turn.start_lemma(policy, ask)
    return lemmas


def _settlement(policy: Policy, bounds: Bounds, ask: Valid) -> list[str]:
    """2 of the module docstring: each trader's settlement, and the book when the turns start."""
    lemmas = side_payer.settle_lemmas(policy, bounds, ask)
    for label, _, _, parts in turns_start_parts(policy, bounds):
        for said, premise, claim in parts:
            lemmas.append(ask(f"when the turns start ({label}, {TRADERS} traders): {said}", premise, claim))
    return lemmas


def _close(policy: Policy, ask: Valid) -> str:
    free, _ = symbolic_book(Bounds(accounts=TRADERS))
    name = f"the close ({TRADERS} traders): after_sweep and closing keep every trader's cash"
    return ask(name, [], haircut_payer.close_parts(policy, free))


def argument(
    policy: Policy,
    bounds: Bounds,
    valid: Valid,
    fail: Callable[[str], None],
    said: Callable[[str, str], None],
    claim: str | None = None,
) -> list[str]:
    """The lemmas of the module docstring, or ``fail(reason)`` where the argument does not apply
    (``valid`` raises where a lemma does not hold or is not decided); for ``principal-protected``
    ``solver.gen_b_principal``'s beside them."""
    why = not_covered(policy, bounds)
    if why is not None:
        fail(f"Gen B's payer bound: {why}")
    if bounds.events > 1:
        return _over_moves(policy, bounds, valid, fail, said, claim)
    ask = _asked(functools.partial(valid, exact=True), said)
    lemmas = []
    try:
        with side_payer.traders(TRADERS), side_payer.bound_margin(side_payer.margin_of(bounds)):
            lemmas += _settlement(policy, bounds, ask)
            lemmas += _pieces(policy, ask)
    except ValueError as e:  # a piece not the engine's term for term (a mutated engine): no argument
        fail(f"Gen B's payer bound: {e}")
    # (the step's structure after the queries: a settlement that does not hold fails first, with no build)
    lemmas.insert(0, haircut_payer.decomposes(policy, bounds, fail))
    lemmas.append(_close(policy, ask))
    lemmas.append(
        "aggregate, by induction over the turns in book order: the settlement puts every trader within the payer's "
        "bound at the first turn (a winner at E − |s|·m ≥ IM(s)), each trader's turn with its cascade leaves it at or "
        "above 0 and keeps the bound for every other, a trader at or above 0 staying so, and the close keeps every "
        "cash: every trader ends the step at or above 0 with no debt, for any N"
    )
    if claim == gen_b_principal.CLAIM:
        with side_payer.traders(TRADERS):
            lemmas += gen_b_principal.argument(policy, bounds, ask, fail)
    return lemmas


def _over_moves(
    policy: Policy,
    bounds: Bounds,
    valid: Valid,
    fail: Callable[[str], None],
    said: Callable[[str, str], None],
    claim: str | None,
) -> list[str]:
    """K > 1 mark moves: the one-move argument from the question's start (the first move) and from the premise
    over moves (every later move: ``side_payer.OVER_MOVES`` at :data:`MOVES_PREMISE`, :data:`PREMISE_SAID`), and
    the premise kept by a whole move (:data:`KEPT`: ``gen_b_turn.maintenance_lemmas``, ``gen_b_move.move_lemmas``)."""
    one = attrs.evolve(bounds, events=1)
    lemmas = argument(policy, one, valid, fail, said, claim)
    later_bounds = attrs.evolve(one, start_margin=MOVES_PREMISE)
    # (asked again where the question starts at maintenance too: the later moves start from less than it)
    with side_payer.premise_over_moves():
        later = argument(policy, later_bounds, valid, fail, said, claim)
    lemmas += [f"every later move, from the premise over moves: {x}" for x in later]
    ask = _asked(functools.partial(valid, exact=True), said)
    try:
        with side_payer.traders(TRADERS):  # (no floor read: the same lemmas for the first move and the later)
            kept = gen_b_turn.maintenance_lemmas(policy, ask)
        kept += gen_b_move.move_lemmas(policy, later_bounds, ask)
    except ValueError as e:  # a piece not the engine's term for term (a mutated engine): no argument
        fail(f"Gen B's premise over moves: {e}")
        raise
    lemmas += [f"the premise kept by a move: {x}" for x in kept]
    lemmas.append(
        "aggregate, by induction over the moves: the first move from the question's start and every later one from "
        f"the premise over moves ({PREMISE_SAID}; each trader ends the move at or above 0; the premise kept: {KEPT})"
    )
    return lemmas


@attrs.frozen
class GenBFacts:
    """The argument's formulas (each ``premise → claim``, proved for every value), ready to be
    instantiated on a question's terms: the settlement's and the turns' start's on its start and event,
    the start lemma's and the sweep's (each side) on the book its sweep starts from, the close's on the
    book its sweep leaves."""

    book: Book
    #: per variant label: the free event, the free book and the settlement's and turns' start's formulas
    settled: tuple[tuple[str, Any, Book, tuple[Any, ...]], ...]
    #: per side: the start lemma's formula and the sweep's, and the free move they read
    sweeps: tuple[tuple[int, Any, Any], ...]
    move: Any
    close: tuple[Book, Any]
    lemmas: tuple[str, ...]

    def instances(self, policy: Policy, book: Book, runs: list[SlotRun]) -> list[Any]:
        """Each formula's instance on the question's terms (the first move's runs)."""
        settled = {label: (event, free, fs) for label, event, free, fs in self.settled}
        out = []
        for slot in runs[:1]:
            for run in slot.runs:
                if not isinstance(run.variant.event, MarkPrice):
                    continue
                if run.variant.label in settled:
                    event, free, fs = settled[run.variant.label]
                    pairs = [*_pairs(free, book), *_pairs(event, run.variant.event)]
                    out += [instance(f, pairs) for f in fs]
                starts = _starts(policy, book, run)
                first = starts[0][1]
                # the move read off the free book's marks, then every free number taken to the question's term
                mark, previous = self.book.market.mark_quote, self.book.market.previous_mark_quote
                pairs = list(_pairs(self.book, first))
                for side, start, sweep in self.sweeps:
                    moved = [(self.move, (previous - mark) * side)]
                    out += [instance(z3.substitute(f, *moved), pairs) for f in (start, sweep)]
                name, last = starts[-1]
                end = liquidation_turn(policy, Ctx(last), name).book
                free, formula = self.close
                out.append(instance(formula, list(_pairs(free, end))))
        return out


def facts(policy: Policy, bounds: Bounds, valid: Valid, said: Callable[[str, str], None]) -> GenBFacts:
    """The argument's lemmas proved (``valid`` raises where one does not hold or is not decided), then
    their formulas built again in the caller's context, to instantiate."""
    from solvent.solver.compositional import _Failed

    ask = _asked(valid, said)
    try:
        return _facts(policy, bounds, ask)
    except ValueError as e:  # a piece not the engine's term for term (a mutated engine): no fact
        raise _Failed(f"Gen B's payer bound: {e}") from None


def _facts(policy: Policy, bounds: Bounds, ask: Valid) -> GenBFacts:
    with side_payer.traders(TRADERS), side_payer.bound_margin(side_payer.margin_of(bounds)):
        lemmas = _settlement(policy, bounds, ask) + _pieces(policy, ask)
        lemmas.append(_close(policy, ask))
        settled = []
        starts = {label: (event, free, parts) for label, event, free, parts in turns_start_parts(policy, bounds)}
        for label, event, free, parts in side_payer.settle_parts(policy, bounds):
            start_event, start_free, start_parts = starts[label]
            formulas = [z3.Implies(z3.And(*p), c) for _, p, c in parts]
            # the turns' start's formulas on the settlement's free book and event (the same names: both
            # built by symbolic_book on two traders; said so, not assumed)
            own = [*_pairs(start_free, free), *_pairs(start_event, event)]
            formulas += [z3.substitute(z3.Implies(z3.And(*p), c), *own) for _, p, c in start_parts]
            settled.append((label, event, free, tuple(formulas)))
        book = side_payer.free_book()
        move = gen_b_turn._move()
        sweeps = []
        for _, side in side_payer.SIDES:
            start = _start_formula(policy, book, side, move)
            sweep = _sweep_formula(policy, book, side, move)
            sweeps.append((side, start, sweep))
    free, _ = symbolic_book(Bounds(accounts=TRADERS))
    close = (free, haircut_payer.close_parts(policy, free))
    return GenBFacts(book, tuple(settled), tuple(sweeps), move, close, tuple(lemmas))


def _start_formula(policy: Policy, book: Book, side: int, move: Any) -> Any:
    """``gen_b_turn.start_lemma``'s formula for ``side`` on ``book`` (its premise → every trader's part of
    the sweep's premise)."""
    premise, claim = gen_b_turn.start_parts(policy, book, side, move)
    return z3.Implies(z3.And(*premise), z3.And(*claim))


def _sweep_formula(policy: Policy, book: Book, side: int, move: Any) -> Any:
    """``gen_b_turn.sweep_lemma``'s formula for ``side`` on ``book``: its premise (the bound, every winner at
    ``E − |s|·m ≥ IM(s)``) → every trader at or above 0 after the sweep's turns (the engine's terms)."""
    at = book
    for a in book.traders:
        at = liquidation_turn(policy, Ctx(at), a.name).book
    start = gen_b_turn._sweep_start(policy, book, side, move)
    claim = z3.And(*(_b(at.account(a.name).cash_quote >= 0) for a in book.traders))
    return z3.Implies(z3.And(*start), claim)


__all__ = [
    "ASSUMES",
    "CLAIMS",
    "METHOD",
    "KEPT",
    "METHOD_MOVES",
    "MOVES_PREMISE",
    "PREMISE_SAID",
    "GenBFacts",
    "argument",
    "facts",
    "fits",
    "inducts",
    "not_covered",
    "turns_start_parts",
]

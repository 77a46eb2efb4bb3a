"""A trader's turn *with* the socialized loss's cascade, proved on a free two-trader book and given to
the direct check on the lemmas' book as facts (Drift v2, Mango v4).

Where the cascade invariant holds (:mod:`solvent.solver.cascade_invariant`: no-negative-equity and
loss-bounded-by-collateral for every N), ``solver.prove`` still asks the claim directly on the
lemmas' two-trader book. On Drift that question was undecided within 15.6M units
(docs/solver-notes.md#what-stops-drift): z3 follows two turns, each with Drift's liquidation (an order
sized to the margin shortage plus its buffer), its capped fund beside the fee pool, the socialized
loss and the cascade's loop. The claim is an induction over the turns, so that step is proved first,
on the engine's own ``liquidation_turn`` (the cascade included), for each trader of a free book of two
traders (every number free, the mark a price), from a book where every flat trader is worth at least 0:

1. the turn's trader ends worth at least 0;
2. every other trader flat after the turn is worth at least 0;
3. every other trader worth at least 0 before the turn is worth at least 0 after it (the turn's own
   trader is 1's).

Each part is asked on its own, each in a fresh z3 context (so its units are the same whatever the
question built before it: inside ``prove``'s context, after the cascade invariant's lemmas, the
first part spent 2.09M units and was undecided, where fresh it is unsat in 1.06M). Asked as one claim
on Drift the turn was undecided within 8M units; 2 and 3 speak of the other trader only (the turn's
own is 1's), which is what the induction over the turns needs: Drift's parts 1,059,782, 167,604 and
666,461 units (with 3 over every trader, undecided within 4M). The second trader's
parts are the first's with the accounts renamed (``payer_facts.renamed``): a renaming of a valid
formula is valid, so they are not asked (they speak of the turn on the book in the renamed order,
which is not the same z3 term as the second trader's own turn; z3 relates the two). Each is then instantiated
(``payer_facts.instance``) on the book that trader's turn starts from in the question's sweep
(``fund_facts._starts``: the books the sweep reached, recorded as it was built), and added to the
question as a fact: an instance of a formula valid for every value is valid, so the question keeps
exactly its models and a refutation is still a story replayed on the concrete engine. Where a part
does not hold (a mutated engine) or is not decided, no fact is given and the question is asked as
before (``payer_direct.prepared``: a lemma is never assumed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.rules.arith import all_, implies
from solvent.rules.book import Book
from solvent.rules.engine import liquidation_turn
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Ctx
from solvent.rules.policy import Policy
from solvent.solver import cascade_invariant, effort
from solvent.solver.bounds import Bounds
from solvent.solver.fund_facts import _starts
from solvent.solver.payer_facts import _pairs, in_turn_order, instance, renamed
from solvent.solver.story import SlotRun, symbolic_book

#: the claims whose direct check on the lemmas' book gets these facts: the cascade invariant's two
#: (claims-backed is asked by its parts, no-negative-equity's verdict among them: ``solver.claims_backed``)
CLAIMS = cascade_invariant.CLAIMS
#: the free book's traders (the lemmas' book)
TRADERS = 2
#: the three parts, by name (see the module docstring)
PARTS = (
    "its trader ends at or above 0",
    "every other trader flat after it is at or above 0",
    "every other trader at or above 0 stays there",
)
#: the premise of every part
PREMISE = "every flat trader at or above 0"
#: said of the second trader's parts: a renaming of a valid formula is valid (a substitution of variables
#: for variables), so no query; the terms it speaks of are the turn's on the book with the two traders
#: swapped, and z3 relates them to the question's own (drift: unsat in 23,077 units with them, undecided
#: within 3M with the first trader's alone)
RENAMED = "the first trader's ({first}'s) renamed, the accounts swapped: valid as it is, no query"

Valid = Callable[[str, list[Any], Any], str]


def fits(policy: Policy, bounds: Bounds, claim: str) -> bool:
    """Whether the facts serve ``claim``'s direct check within ``bounds``: one of :data:`CLAIMS`,
    where the cascade invariant applies, one mark move on the lemmas' book."""
    if claim not in CLAIMS or bounds.accounts != TRADERS or set(bounds.event_kinds) != {"mark"}:
        return False
    return cascade_invariant.not_covered(policy, bounds) is None


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def parts(policy: Policy, free: Book, trader: str) -> tuple[list[Any], list[Any]]:
    """The premise and the three claims (:data:`PARTS`) of ``trader``'s turn on ``free``."""
    after = liquidation_turn(policy, Ctx(free), trader).book
    names = [a.name for a in free.traders]

    def value(book: Book, name: str) -> Any:
        return cascade_invariant._value(policy, book, name)

    def flat(book: Book, name: str) -> Any:
        return cascade_invariant._flat(book, name)

    premise = [free.market.mark_quote >= 1] + [implies(flat(free, n), value(free, n) >= 0) for n in names]
    claims = [
        value(after, trader) >= 0,
        all_(implies(flat(after, n), value(after, n) >= 0) for n in names if n != trader),
        all_(implies(value(free, n) >= 0, value(after, n) >= 0) for n in names if n != trader),
    ]
    return [_b(p) for p in premise], [_b(c) for c in claims]


@attrs.frozen
class CascadeFacts:
    """The turn's three parts, proved for each trader of a free two-trader book (each formula
    ``premise → part``), ready to be instantiated on a question's terms."""

    book: Book
    turns: tuple[tuple[str, tuple[Any, ...]], ...]
    lemmas: tuple[str, ...]

    def instances(self, policy: Policy, book: Book, runs: list[SlotRun]) -> list[Any]:
        """Each part's instance at each trader's turn in the sweep of the question's mark move."""
        formulas = dict(self.turns)
        out = []
        for slot in runs[:1]:
            for run in slot.runs:
                if not isinstance(run.variant.event, MarkPrice):
                    continue
                for trader, start in _starts(policy, book, run):
                    pairs = list(_pairs(self.book, start))
                    out += [instance(f, pairs) for f in formulas[trader]]
        return out


def prove(policy: Policy, valid: Valid, said: Callable[[str, str], None]) -> CascadeFacts:
    """Every part for the first trader (``valid`` raises where one does not hold or is not decided);
    the second trader's are the first's renamed (``said``, no query)."""
    lemmas = []
    for k, part in enumerate(PARTS):
        with effort.question():  # each part in a fresh z3 context: its units whatever was built before
            free, _ = symbolic_book(Bounds(accounts=TRADERS))
            first = free.traders[0].name
            premise, claims = parts(policy, free, first)
            lemmas.append(
                valid(f"{first}'s turn with the cascade ({TRADERS} traders, {PREMISE}): {part}", premise, claims[k])
            )
    # the formulas built again in the caller's context, where they are instantiated (nothing asked)
    free, _ = symbolic_book(Bounds(accounts=TRADERS))
    names = [a.name for a in free.traders]
    first = names[0]
    premise, claims = parts(policy, free, first)
    formulas = [z3.Implies(z3.And(*premise), claim) for claim in claims]
    turns = [(first, tuple(formulas))]
    for trader in names[1:]:
        names_to = in_turn_order(names, trader)
        turns.append((trader, tuple(renamed(f, names_to) for f in formulas)))
        for part in PARTS:
            name = f"{trader}'s turn with the cascade ({TRADERS} traders, {PREMISE}): {part}"
            said(name, RENAMED.format(first=first))
            lemmas.append(f"{name} ({RENAMED.format(first=first)})")
    return CascadeFacts(free, tuple(turns), tuple(lemmas))


__all__ = ["CLAIMS", "PARTS", "RENAMED", "CascadeFacts", "fits", "parts", "prove"]

"""``principal-protected`` for every N on percolator Gen B: a charge's payer ends where the payer's bound
leaves it, and its principal after the step is at most that
(docs/solver-notes.md#gen-bs-principal-protected-for-every-n-session-25).

The claim (``catalog._haircuts_keep_principal``): every charge a trader pays (``HAIRCUT_REASONS``: Gen B's
per-lot charge and its haircut ratio) leaves its equity, followed through the step's ledger in order from its
equity before, at or above its principal after the step, for every trader not bankrupt in the step. Gen B's
equity is cash (settle-to-mark, no spot). Its principal after the step is capital plus reserve, which the
close re-bases (``haircut_ratio.settle_reserves``: fresh gains join the reserve, so it may be above the
principal the turn started from, unlike Gen A's, which only falls). The argument, on the engine's own
functions (one semantics), on a book of :data:`TRADERS` traders and the order book:

1. **where the charges are, and the ledger around the turns** (term for term, each event variant, no
   query): the step is ``solver.sweep_step.phases`` (opening, settle, before_turns, a turn per trader,
   after_sweep, closing: the engine's ``transition``, the same terms), no charge entry is made outside the
   turns, and each trader's cash where the turns start and after the close is its ledger's (its cash before
   plus its guarded entries: the difference simplifies to 0);
2. **no credit but a bankruptcy's, and the ledger in the turns** (each trader's turn with its cascade, every
   number free, exact z3): every entry into a trader's cash from another account, of a positive amount, is made
   only where that trader is bankrupt in the turn (its ``Bankrupt`` outcome), one query per entry; and each
   trader's cash after the turn is its cash before plus its guarded entries, one query per trader;
3. **the close's principal** (exact z3, each event variant): each trader's principal after the step is at most
   ``max(E, 0)``, asked with every number the close reads fresh (the book the last turn leaves and each
   account's step PnL: a generalization, valid for the step's terms where valid for every value; the claim then
   reads its own account only, so it is each account's of any N).

So, for a trader not bankrupt in the step, at each charge it pays (made in a turn, by 1) its running equity
is at least its running equity at the step's end (no later entry credits it, by 2 on the rest of its turn and
every later one, each debit at least 0 by the transfers' own claim), which is its cash after the step (its
ledger's: 1 around the turns, 2 in them), at or above 0 (``solver.gen_b_payer``'s
argument: no-negative-equity for every N) and so at or above its principal after (3): principal-protected for
any N, one mark move, on ``gen_b_payer.ASSUMES`` and :data:`ASSUMES`, said in the verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.rules.arith import max_
from solvent.rules.book import Book, Role
from solvent.rules.engine import liquidation_turn
from solvent.rules.haircut_ratio import step_pnl
from solvent.rules.ledger import HAIRCUT_REASONS, Ctx
from solvent.rules.margin import equity
from solvent.rules.outcomes import Bankrupt
from solvent.rules.policy import Policy
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds
from solvent.solver.haircut_claims import running_cash
from solvent.solver.story import slots, symbolic_book
from solvent.solver.sweep_step import phases

CLAIM = "principal-protected"
#: the free book's traders (``solver.gen_b_payer``'s lemmas' book)
TRADERS = 2
#: what the all-N verdict assumes beyond ``gen_b_payer.ASSUMES``
ASSUMES = (
    "each trader's turn on Gen B credits another trader's cash only where that trader is bankrupt in it and leaves "
    "each trader's cash its cash before plus its guarded entries, as the two-trader book's turn does (lemmas there), "
    "and each transfer's amount is at least 0 (the transfers' own claim)"
)
METHOD = (
    "compositional, all N, one event: the payer's bound on Gen B (every trader ends the step at or above 0: "
    "solver.gen_b_payer), and each charge's payer credited after it only where bankrupt (z3, exact, on the "
    "engine's own liquidation_turn with its cascade, two traders and the book, every number free, one query an "
    "entry), each trader's cash in a turn its ledger's (z3, the same turns), every charge made in a turn and the ledger around the turns (term for term), the close's principal "
    "at most max(E, 0) (z3, the numbers it reads free): a charge leaves its payer at or above its cash after the "
    "step, at or above its principal after"
)

Valid = Callable[..., str]


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def _term(x: Any) -> Any:
    return x if isinstance(x, z3.ExprRef) else z3.IntVal(x)


def credit_parts(policy: Policy, book: Book, acted: str) -> list[tuple[str, Any]]:
    """2 of the module docstring on ``book``, ``acted``'s turn with its cascade: per entry into a trader's
    cash from another account, its name and its claim (guard and a positive amount → the trader's
    ``Bankrupt`` outcome in the turn)."""
    ctx = liquidation_turn(policy, Ctx(book), acted)
    out = []
    for a in book.traders:
        bankrupt = [_b(g.guard) for g in ctx.outcomes if isinstance(g.item, Bankrupt) and g.item.account == a.name]
        said = z3.Or(*bankrupt) if bankrupt else z3.BoolVal(False)
        for i, g in enumerate(ctx.entries):
            t = g.item
            if t.destination != a.name or t.source == a.name:
                continue
            claim = z3.Implies(z3.And(_b(g.guard), _term(t.amount_quote) > 0), said)
            out.append((f"entry {i} into {a.name}'s cash ({t.reason.name.lower()} from {t.source})", claim))
    return out


def credit_lemmas(policy: Policy, ask: Valid) -> list[str]:
    """2 of the module docstring, each trader's turn on the free book, one query per credit entry."""
    book, _ = symbolic_book(Bounds(accounts=TRADERS))
    lemmas = []
    for acted in (a.name for a in book.traders):
        for said, claim in credit_parts(policy, book, acted):
            lemmas.append(
                ask(
                    f"{acted}'s turn with its cascade ({TRADERS} traders, every number free): {said}, only where "
                    "that trader is bankrupt in the turn",
                    [],
                    claim,
                )
            )
    return lemmas


def _zero(x: Any) -> bool:
    """Whether ``x`` simplifies to 0 (a term-for-term fact, no query)."""
    return z3.simplify(_term(x)).eq(z3.IntVal(0))


def ledger_lemmas(policy: Policy, ask: Valid) -> list[str]:
    """2 of the module docstring, the ledger: each trader's cash after each trader's turn with its cascade is its
    cash before plus its guarded entries (free book, one query per trader and turn)."""
    book, _ = symbolic_book(Bounds(accounts=TRADERS))
    lemmas = []
    for acted in (a.name for a in book.traders):
        ctx = liquidation_turn(policy, Ctx(book), acted)
        for a in book.traders:
            ran = running_cash(a.cash_quote, a.name, ctx.entries)
            lemmas.append(
                ask(
                    f"{acted}'s turn with its cascade ({TRADERS} traders, every number free): {a.name}'s cash after it "
                    "is its ledger's",
                    [],
                    _b(ctx.book.account(a.name).cash_quote == ran),
                )
            )
    return lemmas


def principal_at_most(policy: Policy, book: Book, name: str) -> list[tuple[str, Any]]:
    """3's claim on ``name``'s account in ``book`` (the step's): its principal at most ``max(E, 0)``."""
    after = book.account(name)
    return [
        (
            f"{name}'s principal after the step at most max(E, 0)",
            _b(after.principal_quote <= max_(equity(policy.margin, after), 0)),
        )
    ]


def step_parts(
    policy: Policy,
    bounds: Bounds,
    fail: Callable[[str], None],
    claims_of: Callable[[Policy, Book, str], list[tuple[str, Any]]] = principal_at_most,
) -> list[tuple[str, list[Any], list[tuple[str, Any]]]]:
    """1 and 3 of the module docstring: per event variant on a free book of :data:`TRADERS` traders, its
    label, the question's assumptions and 3's claims, each trader's principal after the step at most
    ``max(E, 0)`` with the numbers the close reads fresh (the book the last turn leaves and each account's
    step PnL, ``haircut_ratio.step_pnl``, the one function the close reads it with: a generalization, valid
    for the step's terms where valid for every value). No query (``fail`` where one does not hold): the step
    is the phases, no charge entry is made outside the turns, and before the turns and in the close each
    trader's cash is its ledger's (the difference simplifies to 0)."""
    one = attrs.evolve(bounds, accounts=TRADERS, events=1, event_kinds=("mark",))
    book, _ = symbolic_book(one)
    traders = [a.name for a in book.traders]
    holders = [a.name for a in book.accounts if a.is_trader or a.role is Role.LIQUIDITY]
    out = []
    for slot in slots(book, one):
        premise = [_b(a.holds) for a in book_assumptions(policy, book, one)] + [_b(slot.field_bounds)]
        for variant in slot.variants:
            run = phases(policy, book, variant, traders, fail)
            first, last, end = run.first_entries, run.turned_entries, run.end
            outside = [
                g.item.reason.value
                for i, g in enumerate(end.entries)
                if not first <= i < last and g.item.reason in HAIRCUT_REASONS
            ]
            if outside:
                fail(f"the step ({variant.label}): a charge entry ({outside[0]}) is made outside the traders' turns")
            for p in traders:
                before = run.first.account(p).cash_quote - running_cash(
                    book.account(p).cash_quote, p, end.entries[:first]
                )
                close = end.book.account(p).cash_quote - running_cash(
                    run.turned.account(p).cash_quote, p, end.entries[last:]
                )
                if not (_zero(before) and _zero(close)):
                    fail(
                        f"the step ({variant.label}): {p}'s cash before the turns or after the close is not its ledger's"
                    )
            # the close's inputs made fresh: the book the last turn leaves, each holder's step PnL
            turned = Ctx(run.turned, entries=end.entries[:last])
            pairs = []
            for a in run.turned.accounts:
                for f in attrs.fields(type(a)):
                    value = getattr(a, f.name)
                    if isinstance(value, z3.ArithRef) and not z3.is_int_value(value):
                        pairs.append((value, z3.Int(f"gbpp.{a.name}.{f.name}")))
            pairs += [(_term(step_pnl(turned, n)), z3.Int(f"gbpp.{n}.step_pnl")) for n in holders]
            pairs = [(u, v) for u, v in pairs if not z3.is_int_value(u)]
            claims = []
            for p in traders:  # (``claims_of``: 3's, or another claim of the close's, the same numbers fresh)
                for said, claim in claims_of(policy, end.book, p):
                    claims.append((said, z3.substitute(claim, *pairs)))
            out.append((variant.label, premise, claims))
    return out


def step_lemmas(policy: Policy, bounds: Bounds, ask: Valid, fail: Callable[[str], None]) -> list[str]:
    """1 and 3 of the module docstring, one query per trader's principal."""
    lemmas = []
    for label, _, claims in step_parts(policy, bounds, fail):
        lemmas.append(
            f"the step ({label}, {TRADERS} traders): the phases; every charge is made inside a turn; each trader's "
            "cash before the turns and after the close its ledger's (term for term)"
        )
        for said, claim in claims:
            lemmas.append(ask(f"the close ({label}, {TRADERS} traders, the numbers it reads free): {said}", [], claim))
    return lemmas


def argument(policy: Policy, bounds: Bounds, ask: Valid, fail: Callable[[str], None]) -> list[str]:
    """The lemmas of the module docstring beside ``solver.gen_b_payer``'s (``ask`` exact; it raises where a
    lemma does not hold or is not decided)."""
    lemmas = step_lemmas(policy, bounds, ask, fail)
    lemmas += credit_lemmas(policy, ask)
    lemmas += ledger_lemmas(policy, ask)
    lemmas.append(
        f"aggregate: each charge a trader not bankrupt in the step pays is made in a turn, and no later entry "
        f"credits it (after_sweep and closing keep its cash), so its running equity there is at least its equity "
        f"after the step, at or above 0 by the payer's bound, so at or above its principal after: {CLAIM} for any N"
    )
    return lemmas


__all__ = [
    "ASSUMES",
    "CLAIM",
    "METHOD",
    "TRADERS",
    "argument",
    "credit_lemmas",
    "credit_parts",
    "step_lemmas",
    "principal_at_most",
    "step_parts",
]

"""``no-negative-equity`` and ``loss-bounded-by-collateral`` for every N on Percolator Gen A: the
sweep's junior cover.

Gen A (``rules/presets/percolator-gen-a.toml``, spec v7 §3 and §6.1) charges traders only through its
haircut ratio: a bankrupt account's deficit ``D`` is paid by every other trader and the book pro rata
to their junior profit ``w = max(E − principal, 0)``, capped at the total ``W``, split exactly in book
order (``ProRata.EXACT_IN_ORDER``: the shares add up to ``min(D, W)``, each within its payer's ``w``,
``solver.exact_split_lemma``). A bankrupt account ends at or above zero exactly when, at its turn,
the others' junior profit covers its deficit: a fact of the whole sweep, which no one turn shows
(docs/solver-notes.md#percolator-gen-as-payer-claims-for-every-n-session-22).

**The invariant.** At each turn's start, with ``def = max(−E, 0)`` and the sums over every trader
and the book's liquidity account (which pays too)::

    J = Σ w  ≥  Σ def over the traders whose turn has not come

and every trader whose turn has passed is at or above zero, every principal at or above zero, every
flat trader at or above zero.

- **Settlement** (each account of a free two-trader book from the question's assumptions that read
  only that account, the market and the event, exact z3, on the engine's ``opening``, ``settle`` and
  ``before_turns``; a claim that reads another account is never proved): each account's ``w − def`` (the
  book's: ``w``) is at least its settled gain ``S·ΔM``, its principal at least 0, a flat trader at or
  above 0, and its position kept. A well-formed start has ``0 ≤ principal ≤ max(E, 0)``, so a
  winner's gain is junior profit and a loser's deficit at most its loss. Open interest balances
  (``Σ S = 0`` over the traders and the book: the start's, the phases keep each position), so
  ``Σ S·ΔM = ΔM·Σ S = 0`` and ``J ≥ Σ def`` at the first turn.
- **A turn** (exact z3 on the engine's ``liquidation_turn``, a free book of two traders and the
  book, every number free, from every principal at or above 0 and the mark at least 1; the second
  trader's turn is the first's with the accounts renamed, valid as it is): (1) where ``J`` covers
  the turn's trader's deficit and it is at or above 0 if flat, it ends at or above 0; (2) ``J``
  falls by at most that trader's deficit; (3) no other trader's deficit grows; (4) no other
  trader's position moves; (5) every principal stays at or above 0. Its payers are the other trader
  and the book, the book's junior profit standing for the rest of a larger book's: the haircut pays
  ``min(D, W)`` whatever the number of payers, each share within its payer's ``w`` (the exact split's
  lemma, proved for each number of payers a question holds), and Gen A's penalty comes from capital
  (``close_step(from_capital=)``), so a solvent liquidation leaves ``E − principal``.
- **The opening's conversion** (spec v7 §6.2, ``haircut_ratio.convert``: one ``h`` read on every
  account, the lost part into the order book's hole) is the one place the settlement reads other
  accounts. Its lemma, exact z3 on the engine's own terms on the free two-trader book (recorded by
  ``conversions_recorded``): every account's ``0 ≤ y ≤ x`` and ``y = x`` where ``Residual ≥
  PNL_pos_tot``, every trader's ``0 ≤ lost ≤ x − y`` (its junior profit after ``w − x ≥ 0``), the
  book's cash only grows (its hole only shrinks). In the settlement's claims those terms are free
  numbers of their account (``conv.<name>.``) under the same facts, so each claim reads one account.
- **The close** (exact z3 on ``after_sweep`` and ``closing``, two traders): every trader's cash is
  kept (the end of the event re-bases principals and slopes only).

By induction over the turns in book order: (2) and (3) keep ``J ≥ Σ def`` over the traders still
to come, (1) puts each trader at or above 0 at its turn (a bankrupt trader holds no junior profit),
(3) keeps it there through the later turns, (4) keeps a flat trader flat for its own turn, and the
close keeps every cash; the claims read each trader's cash after the step (equity is cash here; no
debt). So both hold for every trader of a book of any N, one mark move.

**Over K mark moves** (:func:`moves_argument`, session 25) the settlement reads, in place of the
well-formed start, a premise one move keeps under the conversion at h (:data:`MOVES_PREMISE`): every
principal and warm-up slope at least 0, every trader at or above 0, and percolator's residual ``Σ (E −
principal)`` over the traders and the book at least 0 (spec v7 §3.1). Each account's ``E − principal``
after the opening and settlement is its own before, less its capital ``y`` and lost part (the book's:
plus its cash received), plus ``S·ΔM``, and its ``w − def`` is at least that (principal ≥ 0); the
conversion's capital ``Σ y`` is at most the residual before it and the book receives ``Σ lost``, so
``J − Σ def ≥`` the residual less ``Σ y ≥ 0`` at the first turn; the turns and the close are the one
move's. The premise is kept: no turn lowers the residual (``residual_turn``), nor the close
(``close_keeps``), the principals and slopes by principal-protected's step lemma on three traders
(``haircut_claims.premise_kept``), every trader at or above 0 by the claim. The start meets it
account by account (``start_parts``). By induction over the moves the claims hold after every move.
(At face conversion the residual falls: docs/solver-notes.md#percolator-gen-as-payer-claims-over-moves-session-24.)

The same parts, instantiated on the turns the direct check's own sweep reached (``HaircutFacts``: each
trader's parts asked of its own turn, the settlement's on the question's start and event, and
``Σ S = 0 → Σ S·ΔM = 0`` on the settled sizes and move), decide the direct check on the lemmas'
two-trader book, which z3 alone does not decide within 10M (8.28M units spent at N = 2 without them;
with them the claim is one exact query of about 23K units). The argument asked after them recalls what
they proved (``case_split.recalled``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.rules.arith import all_, implies, max_, sum_
from solvent.rules.book import Book, Role
from solvent.rules.engine import after_sweep, closing, liquidation_turn, opening, transition
from solvent.rules.events import MarkPrice
from solvent.rules.haircut_ratio import conversions_recorded, fee_from_capital
from solvent.rules.ledger import Ctx
from solvent.rules.margin import equity, is_flat, profit
from solvent.rules.policy import Policy
from solvent.rules.rounding import ProRata
from solvent.solver import haircut_claims
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds
from solvent.solver.case_split import recalled, remember
from solvent.solver.conversion_lemma import CONVERSION, CONVERTED, _opened_cash, conversion_parts, freed_all
from solvent.solver.fund_facts import _starts
from solvent.solver.payer_facts import _pairs, instance
from solvent.solver.per_account import _conjuncts, _own, _reads_only, _same, _settled, _shared
from solvent.solver.story import SlotRun, slots, symbolic_book
from solvent.solver.sweep_step import not_one_step

#: the claims the argument decides (each reads a trader's equity after the step; Gen A lends nothing)
CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral")
#: the free book's traders (the lemmas' book)
TRADERS = 2
#: traders on which the step's decomposition is checked (structurally: no query)
STEP_TRADERS = 3
#: the turn's parts, by name (see the module docstring)
PARTS = (
    "where the junior profit covers its deficit (and a flat trader is at or above 0), its trader ends at or above 0",
    "the junior profit falls by at most its trader's deficit",
    "no other trader's deficit grows",
    "no other trader's position moves",
    "every principal stays at or above 0",
)
#: the premise of every part
PREMISE = "every principal at or above 0, the mark at least 1"
#: said of the second trader's parts (a renaming of a valid formula is valid)
RENAMED = "the first trader's ({first}'s) renamed, the accounts swapped: valid as it is, no query"
#: what the all-N verdict assumes of the engine (``Scope.assumes``)
ASSUMES = (
    "each trader's turn treats the other payers as the two-trader book's turn treats the other trader and the book "
    "(the book's junior profit standing for the rest): the haircut pays min(D, W) whatever the number of payers, "
    "each share within its payer's junior profit (the exact split's lemma, proved for each number of payers a "
    "question holds); each account settles, and the close keeps each trader's cash, as on the two-trader book (each "
    "reads its own account); the opening's conversion (haircut_ratio.convert, one h for every account) gives each "
    "account of any N what it gives each on the two-trader book (its lemma, exact z3 there: 0 ≤ y ≤ x, y = x where "
    "Residual ≥ PNL_pos_tot, a trader's lost part 0 ≤ lost ≤ x − y, the book's cash only grows), as h_num ≤ h_den "
    "whatever the accounts"
)
METHOD = (
    "compositional, all N, one event: the sweep's junior cover (every trader's and the book's junior profit at least "
    "the deficits of the traders whose turn has not come), by induction over the turns: settlement puts each "
    "account's junior profit less its deficit at or above its settled gain, which open interest sums to 0; each turn "
    "lowers the junior profit by at most its trader's deficit, grows no other deficit and, covered, leaves its trader "
    "at or above 0 (z3, exact, on the engine's own opening, settle, liquidation_turn and closing, every number free; "
    "the opening's conversion freed, each account's capital y and lost part under the conversion lemma's facts); "
    f"assumes {ASSUMES}"
)

Valid = Callable[..., str]


def not_covered(policy: Policy, bounds: Bounds) -> str | None:
    """Why the argument does not apply to ``policy`` within ``bounds`` (None where it does)."""
    why = haircut_claims.not_covered(policy, bounds)
    if why is not None:
        return why
    # K > 1: each move is the one-move step, asked from the premise over moves (MOVES_PREMISE), which the
    # conversion at h keeps (docs/solver-notes.md#gen-as-payer-claims-at-k--3-under-the-conversion-at-h-session-25)
    why = not_one_step(attrs.evolve(bounds, events=1))
    if why is not None:
        return why
    if not fee_from_capital(policy):
        return "its liquidation penalty is charged from cash (junior profit), not from capital"
    if policy.rounding.pro_rata is not ProRata.EXACT_IN_ORDER:
        return f"its haircut rounds {policy.rounding.pro_rata.value}, not exactly in book order"
    if set(bounds.event_kinds) != {"mark"}:
        return "mark moves only (a funding payment rounds its payers and receivers apart)"
    return None


def fits(policy: Policy, bounds: Bounds, claim: str) -> bool:
    """Whether the turn's facts serve ``claim``'s direct check within ``bounds``: one of :data:`CLAIMS`,
    one mark move on the lemmas' book, where the argument applies."""
    if claim not in CLAIMS or bounds.accounts != TRADERS or bounds.events != 1:
        return False
    return not_covered(policy, bounds) is None


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def _term(x: Any) -> Any:
    return x if isinstance(x, z3.ExprRef) else z3.IntVal(x)


def junior(policy: Policy, book: Book) -> Any:
    """``J``: the junior profit of every trader and of the book's liquidity account."""
    return sum_(profit(policy.margin, a) for a in _payers(book))


def deficit(policy: Policy, book: Book, name: str) -> Any:
    """``def``: how far ``name``'s equity is below zero (0 at or above it)."""
    return max_(-equity(policy.margin, book.account(name)), 0)


def _payers(book: Book) -> list[Any]:
    return [a for a in book.accounts if a.is_trader or a.role is Role.LIQUIDITY]


def turn_parts(policy: Policy, free: Book, trader: str) -> tuple[list[Any], list[Any]]:
    """The premise and the five claims (:data:`PARTS`) of ``trader``'s turn on ``free``."""
    after = liquidation_turn(policy, Ctx(free), trader).book
    others = [a.name for a in free.traders if a.name != trader]
    own = free.account(trader)
    premise = [free.market.mark_quote >= 1, *(a.principal_quote >= 0 for a in _payers(free))]
    covered = [
        junior(policy, free) >= deficit(policy, free, trader),
        implies(is_flat(own), equity(policy.margin, own) >= 0),
    ]
    claims = [
        implies(z3.And(*map(_b, covered)), equity(policy.margin, after.account(trader)) >= 0),
        junior(policy, after) >= junior(policy, free) - deficit(policy, free, trader),
        all_(deficit(policy, after, o) <= deficit(policy, free, o) for o in others),
        all_(after.account(o).size_lots == free.account(o).size_lots for o in others),
        all_(a.principal_quote >= 0 for a in _payers(after)),
    ]
    return [_b(p) for p in premise], [_b(c) for c in claims]


def settled_parts(
    policy: Policy, book: Book, bounds: Bounds, event: Any, field_bounds: Any
) -> list[tuple[str, list[Any], Any]]:
    """The settlement's claims for each account of ``book`` after ``opening``, ``settle`` and
    ``before_turns``, each ``(name, premise, claim)``: an account's own claims from the question's
    assumptions that read only that account, the market and the event (so each is the same lemma
    for an account of a book of any N); open interest from all of them. The opening's conversion
    reads every account (its ``h``, the book's hole): its terms are freed (``conversion_parts``), each
    account's claim reading its own free numbers under the conversion lemma's facts. Where an
    account's claim still reads another account (its settlement coupled), the claim says so and no
    lemma of it is built."""
    whole = [c for a in book_assumptions(policy, book, bounds) for c in _conjuncts(a.holds)]
    whole += _conjuncts(field_bounds)
    shared = (*_shared(book), "e1.")
    _, freed, facts = conversion_parts(policy, book)
    settled = _settled(policy, book, event).book
    move = settled.market.mark_quote - settled.market.previous_mark_quote
    out = []

    def free(term: Any) -> Any:
        return z3.substitute(term, *freed) if freed and z3.is_expr(term) else term

    for a in _payers(settled):
        own = (*_own(a.name), CONVERTED.format(a.name), *shared)
        premise = [c for c in whole if _reads_only(c, own)] + [_b(f) for f in facts.get(a.name, [])]
        net = profit(policy.margin, a) - (deficit(policy, settled, a.name) if a.is_trader else 0)
        claims = [
            (f"{a.name}'s junior profit less its deficit at least its settled gain", net >= a.size_lots * move),
            (f"{a.name}'s principal at or above 0", a.principal_quote >= 0),
            (f"{a.name}'s position kept", a.size_lots == book.account(a.name).size_lots),
        ]
        if a.is_trader:
            claims.append((f"{a.name} at or above 0 where flat", implies(is_flat(a), equity(policy.margin, a) >= 0)))
        for name, claim in claims:
            claim = free(_b(claim))
            if not _reads_only(claim, own):
                claim = z3.BoolVal(False)  # coupled: never proved, so the argument fails here
                name = f"{name} (its settlement reads another account)"
            out.append((name, premise, _b(claim)))
    balanced = sum_(a.size_lots for a in _payers(settled)) == 0
    out.append(("open interest balanced (Σ size over the traders and the book is 0)", whole, _b(balanced)))
    return out


def close_parts(policy: Policy, free: Book) -> Any:
    """After the last turn, ``after_sweep`` and ``closing`` keep every trader's cash."""
    ctx = closing(policy, after_sweep(policy, Ctx(free)))
    return _b(all_(ctx.book.account(a.name).cash_quote == a.cash_quote for a in free.traders))


def _one_event(bounds: Bounds, accounts: int) -> Bounds:
    return attrs.evolve(bounds, accounts=accounts, events=1, event_kinds=("mark",))


def decomposes(policy: Policy, bounds: Bounds, fail: Callable[[str], None]) -> str:
    """The engine's transition is opening, settle, before_turns, one liquidation turn per trader in
    book order, after_sweep and closing (structurally, on :data:`STEP_TRADERS` traders: no query)."""
    one = _one_event(bounds, STEP_TRADERS)
    book, _ = symbolic_book(one)
    for slot in slots(book, one):
        for variant in slot.variants:
            ctx = _settled(policy, book, variant.event)
            for a in book.traders:
                ctx = liquidation_turn(policy, ctx, a.name)
            ctx = closing(policy, after_sweep(policy, ctx))
            whole = transition(policy, book, variant.event)
            if not all(_same(x, y) for x, y in ((whole.book, ctx.book), (whole.entries, ctx.entries))):
                fail(
                    f"the step ({variant.label}): the engine's transition is not the sweep's phases with a turn per trader"
                )
    return (
        f"the step (mark, {STEP_TRADERS} traders, the engine's transition): opening, settle, before_turns, one turn "
        "per trader in book order, after_sweep, closing (the same book and entries)"
    )


#: said of a lemma this question proved already (the direct check's facts ask the same formulas first)
PROVED_BEFORE = "proved earlier in this question (the direct check's fact, the same z3 term): no query"


def ask_once(valid: Valid, said: Callable[[str, str], None], name: str, premise: list[Any], claim: Any) -> str:
    """``valid`` on ``premise → claim``, or no query where this question proved the same formula
    (Python Booleans among them read as z3's)."""
    formula = z3.Implies(z3.And(*map(_b, premise)), _b(claim))
    if recalled(formula) == "unsat":
        said(name, PROVED_BEFORE)
        return f"{name} ({PROVED_BEFORE})"
    valid(name, premise, claim)
    remember(formula, "unsat")
    return name


def _turn_lemmas(policy: Policy, valid: Valid, said: Callable[[str, str], None], every: bool = False) -> list[str]:
    """Every part of the first trader's turn; the others' renamed, or with ``every`` each asked of
    its own turn (the terms the direct check's own sweep builds)."""
    lemmas = []
    free, _ = symbolic_book(Bounds(accounts=TRADERS))
    names = [a.name for a in free.traders]
    for trader in names if every else names[:1]:
        premise, claims = turn_parts(policy, free, trader)
        for part, claim in zip(PARTS, claims, strict=True):
            name = f"{trader}'s turn ({TRADERS} traders and the book, {PREMISE}): {part}"
            lemmas.append(ask_once(valid, said, name, premise, claim))
    if every:
        return lemmas
    first = names[0]
    for trader in names[1:]:
        for part in PARTS:
            name = f"{trader}'s turn ({TRADERS} traders and the book, {PREMISE}): {part}"
            said(name, RENAMED.format(first=first))
            lemmas.append(f"{name} ({RENAMED.format(first=first)})")
    return lemmas


def conversion_lemma(policy: Policy, bounds: Bounds) -> tuple[list[Any], list[tuple[str, Any]]]:
    """The opening's conversion lemma on a free two-trader book: (premise, claims), the premise the
    question's assumptions on that book (``conversion_parts``' claims, exact z3 on the engine's terms)."""
    book, _ = symbolic_book(_one_event(bounds, TRADERS))
    premise = [c for a in book_assumptions(policy, book, bounds) for c in _conjuncts(a.holds)]
    claims, _, _ = conversion_parts(policy, book)
    return premise, claims


def _conversion_lemmas(policy: Policy, bounds: Bounds, valid: Valid, said: Callable[[str, str], None]) -> list[str]:
    """Each claim of the opening's conversion lemma (none where the policy converts nothing at the opening)."""
    premise, claims = conversion_lemma(policy, bounds)
    return [
        ask_once(valid, said, f"{CONVERSION.format(traders=TRADERS)}: {name}", premise, claim) for name, claim in claims
    ]


def _settle_lemmas(policy: Policy, bounds: Bounds, valid: Valid, said: Callable[[str, str], None]) -> list[str]:
    """The opening's conversion lemma, then the settlement's claims on a free two-trader book from the
    question's assumptions (each taking the conversion's facts on its own free numbers)."""
    one = _one_event(bounds, TRADERS)
    lemmas = _conversion_lemmas(policy, bounds, valid, said)
    book, _ = symbolic_book(one)
    for slot in slots(book, one):
        for variant in slot.variants:
            for name, premise, claim in settled_parts(policy, book, one, variant.event, slot.field_bounds):
                lemmas.append(ask_once(valid, said, f"settlement ({variant.label}): {name}", premise, claim))
    return lemmas


#: the sum's arithmetic on free integers (a ring identity), by the number of accounts
SUM = "Σ S = 0 gives Σ S·ΔM = 0 (free integers, {k} accounts)"


def sum_lemma(k: int) -> tuple[list[Any], Any, tuple[Any, ...]]:
    """(premise, claim, variables) of :data:`SUM` on ``k`` free sizes and a free move."""
    sizes = [z3.Int(f"junior.size{i}") for i in range(k)]
    move = z3.Int("junior.move")
    return [sum_(sizes) == 0], sum_(s * move for s in sizes) == 0, (*sizes, move)


def argument(
    policy: Policy, bounds: Bounds, valid: Valid, fail: Callable[[str], None], said: Callable[[str, str], None]
) -> list[str]:
    """The lemmas of the module docstring, or ``fail(reason)`` where the argument does not apply
    (``valid`` raises where a lemma does not hold or is not decided)."""
    why = not_covered(policy, bounds)
    if why is not None:
        fail(f"the sweep's junior cover: {why}")
    if bounds.events > 1:
        return moves_argument(policy, bounds, valid, fail, said)
    lemmas = [decomposes(policy, bounds, fail)]
    lemmas += _settle_lemmas(policy, bounds, valid, said)
    lemmas += _turn_lemmas(policy, valid, said)
    free, _ = symbolic_book(Bounds(accounts=TRADERS))
    name = f"the close ({TRADERS} traders): after_sweep and closing keep every trader's cash"
    lemmas.append(ask_once(valid, said, name, [], close_parts(policy, free)))
    lemmas.append(
        "aggregate: settlement gives J ≥ Σ def at the first turn (each account's w − def ≥ S·ΔM, Σ S·ΔM = ΔM·Σ S = 0); "
        "each turn keeps it over the traders still to come and, covered, leaves its trader at or above 0; later turns "
        "grow no deficit and the close keeps every cash: each trader ends at or above 0, for any N"
    )
    return lemmas


#: the premise over mark moves (K > 1): what one event keeps under the conversion at h
MOVES_PREMISE = (
    "every trader's and the order book's principal and warm-up slope at least 0, every trader worth at least 0, "
    "and percolator's residual Σ (E − principal) over the traders and the order book at least 0 (spec v7 §3.1)"
)
#: what an all-N, any-K verdict by the junior cover assumes beyond :data:`ASSUMES`
INDUCTION_ASSUMES = (
    f"induction over mark moves on the premise {MOVES_PREMISE} (the start meets it, each account's part asked of "
    "that account; one move keeps it: the principals and slopes on three traders, each account's E − principal "
    "through the opening and settlement, each turn not lowering the residual (the book's standing for the rest, as "
    "the turn's parts), the close not lowering it, the traders worth at least 0 by the claim); the conversion's "
    "capital Σ y at most the residual before it and the book's cash received Σ lost, on any N as on the two-trader "
    "book (each y = ⌊x·h_num/h_den⌋ with Σ x ≤ PNL_pos_tot = h_den and h_num ≤ Residual)"
)
METHOD_MOVES = (
    "compositional, all N, any K: the sweep's junior cover over mark moves; the premise "
    f"({MOVES_PREMISE}) puts each account's junior profit less its deficit at or above its E − principal after the "
    "opening's conversion and settlement, whose sum is the residual less the conversion's capital, at or above 0; "
    "each turn lowers the junior profit by at most its trader's deficit, grows no other deficit and, covered, leaves "
    "its trader at or above 0; the step keeps the premise (z3, exact, on the engine's own opening, settle, "
    "liquidation_turn and closing, every number free; the conversion freed under its lemma's facts); "
    f"assumes {ASSUMES}; {INDUCTION_ASSUMES}"
)


def inducts(policy: Policy, bounds: Bounds) -> bool:
    """Whether the junior cover is asked by induction over ``bounds``' K > 1 mark moves (:data:`MOVES_PREMISE`)."""
    return bounds.events > 1 and not_covered(policy, bounds) is None


def _worth(policy: Policy, a: Any) -> Any:
    """``E − principal`` of account ``a`` (its junior profit where at or above 0)."""
    return equity(policy.margin, a) - a.principal_quote


def own_premise(policy: Policy, a: Any) -> list[Any]:
    """The per-account part of :data:`MOVES_PREMISE` on account ``a`` (a trader or the order book)."""
    parts = [a.principal_quote >= 0, a.reserve_slope_quote >= 0]
    if a.is_trader:
        parts.append(equity(policy.margin, a) >= 0)
    return [_b(p) for p in parts]


def residual(policy: Policy, book: Book) -> Any:
    """Percolator's residual on the engine's accounts: Σ (E − principal) over the traders and the order book."""
    return sum_(_worth(policy, a) for a in _payers(book))


def moves_premise(policy: Policy, book: Book) -> list[Any]:
    """:data:`MOVES_PREMISE` on ``book``: every account's part and the residual at least 0."""
    return [*(p for a in _payers(book) for p in own_premise(policy, a)), _b(residual(policy, book) >= 0)]


def start_parts(policy: Policy, book: Book, bounds: Bounds) -> list[tuple[str, list[Any], Any]]:
    """The start meets the premise, each account's part from the question's assumptions that read only
    that account (so on a book of any N): its own part and ``E − principal ≥ 0`` (the residual's term)."""
    whole = [c for a in book_assumptions(policy, book, bounds) for c in _conjuncts(a.holds)]
    out = []
    for a in _payers(book):
        own = (*_own(a.name), *_shared(book))
        premise = [c for c in whole if _reads_only(c, own)]
        claim = all_([*own_premise(policy, a), _worth(policy, a) >= 0])
        out.append((f"{a.name} meets its part of the premise, E − principal at least 0", premise, _b(claim)))
    return out


def moved_settled_parts(policy: Policy, book: Book, event: Any, field_bounds: Any) -> list[tuple[str, list[Any], Any]]:
    """:func:`settled_parts` from the premise over moves: each account from its own part of the premise
    and the event's bounds, its conversion's free numbers under the lemma's facts. Each account's ``E −
    principal`` after the opening and settlement is its own before less its capital ``y`` and lost part
    (the book's: plus its cash received) plus its settled gain ``S·ΔM``, and its junior profit less its
    deficit (the book's: its junior profit) at least that; its principal at least 0, its position kept,
    a flat trader at or above 0."""
    shared = (*_shared(book), "e1.")
    _, freed, facts = conversion_parts(policy, book)
    events = _conjuncts(field_bounds)
    settled = _settled(policy, book, event).book
    move = settled.market.mark_quote - settled.market.previous_mark_quote
    order_book = book.role(Role.LIQUIDITY).name
    out = []
    for a in _payers(settled):
        own = (*_own(a.name), CONVERTED.format(a.name), *shared)
        before = book.account(a.name)
        premise = [*own_premise(policy, before), *(c for c in events if _reads_only(c, own))]
        premise += [_b(f) for f in facts.get(a.name, [])]
        y = z3.Int(CONVERTED.format(a.name) + "y") if facts else 0
        if a.name == order_book:
            moved = y - (_received(book) if facts else 0)
            net = profit(policy.margin, a)
        else:
            moved = y + (z3.Int(CONVERTED.format(a.name) + "lost") if facts else 0)
            net = profit(policy.margin, a) - deficit(policy, settled, a.name)
        worth = _worth(policy, a)
        claims = [
            (
                f"{a.name}'s E − principal is its own before less its capital y"
                + (" plus its cash received" if a.name == order_book else " and lost part")
                + " plus its settled gain",
                worth == _worth(policy, before) - moved + a.size_lots * move,
            ),
            (
                f"{a.name}'s junior profit{'' if a.name == order_book else ' less its deficit'} at least its E − principal",
                net >= worth,
            ),
            (f"{a.name}'s principal at or above 0", a.principal_quote >= 0),
            (f"{a.name}'s position kept", a.size_lots == before.size_lots),
        ]
        if a.is_trader:
            claims.append((f"{a.name} at or above 0 where flat", implies(is_flat(a), equity(policy.margin, a) >= 0)))
        for name, claim in claims:
            claim = freed_all(freed, _b(claim))
            if not _reads_only(claim, own):
                claim = z3.BoolVal(False)  # coupled: never proved, so the argument fails here
                name = f"{name} (its settlement reads another account)"
            out.append((name, premise, _b(claim)))
    return out


def conversion_sums(policy: Policy, book: Book) -> list[tuple[str, Any]]:
    """What the opening's conversion gives the residual, on ``book``'s engine terms (recorded by
    ``conversions_recorded``): its capital Σ y at most the residual before it, and the order book's cash
    received the traders' lost parts, Σ lost."""
    order_book, cash_after = _opened_cash(policy, book)
    with conversions_recorded() as seen:
        opening(policy, book)
    ys = [y for _, _, accounts in seen for _, _, y, _ in accounts]
    lost = [x for _, _, accounts in seen for name, _, _, x in accounts if name != order_book]
    if not ys:
        return []
    return [
        ("its capital Σ y at most the residual before it", _b(sum_(ys) <= residual(policy, book))),
        (
            f"{order_book}'s cash received the traders' lost parts (Σ lost)",
            _b(cash_after - book.account(order_book).cash_quote == sum_(lost)),
        ),
    ]


#: the turn's part over moves: the residual is not lowered by a turn
RESIDUAL_PART = "the residual Σ (E − principal) over the traders and the book does not fall"


def residual_turn(policy: Policy, free: Book, trader: str) -> tuple[list[Any], Any]:
    """(premise, claim) of :data:`RESIDUAL_PART` in ``trader``'s turn on ``free`` (the turn's premise)."""
    after = liquidation_turn(policy, Ctx(free), trader).book
    premise, _ = turn_parts(policy, free, trader)
    return premise, _b(residual(policy, after) >= residual(policy, free))


def close_keeps(policy: Policy, free: Book) -> Any:
    """After the last turn, ``after_sweep`` and ``closing`` lower no account's ``E − principal``."""
    ctx = closing(policy, after_sweep(policy, Ctx(free)))
    return _b(all_(_worth(policy, ctx.book.account(a.name)) >= _worth(policy, a) for a in _payers(free)))


def moves_argument(
    policy: Policy, bounds: Bounds, valid: Valid, fail: Callable[[str], None], said: Callable[[str, str], None]
) -> list[str]:
    """The junior cover over K > 1 mark moves, by induction on :data:`MOVES_PREMISE`: the start meets it,
    each move from it gives the claim (the one-move argument with the settlement asked from the premise)
    and keeps it (docs/solver-notes.md#gen-as-payer-claims-at-k--3-under-the-conversion-at-h-session-25)."""
    lemmas = [decomposes(policy, bounds, fail)]
    one = _one_event(bounds, TRADERS)
    book, _ = symbolic_book(one)
    for name, premise, claim in start_parts(policy, book, one):
        lemmas.append(ask_once(valid, said, f"the start: {name}", premise, claim))
    converted, _, _ = conversion_parts(policy, book)
    premise = moves_premise(policy, book)
    for name, claim in [*converted, *conversion_sums(policy, book)]:
        lemmas.append(
            ask_once(valid, said, f"{CONVERSION.format(traders=TRADERS)}, from the premise: {name}", premise, claim)
        )
    for slot in slots(book, one):
        for variant in slot.variants:
            for name, premise, claim in moved_settled_parts(policy, book, variant.event, slot.field_bounds):
                lemmas.append(
                    ask_once(valid, said, f"settlement from the premise ({variant.label}): {name}", premise, claim)
                )
    lemmas += _turn_lemmas(policy, valid, said)
    free, _ = symbolic_book(Bounds(accounts=TRADERS))
    names = [a.name for a in free.traders]
    premise, claim = residual_turn(policy, free, names[0])
    name = f"{names[0]}'s turn ({TRADERS} traders and the book, {PREMISE}): {RESIDUAL_PART}"
    lemmas.append(ask_once(valid, said, name, premise, claim))
    for trader in names[1:]:
        name = f"{trader}'s turn ({TRADERS} traders and the book, {PREMISE}): {RESIDUAL_PART}"
        said(name, RENAMED.format(first=names[0]))
        lemmas.append(f"{name} ({RENAMED.format(first=names[0])})")
    name = f"the close ({TRADERS} traders): after_sweep and closing keep every trader's cash"
    lemmas.append(ask_once(valid, said, name, [], close_parts(policy, free)))
    name = f"the close ({TRADERS} traders): after_sweep and closing lower no account's E − principal"
    lemmas.append(ask_once(valid, said, name, [], close_keeps(policy, free)))
    k = len(_payers(free))
    premise, claim, _ = sum_lemma(k)
    lemmas.append(ask_once(valid, said, SUM.format(k=k), premise, claim))
    lemmas += haircut_claims.premise_kept(policy, bounds, valid, fail)
    lemmas.append(
        "aggregate, one move from the premise: after the opening and settlement each account's junior profit less its "
        "deficit is at least its E − principal, whose sum is the residual less Σ y plus (received − Σ lost) plus "
        "ΔM·Σ S = the residual less Σ y ≥ 0: J ≥ Σ def at the first turn; the turns and the close as on one move: "
        "each trader ends at or above 0, for any N"
    )
    lemmas.append(
        f"induction over mark moves: the premise ({MOVES_PREMISE}) holds at the start; a move keeps it (the principals "
        "and slopes by the step's lemma on three traders; the residual after settlement at least 0 as above, no turn "
        "lowers it, nor the close; every trader at or above 0 by the claim), so the claim holds after every move, for "
        "any N and any K"
    )
    return lemmas


def _cash(book: Book) -> Any:
    return book.role(Role.LIQUIDITY).cash_quote


def _received(book: Book) -> Any:
    """The free number put for what the order book's cash receives at the opening's conversion."""
    return z3.Int(CONVERTED.format(book.role(Role.LIQUIDITY).name) + "received")


@attrs.frozen
class HaircutFacts:
    """The turn's parts for each trader of a free two-trader book and the settlement's claims, each
    proved for every value (``premise → claim``), ready to be instantiated on a question's terms."""

    book: Book
    turns: tuple[tuple[str, tuple[Any, ...]], ...]
    #: the settlement's formulas per variant label, with the free event they speak of
    settled: tuple[tuple[str, Any, tuple[Any, ...]], ...]
    #: :func:`sum_lemma`'s proved formula and its variables (the traders' and the book's sizes, the move)
    sums: tuple[Any, tuple[Any, ...]]
    lemmas: tuple[str, ...]

    def instances(self, policy: Policy, book: Book, runs: list[SlotRun]) -> list[Any]:
        """The settlement's instance on the question's start and event, and each part's instance at
        each trader's turn in the sweep of the question's mark move."""
        formulas = dict(self.turns)
        settled = {label: (event, fs) for label, event, fs in self.settled}
        out = []
        for slot in runs[:1]:
            for run in slot.runs:
                if not isinstance(run.variant.event, MarkPrice):
                    continue
                if run.variant.label in settled:
                    event, fs = settled[run.variant.label]
                    pairs = [*_pairs(self.book, book), *_pairs(event, run.variant.event)]
                    out += [instance(f, pairs) for f in fs]
                starts = _starts(policy, book, run)
                for trader, start in starts:
                    pairs = list(_pairs(self.book, start))
                    out += [instance(f, pairs) for f in formulas[trader]]
                # Σ S·ΔM = 0 on the settled book (the first turn's start): J covers every deficit there
                settled_book = starts[0][1]
                formula, variables = self.sums
                move = settled_book.market.mark_quote - settled_book.market.previous_mark_quote
                terms = [*(a.size_lots for a in _payers(settled_book)), move]
                out.append(z3.substitute(formula, *zip(variables, map(_term, terms), strict=True)))
        return out


def facts(policy: Policy, bounds: Bounds, valid: Valid, said: Callable[[str, str], None]) -> HaircutFacts:
    """The turn's parts and the settlement's claims proved (``valid`` raises where one does not hold
    or is not decided), then built again in the caller's context as formulas to instantiate."""
    lemmas = _settle_lemmas(policy, bounds, valid, said) + _turn_lemmas(policy, valid, said, every=True)
    one = _one_event(bounds, TRADERS)
    free, _ = symbolic_book(one)
    k = len(_payers(free))
    premise, claim, variables = sum_lemma(k)
    lemmas.append(ask_once(valid, said, SUM.format(k=k), premise, claim))
    sums = (z3.Implies(z3.And(*premise), claim), variables)
    # the settlement's formulas on the conversion's free numbers, put back to the engine's terms (each
    # instance then says its claim given the conversion's facts, which the conversion lemma's instance gives)
    premise, claims = conversion_lemma(policy, bounds)
    converted = tuple(z3.Implies(z3.And(*premise), c) for _, c in claims)
    _, freed, _ = conversion_parts(policy, free)
    # each free number back to its term; the book's received to its cash after the opening less before
    back = [(v, t) if z3.is_const(v) else (_received(free), t - _cash(free)) for t, v in freed]
    settled = []
    for slot in slots(free, one):
        for variant in slot.variants:
            parts = settled_parts(policy, free, one, variant.event, slot.field_bounds)
            formulas = [z3.Implies(z3.And(*p), c) for _, p, c in parts]
            formulas = [z3.substitute(f, *back) if back else f for f in formulas]
            settled.append((variant.label, variant.event, (*converted, *formulas)))
    turns = []
    for trader in [a.name for a in free.traders]:
        premise, claims = turn_parts(policy, free, trader)
        turns.append((trader, tuple(z3.Implies(z3.And(*premise), claim) for claim in claims)))
    return HaircutFacts(free, tuple(turns), tuple(settled), sums, tuple(lemmas))


__all__ = [
    "ASSUMES",
    "CLAIMS",
    "INDUCTION_ASSUMES",
    "METHOD",
    "METHOD_MOVES",
    "MOVES_PREMISE",
    "PARTS",
    "RESIDUAL_PART",
    "HaircutFacts",
    "argument",
    "ask_once",
    "close_keeps",
    "close_parts",
    "conversion_sums",
    "decomposes",
    "facts",
    "fits",
    "inducts",
    "moved_settled_parts",
    "moves_argument",
    "moves_premise",
    "not_covered",
    "own_premise",
    "residual",
    "residual_turn",
    "settled_parts",
    "start_parts",
    "turn_parts",
]

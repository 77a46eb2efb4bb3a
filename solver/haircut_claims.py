"""``principal-protected`` for every N where the one layer that charges traders is the haircut ratio.

The claim: every haircut transfer a trader pays (``HAIRCUT_REASONS``) leaves its equity, followed
through the step's ledger in order from its equity before the step, at or above its principal
after the step (``catalog._haircuts_keep_principal``), for every trader not itself bankrupt in the
step. Percolator Gen A (``rules/presets/percolator-gen-a.toml``: spec v7 §3, a deficit written off
into ``h``, capital senior) charges traders only through its haircut ratio, inside the turn of the
bankrupt account (``rules.haircut_ratio.haircut``: each payer ``⌈D·w/W⌉`` of its junior profit
``w = max(E − principal, 0)``, capped at the total). Its per-trader argument
(``solver.per_account``) stops because the warm-up's vesting (``opening``) and the haircut couple
the traders; the bounded question at N = 4 runs out in z3 (1.8M units a phase, 10M).

The argument, on the engine's own functions (one semantics):

1. **The turn's lemma** (z3, exact, every number free; premise: every principal ≥ 0): in one
   trader's ``liquidation_turn`` on a book of two traders and the system accounts, each haircut
   transfer another trader pays (and one the turn's own trader pays, unless it is bankrupt in it)
   leaves that trader's cash, followed through the turn's entries from its cash when the turn
   starts, at or above its principal when the turn starts. A payer's share reads the deficit, its
   own weight and the total weight (the share lemma's generalization,
   ``solver.payer_lemma.share_check``); the book's liquidity account pays beside it with its numbers
   free, so the total ranges over every value at least the payer's own: the turn of a book of any N
   is covered. Split exactly in book order (``ProRata.EXACT_IN_ORDER``, Gen A's since session 21)
   a share also reads the payers before it, but it is ``⌊D·w/W⌋`` or, only where ``D·w mod W ≠ 0``,
   ``⌈D·w/W⌉``; on the lemma's book the trader is the first payer, so wherever its share has a
   fraction the remainder (at least that fraction, a whole number) reaches it and it pays the
   ceiling: the share of a book of any N is at most the lemma's for the same deficit, weight and
   total, and a smaller share leaves more cash.
2. **The step** (checked on the engine's own step at three traders, every event variant of the
   bounded kinds, from the question's assumptions): the step is ``opening``, ``settle``,
   ``before_turns``, one ``liquidation_turn`` per trader in book order, ``after_sweep`` and
   ``closing`` (the same book, entries and outcomes as ``transition``); no haircut entry is made
   outside the turns; at each turn's start every trader's cash is its cash before the step plus
   its guarded entries so far (the claim's running equity: equity is cash here, no spot counted),
   every account's principal is ≥ 0 (the turn lemma's premise: the liquidity account pays too),
   and each trader's is at least its principal after the step (``closing`` only lowers it:
   ``settle_losses``).

So at every haircut transfer the claim's running equity is the turn lemma's, at least the
principal at the turn's start, at least the principal after the step: the claim holds for every
trader of a book of any N. One event: the step's facts are checked from the question's start. Over
K mark moves (session 24): the step's facts are checked from :data:`PREMISE_SAYS` alone, a premise
the question's start meets and the step keeps (each event's close re-bases a principal to
``min(principal, max(E, 0))``, a slope to ``max(1, ⌊junior / T⌋)``, 0 or its own), so by induction
over the moves every move's haircuts keep the claim, for any N and any K.
``solver.prove`` still asks the claim directly (at N, and on the lemmas' two-trader book where N's
is undecided): the all-N claim never rests on the lemmas alone
(docs/solver-notes.md#percolator-at-n--4-session-20).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.rules.arith import all_, and_, any_, implies, not_, when
from solvent.rules.book import Book, Role
from solvent.rules.engine import liquidation_turn
from solvent.rules.ledger import HAIRCUT_REASONS, Ctx
from solvent.rules.lending import lends_any
from solvent.rules.outcomes import Bankrupt
from solvent.rules.policy import Policy
from solvent.rules.waterfall import HaircutRatio
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds
from solvent.solver.conversion_lemma import CONVERSION, conversion_parts, freed_all
from solvent.solver.story import slots, symbolic_book
from solvent.solver.sweep_step import POOLS, not_one_step, phases

CLAIM = "principal-protected"
#: traders in the step the facts are checked on
STEP_TRADERS = 3
#: what the all-N verdict assumes of the engine (``Scope.assumes``)
ASSUMES = (
    "each trader's turn treats every other trader as a three-trader book's turn treats the others, and a "
    "haircut payer's share reads only the deficit, its own weight and the total weight (split exactly in book "
    "order, at most its share on a two-payer book where it comes first); the opening's conversion (Gen A at h, "
    "one h for every account) gives each account of any N what it gives on three traders (its lemma, exact z3 there: "
    "0 ≤ y ≤ x, a trader's lost part 0 ≤ lost ≤ x − y), as h_num ≤ h_den whatever the accounts"
)

#: the premise a mark move keeps, for any K (``step_facts`` at K > 1): every account's principal and
#: warm-up slope at least zero; each event's close re-bases a principal to ``min(principal, max(E, 0))``
#: and sets a slope to ``max(1, ⌊junior / T⌋)``, 0 or the slope it had (``haircut_ratio.settle_losses``)
PREMISE_SAYS = "every account's principal, and each trader's and the order book's warm-up slope, at least zero"
#: what an all-N, any-K verdict by this argument assumes beyond :data:`ASSUMES`
INDUCTION_ASSUMES = (
    f"induction over mark moves on the premise {PREMISE_SAYS} (the start meets it; the step, checked from it alone "
    "at three traders, keeps it)"
)

Valid = Callable[..., str]


def premise_of(book: Book) -> list[Any]:
    """:data:`PREMISE_SAYS` on ``book``: each account's principal and slope at least zero."""
    principals = [a.principal_quote >= 0 for a in book.accounts]
    # the warm-up vests the traders' and the book's junior profit only (``haircut_ratio._vest_slope``)
    slopes = [a.reserve_slope_quote >= 0 for a in book.accounts if a.is_trader or a.role is Role.LIQUIDITY]
    return principals + slopes


def not_covered(policy: Policy, bounds: Bounds) -> str | None:
    """Why the argument does not apply to ``policy`` within ``bounds`` (None where it does)."""
    kinds = [layer.kind for layer in policy.deficit]
    if not any(isinstance(layer, HaircutRatio) for layer in policy.deficit):
        return "the policy has no haircut-ratio layer"
    if any(k not in (*POOLS, "haircut_ratio") for k in kinds):
        return f"its waterfall charges traders through more than the haircut ratio ({', '.join(kinds)})"
    if lends_any(policy) or policy.margin.spot_collateral or policy.pnl_to_pool_adl is not None:
        return (
            "a lent asset, spot collateral or a PnL-to-pool ADL: a trader's equity or charges read more than its cash"
        )
    # K > 1: each move is the step the facts are checked on, from the premise a move keeps (step_facts)
    return not_one_step(attrs.evolve(bounds, events=1))


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def _conversion_lemma(valid: Any, book: Book, converted: list[tuple[str, Any]]) -> Any:
    """The opening's conversion (Gen A at h) asked once by ``valid`` from the premise, its facts
    named (``solver.conversion_lemma``)."""
    return valid(
        f"{CONVERSION.format(traders=STEP_TRADERS)}: {'; '.join(name for name, _ in converted)}",
        premise_of(book),
        _b(all_(c for _, c in converted)),
        exact=True,
    )


def running_cash(start: Any, who: str, entries: Any) -> Any:
    """``who``'s cash followed through ``entries`` in order from ``start`` (each guarded)."""
    running = start
    for g in entries:
        t = g.item
        if t.destination == who and t.source == who:
            continue
        delta = (t.amount_quote if t.destination == who else 0) - (t.amount_quote if t.source == who else 0)
        running = running + when(g.guard, delta)
    return running


def turn_claim(policy: Policy, book: Book, trader: str) -> Any:
    """The turn lemma's claim on ``book``: after each haircut transfer of ``trader``'s turn, its
    payer's cash (from the turn's start) is at least its principal at the turn's start, for every
    payer not bankrupt in the turn."""
    ctx = liquidation_turn(policy, Ctx(book), trader)
    checks = []
    for payer in (a.name for a in book.traders):
        start = book.account(payer)
        bankrupt = any_(g.guard for g in ctx.outcomes if isinstance(g.item, Bankrupt) and g.item.account == payer)
        running = start.cash_quote
        for g in ctx.entries:
            running = running_cash(running, payer, [g])
            t = g.item
            if t.source == payer and t.reason in HAIRCUT_REASONS:
                checks.append(
                    implies(and_(g.guard, not_(bankrupt), t.amount_quote > 0), running >= start.principal_quote)
                )
    return all_(checks)


def turn_lemma(policy: Policy, valid: Valid) -> str:
    """Step 1 of the module docstring, on two free traders and the system accounts."""
    book, _ = symbolic_book(Bounds(accounts=2))
    premise = [a.principal_quote >= 0 for a in book.accounts]
    claim = turn_claim(policy, book, book.traders[0].name)
    return valid(
        "the turn: each haircut a trader pays in another's turn leaves its cash at or above its principal "
        "(two traders and the book's liquidity paying, every number free)",
        premise,
        _b(claim),
        exact=True,
    )


def step_facts(policy: Policy, bounds: Bounds, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """Step 2 of the module docstring, on :data:`STEP_TRADERS` free traders from the question's
    assumptions, every event variant of the bounded kinds. At K > 1 (``bounds.events``) from
    :func:`premise` alone instead, with the premise kept by the step and met by the question's start
    (the induction over moves)."""
    one = Bounds(
        accounts=STEP_TRADERS,
        events=1,
        event_kinds=bounds.event_kinds,
        max_quote=bounds.max_quote,
        max_lots=bounds.max_lots,
        min_price=bounds.min_price,
        max_price=bounds.max_price,
        max_rate_ppm=bounds.max_rate_ppm,
        start_margin=bounds.start_margin,
        start=bounds.start,
    )
    book, _ = symbolic_book(one)
    start = [_b(a.holds) for a in book_assumptions(policy, book, one)]
    traders = [a.name for a in book.traders]
    lemmas = []
    moves = bounds.events > 1
    converted, freed, facts = conversion_parts(policy, book)
    if moves or converted:  # the conversion lemma is asked from the premise, which the start meets
        lemmas.append(
            valid(
                f"the start ({STEP_TRADERS} traders, the question's assumptions): {PREMISE_SAYS}",
                start,
                _b(all_(premise_of(book))),
                exact=True,
            )
        )
    base = premise_of(book) if moves else start
    # the opening's conversion (Gen A at h): its lemma asked once, then its terms freed in every fact
    # below under the lemma's facts (solver.conversion_lemma); asked from the premise (cheaper
    # than from the question's whole start: 678K units against 1.06M at three traders), which the start meets
    if converted:
        lemmas.append(_conversion_lemma(valid, book, converted))
    given = [_b(f) for fs in facts.values() for f in fs]
    for slot in slots(book, one):
        # the event's numbers within the bounds too (a mark of at least the least price: a penalty,
        # charged from capital under Gen A, is then never negative and never raises a principal)
        premise = [*base, _b(slot.field_bounds), *given]
        for variant in slot.variants:
            run = phases(policy, book, variant, traders, fail)
            first, starts, last, ctx = run.first_entries, run.starts, run.turned_entries, run.end
            outside = [
                g.item.reason.value
                for i, g in enumerate(ctx.entries)
                if not first <= i < last and g.item.reason in HAIRCUT_REASONS
            ]
            if outside:
                fail(f"the step ({variant.label}): a haircut entry ({outside[0]}) is made outside the traders' turns")
            ledger, floor, kept = [], [], []
            for start, k in starts:
                # the turn lemma's premise, every account's principal at least 0 (the liquidity account pays too)
                floor += [a.principal_quote >= 0 for a in start.accounts]
                for p in traders:
                    ledger.append(
                        start.account(p).cash_quote == running_cash(book.account(p).cash_quote, p, ctx.entries[:k])
                    )
                    kept.append(ctx.book.account(p).principal_quote <= start.account(p).principal_quote)
            said = f"the step ({variant.label}, {STEP_TRADERS} traders{', from the premise' if moves else ''})"
            if moves:
                lemmas.append(
                    valid(
                        f"{said}: the premise after the step ({PREMISE_SAYS})",
                        premise,
                        freed_all(freed, _b(all_(premise_of(ctx.book)))),
                        exact=True,
                    )
                )
            lemmas.append(
                valid(
                    f"{said}: each trader's cash at each turn's start is its ledger's",
                    premise,
                    freed_all(freed, _b(all_(ledger))),
                    exact=True,
                )
            )
            lemmas.append(
                valid(
                    f"{said}: every account's principal at each turn's start is at least 0",
                    premise,
                    freed_all(freed, _b(all_(floor))),
                    exact=True,
                )
            )
            lemmas.append(
                valid(
                    f"{said}: each principal after the step is at most its principal at each turn's start",
                    premise,
                    freed_all(freed, _b(all_(kept))),
                    exact=True,
                )
            )
    return [
        f"the step ({', '.join(bounds.event_kinds)}, {STEP_TRADERS} traders, the engine's transition): opening, settle, "
        "the turns in book order, closing; every haircut is made inside a turn",
        *lemmas,
    ]


def premise_kept(policy: Policy, bounds: Bounds, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """:data:`PREMISE_SAYS` kept by the step, alone (``solver.haircut_payer``'s premise over moves holds
    it beside its own parts): on :data:`STEP_TRADERS` free traders from :func:`premise_of` and the
    event's bounds, the opening's conversion lemma asked from the premise and its terms freed, each
    event variant's step on the engine's phases (the same queries :func:`step_facts` asks at K > 1
    for these two claims)."""
    one = attrs.evolve(bounds, accounts=STEP_TRADERS, events=1)
    book, _ = symbolic_book(one)
    traders = [a.name for a in book.traders]
    converted, freed, facts = conversion_parts(policy, book)
    lemmas = []
    if converted:
        lemmas.append(_conversion_lemma(valid, book, converted))
    given = [_b(f) for fs in facts.values() for f in fs]
    for slot in slots(book, one):
        premise = [*premise_of(book), _b(slot.field_bounds), *given]
        for variant in slot.variants:
            end = phases(policy, book, variant, traders, fail).end
            lemmas.append(
                valid(
                    f"the step ({variant.label}, {STEP_TRADERS} traders, from the premise): the premise after the step "
                    f"({PREMISE_SAYS})",
                    premise,
                    freed_all(freed, _b(all_(premise_of(end.book)))),
                    exact=True,
                )
            )
    return lemmas


def argument(policy: Policy, bounds: Bounds, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """The lemmas of the module docstring, or ``fail(reason)`` where the argument does not apply
    (``valid`` raises where a lemma does not hold)."""
    why = not_covered(policy, bounds)
    if why is not None:
        fail(f"{CLAIM}: the haircut's argument: {why}")
    lemmas = [turn_lemma(policy, valid)]
    lemmas += step_facts(policy, bounds, valid, fail)
    lemmas.append(
        f"aggregate: every haircut transfer is made in a turn, where the claim's running equity is the turn "
        f"lemma's, at or above the principal at the turn's start, at or above the principal after the step: "
        f"{CLAIM} holds for every trader, for any N"
    )
    if bounds.events > 1:
        lemmas.append(
            f"induction over mark moves: the premise ({PREMISE_SAYS}) holds at the start and each move keeps it; "
            f"from it each move keeps {CLAIM} (the step's facts asked from the premise alone), so {CLAIM} holds "
            "after every move, for any N and any K"
        )
    return lemmas


METHOD = (
    "compositional, all N, one event: each haircut a trader pays in another trader's turn leaves its cash at or "
    "above its principal (z3 on the engine's own liquidation_turn, two traders and the book's liquidity paying, every "
    "number free), and on the step (the engine's transition at three traders) every haircut is made in a turn, the "
    "claim's running equity at a turn's start is the trader's cash and its principal only falls after it; "
    f"assumes {ASSUMES}"
)

#: the method line where the argument is the induction over moves (K > 1)
METHOD_MOVES = (
    "compositional, all N, any K: the one-event argument (each haircut a trader pays in another trader's turn "
    "leaves its cash at or above its principal, z3 on the engine's own liquidation_turn; every haircut made in a "
    f"turn, on the engine's transition at three traders) with the step's facts asked from the premise {PREMISE_SAYS}, "
    f"which the start meets and the step keeps; assumes {ASSUMES}; {INDUCTION_ASSUMES}"
)

__all__ = [
    "ASSUMES",
    "CLAIM",
    "INDUCTION_ASSUMES",
    "METHOD",
    "METHOD_MOVES",
    "PREMISE_SAYS",
    "argument",
    "not_covered",
    "premise_kept",
    "premise_of",
    "running_cash",
    "step_facts",
    "turn_claim",
    "turn_lemma",
]

"""``deficit-charged-once`` for every N and any K, by lemmas on one bankrupt account's resolution.

In exchange terms the claim says that a bankrupt account's deficit ``D`` (what it owes once its
position is closed) is paid exactly once: the waterfall's layers (the insurance fund, ADL's winners
at the bankruptcy price, the venue) cover parts of it that add up, with what none of them covered
(the residual), to ``D``; no layer covers a negative amount; and the account receives through the
waterfall no more than the layers covered (the per-lot rounding excess goes on to the fund). It is
a conjunction over the step's bankrupt accounts, each about its own call of the engine's
``rules.bankruptcy.resolve``. Inside the step's question at N = 4 or 8 the N-trader build and the
N − 1 fills of ADL's queue leave z3 undecided (docs/solver-notes.md#deficit-charged-once-for-every-n-and-k-issue-18);
asked of one call on a book whose every number is free, it is decided in a fraction of a second.

The argument, where ADL at the bankruptcy price is the one layer that moves money between traders
(``solver.payer_lemma.applies(whole=False)``: Binance, OKX, Bybit, BitMEX) and the queue fills by
rank (no fill per fill, no overlap rule, no limit of accounts an event):

1. **The call's lemma** (z3, exact, every number free, the mark a price ≥ 1): the engine's
   ``resolve`` of each trader of a two-trader book satisfies the catalog's own predicate on the
   call's entries and outcomes (one semantics), and no ``ADL`` transfer leaves the bankrupt
   account (``solver.resolution_facts.resolution_question``). What that claim reads of the other
   trader is its position alone (checked on the term's variables): the lots its one fill serves,
   ``X = min(L, |s|)`` where it is opposite, every ``X`` in ``[0, L]`` as ``s`` is free. Where a
   pool holds what it takes over (BitMEX's fund), its own deleveraging before the turns is a call
   too, a bankrupt account whose queue is every trader: its lemma is asked beside one trader.
2. **Why one candidate covers every N.** The claim reads the bankrupt account's cash and position
   and the system accounts (checked on the term's variables: not its cost basis), and ADL's fills
   are the only part of the call that reads the other traders. Each fill at the call's one price
   (its gap ``g ≥ 0``: lemma) moves the bankrupt account's cash by ``q·g`` and its position ``q``
   lots toward zero, pays it ``q·g`` by ``ADL`` and takes nothing from it (lemma on the engine's
   ``close_against``, for every ``q ≤`` its position). So after the queue's fills its state, and
   its ``ADL`` sums, are the one-fill state at ``X = Σ q``; the rest of the call (the book, the fee
   to close, the rest closed into the book, the dust to the fund, the later layers) reads that state
   and ``L − X``. The queue serves ``q_i = [eligible] · min(max(L − A_i, 0), lots_i)``,
   ``A_i`` the lots of the candidates ahead of ``i`` (``rules.adl.fills_by_rank``): each ``q_i ≥ 0``,
   and ``Σ q_i ≤ L`` where "ahead" is a strict total order on the eligible candidates, which the
   engine's comparison ``rules.adl._ahead`` is (lemmas on free scores with denominators ≥ 1, pairs
   and triples, in every book order; and each score's denominator ≥ 1 from one account's fields).
   So ``X`` is in ``[0, L]`` at any N and the call's claim is the two-trader call's at that ``X``.
3. **The step.** The claim for account ``b`` sums, over the whole step, the layers, residuals and
   waterfall transfers naming ``b``: those of its own call (at most one a step: its ``Bankrupt``
   outcomes exclusive on the step at three traders) and, from another account's call, only
   ``ADL`` transfers from that bankrupt account to ``b``, which lemma 2 makes 0 (checked on a call
   with two candidates: every waterfall entry names the call's bankrupt account, and one into
   another trader is ``ADL``). A fee ``b`` pays after such a transfer is a trading fee, never
   negative (each question's transfers obligation): subtracting it leaves ``received`` smaller.

Where ADL walks its candidates in turn (dYdX v4: a gap rounded per fill, the overlap rule, a limit
of accounts an event), :func:`walk_argument` carries the call to every N by induction over the walk
instead: each turn keeps the walk's invariant and serves ``0 ≤ q ≤ r`` lots for a payment ``≥ 0``,
so a walk of any length leaves the bankrupt account as one fill of ``X`` lots paying ``Y`` would, and
the two-trader call with its one payment free (any ``Y`` within the invariant) covers every such
pair; a deferred account's call (past the limit) has its own lemma
(docs/solver-notes.md#deficit-charged-once-by-induction-over-the-walk).

Every lemma quantifies every number of the book the call starts from, so the claim holds at every
step of any number of events. Where a lemma does not hold or the argument does not apply, nothing
is extended and the claim is asked at the bounded N as before; ``solver.prove`` also asks it
directly on the lemmas' book (the all-N claim never rests on the lemmas alone).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.properties import catalog
from solvent.properties.catalog import WATERFALL_REASONS
from solvent.rules import adl as adl_rules
from solvent.rules import positions
from solvent.rules.arith import abs_, and_, ite, max_, or_, sum_, when
from solvent.rules.bankruptcy import resolve
from solvent.rules.book import Book, new_book
from solvent.rules.engine import transition
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.liquidation import pools_holding
from solvent.rules.margin import equity
from solvent.rules.outcomes import AdlFill, Bankrupt, DeleverageAttempt
from solvent.rules.policy import Policy
from solvent.rules.pool_bankruptcy import deleverage_pools
from solvent.rules.venue_formulas import price_at_gap
from solvent.rules.waterfall import GapRounding
from solvent.solver import adl_claims, sweep_invariant
from solvent.solver.bounds import FUNDING, Bounds
from solvent.solver.case_split import remember
from solvent.solver.payer_lemma import applies
from solvent.solver.per_account import constants
from solvent.solver.resolution_facts import POOLS, resolution_question
from solvent.solver.story import slots, symbolic_book

CLAIM = "deficit-charged-once"
#: what the all-N verdict assumes of the engine (``Scope.assumes``)
ASSUMES = (
    "each bankrupt account is resolved at most once a step (checked on the step at three traders), and its "
    "resolve reads the other traders only through ADL's fills at its one price, served by rank "
    "(rules.adl.fills_by_rank: a candidate's fill is its lots capped by what the candidates ahead of it left)"
)
#: the reasons the claim's ``received`` reads (``catalog.deficit_charged_once``)
READ = WATERFALL_REASONS | {Reason.PRO_RATA_DUST, Reason.ADL_SURPLUS}
#: traders in the step the calls are counted on, and candidates in the call whose entries are read
STEP_TRADERS = 3

Valid = Callable[..., str]


def not_covered(policy: Policy, bounds: Bounds) -> str | None:
    """Why the argument does not apply to ``policy`` within ``bounds`` (None where it does)."""
    # the queue and the book may leave part of a position (lemma 1); at the previous mark (Hyperliquid)
    # the call's lemma carries the sweep's invariant as a premise (solver.sweep_invariant)
    reason = applies(policy, whole=False, previous_mark=True)
    if reason is not None:
        return reason
    if policy.adl.overlap_only or policy.adl.gap_rounding is GapRounding.PER_FILL:
        return (
            "its ADL walks the candidates in turn (a gap rounded per fill, an offsetting account skipped where its "
            "fill would leave it riskier): a fill's payment depends on the fills before it, not on its lots alone"
        )
    if policy.adl.max_deleveraged_per_event is not None:
        return (
            "its ADL defers an account once the event reached its limit: a call depends on the step's calls before it"
        )
    if (beyond := bounds.beyond_one_plain_market()) is not None:
        return beyond
    if FUNDING in bounds.event_kinds and (how := not_moved(policy)) is not None:
        return f"at a funding payment {how}"
    return None


def not_moved(policy: Policy) -> str | None:
    """How ``policy``'s ADL closes in a sweep that moved no mark (a funding payment's) other than in
    the sweep of a mark move, which the call's lemma asks (``resolve`` on ``Ctx(book)``: the move that
    book holds); None where the two closes build the same terms. Read from the engine's own choices,
    ``rules.adl.at_bankruptcy`` and ``rules.adl.rounds_per_fill`` on a context of each kind: at the
    bankruptcy price where a mark move's closes at the previous mark (Hyperliquid, session 25), or per
    fill where a mark move's rounds per lot (every bankruptcy-price preset, session 26). The argument
    then covers mark moves only (docs/solver-notes.md#the-payer-claims-on-mark-and-funding-by-event-kind-session-27)."""
    moved = Ctx(new_book(mark_quote=1))
    still = Ctx(new_book(mark_quote=1)).with_mark_moved(False)
    said = []
    if adl_rules.at_bankruptcy(still, policy.adl) != adl_rules.at_bankruptcy(moved, policy.adl):
        said.append("closes at the bankruptcy price, not the previous mark")
    if adl_rules.rounds_per_fill(still, policy.adl) != adl_rules.rounds_per_fill(moved, policy.adl):
        rounding = "per fill" if adl_rules.rounds_per_fill(still, policy.adl) else "per lot"
        said.append(f"rounds the gap {rounding}")
    if not said:
        return None
    return (
        f"(a sweep that moved no mark) its ADL {' and '.join(said)} (rules.adl.at_bankruptcy, rounds_per_fill), "
        "where the call's lemma asks a mark move's resolve"
    )


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def _names(term: Any) -> set[str]:
    return {str(c) for c in constants(_b(term)) if z3.is_int(c) and not z3.is_int_value(c)}


def _reads(book: Book, bankrupt: str, term: Any) -> list[str]:
    """The variables of ``term`` the argument says it does not read: any field of another trader but
    its position, and the bankrupt account's cost basis."""
    bad = []
    for name in sorted(_names(term)):
        parts = name.split(".")
        owner = parts[1] if len(parts) > 2 else ""
        if owner == bankrupt and parts[-1] == "cost_quote":
            bad.append(name)
        elif owner in {a.name for a in book.traders} - {bankrupt} and parts[-1] != "size_lots":
            bad.append(name)
    return bad


def call_lemmas(policy: Policy, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """Lemma 1 and what it reads (see the module), and the call's gap ≥ 0 wherever it fills."""
    lemmas = []
    for bankrupt in ("alice", "bob"):
        book, premise, claim = resolution_question(policy, bankrupt, CLAIM)
        stray = _reads(book, bankrupt, claim)
        if stray:
            fail(f"the claim of {bankrupt}'s resolve reads {', '.join(stray)}: not the other traders' positions alone")
        lemmas.append(
            valid(
                f"{CLAIM} of {bankrupt}'s resolve on two traders, every number free; no ADL transfer leaves it",
                premise,
                claim,
                exact=True,
            )
        )
        # the resolution facts of the direct check on the lemmas' book are this formula: not asked again there
        remember(z3.Implies(z3.And(*premise), claim), "unsat")
        out = resolve(policy, Ctx(book), bankrupt)
        fills = [g for g in out.outcomes if isinstance(g.item, AdlFill)]
        if not fills:
            fail(f"{bankrupt}'s resolve records no ADL fill")
        gaps = and_(*(z3.Implies(_b(g.guard), _b(g.item.gap_per_lot_quote >= 0)) for g in fills))
        stray = [n for n in _reads(book, bankrupt, gaps) if not n.endswith("cost_quote")]
        if stray:
            fail(f"{bankrupt}'s ADL gap reads {', '.join(stray)}")
        lemmas.append(valid(f"{bankrupt}'s ADL gap per lot ≥ 0 wherever it fills", premise, _b(gaps), exact=True))
    if pools_holding(policy.liquidation):
        lemmas += _pools_lemmas(policy, valid, fail)
    return lemmas


def _pools_lemmas(policy: Policy, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """Lemma 1 for the pools' own deleveraging before the turns (``deleverage_pools``: BitMEX's
    fund, a bankrupt account of its own whose queue is every trader), on a book of one trader: its
    one candidate's fill serves every ``X`` in ``[0, L]``, as the two-trader book's does a trader's."""
    book, premise, claim = resolution_question(policy, POOLS, CLAIM, accounts=1)
    pools = {book.role(role).name for role in pools_holding(policy.liquidation)}
    stray = sorted({n for p in pools for n in _reads(book, p, claim)})
    if stray:
        fail(f"the claim of the pools' own deleveraging reads {', '.join(stray)}")
    out = deleverage_pools(policy, Ctx(book))
    fills = [g for g in out.outcomes if isinstance(g.item, AdlFill)]
    gaps = and_(*(z3.Implies(_b(g.guard), _b(g.item.gap_per_lot_quote >= 0)) for g in fills))
    return [
        valid(
            f"{CLAIM} of the pools' own deleveraging beside one trader, every number free; no ADL transfer leaves a pool",
            premise,
            claim,
            exact=True,
        ),
        valid("the pools' ADL gap per lot ≥ 0 wherever it fills", premise, _b(gaps), exact=True),
    ]


def fill_question(book: Book) -> tuple[list[Any], Any, Ctx]:
    """Lemma 2's one fill: the engine's ``close_against`` of ``q`` lots of the first trader's position
    against the second at the price ``g`` from the mark against it (``price_at_gap``), ``0 ≤ q ≤``
    its position, ``g ≥ 0``: ``(premise, claim, ctx)``."""
    bankrupt, winner = (a.name for a in book.traders[:2])
    q, g = z3.Int("fill.q"), z3.Int("fill.g")
    size = book.account(bankrupt).size_lots
    out = positions.close_against(
        Ctx(book), bankrupt, winner, q, price_at_gap(book.market.mark_quote, size, g), Reason.ADL
    )
    before, after = book.account(bankrupt), out.book.account(bankrupt)

    def adl(end: str) -> Any:
        return sum_(
            when(e.guard, e.item.amount_quote)
            for e in out.entries
            if e.item.reason is Reason.ADL and getattr(e.item, end) == bankrupt
        )

    claim = and_(
        after.cash_quote == before.cash_quote + q * g,
        after.size_lots == ite(size > 0, size - q, size + q),
        adl("destination") == q * g,
        adl("source") == 0,
    )
    return [book.market.mark_quote >= 1, g >= 0, q >= 0, q <= abs_(size)], _b(claim), out


def fill_lemma(valid: Valid, fail: Callable[[str], None]) -> str:
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    premise, claim, out = fill_question(book)
    ends = {frozenset((e.item.source, e.item.destination)) for e in out.entries}
    if ends != {frozenset(("alice", "bob"))}:
        fail("one ADL fill moves money between other accounts than the bankrupt one and its winner")
    return valid(
        "one ADL fill of q ≤ |S| lots at gap g ≥ 0 (close_against): the bankrupt account's cash + q·g, its position "
        "q lots toward zero, ADL in q·g, ADL out 0",
        premise,
        claim,
        exact=True,
    )


def _entry(k: int, index: int) -> tuple[adl_rules._Entry, list[Any]]:
    num, den = z3.Int(f"q{k}.num"), z3.Int(f"q{k}.den")
    lots = z3.Int(f"q{k}.lots")
    return adl_rules._Entry(z3.Bool(f"q{k}.eligible"), num, den, index, lots), [den >= 1, lots >= 0]


def order_lemmas(policy: Policy, valid: Valid) -> list[str]:
    """The queue's comparison ``_ahead`` a strict total order on eligible candidates (free scores,
    denominators ≥ 1, in every book order), and each score's denominator ≥ 1 (one account)."""
    premise: list[Any] = []
    entries = []
    for k in range(3):
        e, p = _entry(k, k)
        entries.append(e)
        premise += p
    pairs, triples = [], []
    for a, b in itertools.permutations(entries, 2):  # eligible pairs: exactly one ahead
        both = and_(a.eligible, b.eligible)
        pairs.append(z3.Implies(both, _b(adl_rules._ahead(a, b)) != _b(adl_rules._ahead(b, a))))
    for a, b, c in itertools.permutations(entries, 3):
        ahead = adl_rules._ahead
        triples.append(z3.Implies(_b(and_(ahead(a, b), ahead(b, c), c.eligible)), _b(ahead(a, c))))
    lemmas = [
        valid(
            "the queue's comparison (rules.adl._ahead): of two eligible candidates exactly one is ahead",
            premise,
            z3.And(*pairs),
            exact=True,
        ),
        valid(
            "the queue's comparison is transitive (three candidates, every book order)",
            premise,
            z3.And(*triples),
            exact=True,
        ),
    ]
    book, _ = symbolic_book(Bounds(accounts=1, events=1))
    [account] = book.traders
    s = adl_rules.score(policy.adl.ranking, policy.margin, policy.rounding, account, book.market.mark_quote)
    lemmas.append(
        valid(
            "each candidate's score has a denominator ≥ 1 (rules.adl.score, one account)",
            [book.market.mark_quote >= 1],
            _b(s.den >= 1),
            exact=True,
        )
    )
    return lemmas


def step_lemmas(
    policy: Policy, bounds: Bounds, valid: Valid, fail: Callable[[str], None], *, alone: bool = False
) -> list[str]:
    """Lemma 3: each account's ``Bankrupt`` outcomes exclusive in the engine's step (every event
    variant of the bounded kinds, :data:`STEP_TRADERS` traders); and in a call with two candidates
    every entry of a reason ``received`` reads names the call's bankrupt account, one into another
    trader an ``ADL`` fill's. ``alone``: the call without the cascade after it (each account the
    cascade resolves is a call of its own, ``solver.deficit_socialized``)."""
    one = attrs.evolve(bounds, accounts=STEP_TRADERS, events=1)
    book, _ = symbolic_book(one)
    lemmas = []
    for slot in slots(book, one):
        for variant in slot.variants:
            ctx = transition(policy, book, variant.event)
            resolved = [g for g in ctx.outcomes if isinstance(g.item, Bankrupt)]
            for account in dict.fromkeys(g.item.account for g in resolved):
                mine = [_b(g.guard) for g in resolved if g.item.account == account]
                if len(mine) > 1:
                    apart = [z3.Not(z3.And(x, y)) for x, y in itertools.combinations(mine, 2)]
                    lemmas.append(
                        valid(
                            f"the step ({variant.label}): {account} resolved at most once",
                            [],
                            z3.And(*apart),
                            exact=True,
                        )
                    )
    book, _ = symbolic_book(attrs.evolve(one, accounts=STEP_TRADERS))
    pools = {book.role(role).name for role in pools_holding(policy.liquidation)}
    others = {a.name for a in book.traders} | pools  # every account a Bankrupt outcome may name
    first = book.traders[0].name
    _read_by_others(f"{first}'s resolve", resolve(policy, Ctx(book), first, alone=alone), {first}, others, fail)
    if pools:
        _read_by_others("the pools' own deleveraging", deleverage_pools(policy, Ctx(book)), pools, others, fail)
    lemmas.append(
        f"the step ({', '.join(bounds.event_kinds)}, {STEP_TRADERS} traders): each account resolved at most once; "
        "every waterfall entry of a call names its bankrupt account, one into another trader an ADL fill's"
    )
    return lemmas


def _read_by_others(label: str, out: Ctx, bankrupts: set[str], others: set[str], fail: Callable[[str], None]) -> None:
    """Of a call's entries, what another account's conjunct of the claim reads (its waterfall
    inflows, its dust and surplus outflows) is only an ``ADL`` transfer from the call's bankrupt
    account (0 by the fill lemma); else the argument does not apply (``fail``)."""
    for e in out.entries:
        t = e.item
        if t.reason not in READ:
            continue
        if not bankrupts & {t.source, t.destination}:
            fail(f"{label} moves {t.reason.value} between {t.source} and {t.destination}")
        into = t.destination in others - bankrupts and t.reason in WATERFALL_REASONS
        if into and not (t.reason is Reason.ADL and t.source in bankrupts):
            fail(f"{label} pays {t.destination} by {t.reason.value}")
        if t.source in others - bankrupts and t.reason not in WATERFALL_REASONS:
            fail(f"{label} takes {t.reason.value} from {t.source}")


#: what the all-N verdict assumes where ADL walks its candidates in turn (dYdX v4, :func:`walk_argument`)
ASSUMES_WALK = (
    "each bankrupt account is resolved at most once a step (checked on the step at three traders), and its "
    "resolve reads the other traders only through its ADL walk (rules.adl.walk_step), which serves its candidates "
    "in turn, each from the lots left and the deficit still owed after the turns before it, at the mark with the "
    "fill's rounded share of the deficit"
)
#: the prefix of the walk's free payment (:func:`walk_call_lemmas`)
PAID = "dco."


def walk_not_covered(policy: Policy, bounds: Bounds) -> str | None:
    """Why :func:`walk_argument` does not apply to ``policy`` within ``bounds`` (None where it does)."""
    layer = policy.adl
    if layer is None or not (layer.overlap_only or layer.gap_rounding is GapRounding.PER_FILL):
        return "not a walk"
    if layer.gap_rounding is not GapRounding.PER_FILL or not layer.book_last:
        return "the walk's induction covers a gap rounded per fill, the book deleveraged last"
    if any(
        getattr(d, "kind", None) == "insurance_fund" and not getattr(d, "all_or_nothing", False) for d in policy.deficit
    ):
        return "a fund that pays part of a deficit before the walk (the walk's deficit is then not the account's own)"
    if (beyond := bounds.beyond_one_plain_market()) is not None:
        return beyond
    if FUNDING in bounds.event_kinds and (how := not_moved(policy)) is not None:
        return f"at a funding payment {how}"
    return None


def _walk_payment(out: Ctx, bankrupt: str, winner: str, fail: Callable[[str], None]) -> Any:
    """The term of the walk's payment from ``winner`` to ``bankrupt`` in a call with one candidate:
    the amount of its per-fill ``ADL`` transfer, ``Σ`` over the candidate's one served turn
    (``rules.adl.taken``: ``0 + paid``)."""
    found = [
        e.item.amount_quote
        for e in out.entries
        if e.item.reason is Reason.ADL and e.item.source == winner and e.item.destination == bankrupt
    ]
    paid = [
        t.arg(1)
        for t in found
        if z3.is_add(t) and t.num_args() == 2 and z3.is_int_value(t.arg(0)) and t.arg(0).as_long() == 0
    ]
    if len(paid) != 1:
        fail(f"{bankrupt}'s walk: its one candidate's payment is not one transfer of the turn's rounded share")
    return paid[0]


def walk_call_lemmas(policy: Policy, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """The call's lemma for a walk: the engine's ``resolve`` of each trader of a two-trader book, its
    one candidate's payment replaced by a free ``Y`` (``z3.substitute``) wherever the call reads it
    (the transfer, the deficit left for the book), ``Y`` any payment a walk of any length can make
    for ``X`` lots served (the one fill's lots): ``0 ≤ Y ≤ D``, none without a lot served, and the
    state left ``(L − X, D − Y)`` within the walk's invariant (``adl_claims.WalkStep.within``), D
    the account's deficit at the mark (the fund pays all or nothing before the walk, so the walk
    starts from it). The catalog's claim holds of every such call, and no ADL transfer leaves it."""
    lemmas = []
    for bankrupt, winner in (("alice", "bob"), ("bob", "alice")):
        book, premise, claim = resolution_question(policy, bankrupt, CLAIM)
        out = resolve(policy, Ctx(book), bankrupt)
        paid = _walk_payment(out, bankrupt, winner, fail)
        fills = [g for g in out.outcomes if isinstance(g.item, AdlFill) and g.item.bankrupt == bankrupt]
        if len(fills) != 1:
            fail(f"{bankrupt}'s resolve records {len(fills)} ADL fills on two traders: not one walk of one candidate")
        fill = fills[0]
        y = z3.Int(f"{PAID}{bankrupt}.paid")
        free = z3.substitute(claim, (paid, y))
        if free.eq(claim) or not any(str(c) == str(y) for c in constants(free)):
            fail(f"{bankrupt}'s walk: the claim does not read its one candidate's payment")
        x = z3.substitute(_b(fill.item.lots), (paid, y))
        before = book.account(bankrupt)
        lots = abs_(before.size_lots)
        owed = z3.If(equity(policy.margin, before) < 0, -equity(policy.margin, before), 0)
        fair = z3.substitute(_b(fill.item.fair_gap_per_lot_quote), (paid, y))
        left = (lots - x, owed - y)
        state = and_(
            x >= 0,
            x <= lots,
            y >= 0,
            y <= owed,
            z3.Implies(x == 0, y == 0),
            left[0] >= 0,
            left[1] >= 0,
            or_(left[0] == 0, left[1] <= left[0] * max_(fair, 0)),
        )
        walked = z3.Implies(_b(fill.guard), _b(state))
        # the premise is the walk's own: the engine's walk of its one candidate meets it (its payment for Y), so
        # the free payment generalizes the call, and D is the deficit the engine's walk starts from
        lemmas.append(
            valid(
                f"{bankrupt}'s walk of one candidate (the engine's own payment) meets the free payment's premise, "
                "every number free",
                premise,
                z3.substitute(walked, (y, paid)),
                exact=True,
            )
        )
        lemmas.append(
            valid(
                f"{CLAIM} of {bankrupt}'s resolve on two traders, its walk's payment any Y a walk of any length leaves "
                "within the walk's invariant for the lots served, every number free; no ADL transfer leaves it",
                [*premise, walked],
                free,
                exact=True,
            )
        )
    return lemmas


def deferred_lemma(policy: Policy, valid: Valid) -> str:
    """Where the policy limits the accounts ADL deleverages an event (``rules.deleveraging_limit``,
    binding on books of more traders than the limit: dYdX's 10), a bankrupt account past the limit
    keeps its position (``deferred``): the engine's ``resolve`` of a trader of a two-trader book with
    the limit at 1 and one attempt made before it (the same branch, ``attempts ≥ limit``) satisfies
    the claim, every number free."""
    book, out, view = adl_claims.deferred_resolve(policy)
    deferred = [g for g in out.outcomes if isinstance(g.item, DeleverageAttempt) and g.item.deferred]
    claim = and_(*(when(g.guard, g.item.amount_quote) == 0 for g in out.entries if g.item.reason is Reason.ADL))
    claim = and_(claim, catalog.get(CLAIM).holds(view), len(deferred) > 0)
    return valid(
        f"{CLAIM} of a deferred account's resolve (past the event's limit of accounts deleveraged: the limit at 1, "
        "one attempt before it, two traders), every number free",
        [book.market.mark_quote >= 1],
        _b(claim),
        exact=True,
    )


def walk_sums_lemma(policy: Policy, bounds: Bounds, valid: Valid) -> str:
    """One turn of the walk (``adl_claims.walk_step``) from any state within its invariant serves
    ``0 ≤ q ≤ r`` lots for a payment ``paid ≥ 0``, nothing without a lot: so a walk of any length
    serves ``X = Σ q ≤ L`` for ``Y = Σ paid`` with ``0 ≤ Y ≤ D``, none without a lot, and leaves
    ``(L − X, D − Y)``, within the invariant by the price's induction."""
    step = adl_claims.walk_step(policy, bounds)
    q = next(g.item.lots for g in step.ctx.outcomes if isinstance(g.item, AdlFill))
    r, d = step.state
    r2, d2 = step.after
    paid = d - d2
    claim = and_(q >= 0, q <= r, paid >= 0, z3.Implies(_b(q == 0), _b(paid == 0)), r2 == r - q)
    return valid(
        f"{CLAIM}: a turn of the walk from any state within its invariant serves 0 ≤ q ≤ r lots for a payment ≥ 0, "
        "none without a lot, every number free",
        [step.book.market.mark_quote >= 1, _b(step.within(step.state))],
        _b(claim),
        exact=True,
    )


def walk_argument(policy: Policy, bounds: Bounds, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """The all-N argument where ADL walks its candidates in turn (dYdX v4): by induction over the walk.
    Each turn from a state within the walk's invariant keeps it (the price's lemmas,
    ``adl_claims.walk_lemmas``) and serves ``0 ≤ q ≤ r`` lots for a payment ``≥ 0``
    (:func:`walk_sums_lemma`); each fill moves the bankrupt account's cash by its payment and its
    position ``q`` lots toward zero, at the mark (:func:`fill_lemma` at gap 0, the payment its own
    ``ADL`` transfer). So after a walk of any length the bankrupt account's side is one fill's of
    ``X = Σ q`` lots paying ``Y = Σ paid``, and the rest of the call (the book last, the rest into
    the book, the dust) reads that and ``(L − X, D − Y)``: the two-trader call with its payment free
    (:func:`walk_call_lemmas`) covers every such pair."""
    reason = walk_not_covered(policy, bounds)
    if reason is not None:
        fail(reason)
    lemmas = step_lemmas(policy, bounds, valid, fail)
    lemmas += adl_claims.walk_lemmas(policy, bounds, valid)
    lemmas.append(walk_sums_lemma(policy, bounds, valid))
    lemmas += walk_call_lemmas(policy, valid, fail)
    if policy.adl.max_deleveraged_per_event is not None:
        lemmas.append(deferred_lemma(policy, valid))
    lemmas.append(fill_lemma(valid, fail))
    lemmas.append(
        "the call at any N: its walk serves X = Σ q ≤ L for Y = Σ paid, each turn within the walk's invariant, so "
        "the bankrupt account's side is the one-candidate call's at (X, Y), which the two-trader lemma covers for "
        "every such pair"
    )
    return lemmas


def argument(policy: Policy, bounds: Bounds, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """The all-N argument for ``deficit-charged-once`` on ``policy``: its lemmas' names, each proved by
    ``valid`` (exact z3; it raises where a lemma does not hold), or ``fail`` (it raises) where the
    argument does not apply (see the module)."""
    if walk_not_covered(policy, bounds) != "not a walk":
        return walk_argument(policy, bounds, valid, fail)
    from solvent.solver import deficit_socialized, side_deficit  # they read this module's step lemmas

    if side_deficit.deficit_not_covered(policy, bounds) is None:  # percolator Gen B (solver.side_deficit)
        return side_deficit.argument(policy, bounds, valid, fail)
    if deficit_socialized.not_covered(policy, bounds) != "not a socialized loss last":
        return deficit_socialized.argument(policy, bounds, valid, fail)
    reason = not_covered(policy, bounds)
    if reason is not None:
        fail(reason)
    lemmas = step_lemmas(policy, bounds, valid, fail)
    lemmas += call_lemmas(policy, valid, fail)
    lemmas.append(fill_lemma(valid, fail))
    lemmas += order_lemmas(policy, valid)
    if sweep_invariant.applies(policy):
        # the call's lemma assumed the bankrupt account worth ≥ 0 at the previous mark: an invariant
        # of one move's sweep from a well-formed start (one event: ``compositional`` says so)
        lemmas += sweep_invariant.prove(policy, valid, fail).lemmas
    lemmas.append(
        "the call at any N: its fills at one price serve X = Σ q ≤ L (each q ≥ 0, by rank in a strict total order), "
        "so the bankrupt account's side is the one-candidate call's at X, which the two-trader lemma covers for "
        "every X in [0, L]"
    )
    return lemmas


__all__ = [
    "ASSUMES",
    "ASSUMES_WALK",
    "deferred_lemma",
    "walk_argument",
    "walk_call_lemmas",
    "walk_not_covered",
    "walk_sums_lemma",
    "CLAIM",
    "STEP_TRADERS",
    "argument",
    "call_lemmas",
    "fill_question",
    "not_covered",
    "not_moved",
    "order_lemmas",
    "step_lemmas",
]

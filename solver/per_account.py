"""Per-account claims for every N: a claim that reads one account is proved on that account alone.

``deposit-not-absorbed`` ("a deposit raises the depositor's withdrawable claim by the whole
deposit") speaks of one account: the depositor. Its all-N argument (the design in
docs/solver-notes.md#per-account-claims-for-every-n-the-design, step 2 and its first case) is,
for each event variant of the bounded kinds, run through the engine's own ``transition`` on the
lemmas' two-trader book:

- the predicate returns ``True`` without a formula (an event that is not a deposit): it holds on
  every book, whatever N, because the claim is decided by the event's kind alone;
- otherwise the claim's formula reads only the depositor's account, the market and the event's
  numbers (checked on the formula's variables: no other account's appears in it), and z3 proves it
  valid from the assumptions that read only those too (the depositor's own well-formedness and
  margin, the event's bounds and its acceptance; every assumption about other accounts is dropped,
  which only weakens the premise). The depositor of an N-trader book satisfies the same
  per-account assumptions and, the engine treating accounts uniformly, is given the same formula:
  so the claim holds for every depositor of every book.

Only one event at a time is covered (K = 1): a claim about one step is not an invariant of the
book, so the argument says nothing about what K earlier events can reach.

``no-negative-equity``, ``loss-bounded-by-collateral``, ``principal-protected`` and
``flat-accounts-never-pay`` say something of every trader, each on its own (:data:`EACH_TRADER`:
their predicates are a conjunction over the traders of a condition on that trader's account, its
own transfers and the outcomes that name it). On a mark move or funding (the sweep's events) the
engine runs ``opening``, ``settle``, ``before_turns`` (a fund's or vault's own deleveraging, the fund's unwind), one ``liquidation_turn`` per trader in book
order, ``after_sweep`` and ``closing`` (``solvent.rules.engine``). The argument
(docs/solver-notes.md#per-account-claims-for-every-n-the-design) checks, per event variant, on the
engine's own functions:

1. **Decomposition** (two traders): the engine's ``transition`` is exactly those phases in that
   order (every balance, entry and outcome the same term), and the phases around the turns change
   no trader, except ``settle``, which changes each trader from its own account, the market's and
   the event's numbers alone.
2. **Locality of a turn** (two traders, the system accounts replaced by fresh variables before the
   turn): a trader's turn changes no other trader, its entries and outcomes name no other trader,
   and nothing it computes reads another trader's numbers. So a trader's state after the step is
   its own turn applied to its settled account and to whatever the system accounts (insurance
   fund, vault, fee account, venue, book, clearing) hold when its turn comes; later turns do not
   touch it.
3. **Contract** (one trader, z3): the claim holds for that trader after its turn, for every value
   of the system accounts' balances and positions, from the trader's own assumptions alone (its
   bounds, well-formedness and margin; the event's bounds and acceptance).

Every trader of a book of any size meets the contract's premise, and by 1 and 2 its part of the
claim is the contract's claim at the system state its turn finds: so the claim holds for every N,
given that each account's step depends on the others only through the system accounts (the
uniformity of the engine's loop over the book's accounts). Where a layer moves money between
traders (ADL's fills, a socialized loss, a clawback, the haircut ratio, a PnL-to-pool ADL after the
sweep) step 1 or 2 fails, and the reason names the balance moved and by which entry: the verdict
stays bounded. ``flat-accounts-never-pay`` then has a narrower argument of its own
(:func:`flat_trader_argument`): no turn charges a trader that holds no position.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.properties.catalog import Invariant, StepView
from solvent.properties.scenarios import Story
from solvent.rules.book import Account, Asset, Book, Position
from solvent.rules.engine import (
    RejectedEvent,
    after_sweep,
    before_turns,
    closing,
    liquidation_turn,
    opening,
    post_requirements,
    requirements,
    settle,
    transition,
)
from solvent.rules.engine import run as engine_run
from solvent.rules.events import AssetPrice, Funding, MarkPrice
from solvent.rules.fields import data_fields
from solvent.rules.haircut_ratio import conversions_recorded
from solvent.rules.ledger import ASSET, EXTERNAL, SPOT, Ctx, Reason
from solvent.rules.margin import open_lots
from solvent.rules.outcomes import Bankrupt
from solvent.rules.policy import Policy
from solvent.solver import side_claims
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import TRADER_NAMES, Bounds
from solvent.solver.nodes import Nodes
from solvent.solver.story import run, slots, symbolic_book, view
from solvent.solver.symbolic import variable_book

#: the claims whose truth on a step is about the account the event names (``event.account``)
ONE_ACCOUNT = ("deposit-not-absorbed",)
#: the claims that are a conjunction over the traders of a condition on one trader: its account
#: before and after, its own transfers and the outcomes that name it (``properties.catalog``)
EACH_TRADER = ("no-negative-equity", "loss-bounded-by-collateral", "principal-protected", "flat-accounts-never-pay")
#: the claims about each liquidation, judged on the numbers its outcome records
EACH_LIQUIDATION = ("liquidation-only-below-maintenance",)
#: the assumption an all-N verdict of :func:`each_trader_argument` rests on, stated in its method line
THROUGH_SYSTEM = (
    "each trader's step depends on the others only through the system accounts "
    "(insurance fund, vault, fee account, venue, book, clearing)"
)
#: the assumption an all-N verdict of :func:`flat_trader_argument` rests on
TURNS_ALIKE = "each trader's turn treats every other trader as a two-trader book's turn treats the other"
#: the prefix of the fresh variables that stand for the system accounts when a turn begins
FRESH = "turn."
#: the prefix of the fresh book a phase around the turns is run again on (:func:`_each_own`)
EACH_OWN = "own."
#: the assumptions of the book before an event that every accepted event of the bounded kinds keeps
#: (mark moves and funding: the new mark is the event's price, the previous one the mark before)
_KEPT = frozenset({"prices within bounds"})


def _conjuncts(formula: Any) -> list[Any]:
    """``formula`` split at its top-level ``And``s (a Python bool stands for itself)."""
    if type(formula) is bool:
        return [] if formula else [z3.BoolVal(False)]
    if z3.is_and(formula):
        return [c for child in formula.children() for c in _conjuncts(child)]
    return [formula]


def constants(term: Any) -> list[Any]:
    """The constants (leaves) of ``term``, each once, in a fixed order (first met, depth first)."""
    # read through the C API once a node (``solver.nodes``: the same ids, kinds and children, in
    # the classes z3 gives them; session 30)
    nodes = Nodes()
    seen: set[int] = set()
    out: list[Any] = []
    stack = [term]
    while stack:
        e = stack.pop()
        key = nodes.id(e)
        if key in seen:
            continue
        seen.add(key)
        if nodes.kind(e) == -1:  # not an application (a quantifier, a variable): no children to z3
            continue
        kids = nodes.children(e)
        if not kids:  # ``z3.is_const(e)``
            out.append(e)
            continue
        stack.extend(reversed(kids))
    return out


def integer_atoms(term: Any) -> list[Any]:
    """The uninterpreted integer constants in ``term`` (a book's or an event's variables, or an
    abstraction's fresh integers), each once, in a fixed order (first met, depth first)."""
    return [e for e in constants(term) if z3.is_int(e) and not z3.is_int_value(e)]


def _own(trader: str) -> tuple[str, ...]:
    """The prefixes of a trader's own variables: its account's numbers and its balance of each
    collateral asset (``s0.alice@SOL.balance``)."""
    return (f"s0.{trader}.", f"s0.{trader}@")


def _shared(book: Book) -> tuple[str, ...]:
    """The prefixes of the numbers every trader's step may read: each market's, and each collateral
    asset's (its oracle price, net deposits and lending indices)."""
    return (*(f"s0.{m.name}." for m in book.markets), *(f"s0.{a.name}." for a in book.assets))


def _reads_only(term: Any, prefixes: tuple[str, ...]) -> bool:
    return all(str(x).startswith(prefixes) for x in integer_atoms(term))


def _one_event_frame(
    invariant: Invariant,
    bounds: Bounds,
    fail: Callable[[str], None],
    argument: str,
    traders: int = 2,
    any_k: bool = False,
    assets: bool = False,
) -> tuple[Bounds, Any, Any]:
    """The scope every per-account argument covers, and its small symbolic book: one market without
    collateral assets (with them where ``assets``: the flat-trader argument), one event (K = 1),
    ``traders`` traders. A later event starts from a book the first one reached, where a trader's
    own assumptions (its margin, its well-formedness) need not hold any more. ``any_k``: an
    argument whose lemma assumes nothing of the book before the event but what every event of the
    sequence keeps (``each_liquidation_argument``: the prices within bounds) is asked on the same
    one-event book at any K. Returns ``(small bounds, book, the one event slot)``."""
    if bounds.markets != 1 or (bounds.assets and not assets):
        fail(f"{invariant.id}: the {argument} argument covers one market without collateral assets")
    if bounds.events != 1 and not any_k:
        fail(
            f"{invariant.id}: the {argument} argument covers one event (K = 1), not K = {bounds.events}: "
            "a later event starts from a book where a trader's own assumptions need not hold"
        )
    small = attrs.evolve(bounds, accounts=traders, events=1)
    book, _ = symbolic_book(small)
    [slot] = slots(book, small)
    return small, book, slot


def one_account_argument(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    valid: Callable[[str, list[Any], Any], str],
    fail: Callable[[str], None],
    traders: int = 2,
) -> list[str]:
    """The lemmas of the argument in the module docstring, or ``fail(reason)`` where one does not
    hold (``valid(name, assumptions, claim)``: z3 within the effort, failing when not unsat)."""
    small, book, slot = _one_event_frame(invariant, bounds, fail, "per-account", traders)
    [step] = run(policy, book, [slot])
    market = tuple(f"s0.{m.name}." for m in book.markets)
    assumed = [c for a in book_assumptions(policy, book, small) for c in _conjuncts(a.holds)]
    lemmas = []
    for variant_run in step.runs:
        event = variant_run.variant.event
        label = variant_run.variant.label
        claim = invariant.holds(view(policy, book, variant_run))
        if claim is True:
            lemmas.append(f"{invariant.id} on {label}: true whatever the book (the event's kind decides it)")
            continue
        account = getattr(event, "account", None)
        if account is None:
            fail(f"{invariant.id} on {label}: the event names no account")
        own = (f"s0.{account}.", *market, f"e{slot.index + 1}.")
        if not _reads_only(claim, own):
            fail(f"{invariant.id} on {label}: the claim reads another account than {account}")
        premise = assumed + _conjuncts(slot.field_bounds) + _conjuncts(variant_run.accepted)
        premise = [c for c in premise if _reads_only(c, own)]
        valid(f"{invariant.id} on {label}: holds from {account}'s own assumptions alone", premise, claim)
        lemmas.append(
            f"{invariant.id} on {label}: reads only {account}'s account, the market and the event, "
            f"and holds from {account}'s own assumptions, for any other accounts"
        )
    return lemmas


#: the event kind that moves margin between an owner and its isolated position
MARGIN = "margin"


def margin_move_argument(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    valid: Callable[[str, list[Any], Any], str],
    fail: Callable[[str], None],
    traders: int = 2,
) -> list[str]:
    """A per-trader claim on a margin move (docs/solver-notes.md#the-isolated-traders-own-lemma-issue-13-item-21):
    on the lemmas' book (``traders`` cross traders, the first one's position isolated), for each
    move the claim's conjuncts are grouped by the trader they read: a cross trader with its
    isolated positions (``alice`` and ``alice:PERP``) is one group, and a conjunct that reads two
    groups fails the argument. Each group's conjuncts must hold (z3) from that group's own
    assumptions, the market's and the event's alone (the rest dropped: a weaker premise). The
    mover's group is the owner and its isolated position; every other trader of any book is
    ``bob`` here, its part the same formula of its own numbers; so the claim holds on a margin
    move for every N (one event, K = 1, as for the other per-account arguments)."""
    small, book, slot = _one_event_frame(invariant, bounds, fail, "margin-move", traders, assets=True)
    [step] = run(policy, book, [slot])
    shared = (*book.markets, *book.assets)  # their prices and totals: every trader reads them
    market = (*tuple(f"s0.{m.name}." for m in shared), f"e{slot.index + 1}.")
    groups = {
        t.name: tuple(f"s0.{a.name}{sep}" for a in book.accounts if t.name in (a.name, a.owner) for sep in (".", ASSET))
        for t in book.traders
        if not t.owner
    }
    assumed = [c for a in book_assumptions(policy, book, small) for c in _conjuncts(a.holds)]
    lemmas = []
    for variant_run in step.runs:
        label = variant_run.variant.label
        claim = invariant.holds(view(policy, book, variant_run))
        if claim is True:
            lemmas.append(f"{invariant.id} on {label}: true whatever the book (the event's kind decides it)")
            continue
        parts: dict[str, list[Any]] = {name: [] for name in groups}
        for conjunct in _conjuncts(claim):
            owner = next((n for n, own in groups.items() if _reads_only(conjunct, (*own, *market))), None)
            if owner is None:
                fail(f"{invariant.id} on {label}: a conjunct of the claim reads more than one trader's accounts")
            parts[owner].append(conjunct)
        premise = assumed + _conjuncts(slot.field_bounds) + _conjuncts(variant_run.accepted)
        for name, conjuncts in parts.items():
            own = (*groups[name], *market)
            mine = [c for c in premise if _reads_only(c, own)]
            valid(
                f"{invariant.id} on {label}: {name}'s part holds from its own assumptions alone",
                mine,
                z3.And(*conjuncts) if conjuncts else True,
            )
        lemmas.append(
            f"{invariant.id} on {label}: each trader's part reads only its own accounts (an owner with its "
            "isolated position), the market and the event, and holds from their own assumptions, for any other traders"
        )
    return lemmas


# --- each trader on its own -----------------------------------------------------------------


def _same(x: Any, y: Any) -> bool:
    """``x`` and ``y`` are the same value: the same z3 term (z3 shares equal terms), or records,
    tuples and plain values equal part by part."""
    if isinstance(x, z3.ExprRef) or isinstance(y, z3.ExprRef):
        return isinstance(x, z3.ExprRef) and isinstance(y, z3.ExprRef) and x.eq(y)
    if attrs.has(type(x)):
        return type(x) is type(y) and all(_same(getattr(x, f.name), getattr(y, f.name)) for f in attrs.fields(type(x)))
    if isinstance(x, tuple):
        return isinstance(y, tuple) and len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y, strict=True))
    return x == y


def _terms(x: Any) -> list[Any]:
    """Every z3 term inside a record, a tuple or a term."""
    if isinstance(x, z3.ExprRef):
        return [x]
    if attrs.has(type(x)):
        return [t for f in attrs.fields(type(x)) for t in _terms(getattr(x, f.name))]
    if isinstance(x, tuple):
        return [t for v in x for t in _terms(v)]
    return []


def _owner(balance: str) -> str:
    return balance.partition(ASSET)[0].removesuffix(SPOT)


def _named(item: Any, traders: frozenset[str]) -> set[str]:
    """The traders an entry, outcome or fill names (a balance of theirs, or their name in a field)."""
    names = set()
    for f in attrs.fields(type(item)):
        value = getattr(item, f.name)
        if isinstance(value, str) and value != EXTERNAL and _owner(value) in traders:
            names.add(_owner(value))
    return names


def _foreign(terms: list[Any], own: tuple[str, ...]) -> list[str]:
    """The variables among ``terms`` that start with none of ``own``, by name, sorted."""
    names = {str(x) for t in terms if isinstance(t, z3.ExprRef) for x in integer_atoms(t)}
    return sorted(n for n in names if not n.startswith(own))


def _same_totals(a: Book, b: Book) -> bool:
    """The two books hold the same market and totals (every field but the accounts)."""
    return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in attrs.fields(Book) if f.name != "accounts")


def _b(t: Any) -> Any:
    return z3.BoolVal(t) if type(t) is bool else t


class _Phases:
    """One event's context as it passes the phases of a sweep event, with what each added."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx

    def run(self, phase: Callable[[Ctx], Ctx]) -> tuple[tuple[Book, int, int, int], Ctx]:
        """Run ``phase``: (the book and the numbers of entries, outcomes and fills before it, the
        context after it)."""
        before = self.ctx.book, len(self.ctx.entries), len(self.ctx.outcomes), len(self.ctx.fills)
        self.ctx = phase(self.ctx)
        return before, self.ctx


def _added(ctx: Ctx, n_entries: int, n_outcomes: int, n_fills: int) -> list[Any]:
    return [*ctx.entries[n_entries:], *ctx.outcomes[n_outcomes:], *ctx.fills[n_fills:]]


def _traders_kept(phase: str, before: Any, ctx: Ctx, traders: frozenset[str], fail: Callable[[str], None]) -> None:
    """The phase changed no trader's account and its entries, outcomes and fills name none."""
    book, n, m, f = before
    changed = sorted(t for t in traders if not _same(book.account(t), ctx.book.account(t)))
    named = sorted({t for g in _added(ctx, n, m, f) for t in _named(g.item, traders)})
    if changed or named:
        fail(f"{phase} changes or names traders ({', '.join(changed or named)}): it couples their accounts")


def _with_fresh_system(ctx: Ctx, prefix: str = FRESH) -> Ctx:
    """``ctx`` with every system account (balances, positions, every number) a fresh variable
    named from ``prefix``: whatever the turns before left there. Each system account is zeroed
    first (:func:`_zeroed`): ``variable_book`` lifts integers only and keeps a field that is
    already a term, so without it a second turn's "fresh" system accounts were what the first turn
    left (a term over the first turn's variables, a narrower set than every value; found by helper
    F in session 21, every lemma held either way)."""
    template = ctx.book.with_balances(tuple(a if a.is_trader else _zeroed(a) for a in ctx.book.accounts))
    fresh, _ = variable_book(template, prefix=prefix)
    accounts = tuple(a if a.is_trader else b for a, b in zip(ctx.book.accounts, fresh.accounts, strict=True))
    return ctx.with_book(ctx.book.with_balances(accounts))


def _settled(policy: Policy, book: Book, event: Any) -> Ctx:
    """The engine's phases up to the sweep's turns: opening, settle, before_turns."""
    return before_turns(policy, settle(policy, opening(policy, book), event))


def _zeroed(record: Any) -> Any:
    """``record`` (an account or a position) with every data field 0, its further positions, asset
    balances and market funds too: a template ``variable_book`` lifts whole (it lifts integers only,
    and keeps a field that is already a term)."""
    changes: dict[str, Any] = {name: 0 for name in data_fields(type(record))}
    if getattr(record, "more_positions", ()):
        changes["more_positions"] = tuple(_zeroed(p) for p in record.more_positions)
    for name in ("asset_balances", "more_funds"):
        if getattr(record, name, ()):
            changes[name] = tuple(0 for _ in getattr(record, name))
    return attrs.evolve(record, **changes)


def _fresh(book: Book, prefix: str) -> Book:
    """``book``'s shape with every account's every number a fresh variable named from ``prefix``
    (the market's and the book's kept as they are: a phase's reads of them are not the question)."""
    fresh, _ = variable_book(book.with_balances(tuple(_zeroed(a) for a in book.accounts)), prefix=prefix)
    return book.with_balances(fresh.accounts)


def _freed(converted: Any, traders: Any, pattern: str) -> list[tuple[Any, Any]]:
    """Gen A's conversion at h reads every account (one h): each trader's converted capital ``y``
    and lost part as a number of its own, named by ``pattern`` (``{name}``, ``{which}``), so its
    settlement reads as from its own account (the conversion lemma gives those numbers their facts)."""
    return [
        (term, z3.Int(pattern.format(name=name, which=which)))
        for _, _, accounts in converted
        for name, _, y, lost in accounts
        for which, term in (("y", y), ("lost", lost))
        if z3.is_expr(term) and name in traders
    ]


def _each_own(
    phase: str,
    before: Any,
    ctx: Ctx,
    traders: frozenset[str],
    redo: Callable[[Ctx], Ctx],
    fail: Callable[[str], None],
    conversion_free: bool = False,
) -> None:
    """The phase (``redo``, run again from ``before``'s book made fresh) changes each trader from its
    own account and the entries naming it alone, and adds no entry, outcome or fill naming a trader:
    run from a book whose every number is a fresh variable, each trader's account after it reads no
    other trader's variable, and is the very same term when the entries naming no trader but it are
    dropped (percolator's opening release and closing re-basing: per account, the end of the event
    reading each trader's own trading PnL from the ledger, ``haircut_ratio.step_pnl``)."""
    book, n, m, f = before
    # Gen A's conversion at h (haircut_ratio.convert) moves each trader's lost part into the order book's
    # hole at one h read on every account: its terms are freed below, each a number of its own trader's
    free = Reason.CONVERSION_HAIRCUT if conversion_free else None
    added = [g for g in _added(ctx, n, m, f) if free is None or getattr(g.item, "reason", None) is not free]
    named = sorted({t for g in added for t in _named(g.item, traders)})
    if named:
        fail(f"{phase} names traders ({', '.join(named)}) in its entries, outcomes or fills: it couples their accounts")
    entries = ctx.entries[:n]
    fresh = _fresh(book, EACH_OWN)
    with conversions_recorded() as converted:
        whole = redo(Ctx(fresh, entries))
    freed = _freed(converted, traders, f"{EACH_OWN}{{name}}.converted_{{which}}") if conversion_free else []

    def own_terms(account: Any) -> list[Any]:
        return [z3.substitute(x, *freed) if freed else x for x in _terms(account)]

    for t in sorted(traders):
        own = (f"{EACH_OWN}{t}.",)
        others = tuple(f"{EACH_OWN}{o}." for o in traders - {t})
        read = [x for x in _foreign(own_terms(whole.account(t)), own) if x.startswith(others)]
        alone = redo(Ctx(fresh, tuple(g for g in entries if t in _named(g.item, traders))))
        if read or not _same(whole.account(t), alone.account(t)):
            why = read[0] if read else "the entries of another trader"
            fail(f"{phase} changes {t} from {why}: it couples the traders' accounts")


def _decomposes(
    policy: Policy,
    book: Book,
    label: str,
    event: Any,
    fail: Callable[[str], None],
    first_phase_charges: bool = False,
    each_own: bool = False,
    conversion_free: bool = False,
) -> str:
    """Step 1 of the module docstring, on ``book`` (two traders). ``first_phase_charges``: the
    phase before the turns (``before_turns``: a fund's or vault's own deleveraging) may charge traders, for
    an argument that checks its claim on a run that includes that phase from a free book. ``each_own``:
    opening and closing may change each trader from its own account and its own entries alone
    (:func:`_each_own`), for an argument that checks its claim on a run that includes them.
    ``conversion_free``: Gen A's opening conversion (one ``h`` read on every account) changes each
    trader only by its own capital and lost part, each freed as a number of its own, for an argument
    whose claim is asked from any trader state (the per-liquidation one: no fact of the conversion is
    used; elsewhere the conversion couples the traders as before)."""
    traders = frozenset(a.name for a in book.traders)
    phases = _Phases(Ctx(book))
    with conversions_recorded() as converted:
        before, ctx = phases.run(lambda _: opening(policy, book))
    # Gen A's conversion at h (one h read on every account): each trader's capital and lost part freed
    # as numbers of its own (``conv.<trader>.``), so its settlement is read as from its own account
    freed = _freed(converted, traders, "conv.{name}.{which}") if conversion_free else []
    if each_own:
        opened = lambda c: opening(policy, c.book)  # noqa: E731
        _each_own(f"{label}: opening the event", before, ctx, traders, opened, fail, conversion_free)
    else:
        _traders_kept(f"{label}: opening the event", before, ctx, traders, fail)
    n_entries = len(ctx.entries)
    before, ctx = phases.run(lambda c: settle(policy, c, event))
    market = (*_shared(book), "s0.book.", "e1.")
    for t in sorted(traders):
        terms = [z3.substitute(x, *freed) if freed else x for x in _terms(ctx.account(t))]
        read = _foreign(terms, (*_own(t), f"conv.{t}.", *market))
        if read:
            fail(f"{label}: settling {t} reads {read[0]}: a trader's settlement reads more than its own account")
        for g in ctx.entries[n_entries:]:
            if len(_named(g.item, traders)) > 1:
                fail(f"{label}: a settlement entry names two traders ({g.item.source} -> {g.item.destination})")
    before, ctx = phases.run(lambda c: before_turns(policy, c))
    if not first_phase_charges:
        _traders_kept(
            f"{label}: a pool's own deleveraging (fund or vault) and the fund's unwind before the turns",
            before,
            ctx,
            traders,
            fail,
        )
    for t in [a.name for a in book.traders]:
        phases.run(lambda c, t=t: liquidation_turn(policy, c, t))
    before, ctx = phases.run(lambda c: after_sweep(policy, c))
    _traders_kept(f"{label}: after the sweep ({_after_sweep_name(policy)})", before, ctx, traders, fail)
    before, ctx = phases.run(lambda c: closing(policy, c))
    if each_own:
        _each_own(f"{label}: closing the event", before, ctx, traders, lambda c: closing(policy, c), fail)
    else:
        _traders_kept(f"{label}: closing the event (re-basing realized losses)", before, ctx, traders, fail)
    whole = transition(policy, book, event)
    same = (
        _same(whole.book, ctx.book)
        and _same(whole.entries, ctx.entries)
        and _same(whole.outcomes, ctx.outcomes)
        and _same(whole.fills, ctx.fills)
    )
    if not same:
        fail(
            f"{label}: the engine's transition is not opening, settle, before_turns, one turn per trader, after_sweep, closing"
        )
    around = (
        "opening and closing change each trader from its own account alone, and the phases before the turns and after "
        "the sweep touch no trader"
        if each_own
        else "the phases around the turns touch no trader"
    )
    return (
        f"decomposition ({label}): the engine's transition is settle, then one liquidation turn per trader in book "
        f"order; each trader's settlement reads only its own account, and {around}"
    )


def _after_sweep_name(policy: Policy) -> str:
    return "the PnL-to-pool ADL" if policy.pnl_to_pool_adl is not None else "nothing runs"


def _turn_is_local(policy: Policy, book: Book, label: str, event: Any, fail: Callable[[str], None]) -> list[str]:
    """Step 2 of the module docstring: each trader's turn on ``book`` (two traders), the system
    accounts fresh, changes, names and reads no other trader."""
    traders = frozenset(a.name for a in book.traders)
    out = []
    for t in [a.name for a in book.traders]:
        ctx = _with_fresh_system(_settled(policy, book, event))
        start = ctx.book
        n, m, f = len(ctx.entries), len(ctx.outcomes), len(ctx.fills)
        ctx = liquidation_turn(policy, ctx, t)
        others = sorted(traders - {t})
        moved = sorted(o for o in others if not _same(start.account(o), ctx.book.account(o)))
        added = _added(ctx, n, m, f)
        if moved:
            why = sorted(
                {
                    g.item.reason.value
                    for g in ctx.entries[n:]
                    if hasattr(g.item, "reason") and _named(g.item, traders) - {t}
                }
            )
            cascade = sorted(
                {o for g in ctx.outcomes[m:] if isinstance(g.item, Bankrupt) for o in _named(g.item, traders) - {t}}
            )
            fail(
                f"{label}: {t}'s turn moves {', '.join(moved)}'s account"
                + (f" ({', '.join(why)} entries)" if why else "")
                + ": a layer charges other traders for this trader's deficit"
                + (f" and resolves {', '.join(cascade)} in turn (a cascade)" if cascade else "")
                + ", so no trader's claim is its own"
            )
        named = sorted({o for g in added for o in _named(g.item, traders) if o != t})
        if named:
            fail(f"{label}: {t}'s turn records entries or outcomes naming {', '.join(named)}")
        if not _same_totals(start, ctx.book):
            fail(f"{label}: {t}'s turn changes the market or the book's totals, which later turns read")
        terms = _terms(ctx.book.account(t)) + [x for g in added for x in (_b(g.guard), *_terms(g.item))]
        read = [x for x in _foreign(terms, (f"s0.{t}.", FRESH)) if x.startswith(tuple(f"s0.{o}." for o in others))]
        if read:
            fail(f"{label}: {t}'s turn reads {read[0]}, another trader's number (the ranking, a share of a total)")
        out.append(
            f"locality ({label}): {t}'s liquidation turn changes, names and reads no other trader, "
            "whatever the system accounts hold"
        )
    return out


def _contract(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    label: str,
    event: Any,
    field_bounds: Any,
    valid: Callable[[str, list[Any], Any], str],
) -> str:
    """Step 3 of the module docstring: one trader, its turn from fresh system accounts, the claim
    valid from its own assumptions."""
    one = attrs.evolve(bounds, accounts=1, events=1)
    book, _ = symbolic_book(one)
    [name] = [a.name for a in book.traders]
    ctx = liquidation_turn(policy, _with_fresh_system(_settled(policy, book, event)), name)
    ctx = closing(policy, after_sweep(policy, ctx))
    claim = invariant.holds(StepView(policy, book, event, ctx.book, ctx.entries, ctx.outcomes))
    own = (f"s0.{name}.", *(f"s0.{m.name}." for m in book.markets), "e1.")
    premise = [c for a in book_assumptions(policy, book, one) for c in _conjuncts(a.holds)]
    premise += _conjuncts(field_bounds) + [c for r in requirements(policy, book, event) for c in _conjuncts(r.holds)]
    premise = [c for c in premise if _reads_only(c, own)]
    title = f"{invariant.id} on {label}: holds for one trader after its turn, whatever the system accounts hold"
    valid(title, premise, claim)
    return f"contract ({label}): {invariant.id} holds for {name} after its own turn from its own assumptions, for every balance and position of the system accounts"


def each_trader_argument(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    valid: Callable[[str, list[Any], Any], str],
    fail: Callable[[str], None],
) -> list[str]:
    """The lemmas of the per-trader argument in the module docstring, or ``fail(reason)`` where one
    does not hold (``valid(name, assumptions, claim)``: z3 within the effort, failing when not unsat)."""
    small, book, slot = _one_event_frame(invariant, bounds, fail, "per-trader")
    lemmas = []
    for variant in slot.variants:
        event, label = variant.event, variant.label
        if not isinstance(event, MarkPrice | Funding):
            fail(f"{invariant.id} on {label}: the per-trader argument covers the sweep's events (mark moves, funding)")
        lemmas.append(_decomposes(policy, book, label, event, fail))
        lemmas += _turn_is_local(policy, book, label, event, fail)
        lemmas.append(_contract(policy, invariant, small, label, event, slot.field_bounds, valid))
    lemmas.append(
        f"aggregate: {invariant.id} is the conjunction over the traders of the contract's claim, so it holds for any N"
    )
    return lemmas


def _flat(book: Book, name: str, cost: bool = True) -> Book:
    """``book`` with ``name`` holding no position in any market (size and cost 0; with ``cost``
    False its cost basis is left free: any flat account, whatever an earlier step left there)."""
    account = book.account(name)
    zero = {"size_lots": 0, "cost_quote": 0} if cost else {"size_lots": 0}
    flat = tuple(attrs.evolve(p, **zero) for p in account.positions)
    account = attrs.evolve(account, **zero, more_positions=flat[1:])
    return book.with_balances(tuple(account if a.name == name else a for a in book.accounts))


def flat_trader_argument(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    valid: Callable[[str, list[Any], Any], str],
    fail: Callable[[str], None],
    start: Callable[[Book], list[Any]] | None = None,
    kept: Callable[[Book, Book], Any] | None = None,
    said: str = "",
) -> list[str]:
    """``flat-accounts-never-pay`` where a layer couples the traders (ADL, a socialized loss): the
    claim speaks only of a trader that holds no position, and what must hold is that no turn
    charges it. On two traders, bob flat (its size a concrete 0, so the engine's own branches on it
    are decided as they are for any flat account) and alice free:

    1. the engine's transition is settle then one turn per trader (as for :func:`each_trader_argument`);
    2. the claim holds (z3) after those phases run with the system accounts fresh before *each*
       turn, so for whatever the turns before left there, from each trader's own assumptions.

    For N traders: a flat trader's own turn does nothing (it is not liquidated), and every other
    trader's turn treats it as alice's turn treats flat bob, given that each trader's turn treats
    every other trader as it treats the other trader of the two-trader book (the engine's loops
    over the book's accounts: the ADL queue ranks each candidate by its own position, a flat one
    serving no lots). One event (K = 1), as for the other per-account arguments.

    At K > 1 (``bounds.events``), from any state (docs/solver-notes.md#flat-accounts-never-pay-at-any-k-issue-18):
    the premise is only what every accepted event keeps, as :func:`each_liquidation_argument`'s is
    (the mark and previous mark within the price bounds; the event's own bounds and acceptance),
    bob's cost basis free as well as every number of alice and of the system accounts: no margin,
    no well-formedness, no balance bound. A flat trader before any step of a sequence is such a
    bob, so the claim holds at each step whatever the steps before left: every K. One market
    without collateral assets (an asset's oracle prices would need their own kept bounds).

    ``start``: more of the book before the event assumed (conjuncts over one trader each, added
    to the premise: ``solver.gen_b_flat``'s flat traders at or above zero), and ``kept``: a claim
    of the book before and after asked with the catalog's (what of that premise the run keeps),
    ``said`` naming both in the lemma's title; all three unset: the argument above, term for term."""
    any_k = bounds.events > 1
    small, book, slot = _one_event_frame(invariant, bounds, fail, "flat-trader", assets=not any_k, any_k=any_k)
    traders = [a.name for a in book.traders]
    flat = _flat(book, traders[-1], cost=not any_k)
    market = (*_shared(book), "e1.")
    premise = [c for a in book_assumptions(policy, book, small) for c in _conjuncts(a.holds)]
    if any_k:
        premise = [c for a in book_assumptions(policy, book, small) if a.name in _KEPT for c in _conjuncts(a.holds)]
    if start is not None:
        premise += [c for f in start(flat) for c in _conjuncts(f)]
    lemmas = []
    per_lot = side_claims.applies(policy)
    for variant in slot.variants:
        event, label = variant.event, variant.label
        if not isinstance(event, MarkPrice | Funding | AssetPrice):
            fail(
                f"{invariant.id} on {label}: the flat-trader argument covers the sweep's events "
                "(mark moves, funding, a collateral asset's oracle move)"
            )
        # a pool's own deleveraging before the turns may charge traders: it runs in the checked
        # run below, from a free book, and treats every trader as it treats alice and bob
        lemmas.append(_decomposes(policy, flat, label, event, fail, first_phase_charges=True, each_own=True))
        ctx, balanced = flat_run(policy, flat, event, per_lot)
        claim = invariant.holds(StepView(policy, flat, event, ctx.book, ctx.entries, ctx.outcomes))
        if kept is not None:
            claim = z3.And(z3.BoolVal(claim) if type(claim) is bool else claim, kept(flat, ctx.book))
        own = [
            c
            for c in premise
            + _conjuncts(slot.field_bounds)
            + [x for r in requirements(policy, flat, event) for x in _conjuncts(r.holds)]
            if any(_reads_only(c, (*_own(t), *market)) for t in traders)
        ] + balanced
        title = (
            f"{invariant.id} on {label}: no turn charges a flat trader, whatever the system accounts hold at each turn"
        )
        title += said
        # on a book with a collateral asset, exact: purified, the lending sweep's products left it
        # undecided within 10M units on drift, where exact z3 proves it in 0.22M an event
        # exact where a layer charges per opposing lot (percolator Gen B): purified 5.98M units, exact 0.11M
        if per_lot:
            side_claims.holders_only(policy, ctx, fail)
        valid(title, own, claim, **({"exact": True} if book.assets or per_lot else {}))
        lemmas.append(
            f"flat trader ({label}): with {traders[-1]} flat, no turn charges it (nor {traders[0]} when flat), "
            "for every balance and position of the system accounts at each turn"
        )
    lemmas.append(f"aggregate: {invariant.id} speaks only of flat traders, and no turn charges one, for any N")
    return lemmas


def flat_run(policy: Policy, book: Book, event: Any, per_lot: bool) -> tuple[Ctx, list[Any]]:
    """The run :func:`flat_trader_argument` asks its claim on: the engine's phases up to the turns,
    then each trader's turn in book order with the system accounts fresh before each, then the
    sweep's end and the close. Returns the context after it and, where ``per_lot`` (a layer charging
    per opposing lot), the premise that each turn starts with open interest balanced."""
    ctx = _settled(policy, book, event)
    balanced = []  # where a layer charges per opposing lot: each turn starts with open interest balanced
    for t in [a.name for a in book.traders]:
        ctx = _with_fresh_system(ctx, f"{FRESH}{t}.")
        if per_lot:
            balanced += side_claims.balanced(policy, ctx.book)
        ctx = liquidation_turn(policy, ctx, t)
    return closing(policy, after_sweep(policy, ctx)), balanced


def flat_cases(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    valid: Callable[..., str],
    fail: Callable[[str], None],
) -> list[str]:
    """The direct check of ``flat-accounts-never-pay`` at N (``bounds.accounts`` traders, the
    question's own book), split by which trader is flat. The claim is a conjunction over the
    traders of ``flat before → paid nothing``, so a book breaks it only where some trader ``t`` is
    flat: the cases "t flat", one per trader, cover every book. Each is the engine's own
    ``transition`` on the N-trader book with ``t``'s size and cost a concrete 0 (so the engine's
    branches on them are decided as for any flat account), the system accounts as the book holds
    them, every other number free, and z3 (exact) proves the claim from the book's assumptions,
    the event's bounds and its acceptance (a subset of the bounded question's: a weaker premise).
    That the case is the book with ``t`` flat is checked too: under the book's assumptions a trader
    with no open lots has no cost basis (the well-formed book's "cost basis follows the position").

    Unlike the flat-trader argument this assumes nothing of the engine's uniformity: it is a
    bounded check at N, on the book the bounded question asks about, in N pieces, each of which
    folds the flat trader's branches before z3 sees them (drift, N = 2, SOL on the book: 4 pieces,
    0.12M units in all, where the whole question was undecided within 15.7M;
    docs/solver-notes.md#flat-accounts-never-pay-by-cases). One event (K = 1), one market."""
    if invariant.id != "flat-accounts-never-pay":
        fail(f"{invariant.id}: the flat cases cover flat-accounts-never-pay only")
    if bounds.markets != 1 or bounds.events != 1:
        fail(f"{invariant.id}: the flat cases cover one market and one event (K = 1)")
    book, _ = symbolic_book(bounds)
    [slot] = slots(book, bounds)
    assumed = [c for a in book_assumptions(policy, book, bounds) for c in _conjuncts(a.holds)]
    lemmas = []
    for t in [a.name for a in book.traders]:
        account = book.account(t)
        valid(
            f"{invariant.id}: {t} with no open lots has no cost basis, under the book's assumptions",
            [*assumed, open_lots(account) == 0],
            z3.And(*[_b(p.cost_quote == 0) for p in account.positions]),
        )
        flat = _flat(book, t)
        premise = [c for a in book_assumptions(policy, flat, bounds) for c in _conjuncts(a.holds)]
        premise += _conjuncts(slot.field_bounds)
        for variant in slot.variants:
            event, label = variant.event, variant.label
            ctx = transition(policy, flat, event)
            accepted = [*requirements(policy, flat, event), *post_requirements(policy, flat, ctx.book, event)]
            claim = invariant.holds(StepView(policy, flat, event, ctx.book, ctx.entries, ctx.outcomes))
            valid(  # a claim the run makes True (no charge of any kind is written) is said trivial
                f"{invariant.id} on {label}, {t} flat: the engine's transition at N = {bounds.accounts}",
                premise + [c for r in accepted for c in _conjuncts(r.holds)],
                claim if claim is True else _b(claim),
                exact=True,
            )
        lemmas.append(
            f"flat case ({t}): with {t}'s size and cost 0, the claim holds after the engine's transition "
            f"on every book of {len(book.traders)} traders (z3, exact)"
        )
    return lemmas


def each_liquidation_argument(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    valid: Callable[..., str],
    fail: Callable[[str], None],
) -> list[str]:
    """``liquidation-only-below-maintenance`` for every N: a claim about each liquidation, judged on
    the equity and maintenance the outcome records. Whatever earlier turns did to a trader (an ADL
    fill, a socialized charge), its own turn liquidates it only from the state it finds, so the
    contract is asked from *any* state of each trader (no bound on its numbers, no margin, no
    well-formedness; only the prices bounded) and of the system accounts (fresh before each turn).
    On two traders:

    1. the engine's transition is settle then one turn per trader (:func:`each_trader_argument`'s
       step 1; the phase before the turns, a pool's own deleveraging, runs in the checked run);
    2. the claim holds (z3) after the phases run from any trader state, the system accounts fresh
       before each turn. Alice's settled account ranges over every state, and so does bob's at his
       turn (alice untriggered leaves it as settled).

    For N traders: every liquidation of the step is written by a phase or a turn that this covers
    from any state, given that each trader's turn treats every other trader as a two-trader book's
    turn treats the other. For any K: the lemma assumes of the book before the event only that its
    mark and previous mark are within the price bounds (and of the event its own bounds and the
    engine's acceptance), and every accepted mark move or funding within the bounds leaves a book
    whose mark and previous mark are within them (the new mark is the event's price, the previous
    one the mark before), so each step of a sequence of such events starts from a book the lemma
    covers: the argument is asked on the one-event book whatever K is, and holds for every K
    (docs/solver-notes.md#every-claim-at-n--8-and-at-k--3-issue-18)."""
    small, book, slot = _one_event_frame(invariant, bounds, fail, "per-liquidation", any_k=True)
    traders = [a.name for a in book.traders]
    prices = [c for a in book_assumptions(policy, book, small) if a.name in _KEPT for c in _conjuncts(a.holds)]
    lemmas = []
    for variant in slot.variants:
        event, label = variant.event, variant.label
        if not isinstance(event, MarkPrice | Funding):
            fail(
                f"{invariant.id} on {label}: the per-liquidation argument covers the sweep's events (mark moves, funding)"
            )
        lemmas.append(
            _decomposes(policy, book, label, event, fail, first_phase_charges=True, each_own=True, conversion_free=True)
        )
        ctx = _settled(policy, book, event)
        for t in traders:
            ctx = liquidation_turn(policy, _with_fresh_system(ctx, f"{FRESH}{t}."), t)
        ctx = closing(policy, after_sweep(policy, ctx))
        claim = invariant.holds(StepView(policy, book, event, ctx.book, ctx.entries, ctx.outcomes))
        premise = prices + _conjuncts(slot.field_bounds)
        premise += [c for r in requirements(policy, book, event) for c in _conjuncts(r.holds)]
        # exact: purified it was undecided within 2.5M units on drift, bybit, bitmex and hyperliquid (the
        # trigger's equity and maintenance are products of the free sizes and the prices); exact it is
        # unsat in 0.7-10K units on every preset it covers
        # (docs/solver-notes.md#the-socialized-loss-for-every-n-session-20)
        valid(
            f"{invariant.id} on {label}: every liquidation of a turn, from any trader state", premise, claim, exact=True
        )
        lemmas.append(
            f"each liquidation ({label}): every turn's liquidation records equity at or below maintenance as the "
            "trigger found it, from any state of the traders and of the system accounts"
        )
    lemmas.append(f"aggregate: {invariant.id} is a claim about each liquidation, so it holds for any N")
    return lemmas


def with_empty_traders(book: Book, extra: int) -> Book:
    """``book`` with ``extra`` more traders after its own, each flat with nothing in any balance."""
    taken = {a.name for a in book.accounts}
    names = [n for n in (*TRADER_NAMES, *(f"t{i}" for i in range(len(TRADER_NAMES), 64))) if n not in taken][:extra]
    last = max(i for i, a in enumerate(book.accounts) if a.is_trader)
    template = book.accounts[last]
    empty = tuple(
        Account(
            n,
            more_positions=tuple(Position() for _ in template.more_positions),
            asset_balances=tuple(0 for _ in template.asset_balances),
        )
        for n in names
    )
    return attrs.evolve(book, accounts=book.accounts[: last + 1] + empty + book.accounts[last + 1 :])


def with_inert_assets(story: Story, names: tuple[str, ...], price: int) -> Story:
    """``story`` written on a book that holds the collateral assets ``names`` too, each held by no
    account (every balance 0, net deposits 0), at ``price`` quote quanta a quantum, its lending
    indices at one: a book on which the assets take no part in a step that names none of them."""
    book = story.book
    if book.assets:
        raise ValueError("the story's book already holds collateral assets")
    assets = tuple(Asset(name, price) for name in names)
    accounts = tuple(attrs.evolve(a, asset_balances=tuple(0 for _ in names)) for a in book.accounts)
    return attrs.evolve(story, book=attrs.evolve(book, accounts=accounts, assets=assets))


def still_refuted(policy: Policy, invariant: Invariant, story: Story, step_index: int, up_to: int = 8) -> int:
    """The most traders (at most ``up_to``) at which ``story``, with flat empty traders added, is
    replayed on the concrete engine and still breaks ``invariant`` at step ``step_index``: every
    size from the story's own up to it is replayed. The story's own size when one more breaks it
    no longer (an event rejected, or the claim holding)."""
    n = len(story.book.traders)
    reached = n
    for extra in range(1, up_to - n + 1):
        book = with_empty_traders(story.book, extra)
        try:
            steps = engine_run(policy, book, list(story.events))
        except RejectedEvent:
            return reached
        if step_index >= len(steps) or invariant.holds(StepView.of(policy, steps[step_index])) is not False:
            return reached
        reached = n + extra
    return reached


__all__ = [
    "EACH_LIQUIDATION",
    "EACH_TRADER",
    "ONE_ACCOUNT",
    "THROUGH_SYSTEM",
    "TURNS_ALIKE",
    "each_liquidation_argument",
    "each_trader_argument",
    "flat_cases",
    "flat_trader_argument",
    "integer_atoms",
    "MARGIN",
    "margin_move_argument",
    "one_account_argument",
    "still_refuted",
    "with_empty_traders",
    "with_inert_assets",
]

"""``waterfall-order`` for every N, by a lemma on one call of the waterfall.

The claim speaks only of the ``LayerUsed`` records each bankrupt account's deficit leaves as it
goes down the waterfall (which layer paid how much, whether it was spent) and of the insurance
fund's balance before the step: a lower layer used only after every layer above it is spent for
that account, and no haircut layer paying while the fund held money before the step unless the
fund was exhausted for that account first. Every such record is made by one call of the engine:
a trader's ``rules.bankruptcy.resolve`` (in its liquidation turn) or a pool's own deleveraging
before the turns (``rules.pool_bankruptcy.deleverage_pools``). Inside the step's question at N = 4,
8, or K = 3 the N-trader build takes most of the units and the claim runs out in each phase; asked
of the one call on a free book it is a small exact question
(docs/solver-notes.md#waterfall-order-for-every-n-by-a-lemma-on-one-call-session-19).

The argument, for a waterfall of pools (insurance fund, backstop vault, fee pool) with ADL, if
any, last, or a socialized loss last whose shares round up (its cover is then ``pro_rata.charge``'s
target; a cascade's resolutions are each a call of their own, session 20); no capped fund claim (its
running total would read the calls before), one market, no collateral asset, no isolated
position, no final settlement:

1. **The call's lemma** (z3, exact, every number free, the mark a price ≥ 1): the engine's own
   call (a trader's ``resolve`` with two candidates; where the policy has pools holding what they
   take over, the pools' deleveraging) and the catalog's own predicate applied to the call's
   records, with two generalizations, each sound (the claim proved for every value of what is
   made free is proved for the engine's):

   - *the book before the step free*: the predicate reads the fund's balance before the step; the
     view's "before" is a second free book, unrelated to the one the call starts from, so the
     lemma holds whatever the step did before this call (an earlier bankruptcy that drained the
     fund included);
   - *ADL's cover free*: each ADL record's covered amount is replaced by a free integer at most
     the deficit that layer was handed (the account's deficit less what the layers above it
     covered), so the lemma holds whatever the queue served at any N. That the engine's ADL covers
     at most what it was handed is a second lemma on the same call, and holds at any N because the
     layer covers that deficit less what the account still owes after it
     (``rules.bankruptcy._run_layer``), which is ``remaining_deficit``, at least 0 on every book (a
     third lemma, every number free).
   - *a socialized loss's cover free* the same way. That the engine's covers at most what it was
     handed is proved on the call with every condition of the cover that reads a candidate made a
     free boolean (:func:`conditions_freed`): the cover (up rounding) is the deficit handed where the
     payers' total weight is above 0 and 0 elsewhere, so freed it names no candidate and the call
     at any N builds an instance of it. Under a cascade the call is ``resolve(..., alone=True)``:
     each payer the cascade resolves in turn is such a call on the book it starts from.

2. **Why the call at two candidates covers every N.** After the generalization the claim's terms
   name no candidate's numbers (checked on the terms: only the bankrupt account's, the pools', the
   market's, the free cover's and the free "before" book's): the layers above ADL read the bankrupt
   account and the pools alone, so a call at any N builds the same records for them.
3. **The step.** The step's records of one account are one call's (checked on the engine's step at
   three traders, every event variant of the bounded kinds: each account's records split into runs
   of increasing layer index, one run a call, and where there are several, z3 proves their guards
   exclusive, so a step makes one), and the predicate pairs records of one account: the step's
   claim is the conjunction of its calls'.

The lemmas quantify every number of the book the call starts from and of the book before the step,
so they hold at every step of any story: the verdict covers any K. ``solver.prove`` still asks the
claim directly (at N, and on the lemmas' two-trader book where N's is undecided): the all-N claim
never rests on the lemmas alone. Where a lemma does not hold (a mutated waterfall) nothing is
extended and the bounded question decides, with a story replayed on the concrete engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs
import z3

from solvent.properties import catalog
from solvent.properties.catalog import Invariant
from solvent.rules.arith import and_, or_
from solvent.rules.bankruptcy import remaining_deficit, resolve
from solvent.rules.engine import transition
from solvent.rules.ledger import Ctx
from solvent.rules.liquidation import pools_holding
from solvent.rules.outcomes import Bankrupt, LayerUsed
from solvent.rules.policy import Policy
from solvent.rules.pool_bankruptcy import deleverage_pools
from solvent.rules.rounding import ProRata
from solvent.rules.waterfall import Over, SocializedLoss
from solvent.solver.adl_claims import Call
from solvent.solver.bounds import Bounds
from solvent.solver.per_account import constants
from solvent.solver.story import slots, symbolic_book

CLAIM = "waterfall-order"
#: the layers the argument covers: pools paying from their own balance, and ADL (the queue) last
POOLS = ("insurance_fund", "backstop_vault", "fee_pool")
QUEUE = "adl"
#: a socialized loss last (Mango v4): charged pro rata over the other traders, so its cover is
#: made free as ADL's is (docs/solver-notes.md#the-socialized-loss-for-every-n-session-20)
SOCIALIZED = "socialized_loss"
#: the last layers whose cover is made free (each reads the other traders)
LAST = (QUEUE, SOCIALIZED)
#: candidates beside the bankrupt account in the lemma's call (the cover is free, so the queue's
#: size does not reach the claim; two make the queue's own lemma a real one)
CANDIDATES = 2
#: traders in the step the calls are counted on (as ``adl_claims.STEP_TRADERS``)
STEP_TRADERS = 3
#: the prefix of the lemma's free numbers: the book before the step, each ADL record's cover
FREE = "wfo."
#: what the all-N verdict assumes of the engine (``Scope.assumes``)
ASSUMES = (
    "each bankrupt account's deficit goes down the waterfall in one call of the engine a step (a trader's "
    "resolve, a pool's own deleveraging; checked on the step at three traders), whose layers above ADL read "
    "only that account and the pools at any N, and whose ADL covers at most the deficit it was handed (that "
    "deficit less what the account still owes after it, rules.bankruptcy._run_layer)"
)
#: the same for a socialized loss last, resolved in turn by the cascade (Mango v4)
ASSUMES_SOCIALIZED = (
    "each bankrupt account's deficit goes down the waterfall in one call of the engine a step (its resolve, in "
    "its liquidation turn or in the cascade's turn after another's socialized loss; checked on the step at three "
    "traders), whose layers above the socialized loss read only that account and the pools at any N, and whose "
    "socialized loss covers at most the deficit it was handed (pro_rata.charge's target, shares rounded up: that "
    "deficit where the payers weigh anything, else 0)"
)


def assumes(policy: Policy) -> str:
    """What the all-N verdict assumes of ``policy``'s engine (its last layer's wording)."""
    return ASSUMES_SOCIALIZED if policy.deficit and policy.deficit[-1].kind == SOCIALIZED else ASSUMES


Valid = Callable[..., str]


def not_covered(policy: Policy, bounds: Bounds) -> str | None:
    """Why the argument does not apply to ``policy`` within ``bounds`` (None where it does)."""
    kinds = [layer.kind for layer in policy.deficit]
    if not kinds:
        return "the policy has no waterfall"
    if any(k not in (*POOLS, *LAST) for k in kinds) or any(k in LAST for k in kinds[:-1]):
        return (
            "its waterfall has a layer that reads other traders besides ADL or a socialized loss, or a layer "
            f"after one ({', '.join(kinds)}): the argument covers pools with ADL last, or a socialized loss last"
        )
    reason = _socialized_not_covered(policy)
    if reason is not None:
        return reason
    if kinds[-1] == SOCIALIZED and any(getattr(x, "cap_quote", None) is not None for x in policy.deficit):
        # Drift §7 step 1: the socialized loss then charges the winners while the fund keeps money, which the
        # claim refutes; the lemma's model would only cost units before the bounded question's story (and
        # the terms it builds move that question's unit counts: drift at N = 3, K = 3 refuted in 4,412,620
        # without it, undecided in 18,685,169 after it)
        return (
            "its fund pays at most a cap a bankruptcy before the socialized loss charges (the claim's 'no haircut "
            "while the fund holds money' fails by design): not covered, the bounded question decides"
        )
    if any(policy.fund_cap_in(m) is not None for m in bounds.market_names):
        return "a capped fund claim: its running total reads every call before this one in the step"
    if bounds.markets != 1 or bounds.isolated or bounds.assets or "final-settlement" in bounds.event_kinds:
        return (
            "one market, no collateral asset, no isolated position and no final settlement only "
            "(one waterfall call per bankrupt account)"
        )
    return None


def _socialized_not_covered(policy: Policy) -> str | None:
    """Why a socialized loss last is not covered (None where it is, or where there is none): its
    cover must be ``pro_rata.charge``'s target, the deficit it was handed where any payer weighs
    something and 0 where none does, so that it is at most what it was handed at any N."""
    layer = policy.layer(SocializedLoss)
    if layer is None:
        return None
    if layer.over is Over.OPPOSING_SIDE:
        return (
            "its socialized loss is charged per lot of the opposing side (side indices, rules.side_index): its "
            "cover reads the opposing positions' rounding, not covered"
        )
    if policy.rounding.pro_rata is not ProRata.UP_DUST_TO_INSURANCE_FUND:
        return (
            "its socialized loss's shares are rounded down: its cover is the sum of the shares, which reads every "
            "payer, not covered"
        )
    return None


def cascades(policy: Policy) -> bool:
    """The policy's socialized loss resolves the payers it sinks below zero in turn
    (``rules.bankruptcy._cascade``): each such resolution is a call of its own."""
    layer = policy.layer(SocializedLoss)
    return layer is not None and layer.cascade


def calls(policy: Policy, bounds: Bounds) -> list[Call]:
    """The engine's waterfall calls on a free book (:func:`shape`): a trader's ``resolve`` (the
    book's first trader, :data:`CANDIDATES` others), and where the policy has pools holding what
    they take over, their own deleveraging (``Call.bankrupts``: the accounts whose records it makes).
    Under a cascade the call is ``resolve(..., alone=True)``: the cascade after it resolves each
    payer it sank in a call of that same kind (``bankruptcy._bankrupt_in_turn``), whose records are
    that payer's, so each is this lemma's call on the book it starts from."""
    book, _ = symbolic_book(shape(bounds))
    bankrupt = book.traders[0].name
    alone = cascades(policy)
    label = f"{bankrupt}'s resolve, {CANDIDATES} candidates" + (" (one call of the cascade)" if alone else "")
    out = [Call(label, book, resolve(policy, Ctx(book), bankrupt, alone=alone), (bankrupt,))]
    pools = pools_holding(policy.liquidation)
    if pools:
        ctx = deleverage_pools(policy, Ctx(book))
        out.append(Call("the pools' own deleveraging", book, ctx, tuple(book.role(role).name for role in pools)))
    return out


def shape(bounds: Bounds) -> Bounds:
    """The bounds the lemma's books are built from: one event, the bankrupt account and its
    candidates (the free book before the step is built the same way, with its own names)."""
    return attrs.evolve(bounds, events=1, accounts=CANDIDATES + 1)


def last_layer(policy: Policy) -> str:
    """The last layer's name in a lemma's title: ADL, or the socialized loss."""
    return "the socialized loss" if policy.deficit[-1].kind == SOCIALIZED else "ADL"


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def question(policy: Policy, call: Call, bounds: Bounds) -> tuple[list[Any], Any, Any]:
    """``(premise, claim, queue)`` of the call's lemma: the catalog's ``waterfall-order`` of the call
    seen from a free book before the step, each ADL record's cover replaced by a free integer at
    most what that layer was handed (the premise, with the mark a price ≥ 1); ``queue``: that the
    engine's own covers are at most what each was handed (the second lemma)."""
    before, _ = symbolic_book(shape(bounds), prefix=f"{FREE}before.")
    view = attrs.evolve(call.view(policy), before=before)
    claim = _b(catalog.get(CLAIM).holds(view))
    premise, pairs, bounded = [call.book.market.mark_quote >= 1], [], []
    deficits = {g.item.account: g.item.deficit_quote for g in view.outcomes_of(Bankrupt)}
    above: dict[str, Any] = {}
    for k, g in enumerate(view.outcomes_of(LayerUsed)):
        used = g.item
        handed = deficits[used.account] - above.get(used.account, 0)
        above[used.account] = above.get(used.account, 0) + used.covered_quote
        if used.layer not in LAST:
            continue
        bounded.append(used.covered_quote <= handed)
        if z3.is_expr(used.covered_quote):
            free = z3.Int(f"{FREE}covered{k}")
            pairs.append((used.covered_quote, free))
            premise.append(free <= handed)
    if pairs and z3.is_expr(claim):
        claim = z3.substitute(claim, *pairs)
    return premise, claim, _b(and_(*bounded))


def socialized_covers(call: Call, policy: Policy, bounds: Bounds) -> list[Any]:
    """For each socialized-loss record of the call: its cover at most what it was handed, with every
    condition in the cover that reads a candidate made a free boolean (:func:`conditions_freed`). The
    cover is ``pro_rata.charge``'s target (up rounding: the deficit handed where the payers' total
    weight is above 0, else 0); freed, the term names no candidate (:func:`strangers`), so the call
    at any N builds an instance of it: proved for every value of the freed conditions, the bound
    holds at any N."""
    view = call.view(policy)
    deficits = {g.item.account: g.item.deficit_quote for g in view.outcomes_of(Bankrupt)}
    above: dict[str, Any] = {}
    out = []
    for k, g in enumerate(view.outcomes_of(LayerUsed)):
        used = g.item
        handed = deficits[used.account] - above.get(used.account, 0)
        above[used.account] = above.get(used.account, 0) + used.covered_quote
        if used.layer == SOCIALIZED:
            out.append(_b(conditions_freed(call, _b(used.covered_quote <= handed), k)))
    return out


def conditions_freed(call: Call, term: Any, k: int) -> Any:
    """``term`` with the condition of every ``If`` that reads a candidate's number replaced by a free
    boolean (``FREE`` + ``weighs``): the term then holds for every value of those conditions."""
    if not z3.is_expr(term):
        return term
    pairs: list[tuple[Any, Any]] = []
    for t in stranger_ifs(call, term, into_conditions=False):  # a freed condition is not walked into
        if not any(t.arg(0).eq(c) for c, _ in pairs):
            pairs.append((t.arg(0), z3.Bool(f"{FREE}weighs{k}.{len(pairs)}")))
    return z3.substitute(term, *pairs) if pairs else term


def stranger_ifs(call: Call, term: Any, *, into_conditions: bool) -> Iterator[Any]:
    """Every ``If`` in ``term`` whose condition reads a candidate's number (:func:`strangers`), each
    term visited once, in one fixed order: a stack of subterms, children pushed in order (so the
    last child is walked first). ``into_conditions``: whether the walk goes on into such an ``If``'s
    condition (``deficit_socialized.totals_freed`` frees the sides of a comparison, and a total
    inside one is its own) or only into its two branches (:func:`conditions_freed` frees the whole
    condition). The callers name their free variables in this order, and the names are terms whose
    numbers order z3's sums: the order is part of every unit count these lemmas spend."""
    seen: set[int] = set()
    todo = [term]
    while todo:
        t = todo.pop()
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        if z3.is_app_of(t, z3.Z3_OP_ITE) and strangers(call, t.arg(0)):
            yield t
            todo.extend(t.children() if into_conditions else (t.arg(1), t.arg(2)))
        else:
            todo.extend(t.children())


def strangers(call: Call, claim: Any) -> list[str]:
    """The candidates' numbers ``claim`` still names (none where the argument applies)."""
    if not z3.is_expr(claim):
        return []
    own = tuple(f"s0.{name}." for name in call.bankrupts)
    others = tuple(f"s0.{a.name}." for a in call.book.traders if a.name not in call.bankrupts)
    names = (str(c) for c in constants(claim) if c.decl().kind() == z3.Z3_OP_UNINTERPRETED)
    return sorted(n for n in names if n.startswith(others) and not n.startswith(own))


def call_runs(records: list[Any]) -> dict[str, list[list[Any]]]:
    """Each account's ``LayerUsed`` records (guarded, in the step's order) split into runs of
    increasing layer index, one run a call of the waterfall (its records start at the layer it was
    handed first), accounts in the order they first appear."""
    out: dict[str, list[list[Any]]] = {}
    for g in records:
        runs = out.setdefault(g.item.account, [])
        if runs and g.item.index > runs[-1][-1].item.index:
            runs[-1].append(g)
        else:
            runs.append([g])
    return out


def one_call_a_step(policy: Policy, bounds: Bounds, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """Checked on the engine's own step (``transition``, every event variant of the bounded kinds,
    :data:`STEP_TRADERS` free traders): each account's ``LayerUsed`` records are runs of increasing
    layer index, one run a call (no solver: the indices are concrete); where an account has more
    than one run, z3 proves their guards pairwise exclusive (``valid``), so a step makes one call."""
    one = attrs.evolve(bounds, accounts=STEP_TRADERS, events=1)
    book, _ = symbolic_book(one)
    lemmas = []
    for slot in slots(book, one):
        for variant in slot.variants:
            records = [g for g in transition(policy, book, variant.event).outcomes if isinstance(g.item, LayerUsed)]
            for account, runs in call_runs(records).items():
                for i in range(len(runs)):
                    for j in range(i + 1, len(runs)):
                        either = [_b(or_(*(g.guard for g in run))) for run in (runs[i], runs[j])]
                        name = f"the step ({variant.label}): {account}'s waterfall calls {i + 1} and {j + 1} of {len(runs)} are exclusive"
                        lemmas.append(valid(name, [], z3.Not(z3.And(*either)), exact=True))
    return [
        f"the step ({', '.join(bounds.event_kinds)}, {STEP_TRADERS} traders, the engine's transition): each "
        "account's waterfall records are one call's",
        *lemmas,
    ]


def argument(
    policy: Policy, invariant: Invariant, bounds: Bounds, valid: Valid, fail: Callable[[str], None]
) -> list[str]:
    """The all-N argument for ``waterfall-order`` on ``policy``: its lemmas' names, each proved by
    ``valid`` (exact z3; it raises where a lemma does not hold), or ``fail`` (it raises) where the
    argument does not apply (see the module)."""
    from solvent.solver import side_deficit  # it reads this module's call and names

    if side_deficit.deficit_not_covered(policy, bounds) is None:  # percolator Gen B (solver.side_deficit)
        return side_deficit.waterfall_argument(policy, bounds, valid, fail)
    reason = not_covered(policy, bounds)
    if reason is not None:
        fail(reason)
    # a socialized loss last: the call's lemmas first (a few thousand units; Drift's capped fund has a
    # model there) and the step's 30 exclusive pairs after (0.65M); with ADL last, the step first as before
    socialized = last_layer(policy) == "the socialized loss"
    lemmas = [] if socialized else one_call_a_step(policy, bounds, valid, fail)
    for call in calls(policy, bounds):
        if not any(True for _ in call.view(policy).outcomes_of(LayerUsed)):
            fail(f"{call.label}: the call records no waterfall layer")
        premise, claim, queue = question(policy, call, bounds)
        stray = strangers(call, claim)
        if stray:
            fail(f"{call.label}: the claim reads the candidates' numbers ({', '.join(stray[:4])})")
        lemmas.append(
            valid(
                f"{CLAIM} of {call.label}, every number free, the book before the step free, {last_layer(policy)}'s cover free up to "
                "what it was handed",
                premise,
                claim,
                exact=True,
            )
        )
        lemmas.append(
            valid(
                f"{call.label}: {last_layer(policy)} covers at most the deficit it was handed",
                premise[:1],
                queue,
                exact=True,
            )
        )
        for k, cover in enumerate(socialized_covers(call, policy, bounds)):
            stray = strangers(call, cover)
            if stray:
                fail(
                    f"{call.label}: the socialized loss's cover reads the candidates' numbers ({', '.join(stray[:4])})"
                )
            lemmas.append(
                valid(
                    f"{call.label}: the socialized loss covers at most the deficit it was handed, whatever its payers "
                    f"weigh (record {k + 1}, the weights' conditions free: so at any N)",
                    premise[:1],
                    cover,
                    exact=True,
                )
            )
    # what any ADL call leaves the account owing, on every book (the cover is what it was handed less this)
    book, _ = symbolic_book(attrs.evolve(bounds, events=1, accounts=1))
    owed = remaining_deficit(policy, Ctx(book), book.traders[0].name)
    lemmas.append(
        valid("what an account still owes after ADL is at least 0, every number free", [], _b(owed >= 0), exact=True)
    )
    if socialized:
        lemmas = one_call_a_step(policy, bounds, valid, fail) + lemmas
    lemmas.append(
        "the step: each account's records are its one call's, and the claim pairs records of one account; the "
        "call's claim reads no candidate's numbers once ADL's cover is free, so it holds at any N"
    )
    return lemmas


__all__ = [
    "ASSUMES",
    "ASSUMES_SOCIALIZED",
    "CLAIM",
    "argument",
    "assumes",
    "call_runs",
    "calls",
    "cascades",
    "conditions_freed",
    "last_layer",
    "not_covered",
    "one_call_a_step",
    "question",
    "shape",
    "socialized_covers",
    "stranger_ifs",
    "strangers",
]

"""The insurance fund through one liquidation turn, proved of the engine's own turn and given to a step's question as facts.

``insurance-fund-non-negative`` reads the fund after a whole step: at N = 4 on Bybit the question
builds in 1.49M units and then runs out in each of the three phases (undecided at 30M,
docs/solver-notes.md#the-fund-turn-by-turn-issue-18), z3 having to follow the fund's balance through
four traders' turns, each with its liquidation, waterfall and ADL. The claim is an induction over
the sweep: a turn that starts with the fund at or above zero ends with it there. So that step is
proved first, for each trader of a free book of the question's N traders (every number free, the
mark a price), on the engine's own ``liquidation_turn``:

    fund ≥ 0 before the turn  →  fund ≥ 0 after it

(the fund pays ``min(deficit, balance)``, and what it keeps of a fill only raises it). Each is then
instantiated (``payer_facts.instance``) on the book that trader's turn starts from in the question's
sweep (settled, the turns before it run), and added to the question as a fact: an instance of a
formula valid for every value is valid, so the question keeps exactly its models and a refutation
is still a replayed story. What is left for z3 is the chain: the fund after the settlement, each
turn's fact, the fund after the sweep. Where a turn's lemma does not hold (a mutated engine) no fact
is given and the question is asked as before.

Where it applies: mark moves on one market (so one fund), and on a book with collateral assets
their oracle moves too (the lemma then proved on a free book holding the same assets; each pro-rata
dust the turn passes to the fund is a premise and, instantiated, a fact of its own:
docs/solver-notes.md#the-fund-turn-by-turn-on-a-lending-book-issue-18), no isolated
positions; the facts are instantiated on every book size, so unlike the
payer's they serve N = 4 too, and at each move of a K-move question (the lemma holds of every book,
so of the one an earlier move left: binance at N = 3, K = 3 proved in 9.85M units, undecided within
20M with the first move's only; docs/solver-notes.md#every-claim-at-n--8-and-at-k--3-issue-18).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs
import z3

from solvent.properties.catalog import Invariant
from solvent.rules import bankruptcy
from solvent.rules.bankruptcy import resolved_in_step
from solvent.rules.book import Book, Role
from solvent.rules.engine import liquidation_turn
from solvent.rules.events import AssetPrice, MarkPrice
from solvent.rules.ledger import Ctx, Guarded
from solvent.rules.outcomes import Bankrupt
from solvent.rules.policy import Policy
from solvent.solver import clock, effort, payer_facts, story
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds
from solvent.solver.payer_facts import Valid, _pairs, instance
from solvent.solver.per_account import _KEPT, _conjuncts, _settled
from solvent.solver.pro_rata_lemma import Discharger
from solvent.solver.story import SlotRun, slots, symbolic_book
from solvent.solver.verdicts import QueryStats

#: the claims whose question gets these facts (and claims-backed's system holders, the fund's cash among
#: them: ``solver.claims_backed.SYSTEM``)
FUND_CLAIMS = ("insurance-fund-non-negative", "claims-backed/system-holders")
#: the turn lemmas get at most this part of what a question gives its facts (``solver.prove``: half
#: of N's share): Bybit's four at N = 4 take 0.14M, and on drift, where the first is unknown at 3.75M,
#: a lemma that does not decide must not take the build's units (its transfers were proved at N = 4)
SHARE = 8
#: the lemma's name, with the trader whose turn it is after it
LEMMA = "one liquidation turn keeps the insurance fund at or above zero"
#: the lemma for claims-backed's system holders: every one of them, the fund first
HOLDERS_LEMMA = "one liquidation turn keeps every system holder (the fund, the fee account, the vault) at or above zero"
#: the roles that are not claims-backed's holders (``solver.claims_backed``: the venue, the
#: clearing and the liquidity accounts); every other non-trader account is one
NOT_HOLDERS = (Role.VENUE, Role.CLEARING, Role.LIQUIDITY)


def holders(book: Book, claim_id: str) -> list[str]:
    """The accounts whose cash the turn lemma of ``claim_id`` keeps at or above zero: the fund
    alone, or for claims-backed's system holders (``FUND_CLAIMS[1]``) the fund then every other
    non-trader account that is not in :data:`NOT_HOLDERS`, in book order."""
    fund = book.role(Role.INSURANCE_FUND).name
    if claim_id != FUND_CLAIMS[1]:
        return [fund]
    others = [a.name for a in book.accounts if not a.is_trader and a.role not in NOT_HOLDERS and a.name != fund]
    return [fund, *others]


def turn_question(
    policy: Policy,
    accounts: int,
    trader: str,
    assets: tuple[str, ...] = (),
    claim_id: str = FUND_CLAIMS[0],
    paid: dict[tuple[Any, ...], Any] | None = None,
    shape: Bounds | None = None,
    any_payers: bool = False,
) -> tuple[Book, list[Any], Any]:
    """The lemma on the engine's ``liquidation_turn`` for ``trader`` on a fresh book of
    ``accounts`` traders (every number free, the mark a price), holding the collateral ``assets``
    (their balances, prices and lending numbers free too): ``(book, premise, claim)``. For
    claims-backed's system holders every holder's cash (:func:`holders`) in the premise and the
    claim, where the fund's own question keeps the fund's alone (its terms as they were). ``paid``:
    the split lemmas the question already paid for (``pro_rata_lemma.Discharger``), shared by its turns;
    ``shape``: the question's bounds, whose isolated positions the free book holds too (:func:`free_bounds`);
    ``any_payers``: each dust by its split's lemma for any number of payers (``Discharger(any_payers=True)``,
    Gen B's system holders), not at the book's count."""
    book, _ = symbolic_book(free_bounds(accounts, assets, shape))
    kept = holders(book, claim_id)
    turn = liquidation_turn(policy, Ctx(book, outcomes=earlier(policy, book, trader)), trader)
    # each pro-rata dust the turn passes to the fund is ≥ 0: an instance of the split's proved
    # lemma (``solver.pro_rata_lemma``), true of every value, so a premise that loses no book
    dust = Discharger(policy.rounding, paid, any_payers=any_payers).facts([turn])
    premise = [book.market.mark_quote >= 1, *(book.account(h).cash_quote >= 0 for h in kept), *dust]
    after = [turn.book.account(h).cash_quote >= 0 for h in kept]
    return book, premise, after[0] if len(after) == 1 else z3.And(*after)


def earlier(policy: Policy, book: Book, trader: str) -> tuple[Guarded, ...]:
    """The outcomes the lemma's free turn starts with: on a deposit-cutting policy's asset book
    (where ``bankruptcy.standing`` reads anything), each other trader's resolution earlier in the
    step, a ``Bankrupt`` under a free boolean (:func:`earlier_guard`), since the turn reads them
    (``bankruptcy.sunk_by_turn``: a trader the turn sank is resolved only if not resolved in the step
    already); none elsewhere (the turn reads no outcome there: its terms as they were). The lemma
    holds for every value of those booleans, so each instance (the question's own disjunction,
    ``bankruptcy.resolved_in_step``, for each) is valid whatever the turns before it resolved
    (docs/solver-notes.md#checks-cells-after-the-depositors-resolution-session-30)."""
    if not book.assets or not bankruptcy.cuts_deposits(policy):
        return ()
    return tuple(Guarded(earlier_guard(book, a.name), Bankrupt(a.name, 0)) for a in book.traders if a.name != trader)


def earlier_guard(book: Book, name: str) -> Any:
    """The free boolean that stands for ``name``'s resolution earlier in the step, named as its
    balances are (``s0.alice.cash_quote``: ``s0.alice.resolved_earlier``), so that a turn's lemma
    renamed to another trader's is that trader's (``payer_facts.renamed``)."""
    prefix = str(book.account(name).cash_quote).rpartition(".")[0]
    return z3.Bool(f"{prefix}.resolved_earlier")


def free_bounds(accounts: int, assets: tuple[str, ...] = (), shape: Bounds | None = None) -> Bounds:
    """The lemma's free book: ``accounts`` traders, one event, and the question's collateral
    ``assets`` (a book without them exactly as before: its questions build the same terms); where
    the question's bounds (``shape``) hold isolated positions, the same ones, in the same market (each
    an account with a turn of its own in the sweep: its turn's lemma is proved there too)."""
    if not assets:
        free = Bounds(accounts=accounts, events=1)
    else:
        free = Bounds(accounts=accounts, events=1, assets=len(assets), asset_names=assets)
    if shape is None or not shape.isolated:
        return free
    return attrs.evolve(
        free, isolated=shape.isolated, isolated_market=shape.isolated_market, market_labels=shape.market_labels
    )


@attrs.frozen
class FundFacts:
    """The lemma, proved for each trader's turn on a free book of the question's N traders
    (``formula`` is ``premise → claim``), ready to be instantiated on a question's terms."""

    book: Book
    turns: tuple[tuple[str, Any], ...]
    lemmas: tuple[str, ...]
    #: each turn's pro-rata dust facts (``dust ≥ 0``, instances of the split's proved lemma), given
    #: to the question beside the turn's instance: valid alone, and the exact phase, which gets no
    #: split facts of its own, would otherwise have to prove them to use the turn's
    dust: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    #: whether the free turns started from earlier resolutions (:func:`earlier`), to be instantiated
    earlier: bool = False

    def instances(self, policy: Policy, book: Book, runs: list[SlotRun]) -> list[Any]:
        """The lemma's instance at each trader's turn in the sweep of each of the question's mark
        moves (the first from ``book``, each later one from the book the one before it left: the
        lemma is valid for every value, so each instance is, whatever the earlier events did)."""
        lemma, dust = dict(self.turns), dict(self.dust)
        out = []
        for k, slot in enumerate(runs):
            before = book if k == 0 else slot.before
            for run in slot.runs:
                if isinstance(run.variant.event, (MarkPrice, AssetPrice)):
                    for trader, starts, outcomes in _starts_outcomes(policy, before, run):
                        pairs = list(_pairs(self.book, starts)) + self._earlier(trader, outcomes)
                        out.append(instance(lemma[trader], pairs))
                        out += [instance(d, pairs) for d in dust.get(trader, ())]
        return out

    def _earlier(self, trader: str, outcomes: tuple[Any, ...]) -> list[tuple[Any, Any]]:
        """The pairs that instantiate the lemma's earlier resolutions (:func:`earlier`) at
        ``trader``'s turn: each other trader's free boolean, the question's own disjunction of its
        ``Bankrupt`` guards in ``outcomes`` (the step's so far at that turn's start)."""
        out = []
        for name in (a.name for a in self.book.traders if a.name != trader):
            said = resolved_in_step(outcomes, name)
            out.append((earlier_guard(self.book, name), z3.BoolVal(said) if type(said) is bool else said))
        return out if self.earlier else []


def turn_starts(policy: Policy, book: Book, event: MarkPrice | AssetPrice) -> Iterator[tuple[str, Book]]:
    """Each trader of ``book`` in sweep order and the book its turn starts from in the sweep of
    ``event`` (settled, the turns before it run)."""
    for trader, ctx in _turn_ctxs(policy, book, event):
        yield trader, ctx.book


def _turn_ctxs(policy: Policy, book: Book, event: MarkPrice | AssetPrice) -> Iterator[tuple[str, Ctx]]:
    ctx = _settled(policy, book, event)
    names = [a.name for a in book.traders]
    for k, trader in enumerate(names):
        yield trader, ctx
        if k + 1 < len(names):  # the last turn's end is the question's own: not built again
            ctx = liquidation_turn(policy, ctx, trader)


def _starts_outcomes(policy: Policy, book: Book, run: SlotRun | Any) -> list[tuple[str, Book, tuple[Any, ...]]]:
    """:func:`_starts` with the step's outcomes so far at each turn (``VariantRun.turn_outcomes``,
    recorded as the step was built; else the turns run again as :func:`turn_starts` runs them)."""
    names = [a.name for a in book.traders]
    if [t for t, _ in run.turn_starts] == names and len(run.turn_outcomes) == len(names):
        return [(t, b, o) for (t, b), o in zip(run.turn_starts, run.turn_outcomes, strict=True)]
    return [(t, ctx.book, ctx.outcomes) for t, ctx in _turn_ctxs(policy, book, run.variant.event)]


def _starts(policy: Policy, book: Book, run: SlotRun | Any) -> list[tuple[str, Book]]:
    """Each trader's turn in the sweep of ``run`` (a variant's run from ``book``) and the book it
    starts from: the books the run's own sweep reached (``VariantRun.turn_starts``, recorded as
    the step was built: the same terms, not built a second time), or :func:`turn_starts` where the
    run recorded no such sweep (one turn per trader of ``book``, in book order)."""
    names = [a.name for a in book.traders]
    if [t for t, _ in run.turn_starts] == names:
        return list(run.turn_starts)
    return list(turn_starts(policy, book, run.variant.event))


def applies(bounds: Bounds) -> bool:
    """Mark moves (any number: the turn lemma holds of every book, so it is instantiated at each
    move's turns) on one market (one fund); on a book with collateral assets an asset's oracle
    move too (its sweep is the same turns, each from the book its settlement left: the lemma is
    proved on a free book holding the same assets); on a book with isolated positions margin moves
    too (the free book holds the same positions, each with a turn of its own whose lemma is proved
    there; a margin move's variant gets no instance: its claim is asked without one)
    (docs/solver-notes.md#units-counted-on-every-path-and-the-isolated-scopes-facts-session-20)."""
    kinds = set(bounds.event_kinds)
    allowed = {"mark", "asset-price"} if bounds.assets else {"mark"}
    if bounds.isolated:  # a margin move runs no turn: it gets no instance (the fact is not needed there)
        allowed |= {"margin"}
    moves = "mark" in kinds and kinds <= allowed
    return moves and bounds.markets == 1


#: said of a turn's lemma that is the first turn's with the accounts renamed (no query asked)
RENAMED = "an instance of {first}'s, the accounts renamed in book order (the same z3 term): no query"


def prove(
    policy: Policy,
    valid: Valid,
    claim_id: str,
    bounds: Bounds,
    renamed: Callable[[str, str], None] | None = None,
    used: Callable[[QueryStats], None] | None = None,
    any_payers: bool = False,
) -> FundFacts | None:
    """The lemma for each trader's turn on a free book of ``bounds.accounts`` traders, each proved
    by ``valid`` (exact z3; it raises where the lemma does not hold: no fact is given then). None
    where the claim is not the fund's or the question is not one mark move on one fund.

    A later trader's lemma that is the first trader's with the accounts renamed in book order (the
    same z3 term: the engine treats the two turns alike on this book) is proved by that renaming, a
    substitution of variables into a valid formula, and no query is asked for it (``renamed``, when
    given, is told its name and why: docs/solver-notes.md#a-turn-lemma-proved-once-for-every-trader);
    any other is asked as before.

    The pro-rata split's lemma behind a turn's dust facts (``solver.pro_rata_lemma``) is paid once
    (its units, as a question's build pays it) and told to ``used``, when given, after the turns
    (docs/solver-notes.md#units-counted-on-every-path-and-the-isolated-scopes-facts-session-20)."""
    if claim_id not in FUND_CLAIMS or not applies(bounds):
        return None
    assets = bounds.collateral_names if bounds.assets else ()
    free, _ = symbolic_book(free_bounds(bounds.accounts, assets, bounds))
    traders = [a.name for a in free.traders]
    kept = len(holders(free, claim_id))
    lemma = LEMMA if claim_id == FUND_CLAIMS[0] else HOLDERS_LEMMA
    turns, dust = [], []
    paid: dict[tuple[Any, ...], Any] = {}
    try:
        for trader in traders:
            # a free book of the same size has the same variables (named by account and field), so
            # each formula is over ``free``'s
            _, premise, claim = turn_question(
                policy, bounds.accounts, trader, assets, claim_id, paid=paid, shape=bounds, any_payers=any_payers
            )
            formula = z3.Implies(z3.And(*premise), claim)
            name = f"{lemma} ({trader}'s)"
            if turns and payer_facts.renamed(turns[0][1], payer_facts.in_turn_order(traders, trader)).eq(formula):
                if renamed is not None:
                    renamed(name, RENAMED.format(first=traders[0]))
            else:
                valid(name, premise, claim)
            turns.append((trader, formula))
            dust.append((trader, tuple(premise[1 + kept :])))  # turn_question's dust facts, after the mark and cash
    finally:  # the split lemmas the turns used, paid whether every turn held or not
        for split in paid.values() if used is not None else ():
            used(split.stats)
    lemmas = (
        f"{lemma}, for each trader's turn as a fact (z3, exact, every number free on a book of "
        f"{bounds.accounts} traders{' holding ' + ', '.join(assets) if assets else ''}; instantiated on the question's terms)",
    )
    return FundFacts(free, tuple(turns), lemmas, tuple(dust), bool(earlier(policy, free, traders[0])))


#: the claim the induction over events proves (claims-backed's system holders are asked at K = 1 only)
FUND = FUND_CLAIMS[0]
#: what the induction assumes of the book before each event and proves of the book after it
KEPT = "the insurance fund at or above zero and holding no position, the marks within the price bounds"


def inducts(claim_id: str, bounds: Bounds) -> bool:
    """Whether the fund's claim at K > 1 is asked by induction over events (:func:`induction`):
    mark moves only on one market (the kept premise bounds the marks; a collateral asset's oracle
    price would need bounds of its own kept), no isolated position, no collateral asset."""
    kinds = set(bounds.event_kinds)
    one_market = bounds.markets == 1 and not bounds.assets and not bounds.isolated
    return claim_id == FUND and bounds.events > 1 and kinds == {"mark"} and one_market


@attrs.frozen
class StepBook:
    """The induction's one-step book: a symbolic book of the question's N traders, its one mark
    move run by the engine, the fund's turn lemma instantiated at each turn, and the units its
    build took (``effort.BUILD_STEP`` a step)."""

    book: Book
    slot: Any
    steps: list[SlotRun]
    instances: list[Any]
    build_units: int


def step_book(policy: Policy, bounds: Bounds, facts: FundFacts, units: int, clock: int = 0) -> StepBook:
    """Build :class:`StepBook` within ``units`` (``effort.OutOfEffort`` past them), its book's
    clock at ``clock`` (the events before it: a concrete number the engine branches on, e.g. OKX's
    fund-drawdown window, so each value a question reaches is its own step)."""
    one = attrs.evolve(bounds, events=1)
    with effort.building(max(units, 1)) as meter:
        book, _ = symbolic_book(one)
        book = attrs.evolve(book, clock=clock)
        [slot] = slots(book, one)
        steps = story.run(policy, book, [slot])
        instances = facts.instances(policy, book, steps)
    return StepBook(book, slot, steps, instances, meter.spent)


def _kept(policy: Policy, bounds: Bounds, book: Book, *, flat: bool = True, fund: bool = True) -> list[Any]:
    """:data:`KEPT` of ``book`` (``flat``/``fund`` False: without the fund's flatness or its cash
    bound, which the tests show the step needs)."""
    account = book.role(Role.INSURANCE_FUND)
    one = attrs.evolve(bounds, events=1)
    prices = [c for a in book_assumptions(policy, book, one) if a.name in _KEPT for c in _conjuncts(a.holds)]
    cash = [account.cash_quote >= 0] if fund else []
    return prices + cash + ([p.size_lots == 0 for p in account.positions] if flat else [])


def start_question(policy: Policy, bounds: Bounds) -> tuple[list[Any], Any]:
    """The induction's first lemma: the question's starting assumptions (``bounds``, every one, on
    its symbolic starting book) and :data:`KEPT` of the same book."""
    book, _ = symbolic_book(attrs.evolve(bounds, events=1))
    start = [c for a in book_assumptions(policy, book, bounds) for c in _conjuncts(a.holds)]
    return start, z3.And(*_kept(policy, bounds, book))


def step_question(
    policy: Policy, invariant: Invariant, bounds: Bounds, built: StepBook, *, flat: bool = True, fund: bool = True
) -> tuple[list[Any], Any]:
    """The induction's step: :data:`KEPT` before the move (``flat``/``fund``: :func:`_kept`), the
    event's bounds, the engine's acceptance and the turn lemma's instances; the claim after the
    move and :data:`KEPT` of the book after it."""
    [after] = built.steps
    premise = _kept(policy, bounds, built.book, flat=flat, fund=fund)
    premise += _conjuncts(built.slot.field_bounds) + [after.accepted(), *built.instances]
    # the premise again after the move (its fund's cash is the claim's own, here one market's one fund)
    stays = _kept(policy, bounds, after.after)
    return premise, z3.And(after.obligation(policy, invariant), *stays)


@attrs.frozen
class Induction:
    """What :func:`induction` proved: its lemmas' lines, and whether its step was proved at clocks
    that stand for every clock (the claim after any number of events), else at the question's own
    (after each of its K)."""

    lines: tuple[str, ...]
    every_k: bool


def induction(
    policy: Policy,
    invariant: Invariant,
    bounds: Bounds,
    facts: FundFacts,
    valid: Valid,
    left: Callable[[], int],
    built: Callable[[int, str], None],
    held: Callable[[str, list[Any], Any], bool] | None = None,
) -> Induction:
    """``insurance-fund-non-negative`` after every event of any sequence of accepted mark moves, on
    a book of ``bounds.accounts`` traders (docs/solver-notes.md#bitmexs-payer-facts-and-the-last-bybit-and-okx-cells-session-20):

    1. **the start** (z3, exact): the question's starting book (its every assumption) meets
       :data:`KEPT`: the fund's cash ``≥ 0`` ("pools non-negative"), its position 0 (it is not among
       the policy's position holders), the marks within the bounds;
    2. **the step** (z3, exact, the fund's turn lemma instantiated at each turn): from *any* book of
       N traders that meets :data:`KEPT` (no other premise: no margin, no well-formedness, no
       balance bound; the event's own bounds and the engine's acceptance), one accepted mark move
       leaves the claim true and the book after it meeting :data:`KEPT` again (the fund flat, the
       new mark the event's price and the previous one the mark before, within the bounds).

    So each event starts from a book that meets :data:`KEPT` (the first from the start, each later
    one from what the one before left) and the claim holds after every one. The engine branches on
    the book's clock (a concrete count of the events before: OKX's fund-drawdown window, a clawback
    window, a warm-up), so the step is built and proved at clocks that cover the events
    (:func:`clocks`): where the policy reads no clock, clock 0, whose step is every clock's (any K);
    where its transitions repeat within a few clocks (``clock.every``: OKX's window of 8, clocks
    0..7), the question's own clocks 0..K − 1 among them first, then the others (any K), but only
    where the largest step so far, once per clock left, fits in ``left()``, and a step there that
    does not hold (``held`` says so, never raises) or whose build runs out leaves the verdict at
    K ≤ ``bounds.events``, as it was before them; otherwise each clock the question reaches, 0 to
    K − 1 (okx-2018's clawback window of 10,080): K ≤ ``bounds.events``.
    (docs/solver-notes.md#the-funds-induction-at-any-k-session-21). ``valid`` raises where a lemma
    does not hold or is not decided (the bounded question is then asked as before); each step's
    book is built after the lemmas before it held, within ``left()`` units (``effort.OutOfEffort``
    past them), and ``built`` is told what each build spent and how it ended ("built", or "out of
    effort" for a build beyond the question's own clocks that ran out). ``held`` (default: ``valid``,
    raising) asks those beyond. Returns the lemmas' lines and whether they cover any K."""
    first = f"{invariant.id} by induction over events: the starting book meets the step's premise ({KEPT})"
    valid(first, *start_question(policy, bounds))
    asked, every_k = clocks(policy, bounds)
    own = tuple(at for at in asked if at < bounds.events)  # the k-th event runs at clock k - 1
    beyond = asked[len(own) :]
    steps, largest = [], 0

    def step(at: int) -> tuple[str, StepBook]:
        book = step_book(policy, bounds, facts, left(), at)
        built(book.build_units, "built")
        return (
            f"{invariant.id} by induction over events: one accepted mark move at clock {at} from any book of "
            f"{bounds.accounts} traders meeting {KEPT} keeps the claim and that premise"
        ), book

    for at in own:
        before = left()
        name, book = step(at)
        valid(name, *step_question(policy, invariant, bounds, book))
        steps.append(name)
        largest = max(largest, before - left())
    if beyond and len(beyond) * largest > left():
        every_k = False  # not asked: the question's own clocks stand, K ≤ K
    for at in beyond if every_k else ():
        try:
            name, book = step(at)
        except effort.OutOfEffort as stop:
            built(stop.limit, "out of effort")
            every_k = False
            break
        if not (held or _raising(valid))(name, *step_question(policy, invariant, bounds, book)):
            every_k = False
            break
        steps.append(name)
    if not every_k:
        steps = steps[: len(own)]
        last = (
            f"induction: each of the {bounds.events} events starts from a book meeting the premise at its clock, so the "
            "claim holds after each"
        )
    else:
        ends = (
            "the policy reads no clock: every clock's step is clock 0's"
            if not clock.reads_clock(policy)
            else f"the policy reads the book's clock (windows of {', '.join(map(str, clock.windows(policy)))} events): "
            f"the transitions at clocks 0..{asked[-1]} are every clock's"
        )
        last = (
            f"induction: every event starts from a book meeting the premise ({ends}), so the claim holds after any "
            "number of them"
        )
    lines = (
        f"{first} (z3, exact)",
        *(f"{s} (z3, exact, the premise nothing else of the book; {LEMMA} instantiated at each turn)" for s in steps),
        last,
    )
    return Induction(lines, every_k)


def _raising(valid: Valid) -> Callable[[str, list[Any], Any], bool]:
    def held(name: str, premise: list[Any], claim: Any) -> bool:
        valid(name, premise, claim)
        return True

    return held


def clocks(policy: Policy, bounds: Bounds) -> tuple[tuple[int, ...], bool]:
    """The clocks :func:`induction` proves its step at, and whether they stand for every clock (the
    claim then holds after any number of events): ``clock.clocks``, as the all-N arguments ask their
    lemmas (docs/solver-notes.md#the-funds-induction-at-any-k-session-21)."""
    return clock.clocks(policy, bounds.events)


__all__ = [
    "FUND",
    "FUND_CLAIMS",
    "KEPT",
    "LEMMA",
    "RENAMED",
    "SHARE",
    "HOLDERS_LEMMA",
    "NOT_HOLDERS",
    "FundFacts",
    "Induction",
    "StepBook",
    "applies",
    "clocks",
    "holders",
    "induction",
    "inducts",
    "prove",
    "start_question",
    "step_book",
    "step_question",
    "turn_question",
    "turn_starts",
]

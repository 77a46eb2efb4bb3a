"""Proofs for every number of accounts: per-account and per-transfer lemmas plus a linear aggregate.

A bounded proof covers books of up to N traders. For the two accounting invariants whose truth is
a sum of per-account or per-transfer contributions, this module extends a bounded PROVED to every
N (docs/solver-notes.md#compositional-proofs: per-account contracts, then an ITE-free aggregate):

``open-interest-balance`` (Σ size = 0 after every event), because
  - P (z3, on each event kind's ``transition``): every account's position after the event is its
    position before plus its guarded fills in the position ledger (``Ctx.fills``: bought minus
    sold), system accounts included;
  - aggregate: each fill adds ``lots`` to its buyer and takes them from its seller, so Σ size
    changes by Σ over fills of (lots − lots) = 0, whatever N.

``conservation`` (Σ cash + spot = net deposits and the clearing account is empty), because with
Φ = Σ_all(cash + spot) − net deposits and C = the clearing balance, conservation is Φ = 0 ∧ C = 0:
  - F (z3, on each event kind's ``transition``): every balance after the event (cash and spot, of
    every account) is the balance before plus its guarded ledger entries, and no entry names a
    balance the book does not hold; so Σ over all balances changes by exactly the external entries;
  - C3 (z3): net deposits change by exactly the external transfers, so Φ is unchanged;
  - on a book with collateral assets (docs/portfolio.md decision 7), F covers every asset balance
    (in its own quanta) and C3 every asset's net deposits against that asset's external transfers,
    so Φ_a = Σ balances of a − its net deposits is unchanged too; C4 keeps the clearing account out
    of every asset;
  - C4 (symbolic run): the clearing account, found by its role, is touched only by settlement and
    funding, in cash only (by nothing on events of other kinds);
  - C5 (z3, per account): on a mark move each account's net flow into clearing is ``−s·(M' − M)``;
    on funding ``1e6 × flow ≥ s·M·r`` (payers round up, receivers down) and the dust transfer
    empties clearing of a non-negative remainder;
  - aggregate (z3, ITE-free, over abstract sums): ``C' = C − (M' − M)·Σs`` with ``Σs = 0``, and
    ``1e6 × ΣF ≥ M·r·Σs = 0``, give C' = 0 for any N; with open-interest balance preserved (above)
    the argument repeats for every following event.

F and P check the book the engine returns against the ledgers, value by value, so a record read
before a change and written back after it, or a change booked on one side only, fails them: no
argument here rests on which code names which field. Each gap is asked first with every
comparison and product abstracted to a fresh variable (valid then means valid for the real
values), then exactly.

The lemmas are checked on the engine's own functions with a small symbolic book; they extend to
every N because the engine treats accounts uniformly (it loops over the book's accounts and looks
them up by name). That is the one assumption of the argument beyond z3's, and the verdict states
it. The lemmas never stand alone: ``solver.prove`` also asks the invariant directly at the bounded
N. Other invariants keep the bounded verdict.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.properties import catalog
from solvent.properties.catalog import Invariant
from solvent.rules import engine, lending
from solvent.rules.arith import PPM
from solvent.rules.book import Book, Role
from solvent.rules.engine import after_sweep, before_turns, closing, liquidation_turn, opening, settle, transition
from solvent.rules.events import AssetPrice, Funding, MarkPrice
from solvent.rules.ledger import EXTERNAL, SPOT, Ctx, Guarded, Reason, asset_balance
from solvent.rules.market_funds import fund_balance, fund_name
from solvent.rules.outcomes import Bankrupt
from solvent.rules.policy import Policy
from solvent.rules.rounding import FundingRemainder
from solvent.rules.wellformed import StartMargin
from solvent.solver import (
    adl_claims,
    cascade_invariant,
    clock,
    deficit_once,
    deficit_socialized,
    effort,
    fund_facts,
    gen_b_flat,
    gen_b_payer,
    gen_b_principal,
    haircut_claims,
    haircut_once,
    haircut_payer,
    induction,
    payer_facts,
    payer_ghost,
    payer_previous,
    side_claims,
    side_deficit,
    side_fund,
    start_mark,
    sweep_invariant,
    wall,
    waterfall_claims,
)
from solvent.solver.bounds import Bounds
from solvent.solver.case_split import abstracted, coefficients, decide, linear_form_vanishes, remember, split_budget
from solvent.solver.frames import balance_equations, funding_flows, position_equations, settled_flows
from solvent.solver.frames import external as _external
from solvent.solver.frames import moved as _moved
from solvent.solver.frames import owner as _owner_of
from solvent.solver.linearize import Linearizer
from solvent.solver.payer_lemma import ADL_FILLS_ONLY, PAYER_CLAIMS, fills_only, ghost_covers, payer_argument
from solvent.solver.per_account import (
    EACH_LIQUIDATION,
    EACH_TRADER,
    MARGIN,
    ONE_ACCOUNT,
    THROUGH_SYSTEM,
    TURNS_ALIKE,
    _same,
    each_liquidation_argument,
    each_trader_argument,
    flat_cases,
    flat_trader_argument,
    margin_move_argument,
    one_account_argument,
)
from solvent.solver.story import slots, symbolic_book
from solvent.solver.symbolic import variable_book
from solvent.solver.verdicts import QueryStats

#: traders in the symbolic book the lemmas are checked on (``solver.prove`` checks the invariant
#: directly on a book this size too, so the two speak about the same book)
LEMMA_TRADERS = 2
FLAT = "flat-accounts-never-pay"
UNIFORMITY = "the engine treats accounts uniformly (loops over the book's accounts, looks them up by name)"
#: what a per-trader argument's method line adds where margin moves were covered by their own lemma
MOVES = (
    "; a margin move by its own lemma: each trader's part of the claim (an owner with its isolated position) "
    "reads only its own accounts and holds from their own assumptions"
)
CLEARING_REASONS = frozenset({Reason.SETTLEMENT, Reason.FUNDING, Reason.FUNDING_DUST, Reason.FUNDING_CARRY})


@attrs.frozen
class Extension:
    """A compositional argument that held: its method line, lemma claims and solver queries."""

    method: str
    lemmas: tuple[str, ...]
    queries: tuple[QueryStats, ...]
    #: whether the argument covers any number of events (an invariant of the book, by induction)
    #: or only the bounded one step (a claim about one step: ``solver.per_account``)
    every_k: bool = True
    #: what the all-N verdict assumes of the engine, said in its scope (``Scope.assumes``)
    assumes: str = ""
    #: the start margin of the one-event book an induction over events is checked on directly
    #: (``Bounds.start_margin``; None: the question's own): an induction on a premise each event
    #: keeps is checked from that premise (``solver.induction``)
    one_event_start: str | None = None
    #: whether a direct check trivially true on the lemmas' book is trivially true at every N (not
    #: where that book is too small to hold what the claim reads: two ADL fills of one bankrupt
    #: account need three traders, ``solver.adl_claims``)
    trivial_extends: bool = True
    #: whether the claim cannot fail where the argument held (its reading is vacuous there: no ADL fill,
    #: one market, no isolated position; ``solver.frame_claims``): a trivially true direct check on the
    #: lemmas' book is then trivially true at every N, and the verdict says so
    vacuous: bool = False
    #: the events the argument covers where it is an induction (``every_k``) whose lemmas were asked
    #: at clocks 0..K-1 only (the policy reads the book's clock, ``solver.clock``); None: any K
    events: int | None = None


@attrs.frozen
class Attempt:
    """A compositional argument that did not hold within the effort: the lemma that failed or was
    left undecided, and the queries asked (their units count toward the question's effort)."""

    failed: str
    queries: tuple[QueryStats, ...]
    #: False where the argument does not apply to this policy or these bounds (no lemma was false
    #: or undecided: the engine couples the accounts, the bounds are not the argument's)
    applies: bool = True


class _Failed(Exception):
    """A lemma did not hold or was not decided, or the argument does not apply: the verdict stays bounded."""

    def __init__(self, reason: str, applies: bool = True) -> None:
        super().__init__(reason)
        self.applies = applies


# a question of its own when called outside one (a test, a benchmark's table): its units then do not
# depend on what the process asked z3 before (docs/solver-notes.md#units-independent-of-process-history-session-21)
@effort.own_question()
def attempt(
    policy: Policy, invariant: Invariant, bounds: Bounds, *, payer: bool = True, units: int | None = None
) -> Extension | Attempt | None:
    """The all-N argument for ``invariant``: an :class:`Extension` when every lemma held, an
    :class:`Attempt` when one did not, None when the invariant has no such argument. ``payer``:
    where ADL couples the traders, also try the payer's argument (``solver.payer_lemma``; without
    it the coupling's reason stands and no units are spent). Every lemma together within ``units``
    (default: the question's effort, ``bounds.effort``; ``solver.prove`` gives them half of it)."""
    from solvent.solver import frame_claims  # (it imports claims_backed, which imports this module)

    argument = ARGUMENTS.get(invariant.id)
    if frame_claims.fits(policy, invariant.id, bounds):
        # what the claim reads, the step never writes on this route (Drift, Mango v4: solver.frame_claims)
        argument = _frame(invariant.id)
    if argument is None and invariant.id == side_fund.CLAIM and side_fund.not_covered(policy, bounds) is None:
        argument = _side_fund  # percolator Gen B's fund, entry by entry (solver.side_fund)
    if argument is None:
        return None
    checker = _Checker(bounds, units)
    checker.payer_allowed = payer
    # where the policy reads the book's clock, every lemma is asked again at each clock whose
    # transition a K-event question can reach (every clock's representatives where they are few,
    # else 0..K-1): a free book at clock 0 speaks of the first event only
    # (solver/clock.py; docs/solver-notes.md#any-k-at-every-clock-session-20)
    asked, covered = clock.clocks(policy, bounds.events)
    try:
        lemmas, held = [], None
        for at in asked:
            with clock.at(at):
                said = argument(policy, bounds, checker)
            lemmas += said if len(asked) == 1 else [f"at clock {at}: {line}" for line in said]
            # one argument at every clock (the flat-trader one at clock 0 and the payer's at 1
            # would each cover their own clock only: the verdict names one method)
            if held is not None and _routes(checker) != held:
                raise _Failed(f"the argument that held at clock {at} is not the one that held at clock 0")
            held = _routes(checker)
            _set_routes(checker, (False,) * len(ROUTES))
        _set_routes(checker, held)
    except _Failed as failed:
        where = f" (at clock {at} of 0..{asked[-1]}: the policy reads the book's clock)" if len(asked) > 1 else ""
        return Attempt(f"{failed}{where}", tuple(checker.queries), failed.applies)
    extension = _extension(policy, invariant, bounds, checker, lemmas)
    if not clock.reads_clock(policy):
        return extension
    if covered:  # asked at every clock's representatives: any K stands, said how
        return attrs.evolve(
            extension, method=f"{extension.method}; {clock_said(policy, bounds.events, asked, every=True)}"
        )
    # the lemmas were asked at clocks 0..K-1 only: the verdict covers K events, not any K
    return attrs.evolve(
        extension,
        method=extension.method.replace(", any K:", f", K ≤ {bounds.events}:").replace(
            "compositional, all N:", f"compositional, all N, K ≤ {bounds.events}:"
        )
        + f"; {clock_said(policy, bounds.events, asked)}",
        events=bounds.events,
    )


#: the checker's flags saying which argument held (``_extension`` reads them)
ROUTES = ("flat", "payer", "margin", "induction", "haircut", "cascade", "junior", "frame")


def _routes(checker: Any) -> tuple[bool, ...]:
    """Which argument held (the flags ``_extension`` reads)."""
    return tuple(getattr(checker, name) for name in ROUTES)


def _set_routes(checker: Any, held: tuple[bool, ...]) -> None:
    for name, value in zip(ROUTES, held, strict=True):
        setattr(checker, name, value)


def clock_said(policy: Policy, events: int, asked: tuple[int, ...], every: bool = False) -> str:
    """What a verdict whose lemmas were asked at ``asked`` clocks says of it (``every``: those clocks'
    transitions are every clock's, ``clock.every``)."""
    windows = f"the policy reads the book's clock (windows of {', '.join(map(str, clock.windows(policy)))} events)"
    at = "clock 0" if len(asked) == 1 else f"each clock 0..{asked[-1]}"
    if every:
        return f"{windows}: every lemma asked at {at}, whose transitions are every clock's, so any K"
    return (
        f"{windows}: every lemma asked at {at}, the clocks of the question's {events} "
        f"event{'s' if events > 1 else ''}, so K ≤ {events}, not any K"
    )


def _extension(policy: Policy, invariant: Invariant, bounds: Bounds, checker: Any, lemmas: list[str]) -> Extension:
    """The :class:`Extension` ``invariant``'s argument gives where every lemma held."""

    def made(method: str, **how: Any) -> Extension:
        # every argument's extension: its method line, the lemmas that held and the checker's queries
        return Extension(method, tuple(lemmas), tuple(checker.queries), **how)

    if checker.frame:  # solver.frame_claims: one move, the frame's or the system holders' assumption
        from solvent.solver import frame_claims

        return made(
            frame_claims.method(invariant.id, policy, bounds),
            every_k=False,
            assumes=frame_claims.assumes(policy, bounds, invariant.id),
            vacuous=frame_claims.trivial(invariant.id),
        )
    if invariant.id in adl_claims.ADL_CLAIMS:
        return made(
            adl_claims.method(policy, invariant.id),
            every_k=True,
            assumes=adl_claims.assumes(policy, invariant.id),
            trivial_extends=False,
        )
    if invariant.id == deficit_once.CLAIM and side_deficit.deficit_not_covered(policy, bounds) is None:
        method = (
            "compositional, all N, any K: the claim of one bankrupt account's resolve, proved by z3 on a book of "
            "three traders with every number free, each share of the per-lot charge and of the haircut free and the "
            "open interest and the haircut's total weight free, so it names no other trader; the step's claim the "
            f"conjunction of its calls'; assumes {side_deficit.ASSUMES}"
        )
        return made(method, every_k=True, assumes=side_deficit.ASSUMES, trivial_extends=False)
    if invariant.id == deficit_once.CLAIM and haircut_once.not_covered(policy, bounds) is None:
        return made(haircut_once.METHOD, every_k=True, assumes=haircut_once.ASSUMES, trivial_extends=False)
    if invariant.id == deficit_once.CLAIM and deficit_socialized.not_covered(policy, bounds) is None:
        method = (
            "compositional, all N, any K: the claim of one bankrupt account's resolve, proved by z3 on a book of "
            "three traders with every number free, each socialized-loss share and the payers' total weight free, so "
            f"it names no other trader; the step's claim the conjunction of its calls'; assumes {deficit_socialized.ASSUMES}"
        )
        return made(
            method,
            every_k=True,
            assumes=deficit_socialized.ASSUMES,
            trivial_extends=False,
        )
    if invariant.id == deficit_once.CLAIM:
        walk = deficit_once.walk_not_covered(policy, bounds) != "not a walk"
        # at the previous mark (Hyperliquid) the call's lemma rests on the sweep's invariant, proved
        # for one move from a well-formed start (solver.sweep_invariant): one event, or any K where
        # the induction's premise carries it over the moves (payer_previous.premise_lemmas)
        any_k = not sweep_invariant.applies(policy) or checker.induction
        assumed = deficit_once.ASSUMES_WALK if walk else deficit_once.ASSUMES
        if sweep_invariant.applies(policy):  # at every move by the induction's premise (K > 1)
            assumed = f"{assumed}; {sweep_invariant.ASSUMES}"
            if checker.induction:
                assumed = f"{assumed}; at every move: {payer_previous.ASSUMES}; {payer_previous.INDUCTION_ASSUMES}"
        method = (
            f"compositional, all N, {'any K' if any_k else 'one event'}: the claim of one bankrupt account's resolve, "
            "proved by z3 on a book of two "
            + (
                "traders with every number free and its walk's payment any a walk of any length can make, extended "
                "to any N by induction over the walk (each turn within its invariant) and a lemma on one ADL fill; "
                if walk
                else "traders with every number free, extended to any N by a lemma on one ADL fill and the queue's "
                "order; "
            )
            + f"the step's claim the conjunction of its calls'; assumes {assumed}"
        )
        return made(
            method,
            every_k=any_k,
            assumes=assumed,
            trivial_extends=False,
            # the induction's step checked directly from its premise (its one-event book)
            **({"one_event_start": induction.PREMISE} if checker.induction else {}),
        )
    if invariant.id == waterfall_claims.CLAIM and side_deficit.deficit_not_covered(policy, bounds) is None:
        return made(
            side_deficit.WATERFALL_METHOD, every_k=True, assumes=side_deficit.WATERFALL_ASSUMES, trivial_extends=False
        )
    if invariant.id == waterfall_claims.CLAIM:
        method = (
            "compositional, all N, any K: the claim of one bankrupt account's waterfall call (the engine's resolve, "
            "and a pool's own deleveraging), proved by z3 with every number free, the book before the step free and "
            f"{waterfall_claims.last_layer(policy)}'s cover free up to what it was handed; the step's claim the "
            f"conjunction of its calls'; assumes {waterfall_claims.assumes(policy)}"
        )
        return made(
            method,
            every_k=True,
            assumes=waterfall_claims.assumes(policy),
            trivial_extends=False,
        )
    if invariant.id == side_fund.CLAIM:
        return made(
            side_fund.METHOD,
            every_k=True,
            assumes=side_fund.ASSUMES,
            trivial_extends=False,
        )
    if invariant.id in EACH_LIQUIDATION:
        method = (
            "compositional, all N, any K: every liquidation a turn writes records equity at or below "
            "maintenance as its trigger found it, checked on the engine's own transition, settle and "
            "liquidation_turn from any state of the traders with the prices within bounds (which every "
            "accepted event of these kinds keeps), the system accounts fresh at each turn; "
            f"assumes {TURNS_ALIKE}"
        )
        return made(method, every_k=True, assumes=TURNS_ALIKE)
    if invariant.id in EACH_TRADER and checker.flat:
        # at K > 1 asked from any state with the prices within bounds (``flat_trader_argument``): every K
        any_k = bounds.events > 1
        method = (
            f"compositional, all N, {'any K' if any_k else 'one event'}: no liquidation turn (nor a pool's own "
            "deleveraging before them) charges a trader with no position, checked on "
            "the engine's own transition, settle and liquidation_turn with the system accounts fresh at each turn"
            + (
                ", from any state of the traders (a flat trader's cost basis free) with the prices within bounds, "
                "which every accepted event of these kinds keeps"
                if any_k
                else ""
            )
            + (f"; {side_claims.SAID}" if side_claims.applies(policy) else "")
            + f"; assumes {TURNS_ALIKE}"
        )
        method += MOVES if checker.margin else ""
        return made(method, every_k=any_k, assumes=TURNS_ALIKE)
    if invariant.id in EACH_TRADER and checker.cascade and cascade_invariant.inducts(policy, bounds):
        # K moves: by induction on the premise each move keeps, checked from it on the one-event book
        # (docs/solver-notes.md#drift-and-mango-v4-at-k--3-the-cascade-over-moves-session-24)
        return made(
            cascade_invariant.METHOD_OVER_MOVES,
            every_k=True,
            assumes=f"{cascade_invariant.ASSUMES}; {cascade_invariant.INDUCTION_ASSUMES}",
            one_event_start=cascade_invariant.PREMISE,
        )
    if invariant.id in EACH_TRADER and checker.cascade:
        return made(
            cascade_invariant.METHOD,
            every_k=False,
            assumes=cascade_invariant.ASSUMES,
        )
    if invariant.id == gen_b_principal.CLAIM and checker.gen_b and bounds.events > 1:  # the induction over moves
        assumed = f"{gen_b_payer.ASSUMES}; {gen_b_principal.ASSUMES}"
        charges = gen_b_principal.METHOD.removeprefix("compositional, all N, one event: ")
        method = (
            f"{gen_b_payer.METHOD_MOVES}; each move's charges by the one-move lemmas (none reads the start): {charges}"
        )
        return made(method, every_k=True, assumes=assumed, one_event_start=gen_b_payer.MOVES_PREMISE)
    if invariant.id == gen_b_principal.CLAIM and checker.gen_b:
        # the payer's bound and each charge's payer ending where it leaves it
        # (docs/solver-notes.md#gen-bs-principal-protected-for-every-n-session-25)
        assumed = f"{gen_b_payer.ASSUMES}; {gen_b_principal.ASSUMES}"
        return made(gen_b_principal.METHOD, every_k=False, assumes=assumed)
    if invariant.id == FLAT and checker.gen_b_flat:  # over the moves, from the payer's induction
        return made(
            f"{gen_b_flat.METHOD}; {gen_b_payer.METHOD_MOVES}",
            every_k=True,
            assumes=f"{gen_b_payer.ASSUMES}; {TURNS_ALIKE}",
            one_event_start=gen_b_payer.MOVES_PREMISE,
        )
    if invariant.id in EACH_TRADER and checker.gen_b and bounds.events > 1:  # the induction over moves
        # (docs/solver-notes.md#gen-bs-payer-claims-at-k--3-by-induction-over-moves-session-25): its direct check
        # the one-event question on the lemmas' book from the premise each move keeps, a check of the step
        return made(
            gen_b_payer.METHOD_MOVES,
            every_k=True,
            assumes=gen_b_payer.ASSUMES,
            one_event_start=gen_b_payer.MOVES_PREMISE,
        )
    if invariant.id in EACH_TRADER and checker.gen_b:
        return made(gen_b_payer.METHOD, every_k=False, assumes=gen_b_payer.ASSUMES)
    if invariant.id in EACH_TRADER and checker.junior and bounds.events > 1:  # the induction over moves
        # (docs/solver-notes.md#gen-as-payer-claims-at-k--3-under-the-conversion-at-h-session-25): its direct
        # check the one-event question on the lemmas' book from the question's own start, a check of the step
        assumed = f"{haircut_payer.ASSUMES}; {haircut_payer.INDUCTION_ASSUMES}"
        return made(haircut_payer.METHOD_MOVES, every_k=True, assumes=assumed)
    if invariant.id in EACH_TRADER and checker.junior:
        return made(haircut_payer.METHOD, every_k=False, assumes=haircut_payer.ASSUMES)
    if invariant.id in EACH_TRADER and checker.haircut and bounds.events > 1:  # the induction over moves
        assumed = f"{haircut_claims.ASSUMES}; {haircut_claims.INDUCTION_ASSUMES}"
        return made(haircut_claims.METHOD_MOVES, every_k=True, assumes=assumed)
    if invariant.id in EACH_TRADER and checker.haircut:
        return made(haircut_claims.METHOD, every_k=False, assumes=haircut_claims.ASSUMES)
    if invariant.id in EACH_TRADER and checker.payer and checker.induction and payer_previous.fits(policy):
        assumed = f"{payer_previous.ASSUMES}; {payer_previous.INDUCTION_ASSUMES}"
        method = (
            "compositional, all N, any K: by induction over mark moves on a premise of each trader "
            f"({induction.SAYS}) and the vault's cash ≥ 0: the start meets them, each move keeps them (the payer's "
            "contract with the premise as its claim, the vault's lemmas), and from them each move keeps the claim "
            "(the payer's side of ADL at the previous mark, the vault's worth carried through the sweep), checked on "
            f"the engine's own transition, settle, before_turns, liquidation_turn and resolve; assumes {assumed}"
        )
        return made(
            method,
            every_k=True,
            assumes=assumed,
            one_event_start=induction.PREMISE,
        )
    if invariant.id in EACH_TRADER and checker.payer and checker.induction and start_mark.fits(policy, bounds):
        method = (
            "compositional, all N, any K: by induction over mark moves on a premise of each trader read against the "
            f"story's first mark ({start_mark.SAYS}): the start meets it; a bankrupt account that met it closes a "
            "winner at a gap per lot within the move plus what the premise gives a lot of the winner's side (the "
            "engine's resolve, then over integers); each trader's step, charged so before and after its own turn, "
            "keeps it and the claim (the engine's settle, liquidation_turn, after_sweep and closing, then over "
            f"integers); assumes {ADL_FILLS_ONLY}; {start_mark.ASSUMES}"
        )
        return made(
            method, every_k=True, assumes=f"{ADL_FILLS_ONLY}; {start_mark.ASSUMES}", one_event_start=start_mark.START
        )
    if invariant.id in EACH_TRADER and checker.payer and checker.induction:
        # where the queue may skip (dYdX), the premise carries the ghost price across accounts
        # (solver.ghost_start): its lemmas keep the whole position taken at every move
        ghost = induction.ghost(policy, bounds)
        # (bitmex: the fund takes over what the queue and the book leave, said: ``fills_only``)
        assumes = f"{ADL_FILLS_ONLY}; {payer_ghost.ASSUMES}" if ghost else fills_only(policy)
        assumes = f"{assumes}; {induction.assumes(ghost, induction.limit(policy))}"
        method = (
            "compositional, all N, any K: by induction over mark moves on a premise of each trader "
            f"({induction.says(ghost)}): the start meets it, each move keeps it (the payer's contract with the premise as "
            "its claim"
            + (
                "; the ghost part by the ghost lemmas on the engine's settle, liquidation_turn and walk"
                if ghost
                else ""
            )
            + "), and from it each move keeps the claim (the payer's side of ADL: a bankrupt account that met "
            + (
                "the premise closes the winners at a gap per lot at most the move since the ghost price P (it was "
                "worth ≥ 0 at P, each winner opposite gained as much a lot since P), each trader's contract charged by "
                "any such fills before and after its own turn; an account the block limit defers stays as settlement "
                "left it, within the premise, and is resolved at a later move like any bankrupt account)"
                if ghost
                else "the premise closes the winners at a gap per lot at most the move, each trader's contract charged "
                "by any such fills before and after its own turn)"
            )
            + ", checked on the engine's own transition, settle, "
            f"liquidation_turn and resolve; assumes {assumes}"
            + (
                f"; the step checked directly from every trader also solvent at the mark ({induction.start(policy, bounds)}: "
                "a deferred account's start, below zero there, is the lemmas' alone)"
                if ghost
                else ""
            )
        )
        return made(
            method,
            every_k=True,
            assumes=assumes,
            one_event_start=induction.start(policy, bounds),
        )
    if invariant.id in EACH_TRADER and checker.payer and payer_previous.fits(policy):
        method = (
            "compositional, all N, one event: the payer's side of ADL at the previous mark (a winner closed there "
            "pays what its closed lots gained; the backstop vault's own deleveraging charges it no more, and the vault, "
            "worth ≥ 0 at the previous mark at every turn, pays for the lots it holds opposite), each trader's contract "
            "charged by any such fills before and after its own turn, checked on the engine's own transition, settle, "
            f"before_turns, liquidation_turn and resolve; assumes {payer_previous.ASSUMES}"
        )
        method += MOVES if checker.margin else ""
        return made(method, every_k=False, assumes=payer_previous.ASSUMES)
    if invariant.id in EACH_TRADER and checker.payer:
        # dYdX's overlap rule covered by the ranking's ghost invariant (solver.payer_ghost)
        assumes = f"{ADL_FILLS_ONLY}; {payer_ghost.ASSUMES}" if ghost_covers(policy, bounds) else fills_only(policy)
        method = (
            "compositional, all N, one event: the payer's side of ADL (a bankrupt account that met its margin "
            "closes the winners at a gap per lot at most the move, so a winner pays at most what its lots gained), "
            "each trader's contract charged by any such fills before and after its own turn, checked on the engine's "
            f"own transition, settle, liquidation_turn and resolve; assumes {assumes}"
        )
        method += MOVES if checker.margin else ""
        return made(method, every_k=False, assumes=assumes)
    if invariant.id in EACH_TRADER:
        method = (
            "compositional, all N, one event: each trader's liquidation turn changes and reads no other trader "
            "(checked on the engine's own transition, settle and liquidation_turn), and the claim holds for one "
            f"trader after its turn whatever the system accounts hold; assumes {THROUGH_SYSTEM}"
        )
        method += MOVES if checker.margin else ""
        return made(method, every_k=False, assumes=THROUGH_SYSTEM)
    if invariant.id in ONE_ACCOUNT:
        method = f"compositional, all N, one event: the claim reads the account the event names, proved from that account's own assumptions on the engine's own transition; assumes {UNIFORMITY}"
        return made(method, every_k=False)
    method = f"compositional, all N: per-account and per-transfer lemmas on the engine's own functions plus a linear aggregate; assumes {UNIFORMITY}"
    return made(method)


@attrs.frozen
class FlatCases:
    """``flat-accounts-never-pay``'s direct check at N by its flat cases (``per_account.flat_cases``):
    whether every case held, its lemma lines, its queries (counted whatever it answered) and, where
    a case did not hold, why."""

    held: bool
    lemmas: tuple[str, ...]
    queries: tuple[QueryStats, ...]
    failed: str = ""

    @property
    def trivial(self) -> bool:
        """Every case held because no event of these kinds writes a charge at all (the run made the
        claim True before z3 was asked): the verdict says "trivially", as the bounded question's does."""
        cases = [q for q in self.queries if "the engine's transition" in q.name]
        return self.held and bool(cases) and all(q.result == "trivial" for q in cases)


@effort.own_question()  # as attempt's
def flat_by_cases(policy: Policy, invariant: Invariant, bounds: Bounds, units: int) -> FlatCases:
    """The direct check of ``flat-accounts-never-pay`` at ``bounds.accounts`` traders by its flat
    cases, every case within what the ones before it left of ``units``."""
    checker = _Checker(bounds, units)
    try:
        lemmas = flat_cases(policy, invariant, bounds, checker.valid, checker.fail)
    except _Failed as failed:
        return FlatCases(False, (), tuple(checker.queries), str(failed))
    return FlatCases(True, tuple(lemmas), tuple(checker.queries))


def extend(policy: Policy, invariant: Invariant, bounds: Bounds) -> Extension | None:
    """The all-N extension of a bounded PROVED for ``invariant``, or None when none is available."""
    found = attempt(policy, invariant, bounds)
    return found if isinstance(found, Extension) else None


# --- checking lemmas -------------------------------------------------------------------------


class _Checker:
    """Runs each lemma's query (purified) and records it: the lemmas share ``units`` (default the
    bounds' effort), each asked within what the ones before it left (:attr:`left`), so an argument
    spends at most ``units`` in all (docs/solver-notes.md#a-questions-effort-is-one-purse)."""

    def __init__(self, bounds: Bounds, units: int | None = None) -> None:
        self.bounds = bounds
        self.units = bounds.effort if units is None else units
        self.queries: list[QueryStats] = []
        #: set by the flat-trader argument when it, not the per-trader one, held
        self.flat = False
        #: set by the payer's argument (ADL's winners' side) when it, not the per-trader one, held
        self.payer = False
        #: whether the payer's argument may be tried (``attempt(payer=...)``)
        self.payer_allowed = True
        #: set by the per-trader arguments when margin moves were covered by their own lemma
        self.margin = False
        #: set by the payer's argument at K > 1 when it held by induction over the moves
        #: (``solver.induction``)
        self.induction = False
        #: set by principal-protected's haircut argument when it held (``solver.haircut_claims``)
        self.haircut = False
        #: set by the socialized loss's cascade invariant when it held (``solver.cascade_invariant``)
        self.cascade = False
        #: set by Gen A's junior cover when it held (``solver.haircut_payer``)
        self.junior = False
        #: set by Gen B's payer bound when it held (``solver.gen_b_payer``)
        self.gen_b = False
        #: set by Gen B's flat traders over moves (``_gen_b_flat``)
        self.gen_b_flat = False
        #: set by the frame's argument when it held (``solver.frame_claims``)
        self.frame = False
        #: the turns' gaps proved by phases so far (``_by_phases``), by z3 term id, the terms kept
        self.phase_gaps: dict[int, Any] = {}

    @property
    def left(self) -> int:
        """The units the argument has left: its effort less what every lemma asked so far spent."""
        return self.units - sum(q.units for q in self.queries)

    def pieces(self, name: str, pieces: list[Any]) -> str:
        """Whether every one of ``pieces`` (integer terms) is 0 for every value, each asked on its
        own within what is left of the argument's effort (:attr:`left`): split on its conditions
        (:func:`solvent.solver.case_split.decide`: split on its conditions, then z3's case split
        with the rest). "unsat" when all are 0, "sat" at the first with a
        counterexample, "unknown" when the effort runs out. One record, its units summed."""
        started = time.perf_counter()
        spent, result, units = 0, "unsat", self.left
        for piece in pieces:
            if units - spent <= 0:
                result = "unknown"
                break
            decided = decide(piece, units - spent, self.bounds.safety_net)
            spent += decided.units
            if decided.result != "unsat" or spent >= units:
                result = decided.result if decided.result != "unsat" else "unknown"
                break
        shown = result if pieces else "holds (every coefficient simplifies to 0)"
        self.queries.append(QueryStats(name, shown, time.perf_counter() - started, units=spent))
        return result

    def whole(self, name: str, rough: Any) -> bool:
        """Whether the abstracted gap ``rough`` is 0 for every value, split whole on its conditions
        (:func:`solvent.solver.case_split.linear_form_vanishes`) within its split budget and what
        is left of the argument's effort; True when it is, else False (its coefficients are then
        asked one by one, :meth:`pieces`). One record, its units counted."""
        started = time.perf_counter()
        split = linear_form_vanishes(rough, min(self.left, split_budget(rough)))
        self.queries.append(QueryStats(name, split.result, time.perf_counter() - started, units=split.units))
        return split.result == "unsat"

    def fail(self, reason: str) -> None:
        """The argument does not apply (no query asked): the verdict stays bounded."""
        raise _Failed(reason, applies=False)

    def said(self, name: str, how: str) -> None:
        """A lemma recorded with no query (proved already in this question, or as another's renaming):
        0 units."""
        self.queries.append(QueryStats(name, how, 0.0))

    def valid(self, name: str, assumptions: list[Any], claim: Any, *, exact: bool = False) -> str:
        """``assumptions → claim`` for every value: unsat of the negation, else :class:`_Failed`.
        Purified (products and quotients as fresh variables with their side facts: a sound
        over-approximation) unless ``exact``: z3's exact integer arithmetic, for a lemma about one
        function's products whose purified model is spurious (``solver.payer_lemma``)."""
        started = time.perf_counter()
        if claim is True:
            self.queries.append(QueryStats(name, "trivial", 0.0))
            return name
        units = self.left
        if units <= 0:
            self.queries.append(QueryStats(name, "not asked (the argument's effort was spent)", 0.0))
            raise _Failed(f"{name}: not asked, the argument's effort was spent by the lemmas before it")
        asked = [z3.BoolVal(a) if type(a) is bool else a for a in assumptions] + [z3.Not(claim)]
        if exact:  # in a forked child, as SMT-LIB text: the answer does not depend on the queries before
            solved = wall.check(asked, [], units, self.bounds.safety_net)
        else:
            lin = Linearizer(prefix="lemma")
            terms = lin.rewrite(asked)
            lin.finish()
            solver = effort.smt_core()
            solver.add(*terms, *lin.facts)
            solved = effort.solve(solver, units, self.bounds.safety_net)
        self.queries.append(QueryStats(name, solved.result, time.perf_counter() - started, units=solved.units))
        if solved.result == "sat":
            raise _Failed(
                f"{name}: z3 found a model of its negation (a lemma's model, not a story: the bounded check decides)"
            )
        if solved.result != "unsat":
            raise _Failed(f"{name}: undecided within its effort")
        return name


# --- open interest ---------------------------------------------------------------------------


def _small_book(bounds: Bounds, traders: int = 2) -> Book:
    book, _ = symbolic_book(attrs.evolve(bounds, accounts=traders))
    return book


def _gaps_vanish(
    name: str, gaps: list[Any], checker: _Checker, by_phases: Callable[[], str] | None = None, first: bool = False
) -> str:
    """Every gap is 0 for every value: most simplify to 0; the rest are asked one at a time, first
    with every comparison and product abstracted (a sound over-approximation), split into its
    coefficients (:func:`coefficients`), then exactly when the abstraction has a counterexample
    (which may be spurious). Out of effort fails the lemma. ``by_phases``: where a gap is not
    decided by its whole split, the same equations proved phase by phase first
    (:func:`_positions_by_phases`); where that fails, the gap's pieces as before, with what it left.
    ``first``: the phases before any gap is asked (a book whose turns read the step's earlier
    resolutions, :func:`_reads_earlier`)."""
    open_gaps = [g for g in gaps if not (z3.is_int_value(g) and g.as_long() == 0)]
    if first and by_phases is not None and open_gaps:  # the phases before any whole gap
        try:
            return by_phases()
        except _Failed:  # the gaps as before, with what the phases left
            by_phases = None
    for k, gap in enumerate(open_gaps):
        (rough,) = abstracted([gap])
        if checker.whole(f"{name} ({k + 1} of {len(open_gaps)}, conditions abstracted, split whole)", rough):
            continue
        if by_phases is not None:
            try:
                return by_phases()
            except _Failed:  # not a sweep, not its phases, or a phase undecided: the pieces, as before
                by_phases = None
        answer = checker.pieces(f"{name} ({k + 1} of {len(open_gaps)}, conditions abstracted)", coefficients(rough))
        if answer == "unknown":
            raise _Failed(name)  # the exact question is larger still: not asked within this effort
        if answer == "sat":
            checker.valid(f"{name} ({k + 1} of {len(open_gaps)})", [], gap == 0)
    checker.queries.append(QueryStats(name, f"holds ({len(gaps) - len(open_gaps)} simplify to it)", 0.0))
    return name


def _position_frame(book: Book, variant: Any, ctx: Ctx, checker: _Checker, policy: Policy | None = None) -> str:
    """P: every position after the event is the position before plus the guarded fills of the
    position ledger (bought minus sold), for every account, system accounts included. With
    ``policy``, a gap its whole split does not decide sends the lemma to the engine's phases
    (:func:`_positions_by_phases`)."""
    name = f"P ({variant.label}): every position after the event = before + its guarded fills"
    if tuple(a.name for a in ctx.book.accounts) != tuple(a.name for a in book.accounts):
        checker.queries.append(QueryStats(name, "accounts added, removed or reordered", 0.0))
        raise _Failed(name)
    known = {a.name for a in book.accounts}
    stray = sorted({n for f in ctx.fills for n in (f.item.buyer, f.item.seller)} - known)
    markets = [m.name for m in book.markets]
    stray += sorted({f"market {f.item.market!r}" for f in ctx.fills} - {f"market {m!r}" for m in markets})
    if stray:
        checker.queries.append(QueryStats(name, f"fills name unknown accounts or markets {stray}", 0.0))
        raise _Failed(name)
    # every market's positions against that market's fills (one market: the account's own size)
    raw = [now - was - fills for i in range(len(markets)) for now, was, fills in position_equations(book, ctx, i)]
    phased = None if policy is None else functools.partial(_positions_by_phases, policy, book, variant, checker)
    gaps = [z3.simplify(g) if z3.is_expr(g) else z3.IntVal(g) for g in raw]
    held = _gaps_vanish(name, gaps, checker, phased, first=policy is not None and _reads_earlier(policy, book))
    for gap in raw:  # the same equations of a bounded question on this book are not asked again (solver.frames)
        remember(gap, "unsat")
    return held


#: the events whose transition is a sweep: settle, a pool's own deleveraging, the turns
_SWEPT = (MarkPrice, Funding, AssetPrice)


def _positions_by_phases(policy: Policy, book: Book, variant: Any, checker: _Checker) -> str:
    """P for a sweep event, proved phase by phase (docs/solver-notes.md#the-position-frame-by-phases-issue-18):

    1. the engine's ``transition`` on ``book`` is, term for term, its phases in order: ``opening``,
       ``settle``, ``before_turns`` (a pool's own deleveraging), one ``liquidation_turn`` per
       trader in book order, ``after_sweep``, ``closing``; and each phase, run on the book the
       phases before it left with nothing recorded, gives the same book and the same fills as in
       that run (it reads the book, not the ledger);
    2. each phase, run from the book the phases before it left with every number that is still a
       Python int a fresh variable (``symbolic.variable_book`` keeps a field that holds a term: on a
       symbolic book the phase is then asked of those terms themselves, which the run alone showed
       are the run's), moves every position by exactly the fills it records (z3, as P's gaps are
       asked), so it does so in the run (the symbolic run's premise: the engine computes the same
       function of its book whatever terms the book holds); a turn that reads the step's earlier
       resolutions runs from a book whose every field is a fresh variable (``terms=True``);
    3. so the event moves each position by the sum of every phase's fills: the event's fills.

    Each phase's gap holds its own branches only, where the whole event's nests every earlier
    phase's in its conditions (Hyperliquid's vault deleveraged before the turns, then each turn's
    liquidation, takeover and ADL). A turn that reads the step's earlier resolutions starts from
    them as free booleans (:func:`_earlier_in_step`)."""

    def gaps(before: Book, after: Ctx) -> list[Any]:
        return [
            now - was - fills
            for i in range(len(before.markets))
            for now, was, fills in position_equations(before, after, i)
        ]

    return _by_phases(policy, book, variant, checker, f"P ({variant.label}) by phases", "fills", gaps)


def _balances_by_phases(policy: Policy, book: Book, variant: Any, checker: _Checker) -> str:
    """F for a sweep event, proved phase by phase as P is (:func:`_positions_by_phases`): each
    phase, run from a book whose every number is a fresh variable (a turn also from free earlier
    resolutions, :func:`_earlier_in_step`), moves every balance by exactly the guarded entries it
    records, and the transition is its phases, each reading the book (and those resolutions) only;
    so the event moves every balance by the sum of its phases' entries: the event's entries
    (docs/solver-notes.md#conservation-and-open-interest-on-checks-asset-books-session-31)."""
    return _by_phases(policy, book, variant, checker, f"F ({variant.label}) by phases", "entries", _balance_gaps)


def _by_phases(
    policy: Policy,
    book: Book,
    variant: Any,
    checker: _Checker,
    name: str,
    ledger: str,
    gaps_of: Callable[[Book, Ctx], list[Any]],
) -> str:
    """A frame (``gaps_of(before, ctx)``: each gap ``after − before − what the ledger says``) proved
    for a sweep event phase by phase: the transition is its phases in order; each phase run on the
    book the phases before it left (a turn with the step's earlier resolutions, :func:`_earlier_in_step`),
    nothing else recorded, adds the same ``ledger`` records (``"fills"`` or ``"entries"``) and gives
    the same book as in that run; each phase's gaps vanish from a book of fresh variables (a turn:
    and free earlier resolutions). ``name`` on success.

    Where the turns read the step's earlier resolutions (:func:`_reads_earlier`) every turn starts
    from one fresh book (``turn.``) and as many free booleans for each other trader, so a turn's
    gap is the same term at every event of the question and, renamed, at every trader's turn
    (``payer_facts.renamed``, :func:`_proved_before`): asked once."""
    event = variant.event
    if not isinstance(event, _SWEPT):
        checker.queries.append(QueryStats(name, "not a sweep event", 0.0))
        raise _Failed(f"{name}: {variant.label} is not a sweep event")
    traders = [a.name for a in book.traders]
    phases: list[tuple[str, Callable[[Ctx], Ctx], str | None]] = [
        ("opening", lambda c: opening(policy, c.book), None),
        ("settle", lambda c: settle(policy, c, event), None),
        ("before the turns", lambda c: before_turns(policy, c), None),
        *((f"{t}'s turn", functools.partial(_turn_of, policy, t), t) for t in traders),
        ("after the sweep", lambda c: after_sweep(policy, c), None),
        ("closing", lambda c: closing(policy, c), None),
    ]
    shared = _reads_earlier(policy, book)
    count = 0
    if shared:  # how many earlier resolutions each turn starts from: the step's own, recorded
        with engine.turn_outcomes_recorded() as seen:
            whole = transition(policy, book, event)
        count = _earlier_count(book, seen)
    ctx = Ctx(book)
    for k, (label, phase, trader) in enumerate(phases):
        start, n = ctx.book, len(getattr(ctx, ledger))
        earlier = () if trader is None else _earlier_in_step(policy, start, trader, count, ctx.outcomes)
        alone = phase(Ctx(start, outcomes=earlier))
        ctx = phase(ctx)
        if not (_same(alone.book, ctx.book) and _same(getattr(alone, ledger), getattr(ctx, ledger)[n:])):
            checker.queries.append(QueryStats(name, f"{label} reads the ledger", 0.0))
            raise _Failed(f"{name}: {label} reads what the phases before it recorded")
        turn = shared and trader is not None  # every number a fresh variable, the same at every turn
        fresh, _ = variable_book(start, prefix="turn." if turn else f"phase{k}.", terms=turn)
        free = () if trader is None else _earlier_in_step(policy, fresh, trader, count)
        out = phase(Ctx(fresh, outcomes=free))
        if tuple(a.name for a in out.book.accounts) != tuple(a.name for a in fresh.accounts):
            checker.queries.append(QueryStats(name, f"{label} adds, removes or reorders accounts", 0.0))
            raise _Failed(name)
        raw = gaps_of(fresh, out)
        asked = f"{name}: {label}, from any book"
        if shared and trader is not None:
            said = _proved_before(checker, traders, trader)
            raw = [g for g in raw if not said(g)]
            if not raw:
                checker.said(asked, f"every gap proved already in this argument ({said.how})")
                continue
        _gaps_vanish(asked, [z3.simplify(g) if z3.is_expr(g) else z3.IntVal(g) for g in raw], checker)
        if shared and trader is not None:
            checker.phase_gaps.update({g.get_id(): g for g in raw if z3.is_expr(g)})
    if not shared:  # (built last, as it always was: the same terms in the same order elsewhere)
        whole = transition(policy, book, event)
    if not (_same(whole.book, ctx.book) and _same(getattr(whole, ledger), getattr(ctx, ledger))):
        checker.queries.append(QueryStats(name, "the transition is not its phases", 0.0))
        raise _Failed(f"{name}: the engine's transition is not its phases in order")
    return name


class _Recalled:
    """Whether a turn's gap was proved already in the argument: the same term (another event's
    turn, or the other frame's), or a proved gap with the accounts renamed (``names``: the first
    trader's turn to this one's, ``payer_facts.renamed``), which is then an instance of a valid
    formula (a substitution of variables for variables); ``how`` says which were used."""

    def __init__(self, known: dict[int, Any], names: dict[str, str]) -> None:
        self.known, self.used = known, set()
        renamed = [payer_facts.renamed(g, names) for g in known.values()] if names else []
        self.renamed = {g.get_id(): g for g in renamed}  # (the terms kept: their ids stay theirs)

    def __call__(self, gap: Any) -> bool:
        if not z3.is_expr(gap):
            return gap == 0
        if gap.get_id() in self.known:
            self.used.add("the same term")
            return True
        if gap.get_id() in self.renamed:
            self.used.add("a proved gap with the accounts renamed in book order")
            return True
        return False

    @property
    def how(self) -> str:
        return "; ".join(sorted(self.used)) or "none"


def _proved_before(checker: _Checker, traders: list[str], trader: str) -> _Recalled:
    """:class:`_Recalled` for ``trader``'s turn: the gaps proved in the argument so far, as they are
    and renamed from the first trader's turn to this one's (``payer_facts.in_turn_order``)."""
    names = payer_facts.in_turn_order(traders, trader) if trader != traders[0] else {}
    return _Recalled(checker.phase_gaps, names)


def _earlier_count(book: Book, seen: list[tuple[Any, ...]]) -> int:
    """The most ``Bankrupt`` outcomes of one trader among the step's outcomes at any turn's start
    but its own (``seen``: ``engine.turn_outcomes_recorded``): how many free booleans each turn
    starts from for each other trader, so that every turn's lemma has the same shape."""
    names = [a.name for a in book.traders]
    most = 0
    for at, outcomes in zip(names, seen, strict=False):
        for other in names:
            if other != at:
                most = max(most, sum(1 for g in outcomes if isinstance(g.item, Bankrupt) and g.item.account == other))
    return most


def _earlier_in_step(
    policy: Policy, book: Book, trader: str, count: int, outcomes: tuple[Any, ...] | None = None
) -> tuple[Guarded, ...]:
    """What ``trader``'s turn reads of the step so far, where it reads anything (a deposit-cutting
    policy's asset book, ``fund_facts.earlier``): ``count`` ``Bankrupt`` outcomes of each other
    trader (:func:`_earlier_count`). With ``outcomes`` (the step's so far, on the book the phases
    left) each under the step's own guards of that trader's resolutions in order, ``False`` for the
    rest; without, on a fresh ``book``, each under a free boolean (``fund_facts.earlier_guard``'s
    name, numbered): the first is the second's instance. The turn reads their disjunction
    (``bankruptcy.resolved_in_step``), on the instance the same term as in the step's run (``or_``
    drops ``False``), where one boolean a trader (``fund_facts.earlier``) would nest it. Nothing
    elsewhere."""
    if not fund_facts.earlier(policy, book, trader):
        return ()
    out = []
    for a in book.traders:
        if a.name == trader:
            continue
        if outcomes is None:
            base = str(fund_facts.earlier_guard(book, a.name))
            guards = [z3.Bool(f"{base}.{k + 1}") for k in range(count)]
        else:
            said = [g.guard for g in outcomes if isinstance(g.item, Bankrupt) and g.item.account == a.name]
            if len(said) > count:  # the free turn would not be this one's generalization: no lemma
                raise _Failed(f"{trader}'s turn reads {len(said)} earlier resolutions of {a.name}, more than {count}")
            guards = [*said, *[False] * (count - len(said))]
        out += [Guarded(guard, Bankrupt(a.name, 0)) for guard in guards]
    return tuple(out)


def _turn_of(policy: Policy, name: str, ctx: Ctx) -> Ctx:
    return liquidation_turn(policy, ctx, name)


def _open_interest(policy: Policy, bounds: Bounds, checker: _Checker) -> list[str]:
    """Σ size = 0 for every N: by P each position changes by exactly its fills, and each fill adds
    ``lots`` to one account and takes it from another, so Σ size changes by Σ (lots − lots) = 0."""
    book = _small_book(bounds, traders=LEMMA_TRADERS)
    lemmas = []
    for slot in slots(book, attrs.evolve(bounds, accounts=LEMMA_TRADERS, events=1)):
        for variant in slot.variants:
            lemmas.append(_position_frame(book, variant, transition(policy, book, variant.event), checker, policy))
    lemmas.append("aggregate: each fill changes Σ size by lots - lots = 0, so Σ size stays 0, for any N")
    return lemmas


# --- conservation ----------------------------------------------------------------------------


def _frame_lemma(book: Book, variant: Any, ctx: Ctx, checker: _Checker, policy: Policy | None = None) -> str:
    """F: the book after the event is the book before plus the guarded ledger entries, balance by
    balance, for every account (system accounts included), and no entry names a balance the book
    does not hold. Checked on the book the engine returns, not on what the ledger says: a record
    written back stale, a transfer applied to one side only, or money put where no entry says are
    all caught here. With ``policy``, on a book whose turns read the step's earlier resolutions
    (:func:`_reads_earlier`), the lemma is asked by the engine's phases first
    (:func:`_balances_by_phases`), the gaps whole where those fail."""
    name = f"F ({variant.label}): every balance after the event = before + its guarded ledger entries"
    if tuple(a.name for a in ctx.book.accounts) != tuple(a.name for a in book.accounts):
        checker.queries.append(QueryStats(name, "accounts added, removed or reordered", 0.0))
        raise _Failed(name)
    known = {a.name for a in book.accounts} | {a.name + SPOT for a in book.accounts} | {EXTERNAL}
    known |= {asset_balance(a.name, x.name) for a in book.accounts for x in book.assets}
    known |= {fund_name(book, k) for k in range(1, len(book.markets))}  # a fund kept per market
    stray = sorted({n for e in ctx.entries for n in (e.item.source, e.item.destination)} - known)
    if stray:
        checker.queries.append(QueryStats(name, f"entries name unknown balances {stray}", 0.0))
        raise _Failed(name)
    raw = _balance_gaps(book, ctx)
    phased = None
    if policy is not None and _reads_earlier(policy, book):
        phased = functools.partial(_balances_by_phases, policy, book, variant, checker)
    gaps = [z3.simplify(g) if z3.is_expr(g) else z3.IntVal(g) for g in raw]
    held = _gaps_vanish(name, gaps, checker, phased, first=phased is not None)
    for gap in raw:  # the same equations of a bounded question on this book are not asked again (solver.frames)
        remember(gap, "unsat")
    return held


def _balance_gaps(book: Book, ctx: Ctx) -> list[Any]:
    """F's gaps (``after − before − entries``) of the step from ``book`` to ``ctx.book``: cash, spot
    and every collateral asset balance (in its own quanta, docs/portfolio.md decision 7) of every
    account, and a fund kept per market in each further market (solvent.rules.market_funds)."""
    raw = [now - was - entries for _, now, was, entries in balance_equations(book, ctx)]
    raw += [
        fund_balance(ctx.book, k) - fund_balance(book, k) - _moved(ctx, fund_name(book, k))
        for k in range(1, len(book.markets))
        if book.funds_per_market
    ]
    return raw


def _reads_earlier(policy: Policy, book: Book) -> bool:
    """Whether a turn on ``book`` reads the step's earlier resolutions (a deposit-cutting policy's
    asset book: ``bankruptcy.resolve_sunk``, session 30): there the frames F and P are asked by the
    engine's phases first, each turn from free earlier resolutions (``fund_facts.earlier``), since
    every whole gap nests each turn's resolution of a sunk depositor in the others' conditions
    (docs/solver-notes.md#conservation-and-open-interest-on-checks-asset-books-session-31)."""
    return bool(book.traders) and bool(fund_facts.earlier(policy, book, book.traders[0].name))


#: the claims whose direct check reads the step's frames (``solver.query``: F and C5 for conservation,
#: P for open interest), and which of them each one reads
FRAMED = {"conservation": "F", "open-interest-balance": "P"}


@effort.own_question()  # as attempt's
def question_frames(policy: Policy, claim_id: str, bounds: Bounds, units: int) -> tuple[QueryStats, ...]:
    """The frame the direct check of ``claim_id`` (:data:`FRAMED`) reads, proved on the question's
    own book by the engine's phases (F or P, each event of one move, a turn from free earlier
    resolutions: :func:`_by_phases`) within ``units``, each whole gap remembered
    (``case_split.remember``) so that the question's frames (``solver.frames``) recall it and do not
    split it again. Where the turns read the step's earlier resolutions (:func:`_reads_earlier`) and
    the question is one event; nothing elsewhere (no query). A frame not proved is not remembered:
    the question then splits it as before. The queries asked, whatever they answered (their units
    are the question's) (docs/solver-notes.md#conservation-and-open-interest-on-checks-asset-books-session-31)."""
    if claim_id not in FRAMED or bounds.events != 1 or not (bounds.assets and lending.cuts_deposits(policy)):
        return ()  # (nothing built: the question's terms as they were)
    book = _small_book(bounds, traders=bounds.accounts)
    if not _reads_earlier(policy, book):
        return ()
    checker = _Checker(bounds, units)
    try:
        for slot in slots(book, bounds):
            for variant in slot.variants:
                ctx = transition(policy, book, variant.event)
                if FRAMED[claim_id] == "F":
                    _frame_lemma(book, variant, ctx, checker, policy)
                else:
                    _position_frame(book, variant, ctx, checker, policy)
    except _Failed:
        pass  # the frames proved so far stay remembered; the rest the question splits itself
    return tuple(checker.queries)


def _event_lemmas(policy: Policy, bounds: Bounds, checker: _Checker) -> list[str]:
    book = _small_book(bounds, traders=LEMMA_TRADERS)
    clearing = book.role(Role.CLEARING).name
    one = attrs.evolve(bounds, accounts=LEMMA_TRADERS, events=1)
    out = []
    for slot in slots(book, one):
        for variant in slot.variants:
            ctx = transition(policy, book, variant.event)
            out.append(_frame_lemma(book, variant, ctx, checker, policy))
            external = _external(ctx, "")
            claim = ctx.book.net_deposits_quote - book.net_deposits_quote == external
            out.append(
                checker.valid(f"C3 ({variant.label}): net deposits change by exactly the external transfers", [], claim)
            )
            for i, asset in enumerate(book.assets):
                claim = ctx.book.assets[i].net_deposits - asset.net_deposits == _external(ctx, asset.name)
                out.append(
                    checker.valid(
                        f"C3 ({variant.label}): {asset.name}'s net deposits change by exactly its external transfers",
                        [],
                        claim,
                    )
                )
            out.append(_clearing_lemma(ctx, variant, clearing, checker))
            out += _flow_lemmas(policy, book, variant, ctx, checker)
    return out


def _clearing_lemma(ctx: Ctx, variant: Any, clearing: str, checker: _Checker) -> str:
    """C4: the clearing account (found by its role, each of its balances) is touched only by the
    settlement of a mark move and by funding, and only in its cash balance; events of other kinds
    do not touch it at all (C5 accounts for every flow it has)."""
    from solvent.rules.events import Funding, MarkPrice

    settles = isinstance(variant.event, MarkPrice | Funding)
    name = f"C4 ({variant.label}): " + (
        "only settlement and funding transfers touch the clearing account, in cash only"
        if settles
        else "no transfer touches the clearing account"
    )
    stray = [
        f"{e.item.reason.value} ({e.item.source} -> {e.item.destination})"
        for e in ctx.entries
        if clearing in (_owner_of(e.item.source), _owner_of(e.item.destination))
        and (
            not settles
            or e.item.reason not in CLEARING_REASONS
            or clearing + SPOT in (e.item.source, e.item.destination)
        )
    ]
    checker.queries.append(QueryStats(name, "holds" if not stray else f"clearing also moved by {stray}", 0.0))
    if stray:
        raise _Failed(name)
    return name


def _flow_lemmas(policy: Policy, book: Book, variant: Any, ctx: Ctx, checker: _Checker) -> list[str]:
    from solvent.rules.events import Funding, MarkPrice

    event = variant.event
    if isinstance(event, MarkPrice):  # one statement of C5, the bounded question's facts too
        claim = z3.And(*[paid == expected for _, paid, expected in settled_flows(book, ctx, event)])
        return [checker.valid("C5 (mark): each account's net flow into clearing is -s × (M' - M)", [], claim)]
    if isinstance(event, Funding) and policy.rounding.funding_remainder is FundingRemainder.CARRIED:
        # a carried remainder lets a payer pay less than s·M·r this time; what holds instead is that
        # the carry transfers (to and from the venue account) take the clearing balance, either sign
        carry = book.role(policy.rounding.funding.dust_account).name
        (claim,) = funding_flows(book, ctx, event, carry)  # one statement of C5, the bounded question's facts too
        return [
            checker.valid(
                "C5 (funding, remainder carried): the carry transfers take the clearing balance, either sign",
                [],
                claim,
            )
        ]
    if isinstance(event, Funding):
        claim = z3.And(*funding_flows(book, ctx, event))
        return [
            checker.valid(
                "C5 (funding): 1e6 × each account's flow into clearing ≥ s·M·r; the dust transfer takes the clearing balance if positive",
                [],
                claim,
            )
        ]
    return []


def _aggregate(checker: _Checker) -> str:
    s, f, move, mark, rate, c, dust = z3.Ints("agg.sizes agg.flows agg.move agg.mark agg.rate agg.clearing agg.dust")
    mark_case = z3.Implies(z3.And(s == 0, c == 0, f == -(s * move)), c + f == 0)
    funding_case = z3.Implies(
        z3.And(s == 0, c == 0, PPM * f >= s * mark * rate, dust == z3.If(f >= 0, f, 0)), c + f - dust == 0
    )
    return checker.valid(
        "aggregate: with Σs = 0 the clearing account ends every event at 0, for any N",
        [],
        z3.And(mark_case, funding_case),
    )


def _conservation(policy: Policy, bounds: Bounds, checker: _Checker) -> list[str]:
    lemmas = _event_lemmas(policy, bounds, checker)
    lemmas.append(_aggregate(checker))
    lemmas += _open_interest(policy, bounds, checker)
    return lemmas


def _deposit_not_absorbed(policy: Policy, bounds: Bounds, checker: _Checker) -> list[str]:
    return one_account_argument(policy, catalog.get("deposit-not-absorbed"), bounds, checker.valid, checker.fail)


def _each_trader(invariant_id: str) -> Callable[[Policy, Bounds, _Checker], list[str]]:
    def argument(policy: Policy, bounds: Bounds, checker: _Checker) -> list[str]:
        invariant = catalog.get(invariant_id)
        if MARGIN in bounds.event_kinds:
            # a margin move (the isolated margin scope) by its own lemma, first (it is cheap); the
            # other kinds by the argument below, on the same book
            # (docs/solver-notes.md#the-isolated-traders-own-lemma-issue-13-item-21)
            moves = margin_move_argument(
                policy, invariant, attrs.evolve(bounds, event_kinds=(MARGIN,)), checker.valid, checker.fail
            )
            checker.margin = True
            rest = tuple(k for k in bounds.event_kinds if k != MARGIN)
            return moves + (trader_argument(policy, attrs.evolve(bounds, event_kinds=rest), checker) if rest else [])
        return trader_argument(policy, bounds, checker)

    def trader_argument(policy: Policy, bounds: Bounds, checker: _Checker) -> list[str]:
        invariant = catalog.get(invariant_id)
        try:
            return each_trader_argument(policy, invariant, bounds, checker.valid, checker.fail)
        except _Failed as coupled:
            if invariant_id == haircut_claims.CLAIM and haircut_claims.not_covered(policy, bounds) is None:
                return _haircut(policy, bounds, checker, coupled)
            if invariant_id in cascade_invariant.CLAIMS and cascade_invariant.covers(policy, bounds):
                return _cascade(policy, bounds, checker, coupled)
            if invariant_id in gen_b_payer.CLAIMS and gen_b_payer.not_covered(policy, bounds) is None:
                return _gen_b_bound(policy, bounds, checker, coupled, invariant_id)
            if invariant_id in haircut_payer.CLAIMS and haircut_payer.not_covered(policy, bounds) is None:
                return _junior_cover(policy, bounds, checker, coupled)
            if invariant_id in PAYER_CLAIMS and not coupled.applies and checker.payer_allowed:
                return _payer(policy, invariant, bounds, checker, coupled)
            if invariant_id == FLAT and gen_b_payer.inducts(policy, bounds):
                return _gen_b_flat(policy, bounds, checker, coupled)
            if invariant_id != FLAT or coupled.applies:
                raise
            try:
                lemmas = flat_trader_argument(policy, invariant, bounds, checker.valid, checker.fail)
            except _Failed as failed:
                if str(failed) == str(coupled):
                    raise
                raise _Failed(f"{coupled}; and for flat traders: {failed}", failed.applies) from None
            checker.flat = True
            return lemmas

    return argument


def _haircut(policy: Policy, bounds: Bounds, checker: _Checker, coupled: _Failed) -> list[str]:
    """Where the haircut ratio is the one layer charging traders, principal-protected by the turn's
    lemma and the step's facts (``solver.haircut_claims``). Its failure says both reasons."""
    try:
        lemmas = haircut_claims.argument(policy, bounds, checker.valid, checker.fail)
    except _Failed as failed:
        raise _Failed(f"{coupled}; and the haircut's side: {failed}", failed.applies) from None
    checker.haircut = True
    return lemmas


def _gen_b_bound(policy: Policy, bounds: Bounds, checker: _Checker, coupled: _Failed, claim: str) -> list[str]:
    """On percolator Gen B, the payer's claims by the payer's bound kept turn by turn
    (``solver.gen_b_payer``). Its failure says both reasons."""

    try:
        lemmas = gen_b_payer.argument(policy, bounds, checker.valid, checker.fail, checker.said, claim)
    except _Failed as failed:
        raise _Failed(f"{coupled}; and Gen B's payer bound: {failed}", failed.applies) from None
    checker.gen_b = True
    return lemmas


def _gen_b_flat(policy: Policy, bounds: Bounds, checker: _Checker, coupled: _Failed) -> list[str]:
    """On percolator Gen B at K > 1, flat-accounts-never-pay over the moves (``solver.gen_b_flat``): the
    flat lemma from flat traders worth at least zero, that premise from each move's start (the question's,
    then the premise over moves), and every trader at or above 0 after each move by the payer's induction
    (``gen_b_payer``'s no-negative-equity over moves). Its failure says both reasons."""

    exact = functools.partial(checker.valid, exact=True)
    try:
        lemmas = gen_b_payer.argument(policy, bounds, checker.valid, checker.fail, checker.said, "no-negative-equity")
        lemmas += gen_b_flat.flat_lemma(policy, exact, checker.fail)
        for margin in (StartMargin(bounds.start_margin), StartMargin(gen_b_payer.MOVES_PREMISE)):
            lemmas += gen_b_flat.start_lemma(policy, exact, margin)
    except _Failed as failed:
        raise _Failed(f"{coupled}; and Gen B's flat traders over moves: {failed}", failed.applies) from None
    checker.gen_b_flat = True
    return lemmas


def _junior_cover(policy: Policy, bounds: Bounds, checker: _Checker, coupled: _Failed) -> list[str]:
    """Where Gen A's haircut ratio is the one layer charging traders, the payer's claims by the sweep's
    junior cover (``solver.haircut_payer``). Its failure says both reasons."""

    try:
        exact = functools.partial(checker.valid, exact=True)
        lemmas = haircut_payer.argument(policy, bounds, exact, checker.fail, checker.said)
    except _Failed as failed:
        raise _Failed(f"{coupled}; and the sweep's junior cover: {failed}", failed.applies) from None
    checker.junior = True
    return lemmas


def _cascade(policy: Policy, bounds: Bounds, checker: _Checker, coupled: _Failed) -> list[str]:
    """Where a socialized loss per lot with a cascade couples the traders, the cascade's invariant
    (``solver.cascade_invariant``). Its failure says both reasons."""
    try:
        lemmas = cascade_invariant.argument(policy, bounds, checker.valid, checker.fail)
    except _Failed as failed:
        raise _Failed(f"{coupled}; and the cascade's invariant: {failed}", failed.applies) from None
    checker.cascade = True
    return lemmas


def _payer(policy: Policy, invariant: Invariant, bounds: Bounds, checker: _Checker, coupled: _Failed) -> list[str]:
    """Where a turn moves another trader's account, the payer's argument (``solver.payer_lemma``):
    ADL's winners pay at most what they gained. Its failure says both reasons."""
    try:
        exact = functools.partial(checker.valid, exact=True)
        if checker.left <= 0:
            raise _Failed("not asked: the argument's effort was spent by the lemmas before it")
        # what the lemmas before it left (its share lemmas are asked first, within that)
        left = attrs.evolve(bounds, effort=checker.left)
        if start_mark.fits(policy, bounds):  # the same on a premise read against the first mark (Bybit)
            opened = functools.partial(_open_interest, policy, checker=checker)
            lemmas = start_mark.argument(policy, invariant, left, exact, checker.fail, opened)
            checker.induction = True
        elif induction.fits(policy, bounds):  # K mark moves: by induction on a premise each move keeps
            opened = functools.partial(_open_interest, policy, checker=checker)
            lemmas = induction.argument(policy, invariant, left, exact, checker.fail, checker.queries.append, opened)
            checker.induction = True
        elif payer_previous.induction_fits(policy, bounds):  # the same at the previous mark (Hyperliquid)
            opened = functools.partial(_open_interest, policy, checker=checker)
            lemmas = payer_previous.induction_argument(
                policy, invariant, left, exact, checker.fail, checker.queries.append, opened
            )
            checker.induction = True
        elif payer_previous.fits(policy):  # ADL at the previous mark, a vault holding what it takes over
            lemmas = payer_previous.argument(policy, invariant, left, exact, checker.fail, checker.queries.append)
        else:
            lemmas = payer_argument(policy, invariant, left, exact, checker.fail, checker.queries.append)
    except _Failed as failed:
        raise _Failed(f"{coupled}; and the payer's side: {failed}", failed.applies) from None
    checker.payer = True
    return lemmas


#: the part of a K-event question (K > 1) the per-liquidation argument gets (a quarter at K = 1)
LIQUIDATION_SHARE_AT_K = 8


def _each_liquidation(invariant_id: str) -> Callable[[Policy, Bounds, _Checker], list[str]]:
    """The per-liquidation argument with a quarter of the question's effort (as the small-scope
    passes share a quarter; within what the argument has left), its queries counted in the
    question's: its contract
    runs from any trader state and costs 1.5K-6.4M units at N = 2 (mango-v4 6.1M, drift 6.4M), so
    inside ``solvent check`` it decides where it is cheap and stays bounded, saying so, elsewhere.
    At K > 1 it gets an eighth: the K-event question it is asked beside costs more than a one-event
    one, and where the lemma is not cheap (1.5K-72K units where it is) an eighth more for that
    question decides more than a quarter for the lemma (docs/solver-notes.md#the-one-event-book-first-issue-18)."""

    def argument(policy: Policy, bounds: Bounds, checker: _Checker) -> list[str]:
        share = LIQUIDATION_SHARE_AT_K if bounds.events > 1 else 4
        quarter = _Checker(bounds, min(bounds.effort // share, checker.left))
        try:
            return each_liquidation_argument(policy, catalog.get(invariant_id), bounds, quarter.valid, quarter.fail)
        finally:
            checker.queries += quarter.queries

    return argument


def _adl_claim(invariant_id: str) -> Callable[[Policy, Bounds, _Checker], list[str]]:
    """ADL's two claims by lemmas on one call (``solver.adl_claims``)."""

    def argument(policy: Policy, bounds: Bounds, checker: _Checker) -> list[str]:
        return adl_claims.argument(policy, catalog.get(invariant_id), bounds, checker.valid, checker.fail)

    return argument


def _deficit_once(policy: Policy, bounds: Bounds, checker: _Checker) -> list[str]:
    """``deficit-charged-once`` by lemmas on one resolution (``solver.deficit_once``). At the previous
    mark (Hyperliquid) over K > 1 moves, also the induction's lemmas on the premise the sweep's
    invariant rests on (``payer_previous.premise_lemmas``): it then holds at every move."""
    if haircut_once.not_covered(policy, bounds) is None:  # percolator Gen A (solver.haircut_once)
        return haircut_once.argument(policy, bounds, checker.valid, checker.fail, checker.queries.append)
    lemmas = deficit_once.argument(policy, bounds, checker.valid, checker.fail)
    if sweep_invariant.applies(policy) and payer_previous.induction_fits(policy, bounds):
        exact = functools.partial(checker.valid, exact=True)
        opened = functools.partial(_open_interest, policy, checker=checker)
        invariant = catalog.get(deficit_once.CLAIM)
        lemmas += payer_previous.premise_lemmas(
            policy, invariant, bounds, exact, checker.fail, checker.queries.append, opened
        )
        checker.induction = True
    return lemmas


def _side_fund(policy: Policy, bounds: Bounds, checker: _Checker) -> list[str]:
    """percolator Gen B's ``insurance-fund-non-negative`` by its entries (``solver.side_fund``)."""
    return side_fund.argument(policy, bounds, checker.valid, checker.fail)


def _frame(invariant_id: str) -> Callable[[Policy, Bounds, _Checker], list[str]]:
    """What ``invariant_id`` reads, the step never writes (``solver.frame_claims``)."""

    def frame(policy: Policy, bounds: Bounds, checker: _Checker) -> list[str]:
        from solvent.solver import frame_claims

        lemmas = frame_claims.argument(policy, bounds, invariant_id, checker)
        checker.frame = True
        return lemmas

    return frame


def _waterfall_claim(policy: Policy, bounds: Bounds, checker: _Checker) -> list[str]:
    """waterfall-order by a lemma on one call (``solver.waterfall_claims``)."""
    return waterfall_claims.argument(policy, catalog.get(waterfall_claims.CLAIM), bounds, checker.valid, checker.fail)


ARGUMENTS: dict[str, Callable[[Policy, Bounds, _Checker], list[str]]] = {
    "conservation": _conservation,
    "open-interest-balance": _open_interest,
    "deposit-not-absorbed": _deposit_not_absorbed,
    **{invariant_id: _each_trader(invariant_id) for invariant_id in EACH_TRADER},
    **{invariant_id: _each_liquidation(invariant_id) for invariant_id in EACH_LIQUIDATION},
    **{invariant_id: _adl_claim(invariant_id) for invariant_id in adl_claims.ADL_CLAIMS},
    deficit_once.CLAIM: _deficit_once,
    waterfall_claims.CLAIM: _waterfall_claim,
}

__all__ = [
    "ARGUMENTS",
    "FRAMED",
    "LEMMA_TRADERS",
    "Attempt",
    "Extension",
    "abstracted",
    "attempt",
    "coefficients",
    "extend",
    "question_frames",
]

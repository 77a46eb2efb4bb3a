"""Seven claims on the socialized loss's cascade (Drift, Mango v4), and six on percolator Gen B, for every N: what
each reads, the step never writes.

At N = 8 the one-move question on Drift and Mango v4 builds more than 70,000 steps, so a claim with no
all-N argument cannot be asked there within 12M units (docs/solver-notes.md#every-preset-at-n--8-and-at-k--3-session-23).
Six of them read what a policy without an ADL layer, on one market and with no isolated position,
never writes (docs/solver-notes.md#the-adl-and-market-claims-and-the-fund-at-n--8-session-24):

- ``adl-price-fair`` and ``adl-ranking-respected`` read the ADL fills a step records (``AdlFill``; the
  price also the ``ADL`` transfers of each fill's winner, read only for a fill);
- ``spot-isolated`` reads every account's spot balance before and after the step (and each collateral
  asset's balance: none on these books);
- ``adl-in-deficit-market-only`` and ``market-fund-pays-own-market`` read the markets other than the
  event's, and ``isolated-loss-contained`` the book's isolated positions: none on these books.

**The frame** (:func:`argument`), on the engine's own functions, no solver: the step is the phases
before the turns, one liquidation turn per trader and the phases after the sweep (the decomposition
``per_account._decomposes`` checks on two traders, as the system holders' all-N argument does), and each
turn is its turn without the cascade followed by the cascade's loop, one iteration per trader it resolves
(``cascade_invariant.ASSUMES``). Each part is run symbolically, every number free: the phases before the
turns and after the sweep on two traders, the turn without the cascade and one iteration of the loop on
three (``cascade_holders.turn_run``, ``iteration_run``, the runs the holders' and the transfers' lemmas
are asked of). Where the claim reads ADL fills, no part records an ``AdlFill`` or writes an ``ADL``
transfer (none at all: not one under a guard); where it reads spot balances, no part writes an entry to
or from a spot balance and every account's spot balance after the part is the very term it was before.
So no step of any N records or writes them: the parts at N are the same code on more accounts (the
holders' assumption, said in the scope: :data:`ASSUMES`).

**Gen B's frame** (:func:`gen_b`; docs/solver-notes.md#gen-bs-adl-and-market-claims-and-spot-isolated-at-n--8-session-24):
Gen B's turns are not the cascade invariant's (its waterfall goes on after the per-lot charge, to the
haircut over matured profit, and each turn ends with the §7.3 write-off), so its parts are the ones
``gen_b_transfers`` splits a turn into, in the engine's order: the turn with the cascade left out, one
resolution of the cascade, the write-off (:data:`GEN_B_RUNS`), each run for every trader of a free book of
three (read off the run, no solver, no renaming), and the phases around the turns on two traders with
opening and closing each trader's own (``per_account._decomposes`` with ``each_own``: the warm-up release,
the losses re-based into capital). Its haircut and its write-off are parts read so: one that recorded an
ADL fill or wrote a spot balance would stop the argument and say which. The scope says
:data:`ASSUMES_GEN_B`. Gen B's fund is not asked here (``side_fund``, its own argument).

**The claim's reading** (:func:`reading`): the catalog's own predicate (one semantics) read on the
book of the question's N traders with the step's outputs withheld but for what the frame keeps: no ADL
fill, every spot balance the one before (:class:`_FrameView`; any other read of the step stops the
argument). Which accounts the step liquidated (or exchanged a loan of) is offered as one record per account under
a free guard, of which the predicate may read only the guard and the account (``spot-isolated`` reads
it for the collateral a liquidation may sell: with no collateral asset it checks nothing with it); any
other outcome kind is withheld. The
predicate must come out true for every value: then the claim cannot fail on such a step, and the verdict
says so, "trivially" (as the bounded question at N ≤ 4 said after its build: its goal simplified to
false). For the three claims that read the book's shape alone (one market, no isolated position) no
part need be run: the predicate is true before it reads anything of the step.

**The fund** (``insurance-fund-non-negative``): the insurance fund is one of the system holders, which
``claims_backed.holders_every_n`` proves at or above zero after one mark move for every N on this route
(each turn's and each iteration's lemma the engine's own run on three traders, z3 exact: the pools pay
at most what they hold above their floors, ``insurance_fund.pay_from``); the catalog's fund predicate
follows from the holders' on every book of N traders (z3, exact, the after-book free). Not trivial.

Only where :func:`fits`: the claim is one of these, the question on the transfers' all-N route
(``claims_backed.transfers_route``: one mark move, N > 2, no collateral asset or isolated position)
by the socialized loss's cascade (``claims_backed._by_cascade``) or, for the six claims the frame reads and not
the fund, on Gen B's waterfall (``claims_backed._by_gen_b``: its own decomposition, above), one market, no ADL
layer and no pool holding positions; and for
``spot-isolated`` no spot collateral (Drift's trigger and bankruptcy count spot deposits: its engine
writes them, and the bounded question refutes the claim, which Drift accepts). Elsewhere nothing is
asked and every other preset's question is as before, to the unit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs
import z3

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules.engine import after_sweep, closing, liquidation_turn
from solvent.rules.ledger import SPOT, Ctx, Guarded, Reason
from solvent.rules.liquidation import pools_holding
from solvent.rules.outcomes import AdlFill, Liquidated, LoanExchanged
from solvent.rules.policy import Policy
from solvent.solver import cascade_holders, claims_backed, gen_b_transfers
from solvent.solver.bounds import Bounds
from solvent.solver.compositional import _Checker, _Failed
from solvent.solver.per_account import _decomposes, _one_event_frame, _same, _settled
from solvent.solver.story import slots, symbolic_book

#: the claims whose reading the frame covers, and what each reads of a step
FILLS, SPOT_BALANCES, SHAPE = "ADL fills", "spot balances", "the book's shape"
READS: dict[str, str] = {
    "adl-price-fair": FILLS,
    "adl-ranking-respected": FILLS,
    "spot-isolated": SPOT_BALANCES,
    "adl-in-deficit-market-only": SHAPE,
    "market-fund-pays-own-market": SHAPE,
    "isolated-loss-contained": SHAPE,
}
#: the claim that follows from the system holders' all-N argument
FUND = "insurance-fund-non-negative"
#: the frame's assumption, said in the verdict's scope
ASSUMES = (
    "the phases around the turns record and write as on two traders, and each turn as its turn without the "
    "cascade and the cascade loop's iterations on three traders (the cascade invariant's decomposition): a part "
    "that {what} on those books {none} at any N"
)
#: the frame's assumption on percolator Gen B (``gen_b_transfers``' decomposition), said in the verdict's scope
ASSUMES_GEN_B = (
    "the phases around the turns record and write as on two traders, and each turn as its turn with the cascade "
    "left out, the cascade's resolutions and its write-off on three traders (Gen B's decomposition, the engine's "
    "order): a part that {what} on those books {none} at any N"
)
#: what the frame says no part does, by what the claim reads: (as :data:`ASSUMES` says it, its "none")
UNWRITTEN = {
    "ADL fills": ("records no ADL fill (nor writes an ADL transfer)", "records none"),
    "spot balances": ("writes no spot balance", "writes none"),
}
#: why a claim reading only the book's shape cannot fail on these books
SHAPE_SAID = {
    "adl-in-deficit-market-only": "the book has one market, and the claim speaks of the others",
    "market-fund-pays-own-market": "the book has one market, and the claim speaks of the other markets' funds",
    "isolated-loss-contained": "the book holds no isolated position, and the claim speaks of those",
}


def fits(policy: Policy, invariant_id: str, bounds: Bounds) -> bool:
    """Whether :func:`argument` is asked for ``invariant_id`` (no units spent to tell; see the module
    docstring)."""
    if invariant_id not in READS and invariant_id != FUND:
        return False
    if not claims_backed.transfers_route(policy, bounds) or bounds.markets != 1:
        return False
    if not claims_backed._by_cascade(policy, bounds) and not (gen_b(policy, bounds) and invariant_id != FUND):
        return False  # Gen B: its own decomposition for the frame's claims; its fund has an argument of its own
    if policy.adl is not None or pools_holding(policy.liquidation):
        return False
    return not (READS.get(invariant_id) == SPOT_BALANCES and policy.margin.spot_collateral)


def gen_b(policy: Policy, bounds: Bounds) -> bool:
    """Whether the step's parts are Gen B's (``claims_backed._by_gen_b``: its turn with the cascade left out,
    the cascade's resolutions, its write-off; ``gen_b_transfers``), not the cascade invariant's."""
    return claims_backed._by_gen_b(policy, bounds)


def trivial(invariant_id: str) -> bool:
    """Whether the claim's verdict by this argument is trivially true (it cannot fail on these books)."""
    return invariant_id in READS


def method(invariant_id: str, policy: Policy | None = None, bounds: Bounds | None = None) -> str:
    """The verdict's method line (``policy`` and ``bounds``: which decomposition, :func:`gen_b`)."""
    if invariant_id == FUND:
        return (
            "compositional, all N, one mark move: the insurance fund is one of the system holders, at or above zero "
            "after the move for every N by induction over the sweep's turns (each turn's and each cascade "
            "iteration's lemma the engine's own run on three traders, z3 exact: a pool pays at most what it holds "
            "above its floor); the fund's predicate follows from the holders' on every book of N traders (z3, exact)"
        )
    if READS[invariant_id] == SHAPE:
        return (
            f"compositional, all N, one mark move: nothing to check: {SHAPE_SAID[invariant_id]} (the claim's "
            "predicate read on the book of N traders with every output of the step withheld: true)"
        )
    what = UNWRITTEN[READS[invariant_id]][0]
    by_gen_b = policy is not None and bounds is not None and gen_b(policy, bounds)
    parts = (
        "its turn with the cascade left out, one resolution of the cascade and its write-off on three"
        if by_gen_b
        else "its turn without the cascade and one iteration of the cascade's loop on three"
    )
    return (
        f"compositional, all N, one mark move: nothing to check: the policy has no ADL layer, one market and no "
        f"isolated position, and each part of its step {what} (the engine's own phases before the turns and after "
        f"the sweep on two traders, {parts}, every number free); the claim's predicate read on the book of N traders "
        f"with the step's outputs withheld but for that frame: true; assumes {assumes_frame(invariant_id, by_gen_b)}"
    )


def assumes_frame(invariant_id: str, by_gen_b: bool = False) -> str:
    """:data:`ASSUMES` (``by_gen_b``: :data:`ASSUMES_GEN_B`) said of what ``invariant_id`` reads."""
    what, none = UNWRITTEN[READS[invariant_id]]
    return (ASSUMES_GEN_B if by_gen_b else ASSUMES).format(what=what, none=none)


def assumes(policy: Policy, bounds: Bounds, invariant_id: str) -> str:
    """What the all-N verdict assumes (``Scope.assumes``)."""
    if invariant_id == FUND:
        return claims_backed.every_n_assumes(policy, bounds)
    return "" if READS[invariant_id] == SHAPE else assumes_frame(invariant_id, gen_b(policy, bounds))


def argument(policy: Policy, bounds: Bounds, invariant_id: str, checker: _Checker) -> list[str]:
    """The lemmas (each said; z3 queries through ``checker``); :class:`_Failed` where one does not hold."""

    def fail(why: str) -> None:
        raise _Failed(why)

    if invariant_id == FUND:
        return [*claims_backed.holders_every_n(policy, bounds, checker), _fund_follows(policy, bounds, checker)]
    reads = READS[invariant_id]
    lemmas = [] if reads == SHAPE else _frame(policy, bounds, invariant_id, reads, fail)
    return [*lemmas, reading(policy, bounds, invariant_id, reads, fail)]


def _frame(policy: Policy, bounds: Bounds, invariant_id: str, reads: str, fail: Callable[[str], None]) -> list[str]:
    """The parts of the step, each run on the engine's own functions, write nothing ``reads`` names."""
    invariant = catalog.get(invariant_id)
    _small, book, slot = _one_event_frame(invariant, attrs.evolve(bounds, events=1), fail, "frame")
    by_gen_b = gen_b(policy, bounds)
    lemmas = []
    for variant in slot.variants:
        # Gen B's opening and closing change each trader from its own account (its warm-up release, its losses
        # re-based into capital): each part is checked below on the run that includes them (gen_b_transfers)
        lemmas.append(_decomposes(policy, book, variant.label, variant.event, fail, each_own=by_gen_b))
        ctx = _settled(policy, book, variant.event)
        unwritten(f"before the turns ({variant.label})", reads, book, ctx, fail)
        turned = ctx
        for trader in book.traders:
            turned = liquidation_turn(policy, turned, trader.name)
        swept, since = turned.book, (len(turned.entries), len(turned.outcomes))
        after = closing(policy, after_sweep(policy, turned))
        unwritten(f"after the sweep ({variant.label})", reads, swept, after, fail, since)
        lemmas.append(
            f"the phases before the turns and after the sweep ({variant.label}, {len(book.traders)} traders, every "
            f"number free): each {UNWRITTEN[reads][0]}"
        )
    if by_gen_b:
        return [*lemmas, *_gen_b_runs(policy, reads, fail)]
    three, _ = symbolic_book(Bounds(accounts=cascade_holders.TRADERS, events=1))
    for label, run in (
        ("the turn without the cascade", cascade_holders.turn_run),
        ("one iteration of the cascade's loop", cascade_holders.iteration_run),
    ):
        unwritten(label, reads, three, run(policy, three), fail)
        lemmas.append(f"{label} ({cascade_holders.TRADERS} traders, every number free) {UNWRITTEN[reads][0]}")
    return lemmas


#: Gen B's three runs of a turn (``gen_b_transfers.RUNS``' runs, the engine's order), as the frame says them
GEN_B_RUNS = (
    "{trader}'s turn with the cascade left out (its liquidation, its resolution down the fund, the side charge and "
    "the haircut, and its write-off)",
    "the cascade's resolution of {trader} (the first trader the engine's test finds sunk)",
    "{trader}'s write-off (§7.3: flat and below zero, not resolved before)",
)


def _gen_b_runs(policy: Policy, reads: str, fail: Callable[[str], None]) -> list[str]:
    """Gen B's turn as ``gen_b_transfers`` splits it, each run on the engine's own functions for every trader
    of a free book of three (no renaming: each run is read off, no solver): none writes what ``reads`` names.
    A haircut or write-off that did (an ``ADL`` transfer, a spot balance) stops the argument here."""
    three, _ = symbolic_book(Bounds(accounts=gen_b_transfers.TRADERS, events=1))
    lemmas = []
    for said, (_, run) in zip(GEN_B_RUNS, gen_b_transfers.RUNS, strict=True):
        for trader in three.traders:
            label = said.format(trader=trader.name)
            unwritten(label, reads, three, run(policy, three, trader.name), fail)
            lemmas.append(f"{label} ({gen_b_transfers.TRADERS} traders, every number free) {UNWRITTEN[reads][0]}")
    return lemmas


def unwritten(
    label: str, reads: str, before: Any, ctx: Ctx, fail: Callable[[str], None], since: tuple[int, int] = (0, 0)
) -> None:
    """``ctx`` (run from ``before``; ``since``: only its entries and outcomes after these counts) records no ADL
    fill and writes no ``ADL`` transfer (``reads`` :data:`FILLS`), or writes no entry to or from a spot
    balance and leaves each account's spot balance the very term it was (:data:`SPOT_BALANCES`)."""
    entries, outcomes = ctx.entries[since[0] :], ctx.outcomes[since[1] :]
    if reads == FILLS:
        fill = next((g.item for g in outcomes if isinstance(g.item, AdlFill)), None)
        if fill is not None:
            fail(f"{label} records an ADL fill ({fill.winner} for {fill.bankrupt})")
        adl = next((g.item for g in entries if g.item.reason is Reason.ADL), None)
        if adl is not None:
            fail(f"{label} writes an ADL transfer ({adl.source} -> {adl.destination})")
        return
    spot = next((g.item for g in entries if g.item.source.endswith(SPOT) or g.item.destination.endswith(SPOT)), None)
    if spot is not None:
        fail(f"{label} writes a spot balance ({spot.source} -> {spot.destination})")
    for a in before.accounts:
        if not _same(a.spot_quote, ctx.book.account(a.name).spot_quote):
            fail(f"{label} changes {a.name}'s spot balance")


def reading(policy: Policy, bounds: Bounds, invariant_id: str, reads: str, fail: Callable[[str], None]) -> str:
    """The catalog's predicate on the book of N traders, the step's outputs withheld but for the frame:
    true for every value (z3 simplifies its negation to false), reading nothing else."""
    shape = attrs.evolve(bounds, events=1)
    book, _ = symbolic_book(shape)
    [slot] = slots(book, shape)
    invariant = catalog.get(invariant_id)
    for variant in slot.variants:
        view = _FrameView(policy, book, variant.event, reads, fail)
        holds = invariant.holds(view)
        if not (holds is True or (isinstance(holds, z3.BoolRef) and z3.is_true(z3.simplify(holds)))):
            fail(
                f"{invariant_id}: read on the frame ({variant.label}, N = {bounds.accounts}) it is not true for every value"
            )
    kept = {FILLS: "no ADL fill", SPOT_BALANCES: "every spot balance the one before", SHAPE: "nothing"}[reads]
    return (
        f"{invariant_id}'s predicate on the book of {bounds.accounts} traders, the step's outputs withheld but "
        f"{kept}: true for every value"
    )


class _Withheld:
    """A part of the step the frame does not keep: any read of it stops the argument."""

    def __init__(self, what: str, fail: Callable[[str], None]) -> None:
        self._what, self._fail = what, fail

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        self._fail(f"the claim reads {self._what}.{name}, which the frame does not keep")

    def __iter__(self) -> Iterator[Any]:
        self._fail(f"the claim reads {self._what}, which the frame does not keep")
        return iter(())


class _Kept:
    """An account after the step as the frame knows it: its name, role and owner (the book's shape),
    and its spot balance the one before where the frame keeps it; nothing else."""

    def __init__(self, account: Any, spot: bool, fail: Callable[[str], None]) -> None:
        self._account, self._spot, self._fail = account, spot, fail

    def __getattr__(self, name: str) -> Any:
        if name in ("name", "role", "owner", "is_trader") or (name == "spot_quote" and self._spot):
            return getattr(self._account, name)
        if name.startswith("_"):
            raise AttributeError(name)
        self._fail(f"the claim reads {self._account.name}.{name} after the step, which the frame does not keep")


class _KeptBook:
    """The book after the step as the frame knows it (its accounts :class:`_Kept`, its assets the shape's)."""

    def __init__(self, before: Any, spot: bool, fail: Callable[[str], None]) -> None:
        self._before, self._fail = before, fail
        self.accounts = tuple(_Kept(a, spot, fail) for a in before.accounts)
        self.assets = before.assets

    def account(self, name: str) -> _Kept:
        return next(a for a in self.accounts if a.name == name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        self._fail(f"the claim reads the book after the step ({name}), which the frame does not keep")


#: the outcome kinds the frame offers as free records (:meth:`_FrameView.outcomes_of`): which accounts a
#: step liquidated or exchanged a loan of, read by spot-isolated for the collateral they may sell
FREE_KINDS = (Liquidated, LoanExchanged)


@attrs.frozen
class _Free:
    """A record of a kind the frame does not speak of: only its account may be read."""

    account: str


class _FrameView:
    """What a claim sees of a step on the frame: the book before, the event, and of the step's outputs
    only what the frame keeps (:data:`READS`); the view's helpers are :class:`StepView`'s own."""

    outflow = StepView.outflow
    inflow = StepView.inflow
    went_bankrupt = StepView.went_bankrupt

    def __init__(self, policy: Policy, before: Any, event: Any, reads: str, fail: Callable[[str], None]) -> None:
        self.policy, self.before, self.event, self._reads, self._fail = policy, before, event, reads, fail
        self.after = _KeptBook(before, reads == SPOT_BALANCES, fail)
        self.transfers = _Withheld("the step's transfers", fail)
        self.outcomes = _Withheld("the step's outcomes", fail)

    def outcomes_of(self, kind: type) -> Iterator[Guarded]:
        if kind is AdlFill and self._reads == FILLS:
            return iter(())  # the frame: no part records one
        if kind not in FREE_KINDS:
            self._fail(f"the claim reads the step's {kind.__name__} outcomes, which the frame does not keep")
        # which traders were liquidated (or had a loan exchanged): one record per account under a free
        # guard, only its account readable (spot-isolated's collateral check, which has no asset here)
        return iter(
            tuple(Guarded(z3.Bool(f"frame.{kind.__name__}.{a.name}"), _Free(a.name)) for a in self.before.accounts)
        )

    def deferred(self, name: str) -> Any:
        return z3.Bool(f"frame.deferred.{name}")


def _fund_follows(policy: Policy, bounds: Bounds, checker: _Checker) -> str:
    """The catalog's fund predicate follows from the system holders' on every book of N traders
    (the after-book free; both read only the book after the step)."""
    book, _ = symbolic_book(attrs.evolve(bounds, events=1))

    def fail(why: str) -> None:
        raise _Failed(why)

    unread = _Withheld("the step beyond the book after it", fail)
    view = StepView(policy, unread, unread, book, unread, ())  # type: ignore[arg-type]
    system = claims_backed.SYSTEM.holds(view)
    fund = catalog.get(FUND).holds(view)
    as_z3 = [z3.BoolVal(x) if type(x) is bool else x for x in (system, fund)]
    return checker.valid(
        f"{FUND} follows from the system holders at or above zero (every book of {bounds.accounts} traders)",
        [],
        z3.Implies(as_z3[0], as_z3[1]),
        exact=True,
    )


__all__ = [
    "ASSUMES",
    "ASSUMES_GEN_B",
    "GEN_B_RUNS",
    "FUND",
    "READS",
    "argument",
    "assumes",
    "assumes_frame",
    "fits",
    "gen_b",
    "method",
    "reading",
    "trivial",
    "unwritten",
]

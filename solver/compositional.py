"""Proofs for every number of accounts: per-account and per-transfer lemmas plus a linear aggregate.

A bounded proof covers books of up to N traders. For the two accounting invariants whose truth is
a sum of per-account or per-transfer contributions, this module extends a bounded PROVED to every
N (docs/solver-notes.md#compositional-proofs: per-account contracts, then an ITE-free aggregate):

``open-interest-balance`` (Σ size = 0 after every event), because
  - O1 (static, ``ast`` of ``solvent.rules``): ``size_lots`` is written only by
    ``positions.move_position``, which only ``positions.fill`` calls, once for each side;
  - O2 (z3, on ``positions.fill`` itself): a fill moves ``+lots`` to the buyer, ``−lots`` to the
    seller and leaves every other account's position unchanged;
  - aggregate: Σ size changes by Σ over fills of (+lots − lots) = 0, whatever N.

``conservation`` (Σ cash + spot = net deposits and the clearing account is empty), because with
Φ = Σ_all(cash + spot) − net deposits and C = the clearing balance, conservation is Φ = 0 ∧ C = 0:
  - C1 (static): ``cash_quote`` and ``spot_quote`` are written only by ``ledger._adjust``, which
    only ``Ctx.transfer`` calls;
  - C2 (z3, on ``Ctx.transfer``): a transfer changes Σ(cash + spot) by +amount from outside,
    −amount to outside, 0 otherwise, and touches no third account;
  - C3 (z3, on each event kind's ``transition``): net deposits change by exactly the external
    transfers, so Φ is unchanged;
  - C4 (symbolic run): only settlement and funding transfers name the clearing account;
  - C5 (z3, per account): on a mark move each account's net flow into clearing is ``−s·(M' − M)``;
    on funding ``1e6 × flow ≥ s·M·r`` (payers round up, receivers down) and the dust transfer
    empties clearing of a non-negative remainder;
  - aggregate (z3, ITE-free, over abstract sums): ``C' = C − (M' − M)·Σs`` with ``Σs = 0``, and
    ``1e6 × ΣF ≥ M·r·Σs = 0``, give C' = 0 for any N; with open-interest balance preserved (above)
    the argument repeats for every following event.

The lemmas are checked on the engine's own functions with a small symbolic book; they extend to
every N because the engine treats accounts uniformly (it loops over the book's accounts and looks
them up by name; C1 and O1 check that no other code writes balances or positions). That is the
one assumption of the argument beyond z3's, and the verdict states it. Other invariants keep the
bounded verdict.
"""

from __future__ import annotations

import ast
import inspect
import sys
import time
from collections.abc import Callable
from typing import Any

import attrs
import z3

import solvent.rules as rules_package
from solvent.properties.catalog import Invariant
from solvent.rules.arith import PPM, sum_
from solvent.rules.book import Book, Role
from solvent.rules.engine import transition
from solvent.rules.ledger import EXTERNAL, SPOT, Ctx, Reason
from solvent.rules.policy import Policy
from solvent.rules.positions import fill
from solvent.solver import effort
from solvent.solver.bounds import Bounds
from solvent.solver.linearize import Linearizer
from solvent.solver.story import slots, symbolic_book
from solvent.solver.verdicts import QueryStats

UNIFORMITY = "the engine treats accounts uniformly (loops over the book's accounts, looks them up by name)"
CLEARING_REASONS = frozenset({Reason.SETTLEMENT, Reason.FUNDING, Reason.FUNDING_DUST})
SETTLING = frozenset({Reason.SETTLEMENT, Reason.FUNDING})


@attrs.frozen
class Extension:
    """A compositional argument that held: its method line, lemma claims and solver queries."""

    method: str
    lemmas: tuple[str, ...]
    queries: tuple[QueryStats, ...]


class _Failed(Exception):
    """A lemma did not hold or was not decided: the verdict stays bounded."""


def extend(policy: Policy, invariant: Invariant, bounds: Bounds) -> Extension | None:
    """The all-N extension of a bounded PROVED for ``invariant``, or None when none is available."""
    argument = ARGUMENTS.get(invariant.id)
    if argument is None:
        return None
    checker = _Checker(bounds)
    try:
        lemmas = argument(policy, bounds, checker)
    except _Failed:
        return None
    method = f"compositional, all N: per-account and per-transfer lemmas on the engine's own functions plus a linear aggregate; assumes {UNIFORMITY}"
    return Extension(method, tuple(lemmas), tuple(checker.queries))


# --- checking lemmas -------------------------------------------------------------------------


class _Checker:
    """Runs each lemma's query (purified, within the bounds' effort) and records it."""

    def __init__(self, bounds: Bounds) -> None:
        self.bounds = bounds
        self.queries: list[QueryStats] = []

    def answer(self, name: str, claim: Any) -> str:
        """z3's answer to the negation of ``claim`` as it stands (no purification): "unsat" when
        it is valid, "sat" or "unknown" otherwise; recorded, never raises."""
        solver = z3.Solver()
        solver.add(z3.Not(claim))
        started = time.perf_counter()
        solved = effort.solve(solver, self.bounds.effort, self.bounds.safety_net)
        self.queries.append(QueryStats(name, solved.result, time.perf_counter() - started, units=solved.units))
        return solved.result

    def valid(self, name: str, assumptions: list[Any], claim: Any) -> str:
        """``assumptions → claim`` for every value: unsat of the negation, else :class:`_Failed`."""
        started = time.perf_counter()
        if claim is True:
            self.queries.append(QueryStats(name, "trivial", 0.0))
            return name
        lin = Linearizer(prefix="lemma")
        terms = lin.rewrite([z3.BoolVal(a) if type(a) is bool else a for a in assumptions] + [z3.Not(claim)])
        lin.finish()
        solver = z3.Solver()
        solver.add(*terms, *lin.facts)
        solved = effort.solve(solver, self.bounds.effort, self.bounds.safety_net)
        self.queries.append(QueryStats(name, solved.result, time.perf_counter() - started, units=solved.units))
        if solved.result != "unsat":
            raise _Failed(name)
        return name


_CONNECTIVES = frozenset(
    {z3.Z3_OP_AND, z3.Z3_OP_OR, z3.Z3_OP_NOT, z3.Z3_OP_TRUE, z3.Z3_OP_FALSE, z3.Z3_OP_IMPLIES, z3.Z3_OP_XOR}
)
_LINEAR = frozenset({z3.Z3_OP_ADD, z3.Z3_OP_SUB, z3.Z3_OP_UMINUS})


def abstracted(terms: list[Any]) -> list[Any]:
    """Integer ``terms`` with every arithmetic comparison inside them replaced by a fresh Boolean
    and every product, quotient or remainder of variables by a fresh integer (the same subterm,
    the same variable, across all the terms).

    What is kept is the Boolean structure of the ``if``s and the linear sums. A claim about the
    abstracted terms that is valid is valid for the terms themselves (it holds for every value of
    the abstracted atoms, the real ones included); the converse fails, so a counterexample to it
    proves nothing and the exact claim is asked next.
    """
    memo: dict[int, tuple[Any, Any]] = {}  # id -> (the term, kept alive so its id is not reused; its image)
    count = 0

    def fresh(boolean: bool) -> Any:
        nonlocal count
        count += 1
        return z3.Bool(f"abs.b{count}") if boolean else z3.Int(f"abs.i{count}")

    def go(e: Any) -> Any:
        key = e.get_id()
        if key in memo:
            return memo[key][1]
        if z3.is_const(e) or z3.is_int_value(e):
            out = e
        else:
            op = e.decl().kind()
            args = e.children()
            if op == z3.Z3_OP_ITE:
                out = z3.If(go(args[0]), go(args[1]), go(args[2]))
            elif z3.is_bool(e):
                out = e.decl()(*[go(a) for a in args]) if op in _CONNECTIVES else fresh(True)
            elif op in _LINEAR:
                parts = [go(a) for a in args]
                out = z3.Sum(*parts) if op == z3.Z3_OP_ADD else e.decl()(*parts)
            elif op == z3.Z3_OP_MUL and sum(not z3.is_int_value(a) for a in args) <= 1:
                out = e.decl()(*[go(a) for a in args])
            else:
                out = fresh(False)
        memo[key] = (e, out)
        return out

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 200_000))
    try:
        return [go(z3.simplify(t)) for t in terms]
    finally:
        sys.setrecursionlimit(limit)


# --- static checks ---------------------------------------------------------------------------


def writers(field: str) -> set[str]:
    """``module.function`` of every function in ``solvent.rules`` that may write ``field``: it
    passes it as a keyword argument (``attrs.evolve(a, field=...)``) or names it in a string
    (a computed ``**{name: ...}`` update). Found with ``ast``; attribute reads do not count."""
    out: set[str] = set()
    for info in _modules():
        tree = ast.parse(inspect.getsource(info))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef):
                continue
            for node in ast.walk(fn):
                if (isinstance(node, ast.keyword) and node.arg == field) or (
                    isinstance(node, ast.Constant) and node.value == field
                ):
                    out.add(f"{info.__name__.rsplit('.', 1)[-1]}.{fn.name}")
    return out


def _modules() -> list[Any]:
    import importlib
    import pkgutil

    return [importlib.import_module(f"solvent.rules.{m.name}") for m in pkgutil.iter_modules(rules_package.__path__)]


def _static(name: str, field: str, allowed: set[str], checker: _Checker) -> str:
    found = writers(field)
    ok = found <= allowed
    checker.queries.append(QueryStats(name, "holds" if ok else f"written also in {sorted(found - allowed)}", 0.0))
    if not ok:
        raise _Failed(name)
    return name


# --- open interest ---------------------------------------------------------------------------


def _small_book(bounds: Bounds, traders: int = 2) -> Book:
    book, _ = symbolic_book(attrs.evolve(bounds, accounts=traders))
    return book


def _open_interest(policy: Policy, bounds: Bounds, checker: _Checker) -> list[str]:
    lemmas = [
        _static(
            "O1: size_lots is written only by positions.move_position",
            "size_lots",
            {"positions.move_position"},
            checker,
        )
    ]
    book = _small_book(bounds, traders=3)
    lots, price = z3.Ints("lemma.lots lemma.price")
    buyer, seller, other = (a.name for a in book.traders)
    after = fill(Ctx(book), buyer, seller, lots, price, Reason.TRADE_PRICE).book
    claim = z3.And(
        after.account(buyer).size_lots == book.account(buyer).size_lots + lots,
        after.account(seller).size_lots == book.account(seller).size_lots - lots,
        *[after.account(a.name).size_lots == a.size_lots for a in book.accounts if a.name not in (buyer, seller)],
    )
    lemmas.append(
        checker.valid("O2: a fill moves +lots to the buyer and -lots to the seller, nothing else", [lots >= 0], claim)
    )
    callers = _callers("move_position")
    ok = callers <= {"positions.fill"}
    checker.queries.append(
        QueryStats(
            "O1': move_position is called only by positions.fill", "holds" if ok else f"also by {sorted(callers)}", 0.0
        )
    )
    if not ok:
        raise _Failed("O1'")
    lemmas.append("O1': move_position is called only by positions.fill (once per side)")
    lemmas.append("aggregate: each fill changes Σ size by lots - lots = 0, for any N")
    return lemmas


def _callers(function: str) -> set[str]:
    out: set[str] = set()
    for info in _modules():
        tree = ast.parse(inspect.getsource(info))
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef):
                for node in ast.walk(fn):
                    if (
                        isinstance(node, ast.Call)
                        and getattr(node.func, "id", getattr(node.func, "attr", None)) == function
                    ):
                        out.add(f"{info.__name__.rsplit('.', 1)[-1]}.{fn.name}")
    return out


# --- conservation ----------------------------------------------------------------------------


def _owner(balance: str) -> str:
    """The account a balance name belongs to (``alice`` and ``alice.spot`` are both alice's)."""
    return balance.removesuffix(SPOT)


def _moved(ctx: Ctx, balance: str) -> Any:
    """What the guarded ledger entries put into ``balance`` minus what they took out of it."""
    into = sum_(z3.If(_b(e.guard), e.item.amount_quote, 0) for e in ctx.entries if e.item.destination == balance)
    out = sum_(z3.If(_b(e.guard), e.item.amount_quote, 0) for e in ctx.entries if e.item.source == balance)
    return into - out


def _frame_lemma(book: Book, variant: Any, ctx: Ctx, checker: _Checker) -> str:
    """F: the book after the event is the book before plus the guarded ledger entries, balance by
    balance, for every account (system accounts included), and no entry names a balance the book
    does not hold. Checked on the book the engine returns, not on what the ledger says: a record
    written back stale, a transfer applied to one side only, or money put where no entry says are
    all caught here."""
    name = f"F ({variant.label}): every balance after the event = before + its guarded ledger entries"
    if tuple(a.name for a in ctx.book.accounts) != tuple(a.name for a in book.accounts):
        checker.queries.append(QueryStats(name, "accounts added, removed or reordered", 0.0))
        raise _Failed(name)
    known = {a.name for a in book.accounts} | {a.name + SPOT for a in book.accounts} | {EXTERNAL}
    stray = sorted({n for e in ctx.entries for n in (e.item.source, e.item.destination)} - known)
    if stray:
        checker.queries.append(QueryStats(name, f"entries name unknown balances {stray}", 0.0))
        raise _Failed(name)
    gaps = [
        z3.simplify(getattr(ctx.book.account(a.name), field) - getattr(a, field) - _moved(ctx, a.name + suffix))
        for a in book.accounts
        for field, suffix in (("cash_quote", ""), ("spot_quote", SPOT))
    ]
    # most balances simplify to a zero gap; z3 is asked only about the rest, one balance at a time:
    # first with every comparison and product abstracted (a sound over-approximation: the frame
    # must hold whatever the branch conditions and products are), then, if that is not enough,
    # exactly
    open_gaps = [g for g in gaps if not (z3.is_int_value(g) and g.as_long() == 0)]
    for k, gap in enumerate(open_gaps):
        (rough,) = abstracted([gap])
        answer = checker.answer(f"{name} (balance {k + 1} of {len(open_gaps)}, conditions abstracted)", rough == 0)
        if answer == "unknown":
            raise _Failed(name)  # the exact question is larger still: not asked within this effort
        if answer == "sat":  # perhaps only because the conditions were abstracted: ask exactly
            checker.valid(f"{name} (balance {k + 1} of {len(open_gaps)})", [], gap == 0)
    checker.queries.append(QueryStats(name, f"holds ({len(gaps) - len(open_gaps)} balances simplify to it)", 0.0))
    return name


def _event_lemmas(policy: Policy, bounds: Bounds, checker: _Checker) -> list[str]:
    book = _small_book(bounds, traders=2)
    clearing = book.role(Role.CLEARING).name
    one = attrs.evolve(bounds, accounts=2, events=1)
    out = []
    for slot in slots(book, one):
        for variant in slot.variants:
            ctx = transition(policy, book, variant.event)
            out.append(_frame_lemma(book, variant, ctx, checker))
            external = sum_(
                z3.If(_b(e.guard), e.item.amount_quote, 0) * (1 if e.item.source == EXTERNAL else -1)
                for e in ctx.entries
                if EXTERNAL in (e.item.source, e.item.destination)
            )
            claim = ctx.book.net_deposits_quote - book.net_deposits_quote == external
            out.append(
                checker.valid(f"C3 ({variant.label}): net deposits change by exactly the external transfers", [], claim)
            )
            out.append(_clearing_lemma(ctx, variant, clearing, checker))
            out += _flow_lemmas(book, variant, ctx, checker)
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
        if clearing in (_owner(e.item.source), _owner(e.item.destination))
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


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def _flow(ctx: Ctx, name: str, clearing: str, reasons: frozenset[Reason]) -> Any:
    """What ``name`` (any of its balances) paid into clearing minus what it received, for ``reasons``."""

    def paid(src: str, dst: str) -> Any:
        return sum_(
            z3.If(_b(e.guard), e.item.amount_quote, 0)
            for e in ctx.entries
            if _owner(e.item.source) == src and _owner(e.item.destination) == dst and e.item.reason in reasons
        )

    return paid(name, clearing) - paid(clearing, name)


def _flow_lemmas(book: Book, variant: Any, ctx: Ctx, checker: _Checker) -> list[str]:
    from solvent.rules.events import Funding, MarkPrice

    clearing = book.role(Role.CLEARING).name
    others = [a for a in book.accounts if a.role is not Role.CLEARING]
    event = variant.event
    if isinstance(event, MarkPrice):
        move = event.price_quote - book.market.mark_quote
        claim = z3.And(*[_flow(ctx, a.name, clearing, SETTLING) == -(a.size_lots * move) for a in others])
        return [checker.valid("C5 (mark): each account's net flow into clearing is -s × (M' - M)", [], claim)]
    if isinstance(event, Funding):
        mark, rate = book.market.mark_quote, event.rate_ppm
        flows = [_flow(ctx, a.name, clearing, SETTLING) for a in others]
        per_account = [PPM * f >= a.size_lots * mark * rate for f, a in zip(flows, others, strict=True)]
        dust = sum_(
            z3.If(_b(e.guard), e.item.amount_quote, 0) for e in ctx.entries if e.item.reason is Reason.FUNDING_DUST
        )
        before_dust = book.role(Role.CLEARING).cash_quote + sum_(flows)
        claim = z3.And(*per_account, dust == z3.If(before_dust >= 0, before_dust, 0))
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


ARGUMENTS: dict[str, Callable[[Policy, Bounds, _Checker], list[str]]] = {
    "conservation": _conservation,
    "open-interest-balance": _open_interest,
}

__all__ = ["ARGUMENTS", "Extension", "extend", "writers"]

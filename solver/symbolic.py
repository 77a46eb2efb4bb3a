"""Run the engine on z3 terms, and read its symbolic results back as concrete values.

The engine is not re-modelled here: :func:`symbolic_transition` calls
``solvent.rules.engine.transition``, the same function the concrete ``step`` runs. This module only
(a) lifts a concrete book or event into z3 (constants, or fresh variables for proofs), and
(b) evaluates a symbolic :class:`~solvent.rules.ledger.Ctx` back into plain Python values, either
under a z3 model or by ``z3.simplify`` when every input was a constant.

Data fields are the attrs fields the rules mark as data in their metadata
(``solvent.rules.fields.data``; an ``int`` on the concrete engine, a term on the symbolic one):
balances, sizes, prices, amounts. Every other field is structural and stays concrete, whatever
its annotation: ``Book.clock`` (the engine branches on it in Python to open a clawback window),
``Market.tick_quote`` (a venue constant, like the policy), names, roles and enums.

Reading back mirrors the concrete engine exactly: a guarded transfer is kept only when its guard
is true and its amount is nonzero (``Ctx.transfer`` drops concrete zero transfers), a guarded
outcome only when its guard is true (the concrete engine records only the branch it took), in the
order they were recorded.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import z3

from solvent.rules.book import Book
from solvent.rules.engine import Requirement, post_requirements, requirements, transition
from solvent.rules.fields import data_fields
from solvent.rules.ledger import Ctx, Guarded, InternalError, Transfer, asset_balance
from solvent.rules.market_funds import MARKET_FUND
from solvent.rules.policy import Policy
from solvent.solver import fast_terms
from solvent.solver.z3_backend import as_bool_term, as_int_term, is_z3

Evaluator = Callable[[z3.ExprRef], z3.ExprRef]


# --- lifting concrete values into z3 --------------------------------------------------------


def _lifts(value: Any, terms: bool) -> bool:
    """Whether a data field's ``value`` is lifted: a Python int, or with ``terms`` an integer term too."""
    return type(value) is int or (terms and z3.is_int(value))


def _lift_record(record: Any, make: Callable[[str, int], z3.ArithRef], terms: bool = False) -> Any:
    """``record`` with every integer data field (``terms``: every integer term too) replaced by
    ``make(field_name, value)``."""
    changes = {}
    for name in data_fields(type(record)):
        value = getattr(record, name)
        if _lifts(value, terms):
            changes[name] = make(name, value)
    return attrs.evolve(record, **changes)


def _lift_book(book: Book, make: Callable[[str, str, int], z3.ArithRef], terms: bool = False) -> Book:
    """``book`` with every data field of the markets, the collateral assets (price and net
    deposits, owned by the asset's name), the accounts (their positions in further markets too,
    owned by ``<account>.<market>``, and their asset balances, ``<account>@<asset>.balance``) and
    the book itself lifted (``terms``: integer terms too, not only Python ints)."""
    market = _lift_record(book.market, lambda f, v: make(book.market.name, f, v), terms)
    accounts = tuple(_lift_account(a, book, make, terms) for a in book.accounts)
    more = tuple(_lift_record(m, lambda f, v, n=m.name: make(n, f, v), terms) for m in book.more_markets)
    lifted = attrs.evolve(book, market=market, accounts=accounts, more_markets=more)
    if book.assets:
        assets = tuple(_lift_record(a, lambda f, v, n=a.name: make(n, f, v), terms) for a in book.assets)
        lifted = attrs.evolve(lifted, assets=assets)
    if book.more_window_sums:  # each further market's fund's drawdown window, ``book#ETH.insurance_window_sum_quote``
        sums = tuple(
            make(f"book{MARKET_FUND}{m.name}", "insurance_window_sum_quote", v) if _lifts(v, terms) else v
            for v, m in zip(book.more_window_sums, book.more_markets, strict=True)
        )
        lifted = attrs.evolve(lifted, more_window_sums=sums)
    return _lift_record(lifted, lambda f, v: make("book", f, v), terms)


def _lift_account(account: Any, book: Book, make: Callable[[str, str, int], z3.ArithRef], terms: bool = False) -> Any:
    lifted = _lift_record(account, lambda f, v, n=account.name: make(n, f, v), terms)
    if account.asset_balances:
        balances = tuple(
            make(asset_balance(account.name, asset.name), "balance", v) if _lifts(v, terms) else v
            for v, asset in zip(account.asset_balances, book.assets, strict=True)
        )
        lifted = attrs.evolve(lifted, asset_balances=balances)
    if account.more_funds:  # the fund's balance in each further market, ``insurance_fund#ETH.cash_quote``
        funds = tuple(
            make(f"{account.name}{MARKET_FUND}{m.name}", "cash_quote", v) if _lifts(v, terms) else v
            for v, m in zip(account.more_funds, book.more_markets, strict=True)
        )
        lifted = attrs.evolve(lifted, more_funds=funds)
    if not account.more_positions:
        return lifted
    positions = tuple(
        _lift_record(p, lambda f, v, n=f"{account.name}.{m.name}": make(n, f, v), terms)
        for p, m in zip(account.more_positions, book.more_markets, strict=True)
    )
    return attrs.evolve(lifted, more_positions=positions)


def constant_book(book: Book) -> Book:
    """The same book with every data field a z3 ``IntVal`` of its value (structural fields kept)."""
    return _lift_book(book, lambda _owner, _field, value: z3.IntVal(value))


def constant_event(event: Any) -> Any:
    """The same event with every numeric field a z3 ``IntVal`` (names and the taker side kept)."""
    return _lift_record(event, lambda _field, value: z3.IntVal(value))


def variable_book(book: Book, prefix: str = "", terms: bool = False) -> tuple[Book, list[z3.ArithRef]]:
    """The book's shape with every data field a fresh ``z3.Int`` named ``<prefix><owner>.<field>``.

    The owner is the account name, the market name, or ``book`` for book-level totals. Returns the
    book and its variables in field order; the concrete values are discarded (use
    :func:`pin` to constrain the variables back to them). A field that already holds a z3 term (a
    symbolic run's book) keeps it unless ``terms``: then it too is a fresh variable.
    """
    made: list[z3.ArithRef] = []

    def make(owner: str, field: str, _value: int) -> z3.ArithRef:
        made.append(fast_terms.integer(z3.Int(f"{prefix}{owner}.{field}")))
        return made[-1]

    return _lift_book(book, make, terms), made


def variable_event(event: Any, prefix: str = "event.") -> tuple[Any, list[z3.ArithRef]]:
    """The event's shape with every numeric field a fresh ``z3.Int`` named ``<prefix><field>``."""
    made: list[z3.ArithRef] = []

    def make(field: str, _value: int) -> z3.ArithRef:
        made.append(fast_terms.integer(z3.Int(f"{prefix}{field}")))
        return made[-1]

    return _lift_record(event, make), made


def pin(symbolic: Any, concrete: Any) -> list[z3.BoolRef]:
    """Equalities ``var == value`` tying every z3 field of ``symbolic`` to the same field of ``concrete``."""
    out: list[z3.BoolRef] = []
    if is_z3(symbolic):
        if type(concrete) is not int:
            raise TypeError(f"cannot pin {symbolic} to a non-integer value {concrete!r}")
        out.append(symbolic == concrete)
    elif attrs.has(type(symbolic)):
        for field in attrs.fields(type(symbolic)):
            out += pin(getattr(symbolic, field.name), getattr(concrete, field.name))
    elif isinstance(symbolic, tuple):
        for s, c in zip(symbolic, concrete, strict=True):
            out += pin(s, c)
    return out


# --- running the engine -----------------------------------------------------------------------


def symbolic_transition(policy: Policy, book: Book, event: Any) -> Ctx:
    """``solvent.rules.engine.transition`` on a lifted book and event (the concrete engine's semantics)."""
    return transition(policy, book, event)


# --- reading results back ---------------------------------------------------------------------


class Undetermined(ValueError):
    """A term did not reduce to a constant: some input is free and no model was given."""


def simplifier() -> Evaluator:
    """Evaluate closed terms (every input a constant) with ``z3.simplify``."""
    return z3.simplify


def under_model(model: z3.ModelRef) -> Evaluator:
    """Evaluate terms in ``model``; variables the model leaves open take z3's default (0, False)."""
    return lambda term: model.eval(term, model_completion=True)


def evaluate(value: Any, evaluator: Evaluator) -> Any:
    """``value`` with every z3 term replaced by its Python ``int`` or ``bool``.

    Walks attrs records and tuples; strings, enums, ``None`` and Python numbers pass unchanged.
    Raises :class:`Undetermined` when a term does not reduce to a numeral or a Boolean constant.
    """
    if is_z3(value):
        return _numeral(evaluator(value), value)
    if attrs.has(type(value)):
        changes = {f.name: evaluate(getattr(value, f.name), evaluator) for f in attrs.fields(type(value))}
        return attrs.evolve(value, **changes)
    if isinstance(value, tuple):
        return tuple(evaluate(v, evaluator) for v in value)
    if isinstance(value, (int, str, enum.Enum)) or value is None:
        return value
    raise TypeError(f"cannot evaluate a value of type {type(value).__name__}: {value!r}")


def _numeral(result: z3.ExprRef, term: z3.ExprRef) -> int | bool:
    if z3.is_true(result):
        return True
    if z3.is_false(result):
        return False
    if z3.is_int_value(result):
        return result.as_long()
    raise Undetermined(f"term does not reduce to a constant: {term.sexpr()[:200]} -> {result.sexpr()[:200]}")


def holds(cond: Any, evaluator: Evaluator) -> bool:
    """Whether a (possibly symbolic) condition is true; a Python ``bool`` is returned as is."""
    result = evaluate(cond, evaluator)
    if type(result) is not bool:
        raise TypeError(f"a condition evaluated to a non-Boolean: {result!r}")
    return result


@attrs.frozen
class Evaluated:
    """A symbolic step read back: the book after, and the transfers and outcomes that happened."""

    after: Book
    transfers: tuple[Transfer, ...]
    outcomes: tuple[Any, ...]


def happened_transfers(entries: Iterable[Guarded], evaluator: Evaluator) -> tuple[Transfer, ...]:
    """Transfers whose guard is true and whose amount is nonzero, in ledger order.

    A true-guarded negative amount is what the concrete engine refuses with ``InternalError``;
    it is raised here too, so the two interpreters fail alike.
    """
    out = []
    for entry in entries:
        if not holds(entry.guard, evaluator):
            continue
        transfer = evaluate(entry.item, evaluator)
        if transfer.amount_quote < 0:
            raise InternalError(
                f"negative transfer {transfer.amount_quote} {transfer.source}->{transfer.destination} "
                f"({transfer.reason.value})"
            )
        if transfer.amount_quote != 0:
            out.append(transfer)
    return tuple(out)


def happened_outcomes(outcomes: Iterable[Guarded], evaluator: Evaluator) -> tuple[Any, ...]:
    """Outcomes whose guard is true, in the order they were noted."""
    return tuple(evaluate(o.item, evaluator) for o in outcomes if holds(o.guard, evaluator))


def evaluate_ctx(ctx: Ctx, evaluator: Evaluator) -> Evaluated:
    """The concrete step a symbolic ``Ctx`` denotes under ``evaluator`` (see :func:`simplifier`)."""
    if not holds(ctx.guard, evaluator):
        raise InternalError("a finished step's context is guarded by a false path condition")
    return Evaluated(
        after=evaluate(ctx.book, evaluator),
        transfers=happened_transfers(ctx.entries, evaluator),
        outcomes=happened_outcomes(ctx.outcomes, evaluator),
    )


def transfer_obligations(ctx: Ctx) -> list[z3.BoolRef]:
    """``guard → amount ≥ 0`` for every transfer that is not concrete.

    The concrete ``Ctx.transfer`` refuses a negative amount at run time (``InternalError``); on z3
    terms it cannot, so a proof must discharge these as obligations (a negative transfer reverses
    who pays whom while every total still balances).
    """
    out = []
    for entry in ctx.entries:
        amount = entry.item.amount_quote
        if is_z3(amount) or is_z3(entry.guard):
            out.append(z3.Implies(as_bool_term(entry.guard), as_int_term(amount) >= 0))
    return out


def evaluate_requirements(reqs: Iterable[Requirement], evaluator: Evaluator) -> tuple[Requirement, ...]:
    """The requirements with ``holds`` read back as a Python ``bool``; messages unchanged."""
    return tuple(Requirement(holds(r.holds, evaluator), r.message) for r in reqs)


def symbolic_requirements(policy: Policy, book: Book, event: Any) -> list[Requirement]:
    """``engine.requirements`` on a lifted book and event; ``holds`` may be a z3 Boolean."""
    return requirements(policy, book, event)


def symbolic_post_requirements(policy: Policy, before: Book, after: Book, event: Any) -> list[Requirement]:
    """``engine.post_requirements`` on lifted books; ``holds`` may be a z3 Boolean."""
    return post_requirements(policy, before, after, event)


def constant_step(policy: Policy, book: Book, event: Any) -> Evaluated:
    """One engine step run through z3 with every input a constant, read back by ``z3.simplify``."""
    ctx = symbolic_transition(policy, constant_book(book), constant_event(event))
    return evaluate_ctx(ctx, simplifier())


__all__ = [
    "Evaluated",
    "Undetermined",
    "constant_book",
    "constant_event",
    "constant_step",
    "data_fields",
    "evaluate",
    "evaluate_ctx",
    "evaluate_requirements",
    "happened_outcomes",
    "happened_transfers",
    "holds",
    "pin",
    "simplifier",
    "symbolic_post_requirements",
    "symbolic_requirements",
    "symbolic_transition",
    "transfer_obligations",
    "under_model",
    "variable_book",
    "variable_event",
]

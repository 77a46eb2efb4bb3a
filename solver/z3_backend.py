"""The z3 interpreter of the arithmetic interface in ``solvent.rules.arith``.

Registering :class:`Z3Backend` makes the engine's ``ite``, ``and_``, ``or_``, ``not_`` and ``div``
build z3 terms whenever a value is not a plain Python ``int`` or ``bool``. The engine's ``+ - *``
and comparisons work on z3 terms through z3's operator overloads; on the solver's variables and
what the engine computes from them they are :class:`solvent.solver.fast_terms.IntTerm`'s, which
make the node z3's operator makes through the C API (session 30).

Division: z3's integer ``/`` is Euclidean (the remainder is never negative). For a positive
divisor that is exactly Python's floor division, for every sign of the numerator (docs/design.md#integer-division-in-python-and-z3,
numeric-semantics cheat sheet). The engine only divides by a policy constant (ppm, tick) or by
``safe_divisor(...)``, which is positive on every path, so :meth:`Z3Backend.floor_div` models
``⌊n / d⌋`` on the domain ``d > 0`` and says nothing about ``d ≤ 0``.

Every operation is charged as one build step (``solvent.solver.effort``): the engine's symbolic
run is where a large question spends its build, and this is the one place the solver sees inside
it; a build that outgrows its question's effort stops at the same step on any machine.
"""

from __future__ import annotations

from typing import Any

import z3

from solvent.rules.arith import SymbolicBackend
from solvent.solver import effort, fast_terms
from solvent.solver.nodes import held

_mk_ite = z3.Z3_mk_ite
_held = held


def is_z3(value: Any) -> bool:
    """True for a z3 expression (a term the backend owns)."""
    return isinstance(value, z3.ExprRef)


def as_bool_term(value: Any) -> z3.BoolRef:
    """``value`` as a z3 Boolean; a Python ``bool`` becomes ``BoolVal``. Anything else is a type error."""
    if type(value) is bool:
        return z3.BoolVal(value)
    if is_z3(value) and z3.is_bool(value):
        return value
    raise TypeError(f"expected a Boolean (Python bool or z3 Bool), got {value!r}")


def as_int_term(value: Any) -> z3.ArithRef:
    """``value`` as a z3 Int; a Python ``int`` becomes ``IntVal``. Booleans and Reals are refused."""
    if type(value) is int:
        return z3.IntVal(value)
    if isinstance(value, z3.ArithRef) and fast_terms.of_int_sort(value):  # ``z3.is_int(value)``
        return value
    raise TypeError(f"expected an integer (Python int or z3 Int), got {value!r}")


def _is_boolish(value: Any) -> bool:
    return type(value) is bool or (is_z3(value) and z3.is_bool(value))


def _pair(then: Any, other: Any) -> tuple[z3.ExprRef, z3.ExprRef]:
    """Both branches of an ``ite`` as z3 terms of one sort (Bool with Bool, Int with Int)."""
    if _is_boolish(then) or _is_boolish(other):
        return as_bool_term(then), as_bool_term(other)
    return as_int_term(then), as_int_term(other)


class Z3Backend(SymbolicBackend):
    """z3 terms for the symbolic side of ``solvent.rules.arith``.

    Guarantees: every result is a z3 term of sort Bool (``and_``, ``or_``, ``not_``, Boolean
    ``ite``) or Int (``floor_div``, integer ``ite``); Python constants mixed with z3 terms are
    converted with ``IntVal``/``BoolVal``; mixing a Boolean with an integer raises ``TypeError``
    instead of letting z3 coerce it.
    """

    def ite(self, cond: Any, then: Any, other: Any) -> z3.ExprRef:
        """``If(cond, then, other)`` with both branches brought to one sort: z3's ``Z3_mk_ite`` on
        the three terms, the term ``z3.If`` makes (the same node, the same number), without its
        casts, which check again what :func:`_pair` and :func:`as_bool_term` settled and make and
        drop a sort object each (the engine's most frequent operation; session 29)."""
        effort.check()
        a, b = _pair(then, other)
        c = as_bool_term(cond)
        ctx = c.ctx
        if a.ctx is not ctx or b.ctx is not ctx:  # terms of two contexts: z3.If says so
            return z3.If(c, a, b)
        made = _mk_ite(ctx.ctx, c.ast, a.ast, b.ast)
        # an integer ``if`` is a :class:`~solvent.solver.fast_terms.IntTerm` (z3's node, its
        # operators made through the C API) where ``z3.If`` gives an ``ArithRef``
        return _held(z3.BoolRef if isinstance(a, z3.BoolRef) else fast_terms.IntTerm, made, ctx)

    def and_(self, *conds: Any) -> z3.BoolRef:
        """Conjunction of Boolean terms (Python bools allowed): ``z3.And``'s node
        (:func:`solvent.solver.fast_terms.and_`)."""
        effort.check()
        return fast_terms.and_([as_bool_term(c) for c in conds])

    def or_(self, *conds: Any) -> z3.BoolRef:
        """Disjunction of Boolean terms (Python bools allowed): ``z3.Or``'s node."""
        effort.check()
        return fast_terms.or_([as_bool_term(c) for c in conds])

    def not_(self, cond: Any) -> z3.BoolRef:
        """Negation of a Boolean term: ``z3.Not``'s node."""
        effort.check()
        return fast_terms.not_(as_bool_term(cond))

    def floor_div(self, n: Any, d: Any) -> z3.ArithRef:
        """``⌊n / d⌋`` for ``d > 0`` (z3's Euclidean ``/`` equals floor there); unspecified for ``d ≤ 0``."""
        effort.check()
        return as_int_term(n) / as_int_term(d)


__all__ = ["Z3Backend", "as_bool_term", "as_int_term", "is_z3"]

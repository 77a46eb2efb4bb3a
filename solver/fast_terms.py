"""z3 terms made through z3's C API: the node z3's Python function makes, without its per-object work.

``z3.And(a, b)``, ``z3.If(c, a, b)``, ``z3.Sum(...)`` and a declaration's ``f(...)`` each check and
cast their arguments again (a sort object made and dropped an argument, a context found by a walk
over them), make the node with one C call, and wrap it: a class found by three more C calls, and a
reference count taken through z3's binding, which asks z3 for its error code after every call. A
question's build makes hundreds of thousands of them (docs/solver-notes.md#a-cheaper-symbolic-build-session-30-fastterm).

Each function here makes the node with the *same* C call on the same arguments, in the same order,
so z3 makes the same node and gives it the same number: the question is the same, term for term and
unit for unit. It only does so where z3's function would pass its arguments through unchanged (every
argument already a term of the sort the node takes, all of one context); anywhere else it calls z3's
own function, which casts, coerces or raises as it always did. The result's Python class is the one
z3's ``_to_expr_ref`` gives (``BoolRef``, ``IntNumRef`` or ``ArithRef``; any other sort through
``_to_expr_ref`` itself), because the class decides how Python dispatches the next operator: ``x <=
IntVal(5)`` is ``5 >= x``, a different node (``IntNumRef`` is a subclass of ``ArithRef``, and a
reflected comparison on a subclass goes first). ``tests/solver/test_fast_terms.py`` compares every
function with z3's on Boolean and integer terms, numerals, and arguments z3 would cast or refuse.

What is skipped is only work that cannot fail on a live term: reads (an ast's kind, its sort, its
declaration) and the wrapper's reference count go to the C functions directly
(:func:`solvent.solver.nodes.c_function`); every constructor keeps z3's checked binding, which
raises z3's error as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import z3
import z3.z3 as api

from solvent.solver.nodes import c_function
from solvent.solver.nodes import held as _held

_get_ast_kind = c_function("Z3_get_ast_kind")
_get_sort = c_function("Z3_get_sort")
_get_sort_kind = c_function("Z3_get_sort_kind")
_get_domain = c_function("Z3_get_domain")

_mk_and = z3.Z3_mk_and
_mk_or = z3.Z3_mk_or
_mk_not = z3.Z3_mk_not
_mk_ite = z3.Z3_mk_ite
_mk_add = z3.Z3_mk_add
_mk_app = z3.Z3_mk_app

_Ast = z3.Ast
_APP, _NUMERAL = z3.Z3_APP_AST, z3.Z3_NUMERAL_AST
_BOOL, _INT = z3.Z3_BOOL_SORT, z3.Z3_INT_SORT
_BoolRef, _ArithRef, _IntNumRef, _ExprRef = z3.BoolRef, z3.ArithRef, z3.IntNumRef, z3.ExprRef


def wrap(ast: Any, ctx: z3.Context) -> z3.ExprRef:
    """``z3.z3._to_expr_ref(ast, ctx)``: the same class for a Boolean, an integer numeral and any
    other integer term; any other sort or kind through ``_to_expr_ref`` itself."""
    ref = ctx.ctx
    kind = _get_ast_kind(ref, ast)
    sort = _get_sort_kind(ref, _get_sort(ref, ast))
    if sort == _BOOL and kind == _APP:
        return _held(_BoolRef, ast, ctx)
    if sort == _INT:
        if kind == _APP:
            return _held(_ArithRef, ast, ctx)
        if kind == _NUMERAL:
            return _held(_IntNumRef, ast, ctx)
    return api._to_expr_ref(ast, ctx)


def of_int_sort(e: z3.ExprRef) -> bool:
    """``z3.is_int(e)`` for a live term: its sort's kind read through the C API (no sort object
    made and dropped)."""
    ref = e.ctx.ctx
    return _get_sort_kind(ref, _get_sort(ref, e.ast)) == _INT


def _sort_of(e: z3.ExprRef) -> int:
    """The address of ``e``'s sort (sorts are shared: one sort, one address)."""
    ref = e.ctx.ctx
    return _get_sort(ref, e.ast).value


def _one_context(args: Sequence[Any]) -> z3.Context | None:
    """The context every argument's term is in, or None when one is not a z3 term or the terms
    are in two contexts (z3's function then casts or raises)."""
    ctx = None
    for a in args:
        if not isinstance(a, _ExprRef):
            return None
        if ctx is None:
            ctx = a.ctx
        elif a.ctx is not ctx:
            return None
    return ctx


def _array(args: Sequence[z3.ExprRef]) -> Any:
    return (_Ast * len(args))(*[a.ast for a in args])


def _all_bool(args: Sequence[Any]) -> bool:
    for a in args:
        if type(a) is not _BoolRef:
            return False
    return True


def and_(args: Sequence[Any]) -> z3.BoolRef:
    """``z3.And(*args)`` for Boolean terms."""
    ctx = _one_context(args) if args and _all_bool(args) else None
    if ctx is None:
        return z3.And(*args)
    return _held(_BoolRef, _mk_and(ctx.ctx, len(args), _array(args)), ctx)


def or_(args: Sequence[Any]) -> z3.BoolRef:
    """``z3.Or(*args)`` for Boolean terms."""
    ctx = _one_context(args) if args and _all_bool(args) else None
    if ctx is None:
        return z3.Or(*args)
    return _held(_BoolRef, _mk_or(ctx.ctx, len(args), _array(args)), ctx)


def not_(a: Any) -> z3.BoolRef:
    """``z3.Not(a)`` for a Boolean term."""
    if type(a) is not _BoolRef:
        return z3.Not(a)
    ctx = a.ctx
    return _held(_BoolRef, _mk_not(ctx.ctx, a.ast), ctx)


def ite(c: Any, a: Any, b: Any) -> z3.ExprRef:
    """``z3.If(c, a, b)`` for a Boolean condition and two terms of one sort."""
    if type(c) is not _BoolRef or not isinstance(a, _ExprRef) or not isinstance(b, _ExprRef):
        return z3.If(c, a, b)
    ctx = c.ctx
    if a.ctx is not ctx or b.ctx is not ctx or _sort_of(a) != _sort_of(b):
        return z3.If(c, a, b)
    return wrap(_mk_ite(ctx.ctx, c.ast, a.ast, b.ast), ctx)


def sum_(args: Sequence[Any]) -> z3.ExprRef:
    """``z3.Sum(*args)`` for integer terms (at least one)."""
    ctx = _one_context(args) if args else None
    if ctx is None or not all(isinstance(a, _ArithRef) for a in args):
        return z3.Sum(*args)
    if not all(of_int_sort(a) for a in args):
        return z3.Sum(*args)
    return wrap(_mk_add(ctx.ctx, len(args), _array(args)), ctx)


def apply(decl: Any, args: Sequence[Any], ctx: z3.Context) -> z3.ExprRef:
    """``decl(*args)`` (``FuncDeclRef.__call__``) for the C declaration ``decl`` (read off a term
    of ``ctx``, alive with it) on terms each of its domain's sort; any other arguments through
    z3's ``FuncDeclRef``, which casts them. An associative declaration (``+``, ``and``) has two
    places and takes any number of arguments: z3 answers its domain at any place, as its
    ``__call__`` asks. For any other one z3 answers no sort (and an error code, which the next
    call into z3 clears) at a place beyond its arity, and z3's call raises its error as before."""
    ref = ctx.ctx
    if _one_context(args) is not (ctx if args else None):
        return z3.FuncDeclRef(decl, ctx)(*args)
    for i, a in enumerate(args):
        if _get_sort(ref, a.ast).value != _get_domain(ref, decl, i).value:
            return z3.FuncDeclRef(decl, ctx)(*args)
    return wrap(_mk_app(ref, decl, len(args), _array(args)), ctx)


# --- integer terms whose operators make z3's node through the C API -----------------------------

_mk_numeral = z3.Z3_mk_numeral
_mk_sub = z3.Z3_mk_sub
_mk_mul = z3.Z3_mk_mul
_mk_div = z3.Z3_mk_div
_mk_unary_minus = z3.Z3_mk_unary_minus
_mk_le, _mk_lt, _mk_ge, _mk_gt = z3.Z3_mk_le, z3.Z3_mk_lt, z3.Z3_mk_ge, z3.Z3_mk_gt
_mk_eq, _mk_distinct = z3.Z3_mk_eq, z3.Z3_mk_distinct


def _operand(self: IntTerm, other: Any) -> Any:
    """``other`` as the integer term z3's operator would pair with ``self`` unchanged (a term of
    sort Int of ``self``'s context, or a Python ``int`` made a numeral as ``IntVal`` makes it,
    wrapped so it lives until the node that takes it holds it); None for anything z3 would cast,
    coerce or refuse (a Boolean, a real, a float, a Python ``bool``, another context)."""
    t = type(other)
    ctx = self.ctx
    if t is int:
        ref = ctx.ctx
        return _held(_IntNumRef, _mk_numeral(ref, str(other), _get_sort(ref, self.ast)), ctx)
    if t is IntTerm or t is _IntNumRef:
        return other if other.ctx is ctx else None
    if t is _ArithRef and other.ctx is ctx:
        return other if of_int_sort(other) else None
    return None


def _integer(ast: Any, ctx: z3.Context) -> Any:
    """``_to_expr_ref`` of an integer node: an :class:`IntTerm` where z3 gives ``ArithRef``."""
    kind = _get_ast_kind(ctx.ctx, ast)
    if kind == _APP:
        return _held(IntTerm, ast, ctx)
    if kind == _NUMERAL:
        return _held(_IntNumRef, ast, ctx)
    return api._to_expr_ref(ast, ctx)


def _pair(f: Any, a: z3.ExprRef, b: z3.ExprRef) -> Any:
    """``_mk_bin(f, a, b)``: ``f`` on the two terms, in their order."""
    return f(a.ctx.ctx, 2, (_Ast * 2)(a.ast, b.ast))


def _arith(name: str, make: Any, *, reflected: bool) -> Any:
    fallback = getattr(_ArithRef, name)

    def operator(self: IntTerm, other: Any) -> Any:
        b = _operand(self, other)
        if b is None:
            return fallback(self, other)
        return _integer(_pair(make, b, self) if reflected else _pair(make, self, b), self.ctx)

    operator.__name__ = name
    operator.__doc__ = f"``ArithRef.{name}``'s node and class (:class:`IntTerm` for ``ArithRef``)."
    return operator


#: a comparison's reflection: what Python asks the right operand when it asks it first
_REFLECTED = {
    "__le__": "__ge__",
    "__lt__": "__gt__",
    "__ge__": "__le__",
    "__gt__": "__lt__",
    "__eq__": "__eq__",
    "__ne__": "__ne__",
}


def _compare(name: str, make: Any) -> Any:
    fallback = getattr(_ArithRef, name)
    reflected = _REFLECTED[name]

    def comparison(self: IntTerm, other: Any) -> Any:
        t = type(other)
        if t is not _ArithRef and t is not IntTerm and isinstance(other, _ArithRef):
            # ``other`` is of a subclass of ``ArithRef`` (an ``IntNumRef``): where this term were
            # z3's ``ArithRef``, Python would ask ``other``'s reflected comparison first
            # (``x <= IntVal(5)`` is ``5 >= x``), so it is asked here
            return getattr(t, reflected)(other, self)
        b = _operand(self, other)
        if b is None:
            return fallback(self, other)
        ctx = self.ctx
        if make is _mk_distinct:
            return _held(_BoolRef, _pair(make, self, b), ctx)
        return _held(_BoolRef, make(ctx.ctx, self.ast, b.ast), ctx)

    comparison.__name__ = name
    comparison.__doc__ = f"``ArithRef.{name}``'s node (Python's order of asking kept)."
    return comparison


class IntTerm(z3.ExprRef):
    """An integer z3 term whose ``+ - * /``, negation and comparisons make the node z3's
    ``ArithRef`` operator makes, through the C API, and give the class it gives (this one where
    z3 gives ``ArithRef``): the engine's arithmetic on the solver's variables (``solvent.rules``
    computes with Python's operators on them).

    It is not a subclass of ``ArithRef``, on purpose: Python asks a right operand whose class is a
    subclass of the left one's first, for comparisons whether it overrides them or not, so a
    subclass would turn ``y <= x`` (``y`` a plain ``ArithRef``) into ``x >= y``, another node. It
    answers ``isinstance(term, z3.ArithRef)`` as one (its ``__class__``), has all of
    ``ArithRef``'s methods, and its comparisons ask an ``IntNumRef`` (a subclass of ``ArithRef``)
    first, as Python would have. So every expression gives the node it gave with z3's classes,
    whichever of its operands are of this class; an operand z3 would cast or coerce (a Boolean,
    a real, a Python ``bool``, another context) goes through ``ArithRef``'s own operator.
    ``tests/solver/test_fast_terms.py`` compares each operator with z3's, both orders, every
    kind of operand."""

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return _ArithRef

    __add__ = _arith("__add__", _mk_add, reflected=False)
    __radd__ = _arith("__radd__", _mk_add, reflected=True)
    __sub__ = _arith("__sub__", _mk_sub, reflected=False)
    __rsub__ = _arith("__rsub__", _mk_sub, reflected=True)
    __mul__ = _arith("__mul__", _mk_mul, reflected=False)
    __rmul__ = _arith("__rmul__", _mk_mul, reflected=True)
    __le__ = _compare("__le__", _mk_le)
    __lt__ = _compare("__lt__", _mk_lt)
    __ge__ = _compare("__ge__", _mk_ge)
    __gt__ = _compare("__gt__", _mk_gt)
    __eq__ = _compare("__eq__", _mk_eq)  # type: ignore[assignment]
    __ne__ = _compare("__ne__", _mk_distinct)  # type: ignore[assignment]
    __hash__ = z3.ExprRef.__hash__

    def __truediv__(self, other: Any) -> Any:
        """``ArithRef.__truediv__``'s node (z3's integer division, ``Z3_mk_div``)."""
        b = _operand(self, other)
        if b is None:
            return _ArithRef.__truediv__(self, other)
        return _integer(_mk_div(self.ctx.ctx, self.ast, b.ast), self.ctx)

    def __neg__(self) -> Any:
        """``ArithRef.__neg__``'s node."""
        return _integer(_mk_unary_minus(self.ctx.ctx, self.ast), self.ctx)


# every other method of ``ArithRef`` (``sort``, ``is_int``, ``__mod__``, ``__pow__``, ...) as it is
for _name, _value in vars(_ArithRef).items():
    if _name not in vars(IntTerm) and _name not in ("__dict__", "__weakref__", "__module__", "__doc__"):
        setattr(IntTerm, _name, _value)


def integer(term: Any) -> Any:
    """``term`` (a z3 integer term that is not a numeral) as an :class:`IntTerm`: the same node;
    anything else as it is."""
    if type(term) is _ArithRef:
        ctx = term.ctx
        ref = ctx.ctx
        if _get_ast_kind(ref, term.ast) == _APP and of_int_sort(term):
            return _held(IntTerm, term.ast, ctx)
    return term


__all__ = ["IntTerm", "and_", "apply", "integer", "ite", "not_", "of_int_sort", "or_", "sum_", "wrap"]

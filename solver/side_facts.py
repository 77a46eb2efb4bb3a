"""Linear facts that are true of exact products and quotients: what purification keeps.

Each function returns formulas that hold for *every* integer value of their arguments once the
fresh variable is given its exact value (``p = a·b``); adding them to a purified query is
therefore sound (``tests/solver/test_linearize.py`` checks them against random integers).
"""

from __future__ import annotations

import z3
from z3.z3 import _to_ast_array

from solvent.solver.nodes import c_function


class Terms:
    """z3 terms built through the C API: the very terms z3's Python operators build (``a == b``,
    ``a > 0``, ``z3.And``...), without their argument coercion, which costs several times more
    than the term. Arguments are integer or Boolean terms of one context."""

    def __init__(self, ctx: z3.Context) -> None:
        self.ctx = ctx
        self._numerals: dict[int, z3.ArithRef] = {}

    def num(self, k: int) -> z3.ArithRef:
        if k not in self._numerals:
            self._numerals[k] = z3.IntVal(k, self.ctx)
        return self._numerals[k]

    def _bool(self, ast: z3.Ast) -> z3.BoolRef:
        return z3.BoolRef(ast, self.ctx)

    def _int(self, ast: z3.Ast) -> z3.ArithRef:
        return z3.ArithRef(ast, self.ctx)

    def eq(self, a: z3.ExprRef, b: z3.ExprRef) -> z3.BoolRef:
        return self._bool(z3.Z3_mk_eq(self.ctx.ref(), a.as_ast(), b.as_ast()))

    def gt(self, a: z3.ArithRef, b: z3.ArithRef) -> z3.BoolRef:
        return self._bool(z3.Z3_mk_gt(self.ctx.ref(), a.as_ast(), b.as_ast()))

    def ge(self, a: z3.ArithRef, b: z3.ArithRef) -> z3.BoolRef:
        return self._bool(z3.Z3_mk_ge(self.ctx.ref(), a.as_ast(), b.as_ast()))

    def lt(self, a: z3.ArithRef, b: z3.ArithRef) -> z3.BoolRef:
        return self._bool(z3.Z3_mk_lt(self.ctx.ref(), a.as_ast(), b.as_ast()))

    def le(self, a: z3.ArithRef, b: z3.ArithRef) -> z3.BoolRef:
        return self._bool(z3.Z3_mk_le(self.ctx.ref(), a.as_ast(), b.as_ast()))

    def implies(self, a: z3.BoolRef, b: z3.BoolRef) -> z3.BoolRef:
        return self._bool(z3.Z3_mk_implies(self.ctx.ref(), a.as_ast(), b.as_ast()))

    def and_(self, *args: z3.BoolRef) -> z3.BoolRef:
        array, n = _to_ast_array(list(args))
        return self._bool(z3.Z3_mk_and(self.ctx.ref(), n, array))

    def or_(self, *args: z3.BoolRef) -> z3.BoolRef:
        array, n = _to_ast_array(list(args))
        return self._bool(z3.Z3_mk_or(self.ctx.ref(), n, array))

    def add(self, *args: z3.ArithRef) -> z3.ArithRef:
        array, n = _to_ast_array(list(args))
        return self._int(z3.Z3_mk_add(self.ctx.ref(), n, array))

    def sub(self, a: z3.ArithRef, b: z3.ArithRef) -> z3.ArithRef:
        array, n = _to_ast_array([a, b])
        return self._int(z3.Z3_mk_sub(self.ctx.ref(), n, array))

    def mul(self, *args: z3.ArithRef) -> z3.ArithRef:
        array, n = _to_ast_array(list(args))
        return self._int(z3.Z3_mk_mul(self.ctx.ref(), n, array))

    def neg(self, a: z3.ArithRef) -> z3.ArithRef:
        return self._int(z3.Z3_mk_unary_minus(self.ctx.ref(), a.as_ast()))

    def ite(self, c: z3.BoolRef, a: z3.ArithRef, b: z3.ArithRef) -> z3.ArithRef:
        """``z3.If(c, a, b)`` for two integer terms."""
        return self._int(z3.Z3_mk_ite(self.ctx.ref(), c.as_ast(), a.as_ast(), b.as_ast()))


class Raw:
    """The terms :class:`Terms` builds, as z3's bare term handles instead of Python wrappers: a
    side fact's fifteen-odd subterms cost a wrapper each (made, counted, released at the question's
    end, ``solver.held_terms``) where only the facts are kept
    (docs/solver-notes.md#the-linearizers-seconds-issue-18).

    Each subterm is made by the same C call in the same order as :class:`Terms` makes it, so z3
    numbers it the same, and it is counted once (``Z3_inc_ref``) as a wrapper would count it; a
    fact's count becomes its wrapper's (:meth:`facts`), every other count is released as a
    wrapper's is (through ``z3.z3.Z3_dec_ref``, which a question holds until its answer is in,
    ``solver.held_terms``). So every term has the count it had with :class:`Terms` while the
    question runs: z3's rewriter caches a term's result only when the term is shared (its count
    above one), so counts decide which terms z3 makes and frees, and the numbers it gives the next
    ones (measured: releasing the subterms' counts at once kept okx's conservation at N = 2 the
    same formulas with other ids). Arguments are term handles (``x.as_ast()``) of one context."""

    def __init__(self, t: Terms) -> None:
        self.t = t
        self.ref = t.ctx.ref()
        self._held: list[z3.Ast] = []

    def _keep(self, ast: z3.Ast) -> z3.Ast:
        _inc_ref(self.ref, ast)
        self._held.append(ast)
        return ast

    def num(self, k: int) -> z3.Ast:
        return self.t.num(k).as_ast()

    def eq(self, a: z3.Ast, b: z3.Ast) -> z3.Ast:
        return self._keep(z3.Z3_mk_eq(self.ref, a, b))

    def gt(self, a: z3.Ast, b: z3.Ast) -> z3.Ast:
        return self._keep(z3.Z3_mk_gt(self.ref, a, b))

    def ge(self, a: z3.Ast, b: z3.Ast) -> z3.Ast:
        return self._keep(z3.Z3_mk_ge(self.ref, a, b))

    def lt(self, a: z3.Ast, b: z3.Ast) -> z3.Ast:
        return self._keep(z3.Z3_mk_lt(self.ref, a, b))

    def le(self, a: z3.Ast, b: z3.Ast) -> z3.Ast:
        return self._keep(z3.Z3_mk_le(self.ref, a, b))

    def implies(self, a: z3.Ast, b: z3.Ast) -> z3.Ast:
        return self._keep(z3.Z3_mk_implies(self.ref, a, b))

    def and_(self, *args: z3.Ast) -> z3.Ast:
        return self._keep(z3.Z3_mk_and(self.ref, len(args), (z3.Ast * len(args))(*args)))

    def or_(self, *args: z3.Ast) -> z3.Ast:
        return self._keep(z3.Z3_mk_or(self.ref, len(args), (z3.Ast * len(args))(*args)))

    def add(self, *args: z3.Ast) -> z3.Ast:
        return self._keep(z3.Z3_mk_add(self.ref, len(args), (z3.Ast * len(args))(*args)))

    def sub(self, a: z3.Ast, b: z3.Ast) -> z3.Ast:
        return self._keep(z3.Z3_mk_sub(self.ref, 2, (z3.Ast * 2)(a, b)))

    def neg(self, a: z3.Ast) -> z3.Ast:
        return self._keep(z3.Z3_mk_unary_minus(self.ref, a))

    def facts(self, made: list[z3.Ast]) -> list[z3.BoolRef]:
        """``made`` wrapped as Boolean terms, each wrapper taking the count its term was made
        with; every other count released as a wrapper releases it."""
        held, self._held = self._held, []
        out = []
        for f in made:
            held.remove(f)  # the last-made first would do as well: each fact was made once
            w = z3.BoolRef.__new__(z3.BoolRef)
            w.ast, w.ctx = f, self.t.ctx
            out.append(w)
        release = z3.z3.Z3_dec_ref  # looked up now: the one ``solver.held_terms`` installed
        for ast in held:
            release(self.ref, ast)
        return out


#: ``Z3_inc_ref`` without the error check after it (a count on a live term cannot fail)
_inc_ref = c_function("Z3_inc_ref")


#: the builder of the context last asked for: one, so a question's context is not kept alive
#: after the question (each question has its own, ``effort.question``)
_TERMS: list[Terms] = []


def terms(ctx: z3.Context) -> Terms:
    """The :class:`Terms` builder of ``ctx``."""
    if not _TERMS or _TERMS[0].ctx is not ctx:
        _TERMS[:] = [Terms(ctx)]
    return _TERMS[0]


def shared_factor_facts(
    f: z3.ArithRef, big_a: z3.ArithRef, a: z3.ArithRef, big_b: z3.ArithRef, b: z3.ArithRef
) -> list[z3.BoolRef]:
    """``A = a·f`` and ``B = b·f``: ``A ± B`` has the sign of ``(a ± b)`` times the sign of ``f``."""
    t = Raw(terms(f.ctx))
    return t.facts(_shared_factor(t, f.as_ast(), big_a.as_ast(), a.as_ast(), big_b.as_ast(), b.as_ast()))


def _shared_factor(t: Raw, f: z3.Ast, big_a: z3.Ast, a: z3.Ast, big_b: z3.Ast, b: z3.Ast) -> list[z3.Ast]:
    zero = t.num(0)
    facts = []
    for whole, part in ((t.add(big_a, big_b), t.add(a, b)), (t.sub(big_a, big_b), t.sub(a, b))):
        same_zero = t.eq(t.eq(whole, zero), t.eq(part, zero))
        facts += [
            t.implies(t.gt(f, zero), t.and_(t.eq(t.gt(whole, zero), t.gt(part, zero)), same_zero)),
            t.implies(t.lt(f, zero), t.and_(t.eq(t.gt(whole, zero), t.lt(part, zero)), same_zero)),
        ]
    return facts


def product_facts(p: z3.ArithRef, a: z3.ArithRef, b: z3.ArithRef) -> list[z3.BoolRef]:
    """Linear facts true of ``p = a·b`` over the integers.

    In order: the zero pattern and the sign pattern (:func:`product_sign_facts`: cheap; a
    purified query always has them), then magnitudes (``|a| ≥ 1 → |p| ≥ |b|``), units
    (``a = ±1 → p = ±b``) and, for a square, ``p ≥ 0`` (:func:`product_magnitude_facts`: held back
    until a spurious model shows they are needed).
    """
    return product_sign_facts(p, a, b) + product_magnitude_facts(p, a, b)


def product_sign_facts(p: z3.ArithRef, a: z3.ArithRef, b: z3.ArithRef) -> list[z3.BoolRef]:
    """``p = 0`` exactly when a factor is 0; ``p > 0`` exactly when the factors share a sign."""
    t = Raw(terms(p.ctx))
    return t.facts(_product_sign(t, p.as_ast(), a.as_ast(), b.as_ast()))


def _product_sign(t: Raw, p: z3.Ast, a: z3.Ast, b: z3.Ast) -> list[z3.Ast]:
    zero = t.num(0)
    return [
        t.eq(t.eq(p, zero), t.or_(t.eq(a, zero), t.eq(b, zero))),
        t.eq(t.gt(p, zero), t.or_(t.and_(t.gt(a, zero), t.gt(b, zero)), t.and_(t.lt(a, zero), t.lt(b, zero)))),
    ]


def product_magnitude_facts(p: z3.ArithRef, a: z3.ArithRef, b: z3.ArithRef) -> list[z3.BoolRef]:
    """Magnitudes (``|a| ≥ 1 → |p| ≥ |b|``), units (``a = ±1 → p = ±b``), and ``p ≥ 0`` for a square."""
    t = Raw(terms(p.ctx))
    return t.facts(_product_magnitude(t, p.as_ast(), a.as_ast(), b.as_ast(), a.eq(b)))


def _product_magnitude(t: Raw, p: z3.Ast, a: z3.Ast, b: z3.Ast, square: bool) -> list[z3.Ast]:
    zero, one, minus_one = t.num(0), t.num(1), t.num(-1)
    facts = []
    for x, y in ((a, b), (b, a)):
        minus_y = t.neg(y)
        facts += [
            t.implies(t.and_(t.ge(x, one), t.ge(y, zero)), t.ge(p, y)),
            t.implies(t.and_(t.ge(x, one), t.le(y, zero)), t.le(p, y)),
            t.implies(t.and_(t.le(x, minus_one), t.ge(y, zero)), t.le(p, minus_y)),
            t.implies(t.and_(t.le(x, minus_one), t.le(y, zero)), t.ge(p, minus_y)),
            t.implies(t.eq(x, one), t.eq(p, y)),
            t.implies(t.eq(x, minus_one), t.eq(p, minus_y)),
        ]
    if square:
        facts.append(t.ge(p, zero))
    return facts


__all__ = [
    "Raw",
    "Terms",
    "product_facts",
    "product_magnitude_facts",
    "product_sign_facts",
    "shared_factor_facts",
    "terms",
]

"""What the linearizer reads of a z3 term (its id, head, children, numeral value), read once a node.

The linearizer (``solvent.solver.linearize``) walks every formula of a question and asks of each
node, many times over, its id, its operator, whether it is an integer numeral and its children.
Through z3's Python API each of those is several C calls (each followed by an error check) and,
for every child, a new Python wrapper whose class is found by three more calls: at N = 8 that was
most of the build's seconds (docs/solver-notes.md#the-linearizers-seconds-issue-18) and none of its terms.

:class:`Nodes` reads each node once through the C API and keeps what it read *with the node* (the
node itself is held in the entry, so the address it is filed under cannot be given to another term
while the entry lives, and an id read is always the id of the term asked about). It only reads: it
makes no term, so z3 numbers the question's terms exactly as before and the question is the same,
term for term and id for id (``tests/solver/test_nodes.py`` builds questions both ways).
:class:`PlainNodes` answers the same through z3's Python API with no memo: the reference.
"""

from __future__ import annotations

from typing import Any

import z3
import z3.z3core as core


def c_function(name: str) -> Any:
    """z3's C function ``name`` without the error check its Python binding makes after each call
    (the binding keeps the function in its ``_elems`` default; a read of a live term cannot fail)."""
    elems = getattr(core, name).__defaults__[-1]
    if not isinstance(elems, core.Elementaries):  # pragma: no cover - z3 moved it: importing this fails
        raise RuntimeError(f"z3's binding of {name} no longer keeps its C function in its defaults")
    return elems.f


class _Lib:
    Z3_get_ast_kind = c_function("Z3_get_ast_kind")
    Z3_get_ast_id = c_function("Z3_get_ast_id")
    Z3_get_app_decl = c_function("Z3_get_app_decl")
    Z3_get_decl_kind = c_function("Z3_get_decl_kind")
    Z3_get_app_num_args = c_function("Z3_get_app_num_args")
    Z3_get_app_arg = c_function("Z3_get_app_arg")
    Z3_get_sort = c_function("Z3_get_sort")
    Z3_get_sort_kind = c_function("Z3_get_sort_kind")
    Z3_inc_ref = c_function("Z3_inc_ref")


_lib = _Lib
_new = object.__new__


def held(cls: type, ast: Any, ctx: z3.Context) -> Any:
    """``cls(ast, ctx)`` for a live node: ``AstRef.__init__``'s two fields and its reference count,
    the count taken through the C function (it cannot fail on a live node; session 30)."""
    out = _new(cls)
    out.ast = ast
    out.ctx = ctx
    _lib.Z3_inc_ref(ctx.ctx, ast)
    return out


_NUMERAL, _APP = z3.Z3_NUMERAL_AST, z3.Z3_APP_AST
_BOOL, _INT = z3.Z3_BOOL_SORT, z3.Z3_INT_SORT


class _Node:
    """One node as read: the node (held), its id, its operator (``-1`` for a non-application), and
    its children and numeral value once asked for."""

    __slots__ = ("node", "id", "kind", "numeral", "kids", "value")

    def __init__(self, node: z3.ExprRef, id_: int, kind: int, numeral: bool) -> None:
        self.node, self.id, self.kind, self.numeral = node, id_, kind, numeral
        self.kids: list[z3.ExprRef] | None = None
        self.value: int | None = None


class Nodes:
    """The reads, memoized per node (see the module docstring). One per linearizer (one context)."""

    def __init__(self) -> None:
        #: per term address (``node.ast.value``), what was read; the entry holds the node
        self._read: dict[int, _Node] = {}

    def _get(self, e: z3.ExprRef) -> _Node:
        ast = e.ast
        hit = self._read.get(ast.value)
        if hit is not None:
            return hit
        ref = e.ctx.ref()
        ast_kind = _lib.Z3_get_ast_kind(ref, ast)
        kind = -1
        numeral = False
        if ast_kind == _APP or ast_kind == _NUMERAL:
            kind = _lib.Z3_get_decl_kind(ref, _lib.Z3_get_app_decl(ref, ast))
            if ast_kind == _NUMERAL:
                numeral = _lib.Z3_get_sort_kind(ref, _lib.Z3_get_sort(ref, ast)) == _INT and isinstance(e, z3.ArithRef)
        hit = self._read[ast.value] = _Node(e, _lib.Z3_get_ast_id(ref, ast), kind, numeral)
        return hit

    def id(self, e: z3.ExprRef) -> int:
        """``e.get_id()``."""
        return (self._read.get(e.ast.value) or self._get(e)).id

    def kind(self, e: z3.ExprRef) -> int:
        """``e.decl().kind()`` for an application or numeral, else -1."""
        return (self._read.get(e.ast.value) or self._get(e)).kind

    def numeral(self, e: z3.ExprRef) -> bool:
        """``z3.is_int_value(e)``."""
        return (self._read.get(e.ast.value) or self._get(e)).numeral

    def value(self, e: z3.ExprRef) -> int:
        """``e.as_long()`` of an integer numeral."""
        n = self._get(e)
        if n.value is None:
            n.value = e.as_long()
        return n.value

    def children(self, e: z3.ExprRef) -> list[z3.ExprRef]:
        """``e.children()`` (the same list on every call: callers do not change it)."""
        n = self._get(e)
        if n.kids is None:
            n.kids = _children(e) if n.kind != -1 else []
        return n.kids

    def same(self, a: z3.ExprRef, b: z3.ExprRef) -> bool:
        """``a.eq(b)``: z3 shares equal terms, so two wrappers of one term hold one address."""
        return a.ast.value == b.ast.value


def _children(e: z3.ExprRef) -> list[z3.ExprRef]:
    """``e.children()`` through the C API: each child wrapped in the class z3's ``_to_expr_ref``
    gives it (``BoolRef``, ``IntNumRef``, ``ArithRef``; any other sort through ``_to_expr_ref``)."""
    ctx = e.ctx
    ref = ctx.ref()
    ast = e.ast
    out: list[z3.ExprRef] = []
    for i in range(_lib.Z3_get_app_num_args(ref, ast)):
        a = _lib.Z3_get_app_arg(ref, ast, i)
        k = _lib.Z3_get_ast_kind(ref, a)
        sort = _lib.Z3_get_sort(ref, a)
        sk = _lib.Z3_get_sort_kind(ref, sort)
        if k == _APP and sk == _BOOL:
            out.append(held(z3.BoolRef, a, ctx))
        elif k == _NUMERAL and sk == _INT:
            out.append(held(z3.IntNumRef, a, ctx))
        elif k == _APP and sk == _INT:
            out.append(held(z3.ArithRef, a, ctx))
        else:
            out.append(z3.z3._to_expr_ref(a, ctx))
    return out


class PlainNodes:
    """The same reads through z3's Python API, nothing kept: the reference :class:`Nodes` is
    checked against."""

    def id(self, e: z3.ExprRef) -> int:
        return e.get_id()

    def kind(self, e: z3.ExprRef) -> int:
        if not (z3.is_app(e) or z3.is_int_value(e)):
            return -1
        return e.decl().kind()

    def numeral(self, e: z3.ExprRef) -> bool:
        return z3.is_int_value(e)

    def value(self, e: z3.ExprRef) -> int:
        return e.as_long()

    def children(self, e: z3.ExprRef) -> list[z3.ExprRef]:
        return e.children()

    def same(self, a: z3.ExprRef, b: z3.ExprRef) -> bool:
        return a.eq(b)


__all__ = ["Nodes", "PlainNodes", "c_function", "held"]

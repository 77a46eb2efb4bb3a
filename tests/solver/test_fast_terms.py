"""``solver.fast_terms`` makes z3's node through the C API: the node, the number and the Python class
z3's own function makes, on Boolean and integer terms, numerals (big, negative), and arguments z3
would cast or refuse (those go through z3's function itself). The split's abstraction
(``case_split.abstraction``), which reads and rebuilds terms through it, gives the terms z3's
functions give (session 30, docs/solver-notes.md#a-cheaper-symbolic-build-session-30-fastterm).
"""

from __future__ import annotations

import operator
import types

import pytest
import z3

from solvent.solver import case_split, effort, fast_terms
from solvent.solver.fast_terms import IntTerm
from solvent.solver.nodes import PlainNodes, c_function
from solvent.solver.per_account import constants
from solvent.solver.z3_backend import Z3Backend, as_int_term

_get_app_decl = c_function("Z3_get_app_decl")


def _same(made: object, expected: object) -> None:
    assert type(made) is type(expected)
    assert made.eq(expected) and made.get_id() == expected.get_id()


def _terms():
    x, y = z3.Ints("x y")
    p, q, r = z3.Bools("p q r")
    return x, y, p, q, r


def test_and_or_not_are_z3s_nodes_in_their_order() -> None:
    with effort.question():
        x, y, p, q, r = _terms()
        for args in ([p, q], [q, p], [p, q, r], [p], [x <= y, z3.Not(p), p == q]):
            _same(fast_terms.and_(args), z3.And(*args))
            _same(fast_terms.or_(args), z3.Or(*args))
            if len(args) > 1:  # the arguments in their places
                assert not fast_terms.and_(args).eq(z3.And(*reversed(args)))
                assert not fast_terms.and_(args).eq(z3.Or(*args))
        _same(fast_terms.not_(x < y), z3.Not(x < y))
        assert not fast_terms.not_(p).eq(p)
        # what z3 casts or refuses goes through z3: a Python bool, an integer, no argument
        _same(fast_terms.and_([p, True]), z3.And(p, True))
        _same(fast_terms.not_(False), z3.Not(False))
        with pytest.raises(z3.Z3Exception):
            fast_terms.and_([p, x])
        _same(fast_terms.or_([]), z3.Or())


def test_ite_sum_and_wrap_give_z3s_class() -> None:
    with effort.question():
        x, y, p, q, _ = _terms()
        big, neg = z3.IntVal(2**70), z3.IntVal(-7)
        for a, b in ((x, y), (y, x), (x, big), (neg, big), (p, q), (x + 1, neg)):
            _same(fast_terms.ite(p, a, b), z3.If(p, a, b))
        assert not fast_terms.ite(p, x, y).eq(z3.If(p, y, x))
        # a branch z3 would cast (a Real beside an Int, a Python int): through z3.If
        _same(fast_terms.ite(p, x, z3.RealVal(1)), z3.If(p, x, z3.RealVal(1)))
        _same(fast_terms.ite(p, x, 3), z3.If(p, x, 3))
        for args in ([x], [x, y], [y, x], [x, big, neg], [neg, big]):
            _same(fast_terms.sum_(args), z3.Sum(*args))
        assert not fast_terms.sum_([x, y]).eq(z3.Sum(y, x))
        _same(fast_terms.sum_([x, z3.Real("u")]), z3.Sum(x, z3.Real("u")))
        for term in (x + y, big, neg, p, x < y):  # IntNumRef for a numeral, ArithRef, BoolRef
            _same(fast_terms.wrap(term.ast, term.ctx), term)


def test_apply_is_the_declarations_call() -> None:
    with effort.question():
        x, y, p, q, r = _terms()
        for term in (x + y, x - y, -x, x * 3, z3.And(p, q, r), z3.Or(q, p), p == q, z3.If(p, x, y), x <= y):
            decl, args = _get_app_decl(term.ctx.ctx, term.ast), term.children()
            _same(fast_terms.apply(decl, args, term.ctx), term.decl()(*args))
            if len(args) == 2 and not args[0].eq(args[1]):
                assert not fast_terms.apply(decl, args, term.ctx).eq(term.decl()(*reversed(args)))
        # arguments not of the declaration's sorts: through z3's call, which casts or refuses
        le = _get_app_decl(x.ctx.ctx, (x <= y).ast)
        _same(fast_terms.apply(le, [x, 2], x.ctx), (x <= y).decl()(x, 2))
        plus = _get_app_decl(x.ctx.ctx, (x + y).ast)
        _same(fast_terms.apply(plus, [x, p], x.ctx), (x + y).decl()(x, p))  # x + If(p, 1, 0)
        # an associative declaration takes any number of places; any other refuses a third
        _same(fast_terms.apply(plus, [x, y, x], x.ctx), (x + y).decl()(x, y, x))
        for args in ([x, y, x], [x, z3.Real("u")]):
            with pytest.raises(z3.Z3Exception):
                (x <= y).decl()(*args)
            with pytest.raises(z3.Z3Exception):
                fast_terms.apply(le, args, x.ctx)
        _same(fast_terms.and_([p, q]), z3.And(p, q))  # no error left pending in the context


def test_the_backends_connectives_and_integers_are_z3s() -> None:
    with effort.question():
        x, y, p, q, _ = _terms()
        backend = Z3Backend()
        _same(backend.and_(p, x < y, True), z3.And(p, x < y, True))
        _same(backend.or_(q, p), z3.Or(q, p))
        _same(backend.not_(x == y), z3.Not(x == y))
        assert as_int_term(x + y) is not None and as_int_term(5).eq(z3.IntVal(5))
        for refused in (z3.Real("u"), p, True):
            with pytest.raises(TypeError):
                as_int_term(refused)


def _gap():
    """A term with every kind of node the abstraction reads: ``if``s, connectives, an iff, the
    three comparisons, a product by a constant and of two variables, a quotient, sums,
    differences and a negation."""
    x, y, z = z3.Ints("x y z")
    p, q = z3.Bools("p q")
    test = z3.Or(x >= y + 3, z3.And(p, z3.Not(q)), (x == z) == p)
    inner = z3.If(z3.And(x * y <= z, q), 2 * x - y, -(x / 4))
    return z3.If(test, inner + z, z3.If(y - 3 <= x, x * y, z - y + 1)) - z3.If(x >= y + 3, inner, 0)


def test_the_abstraction_is_the_one_z3s_functions_make(monkeypatch: pytest.MonkeyPatch) -> None:
    with effort.question():
        made, meaning = case_split.abstraction([_gap(), _gap() * 2])
        reference = types.SimpleNamespace(
            ite=z3.If,
            sum_=lambda parts: z3.Sum(*parts),
            apply=lambda decl, args, ctx: z3.FuncDeclRef(decl, ctx)(*args),
        )
        monkeypatch.setattr(case_split, "fast_terms", reference)
        monkeypatch.setattr(case_split, "Nodes", PlainNodes)
        expected, expected_meaning = case_split.abstraction([_gap(), _gap() * 2])
        assert len(made) == len(expected) == 2
        for a, b in zip(made, expected, strict=True):
            _same(a, b)
        assert list(meaning) == list(expected_meaning) and len(meaning) >= 4
        for name in meaning:
            _same(meaning[name], expected_meaning[name])


# --- the integer term class ------------------------------------------------------------------

_OPERATORS = (
    operator.add,
    operator.sub,
    operator.mul,
    operator.truediv,
    operator.le,
    operator.lt,
    operator.ge,
    operator.gt,
    operator.eq,
    operator.ne,
)


def _plain(value: object) -> object:
    """``value`` with z3's class: an ``IntTerm`` as the ``ArithRef`` of its node."""
    return z3.ArithRef(value.ast, value.ctx) if type(value) is IntTerm else value


def _outcome(f, a, b):
    try:
        return f(a, b)
    except (z3.Z3Exception, TypeError, AttributeError) as error:  # what z3 refuses, it refuses alike
        return type(error)


def _operands():
    x = fast_terms.integer(z3.Int("x"))
    y, p, u = z3.Int("y"), z3.Bool("p"), z3.Real("u")
    other = z3.Context()
    return [
        x,
        x + 1,  # an IntTerm made by an IntTerm
        fast_terms.integer(z3.Int("z")) * y,
        y,  # a plain ArithRef
        y - 4,
        z3.IntVal(5),  # an IntNumRef: Python asks it first in a comparison with an ArithRef
        z3.IntVal(-7),
        z3.IntVal(2**70),
        0,
        3,
        -4,
        2**80,
        True,  # a Python bool: z3 casts it
        p,  # a Boolean: z3 makes ``If(p, x, 0)`` of ``x * p``
        u,  # a real: z3 casts the integer
        z3.Int("w", other),  # another context: z3 refuses
        fast_terms.integer(z3.Int("v", other)),
        z3.IntVal(9, other),
        None,
    ]


def test_every_operator_is_z3s_node_and_class_in_both_orders() -> None:
    with effort.question():
        operands = _operands()
        asked = 0
        for a in operands:
            for b in operands:
                if type(a) is not IntTerm and type(b) is not IntTerm:
                    continue
                for f in _OPERATORS:
                    made, expected = _outcome(f, a, b), _outcome(f, _plain(a), _plain(b))
                    asked += 1
                    if isinstance(expected, type):
                        assert made is expected, (f, a, b)
                        continue
                    if isinstance(expected, bool):  # ``x == None``
                        assert made is expected
                        continue
                    # z3's class; an ``IntTerm`` where z3 gives ``ArithRef`` and the operator is ours
                    classes = {IntTerm, z3.ArithRef} if type(expected) is z3.ArithRef else {type(expected)}
                    assert type(made) in classes, (f, a, b)
                    assert made.eq(expected) and made.get_id() == expected.get_id(), (f, a, b, made, expected)
        assert asked == 2 * 4 * len(operands) * len(_OPERATORS) - 16 * len(_OPERATORS)
        x = operands[0]
        for term in (x, operands[1], operands[2]):
            assert (-term).eq(-_plain(term)) and (-term).get_id() == (-_plain(term)).get_id()
        assert type(-x) is IntTerm and type(-(x + 1)) is IntTerm
        for made in (x + 1, 1 + x, x - operands[3], x * operands[3] * x, x / 3, x * z3.IntVal(-7)):
            assert type(made) is IntTerm
        # the operands in their places, and each operator its own node
        y = operands[3]
        assert not (x - y).eq(y - x) and not (x <= y).eq(x < y) and not (x + y).eq(x - y)
        assert (x <= z3.IntVal(5)).eq(z3.IntVal(5) >= _plain(x))  # Python's order of asking, kept


def test_an_integer_term_is_an_arithref_to_z3() -> None:
    with effort.question():
        x = fast_terms.integer(z3.Int("x"))
        assert isinstance(x, z3.ArithRef) and z3.is_int(x) and not isinstance(x, z3.IntNumRef)
        assert hash(x) == hash(z3.Int("x")) and x.sort() == z3.IntSort() and str(x % 3) == "x%3"
        assert fast_terms.integer(z3.IntVal(3)).__class__ is z3.IntNumRef  # a numeral stays one
        solver = z3.Solver()
        solver.add(x * 2 == 6)
        assert solver.check() == z3.sat and solver.model()[_plain(x)].as_long() == 3


def test_constants_are_read_as_z3_reads_them() -> None:
    """``per_account.constants`` reads through the C API: the leaves z3's own reads find, each
    once, first met depth first, in z3's classes."""

    def reference(term):
        seen, out, stack = set(), [], [term]
        while stack:
            e = stack.pop()
            if e.get_id() in seen:
                continue
            seen.add(e.get_id())
            if z3.is_const(e):
                out.append(e)
                continue
            stack.extend(reversed(e.children()))
        return out

    with effort.question():
        for term in (_gap(), _gap() * 3 + z3.Int("y"), z3.Int("x"), fast_terms.integer(z3.Int("x")) + 2):
            made, expected = constants(term), reference(term)
            assert len(made) == len(expected) >= 1
            for a, b in zip(made, expected, strict=True):
                assert type(a) is type(b) and a.eq(b)

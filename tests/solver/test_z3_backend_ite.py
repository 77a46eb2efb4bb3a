"""The backend's ``ite`` is ``z3.If``'s term, made without its casts (session 29,
docs/solver-notes.md#the-suites-structure-in-testssolver-session-29-tail5).

``Z3Backend.ite`` calls ``Z3_mk_ite`` on the three terms where it called ``z3.If``: the same node
(z3 shares equal terms, so the same number in the question's context) and the same Python class,
for integer and Boolean branches, Python constants on either side (an integer ``if`` is an
``IntTerm``, an ``ArithRef`` to ``isinstance``, since session 30); units cannot move when the terms
and their numbers are the same.
"""

from __future__ import annotations

import pytest
import z3

from solvent.solver import effort
from solvent.solver.fast_terms import IntTerm
from solvent.solver.z3_backend import Z3Backend, as_bool_term, as_int_term


def _cases():
    x, y = z3.Ints("x y")
    p, q = z3.Bools("p q")
    return [
        (x < y, x, y),
        (x < y, x + 1, 0),
        (p, 7, y * 2),
        (p, -3, 4),
        (x == 0, p, q),
        (q, True, p),
        (z3.And(p, q), False, True),
    ]


@pytest.mark.parametrize("index", range(7))
def test_the_backends_ite_is_z3s_if_node_for_node(index: int) -> None:
    with effort.question():
        cond, then, other = _cases()[index]
        made = Z3Backend().ite(cond, then, other)
        bool_branches = type(then) is bool or (isinstance(then, z3.ExprRef) and z3.is_bool(then))
        pair = (as_bool_term(then), as_bool_term(other)) if bool_branches else (as_int_term(then), as_int_term(other))
        expected = z3.If(cond, *pair)
        # z3's class, an ``IntTerm`` where z3.If gives an ``ArithRef`` (session 30: its operators
        # make z3's nodes through the C API; tests/solver/test_fast_terms.py)
        assert type(made) is (IntTerm if type(expected) is z3.ArithRef else type(expected))
        assert isinstance(made, type(expected))
        assert made.eq(expected) and made.get_id() == expected.get_id()
        assert made.sort() == expected.sort()
        # and not the other way round: the branches in their places
        assert not made.eq(z3.If(cond, pair[1], pair[0]))

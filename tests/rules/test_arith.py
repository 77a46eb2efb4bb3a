"""The arithmetic interface: named-rounding division, choice, booleans and ratios.

Each helper is checked against an independent definition (``math.floor``/``math.ceil`` of an exact
``Fraction``, Python's ``round`` on a ``Fraction`` for half-even, the builtins ``min``/``max``/``abs``)
on the concrete interpreter, and against itself on a stand-in symbolic interpreter, so the branch
the z3 backend takes computes the same numbers as the branch the concrete engine takes.
"""

from __future__ import annotations

import contextlib
import math
from fractions import Fraction

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvent.rules import arith
from solvent.rules.arith import (
    PPM,
    Ratio,
    Rounding,
    abs_,
    all_,
    and_,
    any_,
    branch,
    div,
    implies,
    is_concrete,
    ite,
    max_,
    min_,
    mul_ppm,
    not_,
    or_,
    safe_divisor,
    select,
    sign,
    sum_,
    when,
)
from solvent.rules.book import Account

FAST = settings(deadline=None, database=None, max_examples=300)

numerators = st.integers(min_value=-(10**12), max_value=10**12)
divisors = st.integers(min_value=1, max_value=10**6)
ints = st.integers(min_value=-(10**9), max_value=10**9)

EXACT = {
    Rounding.FLOOR: math.floor,
    Rounding.CEIL: math.ceil,
    Rounding.HALF_EVEN: round,  # round() on a Fraction breaks ties to the even integer
}


# --- a stand-in symbolic interpreter --------------------------------------------------------


def _v(x):
    return x.v if isinstance(x, (Sym, SymBool)) else x


class Sym:
    """An integer the engine must treat as symbolic: operators build new symbols, never ints."""

    __slots__ = ("v",)

    def __init__(self, v: int) -> None:
        self.v = v

    def __add__(self, o):
        return Sym(self.v + _v(o))

    __radd__ = __add__

    def __sub__(self, o):
        return Sym(self.v - _v(o))

    def __rsub__(self, o):
        return Sym(_v(o) - self.v)

    def __mul__(self, o):
        return Sym(self.v * _v(o))

    __rmul__ = __mul__

    def __neg__(self):
        return Sym(-self.v)

    def __lt__(self, o):
        return SymBool(self.v < _v(o))

    def __le__(self, o):
        return SymBool(self.v <= _v(o))

    def __gt__(self, o):
        return SymBool(self.v > _v(o))

    def __ge__(self, o):
        return SymBool(self.v >= _v(o))

    def __eq__(self, o):  # type: ignore[override]
        return SymBool(self.v == _v(o))

    def __ne__(self, o):  # type: ignore[override]
        return SymBool(self.v != _v(o))

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self):
        raise TypeError("a symbolic value has no truth value")


class SymBool:
    """A condition the engine must treat as symbolic."""

    __slots__ = ("v",)

    def __init__(self, v: bool) -> None:
        self.v = v

    def __bool__(self):
        raise TypeError("a symbolic condition has no truth value")


class EvalBackend(arith.SymbolicBackend):
    """Evaluates every symbolic operation at once (a model of z3 that always knows the answer)."""

    def ite(self, cond, then, other):
        return then if cond.v else other

    def and_(self, *conds):
        return SymBool(all(_v(c) for c in conds))

    def or_(self, *conds):
        return SymBool(any(_v(c) for c in conds))

    def not_(self, cond):
        return SymBool(not cond.v)

    def floor_div(self, n, d):
        return Sym(_v(n) // _v(d))


@contextlib.contextmanager
def evaluating_backend():
    """Install the evaluating backend for the ``with`` block, then restore the previous one."""
    saved = arith._backend
    arith.register_backend(EvalBackend())
    try:
        yield
    finally:
        arith._backend = saved


@pytest.fixture
def symbolic():
    """The evaluating backend for one (non-hypothesis) test."""
    with evaluating_backend():
        yield


# --- tests ------------------------------------------------------------------------------------


class TestDiv:
    """``div`` rounds ``n / d`` in the named direction for every sign of ``n`` and positive ``d``."""

    @FAST
    @given(n=numerators, d=divisors, rounding=st.sampled_from(Rounding))
    def test_matches_exact_fraction(self, n, d, rounding):
        assert div(n, d, rounding=rounding) == EXACT[rounding](Fraction(n, d))

    @pytest.mark.parametrize(
        "n, d, floor, ceil, half_even",
        [
            pytest.param(7, 2, 3, 4, 4, id="+7/2 tie goes up to even 4"),
            pytest.param(5, 2, 2, 3, 2, id="+5/2 tie goes down to even 2"),
            pytest.param(-7, 2, -4, -3, -4, id="-7/2 tie goes to even -4"),
            pytest.param(-5, 2, -3, -2, -2, id="-5/2 tie goes to even -2"),
            pytest.param(7, 3, 2, 3, 2, id="+7/3 below half"),
            pytest.param(-7, 3, -3, -2, -2, id="-7/3 below half"),
            pytest.param(8, 3, 2, 3, 3, id="+8/3 above half"),
            pytest.param(-8, 3, -3, -2, -3, id="-8/3 above half"),
            pytest.param(0, 5, 0, 0, 0, id="zero numerator"),
            pytest.param(6, 3, 2, 2, 2, id="exact quotient"),
            pytest.param(-6, 3, -2, -2, -2, id="exact negative quotient"),
        ],
    )
    def test_table(self, n, d, floor, ceil, half_even):
        got = (
            div(n, d, rounding=Rounding.FLOOR),
            div(n, d, rounding=Rounding.CEIL),
            div(n, d, rounding=Rounding.HALF_EVEN),
        )
        assert got == (floor, ceil, half_even)

    @pytest.mark.parametrize("d", [0, -1, -7], ids=["zero divisor", "divisor -1", "divisor -7"])
    @pytest.mark.parametrize("rounding", list(Rounding), ids=[r.value for r in Rounding])
    def test_non_positive_divisor_raises(self, d, rounding):
        with pytest.raises(ZeroDivisionError) as info:
            div(7, d, rounding=rounding)
        assert str(info.value) == f"div needs a positive divisor, got {d}"

    def test_rounding_is_a_required_keyword(self):
        with pytest.raises(TypeError):
            div(7, 2)  # type: ignore[call-arg]

    @FAST
    @given(n=numerators, d=divisors, rounding=st.sampled_from(Rounding))
    def test_symbolic_path_agrees(self, n, d, rounding):
        with evaluating_backend():
            got = _v(div(Sym(n), Sym(d), rounding=rounding))
        assert got == div(n, d, rounding=rounding)


class TestMulPpm:
    """``mul_ppm`` is ``amount × ppm / 1e6`` with the named rounding."""

    @FAST
    @given(amount=ints, ppm=st.integers(min_value=0, max_value=PPM), rounding=st.sampled_from(Rounding))
    def test_matches_exact_fraction(self, amount, ppm, rounding):
        assert mul_ppm(amount, ppm, rounding=rounding) == EXACT[rounding](Fraction(amount * ppm, PPM))

    @pytest.mark.parametrize(
        "amount, ppm, rounding, expected",
        [
            pytest.param(333, 100_000, Rounding.CEIL, 34, id="10% of 333 up = 34"),
            pytest.param(333, 100_000, Rounding.FLOOR, 33, id="10% of 333 down = 33"),
            pytest.param(25, 100_000, Rounding.HALF_EVEN, 2, id="10% of 25 half-even = 2"),
            pytest.param(35, 100_000, Rounding.HALF_EVEN, 4, id="10% of 35 half-even = 4"),
            pytest.param(-333, 100_000, Rounding.CEIL, -33, id="10% of -333 up = -33"),
            pytest.param(12_345, PPM, Rounding.FLOOR, 12_345, id="100% is the identity"),
            pytest.param(12_345, 0, Rounding.CEIL, 0, id="0 ppm is zero"),
        ],
    )
    def test_table(self, amount, ppm, rounding, expected):
        assert mul_ppm(amount, ppm, rounding=rounding) == expected


@attrs.frozen
class Pair:
    name: str
    x: object
    y: object


class TestChoice:
    """``min_``, ``max_``, ``abs_``, ``sign``, ``when`` and ``ite`` choose like the builtins."""

    @FAST
    @given(a=ints, b=ints)
    def test_min_max_abs_on_ints(self, a, b):
        assert (min_(a, b), max_(a, b), abs_(a)) == (min(a, b), max(a, b), abs(a))

    @pytest.mark.parametrize(
        "a, b", [((1, 5), (2, 0)), ((3, 1), (3, 2))], ids=["first element decides", "tie on first"]
    )
    def test_min_max_on_tuples_are_lexicographic(self, a, b):
        assert (min_(a, b), max_(a, b)) == (min(a, b), max(a, b))

    @pytest.mark.parametrize("a, expected", [(-9, -1), (0, 0), (4, 1)], ids=["negative", "zero", "positive"])
    def test_sign(self, a, expected):
        assert sign(a) == expected

    def test_when(self):
        assert (when(True, 7), when(False, 7)) == (7, 0)

    @pytest.mark.parametrize(
        "then, other",
        [
            pytest.param(3, -4, id="ints"),
            pytest.param((1, 2), (3, 4), id="tuples"),
            pytest.param(Account("alice", cash_quote=5), Account("bob", cash_quote=9), id="records"),
        ],
    )
    def test_ite_concrete_returns_the_chosen_object(self, then, other):
        assert ite(True, then, other) is then
        assert ite(False, then, other) is other

    def test_sum_starts_from_int_zero(self):
        assert sum_([]) == 0 and type(sum_([])) is int
        assert sum_([3, -5, 9]) == 7

    def test_safe_divisor(self):
        assert (safe_divisor(5), safe_divisor(0), safe_divisor(-3)) == (5, 1, 1)

    def test_select_takes_first_true_condition(self):
        assert select([False, True, True], ["a", "b", "c"], "z") == "b"
        assert select([False, False], ["a", "b"], "z") == "z"

    def test_branch_runs_only_the_chosen_side(self):
        def boom():
            raise AssertionError("the other side ran")

        assert branch(True, lambda: 1, boom) == 1
        assert branch(False, boom, lambda: 2) == 2

    @FAST
    @given(a=ints, b=ints)
    def test_symbolic_path_agrees(self, a, b):
        with evaluating_backend():
            got = (_v(min_(Sym(a), Sym(b))), _v(max_(Sym(a), Sym(b))), _v(abs_(Sym(a))), _v(sign(Sym(a))))
        assert got == (min(a, b), max(a, b), abs(a), (a > 0) - (a < 0))

    @pytest.mark.parametrize("cond", [True, False], ids=["condition holds", "condition fails"])
    def test_symbolic_ite_merges_records_field_by_field(self, symbolic, cond):
        a, b = Pair("p", 1, (2, 3)), Pair("p", 10, (20, 3))
        merged = ite(SymBool(cond), a, b)
        chosen = a if cond else b
        assert (merged.name, merged.x, merged.y) == (chosen.name, chosen.x, chosen.y)

    def test_symbolic_ite_refuses_structural_differences(self, symbolic):
        with pytest.raises(TypeError) as info:
            ite(SymBool(True), Pair("p", 1, 2), Pair("q", 1, 2))
        assert str(info.value) == "ite over structural values that differ: 'p' and 'q'"

    def test_symbolic_ite_refuses_tuples_of_different_lengths(self, symbolic):
        with pytest.raises(TypeError) as info:
            ite(SymBool(True), (1, 2), (1, 2, 3))
        assert str(info.value) == "ite over tuples of different lengths"

    def test_symbolic_value_without_backend_is_an_error(self, monkeypatch):
        monkeypatch.setattr(arith, "_backend", None)
        with pytest.raises(TypeError) as info:
            min_(Sym(1), 2)
        assert str(info.value) == (
            "a symbolic value reached the engine but no symbolic backend is registered; "
            "import solvent.solver to use z3 terms"
        )


class TestBooleans:
    """``and_``, ``or_``, ``not_`` and friends are the usual connectives on Python bools."""

    @pytest.mark.parametrize("a", [True, False], ids=["a", "not a"])
    @pytest.mark.parametrize("b", [True, False], ids=["b", "not b"])
    def test_truth_tables(self, a, b):
        assert (and_(a, b), or_(a, b), not_(a), implies(a, b)) == (a and b, a or b, not a, (not a) or b)

    def test_empty_connectives(self):
        assert (and_(), or_(), all_([]), any_([])) == (True, False, True, False)

    def test_results_are_bools(self):
        assert type(and_(True, True)) is bool and type(or_(False, False)) is bool

    @pytest.mark.parametrize("a", [True, False], ids=["a", "not a"])
    @pytest.mark.parametrize("b", [True, False], ids=["b", "not b"])
    def test_symbolic_path_agrees(self, symbolic, a, b):
        got = (_v(and_(SymBool(a), SymBool(b))), _v(or_(SymBool(a), SymBool(b))), _v(not_(SymBool(a))))
        assert got == (a and b, a or b, not a)

    def test_symbolic_simplifies_constants(self, symbolic):
        s = SymBool(True)
        assert and_(s, True) is s and or_(s, False) is s
        assert and_(s, False) is False and or_(s, True) is True

    def test_is_concrete(self):
        assert is_concrete(1, True, -5) and not is_concrete(1, Sym(2)) and not is_concrete(Fraction(1, 2))


class TestRatio:
    """``Ratio`` compares ``num/den`` by cross-multiplying, as the exact fractions compare."""

    @FAST
    @given(a=ints, b=st.integers(1, 10**6), c=ints, d=st.integers(1, 10**6))
    def test_matches_fraction_order(self, a, b, c, d):
        x, y = Ratio(a, b), Ratio(c, d)
        assert (x.ge(y), x.gt(y)) == (Fraction(a, b) >= Fraction(c, d), Fraction(a, b) > Fraction(c, d))

    @pytest.mark.parametrize(
        "x, y, ge, gt",
        [
            pytest.param(Ratio(1, 2), Ratio(2, 4), True, False, id="equal value, different terms"),
            pytest.param(Ratio(2, 3), Ratio(3, 5), True, True, id="2/3 > 3/5"),
            pytest.param(Ratio(-1, 3), Ratio(0, 1), False, False, id="negative below zero"),
        ],
    )
    def test_table(self, x, y, ge, gt):
        assert (x.ge(y), x.gt(y)) == (ge, gt)

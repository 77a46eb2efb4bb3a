"""The arithmetic interface the engine is written over: one semantics, two interpreters.

Every rule in ``solvent.rules`` computes with the functions of this module and Python's ``+ - *``
and comparison operators, never with ``if`` on data, ``and``/``or``, ``//`` or ``abs``. On Python
``int`` (and ``bool``) they evaluate at once: that is the concrete engine hypothesis drives. On
symbolic terms they build formulas: ``solvent.solver`` registers a backend (z3) and the very same
engine functions become the formulas the solver checks.

Money, prices and sizes are integers in declared quanta; rates are integers in parts per million
(ppm). Division appears only through :func:`div` with a required, named rounding direction.

Formula glossary used across the rules:
    ppm   parts per million: ``rate = ppm / 1_000_000``
    lots  position size in the market's lot unit (signed: + long, - short)
    quote amounts in the quote quantum (for example 0.01 USDT)
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

PPM = 1_000_000


class Rounding(enum.Enum):
    """A rounding direction. Every division in the engine names one of these."""

    FLOOR = "floor"
    CEIL = "ceil"
    HALF_EVEN = "half_even"


class SymbolicBackend:
    """Operations a symbolic interpreter supplies. ``solvent.solver`` registers one for z3."""

    def ite(self, cond: Any, then: Any, other: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def and_(self, *conds: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def or_(self, *conds: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def not_(self, cond: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def floor_div(self, n: Any, d: Any) -> Any:  # pragma: no cover - interface
        """Floor of ``n / d`` for a divisor known to be positive."""
        raise NotImplementedError


_backend: SymbolicBackend | None = None


def register_backend(backend: SymbolicBackend) -> None:
    """Install the symbolic interpreter used when a value is not a Python int or bool."""
    global _backend
    _backend = backend


def _symbolic() -> SymbolicBackend:
    if _backend is None:
        raise TypeError(
            "a symbolic value reached the engine but no symbolic backend is registered; "
            "import solvent.solver to use z3 terms"
        )
    return _backend


def is_concrete(*values: Any) -> bool:
    """True when every value is a plain Python int or bool (the concrete interpreter)."""
    for v in values:
        if type(v) is not int and type(v) is not bool:
            return False
    return True


# --- booleans -----------------------------------------------------------------------------


def and_(*conds: Any) -> Any:
    """Conjunction; ``True`` for no arguments."""
    if is_concrete(*conds):
        return all(conds)
    rest = [c for c in conds if c is not True]
    if any(c is False for c in rest):
        return False
    return _symbolic().and_(*rest) if len(rest) > 1 else rest[0]


def or_(*conds: Any) -> Any:
    """Disjunction; ``False`` for no arguments."""
    if is_concrete(*conds):
        return any(conds)
    rest = [c for c in conds if c is not False]
    if any(c is True for c in rest):
        return True
    return _symbolic().or_(*rest) if len(rest) > 1 else rest[0]


def not_(cond: Any) -> Any:
    """Negation."""
    if type(cond) is bool:
        return not cond
    return _symbolic().not_(cond)


def all_(conds: Iterable[Any]) -> Any:
    """Conjunction of an iterable of conditions."""
    return and_(*conds)


def any_(conds: Iterable[Any]) -> Any:
    """Disjunction of an iterable of conditions."""
    return or_(*conds)


def implies(a: Any, b: Any) -> Any:
    """``a → b``."""
    return or_(not_(a), b)


# --- choice -------------------------------------------------------------------------------


def ite(cond: Any, then: Any, other: Any) -> Any:
    """``then`` if ``cond`` else ``other``; works on numbers, booleans, tuples and attrs records.

    Records and tuples are chosen field by field, so a whole account or book can be selected by a
    symbolic condition. Fields that are not numbers (names, roles) must agree on both sides.
    """
    if type(cond) is bool:
        return then if cond else other
    return _ite_symbolic(cond, then, other)


def _ite_symbolic(cond: Any, then: Any, other: Any) -> Any:
    if then is other:
        return then
    if attrs.has(type(then)):
        if type(then) is not type(other):
            raise TypeError(f"ite over different record types: {type(then)} and {type(other)}")
        changes = {}
        for field in attrs.fields(type(then)):
            a, b = getattr(then, field.name), getattr(other, field.name)
            if a is not b:
                changes[field.name] = _ite_symbolic(cond, a, b)
        return attrs.evolve(then, **changes) if changes else then
    if isinstance(then, tuple):
        if len(then) != len(other):
            raise TypeError("ite over tuples of different lengths")
        return tuple(_ite_symbolic(cond, a, b) for a, b in zip(then, other, strict=True))
    if isinstance(then, (str, enum.Enum)) or then is None:
        if then != other:
            raise TypeError(f"ite over structural values that differ: {then!r} and {other!r}")
        return then
    if isinstance(then, bool) and isinstance(other, bool) and then == other:
        return then
    if type(then) is int and type(other) is int and then == other:
        return then
    return _symbolic().ite(cond, then, other)


def min_(a: Any, b: Any) -> Any:
    """The smaller of two numbers."""
    if is_concrete(a, b):
        return a if a <= b else b
    return ite(a <= b, a, b)


def max_(a: Any, b: Any) -> Any:
    """The larger of two numbers."""
    if is_concrete(a, b):
        return a if a >= b else b
    return ite(a >= b, a, b)


def abs_(a: Any) -> Any:
    """Absolute value."""
    if is_concrete(a):
        return -a if a < 0 else a
    return ite(a < 0, -a, a)


def sign(a: Any) -> Any:
    """-1, 0 or +1."""
    return ite(a > 0, 1, ite(a < 0, -1, 0))


def when(cond: Any, amount: Any) -> Any:
    """``amount`` if ``cond`` else 0: an amount that only exists on one branch."""
    return ite(cond, amount, 0)


def sum_(values: Iterable[Any]) -> Any:
    """Sum that starts from the integer 0 (stays concrete for concrete inputs)."""
    total: Any = 0
    for v in values:
        total = total + v
    return total


# --- division with named rounding ---------------------------------------------------------


def div(n: Any, d: Any, *, rounding: Rounding) -> Any:
    """``n / d`` rounded in the named direction; the divisor must be positive.

    Correct for every sign of the numerator. Python's ``//`` and z3's integer ``/`` agree when
    the divisor is positive (floor), which is why the domain is ``d > 0``; the concrete
    interpreter checks it, the symbolic one relies on the caller's guard.

    Formula: floor = ⌊n/d⌋; ceil = -⌊-n/d⌋; half_even = nearest, ties to the even quotient.
    """
    if is_concrete(n, d):
        if d <= 0:
            raise ZeroDivisionError(f"div needs a positive divisor, got {d}")
        if rounding is Rounding.FLOOR:
            return n // d
        if rounding is Rounding.CEIL:
            return -((-n) // d)
        q, r = divmod(n, d)
        twice = 2 * r
        if twice > d or (twice == d and q % 2 == 1):
            return q + 1
        return q
    backend = _symbolic()
    if rounding is Rounding.FLOOR:
        return backend.floor_div(n, d)
    if rounding is Rounding.CEIL:
        return -backend.floor_div(-n, d)
    q = backend.floor_div(n, d)
    twice = 2 * (n - q * d)
    odd = (q - 2 * backend.floor_div(q, 2)) == 1
    return ite(or_(twice > d, and_(twice == d, odd)), q + 1, q)


def mul_ppm(amount: Any, ppm: Any, *, rounding: Rounding) -> Any:
    """``amount × ppm / 1,000,000`` rounded in the named direction."""
    return div(amount * ppm, PPM, rounding=rounding)


def safe_divisor(d: Any) -> Any:
    """``d`` where it is positive, else 1: a divisor for a branch whose result is discarded."""
    return ite(d > 0, d, 1)


# --- ratios -------------------------------------------------------------------------------


@attrs.frozen
class Ratio:
    """A non-negative-denominator ratio ``num / den`` compared by cross-multiplying, never divided."""

    num: Any
    den: Any

    def ge(self, other: Ratio) -> Any:
        """``self ≥ other`` for positive denominators."""
        return self.num * other.den >= other.num * self.den

    def gt(self, other: Ratio) -> Any:
        """``self > other`` for positive denominators."""
        return self.num * other.den > other.num * self.den


def select(index_conds: Sequence[Any], values: Sequence[Any], default: Any) -> Any:
    """The value whose condition holds first (an ``ite`` chain), else ``default``."""
    result = default
    for cond, value in reversed(list(zip(index_conds, values, strict=True))):
        result = ite(cond, value, result)
    return result


def branch(cond: Any, then: Callable[[], Any], other: Callable[[], Any]) -> Any:
    """Evaluate one side concretely, or both and merge them with :func:`ite` symbolically."""
    if type(cond) is bool:
        return then() if cond else other()
    return _ite_symbolic(cond, then(), other())

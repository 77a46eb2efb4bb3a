"""Linear facts that are true of exact products and quotients: what purification keeps.

Each function returns formulas that hold for *every* integer value of their arguments once the
fresh variable is given its exact value (``p = a·b``); adding them to a purified query is
therefore sound (``tests/solver/test_linearize.py`` checks them against random integers).
"""

from __future__ import annotations

import z3


def shared_factor_facts(f: z3.ArithRef, big_a: z3.ArithRef, a: z3.ArithRef, big_b: z3.ArithRef, b: z3.ArithRef) -> list[z3.BoolRef]:
    """``A = a·f`` and ``B = b·f``: ``A ± B`` has the sign of ``(a ± b)`` times the sign of ``f``."""
    facts = []
    for whole, part in ((big_a + big_b, a + b), (big_a - big_b, a - b)):
        facts += [
            z3.Implies(f > 0, z3.And((whole > 0) == (part > 0), (whole == 0) == (part == 0))),
            z3.Implies(f < 0, z3.And((whole > 0) == (part < 0), (whole == 0) == (part == 0))),
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
    return [
        (p == 0) == z3.Or(a == 0, b == 0),
        (p > 0) == z3.Or(z3.And(a > 0, b > 0), z3.And(a < 0, b < 0)),
    ]


def product_magnitude_facts(p: z3.ArithRef, a: z3.ArithRef, b: z3.ArithRef) -> list[z3.BoolRef]:
    """Magnitudes (``|a| ≥ 1 → |p| ≥ |b|``), units (``a = ±1 → p = ±b``), and ``p ≥ 0`` for a square."""
    facts = []
    for x, y in ((a, b), (b, a)):
        facts += [
            z3.Implies(z3.And(x >= 1, y >= 0), p >= y),
            z3.Implies(z3.And(x >= 1, y <= 0), p <= y),
            z3.Implies(z3.And(x <= -1, y >= 0), p <= -y),
            z3.Implies(z3.And(x <= -1, y <= 0), p >= -y),
            z3.Implies(x == 1, p == y),
            z3.Implies(x == -1, p == -y),
        ]
    if a.eq(b):
        facts.append(p >= 0)
    return facts


__all__ = ["product_facts", "product_magnitude_facts", "product_sign_facts", "shared_factor_facts"]

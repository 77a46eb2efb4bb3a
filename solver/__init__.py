"""solvent.solver: the z3 interpretation of the engine.

Importing this package registers :class:`~solvent.solver.z3_backend.Z3Backend` with
``solvent.rules.arith``, so the engine functions accept z3 terms from then on.
"""

from solvent.rules.arith import register_backend
from solvent.solver.z3_backend import Z3Backend

BACKEND = Z3Backend()
register_backend(BACKEND)

__all__ = ["BACKEND", "Z3Backend"]

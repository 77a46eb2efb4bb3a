"""What the solver tests ask of z3 terms themselves."""

from __future__ import annotations

import z3


def occurs(term: z3.ExprRef, within: z3.ExprRef) -> bool:
    """Whether ``term`` is a subterm of ``within`` (z3 shares equal terms, so by id)."""
    seen, stack = set(), [within]
    while stack:
        e = stack.pop()
        if e.get_id() == term.get_id():
            return True
        if e.get_id() not in seen:
            seen.add(e.get_id())
            stack.extend(e.children())
    return False

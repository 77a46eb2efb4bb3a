"""Which books z3 asks a claim on, by margin mode: one question per margin scope (issue 13 item 21,
docs/portfolio.md decision 3d).

A policy that declares no margin modes, or allows isolated margin nowhere, has one scope: every
trader cross-margined, the question as it always was. A policy that allows both modes (cross in
every market of the book, isolated in some) has two, each asked as a question of its own:

- ``all-cross``: every trader cross-margined, on the bounds as given (the same terms, so the same
  verdict in the same units, as the policy without its modes declared);
- ``isolated``: the first trader's position in the last market that allows it isolated, on its own
  margin, and margin moves beside the other events, on one trader fewer (at least one): as many
  trading positions as the all-cross book (decision 3c measured why: an isolated position beside
  the all-cross book's traders costs like a third trader, and binance's solvency claims went
  undecided at 40M units a question there; with one trader fewer they are proved in 0.55M-3.8M).

A policy whose modes leave some market isolated-only has no all-cross book: its one scope is the
isolated one on the bounds as given (the question ``solvent check`` asked before scopes).

The claim's verdict over its scopes is :func:`solvent.solver.verdicts.joined`: proved only where
every scope is, refuted (with that scope's replayed story) where either is.
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.solver.bounds import Bounds

#: every trader cross-margined
ALL_CROSS = "all-cross"
#: one trader's position isolated, with margin moves
ISOLATED = "isolated"
#: the scopes' names, in the order they are asked
SCOPES = (ALL_CROSS, ISOLATED)

#: how a report names the books each scope covers
LABELS = {ALL_CROSS: "all-cross books", ISOLATED: "books with an isolated position"}


def margin_scopes(policy: Any, markets: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The margin scopes a claim on ``policy`` is asked on (see the module docstring), on the book
    of ``markets`` (default: the policy's own, or its one market)."""
    names = markets or policy.market_names or ("PERP",)
    if not policy.isolated_markets(names):
        return (ALL_CROSS,)
    if all("cross" in policy.modes_in(name) for name in names):
        return SCOPES
    return (ISOLATED,)


def without_modes(policy: Any) -> Any:
    """``policy`` with no margin modes declared: the claims that apply to it are the ones the
    all-cross scope asks (a claim about isolated positions only, ``isolated-loss-contained``, has
    nothing to judge on all-cross books), so that scope asks what the policy without its modes asks."""
    market = tuple(attrs.evolve(spec, modes=()) for spec in policy.market)
    return attrs.evolve(policy, margin=attrs.evolve(policy.margin, modes=()), market=market)


def scope_bounds(bounds: Bounds, scope: str, scopes: tuple[str, ...]) -> Bounds:
    """``bounds`` for the question of ``scope``, one of ``scopes`` (:func:`margin_scopes`)."""
    if scope == ALL_CROSS:
        return attrs.evolve(bounds, isolated=0, event_kinds=tuple(k for k in bounds.event_kinds if k != "margin"))
    if scope != ISOLATED:
        raise ValueError(f"unknown margin scope {scope!r}; known: {', '.join(SCOPES)}")
    kinds = bounds.event_kinds if "margin" in bounds.event_kinds else (*bounds.event_kinds, "margin")
    accounts = bounds.accounts if ALL_CROSS not in scopes else max(bounds.accounts - 1, 1)
    return attrs.evolve(bounds, accounts=accounts, isolated=1, event_kinds=kinds)


def prove_on_scopes(policy: Any, invariant: str, bounds: Bounds, scopes: tuple[str, ...], **options: Any) -> Any:
    """``solver.prove.prove`` of ``invariant`` on each of ``scopes`` (each a question of its own,
    within ``bounds.effort``, independent of what was asked before it), joined
    (``solver.verdicts.joined``); with fewer than two scopes, the one question on ``bounds``."""
    from solvent.solver.effort import question
    from solvent.solver.prove import prove
    from solvent.solver.verdicts import ScopeAnswer, joined

    parts = []
    for scope in scopes if len(scopes) > 1 else (None,):
        asked = bounds if scope is None else scope_bounds(bounds, scope, scopes)
        with question():
            parts.append(ScopeAnswer(LABELS.get(scope or "", ""), prove(policy, invariant, asked, **options)))
    return joined(parts)


__all__ = [
    "ALL_CROSS",
    "ISOLATED",
    "LABELS",
    "SCOPES",
    "margin_scopes",
    "prove_on_scopes",
    "scope_bounds",
    "without_modes",
]

"""Percolator Gen B's payer lemma: a trader opposite a bankrupt one pays only for the lots it gives up,
and at most the move on each lot (docs/solver-notes.md#gen-bs-payer-lemma-per-lot-session-24).

Gen B closes a bankrupt position of ``q = |s|`` lots against the opposing side (``side_index.lots_taken``:
each holder gives up ``t_i`` lots, the exact split of ``q`` by its lots) and charges the deficit ``D``
the fund left by those lots (``side_index.charge_per_lot``, ``k_up``): ``ΔK = ⌈D·SCALE/OI⌉`` over the
lots taken (``OI = Σ t_i``, at least ``q``), each holder ``⌈t_i·ΔK/SCALE⌉``. Where the bankrupt
account's deficit is at most ``m`` a lot (``D ≤ q·m``: an account at or above zero before a move of
``m`` a lot, its lots kept), each trader pays at most ``m·t_i``. Asked of the engine's own build on a
free book of :data:`STEP_TRADERS` traders and the order book, every number free (``D`` and ``m`` too),
each lemma exact; z3 does not decide the claim whole (unknown within 30M units: ``t_i·ΔK`` and the two
quotients), so it is cut at the engine's own ``ΔK`` term (the first quotient ``charge_k_up`` builds,
recorded as the engine builds it, :func:`delta_k_recorded`):

1. **the lots taken** (``lots_taken``): each trader's ``t_i`` is at least 0 (and at most its opposing
   lots where the open interest covers ``q``);
2. **the charge per lot** (``charge_per_lot``): from ``0 ≤ D ≤ q·m``, the engine's ``ΔK ≤ m·SCALE``;
3. **a payer's share**: each trader's charge, the engine's term with its ``t_i`` and ``ΔK`` as free
   numbers (``t ≥ 0``, ``k ≤ m·SCALE``), is at most ``m·t``.

3 is valid for every ``t`` and ``k``, so for the engine's own terms, which 1 and 2 put within its
premises: each trader's charge is at most ``m`` times the lots it gives up, and a trader that gives up
none pays nothing. That is the per-lot half of the payer argument for Gen B's four payer claims
(no-negative-equity, loss-bounded-by-collateral, principal-protected, claims-backed); the sweep's
aggregate (every loser's deficit at most ``m`` a lot at its resolution, the winners never liquidated,
for every N) is not built (the notes' section says what is left).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import z3

import solvent.rules.side_index as side_index
import solvent.rules.socialized_loss as socialized_loss
from solvent.rules.arith import abs_, sum_
from solvent.rules.book import Book
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.policy import Policy
from solvent.rules.side_index import SCALE
from solvent.solver.bounds import Bounds
from solvent.solver.story import symbolic_book

#: traders of the free book the lemmas are asked on (the bankrupt account is the first)
STEP_TRADERS = 3
#: the free numbers' prefix
FREE = "spayer."

Valid = Callable[..., str]


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def _term(x: Any) -> Any:
    return x if isinstance(x, z3.ExprRef) else z3.IntVal(x)


@contextmanager
def delta_k_recorded() -> Iterator[list[Any]]:
    """Within the block, each quotient ``side_index`` builds (its ``div``) is appended to the list
    yielded, in build order; the engine's own function is called as before. ``charge_k_up``'s first
    is its ``ΔK``."""
    seen: list[Any] = []
    div = side_index.div

    def recorded(n: Any, d: Any, *, rounding: Any) -> Any:
        out = div(n, d, rounding=rounding)
        seen.append(out)
        return out

    side_index.div = recorded  # type: ignore[attr-defined]
    try:
        yield seen
    finally:
        side_index.div = div  # type: ignore[attr-defined]


def _charged(ctx: Ctx, name: str) -> Any:
    """What ``name`` pays the bankrupt account by the per-lot charge (its guarded transfers)."""
    return sum_(
        z3.If(_b(g.guard), _term(g.item.amount_quote), 0)
        for g in ctx.entries
        if g.item.reason is Reason.SOCIALIZED_LOSS and g.item.source == name
    )


def _reads(term: Any, var: Any) -> bool:
    """Whether ``term`` has ``var`` among its subterms."""
    seen, todo = set(), [term]
    while todo:
        t = todo.pop()
        if t.eq(var):
            return True
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        todo.extend(t.children())
    return False


def free_book(bounds: Bounds | None = None) -> Book:
    """A free book of :data:`STEP_TRADERS` traders (every number a variable)."""
    book, _ = symbolic_book(Bounds(accounts=STEP_TRADERS, events=1) if bounds is None else bounds)
    return book


def lemmas(policy: Policy, valid: Valid, book: Book | None = None) -> list[str]:
    """The module's three lemmas on ``book`` (default :func:`free_book`), its first trader bankrupt:
    ``valid(name, premise, claim, exact=True)`` for each (it raises where one does not hold or is not
    decided). Returns their names."""
    book = free_book() if book is None else book
    bankrupt = book.traders[0].name
    payers = [a.name for a in book.traders[1:]]
    q = abs_(book.account(bankrupt).size_lots)
    move, deficit = z3.Int(f"{FREE}move"), z3.Int(f"{FREE}deficit")
    taken = dict(side_index.lots_taken(book, bankrupt, q))
    with delta_k_recorded() as quotients:
        ctx, _ = socialized_loss.charge_per_lot(Ctx(book), policy.rounding, bankrupt, deficit, book)
    if not quotients:
        raise ValueError("the per-lot charge built no quotient (not k_up's ΔK)")
    delta_k = quotients[0]
    opposing = dict(side_index.opposing_lots(book, bankrupt))
    oi = sum_(opposing.values())
    out = []
    for name in payers:
        t = _term(taken[name])
        said = f"the lots taken from {name} closing {bankrupt}'s q = |s| (side_index.lots_taken)"
        out.append(valid(f"{said}: at least 0", [], _b(t >= 0), exact=True))
        out.append(
            valid(
                f"{said}: at most its opposing lots where they cover q",
                [_b(q <= oi)],
                _b(t <= _term(opposing[name])),
                exact=True,
            )
        )
    premise = [move >= 0, deficit >= 0, deficit <= q * move]
    out.append(
        valid(
            f"the per-lot charge of {bankrupt}'s deficit D ≤ q·m (charge_per_lot): ΔK ≤ m·{SCALE:,}",
            premise,
            _b(_term(delta_k) <= move * SCALE),
            exact=True,
        )
    )
    k = z3.Int(f"{FREE}delta_k")
    for name in payers:
        t = z3.Int(f"{FREE}taken.{name}")
        share = z3.substitute(_charged(ctx, name), (_term(delta_k), k), (_term(taken[name]), t))
        if not _reads(share, k):
            raise ValueError(f"{name}'s share does not read the charge's ΔK: not charge_k_up's build")
        out.append(
            valid(
                f"{name}'s share of the per-lot charge, its lots taken t and ΔK free (t ≥ 0, ΔK ≤ m·{SCALE:,}): "
                "at most m·t",
                [move >= 0, t >= 0, k <= move * SCALE],
                _b(share <= move * t),
                exact=True,
            )
        )
    return out


__all__ = ["FREE", "STEP_TRADERS", "delta_k_recorded", "free_book", "lemmas"]

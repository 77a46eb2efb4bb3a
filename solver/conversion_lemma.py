"""The opening's conversion lemma (percolator Gen A, spec v7 §6.2: ``haircut_ratio.convert``).

Gen A's event opens by converting each trader's and the order book's warmable profit ``x`` into
capital ``y = floor(x × h_num / h_den)`` at one pre-conversion ``h = min(Residual, PNL_pos_tot) /
PNL_pos_tot`` read on every account, the part not converted moving into the order book's loss
beyond its cash. The product over symbolic totals is what z3 does not decide inside a whole step, and
``h`` reads every account, so a per-account argument would see the opening couple the traders.
Here the conversion's own terms (recorded as the engine builds them, ``conversions_recorded``) are
asked, exact, the facts the arguments need: every account's ``0 ≤ y ≤ x`` and ``y = x`` where
``Residual ≥ PNL_pos_tot``; every trader's lost part ``0 ≤ lost ≤ x − y`` (its junior profit after
the opening ``w − x ≥ 0``); the order book's cash only grows (its hole only shrinks). An argument
then puts a free number for each term (``conv.<name>.y``, ``conv.<name>.lost``, the book's cash
after the opening its cash before plus ``conv.<book>.received``) under the same facts: a formula
proved for every such number holds for the engine's terms, which the lemma proved meet the facts
(docs/solver-notes.md#gen-as-conversion-taught-to-the-every-n-argument-session-24).
"""

from __future__ import annotations

from typing import Any

import z3

from solvent.rules.arith import all_, implies
from solvent.rules.book import Book, Role
from solvent.rules.engine import opening
from solvent.rules.haircut_ratio import conversions_recorded
from solvent.rules.policy import Policy


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


#: the conversion's free numbers' prefix (each account's ``y``, ``lost``; the book's cash received)
CONVERTED = "conv.{}."
#: the conversion lemma's name (its claims: :func:`conversion_parts`)
CONVERSION = "the opening's conversion (haircut_ratio.convert, {traders} traders and the book)"


def _opened_cash(policy: Policy, book: Book) -> tuple[str, Any]:
    """The order book's name and its cash after the event's opening (the engine's ``opening``)."""
    order_book = book.role(Role.LIQUIDITY).name
    return order_book, opening(policy, book).book.account(order_book).cash_quote


def conversion_parts(
    policy: Policy, book: Book
) -> tuple[list[tuple[str, Any]], list[tuple[Any, Any]], dict[str, list[Any]]]:
    """The opening's conversion (``haircut_ratio.convert`` at the engine's ``opening``, its terms
    recorded): ``(claims, freed, facts)``. ``claims``: what the conversion lemma asks of the engine's
    terms, each ``(name, claim)``: every account's capital ``y`` within ``0 ≤ y ≤ x`` and ``y = x``
    where ``h_num ≥ h_den`` (Residual ≥ PNL_pos_tot); every trader's lost part ``0 ≤ lost ≤ x − y``
    (its junior profit after ``w − x ≥ 0``); the order book's cash only grows (its hole only shrinks).
    ``freed``: each of those terms and the free number put for it (``conv.<name>.y``, ``.lost``; the
    book's cash after the opening ``c + conv.<book>.received``). ``facts``: per account, the same
    claims on its free numbers (what each settlement lemma takes as proved)."""
    order_book, cash_after = _opened_cash(policy, book)
    with conversions_recorded() as seen:
        opening(policy, book)
    claims: list[tuple[str, Any]] = []
    freed: list[tuple[Any, Any]] = []
    facts: dict[str, list[Any]] = {}
    for h_num, h_den, accounts in seen:
        for name, x, y, lost in accounts:
            free_y = z3.Int(CONVERTED.format(name) + "y")
            claims += [
                (f"{name}'s capital 0 ≤ y ≤ x", _b(all_([y >= 0, y <= x]))),
                (f"{name}'s y = x where Residual ≥ PNL_pos_tot", _b(implies(h_num >= h_den, y == x))),
            ]
            freed.append((y, free_y))
            facts[name] = [free_y >= 0, free_y <= x]
            if name == order_book:
                continue
            free_lost = z3.Int(CONVERTED.format(name) + "lost")
            claims.append((f"{name}'s lost part 0 ≤ lost ≤ x − y", _b(all_([lost >= 0, lost <= x - y]))))
            freed.append((lost, free_lost))
            facts[name] += [free_lost >= 0, free_lost <= x - free_y]
    if seen:
        cash = book.account(order_book).cash_quote
        received = z3.Int(CONVERTED.format(order_book) + "received")
        claims.append((f"{order_book}'s cash only grows (its hole only shrinks)", _b(cash_after >= cash)))
        freed.append((cash_after, cash + received))
        facts.setdefault(order_book, []).append(received >= 0)
    return claims, [(a, b) for a, b in freed if z3.is_expr(a)], facts


def freed_all(freed: list[tuple[Any, Any]], term: Any) -> Any:
    """``term`` with each of the conversion's terms put as its free number (``conversion_parts``' ``freed``)."""
    return z3.substitute(term, *freed) if freed and z3.is_expr(term) else term


__all__ = ["CONVERSION", "CONVERTED", "conversion_parts", "freed_all"]

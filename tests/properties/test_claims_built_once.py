"""deficit-charged-once and waterfall-order build each account's sums (and each layer's "used" and
"spent") once where a cascade resolves an account in many branches: the very same z3 terms as the
predicates that built them per resolution and per pair (kept here as the reference), in fewer build
steps (docs/solver-notes.md#percolator-at-n--4-session-20)."""

from __future__ import annotations

from typing import Any

import pytest

from solvent.properties import catalog
from solvent.properties.catalog import (
    WATERFALL_REASONS,
    _claims_through,
    _fee_to_close_paid,
    _no_haircut_while_fund_has_money,
    _spent,
)
from solvent.rules.arith import all_, and_, implies, sum_, when
from solvent.rules.ledger import Reason
from solvent.rules.outcomes import Bankrupt, LayerUsed, Residual
from solvent.rules.presets import load_preset
from solvent.solver import effort
from solvent.solver.bounds import Bounds
from solvent.solver.story import run, slots, symbolic_book, view


def _charged_once_per_resolution(view: Any) -> Any:
    checks = []
    for b in view.outcomes_of(Bankrupt):
        name = b.item.account
        layers = [g for g in view.outcomes_of(LayerUsed) if g.item.account == name]
        covered = sum_(when(g.guard, g.item.covered_quote) for g in layers)
        residual = sum_(
            when(g.guard, g.item.amount_quote) for g in view.outcomes_of(Residual) if g.item.account == name
        )
        received = (
            view.inflow(name, WATERFALL_REASONS)
            - view.outflow(name, {Reason.PRO_RATA_DUST, Reason.ADL_SURPLUS})
            - _fee_to_close_paid(view, name)
        )
        nonnegative = all_(implies(g.guard, g.item.covered_quote >= 0) for g in layers)
        checks.append(
            implies(b.guard, and_(covered + residual == b.item.deficit_quote, nonnegative, received <= covered))
        )
    return all_(checks)


def _order_per_pair(view: Any) -> Any:
    used = list(view.outcomes_of(LayerUsed))
    checks = [_no_haircut_while_fund_has_money(view, used)]
    claims = _claims_through(view, used)
    for upper, claim in zip(used, claims, strict=True):
        for lower in used:
            if upper.item.account == lower.item.account and upper.item.index < lower.item.index:
                lower_used = and_(lower.guard, lower.item.covered_quote > 0)
                checks.append(implies(and_(upper.guard, lower_used), _spent(view, upper.item, claim)))
    return all_(checks)


def _views(preset: str, accounts: int) -> list[Any]:
    policy = load_preset(preset)
    bounds = Bounds(accounts=accounts, events=1)
    book, _ = symbolic_book(bounds)
    return [view(policy, r.before, vr) for r in run(policy, book, slots(book, bounds, ())) for vr in r.runs]


def _steps(predicate: Any, v: Any) -> tuple[Any, int]:
    with effort.building(10**12) as meter:
        term = predicate(v)
    return term, meter.spent // effort.BUILD_STEP


@pytest.mark.parametrize(
    ("preset", "accounts", "claim", "reference"),
    [
        ("percolator-gen-b", 3, "deficit-charged-once", _charged_once_per_resolution),
        ("percolator-gen-b", 3, "waterfall-order", _order_per_pair),
        ("mango-v4", 3, "deficit-charged-once", _charged_once_per_resolution),
        ("binance", 3, "deficit-charged-once", _charged_once_per_resolution),
        ("binance", 3, "waterfall-order", _order_per_pair),
    ],
)
def test_the_same_terms(preset: str, accounts: int, claim: str, reference: Any) -> None:
    for v in _views(preset, accounts):
        built, steps = _steps(catalog.get(claim).holds, v)
        expected, reference_steps = _steps(reference, v)
        assert built.eq(expected)
        resolutions = len(list(v.outcomes_of(Bankrupt)))
        names = len({b.item.account for b in v.outcomes_of(Bankrupt)})
        if resolutions > names:  # a cascade: an account resolved in several branches
            assert steps < reference_steps
        else:  # one resolution an account (binance's sweep): the same steps too
            assert steps == reference_steps

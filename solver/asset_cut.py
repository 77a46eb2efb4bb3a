"""The lent asset's deposit-index cut in a per-account argument: what it keeps, as lemmas, and the story
that tests the lead's decision on its rounding dust.

Drift's and Mango v4's asset book couples its traders beyond the system accounts through two cuts
(``rules.lending``): the settlement cut and the lent asset's deposit-index cut. The per-account
arguments that prove ``no-negative-equity`` and ``loss-bounded-by-collateral`` for every N on a book
without assets (``solver.cascade_invariant``, ``solver.cascade_facts``) treat each holder's part of
a shared charge through its own numbers and the charge's totals, as the exact split lemma treats the
haircut's shares. Carried to the asset book, a trader's turn would need, of the cover of another
trader's unpaid borrow (``lending.cover_unpaid_borrows``: the fund gives what it holds of the asset and
buys what it can, then the other holders pay ``⌈L·d_j / D⌉``, ``L = min(missing, D)``, the rounded-up
excess to the fund's balance of the asset), four facts, each asked here as exact z3 on the engine's own
function over a free book (:func:`facts`: alice the borrower; the other traders and the order book the
holders, the order book's balance standing for every further holder's total, every number free):

1. **a trader's cut is within its deposit** (:data:`WITHIN`): a trader holding the asset keeps at
   least 0 of it, and one that holds none (or borrows it) is not charged.
2. **the borrower is covered whole** (:data:`COVERED`) where the named assumption holds
   (``solver.assumptions.lent_assumptions``: the holders' balances of the asset and the fund's sum to
   at least 0 on drift and mango-v4, whose layers put the fund first): alice ends with none owed.
3. **the asset is conserved between its holders and the fund** (:data:`CONSERVED`): what the holders
   lose beyond what the borrower receives is the dust the fund's balance of the asset receives.
4. **the assumption is kept** (:data:`KEPT`): after the cover the same sum is still at least 0.

All four hold on drift and mango-v4 (docs/solver-notes.md#the-cuts-dust-spent-by-the-assets-own-fund-session-33).
Before session 33's decision the fund's layer bought with its cash only and the assumption counted the
holders alone: 4 had a model on three traders, the dust having left the holders for a fund balance no
step spent, and :func:`story` broke ``no-negative-equity``, ``loss-bounded-by-collateral`` and
``claims-backed`` at every N from 3 inside every assumption. The decision
(docs/model.md#the-cuts-rounding-dust-is-the-assets-own-insurance-fund-session-33): the fund's balance of
a lent asset is the asset's own insurance fund, spent first by the fund's layer (``lending._fund_buys``)
and counted in the assumption; 4 then follows from 3 (the sum counts the fund) and 2 from the fund's
balance going to the borrower before any holder is cut.

:func:`story` is that book, kept as the decision's test (``tests/solver/test_asset_cut.py``): alice and
carol flat borrowers of 10 quanta each at the price 100 with cash at their initial margin, bob holding
1 quantum and the order book 19 (deposits equal to borrows), the fund at its floor, and the oracle up to
the least price that leaves a borrower a quantum its cash cannot buy back (drift 121, mango-v4 101);
alice's cut rounds two shares of one quantum up to 1 each, a dust of 1 to the fund, and carol's
quantum is the fund's to give. :func:`replayed` replays it on the concrete engine. Nothing in the prover
uses the story: it refutes nothing on any bundled policy.
"""

from __future__ import annotations

from typing import Any

import attrs
import z3

from solvent.properties.catalog import StepView, get
from solvent.properties.scenarios import Story
from solvent.rules.arith import and_, implies, sum_
from solvent.rules.book import Asset, Book, Role, new_book
from solvent.rules.engine import RejectedEvent, step
from solvent.rules.events import AssetPrice
from solvent.rules.ledger import Ctx
from solvent.rules.lending import cover_unpaid_borrows, lent_rule, settlement_holders
from solvent.rules.policy import Policy
from solvent.rules.waterfall import InsuranceFund, TokenLayer
from solvent.solver.assumptions import book_assumptions, lent_assumptions
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.per_account import with_empty_traders
from solvent.solver.story import symbolic_book

#: the claims the story breaks (each trader's value, its value less its debt, every holder's cash)
CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed")
#: the four facts (see the module docstring), by name
WITHIN = "a trader's cut is within its deposit of the asset"
COVERED = "the borrower is covered whole where the asset's deposits cover its borrows (the named assumption)"
CONSERVED = "the asset is conserved between its holders and the fund (the dust goes to the fund)"
KEPT = "the asset's deposits still cover its borrows after the cut (the named assumption kept)"
#: the story's numbers: each borrower's borrow, the price before the move, the traders at N = 3
BORROW, PRICE, TRADERS = 10, 100, ("alice", "bob", "carol")


def applies(policy: Policy) -> str | None:
    """The name of the policy's first collateral asset where it is lent and cut by ``deposit_index``
    (check's asset book holds that asset: ``verdicts.proofs``); None elsewhere."""
    if not policy.collateral:
        return None
    name = policy.collateral[0].name
    rule = lent_rule(policy, name)
    return name if rule is not None and TokenLayer.DEPOSIT_INDEX in rule.bankruptcy else None


def _bounds(policy: Policy, traders: int, isolated: bool = False) -> Bounds:
    """Check's all-cross question's bounds (``verdicts.proofs``) at ``traders`` traders; ``isolated``: its
    isolated scope's (the first trader's position isolated, a margin move beside the other events; a
    ``ValueError`` where the policy allows isolated margin in no market)."""
    name = policy.collateral[0].name
    bounds = Bounds(accounts=traders, events=1, assets=1, asset_names=(name,), event_kinds=("mark", "asset-price"))
    if isolated:
        bounds = attrs.evolve(bounds, isolated=1, event_kinds=(*bounds.event_kinds, "margin"))
    return for_policy(bounds, policy)


def facts(policy: Policy, traders: int = 3) -> list[tuple[str, list[Any], Any]]:
    """The four facts as (name, premise, claim) on the engine's ``cover_unpaid_borrows`` over a free
    book of ``traders`` traders with the asset (alice's unpaid borrow, every number free but the price
    at least 1); the assumption is the prover's own (``assumptions.lent_assumptions``)."""
    free, _ = symbolic_book(_bounds(policy, traders))
    after = cover_unpaid_borrows(policy, Ctx(free), "alice").book
    holders = [a.name for a in settlement_holders(free)]
    fund = free.role(Role.INSURANCE_FUND).name

    def held(book: Book, name: str) -> Any:
        return book.account(name).asset_balances[0]

    def total(book: Book) -> Any:
        return sum_(held(book, n) for n in holders)

    def covers(book: Book) -> Any:
        (assumed,) = lent_assumptions(policy, book)
        return assumed.holds

    premise = [free.assets[0].price_quote >= 1]
    bob = (held(free, "bob"), held(after, "bob"))
    within = and_(implies(bob[0] >= 0, bob[1] >= 0), implies(bob[0] <= 0, bob[1] == bob[0]))
    covered = implies(and_(covers(free), held(free, "alice") < 0), held(after, "alice") == 0)
    conserved = total(after) + held(after, fund) == total(free) + held(free, fund)
    kept = implies(covers(free), covers(after))
    claims = ((WITHIN, within), (COVERED, covered), (CONSERVED, conserved), (KEPT, kept))
    return [(name, [_b(p) for p in premise], _b(claim)) for name, claim in claims]


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def story(policy: Policy, isolated: bool = False) -> Story | None:
    """The three-trader book and oracle move of the module docstring, or None where the policy does
    not cut a lent asset's deposits. ``isolated``: on the isolated scope's book, alice's position in
    the market the policy allows isolated margin in held isolated, empty (None where it allows none)."""
    name = applies(policy)
    if name is None:
        return None
    try:
        positions = _bounds(policy, len(TRADERS), isolated).isolated_positions
    except ValueError:  # no market allows isolated margin: no isolated scope
        return None
    rule = lent_rule(policy, name)
    # each borrower's cash at its initial margin (the borrow at its initial liability weight, rounded up)
    cash = -(-BORROW * PRICE * rule.initial_liability_weight_ppm // 1_000_000)
    layer = policy.layer(InsuranceFund)
    fund = max(rule.fund_floor_quote, 0 if layer is None else layer.floor_quote)
    held = {"alice": -BORROW, "bob": 1, "carol": -BORROW, "liquidity": 2 * BORROW - 1}
    asset = Asset(name, PRICE, sum(held.values()))
    book = new_book(mark_quote=PRICE, traders=TRADERS, assets=(asset,), isolated_positions=positions)
    cashes = {"alice": cash, "carol": cash, "insurance_fund": fund}
    accounts = tuple(
        attrs.evolve(a, cash_quote=cashes.get(a.name, 0), asset_balances=(held.get(a.name, 0),)) for a in book.accounts
    )
    book = attrs.evolve(
        book,
        accounts=accounts,
        net_deposits_quote=sum(cashes.values()),
        market=attrs.evolve(book.market, previous_mark_quote=PRICE),
    )
    # the least move that leaves a borrower a quantum it cannot buy back with its cash
    return Story(book, (AssetPrice(name, cash // BORROW + 1),))


@attrs.frozen
class Replayed:
    """The story on the concrete engine at ``traders`` traders (flat empty ones added past three): the
    assumptions of check's question at N = 3 it does not meet (none: inside), and the claims it breaks."""

    story: Story
    outside: tuple[str, ...]
    broken: tuple[str, ...]


def replayed(policy: Policy, isolated: bool = False, traders: int = len(TRADERS)) -> Replayed | None:
    """:func:`story` replayed on the concrete engine at ``traders`` traders (None where there is none, or
    the engine rejects it)."""
    told = story(policy, isolated)
    if told is None:
        return None
    bounds = _bounds(policy, len(TRADERS), isolated)
    outside = tuple(a.name for a in book_assumptions(policy, told.book, bounds) if a.holds is not True)
    told = attrs.evolve(told, book=with_empty_traders(told.book, traders - len(TRADERS)))
    try:
        view = StepView.of(policy, step(policy, told.book, told.events[0]))
    except RejectedEvent:
        return None
    return Replayed(told, outside, tuple(c for c in CLAIMS if get(c).holds(view) is False))


__all__ = [
    "CLAIMS",
    "CONSERVED",
    "COVERED",
    "KEPT",
    "Replayed",
    "WITHIN",
    "applies",
    "facts",
    "replayed",
    "story",
]

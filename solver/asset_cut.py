"""The lent asset's deposit-index cut in a per-account argument: what it keeps, and where every N fails.

Drift's and Mango v4's asset book couples its traders beyond the system accounts through two cuts
(``rules.lending``): the settlement cut and the lent asset's deposit-index cut. The per-account
arguments that prove ``no-negative-equity`` and ``loss-bounded-by-collateral`` for every N on a book
without assets (``solver.cascade_invariant``, ``solver.cascade_facts``) treat each holder's part of
a shared charge through its own numbers and the charge's totals, as the exact split lemma treats the
haircut's shares. Carried to the asset book, a trader's turn would need, of the cut of another
trader's unpaid borrow (``lending.cover_unpaid_borrows``: the fund buys what it can, then the other
holders pay ``⌈L·d_j / D⌉``, ``L = min(missing, D)``, the rounded-up excess to the fund's balance of
the asset), four facts, each asked here as exact z3 on the engine's own function over a free book
(:func:`facts`: alice the borrower; the other traders and the order book the holders, the order
book's balance standing for every further holder's total, every number free):

1. **a trader's cut is within its deposit** (:data:`WITHIN`): a trader holding the asset keeps at
   least 0 of it, and one that holds none (or borrows it) is not charged. Holds.
2. **the borrower is covered whole** (:data:`COVERED`) where the holders' balances of the asset sum
   to at least 0 (the named assumption ``solver.assumptions.lent_assumptions``): alice ends with none
   owed. Holds.
3. **the asset is conserved between its holders and the fund** (:data:`CONSERVED`): what the holders
   lose beyond what the borrower receives is the dust the fund's balance of the asset receives. Holds.
4. **the assumption is kept** (:data:`KEPT`): after the cut the holders' balances still sum to at
   least 0. **Does not hold**: the dust leaves the holders (3) while the assumption counts holders
   only, so a book at the assumption's boundary (deposits equal to borrows) can end up to one quantum
   short per rounded-up share beyond the first.

4 is what the turn after needs: a second borrower's cut in the same step finds the holders short of
what it is missing, and the quanta it cannot cover stay a borrow (the asset's waterfall ends there).
On two traders 4 holds (drift: unsat in 3,100,247 units): the first cut's payers are the other trader
and the order book, both holders, each share at most its deposit, so the dust is at most what the
deposits exceed the borrow by. On three traders it has a model (drift 152,724 units, mango-v4 218,082),
and the failure needs three: :func:`story` builds it, alice
and carol flat borrowers of 10 quanta each at the price 100 with cash at their initial margin, bob
holding 1 quantum and the order book 19 (deposits equal to borrows), the fund at its floor, and the
oracle up 21% (to 121, the least move that leaves a borrower a quantum it cannot buy back); alice's
cut rounds two shares of one quantum up to 1 each, a dust of 1, and carol is left owing a quantum,
worth −121. Replayed on the concrete engine (:func:`replayed`), inside every assumption of the
question at N = 3 and at every N to 8 with flat empty traders added: the claims are **false for every
N ≥ 3** on this book, so no per-account argument for every N exists while the dust leaves the
holders; where the dust goes is the lead's decision
(docs/solver-notes.md#a-per-account-argument-on-the-asset-books-session-33).
4's model is never reported as a story: only the replay is believed.
"""

from __future__ import annotations

from functools import lru_cache
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
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.per_account import still_refuted, with_empty_traders
from solvent.solver.story import symbolic_book

#: the claims the story breaks (each trader's value, its value less its debt, every holder's cash)
CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed")
#: the four facts (see the module docstring), by name
WITHIN = "a trader's cut is within its deposit of the asset"
COVERED = "the borrower is covered whole where the holders' balances sum to at least 0"
CONSERVED = "the asset is conserved between its holders and the fund (the dust goes to the fund)"
KEPT = "the holders' balances still sum to at least 0 after the cut"
#: the story's numbers: each borrower's borrow, the price before the move, the traders at N = 3
BORROW, PRICE, TRADERS = 10, 100, ("alice", "bob", "carol")
#: the most traders the story is replayed at (flat empty traders added: ``per_account.still_refuted``)
UP_TO = 8


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
    at least 1)."""
    free, _ = symbolic_book(_bounds(policy, traders))
    after = cover_unpaid_borrows(policy, Ctx(free), "alice").book
    holders = [a.name for a in settlement_holders(free)]
    fund = free.role(Role.INSURANCE_FUND).name

    def held(book: Book, name: str) -> Any:
        return book.account(name).asset_balances[0]

    def total(book: Book) -> Any:
        return sum_(held(book, n) for n in holders)

    premise = [free.assets[0].price_quote >= 1]
    bob = (held(free, "bob"), held(after, "bob"))
    within = and_(implies(bob[0] >= 0, bob[1] >= 0), implies(bob[0] <= 0, bob[1] == bob[0]))
    covered = implies(and_(total(free) >= 0, held(free, "alice") < 0), held(after, "alice") == 0)
    conserved = total(after) + held(after, fund) == total(free) + held(free, fund)
    kept = implies(total(free) >= 0, total(after) >= 0)
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
    """The story on the concrete engine: the assumptions of check's question at N = 3 it does not meet
    (none: inside), the claims it breaks, and the most traders (to :data:`UP_TO`) it still breaks
    each at, flat empty traders added."""

    story: Story
    outside: tuple[str, ...]
    broken: tuple[str, ...]
    up_to: tuple[tuple[str, int], ...]

    @property
    def refutes(self) -> bool:
        return not self.outside and bool(self.broken)


@lru_cache(maxsize=8)
def replayed(policy: Policy, isolated: bool = False) -> Replayed | None:
    """:func:`story` replayed on the concrete engine (None where there is none, or the engine rejects it)."""
    told = story(policy, isolated)
    if told is None:
        return None
    bounds = _bounds(policy, len(TRADERS), isolated)
    outside = tuple(a.name for a in book_assumptions(policy, told.book, bounds) if a.holds is not True)
    try:
        view = StepView.of(policy, step(policy, told.book, told.events[0]))
    except RejectedEvent:
        return None
    broken = tuple(c for c in CLAIMS if get(c).holds(view) is False)
    up_to = tuple((c, still_refuted(policy, get(c), told, 0, UP_TO)) for c in broken)
    return Replayed(told, outside, broken, up_to)


#: the method of a refutation by :func:`on_book`'s story (``solver.prove``)
METHOD = (
    "the lent asset's deposit-index cut's story (solver.asset_cut: two flat borrowers, the first one's cut's "
    "rounding dust to the fund leaves the holders short for the second), built and replayed on the concrete "
    "engine: no z3 query"
)


def on_book(policy: Policy, bounds: Bounds) -> Story | None:
    """:func:`story` written on the book of ``bounds`` (flat, empty traders added up to its N), where it is
    one of that question's: one event of the kinds an oracle move is among, one market and one asset (the
    policy's first), at most the first trader's position isolated, three traders or more; None elsewhere
    (the question is asked as before). Whether it lies inside the question's assumptions and bounds is the
    replay's to say."""
    if bounds.accounts < len(TRADERS) or bounds.events != 1 or bounds.isolated > 1:
        return None
    told = story(policy, bool(bounds.isolated))
    if (
        told is None
        or _bounds(policy, len(TRADERS), bool(bounds.isolated)).isolated_positions != bounds.isolated_positions
    ):
        return None
    if bounds.markets != 1 or bounds.assets != 1 or "asset-price" not in bounds.event_kinds:
        return None
    if bounds.collateral_names[:1] != (told.events[0].asset,):
        return None
    return attrs.evolve(told, book=with_empty_traders(told.book, bounds.accounts - len(TRADERS)))


def refusal(policy: Policy, claim: str, isolated: bool = False) -> str | None:
    """Why no all-N argument exists for ``claim`` on the policy's asset book (``isolated``: its isolated
    scope's), where the replayed story breaks it inside every assumption at N = 3 and on to
    :data:`UP_TO` (None elsewhere: the reason the argument gives stays as it was)."""
    replay = replayed(policy, isolated)
    if replay is None or not replay.refutes or claim not in replay.broken:
        return None
    n = dict(replay.up_to)[claim]
    event = replay.story.events[0]
    return (
        f"no per-account argument for every N: the lent asset's deposit-index cut sends its rounding dust to the "
        f"fund, so the named assumption that {event.asset} deposits cover {event.asset} borrows is not kept by a "
        f"step on three traders (solver.asset_cut), and {claim} is false on a book of {len(TRADERS)} traders inside "
        f"every assumption (two flat borrowers, {event.asset} {PRICE} -> {event.price_quote}: the second is left "
        f"owing a quantum), replayed on the concrete engine at N = {len(TRADERS)} to {n}"
    )


__all__ = [
    "CLAIMS",
    "CONSERVED",
    "COVERED",
    "KEPT",
    "METHOD",
    "Replayed",
    "WITHIN",
    "applies",
    "facts",
    "on_book",
    "refusal",
    "replayed",
    "story",
]

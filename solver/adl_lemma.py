"""The ADL lemma: auto-deleveraging at the bankruptcy price leaves the bankrupt account at exactly zero.

In exchange terms: when an account is below zero at mark and the opposing traders and the book
take its whole position at its bankruptcy price ``BP = M ± ⌈−E / |S|⌉``, the account ends flat
with nothing, neither below zero (the winners paid its deficit) nor above it (the rounding
excess, under one quantum per lot, went to the insurance fund). That is the promise of the
venues whose ADL closes "at the bankruptcy price of the liquidated order" (Binance §1, BitMEX
§2, Bybit §3, OKX §4, dYdX §5 in docs/venues.md; Bybit's price also covers the fee to close),
and what ``rules.adl.deleverage`` computes.

The lemma is asked of the engine's own ``deleverage`` (the same call the waterfall makes in
``rules.bankruptcy``: the policy's ADL layer, liquidation counterparty, fill price and fee to
close) on a symbolic book of ``traders`` traders plus the system accounts, every number a free
integer: z3's exact integer arithmetic, in a child process within its effort
(``solver.wall``). No assumption restricts the book but that its mark is a price (at least 1,
as every question assumes: "marks positive"), so a proof covers every value of every other
field (a fee to close is never paid on a price below zero, ``rules.adl.fee_to_close_at``, so on a
mark below zero a long's fee no longer brings it to zero); a counterexample is decoded into a concrete book and replayed on the concrete engine, and
one the engine does not confirm is a :class:`~solvent.solver.verdicts.SpuriousCounterexample`.

Why it exists (docs/solver-notes.md#adl-at-the-bankruptcy-price): the catalog's per-account
claims through the ADL layer stay undecided at N = 2 inside the whole step; asked of the one
function, this part of their argument is decided in a fraction of a second at two and three
traders. It is the per-bankrupt piece of the all-N design written there.
"""

from __future__ import annotations

import time
from typing import Any

import attrs
import z3

from solvent.properties.scenarios import Story
from solvent.rules.adl import deleverage
from solvent.rules.arith import abs_, and_, sum_
from solvent.rules.bankruptcy import fee_to_close_rate
from solvent.rules.book import Book, Role
from solvent.rules.ledger import Ctx
from solvent.rules.liquidation import counterparty, fill_price
from solvent.rules.margin import equity
from solvent.rules.outcomes import AdlFill, BookDeleveraged
from solvent.rules.policy import Policy
from solvent.rules.waterfall import Adl, AdlPrice
from solvent.solver import wall
from solvent.solver.bounds import Bounds
from solvent.solver.effort import safety_net_s
from solvent.solver.story import decode, symbolic_book
from solvent.solver.verdicts import QueryStats, SpuriousCounterexample, Verdict

#: the account the lemma deleverages (the symbolic book's first trader)
BANKRUPT = "alice"
CLAIM = (
    "ADL at the bankruptcy price leaves the bankrupt account at exactly zero and flat "
    "when the queue and the book take its whole position"
)


@attrs.frozen
class LemmaResult:
    """The lemma's answer for one policy: PROVED (every book of ``traders`` traders), REFUTED (with
    the concrete book the engine leaves the bankrupt account off zero on), or UNKNOWN."""

    policy: str
    verdict: Verdict
    traders: int
    stats: QueryStats
    counterexample: Book | None = None
    detail: str = ""


@attrs.frozen
class Closed:
    """One ``deleverage`` call and what the lemma reads from it."""

    equity_quote: Any  # the bankrupt account's equity at mark before ADL
    mark_quote: Any
    lots: Any  # |S|, its position
    served_lots: Any  # Σ lots the queue and the book took
    cash_after_quote: Any
    size_after_lots: Any
    to_fund_quote: Any  # what the insurance fund received (the rounding excess)

    def claim(self) -> Any:
        """At a mark that is a price, below zero, a position, all of it served → cash 0 and
        position 0 after."""
        whole = and_(self.mark_quote >= 1, self.equity_quote < 0, self.lots > 0, self.served_lots == self.lots)
        left = and_(self.cash_after_quote == 0, self.size_after_lots == 0)
        if whole is False or left is True:
            return True
        if whole is True:
            return left
        return z3.Implies(whole, left)


def adl_layer(policy: Policy) -> Adl | None:
    """The policy's ADL layer when it closes at the bankruptcy price (the lemma's subject), else None."""
    layer = policy.adl
    return layer if layer is not None and layer.price is AdlPrice.BANKRUPTCY else None


def close(policy: Policy, book: Book, bankrupt: str = BANKRUPT) -> Closed:
    """Run the engine's ``deleverage`` on ``book`` for ``bankrupt`` as the waterfall does
    (``rules.bankruptcy``: the liquidation's fill price and counterparty, the fee to close)."""
    layer = adl_layer(policy)
    if layer is None:
        raise ValueError(f"{policy.name} has no ADL layer at the bankruptcy price")
    ctx = Ctx(book)
    account = book.account(bankrupt)
    price = fill_price(policy.liquidation, account, book.market.mark_quote)
    cp = counterparty(policy.liquidation, ctx)
    out = deleverage(ctx, policy.margin, policy.rounding, layer, bankrupt, cp, price, fee_to_close_rate(policy))
    served = sum_(
        g.item.lots
        for g in out.outcomes
        if isinstance(g.item, (AdlFill, BookDeleveraged)) and g.item.bankrupt == bankrupt
    )
    after = out.account(bankrupt)
    fund = out.system(Role.INSURANCE_FUND)
    to_fund = out.account(fund).cash_quote - book.account(fund).cash_quote
    return Closed(
        equity(policy.margin, account),
        book.market.mark_quote,
        abs_(account.size_lots),
        served,
        after.cash_quote,
        after.size_lots,
        to_fund,
    )


def check(policy: Policy, traders: int = 2, units: int = 10_000_000) -> LemmaResult:
    """The lemma asked of ``policy``'s ADL on every book of ``traders`` traders (see the module)."""
    started = time.perf_counter()
    bounds = Bounds(accounts=traders, effort=units)
    book, variables = symbolic_book(bounds)
    claim = close(policy, book).claim()
    answer = wall.check([z3.Not(claim)], variables, units, safety_net_s(units))
    stats = QueryStats(
        f"ADL lemma ({traders} traders)", answer.result, time.perf_counter() - started, units=answer.units
    )
    if answer.result == "unsat":
        return LemmaResult(policy.name, Verdict.PROVED, traders, stats)
    if answer.result != "sat":
        return LemmaResult(policy.name, Verdict.UNKNOWN, traders, stats, detail=answer.reason)
    concrete = decode(book, (), wall.evaluator(answer.values, variables))
    replayed = close(policy, concrete.book)
    if replayed.claim() is not False:
        raise SpuriousCounterexample(
            f"z3 found a book on which {policy.name}'s ADL leaves the bankrupt account off zero, and the "
            f"concrete engine does not confirm it\nbook: {Story(concrete.book, ())!r}"
        )
    detail = (
        f"equity {replayed.equity_quote} at mark behind {replayed.lots} lots, all taken: "
        f"{replayed.cash_after_quote} quanta and {replayed.size_after_lots} lots left after ADL"
    )
    return LemmaResult(policy.name, Verdict.REFUTED, traders, stats, concrete.book, detail)


__all__ = ["BANKRUPT", "CLAIM", "Closed", "LemmaResult", "adl_layer", "check", "close"]

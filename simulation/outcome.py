"""What one path did to the venue, read off the engine's ledger transfers and named outcomes.

Nothing here re-implements a rule: liquidations are the engine's ``Liquidated`` outcomes, bad
debt its ``Bankrupt`` deficits, the fund's use its ``insurance fund cover`` transfers and the
``LayerUsed`` record that says the fund was exhausted, haircuts the transfers whose reason is in
``HAIRCUT_REASONS`` (ADL, socialized loss, profit haircut, clawback) paid by an account that was
not itself bankrupt in that step, as ``no-haircut`` counts them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from solvent.rules.arith import PPM, Rounding, div
from solvent.rules.book import Book, Role
from solvent.rules.engine import Step
from solvent.rules.ledger import HAIRCUT_REASONS, Reason
from solvent.rules.margin import equity
from solvent.rules.outcomes import (
    AdlFill,
    Bankrupt,
    BookDeleveraged,
    LayerUsed,
    Liquidated,
    PoolAdlFill,
    Residual,
    SettlementCut,
    left_unpaid,
)
from solvent.rules.policy import Policy

#: the transfers of a profit-taking layer other than ADL
SOCIALIZED_REASONS = frozenset({Reason.SOCIALIZED_LOSS, Reason.HAIRCUT, Reason.CLAWBACK})
ADL_REASONS = frozenset({Reason.ADL, Reason.POOL_ADL})
#: the winners' haircut rate in ppm is rounded down: the report never overstates what they paid
HAIRCUT_RATE_ROUNDING = Rounding.FLOOR


#: the transfers in which the insurance fund pays a bankrupt account's deficit
FUND_PAYS = frozenset({Reason.INSURANCE_FUND, Reason.FUND_TAKEOVER})


@attrs.frozen
class PathOutcome:
    """One path's result: plain ints and bools (what a worker sends back), amounts in quote quanta.

    ``*_event`` fields are 0-based indices into the path's events (setup included) of the first
    step that left a trader below zero, or made a winner pay for someone else's deficit: where a
    story of this path fails ``no-negative-equity`` or ``no-haircut``. ``fund_exhausted_mark`` is
    the 0-based mark event at which the insurance fund was first exhausted (the survival curve).
    """

    index: int
    mark_events: int = 0
    capped: int = 0
    liquidations: int = 0
    liquidated_notional_quote: int = 0
    bankruptcies: int = 0
    bad_debt_quote: int = 0
    fund_start_quote: int = 0
    fund_end_quote: int = 0
    fund_min_quote: int = 0
    fund_drawdown_quote: int = 0
    fund_paid_quote: int = 0
    fund_exhausted: bool = False
    fund_exhausted_mark: int | None = None
    adl: bool = False
    adl_quote: int = 0
    socialized: bool = False
    socialized_quote: int = 0
    haircut_quote: int = 0
    haircut_rate_ppm: int = 0
    residual_quote: int = 0
    negative_equity_quote: int = 0
    first_negative_event: int | None = None
    first_haircut_event: int | None = None

    def to_data(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> PathOutcome:
        return cls(**data)


@attrs.define
class Tally:
    """The running reading of a path's steps (mutable while one path runs, then frozen)."""

    policy: Policy
    deposits_quote: dict[str, int]
    outcome: dict[str, Any] = attrs.Factory(dict)
    haircut_by: dict[str, int] = attrs.Factory(dict)
    fund_peak: int = 0
    payers: frozenset[str] = frozenset()
    fund: str = ""

    def start(self, book: Book) -> None:
        fund = book.role(Role.INSURANCE_FUND)
        self.begin(frozenset(a.name for a in _payers_of(book)), fund.name, fund.cash_quote)

    def begin(self, payers: frozenset[str], fund: str, fund_quote: int) -> None:
        """:meth:`start` from its parts (the fast engine has no book built there): the names of
        the accounts that may pay for others (the traders and the order book), the insurance
        fund's name and its balance."""
        self.payers = payers
        self.fund = fund
        self.fund_peak = fund_quote
        self.outcome.update(fund_start_quote=fund_quote, fund_end_quote=fund_quote, fund_min_quote=fund_quote)

    def add(self, at: int, step: Step) -> None:
        """Read one mark step (``at``: its index among the path's events)."""
        after = step.after
        fund = after.role(Role.INSURANCE_FUND).cash_quote
        self.read(at, step.transfers, step.outcomes, fund, lambda: _below_zero(self.policy, after.traders))

    def read(
        self,
        at: int,
        transfers: Sequence[Any],
        outcomes: Sequence[Any],
        fund: int,
        below_zero: Callable[[], bool],
    ) -> None:
        """Read one mark step from its parts: its transfers (settlement's may be left out: none is
        read), its outcomes, the fund's balance after it, and whether it left a trader below zero
        (asked only when the step has outcomes). The fast engine reads its steps this way."""
        o = self.outcome
        o["mark_events"] = o.get("mark_events", 0) + 1
        if transfers or outcomes:
            self._transfers(at, transfers, outcomes)
            self._outcomes(outcomes)
            if o.get("fund_exhausted") and o.get("fund_exhausted_mark") is None:
                o["fund_exhausted_mark"] = o["mark_events"] - 1
        self.fund_peak = max(self.fund_peak, fund)
        o["fund_end_quote"] = fund
        o["fund_min_quote"] = min(o["fund_min_quote"], fund)
        o["fund_drawdown_quote"] = max(o.get("fund_drawdown_quote", 0), self.fund_peak - fund)
        if outcomes and o.get("first_negative_event") is None and below_zero():
            o["first_negative_event"] = at

    def _transfers(self, at: int, transfers: Sequence[Any], outcomes: Sequence[Any]) -> None:
        o = self.outcome
        bankrupt = {x.account for x in outcomes if isinstance(x, Bankrupt)}
        for t in transfers:
            # the fund's cover within its balance, and its takeover of what ADL left (BitMEX), below zero
            if t.reason in FUND_PAYS and t.source == self.fund:
                o["fund_paid_quote"] = o.get("fund_paid_quote", 0) + t.amount_quote
            if t.reason not in HAIRCUT_REASONS or t.source in bankrupt or t.source not in self.payers:
                continue
            o["haircut_quote"] = o.get("haircut_quote", 0) + t.amount_quote
            self.haircut_by[t.source] = self.haircut_by.get(t.source, 0) + t.amount_quote
            if o.get("first_haircut_event") is None and t.amount_quote > 0:
                o["first_haircut_event"] = at
            if t.reason in ADL_REASONS:
                o["adl_quote"] = o.get("adl_quote", 0) + t.amount_quote
            else:
                o["socialized_quote"] = o.get("socialized_quote", 0) + t.amount_quote

    def _outcomes(self, outcomes: Sequence[Any]) -> None:
        o = self.outcome
        for x in outcomes:
            if isinstance(x, Liquidated):
                o["liquidations"] = o.get("liquidations", 0) + 1
                o["liquidated_notional_quote"] = o.get("liquidated_notional_quote", 0) + abs(
                    x.size_lots * x.fill_price_quote
                )
            elif isinstance(x, Bankrupt):
                o["bankruptcies"] = o.get("bankruptcies", 0) + 1
                o["bad_debt_quote"] = o.get("bad_debt_quote", 0) + x.deficit_quote
            elif isinstance(x, LayerUsed) and x.layer == "insurance_fund" and x.exhausted:
                o["fund_exhausted"] = True
            elif isinstance(x, (AdlFill, BookDeleveraged, PoolAdlFill)) and x.lots != 0:
                o["adl"] = True
            elif isinstance(x, (Residual, SettlementCut)):
                o["residual_quote"] = o.get("residual_quote", 0) + left_unpaid((x,))

    def finish(self, index: int, book: Book, capped: int) -> PathOutcome:
        o = self.outcome
        o["socialized"] = o.get("socialized_quote", 0) > 0
        o["negative_equity_quote"] = sum(max(-equity(self.policy.margin, a), 0) for a in book.traders)
        o["haircut_rate_ppm"] = self._haircut_rate(book)
        return PathOutcome(index=index, capped=capped, **o)

    def _haircut_rate(self, book: Book) -> int:
        """Σ haircut paid by winners / Σ their profit before it, ppm, rounded down.

        A winner is an account (trader or the order book) whose equity less its deposits, plus
        what it paid in haircuts, is positive at the end of the path.
        """
        paid, gross = 0, 0
        for a in _payers_of(book):
            before = equity(self.policy.margin, a) - self.deposits_quote.get(a.name, 0) + self.haircut_by.get(a.name, 0)
            if before > 0:
                paid += self.haircut_by.get(a.name, 0)
                gross += before
        return div(paid * PPM, gross, rounding=HAIRCUT_RATE_ROUNDING) if gross > 0 else 0


def pays_for_others(role: Role) -> bool:
    """An account of this role may pay for another's deficit (a haircut, ADL): a trader or the
    order book."""
    return role is Role.TRADER or role is Role.LIQUIDITY


def _payers_of(book: Book) -> Iterable[Any]:
    return (a for a in book.accounts if pays_for_others(a.role))


def _below_zero(policy: Policy, traders: Iterable[Any]) -> bool:
    return any(equity(policy.margin, a) < 0 for a in traders)


__all__ = ["PathOutcome", "Tally", "pays_for_others"]

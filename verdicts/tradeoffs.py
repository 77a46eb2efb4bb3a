"""The trade-off table: which of three promises each policy gives up, and who pays a one-tick gap.

No policy keeps all three of these promises under an unbounded gap (README): the deficit has to
land somewhere. A row's cells are **the verdicts of** ``solvent check``: :func:`tradeoff` runs the
one :class:`~solvent.verdicts.check.Judgement` every front end runs (by default the one
``solvent check`` runs with no options: the stress scenarios, the search, z3, every story judged
against every claim) and reads the three promises off that report, so ``solvent tradeoffs`` and
``solvent check`` cannot disagree on a policy judged with the same options (:func:`tradeoff_of`
takes a report a check already made). The last column tells who paid the gap of the
``gap-crash`` story (the fund holds a quarter of the deficit), layer by layer, and what the next
deposit lost in ``deposit-after-liquidation``; it describes, it does not judge. Its amounts stay integers in the
policy's quote quanta (:attr:`TradeOff.amounts`, each a ``{n}`` in :attr:`TradeOff.template`):
``solvent.reports.tradeoffs`` writes them in the policy's currency.

- ``no-negative-equity``: given up where a deficit stays on the account (debt carry, or no layer
  left to pay), or anywhere else the check finds an account below zero.
- ``no-haircut``: given up where winners pay (ADL, socialized loss, haircut, clawback).
- ``deposit-not-absorbed``: given up where a later deposit repays the account's old deficit.

(Until issue 11 the cells came from the two gap stories alone, a second, narrower judgement:
drift and mango-v4 "kept" no-negative-equity there while ``solvent check`` failed it on a story
its search or z3 found.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs

from solvent.rules.book import Role
from solvent.rules.ledger import Reason
from solvent.rules.outcomes import AdlFill, Bankrupt, DepositAbsorbed, LayerUsed, left_unpaid
from solvent.rules.policy import Policy
from solvent.rules.waterfall import Adl, DebtCarry, Lender
from solvent.verdicts.check import ClaimStatus, Judgement, PolicyReport, ScenarioRun, run_scenario

PROMISES = ("no-negative-equity", "no-haircut", "deposit-not-absorbed")
GAP_STORIES = ("gap-crash", "deposit-after-liquidation")
KEPT, GIVEN_UP, ACCEPTED = "kept", "gives up", "gives up (accepted)"
POOLS = ("insurance_fund", "backstop_vault", "fee_pool")  # layers that pay from a balance (empty: nothing)


@attrs.frozen
class TradeOff:
    """One policy's row: each promise kept or given up, and the story of the gap step."""

    policy: str
    cells: tuple[tuple[str, str], ...]
    #: the gap's story with each amount a ``{n}`` placeholder, filled by :meth:`told`
    template: str
    #: the story's amounts in the policy's quote quanta, in the order they are told
    amounts: tuple[Any, ...] = ()
    #: the policy judged: its ``[units]`` say how the amounts read (``reports.tradeoffs``)
    judged: Policy | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def story(self) -> str:
        """The story with its amounts in quote quanta (``told(amount)`` for other units)."""
        return self.told(_amount)

    def told(self, amount: Callable[[Any], str]) -> str:
        """The story with each amount written by ``amount`` (e.g. ``Money.amount``: USDT 88.99)."""
        return self.template.format(*(amount(a) for a in self.amounts))

    def cell(self, promise: str) -> str:
        return dict(self.cells)[promise]

    @property
    def gives_up(self) -> tuple[str, ...]:
        """The promises this policy breaks under the gap, accepted or not."""
        return tuple(p for p, c in self.cells if c != KEPT)


def _cell(status: ClaimStatus) -> str:
    if status is ClaimStatus.FAILS:
        return GIVEN_UP
    if status is ClaimStatus.ACCEPTED:
        return ACCEPTED
    return KEPT


def _amount(quanta: Any) -> str:
    return f"{quanta:,}"


class _Amounts:
    """Collects a story's amounts as it is told: each call returns the ``{n}`` that stands for it."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, quanta: Any) -> str:
        self.values.append(quanta)
        return "{" + str(len(self.values) - 1) + "}"


def _layer_words(policy: Policy, gap, account: str, _amount: Callable[[Any], str]) -> list[str]:
    """What each waterfall layer did for ``account`` in the gap step, in waterfall order."""
    used = {o.index: o for o in gap.outcomes if isinstance(o, LayerUsed) and o.account == account}
    words = []
    for index, layer in enumerate(policy.deficit):
        name = layer.kind.replace("_", " ")
        covered = used[index].covered_quote if index in used else 0
        if isinstance(layer, DebtCarry):
            if covered:
                owed = "the winners" if layer.lender is Lender.WINNERS else "the venue, which fronts it"
                words.append(f"{_amount(covered)} stays as her debt to {owed}")
        elif isinstance(layer, Adl):
            words += _adl_words(gap, account, covered, _amount)
        elif covered:
            words.append(f"{name} {_amount(covered)}")
        elif getattr(layer, "all_or_nothing", False) and gap.before.role(Role.INSURANCE_FUND).cash_quote > 0:
            held = gap.before.role(Role.INSURANCE_FUND).cash_quote
            words.append(f"{name} declines (it holds {_amount(held)}, less than the whole deficit)")
        elif layer.kind in POOLS:
            words.append(f"{name} empty")
    return words


def _adl_words(gap, account: str, covered: int, _amount: Callable[[Any], str]) -> list[str]:
    """ADL's share, and what the winners actually paid when the price was not the bankruptcy price."""
    lots = sum(o.lots for o in gap.outcomes if isinstance(o, AdlFill) and o.bankrupt == account)
    paid = sum(t.amount_quote for t in gap.transfers if t.reason is Reason.ADL and t.destination == account)
    if not lots:
        return []
    if not covered:
        return [f"adl closes {lots:,} lots at mark and pays nothing"]
    if paid - covered >= lots:  # beyond the bankruptcy price's rounding (under one quantum per lot)
        return [f"adl {_amount(covered)} (the winners pay {_amount(paid)})"]
    return [f"adl {_amount(covered)}"]


def gap_template(report: PolicyReport) -> tuple[str, tuple[Any, ...]]:
    """Who paid the gap's deficit, layer by layer, and what the next deposit lost: one sentence
    (from the report's runs of :data:`GAP_STORIES`, run here if the check left them out), each
    amount a ``{n}`` placeholder, and the amounts in quote quanta."""
    _amount = _Amounts()
    runs: dict[str, ScenarioRun] = {r.name: r for r in report.runs}
    runs.update({name: run_scenario(report.policy, name) for name in GAP_STORIES if name not in runs})
    gap = runs["gap-crash"].steps[-1]
    parts = []
    for b in (o for o in gap.outcomes if isinstance(o, Bankrupt)):
        head = f"{b.account}'s deficit is {_amount(b.deficit_quote)}: "  # amounts collected in reading order
        words = _layer_words(report.policy, gap, b.account, _amount)
        residual = left_unpaid(gap.outcomes, b.account)
        if residual:
            words.append(f"{_amount(residual)} left unpaid on her account")
        parts.append(head + ", ".join(words))
    redeposit = runs["deposit-after-liquidation"].steps[-1] if runs["deposit-after-liquidation"].steps else None
    absorbed = sum(o.amount_quote for o in redeposit.outcomes if isinstance(o, DepositAbsorbed)) if redeposit else 0
    if absorbed:
        parts.append(f"her next deposit of {_amount(redeposit.event.amount_quote)} loses {_amount(absorbed)} to it")
    return ("; ".join(parts) if parts else "the gap bankrupts no one"), tuple(_amount.values)


def gap_story(report: PolicyReport, amount: Callable[[Any], str] = _amount) -> str:
    """:func:`gap_template`'s sentence with its amounts written by ``amount`` (default: quanta)."""
    template, amounts = gap_template(report)
    return template.format(*(amount(a) for a in amounts))


def tradeoff_of(report: PolicyReport, *, name: str | None = None) -> TradeOff:
    """The row of a check's report: each promise's cell is that report's verdict on it."""
    verdicts = {v.invariant.id: v for v in report.verdicts}
    missing = [p for p in PROMISES if p not in verdicts]
    if missing:
        raise ValueError(
            f"{report.source}: the check judged no {', '.join(missing)} (a trade-off row needs all of {', '.join(PROMISES)})"
        )
    cells = tuple((p, _cell(verdicts[p].status)) for p in PROMISES)
    return TradeOff(name or report.policy.name, cells, *gap_template(report), judged=report.policy)


def tradeoff(policy: Policy, *, name: str | None = None, judgement: Judgement | None = None) -> TradeOff:
    """The row of ``policy`` under ``judgement`` (default: what ``solvent check`` does with no
    options), whose verdicts on the three promises are the cells."""
    judgement = Judgement() if judgement is None else judgement
    if judgement.invariants:
        # judging fewer claims would judge fewer stories (a story found for one claim is judged
        # against every claim): the cells would no longer be ``solvent check``'s verdicts
        raise ValueError(
            f"a trade-off row is read off the whole check: no 'invariants' in its judgement ({', '.join(judgement.invariants)})"
        )
    return tradeoff_of(judgement.run(policy, source=name or policy.name), name=name)


def tradeoff_table(policies: Iterable[Policy], judgement: Judgement | None = None) -> list[TradeOff]:
    """One row per policy, in the order given."""
    return [tradeoff(p, judgement=judgement) for p in policies]


__all__ = [
    "ACCEPTED",
    "GAP_STORIES",
    "GIVEN_UP",
    "KEPT",
    "PROMISES",
    "TradeOff",
    "gap_story",
    "gap_template",
    "tradeoff",
    "tradeoff_of",
    "tradeoff_table",
]

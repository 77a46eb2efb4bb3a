"""The direct check of a payer's claim: the payer's lemmas as facts, asked trader by trader and case by case.

Where the payer's argument held (:mod:`solvent.solver.payer_lemma`: no-negative-equity or
loss-bounded-by-collateral for every N, given its assumption), ``solver.prove`` still asks the claim
directly on the lemmas' two-trader book, so an all-N verdict never rests on the lemmas alone. Asked
whole, that check ran out at 60M units on Binance, Bybit and OKX. This module asks the same question
with two changes, neither of which changes its answer:

1. **The lemmas as facts** (:mod:`solvent.solver.payer_facts`): proved first, in the same run, for
   every value on the engine's own ``resolve``, then instantiated on the question's terms and added
   to it as the frames are. Each instance is true of every value: the question keeps its models.
2. **Pieces.** The claim is a conjunction over the traders (and the transfers obligation one over
   the step's transfers); it fails exactly when one conjunct does, so each conjunct's failure is
   asked on its own, and each in every case of which traders' accounts were resolved (each
   ``Bankrupt`` outcome's guard true or false: the cases cover every book). The claim is proved when
   every piece is unsat; a piece refuted is a refutation, its story replayed on the concrete engine
   against the whole obligation; a piece left undecided leaves the obligation undecided and stops.

Measured on Binance's no-negative-equity, N = 2, one mark move (docs/solver-notes.md#the-payers-lemmas-as-facts-of-the-direct-check):
the piece where alice is resolved and bob is not (bob served by her ADL, never liquidated) is
unknown at 10M units without the facts and unsat in 1.06M with them; the whole question with the
facts but no pieces still ran out at 20M.

The whole obligation is asked first, purified, with a small share (what is cheap whole, as most
transfers obligations are, is not split). Then each piece is asked exactly with three quarters of
what the pieces before it left, then purified with the rest: one piece undecided already leaves the
obligation undecided, so no share is kept back for later ones. Exact first, because on these pieces
z3's nonlinear arithmetic decides where the purified rounds do not converge (Binance: the eight
pieces 12.0M units exact, 2.3-2.6M each purified for the two it decides at all).
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import attrs
import z3

from solvent.properties.catalog import Invariant
from solvent.rules.outcomes import Bankrupt
from solvent.rules.policy import Policy
from solvent.solver import (
    cascade_facts,
    effort,
    fund_facts,
    gen_b_payer,
    haircut_payer,
    payer_facts,
    payer_previous,
    resolution_facts,
    start_mark,
)
from solvent.solver.bounds import Bounds
from solvent.solver.compositional import _Checker, _Failed
from solvent.solver.per_account import _conjuncts
from solvent.solver.query import Answer, StoryQuery
from solvent.solver.refinement import obligation_name
from solvent.solver.story import SlotRun, view
from solvent.solver.verdicts import QueryStats, Verdict

#: claims whose direct check is also asked this way, beside the payer's own
#: (``payer_lemma.PAYER_CLAIMS``): ``claims-backed`` is ``no-negative-equity``'s conjunct for each
#: trader (``catalog._value(...) >= 0``, the same predicate) and the system accounts' cash beside
#: them, so the payer's facts serve its trader conjuncts as they serve that claim's, and its system
#: accounts' conjuncts are pieces of their own. It has no all-N argument: only the direct check at
#: N = 2 is asked with the facts (docs/solver-notes.md#claims-backed-with-the-payers-facts-issue-18)
BESIDE_PAYER = ("claims-backed",)
#: (and the fund's turn lemma with them, ``fund_facts``: on Binance its fund conjunct's pieces were
#: the costly ones, 1.2M and more, without it)
#: the whole obligation is asked first, purified, within at most this many units (an eighth of the
#: question's at most): what is cheap whole is not split
WHOLE_FIRST = 1_000_000
#: said in the method line of a check asked this way
METHOD = (
    "; the payer's lemmas as proved facts (instances on the question's terms), the claim asked trader by "
    "trader and in each case of which accounts were resolved"
)


#: why a payer's claim (``payer_lemma.PAYER_CLAIMS``, ``BESIDE_PAYER``) goes to its pieces without the
#: whole first: asked whole, purified, within its eighth (0.86-0.91M units) it ran out on every one of
#: the nine questions measured (Bybit, Binance, OKX; no-negative-equity, loss-bounded-by-collateral,
#: claims-backed), units the pieces then lacked (docs/solver-notes.md#the-gap-abstracted-issue-18); the
#: transfers obligation (56 units whole) and a resolution lemma's claims (Bybit's adl-price-fair: 67K
#: whole) are still asked whole first
PIECES_AT_ONCE = "a payer's claim is asked in pieces at once: asked whole it never decided"
#: said in the method line of a check asked with the fund's turn lemma (asked whole: one conjunct)
FUND_METHOD = "; the fund's turn lemma as proved facts (an instance at each trader's turn), asked exact first"
#: said in the method line of a check asked with the turn with the cascade as facts (asked whole)
CASCADE_METHOD = (
    "; each trader's turn with the cascade as proved facts (its three parts, an instance at each trader's turn), "
    "asked exact first"
)

#: said in the method line of a check asked with Gen A's junior cover as facts (asked whole)
JUNIOR_METHOD = (
    "; the sweep's junior cover as proved facts (the settlement's claims, and each trader's turn's five parts, "
    "an instance at each trader's turn), asked exact first"
)


#: said in the method line of a check asked with Gen B's payer bound as facts (asked whole)
GEN_B_METHOD = (
    "; the payer's bound as proved facts (the settlement's claims and the turns' start on the question's start, "
    "the sweep's turns from the bound on the book its sweep starts from, the close on the book it leaves), asked "
    "exact first"
)


@attrs.frozen
class ByCases:
    """The payer's lemmas proved for one question (``facts``; ``queries``: their proofs, whose units
    the question counts) and how the question is asked with them."""

    policy: Policy
    facts: (
        payer_facts.PayerFacts
        | resolution_facts.ResolutionFacts
        | fund_facts.FundFacts
        | cascade_facts.CascadeFacts
        | haircut_payer.HaircutFacts
        | gen_b_payer.GenBFacts
    )
    queries: tuple[QueryStats, ...]
    #: the fund's turn lemma beside the payer's, for claims-backed (whose conjuncts include the
    #: fund's cash): its instances follow the payer's
    fund: fund_facts.FundFacts | None = None

    @property
    def method(self) -> str:
        """What the method line says of a check asked this way."""
        if isinstance(self.facts, resolution_facts.ResolutionFacts):
            return METHOD.replace("the payer's lemmas", "the resolution lemma")
        if isinstance(self.facts, fund_facts.FundFacts):
            return FUND_METHOD
        if isinstance(self.facts, cascade_facts.CascadeFacts):
            return CASCADE_METHOD
        if isinstance(self.facts, haircut_payer.HaircutFacts):
            return JUNIOR_METHOD
        if isinstance(self.facts, gen_b_payer.GenBFacts):
            return GEN_B_METHOD
        return METHOD

    #: the gap terms of the last :meth:`instances` call, by its book (read once by :meth:`abstracted`,
    #: so the question's sweep is not run a second time to find them)
    _gaps: dict[int, list[Any]] = attrs.field(factory=dict, eq=False, repr=False)

    def instances(self, book: Any, runs: list[SlotRun]) -> list[Any]:
        """The lemmas' instances on a question's terms (``StoryQuery(lemma_facts=...)``)."""
        if not isinstance(self.facts, payer_facts.PayerFacts):
            return self.facts.instances(self.policy, book, runs)
        gaps: list[Any] = []
        facts = self.facts.instances(self.policy, book, runs, gaps)
        self._gaps[id(book)] = gaps
        if self.fund is not None:
            facts += self.fund.instances(self.policy, book, runs)
        return facts

    def abstracted(self, book: Any, runs: list[SlotRun]) -> list[Any]:
        """The terms each piece is first asked with free (``StoryQuery(abstracted=...)``, after
        ``lemma_facts``): each charge's gap per lot (``payer_facts.PayerFacts.gaps``); none for a
        resolution lemma."""
        if not isinstance(self.facts, payer_facts.PayerFacts):
            return []
        made = self._gaps.pop(id(book), None)
        return self.facts.gaps(self.policy, book, runs) if made is None else made

    def check(self, query: StoryQuery, obligation: Invariant | None, units: int | None = None) -> Answer:
        """``obligation`` (the claim, or the transfers for None) decided piece by piece (see the
        module docstring) within ``units`` (default: what the build left); on a question of more
        than one event or variant, asked whole."""
        chains = (fund_facts.FundFacts, cascade_facts.CascadeFacts, haircut_payer.HaircutFacts, gen_b_payer.GenBFacts)
        if isinstance(self.facts, chains):
            # the chain of turns: exact z3 follows it whole (drift's no-negative-equity on two traders with
            # the cascade's facts: 23,077 units)
            if obligation is None:  # the transfers as before (drift's are discharged for the purified query)
                return query.check_obligation(obligation, units=units)
            total = query.solve_units if units is None else units
            return query.check_staged(obligation, [("exact", total - total // 4), ("purified", total // 4)])
        pieces = _pieces(self.policy, query, obligation)
        if not pieces:
            return query.check_obligation(obligation, units=units)
        started = time.perf_counter()
        total = query.solve_units if units is None else units
        if obligation is not None and isinstance(self.facts, payer_facts.PayerFacts):
            # a payer's claim is never decided whole (see PIECES_AT_ONCE): its pieces at once
            name = obligation_name(obligation)
            whole = Answer(Verdict.UNKNOWN, QueryStats(name, "not asked whole", 0.0), PIECES_AT_ONCE)
        else:
            whole = query.check_staged(obligation, [("purified", min(total // 8, WHOLE_FIRST))])
            if whole.verdict is not Verdict.UNKNOWN:
                return whole
        tried = [whole]
        for extra in pieces:
            left = total - sum(a.stats.units for a in tried)
            if left <= 0:
                reason = f"its effort ran out after {len(tried) - 1} of {len(pieces)} pieces"
                stats = QueryStats(obligation_name(obligation), "out of effort", 0.0)
                tried.append(Answer(Verdict.UNKNOWN, stats, reason))
                break
            stages = [("exact", left - left // 4), ("purified", left // 4)]
            if query.abstracted:  # the gaps free first, with half (it proves or passes: never refutes)
                rest = left - left // 2
                stages = [("abstracted", left // 2), ("exact", rest - rest // 4), ("purified", rest // 4)]
            tried.append(query.check_staged(obligation, stages, extra))
            if tried[-1].verdict is not Verdict.PROVED:
                break
        return _combined(tried, len(pieces), started)


def prepare(policy: Policy, bounds: Bounds) -> ByCases | None:
    """The payer's lemmas proved for a question within ``bounds`` (each exact, all of them within
    the bounds' effort), or None where they do not apply or one does not hold (then the question is
    asked as before, with no fact: a lemma is never assumed)."""
    return prepared(policy, bounds)[0]


def prepared(policy: Policy, bounds: Bounds, claim: str = "") -> tuple[ByCases | None, tuple[QueryStats, ...]]:
    """:func:`prepare`'s answer, and the lemmas' queries whether they held or not (a question
    counts their units either way: ``solver.prove``). For a claim about one resolution
    (``resolution_facts.RESOLUTION_CLAIMS``) the facts are that claim's lemma on ``resolve``
    instead of the payer's; for the fund's claim (``fund_facts.FUND_CLAIMS``) its turn lemma on a
    book of ``bounds.accounts`` traders."""
    checker = _Checker(bounds)

    def valid(name: str, premise: list[Any], formula: Any) -> str:
        return checker.valid(name, premise, formula, exact=True)

    def renamed(name: str, how: str) -> None:  # a lemma proved as another's renaming: said, 0 units
        checker.queries.append(QueryStats(name, how, 0.0))

    def used(stats: QueryStats) -> None:  # the split's lemma behind a turn's dust facts: its units paid here
        checker.queries.append(stats)

    try:
        if claim in resolution_facts.RESOLUTION_CLAIMS:
            facts = resolution_facts.prove(policy, valid, claim, renamed)
        elif claim in fund_facts.FUND_CLAIMS:
            facts = fund_facts.prove(policy, valid, claim, bounds, renamed, used)
        elif cascade_facts.fits(policy, bounds, claim):  # a socialized loss with a cascade (drift, mango-v4)
            facts = cascade_facts.prove(policy, valid, renamed)
        elif gen_b_payer.fits(policy, bounds, claim):  # Gen B: the payer's bound, by turns
            facts = gen_b_payer.facts(policy, bounds, valid, renamed)
        elif haircut_payer.fits(policy, bounds, claim):  # Gen A's haircut: the sweep's junior cover, by turns
            facts = haircut_payer.facts(policy, bounds, valid, renamed)
        elif payer_previous.fits(policy):  # ADL at the previous mark, the vault holding what it takes over
            facts = payer_previous.facts(policy, valid, bounds.start_margin, renamed)
        elif bounds.start_margin == start_mark.START:  # the one-event book from Bybit's premise (no floor)
            facts = start_mark.facts(policy, valid)
        else:
            facts = payer_facts.prove(policy, valid, bounds.start_margin)
    except _Failed:
        return None, tuple(checker.queries)
    fund = None
    if facts is not None and claim in BESIDE_PAYER:  # claims-backed reads the fund's cash too
        try:
            fund = fund_facts.prove(policy, valid, fund_facts.FUND_CLAIMS[0], bounds, renamed, used)
        except _Failed:  # not proved within what is left: the payer's facts alone
            fund = None
    if facts is None:
        return None, tuple(checker.queries)
    return ByCases(policy, facts, tuple(checker.queries), fund), tuple(checker.queries)


def _pieces(policy: Policy, query: StoryQuery, obligation: Invariant | None) -> list[Any] | None:
    """The extra conditions of the pieces: each conjunct failing, in each case of which traders'
    accounts were resolved. None unless the question is one event of one variant."""
    if len(query.runs) != 1 or len(query.runs[0].runs) != 1:
        return None
    slot: SlotRun = query.runs[0]
    [run] = slot.runs
    holds = (
        slot.transfers_ok(query.split_lemmas)
        if obligation is None
        else obligation.holds(view(policy, slot.before, run))
    )
    conjuncts = [c for c in _conjuncts(holds) if not z3.is_true(c)]
    resolved: dict[str, list[Any]] = {}
    for g in run.ctx.outcomes:
        if isinstance(g.item, Bankrupt):
            resolved.setdefault(g.item.account, []).append(z3.BoolVal(g.guard) if type(g.guard) is bool else g.guard)
    guards = [z3.Or(*resolved[a.name]) for a in slot.before.traders if a.name in resolved]
    cases = [
        z3.And(*(g if on else z3.Not(g) for g, on in zip(guards, signs, strict=True))) for signs in _signs(len(guards))
    ]
    return [z3.And(z3.Not(c), case) for c in conjuncts for case in cases]


def _signs(n: int) -> list[tuple[bool, ...]]:
    """Every assignment of ``n`` conditions, the all-false one first."""
    return list(itertools.product((False, True), repeat=n))


def _combined(tried: list[Answer], pieces: int, started: float) -> Answer:
    """The obligation's answer: the first piece that was not proved (refuted or undecided), or
    proved with every piece's units."""
    units = sum(a.stats.units for a in tried)
    last = tried[-1] if tried else None
    if last is not None and last.verdict is not Verdict.PROVED:
        stats = attrs.evolve(
            last.stats,
            seconds=time.perf_counter() - started,
            units=units,
            result=f"{last.stats.result} (piece {len(tried) - 1} of {pieces}, with the payer's lemmas as facts)",
        )
        return attrs.evolve(last, stats=stats)
    each = ", ".join(effort.units_text(a.stats.units) for a in tried[1:])
    name = tried[0].stats.name if tried else "no piece"
    after = "not asked whole" if tried and tried[0].reason == PIECES_AT_ONCE else "after the whole ran out"
    result = f"unsat ({pieces} pieces {after}, each with the payer's lemmas as facts: {each})"
    return Answer(Verdict.PROVED, QueryStats(name, result, time.perf_counter() - started, units=units))


__all__ = ["BESIDE_PAYER", "CASCADE_METHOD", "FUND_METHOD", "METHOD", "WHOLE_FIRST", "ByCases", "prepare", "prepared"]

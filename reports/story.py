"""The finding model every report format renders from: verdicts, grouped stories, who paid.

A policy check gives one verdict per invariant; a failing verdict carries violations. Failures at
the same step of the same story are one :class:`FindingGroup`: the story is told once, with every
claim it breaks, its replayed steps, its replay handle and the policy line involved. The text,
Markdown, HTML, JSON, JUnit and SARIF reports all read these, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs

from solvent.properties import catalog, findings, relational
from solvent.properties.played import CI, DEEP
from solvent.properties.scenarios import Story
from solvent.reports.money import QUANTA, Money
from solvent.rules import events as ev
from solvent.rules.book import Account, Book, Market, Role
from solvent.rules.contract import LINEAR, Contract, contracts, from_engine, price_moves, venue_price
from solvent.rules.engine import Step, run
from solvent.rules.ledger import Reason
from solvent.rules.market_funds import MARKET_FUND
from solvent.rules.outcomes import (
    Bankrupt,
    DebtCarried,
    DeleverageAttempt,
    LayerUsed,
    Residual,
    SettlementCut,
    left_unpaid,
)
from solvent.rules.policy import Policy
from solvent.solver.bounds import Bounds
from solvent.solver.effort import units_text as effort_text
from solvent.solver.smallest_move import tellable
from solvent.verdicts.check import ClaimStatus, ClaimVerdict, PolicyReport, Violation
from solvent.verdicts.findings import FindingGroup, group_findings
from solvent.verdicts.locate import LAYER_REASON, RuleRef, locate_rule, policy_file

#: How a verdict reads in a table.
LABEL = {
    ClaimStatus.FAILS: "FAILS",
    ClaimStatus.ACCEPTED: "fails (accepted)",
    ClaimStatus.HELD: "held",
    ClaimStatus.NOT_EXERCISED: "not exercised",
}
#: How a verdict is spelled in machine-readable output.
KEY = {
    ClaimStatus.FAILS: "fails",
    ClaimStatus.ACCEPTED: "accepted",
    ClaimStatus.HELD: "held",
    ClaimStatus.NOT_EXERCISED: "not-exercised",
}


def amount(x: Any) -> str:
    """An exact amount for people: thousands separated, a Fraction as n/d."""
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, Fraction):
        return f"{x.numerator:,}" if x.denominator == 1 else f"{x.numerator:,}/{x.denominator:,}"
    return str(x)


# --- evidence ------------------------------------------------------------------------------------


def search_evidence(v: ClaimVerdict) -> str:
    r = v.search
    if r is None:
        return ""
    if r.story is not None:
        return f"; search: found in {r.stats.examples} examples"
    return f"; search: {r.stats.examples} examples, {r.outcome.value}"


def deep_evidence(v: ClaimVerdict) -> str:
    """What the deep-story search tried when it found nothing (``--deep-stories``; empty otherwise):
    the longest K z3 was asked about from a funded book, its units, and the seeded search's examples."""
    d = v.deep
    if d is None or d.found:
        return ""
    asked = max((a.events for a in d.attempts), default=0)
    seeded = f", {d.examples:,} seeded examples" if d.examples else ""
    return f"; deep stories: none in K ≤ {asked} from a funded book ({d.units:,} units{seeded})"


def unconstrained_cash_note(book: Book, money: Money = QUANTA) -> str | None:
    """Why a story (z3's, typically) starts with the order book or the venue far below zero, or
    None when neither is negative."""
    negative = [a for a in book.accounts if a.role in (Role.LIQUIDITY, Role.VENUE) and a.cash_quote < 0]
    if not negative:
        return None
    who = " and ".join(f"{a.name} ({money.amount(a.cash_quote)})" for a in negative)
    return (
        f"note: {who} start below zero because a proof leaves their cash unconstrained: the "
        "liquidity account stands for the rest of the market, whose margin the model does not "
        'track, and the venue\'s account fronts a debt carry (docs/model.md, "A well-formed book")'
    )


def smallest_move_note(violation: Violation) -> str | None:
    """For a z3 story told at its least move (``solvent.solver.smallest_move``), the line that
    says how large a move the claim needs ("needs a move of at least 1.0001% ..."); else None."""
    move = violation.move
    if violation.origin != "z3" or move is None:
        return None
    return f"smallest move for {move.invariant}: {move.text}"


#: a mark that moves by this factor or more in one story is far from any market's day
EXTREME_FACTOR = 10


def extreme_marks_note(violation: Violation, money: Money = QUANTA) -> str | None:
    """For a z3 story whose marks span a factor of ten or more (6 → 1,000,000,000), a note that
    z3 explores extremes by design; None for other stories and plausible marks."""
    if violation.origin != "z3":
        return None
    return extreme_story_note(violation.story, violation.step_index, money)


def extreme_story_note(story: Story, step_index: int | None = None, money: Money = QUANTA) -> str | None:
    """The note of :func:`extreme_marks_note` for a z3 story (its events up to ``step_index``)."""
    events = story.events if step_index is None else story.events[: step_index + 1]
    spans = [(min(marks), max(marks)) for marks in _marks_by_market(story.book, events)]
    lo, hi = max(spans, key=lambda span: Fraction(span[1]) / span[0] if span[0] > 0 else 0)
    if lo <= 0 or hi < EXTREME_FACTOR * lo:
        return None
    if money.contract.is_inverse:  # the lowest lot value is the highest price
        lo, hi = hi, lo
    return (
        f"note: the marks span {money.price_number(lo)} to {money.price_number(hi)}{_per(money)}: z3 explores extreme values by "
        "design, so this story shows that the rule can fail, not how likely such a move is"
    )


def _marks_by_market(book: Book, events: Sequence[Any]) -> list[list[Any]]:
    """Each market's marks in a story: its mark on the starting book, then each move of it (one
    list for a one-market book; a move naming no market of the book is left out)."""
    marks = [[m.mark_quote] for m in book.markets]
    for e in events:
        if isinstance(e, (ev.MarkPrice, ev.FinalSettlement)):
            try:
                marks[book.market_index(e.market)].append(e.price_quote)
            except KeyError:
                continue
    return marks


def _per(money: Money) -> str:
    return f" {money.price_unit}" if money.price_unit else ""


def origin_label(violation: Violation) -> str:
    labels = {
        "search": "found by search",
        "saved": "replayed from the findings directory",
        "z3": "z3 counterexample, replayed on the engine",
        "machine": "found by the state machine",
    }
    if violation.origin == "deep":  # how the deep story was found: "z3 (K = 3)", "search seeded by z3 ..."
        return f"deep story, {violation.scenario}, replayed on the engine"
    return labels.get(violation.origin, f"scenario {violation.scenario}")


def where(violation: Violation) -> str:
    """Where the first failure was seen, in a few words."""
    if violation.origin == "search":
        return "minimal story from search"
    if violation.origin == "z3":
        return "z3 counterexample"
    if violation.origin == "deep":
        return f"deep story ({violation.scenario})"
    return "saved story" if violation.origin == "saved" else violation.scenario


def proof_state(v: ClaimVerdict) -> str:
    """z3's answer on one invariant, in words: proved, refuted (replayed), claim proved with the
    transfer signs undecided, or undecided."""
    return _proof_state(v.proof, v.invariant.id)


def _proof_state(p: Any, claim: str) -> str:
    if p.parts:  # one answer per margin scope: each in its own words, with the books it covers
        return "; ".join(f"{_proof_state(part.result, claim)} on {part.label}" for part in p.parts)
    if p.trivial:
        return "proved trivially (no event of these kinds can break it)"
    if p.verdict.value in ("proved", "refuted"):
        return "refuted (replayed)" if p.verdict.value == "refuted" else "proved"
    own = next((o for o in p.obligations if o.obligation == claim), None)
    if own is not None and own.verdict.value == "proved":
        return "claim proved; transfer signs undecided"
    return "undecided"


PROOF_HEADERS = ("invariant", "z3", "scope", "effort")
THRESHOLD_HEADERS = ("question", "boundary", "proved at", "refuted at")


def proof_rows(report: PolicyReport) -> list[tuple[str, str, str, str]]:
    """One row per invariant z3 was asked about: id, answer in words, scope, the effort it spent
    (units, not seconds: a report reads the same on any machine)."""
    return [
        (v.invariant.id, proof_state(v), "".join(v.proof.scopes_text()), effort_text(v.proof.units))
        for v in report.verdicts
        if v.proof is not None
    ]


def threshold_rows(report: PolicyReport) -> list[tuple[str, str, str, str]]:
    """One row per threshold answer: question, boundary, the value proved, the value refuted."""

    def ppm(x: int | None) -> str:
        return "" if x is None else f"{x:,}"

    return [(t.title, t.boundary, ppm(t.proved_at), ppm(t.refuted_at)) for t in report.thresholds]


def threshold_scope(report: PolicyReport) -> str:
    """The sentence under a thresholds table: what the safe side was proved for."""
    scope = next((t.scope for t in report.thresholds if t.scope), "")
    moves = next((t.value for t in report.thresholds if t.question == "safe-move" and t.value is not None), None)
    note = f" {coin_moves_note(report.policy.contract, moves)}" if report.policy.contract.is_inverse else ""
    return f"Proved on the safe side ({scope}); beyond it a story replayed on the concrete engine. Values in ppm.{note}"


def coin_moves_note(contract: Contract, example_ppm: int | None = None) -> str:
    """On an inverse contract, what the threshold questions' moves mean in prices (empty otherwise)."""
    if not contract.is_inverse:
        return ""
    text = "Inverse contract: moves are of each contract's coin value V / price; a coin-value move of m is a price fall of m / (1 + m) or a rise of m / (1 − m)"
    if example_ppm:
        fall, rise = price_moves(example_ppm)
        rise_text = f"a rise of {round(rise):,}" if rise is not None else "any rise"
        text += f" ({example_ppm:,} ppm: a fall of {round(fall):,} or {rise_text} ppm, rounded)"
    return text + "."


def proof_evidence(v: ClaimVerdict) -> str:
    """z3's verdict in a few words (empty when no proof was asked)."""
    p = v.proof
    if p is None:
        return ""
    if p.parts:  # one answer per margin scope (solver.margin_scopes): each with its books and scope
        return "; z3: " + "; ".join(_scope_evidence(part.result, part.label, v.invariant.id) for part in p.parts)
    state = p.verdict.value
    if state == "refuted":
        return "; z3: refuted (replayed)"
    if p.trivial:
        return f"; z3: proved trivially, no event of these kinds can break it ({p.scope.text})"
    if state == "proved":  # the weakest obligation's scope first, as `solvent prove`'s headline
        head, more = p.scopes_text()
        return f"; z3: proved ({head}){more}"
    own = next((o for o in p.obligations if o.obligation == v.invariant.id), None)
    if own is not None and own.verdict.value == "proved":
        scope = own.scope.text if own.scope is not None else p.scope.text
        return f"; z3: the claim proved ({scope}), transfer signs undecided within {effort_text(p.units)}"
    return f"; z3: undecided within {effort_text(p.units)}"


def _scope_evidence(p: Any, label: str, claim: str) -> str:
    """One margin scope's answer: "proved on all-cross books (N ≤ 2, …)", "undecided on books with
    an isolated position within 3.0M units"."""
    state = _proof_state(p, claim)
    if p.verdict.value == "proved":
        head, more = p.scopes_text()
        return f"{state} on {label} ({head}){more}"
    if p.verdict.value == "refuted":
        return f"{state} on {label} ({p.scope.text})"
    return f"{state} on {label} within {effort_text(p.units)}"


def evidence(v: ClaimVerdict) -> str:
    """What a verdict rests on, in one line."""
    if v.violation is not None:
        more = f" (+{len(v.more)} more)" if v.more else ""
        # z3's own story names its scope where the claim was asked on several (solver.margin_scopes)
        proof = proof_evidence(v) if v.violation.origin != "z3" or (v.proof is not None and v.proof.parts) else ""
        return f"{where(v.violation)}, step {v.violation.step_index + 1}{more}{proof}"
    tried = search_evidence(v) + proof_evidence(v) + deep_evidence(v)
    if v.status is ClaimStatus.NOT_EXERCISED:
        return f"path never taken in {v.steps_checked} scenario steps" + tried
    return f"{v.steps_exercised} of {v.steps_checked} scenario steps" + tried


def counts(report: PolicyReport) -> dict[ClaimStatus, int]:
    return {s: sum(1 for v in report.verdicts if v.status is s) for s in ClaimStatus}


def summary_line(report: PolicyReport) -> str:
    c = counts(report)
    return (
        f"{c[ClaimStatus.FAILS]} fail, {c[ClaimStatus.ACCEPTED]} fail as accepted, "
        f"{c[ClaimStatus.HELD]} held, {c[ClaimStatus.NOT_EXERCISED]} not exercised"
    )


# --- replay handles ------------------------------------------------------------------------------


def finding_file(violation: Violation, report: PolicyReport) -> Path | None:
    """The counterexample-database file that replays a searched or saved story, if there is one."""
    if violation.origin in ("scenario", "z3") or report.findings_dir is None:
        return None
    return findings.database_path(report.findings_dir, report.policy, violation.invariant)


def replay_command(violation: Violation, report: PolicyReport) -> tuple[str, str]:
    """The command that shows this failure again, and a note on why it gives the same story."""
    if violation.invariant in catalog.CATALOG and not catalog.builtin(violation.invariant):
        # an invariant registered in the user's own code: only their pytest run knows it
        return (
            f"pytest --solvent {report.source} -k {violation.invariant}",
            "the invariant is registered in your own code (conftest.py)",
        )
    if violation.invariant in relational.RELATIONAL:
        # a relational story is judged with its twin by its own search, which is derandomized
        return _searched(report, f"--invariant {violation.invariant}")
    if violation.found_for:
        # a story found for another invariant and judged against this one: replay the saved
        # finding that holds it (``solvent replay`` names every claim the story breaks)
        for invariant in (violation.invariant, violation.found_for):
            saved = (
                None
                if report.findings_dir is None
                else findings.database_path(report.findings_dir, report.policy, invariant)
            )
            if saved is not None and saved.exists() and _same_story(saved, violation):
                return f"solvent replay {saved}", ""
        if violation.origin == "search":
            return _searched(report, f"--invariant {violation.found_for} --invariant {violation.invariant}")
    if violation.origin == "scenario":
        return f"solvent check {report.source} --scenario {violation.scenario}", ""
    if violation.origin == "z3":
        saved = (
            None
            if report.findings_dir is None
            else findings.database_path(report.findings_dir, report.policy, violation.invariant)
        )
        if saved is not None and saved.exists() and _same_story(saved, violation):
            return f"solvent replay {saved}", ""
        # a z3 story judged against another claim is told again by the proof of the claim it was found for
        asked = violation.found_for or violation.invariant
        proof = _proof_of(report, asked)
        if proof is None or proof.bounds is None:  # no question to ask again: z3's own N, not the maker's
            accounts = violation.z3_traders or len(violation.story.book.traders)
            return f"solvent prove {report.source} --invariant {asked} --accounts {max(accounts, 1)}", (
                "prints the replayed story"
            )
        return (
            f"solvent prove {report.source} --invariant {asked}"
            + _check_question(proof, asked)
            + _margin_options(proof)
            + _grid_first(proof),
            "check's question: the same story",
        )
    saved = finding_file(violation, report)
    if saved is not None and (violation.origin != "deep" or (saved.exists() and _same_story(saved, violation))):
        return f"solvent replay {saved}", ""
    if violation.origin == "deep":
        command, note = _searched(report, f"--invariant {violation.invariant}")
        return f"{command} --deep-stories", "z3's units and the seeded search's examples are counts: " + note
    return _searched(report, f"--invariant {violation.invariant}")


def _proof_of(report: PolicyReport, invariant: str) -> Any:
    """z3's answer on ``invariant`` in ``report`` (a ``ProofResult``), or None where check asked none."""
    return next((v.proof for v in report.verdicts if v.invariant.id == invariant and v.proof is not None), None)


def _check_question(proof: Any, invariant: str) -> str:
    """The options that ask ``solvent prove`` the question check asked (``verdicts.proofs``): its N,
    the units its allotment gave it (each question's effort is its own purse, so the same units
    give the same answer, ``solver.effort``) and check's order (``--as-check``: the bounded check
    first, z3's first story told at its least move unshrunk); with prove's defaults instead (60M,
    the payers' argument first, the story shrunk) z3's first model may be another book, and its
    least move another sentence (docs/solver-notes.md#reproduce-lines-ask-checks-own-question-session-35).
    ``--no-least-move`` where check told a one-move story as z3 found it (``check --no-least-move``)."""
    options = f" --accounts {proof.bounds.accounts} --effort {proof.bounds.effort:,} --as-check"
    told = invariant in catalog.CATALOG and tellable(proof, catalog.get(invariant))
    if told and proof.counterexample.move is None:
        options += " --no-least-move"
    return options


def _grid_first(proof: Any) -> str:
    """``--grid-first`` where check's story was found by the grid search its second round asks a
    claim the policy accepts as failing (``ProofResult.grid_first``): ``solvent prove`` asks the
    same question, and tells the same story, only so."""
    return " --grid-first" if proof.grid_first else ""


def _margin_options(proof: Any) -> str:
    """The options that fix ``solvent prove``'s book to the one check asked its claim on, where
    they differ from prove's own defaults: the margin scope whose story it is, where check asked the
    claim on two (``solver.margin_scopes``: the isolated one's positions, or every trader cross), and
    the collateral assets and event kinds (check puts a policy's first collateral asset and its oracle
    move on the book, ``verdicts.proofs``; prove's book has neither unless asked)."""
    bounds = proof.bounds
    options = f" --isolated {bounds.isolated}" if proof.parts else ""
    if bounds.assets:
        options += f" --assets {bounds.assets}"
    if tuple(bounds.event_kinds) != Bounds().event_kinds:
        options += f" --event-kinds {','.join(bounds.event_kinds)}"
    return options


def _searched(report: PolicyReport, invariants: str) -> tuple[str, str]:
    """The check that searches again for a searched story: with the seed the search drew from,
    when it had one (``--seed``, after ``--deep`` and ``--examples N`` where the search had them:
    the same seed under another budget draws other stories), or derandomized."""
    budget = getattr(report, "search", None)
    if budget is None or budget.seed is None:
        return f"solvent check {report.source} {invariants}", "search is derandomized: same story"
    deep = budget.max_events == DEEP.max_events and not budget.derandomize
    flags = ["--deep"] if deep else []
    if budget.max_examples != (DEEP if deep else CI).max_examples:
        flags += ["--examples", str(budget.max_examples)]
    flags += ["--seed", str(budget.seed)]
    return f"solvent check {report.source} {invariants} {' '.join(flags)}", "same seed: same story"


def _same_story(path: Path, violation: Violation) -> bool:
    try:
        story = findings.load(path).story
        return (
            story.book == violation.story.book
            and story.events[: violation.step_index + 1] == violation.story.events[: violation.step_index + 1]
        )
    except findings.FindingError:
        return False


def reproduce(violation: Violation, report: PolicyReport) -> str:
    """The replay command, with its note in parentheses."""
    command, note = replay_command(violation, report)
    return f"{command} ({note})" if note else command


# --- grouping ------------------------------------------------------------------------------------


# --- the story, step by step ---------------------------------------------------------------------


def story_steps(policy: Policy, violation: Violation) -> tuple[Step, ...]:
    """The story replayed on the concrete engine up to and including the failing step."""
    events = violation.story.events[: violation.step_index + 1]
    return tuple(run(policy, violation.story.book, events))


def worth_showing(outcome: Any) -> bool:
    lots = getattr(outcome, "lots", None)
    return lots is None or lots != 0


def shown_accounts(book: Book, also: Book | None = None) -> list[Account]:
    """Traders, and the venue's accounts that hold money (in ``book`` or in ``also``)."""

    def holds(name: str, b: Book | None) -> bool:
        if b is None:
            return False
        a = b.account(name)
        return bool(a.cash_quote or a.spot_quote or holds_position(a))

    return [a for a in book.accounts if a.is_trader or holds(a.name, book) or holds(a.name, also)]


def holds_position(account: Account) -> bool:
    """Whether the account holds a position in any market of its book."""
    return bool(account.size_lots) or any(p.size_lots for p in account.more_positions)


def price_text(value: Any, contract: Contract = LINEAR) -> str:
    """The venue's price for the engine's lot value ``value``, for people.

    Linear: the value itself. Inverse: the whole price whose coin value is ``v`` when there is one
    (``contract.venue_price``), else ``V / v`` to two decimals marked ``≈`` (display only; the
    exact value is the lot value beside it and in the story's JSON).
    """
    if not contract.is_inverse:
        return amount(value)
    price = Fraction(venue_price(contract, value))
    if price.denominator == 1:
        return amount(price.numerator)
    hundredths = round(price * 100)
    return f"≈{hundredths // 100:,}.{hundredths % 100:02d}"


def units_text(policy: Policy) -> str:
    """What the numbers in a report mean: the policy's units and, for an inverse contract, how
    prices relate to the coin values the engine settles on."""
    money = Money.of(policy)
    if money.readable:
        prices = f"; prices in {money.price_unit}" if not policy.contract.is_inverse else ""
        text = f"amounts in {money.currency} (one quantum: {policy.units.quote}){prices}; sizes in {lots_word(policy.contract)} of {policy.units.lot}"
    else:
        text = f"amounts in quanta of {policy.units.quote}; sizes in {lots_word(policy.contract)} of {policy.units.lot}"
    c = policy.contract
    if c.is_inverse:
        prices = f"prices in {c.price}" if c.price else "prices in the quote currency"
        text += f"; inverse contract: {prices}, a contract is worth {c.value_quanta:,} / price quanta ({c.value_rounding.value} rounding)"
    return text


def _in_mode(before: Book | None, name: str, event: Any) -> str:
    """A trader's name in a trade, ``(isolated)`` beside it where the trade is its isolated
    position's (``rules.isolated.route``); as it was on a book without isolated positions."""
    if before is None or not any(a.owner for a in before.accounts):
        return name
    try:
        market = before.market_named(event.market).name
    except KeyError:
        return name
    return f"{name} (isolated)" if before.isolated_account(name, market) else name


def margin_modes_text(book: Book) -> str | None:
    """The margin mode of each position a story's book holds isolated, in words (docs/portfolio.md
    decision 3a): ``margin: alice's PERP position is isolated (alice:PERP, on its own margin);
    every other position is cross``. None on a book without isolated positions (whose stories read
    as they always have)."""
    held = [a for a in book.accounts if a.owner]
    if not held:
        return None
    said = "; ".join(
        f"{a.owner}'s {a.isolated_market} position is isolated ({a.name}, on its own margin)" for a in held
    )
    return f"margin: {said}; every other position is cross"


def account_label(account: Account) -> str:
    """An account's name in a book table: an isolated position's says so (``alice:PERP (isolated)``)."""
    return f"{account.name} (isolated)" if account.owner else account.name


def lots_word(contract: Contract = LINEAR) -> str:
    return "contracts" if contract.is_inverse else "lots"


def _money(contract: Contract, money: Money | None) -> Money:
    """``money``, or amounts in quanta on ``contract`` (what reports said before units were read)."""
    return money if money is not None else attrs.evolve(QUANTA, contract=contract)


def describe_event(
    event: Any, before: Book | None = None, contract: Contract = LINEAR, money: Money | None = None
) -> str:
    """One event in words and in the venue's terms, e.g. ``mark USDT 103,000 → USDT 99,180/BTC
    (−3.71%)`` or ``alice deposits USDT 88.01`` (``money``: the policy's currency; without it,
    quanta: ``mark 10,300 → 9,918``). On an inverse contract a trade names the contracts' buyer
    and a mark names the price, with the coin value per contract the engine settles on beside it."""
    market = named_market(event, before)
    money = _money(contract, money).in_market(market or getattr(event, "market", ""))
    if isinstance(event, ev.Deposit):
        return f"{event.account} deposits {money.amount(event.amount_quote)}"
    if isinstance(event, ev.Withdraw):
        return f"{event.account} withdraws {money.amount(event.amount_quote)}"
    if isinstance(event, ev.SpotDeposit):
        return f"{event.account} deposits {money.amount(event.amount_quote)} to spot"
    if isinstance(event, ev.Trade):
        venue = from_engine(contract, event)
        taker = venue.buyer if venue.taker is ev.Taker.BUYER else venue.seller
        price = money.price(event.price_quote)
        what = market or lots_word(contract)
        if not market and venue.lots == 1:  # "buys 1 lot", "buys 1 contract"
            what = what.removesuffix("s")
        buyer, seller = (_in_mode(before, name, event) for name in (venue.buyer, venue.seller))
        return f"{buyer} buys {amount(venue.lots)} {what} from {seller} at {price} ({taker} takes)"
    if isinstance(event, ev.MarkPrice):
        new = money.price(event.price_quote)
        coin = f"; coin value {money.amount(event.price_quote)} per contract" if contract.is_inverse else ""
        mark = f"mark of {market}" if market else "mark"
        if before is None:
            return f"{mark} moves to {new}{coin}"
        old = market_of(before, event).mark_quote
        venue_old, venue_new = venue_price(contract, old), venue_price(contract, event.price_quote)
        if contract.is_inverse:
            coin = f"; coin value {money.amount(old)} → {money.amount(event.price_quote)} per contract"
        was = money.price_number(old) if money.readable else money.price(old)
        return f"{mark} {money.currency + ' ' if money.readable and not contract.is_inverse else ''}{was} → {new} ({_percent(venue_new - venue_old, venue_old)}{coin})"
    if isinstance(event, ev.Funding):
        where = f" in {market}" if market else ""
        return f"funding{where} at {amount(from_engine(contract, event).rate_ppm)} ppm"
    if isinstance(event, ev.FinalSettlement):
        where = f" of {market}" if market else ""
        return f"final settlement{where} at {money.price(event.price_quote)}: every position closed"
    if isinstance(event, (ev.AssetPrice, ev.AssetDeposit, ev.AssetWithdraw)):
        return _describe_asset_event(event, before, money)
    if isinstance(event, ev.MARGIN_EVENTS):
        where = event.market or (before.market.name if before is not None else "the first market")
        if isinstance(event, ev.AddMargin):
            return f"{event.account} adds {money.amount(event.amount_quote)} to its isolated {where} position's margin"
        return f"{event.account} takes {money.amount(event.amount_quote)} out of its isolated {where} position's margin"
    if isinstance(event, ev.InterestAccrual):
        if event.rate_ppm is None:
            what = event.asset or "settlement cash"
            return f"interest on {what} for {amount(event.seconds)} s at its rate curve"
        return f"interest on {event.asset} at {amount(event.rate_ppm)} ppm"
    return repr(event)


def _describe_asset_event(event: Any, before: Book | None, money: Money) -> str:
    """A collateral asset's event: amounts in the asset's quanta, its oracle price in the policy's
    money per asset quantum (``price of USDe 100 → 30 (−70.00%)``, ``alice deposits 1,000 USDe``)."""
    if isinstance(event, ev.AssetDeposit):
        return f"{event.account} deposits {amount(event.amount)} {event.asset}"
    if isinstance(event, ev.AssetWithdraw):
        return f"{event.account} withdraws {amount(event.amount)} {event.asset}"
    new = money.amount(event.price_quote)
    if before is None:
        return f"price of {event.asset} moves to {new}"
    try:
        old = before.assets[before.asset_index(event.asset)].price_quote
    except KeyError:
        return f"price of {event.asset} moves to {new}"
    return f"price of {event.asset} {money.amount(old)} → {new} ({_percent(event.price_quote - old, old)})"


def named_market(event: Any, before: Book | None) -> str:
    """The name of the market ``event`` acts on, when a story names it: on a book of several
    markets (the first market by its name too), or, with no book known, when the event names one;
    empty for a one-market book (whose stories read as they always have) and for events that act
    on no market (deposits, withdrawals)."""
    if not isinstance(event, (ev.Trade, ev.MarkPrice, ev.Funding, ev.FinalSettlement)):
        return ""
    if before is None:
        return event.market
    if not before.more_markets:
        return ""
    try:
        return before.market_named(event.market).name
    except KeyError:
        return event.market


def market_of(book: Book, event: Any) -> Market:
    """The market of ``book`` that ``event`` acts on (the first for an event on no market, or on
    a market the book does not have: such an event is rejected before it is told)."""
    try:
        return book.market_named(getattr(event, "market", ""))
    except KeyError:
        return book.market


def venue_terms_lines(
    events: Sequence[Any], befores: Sequence[Book | None], contract: Contract, pad: str = "  "
) -> list[str]:
    """An inverse contract's story told again in the venue's terms, for the plain-text outputs: a
    header and one numbered line per event (``befores``: the book before each, as far as known).
    Empty on a linear contract, whose engine events already are the venue's."""
    if not contract.is_inverse:
        return []
    known = list(befores) + [None] * (len(events) - len(befores))
    lines = [f"{pad}the same events in the venue's terms (inverse contract):"]
    return lines + [
        f"{pad}  {i + 1}. {describe_event(e, b, contract)}" for i, (e, b) in enumerate(zip(events, known, strict=False))
    ]


def _percent(change: Any, base: Any) -> str:
    if not base:
        return "from zero"
    bp = Fraction(change) * 10_000 / Fraction(base)
    hundredths = round(bp)  # display only: basis points to two decimals of a percent
    sign = "+" if hundredths > 0 else "−" if hundredths < 0 else "±"
    return f"{sign}{abs(hundredths) // 100:,}.{abs(hundredths) % 100:02d}%"


#: Outcome fields that hold a signed position (the venue's sign differs on an inverse contract)
#: and fields that hold a price (the venue's price is ``V / v`` there).
SIGNED_SIZE_FIELDS = frozenset({"size_lots", "position_lots"})
PRICE_FIELDS = frozenset({"fill_price_quote", "price_quote"})


def venue_value(field: str, value: Any, contract: Contract = LINEAR, money: Money | None = None) -> str:
    """One field of an outcome or an account, in the venue's terms, for people: with ``money``,
    an amount (a ``*_quote`` field) in its currency and a price per unit."""
    money = _money(contract, money)
    if field in SIGNED_SIZE_FIELDS:
        return amount(contracts(contract, value))
    if field in PRICE_FIELDS:
        return money.price(value)
    if field.endswith("_quote"):
        return money.amount(value)
    return amount(value)


def describe_outcome(outcome: Any, contract: Contract = LINEAR, money: Money | None = None) -> str:
    """An outcome in words, sizes and prices in the venue's terms; unknown kinds fall back to their repr."""
    name = type(outcome).__name__
    if not attrs.has(type(outcome)):
        return f"{name}({outcome!r})"
    # an outcome's market is named on a book of several markets only (``""`` on one); its prices
    # read in that market's lot where it has one of its own (``USDT 87.23/lot``, not ``/BTC``)
    shown = {k: v for k, v in attrs.asdict(outcome).items() if not (k == "market" and v == "")}
    here = money.in_market(shown["market"]) if money is not None and shown.get("market") else money
    fields = ", ".join(f"{k}={venue_value(k, v, contract, here)}" for k, v in shown.items())
    return f"{name}({fields})"


@attrs.frozen
class Paid:
    """Layer ``index`` (``layer``) of the waterfall took ``amount`` from ``payer`` for ``bankrupt``."""

    index: int
    layer: str
    bankrupt: str
    payer: str
    amount: Any


def waterfall_paid(step: Step) -> list[Paid]:
    """Who paid each bankrupt account's deficit in this step, layer by layer.

    A layer that moves money names each account it took from; a debt carried names the bankrupt
    account itself (it still owes it); a residual deficit is paid by no one.
    """
    rows: list[Paid] = []
    # a deficit split between markets uses a layer once per market; its payers are listed once
    used = {}
    for o in step.outcomes:
        if isinstance(o, LayerUsed) and o.covered_quote:
            used.setdefault((o.account, o.index), o)
    for o in used.values():
        # the ADL layer's record covers the fund's takeover of what ADL left (BitMEX, ``fund_takes_over``)
        # and the vault's at a funding sweep (``vault_takes_over``, session 28)
        takeovers = (Reason.FUND_TAKEOVER, Reason.VAULT_TAKEOVER)
        reasons = {LAYER_REASON.get(o.layer), *(takeovers if o.layer == "adl" else ())}
        payers = _paid_to(step, reasons, o.account)
        if not payers:
            payers = {f"{o.account} (owes it)" if o.layer == "debt_carry" else o.layer: o.covered_quote}
        rows += [Paid(o.index, o.layer, o.account, payer, paid) for payer, paid in payers.items()]
    for o in step.outcomes:
        if isinstance(o, SettlementCut) and o.amount_quote:
            # the settlement currency's depositors, after the waterfall (``[settlement]``)
            cut = _paid_to(step, {Reason.DEPOSIT_INDEX_LOSS}, o.account)
            rows += [Paid(-1, "settlement deposit cut", o.account, payer, v) for payer, v in cut.items()]
    for account in dict.fromkeys(o.account for o in step.outcomes if isinstance(o, Residual) and o.amount_quote):
        unpaid = left_unpaid(step.outcomes, account)
        if unpaid:
            rows.append(Paid(-1, "unpaid", account, "no one", unpaid))
    return rows


def _paid_to(step: Step, reasons: set[Any], account: str) -> dict[str, Any]:
    """What each source paid ``account`` in this step for any of ``reasons``, in ledger order."""
    payers: dict[str, Any] = {}
    for t in step.transfers:
        if t.reason in reasons and t.destination == account:
            payers[t.source] = payers.get(t.source, 0) + t.amount_quote
    return payers


@attrs.frozen
class Bankruptcy:
    """One bankrupt account in one step: its deficit and each layer's share (for the waterfall plot)."""

    step_index: int
    account: str
    deficit: Any
    layers: tuple[tuple[int, str, Any], ...]
    unpaid: Any
    carried: Any
    #: the market whose own insurance fund the ``insurance_fund`` layer paid from, on a book that
    #: keeps a fund per market (``[waterfall] scope = "per_market"``); ``""`` on any other book
    fund_market: str = ""
    #: each layer's market, beside ``layers``, where the policy splits a deficit between markets
    #: (``[waterfall] deficit_split``: a layer paid once per market); empty otherwise
    layer_markets: tuple[str, ...] = ()
    #: the account kept its position below zero for a later event: the event had deleveraged its
    #: limit of accounts (``adl.max_deleveraged_per_event``, dYdX's per-block limit)
    deferred: bool = False


def _paying_fund_market(s: Step) -> str:
    """The market whose fund balance paid this step's deficits, as the ledger names it
    (``insurance_fund#ETH``; the fund's own name is the first market's): the event's market where
    each market keeps its own fund, the first market of its group where a group shares one
    (``rules.market_funds``); the event's market where the fund paid nothing."""
    fund = s.before.role(Role.INSURANCE_FUND).name
    for t in s.transfers:
        if t.reason is Reason.INSURANCE_FUND and t.source.split(MARKET_FUND)[0] == fund:
            return t.source.split(MARKET_FUND, 1)[1] if MARKET_FUND in t.source else s.before.market.name
    return market_of(s.before, s.event).name


def bankruptcies(steps: Sequence[Step]) -> list[Bankruptcy]:
    out = []
    for i, s in enumerate(steps):
        for b in (o for o in s.outcomes if isinstance(o, Bankrupt)):
            layers = tuple(
                (o.index, o.layer, o.covered_quote)
                for o in s.outcomes
                if isinstance(o, LayerUsed) and o.account == b.account and o.covered_quote
            )
            unpaid = left_unpaid(s.outcomes, b.account)
            carried = sum(o.amount_quote for o in s.outcomes if isinstance(o, DebtCarried) and o.account == b.account)
            fund = _paying_fund_market(s) if s.before.funds_per_market else ""
            markets = tuple(
                o.market
                for o in s.outcomes
                if isinstance(o, LayerUsed) and o.account == b.account and o.covered_quote and o.market
            )
            split = markets if len(markets) == len(layers) else ()
            deferred = any(
                isinstance(o, DeleverageAttempt) and o.account == b.account and o.deferred for o in s.outcomes
            )
            out.append(Bankruptcy(i, b.account, b.deficit_quote, layers, unpaid, carried, fund, split, deferred))
    return out


# --- everything a format needs about one finding -------------------------------------------------


@attrs.frozen
class Told:
    """A finding group with its replayed steps, replay handle and policy line: ready to render."""

    group: FindingGroup
    steps: tuple[Step, ...]
    replay: str
    replay_note: str
    finding_file: Path | None
    rule: RuleRef
    claims: tuple[tuple[str, str], ...]
    #: the policy's contract: how prices and sizes read in the venue's terms
    contract: Contract = LINEAR
    #: the policy's currency and decimals: how amounts and prices read
    money: Money = QUANTA

    @property
    def story(self) -> Story:
        return self.group.violation.story


def tell(report: PolicyReport, group: FindingGroup) -> Told:
    violation = group.violation
    claims = tuple((v.invariant.id, v.invariant.claim) for v in report.verdicts if v.invariant.id in group.invariants)
    return Told(
        group,
        story_steps(report.policy, violation),
        *replay_command(violation, report),
        finding_file(violation, report),
        locate_rule(report.policy, policy_file(report.source), group.invariants[0], violation.step),
        claims,
        report.policy.contract,
        Money.of(report.policy),
    )


def told(report: PolicyReport) -> list[Told]:
    """Every finding of the report, grouped and ready to render."""
    return [tell(report, g) for g in group_findings(report)]


# --- books and verdict order ---------------------------------------------------------------------

BOOK_COLUMNS = (
    ("cash", "cash_quote"),
    ("spot", "spot_quote"),
    ("size", "size_lots"),
    ("principal", "principal_quote"),
    ("debt", "debt_quote"),
)


def book_value(account: Account, field: str, contract: Contract = LINEAR) -> Any:
    """An account's field in the venue's terms: the size is the venue's signed contracts."""
    value = getattr(account, field)
    return contracts(contract, value) if field in SIGNED_SIZE_FIELDS else value


def column_header(header: str, contract: Contract = LINEAR) -> str:
    return f"size ({lots_word(contract)})" if header == "size" else header


def size_columns(book: Book, contract: Contract = LINEAR) -> list[tuple[str, Callable[[Account], Any]]]:
    """The book's position columns: header and the account's signed size in the venue's terms.
    One market: one ``size (lots)`` column, as ever; several: one per market, ``size ETH (lots)``."""
    if not book.more_markets:
        return [(column_header("size", contract), lambda a: book_value(a, "size_lots", contract))]
    return [
        (f"size {m.name} ({lots_word(contract)})", lambda a, i=i: contracts(contract, a.positions[i].size_lots))
        for i, m in enumerate(book.markets)
    ]


def asset_columns(book: Book) -> list[tuple[str, Callable[[Account], Any]]]:
    """The book's collateral asset columns: ``USDe (quanta)``, each account's balance of it in the
    asset's quanta; none on a book without assets (its tables read as before)."""
    return [(f"{a.name} (quanta)", lambda acc, i=i: acc.asset_balances[i]) for i, a in enumerate(book.assets)]


def fund_columns(book: Book, money: Money | None = None) -> list[tuple[str, Callable[[Account], Any]]]:
    """Where the policy keeps a fund per market (``[waterfall] scope = "per_market"``): one column
    per further market, ``fund ETH (USDT)``, the insurance fund's balance there (its ``cash`` is
    the first market's fund); none on any other book (its tables read as before)."""
    if not book.funds_per_market:
        return []
    money = money or QUANTA
    return [
        (money.column(f"fund {m.name}"), lambda acc, i=i: acc.more_funds[i] if acc.more_funds else 0)
        for i, m in enumerate(book.more_markets)
    ]


def marks_text(before: Book, after: Book | None = None, contract: Contract = LINEAR, money: Money | None = None) -> str:
    """Each market's mark on a book of several (``after``: as ``before → after`` where it moved),
    in the venue's prices: ``marks in USD/contract: BTC 31,000, ETH 2,000 → 1,300``; empty for a
    one-market book, whose mark the story's events already tell."""
    if not before.more_markets:
        return ""
    money = _money(contract, money)
    own = bool(money.markets)  # a market with a lot of its own: each price says its unit
    parts = []
    for i, m in enumerate(before.markets):
        here = money.in_market(m.name)
        show = here.price if own else here.price_number
        new = m.mark_quote if after is None else after.markets[i].mark_quote
        parts.append(
            f"{m.name} {show(m.mark_quote)}" if new == m.mark_quote else f"{m.name} {show(m.mark_quote)} → {show(new)}"
        )
    unit = f" in {money.price_unit}" if money.price_unit and not own else ""
    return f"marks{unit}: {', '.join(parts)}"


#: Order of verdicts in the Markdown and HTML tables: what needs attention first.
RANK = {ClaimStatus.FAILS: 0, ClaimStatus.ACCEPTED: 1, ClaimStatus.NOT_EXERCISED: 2, ClaimStatus.HELD: 3}


def by_attention(report: PolicyReport) -> list[ClaimVerdict]:
    return sorted(report.verdicts, key=lambda v: RANK[v.status])


#: book columns that hold money (shown in the currency, with its name in the header)
MONEY_COLUMNS = frozenset({"cash", "spot", "principal", "debt"})


def _is_money(header: str) -> bool:
    """A money column: one of :data:`MONEY_COLUMNS`, or a market's fund (``fund ETH (USDT)``)."""
    name = header.split(" (")[0]
    return name in MONEY_COLUMNS or name.startswith("fund ")


def book_changes(
    before: Book, after: Book, contract: Contract = LINEAR, money: Money | None = None
) -> tuple[list[str], list[tuple[str, list[tuple[Any, Any]]]]]:
    """Column headers, and per shown account its (before, after) value per column, sizes in the
    venue's terms (``contract``); with ``money``, money columns name its currency (``cash
    (USDT)``), for :func:`change` to show their values in it.

    Columns that are zero for every shown account in both books are left out (but for a book of
    several markets, each market's size column).
    """
    accounts = shown_accounts(before, after)
    money = _money(contract, money)
    every: list[tuple[str, Callable[[Account], Any]]] = []
    for h, f in BOOK_COLUMNS:
        if f == "size_lots":
            every += size_columns(before, contract) + asset_columns(before)
        elif f == "spot_quote":
            every += fund_columns(before, money)
            every.append((money.column(h), lambda a, f=f: getattr(a, f)))
        else:
            every.append((money.column(h) if h in MONEY_COLUMNS else h, lambda a, f=f: getattr(a, f)))
    # on a book of several markets every market's size column stays, as in the text report
    kept = {h for h, _ in size_columns(before, contract)} if before.more_markets else set()
    columns = [
        (h, get)
        for k, (h, get) in enumerate(every)
        if k == 0 or h in kept or any(get(b.account(a.name)) for b in (before, after) for a in accounts)
    ]
    rows = [
        (account_label(a), [(get(before.account(a.name)), get(after.account(a.name))) for _, get in columns])
        for a in accounts
    ]
    return ["account", *(h for h, _ in columns)], rows


def book_cells(headers: Sequence[str], cells: Sequence[tuple[Any, Any]], money: Money | None = None) -> list[str]:
    """One row of :func:`book_changes` as text: money columns (after ``account``) in the currency."""
    money = money or QUANTA
    return [
        change(pair, money if _is_money(h) else QUANTA, fixed=True) for h, pair in zip(headers[1:], cells, strict=True)
    ]


def change(pair: tuple[Any, Any], money: Money = QUANTA, *, fixed: bool = False) -> str:
    """``a → b`` when a value changed, else ``a`` (numbers in ``money``'s currency, no name;
    ``fixed``: every decimal written, for a table column)."""
    old, new = pair
    a, b = money.number(old, fixed=fixed), money.number(new, fixed=fixed)
    return a if old == new else f"{a} → {b}"


def deficit_sentence(b: Bankruptcy, money: Money = QUANTA) -> str:
    """``alice went bankrupt with a deficit of USDT 88.99; paid by 1. insurance_fund USDT 22.00,
    2. adl USDT 66.99.`` (in quanta without ``money``: ``a deficit of 8,899``)."""

    def named(layer: str) -> str:  # a fund kept per market says whose: ``insurance_fund (ETH)``
        return f"{layer} ({b.fund_market})" if b.fund_market and layer == "insurance_fund" else layer

    # a deficit split between markets names each share's market: ``2. adl in BTC-USD USDC 0.08``
    where = [f" in {m}" for m in b.layer_markets] or [""] * len(b.layers)
    parts = [
        f"{i + 1}. {named(layer)}{at} {money.amount(covered)}"
        for (i, layer, covered), at in zip(b.layers, where, strict=True)
    ]
    if b.unpaid:
        parts.append(f"unpaid {money.amount(b.unpaid)}")
    sentence = f"{b.account} went bankrupt with a deficit of {money.amount(b.deficit)}; paid by {', '.join(parts) or 'no layer'}."
    if b.deferred:
        sentence += (
            " It keeps its position, below zero, for a later event: this one had deleveraged its limit of accounts."
        )
    return sentence


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"

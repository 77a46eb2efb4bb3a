"""Plain text for a proof result: the verdict line, what was assumed and proved, and for a
refutation the replayed story (starting book, events, and the transfers of the failing step).

z3 works in the engine's lot values; on an inverse contract (``solvent.rules.contract``) sizes are
shown as the venue's contracts and the events are told again in the venue's terms."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from solvent.reports.story import coin_moves_note, extreme_story_note, unconstrained_cash_note, venue_terms_lines
from solvent.rules.book import Book
from solvent.rules.contract import LINEAR, Contract, contracts
from solvent.rules.engine import Step
from solvent.simulation.executors import CellError
from solvent.solver.thresholds import ThresholdStatus
from solvent.solver.verdicts import ProofResult, Verdict

#: columns whose sign is the engine's side: on an inverse contract the venue's is the opposite
SIGNED = frozenset({"size_lots", "cost_quote"})


def _accounts(book: Book, contract: Contract = LINEAR) -> str:
    """Every trader and every account holding something; on a book of several markets, a size and
    a cost column per market (``size PERP2 (lots)``, ``cost PERP2``)."""
    word = "contracts" if contract.is_inverse else "lots"
    if not book.more_markets:
        positions = [(f"size ({word})", lambda a: a.size_lots), ("cost", lambda a: a.cost_quote)]
    else:
        positions = [
            column
            for i, m in enumerate(book.markets)
            for column in (
                (f"size {m.name} ({word})", lambda a, i=i: a.positions[i].size_lots),
                (f"cost {m.name}", lambda a, i=i: a.positions[i].cost_quote),
            )
        ]
    columns = [
        ("cash", lambda a: a.cash_quote),
        ("spot", lambda a: a.spot_quote),
        *((h, lambda a, get=get: contracts(contract, get(a))) for h, get in positions),
        ("principal", lambda a: a.principal_quote),
        ("debt", lambda a: a.debt_quote),
    ]
    rows = [
        (a.name, *(get(a) or "" for _, get in columns))
        for a in book.accounts
        if a.is_trader or any(get(a) for _, get in columns)
    ]
    return tabulate(rows, headers=("account", *(h for h, _ in columns)), tablefmt="simple")


def _marks(book: Book) -> str:
    """``mark 10000``, or on a book of several markets ``marks PERP 100, PERP2 250`` (the engine's
    values, as the rest of a proof's story)."""
    if not book.more_markets:
        return f"mark {book.market.mark_quote}"
    return "marks " + ", ".join(f"{m.name} {m.mark_quote}" for m in book.markets)


def _venue_events(story, steps: tuple[Step, ...], contract: Contract, pad: str) -> list[str]:
    """The story's events again in the venue's terms (inverse contracts only)."""

    return venue_terms_lines(story.events, [s.before for s in steps], contract, pad)


def _transfers(step: Step) -> str:
    rows = [(t.source, t.destination, t.amount_quote, t.reason.value) for t in step.transfers]
    return tabulate(rows, headers=("from", "to", "amount", "reason"), tablefmt="simple") if rows else "(no transfers)"


def _indent(text: str, pad: str = "    ") -> str:
    return "\n".join(pad + line for line in text.splitlines())


def _obligations(result: ProofResult, pad: str) -> list[str]:
    """Each obligation's verdict, with its scope and reason."""
    return [
        f"{pad}{o.obligation}: {o.verdict.value}{f' ({o.scope.text})' if o.scope is not None else ''}"
        + (f" - {o.reason}" if o.reason else "")
        for o in result.obligations
    ]


def render(result: ProofResult, *, verbose: bool = False, contract: Contract = LINEAR) -> str:
    """The result as a person reads it (``verbose`` adds every query, lemma and assumption);
    ``contract`` is the policy's, for reading an inverse contract's story in its own terms."""
    lines = [result.summary(), f"  method: {result.method}"]
    for part in result.parts:  # one question per margin scope (solver.margin_scopes)
        p = part.result
        head, more = p.scopes_text()
        reason = f" - {p.reason}" if p.reason else ""
        lines.append(f"  on {part.label}: {p.verdict.value} ({head}){more}, {p.units:,} units{reason}")
        if p.scope.fixed:
            lines.append(f"    fixed in every book: {p.scope.fixed}")
        lines += _obligations(p, "    ")
    if not result.parts:
        if result.scope.fixed:
            lines.append(f"  fixed in every book: {result.scope.fixed}")
        lines += _obligations(result, "  ")
    if result.accepted:
        lines.append("  (the policy accepts this invariant's failure by design)")
    if result.verdict is Verdict.VACUOUS:
        lines.append("  conflicting assumptions: " + "; ".join(result.conflicting))
    cx = result.counterexample
    if cx is not None:
        lines.append(f"\ncounterexample (replayed on the concrete engine): {cx.detail}")
        lines.append(f"  starting book ({_marks(cx.story.book)}):")
        lines.append(_indent(_accounts(cx.story.book, contract)))
        for note in (unconstrained_cash_note(cx.story.book), extreme_story_note(cx.story, cx.step_index)):
            if note:
                lines.append(f"  {note}")
        lines.append("  events:")
        for i, event in enumerate(cx.story.events):
            mark = "  <- fails here" if i == cx.step_index else ""
            lines.append(f"    {i + 1}. {event!r}{mark}")
        lines += _venue_events(cx.story, cx.steps, contract, "  ")
        if cx.step_index < len(cx.steps):
            failing = cx.steps[cx.step_index]
            lines.append(f"  transfers of step {cx.step_index + 1}:")
            lines.append(_indent(_transfers(failing)))
            lines.append(f"  book after ({_marks(failing.after)}):" if failing.after.more_markets else "  book after:")
            lines.append(_indent(_accounts(failing.after, contract)))
        lines.append(f"  replay: {cx.story!r}")
    if verbose:
        lines.append("\n  assumptions: " + "; ".join(result.assumptions))
        for lemma in result.lemmas:
            lines.append(f"  lemma: {lemma}")
        for q in result.queries:
            lines.append(
                f"  query {q.name}: {q.result} in {q.seconds:.3f} s"
                + (f" ({q.refinements} refinements)" if q.refinements else "")
            )
    return "\n".join(lines)


def render_thresholds(
    results: list,
    *,
    verbose: bool = False,
    contract: Contract = LINEAR,
    questions: list[str] | None = None,
    markets: list[str] | None = None,
) -> str:
    """Threshold answers (``solvent.solver.thresholds``): a table, then each refuting story
    (``contract``: the policy's; on an inverse one the moves are of coin values, and it says so).
    An answer may be a grid cell's ``CellError`` (``solvent.simulation.executors``): a row
    ``error`` with its reason, the question (and market) read from ``questions`` (``markets``)
    in the same order. A table with a question asked per market has a market column."""

    def market_of(i: int, t: Any) -> str:
        return (markets[i] if markets else "") if isinstance(t, CellError) else t.market

    with_market = any(market_of(i, t) for i, t in enumerate(results))
    rows = []
    for i, t in enumerate(results):
        where = (market_of(i, t),) if with_market else ()
        if isinstance(t, CellError):
            rows.append((questions[i] if questions else "", *where, "error", str(t), "", "", ""))
            continue
        proved = "" if t.proved_at is None else f"{t.proved_at:,}"
        refuted = "" if t.refuted_at is None else f"{t.refuted_at:,}"
        rows.append((t.question, *where, t.status.value, t.boundary, proved, refuted, f"{t.seconds:.1f} s"))
    headers = ("question", *(("market",) if with_market else ()), "status", "boundary")
    lines = [
        tabulate(
            rows,
            headers=(*headers, "proved at (ppm)", "refuted at (ppm)", "time"),
            tablefmt="simple",
        )
    ]
    safe = next(
        (
            t.value
            for t in results
            if not isinstance(t, CellError) and t.question == "safe-move" and t.value is not None
        ),
        None,
    )
    if contract.is_inverse:
        lines.append(coin_moves_note(contract, safe))
    for t in results:
        if isinstance(t, CellError) or t.status is ThresholdStatus.NOT_APPLICABLE:
            continue
        lines.append(f"\n{t.summary()}")
        lines.append(f"  claim: {t.claim}")
        if t.comparison:
            lines.append(f"  against the policy: {t.comparison}")
        if t.scope:
            lines.append(f"  proved for: {t.scope}")
        if t.note:
            lines.append(f"  note: {t.note}")
        cx = t.counterexample
        if cx is not None:
            lines.append(f"  beyond the boundary (replayed on the concrete engine): {cx.detail}")
            if t.empty is not None:
                lines.append(
                    f"    from an empty book ({_marks(t.empty)}), these deposits and trades give the starting book:"
                )
                lines += [f"      {i + 1}. {event!r}" for i, event in enumerate(t.opening)]
            if t.story_note:
                lines.append(f"    note: {t.story_note}")
            lines.append(f"    starting book ({_marks(cx.story.book)}):")
            lines.append(_indent(_accounts(cx.story.book, contract), "      "))
            for i, event in enumerate(cx.story.events):
                lines.append(f"    event {i + 1}: {event!r}")
            lines += _venue_events(cx.story, cx.steps, contract, "    ")
            if cx.step_index < len(cx.steps):
                lines.append(f"    transfers of event {cx.step_index + 1}:")
                lines.append(_indent(_transfers(cx.steps[cx.step_index]), "      "))
        if verbose:
            for p in t.probes:
                lines.append(
                    f"  probe {p.value:,}: {p.verdict.value} in {p.seconds:.2f} s{' - ' + p.reason if p.reason else ''}"
                )
    return "\n".join(lines)


__all__ = ["render", "render_thresholds"]

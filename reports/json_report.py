"""The JSON report: every verdict and every story as data, schema-versioned ``solvent.report/1``.

One document covers every policy checked. Per policy: its identity (name, source, file, digest of
its content), the verdict of each invariant with its evidence (scenario steps checked and
exercised, search statistics) and references to the findings that show it failing; and the
findings themselves, deduplicated: the replayable story (the starting book and the events, in the
same shape as a ``solvent.finding/1`` file), each step up to the failing one (the event as data,
the ledger transfers, the outcomes, who paid through which waterfall layer), the books before
and after the failing step, the policy line involved and the replay handle.

Amounts are integers in the policy's quote quantum (a non-integer ``Fraction`` is written as the
string ``"n/d"``). ``seconds_*`` fields are the only ones that vary between identical runs.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from fractions import Fraction
from importlib import metadata
from typing import Any

import cattrs

from solvent.properties.findings import event_to_data, policy_digest, story_to_data
from solvent.properties.played import SearchResult
from solvent.reports.money import Money
from solvent.reports.story import KEY, Told, counts, describe_event, evidence, named_market, told, waterfall_paid
from solvent.rules.book import Book
from solvent.rules.contract import LINEAR, Contract, venue_price
from solvent.rules.engine import Step
from solvent.rules.events import omit_one_market_defaults
from solvent.rules.policy import Policy
from solvent.verdicts.check import ClaimVerdict, PolicyReport
from solvent.verdicts.findings import number_of
from solvent.verdicts.locate import RuleRef, display_path, policy_file

SCHEMA = "solvent.report/1"

_converter = cattrs.Converter()
_converter.register_unstructure_hook(enum.Enum, lambda e: e.value)
_converter.register_unstructure_hook(
    Fraction, lambda f: f.numerator if f.denominator == 1 else f"{f.numerator}/{f.denominator}"
)
omit_one_market_defaults(_converter)


def version() -> str:
    try:
        return metadata.version("solvent")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def _number(x: Any) -> Any:
    return _converter.unstructure(x) if isinstance(x, Fraction) else x


def _outcome(o: Any) -> dict[str, Any]:
    return {"type": type(o).__name__, **_converter.unstructure(o)}


def _book(book: Book) -> dict[str, Any]:
    return _converter.unstructure(book)


def _price(contract: Contract, value: Any) -> Any:
    """The venue's price for a lot value (``contract.venue_price``: the whole grid price when one
    gives that value, else ``V / v`` exactly as n/d)."""
    price = venue_price(contract, value)
    return price.numerator if isinstance(price, Fraction) and price.denominator == 1 else _number(price)


def _units(policy: Policy) -> dict[str, Any]:
    """The policy's ``[units]``, and how the text reports read them: amounts' currency and one
    quantum in it (a decimal string, exact), prices' unit. Amounts in this JSON stay integers."""
    money = Money.of(policy)
    out: dict[str, Any] = {"quote": policy.units.quote, "lot": policy.units.lot}
    if money.readable:
        out |= {"currency": money.currency, "quantum": money.quantum_text, "price_unit": money.price_unit}
    return out


def _markets(s: Step, contract: Contract) -> dict[str, Any]:
    """On a book of several markets, the market the step's event acts on (``null``: none, e.g. a
    deposit) and every market's mark and price before and after it; nothing for one market (its
    steps read as they always have)."""
    if not s.before.more_markets:
        return {}
    return {
        "market": named_market(s.event, s.before) or None,
        "markets": [
            {
                "name": m.name,
                "mark_before": _number(m.mark_quote),
                "mark_after": _number(after.mark_quote),
                "price_before": _price(contract, m.mark_quote),
                "price_after": _price(contract, after.mark_quote),
            }
            for m, after in zip(s.before.markets, s.after.markets, strict=True)
        ],
    }


def _step(index: int, s: Step, contract: Contract = LINEAR, money: Money | None = None) -> dict[str, Any]:
    """One step; ``mark_*`` are the engine's lot values, ``price_*`` the venue's prices (equal on a
    linear contract, ``V / mark`` on an inverse one), of the book's first market; on a book of
    several, ``market`` names the event's and ``markets`` holds each market's."""
    return {
        "step": index + 1,
        "event": event_to_data(s.event),
        "description": describe_event(s.event, s.before, contract, money),
        "mark_before": _number(s.before.market.mark_quote),
        "mark_after": _number(s.after.market.mark_quote),
        "price_before": _price(contract, s.before.market.mark_quote),
        "price_after": _price(contract, s.after.market.mark_quote),
        **_markets(s, contract),
        "transfers": [
            {"from": t.source, "to": t.destination, "amount": _number(t.amount_quote), "reason": t.reason.value}
            for t in s.transfers
        ],
        "outcomes": [_outcome(o) for o in s.outcomes],
        "paid": [
            {
                "layer_index": p.index if p.index >= 0 else None,
                "layer": p.layer,
                "bankrupt": p.bankrupt,
                "payer": p.payer,
                "amount": _number(p.amount),
            }
            for p in waterfall_paid(s)
        ],
    }


def rule_data(rule: RuleRef) -> dict[str, Any]:
    return {"file": display_path(rule.file), "line": rule.line, "key": rule.key, "wanted": rule.wanted}


def finding_data(t: Told) -> dict[str, Any]:
    """One deduplicated finding: the story, each step, the failing step's books, the replay handle."""
    g, v = t.group, t.group.violation
    return {
        "id": g.number,
        "invariants": list(g.invariants),
        "accepted": list(g.accepted),
        "origin": v.origin,
        "note": v.note,
        "scenario": v.scenario if v.origin in ("scenario", "deep") else None,  # a deep story: how it was found
        "failing_step": v.step_index + 1,
        "story": story_to_data(v.story),
        "steps": [_step(i, s, t.contract, t.money) for i, s in enumerate(t.steps)],
        "book_before": _book(v.step.before),
        "book_after": _book(v.step.after),
        "rule": rule_data(t.rule),
        "replay": {"command": t.replay, "note": t.replay_note or None, "finding_file": display_path(t.finding_file)},
        # a z3 story told at its least move (solvent.solver.smallest_move); absent for other stories
        **({"smallest_move": v.move.to_data()} if v.origin == "z3" and v.move is not None else {}),
    }


def search_data(r: SearchResult | None) -> dict[str, Any] | None:
    if r is None:
        return None
    s = r.stats
    return {
        "outcome": r.outcome.value,
        "examples": s.examples,
        "events": s.events,
        "exercised_steps": s.exercised_steps,
        "paths": dict(sorted(s.paths.items())),
        "seconds_to_first": None if s.seconds_to_first is None else round(s.seconds_to_first, 3),
        "seconds_total": round(s.seconds_total, 3),
    }


def proof_data(p: Any) -> dict[str, Any]:
    """z3's verdict on one invariant: what it covers, how, how long, and why when not decided.

    ``scope`` and ``all_accounts`` are the whole verdict's, as its text heads with them: a proof
    whose obligations hold on different scopes covers the weakest (an all-N claim beside
    non-negative transfers proved for N ≤ 2 is ``all_accounts: false``). ``claim_scope`` and
    ``claim_all_accounts`` are the claim's own, and each obligation carries its scope. A claim
    asked on several margin scopes (``solvent.solver.margin_scopes``) has ``scopes``: each one's
    books, verdict and units (its own proof data); the rest is the joined verdict's."""
    head = p.proved_scope if p.verdict.value == "proved" else p.scope
    scopes = [{"books": s.label, "units": s.result.units} | proof_data(s.result) for s in p.parts]
    return {
        "verdict": p.verdict.value,
        "scope": p.scopes_text()[0] if p.parts else head.text,
        "fixed": p.scope.fixed,
        "all_accounts": head.accounts is None,
        "claim_scope": p.scope.text,
        "claim_all_accounts": p.scope.accounts is None,
        "method": p.method,
        "seconds": round(p.seconds, 3),
        "reason": p.reason,
        "obligations": [
            {
                "obligation": o.obligation,
                "verdict": o.verdict.value,
                "scope": None if o.scope is None else o.scope.text,
                "reason": o.reason,
            }
            for o in p.obligations
        ],
        **({"scopes": scopes} if scopes else {}),
    }


def threshold_data(t: Any) -> dict[str, Any]:
    from solvent.solver.thresholds import to_data

    return to_data(t)


def verdict_data(v: ClaimVerdict, findings: Sequence[Told]) -> dict[str, Any]:
    groups = [t.group for t in findings]
    return {
        "invariant": v.invariant.id,
        "claim": v.invariant.claim,
        "severity": v.invariant.severity.value,
        "verdict": KEY[v.status],
        "accepted_by_policy": v.accepted,
        "evidence": {
            "summary": evidence(v),
            "scenario_steps_checked": v.steps_checked,
            "scenario_steps_exercised": v.steps_exercised,
            "search": search_data(v.search),
            **({"proof": proof_data(v.proof)} if v.proof is not None else {}),
        },
        "violations": [
            {
                "finding": number_of(x, groups),
                "origin": x.origin,
                "scenario": x.scenario if x.origin in ("scenario", "deep") else None,
                "failing_step": x.step_index + 1,
            }
            for x in v.violations
        ],
    }


def policy_data(report: PolicyReport) -> dict[str, Any]:
    p = report.policy
    findings = told(report)
    return {
        "name": p.name,
        "source": report.source,
        "file": display_path(policy_file(report.source)),
        "digest": policy_digest(p),
        "description": p.description,
        "units": _units(p),
        "contract": {
            "kind": p.contract.kind.value,
            "value_quanta": p.contract.value_quanta,
            "value_rounding": p.contract.value_rounding.value,
            "price": p.contract.price,
        },
        "waterfall": [layer.kind for layer in p.deficit],
        "accepts": list(p.accepts),
        "failed": report.failed,
        "summary": {KEY[s]: n for s, n in counts(report).items()},
        "scenarios": [{"name": r.name, "steps": len(r.steps), "rejected": r.rejected} for r in report.runs],
        "findings_dir": display_path(report.findings_dir),
        "verdicts": [verdict_data(v, findings) for v in report.verdicts],
        "findings": [finding_data(t) for t in findings],
        **({"thresholds": [threshold_data(t) for t in report.thresholds]} if report.thresholds else {}),
        **({"search_seed": report.seed} if getattr(report, "seed", None) is not None else {}),
    }


def report_data(reports: Sequence[PolicyReport]) -> dict[str, Any]:
    """The whole report as plain data (what ``render`` writes as JSON)."""
    return {
        "schema": SCHEMA,
        "tool": {"name": "solvent", "version": version()},
        "failed": any(r.failed for r in reports),
        "policies": [policy_data(r) for r in reports],
    }


def render(reports: Sequence[PolicyReport]) -> str:
    return json.dumps(report_data(reports), indent=2, ensure_ascii=False) + "\n"


__all__ = [
    "SCHEMA",
    "finding_data",
    "policy_data",
    "proof_data",
    "threshold_data",
    "render",
    "report_data",
    "search_data",
    "version",
]

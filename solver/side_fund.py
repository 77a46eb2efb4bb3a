"""``insurance-fund-non-negative`` for every N on percolator Gen B, entry by entry.

On a mark move Gen B's fund changes by three kinds of ledger entry only (checked on the engine's
step at three traders): the liquidation penalty into it, each pro-rata layer's rounding dust into it
(the per-lot charge's and the haircut's: what the shares rounded up pay beyond the layer's target),
and the fund layer's cover out of it to a bankrupt account. The engine applies each entry to the
book as it makes it, so the fund's balance when a resolve starts is the running balance of the
step's ledger. The argument:

1. **The entries** (the step at three traders, every event variant): every entry naming the fund's
   cash is a penalty or a dust into it or the fund layer's cover out of it.
2. **Inflows are never negative, at any N.** The penalty: every penalty entry of a turn (its own
   close and the cascade's, the turn run from any state) is at least 0 (z3, exact). The dust: a
   layer's shares are the engine's ``⌈w·K / S⌉`` (the per-lot charge: ``K = ⌈T·S / OI⌉``, ``S`` =
   ``side_index.SCALE``, ``OI = Σ w``) and ``⌈T·w / W⌉`` (the haircut, capped: ``W = Σ w``), the dust
   their sum less the target (checked equal, value for value, to the engine's
   ``side_index.charge_k_up`` and ``pro_rata.charge`` on two payers with every number free; the
   engine's loop charges every payer by the same expression). Each share times its divisor is at
   least its numerator (z3, exact, every number free: a ceiling is at least its quotient), so over
   any number of payers ``S·Σ⌈w·K/S⌉ ≥ K·OI ≥ S·T`` and ``W·Σ⌈T·w/W⌉ ≥ T·W`` (a linear aggregate
   over the sums, z3): the shares cover the target and the dust is at least 0.
3. **One resolve keeps the fund at or above zero** (z3, exact): the engine's ``resolve(...,
   alone=True)`` of the book's first trader with two candidates (each account the cascade resolves
   is a call of its own), every number free, the fund at or above zero at its start, each dust it
   passes to the fund a free integer at least 0 (2): the fund after it is at or above zero. So
   generalized the claim names no candidate's number (checked): the call at any N is an instance.
4. **Aggregate**: from a fund at or above zero, an inflow keeps it there (2) and each outflow is a
   resolve's cover, which keeps it there (3), entry by entry in the ledger's order, at any N; each
   event starts from the fund the last one left: any K.

docs/solver-notes.md#percolator-gen-bs-cells-session-21.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.properties import catalog
from solvent.rules import pro_rata, side_index
from solvent.rules.arith import Rounding, div, safe_divisor, sum_, when
from solvent.rules.bankruptcy import resolve
from solvent.rules.book import Role
from solvent.rules.engine import liquidation_turn, transition
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.policy import Policy
from solvent.rules.side_index import SCALE
from solvent.solver import side_claims, side_deficit, waterfall_claims
from solvent.solver.adl_claims import Call
from solvent.solver.bounds import Bounds
from solvent.solver.story import slots, symbolic_book

CLAIM = "insurance-fund-non-negative"
#: the entries that may name the fund's cash on a mark move: into it, and out of it
INTO = frozenset({Reason.LIQUIDATION_PENALTY, Reason.PRO_RATA_DUST})
OUT = frozenset({Reason.INSURANCE_FUND})
#: the prefix of the lemmas' free numbers
FREE = "sfd."
#: traders in the step whose fund entries are read
STEP_TRADERS = 3
#: what the all-N verdict assumes of the engine (``Scope.assumes``)
ASSUMES = (
    "each resolve reads the other traders only through its layers' shares, the opposing open interest and the "
    "haircut's weights, and every pro-rata layer charges each payer by the same expression (checked on the "
    "step at three traders and on two payers)"
)
METHOD = (
    "compositional, all N, any K: the fund's entries on a mark move are penalties and rounding dust into it and a "
    "resolve's cover out of it (the step at three traders); every penalty and every dust is at least 0 at any N "
    "(each share times its divisor at least its numerator, a linear aggregate over the sums); one resolve, every "
    "number free and each dust a free amount at least 0, keeps the fund at or above zero from at or above zero, "
    f"and names no candidate; entry by entry, the step does too; assumes {ASSUMES}"
)

Valid = Callable[..., str]


def not_covered(policy: Policy, bounds: Bounds) -> str | None:
    """Why the argument does not apply (None where it does): Gen B's waterfall
    (``side_deficit.deficit_not_covered``), mark moves only (funding's dust goes to the fund too)."""
    reason = side_deficit.deficit_not_covered(policy, bounds)
    if reason is not None:
        return reason
    if tuple(bounds.event_kinds) != ("mark",):
        return "mark moves only"
    if policy.liquidation.penalty_recipient.role is not Role.INSURANCE_FUND and policy.liquidation.penalty_ppm:
        return "a penalty paid elsewhere"
    return None


def _entries(policy: Policy, bounds: Bounds, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """Lemma 1: on the engine's step at :data:`STEP_TRADERS` traders, every entry naming the fund's
    cash is of :data:`INTO` into it or :data:`OUT` out of it, or its mark-to-market settlement, which
    moves nothing where the fund holds no position (every well-formed book: only traders and the
    order book hold one, and no fill of the step hands the fund one, ``side_claims.holders_only``)."""
    one = attrs.evolve(bounds, accounts=STEP_TRADERS, events=1)
    book, _ = symbolic_book(one)
    fund = book.role(Role.INSURANCE_FUND).name
    settled = []
    for slot in slots(book, one):
        for variant in slot.variants:
            ctx = transition(policy, book, variant.event)
            side_claims.holders_only(policy, ctx, fail)
            for e in ctx.entries:
                t = e.item
                if fund not in (t.source, t.destination) or t.source == t.destination:
                    continue
                if t.reason is Reason.SETTLEMENT:
                    settled.append(t.amount_quote)
                elif not ((t.destination == fund and t.reason in INTO) or (t.source == fund and t.reason in OUT)):
                    fail(f"the step ({variant.label}): {t.reason.value} from {t.source} to {t.destination}")
    flat = book.account(fund).size_lots == 0
    lemmas = [
        f"the step ({', '.join(bounds.event_kinds)}, {STEP_TRADERS} traders): every entry of the fund's cash is a "
        "penalty or a rounding dust into it, the fund layer's cover out of it, or its settlement; no fill names it"
    ]
    if settled:
        lemmas.append(
            valid(
                "the fund's settlement moves nothing where it holds no position",
                [flat],
                z3.And(*[a == 0 for a in settled if z3.is_expr(a)], z3.BoolVal(True)),
                exact=True,
            )
        )
    return lemmas


def _penalties(policy: Policy, bounds: Bounds, valid: Valid) -> str:
    """Lemma 2a: every penalty entry of a turn is at least 0, from any state (two traders)."""
    book, _ = symbolic_book(attrs.evolve(bounds, accounts=2, events=1))
    out = liquidation_turn(policy, Ctx(book), book.traders[0].name)
    amounts = [e.item.amount_quote for e in out.entries if e.item.reason is Reason.LIQUIDATION_PENALTY]
    claim = z3.And(*[a >= 0 for a in amounts if z3.is_expr(a)], z3.BoolVal(True))
    return valid(
        "every liquidation penalty of a turn (its close and the cascade's) is at least 0, from any state",
        [book.market.mark_quote >= 1],
        claim,
        exact=True,
    )


def _same_form(name: str, out: Ctx, reason: Reason, shares: list[Any], target: Any, valid: Valid) -> str:
    """The engine's shares of ``reason`` in ``out`` and its dust are ``shares`` and their sum less
    ``target``, value for value (z3, exact: every number free)."""
    engine = [e.item.amount_quote for e in out.entries if e.item.reason is reason]
    engine += [e.item.amount_quote for e in out.entries if e.item.reason is Reason.PRO_RATA_DUST]
    ours = [*shares, sum_(shares) - target]
    if len(engine) != len(ours):
        return valid(f"{name}: the engine made {len(engine)} entries for {len(ours)}", [], z3.BoolVal(False))
    claim = z3.And(*[a == b for a, b in zip(engine, ours, strict=True)])
    return valid(f"{name}, its dust their sum less T (two payers, every number free)", [], claim, exact=True)


def _ceiling_times_divisor(name: str, divisor: Any, dividend: Any, valid: Valid) -> str:
    """``divisor·⌈dividend/divisor⌉ ≥ dividend`` for every value of their variables (z3, exact): a
    share rounded up, times what it was divided by, covers what was divided. ``divisor`` is given
    before ``dividend`` and each is built once, in that order, by the caller (the order its terms are
    made in is the order the lemma's query numbers them: docs/solver-notes.md#clean-ups-units-unchanged-session-22)."""
    return valid(name, [], divisor * div(dividend, divisor, rounding=Rounding.CEIL) >= dividend, exact=True)


def _dust(policy: Policy, valid: Valid) -> list[str]:
    """Lemma 2b: each pro-rata layer's dust is at least 0 at any number of payers."""
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    bankrupt, payers = book.traders[0].name, [book.traders[1].name, book.role(Role.LIQUIDITY).name]
    w = [z3.Int(f"{FREE}w{k}") for k in range(2)]
    t = z3.Int(f"{FREE}target")
    lemmas = []
    # the per-lot charge (side_index.charge_k_up): its shares and dust as the engine makes them
    out, _ = side_index.charge_k_up(Ctx(book), list(zip(payers, w, strict=True)), bankrupt, t)
    target = when(sum_(w) > 0, t)
    k = div(target * SCALE, safe_divisor(sum_(w)), rounding=Rounding.CEIL)
    per_lot = [div(x * k, SCALE, rounding=Rounding.CEIL) for x in w]
    name = "the per-lot charge's shares are ⌈w·K/S⌉ with K = ⌈T·S/OI⌉"
    lemmas.append(_same_form(name, out, Reason.SOCIALIZED_LOSS, per_lot, target, valid))
    x, kk = z3.Ints(f"{FREE}x {FREE}k")
    lemmas.append(_ceiling_times_divisor("a per-lot share times S is at least w·K (every w, K)", SCALE, x * kk, valid))
    o = z3.Int(f"{FREE}oi")
    kt = div(when(o > 0, t) * SCALE, safe_divisor(o), rounding=Rounding.CEIL)
    lemmas.append(
        valid("K·OI is at least S·T where OI ≥ 0 (every T)", [o >= 0], kt * o >= SCALE * when(o > 0, t), exact=True)
    )
    # the haircut (pro_rata.charge, capped, shares rounded up), as haircut_ratio.haircut calls it
    weights = list(zip(payers, w, strict=True))
    out, _ = pro_rata.charge(Ctx(book), policy.rounding, weights, bankrupt, t, capped=True, reason=Reason.HAIRCUT)
    total = sum_(w)
    capped = when(total > 0, z3.If(t <= total, t, total))
    shares = [div(capped * x, safe_divisor(total), rounding=Rounding.CEIL) for x in w]
    name = "the haircut's shares are ⌈T·w/W⌉ with T = min(R, W) where W > 0, else 0"
    lemmas.append(_same_form(name, out, Reason.HAIRCUT, shares, capped, valid))
    ww, tt = z3.Ints(f"{FREE}W {FREE}T")
    said = "a haircut share times its divisor is at least T·w (every T, w, W)"
    lemmas.append(_ceiling_times_divisor(said, safe_divisor(ww), tt * x, valid))
    # over any number of payers: the sums of the per-share facts (linear in the abstract sums)
    s_sum, wk, w_sum, tw = z3.Ints(f"{FREE}shares {FREE}wk {FREE}weights {FREE}tw")
    per_lot = z3.Implies(z3.And(SCALE * s_sum >= wk, wk >= SCALE * t), s_sum - t >= 0)
    haircut = z3.Implies(
        z3.And(tw == tt * w_sum, safe_divisor(w_sum) * s_sum >= tw, z3.Or(w_sum > 0, tt == 0)),
        s_sum - tt >= 0,
    )
    lemmas.append(
        valid(
            "aggregate: over any payers S·Σ⌈w·K/S⌉ ≥ K·OI ≥ S·T, and W·Σ⌈T·w/W⌉ ≥ T·W (T = 0 where W ≤ 0, "
            "the divisor 1 there): each dust is at least 0",
            [],
            z3.And(per_lot, haircut),
            exact=True,
        )
    )
    return lemmas


def question(policy: Policy, bounds: Bounds) -> tuple[Call, list[Any], Any]:
    """Lemma 3's ``(call, premise, claim)``: one resolve (alone), the fund at or above zero at its
    start, each dust into the fund a free amount at least 0, the fund after it at or above zero."""
    book, _ = symbolic_book(waterfall_claims.shape(bounds))
    bankrupt = book.traders[0].name
    fund = book.role(Role.INSURANCE_FUND).name
    out = resolve(policy, Ctx(book), bankrupt, alone=True)
    call = Call(f"{bankrupt}'s resolve, {waterfall_claims.CANDIDATES} candidates", book, out, (bankrupt,))
    dusts = [
        e.item.amount_quote
        for e in out.entries
        if e.item.reason is Reason.PRO_RATA_DUST and e.item.destination == fund and z3.is_expr(e.item.amount_quote)
    ]
    pairs = [(d, z3.Int(f"{FREE}dust{k}")) for k, d in enumerate(dusts)]
    claim = out.book.account(fund).cash_quote >= 0
    claim = z3.substitute(claim, *pairs) if pairs else claim
    premise = [book.market.mark_quote >= 1, book.account(fund).cash_quote >= 0, *(v >= 0 for _, v in pairs)]
    return call, premise, claim


def argument(policy: Policy, bounds: Bounds, valid: Valid, fail: Callable[[str], None]) -> list[str]:
    """The lemmas' names (each proved by ``valid``), or ``fail`` where the argument does not apply."""
    reason = not_covered(policy, bounds)
    if reason is not None:
        fail(reason)
    lemmas = [*_entries(policy, bounds, valid, fail), _penalties(policy, bounds, valid), *_dust(policy, valid)]
    call, premise, claim = question(policy, bounds)
    stray = waterfall_claims.strangers(call, claim)
    if stray:
        fail(f"{call.label}: the fund after it reads the candidates' numbers ({', '.join(stray[:4])})")
    lemmas.append(
        valid(
            f"{catalog.get(CLAIM).id} through {call.label} (one call of the cascade): the fund at or above zero "
            "before it is after it, every number free and each dust it passes to the fund a free amount ≥ 0",
            premise,
            claim,
            exact=True,
        )
    )
    lemmas.append(
        "aggregate: entry by entry, an inflow (≥ 0) and a resolve's cover (which keeps the fund ≥ 0) keep the fund "
        "at or above zero, at any N and from each event to the next"
    )
    return lemmas


__all__ = ["ASSUMES", "CLAIM", "METHOD", "argument", "not_covered", "question"]

"""Bybit's fee-to-close floor from maintenance on the entry value: a long keeps it, a short does not.

The K > 1 induction (:mod:`solvent.solver.induction`) needs every trader at the start of a move to
hold the floor the payer's charge lemma reads of a bankrupt account, ``v ≥ 0`` and
``v × 10⁶ ≥ f × |S| × M`` (``StartMargin.SOLVENT``; ``f`` the fee to close Bybit's bankruptcy
price includes, 550 ppm). On Bybit a move does not keep it: maintenance is read on the entry value
(``margin.maintenance_basis = "entry"``), so a trader above maintenance may hold far less than its
fee to close at a mark far from its entry
(docs/solver-notes.md#the-per-trader-claims-at-k--3-by-induction-session-20).

Which traders lose it (docs/solver-notes.md#bybit-at-k--3-and-n--8-session-21). The book settles to
the mark (``margin.equity`` is cash), so a position's cash at its entry prices,

    ρ = cash − (S × M − cost)        (cash less the position's PnL since entry, ``margin.position_pnl``)

is what settlement leaves alone: a mark move adds ``S × ΔM`` to both. A **long** that is not
liquidatable and has ``ρ ≥ 0`` holds the floor: where its notional is at most ``MMR / f`` (about 9)
times its entry value its maintenance (at least 0.5% of the entry value in every tier) is above
the fee, and where it is larger its cash holds the PnL, at least ``(1 − 1/9)`` of the notional. A
**short** does not: its PnL runs against it as the mark rises, so ``ρ ≥ 0`` says nothing there
(z3's model: a short of 278,200,216 lots opened near 1.8 at the mark 1,451). So a premise a move
may keep is one-sided: every trader worth at least zero, every long at its floor (through ``ρ``);
a short below its floor, resolved in a later move, charges the longs opposite it at most its fee
per lot more than the move (``BP − M₀ ≥ −f × M₀ / (1 + f)`` from its worth at least zero), which the
longs' floor pays. The lemma here is the first piece of that route, on the engine's own margin
functions (``wellformed.covers_margin``: maintenance as the sweep triggers it, the floor as the
premise states it); the charge lemma without the bankrupt account's floor and ``ρ`` kept through
an ADL fill are not built (the notes say what each needs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.rules.arith import PPM, abs_
from solvent.rules.bankruptcy import fee_to_close_rate, resolve
from solvent.rules.book import Role
from solvent.rules.ledger import Ctx
from solvent.rules.margin import equity
from solvent.rules.policy import Policy
from solvent.rules.wellformed import StartMargin, covers_margin
from solvent.solver.bounds import Bounds
from solvent.solver.story import symbolic_book

#: the sides the lemma is asked of (the sign of the position)
SIDES = ("long", "short")


def entry_cash(account: Any, mark: Any) -> Any:
    """``ρ``: the account's cash less its position's PnL since entry at ``mark`` (settle-to-mark:
    a mark move changes both by ``S × ΔM``, so ρ is its cash at its entry prices)."""
    return account.cash_quote - (account.size_lots * mark - account.cost_quote)


def floor_question(policy: Policy, side: str = "long", slack: int = 0) -> tuple[list[Any], Any]:
    """(premise, claim) on a free one-trader book: a trader on ``side`` (its cost basis following
    its position, no spot and no debt), not liquidatable at the mark (the sweep's own trigger on
    maintenance), with ``ρ + slack × cost`` at least zero (``slack`` in whole multiples of the
    position's signed cost: 0 is the premise; the boundary on Bybit lies between 8 and 9), holds
    the floor ``v ≥ 0 ∧ v × 10⁶ ≥ f × |S| × M``."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {', '.join(SIDES)}, not {side!r}")
    book, _ = symbolic_book(Bounds(accounts=1, events=1))
    [trader] = book.traders
    mark = book.market.mark_quote
    s, cost = trader.size_lots, trader.cost_quote
    own = s > 0 if side == "long" else s < 0
    follows = cost >= s if side == "long" else cost <= s
    premise = [
        mark >= 1,
        trader.spot_quote == 0,
        trader.debt_quote == 0,
        own,
        follows,
        covers_margin(policy, trader, mark, StartMargin.MAINTENANCE),
        entry_cash(trader, mark) + slack * cost >= 0,
    ]
    return premise, covers_margin(policy, trader, mark, StartMargin.SOLVENT)


def floor_lemma(policy: Policy, valid: Callable[[str, list[Any], Any], str], side: str = "long", slack: int = 0) -> str:
    """:func:`floor_question` asked by ``valid`` (exact z3; it raises where z3 finds a model)."""
    premise, claim = floor_question(policy, side, slack)
    title = (
        f"a {side} not liquidatable with its cash at entry prices at least {-slack} × its cost holds its fee to close"
    )
    return valid(title, premise, claim)


#: the pairwise premises :func:`cross_charge_question` is asked with
PAIRS = ("payer-floor", "per-lot", "per-lot-tick")


def cross_charge_question(policy: Policy, pair: str = "per-lot-tick", side: str | None = None) -> tuple[list[Any], Any]:
    """(premise, claim) on the engine's ``resolve`` for alice, bankrupt after one mark move, and bob
    the payer opposite her on the winning side, every number free (two traders, the fund, the fee
    account and the vault at or above zero and holding no position, the marks 1..10⁹): alice worth
    ``a₀ ≥ 0`` at the previous mark ``M₀`` and not liquidatable there, *without* her floor; bob worth
    ``b₀ ≥ 0`` at ``M₀``. The claim: bob's cash after the resolution is at least zero. ``pair``:

    - ``payer-floor``: bob at his own floor (the per-trader premise for the payer alone);
    - ``per-lot``: ``b₀/|S_b| × (1 + f) + a₀/|S_a| ≥ f × M₀`` (the two worths per lot against the
      fee per lot the bankruptcy price puts in, exact prices);
    - ``per-lot-tick``: ``b₀/|S_b| × (1 − f) + a₀/|S_a| ≥ f × M₀ + (1 + f)`` (the same with the
      worse side's factor on each term and one tick a lot: Bybit rounds the price to the tick in
      the bankrupt account's favour), each in integers over ``10⁶ × |S_a| × |S_b|``.

    ``side``: alice's side (``long`` or ``short``), or either (None): z3 decides each side's
    question within a few hundred thousand units (asked as one, with the tick's factor 1 − f, it
    was undecided within 30M)."""
    if pair not in PAIRS:
        raise ValueError(f"pair must be one of {', '.join(PAIRS)}, not {pair!r}")
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    m1, m0 = book.market.mark_quote, book.market.previous_mark_quote
    d = m1 - m0
    alice, bob = book.account("alice"), book.account("bob")
    sa, sb = alice.size_lots, bob.size_lots
    a0, b0 = z3.Ints("cross.alice_before cross.bob_before")
    f = fee_to_close_rate(policy)
    pools = [a for a in book.accounts if a.role in (Role.INSURANCE_FUND, Role.FEE_ACCOUNT, Role.BACKSTOP_VAULT)]
    premise = [
        m1 >= 1,
        m0 >= 1,
        m1 <= 10**9,
        m0 <= 10**9,
        sa * sb < 0,
        sb * d > 0,
        equity(policy.margin, alice) < 0,
        equity(policy.margin, alice) >= a0 + sa * d,
        a0 >= 0,
        b0 >= 0,
        equity(policy.margin, bob) == b0 + sb * d,
        covers_margin(policy, attrs.evolve(alice, cash_quote=a0), m0, StartMargin.MAINTENANCE),
        *(z3.If(s > 0, c >= s, c <= s) for s, c in ((sa, alice.cost_quote), (sb, bob.cost_quote))),
        *(a.spot_quote == 0 for a in (alice, bob)),
        *(a.debt_quote == 0 for a in (alice, bob)),
        *(a.cash_quote >= 0 for a in pools),
        *(a.size_lots == 0 for a in pools if a.role is not Role.FEE_ACCOUNT),
    ]
    if side is not None:
        if side not in SIDES:
            raise ValueError(f"side must be one of {', '.join(SIDES)}, not {side!r}")
        premise.append(sa > 0 if side == "long" else sa < 0)
    if pair == "payer-floor":
        premise.append(b0 * PPM >= f * abs_(sb) * m0)
    elif pair == "per-lot":
        premise.append(b0 * (PPM + f) * abs_(sa) + a0 * PPM * abs_(sb) >= f * m0 * abs_(sa) * abs_(sb))
    else:
        premise.append(b0 * (PPM - f) * abs_(sa) + a0 * PPM * abs_(sb) >= (f * m0 + PPM + f) * abs_(sa) * abs_(sb))
    after = resolve(policy, Ctx(book), "alice").book.account("bob")
    return premise, after.cash_quote >= 0


def cross_charge_lemma(
    policy: Policy, valid: Callable[[str, list[Any], Any], str], pair: str = "per-lot-tick", side: str | None = None
) -> str:
    """:func:`cross_charge_question` asked by ``valid`` (exact z3; it raises where z3 finds a model)."""
    premise, claim = cross_charge_question(policy, pair, side)
    said = pair if side is None else f"{pair}, the bankrupt account {side}"
    return valid(
        f"a payer ends at or above zero charged by a bankrupt account below its floor ({said})", premise, claim
    )


__all__ = [
    "PAIRS",
    "SIDES",
    "cross_charge_lemma",
    "cross_charge_question",
    "entry_cash",
    "floor_lemma",
    "floor_question",
]

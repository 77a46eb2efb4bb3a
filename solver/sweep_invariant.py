"""Hyperliquid's sweep invariant: a bankrupt account is worth ≥ 0 at the previous mark when it is resolved.

Hyperliquid's ADL closes the winners at the previous mark (``[[deficit]] price = "previous_mark"``,
``rules.adl.gaps_of``: the gap per lot is ``M_prev − M`` against a bankrupt long, ``M − M_prev``
against a short). So a bankrupt account receives from its winners only where the move went against
it: a long bankrupt after a *rise* would pay them. On a free book that happens (z3: a long at cash
−2, the mark up from 0 to 1), which is why ``deficit-charged-once``'s call lemma
(``solver.deficit_once``) did not hold there. It holds with one more premise, the bankrupt
account's worth at the previous mark

    W = cash − S·(M − M_prev) ≥ 0        (S its position, M the mark, M_prev the previous mark)

and the previous mark a price (≥ 1): then a bankrupt long (cash < 0 at M) has ``M < M_prev``.

This module proves that premise is an invariant of one mark move's sweep, for every N, from the
start assumption, by lemmas on the engine's own functions (each exact z3, every number free):

1. **the move's settlement** (``engine.settle`` after ``opening``) pays each account
   ``S·(M' − M)`` and makes ``M`` the previous mark: an account's W after it is its cash before
   the move. A well-formed start gives every trader cash ≥ its initial margin ≥ 0 and every pool
   (the backstop vault) cash ≥ 0, so W ≥ 0 for each when the sweep starts;
2. **the pools' own deleveraging before the turns** (``engine.before_turns``: the vault below zero
   deleveraged at the previous mark) leaves each trader's W unchanged;
3. **another trader's turn** (``engine.liquidation_turn``: into the book, taken over by the vault,
   or resolved with ADL against this trader at the previous mark) leaves this trader's W unchanged;
4. **one ADL fill at the previous mark** (``positions.close_against`` of ``q`` lots at
   ``price_at_gap(M, S_b, g_prev)``) leaves the winner's W unchanged, for every ``q``: what a turn
   at any N does to each winner, whose fills lemma 3 sees one at a time
   (``solver.deficit_once``'s step lemma checks a call's entries into other traders are ADL fills).

So at each resolve in the sweep (the trader's own turn: its resolve starts from its turn's book,
``payer_facts.resolve_starts``), the bankrupt trader's W is its cash before the move, ≥ 0; and the
pools' call before the turns starts from the settled book, where the vault's W is its cash before
the move, ≥ 0. The invariant is proved of one move from a well-formed start: at K > 1 a later
move starts from the book the earlier ones left, which the start assumption does not describe, so
the all-N verdict that rests on it covers one event (helper A's inductive premise would carry it).

For the direct check the same lemmas are given to the question as facts (:class:`SweepFacts`),
instantiated on the books the question's own sweep reaches, beside the call's lemma with its
premise (``solver.resolution_facts``): z3 chains the equalities to the start's cash.
(docs/solver-notes.md#hyperliquids-sweep-invariant-session-20)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import z3

from solvent.rules import positions
from solvent.rules.arith import abs_, sum_
from solvent.rules.assets import margin_equity
from solvent.rules.book import Book, Role
from solvent.rules.engine import (
    _liquidate,
    _maintenance,
    after_sweep,
    before_turns,
    closing,
    liquidation_turn,
    opening,
    settle,
)
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.liquidation import is_taken_over, pools_holding
from solvent.rules.margin import equity
from solvent.rules.outcomes import Bankrupt
from solvent.rules.policy import Policy
from solvent.rules.venue_formulas import price_at_gap
from solvent.rules.waterfall import AdlPrice
from solvent.rules.wellformed import StartMargin, covers_margin
from solvent.solver.bounds import Bounds
from solvent.solver.case_split import recalled, remember
from solvent.solver.fund_facts import _starts
from solvent.solver.payer_facts import _pairs, in_turn_order, instance, renamed
from solvent.solver.story import SlotRun, symbolic_book

Valid = Callable[..., str]

#: the all-N verdict's assumption where the call's lemma rests on this invariant
ASSUMES = (
    "the bankrupt account's worth at the previous mark is ≥ 0 at its resolve (proved for one mark move from a "
    "well-formed start: settlement, the pools' deleveraging, other traders' turns and ADL fills at the previous "
    "mark keep it; solver.sweep_invariant)"
)
#: the free price of the settlement lemma's move
PRICE = "sweep.move_price"


def applies(policy: Policy) -> bool:
    """Whether the policy's ADL closes winners at the previous mark (the invariant's premise is needed)."""
    return policy.adl is not None and policy.adl.price is AdlPrice.PREVIOUS_MARK


def worth(book: Book, name: str) -> Any:
    """``name``'s worth at the previous mark: its cash less its position's PnL over the last move,
    ``cash − S·(M − M_prev)`` (settle-to-mark: the cash holds the move's PnL)."""
    account, market = book.account(name), book.market
    return account.cash_quote - account.size_lots * (market.mark_quote - market.previous_mark_quote)


def premise(book: Book, names: tuple[str, ...]) -> list[Any]:
    """The call lemma's extra premise: the previous mark a price, each of ``names`` worth ≥ 0 there."""
    return [book.market.previous_mark_quote >= 1, *(worth(book, n) >= 0 for n in names)]


def pools(policy: Policy, book: Book) -> tuple[str, ...]:
    """The pools that hold positions (Hyperliquid's backstop vault), bankrupt accounts of the pools' call."""
    return tuple(book.role(role).name for role in pools_holding(policy.liquidation))


def _prices(book: Book) -> list[Any]:
    return [book.market.mark_quote >= 1, book.market.previous_mark_quote >= 1]


@attrs.frozen
class SweepFacts:
    """The lemmas' formulas on their free books (``premise → claim``), ready to be instantiated on a
    question's terms (:meth:`instances`), and their names."""

    start: tuple[Book, Any]  # (free one-trader book, formula): a trader covering its initial margin has cash ≥ 0
    settled: tuple[Book, Any, Any]  # (free book, free price, formula over every account of the book)
    phase: tuple[Book, Any]  # (free book, formula): before_turns keeps each trader's W
    turns: tuple[tuple[str, Book, Any], ...]  # (trader whose turn it is, free book, formula: the other's W kept)
    lemmas: tuple[str, ...]

    def instances(self, policy: Policy, book: Book, runs: list[SlotRun]) -> list[Any]:
        """Each lemma on the books the question's one mark move reaches (a two-trader question)."""
        if len(book.traders) != 2:
            return []
        free, formula = self.start
        [alone] = free.traders
        out = [instance(formula, [*_pairs(alone, t), *_pairs(free.markets, book.markets)]) for t in book.traders]
        for slot in runs[:1]:
            for run in slot.runs:
                event = run.variant.event
                if not isinstance(event, MarkPrice):
                    continue
                free, price, formula = self.settled
                out.append(instance(formula, [*_pairs(free, book), (price, _int(event.price_quote))]))
                settled = settle(policy, opening(policy, book), event).book  # the pools' call's start too
                free, formula = self.phase
                out.append(instance(formula, list(_pairs(free, settled))))
                # each turn at the book the question's own sweep reached (recorded: not built again)
                for trader, starts in _starts(policy, book, run):
                    out += [instance(f, list(_pairs(fb, starts))) for t, fb, f in self.turns if t == trader]
        return out


#: said of a lemma this question proved already (the all-N argument asks the same formulas first)
PROVED_BEFORE = "proved earlier in this question (the all-N argument's lemma, the same z3 term): no query"


def _ask(valid: Valid, said: Callable[[str, str], None] | None, name: str, pre: list[Any], claim: Any) -> str:
    """``valid`` on ``pre → claim`` (exact), or no query where this question proved the same formula."""
    formula = z3.Implies(z3.And(*pre), claim)
    if said is not None and recalled(formula) == "unsat":
        said(name, PROVED_BEFORE)
        return name
    valid(name, pre, claim, exact=True)
    remember(formula, "unsat")
    return name


def _int(x: Any) -> Any:
    return x if isinstance(x, z3.ExprRef) else z3.IntVal(x)


def start_lemma(
    policy: Policy,
    valid: Valid,
    said: Callable[[str, str], None] | None = None,
    margin: StartMargin = StartMargin.INITIAL,
) -> tuple[str, tuple[Book, Any]]:
    """The start: a trader covering its initial margin at the mark (the well-formed start's margin
    condition, ``wellformed.covers_margin``) has cash ≥ 0 (one trader, every number free).
    ``margin``: the start's margin (``StartMargin.SOLVENT`` where a later move's book meets the
    induction's premise, ``solver.payer_previous``)."""
    book, _ = symbolic_book(Bounds(accounts=1, events=1))
    [trader] = book.traders
    pre = [book.market.mark_quote >= 1, covers_margin(policy, trader, book.market.mark_quote, margin)]
    claim = trader.cash_quote >= 0
    covering = "covering its initial margin" if margin is StartMargin.INITIAL else f"meeting the {margin.value} start"
    name = _ask(
        valid,
        said,
        f"the start: a trader {covering} at the mark (wellformed.covers_margin) has cash ≥ 0",
        pre,
        claim,
    )
    return name, (book, z3.Implies(z3.And(*pre), claim))


def settle_lemma(
    policy: Policy, valid: Valid, said: Callable[[str, str], None] | None = None
) -> tuple[str, tuple[Book, Any, Any]]:
    """Lemma 1: the move's settlement makes each account's W its cash before the move."""
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    price = z3.Int(PRICE)
    after = settle(policy, opening(policy, book), MarkPrice(price)).book
    names = [a.name for a in book.traders] + list(pools(policy, book))
    claim = z3.And(*(worth(after, n) == book.account(n).cash_quote for n in names))
    pre = [*_prices(book), price >= 1]
    name = _ask(
        valid,
        said,
        "the move's settlement (engine.settle): each trader's and pool's worth at the previous mark is its cash "
        "before the move",
        pre,
        claim,
    )
    return name, (book, price, z3.Implies(z3.And(*pre), claim))


def phase_lemma(
    policy: Policy, valid: Valid, said: Callable[[str, str], None] | None = None
) -> tuple[str, tuple[Book, Any]]:
    """Lemma 2: the pools' own deleveraging before the turns keeps each trader's W."""
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    after = before_turns(policy, Ctx(book)).book
    claim = z3.And(*(worth(after, a.name) == worth(book, a.name) for a in book.traders))
    pre = _prices(book)
    title = "the pools' own deleveraging before the turns (engine.before_turns) keeps each trader's worth at the previous mark"
    names = _cased(valid, said, title, pre, claim, _pool_cases(policy, book))
    return "; ".join(names), (book, z3.Implies(z3.And(*pre), claim))


def _pool_cases(policy: Policy, book: Book) -> list[tuple[str, list[Any]]]:
    """The cases a lemma on the pools' own deleveraging is asked in, one query each (together every
    book): each pool holding what it takes over at or above zero (nothing runs), or below zero long,
    short or flat. On hyperliquid the trader's lemma by cases 0.29M units, whole 0.31-0.76M (the
    question's history); the vault's 0.37M against 0.43-0.47M."""
    held = [book.account(n) for n in pools(policy, book)]
    if len(held) != 1:
        return [("every case", [])]
    [pool] = held
    return [
        ("the vault at or above zero", [pool.cash_quote >= 0]),
        ("the vault below zero, long", [pool.cash_quote < 0, pool.size_lots > 0]),
        ("the vault below zero, short", [pool.cash_quote < 0, pool.size_lots < 0]),
        ("the vault below zero, flat", [pool.cash_quote < 0, pool.size_lots == 0]),
    ]


def _cased(
    valid: Valid,
    said: Callable[[str, str], None] | None,
    title: str,
    pre: list[Any],
    claim: Any,
    cases: list[tuple[str, list[Any]]],
) -> list[str]:
    """``pre → claim`` asked in each of ``cases``, one query each (each case list covers every book:
    its disjunction is valid by the integers' order, so ``pre → claim`` is proved): the names."""
    return [_ask(valid, said, f"{title} ({how})" if case else title, [*pre, *case], claim) for how, case in cases]


def turn_lemmas(
    policy: Policy, valid: Valid, said: Callable[[str, str], None] | None = None
) -> tuple[list[str], tuple[tuple[str, Book, Any], ...]]:
    """Lemma 3: a trader's turn keeps the other trader's W (two traders, every number free)."""
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    names, turns = [], []
    pre = _prices(book)
    for a, b in (("alice", "bob"), ("bob", "alice")):
        after = liquidation_turn(policy, Ctx(book), a).book
        claim = worth(after, b) == worth(book, b)
        names.append(
            _ask(
                valid,
                said,
                f"{a}'s turn (engine.liquidation_turn) keeps {b}'s worth at the previous mark",
                pre,
                claim,
            )
        )
        turns.append((a, book, z3.Implies(z3.And(*pre), claim)))
    return names, tuple(turns)


def unreached_lemma(policy: Policy, valid: Valid) -> str:
    """Under a takeover threshold, the market rule's liquidation (``engine._liquidate`` under
    ``policy``, the branch ``engine.liquidate`` takes when the account is not taken over) resolves
    no account: not taken over, its equity is ≥ ``takeover_below_ppm`` of a maintenance ≥ 0, so not
    below zero at its fill. So the only ``resolve`` of a trader's turn runs under the takeover rule
    (``resolution_facts.call_policy``), the call the lemmas speak of (one trader, every number free)."""
    book, _ = symbolic_book(Bounds(accounts=1, events=1))
    [trader] = book.traders
    ctx = Ctx(book)
    e = margin_equity(policy, ctx.book_field("assets"), trader)
    mm = _maintenance(policy, ctx, trader)
    out = _liquidate(policy, ctx, trader.name)
    guards = [g.guard for g in out.outcomes if isinstance(g.item, Bankrupt)]
    claim = z3.And(*(z3.Not(_bool(g)) for g in guards)) if guards else z3.BoolVal(True)
    return valid(
        "not taken over, a trader's liquidation under the market rule (engine._liquidate) resolves nothing: "
        "the bankrupt trader's resolve runs under the takeover rule",
        [book.market.mark_quote >= 1, z3.Not(_bool(is_taken_over(policy.liquidation, e, mm)))],
        claim,
        exact=True,
    )


def _bool(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


def fill_lemma(valid: Valid, fail: Callable[[str], None]) -> str:
    """Lemma 4: one ADL fill of ``q`` lots at the previous mark keeps the winner's W, for every ``q``."""
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    bankrupt, winner = (a.name for a in book.traders[:2])
    q = z3.Int("fill.q")
    market = book.market
    size = book.account(bankrupt).size_lots
    gap = z3.If(
        size > 0, market.previous_mark_quote - market.mark_quote, market.mark_quote - market.previous_mark_quote
    )
    out = positions.close_against(
        Ctx(book), bankrupt, winner, q, price_at_gap(market.mark_quote, size, gap), Reason.ADL
    )
    ends = {frozenset((e.item.source, e.item.destination)) for e in out.entries}
    if ends - {frozenset((bankrupt, winner))}:
        fail("one ADL fill moves money between other accounts than the bankrupt one and its winner")
    return valid(
        "one ADL fill of q lots at the previous mark (positions.close_against at price_at_gap) keeps the winner's "
        "worth at the previous mark, for every q",
        [*_prices(book), q >= 0],
        worth(out.book, winner) == worth(book, winner),
        exact=True,
    )


def _oi_balanced(book: Book, holders: tuple[str, ...]) -> list[Any]:
    """Open interest balanced among the traders, the book and ``holders`` (the pools holding what they
    take over), no other account holding a position: what every well-formed book and every step keep
    (``open-interest-balance``, proved for every N)."""
    liquidity = book.role(Role.LIQUIDITY).name
    held = [a for a in book.accounts if a.is_trader or a.name in (liquidity, *holders)]
    rest = [a.size_lots == 0 for a in book.accounts if a not in held]
    return [sum_(a.size_lots for a in held) == 0, *rest]


#: the key of the vault's own deleveraging in :func:`vault_kept`'s formulas (the others: a trader's turn)
PHASE = "before the turns"


def vault_kept(
    policy: Policy, valid: Valid, said: Callable[[str, str], None] | None = None
) -> tuple[list[str], tuple[tuple[str, Book, Any], ...]]:
    """The vault's own worth at the previous mark stays ≥ 0 through a move's sweep (two traders, every
    number free; ``solver.payer_previous`` reads it at each trader's turn): settlement makes it its
    cash before the move (:func:`settle_lemma`, the pools included); its own deleveraging before the
    turns keeps it ≥ 0 where open interest balances (the queue and the book take every lot at the
    previous mark); and a trader's turn keeps it ≥ 0 where that trader is worth ≥ 0 at the previous
    mark at its turn (the sweep's invariant): a takeover hands the vault a losing position worth what
    its equity lacks, and it pays at most that deficit. Without the trader's worth z3 has a model, and
    without open interest balanced the vault's own deleveraging has one
    (tests/solver/test_payer_previous.py). Returns the names and ``(PHASE or the trader, free book,
    formula)``, for the direct check's facts; ``said`` as :func:`prove`'s."""
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    names: list[str] = []
    formulas: list[tuple[str, Book, Any]] = []
    holding = pools(policy, book)
    for vault in holding:
        pre = [*_prices(book), worth(book, vault) >= 0]
        after = before_turns(policy, Ctx(book)).book
        phase = [*pre, *_oi_balanced(book, holding)]
        title = (
            "the vault's own deleveraging before the turns (engine.before_turns) keeps its worth at the previous "
            "mark ≥ 0, open interest balanced"
        )
        names += _cased(valid, said, title, phase, worth(after, vault) >= 0, _pool_cases(policy, book))
        formulas.append((PHASE, book, z3.Implies(z3.And(*phase), worth(after, vault) >= 0)))
        first: list[Any] | None = None
        for trader in (a.name for a in book.traders):
            after = liquidation_turn(policy, Ctx(book), trader).book
            turn = [*pre, worth(book, trader) >= 0]
            claim = worth(after, vault) >= 0
            cases = [(f"{trader} {how}", case) for how, case in _turn_cases(policy, book, trader)]
            made = [z3.Implies(z3.And(*turn, *case), claim) for _, case in cases]
            formulas += [(trader, book, f) for f in made]  # by case: the direct check's pieces cost less so
            title = f"{trader}'s turn (engine.liquidation_turn), {trader} worth ≥ 0 at the previous mark, keeps the vault's ≥ 0"
            order = in_turn_order([a.name for a in book.traders], trader)
            if first is not None and all(renamed(f, order).eq(g) for f, g in zip(first, made, strict=True)):
                if said is not None:
                    said(title, RENAMED_TURN)
                names.append(f"{title}: {RENAMED_TURN}")
                continue
            names += _cased(valid, said, title, turn, claim, cases)
            first = made
    return names, tuple(formulas)


def vault_cash_kept(policy: Policy, valid: Valid) -> list[str]:
    """A mark move keeps the vault's cash ≥ 0 (two traders, every number free), so a later move starts
    with the vault worth ≥ 0 at its previous mark (settlement: its cash before the move), as the first
    does (``solver.payer_previous``'s induction over moves): its own deleveraging leaves it at or
    above zero where it is worth ≥ 0 and open interest balances (every lot closed at the previous mark
    brings it its worth); a trader's turn keeps it (it pays a deficit at most up to its balance); and
    what runs after the turns (``after_sweep``, ``closing``) keeps it."""
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    names: list[str] = []
    holding = pools(policy, book)
    for vault in holding:
        cash = book.account(vault).cash_quote >= 0
        names += vault_restored(policy, valid, book, vault)
        first = None
        for trader in (a.name for a in book.traders):
            turned = liquidation_turn(policy, Ctx(book), trader).book
            formula = z3.Implies(z3.And(*_prices(book), cash), turned.account(vault).cash_quote >= 0)
            title = f"{trader}'s turn (engine.liquidation_turn) keeps the vault's cash ≥ 0"
            order = in_turn_order([a.name for a in book.traders], trader)
            if first is not None and renamed(first, order).eq(formula):
                names.append(f"{title}: {RENAMED_TURN}")
                continue
            names.append(valid(title, [*_prices(book), cash], turned.account(vault).cash_quote >= 0, exact=True))
            first = formula
        ended = closing(policy, after_sweep(policy, Ctx(book))).book
        names.append(
            valid(
                "after the turns (engine.after_sweep, engine.closing) the vault's cash is kept ≥ 0",
                [*_prices(book), cash],
                ended.account(vault).cash_quote >= 0,
                exact=True,
            )
        )
    return names


#: the vault's restore: its own deleveraging brings it back to or above zero (:func:`vault_restored`)
RESTORED = (
    "the vault's own deleveraging (engine.before_turns) leaves its cash ≥ 0 where it is worth ≥ 0 at the "
    "previous mark, open interest balanced"
)


def vault_restored(policy: Policy, valid: Valid, book: Book, vault: str) -> list[str]:
    """The vault's restore on ``book`` (a free two-trader book): where it is worth ≥ 0 at the previous
    mark and open interest balances among the traders, the book and the pools holding what they take
    over, its own deleveraging before the turns leaves its cash ≥ 0 (below zero, every lot it holds is
    closed at the previous mark by the queue and the book, which brings it its worth). Asked in the
    vault's four cases (:func:`_pool_cases`), one exact query each (hyperliquid 0.43M units in all);
    the names. Settlement may take the vault below zero (it holds what it took over); this is what
    brings it back before any trader's turn (``claims_backed.holders_every_n``, :func:`vault_cash_kept`)."""
    holding = pools(policy, book)
    after = before_turns(policy, Ctx(book)).book
    return _cased(
        valid,
        None,
        RESTORED,
        [*_prices(book), worth(book, vault) >= 0, *_oi_balanced(book, holding)],
        after.account(vault).cash_quote >= 0,
        _pool_cases(policy, book),
    )


def _turn_cases(policy: Policy, book: Book, trader: str) -> list[tuple[str, list[Any]]]:
    """The cases a trader's turn lemma on the vault is asked in, one query each (together every
    book): at or above zero at the mark (no resolve), and below zero long, short or flat. Asked
    whole, z3 spends 1.35-1.75M units on hyperliquid; by these cases about 0.46M."""
    account = book.account(trader)
    e, s = equity(policy.margin, account), account.size_lots
    return [
        ("at or above zero", [e >= 0]),
        ("below zero, long", [e < 0, s > 0]),
        ("below zero, short", [e < 0, s < 0]),
        ("below zero, flat", [e < 0, s == 0]),
    ]


#: said of a later trader's turn lemma that is the first's with the accounts renamed (no query)
RENAMED_TURN = "an instance of the first trader's, the accounts renamed in book order (the same z3 term): no query"


def charged_by_pools(policy: Policy, book: Book, after: Book, trader: str) -> Any:
    """What the pools' own deleveraging may do to ``trader`` (the payer's charge, ``payer_lemma``'s
    step 3): its position shrinks toward zero by ``r`` lots, its cash by at most ``r·|ΔM|`` (nothing
    off the winning side, no lots on the losing side), nothing else of it moves."""
    m = book.market
    d = m.mark_quote - m.previous_mark_quote
    move = z3.If(d >= 0, d, -d)
    b, a = book.account(trader), after.account(trader)
    s = b.size_lots
    r = abs_(s) - abs_(a.size_lots)
    c = b.cash_quote - a.cash_quote
    return z3.And(
        s * a.size_lots >= 0,
        r >= 0,
        c >= 0,
        c <= r * move,
        z3.Implies(s * d <= 0, c == 0),
        z3.Implies(s * d < 0, r == 0),
        a.spot_quote == b.spot_quote,
        a.debt_quote == b.debt_quote,
        a.principal_quote == b.principal_quote,
        a.withdrawn_quote == b.withdrawn_quote,
    )


def pools_charge_lemma(policy: Policy, valid: Valid) -> list[str]:
    """The vault's own deleveraging before the turns (``engine.before_turns``) charges each trader
    within the payer's charge, where the vault is worth ≥ 0 at the previous mark (two traders, every
    number free): a winner closed at the previous mark pays exactly what its closed lots gained.
    Without the vault's worth z3 has a model (a vault bankrupt after its own gain)."""
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    after = before_turns(policy, Ctx(book)).book
    pre = premise(book, pools(policy, book))[1:] + _prices(book)
    return [
        valid(
            f"the vault's own deleveraging (engine.before_turns) charges {t} within the payer's charge: its position "
            "shrinks toward zero by r lots, its cash by at most r·|ΔM|, nothing off the winning side",
            pre,
            charged_by_pools(policy, book, after, t),
            exact=True,
        )
        for t in (a.name for a in book.traders)
    ]


def prove(
    policy: Policy,
    valid: Valid,
    fail: Callable[[str], None] | None = None,
    said: Callable[[str, str], None] | None = None,
    margin: StartMargin = StartMargin.INITIAL,
) -> SweepFacts:
    """Every lemma of the invariant on ``policy``, each proved by ``valid`` (it raises where one does
    not hold); the facts for a question's direct check. ``fail``: the all-N argument's (it also asks
    lemma 4, the fill at any N); ``said``: where given, a lemma this question proved already (the same
    formula, ``case_split.recalled``) is recorded there, not asked again."""
    start_name, start = start_lemma(policy, valid, said, margin)
    settled_name, settled = settle_lemma(policy, valid, said)
    phase_name, phase = phase_lemma(policy, valid, said)
    turn_names, turns = turn_lemmas(policy, valid, said)
    names = [start_name, settled_name, phase_name, *turn_names]
    if fail is not None:
        names.append(fill_lemma(valid, fail))
        if policy.liquidation.takeover_below_ppm is not None:
            names.append(unreached_lemma(policy, valid))
    names.append(
        "so at each resolve of the move's sweep the bankrupt account's worth at the previous mark is its cash "
        "before the move, ≥ 0 on a well-formed start (a trader's initial margin, a pool's non-negative balance)"
    )
    return SweepFacts(start, settled, phase, turns, tuple(names))


__all__ = [
    "ASSUMES",
    "PHASE",
    "RESTORED",
    "SweepFacts",
    "applies",
    "charged_by_pools",
    "fill_lemma",
    "phase_lemma",
    "pools",
    "pools_charge_lemma",
    "premise",
    "prove",
    "settle_lemma",
    "start_lemma",
    "turn_lemmas",
    "unreached_lemma",
    "vault_cash_kept",
    "vault_kept",
    "vault_restored",
    "worth",
]

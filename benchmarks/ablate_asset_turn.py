"""Where z3's units go on ``solvent check``'s asset book (drift, mango-v4): the direct two-trader
question and the cascade's turn parts, each asked exact with a piece of the turn given as proved facts,
abstracted, or left out (session 34, helper assetcheck).

Not a prover route: a measurement of which piece of the turn keeps ``no-negative-equity`` undecided
(docs/solver-notes.md#checks-asset-books-at-n--2-where-the-units-go-session-34). Every question is the
engine's own (``StoryQuery`` on check's all-cross bounds, ``cascade_facts.parts`` on a free book);
a "mutant" row swaps one engine function in this process only (the claim may then be false: its row
says how far z3 got, not a verdict on the policy). Rows, each exact z3 within the units given:

- direct: check's question at N = 2 (one mark move or one oracle move of the first collateral asset),
  as built; with ``solver.asset_cut``'s four facts (each proved here first, unsat) instantiated at
  every call of ``lending.cover_unpaid_borrows`` the question's build made (the second trader's the
  first's renamed, ``payer_facts.renamed``); the same with the balances that call returns abstracted
  (``StoryQuery``'s abstracted stage: proves, never refutes); the cut replaced by the order book
  handing the borrower what it owes (no division: an upper bound on what any fact about the cut can
  give); that, with the flat borrower's loan exchange and the sunk holder's resolution left out too;
  and the question as built restricted to books where neither trader holds the asset.
- parts: ``cascade_facts.parts`` (the turn's trader ends at or above 0; every other trader flat
  after it is at or above 0) on a free two-trader book holding the asset, premise the flat traders
  at or above 0, the prices at least 1 and the two named assumptions; neither trader holding the
  asset, as built and with the loan exchange and the resolution left out; any balance with them left
  out; and that with the collateral sale's facts (``bankruptcy.settle_collateral``: its trader's
  value no lower, the other's no higher, its trader's borrow covered inside the lent assumption, the
  other's deposit kept at or above 0; each proved here first) at each call the turn made.
- branches: the turn's loan exchange and sunk holder's resolution as lemmas on the free book
  (:func:`_branches`), then the three parts as built with those that hold at each call.

    python benchmarks/ablate_asset_turn.py --presets drift,mango-v4 --units 30M --parts-units 20M [--only direct,parts,branches]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import z3

from solvent.properties.catalog import get
from solvent.rules import bankruptcy, engine, lending
from solvent.rules.arith import max_
from solvent.rules.assets import account_value, loan_due
from solvent.rules.book import Book, Role
from solvent.rules.ledger import Ctx, Reason, asset_balance
from solvent.rules.margin import open_lots
from solvent.rules.presets import load_preset
from solvent.solver import asset_cut, cascade_facts, wall
from solvent.solver.assumptions import lent_assumptions, settlement_assumptions
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.payer_facts import _pairs, in_turn_order, instance, renamed
from solvent.solver.query import StoryQuery
from solvent.solver.story import symbolic_book

CLAIM = "no-negative-equity"
SAFETY_S = 600.0


def _units(text: str) -> int:
    scale = {"K": 10**3, "M": 10**6}.get(text[-1:].upper(), 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def _b(x: Any) -> Any:
    return z3.BoolVal(x) if type(x) is bool else x


@contextlib.contextmanager
def _swapped(module: Any, name: str, fn: Callable[..., Any]) -> Iterator[None]:
    """``module.name`` replaced by ``fn`` in this process (and in ``engine``, which imports it by name)."""
    saved = [(m, getattr(m, name)) for m in (module, engine) if hasattr(m, name)]
    for m, _ in saved:
        setattr(m, name, fn)
    try:
        yield
    finally:
        for m, f in saved:
            setattr(m, name, f)


def _gift(policy: Any, ctx: Ctx, name: str) -> Ctx:
    """Mutant of ``lending.cover_unpaid_borrows``: the order book hands the borrower what it still owes."""
    for k, asset in enumerate(ctx.book_field("assets")):
        missing = max_(-ctx.account(name).asset_balances[k], 0)
        book = ctx.system(Role.LIQUIDITY)
        ctx = ctx.transfer(
            asset_balance(book, asset.name), asset_balance(name, asset.name), missing, Reason.INSURANCE_FUND
        )
    return ctx


def _mutants(kinds: str) -> contextlib.ExitStack:
    stack = contextlib.ExitStack()
    if "gift" in kinds:
        stack.enter_context(_swapped(lending, "cover_unpaid_borrows", _gift))
    if "no-loan" in kinds:
        stack.enter_context(_swapped(engine, "_exchange_loan", lambda p, c, n: c))
    if "no-sunk" in kinds:
        stack.enter_context(_swapped(engine, "resolve_sunk", lambda p, c, n, w: c))
    return stack


@contextlib.contextmanager
def _recorded(module: Any, name: str) -> Iterator[list[tuple[str, Book, Book]]]:
    """Every call of ``module.name(policy, ctx, trader)`` made while open: (trader, book in, book out)."""
    calls: list[tuple[str, Book, Book]] = []
    original = getattr(module, name)

    def recording(policy: Any, ctx: Ctx, trader: str) -> Ctx:
        start = ctx.book
        out = original(policy, ctx, trader)
        calls.append((trader, start, out.book))
        return out

    with _swapped(module, name, recording):
        yield calls


def _proved(premise: list[Any], claim: Any, units: int) -> tuple[str, int]:
    answer = wall.check([*map(_b, premise), z3.Not(_b(claim))], [], units, SAFETY_S)
    return answer.result, answer.units


def _cut_formulas(policy: Any, units: int) -> tuple[Book, dict[str, list[Any]], list[str]]:
    """``asset_cut``'s four facts on its free two-trader book, each proved (unsat) or not returned;
    per trader, the formulas with that trader the borrower."""
    free, _ = symbolic_book(asset_cut._bounds(policy, 2))
    said, formulas = [], []
    for name, premise, claim in asset_cut.facts(policy, traders=2):
        result, spent = _proved(premise, claim, units)
        said.append(f"{name}: {result} {spent:,}")
        if result == "unsat":
            formulas.append(z3.Implies(z3.And(*premise), claim))
    names = [a.name for a in free.traders]
    return free, {t: [renamed(f, in_turn_order(names, t)) for f in formulas] for t in names}, said


def _direct(policy: Any, units: int, rows: list[str]) -> None:
    name = policy.collateral[0].name
    kinds = ("mark", "asset-price")
    bounds = Bounds(accounts=2, events=1, assets=1, asset_names=(name,), event_kinds=kinds, effort=units, isolated=0)
    bounds = for_policy(bounds, policy)
    invariant = get(CLAIM)
    free, by_trader, said = _cut_formulas(policy, units)
    rows.append(f"| {policy.name} | the cut's facts, proved on its free book | {'; '.join(said)} |")
    # each borrower's balance after the cut on the free book: the term an instance carries to the question
    borrower_after = {t: _borrower_after(policy, free, t) for t in by_trader}
    variants = [
        ("direct, as built", "", False, False, False),
        ("direct, the cut's four facts at every cut", "", True, False, False),
        ("direct, the cut's facts, its balances abstracted", "", True, True, False),
        ("direct, mutant: the cut a gift from the order book", "gift", False, False, False),
        (
            "direct, mutant: the gift, no loan exchange, no sunk holder's resolution",
            "gift,no-loan,no-sunk",
            False,
            False,
            False,
        ),
        ("direct, as built, neither trader holding the asset", "", False, False, True),
    ]
    for label, mutants, facts, abstract, none_held in variants:
        started = time.perf_counter()
        with _mutants(mutants), _recorded(lending, "cover_unpaid_borrows") as calls:
            own = []  # the instances whose borrower's balance after is the question's own term

            def instances(
                book: Book, runs: Any, calls: list[tuple[str, Book, Book]] = calls, own: list[Any] = own
            ) -> list[Any]:
                out = []
                for trader, start, after in calls:
                    pairs = list(_pairs(free, start))
                    out += [instance(f, pairs) for f in by_trader[trader]]
                    mine = instance(borrower_after[trader], pairs)
                    own.append(mine.eq(after.account(trader).asset_balances[0]))
                return out

            def abstracted(book: Book, runs: Any, calls: list[tuple[str, Book, Book]] = calls) -> list[Any]:
                return [b for _, _, after in calls for a in after.accounts for b in a.asset_balances if z3.is_expr(b)]

            query = StoryQuery(
                policy,
                invariant,
                bounds,
                (),
                obligations=(invariant,),
                lemma_facts=instances if facts else None,
                abstracted=abstracted if abstract else None,
            )
            extra = None
            if none_held:
                extra = z3.And(*(a.asset_balances[0] == 0 for a in query.book.traders))
            query.check_assumptions(units=1_000_000)
            phase = "abstracted" if abstract else "exact"
            # asked with the mutant still in place: a model is replayed on the engine it was built from
            answer = query.check_staged(invariant, [(phase, units - query.build_units)], extra=extra)
        note = f"; {sum(own)} of {len(own)} instances on the question's own terms" if facts else ""
        why = f" ({answer.reason})" if answer.stats.units == 0 and answer.reason else ""  # the safety net's
        rows.append(
            f"| {policy.name} | {label} | {answer.stats.result}, {answer.stats.units:,} units{why} "
            f"(build {query.build_units:,}; {len(calls)} cuts built{note}); "
            f"{time.perf_counter() - started:.1f} s |"
        )


def _borrower_after(policy: Any, free: Book, trader: str) -> Any:
    """The borrower's balance of the asset after ``cover_unpaid_borrows`` on ``free``."""
    return lending.cover_unpaid_borrows(policy, Ctx(free), trader).book.account(trader).asset_balances[0]


def _sale_formulas(policy: Any, units: int) -> tuple[Book, list[tuple[str, Any]], list[str]]:
    """The collateral sale's facts on a free two-trader book (alice's sale), each proved or dropped."""
    free, _ = symbolic_book(asset_cut._bounds(policy, 2))
    after = bankruptcy.settle_collateral(policy, Ctx(free), "alice").book

    def value(book: Book, n: str) -> Any:
        return account_value(policy, book.assets, book.account(n))

    lent = z3.And(*(_b(a.holds) for a in lent_assumptions(policy, free)))
    premise = [free.assets[0].price_quote >= 1, free.market.mark_quote >= 1]
    claims = [
        ("its trader's value no lower", value(after, "alice") >= value(free, "alice")),
        ("the other's value no higher", value(after, "bob") <= value(free, "bob")),
        (
            "its trader's borrow covered inside the lent assumption",
            z3.Implies(lent, after.account("alice").asset_balances[0] >= 0),
        ),
        (
            "the other's deposit kept",
            z3.Implies(free.account("bob").asset_balances[0] >= 0, after.account("bob").asset_balances[0] >= 0),
        ),
    ]
    said, formulas = [], []
    for name, claim in claims:
        result, spent = _proved(premise, claim, units)
        said.append(f"{name}: {result} {spent:,}")
        if result == "unsat":
            formulas.append(z3.Implies(z3.And(*premise), claim))
    names = [a.name for a in free.traders]
    out = [(t, renamed(f, in_turn_order(names, t))) for t in names for f in formulas]
    return free, out, said


def _parts(policy: Any, units: int, rows: list[str]) -> None:
    sale_free, sale, said = _sale_formulas(policy, units)
    rows.append(f"| {policy.name} | the collateral sale's facts, proved on its free book | {'; '.join(said)} |")
    variants = [
        ("parts, as built, neither trader holding the asset", "", True, False),
        (
            "parts, no loan exchange, no sunk holder's resolution, neither holding the asset",
            "no-loan,no-sunk",
            True,
            False,
        ),
        ("parts, no loan exchange, no sunk holder's resolution", "no-loan,no-sunk", False, False),
        ("parts, the same, the collateral sale's facts at each sale", "no-loan,no-sunk", False, True),
    ]
    for label, mutants, none_held, facts in variants:
        said = []
        for k in (0, 1):
            with _mutants(mutants), _recorded(bankruptcy, "settle_collateral") as calls:
                free, _ = symbolic_book(asset_cut._bounds(policy, 2))
                premise, claims = cascade_facts.parts(policy, free, "alice")
            premise += [a.holds for a in settlement_assumptions(policy, free) + lent_assumptions(policy, free)]
            premise.append(free.assets[0].price_quote >= 1)
            if none_held:
                premise += [a.asset_balances[0] == 0 for a in free.traders]
            if facts:
                premise += [
                    instance(f, list(_pairs(sale_free, start))) for who, start, _ in calls for t, f in sale if t == who
                ]
            started = time.perf_counter()
            result, spent = _proved(premise, claims[k], units)
            said.append(f"part {k + 1} {result} {spent:,} ({time.perf_counter() - started:.1f} s)")
        rows.append(f"| {policy.name} | {label} | {'; '.join(said)} |")


def _premise(policy: Any, free: Book) -> list[Any]:
    """Both prices at least 1 and the two named assumptions, on ``free``."""
    named = settlement_assumptions(policy, free) + lent_assumptions(policy, free)
    return [free.assets[0].price_quote >= 1, free.market.mark_quote >= 1, *(_b(a.holds) for a in named)]


def _recording_branches(calls: dict[str, list[tuple[str, Book, Any]]]) -> tuple[Callable[..., Ctx], Callable[..., Ctx]]:
    """The engine's loan exchange and sunk holder's resolution, each call recorded in ``calls``
    (its trader, the book it starts from, and the standing it was given)."""
    loan, sunk = engine._exchange_loan, engine.resolve_sunk

    def exchange(p: Any, c: Ctx, n: str) -> Ctx:
        start = c.book
        out = loan(p, c, n)
        calls["loan"].append((n, start, None))
        return out

    def resolve(p: Any, c: Ctx, n: str, was: Any) -> Ctx:
        start = c.book
        out = sunk(p, c, n, was)
        calls["sunk"].append((n, start, was))
        return out

    return exchange, resolve


def _branches(policy: Any, units: int, rows: list[str]) -> None:
    """The turn's two branches as lemmas on the free two-trader book (alice's turn), each proved here
    first: the loan exchange keeps a flat trader whose loan is due at or above 0 if it started there
    (``engine._exchange_loan``); the sunk holder's resolution (``bankruptcy.resolve_sunk``, bob's
    standing a free Boolean) brings bob back to at or above 0 where the turn sank him, and keeps him
    there where he was; then the cascade's three parts as built with each proved lemma instantiated
    at each call the turn made (the second trader's the first's renamed)."""
    free, _ = symbolic_book(asset_cut._bounds(policy, 2))
    names = [a.name for a in free.traders]
    alice = free.account("alice")

    def value(book: Book, n: str) -> Any:
        return account_value(policy, book.assets, book.account(n))

    exchanged = engine._exchange_loan(policy, Ctx(free), "alice").book
    stood = z3.Bool("stood.bob")
    resolved = bankruptcy.resolve_sunk(policy, Ctx(free), "alice", [("bob", stood)]).book
    given = z3.And(*_premise(policy, free))
    due = z3.And(open_lots(alice) == 0, _b(loan_due(policy, free.assets, alice)))
    lemmas = {
        "loan exchange: a flat due trader at or above 0 stays there": (
            "loan",
            z3.Implies(z3.And(given, due, value(free, "alice") >= 0), value(exchanged, "alice") >= 0),
        ),
        "sunk holder resolved": (
            "sunk",
            z3.Implies(z3.And(given, stood, value(free, "bob") < 0), value(resolved, "bob") >= 0),
        ),
        "a holder at or above 0 kept by the resolution": (
            "sunk",
            z3.Implies(z3.And(given, value(free, "bob") >= 0), value(resolved, "bob") >= 0),
        ),
        "the turn's trader at or above 0 kept by the resolution": (
            "sunk",
            z3.Implies(z3.And(given, value(free, "alice") >= 0), value(resolved, "alice") >= 0),
        ),
    }
    said, proved = [], []
    for name, (where, formula) in lemmas.items():
        result, spent = _proved([], formula, units)
        said.append(f"{name}: {result} {spent:,}")
        if result == "unsat":
            proved.append((where, formula))
    rows.append(f"| {policy.name} | the turn's branch lemmas, proved on their free book | {'; '.join(said)} |")
    answers = []
    for k in (0, 1, 2):
        calls: dict[str, list[tuple[str, Book, Any]]] = {"loan": [], "sunk": []}
        exchange, resolve = _recording_branches(calls)
        with _swapped(engine, "_exchange_loan", exchange), _swapped(engine, "resolve_sunk", resolve):
            turn, _ = symbolic_book(asset_cut._bounds(policy, 2))
            premise, claims = cascade_facts.parts(policy, turn, "alice")
        premise += _premise(policy, turn)
        for where, formula in proved:
            for who, start, was in calls[where]:
                f = renamed(formula, in_turn_order(names, who))
                pairs = list(_pairs(free, start))
                if where == "sunk":
                    if len(was) != 1:
                        continue
                    ((_, guard),) = was
                    pairs.append((stood, _b(guard)))
                premise.append(instance(f, pairs))
        started = time.perf_counter()
        result, spent = _proved(premise, claims[k], units)
        answers.append(f"part {k + 1} {result} {spent:,} ({time.perf_counter() - started:.1f} s)")
    rows.append(f"| {policy.name} | parts, as built, the branch lemmas at each call | {'; '.join(answers)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="drift,mango-v4")
    parser.add_argument("--units", default="30M", help="exact z3 units a direct question (default 30M)")
    parser.add_argument("--parts-units", default="20M", help="exact z3 units a turn part (default 20M)")
    parser.add_argument("--only", default="direct,parts,branches", help="direct, parts, branches (comma-separated)")
    args = parser.parse_args()
    print(f"load {os.getloadavg()[0]:.1f}\n| preset | question | answer |\n| --- | --- | --- |", flush=True)
    for name in args.presets.split(","):
        policy = load_preset(name)
        rows: list[str] = []
        if "direct" in args.only:
            _direct(policy, _units(args.units), rows)
        if "parts" in args.only:
            _parts(policy, _units(args.parts_units), rows)
        if "branches" in args.only:
            _branches(policy, _units(args.parts_units), rows)
        print("\n".join(rows), flush=True)
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

"""ADL's queue at any N: its fills add up to ``min(L, Σ eligible lots)``, each within its holder's lots.

``rules.adl.fills_by_rank`` (the symbolic path of ``queue_fills``: Hyperliquid's ranked queue, the
other ranked queues alike) serves candidate ``i`` of a queue closing ``L ≥ 0`` lots

    q_i = [e_i] · min(max(L − A_i, 0), l_i),    A_i = Σ_{j ≠ i} [ahead(j, i)] · l_j

with ``e_i`` "holds the other side", ``l_i ≥ 0`` its lots and ``ahead`` the engine's comparison
``rules.adl._ahead``. The lemma, for every number of candidates:

    Σ_i q_i = min(L, E),  E = Σ_i [e_i] · l_i,   and   0 ≤ q_i ≤ [e_i] · l_i.

With the book last (``deleverage``'s ``book_last``) it gives the book ``min(L − X, B)`` (``X = Σ q``,
``B`` its opposing lots), so the queue and the book close ``min(L, E + B)`` lots, what a book holding
all of them alone would close, and where the lots opposite (traders, book and vault) are at least
``L`` (open interest balanced) the rest closed to the vault is at most the vault's own opposing lots.
That is what ``payer_previous.ASSUMES`` and ``claims_backed.EVERY_N_ASSUMES_PREVIOUS`` said of the
queue (docs/solver-notes.md#the-queues-fills-as-a-lemma-session-22).

One z3 search over ``k`` candidates with free scores has to find the serving order among ``k!``; so
the lemma is asked in steps, each its own small exact query whose premises are only the conclusions
of the steps before it (instantiated), as ``solver.exact_split_lemma`` does for the exact split:

1. *the order* (``deficit_once.order_lemmas`` on the engine's ``_ahead``, free scores, every book
   order: of two eligible candidates exactly one is ahead; transitive; each score's denominator
   ≥ 1), and ``ahead(a, b) ⇒ e_a`` (the comparison's own first conjunct);
2. *one term of a sum* (booleans standing for the comparisons, the order's facts their premise):
   for ``i`` ahead of an eligible ``k``, ``[ahead(j, i)]·l_j ≤ [ahead(j, k)]·l_j``; for eligible
   ``i`` not ahead of ``k``, the reverse, and ``[ahead(i, k)]·l_i = 0``; a new last candidate ``k``
   adds ``[ahead(k, i)]·l_k`` to ``A_i``, which is ``l_k`` exactly for an eligible ``i`` behind an
   eligible ``k``, 0 for one ahead; the eligible lots split into those ahead of ``k`` and behind;
3. *one candidate* (free numbers, the engine's fill formula): ``0 ≤ q ≤ [e]·l``; with
   ``A + l ≤ T_a``, ``q(X) = q(min(X, T_a))``; with ``A ≥ T_a`` and ``X ≤ T_a``, ``q(X) = 0``; and
   ``A`` raised by ``l_k`` at ``X`` is ``A`` at ``max(X − l_k, 0)``;
4. *the induction over the candidates in book order*, a counter ``k``: ``C(k)``: for every
   ``X ≥ 0`` the first ``k`` candidates' fills (the same formula on them alone: ``ahead`` reads
   only its two entries) add up to ``min(X, T_k)``. ``C(0)`` is ``0 = min(X, 0)``. Adding
   candidate ``k``: the fills ahead of it, ``S_a``, and behind, ``S_b``, are sums of step 2's and
   3's terms, so ``S_a(X) = S_a(min(X, T_a))`` and ``S_b(min(X, T_a)) = 0``; with ``C(k)`` at ``X``
   and at ``min(X, T_a)`` that gives ``S_a(X) = min(X, T_a)`` and ``S_b(X) = min(X, T_k) −
   min(X, T_a)`` (step 4a, free sums); the new fills are ``S_a(L)``, ``q_k = min(max(L − T_a, 0),
   l_k)`` and ``S_b(max(L − l_k, 0))``, which add up to ``min(L, T_k + l_k)`` (step 4b); an
   ineligible ``k`` moves nothing;
5. *the book and the vault* (free numbers): ``X = min(L, E)`` and the book's ``min(L − X, B)`` make
   ``min(L, E + B)``, and ``E + B + V ≥ L`` leaves at most ``V`` to the vault.

Steps 2-5 name no candidate beyond ``i``, ``j`` and ``k`` (the sums are free numbers, a sum of
per-term facts its aggregate), so they hold at every ``k``: the lemma holds for every N. That the
engine's terms are the formula is checked term for term (:func:`shape`) on the queue of each N the
question builds. A lemma not proved (a step refuted or undecided) raises from ``valid``: no verdict
rests on it."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import z3

from solvent.rules import adl as adl_rules
from solvent.rules.arith import max_, min_, sum_, when
from solvent.rules.policy import Policy

Valid = Callable[..., str]

#: the name every lemma of this module starts with (the verdicts and the tests find them by it)
NAME = "the queue's fills (rules.adl.fills_by_rank)"
#: what the lemma proves, said where an assumption said it before
PROVES = (
    "the queue's fills add up to min(L, Σ eligible lots), each within its holder's lots, for every N (induction over "
    "the candidates in book order, solver.queue_fills_lemma), so the queue and the book close min(L, Σ their "
    "opposing lots) at the one price, what the book alone holding them would, the rest (at most the vault's "
    "opposing lots, open interest balanced) closed to the vault"
)


def fill(eligible: Any, ahead: Any, lots: Any, closing: Any) -> Any:
    """The engine's fill of one candidate (``fills_by_rank``): ``[e]·min(max(L − A, 0), l)``."""
    return when(eligible, min_(max_(closing - ahead, 0), lots))


def _entry(name: str, index: int) -> tuple[adl_rules._Entry, list[Any]]:
    num, den, lots = z3.Int(f"{name}.num"), z3.Int(f"{name}.den"), z3.Int(f"{name}.lots")
    return adl_rules._Entry(z3.Bool(f"{name}.eligible"), num, den, index, lots), [den >= 1, lots >= 0]


def template(entries: list[adl_rules._Entry], lots: Any) -> list[Any]:
    """:func:`fill` of each entry with ``A_i`` the lots of the entries ahead of it (``_ahead``)."""
    out = []
    for e in entries:
        ahead = sum_(when(adl_rules._ahead(other, e), other.lots) for other in entries if other is not e)
        out.append(fill(e.eligible, ahead, e.lots, lots))
    return out


def shape(candidates: int, fail: Callable[[str], None]) -> str:
    """The engine's ``fills_by_rank`` on ``candidates`` free entries is, term for term, :func:`template`
    (Python, the same z3 terms: no query)."""
    entries = [_entry(f"qf{k}", k)[0] for k in range(candidates)]
    closing = z3.Int("qf.L")
    engine = adl_rules.fills_by_rank(entries, closing)
    for k, (a, b) in enumerate(zip(engine, template(entries, closing), strict=True)):
        if not (z3.is_expr(a) and z3.is_expr(b) and a.eq(b)):
            fail(f"{NAME}: candidate {k} of {candidates}: the engine's fill is not [e]·min(max(L − A, 0), l)")
    return f"{NAME}: on {candidates} candidates the engine's fills are the formula, term for term (no query)"


def _b(x: Any) -> Any:
    return x if z3.is_expr(x) else z3.BoolVal(bool(x))


def order(policy: Policy, valid: Valid) -> list[str]:
    """Step 1: the comparison's order (``deficit_once.order_lemmas``) and ``ahead(a, b) ⇒ e_a``."""
    from solvent.solver.deficit_once import order_lemmas

    lemmas = order_lemmas(policy, valid)
    premise: list[Any] = []
    entries = []
    for k in range(2):
        e, p = _entry(f"qo{k}", k)
        entries.append(e)
        premise += p
    a, b = entries
    claim = z3.And(*(z3.Implies(_b(adl_rules._ahead(x, y)), x.eligible) for x, y in ((a, b), (b, a))))
    lemmas.append(valid(f"{NAME}, step 1: a candidate ahead of another is eligible", premise, claim, exact=True))
    return lemmas


def _order_facts(h: dict[tuple[str, str], Any], e: dict[str, Any]) -> list[Any]:
    """Step 1's conclusions on booleans ``h[a, b]`` standing for ``ahead(a, b)``."""
    names = list(e)
    facts = [z3.Implies(h[a, b], e[a]) for a, b in itertools.permutations(names, 2)]
    facts += [z3.Implies(z3.And(e[a], e[b]), h[a, b] != h[b, a]) for a, b in itertools.combinations(names, 2)]
    facts += [z3.Implies(z3.And(h[a, b], h[b, c], e[c]), h[a, c]) for a, b, c in itertools.permutations(names, 3)]
    return facts


def terms(valid: Valid) -> list[str]:
    """Step 2: one term of each sum, ``j`` any other candidate, ``i`` one before ``k`` (booleans for the
    comparisons, step 1's facts their premise)."""
    names = ("j", "i", "k")
    e = {n: z3.Bool(f"qt.{n}.eligible") for n in names}
    h = {(a, b): z3.Bool(f"qt.ahead.{a}.{b}") for a, b in itertools.permutations(names, 2)}
    lj, li, lk = (z3.Int(f"qt.{n}.lots") for n in names)
    premise = [*_order_facts(h, e), lj >= 0, li >= 0, lk >= 0]
    ahead, behind = h["i", "k"], z3.And(e["i"], z3.Not(h["i", "k"]))
    claim = z3.And(
        z3.Implies(z3.And(e["k"], ahead), when(h["j", "i"], lj) <= when(h["j", "k"], lj)),
        z3.Implies(z3.And(e["k"], behind), when(h["j", "k"], lj) <= when(h["j", "i"], lj)),
        z3.Implies(z3.And(e["k"], ahead), z3.And(when(h["k", "i"], lk) == 0, when(h["i", "k"], li) == li)),
        z3.Implies(behind, when(h["i", "k"], li) == 0),
        z3.Implies(z3.And(e["k"], behind), when(h["k", "i"], lk) == lk),
        z3.Implies(z3.Not(e["k"]), when(h["k", "i"], lk) == 0),
        z3.Implies(e["k"], when(e["i"], li) == when(h["i", "k"], li) + when(behind, li)),
    )
    return [
        valid(f"{NAME}, step 2: one term of A_i, T_a and T_b against a new last candidate", premise, claim, exact=True)
    ]


def candidate(valid: Valid) -> list[str]:
    """Step 3: one candidate's fill on free numbers (the engine's formula, :func:`fill`)."""
    e = z3.Bool("qc.eligible")
    a, lots, x, ta, lk, closing = (z3.Int(f"qc.{n}") for n in ("A", "l", "X", "Ta", "lk", "L"))
    q = lambda at, ahead=a: fill(e, ahead, lots, at)  # noqa: E731
    base = [a >= 0, lots >= 0, x >= 0, ta >= 0, lk >= 0]
    return [
        valid(f"{NAME}, step 3: 0 ≤ q ≤ [e]·l", base, z3.And(q(closing) >= 0, q(closing) <= when(e, lots)), exact=True),
        valid(
            f"{NAME}, step 3: ahead of k (A + l ≤ T_a), q(X) = q(min(X, T_a))",
            [*base, a + lots <= ta],
            q(x) == q(min_(x, ta)),
            exact=True,
        ),
        valid(
            f"{NAME}, step 3: behind k (A ≥ T_a), q(X) = 0 for X ≤ T_a",
            [*base, a >= ta, x <= ta],
            q(x) == 0,
            exact=True,
        ),
        valid(
            f"{NAME}, step 3: A raised by l_k at X is A at max(X − l_k, 0)",
            base,
            q(x, a + lk) == q(max_(x - lk, 0)),
            exact=True,
        ),
    ]


def induction(valid: Valid) -> list[str]:
    """Step 4: the induction over the candidates in book order, on free sums."""
    x, ta, tb, lk = (z3.Int(f"qi.{n}") for n in ("X", "Ta", "Tb", "lk"))
    tk = ta + tb
    y = min_(x, ta)
    sa_x, sb_x, sa_y, sb_y = (z3.Int(f"qi.{n}") for n in ("Sa.X", "Sb.X", "Sa.Y", "Sb.Y"))
    base = [x >= 0, ta >= 0, tb >= 0, lk >= 0]
    split = valid(
        f"{NAME}, step 4a: C(k) at X and at min(X, T_a) split ahead of k and behind",
        [*base, sa_x + sb_x == min_(x, tk), sa_y + sb_y == min_(y, tk), sa_x == sa_y, sb_y == 0],
        z3.And(sa_x == min_(x, ta), sb_x == min_(x, tk) - min_(x, ta)),
        exact=True,
    )
    z = max_(x - lk, 0)
    sa, sb = z3.Int("qi.Sa.L"), z3.Int("qi.Sb.Z")
    step = valid(
        f"{NAME}, step 4b: C(k) ⇒ C(k + 1), an eligible candidate k added last in book order",
        [*base, sa == min_(x, ta), sb == min_(z, tk) - min_(z, ta)],
        sa + fill(True, ta, lk, x) + sb == min_(x, tk + lk),
        exact=True,
    )
    start = valid(f"{NAME}, step 4: C(0), no candidate", [x >= 0], min_(x, 0) == 0, exact=True)
    return [start, split, step]


def book_and_vault(valid: Valid) -> list[str]:
    """Step 5: the book last, and the rest to the vault (free numbers)."""
    closing, held, book, vault = (z3.Int(f"qb.{n}") for n in ("L", "E", "B", "V"))
    x = min_(closing, held)
    taken = min_(closing - x, book)
    premise = [closing >= 0, held >= 0, book >= 0, vault >= 0]
    return [
        valid(
            f"{NAME}, step 5: the queue then the book close min(L, E + B), the vault at most V of the rest",
            premise,
            z3.And(
                x + taken == min_(closing, held + book),
                z3.Implies(held + book + vault >= closing, closing - x - taken <= vault),
            ),
            exact=True,
        )
    ]


def sizes(accounts: int) -> tuple[int, ...]:
    """The queue sizes whose shape :func:`lemma` checks for a question of ``accounts`` traders: every
    queue it builds (the vault's call has every trader as a candidate, a trader's resolve the others),
    and every queue up to eight candidates whatever book the argument is asked on (Python: no units)."""
    return tuple(range(1, max(accounts, 8) + 1))


def lemma(
    policy: Policy, valid: Valid, fail: Callable[[str], None], candidates: tuple[int, ...] = (1, 2, 3)
) -> list[str]:
    """Every step (module docstring) and the engine's shape at each of ``candidates``: the lemma's names."""
    lemmas = [shape(n, fail) for n in candidates]
    lemmas += order(policy, valid)
    lemmas += terms(valid)
    lemmas += candidate(valid)
    lemmas += induction(valid)
    lemmas += book_and_vault(valid)
    lemmas.append(f"{NAME}: for every N, {PROVES}")
    return lemmas


__all__ = [
    "NAME",
    "PROVES",
    "book_and_vault",
    "candidate",
    "fill",
    "induction",
    "lemma",
    "order",
    "shape",
    "sizes",
    "template",
    "terms",
]

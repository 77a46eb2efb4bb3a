"""Purification keeps queries linear and sound: its facts hold of exact products, its rewrites are exact.

The differential checks follow docs/design.md#one-semantics-two-interpreters: draw concrete inputs, fix them as constants,
and require z3 to find the rewritten formula (plus the exact definitions of every purified
variable) equal to the original, i.e. ``unsat`` of ``rewritten != original``.
"""

from __future__ import annotations

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

import solvent.solver  # noqa: F401  (registers the z3 backend)
from solvent.rules.arith import Rounding, abs_, div, ite, max_, min_, mul_ppm, safe_divisor, sum_, when
from solvent.solver import linearize
from solvent.solver.linearize import Linearizer
from solvent.solver.side_facts import product_facts, shared_factor_facts

ints = st.integers(min_value=-(10**6), max_value=10**6)
FAST = settings(max_examples=60, deadline=None)


def _valid(formula: z3.BoolRef) -> bool:
    solver = z3.Solver()
    solver.add(z3.Not(formula))
    return solver.check() == z3.unsat


class TestFacts:
    """Every side fact is true of the exact product, for every sign of the factors."""

    @FAST
    @given(a=ints, b=ints)
    def test_product_facts_hold_of_exact_products(self, a: int, b: int) -> None:
        x, y, p = z3.Ints("x y p")
        facts = product_facts(p, x, y)
        pinned = z3.substitute(z3.And(*facts), (x, z3.IntVal(a)), (y, z3.IntVal(b)), (p, z3.IntVal(a * b)))
        assert z3.is_true(z3.simplify(pinned))

    @FAST
    @given(a=ints, b=ints, f=ints)
    def test_shared_factor_facts_hold(self, a: int, b: int, f: int) -> None:
        x, y, g, pa, pb = z3.Ints("x y g pa pb")
        facts = shared_factor_facts(g, pa, x, pb, y)
        values = [(x, a), (y, b), (g, f), (pa, a * f), (pb, b * f)]
        pinned = z3.substitute(z3.And(*facts), *[(v, z3.IntVal(n)) for v, n in values])
        assert z3.is_true(z3.simplify(pinned))


def _engine_like(s: list[z3.ArithRef], mark: z3.ArithRef, new: z3.ArithRef, target: z3.ArithRef) -> list[z3.ExprRef]:
    """Terms shaped like the engine's: settlement, tiered margin, a pro-rata split, an ADL gap."""
    pnl = [x * (new - mark) for x in s]
    notional = [abs_(x) * new for x in s]
    rate = ite(notional[0] >= 5_000, 20_000, 10_000)
    margin = mul_ppm(notional[0], rate, rounding=Rounding.CEIL)
    weights = [max_(p, 0) for p in pnl]
    total = sum_(weights)
    shares = [
        div(when(total > 0, min_(target, total)) * w, safe_divisor(total), rounding=Rounding.CEIL) for w in weights
    ]
    gap = div(-pnl[0], safe_divisor(abs_(s[0])), rounding=Rounding.CEIL)
    return [*pnl, margin, *shares, gap]


class TestRewriteIsExact:
    """Under the exact definitions of its fresh variables, the rewritten term equals the original."""

    @settings(max_examples=40, deadline=None)
    @given(
        sizes=st.lists(st.integers(-50, 50), min_size=3, max_size=3),
        mark=st.integers(1, 500),
        new=st.integers(1, 500),
        target=st.integers(0, 10**4),
    )
    def test_engine_shaped_terms(self, sizes: list[int], mark: int, new: int, target: int) -> None:
        s = [z3.Int(f"s{i}") for i in range(3)]
        m, n, t = z3.Ints("mark new target")
        terms = _engine_like(s, m, n, t)
        lin = Linearizer()
        rewritten = lin.rewrite(terms)
        lin.finish()
        pins = [v == k for v, k in zip(s, sizes, strict=True)] + [m == mark, n == new, t == target]
        exact = lin.definitions([*lin.products.values(), *lin.quotients.values()])
        solver = z3.Solver()
        solver.add(*pins, *lin.facts, *exact)
        assert solver.check() == z3.sat, "the side facts contradict the exact values"
        solver.add(z3.Or(*[a != b for a, b in zip(rewritten, terms, strict=True)]))
        assert solver.check() == z3.unsat


class TestLinearProofs:
    """Claims that need nonlinear reasoning are proved by the purified (linear) query."""

    def test_balanced_open_interest_settles_to_zero(self) -> None:
        """Σ s = 0 ⊢ Σ s·(M' − M) = 0: the hint multiplies open interest by the price atoms."""
        s = [z3.Int(f"s{i}") for i in range(6)]
        m, n = z3.Ints("mark new")
        clearing = sum_(max_(-(x * (n - m)), 0) - max_(x * (n - m), 0) for x in s)
        lin = Linearizer()
        assumption, goal = lin.rewrite([sum_(s) == 0, clearing != 0])
        lin.hint(sum_(s))
        lin.finish()
        solver = z3.Solver()
        solver.add(assumption, goal, *lin.facts)
        assert solver.check() == z3.unsat

    def test_pro_rata_rounded_up_covers_the_target(self) -> None:
        """Σ ⌈T·w_i / W⌉ ≥ T for W = Σ w_i > 0: the dust sent to the fund is never negative."""
        r = z3.Int("remaining")
        w = [max_(z3.Int(f"x{i}"), 0) for i in range(3)]
        total = sum_(w)
        target = when(total > 0, min_(r, total))
        shares = [div(target * x, safe_divisor(total), rounding=Rounding.CEIL) for x in w]
        lin = Linearizer()
        facts = lin.rewrite([r >= 0, sum_(shares) - target < 0])
        lin.finish()
        solver = z3.Solver()
        solver.add(*facts, *lin.facts)
        assert solver.check() == z3.unsat

    def test_a_split_gets_shared_factor_facts_only_against_its_own_numbers(self) -> None:
        """Products of the divisor with atoms its split does not read (here ``mark × |s_i|``
        elsewhere in the query, linked to ``mark × W``) get no pairwise facts: those grew with the
        square of every product sharing the divisor (Drift at N = 4: 400,260 pairs, 640 now).
        The split's own pairs stay, and the dust is still proved."""
        r, mark = z3.Ints("remaining mark")
        w = [abs_(z3.Int(f"x{i}")) for i in range(3)]
        total = sum_(w)
        target = when(total > 0, r)
        shares = [div(target * x, safe_divisor(total), rounding=Rounding.CEIL) for x in w]
        elsewhere = [mark * x + z3.Int(f"y{i}") * x for i, x in enumerate(w)]  # notional, other products
        lin = Linearizer()
        facts = lin.rewrite([r >= 0, sum_(shares) - target < 0, *(e > 0 for e in elsewhere)])
        counted = []
        original = linearize.shared_factor_facts
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(linearize, "shared_factor_facts", lambda f, *rest: counted.append(rest) or original(f, *rest))
            lin.finish()
        own = lin._own_split()
        (divisor,) = {q.divisor.get_id() for q in lin.quotients.values()}
        everyone = len(lin._with_factor(divisor))
        assert len(own[divisor]) < everyone
        assert len(counted) < everyone * (everyone - 1) // 2
        for _, a, _, b in counted:
            assert a.get_id() in own[divisor] and b.get_id() in own[divisor]
        solver = z3.Solver()
        solver.add(*facts, *lin.facts)
        assert solver.check() == z3.unsat

    def test_a_purified_model_names_the_definitions_it_breaks(self) -> None:
        """Without facts strong enough, a model may set x·y freely; mismatches() finds it."""
        x, y = z3.Ints("x y")
        lin = Linearizer()
        (goal,) = lin.rewrite([x * y == 7])
        solver = z3.Solver()
        solver.add(goal, *lin.facts, x == 2, y == 2)
        assert solver.check() == z3.sat
        wrong = lin.mismatches(solver.model())
        assert len(wrong) == 1 and lin.over_approximates
        solver.add(*lin.definitions(wrong))
        assert solver.check() == z3.unsat


def test_numeral_rate_tiers_are_distributed_not_purified() -> None:
    """A product with a tier-rate ``ite`` (numeral leaves) becomes linear without new variables."""
    n = z3.Int("notional")
    lin = Linearizer()
    (term,) = lin.rewrite([mul_ppm(n, ite(n >= 100, 20_000, ite(n >= 10, 15_000, 10_000)), rounding=Rounding.CEIL)])
    assert not lin.products and not lin.quotients
    assert _valid(z3.Implies(n == 200, term == 4))


def test_side_facts_of_products_sharing_a_factor_are_charged_as_they_grow() -> None:
    """The facts relating every two products with one factor grow with the square of their
    number; the build pays for each few pairs, so a split over many accounts runs out of its
    effort at a deterministic step instead of filling memory (it reached 11 GB on Drift, N = 4)."""
    import pytest

    from solvent.solver import effort
    from solvent.solver.linearize import PAIRS_PER_STEP

    d = z3.Int("D")

    def cost(n: int) -> tuple[int, int]:
        lin = Linearizer(prefix="t")
        lin.rewrite([z3.Sum([z3.Int(f"x{i}") / d for i in range(n)]) > 0])
        with effort.building(10**9) as meter:
            lin.finish()
        return meter.spent, len(lin.facts)

    small, large = cost(10), cost(80)
    assert large[0] > 20 * small[0]  # 8x the quotients: about 64x the pairs, charged
    assert large[0] >= (80 * 79 // 2) // PAIRS_PER_STEP * effort.BUILD_STEP
    lin = Linearizer(prefix="t")
    lin.rewrite([z3.Sum([z3.Int(f"x{i}") / d for i in range(80)]) > 0])
    with pytest.raises(effort.OutOfEffort), effort.building(large[0] // 2):
        lin.finish()

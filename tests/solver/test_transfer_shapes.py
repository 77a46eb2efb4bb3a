"""Transfer amounts non-negative by their shape: the syntactic check is a valid implication.

``solvent.solver.story`` drops (or shrinks to ``price ≥ 0``) a transfer obligation whose amount
is non-negative by its shape. That is only sound if every rule of the check is a valid
implication; these tests pin the rules on hand-made terms (including near misses that must be
rejected) and check the claim on the engine's own transfer amounts with random inputs.
"""

from __future__ import annotations

import random

import pytest
import z3

import solvent.solver  # noqa: F401  (registers the z3 backend)
from solvent.rules.arith import Rounding, abs_, div, ite, max_, min_, mul_ppm, safe_divisor, when
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds
from solvent.solver.story import _nonnegative_when, _transfer_claim, run, slots, symbolic_book
from solvent.solver.symbolic import transfer_obligations

#: built at import, in z3's global context: no test leaves that context replaced (tests/conftest.py,
#: tests/z3_context.py), so these terms meet the ones each test builds
x, y, m = z3.Ints("x y m")


def needed(amount: object) -> tuple[str, ...] | None:
    found = _nonnegative_when(z3.Implies(y > 0, amount >= 0))
    return None if found is None else tuple(sorted(str(v) for v in found))


class TestShapes:
    """Each accepted shape is non-negative for every input (given the named variables ≥ 0)."""

    @pytest.mark.parametrize(
        "amount",
        [
            max_(x, 0),
            abs_(x),
            min_(abs_(x), max_(y, 0)),
            z3.IntVal(3) + max_(x, 0),
            ite(x > -1, x, 0),
            ite(x < 1, -x, 0),
            ite(x >= 0, 0, -x),
            ite(x <= 0, 0, x),
        ],
        ids=["max", "abs", "min", "plus-numeral", "gt-minus-one", "lt-one", "negated-ge", "negated-le"],
    )
    def test_non_negative_for_every_input(self, amount: z3.ArithRef) -> None:
        assert needed(amount) == ()

    def test_a_fee_on_notional_needs_only_the_price(self) -> None:
        """``min(⌈|s|·M·r / 1e6⌉, max(left, 0))``: non-negative once the price is."""
        fee = mul_ppm(abs_(x) * m, 12_500, rounding=Rounding.CEIL)
        assert needed(min_(fee, max_(y - x, 0))) == ("m",)
        assert needed(div(when(y > 0, max_(x, 0) * m), 7, rounding=Rounding.FLOOR)) == ("m",)

    def test_a_division_by_a_safe_divisor(self) -> None:
        """``div`` by ``safe_divisor(d)`` (``ite(d > 0, d, 1)``), by a product of such divisors and
        constants, floor and ceiling: non-negative once the numerator is (dYdX's per-fill gap
        ``⌈D·q / L⌉``, Bybit's fee on the bankruptcy price)."""
        divisor = safe_divisor(abs_(x)) * 999_450
        assert needed(div(max_(y, 0) * abs_(m), safe_divisor(x), rounding=Rounding.CEIL)) == ()
        assert needed(div(max_(y, 0), divisor, rounding=Rounding.FLOOR)) == ()
        assert needed(div(max_(y, 0), ite(x >= 1, x, 2), rounding=Rounding.CEIL)) == ()

    def test_what_is_left_after_taking_at_most_all_of_it(self) -> None:
        """The ADL queue's lots left, ``R − when(c, min(R, l))``, step after step: non-negative
        once the position is (``|s|`` is by its shape)."""
        left = abs_(x)
        for lots, eligible in ((abs_(y), y < 0), (abs_(m), m > 3)):
            left = left - when(eligible, min_(left, lots))
            assert needed(left) == ()
        assert needed(left - ite(y < left, y, 0)) == ()  # y < left: left − y > 0
        assert needed(left - ite(y > left, y, 0)) is None
        assert needed(left - ite(abs_(y) < left, abs_(y), left)) == ()
        assert needed(x - when(y > 0, min_(x, y))) == ("x",)

    def test_what_is_left_after_a_capped_payment(self) -> None:
        """A fund that pays ``min(min(R, available), cap)`` (Drift's capped insurance fund, then
        its fee pool pays from what is left): the cap is taken only below ``min(R, available)``,
        itself at most ``R``. Near misses: a cap taken above it, or below a term not bounded by R."""
        paid = min_(min_(x, max_(y, 0)), 100_000)
        assert needed(x - paid) == ()
        assert needed(min_(x - paid, max_(m, 0))) == ()
        assert needed(x - ite(min_(x, y) >= 7, 7, min_(x, y))) == ()
        assert needed(x - ite(min_(x, y) <= 7, min_(x, y), 7)) == ()
        assert needed(x - ite(min_(x, y) > 7, min_(x, y), 7)) is None
        assert needed(x - ite(max_(x, y) <= 7, max_(x, y), 7)) is None
        assert needed(x - ite(m <= 7, m, 7)) is None

    @pytest.mark.parametrize(
        "amount",
        [
            div(max_(y, 0), x, rounding=Rounding.FLOOR),
            div(max_(y, 0), ite(x > -1, x, 1), rounding=Rounding.CEIL),
            div(max_(y, 0), ite(x >= 0, x, 1), rounding=Rounding.FLOOR),
            div(max_(y, 0), safe_divisor(x) * -3, rounding=Rounding.FLOOR),
            abs_(x) - when(y > 0, min_(abs_(m), y)),
            abs_(x) - ite(abs_(x) <= y, y, abs_(x)),
            abs_(x) - ite(abs_(x) < y, 0, -y + 1 + abs_(x)),
        ],
        ids=[
            "symbolic-divisor",
            "divisor-gt-minus-one",
            "divisor-ge-zero",
            "negative-factor",
            "another-whole",
            "taken-above-whole",
            "sum-leaf",
        ],
    )
    def test_near_misses_of_divisions_and_what_is_left(self, amount: z3.ArithRef) -> None:
        assert needed(amount) is None

    @pytest.mark.parametrize(
        "amount",
        [x - y, ite(x < 2, -x, 0), ite(x >= 1, -x, 0), -3 * max_(x, 0), ite(x < 0, -y, x), ite(x > -2, -x, 0)],
        ids=["difference", "lt-two", "wrong-branch", "negative-scale", "other-negation", "negation-of-gt"],
    )
    def test_near_misses_are_left_to_the_solver(self, amount: z3.ArithRef) -> None:
        assert needed(amount) is None

    @pytest.mark.parametrize(
        "amount",
        [ite(x > -2, x, 0), ite(x > y, x, 0), ite(x <= -2, 0, x)],
        ids=["gt-minus-two", "symbolic-bound", "le-minus-two"],
    )
    def test_a_branch_the_condition_does_not_bound_needs_its_variable(self, amount: z3.ArithRef) -> None:
        """Not non-negative for every input (x = -1 breaks the first two), only once ``x ≥ 0``."""
        assert needed(amount) == ("x",)

    def test_a_claim_on_a_variable_outside_the_positive_inputs_stays_whole(self) -> None:
        obligation = z3.Implies(y > 0, max_(x, 0) * y >= 0)
        assert _transfer_claim(obligation, {}, {m.get_id()}).eq(obligation)
        claim = _transfer_claim(obligation, {}, {y.get_id()})
        assert claim.eq(y >= 0)


def _free(e: z3.ExprRef) -> list[z3.ExprRef]:
    seen: dict[int, z3.ExprRef] = {}
    stack, visited = [e], set()
    while stack:
        node = stack.pop()
        if node.get_id() in visited:
            continue
        visited.add(node.get_id())
        if z3.is_const(node) and node.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            seen[node.get_id()] = node
        stack.extend(node.children())
    return list(seen.values())


@pytest.mark.parametrize("preset", ["binance", "bitmex", "bybit", "drift", "dydx-v4", "hyperliquid"])
def test_engine_amounts_the_check_accepts_are_non_negative(preset: str) -> None:
    """On the engine's own transfers (a mark move over two traders), every amount the check
    accepts evaluates ≥ 0 under random inputs that give the named variables non-negative values."""
    bounds = Bounds(accounts=2)
    book, _ = symbolic_book(bounds)
    rng = random.Random(preset)
    checked = 0
    for variant_run in run(load_preset(preset), book, slots(book, bounds))[0].runs:
        for obligation in transfer_obligations(variant_run.ctx):
            found = _nonnegative_when(obligation)
            if found is None:
                continue
            amount = obligation.arg(1).arg(0)
            variables = _free(amount)
            positive = {v.get_id() for v in found}
            for _ in range(8):
                values = [
                    (v, z3.IntVal(rng.randint(0 if v.get_id() in positive else -(10**6), 10**6))) for v in variables
                ]
                assert z3.is_true(z3.simplify(z3.substitute(amount, *values) >= 0)), str(obligation)
            checked += 1
    assert checked > 0


def test_a_liquidation_step_leaves_only_the_price_to_check() -> None:
    """Binance (fund, then ADL): every transfer of a mark move over four traders is non-negative by
    its shape or once the new price is; nothing large is left for the solver."""
    bounds = Bounds(accounts=4)
    book, _ = symbolic_book(bounds)
    (slot_run,) = run(load_preset("binance"), book, slots(book, bounds))
    claim = slot_run.transfers_ok()
    assert z3.is_true(z3.simplify(claim == (z3.Int("e1.price_quote") >= 0))), str(claim)


def test_dydx_per_fill_gaps_leave_only_the_price_to_check() -> None:
    """dYdX v4 (its gap rounded per fill, ``⌈D·q / L⌉``, from offsetting accounts that may be
    skipped): every transfer of a mark move over four traders is non-negative by its shape or once
    the new price is. Issue 18: the per-fill division and the queue's lots left were whole
    obligations, and the transfers ran out of units at N = 4 on every claim."""
    bounds = Bounds(accounts=4)
    book, _ = symbolic_book(bounds)
    (slot_run,) = run(load_preset("dydx-v4"), book, slots(book, bounds))
    claim = slot_run.transfers_ok()
    assert z3.is_true(z3.simplify(claim == (z3.Int("e1.price_quote") >= 0))), str(claim)

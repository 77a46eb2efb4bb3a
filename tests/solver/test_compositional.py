"""The all-N arguments: the frame lemma on the book's balances, lemmas on the engine's functions."""

from __future__ import annotations

from solvent.properties import catalog
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds
from solvent.solver.compositional import ARGUMENTS, abstracted, extend

KINDS = ("mark", "funding", "deposit", "withdraw", "trade", "spot-deposit")


class TestExtension:
    def test_conservation_holds_for_every_n_and_every_event_kind(self) -> None:
        """Every lemma of the conservation argument holds on Binance's engine, for all six kinds."""
        ext = extend(load_preset("binance"), catalog.get("conservation"), Bounds(event_kinds=KINDS, effort=20_000_000))
        assert ext is not None
        assert "all N" in ext.method and "uniformly" in ext.method
        decided = [q for q in ext.queries if "conditions abstracted" not in q.name]
        assert {q.result.split(" ")[0] for q in decided} <= {"unsat", "holds", "trivial"}
        assert any(lemma.startswith("F (mark)") for lemma in ext.lemmas)
        assert any(lemma.startswith("C5 (funding)") for lemma in ext.lemmas)
        assert any(lemma.startswith("aggregate") for lemma in ext.lemmas)

    def test_open_interest_balance_has_an_argument(self) -> None:
        ext = extend(load_preset("drift"), catalog.get("open-interest-balance"), Bounds(effort=20_000_000))
        assert ext is not None and any(lemma.startswith("P (mark)") for lemma in ext.lemmas)

    def test_per_account_claims_have_no_argument_but_the_deposits_and_each_traders(self) -> None:
        """No compositional argument is claimed where there is none: the verdict stays bounded
        (deposit-not-absorbed's, on the depositor alone: tests/solver/test_per_account.py; the
        per-trader claims', one trader's contract where no layer couples the traders:
        tests/solver/test_each_trader.py; ADL's two claims, by lemmas on one call:
        tests/solver/test_adl_claims.py; deficit-charged-once, by lemmas on one resolution:
        tests/solver/test_deficit_once.py; waterfall-order, by a lemma on one waterfall call:
        tests/solver/test_waterfall_claims.py)."""
        assert set(ARGUMENTS) == {
            "conservation",
            "open-interest-balance",
            "deposit-not-absorbed",
            "no-negative-equity",
            "loss-bounded-by-collateral",
            "principal-protected",
            "flat-accounts-never-pay",
            "liquidation-only-below-maintenance",
            "adl-ranking-respected",
            "adl-price-fair",
            "deficit-charged-once",
            "waterfall-order",
        }
        # backpack's contract fails (a carried deficit leaves the account below zero), binance's
        # spot-isolated has no per-trader argument
        assert extend(load_preset("backpack"), catalog.get("no-negative-equity"), Bounds()) is None
        assert extend(load_preset("binance"), catalog.get("spot-isolated"), Bounds()) is None


class TestAbstraction:
    """The abstraction keeps the ifs' Boolean structure and the linear sums, nothing else."""

    def test_comparisons_and_products_become_fresh_variables_consistently(self) -> None:
        import z3

        x, y = z3.Ints("x y")
        term = z3.If(x > y, x * y + 1, x) - z3.If(x > y, x * y, x)
        (rough,) = abstracted([term])
        solver = z3.Solver()
        solver.add(z3.Not(z3.Or(rough == 1, rough == 0)))
        assert solver.check() == z3.unsat  # the same comparison, the same product: still 1 or 0

    def test_a_claim_that_needs_arithmetic_is_not_valid_once_abstracted(self) -> None:
        import z3

        x = z3.Int("x")
        (rough,) = abstracted([z3.If(x > 0, x, 0) - z3.If(x >= 1, x, 0)])
        solver = z3.Solver()
        solver.add(rough != 0)
        assert solver.check() == z3.sat  # x > 0 and x >= 1 are different atoms once abstracted


class TestCoefficients:
    """An abstracted gap is 0 for every value exactly when its constant and coefficients are."""

    def test_a_linear_gap_splits_into_its_constant_and_coefficients(self) -> None:
        import z3

        from solvent.solver.compositional import coefficients

        x, y = z3.Ints("x y")
        pieces = coefficients(2 * x + 3 - y)
        assert sorted(p.as_long() for p in pieces) == [-1, 2, 3]

    def test_pieces_of_an_identity_of_ifs_all_vanish(self) -> None:
        import z3

        from solvent.solver.compositional import coefficients

        x, y, z = z3.Ints("x y z")
        (rough,) = abstracted([z3.If(z > 0, x + y, x) - x - z3.If(z > 0, y, 0)])
        pieces = coefficients(rough)
        solver = z3.Solver()
        solver.add(z3.Or(*[p != 0 for p in pieces]) if pieces else z3.BoolVal(False))
        assert solver.check() == z3.unsat

    def test_a_gap_booked_under_another_condition_leaves_a_coefficient_that_can_be_nonzero(self) -> None:
        """A transfer applied where the ledger says a different branch ran: x's coefficient is
        ``[b] − [c]``, which z3 can make 1; so the lemma goes on to the exact question."""
        import z3

        from solvent.solver.compositional import coefficients

        x, p, q = z3.Ints("x p q")
        (rough,) = abstracted([z3.If(p > 0, x, 0) - z3.If(q > 0, x, 0)])
        pieces = coefficients(rough)
        assert pieces, "x's coefficient does not simplify to 0"
        solver = z3.Solver()
        solver.add(z3.Or(*[piece != 0 for piece in pieces]))
        assert solver.check() == z3.sat

    def test_binance_conservation_lemmas_fit_in_one_claims_share(self) -> None:
        """The lemmas fit in the effort ``solvent check`` gives one claim (the default budget over
        its claims): Binance's needed 15.4M units asked whole."""
        from solvent.solver.compositional import attempt

        ext = attempt(load_preset("binance"), catalog.get("conservation"), Bounds(accounts=2, effort=3_750_000))
        assert ext is not None and not hasattr(ext, "failed"), getattr(ext, "failed", "")
        assert sum(q.units for q in ext.queries) < 3_750_000

"""Fidelity, round two (issue 15): venue mechanisms the presets approximated, each a policy field
with its source, a worked example run through the engine (``rules.engine.step``) at its boundary,
and a mutation test: every one-token mutant of the rule's code changes a boundary case.

- Drift's socialized loss (docs/venues.md#drift-v2-bankruptcy): the loss is spread over every open
  lot, the liquidator's included (``liquidator_pays``), and a payer it sinks below zero is
  bankrupt in turn (``cascade``).
- Mango v4's socialized loss (docs/venues.md#mango-v4-bankruptcy): the same two rules, read in
  Mango's code (``open_interest`` counts both sides, the liquidator's included; ``settle_funding``
  books the charge with no cap, and the account is liquidated and resolved in turn).
- dYdX v4's insurance fund (docs/venues.md#dydx-v4-insurance-fund): it pays a liquidation's whole
  delta or none of it, and the position is deleveraged (``all_or_nothing``).
- Bybit's maintenance margin (docs/venues.md#bybit-liquidation): on the position's value at entry,
  not at the mark (``margin.maintenance_basis = "entry"``).
- BitMEX's risk-limit steps (docs/venues.md#bitmex-margin): each step's rates apply to the whole
  position, a declared step function (``margin.risk_limit_steps``).
- Hyperliquid's partial liquidation (docs/venues.md#hyperliquid-liquidation): above 100k USDC of
  notional one order sends 20% of the position (``liquidation.partial_above_notional_quote``,
  ``partial_share_ppm``), and below 2/3 of maintenance the backstop takes it all.
- percolator's capital (github.com/aeyakovenko/percolator, tests/unit_tests.rs): a realized loss
  settles into capital at once, so a later gain is junior PnL the haircut reaches
  (``haircut_ratio.losses_settle_capital``).
"""

from __future__ import annotations

import ast
import copy
import inspect
import textwrap

import attrs
import pytest

from solvent.rules import bankruptcy, haircut_ratio, insurance_fund, margin, socialized_loss
from solvent.rules.book import Book, Role, new_book
from solvent.rules.engine import step
from solvent.rules.events import Funding, MarkPrice
from solvent.rules.ledger import Ctx, Reason
from solvent.rules.margin import MaintenanceBasis
from solvent.rules.outcomes import AdlFill, Bankrupt, LayerUsed, Liquidated
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import HaircutRatio, InsuranceFund, Release, SocializedLoss
from solvent.rules.wellformed import reasons

# --- one-token mutants ---------------------------------------------------------------------------

_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Lt: (ast.LtE, ast.Gt),
    ast.LtE: (ast.Lt, ast.GtE),
    ast.Gt: (ast.GtE, ast.Lt),
    ast.GtE: (ast.Gt, ast.LtE),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
    ast.And: (ast.Or,),
    ast.Or: (ast.And,),
    ast.Add: (ast.Sub,),
    ast.Sub: (ast.Add,),
}


def mutants(module, name: str):
    """Every one-token mutant of ``module.name``: a comparison, boolean or +/− operator swapped, a
    ``not`` dropped, a boolean constant flipped. Yields (label, function) with the function's
    globals a copy of the module's, so its calls into the module reach the (patched) module."""
    source = textwrap.dedent(inspect.getsource(getattr(module, name)))
    tree = ast.parse(source)
    nodes = list(ast.walk(tree))
    sites = []
    for node in nodes:
        if isinstance(node, ast.Compare):
            sites += [(node, k, new) for k, op in enumerate(node.ops) for new in _SWAPS.get(type(op), ())]
        elif isinstance(node, (ast.BoolOp, ast.BinOp)):
            sites += [(node, None, new) for new in _SWAPS.get(type(node.op), ())]
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            sites.append((node, None, "drop not"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            sites.append((node, None, "flip"))
    for i, (node, k, new) in enumerate(sites):
        mutated = copy.deepcopy(tree)
        target = list(ast.walk(mutated))[nodes.index(node)]
        if isinstance(target, ast.Compare):
            target.ops[k] = new()
            label = f"{type(node.ops[k]).__name__} -> {new.__name__}"
        elif isinstance(target, (ast.BoolOp, ast.BinOp)):
            target.op = new()
            label = f"{type(node.op).__name__} -> {new.__name__}"
        elif isinstance(target, ast.UnaryOp):
            label = "not dropped"
            _replace(mutated, target, target.operand)
        else:
            target.value = not target.value
            label = f"{node.value} -> {not node.value}"
        namespace = dict(vars(module))
        exec(compile(ast.fix_missing_locations(mutated), f"<mutant {i} of {name}>", "exec"), namespace)
        yield f"{name} line {node.lineno}: {label}", namespace[name]


def _replace(tree: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
            elif isinstance(value, list) and old in value:
                value[value.index(old)] = new


def assert_every_mutant_is_caught(monkeypatch, module, name: str, observe, at_least: int, importers=()) -> None:
    """``observe()`` (the boundary cases' results) differs, or raises, under every mutant.
    ``importers``: modules that imported the function by name, patched too."""
    expected = observe()
    found = list(mutants(module, name))
    assert len(found) >= at_least, [label for label, _ in found]
    for label, mutant in found:
        with monkeypatch.context() as m:
            for target in (module, *importers):
                m.setattr(target, name, mutant)
            try:
                got = observe()
            except Exception:  # a mutant that crashes is caught too
                continue
        assert got != expected, f"mutant survives: {label}"


def _evolve(book: Book, **accounts: dict) -> Book:
    for name, fields in accounts.items():
        i = book.index(name)
        book = book.replace_account(i, attrs.evolve(book.accounts[i], **fields))
    return attrs.evolve(book, net_deposits_quote=sum(a.cash_quote + a.spot_quote for a in book.accounts))


def _cash(book: Book) -> dict[str, int]:
    return {a.name: a.cash_quote for a in book.accounts if a.cash_quote or a.size_lots}


# --- Drift: the socialized loss (docs/venues.md#drift-v2-bankruptcy) ------------------------------


def _drift(cascade: bool = True, liquidator_pays: bool = True):
    policy = load_preset("drift")
    layers = tuple(
        attrs.evolve(layer, cascade=cascade, liquidator_pays=liquidator_pays)
        if isinstance(layer, SocializedLoss)
        else layer
        for layer in policy.deficit
    )
    return attrs.evolve(policy, deficit=layers)


def _drift_book(alice_cash: int) -> Book:
    """Mark 100, every position opened there. alice (first in book order) short 10, bob short 100
    on 1,000 (10x, the initial margin), carol long 110; the insurance fund holds 221, of which it
    may pay 220: Drift keeps one quantum in the vault (``floor_quote = 1``, resolve_perp_bankruptcy
    pays at most ``IF_vault_balance − 1``)."""
    return _evolve(
        new_book(mark_quote=100, traders=("alice", "bob", "carol")),
        alice={"cash_quote": alice_cash, "principal_quote": alice_cash, "size_lots": -10, "cost_quote": -1_000},
        bob={"cash_quote": 1_000, "principal_quote": 1_000, "size_lots": -100, "cost_quote": -10_000},
        carol={"cash_quote": 2_000, "principal_quote": 2_000, "size_lots": 110, "cost_quote": 11_000},
        insurance_fund={"cash_quote": 221},
    )


class TestDriftSocializedLoss:
    """The worked example: the mark gaps 100 → 130 (+30%). bob pays 3,000 of settlement on 1,000 and
    is liquidated at 132 (Drift's liquidator fee, 1%, as the fill's distance: ⌈1.3⌉ = 2 a lot), so
    his deficit is 2,000 + 200 = 2,200. The fund pays 220 of its 221, keeping the one quantum
    Drift leaves in the vault (resolve_perp_bankruptcy step 1), the
    fee pool is empty (step 2), and 1,980 is socialized (step 3) over every open lot:
    Δ = 1,980 / (|long| + |short|) = 1,980 / (carol 110 + alice 10 + the liquidator's 100) = 9 a lot,
    so alice pays 90, carol 990, and the liquidator (the book, which took bob's 100 lots) 900.

    alice's equity after the gap is her cash − 300, at or above her maintenance (5% × 1,300 = 65),
    so the sweep leaves her alone; the charge of 90 decides. With 90 she ends at exactly zero; with
    89 she is at −1, and on Drift that account is liquidated and, flat with a negative quote,
    resolved in turn: at 132 her deficit is 1 + 20 = 21, the fund is at its floor and the fee pool empty, and
    21 is spread over carol's 110 lots and the liquidator's 110 (bob's 100 and alice's 10):
    ⌈10.5⌉ = 11 each, the dust of 1 to the fund (``rounding.pro_rata``).
    """

    def run(self, alice_cash: int, **fields):
        return step(_drift(**fields), _drift_book(alice_cash), MarkPrice(130))

    def test_the_loss_is_spread_over_every_open_lot_the_liquidators_included(self) -> None:
        s = self.run(390)
        paid = {t.source: t.amount_quote for t in s.transfers if t.reason.value == "socialized loss"}
        assert paid == {"alice": 90, "carol": 990, "liquidity": 900}  # Δ = 9 a lot over 220 lots
        assert [o for o in s.outcomes if isinstance(o, LayerUsed)] == [
            LayerUsed("bob", 0, "insurance_fund", 220, True),
            LayerUsed("bob", 1, "fee_pool", 0, True),
            LayerUsed("bob", 2, "socialized_loss", 1_980, True),
        ]

    def test_without_the_liquidator_the_traders_pay_its_share(self) -> None:
        # the old weighting: the book only for the lots it held (none), Δ = 1,980 / 120 = 16.5
        s = self.run(390, liquidator_pays=False)
        paid = {
            t.source: t.amount_quote for t in s.transfers if t.destination == "bob" and t.source != "insurance_fund"
        }
        assert paid == {"alice": 165, "carol": 1_815}

    def test_a_payer_left_at_zero_is_not_bankrupt(self) -> None:
        s = self.run(390)
        assert _cash(s.after) == {"alice": 0, "carol": 4_310, "liquidity": -700, "insurance_fund": 1}
        assert s.after.account("alice").size_lots == -10
        assert [o.account for o in s.outcomes if isinstance(o, Liquidated)] == ["bob"]

    def test_one_quantum_less_and_the_payer_is_bankrupt_in_turn(self) -> None:
        s = self.run(389)
        assert [o for o in s.outcomes if isinstance(o, (Liquidated, Bankrupt))][2:] == [
            Liquidated("alice", -1, 65, -10, 132),
            Bankrupt("alice", 21),
        ]
        assert [o for o in s.outcomes if isinstance(o, LayerUsed) and o.account == "alice"] == [
            LayerUsed("alice", 0, "insurance_fund", 0, True),
            LayerUsed("alice", 1, "fee_pool", 0, True),
            LayerUsed("alice", 2, "socialized_loss", 21, True),
        ]
        assert _cash(s.after) == {"carol": 4_299, "liquidity": -691, "insurance_fund": 2}  # its floor and the dust
        assert s.after.account("alice").size_lots == 0
        assert all(a.cash_quote >= 0 for a in s.after.traders)

    def test_without_the_cascade_the_payer_stays_below_zero(self) -> None:
        # what the engine did before issue 15: alice was behind bob in no queue, the sweep had passed her
        s = self.run(389, cascade=False)
        assert s.after.account("alice").cash_quote == -1

    def test_the_z3_story_of_solvent_check_drift(self) -> None:
        """The one-step story z3 found (issue 15): alice (41 after the move, maintenance 23) was
        charged 42 of bob's 98 (3 of the 7 lots the book and she held) and left at −1. With the
        liquidator's lot counted the share is 3 of 8. The fund holds 1, Drift's floor
        (``IF_vault_balance − 1``): it pays nothing and the fee pool's 1 leaves 99 to socialize, so
        alice keeps 3 (4 when the fund paid its last quantum, before the preset set the floor)."""
        book = _evolve(
            new_book(mark_quote=1, traders=("alice", "bob")),
            alice={"cash_quote": 497, "size_lots": -3, "cost_quote": -3},
            bob={"cash_quote": 53, "spot_quote": 1, "size_lots": -1, "cost_quote": -1},
            liquidity={"size_lots": 4, "cost_quote": 4},
            insurance_fund={"cash_quote": 1},
            fee_account={"cash_quote": 1},
        )
        s = step(load_preset("drift"), book, MarkPrice(153))
        # bob's 99 over alice 3, the book 4 and the liquidator 1 (bob's lot): ⌈99 × 3/8⌉ = 38
        assert [(t.source, t.amount_quote) for t in s.transfers if t.destination == "bob"][-2:] == [
            ("alice", 38),
            ("liquidity", 62),
        ]
        assert [o.account for o in s.outcomes if isinstance(o, Liquidated)] == ["bob"]
        assert _cash(s.after)["alice"] == 3

    @staticmethod
    def two_in_turn():
        """The mark 100 → 60 on three longs (alice 1 lot on 48, bob 12 on 247, carol 11 on 387; the
        book short 24, the fund 9). bob is bankrupt in his turn (245); his loss, spread over every
        open lot, charges alice 5 (her 8 left after the move: 3) and carol 55. carol, below zero
        since the move (−53), is the first trader below zero and resolved in turn; her loss charges
        alice 5 more, −2: the book read again, alice is resolved after her, in the same cascade."""
        book = _evolve(
            new_book(mark_quote=100, traders=("alice", "bob", "carol")),
            alice={"cash_quote": 48, "principal_quote": 48, "size_lots": 1, "cost_quote": 100},
            bob={"cash_quote": 247, "principal_quote": 247, "size_lots": 12, "cost_quote": 1_200},
            carol={"cash_quote": 387, "principal_quote": 387, "size_lots": 11, "cost_quote": 1_100},
            liquidity={"size_lots": -24, "cost_quote": -2_400},
            insurance_fund={"cash_quote": 9},
        )
        return step(_drift(), book, MarkPrice(60))

    def test_a_cascade_resolves_the_next_trader_it_sinks(self) -> None:
        s = self.two_in_turn()
        assert [o for o in s.outcomes if isinstance(o, Bankrupt)] == [
            Bankrupt("bob", 245),
            Bankrupt("carol", 119),
            Bankrupt("alice", 3),
        ]
        assert [(t.source, t.amount_quote) for t in s.transfers if t.destination in ("bob", "carol")][-6:] == [
            ("alice", 5),
            ("carol", 55),
            ("liquidity", 178),
            ("insurance_fund", 1),
            ("alice", 5),
            ("liquidity", 114),
        ]
        assert [a.size_lots for a in s.after.traders] == [0, 0, 0]

    def test_every_mutant_of_the_cascade_is_caught(self, monkeypatch) -> None:
        def observe():
            runs = (self.run(390), self.run(389), self.run(389, cascade=False), self.two_in_turn())
            return [(_cash(s.after), s.outcomes) for s in runs]

        assert_every_mutant_is_caught(monkeypatch, bankruptcy, "_cascade", observe, at_least=5)
        # the loop's test, its own function since session 21 (the prover's lemmas read it: solver.cascade_invariant)
        assert_every_mutant_is_caught(monkeypatch, bankruptcy, "sunk", observe, at_least=3)

    def test_every_mutant_of_the_liquidators_share_is_caught(self, monkeypatch) -> None:
        def observe():
            return [_cash(s.after) for s in (self.run(390), self.run(390, liquidator_pays=False))]

        assert_every_mutant_is_caught(
            monkeypatch, socialized_loss, "socialize", observe, at_least=4, importers=(bankruptcy,)
        )

    def test_the_liquidators_share_needs_per_lot_weights(self) -> None:
        with pytest.raises(ValueError, match="'liquidator_pays' needs over = 'open_interest'"):
            SocializedLoss(liquidator_pays=True)


# --- Mango v4: the socialized loss (docs/venues.md#mango-v4-bankruptcy) ---------------------------


def _mango(cascade: bool = True, liquidator_pays: bool = True):
    policy = load_preset("mango-v4")
    layers = tuple(
        attrs.evolve(layer, cascade=cascade, liquidator_pays=liquidator_pays)
        if isinstance(layer, SocializedLoss)
        else layer
        for layer in policy.deficit
    )
    return attrs.evolve(policy, deficit=layers)


class TestMangoSocializedLoss:
    """The worked example, on the preset (init liab weight 1.1, maint 1.05: 10% / 5%; the
    liquidator takes the base at the oracle worsened by its 1% fee; the group insurance vault, then
    ``socialize_loss``). Mark 100: alice long 10 on her cash, bob long 90 on 900 (10x), carol short
    100 on 5,000; the vault holds 100. The oracle falls to 80 (−20%): bob pays 1,800 and is taken
    over at 79 (⌈0.8⌉ = 1 a lot), a deficit of 900 + 90 = 990. The vault pays its 100 and is
    exhausted (``insurance_transfer == insurance_vault_amount``), so 890 is socialized per lot of
    ``open_interest``, which counts longs and shorts and the liquidator's lots (bob's 90, taken
    over before the bankruptcy may run): 890 / (carol 100 + alice 10 + liquidator 90) = 4.45 a lot,
    each share rounded up (``rounding.pro_rata``): alice 45, carol 445, the liquidator 401, the
    dust of 1 to the vault.

    alice is at cash − 200 after the move, at or above her maintenance (5% × 800 = 40) from 240
    on, so the sweep leaves her; the charge of 45 decides. From 245 she ends at zero or above; at
    244 ``settle_funding`` leaves her at −1: her health is negative, her base is taken at 79 and
    her deficit is 1 + 10 = 11. The vault (the dust of 1) pays 1, then 10 is socialized over carol's
    100 lots and the liquidator's 100 (bob's 90 and her 10): 5 each.
    """

    def book(self, alice_cash: int) -> Book:
        return _evolve(
            new_book(mark_quote=100, traders=("alice", "bob", "carol")),
            alice={"cash_quote": alice_cash, "principal_quote": alice_cash, "size_lots": 10, "cost_quote": 1_000},
            bob={"cash_quote": 900, "principal_quote": 900, "size_lots": 90, "cost_quote": 9_000},
            carol={"cash_quote": 5_000, "principal_quote": 5_000, "size_lots": -100, "cost_quote": -10_000},
            insurance_fund={"cash_quote": 100},
        )

    def run(self, alice_cash: int, **fields):
        return step(_mango(**fields), self.book(alice_cash), MarkPrice(80))

    @staticmethod
    def socialized(s, bankrupt: str) -> dict[str, int]:
        return {
            t.source: t.amount_quote
            for t in s.transfers
            if t.reason is Reason.SOCIALIZED_LOSS and t.destination == bankrupt
        }

    def test_the_preset_declares_both_rules(self) -> None:
        (layer,) = [layer for layer in load_preset("mango-v4").deficit if isinstance(layer, SocializedLoss)]
        assert (layer.liquidator_pays, layer.cascade) == (True, True)

    def test_the_loss_is_spread_per_lot_of_open_interest_the_liquidators_included(self) -> None:
        s = self.run(245)
        assert self.socialized(s, "bob") == {"alice": 45, "carol": 445, "liquidity": 401}
        assert [o for o in s.outcomes if isinstance(o, LayerUsed)] == [
            LayerUsed("bob", 0, "insurance_fund", 100, True),
            LayerUsed("bob", 1, "socialized_loss", 890, True),
        ]
        assert _cash(s.after) == {"alice": 0, "carol": 6_555, "liquidity": -311, "insurance_fund": 1}
        assert [o.account for o in s.outcomes if isinstance(o, Liquidated)] == ["bob"]

    def test_one_quantum_less_and_the_payer_is_resolved_in_turn(self) -> None:
        s = self.run(244)
        assert [o for o in s.outcomes if isinstance(o, (Liquidated, Bankrupt))][2:] == [
            Liquidated("alice", -1, 40, 10, 79),
            Bankrupt("alice", 11),
        ]
        assert [o for o in s.outcomes if isinstance(o, LayerUsed) and o.account == "alice"] == [
            LayerUsed("alice", 0, "insurance_fund", 1, True),
            LayerUsed("alice", 1, "socialized_loss", 10, True),
        ]
        assert self.socialized(s, "alice") == {"carol": 5, "liquidity": 5}
        assert _cash(s.after) == {"carol": 6_550, "liquidity": -306}
        assert all(a.cash_quote >= 0 for a in s.after.traders)

    def test_without_the_cascade_the_payer_stays_below_zero(self) -> None:
        assert self.run(244, cascade=False).after.account("alice").cash_quote == -1

    def test_without_the_liquidator_the_traders_pay_its_share(self) -> None:
        # 890 over carol's 100 and alice's 10 only: 8.09 a lot
        s = self.run(245, liquidator_pays=False)
        assert self.socialized(s, "bob") == {"alice": 81, "carol": 810}

    def test_the_z3_story_of_solvent_check_mango_v4(self) -> None:
        """The one-step story z3 found on the preset (issue 15): bob short 3 on 2 is gapped from 3 to
        102 and taken over at 104, a deficit of 301; the vault pays its 2, and 299 is socialized.
        Over alice's 2 lots and the maker's 1 alone alice paid 200 of her 199 and was left at −1;
        over Mango's open interest, the liquidator's 3 lots included, she pays ⌈299 × 2/6⌉ = 100."""
        book = _evolve(
            new_book(mark_quote=3, traders=("alice", "bob", "maker")),
            alice={"cash_quote": 1, "principal_quote": 1, "size_lots": 2, "cost_quote": 6},
            bob={"cash_quote": 2, "principal_quote": 2, "size_lots": -3, "cost_quote": -9},
            maker={"cash_quote": 4, "principal_quote": 4, "size_lots": 1, "cost_quote": 3},
            insurance_fund={"cash_quote": 2},
        )
        before = step(_mango(cascade=False, liquidator_pays=False), book, MarkPrice(102))
        assert self.socialized(before, "bob") == {"alice": 200, "maker": 100}
        assert before.after.account("alice").cash_quote == -1
        s = step(load_preset("mango-v4"), book, MarkPrice(102))
        assert self.socialized(s, "bob") == {"alice": 100, "maker": 50, "liquidity": 150}
        assert _cash(s.after) == {"alice": 99, "maker": 53, "liquidity": -144, "insurance_fund": 1}

    @staticmethod
    def two_in_turn():
        """The mark 100 → 60 on three longs (alice 4 lots on 201, bob 13 on 212, carol 11 on 329; the
        book short 28, the fund 48). bob is bankrupt in his turn (321): the fund pays its 48 and the
        rest charges alice 20 (41 after the move: 21) and carol 54; carol, below zero since the move,
        is resolved first, and her loss charges alice 24: −3, resolved after her in the same cascade."""
        book = _evolve(
            new_book(mark_quote=100, traders=("alice", "bob", "carol")),
            alice={"cash_quote": 201, "principal_quote": 201, "size_lots": 4, "cost_quote": 400},
            bob={"cash_quote": 212, "principal_quote": 212, "size_lots": 13, "cost_quote": 1_300},
            carol={"cash_quote": 329, "principal_quote": 329, "size_lots": 11, "cost_quote": 1_100},
            liquidity={"size_lots": -28, "cost_quote": -2_800},
            insurance_fund={"cash_quote": 48},
        )
        return step(_mango(), book, MarkPrice(60))

    def test_a_cascade_resolves_the_next_trader_it_sinks(self) -> None:
        s = self.two_in_turn()
        assert [o for o in s.outcomes if isinstance(o, Bankrupt)] == [
            Bankrupt("bob", 321),
            Bankrupt("carol", 176),
            Bankrupt("alice", 7),
        ]
        assert [t.amount_quote for t in s.transfers if t.source == "alice" and t.reason.value == "socialized loss"] == [
            20,
            24,
        ]
        assert _cash(s.after) == {"liquidity": 790}

    def test_every_mutant_of_the_rules_is_caught_on_mangos_example(self, monkeypatch) -> None:
        def observe():
            runs = (
                self.run(245),
                self.run(244),
                self.run(244, cascade=False),
                self.run(245, liquidator_pays=False),
                self.two_in_turn(),
            )
            return [(_cash(s.after), s.outcomes) for s in runs]

        assert_every_mutant_is_caught(monkeypatch, bankruptcy, "_cascade", observe, at_least=5)
        # the loop's test, its own function since session 21 (the prover's lemmas read it: solver.cascade_invariant)
        assert_every_mutant_is_caught(monkeypatch, bankruptcy, "sunk", observe, at_least=3)
        assert_every_mutant_is_caught(
            monkeypatch, socialized_loss, "socialize", observe, at_least=4, importers=(bankruptcy,)
        )


# --- dYdX v4: the insurance fund's all-or-nothing gate (docs/venues.md#dydx-v4-insurance-fund) -----


def _dydx(all_or_nothing: bool = True):
    policy = load_preset("dydx-v4")
    layers = tuple(
        attrs.evolve(layer, all_or_nothing=all_or_nothing) if isinstance(layer, InsuranceFund) else layer
        for layer in policy.deficit
    )
    return attrs.evolve(policy, deficit=layers)


class TestDydxInsuranceFundGate:
    """The worked example, on the preset (Large-Cap: IMF 5%, MMF 3%; fills at the oracle): alice is
    long 10 at 1,000 on 500 (20x, the initial margin), bob short 10 on 1,000. The oracle gaps to
    940: alice pays 600 and is at −100, her deficit (TNC −100, liquidatable: TMMR 282). The
    liquidation's insurance-fund delta is −100 (quote received 9,400 against a bankruptcy quote of
    9,500, GetLiquidationInsuranceFundDelta). IsValidInsuranceFundDelta: balance − 100 ≥ 0.

    - fund 100: valid; the fill is matched at the oracle, the fund pays 100 and ends at 0.
    - fund 99: invalid by one quantum; no fill, the fund keeps its 99 and alice (TNC < 0) is
      deleveraged: bob takes her 10 lots at her bankruptcy price 950 (9,500 / 10), 10 a lot worse
      than the oracle, 100 in all.
    """

    def run(self, fund: int, **fields):
        book = _evolve(
            new_book(mark_quote=1_000, traders=("alice", "bob")),
            alice={"cash_quote": 500, "principal_quote": 500, "size_lots": 10, "cost_quote": 10_000},
            bob={"cash_quote": 1_000, "principal_quote": 1_000, "size_lots": -10, "cost_quote": -10_000},
            insurance_fund={"cash_quote": fund},
        )
        return step(_dydx(**fields), book, MarkPrice(940))

    def test_a_fund_equal_to_the_loss_covers_it(self) -> None:
        s = self.run(100)
        assert [o for o in s.outcomes if isinstance(o, LayerUsed)] == [
            LayerUsed("alice", 0, "insurance_fund", 100, True)
        ]
        assert not [o for o in s.outcomes if isinstance(o, AdlFill)]
        assert _cash(s.after) == {"bob": 1_600, "liquidity": 0}
        assert (s.after.account("bob").size_lots, s.after.account("liquidity").size_lots) == (-10, 10)

    def test_one_quantum_less_and_it_pays_nothing(self) -> None:
        s = self.run(99)
        assert [o for o in s.outcomes if isinstance(o, LayerUsed)] == [
            LayerUsed("alice", 0, "insurance_fund", 0, False),  # declined, and still holds 99
            LayerUsed("alice", 1, "adl", 100, True),
        ]
        (fill,) = [o for o in s.outcomes if isinstance(o, AdlFill)]
        assert (fill.winner, fill.lots, fill.gap_per_lot_quote) == ("bob", 10, 10)  # at 950
        assert _cash(s.after) == {"bob": 1_500, "insurance_fund": 99}
        assert s.after.account("bob").size_lots == 0

    def test_a_fund_left_with_money_is_not_exhausted(self) -> None:
        s = self.run(101)
        assert [o for o in s.outcomes if isinstance(o, LayerUsed)] == [
            LayerUsed("alice", 0, "insurance_fund", 100, False)
        ]

    def test_without_the_gate_the_fund_pays_what_it_can(self) -> None:
        # the rule before issue 15: the fund pays 99 and deleveraging 1 (⌈1/10⌉ a lot, dust 9)
        s = self.run(99, all_or_nothing=False)
        assert [(o.layer, o.covered_quote) for o in s.outcomes if isinstance(o, LayerUsed)] == [
            ("insurance_fund", 99),
            ("adl", 1),
        ]

    def test_the_gate_respects_a_cap(self) -> None:
        # a capped all-or-nothing fund declines a deficit above its cap, whatever its balance
        book = _evolve(new_book(mark_quote=100), alice={"cash_quote": -100}, insurance_fund={"cash_quote": 1_000})
        for cap, paid in ((100, 100), (99, 0)):
            ctx = Ctx(book)
            _, pay, exhausted = insurance_fund.pay_from(
                ctx, Role.INSURANCE_FUND, "alice", 100, Reason.INSURANCE_FUND, cap, all_or_nothing=True
            )
            assert (pay, exhausted) == (paid, False)  # 900 or 1,000 left

    def test_every_mutant_of_the_gate_is_caught(self, monkeypatch) -> None:
        def observe():
            runs = (
                self.run(101),
                self.run(100),
                self.run(99),
                self.run(99, all_or_nothing=False),
                self.run(100, all_or_nothing=False),
                self.run(101, all_or_nothing=False),
            )
            # the fee pool and the vault pay the same way, never all or nothing
            book = _evolve(new_book(mark_quote=100), alice={"cash_quote": -100}, fee_account={"cash_quote": 99})
            pool = insurance_fund.pay_from(Ctx(book), Role.FEE_ACCOUNT, "alice", 100, Reason.FEE_POOL)[1:]
            # a fund with a floor (percolator's I_floor) pays only what it holds above it
            book = _evolve(new_book(mark_quote=100), alice={"cash_quote": -100}, insurance_fund={"cash_quote": 130})
            floored = insurance_fund.pay_from(
                Ctx(book), Role.INSURANCE_FUND, "alice", 100, Reason.INSURANCE_FUND, floor=40
            )
            return [(_cash(s.after), s.outcomes) for s in runs], pool, floored[1:]

        assert_every_mutant_is_caught(
            monkeypatch, insurance_fund, "pay_from", observe, at_least=6, importers=(bankruptcy,)
        )


# --- Bybit: maintenance margin on the entry value (docs/venues.md#bybit-liquidation) --------------


def _bybit(basis: str = "entry"):
    policy = load_preset("bybit")
    return attrs.evolve(policy, margin=attrs.evolve(policy.margin, maintenance_basis=MaintenanceBasis(basis)))


class TestBybitMaintenanceOnEntryValue:
    """Bybit's "Liquidation Price (USDT Contract)", Example 1: Trader A buys 1 BTC at 20,000 USDT
    at 50x, MMR 0.5%, no extra margin: IM = 400, MM = 1 × 20,000 × 0.5% = 100,
    LP = 20,000 − (400 − 100) = 19,700 USDT. On the preset (0.01 USDT quanta, 0.001 BTC lots):
    1,000 lots at 2,000 quanta, 40,000 quanta of margin, MM 10,000. The position is closed at its
    bankruptcy price, 20,000 × (1 − 1/50) = 19,600 ("Bankruptcy Price (USDT Contract)") moved by
    the fee to close it at the preset's 0.055% taker fee: of the 100 USDT left, 10.79 is that fee
    (0.055% × 1 BTC × 19,610.79, rounded up) and 89.21 the fund's. The mirror image (a short at
    20,000, LP 20,300) as well.

    At the mark the maintenance would be 19,700 × 0.5% = 98.5 at Bybit's price, so a mark basis
    keeps the account at 19,700 and liquidates it a tick lower (LP 19,698.49 = 19,600 / 0.995)."""

    def run(self, mark: int, side: int = 1, basis: str = "entry"):
        book = _evolve(
            new_book(mark_quote=2_000, traders=("alice", "bob")),
            alice={
                "cash_quote": 40_000,
                "principal_quote": 40_000,
                "size_lots": side * 1_000,
                "cost_quote": side * 2_000_000,
            },
            bob={
                "cash_quote": 10**6,
                "principal_quote": 10**6,
                "size_lots": -side * 1_000,
                "cost_quote": -side * 2_000_000,
            },
        )
        return step(_bybit(basis), book, MarkPrice(mark))

    @staticmethod
    def liquidated(s) -> list:
        return [(o.equity_quote, o.maintenance_quote) for o in s.outcomes if isinstance(o, Liquidated)]

    def test_the_long_is_liquidated_at_bybits_price(self) -> None:
        s = self.run(1_970)
        assert self.liquidated(s) == [(10_000, 10_000)]  # equity 100 USDT = MM 100 USDT: "reaches 100%"
        assert [(t.source, t.destination, t.amount_quote) for t in s.transfers][-1:] == [
            ("alice", "insurance_fund", 8_921)
        ]  # closed at the bankruptcy price with the fee to close (10.79): the position margin is lost
        assert self.liquidated(self.run(1_971)) == []  # one tick above: 110 USDT > 100

    def test_the_short_is_liquidated_at_bybits_price(self) -> None:
        assert self.liquidated(self.run(2_030, side=-1)) == [(10_000, 10_000)]  # LP 20,300
        assert self.liquidated(self.run(2_029, side=-1)) == []

    def test_at_the_mark_the_maintenance_falls_with_the_price(self) -> None:
        assert self.liquidated(self.run(1_970, basis="mark")) == []  # MM 9,850 < equity 10,000
        assert self.liquidated(self.run(1_969, basis="mark")) == [(9_000, 9_845)]
        assert self.liquidated(self.run(2_030, side=-1, basis="mark")) == [(10_000, 10_150)]

    def test_the_preset_declares_it(self) -> None:
        assert load_preset("bybit").margin.maintenance_basis is MaintenanceBasis.ENTRY
        assert load_preset("binance").margin.maintenance_basis is MaintenanceBasis.MARK

    def test_every_mutant_of_the_basis_is_caught(self, monkeypatch) -> None:
        def observe():
            cases = [(1_970, 1, "entry"), (1_971, 1, "entry"), (1_970, 1, "mark"), (2_030, -1, "entry")]
            return [self.liquidated(self.run(m, side, basis)) for m, side, basis in cases]

        # the basis is chosen per position (``_maintenance_of``), for one market and for many
        assert_every_mutant_is_caught(monkeypatch, margin, "_maintenance_of", observe, at_least=1)


# --- BitMEX: risk-limit steps for the whole position (docs/venues.md#bitmex-margin) ---------------


def _bitmex(steps: bool = True):
    """The preset, or (``steps=False``) its tiers as continuous brackets, the preset before issue 15
    (maintenance amounts 1, 2.75 and 5.25 XBT keeping MM continuous at 200, 350 and 500 XBT)."""
    policy = load_preset("bitmex")
    if steps:
        return policy
    amounts = (0, 100_000_000, 275_000_000, 525_000_000)
    tiers = tuple(
        attrs.evolve(t, maintenance_amount_quote=a) for t, a in zip(policy.margin.tiers, amounts, strict=True)
    )
    return attrs.evolve(policy, margin=margin.MarginRule(tiers))


class TestBitmexRiskLimitSteps:
    """bitmex.com/app/riskLimitsExamples, XBTUSD: base MM 0.50%, base IM 1.00%, base risk limit 200
    XBT, step 150 XBT; "< 200 XBT 0.50% / 1.00%, < 350 XBT 1.00% / 1.50%". Its trade example: a
    position worth 180 XBT needs 0.50% (0.90 XBT); raised to 230 XBT it is "1 step above the Base
    Risk Limit" and needs 1.00%, of the whole position: 2.30 XBT. As brackets continuous at 200
    XBT (the preset before) it needed 230 × 1% − 1 = 1.30 XBT.

    On the preset (XBt; XBTUSD at $10,000, where one USD 1 contract is worth 10,000 XBt): alice is
    long n contracts (in the engine's lot values, short n lots at 10,000, rules/contract.py) and the
    Fair Price is marked again at $10,000; she is liquidated below maintenance. At the step
    boundary: 1,999,999 contracts (199.9999 XBT) need 0.5%, 99,999,950 XBt; exactly 2,000,000 (200
    XBT, not "< 200 XBT") need 1.0% of the whole, 200,000,000; one more, 200,000,100. An equity of
    1.5 XBT survives below the step and is liquidated at it and above.
    """

    def run(self, contracts: int, equity: int, steps: bool = True):
        book = _evolve(
            new_book(mark_quote=10_000, traders=("alice", "bob")),
            alice={"cash_quote": equity, "principal_quote": equity, "size_lots": -contracts,
                   "cost_quote": -contracts * 10_000},
            bob={"cash_quote": 10**12, "principal_quote": 10**12, "size_lots": contracts,
                 "cost_quote": contracts * 10_000},
        )  # fmt: skip
        return step(_bitmex(steps), book, MarkPrice(10_000))

    def liquidated(self, contracts: int, equity: int, steps: bool = True) -> list:
        s = self.run(contracts, equity, steps)
        return [(o.equity_quote, o.maintenance_quote) for o in s.outcomes if isinstance(o, Liquidated)]

    def test_bitmexs_trade_example(self) -> None:
        assert self.liquidated(1_800_000, 89_999_999) == [(89_999_999, 90_000_000)]  # 0.50% of 180 XBT
        assert self.liquidated(1_800_000, 90_000_000) == []
        assert self.liquidated(2_300_000, 229_999_999) == [(229_999_999, 230_000_000)]  # 1.00% of 230 XBT
        assert self.liquidated(2_300_000, 230_000_000) == []

    def test_as_continuous_brackets_the_step_was_lost(self) -> None:
        assert self.liquidated(2_300_000, 130_000_000, steps=False) == []
        assert self.liquidated(2_300_000, 129_999_999, steps=False) == [(129_999_999, 130_000_000)]

    def test_at_the_step_boundary(self) -> None:
        assert self.liquidated(1_999_999, 150_000_000) == []  # MM 99,999,950
        assert self.liquidated(2_000_000, 150_000_000) == [(150_000_000, 200_000_000)]
        assert self.liquidated(2_000_001, 150_000_000) == [(150_000_000, 200_000_100)]
        assert self.liquidated(2_000_000, 150_000_000, steps=False) == []  # MM 100,000,000
        # the takeover: the remaining margin goes to the insurance fund (§2)
        assert _cash(self.run(2_000_000, 150_000_000).after).get("alice", 0) == 0

    def test_initial_margin_steps_too(self) -> None:
        rule, rounding = _bitmex().margin, _bitmex().rounding
        assert margin.initial_margin(rule, rounding, 1_800_000, 10_000) == 180_000_000  # 1.00% of 180 XBT
        assert margin.initial_margin(rule, rounding, 2_300_000, 10_000) == 345_000_000  # 1.50% of 230 XBT

    def test_the_preset_declares_it(self) -> None:
        assert load_preset("bitmex").margin.risk_limit_steps is True
        assert all(t.maintenance_amount_quote == 0 for t in load_preset("bitmex").margin.tiers)
        assert load_preset("binance").margin.risk_limit_steps is False

    def test_a_hidden_jump_stays_an_error(self) -> None:
        jump = (margin.Tier(0, 10_000, 5_000), margin.Tier(200, 15_000, 10_000))
        with pytest.raises(ValueError, match="must be 1 to keep maintenance continuous at 200"):
            margin.MarginRule(jump)
        assert margin.MarginRule(jump, risk_limit_steps=True).risk_limit_steps
        amount = (margin.Tier(0, 10_000, 5_000), margin.Tier(200, 15_000, 10_000, 1))
        with pytest.raises(ValueError, match=r"must be 0 when risk_limit_steps = true .* @ tiers\[1\]"):
            margin.MarginRule(amount, risk_limit_steps=True)

    def test_every_mutant_of_the_step_is_caught(self, monkeypatch) -> None:
        from types import SimpleNamespace

        tables = (
            (margin.Tier(0, 10_000, 5_000), margin.Tier(200, 15_000, 10_000)),
            (margin.Tier(0, 10_000, 5_000), margin.Tier(200, 15_000, 10_000, 1)),
            (margin.Tier(0, 10_000, 5_000), margin.Tier(200, 15_000, 10_000, 2)),
        )

        def observe():
            verdicts = []
            for tiers in tables:
                for steps in (False, True):
                    inst = SimpleNamespace(risk_limit_steps=steps, tiers=tiers)
                    for check, value in ((margin._check_tiers, tiers), (margin._check_steps, steps)):
                        try:
                            check(inst, attrs.fields(margin.MarginRule).tiers, value)
                            verdicts.append("ok")
                        except (ValueError, TypeError) as e:
                            verdicts.append(str(e))
            cases = [(1_999_999, 150_000_000), (2_000_000, 150_000_000), (2_000_001, 150_000_000)]
            return verdicts, [self.liquidated(c, e) for c, e in cases]

        assert_every_mutant_is_caught(monkeypatch, margin, "_check_steps", observe, at_least=2)
        assert_every_mutant_is_caught(monkeypatch, margin, "_tier_field", observe, at_least=1)


# --- Hyperliquid: partial liquidation of large positions (docs/venues.md#hyperliquid-liquidation) -


class TestHyperliquidPartialLiquidation:
    """hyperliquid-docs/trading/liquidations: "For liquidatable positions larger than 100k USDC ...,
    only 20% of the position will be sent as a market liquidation order to the book"; "when
    account equity drops below 2/3 of the maintenance margin" the backstop (the liquidator vault)
    takes over. On the preset (BTC tier 1: IM 2.5%, MM 1.25%; 0.01 USDC quanta, 0.00001 BTC lots):
    BTC at 100,000 USDC is 100 quanta a lot, alice is long L lots on her equity E, and the mark is
    published again at 100 (fills at the mark: the preset's slippage is 0).

    - L = 100,000 (exactly 100k USDC, not larger), E = 1,100 USDC: MM 1,250 USDC; one order for
      the whole position.
    - L = 100,001 (one lot above), E = 1,100: MM ⌈1,250.0125⌉ USDC; the order is ⌈20% × 100,001⌉ =
      20,001 lots; on the 80,000 left MM is 1,000 USDC ≤ 1,100, so she keeps them.
    - L = 100,001, E = 900: still below after 20% (1,000 > 900); the rest waits for the next event,
      when 80,000 lots (80k USDC, not above the threshold) go in one order.
    - E = 833.35 USDC is at 2/3 of MM (833.3467) and above, a market order; 833.34 is below, and
      the backstop vault takes the whole position and the margin.
    """

    def book(self, lots: int, equity: int) -> Book:
        return _evolve(
            new_book(mark_quote=100, traders=("alice", "bob")),
            alice={"cash_quote": equity, "principal_quote": equity, "size_lots": lots, "cost_quote": lots * 100},
            bob={"cash_quote": 10**9, "principal_quote": 10**9, "size_lots": -lots, "cost_quote": -lots * 100},
        )

    def run(self, lots: int, equity: int, policy=None):
        return step(policy or load_preset("hyperliquid"), self.book(lots, equity), MarkPrice(100))

    @staticmethod
    def held(s) -> dict[str, int]:
        return {a.name: a.size_lots for a in s.after.accounts if a.size_lots and a.name != "bob"}

    def test_at_the_threshold_the_order_is_the_whole_position(self) -> None:
        s = self.run(100_000, 110_000)
        assert [o for o in s.outcomes if isinstance(o, Liquidated)] == [
            Liquidated("alice", 110_000, 125_000, 100_000, 100)
        ]
        assert self.held(s) == {"liquidity": 100_000}
        assert s.after.account("alice").cash_quote == 110_000  # the trader keeps the collateral

    def test_one_lot_above_the_order_is_a_fifth(self) -> None:
        s = self.run(100_001, 110_000)
        assert [o for o in s.outcomes if isinstance(o, Liquidated)] == [
            Liquidated("alice", 110_000, 125_002, 100_001, 100)
        ]
        assert self.held(s) == {"alice": 80_000, "liquidity": 20_001}
        assert [o for o in step(load_preset("hyperliquid"), s.after, MarkPrice(100)).outcomes] == []

    def test_still_below_maintenance_the_rest_waits_for_the_next_event(self) -> None:
        s = self.run(100_001, 90_000)
        assert self.held(s) == {"alice": 80_000, "liquidity": 20_001}
        after = step(load_preset("hyperliquid"), s.after, MarkPrice(100))
        assert [o for o in after.outcomes if isinstance(o, Liquidated)] == [
            Liquidated("alice", 90_000, 100_000, 80_000, 100)
        ]
        assert self.held(after) == {"liquidity": 100_001}
        assert after.after.account("alice").cash_quote == 90_000

    def test_below_two_thirds_of_maintenance_the_backstop_takes_it_all(self) -> None:
        assert self.held(self.run(100_001, 83_335)) == {"alice": 80_000, "liquidity": 20_001}
        s = self.run(100_001, 83_334)
        assert self.held(s) == {"backstop_vault": 100_001}
        assert _cash(s.after) == {"backstop_vault": 83_334, "bob": 10**9}

    def test_without_the_rule_the_whole_position_goes_at_once(self) -> None:
        policy = load_preset("hyperliquid")
        whole = attrs.evolve(
            policy,
            liquidation=attrs.evolve(
                policy.liquidation, partial_above_notional_quote=None, partial_share_ppm=1_000_000
            ),
        )
        assert self.held(self.run(100_001, 90_000, whole)) == {"liquidity": 100_001}

    def test_the_preset_declares_it(self) -> None:
        rule = load_preset("hyperliquid").liquidation
        assert (rule.partial_above_notional_quote, rule.partial_share_ppm) == (10_000_000, 200_000)
        assert load_preset("binance").liquidation.partial_above_notional_quote is None

    def test_the_fields_go_together(self) -> None:
        from solvent.rules.liquidation import Execution, LiquidationRule

        with pytest.raises(ValueError, match="'partial_share_ppm' needs partial_above_notional_quote"):
            LiquidationRule(partial_share_ppm=200_000)
        with pytest.raises(ValueError, match="'partial_share_ppm' must be < 1000000"):
            LiquidationRule(partial_above_notional_quote=1)
        with pytest.raises(ValueError, match="'partial_close_ppm' must be 1000000 with partial_above"):
            LiquidationRule(partial_above_notional_quote=1, partial_share_ppm=1, partial_close_ppm=500_000)
        with pytest.raises(ValueError, match="needs execution = 'market'"):
            LiquidationRule(execution=Execution.TAKEOVER, partial_above_notional_quote=1, partial_share_ppm=1)

    def test_every_mutant_of_the_order_is_caught(self, monkeypatch) -> None:
        import solvent.rules.engine as engine
        import solvent.rules.liquidation as liquidation

        def observe():
            cases = [(100_000, 110_000), (100_001, 110_000), (100_001, 90_000), (4, 110_000)]
            return [(_cash(s.after), self.held(s)) for s in (self.run(*c) for c in cases)]

        assert_every_mutant_is_caught(monkeypatch, liquidation, "order_lots", observe, at_least=1, importers=(engine,))


# --- percolator: losses settle into capital (github.com/aeyakovenko/percolator) -------------------


def _percolator(settle: bool = True):
    """The ``percolator`` preset, with losses settling into capital or not (without, its profit
    vests at the window's end: the linear vesting needs capital that losses settle into)."""
    policy = load_preset("percolator")
    release = {} if settle else {"release": Release.WINDOW_END}
    layers = tuple(
        attrs.evolve(layer, losses_settle_capital=settle, **release) if isinstance(layer, HaircutRatio) else layer
        for layer in policy.deficit
    )
    return attrs.evolve(policy, deficit=layers)


class TestPercolatorCapital:
    """percolator's unit tests: capital 10,000 and a loss of 3,000 leave capital 7,000 and PnL 0
    ("Capital should be reduced by full loss amount"); capital 5,000 and a loss of 8,000 leave
    capital 0, the rest written off. On the preset (10% / 5%, liquidation at the oracle): alice
    long 100 lots at 100 on 10,000 (or 5,000), against bob; the mark falls to 70 (or 45)."""

    def book(self, alice_cash: int = 10_000, principal: int | None = None, **extra: dict) -> Book:
        accounts = {
            "alice": {"cash_quote": alice_cash, "principal_quote": alice_cash if principal is None else principal,
                      "size_lots": 100, "cost_quote": 10_000},
            "bob": {"cash_quote": 10**6, "principal_quote": 10**6, "size_lots": -100, "cost_quote": -10_000},
        }  # fmt: skip
        return _evolve(new_book(mark_quote=100, traders=("alice", "bob", "dave")), **{**accounts, **extra})

    def test_a_loss_settles_into_capital(self) -> None:
        s = step(_percolator(), self.book(), MarkPrice(70))
        alice = s.after.account("alice")
        assert (alice.cash_quote, alice.principal_quote) == (7_000, 7_000)  # capital 10,000 − 3,000
        assert s.after.account("bob").principal_quote == 10**6  # a gain is junior: capital unchanged

    def test_a_loss_beyond_capital_leaves_none(self) -> None:
        # capital 5,000, a loss of 5,500 at 45: bankrupt by 500, which the haircut takes from bob's
        # profit; alice ends with nothing and no capital
        s = step(_percolator(), self.book(alice_cash=5_000), MarkPrice(45))
        assert (s.after.account("alice").cash_quote, s.after.account("alice").principal_quote) == (0, 0)

    def test_without_it_capital_keeps_the_deposit(self) -> None:
        s = step(_percolator(settle=False), self.book(), MarkPrice(70))
        assert s.after.account("alice").principal_quote == 10_000

    def haircut_story(self, settle: bool):
        """alice lost 2,000 before: cash 8,000, and capital 8,000 if losses settle into it (10,000,
        her deposits, if not). dave is short 10 on 100 (10x). The mark rises to 111: dave's 100 −
        110 = −10, bankrupt by 10 (the fund is empty); alice gains 1,100, all of it junior PnL over
        her capital 8,000, and the haircut takes dave's 10 from it. Counted from her deposits she
        has no profit (9,100 < 10,000), nobody else has any, and the 10 stays on dave."""
        book = self.book(
            alice_cash=8_000,
            principal=8_000 if settle else 10_000,
            bob={"cash_quote": 10**6, "principal_quote": 10**6, "size_lots": -90, "cost_quote": -9_000},
            dave={"cash_quote": 100, "principal_quote": 100, "size_lots": -10, "cost_quote": -1_000},
        )
        return book, step(_percolator(settle), book, MarkPrice(111))

    def test_a_gain_after_a_loss_is_junior_profit_the_haircut_reaches(self) -> None:
        book, s = self.haircut_story(settle=True)
        assert reasons(_percolator(), book) == []
        paid = [(t.source, t.amount_quote) for t in s.transfers if t.reason.value == "profit haircut"]
        assert paid == [("alice", 10)]
        assert s.after.account("dave").cash_quote == 0
        assert s.after.account("alice").principal_quote == 8_000  # capital untouched by the haircut

    def test_counted_from_deposits_the_gain_is_not_profit(self) -> None:
        _, s = self.haircut_story(settle=False)
        assert [t for t in s.transfers if t.reason.value == "profit haircut"] == []
        assert s.after.account("dave").cash_quote == -10

    def book_that_loses(self) -> Book:
        return self.book(
            liquidity={"cash_quote": 1_000, "principal_quote": 1_000, "size_lots": 10, "cost_quote": 1_000},
            dave={"cash_quote": 10**5, "principal_quote": 10**5, "size_lots": -10, "cost_quote": -1_000},
        )

    def test_the_book_settles_its_losses_too(self) -> None:
        s = step(_percolator(), self.book_that_loses(), MarkPrice(70))
        book = s.after.account("liquidity")
        assert (book.cash_quote, book.principal_quote) == (700, 700)

    def test_every_mutant_of_the_settlement_is_caught(self, monkeypatch) -> None:
        import solvent.rules.engine as engine

        def observe():
            runs = [
                step(_percolator(), self.book(), MarkPrice(70)),
                step(_percolator(settle=False), self.book(), MarkPrice(70)),
                step(_percolator(), self.book(alice_cash=5_000), MarkPrice(45)),
                step(_percolator(), self.haircut_story(True)[0], MarkPrice(120)),
                step(_percolator(), self.book_that_loses(), MarkPrice(70)),
            ]
            # the slope too: Gen A's profit vests linearly (haircut_ratio.vest_linearly)
            return [
                [(a.name, a.cash_quote, a.principal_quote, a.reserve_slope_quote) for a in r.after.accounts]
                for r in runs
            ]

        assert_every_mutant_is_caught(
            monkeypatch, haircut_ratio, "settle_losses", observe, at_least=3, importers=(engine,)
        )

    def test_the_z3_story_is_no_longer_a_book_percolator_can_hold(self) -> None:
        """z3's story (issue 15): alice at cash 90,436,346,110 with principal 994,799,663,420 gains
        904,363,317,312 and has 'no profit'; percolator would have settled her loss into capital."""
        book = _evolve(
            new_book(mark_quote=2, traders=("alice", "bob")),
            alice={"cash_quote": 90_436_346_110, "principal_quote": 994_799_663_420, "size_lots": -14_378,
                   "cost_quote": -28_756},
            bob={"cash_quote": 6_289_912, "size_lots": 1, "cost_quote": 2},
            liquidity={"cash_quote": 904_614_870_575, "principal_quote": 314_452_367, "size_lots": 14_377,
                       "cost_quote": 28_754},
        )  # fmt: skip
        # (the book's junior profit without a slope is a second reason since Gen A vests linearly)
        assert "losses settled into capital (principal at most equity)" in [
            r.split(":")[0] for r in reasons(_percolator(), book)
        ]
        assert reasons(_percolator(settle=False), book) == []


# --- funding rounding as dYdX v4 states it (docs/venues.md#dydx-v4-funding-rounding) ------------


def test_dydx_funding_rounds_as_its_code_says() -> None:
    """v4-chain GetSettlementPpm: "accounts A, B are to receive 102.5 quote quantums; account C is to
    pay 205 quote quantums. After settlement, accounts A, B are credited 102 quote quantum each;
    account C is debited 205". On the preset: C long 2 lots, A and B short 1 each at 1,025, a funding
    payment of 10% (longs pay): 2 × 1,025 × 10% = 205, 102.5 each; the dust of 1 to the fee account,
    which stands for dYdX's collateral pool."""
    book = _evolve(
        new_book(mark_quote=1_025, traders=("a", "b", "c")),
        a={"cash_quote": 10_000, "principal_quote": 10_000, "size_lots": -1, "cost_quote": -1_025},
        b={"cash_quote": 10_000, "principal_quote": 10_000, "size_lots": -1, "cost_quote": -1_025},
        c={"cash_quote": 10_000, "principal_quote": 10_000, "size_lots": 2, "cost_quote": 2_050},
    )
    s = step(load_preset("dydx-v4"), book, Funding(100_000))
    assert [(t.source, t.destination, t.amount_quote) for t in s.transfers] == [
        ("c", "clearing", 205),
        ("clearing", "a", 102),
        ("clearing", "b", 102),
        ("clearing", "fee_account", 1),
    ]


# --- what a preset leaves out: its header, and solvent presets ---------------------------------


class TestNotModelled:
    """A mechanism left out is named in the preset's header ("Not modelled: ...") and listed by
    ``solvent presets`` (issue 15)."""

    def test_read_from_the_header(self) -> None:
        from solvent.rules.presets import not_modelled

        assert not_modelled("hyperliquid")[0] == "the 30 s cooldown after a partial liquidation"
        assert not_modelled("bitmex") == (
            "the risk limit a trader chooses",
            "the FillOrKill step down to a lower risk limit before the takeover",
            "the pace at which BitMEX closes what its fund holds",
            "the bankruptcy price of each order the fund took over",
        )
        assert not_modelled("dydx-v4")[:2] == ("block limits", "the fillable price")  # a bulleted list
        # token bankruptcy is modelled since the preset lends USDC and MNGO (rules/lending.py)
        assert not_modelled("mango-v4") == ("health with asset and liability weights across perp markets",)
        assert not_modelled("binance") == ()
        assert not_modelled("drift") == (
            "the liquidator fee ramp",
            "the liquidation spread over slots",
            "the deposit taken for negative PnL sized to the flat account's shortage",
        )

    def test_solvent_presets_lists_them(self) -> None:
        from click.testing import CliRunner

        from solvent.cli import main

        out = CliRunner().invoke(main, ["presets"], env={"COLUMNS": "120"}).stdout
        listed = out.split("Not modelled (each preset's header says why):")[1]
        assert "the 30 s cooldown after a partial liquidation" in listed
        assert "binance" not in listed

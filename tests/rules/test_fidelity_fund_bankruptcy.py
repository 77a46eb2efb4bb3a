"""The insurance fund's own bankruptcy while it holds a taken-over position (issue 15): BitMEX
deleverages what its liquidation engine holds once the fund is depleted ("The Insurance Fund is
used to prevent ADL. If it is depleted for a given contract, ADL will occur",
bitmex.com/app/autoDeleveraging; docs/venues.md#bitmex-adl, docs/model.md#the-funds-own-bankruptcy).

BitMEX's liquidation example (long 1 contract at $100.00, liquidation price $99.50, bankruptcy price
$99.00) a thousand times over, on the ``bitmex`` preset as shipped (``fund_unwind_ppm`` = 50%), as
tests/rules/test_fidelity_fund_holds.py tells it, with a fund of 1,000 instead of 100,000:

- Mark 994: alice (long 1,000 on 10,000) is below maintenance; the fund takes her position over
  with the 4,000 left: 5,000, long 1,000.
- Mark 985: the fund loses 9,000 on what it holds: −4,000, depleted. Its 1,000 lots are
  deleveraged against bob, the short, at the fund's bankruptcy price 985 + ⌈4,000 / 1,000⌉ = 989:
  bob pays 4,000, the fund ends flat at 0. (At the taken-over order's own bankruptcy price, 990,
  bob would have paid 5,000.)
- Boundaries: a fund of 5,000 ends that move at exactly 0 and keeps holding (half goes to the
  book); a fund of 4,999 is 1 below zero: bob pays ⌈1 / 1,000⌉ = 1 a lot, and the fund keeps the
  999 of rounding.

Since session 23 (the lead's decision, option (a): docs/model.md#the-funds-own-bankruptcy), the
fund is deleveraged only where its lots lost in the move, ``L = −S·(M − M_prev) > 0``, for
``min(D, L)``; what it owes beyond that (a deficit it took over) stays its own. The example above is
unchanged (``L`` = 9,000 ≥ ``D`` = 4,000). The boundary of the new bound: a fund that starts the move
at −4,000 + ``x`` (the 4,000 it takes over with alice's position brings it to ``x``) ends the move at
``D = 9,000 − x``: at ``x = 0``, ``D = L``, bob pays 9,000 and the fund ends flat at 0; at ``x = −1``
(a quantum it took over before) it is closed for ``L`` and keeps −1 (a residual); at ``x = 1``,
``D = L − 1``, bob pays ⌈8,999 / 1,000⌉ = 9 a lot and the fund keeps 1 of rounding. The trigger's:
a fund at −6,000 holding 1,000 long (alice's lots taken over on −10,000) is not deleveraged at an
unchanged mark (``L = 0``) nor where its lots gained (994 → 996), and at 994 → 993 (``L`` = 1,000) it is
closed for 1,000 and keeps −6,000.

Session 24 (docs/model.md#the-funds-own-bankruptcy, "At a funding event"): a funding payment moves no
mark, so the fund's lots lost nothing in it and a funding sweep does not deleverage it. The story: the
fund at −4,000 + ``x`` takes alice's 1,000 long over at 994 (at ``x``); funding at 500 ppm, it pays 497
and bob, short 1,000, receives 497: at ``x`` = 496, 497, 498 the fund ends the funding event at −1, 0,
+1, never deleveraged (it unwinds 500 into the book), bob's cash up by exactly 497 (the session-23
reading closed him whole for 1,000 at −1). At 994 → 993 its 500 lots lose ``L = 500`` with ``D`` = 501,
500, 499: bob pays exactly 500 and the fund ends at −1 (a residual), 0, +1 (the rounding).
"""

from __future__ import annotations

import attrs

from solvent.properties import catalog
from solvent.rules import pool_bankruptcy
from solvent.rules.arith import max_
from solvent.rules.book import Book, new_book
from solvent.rules.engine import run
from solvent.rules.events import Funding, MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.outcomes import AdlFill, Bankrupt, LayerUsed, Residual
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import Adl, GapRounding
from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught

BITMEX = load_preset("bitmex")


def book(fund: int, bob: int = -1_000, carl: int = 0, resting: int = 0) -> Book:
    """alice long 1,000 at 1,000 on 10,000; bob (and carl, and the book's ``resting`` lots) short
    against her at 1,000, bob and carl on 1,000,000 each; the fund ``fund``."""
    rows = (
        ("alice", 1_000, 10_000),
        ("bob", bob, 1_000_000),
        ("carl", carl, 1_000_000),
        ("liquidity", resting, 0),
        ("insurance_fund", 0, fund),
    )
    return opened(1_000, ("alice", "bob", "carl"), rows)


def opened(entry: int, traders: tuple[str, ...], rows) -> Book:
    """A book at mark ``entry`` where every (name, lots, cash) of ``rows`` holds ``lots`` opened at
    it on ``cash`` (a trader's cash is its principal)."""
    b = new_book(mark_quote=entry, traders=traders)
    for name, lots, cash in rows:
        i = b.index(name)
        principal = cash if b.accounts[i].is_trader else 0
        b = b.replace_account(
            i,
            attrs.evolve(
                b.accounts[i], cash_quote=cash, principal_quote=principal, size_lots=lots, cost_quote=lots * entry
            ),
        )
    return attrs.evolve(b, net_deposits_quote=sum(a.cash_quote for a in b.accounts))


def fund_after(policy, b: Book, marks=(994, 985)) -> tuple[int, int, int]:
    """The fund's (cash, lots) and bob's cash after ``marks``."""
    after = run(policy, b, [MarkPrice(m) for m in marks])[-1].after
    f = after.account("insurance_fund")
    return f.cash_quote, f.size_lots, after.account("bob").cash_quote


class TestTheFundsOwnBankruptcy:
    def test_the_preset_declares_the_fund_holding(self) -> None:
        assert BITMEX.liquidation.fund_unwind_ppm == 500_000

    def test_bitmexs_example_with_a_small_fund(self) -> None:
        steps = run(BITMEX, book(1_000), [MarkPrice(994), MarkPrice(985)])
        assert steps[0].after.account("insurance_fund").cash_quote == 5_000
        s = steps[1]
        f = s.after.account("insurance_fund")
        assert (f.cash_quote, f.size_lots) == (0, 0)
        assert [(t.source, t.destination, t.amount_quote) for t in s.transfers if t.reason is Reason.ADL] == [
            ("bob", "insurance_fund", 4_000)
        ]
        fills = [o for o in s.outcomes if isinstance(o, AdlFill) and o.lots]
        assert [(o.bankrupt, o.winner, o.lots, o.gap_per_lot_quote) for o in fills] == [
            ("insurance_fund", "bob", 1_000, 4)
        ]
        assert Bankrupt("insurance_fund", 4_000) in s.outcomes
        layers = [(o.layer, o.covered_quote, o.exhausted) for o in s.outcomes if isinstance(o, LayerUsed)]
        assert layers == [("insurance_fund", 0, True), ("adl", 4_000, True)]
        assert s.after.total_cash_quote() == s.after.net_deposits_quote
        assert sum(a.size_lots for a in s.after.accounts) == 0

    def test_the_winner_pays_less_than_at_the_orders_own_bankruptcy_price(self) -> None:
        # the order was taken over at 990 a lot; the fund's own price is 989 (its 1,000 went first)
        cash, _, bob = fund_after(BITMEX, book(1_000))
        before = run(BITMEX, book(1_000), [MarkPrice(994), MarkPrice(985)])[1].before.account("bob").cash_quote
        paid = before + 9_000 - bob
        assert (cash, paid) == (0, 4_000)
        assert paid < 1_000 * (990 - 985)

    def test_a_fund_at_exactly_zero_keeps_holding(self) -> None:
        assert fund_after(BITMEX, book(5_000)) == (0, 500, 1_000_000 + 6_000 + 9_000)

    def test_one_quantum_below_zero_is_deleveraged_and_keeps_the_rounding(self) -> None:
        steps = run(BITMEX, book(4_999), [MarkPrice(994), MarkPrice(985)])
        s = steps[1]
        assert (s.after.account("insurance_fund").cash_quote, s.after.account("insurance_fund").size_lots) == (999, 0)
        dust = [t for t in s.transfers if t.reason is Reason.PRO_RATA_DUST]
        assert [(t.source, t.destination, t.amount_quote) for t in dust] == [("insurance_fund", "insurance_fund", 999)]

    def test_the_queue_in_bitmexs_ranking_then_the_book(self) -> None:
        """bob short 600 and carl short 400 at the same entry: each closed whole at the same price
        (the book holds none)."""
        steps = run(BITMEX, book(1_000, bob=-600, carl=-400), [MarkPrice(994), MarkPrice(985)])
        fills = sorted(
            (o.winner, o.lots, o.gap_per_lot_quote) for o in steps[1].outcomes if isinstance(o, AdlFill) and o.lots
        )
        assert fills == [("bob", 600, 4), ("carl", 400, 4)]
        assert not any(isinstance(o, Residual) for o in steps[1].outcomes)

    def test_what_nobody_takes_is_a_residual(self) -> None:
        """bob short 600, the book 400, the book exempt from ADL (``book_last = false``): bob pays
        4 a lot on 600, the 400 go to the book at the mark, and 1,600 of the fund's deficit is left."""
        s = run(exempt_book(), book(1_000, bob=-600, resting=-400), [MarkPrice(994), MarkPrice(985)])[1]
        f = s.after.account("insurance_fund")
        assert (f.cash_quote, f.size_lots) == (-1_600, 0)
        assert Residual("insurance_fund", 1_600) in s.outcomes
        assert catalog.get("deficit-charged-once").holds(catalog.StepView.of(exempt_book(), s)) is True

    def test_without_an_adl_layer_the_fund_stays_below_zero(self) -> None:
        no_adl = attrs.evolve(BITMEX, deficit=BITMEX.deficit[:1])
        assert fund_after(no_adl, book(1_000))[:2] == (-4_000, 500)

    def test_the_claims_hold_where_they_failed_without_the_rule(self, monkeypatch) -> None:
        """claims-backed and insurance-fund-non-negative: the fund depleted holding a position is
        a claim without cash unless it is deleveraged; deficit-charged-once, waterfall-order and
        adl-price-fair hold on the fund's own bankruptcy."""
        ids = (
            "claims-backed",
            "insurance-fund-non-negative",
            "deficit-charged-once",
            "waterfall-order",
            "adl-price-fair",
        )

        def judged() -> dict[str, bool]:
            s = run(BITMEX, book(1_000), [MarkPrice(994), MarkPrice(985)])[1]
            return {i: catalog.get(i).holds(catalog.StepView.of(BITMEX, s)) for i in ids}

        assert judged() == dict.fromkeys(ids, True)
        from solvent.rules import engine

        monkeypatch.setattr(engine, "deleverage_pools", lambda policy, ctx: ctx)
        got = judged()
        assert (got["claims-backed"], got["insurance-fund-non-negative"]) == (False, False)


class TestWithinTheMove:
    """Session 23: the fund deleveraged only for its lots' loss in the move (module docstring)."""

    def test_the_funds_lots_loss_equal_to_its_deficit_is_all_handed_on(self) -> None:
        s = run(BITMEX, book(-4_000), [MarkPrice(994), MarkPrice(985)])[1]
        assert Bankrupt("insurance_fund", 9_000) in s.outcomes
        assert fund_after(BITMEX, book(-4_000)) == (0, 0, 1_000_000 + 6_000 + 9_000 - 9_000)

    def test_one_quantum_beyond_its_lots_loss_stays_the_funds(self) -> None:
        s = run(BITMEX, book(-4_001), [MarkPrice(994), MarkPrice(985)])[1]
        assert [(t.source, t.amount_quote) for t in s.transfers if t.reason is Reason.ADL] == [("bob", 9_000)]
        f = s.after.account("insurance_fund")
        assert (f.cash_quote, f.size_lots) == (-1, 0)
        assert Residual("insurance_fund", 1) in s.outcomes
        layers = [(o.layer, o.covered_quote) for o in s.outcomes if isinstance(o, LayerUsed)]
        assert layers == [("insurance_fund", 0), ("adl", 9_000)]

    def test_one_quantum_within_its_lots_loss_is_all_handed_on(self) -> None:
        s = run(BITMEX, book(-3_999), [MarkPrice(994), MarkPrice(985)])[1]
        fills = [(o.winner, o.lots, o.gap_per_lot_quote) for o in s.outcomes if isinstance(o, AdlFill) and o.lots]
        assert fills == [("bob", 1_000, 9)]
        assert (s.after.account("insurance_fund").cash_quote, s.after.account("insurance_fund").size_lots) == (1, 0)
        assert not any(isinstance(o, Residual) for o in s.outcomes)

    def test_not_where_its_lots_did_not_lose(self) -> None:
        """At −6,000 holding 1,000 long: the mark unchanged (L = 0) or up (its lots gained): it keeps
        holding, half to the book, and bob keeps his lots."""
        assert fund_after(BITMEX, book(-10_000), (994, 994)) == (-6_000, 500, 1_006_000)
        assert fund_after(BITMEX, book(-10_000), (994, 996)) == (-4_000, 500, 1_004_000)

    def test_a_move_of_one_quantum_a_lot_hands_on_its_loss_alone(self) -> None:
        s = run(BITMEX, book(-10_000), [MarkPrice(994), MarkPrice(993)])[1]
        assert [(t.source, t.amount_quote) for t in s.transfers if t.reason is Reason.ADL] == [("bob", 1_000)]
        assert (s.after.account("insurance_fund").cash_quote, s.after.account("insurance_fund").size_lots) == (
            -6_000,
            0,
        )
        assert Residual("insurance_fund", 6_000) in s.outcomes


#: session 24's story: the takeover at 994, funding at 500 ppm (the fund long pays 497), the move to 993
AT_FUNDING = (MarkPrice(994), Funding(500), MarkPrice(993))
#: the fund's start for each ``x`` (−4,000 + x: at x after the takeover) and where it ends each later event
FUNDING_CASES = {496: ((-1, 500), (-1, 0)), 497: ((0, 500), (0, 0)), 498: ((1, 500), (1, 0))}


def _charged(step, name: str = "bob") -> int:
    """What ``name`` paid the fund by ADL in ``step``."""
    return sum(t.amount_quote for t in step.transfers if t.reason is Reason.ADL and t.source == name)


class TestAtAFundingEvent:
    """Session 24: a funding sweep does not deleverage the fund (module docstring)."""

    def test_a_funding_sweep_charges_the_traders_opposite_nothing(self) -> None:
        for x, (at_funding, _) in FUNDING_CASES.items():
            _, funding, _ = run(BITMEX, book(-4_000 + x), list(AT_FUNDING))
            f = funding.after.account("insurance_fund")
            assert (f.cash_quote, f.size_lots) == at_funding, x
            assert _charged(funding) == 0
            assert not any(isinstance(o, (Bankrupt, Residual)) for o in funding.outcomes)
            bob = (funding.before.account("bob").cash_quote, funding.after.account("bob").cash_quote)
            assert bob == (1_006_000, 1_006_497)
            assert funding.after.account("bob").size_lots == -1_000

    def test_the_next_move_hands_on_its_lots_loss_and_no_more(self) -> None:
        for x, (_, after) in FUNDING_CASES.items():
            *_, move = run(BITMEX, book(-4_000 + x), list(AT_FUNDING))
            f = move.after.account("insurance_fund")
            assert (f.cash_quote, f.size_lots) == after, x
            assert _charged(move) == 500
            fills = [
                (o.winner, o.lots, o.gap_per_lot_quote) for o in move.outcomes if isinstance(o, AdlFill) and o.lots
            ]
            assert fills == [("bob", 500, 1)]
            # D: the move's 500 and the funding payment's 497, less the x it had
            assert Bankrupt("insurance_fund", 500 + 497 - x) in move.outcomes
            assert (Residual("insurance_fund", 1) in move.outcomes) is (x == 496)

    def test_the_session_23_reading_closed_bob_whole_at_the_funding_sweep(self, monkeypatch) -> None:
        """The mutant: the trigger and the bound reading the book's last move at every sweep (session 23):
        at −1 after the funding payment the fund is deleveraged at the funding sweep, bob closed whole. Rounded
        per fill there (session 26, ``gap_rounding_without_move``) he pays its deficit, 1; per lot, 1,000,
        twice the 497 he received."""
        for name, mutant in _both(_last_move_lost).items():
            monkeypatch.setattr(pool_bankruptcy, name, mutant)
        _, funding, _ = run(BITMEX, book(-4_000 + 496), list(AT_FUNDING))
        assert _charged(funding) == 1
        f = funding.after.account("insurance_fund")
        assert (f.cash_quote, f.size_lots) == (0, 0)
        per_lot = attrs.evolve(
            BITMEX,
            deficit=tuple(
                attrs.evolve(d, gap_rounding_without_move=GapRounding.PER_LOT) if isinstance(d, Adl) else d
                for d in BITMEX.deficit
            ),
        )
        _, funding, _ = run(per_lot, book(-4_000 + 496), list(AT_FUNDING))
        assert _charged(funding) == 1_000
        f = funding.after.account("insurance_fund")
        assert (f.cash_quote, f.size_lots) == (999, 0)


def _last_move_lost(ctx, pool):
    """Session 23's ``lots_lost``: the book's last move, whichever event made it."""
    return -ctx.account(pool).size_lots * _moved(ctx)


def _both(lost) -> dict:
    """A mutant ``lost`` of the lots' loss as the fund reads it: its trigger (``lots_lose``, since session
    25; ``lost > 0``) and its bound (``lots_lost``)."""
    return {"lots_lose": lambda ctx, pool: lost(ctx, pool) > 0, "lots_lost": lost}


def exempt_book():
    """The preset with its ADL layer sparing the order book."""
    return attrs.evolve(BITMEX, deficit=(BITMEX.deficit[0], attrs.evolve(BITMEX.deficit[1], book_last=False)))


def observe():
    """The boundary cases: at zero, one below, the example, two winners, no ADL layer."""
    no_adl = attrs.evolve(BITMEX, deficit=BITMEX.deficit[:1])
    out = [fund_after(BITMEX, book(f)) for f in (1_000, 4_999, 5_000, 5_001)]
    out.append(fund_after(BITMEX, book(1_000, bob=-600, carl=-400)))
    out.append(fund_after(no_adl, book(1_000)))
    for policy, b in ((BITMEX, book(1_000)), (no_adl, book(1_000)), (exempt_book(), book(1_000, -600, 0, -400))):
        s = run(policy, b, [MarkPrice(994), MarkPrice(985)])[1]
        out.append(tuple(o for o in s.outcomes if isinstance(o, (Bankrupt, LayerUsed, Residual))))
    # session 23: the lots' loss at the deficit, one quantum either side, and the trigger's edge
    for fund, marks in WITHIN_MOVE:
        s = run(BITMEX, book(fund), [MarkPrice(m) for m in marks])[1]
        f = s.after.account("insurance_fund")
        out.append((f.cash_quote, f.size_lots, s.after.account("bob").cash_quote))
        out.append(tuple(o for o in s.outcomes if isinstance(o, (Bankrupt, LayerUsed, Residual))))
    # session 25 (the trigger is ``lots_lose``): flat at -1 after the move to 985, a move down and one up
    # find nothing to deleverage
    for last in (984, 986):
        s = run(BITMEX, book(-4_001), [MarkPrice(994), MarkPrice(985), MarkPrice(last)])[-1]
        out.append(tuple(o for o in s.outcomes if isinstance(o, (Bankrupt, LayerUsed, Residual))))
    # session 24: a takeover, a funding event at -1, 0, +1, then a move
    for x in FUNDING_CASES:
        for s in run(BITMEX, book(-4_000 + x), list(AT_FUNDING))[1:]:
            f = s.after.account("insurance_fund")
            out.append((f.cash_quote, f.size_lots, s.after.account("bob").cash_quote, _charged(s)))
    # session 28: the fund deleveraged at a funding sweep (``deleveraged_without_move = true``), no move to bound it
    from tests.rules.test_pool_deleveraged_without_move import InsuranceFund, fund_at_funding, with_field

    out.append(fund_at_funding(with_field(BITMEX, InsuranceFund, True), 496))
    return out


#: (the fund's start, the marks) of the session-23 boundary cases (:class:`TestWithinTheMove`)
WITHIN_MOVE = (
    (-4_000, (994, 985)),
    (-4_001, (994, 985)),
    (-3_999, (994, 985)),
    (-10_000, (994, 994)),
    (-10_000, (994, 996)),
    (-10_000, (994, 993)),
)


def test_every_mutant_of_the_funds_bankruptcy_is_caught(monkeypatch) -> None:
    """``deleverage_pools`` is swept on both pools' stories, these and the vault's, since session 24 its
    trigger a call per pool (tests/rules/test_fidelity_vault_adl.py, ``test_every_mutant_of_the_pools_is_caught``)."""
    assert_every_mutant_is_caught(monkeypatch, pool_bankruptcy, "_resolve", observe, at_least=1)
    assert_every_mutant_is_caught(monkeypatch, pool_bankruptcy, "lots_lost", observe, at_least=1)
    # session 25: the fund's trigger is ``lots_lose``, whose every one-token mutant the vault's stories catch
    # (its short and long sides: tests/rules/test_fidelity_vault_adl.py) and disagrees with ``lots_lost > 0``
    # (``test_the_signs_say_what_the_product_says``); the fund's stories here are all long


def test_every_mutant_of_where_a_mark_moves_is_caught(monkeypatch) -> None:
    """Session 24: an event starts with no mark moved (``engine.opening``'s ``moved=False``) and a mark
    move's settlement moves one (``settle_mark``'s ``True``): each constant flipped is caught (the
    funding story, the session-23 boundaries)."""
    from solvent.rules import engine, settlement

    assert_every_mutant_is_caught(monkeypatch, engine, "opening", observe, at_least=1)
    assert_every_mutant_is_caught(monkeypatch, settlement, "settle_mark", observe, at_least=2, importers=(engine,))


def _moved(ctx, *, still: bool = False) -> int:
    """The last move, ``M − M_prev``; ``still``: with the mark read for ``M_prev`` (0)."""
    market = ctx.market
    return market.mark_quote - (market.mark_quote if still else market.previous_mark_quote)


#: the tokens of the session-23 bound the operator sweep does not reach, each changed (``pool_bankruptcy``'s
#: names patched; a mutant of the loss in both the trigger, ``lots_lose`` since session 25, and the bound)
NAMED_MUTANTS = {
    # min(D, L) made max(D, L): the fund hands on more than its lots lost
    "max for min": {"min_": lambda a, b: max_(a, b)},
    # the unary minus dropped: the lots' gain taken for their loss
    "sign of the loss": _both(lambda ctx, pool: ctx.account(pool).size_lots * _moved(ctx)),
    # the previous mark read as the mark: no move, no loss
    "the move from the mark itself": _both(lambda ctx, pool: -ctx.account(pool).size_lots * _moved(ctx, still=True)),
    # the rule before session 23 (its very terms): the trigger its lots and its balance alone, the whole
    # deficit handed on
    "the session-20 rule": {
        "lots_lose": lambda ctx, pool: ctx.account(pool).size_lots != 0,
        "lots_lost": lambda ctx, pool: 1,
        "min_": lambda deficit, lost: None,
    },
    # session 23's: the book's last move read at every sweep, a funding sweep's too
    "the last move at a funding sweep": _both(_last_move_lost),
    # the trigger read as the vault's was before session 24 (held lots alone) with the bound kept: the
    # fund below zero whose lots gained, or at an unchanged mark, closes its lots for nothing
    "the trigger without the move": {"lots_lose": lambda ctx, pool: ctx.account(pool).size_lots != 0},
}


def test_every_named_mutant_of_the_bound_is_caught(monkeypatch) -> None:
    expected = observe()
    for label, patches in NAMED_MUTANTS.items():
        with monkeypatch.context() as m:
            for name, mutant in patches.items():
                m.setattr(pool_bankruptcy, name, mutant)
            assert observe() != expected, f"mutant survives: {label}"


def test_the_triggers_and_made_or_is_caught(monkeypatch) -> None:
    """The trigger's ``and_`` (a call, which the operator sweep does not reach) made ``or_``: a fund
    not below zero whose lots lost would be deleveraged (the fund at exactly 0 closes its 1,000 lots
    at a gap of 0 instead of keeping 500)."""
    import inspect
    import textwrap

    from solvent.rules import arith, engine

    source = textwrap.dedent(inspect.getsource(pool_bankruptcy.deleverage_pools))
    trigger = "depleted = and_(ctx.account(pool).cash_quote < 0, bankrupt_by(ctx, pool, without_move(policy, role)))"
    assert source.count(trigger) == 1
    namespace = {**vars(pool_bankruptcy), "or_": arith.or_}
    exec(compile(source.replace(trigger, trigger.replace("and_", "or_")), "<mutant>", "exec"), namespace)
    expected = observe()
    monkeypatch.setattr(pool_bankruptcy, "deleverage_pools", namespace["deleverage_pools"])
    monkeypatch.setattr(engine, "deleverage_pools", namespace["deleverage_pools"])
    assert observe() != expected
    assert fund_after(BITMEX, book(5_000))[:2] == (0, 0)

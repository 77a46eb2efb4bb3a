"""The liquidator vault's own ADL (issue 15): since the JELLY incident of March 2025 Hyperliquid's
liquidator vault has "a tight cap", and "ADL will be triggered if the Liquidator loses above a
certain threshold, instead of moving collateral automatically from the other component vaults"
(Hyperliquid's post, docs/venues.md#hyperliquid-adl). The threshold is not published; the engine's
is the vault's own balance (``rules/pool_bankruptcy.py``): a vault below zero holding a taken-over
position is deleveraged, by the ``hyperliquid`` preset's ADL layer, at the previous mark.

Worked example, JELLY as the post tells it, at the preset's units (USDC cents) and rules (its BTC
tiers), a lot of 10,000 JELLY: a short of "4M USDC" at 0.0095 is 42,105 lots at 9,500 cents
($3,999,975), on $100,000; alice and bob long 30,000 and 12,105 against it; the vault holds $1M
(a choice: the cap is "a small percentage of total HLP account value").

- Mark 9,658: the whale's equity, 3,347,410, is under 2/3 of maintenance (3,388,751): the vault
  takes the short over with it: 103,347,410 cents.
- Mark 20,000 (JELLY more than doubled): the vault loses 42,105 × 10,342 = 435,449,910 and is at
  −332,102,500. It is deleveraged: alice and bob buy its short back at the previous mark, 9,658,
  paying the whole move, 310,260,000 and 125,189,910; the vault is back at 103,347,410 and flat.
- Without the rule (before 2025: the other HLP vaults' collateral) the vault stays at
  −332,102,500 holding the short: ``claims-backed`` fails.

Session 24 (helper hlfund; docs/model.md#the-funds-own-bankruptcy, "The vault at a funding event"): the
vault is deleveraged only where its lots lost in this step's move, as the fund is, so never at a funding
sweep. The story: the vault at ``x`` after the takeover at 9,658 (it starts at ``x`` − 3,347,410);
funding at −10 ppm, the short pays ⌈42,105 × 9,658 × 10 / 10⁶⌉ = 4,067, alice and bob receive 2,897 and
1,169 (1 of dust to the fee account). At ``x`` = 4,066, 4,067, 4,068 the vault ends the funding event at
−1, 0, +1 still short 42,105, and alice's and bob's cash moves by their funding alone. Before (the
trigger read no move, the price the last move's previous mark, 9,500), at −1 alice and bob paid that
earlier move back, 158 a lot, 4,740,000 and 1,912,590, on lots the vault took over after it, and the
vault ended at +6,652,589. At 9,658 → 9,659 its lots lose 42,105: alice and bob pay exactly that, 1 a
lot, and the vault ends flat at −1 (a residual: the funding payment it could not pay), 0 and +1.

Session 27 (helper vaultfund; docs/model.md#the-funds-own-bankruptcy, "The vault at a funding event,
again"): the vault a funding payment takes below zero is deleveraged at that sweep, as a trader there is,
at its bankruptcy price per fill (``pool_bankruptcy.bankrupt_by``). At ``x`` = 4,066 it is at −1 after the
payment: alice pays ⌈1 × 30,000 / 42,105⌉ = 1, bob 0, both closed at the mark, the vault flat at 0; at
4,067 and 4,068 it holds on at 0 and +1 and the next move is as above. Session 24's rule is the named
mutant :func:`_session_24`.
"""

from __future__ import annotations

from solvent.properties import catalog
from solvent.rules import pool_bankruptcy
from solvent.rules.book import Book
from solvent.rules.engine import run
from solvent.rules.events import Funding, MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.outcomes import AdlFill, Bankrupt, LayerUsed, Residual
from solvent.rules.presets import load_preset
from tests.rules.test_fidelity_fund_bankruptcy import opened
from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught, mutants

HYPERLIQUID = load_preset("hyperliquid")
WHALE = 42_105  # lots of 10,000 JELLY: 4M USDC at 0.0095
VAULT = 100_000_000  # $1M in cents


def book(vault: int = VAULT) -> Book:
    rows = (
        ("whale", -WHALE, 10_000_000),
        ("alice", 30_000, 100_000_000),
        ("bob", 12_105, 100_000_000),
        ("backstop_vault", 0, vault),
    )
    return opened(9_500, ("whale", "alice", "bob"), rows)


def vault_after(vault: int, *marks: int) -> tuple[int, int]:
    after = run(HYPERLIQUID, book(vault), [MarkPrice(m) for m in marks])[-1].after
    v = after.account("backstop_vault")
    return v.cash_quote, v.size_lots


class TestTheVaultsOwnAdl:
    def test_the_vault_takes_the_short_over(self) -> None:
        assert vault_after(VAULT, 9_658) == (103_347_410, -WHALE)

    def test_below_zero_it_is_deleveraged_at_the_previous_mark(self) -> None:
        s = run(HYPERLIQUID, book(), [MarkPrice(9_658), MarkPrice(20_000)])[1]
        assert Bankrupt("backstop_vault", 332_102_500) in s.outcomes
        fills = [(o.winner, o.lots, o.gap_per_lot_quote) for o in s.outcomes if isinstance(o, AdlFill) and o.lots]
        assert fills == [("alice", 30_000, 10_342), ("bob", 12_105, 10_342)]
        paid = [(t.source, t.amount_quote) for t in s.transfers if t.reason is Reason.ADL]
        assert paid == [("alice", 310_260_000), ("bob", 125_189_910)]
        layers = [(o.layer, o.covered_quote) for o in s.outcomes if isinstance(o, LayerUsed)]
        assert layers == [("backstop_vault", 0), ("adl", 332_102_500)]
        v = s.after.account("backstop_vault")
        assert (v.cash_quote, v.size_lots) == (103_347_410, 0)
        assert s.after.total_cash_quote() == s.after.net_deposits_quote

    def test_at_zero_it_keeps_holding_one_below_it_is_deleveraged(self) -> None:
        """A vault that ends the move at exactly 0 keeps holding; one quantum less, and the winners
        pay the whole move back at the previous mark: the vault ends at its balance before it."""
        at_zero = 435_449_910 - 3_347_410  # the move's loss less the margin taken over
        assert vault_after(at_zero, 9_658, 20_000) == (0, -WHALE)
        assert vault_after(at_zero - 1, 9_658, 20_000) == (435_449_909, 0)

    def test_the_claims_hold_where_they_failed_without_the_rule(self, monkeypatch) -> None:
        ids = ("claims-backed", "deficit-charged-once", "waterfall-order")

        def judged() -> dict[str, bool]:
            s = run(HYPERLIQUID, book(), [MarkPrice(9_658), MarkPrice(20_000)])[1]
            return {i: catalog.get(i).holds(catalog.StepView.of(HYPERLIQUID, s)) for i in ids}

        assert judged() == dict.fromkeys(ids, True)
        from solvent.rules import engine

        monkeypatch.setattr(engine, "deleverage_pools", lambda policy, ctx: ctx)
        assert judged()["claims-backed"] is False
        assert vault_after(VAULT, 9_658, 20_000) == (-332_102_500, -WHALE)


#: the whale's margin the vault takes over with its short at 9,658
TAKEN_OVER = 3_347_410
#: session 24's story: the takeover at 9,658, funding at −10 ppm (the vault, short, pays 4,067), the move to 9,659
AT_FUNDING = (MarkPrice(9_658), Funding(-10), MarkPrice(9_659))
#: the vault's balance after the takeover ``x`` → its (cash, lots) after the funding event and after the move
#: (session 27: at −1 after the payment it is deleveraged at the funding sweep; at 0 and +1 it holds on)
FUNDING_CASES = {4_066: ((0, 0), (0, 0)), 4_067: ((0, -WHALE), (0, 0)), 4_068: ((1, -WHALE), (1, 0))}
#: what alice and bob pay the vault by ADL at the funding sweep (per fill: ⌈1 × 30,000 / 42,105⌉, then 0 left)
AT_SWEEP = {4_066: {"alice": 1, "bob": 0}, 4_067: {"alice": 0, "bob": 0}, 4_068: {"alice": 0, "bob": 0}}
#: session 24's numbers, the vault keeping its funding debt (the named mutant :func:`_session_24`)
SESSION_24 = {4_066: ((-1, -WHALE), (-1, 0)), 4_067: ((0, -WHALE), (0, 0)), 4_068: ((1, -WHALE), (1, 0))}
#: alice's and bob's funding at −10 ppm on 30,000 and 12,105 lots at 9,658 (each rounded down)
RECEIVED = {"alice": 2_897, "bob": 1_169}


def _charged(step) -> dict[str, int]:
    """What each trader paid the vault by ADL in ``step``."""
    return {
        n: sum(t.amount_quote for t in step.transfers if t.reason is Reason.ADL and t.source == n) for n in RECEIVED
    }


def _vault(step) -> tuple[int, int]:
    v = step.after.account("backstop_vault")
    return v.cash_quote, v.size_lots


def _session_24(ctx, pool, without_move):
    """The named mutant: session 24's trigger, the lots' loss in this step's move alone, so a funding
    payment's debt stays the vault's own (``pool_bankruptcy.bankrupt_by`` before session 27)."""
    return pool_bankruptcy.lots_lose(ctx, pool)


class TestAtAFundingEvent:
    """Session 27 (module docstring): the vault a funding payment takes below zero is deleveraged at that
    sweep, at its bankruptcy price per fill; at or above zero it holds on, as in session 24."""

    def test_at_zero_it_holds_one_below_it_is_deleveraged_for_that_one(self) -> None:
        for x, (at_funding, _) in FUNDING_CASES.items():
            _, funding, _ = run(HYPERLIQUID, book(x - TAKEN_OVER), list(AT_FUNDING))
            assert _vault(funding) == at_funding, x
            assert _charged(funding) == AT_SWEEP[x], x
            assert (Bankrupt("backstop_vault", 1) in funding.outcomes) is (x == 4_066)
            assert not any(isinstance(o, Residual) for o in funding.outcomes)
            for name, got in RECEIVED.items():
                before, after = funding.before.account(name), funding.after.account(name)
                assert after.cash_quote - before.cash_quote == got - AT_SWEEP[x][name], (x, name)
                assert after.size_lots == (0 if x == 4_066 else before.size_lots), (x, name)

    def test_the_funding_sweep_closes_the_whole_position_at_the_mark(self) -> None:
        """At −1: alice's 30,000 and bob's 12,105 lots close against the vault's short at 9,658 (per fill
        the fills are at the mark and the deficit is paid over it), the ADL layer covering exactly 1."""
        _, funding, _ = run(HYPERLIQUID, book(4_066 - TAKEN_OVER), list(AT_FUNDING))
        fills = [(o.winner, o.lots) for o in funding.outcomes if isinstance(o, AdlFill) and o.lots]
        assert fills == [("alice", 30_000), ("bob", 12_105)]
        layers = [(o.layer, o.covered_quote) for o in funding.outcomes if isinstance(o, LayerUsed)]
        assert layers == [("backstop_vault", 0), ("adl", 1)]
        assert funding.after.total_cash_quote() == funding.after.net_deposits_quote

    def test_the_next_move_hands_on_its_lots_loss_where_it_held_on(self) -> None:
        for x, (_, after) in FUNDING_CASES.items():
            *_, move = run(HYPERLIQUID, book(x - TAKEN_OVER), list(AT_FUNDING))
            assert _vault(move) == after, x
            held = x != 4_066
            assert _charged(move) == ({"alice": 30_000, "bob": 12_105} if held else dict.fromkeys(RECEIVED, 0))
            # D: the move's 42,105 and the funding payment's 4,067, less the x it had
            assert (Bankrupt("backstop_vault", 42_105 + 4_067 - x) in move.outcomes) is held
            assert not any(isinstance(o, Residual) for o in move.outcomes)

    def test_the_winners_pay_the_deficit_not_what_they_received(self) -> None:
        """Funding at −200 ppm takes the vault from 4,068 to −77,263; at the sweep alice and bob pay 55,051
        and 22,212 (per fill: ⌈77,263 × 30,000 / 42,105⌉, then the rest), less than the 57,948 and 23,382
        the payment gave them; the vault ends flat at 0, and the claims hold."""
        s = run(HYPERLIQUID, book(4_068 - TAKEN_OVER), [MarkPrice(9_658), Funding(-200)])[-1]
        assert _charged(s) == {"alice": 55_051, "bob": 22_212}
        got = {n: s.after.account(n).cash_quote - s.before.account(n).cash_quote for n in RECEIVED}
        assert got == {"alice": 57_948 - 55_051, "bob": 23_382 - 22_212}
        assert _vault(s) == (0, 0)
        view = catalog.StepView.of(HYPERLIQUID, s)
        assert all(catalog.get(i).holds(view) for i in ("claims-backed", "no-negative-equity", "conservation"))

    def test_session_24_kept_the_funding_debt(self, monkeypatch) -> None:
        """The named mutant (:func:`_session_24`): at −1 and at −77,263 after the funding payment the vault
        holds on below zero, nobody charged, and claims-backed fails on the step."""
        monkeypatch.setattr(pool_bankruptcy, "bankrupt_by", _session_24)
        for x, (at_funding, after) in SESSION_24.items():
            _, funding, move = run(HYPERLIQUID, book(x - TAKEN_OVER), list(AT_FUNDING))
            assert (_vault(funding), _vault(move)) == (at_funding, after), x
            assert _charged(funding) == dict.fromkeys(RECEIVED, 0)
            holds = catalog.get("claims-backed").holds(catalog.StepView.of(HYPERLIQUID, funding))
            assert bool(holds) is (x != 4_066)
        s = run(HYPERLIQUID, book(4_068 - TAKEN_OVER), [MarkPrice(9_658), Funding(-200)])[-1]
        assert (_vault(s), _charged(s)) == ((-77_263, -WHALE), dict.fromkeys(RECEIVED, 0))

    def test_the_old_reading_charged_an_earlier_move_at_the_funding_sweep(self, monkeypatch) -> None:
        """The mutant: the vault's trigger reading no move and its ADL at the book's previous mark
        (sessions 22-23): at −1 after the funding payment alice and bob pay 9,500 → 9,658 back, 158 a lot,
        and the vault ends at +6,652,589. Since session 25 an ADL at a funding sweep is at the bankruptcy
        price (``adl.at_bankruptcy``), so the sessions 22-23 engine is both rules as they were."""
        from solvent.rules import adl
        from solvent.rules.waterfall import AdlPrice

        monkeypatch.setattr(pool_bankruptcy, "bankrupt_by", lambda ctx, pool, without_move: _the_old_reading(ctx, pool))
        monkeypatch.setattr(adl, "at_bankruptcy", lambda ctx, layer: layer.price is AdlPrice.BANKRUPTCY)
        _, funding, _ = run(HYPERLIQUID, book(4_066 - TAKEN_OVER), list(AT_FUNDING))
        assert _charged(funding) == {"alice": 4_740_000, "bob": 1_912_590}
        assert _vault(funding) == (6_652_589, 0)


def _the_old_reading(ctx, pool):
    """Sessions 22-23: the vault's trigger read no move (held lots and a balance below zero alone)."""
    return ctx.account(pool).size_lots != 0


def _the_move_alone(ctx, pool):
    """A mutant: the vault's trigger reads whether a mark moved, not whether its lots lost in it."""
    return ctx.mark_moved and ctx.account(pool).size_lots != 0


def below_zero(size: int, cash: int = -100_000) -> Book:
    """The vault holding ``size`` lots at 9,658 on ``cash``, below zero (what a residual leaves: a move
    its lots lost with nobody opposite), alice and bob holding the other side."""
    side = -1 if size > 0 else 1
    rows = (
        ("alice", side * 30_000, 100_000_000),
        ("bob", side * 12_105, 100_000_000),
        ("backstop_vault", size, cash),
    )
    return opened(9_658, ("alice", "bob"), rows)


def observe_at_a_move() -> list:
    """The vault at −100,000 holding the short, then the long, at a move up, an unchanged mark and a move
    down: deleveraged only at the move its lots lose (session 24's trigger, kept at a mark move)."""
    out = []
    for size in (-WHALE, WHALE):
        for mark in (9_659, 9_658, 9_657):
            s = run(HYPERLIQUID, below_zero(size), [MarkPrice(mark)])[-1]
            out.append((_vault(s), _charged(s), tuple(o for o in s.outcomes if isinstance(o, (Bankrupt, Residual)))))
    # flat at −100,000 (a residual), alice long and bob short 12,105: nothing to deleverage either way
    flat = opened(
        9_658,
        ("alice", "bob"),
        (("alice", 12_105, 100_000_000), ("bob", -12_105, 100_000_000), ("backstop_vault", 0, -100_000)),
    )
    for mark in (9_659, 9_657):
        s = run(HYPERLIQUID, flat, [MarkPrice(mark)])[-1]
        out.append((_vault(s), tuple(o for o in s.outcomes if isinstance(o, (Bankrupt, Residual)))))
    return out


class TestAtAMove:
    """At a mark move the vault's trigger is session 24's: below zero and its lots lost in the move."""

    def test_only_the_move_its_lots_lose_deleverages_it(self) -> None:
        short_up, short_same, short_down, long_up, long_same, long_down, *flat = observe_at_a_move()
        assert flat == [((-100_000, 0), ())] * 2
        # its lots lose 42,105: the winners pay the move back at the previous mark, the vault left at −100,000
        closed = (Bankrupt("backstop_vault", 142_105), Residual("backstop_vault", 100_000))
        for lost in (short_up, long_down):
            assert lost == ((-100_000, 0), {"alice": 30_000, "bob": 12_105}, closed)
        for held, cash in ((short_same, -100_000), (long_same, -100_000), (short_down, -57_895), (long_up, -57_895)):
            assert held[0][0] == cash and held[0][1] != 0 and held[1:] == (dict.fromkeys(RECEIVED, 0), ())


def observe():
    """The vault's boundaries beside the fund's (tests/rules/test_fidelity_fund_bankruptcy.py)."""
    from tests.rules import test_fidelity_fund_bankruptcy as fund

    at_zero = 435_449_910 - 3_347_410
    out = [vault_after(v, 9_658, 20_000) for v in (VAULT, at_zero, at_zero - 1)]
    # session 24: the vault at -1 after a funding payment, at the move its lots lose in
    s = run(HYPERLIQUID, book(4_066 - TAKEN_OVER), list(AT_FUNDING))[-1]
    out.append((_vault(s), _charged(s)))
    s = run(HYPERLIQUID, book(), [MarkPrice(9_658), MarkPrice(20_000)])[1]
    out.append(tuple(o for o in s.outcomes if isinstance(o, (Bankrupt, LayerUsed))))
    from solvent.rules.wellformed import holders

    out.append([holders(load_preset(name)) for name in ("binance", "bitmex", "hyperliquid")])
    return [*out, *fund.observe()]


def observe_trigger() -> list:
    """The vault's trigger's boundaries: the funding sweep at −1, 0, +1 and the move after it, the funding
    sweep at −77,263, below zero at a move (:func:`observe_at_a_move`), and the fund's funding sweep
    (BitMEX's fund keeps a funding debt: tests/rules/test_fidelity_fund_bankruptcy.py)."""
    from tests.rules import test_fidelity_fund_bankruptcy as fund

    out = []
    for x in FUNDING_CASES:
        out.extend((_vault(s), _charged(s)) for s in run(HYPERLIQUID, book(x - TAKEN_OVER), list(AT_FUNDING))[1:])
    s = run(HYPERLIQUID, book(4_068 - TAKEN_OVER), [MarkPrice(9_658), Funding(-200)])[-1]
    out.append((_vault(s), _charged(s)))
    for x in fund.FUNDING_CASES:
        for s in run(fund.BITMEX, fund.book(-4_000 + x), list(fund.AT_FUNDING))[1:]:
            f = s.after.account("insurance_fund")
            out.append((f.cash_quote, f.size_lots, fund._charged(s)))
    return [*out, *observe_at_a_move()]


def test_every_mutant_of_the_pools_is_caught(monkeypatch) -> None:
    """``deleverage_pools`` swept on both pools' stories: since session 25 both read one trigger
    (``lots_lose``), so no mutant of it is equivalent (the role test that chose between the two forms,
    whose swap was, is gone)."""
    from solvent.rules import engine, liquidation, pool_bankruptcy, wellformed

    assert_every_mutant_is_caught(
        monkeypatch, liquidation, "pools_holding", observe, at_least=1, importers=(pool_bankruptcy, wellformed)
    )
    assert_every_mutant_is_caught(
        monkeypatch, pool_bankruptcy, "deleverage_pools", observe, at_least=2, importers=(engine,)
    )
    assert_every_mutant_is_caught(monkeypatch, pool_bankruptcy, "_resolve", observe, at_least=1)


def test_every_named_mutant_of_the_vaults_trigger_is_caught(monkeypatch) -> None:
    """The old reading (no move read) and the move alone (no loss read), each as ``lots_lose``; session 24's
    trigger (:func:`_session_24`) as ``bankrupt_by``; and every one-token mutant of ``bankrupt_by`` (the
    funding sweep's ``and`` and ``not``, the lots held; the role it read until session 28 is the policy's
    field now, tests/rules/test_pool_deleveraged_without_move.py) and of ``lots_lose`` (its signs, the funding sweep's
    ``False``, which the fund still reads)."""
    expected = observe_trigger()
    for name, mutant in (("lots_lose", _the_old_reading), ("lots_lose", _the_move_alone), ("bankrupt_by", _session_24)):
        with monkeypatch.context() as m:
            m.setattr(pool_bankruptcy, name, mutant)
            assert observe_trigger() != expected, mutant.__name__
    assert_every_mutant_is_caught(monkeypatch, pool_bankruptcy, "bankrupt_by", observe_trigger, at_least=3)
    assert_every_mutant_is_caught(monkeypatch, pool_bankruptcy, "lots_lose", observe_trigger, at_least=6)


def _signs_disagree(lose) -> list:
    """Where ``lose`` (the trigger, ``lots_lose``) is not ``lots_lost > 0`` (the bound ``min(D, L)`` the fund
    is closed for) on every small book: sizes −3..3, marks and previous marks 1..4, a mark moved or not."""
    import attrs

    from solvent.rules.ledger import Ctx

    base = book(VAULT)
    i = base.index("backstop_vault")
    out = []
    for size in range(-3, 4):
        for mark in range(1, 5):
            for previous in range(1, 5):
                market = attrs.evolve(base.market, mark_quote=mark, previous_mark_quote=previous)
                b = attrs.evolve(base.replace_account(i, attrs.evolve(base.accounts[i], size_lots=size)), market=market)
                for moved in (True, False):
                    ctx = Ctx(b, moved=moved)
                    if bool(lose(ctx, "backstop_vault")) != (pool_bankruptcy.lots_lost(ctx, "backstop_vault") > 0):
                        out.append((size, mark, previous, moved))
    return out


def test_the_signs_say_what_the_product_says() -> None:
    """``lots_lose`` (both pools' trigger since session 25; the vault's alone before) is ``lots_lost > 0``
    (the fund's trigger until session 25, its bound's ``L`` still) on every small book, and every
    one-token mutant of ``lots_lose`` is not: a fund triggered where its bound is 0 or below (or not
    triggered where its lots lost) is caught here."""
    assert _signs_disagree(pool_bankruptcy.lots_lose) == []
    found = list(mutants(pool_bankruptcy, "lots_lose"))
    assert len(found) >= 6, [label for label, _ in found]
    for label, mutant in found:
        assert _signs_disagree(mutant), f"mutant survives: {label}"

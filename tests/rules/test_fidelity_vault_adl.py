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
FUNDING_CASES = {4_066: ((-1, -WHALE), (-1, 0)), 4_067: ((0, -WHALE), (0, 0)), 4_068: ((1, -WHALE), (1, 0))}
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


class TestAtAFundingEvent:
    """Session 24: the vault is not deleveraged at a funding sweep (module docstring)."""

    def test_a_funding_sweep_charges_the_traders_opposite_nothing(self) -> None:
        for x, (at_funding, _) in FUNDING_CASES.items():
            _, funding, _ = run(HYPERLIQUID, book(x - TAKEN_OVER), list(AT_FUNDING))
            assert _vault(funding) == at_funding, x
            assert _charged(funding) == dict.fromkeys(RECEIVED, 0)
            assert not any(isinstance(o, (Bankrupt, Residual, AdlFill)) for o in funding.outcomes)
            for name, got in RECEIVED.items():
                before, after = funding.before.account(name), funding.after.account(name)
                assert after.cash_quote - before.cash_quote == got
                assert after.size_lots == before.size_lots

    def test_the_next_move_hands_on_its_lots_loss_and_no_more(self) -> None:
        for x, (_, after) in FUNDING_CASES.items():
            *_, move = run(HYPERLIQUID, book(x - TAKEN_OVER), list(AT_FUNDING))
            assert _vault(move) == after, x
            assert _charged(move) == {"alice": 30_000, "bob": 12_105}
            # D: the move's 42,105 and the funding payment's 4,067, less the x it had
            assert Bankrupt("backstop_vault", 42_105 + 4_067 - x) in move.outcomes
            assert (Residual("backstop_vault", 1) in move.outcomes) is (x == 4_066)

    def test_below_zero_where_its_lots_did_not_lose_it_keeps_holding(self) -> None:
        """At −1 after the funding event: an unchanged mark (its lots lost 0) leaves it holding at −1; at
        −77,263 (funding at −200 ppm, 81,331) a move its short gains 42,105 on leaves it at −35,158, holding,
        and nobody is charged."""
        still = run(HYPERLIQUID, book(4_066 - TAKEN_OVER), [*AT_FUNDING[:2], MarkPrice(9_658)])[-1]
        assert _vault(still) == (-1, -WHALE)
        gained = run(HYPERLIQUID, book(4_068 - TAKEN_OVER), [MarkPrice(9_658), Funding(-200), MarkPrice(9_657)])
        assert _vault(gained[1]) == (-77_263, -WHALE)
        assert _vault(gained[2]) == (-77_263 + 42_105, -WHALE)
        assert _charged(gained[2]) == dict.fromkeys(RECEIVED, 0)

    def test_the_old_reading_charged_an_earlier_move_at_the_funding_sweep(self, monkeypatch) -> None:
        """The mutant: the vault's trigger reading no move (sessions 22-23): at −1 after the funding
        payment alice and bob pay 9,500 → 9,658 back, 158 a lot, and the vault ends at +6,652,589. Since
        session 25 an ADL at a funding sweep is at the bankruptcy price (``adl.at_bankruptcy``), so the
        sessions 22-23 engine is both rules as they were: the trigger alone is caught below
        (``test_every_named_mutant_of_the_vaults_trigger_is_caught``)."""
        from solvent.rules import adl
        from solvent.rules.waterfall import AdlPrice

        monkeypatch.setattr(pool_bankruptcy, "lots_lose", _the_old_reading)
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


def long_book(vault: int) -> Book:
    """JELLY's book mirrored: the whale long 42,105 at 9,500 on $100,000, alice and bob short against it."""
    rows = (
        ("whale", WHALE, 10_000_000),
        ("alice", -30_000, 100_000_000),
        ("bob", -12_105, 100_000_000),
        ("backstop_vault", 0, vault),
    )
    return opened(9_500, ("whale", "alice", "bob"), rows)


#: at 9,300 the vault takes the long over with the whale's 1,579,000; funding at +10 ppm it pays 3,916
LONG_TAKEN_OVER = 1_579_000


def observe_long() -> list:
    """The long vault at −1 after funding (+10 ppm) and at −74,401 (+200 ppm): at a move down (its lots
    lose), an unchanged mark and a move up; then flat at −1, a move down and up (nothing to deleverage)."""
    out = []
    for rate, marks in (
        (10, (9_299, 9_298, 9_300)),
        (10, (9_300,)),
        (10, (9_301,)),
        (200, (9_301,)),
    ):
        events = [MarkPrice(9_300), Funding(rate), *(MarkPrice(m) for m in marks)]
        for s in run(HYPERLIQUID, long_book(3_915 - LONG_TAKEN_OVER), events)[1:]:
            out.append((_vault(s), tuple(o for o in s.outcomes if isinstance(o, (Bankrupt, Residual)))))
    return out


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
    """Session 24's boundaries of the vault's trigger: the funding sweep at −1, 0, +1 and the move after it,
    below zero where its lots did not lose (short, and long: :func:`observe_long`)."""
    out = []
    for x in FUNDING_CASES:
        out.extend((_vault(s), _charged(s)) for s in run(HYPERLIQUID, book(x - TAKEN_OVER), list(AT_FUNDING))[1:])
    for rate, mark in ((-10, 9_658), (-200, 9_657)):
        s = run(HYPERLIQUID, book(4_066 - TAKEN_OVER), [MarkPrice(9_658), Funding(rate), MarkPrice(mark)])[-1]
        out.append((_vault(s), _charged(s)))
    return [*out, *observe_long()]


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
    """The old reading (no move read) and the move alone (no loss read), each as the vault's ``lots_lose``;
    and every one-token mutant of ``lots_lose`` (its signs, the funding sweep's ``False``)."""
    expected = observe_trigger()
    for mutant in (_the_old_reading, _the_move_alone):
        with monkeypatch.context() as m:
            m.setattr(pool_bankruptcy, "lots_lose", mutant)
            assert observe_trigger() != expected, mutant.__name__
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

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
"""

from __future__ import annotations

from solvent.properties import catalog
from solvent.rules.book import Book
from solvent.rules.engine import run
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.outcomes import AdlFill, Bankrupt, LayerUsed
from solvent.rules.presets import load_preset
from tests.rules.test_fidelity_fund_bankruptcy import opened

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


def observe():
    """The vault's boundaries beside the fund's (tests/rules/test_fidelity_fund_bankruptcy.py)."""
    from tests.rules import test_fidelity_fund_bankruptcy as fund

    at_zero = 435_449_910 - 3_347_410
    out = [vault_after(v, 9_658, 20_000) for v in (VAULT, at_zero, at_zero - 1)]
    s = run(HYPERLIQUID, book(), [MarkPrice(9_658), MarkPrice(20_000)])[1]
    out.append(tuple(o for o in s.outcomes if isinstance(o, (Bankrupt, LayerUsed))))
    from solvent.rules.wellformed import holders

    out.append([holders(load_preset(name)) for name in ("binance", "bitmex", "hyperliquid")])
    return [*out, *fund.observe()]


def test_every_mutant_of_the_pools_is_caught(monkeypatch) -> None:
    from solvent.rules import engine, liquidation, pool_bankruptcy, wellformed
    from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught

    assert_every_mutant_is_caught(
        monkeypatch, liquidation, "pools_holding", observe, at_least=1, importers=(pool_bankruptcy, wellformed)
    )
    assert_every_mutant_is_caught(
        monkeypatch, pool_bankruptcy, "deleverage_pools", observe, at_least=1, importers=(engine,)
    )
    assert_every_mutant_is_caught(monkeypatch, pool_bankruptcy, "_resolve", observe, at_least=1)

"""A fund that holds a taken-over position over several events (issue 15): BitMEX's liquidation
engine takes a position over at the bankruptcy price "including any remaining maintenance margin"
and offers it with a limit order at that price (testnet.bitmex.com/app/liquidationExamples); on
12-13 March 2020 it could not close large XBTUSD longs at once and offered them "at prices that
gradually became more aggressive", and the insurance fund carried their loss: its largest
unrealized loss on positions it still had to close was 5,652 XBT
(blog.bitmex.com/bitmex-insurance-fund-your-questions-answered/, docs/venues.md#bitmex-march-2020).
``liquidation.fund_unwind_ppm`` states it: the fund holds what it takes over, settled to mark like
any position, and sends a share of it to the book at each later sweep.

The worked example is BitMEX's own (its liquidation example: long 1 contract at $100.00,
liquidation price $99.50, bankruptcy price $99.00), a thousand times over, with the prices in
quanta of $0.10 (1,000 = $100.00), on the ``bitmex`` preset's rules (base risk limit: MM 0.5%, IM
1%): alice long 1,000 at 1,000 on 10,000 (100x: BP 990 a lot); bob short against her; the fund
holds 100,000.

- Mark 994 ($99.40, past the liquidation price): alice's equity 4,000 is under maintenance 4,970.
  The fund takes her 1,000 lots over at the mark with the 4,000 left (the money of a takeover at
  $99.00): 104,000 and long 1,000.
- Mark 985 ($98.50, the order at $99.00 unfilled): the fund's balance moves with the mark, −9,000:
  95,000, its unrealized loss 5,000 against the bankruptcy price (5 a lot). At 500,000 ppm it then
  sends 500 lots to the book at the mark; it holds 500.
- Mark 995: +5,000 on 500 held lots, 100,000; it sends 250 more.
- Without the field the fund receives the 4,000 and is done: 104,000 whatever the mark does.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules import liquidation
from solvent.rules.book import Book, new_book
from solvent.rules.engine import run
from solvent.rules.events import Funding, MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.loading import PolicyError, loads_policy
from solvent.rules.presets import load_preset, preset_path
from solvent.rules.wellformed import reasons
from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught

FUND = 100_000


def policy(unwind_ppm: int | None = 500_000):
    bitmex = load_preset("bitmex")
    return attrs.evolve(bitmex, liquidation=attrs.evolve(bitmex.liquidation, fund_unwind_ppm=unwind_ppm))


def book(alice_cash: int = 10_000) -> Book:
    """alice long 1,000 lots at 1,000 on ``alice_cash``; bob short 1,000 on 1,000,000; the fund FUND."""
    b = new_book(mark_quote=1_000)
    for name, lots, cash in (("alice", 1_000, alice_cash), ("bob", -1_000, 1_000_000), ("insurance_fund", 0, FUND)):
        i = b.index(name)
        b = b.replace_account(
            i,
            attrs.evolve(
                b.accounts[i],
                cash_quote=cash,
                principal_quote=cash if lots else 0,
                size_lots=lots,
                cost_quote=lots * 1_000,
            ),
        )
    return attrs.evolve(b, net_deposits_quote=alice_cash + 1_000_000 + FUND)


def fund_path(p, b: Book, marks: tuple[int, ...]) -> list[tuple[int, int]]:
    """The fund's (cash, lots held) after each mark."""
    out = []
    for s in run(p, b, [MarkPrice(m) for m in marks]):
        f = s.after.account("insurance_fund")
        out.append((f.cash_quote, f.size_lots))
        assert s.after.total_cash_quote() == s.after.net_deposits_quote  # conservation, every step
        assert s.after.account("clearing").cash_quote == 0
        assert sum(a.size_lots for a in s.after.accounts) == 0
    return out


class TestTheFundHoldsWhatItTakesOver:
    def test_the_preset_declares_it(self) -> None:
        # half of what it holds each sweep, a choice (the pace is not published); a depleted fund's
        # position goes to ADL (tests/rules/test_fidelity_fund_bankruptcy.py)
        assert load_preset("bitmex").liquidation.fund_unwind_ppm == 500_000

    def test_bitmexs_example_held_through_two_more_marks(self) -> None:
        assert fund_path(policy(), book(), (994, 985, 995)) == [(104_000, 1_000), (95_000, 500), (100_000, 250)]

    def test_without_the_field_the_takeover_closes_at_once(self) -> None:
        assert fund_path(policy(None), book(), (994, 985, 995)) == [(104_000, 0)] * 3

    def test_the_whole_position_at_the_next_sweep(self) -> None:
        assert fund_path(policy(1_000_000), book(), (994, 985, 995)) == [(104_000, 1_000), (95_000, 0), (95_000, 0)]

    def test_one_lot_at_least_until_it_is_gone(self) -> None:
        # 1 ppm of 1,000 lots is 0.001 lot, rounded up to one lot a sweep
        assert fund_path(policy(1), book(), (994, 985, 995))[1:] == [(95_000, 999), (104_990, 998)]

    def test_a_bankrupt_account_is_made_whole_then_taken_over(self) -> None:
        """Gapped to 980 ($98.00, past the bankruptcy price): alice is at −10,000; the fund pays it
        (insurance_fund layer) and takes her position at the mark; at 1,000 the fund has made it back."""
        path = fund_path(policy(), book(), (980, 1_000))
        assert path == [(90_000, 1_000), (110_000, 500)]
        assert fund_path(policy(None), book(), (980, 1_000)) == [(90_000, 0), (90_000, 0)]

    def test_the_fund_pays_and_receives_funding_on_what_it_holds(self) -> None:
        steps = run(policy(), book(), [MarkPrice(994), Funding(1_000)])  # 0.1%: longs pay 994 on 1,000 lots
        paid = [t for t in steps[1].transfers if t.reason is Reason.FUNDING and t.source == "insurance_fund"]
        assert [t.amount_quote for t in paid] == [994]
        assert steps[1].after.account("insurance_fund").size_lots == 500  # the funding sweep unwinds too

    def test_the_unwind_is_a_fill_at_the_mark(self) -> None:
        s = run(policy(), book(), [MarkPrice(994), MarkPrice(985)])[1]
        moved = [t for t in s.transfers if t.reason is Reason.LIQUIDATION_SLIPPAGE]
        assert moved == []  # at the mark: no cash, the loss was settled by the move
        assert s.after.account("liquidity").size_lots == 500

    def test_a_book_where_the_fund_holds_is_well_formed_only_under_the_field(self) -> None:
        held = run(policy(), book(), [MarkPrice(994)])[0].after
        assert reasons(policy(), held, margin=None) == []
        assert any("hold positions" in r for r in reasons(policy(None), held, margin=None))

    def test_only_with_a_takeover_at_the_bankruptcy_price(self) -> None:
        with pytest.raises(ValueError, match="needs execution = 'bankruptcy'"):
            attrs.evolve(load_preset("binance").liquidation, fund_unwind_ppm=500_000)


def observe():
    """The boundary cases: the share rounded up, the last lot, a flat fund (sweep with nothing held)."""
    out = [fund_path(policy(u), book(), (994, 985, 995)) for u in (1, 333_333, 500_000, 1_000_000, None)]
    out.append(fund_path(policy(), book(), (980, 1_000)))
    return out


def test_every_mutant_of_the_unwind_is_caught(monkeypatch) -> None:
    from solvent.rules import bankruptcy, engine

    # unwind_lots has no operator to swap; its rounding up is test_one_lot_at_least_until_it_is_gone
    assert_every_mutant_is_caught(monkeypatch, liquidation, "unwind_fund", observe, at_least=1, importers=(engine,))
    assert_every_mutant_is_caught(
        monkeypatch, liquidation, "counterparty", observe, at_least=1, importers=(bankruptcy,)
    )
    assert_every_mutant_is_caught(monkeypatch, liquidation, "fund_holds", observe, at_least=1)


def _bitmex_text(execution: str = "bankruptcy") -> str:
    text = preset_path("bitmex").read_text()
    text = text.replace('execution = "bankruptcy"', f'execution = "{execution}"')
    return text.replace("fund_unwind_ppm = 500000", "fund_unwind_ppm = 250000", 1)


def test_a_policy_file_declares_it() -> None:
    assert loads_policy(_bitmex_text(), source="venue.toml").liquidation.fund_unwind_ppm == 250_000


def test_with_a_market_close_the_file_is_refused_at_the_field() -> None:
    with pytest.raises(PolicyError) as caught:
        loads_policy(_bitmex_text("market"), source="venue.toml")
    assert "needs execution = 'bankruptcy'" in str(caught.value)
    assert "@ $.liquidation.fund_unwind_ppm (venue.toml:" in str(caught.value)

"""dYdX v4's deleveraging (issue 15): partial quantities priced per fill, and offsetting accounts
whose bankruptcy prices do not overlap skipped (docs/venues.md#dydx-v4-deleveraging).

- ``[[deficit]] layer = "adl"`` with ``gap_rounding = "per_fill"``: each fill takes
  ``min(remaining, its position)`` and is priced from the bankrupt account's current deficit,
  ⌈D × q / L⌉ over the mark, rounded once per fill (v4-chain protocol/x/clob/keeper:
  deleveraging.go ``OffsetSubaccountPerpetualPosition``, liquidations.go
  ``GetBankruptcyPriceInQuoteQuantums``, "-DNNV - TNC × |DMMR| / TMMR", "rounded towards
  positive infinity"). deleveraging_test.go "Can get multiple offsetting subaccounts": a 1 BTC
  short with TNC $4,999 is offset by two 0.5 BTC longs, each at $27,499.5, the TNC shared evenly.
- ``overlap_only``: a fill that would leave the offsetting account riskier is refused and the next
  account is tried (``IsValidStateTransitionForUndercollateralizedSubaccount``); deleveraging_test.go
  "Skips subaccounts with non-overlapping bankruptcy prices": a 1 BTC long at TNC −$1 is skipped
  and the next long takes the whole position.

The worked example, at the ``dydx-v4`` preset's units (1 quote quantum = 0.000001 USDC, BTC's 1e-8
lot as in v4-chain's test constants, so $50,000 a BTC is 500 a lot): carl short 1 BTC (1e8 lots),
three longs of 0.5 BTC, dave_under (first in book order, already $1 under water: a block's state
between two of its liquidations), dave and erin; the book short 0.5 BTC; the fund empty. BTC moves to
$51,000 (510): carl is −999 quanta (−$0.000999).

- Per fill, with the overlap rule (the preset): dave_under is skipped; dave pays ⌈999 / 2⌉ = 500,
  erin 499; carl ends at 0. dave_under, then liquidated in the same sweep at −$1 + $500 of gain,
  is deleveraged against the book.
- Per lot (the old rule): the gap is ⌈999 / 1e8⌉ = 1 quantum a lot, so dave and erin pay 5e7 each
  ($50 each, $100 for a deficit of $0.000999) and the fund receives the $99.999001 excess: a lot
  this fine makes the per-lot rounding cost the winners up to $100 a BTC.
- Without the overlap rule, dave_under, under water, takes half of carl's position and pays 500 of
  his deficit, which his own deleveraging then passes to the book.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules import adl
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.loading import PolicyError, loads_policy
from solvent.rules.outcomes import AdlFill, BookDeleveraged
from solvent.rules.presets import load_preset, preset_path
from solvent.rules.waterfall import Adl, GapRounding
from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught

BTC = 100_000_000  # lots of 1e-8 BTC
HALF = BTC // 2
MARK, MOVED = 500, 510  # $50,000 and $51,000 a BTC


def policy(per_fill: bool = True, overlap: bool = True):
    dydx = load_preset("dydx-v4")
    rounding = GapRounding.PER_FILL if per_fill else GapRounding.PER_LOT
    layers = tuple(
        attrs.evolve(layer, gap_rounding=rounding, overlap_only=overlap) if isinstance(layer, Adl) else layer
        for layer in dydx.deficit
    )
    return attrs.evolve(dydx, deficit=layers)


def book(carl_cash: int = BTC * 10 - 999) -> Book:
    """carl short 1 BTC on ``carl_cash`` (−999 after the move to 510); dave_under long 0.5 BTC at −$1
    after it; dave and erin long 0.5 BTC on $50,000; the book short 0.5 BTC; the fund empty."""
    b = new_book(mark_quote=MARK, traders=("carl", "dave_under", "dave", "erin"))
    rows = (
        ("carl", -BTC, carl_cash),
        ("dave_under", HALF, -1_000_000 - HALF * 10),
        ("dave", HALF, 50_000_000_000),
        ("erin", HALF, 50_000_000_000),
        ("liquidity", -HALF, 50_000_000_000),
    )
    for name, lots, cash in rows:
        i = b.index(name)
        b = b.replace_account(
            i,
            attrs.evolve(
                b.accounts[i],
                cash_quote=cash,
                principal_quote=max(cash, 0),
                size_lots=lots,
                cost_quote=lots * MARK,
            ),
        )
    return attrs.evolve(b, net_deposits_quote=sum(a.cash_quote for a in b.accounts))


def underwater_by(quanta: int) -> Book:
    """The book with dave_under ``quanta`` below zero after the move (negative: above zero)."""
    b = book()
    i = b.index("dave_under")
    b = b.replace_account(i, attrs.evolve(b.accounts[i], cash_quote=-quanta - HALF * 10, principal_quote=0))
    return attrs.evolve(b, net_deposits_quote=sum(a.cash_quote for a in b.accounts))


def frank(equity_after: int, lots: int = 2 * BTC, carl_deficit: int = 999) -> dict[tuple[str, str], int]:
    """The worked example with frank long ``lots`` next after carl in the book (the sweep reaches
    carl first), at ``equity_after`` after the move, carl ``carl_deficit`` below zero, and the book
    short ``lots`` more to balance; what each paid."""
    b = book(BTC * 10 - carl_deficit)
    b = attrs.evolve(b, accounts=(b.accounts[0], attrs.evolve(b.accounts[1], name="frank"), *b.accounts[1:]))
    i, j = b.index("frank"), b.index("liquidity")
    cash = equity_after - lots * 10
    b = b.replace_account(
        i,
        attrs.evolve(b.accounts[i], cash_quote=cash, size_lots=lots, cost_quote=lots * MARK, principal_quote=0),
    )
    book_side = b.accounts[j]
    b = b.replace_account(
        j,
        attrs.evolve(book_side, size_lots=book_side.size_lots - lots, cost_quote=book_side.cost_quote - lots * MARK),
    )
    b = attrs.evolve(b, net_deposits_quote=sum(a.cash_quote for a in b.accounts))
    return outcome(policy(), b)[0]


def paid(s) -> dict[tuple[str, str], int]:
    """ADL cash: (payer, bankrupt account) → amount."""
    out: dict[tuple[str, str], int] = {}
    for t in s.transfers:
        if t.reason is Reason.ADL:
            out[(t.source, t.destination)] = out.get((t.source, t.destination), 0) + t.amount_quote
    return out


def outcome(p, b: Book | None = None):
    s = step(p, b or book(), MarkPrice(MOVED))
    assert s.after.total_cash_quote() == s.after.net_deposits_quote
    assert sum(a.size_lots for a in s.after.accounts) == 0
    cash = {a.name: a.cash_quote for a in s.after.accounts}
    dust = sum(t.amount_quote for t in s.transfers if t.reason is Reason.PRO_RATA_DUST)
    return paid(s), cash["carl"], cash["dave_under"], dust


class TestDydxDeleveraging:
    def test_the_preset_declares_both(self) -> None:
        layer = load_preset("dydx-v4").adl
        assert layer.gap_rounding is GapRounding.PER_FILL and layer.overlap_only
        assert (
            load_preset("binance").adl.gap_rounding is GapRounding.PER_LOT
            and not load_preset("binance").adl.overlap_only
        )

    def test_per_fill_with_the_overlap_rule(self) -> None:
        adl_paid, carl, under, dust = outcome(policy())
        assert adl_paid == {("dave", "carl"): 500, ("erin", "carl"): 499, ("liquidity", "dave_under"): 1_000_000}
        assert (carl, under, dust) == (0, 0, 0)

    def test_per_lot_the_fine_lot_pays_a_quantum_a_lot(self) -> None:
        adl_paid, carl, under, dust = outcome(policy(per_fill=False))
        assert adl_paid == {("dave", "carl"): HALF, ("erin", "carl"): HALF}
        assert (carl, under, dust) == (0, 0, BTC - 999)  # $99.999001 to the fund for a $0.000999 deficit
        # ... which then pays dave_under's $1 whole (the fund's all or nothing), so the book is spared

    def test_without_the_overlap_rule_the_underwater_long_pays(self) -> None:
        """dave_under takes half of carl's short, pays 500 of carl's deficit and is left flat at
        −$1.0005, which no layer reaches (it holds no position to liquidate)."""
        adl_paid, carl, under, dust = outcome(policy(overlap=False))
        assert adl_paid == {("dave_under", "carl"): 500, ("dave", "carl"): 499}
        assert (carl, under, dust) == (0, -1_000_500, 0)

    def test_the_skipped_account_is_recorded_with_no_lots(self) -> None:
        s = step(policy(), book(), MarkPrice(MOVED))
        fills = [(o.winner, o.lots) for o in s.outcomes if isinstance(o, AdlFill) and o.bankrupt == "carl"]
        assert fills == [("dave_under", 0), ("dave", HALF), ("erin", HALF)]
        assert [o.lots for o in s.outcomes if isinstance(o, BookDeleveraged)] == [HALF]  # dave_under's, by the book

    def test_a_deficit_that_divides_evenly_is_paid_exactly(self) -> None:
        # carl at −1,000: 500 and 500, whichever rounding
        for per_fill in (True, False):
            adl_paid, carl, _, _ = outcome(policy(per_fill=per_fill), book(BTC * 10 - 1_000))
            assert carl == 0
        adl_paid, _, _, dust = outcome(policy(), book(BTC * 10 - 1_000))
        assert (adl_paid[("dave", "carl")], adl_paid[("erin", "carl")], dust) == (500, 500, 0)

    def test_an_offsetting_account_left_at_initial_margin_is_served(self) -> None:
        """The overlap rule's first branch at its boundary: dave_under at +500 quanta after the move
        pays 500 for carl's first fill and is flat at 0, its initial margin: served. One quantum
        less and it would end below it, no less risky (maintenance 0): skipped."""
        adl_paid, carl, under, _ = outcome(policy(), underwater_by(-500))
        assert adl_paid == {("dave_under", "carl"): 500, ("dave", "carl"): 499} and (carl, under) == (0, 0)
        adl_paid, carl, under, _ = outcome(policy(), underwater_by(-499))
        assert adl_paid[("dave", "carl")] == 500 and ("dave_under", "carl") not in adl_paid

    def test_a_partial_fill_is_served_while_the_account_is_no_riskier(self) -> None:
        """The ratio branch: frank, long 2 BTC and first in carl's queue, takes all of carl's 1 BTC and
        pays the 999; his maintenance halves (3% of 2 BTC to 3% of 1 BTC), so he is no riskier iff
        (E − 999) × 2 ≥ E: served at E = 1,998, skipped at 1,997 (both far below initial margin)."""
        assert frank(1_998)[("frank", "carl")] == 999
        assert ("frank", "carl") not in frank(1_997) and frank(1_997)[("dave", "carl")] == 500

    def test_a_fill_that_leaves_initial_margin_is_served_even_if_riskier(self) -> None:
        """The first branch: frank long 10 BTC pays all of carl's $3,000 deficit for 1 BTC of it;
        his maintenance falls only to 9/10, so by the ratio he is riskier, but at equity $25,950
        he is left at $22,950, exactly the initial margin of 9 BTC (5% × 9 × $51,000): served.
        One quantum less: below it and riskier, skipped."""
        im = 9 * BTC * MOVED * 50_000 // 1_000_000
        assert frank(im + 3_000_000_000, 10 * BTC, 3_000_000_000)[("frank", "carl")] == 3_000_000_000
        assert ("frank", "carl") not in frank(im + 3_000_000_000 - 1, 10 * BTC, 3_000_000_000)

    def test_fill_gap_rounds_once_per_fill(self) -> None:
        assert adl.fill_gap(999, BTC, HALF) == 500
        assert adl.fill_gap(499, HALF, HALF) == 499
        assert adl.fill_gap(999, BTC, 0) == 0
        assert adl.fill_gap(-5, BTC, HALF) == 0  # no deficit: the winners pay nothing over the mark


class TestPolicyFile:
    def test_per_fill_needs_the_bankruptcy_price(self) -> None:
        with pytest.raises(ValueError, match="needs price = 'bankruptcy'"):
            Adl(price=adl.AdlPrice.MARK, gap_rounding=GapRounding.PER_FILL)

    def test_a_misspelt_value_names_the_field(self) -> None:
        text = preset_path("dydx-v4").read_text().replace('gap_rounding = "per_fill"', 'gap_rounding = "per_fil"')
        with pytest.raises(PolicyError) as caught:
            loads_policy(text, source="venue.toml")
        assert "gap_rounding" in str(caught.value) and "per_fill" in str(caught.value)

    def test_not_with_a_fee_to_close(self) -> None:
        text = (
            preset_path("bybit")
            .read_text()
            .replace('price = "bankruptcy"', 'price = "bankruptcy"\ngap_rounding = "per_fill"', 1)
        )
        text = text.replace("price_on_tick = true", "price_on_tick = false")
        with pytest.raises(PolicyError) as caught:
            loads_policy(text, source="venue.toml")
        assert "fee_to_close" in str(caught.value)


def observe():
    cases = [policy(), policy(per_fill=False), policy(overlap=False), policy(per_fill=False, overlap=False)]
    out = [outcome(p) for p in cases]
    out.append(outcome(policy(), book(BTC * 10 - 1_000)))
    out += [outcome(policy(), underwater_by(q)) for q in (-500, -499, -2_000)]
    out += [frank(e) for e in (1_998, 1_997)]
    im = 9 * BTC * MOVED * 50_000 // 1_000_000
    out += [frank(im + 3_000_000_000 - k, 10 * BTC, 3_000_000_000) for k in (0, 1)]
    return out


def test_every_mutant_of_the_rules_is_caught(monkeypatch) -> None:
    assert_every_mutant_is_caught(monkeypatch, adl, "overlaps", observe, at_least=5)
    assert_every_mutant_is_caught(monkeypatch, adl, "_close", observe, at_least=1)
    assert_every_mutant_is_caught(monkeypatch, adl, "fill_gap", observe, at_least=0)

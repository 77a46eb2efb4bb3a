"""Reports speak the venue's terms on an inverse contract (XBTUSD, the ``bitmex`` preset).

The engine holds an XBTUSD long as a short of coin value (``solvent.rules.contract``); every
report turns that back: contracts long are positive, prices are USD, and the coin value per
contract the engine settled on is shown beside the price so the story stays exact.
"""

from __future__ import annotations

import json

import pytest
from golden_support import check

from solvent.reports import html_report, json_report, markdown, sarif, text
from solvent.reports.story import book_changes, describe_event, describe_outcome, told
from solvent.rules.contract import LINEAR
from solvent.rules.outcomes import Liquidated
from solvent.verdicts.check import PolicyReport

#: the gap-crash story on XBTUSD: 100 contracts at $10,000 (10,000 XBt each); the gap lands on
#: $9,783, whose coin value 10^8 / 9,783 rounds to 10,222 XBt
TRADE = "alice buys 100 contracts from bob at 10,000 (alice takes)"
GAP = "mark 10,000 → 9,783 (−2.17%; coin value XBT 0.0001 → XBT 0.00010222 per contract)"
#: the same, told in quanta (no policy units): coin values in XBt
GAP_QUANTA = "mark 10,000 → 9,783 (−2.17%; coin value 10,000 → 10,222 per contract)"


@pytest.fixture(scope="module")
def bitmex() -> PolicyReport:
    return check("bitmex", scenarios=("gap-crash",))


def test_the_story_reads_in_usd_and_contracts(bitmex: PolicyReport) -> None:
    (t,) = told(bitmex)
    words = [describe_event(s.event, s.before, t.contract, t.money) for s in t.steps]
    assert words[-2:] == [TRADE, GAP]
    # amounts in coin, as BitMEX states them (quote = "1 XBt (0.00000001 XBT)")
    assert words[2] == "alice deposits XBT 0.00011001"  # 11,001 XBt
    quanta = [describe_event(s.event, s.before, t.contract) for s in t.steps]
    assert quanta[-2:] == [TRADE, GAP_QUANTA]
    # the same events read as the engine holds them: bob buys coin value from alice
    assert (
        describe_event(t.steps[-2].event, t.steps[-2].before, LINEAR)
        == "bob buys 100 lots from alice at 10,000 (alice takes)"
    )


def test_the_book_shows_contracts_long_as_positive(bitmex: PolicyReport) -> None:
    (t,) = told(bitmex)
    v = t.group.violation
    headers, rows = book_changes(v.step.before, v.step.after, t.contract)
    assert "size (contracts)" in headers
    sizes = {name: cells[headers.index("size (contracts)") - 1] for name, cells in rows}
    assert sizes["alice"] == (100, 0)  # taken over
    assert sizes["bob"] == (-100, 0)  # short, deleveraged at alice's bankruptcy price


def test_outcomes_show_the_venue_price_and_side(bitmex: PolicyReport) -> None:
    (t,) = told(bitmex)
    liquidated = next(o for o in t.group.step.outcomes if isinstance(o, Liquidated))
    assert liquidated.size_lots == -100  # the engine's sign
    said = describe_outcome(liquidated, t.contract)
    assert "size_lots=100," in said and "fill_price_quote=9,783" in said


def test_every_format_carries_it(bitmex: PolicyReport) -> None:
    md = markdown.render([bitmex])
    assert TRADE in md and GAP in md and "size (contracts)" in md
    assert GAP in html_report.render([bitmex])
    assert GAP in text.render(bitmex) and "cash (XBT)" in text.render(bitmex)
    assert GAP in sarif.render([bitmex])
    data = json.loads(json_report.render([bitmex]))
    policy = data["policies"][0]
    assert policy["contract"] == {
        "kind": "inverse",
        "value_quanta": 10**8,
        "value_rounding": "half_even",
        "price": "whole USD per XBT",
    }
    last = policy["findings"][0]["steps"][-1]
    assert (last["mark_before"], last["mark_after"], last["price_before"], last["price_after"]) == (
        10_000,
        10_222,
        10_000,
        9_783,
    )


def test_one_lot_or_contract_is_singular(bitmex: PolicyReport) -> None:
    """A trade of one lot says "1 lot" ("1 contract" on an inverse contract); two or more, the plural."""
    from solvent.rules import events as ev

    one = ev.Trade(buyer="alice", seller="bob", lots=1, price_quote=10_000)
    assert describe_event(one, None, LINEAR) == "alice buys 1 lot from bob at 10,000 (alice takes)"
    two = ev.Trade(buyer="alice", seller="bob", lots=2, price_quote=10_000)
    assert describe_event(two, None, LINEAR) == "alice buys 2 lots from bob at 10,000 (alice takes)"
    (t,) = told(bitmex)
    assert describe_event(one, None, t.contract) == "bob buys 1 contract from alice at 10,000 (alice takes)"
    assert describe_event(two, None, t.contract) == "bob buys 2 contracts from alice at 10,000 (alice takes)"

"""A finding (session 21, helper C): BitMEX's per-trader claims were false on the engine at N = 3.

Found by hand while building the payer's argument with the fund's lots and the takeover
(docs/solver-notes.md#bitmexs-payer-claims-with-the-takeover-session-21), then replayed on the
concrete engine within the prover's own bounds and every starting assumption. ADL spreads the gap
over the lots its queue can reach (``rules.adl.reach``: the bankrupt position less the lots the
fund holds opposite it, docs/model.md#the-gap-is-spread-over-the-lots-adl-can-close), and that
rule is fair only while the fund still has the gain those lots made on the move. Two bankruptcies
in one sweep spend it on the first while the queue, which walks the whole position, leaves the
fund's lots open for the second; the second's gap per lot then passes the move, and the winner
ADL reaches pays more than its lots gained:

- **N = 3, nothing in reach** (:func:`three`): alice short 25 and bob short 10 at 10,000, each at
  its initial margin (2,518 and 1,020 XBt); charlie long 35 on 3,518; the fund long 20 it took
  over, no cash; the book short 20. The mark goes to 11,000. The fund gains 20,000 and sends
  ⌈20 / 2⌉ = 10 lots to the book. Alice owes 22,482: the fund pays its 20,000, and ADL spreads the
  2,482 left over 25 − 10 = 15 lots, 166 a lot; charlie, first in the queue, takes all 25 lots
  (4,150), so the fund keeps its 10 and gets 1,668 back as dust. Bob owes 8,980: the fund pays
  its 1,668; the fund's 10 lots cover bob's 10, so the reach is 0 and the gap is the whole 7,312
  *a lot* (``bankruptcy_gap_per_lot`` over ``safe_divisor(0)`` = 1). Charlie still holds 10 lots
  opposite, so the queue takes them at that gap: 73,120 for lots that gained 10,000; the 65,808
  above bob's deficit goes to the fund as dust. Charlie ends at −38,752, the fund at +65,808.
- **N = 4, two lots in reach** (:func:`four`): dave long 50 first in the queue takes all of alice's
  50, so the fund keeps 8 of its lots with 986 of cash; bob's 1,980 less the fund's 986 is spread
  over 10 − 8 = 2 lots, 497 a lot against a move of 300: charlie, long 2 on 204, pays 994 and ends
  at −190.

``no-negative-equity``, ``loss-bounded-by-collateral`` and ``claims-backed`` fail (and
``principal-protected``, which BitMEX accepts). BitMEX accepts none of the first three, and no
BitMEX rule charges a winner beyond the move: it closes them "at the bankruptcy price of the
initial liquidated order" (bitmex.com/app/autoDeleveraging), bob's own here (198 a lot at N = 4,
898 at N = 3, each within the move). So this is a finding for the lead, not a preset's ``accepts``.

The fix (``bankruptcy.spread_over``, session 21): since session 20 the fund takes over what ADL
leaves (``bankruptcy.fund_takes_over``, below zero if need be), so the spread's reason (no fund below
zero for the quantum its lots leave) is gone. A trader's ADL on such a policy spreads the gap over
the whole position again: each winner pays at most the move a lot (the payer's charge lemma on
bitmex, sat before, is unsat), and what the fund's lots, closed at the mark, leave is the fund's
(docs/solver-notes.md#bitmexs-payer-claims-with-the-takeover-session-21). The stories below are
asked of both: the engine (the claims hold) and the engine with ``spread_over`` mutated back to the
rule of sessions 16-20 (:func:`_spread_back`, the finding).
"""

from __future__ import annotations

import pytest

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.properties.story import Story
from solvent.rules import adl, bankruptcy
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.liquidation import pools_holding
from solvent.rules.outcomes import AdlFill
from solvent.rules.presets import resolve_policy
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.refinement import replay
from tests.rules.test_adl_reach import unreached_before_session_27
from tests.solver.bitmex_support import book, trader

BITMEX = resolve_policy("bitmex")
FAILING = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed", "principal-protected")


def three(charlie: int = 3_518) -> Story:
    traders = (trader("alice", 2_518, -25), trader("bob", 1_020, -10), trader("charlie", charlie, 35))
    return Story(book(traders, 20), (MarkPrice(price_quote=11_000),))


def four(charlie: int = 204) -> Story:
    traders = (
        trader("dave", 5_036, 50),
        trader("alice", 5_036, -50),
        trader("bob", 1_020, -10),
        trader("charlie", charlie, 2),
    )
    return Story(book(traders, 16), (MarkPrice(price_quote=10_300),))


def _bounds(story: Story) -> Bounds:
    return for_policy(Bounds(accounts=len(story.book.traders), events=1), BITMEX)


def _replayed(story: Story, claim: str):
    result = replay(BITMEX, catalog.get(claim), story, _bounds(story))
    # within the prover's bounds and every starting assumption: a story z3 could give
    assert result.outside == () and not result.rejected
    return result


def _after(story: Story):
    [step] = _replayed(story, "conservation").steps
    return step, {a.name: a for a in step.after.accounts}


def _adl(step, bankrupt: str) -> list[tuple[str, int, int]]:
    return [
        (o.winner, o.lots, o.gap_per_lot_quote)
        for o in step.outcomes
        if isinstance(o, AdlFill) and o.bankrupt == bankrupt and o.lots
    ]


def _spread_back(monkeypatch, reach_of_27: bool = False) -> None:
    """The rule of sessions 16-20: a trader's ADL spreads its gap over the lots the queue reaches
    (every pool that holds what it takes over left out, ``adl.reach``), with ``reach`` as it was
    then (the pools' opposing lots counted out whoever closes the position) unless ``reach_of_27``."""
    monkeypatch.setattr(bankruptcy, "spread_over", lambda policy: pools_holding(policy.liquidation))
    if not reach_of_27:
        monkeypatch.setattr(adl, "unreached", unreached_before_session_27)


@pytest.mark.parametrize("claim", FAILING)
@pytest.mark.parametrize("story", [three, four])
def test_the_spread_broke_the_per_trader_claims_within_the_provers_bounds(story, claim: str, monkeypatch) -> None:
    _spread_back(monkeypatch)
    assert _replayed(story(), claim).violates, claim
    # a finding: of the per-trader claims BitMEX accepts principal-protected (a winner may pay
    # beyond what it made) only; claims-backed is accepted for the fund's takeover below zero
    # (session 22), which these stories are not: their unbacked claims are a trader's
    assert (claim in BITMEX.accepts) == (claim in ("principal-protected", "claims-backed"))


HOLDING = (*FAILING[:3], "adl-price-fair", "deficit-charged-once", "waterfall-order")


@pytest.mark.parametrize(
    ("story", "claim"),
    # claims-backed at N = 4 fails for the fund's part alone (the takeover's 1,554 below zero,
    # test_two_lots_in_reach_now_the_fund_takes_over_what_its_lots_leave)
    [(story, claim) for story in (three, four) for claim in HOLDING if (story, claim) != (four, "claims-backed")],
)
def test_the_claims_hold_on_the_stories_now(story, claim: str) -> None:
    assert not _replayed(story(), claim).violates, claim


@pytest.mark.parametrize("claim", ["conservation", "open-interest-balance"])
@pytest.mark.parametrize("spread", [False, True])
@pytest.mark.parametrize("story", [three, four])
def test_the_money_is_all_there(story, spread: bool, claim: str, monkeypatch) -> None:
    """Either way the loss is not lost: it is charlie's (the spread), or the fund's (the takeover)."""
    if spread:
        _spread_back(monkeypatch)
    assert not _replayed(story(), claim).violates, claim


def test_nothing_in_reach_charged_the_whole_deficit_a_lot(monkeypatch) -> None:
    _spread_back(monkeypatch)
    step, after = _after(three())
    # alice: the fund's 20,000, then 2,482 over the 15 lots in reach, on charlie's 25
    assert _adl(step, "alice") == [("charlie", 25, 166)]
    # bob: 8,980 less the fund's 1,668 dust; the fund's 10 lots cover his 10, so reach 0: 7,312 a lot
    assert _adl(step, "bob") == [("charlie", 10, 7_312)]
    assert (after["charlie"].cash_quote, after["charlie"].size_lots) == (-38_752, 0)
    assert (after["insurance_fund"].cash_quote, after["insurance_fund"].size_lots) == (65_808, 10)
    assert (after["alice"].cash_quote, after["bob"].cash_quote) == (0, 0)
    dust = [t.amount_quote for t in step.transfers if t.source == "bob" and t.reason is Reason.PRO_RATA_DUST]
    assert dust == [65_808]


def test_two_lots_in_reach_charged_above_the_move(monkeypatch) -> None:
    _spread_back(monkeypatch)
    step, after = _after(four())
    assert _adl(step, "alice") == [("dave", 50, 123)]  # ⌈5,164 / 42⌉: dave first, the fund keeps 8
    assert _adl(step, "bob") == [("charlie", 2, 497)]  # ⌈(1,980 − 986) / 2⌉ against a move of 300
    assert (after["charlie"].cash_quote, after["charlie"].size_lots) == (-190, 0)
    assert after["insurance_fund"].cash_quote == 0


@pytest.mark.parametrize(("story", "short"), [(three, 38_752), (four, 190)])
@pytest.mark.parametrize("more", [0, 1])
def test_charlie_ended_below_zero_to_the_quantum(story, short: int, more: int, monkeypatch) -> None:
    """The boundary: with ``short`` more cash charlie ends at exactly zero and the three claims hold;
    one quantum less and he ends at −1 and they fail (his ranking and the fills do not move)."""
    _spread_back(monkeypatch)
    [charlie] = [a for a in story().book.traders if a.name == "charlie"]
    grown = story(charlie=charlie.cash_quote + short - more)
    _, after = _after(grown)
    assert after["charlie"].cash_quote == -more
    for claim in FAILING[:3]:
        assert bool(_replayed(grown, claim).violates) == bool(more), claim


def test_the_spread_with_session_27s_reach(monkeypatch) -> None:
    """The spread put back on the engine of session 27, whose ``reach`` leaves out only the fund's lots
    the fills leave (``adl.unreached``). N = 3: charlie still holds 10 lots opposite bob after taking
    alice's 25, so the queue closes all of bob's 10 and the fund keeps its 10: nothing is left out,
    each gap is over the whole position, and charlie pays within the move (the numbers of the engine
    without the spread, below). N = 4: dave takes all of alice's 50, so her gap is over all 50 (104 a
    lot, 36 of dust to the fund, not 986); charlie holds only 2 opposite bob's 10, the fund's 8 are
    what the fills leave, and bob's 1,944 is spread over 2 lots, 972 a lot against a move of 300:
    charlie ends at −1,140. Session 21's decision (the gap over the whole position where the fund
    takes over) is still what keeps BitMEX's winners within the move."""
    _spread_back(monkeypatch, reach_of_27=True)
    step, after = _after(three())
    assert _adl(step, "alice") == [("charlie", 25, 100)]
    assert _adl(step, "bob") == [("charlie", 10, 897)]
    assert after["charlie"].cash_quote == 27_048
    step, after = _after(four())
    assert _adl(step, "alice") == [("dave", 50, 104)]
    assert _adl(step, "bob") == [("charlie", 2, 972)]  # ⌈(1,980 − 36) / 2⌉
    assert after["charlie"].cash_quote == -1_140


def test_nothing_in_reach_now_each_pays_within_the_move() -> None:
    """N = 3 now: alice's 2,482 over her 25 lots (100 a lot), bob's 8,962 over his 10 (897 a lot,
    the move 1,000): charlie pays 11,470 for 35 lots that gained 35,000; the fund keeps its 10 lots
    and the 26 of dust."""
    step, after = _after(three())
    assert _adl(step, "alice") == [("charlie", 25, 100)]
    assert _adl(step, "bob") == [("charlie", 10, 897)]
    assert (after["charlie"].cash_quote, after["charlie"].size_lots) == (27_048, 0)
    assert (after["insurance_fund"].cash_quote, after["insurance_fund"].size_lots) == (8, 10)
    assert not [t for t in step.transfers if t.reason is Reason.FUND_TAKEOVER and t.amount_quote]


def test_two_lots_in_reach_now_the_fund_takes_over_what_its_lots_leave() -> None:
    """N = 4 now: bob's 1,944 (after the fund's 36 of dust) over his 10 lots, 195 a lot: charlie's 2
    pay 390, the fund's 8, closed at the mark, leave 1,554, and the fund takes them over."""
    step, after = _after(four())
    assert _adl(step, "alice") == [("dave", 50, 104)]  # ⌈5,164 / 50⌉
    assert _adl(step, "bob") == [("charlie", 2, 195)]  # ⌈1,944 / 10⌉, the move 300
    taken = [(t.destination, t.amount_quote) for t in step.transfers if t.reason is Reason.FUND_TAKEOVER]
    assert [x for x in taken if x[1]] == [("bob", 1_554)]
    assert (after["charlie"].cash_quote, after["bob"].cash_quote) == (414, 0)
    assert (after["insurance_fund"].cash_quote, after["insurance_fund"].size_lots) == (-1_554, 0)
    view = StepView.of(BITMEX, step)
    assert not catalog.get("insurance-fund-non-negative").holds(view)  # accepted: the fund's loss
    assert not catalog.get("claims-backed").holds(view)  # not accepted: no cash behind it


def test_without_the_takeover_bob_is_left_below_zero(monkeypatch) -> None:
    """The takeover mutated away: the fund's 8 lots closed at the mark leave bob's 1,554 unpaid, and
    no-negative-equity fails on him instead (the takeover is what carries it)."""
    monkeypatch.setattr(bankruptcy, "fund_takes_over", lambda policy, ctx, name: ctx)
    _, after = _after(four())
    assert after["bob"].cash_quote == -1_554
    assert _replayed(four(), "no-negative-equity").violates

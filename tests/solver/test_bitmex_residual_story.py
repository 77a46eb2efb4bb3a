"""A finding (session 20, helper D): BitMEX's per-trader claims are false on the engine at N = 2.

Found by hand while extending the payer's facts to BitMEX's pools (they do not extend: the charge
lemma has a model, ``payer_lemma.charge_question`` on bitmex, a gap per lot above the move where
the gap is spread over the lots ADL can reach, ``rules.adl.reach``), then replayed on the concrete
engine within the prover's own bounds and assumptions:

alice short 50 and bob short 10 at 10,000, each at its initial margin (1%: 5,036 and 1,020 XBt);
the insurance fund long 25 that it took over, with 100 of cash; the book long 35. The mark goes to
10,300 (+3%). The fund gains 7,500 on its 25 lots, then sends ⌈25 / 2⌉ = 13 of them to the book
before the turns. Alice owes 9,964: the fund pays all it has, 7,600; ADL spreads the 2,364 left
over the 38 lots it can reach, 63 a lot (the book takes 48), and the 660 above her deficit goes
back to the fund as dust. Bob owes 1,980: the fund pays its 660; every lot opposite him is the
fund's own (the book and alice are flat), so ADL reaches none, his position closes into the fund
at the mark, and 1,320 is left: a ``Residual``, bob at −1,320.

Before session 20's fix bob ended at −1,320 as a ``Residual``: ``no-negative-equity``,
``loss-bounded-by-collateral`` and ``claims-backed`` failed, and BitMEX's preset accepted none of them.
The loss is real: bob's counterparty for those lots is the fund, whose gain on them already went to
alice; it ends either on bob or on the fund. The lead's decision
(docs/model.md#a-deficit-nobody-opposite-can-take-on-a-fund-that-holds-what-it-takes-over) puts it
on the fund, as BitMEX does ("its loss against the mark is the insurance fund's"), and session 20
built it (``rules.bankruptcy.fund_takes_over``): the deficit left once ADL closed the position is the
fund's, paid below its floor as ``Reason.FUND_TAKEOVER`` within the ADL layer's record. Bob ends at
0 and the fund at −1,320 holding nothing (its 10 lots were the ones closed against bob), so nobody
deleverages it: ``insurance-fund-non-negative`` fails (BitMEX accepts it: the fund bears the loss
against the mark) and ``claims-backed`` fails for the fund's part (accepted since session 22: the
same takeover, docs/model.md#superseded-in-session-22-claims-backed-accepted-on-bitmex); the
per-trader claims hold on this story.

Since session 21 (helper C, ``rules.bankruptcy.spread_over``) a trader's ADL on BitMEX spreads its gap
over the whole position, not over the lots the queue reaches: the spread charged the winners for
the fund's lots beyond the move (tests/solver/test_bitmex_payer_story.py), and what the fund's lots,
closed at the mark, leave unpaid is the fund's takeover anyway. Here alice's 2,364 is 48 a lot on
her 50: the book's 48 lots pay 2,304 and the fund's 2 leave 60, which the fund takes over (it is at
−60); bob's fund layer pays nothing, and his whole 1,980 is taken over: the fund ends at −2,040.
"""

from __future__ import annotations

import pytest

from solvent.properties import catalog
from solvent.properties.story import Story
from solvent.rules.book import Book, Role
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.outcomes import LayerUsed, Residual
from solvent.rules.presets import resolve_policy
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.refinement import replay
from tests.solver.bitmex_support import book, trader

BITMEX = resolve_policy("bitmex")


def _book(bob_cash: int = 1_020) -> Book:
    """Alice short 50 and bob short 10 at the mark, the fund long 25 with 100 of cash, the book long 35."""
    return book((trader("alice", 5_036, -50), trader("bob", bob_cash, -10)), fund_lots=25, fund_cash=100)


STORY = Story(_book(), (MarkPrice(price_quote=10_300),))
BOUNDS = for_policy(Bounds(accounts=2, events=1), BITMEX)


@pytest.mark.parametrize("claim", ["no-negative-equity", "loss-bounded-by-collateral"])
def test_the_per_trader_claims_hold_on_the_story(claim: str) -> None:
    result = replay(BITMEX, catalog.get(claim), STORY, BOUNDS)
    assert result.outside == () and not result.rejected
    assert not result.violates, claim


@pytest.mark.parametrize("claim", ["insurance-fund-non-negative", "claims-backed"])
def test_the_story_breaks_the_funds_claims_within_the_provers_bounds(claim: str) -> None:
    result = replay(BITMEX, catalog.get(claim), STORY, BOUNDS)
    assert result.outside == () and not result.rejected
    assert result.violates, claim
    # the fund bearing the loss against the mark is BitMEX's design, and the claims it leaves
    # unbacked are that same fund's (session 22's decision): both accepted, with that source
    assert claim in BITMEX.accepts


def _after(story: Story):
    [step] = replay(BITMEX, catalog.get("no-negative-equity"), story, BOUNDS).steps
    return step, {a.name: a for a in step.after.accounts}


def _taken_over(step) -> list[int]:
    return [
        t.amount_quote
        for t in step.transfers
        if (t.source, t.destination, t.reason) == ("insurance_fund", "bob", Reason.FUND_TAKEOVER)
    ]


def test_the_deficit_is_the_funds_and_bob_ends_at_zero() -> None:
    step, after = _after(STORY)
    assert (after["bob"].cash_quote, after["bob"].size_lots) == (0, 0)
    assert (after["insurance_fund"].cash_quote, after["insurance_fund"].size_lots) == (-2_040, 0)
    assert after["alice"].cash_quote == 0
    assert _taken_over(step) == [1_980]
    assert not [o for o in step.outcomes if isinstance(o, Residual)]
    # bob's deficit 1,980: the fund's layer nothing (it is at −60 after alice's), the ADL layer (the
    # takeover within it) all of it
    bobs = [(o.layer, o.covered_quote) for o in step.outcomes if isinstance(o, LayerUsed) and o.account == "bob"]
    assert bobs == [("insurance_fund", 0), ("adl", 1_980)]
    for claim in ("conservation", "deficit-charged-once", "waterfall-order", "open-interest-balance"):
        assert catalog.get(claim).holds(_view(step)), claim
    assert not catalog.get("insurance-fund-non-negative").holds(_view(step))


@pytest.mark.parametrize(("more", "paid"), [(1_980, 0), (1_979, 1), (0, 1_980)])
def test_the_fund_pays_what_bob_still_owes_to_the_quantum(more: int, paid: int) -> None:
    """The boundary: bob with 1,980 more cash (his whole deficit) owes nothing after ADL, so the fund
    pays him nothing and stays at the −60 alice's lots left it; with 1,979 more it pays 1."""
    step, after = _after(Story(_book(bob_cash=1_020 + more), STORY.events))
    assert after["bob"].cash_quote == 0
    assert after["insurance_fund"].cash_quote == -60 - paid
    assert sum(_taken_over(step)) == paid
    assert not catalog.get("insurance-fund-non-negative").holds(_view(step))
    assert catalog.get("conservation").holds(_view(step))


def test_without_the_takeover_the_residual_is_bobs(monkeypatch) -> None:
    """The rule removed (the fund pays nothing after ADL): bob at −1,980 and alice at −60 as
    residuals, ``no-negative-equity`` broken (the tests above fail on this mutant)."""
    from solvent.rules import bankruptcy

    monkeypatch.setattr(bankruptcy, "fund_takes_over", lambda policy, ctx, name: ctx)
    step, after = _after(STORY)
    assert after["bob"].cash_quote == -1_980 and after["insurance_fund"].cash_quote == 0
    assert [o.amount_quote for o in step.outcomes if isinstance(o, Residual)] == [60, 1_980]
    assert replay(BITMEX, catalog.get("no-negative-equity"), STORY, BOUNDS).violates


def _view(step):
    from solvent.properties.catalog import StepView

    return StepView.of(BITMEX, step)


def test_a_takeover_paying_more_than_owed_breaks_deficit_charged_once(monkeypatch) -> None:
    """The takeover is waterfall cover the account receives (``catalog.WATERFALL_REASONS``): a fund
    paying one quantum beyond what bob owes after ADL is received beyond what the layers covered."""
    from solvent.rules import bankruptcy

    def over(policy, ctx, name):
        owed = bankruptcy.remaining_deficit(policy, ctx, name)
        return ctx.transfer(ctx.system(Role.INSURANCE_FUND), name, owed + 1, Reason.FUND_TAKEOVER)

    monkeypatch.setattr(bankruptcy, "fund_takes_over", over)
    step, after = _after(STORY)
    # one quantum more to each bankrupt account, alice (owing nothing after ADL) and bob
    assert (after["alice"].cash_quote, after["bob"].cash_quote, after["insurance_fund"].cash_quote) == (1, 1, -2_042)
    assert catalog.get("conservation").holds(_view(step))
    assert not catalog.get("deficit-charged-once").holds(_view(step))


def test_the_simulation_counts_the_takeover_as_the_funds_payment() -> None:
    """``fund_paid_quote`` reads what the fund paid toward deficits: its layer's 7,600 to alice, and
    the takeovers' 60 (alice) and 1,980 (bob) (so the fund's fall is within what it paid)."""
    from solvent.simulation.outcome import Tally

    step, after = _after(STORY)
    tally = Tally(BITMEX, {})
    tally.start(step.before)
    tally.add(0, step)
    assert tally.outcome["fund_paid_quote"] == 7_600 + 60 + 1_980
    assert tally.outcome["fund_end_quote"] == -2_040


def test_the_story_report_names_the_fund_as_the_takeovers_payer() -> None:
    """``reports.story.waterfall_paid``: bob's ADL layer was paid by the fund's takeover, not by
    anyone ADL reached (without the takeover's reason the row would read "adl" paying itself)."""
    from solvent.reports.story import waterfall_paid

    step, _ = _after(STORY)
    bobs = [(p.layer, p.payer, p.amount) for p in waterfall_paid(step) if p.bankrupt == "bob"]
    assert bobs == [("adl", "insurance_fund", 1_980)]

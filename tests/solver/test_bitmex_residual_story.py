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

So ``no-negative-equity``, ``loss-bounded-by-collateral`` and ``claims-backed`` fail, and BitMEX's
preset accepts none of them (its ``accepts``: no-haircut, principal-protected). The loss is real:
bob's counterparty for those lots is the fund, whose gain on them already went to alice; it ends
either on bob (the engine's residual) or on the fund (which would break insurance-fund-non-negative).
Which one BitMEX's rule puts it on is the lead's to decide (docs/solver-notes.md#bitmexs-payer-facts-and-the-last-bybit-and-okx-cells-session-20);
this test pins the story as a counterexample the prover would accept.
"""

from __future__ import annotations

import pytest

from solvent.properties import catalog
from solvent.properties.story import Story
from solvent.rules.book import Account, Book, Market, Role
from solvent.rules.events import MarkPrice
from solvent.rules.outcomes import Residual
from solvent.rules.presets import resolve_policy
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.refinement import replay

BITMEX = resolve_policy("bitmex")
MARK = 10_000


def _book(bob_cash: int = 1_020) -> Book:
    def trader(name: str, cash: int, size: int) -> Account:
        return Account(name=name, cash_quote=cash, size_lots=size, cost_quote=size * MARK, principal_quote=cash)

    accounts = (
        trader("alice", 5_036, -50),
        trader("bob", bob_cash, -10),
        Account(name="liquidity", role=Role.LIQUIDITY, size_lots=35, cost_quote=35 * MARK),
        Account(name="insurance_fund", role=Role.INSURANCE_FUND, cash_quote=100, size_lots=25, cost_quote=25 * MARK),
        Account(name="fee_account", role=Role.FEE_ACCOUNT),
        Account(name="backstop_vault", role=Role.BACKSTOP_VAULT),
        Account(name="venue", role=Role.VENUE),
        Account(name="clearing", role=Role.CLEARING),
    )
    return Book(
        market=Market(name="PERP", mark_quote=MARK, previous_mark_quote=MARK),
        accounts=accounts,
        net_deposits_quote=5_036 + bob_cash + 100,
    )


STORY = Story(_book(), (MarkPrice(price_quote=10_300),))
BOUNDS = for_policy(Bounds(accounts=2, events=1), BITMEX)


@pytest.mark.parametrize("claim", ["no-negative-equity", "loss-bounded-by-collateral", "claims-backed"])
def test_the_story_breaks_the_claim_within_the_provers_bounds(claim: str) -> None:
    result = replay(BITMEX, catalog.get(claim), STORY, BOUNDS)
    assert result.outside == () and not result.rejected
    assert result.violates, claim
    assert claim not in BITMEX.accepts


def test_the_residual_is_bobs_and_the_fund_stays_at_zero() -> None:
    result = replay(BITMEX, catalog.get("no-negative-equity"), STORY, BOUNDS)
    [step] = result.steps
    after = {a.name: a for a in step.after.accounts}
    assert (after["bob"].cash_quote, after["bob"].size_lots) == (-1_320, 0)
    assert (after["insurance_fund"].cash_quote, after["alice"].cash_quote) == (0, 0)
    assert [o.amount_quote for o in step.outcomes if isinstance(o, Residual)] == [1_320]
    assert catalog.get("insurance-fund-non-negative").holds(_view(step))
    assert catalog.get("conservation").holds(_view(step))


def test_with_the_deficit_covered_the_claim_holds() -> None:
    """The boundary: bob with 1,320 more cash (his deficit after the fund's 660) ends at zero."""
    story = Story(_book(bob_cash=1_020 + 1_320), STORY.events)
    assert not replay(BITMEX, catalog.get("no-negative-equity"), story, BOUNDS).violates
    story = Story(_book(bob_cash=1_020 + 1_319), STORY.events)
    assert replay(BITMEX, catalog.get("no-negative-equity"), story, BOUNDS).violates


def _view(step):
    from solvent.properties.catalog import StepView

    return StepView.of(BITMEX, step)

"""``[waterfall] deficit_split = "maintenance_share"`` (issue 13; docs/portfolio.md decision 5c,
``solvent.rules.deficit_split``): dYdX v4 closes each position of a bankrupt cross subaccount at
its own bankruptcy price, ``−DNNV − TNC × |DMMR| / TMMR`` (v4-chain liquidations.go,
``GetBankruptcyPriceInQuoteQuantums``), and deleverages per perpetual (deleveraging.go,
``MaybeDeleverageSubaccount``): each market takes its position's maintenance share of the deficit.

Book (tests/rules/test_market_tables.py): BTC on 10% / 5%, ETH on its own 20% / 10%. alice long
1 BTC at 30,000 (against carol) and 10 ETH at 2,000 (against bob), her cash set to 3,999; ETH
gaps to 1,500: her equity is 3,999 − 5,000 = −1,001, her maintenance 1,500 (BTC) + 1,500 (ETH).
BTC's share is ⌈1,001 × 1,500 / 3,000⌉ = 501 and ETH's the rest, 500 (rounded down: 500 and 501).
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties.catalog import StepView, get
from solvent.rules.arith import Rounding
from solvent.rules.book import Role
from solvent.rules.engine import run, step
from solvent.rules.events import Deposit, MarkPrice
from solvent.rules.loading import PolicyError, dumps_policy, loads_policy
from solvent.rules.market_funds import DeficitSplit, WaterfallScope
from solvent.rules.outcomes import AdlFill, Bankrupt, LayerUsed, Residual
from solvent.rules.waterfall import Adl, InsuranceFund, Ranking
from tests.rules.test_market_tables import POLICY, opened

ONE = attrs.evolve(POLICY, deficit=(InsuranceFund(all_or_nothing=True), Adl(Ranking.ORDER)))
SPLIT = attrs.evolve(ONE, waterfall=WaterfallScope(deficit_split=DeficitSplit.MAINTENANCE_SHARE))
DOWN = attrs.evolve(SPLIT, rounding=attrs.evolve(SPLIT.rounding, deficit_share=Rounding.FLOOR))


def gapped(policy, fund: int = 0):
    """The step in which ETH gaps to 1,500 with ``fund`` in the insurance fund."""
    book = opened(3_999, policy)
    if fund:
        book = step(policy, book, Deposit("insurance_fund", fund)).after
    return step(policy, book, MarkPrice(1_500, market="ETH"))


def adl(s) -> list[tuple[str, str, int, int]]:
    return [(o.market, o.winner, o.lots, o.gap_per_lot_quote) for o in s.outcomes if isinstance(o, AdlFill) and o.lots]


def covered(s) -> list[tuple[str, int]]:
    return [(o.layer, o.covered_quote) for o in s.outcomes if isinstance(o, LayerUsed)]


class TestTheShares:
    def test_the_deficit_and_the_maintenance(self) -> None:
        s = gapped(SPLIT)
        assert [(o.account, o.deficit_quote) for o in s.outcomes if isinstance(o, Bankrupt)] == [("alice", 1_001)]

    def test_each_market_s_winner_pays_its_share_rounded_up_first(self) -> None:
        s = gapped(SPLIT)
        assert adl(s) == [("BTC", "carol", 1, 501), ("ETH", "bob", 10, 50)]
        paid = {t.source: t.amount_quote for t in s.transfers if t.reason.name == "ADL"}
        assert paid == {"carol": 501, "bob": 500}
        assert covered(s) == [("insurance_fund", 0), ("adl", 501), ("insurance_fund", 0), ("adl", 500)]
        assert s.after.account("alice").cash_quote == 0 and not any(isinstance(o, Residual) for o in s.outcomes)

    def test_rounded_down_the_first_share_is_one_less(self) -> None:
        s = gapped(DOWN)
        assert [(m, w, g) for m, w, _, g in adl(s)] == [("BTC", "carol", 500), ("ETH", "bob", 51)]
        # ETH's 501 over 10 lots rounds up per lot (51): the 9 over go to the fund as dust
        dust = [t.amount_quote for t in s.transfers if t.reason.name == "PRO_RATA_DUST"]
        assert dust == [9] and s.after.role(Role.INSURANCE_FUND).cash_quote == 9

    def test_one_market_the_whole_deficit_is_eths(self) -> None:
        s = gapped(ONE)
        assert adl(s) == [("ETH", "bob", 10, 101)]
        assert s.after.account("carol").size_lots == -1  # BTC's winner keeps his position
        assert s.after.account("liquidity").size_lots == 1  # alice's BTC went into the book

    def test_the_fund_pays_a_share_it_can_pay_whole_and_declines_one_it_cannot(self) -> None:
        """All or nothing per share, dYdX's gate per fill: a fund of 500 declines BTC's 501 (carol
        is deleveraged) and pays ETH's 500 (bob keeps his position); 501 pays BTC's and declines
        nothing more than it has; on one market the same 1,000 declines the whole 1,001."""
        s = gapped(SPLIT, fund=500)
        assert adl(s) == [("BTC", "carol", 1, 501)] and s.after.account("bob").more_positions[0].size_lots == -10
        assert covered(s) == [("insurance_fund", 0), ("adl", 501), ("insurance_fund", 500)]
        s = gapped(SPLIT, fund=501)
        assert adl(s) == [("ETH", "bob", 10, 50)] and s.after.account("carol").size_lots == -1
        s = gapped(ONE, fund=1_000)
        # the fund declined (it keeps its 1,000) and gains the 9 of dust over 101 a lot
        assert adl(s) == [("ETH", "bob", 10, 101)] and s.after.role(Role.INSURANCE_FUND).cash_quote == 1_000 + 9
        s = gapped(SPLIT, fund=1_001)
        assert adl(s) == [] and s.after.role(Role.INSURANCE_FUND).cash_quote == 0

    def test_every_step_conserves_money(self) -> None:
        for fund in (0, 500, 501):
            s = gapped(SPLIT, fund)
            assert s.after.total_cash_quote() == s.after.net_deposits_quote
            assert all(a.size_lots == 0 and a.more_positions[0].size_lots == 0 for a in [s.after.account("alice")])


class TestTheClaims:
    @pytest.mark.parametrize("fund", [0, 500])
    def test_the_split_step_holds_the_waterfall_claims(self, fund: int) -> None:
        s = gapped(SPLIT, fund)
        view = StepView.of(SPLIT, s)
        for claim in ("deficit-charged-once", "adl-in-deficit-market-only", "conservation", "no-negative-equity"):
            assert get(claim).holds(view), claim

    def test_adl_in_btc_is_a_market_in_deficit_only_where_the_policy_splits(self) -> None:
        """carol's BTC position closed by ADL: BTC took a share under the split; read as a policy
        that resolves the whole deficit in ETH, the same step breaks the claim."""
        s = gapped(SPLIT)
        claim = get("adl-in-deficit-market-only")
        assert claim.holds(StepView.of(SPLIT, s)) and not claim.holds(StepView.of(ONE, s))

    def test_a_share_paid_twice_breaks_deficit_charged_once(self) -> None:
        s = gapped(SPLIT)
        doubled = attrs.evolve(s, outcomes=(*s.outcomes, LayerUsed("alice", 1, "adl", 1, True)))
        assert not get("deficit-charged-once").holds(StepView.of(SPLIT, doubled))


class TestOneSemantics:
    @pytest.mark.parametrize("fund", [0, 500, 501])
    def test_the_symbolic_engine_agrees_on_the_split_step(self, fund: int) -> None:
        from tests.z3_step import z3_step_agrees

        s = gapped(SPLIT, fund)
        z3_step_agrees(SPLIT, s.before, s.event)


class TestTheLoader:
    def test_it_loads_and_writes_back(self) -> None:
        text = dumps_policy(SPLIT)
        assert 'deficit_split = "maintenance_share"' in text and loads_policy(text) == SPLIT
        assert "deficit_split" not in dumps_policy(ONE) and "deficit_share" not in text
        assert 'deficit_share = "floor"' in dumps_policy(DOWN)

    @pytest.mark.parametrize(
        ("old", "new", "message"),
        [
            (
                'deficit_split = "maintenance_share"',
                'deficit_split = "maintenance"',
                "'deficit_split' must be one of 'one_market', 'maintenance_share': 'maintenance' (did you mean 'maintenance_share'?) @ $.waterfall.deficit_split",
            ),
            (
                'scope = "pooled"',
                'scope = "per_market"',
                "needs a pooled waterfall (scope is 'per_market'): maintenance_share @ $.waterfall",
            ),
            (
                "slippage_ppm = 0",
                "slippage_ppm = 100",
                "needs liquidation at the mark (execution = 'market', slippage_ppm = 0, no takeover)",
            ),
        ],
        ids=["misspelt", "per-market", "slippage"],
    )
    def test_bad_input_names_the_field_and_its_line(self, old: str, new: str, message: str) -> None:
        text = dumps_policy(SPLIT)
        assert old in text
        text = text.replace(old, new)
        with pytest.raises(PolicyError) as raised:
            loads_policy(text, source="venue.toml")
        (error,) = raised.value.errors
        assert message in error and "venue.toml:" in error, error
        line = int(error.rsplit("venue.toml:", 1)[1].split(":")[0])
        assert "deficit_split" in text.splitlines()[line - 1] or text.splitlines()[line - 1] == "[waterfall]"


def test_the_dydx_example_deleverages_each_market_for_its_share() -> None:
    """``examples/dydx-v4-markets.toml`` splits: on the cross-market gap alice (long BTC-USD and
    SOL-USD) is bankrupt and each market's winner pays its share, the shares adding up to the
    deficit."""
    from pathlib import Path

    from solvent.properties.scenarios import build
    from solvent.rules.loading import load_policy

    policy = load_policy(Path(__file__).resolve().parents[2] / "examples" / "dydx-v4-markets.toml")
    assert policy.waterfall.by_maintenance and policy.rounding.deficit_share is Rounding.CEIL
    story = build(policy, "cross-market-gap")
    last = run(policy, story.book, list(story.events))[-1]
    (bankrupt,) = [o for o in last.outcomes if isinstance(o, Bankrupt)]
    fills = adl(last)
    assert {m for m, *_ in fills} == {"BTC-USD", "SOL-USD"}
    assert sum(c for layer, c in covered(last) if layer == "adl") == bankrupt.deficit_quote


def test_the_story_names_each_share_s_market_and_lists_each_payer_once() -> None:
    from solvent.reports.story import bankruptcies, deficit_sentence, waterfall_paid

    s = gapped(SPLIT)
    (b,) = bankruptcies([s])
    assert b.layer_markets == ("BTC", "ETH")
    assert (
        deficit_sentence(b)
        == "alice went bankrupt with a deficit of 1,001; paid by 2. adl in BTC 501, 2. adl in ETH 500."
    )
    assert [(p.layer, p.payer, p.amount) for p in waterfall_paid(s)] == [("adl", "carol", 501), ("adl", "bob", 500)]
    (one,) = bankruptcies([gapped(ONE)])
    assert one.layer_markets == () and deficit_sentence(one).endswith("paid by 2. adl 1,001.")

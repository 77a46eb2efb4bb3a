"""A cap per market on what the insurance fund pays toward one bankruptcy (``[[market]]
fund_cap_quote``; docs/portfolio.md decision 5d, ``Policy.fund_cap_in``).

Drift caps what its insurance fund settles for each perpetual market (``quote_max_insurance``,
``resolve_perp_bankruptcy``: docs/venues.md#drift-v2-bankruptcy), and the deficit beyond the cap
goes down the rest of the waterfall. The book: the cross-market gap of ``test_market_funds`` (alice
long BTC and ETH, ETH gaps through her equity; her deficit D = 330,098 quanta is resolved in ETH),
funds far larger than D, and a cap on ETH. At a cap of D the fund pays it all and nobody is
deleveraged; at D − 1 the fund pays D − 1 and ADL in ETH the last quantum, with the fund still
holding money; a cap on BTC alone changes nothing in ETH."""

from __future__ import annotations

import attrs
import pytest

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules.engine import transition
from solvent.rules.loading import PolicyError, dumps_policy, loads_policy
from solvent.rules.market_funds import fund_balance
from solvent.rules.outcomes import LayerUsed
from solvent.rules.waterfall import InsuranceFund
from tests.rules.test_market_funds import PER, POOLED, D, adl_lots, gap
from tests.rules.test_market_tables import TWO


def capped(policy, *, btc: int | None = None, eth: int | None = None, layer: int | None = None):
    """``policy`` with ``fund_cap_quote`` ``btc`` and ``eth`` on the two tables, and ``layer`` as the
    insurance-fund layer's own ``cap_quote``."""
    specs = (attrs.evolve(policy.market[0], fund_cap_quote=btc), attrs.evolve(policy.market[1], fund_cap_quote=eth))
    deficit = tuple(attrs.evolve(x, cap_quote=layer) if isinstance(x, InsuranceFund) else x for x in policy.deficit)
    return attrs.evolve(policy, market=specs, deficit=deficit)


def fund_paid(s) -> list[int]:
    return [o.covered_quote for o in s.outcomes if isinstance(o, LayerUsed) and o.layer == "insurance_fund"]


class TestTheBoundary:
    @pytest.mark.parametrize("base", [PER, POOLED], ids=["per_market", "pooled"])
    def test_a_cap_of_the_deficit_pays_it_all(self, base) -> None:
        s = gap(capped(base, eth=D), 10 * D, 10 * D)[-1]
        assert fund_paid(s) == [D] and adl_lots(s) == []

    @pytest.mark.parametrize("base", [PER, POOLED], ids=["per_market", "pooled"])
    def test_one_quantum_below_the_deficit_leaves_the_last_quantum_to_adl_in_eth(self, base) -> None:
        s = gap(capped(base, eth=D - 1), 10 * D, 10 * D)[-1]
        assert fund_paid(s) == [D - 1]
        adl = [o for o in s.outcomes if isinstance(o, LayerUsed) and o.layer == "adl"]
        assert [o.covered_quote for o in adl] == [1]
        assert [(w, m) for w, _, m in adl_lots(s)] == [("bob", "ETH")]
        paying = 1 if base.waterfall.per_market else 0
        paid = [(t.source, t.amount_quote) for t in s.transfers if t.reason.name == "INSURANCE_FUND"]
        assert paid == [("insurance_fund#ETH" if paying else "insurance_fund", D - 1)]
        assert fund_balance(s.after, paying) > 9 * D  # the fund keeps money back: the cap, not its balance

    def test_a_cap_on_another_market_changes_nothing_here(self) -> None:
        s = gap(capped(PER, btc=1), 10 * D, 10 * D)[-1]
        assert fund_paid(s) == [D] and adl_lots(s) == []

    @pytest.mark.parametrize(
        ("eth", "layer", "paid"), [(D - 1, D - 2, D - 2), (D - 2, D - 1, D - 2), (None, D - 3, D - 3)]
    )
    def test_the_lower_of_the_layers_cap_and_the_markets_applies(self, eth, layer, paid) -> None:
        s = gap(capped(PER, eth=eth, layer=layer), 10 * D, 10 * D)[-1]
        assert fund_paid(s) == [paid]

    def test_every_step_conserves_money(self) -> None:
        for s in gap(capped(PER, eth=D - 1), 10 * D, 10 * D):
            assert s.after.total_cash_quote() == s.after.net_deposits_quote


class TestTheClaims:
    def test_a_fund_that_paid_its_markets_cap_is_spent_for_the_layer_order(self) -> None:
        policy = capped(PER, eth=D - 1)
        s = gap(policy, 10 * D, 10 * D)[-1]
        view = StepView.of(policy, s)
        (fund,) = [g.item for g in view.outcomes_of(LayerUsed) if g.item.layer == "insurance_fund"]
        assert not fund.exhausted and catalog._spent(view, fund)
        # the same payment with no cap in ETH is not spent: the fund could have paid more
        assert not catalog._spent(StepView.of(capped(PER, btc=D - 1), s), fund)


class TestOneSemantics:
    @pytest.mark.parametrize("cap", [D, D - 1])
    def test_the_symbolic_engine_agrees_on_the_capped_step(self, cap: int) -> None:
        from solvent.solver.symbolic import constant_book, constant_event, evaluate_ctx, simplifier

        policy = capped(PER, eth=cap)
        last = gap(policy, 10 * D, 10 * D)[-1]
        expected = transition(policy, last.before, last.event)
        got = evaluate_ctx(transition(policy, constant_book(last.before), constant_event(last.event)), simplifier())
        assert got.after == expected.book
        assert got.transfers == tuple(e.item for e in expected.entries)
        assert got.outcomes == tuple(o.item for o in expected.outcomes)


class TestTheLoader:
    def test_a_cap_loads_and_writes_back_and_is_left_out_when_absent(self) -> None:
        text = TWO.replace('name = "ETH"\n', 'name = "ETH"\nfund_cap_quote = 500\n')
        policy = loads_policy(text)
        assert [m.fund_cap_quote for m in policy.market] == [None, 500]
        assert loads_policy(dumps_policy(policy)) == policy
        assert "fund_cap_quote" not in dumps_policy(loads_policy(TWO))

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (
                TWO.replace('name = "ETH"\n', 'name = "ETH"\nfund_cap_quote = 0\n'),
                "'fund_cap_quote' must be >= 1: 0 @ $.market[1].fund_cap_quote (venue.toml:",
            ),
            (
                TWO.replace('name = "ETH"\n', 'name = "ETH"\nfund_cap_quote = 500\n').replace(
                    '[[deficit]]\nlayer = "insurance_fund"\n\n', ""
                ),
                "'fund_cap_quote' caps what the insurance fund pays in market 'ETH', and this policy's [[deficit]] "
                "has no insurance_fund layer: 500 @ $.market[1].fund_cap_quote (venue.toml:",
            ),
        ],
        ids=["zero", "no-fund"],
    )
    def test_bad_input_names_the_field_and_line(self, text: str, message: str) -> None:
        with pytest.raises(PolicyError) as raised:
            loads_policy(text, source="venue.toml")
        (error,) = raised.value.errors
        assert message in error
        line = int(error.rsplit("venue.toml:", 1)[1].split(":")[0])
        assert "fund_cap_quote" in text.splitlines()[line - 1]


class TestTheSplitDeficit:
    """dYdX's split (decision 5c): each market's share goes down its own waterfall, so the fund's
    all-or-nothing gate meets that market's cap: BTC's share is 501 and ETH's 500 of alice's 1,001."""

    def test_a_cap_of_the_share_pays_it_and_one_below_declines_it(self) -> None:
        from tests.rules.test_deficit_split import SPLIT, adl, covered, gapped

        paid = gapped(capped(SPLIT, eth=500), fund=1_001)
        assert adl(paid) == [] and covered(paid) == [("insurance_fund", 501), ("insurance_fund", 500)]
        declined = gapped(capped(SPLIT, eth=499), fund=1_001)
        assert covered(declined) == [("insurance_fund", 501), ("insurance_fund", 0), ("adl", 500)]
        assert adl(declined) == [("ETH", "bob", 10, 50)]
        btc = gapped(capped(SPLIT, btc=500), fund=1_001)
        assert adl(btc) == [("BTC", "carol", 1, 501)]

"""A cap per market on what the insurance fund pays toward that market's bankruptcies, in total
since the market opened (``[[market]] fund_cap_quote``; docs/portfolio.md decisions 5d and 5e,
``rules.insurance_claim``).

Drift caps what its insurance fund settles for each perpetual market: ``resolve_perp_bankruptcy``
pays min(loss, vault − 1, ``quote_max_insurance − quote_settled_insurance``) and adds the payment to
``quote_settled_insurance`` (docs/venues.md#drift-v2-bankruptcy); the rest goes down the waterfall.
Two books. The cross-market gap of ``test_market_funds`` (alice long BTC and ETH, ETH gaps through
her equity; her deficit D = 330,098 quanta is resolved in ETH), funds far larger than D, a cap on
ETH: at a cap of D the fund pays it all and nobody is deleveraged; at D − 1 the fund pays D − 1 and
ADL in ETH the last quantum, with the fund still holding money; a cap on BTC alone changes nothing
in ETH. And two bankruptcies in ETH (:func:`two_bankrupt`): alice's 100,000 at an ETH mark of 7,000
and dave's 70,000 at 4,000, or both in one gap to 7,000 (dave's 50,000): a cap of the sum pays both,
one quantum less leaves the second's last quantum to ADL."""

from __future__ import annotations

import attrs
import pytest

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules.book import Market, new_book
from solvent.rules.engine import run, transition
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.ledger import Reason
from solvent.rules.loading import PolicyError, dumps_policy, loads_policy
from solvent.rules.market_funds import fund_balance, shaped_for
from solvent.rules.outcomes import LayerUsed
from solvent.rules.waterfall import InsuranceFund
from solvent.rules.wellformed import reasons
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


def two_bankrupt(policy, *, dave_cash: int = 530_000, marks: tuple[int, ...] = (7_000, 4_000)):
    """Alice (200,000) and dave (``dave_cash``) each long 100 ETH at 10,000 against bob, a fund of
    10,000,000 (in ETH's own where the fund is kept per market); ETH's mark moves to each of
    ``marks``. At 7,000 alice owes 100,000; at 4,000 dave (530,000) owes 70,000; in one gap to
    7,000 dave (250,000) owes 50,000 after alice. Every step of the story."""
    book = shaped_for(
        policy.waterfall,
        new_book(
            market="BTC", mark_quote=10_000, more_markets=(Market("ETH", 10_000),), traders=("alice", "dave", "bob")
        ),
    )
    fund = Deposit("insurance_fund", 10_000_000, market="ETH" if policy.waterfall.per_market else "")
    events = [Deposit("liquidity", 20_000_000), fund, Deposit("alice", 200_000), Deposit("dave", dave_cash)]
    events += [Deposit("bob", 10_000_000), Trade("alice", "bob", 100, 10_000, market="ETH")]
    events += [Trade("dave", "bob", 100, 10_000, market="ETH"), *(MarkPrice(m, market="ETH") for m in marks)]
    return run(policy, book, events)


def eth_settled(s) -> int | None:
    return s.after.markets[1].fund_settled_quote


def adl_paid(s) -> list[int]:
    return [o.covered_quote for o in s.outcomes if isinstance(o, LayerUsed) and o.layer == "adl"]


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


def spent(policy, s) -> list[bool]:
    """Whether waterfall-order reads each insurance-fund payment of the step as spent."""
    view = StepView.of(policy, s)
    used = list(view.outcomes_of(LayerUsed))
    claims = catalog._claims_through(view, used)
    return [
        catalog._spent(view, g.item, c) for g, c in zip(used, claims, strict=True) if g.item.layer == "insurance_fund"
    ]


class TestTheRunningTotal:
    """The claim counts every payment in its market: two bankruptcies summing to the cap are both
    paid whole, one quantum more goes to ADL in ETH while the fund keeps almost all its money."""

    @pytest.mark.parametrize("base", [PER, POOLED], ids=["per_market", "pooled"])
    def test_two_bankruptcies_summing_to_the_cap_are_both_paid(self, base) -> None:
        first, second = two_bankrupt(capped(base, eth=170_000))[-2:]
        assert (fund_paid(first), fund_paid(second)) == ([100_000], [70_000])
        assert adl_paid(second) == [] and (eth_settled(first), eth_settled(second)) == (100_000, 170_000)

    @pytest.mark.parametrize("base", [PER, POOLED], ids=["per_market", "pooled"])
    def test_one_quantum_past_the_cap_goes_down_the_waterfall(self, base) -> None:
        first, second = two_bankrupt(capped(base, eth=169_999))[-2:]
        assert fund_paid(first) == [100_000]  # the first alone is well inside the cap
        assert fund_paid(second) == [69_999] and adl_paid(second) == [1]
        assert [(w, m) for w, _, m in adl_lots(second)] == [("bob", "ETH")]
        assert eth_settled(second) == 169_999
        # the fund keeps its money but for what it paid (and ADL's rounding dust: 1 quantum owed
        # over bob's 100 lots is 1 a lot, 99 beyond the deficit): the claim stopped it, not its balance
        assert fund_balance(second.after, 1 if base.waterfall.per_market else 0) == 10_000_000 - 169_999 + 99

    def test_a_claim_used_up_by_the_first_leaves_the_whole_second_to_adl(self) -> None:
        first, second = two_bankrupt(capped(PER, eth=100_000))[-2:]
        assert fund_paid(first) == [100_000] and eth_settled(first) == 100_000
        # the fund is asked (the layer is reached) and pays nothing: its market's claim is spent
        assert fund_paid(second) == [0] and adl_paid(second) == [70_000]

    @pytest.mark.parametrize(("cap", "dave", "adl"), [(150_000, 50_000, []), (149_999, 49_999, [1])])
    def test_two_bankruptcies_in_one_gap_share_the_claim(self, cap: int, dave: int, adl: list[int]) -> None:
        (s,) = two_bankrupt(capped(POOLED, eth=cap), dave_cash=250_000, marks=(7_000,))[-1:]
        assert fund_paid(s) == [100_000, dave] and adl_paid(s) == adl
        assert eth_settled(s) == 100_000 + dave

    def test_the_layers_own_cap_still_caps_each_bankruptcy(self) -> None:
        """A layer cap of 80,000 per bankruptcy under a claim of 1,000,000: alice's 100,000 is
        paid 80,000 (ADL the rest), and the claim counts what was paid, 80,000."""
        first, second = two_bankrupt(capped(PER, eth=1_000_000, layer=80_000))[-2:]
        assert fund_paid(first) == [80_000] and adl_paid(first) == [20_000]
        assert (eth_settled(first), eth_settled(second)) == (80_000, 150_000)

    def test_no_cap_keeps_no_total(self) -> None:
        steps = two_bankrupt(capped(PER, btc=5))
        assert all(eth_settled(s) is None for s in steps)
        assert [s.after.markets[0].fund_settled_quote for s in steps][-1] == 0  # BTC's: nothing paid there


class TestTheLedger:
    @pytest.mark.parametrize("base", [PER, POOLED], ids=["per_market", "pooled"])
    def test_the_total_moves_by_exactly_the_funds_payments_in_its_market(self, base) -> None:
        """Every step: ETH's running total grows by the step's ``insurance fund cover`` transfers
        (every bankruptcy here is in ETH), and money is conserved."""
        for steps in (
            two_bankrupt(capped(base, eth=169_999)),
            two_bankrupt(capped(base, eth=149_999), dave_cash=250_000, marks=(7_000,)),
        ):
            for s in steps:
                paid = sum(t.amount_quote for t in s.transfers if t.reason is Reason.INSURANCE_FUND)
                before = s.before.markets[1].fund_settled_quote or 0
                assert eth_settled(s) - before == paid
                assert s.after.total_cash_quote() == s.after.net_deposits_quote


class TestTheBook:
    def test_a_book_past_its_claim_is_not_well_formed(self) -> None:
        policy = capped(PER, eth=169_999)
        book = two_bankrupt(policy)[-1].after
        assert reasons(policy, book, margin=None) == []
        over = book.with_fields(more_markets=(attrs.evolve(book.markets[1], fund_settled_quote=170_000),))
        assert reasons(policy, over, margin=None) == [
            "insurance claims within their caps (in ETH): ETH: 170000 paid of 169999"
        ]

    def test_a_saved_book_keeps_its_total_and_a_book_without_one_reads_as_before(self) -> None:
        from solvent.properties.findings import story_from_data, story_to_data
        from solvent.properties.story import Story

        policy = capped(PER, eth=169_999)
        book = two_bankrupt(policy)[-1].after
        data = story_to_data(Story(book, ()))
        assert data["book"]["more_markets"][0]["fund_settled_quote"] == 169_999
        assert story_from_data(data).book == book
        plain = story_to_data(Story(two_bankrupt(PER)[-1].after, ()))
        assert "fund_settled_quote" not in str(plain)


class TestTheClaims:
    def test_a_fund_that_paid_its_markets_cap_is_spent_for_the_layer_order(self) -> None:
        policy = capped(PER, eth=D - 1)
        s = gap(policy, 10 * D, 10 * D)[-1]
        (fund,) = [o for o in s.outcomes if isinstance(o, LayerUsed) and o.layer == "insurance_fund"]
        assert not fund.exhausted and spent(policy, s) == [True]
        # the same payment with no cap in ETH is not spent: the fund could have paid more
        assert spent(capped(PER, btc=D - 1), s) == [False]

    @pytest.mark.parametrize(("cap", "read"), [(169_999, [True]), (170_000, [True]), (170_001, [False])])
    def test_the_second_bankruptcy_reads_what_the_first_left(self, cap: int, read: list[bool]) -> None:
        """After alice's 100,000, dave's 70,000 finds 69,999, 70,000 or 70,001 left of the claim:
        the fund has paid the whole claim at the first two, not at the last."""
        policy = capped(PER, eth=cap)
        assert spent(policy, two_bankrupt(policy)[-1]) == read

    def test_within_one_step_the_second_payment_counts_the_first(self) -> None:
        """Both bankrupt in one gap (100,000 then 50,000): at a cap of 150,000 the first payment
        leaves 50,000 of the claim (not spent), the second pays it (spent)."""
        policy = capped(POOLED, eth=150_000)
        assert spent(policy, two_bankrupt(policy, dave_cash=250_000, marks=(7_000,))[-1]) == [False, True]


class TestOneSemantics:
    @pytest.mark.parametrize("cap", [169_999, 170_000])
    def test_the_symbolic_engine_agrees_on_the_second_bankruptcy(self, cap: int) -> None:
        from tests.z3_step import z3_step_agrees

        policy = capped(PER, eth=cap)
        last = two_bankrupt(policy)[-1]
        got, _ = z3_step_agrees(policy, last.before, last.event)
        assert got.after.markets[1].fund_settled_quote == 169_999 + cap - 169_999

    def test_z3_pays_what_the_claim_has_left_for_every_total_so_far(self) -> None:
        """The second gap from every running total s in [0, cap] (a z3 variable, the rest of the
        book as the story left it): the fund pays min(70,000, cap − s) and the total becomes
        s + that, which never passes the cap (unsat negation, a few thousand rlimit units)."""
        import z3

        from solvent.rules.ledger import Transfer
        from solvent.solver.symbolic import constant_book, constant_event

        cap = 169_999
        policy = capped(PER, eth=cap)
        last = two_bankrupt(policy)[-1]
        s = z3.Int("eth.fund_settled_quote")
        before = constant_book(last.before)
        before = before.with_fields(more_markets=(attrs.evolve(before.markets[1], fund_settled_quote=s),))
        ctx = transition(policy, before, constant_event(last.event))
        paid = z3.Sum(
            [
                z3.If(g.guard if g.guard is not True else z3.BoolVal(True), g.item.amount_quote, 0)
                for g in ctx.entries
                if isinstance(g.item, Transfer) and g.item.reason is Reason.INSURANCE_FUND
            ]
        )
        after = ctx.book.markets[1].fund_settled_quote
        venue = z3.If(cap - s < 70_000, cap - s, 70_000)
        solver = z3.Solver()
        solver.set("rlimit", 5_000_000)
        solver.add(0 <= s, s <= cap, z3.Not(z3.And(paid == venue, after == s + paid, after <= cap)))
        assert solver.check() == z3.unsat

    @pytest.mark.parametrize("cap", [D, D - 1])
    def test_the_symbolic_engine_agrees_on_the_capped_step(self, cap: int) -> None:
        from tests.z3_step import z3_step_agrees

        policy = capped(PER, eth=cap)
        last = gap(policy, 10 * D, 10 * D)[-1]
        z3_step_agrees(policy, last.before, last.event)


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

"""``[waterfall] scope = "per_group"`` (issue 13; docs/portfolio.md decision 5b,
``solvent.rules.market_funds``): markets naming the same ``fund_group`` share one insurance fund,
kept in the balance of the group's first market; a deficit in any market of a group is paid by that
fund, then by ADL in the market in deficit; another group's fund and markets keep theirs.

Book: BTC at 30,000, ETH at 2,000, SOL at 100, each on [margin]'s 10% / 5%. alice is long 1 BTC
(against carol) and 100 SOL (against bob) on 4,000 of cash, exactly her initial margin; dave is
long 1 ETH against carol. SOL gaps to 50: alice's equity is 4,000 − 5,000 = −1,000, her BTC
position goes into the book at the mark and the deficit D = 1,000 is SOL's.

Two groupings, so that the group's fund is kept in every place it can stand once the book is
focused on SOL: ``ALTS`` (ETH and SOL: kept in ETH's balance, neither SOL's nor the first market's)
and ``MAJORS`` (BTC and SOL: kept in the first market's balance).
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from solvent.properties.catalog import StepView, get
from solvent.rules.book import Market, Role, new_book
from solvent.rules.engine import run, step
from solvent.rules.events import Deposit, MarkPrice, Trade
from solvent.rules.loading import PolicyError, dumps_policy, loads_policy
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.market_funds import Scope, WaterfallScope, fund_balance, fund_balances, fund_name
from solvent.rules.market_spec import MarketSpec
from solvent.rules.outcomes import AdlFill, Bankrupt, LayerUsed
from solvent.rules.policy import Policy
from solvent.rules.waterfall import Adl, InsuranceFund, Ranking

FLAT = MarginRule((Tier(0, initial_ppm=100_000, maintenance_ppm=50_000),))
BTC, ETH, SOL = 30_000, 2_000, 100


def grouped(btc: str, eth: str, sol: str, penalty_ppm: int = 0) -> Policy:
    policy = Policy(
        "fund-groups",
        FLAT,
        deficit=(InsuranceFund(), Adl(Ranking.ORDER)),
        market=(
            MarketSpec("BTC", fund_group=btc),
            MarketSpec("ETH", fund_group=eth),
            MarketSpec("SOL", fund_group=sol),
        ),
        waterfall=WaterfallScope(Scope.PER_GROUP),
    )
    return attrs.evolve(policy, liquidation=attrs.evolve(policy.liquidation, penalty_ppm=penalty_ppm))


ALTS = grouped("MAJORS", "ALTS", "ALTS")  # SOL's fund kept in ETH's balance
MAJORS = grouped("MAJORS", "ALTS", "MAJORS")  # SOL's fund kept in BTC's (the first market's)
PER_MARKET = attrs.evolve(
    ALTS, market=tuple(attrs.evolve(m, fund_group="") for m in ALTS.market), waterfall=WaterfallScope(Scope.PER_MARKET)
)
OWN = get("market-fund-pays-own-market")


def book():
    return new_book(
        market="BTC",
        mark_quote=BTC,
        traders=("alice", "bob", "carol", "dave"),
        more_markets=(Market("ETH", ETH), Market("SOL", SOL)),
        fund_per_market=True,
    )


def gap(policy: Policy, funds: dict[str, int], sol_mark: int = 50):
    """The story above with ``funds`` deposited into the fund of each named market; its steps."""
    events = [
        Deposit("alice", 4_000),
        Deposit("bob", 1_000_000),
        Deposit("carol", 1_000_000),
        Deposit("dave", 1_000_000),
        *(Deposit("insurance_fund", amount, market="" if m == "BTC" else m) for m, amount in funds.items() if amount),
        Trade("alice", "carol", 1, BTC),
        Trade("alice", "bob", 100, SOL, market="SOL"),
        Trade("dave", "carol", 1, ETH, market="ETH"),
        MarkPrice(sol_mark, market="SOL"),
    ]
    return run(policy, book(), events)


def deficit(s) -> int:
    (bankrupt,) = [o for o in s.outcomes if isinstance(o, Bankrupt)]
    return bankrupt.deficit_quote


D = deficit(gap(ALTS, {})[-1])


def adl_lots(s) -> list[tuple[str, int, str]]:
    return [(o.winner, o.lots, o.market) for o in s.outcomes if isinstance(o, AdlFill) and o.lots]


def sizes(b, name: str) -> tuple[int, ...]:
    return tuple(p.size_lots for p in b.account(name).positions)


class TestTheBoundary:
    def test_the_deficit_is_sols(self) -> None:
        assert D == 1_000

    @pytest.mark.parametrize(("policy", "slot"), [(ALTS, 1), (MAJORS, 0)], ids=["alts", "majors"])
    def test_a_group_fund_exactly_the_deficit_pays_it_and_nobody_is_deleveraged(self, policy, slot) -> None:
        lead = policy.market[slot].name
        s = gap(policy, {lead: D})[-1]
        assert adl_lots(s) == []
        assert [(o.layer, o.covered_quote) for o in s.outcomes if isinstance(o, LayerUsed)][0] == ("insurance_fund", D)
        assert fund_balance(s.before, slot) == D and fund_balance(s.after, slot) == 0
        assert sizes(s.after, "bob")[2] == -100  # SOL's winner keeps his position

    @pytest.mark.parametrize(("policy", "slot", "other"), [(ALTS, 1, 0), (MAJORS, 0, 1)], ids=["alts", "majors"])
    def test_one_quantum_short_deleverages_sol_only_and_the_other_group_keeps_its_fund(
        self, policy, slot, other
    ) -> None:
        lead, rival = policy.market[slot].name, policy.market[other].name
        s = gap(policy, {lead: D - 1, rival: 10 * D})[-1]
        assert adl_lots(s) == [("bob", 100, "SOL")]
        # ADL charges bob the 1-quantum gap rounded up per lot: 100, of which the 99 over is dust
        # to the fund that paid (the group's, named as it is kept)
        assert fund_balance(s.after, slot) == 100 - 1
        dust = [(t.destination, t.amount_quote) for t in s.transfers if t.reason.name == "PRO_RATA_DUST"]
        assert dust == [(fund_name(s.before, slot), 99)]
        assert fund_balance(s.before, other) == 10 * D == fund_balance(s.after, other)  # another group's fund untouched
        assert sizes(s.after, "dave") == (0, 1, 0) and sizes(s.after, "carol") == (-1, -1, 0)  # ETH and BTC untouched
        paid = [(t.source, t.amount_quote) for t in s.transfers if t.reason.name == "INSURANCE_FUND"]
        assert paid == [(fund_name(s.before, slot), D - 1)]

    def test_per_market_the_same_money_in_eths_fund_does_not_pay_sols_deficit(self) -> None:
        """The grouping is what pays: per market, SOL's own (empty) fund stands first and ETH's D
        stays, so bob is deleveraged for the whole deficit."""
        s = gap(PER_MARKET, {"ETH": D})[-1]
        assert adl_lots(s) == [("bob", 100, "SOL")] and fund_balance(s.after, 1) == D

    def test_a_deposit_naming_any_market_of_a_group_fills_the_groups_fund(self) -> None:
        b = gap(ALTS, {"ETH": 5})[-2].after
        after = step(ALTS, b, Deposit("insurance_fund", 7, market="SOL")).after
        assert fund_balances(after) == (0, 12, 0)
        s = step(ALTS, b, Deposit("insurance_fund", 7, market="SOL"))
        assert [(t.destination, t.amount_quote) for t in s.transfers] == [("insurance_fund#ETH", 7)]


class TestTheLedger:
    @pytest.mark.parametrize("policy", [ALTS, MAJORS, PER_MARKET], ids=["alts", "majors", "per-market"])
    def test_each_fund_balance_moves_exactly_by_the_entries_that_name_it(self, policy) -> None:
        """With a 1% penalty, alice liquidated but solvent at SOL 60 (every market's penalty to the
        fund of the market that liquidated her, SOL's group) and bankrupt at 50: every fund
        balance moves by exactly the ledger entries naming it, and money is conserved."""
        penalised = attrs.evolve(policy, liquidation=attrs.evolve(policy.liquidation, penalty_ppm=10_000))
        for mark in (65, 50):
            for s in gap(penalised, {"BTC": 3, "ETH": 5, "SOL": 0}, sol_mark=mark):
                assert s.after.total_cash_quote() == s.after.net_deposits_quote
                for k in range(3):
                    name = fund_name(s.before, k)
                    moved = sum(t.amount_quote for t in s.transfers if t.destination == name) - sum(
                        t.amount_quote for t in s.transfers if t.source == name
                    )
                    assert fund_balance(s.after, k) - fund_balance(s.before, k) == moved, (mark, k, s.event)

    def test_a_liquidation_pays_every_penalty_to_the_fund_of_the_market_that_liquidated(self) -> None:
        """SOL at 65: alice's equity 4,000 − 3,500 = 500 is below her maintenance 1,500 + 325 and
        above the penalties: BTC's 1% of 30,000 and SOL's 1% of 6,500 both go to the fund of SOL's
        group (kept in ETH's balance), the fund that would have taken her deficit; before this,
        BTC's penalty reached BTC's fund while the ledger named SOL's."""
        policy = grouped("MAJORS", "ALTS", "ALTS", penalty_ppm=10_000)
        s = gap(policy, {}, sol_mark=65)[-1]
        penalties = [(t.destination, t.amount_quote) for t in s.transfers if t.reason.name == "LIQUIDATION_PENALTY"]
        assert penalties == [("insurance_fund#ETH", 300), ("insurance_fund#ETH", 65)]
        assert fund_balances(s.after) == (0, 365, 0)


class TestTheClaims:
    def test_the_own_fund_claim_reads_the_group(self) -> None:
        s = gap(ALTS, {"ETH": D - 1, "BTC": 10 * D})[-1]
        view = StepView.of(ALTS, s)
        assert OWN.applies(ALTS) and OWN.exercised(view) and OWN.holds(view)
        # the same step read as per market: ETH's balance paid SOL's deficit, another market's fund
        assert not OWN.holds(StepView.of(PER_MARKET, s))

    @pytest.mark.parametrize("taken", [1, -1])
    def test_the_other_groups_fund_moved_by_one_quantum_either_way(self, taken: int) -> None:
        s = gap(ALTS, {"ETH": D - 1, "BTC": 10 * D})[-1]
        fund = s.after.role(Role.INSURANCE_FUND)
        forged = attrs.evolve(
            s,
            after=s.after.replace_account(
                s.after.index(fund.name), attrs.evolve(fund, cash_quote=fund.cash_quote - taken)
            ),
        )
        assert OWN.holds(StepView.of(ALTS, forged)) is (taken < 0)

    def test_waterfall_order_reads_the_groups_fund(self) -> None:
        """ADL in SOL while BTC's group holds 10 D is not a haircut while "the fund" holds money;
        had the claim read SOL's own (empty) balance it would pass whatever the group's fund held:
        with the group's fund capped so that it keeps money, it fails."""
        s = gap(ALTS, {"ETH": D - 1, "BTC": 10 * D})[-1]
        assert get("waterfall-order").holds(StepView.of(ALTS, s))
        capped = attrs.evolve(ALTS, deficit=(InsuranceFund(cap_quote=100), Adl(Ranking.ORDER)))
        t = gap(capped, {"ETH": 10 * D})[-1]
        assert adl_lots(t) == [("bob", 100, "SOL")] and fund_balance(t.after, 1) == 10 * D - 100
        assert not get("waterfall-order").holds(StepView.of(capped, t))


class TestOneSemantics:
    @pytest.mark.parametrize("policy", [ALTS, MAJORS], ids=["alts", "majors"])
    @pytest.mark.parametrize("which", ["gap", "eth-move", "sol-fund-deposit"])
    def test_the_symbolic_engine_agrees_on_a_grouped_step(self, policy, which: str) -> None:
        from tests.z3_step import z3_step_agrees

        steps = gap(policy, {"BTC": 3 * D, "ETH": D - 1})
        book, event = {
            "gap": (steps[-1].before, steps[-1].event),
            "eth-move": (steps[-1].before, MarkPrice(1_000, market="ETH")),
            "sol-fund-deposit": (steps[-1].before, Deposit("insurance_fund", 5, market="SOL")),
        }[which]
        z3_step_agrees(policy, book, event)

    def test_z3_proves_the_own_fund_claim_on_three_markets_in_two_groups(self) -> None:
        from solvent.solver.bounds import Bounds
        from solvent.solver.prove import prove
        from solvent.solver.verdicts import Verdict

        result = prove(ALTS, "market-fund-pays-own-market", Bounds(accounts=1, markets=3, effort=20_000_000))
        assert result.verdict is Verdict.PROVED, result
        assert "3 markets (BTC, ETH, SOL)" in result.scope.fixed


GROUPED_TEXT = dumps_policy(ALTS)  # the policy as a file: BTC in MAJORS, ETH and SOL in ALTS


class TestTheLoader:
    def test_per_group_loads_and_writes_back(self) -> None:
        policy = loads_policy(GROUPED_TEXT)
        assert policy.waterfall.grouped and [policy.fund_of(i) for i in range(3)] == [0, 1, 1]
        assert loads_policy(dumps_policy(policy)) == policy and 'fund_group = "ALTS"' in dumps_policy(policy)
        assert policy.waterfall_summary().endswith("a fund per group of markets (2 for 3 markets)")

    @pytest.mark.parametrize(
        ("old", "new", "message", "on"),
        [
            (
                'name = "SOL"\nfund_group = "ALTS"\n',
                'name = "SOL"\n',
                "'fund_group' must name the fund market 'SOL' shares, as [waterfall] scope is 'per_group'",
                'name = "SOL"',
            ),
            (
                'scope = "per_group"',
                'scope = "per_market"',
                "'fund_group' groups markets under [waterfall] scope = 'per_group'; the scope is 'per_market': 'MAJORS' @ $.market[0].fund_group",
                'fund_group = "MAJORS"',
            ),
            (
                'scope = "per_group"',
                'scope = "per_grup"',
                "'scope' must be one of 'pooled', 'per_market', 'per_group': 'per_grup' (did you mean 'per_group'?) @ $.waterfall.scope",
                "scope",
            ),
            (
                'fund_group = "ALTS"\n\n[[market]]\nname = "SOL"',
                'fund_group = 7\n\n[[market]]\nname = "SOL"',
                "fund_group",
                "fund_group = 7",
            ),
        ],
        ids=["missing-group", "group-without-per-group", "misspelt-scope", "group-not-a-name"],
    )
    def test_bad_input_names_the_field_and_its_line(self, old: str, new: str, message: str, on: str) -> None:
        assert old in GROUPED_TEXT
        text = GROUPED_TEXT.replace(old, new, 1)
        with pytest.raises(PolicyError) as raised:
            loads_policy(text, source="venue.toml")
        (error,) = raised.value.errors
        assert message in error and "venue.toml:" in error, error
        line = int(error.rsplit("venue.toml:", 1)[1].split(":")[0])
        # the field's own line, or for a missing field its table's header (then the table's name)
        at = text.splitlines()[line - 1 : line + 1]
        assert on in at[0] or (at[0] == "[[market]]" and on in at[1]), (error, at)

    def test_per_group_needs_market_tables(self) -> None:
        text = GROUPED_TEXT.split("[[market]]")[0] + '[waterfall]\nscope = "per_group"\n'
        with pytest.raises(PolicyError, match="'scope' = 'per_group' shares a fund between the markets"):
            loads_policy(text, source="venue.toml")

    def test_the_command_line_exits_2_and_writes_nothing(self, tmp_path) -> None:
        from click.testing import CliRunner

        from solvent.cli import main

        path = tmp_path / "venue.toml"
        path.write_text(GROUPED_TEXT.replace('name = "SOL"\nfund_group = "ALTS"\n', 'name = "SOL"\n'), encoding="utf-8")
        result = CliRunner().invoke(main, ["check", str(path), "--no-search", "--findings-dir", str(tmp_path / "f")])
        assert result.exit_code == 2 and "market[2].fund_group" in result.output and "Traceback" not in result.output
        assert not (tmp_path / "f").exists()


def _printed(prefix: str) -> str:
    """The one command the README and docs print that starts with ``prefix`` (the README's line
    with its comment and docs/portfolio.md's inline copy are the same command)."""
    import shlex

    from tests.test_printed_commands import documented_commands

    (command,) = {shlex.join(shlex.split(c, comments=True)) for _, c in documented_commands() if c.startswith(prefix)}
    return command


class TestTheBinanceExample:
    """``examples/binance-fund-groups.toml``: Binance on BTCUSDT (a fund of its own) and two
    perpetuals of the common fund (binance.com/en/support/articles/360033525371-Insurance-Fund).
    The cross-market gap crashes 1000LUNCUSDT: the common fund, kept in 1000BONKUSDT's balance,
    pays, then 1000LUNCUSDT's winner is deleveraged; BTCUSDT's fund keeps its money."""

    ROOT = Path(__file__).resolve().parents[2]

    def policy(self) -> Policy:
        from solvent.rules.loading import load_policy

        return load_policy(self.ROOT / "examples" / "binance-fund-groups.toml")

    def test_lunc_crash_drains_the_common_fund_only(self) -> None:
        from solvent.properties.scenarios import build

        policy = self.policy()
        assert policy.market_names == ("BTCUSDT", "1000BONKUSDT", "1000LUNCUSDT")
        assert [policy.fund_of(i) for i in range(3)] == [0, 1, 1]
        story = build(policy, "cross-market-gap")
        last = run(policy, story.book, list(story.events))[-1]
        assert last.event.market == "1000LUNCUSDT"
        common = fund_balance(last.before, 1)
        # the scenario's fund in three equal shares, the common fund holding two
        assert fund_balances(last.before) == (5_318, 2 * 5_316, 0)
        covered = {o.layer: o.covered_quote for o in last.outcomes if isinstance(o, LayerUsed)}
        assert covered["insurance_fund"] == common and covered["insurance_fund"] + covered["adl"] == deficit(last)
        assert fund_balance(last.after, 0) == fund_balance(last.before, 0)  # BTCUSDT's fund untouched
        assert adl_lots(last) == [("bob", 100, "1000LUNCUSDT")]
        assert OWN.holds(StepView.of(policy, last)) and get("waterfall-order").holds(StepView.of(policy, last))

    def test_the_readme_command_runs_as_printed_and_names_the_common_fund(self) -> None:
        from tests.printed_support import run_printed

        done = run_printed(self.ROOT, _printed("solvent check examples/binance-fund-groups.toml --scenario"))
        assert done.returncode == 0, done.stderr[-2000:]
        assert "insurance_fund#1000BONKUSDT  alice" in done.stdout
        assert "paid by 1. insurance_fund (1000BONKUSDT)" in done.stdout
        assert "market-fund-pays-own-market         held" in done.stdout

    def test_the_readme_proof_runs_as_printed(self) -> None:
        from tests.printed_support import run_printed

        done = run_printed(self.ROOT, _printed("solvent prove examples/binance-fund-groups.toml"))
        assert done.returncode == 0, done.stderr[-2000:]
        assert "market-fund-pays-own-market on binance-fund-groups: proved (N ≤ 2, K ≤ 1 (mark)" in done.stdout
        assert "3 markets (BTCUSDT, 1000BONKUSDT, 1000LUNCUSDT)" in done.stdout


def test_searched_grouped_stories_conserve_money_and_keep_each_group_s_fund() -> None:
    """The search draws books of the three markets with a balance per market (``per_group`` keeps
    the shape of ``per_market``) and tops up a market's fund, which lands in its group's: every
    step conserves money, no fund goes below zero, a step leaves every other group's fund, and the
    balances of a group's further markets stay empty. 30 derandomized stories (the count is
    asserted: a search that found nothing says how many)."""
    from hypothesis import HealthCheck, given, settings

    from solvent.properties.strategies import stories

    ran: list[int] = []

    @settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
    @given(stories(ALTS, max_events=6))
    def judged(story) -> None:
        ran.append(len(story.events))
        assert story.book.funds_per_market and [m.name for m in story.book.markets] == ["BTC", "ETH", "SOL"]
        for s in run(ALTS, story.book, list(story.events)):
            view = StepView.of(ALTS, s)
            assert s.after.total_cash_quote() == s.after.net_deposits_quote
            assert get("insurance-fund-non-negative").holds(view) and OWN.holds(view)
            assert fund_balance(s.after, 2) == 0  # SOL's balance: its group's fund is kept in ETH's

    judged()
    assert len(ran) == 30

"""ADL by PnL-to-pool factor (GMX v2, docs/venues.md#gmx-v2-adl): the trigger, the reduction, the bounds."""

from __future__ import annotations

import attrs
import pytest

from solvent.rules.book import new_book
from solvent.rules.engine import run
from solvent.rules.events import Deposit, Funding, MarkPrice, Trade
from solvent.rules.loading import PolicyError, dumps_policy, loads_policy
from solvent.rules.outcomes import PoolAdlFill, PoolAdlTriggered
from solvent.rules.pool_adl import PnlToPoolAdl
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import Ranking

GMX = load_preset("gmx-v2")  # max factor 55%, min after ADL 50%
OPEN = (
    Deposit("alice", 20_000),
    Deposit("bob", 20_000),
    Deposit("carol", 200_000),
    Trade("alice", "carol", 100, 1_000),  # alice long 100 at 1_000: cost 100_000
    Trade("bob", "carol", 50, 1_000),  # bob long 50; carol short 150
)


def _crash_up(pool_quote: int, mark: int = 1_500, policy=GMX):
    book = new_book(mark_quote=1_000, traders=("alice", "bob", "carol"))
    pool = (Deposit("backstop_vault", pool_quote),) if pool_quote else ()
    return run(policy, book, (*pool, *OPEN, MarkPrice(mark)))[-1]


class TestWorkedExample:
    """+50%: the longs' pending PnL is 75_000 (alice 50_000, bob 25_000) against a pool of 100_300."""

    def test_trigger_and_reduction(self) -> None:
        """Factor 75_000 / 100_300 = 74.8% > 55%. Room = 75_000 − ⌈50% × 100_300⌉ = 24_850.
        Alice ranks first (PnL% 50% × leverage 150_000/70_000 > bob's 50% × 75_000/45_000); her
        PnL is 500 a lot, so ⌊24_850 × 100 / 50_000⌋ = 49 lots close at mark; 350 of room is left,
        under one of bob's lots (500), so bob keeps his position."""
        s = _crash_up(100_300)
        assert [o for o in s.outcomes if isinstance(o, (PoolAdlTriggered, PoolAdlFill))] == [
            PoolAdlTriggered("long", 75_000, 100_300),
            PoolAdlFill("alice", 49, 1_500, 100, 50_000),
        ]
        sizes = {a.name: a.size_lots for a in s.after.accounts if a.size_lots}
        assert sizes == {"alice": 51, "bob": 50, "carol": -150, "liquidity": 49}  # the pool takes the other side

    def test_factor_lands_between_min_and_max(self) -> None:
        """Afterwards the longs' PnL is 25_500 + 25_000 = 50_500: 50.35% of the pool, ≥ 50% (never
        overcorrected) and < 55%."""
        s = _crash_up(100_300)
        pnl = sum(a.size_lots * 1_500 - a.cost_quote for a in s.after.traders if a.size_lots > 0)
        assert pnl == 50_500
        assert 500_000 * 100_300 <= pnl * 1_000_000 < 550_000 * 100_300

    def test_no_money_moves(self) -> None:
        """Closed at mark: every transfer of the step is the move's settlement; alice keeps 70_000."""
        s = _crash_up(100_300)
        assert {t.reason.name for t in s.transfers} == {"SETTLEMENT"}
        assert s.after.account("alice").cash_quote == 70_000

    def test_exact_min_is_reached_when_lots_allow(self) -> None:
        """Pool 100_000: room 25_000 is exactly 50 of alice's lots; the factor ends at 50.000%."""
        s = _crash_up(100_000)
        assert [o.lots for o in s.outcomes if isinstance(o, PoolAdlFill)] == [50]

    def test_at_or_below_max_nothing_happens(self) -> None:
        """Pool 136_364: 75_000 / 136_364 = 54.9997% ≤ 55%: no ADL."""
        s = _crash_up(136_364)
        assert not any(isinstance(o, (PoolAdlTriggered, PoolAdlFill)) for o in s.outcomes)

    def test_empty_pool_never_triggers(self) -> None:
        """GMX's getPnlToPoolFactor is 0 for a pool worth 0, so there is no ADL."""
        s = _crash_up(0)
        assert not any(isinstance(o, PoolAdlTriggered) for o in s.outcomes)

    def test_book_order_ranking_serves_the_first_trader(self) -> None:
        """With ``ranking = "order"`` alice is still first (book order), the same 49 lots."""
        policy = attrs.evolve(GMX, pnl_to_pool_adl=attrs.evolve(GMX.pnl_to_pool_adl, ranking=Ranking.ORDER))
        s = _crash_up(100_300, policy=policy)
        assert [(o.account, o.lots) for o in s.outcomes if isinstance(o, PoolAdlFill)] == [("alice", 49)]

    def test_funding_also_runs_it(self) -> None:
        """The check runs after a funding payment's sweep too (pending PnL is unchanged by funding)."""
        book = new_book(mark_quote=1_000, traders=("alice", "bob", "carol"))
        steps = run(
            attrs.evolve(GMX, pnl_to_pool_adl=None), book, (Deposit("backstop_vault", 100_300), *OPEN, MarkPrice(1_500))
        )
        s = run(GMX, steps[-1].after, (Funding(0),))[-1]
        assert [o.lots for o in s.outcomes if isinstance(o, PoolAdlFill)] == [49]


class TestKeeperCadence:
    """Where the price stops decides who earns the rest of the move (cadence-invariant treats the
    ADL close like a liquidation, so it is not a finding there)."""

    def test_a_stop_on_the_way_hands_the_rest_of_the_move_to_the_pool(self) -> None:
        """1_000 → 1_800 in one move: ADL at 1_800, alice keeps all 80_000 of her gain. Via 1_400:
        ADL at 1_400 already (40_000 + 20_000 of PnL on 100_300: 59.8% > 55%) closes 24 of her lots
        (⌊9_850 × 100 / 40_000⌋), and the move on to 1_800 pays their 24 × 400 = 9_600 to the pool's
        trading side instead."""
        book = new_book(mark_quote=1_000, traders=("alice", "bob", "carol"))
        start = (Deposit("backstop_vault", 100_300), *OPEN)
        direct = run(GMX, book, (*start, MarkPrice(1_800)))[-1].after
        stopped = run(GMX, book, (*start, MarkPrice(1_400), MarkPrice(1_800)))[-1].after
        assert direct.account("alice").cash_quote - stopped.account("alice").cash_quote == 9_600
        assert stopped.account("liquidity").cash_quote - direct.account("liquidity").cash_quote == 9_600


class TestShortSide:
    def test_profitable_shorts_are_reduced(self) -> None:
        """Mirror image: a −50% move gives carol (short 150 at 1_000) 75_000 of PnL on a pool of
        100_300: ⌊24_850 × 150 / 75_000⌋ = 49 lots of hers close."""
        book = new_book(mark_quote=1_000, traders=("alice", "bob", "carol"))
        rich = (Deposit("alice", 80_000), Deposit("bob", 80_000))  # the longs lose 75_000 and stay solvent
        s = run(GMX, book, (Deposit("backstop_vault", 100_300), *rich, *OPEN, MarkPrice(500)))[-1]
        fills = [o for o in s.outcomes if isinstance(o, PoolAdlFill)]
        assert [(o.account, o.lots) for o in fills] == [("carol", 49)]


class TestRule:
    def test_round_trip(self) -> None:
        assert loads_policy(dumps_policy(GMX)) == GMX

    @pytest.mark.parametrize(
        ("table", "error"),
        [
            (
                "max_factor_ppm = 500000\nmin_factor_ppm = 550000",
                "'min_factor_ppm' must be <= max_factor_ppm (500000): the factor ADL reduces toward must not be above the one that starts it: 550000 @ $.pnl_to_pool_adl.min_factor_ppm (t.toml:8:18)",
            ),
            (
                "max_factor_ppm = 0\nmin_factor_ppm = 0",
                "'max_factor_ppm' must be >= 1: 0 @ $.pnl_to_pool_adl.max_factor_ppm (t.toml:7:18)",
            ),
            (
                "min_factor_ppm = 1",
                "'max_factor_ppm' is required (an integer number of ppm from 1 to 1000000) @ $.pnl_to_pool_adl (t.toml:6:1)",
            ),
            (
                "max_factor_ppm = 0.5\nmin_factor_ppm = 1",
                "'max_factor_ppm' must be an integer number of ppm: 0.5 @ $.pnl_to_pool_adl.max_factor_ppm (t.toml:7:18)",
            ),
            (
                'max_factor_ppm = 5\nmin_factor_ppm = 1\nranking = "pnl"',
                "'ranking' must be one of 'bitmex', 'binance', 'hyperliquid', 'order': 'pnl' @ $.pnl_to_pool_adl.ranking (t.toml:9:11)",
            ),
        ],
        ids=["min above max", "max zero", "max missing", "max not an integer", "unknown ranking"],
    )
    def test_errors_name_the_field(self, table: str, error: str) -> None:
        text = (
            'name = "t"\n[[margin.tiers]]\nfloor_notional_quote = 0\ninitial_ppm = 100000\nmaintenance_ppm = 50000\n[pnl_to_pool_adl]\n'
            + table
            + "\n"
        )
        with pytest.raises(PolicyError) as info:
            loads_policy(text, source="t.toml")
        assert info.value.errors == [error]

    def test_direct_construction_validates(self) -> None:
        with pytest.raises(ValueError, match="'min_factor_ppm' must be <= max_factor_ppm"):
            PnlToPoolAdl(max_factor_ppm=10, min_factor_ppm=11)

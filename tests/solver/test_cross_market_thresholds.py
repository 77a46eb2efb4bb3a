"""The move of one market that bankrupts a cross account holding every market
(``cross-market-safe-move``, issue 13; docs/portfolio.md#thresholds-across-markets).

The boundaries are checked by hand on the examples' own tables, then on the concrete engine
(the move at the boundary leaves no bad debt, one ppm beyond it does) and on z3's step with every
input a constant (one semantics). z3's bisection itself, which finds the same numbers, runs under
``deep`` (seconds to a minute each).

examples/binance-markets.toml, a move in ETHUSDT: a cross account's equity must cover the
initial margin of both positions. ETHUSDT's loosest tier (0.8%) holds notional below 5,000,000
quanta (its second tier's floor, 50,000 USDT); the least BTCUSDT position is one lot at the
lowest price the bounds allow, 10,000 quanta, whose 0.8% is 80 quanta of margin. A move of m ppm
in ETHUSDT loses m·N/10⁶ of a notional N, which the account's equity, ⌈0.008·N⌉ + 80, pays until
m > 8,000 + 80·10⁶/N; at the largest N of the tier, 4,999,999, that is 8,016.000003 ppm. So
8,016 ppm is safe and 8,017 is not: 16 ppm more than ETHUSDT's initial rate, what the least
BTCUSDT position's margin pays.

examples/dydx-v4-markets.toml, a move in MKR-USD: one flat tier (20%, no ceiling on the
notional), so the other markets' least margin is nothing against a large enough MKR-USD
position: the boundary is MKR-USD's initial rate, 200,000 ppm (the book below is the one z3
found one ppm beyond it, reproduced by hand).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from solvent.cli import main
from solvent.reports.grids import threshold_grid_table, thresholds_json
from solvent.reports.proof_text import render_thresholds
from solvent.rules.arith import PPM
from solvent.rules.book import Book, Market, Position, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.loading import load_policy
from solvent.rules.margin import account_initial_margin, account_maintenance, equity
from solvent.rules.outcomes import Bankrupt, Liquidated
from solvent.solver import thresholds as th
from solvent.solver.assumptions import move_within
from solvent.solver.bounds import Bounds
from solvent.solver.story import slots, symbolic_book
from solvent.solver.thresholds import Direction, Threshold, ThresholdStatus
from tests.cli_support import solvent
from tests.z3_step import z3_step_agrees

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BINANCE_MARKETS = load_policy(EXAMPLES / "binance-markets.toml")
DYDX_MARKETS = load_policy(EXAMPLES / "dydx-v4-markets.toml")


def _largest_within(mark: int, ppm: int) -> int:
    """The highest price a move of at most ``ppm`` reaches from ``mark`` (``|p' − p|·10⁶ ≤ ppm·p``)."""
    return mark + ppm * mark // PPM


def _cross_book(
    policy,  # noqa: ANN001
    first: tuple[str, int],
    further: tuple[tuple[str, int], ...],
    sizes: tuple[int, ...],
    cash: int,
) -> Book:
    """alice, a cross account with ``sizes`` lots in each market (cost bases at the marks) and
    ``cash``; the order book's liquidity holds the other side of every position (a fund per
    market where the policy keeps one)."""
    markets = tuple(Market(name, mark) for name, mark in further)
    book = new_book(
        market=first[0],
        mark_quote=first[1],
        traders=("alice",),
        more_markets=markets,
        fund_per_market=policy.waterfall.per_market,
    )
    marks = (first[1], *(mark for _, mark in further))
    positions = tuple(Position(s, s * m) for s, m in zip(sizes, marks, strict=True))
    alice = book.account("alice")
    alice = attrs.evolve(
        alice,
        cash_quote=cash,
        principal_quote=cash,
        size_lots=positions[0].size_lots,
        cost_quote=positions[0].cost_quote,
        more_positions=positions[1:],
    )
    liquidity = book.account("liquidity")
    opposite = tuple(Position(-p.size_lots, -p.cost_quote) for p in positions)
    liquidity = attrs.evolve(
        liquidity, size_lots=opposite[0].size_lots, cost_quote=opposite[0].cost_quote, more_positions=opposite[1:]
    )
    book = book.replace_account(book.index("alice"), alice).replace_account(book.index("liquidity"), liquidity)
    return book.with_fields(net_deposits_quote=cash)


def _bankruptcies(policy, book: Book, event) -> list[Bankrupt]:  # noqa: ANN001
    return [o for o in step(policy, book, event).outcomes if isinstance(o, Bankrupt) and o.deficit_quote > 0]


# --- binance-markets: ETHUSDT's boundary by hand ------------------------------------------------


def _binance_eth_boundary() -> int:
    """8,000 + ⌊(BTCUSDT's least margin) · 10⁶ / (ETHUSDT's largest notional at its loosest rate)⌋,
    read from the example's tables and the thresholds' lowest price."""
    btc = BINANCE_MARKETS.margin.tiers[0]
    eth = BINANCE_MARKETS.more_margins[0].tiers
    least_btc_margin = -(-th.DEFAULT_MIN_PRICE * btc.initial_ppm // PPM)  # one lot at the lowest price
    largest_eth = eth[1].floor_notional_quote - 1
    return eth[0].initial_ppm + least_btc_margin * PPM // largest_eth


def _binance_book() -> tuple[Book, int]:
    """alice long 1 BTCUSDT lot at 10,000 and short 1 ETHUSDT lot at 4,999,999, with exactly the
    initial margin of both: ⌈0.008 · 4,999,999⌉ + 0.008 · 10,000 = 40,000 + 80."""
    eth_mark = 4_999_999
    book = _cross_book(BINANCE_MARKETS, ("BTCUSDT", 10_000), (("ETHUSDT", eth_mark),), (1, -1), 40_080)
    return book, eth_mark


def test_binance_markets_eth_boundary_by_hand() -> None:
    """The formula on the example's tables is 8,016 ppm, and the book at that boundary holds the
    margin arithmetic the module docstring states: equity = initial margin of both positions
    (40,080), maintenance 0.4% of each (20,000 + 40)."""
    assert _binance_eth_boundary() == 8_016
    book, _ = _binance_book()
    policy = BINANCE_MARKETS
    alice = book.account("alice")
    im = account_initial_margin(
        policy.margin, policy.rounding, alice, book.market.mark_quote, book.more_markets, policy.more_margins
    )
    mm = account_maintenance(
        policy.margin, policy.rounding, alice, book.market.mark_quote, book.more_markets, policy.more_margins
    )
    assert (equity(policy.margin, alice), im, mm) == (40_080, 40_080, 20_040)


def test_binance_markets_eth_move_at_the_boundary_is_safe_and_one_ppm_beyond_is_not() -> None:
    """On the concrete engine: ETHUSDT up by the most 8,016 ppm allows (+40,079 quanta) leaves
    alice 1 quantum (liquidated, below maintenance, no bad debt); by the most 8,017 ppm allows
    (+40,084) she is 4 quanta short. And z3's step, every input a constant, is the same step."""
    boundary = _binance_eth_boundary()
    book, eth_mark = _binance_book()
    at = MarkPrice(_largest_within(eth_mark, boundary), market="ETHUSDT")
    beyond = MarkPrice(_largest_within(eth_mark, boundary + 1), market="ETHUSDT")
    assert (at.price_quote - eth_mark, beyond.price_quote - eth_mark) == (40_079, 40_084)
    safe = step(BINANCE_MARKETS, book, at)
    assert _bankruptcies(BINANCE_MARKETS, book, at) == []
    assert any(isinstance(o, Liquidated) for o in safe.outcomes)
    assert [b.deficit_quote for b in _bankruptcies(BINANCE_MARKETS, book, beyond)] == [4]
    for event in (at, beyond):
        assert move_within(book, event, Bounds(markets=2, max_move_ppm=boundary + (event is beyond))) is True
        z3_step_agrees(BINANCE_MARKETS, book, event)


def test_without_the_btc_position_the_eth_boundary_is_the_initial_rate() -> None:
    """The same short alone, with its own margin only (40,000): 8,001 ppm already bankrupts it
    (+40,004 quanta), so the 16 ppm are the BTCUSDT position's margin, a cross effect."""
    book = _cross_book(BINANCE_MARKETS, ("BTCUSDT", 10_000), (("ETHUSDT", 4_999_999),), (0, -1), 40_000)
    beyond = MarkPrice(_largest_within(4_999_999, 8_001), market="ETHUSDT")
    assert [b.deficit_quote for b in _bankruptcies(BINANCE_MARKETS, book, beyond)] == [4]


# --- dydx-v4-markets: MKR-USD's boundary by hand ----------------------------------------------


def _dydx_book() -> tuple[Book, int]:
    """alice long 1 BTC-USD lot at 10,040 and 1 SOL-USD at 10,024, short 50 MKR-USD at 30,593,878,
    with exactly the initial margin of all three on their own tiers: 5% of 10,040 = 502,
    ⌈10% of 10,024⌉ = 1,003, 20% of 1,529,693,900 = 305,938,780: 305,940,285 (z3's book)."""
    mkr = 30_593_878
    book = _cross_book(
        DYDX_MARKETS, ("BTC-USD", 10_040), (("SOL-USD", 10_024), ("MKR-USD", mkr)), (1, 1, -50), 305_940_285
    )
    return book, mkr


def test_dydx_markets_mkr_move_at_its_initial_rate_is_safe_and_one_ppm_beyond_is_not() -> None:
    policy = DYDX_MARKETS
    book, mkr = _dydx_book()
    alice = book.account("alice")
    im = account_initial_margin(
        policy.margin, policy.rounding, alice, book.market.mark_quote, book.more_markets, policy.more_margins
    )
    assert im == 502 + 1_003 + 305_938_780 == equity(policy.margin, alice)
    rate = policy.more_margins[1].tiers[0].initial_ppm
    at = MarkPrice(_largest_within(mkr, rate), market="MKR-USD")
    beyond = MarkPrice(_largest_within(mkr, rate + 1), market="MKR-USD")
    # 50 lots × 6,118,775 = 305,938,750 ≤ 305,940,285; 50 × 6,118,806 = 305,940,300, 15 more
    assert (at.price_quote - mkr, beyond.price_quote - mkr) == (6_118_775, 6_118_806)
    assert _bankruptcies(policy, book, at) == []
    assert [b.deficit_quote for b in _bankruptcies(policy, book, beyond)] == [15]
    for event in (at, beyond):
        z3_step_agrees(policy, book, event)


@pytest.mark.parametrize("which", ["binance-markets ETHUSDT", "dydx-v4-markets MKR-USD"])
def test_the_story_beyond_is_told_from_an_empty_book_with_trades_in_each_market(which: str) -> None:
    """The hand-check book one ppm beyond the boundary, made plain as a threshold's story is
    (``plain_book.plain_story``): deposits, then trades at each market's own mark against a fully
    collateralized maker, reach it from an empty book, and the move still breaks the claim."""
    from solvent.properties.scenarios import Story
    from solvent.solver.plain_book import plain_story

    policy, (book, mark), market, beyond = {
        "binance-markets ETHUSDT": (BINANCE_MARKETS, _binance_book(), "ETHUSDT", _binance_eth_boundary() + 1),
        "dydx-v4-markets MKR-USD": (DYDX_MARKETS, _dydx_book(), "MKR-USD", 200_001),
    }[which]
    _, bounds = th._on_every_market(policy, market, th.default_bounds(accounts=1))
    story = Story(book, (MarkPrice(_largest_within(mark, beyond), market=market),))
    plain = plain_story(policy, th.NO_CROSS_BAD_DEBT, story, attrs.evolve(bounds, max_move_ppm=beyond))
    assert plain.reached, plain.note
    traded = {t.market or book.market.name for t in plain.opening if type(t).__name__ == "Trade"}
    assert traded == {m.name for m in book.markets}


# --- the machinery: a move measured in its own market, events in one market ---------------------


def test_a_move_is_measured_against_its_own_markets_mark() -> None:
    """A move of ETH from 2,000 to 2,100 is 5%: within 50,000 ppm, not within 49,999, whatever
    the first market's mark (before: it was measured against BTC's 30,000)."""
    book = new_book(market="BTC", mark_quote=30_000, traders=("alice",), more_markets=(Market("ETH", 2_000),))
    move = MarkPrice(2_100, market="ETH")
    assert move_within(book, move, Bounds(markets=2, max_move_ppm=50_000)) is True
    assert move_within(book, move, Bounds(markets=2, max_move_ppm=49_999)) is False
    assert move_within(book, MarkPrice(31_500), Bounds(markets=2, max_move_ppm=50_000)) is True


def test_event_markets_narrow_the_slots_to_the_market_named() -> None:
    bounds = Bounds(accounts=1, markets=2, market_labels=("BTC", "ETH"), event_markets=("ETH",))
    book, _ = symbolic_book(bounds)
    (slot,) = slots(book, bounds)
    assert [v.event.market for v in slot.variants] == ["ETH"]
    with pytest.raises(ValueError, match=r"'event_markets' must name markets of the book \(BTC, ETH\): 'XRP'"):
        attrs.evolve(bounds, event_markets=("XRP",))


def test_markets_asked_names_each_market_or_refuses_an_unknown_one() -> None:
    q = th.questions()["cross-market-safe-move"]
    assert th.markets_asked(DYDX_MARKETS, q) == ("BTC-USD", "SOL-USD", "MKR-USD")
    assert th.markets_asked(DYDX_MARKETS, q, ("MKR-USD",)) == ("MKR-USD",)
    assert th.markets_asked(DYDX_MARKETS, th.questions()["safe-move"]) == ("",)
    with pytest.raises(
        ValueError, match=r"'XRP' is not a market of dydx-v4-markets \(its markets: BTC-USD, SOL-USD, MKR-USD\)"
    ):
        th.markets_asked(DYDX_MARKETS, q, ("XRP",))


def test_a_one_market_policy_is_not_asked_and_says_why() -> None:
    t = th.threshold("binance", "cross-market-safe-move")
    assert t.status is ThresholdStatus.NOT_APPLICABLE and "declares one market" in t.note and t.probes == ()


# --- the command ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["examples/two-markets.toml", "--question", "cross-market-safe-move", "--market", "XRP"],
            "solvent: --market: 'XRP' is not a market of two-markets (its markets: BTC, ETH)",
        ),
        (
            ["binance", "--question", "cross-market-safe-move", "--market", "BTC"],
            "solvent: --market: 'BTC' is not a market of binance (it declares no [[market]] tables: one market)",
        ),
        (
            ["examples/two-markets.toml", "--market", "ETH"],
            "solvent: --market: only cross-market-safe-move is asked per market, and --question asks safe-move",
        ),
    ],
)
def test_a_market_the_policy_does_not_declare_is_bad_input(args: list[str], said: str, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["thresholds", *args])
    assert result.exit_code == 2, result.output
    assert said in result.output and "Traceback" not in result.output


def test_a_grid_asks_each_market_of_each_policy(tmp_path: Path) -> None:
    """Two policies, one of one market: its cell is not applicable, the other's lists each of its
    three markets (no probe allowed: nothing decided, exit 3); the JSON names each market."""
    out = tmp_path / "grid.json"
    args = ["thresholds", "binance", "examples/dydx-v4-markets.toml", "--question", "cross-market-safe-move"]
    done = solvent(*args, "--probes", "0", "--json", str(out), cwd=ROOT)
    assert done.exit_code == 3, done.stderr[-2000:]
    grid = done.stdout[done.stdout.index("thresholds grid: 2 policies x 1 question") :]
    assert "binance                        not applicable [1]" in grid
    assert "BTC-USD: unknown" in grid and "MKR-USD: unknown" in grid
    for i, market in enumerate(("BTC-USD", "SOL-USD", "MKR-USD"), start=2):
        assert f"[{i}] examples/dydx-v4-markets.toml cross-market-safe-move {market}: " in grid
    assert "proved for: N ≤ 1, K ≤ 1 (mark in MKR-USD)" in done.stdout
    policies = json.loads(out.read_text())["policies"]
    assert [[(t.get("market"), t["status"]) for t in p["thresholds"]] for p in policies] == [
        [(None, "not-applicable")],
        [("BTC-USD", "unknown"), ("SOL-USD", "unknown"), ("MKR-USD", "unknown")],
    ]


def _answer(market: str, value: int) -> Threshold:
    return Threshold(
        "cross-market-safe-move",
        f"largest one-tick move of {market} with no bad debt",
        "p",
        Direction.LARGEST,
        ThresholdStatus.EXACT,
        proved_at=value,
        refuted_at=value + 1,
        market=market,
    )


def test_the_reports_show_the_market_of_each_answer() -> None:
    answers = [_answer("BTC-USD", 50_000), _answer("MKR-USD", 200_000)]
    text = render_thresholds(answers)
    header = text.splitlines()[0].split()
    assert header[:3] == ["question", "market", "status"]
    assert "cross-market-safe-move  MKR-USD   exact" in text
    data = thresholds_json("p", ["cross-market-safe-move"] * 2, answers, ["BTC-USD", "MKR-USD"])
    assert [(t["market"], t["value_ppm"]) for t in data["thresholds"]] == [("BTC-USD", 50_000), ("MKR-USD", 200_000)]
    keys = [(0, "cross-market-safe-move", "BTC-USD"), (0, "cross-market-safe-move", "MKR-USD")]
    grid = threshold_grid_table(["dydx"], ["cross-market-safe-move"], answers, keys)
    assert "BTC-USD: 50,000 ppm (5%)" in grid and "MKR-USD: 200,000 ppm (20%)" in grid
    assert "market" not in th.to_data(attrs.evolve(answers[0], market=""))


# --- z3's bisection (deep) ----------------------------------------------------------------------


@pytest.mark.deep
def test_z3_finds_the_binance_eth_boundary_by_hand() -> None:
    """The bisection proves 8,016 and refutes 8,017 with a replayed story (about 15M units)."""
    t = th.threshold(BINANCE_MARKETS, "cross-market-safe-move", market="ETHUSDT")
    assert (t.status, t.value) == (ThresholdStatus.EXACT, _binance_eth_boundary()), t.summary()
    assert "16 ppm more, what the margin of the account's positions in the other markets pays" in t.comparison
    story = t.counterexample.story
    (event,) = story.events
    assert event.market == "ETHUSDT" and all(p.size_lots != 0 for p in story.book.account("alice").positions)


@pytest.mark.deep
def test_the_readme_command_runs_as_printed(tmp_path: Path) -> None:
    """The README's command: dYdX's three markets, one row each, on two worker processes; each
    boundary its market's initial rate (flat tiers); the JSON names each market."""
    from tests.printed_support import split
    from tests.test_printed_commands import _documented

    command = _documented("solvent thresholds examples/dydx-v4-markets.toml --question cross-market-safe-move")
    _, args = split(command)
    out = tmp_path / "t.json"
    done = subprocess.run(
        [sys.executable, "-m", "solvent", *args, "--json", str(out)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    data = json.loads(out.read_text())
    got = [(t["market"], t["status"], t["value_ppm"]) for t in data["thresholds"]]
    assert got == [("BTC-USD", "exact", 50_000), ("SOL-USD", "exact", 100_000), ("MKR-USD", "exact", 200_000)]
    assert "question                market" in done.stdout

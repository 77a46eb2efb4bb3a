"""Isolated margin at the command line (docs/portfolio.md decision 3a): a story names each
position's margin mode and every margin move; bad input (a mode the policy language does not
know, isolated margin where the policy does not allow it, a margin move of the wrong sign) is a
clear error naming the file, the field, its line and what was expected, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import attrs
from click.testing import CliRunner

from solvent.cli import main
from solvent.properties.findings import Finding, save
from solvent.properties.scenarios import Story
from solvent.rules.book import new_book
from solvent.rules.events import AddMargin, Deposit, MarkPrice, RemoveMargin, Trade
from solvent.rules.presets import load_preset

BINANCE = load_preset("binance")
TWO_MARKETS = Path(__file__).resolve().parents[2] / "examples" / "two-markets.toml"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _finding(tmp_path: Path, *, modes=("cross", "isolated"), margin: int = 100_000, remove: int | None = None) -> Path:
    """alice sets ``margin`` aside for an isolated PERP position, buys 100 lots, the mark falls 20%."""
    policy = attrs.evolve(BINANCE, margin=attrs.evolve(BINANCE.margin, modes=modes))
    book = new_book(mark_quote=5_000, traders=("alice", "bob"), isolated_positions=(("alice", "PERP"),))
    events = [Deposit("liquidity", 10**9), Deposit("alice", 10**6), Deposit("bob", 10**6), AddMargin("alice", margin)]
    if remove is not None:
        events.append(RemoveMargin("alice", remove))
    events += [Trade("alice", "bob", 100, 5_000), MarkPrice(4_000)]
    return save(Finding(policy, "isolated-loss-contained", Story(book, tuple(events)), 5), tmp_path / "f.json")


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


def test_a_replayed_story_names_the_mode_and_the_margin_moves(tmp_path: Path) -> None:
    code, out, _ = run("replay", str(_finding(tmp_path, remove=1)))
    assert code == 0, out
    assert (
        "margin: alice's PERP position is isolated (alice:PERP, on its own margin); every other position is cross"
        in out
    )
    assert "4. alice adds USDT 1,000.00 to its isolated PERP position's margin" in out
    assert "5. alice takes USDT 0.01 out of its isolated PERP position's margin" in out
    assert "6. alice (isolated) buys 100 lots from bob at USDT 50,000/BTC (alice takes)" in out


def test_a_margin_move_of_the_wrong_sign_is_bad_input(tmp_path: Path) -> None:
    path = _finding(tmp_path, margin=-5)
    code, _, err = run("replay", str(path))
    line = _line_of(path, '"amount_quote": -5')
    assert code == 2
    assert (
        f"{path}: 'amount_quote' must be > 0 (AddMargin moves that much into the isolated position; the other way "
        f"is RemoveMargin): -5 @ $.story.events[3].amount_quote ({path}:{line}:"
    ) in err
    assert "Traceback" not in err


def test_isolated_margin_where_the_policy_allows_cross_only_is_bad_input(tmp_path: Path) -> None:
    path = _finding(tmp_path, modes=("cross",))
    code, _, err = run("replay", str(path))
    line = _line_of(path, '"isolated_market": "PERP"')
    assert code == 2
    assert (
        "'isolated_market' must be a market that allows isolated margin (the policy allows cross margin only "
        f"in PERP): 'PERP' @ $.story.book.accounts[1].isolated_market ({path}:{line}:"
    ) in err
    assert "Traceback" not in err


def test_an_unknown_mode_in_a_policy_is_bad_input(tmp_path: Path) -> None:
    text = TWO_MARKETS.read_text().replace("[margin]\n", '[margin]\nmodes = ["cross", "isolatd"]\n', 1)
    path = tmp_path / "venue.toml"
    path.write_text(text)
    line = _line_of(path, '"isolatd"')
    code, _, err = run("check", str(path), "--no-search")
    assert code == 2
    assert f"'modes' must hold 'cross' and/or 'isolated': 'isolatd' @ $.margin.modes ({path}:{line}:" in err
    assert "Traceback" not in err


def test_a_market_mode_that_is_not_a_list_is_bad_input(tmp_path: Path) -> None:
    text = TWO_MARKETS.read_text().replace('name = "ETH"\n', 'name = "ETH"\nmodes = "isolated"\n', 1)
    path = tmp_path / "venue.toml"
    path.write_text(text)
    code, _, err = run("check", str(path), "--no-search")
    assert code == 2
    assert f"'modes' must be an array of strings: 'isolated' @ $.market[1].modes ({path}:" in err


def test_isolated_positions_in_a_proof_where_the_policy_allows_none_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "venue.toml"
    path.write_text(TWO_MARKETS.read_text().replace("[margin]\n", '[margin]\nmodes = ["cross"]\n', 1))
    code, _, err = run("prove", str(path), "--invariant", "isolated-loss-contained", "--isolated", "1")
    assert code == 2
    assert "'isolated' must be 0: the policy allows isolated margin in none of BTC, ETH" in err
    assert "Traceback" not in err


def test_a_market_held_both_cross_and_isolated_is_bad_input(tmp_path: Path) -> None:
    # Binance's marginType and Bybit's switch-isolated are per symbol: one trader, one mode a market
    policy = attrs.evolve(BINANCE, margin=attrs.evolve(BINANCE.margin, modes=("cross", "isolated")))
    book = new_book(mark_quote=5_000, traders=("alice", "bob"), isolated_positions=(("alice", "PERP"),))
    alice, bob = book.account("alice"), book.account("bob")
    book = book.replace_account(book.index("alice"), attrs.evolve(alice, size_lots=-7, cost_quote=-35_000))
    book = book.replace_account(book.index("bob"), attrs.evolve(bob, size_lots=7, cost_quote=35_000))
    story = Story(book, (Deposit("alice", 10**6), AddMargin("alice", 100_000), MarkPrice(4_000)))
    path = save(Finding(policy, "isolated-loss-contained", story, 2), tmp_path / "f.json")
    code, _, err = run("replay", str(path))
    line = _line_of(path, '"size_lots": -7')
    assert code == 2
    assert (
        f"{path}: 'size_lots' must be 0: alice's PERP position is isolated (alice:PERP), and a trader holds a "
        "market cross or isolated, never both (a venue's margin mode is per symbol): -7 "
        f"@ $.story.book.accounts[0].size_lots ({path}:{line}:"
    ) in err
    assert "Traceback" not in err

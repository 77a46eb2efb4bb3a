"""Units (issue 15): a policy whose quanta cannot state the venue's real prices, a price grid coarser
than the venue's tick (or one the tick is no whole number of steps of), loads with a
``PolicyWarning`` naming both (docs/model.md#a-price-grid-coarser-than-the-venues-tick). Boundaries:
a tick of exactly one grid step, of a whole number of steps, and one a step does not divide."""

from __future__ import annotations

import warnings

import pytest

from solvent.rules.loading import PolicyWarning, loads_policy, price_grid, price_grid_problems
from solvent.rules.presets import load_preset, preset_path


def _with_tick(preset: str, after: str, tick: str) -> str:
    """The preset's text with ``units.tick`` set to ``tick``: its own line rewritten, or one added
    after the line starting with ``after``."""
    lines = preset_path(preset).read_text(encoding="utf-8").splitlines()
    mine = [i for i, x in enumerate(lines) if x.startswith("tick = ")]
    if mine:
        lines[mine[0]] = f'tick = "{tick}"'
    else:
        i = next(i for i, x in enumerate(lines) if x.startswith(after))
        lines.insert(i + 1, f'tick = "{tick}"')
    return "\n".join(lines) + "\n"


def _problems(preset: str, tick: str) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PolicyWarning)
        policy = loads_policy(_with_tick(preset, "lot =", tick), source=f"{preset}.toml")
    return price_grid_problems(policy)


def test_the_grid_is_one_quote_quantum_per_lot() -> None:
    # binance: 0.01 USDT per 0.001 BTC is a step of 10 USDT per BTC; bitmex (inverse, whole USD): 1 USD
    assert price_grid(load_preset("binance")) == (10, "USDT")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PolicyWarning)
        assert price_grid(load_preset("bitmex")) == (1, "")


@pytest.mark.parametrize(
    ("preset", "tick", "problem"),
    [
        ("binance", "10 USDT", None),  # one step a tick
        ("binance", "20 USDT", None),  # two steps a tick
        ("binance", "0.1 USDT", "is coarser than the venue's tick of 0.1 USDT (0.01 steps a tick)"),
        ("binance", "9.99 USDT", "is coarser than the venue's tick of 9.99 USDT (0.999 steps a tick)"),
        ("binance", "15 USDT", "is no whole fraction of the venue's tick of 15 USDT (1.5 steps a tick)"),
        ("bitmex", "1 USD", None),
        ("bitmex", "0.5 USD", "is coarser than the venue's tick of 0.5 USD (0.5 steps a tick)"),
        ("bitmex", "2.5 USD", "is no whole fraction of the venue's tick of 2.5 USD (2.5 steps a tick)"),
    ],
)
def test_a_tick_the_grid_cannot_state_is_named(preset: str, tick: str, problem: str | None) -> None:
    found = _problems(preset, tick)
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0] and found[0].endswith("@ $.units.tick")


def test_a_tick_in_another_currency_or_without_a_number() -> None:
    assert _problems("binance", "0.1 USD") == ["'tick' must be in the quote currency USDT: '0.1 USD' @ $.units.tick"]
    assert "cannot be checked" in _problems("binance", "a tenth")[0]
    assert "cannot be checked" in _problems("binance", "0 USDT")[0]  # no tick of zero


def test_loading_warns_where_the_tick_is_written() -> None:
    text = _with_tick("binance", "lot =", "0.1 USDT")
    line = text.splitlines().index('tick = "0.1 USDT"') + 1
    with pytest.warns(PolicyWarning) as record:
        loads_policy(text, source="binance.toml")
    assert [(w.filename, w.lineno) for w in record] == [("binance.toml", line)]
    assert "10 USDT a step, is coarser than the venue's tick of 0.1 USDT" in str(record[0].message)


def test_a_policy_the_grid_can_state_loads_silently() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", PolicyWarning)
        loads_policy(_with_tick("binance", "lot =", "10 USDT"))
        load_preset("binance")  # no tick declared: nothing to check


def test_bitmex_declares_its_tick_and_warns() -> None:
    with pytest.warns(PolicyWarning, match=r"1 USD a step, is coarser than the venue's tick of 0.5 USD"):
        load_preset("bitmex")

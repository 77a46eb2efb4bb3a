"""A story whose order book or venue account starts below zero says why (z3 leaves their cash free)."""

from __future__ import annotations

import attrs

from solvent.reports.story import unconstrained_cash_note
from solvent.rules.book import Role
from solvent.rules.presets import load_preset
from solvent.verdicts.check import run_scenario


def _start():
    return run_scenario(load_preset("binance"), "gap-crash").story.book


def _with_cash(book, role: Role, cash: int):
    accounts = tuple(attrs.evolve(a, cash_quote=cash) if a.role is role else a for a in book.accounts)
    return attrs.evolve(book, accounts=accounts)


def test_no_note_when_nothing_is_below_zero() -> None:
    assert unconstrained_cash_note(_start()) is None
    assert unconstrained_cash_note(_with_cash(_start(), Role.VENUE, 0)) is None  # zero is not below


def test_the_note_names_each_negative_system_account() -> None:
    note = unconstrained_cash_note(_with_cash(_with_cash(_start(), Role.VENUE, -(10**12)), Role.LIQUIDITY, -1))
    assert note is not None and "venue (-1,000,000,000,000)" in note and "liquidity (-1)" in note
    assert "unconstrained" in note and "A well-formed book" in note


def test_a_negative_trader_is_not_explained_away() -> None:
    book = _start()
    trader = book.traders[0]
    accounts = tuple(attrs.evolve(a, cash_quote=-5) if a.name == trader.name else a for a in book.accounts)
    assert unconstrained_cash_note(attrs.evolve(book, accounts=accounts)) is None


def test_a_preset_path_reads_the_same_from_any_folder(tmp_path, monkeypatch) -> None:
    """JSON, Markdown and JUnit name a bundled preset as SARIF does: rules/presets/NAME.toml,
    never an absolute path into the install."""
    from solvent.verdicts.locate import display_path, policy_file

    monkeypatch.chdir(tmp_path)
    assert display_path(policy_file("binance")) == "rules/presets/binance.toml"
    mine = tmp_path / "mine.toml"
    mine.write_text("")
    assert display_path(mine) == "mine.toml"

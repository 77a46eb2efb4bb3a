"""The ADL lemma (solver/adl_lemma.py): ADL at the bankruptcy price leaves the bankrupt account at zero.

z3 proves it on the engine's own ``deleverage`` for every preset that closes at the bankruptcy
price; concrete books show the same at the rounding boundary (a deficit that divides the lots
exactly leaves no dust, one quantum more leaves lots − 1 quanta of dust for the fund); a rule
mutated by one token is refuted with a book the mutated engine confirms.
"""

from __future__ import annotations

import attrs
import pytest

import solvent.rules.adl as adl_module
from solvent.rules.arith import Rounding, abs_, div, max_, safe_divisor
from solvent.rules.book import Book, Role, new_book
from solvent.rules.presets import resolve_policy
from solvent.solver import adl_lemma
from solvent.solver.verdicts import Verdict

AT_BANKRUPTCY = ("binance", "bitmex", "bybit", "okx", "dydx-v4")


@pytest.mark.parametrize("preset", AT_BANKRUPTCY)
def test_the_lemma_is_proved_on_the_engine_for_every_book_of_two_traders(preset: str) -> None:
    result = adl_lemma.check(resolve_policy(preset), traders=2, units=10_000_000)
    assert result.verdict is Verdict.PROVED, result
    assert 0 < result.stats.units < 10_000_000


def test_the_lemma_has_no_subject_where_adl_closes_at_the_previous_mark() -> None:
    # Hyperliquid closes ADL at the previous mark (§6), a documented rule: no lemma is claimed
    assert adl_lemma.adl_layer(resolve_policy("hyperliquid")) is None
    with pytest.raises(ValueError, match="no ADL layer at the bankruptcy price"):
        adl_lemma.close(resolve_policy("hyperliquid"), new_book(mark_quote=100))


def _book(alice_cash: int, alice_lots: int, bob_lots: int, mark: int = 1_000) -> Book:
    """alice short ``alice_lots`` (her cash is her equity at mark), bob and the book long the rest."""
    book = new_book(mark_quote=mark)
    sizes = {"alice": -alice_lots, "bob": bob_lots, Role.LIQUIDITY.value: alice_lots - bob_lots}
    cash = {"alice": alice_cash, "bob": 10**9}
    accounts = tuple(
        attrs.evolve(
            a,
            size_lots=sizes.get(a.name, 0),
            cost_quote=sizes.get(a.name, 0) * mark,
            cash_quote=cash.get(a.name, 0),
        )
        for a in book.accounts
    )
    return attrs.evolve(book, accounts=accounts)


@pytest.mark.parametrize(
    ("deficit", "dust"),
    [(70, 0), (71, 9), (1, 9)],  # 10 lots: 70 divides exactly; 71 → gap 8, 80 − 71 = 9 to the fund
)
def test_the_bankrupt_account_ends_at_zero_and_the_rounding_goes_to_the_fund(deficit: int, dust: int) -> None:
    policy = resolve_policy("binance")
    closed = adl_lemma.close(policy, _book(-deficit, 10, 4))
    assert (closed.equity_quote, closed.lots, closed.served_lots) == (-deficit, 10, 10)
    assert (closed.cash_after_quote, closed.size_after_lots) == (0, 0)
    assert closed.claim() is True
    # the fund receives the per-lot rounding: 10 × ⌈deficit / 10⌉ − deficit
    assert closed.to_fund_quote == dust


def test_the_claim_asks_nothing_of_a_solvent_account() -> None:
    closed = adl_lemma.close(resolve_policy("binance"), _book(5, 10, 4))
    assert closed.equity_quote == 5
    assert closed.claim() is True  # the premise (below zero at mark) is false


def test_a_gap_rounded_down_is_refuted_with_a_book_the_mutated_engine_confirms(monkeypatch) -> None:
    def floor_gap(equity_quote, size_lots):  # the engine's gap with CEIL changed to FLOOR
        return max_(div(-equity_quote, safe_divisor(abs_(size_lots)), rounding=Rounding.FLOOR), 0)

    monkeypatch.setattr(adl_module, "bankruptcy_gap_per_lot", floor_gap)
    policy = resolve_policy("binance")
    result = adl_lemma.check(policy, traders=2, units=10_000_000)
    assert result.verdict is Verdict.REFUTED
    replayed = adl_lemma.close(policy, result.counterexample)
    assert replayed.equity_quote < 0 and replayed.served_lots == replayed.lots > 0
    assert replayed.cash_after_quote < 0  # the winners paid less than the deficit


def test_a_bankruptcy_price_at_mark_is_refuted(monkeypatch) -> None:
    monkeypatch.setattr(adl_module, "price_at_gap", lambda mark, size, gap: mark)
    result = adl_lemma.check(resolve_policy("okx"), traders=2, units=10_000_000)
    assert result.verdict is Verdict.REFUTED
    assert "left after ADL" in result.detail

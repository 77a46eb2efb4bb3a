"""Which record fields z3 may vary: those marked data in their attrs metadata, never by annotation.

The lists below are the data fields as they were when the annotation ``Any`` was the marker; the
metadata (``solvent.rules.fields.data``) must give exactly these, and the solver must lift exactly
these into z3 variables.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import attrs
import z3

import solvent.rules
from solvent.rules.book import Account, Asset, Book, Market, Position, new_book
from solvent.rules.events import (
    AddMargin,
    AssetDeposit,
    AssetPrice,
    AssetWithdraw,
    Deposit,
    FinalSettlement,
    Funding,
    InterestAccrual,
    MarkPrice,
    RemoveMargin,
    SpotDeposit,
    Trade,
    Withdraw,
)
from solvent.rules.fields import DATA, data, data_fields
from solvent.solver.symbolic import constant_event, variable_book, variable_event

ACCOUNT = (
    "cash_quote",
    "spot_quote",
    "size_lots",
    "cost_quote",
    "principal_quote",
    "withdrawn_quote",
    "debt_quote",
    "window_pnl_quote",
    "funding_remainder_millionths",  # a carried funding remainder (rounding.funding_remainder)
    "reserve_slope_quote",  # percolator Gen B's linear release of the reserve (haircut_ratio.release)
)

EXPECTED: dict[type, tuple[str, ...]] = {
    # the insurance claim's running total is lifted only where it holds a number (a capped market)
    Market: ("mark_quote", "previous_mark_quote", "fund_settled_quote"),
    Account: ACCOUNT,
    Position: ("size_lots", "cost_quote"),  # an account's position in a further market
    Book: ("net_deposits_quote", "insurance_window_sum_quote"),
    Deposit: ("amount_quote",),
    Withdraw: ("amount_quote",),
    SpotDeposit: ("amount_quote",),
    Trade: ("lots", "price_quote"),
    MarkPrice: ("price_quote",),
    Funding: ("rate_ppm",),
    # collateral assets (docs/portfolio.md decision 2); an account's balances of them are a tuple
    # of data the solver lifts one by one (``solver.symbolic._lift_account``)
    # a lent asset's indices (rules/lending.py) are data: a record of every index step
    Asset: ("price_quote", "net_deposits", "deposit_index", "borrow_index"),
    AssetPrice: ("price_quote",),
    AssetDeposit: ("amount",),
    AssetWithdraw: ("amount",),
    InterestAccrual: ("rate_ppm", "seconds"),
    FinalSettlement: ("price_quote",),  # a delisted market's settlement price (issue 15)
    AddMargin: ("amount_quote",),  # a move of margin into an isolated position (docs/portfolio.md 3a)
    RemoveMargin: ("amount_quote",),
}


def test_each_record_has_exactly_its_data_fields() -> None:
    assert {cls: data_fields(cls) for cls in EXPECTED} == EXPECTED


def test_no_other_record_of_the_rules_is_marked() -> None:
    marked = set()
    for info in pkgutil.iter_modules(solvent.rules.__path__):
        module = importlib.import_module(f"solvent.rules.{info.name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and attrs.has(obj) and obj.__module__ == module.__name__ and data_fields(obj):
                marked.add(obj)
    assert marked == set(EXPECTED)


def test_structural_fields_stay_concrete_whatever_their_annotation() -> None:
    assert "tick_quote" not in data_fields(Market) and "clock" not in data_fields(Book)
    assert "name" not in data_fields(Account) and "taker" not in data_fields(Trade)


def test_z3_varies_exactly_the_data_fields_of_a_book() -> None:
    book = new_book(mark_quote=1_000, traders=("alice",))
    lifted, made = variable_book(book, prefix="b.")
    names = [str(v) for v in made]
    # a market without a capped insurance claim keeps no running total (None): nothing to lift
    expected = [f"b.PERP.{f}" for f in EXPECTED[Market] if f != "fund_settled_quote"]
    expected += [f"b.{a.name}.{f}" for a in book.accounts for f in ACCOUNT]
    expected += [f"b.book.{f}" for f in EXPECTED[Book]]
    assert sorted(names) == sorted(expected)
    assert lifted.market.tick_quote == 1 and lifted.clock == 0  # structural: still Python ints
    claimed = book.with_fields(market=attrs.evolve(book.market, fund_settled_quote=0))
    _, made = variable_book(claimed, prefix="b.")
    assert sorted(str(v) for v in made) == sorted([*expected, "b.PERP.fund_settled_quote"])


def test_z3_varies_exactly_the_data_fields_of_each_event() -> None:
    events = [
        Deposit("alice", 1),
        Withdraw("alice", 1),
        SpotDeposit("alice", 1),
        Trade("alice", "bob", 1, 2),
        MarkPrice(3),
        Funding(4),
    ]
    for event in events:
        _, made = variable_event(event)
        assert [str(v) for v in made] == [f"event.{f}" for f in EXPECTED[type(event)]]


@attrs.frozen
class _Record:
    name: str
    marked: Any = data()
    unmarked: Any = 7
    marked_int: int = data(default=3)


def test_a_field_annotated_any_but_not_marked_is_not_varied() -> None:
    record = _Record("r", 5)
    assert data_fields(_Record) == ("marked", "marked_int")
    assert attrs.fields_dict(_Record)["unmarked"].metadata.get(DATA) is None
    lifted, made = variable_event(record, prefix="r.")
    assert [str(v) for v in made] == ["r.marked", "r.marked_int"]
    assert isinstance(lifted.marked, z3.ArithRef) and isinstance(lifted.marked_int, z3.ArithRef)
    assert lifted.unmarked == 7 and type(lifted.unmarked) is int
    constant = constant_event(record)
    assert z3.is_int_value(constant.marked) and constant.marked.as_long() == 5
    assert type(constant.unmarked) is int

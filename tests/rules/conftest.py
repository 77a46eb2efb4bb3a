"""Shared small fixtures for the rule tests: a flat margin rule, a policy factory and a book with a
bankrupt account."""

from __future__ import annotations

import copy

import attrs
import pytest

from solvent.rules.book import Book, new_book
from solvent.rules.margin import MarginRule, Tier
from solvent.rules.policy import Policy, Units


@pytest.fixture
def flat_margin() -> MarginRule:
    """One tier: initial margin 10%, maintenance 5% (a dYdX-style flat rate)."""
    return MarginRule(tiers=(Tier(floor_notional_quote=0, initial_ppm=100_000, maintenance_ppm=50_000),))


@pytest.fixture
def make_policy(flat_margin):
    """Build a test policy over the flat margin rule; keyword arguments override policy fields."""

    def build(**fields) -> Policy:
        fields.setdefault("margin", flat_margin)
        fields.setdefault("units", Units(quote="1 USD", lot="1 contract"))
        return Policy("test", **fields)

    return build


@pytest.fixture
def frozen_copy():
    """A deep copy of a value, to show later that a pure function left its input as it was."""
    return copy.deepcopy


@pytest.fixture
def deficit_book():
    """Build a book (mark 100, traders alice, bob and carol) where alice is bankrupt at −``deficit``;
    keyword arguments set any account's fields (``bob={"cash_quote": 800}``)."""

    def build(deficit: int, **accounts: dict) -> Book:
        book = new_book(mark_quote=100, traders=("alice", "bob", "carol"))
        for name, fields in {"alice": {"cash_quote": -deficit}, **accounts}.items():
            i = book.index(name)
            book = book.replace_account(i, attrs.evolve(book.accounts[i], **fields))
        return book

    return build

"""Shared small fixtures for the rule tests: a flat margin rule and a policy factory."""

from __future__ import annotations

import copy

import pytest

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

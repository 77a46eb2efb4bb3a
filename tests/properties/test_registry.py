"""One registry for invariants, relational properties and scenarios (solvent.properties.registry).

Each claim or story Solvent names by id lives in a :class:`Registry`: ids are unique (a duplicate
is refused, naming the id), an unknown id lists the known ids in registration order and suggests
the closest, and Solvent's own items are told apart from ones a user registers.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from solvent.properties import catalog, incidents, relational, scenarios
from solvent.properties.catalog import Invariant, Severity
from solvent.properties.registry import Registry


@attrs.frozen
class Item:
    id: str


@pytest.fixture
def registry() -> Registry[Item]:
    r: Registry[Item] = Registry("widget", key=lambda item: item.id)
    for name in ("gamma", "alpha", "beta-max"):
        r.register(Item(name), builtin=True)
    return r


class TestRegistry:
    def test_ids_keep_registration_order(self, registry) -> None:
        # not sorted: gamma was registered first
        assert registry.ids() == ["gamma", "alpha", "beta-max"] == list(registry)
        assert [item.id for item in registry.values()] == ["gamma", "alpha", "beta-max"]
        assert len(registry) == 3

    def test_duplicate_id_is_refused_naming_it(self, registry) -> None:
        with pytest.raises(ValueError, match=r"^widget id 'alpha' is already registered$"):
            registry.register(Item("alpha"))
        assert registry.ids() == ["gamma", "alpha", "beta-max"]  # the first one stays

    def test_unknown_id_lists_known_and_suggests_the_closest(self, registry) -> None:
        with pytest.raises(KeyError) as raised:
            registry.get("bta-max")
        assert (
            raised.value.args[0] == "unknown widget 'bta-max'; known: gamma, alpha, beta-max; did you mean 'beta-max'?"
        )

    def test_unknown_id_far_from_all_has_no_suggestion(self, registry) -> None:
        with pytest.raises(KeyError) as raised:
            registry["zzzzzz"]
        assert raised.value.args[0] == "unknown widget 'zzzzzz'; known: gamma, alpha, beta-max"

    def test_a_default_is_returned_only_when_asked_for(self, registry) -> None:
        assert registry.get("nope", None) is None
        assert "nope" not in registry and "alpha" in registry

    def test_builtin_and_user_registered(self, registry) -> None:
        registry.register(Item("mine"))
        assert [registry.builtin(i) for i in registry] == [True, True, True, False]

    def test_seal_makes_everything_so_far_builtin(self) -> None:
        r: Registry[Item] = Registry("widget", key=lambda item: item.id)
        r.register(Item("a"))
        r.seal_builtins()
        r.register(Item("b"))
        assert (r.builtin("a"), r.builtin("b"), r.builtin("unknown")) == (True, False, False)

    def test_unregister_removes_and_frees_the_id(self, registry) -> None:
        registry.register(Item("mine"))
        del registry["mine"]
        assert registry.ids() == ["gamma", "alpha", "beta-max"]
        registry.register(Item("mine"))  # the id is free again
        with pytest.raises(KeyError, match="unknown widget 'nope'"):
            registry.unregister("nope")

    def test_empty_registry(self) -> None:
        r: Registry[Item] = Registry("widget", key=lambda item: item.id)
        assert r.ids() == [] and len(r) == 0
        with pytest.raises(KeyError) as raised:
            r.get("x")
        assert raised.value.args[0] == "unknown widget 'x'; known: "


class TestTheThreeRegistries:
    """The catalog, the relational properties and the scenarios are each a Registry."""

    def test_each_is_a_registry(self) -> None:
        assert isinstance(catalog.CATALOG, Registry)
        assert isinstance(relational.RELATIONAL, Registry)
        assert isinstance(scenarios.SCENARIOS, Registry)

    def test_catalog_suggests_the_closest_invariant(self) -> None:
        with pytest.raises(KeyError) as raised:
            catalog.get("no-negative-equiti")
        message = raised.value.args[0]
        assert message.startswith(f"unknown invariant 'no-negative-equiti'; known: {', '.join(catalog.ids())}")
        assert message.endswith("; did you mean 'no-negative-equity'?")

    def test_relational_suggests_the_closest_property(self) -> None:
        with pytest.raises(KeyError) as raised:
            relational.get("round-trip-neutrall")
        assert raised.value.args[0].endswith("; did you mean 'round-trip-neutral'?")

    def test_scenario_suggests_the_closest(self) -> None:
        with pytest.raises(KeyError) as raised:
            scenarios.get("gap-crsh")
        assert (
            raised.value.args[0]
            == f"unknown scenario 'gap-crsh'; known: {', '.join(scenarios.SCENARIOS)}; did you mean 'gap-crash'?"
        )

    def test_every_shipped_item_is_builtin(self) -> None:
        assert all(catalog.builtin(i) for i in catalog.ids())
        assert all(relational.RELATIONAL.builtin(i) for i in relational.ids())
        assert all(scenarios.SCENARIOS.builtin(i) for i in scenarios.SCENARIOS)

    def test_scenarios_register_the_incidents_explicitly(self) -> None:
        """No import side effect: the scenarios module builds its registry from the stress
        scenarios, those of a book of several markets, those of a lending policy, those of
        isolated margin, those of collateral assets and ``incidents.INCIDENTS``, in that order."""
        groups = (
            *scenarios.STRESS,
            *scenarios.PORTFOLIO,
            *scenarios.LENDING,
            *scenarios.ISOLATED,
            *scenarios.COLLATERAL,
        )
        names = [s.name for s in groups]
        assert scenarios.SCENARIOS.ids() == names + list(incidents.INCIDENTS)
        assert scenarios.DEFAULT == tuple(s.name for s in scenarios.STRESS)

    def test_a_user_invariant_is_registered_after_the_builtins_and_not_builtin(self) -> None:
        mine = Invariant("my-test-claim", "a claim of the user's own", Severity.MEDIUM, lambda view: True)
        catalog.register(mine)
        try:
            assert catalog.ids()[-1] == "my-test-claim" and catalog.get("my-test-claim") is mine
            assert not catalog.builtin("my-test-claim")
            with pytest.raises(ValueError, match="^invariant id 'my-test-claim' is already registered$"):
                catalog.register(mine)
        finally:
            catalog.CATALOG.unregister("my-test-claim")
        assert "my-test-claim" not in catalog.CATALOG

    def test_no_module_is_imported_only_to_register(self) -> None:
        """No unused import of ``incidents`` (``noqa: F401``) is left anywhere: registration is explicit."""
        root = Path(__file__).resolve().parents[2]
        offenders = [
            f"{path.relative_to(root)}: {line.strip()}"
            for folder in ("properties", "solver", "verdicts", "reports", "solvent", "tests", "benchmarks")
            for path in (root / folder).rglob("*.py")
            if path != Path(__file__).resolve()
            for line in path.read_text(encoding="utf-8").splitlines()
            if "noqa: F401" in line and ("incidents" in line or "scenario" in line or "registers the i" in line)
        ]
        assert offenders == []

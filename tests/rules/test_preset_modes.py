"""The six cross presets declare ``[margin] modes = ["cross", "isolated"]``, each venue's truth
(docs/portfolio.md decision 3c, revisited with 3d and measured). Declaring both modes leaves every
cross question z3 asks unchanged, down to its units; what it adds is check's second margin scope
(one trader and an isolated position, margin moves) and margin moves in the search."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from solvent.rules.loading import dumps_policy, load_policy
from solvent.rules.presets import load_preset, preset_names
from solvent.solver.bounds import Bounds
from solvent.solver.prove import prove
from solvent.solver.verdicts import Verdict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BOTH = ("cross", "isolated")


def with_modes(policy, modes=BOTH, name=None):
    return attrs.evolve(policy, margin=attrs.evolve(policy.margin, modes=modes), name=name or policy.name)


#: the presets of venues that margin one market cross and let a position be isolated (decision 3c)
CROSS_PRESETS = ("binance", "bybit", "okx", "dydx-v4", "hyperliquid", "drift")


@pytest.mark.parametrize("name", preset_names())
def test_the_cross_presets_declare_both_margin_modes(name: str) -> None:
    # Decision 3c, revisited with 3d: check asks each claim on all-cross books and on books with an
    # isolated position, each scope its own allotment, so declaring the venue's truth keeps every
    # cross proof (measured on the six). Any other preset declares modes only with that decision
    # revisited for it (and the goldens regenerated).
    policy = load_preset(name)
    if name in CROSS_PRESETS:
        assert policy.margin.modes == BOTH, f"{name}: docs/portfolio.md decision 3c"
    else:
        assert not policy.declares_modes, f"{name} declares [margin] modes: docs/portfolio.md decision 3c"


def test_binance_isolated_is_the_binance_preset_with_both_modes() -> None:
    """The example that holds Binance's modes is the preset and the one line, so what check says of
    it is what check would say of the preset with its modes declared."""
    example = load_policy(EXAMPLES / "binance-isolated.toml")
    assert example.margin.modes == BOTH
    assert dumps_policy(with_modes(load_preset("binance"), name=example.name)) == dumps_policy(example)


@pytest.mark.parametrize("claim", ["conservation", "deficit-charged-once"])
def test_declaring_both_modes_asks_the_same_cross_question(claim: str) -> None:
    """Every trader cross (``isolated = 0``, mark moves): the same terms with the modes declared or
    not, so the same verdict in the same units (``solvent prove`` and bench_proof --catalog on a
    preset would not move if it declared them)."""
    bounds = Bounds(accounts=1, events=1, effort=10_000_000)
    plain = prove(with_modes(load_preset("binance"), modes=()), claim, bounds, minimize=False)
    declared = prove(with_modes(load_preset("binance")), claim, bounds, minimize=False)
    assert plain.verdict is Verdict.PROVED
    assert (declared.verdict, declared.units) == (plain.verdict, plain.units)

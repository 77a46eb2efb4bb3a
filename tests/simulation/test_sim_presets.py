"""Every preset through a crash and a volatile day: the run completes, every step conserves money,
and every exported story replays to the failure it was exported for (deep: every preset, a few seconds)."""

import pytest
from sim_base import BASE
from test_sim_outcomes import CRASH, CRASH_CSV

from solvent.properties import catalog
from solvent.properties.findings import load
from solvent.properties.search import first_violation, replay
from solvent.rules.engine import run
from solvent.rules.presets import load_preset, preset_names
from solvent.simulation.export import BROKEN, export, worst_first
from solvent.simulation.paths import build
from solvent.simulation.run import prepare, simulate

VOLATILE = BASE.replace("volatility = 0.8", "volatility = 3")


@pytest.mark.deep
@pytest.mark.parametrize("preset", preset_names())
def test_every_preset_simulates_conserves_and_exports_replayable_stories(preset: str, write, tmp_path) -> None:
    policy = load_preset(preset)
    for text in (VOLATILE, CRASH):
        prepared = prepare(policy, write(text, **{"crash.csv": CRASH_CSV}))
        result = simulate(prepared, paths=4, seed=2)
        for outcome in result.outcomes:
            path = build(prepared, 2, outcome.index)
            steps = run(prepared.policy, path.population.book, path.events)
            assert first_violation(prepared.policy, catalog.get("conservation"), steps) is None
        for outcome in worst_first(result.outcomes)[:2]:
            # the outcome's reading and the catalog's claims agree: a file for every claim it says broke
            files = export(prepared, 2, outcome, tmp_path / "stories")
            said = {i for i, field in BROKEN.items() if getattr(outcome, field) is not None}
            assert {f.name.removeprefix(f"path-{outcome.index}-").removesuffix(".json") for f in files} == said
            for file in files:
                finding = load(file)
                steps = replay(finding.policy, finding.story)
                assert first_violation(finding.policy, catalog.get(finding.invariant), steps) == finding.step_index

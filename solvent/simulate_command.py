"""``solvent simulate POLICY --scenario FILE.toml``: Monte Carlo stress on the exact engine or the
fast one equal to it (``--engine``).

Exit codes: 0 the run finished (whatever it found: a simulation estimates, it does not judge),
2 bad input (the scenario, its CSV, an option; the message names the file, the field or line and
the expected form; nothing is written).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import click

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def _bad_input(message: str) -> None:
    click.echo(f"solvent: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


class Width(click.FloatRange):
    """An interval width for ``--until``: a number in (0, 1] (click's range lets nan through)."""

    def convert(self, value, param, ctx):  # noqa: ANN001 (click's signature)
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a width between 0 and 1", param, ctx)
        return number


@click.command()
@click.argument("policy", metavar="POLICY_OR_PRESET")
@click.option(
    "--scenario",
    "scenario_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Scenario file (TOML): the book as distributions, the price model, the cadence.",
)
@click.option(
    "--paths",
    type=click.IntRange(min=1),
    default=None,
    help="Paths to run (at most, with --until); default: the scenario's.",
)
@click.option(
    "--until",
    type=Width(min=0, max=1, min_open=True),
    default=None,
    metavar="WIDTH",
    help="Stop after the first batch at which every probability's 95% interval is at most WIDTH wide.",
)
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Paths per batch (--until decides after each).",
)
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=None, help="Seed; default: the scenario's.")
@click.option(
    "--workers", type=click.IntRange(min=1, max=1024), default=1, show_default=True, help="Local worker processes."
)
@click.option(
    "--executor",
    "executor_url",
    default=None,
    metavar="dask://HOST:PORT",
    help="Run paths on a Dask scheduler instead.",
)
@click.option(
    "--engine",
    type=click.Choice(["fast", "exact"]),
    default="fast",
    show_default=True,
    help="fast: numpy arrays, equal to the exact engine, which runs any path or mechanism it does not cover "
    "(the report says which and why); exact: every path on the exact engine. The results are the same.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the report here.")
@click.option(
    "--export",
    "export_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write paths that end in a haircut or a negative balance as findings `solvent replay` runs.",
)
@click.option(
    "--export-max",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="At most this many paths (worst bad debt first).",
)
def simulate(
    policy: str,
    scenario_path: Path,
    paths: int | None,
    until: float | None,
    batch: int,
    seed: int | None,
    workers: int,
    executor_url: str | None,
    fmt: str,
    output: Path | None,
    export_dir: Path | None,
    export_max: int,
    engine: str,
) -> None:
    """Monte Carlo stress: run a scenario's paths on the exact engine and estimate, with 95%
    intervals, the insurance fund's drawdown VaR and expected shortfall, the probabilities of
    fund exhaustion, ADL, socialized loss and negative balances, liquidations at risk and bad debt.
    The same seed gives the same report for any --workers or --executor."""
    from solvent.reports.simulation import render_json, render_text
    from solvent.reports.simulation_html import render_html
    from solvent.rules.loading import PolicyError
    from solvent.simulation.executors import ExecutorError, executor_for
    from solvent.simulation.export import export, worst_first
    from solvent.simulation.run import prepare
    from solvent.simulation.run import simulate as run_simulation
    from solvent.simulation.scenario import UnrunnableScenario
    from solvent.verdicts.check import resolve as resolve_policy

    try:
        prepared = prepare(resolve_policy(policy), scenario_path)
    except PolicyError as exc:
        _bad_input(str(exc))
    scenario = prepared.scenario
    seed = scenario.seed if seed is None else seed
    try:
        with executor_for(workers, executor_url) as executor:
            result = run_simulation(
                prepared,
                paths=paths or scenario.paths,
                seed=seed,
                executor=executor,
                until=until,
                batch=batch,
                engine=engine,
            )
    except (ExecutorError, UnrunnableScenario) as exc:
        _bad_input(f"{scenario_path}: {exc}")
    written: list[str] = []
    if export_dir is not None:
        for outcome in worst_first(result.outcomes)[:export_max]:
            written += [str(p) for p in export(prepared, seed, outcome, export_dir)]
    text = {"json": render_json, "html": render_html, "text": render_text}[fmt](result, written)
    if fmt == "text":
        text += result.engine.line() + "\n"
    else:  # the JSON and the HTML are the same on either engine; which one ran goes to stderr
        click.echo(result.engine.line(), err=True)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    sys.exit(EXIT_OK)

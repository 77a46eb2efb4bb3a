"""``solvent simulate POLICY --scenario FILE.toml``: Monte Carlo stress on the exact engine or the
fast one equal to it (``--engine``).

``--sweep FIELD=V1,V2,...`` runs the same scenario and seeds at each value of one policy or
scenario field (``solvent.simulation.sweep``); ``--at-threshold QUESTION`` at ``--fractions`` of
a threshold ``solvent thresholds`` proves (``solvent.simulation.edge``).

Exit codes: 0 the run finished (whatever it found: a simulation estimates, it does not judge),
2 bad input (the scenario, its CSV, an option; the message names the file, the field or line and
the expected form; nothing is written), 3 a threshold asked for has no proved value within its
effort and probes (nothing to take fractions of), or a worker process was lost running paths (the
run has no answer for them); nothing is written.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import click

from solvent.executor_options import executor_options

EXIT_OK, EXIT_BAD_INPUT, EXIT_UNDECIDED = 0, 2, 3


def _lost(message: str) -> None:
    """A worker lost while running paths: no report (one without those paths would be another
    run's), exit 3, the code of a grid cell that gave no answer."""
    click.echo(f"solvent: {message}; nothing written (the same command gives the same paths: run it again)", err=True)
    sys.exit(EXIT_UNDECIDED)


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


class _Units(click.ParamType):
    """``solvent.cli.Units`` (``30M``, ``500k``), read when the option is converted: the command
    line imports this module, so the class is looked up then rather than imported here."""

    name = "units"

    def convert(self, value, param, ctx):  # noqa: ANN001 (click's signature)
        from solvent.cli import Units

        return Units().convert(value, param, ctx)


class Percents(click.ParamType):
    """``95,99,100``: shares of a threshold in percent, exact decimals in (0, 1000], none twice."""

    name = "percents"

    def convert(self, value, param, ctx):  # noqa: ANN001 (click's signature)
        from fractions import Fraction

        if isinstance(value, tuple):
            return value
        out: list[Fraction] = []
        for part in str(value).split(","):
            text = part.strip().removesuffix("%")
            try:
                share = Fraction(text)
            except (ValueError, ZeroDivisionError):
                self.fail(f"{part.strip()!r} is not a percentage (e.g. 95,99,100)", param, ctx)
            if not 0 < share <= 1000:
                self.fail(f"{part.strip()!r} must be above 0 and at most 1000 (percent of the threshold)", param, ctx)
            if share in out:
                self.fail(f"{part.strip()!r} appears twice", param, ctx)
            out.append(share)
        return tuple(out)


def _check_question(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from solvent.choices import QUESTIONS

    return QUESTIONS.check(ctx, param, value)


def _complete_question(ctx: click.Context, param: click.Parameter, incomplete: str):  # noqa: ANN202
    from solvent.choices import QUESTIONS

    return QUESTIONS.complete(ctx, param, incomplete)


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
@executor_options("paths")
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
@click.option(
    "--sweep",
    "sweep_specs",
    multiple=True,
    metavar="FIELD=V1,V2,...",
    help="Run the same scenario and seeds at each value of one field: a policy field as its TOML writes it "
    "(liquidation.penalty_ppm, margin.tiers[0].maintenance_ppm, a layer by name: insurance_fund.cap_quote) "
    "or scenario.<path> (scenario.book.insurance_fund_ppm); values V1,V2,... or START..STOP:STEP. "
    "Twice: a grid over two fields (rows the first, columns the second).",
)
@click.option(
    "--boundary",
    is_flag=True,
    help="With --sweep of scenario.path.max_move_ppm, scenario.book.insurance_fund_ppm or liquidation.penalty_ppm: "
    "also find the threshold z3 proves for it (safe-move, fund-for-gap, penalty-bankrupts) and show it beside "
    "the values (a line on the --format html heat map; on a grid, one threshold per row, found on that row's "
    "policy).",
)
@click.option(
    "--at-threshold",
    "threshold_ids",
    default=None,
    metavar="QUESTION,...",
    callback=_check_question,
    shell_complete=_complete_question,
    help="Find the threshold as `solvent thresholds` does and run at --fractions of its proved value, side by "
    "side: safe-move caps each mark move (scenario.path.max_move_ppm), fund-for-gap sets the fund's share "
    "(scenario.book.insurance_fund_ppm), penalty-bankrupts the penalty, maintenance-for-leverage the proof's tier.",
)
@click.option(
    "--fractions",
    type=Percents(),
    default="95,99,100",
    show_default=True,
    metavar="PERCENTS",
    help="With --at-threshold: the shares of the proved value to run at, in percent.",
)
@click.option(
    "--threshold-effort",
    type=_Units(),
    default="30M",
    show_default=True,
    metavar="UNITS",
    help="With --at-threshold: effort per solver question (z3 units and build steps: the same answer on any machine).",
)
@click.option(
    "--threshold-probes",
    type=click.IntRange(min=0, max=10_000),
    default=40,
    show_default=True,
    help="With --at-threshold: proof attempts per threshold.",
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
    sweep_specs: tuple[str, ...],
    boundary: bool,
    threshold_ids: str | None,
    fractions: tuple,
    threshold_effort: int,
    threshold_probes: int,
) -> None:
    """Monte Carlo stress: run a scenario's paths on the exact engine and estimate, with 95%
    intervals, the insurance fund's drawdown VaR and expected shortfall, the probabilities of
    fund exhaustion, ADL, socialized loss and negative balances, liquidations at risk and bad debt.
    The same seed gives the same report for any --workers or --executor.

    --sweep runs the same scenario and seeds at each value of one policy or scenario field and
    reports how the estimates move (--boundary: with the threshold z3 proves for that field);
    --at-threshold runs at --fractions of a proved threshold, side by side."""
    from solvent.reports.simulation import render_json, render_text
    from solvent.reports.simulation_html import render_html
    from solvent.rules.loading import PolicyError
    from solvent.simulation.executors import ExecutorError, executor_for
    from solvent.simulation.export import export, worst_first
    from solvent.simulation.run import LostPaths, prepare
    from solvent.simulation.run import simulate as run_simulation
    from solvent.simulation.scenario import UnrunnableScenario
    from solvent.verdicts.check import resolve as resolve_policy

    sweep_spec = sweep_specs or None
    several = sweep_spec is not None or threshold_ids is not None
    if sweep_spec is not None and threshold_ids is not None:
        raise click.UsageError("--sweep and --at-threshold cannot be combined: run one, then the other")
    if boundary and sweep_spec is None:
        raise click.BadParameter(
            "draws a threshold beside a --sweep: give --sweep FIELD=...", param_hint="'--boundary'"
        )
    if several and export_dir is not None:
        raise click.BadParameter("export a path from one run, not from a sweep", param_hint="'--export'")
    try:
        prepared = prepare(resolve_policy(policy), scenario_path)
    except PolicyError as exc:
        _bad_input(str(exc))
    scenario = prepared.scenario
    seed = scenario.seed if seed is None else seed
    if several:
        _sweep(
            prepared,
            scenario_path,
            sweep_spec,
            boundary,
            threshold_ids,
            fractions,
            threshold_effort,
            threshold_probes,
            dict(paths=paths or scenario.paths, seed=seed, until=until, batch=batch, engine=engine),
            workers,
            executor_url,
            fmt,
            output,
        )
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
    except ExecutorError as exc:  # the option's fault, not the scenario's
        _bad_input(str(exc))
    except UnrunnableScenario as exc:
        _bad_input(f"{scenario_path}: {exc}")
    except LostPaths as exc:
        _lost(str(exc))
    written: list[str] = []
    if export_dir is not None:
        for outcome in worst_first(result.outcomes)[:export_max]:
            written += [str(p) for p in export(prepared, seed, outcome, export_dir)]
    text = {"json": render_json, "html": render_html, "text": render_text}[fmt](result, written)
    if fmt == "text":
        text += result.engine.line() + "\n"
    else:  # the JSON and the HTML are the same on either engine; which one ran goes to stderr
        click.echo(result.engine.line(), err=True)
    _write(text, output)
    sys.exit(EXIT_OK)


def _question_of(field: str) -> str:
    """The threshold question that varies ``field`` (``--boundary``), or a usage error naming them."""
    from solvent.simulation.edge import FIELDS

    by_field = {f: question for question, f in FIELDS.items()}
    if field not in by_field:
        raise click.BadParameter(
            f"no threshold question varies {field}; one of: {', '.join(by_field)}", param_hint="'--boundary'"
        )
    return by_field[field]


def _grid_plan(prepared, specs: tuple[str, ...], boundary: bool, effort: int, probes: int, executor) -> tuple:  # noqa: ANN001
    """``--sweep`` twice: the rows' and the columns' fields and values, every cell checked, and each
    row's threshold (``--boundary``: the field a question varies goes along the columns), found on
    that row's policy on the executor."""
    from solvent.simulation.edge import FIELDS, find_cells
    from solvent.simulation.sweep import grid_variants, parse, show

    rows, columns = (parse(spec) for spec in specs)
    varied = set(FIELDS.values())
    if boundary and columns[0] not in varied and rows[0] in varied:
        rows, columns = columns, rows
    question = _question_of(columns[0]) if boundary else None
    row_variants = grid_variants(prepared, rows, columns)
    found = []
    if question is not None:
        cells = [(row, question) for row in row_variants]
        found = [t for _, t in find_cells(cells, effort=effort, probes=probes, executor=executor)]
        for value, t in zip(rows[1], found, strict=True):
            click.echo(f"threshold {question} at {rows[0]}={show(value)}: {t.boundary}", err=True)
    return rows, columns, row_variants, found


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")


def _sweep(
    prepared,  # noqa: ANN001 (a solvent.simulation.paths.Prepared, imported when run)
    scenario_path: Path,
    sweep_spec: tuple[str, ...] | None,
    boundary: bool,
    threshold_ids: str | None,
    fractions: tuple,
    effort: int,
    probes: int,
    run: dict,
    workers: int,
    executor_url: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """``--sweep`` or ``--at-threshold``: every value checked (and every threshold found) before
    any path runs; then the points, on one executor; the report; exit 0."""
    import attrs

    from solvent.reports.simulation_sweep import engine_lines, render_html, render_json, render_text
    from solvent.simulation.edge import NoProvedValue, edge, find_all, plan, summary
    from solvent.simulation.executors import ExecutorError, executor_for
    from solvent.simulation.run import LostPaths
    from solvent.simulation.scenario import UnrunnableScenario
    from solvent.simulation.sweep import SweepError, grid, parse, sweep, variants

    option = "--sweep" if sweep_spec is not None else "--at-threshold"
    try:
        with executor_for(workers, executor_url) as executor:
            try:
                # every value checked and every threshold found (on the executor) before any path runs
                if sweep_spec is not None and len(sweep_spec) > 2:
                    raise click.BadParameter(
                        f"at most two fields (a grid), given {len(sweep_spec)}", param_hint="'--sweep'"
                    )
                if sweep_spec is not None and len(sweep_spec) == 2:
                    rows, columns, row_variants, found_rows = _grid_plan(
                        prepared, sweep_spec, boundary, effort, probes, executor
                    )
                elif sweep_spec is not None:
                    field, values = parse(sweep_spec[0])
                    variants(prepared, field, values)
                    if boundary:
                        question = _question_of(field)
                        [found] = find_all(prepared, [question], effort=effort, probes=probes, executor=executor)
                        click.echo(f"threshold {question}: {found[1].boundary}", err=True)
                else:
                    ids = list(dict.fromkeys(q.strip() for q in threshold_ids.split(",") if q.strip()))
                    plans = []
                    for found in find_all(prepared, ids, effort=effort, probes=probes, executor=executor):
                        click.echo(f"threshold {found[0].id}: {found[1].boundary}", err=True)
                        plans.append(plan(prepared, found, fractions))
            except SweepError as exc:
                raise click.BadParameter(str(exc), param_hint=f"'{option}'") from None
            except NoProvedValue as exc:
                click.echo(f"solvent: --at-threshold {exc}", err=True)
                sys.exit(EXIT_UNDECIDED)
            if sweep_spec is not None and len(sweep_spec) == 2:
                sweeps = grid(prepared, rows, columns, executor=executor, row_variants=row_variants, **run)
                if found_rows:
                    sweeps = [attrs.evolve(s, threshold=summary(t)) for s, t in zip(sweeps, found_rows, strict=True)]
            elif sweep_spec is not None:
                sweeps = [sweep(prepared, field, values, executor=executor, **run)]
                if boundary:
                    sweeps = [attrs.evolve(sweeps[0], threshold=summary(found[1]))]
            else:
                sweeps = [edge(prepared, p.threshold.question, planned=p, executor=executor, **run) for p in plans]
    except ExecutorError as exc:  # the option's fault, not the scenario's
        _bad_input(str(exc))
    except UnrunnableScenario as exc:
        _bad_input(f"{scenario_path}: {exc}")
    except LostPaths as exc:
        _lost(str(exc))
    if fmt in ("json", "html"):
        text = (render_json if fmt == "json" else render_html)(sweeps)
        click.echo("".join(engine_lines(s) for s in sweeps), err=True, nl=False)
    else:
        text = "\n".join(render_text(s) + engine_lines(s) for s in sweeps)
    _write(text, output)
    sys.exit(EXIT_OK)

"""The ``solvent`` command line.

Exit codes: 0 every property holds (or fails only as the policy accepts), 1 a property fails,
2 bad input (the message names the file, the field and what was expected), 3 a proof or
threshold left undecided (``prove``, ``thresholds``), 4 an internal error: Solvent broke one of its
own guarantees (z3 and the engine disagree, or a replayed story breaks a claim z3 proved for a
scope that covers it). An internal error is a bug to report, never a verdict about the policy.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from solvent.choices import BUNDLED, CLAIMS, INVARIANTS, PRESETS, QUESTIONS, SCENARIO_NAMES
from solvent.executor_options import executor_options
from solvent.reports.formats import FORMATS, ReportCommand
from solvent.simulate_command import simulate

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 4


def _bad_input(message: str) -> None:
    click.echo(f"solvent: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


class Units(click.ParamType):
    """An effort in z3 resource units (``solvent.solver.effort``): ``30M``, ``500k``, ``2.5M`` or
    a plain integer. inf, nan, a negative or an absurdly large value is bad input (exit 2, with
    the option named), never a traceback."""

    name = "units"
    SUFFIXES = {"k": 10**3, "m": 10**6, "g": 10**9}

    def __init__(self, minimum: int = 1) -> None:
        self.minimum = minimum

    def convert(self, value, param, ctx):  # noqa: ANN001 (click's signature)
        from fractions import Fraction

        from solvent.solver.effort import MAX_UNITS

        if isinstance(value, int) and not isinstance(value, bool):
            number = Fraction(value)
        else:
            text = str(value).strip().replace("_", "").replace(",", "")
            scale = self.SUFFIXES.get(text[-1:].lower(), 1) if text else 1
            digits = text[:-1] if scale != 1 else text
            try:
                number = Fraction(digits) * scale  # exact: no float ever decides a budget
            except (ValueError, ZeroDivisionError):
                self.fail(f"{value!r} is not a number of units (e.g. 30M, 500k, 2000000)", param, ctx)
        if number != int(number):
            self.fail(f"{value!r} is not a whole number of units", param, ctx)
        if not self.minimum <= number <= MAX_UNITS:
            self.fail(f"{value!r} must be between {self.minimum:,} and {MAX_UNITS:,} units", param, ctx)
        return int(number)


class Counts(click.ParamType):
    """``3``, ``2,3,4``, ``2..4`` or ``1,3..5``: distinct counts within ``[low, high]``, in the order
    given (``solvent.simulation.grids.parse_counts``); anything else is click's usage error naming
    the option."""

    name = "counts"

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def convert(self, value, param, ctx):  # noqa: ANN001 (click's signature)
        from solvent.simulation.grids import parse_counts

        if isinstance(value, tuple):
            return value
        try:
            return parse_counts(str(value), self.low, self.high)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class Prices(click.ParamType):
    """``--price-grid``: prices in quote quanta per lot, comma separated (``99000,100000``), each a
    whole number at least 1, none repeated; anything else is click's usage error naming the
    option (exit 2)."""

    name = "prices"

    def convert(self, value, param, ctx):  # noqa: ANN001 (click's signature)
        if isinstance(value, tuple):
            return value
        prices = []
        for part in str(value).split(","):
            text = part.strip().replace("_", "")
            if not text:
                self.fail(f"{value!r} has an empty price between commas (e.g. 99000,100000)", param, ctx)
            if not text.isdigit() or int(text) < 1:
                self.fail(f"{part.strip()!r} is not a whole price of at least 1 quote quantum per lot", param, ctx)
            if int(text) in prices:
                self.fail(f"{part.strip()!r} is given twice", param, ctx)
            prices.append(int(text))
        return tuple(prices)


class Seconds(click.FloatRange):
    """A wall-clock safety net in seconds: finite, > 0, at most a day (click's range lets nan through)."""

    def convert(self, value, param, ctx):  # noqa: ANN001 (click's signature)
        import math

        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return number


SAFETY_NET = Seconds(min=0, min_open=True, max=86_400)

UNITS_HELP = "z3 resource units and build steps (deterministic: the same verdict on any machine; of the order of a million per second, depending on the question)"


def findings_dir_option(help: str):
    """``--findings-dir``: the counterexample database, ``.solvent/findings`` unless given."""
    return click.option(
        "--findings-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(".solvent/findings"),
        show_default=True,
        help=help,
    )


#: ``--scenario NAME`` (repeatable), checked against the named scenarios.
scenario_option = click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    metavar="NAME",
    help="Run only this scenario (repeatable).",
    callback=SCENARIO_NAMES.check,
    shell_complete=SCENARIO_NAMES.complete,
)

#: ``--invariant ID`` (repeatable), checked against the catalog and the relational properties.
invariants_option = click.option(
    "--invariant",
    "invariants",
    multiple=True,
    metavar="ID",
    help="Judge only this invariant (repeatable).",
    callback=CLAIMS.check,
    shell_complete=CLAIMS.complete,
)


def seed_option(help: str):
    """``--seed``: the search's seed (None: derandomized)."""
    return click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=None, help=help)


def prove_budget_option(help: str):
    """``--prove-budget``: z3's effort per policy in units (default: the judgement's)."""
    return click.option("--prove-budget", type=Units(minimum=0), default=None, metavar="UNITS", help=help)


#: ``--prove-effort``: at most this many units per z3 question inside a check
prove_effort_option = click.option(
    "--prove-effort",
    type=Units(),
    default="10M",
    show_default=True,
    metavar="UNITS",
    help="At most this effort per z3 question within the budget, building the question included.",
)


def least_move_option(help: str):
    """``--least-move/--no-least-move``: whether a z3 story of one mark move is told at the least
    move that breaks its claim (default) or as z3 found it."""
    return click.option("--least-move/--no-least-move", default=True, show_default=True, help=help)


#: check's and diff's: each z3 story within check's minimization budget (``ProofBudget.moves``)
CHECK_LEAST_MOVE = (
    "Tell each z3 story of one mark move at the least move that breaks its claim (up to 24M units "
    "of its own per story, beside the budget); --no-least-move shows it as z3 found it: the same verdicts, "
    "sooner."
)


def threshold_probes_option(help: str):
    """``--threshold-probes``: proof attempts per threshold question with ``--thresholds``."""
    return click.option(
        "--threshold-probes",
        type=click.IntRange(min=0, max=10_000),
        default=40,
        show_default=True,
        metavar="N",
        help=help,
    )


class _Solvent(click.Group):
    """The command group; an internal error stops the run loudly, with its own exit code."""

    def invoke(self, ctx: click.Context) -> object:
        from solvent.rules.ledger import InternalError

        try:
            return super().invoke(ctx)
        except InternalError as exc:
            click.echo(
                f"solvent: INTERNAL ERROR ({type(exc).__name__}): {exc}\n"
                "This is a bug in Solvent, not a verdict about the policy: no result of this run can be trusted. "
                "Please report it with the command line above.",
                err=True,
            )
            sys.exit(EXIT_INTERNAL)


@click.group(cls=_Solvent)
@click.version_option(package_name="solvent")
def main() -> None:
    """Check a perpetual-futures exchange's risk policy for failure modes."""


@main.command(cls=ReportCommand)
@click.argument("policies", nargs=-1, required=True, metavar="POLICY_OR_PRESET...", shell_complete=PRESETS.complete)
@scenario_option
@invariants_option
@click.option(
    "--accept",
    "accepted",
    multiple=True,
    metavar="ID",
    help="Report this invariant's failures as accepted (repeatable).",
    callback=CLAIMS.check,
    shell_complete=CLAIMS.complete,
)
@click.option(
    "--search/--no-search", default=True, show_default=True, help="Also search for failing stories with hypothesis."
)
@click.option(
    "--examples",
    type=click.IntRange(min=1),
    default=None,
    help="Search examples per invariant (default 200; 5,000 with --deep).",
)
@click.option("--deep", is_flag=True, help="Long search: more examples, longer stories, a fresh seed (printed).")
@click.option(
    "--deep-stories",
    is_flag=True,
    help="For each claim nothing broke from an ordinary book: z3 over K <= 3 events from a funded book, "
    "then a search seeded with z3's one-step counterexample (units and examples; minutes per policy).",
)
@seed_option("The search's seed: the same seed draws the same stories (default: derandomized, the same every run).")
@findings_dir_option("Counterexample database: saved stories are replayed first, new ones saved here.")
@prove_budget_option(
    "z3 proves or refutes what it can within this effort per policy and margin scope (one mark move, 2 traders), in "
    + UNITS_HELP
    + ". Default 60M, or 0 with --no-search."
)
@prove_effort_option
@least_move_option(CHECK_LEAST_MOVE)
@click.option(
    "--margin-scopes",
    "margin_scopes",
    default="",
    metavar="SCOPE,...",
    help="Ask z3 on these margin scopes only: all-cross (every trader cross-margined), isolated (one trader "
    "fewer, the first's position isolated, with margin moves). Default: every scope the policy has (both "
    "where it declares both margin modes, each its own --prove-budget; all-cross otherwise).",
)
@click.option(
    "--thresholds",
    "with_thresholds",
    is_flag=True,
    help="Also find the four thresholds (see `solvent thresholds`); minutes per policy.",
)
@threshold_probes_option("Proof attempts per threshold question with --thresholds (30M units each).")
@click.option(
    "--threshold-question",
    "threshold_questions",
    default="",
    metavar="ID,...",
    help="With --thresholds: only these questions (default all four).",
    callback=QUESTIONS.check,
    shell_complete=QUESTIONS.complete,
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(list(FORMATS)),
    help="Report format (repeatable; default text). Pair each with an --output; one may go to stdout.",
)
@click.option(
    "--output",
    "outputs",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PATH",
    help="Write the preceding --format here (or infer it from the extension).",
)
def check(
    policies: tuple[str, ...],
    scenarios: tuple[str, ...],
    invariants: tuple[str, ...],
    accepted: tuple[str, ...],
    search: bool,
    examples: int | None,
    deep: bool,
    deep_stories: bool,
    seed: int | None,
    findings_dir: Path,
    prove_budget: int | None,
    prove_effort: int,
    least_move: bool,
    margin_scopes: str,
    with_thresholds: bool,
    threshold_probes: int,
    threshold_questions: str,
    formats: tuple[str, ...],
    outputs: tuple[Path, ...],
) -> None:
    """Judge every invariant of each policy on the named scenarios, by search, and by z3 within an
    effort budget (a z3 counterexample is replayed on the concrete engine and fails the check like
    any other; a proof is shown with its scope)."""
    from solvent.properties.story import ScenarioError
    from solvent.reports.formats import OutputError, requested, write
    from solvent.reports.progress import progress
    from solvent.rules.loading import PolicyError
    from solvent.verdicts.check import resolve as resolve_policy

    judgement = _judgement(
        search=search,
        deep=deep,
        deep_stories=deep_stories,
        examples=examples,
        seed=seed,
        prove_budget=prove_budget,
        prove_effort=prove_effort,
        least_move=least_move,
        margin_scopes=_margin_scopes(margin_scopes),
        findings_dir=findings_dir,
        scenarios=scenarios,
        invariants=invariants,
        accept=accepted,
        threshold_probes=threshold_probes if with_thresholds else None,
        threshold_ids=_question_ids(threshold_questions) or (),
    )
    try:
        pairs = requested(click.get_current_context())
    except OutputError as exc:
        _bad_input(str(exc))
    reports = []
    with progress(len(policies)) as tick:
        for name in policies:
            tick(f"checking {name}")
            try:
                reports.append(judgement.run(resolve_policy(name), source=name))
            except PolicyError as exc:
                _bad_input(str(exc))
            except KeyError as exc:
                _bad_input(exc.args[0])
            except ScenarioError as exc:
                _bad_input(f"{name}: {exc}")
    try:
        write(pairs, reports, click.echo, terminal=True)
    except OutputError as exc:
        _bad_input(str(exc))
    sys.exit(EXIT_FAIL if any(r.failed for r in reports) else EXIT_OK)


def _judgement(**options):
    """The one judgement every front end runs (``solvent.verdicts.check.Judgement``), from the
    command's flags."""
    from solvent.verdicts.check import Judgement

    return Judgement.from_options(**options)


def _margin_scopes(text: str) -> tuple[str, ...]:
    """``--margin-scopes all-cross,isolated`` as scope names, checked against the known scopes."""
    from solvent.solver.margin_scopes import SCOPES

    names = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    for name in names:
        if name not in SCOPES:
            _bad_input(f"--margin-scopes: unknown margin scope {name!r}; known: {', '.join(SCOPES)}")
    if text.strip() and not names:
        _bad_input(f"--margin-scopes: no margin scope named in {text!r}; known: {', '.join(SCOPES)}")
    return names


def _question_ids(text: str) -> tuple[str, ...] | None:
    """``--threshold-question a,b`` as ids (None: all), checked against the known questions."""
    from solvent.solver.thresholds import QUESTION_IDS

    ids = tuple(q.strip() for q in text.split(",") if q.strip())
    for q in ids:
        if q not in QUESTION_IDS:
            _bad_input(f"--threshold-question: unknown threshold question {q!r}; known: {', '.join(QUESTION_IDS)}")
    return ids or None


@main.command(cls=ReportCommand)
@click.argument("old", metavar="OLD", shell_complete=PRESETS.complete)
@click.argument("new", metavar="NEW", shell_complete=PRESETS.complete)
@scenario_option
@invariants_option
@click.option(
    "--search/--no-search", default=True, show_default=True, help="Also search for failing stories with hypothesis."
)
@click.option(
    "--examples", type=click.IntRange(min=1), default=None, help="Search examples per invariant (default 200)."
)
@seed_option("The search's seed, as for check (default: derandomized); both versions draw from it.")
@findings_dir_option("Counterexample database, as for check: OLD's saved stories are replayed on NEW too.")
@prove_budget_option(
    "z3 effort per version, as for check (default 60M, or 0 with --no-search): invariants newly proved or lost."
)
@prove_effort_option
@least_move_option(CHECK_LEAST_MOVE)
@click.option(
    "--thresholds",
    "with_thresholds",
    is_flag=True,
    help="Also find the thresholds of both versions and show those that moved.",
)
@threshold_probes_option("Proof attempts per threshold question with --thresholds.")
@click.option(
    "--threshold-question",
    "threshold_questions",
    default="",
    metavar="ID,...",
    help="With --thresholds: only these questions (default all four).",
    callback=QUESTIONS.check,
    shell_complete=QUESTIONS.complete,
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["text", "markdown", "json", "sarif"]),
    help="Diff format (repeatable; default text; sarif: each changed verdict on the changed line, for code scanning).",
)
@click.option(
    "--output",
    "outputs",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PATH",
    help="Write the preceding --format here.",
)
def diff(
    old: str,
    new: str,
    scenarios: tuple[str, ...],
    invariants: tuple[str, ...],
    search: bool,
    examples: int | None,
    seed: int | None,
    findings_dir: Path,
    prove_budget: int | None,
    prove_effort: int,
    least_move: bool,
    with_thresholds: bool,
    threshold_probes: int,
    threshold_questions: str,
    formats: tuple[str, ...],
    outputs: tuple[Path, ...],
) -> None:
    """Compare two versions of a policy (files or presets): failures that appeared or vanished,
    verdicts that changed, invariants newly proved or lost, thresholds that moved. Exit 1 when NEW
    fails an invariant that OLD did not, or a threshold moved toward risk."""
    from solvent.reports import diff as policy_diff
    from solvent.reports.formats import OutputError, requested, write
    from solvent.reports.progress import progress
    from solvent.rules.loading import PolicyError
    from solvent.verdicts.check import resolve as resolve_policy
    from solvent.verdicts.check import side_by_side
    from solvent.verdicts.diff import diff_reports

    judgement = _judgement(
        search=search,
        examples=examples,
        seed=seed,
        prove_budget=prove_budget,
        prove_effort=prove_effort,
        least_move=least_move,
        findings_dir=findings_dir,
        scenarios=scenarios,
        invariants=invariants,
        threshold_probes=threshold_probes if with_thresholds else None,
        threshold_ids=_question_ids(threshold_questions) or (),
    )
    try:
        pairs = requested(click.get_current_context(), formats=tuple(policy_diff.RENDERERS))
        with progress(1) as tick:
            tick(f"checking {old} and {new}")
            # both versions judged from the same state of the findings directory
            reports = side_by_side(judgement, [(resolve_policy(name), name) for name in (old, new)])
        result = diff_reports(*reports)
        write(pairs, [result], click.echo, render=policy_diff.render, terminal=True)
    except (PolicyError, OutputError) as exc:
        _bad_input(str(exc))
    except KeyError as exc:
        _bad_input(exc.args[0])
    sys.exit(EXIT_FAIL if result.worse else EXIT_OK)


@main.command()
@click.argument(
    "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("docs/gallery"), metavar="DIR"
)
@click.option("--search/--no-search", default=True, show_default=True, help="Also search (derandomized CI budget).")
@click.option(
    "--examples", type=click.IntRange(min=1), default=None, help="Search examples per invariant (default 200)."
)
@prove_budget_option("z3 effort per preset, as for check (default 60M, or 0 with --no-search).")
@click.option(
    "--thresholds", "with_thresholds", is_flag=True, help="Also find every preset's thresholds (minutes per preset)."
)
@threshold_probes_option("Proof attempts per threshold question with --thresholds.")
@seed_option("The search's seed for every preset, as for check (default: derandomized, the same every run).")
@click.option(
    "--preset",
    "presets",
    multiple=True,
    metavar="NAME",
    help="Only this bundled preset (repeatable; default: every one). The index lists those checked.",
    callback=BUNDLED.check,
    shell_complete=BUNDLED.complete,
)
def gallery(
    out_dir: Path,
    search: bool,
    examples: int | None,
    prove_budget: int | None,
    with_thresholds: bool,
    threshold_probes: int,
    seed: int | None,
    presets: tuple[str, ...],
) -> None:
    """Check every bundled preset (or those named by --preset); write its Markdown and HTML report
    and an index into DIR (default docs/gallery)."""
    from solvent.reports.gallery import build
    from solvent.reports.progress import progress
    from solvent.rules.presets import preset_names

    # no findings directory: the gallery shows what a fresh `solvent check PRESET` shows
    judgement = _judgement(
        search=search,
        examples=examples,
        seed=seed,
        prove_budget=prove_budget,
        findings_dir=None,
        threshold_probes=threshold_probes if with_thresholds else None,
    )
    try:
        names = list(dict.fromkeys(presets)) or preset_names()  # in the order named, each once
        with progress(len(names)) as tick:  # DIR is made first: a bad one stops before any check
            written = build(out_dir, judgement=judgement, presets=names if presets else None, tick=tick)
    except OSError as exc:
        _bad_input(f"cannot write the gallery to {out_dir}: {exc.strerror or exc}")
    click.echo("\n".join(str(p) for p in written))


@main.command()
@click.argument("finding", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: the same story with each event's and transfer's exact integers (schema solvent.replay/1).",
)
def replay(finding: Path, fmt: str) -> None:
    """Re-run a saved finding exactly; exit 1 if it still fails, 0 if it no longer does. Amounts
    read in the policy's currency, prices in its units."""
    from solvent.properties import catalog
    from solvent.properties.findings import FindingError, load
    from solvent.properties.played import replay as run_story
    from solvent.reports.replay import render_json, render_text, replayed
    from solvent.reports.terminal import width
    from solvent.rules.loading import PolicyError

    try:
        f = load(finding)
        catalog.get(f.invariant)
    except (FindingError, PolicyError) as exc:
        _bad_input(str(exc))
    except KeyError as exc:
        _bad_input(f"{finding}: {exc.args[0]}")
    steps = run_story(f.policy, f.story)
    if steps is None:
        _bad_input(f"{finding}: the policy rejects an event of the saved story; it no longer describes this policy")
    result = replayed(f, steps)
    click.echo(render_json(result).rstrip("\n") if fmt == "json" else render_text(result, width()))
    sys.exit(EXIT_OK if result.failing is None else EXIT_FAIL)


@main.command()
def presets() -> None:
    """List the bundled venue presets and their sources."""
    from solvent.reports.terminal import table
    from solvent.rules.presets import load_preset, not_modelled, preset_names

    rows = []
    for name in preset_names():
        p = load_preset(name)
        waterfall = p.waterfall_summary()
        rows.append(
            (name, p.contract.kind.value, waterfall, ", ".join(p.accepts) or "-", p.sources[0] if p.sources else "-")
        )
    headers = ("preset", "contract", "deficit waterfall", "gives up by design", "main source")
    click.echo(table(rows, headers, wrap=(2, 3, 4)))
    # what each preset leaves out of its venue's mechanism, named in its header (issue 15)
    left_out = [f"{name}: {'; '.join(not_modelled(name))}" for name in preset_names() if not_modelled(name)]
    if left_out:
        import textwrap

        from solvent.reports.terminal import width

        click.echo("\nNot modelled (each preset's header says why):")
        for line in left_out:
            click.echo(textwrap.fill(line, width(), initial_indent="  ", subsequent_indent="    "))
    click.echo("\nEvery source of a preset: its TOML file (solvent.rules.presets.preset_path(name)).")


@main.command()
@click.argument("policies", nargs=-1, metavar="[POLICY_OR_PRESET...]", shell_complete=PRESETS.complete)
@click.option(
    "--search/--no-search",
    default=True,
    show_default=True,
    help="Also search, as solvent check does (--no-search: scenarios only, seconds for every preset).",
)
@click.option(
    "--examples", type=click.IntRange(min=1), default=None, help="Search examples per invariant (default 200)."
)
@prove_budget_option("z3 effort per policy, as for check (default 60M, or 0 with --no-search).")
@findings_dir_option("Counterexample database, as for check.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json"]),
    default="markdown",
    show_default=True,
    help="json: each row's story with its amounts' exact integers in quote quanta (schema solvent.tradeoffs/1).",
)
def tradeoffs(
    policies: tuple[str, ...],
    search: bool,
    examples: int | None,
    prove_budget: int | None,
    findings_dir: Path,
    fmt: str,
) -> None:
    """Which of no-negative-equity, no-haircut and deposit-not-absorbed each policy gives up: read
    off the same judgement as `solvent check` with the same options (a full check per policy; the
    story told is the one-tick gap, amounts in each policy's currency)."""
    from solvent.reports.tradeoffs import markdown, render_json
    from solvent.rules.loading import PolicyError
    from solvent.rules.presets import preset_names
    from solvent.verdicts.check import resolve as resolve_policy
    from solvent.verdicts.tradeoffs import tradeoff

    judgement = _judgement(search=search, examples=examples, prove_budget=prove_budget, findings_dir=findings_dir)
    rows = []
    for name in policies or preset_names():
        try:
            rows.append(tradeoff(resolve_policy(name), name=name, judgement=judgement))
        except PolicyError as exc:
            _bad_input(str(exc))
    click.echo(render_json(rows).rstrip("\n") if fmt == "json" else markdown(rows))


@main.command()
def scenarios() -> None:
    """List the named stress scenarios."""
    import textwrap

    from solvent.properties.scenarios import DEFAULT, PORTFOLIO, SCENARIOS
    from solvent.reports.terminal import width

    portfolio = {s.name for s in PORTFOLIO}
    for s in SCENARIOS.values():
        kind = "stress" if s.name in DEFAULT else "portfolio" if s.name in portfolio else "incident"
        line = f"{s.name:28} {kind:9} {s.summary}"
        click.echo("\n".join(textwrap.wrap(line, max(width(), 60), subsequent_indent=" " * 39)))


@main.command()
def invariants() -> None:
    """List the invariant catalog."""
    from solvent.properties.catalog import CATALOG
    from solvent.reports.terminal import table

    rows = [(i.id, i.severity.value, i.claim) for i in CATALOG.values()]
    click.echo(table(rows, ("id", "severity", "claim"), wrap=(2,)))


@main.command()
@click.argument("policy", metavar="POLICY_OR_PRESET", shell_complete=PRESETS.complete)
@click.option(
    "--invariant",
    "invariant_ids",
    required=True,
    multiple=True,
    metavar="ID[,ID...]",
    help="The invariant to prove (see `solvent invariants`); several (comma-separated or repeated) make a grid.",
    callback=INVARIANTS.check,
    shell_complete=INVARIANTS.complete,
)
@click.option(
    "--accounts",
    "--traders",
    "accounts",
    type=Counts(1, 64),
    default="3",
    show_default=True,
    metavar="N[,N...]",
    help="Traders in the symbolic book (N); several (2,3,4 or 2..4) make a grid.",
)
@click.option(
    "--events",
    type=Counts(1, 32),
    default="1",
    show_default=True,
    metavar="K[,K...]",
    help="Events in a row (K); several (1,2 or 1..3) make a grid.",
)
@click.option(
    "--markets",
    type=click.IntRange(min=1, max=3),
    default=1,
    show_default=True,
    help="Perpetual markets in the symbolic book (M); each mark, funding or trade event may act on any of them. A policy with [[market]] tables: its own markets, by name.",
)
@click.option(
    "--assets",
    type=click.IntRange(min=0, max=3),
    default=0,
    show_default=True,
    help="Collateral assets in the symbolic book besides settlement cash (A), named after the policy's [[collateral]] tables; asset-price, asset-deposit, asset-withdraw and interest events act on any of them.",
)
@click.option(
    "--isolated",
    type=click.IntRange(min=0, max=12),
    default=None,
    metavar="N",
    help="Traders (the first ones) whose position in the last market that allows isolated margin is isolated, on its own margin; the event kind margin moves margin to or from it. Default: every trader cross, and on a policy that declares both margin modes each claim is asked on two books, all-cross and one trader fewer with the first's position isolated (margin moves added), proved only where both are; giving N (0: all cross) fixes the book's modes.",
)
@click.option(
    "--event-kinds",
    default="mark",
    show_default=True,
    metavar="KIND,...",
    help="Kinds each event may be: mark, funding, deposit, withdraw, trade, spot-deposit, asset-price, asset-deposit, asset-withdraw, interest (a lent asset's index step), final-settlement (the market delisted at a settlement price, dYdX's final settlement), margin (into or out of an isolated position: --isolated).",
)
@click.option(
    "--effort",
    "effort_units",
    type=Units(),
    default="60M",
    show_default=True,
    metavar="UNITS",
    help="Effort per solver question: building it (the symbolic run) and every z3 check and refinement round, in "
    + UNITS_HELP
    + ".",
)
@click.option(
    "--safety-net",
    "safety_s",
    type=SAFETY_NET,
    default=None,
    metavar="SECONDS",
    help="Wall-clock safety net per z3 check (default ten times the effort's reference time, at least 60 s); an answer it cuts short says so.",
)
@click.option("--min-price", type=click.IntRange(min=1), default=None, help="Lowest price, quote quanta per lot.")
@click.option("--max-price", type=click.IntRange(min=1), default=None, help="Highest price, quote quanta per lot.")
@click.option(
    "--max-quote", type=click.IntRange(min=1), default=None, help="Largest |balance| and amount, quote quanta."
)
@click.option("--max-lots", type=click.IntRange(min=1), default=None, help="Largest |position|, lots.")
@click.option(
    "--price-grid",
    type=Prices(),
    default=None,
    metavar="P,...",
    help="Fix every price to these values (linear queries; the verdict covers only them).",
)
@click.option("--exact", is_flag=True, help="Hand z3 the exact nonlinear query instead of purifying products.")
@click.option(
    "--grid-first",
    is_flag=True,
    help="A claim the policy accepts as failing (one event, no collateral assets): search its story first with "
    "the mark and the move on a doubling and a halving of the least price, one trader first and up to N, within "
    "a third of the effort, then ask the rest as without it; as `solvent check` asks such a claim in its second "
    "round. Other claims are asked as without it.",
)
@click.option(
    "--as-check",
    is_flag=True,
    help="Ask each claim as `solvent check` asks it within its budget: the bounded check first (the all-N "
    "argument for ADL's payers only after it proves the claim at N) and z3's first story told at its least move "
    "without shrinking it first. With --effort at the units check gave the question, and check's book (its N, "
    "--isolated, --assets, --event-kinds), it is check's question: the same verdict and story, which is how each "
    "z3 finding's Reproduce line asks it. claims-backed's traders' part is asked here, where check rests it on "
    "its own no-negative-equity answer.",
)
@least_move_option(
    "Tell a refutation of one mark move at the least move that breaks the claim (its own units, up to 24M, as check gives each story); "
    "--no-least-move shows it as z3 found it, shrunk: the same verdict, sooner."
)
@click.option("--verbose", is_flag=True, help="Show every query, lemma and assumption.")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also write every cell's verdict, units and replayed story as JSON (schema solvent.proof-grid/1).",
)
@executor_options("proof cells (each claim × N × K one task)")
def prove(
    policy: str,
    invariant_ids: tuple[str, ...],
    accounts: tuple[int, ...],
    events: tuple[int, ...],
    markets: int,
    assets: int,
    isolated: int | None,
    event_kinds: str,
    effort_units: int,
    safety_s: float | None,
    min_price: int | None,
    max_price: int | None,
    max_quote: int | None,
    max_lots: int | None,
    price_grid: tuple[int, ...] | None,
    exact: bool,
    grid_first: bool,
    as_check: bool,
    least_move: bool,
    verbose: bool,
    json_path: str | None,
    workers: int,
    executor_url: str | None,
) -> None:
    """Prove or refute one invariant with z3 over every book of N traders and K events.

    Several invariants, N or K make a grid: each (claim, N, K) cell is one task on --workers
    local processes or a Dask --executor, the verdicts the same on any; each refutation's
    replayed story prints, then the claim × (N, K) table (proved, refuted or undecided with the
    units spent, or the error of a cell that gave none), which always prints; exit with the worst
    cell's code (4 internal, 2 vacuous, 1 refuted, 3 undecided, 0 all proved).

    Exit 0 proved, 1 refuted (the counterexample is replayed on the concrete engine and shown),
    3 unknown or partial (the effort ran out, or z3 gave up), 2 bad input (including assumptions that
    contradict each other: a vacuous proof).
    """
    from solvent.properties import catalog
    from solvent.rules.loading import PolicyError
    from solvent.simulation.grids import ProofCell
    from solvent.solver.bounds import Bounds, for_policy
    from solvent.solver.margin_scopes import margin_scopes
    from solvent.verdicts.check import resolve as resolve_policy

    claims = list(dict.fromkeys(c.strip() for ids in invariant_ids for c in ids.split(",") if c.strip()))
    scopes = [(n, k) for n in accounts for k in events]
    try:
        resolved = resolve_policy(policy)
        # the book's margin modes: as given, or one question per margin scope where the policy has two
        margins = margin_scopes(resolved) if isolated is None else ()
        margins = margins if len(margins) > 1 else ()
        for claim in claims:
            catalog.get(claim)
        given = {"min_price": min_price, "max_price": max_price, "max_quote": max_quote, "max_lots": max_lots}
        grid = price_grid or ()
        cells = [
            ProofCell(
                resolved,
                claim,
                # a policy of several markets: on its markets
                for_policy(
                    Bounds(
                        accounts=n,
                        events=k,
                        markets=markets,
                        assets=assets,
                        isolated=isolated or 0,
                        event_kinds=tuple(x.strip() for x in event_kinds.split(",") if x.strip()),
                        effort=effort_units,
                        safety_s=safety_s,
                        price_grid=grid,
                        linearize=not exact,
                        **{key: v for key, v in given.items() if v is not None},
                    ),
                    resolved,
                ),
                least_move=least_move,
                scopes=margins,
                grid_first=grid_first,
                as_check=as_check,
            )
            for claim in claims
            for n, k in scopes
        ]
    except PolicyError as exc:
        _bad_input(str(exc))
    except KeyError as exc:
        _bad_input(exc.args[0])
    except ValueError as exc:
        _bad_input(f"bounds: {exc}")
    _proof_grid(resolved, claims, scopes, cells, workers, executor_url, json_path, verbose)


def _proof_grid(
    resolved,  # noqa: ANN001 (a Policy)
    claims: list[str],
    scopes: list[tuple[int, int]],
    cells: list,
    workers: int,
    executor_url: str | None,
    json_path: str | None,
    verbose: bool,
) -> None:
    """Every cell on the executor. One cell prints as ``solvent prove`` always has; a grid prints
    each refutation's story (every cell with ``--verbose``) and the claim × (N, K) table. Exit
    with the worst cell's code."""
    import json

    from solvent.reports.grids import proof_grid_json, proof_grid_table, scope_label
    from solvent.reports.proof_text import render
    from solvent.simulation.executors import CellError
    from solvent.simulation.grids import proof_exit, prove_cells

    labels = [f"{claim} at {scope_label(n, k)}" for claim in claims for n, k in scopes]
    answers = _on_executor(workers, executor_url, lambda ex, done: prove_cells(cells, ex, done), labels)
    code = proof_exit(answers)
    if len(cells) == 1:
        [answer] = answers
        if isinstance(answer, CellError):
            click.echo(f"{claims[0]} on {resolved.name}: {answer}")
        else:
            click.echo(render(answer, verbose=verbose, contract=resolved.contract))
    else:
        for i, answer in enumerate(answers):
            claim, (n, k) = claims[i // len(scopes)], scopes[i % len(scopes)]
            if not isinstance(answer, CellError) and (verbose or answer.counterexample is not None):
                click.echo(f"== {claim} at {scope_label(n, k)} ==")
                click.echo(render(answer, verbose=verbose, contract=resolved.contract) + "\n")
        shape = (
            f"{len(claims)} claim{'s' if len(claims) > 1 else ''} x {len(scopes)} scope{'s' if len(scopes) > 1 else ''}"
        )
        click.echo(f"proofs on {resolved.name}: {shape} (N traders, K events; with the z3 units each spent)")
        click.echo(proof_grid_table(claims, scopes, answers))
    if json_path:
        data = proof_grid_json(resolved.name, claims, scopes, answers, code)
        Path(json_path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    _internal_errors(answers)
    sys.exit(code)


@main.command()
@click.argument("policies", nargs=-1, required=True, metavar="POLICY_OR_PRESET...", shell_complete=PRESETS.complete)
@click.option(
    "--question",
    "question_ids",
    default=",".join(
        ("safe-move", "fund-for-gap", "maintenance-for-leverage", "penalty-bankrupts", "vault-loss-for-gap")
    ),
    show_default=True,
    metavar="ID,...",
    help="Which thresholds to find.",
    callback=QUESTIONS.check,
    shell_complete=QUESTIONS.complete,
)
@click.option(
    "--gap-ppm",
    type=click.IntRange(min=1, max=1_000_000),
    default=200_000,
    show_default=True,
    help="fund-for-gap and vault-loss-for-gap: the one-tick gap the fund must cover, or the vault's loss is measured for (ppm of the mark).",
)
@click.option(
    "--leverage",
    type=click.IntRange(min=1, max=1_000_000),
    default=10,
    show_default=True,
    help="maintenance-for-leverage: the leverage accounts open at.",
)
@click.option(
    "--maintenance-gap-ppm",
    type=click.IntRange(min=1, max=1_000_000),
    default=50_000,
    show_default=True,
    help="maintenance-for-leverage: the gap a position above maintenance must survive (ppm).",
)
@click.option(
    "--moves",
    type=click.IntRange(min=2, max=8),
    default=2,
    show_default=True,
    help="partial-liquidation-extra-bad-debt: the mark moves in the cascade (K).",
)
@click.option(
    "--move-ppm",
    type=click.IntRange(min=1, max=1_000_000),
    default=50_000,
    show_default=True,
    help="partial-liquidation-extra-bad-debt: each move of the cascade at most this (ppm of the mark before it).",
)
@click.option(
    "--accounts",
    type=click.IntRange(min=1, max=64),
    default=None,
    help="Traders in each symbolic book (N; default 2, and 1 for fund-for-gap on an ADL-only policy: see its note).",
)
@click.option(
    "--effort",
    "effort_units",
    type=Units(),
    default="30M",
    show_default=True,
    metavar="UNITS",
    help="Effort per solver question, building it included, in " + UNITS_HELP + ".",
)
@click.option(
    "--probes",
    "max_probes",
    type=click.IntRange(min=0, max=10_000),
    default=40,
    show_default=True,
    help="Proof attempts per threshold before reporting what was decided.",
)
@click.option(
    "--safety-net",
    "safety_s",
    type=SAFETY_NET,
    default=None,
    metavar="SECONDS",
    help="Wall-clock safety net per z3 check (default ten times the effort's reference time, at least 60 s).",
)
@click.option(
    "--min-price", type=click.IntRange(min=1), default=None, help="Lowest price, quote quanta per lot (default 10000)."
)
@click.option("--max-price", type=click.IntRange(min=1), default=None, help="Highest price, quote quanta per lot.")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also write the answers as JSON (schema solvent.thresholds/1; several policies: solvent.threshold-grid/1, "
    "one thresholds/1 document per policy).",
)
@click.option(
    "--market",
    "market_names",
    default="",
    metavar="NAME,...",
    help="cross-market-safe-move: only the move in these markets (default: each market the policy declares, one row each).",
)
@click.option("--verbose", is_flag=True, help="Show every probe.")
@executor_options("threshold cells (each policy × question, × market for cross-market-safe-move, one task)")
def thresholds(
    policies: tuple[str, ...],
    question_ids: str,
    gap_ppm: int,
    leverage: int,
    maintenance_gap_ppm: int,
    moves: int,
    move_ppm: int,
    accounts: int | None,
    effort_units: int,
    max_probes: int,
    safety_s: float | None,
    min_price: int | None,
    max_price: int | None,
    json_path: str | None,
    market_names: str,
    verbose: bool,
    workers: int,
    executor_url: str | None,
) -> None:
    """Find where a policy starts to fail, as exact numbers with a proof on each side.

    For each question, z3 proves the claim at the boundary (every book of N traders, one mark
    event) and a story one ppm beyond it is replayed on the concrete engine. Questions:
    safe-move (largest one-tick move with no bad debt), fund-for-gap (smallest insurance fund, as a
    share of open interest, with no ADL or haircut for --gap-ppm), maintenance-for-leverage
    (smallest maintenance rate at --leverage for --maintenance-gap-ppm), penalty-bankrupts
    (smallest liquidation penalty at which every liquidation leaves the account nothing),
    vault-loss-for-gap (the backstop vault's worst loss in a --gap-ppm move, as a share of open
    interest, from a vault holding no position); asked by name,
    partial-liquidation-extra-bad-debt (the most bad debt partial liquidation adds to whole
    liquidation over --moves moves of at most --move-ppm, as a share of open interest), and
    cross-market-safe-move (on a policy of several [[market]] tables: for each market, or those
    --market names, the largest one-tick move of that market with no bad debt on a book of every
    market, a cross account's equity and maintenance measured on the whole account).

    Several policies make a grid: each (policy, question) cell is one task on --workers local
    processes or a Dask --executor, the answers the same on any; each policy's answers print as
    for one, then the policy × question table (an exact answer, an interval with its reason, or
    the error of a cell that gave none), which always prints.

    Exit 0 when every boundary was decided exactly, 3 when one is only bounded or unknown within
    its probes and effort (or a cell gave no answer), 2 bad input; a grid exits with its worst
    cell's code.
    """
    from solvent.rules.loading import PolicyError
    from solvent.simulation.grids import ThresholdCell
    from solvent.solver.thresholds import default_bounds, markets_asked, questions
    from solvent.verdicts.check import resolve as resolve_policy

    ids = [q.strip() for q in question_ids.split(",") if q.strip()]
    only = tuple(m.strip() for m in market_names.split(",") if m.strip())
    params = {
        "gap_ppm": gap_ppm,
        "leverage": leverage,
        "maintenance_gap_ppm": maintenance_gap_ppm,
        "moves": moves,
        "move_ppm": move_ppm,
    }
    try:
        resolved = [resolve_policy(name) for name in policies]
        known = questions(**params)
        for q in ids:
            if q not in known:
                raise KeyError(f"--question: unknown threshold question {q!r}; known: {', '.join(known)}")
        given = {"min_price": min_price, "max_price": max_price}
        given = {k: v for k, v in given.items() if v is not None}
        if only and not any(known[q].per_market for q in ids):
            per_market = ", ".join(q for q, question in known.items() if question.per_market)
            raise KeyError(f"--market: only {per_market} is asked per market, and --question asks {', '.join(ids)}")
        keys = []
        for i, policy in enumerate(resolved):
            for q in ids:
                try:
                    keys += [(i, q, m) for m in markets_asked(policy, known[q], only if known[q].per_market else ())]
                except ValueError as exc:
                    raise KeyError(f"--market: {exc}") from None
        cells = [
            ThresholdCell(
                resolved[i],
                q,
                default_bounds(
                    accounts=accounts or known[q].accounts(resolved[i]) or 2,
                    effort=effort_units,
                    safety_s=safety_s,
                    **given,
                ),
                max_probes,
                tuple(sorted(params.items())),
                market=m,
            )
            for i, q, m in keys
        ]
    except PolicyError as exc:
        _bad_input(str(exc))
    except KeyError as exc:
        _bad_input(exc.args[0])
    except ValueError as exc:
        _bad_input(f"bounds: {exc}")
    _threshold_grid(policies, resolved, ids, keys, cells, workers, executor_url, json_path, verbose)


def _on_executor(workers: int, executor_url: str | None, run, labels: list[str]):  # noqa: ANN001, ANN202
    """``run(executor, done)`` on the executor the options ask for (one that cannot start is bad
    input); ``done(i, answer)`` shows cell ``i`` (named ``labels[i]``) answered, on standard error
    (``reports.progress``; a single cell shows nothing, as a single question always has)."""
    from solvent.reports.progress import progress
    from solvent.simulation.executors import CellError, ExecutorError, executor_for

    def short(answer) -> str:  # noqa: ANN001
        if isinstance(answer, CellError):
            return str(answer)
        return getattr(answer, "boundary", None) or answer.verdict.value

    try:
        with executor_for(workers, executor_url) as executor:  # its workers started before the display
            with progress(len(labels), show=None if len(labels) > 1 else False) as tick:
                return run(executor, lambda i, answer: tick(f"{labels[i]}: {short(answer)}"))
    except ExecutorError as exc:
        _bad_input(str(exc))


def _internal_errors(answers: list) -> None:  # noqa: ANN001
    """A cell where Solvent contradicted itself, said as loudly as the command group says it
    (``_Solvent.invoke``), after the table."""
    from solvent.simulation.executors import CellError

    for a in answers:
        if isinstance(a, CellError) and a.kind == "internal":
            click.echo(
                f"solvent: INTERNAL ERROR ({a.message})\nThis is a bug in Solvent, not a verdict about the policy: "
                "no result of this run can be trusted. Please report it with the command line above.",
                err=True,
            )


def _threshold_grid(
    sources: tuple[str, ...],
    resolved: list,
    ids: list[str],
    keys: list[tuple[int, str, str]],
    cells: list,
    workers: int,
    executor_url: str | None,
    json_path: str | None,
    verbose: bool,
) -> None:
    """Every cell on the executor (``keys``: each cell's policy index, question and market); each
    policy's answers, the grid table (several policies), the JSON; exit with the worst cell's code."""
    import json

    from solvent.reports.grids import threshold_grid_json, threshold_grid_table, thresholds_json
    from solvent.reports.proof_text import render_thresholds
    from solvent.simulation.grids import find_thresholds, threshold_exit

    labels = [f"{sources[i]} {q}" + (f" {m}" if m else "") for i, q, m in keys]
    answers = _on_executor(workers, executor_url, lambda ex, done: find_thresholds(cells, ex, done), labels)
    code = threshold_exit(answers)
    for i, (source, policy) in enumerate(zip(sources, resolved, strict=True)):
        row = [a for k, a in zip(keys, answers, strict=True) if k[0] == i]
        asked = [q for k, q, _ in keys if k == i]
        if len(sources) > 1:
            click.echo(f"== {source} ==")
        markets = [m for k, _, m in keys if k == i]
        click.echo(render_thresholds(row, verbose=verbose, contract=policy.contract, questions=asked, markets=markets))
        if len(sources) > 1:
            click.echo()
    if len(sources) > 1:
        width = len(ids)
        plural = "s" if width > 1 else ""
        click.echo(
            f"thresholds grid: {len(sources)} policies x {width} question{plural} (with the z3 units each spent)"
        )
        click.echo(threshold_grid_table(sources, ids, answers, keys))
    if json_path:
        names = [p.name for p in resolved]
        data = (
            thresholds_json(names[0], [q for _, q, _ in keys], answers, [m for _, _, m in keys])
            if len(sources) == 1
            else threshold_grid_json(names, sources, ids, answers, code, keys)
        )
        Path(json_path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    _internal_errors(answers)
    sys.exit(code)


@main.command()
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="PATH",
    help="Write the schema here (the repository's copy: schemas/policy.schema.json) instead of stdout.",
)
def schema(output: Path | None) -> None:
    """Print the JSON Schema of a policy TOML file, generated from the policy classes (editors such
    as Even Better TOML / taplo read it for completion and inline validation)."""
    from solvent.verdicts.schema import schema_text

    text = schema_text()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@main.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path), metavar="POLICY.toml..."
)
@click.option(
    "--check", "check_only", is_flag=True, help="Write nothing; print a diff and exit 1 if a file would change."
)
def fmt(files: tuple[Path, ...], check_only: bool) -> None:
    """Rewrite policy TOML files in their canonical form: keys in the presets' order, one spacing,
    every comment and value kept as written (the data read back is checked to be the same).

    Every file is read and formatted before any is written, and each is replaced in one step
    (a temporary file renamed over it): a bad file (exit 2, its line and column named) leaves
    every file as it was, and an interrupted run never leaves half a file."""
    import difflib

    from solvent.policy_format import FormatError, canonical, replace_atomically

    done: list[tuple[Path, str, str]] = []
    errors: list[str] = []
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8")
        except OSError as exc:
            errors.append(f"{path}: cannot read: {exc.strerror or exc}")
            continue
        except UnicodeDecodeError as exc:
            errors.append(f"{path}: not UTF-8 (byte {exc.start}); a policy file is UTF-8 text")
            continue
        try:
            done.append((path, text, canonical(text, str(path))))
        except FormatError as exc:
            errors.append(str(exc))
    if errors:
        _bad_input("\n".join(errors))
    changed = [(path, old, new) for path, old, new in done if old != new]
    if check_only:
        for path, old, new in changed:
            diff = difflib.unified_diff(
                old.splitlines(keepends=True), new.splitlines(keepends=True), f"{path}", f"{path} (formatted)"
            )
            click.echo("".join(diff), nl=False)
        if changed:
            import shlex

            again = " ".join(shlex.quote(str(path)) for path, _, _ in changed)
            click.echo(f"solvent: {len(changed)} of {len(done)} file(s) would be reformatted; rewrite with:", err=True)
            click.echo(f"solvent fmt {again}", err=True)
            sys.exit(EXIT_FAIL)
        click.echo(f"{len(done)} file(s) already formatted")
        return
    for path, _, new in changed:
        try:
            replace_atomically(path, new)
        except OSError as exc:
            _bad_input(f"{path}: cannot write: {exc.strerror or exc} (the file is unchanged)")
        click.echo(f"reformatted {path}")
    click.echo(f"{len(changed)} reformatted, {len(done) - len(changed)} already formatted")


main.add_command(simulate)  # Monte Carlo stress (solvent.simulate_command)


if __name__ == "__main__":  # pragma: no cover
    main()

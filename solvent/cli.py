"""The ``solvent`` command line.

Exit codes: 0 every property holds (or fails only as the policy accepts), 1 a property fails,
2 bad input (the message names the file, the field and what was expected).
"""

from __future__ import annotations

import sys

import click

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2


def _bad_input(message: str) -> None:
    click.echo(f"solvent: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


@click.group()
@click.version_option(package_name="solvent")
def main() -> None:
    """Check a perpetual-futures exchange's risk policy for failure modes."""


@main.command()
@click.argument("policies", nargs=-1, required=True, metavar="POLICY_OR_PRESET...")
@click.option("--scenario", "scenarios", multiple=True, metavar="NAME", help="Run only this scenario (repeatable).")
@click.option("--invariant", "invariants", multiple=True, metavar="ID", help="Judge only this invariant (repeatable).")
@click.option("--accept", "accepted", multiple=True, metavar="ID", help="Report this invariant's failures as accepted (repeatable).")
def check(policies: tuple[str, ...], scenarios: tuple[str, ...], invariants: tuple[str, ...], accepted: tuple[str, ...]) -> None:
    """Run the scenarios against each policy and judge every invariant after every step."""
    from solvent.properties.check import check_policy
    from solvent.reports.text import render
    from solvent.rules.loading import PolicyError
    from solvent.rules.presets import resolve_policy

    reports = []
    for name in policies:
        try:
            policy = resolve_policy(name)
            reports.append(check_policy(policy, source=name, scenarios=scenarios, invariants=invariants, accept=accepted))
        except PolicyError as exc:
            _bad_input(str(exc))
        except KeyError as exc:
            _bad_input(exc.args[0])
    click.echo("\n\n".join(render(r) for r in reports))
    sys.exit(EXIT_FAIL if any(r.failed for r in reports) else EXIT_OK)


@main.command()
def presets() -> None:
    """List the bundled venue presets and their sources."""
    from tabulate import tabulate

    from solvent.rules.presets import load_preset, preset_names

    rows = []
    for name in preset_names():
        p = load_preset(name)
        waterfall = " → ".join(layer.kind for layer in p.deficit) or "(none)"
        rows.append((name, waterfall, ", ".join(p.accepts) or "-", p.sources[0] if p.sources else "-"))
    headers = ("preset", "deficit waterfall", "gives up by design", "main source")
    click.echo(tabulate(rows, headers=headers, tablefmt="simple", maxcolwidths=[None, 32, 36, 50]))
    click.echo("\nEvery source of a preset: its TOML file (solvent.rules.presets.preset_path(name)).")


@main.command()
def scenarios() -> None:
    """List the named stress scenarios."""
    from solvent.properties.scenarios import SCENARIOS

    for s in SCENARIOS.values():
        click.echo(f"{s.name:28} {s.summary}")


@main.command()
def invariants() -> None:
    """List the invariant catalog."""
    from tabulate import tabulate

    from solvent.properties.catalog import CATALOG

    rows = [(i.id, i.severity.value, i.claim) for i in CATALOG.values()]
    click.echo(tabulate(rows, headers=("id", "severity", "claim"), tablefmt="simple", maxcolwidths=[None, None, 80]))


if __name__ == "__main__":  # pragma: no cover
    main()

"""Solvent: check a perpetual-futures exchange's risk policy for failure modes.

The Python API is the command line's own judgement (``solvent.verdicts.check.Judgement``), with
the same defaults::

    import solvent

    policy = solvent.load("policies/venue.toml")          # or a preset name: solvent.load("binance")
    report = solvent.check(policy)                        # what `solvent check` does
    report = solvent.check("binance", examples=50, prove_budget=0)
    report.failed, [v.status for v in report.verdicts]
    proof = solvent.prove("binance", "conservation", accounts=2, effort="5M")   # `solvent prove`
    proof.verdict, proof.scope.text, proof.counterexample

``check`` takes the flags of ``solvent check`` as keywords (``search``, ``deep``, ``examples``,
``seed``, ``prove_budget``, ``prove_effort`` in units, ``findings_dir``, ``scenarios``, ``invariants``,
``accept``, ``threshold_probes``, ``threshold_ids``), so a verdict from Python is the verdict the
CLI, ``pytest --solvent`` and the gallery give. ``prove`` takes those of ``solvent prove``
(``accounts``, ``events``, ``event_kinds``, ``effort`` as ``"60M"`` or an integer, and any other
``solvent.solver.bounds.Bounds`` field such as ``min_price``).

In Jupyter, a report shows itself: the last expression of a cell that is ``solvent.check(...)``
displays the HTML report (verdicts, each failing story with its charts; ``_repr_html_``, style
scoped to it) or its Markdown (``_repr_markdown_``); ``report.text()`` is what the terminal
prints. A proof shows as ``solvent prove`` prints it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from solvent.reports.notebook import Proof, Report
    from solvent.rules.policy import Policy


def load(policy: str) -> Policy:
    """A policy from a ``.toml`` file or a bundled preset's name (bad input: ``PolicyError`` naming
    the file and the field)."""
    from solvent.verdicts.check import resolve as resolve_policy

    return resolve_policy(str(policy))


def check(policy: Policy | str, *, source: str = "", **options: Any) -> Report:
    """Judge ``policy`` (a ``Policy``, a path or a preset name) exactly as ``solvent check`` does.

    Returns the ``PolicyReport`` every front end builds (``solvent.reports.notebook.Report``: the
    same value, which Jupyter displays as the HTML report)."""
    from solvent.reports.notebook import Report
    from solvent.verdicts.check import DEFAULT_FINDINGS_DIR, Judgement

    if isinstance(policy, str):
        source = source or policy
        policy = load(policy)
    options.setdefault("findings_dir", DEFAULT_FINDINGS_DIR)
    for key in ("scenarios", "invariants", "accept", "threshold_ids"):
        if key in options:
            options[key] = tuple(options[key])
    return Report.of(Judgement.from_options(**options).run(policy, source=source or policy.name))


def prove(
    policy: Policy | str,
    invariant: str,
    *,
    accounts: int = 3,
    events: int = 1,
    event_kinds: tuple[str, ...] | list[str] | str = ("mark",),
    effort: int | str = "60M",
    grid_first: bool = False,
    as_check: bool = False,
    **bounds: Any,
) -> Proof:
    """Prove or refute one invariant with z3, exactly as ``solvent prove`` does: over every book
    of ``accounts`` traders and ``events`` events of ``event_kinds`` (``"mark,trade"`` or a
    sequence), within ``effort`` units (``"60M"``, ``"500k"`` or an integer); ``grid_first`` and
    ``as_check`` as its ``--grid-first`` and ``--as-check``. Other keywords are ``Bounds`` fields
    (``min_price``, ``max_price``, ``max_quote``, ``max_lots``, ``price_grid``, ``isolated``, ...).
    A counterexample is replayed on the concrete engine (``result.counterexample``), told at its
    least move and from an empty book where a history reaches it, as the command prints it.

    Bad input (an unknown invariant, an effort that is not a whole number of units, bounds that
    contradict each other) raises ``ValueError`` or ``KeyError`` naming it."""
    import click

    from solvent.cli import Units
    from solvent.properties import catalog
    from solvent.reports.notebook import Proof
    from solvent.simulation.grids import ProofCell, answer_proof
    from solvent.solver.bounds import Bounds, for_policy
    from solvent.solver.margin_scopes import margin_scopes

    resolved = load(policy) if isinstance(policy, str) else policy
    catalog.get(invariant)  # an unknown id: KeyError naming the closest
    try:
        units = Units().convert(effort, None, None)
    except click.BadParameter as exc:
        raise ValueError(f"effort: {exc.message}") from None
    kinds = tuple(k.strip() for k in event_kinds.split(",")) if isinstance(event_kinds, str) else tuple(event_kinds)
    # on the policy's own markets, funding cap and funds, as `solvent prove` asks
    limits = for_policy(Bounds(accounts=accounts, events=events, event_kinds=kinds, effort=units, **bounds), resolved)
    # as `solvent prove` (one cell of its grid): a policy that declares both margin modes is asked on
    # each margin scope unless ``isolated`` fixes the book's modes
    scopes = margin_scopes(resolved) if "isolated" not in bounds else ()
    cell = ProofCell(resolved, invariant, limits, scopes=scopes, grid_first=grid_first, as_check=as_check)
    return Proof.of(answer_proof(cell), resolved.contract)


def machine(policy: Policy | str, **options: Any) -> Any:
    """A hypothesis state machine over ``policy`` (``solvent.properties.machine.machine``) whose
    failure is told as ``solvent check`` tells a finding, with the command that replays it."""
    from solvent.properties.machine import machine as build
    from solvent.reports.machine_story import tell

    return build(load(policy) if isinstance(policy, str) else policy, tell=tell, **options)


__all__ = ["check", "load", "machine", "prove"]

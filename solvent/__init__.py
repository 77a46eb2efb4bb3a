"""Solvent: check a perpetual-futures exchange's risk policy for failure modes.

The Python API is the command line's own judgement (``solvent.verdicts.check.Judgement``), with
the same defaults::

    import solvent

    policy = solvent.load("policies/venue.toml")          # or a preset name: solvent.load("binance")
    report = solvent.check(policy)                        # what `solvent check` does
    report = solvent.check("binance", examples=50, prove_budget=0)
    report.failed, [v.status for v in report.verdicts]

``check`` takes the flags of ``solvent check`` as keywords (``search``, ``deep``, ``examples``,
``prove_budget``, ``prove_effort`` in units, ``findings_dir``, ``scenarios``, ``invariants``,
``accept``, ``threshold_probes``, ``threshold_ids``), so a verdict from Python is the verdict the
CLI, ``pytest --solvent`` and the gallery give.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from solvent.rules.policy import Policy
    from solvent.verdicts.check import PolicyReport


def load(policy: str) -> Policy:
    """A policy from a ``.toml`` file or a bundled preset's name (bad input: ``PolicyError`` naming
    the file and the field)."""
    from solvent.verdicts.check import resolve as resolve_policy

    return resolve_policy(str(policy))


def check(policy: Policy | str, *, source: str = "", **options: Any) -> PolicyReport:
    """Judge ``policy`` (a ``Policy``, a path or a preset name) exactly as ``solvent check`` does."""
    from solvent.verdicts.check import DEFAULT_FINDINGS_DIR, Judgement

    if isinstance(policy, str):
        source = source or policy
        policy = load(policy)
    options.setdefault("findings_dir", DEFAULT_FINDINGS_DIR)
    for key in ("scenarios", "invariants", "accept", "threshold_ids"):
        if key in options:
            options[key] = tuple(options[key])
    return Judgement.from_options(**options).run(policy, source=source or policy.name)


__all__ = ["check", "load"]

"""Where in a policy file a failure points: the TOML key of the rule most involved, and its line.

Code-scanning annotations (SARIF) and the Markdown and HTML stories name one line of the policy
file per finding: the ``[[deficit]]`` layer that took a winner's profit, the ``[liquidation]``
trigger, the ADL ranking, and for an accepted failure the ``accepts`` line. Keys are dotted paths
with table-array indices, as the loader's error messages spell them: ``deficit[1].ranking``,
``liquidation.trigger``, ``margin.tiers[0]``.

The lines come from a TOML parser with positions (``solvent.rules.toml_source``, tree-sitter's
TOML grammar): a header or key inside a multi-line string is text, not a table, and a key in an
inline table or written dotted is found where it is written. A wanted key that is not written
(a default) falls back to its table's header, then to ``name``, then line 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import attrs

from solvent.rules.engine import Step
from solvent.rules.ledger import HAIRCUT_REASONS, Reason
from solvent.rules.outcomes import Bankrupt, DebtCarried, LayerUsed, Residual
from solvent.rules.policy import Policy
from solvent.rules.toml_source import SourceMap, format_path

#: The ledger reason each waterfall layer pays with (debt carried to the winners moves no money).
LAYER_REASON = {
    "insurance_fund": Reason.INSURANCE_FUND,
    "backstop_vault": Reason.BACKSTOP_VAULT,
    "fee_pool": Reason.FEE_POOL,
    "adl": Reason.ADL,
    "socialized_loss": Reason.SOCIALIZED_LOSS,
    "haircut_ratio": Reason.HAIRCUT,
    "clawback": Reason.CLAWBACK,
    "debt_carry": Reason.DEBT_FRONTED,
    "venue_absorbs": Reason.VENUE_ABSORBS,
}
REASON_LAYER = {reason: kind for kind, reason in LAYER_REASON.items()}


@attrs.frozen
class RuleRef:
    """The key of the rule involved, the key that was found in the file, and its 1-based line."""

    wanted: str
    key: str
    line: int
    file: Path | None = None

    @property
    def where(self) -> str:
        name = self.file.name if self.file else "policy"
        return f"{name}:{self.line} ({self.key})"


def policy_file(source: str) -> Path | None:
    """The file a policy came from: the ``.toml`` path given, or the bundled preset of that name
    (or of the preset it is another name for, ``presets.ALIASES``)."""
    from solvent.rules.presets import ALIASES, preset_names, preset_path

    path = Path(source)
    if path.suffix == ".toml" and path.is_file():
        return path
    return preset_path(source) if ALIASES.get(source, source) in preset_names() else None


def key_lines(text: str) -> dict[str, int]:
    """Every table header, key and array element of the TOML text, as a dotted path
    (``deficit[1].ranking``, ``sources[0]``), mapped to the line it is written on.

    Read by a TOML parser (:class:`~solvent.rules.toml_source.SourceMap`), so a multi-line string
    holding ``[[deficit]]`` or ``key = 1`` is a string, and array-of-table indices count real headers.
    """
    return dict(_key_lines(text))


@lru_cache(maxsize=8)
def _key_lines(text: str) -> dict[str, int]:
    """One parse per policy text, however many findings a report locates in it."""
    source = SourceMap(text)
    return {format_path(path, root=""): found.key.line for path, found in source.paths.items()}


def _layer_index(policy: Policy, kind: str) -> int | None:
    return next((i for i, layer in enumerate(policy.deficit) if layer.kind == kind), None)


def _layer_keys(index: int | None, *keys: str) -> list[str]:
    if index is None:
        return []
    return [f"deficit[{index}].{k}" for k in keys] + [f"deficit[{index}].layer", f"deficit[{index}]"]


def _haircut_layer(policy: Policy, step: Step) -> int | None:
    """The layer that took a winner's money in this step (the first haircut-like transfer's)."""
    for t in step.transfers:
        if t.reason in HAIRCUT_REASONS:
            return _layer_index(policy, REASON_LAYER[t.reason])
    return None


def _last_layer_used(step: Step) -> int | None:
    used = [o.index for o in step.outcomes if isinstance(o, LayerUsed)]
    return used[-1] if used else None


def _unpaid_keys(policy: Policy, step: Step | None) -> list[str]:
    """Where a negative balance comes from: a carried debt, a deficit no layer paid, or spot
    collateral letting the margin balance go below zero without a bankruptcy."""
    if step is not None and any(isinstance(o, DebtCarried) for o in step.outcomes):
        return _layer_keys(_layer_index(policy, "debt_carry"), "lender")
    if step is not None and any(isinstance(o, Residual) for o in step.outcomes) and policy.deficit:
        return _layer_keys(len(policy.deficit) - 1)
    if step is not None and not any(isinstance(o, Bankrupt) for o in step.outcomes) and policy.margin.spot_collateral:
        return ["margin.spot_collateral", "margin"]
    return _layer_keys(_layer_index(policy, "debt_carry"), "lender")


def wanted_keys(policy: Policy, invariant: str, step: Step | None) -> list[str]:
    """The keys that state the rule an invariant's failure is about, most specific first."""
    if invariant in ("no-haircut", "principal-protected", "flat-accounts-never-pay"):
        return _layer_keys(_haircut_layer(policy, step) if step else None) + ["deficit[0]"]
    if invariant in ("waterfall-order", "deficit-charged-once"):
        return _layer_keys(_last_layer_used(step) if step else None) + ["deficit[0]"]
    if invariant == "adl-ranking-respected":
        return _layer_keys(_layer_index(policy, "adl"), "ranking")
    if invariant == "adl-price-fair":
        return _layer_keys(_layer_index(policy, "adl"), "price")
    if invariant == "insurance-fund-non-negative":
        return _layer_keys(_layer_index(policy, "insurance_fund"), "cap_quote")
    if invariant == "deposit-not-absorbed":
        carry = _layer_index(policy, "debt_carry")
        last = len(policy.deficit) - 1 if policy.deficit else None
        return _layer_keys(carry, "deposits_repay_debt") if carry is not None else _layer_keys(last)
    if invariant in ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed"):
        return _unpaid_keys(policy, step) + ["liquidation.execution", "liquidation"]
    if invariant == "liquidation-only-below-maintenance":
        return ["liquidation.trigger", "liquidation"]
    if invariant == "spot-isolated":
        return ["margin.spot_collateral", "margin"]
    if invariant in ("conservation", "open-interest-balance"):
        return ["rounding", "fees"]
    return _layer_keys(_last_layer_used(step) if step else None)


def _first(lines: dict[str, int], keys: Iterable[str]) -> tuple[str, int] | None:
    return next(((k, lines[k]) for k in keys if k in lines), None)


def locate(text: str, wanted: list[str], file: Path | None = None) -> RuleRef:
    """The first wanted key found in the text; else ``name``, else line 1."""
    lines = _key_lines(text)
    found = _first(lines, [*wanted, "name"])
    key, line = found if found else ("(file)", 1)
    return RuleRef(wanted[0] if wanted else key, key, line, file)


def _text_of(file: Path | None, policy: Policy) -> str:
    if file is not None:
        try:
            return file.read_text()
        except OSError:
            pass
    from solvent.rules.loading import dumps_policy

    return dumps_policy(policy)


def locate_rule(policy: Policy, file: Path | None, invariant: str, step: Step | None) -> RuleRef:
    """The line of ``file`` (or of the policy written out, without a file) stating the rule involved."""
    return locate(_text_of(file, policy), wanted_keys(policy, invariant, step), file)


def locate_accepts(policy: Policy, file: Path | None) -> RuleRef:
    """The ``accepts`` line: where a policy declares a failure a deliberate trade-off."""
    return locate(_text_of(file, policy), ["accepts"], file)


__all__: list[Any] = [
    "LAYER_REASON",
    "REASON_LAYER",
    "RuleRef",
    "display_path",
    "key_lines",
    "locate",
    "locate_accepts",
    "locate_rule",
    "policy_file",
    "wanted_keys",
]


def display_path(path: Path | None) -> str | None:
    """A path as a report shows it: a bundled preset as ``rules/presets/NAME.toml`` (its place in
    Solvent's source tree, the same from any folder and any install, as SARIF names it), another
    file relative to the working directory when under it, else absolute."""
    from solvent.rules.presets import PRESETS_DIR

    if path is None:
        return None
    resolved = Path(path).resolve()
    try:
        return "rules/presets/" + resolved.relative_to(PRESETS_DIR.resolve()).as_posix()
    except ValueError:
        pass
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()

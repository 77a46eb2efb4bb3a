"""One parameter over a list of values: the same scenario, seed and paths run at each.

``solvent simulate POLICY --sweep FIELD=V1,V2,...`` (or ``FIELD=START..STOP:STEP``) runs the
scenario once per value of one field and reports how the estimates move with it. A field is
addressed by its dotted TOML path, as the policy file writes it (``liquidation.penalty_ppm``,
``margin.tiers[0].maintenance_ppm``, ``deficit[0].cap_quote``) or, for a waterfall layer the
policy has once, by the layer's name (``insurance_fund.cap_quote``); a scenario field carries the
prefix ``scenario.`` (``scenario.book.insurance_fund_ppm``, the fund at the start;
``scenario.path.max_move_ppm``). The variant is read back through the same converter and
validators as a file (``solvent.rules.loading``, ``solvent.simulation.loading``), so a value a
policy file could not hold is refused with the same message. Every value is checked before any
path runs.

Each point is a plain :func:`solvent.simulation.run.simulate` on the variant, with the same seed:
path ``i`` draws the same book and prices at every value (a value that changes the book's
drawing, such as the fund's share, changes only what it sets), so the differences between points
are the parameter's, not the draws'. ``solvent.simulation.edge`` builds the points at fractions
of a proved threshold instead of a list. :func:`grid` runs two fields over a grid (``--sweep``
twice): one sweep of the second field per value of the first, every cell checked first.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from fractions import Fraction
from typing import Any

import attrs
from cattrs.errors import BaseValidationError

from solvent.rules.loading import CONVERTER as POLICY_CONVERTER
from solvent.rules.loading import errors_of
from solvent.rules.policy import Policy
from solvent.rules.venue_formulas import maintenance_amount
from solvent.simulation.loading import CONVERTER as SCENARIO_CONVERTER
from solvent.simulation.paths import Prepared, with_scenario
from solvent.simulation.run import DEFAULT_BATCH, Result, check_candles, simulate
from solvent.simulation.scenario import Scenario

#: the prefix of a scenario field
SCENARIO = "scenario."
#: at most this many values in one sweep (a range written with a step too small is a typo)
MAX_VALUES = 100
#: at most this many points in a grid over two fields
MAX_CELLS = 400
#: fields that are not parameters: names, texts, where findings are kept, the run's own seed
_NOT_SWEPT = ("name", "description", "sources", "accepts", "units", "seed", "paths", "prices.file")
_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]")
_RANGE = re.compile(r"^\s*(-?[\d_]+)\s*\.\.\s*(-?[\d_]+)\s*(?::\s*([\d_]+)\s*)?$")
EXPECTED = "FIELD=V1,V2,... or FIELD=START..STOP:STEP"


class SweepError(ValueError):
    """A ``--sweep`` the policy or scenario cannot take: the message says what was expected."""


@attrs.frozen
class Point:
    """One run of a sweep: the value as shown, the variant that ran, and its result."""

    value: Any
    result: Result
    #: the share of a threshold this point sits at (``solvent.simulation.edge``), else None
    fraction: Fraction | None = None
    #: which side of the threshold's boundary the value lies on: "safe", "unsafe" or None
    side: str | None = None


@attrs.frozen
class Sweep:
    """A sweep's points in the order asked, and the field they vary."""

    field: str
    points: tuple[Point, ...]
    #: for a threshold's edge (``solvent.simulation.edge``): its answer as plain data
    threshold: dict[str, Any] | None = None
    #: what a point's value is when the field alone does not say (a variant policy's rule)
    note: str = ""
    #: the policy every point varies (the scenario's slippage included)
    base: Policy | None = None
    #: in a grid over two fields (:func:`grid`), the other field and the value this row holds
    fixed: tuple[str, Any] | None = None


# --- addressing a field --------------------------------------------------------------------------


def _segments(field: str) -> list[str | int]:
    """``margin.tiers[0].maintenance_ppm`` → ``["margin", "tiers", 0, "maintenance_ppm"]``."""
    out: list[str | int] = []
    pos = 0
    for part in field.split("."):
        if not part:
            raise SweepError(f"{field!r} is not a dotted field path (an empty part); expected {EXPECTED}")
        pos = 0
        while pos < len(part):
            match = _SEGMENT.match(part, pos)
            if match is None or (pos > 0 and match[1] is not None):
                raise SweepError(f"{field!r} is not a dotted field path (at {part[pos:]!r}); expected {EXPECTED}")
            out.append(match[1] if match[1] is not None else int(match[2]))
            pos = match.end()
    return out


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Every scalar field of unstructured data by its dotted path (lists of tables by index)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_leaves(v, f"{prefix}.{k}" if prefix else k))
        return out
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            out = {}
            for i, v in enumerate(value):
                out.update(_leaves(v, f"{prefix}[{i}]"))
            return out
        return {}
    return {prefix: value}


def _swept(path: str) -> bool:
    head = path.split("[")[0]
    return not any(head == n or head.startswith(n + ".") for n in _NOT_SWEPT) and not path.endswith(".layer")


def _layer_names(policy: Policy) -> dict[str, int]:
    """Each waterfall layer the policy has exactly once, by name → its index in ``deficit``."""
    kinds = [layer.kind for layer in policy.deficit]
    return {k: i for i, k in enumerate(kinds) if kinds.count(k) == 1}


def fields(policy: Policy, scenario: Scenario) -> list[str]:
    """Every field ``--sweep`` may name for this policy and scenario, as it would be written."""
    data = POLICY_CONVERTER.unstructure(policy)
    names = {i: k for k, i in _layer_names(policy).items()}
    out = []
    for path in _leaves(data):
        if not _swept(path):
            continue
        out.append(path)
        match = re.match(r"^deficit\[(\d+)\]\.(.+)$", path)
        if match and int(match[1]) in names:
            out.append(f"{names[int(match[1])]}.{match[2]}")
    scenario_data = SCENARIO_CONVERTER.unstructure(scenario)
    out += [SCENARIO + p for p in _leaves(scenario_data) if _swept(p) and not p.endswith((".distribution", ".model"))]
    return out


def _unknown(field: str, known: Sequence[str]) -> SweepError:
    from difflib import get_close_matches

    close = get_close_matches(field, known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    if "insurance_fund" in field and "quote" in field or "fund_ppm" in field:
        hint += (
            "; the fund at the start is the scenario's: scenario.book.insurance_fund_quote, "
            "scenario.book.insurance_fund_ppm"
        )
    return SweepError(
        f"unknown field {field!r}{hint}; a policy field as its TOML writes it, a waterfall layer by its "
        f"name, or a scenario field after 'scenario.'; known: {', '.join(_compact(known))}"
    )


def _compact(known: Sequence[str]) -> list[str]:
    """``margin.tiers[0].x`` … ``margin.tiers[11].x`` as one ``margin.tiers[0..11].x``."""
    out: dict[str, list[int]] = {}
    for name in known:
        match = re.match(r"^(.*?)\[(\d+)\](.*)$", name)
        key = f"{match[1]}[#]{match[3]}" if match else name
        out.setdefault(key, []).append(int(match[2]) if match else -1)
    shown = []
    for key, indices in out.items():
        if "[#]" not in key:
            shown.append(key)
        elif len(indices) == 1:
            shown.append(key.replace("[#]", f"[{indices[0]}]"))
        else:
            shown.append(key.replace("[#]", f"[{min(indices)}..{max(indices)}]"))
    return shown


# --- values --------------------------------------------------------------------------------------


def _exact_float(literal: str) -> Fraction:
    if literal.lstrip("+-") in ("inf", "nan"):
        raise SweepError(f"{literal!r} is not a finite number")
    return Fraction(literal)


def _value(text: str) -> Any:
    """One value as TOML would read it (``5000``, ``0.8`` exactly, ``true``, ``"x"``), else the bare
    word as a string (``market``)."""
    text = text.strip()
    if not text:
        raise SweepError(f"an empty value; expected {EXPECTED}")
    try:
        return tomllib.loads(f"v = {text}", parse_float=_exact_float)["v"]
    except tomllib.TOMLDecodeError:
        return text


def _count(start: int, stop: int, step: int) -> int:
    return 0 if stop < start else (stop - start) // step + 1


def parse(spec: str) -> tuple[str, list[Any]]:
    """``FIELD=V1,V2,...`` or ``FIELD=START..STOP:STEP`` (integers, STOP included, STEP ≥ 1, by
    default 1) → the field and its values, in order; at most :data:`MAX_VALUES`, none twice."""
    field, eq, rest = spec.partition("=")
    field = field.strip()
    if not eq or not field or not rest.strip():
        raise SweepError(f"{spec!r}: expected {EXPECTED}")
    _segments(field)
    match = _RANGE.match(rest)
    if match:
        start, stop = int(match[1]), int(match[2])
        step = int(match[3]) if match[3] is not None else 1
        if step < 1:
            raise SweepError(f"{spec!r}: STEP must be >= 1: {step}")
        if stop < start:
            raise SweepError(f"{spec!r}: START must be <= STOP: {start} > {stop}")
        n = _count(start, stop, step)
        if n > MAX_VALUES:
            raise SweepError(f"{spec!r} gives {n:,} values; at most {MAX_VALUES} (a larger STEP?)")
        return field, list(range(start, stop + 1, step))
    values = [_value(v) for v in rest.split(",")]
    if len(values) > MAX_VALUES:
        raise SweepError(f"{spec!r} gives {len(values):,} values; at most {MAX_VALUES}")
    seen: list[Any] = []
    for v in values:
        if any(type(v) is type(s) and v == s for s in seen):
            raise SweepError(f"{spec!r}: the value {show(v)} appears twice")
        seen.append(v)
    return field, values


def show(value: Any) -> str:
    """A value as the user wrote it: ``5,000``, ``0.8``, ``true``, ``market``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else repr(float(value))
    return str(value)


def plain(value: Any) -> Any:
    """A value as JSON holds it: an int, a bool, a string, or a decimal's exact text."""
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    return value


# --- a variant -----------------------------------------------------------------------------------


def _set(data: Any, path: list[str | int], value: Any, field: str, known: Callable[[], list[str]]) -> None:
    """Set ``path`` in unstructured data; the path must lead to an existing scalar field."""
    node = data
    for i, key in enumerate(path):
        last = i == len(path) - 1
        if isinstance(key, int):
            if not isinstance(node, list) or not 0 <= key < len(node):
                raise _unknown(field, known())
        elif not isinstance(node, dict) or key not in node:
            raise _unknown(field, known())
        if last:
            if isinstance(node[key], (dict, list)):
                raise _unknown(field, known())
            node[key] = value
        else:
            node = node[key]


def _continuous(margin: dict[str, Any]) -> None:
    """Tiers kept continuous: each tier's maintenance amount recomputed from the one below it, as the
    file's continuity rule asks (``venue_formulas.maintenance_amount``), where the tiers are notional
    brackets (not risk-limit steps). An amount that is not a whole quantum is left for the
    validator to refuse, with its message."""
    if margin.get("risk_limit_steps"):
        return
    tiers = margin["tiers"]
    for lower, upper in zip(tiers, tiers[1:], strict=False):
        try:
            amount = maintenance_amount(
                lower["maintenance_amount_quote"],
                upper["floor_notional_quote"],
                lower["maintenance_ppm"],
                upper["maintenance_ppm"],
            )
        except TypeError:  # a value of the wrong type: the validator says which
            return
        if amount.denominator != 1:
            return
        upper["maintenance_amount_quote"] = int(amount)


#: an exact value in a validator's message, as Python writes it (``Fraction(1, 2)``)
_FRACTION = re.compile(r"Fraction\((-?\d+), (\d+)\)")


def _structured(converter: Any, data: Any, cl: type, spec: str) -> Any:
    """``data`` read back as ``cl``; a refusal names the value as the option wrote it (``0.5``,
    not ``Fraction(1, 2)``, which a file's error shows as its literal)."""
    try:
        return converter.structure(data, cl)
    except (BaseValidationError, ValueError) as exc:
        errors = errors_of(exc) if isinstance(exc, BaseValidationError) else [str(exc)]
        told = "; ".join(_FRACTION.sub(lambda m: show(Fraction(int(m[1]), int(m[2]))), e) for e in errors)
        raise SweepError(f"{spec}: {told}") from None


def resolve(prepared: Prepared, field: str) -> tuple[str, list[str | int]]:
    """Where ``field`` lives: ``("policy" | "scenario", its path in the unstructured data)``; a
    layer's name becomes ``deficit[i]``. Unknown fields are refused here, before any value."""
    known = lambda: fields(prepared.policy, prepared.scenario)  # noqa: E731
    path = _segments(field)
    if field.startswith(SCENARIO):
        target, path = "scenario", path[1:]
        data = SCENARIO_CONVERTER.unstructure(prepared.scenario)
    else:
        target = "policy"
        names = _layer_names(prepared.policy)
        if path and isinstance(path[0], str) and path[0] in names:
            path = ["deficit", names[path[0]], *path[1:]]
        data = POLICY_CONVERTER.unstructure(prepared.policy)
    dotted = _dotted(path)
    if not path or not _swept(dotted) or (target == "scenario" and dotted.endswith((".distribution", ".model"))):
        raise _unknown(field, known())
    _set(copy.deepcopy(data), path, None, field, known)  # the path exists and ends at a scalar
    return target, path


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def variant(prepared: Prepared, field: str, value: Any) -> Prepared:
    """``prepared`` with ``field`` set to ``value``, read back through the file's validators."""
    target, path = resolve(prepared, field)
    spec = f"{field}={show(value)}"
    if target == "policy":
        data = POLICY_CONVERTER.unstructure(prepared.policy)
        _set(data, path, value, field, list)
        if path[:2] == ["margin", "tiers"] and path[-1] != "maintenance_amount_quote":
            _continuous(data["margin"])
        policy = _structured(POLICY_CONVERTER, data, Policy, spec)
        return attrs.evolve(prepared, policy=policy)
    data = SCENARIO_CONVERTER.unstructure(prepared.scenario)
    _set(data, path, value, field, list)
    scenario = _structured(SCENARIO_CONVERTER, data, Scenario, spec)
    try:
        policy = with_scenario(prepared.policy, scenario)
        if prepared.series is not None:
            check_candles(scenario, prepared.series, spec)
    except ValueError as exc:
        raise SweepError(f"{spec}: {exc}") from None
    return attrs.evolve(prepared, policy=policy, scenario=scenario)


def variants(prepared: Prepared, field: str, values: Sequence[Any]) -> list[Prepared]:
    """Every value's variant, all checked before anything runs."""
    resolve(prepared, field)
    return [variant(prepared, field, v) for v in values]


def run(
    points: Sequence[tuple[Any, Prepared]],
    *,
    paths: int,
    seed: int,
    executor: Executor | None = None,
    until: float | None = None,
    batch: int = DEFAULT_BATCH,
    engine: str = "fast",
) -> list[Result]:
    """Each variant's run, in order, with the same seed and paths (on one executor)."""
    return [
        simulate(p, paths=paths, seed=seed, executor=executor, until=until, batch=batch, engine=engine)
        for _, p in points
    ]


def sweep(
    prepared: Prepared,
    field: str,
    values: Sequence[Any],
    *,
    paths: int,
    seed: int,
    executor: Executor | None = None,
    until: float | None = None,
    batch: int = DEFAULT_BATCH,
    engine: str = "fast",
) -> Sweep:
    """Run the scenario at every value of ``field`` (see the module docstring)."""
    prepared_points = list(zip(values, variants(prepared, field, values), strict=True))
    results = run(prepared_points, paths=paths, seed=seed, executor=executor, until=until, batch=batch, engine=engine)
    return Sweep(field, tuple(Point(v, r) for v, r in zip(values, results, strict=True)), base=prepared.policy)


def grid_variants(
    prepared: Prepared, rows: tuple[str, Sequence[Any]], columns: tuple[str, Sequence[Any]]
) -> list[Prepared]:
    """Each row's variant (``rows``' field set to its value), every cell of it checked (the columns'
    field set on top) before anything runs. The two fields differ; at most :data:`MAX_CELLS` cells."""
    (row_field, row_values), (column_field, column_values) = rows, columns
    if resolve(prepared, row_field) == resolve(prepared, column_field):
        raise SweepError(f"a grid sweeps two different fields: {row_field} twice")
    if len(row_values) * len(column_values) > MAX_CELLS:
        raise SweepError(
            f"{len(row_values)} × {len(column_values)} = {len(row_values) * len(column_values):,} points; "
            f"at most {MAX_CELLS} in a grid"
        )
    out = variants(prepared, row_field, row_values)
    for row in out:
        variants(row, column_field, column_values)
    return out


def grid(
    prepared: Prepared,
    rows: tuple[str, Sequence[Any]],
    columns: tuple[str, Sequence[Any]],
    *,
    paths: int,
    seed: int,
    executor: Executor | None = None,
    until: float | None = None,
    batch: int = DEFAULT_BATCH,
    engine: str = "fast",
    row_variants: Sequence[Prepared] | None = None,
) -> list[Sweep]:
    """Two fields over a grid: one :func:`sweep` of the columns' field per value of the rows'
    field, in order, every point with the same seeds (``row_variants``: :func:`grid_variants`
    made already)."""
    if row_variants is None:
        row_variants = grid_variants(prepared, rows, columns)
    run_args = {"paths": paths, "seed": seed, "executor": executor, "until": until, "batch": batch, "engine": engine}
    return [
        attrs.evolve(sweep(row, columns[0], columns[1], **run_args), base=prepared.policy, fixed=(rows[0], value))
        for value, row in zip(rows[1], row_variants, strict=True)
    ]


__all__ = [
    "MAX_CELLS",
    "MAX_VALUES",
    "Point",
    "Sweep",
    "SweepError",
    "fields",
    "grid",
    "grid_variants",
    "parse",
    "plain",
    "resolve",
    "show",
    "sweep",
    "variant",
    "variants",
]

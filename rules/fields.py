"""Field constructors that carry what a field is in its attrs metadata.

Policy fields carry units and bounds. Bounds live in one place: the attrs validator enforces them,
and the same numbers sit in ``field.metadata["solvent"]`` for the hypothesis strategies and the z3
domain assumptions. Messages follow the attrs wording: ``'<field>' must be <op> <bound>: <value>``.

Book and event fields that hold money, sizes and prices are *data* (:func:`data`): an ``int`` on the
concrete engine, a z3 term on the symbolic one, where the solver may vary them. The others (names,
roles, enums, the market's tick, the book's clock) are structural and stay concrete.
"""

from __future__ import annotations

from typing import Any

import attrs

from solvent.rules.arith import PPM

META = "solvent"

#: The metadata key that marks a data field (:func:`data`).
DATA = "solvent_data"


def _is_int(value: Any) -> bool:
    return type(value) is int


def _integer_in(unit: str, min_value: int | None, max_value: int | None, optional: bool = False):
    def check(_inst: Any, attribute: attrs.Attribute, value: Any) -> None:
        if optional and value is None:
            return
        if not _is_int(value):
            raise ValueError(f"'{attribute.name}' must be an integer number of {unit}: {value!r}")
        if min_value is not None and value < min_value:
            raise ValueError(f"'{attribute.name}' must be >= {min_value}: {value}")
        if max_value is not None and value > max_value:
            raise ValueError(f"'{attribute.name}' must be <= {max_value}: {value}")

    return check


def ppm_field(*, min_value: int = 0, max_value: int = PPM, default: Any = attrs.NOTHING) -> Any:
    """A rate in parts per million, ``min_value ≤ x ≤ max_value``; ``default=None`` makes it optional."""
    return attrs.field(
        default=default,
        validator=_integer_in("ppm", min_value, max_value, optional=default is None),
        metadata={META: {"unit": "ppm", "min": min_value, "max": max_value}},
    )


def quote_field(*, min_value: int | None = 0, max_value: int | None = None, default: Any = attrs.NOTHING) -> Any:
    """An amount in quote quanta; ``default=None`` makes it optional (absent means "no limit")."""
    return attrs.field(
        default=default,
        validator=_integer_in("quote quanta", min_value, max_value, optional=default is None),
        metadata={META: {"unit": "quote", "min": min_value, "max": max_value}},
    )


def asset_field(*, min_value: int | None = 0, max_value: int | None = None, default: Any = attrs.NOTHING) -> Any:
    """An amount of a collateral asset, in its quanta (the ``[[collateral]]`` table's ``quantum``)."""
    return attrs.field(
        default=default,
        validator=_integer_in("asset quanta", min_value, max_value, optional=default is None),
        metadata={META: {"unit": "asset", "min": min_value, "max": max_value}},
    )


def count_field(*, min_value: int = 0, max_value: int | None = None, default: Any = attrs.NOTHING) -> Any:
    """A whole count (events, steps)."""
    return attrs.field(
        default=default,
        validator=_integer_in("events", min_value, max_value),
        metadata={META: {"unit": "count", "min": min_value, "max": max_value}},
    )


def data(*, default: Any = attrs.NOTHING) -> Any:
    """A data field of a book or event record (a balance, a size, a price, an amount): an ``int``
    on the concrete engine, a term on the symbolic one. The solver lifts exactly these fields
    into z3 (:func:`data_fields`); every other field is structural and stays concrete."""
    return attrs.field(default=default, metadata={DATA: True})


def data_fields(cls: type) -> tuple[str, ...]:
    """Names of the data fields of an attrs class (those made by :func:`data`), in field order."""
    return tuple(f.name for f in attrs.fields(cls) if f.metadata.get(DATA, False))


def bounds(cls: type, name: str) -> dict[str, Any]:
    """The unit and bounds recorded for a policy field."""
    return attrs.fields_dict(cls)[name].metadata[META]


def enum_repr(member: Any) -> str:
    """An enum member as the Python that names it, ``Role.TRADER`` (not ``<Role.TRADER: 'trader'>``):
    set as ``__repr__`` of the enums a book or an event holds."""
    return f"{type(member).__name__}.{member.name}"


def _is_default(inst: Any, field: attrs.Attribute, value: Any) -> bool:
    default = field.default
    if default is attrs.NOTHING:
        return False
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        default = default.factory(inst) if default.takes_self else default.factory()
    try:
        return type(value) is type(default) and bool(value == default)
    except Exception:  # a symbolic value (z3) has no truth value: shown
        return False


def _call_parts(inst: Any) -> dict[str, Any]:
    """The keyword arguments that rebuild ``inst``: every init field not at its default."""
    return {
        f.alias: getattr(inst, f.name)
        for f in attrs.fields(type(inst))
        if f.init and not _is_default(inst, f, getattr(inst, f.name))
    }


def _call_repr(self: Any) -> str:
    args = ", ".join(f"{name}={value!r}" for name, value in _call_parts(self).items())
    return f"{type(self).__name__}({args})"


def _call_repr_pretty(self: Any, p: Any, cycle: bool) -> None:
    """hypothesis's (and IPython's) pretty printer: the same call, folded over lines."""
    if cycle or not hasattr(p, "repr_call"):  # IPython's printer has no repr_call
        p.text(_call_repr(self))
        return
    p.repr_call(type(self).__name__, (), _call_parts(self))


def python_repr(cls: type) -> type:
    """Class decorator for a frozen attrs record: its ``repr`` is the Python call that builds the
    same value, with the fields at their defaults left out (``Account(name='alice', cash_quote=5)``,
    ``Account(name='venue', role=Role.VENUE)``), so a value hypothesis prints in a falsifying example
    pastes into ``@example`` (issue 16); ``eval(repr(x)) == x`` with the classes in scope."""
    cls.__repr__ = _call_repr  # type: ignore[method-assign]
    cls._repr_pretty_ = _call_repr_pretty  # type: ignore[attr-defined]
    return cls

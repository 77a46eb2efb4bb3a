"""Policies as TOML text: the one place TOML and cattrs live.

``loads_policy`` returns a whole, validated :class:`~solvent.rules.policy.Policy` or raises
:class:`PolicyError` listing every problem found, one line each, in the shape

    '<field>' must be <op> <bound>: <value> @ $.<path.to.field>

The policy classes own the rules (their attrs validators write the messages); this module only
reads TOML exactly (``parse_float=Fraction``, so ``initial_ppm = 0.1`` reaches the validator as
``Fraction(1, 10)`` and is rejected there), adds the path with cattrs' ``transform_error`` and
writes a policy back out (``dumps_policy``) so that ``loads_policy(dumps_policy(p)) == p``.

TOML layout: top-level ``name`` (required), ``description``, ``sources``, ``accepts``; tables ``[units]``,
``[contract]``, ``[margin]`` with ``[[margin.tiers]]`` (required), ``[[market]]`` (each with its ``name``
and optionally ``[[market.tiers]]``), ``[liquidation]``, ``[fees]``, ``[funding]``, ``[[deficit]]``
(each with ``layer = "<kind>"``), ``[pnl_to_pool_adl]``, ``[[collateral]]`` (one per collateral asset) and ``[rounding]``. An absent key or table takes its default.
"""

from __future__ import annotations

import difflib
import enum
import json
import os
import re
import tomllib
import warnings
from collections.abc import Callable
from fractions import Fraction
from typing import Any, get_origin

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.errors import AttributeValidationNote, BaseValidationError, ClassValidationError, ForbiddenExtraKeysError
from cattrs.gen import make_dict_structure_fn
from cattrs.strategies import configure_tagged_union
from cattrs.v import format_exception as cattrs_format_exception
from cattrs.v import transform_error

from solvent.rules.contract import LINEAR
from solvent.rules.market_funds import POOLED
from solvent.rules.policy import Policy
from solvent.rules.schema import expected, type_at
from solvent.rules.settlement import FundingRule
from solvent.rules.toml_source import Position, SourceMap, format_path, parse_path
from solvent.rules.waterfall import LAYER_KINDS, LAYER_TYPES, Layer

TAG = "layer"  # the key naming a waterfall layer's kind in a [[deficit]] table


class PolicyError(ValueError):
    """A policy that could not be loaded: where it came from and every problem found."""

    def __init__(self, source: str, errors: list[str]) -> None:
        super().__init__(source, errors)
        self.source = source
        self.errors = list(errors)

    def __str__(self) -> str:
        return "\n".join([f"{self.source}: {len(self.errors)} error(s)", *(f"  {e}" for e in self.errors)])


# --- problems found while structuring ------------------------------------------------------------


class _Problem(ValueError):
    """A problem the loader itself finds (shape of the TOML, not a policy rule)."""


class _Invalid(_Problem):
    """A value of the wrong shape; ``must`` says what was expected, ``hint`` the closest allowed value."""

    def __init__(self, must: str, value: Any, key: str | None = None, hint: str = "") -> None:
        super().__init__(must, value, key)
        self.must, self.value, self.key, self.hint = must, value, key, hint


class _Missing(_Problem):
    """A required key that is absent."""

    def __init__(self, key: str) -> None:
        super().__init__(f"'{key}' is required")


class _Unknown(_Problem):
    """A key the table does not have, with the keys it does have."""

    def __init__(self, key: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"unknown key {key!r}{did_you_mean(key, allowed)} (allowed keys: {', '.join(allowed)})")


def did_you_mean(name: Any, known: Any) -> str:
    """`` (did you mean 'x'?)`` naming the closest of ``known`` (difflib), or nothing if none is close."""
    if not isinstance(name, str):
        return ""
    close = difflib.get_close_matches(name, [str(k) for k in known], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@attrs.frozen(repr=False)
class _NonFinite:
    """A TOML ``inf`` or ``nan``: no exact number, kept only so a validator can reject it."""

    literal: str

    def __repr__(self) -> str:
        return self.literal


# A message's own path relative to the object that raised it, e.g. "... @ tiers[2]".
_RELATIVE_PATH = re.compile(r" @ ([a-z_]+(?:\[\d+\])+(?:\.[a-z_]+(?:\[\d+\])*)*)(?=$|[\s;,)])")
_ABSOLUTE_PATH = re.compile(r"^(?P<message>.*) @ (?P<path>\$\S*)$", re.DOTALL)
_LEADING_FIELD = re.compile(r"^'(\w+)'")


def _expected(type_: Any) -> str:
    """How a message names an expected type."""
    if type_ is bool:
        return "true or false"
    if type_ in (int, str):
        return "an integer" if type_ is int else "a string"
    if isinstance(type_, type) and issubclass(type_, enum.Enum):
        return "one of " + ", ".join(repr(m.value) for m in type_)
    return getattr(type_, "__name__", repr(type_))


def _note_name(exc: BaseException) -> str | None:
    """The attribute cattrs was structuring when ``exc`` was raised, if any."""
    notes = getattr(exc, "__notes__", ())
    return next((n.name for n in notes if isinstance(n, AttributeValidationNote)), None)


def format_exception(exc: BaseException, type_: Any) -> str:
    """One problem in the attrs wording; ``transform_error`` appends ``' @ <path>'``.

    Unlike cattrs' default, an attrs validator's own message is kept whole (cattrs would say
    ``invalid value``), and a value of the wrong shape names the key, the expectation and the value.
    """
    if isinstance(exc, _Invalid):
        key = exc.key or _note_name(exc)
        subject = f"'{key}'" if key else "value"
        return f"{subject} {exc.must}: {exc.value!r}{exc.hint}"
    if isinstance(exc, TypeError) and len(exc.args) == 4 and isinstance(exc.args[1], attrs.Attribute):
        _, attribute, type_, value = exc.args  # attrs.validators.instance_of
        return f"'{attribute.name}' must be {_expected(type_)}: {value!r}"
    if isinstance(exc, (ValueError, TypeError)):
        return str(exc)
    return cattrs_format_exception(exc, type_)


def _anchored(error: str) -> str:
    """Resolve paths a validator wrote relative to its object ("@ tiers[2]") against that object's path."""
    match = _ABSOLUTE_PATH.match(error)
    if match is None or not _RELATIVE_PATH.search(match["message"]):
        return error
    return _RELATIVE_PATH.sub(lambda rel: f" @ {match['path']}.{rel[1]}", match["message"])


def errors_of(exc: BaseException) -> list[str]:
    """Every problem in a structuring error, one line each, with its path."""
    return [_anchored(e) for e in transform_error(exc, format_exception=format_exception)]


# --- the converter -------------------------------------------------------------------------------


def _allowed_keys(cl: type) -> tuple[str, ...]:
    """The keys a TOML table for ``cl`` may hold (a waterfall layer also has its ``layer`` tag)."""
    names = tuple(a.name for a in attrs.fields(cl))
    return (TAG, *names) if cl in LAYER_TYPES else names


def _explain(exc: BaseException, cl: type) -> list[BaseException]:
    """Restate one of a class's structuring errors so its path and message say what went wrong.

    A missing key is reported at the table that lacks it; each unknown key on its own line with the
    allowed keys; a validator's error raised by the constructor points at the field it names.
    """
    if isinstance(exc, ForbiddenExtraKeysError):
        return [_Unknown(key, _allowed_keys(cl)) for key in sorted(exc.extra_fields)]
    if isinstance(exc, KeyError) and _note_name(exc) == exc.args[0]:
        return [_Missing(exc.args[0])]
    return [_at_named_field(exc, cl)]


def _at_named_field(exc: BaseException, cl: type) -> BaseException:
    """A constructor's error that opens with a field of ``cl`` ("'x' must be ...") is reported at that field.

    A message that already carries its own relative path ("... @ tiers[2]") is left for
    :func:`_anchored`.
    """
    message = str(exc.args[0]) if exc.args else ""
    field = _LEADING_FIELD.match(message)
    names = attrs.fields_dict(cl)
    if _note_name(exc) is None and field and field[1] in names and not _RELATIVE_PATH.search(message):
        exc.add_note(
            AttributeValidationNote(f"Validating {cl.__qualname__}.{field[1]}", field[1], names[field[1]].type)
        )
    return exc


def _table_hook(cl: type, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """Structure a TOML table into an attrs class, with errors restated by :func:`_explain`."""
    structure_fields = make_dict_structure_fn(cl, converter)

    def structure(value: Any, _: Any) -> Any:
        if not isinstance(value, dict):
            raise _Invalid("must be a table", value)
        try:
            return structure_fields(value, cl)
        except ClassValidationError as exc:
            explained = [e for sub in exc.exceptions for e in _explain(sub, cl)]
            raise ClassValidationError(exc.message, explained, cl) from None

    return structure


def _is_array(type_: Any) -> bool:
    """``tuple[X, ...]``: a TOML array."""
    args = getattr(type_, "__args__", ())
    return get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis


def _array_hook(type_: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """A TOML array into a tuple; a string or table is refused rather than iterated."""
    structure_items = homogenous_tuple_structure_factory(type_, converter)
    must = "must be an array of strings" if type_.__args__[0] is str else "must be an array of tables"

    def structure(value: Any, _: Any) -> tuple:
        if not isinstance(value, list):
            raise _Invalid(must, value)
        return structure_items(value, type_)

    return structure


def _is_enum(type_: Any) -> bool:
    """An enum class: a TOML string naming one of its values."""
    return isinstance(type_, type) and issubclass(type_, enum.Enum)


def _enum_hook(type_: type[enum.Enum]) -> Callable[[Any, Any], enum.Enum]:
    """An enum from its value, exactly (no coercion)."""
    by_value = {member.value: member for member in type_}
    must = f"must be {_expected(type_)}"

    def structure(value: Any, _: Any) -> enum.Enum:
        if isinstance(value, str) and value in by_value:
            return by_value[value]
        raise _Invalid(must, value, hint=did_you_mean(value, by_value))

    return structure


def _string(value: Any, _: Any) -> str:
    """A TOML string, exactly (no ``str()`` of a number)."""
    if type(value) is not str:
        raise _Invalid("must be a string", value)
    return value


def _as_read(value: Any, _: Any) -> Any:
    """Integers and booleans pass as read: the field validator judges them (a float is a Fraction)."""
    return value


def _at_key(key: str, exc: BaseException) -> ClassValidationError:
    """Report ``exc`` at ``.key`` of the current table."""
    exc.add_note(AttributeValidationNote(f"Structuring {key}", key, str))
    return ClassValidationError(f"While structuring {key}", [exc], dict)


def tagged_hook(
    tag: str, kinds: tuple[str, ...], base: Any, structure_tagged: Callable[[Any, Any], Any]
) -> Callable[[Any, Any], Any]:
    """Check a tagged table's ``tag`` key (``layer`` of a [[deficit]] table, ``distribution`` or
    ``model`` of a scenario's) before cattrs' tagged union reads it: a table, the key present, one
    of ``kinds`` (a misspelt one names the closest)."""
    must = "must be one of " + ", ".join(repr(kind) for kind in kinds)

    def structure(value: Any, _: Any) -> Any:
        if not isinstance(value, dict):
            raise _Invalid("must be a table", value)
        if tag not in value:
            raise _Missing(tag)
        if not (isinstance(value[tag], str) and value[tag] in kinds):
            raise _at_key(tag, _Invalid(must, value[tag], hint=did_you_mean(value[tag], kinds)))
        return structure_tagged(value, base)

    return structure


def add_tagged_union(converter: cattrs.Converter, base: type, kinds: tuple[str, ...], tag: str) -> None:
    """Read ``base``'s subclasses from a table whose ``tag`` key names the subclass's ``kind``."""
    configure_tagged_union(base, converter, tag_generator=lambda cls: cls.kind, tag_name=tag)
    converter.register_structure_hook(base, tagged_hook(tag, kinds, base, converter.get_structure_hook(base)))


def base_converter() -> cattrs.Converter:
    """A converter from TOML-shaped data (dicts, lists, str, int, bool, exact Fractions) into frozen
    attrs classes, shared by policies and scenario files (``simulation.loading``): a string must be
    a string, numbers and booleans pass as read for the field validators to judge, an enum is named
    by its value, an array becomes a tuple, a table an attrs class with unknown keys refused and
    every error restated with its field (:func:`_table_hook`)."""
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(str, _string)
    converter.register_structure_hook(int, _as_read)
    converter.register_structure_hook(bool, _as_read)
    converter.register_structure_hook(Any, _as_read)
    converter.register_structure_hook(int | None, _as_read)
    converter.register_structure_hook_factory(_is_enum, _enum_hook)
    converter.register_structure_hook_factory(_is_array, _array_hook)
    converter.register_structure_hook_factory(attrs.has, _table_hook)
    return converter


def make_converter() -> cattrs.Converter:
    """The converter between policies and TOML-shaped data: the base one and the waterfall's layers."""
    converter = base_converter()
    add_tagged_union(converter, Layer, LAYER_KINDS, TAG)
    return converter


def structure(converter: cattrs.Converter, data: Any, cl: type) -> tuple[Any, list[str]]:
    """``data`` as a ``cl`` and no errors, or None and every problem found, one line each."""
    try:
        return converter.structure(data, cl), []
    except (BaseValidationError, _Problem) as exc:
        return None, errors_of(exc)


CONVERTER = make_converter()


# --- reading -------------------------------------------------------------------------------------

_TOML_POSITION = re.compile(r"^(?P<message>.*?) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$")


def _exact_float(literal: str) -> Fraction | _NonFinite:
    """A TOML float read exactly: ``0.1`` is ``Fraction(1, 10)``; ``inf`` and ``nan`` stay literals."""
    if literal.lstrip("+-") in ("inf", "nan"):
        return _NonFinite(literal)
    return Fraction(literal)


def _syntax_error(exc: tomllib.TOMLDecodeError, text: str, source: str) -> str:
    """``invalid TOML: <what> @ <file>:<line>:<column>`` from tomllib's message."""
    match = _TOML_POSITION.match(str(exc))
    if match is None:
        return f"invalid TOML: {exc} @ {source}"
    if match["line"] is None:
        lines = text.split("\n")
        line, column = len(lines), len(lines[-1]) + 1
    else:
        line, column = int(match["line"]), int(match["column"])
    return f"invalid TOML: {match['message']} @ {source}:{line}:{column}"


def read_toml(text: str, source: str) -> dict[str, Any]:
    """The TOML document as data, floats as exact Fractions; a syntax error is a PolicyError."""
    try:
        return tomllib.loads(text, parse_float=_exact_float)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(source, [_syntax_error(exc, text, source)]) from None


def loads_policy(text: str, *, source: str = "<string>", claims: Claims | None = None) -> Policy:
    """The policy a TOML document describes, or PolicyError naming every problem in it.

    Each problem names the field's path, where it is written (``(<source>:<line>:<column>)``, read
    by a TOML parser with positions: :class:`~solvent.rules.toml_source.SourceMap`), what was
    expected and, for a misspelt key or value, the closest allowed one; a float is shown as written.

    ``claims``: the ids ``accepts`` may name. The claims are defined on a floor above the rules
    (the invariant catalog judges the engine), so the caller that knows them passes them in
    (``solvent.verdicts.check.known_claims``); without them ``accepts`` is not checked here, and
    the judgement checks it when it runs."""
    data = read_toml(text, source)
    policy, errors = structure(CONVERTER, data, Policy)
    if claims is not None:
        errors += accepts_errors(data.get("accepts"), claims)
    if errors:
        raise PolicyError(source, placed(errors, text, source, data))
    for problem in placed(price_grid_problems(policy), text, source, data):
        # shown as ``<file>:<line>: PolicyWarning: ...`` with the line itself, once a process
        line = re.search(r":(\d+):\d+\)$", problem)
        lineno = int(line[1]) if line else 1
        warnings.warn_explicit(problem, PolicyWarning, source, lineno, registry=_SHOWN_WARNINGS)
    return policy


# --- units: the price grid the quanta state, against the venue's tick ------------------------------


#: ``warnings`` registry of the policy warnings already shown (each once a process)
_SHOWN_WARNINGS: dict = {}


class PolicyWarning(UserWarning):
    """A policy that loads and runs, but says something its numbers cannot do (``price_grid_problems``).

    A warning, not an error (docs/model.md#a-price-grid-coarser-than-the-venues-tick): the engine
    stays exact on its grid, and every price it states is one the venue can quote when the grid is
    a whole number of ticks; what is lost is the prices in between, which bounds how near a story,
    or a proved threshold, comes to the venue's. Rejecting the policy would make every preset whose
    quanta were chosen for whole maintenance amounts rescale them, and their saved findings with them.
    """


_QUANTITY = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s+([A-Za-z][\w\-]*(?: [a-z][\w\-]*)*)")


def quantity(text: str) -> tuple[Fraction, str] | None:
    """The last quantity a unit string states, ``"0.001 BTC"`` → (1/1000, "BTC"); ``"1 XBt
    (0.00000001 XBT)"`` → (1/10⁸, "XBT"); None when there is none or it is zero (as
    ``reports.money.parse_quantity`` reads units)."""
    found = list(_QUANTITY.finditer(text))
    if not found:
        return None
    value = Fraction(found[-1].group(1))
    return (value, found[-1].group(2)) if value > 0 else None


def price_grid(policy: Policy, lot_text: str | None = None) -> tuple[Fraction, str] | None:
    """One step of the price grid the policy's quanta state, in the quote currency per unit of the
    lot's asset: linear, one quote quantum per lot (``0.01 USDT`` per ``0.001 BTC`` = 10 USDT per
    BTC); inverse, ``face × coin quanta per coin / value_quanta`` (XBTUSD in whole USD: 1). None
    when the units do not say. ``lot_text``: another market's lot (a ``[[market]]`` table's)."""
    quote, lot = quantity(policy.units.quote), quantity(lot_text or policy.units.lot)
    if quote is None or lot is None:
        return None
    if policy.contract.is_inverse:
        return lot[0] / quote[0] / policy.contract.value_quanta, ""
    return quote[0] / lot[0], quote[1]


def price_grid_problems(policy: Policy) -> list[str]:
    """``units.tick`` against the price grid: one line (``... @ $.units.tick``) when the grid cannot
    state every venue price, a whole number of grid steps per tick; none when it can or no tick is
    declared. Each later ``[[market]]`` table with a lot or a tick of its own is checked the same
    way on its own grid (``... @ $.market[1].tick``)."""
    out = _tick_problems(policy, policy.units.tick, policy.units.lot, "$.units.tick")
    for i, spec in enumerate(policy.market[1:], start=1):
        if spec.lot or spec.tick:
            tick = spec.tick or policy.units.tick
            out += _tick_problems(policy, tick, spec.lot or policy.units.lot, f"$.market[{i}].tick")
    return out


def _tick_problems(policy: Policy, tick_text: str, lot_text: str, at: str) -> list[str]:
    if not tick_text:
        return []
    tick, grid = quantity(tick_text), price_grid(policy, lot_text)
    if tick is None or grid is None:
        return [
            f"'tick' cannot be checked: no quantity in {tick_text!r}, or none in units.quote "
            f"{policy.units.quote!r} and the lot {lot_text!r} @ {at}"
        ]
    (tick_value, currency), (step, grid_currency) = tick, grid
    if grid_currency and grid_currency != currency:
        return [f"'tick' must be in the quote currency {grid_currency}: {tick_text!r} @ {at}"]
    steps = tick_value / step
    if steps.denominator == 1:
        return []
    how = "coarser than" if step > tick_value else "no whole fraction of"
    return [
        f"the price grid the quanta state, {_decimal_text(step)} {currency} a step, is {how} the venue's "
        f"tick of {tick_text} ({_decimal_text(steps)} steps a tick): the engine cannot state "
        f"the venue's prices between its steps @ {at}"
    ]


def _decimal_text(value: Fraction) -> str:
    """``Fraction(1, 10)`` as ``0.1``, ``Fraction(10)`` as ``10``, a repeating one as ``1/3``."""
    text = _decimal(value)
    return text[:-2] if text.endswith(".0") else text


# --- where each problem is written, and its value as written ---------------------------------------

_AT = re.compile(r" @ (\$(?:\.[A-Za-z0-9_\-]+|\[\d+\])*)$")
_UNKNOWN_KEY = re.compile(r"^unknown key '([^']+)'")
_REQUIRED = re.compile(r"^'(\w+)' is required$")
_FRACTION = re.compile(r"Fraction\((-?\d+), (\d+)\)")


def placed(errors: list[str], text: str, source: str, data: Any = None) -> list[str]:
    """Each ``<message> @ $.path`` error with where it is written appended, ``(<source>:<line>:<column>)``:
    a wrong value's own position, an unknown key's key, a missing key's table (else the nearest
    table written); a missing key also says what it expects (from the policy classes, with
    ``data`` the TOML as read), and every float reads as written (``0.1``, never ``Fraction(1, 10)``)."""
    source_map = SourceMap(text)
    return [_placed(error, source_map, source, data) for error in errors]


def _placed(error: str, source_map: SourceMap, source: str, data: Any) -> str:
    at = _AT.search(error)
    if at is None:
        return _as_written(error, None, source_map)
    message, path = error[: at.start()], parse_path(at[1])
    unknown, required = _UNKNOWN_KEY.match(message), _REQUIRED.match(message)
    if required:
        found = type_at((*path, required[1]), data)
        if found is not None:
            message += f" ({expected(*found)})"
        elif required[1] == TAG:
            message += " (one of " + ", ".join(repr(kind) for kind in LAYER_KINDS) + ")"
    target = (*path, unknown[1]) if unknown else path
    written = source_map.find(target)
    if written is not None and not required:
        position = written.value if written.value is not None and not unknown else written.key
    else:
        nearest = source_map.nearest(path)
        position = nearest[1].key if nearest else Position(1, 1)
    shown = format_path(target) if unknown else at[1]
    return f"{_as_written(message, path, source_map)} @ {shown} ({source}:{position})"


def _as_written(message: str, path: tuple | None, source_map: SourceMap) -> str:
    """``Fraction(1, 10)`` in a message as the user wrote it: the literal at ``path`` when it has
    that value (``1e5``), else its exact decimal (a TOML float is a decimal, so it has one)."""
    literal = source_map.value_literal(path) if path is not None else None

    def shown(match: re.Match) -> str:
        value = Fraction(int(match[1]), int(match[2]))
        if literal is not None:
            try:
                if Fraction(literal.replace("_", "")) == value:
                    return literal
            except ValueError:
                pass
        return _decimal(value)

    return _FRACTION.sub(shown, message)


def _decimal(value: Fraction) -> str:
    """An exact decimal: ``Fraction(1, 10)`` is ``0.1``, ``Fraction(5, 1)`` is ``5.0``."""
    if value.denominator == 1:
        return f"{value.numerator}.0"
    digits, scaled = 0, value
    while scaled.denominator != 1 and digits < 400:
        scaled, digits = scaled * 10, digits + 1
    if scaled.denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    sign, whole = ("-" if scaled < 0 else ""), str(abs(scaled.numerator)).rjust(digits + 1, "0")
    return f"{sign}{whole[:-digits]}.{whole[-digits:]}"


# --- accepts: ids of the invariant catalog and the relational properties ---------------------------


@attrs.frozen
class Claims:
    """The ids a policy's ``accepts`` may list: the invariants and the relational properties."""

    invariants: tuple[str, ...]
    relational: tuple[str, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        return (*self.invariants, *self.relational)


def accepts_errors(accepts: Any, claims: Claims) -> list[str]:
    """One line per ``accepts`` entry that names no invariant or relational property, with its
    path (``$.accepts[2]``), the ids expected and the closest of them (:func:`placed` adds where
    it is written). Entries of the wrong type are the converter's to report."""
    if not isinstance(accepts, (list, tuple)):
        return []
    known = claims.ids
    unknown = [(i, name) for i, name in enumerate(accepts) if isinstance(name, str) and name not in known]
    expected_ids = (
        f"an invariant ({', '.join(claims.invariants)}) or a relational property ({', '.join(claims.relational)})"
    )
    return [
        f"'accepts' must each name {expected_ids}: {name!r}{did_you_mean(name, known)} @ $.accepts[{i}]"
        for i, name in unknown
    ]


def load_policy(path: str | os.PathLike[str], *, claims: Claims | None = None) -> Policy:
    """The policy in a TOML file (UTF-8); errors name the file."""
    source = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(source, [f"cannot read the policy file: {exc}"]) from None
    return loads_policy(text, source=source, claims=claims)


# --- writing -------------------------------------------------------------------------------------

#: the order of a policy file's top-level keys, as ``dumps_policy`` writes them and ``solvent fmt``
#: puts them (``solvent.policy_format``): written once, for both
LAYOUT = (
    "name",
    "description",
    "sources",
    "accepts",
    "units",
    "contract",
    "margin",
    "market",
    "liquidation",
    "fees",
    "funding",
    "waterfall",
    "deficit",
    "pnl_to_pool_adl",
    "collateral",
    "settlement_lending",
    "settlement",
    "rounding",
)


#: Fields added after saved findings were keyed by a policy's digest, written out only when they
#: differ from their default, so a policy that does not use them keeps its text and digest:
#: (table, key, default), where the table is a top-level key or a waterfall layer's kind.
_WRITTEN_WHEN_SET = (
    ("socialized_loss", "cascade", False),
    ("socialized_loss", "liquidator_pays", False),
    ("insurance_fund", "all_or_nothing", False),
    ("margin", "maintenance_basis", "mark"),
    ("margin", "risk_limit_steps", False),
    ("margin", "modes", []),
    ("liquidation", "partial_above_notional_quote", None),
    ("liquidation", "partial_share_ppm", 1_000_000),
    ("haircut_ratio", "losses_settle_capital", False),
    ("units", "tick", ""),
    ("haircut_ratio", "warmup_events", None),
    ("haircut_ratio", "matured_only", False),
    ("rounding", "funding_remainder", "paid_as_dust"),
    ("adl", "price_on_tick", False),
    ("liquidation", "fee_to_close", False),
    ("liquidation", "fund_unwind_ppm", None),
    ("rounding", "collateral", "floor"),
    ("liquidation", "order", "all_at_once"),
    ("adl", "gap_rounding", "per_lot"),
    ("adl", "gap_rounding_without_move", "per_fill"),
    ("adl", "overlap_only", False),
    ("insurance_fund", "floor_quote", 0),
    ("rounding", "interest", "ceil"),
    ("rounding", "deposit_loss", "ceil"),
    ("rounding", "side_index", "exact"),
    ("liquidation", "final_settlement", False),
    ("rounding", "borrow_rate", "floor"),
    ("haircut_ratio", "release", "window_end"),
    ("margin", "transfer_floor_ppm", 0),
    ("adl", "max_deleveraged_per_event", None),
    ("liquidation", "shortage_buffer_ppm", None),
    ("rounding", "deficit_share", "ceil"),
    ("waterfall", "deficit_split", "one_market"),
    ("rounding", "conversion", "floor"),
    ("insurance_fund", "deleveraged_without_move", False),
    ("backstop_vault", "deleveraged_without_move", True),
)

#: A ``[[collateral]]`` table's lending keys written only when set: a table that lends nothing is
#: written (and digested) as before lending.
#: A ``[[market]]`` table's keys written only when set: a market that shares ``[margin]``'s tiers
#: and ``[units]``' lot and tick is its name alone.
_MARKET_DEFAULTS = {
    "tiers": [],
    "risk_limit_steps": False,
    "lot": "",
    "tick": "",
    "modes": [],
    "margin_removable": True,
    "fund_group": "",
    "fund_cap_quote": None,
}

#: A ``[[collateral]]`` table's keys added after such tables were saved, written only when set
#: (the conversion discount, lending): a table that uses none is written, and digested, as before.
_COLLATERAL_DEFAULTS = {
    "sale_value_ppm": 1_000_000,
    "lends": False,
    "initial_liability_weight_ppm": 1_000_000,
    "maintenance_liability_weight_ppm": 1_000_000,
    "interest_fee_ppm": 0,
    "bankruptcy": [],
    "rate_curve": [],
    "value_tiers": [],
    "quantity_tiers": [],
    "liquidation_fee_ppm": 0,
    "fund_floor_quote": 0,
    "loan_origination_fee_ppm": 0,
}


def _leave_out_defaults(ordered: dict[str, Any]) -> None:
    if not ordered["market"]:
        ordered["market"] = None  # one market: the text (and digest) of a policy before [[market]]
    for tables, defaults in ((ordered["market"], _MARKET_DEFAULTS), (ordered["collateral"], _COLLATERAL_DEFAULTS)):
        for values in tables or ():
            for key, default in defaults.items():
                if values.get(key, default) == default:
                    values.pop(key, None)
    for table, key, default in _WRITTEN_WHEN_SET:
        tables = [layer for layer in ordered["deficit"] if layer.get(TAG) == table]
        if isinstance(ordered.get(table), dict):
            tables.append(ordered[table])
        for values in tables:
            if values.get(key, default) == default:
                values.pop(key, None)


def _toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped.

    One ``json.dumps`` call does the escaping in C, in time linear in the text (a policy's
    ``description`` may be megabytes): a JSON string is a TOML basic string, for JSON escapes
    ``\\" \\\\ \\b \\t \\n \\f \\r`` and ``\\uXXXX`` (every other control character) are TOML's;
    only DEL, which JSON leaves as it is and TOML forbids raw, is escaped after.
    """
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007F")


def _toml_value(value: Any) -> str:
    """A scalar or an array of scalars; integers stay integers (no float ever written)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + "".join(f"\n    {_toml_value(v)}," for v in value) + ("\n]" if value else "]")
    raise TypeError(f"no TOML form for {value!r} in a policy")


def _is_table_array(value: Any) -> bool:
    """A non-empty list of tables: written as ``[[header]]`` blocks."""
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, dict) for v in value)


def _table_lines(path: tuple[str, ...], table: dict[str, Any]) -> list[str]:
    """Keys of one table (the ``layer`` tag first, None omitted), then its sub-tables in order."""
    items = sorted(table.items(), key=lambda item: item[0] != TAG)
    lines = [
        f"{k} = {_toml_value(v)}"
        for k, v in items
        if v is not None and not isinstance(v, dict) and not _is_table_array(v)
    ]
    for key, value in items:
        header = ".".join((*path, key))
        if isinstance(value, dict):
            lines += ["", f"[{header}]", *_table_lines((*path, key), value)]
        elif _is_table_array(value):
            for item in value:
                lines += ["", f"[[{header}]]", *_table_lines((*path, key), item)]
    return lines


def dumps_policy(policy: Policy) -> str:
    """The policy as TOML, every field written out (but a linear ``[contract]``, the default), such
    that ``loads_policy`` gives it back."""
    data = CONVERTER.unstructure(policy)
    ordered = {key: data.pop(key) for key in LAYOUT}
    if policy.contract == LINEAR:
        # the default contract is left out, so a linear policy's text (and its digest, which keys
        # saved findings) is what it was before contracts could be declared
        ordered["contract"] = None
    if not policy.collateral:
        ordered["collateral"] = None  # no [[collateral]] table: the text (and digest) as before
    if policy.waterfall == POOLED:
        ordered["waterfall"] = None  # a pooled waterfall, the default: the text (and digest) as before
    elif not policy.waterfall.fund_shares_ppm:
        ordered["waterfall"].pop("fund_shares_ppm", None)
    if policy.settlement_lending is None:
        ordered["settlement_lending"] = None  # no [settlement_lending]: the text (and digest) as before
    if policy.settlement is None:
        ordered["settlement"] = None  # no [settlement]: the text (and digest) as before
    if policy.funding == FundingRule():
        ordered["funding"] = None  # no cap of the venue's own: the text (and digest) as before
    if data:
        raise TypeError(f"dumps_policy has no place in its layout for {sorted(data)}: add them to LAYOUT")
    _leave_out_defaults(ordered)
    return "\n".join(_table_lines((), ordered)) + "\n"

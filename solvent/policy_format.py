"""``solvent fmt``: a policy TOML file in its canonical form, comments and values kept as written.

What changes, and nothing else:

- **key order**: the keys of each table in the order the bundled presets write them
  (:data:`ORDER`: ``name``, ``description``, ``sources``, ``accepts``, then ``[units]``,
  ``[contract]``, ``[margin]`` and its ``[[margin.tiers]]``, ``[liquidation]``, ``[fees]``, ``[funding]``, ``[waterfall]``, the
  ``[[deficit]]`` layers, ``[pnl_to_pool_adl]``, the ``[[collateral]]`` assets, ``[rounding]``; inside each, the order of the
  schema's fields, where the presets read better in a few places, e.g. a liquidation's partial
  steps beside ``partial_close_ppm``). A key Solvent does not know stays after the known ones, in
  its own order (``solvent check`` names it). The elements of an array of tables never move:
  their order is the waterfall's, the tiers'; a table below one (``[deficit.fund_drawdown]``)
  stays with it.
- **spacing**: ``key = value``, ``[table]``, two spaces before a comment that ends a line, no
  space at the end of a line, never two blank lines in a row (a blank line is kept where the
  file has one, and none is added), one newline at the end of the file.

Comments move with what they describe: the comment lines right above a key or a table header
(and the blank lines between them), a comment at the end of its line. A comment block at the top
of the file, followed by a blank line, stays at the top. Values are kept character for character
(numbers, strings, arrays with their own comments), so the document means the same:
:func:`canonical` checks that ``tomllib`` reads the same data from both, or raises.
"""

from __future__ import annotations

import contextlib
import re
import tomllib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import attrs

from solvent.rules.loading import LAYOUT

#: the canonical order of keys, per table (array indices left out of the path)
ORDER: dict[tuple[str, ...], tuple[str, ...]] = {
    (): LAYOUT,  # the policy writer's own order (rules.loading)
    ("units",): ("quote", "lot", "tick"),
    ("contract",): ("kind", "value_quanta", "value_rounding", "price"),
    ("margin",): ("spot_collateral", "maintenance_basis", "risk_limit_steps", "modes", "transfer_floor_ppm", "tiers"),
    ("margin", "tiers"): ("floor_notional_quote", "initial_ppm", "maintenance_ppm", "maintenance_amount_quote"),
    ("market",): (
        "name",
        "lot",
        "tick",
        "risk_limit_steps",
        "modes",
        "margin_removable",
        "fund_group",
        "fund_cap_quote",
        "tiers",
    ),
    ("market", "tiers"): ("floor_notional_quote", "initial_ppm", "maintenance_ppm", "maintenance_amount_quote"),
    ("liquidation",): (
        "trigger",
        "execution",
        "slippage_ppm",
        "partial_close_ppm",
        "partial_above_notional_quote",
        "partial_share_ppm",
        "shortage_buffer_ppm",
        "penalty_ppm",
        "penalty_recipient",
        "takeover_below_ppm",
        "fee_to_close",
        "fund_unwind_ppm",
        "order",
        "final_settlement",
    ),
    ("fees",): ("taker_ppm", "maker_ppm", "insurance_share_ppm"),
    ("funding",): ("max_rate_ppm",),
    ("waterfall",): ("scope", "fund_shares_ppm", "deficit_split"),
    # every layer's keys: ``layer`` first, then each kind's own, in the schema's order
    ("deficit",): (
        "layer",
        "cap_quote",
        "all_or_nothing",
        "floor_quote",
        "deleveraged_without_move",
        "ranking",
        "price",
        "fund_drawdown",
        "book_last",
        "price_on_tick",
        "gap_rounding",
        "gap_rounding_without_move",
        "overlap_only",
        "max_deleveraged_per_event",
        "over",
        "liquidator_pays",
        "cascade",
        "lender",
        "deposits_repay_debt",
        "window_events",
        "cap_at_profit",
        "losses_settle_capital",
        "warmup_events",
        "matured_only",
        "release",
    ),
    ("deficit", "fund_drawdown"): ("drawdown_ppm", "min_drawdown_quote", "window_events"),
    ("pnl_to_pool_adl",): ("max_factor_ppm", "min_factor_ppm", "ranking"),
    ("collateral",): (
        "name",
        "quantum",
        "initial_weight_ppm",
        "maintenance_weight_ppm",
        "cap_quote",
        "sale_value_ppm",
        "lends",
        "initial_liability_weight_ppm",
        "maintenance_liability_weight_ppm",
        "interest_fee_ppm",
        "liquidation_fee_ppm",
        "loan_origination_fee_ppm",
        "bankruptcy",
        "fund_floor_quote",
        "rate_curve",
        "value_tiers",
        "quantity_tiers",
    ),
    ("collateral", "rate_curve"): ("utilization_ppm", "rate_ppm"),
    ("collateral", "value_tiers"): ("floor_value_quote", "ratio_ppm"),
    ("collateral", "quantity_tiers"): ("floor_quanta", "ratio_ppm"),
    ("settlement_lending",): ("interest_fee_ppm", "rate_curve"),
    ("settlement_lending", "rate_curve"): ("utilization_ppm", "rate_ppm"),
    ("settlement",): ("bankruptcy",),
    ("rounding",): (
        "fee",
        "margin",
        "pro_rata",
        "funding",
        "funding_remainder",
        "collateral",
        "interest",
        "deposit_loss",
        "side_index",
        "borrow_rate",
        "deficit_share",
        "conversion",
    ),
}


class FormatError(ValueError):
    """A file that cannot be formatted: names the file, the line and the column."""


@cache
def _parser() -> Any:
    import tree_sitter
    import tree_sitter_toml

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_toml.language()))


_KEY_NODES = ("bare_key", "quoted_key", "dotted_key")
_NOT_VALUE = ("=", "comment", "ERROR")


def _text(node: Any) -> str:
    return node.text.decode("utf-8")


def _key_parts(node: Any) -> list[str]:
    """A key node's parts as written: ``a . "b c"`` is ``["a", '"b c"']``."""
    if node.type == "dotted_key":
        return [part for child in node.children if child.type in _KEY_NODES for part in _key_parts(child)]
    return [_text(node)]


def _name(part: str) -> str:
    """A key part's name: a quoted key unquoted (``"b c"`` → ``b c``)."""
    return next(iter(tomllib.loads(f"{part} = 0"))) if part[:1] in "\"'" else part


@attrs.define
class _Item:
    """A ``key = value`` line (or lines) and what is written above it."""

    key: list[str]
    lines: list[str]
    before: list[str] = attrs.Factory(list)


@attrs.define
class _Section:
    """A table header and its items; the root section has no header."""

    path: tuple[str, ...]
    header: str | None = None
    before: list[str] = attrs.Factory(list)
    items: list[_Item] = attrs.Factory(list)


def _position(text: str, exc: tomllib.TOMLDecodeError) -> str:
    match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    if match:
        return f"{match[1]}:{match[2]}"
    match = re.search(r"\(at end of document\)", str(exc))
    lines = text.split("\n")
    return f"{len(lines)}:{len(lines[-1]) + 1}" if match else "1:1"


def _check_syntax(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = re.sub(r"\s*\((?:at line \d+, column \d+|at end of document)\)", "", str(exc))
        raise FormatError(f"{source}:{_position(text, exc)}: not valid TOML: {message}") from None


def _collapse(lines: Sequence[str]) -> list[str]:
    """Comment lines with runs of blank lines made one."""
    out: list[str] = []
    for line in lines:
        if line == "" and out and out[-1] == "":
            continue
        out.append(line)
    return out


def _pair(node: Any) -> _Item:
    key = next(c for c in node.children if c.type in _KEY_NODES)
    value = next(c for c in node.children if c.start_byte >= key.end_byte and c.type not in _NOT_VALUE)
    comment = next((c for c in node.children if c.type == "comment" and c.start_byte >= value.end_byte), None)
    parts = _key_parts(key)
    written = _text(value)
    if '"""' not in written and "'''" not in written:  # no multi-line string: a line's end is spacing
        written = "\n".join(line.rstrip() for line in written.split("\n"))
    line = f"{'.'.join(parts)} = {written}"
    if comment is not None:
        line += "  " + _text(comment).rstrip()
    return _Item([_name(p) for p in parts], line.split("\n"))


def _sections(text: str, source: str) -> tuple[list[str], list[_Section], list[str]]:
    """The preamble (comments at the top), the sections in file order, the comments at the end."""
    tree = _parser().parse(text.encode("utf-8"))
    if tree.root_node.has_error:
        bad = _first_error(tree.root_node)
        row, column = bad.start_point if bad is not None else (0, 0)
        raise FormatError(f"{source}:{row + 1}:{column + 1}: cannot read this line's layout (not reformatted)")
    sections = [_Section(())]
    pending: list[str] = []
    last_row: int | None = None

    def gap(node: Any) -> None:
        if last_row is not None and node.start_point[0] > last_row + 1:
            pending.append("")

    for top in tree.root_node.children:
        nodes = [top] if top.type in ("pair", "comment") else list(top.children)
        if top.type in ("table", "table_array_element"):
            key = next(c for c in top.children if c.type in _KEY_NODES)
            parts = _key_parts(key)
            double = top.type == "table_array_element"
            header = f"{'[[' if double else '['}{'.'.join(parts)}{']]' if double else ']'}"
            gap(top)
            section = _Section(tuple(_name(p) for p in parts), header, before=pending)
            pending = []
            sections.append(section)
            last_row = key.end_point[0]
            nodes = [c for c in top.children if c.type in ("pair", "comment")]
            if nodes and nodes[0].type == "comment" and nodes[0].start_point[0] == key.end_point[0]:
                section.header = f"{section.header}  {_text(nodes[0]).rstrip()}"
                nodes = nodes[1:]
        for node in nodes:
            gap(node)
            if node.type == "comment":
                pending.append(_text(node).rstrip())
            else:
                item = _pair(node)
                item.before, pending = pending, []
                sections[-1].items.append(item)
            last_row = node.end_point[0]
    # the comment block at the top, when a blank line sets it apart from what follows
    preamble: list[str] = []
    root = sections[0]
    first = root.items[0].before if root.items else sections[1].before if len(sections) > 1 else pending
    if "" in first and first[0] != "":
        cut = len(first) - first[::-1].index("")
        preamble, first[:] = first[:cut], first[cut:]
    return preamble, sections, pending


def _first_error(node: Any) -> Any | None:
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        found = _first_error(child)
        if found is not None:
            return found
    return None


def _rank(path: tuple[str, ...], key: str) -> int:
    order = ORDER.get(path, ())
    return order.index(key) if key in order else len(order)


def _above(out: list[str], lines: list[str]) -> list[str]:
    """The lines written above a key or a header: runs of blank lines made one, none at the top
    of the file or after a blank line already written."""
    lines = _collapse(lines)
    while lines[:1] == [""] and (not out or out[-1] == ""):
        lines.pop(0)
    return lines


def _render(preamble: list[str], sections: list[_Section], trailing: list[str]) -> str:
    out = _collapse(preamble)
    root, tables = sections[0], sections[1:]
    # tables grouped by their first key, the groups in canonical order; inside a group, the file's
    # order (an array's elements, and a table that belongs to the element above it)
    ordered = sorted(tables, key=lambda s: _rank((), s.path[0]))
    after = {id(b): id(a) for a, b in zip([root, *tables], tables, strict=False)}
    moved = {id(b) for a, b in zip([root, *ordered], ordered, strict=False) if after[id(b)] != id(a)}
    tables = ordered
    for section in [root, *tables]:
        if section.header is not None:
            # a table that now follows another one than in the file is set apart from it
            before = [""] + section.before if id(section) in moved else section.before
            out += _above(out, before) + [section.header]
        for item in sorted(section.items, key=lambda i: _rank(section.path, i.key[0])):
            out += _above(out, item.before) + item.lines
    out += _above(out, trailing)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def canonical(text: str, source: str = "<policy>") -> str:
    """``text`` in the canonical form (see the module's docstring); raises :class:`FormatError`
        naming ``source``, the line and the column when it is not TOML. Should the result read back
    as other data than ``text`` (a bug), raises ``InternalError`` (exit 4) and nothing is written."""
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n")
    data = _check_syntax(text, source)
    out = _render(*_sections(text, source))
    if tomllib.loads(out) != data:  # the formatter only moves and respaces: never reached unless broken
        from solvent.rules.ledger import InternalError

        raise InternalError(f"{source}: formatting would change what the file means; nothing was written")
    return out


def replace_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` in one step: a temporary file beside it, flushed to disk and
    renamed over it (keeping the file's permissions), so a reader sees the old file or the new
    one, never half of one; on an error the temporary file is removed and ``path`` is untouched."""
    import os
    import tempfile

    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


__all__ = ["ORDER", "FormatError", "canonical", "replace_atomically"]

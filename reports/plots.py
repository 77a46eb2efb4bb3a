"""Inline SVG pictures of a story: the price path, each trader's equity, who paid the deficit.

Drawn directly as SVG text, with no plotting library: the HTML report stays one self-contained
file, the output is deterministic (golden tests compare it byte for byte) and Solvent gains no
dependency. Coordinates are floats for drawing only; every number printed is the exact amount,
in the policy's currency (``reports.money``).

Labels never clip: each margin is as wide as the widest label it holds, measured by
:func:`text_width` (an upper bound for sans-serif fonts), and a chart whose labels leave less than
``MIN_PLOT`` for the plot is drawn wider instead (a z3 story's marks run from 1 to 10⁹; a user's
account names may be long).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from solvent.reports.money import Money
from solvent.reports.story import amount, bankruptcies, change, market_of, worth_showing
from solvent.rules.contract import LINEAR, Contract, venue_price
from solvent.rules.engine import Step
from solvent.rules.margin import equity
from solvent.rules.outcomes import Bankrupt, Liquidated
from solvent.rules.policy import Policy

WIDTH = 560
#: the narrowest plot area a chart keeps; labels wider than the rest widen the picture instead
MIN_PLOT = 300
ACCOUNT_COLOURS = ("#2563eb", "#d97706", "#059669", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#475569")
LAYER_COLOURS = {
    "insurance_fund": "#2563eb",
    "backstop_vault": "#0891b2",
    "fee_pool": "#65a30d",
    "adl": "#d97706",
    "socialized_loss": "#db2777",
    "haircut_ratio": "#7c3aed",
    "clawback": "#b91c1c",
    "debt_carry": "#475569",
    "venue_absorbs": "#059669",
}
FAIL = "#dc2626"


def _f(x: float) -> str:
    """A coordinate, rounded so the SVG text is stable."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


#: widths of characters in ems, at least DejaVu Sans's (the widest usual sans-serif fallback;
#: its digits are 0.636 em, its lowercase 0.28 to 0.97): a label measured with these is at
#: least as wide as a browser draws it
_EMS = {**dict.fromkeys("fijlrt", 0.42), **dict.fromkeys(",.:;!|'()[]{} -", 0.4), **dict.fromkeys("mw", 0.98)}
_WIDE = frozenset("MW@%→…")


def text_width(s: str, size: float, weight: str = "normal") -> float:
    """An upper bound on the drawn width of ``s`` at ``size`` px, for laying labels out."""
    ems = sum(_EMS.get(c, 1.0 if c in _WIDE else 0.8 if c.isupper() else 0.64) for c in s)
    return ems * size * (1.12 if weight not in ("normal", "400") else 1.0)


def _text(
    x: float, y: float, s: str, *, anchor: str = "start", size: int = 11, fill: str = "#334155", weight: str = "normal"
) -> str:
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
        f'font-weight="{weight}">{html.escape(s)}</text>'
    )


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, *, width: float = 1, dash: str | None = None) -> str:
    d = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" stroke="{stroke}" stroke-width="{_f(width)}"{d}/>'


def _svg(height: float, label: str, body: list[str], width: float = WIDTH) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_f(width)} {_f(height)}" width="{_f(width)}" height="{_f(height)}" '
        f'role="img" aria-label="{html.escape(label)}" font-family="system-ui, sans-serif">'
        f"<title>{html.escape(label)}</title>" + "".join(body) + "</svg>"
    )


def _scale(lo: float, hi: float, a: float, b: float) -> Callable[[Any], float]:
    """Map [lo, hi] onto [a, b] (a flat range maps to the middle)."""
    if hi == lo:
        return lambda v: (a + b) / 2
    return lambda v: a + (float(Fraction(v)) - lo) * (b - a) / (hi - lo)


def _ticks(lo: float, hi: float, count: int = 4) -> list[Any]:
    """Round values between lo and hi for axis labels: integers, or, when no integer step fits (a
    coin value per contract near 0.1 on an inverse contract), decimal fractions (1/10, 1/100, ...)."""
    if hi <= lo:
        return [round(lo)]
    raw = (hi - lo) / count
    magnitude = 10 ** max(0, len(str(int(raw))) - 1)
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(Fraction(lo) / step) * step
    whole = list(range(first, math.floor(hi) + 1, step))
    if whole:
        return whole
    fine = Fraction(10) ** math.floor(math.log10(raw))
    step = next(m * fine for m in (1, 2, 5, 10) if m * fine >= Fraction(raw))
    out, t = [], math.ceil(Fraction(lo) / step) * step
    while t <= Fraction(hi):
        out.append(t)
        t += step
    return out or [Fraction(round(Fraction(lo + hi) / 2 / fine)) * fine]


def _decimal(t: Fraction) -> str:
    """A tick that is a decimal fraction, written in decimals (1/10 as 0.1), exactly."""
    digits = next(d for d in range(40) if (t * 10**d).denominator == 1)
    scaled = t * 10**digits
    sign = "-" if scaled < 0 else ""
    whole, part = divmod(abs(int(scaled)), 10**digits)
    return f"{sign}{whole:,}.{part:0{digits}d}".rstrip("0").rstrip(".")


def _step_labels(x: Callable[[Any], float], n: int, y: float) -> list[str]:
    """The step numbers 0..n under an axis, thinned so that neighbours never touch."""
    room = (x(n) - x(0)) / n if n else 0.0
    widest = text_width(str(n), 10) + 4
    every = next(k for k in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10**9) if k * room >= widest or k >= n)
    shown = [i for i in range(0, n + 1, every)]
    if shown[-1] != n and (x(n) - x(shown[-1])) >= widest:
        shown.append(n)
    return [_text(x(i), y, str(i), anchor="middle", size=10) for i in shown]


def _marks(steps: Sequence[Step], contract: Contract = LINEAR, market: int = 0) -> list[Any]:
    """The venue's price of market ``market`` (its index in the book) before the story and after
    each step (``V / lot value`` when inverse)."""
    values = [steps[0].before.markets[market].mark_quote] + [s.after.markets[market].mark_quote for s in steps]
    return [venue_price(contract, v) for v in values]


def price_paths(
    steps: Sequence[Step], failing: int, contract: Contract = LINEAR, money: Money | None = None
) -> list[str]:
    """One :func:`price_path` per market of the story's book, each on its own scale (a market at
    30,000 and one at 2,000 share no useful axis): one picture for a one-market book."""
    return [price_path(steps, failing, contract, money, market=i) for i in range(len(steps[0].before.markets))]


def price_path(
    steps: Sequence[Step], failing: int, contract: Contract = LINEAR, money: Money | None = None, market: int = 0
) -> str:
    """The mark price before the story and after each step, with liquidations and bankruptcies marked
    (the venue's price: on an inverse contract, the quote price, not the coin value per contract;
    with ``money``, per unit of the policy's lot in its currency).

    On a book of several markets, the mark of market ``market`` (its index), named in the title,
    with the liquidations and bankruptcies of the steps whose event acts on it (an account
    liquidated by a move of ETH is marked on ETH's line, though it is closed in every market).

    The left margin is as wide as the widest price label, so 1,000,000,000 is never cut."""
    money = money or Money(contract=contract)
    marks = _marks(steps, contract, market)
    book = steps[0].before
    lo, hi = float(min(marks)), float(max(marks))
    pad = (hi - lo) * 0.12 or max(1.0, hi * 0.01)
    ticks = _ticks(lo - pad, hi + pad, 5)

    def label(t: Any) -> str:
        if isinstance(t, Fraction) and t.denominator != 1:
            return _decimal(t)
        return amount(int(t)) if contract.is_inverse else money.price_number(int(t))

    unit = money.price_unit or contract.price
    per = f"({unit}) " if unit else ("per lot, " if not contract.is_inverse else "")
    of = f"of {book.markets[market].name} " if book.more_markets else ""
    title = f"mark price {of}{per}before the story (0) and after each step"
    left = max(64.0, 8 + 6 + max(text_width(label(t), 10) for t in ticks))
    width = max(float(WIDTH), left + MIN_PLOT + 16, _title_width(title))
    right, top, bottom = width - 16, 34, 196
    x = _scale(0, len(steps), left, right)
    y = _scale(lo - pad, hi + pad, bottom, top)
    body = [_text(8, 16, title, size=12, weight="600")]
    for t in ticks:
        body += [_line(left, y(t), right, y(t), "#e2e8f0"), _text(left - 6, y(t) + 4, label(t), anchor="end", size=10)]
    body += _step_labels(x, len(steps), bottom + 14)
    body.append(
        f'<rect x="{_f(x(failing + 0.5))}" y="{top}" width="{_f(x(failing + 1) - x(failing + 0.5))}" height="{bottom - top}" fill="{FAIL}" fill-opacity="0.08"/>'
    )
    body.append(_text(x(failing + 1), top - 4, "fails", anchor="end", size=10, fill=FAIL, weight="600"))
    points = [(x(0), y(marks[0]))]
    for i in range(1, len(marks)):
        points += [(x(i), y(marks[i - 1])), (x(i), y(marks[i]))]
    path = " ".join(f"{_f(a)},{_f(b)}" for a, b in points)
    body.append(f'<polyline points="{path}" fill="none" stroke="#0f172a" stroke-width="2"/>')
    for i, s in enumerate(steps, start=1):
        if not book.more_markets or s.before.markets.index(market_of(s.before, s.event)) == market:
            body += _step_markers(s, x(i), y(marks[i]), left, right, top)
    body += _price_legend(bottom + 30)
    label = f"price path of {book.markets[market].name}" if book.more_markets else "price path"
    return _svg(bottom + 40, f"{label} with liquidation markers", body, width)


def _step_markers(s: Step, cx: float, cy: float, left: float, right: float, top: float) -> list[str]:
    """A step's liquidation and bankruptcy markers, and the accounts' names beside them, kept
    inside the plot area (right of the price labels, below the title)."""
    out = []
    liquidated = [o.account for o in s.outcomes if isinstance(o, Liquidated) and worth_showing(o)]
    bankrupt = [o.account for o in s.outcomes if isinstance(o, Bankrupt)]
    if liquidated:
        out.append(f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="6" fill="#f59e0b" stroke="#92400e"/>')
    if bankrupt:
        out.append(
            f'<path d="M{_f(cx - 5)},{_f(cy - 5)} L{_f(cx + 5)},{_f(cy + 5)} M{_f(cx - 5)},{_f(cy + 5)} L{_f(cx + 5)},{_f(cy - 5)}" stroke="{FAIL}" stroke-width="2.5"/>'
        )
    names = _fit(", ".join(dict.fromkeys(liquidated + bankrupt)), 10, right - left - 8)
    if names:
        w = text_width(names, 10)
        ty = max(cy - 8, top + 12)
        if cx + 8 + w <= right:
            out.append(_text(cx + 8, ty, names, size=10, fill="#92400e"))
        else:
            end = max(cx - 8, left + 4 + w)
            out.append(_text(end, ty if end == cx - 8 else cy + 18, names, anchor="end", size=10, fill="#92400e"))
    return out


def _title_width(title: str) -> float:
    """The picture's width that holds its title (12 px, bold, 8 px in from each side)."""
    return 8 + text_width(title, 12, "600") + 8


def _fit(s: str, size: float, room: float) -> str:
    """``s``, cut with an ellipsis when wider than ``room`` (a name longer than the whole plot)."""
    if text_width(s, size) <= room:
        return s
    while s and text_width(s + "…", size) > room:
        s = s[:-1]
    return s + "…"


def _price_legend(y: float) -> list[str]:
    return [
        f'<circle cx="14" cy="{_f(y - 4)}" r="5" fill="#f59e0b" stroke="#92400e"/>',
        _text(24, y, "liquidated", size=10),
        f'<path d="M94,{_f(y - 8)} L102,{_f(y)} M94,{_f(y)} L102,{_f(y - 8)}" stroke="{FAIL}" stroke-width="2.5"/>',
        _text(108, y, "bankrupt (equity below zero at the fill)", size=10),
    ]


def equity_rows(policy: Policy, steps: Sequence[Step], failing: int, money: Money | None = None) -> str:
    """Each trader's equity before the story and after each step: one row per trader, own scale.

    The name column and the end-value column are as wide as their widest label (the picture
    widens rather than cut one)."""
    money = money or Money(contract=policy.contract)
    names = [a.name for a in steps[0].before.traders]
    books = [steps[0].before] + [s.after for s in steps]
    series = [[equity(policy.margin, b.account(name)) for b in books] for name in names]
    ends = [change((v[-2], v[-1]), money) if len(v) > 1 else money.number(v[-1]) for v in series]
    row_h, top = 46, 26
    left = max(96.0, 16 + max((text_width(n, 11, "600") for n in names), default=0))
    end_w = max([text_width("(the failing step)", 10), *(text_width(e, 10) for e in ends)])
    unit = f" ({money.currency})" if money.readable else ""
    title = f"equity{unit} per trader from its first deposit, each row on its own scale"
    width = max(float(WIDTH), left + MIN_PLOT + 8 + end_w + 8, _title_width(title))
    right = width - 8 - end_w - 8
    x = _scale(0, len(steps), left, right)
    body = [_text(8, 16, title, size=12, weight="600")]
    for r, name in enumerate(names):
        body += _equity_row(
            name, series[r], ends[r], top + r * row_h, row_h, x, left, right, ACCOUNT_COLOURS[r % len(ACCOUNT_COLOURS)]
        )
    bottom = top + len(names) * row_h
    body += _step_labels(x, len(steps), bottom + 10)
    body.append(_line(x(failing + 1), top, x(failing + 1), bottom + 14, FAIL, dash="4 3"))
    body.append(_text(x(failing + 1), bottom + 26, "fails", anchor="middle", size=10, fill=FAIL, weight="600"))
    body.append(_text(right + 8, bottom + 10, "(the failing step)", size=10, fill="#64748b"))
    return _svg(bottom + 32, "equity per account over the events", body, width)


def _equity_row(
    name: str,
    values: list[Any],
    end: str,
    y0: float,
    h: float,
    x: Callable[[Any], float],
    left: float,
    right: float,
    colour: str,
) -> list[str]:
    """One trader's row, scaled to the values from its first deposit on (and zero, if it gets there)."""
    first = next((i for i, v in enumerate(values) if v != 0), len(values) - 1)
    funded = values[first:]
    lo, hi = float(min(min(funded), 0) if min(funded) <= 0 else min(funded)), float(max(funded))
    pad = (hi - lo) * 0.08 or 1.0
    y = _scale(lo - pad, hi + pad, y0 + h - 8, y0 + 6)
    out = [_text(left - 8, y0 + h / 2 + 4, name, anchor="end", size=11, weight="600")]
    out.append(
        f'<rect x="{_f(left)}" y="{_f(y0 + 4)}" width="{_f(right - left)}" height="{_f(h - 10)}" fill="#f8fafc"/>'
    )
    if lo <= 0 <= hi:
        out.append(_line(left, y(0), right, y(0), "#94a3b8", dash="2 2"))
    if first > 0:
        out.append(_line(x(0), y0 + h - 8, x(first), y0 + h - 8, "#cbd5e1", width=2, dash="3 3"))
    points = " ".join(f"{_f(x(i))},{_f(y(v))}" for i, v in enumerate(values) if i >= first)
    out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
    for i, v in enumerate(values):
        if v < 0:
            out.append(f'<circle cx="{_f(x(i))}" cy="{_f(y(v))}" r="3.5" fill="{FAIL}"/>')
    out.append(_text(right + 8, y0 + h / 2 + 4, end, size=10, fill=FAIL if values[-1] < 0 else "#334155"))
    return out


def waterfall_usage(steps: Sequence[Step], money: Money | None = None) -> str | None:
    """Each bankruptcy's deficit split into the waterfall layers that paid it (None if none).

    The label column is as wide as its widest label; a layer key that would run past the right
    edge starts a new line under the bar."""
    money = money or Money()
    rows = bankruptcies(steps)
    if not rows:
        return None
    heads = [(f"step {b.step_index + 1}: {b.account}", f"deficit {money.amount(b.deficit)}") for b in rows]
    left = max(150.0, 16 + max(max(text_width(a, 11, "600"), text_width(d, 10)) for a, d in heads))
    title = "who paid each deficit: waterfall layers, in order (bar = the whole deficit)"
    width = max(float(WIDTH), left + MIN_PLOT + 16, _title_width(title))
    right, top = width - 16, 26
    body = [_text(8, 16, title, size=12, weight="600")]
    y0 = top
    for b, head in zip(rows, heads, strict=True):
        drawn, height = _waterfall_row(b, head, y0, left, right, money)
        body += drawn
        y0 += height
    return _svg(y0 + 6, "waterfall usage", body, width)


def _waterfall_row(
    b: Any, head: tuple[str, str], y0: float, left: float, right: float, money: Money
) -> tuple[list[str], float]:
    """One bankruptcy's bar and its key; the row's SVG and its height."""
    out = [_text(left - 8, y0 + 16, head[0], anchor="end", size=11, weight="600")]
    out.append(_text(left - 8, y0 + 30, head[1], anchor="end", size=10))
    parts = [(f"{i + 1}. {layer}", layer, covered) for i, layer, covered in b.layers]
    if b.unpaid:
        parts.append(("unpaid", "unpaid", b.unpaid))
    total = sum(p[2] for p in parts) or 1
    x = _scale(0, total, left, right)
    at, key_x, key_y = 0, left, y0 + 30
    for label, layer, covered in parts:
        colour = LAYER_COLOURS.get(layer, "#cbd5e1")
        w = x(at + covered) - x(at)
        out.append(
            f'<rect x="{_f(x(at))}" y="{_f(y0 + 4)}" width="{_f(max(w, 1.5))}" height="20" fill="{colour}" stroke="#fff"/>'
        )
        text = _fit(f"{label} {money.amount(covered)}", 10, right - left - 13)
        room = 13 + text_width(text, 10)
        if key_x > left and key_x + room > right:
            key_x, key_y = left, key_y + 16
        out.append(f'<rect x="{_f(key_x)}" y="{_f(key_y)}" width="9" height="9" fill="{colour}"/>')
        out.append(_text(key_x + 13, key_y + 9, text, size=10))
        key_x += room + 14
        at += covered
    return out, max(46.0, key_y + 16 - y0)


__all__ = ["equity_rows", "price_path", "price_paths", "text_width", "waterfall_usage"]

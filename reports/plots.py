"""Inline SVG pictures of a story: the price path, each trader's equity, who paid the deficit.

Drawn directly as SVG text, with no plotting library: the HTML report stays one self-contained
file, the output is deterministic (golden tests compare it byte for byte) and Solvent gains no
dependency. Coordinates are floats for drawing only; every number printed is the exact amount.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from solvent.reports.story import amount, bankruptcies, change, worth_showing
from solvent.rules.contract import LINEAR, Contract, venue_price
from solvent.rules.engine import Step
from solvent.rules.margin import equity
from solvent.rules.outcomes import Bankrupt, Liquidated
from solvent.rules.policy import Policy

WIDTH = 560
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


def _svg(height: float, label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_f(height)}" width="{WIDTH}" height="{_f(height)}" '
        f'role="img" aria-label="{html.escape(label)}" font-family="system-ui, sans-serif">'
        f"<title>{html.escape(label)}</title>" + "".join(body) + "</svg>"
    )


def _scale(lo: float, hi: float, a: float, b: float) -> Callable[[Any], float]:
    """Map [lo, hi] onto [a, b] (a flat range maps to the middle)."""
    if hi == lo:
        return lambda v: (a + b) / 2
    return lambda v: a + (float(Fraction(v)) - lo) * (b - a) / (hi - lo)


def _ticks(lo: float, hi: float, count: int = 4) -> list[int]:
    """Round values between lo and hi for axis labels."""
    if hi <= lo:
        return [round(lo)]
    raw = (hi - lo) / count
    magnitude = 10 ** max(0, len(str(int(raw))) - 1)
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = -(-int(lo) // step) * step
    return list(range(first, int(hi) + 1, step))


def _marks(steps: Sequence[Step], contract: Contract = LINEAR) -> list[Any]:
    """The venue's price before the story and after each step (``V / lot value`` when inverse)."""
    values = [steps[0].before.market.mark_quote] + [s.after.market.mark_quote for s in steps]
    return [venue_price(contract, v) for v in values]


def price_path(steps: Sequence[Step], failing: int, contract: Contract = LINEAR) -> str:
    """The mark price before the story and after each step, with liquidations and bankruptcies marked
    (the venue's price: on an inverse contract, the quote price, not the coin value per contract)."""
    marks = _marks(steps, contract)
    lo, hi = float(min(marks)), float(max(marks))
    pad = (hi - lo) * 0.12 or max(1.0, hi * 0.01)
    left, right, top, bottom = 64, WIDTH - 16, 28, 190
    x = _scale(0, len(steps), left, right)
    y = _scale(lo - pad, hi + pad, bottom, top)
    body = [
        _text(
            left,
            16,
            f"mark price {'(' + contract.price + ') ' if contract.price else ''}{'' if contract.is_inverse else 'per lot, '}before the story (0) and after each step",
            size=12,
            weight="600",
        )
    ]
    for t in _ticks(lo - pad, hi + pad, 5):
        body += [_line(left, y(t), right, y(t), "#e2e8f0"), _text(left - 6, y(t) + 4, amount(t), anchor="end", size=10)]
    for i in range(len(steps) + 1):
        body.append(_text(x(i), bottom + 14, str(i), anchor="middle", size=10))
    body.append(
        f'<rect x="{_f(x(failing + 0.5))}" y="{top}" width="{_f(x(failing + 1) - x(failing + 0.5))}" height="{bottom - top}" fill="{FAIL}" fill-opacity="0.08"/>'
    )
    body.append(_text(x(failing + 1) - 4, top + 12, "fails", anchor="end", size=10, fill=FAIL, weight="600"))
    points = [(x(0), y(marks[0]))]
    for i in range(1, len(marks)):
        points += [(x(i), y(marks[i - 1])), (x(i), y(marks[i]))]
    path = " ".join(f"{_f(a)},{_f(b)}" for a, b in points)
    body.append(f'<polyline points="{path}" fill="none" stroke="#0f172a" stroke-width="2"/>')
    for i, s in enumerate(steps, start=1):
        body += _step_markers(s, x(i), y(marks[i]))
    body += _price_legend(bottom + 30)
    return _svg(bottom + 40, "price path with liquidation markers", body)


def _step_markers(s: Step, cx: float, cy: float) -> list[str]:
    out = []
    liquidated = [o.account for o in s.outcomes if isinstance(o, Liquidated) and worth_showing(o)]
    bankrupt = [o.account for o in s.outcomes if isinstance(o, Bankrupt)]
    if liquidated:
        out.append(f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="6" fill="#f59e0b" stroke="#92400e"/>')
    if bankrupt:
        out.append(
            f'<path d="M{_f(cx - 5)},{_f(cy - 5)} L{_f(cx + 5)},{_f(cy + 5)} M{_f(cx - 5)},{_f(cy + 5)} L{_f(cx + 5)},{_f(cy - 5)}" stroke="{FAIL}" stroke-width="2.5"/>'
        )
    names = ", ".join(dict.fromkeys(liquidated + bankrupt))
    if names:
        room = WIDTH - cx > 12 + 6 * len(names)
        out.append(
            _text(cx + 8 if room else cx - 8, cy - 8, names, anchor="start" if room else "end", size=10, fill="#92400e")
        )
    return out


def _price_legend(y: float) -> list[str]:
    return [
        f'<circle cx="70" cy="{_f(y - 4)}" r="5" fill="#f59e0b" stroke="#92400e"/>',
        _text(80, y, "liquidated", size=10),
        f'<path d="M150,{_f(y - 8)} L158,{_f(y)} M150,{_f(y)} L158,{_f(y - 8)}" stroke="{FAIL}" stroke-width="2.5"/>',
        _text(164, y, "bankrupt (equity below zero at the fill)", size=10),
    ]


def equity_rows(policy: Policy, steps: Sequence[Step], failing: int) -> str:
    """Each trader's equity before the story and after each step: one row per trader, own scale."""
    names = [a.name for a in steps[0].before.traders]
    books = [steps[0].before] + [s.after for s in steps]
    row_h, top, left, right = 46, 26, 96, WIDTH - 150
    x = _scale(0, len(steps), left, right)
    body = [_text(8, 16, "equity per trader from its first deposit, each row on its own scale", size=12, weight="600")]
    for r, name in enumerate(names):
        values = [equity(policy.margin, b.account(name)) for b in books]
        body += _equity_row(
            name, values, top + r * row_h, row_h, x, left, right, ACCOUNT_COLOURS[r % len(ACCOUNT_COLOURS)]
        )
    bottom = top + len(names) * row_h
    for i in range(len(steps) + 1):
        body.append(_text(x(i), bottom + 10, str(i), anchor="middle", size=10))
    body.append(_line(x(failing + 1), top, x(failing + 1), bottom + 14, FAIL, dash="4 3"))
    body.append(_text(x(failing + 1), bottom + 26, "fails", anchor="middle", size=10, fill=FAIL, weight="600"))
    body.append(_text(right + 8, bottom + 10, "(the failing step)", size=10, fill="#64748b"))
    return _svg(bottom + 32, "equity per account over the events", body)


def _equity_row(
    name: str, values: list[Any], y0: float, h: float, x: Callable[[Any], float], left: float, right: float, colour: str
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
    end = change((values[-2], values[-1])) if len(values) > 1 else amount(values[-1])
    out.append(_text(right + 8, y0 + h / 2 + 4, end, size=10, fill=FAIL if values[-1] < 0 else "#334155"))
    return out


def waterfall_usage(steps: Sequence[Step]) -> str | None:
    """Each bankruptcy's deficit split into the waterfall layers that paid it (None if none)."""
    rows = bankruptcies(steps)
    if not rows:
        return None
    left, right, top, row_h = 150, WIDTH - 16, 26, 46
    body = [
        _text(
            8, 16, "who paid each deficit: waterfall layers, in order (bar = the whole deficit)", size=12, weight="600"
        )
    ]
    for r, b in enumerate(rows):
        body += _waterfall_row(b, top + r * row_h, left, right)
    return _svg(top + len(rows) * row_h + 6, "waterfall usage", body)


def _waterfall_row(b: Any, y0: float, left: float, right: float) -> list[str]:
    out = [_text(left - 8, y0 + 16, f"step {b.step_index + 1}: {b.account}", anchor="end", size=11, weight="600")]
    out.append(_text(left - 8, y0 + 30, f"deficit {amount(b.deficit)}", anchor="end", size=10))
    parts = [(f"{i + 1}. {layer}", layer, covered) for i, layer, covered in b.layers]
    if b.unpaid:
        parts.append(("unpaid", "unpaid", b.unpaid))
    total = sum(p[2] for p in parts) or 1
    x = _scale(0, total, left, right)
    at, key_x = 0, left
    for label, layer, covered in parts:
        colour = LAYER_COLOURS.get(layer, "#cbd5e1")
        w = x(at + covered) - x(at)
        out.append(
            f'<rect x="{_f(x(at))}" y="{_f(y0 + 4)}" width="{_f(max(w, 1.5))}" height="20" fill="{colour}" stroke="#fff"/>'
        )
        text = f"{label} {amount(covered)}"
        out.append(f'<rect x="{_f(key_x)}" y="{_f(y0 + 30)}" width="9" height="9" fill="{colour}"/>')
        out.append(_text(key_x + 13, y0 + 39, text, size=10))
        key_x += 13 + 6.2 * len(text) + 14
        at += covered
    return out


__all__ = ["equity_rows", "price_path", "waterfall_usage"]

"""Which policies' transitions read the book's clock, and the clock a lemma's free book is built at.

The book's clock (``Book.clock``, the number of events before) is structural: a concrete integer the
engine branches on in Python. Three rules read it, each through ``clock mod W`` for a window W
(and the clawback also through ``clock == 0``):

- OKX's fund-drawdown ADL trigger (``[deficit.fund_drawdown] window_events``, ``rules/fund_drawdown.py``:
  the window's sum restarts and its sample count is ``clock mod W + 1``);
- the clawback window (``[[deficit]] kind = "clawback"``, ``window_events``, ``rules/clawback.py``:
  every account's window PnL restarts at a clock that is a positive multiple of W);
- percolator's warm-up (``[[deficit]] kind = "haircut_ratio"``, ``warmup_events``,
  ``rules/haircut_ratio.py``: profit vests at the end of an event whose clock + 1 is a multiple of W),
  unless its release is linear (``release = "linear"``: a slope's worth vests every event, the clock
  unread; both percolator presets).

A lemma proved on a free book (``story.symbolic_book``, clock 0) therefore speaks of the first
event's transition only where the policy has one of these: the transitions at clocks 1, 2, ... are
other terms (tests/solver/test_clock_turns.py). An argument that claims K events from such lemmas
must ask them at each clock 0..K-1, or at clocks whose transitions are every clock's (``every``) to
claim any K; ``compositional.attempt`` does (``clocks`` says which), building every free book of the
argument at that clock (``at``) (docs/solver-notes.md#any-k-at-every-clock-session-20).

``windows`` is derived from the policy's fields; tests/solver/test_clock_turns.py pins, on every
bundled preset and example, that a policy with no window builds the same terms at every clock, so a
new rule that reads the clock without being named here fails there.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator

from solvent.rules.policy import Policy
from solvent.rules.waterfall import Clawback, HaircutRatio, Release

_CLOCK: contextvars.ContextVar[int] = contextvars.ContextVar("solvent_lemma_clock", default=0)


def windows(policy: Policy) -> tuple[int, ...]:
    """The windows (in events) of the rules of ``policy`` that read the book's clock; () where none does."""
    found: list[int] = []
    for layer in policy.deficit:
        drawdown = getattr(layer, "fund_drawdown", None)
        if drawdown is not None:
            found.append(drawdown.window_events)
        if isinstance(layer, Clawback):
            found.append(layer.window_events)
        # a warm-up reads the clock at a window's end only where profit vests then (``vest``,
        # ``settle_reserves``); a linear release vests a slope's worth every event, whatever the clock
        if isinstance(layer, HaircutRatio) and layer.warmup_events is not None and layer.release is not Release.LINEAR:
            found.append(layer.warmup_events)
    return tuple(found)


def reads_clock(policy: Policy) -> bool:
    """Whether some transition of ``policy`` branches on the book's clock."""
    return bool(windows(policy))


#: the most clocks an argument is asked at to cover every clock (``every``): okx's window of 8 is
#: 8 argument runs; okx-2018's clawback window of 10,080 is out of reach (its K asked instead)
EVERY_CAP = 16


def every(policy: Policy) -> tuple[int, ...] | None:
    """Clocks whose transitions are every clock's: each rule reads only ``clock mod W`` (W dividing
    P, the windows' least common multiple) and, the clawback, ``clock == 0``. So clock c builds the
    terms of c mod P, 0..P-1; with a clawback, a positive c those of the positive ((c - 1) mod P) + 1,
    so 0..P. None where that is more than ``EVERY_CAP`` clocks (or the policy reads no clock)."""
    found = windows(policy)
    if not found:
        return None
    period = math.lcm(*found)
    clawback = any(isinstance(layer, Clawback) for layer in policy.deficit)
    count = period + 1 if clawback else period
    return tuple(range(count)) if count <= EVERY_CAP else None


def clocks(policy: Policy, events: int) -> tuple[tuple[int, ...], bool]:
    """The clocks a lemma about one event is asked at for a question of ``events`` events, and
    whether they cover every clock (the verdict any K). No clock read: clock 0 alone, any K (every
    clock builds the same terms). Otherwise, one event: clock 0 (the start), K <= 1, as asked before
    (a K = 1 question's units unchanged); more: every clock's representatives (``every``), any K,
    where they are few, else the question's own, 0..K-1 (the k-th event runs at clock k - 1), K <= K."""
    if not reads_clock(policy):
        return (0,), True
    if events <= 1:
        return (0,), False
    covering = every(policy)
    if covering is not None:
        return covering, True
    return tuple(range(events)), False


def current() -> int:
    """The clock free books are built at now (0 unless inside ``at``)."""
    return _CLOCK.get()


@contextlib.contextmanager
def at(clock: int) -> Iterator[None]:
    """Build every free book (``story.symbolic_book``) at ``clock`` within this block."""
    token = _CLOCK.set(clock)
    try:
        yield
    finally:
        _CLOCK.reset(token)

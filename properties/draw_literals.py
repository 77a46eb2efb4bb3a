"""The integer literals a story search's draws may use, frozen (``search.same_draws_in_any_process``).

Hypothesis (6.131 on) mixes integer literals from local source into its draws, taking them in the
order it iterates its pool. The search once read that pool from the source of the engine's rules
and the strategies on every run, so any literal added there moved every draw of every policy: the
lending work's literals (the index's 1.0, the pump, the Mango incident's prices) made the search
miss the planted haircut-last-layer bug on a policy that lends nothing. The pool is therefore
written down here, in the order the search met it before lending (the scan of ``solvent.rules``
and ``solvent.properties`` at 82c864e, as hypothesis iterated it): the tier floors, rates, marks
and scenario prices of that code. A policy that lends nothing draws from it exactly as before; a
literal joins only by an edit here, a deliberate change of every seed's stories. A policy that
lends draws from the whole scan of today's source, lending's literals included.
"""

from __future__ import annotations

#: the pool, in hypothesis's iteration order (an order hypothesis reads: do not sort)
BEFORE_LENDING: tuple[int, ...] = (
    80_000,
    11_400_000_000,
    100_000_000,
    5_000_000_000,
    9_600,
    4_096,
    8_200,
    5_000,
    8_844,
    -500,
    10_000,
    250_000,
    400,
    -1_000,
    9_500,
    -100,
    36_000,
    20_000,
    4_000,
    100_000,
    500_000,
    9_000,
    -7_000,
    300,
    9_900,
    -2_000,
    37_555,
    7_480,
    3_000,
    3_130,
    -5_000,
    1_000_000,
    200_000,
    40_000,
    4_168_515,
    2_500,
    5_700,
    31_271_750,
    200,
    -3_000,
    7_800,
    2_000,
    50_000,
    -300,
    -9_900,
    3_800,
    -9_000,
    986,
    7_900,
    1_500,
    1_250,
    100,
    9_700,
    7_400,
    1_000,
    145_260,
    -10_000,
    6_900,
    500,
    91_000,
    1_400,
    42_105,
    250,
)

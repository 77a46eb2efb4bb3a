"""The payer claims at a funding payment on Hyperliquid, false inside the proof's bounds: the gap
spread around the vault's lots (session 27, helper fundsplit; docs/solver-notes.md#the-payer-claims-on-mark-and-funding-by-event-kind-session-27).

At a sweep that moved no mark the vault's ADL closes at the bankruptcy price, the deficit spread
over the lots the queue can reach, ``|S| − min(|S|, the vault's lots opposite)`` (session 25's
decision, ``rules.adl.reach``; docs/model.md#the-gap-is-spread-over-the-lots-adl-can-close), and
per fill (session 26). Two stories, each inside the assumptions of a funding question's scope
(``book_assumptions``), each replayed here on the concrete engine and pinned on z3's ``transition``
(tests/differential/test_hyperliquid_funding_spread_z3.py):

- **N = 2** (the smallest): alice long 3 at 10 on 1, dave short 3 on 1, the vault short 2 on 0, the
  order book long 2; funding at 40,000 ppm (the preset's cap) takes alice to −1. The vault has nothing
  to cover; the reach was 3 − 2 = 1 lot, but dave closes all 3 of her lots (he holds 3) and paid
  ``⌈1 × 3 / 1⌉ = 3`` for her deficit of 1, after receiving 1: he ended at −1. The lead's "found after
  landing" of session 26 (the spread where the queue's traders close the whole position), breaking
  no-negative-equity, loss-bounded-by-collateral and claims-backed. **Mended in session 27**
  (``rules.adl.unreached``, helper adlreach: the pools keep only the lots the fills leave): dave's 3
  lots close the whole position, the vault keeps its 2, and he pays her 1 and ends at 1 (at 0 on 0);
  the old count is the named mutant (:func:`test_the_count_before_session_27_is_the_finding`).
- **N = 4**: the spread where the queue *cannot* close the whole position, once the vault spent its
  cash: alice long 100 and carol long 40 at 1,000, dave short 100, bob short 5, the vault short 35 on
  0, each trader at its initial margin; funding at 40,000 ppm. The vault's 1,400 covers alice's
  1,500 but 100; dave's fills pay that (dave's 100 and bob's 5 close her 100 lots: no lot left out,
  100, since session 27; 154 before, over 65 lots, the 54 beyond it the vault's). Carol's deficit of
  600 then has no vault cash left and is spread over the 5 lots bob holds (the vault's 35 are what the
  fills leave, closed at the mark): bob, who received 200, pays 600 and ends at −275 (546 and −221
  before session 27, the vault's 54 towards it). The cost
  model.md predicted for "a takeover vault under a bankruptcy price" (session 21's BitMEX story,
  which retired the spread there).

Neither is a venue's documented rule: Hyperliquid's ADL closes at the previous mark (venues.md),
the bankruptcy price at a funding sweep and the spread around the vault's lots are the model's
decisions (sessions 25, 26). Findings for the lead; nothing changed. Mutant: no spread around the
vault's lots (``rules.adl.unreached_lots`` None: each fill's share over the whole position): the
first story holds, the second fails on carol instead (a residual: nobody pays the vault's lots' share).
"""

from __future__ import annotations

import pytest

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules import adl
from solvent.rules.engine import run
from solvent.rules.events import Funding
from solvent.rules.presets import load_preset
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds, for_policy
from tests.rules.test_fidelity_fund_bankruptcy import opened
from tests.rules.test_fidelity_trader_funding_adl import adl_paid

HYPERLIQUID = load_preset("hyperliquid")
CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed")
RATE = 40_000


def scope(accounts: int) -> Bounds:
    return for_policy(Bounds(accounts=accounts, events=1, event_kinds=("funding",), isolated=0), HYPERLIQUID)


def two(dave: int = 1):
    """The N = 2 book: alice long 3 at 10 on 1, dave short 3 on ``dave``, the vault short 2 on 0, the book long 2."""
    rows = (("alice", 3, 1), ("dave", -3, dave), ("backstop_vault", -2, 0), ("liquidity", 2, 0))
    return opened(10, ("alice", "dave"), rows)


def four(bob: int = 125):
    """The N = 4 book at 1,000, every trader at its initial margin (2.5%) but bob on ``bob``."""
    rows = (
        ("alice", 100, 2_500),
        ("carol", 40, 1_000),
        ("dave", -100, 2_500),
        ("bob", -5, bob),
        ("backstop_vault", -35, 0),
    )
    return opened(1_000, ("alice", "carol", "dave", "bob"), rows)


def step(book, policy=HYPERLIQUID):
    return run(policy, book, [Funding(RATE)])[-1]


def holds(s) -> list[bool]:
    return [bool(catalog.get(c).holds(StepView.of(HYPERLIQUID, s))) for c in CLAIMS]


def test_the_books_are_inside_the_funding_questions_assumptions() -> None:
    for book, n in ((two(), 2), (four(), 4)):
        assert [a.name for a in book_assumptions(HYPERLIQUID, book, scope(n)) if not a.holds] == [], n


class TestTheSmallestStory:
    def test_dave_pays_her_deficit_since_session_27(self) -> None:
        s = step(two())
        assert adl_paid(s) == {"dave": 1}
        d = s.after.account("dave")
        assert (d.cash_quote, d.size_lots) == (1 + 1 - 1, 0)
        assert holds(s) == [True, True, True]

    @pytest.mark.parametrize(("cash", "end"), [(0, 0), (1, 1)])
    def test_at_zero_and_above(self, cash: int, end: int) -> None:
        s = step(two(cash))
        assert adl_paid(s) == {"dave": 1}
        assert s.after.account("dave").cash_quote == end
        assert holds(s)[:2] == [True, True]


def test_the_count_before_session_27_is_the_finding(monkeypatch) -> None:
    """The named mutant, ``adl.unreached`` as before session 27 (``min(|S|, P)``): dave pays 3 for her 1 and
    ends at −1 on 1, at 0 on 2 (the finding's boundary), and bob pays 546 at N = 4 (−221)."""
    from tests.rules.test_adl_reach import unreached_before_session_27

    monkeypatch.setattr(adl, "unreached", unreached_before_session_27)
    for cash, end, held in ((1, -1, False), (2, 0, True)):
        s = step(two(cash))
        assert (adl_paid(s), s.after.account("dave").cash_quote, holds(s)[:2]) == ({"dave": 3}, end, [held, held])
    s = step(four())
    assert (adl_paid(s), s.after.account("bob").cash_quote) == ({"dave": 154, "bob": 546}, -221)


class TestTheVaultSpentItsCash:
    def test_bob_pays_600_for_five_lots(self) -> None:
        s = step(four())
        assert adl_paid(s) == {"dave": 100, "bob": 600}
        b = s.after.account("bob")
        assert (b.cash_quote, b.size_lots) == (125 + 200 - 600, 0)
        assert holds(s) == [False, False, False]

    @pytest.mark.parametrize(("cash", "end", "held"), [(399, -1, False), (400, 0, True), (401, 1, True)])
    def test_one_quantum_either_side_of_zero(self, cash: int, end: int, held: bool) -> None:
        s = step(four(cash))
        assert s.after.account("bob").cash_quote == end
        assert holds(s)[:2] == [held, held]


def test_without_the_spread_the_first_holds_and_the_second_fails_on_carol(monkeypatch) -> None:
    """The mutant: no spread around the vault's lots (``rules.adl.unreached_lots`` None, as where no pool
    holds lots: each fill's share over the whole position). Dave pays her deficit, 1, and ends at 1: the
    claims hold. Bob pays ⌈600 × 5 / 40⌉ = 75 and ends at 250, but the vault's 35 lots leave 525 that
    nobody pays: carol ends at −525 with a residual (session 16's failure, which the spread was made
    for), so at N = 4 the claims fail either way while the vault has no cash for its lots' share."""
    monkeypatch.setattr(adl, "unreached_lots", lambda ctx, layer, bankrupt, pools: None)
    s = step(two())
    assert (adl_paid(s), s.after.account("dave").cash_quote) == ({"dave": 1}, 1)
    assert holds(s) == [True, True, True]
    s = step(four())
    assert adl_paid(s) == {"dave": 100, "bob": 75}
    assert [s.after.account(n).cash_quote for n in ("bob", "carol")] == [250, -525]
    assert holds(s) == [False, False, False]

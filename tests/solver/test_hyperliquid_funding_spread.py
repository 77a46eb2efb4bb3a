"""The payer claims at a funding payment on Hyperliquid: found false inside the proof's bounds by the gap
spread around the vault's lots (session 27, helper fundsplit;
docs/solver-notes.md#the-payer-claims-on-mark-and-funding-by-event-kind-session-27), true on both stories
since session 28 (docs/solver-notes.md#at-a-funding-sweep-each-payer-its-fills-share-session-28).

At a sweep that moved no mark the trader's ADL closes at the bankruptcy price (session 25), per fill
(session 26). Until session 28 the deficit was spread over the lots the queue can reach, around the
vault's lots (``rules.adl.reach``; docs/model.md#the-gap-is-spread-over-the-lots-adl-can-close); since,
it is over the whole position and the vault takes over what the fills leave. Two stories, each inside
the assumptions of a funding question's scope (``book_assumptions``), each replayed here on the concrete
engine and pinned on z3's ``transition`` (tests/differential/test_hyperliquid_funding_spread_z3.py):

- **N = 2** (the smallest): alice long 3 at 10 on 1, dave short 3 on 1, the vault short 2 on 0, the
  order book long 2; funding at 40,000 ppm (the preset's cap) takes alice to −1. The vault has nothing
  to cover; the reach was 3 − 2 = 1 lot, but dave closes all 3 of her lots (he holds 3) and paid
  ``⌈1 × 3 / 1⌉ = 3`` for her deficit of 1, after receiving 1: he ended at −1. The lead's "found after
  landing" of session 26 (the spread where the queue's traders close the whole position), breaking
  no-negative-equity, loss-bounded-by-collateral and claims-backed. **Mended in session 27**
  (``rules.adl.unreached``, helper adlreach: the pools keep only the lots the fills leave): dave's 3
  lots close the whole position, the vault keeps its 2, and he pays her 1 and ends at 1 (at 0 on 0);
  the old count is the named mutant (:func:`test_the_count_before_session_27_is_the_finding`). Since
  session 28 there is no spread at a funding sweep: dave's 3 fills pay ``⌈1 × 3 / 3⌉ = 1`` all the same.
- **N = 4**: where the queue *cannot* close the whole position, once the vault spent its cash:
  alice long 100 and carol long 40 at 1,000, dave short 100, bob short 5, the vault short 35 on 0,
  each trader at its initial margin; funding at 40,000 ppm. The vault's 1,400 covers alice's 1,500
  but 100; dave's fills pay that. Carol's deficit of 600 then has no vault cash left. Until session
  28 it was spread over the 5 lots bob holds (the vault's 35 being what the fills leave, closed at
  the mark): bob, who received 200, paid 600 and ended at −275 (546 and −221 before session 27).
  **Since session 28** (the lead's decision, ``rules.adl.pool_takes_over`` and
  ``rules.bankruptcy.vault_takes_over``; docs/model.md#session-28-at-a-funding-sweep-the-vault-takes-over-what-adl-leaves)
  no spread at a funding sweep: bob pays his fills' share at carol's bankruptcy price,
  ``⌈600 × 5 / 40⌉ = 75``, and ends at 250; the 525 her other 35 lots leave is the vault's, which
  holds exactly those 35 opposite and closes them: it ends flat at −525 (``claims-backed`` false on
  the vault's part; the payer claims hold). Named mutants: session 27's rule (the spread back, no
  takeover: bob at −275) and the takeover dropped (carol's −525 a residual, as without the spread).

Neither the bankruptcy price at a funding sweep nor the takeover is a venue's documented rule:
Hyperliquid's ADL closes at the previous mark (venues.md); the bankruptcy price at a funding sweep
(session 25), its rounding per fill (session 26) and the vault taking over what the fills leave
(session 28) are the model's decisions.
"""

from __future__ import annotations

import pytest

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules import adl, bankruptcy
from solvent.rules.engine import run
from solvent.rules.events import Funding
from solvent.rules.ledger import Reason
from solvent.rules.outcomes import Residual
from solvent.rules.presets import load_preset
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds, for_policy
from tests.rules.test_fidelity_fund_bankruptcy import opened
from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught
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


def session_27(monkeypatch) -> None:
    """Session 27's rule, the named mutant: the gap spread around the vault's lots at a funding sweep
    too, nothing taken over (``pool_takes_over`` false everywhere, as a mark move's)."""
    monkeypatch.setattr(bankruptcy, "pool_takes_over", lambda ctx, layer, pools: False)


def taken_over(s) -> int:
    return sum(t.amount_quote for t in s.transfers if t.reason is Reason.VAULT_TAKEOVER)


def test_the_count_before_session_27_is_the_finding(monkeypatch) -> None:
    """The named mutants of sessions 26-27 together: the spread at a funding sweep (:func:`session_27`) and
    ``adl.unreached`` as before session 27 (``min(|S|, P)``): dave pays 3 for her 1 and ends at −1 on 1, at 0
    on 2 (the finding's boundary), and bob pays 546 at N = 4 (−221)."""
    from tests.rules.test_adl_reach import unreached_before_session_27

    session_27(monkeypatch)
    monkeypatch.setattr(adl, "unreached", unreached_before_session_27)
    for cash, end, held in ((1, -1, False), (2, 0, True)):
        s = step(two(cash))
        assert (adl_paid(s), s.after.account("dave").cash_quote, holds(s)[:2]) == ({"dave": 3}, end, [held, held])
    s = step(four())
    assert (adl_paid(s), s.after.account("bob").cash_quote) == ({"dave": 154, "bob": 546}, -221)


def test_session_27s_spread_charged_bob_600(monkeypatch) -> None:
    """The named mutant :func:`session_27`: carol's 600 spread over bob's 5 lots, bob at −275, nothing
    taken over; one quantum either side of his zero on 399, 400, 401."""
    session_27(monkeypatch)
    s = step(four())
    assert (adl_paid(s), taken_over(s)) == ({"dave": 100, "bob": 600}, 0)
    assert s.after.account("bob").cash_quote == 125 + 200 - 600
    assert holds(s) == [False, False, False]
    for cash, end in ((399, -1), (400, 0), (401, 1)):
        assert step(four(cash)).after.account("bob").cash_quote == end


def four_at(carol: int):
    """:func:`four` with carol on ``carol``."""
    rows = (
        ("alice", 100, 2_500),
        ("carol", 40, carol),
        ("dave", -100, 2_500),
        ("bob", -5, 125),
        ("backstop_vault", -35, 0),
    )
    return opened(1_000, ("alice", "carol", "dave", "bob"), rows)


class TestTheVaultTakesOver:
    """Since session 28: each payer its fills' share at carol's bankruptcy price, the vault the rest."""

    def test_bob_pays_his_fills_share_and_the_vault_the_rest(self) -> None:
        s = step(four())
        assert adl_paid(s) == {"dave": 100, "bob": 75}  # ⌈100 × 100 / 100⌉; ⌈600 × 5 / 40⌉
        assert taken_over(s) == 525
        b, v, c = (s.after.account(n) for n in ("bob", "backstop_vault", "carol"))
        assert (b.cash_quote, b.size_lots) == (125 + 200 - 75, 0)
        assert (v.cash_quote, v.size_lots) == (-525, 0)  # its 35 lots were what the fills left
        assert (c.cash_quote, c.size_lots) == (0, 0)
        assert not any(isinstance(o, Residual) for o in s.outcomes)
        assert holds(s) == [True, True, False]  # claims-backed: the vault below zero, flat

    @pytest.mark.parametrize(
        ("carol", "bob", "vault"),
        [(999, 76, -525), (1_000, 75, -525), (1_001, 75, -524)],  # D = 601, 600, 599
    )
    def test_bobs_share_one_quantum_either_side(self, carol: int, bob: int, vault: int) -> None:
        """⌈D × 5 / 40⌉ at D = 600 exactly 75; at 601 it rounds up to 76, at 599 to 75; the vault pays D − that."""
        s = step(four_at(carol))
        assert (adl_paid(s)["bob"], taken_over(s)) == (bob, -vault)
        assert (s.after.account("bob").cash_quote, s.after.account("backstop_vault").cash_quote) == (325 - bob, vault)
        assert holds(s)[:2] == [True, True]

    @pytest.mark.parametrize(
        ("carol", "paid", "vault", "backed"),
        [(1_598, {"dave": 100, "bob": 1}, (-1, 0), False), (1_599, {"dave": 100, "bob": 1}, (0, 0), True)],
    )
    def test_the_vault_one_quantum_either_side_of_zero(self, carol, paid, vault, backed) -> None:
        """Carol at −2 after the payment: bob pays ⌈2 × 5 / 40⌉ = 1 and the vault 1, at −1; at −1 bob's 1 is it all,
        the vault at 0; at 0 (on 1,600) she is not bankrupt and the vault takes her 40 lots over, long 5."""
        s = step(four_at(carol))
        v = s.after.account("backstop_vault")
        assert (adl_paid(s), (v.cash_quote, v.size_lots), holds(s)) == (paid, vault, [True, True, backed])
        s = step(four_at(1_600))
        v = s.after.account("backstop_vault")
        assert (adl_paid(s), (v.cash_quote, v.size_lots), holds(s)) == ({"dave": 100}, (0, 5), [True, True, True])


def test_without_the_takeover_carol_keeps_a_residual(monkeypatch) -> None:
    """The mutant: the takeover dropped (``vault_takes_over`` doing nothing), the spread still gone: bob pays
    75, and the 525 the vault's 35 lots leave is nobody's: carol ends at −525 with a residual (session 16's
    failure, which the spread was made for). The N = 2 story holds either way (nothing is left there)."""
    monkeypatch.setattr(bankruptcy, "vault_takes_over", lambda policy, ctx, name: ctx)
    s = step(two())
    assert (adl_paid(s), s.after.account("dave").cash_quote, holds(s)) == ({"dave": 1}, 1, [True, True, True])
    s = step(four())
    assert adl_paid(s) == {"dave": 100, "bob": 75}
    assert [s.after.account(n).cash_quote for n in ("bob", "carol", "backstop_vault")] == [250, -525, 0]
    assert Residual("carol", 525) in s.outcomes
    assert holds(s) == [False, False, False]


def observe() -> list:
    """Both stories, carol's boundaries, and session 25's story around the vault's 400 lots at a mark move on
    ``price = "bankruptcy"`` (where the spread stays): what each paid by ADL, what the vault took over."""
    from tests.rules.test_fidelity_trader_funding_adl import reach_story

    out = [(adl_paid(s), taken_over(s)) for s in (step(two()), *(step(four_at(c)) for c in (999, 1_000, 1_598)))]
    return [*out, reach_story(-600), reach_story(-999)]


def test_every_mutant_of_pool_takes_over_is_caught(monkeypatch) -> None:
    """Every one-token mutant of ``rules.adl.pool_takes_over`` (its ``not``, its ``and``s): the takeover at a
    mark move or the spread at a funding sweep."""
    assert_every_mutant_is_caught(monkeypatch, adl, "pool_takes_over", observe, at_least=2, importers=(bankruptcy,))

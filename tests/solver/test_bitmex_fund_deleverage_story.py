"""A finding (session 23) and its fix: BitMEX's per-trader claims were false at K = 2 moves, by the
fund's own deleveraging of a deficit it took over; since the lead's decision (option (a)) the fund
hands on at most its lots' loss in the move, and the story holds every claim bitmex does not accept.

One move ends with the fund below zero holding lots: alice, short 1,000 lots on her initial margin
(20: 1% of 2,000), goes bankrupt as the lot value doubles (2 → 4); the fund, long 490 with no cash,
pays her its 980 (its lots' gain), sends half its lots to the book before the turns, and of her
1,000 lots the book takes 955 at the gap ⌈1,000 / 1,000⌉ = 1 a lot; the 45 left close into the
fund at the mark and it takes over the 45 they leave unpaid (``bankruptcy.fund_takes_over``): the
fund at −45, still long 200. Charlie, short 200 on 600, loses 400 on the move and is not
liquidated (200 of equity against a maintenance of 4).

The session-20 rule (kept here as a named mutant, :func:`session_20_rule`): the next sweep started with
the fund's own bankruptcy, its 200 lots deleveraged against the traders opposite at
``⌈D / |S|⌉ = ⌈45 / 200⌉ = 1`` a lot beyond the mark whatever the move: charlie, the only one, bought
his 200 lots back at 1 a lot above an unchanged mark and ended flat at his cash less 600, at −1 on
599: ``no-negative-equity`` and ``loss-bounded-by-collateral`` failed. The deficit came from alice's
short, and charlie, short like her, paid it through the fund's long lots; BitMEX closes the traders
opposite *the liquidated order* "at the bankruptcy price of the liquidated order"
(docs/venues.md#bitmex-adl) and no trader owes more than the margin posted
(docs/venues.md#bitmex-negative-balances).

The rule now (``rules.pool_bankruptcy``, docs/model.md#the-funds-own-bankruptcy): the fund is
deleveraged only where its lots lost in the move, for ``min(D, L)``, ``L = −S·(M − M_prev)``; the rest
stays its own below zero (the state bitmex accepts in ``insurance-fund-non-negative`` and
``claims-backed``). At the unchanged mark (``L = 0``) it is not deleveraged and unwinds half into the
book; at 4 → 3 its 200 lots lose 200, it is at −245 and hands on 200, 1 a lot, charlie's gain in
that move, and stays at −45.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties import catalog
from solvent.properties.story import Story
from solvent.rules import engine, pool_bankruptcy
from solvent.rules.book import Account, Book, Market, Role
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.margin import equity
from solvent.rules.presets import resolve_policy
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.refinement import replay

BITMEX = resolve_policy("bitmex")
CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral")
#: the question the bench asks (N = 3, K = 3): the story's book and moves are within it
BOUNDS = for_policy(Bounds(accounts=3, events=3), BITMEX)
#: charlie's cash at which he ends the second move at exactly 0
EXACT = 600


def _story(charlie_cash: int, marks: tuple[int, ...] = (4, 4)) -> Story:
    """Alice short 1,000 on 20 and charlie short 200 on ``charlie_cash``, opened at the lot value 2;
    the fund long 490 with no cash, the book long 710; then mark moves to ``marks``."""

    def trader(name: str, cash: int, size: int) -> Account:
        return Account(name=name, cash_quote=cash, size_lots=size, cost_quote=size * 2, principal_quote=cash)

    accounts = (
        trader("alice", 20, -1_000),
        trader("charlie", charlie_cash, -200),
        Account(name="liquidity", role=Role.LIQUIDITY, size_lots=710, cost_quote=1_420),
        Account(name="insurance_fund", role=Role.INSURANCE_FUND, size_lots=490, cost_quote=980),
        *(Account(name=r.value, role=r) for r in (Role.FEE_ACCOUNT, Role.BACKSTOP_VAULT, Role.VENUE, Role.CLEARING)),
    )
    book = Book(market=Market(name="PERP", mark_quote=2, previous_mark_quote=2), accounts=accounts)
    return Story(
        attrs.evolve(book, net_deposits_quote=20 + charlie_cash), tuple(MarkPrice(price_quote=m) for m in marks)
    )


def _after(story: Story) -> list[Book]:
    books, book = [], story.book
    for event in story.events:
        book = engine.step(BITMEX, book, event).after
        books.append(book)
    return books


def test_the_first_move_leaves_the_fund_below_zero_holding_lots_and_charlie_solvent() -> None:
    first, _ = _after(_story(EXACT))
    fund, charlie = first.role(Role.INSURANCE_FUND), first.account("charlie")
    assert (fund.cash_quote, fund.size_lots) == (-45, 200)
    assert (charlie.size_lots, equity(BITMEX.margin, charlie)) == (-200, 200)  # not liquidated
    assert first.account("alice").size_lots == 0 and first.account("alice").cash_quote == 0


def session_20_rule(monkeypatch) -> None:
    """The rule before session 23 as a mutant of today's, with its very terms: the fund's trigger its held
    lots and its balance below zero alone (``lots_lose`` read as ``S ≠ 0``; since session 25 the trigger
    reads ``lots_lose``, before it ``lots_lost > 0``, with ``lots_lost`` 1) and no bound on what it hands on
    (``owed`` None: its whole deficit, as a trader's)."""
    monkeypatch.setattr(pool_bankruptcy, "lots_lose", lambda ctx, pool: ctx.account(pool).size_lots != 0)
    monkeypatch.setattr(pool_bankruptcy, "lots_lost", lambda ctx, pool: 1)
    monkeypatch.setattr(pool_bankruptcy, "min_", lambda deficit, lost: None)


def _failing(story: Story) -> dict[str, int]:
    """Every catalog claim the story breaks, with the step it first fails at (replayed within the
    prover's bounds and start, N = 3, K = 3)."""
    out = {}
    for claim in catalog.CATALOG:
        result = replay(BITMEX, catalog.get(claim), story, BOUNDS)
        assert result.outside == () and not result.rejected
        if result.violates:
            out[claim] = result.failed_at
    return out


@pytest.mark.parametrize("cash", [EXACT - 1, EXACT, EXACT + 1])
def test_every_claim_bitmex_does_not_accept_holds_at_the_unchanged_mark(cash: int) -> None:
    """The second move at the same mark: the fund's lots lost nothing, so it is not deleveraged (it
    unwinds half into the book, at −45); charlie keeps his 200 lots and his cash. What fails is the
    fund below zero from the first move, which bitmex accepts."""
    story = _story(cash)
    failing = _failing(story)
    assert set(failing) <= set(BITMEX.accepts), failing
    assert {"claims-backed", "insurance-fund-non-negative"} <= set(failing)
    assert not set(CLAIMS) & set(failing)
    second = _after(story)[1]
    fund, charlie = second.role(Role.INSURANCE_FUND), second.account("charlie")
    assert (fund.cash_quote, fund.size_lots) == (-45, 100)
    assert (charlie.size_lots, charlie.cash_quote) == (-200, cash - 400)


@pytest.mark.parametrize("claim", CLAIMS)
def test_a_winner_pays_at_most_its_gain_in_the_move(claim: str) -> None:
    """The second move halves back towards charlie (4 → 3): he gains 200, the fund's 200 lots lose 200
    and it is at −245; it hands on min(245, 200) = 200, 1 a lot, the move: charlie ends flat at 199,
    the fund at −45, what it took over from alice."""
    story = _story(EXACT - 1, (4, 3, 3))
    result = replay(BITMEX, catalog.get(claim), story, BOUNDS)
    assert result.outside == () and not result.rejected and not result.violates
    second = result.steps[1]
    [paid] = [t for t in second.transfers if t.reason is Reason.ADL]
    assert (paid.source, paid.destination, paid.amount_quote) == ("charlie", "insurance_fund", 200)
    charlie, fund = second.after.account("charlie"), second.after.role(Role.INSURANCE_FUND)
    assert (charlie.size_lots, charlie.cash_quote) == (0, EXACT - 1 - 400)
    assert (fund.size_lots, fund.cash_quote) == (0, -45)


@pytest.mark.parametrize("claim", CLAIMS)
@pytest.mark.parametrize(("cash", "end"), [(EXACT, 0), (EXACT - 1, -1), (EXACT + 1, 1)])
def test_the_session_20_rule_takes_charlie_below_zero(claim: str, cash: int, end: int, monkeypatch) -> None:
    """The mutant: at the same mark the fund is deleveraged against charlie at ⌈45 / 200⌉ = 1 a lot
    beyond the mark, 200 for a move of 0; he ends flat at his cash less 600, the claim failing by the
    quantum below it."""
    session_20_rule(monkeypatch)
    story = _story(cash)
    result = replay(BITMEX, catalog.get(claim), story, BOUNDS)
    assert result.outside == () and not result.rejected
    assert bool(result.violates) == (end < 0)
    second = result.steps[1]
    charlie = second.after.account("charlie")
    assert (charlie.size_lots, charlie.cash_quote) == (0, end)
    [paid] = [t for t in second.transfers if t.reason is Reason.ADL]
    assert (paid.source, paid.destination, paid.amount_quote) == ("charlie", "insurance_fund", 200)
    assert claim not in BITMEX.accepts


@pytest.mark.parametrize("claim", CLAIMS)
def test_the_session_20_rule_charges_a_winner_beyond_the_move(claim: str, monkeypatch) -> None:
    """The mutant at 4 → 3: charlie gains 200 and the fund, at −245, charges him ⌈245 / 200⌉ = 2 a lot
    for a move of 1: 400; he stays flat at −1."""
    session_20_rule(monkeypatch)
    story = _story(EXACT - 1, (4, 3, 3))
    result = replay(BITMEX, catalog.get(claim), story, BOUNDS)
    assert result.outside == () and not result.rejected and result.violates
    assert result.failed_at == 1
    assert result.steps[1].after.account("charlie").cash_quote == EXACT - 1 - 600


@pytest.mark.parametrize("claim", CLAIMS)
def test_without_the_funds_own_deleveraging_charlie_keeps_his_lots(claim: str, monkeypatch) -> None:
    """The fund's own bankruptcy mutated away (``deleverage_pools`` a no-op): the fund stays at −45
    holding its lots, charlie keeps his 200 lots and his 199 of equity; the story breaks neither
    claim (as with the rule: at an unchanged mark its lots lost nothing)."""
    monkeypatch.setattr(engine, "deleverage_pools", lambda policy, ctx: ctx)
    result = replay(BITMEX, catalog.get(claim), _story(EXACT - 1), BOUNDS)
    assert not result.violates
    charlie = result.steps[-1].after.account("charlie")
    assert (charlie.size_lots, equity(BITMEX.margin, charlie)) == (-200, 199)

"""percolator-gen-a's payer claims are false from three traders on: two replayed stories
(docs/solver-notes.md#percolator-gen-as-payer-claims-session-21).

The sweep-wide fact the all-N argument needed, "at each bankrupt account's turn the other accounts'
junior profit covers its deficit", does not hold on Solvent's model of Gen A, in two ways, each a
well-formed book inside the prover's default bounds, one mark move:

1. **A liquidation penalty takes profit a later bankruptcy needed** (three traders). alice (short 99)
   is bankrupt first; her haircut takes bob's (long 100) profit down to 120, under his maintenance
   at the new mark, so his turn liquidates him (solvent) and the 0.5% penalty, 51, goes to the
   insurance fund out of his junior profit (the engine charges it to cash, principal unchanged until
   the event's end). carol (short 1) is bankrupt next with a deficit of 99 and finds 59 of profit:
   she ends at -40.
2. **The pro-rata rounding dust goes to the fund** (five traders, no penalty needed on the way):
   each haircut rounds every payer's share up and sends the excess to the insurance fund, which is
   senior, so each bankruptcy takes up to one quantum a payer more than its deficit out of the
   profit the next one needs.

Percolator itself writes every loss capital cannot pay off into ``h`` (spec v7 §6.1, as
docs/venues.md#percolator-generations reads it): no account there is below zero, and the preset
quotes the liquidation fee as "charged from principal to insurance" (§9.3) and the haircut's slack
as staying in the vault (§3.4, the dust sink being the preset's "choice:"). So neither story is a
venue rule: the preset does not accept these claims, and the stories are the finding reported to
the lead. Any one-token change to the haircut (its weights, cap or rounding) moves the numbers
pinned here."""

from __future__ import annotations

import attrs
import pytest

from solvent.properties.catalog import StepView, get
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.margin import equity
from solvent.rules.outcomes import Bankrupt, Liquidated, Residual
from solvent.rules.presets import load_preset
from solvent.rules.wellformed import reasons
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds

GEN_A = load_preset("percolator-gen-a")
CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed")


def _book(mark: int, accounts: dict[str, dict[str, int]], traders: tuple[str, ...]) -> Book:
    book = new_book(mark_quote=mark, traders=traders)
    for name, fields in accounts.items():
        i = book.index(name)
        book = book.replace_account(i, attrs.evolve(book.accounts[i], **fields))
    return attrs.evolve(book, net_deposits_quote=sum(a.cash_quote + a.spot_quote for a in book.accounts))


def _opened(size: int, cash: int, mark: int) -> dict[str, int]:
    """A position opened at ``mark`` on ``cash`` of deposits, all of it capital (no junior profit)."""
    return {"cash_quote": cash, "principal_quote": cash, "size_lots": size, "cost_quote": size * mark}


def penalty_book(idle: int = 0) -> Book:
    """Story 1 at the mark 1 (each trader at its initial margin, 10%): alice short 99 on 10, bob
    long 100 on 10, carol short 1 on 1; ``idle`` flat traders with nothing after them."""
    extra = tuple(f"idle{i}" for i in range(idle))
    accounts = {"alice": _opened(-99, 10, 1), "bob": _opened(100, 10, 1), "carol": _opened(-1, 1, 1)}
    return _book(1, accounts, ("alice", "bob", "carol", *extra))


def dust_book() -> Book:
    """Story 2 at the mark 10: five traders long one lot each on 1 of capital, five short one lot
    each on 1 (every one at its initial margin, 1 quantum)."""
    longs = {f"b{i}": _opened(1, 1, 10) for i in range(5)}
    shorts = {f"w{i}": _opened(-1, 1, 10) for i in range(5)}
    return _book(10, {**longs, **shorts}, (*longs, *shorts))


def _holds(s, claim: str) -> bool:
    return get(claim).holds(StepView.of(GEN_A, s))


def _paid(s, reason: Reason, source: str | None = None, destination: str | None = None) -> list[int]:
    return [
        t.amount_quote
        for t in s.transfers
        if t.reason is reason and source in (None, t.source) and destination in (None, t.destination)
    ]


@pytest.mark.parametrize("book", [penalty_book(), penalty_book(idle=1), penalty_book(idle=5), dust_book()])
def test_the_book_is_one_the_prover_starts_from(book: Book) -> None:
    """Well formed (margin-compliant, principal at most equity) and inside the default bounds."""
    assert reasons(GEN_A, book) == []
    bounds = Bounds(accounts=len(book.traders))
    assert all(a.holds for a in book_assumptions(GEN_A, book, bounds))
    assert GEN_A.liquidation.penalty_ppm == 5_000 and book.market.mark_quote in (1, 10)


class TestAPenaltyTakesProfitALaterBankruptcyNeeded:
    def test_carol_ends_below_zero(self) -> None:
        s = step(GEN_A, penalty_book(), MarkPrice(101))
        assert [o for o in s.outcomes if isinstance(o, Bankrupt)] == [Bankrupt("alice", 9_890), Bankrupt("carol", 99)]
        # alice's haircut is bob's alone (the book is flat): her whole deficit, from his 10,000 of profit
        assert _paid(s, Reason.HAIRCUT, "bob", "alice") == [9_890]
        # bob at 120 is under his maintenance at 101 (505): liquidated solvent, his penalty 51
        [liquidated] = [o for o in s.outcomes if isinstance(o, Liquidated) and o.account == "bob"]
        assert (liquidated.equity_quote, liquidated.maintenance_quote) == (120, 505)
        assert _paid(s, Reason.LIQUIDATION_PENALTY, "bob") == [51]
        # carol's deficit 99 finds bob's 120 − 51 − 10 = 59 of profit: 40 left on her
        assert _paid(s, Reason.HAIRCUT, "bob", "carol") == [59]
        assert Residual("carol", 40) in s.outcomes
        assert equity(GEN_A.margin, s.after.account("carol")) == -40

    @pytest.mark.parametrize("idle", [0, 1, 5])
    def test_the_claims_fail_on_the_engine(self, idle: int) -> None:
        """At N = 3, 4 and 8 (flat traders after carol change nothing): refuted."""
        s = step(GEN_A, penalty_book(idle), MarkPrice(101))
        assert [c for c in CLAIMS if _holds(s, c)] == []
        assert _holds(s, "principal-protected") and _holds(s, "conservation")

    def test_without_the_penalty_carol_is_covered(self) -> None:
        """The penalty is the cause: at 0 ppm bob keeps 110 of profit and carol's 99 is paid whole."""
        policy = attrs.evolve(GEN_A, liquidation=attrs.evolve(GEN_A.liquidation, penalty_ppm=0))
        s = step(policy, penalty_book(), MarkPrice(101))
        assert _paid(s, Reason.HAIRCUT, "bob", "carol") == [99]
        assert all(get(c).holds(StepView.of(policy, s)) for c in CLAIMS)

    @pytest.mark.parametrize(("mark", "penalty", "carol"), [(4, [], 0), (22, [11], 0), (23, [12], -1)])
    def test_the_boundary(self, mark: int, penalty: list[int], carol: int) -> None:
        """Up to 4 bob stays above maintenance after alice's haircut (no penalty); up to 22 his penalty
        leaves enough for carol; from 23 it does not, by one quantum."""
        s = step(GEN_A, penalty_book(), MarkPrice(mark))
        assert _paid(s, Reason.LIQUIDATION_PENALTY, "bob") == penalty
        assert min(equity(GEN_A.margin, s.after.account("carol")), 0) == carol
        assert all(_holds(s, c) for c in CLAIMS) is (carol == 0)


class TestTheDustGoesToTheFund:
    def test_the_fifth_bankruptcy_is_left_below_zero(self) -> None:
        s = step(GEN_A, dust_book(), MarkPrice(1))
        assert [o.deficit_quote for o in s.outcomes if isinstance(o, Bankrupt)] == [8] * 5
        # each of the first four takes ⌈8·w/W⌉ = 2 from each of the five winners: 10 for a deficit of 8
        for i in range(4):
            assert _paid(s, Reason.HAIRCUT, destination=f"b{i}") == [2] * 5
            assert _paid(s, Reason.PRO_RATA_DUST, source=f"b{i}") == [2]
        # 45 of profit, 40 of deficits: the 8 of dust leaves the fifth 5 for its 8
        assert _paid(s, Reason.HAIRCUT, destination="b4") == [1] * 5
        assert Residual("b4", 3) in s.outcomes
        assert [c for c in CLAIMS if _holds(s, c)] == []

    def test_no_liquidation_penalty_on_the_way(self) -> None:
        """The winners are liquidated only after the last bankruptcy: the dust alone does it."""
        s = step(GEN_A, dust_book(), MarkPrice(1))
        order = [o.account for o in s.outcomes if isinstance(o, (Bankrupt, Liquidated))]
        assert order.index("w0") > max(order.index(f"b{i}") for i in range(5))

"""percolator-gen-a's payer claims on E's two story books (session 21): false on the old model,
kept since the lead's fidelity fix
(docs/model.md#percolator-gen-as-fee-from-capital-and-a-haircut-without-dust-session-21,
docs/solver-notes.md#percolator-gen-as-payer-claims-session-21).

Helper E found the sweep-wide fact the all-N argument needed, "at each bankrupt account's turn the
other accounts' junior profit covers its deficit", false on Solvent's model of Gen A, in two ways,
each a well-formed book inside the prover's default bounds, one mark move:

1. **A liquidation penalty took profit a later bankruptcy needed** (three traders). alice (short 99)
   is bankrupt first; her haircut takes bob's (long 100) profit down to 120, under his maintenance
   at the new mark, so his turn liquidates him (solvent). The old rule charged the 0.5% penalty, 51,
   to cash: out of his junior profit into the senior fund; carol (short 1) bankrupt next with a
   deficit of 99 found 59 and ended at -40. Now (spec v7 §9.3, "charged from principal to
   insurance") the penalty is charged from capital, at most bob's principal 10, which falls by it:
   his junior profit is untouched and carol's 99 is paid whole.
2. **The pro-rata rounding dust went to the fund** (five traders short, five long). Each haircut
   rounded every payer's share up and sent the excess to the senior fund, so the fifth bankruptcy
   found 5 for its 8 (-3). Now (§3.4: the slack is the vault's, not the senior fund's) the split is
   ``exact_in_order``: shares floored, the remainder a quantum each to the first payers with a
   fraction; each deficit of 8 is paid exactly and nothing reaches the fund.

Each old rule is restated here as a mutant of the engine (the fee from cash; the shares rounded up
with the dust to the fund) and breaks the claims on its story: the fix is what keeps them."""

from __future__ import annotations

import attrs
import pytest

from solvent.properties.catalog import StepView, get
from solvent.rules import engine
from solvent.rules.book import Book, new_book
from solvent.rules.engine import step
from solvent.rules.events import MarkPrice
from solvent.rules.ledger import Reason
from solvent.rules.margin import equity
from solvent.rules.outcomes import Bankrupt, Liquidated, Residual
from solvent.rules.presets import load_preset
from solvent.rules.rounding import ProRata
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


def fee_from_cash(monkeypatch: pytest.MonkeyPatch) -> None:
    """The old rule, restated: the penalty from cash (junior profit first), the principal untouched."""
    monkeypatch.setattr(engine, "fee_from_capital", lambda policy: False)


#: the old rule's rounding: shares rounded up, the excess to the insurance fund
DUST_TO_FUND = attrs.evolve(GEN_A, rounding=attrs.evolve(GEN_A.rounding, pro_rata=ProRata.UP_DUST_TO_INSURANCE_FUND))


class TestThePenaltyStory:
    def test_carol_is_paid_whole(self) -> None:
        s = step(GEN_A, penalty_book(), MarkPrice(101))
        assert [o for o in s.outcomes if isinstance(o, Bankrupt)] == [Bankrupt("alice", 9_890), Bankrupt("carol", 99)]
        # alice's haircut is bob's alone (the book is flat): her whole deficit, from his 10,000 of profit
        assert _paid(s, Reason.HAIRCUT, "bob", "alice") == [9_890]
        # bob at 120 is under his maintenance at 101 (505): liquidated solvent; his penalty
        # ⌈10,100 × 0.5%⌉ = 51 is capped at his principal 10, which it takes to 0
        [liquidated] = [o for o in s.outcomes if isinstance(o, Liquidated) and o.account == "bob"]
        assert (liquidated.equity_quote, liquidated.maintenance_quote) == (120, 505)
        assert _paid(s, Reason.LIQUIDATION_PENALTY, "bob") == [10]
        # carol's deficit 99 finds bob's 120 − 10 − 10 = 100 of junior profit: paid whole
        assert _paid(s, Reason.HAIRCUT, "bob", "carol") == [99]
        assert not any(isinstance(o, Residual) for o in s.outcomes)
        assert equity(GEN_A.margin, s.after.account("carol")) == 0
        bob = s.after.account("bob")
        assert (bob.cash_quote, bob.principal_quote) == (11, 0)

    @pytest.mark.parametrize("idle", [0, 1, 5])
    def test_the_claims_hold_on_the_engine(self, idle: int) -> None:
        """At N = 3, 4 and 8 (flat traders after carol change nothing): kept."""
        s = step(GEN_A, penalty_book(idle), MarkPrice(101))
        assert [c for c in CLAIMS if _holds(s, c)] == list(CLAIMS)
        assert _holds(s, "principal-protected") and _holds(s, "conservation")

    @pytest.mark.parametrize("idle", [0, 1, 5])
    def test_the_old_rule_breaks_them(self, idle: int, monkeypatch: pytest.MonkeyPatch) -> None:
        """The mutant (the fee from cash): the 51 leaves carol at -40, all three claims refuted."""
        fee_from_cash(monkeypatch)
        s = step(GEN_A, penalty_book(idle), MarkPrice(101))
        assert _paid(s, Reason.LIQUIDATION_PENALTY, "bob") == [51]
        assert Residual("carol", 40) in s.outcomes
        assert [c for c in CLAIMS if _holds(s, c)] == []

    @pytest.mark.parametrize(
        ("mark", "fee", "paid", "principal"),
        [
            (4, None, [], 10),  # bob above maintenance after alice's haircut: no penalty
            (18, 9, [9], 1),  # ⌈1,800 × 0.5%⌉ = 9, under the principal 10: the whole fee
            (19, 10, [10], 0),  # ⌈9.5⌉ = 10: the fee equal to the principal, paid whole
            (21, 11, [10], 0),  # ⌈10.5⌉ = 11: one above the principal, capped at it
            (101, 51, [10], 0),  # the story
        ],
    )
    def test_the_fee_cap(self, mark: int, fee: int | None, paid: list[int], principal: int) -> None:
        """The penalty is min(fee, surplus, principal) and lowers bob's principal by as much; carol is
        covered at every mark (the old rule left her at -1 from 23 on)."""
        s = step(GEN_A, penalty_book(), MarkPrice(mark))
        if fee is not None:
            assert -(-100 * mark * GEN_A.liquidation.penalty_ppm // 1_000_000) == fee
        assert _paid(s, Reason.LIQUIDATION_PENALTY, "bob") == paid
        assert s.after.account("bob").principal_quote == principal
        assert equity(GEN_A.margin, s.after.account("carol")) == 0
        assert all(_holds(s, c) for c in CLAIMS)

    @pytest.mark.parametrize(("mark", "carol"), [(22, 0), (23, -1)])
    def test_the_old_boundary(self, mark: int, carol: int, monkeypatch: pytest.MonkeyPatch) -> None:
        """The mutant's boundary as E measured it: up to 22 the penalty from cash leaves enough for
        carol, from 23 it does not, by one quantum."""
        fee_from_cash(monkeypatch)
        s = step(GEN_A, penalty_book(), MarkPrice(mark))
        assert min(equity(GEN_A.margin, s.after.account("carol")), 0) == carol
        assert all(_holds(s, c) for c in CLAIMS) is (carol == 0)


class TestTheDustStory:
    def test_every_deficit_is_paid_exactly(self) -> None:
        s = step(GEN_A, dust_book(), MarkPrice(1))
        assert [o.deficit_quote for o in s.outcomes if isinstance(o, Bankrupt)] == [8] * 5
        # the first: 8 over five weights of 9, ⌊72/45⌋ = 1 each and the remainder 3 to the first three
        # payers in book order (w0, w1, w2); every later one over the profit left, paid exactly too
        for i in range(5):
            assert sum(_paid(s, Reason.HAIRCUT, destination=f"b{i}")) == 8
        assert _paid(s, Reason.HAIRCUT, destination="b0") == [2, 2, 2, 1, 1]
        assert _paid(s, Reason.HAIRCUT, destination="b4") == [1, 2, 1, 2, 2]
        assert _paid(s, Reason.PRO_RATA_DUST) == []
        assert not any(isinstance(o, Residual) for o in s.outcomes)
        assert [c for c in CLAIMS if _holds(s, c)] == list(CLAIMS)

    def test_the_old_rounding_breaks_them(self) -> None:
        """The mutant (shares up, the dust to the fund): the fifth bankruptcy is left at -3."""
        s = step(DUST_TO_FUND, dust_book(), MarkPrice(1))
        for i in range(4):
            assert _paid(s, Reason.HAIRCUT, destination=f"b{i}") == [2] * 5
            assert _paid(s, Reason.PRO_RATA_DUST, source=f"b{i}") == [2]
        assert _paid(s, Reason.HAIRCUT, destination="b4") == [1] * 5
        assert Residual("b4", 3) in s.outcomes
        assert [c for c in CLAIMS if get(c).holds(StepView.of(DUST_TO_FUND, s))] == []

    def test_rounding_down_alone_is_not_the_fix(self) -> None:
        """The other existing rounding (shares down, the remainder to the next layer, of which Gen A
        has none) leaves each bankruptcy short: the remainder must be paid, as exact_in_order does."""
        policy = attrs.evolve(
            GEN_A, rounding=attrs.evolve(GEN_A.rounding, pro_rata=ProRata.DOWN_REMAINDER_TO_NEXT_LAYER)
        )
        s = step(policy, dust_book(), MarkPrice(1))
        assert any(isinstance(o, Residual) for o in s.outcomes)
        assert [c for c in CLAIMS if get(c).holds(StepView.of(policy, s))] == []

    def test_no_liquidation_penalty_on_the_way(self) -> None:
        """The winners are liquidated only after the last bankruptcy: the rounding alone decides."""
        s = step(GEN_A, dust_book(), MarkPrice(1))
        order = [o.account for o in s.outcomes if isinstance(o, (Bankrupt, Liquidated))]
        assert order.index("w0") > max(order.index(f"b{i}") for i in range(5))

"""A threshold's story beyond its boundary is one a person believes (issue 18).

The story one ppm beyond the boundary goes through the path ``solvent prove``'s z3 stories take
(``solvent.solver.plain_book``): z3 asked again near the policy's own scale, the numbers it left
arbitrary set plain, bystanders emptied, the book divided down and each balance cut to the least
that fails, the move cut to the fewest ticks, then the starting book rebuilt from an empty one by
deposits and trades. These tests replay that opening from the empty book and get the same book,
bound its amounts by the policy's scale, and show that the same checks fail on the story z3 first
gave (a threshold asked with ``minimize=False``, and one whose concrete minimization is skipped).

The bound (``plain_book.beyond_scale``, stated here): the starting mark within 100x of the
policy's scale mark either way (the scenarios' lot value: 10,000 quanta, USDT 100,000/BTC on
Binance), every position at most 100 lots, every balance and cost basis at most 100 lots'
notional at 100 times that mark.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties.scenarios import LOTS, Story
from solvent.rules.book import Book, new_book
from solvent.rules.events import Deposit, MarkPrice, SpotDeposit, Taker, Trade
from solvent.rules.presets import load_preset
from solvent.solver import plain_book
from solvent.solver import thresholds as th
from solvent.solver.refinement import replay
from solvent.solver.verdicts import Counterexample, ProofResult, Scope, Verdict

#: okx-2018's safe move and Binance's fund for a 20% gap, in the deep suite (probes and a story each,
#: 10-16 s at load 12); the default suite tells z3's okx-2018 story on the engine alone (below)
CASES = [
    pytest.param(("okx-2018", "safe-move", 100_001), id="okx-2018-safe-move", marks=pytest.mark.deep),
    pytest.param(("binance", "fund-for-gap", 191_999), id="binance-fund-for-gap", marks=pytest.mark.deep),
]


def _setup(policy, question: str, value: int) -> th.Setup:
    q = th.questions()[question]
    return q.setup(policy, value, th.default_bounds(**({"accounts": q.accounts(policy)} if q.accounts(policy) else {})))


def _problems(policy, question: str, value: int, story, empty: Book | None, opening) -> list[str]:
    """What makes a story beyond the boundary hard to believe, in words (empty: nothing)."""
    s = _setup(policy, question, value)
    problems = []
    if not replay(s.policy, s.claim, story, s.bounds).violates:
        problems.append("does not break the claim at the refuted value within its bounds")
    if empty is None:
        problems.append("its starting book is not reached from an empty one")
    else:
        if any(a.cash_quote or a.spot_quote or a.size_lots for a in empty.accounts):
            problems.append("the book it starts from is not empty")
        if not all(isinstance(e, Deposit | SpotDeposit | Trade) for e in opening):
            problems.append("its opening is not deposits and trades")
        if plain_book.reached_from(s.policy, empty, opening) != story.book:
            problems.append("replaying its opening does not give its starting book")
    scale, mark = plain_book.scale_mark(policy), story.book.market.mark_quote
    if not scale // 100 <= mark <= scale * 100:
        problems.append(f"its mark {mark:,} is not within 100x of {scale:,}")
    for a in story.book.accounts:
        if abs(a.size_lots) > LOTS:
            problems.append(f"{a.name} holds {a.size_lots:,} lots")
        if max(abs(a.cash_quote), abs(a.spot_quote), abs(a.cost_quote)) > LOTS * 100 * scale:
            problems.append(f"{a.name}'s balances exceed {LOTS * 100 * scale:,}")
    return problems + plain_book.beyond_scale(policy, story.book)


@pytest.fixture(scope="module", params=CASES)
def asked(request):
    """The threshold asked without minimization (z3's own story, the probes as the CLI makes
    them), and its story told: the same path ``threshold`` takes with ``minimize=True``."""
    preset, question, beyond = request.param
    policy = load_preset(preset)
    raw = th.threshold(policy, question, minimize=False)
    assert raw.refuted_at == beyond and raw.counterexample is not None
    bounds = th.default_bounds(**({"accounts": 1} if th.questions()[question].accounts(policy) else {}))
    told = th._smallest(th.questions()[question], policy, beyond, bounds, raw.counterexample)
    return policy, question, raw, told


def test_the_story_beyond_is_reached_from_an_empty_book_at_the_policy_s_scale(asked) -> None:
    policy, question, raw, told = asked
    assert _problems(policy, question, raw.refuted_at, told.counterexample.story, told.empty, told.opening) == []
    assert told.note == ""
    assert any(isinstance(e, Trade) for e in told.opening)  # a position, opened by a trade


def test_z3_s_own_story_fails_the_same_checks(asked) -> None:
    """The mutation "skip the minimization": the story as z3 gave it is refused by the checks."""
    policy, question, raw, _ = asked
    assert raw.story_note == "shown as z3 found it (not minimized)"
    problems = _problems(policy, question, raw.refuted_at, raw.counterexample.story, raw.empty, raw.opening)
    assert "its starting book is not reached from an empty one" in problems
    assert any("exceed" in p or "lots" in p for p in problems), problems


def test_without_the_concrete_minimization_the_checks_fail(asked, monkeypatch) -> None:
    """The mutation "tell z3's near-scale story without tidying it": z3's second story, near the
    scale, still carries numbers no venue's book holds, which the checks name."""
    policy, question, raw, _ = asked
    monkeypatch.setattr(th, "plain_story", lambda p, inv, story, bounds: plain_book.Plain(story))
    bounds = th.default_bounds(**({"accounts": 1} if th.questions()[question].accounts(policy) else {}))
    told = th._smallest(th.questions()[question], policy, raw.refuted_at, bounds, raw.counterexample)
    problems = _problems(policy, question, raw.refuted_at, told.counterexample.story, told.empty, told.opening)
    assert "its starting book is not reached from an empty one" in problems


@pytest.mark.deep
def test_the_threshold_carries_its_opening_and_the_report_shows_it() -> None:
    from solvent.reports.proof_text import render_thresholds

    policy = load_preset("okx-2018")
    t = th.threshold(policy, "safe-move")
    assert t.empty is not None and t.opening and t.story_note == ""
    s = _setup(policy, "safe-move", t.refuted_at)
    assert plain_book.reached_from(s.policy, t.empty, t.opening) == t.counterexample.story.book
    text = render_thresholds([t], contract=policy.contract)
    assert "these deposits and trades give the starting book:" in text
    assert "from an empty book by deposits and trades" in t.counterexample.detail
    data = th.to_data(t)["counterexample"]
    assert data["from_empty"]["events"] and data["note"] == ""


#: z3's first story one ppm beyond okx-2018's safe move (10.0001%), as the probe gave it before
#: this minimization: a cost basis of 10¹⁵ on the order book, the venue's account at −10¹², a
#: bystander holding 10¹² of spot, PnL windows of −10¹² on every account
_W = -(10**12)
_RAW = {
    "alice": {"cash_quote": 100_001, "size_lots": 2, "cost_quote": 3, "window_pnl_quote": _W},
    "bob": {"cash_quote": 100_002, "spot_quote": 999_999_799_996, "size_lots": 2, "cost_quote": 3},
    "liquidity": {"size_lots": -4, "cost_quote": -999_999_999_999_999, "window_pnl_quote": _W},
    "venue": {"cash_quote": -999_999_999_999, "window_pnl_quote": _W},
}


def _raw_okx_story() -> Story:
    book = new_book(mark_quote=500_005, traders=("alice", "bob"))
    accounts = tuple(attrs.evolve(a, **_RAW.get(a.name, {"window_pnl_quote": _W})) for a in book.accounts)
    market = attrs.evolve(book.market, previous_mark_quote=10_000)
    return Story(attrs.evolve(book, market=market, accounts=accounts), (MarkPrice(450_004),))


def test_z3_s_extreme_story_is_told_on_a_plain_book_reached_from_empty() -> None:
    """On the concrete engine alone (no z3): the story above is refused by the checks, and the
    minimization every z3 story takes (``plain_book.plain_story``) tells it as alice depositing
    and buying 2 contracts from a fully collateralized maker, then the 10.0001% move."""
    policy = load_preset("okx-2018")
    s = _setup(policy, "safe-move", 100_001)
    raw = _raw_okx_story()
    assert replay(s.policy, s.claim, raw, s.bounds).violates
    assert "its starting book is not reached from an empty one" in _problems(
        policy, "safe-move", 100_001, raw, None, ()
    )
    plain = plain_book.plain_story(s.policy, s.claim, raw, s.bounds)
    assert _problems(policy, "safe-move", 100_001, plain.story, plain.empty, plain.opening) == []
    assert plain.note == ""
    assert plain.opening == (
        Deposit("alice", 100_001),
        Deposit("maker", 1_000_011),
        Trade("alice", "maker", 2, 500_005, Taker.BUYER),
    )
    assert [(a.name, a.size_lots) for a in plain.story.book.accounts if a.size_lots] == [("alice", 2), ("maker", -2)]
    assert all(a.cash_quote == 0 for a in plain.story.book.accounts if not a.is_trader)


def test_skipping_any_step_of_the_minimization_leaves_a_story_the_checks_refuse(monkeypatch) -> None:
    """The mutations: skip the opening, or tidy nothing; each leaves the z3 story refused."""
    policy = load_preset("okx-2018")
    s = _setup(policy, "safe-move", 100_001)
    raw = _raw_okx_story()
    monkeypatch.setattr(plain_book, "opened", lambda *a: None)
    monkeypatch.setattr(plain_book, "opened_before_a_move", lambda *a: None)
    plain = plain_book.plain_story(s.policy, s.claim, raw, s.bounds)
    assert "its starting book is not reached from an empty one" in _problems(
        policy, "safe-move", 100_001, plain.story, plain.empty, plain.opening
    )
    assert plain.note.startswith("the starting book is a state")
    monkeypatch.undo()
    monkeypatch.setattr(plain_book, "tidy", lambda p, inv, story, bounds: story)
    monkeypatch.setattr(plain_book, "_least_balances", lambda p, inv, story, bounds: story.book)
    plain = plain_book.plain_story(s.policy, s.claim, raw, s.bounds)
    assert _problems(policy, "safe-move", 100_001, plain.story, plain.empty, plain.opening) != []


def test_threshold_keeps_what_the_minimization_told(monkeypatch) -> None:
    """The wiring, on a stand-in prover: the answer carries the told story, its opening and note."""
    policy = load_preset("okx-2018")
    story = _raw_okx_story()
    cx = Counterexample(story, (), 0, "no-bad-debt", "stand-in")
    proved = ProofResult(policy.name, "no-bad-debt", Verdict.PROVED, Scope(2, 1, ("mark",), ""), 0.0, "stand-in")
    refuted = attrs.evolve(proved, verdict=Verdict.REFUTED, counterexample=cx)
    monkeypatch.setattr(th, "_decide", lambda s: (proved if s.bounds.max_move_ppm <= 100_000 else refuted, None))
    monkeypatch.setattr(th, "_reached", lambda q, p, value, *a: value)
    empty = new_book(mark_quote=500_005, traders=("alice",))
    told = th.Told(attrs.evolve(cx, detail="told"), empty, (Deposit("alice", 1),), "a note")
    seen = []
    monkeypatch.setattr(th, "_smallest", lambda q, p, value, b, c, **kw: seen.append((value, c)) or told)
    t = th.threshold(policy, "safe-move")
    assert seen == [(100_001, cx)]
    assert (t.counterexample.detail, t.empty, t.opening, t.story_note) == (
        "told",
        empty,
        (Deposit("alice", 1),),
        "a note",
    )
    unminimized = th.threshold(policy, "safe-move", minimize=False)
    assert unminimized.counterexample is cx and unminimized.empty is None
    assert unminimized.story_note == "shown as z3 found it (not minimized)"


def test_a_book_only_above_maintenance_is_opened_before_a_move() -> None:
    """Bybit's story one ppm below its maintenance rate for 10x (4.9999%, z3's book after the
    concrete minimization): alice short 50,000 lots just above maintenance, which no trade at the
    mark opens (a trade needs the 10% initial margin). Opened at an earlier, lower mark with that
    margin, one move up to the story's mark reaches it, and a 5% gap then leaves bad debt; the
    opening replays to the told book. Its 50,000 lots are beyond the scale, which the note says."""
    policy = load_preset("bybit")
    s = th.questions()["maintenance-for-leverage"].setup(policy, 49_999, th.default_bounds())
    book = new_book(mark_quote=999_980, traders=("alice", "bob"))
    sizes = {"alice": -50_000, "liquidity": 50_000}
    accounts = tuple(
        attrs.evolve(a, size_lots=sizes.get(a.name, 0), cost_quote=sizes.get(a.name, 0) * 999_980)
        for a in book.accounts
    )
    accounts = tuple(attrs.evolve(a, cash_quote=2_499_900_002) if a.name == "alice" else a for a in accounts)
    story = Story(attrs.evolve(book, accounts=accounts, net_deposits_quote=2_499_900_002), (MarkPrice(1_049_979),))
    assert replay(s.policy, s.claim, story, s.bounds).violates
    assert plain_book.opened(s.policy, s.claim, story, s.bounds) is None
    plain = plain_book.opened_before_a_move(s.policy, s.claim, story, s.bounds)
    assert plain is not None and replay(s.policy, s.claim, plain.story, s.bounds).violates
    *trades, move = plain.opening
    assert isinstance(move, MarkPrice) and move.price_quote == 999_980
    opened_at = plain.empty.market.mark_quote
    assert opened_at < 999_980 and all(isinstance(e, Deposit | Trade) for e in trades)
    assert plain_book.reached_from(s.policy, plain.empty, plain.opening) == plain.story.book
    alice = plain.story.book.account("alice")
    assert (alice.size_lots, alice.cash_quote, alice.cost_quote) == (-50_000, 2_499_900_002, -50_000 * opened_at)
    # opened 2^16 quanta lower; half as far, the opening needs more than the 10% initial margin
    assert 999_980 - opened_at == 2**16
    nearer = plain_book._opened_at(story.book, 999_980 - 2**15)
    assert plain_book._reached(s.policy, s.claim, attrs.evolve(story, book=nearer), (move,), s.bounds) is None
    told = plain_book.plain_story(s.policy, s.claim, story, s.bounds)
    assert told.reached and "alice holds -50,000 lots (more than 100)" in told.note


def test_beyond_scale_names_what_is_beyond() -> None:
    """At the bound's edges: a mark of 100x the scale and 100 lots are within it; one quantum or
    one lot more is named."""
    policy = load_preset("binance")
    book = new_book(mark_quote=10_000 * 100, traders=("alice",))
    assert plain_book.beyond_scale(policy, book) == []
    far = attrs.evolve(book, market=attrs.evolve(book.market, mark_quote=10_000 * 100 + 1))
    assert plain_book.beyond_scale(policy, far) == ["the mark 1,000,001 quanta is beyond 100x the policy's 10,000"]
    low = attrs.evolve(book, market=attrs.evolve(book.market, mark_quote=10_000 // 100 - 1))
    assert plain_book.beyond_scale(policy, low)[0].startswith("the mark 99 quanta")

    def holding(lots: int, cash: int) -> Book:
        alice = attrs.evolve(book.account("alice"), size_lots=lots, cash_quote=cash)
        return attrs.evolve(book, accounts=tuple(alice if a.name == "alice" else a for a in book.accounts))

    top = LOTS * 100 * 10_000
    assert plain_book.beyond_scale(policy, holding(100, top)) == []
    assert plain_book.beyond_scale(policy, holding(-101, -top - 1)) == [
        "alice holds -101 lots (more than 100)",
        f"alice's cash {-top - 1:,} exceeds {top:,} quanta",
    ]

"""claims-backed's system holders for every N by induction over the sweep's turns
(``claims_backed.holders_every_n``; docs/solver-notes.md#bybit-at-k--3-and-n--8-session-21).

Bybit's claims-backed at N = 8 (12M units) was undecided: its system holders' question at N = 8
(the build with the claim 4,473,600, the exact claim 447,922) and no-negative-equity on two traders
(7,308,813 with its contract's 2,300,505) needed 12,359,748. The holders by the turn lemma on two
traders (17,446 units) and the transfers at N asked alone (the build 3,995,600): proved, 11,321,911.
"""

from __future__ import annotations

import attrs
import pytest
from test_fund_facts import _pays_all

import solvent.rules.bankruptcy as bankruptcy_module
import solvent.rules.engine as engine_module
import solvent.solver.claims_backed as claims_backed_module
from solvent.rules import haircut_ratio
from solvent.rules.arith import max_
from solvent.rules.book import Role
from solvent.rules.ledger import Reason
from solvent.rules.presets import load_preset, preset_names, resolve_policy
from solvent.solver import claims_backed, compositional, effort, fund_facts, haircut_payer
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.compositional import _Checker, _Failed
from solvent.solver.prove import prove, scope_of
from solvent.solver.story import symbolic_book
from solvent.solver.verdicts import ObligationResult, ProofResult, Verdict

UNITS = 2_000_000


def _bounds(preset: str, accounts: int, **changes) -> Bounds:
    return for_policy(Bounds(accounts=accounts, events=1, effort=UNITS, **changes), resolve_policy(preset))


def _argument(preset: str, accounts: int = 4, events: int = 1, **changes) -> tuple[tuple[str, ...], _Checker]:
    bounds = attrs.evolve(_bounds(preset, accounts, **changes), events=events)
    with effort.question():
        checker = _Checker(bounds, units=UNITS)
        return claims_backed.holders_every_n(resolve_policy(preset), bounds, checker), checker


@pytest.mark.parametrize("preset", ["bybit", "binance", "okx"])
def test_the_holders_are_kept_for_every_n(preset: str) -> None:
    """Three lemmas on two traders: the phases before the turns, alice's turn (z3), bob's by renaming
    (bybit 1,468 + 15,976 units, binance 1,468 + 11,619, okx 1,468 + 3,374)."""
    lemmas, checker = _argument(preset)
    assert lemmas[0].startswith("decomposition (mark)")
    assert lemmas[-1].startswith("the system holders by induction over the sweep's turns")
    asked = [(q.name.split(" (")[0], q.result.split(" ")[0]) for q in checker.queries]
    turn = "one liquidation turn keeps every system holder"
    assert asked == [("before the turns", "unsat"), (turn, "unsat"), (turn, "an")]
    assert sum(q.units for q in checker.queries) < 100_000


def test_the_argument_holds_on_the_lemmas_own_book_of_two_traders() -> None:
    """At N = 2 (solvent check's book) the turns are the lemma's own two-trader turns: the argument is
    asked there too, the same lemmas (since session 32; before, N = 2 asked the holders' question at N,
    which ran out at 10M on hyperliquid where these lemmas take a few hundred thousand units)."""
    two, _ = _argument("bybit", accounts=2)
    four, _ = _argument("bybit", accounts=4)
    assert two == four and two[-1].startswith("the system holders by induction over the sweep's turns")


def test_a_fund_that_pays_the_whole_deficit_stops_the_argument(monkeypatch) -> None:
    """One token of the fund's payment (``min(deficit, balance)`` → the whole deficit): the turn lemma
    has a model (the fund below zero after a turn), so the argument does not hold."""
    monkeypatch.setattr(bankruptcy_module, "pay_from", _pays_all)
    with pytest.raises(_Failed, match="z3 found a model"):
        _argument("bybit")


def test_a_phase_after_the_sweep_that_writes_a_holder_stops_the_argument(monkeypatch) -> None:
    """closing() moving a quantum from the fee account to the clearing account: a phase outside the
    turns that writes a holder is not one the induction covers."""
    real = claims_backed_module.closing

    def leaks(policy, ctx):
        ctx = real(policy, ctx)
        book = ctx.book
        fee, clearing = (next(a.name for a in book.accounts if a.role.name == r) for r in ("FEE_ACCOUNT", "CLEARING"))
        return ctx.transfer(fee, clearing, 1, Reason.TRADING_FEE)

    monkeypatch.setattr(claims_backed_module, "closing", leaks)
    with pytest.raises(_Failed, match="after the sweep .* an entry writes fee_account -> clearing"):
        _argument("bybit")


@pytest.mark.parametrize(
    ("preset", "changes", "why"),
    [
        ("bybit", {"accounts": 1}, "a book of two traders or more"),
        # over moves only where the traders' part has its own induction with the payer's coupling
        # (hyperliquid's, Bybit's start-mark: tests/solver/test_start_mark.py); not Binance's
        ("binance", {"events": 3}, "one mark move"),
    ],
)
def test_the_argument_covers_one_move_on_a_book_larger_than_its_lemmas(preset: str, changes: dict, why: str) -> None:
    bounds = attrs.evolve(_bounds(preset, 4), **changes)
    with pytest.raises(_Failed, match=why):
        claims_backed.holders_every_n(resolve_policy(preset), bounds, _Checker(bounds, units=UNITS))


def _traders_proved(bounds: Bounds) -> ProofResult:
    """no-negative-equity proved for every N (an answer ``solvent check`` would give claims-backed)."""
    scope = attrs.evolve(scope_of(bounds), accounts=None, assumes="the traders' own assumption")
    own = ObligationResult(claims_backed.TRADERS, Verdict.PROVED, "", scope)
    return ProofResult("bybit", claims_backed.TRADERS, Verdict.PROVED, scope, 0.0, "", obligations=(own,))


def test_claims_backed_at_eight_traders_asks_no_system_holders_question_at_n() -> None:
    """Bybit, N = 8, the traders' answer given: the holders by the argument, the transfers at N built
    without the claim (3,995,600 units), no system holders' question at N; both assumptions said."""
    bounds = Bounds(accounts=8, events=1, effort=6_000_000)
    given = {claims_backed.TRADERS: _traders_proved(for_policy(bounds, resolve_policy("bybit")))}
    result = prove("bybit", "claims-backed", bounds, minimize=False, given=given)
    assert result.verdict is Verdict.PROVED, result.summary()
    # the claim for every N (both parts are, since session 23 the payer's route's holders too), the
    # transfers at N = 8: the headline the narrower
    assert result.scope.accounts is None and result.proved_scope.accounts == 8
    holders = next(o for o in result.obligations if o.obligation == claims_backed.CLAIM)
    assert holders.scope.accounts is None
    assert "the traders' own assumption" in result.scope.assumes
    assert claims_backed.EVERY_N_ASSUMES in result.scope.assumes
    assert not any(q.name == claims_backed.SYSTEM_ID for q in result.queries)
    builds = [q.units for q in result.queries if q.name == "build"]
    assert builds == [3_995_600]
    assert result.units < 4_100_000


@pytest.mark.deep
def test_bybit_claims_backed_at_eight_traders_within_the_minute() -> None:
    """The N = 8 table's cell: undecided (12,000,000) before, proved (11,321,911 in session 21) with this
    argument; 11,795,830 in session 22's N = 8 table at cf41933 (the smaller books asked as questions of
    their own before N's, `prove._small_scope_first`), the same on main in session 23; 10,144,247 on z3's
    SMT core (session 28: no clock inside z3; the payer's contract in three cases), as session 28's
    N = 8 row at a60f367 (benchmarks/results/bench_proof_catalog_n8_six_claims_session28_a60f367.json)
    and session 29's deep run."""
    result = prove("bybit", "claims-backed", Bounds(accounts=8, events=1, effort=12_000_000), minimize=False)
    assert result.verdict is Verdict.PROVED, result.summary()
    assert result.units == 10_144_247


@pytest.mark.parametrize("preset", ["okx-2018"])
def test_the_argument_is_not_asked_where_the_payers_coupling_does_not_describe_the_engine(preset: str) -> None:
    """Its turn step assumes a turn reads the others only through ADL's fills: a clawback reads every
    trader, so there the system holders are asked at N. (A socialized loss per lot with a cascade, Mango's
    and Drift's, has a turn step of its own: tests/solver/test_cascade_holders.py; Gen A's haircut, whose
    turn writes no holder a share, below.)"""
    with pytest.raises(_Failed, match="assumes the payer's coupling"):
        _argument(preset)


GEN_A = "percolator-gen-a"
TURN = "one liquidation turn keeps every system holder"


def test_gen_a_holders_for_every_n() -> None:
    """Gen A's haircut (session 25): the decomposition with each trader's own opening (the conversion at
    h) and closing, the phases before the turns (1,468 units), each turn's holder entries no haircut
    share and reading no other trader (no query), alice's turn lemma (2,470), bob's by renaming: 3,938."""
    lemmas, checker = _argument(GEN_A)
    assert lemmas[0].startswith("decomposition (mark)") and "opening and closing change each trader" in lemmas[0]
    assert any(line.startswith("each turn (two traders") for line in lemmas)
    asked = [(q.name.split(" (")[0], q.result.split(" ")[0]) for q in checker.queries]
    assert asked == [("before the turns", "unsat"), (TURN, "unsat"), (TURN, "an")]
    assert (
        claims_backed.every_n_assumes(resolve_policy(GEN_A), _bounds(GEN_A, 4)) == claims_backed.EVERY_N_ASSUMES_HAIRCUT
    )


def test_gen_a_holders_over_moves() -> None:
    """At K = 3 the holders go over the moves where Gen A's junior cover inducts (``haircut_payer.inducts``):
    the start meets the holders' premise, a move keeps it, open interest's frame, then the one move's."""
    bounds = attrs.evolve(_bounds(GEN_A, 3), events=3)
    assert claims_backed._over_moves(resolve_policy(GEN_A), bounds)
    lemmas, checker = _argument(GEN_A, 3, events=3)
    assert lemmas[0].startswith("the system holders over moves: the start meets")
    assert "by induction over the 3 mark moves" in lemmas[-1]
    assert {q.result.split(" ")[0] for q in checker.queries} <= {
        "unsat",
        "an",
        "holds",
    }  # "holds": the frame's aggregate
    assert [q.name.split(" (")[0] for q in checker.queries][-2:] == [TURN, TURN]


def test_only_gen_a_takes_the_haircut_route() -> None:
    """No other bundled preset's claims-backed moves: the haircut's route (``haircut_payer.not_covered``
    None) is Gen A's alone, at one move and at K = 3."""
    for bounds in (Bounds(accounts=4, events=1), Bounds(accounts=3, events=3)):
        taken = [name for name in preset_names() if claims_backed._by_haircut(load_preset(name), bounds)]
        assert taken == [GEN_A]


def test_mutant_the_fund_among_the_haircuts_payers_stops_gen_a(monkeypatch) -> None:
    """One token of ``pro_rata.payers`` (the order book's role read as the insurance fund's): the fund pays
    a haircut share, which reads every payer, so the turn on N traders does not write the holders as on
    two: the argument's turn step (``_turn_writes_own``, asked before any turn lemma) stops."""

    def payers(book, bankrupt):
        return [a for a in book.accounts if (a.is_trader or a.role is Role.INSURANCE_FUND) and a.name != bankrupt]

    monkeypatch.setattr(haircut_ratio, "payers", payers)
    book, _ = symbolic_book(Bounds(accounts=2, events=1))
    names = fund_facts.holders(book, claims_backed.SYSTEM_ID)

    def fail(why: str) -> None:
        raise _Failed(why)

    with pytest.raises(_Failed, match="alice's turn moves a haircut share insurance_fund -> alice"):
        claims_backed._turn_writes_own(resolve_policy(GEN_A), book, names, fail)


def test_a_turn_paying_a_holder_from_another_traders_numbers_stops_gen_a(monkeypatch) -> None:
    """A turn that also moves to the fund an amount reading the other trader's cash (on N traders such an
    entry would read the rest of the book, which the two-trader turn lemma does not stand for)."""
    real = claims_backed_module.liquidation_turn

    def reads_another(policy, ctx, trader):
        ctx = real(policy, ctx, trader)
        other = next(a for a in ctx.book.traders if a.name != trader)
        return ctx.transfer(trader, "insurance_fund", max_(other.cash_quote, 0), Reason.LIQUIDATION_PENALTY)

    monkeypatch.setattr(claims_backed_module, "liquidation_turn", reads_another)
    book, _ = symbolic_book(Bounds(accounts=2, events=1))

    def fail(why: str) -> None:
        raise _Failed(why)

    with pytest.raises(_Failed, match="in alice's turn an entry alice -> insurance_fund reads another trader"):
        claims_backed._turn_writes_own(
            resolve_policy(GEN_A), book, fund_facts.holders(book, claims_backed.SYSTEM_ID), fail
        )


def test_mutant_gen_a_with_the_penalty_from_cash_is_not_covered(monkeypatch) -> None:
    """``fee_from_capital`` read False (session 21's rule): the junior cover's argument does not cover the
    policy, so neither does the holders' haircut route (the system holders asked at N)."""
    monkeypatch.setattr(haircut_payer, "fee_from_capital", lambda policy: False)
    with pytest.raises(_Failed, match="assumes the payer's coupling"):
        _argument(GEN_A)


GEN_B = "percolator-gen-b"
GEN_B_K3 = attrs.evolve(_bounds(GEN_B, 3), events=3)


def _frame_stubbed(monkeypatch) -> list[Bounds]:
    """``open-interest-balance``'s frame (every position after a move is before plus its fills, 580,000 units on
    Gen B) left out of a default test: the deep one asks it. The bounds it was asked on."""
    asked: list[Bounds] = []

    def frame(policy, bounds, checker):
        asked.append(bounds)
        return ["open interest's frame (asked in the deep test)"]

    monkeypatch.setattr(compositional, "_open_interest", frame)
    return asked


def _gen_b_premise(monkeypatch) -> tuple[list[str], _Checker]:
    """``_moves_premise`` on Gen B's two-trader book, the frame stubbed: its lemmas and the checker."""
    frame = _frame_stubbed(monkeypatch)

    def fail(why: str) -> None:
        raise _Failed(why)

    policy = resolve_policy(GEN_B)
    with effort.question():
        checker = _Checker(GEN_B_K3, units=UNITS)
        small, book, slot = claims_backed._one_event_frame(
            claims_backed.SYSTEM, attrs.evolve(GEN_B_K3, events=1), fail, "system holders' all-N"
        )
        names = fund_facts.holders(book, claims_backed.SYSTEM_ID)
        try:
            _, lemmas = claims_backed._moves_premise(policy, GEN_B_K3, book, slot, names, checker, fail)
        except _Failed:
            lemmas = []
    assert [(b.accounts, b.events) for b in frame] == ([(2, 1)] if lemmas else [])
    return lemmas, checker


def test_gen_b_holders_go_over_the_moves() -> None:
    """Gen B at K = 3 (session 26): its turn step (the holders' turn lemma on Gen B's own turn, ``_by_gen_b``) is
    read at one move, so the holders go over the moves where the payer's bound inducts (``gen_b_payer.inducts``);
    the transfers' route stays one move's. Gen B alone (14 presets). No query."""
    policy = resolve_policy(GEN_B)
    assert claims_backed._over_moves(policy, GEN_B_K3) and claims_backed._gen_b_turns(policy, GEN_B_K3)
    assert not claims_backed._by_gen_b(policy, GEN_B_K3) and not claims_backed.transfers_route(policy, GEN_B_K3)
    assert claims_backed.every_n_assumes(policy, GEN_B_K3) == claims_backed.EVERY_N_ASSUMES_GEN_B
    # Gen B alone among the bundled presets (the cascade's and the haircut's turn steps stay theirs)
    moves = Bounds(accounts=3, events=3)
    assert [name for name in preset_names() if claims_backed._gen_b_turns(load_preset(name), moves)] == [GEN_B]


def test_mutant_gen_b_turn_step_read_at_the_questions_k_refuses_the_moves(monkeypatch) -> None:
    """One token of ``_gen_b_turns`` (the question's K, not one move's): Gen B's waterfall is not recognised at
    K = 3 and the argument refuses it (session 25's behaviour: the holders asked at N), no query asked."""
    monkeypatch.setattr(claims_backed_module, "_gen_b_turns", claims_backed._by_gen_b)
    with pytest.raises(_Failed, match="assumes the payer's coupling"):
        _argument(GEN_B, 3, events=3)


def test_gen_b_start_meets_the_holders_premise_and_a_move_keeps_it(monkeypatch) -> None:
    """The holders' premise on Gen B (exact z3 on the engine's own ``transition``): the question's start meets it
    (1,150 units), a move keeps the marks prices and no account but the traders, the book and the vault holding
    (104 units); open interest's frame asked on two traders, one move (stubbed here, asked in the deep test)."""
    lemmas, checker = _gen_b_premise(monkeypatch)
    assert [q.result.split(" ")[0] for q in checker.queries] == ["unsat", "unsat"]
    assert lemmas[0].startswith(f"the system holders over moves: the start meets {claims_backed.MOVES_PREMISE}")
    assert lemmas[1].startswith("the system holders over moves (mark): a move keeps the marks prices")


def test_mutant_gen_b_previous_mark_one_below_the_old_breaks_the_premise(monkeypatch) -> None:
    """One token of ``settlement.settle_mark`` (the previous mark ``old - 1``, not ``old``): from a mark of 1 a
    Gen B move leaves the previous mark 0, not a price: the lemma that a move keeps the premise has a model."""
    real = engine_module.settle_mark

    def settle_mark(ctx, new_mark):
        ctx = real(ctx, new_mark)
        market = ctx.market
        return ctx.evolve_book(market=attrs.evolve(market, previous_mark_quote=market.previous_mark_quote - 1))

    monkeypatch.setattr(engine_module, "settle_mark", settle_mark)
    lemmas, checker = _gen_b_premise(monkeypatch)
    assert lemmas == [] and [q.result.split(" ")[0] for q in checker.queries] == ["unsat", "sat"]


@pytest.mark.deep  # the whole argument over three moves, 661,525 units (3.7 s at load 7; the turn lemma's build)
def test_gen_b_holders_over_moves() -> None:
    """Gen B at K = 3 whole: the start meets the premise (1,150), a move keeps it (104), open interest's frame
    (580,000, its first split unknown at 124,000), before the turns (390), alice's turn (72,455), bob's renamed, the dust
    lemmas for any number of payers (4,208 + 3,218): for every N, over the moves."""
    lemmas, checker = _argument(GEN_B, 3, events=3)
    assert lemmas[0].startswith(f"the system holders over moves: the start meets {claims_backed.MOVES_PREMISE}")
    assert "for every N; and by induction over the 3 mark moves" in lemmas[-1]
    asked = [(q.name.split(" (")[0], q.result.split(" ")[0]) for q in checker.queries]
    assert asked[-5:] == [
        ("before the turns", "unsat"),
        (TURN, "unsat"),
        (TURN, "an"),
        ("side index dust lemma", "unsat"),
        ("pro-rata dust lemma", "unsat"),
    ]
    # open interest's frame (``compositional._open_interest``): its first split unknown, by phases stopped at bob's
    # turn (it reads the ledger), the whole split in three parts: it holds
    frame = [(q.name, q.result.split(" ")[0]) for q in checker.queries if q.name.startswith("P (mark)")]
    assert frame[-1] == ("P (mark): every position after the event = before + its guarded fills", "holds")
    assert {r for n, r in asked if n != "P"} == {"unsat", "an"}
    assert not any(q.name.startswith(claims_backed.PER_COUNT) for q in checker.queries)


@pytest.mark.deep  # the turn lemma's model over moves (about 7 s at load 8)
def test_mutant_gen_b_fund_paying_the_whole_deficit_stops_the_moves(monkeypatch) -> None:
    """One token of ``insurance_fund.pay_from`` (the whole deficit, not ``min(deficit, balance)``): over the moves
    the turn lemma on Gen B's own turn has a model (the fund below zero after a turn)."""
    _frame_stubbed(monkeypatch)
    monkeypatch.setattr(bankruptcy_module, "pay_from", _pays_all)
    with pytest.raises(_Failed, match="z3 found a model"):
        _argument(GEN_B, 3, events=3)

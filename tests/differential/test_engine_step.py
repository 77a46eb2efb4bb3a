"""One engine step, two interpreters: the concrete engine and z3 with every input a constant agree.

The symbolic side runs ``solvent.rules.engine.transition`` (the function the concrete ``step``
runs) on a book and event whose data fields are z3 ``IntVal`` terms, and reads the symbolic
context back with ``z3.simplify``. The book after, the transfers (in order) and the outcomes (in
order) must be identical, including the Python types of every field (compared through ``repr``),
and so must the verdict of every requirement the concrete engine checks. The hand-built cases also
run with every input a free ``z3.Int`` pinned to its value and read back from the solver's model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
import z3
from hypothesis import HealthCheck, given, note, settings
from stories import FLAT_10X, POLICIES, POOLS, SPOT_20X, TIERED, TRADERS, Story, replay, stories

from solvent.rules.book import Account, Book, new_book
from solvent.rules.engine import post_requirements, requirements, step, transition
from solvent.rules.events import Deposit, Funding, MarkPrice, SpotDeposit, Trade, Withdraw
from solvent.rules.fees import FeeRule
from solvent.rules.ledger import InternalError, Reason, Transfer
from solvent.rules.liquidation import Execution, LiquidationRule
from solvent.rules.outcomes import AdlFill, Bankrupt, DebtCarried, DepositAbsorbed, LayerUsed, Liquidated, Residual
from solvent.rules.policy import Policy
from solvent.rules.rounding import FundingRounding, ProRata, RoundingRule
from solvent.rules.waterfall import (
    Adl,
    AdlPrice,
    BackstopVault,
    Clawback,
    DebtCarry,
    FeePool,
    HaircutRatio,
    InsuranceFund,
    Lender,
    Over,
    Ranking,
    SocializedLoss,
    VenueAbsorbs,
)
from solvent.solver.symbolic import (
    Evaluated,
    Undetermined,
    constant_book,
    constant_event,
    data_fields,
    evaluate_ctx,
    evaluate_requirements,
    pin,
    simplifier,
    symbolic_post_requirements,
    symbolic_requirements,
    symbolic_transition,
    transfer_obligations,
    under_model,
    variable_book,
    variable_event,
)
from tests.z3_step import assert_same, assert_same_transition

#: Examples per policy: the default suite's and the deep run's. An example costs 0.1-1 s (one
#: symbolic step plus read-back; the ADL-ranking policies' steps are the dear ones): at 60 the six
#: policies took 250 s of the default suite at load 5-8; 25 still reaches a liquidation and a
#: bankruptcy on each (asserted), and the deep run asks 300.
#: 16: the fewest at which every policy below reaches a bankruptcy and each of its layers (12 left the flat
#: policy without one); 25 took 3 min of the suite's worker time under load. The deep test draws 300.
EXAMPLES, DEEP_EXAMPLES = 16, 300
PER_POLICY = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def both_ways(policy: Policy, book: Book, ev: Any) -> Evaluated | None:
    """Compare requirements, the transition, and the accepted step both ways; the z3 side's result.

    Returns ``None`` when the event's pre-requirements reject it (after checking that z3 gives the
    same verdicts). A rejection by post-requirements still compares the transition itself.
    """
    sbook, sev = constant_book(book), constant_event(ev)
    pre = tuple(requirements(policy, book, ev))
    assert_same(evaluate_requirements(symbolic_requirements(policy, sbook, sev), simplifier()), pre, "requirements")
    if not all(r.holds for r in pre):
        return None
    ctx = symbolic_transition(policy, sbook, sev)
    try:
        expected = transition(policy, book, ev)
    except InternalError:
        with pytest.raises(InternalError):
            evaluate_ctx(ctx, simplifier())
        return None
    got = evaluate_ctx(ctx, simplifier())
    assert_same_transition(got, expected)
    post = tuple(post_requirements(policy, book, expected.book, ev))
    spost = symbolic_post_requirements(policy, sbook, ctx.book, sev)
    assert_same(evaluate_requirements(spost, simplifier()), post, "post-requirements")
    if all(r.holds for r in post):
        s = step(policy, book, ev)
        assert_same((got.after, got.transfers, got.outcomes), (s.after, s.transfers, s.outcomes), "steps")
    return got


@attrs.frozen
class Pinned:
    """A step run on z3 with every input a free ``z3.Int`` pinned to its value."""

    ctx: Any
    solver: Any
    variables: Any
    got: Evaluated


def pinned_step_agrees(policy: Policy, book: Book, ev: Any) -> Pinned:
    """Pin every input of the symbolic step to its value, read the step back from z3's model and
    check it equals the concrete step; the pieces, for further claims on the same query."""
    vbook, variables = variable_book(book)
    vev, _ = variable_event(ev)
    ctx = symbolic_transition(policy, vbook, vev)
    solver = z3.Solver()
    solver.set(rlimit=200_000_000)  # units, not seconds: the same verdict on any machine
    solver.add(*pin(vbook, book), *pin(vev, ev))
    assert solver.check() == z3.sat
    got = evaluate_ctx(ctx, under_model(solver.model()))
    s = step(policy, book, ev)
    assert_same((got.after, got.transfers, got.outcomes), (s.after, s.transfers, s.outcomes), "steps")
    return Pinned(ctx, solver, variables, got)


def paths(got: Evaluated | None) -> set[str]:
    """Names of the interesting paths a step took (for coverage statistics)."""
    if got is None:
        return {"rejected"}
    out = {type(o).__name__ for o in got.outcomes}
    out |= {f"layer:{o.layer}" for o in got.outcomes if isinstance(o, LayerUsed)}
    if any(isinstance(o, AdlFill) and o.lots > 0 for o in got.outcomes):
        out.add("adl-fill")
    return out


# --- hypothesis-generated stories -------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES.keys())
def test_engine_step_agrees_on_generated_books(policy: Policy) -> None:
    """Concrete ``step`` and z3 ``transition`` (inputs fixed as constants) give identical steps."""
    _agrees_on_generated_books(policy, EXAMPLES)


@pytest.mark.deep
@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES.keys())
def test_engine_step_agrees_on_many_generated_books(policy: Policy) -> None:
    _agrees_on_generated_books(policy, DEEP_EXAMPLES)


def _agrees_on_generated_books(policy: Policy, examples: int) -> None:
    seen: Counter[str] = Counter()

    @settings(PER_POLICY, max_examples=examples)
    @given(story=stories(policy))
    def run(story: Story) -> None:
        note(f"prefix={story.prefix!r}\nevent={story.event!r}")
        seen["examples"] += 1
        seen.update(paths(both_ways(policy, story.book, story.event)))

    run()
    print(f"\n{policy.name}: {dict(sorted(seen.items()))}")  # how many examples ran, and what they reached
    assert seen["Liquidated"] > 0 and seen["Bankrupt"] > 0, f"no liquidation or bankruptcy exercised: {seen}"


# --- hand-built stories that definitely reach each path ---------------------------------------

MARK = 1_000  # quote quanta per lot

CRASH_STORY = (
    Deposit("alice", 10_000),
    Deposit("bob", 50_000),
    Deposit("carol", 50_000),
    Trade("alice", "bob", 90, MARK),  # alice long 90 at 10x: notional 90_000, IM 9_000
    Trade("carol", "bob", 10, MARK),  # carol long 10, bob short 100
)
CRASH = MarkPrice(700)  # −30%: alice loses 27_000 on 10_000 of equity


def _policy(*layers: Any, margin=FLAT_10X, **kwargs: Any) -> Policy:
    return Policy("hand-built", margin, deficit=layers, **kwargs)


def _funded(*pools: tuple[str, int]) -> tuple[Any, ...]:
    """The crash story with the named system accounts funded first."""
    return tuple(Deposit(name, amount) for name, amount in pools) + CRASH_STORY


def _layer_paid(kind: str):
    return lambda got: any(isinstance(o, LayerUsed) and o.layer == kind and o.covered_quote > 0 for o in got.outcomes)


def _has(cls: type):
    return lambda got: any(isinstance(o, cls) for o in got.outcomes)


def _adl_filled(got: Evaluated) -> bool:
    return any(isinstance(o, AdlFill) and o.lots > 0 for o in got.outcomes)


LAYER_CASES = {
    "insurance-fund": (
        _policy(InsuranceFund(), VenueAbsorbs()),
        _funded(("insurance_fund", 5_000)),
        _layer_paid("insurance_fund"),
    ),
    "insurance-fund-capped": (
        _policy(InsuranceFund(cap_quote=1_000)),
        _funded(("insurance_fund", 5_000)),
        _has(Residual),
    ),
    "backstop-vault": (
        _policy(BackstopVault(), VenueAbsorbs()),
        _funded(("backstop_vault", 5_000)),
        _layer_paid("backstop_vault"),
    ),
    "fee-pool": (_policy(FeePool(), VenueAbsorbs()), _funded(("fee_account", 5_000)), _layer_paid("fee_pool")),
    **{
        f"adl-{ranking.value}-{price.value}": (_policy(Adl(ranking, price), VenueAbsorbs()), CRASH_STORY, _adl_filled)
        for ranking in Ranking
        for price in AdlPrice
    },
    "adl-tiered-partial-slippage": (
        _policy(
            Adl(Ranking.BITMEX),
            VenueAbsorbs(),
            margin=TIERED,
            liquidation=LiquidationRule(slippage_ppm=3_000, partial_close_ppm=300_000),
        ),
        CRASH_STORY,
        _adl_filled,
    ),
    "socialized-loss-winners": (_policy(SocializedLoss(Over.WINNERS)), CRASH_STORY, _layer_paid("socialized_loss")),
    "socialized-loss-open-interest-down": (
        _policy(
            SocializedLoss(Over.OPEN_INTEREST),
            VenueAbsorbs(),
            rounding=RoundingRule(pro_rata=ProRata.DOWN_REMAINDER_TO_NEXT_LAYER),
        ),
        CRASH_STORY,
        _layer_paid("socialized_loss"),
    ),
    "haircut-ratio": (_policy(HaircutRatio(), VenueAbsorbs()), CRASH_STORY, _layer_paid("haircut_ratio")),
    "clawback": (_policy(Clawback(window_events=2), VenueAbsorbs()), CRASH_STORY, _layer_paid("clawback")),
    "debt-carry-winners": (_policy(DebtCarry(Lender.WINNERS)), CRASH_STORY, _has(DebtCarried)),
    "debt-carry-venue": (
        _policy(InsuranceFund(), DebtCarry(Lender.VENUE, deposits_repay_debt=False)),
        CRASH_STORY,
        _has(DebtCarried),
    ),
    "venue-absorbs": (_policy(VenueAbsorbs()), CRASH_STORY, _layer_paid("venue_absorbs")),
    "no-layers-residual": (_policy(), CRASH_STORY, _has(Residual)),
    "bankruptcy-execution": (
        _policy(InsuranceFund(), VenueAbsorbs(), liquidation=LiquidationRule(execution=Execution.BANKRUPTCY)),
        CRASH_STORY,
        _has(Bankrupt),
    ),
    "takeover-execution": (
        _policy(BackstopVault(), VenueAbsorbs(), liquidation=LiquidationRule(execution=Execution.TAKEOVER)),
        _funded(("backstop_vault", 1_000)),
        _layer_paid("backstop_vault"),
    ),
}


@pytest.mark.parametrize("case", LAYER_CASES.values(), ids=LAYER_CASES.keys())
def test_each_waterfall_layer_agrees_on_a_crash(case: tuple[Policy, tuple[Any, ...], Any]) -> None:
    """A 30% crash bankrupts a 9x long; the layer under test pays, identically both ways."""
    policy, prefix, reached = case
    book = replay(policy, new_book(mark_quote=MARK, traders=TRADERS), prefix)
    got = both_ways(policy, book, CRASH)
    assert got is not None and reached(got), got


def _after(policy: Policy, prefix: tuple[Any, ...], ev: Any) -> Book:
    return replay(policy, new_book(mark_quote=MARK, traders=TRADERS), prefix + (ev,))


TIERED_STORY = (
    Deposit("alice", 40_000),
    Deposit("bob", 50_000),
    Deposit("carol", 50_000),
    Trade("alice", "bob", 150, MARK),  # notional 150_000: tier 1, IM 30_000, MM 15_000 − 5_000
    Trade("carol", "bob", 10, MARK),
)
SOLVENT_DIP = MarkPrice(930)  # alice: equity 3_700 < MM 4_185, yet 3_700 covers closing: no deficit

OTHER_CASES = {
    "partial-close-stays-solvent": (
        Policy(
            "partial",
            FLAT_10X,
            liquidation=LiquidationRule(slippage_ppm=1_000, partial_close_ppm=300_000, penalty_ppm=10_000),
        ),
        CRASH_STORY,
        SOLVENT_DIP,
        lambda got: _has(Liquidated)(got) and not _has(Bankrupt)(got),
    ),
    "partial-close-across-tiers": (
        Policy("partial-tiered", TIERED, liquidation=LiquidationRule(partial_close_ppm=500_000, penalty_ppm=5_000)),
        TIERED_STORY,
        MarkPrice(760),  # alice: equity 4_000 < MM 6_400 (tier 1); half closed, the rest is tier 0
        lambda got: _has(Liquidated)(got) and got.after.account("alice").size_lots == 75,
    ),
    "bankruptcy-execution-surplus-to-fund": (
        Policy("surplus", FLAT_10X, liquidation=LiquidationRule(execution=Execution.BANKRUPTCY)),
        CRASH_STORY,
        SOLVENT_DIP,
        lambda got: any(t.reason.name == "LIQUIDATION_SURPLUS" for t in got.transfers),
    ),
    "spot-collateral-converted": (
        Policy("spot", SPOT_20X, deficit=(VenueAbsorbs(),)),
        (SpotDeposit("alice", 30_000),) + CRASH_STORY,
        CRASH,
        lambda got: any(t.reason.name == "COLLATERAL_CONVERSION" for t in got.transfers),
    ),
    "funding-sweep": (
        Policy("funding", FLAT_10X, deficit=(InsuranceFund(), VenueAbsorbs())),
        CRASH_STORY,
        Funding(70_000),
        lambda got: any(t.reason.name == "FUNDING_DUST" for t in got.transfers) or _has(Liquidated)(got),
    ),
    "funding-dust-to-the-fund": (
        # alice owes 90 × 1,000 × 0.1234% = 111.06 → 112, carol 12.34 → 13; bob gets 123.4 → 123; dust 2
        Policy(
            "funding-fund", FLAT_10X, rounding=RoundingRule(funding=FundingRounding.PAYERS_UP_DUST_TO_INSURANCE_FUND)
        ),
        CRASH_STORY,
        Funding(1_234),
        lambda got: got.transfers[-1] == Transfer("clearing", "insurance_fund", 2, Reason.FUNDING_DUST),
    ),
    "funding-shortfall-from-the-fee-account": (
        # alice pays 111.06 → 111, carol 12.34 → 12; bob gets 123.4 → 124: the fee account pays 1
        Policy(
            "funding-down",
            FLAT_10X,
            rounding=RoundingRule(funding=FundingRounding.PAYERS_DOWN_SHORTFALL_FROM_FEE_ACCOUNT),
        ),
        CRASH_STORY,
        Funding(1_234),
        lambda got: Transfer("fee_account", "clearing", 1, Reason.FUNDING_DUST) in got.transfers,
    ),
    "deposit-repays-venue-debt": (
        Policy("repay", FLAT_10X, deficit=(DebtCarry(Lender.VENUE, deposits_repay_debt=True),)),
        CRASH_STORY + (CRASH,),
        Deposit("alice", 30_000),
        _has(DepositAbsorbed),
    ),
    "deposit-into-winners-debt": (
        Policy("winners-debt", FLAT_10X, deficit=(DebtCarry(Lender.WINNERS),)),
        CRASH_STORY + (CRASH,),
        Deposit("alice", 5_000),
        _has(DepositAbsorbed),
    ),
    "withdraw-after-gain": (
        Policy("withdraw", FLAT_10X),
        CRASH_STORY + (MarkPrice(1_050),),
        Withdraw("alice", 4_000),
        lambda got: any(t.reason.name == "WITHDRAWAL" for t in got.transfers),
    ),
    "trade-reducing-and-crossing": (
        Policy("cross", FLAT_10X, fees=FeeRule(taker_ppm=500, maker_ppm=200, insurance_share_ppm=500_000)),
        CRASH_STORY,
        Trade("bob", "alice", 120, 1_003),
        lambda got: got.after.account("alice").size_lots == -30,
    ),
}


@pytest.mark.parametrize("case", OTHER_CASES.values(), ids=OTHER_CASES.keys())
def test_hand_built_step_agrees(case: tuple[Policy, tuple[Any, ...], Any, Any]) -> None:
    """Solvent liquidations, spot conversion, funding, debt repayment, withdrawals, position flips."""
    policy, prefix, ev, reached = case
    book = replay(policy, new_book(mark_quote=MARK, traders=TRADERS), prefix)
    got = both_ways(policy, book, ev)
    assert got is not None and reached(got), got


def test_rejected_event_gives_the_same_verdicts() -> None:
    """A withdrawal beyond free margin is refused by the same requirement on both interpreters."""
    policy = Policy("reject", FLAT_10X)
    book = replay(policy, new_book(mark_quote=MARK, traders=TRADERS), CRASH_STORY)
    assert both_ways(policy, book, Withdraw("alice", 9_999)) is None


# --- the model read-back path (free variables pinned by constraints) ---------------------------

ALL_CASES = {
    **{name: (policy, prefix, CRASH) for name, (policy, prefix, _) in LAYER_CASES.items()},
    **{name: (policy, prefix, ev) for name, (policy, prefix, ev, _) in OTHER_CASES.items()},
}


@pytest.mark.parametrize("case", ALL_CASES.values(), ids=ALL_CASES.keys())
def test_model_readback_agrees(case: tuple[Policy, tuple[Any, ...], Any]) -> None:
    """Every input a free ``z3.Int`` pinned to its value: the solver's model gives the concrete step,
    and no transfer on the taken path is negative."""
    policy, prefix, ev = case
    book = replay(policy, new_book(mark_quote=MARK, traders=TRADERS), prefix)
    run = pinned_step_agrees(policy, book, ev)
    ctx, solver = run.ctx, run.solver
    solver.add(z3.Not(z3.And(*transfer_obligations(ctx))))
    assert solver.check() == z3.unsat, "a transfer is negative on the taken path"
    with pytest.raises(Undetermined):
        evaluate_ctx(ctx, simplifier())


def test_variables_are_named_after_owner_and_field() -> None:
    """``variable_book`` names each variable ``<owner>.<field>``; structural ints stay concrete."""
    book = new_book(mark_quote=MARK, traders=("alice",))
    vbook, variables = variable_book(book, prefix="s0.")
    names = [str(v) for v in variables]
    assert names[0] == "s0.PERP.mark_quote"
    assert "s0.alice.cash_quote" in names and "s0.book.net_deposits_quote" in names
    assert (
        len(names) == len(set(names)) == 2 + 10 * len(book.accounts) + 2
    )  # mark and previous mark, 10 per account (the funding remainder and the reserve's slope too), net deposits, fund window sum
    assert vbook.clock == 0 and vbook.market.tick_quote == 1
    _, event_variables = variable_event(Trade("alice", "bob", 1, MARK))
    assert [str(v) for v in event_variables] == ["event.lots", "event.price_quote"]


def _one_free(book: Book, free: z3.ArithRef) -> Iterator[tuple[str, Book, int]]:
    """For each data field: its name, the book with only that field replaced by ``free``, its value."""
    yield "mark_quote", attrs.evolve(book, market=attrs.evolve(book.market, mark_quote=free)), book.market.mark_quote
    yield "net_deposits_quote", attrs.evolve(book, net_deposits_quote=free), book.net_deposits_quote
    for i, a in enumerate(book.accounts):
        for name in data_fields(Account):
            yield f"{a.name}.{name}", book.replace_account(i, attrs.evolve(a, **{name: free})), getattr(a, name)


#: The accounts whose fields the default suite frees one at a time: the bankrupt long (alice), the short
#: that wins and is deleveraged (bob), and every system account; the market's mark and net deposits
#: always. carol (a second long, solvent) and the liquidity account take roles alice's and bob's
#: fields already drive (a trader's side, equity and ADL eligibility symbolic): theirs are the deep
#: test's, which frees every field (session 28: 2 of the 9 accounts were about 40 % of the CPU).
DEFAULT_FREED = ("alice", "bob", *POOLS, "venue", "clearing")


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES.keys())
def test_partly_symbolic_books_agree(policy: Policy) -> None:
    """One free field among Python ints (how proofs fix a price grid): every mix of the two agrees.

    This drives the paths where a Python constant meets a z3 term (``ite(c, True, term)``,
    ``min_(3, term)``, a concrete amount inside a symbolic branch).
    """
    _partly_symbolic_agrees(policy, DEFAULT_FREED)


@pytest.mark.deep
@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES.keys())
def test_partly_symbolic_books_agree_on_every_account(policy: Policy) -> None:
    _partly_symbolic_agrees(policy, None)


def _partly_symbolic_agrees(policy: Policy, accounts: tuple[str, ...] | None) -> None:
    """Each data field of the crashed book (of ``accounts``' fields only, unless ``None``) in turn a
    free ``z3.Int`` pinned to its value: the step read back from the model is the concrete step."""
    book = replay(policy, new_book(mark_quote=MARK, traders=TRADERS), CRASH_STORY)
    expected = step(policy, book, CRASH)
    free = z3.Int("free")
    freed = 0
    for name, mixed, value in _one_free(book, free):
        if accounts is not None and "." in name and name.split(".", 1)[0] not in accounts:
            continue
        freed += 1
        ctx = symbolic_transition(policy, mixed, CRASH)
        solver = z3.Solver()
        solver.add(free == value)
        assert solver.check() == z3.sat, name
        got = evaluate_ctx(ctx, under_model(solver.model()))
        assert_same(
            (got.after, got.transfers, got.outcomes), (expected.after, expected.transfers, expected.outcomes), name
        )
    assert freed == 2 + len(data_fields(Account)) * len(
        [a for a in book.accounts if accounts is None or a.name in accounts]
    )

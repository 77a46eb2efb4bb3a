"""Hyperliquid's funding parts of the payer claims and claims-backed: false at N = 1, so at every N
(session 31, helper hlfund; docs/solver-notes.md#hyperliquids-funding-parts-session-31).

``solvent prove hyperliquid --invariant no-negative-equity,loss-bounded-by-collateral,deficit-charged-once,claims-backed
--accounts 3 --event-kinds mark,funding --effort 10M`` left each funding part undecided. Two stories,
each on one trader and one funding payment inside the funding question's assumptions
(``book_assumptions``), replayed here on the concrete engine (and pinned on z3's ``transition`` in
tests/differential/test_hyperliquid_funding_parts_z3.py):

- **The vault's own ADL rounds its gap up per fill** (no-negative-equity, loss-bounded-by-collateral,
  claims-backed): alice short 5 at a mark of 5 on 1 (her initial margin, ``⌈25 × 2.5%⌉``), the vault
  long 6 on 0, the order book short 1; funding at 39,999 ppm. The vault pays ``⌈6 × 5 × 0.039999⌉ = 2``;
  alice receives ``⌊5 × 5 × 0.039999⌋ = 0`` and the book 0 (the 2 are the fee account's dust). The
  vault, below zero holding lots at a sweep that moved no mark, is deleveraged at its bankruptcy price
  (``pool_bankruptcy.bankrupt_by``, session 27), per fill (``adl.rounds_per_fill``, session 26): alice's
  5 of its 6 lots pay ``⌈2 × 5 / 6⌉ = 2``: **she ends at −1** (0 on 2, +1 on 3). At 40,000 ppm she
  receives 1 and ends at 0. A trader the vault's deficit reaches pays her share of it rounded up, and
  that share is of funding paid to nobody (the dust), so her margin must cover up to a quantum a fill:
  at 1 quantum of equity it does not.
- **The vault takes over what ADL leaves, below zero** (claims-backed): carol long 40 at 1,000 on
  1,000 (initial), the vault short 1 on 0, the order book short 39; funding at 40,000 ppm. Carol pays
  1,600 and is at −600; the vault's 40 received cover 40; the book's 39 lots pay ``⌈560 × 39 / 40⌉ =
  546`` and the vault takes over the 14 its own lot leaves (``bankruptcy.vault_takes_over``, session
  28): **the vault ends flat at −14** (at −1 on 520, at 0 on 521: the fills' rounding up pays the
  rest). Session 28's was the same at N = 4.

Each story with flat, empty traders added is one of N = 2 and N = 3 too, inside their assumptions,
failing the same way; so the claims are false on funding at every N (z3 says it of its own stories:
``refuted for every N ≥ 1``, the deep pins below). Neither is a venue's documented rule: Hyperliquid
closes ADL at the previous mark (docs/venues.md#hyperliquid-adl), where a funding sweep's gap is 0;
the bankruptcy price at a funding sweep (session 25), its rounding per fill (session 26), the vault
deleveraged there with its own balance as the threshold (session 27, the threshold unpublished) and
taking over what ADL leaves (session 28) are the model's decisions.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules.engine import run
from solvent.rules.events import Funding
from solvent.rules.ledger import Reason
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import BackstopVault
from solvent.solver import claims_backed, kind_split
from solvent.solver.assumptions import book_assumptions
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.prove import prove
from tests.rules.test_fidelity_fund_bankruptcy import opened
from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught
from tests.rules.test_fidelity_trader_funding_adl import adl_paid

HYPERLIQUID = load_preset("hyperliquid")
CLAIMS = ("no-negative-equity", "loss-bounded-by-collateral", "claims-backed", "deficit-charged-once")
#: a rate one ppm under the preset's cap, where alice's funding rounds down to 0
RATE = 39_999
CAP = 40_000
#: flat, empty traders added to a story (a refutation at N = 1 is one at every N)
FLAT = ("bob", "carol", "dave")


def scope(accounts: int) -> Bounds:
    return for_policy(Bounds(accounts=accounts, events=1, event_kinds=("funding",), isolated=0), HYPERLIQUID)


def rounding(alice: int = 1, flat: int = 0):
    """The vault's story: alice short 5 at 5 on ``alice``, the vault long 6 on 0, the book short 1;
    ``flat`` empty traders beside her."""
    rows = (("alice", -5, alice), ("backstop_vault", 6, 0), ("liquidity", -1, 0))
    return opened(5, ("alice", *FLAT[:flat]), rows)


def takeover(vault: int = 0, flat: int = 0):
    """The takeover's story: carol long 40 at 1,000 on 1,000, the vault short 1 on ``vault``, the book
    short 39; ``flat`` empty traders beside her (named from the others)."""
    rows = (("carol", 40, 1_000), ("backstop_vault", -1, vault), ("liquidity", -39, 0))
    return opened(1_000, ("carol", *("bob", "dave", "erin")[:flat]), rows)


def step(book, rate: int = RATE, policy=HYPERLIQUID):
    return run(policy, book, [Funding(rate)])[-1]


def holds(s, policy=HYPERLIQUID) -> list[bool]:
    return [bool(catalog.get(c).holds(StepView.of(policy, s))) for c in CLAIMS]


def funding_of(s, name: str) -> int:
    """What ``name`` received in the funding payment (negative: paid)."""
    got = sum(t.amount_quote for t in s.transfers if t.reason is Reason.FUNDING and t.destination == name)
    return got - sum(t.amount_quote for t in s.transfers if t.reason is Reason.FUNDING and t.source == name)


@pytest.mark.parametrize("flat", [0, 1, 2])
def test_the_stories_are_inside_the_funding_questions_assumptions(flat: int) -> None:
    for book in (rounding(flat=flat), takeover(flat=flat)):
        assert [a.name for a in book_assumptions(HYPERLIQUID, book, scope(1 + flat)) if not a.holds] == []


class TestTheVaultsRoundingPerFill:
    def test_alice_pays_two_of_the_vaults_two_and_ends_at_minus_one(self) -> None:
        s = step(rounding())
        assert (funding_of(s, "backstop_vault"), funding_of(s, "alice"), funding_of(s, "liquidity")) == (-2, 0, 0)
        assert adl_paid(s) == {"alice": 2}  # ⌈2 × 5 / 6⌉ for her 5 of the vault's 6 lots
        a, v = s.after.account("alice"), s.after.account("backstop_vault")
        assert (a.cash_quote, a.size_lots, v.cash_quote, v.size_lots) == (-1, 0, 0, 0)
        assert holds(s) == [False, False, False, True]

    @pytest.mark.parametrize(("cash", "end", "held"), [(1, -1, False), (2, 0, True), (3, 1, True)])
    def test_one_quantum_either_side_of_her_zero(self, cash: int, end: int, held: bool) -> None:
        s = step(rounding(cash))
        assert (s.after.account("alice").cash_quote, holds(s)[:3]) == (end, [held] * 3)

    def test_at_the_cap_her_funding_is_one_and_she_ends_at_zero(self) -> None:
        """At 40,000 ppm she receives ``⌊1.0⌋ = 1`` and the vault pays ``⌈1.2⌉ = 2``: the same charge, 0."""
        s = step(rounding(), CAP)
        assert (funding_of(s, "alice"), adl_paid(s), s.after.account("alice").cash_quote) == (1, {"alice": 2}, 0)
        assert holds(s) == [True, True, True, True]

    @pytest.mark.parametrize("flat", [1, 2])
    def test_flat_traders_beside_her_change_nothing(self, flat: int) -> None:
        s = step(rounding(flat=flat))
        assert s.after.account("alice").cash_quote == -1
        assert all(s.after.account(n).cash_quote == 0 for n in FLAT[:flat])
        assert holds(s) == [False, False, False, True]

    def test_a_vault_not_deleveraged_at_a_funding_sweep_keeps_its_minus_two(self) -> None:
        """The named mutant: ``deleveraged_without_move = false`` on the vault's layer (session 24's rule):
        nobody is charged, alice keeps her 1, and the vault stays at −2 holding its 6 lots (claims-backed
        still false: on the vault)."""
        layers = tuple(
            attrs.evolve(d, deleveraged_without_move=False) if isinstance(d, BackstopVault) else d
            for d in HYPERLIQUID.deficit
        )
        policy = attrs.evolve(HYPERLIQUID, deficit=layers)
        s = step(rounding(), policy=policy)
        v = s.after.account("backstop_vault")
        assert (adl_paid(s), s.after.account("alice").cash_quote, v.cash_quote, v.size_lots) == ({}, 1, -2, 6)
        assert holds(s, policy) == [True, True, False, True]


class TestTheVaultTakesOverBelowZero:
    def test_the_vault_ends_flat_at_minus_14(self) -> None:
        s = step(takeover(), CAP)
        assert (funding_of(s, "carol"), funding_of(s, "backstop_vault")) == (-1_600, 40)
        assert adl_paid(s) == {"liquidity": 546}  # ⌈560 × 39 / 40⌉
        assert sum(t.amount_quote for t in s.transfers if t.reason is Reason.VAULT_TAKEOVER) == 14
        v, c = s.after.account("backstop_vault"), s.after.account("carol")
        assert (v.cash_quote, v.size_lots, c.cash_quote, c.size_lots) == (-14, 0, 0, 0)
        assert holds(s) == [True, True, False, True]

    @pytest.mark.parametrize(
        ("cash", "end", "backed"),
        [(0, -14, False), (520, -1, False), (521, 0, True), (560, 0, True), (561, 1, True)],
    )
    def test_where_the_vault_ends_at_zero(self, cash: int, end: int, backed: bool) -> None:
        """The vault covers ``cash + 40`` first; of the ``D = 560 − cash`` left the book's 39 fills pay
        ``⌈D × 39 / 40⌉`` and the vault takes over ``⌊D / 40⌋``: below zero from ``D = 40`` (cash 520: −1),
        at zero for 39 and under (521), above zero only where its cash covers her 600 (561: +1)."""
        s = step(takeover(cash), CAP)
        assert (s.after.account("backstop_vault").cash_quote, holds(s)[2]) == (end, backed)

    @pytest.mark.parametrize("flat", [1, 2])
    def test_flat_traders_beside_her_change_nothing(self, flat: int) -> None:
        s = step(takeover(flat=flat), CAP)
        assert s.after.account("backstop_vault").cash_quote == -14
        assert holds(s) == [True, True, False, True]


# --- z3's own refutations: the deep pins (docs/solver-notes.md#hyperliquids-funding-parts-session-31) ---

#: (claim, the still mark fixed by ``price_grid`` or None, units spent to refute at N = 1 over funding, 10M):
#: the plain question (no route of ``kind_split.grid_first``: a price grid given, or the system holders'
#: part, which is not one of its claims)
Z3_STORIES = (
    ("no-negative-equity", 4, 6_162_945),
    ("loss-bounded-by-collateral", 2, 6_055_013),
    (claims_backed.SYSTEM_ID, None, 8_093_048),
)


def one_funding(claim: str, mark: int | None, policy=HYPERLIQUID):
    grid = () if mark is None else (mark,)
    bounds = Bounds(accounts=1, events=1, event_kinds=("funding",), isolated=0, price_grid=grid, effort=10_000_000)
    return prove(policy, claims_backed.SYSTEM if claim == claims_backed.SYSTEM_ID else claim, bounds)


@pytest.mark.deep
@pytest.mark.parametrize(("claim", "mark", "units"), Z3_STORIES)
def test_z3_refutes_each_claim_on_one_funding_payment(claim: str, mark: int | None, units: int) -> None:
    """Each refuted by z3 at N = 1 on one funding payment, its story replayed on the concrete engine, at
    these units (the same in every process: each a question of its own), under 10M. At a free mark the
    payer claims stay undecided at 10M (the rate times the size is nonlinear); with the mark fixed the
    story is found. The system holders' story is the vault's takeover (flat below zero). Where the claim
    is each account's, z3's story with flat traders added is replayed at every N up to 8."""
    r = one_funding(claim, mark)
    assert (r.verdict.value, r.units) == ("refuted", units)
    assert isinstance(r.counterexample.story.events[0], Funding) and r.counterexample.story.events[0].rate_ppm != 0
    if claim != claims_backed.SYSTEM_ID:
        assert "refuted for every N ≥ 1" in r.method


def vault_kept(policy=HYPERLIQUID):
    """The vault's layer with ``deleveraged_without_move = false`` (session 24's rule)."""
    layers = tuple(
        attrs.evolve(d, deleveraged_without_move=False) if isinstance(d, BackstopVault) else d for d in policy.deficit
    )
    return attrs.evolve(policy, deficit=layers)


@pytest.mark.deep
def test_with_the_vault_not_deleveraged_at_funding_the_first_is_not_refuted() -> None:
    """The named mutant of the rule the no-negative-equity story rests on: the same question is proved
    (N ≤ 1 at a mark of 4), in 284,696 units: the vault's own ADL at a funding sweep is what breaks it."""
    r = one_funding("no-negative-equity", 4, vault_kept())
    assert (r.verdict.value, r.units) == ("proved", 284_696)


# --- the route: the cells of the funding question refuted (kind_split.grid_first, prove's _funding_story_first) ---


def cell(claim: str, kinds=("mark", "funding"), effort: int = 10_000_000):
    return prove(HYPERLIQUID, claim, Bounds(accounts=3, events=1, event_kinds=kinds, isolated=0, effort=effort))


class TestWhereTheRouteApplies:
    FUNDING = Bounds(accounts=3, events=1, event_kinds=("mark", "funding"))

    @pytest.mark.parametrize("claim", kind_split.GRID_CLAIMS)
    def test_the_claims_on_hyperliquids_funding_at_one_event(self, claim: str) -> None:
        assert kind_split.grid_first(HYPERLIQUID, claim, self.FUNDING)
        assert kind_split.grid_first(HYPERLIQUID, claim, attrs.evolve(self.FUNDING, event_kinds=("funding",)))

    @pytest.mark.parametrize(
        "bounds",
        [
            attrs.evolve(FUNDING, event_kinds=("mark",)),  # no funding payment
            attrs.evolve(FUNDING, events=2),  # a story of two events mixes kinds: not this search's
            attrs.evolve(FUNDING, price_grid=(5,)),  # the question's own grid decides its prices
        ],
    )
    def test_not_elsewhere(self, bounds: Bounds) -> None:
        assert not kind_split.grid_first(HYPERLIQUID, "no-negative-equity", bounds)

    def test_not_other_claims_nor_a_vault_kept_at_funding_nor_other_presets(self) -> None:
        assert not kind_split.grid_first(HYPERLIQUID, "deficit-charged-once", self.FUNDING)
        assert not kind_split.grid_first(HYPERLIQUID, claims_backed.SYSTEM_ID, self.FUNDING)
        assert not kind_split.grid_first(vault_kept(), "no-negative-equity", self.FUNDING)
        for name in ("binance", "bitmex", "drift"):
            assert not kind_split.grid_first(load_preset(name), "no-negative-equity", self.FUNDING), name


def test_every_one_token_mutant_of_grid_first_is_caught(monkeypatch) -> None:
    """``grid_first`` on the cases above (each condition on both sides): every one-token mutant
    answers one of them otherwise."""
    on = TestWhereTheRouteApplies.FUNDING
    cases = [
        (HYPERLIQUID, "no-negative-equity", on),
        (HYPERLIQUID, "claims-backed", attrs.evolve(on, event_kinds=("funding",))),
        (HYPERLIQUID, "no-negative-equity", attrs.evolve(on, event_kinds=("mark",))),
        (HYPERLIQUID, "no-negative-equity", attrs.evolve(on, events=2)),
        (HYPERLIQUID, "no-negative-equity", attrs.evolve(on, price_grid=(5,))),
        (HYPERLIQUID, "deficit-charged-once", on),
        (vault_kept(), "no-negative-equity", on),
        (load_preset("binance"), "no-negative-equity", on),
    ]

    def observe() -> list[bool]:
        return [bool(kind_split.grid_first(p, c, b)) for p, c, b in cases]

    assert observe() == [True, True, False, False, False, False, False, False]
    assert_every_mutant_is_caught(monkeypatch, kind_split, "grid_first", observe, at_least=5)


def test_claims_backed_over_mark_and_funding_at_n3_is_refuted_by_the_vaults_rounding() -> None:
    """The cell's all-cross scope: refuted in 678,581 units of 10M (the search's third: 3.33M), by the
    traders' story at N = 1 replayed against claims-backed: a trader short at a mark of 4 on 1 quantum,
    charged 2 by the vault's own ADL after a funding payment of 2 quanta that all went to dust."""
    r = cell("claims-backed")
    assert (r.verdict.value, r.units) == ("refuted", 678_581)
    story = r.counterexample.story
    assert isinstance(story.events[0], Funding) and story.book.market.mark_quote == 4
    [step] = r.counterexample.steps
    assert any(t.reason is Reason.ADL and t.destination == "backstop_vault" for t in step.transfers)
    assert min(a.cash_quote for a in step.after.traders) == -1


@pytest.mark.deep
@pytest.mark.parametrize(
    ("claim", "units"), [("no-negative-equity", 3_178_581), ("loss-bounded-by-collateral", 3_178_985)]
)
def test_the_payer_claims_funding_parts_at_n3_are_refuted(claim: str, units: int) -> None:
    """The funding parts of the cells (all-cross, N = 3): refuted, each within the question's third
    (the search 678,581 and 678,985 units, the rest the story's shrinking), refuted for every N."""
    r = cell(claim, ("funding",))
    assert (r.verdict.value, r.units) == ("refuted", units)
    assert "refuted for every N ≥ 1" in r.method


@pytest.mark.deep
def test_without_the_route_claims_backed_at_n3_is_undecided(monkeypatch) -> None:
    """The route's mutant (``grid_first`` false everywhere): the cell's all-cross scope is undecided at
    10M, as before session 31."""
    monkeypatch.setattr(kind_split, "grid_first", lambda policy, claim, bounds: False)
    assert cell("claims-backed").verdict.value != "refuted"


# --- deficit-charged-once's funding parts: proved at N = 3 exact first, alone (kind_split.exact_alone) ---


def dco_funding(accounts: int, isolated: int = 0):
    bounds = Bounds(accounts=accounts, events=1, event_kinds=("funding",), isolated=isolated, effort=10_000_000)
    return prove(HYPERLIQUID, "deficit-charged-once", bounds)


class TestWhereExactAloneApplies:
    FUNDING = Bounds(accounts=3, events=1, event_kinds=("funding",))

    def test_deficit_charged_once_over_funding_alone_on_hyperliquid(self) -> None:
        assert kind_split.exact_alone(HYPERLIQUID, "deficit-charged-once", self.FUNDING)
        assert kind_split.exact_alone(HYPERLIQUID, "deficit-charged-once", attrs.evolve(self.FUNDING, isolated=1))

    def test_every_one_token_mutant_is_caught(self, monkeypatch) -> None:
        on = self.FUNDING
        cases = [
            (HYPERLIQUID, "deficit-charged-once", on),
            (HYPERLIQUID, "deficit-charged-once", attrs.evolve(on, event_kinds=("mark", "funding"))),
            (HYPERLIQUID, "deficit-charged-once", attrs.evolve(on, event_kinds=("mark",))),
            (HYPERLIQUID, "deficit-charged-once", attrs.evolve(on, events=2)),
            (HYPERLIQUID, "no-negative-equity", on),
            (vault_kept(), "deficit-charged-once", on),
            (load_preset("binance"), "deficit-charged-once", on),
        ]

        def observe() -> list[bool]:
            return [bool(kind_split.exact_alone(p, c, b)) for p, c, b in cases]

        assert observe() == [True, False, False, False, False, False, False]
        assert_every_mutant_is_caught(monkeypatch, kind_split, "exact_alone", observe, at_least=4)


@pytest.mark.deep
@pytest.mark.parametrize(
    ("accounts", "isolated", "units", "scope"), [(3, 0, 5_161_409, 3), (2, 0, 2_014_081, 2), (2, 1, 3_828_985, 2)]
)
def test_deficit_charged_once_over_funding_is_proved(accounts: int, isolated: int, units: int, scope: int) -> None:
    """The funding parts of the cell (all-cross at N = 3, and the N = 2 books, all-cross and isolated): proved
    for N ≤ N by the exact query asked first with the whole effort (N = 3: unsat in 3,813,552 units, the build
    1,347,600), where the portfolio after the smaller books' search ran out at N = 3 (9,216,435 units) and
    proved N = 2 in 6.2M and 6.7M."""
    r = dco_funding(accounts, isolated)
    assert (r.verdict.value, r.units, r.scope.accounts) == ("proved", units, scope)


@pytest.mark.deep
def test_without_exact_alone_the_n3_funding_part_is_undecided(monkeypatch) -> None:
    """The rule's mutant (``exact_alone`` false everywhere): the funding part at N = 3 is undecided at 10M,
    its units those of main before session 31."""
    monkeypatch.setattr(kind_split, "exact_alone", lambda policy, claim, bounds: False)
    r = dco_funding(3)
    assert (r.verdict.value, r.units) == ("partial", 9_216_435)

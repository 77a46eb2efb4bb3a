"""A venue's funding cap (``[funding] max_rate_ppm``, session 26): Hyperliquid caps its hourly
funding at 4% an hour, 40,000 ppm a payment (docs/venues.md#hyperliquid-funding). A ``Funding``
event beyond it is not the venue's: the engine rejects it (``rules.engine._funding_requirements``,
through ``rules.settlement.funding_cap_ppm``), the search resolves its drawn rates within it; a rate
exactly at it is paid. The loader names a bad cap by file, field and line; the dump writes it only
when set. Its z3 twin and the prover's bounds: tests/solver/test_funding_cap_prover.py."""

from __future__ import annotations

import attrs
import pytest

from solvent.properties import actions as act
from solvent.properties import catalog
from solvent.properties.catalog import StepView
from solvent.rules import engine, settlement
from solvent.rules.engine import RejectedEvent, step
from solvent.rules.events import Funding
from solvent.rules.ledger import Reason, Transfer
from solvent.rules.loading import PolicyError, dumps_policy, loads_policy
from solvent.rules.presets import load_preset
from solvent.rules.settlement import FundingRule
from tests.rules.test_fidelity_fund_bankruptcy import opened
from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught

HYPERLIQUID = load_preset("hyperliquid")
UNCAPPED = attrs.evolve(HYPERLIQUID, funding=FundingRule())
CAP = 40_000
MESSAGE = "rate_ppm must be between -40000 and 40000 (the policy's [funding] max_rate_ppm)"


def book():
    """alice long 10 at 10,000 on 100,000; bob short 10 on 100,000: 4% is 4,000 either way."""
    return opened(10_000, ("alice", "bob"), (("alice", 10, 100_000), ("bob", -10, 100_000)))


def outcome(policy, rate: int) -> str | tuple[int, int]:
    """alice's and bob's cash after a payment at ``rate``, or the rejection's reason."""
    try:
        after = step(policy, book(), Funding(rate)).after
    except RejectedEvent as rejected:
        return rejected.reason
    return after.account("alice").cash_quote, after.account("bob").cash_quote


def boundaries() -> list:
    """The cap's boundary on both sides, and the uncapped policy's at 100%."""
    capped = [outcome(HYPERLIQUID, r) for r in (-CAP - 1, -CAP, CAP, CAP + 1)]
    return capped + [outcome(UNCAPPED, r) for r in (CAP + 1, 1_000_000, 1_000_001)]


def test_the_preset_states_the_venues_cap() -> None:
    assert HYPERLIQUID.funding == FundingRule(max_rate_ppm=CAP)
    assert settlement.funding_cap_ppm(HYPERLIQUID) == CAP
    assert settlement.funding_cap_ppm(load_preset("binance")) == 1_000_000  # no source states one


@pytest.mark.parametrize("sign", [1, -1], ids=["longs pay", "shorts pay"])
def test_a_rate_at_the_cap_is_paid_one_ppm_beyond_it_is_rejected(sign: int) -> None:
    s = step(HYPERLIQUID, book(), Funding(sign * CAP))
    payer, receiver = ("alice", "bob") if sign > 0 else ("bob", "alice")
    assert s.after.account(payer).cash_quote == 96_000
    assert s.after.account(receiver).cash_quote == 104_000
    assert Transfer(payer, "clearing", 4_000, Reason.FUNDING) in s.transfers
    with pytest.raises(RejectedEvent) as info:
        step(HYPERLIQUID, book(), Funding(sign * (CAP + 1)))
    assert info.value.reason == MESSAGE


def test_without_a_cap_the_engine_bound_is_as_before() -> None:
    assert outcome(UNCAPPED, CAP + 1) == (95_999, 104_000)  # 4,000.1: the payer rounds up, the receiver down
    assert outcome(UNCAPPED, 1_000_000) == (0, 200_000)
    assert outcome(UNCAPPED, 1_000_001) == "rate_ppm must be between -1000000 and 1000000"


def test_every_mutant_of_the_rule_is_caught(monkeypatch) -> None:
    """Each one-token mutant of the requirement fails the boundaries, and so does the cap read off by
    one either way or with the wrong sign."""
    assert boundaries() == [MESSAGE, (104_000, 96_000), (96_000, 104_000), MESSAGE, (95_999, 104_000)] + [
        (0, 200_000),
        "rate_ppm must be between -1000000 and 1000000",
    ]
    assert_every_mutant_is_caught(monkeypatch, engine, "_funding_requirements", boundaries, at_least=2)
    expected = boundaries()
    real = settlement.funding_cap_ppm
    for label, wrong in (
        ("cap + 1", lambda p: real(p) + 1),
        ("cap - 1", lambda p: real(p) - 1),
        ("-cap", lambda p: -real(p)),
        ("the max_rate_ppm absent read as none", lambda p: 1_000_000),
    ):
        with monkeypatch.context() as m:
            m.setattr(engine, "funding_cap_ppm", wrong)
            assert boundaries() != expected, label


def test_the_search_draws_within_the_cap() -> None:
    """A drawn rate beyond the cap resolves to the cap, of its sign; within it, to itself."""
    b = book()
    assert act.resolve(HYPERLIQUID, b, act.PayFunding(100_000)) == Funding(CAP)
    assert act.resolve(HYPERLIQUID, b, act.PayFunding(-100_000)) == Funding(-CAP)
    assert act.resolve(HYPERLIQUID, b, act.PayFunding(-CAP)) == Funding(-CAP)
    assert act.resolve(HYPERLIQUID, b, act.PayFunding(9_999)) == Funding(9_999)
    assert act.resolve(UNCAPPED, b, act.PayFunding(100_000)) == Funding(100_000)


def test_the_loader_names_a_bad_cap_and_the_dump_writes_it_only_when_set() -> None:
    text = dumps_policy(HYPERLIQUID)
    assert "\n[funding]\nmax_rate_ppm = 40000\n" in text
    assert loads_policy(text) == HYPERLIQUID
    assert "[funding]" not in dumps_policy(UNCAPPED)
    line = text.splitlines().index("max_rate_ppm = 40000") + 1
    for bad, must in (
        ("0", "must be >= 1: 0"),
        ("1000001", "must be <= 1000000: 1000001"),
        ("0.04", "must be an integer number of ppm: 0.04"),
    ):
        with pytest.raises(PolicyError) as info:
            loads_policy(text.replace("max_rate_ppm = 40000", f"max_rate_ppm = {bad}"), source="hl.toml")
        assert info.value.errors == [f"'max_rate_ppm' {must} @ $.funding.max_rate_ppm (hl.toml:{line}:16)"]


#: the smallest vault story (session 26): alice short 1 and bob long 2 at 10,000 on 100,000, the vault short 1
VAULT_ROWS = (("alice", -1, 100_000), ("bob", 2, 100_000))


def _vault_story(rate: int, cash: int) -> tuple[tuple[int, int], int, bool]:
    """The vault short 1 at 10,000 on ``cash`` at ``rate``: its (cash, lots), what bob paid it by ADL, and
    whether claims-backed holds on the step."""
    rows = (*VAULT_ROWS, ("backstop_vault", -1, cash))
    s = step(HYPERLIQUID, opened(10_000, ("alice", "bob"), rows), Funding(rate))
    v = s.after.account("backstop_vault")
    paid = sum(t.amount_quote for t in s.transfers if t.reason is Reason.ADL and t.source == "bob")
    return (v.cash_quote, v.size_lots), paid, bool(catalog.get("claims-backed").holds(StepView.of(HYPERLIQUID, s)))


def test_within_the_cap_the_vault_a_payment_takes_below_zero_is_deleveraged() -> None:
    """What the cap left of the −100% story (session 26): the vault short 1 at 10,000 pays 4%, 400. On 400
    it ends at exactly 0 and holds on; on 399 (one quantum below) it is at −1 and is deleveraged at the
    funding sweep (session 27: docs/model.md#the-funds-own-bankruptcy, "The vault at a funding event,
    again"): bob, long opposite, closes its lot and pays exactly the 1, the vault flat at 0; on 0, bob
    pays the 400 he received from it. claims-backed holds in each; at −1 ppm (the vault pays 1, bob
    receives 0 of it, the dust to the fee account) bob pays 1."""
    assert _vault_story(-CAP, 400) == ((0, -1), 0, True)
    assert _vault_story(-CAP, 401) == ((1, -1), 0, True)
    assert _vault_story(-CAP, 399) == ((0, 0), 1, True)
    assert _vault_story(-CAP, 0) == ((0, 0), 400, True)
    assert _vault_story(-1, 0) == ((0, 0), 1, True)
    assert _vault_story(0, 0) == ((0, -1), 0, True)


def test_session_24s_vault_kept_a_funding_payments_debt(monkeypatch) -> None:
    """The named mutant: session 24's trigger (the vault's lots' loss in the move alone) leaves the vault
    on 399 at −1 and on 0 at −400, holding, nobody charged: claims-backed fails, as session 26 found."""
    from solvent.rules import pool_bankruptcy

    monkeypatch.setattr(
        pool_bankruptcy, "bankrupt_by", lambda ctx, pool, without_move: pool_bankruptcy.lots_lose(ctx, pool)
    )
    assert _vault_story(-CAP, 400) == ((0, -1), 0, True)
    assert _vault_story(-CAP, 399) == ((-1, -1), 0, False)
    assert _vault_story(-CAP, 0) == ((-400, -1), 0, False)


def test_a_vault_at_initial_margin_pays_more_than_it_holds() -> None:
    """Why a margin premise on the vault (option (a), not taken) would not end the story: BTC's initial
    margin is 2.5% (40x), under the 4% cap, so the vault short 1 at 10,000 on exactly its initial margin,
    250, pays 400 and is at −150 after the payment; it is deleveraged at the sweep (bob pays 150)."""
    from solvent.rules.margin import initial_margin

    assert initial_margin(HYPERLIQUID.margin, HYPERLIQUID.rounding, -1, 10_000) == 250
    assert _vault_story(-CAP, 250) == ((0, 0), 150, True)

"""Whether a pool below zero holding lots is deleveraged at a sweep that moved no mark, a policy field
since session 28: ``deleveraged_without_move`` on the pool's own layer (``[[deficit]] layer =
"backstop_vault"`` or ``"insurance_fund"``), read by ``rules.pool_bankruptcy.bankrupt_by`` through
``without_move``. The defaults are the rules each role had (docs/model.md#the-funds-own-bankruptcy): the
vault ``true`` (session 27, "The vault at a funding event, again"), the fund ``false`` (session 24, "At a
funding event"), so no preset's text or terms change. Each value told on the other pool's story:

- the vault with ``false``: JELLY's book after the takeover, funding at −10 ppm (tests/rules/test_fidelity_vault_adl.py):
  at 4,066 it is at −1 after the payment and keeps it, holding its short, nobody charged (session 24's
  numbers), where ``true`` closes it against alice for 1;
- the fund with ``true``: BitMEX's fund at −4,000 + ``x`` after the takeover, funding at 500 ppm
  (tests/rules/test_fidelity_fund_bankruptcy.py): at ``x`` = 496 it is at −1 after the payment and is
  deleveraged at that sweep, bob paying its 1 (per fill) and the fund flat at 0; at 497 (exactly 0) it
  holds its 500 lots, nobody charged. With ``false`` it keeps the −1 to the next move.
"""

from __future__ import annotations

import attrs
import pytest

from solvent.rules import pool_bankruptcy
from solvent.rules.book import Role
from solvent.rules.engine import run
from solvent.rules.loading import PolicyError, dumps_policy, loads_policy
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import BackstopVault, InsuranceFund
from tests.rules import test_fidelity_fund_bankruptcy as fund
from tests.rules import test_fidelity_vault_adl as vault

HYPERLIQUID = load_preset("hyperliquid")
BITMEX = load_preset("bitmex")


def with_field(policy, own: type, value: bool):
    """``policy`` with its ``own`` layer's ``deleveraged_without_move`` set to ``value``."""
    layers = tuple(attrs.evolve(d, deleveraged_without_move=value) if isinstance(d, own) else d for d in policy.deficit)
    return attrs.evolve(policy, deficit=layers)


def vault_at_funding(policy, x: int) -> tuple:
    """The vault's (cash, lots) and what alice and bob paid it by ADL after the funding payment, from ``x``."""
    _, funding, _ = run(policy, vault.book(x - vault.TAKEN_OVER), list(vault.AT_FUNDING))
    return vault._vault(funding), vault._charged(funding)


def fund_at_funding(policy, x: int) -> tuple:
    """The fund's (cash, lots) and what bob paid it by ADL after the funding payment, from −4,000 + ``x``."""
    _, funding, _ = run(policy, fund.book(-4_000 + x), list(fund.AT_FUNDING))
    f = funding.after.account("insurance_fund")
    return (f.cash_quote, f.size_lots), fund._charged(funding)


def test_the_defaults_are_each_roles_rule() -> None:
    assert pool_bankruptcy.without_move(HYPERLIQUID, Role.BACKSTOP_VAULT) is True
    assert pool_bankruptcy.without_move(BITMEX, Role.INSURANCE_FUND) is False
    # a policy that lists no such layer: the field's default for the role
    assert BITMEX.layer(BackstopVault) is None and HYPERLIQUID.layer(InsuranceFund) is None
    assert pool_bankruptcy.without_move(BITMEX, Role.BACKSTOP_VAULT) is True
    assert pool_bankruptcy.without_move(HYPERLIQUID, Role.INSURANCE_FUND) is False


class TestTheVault:
    def test_true_by_default_deleverages_it_at_the_funding_sweep(self) -> None:
        assert vault_at_funding(HYPERLIQUID, 4_066) == ((0, 0), {"alice": 1, "bob": 0})

    @pytest.mark.parametrize(("x", "cash"), [(4_066, -1), (4_067, 0), (4_068, 1)])
    def test_false_keeps_the_debt_holding_its_short(self, x: int, cash: int) -> None:
        """Session 24's numbers: at −1, 0, +1 after the payment, still short, nobody charged."""
        got = vault_at_funding(with_field(HYPERLIQUID, BackstopVault, False), x)
        assert got == ((cash, -vault.WHALE), {"alice": 0, "bob": 0})


class TestTheFund:
    @pytest.mark.parametrize(("x", "cash"), [(496, -1), (497, 0), (498, 1)])
    def test_false_by_default_keeps_the_debt(self, x: int, cash: int) -> None:
        assert fund_at_funding(BITMEX, x) == ((cash, 500), 0)

    @pytest.mark.parametrize(("x", "after", "paid"), [(496, (0, 0), 1), (497, (0, 500), 0), (498, (1, 500), 0)])
    def test_true_deleverages_it_at_the_funding_sweep(self, x: int, after: tuple, paid: int) -> None:
        """At −1 after the payment its whole deficit, 1, at its bankruptcy price per fill (no move to bound
        it by): bob pays 1 and the fund is flat at 0; at 0 and +1 it holds on."""
        assert fund_at_funding(with_field(BITMEX, InsuranceFund, True), x) == (after, paid)


class TestTheText:
    def test_no_preset_writes_it(self) -> None:
        for name in ("hyperliquid", "bitmex"):
            assert "deleveraged_without_move" not in dumps_policy(load_preset(name)), name

    @pytest.mark.parametrize(
        ("policy", "own", "value"), [(HYPERLIQUID, BackstopVault, False), (BITMEX, InsuranceFund, True)]
    )
    def test_the_other_value_is_read_and_written(self, policy, own: type, value: bool) -> None:
        text = dumps_policy(with_field(policy, own, value))
        assert f"deleveraged_without_move = {str(value).lower()}" in text
        assert loads_policy(text).layer(own).deleveraged_without_move is value

    def test_a_bad_value_names_the_field_and_its_line(self) -> None:
        text = dumps_policy(with_field(HYPERLIQUID, BackstopVault, False))
        text = text.replace("deleveraged_without_move = false", 'deleveraged_without_move = "no"')
        line = text.splitlines().index('deleveraged_without_move = "no"') + 1
        with pytest.raises(PolicyError) as error:
            loads_policy(text)
        assert str(error.value) == (
            "<string>: 1 error(s)\n  'deleveraged_without_move' must be true or false: 'no' "
            f"@ $.deficit[0].deleveraged_without_move (<string>:{line}:28)"
        )


def observe() -> list:
    """Both pools at both values, the funding sweep from −1, 0, +1."""
    out = []
    for policy in (HYPERLIQUID, with_field(HYPERLIQUID, BackstopVault, False)):
        out += [vault_at_funding(policy, x) for x in (4_066, 4_067)]
    for policy in (BITMEX, with_field(BITMEX, InsuranceFund, True)):
        out += [fund_at_funding(policy, x) for x in (496, 497)]
    return out


def test_every_mutant_of_without_move_and_bankrupt_by_is_caught(monkeypatch) -> None:
    """Every one-token mutant of ``bankrupt_by`` (its ``and``, its ``not``, the lots held) on both values."""
    from tests.rules.test_fidelity_round_two import assert_every_mutant_is_caught

    assert_every_mutant_is_caught(monkeypatch, pool_bankruptcy, "bankrupt_by", observe, at_least=3)
    expected = observe()
    with monkeypatch.context() as m:  # the field not read: each role's rule written in (before session 28)
        m.setattr(pool_bankruptcy, "without_move", lambda policy, role: role is Role.BACKSTOP_VAULT)
        assert observe() != expected

"""The trade-off table: which of no-negative-equity, no-haircut and deposit-not-absorbed each preset
gives up, with the story of who paid a one-tick gap (README's table is this one).

A row's cells are the verdicts of ``solvent check`` under the same judgement, by construction; the
table below is checked under ``solvent check --no-search`` (the stress scenarios only), which
every test here can afford."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from solvent.reports.tradeoffs import markdown, story
from solvent.rules.loading import load_policy
from solvent.rules.presets import load_preset, preset_names
from solvent.verdicts.check import ClaimStatus, Judgement, check_policy
from solvent.verdicts.tradeoffs import (
    ACCEPTED,
    GAP_STORIES,
    GIVEN_UP,
    KEPT,
    PROMISES,
    tradeoff,
    tradeoff_of,
    tradeoff_table,
)

#: ``solvent check --no-search``: the five stress scenarios, no search, no z3
NO_SEARCH = Judgement.from_options(search=False)
PLANTED = Path(__file__).resolve().parents[1] / "planted"

#: preset → ((no-negative-equity, no-haircut, deposit-not-absorbed), the gap's story). Amounts in
#: each preset's quote quanta; the gap-crash story sizes alice at the preset's maximum leverage.
TABLE = {
    "backpack": (
        (ACCEPTED, KEPT, ACCEPTED),
        "alice's deficit is 110,099: 110,099 stays as her debt to the winners; her next deposit of 110,001 loses 110,001 to it",
    ),
    "binance": ((KEPT, ACCEPTED, KEPT), "alice's deficit is 8,899: insurance fund 2,200, adl 6,699"),
    # bitmex is inverse (XBTUSD): the gap lands on the whole-USD grid, $10,000 → $9,783, whose coin
    # value 10^8 / 9,783 rounds to 10,222 XBt a contract: alice's 100 contracts lose 22,200 XBt
    # against her 11,001 (bybit, linear, gaps to exactly twice her equity)
    "bitmex": ((KEPT, ACCEPTED, KEPT), "alice's deficit is 11,199: insurance fund 2,750, adl 8,449"),
    "broker-reg-t": (
        (KEPT, KEPT, ACCEPTED),
        "alice's deficit is 349,999: 349,999 stays as her debt to the venue, which fronts it; her next deposit of 550,001 loses 349,999 to it",
    ),
    "bybit": (
        (KEPT, ACCEPTED, KEPT),
        "alice's deficit is 11,099: insurance fund 2,887, adl 8,212 (the winners pay 8,800)",
    ),
    "drift": (
        (KEPT, ACCEPTED, KEPT),
        "alice's deficit is 117,899: insurance fund 27,499, fee pool empty, socialized loss 90,400",
    ),
    "dydx-v4": (
        (KEPT, ACCEPTED, KEPT),
        "alice's deficit is 55,099: insurance fund declines (it holds 13,750, less than the whole deficit), adl 55,099",
    ),
    "gmx-v2": (
        (GIVEN_UP, KEPT, GIVEN_UP),
        "alice's deficit is 22,099: backstop vault empty, 22,099 left unpaid on her account; her next deposit of 22,001 loses 22,001 to it",
    ),
    "hyperliquid": (
        (KEPT, ACCEPTED, KEPT),
        "alice's deficit is 27,599: backstop vault empty, adl 27,599 (the winners pay 55,100)",
    ),
    "mango-v4": ((KEPT, ACCEPTED, KEPT), "alice's deficit is 117,899: insurance fund 27,500, socialized loss 90,399"),
    "okx": ((KEPT, ACCEPTED, KEPT), "alice's deficit is 14,669: insurance fund 3,657, adl 11,012"),
    # okx-2018 is inverse too (USD 100 BTC futures, satoshi): $10,000 → $8,196 on the whole-USD
    # grid, 10^10 / 8,196 ≈ 1,220,107 satoshi a contract against 1,000,000 at entry
    "okx-2018": ((KEPT, ACCEPTED, KEPT), "alice's deficit is 11,010,699: insurance fund 2,750,000, clawback 8,260,699"),
    # percolator's Gen A spends no fund on a deficit (spec v7 §3.1); Gen B pays from the fund first,
    # then charges the opposing side per lot (its side index, spec v11.31 §5.6)
    "percolator-gen-a": ((KEPT, ACCEPTED, KEPT), "alice's deficit is 110,099: haircut ratio 110,099"),
    "percolator-gen-b": (
        (KEPT, ACCEPTED, KEPT),
        "alice's deficit is 110,099: insurance fund 29,750, socialized loss 80,349",
    ),
}


def test_every_preset_has_a_row() -> None:
    assert sorted(TABLE) == preset_names()


@pytest.mark.parametrize("name", sorted(TABLE))
def test_row(name: str) -> None:
    """The promises the preset breaks under the gap, and who paid."""
    row = tradeoff(load_preset(name), judgement=NO_SEARCH)
    cells, story = TABLE[name]
    assert row.policy == name
    assert tuple(row.cell(p) for p in PROMISES) == cells
    assert row.story == story


@pytest.mark.parametrize("name", sorted(TABLE))
def test_accepted_means_declared(name: str) -> None:
    """A promise is marked accepted exactly when the preset declares it in ``accepts``."""
    policy = load_preset(name)
    row = tradeoff(policy, judgement=NO_SEARCH)
    for promise in PROMISES:
        if row.cell(promise) == ACCEPTED:
            assert promise in policy.accepts
        if row.cell(promise) == GIVEN_UP:
            assert promise not in policy.accepts


def test_no_preset_keeps_all_three() -> None:
    """README: no policy promises no negative balance and no haircut under an unbounded gap."""
    assert all(cells != (KEPT, KEPT, KEPT) for cells, _ in TABLE.values())


#: the same stories as a person reads them (``solvent tradeoffs``, the README): each preset's currency
IN_CURRENCY = {
    "binance": "alice's deficit is USDT 88.99: insurance fund USDT 22.00, adl USDT 66.99",
    "okx": "alice's deficit is USDT 146.69: insurance fund USDT 36.57, adl USDT 110.12",
    "broker-reg-t": "alice's deficit is USD 3,499.99: USD 3,499.99 stays as her debt to the venue, which fronts it; "
    "her next deposit of USD 5,500.01 loses USD 3,499.99 to it",
    "bitmex": "alice's deficit is XBT 0.00011199: insurance fund XBT 0.0000275, adl XBT 0.00008449",
}


@pytest.mark.parametrize("name", sorted(IN_CURRENCY))
def test_the_story_reads_in_the_policys_currency(name: str) -> None:
    """The row keeps its amounts in quanta (``row.amounts``; ``row.story`` as before); the table
    shows them in the policy's currency with its decimals."""
    row = tradeoff(load_preset(name), judgement=NO_SEARCH)
    assert story(row) == IN_CURRENCY[name]
    assert row.story == TABLE[name][1]
    assert all(isinstance(a, int) for a in row.amounts) and row.amounts


def test_markdown() -> None:
    rows = tradeoff_table([load_preset(n) for n in ("binance", "okx")], NO_SEARCH)
    assert markdown(rows) == (
        "| policy | no-negative-equity | no-haircut | deposit-not-absorbed | what the one-tick gap does (gap-crash, then deposit-after-liquidation) |\n"
        "| --- | --- | --- | --- | --- |\n"
        f"| `binance` | kept | gives up (accepted) | kept | {IN_CURRENCY['binance']} |\n"
        f"| `okx` | kept | gives up (accepted) | kept | {IN_CURRENCY['okx']} |\n"
    )


_CELL = {ClaimStatus.FAILS: GIVEN_UP, ClaimStatus.ACCEPTED: ACCEPTED}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_cells_are_the_checks_verdicts(name: str) -> None:
    """``solvent tradeoffs`` and ``solvent check`` agree: the cells are check's verdicts, judged the same way."""
    policy = load_preset(name)
    report = NO_SEARCH.run(policy, source=name)
    verdicts = {v.invariant.id: v.status for v in report.verdicts}
    assert tuple(tradeoff(policy, judgement=NO_SEARCH).cell(p) for p in PROMISES) == tuple(
        _CELL.get(verdicts[p], KEPT) for p in PROMISES
    )


def test_a_failure_outside_the_gap_stories_is_given_up() -> None:
    """pro-rata-rounds-down leaves an account below zero in a stress story other than the two gap
    stories: the old table, judged on the gap stories alone, said it kept no-negative-equity while
    ``solvent check`` failed it; now the row says what check says."""
    policy = load_policy(PLANTED / "pro-rata-rounds-down.toml")
    gap_only = check_policy(policy, scenarios=list(GAP_STORIES), invariants=list(PROMISES))
    assert gap_only.verdicts[0].invariant.id == "no-negative-equity" and gap_only.verdicts[0].status is ClaimStatus.HELD
    check = {v.invariant.id: v for v in NO_SEARCH.run(policy).verdicts}
    assert check["no-negative-equity"].status is ClaimStatus.FAILS
    assert check["no-negative-equity"].violation.scenario not in GAP_STORIES
    row = tradeoff(policy, judgement=NO_SEARCH)
    assert (row.cell("no-negative-equity"), row.cell("no-haircut"), row.cell("deposit-not-absorbed")) == (
        GIVEN_UP,
        GIVEN_UP,
        KEPT,
    )


def test_a_row_is_read_off_the_report() -> None:
    """The cell follows the report's verdict, whatever story (search, z3, saved finding) decided it."""
    report = NO_SEARCH.run(load_preset("mango-v4"), source="mango-v4")
    assert tradeoff_of(report).cell("no-negative-equity") == KEPT
    failed = attrs.evolve(
        report,
        verdicts=tuple(
            attrs.evolve(v, status=ClaimStatus.FAILS) if v.invariant.id == "no-negative-equity" else v
            for v in report.verdicts
        ),
    )
    row = tradeoff_of(failed)
    assert row.cell("no-negative-equity") == GIVEN_UP and row.story == TABLE["mango-v4"][1]


def test_a_narrower_judgement_is_refused() -> None:
    """Judging only the three promises would judge fewer stories than check does."""
    with pytest.raises(ValueError, match="no 'invariants' in its judgement"):
        tradeoff(load_preset("binance"), judgement=attrs.evolve(NO_SEARCH, invariants=PROMISES))
    report = check_policy(load_preset("binance"), invariants=["conservation"])
    with pytest.raises(ValueError, match="judged no no-negative-equity, no-haircut, deposit-not-absorbed"):
        tradeoff_of(report)


def test_the_story_is_told_when_the_check_ran_other_scenarios() -> None:
    """The last column describes the gap stories even when the judgement ran other scenarios."""
    row = tradeoff(load_preset("binance"), judgement=attrs.evolve(NO_SEARCH, scenarios=("whale",)))
    assert row.story == TABLE["binance"][1]

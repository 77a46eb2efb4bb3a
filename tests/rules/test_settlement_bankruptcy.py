"""The settlement currency's own bankruptcy, ``[settlement] bankruptcy = ["deposit_index"]``
(rules/lending.py ``SettlementBankruptcy``, ``cover_settlement_borrow``; the lead's decision, session
31, docs/model.md#the-settlement-currencys-own-bankruptcy-session-31): the table as policy text, its
errors, and where it runs. The stories are in tests/solver/test_lending_depositor_story.py."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from solvent.cli import main
from solvent.rules.lending import SettlementBankruptcy
from solvent.rules.loading import dumps_policy, loads_policy
from solvent.rules.presets import load_preset
from solvent.rules.waterfall import TokenLayer

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize("preset", ["drift", "mango-v4"])
def test_the_two_deposit_cutting_presets_declare_it_and_it_round_trips(preset: str) -> None:
    policy = load_preset(preset)
    assert policy.settlement == SettlementBankruptcy((TokenLayer.DEPOSIT_INDEX,))
    text = dumps_policy(policy)
    assert '[settlement]\nbankruptcy = [\n    "deposit_index",\n]' in text
    assert loads_policy(text) == policy


def test_a_policy_without_it_is_written_as_before() -> None:
    # the digest keys saved findings: no [settlement] line where the table is absent
    for preset in ("binance", "backpack"):
        policy = load_preset(preset)
        assert policy.settlement is None and "[settlement]" not in dumps_policy(policy)
    drift = load_preset("drift")
    assert "[settlement]" not in dumps_policy(attrs.evolve(drift, settlement=None))


def test_only_the_deposit_index_layer() -> None:
    with pytest.raises(ValueError, match=r"must be \[\"deposit_index\"\].*'lender_adl'"):
        SettlementBankruptcy((TokenLayer.LENDER_ADL,))
    with pytest.raises(ValueError, match=r"must be \[\"deposit_index\"\].*: none"):
        SettlementBankruptcy(())
    with pytest.raises(ValueError, match=r"'insurance_fund', 'deposit_index'"):
        SettlementBankruptcy((TokenLayer.INSURANCE_FUND, TokenLayer.DEPOSIT_INDEX))


@pytest.mark.parametrize("preset", ["binance", "backpack"])
def test_a_policy_that_cuts_no_deposit_refuses_it(preset: str) -> None:
    # binance lends nothing; backpack lends with lender_adl, which cuts no deposit
    policy = load_preset(preset)
    with pytest.raises(ValueError, match=r"no \[\[collateral\]\] table lends with 'deposit_index'"):
        attrs.evolve(policy, settlement=SettlementBankruptcy((TokenLayer.DEPOSIT_INDEX,)))


def _drift_with(tmp_path: Path, line: str) -> tuple[Path, int]:
    text = (ROOT / "rules" / "presets" / "drift.toml").read_text(encoding="utf-8")
    rows = text.splitlines()
    at = next(i for i, row in enumerate(rows) if row.startswith('bankruptcy = ["deposit_index"]'))
    rows[at] = line
    path = tmp_path / "venue.toml"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path, at + 1


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('bankruptcy = ["lender_adl"]', 'must be ["deposit_index"]'),
        ('bankruptcy = ["haircut"]', "deposit_index"),
        ("bankruptcy = 1", "bankruptcy"),
    ],
)
def test_bad_input_names_file_field_and_line_exit_2_nothing_written(tmp_path: Path, line: str, expected: str) -> None:
    path, row = _drift_with(tmp_path, line)
    out = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["check", str(path), "--no-search", "--format", "json", "--output", str(out)])
    assert result.exit_code == 2 and not out.exists()
    assert "Traceback" not in result.output
    assert expected in result.stderr
    assert "settlement.bankruptcy" in result.stderr and f"({path}:{row}:" in result.stderr


def test_on_a_policy_that_cuts_no_deposit_the_error_names_the_table(tmp_path: Path) -> None:
    text = (ROOT / "rules" / "presets" / "binance.toml").read_text(encoding="utf-8")
    path = tmp_path / "venue.toml"
    head, rounding = text.split("[rounding]", 1)
    path.write_text(head + '[settlement]\nbankruptcy = ["deposit_index"]\n\n[rounding]' + rounding, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(path), "--no-search"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "no [[collateral]] table lends with 'deposit_index'" in result.stderr
    assert str(path) in result.stderr

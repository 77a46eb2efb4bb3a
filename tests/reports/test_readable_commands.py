"""``solvent replay`` and ``solvent tradeoffs`` tell amounts in the policy's currency with its
decimals and prices in its units (issue 16), as the check's reports do; their JSON keeps the exact
integers in quote quanta beside the words."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from solvent.cli import main
from solvent.properties import findings
from solvent.properties.scenarios import build
from solvent.rules.presets import load_preset


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _saved_gap(tmp_path: Path, preset: str, invariant: str, scenario: str = "gap-crash") -> Path:
    """The ``scenario`` story saved as a finding of ``invariant`` on ``preset``, failing at its last step."""
    policy = load_preset(preset)
    story = build(policy, scenario)
    return findings.save(findings.Finding(policy, invariant, story, len(story.events) - 1), tmp_path / "f.json")


class TestReplay:
    def test_amounts_and_prices_read_in_the_policys_units(self, tmp_path: Path) -> None:
        code, out, _ = run("replay", str(_saved_gap(tmp_path, "binance", "no-haircut")))
        assert code == 1, out
        lines = out.splitlines()
        assert lines[0].startswith("policy binance, invariant no-haircut: ")
        assert lines[1] == "  amounts in USDT (one quantum: 0.01 USDT); prices in USDT/BTC; sizes in lots of 0.001 BTC"
        assert any(line.startswith("  1. ") and "deposits USDT " in line for line in lines), out
        gap = next(line for line in lines if line.endswith("<- fails here"))
        assert " mark USDT 100,000 → USDT " in gap and "/BTC (" in gap, gap
        assert (
            "who paid: alice went bankrupt with a deficit of USDT 88.99; paid by 1. insurance_fund USDT 22.00, 2. adl USDT 66.99."
            in out
        )
        assert "amount (USDT)" in out  # the transfers table's column says what its numbers are
        assert "8,899" not in out and "Deposit(" not in out  # no quanta, no engine reprs

    def test_thousands_and_a_cents_deficit(self, tmp_path: Path) -> None:
        """broker-reg-t counts cents: the 349,999 quanta a deposit repays read USD 3,499.99."""
        path = _saved_gap(tmp_path, "broker-reg-t", "deposit-not-absorbed", "deposit-after-liquidation")
        code, out, _ = run("replay", str(path))
        assert code == 1, out
        assert "deposits USD 5,500.01  <- fails here" in out
        assert "DepositAbsorbed(account=alice, amount_quote=USD 3,499.99" in out and "349,999" not in out
        assert "z3 explores" not in out  # the extreme-marks note is for z3's stories

    def test_json_keeps_the_integers_beside_the_words(self, tmp_path: Path) -> None:
        code, out, _ = run("replay", str(_saved_gap(tmp_path, "binance", "no-haircut")), "--format", "json")
        assert code == 1
        data = json.loads(out)
        assert data["schema"] == "solvent.replay/1" and data["fails"] is True
        assert data["units"]["currency"] == "USDT" and data["units"]["quantum"] == "0.01"
        (paid,) = data["paid"]
        assert (paid["deficit"], paid["deficit_text"]) == (8899, "USDT 88.99")
        first = data["steps"][0]
        assert first["event"]["type"] == "Deposit" and isinstance(first["event"]["amount_quote"], int)
        assert first["description"].endswith(first["transfers"][0]["amount_text"])
        assert all(isinstance(t["amount"], int) for s in data["steps"] for t in s["transfers"])
        assert data["failing_step"] == len(data["steps"])

    def test_an_inverse_story_reads_in_coin_and_usd(self, tmp_path: Path) -> None:
        code, out, _ = run("replay", str(_saved_gap(tmp_path, "bitmex", "no-haircut")))
        assert code == 1, out
        assert "a deficit of XBT 0.00011199" in out and "mark 10,000 → 9,783" in out


class TestTradeoffs:
    def test_the_story_reads_in_each_policys_currency(self) -> None:
        code, out, _ = run("tradeoffs", "binance", "broker-reg-t", "--no-search")
        assert code == 0, out
        assert (
            "| `binance` | kept | gives up (accepted) | kept | alice's deficit is USDT 88.99: insurance fund USDT 22.00, adl USDT 66.99 |"
            in out
        )
        assert "alice's deficit is USD 3,499.99: USD 3,499.99 stays as her debt to the venue" in out
        assert "8,899" not in out and "349,999" not in out

    def test_json_keeps_the_integers(self) -> None:
        code, out, _ = run("tradeoffs", "binance", "--no-search", "--format", "json")
        assert code == 0, out
        data = json.loads(out)
        assert data["schema"] == "solvent.tradeoffs/1"
        (row,) = data["rows"]
        assert row["policy"] == "binance" and row["units"]["currency"] == "USDT"
        assert row["promises"]["no-haircut"] == "gives up (accepted)"
        assert row["amounts"] == [
            {"quanta": 8899, "text": "USDT 88.99"},
            {"quanta": 2200, "text": "USDT 22.00"},
            {"quanta": 6699, "text": "USDT 66.99"},
        ]
        assert row["story"] == "alice's deficit is USDT 88.99: insurance fund USDT 22.00, adl USDT 66.99"

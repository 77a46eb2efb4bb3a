"""Amounts in the policy's currency with its decimals, prices per unit of what a lot counts
(``reports.money``), in every format a person reads; exact integers in the JSON."""

from __future__ import annotations

import json
from fractions import Fraction

import attrs
import pytest
from golden_support import check

from solvent.properties.story import Story
from solvent.reports import html_report, json_report, markdown, sarif, text
from solvent.reports.money import QUANTA, Money, parse_quantity
from solvent.reports.story import describe_event, extreme_marks_note, story_steps, told
from solvent.rules import events as ev
from solvent.rules.book import new_book
from solvent.rules.contract import Contract, ContractKind
from solvent.rules.policy import Units
from solvent.verdicts.check import PolicyReport

USDT = Money.from_units(Units(quote="0.01 USDT", lot="0.001 BTC"))
USDC = Money.from_units(Units(quote="0.000001 USDC", lot="1 contract"))
XBT = Money.from_units(
    Units(quote="1 XBt (0.00000001 XBT)", lot="USD 1 face (XBTUSD)"),
    Contract(ContractKind.INVERSE, 100_000_000, price="whole USD per XBT"),
)


class TestParsing:
    def test_the_quantum_and_its_currency(self) -> None:
        assert parse_quantity("0.01 USDT") == (Fraction(1, 100), 2, "USDT")
        assert parse_quantity("0.000001 USDC") == (Fraction(1, 10**6), 6, "USDC")

    def test_the_last_pair_names_what_a_person_counts_in(self) -> None:
        assert parse_quantity("1 XBt (0.00000001 XBT)") == (Fraction(1, 10**8), 8, "XBT")
        assert parse_quantity("1 satoshi (0.00000001 BTC)") == (Fraction(1, 10**8), 8, "BTC")

    def test_no_quantity_no_currency(self) -> None:
        assert parse_quantity("whole dollars") is None
        assert parse_quantity("0 USDT") is None
        assert not Money.from_units(Units(quote="cents", lot="1 contract")).readable


class TestAmounts:
    def test_boundaries(self) -> None:
        assert USDT.amount(1) == "USDT 0.01"
        assert USDT.amount(110_099) == "USDT 1,100.99"
        assert USDT.amount(0) == "USDT 0.00"
        assert USDT.amount(100) == "USDT 1.00"
        assert USDT.amount(100_000_000_000) == "USDT 1,000,000,000.00"

    def test_negative_amounts(self) -> None:
        assert USDT.amount(-1) == "USDT -0.01"
        assert USDT.amount(-110_099) == "USDT -1,100.99"
        assert USDT.amount(-57_407) == "USDT -574.07"

    def test_six_decimals_trimmed_in_words_fixed_in_columns(self) -> None:
        assert USDC.amount(88_010_000) == "USDC 88.01"
        assert USDC.amount(1) == "USDC 0.000001"
        assert USDC.number(88_010_000, fixed=True) == "88.010000"
        assert USDC.column("cash") == "cash (USDC)"

    def test_inverse_contracts_count_coin(self) -> None:
        assert XBT.amount(57_407) == "XBT 0.00057407"
        assert XBT.amount(-100_000_000) == "XBT -1.00"
        assert XBT.amount(260_600_000_000) == "XBT 2,606.00"
        assert XBT.number(30_000_000, fixed=True) == "0.30000000"

    def test_a_fraction_that_is_not_a_whole_quantum_is_marked_approximate(self) -> None:
        assert USDT.amount(Fraction(1, 3)) == "USDT ≈0.00"
        assert USDT.amount(Fraction(150, 3)) == "USDT 0.50"

    def test_without_units_amounts_stay_quanta(self) -> None:
        assert QUANTA.amount(110_099) == "110,099"
        assert QUANTA.price(9_918) == "9,918"


class TestPrices:
    def test_per_unit_of_the_lot(self) -> None:
        # 10,000 quanta of 0.01 USDT per 0.001 BTC is 100,000 USDT per BTC
        assert USDT.price(10_000) == "USDT 100,000/BTC"
        assert USDT.price(9_918) == "USDT 99,180/BTC"
        assert USDT.price_unit == "USDT/BTC"

    def test_per_contract_with_the_quote_decimals(self) -> None:
        assert USDC.price(7_799) == "USDC 0.007799/contract"
        usd = Money.from_units(Units(quote="0.01 USD", lot="1 contract"))
        assert usd.price(10_200) == "USD 102.00/contract"

    def test_inverse_prices_are_the_venues(self) -> None:
        assert XBT.price(10_000) == "10,000"  # 10^8 / 10,000 XBt
        assert XBT.price(10_222) == "9,783"

    def test_a_mark_move_reads_in_the_currency(self) -> None:
        before = new_book(mark_quote=10_000)
        said = describe_event(ev.MarkPrice(9_823), before, money=USDT)
        assert said == "mark USDT 100,000 → USDT 98,230/BTC (−1.77%)"
        assert describe_event(ev.Deposit("alice", 8_801), money=USDT) == "alice deposits USDT 88.01"


class TestEveryFormat:
    """What a person reads is in USDT; the JSON keeps the integers and says how to read them."""

    def test_text_markdown_html_sarif(self, binance: PolicyReport) -> None:
        for rendered in (
            text.render(binance),
            markdown.render([binance]),
            html_report.render([binance]),
            sarif.render([binance]),
        ):
            assert "deficit of USDT 88.99" in rendered
            assert "deficit of 8,899" not in rendered

    def test_json_keeps_integers(self, binance: PolicyReport) -> None:
        policy = json.loads(json_report.render([binance]))["policies"][0]
        assert policy["units"] == {
            "quote": "0.01 USDT",
            "lot": "0.001 BTC",
            "currency": "USDT",
            "quantum": "0.01",
            "price_unit": "USDT/BTC",
        }
        paid = [p for f in policy["findings"] for s in f["steps"] for p in s["paid"]]
        assert paid and all(isinstance(p["amount"], int) for p in paid)
        assert {"bankrupt": "alice", "amount": 2_200} in [{k: p[k] for k in ("bankrupt", "amount")} for p in paid]

    def test_inverse_text_in_coin(self) -> None:
        out = text.render(check("bitmex", scenarios=("gap-crash",)))
        assert "cash (XBT)" in out and "alice deposits XBT 0.00011001" in out


class TestExtremeMarks:
    """A z3 story whose marks span a factor of ten is said to be extreme by design."""

    @staticmethod
    def _violation(binance: PolicyReport, origin: str, marks: tuple[int, ...]):
        (t, *_) = told(binance)
        v = t.group.violation
        book = attrs.evolve(v.story.book, market=attrs.evolve(v.story.book.market, mark_quote=marks[0]))
        story = Story(book, tuple(ev.MarkPrice(m) for m in marks[1:]))
        return attrs.evolve(v, origin=origin, story=story, step_index=len(marks) - 2)

    def test_six_to_a_billion(self, binance: PolicyReport) -> None:
        note = extreme_marks_note(self._violation(binance, "z3", (6, 1_000_000_000)), USDT)
        assert note is not None
        assert note.startswith("note: the marks span 60 to 10,000,000,000 USDT/BTC: z3 explores extreme values")

    @pytest.mark.parametrize(("origin", "marks"), [("z3", (10_000, 99_999)), ("search", (6, 1_000_000_000))])
    def test_not_for_plausible_marks_or_other_origins(self, binance: PolicyReport, origin: str, marks) -> None:
        assert extreme_marks_note(self._violation(binance, origin, marks), USDT) is None

    def test_every_format_says_it(self, binance: PolicyReport) -> None:
        v = next(x for x in binance.verdicts if x.violation is not None)
        z3 = self._violation(binance, "z3", (6, 1_000_000_000))
        steps = story_steps(binance.policy, z3)
        z3 = attrs.evolve(z3, step=steps[-1])
        report = attrs.evolve(
            binance, verdicts=tuple(attrs.evolve(x, violation=z3, more=()) if x is v else x for x in binance.verdicts)
        )
        said = "ote: the marks span 60 to 10,000,000,000 USDT/BTC: z3 explores extreme values by design"
        assert f"*N{said}" in markdown.render([report])
        assert f">N{said}" in html_report.render([report])
        assert "note: the marks span 60 to 10,000,000,000 USDT/BTC" in text.render(report)

    def test_a_factor_of_ten_is_extreme(self, binance: PolicyReport) -> None:
        assert extreme_marks_note(self._violation(binance, "z3", (10_000, 100_000)), USDT) is not None


class TestWidth:
    """The text report fits the terminal: at 120 columns no line is longer (today's verdict
    table reached 302); at 100 the tables fold further."""

    @pytest.mark.parametrize("width", [120, 100])
    def test_every_line_fits(self, binance: PolicyReport, venue_v2: PolicyReport, width: int) -> None:
        for report in (binance, venue_v2):
            lines = text.render(report, width).splitlines()
            assert max(map(len, lines)) <= width, max(lines, key=len)

    def test_a_long_evidence_breaks_between_clauses(self) -> None:
        from solvent.reports.text import _fill_clauses

        said = "43 of 43 scenario steps; search: 200 examples, none found; z3: proved (all N, any K (mark), prices ≥ 1)"
        assert _fill_clauses(said, 30) == [
            "43 of 43 scenario steps;",
            "search: 200 examples,",
            "none found;",
            "z3: proved (all N,",
            "any K (mark), prices ≥ 1)",
        ]


def test_solvent_prove_says_it_too() -> None:
    """``solvent prove`` prints a z3 story in quanta: the note names the marks in quanta."""
    from solvent.reports.story import extreme_story_note

    story = Story(new_book(mark_quote=6), (ev.MarkPrice(1_000_000_000),))
    assert extreme_story_note(story, 0).startswith("note: the marks span 6 to 1,000,000,000: z3 explores")
    assert extreme_story_note(Story(new_book(mark_quote=6), (ev.MarkPrice(59),)), 0) is None

"""``solvent prove --as-check``: a z3 finding's Reproduce line asks check's own question (session 35).

Check asks each claim within the units its allotment gives it (``verdicts.proofs``), on its own book,
in its own order (``solver.prove.AS_CHECK``: the bounded check first, the story not shrunk before it
is told at its least move). ``solvent prove`` by default asks with 60M units, the payers' all-N
argument first and the story shrunk: z3's first model may then be another book, and the least move
another sentence (docs/solver-notes.md#reproduce-lines-ask-checks-own-question-session-35). The
Reproduce line names the question's N, its units and ``--as-check``; here, that the options reach
the prover as check passes them, and that the units decide which story is told.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import attrs
import pytest
from click.testing import CliRunner

from solvent.cli import main
from solvent.rules.presets import load_preset
from solvent.simulation import grids
from solvent.simulation.grids import ProofCell, answer_proof
from solvent.solver.bounds import Bounds
from solvent.solver.prove import AS_CHECK
from solvent.solver.verdicts import ProofResult, Scope, Verdict

BINANCE = load_preset("binance")


def _recorded(monkeypatch: pytest.MonkeyPatch) -> tuple[list[dict], list[ProofResult]]:
    """What ``answer_proof`` asks the prover and which answers it tells at their least move."""
    asked: list[dict] = []
    told: list[ProofResult] = []
    answer = ProofResult("binance", "no-haircut", Verdict.UNKNOWN, Scope(2, 1, ("mark",), "prices"), 0.0, "m")

    def prove_on_scopes(policy, invariant, bounds, scopes, **options):  # noqa: ANN001, ANN202
        asked.append(options)
        return answer

    def told_at_least_move(policy, invariant, result):  # noqa: ANN001, ANN202
        told.append(result)
        return result

    monkeypatch.setattr(grids, "prove_on_scopes", prove_on_scopes)
    monkeypatch.setattr(grids, "told_at_least_move", told_at_least_move)
    return asked, told


def test_as_check_asks_in_checks_order_and_tells_the_story_at_its_least_move(monkeypatch: pytest.MonkeyPatch) -> None:
    asked, told = _recorded(monkeypatch)
    bounds = Bounds(accounts=2, effort=5_000_000)
    answer_proof(ProofCell(BINANCE, "no-haircut", bounds, as_check=True))
    assert asked[-1] == {"compositional": True, "accepted_grid": False, "minimize": False, "payer_first": False}
    assert len(told) == 1  # not shrunk, and still told at its least move, as check tells it
    answer_proof(ProofCell(BINANCE, "no-haircut", bounds, as_check=True, least_move=False))
    assert len(told) == 1  # --no-least-move: as z3 found it
    answer_proof(ProofCell(BINANCE, "no-haircut", bounds, as_check=True, grid_first=True))
    assert asked[-1]["accepted_grid"] is True and asked[-1]["payer_first"] is False
    # prove's own question: the story shrunk, the payers' argument first (prove's default)
    answer_proof(ProofCell(BINANCE, "no-haircut", bounds))
    assert asked[-1] == {"compositional": True, "accepted_grid": False, "minimize": True}
    assert len(told) == 3


def test_check_asks_with_the_same_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """``verdicts.proofs`` passes the one ``AS_CHECK`` to every question it asks: the option and check
    cannot drift apart."""
    import solvent.solver.prove as prove_module
    from solvent.verdicts.proofs import ProofBudget, prove_within

    assert AS_CHECK == {"minimize": False, "payer_first": False}
    seen: list[dict] = []

    def prove(policy, invariant_id, bounds, **options):  # noqa: ANN001, ANN202
        seen.append(options)
        return ProofResult(policy.name, invariant_id, Verdict.UNKNOWN, Scope(2, 1, ("mark",), "p"), 0.0, "m")

    monkeypatch.setattr(prove_module, "prove", prove)
    prove_within(BINANCE, ["conservation", "no-haircut"], ProofBudget(total=2_000_000, per_question=1_000_000))
    assert seen and all({k: o[k] for k in AS_CHECK} == AS_CHECK for o in seen)
    assert all("given" in o for o in seen)


def test_the_reproduce_line_names_checks_question() -> None:
    """The line names the question's N (check's, not the story's traders), the units check gave it,
    grouped as they print, ``--as-check``, then the book's options."""
    from solvent.reports.story import replay_command
    from solvent.verdicts.check import Violation

    scope = Scope(2, 1, ("mark",), "prices")
    bounds = attrs.evolve(Bounds(accounts=2, effort=5_176_120), assets=1, event_kinds=("mark", "asset-price"))
    proof = ProofResult("backpack", "spot-isolated", Verdict.REFUTED, scope, 0.0, "m", bounds=bounds)
    verdict = SimpleNamespace(invariant=SimpleNamespace(id="spot-isolated"), proof=proof)
    report = SimpleNamespace(source="backpack", findings_dir=None, policy=None, verdicts=[verdict])
    story = SimpleNamespace(book=SimpleNamespace(traders=("alice",)))
    told = Violation("spot-isolated", "z3", 0, story, None, "z3", z3_traders=1)
    command, note = replay_command(told, report)
    assert command == (
        "solvent prove backpack --invariant spot-isolated --accounts 2 --effort 5,176,120 --as-check "
        "--assets 1 --event-kinds mark,asset-price"
    )
    assert note == "check's question: the same story"
    # without a proof to ask again (a story whose proof the report does not hold): z3's own N
    report = SimpleNamespace(source="backpack", findings_dir=None, policy=None, verdicts=[])
    assert replay_command(told, report) == (
        "solvent prove backpack --invariant spot-isolated --accounts 1",
        "prints the replayed story",
    )


def _failing_event(*options: str) -> str:
    result = CliRunner().invoke(main, ["prove", "backpack", "--invariant", "spot-isolated", *options])
    assert result.exit_code == 1, result.output
    return re.search(r"^    \d+\. (.*)  <- fails here$", result.stdout, re.M).group(1)


def test_checks_order_tells_checks_story() -> None:
    """backpack's spot-isolated on check's collateral book (gallery at 27d8551: check gives it
    5,176,120 units): asked as check asks, z3's story is the page's, no move at all (the mark 10,000
    to 10,000), within check's units and within 60M alike; asked in prove's own order (the story
    shrunk first) at 60M, the shrunk story is another, a move of SOL's oracle price, and its least
    move is told from there."""
    book = ("--accounts", "2", "--assets", "1", "--event-kinds", "mark,asset-price")
    assert _failing_event(*book, "--effort", "5,176,120", "--as-check") == "MarkPrice(price_quote=10000)"
    assert _failing_event(*book, "--effort", "60M", "--as-check") == "MarkPrice(price_quote=10000)"
    assert _failing_event(*book, "--effort", "60M").startswith("AssetPrice(asset='SOL', ")


def test_a_story_check_told_as_z3_found_it_is_asked_so() -> None:
    """``check --no-least-move`` tells a one-move z3 story as z3 found it (no ``move`` on it): its
    line asks ``--no-least-move`` too, or prove would tell it at its least move, another story; a
    story told at its least move, or one the least move does not apply to (two events), asks none."""
    from solvent.properties.scenarios import Story
    from solvent.reports.story import _check_question
    from solvent.rules.book import new_book
    from solvent.rules.events import MarkPrice
    from solvent.solver.verdicts import Counterexample

    book = new_book(mark_quote=10_000, traders=("alice",))
    one = Counterexample(Story(book, (MarkPrice(9_000),)), (), 0, "no-haircut")
    proof = ProofResult(
        "binance", "no-haircut", Verdict.REFUTED, Scope(2, 1, ("mark",), "p"), 0.0, "m",
        counterexample=one, bounds=Bounds(accounts=2, effort=3_000_000),
    )  # fmt: skip
    asked = " --accounts 2 --effort 3,000,000 --as-check"
    assert _check_question(proof, "no-haircut") == asked + " --no-least-move"
    told = attrs.evolve(proof, counterexample=attrs.evolve(one, move="told at its least move"))
    assert _check_question(told, "no-haircut") == asked
    two = attrs.evolve(one, story=Story(book, (MarkPrice(9_000), MarkPrice(8_000))))
    assert _check_question(attrs.evolve(proof, counterexample=two), "no-haircut") == asked

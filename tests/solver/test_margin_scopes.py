"""Two z3 questions per claim where a policy declares both margin modes (issue 13 item 21,
docs/portfolio.md decision 3d): all-cross books, and one trader fewer with the first's position
isolated and margin moves; the claim proved only where both are, refuted where either is, each
scope its own allotment of check's budget (the all-cross one the same questions, verdicts and
units as the policy without its modes declared)."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from solvent.cli import main
from solvent.rules.loading import load_policy
from solvent.rules.policy import MarketSpec
from solvent.rules.presets import load_preset
from solvent.solver.bounds import Bounds
from solvent.solver.margin_scopes import ALL_CROSS, ISOLATED, LABELS, margin_scopes, scope_bounds
from solvent.solver.verdicts import ProofResult, QueryStats, Scope, ScopeAnswer, Verdict, joined, scoped_verdict
from solvent.verdicts import proofs
from solvent.verdicts.proofs import ProofBudget, proved_and_allotted

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
_PRESET = load_preset("binance")
#: binance with its margin modes left out (the preset declares both since decision 3d)
BINANCE = attrs.evolve(_PRESET, margin=attrs.evolve(_PRESET.margin, modes=()))
BINANCE_ISOLATED = load_policy(EXAMPLES / "binance-isolated.toml")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# --- which scopes, on which books --------------------------------------------------------------


def test_a_policy_with_both_modes_gets_two_scopes_one_without_gets_one() -> None:
    assert margin_scopes(BINANCE) == (ALL_CROSS,)
    assert margin_scopes(BINANCE_ISOLATED) == (ALL_CROSS, ISOLATED)
    cross_only = attrs.evolve(BINANCE, margin=attrs.evolve(BINANCE.margin, modes=("cross",)))
    assert margin_scopes(cross_only) == (ALL_CROSS,)


def test_a_policy_with_an_isolated_only_market_has_no_all_cross_book() -> None:
    policy = load_policy(EXAMPLES / "two-markets.toml")
    first, second = policy.market
    policy = attrs.evolve(
        policy, market=(attrs.evolve(first, modes=("cross",)), attrs.evolve(second, modes=("isolated",)))
    )
    assert isinstance(first, MarketSpec)
    assert margin_scopes(policy) == (ISOLATED,)
    # its one question is the one check asked before scopes: the book's N traders, one isolated
    b = scope_bounds(Bounds(accounts=2, events=1), ISOLATED, (ISOLATED,))
    assert (b.accounts, b.isolated, b.event_kinds) == (2, 1, ("mark", "margin"))


@pytest.mark.parametrize(("n", "expected"), [(1, 1), (2, 1), (3, 2)])
def test_the_isolated_scope_has_one_trader_fewer_and_margin_moves(n: int, expected: int) -> None:
    """As many trading positions as the all-cross book (decision 3c: an isolated position beside
    the all-cross book's traders costs like a third trader), never fewer than one trader."""
    b = scope_bounds(Bounds(accounts=n, events=1), ISOLATED, (ALL_CROSS, ISOLATED))
    assert (b.accounts, b.isolated, b.event_kinds) == (expected, 1, ("mark", "margin"))


def test_the_all_cross_scope_is_the_bounds_as_given() -> None:
    given = Bounds(accounts=2, events=1, event_kinds=("mark", "margin"), isolated=1)
    b = scope_bounds(given, ALL_CROSS, (ALL_CROSS, ISOLATED))
    assert (b.accounts, b.isolated, b.event_kinds) == (2, 0, ("mark",))
    plain = Bounds(accounts=2, events=1)
    assert scope_bounds(plain, ALL_CROSS, (ALL_CROSS, ISOLATED)) == plain
    with pytest.raises(ValueError, match="unknown margin scope 'both'"):
        scope_bounds(plain, "both", (ALL_CROSS, ISOLATED))


# --- the claim's verdict over its scopes --------------------------------------------------------

P, R, U, V, PA = Verdict.PROVED, Verdict.REFUTED, Verdict.UNKNOWN, Verdict.VACUOUS, Verdict.PARTIAL


def _answer(verdict: Verdict, units: int, label: str, accounts: int = 2) -> ScopeAnswer:
    scope = Scope(accounts, 1, ("mark",), "prices 1..9", fixed=label)
    result = ProofResult(
        "p", "conservation", verdict, scope, 1.0, "m", queries=(QueryStats("q", "x", 1.0, units=units),)
    )
    return ScopeAnswer(label, result)


@pytest.mark.parametrize(
    ("cross", "isolated", "expected"),
    [
        (P, P, P),
        (P, U, PA),
        (U, P, PA),
        (PA, P, PA),
        (U, U, U),
        (R, P, R),
        (P, R, R),
        (U, R, R),
        (V, P, V),
        (R, V, R),
    ],
)
def test_proved_only_where_every_scope_is_refuted_where_either_is(
    cross: Verdict, isolated: Verdict, expected: Verdict
) -> None:
    assert scoped_verdict([cross, isolated]) is expected
    result = joined([_answer(cross, 3, "all-cross books"), _answer(isolated, 5, "books with an isolated position")])
    assert result.verdict is expected
    assert result.units == 8  # both questions' units
    # the headline's scope is the scope that decides it: the refuting, vacuous or undecided one
    labels = ("all-cross books", "books with an isolated position")
    if expected is R:
        assert result.scope.fixed == labels[(cross, isolated).index(R)]
    if expected in (PA, U) and cross is P:
        assert result.scope.fixed == "books with an isolated position"  # never the proved scope's


def test_one_scope_is_its_own_answer_and_no_scope_is_an_error() -> None:
    only = _answer(P, 3, "")
    assert joined([only]) is only.result
    with pytest.raises(ValueError):
        joined([])


def test_all_n_only_where_every_scope_is() -> None:
    both = joined([_answer(P, 1, "a", accounts=None), _answer(P, 1, "b", accounts=None)])
    assert both.proved_scope.accounts is None
    one = joined([_answer(P, 1, "a", accounts=None), _answer(P, 1, "b", accounts=1)])
    assert one.proved_scope.accounts == 1


def test_a_scope_the_budget_did_not_reach_is_undecided_never_proved(monkeypatch: pytest.MonkeyPatch) -> None:
    """The isolated scope's allotment spent before a claim its all-cross scope proved: the claim
    is undecided there, with 0 units, so the claim is partly proved, not proved."""

    def one_scope(policy, ids, budget, scope, scopes, before, asking):  # noqa: ANN001
        if scope == ALL_CROSS:
            return {i: attrs.evolve(_answer(P, 7, "").result, invariant=i) for i in ids}, ()
        return {ids[0]: attrs.evolve(_answer(P, 5, "").result, invariant=ids[0])}, ()

    monkeypatch.setattr(proofs, "_one_scope", one_scope)
    out, _ = proved_and_allotted(BINANCE_ISOLATED, ["conservation", "claims-backed"], ProofBudget())
    assert out["conservation"].verdict is P
    late = out["claims-backed"]
    assert late.verdict is PA
    assert [(p.label, p.result.verdict, p.result.units) for p in late.parts] == [
        (LABELS[ALL_CROSS], P, 7),
        (LABELS[ISOLATED], U, 0),
    ]
    assert "not asked" in late.parts[1].result.reason


def test_a_scope_name_the_budget_does_not_know_is_an_error() -> None:
    with pytest.raises(ValueError, match="'scopes' must name margin scopes"):
        ProofBudget(scopes=("cross",))


# --- z3, both scopes, in check's allotment ------------------------------------------------------


@pytest.fixture(scope="module")
def asked() -> tuple:
    # insurance-fund-non-negative, proved on both scopes: the allotments as deficit-charged-once's at
    # about half the fixture's CPU (4.61+2.26 -> 3.22+0.95 s with the test, session 27)
    budget = ProofBudget(total=4_000_000, per_question=4_000_000)
    return (
        proved_and_allotted(BINANCE, ["insurance-fund-non-negative"], budget),
        proved_and_allotted(BINANCE_ISOLATED, ["insurance-fund-non-negative", "isolated-loss-contained"], budget),
    )


@pytest.mark.xdist_group("margin-scopes")
def test_declaring_both_modes_asks_the_all_cross_question_unchanged_and_one_more(asked: tuple) -> None:
    (plain, plain_asked), (declared, declared_asked) = asked
    [cross, isolated] = declared["insurance-fund-non-negative"].parts
    before = plain["insurance-fund-non-negative"]
    assert (cross.label, isolated.label) == (LABELS[ALL_CROSS], LABELS[ISOLATED])
    assert (cross.result.verdict, cross.result.units) == (before.verdict, before.units)
    assert before.verdict is Verdict.PROVED
    # the isolated scope: alice's isolated position beside no other trader, margin moves added
    assert isolated.result.bounds.accounts == 1
    assert isolated.result.bounds.isolated_positions == (("alice", "PERP"),)
    assert "margin" in isolated.result.scope.kinds
    # each scope its own allotment of the total: the all-cross one as the plain policy's, which
    # does not ask isolated-loss-contained (nothing to judge on all-cross books); the isolated one
    # asks both claims
    assert [(a.claim, a.given, a.spent, a.scope) for a in declared_asked][: len(plain_asked)] == [
        (a.claim, a.given, a.spent, ALL_CROSS) for a in plain_asked
    ]
    first, second = declared_asked[len(plain_asked) :]
    assert (first.claim, first.scope, first.given) == ("insurance-fund-non-negative", ISOLATED, 2_000_000)
    assert (second.claim, second.scope, second.given) == ("isolated-loss-contained", ISOLATED, 4_000_000 - first.spent)
    contained = declared["isolated-loss-contained"]
    assert contained.parts == ()  # asked on one scope: its answer as it is, on an isolated position
    assert contained.bounds.isolated_positions == (("alice", "PERP"),)
    joined_result = declared["insurance-fund-non-negative"]
    assert joined_result.units == before.units + isolated.result.units
    expected = Verdict.PROVED if isolated.result.verdict is Verdict.PROVED else Verdict.PARTIAL
    assert joined_result.verdict is expected


# --- reports and the command line ---------------------------------------------------------------


@pytest.fixture(scope="module")
def report():
    from solvent.verdicts.check import Judgement

    judgement = Judgement(
        search=None,
        proofs=ProofBudget(total=4_000_000, per_question=4_000_000, moves=None),
        findings_dir=None,
        scenarios=("whale",),
        invariants=("deficit-charged-once",),
    )
    return judgement.run(BINANCE_ISOLATED, source="binance-isolated")


@pytest.mark.xdist_group("margin-scopes")
@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "junit", "sarif"])
def test_every_report_names_each_scope(report, fmt: str) -> None:  # noqa: ANN001
    from solvent.reports.formats import renderer
    from solvent.verdicts.check import Judgement

    if fmt == "sarif":  # SARIF holds failing claims only: whale's principal-protected, with that proof
        [held] = report.verdicts
        failing = Judgement(search=None, proofs=None, findings_dir=None, scenarios=("whale",))
        [fails] = [v for v in failing.run(BINANCE_ISOLATED).verdicts if v.invariant.id == "principal-protected"]
        report = attrs.evolve(report, verdicts=(attrs.evolve(fails, proof=held.proof),))
    text = " ".join(renderer(fmt)([report]).split())  # the text report folds its columns
    assert "on all-cross books" in text
    assert "on books with an isolated position" in text


@pytest.mark.xdist_group("margin-scopes")
def test_the_json_report_gives_each_scope_its_verdict_and_units(report) -> None:  # noqa: ANN001
    from solvent.reports.formats import renderer

    data = json.loads(renderer("json")([report]))
    [verdict] = [v for p in data["policies"] for v in p["verdicts"] if v["invariant"] == "deficit-charged-once"]
    proof = verdict["evidence"]["proof"]
    books = [s["books"] for s in proof["scopes"]]
    assert books == [LABELS[ALL_CROSS], LABELS[ISOLATED]]
    [claim] = [v for v in report.verdicts if v.invariant.id == "deficit-charged-once"]
    assert [s["units"] for s in proof["scopes"]] == [p.result.units for p in claim.proof.parts]
    assert proof["scopes"][1]["all_accounts"] is False


def test_an_unknown_margin_scope_is_bad_input() -> None:
    code, _, err = run("check", "binance", "--no-search", "--margin-scopes", "cross,isolated")
    assert code == 2
    assert "--margin-scopes: unknown margin scope 'cross'; known: all-cross, isolated" in err
    assert "Traceback" not in err


def test_a_margin_scope_the_policy_lacks_is_bad_input() -> None:
    args = ("check", "bitmex", "--no-search", "--scenario", "whale", "--prove-budget", "1M")
    code, _, err = run(*args, "--margin-scopes", "isolated")
    assert code == 2
    assert "bitmex: --margin-scopes isolated names none of the policy's margin scopes (all-cross;" in err


def test_a_negative_isolated_count_is_bad_input() -> None:
    path = str(EXAMPLES / "binance-isolated.toml")
    code, _, err = run("prove", path, "--invariant", "conservation", "--isolated", "-1")
    assert code == 2
    assert "Invalid value for '--isolated': -1 is not in the range 0<=x<=12" in err


@pytest.mark.xdist_group("margin-scopes")
def test_prove_asks_both_scopes_unless_the_book_s_modes_are_fixed() -> None:
    path = str(EXAMPLES / "binance-isolated.toml")
    # insurance-fund-non-negative: proved on both scopes as conservation is, at a fifth of its units
    # and CPU (523,966 and 553,861 units against 702,588 and 886,234; session 27)
    args = ("prove", path, "--invariant", "insurance-fund-non-negative", "--accounts", "2", "--effort", "4M")
    code, out, _ = run(*args)
    assert code == 0
    assert "  on all-cross books: proved (N ≤ 2, K ≤ 1 (mark)" in out
    assert "  on books with an isolated position: proved (N ≤ 1, K ≤ 1 (mark, margin)" in out
    code, fixed, _ = run(*args, "--isolated", "0")
    assert code == 0
    assert "on all-cross books" not in fixed
    assert "every trader cross-margined" in fixed


def test_a_z3_story_s_command_fixes_prove_to_its_scope() -> None:
    """check prints `solvent prove ... --accounts N` to show a z3 story again; where the claim was
    asked on two scopes, the command names the scope the story is from."""
    from solvent.reports.story import _margin_options

    def report(lead_bounds: Bounds, parts: int) -> ProofResult:
        proof = attrs.evolve(_answer(R, 1, "").result, bounds=lead_bounds)
        return attrs.evolve(proof, parts=tuple(_answer(R, 1, str(i)) for i in range(parts)))

    cross = scope_bounds(Bounds(accounts=2), ALL_CROSS, (ALL_CROSS, ISOLATED))
    isolated = scope_bounds(Bounds(accounts=2), ISOLATED, (ALL_CROSS, ISOLATED))
    assert _margin_options(report(cross, 2)) == " --isolated 0"
    assert _margin_options(report(isolated, 2)) == " --isolated 1 --event-kinds mark,margin"
    assert _margin_options(report(cross, 0)) == ""  # one scope: the command as it was
    # a policy with collateral: check's book holds its first asset and its oracle move (verdicts.proofs),
    # which prove's book has only when asked (drift's story was told without them before)
    held = attrs.evolve(Bounds(accounts=2), assets=1, event_kinds=("mark", "asset-price"))
    assert _margin_options(report(held, 0)) == " --assets 1 --event-kinds mark,asset-price"
    assert (
        _margin_options(report(scope_bounds(held, ALL_CROSS, (ALL_CROSS, ISOLATED)), 2))
        == " --isolated 0 --assets 1 --event-kinds mark,asset-price"
    )
    assert (
        _margin_options(report(scope_bounds(held, ISOLATED, (ALL_CROSS, ISOLATED)), 2))
        == " --isolated 1 --assets 1 --event-kinds mark,asset-price,margin"
    )


@pytest.mark.xdist_group("margin-scopes")
def test_the_python_api_asks_as_the_command_does() -> None:
    """``solvent.prove`` asks both scopes of a policy with both modes, one where ``isolated`` is given."""
    import solvent

    claim = "insurance-fund-non-negative"  # proved on both scopes, as conservation, at a fifth of its CPU
    both = solvent.prove(BINANCE_ISOLATED, claim, accounts=2, effort="4M")
    assert [p.label for p in both.parts] == [LABELS[ALL_CROSS], LABELS[ISOLATED]]
    assert [p.result.verdict for p in both.parts] == [Verdict.PROVED, Verdict.PROVED]
    fixed = solvent.prove(BINANCE_ISOLATED, claim, accounts=2, effort="4M", isolated=0)
    cross = both.parts[0].result
    assert fixed.parts == ()
    assert (fixed.verdict, fixed.units) == (cross.verdict, cross.units)

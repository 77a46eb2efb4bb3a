"""Grids of thresholds and proofs on an executor (``solvent.simulation.grids``): the same answers
on one worker, two worker processes and a Dask cluster; a cell without an answer in its place
with the rest of the table printed; the exit code of the worst cell; bad executor options."""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner

from solvent.cli import main
from solvent.simulation import grids
from solvent.simulation.executors import CellError, map_cells
from solvent.solver.thresholds import Direction, Threshold, ThresholdStatus
from solvent.solver.verdicts import ProofResult, Scope, Verdict

#: the module's tests run on one xdist worker (``--dist loadgroup`` sends every ungrouped test
#: on its own, so its tests were split over both workers and each built the module's fixtures):
#: `process_cluster` (a Dask cluster of processes, tests/simulation/conftest.py): 2-4 s under load,
#: started on both workers (session 25)
pytestmark = pytest.mark.xdist_group("grids")


def invoke(*args: str):  # noqa: ANN201
    return CliRunner().invoke(main, list(args))


def _without_seconds(data):  # noqa: ANN001, ANN202
    """The JSON with every wall-clock reading left out: the one thing that differs between runs."""
    if isinstance(data, dict):
        return {k: _without_seconds(v) for k, v in data.items() if k != "seconds"}
    if isinstance(data, list):
        return [_without_seconds(v) for v in data]
    return data


# --- map_cells: one task per cell, an answer or an error in every place ---------------------------


def _toy(cell: int) -> int:
    """Module level, so a worker process can unpickle it: 3 raises, 5 kills its worker."""
    if cell == 3:
        raise RuntimeError("cell three raised")
    if cell == 5:
        os._exit(9)
    return cell * cell


@pytest.mark.parametrize("workers", [None, 2])
def test_a_cell_that_raises_is_an_error_in_its_place(workers) -> None:
    cells = [1, 2, 3, 4]
    if workers is None:
        answers = map_cells(_toy, cells)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            answers = map_cells(_toy, cells, pool)
    assert answers[:2] == [1, 4] and answers[3] == 16
    assert answers[2] == CellError("raised", "RuntimeError: cell three raised")


def test_a_cell_that_kills_its_worker_is_lost_alone() -> None:
    """The pool breaks for every cell it had not answered; each is run again in a process of its
    own, so only the cell that kills its worker by itself is reported lost."""
    told = []
    with ProcessPoolExecutor(max_workers=2) as pool:
        answers = map_cells(_toy, [1, 5, 2, 4, 6], pool, done=lambda i, a: told.append((i, a)))
    assert [a for i, a in enumerate(answers) if i != 1] == [1, 4, 16, 36]
    assert sorted(told, key=lambda t: t[0]) == list(enumerate(answers))  # once each, the final answer
    assert answers[1].kind == "worker lost" and answers[1].message.startswith("worker lost (BrokenProcessPool")
    assert str(answers[1]).startswith("error: worker lost")


def test_a_cell_asked_twice_is_answered_once_in_each_place() -> None:
    """Equal cells are one task (a grid sweep whose rows change only the scenario asks each row's
    threshold of the same policy): the task runs once per distinct cell, every place gets its
    answer, an error too, and progress is told once for every place."""
    asked = []

    def task(cell: int) -> int:
        asked.append(cell)
        return _toy(cell)

    told = []
    answers = map_cells(task, [2, 4, 2, 3, 2, 3], done=lambda i, a: told.append((i, a)))
    assert asked == [2, 4, 3]
    assert answers[:2] == [4, 16] and answers[2] == answers[4] == 4 and answers[3] == answers[5]
    assert answers[3] == CellError("raised", "RuntimeError: cell three raised")
    assert sorted(told, key=lambda t: t[0]) == list(enumerate(answers))
    with ProcessPoolExecutor(max_workers=2) as pool:
        assert map_cells(_toy, [2, 4, 2, 3, 2, 3], pool) == answers
    unhashable = [[1], [2], [1]]  # kept as they are, each asked
    assert map_cells(lambda c: c[0] * 10, unhashable) == [10, 20, 10]


def test_on_dask_a_cell_that_kills_its_workers_is_lost_and_the_rest_answered(disposable_cluster) -> None:
    """A task that kills the worker it runs on ends as ``KilledWorker`` (at once on this cluster,
    whose scheduler allows no failure; after four workers with Dask's default): that cell is lost,
    the others are answered, a cell lost beside it run again alone. On a cluster of its own
    (``disposable_cluster``): the other Dask tests never wait on its restarts."""
    distributed = pytest.importorskip("distributed")
    with distributed.Client(disposable_cluster) as client:
        answers = map_cells(_toy, [1, 5, 2, 3, 4], client.get_executor())
    assert [answers[i] for i in (0, 2, 4)] == [1, 4, 16]
    # lost on the cluster (KilledWorker), then lost again alone in a local process of its own
    assert answers[1].kind == "worker lost" and answers[1].message.startswith("worker lost (BrokenProcessPool")
    assert answers[3] == CellError("raised", "RuntimeError: cell three raised")


class KilledWorker(Exception):
    """Named as Dask's: ``worker_lost`` knows it by its name."""


class _Crowded(ThreadPoolExecutor):
    """A cluster whose scheduler gives up on every cell queued with cell 5 (as Dask's does with
    every task processing on a worker that dies): cells 5, 2 and 3 end as ``KilledWorker``."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.submitted: list[int] = []

    def submit(self, fn, cell, /):  # noqa: ANN001, ANN201
        self.submitted.append(cell)

        def run() -> int:
            if cell in (5, 2, 3):
                raise KilledWorker(f"cell {cell}: its worker died 4 times")
            return fn(cell)

        return super().submit(run)


def test_on_a_cluster_a_cell_lost_beside_the_killer_is_run_again_alone() -> None:
    """Every lost cell is run again, each alone in a local process of its own, after the first
    batch (never submitted to the cluster again): the killer is lost again, the cells that were only
    queued beside it get their own answer (cell 3 raises)."""
    told = []
    with _Crowded() as crowded:
        answers = map_cells(_toy, [1, 5, 2, 3, 4], crowded, done=lambda i, a: told.append((i, a)))
    assert crowded.submitted == [1, 5, 2, 3, 4]
    assert answers[0] == 1 and answers[2] == 4 and answers[4] == 16
    assert answers[1].kind == "worker lost" and answers[1].message.startswith("worker lost (BrokenProcessPool")
    assert answers[3] == CellError("raised", "RuntimeError: cell three raised")
    assert sorted(told, key=lambda t: t[0]) == list(enumerate(answers))


# --- exit codes: the worst cell's -----------------------------------------------------------------


def _threshold(status: ThresholdStatus) -> Threshold:
    return Threshold("safe-move", "largest safe move", "p", Direction.LARGEST, status)


def _proof(verdict: Verdict) -> ProofResult:
    return ProofResult("p", "conservation", verdict, Scope(2, 1, ("mark",), "prices"), 0.0, "m")


@pytest.mark.parametrize(
    ("answers", "code"),
    [
        ([ThresholdStatus.EXACT, ThresholdStatus.ALL, ThresholdStatus.NONE, ThresholdStatus.NOT_APPLICABLE], 0),
        ([ThresholdStatus.EXACT, ThresholdStatus.BOUNDED], 3),
        ([ThresholdStatus.UNKNOWN, ThresholdStatus.EXACT], 3),
        ([ThresholdStatus.EXACT, CellError("worker lost", "worker lost (x)")], 3),
        ([ThresholdStatus.BOUNDED, CellError("bad input", "bad input: the assumptions conflict")], 2),
        ([CellError("bad input", "b"), CellError("internal", "InternalError: z3 and the engine disagree")], 4),
    ],
)
def test_a_threshold_grid_exits_with_its_worst_cell(answers, code) -> None:
    cells = [a if isinstance(a, CellError) else _threshold(a) for a in answers]
    assert grids.threshold_exit(cells) == code
    assert grids.threshold_exit(list(reversed(cells))) == code


@pytest.mark.parametrize(
    ("answers", "code"),
    [
        ([Verdict.PROVED, Verdict.PROVED], 0),
        ([Verdict.PROVED, Verdict.UNKNOWN], 3),
        ([Verdict.PARTIAL, Verdict.PROVED], 3),
        ([Verdict.PROVED, CellError("raised", "RuntimeError: x")], 3),
        ([Verdict.UNKNOWN, Verdict.REFUTED], 1),
        ([Verdict.REFUTED, Verdict.VACUOUS], 2),
        ([Verdict.VACUOUS, CellError("internal", "InternalError: x")], 4),
    ],
)
def test_a_proof_grid_exits_with_its_worst_cell(answers, code) -> None:
    cells = [a if isinstance(a, CellError) else _proof(a) for a in answers]
    assert grids.proof_exit(cells) == code
    assert grids.proof_exit(list(reversed(cells))) == code


@pytest.mark.parametrize(
    ("text", "counts"), [("3", (3,)), ("2,3,4", (2, 3, 4)), ("2..4", (2, 3, 4)), ("1,3..5", (1, 3, 4, 5))]
)
def test_counts_and_ranges(text: str, counts: tuple[int, ...]) -> None:
    assert grids.parse_counts(text, 1, 64) == counts


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "0 is not between 1 and 64"),
        ("65", "65 is not between 1 and 64"),
        ("1..65", "65 is not between 1 and 64"),
        ("4..2", "the range '4..2' runs backwards"),
        ("2,2", "2 appears twice"),
        ("two", "'two' is not a count"),
        ("", "'' is not a count"),
    ],
)
def test_counts_out_of_form(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        grids.parse_counts(text, 1, 64)


# --- thresholds over several policies -------------------------------------------------------------

#: two cheap cells: each safe move is exact at 10% in two probes (about a million units each)
THRESHOLD_GRID = ("thresholds", "backpack", "okx-2018", "--question", "safe-move")


def _threshold_grid(tmp_path: Path, name: str, *options: str) -> tuple[int, str, dict]:
    out = tmp_path / f"{name}.json"
    done = invoke(*THRESHOLD_GRID, "--json", str(out), *options)
    assert "Traceback" not in done.output
    return done.exit_code, done.output, json.loads(out.read_text())


def test_a_threshold_grid_is_the_same_on_one_two_workers_and_dask(process_cluster, tmp_path: Path) -> None:
    address = process_cluster.scheduler_address.removeprefix("tcp://")
    alone = _threshold_grid(tmp_path, "alone")
    pooled = _threshold_grid(tmp_path, "pooled", "--workers", "2")
    on_dask = _threshold_grid(tmp_path, "dask", "--executor", f"dask://{address}")
    code, output, data = alone
    assert code == 0, output
    assert data["schema"] == "solvent.threshold-grid/1" and data["questions"] == ["safe-move"]
    assert [(p["source"], p["schema"]) for p in data["policies"]] == [
        ("backpack", "solvent.thresholds/1"),
        ("okx-2018", "solvent.thresholds/1"),
    ]
    answers = [(p["policy"], t["status"], t["value_ppm"]) for p in data["policies"] for t in p["thresholds"]]
    assert answers == [("backpack", "exact", 100_000), ("okx-2018", "exact", 100_000)]
    # each policy's answers as for one, then the policy x question table
    assert output.index("== backpack ==") < output.index("== okx-2018 ==") < output.index("thresholds grid: 2 policies")
    table = output[output.index("thresholds grid: 2 policies") :].splitlines()
    assert table[1].split() == ["policy", "safe-move"]
    assert table[3].startswith("backpack") and "100,000 ppm (10%)" in table[3]
    assert table[4].startswith("okx-2018") and "100,000 ppm (10%)" in table[4]
    for other in (pooled, on_dask):
        assert other[0] == code
        assert _without_seconds(other[2]) == _without_seconds(data)  # the units of every probe too


def test_one_policy_keeps_its_json_schema(tmp_path: Path) -> None:
    out = tmp_path / "one.json"
    done = invoke("thresholds", "backpack", "--question", "safe-move", "--json", str(out), "--workers", "2")
    assert done.exit_code == 0, done.output
    data = json.loads(out.read_text())
    assert data["schema"] == "solvent.thresholds/1" and data["policy"] == "backpack"
    assert [(t["question"], t["value_ppm"]) for t in data["thresholds"]] == [("safe-move", 100_000)]
    assert "thresholds grid" not in done.output and done.output.startswith("question")


def test_an_undecided_cell_is_an_interval_with_its_reason_and_exit_3(tmp_path: Path) -> None:
    """One probe each: a side proved or refuted, never both: every cell is bounded, the table
    prints each with the reason in a note, and the grid exits 3."""
    code, output, data = _threshold_grid(tmp_path, "one-probe", "--probes", "1")
    assert code == 3, output
    assert {t["status"] for p in data["policies"] for t in p["thresholds"]} == {"bounded"}
    table = output[output.index("thresholds grid") :]
    assert "one side only within its probes and effort [1]" in table
    assert "[1] backpack safe-move: " in table and "[2] okx-2018 safe-move: " in table


def _raises_on_backpack(policy, question, bounds, *, max_probes):  # noqa: ANN001, ANN202
    """Backpack's cell raises; okx-2018's is answered with a canned exact boundary at 10 % (no
    z3: what this test shows is the error in its place beside an answer, in the table, the text
    and the JSON; the real okx-2018 cell, its probes and its story travelling from a worker, are
    asked and compared on one process, two and a cluster by
    ``test_a_threshold_grid_is_the_same_on_one_two_workers_and_dask``)."""
    if policy.name == "backpack":
        raise RuntimeError("planted failure in the worker")
    return Threshold(
        question=question.id,
        title=question.title,
        policy=policy.name,
        direction=question.direction,
        status=ThresholdStatus.EXACT,
        proved_at=100_000,
        refuted_at=100_001,
    )


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_cell_that_raises_shows_in_the_table_and_the_rest_prints(monkeypatch, tmp_path: Path, workers) -> None:
    """The threshold function raises in the worker for one policy (the forked pool's workers
    inherit the patch): its cell reads error with the exception, the other is answered, the JSON
    is written, and the grid exits 3 (nothing was decided about that cell)."""
    monkeypatch.setattr(grids, "threshold", _raises_on_backpack)
    code, output, data = _threshold_grid(tmp_path, f"raises-{workers}", "--workers", workers)
    assert code == 3, output
    table = output[output.index("thresholds grid") :]
    assert "error [1]" in table and "100,000 ppm (10%)" in table
    assert "[1] backpack safe-move: error: RuntimeError: planted failure in the worker" in table
    assert "error: RuntimeError: planted failure in the worker" in output[: output.index("== okx-2018 ==")]
    backpack, okx = (p["thresholds"][0] for p in data["policies"])
    assert backpack == {
        "question": "safe-move",
        "status": "error",
        "error": "RuntimeError: planted failure in the worker",
        "error_kind": "raised",
    }
    assert (okx["status"], okx["value_ppm"]) == ("exact", 100_000)


# --- proofs over claims x (N, K) ------------------------------------------------------------------

#: four cheap cells: backpack's conservation (proved for every N by its lemmas) and no-negative-
#: equity, at one and two traders, one mark move each, 5M units a question; the refutations shown
#: as shrunk, not at their least move (--no-least-move: 40 s a run less; the least move in a Dask
#: worker is asked by the threshold grid's bisection above, the same probes)
PROOF_GRID = (
    "prove",
    "backpack",
    "--invariant",
    "conservation,no-negative-equity",
    "--accounts",
    "1,2",
    "--events",
    "1",
    "--effort",
    "5M",
    "--no-least-move",
)


def _proof_grid(tmp_path: Path, name: str, *options: str) -> tuple[int, str, dict]:
    """The grid run as a user runs it, in a fresh process (once, z3's stories and units followed
    what the pytest worker had asked z3 before: docs/solver-notes.md#process-history, fixed, and
    guarded in tests/solver/test_effort.py; a fresh process is what the command is)."""
    import subprocess
    import sys

    out = tmp_path / f"{name}.json"
    done = subprocess.run(
        [sys.executable, "-m", "solvent", *PROOF_GRID, "--json", str(out), *options],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},  # the table unfolded, as CliRunner printed it
    )
    assert "Traceback" not in done.stdout + done.stderr
    return done.returncode, done.stdout, json.loads(out.read_text())


def test_a_proof_grid_is_the_same_on_one_two_workers_and_dask(process_cluster, tmp_path: Path) -> None:
    address = process_cluster.scheduler_address.removeprefix("tcp://")
    # the pool of two processes is compared on the threshold grid above and on one proof cell below:
    # here one process and the cluster
    alone = _proof_grid(tmp_path, "alone")
    on_dask = _proof_grid(tmp_path, "dask", "--executor", f"dask://{address}")
    code, output, data = alone
    assert data["schema"] == "solvent.proof-grid/1" and data["exit_code"] == code
    assert data["scopes"] == [{"accounts": 1, "events": 1}, {"accounts": 2, "events": 1}]
    cells = {(c["invariant"], c["accounts"]): c for c in data["cells"]}
    conservation = cells["conservation", 2]
    assert conservation["verdict"] == "proved" and conservation["claim_all_accounts"]
    assert not conservation["all_accounts"]  # its transfers' signs are proved for N ≤ 2
    assert all(c["units"] > 0 for c in data["cells"])
    table = output[output.index("proofs on backpack: 2 claims x 2 scopes") :].splitlines()
    assert table[1].split()[:3] == ["claim", "N=1,", "K=1"]
    assert table[3].startswith("conservation") and "proved, the claim all N" in table[3]
    assert table[4].startswith("no-negative-equity") and "refuted (accepted by the policy)" in table[4]
    assert "the least from its book" not in output  # --no-least-move: no story told at its least move
    verdicts = {c["verdict"] for c in data["cells"]}
    assert code == (1 if "refuted" in verdicts else 3 if verdicts - {"proved"} else 0)
    for other in (on_dask,):
        assert other[0] == code
        assert _without_seconds(other[2]) == _without_seconds(data)


def test_one_cell_prints_as_prove_always_has(tmp_path: Path) -> None:
    args = ("prove", "backpack", "--invariant", "conservation", "--accounts", "2", "--effort", "5M")
    alone, pooled = invoke(*args), invoke(*args, "--workers", "2")
    assert alone.exit_code == pooled.exit_code == 0
    assert alone.output.startswith("conservation on backpack: proved (N ≤ 2, K ≤ 1 (mark)")
    assert "; conservation proved (all N, any K (mark)" in alone.output.splitlines()[0]
    assert "proofs on backpack" not in alone.output
    strip = [line.split(" in ")[0] for line in alone.output.splitlines()]
    assert strip == [line.split(" in ")[0] for line in pooled.output.splitlines()]


# --- bad executor options: exit 2, named, nothing written -----------------------------------------


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (("--workers", "0"), "Invalid value for '--workers': 0 is not in the range 1<=x<=1024"),
        (("--executor", "bogus://x"), "Invalid value for '--executor': must be dask://HOST:PORT: 'bogus://x'"),
        (("--executor", "dask://host"), "Invalid value for '--executor': must be dask://HOST:PORT: 'dask://host'"),
        (("--traders", "0"), "Invalid value for '--accounts' / '--traders': 0 is not between 1 and 64"),
        (("--events", "3..1"), "Invalid value for '--events': the range '3..1' runs backwards"),
    ],
)
@pytest.mark.parametrize("command", ["thresholds", "prove"])
def test_a_bad_executor_option_is_refused(tmp_path: Path, command: str, option, message: str) -> None:
    if command == "thresholds" and option[0] in ("--traders", "--events"):
        pytest.skip("thresholds takes one count of traders and no events")
    out = tmp_path / "out.json"
    args = [command, "backpack", "--json", str(out), *option]
    if command == "prove":
        args += ["--invariant", "conservation"]
    done = invoke(*args)
    assert done.exit_code == 2, done.output
    assert message in done.output and "Traceback" not in done.output
    assert not out.exists()


@pytest.mark.parametrize("command", ["thresholds", "prove"])
def test_an_unreachable_scheduler_is_bad_input(tmp_path: Path, command: str, monkeypatch) -> None:
    """Nothing listens on port 1: the command says so before any cell runs, exit 2, no JSON
    (after one second to connect here; a run waits ``CONNECT_SECONDS``, ten)."""
    pytest.importorskip("distributed")
    from solvent.simulation import executors

    monkeypatch.setattr(executors, "CONNECT_SECONDS", 1)
    out = tmp_path / "out.json"
    args = [command, "backpack", "--json", str(out), "--executor", "dask://127.0.0.1:1"]
    if command == "prove":
        args += ["--invariant", "conservation"]
    done = invoke(*args)
    assert done.exit_code == 2, done.output
    assert "solvent: '--executor' cannot reach the Dask scheduler at 127.0.0.1:1" in done.output
    assert "Traceback" not in done.output and not out.exists()


def test_an_answer_of_two_margin_scopes_leaves_no_z3_value_behind() -> None:
    """A policy that declares both margin modes asks each scope (``parts``), and each scope's result
    kept its witness story's z3 values: every such cell failed on a process pool ("ctypes objects
    containing pointers cannot be pickled": ``solvent prove hyperliquid ... --workers 2``, found in
    session 25). What a worker sends back drops every witness, the scopes' too, and pickles."""
    import pickle

    import z3

    from solvent.solver.verdicts import ScopeAnswer

    scope = Scope(accounts=2, events=1, kinds=("mark",), prices="prices 1..100")
    one = ProofResult("p", "conservation", Verdict.PROVED, scope, 0.0, "direct", witness=z3.Int("x"))
    joined = attrs.evolve(one, parts=(ScopeAnswer("all-cross books", one), ScopeAnswer("isolated", one)))
    with pytest.raises(ValueError, match="pickled"):
        pickle.dumps(attrs.evolve(joined, witness=None))  # the top-level witness alone dropped: the bug
    back = pickle.loads(pickle.dumps(grids.without_witness(joined)))
    assert back.witness is None and [p.result.witness for p in back.parts] == [None, None]
    assert [p.label for p in back.parts] == ["all-cross books", "isolated"] and back.verdict is Verdict.PROVED


@pytest.mark.deep
def test_a_cell_asked_on_two_margin_scopes_comes_back_from_a_worker() -> None:
    """The same on a real cell (hyperliquid, two margin scopes): its answer pickles (10 s)."""
    import pickle

    from solvent.solver.bounds import Bounds, for_policy
    from solvent.solver.margin_scopes import margin_scopes
    from solvent.verdicts.check import resolve

    policy = resolve("hyperliquid")
    scopes = margin_scopes(policy)
    assert len(scopes) == 2
    bounds = for_policy(Bounds(accounts=1, events=1), policy)
    answer = grids.answer_proof(grids.ProofCell(policy, "open-interest-balance", bounds, minimize=False, scopes=scopes))
    assert [p.result.verdict for p in answer.parts] == [Verdict.PROVED, Verdict.PROVED]
    back = pickle.loads(pickle.dumps(answer))
    assert back.verdict is Verdict.PROVED and [p.label for p in back.parts] == [p.label for p in answer.parts]

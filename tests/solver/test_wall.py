"""The solver's hard-kill child (``solvent.solver.wall``): the same answer and units forked or
spawned, and it works inside a daemonic process, where ``multiprocessing`` forbids children (a Dask
worker is one: tests/simulation/test_sim_dask.py runs threshold cells on one)."""

from __future__ import annotations

import multiprocessing

import pytest
import z3

from solvent.solver import wall


def factor_cell(units: int = 10_000_000) -> tuple[bool, str, dict[str, int], int]:
    """A nonlinear question (two factors of 391 = 17 × 23) through the hard-kill wrapper, as plain
    data: whether this process may fork, the answer, the model, the units spent."""
    x, y = z3.Ints("x y")
    answer = wall.check([x * y == 391, x > 1, y > 1, x < y], [x, y], units, 60.0)
    return wall.may_fork(), answer.result, answer.values, answer.units


def _in_daemon(out: multiprocessing.Queue) -> None:
    try:
        out.put(factor_cell())
    except BaseException as exc:  # noqa: BLE001 (sent back to fail the test with it)
        out.put(repr(exc))


def test_forked_and_spawned_children_give_the_same_answer_and_units(monkeypatch) -> None:
    forked = factor_cell()
    monkeypatch.setattr(wall, "may_fork", lambda: False)
    spawned = factor_cell()
    assert forked[1:] == spawned[1:] == ("sat", {"x": 17, "y": 23}, forked[3])
    assert forked[3] > 0


def test_the_wrapper_works_inside_a_daemonic_process() -> None:
    """Before: 'daemonic processes are not allowed to have children' (AssertionError)."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    daemon = ctx.Process(target=_in_daemon, args=(out,), daemon=True)
    daemon.start()
    got = out.get(timeout=120)
    daemon.join()
    assert got == (False, "sat", {"x": 17, "y": 23}, factor_cell()[3])


def test_an_unknown_within_the_units_is_unknown_in_a_spawned_child_too(monkeypatch) -> None:
    forked = factor_cell(units=1)
    monkeypatch.setattr(wall, "may_fork", lambda: False)
    spawned = factor_cell(units=1)
    assert forked[1] == spawned[1] == "unknown"
    assert forked[3] == spawned[3]


def test_a_spawned_child_that_cannot_run_is_a_loud_error(monkeypatch) -> None:
    monkeypatch.setattr(wall, "may_fork", lambda: False)
    monkeypatch.setattr(wall.sys, "executable", "/bin/false")
    with pytest.raises(RuntimeError, match="child process failed"):
        factor_cell()

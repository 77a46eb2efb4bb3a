"""The solver's hard-kill child (``solvent.solver.wall``): a forked child that answers through a
pipe, so it also works inside a daemonic process, where ``multiprocessing`` forbids children (a
Dask worker is one: tests/simulation/test_sim_dask.py runs a threshold cell on one)."""

from __future__ import annotations

import multiprocessing

import z3

from solvent.solver import wall


def factor_cell(units: int = 10_000_000, safety_s: float = 60.0) -> tuple[bool, str, dict[str, int], int]:
    """A nonlinear question (two factors of 391 = 17 × 23) through the hard-kill wrapper, as plain
    data: whether multiprocessing would let this process fork, the answer, the model, the units."""
    x, y = z3.Ints("x y")
    answer = wall.check([x * y == 391, x > 1, y > 1, x < y], [x, y], units, safety_s)
    return wall.may_fork(), answer.result, answer.values, answer.units


def _in_daemon(out: multiprocessing.Queue) -> None:
    try:
        out.put(factor_cell())
    except BaseException as exc:  # noqa: BLE001 (sent back to fail the test with it)
        out.put(repr(exc))


def test_a_sat_answer_comes_back_with_its_model_and_units() -> None:
    here = factor_cell()
    assert here[1:3] == ("sat", {"x": 17, "y": 23}) and here[3] > 0
    assert factor_cell() == here  # the same units again: the child starts from the same state


def test_the_wrapper_works_inside_a_daemonic_process() -> None:
    """With multiprocessing's child this raised 'daemonic processes are not allowed to have
    children' (AssertionError); the forked child answers the same, units included."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    daemon = ctx.Process(target=_in_daemon, args=(out,), daemon=True)
    daemon.start()
    got = out.get(timeout=120)
    daemon.join()
    assert got == (False, *factor_cell()[1:])


def test_out_of_units_is_unknown_not_killed() -> None:
    may, result, values, units = factor_cell(units=1)
    assert (result, values) == ("unknown", {}) and units >= 1


def test_a_child_past_the_safety_net_is_killed_and_says_so(monkeypatch) -> None:
    """A child that never answers (z3 not counting, here a sleep) is killed at the safety net
    plus the grace second: unknown, and the reason says the child was killed."""
    import time

    monkeypatch.setattr(wall, "GRACE_S", 0.2)
    monkeypatch.setattr(wall, "_solve", lambda *a: time.sleep(30))
    x = z3.Int("x")
    answer = wall.check([x > 1], [x], 1000, 0.1)
    assert answer.result == "unknown" and "the child was killed" in answer.reason


def test_a_child_that_raises_is_a_loud_error_not_an_unknown(monkeypatch) -> None:
    """A child that raises before its deadline used to look like a safety-net kill: an unknown
    that quietly changed which story was shown. It is an internal error with the child's traceback."""
    import pytest

    def boom(*args: object) -> None:
        raise RuntimeError("boom in the child")

    monkeypatch.setattr(wall, "_solve", boom)
    x = z3.Int("x")
    with pytest.raises(wall.WallChildError, match="boom in the child"):
        wall.check([x > 1], [x], 1000, 30.0)


def test_a_child_that_dies_without_an_answer_is_a_loud_error(monkeypatch) -> None:
    import os

    import pytest

    monkeypatch.setattr(wall, "_solve", lambda *a: os._exit(3))
    x = z3.Int("x")
    with pytest.raises(wall.WallChildError, match="no answer"):
        wall.check([x > 1], [x], 1000, 30.0)

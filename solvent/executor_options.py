"""``--workers N`` and ``--executor dask://HOST:PORT``: where the tasks of ``simulate``,
``thresholds`` and ``prove`` run (``solvent.simulation.executors``), the same two options with the
same parser on every command that takes them.

``--workers`` below 1 is click's usage error; an ``--executor`` not of the form
``dask://HOST:PORT`` is refused when the command line is read, by the parser the executor itself
uses (``executors.dask_address``); an unreachable scheduler when the command connects to it, before
any task runs. Each is exit 2 with the option named, without a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def _check_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from solvent.simulation.executors import ExecutorError, dask_address

    if value is None:
        return value
    try:
        dask_address(value)
    except ExecutorError as exc:
        raise click.BadParameter(str(exc).removeprefix("'--executor' "), ctx=ctx, param=param) from None
    return value


def executor_options(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The two options, as ``workers`` and ``executor_url``; ``what`` names the tasks in the help
    ("paths", "threshold cells")."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(
            "--executor",
            "executor_url",
            default=None,
            metavar="dask://HOST:PORT",
            callback=_check_url,
            help=f"Run {what} on a Dask scheduler instead (pip install 'solvent[dask]').",
        )(command)
        return click.option(
            "--workers",
            type=click.IntRange(min=1, max=1024),
            default=1,
            show_default=True,
            help=f"Local worker processes for {what} (1: in this process). The results are the same for any number.",
        )(command)

    return decorate


__all__ = ["executor_options"]

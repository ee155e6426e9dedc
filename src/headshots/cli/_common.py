"""Helpers shared by the CLI command modules."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from headshots.errors import HeadshotsError

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)


def friendly_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a ``HeadshotsError`` raised by a command into one line on stderr and its exit code
    (2 for bad input), which Typer's runner and the real process both honour."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except HeadshotsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(exc.exit_code) from None

    return wrapper

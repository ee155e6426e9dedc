"""Helpers shared by the CLI command modules."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TextIO, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress, ProgressColumn

from headshots.cli._logs import third_party_output_to_log, user_stderr
from headshots.errors import HeadshotsError

P = ParamSpec("P")
R = TypeVar("R")

console = Console()


class _UserErrorConsole(Console):
    """A console on the person's stderr: while a command runs, ``sys.stderr`` feeds the log."""

    @property  # type: ignore[override]
    def file(self) -> TextIO:
        return user_stderr()

    @file.setter
    def file(self, new_file: TextIO) -> None:  # Rich sets it in __init__; ours is fixed
        pass


err_console = _UserErrorConsole(stderr=True)


def json_to_stdout(path: object) -> bool:
    """``--json -``: the JSON goes to stdout alone (so it can be piped) and every other line
    this command prints moves to stderr."""
    if path is not None and str(path) == "-":
        console.file = user_stderr()
        return True
    return False


def emit_json(path: object, text: str) -> None:
    """Write ``text`` to ``--json``'s file, or print it when the path is ``-``."""
    import sys
    from pathlib import Path

    if str(path) == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
        return
    target = Path(str(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def progress(*columns: ProgressColumn | str, transient: bool = False) -> Progress:
    """A Rich progress display on stdout. It leaves ``sys.stderr`` alone: by default Rich would
    route stderr through the display while it runs, which on a terminal shows exactly the
    libraries' warnings and tqdm bars that belong in the log."""
    return Progress(*columns, console=console, transient=transient, redirect_stderr=False)

# what re-running a command after Ctrl-C does, in one line
_AFTER_CTRL_C = {
    "train": "run the same command again to resume from the last checkpoint",
    "generate": "run the same command again to carry on: the finished candidates are kept",
    "run": "run the same command again to resume: finished stages are skipped, and training "
           "and generation carry on where they stopped",
}
_START_OVER = "nothing was lost: run the same command again to start it over"


def say_error(line: str) -> None:
    """One line on the person's stderr (never into the third-party log)."""
    print(line, file=user_stderr(), flush=True)


def friendly_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a command with other libraries' output sent to the log (unless ``verbose=True`` is
    among its arguments), a ``HeadshotsError`` turned into one line on stderr and its exit code
    (2 for bad input), and Ctrl-C into one line saying what re-running does (exit 130)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        name = fn.__name__.rstrip("_")
        with third_party_output_to_log(name, verbose=bool(kwargs.get("verbose")),
                                       arguments=kwargs):
            try:
                return fn(*args, **kwargs)
            except HeadshotsError as exc:
                say_error(f"error: {exc}")
                raise typer.Exit(exc.exit_code) from None
            except KeyboardInterrupt:
                say_error(f"stopped — {_AFTER_CTRL_C.get(name, _START_OVER)}")
                raise typer.Exit(130) from None
            finally:
                console.file = None  # type: ignore[assignment] # back to stdout (`--json -`)

    return wrapper

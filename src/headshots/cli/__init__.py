"""The ``headshots`` command. Each group of commands lives in its own private module;
heavy libraries (torch, mediapipe) are imported inside the commands so ``--help`` is instant.

Errors: an ``InputError`` prints one line ``error: <problem> — <fix>`` and exits 2; any other
``HeadshotsError`` prints one line and exits 1.
"""

from __future__ import annotations

import sys

import typer

from headshots.errors import HeadshotsError

app = typer.Typer(
    name="headshots",
    help="Turn 8-20 selfies into studio-quality, honestly labelled AI headshots.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

def _version(value: bool) -> None:
    if value:
        from headshots import __version__

        typer.echo(f"headshots {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Turn 8-20 selfies into studio-quality, honestly labelled AI headshots."""


# Importing registers the commands on ``app``.
from headshots.cli import _intake, _train, _generate, _judge, _run, _demo, _orders, _serve, _worker  # noqa: E402,F401,I001


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the Typer app, turning our errors into one line and an exit code."""
    try:
        app(args=argv, standalone_mode=True)
    except HeadshotsError as exc:  # pragma: no cover - exercised through CliRunner tests
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None


__all__ = ["app", "main"]

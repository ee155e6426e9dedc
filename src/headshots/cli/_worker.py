"""``headshots worker``: a Celery worker for the order stages (see docs/scale-out.md)."""

from __future__ import annotations

import os

import typer

from headshots.cli import app
from headshots.cli._common import say_error
from headshots.errors import ConfigError, HeadshotsError


def worker_argv(queues: str, concurrency: int, beat: bool, loglevel: str) -> list[str]:
    """The Celery worker's arguments, after checking ours."""
    from headshots.runners import QUEUES

    chosen = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = [q for q in chosen if q not in QUEUES]
    if not chosen or unknown:
        raise ConfigError(f"unknown queue {', '.join(unknown) or '(none given)'}",
                          f"pass --queues with {' and/or '.join(QUEUES)}, e.g. --queues gpu,cpu")
    argv = ["worker", "--queues", ",".join(chosen), "--concurrency", str(concurrency),
            "--optimization", "fair", "--loglevel", loglevel,
            "--hostname", f"headshots-{'-'.join(chosen)}-{os.getpid()}@%h",
            "--without-gossip", "--without-mingle"]  # workers share nothing but the broker
    if beat:
        argv.append("--beat")
    return argv


@app.command()
def worker(
    queues: str = typer.Option("gpu,cpu", "--queues", help="Which stages to take: gpu (train, "
                               "preview, generate), cpu (prepare, judge, deliver, purge) or "
                               "both, comma-separated."),
    concurrency: int = typer.Option(1, "--concurrency", min=1, help="Stages run at once "
                                    "(processes). GPU workers: one per GPU."),
    beat: bool = typer.Option(False, "--beat", help="Also run the periodic jobs (retention "
                              "purge, reaper of stalled stages). Exactly one process of the "
                              "deployment should."),
    loglevel: str = typer.Option("info", "--loglevel", help="debug, info, warning or error."),
) -> None:
    """Run order stages from the broker (HEADSHOTS_BROKER_URL) until stopped. Ctrl+C stops
    after the stages in progress; a killed worker's stage is resumed by another."""
    from kombu.utils.url import maybe_sanitize_url

    from headshots.config import Settings
    from headshots.runners import make_celery

    try:
        settings = Settings()
        argv = worker_argv(queues, concurrency, beat, loglevel)
        celery_app = make_celery(settings)  # says what to set when no broker is configured
    except HeadshotsError as exc:
        say_error(f"error: {exc}")
        raise typer.Exit(exc.exit_code) from None
    print(f"headshots worker: queues {argv[2]}, {concurrency} at once"
          f"{', with beat' if beat else ''}; broker {maybe_sanitize_url(settings.broker_url)}, "
          f"database {maybe_sanitize_url(settings.resolved_database_url)}", flush=True)
    celery_app.worker_main(argv)

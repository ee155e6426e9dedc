"""``headshots serve`` (the HTTP service on the embedded default) and ``headshots user add``
(an account with an API token, for integrations and first use)."""

from __future__ import annotations

import socket
import sys

import typer

from headshots.cli import app
from headshots.cli._common import friendly_errors

user_app = typer.Typer(help="Accounts of the service.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@app.command()
@friendly_errors
def serve(
    host: str = typer.Option(None, help="Address to listen on (default "
                             "HEADSHOTS_SERVICE__HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default HEADSHOTS_SERVICE__PORT or 8000; 0: any "
                             "free one)."),
) -> None:
    """Serve the web API (and page) on this machine: SQLite, blobs and a background runner
    in the data directory, one command. Prints the address to open."""
    import uvicorn

    from headshots.api import create_app
    from headshots.config import Settings

    settings = Settings()
    host = host or settings.service.host
    port = settings.service.port if port is None else port
    application = create_app(settings)  # refuses default secrets in production first
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        from headshots.errors import ConfigError

        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror})",
                          "choose another --port, or stop what is using it") from None
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound}"
    print(f"headshots is serving at {url}  (API: {url}/api/v1, docs: {url}/docs; "
          f"data: {settings.data_dir}; Ctrl+C stops)", flush=True)
    if settings.broker_url:
        from kombu.utils.url import maybe_sanitize_url

        print(f"stages run on `headshots worker` processes of the broker "
              f"{maybe_sanitize_url(settings.broker_url)}; Celery beat applies the retention "
              "schedule (see docs/scale-out.md)", flush=True)
    if not settings.service.base_models:
        print("note: no base model is configured, so orders cannot be created yet — set "
              "HEADSHOTS_SERVICE__BASE_MODELS='{\"sd15\": \"/path/to/model\"}'",
              file=sys.stderr, flush=True)
    config = uvicorn.Config(application, log_level="warning", access_log=False,
                            proxy_headers=True, timeout_graceful_shutdown=10)
    uvicorn.Server(config).run(sockets=[sock])


@user_app.command("add")
@friendly_errors
def user_add(
    email: str = typer.Argument(..., help="The account's e-mail (made if new)."),
    name: str = typer.Option("cli", help="A name for the token, to tell tokens apart."),
) -> None:
    """Make an account (if new) and print a new API token for it (shown once)."""
    from headshots.api._accounts import AccountService
    from headshots.config import Settings
    from headshots.store import open_store

    store = open_store(Settings())
    try:
        accounts = AccountService(store)
        row = accounts.by_email(email) or accounts.create(email=email, password=None)
        _, token = accounts.issue_token(account_id=row.id, name=name)
    finally:
        store.close()
    typer.echo(f"account {row.id} ({row.email})", err=True)
    typer.echo(token)

"""The app factory: one FastAPI app over one store, workflow and runner.

``create_app(settings)`` gives the embedded default (SQLite and blobs in the data directory,
the in-process background runner); tests and the scale-out pass their own ``store``,
``runtime`` or ``runner``; with ``HEADSHOTS_BROKER_URL`` set the runner is Celery's (stages run
on ``headshots worker`` processes). On start the app resubmits orders that were queued or
running when the last process stopped (``runner.recover()``, where the runner has it: with
Celery, beat's reaper does that) and starts the timer (retention purge unless Celery beat runs
it, webhooks); on stop it stops both.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from headshots import __version__
from headshots.config import Settings
from headshots.orders import Runtime, Workflow, purge
from headshots.runners import Runner, build_runner
from headshots.store import Store

from ._accounts import AccountService
from ._deps import Services
from ._errors import BodyLimit, install_error_handlers
from ._ratelimit import RateLimiter
from ._routes_account import router as account_router
from ._routes_info import router as info_router
from ._routes_orders import router as orders_router
from ._scheduler import Scheduler
from ._secrets import check_production, load_session_secret
from ._service import OrderService
from ._webhooks import Webhooks

__all__ = ["create_app"]

log = logging.getLogger("headshots.api")
_MULTIPART_OVERHEAD = 1_000_000

DESCRIPTION = """Turn 8-20 selfies into studio-quality, honestly labelled AI headshots.

Authenticate with `Authorization: Bearer <token>` (`headshots user add EMAIL` prints one, or
`POST /api/v1/me/tokens` when signed in). Every error is `{error, problem, fix, reason?}`.
The flow: `GET /consent` → `POST /orders` → `POST /orders/{id}/photos` (each) →
`POST /orders/{id}/start` → follow `GET /orders/{id}` or `/events/stream` → `GET /preview` →
`POST /approve` → `GET /results`, `/images/{image_id}`, `/download`."""


def create_app(settings: Settings | None = None, *, store: Store | None = None,
               runtime: Runtime | None = None, runner: Runner | None = None) -> FastAPI:
    settings = settings or Settings()
    check_production(settings)
    secret = load_session_secret(settings)
    store = store or Store(settings)
    workflow = Workflow(store, runtime or Runtime(device=settings.service.device))
    if runner is None:  # the workers' queues when a broker is set, else a background thread
        runner = build_runner(settings, workflow, background=True, label="headshots serve")
    webhooks = Webhooks(store, settings, secret)
    svc = Services(settings=settings, store=store, workflow=workflow, runner=runner,
                   accounts=AccountService(store, settings.service.session_days),
                   orders=OrderService(settings, workflow, runner, webhooks),
                   webhooks=webhooks, limiter=RateLimiter(), secret=secret)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        recover = getattr(runner, "recover", None)
        if recover is not None:
            resumed = recover()
            if resumed:
                log.info("resumed %d unfinished orders", len(resumed))
        scheduler = None
        if settings.service.scheduler:
            scheduler = Scheduler()
            if not settings.broker_url:  # with a broker, Celery beat purges (one of them)
                scheduler.every(settings.service.purge_every_seconds, "purge",
                                lambda: purge(store))
            scheduler.every(settings.service.webhook_every_seconds, "webhooks",
                            lambda: (webhooks.collect(), webhooks.send_due()))
            scheduler.start()
        app.state.scheduler = scheduler
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            shutdown = getattr(runner, "shutdown", None)
            if shutdown is not None:
                shutdown()

    app = FastAPI(title="headshots", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan)
    app.state.services = svc
    install_error_handlers(app)
    app.include_router(info_router)
    app.include_router(account_router)
    app.include_router(orders_router)
    from headshots.web import install_web  # the page, on the same services

    install_web(app)
    limit = settings.service.max_upload_bytes + _MULTIPART_OVERHEAD
    # outside the API (the page's forms) a refused body is answered as a page, not JSON
    app.add_middleware(BodyLimit, limit=limit,
                       delegate=lambda scope: not str(scope["path"]).startswith("/api/"))
    return app



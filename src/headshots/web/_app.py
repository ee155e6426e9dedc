"""Mount the page on the service's app: its routes (kept out of the OpenAPI document) and
its static files (a stylesheet and a script, served from the package: works offline)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ._pages import HERE
from ._routes_auth import router as auth_router
from ._routes_order import router as order_router
from ._routes_results import router as results_router

__all__ = ["install_web"]


def install_web(app: FastAPI) -> None:
    app.include_router(auth_router)
    app.include_router(order_router)
    app.include_router(results_router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

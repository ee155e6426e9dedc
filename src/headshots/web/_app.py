"""Mount the page on the service's app: its routes (kept out of the OpenAPI document) and
its static files (a stylesheet and a script, served from the package: works offline)."""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ._pages import HERE, problem_page
from ._routes_account import router as account_router
from ._routes_auth import router as auth_router
from ._routes_order import router as order_router
from ._routes_results import router as results_router

__all__ = ["install_web"]


def install_web(app: FastAPI) -> None:
    api_errors = app.exception_handlers[StarletteHTTPException]

    async def http_error(request: Request, exc: Exception) -> Response:
        """An unknown address or method outside the API answers a page, not JSON."""
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
                "accept", ""):
            result = api_errors(request, exc)
            return await result if inspect.isawaitable(result) else result
        words = {404: ("there is no page at this address", "check the address, or start "
                       "from your orders"),
                 405: ("this page cannot be used that way", "start from your orders")}
        problem, fix = words.get(exc.status_code, (str(exc.detail).lower(), "try again"))
        return problem_page(request, exc.status_code, problem, fix)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.include_router(auth_router)
    app.include_router(account_router)
    app.include_router(order_router)
    app.include_router(results_router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

"""Errors as JSON: every ``HeadshotsError`` answers its ``http_status`` with
``{error, problem, fix, reason?}``; an image refused for its format is 415, for its size 413;
validation failures and unknown routes get the same shape; a bug is a 500 whose trace goes to
the log only. Request bodies are capped before they are read whole."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from headshots.errors import HeadshotsError, ImageError, RateLimited
from headshots.types import Reason

__all__ = ["BodyLimit", "error_response", "install_error_handlers"]

log = logging.getLogger("headshots.api")
_REASON_STATUS = {Reason.UNSUPPORTED_FORMAT: 415, Reason.TOO_LARGE: 413,
                  Reason.UNREADABLE: 422}


def error_response(exc: HeadshotsError) -> JSONResponse:
    status = exc.http_status
    if isinstance(exc, ImageError):
        status = _REASON_STATUS.get(exc.reason, status)
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(exc.to_dict(), status_code=status, headers=headers)


def _headshots(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HeadshotsError)
    return error_response(exc)


def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # never echo the input back: it may be a password
    detail = [{"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", "")),
               "type": str(e.get("type", ""))} for e in exc.errors()]
    first = detail[0] if detail else {"loc": [], "msg": "invalid"}
    where = ".".join(x for x in first["loc"] if x not in ("body", "query", "path", "header"))
    return JSONResponse({"error": "InputError",
                         "problem": f"the request is invalid: {where or 'body'}: {first['msg']}",
                         "fix": "correct it as the API reference (/docs) shows",
                         "detail": detail}, status_code=422)


_HTTP_FIX = {404: "check the address against the API reference (/docs)",
             405: "use the method the API reference (/docs) shows for this address"}


def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, _TooBig):
        return JSONResponse({"error": "ImageError", "reason": "too_large",
                             "problem": str(exc.detail), "fix": Reason.TOO_LARGE.fix},
                            status_code=413)
    return JSONResponse({"error": "HTTPError", "problem": str(exc.detail).lower(),
                         "fix": _HTTP_FIX.get(exc.status_code, "see the API reference (/docs)")},
                        status_code=exc.status_code, headers=exc.headers)


def _bug(_request: Request, exc: Exception) -> JSONResponse:
    log.error("request failed", exc_info=exc)
    return JSONResponse({"error": "InternalError", "problem": "the server failed unexpectedly",
                         "fix": "try again; if it keeps failing, report it with the time it "
                                "happened"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HeadshotsError, _headshots)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _bug)


class _TooBig(StarletteHTTPException):
    """Raised from inside the body stream; FastAPI re-raises HTTP exceptions from body
    parsing as they are, so the route answers 413 through ``_http``."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request is over the {limit / 1e6:.0f} MB limit")


class BodyLimit:
    """Refuse a request body over ``limit`` bytes (413) as it arrives, whether or not it
    declared its length: nothing over the limit is ever buffered or spooled.

    For requests ``delegate`` picks (the page's forms) the app answers itself: the rest of the
    body is read and dropped (up to ``drain_factor`` times the limit, so a browser, still
    sending, sees the answer rather than a reset connection), then the route's first read of
    the body raises the 413 for it to show as a page."""

    def __init__(self, app: ASGIApp, limit: int,
                 delegate: Callable[[Scope], bool] | None = None, drain_factor: int = 8) -> None:
        self.app, self.limit, self.delegate = app, limit, delegate
        self.drain_cap = limit * drain_factor

    async def _drain(self, receive: Receive, seen: int) -> None:
        more = True
        while more and seen <= self.drain_cap:
            message = await receive()
            if message["type"] != "http.request":
                return
            seen += len(message.get("body", b""))
            more = bool(message.get("more_body", False))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        delegated = self.delegate is not None and self.delegate(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            if not delegated:
                await self._refuse(send)
                return
            await self._drain(receive, 0)

            async def refused() -> Message:
                raise _TooBig(self.limit)

            await self._run(scope, refused, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    if delegated and message.get("more_body", False):
                        await self._drain(receive, seen)
                    raise _TooBig(self.limit)
            return message

        await self._run(scope, limited, send)

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except _TooBig:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        response = _http(None, _TooBig(self.limit))  # type: ignore[arg-type]
        await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:  # pragma: no cover - a JSONResponse never reads
    return {"type": "http.disconnect"}

"""What every page shares: the templates, the signed-in account, the CSRF value for forms,
and errors shown on the page (what is wrong and what to do), never a stack trace.

A page route raises what the service raises; ``PageRoute`` turns it into a page: no session
→ the sign-in page (and back afterwards), a ``HeadshotsError`` → its problem and fix with its
status code, a form the server refused to read (over the size cap: 413; malformed: 400) → a
page saying so (the route's own page when it names one with ``@refused_page``), anything else
→ a plain "something failed" page while the trace goes to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from headshots.api._deps import CSRF_COOKIE, SESSION_COOKIE, Services, issue_csrf, services
from headshots.api._deps import _valid as _valid_csrf
from headshots.errors import AuthError, CsrfError, HeadshotsError, NotFoundError
from headshots.store._models import AccountRow

__all__ = ["PageRoute", "account_or_none", "problem_page", "refused_page", "render",
           "see_other", "signed_in"]

log = logging.getLogger("headshots.web")
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

STATUS_WORDS = {
    "collecting": "collecting photos", "queued": "waiting in line", "checking": "checking photos",
    "preparing": "preparing", "training": "training your model", "previewing": "making a preview",
    "awaiting_approval": "preview ready: waiting for you", "generating": "generating",
    "judging": "judging", "delivering": "delivering", "delivered": "delivered",
    "failed": "failed", "cancelled": "cancelled", "expired": "expired", "deleted": "deleted"}
templates.env.globals["status_words"] = STATUS_WORDS
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def account_or_none(request: Request) -> AccountRow | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    return services(request).accounts.by_session(cookie) if cookie else None


def signed_in(request: Request) -> AccountRow:
    """The page's account (session cookie only: the page never takes API tokens)."""
    account = account_or_none(request)
    if account is None:
        raise AuthError("you are not signed in", "sign in")
    return account


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page with the account and the form CSRF value (a fresh one set when missing)."""
    svc: Services = services(request)
    token = request.cookies.get(CSRF_COOKIE, "")
    scratch = None
    if not token or not _valid_csrf(svc, token):
        scratch = Response()
        token = issue_csrf(scratch, svc)
    context.setdefault("account", account_or_none(request))
    response = templates.TemplateResponse(request, name, {"csrf_token": token, **context},
                                          status_code=status)
    if scratch is not None:
        response.raw_headers.extend(h for h in scratch.raw_headers if h[0] == b"set-cookie")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP  # only this server's files run here
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _back(request: Request) -> str | None:
    """The page the person came from, when it is on this site (a link back)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return None


def problem_page(request: Request, status: int, problem: str, fix: str) -> HTMLResponse:
    return render(request, "error.html", status=status, problem=problem, fix=fix,
                  back=_back(request))


_problem = problem_page
# a route's own page for a form the server refused to read: (request, status, problem, fix)
Refused = Callable[[Request, int, str, str], Response]
_REFUSED_ATTR = "_headshots_refused_page"


def refused_page(show: Refused) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a form route: a body refused before the route ran is answered by ``show``."""

    def mark(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        setattr(endpoint, _REFUSED_ATTR, show)
        return endpoint

    return mark


def _unread(exc: StarletteHTTPException) -> tuple[int, str, str]:
    """What to say about a form the server did not read (never the API's wording)."""
    if exc.status_code == 413:
        return (413, f"what you sent is too large: {str(exc.detail).removeprefix('the ')}",
                "send less at once")
    return (exc.status_code, "the form could not be read", "go back and send it again")


def _as_page(request: Request, exc: Exception) -> Response:
    if isinstance(exc, CsrfError):
        return _problem(request, 403, "this form was sent without its security token (or "
                        "from another site)", exc.fix)
    if isinstance(exc, AuthError):
        target = request.url.path if request.method == "GET" else "/"
        return see_other(f"/signin?next={quote(target)}")
    if isinstance(exc, NotFoundError):  # the service's fix speaks to API clients
        return _problem(request, 404, exc.problem, "check the address, or open the order "
                        "from your orders")
    if isinstance(exc, HeadshotsError):
        return _problem(request, exc.http_status, exc.problem, exc.fix)
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        field = str((first.get("loc") or ["", "form"])[-1]).replace("_", " ")
        return _problem(request, 422, f"the form is missing or has a wrong {field}",
                        "go back, fill it in and send it again")
    if isinstance(exc, StarletteHTTPException):
        return _problem(request, *_unread(exc))
    log.error("page %s failed", request.url.path, exc_info=exc)
    return _problem(request, 500, "the server failed unexpectedly",
                    "try again; if it keeps failing, tell the operator the time it happened")


class PageRoute(APIRoute):
    """A route whose errors are pages: readable problem and fix, the right status code."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        own: Refused | None = getattr(self.endpoint, _REFUSED_ATTR, None)

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except StarletteHTTPException as exc:
                if own is None:
                    return _as_page(request, exc)
                try:  # the route's page, with the reason: a read of the database
                    return await run_in_threadpool(own, request, *_unread(exc))
                except Exception as inner:
                    return _as_page(request, inner)
            except Exception as exc:
                return _as_page(request, exc)

        return page

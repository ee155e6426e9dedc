"""The page's front door: home (your orders), sign-up, sign-in, sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response

from headshots.api._deps import SESSION_COOKIE, check_csrf, issue_csrf, services, set_session
from headshots.errors import AuthError, ConflictError, InputError, RateLimited

from ._pages import PageRoute, account_or_none, render, see_other

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Text = Annotated[str, Form(max_length=1024)]


def _next(value: str | None) -> str:
    """Only a path on this site (never another host) is a place to go back to."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _start_session(request: Request, response: Response, account_id: str) -> Response:
    """A new session cookie and a new CSRF value (nothing from before sign-in carries on)."""
    svc = services(request)
    token, expires = svc.accounts.new_session(account_id)
    set_session(response, svc, token, expires)
    issue_csrf(response, svc)
    return response


@router.get("/")
def home(request: Request) -> Response:
    account = account_or_none(request)
    if account is None:
        return render(request, "landing.html")
    orders = services(request).orders.list_orders(account_id=account.id)
    return render(request, "home.html", account=account, orders=list(reversed(orders)))


@router.get("/signup")
def signup_form(request: Request) -> Response:
    return render(request, "signup.html", email="", error=None)


@router.post("/signup", dependencies=[Depends(check_csrf)])
def signup(request: Request, email: Text, password: Text) -> Response:
    svc = services(request)
    try:
        svc.limiter.hit(f"signup:{_client(request)}", svc.settings.service.signin_per_minute,
                        "sign-ups")
        row = svc.accounts.create(email=email, password=password)
    except (InputError, ConflictError, RateLimited) as exc:
        return render(request, "signup.html", status=exc.http_status, email=email, error=exc)
    return _start_session(request, see_other("/orders/new"), row.id)


@router.get("/signin")
def signin_form(request: Request, next: str | None = None) -> Response:
    return render(request, "signin.html", email="", error=None, next=_next(next))


@router.post("/signin", dependencies=[Depends(check_csrf)])
def signin(request: Request, email: Text, password: Text,
           next: Annotated[str, Form(max_length=500)] = "/") -> Response:
    svc = services(request)
    limit = svc.settings.service.signin_per_minute
    try:
        svc.limiter.hit(f"signin:{_client(request)}", limit * 5, "sign-in tries from here")
        svc.limiter.hit(f"signin:{email.strip().lower()}", limit, "sign-in tries")
        row = svc.accounts.authenticate(email=email, password=password)
    except (AuthError, RateLimited) as exc:
        return render(request, "signin.html", status=exc.http_status, email=email, error=exc,
                      next=_next(next))
    return _start_session(request, see_other(_next(next)), row.id)


@router.post("/signout", dependencies=[Depends(check_csrf)])
def signout(request: Request) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        services(request).accounts.end_session(cookie)
    response = see_other("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

"""Who is asking: an API token (``Authorization: Bearer``) or a signed-in session cookie; and
the CSRF guard for changes made with a cookie (forms, the page's scripts).

- Session cookie ``hs_session``: a random value (its SHA-256 is the server-side session),
  HttpOnly, SameSite=Lax, Secure when the public URL is https.
- CSRF: ``hs_csrf`` is a signed random value (readable by the page's scripts); every POST,
  PATCH, PUT or DELETE that is not token-authenticated must echo it in ``X-CSRF-Token`` or a
  ``csrf_token`` form field. Token requests carry no ambient credential, so they need none.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request, Response

from headshots.config import Settings
from headshots.errors import AuthError, CsrfError
from headshots.orders import Workflow
from headshots.runners import Runner
from headshots.store import Store
from headshots.store._models import AccountRow

from ._accounts import AccountService
from ._ratelimit import RateLimiter
from ._service import OrderService
from ._webhooks import Webhooks

__all__ = ["SESSION_COOKIE", "CSRF_COOKIE", "Services", "check_csrf", "csrf_guard",
           "current_account",
           "issue_csrf", "services", "set_session"]

SESSION_COOKIE = "hs_session"
CSRF_COOKIE = "hs_csrf"
_SAFE = ("GET", "HEAD", "OPTIONS")


@dataclass
class Services:
    """Everything a request may need, made once by ``create_app``."""

    settings: Settings
    store: Store
    workflow: Workflow
    runner: Runner
    accounts: AccountService
    orders: OrderService
    webhooks: Webhooks
    limiter: RateLimiter
    secret: bytes

    @property
    def secure_cookies(self) -> bool:
        return (self.settings.service.public_url or "").startswith("https://")


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if auth is None:
        return None
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header is not 'Bearer <token>'",
                        "send Authorization: Bearer <your API token>")
    return token.strip()


def current_account(request: Request) -> AccountRow:
    svc = services(request)
    token = _bearer(request)
    if token is not None:
        account = svc.accounts.by_token(token)
        if account is None:
            raise AuthError("that API token is not valid (revoked or mistyped)",
                            "make a new one: headshots user add EMAIL, or POST /api/v1/me/tokens")
        return account
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        account = svc.accounts.by_session(cookie)
        if account is not None:
            return account
        raise AuthError("your session has ended", "sign in again")
    raise AuthError("no credentials were sent",
                    "send Authorization: Bearer <token> (make one with headshots user add "
                    "EMAIL), or sign in")


# -- CSRF -------------------------------------------------------------------------------------

def _mac(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def issue_csrf(response: Response, svc: Services) -> str:
    nonce = secrets.token_urlsafe(18)
    token = f"{nonce}.{_mac(svc.secret, nonce)}"
    response.set_cookie(CSRF_COOKIE, token, httponly=False, samesite="lax",
                        secure=svc.secure_cookies, path="/")
    return token


def _valid(svc: Services, token: str) -> bool:
    nonce, _, mac = token.partition(".")
    return bool(nonce) and hmac.compare_digest(mac, _mac(svc.secret, nonce))


async def csrf_guard(request: Request) -> None:
    """A change made with the session cookie (no token) must carry the CSRF value back.
    Without any credential the request goes on to be refused as unauthenticated (401)."""
    if request.cookies.get(SESSION_COOKIE):
        await check_csrf(request)


async def check_csrf(request: Request) -> None:
    """The check itself; sign-in and sign-up use it directly (no login CSRF)."""
    if request.method in _SAFE or request.headers.get("authorization"):
        return
    svc = services(request)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value: Any = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not cookie or not sent or not _valid(svc, cookie) or not hmac.compare_digest(cookie,
                                                                                     sent):
        raise CsrfError("this change came without its CSRF token",
                        "reload the page and try again (API clients: send a Bearer token)")


def set_session(response: Response, svc: Services, token: str, expires: datetime) -> None:
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=svc.secure_cookies, path="/", expires=expires)

"""Accounts: sign-up / sign-in (session cookie + CSRF), the account itself, API tokens and
webhooks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from headshots.store._models import AccountRow

from ._deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    csrf_guard,
    current_account,
    issue_csrf,
    services,
    set_session,
)
from ._schemas import (
    AccountCreate,
    AccountDeleted,
    AccountRead,
    AccountUpdate,
    ErrorRead,
    SessionRead,
    SignIn,
    TokenCreate,
    TokenCreated,
    TokenRead,
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryRead,
    WebhookRead,
)

__all__ = ["router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorRead} for code in (401, 403, 404, 409, 413, 422, 429)}
router = APIRouter(prefix="/api/v1", responses=_ERRORS, dependencies=[Depends(csrf_guard)])
Account = Annotated[AccountRow, Depends(current_account)]


def _read(row: AccountRow) -> dict[str, Any]:
    return {"id": row.id, "email": row.email, "created_at": row.created_at,
            "has_password": row.password_hash is not None}


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/auth/csrf", tags=["auth"], summary="A CSRF token (also set as a cookie)")
def csrf(request: Request, response: Response) -> dict[str, str]:
    return {"csrf_token": issue_csrf(response, services(request))}


def _signed_in(request: Request, response: Response, row: AccountRow) -> dict[str, Any]:
    svc = services(request)
    token, expires = svc.accounts.new_session(row.id)
    set_session(response, svc, token, expires)
    return {"account": _read(row), "csrf_token": issue_csrf(response, svc)}


@router.post("/auth/signup", tags=["auth"], response_model=SessionRead, status_code=201,
             dependencies=[Depends(check_csrf)], summary="Make an account and sign in")
def signup(request: Request, response: Response, data: AccountCreate) -> Any:
    svc = services(request)
    svc.limiter.hit(f"signup:{_client(request)}", svc.settings.service.signin_per_minute,
                    "sign-ups")
    row = svc.accounts.create(email=data.email, password=data.password)
    return _signed_in(request, response, row)


@router.post("/auth/signin", tags=["auth"], response_model=SessionRead,
             dependencies=[Depends(check_csrf)], summary="Sign in (session cookie)")
def signin(request: Request, response: Response, data: SignIn) -> Any:
    svc = services(request)
    limit = svc.settings.service.signin_per_minute
    svc.limiter.hit(f"signin:{_client(request)}", limit * 5, "sign-in tries from here")
    svc.limiter.hit(f"signin:{data.email.strip().lower()}", limit, "sign-in tries")
    row = svc.accounts.authenticate(email=data.email, password=data.password)
    return _signed_in(request, response, row)


@router.post("/auth/signout", tags=["auth"], status_code=204, summary="Sign out")
def signout(request: Request) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        services(request).accounts.end_session(cookie)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", tags=["account"], response_model=AccountRead, summary="Your account")
def me(account: Account) -> Any:
    return _read(account)


@router.patch("/me", tags=["account"], response_model=AccountRead,
              summary="Change your password")
def update_me(request: Request, account: Account, data: AccountUpdate) -> Any:
    svc = services(request)
    svc.accounts.change_password(account_id=account.id, current=data.current_password,
                                 new=data.password)
    return _read(svc.accounts.get(account.id))


@router.delete("/me", tags=["account"], response_model=AccountDeleted,
               summary="Delete your account and every order of it (answers the receipts)")
def delete_me(request: Request, response: Response, account: Account) -> Any:
    result = services(request).accounts.delete(account.id)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return result


@router.get("/me/tokens", tags=["account"], response_model=list[TokenRead],
            summary="Your API tokens")
def list_tokens(request: Request, account: Account) -> Any:
    return services(request).accounts.tokens(account.id)


@router.post("/me/tokens", tags=["account"], response_model=TokenCreated, status_code=201,
             summary="A new API token (shown once)")
def create_token(request: Request, account: Account, data: TokenCreate) -> Any:
    row, token = services(request).accounts.issue_token(account_id=account.id, name=data.name)
    return {"id": row.id, "name": row.name, "created_at": row.created_at,
            "last_used_at": None, "token": token}


@router.delete("/me/tokens/{token_id}", tags=["account"], status_code=204,
               summary="Revoke an API token")
def delete_token(request: Request, account: Account, token_id: str) -> Response:
    services(request).accounts.revoke_token(account_id=account.id, token_id=token_id)
    return Response(status_code=204)


@router.get("/webhooks", tags=["webhooks"], response_model=list[WebhookRead],
            summary="Your webhook endpoints")
def list_webhooks(request: Request, account: Account) -> Any:
    return services(request).webhooks.endpoints(account.id)


@router.post("/webhooks", tags=["webhooks"], response_model=WebhookCreated, status_code=201,
             summary="Add an endpoint (its signing secret is shown once)")
def create_webhook(request: Request, account: Account, data: WebhookCreate) -> Any:
    row, secret = services(request).webhooks.create(account_id=account.id, url=data.url)
    return {"id": row.id, "url": row.url, "created_at": row.created_at, "secret": secret}


@router.get("/webhooks/{webhook_id}", tags=["webhooks"], response_model=WebhookRead,
            summary="One endpoint")
def read_webhook(request: Request, account: Account, webhook_id: str) -> Any:
    return services(request).webhooks.get(account_id=account.id, webhook_id=webhook_id)


@router.delete("/webhooks/{webhook_id}", tags=["webhooks"], status_code=204,
               summary="Remove an endpoint")
def delete_webhook(request: Request, account: Account, webhook_id: str) -> Response:
    services(request).webhooks.delete(account_id=account.id, webhook_id=webhook_id)
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries", tags=["webhooks"],
            response_model=list[WebhookDeliveryRead],
            summary="What was sent to an endpoint, with every attempt's answer")
def list_deliveries(request: Request, account: Account, webhook_id: str) -> Any:
    return services(request).webhooks.deliveries(account_id=account.id, webhook_id=webhook_id)

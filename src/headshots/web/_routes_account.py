"""The person's account on the page: what it holds, and deleting it (every order through the
order deletion, with its receipt, then the credentials and the account), then signed out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response

from headshots.api._deps import CSRF_COOKIE, SESSION_COOKIE, check_csrf, services
from headshots.errors import InputError

from ._pages import PageRoute, render, signed_in

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False,
                   dependencies=[Depends(check_csrf)])


@router.get("/account")
def account_page(request: Request) -> Response:
    account = signed_in(request)
    orders = services(request).orders.list_orders(account_id=account.id)
    return render(request, "account.html", account=account, orders=orders, error=None)


@router.post("/account/delete")
def delete_account(request: Request,
                   confirm: Annotated[str | None, Form(max_length=8)] = None) -> Response:
    """Deleted at once (the API's ``DELETE /api/v1/me``: ``AccountService.delete``); the page
    that answers is the last this account sees: what was deleted, order by order."""
    account = signed_in(request)
    if confirm != "yes":
        raise InputError("deleting the account was not confirmed",
                         "tick 'Yes, delete my account and every order now' and press "
                         "Delete my account")
    email = account.email
    gone = services(request).accounts.delete(account.id)
    response = render(request, "account_deleted.html", account=None, email=email,
                      receipts=gone["receipts"], orders=gone["orders"])
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response

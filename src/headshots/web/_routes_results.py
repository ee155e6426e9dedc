"""After delivery: the gallery (selected first, by style, why each reject was rejected) with
the download and its usage note; and the order's privacy page (what is kept until when,
keep-my-model, delete now, the deletion receipt)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response

from headshots.api._deps import check_csrf, services
from headshots.api._schemas import MoreCreate, OrderUpdate
from headshots.errors import InputError
from headshots.orders import CONSENT_VERSION, retention_text, style_catalog

from ._pages import PageRoute, render, see_other, signed_in
from ._present import more_offer, page_numbers

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False,
                   dependencies=[Depends(check_csrf)])
VIEWS = ("selected", "all", "rejected")
PER_PAGE = 60  # a thousand candidates are 17 pages, not one page of a thousand images
USAGE = ("These images are AI-generated. You may use them, commercially too; under current "
         "U.S. Copyright Office guidance, images made by AI are not copyrightable as such.")


def style_titles() -> dict[str, str]:
    return {s["id"]: s["title"] for s in style_catalog()}


@router.get("/orders/{order_id}/gallery")
def gallery(request: Request, order_id: str, view: str = "selected",
            style: str = "", page: int = 1) -> Response:
    account = signed_in(request)
    orders = services(request).orders
    order = orders.read(account_id=account.id, order_id=order_id, events=0)
    results = orders.results(account_id=account.id, order_id=order_id)
    view = view if view in VIEWS else "selected"
    everything = results["candidates"]
    styles = sorted({c["style"] for c in everything if c["style"]})
    shown = [c for c in everything if not style or c["style"] == style]
    if view == "selected":
        shown = [c for c in shown if c["selected"]]
    elif view == "rejected":
        shown = [c for c in shown if not c["accepted"]]
    counts = {"selected": sum(c["selected"] for c in everything),
              "all": len(everything), "rejected": sum(not c["accepted"] for c in everything)}
    pages = max(1, -(-len(shown) // PER_PAGE))
    page = min(max(1, page), pages)  # past the end: the last page
    return render(request, "gallery.html", order=order, results=results,
                  shown=shown[(page - 1) * PER_PAGE:page * PER_PAGE], total=len(shown),
                  first=(page - 1) * PER_PAGE + 1, page=page, pages=pages,
                  page_numbers=page_numbers(page, pages),
                  view=view, style=style if style in styles else "", styles=styles,
                  counts=counts, usage=USAGE, titles=style_titles(),
                  more=more_offer(order, list(style_titles())),
                  consent_version=CONSENT_VERSION)


@router.post("/orders/{order_id}/more")
def more(request: Request, order_id: str,
         style: Annotated[str, Form(min_length=1, max_length=48)],
         consent_version: Annotated[str, Form(max_length=32)]) -> Response:
    """A follow-up order of one style on the kept model, under the consent version the page
    named next to the button (the workflow refuses one that is no longer current), then its
    progress page."""
    account = signed_in(request)
    orders = services(request).orders
    order = orders.read(account_id=account.id, order_id=order_id, events=0)
    count = more_offer(order, list(style_titles()))["count"]
    child = orders.more(account_id=account.id, order_id=order_id, data=MoreCreate(
        style=style, count=count, consent_version=consent_version))
    return see_other(f"/orders/{child['id']}")


@router.get("/orders/{order_id}/privacy")
def privacy(request: Request, order_id: str) -> Response:
    account = signed_in(request)
    orders = services(request).orders
    order = orders.read(account_id=account.id, order_id=order_id, events=0)
    receipts = orders.receipts(account_id=account.id, order_id=order_id)
    schedule = retention_text(services(request).settings.retention).splitlines()[1:]
    return render(request, "privacy.html", order=order, receipts=receipts,
                  schedule=[line.lstrip("- ") for line in schedule])


@router.post("/orders/{order_id}/keep")
def keep_model(request: Request, order_id: str,
               keep: Annotated[str | None, Form(max_length=8)] = None) -> Response:
    account = signed_in(request)
    services(request).orders.update(account_id=account.id, order_id=order_id,
                                    data=OrderUpdate(keep_model=keep == "yes"))
    return see_other(f"/orders/{order_id}/privacy")


@router.post("/orders/{order_id}/delete")
def delete_now(request: Request, order_id: str,
               confirm: Annotated[str | None, Form(max_length=8)] = None) -> Response:
    account = signed_in(request)
    if confirm != "yes":
        raise InputError("deleting was not confirmed",
                         "tick 'Yes, delete everything of this order now' and press Delete")
    services(request).orders.delete(account_id=account.id, order_id=order_id)
    return see_other(f"/orders/{order_id}/privacy")

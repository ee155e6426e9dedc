"""An order on the page, step by step: consent → photos (each verdict and the set's advice) →
styles → training → preview (go / no-go) → generation, with live progress throughout.

Thin routes: each calls one ``OrderService`` method (ownership is checked there: another
account's order is "does not exist", 404) and renders what it answers."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile

from headshots.api._deps import check_csrf, services
from headshots.api._schemas import ApproveIn, OrderCreate
from headshots.errors import ConsentError, HeadshotsError
from headshots.orders import CONSENT_VERSION, STAGES, consent_text, style_catalog

from ._pages import PageRoute, refused_page, render, see_other, signed_in
from ._present import stage_rows, style_cards

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False,
                   dependencies=[Depends(check_csrf)])
CLASS_WORDS = ("person", "woman", "man")
_PHOTO_ID = re.compile(r"\bph_[0-9a-f]+: ")  # an internal id means nothing to the person


def _paragraphs(text: str) -> list[list[str]]:
    """The consent text as paragraphs of lines (its schedule is a list of '- ' lines)."""
    return [block.splitlines() for block in text.split("\n\n")]


@router.get("/orders/new")
def new_order_form(request: Request) -> Response:
    signed_in(request)
    schedule = services(request).settings.retention
    return render(request, "consent.html", consent=_paragraphs(consent_text(schedule)),
                  version=CONSENT_VERSION, class_words=CLASS_WORDS, error=None)


@router.post("/orders/new")
def new_order(request: Request, consent_version: Annotated[str, Form(max_length=32)],
              agree: Annotated[str | None, Form(max_length=8)] = None,
              keep_model: Annotated[str | None, Form(max_length=8)] = None,
              class_word: Annotated[str, Form(max_length=40)] = "person") -> Response:
    account = signed_in(request)
    svc = services(request)
    try:
        if agree != "yes":
            raise ConsentError("you have not agreed to the processing of your photos",
                               "read the text, tick 'I agree' and send the form again")
        order = svc.orders.create(account_id=account.id, data=OrderCreate(
            consent_version=consent_version, keep_model=keep_model == "yes",
            class_word=class_word if class_word in CLASS_WORDS else "person"))
    except HeadshotsError as exc:
        return render(request, "consent.html", status=exc.http_status, error=exc,
                      consent=_paragraphs(consent_text(svc.settings.retention)),
                      version=CONSENT_VERSION, class_words=CLASS_WORDS)
    return see_other(f"/orders/{order['id']}/photos")


def _photos_page(request: Request, order_id: str, refused: list[dict[str, str]] | None = None,
                 status: int = 200, error: dict[str, str] | None = None) -> Response:
    account = signed_in(request)
    orders = services(request).orders
    order = orders.read(account_id=account.id, order_id=order_id, events=0)
    photos = orders.photos(account_id=account.id, order_id=order_id) \
        if order["status"] == "collecting" else {"photos": [], "set": None}
    return render(request, "photos.html", status=status, order=order, photos=photos["photos"],
                  set=photos["set"], refused=refused or [], error=error,
                  max_photos=services(request).settings.service.max_photos,
                  max_mb=round(services(request).settings.service.max_upload_bytes / 1e6))


def _upload_unread(request: Request, status: int, problem: str, fix: str) -> Response:
    """The photos page (HTML, never the API's JSON) for an upload the server refused to read:
    without the script, every chosen photo travels in one request, capped at one photo's
    limit; nothing was kept from it, and every photo kept before stays."""
    order_id = request.path_params["order_id"]
    if status == 413:
        mb = services(request).settings.service.max_upload_bytes / 1e6
        problem = (f"the photos you chose are too large to send together: one upload takes "
                   f"about {mb:.{0 if mb >= 10 else 1}f} MB in all, and none of these photos "
                   "was added")
        fix = ("choose fewer photos at a time (two or three), or turn on JavaScript for this "
               "site: the page then sends each photo on its own")
    return _photos_page(request, order_id, status=status, error={"problem": problem,
                                                                  "fix": fix})


@router.get("/orders/{order_id}/photos")
def photos(request: Request, order_id: str) -> Response:
    return _photos_page(request, order_id)


@router.post("/orders/{order_id}/photos")
@refused_page(_upload_unread)
def upload(request: Request, order_id: str,
           files: Annotated[list[UploadFile], File()]) -> Response:
    """The form without scripts: every file checked in turn; refused ones named with their
    reason on the page, the rest kept (the script sends them one by one to the API)."""
    account = signed_in(request)
    svc = services(request)
    refused = []
    for f in files:
        if not f.filename and not f.size:
            continue  # the form sent with no file chosen
        try:
            svc.limiter.hit(f"upload:{account.id}", svc.settings.service.uploads_per_minute,
                            "uploads")
            data = f.file.read(svc.settings.service.max_upload_bytes + 1)
            svc.orders.upload(account_id=account.id, order_id=order_id,
                              name=f.filename or "photo", data=data)
        except HeadshotsError as exc:
            if exc.http_status == 404:
                raise
            refused.append({"name": f.filename or "photo",
                            "problem": _PHOTO_ID.sub("", exc.problem),
                            "fix": exc.fix, "reason": str(getattr(exc, "reason", "") or "")})
    return _photos_page(request, order_id, refused, status=422 if refused else 200)


@router.post("/orders/{order_id}/photos/{photo_id}/delete")
def delete_photo(request: Request, order_id: str, photo_id: str) -> Response:
    account = signed_in(request)
    services(request).orders.remove_photo(account_id=account.id, order_id=order_id,
                                          photo_id=photo_id)
    return see_other(f"/orders/{order_id}/photos")


@router.get("/orders/{order_id}/styles")
def styles_form(request: Request, order_id: str) -> Response:
    account = signed_in(request)
    order = services(request).orders.read(account_id=account.id, order_id=order_id, events=0)
    chosen = set(order["settings"].get("styles") or ())
    return render(request, "styles.html", order=order, cards=style_cards(style_catalog()),
                  chosen=chosen)


@router.post("/orders/{order_id}/styles")
def choose_styles(request: Request, order_id: str,
                  styles: Annotated[list[str], Form()]) -> Response:
    """Keep the chosen styles, then check the set and queue training."""
    account = signed_in(request)
    orders = services(request).orders
    orders.choose_styles(account_id=account.id, order_id=order_id, styles=styles[:14])
    orders.start(account_id=account.id, order_id=order_id)
    return see_other(f"/orders/{order_id}")


def _order_view(request: Request, order_id: str) -> dict[str, Any]:
    account = signed_in(request)
    order = services(request).orders.read(account_id=account.id, order_id=order_id)
    return {"order": order, "stages": stage_rows(order, STAGES)}


@router.get("/orders/{order_id}")
def progress(request: Request, order_id: str) -> Response:
    return render(request, "progress.html", **_order_view(request, order_id))


@router.get("/orders/{order_id}/progress")
def progress_part(request: Request, order_id: str) -> Response:
    """The changing part of the progress page, for the page's script to swap in."""
    return render(request, "_progress.html", **_order_view(request, order_id))


@router.get("/orders/{order_id}/preview")
def preview(request: Request, order_id: str) -> Response:
    account = signed_in(request)
    orders = services(request).orders
    order = orders.read(account_id=account.id, order_id=order_id, events=0)
    shown = orders.preview(account_id=account.id, order_id=order_id)
    titles = {s["id"]: s["title"] for s in style_catalog()}
    return render(request, "preview.html", order=order, preview=shown, titles=titles)


@router.post("/orders/{order_id}/approve")
def approve(request: Request, order_id: str,
            force: Annotated[str | None, Form(max_length=8)] = None) -> Response:
    account = signed_in(request)
    services(request).orders.approve(account_id=account.id, order_id=order_id,
                                     data=ApproveIn(force=force == "yes"))
    return see_other(f"/orders/{order_id}")


@router.post("/orders/{order_id}/cancel")
def cancel(request: Request, order_id: str) -> Response:
    account = signed_in(request)
    services(request).orders.cancel(account_id=account.id, order_id=order_id)
    return see_other(f"/orders/{order_id}")

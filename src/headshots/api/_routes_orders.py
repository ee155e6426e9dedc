"""/api/v1/orders: thin routes over ``OrderService`` (parse, call, shape)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Header, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse

from headshots.store._models import AccountRow

from ._deps import csrf_guard, current_account, services
from ._schemas import (
    ApproveIn,
    ErrorRead,
    EventRead,
    MoreCreate,
    OrderCreate,
    OrderRead,
    OrderUpdate,
    PhotoList,
    PreviewRead,
    ResultsRead,
    UploadResult,
)

__all__ = ["router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorRead} for code in (401, 403, 404, 409, 413, 415, 422, 429)}
router = APIRouter(prefix="/api/v1/orders", tags=["orders"], responses=_ERRORS,
                   dependencies=[Depends(csrf_guard)])
Account = Annotated[AccountRow, Depends(current_account)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                              description="a retry with the same key starts "
                                              "nothing twice and gets the first answer")]


@router.get("", response_model=list[OrderRead], summary="Your orders")
def list_orders(request: Request, account: Account) -> Any:
    return services(request).orders.list_orders(account_id=account.id)


@router.post("", response_model=OrderRead, status_code=201, summary="Create an order "
             "(consent first)")
def create_order(request: Request, account: Account, data: OrderCreate) -> Any:
    return services(request).orders.create(account_id=account.id, data=data)


@router.get("/{order_id}", response_model=OrderRead, summary="Status: stage, progress, ETA, "
            "queue position, heartbeat, errors, recent events")
def read_order(request: Request, account: Account, order_id: str) -> Any:
    return services(request).orders.read(account_id=account.id, order_id=order_id)


@router.patch("/{order_id}", response_model=OrderRead, summary="Change the retention choice")
def update_order(request: Request, account: Account, order_id: str, data: OrderUpdate) -> Any:
    return services(request).orders.update(account_id=account.id, order_id=order_id, data=data)


@router.delete("/{order_id}", response_model=dict[str, Any],
               summary="Delete everything of the order now; answers the deletion receipt")
def delete_order(request: Request, account: Account, order_id: str) -> Any:
    return services(request).orders.delete(account_id=account.id, order_id=order_id)


@router.get("/{order_id}/receipts", response_model=list[dict[str, Any]],
            summary="Deletion receipts (kinds, counts, hashes; no personal data)")
def order_receipts(request: Request, account: Account, order_id: str) -> Any:
    return services(request).orders.receipts(account_id=account.id, order_id=order_id)


@router.get("/{order_id}/photos", response_model=PhotoList, summary="Photos and the set's "
            "status")
def list_photos(request: Request, account: Account, order_id: str) -> Any:
    return services(request).orders.photos(account_id=account.id, order_id=order_id)


@router.post("/{order_id}/photos", response_model=UploadResult, status_code=201,
             summary="Upload one photo: its verdict, the set's status and advice")
def upload_photo(request: Request, account: Account, order_id: str,
                 file: Annotated[UploadFile, File(description="a JPEG, PNG, WebP or HEIC "
                                                             "selfie")]) -> Any:
    svc = services(request)
    svc.limiter.hit(f"upload:{account.id}", svc.settings.service.uploads_per_minute, "uploads")
    data = file.file.read(svc.settings.service.max_upload_bytes + 1)
    return svc.orders.upload(account_id=account.id, order_id=order_id,
                             name=file.filename or "photo", data=data)


@router.delete("/{order_id}/photos/{photo_id}", status_code=204, summary="Delete one photo "
               "now (while collecting)")
def delete_photo(request: Request, account: Account, order_id: str, photo_id: str) -> Response:
    services(request).orders.remove_photo(account_id=account.id, order_id=order_id,
                                          photo_id=photo_id)
    return Response(status_code=204)


@router.post("/{order_id}/start", response_model=OrderRead, status_code=202,
             summary="Check the set and queue training")
def start_order(request: Request, account: Account, order_id: str,
                idempotency_key: IdempotencyKey = None) -> Any:
    orders = services(request).orders
    code, body = orders.idempotent(
        account_id=account.id, key=idempotency_key, action=f"start {order_id}",
        run=lambda: orders.start(account_id=account.id, order_id=order_id))
    return JSONResponse(body, status_code=code)


@router.get("/{order_id}/preview", response_model=PreviewRead, summary="The preview's images "
            "and its go / no-go verdict")
def read_preview(request: Request, account: Account, order_id: str) -> Any:
    return services(request).orders.preview(account_id=account.id, order_id=order_id)


@router.post("/{order_id}/approve", response_model=OrderRead, status_code=202,
             summary="Approve the preview and queue generation")
def approve_order(request: Request, account: Account, order_id: str,
                  data: ApproveIn | None = None, idempotency_key: IdempotencyKey = None) -> Any:
    orders = services(request).orders
    code, body = orders.idempotent(
        account_id=account.id, key=idempotency_key, action=f"approve {order_id}",
        run=lambda: orders.approve(account_id=account.id, order_id=order_id,
                                   data=data or ApproveIn()))
    return JSONResponse(body, status_code=code)


@router.post("/{order_id}/cancel", response_model=OrderRead, summary="Cancel the order")
def cancel_order(request: Request, account: Account, order_id: str) -> Any:
    return services(request).orders.cancel(account_id=account.id, order_id=order_id)


@router.get("/{order_id}/events", response_model=list[EventRead], summary="Progress events "
            "after an id (polling)")
def list_events(request: Request, account: Account, order_id: str,
                after: Annotated[int, Query(ge=0, le=2**62)] = 0) -> Any:
    return services(request).orders.events(account_id=account.id, order_id=order_id,
                                           after=after)


@router.get("/{order_id}/events/stream", summary="Live progress as server-sent events",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
def stream_events(request: Request, account: Account, order_id: str,
                  after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                  timeout: Annotated[float, Query(gt=0, le=3600)] = 300.0,
                  last_event_id: Annotated[str | None, Header(alias="Last-Event-ID",
                                                              max_length=20)] = None,
                  ) -> StreamingResponse:
    if last_event_id and last_event_id.isdigit():
        after = max(after, int(last_event_id))
    frames = services(request).orders.stream(account_id=account.id, order_id=order_id,
                                             after=after, timeout=timeout)
    return StreamingResponse(frames, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/{order_id}/results", response_model=ResultsRead, summary="Every candidate with "
            "its reasons and scores, selected first")
def read_results(request: Request, account: Account, order_id: str) -> Any:
    return services(request).orders.results(account_id=account.id, order_id=order_id)


@router.get("/{order_id}/images/{image_id}", summary="One labelled image (or delivery file)",
            response_class=Response,
            responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}})
def read_image(request: Request, account: Account, order_id: str, image_id: str) -> Response:
    data, media, name = services(request).orders.image(account_id=account.id,
                                                       order_id=order_id, image_id=image_id)
    return Response(data, media_type=media, headers={
        "Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "private"})


@router.get("/{order_id}/download", summary="The delivered selection as a zip (labelled "
            "images, contact sheet, report, usage note)", response_class=StreamingResponse,
            responses={200: {"content": {"application/zip": {}}}})
def download(request: Request, account: Account, order_id: str) -> StreamingResponse:
    chunks = services(request).orders.download(account_id=account.id, order_id=order_id)
    return StreamingResponse(chunks, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="headshots-{order_id}.zip"'})


@router.post("/{order_id}/more", response_model=OrderRead, status_code=202,
             summary="More of a style from the kept model (a follow-up order)")
def more(request: Request, account: Account, order_id: str, data: MoreCreate) -> Any:
    return services(request).orders.more(account_id=account.id, order_id=order_id, data=data)

"""The service layer: what each route does, as keyword-only calls on the order workflow.

Routes stay thin (parse, call one method, shape the answer); everything here goes through
``headshots.orders`` and the runner, and checks ownership first: another account's id (or a
made-up one) is "does not exist", never "forbidden", so ids cannot be probed.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from headshots.config import Settings
from headshots.errors import (
    ConfigError,
    ConflictError,
    HeadshotsError,
    ImageError,
    InputError,
    NotFoundError,
)
from headshots.orders import (
    CONSENT_VERSION,
    ConsentChoice,
    OrderParams,
    Workflow,
    delete_order,
    delivery_zip,
    more_of_style,
    order_results,
    order_summary,
    preview_images,
    read_events,
    receipts,
    result_image,
)
from headshots.runners import Runner
from headshots.store._models import IdempotencyRow, OrderRow
from headshots.types import Reason

from ._schemas import ApproveIn, MoreCreate, OrderCreate, OrderUpdate
from ._webhooks import Webhooks

__all__ = ["FINAL", "OrderService"]

FINAL = ("delivered", "failed", "cancelled", "expired", "deleted")
_ACTIVE = ("queued", "preparing", "training", "previewing", "generating", "judging",
           "delivering", "checking")
_REFUSED = (Reason.UNSUPPORTED_FORMAT, Reason.TOO_LARGE, Reason.UNREADABLE)
_SETTINGS = ("class_word", "styles", "prompt", "candidates", "top", "preview_count", "seed")


def reasons(codes: list[str]) -> list[dict[str, str]]:
    out = []
    for code in codes:
        try:
            r = Reason(code)
        except ValueError:
            out.append({"code": code, "explanation": code, "fix": ""})
        else:
            out.append({"code": code, "explanation": r.explanation, "fix": r.fix})
    return out


class OrderService:
    def __init__(self, settings: Settings, workflow: Workflow, runner: Runner,
                 webhooks: Webhooks) -> None:
        self.settings, self.workflow, self.runner, self.webhooks = (settings, workflow, runner,
                                                                    webhooks)
        self.store = workflow.store
        self._uploading: dict[str, int] = {}
        self._lock = threading.Lock()

    # -- ownership -------------------------------------------------------------------------
    def owned(self, *, account_id: str, order_id: str) -> OrderRow:
        try:
            return self.workflow.get(order_id, owner=account_id)
        except NotFoundError:
            raise NotFoundError(f"order {order_id} does not exist",
                                "list your orders with GET /api/v1/orders") from None

    # -- orders ----------------------------------------------------------------------------
    def params(self, data: OrderCreate) -> OrderParams:
        models = self.settings.service.base_models
        if not models:
            raise ConfigError("this service has no base model to train on",
                              "the operator sets HEADSHOTS_SERVICE__BASE_MODELS")
        name = data.base_model or next(iter(models))
        if name not in models:
            raise InputError(f"base model {name!r} is not offered here",
                             f"choose one of {', '.join(models)}")
        chosen = {k: v for k in _SETTINGS if (v := getattr(data, k)) is not None}
        if "prompt" in chosen and "styles" not in chosen:
            chosen["styles"] = ("custom",)
        values = {**self.settings.service.order_defaults, **chosen, "base_model": models[name]}
        try:
            return OrderParams(**values).validate_all()
        except ValueError as exc:  # pydantic's ValidationError
            raise InputError(f"the order settings are invalid: {exc}".splitlines()[0],
                             "fix the settings named above") from None

    def create(self, *, account_id: str, data: OrderCreate) -> dict[str, Any]:
        if data.consent_version != CONSENT_VERSION:
            from headshots.errors import ConsentError

            raise ConsentError(f"consent version {data.consent_version!r} is not the current "
                               f"one ({CONSENT_VERSION})",
                               "show the person GET /api/v1/consent and send its version")
        consent = ConsentChoice(version=data.consent_version, keep_model=data.keep_model,
                                subject=account_id, channel="api")
        order_id = self.workflow.create_order(self.params(data), consent, owner=account_id)
        return self.read(account_id=account_id, order_id=order_id)

    def list_orders(self, *, account_id: str) -> list[dict[str, Any]]:
        return [self.view(o, events=0) for o in self.workflow.list_orders(account_id)]

    def read(self, *, account_id: str, order_id: str, events: int = 20) -> dict[str, Any]:
        return self.view(self.owned(account_id=account_id, order_id=order_id), events=events)

    def view(self, order: OrderRow, events: int = 20) -> dict[str, Any]:
        summary = order_summary(self.workflow, order)
        recent = read_events(self.store, order.id, after=0, limit=10_000)[-events:] \
            if events else []
        eta = next((e.eta_s for e in reversed(recent) if e.kind == "progress"
                    and e.stage == summary["stage"] and e.eta_s is not None), None)
        position = None
        if order.status == "queued" and order.queued_at is not None:
            with self.store.db.session() as s:
                position = int(s.scalar(select(func.count()).select_from(OrderRow).where(
                    OrderRow.status.in_(_ACTIVE), OrderRow.queued_at < order.queued_at,
                    OrderRow.id != order.id)) or 0)
        progress = summary["progress"]
        params = order.params or {}
        return {**summary, "queue_position": position,
                "eta_seconds": eta if progress else None,
                "last_heartbeat_at": progress["heartbeat_at"] if progress else None,
                "settings": {k: params.get(k) for k in _SETTINGS if k in params},
                "photos": len(self.workflow.photos(order.id)) if order.status != "deleted"
                else 0,
                "events": [e.to_dict() for e in recent]}

    def update(self, *, account_id: str, order_id: str, data: OrderUpdate) -> dict[str, Any]:
        order = self.owned(account_id=account_id, order_id=order_id)
        if order.status == "deleted" or order.model_purged_at is not None:
            raise ConflictError(f"the model of order {order_id} is already deleted",
                                "nothing to keep; start a new order")
        with self.store.db.session() as s:
            s.execute(update(OrderRow).where(OrderRow.id == order_id)
                      .values(keep_model=data.keep_model))
        return self.read(account_id=account_id, order_id=order_id)

    def choose_styles(self, *, account_id: str, order_id: str,
                      styles: list[str]) -> dict[str, Any]:
        """The person's styles, while the order still collects photos (the page's picker
        comes after the upload); checked against the catalog like any order setting."""
        order = self.owned(account_id=account_id, order_id=order_id)
        if order.status != "collecting":
            raise ConflictError(f"order {order_id} is {order.status.replace('_', ' ')}; styles "
                                "are chosen before training starts",
                                "start a new order to choose other styles")
        if not styles:
            raise InputError("no style was chosen", "tick at least one style")
        params = OrderParams(**{**order.params, "styles": tuple(styles), "prompt": None})
        params.validate_all()
        with self.store.db.session() as s:
            s.execute(update(OrderRow).where(OrderRow.id == order_id).values(
                params=params.model_dump(mode="json"), params_hash=params.digest()))
        return self.read(account_id=account_id, order_id=order_id)

    # -- photos ----------------------------------------------------------------------------
    def photo_view(self, row: Any) -> dict[str, Any]:
        r = row.reasons or {}
        return {"id": row.id, "name": row.display_name, "position": row.position,
                "accepted": row.accepted, "reasons": reasons(r.get("codes", [])),
                "detail": r.get("detail", "")}

    def set_status(self, order_id: str) -> dict[str, Any]:
        report = self.workflow.intake_report(order_id)
        return {"photos": len(report.photos), "accepted": report.set.accepted,
                "ready": report.set.ready, "min_accepted": report.set.min_accepted,
                "advice": list(report.set.advice)}

    def photos(self, *, account_id: str, order_id: str) -> dict[str, Any]:
        self.owned(account_id=account_id, order_id=order_id)
        rows = self.workflow.photos(order_id)
        return {"photos": [self.photo_view(r) for r in rows], "set": self.set_status(order_id)}

    @contextmanager
    def _slot(self, order_id: str) -> Iterator[None]:
        """Reserve room for one photo: concurrent uploads never take an order past the
        limit (the count of stored photos plus uploads in flight)."""
        limit = self.settings.service.max_photos
        with self._lock:
            have = len(self.workflow.photos(order_id)) + self._uploading.get(order_id, 0)
            if have >= limit:
                raise ConflictError(f"order {order_id} already has {limit} photos, the most one "
                                    "order takes", "remove some before adding others")
            self._uploading[order_id] = self._uploading.get(order_id, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._uploading[order_id] -= 1
                if not self._uploading[order_id]:
                    del self._uploading[order_id]

    def upload(self, *, account_id: str, order_id: str, name: str,
               data: bytes) -> dict[str, Any]:
        """Check and keep one photo. A file that cannot be used at all (format, size,
        garbage) is refused with its reason and leaves nothing behind; every photo already
        accepted stays."""
        order = self.owned(account_id=account_id, order_id=order_id)
        if order.status != "collecting":
            raise ConflictError(f"order {order_id} is {order.status.replace('_', ' ')}; photos "
                                "are added while it is collecting",
                                "start a new order to change photos")
        limit = self.settings.service.max_upload_bytes
        if len(data) > limit:
            raise ImageError(Reason.TOO_LARGE, f"the photo is {len(data) / 1e6:.1f} MB, over "
                             f"the {limit / 1e6:.0f} MB limit", Reason.TOO_LARGE.fix)
        with self._slot(order_id):
            photo = self.workflow.add_photo(order_id, name[:200] or "photo", data)
        refused = [Reason(r) for r in photo.reasons if Reason(r) in _REFUSED]
        if refused:
            self.workflow.remove_photo(order_id, photo.id)  # nothing of it is kept
            raise ImageError(refused[0], f"the photo cannot be used: {photo.detail}",
                             refused[0].fix)
        row = next(r for r in self.workflow.photos(order_id) if r.id == photo.id)
        return {"photo": self.photo_view(row), "set": self.set_status(order_id)}

    def remove_photo(self, *, account_id: str, order_id: str, photo_id: str) -> None:
        self.owned(account_id=account_id, order_id=order_id)
        self.workflow.remove_photo(order_id, photo_id)

    # -- the flow --------------------------------------------------------------------------
    def start(self, *, account_id: str, order_id: str) -> dict[str, Any]:
        self.owned(account_id=account_id, order_id=order_id)
        self.workflow.start(order_id)
        self.runner.submit(order_id)
        return self.read(account_id=account_id, order_id=order_id)

    def approve(self, *, account_id: str, order_id: str, data: ApproveIn) -> dict[str, Any]:
        self.owned(account_id=account_id, order_id=order_id)
        self.workflow.approve(order_id, force=data.force)
        self.runner.submit(order_id)
        return self.read(account_id=account_id, order_id=order_id)

    def cancel(self, *, account_id: str, order_id: str) -> dict[str, Any]:
        self.owned(account_id=account_id, order_id=order_id)
        self.workflow.cancel(order_id)
        self.webhooks.enqueue(owner=account_id, order_id=order_id, event="order.cancelled",
                              order={"id": order_id, "status": "cancelled"})
        return self.read(account_id=account_id, order_id=order_id)

    def delete(self, *, account_id: str, order_id: str) -> dict[str, Any]:
        self.owned(account_id=account_id, order_id=order_id)
        receipt = delete_order(self.store, order_id, owner=account_id)
        self.webhooks.enqueue(owner=account_id, order_id=order_id, event="order.deleted",
                              order={"id": order_id, "status": "deleted"})
        return receipt

    def receipts(self, *, account_id: str, order_id: str) -> list[dict[str, Any]]:
        self.owned(account_id=account_id, order_id=order_id)
        return receipts(self.store, order_id, owner=account_id)

    def preview(self, *, account_id: str, order_id: str) -> dict[str, Any]:
        order = self.owned(account_id=account_id, order_id=order_id)
        return {"status": order.status, "verdict": order.preview,
                "images": preview_images(self.workflow, order_id)}

    def results(self, *, account_id: str, order_id: str) -> dict[str, Any]:
        self.owned(account_id=account_id, order_id=order_id)
        return order_results(self.workflow, order_id)

    def image(self, *, account_id: str, order_id: str,
              image_id: str) -> tuple[bytes, str, str]:
        self.owned(account_id=account_id, order_id=order_id)
        return result_image(self.workflow, order_id, image_id)

    def download(self, *, account_id: str, order_id: str) -> Iterator[bytes]:
        self.owned(account_id=account_id, order_id=order_id)
        return delivery_zip(self.workflow, order_id)

    def more(self, *, account_id: str, order_id: str, data: MoreCreate) -> dict[str, Any]:
        self.owned(account_id=account_id, order_id=order_id)
        consent = ConsentChoice(version=data.consent_version, keep_model=False,
                                subject=account_id, channel="api")
        child = more_of_style(self.workflow, order_id, style=data.style, count=data.count,
                              consent=consent, owner=account_id)
        self.runner.submit(child)
        return self.read(account_id=account_id, order_id=child)

    # -- progress --------------------------------------------------------------------------
    def events(self, *, account_id: str, order_id: str, after: int) -> list[dict[str, Any]]:
        self.owned(account_id=account_id, order_id=order_id)
        return [e.to_dict() for e in read_events(self.store, order_id, after=after)]

    def stream(self, *, account_id: str, order_id: str, after: int,
               timeout: float) -> AsyncIterator[str]:
        """Server-sent events: every stored event after ``after``, then a ``status`` event at
        each change, until the order is final or ``timeout`` passes (clients reconnect with
        Last-Event-ID, as EventSource does by itself). An async generator: a waiting client
        holds no thread, only a database read in a worker thread every quarter second."""
        self.owned(account_id=account_id, order_id=order_id)

        def poll(last: int) -> tuple[OrderRow, list[Any]]:
            # status first, events second: the workflow writes a stage's event before the
            # status it explains, so a final status read here comes with its event
            order = self.workflow.get(order_id)
            return order, read_events(self.store, order_id, after=last)

        async def frames() -> AsyncIterator[str]:
            last, status = after, None
            deadline = time.monotonic() + timeout
            beat = time.monotonic()
            yield "retry: 2000\n\n"
            while True:
                order, events = await anyio.to_thread.run_sync(poll, last)
                for e in events:
                    last = e.id or last
                    yield f"id: {e.id}\nevent: {e.kind}\ndata: {json.dumps(e.to_dict())}\n\n"
                if order.status != status:
                    status = order.status
                    data = {"id": order.id, "status": order.status, "error": order.error}
                    yield f"event: status\ndata: {json.dumps(data)}\n\n"
                if status in FINAL or time.monotonic() >= deadline:
                    return
                if time.monotonic() - beat >= 15:
                    beat = time.monotonic()
                    yield ": keep-alive\n\n"
                await asyncio.sleep(0.25)

        return frames()

    # -- idempotency -----------------------------------------------------------------------
    def idempotent(self, *, account_id: str, key: str | None, action: str,
                   run: Callable[[], dict[str, Any]],
                   status: int = 202) -> tuple[int, dict[str, Any]]:
        """Run ``run`` once per (account, Idempotency-Key): a retry gets the first answer
        (an error included) and starts nothing again."""
        if not key:
            return status, run()
        if len(key) > 200:
            raise InputError("the Idempotency-Key is longer than 200 characters",
                             "use a UUID")
        try:
            with self.store.db.session() as s:
                s.add(IdempotencyRow(account_id=account_id, key=key, action=action,
                                     created_at=self.store.clock.now()))
        except IntegrityError:
            with self.store.db.session() as s:
                row = s.scalar(select(IdempotencyRow).where(
                    IdempotencyRow.account_id == account_id, IdempotencyRow.key == key))
            if row is None:  # pragma: no cover - deleted between the two statements
                raise ConflictError("that Idempotency-Key is being reused", "retry") from None
            if row.action != action:
                raise InputError("that Idempotency-Key was used for another request",
                                 "use a new key for each different request") from None
            if row.status_code is None:
                raise ConflictError("the first request with this Idempotency-Key is still "
                                    "running", "retry in a moment") from None
            return row.status_code, row.response or {}
        try:
            body = run()
            code = status
        except HeadshotsError as exc:
            if exc.http_status >= 500:
                self._forget(account_id, key)
                raise
            code, body = exc.http_status, exc.to_dict()
        except Exception:
            self._forget(account_id, key)
            raise
        with self.store.db.session() as s:
            s.execute(update(IdempotencyRow).where(
                IdempotencyRow.account_id == account_id, IdempotencyRow.key == key)
                .values(status_code=code, response=json.loads(json.dumps(body, default=str))))
        return code, body

    def _forget(self, account_id: str, key: str) -> None:
        from sqlalchemy import delete

        with self.store.db.session() as s:
            s.execute(delete(IdempotencyRow).where(IdempotencyRow.account_id == account_id,
                                                   IdempotencyRow.key == key))

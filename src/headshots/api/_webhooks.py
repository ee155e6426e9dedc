"""Webhooks for integrators: signed, retried with backoff, recorded in the database.

They are a convenience, never the only way to learn an order's state: polling the order and
its event stream always work, and every delivery (with its attempts and last answer) can be
read back from ``/api/v1/webhooks/{id}/deliveries``.

- Events come from the workflow's own event table (a stage done or failed, whatever process
  ran it) through a cursor, plus the service's own actions (cancel, delete).
- Signature: ``Headshots-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``;
  receivers recompute it and refuse timestamps older than a few minutes (replays).
- Each endpoint's secret is derived from the service secret and the endpoint id, so it is not
  stored; it is shown once, when the endpoint is made.
- A delivery is tried until a 2xx answer, ``webhook_attempts`` times at most, waiting
  ``webhook_backoff_seconds`` × 2^(attempt-1) (at most an hour) between tries.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import delete, select, update

from headshots.config import Settings
from headshots.errors import InputError, NotFoundError
from headshots.store import Store
from headshots.store._models import (
    CursorRow,
    EventRow,
    OrderRow,
    WebhookDeliveryRow,
    WebhookRow,
)

__all__ = ["Webhooks", "sign", "verify"]

log = logging.getLogger("headshots.api")
_CURSOR = "webhooks"
_MAX_WAIT = 3600.0


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, tolerance: int = 300,
           now: float | None = None) -> bool:
    """What a receiver does (and what the tests do): check the MAC and the timestamp."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


class Webhooks:
    def __init__(self, store: Store, settings: Settings, service_secret: bytes) -> None:
        self.store, self.settings = store, settings
        self._secret = service_secret

    # -- endpoints -------------------------------------------------------------------------
    def secret_for(self, webhook_id: str) -> str:
        mac = hmac.new(self._secret, f"webhook:{webhook_id}".encode(), hashlib.sha256)
        return "whsec_" + mac.hexdigest()

    def _check_url(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"webhook URL {url!r} is not an http(s) address",
                             "give the full address, e.g. https://example.com/hooks/headshots")
        if self.settings.environment == "production":
            try:
                private = not ipaddress.ip_address(parts.hostname).is_global
            except ValueError:
                private = parts.hostname in ("localhost",) or parts.hostname.endswith(".local")
            if parts.scheme != "https" or private:
                raise InputError("webhooks in production go to public https addresses only",
                                 "use an https:// address on the public internet")
        return url

    def create(self, *, account_id: str, url: str) -> tuple[WebhookRow, str]:
        row = WebhookRow(id="wh_" + secrets.token_hex(10), account_id=account_id,
                         url=self._check_url(url), created_at=self.store.clock.now())
        with self.store.db.session() as s:
            s.add(row)
        return row, self.secret_for(row.id)

    def endpoints(self, account_id: str) -> list[WebhookRow]:
        with self.store.db.session() as s:
            return list(s.scalars(select(WebhookRow).where(WebhookRow.account_id == account_id)
                                  .order_by(WebhookRow.created_at)))

    def get(self, *, account_id: str, webhook_id: str) -> WebhookRow:
        with self.store.db.session() as s:
            row = s.get(WebhookRow, webhook_id)
        if row is None or row.account_id != account_id:
            raise NotFoundError(f"webhook {webhook_id} does not exist", "list your webhooks")
        return row

    def delete(self, *, account_id: str, webhook_id: str) -> None:
        self.get(account_id=account_id, webhook_id=webhook_id)
        with self.store.db.session() as s:
            s.execute(delete(WebhookDeliveryRow).where(
                WebhookDeliveryRow.webhook_id == webhook_id))
            s.execute(delete(WebhookRow).where(WebhookRow.id == webhook_id))

    def deliveries(self, *, account_id: str, webhook_id: str,
                   limit: int = 100) -> list[WebhookDeliveryRow]:
        self.get(account_id=account_id, webhook_id=webhook_id)
        with self.store.db.session() as s:
            return list(s.scalars(select(WebhookDeliveryRow).where(
                WebhookDeliveryRow.webhook_id == webhook_id)
                .order_by(WebhookDeliveryRow.created_at.desc()).limit(limit)))

    # -- events ----------------------------------------------------------------------------
    def enqueue(self, *, owner: str, order_id: str, event: str,
                order: dict[str, Any] | None = None) -> int:
        """A delivery per endpoint of ``owner``. The payload names the order and its state,
        never personal data: integrators fetch details with their token."""
        now = self.store.clock.now()
        with self.store.db.session() as s:
            hooks = list(s.scalars(select(WebhookRow.id).where(WebhookRow.account_id == owner)))
            for hook in hooks:
                delivery = "whd_" + secrets.token_hex(10)
                s.add(WebhookDeliveryRow(
                    id=delivery, webhook_id=hook, order_id=order_id, event=event,
                    payload={"id": delivery, "event": event, "created_at": now.isoformat(),
                             "order": order or {"id": order_id}},
                    status="pending", attempts=0, next_attempt_at=now, created_at=now))
        return len(hooks)

    def collect(self, batch: int = 200) -> int:
        """Turn new stage events into deliveries. The cursor moves by compare-and-set, so two
        service processes never both enqueue the same events."""
        with self.store.db.session() as s:
            cursor = s.get(CursorRow, _CURSOR)
            if cursor is None:  # start at the present: no flood of history on first start
                latest = s.scalar(select(EventRow.id).order_by(EventRow.id.desc()).limit(1))
                s.add(CursorRow(name=_CURSOR, value=latest or 0))
                return 0
            start = cursor.value
            events = list(s.scalars(select(EventRow).where(EventRow.id > start)
                                    .order_by(EventRow.id).limit(batch)))
        if not events:
            return 0
        with self.store.db.session() as s:
            moved = s.execute(update(CursorRow).where(
                CursorRow.name == _CURSOR, CursorRow.value == start)
                .values(value=events[-1].id)).rowcount  # type: ignore[attr-defined]
        if not moved:
            return 0
        made = 0
        for e in events:
            if e.kind not in ("stage_done", "stage_failed"):
                continue
            with self.store.db.session() as s:
                order = s.get(OrderRow, e.order_id)
            if order is None:
                continue
            state = {"id": order.id, "status": order.status, "stage": e.stage,
                     "event": e.kind, "error": order.error if e.kind == "stage_failed" else None}
            made += self.enqueue(owner=order.owner, order_id=order.id, event="order.updated",
                                 order=state)
        return made

    def send_due(self, client: httpx.Client | None = None, batch: int = 50) -> int:
        """Send every delivery whose time has come; record each answer."""
        cfg = self.settings.service
        now = self.store.clock.now()
        with self.store.db.session() as s:
            due = list(s.scalars(select(WebhookDeliveryRow).where(
                WebhookDeliveryRow.status == "pending", WebhookDeliveryRow.next_attempt_at <= now)
                .order_by(WebhookDeliveryRow.next_attempt_at).limit(batch)))
        own = client is None
        client = client or httpx.Client(timeout=cfg.webhook_timeout_seconds,
                                        follow_redirects=False)
        sent = 0
        try:
            for d in due:
                # claim it: a second process sees next_attempt_at moved and skips it
                hold = now + timedelta(seconds=cfg.webhook_timeout_seconds * 3)
                with self.store.db.session() as s:
                    claimed = s.execute(update(WebhookDeliveryRow).where(
                        WebhookDeliveryRow.id == d.id,
                        WebhookDeliveryRow.next_attempt_at == d.next_attempt_at)
                        .values(next_attempt_at=hold)).rowcount  # type: ignore[attr-defined]
                    hook = s.get(WebhookRow, d.webhook_id)
                if not claimed or hook is None:
                    continue
                self._send(client, hook, d)
                sent += 1
        finally:
            if own:
                client.close()
        return sent

    def _send(self, client: httpx.Client, hook: WebhookRow, d: WebhookDeliveryRow) -> None:
        cfg = self.settings.service
        body = json.dumps(d.payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "headshots-webhooks",
                   "Headshots-Event": d.event, "Headshots-Delivery": d.id,
                   "Headshots-Signature": sign(self.secret_for(hook.id), int(time.time()), body)}
        code: int | None = None
        error: str | None = None
        try:
            code = client.post(hook.url, content=body, headers=headers).status_code
            if not 200 <= code < 300:
                error = f"answered HTTP {code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: could not reach the endpoint"
        attempts = d.attempts + 1
        now = self.store.clock.now()
        values: dict[str, Any] = {"attempts": attempts, "last_status_code": code,
                                  "last_error": error}
        if error is None:
            values.update(status="delivered", delivered_at=now)
        elif attempts >= cfg.webhook_attempts:
            values.update(status="failed")
            log.warning("webhook delivery %s gave up after %d tries", d.id, attempts)
        else:
            wait = min(_MAX_WAIT, cfg.webhook_backoff_seconds * 2 ** (attempts - 1))
            values.update(next_attempt_at=now + timedelta(seconds=wait))
        with self.store.db.session() as s:
            s.execute(update(WebhookDeliveryRow).where(WebhookDeliveryRow.id == d.id)
                      .values(**values))

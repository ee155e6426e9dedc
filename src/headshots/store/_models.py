"""The order database (SQLAlchemy 2): the truth about every order, its consent, photos, stage
runs (with leases), candidates, blobs, events and deletion receipts.

Personal data lives in few columns, each scrubbed by the purge: ``photos.display_name`` and
``photos.metrics``; ``orders.params`` (class word, styles); ``candidates.record`` (prompts).
Everything else is ids, times, counts, hashes of ciphertext and reason codes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["AccountRow", "ApiTokenRow", "Base", "BlobRow", "CandidateRow", "ConsentRow",
           "CursorRow", "EventRow", "IdempotencyRow", "OrderRow", "PhotoRow", "ReceiptRow",
           "SessionRow", "StageRunRow", "UTCDateTime", "WebhookDeliveryRow", "WebhookRow"]


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, naive UTC in the database (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, bytes: LargeBinary}


class OrderRow(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    params: Mapped[dict[str, Any]]
    params_hash: Mapped[str] = mapped_column(String(64), index=True)
    photos_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    keep_model: Mapped[bool] = mapped_column(Boolean, default=False)
    wrapped_key: Mapped[bytes | None]
    key_destroyed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_activity_at: Mapped[datetime]
    queued_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    approval_forced: Mapped[bool] = mapped_column(Boolean, default=False)
    inputs_purged_at: Mapped[datetime | None]
    model_purged_at: Mapped[datetime | None]
    results_purged_at: Mapped[datetime | None]
    preview: Mapped[dict[str, Any] | None]
    error: Mapped[dict[str, Any] | None]


class ConsentRow(Base):
    """Proof of consent, kept after the order's data is deleted: who (an account id or the
    local user, never a name), when, which version of the text, and the choices made."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    subject: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    text_sha256: Mapped[str] = mapped_column(String(64))
    accepted_at: Mapped[datetime]
    keep_model: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(16))


class PhotoRow(Base):
    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    display_name: Mapped[str | None] = mapped_column(Text)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    accepted: Mapped[bool | None] = mapped_column(Boolean)
    reasons: Mapped[dict[str, Any] | None]
    metrics: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class StageRunRow(Base):
    """One stage (or one part of a stage, e.g. a generation chunk) of an order, with its lease:
    a worker owns it while ``lease_until`` is in the future and renews it by heartbeat."""

    __tablename__ = "stage_runs"
    __table_args__ = (UniqueConstraint("order_id", "stage", "part"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    part: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16))  # pending, running, done, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(160))
    lease_until: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    input_hash: Mapped[str | None] = mapped_column(String(64))
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None]
    error: Mapped[dict[str, Any] | None]


class CandidateRow(Base):
    """A generated candidate: the durable generation index (one row per request id, so a
    resumed run can never make one twice)."""

    __tablename__ = "candidates"
    __table_args__ = (UniqueConstraint("order_id", "area", "request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    area: Mapped[str] = mapped_column(String(16))  # preview | candidates
    request_id: Mapped[str] = mapped_column(String(120))
    blob_key: Mapped[str | None] = mapped_column(Text)
    record: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]


class BlobRow(Base):
    """The inventory of an order's blobs: what the purge deletes and the receipt counts."""

    __tablename__ = "blobs"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    group: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))  # of the stored (encrypted) bytes
    created_at: Mapped[datetime]


class EventRow(Base):
    """Progress any front end can show (no personal data: ids, stage names, counts)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    at: Mapped[datetime]
    stage: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    eta_s: Mapped[float | None]
    message: Mapped[str] = mapped_column(Text, default="")


class ReceiptRow(Base):
    """What a deletion removed: kinds, counts, hashes of the stored bytes, times."""

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    created_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]


# -- the service (issue 9): accounts, credentials, idempotency, webhooks -----------------------
# An account's e-mail and password hash are its only personal data; deleting the account
# deletes these rows (its orders go through the order deletion first). Tokens and sessions are
# stored as SHA-256 of their random value, so a copy of the database signs nobody in.


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(Text)  # argon2id; None: tokens only
    created_at: Mapped[datetime]


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]


class SessionRow(Base):
    __tablename__ = "sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class IdempotencyRow(Base):
    """A start or approve done under an ``Idempotency-Key``: a retry gets the same answer."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("account_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(40), index=True)
    key: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(120))
    status_code: Mapped[int | None] = mapped_column(Integer)  # None while the first one runs
    response: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]


class WebhookRow(Base):
    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class WebhookDeliveryRow(Base):
    """One event for one endpoint, retried with backoff until it is answered 2xx."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id"), index=True)
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class CursorRow(Base):
    """How far a background reader got (e.g. the webhook dispatcher in the events table)."""

    __tablename__ = "cursors"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)

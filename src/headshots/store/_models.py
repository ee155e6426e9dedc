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

__all__ = ["Base", "BlobRow", "CandidateRow", "ConsentRow", "EventRow", "OrderRow", "PhotoRow",
           "ReceiptRow", "StageRunRow", "UTCDateTime"]


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

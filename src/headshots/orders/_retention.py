"""Retention and deletion: the published schedule applied to every order, deletion on request,
and a receipt for each deletion.

A deletion removes the group's blobs (those in the inventory and any stray under its prefix),
the rows' personal data and any scratch files; once nothing of an order is kept it destroys the
order's data key, so a copy that survived anywhere (a backup, an object version) is unreadable.
The receipt lists kinds, counts and hashes of the stored (encrypted) bytes, with times: no
names, images or face data.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from headshots.config import RetentionSchedule
from headshots.errors import ConflictError, NotFoundError
from headshots.store import Store, blobkeys
from headshots.store._models import (
    CandidateRow,
    EventRow,
    OrderRow,
    PhotoRow,
    ReceiptRow,
    StageRunRow,
)

__all__ = ["due_dates", "purge", "delete_order", "receipts"]

log = logging.getLogger("headshots.orders")
_PURGED = {"inputs": "inputs_purged_at", "model": "model_purged_at",
           "results": "results_purged_at"}


def due_dates(order: OrderRow, schedule: RetentionSchedule) -> dict[str, datetime | None]:
    """When each group of the order's data is deleted (None: already deleted)."""
    base = order.delivered_at or order.last_activity_at
    model = (order.last_activity_at + timedelta(days=schedule.kept_model_max_days)
             if order.keep_model else base + timedelta(days=schedule.model_days))
    due = {"inputs": base + timedelta(days=schedule.inputs_days), "model": model,
           "results": base + timedelta(days=schedule.results_days)}
    return {g: (None if getattr(order, _PURGED[g]) else when) for g, when in due.items()}


def _running(store: Store, order_id: str) -> bool:
    now = store.clock.now()
    with store.db.session() as s:
        return s.scalar(select(StageRunRow.id).where(
            StageRunRow.order_id == order_id, StageRunRow.lease_owner.is_not(None),
            StageRunRow.lease_until > now).limit(1)) is not None


def purge(store: Store, as_of: datetime | None = None,
          schedule: RetentionSchedule | None = None) -> list[dict[str, Any]]:
    """Apply the schedule as of ``as_of`` (default now): every group whose date has come is
    deleted. Safe to run as often as you like (cron, the service's timer, a worker)."""
    schedule = schedule or store.settings.retention
    when = as_of or store.clock.now()
    done = []
    with store.db.session() as s:
        orders = list(s.scalars(select(OrderRow)))
    for order in orders:
        if order.status == "deleted":
            _sweep(store, order.id)
            continue
        groups = [g for g, at in due_dates(order, schedule).items() if at and at <= when]
        if not groups or _running(store, order.id):
            continue
        done.append(_delete_groups(store, order.id, groups, trigger="schedule"))
    if done:
        store.db.scrub()
    return done


def delete_order(store: Store, order_id: str, owner: str | None = None) -> dict[str, Any]:
    """Delete everything of an order now. A stage still running elsewhere is told to stop
    (it sees the order deleted at its next progress report)."""
    with store.db.session() as s:
        order = s.get(OrderRow, order_id)
    if order is None or (owner is not None and order.owner != owner):
        raise NotFoundError(f"order {order_id} does not exist",
                            "list your orders with `headshots orders`")
    if order.status == "deleted":
        raise ConflictError(f"order {order_id} is already deleted",
                            f"see what went with `headshots receipt {order_id}`")
    with store.db.session() as s:
        s.execute(update(OrderRow).where(OrderRow.id == order_id).values(status="deleted"))
    groups = [g for g, at in due_dates(order, store.settings.retention).items() if at]
    receipt = _delete_groups(store, order_id, groups, trigger="request", everything=True)
    store.db.scrub()
    return receipt


def receipts(store: Store, order_id: str, owner: str | None = None) -> list[dict[str, Any]]:
    with store.db.session() as s:
        order = s.get(OrderRow, order_id)
        if order is None or (owner is not None and order.owner != owner):
            raise NotFoundError(f"order {order_id} does not exist",
                                "list your orders with `headshots orders`")
        rows = s.scalars(select(ReceiptRow).where(ReceiptRow.order_id == order_id)
                         .order_by(ReceiptRow.id))
        return [r.data for r in rows]


def _delete_groups(store: Store, order_id: str, groups: list[str], *, trigger: str,
                   everything: bool = False) -> dict[str, Any]:
    now = store.clock.now()
    deleted: dict[str, Any] = {}
    for group in groups:
        items = store.delete_prefix(order_id, blobkeys.group_prefix(order_id, group))  # type: ignore[arg-type]
        kinds: dict[str, dict[str, Any]] = {}
        for item in items:
            k = kinds.setdefault(item["kind"], {"count": 0, "bytes": 0, "sha256": []})
            k["count"] += 1
            k["bytes"] += item["size"] or 0
            if item["sha256"]:
                k["sha256"].append(item["sha256"])
        deleted[group] = kinds
    rows: dict[str, int] = {}
    with store.db.session() as s:
        if "inputs" in groups:
            rows["photos"] = s.execute(delete(PhotoRow).where(
                PhotoRow.order_id == order_id)).rowcount  # type: ignore[attr-defined]
            s.execute(update(StageRunRow).where(StageRunRow.order_id == order_id,
                                                StageRunRow.stage.in_(("check", "prepare")))
                      .values(result={"scrubbed": True}))
            s.execute(update(OrderRow).where(OrderRow.id == order_id).values(photos_hash=None))
        if "results" in groups:
            rows["candidates"] = s.execute(delete(CandidateRow).where(
                CandidateRow.order_id == order_id)).rowcount  # type: ignore[attr-defined]
        s.execute(update(OrderRow).where(OrderRow.id == order_id).values(
            **{_PURGED[g]: now for g in groups}))
        if "inputs" in groups:  # without its photos an unfinished order cannot finish
            s.execute(update(OrderRow).where(
                OrderRow.id == order_id, OrderRow.status.not_in(("delivered", "deleted")),
            ).values(status="expired", error={
                "error": "Expired", "problem": "the order's photos were deleted on schedule "
                "before it finished", "fix": "start a new order"}))
    scratch = store.wipe_scratch(order_id)
    with store.db.session() as s:
        order = s.get(OrderRow, order_id)
        assert order is not None
        nothing_left = everything or all(getattr(order, c) for c in _PURGED.values())
        if nothing_left:
            rows["events"] = s.execute(delete(EventRow).where(
                EventRow.order_id == order_id)).rowcount  # type: ignore[attr-defined]
            order.wrapped_key = None
            order.key_destroyed_at = now
            order.params, order.params_hash, order.photos_hash = {}, "", None
            order.preview = None
            order.status = "deleted"
            for run in s.scalars(select(StageRunRow).where(StageRunRow.order_id == order_id)):
                run.result = {"scrubbed": True} if run.result is not None else None
        waiting = [g for g, column in _PURGED.items() if not getattr(order, column)]
        receipt = {"order": order_id, "trigger": trigger, "at": now.isoformat(),
                   "deleted": deleted, "rows": rows, "scratch_files": scratch,
                   "key_destroyed": nothing_left,
                   "kept": "consent record and this receipt" if nothing_left else
                   f"not yet due: {', '.join(waiting)}"}
        s.add(ReceiptRow(order_id=order_id, created_at=now, data=receipt))
    log.info("order %s: deleted %s (%s)", order_id, ", ".join(groups) or "nothing", trigger)
    return receipt


def _sweep(store: Store, order_id: str) -> None:
    """A deleted order's prefix must stay empty (a stage killed mid-upload may leave a
    stray object, unreadable without the destroyed key, but still to be removed)."""
    if any(True for _ in store.blobs.list(blobkeys.order_prefix(order_id))):
        store.delete_prefix(order_id, blobkeys.order_prefix(order_id))
    store.wipe_scratch(order_id)

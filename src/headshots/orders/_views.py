"""What a front end shows of an order: status, stage, progress, errors, and what is kept
until when. Plain JSON-ready dicts, the same for the CLI, the HTTP API and the page."""

from __future__ import annotations

from typing import Any

from headshots.orders._lease import describe_owner
from headshots.orders._retention import due_dates
from headshots.orders._workflow import STAGES, Workflow
from headshots.store._models import OrderRow

__all__ = ["order_summary"]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def order_summary(workflow: Workflow, order: OrderRow) -> dict[str, Any]:
    runs = workflow.stage_runs(order.id)
    stage = next((s for s in STAGES if s not in runs or runs[s].status != "done"), None)
    running = runs.get(stage) if stage else None
    kept: dict[str, str | None] = {}
    if order.status == "deleted":
        kept = {"inputs": "deleted", "model": "deleted", "results": "deleted"}
    else:
        for group, when in due_dates(order, workflow.store.settings.retention).items():
            kept[group] = _iso(when) if when else "deleted"
    return {
        "id": order.id,
        "status": order.status,
        "stage": None if order.status in ("delivered", "deleted") else stage,
        "progress": None if running is None or running.status != "running" else {
            "done": running.progress_done, "total": running.progress_total,
            "attempt": running.attempts, "runner": describe_owner(running.lease_owner),
            "heartbeat_at": _iso(running.heartbeat_at)},
        "created_at": _iso(order.created_at),
        "updated_at": _iso(order.updated_at),
        "delivered_at": _iso(order.delivered_at),
        "keep_model": order.keep_model,
        "preview": order.preview,
        "error": order.error,
        "kept_until": kept,
    }

"""The reaper (run by beat): finds stages that nobody is running any more and sends them again.

Two cases, both read from the database, never from the broker:

- a running stage whose heartbeat stopped (its lease ran out: the worker was killed, the
  machine lost): the lease is freed and the stage re-queued at once; it resumes from what it
  stored (training from its last checkpoint, generation from its stored candidates);
- a queued stage with no sign of life for ``requeue_after_seconds``: its message was lost
  (e.g. a Redis without persistence restarted), so it is sent again.

A stage whose worker died ``max_attempts`` times (e.g. killed for memory every time) ends the
order failed with a readable reason instead of looping forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from headshots.orders import EventSink, Workflow
from headshots.orders._lease import ensure_run
from headshots.store import Store
from headshots.store._models import OrderRow, StageRunRow

__all__ = ["give_up", "mark_sent", "reap"]

log = logging.getLogger("headshots.runners")

# orders the reaper looks after: queued or in a stage (not waiting for the person, not final)
ACTIVE = ("queued", "preparing", "training", "previewing", "generating", "judging",
          "delivering")


def mark_sent(store: Store, order_id: str, stage: str, part: str = "") -> None:
    """Note when a stage's message was sent, on its (pending) run row: the reaper's clock for
    lost messages. A running row's heartbeat is left alone."""
    row = ensure_run(store, order_id, stage, part)
    with store.db.session() as s:
        s.execute(update(StageRunRow).where(StageRunRow.id == row.id,
                                            StageRunRow.status == "pending")
                  .values(heartbeat_at=store.clock.now()))


def give_up(workflow: Workflow, run: StageRunRow) -> bool:
    """End the order failed: its stage's worker died ``run.attempts`` times without finishing."""
    store = workflow.store
    error = {"error": "RuntimeFailure", "stage": run.stage,
             "problem": f"the {run.stage} stage stopped {run.attempts} times without finishing "
                        "(its worker process died each time, e.g. killed for memory)",
             "fix": "check the workers' memory and logs, then start the order again"}
    same_holder = (StageRunRow.lease_owner.is_(None) if run.lease_owner is None
                   else StageRunRow.lease_owner == run.lease_owner)
    with store.db.session() as s:  # only if nobody took it meanwhile
        n = s.execute(update(StageRunRow).where(
            StageRunRow.id == run.id, StageRunRow.status.in_(("pending", "running")),
            same_holder,
        ).values(status="failed", error=error, lease_owner=None,
                 lease_until=None)).rowcount  # type: ignore[attr-defined]
    if n != 1:
        return False
    EventSink(store, run.order_id).emit("stage_failed", run.stage, message=error["problem"],
                                        run_id=run.id)
    now = store.clock.now()
    with store.db.session() as s:
        s.execute(update(OrderRow).where(OrderRow.id == run.order_id,
                                         OrderRow.status.not_in(("cancelled", "deleted")))
                  .values(status="failed", error=error, updated_at=now, last_activity_at=now))
    log.warning("order %s failed: %s", run.order_id, error["problem"])
    return True


def reap(workflow: Workflow, send: Callable[..., Any]) -> list[tuple[str, str]]:
    """Re-send what nobody runs (``send(order, stage)``, or ``send(order, stage, part=…)``
    for a part); returns the (order, stage) pairs sent."""
    store, settings = workflow.store, workflow.store.settings
    now = store.clock.now()
    with store.db.session() as s:
        stale = list(s.scalars(select(StageRunRow).where(StageRunRow.status == "running",
                                                         StageRunRow.lease_until < now)))
    sent: list[tuple[str, str]] = []
    for run in stale:
        if run.attempts >= settings.max_attempts:
            give_up(workflow, run)
            continue
        with store.db.session() as s:  # free it only if nobody renewed or took it meanwhile
            n = s.execute(update(StageRunRow).where(
                StageRunRow.id == run.id, StageRunRow.lease_owner == run.lease_owner,
                StageRunRow.lease_until < now,
            ).values(status="pending", lease_owner=None,
                     lease_until=None)).rowcount  # type: ignore[attr-defined]
        if n == 1:
            log.info("order %s: stage %s %s stopped beating; sent again", run.order_id,
                     run.stage, run.part)
            if run.part:
                send(run.order_id, run.stage, part=run.part)
            else:
                send(run.order_id, run.stage)
            sent.append((run.order_id, run.stage))
    quiet_since = now - timedelta(seconds=settings.worker.requeue_after_seconds)
    with store.db.session() as s:
        orders = list(s.scalars(select(OrderRow).where(OrderRow.status.in_(ACTIVE),
                                                       OrderRow.last_activity_at < quiet_since)))
    for order in orders:
        stage = workflow.next_stage(order.id)
        if stage is None or (order.id, stage) in sent:
            continue
        queued = workflow.stage_runs(order.id).get(stage)
        if queued is not None and (queued.status != "pending"
                                   or (queued.heartbeat_at is not None
                                       and queued.heartbeat_at >= quiet_since)):
            continue
        log.info("order %s: stage %s was queued with no sign of life; sent again", order.id,
                 stage)
        send(order.id, stage)
        sent.append((order.id, stage))
    return sent


"""One stage in parts: the full generation fanned out over several workers in chunks and fanned
in for judging (the queue runner uses it; ``advance`` runs the stage whole).

Each part is a ``StageRunRow`` of its own (``part="k/n"``) with its own lease, so a part is run
by one worker at a time and resumes like a whole stage; the candidates it stores are unique per
request id, so no candidate is ever made twice, whichever worker runs the part. When the last
part is done, ``fan_in`` claims the stage itself, records it done with the totals and the
order moves on to judging.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from headshots.errors import LeaseLost
from headshots.orders._context import Cancelled, StageContext
from headshots.orders._events import EventSink
from headshots.orders._lease import Heartbeat, claim, describe_owner, ensure_run
from headshots.orders._params import OrderParams
from headshots.orders._scratch import sweep_scratch
from headshots.orders._stages import run_generate_part
from headshots.orders._workflow import StageOutcome, Workflow
from headshots.store._models import CandidateRow, StageRunRow

__all__ = ["fan_in", "part_names", "run_part"]

PARTED = {"generate": run_generate_part}


def part_names(count: int, chunk: int) -> list[str]:
    """``["0/3", "1/3", "2/3"]`` for ``count`` items in chunks of ``chunk``; one part (the
    whole stage, ``[]``) when they fit in one chunk."""
    n = -(-count // chunk) if chunk > 0 else 1
    return [f"{k}/{n}" for k in range(n)] if n > 1 else []


def run_part(workflow: Workflow, order_id: str, stage: str, part: str,
             owner: str) -> StageOutcome:
    """Claim, run and record one part; never raises for the part's own failures (a part that
    keeps failing fails the order after ``max_attempts``, like a whole stage)."""
    store = workflow.store
    sweep_scratch(store)  # plain files a killed process left on this machine
    lease, row = claim(store, order_id, stage, owner, part=part)
    if lease is None:
        return StageOutcome(stage, {"done": "done", "failed": "failed"}.get(row.status, "busy"),
                            row.error, row.result)
    order = workflow.get(order_id)
    if order.status in ("cancelled", "deleted"):
        lease.release(status="pending")
        return StageOutcome(stage, "cancelled")
    sink = EventSink(store, order_id)
    workflow._set_status(order_id, "generating")
    sink.emit("stage_started", stage, message=f"part {part}, attempt {lease.attempt}",
              run_id=row.id)
    index, count = (int(v) for v in part.split("/"))
    try:
        with Heartbeat(lease), store.scratch(order_id, f"{stage}-{index}") as scratch:
            ctx = StageContext(store, order_id, stage, OrderParams(**order.params),
                               workflow.runtime, lease, sink, scratch, row.id)
            result = PARTED[stage](ctx, index, count)
            lease.check()
    except LeaseLost:
        return StageOutcome(stage, "lost")
    except Cancelled:
        lease.release(status="pending")
        return StageOutcome(stage, "cancelled")
    except Exception as exc:  # noqa: BLE001 - recorded like a whole stage's failure
        return workflow._failed(lease, stage, exc, sink, row.id)
    result["by"] = describe_owner(owner)
    if not lease.release(status="done", result=result, error=None,
                         finished_at=store.clock.now()):
        return StageOutcome(stage, "lost")
    return StageOutcome(stage, "done", None, result)


def fan_in(workflow: Workflow, order_id: str, stage: str, parts: list[str],
           owner: str) -> StageOutcome | None:
    """Record the stage done once every part is (None while some are not): one caller wins
    the stage's lease, a concurrent one finds it held or done."""
    store = workflow.store
    with store.db.session() as s:
        done = s.scalar(select(func.count()).select_from(StageRunRow).where(
            StageRunRow.order_id == order_id, StageRunRow.stage == stage,
            StageRunRow.part.in_(parts), StageRunRow.status == "done"))
    if done != len(parts):
        return None
    ensure_run(store, order_id, stage)
    lease, row = claim(store, order_id, stage, owner)
    if lease is None:
        return StageOutcome(stage, {"done": "done", "failed": "failed"}.get(row.status, "busy"))
    with store.db.session() as s:
        rows = list(s.scalars(select(CandidateRow).where(CandidateRow.order_id == order_id,
                                                         CandidateRow.area == "candidates")))
    made = sum(1 for r in rows if r.blob_key)
    result: dict[str, Any] = {"candidates": made, "requests": len(rows),
                              "stopped_early": len(rows) - made, "parts": len(parts)}
    if not lease.release(status="done", result=result, error=None,
                         finished_at=store.clock.now()):
        return StageOutcome(stage, "lost")
    EventSink(store, order_id).emit("stage_done", stage, message="queued", run_id=row.id)
    workflow._set_status(order_id, "queued", error=None)
    return StageOutcome(stage, "done", None, result)

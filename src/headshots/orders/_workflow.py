"""The order workflow: one durable, resumable flow for every front end.

::

    collecting ─start─▶ queued ─▶ preparing ─▶ training ─▶ previewing ─▶ awaiting_approval
      ─approve─▶ generating ─▶ judging ─▶ delivering ─▶ delivered ─(schedule)─▶ deleted
    any stage ─fails N times (or on bad input)─▶ failed (with a readable reason)

The database is the truth. ``advance`` runs the next stages in this process; a queue runner
(Celery) calls ``run_stage`` for one stage at a time instead. Either way a stage is claimed
through its lease first, so a duplicate message or a second process finds it held or done.
"""

from __future__ import annotations

import logging
import secrets
import traceback
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from headshots.config import IntakeConfig
from headshots.errors import (
    ConflictError,
    ConsentError,
    HeadshotsError,
    InputError,
    LeaseLost,
    NotFoundError,
)
from headshots.intake import IntakeReport
from headshots.orders._consent import CONSENT_VERSION, ConsentChoice, consent_sha256
from headshots.orders._context import Cancelled, Runtime, StageContext
from headshots.orders._events import EventSink, Listener
from headshots.orders._lease import Heartbeat, claim, describe_owner, make_owner
from headshots.orders._params import OrderParams
from headshots.orders._photos import StoredPhoto, photo_rows, set_report, store_photo
from headshots.orders._scratch import sweep_scratch
from headshots.orders._stages import STAGE_FUNCTIONS
from headshots.store import Store
from headshots.store._models import ConsentRow, OrderRow, PhotoRow, StageRunRow

__all__ = ["STAGES", "StageOutcome", "Workflow"]

log = logging.getLogger("headshots.orders")

STAGES = ("check", "prepare", "train", "preview", "generate", "judge", "deliver")
RUNNING = {"check": "checking", "prepare": "preparing", "train": "training",
           "preview": "previewing", "generate": "generating", "judge": "judging",
           "deliver": "delivering"}
FINAL = ("delivered", "failed", "cancelled", "expired", "deleted")
MAX_PHOTOS = 30


@dataclass(frozen=True)
class StageOutcome:
    stage: str
    status: str  # done, failed (for good), retry (will run again), busy, lost, cancelled
    error: dict[str, Any] | None = None
    result: dict[str, Any] | None = None


class Workflow:
    def __init__(self, store: Store, runtime: Runtime | None = None) -> None:
        self.store = store
        self.runtime = runtime or Runtime()
        self.intake_config = IntakeConfig()

    # -- reading ---------------------------------------------------------------------------
    def get(self, order_id: str, owner: str | None = None) -> OrderRow:
        with self.store.db.session() as s:
            row = s.get(OrderRow, order_id)
        if row is None or (owner is not None and row.owner != owner):
            raise NotFoundError(f"order {order_id} does not exist",
                                "list your orders with `headshots orders`")
        return row

    def params(self, order_id: str) -> OrderParams:
        return OrderParams(**self.get(order_id).params)

    def list_orders(self, owner: str | None = None) -> list[OrderRow]:
        with self.store.db.session() as s:
            q = select(OrderRow).order_by(OrderRow.created_at)
            if owner is not None:
                q = q.where(OrderRow.owner == owner)
            return list(s.scalars(q))

    def stage_runs(self, order_id: str) -> dict[str, StageRunRow]:
        with self.store.db.session() as s:
            rows = s.scalars(select(StageRunRow).where(StageRunRow.order_id == order_id,
                                                       StageRunRow.part == ""))
            return {r.stage: r for r in rows}

    def photos(self, order_id: str) -> list[PhotoRow]:
        return photo_rows(self.store, order_id)

    def intake_report(self, order_id: str) -> IntakeReport:
        return set_report(self.store, order_id, self.intake_config)

    def find_resumable(self, owner: str, params_hash: str, photos_hash: str) -> OrderRow | None:
        """The newest unfinished order of ``owner`` made with these settings and photos."""
        with self.store.db.session() as s:
            return s.scalar(select(OrderRow).where(
                OrderRow.owner == owner, OrderRow.params_hash == params_hash,
                OrderRow.photos_hash == photos_hash,
                OrderRow.status.not_in(("failed", "cancelled", "expired", "deleted")),
            ).order_by(OrderRow.created_at.desc()).limit(1))

    # -- the person's actions --------------------------------------------------------------
    def create_order(self, params: OrderParams, consent: ConsentChoice, *, owner: str = "local",
                     photos_hash: str | None = None) -> str:
        """A new order, with its consent recorded first: nothing is collected without it."""
        if consent.version != CONSENT_VERSION:
            raise ConsentError(f"consent version {consent.version!r} is not the current one "
                               f"({CONSENT_VERSION})",
                               "show the person the current consent text and ask again")
        params.validate_all()
        order_id = "ord_" + secrets.token_hex(10)
        now = self.store.clock.now()
        with self.store.db.session() as s:
            s.add(OrderRow(id=order_id, owner=owner, status="collecting",
                           params=params.model_dump(mode="json"), params_hash=params.digest(),
                           photos_hash=photos_hash, keep_model=consent.keep_model,
                           wrapped_key=self.store.new_wrapped_key(order_id), created_at=now,
                           updated_at=now, last_activity_at=now))
            s.flush()
            s.add(ConsentRow(order_id=order_id, subject=consent.subject, version=consent.version,
                             text_sha256=consent_sha256(self.store.settings.retention),
                             accepted_at=now, keep_model=consent.keep_model,
                             channel=consent.channel))
        log.info("order %s created", order_id)
        return order_id

    def _require(self, order_id: str, *statuses: str) -> OrderRow:
        order = self.get(order_id)
        if order.status not in statuses:
            raise ConflictError(f"order {order_id} is {order.status.replace('_', ' ')}; this "
                                f"needs it to be {' or '.join(statuses)}",
                                "start a new order to change photos or settings")
        return order

    def add_photo(self, order_id: str, name: str, data: bytes) -> StoredPhoto:
        self._require(order_id, "collecting")
        with self.store.db.session() as s:
            if s.scalar(select(ConsentRow.id).where(ConsentRow.order_id == order_id)) is None:
                raise ConsentError(f"order {order_id} has no consent record",
                                   "record the person's consent before collecting photos")
        current = self.photos(order_id)
        if len(current) >= MAX_PHOTOS:
            raise ConflictError(f"order {order_id} already has {len(current)} photos, the most "
                                "one order takes", "remove some before adding others")
        position = max((p.position for p in current), default=0) + 1
        photo = store_photo(self.store, order_id, name, data, self.runtime.backend(),
                            self.intake_config, position)
        self._touch(order_id)
        return photo

    def remove_photo(self, order_id: str, photo_id: str) -> None:
        """Delete one photo now (its image, crop-to-be and check): only while collecting, so a
        removed photo can never be trained on."""
        from headshots.store import blobkeys

        self._require(order_id, "collecting")
        with self.store.db.session() as s:
            row = s.get(PhotoRow, photo_id)
            if row is None or row.order_id != order_id:
                raise NotFoundError(f"photo {photo_id} is not in order {order_id}",
                                    "list the order's photos first")
            s.delete(row)
        self.store.delete_prefix(order_id, blobkeys.selfie(order_id, photo_id))
        self.store.delete_prefix(order_id, blobkeys.intake(order_id, f"photo-{photo_id}.npz"))
        self._touch(order_id)

    def start(self, order_id: str) -> dict[str, Any]:
        """Check the set and queue the order (or raise ``PhotoSetError`` with the advice;
        the order then stays open for more photos)."""
        self._require(order_id, "collecting")
        outcome = self.run_stage(order_id, "check", make_owner("start"))
        if outcome.status != "done":
            raise ConflictError(f"order {order_id} could not be checked ({outcome.status})",
                                "try again")
        now = self.store.clock.now()
        with self.store.db.session() as s:
            s.execute(update(OrderRow).where(OrderRow.id == order_id).values(
                status="queued", queued_at=now, updated_at=now, last_activity_at=now))
        return outcome.result or {}

    def approve(self, order_id: str, *, force: bool = False) -> None:
        order = self._require(order_id, "awaiting_approval")
        verdict = order.preview or {}
        if not verdict.get("go") and not force:
            raise ConflictError(f"the preview of order {order_id} said NO-GO: "
                                f"{verdict.get('why', 'too few images passed')}",
                                "fix the selfies or settings in a new order, or approve anyway "
                                "(--force)")
        now = self.store.clock.now()
        with self.store.db.session() as s:
            s.execute(update(OrderRow).where(OrderRow.id == order_id).values(
                status="queued", approved_at=now, approval_forced=not verdict.get("go"),
                updated_at=now, last_activity_at=now))

    def cancel(self, order_id: str) -> None:
        order = self.get(order_id)
        if order.status in FINAL:
            raise ConflictError(f"order {order_id} is already {order.status}",
                                "nothing to cancel")
        self._set_status(order_id, "cancelled")

    def rerun(self, order_id: str, stage: str) -> None:
        """Run ``stage`` and every later one again (an explicit choice, never a silent one)."""
        from headshots.store import blobkeys

        if stage not in STAGES[1:]:
            raise InputError(f"stage {stage!r} cannot be re-run",
                             f"choose one of {', '.join(STAGES[1:])}")
        later = STAGES[STAGES.index(stage):]
        with self.store.db.session() as s:
            s.execute(update(StageRunRow).where(StageRunRow.order_id == order_id,
                                                StageRunRow.stage.in_(later))
                      .values(status="pending", attempts=0, result=None, error=None))
        prefix = blobkeys.group_prefix(order_id, "results")
        areas = {"preview": "preview/", "generate": "candidates/", "judge": "judge/",
                 "deliver": "delivery/"}
        from headshots.store._models import CandidateRow

        for st in later:
            if st in areas:
                self.store.delete_prefix(order_id, prefix + areas[st])
            if st in ("preview", "generate"):
                area = "preview" if st == "preview" else "candidates"
                with self.store.db.session() as s:
                    for row in s.scalars(select(CandidateRow).where(
                            CandidateRow.order_id == order_id, CandidateRow.area == area)):
                        s.delete(row)
        if stage == "train":
            self.store.delete_prefix(order_id, blobkeys.group_prefix(order_id, "model"))
        values: dict[str, Any] = {"status": "queued", "error": None, "delivered_at": None}
        if STAGES.index(stage) <= STAGES.index("preview"):
            values.update(preview=None, approved_at=None)
        with self.store.db.session() as s:
            s.execute(update(OrderRow).where(OrderRow.id == order_id).values(**values))

    # -- running ---------------------------------------------------------------------------
    def next_stage(self, order_id: str) -> str | None:
        order = self.get(order_id)
        if order.status in FINAL or order.status == "collecting":
            return None
        runs = self.stage_runs(order_id)
        for stage in STAGES:
            run = runs.get(stage)
            if run is not None and run.status == "done":
                continue
            if run is not None and run.status == "failed":
                return None
            if stage == "generate" and order.approved_at is None:
                return None
            return stage
        return None

    def advance(self, order_id: str, *, label: str = "headshots",
                listener: Listener | None = None) -> OrderRow:
        """Run stages in this process until the order is delivered, waits for approval,
        fails, or another process holds it (``ConflictError``)."""
        owner = make_owner(label)
        while (stage := self.next_stage(order_id)) is not None:
            outcome = self.run_stage(order_id, stage, owner, listener)
            if outcome.status == "busy":
                run = self.stage_runs(order_id)[stage]
                raise ConflictError(
                    f"order {order_id} is being run by {describe_owner(run.lease_owner)} "
                    f"(stage {stage}, last heartbeat {self._ago(run.heartbeat_at)})",
                    "wait for it to finish, or follow it with `headshots orders`")
            if outcome.status != "done":
                break
        return self.get(order_id)

    def run_stage(self, order_id: str, stage: str, owner: str,
                  listener: Listener | None = None) -> StageOutcome:
        """Claim, run and record one stage. Never raises for the stage's own failures: the
        outcome (and the order's row) say what happened."""
        sweep_scratch(self.store)  # plain files a killed process left on this machine
        lease, row = claim(self.store, order_id, stage, owner)
        if lease is None:
            status = {"done": "done", "failed": "failed"}.get(row.status, "busy")
            return StageOutcome(stage, status, row.error, row.result)
        order = self.get(order_id)
        if order.status in ("cancelled", "deleted"):
            lease.release(status="pending")
            return StageOutcome(stage, "cancelled")
        sink = EventSink(self.store, order_id, listener)
        self._set_status(order_id, RUNNING[stage])
        sink.emit("stage_started", stage, message=f"attempt {lease.attempt}", run_id=row.id)
        try:
            with Heartbeat(lease), self.store.scratch(order_id, stage) as scratch:
                ctx = StageContext(self.store, order_id, stage, OrderParams(**order.params),
                                   self.runtime, lease, sink, scratch, row.id)
                result = STAGE_FUNCTIONS[stage](ctx)
                lease.check()
        except LeaseLost:
            return StageOutcome(stage, "lost")
        except Cancelled:
            lease.release(status="pending")
            return StageOutcome(stage, "cancelled")
        except Exception as exc:  # noqa: BLE001 - every failure is recorded, none is lost
            return self._failed(lease, stage, exc, sink, row.id)
        now = self.store.clock.now()
        if not lease.release(status="done", result=result, error=None, finished_at=now):
            return StageOutcome(stage, "lost")
        after = {"check": "collecting", "preview": "awaiting_approval",
                 "deliver": "delivered"}.get(stage, "queued")
        if stage == "preview" and self.get(order_id).approved_at is not None:
            after = "queued"
        # the event first: a reader who sees the new status finds the event that explains it
        sink.emit("stage_done", stage, message=after, run_id=row.id)
        self._set_status(order_id, after, error=None,
                         delivered_at=now if stage == "deliver" else None)
        return StageOutcome(stage, "done", None, result)

    def _failed(self, lease: Any, stage: str, exc: Exception, sink: EventSink,
                run_id: int) -> StageOutcome:
        if isinstance(exc, HeadshotsError):
            error = {**exc.to_dict(), "stage": stage}
        else:  # a bug or a library failure: the trace goes to the log, a readable line here
            log.error("stage %s of order %s failed:\n%s", stage, lease.order_id,
                      traceback.format_exc())
            error = {"error": "InternalError", "stage": stage,
                     "problem": f"the {stage} stage failed unexpectedly ({type(exc).__name__})",
                     "fix": "run the order again to retry; if it keeps failing, report it "
                            "with the log file"}
        # bad input will not fix itself; anything else gets max_attempts tries. The check is
        # never final: the person fixes the set and starts again.
        final = stage != "check" and (isinstance(exc, InputError)
                                      or lease.attempt >= self.store.settings.max_attempts)
        lease.release(status="failed" if final else "pending", error=error)
        sink.emit("stage_failed", stage, message=error["problem"], run_id=run_id)
        if stage == "check":
            self._set_status(lease.order_id, "collecting")
            raise exc  # the person fixes the set; the order stays open
        if final:
            self._set_status(lease.order_id, "failed", error=error)
            return StageOutcome(stage, "failed", error)
        self._set_status(lease.order_id, "queued", error=error)
        return StageOutcome(stage, "retry", error)

    def export(self, order_id: str, folder: Path) -> list[Path]:
        """Copy the delivered headshots (decrypted) into ``folder``: the person's own copy,
        which the retention schedule does not reach."""
        from headshots.store import blobkeys

        order = self._require(order_id, "delivered")
        prefix = blobkeys.group_prefix(order.id, "results") + "delivery/"
        written = []
        for key in self.store.keys(order_id, prefix):
            path = folder / key[len(prefix):]
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".part")
            tmp.write_bytes(self.store.get(order_id, key))
            tmp.replace(path)
            written.append(path)
        return written

    # -- helpers ---------------------------------------------------------------------------
    def _set_status(self, order_id: str, status: str, **values: Any) -> None:
        now = self.store.clock.now()
        values = {k: v for k, v in values.items() if v is not None or k == "error"}
        with self.store.db.session() as s:
            s.execute(update(OrderRow).where(OrderRow.id == order_id,
                                             OrderRow.status.not_in(("cancelled", "deleted")))
                      .values(status=status, updated_at=now, last_activity_at=now, **values))

    def _touch(self, order_id: str) -> None:
        now = self.store.clock.now()
        with self.store.db.session() as s:
            s.execute(update(OrderRow).where(OrderRow.id == order_id).values(
                updated_at=now, last_activity_at=now))

    def _ago(self, when: datetime | None) -> str:
        if when is None:
            return "never"
        return f"{(self.store.clock.now() - when).total_seconds():.0f} s ago"

"""Progress events: what any front end shows (CLI bar, web page, SSE, a polling client).

Events carry ids, stage names, counts, an ETA and plain messages; never file names or other
personal data. Progress is written to the database at most once a second per stage (the
in-process listener, e.g. the CLI's bar, hears every tick).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from headshots.store import Store
from headshots.store._models import EventRow, OrderRow, StageRunRow

__all__ = ["Event", "EventSink", "Listener", "read_events"]


@dataclass(frozen=True)
class Event:
    order_id: str
    kind: str  # stage_started, progress, stage_done, stage_failed, status
    stage: str | None = None
    done: int = 0
    total: int = 0
    eta_s: float | None = None
    message: str = ""
    at: datetime | None = None
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["at"] = self.at.isoformat() if self.at else None
        return out


Listener = Callable[[Event], None]


class EventSink:
    def __init__(self, store: Store, order_id: str, listener: Listener | None = None,
                 min_interval: float = 1.0) -> None:
        self.store, self.order_id, self.listener = store, order_id, listener
        self.min_interval = min_interval
        self._last_write: dict[str | None, float] = {}
        self._started: dict[str | None, tuple[float, int]] = {}

    def emit(self, kind: str, stage: str | None = None, done: int = 0, total: int = 0,
             message: str = "", *, run_id: int | None = None) -> Event:
        now = self.store.clock.now()
        eta = None
        if kind == "stage_started":
            self._started[stage] = (time.monotonic(), done)
        elif kind == "progress" and stage in self._started and total:
            t0, d0 = self._started[stage]
            if done > d0:
                eta = round((time.monotonic() - t0) / (done - d0) * (total - done), 1)
        event = Event(self.order_id, kind, stage, done, total, eta, message, now)
        if self.listener is not None:
            self.listener(event)
        mono = time.monotonic()
        if kind != "progress" or mono - self._last_write.get(stage, 0.0) >= self.min_interval \
                or done >= total:
            self._last_write[stage] = mono
            with self.store.db.session() as s:
                s.add(EventRow(order_id=self.order_id, at=now, stage=stage, kind=kind, done=done,
                               total=total, eta_s=eta, message=message))
                if run_id is not None:
                    s.execute(update(StageRunRow).where(StageRunRow.id == run_id).values(
                        progress_done=done, progress_total=total))
                s.execute(update(OrderRow).where(OrderRow.id == self.order_id).values(
                    last_activity_at=now, updated_at=now))
        return event


def read_events(store: Store, order_id: str, after: int = 0, limit: int = 500) -> list[Event]:
    with store.db.session() as s:
        rows = s.scalars(select(EventRow).where(EventRow.order_id == order_id,
                                                EventRow.id > after)
                         .order_by(EventRow.id).limit(limit))
        return [Event(r.order_id, r.kind, r.stage, r.done, r.total, r.eta_s, r.message, r.at,
                      r.id) for r in rows]

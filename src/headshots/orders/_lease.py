"""Stage leases: one writer per stage of an order, however many processes try.

A worker claims a stage with one conditional UPDATE (atomic on SQLite and PostgreSQL alike):
it succeeds only when nobody holds the lease or the holder's lease has run out. While the stage
runs, a heartbeat thread renews the lease; if a renewal finds the lease taken, the stage learns
it at its next progress report and stops (``LeaseLost``). A holder on this same machine whose
process is gone (kill -9) is taken over at once instead of after the lease runs out.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update

from headshots.errors import LeaseLost
from headshots.store import Store
from headshots.store._models import StageRunRow

__all__ = ["Lease", "Heartbeat", "claim", "describe_owner", "ensure_run", "make_owner"]


def make_owner(label: str) -> str:
    """``label|host|pid|token``: unique per process and run, readable in "being run by"."""
    return f"{label}|{socket.gethostname()}|{os.getpid()}|{secrets.token_hex(4)}"


def describe_owner(owner: str | None) -> str:
    if not owner:
        return "nobody"
    parts = owner.split("|")
    if len(parts) != 4:
        return owner
    label, host, pid, _ = parts
    return f"{label} (pid {pid} on {host})"


def _holder_is_dead(owner: str | None) -> bool:
    """True when ``owner`` ran on this machine and its process no longer exists."""
    if not owner:
        return False
    parts = owner.split("|")
    if len(parts) != 4 or parts[1] != socket.gethostname() or not parts[2].isdigit():
        return False
    pid = int(parts[2])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass
class Lease:
    store: Store
    run_id: int
    order_id: str
    stage: str
    part: str
    owner: str
    attempt: int
    lost: threading.Event = field(default_factory=threading.Event)

    def renew(self) -> bool:
        now = self.store.clock.now()
        until = now + timedelta(seconds=self.store.settings.lease_seconds)
        with self.store.db.session() as s:
            n = s.execute(update(StageRunRow).where(
                StageRunRow.id == self.run_id, StageRunRow.lease_owner == self.owner,
            ).values(heartbeat_at=now, lease_until=until)).rowcount  # type: ignore[attr-defined]
        if n != 1:
            self.lost.set()
        return n == 1

    def check(self) -> None:
        if self.lost.is_set():
            raise LeaseLost(f"stage {self.stage} of order {self.order_id} was taken over by "
                            "another worker", "nothing to do: the other worker carries on")

    def release(self, **values: Any) -> bool:
        """Write the stage's outcome and drop the lease, only if we still hold it."""
        with self.store.db.session() as s:
            n = s.execute(update(StageRunRow).where(
                StageRunRow.id == self.run_id, StageRunRow.lease_owner == self.owner,
            ).values(lease_owner=None, lease_until=None, **values)).rowcount  # type: ignore
        return n == 1


def ensure_run(store: Store, order_id: str, stage: str, part: str = "") -> StageRunRow:
    with store.db.session() as s:
        row = s.scalar(select(StageRunRow).where(StageRunRow.order_id == order_id,
                                                 StageRunRow.stage == stage,
                                                 StageRunRow.part == part))
        if row is None:
            row = StageRunRow(order_id=order_id, stage=stage, part=part, status="pending",
                              attempts=0, progress_done=0, progress_total=0)
            s.add(row)
            s.flush()
        return row


def claim(store: Store, order_id: str, stage: str, owner: str, part: str = ""
          ) -> tuple[Lease | None, StageRunRow]:
    """Take the stage's lease. Returns (lease, row) on success, (None, row) when someone else
    holds it or the stage is finished (``row.status`` says which)."""
    row = ensure_run(store, order_id, stage, part)
    if row.status == "done":
        return None, row
    now = store.clock.now()
    until = now + timedelta(seconds=store.settings.lease_seconds)
    free = or_(StageRunRow.lease_owner.is_(None), StageRunRow.lease_until < now,
               StageRunRow.lease_owner == owner)
    if _holder_is_dead(row.lease_owner):
        free = or_(free, StageRunRow.lease_owner == row.lease_owner)
    with store.db.session() as s:
        n = s.execute(update(StageRunRow).where(
            StageRunRow.id == row.id, StageRunRow.status.in_(("pending", "running")), free,
        ).values(lease_owner=owner, lease_until=until, heartbeat_at=now, status="running",
                 attempts=StageRunRow.attempts + 1,
                 started_at=now)).rowcount  # type: ignore[attr-defined]
        fresh = s.get(StageRunRow, row.id)
        assert fresh is not None
        s.refresh(fresh)
    if n != 1:
        return None, fresh
    return Lease(store, fresh.id, order_id, stage, part, owner, fresh.attempts), fresh


class Heartbeat:
    """Renews a lease every ``settings.heartbeat_seconds`` until stopped (a daemon thread)."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{lease.stage}",
                                        daemon=True)

    def _run(self) -> None:
        interval = self.lease.store.settings.heartbeat_seconds
        while not self._stop.wait(interval):
            try:
                if not self.lease.renew():
                    return
            except Exception:  # noqa: BLE001 - a database hiccup: try again next beat
                continue

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

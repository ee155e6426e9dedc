"""The embedded default: stages run in this process, in the caller's thread (the CLI) or on
one background thread (the service), one order at a time."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from headshots.errors import HeadshotsError
from headshots.orders import Listener, Workflow

__all__ = ["InProcessRunner"]

log = logging.getLogger("headshots.runners")


class InProcessRunner:
    def __init__(self, workflow: Workflow, *, background: bool = False,
                 label: str = "in-process runner", listener: Listener | None = None) -> None:
        self.workflow, self.label, self.listener = workflow, label, listener
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="orders") if background else None
        self._pending: dict[str, Future[None]] = {}
        self._lock = threading.Lock()

    def submit(self, order_id: str) -> None:
        if self._pool is None:
            self.workflow.advance(order_id, label=self.label, listener=self.listener)
            return
        with self._lock:
            running = self._pending.get(order_id)
            if running is not None and not running.done():
                return  # already queued here: a second submit starts nothing twice
            self._pending[order_id] = self._pool.submit(self._advance, order_id)

    def _advance(self, order_id: str) -> None:
        try:
            self.workflow.advance(order_id, label=self.label, listener=self.listener)
        except HeadshotsError as exc:  # e.g. another process holds it: that one carries on
            log.info("order %s not advanced here: %s", order_id, exc.problem)
        except Exception:  # noqa: BLE001 - a background thread must never die silently
            log.exception("order %s: runner failed", order_id)

    def recover(self) -> list[str]:
        """Resubmit every order that was queued or running when the process stopped."""
        active = [o.id for o in self.workflow.list_orders()
                  if o.status not in ("collecting", "awaiting_approval", "delivered", "failed",
                                      "cancelled", "deleted")]
        for order_id in active:
            self.submit(order_id)
        return active

    def wait(self, timeout: float | None = None) -> None:
        for future in list(self._pending.values()):
            future.result(timeout)

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

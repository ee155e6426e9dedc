"""The service's one timer thread: applies the retention schedule every
``purge_every_seconds`` (first at start) and sends due webhooks every
``webhook_every_seconds``. Each job is a plain function of the store, so a Celery beat (or
cron: ``headshots purge``) can run the same work instead; several service processes may all
run it safely (the purge and the webhook cursor and claims are idempotent)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

__all__ = ["Scheduler"]

log = logging.getLogger("headshots.api")


class Scheduler:
    def __init__(self) -> None:
        self._jobs: list[tuple[str, float, Callable[[], object]]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def every(self, seconds: float, name: str, job: Callable[[], object]) -> None:
        self._jobs.append((name, seconds, job))

    @property
    def jobs(self) -> list[str]:
        return [name for name, _, _ in self._jobs]

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="headshots-scheduler",
                                        daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        last = {name: float("-inf") for name, _, _ in self._jobs}
        while not self._stop.is_set():
            now = time.monotonic()
            for name, every, job in self._jobs:
                if now - last[name] >= every:
                    last[name] = now
                    try:
                        job()
                    except Exception:  # noqa: BLE001 - a timer job must never kill the timer
                        log.exception("scheduled job %s failed", name)
            wait = min((every for _, every, _ in self._jobs), default=1.0)
            self._stop.wait(min(wait, 1.0))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

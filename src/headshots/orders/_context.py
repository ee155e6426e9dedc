"""What a running stage is given: the store, the order's frozen parameters, the process's
runtime (face backend, model loading, device), its lease and its scratch folder."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from headshots.errors import HeadshotsError
from headshots.faces import FaceBackend
from headshots.orders._events import EventSink
from headshots.orders._lease import Lease
from headshots.orders._params import OrderParams
from headshots.store import Store
from headshots.store._models import OrderRow

__all__ = ["Cancelled", "Runtime", "StageContext"]


class Cancelled(HeadshotsError):
    """The order was cancelled while this stage ran; the stage stops at its next report."""


@dataclass
class Runtime:
    """Per-process resources, loaded once and shared by every order the process runs."""

    device: str = "auto"
    judge_workers: int = field(default_factory=lambda: min(2, os.cpu_count() or 1))
    backend_factory: Callable[[], FaceBackend] | None = None
    model_loader: Callable[[str], Any] | None = None
    # a worker keeps one base pipeline per (model, generation variant) for every order it
    # generates for; each order's LoRA is swapped in and taken out again (never shared)
    share_pipelines: bool = False
    _backend: FaceBackend | None = field(default=None, repr=False)
    _pipelines: dict[tuple[str, Any], Any] = field(default_factory=dict, repr=False)
    loads: int = 0  # base models loaded by this runtime (how often the cache missed)

    def backend(self) -> FaceBackend:
        if self._backend is None:
            if self.backend_factory is not None:
                self._backend = self.backend_factory()
            else:
                from headshots.faces import default_backend

                self._backend = default_backend()
        return self._backend

    def load_model(self, base_model: str) -> Any:
        """A fresh base model (training adds an adapter to it, so it is not shared)."""
        self.loads += 1
        if self.model_loader is not None:
            return self.model_loader(base_model)
        from headshots.finetune import load_base_model

        return load_base_model(base_model)

    def generation_model(self, base_model: str, variant: Any) -> Any:
        """The base model to generate with: this process's loaded one when pipelines are
        shared (``variant`` — precision, safety checker — is part of the key, since a
        generator converts and strips the pipeline it is given), else a fresh one."""
        if not self.share_pipelines:
            return self.load_model(base_model)
        key = (base_model, variant)
        if key not in self._pipelines:
            self._pipelines.clear()  # one base pipeline in memory at a time
            self._pipelines[key] = self.load_model(base_model)
        return self._pipelines[key]


@dataclass
class StageContext:
    store: Store
    order_id: str
    stage: str
    params: OrderParams
    runtime: Runtime
    lease: Lease
    sink: EventSink
    scratch: Path
    run_id: int
    _checked: float = 0.0

    def check(self) -> None:
        """Stop if the lease was lost or the order cancelled (looked up at most every 2 s)."""
        self.lease.check()
        now = time.monotonic()
        if now - self._checked < 2.0:
            return
        self._checked = now
        with self.store.db.session() as s:
            status = s.scalar(select(OrderRow.status).where(OrderRow.id == self.order_id))
        if status in ("cancelled", "deleted"):
            raise Cancelled(f"order {self.order_id} was {status}", "nothing to do")

    def progress(self, done: int, total: int, message: str = "") -> None:
        self.check()
        self.sink.emit("progress", self.stage, done, total, message, run_id=self.run_id)

"""The runner seam: how an order's stages get run once it is queued."""

from __future__ import annotations

from typing import Protocol

__all__ = ["Runner"]


class Runner(Protocol):
    def submit(self, order_id: str) -> None:
        """Have the order's next stages run (now, in the background, or on a worker)."""
        ...

"""A sliding-window rate limit per key (sign-in per address and e-mail, uploads per account).

It lives in the process: one service process (the embedded default) sees every request. Behind
several processes each keeps its own window, so the effective limit is that many times higher;
put the limit in the reverse proxy there too."""

from __future__ import annotations

import threading
import time
from collections import deque

from headshots.errors import RateLimited

__all__ = ["RateLimiter"]


class RateLimiter:
    def __init__(self, window_seconds: float = 60.0) -> None:
        self.window = window_seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, what: str) -> None:
        """Count one try under ``key``; raise ``RateLimited`` past ``limit`` per window."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= limit:
                wait = max(1, int(hits[0] + self.window - now) + 1)
                raise RateLimited(f"too many {what} in a short time ({limit} a minute)",
                                  f"wait {wait} s and try again", retry_after=wait)
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle keys so memory stays bounded
                for k in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                    del self._hits[k]

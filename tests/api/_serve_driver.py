"""``headshots serve`` in a child process for the restart test: each progress report of a
stage sleeps HEADSHOTS_TEST_DELAY seconds, so the test can kill the server mid-training."""

from __future__ import annotations

import os
import time

from headshots.cli import main
from headshots.orders._context import StageContext


def _patch(delay: float) -> None:
    original = StageContext.progress

    def slow(self: StageContext, done: int, total: int, message: str = "") -> None:
        time.sleep(delay)
        original(self, done, total, message)

    StageContext.progress = slow  # type: ignore[method-assign]


if __name__ == "__main__":
    _patch(float(os.environ.get("HEADSHOTS_TEST_DELAY", "0")))
    main(["serve", "--port", "0"])

"""Runs one order's workflow in a child process, for the crash and concurrency tests:
``python -m tests.orders._driver DATA_DIR DB_URL ORDER_ID DELAY``. Each progress report
sleeps DELAY seconds so the test can kill the process at a chosen point."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from headshots.config import Settings
from headshots.orders import Runtime, Workflow
from headshots.orders._context import StageContext
from headshots.store import Store


def main() -> None:
    data_dir, db_url, order_id, delay = sys.argv[1:5]
    original = StageContext.progress

    def slow(self: StageContext, done: int, total: int, message: str = "") -> None:
        time.sleep(float(delay))
        original(self, done, total, message)

    StageContext.progress = slow  # type: ignore[method-assign]
    store = Store(Settings(data_dir=Path(data_dir), database_url=db_url,
                           heartbeat_seconds=0.2, lease_seconds=30))
    workflow = Workflow(store, Runtime(device="cpu", judge_workers=1))
    order = workflow.advance(order_id, label="test driver")
    print(order.status, flush=True)


if __name__ == "__main__":
    main()

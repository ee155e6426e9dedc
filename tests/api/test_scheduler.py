"""The service's timer: the retention purge runs on start and on its interval, a failing job
never stops the timer."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import update

from headshots.api._scheduler import Scheduler
from headshots.store._models import OrderRow
from tests.api.conftest import account, make_client, new_order, service_settings, upload


def test_a_failing_job_does_not_stop_the_timer():
    ran: list[str] = []
    done = threading.Event()

    def bad() -> None:
        ran.append("bad")
        raise RuntimeError("boom")

    def good() -> None:
        ran.append("good")
        if ran.count("good") >= 3:
            done.set()

    s = Scheduler()
    s.every(0.01, "bad", bad)
    s.every(0.01, "good", good)
    s.start()
    try:
        assert done.wait(10)
    finally:
        s.stop()
    assert ran.count("bad") >= 2


def test_the_service_purges_on_schedule(tmp_path, sqlite_url, tiny, backend):
    from tests.api.conftest import photo

    settings = service_settings(tmp_path, sqlite_url, tiny, scheduler=True,
                                purge_every_seconds=0.2)
    with make_client(settings, backend) as c:
        a = account(c, "a@example.com")
        order_id = new_order(c, a)
        assert upload(c, a, order_id, "me.jpg", photo("obama")).status_code == 201
        store = c.app.state.services.store
        old = store.clock.now() - timedelta(days=8)  # untouched for longer than the schedule
        with store.db.session() as s:
            s.execute(update(OrderRow).where(OrderRow.id == order_id).values(
                last_activity_at=old, updated_at=old))
        deadline = time.monotonic() + 10
        while c.get(f"/api/v1/orders/{order_id}", headers=a).json()["status"] != "expired":
            assert time.monotonic() < deadline, "the purge did not run"
            time.sleep(0.1)
        receipts = c.get(f"/api/v1/orders/{order_id}/receipts", headers=a).json()
        assert receipts[0]["trigger"] == "schedule"
        assert receipts[0]["deleted"]["inputs"]["selfie"]["count"] == 1

"""The reaper and the retry backoff, on SQLite and PostgreSQL with a clock the test moves (the
worker tests run them for real; these pin the edges: who is re-sent, when, and when not)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from headshots.clock import FixedClock
from headshots.config import Settings, WorkerSettings
from headshots.orders import CONSENT_VERSION, ConsentChoice, OrderParams, Workflow, read_events
from headshots.orders._lease import claim, ensure_run
from headshots.runners import reap
from headshots.runners._reaper import mark_sent
from headshots.runners._tasks import backoff
from headshots.store import Store
from headshots.store._models import OrderRow, StageRunRow


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))


@pytest.fixture
def workflow(tmp_path, db_url, clock):
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, lease_seconds=30,
                        max_attempts=3, worker=WorkerSettings(requeue_after_seconds=600))
    store = Store(settings, clock=clock)
    yield Workflow(store)
    store.close()


def queued(workflow: Workflow, status: str = "queued") -> str:
    """An order past its check, as ``start`` leaves it (no stage run here)."""
    order_id = workflow.create_order(OrderParams(base_model="/models/none"),
                                     ConsentChoice(version=CONSENT_VERSION, keep_model=False))
    store = workflow.store
    run = ensure_run(store, order_id, "check")
    with store.db.session() as s:
        s.execute(update(StageRunRow).where(StageRunRow.id == run.id).values(status="done"))
        s.execute(update(OrderRow).where(OrderRow.id == order_id).values(status=status))
    return order_id


def test_a_stage_whose_heartbeat_stopped_is_freed_and_sent_again(workflow, clock):
    order_id, live_id = queued(workflow), queued(workflow)
    dead, _ = claim(workflow.store, order_id, "prepare", "celery worker|elsewhere|1|ab")
    live, _ = claim(workflow.store, live_id, "prepare", "celery worker|elsewhere|2|cd")
    assert dead is not None and live is not None
    clock.advance(seconds=20)
    live.renew()  # one keeps beating, the other stopped
    clock.advance(seconds=15)
    sent: list[tuple[str, str]] = []
    assert reap(workflow, lambda o, s: sent.append((o, s))) == [(order_id, "prepare")]
    assert sent == [(order_id, "prepare")]
    run = workflow.stage_runs(order_id)["prepare"]
    assert (run.status, run.lease_owner, run.attempts) == ("pending", None, 1)
    assert workflow.stage_runs(live_id)["prepare"].lease_owner == live.owner
    assert reap(workflow, lambda o, s: sent.append((o, s))) == []  # not twice


def test_a_stage_whose_worker_died_max_attempts_times_ends_the_order_failed(workflow, clock):
    order_id = queued(workflow)
    for i in range(3):  # three workers, each killed (for memory) mid-stage
        lease, _ = claim(workflow.store, order_id, "train", f"celery worker|elsewhere|{i}|ab")
        assert lease is not None
        clock.advance(seconds=31)
    sent: list[tuple[str, str]] = []
    assert reap(workflow, lambda o, s: sent.append((o, s))) == [] and sent == []
    order = workflow.get(order_id)
    assert order.status == "failed"
    assert order.error["problem"] == ("the train stage stopped 3 times without finishing (its "
                                      "worker process died each time, e.g. killed for memory)")
    assert workflow.stage_runs(order_id)["train"].status == "failed"
    failed = [e for e in read_events(workflow.store, order_id) if e.kind == "stage_failed"]
    assert [e.message for e in failed] == [order.error["problem"]]


def test_a_lost_message_is_sent_again_after_requeue_after_and_not_before(workflow, clock):
    order_id = queued(workflow)
    waiting = queued(workflow, "awaiting_approval")
    mark_sent(workflow.store, order_id, "prepare")
    sent: list[tuple[str, str]] = []
    clock.advance(seconds=599)
    assert reap(workflow, lambda o, s: sent.append((o, s))) == []  # may still be in the queue
    clock.advance(seconds=2)
    assert reap(workflow, lambda o, s: sent.append((o, s))) == [(order_id, "prepare")]
    mark_sent(workflow.store, order_id, "prepare")  # what the runner's send does
    clock.advance(seconds=300)
    assert reap(workflow, lambda o, s: sent.append((o, s))) == []
    assert waiting not in {o for o, _ in sent}  # the person's turn: nothing to send
    with workflow.store.db.session() as s:
        runs = list(s.scalars(select(StageRunRow).where(StageRunRow.order_id == waiting)))
    assert [r.stage for r in runs] == ["check"]


def test_retry_backoff_doubles_and_is_bounded():
    settings = Settings(worker=WorkerSettings(retry_backoff_seconds=10,
                                              retry_backoff_max_seconds=60))
    assert [backoff(settings, n) for n in range(1, 6)] == [10, 20, 40, 60, 60]
    assert timedelta(seconds=backoff(settings, 100)) == timedelta(seconds=60)


def test_a_redelivered_message_of_a_stage_killed_max_attempts_times_fails_the_order(
        workflow, clock, monkeypatch):
    import os
    import socket
    import subprocess
    import sys

    from headshots.runners import _tasks

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pool process that was killed mid-stage, on this machine
    order_id = queued(workflow)
    for _ in range(3):
        lease, _ = claim(workflow.store, order_id, "generate",
                         f"celery worker|{socket.gethostname()}|{gone.pid}|ab")
        assert lease is not None
    monkeypatch.setitem(_tasks._PER_PROCESS, os.getpid(), workflow)
    # the worker gave the message back; the next pool process must not start a fourth try
    assert _tasks.run_stage(None, order_id, "generate") == "failed"  # type: ignore[arg-type]
    order = workflow.get(order_id)
    assert order.status == "failed" and order.error["stage"] == "generate"
    assert "stopped 3 times without finishing" in order.error["problem"]
    assert workflow.stage_runs(order_id)["generate"].attempts == 3
    assert _tasks.run_stage(None, order_id, "generate") == "order failed"  # type: ignore[arg-type]


def test_a_message_for_a_deleted_or_unknown_order_runs_nothing(workflow, monkeypatch):
    import os

    from headshots.orders import delete_order
    from headshots.runners import _tasks

    order_id = queued(workflow)
    delete_order(workflow.store, order_id)
    monkeypatch.setitem(_tasks._PER_PROCESS, os.getpid(), workflow)
    assert _tasks.run_stage(None, order_id, "prepare") == "order deleted"  # type: ignore[arg-type]
    assert _tasks.run_part(None, order_id, "generate", "0/2") == "order deleted"  # type: ignore[arg-type]
    assert _tasks.run_stage(None, "ord_0000", "prepare") == "no such order"  # type: ignore[arg-type]
    assert "prepare" not in workflow.stage_runs(order_id)

"""Orders through real Celery workers on Redis and PostgreSQL (the Done-when of issue 10):
end to end with the purge, a worker killed mid-training and mid-generation, a message
delivered twice, a stage that always fails, Redis restarted mid-order."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from headshots.api import create_app
from headshots.config import ServiceSettings
from headshots.orders import Runtime
from headshots.runners import CeleryRunner, make_celery
from headshots.runners._celery import PURGE
from headshots.store import blobkeys
from headshots.store._models import BlobRow, CandidateRow, EventRow, StageRunRow
from tests.api.conftest import TINY_DEFAULTS, account, new_order, upload_selfies
from tests.api.conftest import wait_status as api_wait
from tests.orders.test_deletion import scanner_for
from tests.runners.conftest import queued_order, wait_for, wait_status

pytestmark = [pytest.mark.slow, pytest.mark.celery, pytest.mark.xdist_group("heavy")]


@pytest.fixture
def runner(settings, workflow):
    r = CeleryRunner(make_celery(settings), workflow)
    yield r
    r.shutdown()


def count(store, q) -> int:
    with store.db.session() as s:
        return int(s.scalar(q) or 0)


def events(store, order_id, kind, stage=None) -> list[EventRow]:
    with store.db.session() as s:
        q = select(EventRow).where(EventRow.order_id == order_id, EventRow.kind == kind)
        if stage:
            q = q.where(EventRow.stage == stage)
        return list(s.scalars(q.order_by(EventRow.id)))


def to_approval(workflow, runner, order_id, workers) -> None:
    runner.submit(order_id)
    wait_status(workflow, order_id, ("awaiting_approval",), workers)
    workflow.approve(order_id, force=True)


def test_an_order_end_to_end_through_the_service_and_workers_then_purged_by_a_worker(
        settings, start_worker, tiny, store, backend, photos):
    gpu, cpu = start_worker(queues="gpu", beat=False), start_worker(queues="cpu", beat=False)
    served = settings.model_copy(update={"service": ServiceSettings(
        scheduler=True, base_models={"tiny": str(tiny["sd15"])}, order_defaults=TINY_DEFAULTS)})
    runtime = Runtime(device="cpu", judge_workers=1, backend_factory=lambda: backend)
    with TestClient(create_app(served, store=store, runtime=runtime)) as client:
        services = client.app.state.services
        assert isinstance(services.runner, CeleryRunner)  # HEADSHOTS_BROKER_URL is set
        assert client.app.state.scheduler.jobs == ["webhooks"]  # beat purges, not the service
        a = account(client, "a@example.com")
        order_id = new_order(client, a)
        upload_selfies(client, a, order_id)
        assert client.post(f"/api/v1/orders/{order_id}/start", headers=a).status_code == 202
        api_wait(client, a, order_id, ("awaiting_approval",), timeout=150)
        r = client.post(f"/api/v1/orders/{order_id}/approve", json={"force": True}, headers=a)
        assert r.status_code in (200, 202), r.text
        api_wait(client, a, order_id, ("delivered",), timeout=150)
        workflow, runner = services.workflow, services.runner
    runs = workflow.stage_runs(order_id)
    assert {s: (r.status, r.attempts) for s, r in runs.items()} == {
        s: ("done", 1) for s in ("check", "prepare", "train", "preview", "generate", "judge",
                                 "deliver")}
    assert all(r.lease_owner is None for r in runs.values())  # every lease released
    assert [e.stage for e in events(store, order_id, "stage_started")] == [
        "check", "prepare", "train", "preview", "generate", "judge", "deliver"]
    assert count(store, select(func.count()).select_from(CandidateRow).where(
        CandidateRow.order_id == order_id, CandidateRow.area == "candidates")) == 6
    assert runs["deliver"].result["files"] > 0
    # the retention schedule, run by a worker (as beat sends it), removes the person
    scanner = scanner_for(store, order_id, backend, photos)
    later = (store.clock.now() + timedelta(days=400)).isoformat()
    runner.app.send_task(PURGE, kwargs={"as_of": later}, queue="cpu")
    wait_status(workflow, order_id, ("deleted",), [cpu], passing=("delivered",))
    assert scanner.scan_dir(store.data_dir) + scanner.scan_database(
        store.settings.resolved_database_url) == []
    assert not [p for p in (store.data_dir / "blobs").rglob("*") if p.is_file()]
    assert count(store, select(func.count()).select_from(BlobRow)) == 0
    assert gpu.proc.poll() is None and cpu.proc.poll() is None


def test_worker_killed_mid_training_resumes_from_its_last_checkpoint(
        workflow, runner, start_worker, tiny, store):
    worker = start_worker(delay=0.3, slow="train")
    order_id = queued_order(workflow, tiny, train_steps=12, train_overrides={
        "checkpoint_every": 3, "validation_steps": 2, "validation_images": 1, "min_photos": 1})
    runner.submit(order_id)
    wait_for(lambda: count(store, select(func.count()).select_from(BlobRow).where(
        BlobRow.order_id == order_id, BlobRow.kind == "checkpoint",
        BlobRow.key.endswith("training_state.pt"))) >= 1, "a stored checkpoint", [worker])
    held = workflow.stage_runs(order_id)["train"]
    assert held.status == "running"
    pid = int(held.lease_owner.split("|")[2])  # the pool process running the stage
    assert pid != worker.proc.pid
    os.kill(pid, signal.SIGKILL)
    # the worker gives the message back (acks late, reject on worker lost); a new pool
    # process takes the dead holder's lease at once and resumes
    wait_status(workflow, order_id, ("awaiting_approval",), [worker])
    train = workflow.stage_runs(order_id)["train"]
    assert train.status == "done" and train.attempts == 2
    assert train.result["resumed_from"] >= 3 and train.result["steps"] == 12
    assert len(events(store, order_id, "stage_started", "train")) == 2


def test_worker_killed_mid_generation_gives_the_exact_count_without_duplicates(
        workflow, runner, start_worker, tiny, store):
    slow = start_worker(delay=0.4, slow="generate")
    order_id = queued_order(workflow, tiny, candidates=12)
    to_approval(workflow, runner, order_id, [slow])
    runner.submit(order_id)
    area = (CandidateRow.order_id == order_id) & (CandidateRow.area == "candidates")
    wait_for(lambda: count(store, select(func.count()).select_from(CandidateRow)
                           .where(area)) >= 3, "3 candidates", [slow])
    slow.kill()  # the whole worker: its message stays unacknowledged in Redis
    made_before = count(store, select(func.count()).select_from(CandidateRow).where(area))
    assert 3 <= made_before < 12
    # a new worker's beat reaps the stage once its lease runs out and sends it again
    fresh = start_worker()
    wait_status(workflow, order_id, ("delivered",), [fresh])
    with store.db.session() as s:
        ids = list(s.scalars(select(CandidateRow.request_id).where(area)))
    assert len(ids) == 12 and len(set(ids)) == 12
    prefix = blobkeys.group_prefix(order_id, "results") + "candidates/"
    assert len(store.keys(order_id, prefix)) == 12
    assert len(list(store.blobs.list(prefix))) == 12
    runs = workflow.stage_runs(order_id)
    assert runs["generate"].attempts == 2 and runs["judge"].result["judged"] == 12


def test_a_message_delivered_twice_runs_its_stage_once(workflow, runner, start_worker, tiny,
                                                        store):
    worker = start_worker(delay=0.5, slow="train", concurrency=2)
    order_id = queued_order(workflow, tiny)
    runner.submit(order_id)
    wait_for(lambda: workflow.stage_runs(order_id).get("prepare", None) is not None
             and workflow.stage_runs(order_id)["prepare"].status == "done",
             "prepare done", [worker])
    runner.send(order_id, "train")  # the same message again while the first one runs
    wait_status(workflow, order_id, ("awaiting_approval",), [worker])
    runner.send(order_id, "train")  # and once more after it is done
    runner.send(order_id, "preview")
    wait_for(lambda: "already done" in worker.log.read_text(), "the late duplicate", [worker])
    runs = workflow.stage_runs(order_id)
    assert runs["train"].attempts == 1 and runs["preview"].attempts == 1
    assert len(events(store, order_id, "stage_started", "train")) == 1
    assert len(events(store, order_id, "stage_done", "train")) == 1
    assert "stage train busy" in worker.log.read_text()  # the early duplicate found it held


def test_a_stage_that_always_fails_ends_the_order_failed_after_n_tries(
        workflow, runner, start_worker, tiny, store):
    worker = start_worker(fail="train")
    order_id = queued_order(workflow, tiny)
    runner.submit(order_id)
    order = wait_status(workflow, order_id, ("failed",), [worker])
    n = store.settings.max_attempts
    train = workflow.stage_runs(order_id)["train"]
    assert train.status == "failed" and train.attempts == n
    assert order.error["stage"] == "train"
    assert order.error["problem"] == "the train stage failed unexpectedly (MemoryError)"
    failed = events(store, order_id, "stage_failed", "train")
    assert [e.message for e in failed] == [order.error["problem"]] * n
    starts = [e.at for e in events(store, order_id, "stage_started", "train")]
    waits = [(b - a).total_seconds() for a, b in zip(starts, starts[1:], strict=False)]
    assert len(starts) == n and all(w >= 0.2 for w in waits)  # backoff between tries
    assert "CUDA out of memory" not in str(order.error)  # the library's text stays in the log


def test_redis_restarted_mid_order_the_order_still_completes(
        workflow, runner, start_worker, tiny, store, redis_server):
    order_id = queued_order(workflow, tiny, train_steps=8)
    runner.submit(order_id)  # nobody consumes yet: the message waits in Redis...
    client = redis.Redis.from_url(redis_server.url)
    assert client.llen("gpu") == 1 or client.llen("cpu") == 1
    redis_server.restart()  # ...and is lost with it (no persistence)
    assert client.llen("gpu") == 0 and client.llen("cpu") == 0
    client.close()
    worker = start_worker(delay=0.3, slow="train")
    wait_for(lambda: workflow.stage_runs(order_id).get("train") is not None
             and workflow.stage_runs(order_id)["train"].status == "running",
             "training (the reaper sent the lost stage again)", [worker])
    redis_server.restart()  # while training runs: its message is gone, the stage goes on
    wait_status(workflow, order_id, ("awaiting_approval",), [worker])
    runs = workflow.stage_runs(order_id)
    assert runs["train"].attempts == 1 and runs["train"].result["steps"] == 8
    assert count(store, select(func.count()).select_from(StageRunRow).where(
        StageRunRow.order_id == order_id, StageRunRow.status != "done")) == 0


def test_one_orders_generation_fans_out_over_workers_in_chunks_and_in_for_judging(
        workflow, runner, start_worker, tiny, store):
    chunks = {"HEADSHOTS_WORKER__GENERATE_CHUNK_SIZE": "4"}
    workers = [start_worker(delay=0.3, slow="generate", settings=chunks, beat=i == 0)
               for i in range(2)]
    order_id = queued_order(workflow, tiny, candidates=12)
    to_approval(workflow, runner, order_id, workers)
    runner.submit(order_id)
    wait_status(workflow, order_id, ("delivered",), workers)
    with store.db.session() as s:
        parts = {r.part: r for r in s.scalars(select(StageRunRow).where(
            StageRunRow.order_id == order_id, StageRunRow.stage == "generate",
            StageRunRow.part != ""))}
        ids = list(s.scalars(select(CandidateRow.request_id).where(
            CandidateRow.order_id == order_id, CandidateRow.area == "candidates")))
    assert sorted(parts) == ["0/3", "1/3", "2/3"]
    assert all(r.status == "done" and r.attempts == 1 for r in parts.values())
    assert sum(r.result["made"] for r in parts.values()) == 12  # no chunk generated twice
    assert len({r.result["by"] for r in parts.values()}) >= 2  # on more than one worker
    assert len(ids) == 12 and len(set(ids)) == 12
    runs = workflow.stage_runs(order_id)
    assert runs["generate"].result == {"candidates": 12, "requests": 12, "stopped_early": 0,
                                       "parts": 3}
    assert runs["judge"].result["judged"] == 12
    assert len(events(store, order_id, "stage_started", "generate")) == 3
    assert len(events(store, order_id, "stage_done", "generate")) == 1

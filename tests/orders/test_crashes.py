"""kill -9 mid-training and mid-generation, then resume; two processes on one order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from headshots.clock import SystemClock
from headshots.errors import ConflictError
from headshots.orders import make_owner
from headshots.store import Store, blobkeys
from headshots.store._models import BlobRow, CandidateRow, StageRunRow
from tests.orders.conftest import add_photos, consent, tiny_params

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(settings):  # real time: the child process and this one share the lease clock
    s = Store(settings, clock=SystemClock())
    yield s
    s.close()


def _child(store: Store, order_id: str, delay: float) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.orders._driver", str(store.settings.data_dir),
         store.settings.resolved_database_url, order_id, str(delay)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def _wait_for(condition, child, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert child.poll() is None, "the child process ended before the point to kill it"
        assert time.monotonic() < deadline, "timed out waiting for the child"
        time.sleep(0.1)


def _count(store: Store, q) -> int:
    with store.db.session() as s:
        return int(s.scalar(q) or 0)


def _queued_order(workflow, tiny, **params) -> str:
    order_id = workflow.create_order(tiny_params(tiny["sd15"], **params), consent())
    add_photos(workflow, order_id)
    workflow.start(order_id)
    return order_id


def test_kill_mid_training_resumes_from_the_stored_checkpoint(workflow, store, tiny):
    order_id = _queued_order(workflow, tiny, train_steps=12,
                             train_overrides={"checkpoint_every": 3, "validation_steps": 2,
                                              "validation_images": 1, "min_photos": 1})
    child = _child(store, order_id, 0.3)
    try:
        _wait_for(lambda: _count(store, select(func.count()).select_from(BlobRow).where(
            BlobRow.order_id == order_id, BlobRow.kind == "checkpoint",
            BlobRow.key.endswith("training_state.pt"))) >= 1, child)
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
    run = workflow.stage_runs(order_id)["train"]
    assert run.status == "running" and "test driver" in (run.lease_owner or "")
    # resumed at once: the lease holder's process is gone, so it is taken over
    order = workflow.advance(order_id)
    assert order.status == "awaiting_approval"
    train = workflow.stage_runs(order_id)["train"]
    assert train.status == "done" and train.attempts == 2
    assert train.result["resumed_from"] >= 3 and train.result["steps"] == 12
    assert not any(p.is_file() for p in (store.data_dir / "scratch").rglob("*"))


def test_kill_mid_generation_gives_the_exact_count_without_duplicates(workflow, store, tiny):
    order_id = _queued_order(workflow, tiny, candidates=12)
    workflow.advance(order_id)
    workflow.approve(order_id, force=True)
    area = (CandidateRow.order_id == order_id) & (CandidateRow.area == "candidates")
    child = _child(store, order_id, 0.4)
    try:
        _wait_for(lambda: _count(store, select(func.count()).select_from(CandidateRow)
                                 .where(area)) >= 3, child)
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
    made_before = _count(store, select(func.count()).select_from(CandidateRow).where(area))
    assert 3 <= made_before < 12
    order = workflow.advance(order_id)
    assert order.status == "delivered"
    with store.db.session() as s:
        ids = list(s.scalars(select(CandidateRow.request_id).where(area)))
    assert len(ids) == 12 and len(set(ids)) == 12
    keys = store.keys(order_id, blobkeys.group_prefix(order_id, "results") + "candidates/")
    assert len(keys) == 12
    assert len(list(store.blobs.list(blobkeys.group_prefix(order_id, "results")
                                     + "candidates/"))) == 12
    assert workflow.stage_runs(order_id)["judge"].result["judged"] == 12


def test_two_processes_on_one_order_one_runs_the_other_is_told(workflow, store, tiny):
    order_id = _queued_order(workflow, tiny, train_steps=12)
    child = _child(store, order_id, 0.3)
    try:
        _wait_for(lambda: _count(store, select(func.count()).select_from(StageRunRow).where(
            StageRunRow.order_id == order_id, StageRunRow.stage == "train",
            StageRunRow.status == "running")) == 1, child)
        with pytest.raises(ConflictError, match=r"is being run by test driver \(pid \d+ on "):
            workflow.advance(order_id)
        # a duplicate message for the same stage runs nothing
        assert workflow.run_stage(order_id, "train", make_owner("duplicate")).status == "busy"
        out, _ = child.communicate(timeout=300)
        assert out.decode().strip() == "awaiting_approval"
    finally:
        if child.poll() is None:
            child.kill()
    assert workflow.stage_runs(order_id)["train"].attempts == 1

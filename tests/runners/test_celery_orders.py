"""Orders through real Celery workers on Redis and PostgreSQL (the Done-when of issue 10)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from headshots.runners import CeleryRunner, make_celery
from headshots.store._models import CandidateRow, EventRow
from tests.runners.conftest import queued_order, wait_status

pytestmark = [pytest.mark.slow, pytest.mark.celery, pytest.mark.xdist_group("celery")]


@pytest.fixture
def runner(settings, workflow):
    r = CeleryRunner(make_celery(settings), workflow)
    yield r
    r.shutdown()


def test_an_order_end_to_end_through_workers(workflow, runner, start_worker, tiny, store):
    gpu, cpu = start_worker(queues="gpu"), start_worker(queues="cpu", beat=False)
    order_id = queued_order(workflow, tiny)
    runner.submit(order_id)
    wait_status(workflow, order_id, ("awaiting_approval",), [gpu, cpu])
    workflow.approve(order_id, force=True)
    runner.submit(order_id)
    wait_status(workflow, order_id, ("delivered",), [gpu, cpu])
    runs = workflow.stage_runs(order_id)
    assert {s: r.attempts for s, r in runs.items()} == {s: 1 for s in runs}
    owners = {}
    with store.db.session() as s:
        started = list(s.scalars(select(EventRow).where(EventRow.order_id == order_id,
                                                        EventRow.kind == "stage_started")))
        made = s.scalar(select(func.count()).select_from(CandidateRow).where(
            CandidateRow.order_id == order_id, CandidateRow.area == "candidates"))
    assert [e.stage for e in started] == ["check", "prepare", "train", "preview", "generate",
                                          "judge", "deliver"]
    assert made == 6
    del owners

"""The Celery runner: a message "run stage S of order O" per stage, on two queues.

The database is the truth; the broker only carries those messages. Every message is safe to
lose (beat's reaper sends it again) and safe to get twice (the stage's lease turns the second
one away). Long GPU stages are why the settings below matter (docs/scale-out.md):

- ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged after its
  stage, so a worker that dies mid-stage gives it back instead of losing it;
- ``worker_prefetch_multiplier=1`` and the fair pool strategy: a worker takes the next stage
  only when it is free, instead of hoarding long tasks behind a running one (celery #3434);
- Redis ``visibility_timeout`` above the longest stage, or Redis hands a training that is
  still running to a second worker (celery #5935; the lease makes that harmless, not free).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from headshots.config import Settings
from headshots.orders import Workflow

if TYPE_CHECKING:
    from celery import Celery

__all__ = ["QUEUES", "CeleryRunner", "build_runner", "make_celery", "queue_for"]

log = logging.getLogger("headshots.runners")

# GPU stages load the diffusion model; CPU stages only need the face backend
QUEUES: dict[str, tuple[str, ...]] = {
    "gpu": ("train", "preview", "generate"),
    "cpu": ("check", "prepare", "judge", "deliver", "purge", "reap"),
}
RUN_STAGE, RUN_PART = "headshots.run_stage", "headshots.run_part"
PURGE, REAP = "headshots.purge", "headshots.reap"
# publishing survives a broker restart of about a minute; after that the reaper re-sends
PUBLISH_RETRY = {"max_retries": 20, "interval_start": 0.2, "interval_step": 0.5,
                 "interval_max": 3.0}


def queue_for(stage: str) -> str:
    for queue, stages in QUEUES.items():
        if stage in stages:
            return queue
    raise ValueError(f"no queue for stage {stage!r}")


def make_celery(settings: Settings) -> Celery:
    """The Celery app of this deployment, from ``settings`` (the broker must be set)."""
    from celery import Celery
    from kombu import Queue

    from headshots.errors import ConfigError

    if not settings.broker_url:
        raise ConfigError("no broker is configured",
                          "set HEADSHOTS_BROKER_URL, e.g. redis://localhost:6379/0")
    app = Celery("headshots", broker=settings.broker_url, set_as_current=False)
    worker = settings.worker
    app.conf.update(
        task_queues=[Queue(name) for name in QUEUES],
        task_default_queue="cpu",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,  # the database holds every outcome
        task_publish_retry=True,
        task_publish_retry_policy=PUBLISH_RETRY,
        task_serializer="json", accept_content=["json"],
        broker_connection_retry=True,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker waits out a broker restart
        # the stage goes on while the broker is away; its lease keeps it single
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_transport_options={"visibility_timeout": worker.visibility_timeout_seconds},
        beat_schedule={
            "purge": {"task": PURGE, "schedule": settings.service.purge_every_seconds,
                      "options": {"queue": "cpu", "expires": settings.service.purge_every_seconds}},
            "reap": {"task": REAP, "schedule": worker.reap_every_seconds,
                     "options": {"queue": "cpu", "expires": worker.reap_every_seconds}},
        },
        beat_schedule_filename=str(worker.beat_schedule_file
                                   or settings.data_dir / "celerybeat-schedule"),
    )
    from headshots.runners._tasks import register

    register(app)
    return app


class CeleryRunner:
    """``submit`` sends the order's next stage to its queue; the workers do the rest."""

    label = "celery"

    def __init__(self, app: Celery, workflow: Workflow) -> None:
        self.app, self.workflow = app, workflow

    def submit(self, order_id: str) -> None:
        stage = self.workflow.next_stage(order_id)
        if stage is not None:
            self.send(order_id, stage)

    def send(self, order_id: str, stage: str, countdown: float | None = None,
             part: str = "") -> None:
        """Send "run stage S (part P) of order O" to the stage's queue."""
        from headshots.runners._reaper import mark_sent

        mark_sent(self.workflow.store, order_id, stage, part)
        task, args = (RUN_PART, (order_id, stage, part)) if part else (RUN_STAGE,
                                                                      (order_id, stage))
        self.app.send_task(task, args=args, queue=queue_for(stage), countdown=countdown,
                           retry=True, retry_policy=PUBLISH_RETRY)
        log.info("order %s: stage %s%s sent to the %s queue", order_id, stage,
                 f" part {part}" if part else "", queue_for(stage))

    def shutdown(self) -> None:
        self.app.close()


def build_runner(settings: Settings, workflow: Workflow, **in_process: Any) -> Any:
    """The Celery runner when a broker is set, else the in-process one with ``in_process``."""
    if settings.broker_url:
        return CeleryRunner(make_celery(settings), workflow)
    from headshots.runners._inprocess import InProcessRunner

    return InProcessRunner(workflow, **in_process)

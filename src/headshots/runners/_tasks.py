"""What a worker runs: one stage of one order, the retention purge, the reaper.

Each worker process opens its own store (after the pool forked it: a database connection is
never shared across a fork) and keeps it, with its face backend and models, for every order
it runs.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from headshots.config import Settings
from headshots.errors import HeadshotsError

if TYPE_CHECKING:
    from celery import Celery

    from headshots.orders import Workflow

__all__ = ["register", "worker_workflow"]

log = logging.getLogger("headshots.runners")
_PER_PROCESS: dict[int, Workflow] = {}


def worker_workflow() -> Workflow:
    """This process's workflow, from the environment's settings (made on first use)."""
    wf = _PER_PROCESS.get(os.getpid())
    if wf is None:
        from headshots.orders import Runtime, Workflow
        from headshots.store import open_store

        settings = Settings()
        # one process per stage: a pool process may not start its own (the judge's pool);
        # more judging at once is more worker concurrency
        wf = Workflow(open_store(settings), Runtime(device=settings.worker.device,
                                                    judge_workers=1, share_pipelines=True))
        _PER_PROCESS.clear()  # a parent's store (before a fork) is not ours to use
        _PER_PROCESS[os.getpid()] = wf
    return wf


def backoff(settings: Settings, attempts: int) -> float:
    """Seconds before try ``attempts + 1``: doubling from the base, never above the maximum."""
    w = settings.worker
    return min(w.retry_backoff_seconds * 2 ** max(attempts - 1, 0), w.retry_backoff_max_seconds)


def _holder_gone(wf: Workflow, run: Any) -> bool:
    from headshots.orders._lease import _holder_is_dead

    now = wf.store.clock.now()
    return run.lease_until is None or run.lease_until < now or _holder_is_dead(run.lease_owner)


def _finished_or_exhausted(wf: Workflow, order_id: str, stage: str, part: str = ""
                           ) -> str | None:
    """What to answer without running: the stage (part) is finished, or its worker died
    ``max_attempts`` times (then the order fails here instead of a further try)."""
    from headshots.orders._lease import ensure_run
    from headshots.runners._reaper import give_up

    try:
        status = wf.get(order_id).status
    except HeadshotsError:
        return "no such order"
    if status in ("failed", "cancelled", "expired", "deleted"):
        return f"order {status}"  # nothing more runs for it
    run = ensure_run(wf.store, order_id, stage, part)
    if run.status in ("done", "failed"):
        return f"already {run.status}"  # a duplicate or late message: nothing to do
    if (run.status == "running" and _holder_gone(wf, run)
            and run.attempts >= wf.store.settings.max_attempts):
        give_up(wf, run)
        return "failed"
    return None


def _parts(wf: Workflow, order_id: str, stage: str) -> list[str]:
    from headshots.orders._parts import PARTED, part_names

    chunk = wf.store.settings.worker.generate_chunk_size
    if stage not in PARTED or not chunk:
        return []
    return part_names(wf.params(order_id).candidates, chunk)


def run_stage(app: Celery, order_id: str, stage: str) -> str:
    """Run one stage (or send its parts); then send the next one, or this one again after a
    backoff."""
    from headshots.orders import make_owner
    from headshots.runners._celery import CeleryRunner

    wf = worker_workflow()
    runner = CeleryRunner(app, wf)
    early = _finished_or_exhausted(wf, order_id, stage)
    if early is not None:
        return early
    parts = _parts(wf, order_id, stage)
    if parts:  # fan out: one message per part not done yet; the last part fans in
        runs = {r.part: r for r in _part_runs(wf, order_id, stage)}
        todo = [p for p in parts if p not in runs or runs[p].status != "done"]
        for part in todo:
            runner.send(order_id, stage, part=part)
        if not todo:
            return _fan_in(runner, order_id, stage, parts)
        return f"sent {len(todo)} parts"
    try:
        outcome = wf.run_stage(order_id, stage, make_owner("celery worker"))
    except HeadshotsError as exc:  # e.g. the order was deleted meanwhile
        log.info("order %s: stage %s not run: %s", order_id, stage, exc.problem)
        return "refused"
    log.info("order %s: stage %s %s", order_id, stage, outcome.status)
    if outcome.status == "done":
        runner.submit(order_id)
    elif outcome.status == "retry":
        attempts = wf.stage_runs(order_id)[stage].attempts
        runner.send(order_id, stage, countdown=backoff(wf.store.settings, attempts))
    return outcome.status


def _part_runs(wf: Workflow, order_id: str, stage: str) -> list[Any]:
    from sqlalchemy import select

    from headshots.store._models import StageRunRow

    with wf.store.db.session() as s:
        return list(s.scalars(select(StageRunRow).where(
            StageRunRow.order_id == order_id, StageRunRow.stage == stage,
            StageRunRow.part != "")))


def _fan_in(runner: Any, order_id: str, stage: str, parts: list[str]) -> str:
    from headshots.orders import make_owner
    from headshots.orders._parts import fan_in

    outcome = fan_in(runner.workflow, order_id, stage, parts, make_owner("celery worker"))
    if outcome is None:
        return "parts left"
    if outcome.status == "done":
        runner.submit(order_id)
    return f"fan-in {outcome.status}"


def run_part(app: Celery, order_id: str, stage: str, part: str) -> str:
    """Run one part of a stage; the part that finds every part done fans in."""
    from headshots.orders import make_owner
    from headshots.orders._parts import run_part as run_one
    from headshots.runners._celery import CeleryRunner

    wf = worker_workflow()
    runner = CeleryRunner(app, wf)
    early = _finished_or_exhausted(wf, order_id, stage, part)
    if early is not None:
        return early
    try:
        outcome = run_one(wf, order_id, stage, part, make_owner("celery worker"))
    except HeadshotsError as exc:
        log.info("order %s: stage %s part %s not run: %s", order_id, stage, part, exc.problem)
        return "refused"
    log.info("order %s: stage %s part %s %s", order_id, stage, part, outcome.status)
    if outcome.status == "done":
        return _fan_in(runner, order_id, stage, _parts(wf, order_id, stage))
    if outcome.status == "retry":
        attempts = next(r.attempts for r in _part_runs(wf, order_id, stage) if r.part == part)
        runner.send(order_id, stage, backoff(wf.store.settings, attempts), part=part)
    return outcome.status


def register(app: Celery) -> None:
    from headshots.runners._celery import PURGE, REAP, RUN_PART, RUN_STAGE

    @app.task(name=RUN_STAGE, ignore_result=True)
    def _run_stage(order_id: str, stage: str) -> str:
        return run_stage(app, order_id, stage)

    @app.task(name=RUN_PART, ignore_result=True)
    def _run_part(order_id: str, stage: str, part: str) -> str:
        return run_part(app, order_id, stage, part)

    @app.task(name=PURGE, ignore_result=True)
    def _purge(as_of: str | None = None) -> int:
        """The retention schedule (as of ``as_of``, ISO 8601, like ``headshots purge``)."""
        from datetime import datetime

        from headshots.orders import purge

        when = datetime.fromisoformat(as_of) if as_of else None
        return len(purge(worker_workflow().store, as_of=when))

    @app.task(name=REAP, ignore_result=True)
    def _reap() -> int:
        from headshots.runners._celery import CeleryRunner
        from headshots.runners._reaper import reap

        wf = worker_workflow()
        return len(reap(wf, CeleryRunner(app, wf).send))

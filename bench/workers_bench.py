"""Benchmark: orders per hour through 1, 2 and 4 Celery worker processes, and the orchestration
overhead per stage (queue + database) against the in-process runner, on the tiny model.

Run: .venv/bin/python bench/workers_bench.py [--quick]
Starts its own redis-server (no persistence) on a free loopback port and a fresh PostgreSQL
database (HEADSHOTS_BENCH_PG, default postgresql+psycopg://postgres@127.0.0.1:5432), builds the
tiny random model, then for each scenario queues the same number of tiny orders (photos checked
before the clock starts), approves each preview at once and times the last delivery:

- 1, 2 and 4 worker processes (``headshots worker --queues gpu,cpu``), started and ready
  before the clock starts, all orders queued at once: throughput;
- the orders one after another in this process (``Workflow.advance``), and one after another
  through one worker: the orchestration overhead per stage, the time from one stage's
  ``stage_done`` event to the next stage's ``stage_started`` (send, pick-up, lease claim,
  status writes), over every consecutive pair of stages (the wait for approval left out).
"""

from __future__ import annotations

import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

PG = os.environ.get("HEADSHOTS_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
PHOTOS = {"a.jpg": "obama", "b.jpg": "obama2", "c.jpg": "obama3"}
TINY: dict[str, Any] = dict(
    resolution=64, candidates=4, top=2, preview_count=2, sample_steps=2, early_reject=False,
    allow_unready=True, train_steps=2, styles=("corporate-grey",),
    train_overrides={"checkpoint_every": 2, "validation_steps": 2, "validation_images": 1,
                     "min_photos": 1})
FINAL = ("delivered", "failed", "cancelled", "expired", "deleted")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Env:
    """Redis, a PostgreSQL database and a data folder of this run; removed at the end."""

    def __init__(self, folder: Path) -> None:
        import base64

        from sqlalchemy import create_engine, text

        self.folder, self.port = folder, _free_port()
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.db = "hs_bench_" + secrets.token_hex(6)
        self.admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.db}"'))
        self.vars = {
            "HEADSHOTS_DATA_DIR": str(folder / "data"), "HEADSHOTS_DATABASE_URL": f"{PG}/{self.db}",
            "HEADSHOTS_BROKER_URL": f"redis://127.0.0.1:{self.port}/0",
            "HEADSHOTS_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
            "HEADSHOTS_WORKER__DEVICE": "cpu"}

    def close(self) -> None:
        from sqlalchemy import text

        self.redis.kill()
        self.redis.wait()
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)'))
        self.admin.dispose()


def _workflow(env: _Env, broker: bool) -> Any:
    from headshots.config import Settings
    from headshots.orders import Runtime, Workflow
    from headshots.store import Store

    values = {k.removeprefix("HEADSHOTS_").lower(): v for k, v in env.vars.items()
              if not k.startswith("HEADSHOTS_WORKER__")}
    if not broker:
        values.pop("broker_url")
    return Workflow(Store(Settings(**values)), Runtime(device="cpu", judge_workers=1))


def _queue_orders(workflow: Any, model: Path, n: int) -> list[str]:
    from headshots.orders import CONSENT_VERSION, ConsentChoice, OrderParams

    data = ROOT / "tests" / "data"
    ids = []
    for _ in range(n):
        order_id = workflow.create_order(OrderParams(base_model=str(model), **TINY),
                                         ConsentChoice(version=CONSENT_VERSION, keep_model=False))
        for name, photo in PHOTOS.items():
            workflow.add_photo(order_id, name, (data / f"{photo}.jpg").read_bytes())
        workflow.start(order_id)
        ids.append(order_id)
    return ids


def _gaps(workflow: Any, order_ids: list[str]) -> list[float]:
    """Seconds from each stage_done to the next stage_started (approval waits left out)."""
    from headshots.orders import read_events

    gaps = []
    for order_id in order_ids:
        done_at = None
        for e in read_events(workflow.store, order_id):
            if e.kind == "stage_done" and e.stage != "preview":
                done_at = e.at
            elif e.kind == "stage_started" and done_at is not None:
                gaps.append((e.at - done_at).total_seconds())
                done_at = None
            elif e.kind == "stage_done":
                done_at = None
    return gaps


def _in_process(env: _Env, model: Path, n: int) -> tuple[float, list[float]]:
    workflow = _workflow(env, broker=False)
    ids = _queue_orders(workflow, model, n)
    t0 = time.perf_counter()
    for order_id in ids:
        workflow.advance(order_id)
        workflow.approve(order_id, force=True)
        assert workflow.advance(order_id).status == "delivered"
    return time.perf_counter() - t0, _gaps(workflow, ids)


def _start_workers(env: _Env, count: int, logs: Path) -> list[subprocess.Popen[bytes]]:
    child_env = {**os.environ, **env.vars, "PYTHONPATH": str(ROOT / "src")}
    procs = []
    for i in range(count):
        log = logs / f"worker-{count}-{i}.log"
        with log.open("wb") as out:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "headshots", "worker", "--queues", "gpu,cpu",
                 "--concurrency", "1", "--loglevel", "info"], env=child_env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True))
    deadline = time.monotonic() + 120
    for i in range(count):  # ready: connected to the broker and consuming
        log = logs / f"worker-{count}-{i}.log"
        while " ready." not in log.read_text(errors="replace"):
            if time.monotonic() > deadline or procs[i].poll() is not None:
                raise RuntimeError(f"worker did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
    return procs


def _through_workers(env: _Env, model: Path, n: int, count: int,
                     one_at_a_time: bool = False) -> tuple[float, list[float]]:
    """All ``n`` orders queued at once (throughput), or one after another (the overhead:
    no stage waits in the queue behind another order's)."""
    import signal

    from headshots.runners import CeleryRunner, make_celery

    workflow = _workflow(env, broker=True)
    runner = CeleryRunner(make_celery(workflow.store.settings), workflow)
    ids = _queue_orders(workflow, model, n)
    procs = _start_workers(env, count, env.folder)
    try:
        t0 = time.perf_counter()
        for order_id in ids:
            runner.submit(order_id)
            if one_at_a_time:
                _until_delivered(workflow, runner, [order_id])
        _until_delivered(workflow, runner, ids)
        elapsed = time.perf_counter() - t0
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        runner.shutdown()
    return elapsed, _gaps(workflow, ids)


def _until_delivered(workflow: Any, runner: Any, ids: list[str]) -> None:
    """Approve each preview at once; return when every order is delivered."""
    pending = set(ids)
    while pending:
        for order_id in list(pending):
            status = workflow.get(order_id).status
            if status == "awaiting_approval":
                workflow.approve(order_id, force=True)
                runner.submit(order_id)
            elif status in FINAL:
                assert status == "delivered", (order_id, status, workflow.get(order_id).error)
                pending.discard(order_id)
        time.sleep(0.05)


def run(quick: bool = False) -> dict[str, Any]:
    from headshots.testing.tiny_models import build_tiny_pipeline

    n = 4 if quick else 8
    with tempfile.TemporaryDirectory(prefix="hs-workers-bench-") as tmp:
        folder = Path(tmp)
        model = build_tiny_pipeline(folder / "tiny", "sd15")
        env = _Env(folder)
        try:
            rows: dict[str, Any] = {"orders": n}
            rows["in-process"] = _in_process(env, model, n)
            rows["1 worker, one order at a time"] = _through_workers(env, model, n, 1, True)
            for count in (1, 2, 4):
                rows[f"{count} workers"] = _through_workers(env, model, n, count)
        finally:
            env.close()
    return rows


def markdown_section(quick: bool = False) -> str:
    rows = run(quick)
    n = rows["orders"]
    base = rows["1 workers"][0]
    inproc_wall, inproc_gaps = rows["in-process"]
    serial_wall, serial_gaps = rows["1 worker, one order at a time"]
    gap, celery_gap = statistics.median(inproc_gaps), statistics.median(serial_gaps)
    lines = [
        "## Scale-out: orders through Celery workers (tiny model)", "",
        f"{n} tiny orders per row (check → deliver, 2 training steps, 4 candidates), Redis and "
        f"PostgreSQL on this machine ({os.cpu_count()} cores).", "",
        "| worker processes (orders queued at once) | wall (s) | orders / hour | "
        "throughput vs 1 worker |", "|---|---:|---:|---:|",
    ]
    for count in (1, 2, 4):
        wall = rows[f"{count} workers"][0]
        lines.append(f"| {count} | {wall:.1f} | {n / wall * 3600:.0f} | {base / wall:.2f}× |")
    lines += [
        "", "| orders one at a time | wall (s) | stage-to-stage overhead, median (ms) | "
        "overhead vs in-process |", "|---|---:|---:|---:|",
        f"| in-process runner | {inproc_wall:.1f} | {gap * 1000:.0f} | 1.0× |",
        f"| 1 Celery worker | {serial_wall:.1f} | {celery_gap * 1000:.0f} | "
        f"{celery_gap / gap:.1f}× |",
        "", "Method: one run of `bench/workers_bench.py` (`--quick`: 4 orders per row, else 8); "
        "photos are checked before the clock starts, previews approved at once, the clock "
        "stops at the last delivery. The overhead is the time from a stage's `stage_done` "
        "event to the next stage's `stage_started` (Celery: send to Redis, pick-up, lease "
        "claim, status writes; in-process: the same claim and writes), median over every "
        "stage of every order; the worker's wall also holds its first model and face-model "
        "loads and the wait for approval by polling. More worker processes than cores only "
        "share the cores.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_section(quick="--quick" in sys.argv))

"""Orders through real Celery workers: a Redis server of this module's own (restartable without
disturbing anyone), a fresh PostgreSQL database per test, worker subprocesses started with
``headshots worker`` (through ``tests.runners._worker``, which can slow or break a stage), the
real face backend and the tiny random diffusion model."""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from headshots.clock import SystemClock
from headshots.config import Settings, WorkerSettings
from headshots.orders import Runtime, Workflow
from headshots.store import Store
from tests.conftest import fresh_pg_database
from tests.orders.conftest import add_photos, consent, tiny_params

ROOT = Path(__file__).resolve().parents[2]
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"  # needed: never skipped
FINAL = ("delivered", "failed", "cancelled", "expired", "deleted")
# short leases and quick reaping: a stalled stage is noticed in seconds, not minutes
FAST = {"HEADSHOTS_LEASE_SECONDS": "4", "HEADSHOTS_HEARTBEAT_SECONDS": "0.5",
        "HEADSHOTS_WORKER__REAP_EVERY_SECONDS": "1", "HEADSHOTS_WORKER__REQUEUE_AFTER_SECONDS": "6",
        "HEADSHOTS_WORKER__RETRY_BACKOFF_SECONDS": "0.2",
        "HEADSHOTS_WORKER__RETRY_BACKOFF_MAX_SECONDS": "1", "HEADSHOTS_WORKER__DEVICE": "cpu"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """redis-server without persistence: a restart loses every queued message."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self, down_for: float = 1.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_pg_database("hs_celery_") as url:
        yield url


@pytest.fixture
def env(tmp_path, pg_url, redis_server) -> dict[str, str]:
    """The environment every process of the test shares (workers, the CLI, this one)."""
    key = base64.b64encode(os.urandom(32)).decode()
    return {"HEADSHOTS_DATA_DIR": str(tmp_path / "data"), "HEADSHOTS_DATABASE_URL": pg_url,
            "HEADSHOTS_BROKER_URL": redis_server.url, "HEADSHOTS_MASTER_KEY": key,
            "HEADSHOTS_WORKER__BEAT_SCHEDULE_FILE": str(tmp_path / "beat"), **FAST}


@pytest.fixture
def settings(env) -> Settings:
    fast = {k.removeprefix("HEADSHOTS_WORKER__").lower(): v for k, v in FAST.items()
            if k.startswith("HEADSHOTS_WORKER__")}
    return Settings(data_dir=Path(env["HEADSHOTS_DATA_DIR"]),
                    database_url=env["HEADSHOTS_DATABASE_URL"],
                    broker_url=env["HEADSHOTS_BROKER_URL"], master_key=env["HEADSHOTS_MASTER_KEY"],
                    lease_seconds=float(FAST["HEADSHOTS_LEASE_SECONDS"]),
                    heartbeat_seconds=float(FAST["HEADSHOTS_HEARTBEAT_SECONDS"]),
                    worker=WorkerSettings(**fast))


@pytest.fixture
def store(settings) -> Iterator[Store]:
    s = Store(settings, clock=SystemClock())  # real time: the workers share the lease clock
    yield s
    s.close()


@pytest.fixture
def workflow(store, backend) -> Workflow:
    return Workflow(store, Runtime(device="cpu", judge_workers=1, backend_factory=lambda: backend))


class Worker:
    def __init__(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.proc, self.log = proc, log

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes: the machine is gone."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@pytest.fixture
def start_worker(env, tmp_path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(*, queues: str = "gpu,cpu", beat: bool = True, delay: float = 0.0,
              slow: str | None = None, fail: str | None = None, concurrency: int = 1,
              settings: dict[str, str] | None = None) -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        cmd = [sys.executable, "-m", "tests.runners._worker", "--delay", str(delay)]
        if slow:
            cmd += ["--slow", slow]
        if fail:
            cmd += ["--fail", fail]
        cmd += ["--", "--queues", queues, "--concurrency", str(concurrency),
                "--loglevel", "info"] + (["--beat"] if beat else [])
        child_env = {**os.environ, **env, **(settings or {}),
                     "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        worker = Worker(proc, log)
        started.append(worker)
        return worker

    yield start
    for w in started:
        w.kill()


def queued_order(workflow: Workflow, tiny: dict[str, Path], **params: Any) -> str:
    order_id = workflow.create_order(tiny_params(tiny["sd15"], **params), consent())
    add_photos(workflow, order_id)
    workflow.start(order_id)
    return order_id


def wait_for(condition: Callable[[], Any], what: str, workers: list[Worker] = (),  # type: ignore[assignment]
             timeout: float = 150.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        for w in workers:
            assert w.proc.poll() is None, f"a worker ended:\n{w.tail()}"
        if time.monotonic() > deadline:
            logs = "\n".join(w.tail() for w in workers)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.2)


def wait_status(workflow: Workflow, order_id: str, wanted: tuple[str, ...],
                workers: list[Worker] = (), timeout: float = 150.0,  # type: ignore[assignment]
                passing: tuple[str, ...] = ()) -> Any:
    """Wait for one of ``wanted``; any other final status (but ``passing``) fails at once."""
    def reached() -> Any:
        order = workflow.get(order_id)
        assert order.status in wanted + passing or order.status not in FINAL, \
            f"order {order.status}: {order.error}"
        return order if order.status in wanted else None

    return wait_for(reached, f"order {order_id} to be {' or '.join(wanted)}", workers, timeout)

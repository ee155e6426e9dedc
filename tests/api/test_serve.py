"""`headshots serve`: one command, prints its URL; production refuses development secrets;
a server killed mid-training resumes the order when it starts again, and the order completes."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from headshots.api import create_app
from headshots.api._accounts import AccountService
from headshots.cli import app as cli
from headshots.config import ServiceSettings, Settings
from headshots.orders import CONSENT_VERSION
from headshots.store import Store
from headshots.store._models import BlobRow
from tests.api.conftest import NAMES, TINY_DEFAULTS, photo

ROOT = Path(__file__).resolve().parents[2]
KEY = base64.b64encode(b"k" * 32).decode()


def test_production_refuses_development_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("HEADSHOTS_ENVIRONMENT", "production")
    monkeypatch.setenv("HEADSHOTS_DATA_DIR", str(tmp_path))
    r = CliRunner().invoke(cli, ["serve", "--port", "0"])
    assert r.exit_code == 2 and "no master key is configured in production" in r.output
    monkeypatch.setenv("HEADSHOTS_MASTER_KEY", KEY)
    r = CliRunner().invoke(cli, ["serve", "--port", "0"])
    assert r.exit_code == 2 and "no session secret is configured in production" in r.output
    monkeypatch.setenv("HEADSHOTS_SERVICE__SESSION_SECRET", "short")
    r = CliRunner().invoke(cli, ["serve", "--port", "0"])
    assert r.exit_code == 2 and "at least 32" in r.output
    monkeypatch.setenv("HEADSHOTS_SERVICE__SESSION_SECRET", "s" * 48)
    r = CliRunner().invoke(cli, ["serve", "--port", "0"])
    assert r.exit_code == 2 and "not https" in r.output
    assert not (tmp_path / "session.key").exists() and not (tmp_path / "master.key").exists()
    monkeypatch.setenv("HEADSHOTS_SERVICE__PUBLIC_URL", "https://headshots.example")
    create_app(Settings())  # configured: it starts


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    child = subprocess.Popen([sys.executable, "-m", "tests.api._serve_driver"], cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True)
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.startswith("headshots is serving at http://127.0.0.1:"), line
    url = line.split()[4]
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return child, url
        except httpx.HTTPError:
            pass
        assert child.poll() is None and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.2)


def _wait(condition, child, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert child.poll() is None, "the server stopped"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.slow
def test_a_server_killed_mid_training_resumes_the_order(tmp_path, sqlite_url, tiny):
    defaults = {**TINY_DEFAULTS, "train_steps": 12,
                "train_overrides": {**TINY_DEFAULTS["train_overrides"], "checkpoint_every": 3}}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
           "HEADSHOTS_DATA_DIR": str(tmp_path / "data"), "HEADSHOTS_DATABASE_URL": sqlite_url,
           "HEADSHOTS_HEARTBEAT_SECONDS": "0.2", "HEADSHOTS_SERVICE__DEVICE": "cpu",
           "HEADSHOTS_SERVICE__BASE_MODELS": json.dumps({"tiny": str(tiny["sd15"])}),
           "HEADSHOTS_SERVICE__ORDER_DEFAULTS": json.dumps(defaults),
           "HEADSHOTS_TEST_DELAY": "0.3"}
    settings = Settings(data_dir=tmp_path / "data", database_url=sqlite_url,
                        service=ServiceSettings())
    store = Store(settings)
    accounts = AccountService(store)
    _, token = accounts.issue_token(account_id=accounts.create(email="a@example.com",
                                                               password=None).id)
    auth = {"Authorization": f"Bearer {token}"}

    def checkpoints(order_id: str) -> int:
        with store.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(BlobRow).where(
                BlobRow.order_id == order_id, BlobRow.key.endswith("training_state.pt"))) or 0)

    child, url = _serve(env)
    try:
        api = httpx.Client(base_url=f"{url}/api/v1", headers=auth, timeout=120)  # a loaded CI box
        order_id = api.post("/orders", json={"consent_version": CONSENT_VERSION}).json()["id"]
        for key, name in NAMES.items():
            r = api.post(f"/orders/{order_id}/photos", files={"file": (name, photo(key))})
            assert r.status_code == 201, r.text
        assert api.post(f"/orders/{order_id}/start").status_code == 202
        _wait(lambda: checkpoints(order_id) >= 1, child)
        assert api.get(f"/orders/{order_id}").json()["status"] == "training"
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
    env["HEADSHOTS_TEST_DELAY"] = "0"
    child, url = _serve(env)  # on start it resumes the orders that were running
    try:
        api = httpx.Client(base_url=f"{url}/api/v1", headers=auth, timeout=120)  # a loaded CI box

        def status() -> str:
            return str(api.get(f"/orders/{order_id}").json()["status"])

        _wait(lambda: status() in ("awaiting_approval", "failed"), child)
        assert status() == "awaiting_approval"
        events = api.get(f"/orders/{order_id}/events").json()
        train = [e for e in events if e["stage"] == "train" and e["kind"] == "stage_started"]
        assert [e["message"] for e in train] == ["attempt 1", "attempt 2"]
        assert api.post(f"/orders/{order_id}/approve", json={"force": True}).status_code == 202
        _wait(lambda: status() in ("delivered", "failed"), child)
        assert status() == "delivered"
        child.send_signal(signal.SIGINT)  # Ctrl+C: uvicorn stops cleanly, re-raising it
        assert child.wait(timeout=60) in (0, 130, -signal.SIGINT)
    finally:
        if child.poll() is None:
            child.kill()
        store.close()
    from headshots.orders import Workflow

    runs = Workflow(Store(settings)).stage_runs(order_id)
    assert runs["train"].attempts == 2 and runs["train"].result["resumed_from"] >= 3

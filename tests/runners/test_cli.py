"""``headshots run`` with a broker (enqueue, follow from the database, Ctrl-C only stops
following) and ``headshots worker``'s argument checks."""

from __future__ import annotations

import re
import shutil

import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from headshots.cli import app
from headshots.cli._follow import Follower
from tests.conftest import DATA
from tests.runners.conftest import queued_order

cli = CliRunner()


@pytest.fixture
def selfies(tmp_path):
    folder = tmp_path / "selfies"
    folder.mkdir()
    for name in ("obama", "obama2", "obama3"):
        shutil.copy(DATA / f"{name}.jpg", folder / f"{name}.jpg")
    with Image.open(DATA / "obama2.jpg") as im:  # a fourth usable photo: the trainer needs 4
        im.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(folder / "obama2-mirror.jpg")
    return folder


@pytest.mark.slow
@pytest.mark.celery
@pytest.mark.xdist_group("heavy")
def test_run_enqueues_and_follows_the_order_until_delivered(
        tmp_path, env, monkeypatch, start_worker, tiny, selfies, workflow):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    worker = start_worker()
    out = tmp_path / "out"
    args = ["run", str(selfies), "--base-model", str(tiny["sd15"]), "--out", str(out),
            "--styles", "corporate-grey", "--candidates", "4", "--top", "2", "--resolution",
            "64", "--train-steps", "2", "--sample-steps", "2", "--preview-candidates", "2",
            "--consent", "--allow-unready", "--force"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output + worker.tail()
    said = " ".join(result.output.split())
    assert "stages run on the workers of the broker; Ctrl-C only stops following" in said
    flat = "".join(result.output.split())  # Rich wraps long paths anywhere
    assert re.search(r"done:\d+headshotsof4candidates.*in.*delivery\(\d+files\)", flat)
    assert re.search(r"train .* done .* generate .* 4/4 done", said)  # bars from the events
    assert [p for p in (out / "delivery").rglob("*") if p.is_file()]  # exported here
    (order,) = workflow.list_orders("local")
    runs = workflow.stage_runs(order.id)
    assert order.status == "delivered" and runs["train"].lease_owner is None
    assert f"order {order.id}: stage train done" in worker.log.read_text()  # ran there


class _Runner:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def submit(self, order_id: str) -> None:
        self.sent.append(order_id)


@pytest.mark.xdist_group("heavy")
def test_ctrl_c_only_stops_following(workflow, tiny, monkeypatch, capsys):
    order_id = queued_order(workflow, tiny)
    seen = []
    runner = _Runner()

    def interrupted(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("headshots.cli._follow.time.sleep", interrupted)
    with pytest.raises(typer.Exit) as stopped:
        Follower(workflow, runner, seen.append)(order_id)
    assert stopped.value.exit_code == 130 and runner.sent == [order_id]
    assert [e.kind for e in seen][:2] == ["stage_started", "stage_done"]  # the check's events
    err = capsys.readouterr().err
    assert f"stopped following — order {order_id} goes on in the workers" in err
    assert workflow.get(order_id).status == "queued"  # nothing was cancelled


def test_worker_refuses_unknown_queues_and_a_missing_broker(monkeypatch):
    monkeypatch.delenv("HEADSHOTS_BROKER_URL", raising=False)
    missing = cli.invoke(app, ["worker"])
    assert missing.exit_code == 2
    assert "no broker is configured — set HEADSHOTS_BROKER_URL" in missing.output
    monkeypatch.setenv("HEADSHOTS_BROKER_URL", "redis://127.0.0.1:1/0")
    wrong = cli.invoke(app, ["worker", "--queues", "gpu,tpu"])
    assert wrong.exit_code == 2 and "unknown queue tpu" in wrong.output

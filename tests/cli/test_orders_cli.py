"""``headshots run`` as an order of the workflow, and the order commands."""

from __future__ import annotations

import json
import shutil

import pytest
from PIL import Image
from typer.testing import CliRunner

from headshots.cli import app
from tests.conftest import DATA

runner = CliRunner()
pytestmark = pytest.mark.slow


@pytest.fixture
def selfies(tmp_path):
    folder = tmp_path / "selfies"
    folder.mkdir()
    for name in ("obama", "obama2", "obama3", "biden"):
        shutil.copy(DATA / f"{name}.jpg", folder / f"{name}.jpg")
    with Image.open(DATA / "obama2.jpg") as im:  # a fourth usable photo: the trainer needs 4
        im.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(folder / "obama2-mirror.jpg")
    return folder


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("HEADSHOTS_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _args(selfies, tiny, out, *extra):
    return ["run", str(selfies), "--base-model", str(tiny["sd15"]), "--out", str(out),
            "--styles", "corporate-grey", "--candidates", "4", "--top", "2", "--resolution",
            "64", "--train-steps", "2", "--sample-steps", "2", "--preview-candidates", "2",
            "--device", "cpu", "--workers", "1", *extra]


def _orders():
    result = runner.invoke(app, ["orders", "--json", "-"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_run_is_a_resumable_order_with_consent_first(tmp_path, tiny, selfies, data_dir):
    out = tmp_path / "out"
    args = _args(selfies, tiny, out)
    no_consent = runner.invoke(app, args)
    assert no_consent.exit_code == 2 and "pass --consent" in no_consent.output
    assert _orders() == []  # nothing was collected
    unready = runner.invoke(app, [*args, "--consent"])
    assert unready.exit_code == 2 and "not ready to train" in unready.output
    assert "this looks like a different person" in unready.output  # biden.jpg, by its name
    assert "biden.jpg" in unready.output
    assert [o["status"] for o in _orders()] == ["deleted"]  # an unusable set is not kept
    nogo = runner.invoke(app, [*args, "--consent", "--allow-unready"])
    assert nogo.exit_code == 3, nogo.output
    assert "NO-GO" in nogo.output and "no_face" in nogo.output and "--force" in nogo.output
    done = runner.invoke(app, [*args, "--consent", "--allow-unready", "--force"])
    assert done.exit_code == 0, done.output
    assert "resuming order" in done.output and "headshots of 4 candidates" in done.output
    report = json.loads((out / "delivery" / "report.json").read_text())
    assert report["summary"]["candidates"] == 4
    assert sorted(p.name for p in selfies.iterdir()) == [
        "biden.jpg", "obama.jpg", "obama2-mirror.jpg", "obama2.jpg", "obama3.jpg"]
    orders = _orders()
    assert [o["status"] for o in orders] == ["deleted", "delivered"]
    assert orders[1]["kept_until"]["inputs"] is not None
    again = runner.invoke(app, [*args, "--consent", "--allow-unready", "--force"])
    assert again.exit_code == 0 and "resuming order" in again.output
    assert len(_orders()) == 2  # the same order, not a new one
    changed = runner.invoke(app, [*_args(selfies, tiny, out, "--candidates", "3"),
                                  "--consent", "--allow-unready", "--force"])
    assert changed.exit_code == 0, changed.output
    assert "a new order, because these settings changed: candidates" in changed.output
    assert len(_orders()) == 3


def test_delete_receipt_purge_retention(tmp_path, tiny, selfies, data_dir):
    out = tmp_path / "out"
    done = runner.invoke(app, [*_args(selfies, tiny, out), "--consent", "--allow-unready",
                               "--force"])
    assert done.exit_code == 0, done.output
    order_id = _orders()[0]["id"]
    none_yet = runner.invoke(app, ["receipt", order_id])
    assert "nothing of order" in none_yet.output
    nothing = runner.invoke(app, ["purge", "--as-of", "2026-01-01T00:00:00"])
    assert nothing.exit_code == 0 and "nothing was due" in nothing.output
    deleted = runner.invoke(app, ["delete", order_id, "--yes"])
    assert deleted.exit_code == 0, deleted.output
    assert "encryption key destroyed" in deleted.output and "5 selfie" in deleted.output
    receipt = runner.invoke(app, ["receipt", order_id, "--json", "-"])
    data = json.loads(receipt.output)
    assert data[0]["key_destroyed"] and "obama" not in receipt.output
    assert not [p for p in (data_dir / "blobs").rglob("*") if p.is_file()]
    assert (out / "delivery" / "report.json").exists()  # the person's own export stays
    unknown = runner.invoke(app, ["delete", "ord_nope", "--yes"])
    assert unknown.exit_code == 2 and "does not exist" in unknown.output
    retention = runner.invoke(app, ["retention"])
    assert "7 days after your headshots are delivered" in retention.output
    consent = runner.invoke(app, ["consent"])
    assert "biometric" in consent.output and "version" in consent.output

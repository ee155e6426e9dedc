"""Scratch a killed process left behind is swept on the machine where it was left, before the
next stage runs there: the stage may have resumed on another machine, whose purge never sees it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from sqlalchemy import update

from headshots.orders import make_owner, sweep_scratch
from headshots.orders._lease import ensure_run
from headshots.store._models import StageRunRow
from tests.orders.conftest import consent, tiny_params


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _left_behind(store, order_id: str, age: float = 600.0):
    folder = store.scratch_dir(order_id) / "train"
    folder.mkdir(parents=True)
    (folder / "crop.png").write_bytes(b"plain pixels")
    old = time.time() - age
    for p in (folder / "crop.png", folder, folder.parent):
        os.utime(p, (old, old))
    return folder.parent


def _running(store, order_id: str, owner: str) -> None:
    ensure_run(store, order_id, "train")
    with store.db.session() as s:
        s.execute(update(StageRunRow).where(StageRunRow.order_id == order_id)
                  .values(status="running", lease_owner=owner))


def test_sweep_keeps_only_what_a_running_stage_may_use(workflow, store, tiny):
    orders = [workflow.create_order(tiny_params(tiny["sd15"]), consent()) for _ in range(5)]
    dead, alive, elsewhere, idle, young = orders
    host = socket.gethostname()
    _running(store, dead, f"celery worker|{host}|{_dead_pid()}|ab12")
    _running(store, alive, make_owner("celery worker"))  # this very process
    _running(store, elsewhere, "celery worker|another-machine|4242|cd34")
    folders = {o: _left_behind(store, o) for o in (dead, alive, elsewhere, idle)}
    young_folder = _left_behind(store, young, age=0)  # may be being made right now

    assert sweep_scratch(store) == 2
    assert not folders[dead].exists() and not folders[idle].exists()
    assert folders[alive].exists() and folders[elsewhere].exists() and young_folder.exists()


def test_running_a_stage_sweeps_first(workflow, store, tiny):
    """The next stage run on this machine (any order) removes a killed process's plain files."""
    stale = workflow.create_order(tiny_params(tiny["sd15"]), consent())
    _running(store, stale, f"celery worker|{socket.gethostname()}|{_dead_pid()}|ef56")
    folder = _left_behind(store, stale)
    other = workflow.create_order(tiny_params(tiny["sd15"]), consent())
    workflow.run_stage(other, "prepare", make_owner("test"))  # its outcome does not matter
    assert not folder.exists()

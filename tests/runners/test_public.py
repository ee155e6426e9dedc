"""The runners' public names, the queue of every stage, and the Celery settings that long GPU
stages depend on (docs/scale-out.md)."""

from __future__ import annotations

import subprocess
import sys

import headshots.runners
from headshots.config import Settings, WorkerSettings
from headshots.orders import STAGES
from headshots.runners import QUEUES, make_celery
from headshots.runners._celery import queue_for


def test_all_names_exist_and_celery_loads_only_when_used():
    runners = headshots.runners
    assert all(hasattr(runners, n) for n in runners.__all__)
    assert len(set(runners.__all__)) == len(runners.__all__)
    code = "import sys, headshots.runners; print('celery' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"  # the embedded default never imports Celery


def test_every_stage_has_one_queue():
    assert {queue_for(s) for s in STAGES} == {"gpu", "cpu"}
    assert [s for s in STAGES if queue_for(s) == "gpu"] == ["train", "preview", "generate"]
    assert sum(len(v) for v in QUEUES.values()) == len({s for v in QUEUES.values() for s in v})


def test_the_app_acknowledges_late_takes_one_at_a_time_and_outlasts_long_stages(tmp_path):
    settings = Settings(data_dir=tmp_path, broker_url="redis://127.0.0.1:1/0",
                        worker=WorkerSettings(visibility_timeout_seconds=7200,
                                              reap_every_seconds=30))
    conf = make_celery(settings).conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] == 7200
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is False
    assert conf.beat_schedule["reap"]["schedule"] == 30
    assert conf.beat_schedule["purge"]["schedule"] == settings.service.purge_every_seconds
    assert {q.name for q in conf.task_queues} == {"gpu", "cpu"}

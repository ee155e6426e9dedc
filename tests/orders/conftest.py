"""Orders run on real storage (SQLite and PostgreSQL, local blobs), the real face backend and
the tiny random diffusion models."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from headshots.clock import FixedClock
from headshots.config import Settings
from headshots.orders import CONSENT_VERSION, ConsentChoice, OrderParams, Runtime, Workflow
from headshots.store import Store
from tests.conftest import DATA

# distinctive names: the deletion test looks for them everywhere afterwards
NAMES = {"obama": "Zebulon-Quixote-beach-2019.jpg", "obama2": "Zebulon-Quixote-office.jpg",
         "obama3": "Zebulon-Quixote-garden.jpg", "biden": "Zebulon-Quixote-uncle.jpg"}


def tiny_params(base_model, **overrides) -> OrderParams:
    values = dict(
        base_model=str(base_model), resolution=64, candidates=6, top=3, preview_count=2,
        sample_steps=2, early_reject=False, allow_unready=True, train_steps=4,
        styles=("corporate-grey", "navy-blazer"),
        train_overrides={"checkpoint_every": 2, "validation_steps": 2, "validation_images": 1,
                         "min_photos": 1},
    )
    values.update(overrides)
    return OrderParams(**values)


def consent(keep_model: bool = False) -> ConsentChoice:
    return ConsentChoice(version=CONSENT_VERSION, keep_model=keep_model)


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path, db_url):
    return Settings(data_dir=tmp_path / "data", database_url=db_url, heartbeat_seconds=0.2,
                    lease_seconds=30)


@pytest.fixture
def store(settings, clock):
    s = Store(settings, clock=clock)
    yield s
    s.close()


@pytest.fixture
def workflow(store, backend):
    return Workflow(store, Runtime(device="cpu", judge_workers=1, backend_factory=lambda: backend))


def photo_bytes(name: str) -> bytes:
    return (DATA / f"{name}.jpg").read_bytes()


def add_photos(workflow: Workflow, order_id: str, names=("obama", "obama2", "obama3")):
    return [workflow.add_photo(order_id, NAMES[n], photo_bytes(n)) for n in names]

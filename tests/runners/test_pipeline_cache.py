"""A worker's runtime keeps the base pipeline loaded between orders and swaps each person's
LoRA in (in place of the last one's) and zeroes it after: the second order reuses the pipeline,
gets exactly its own LoRA (its images equal those a freshly loaded pipeline makes) and nothing of
the first person stays loaded."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from headshots.config import Settings
from headshots.media import decode_image
from headshots.orders import Runtime, Workflow
from headshots.store import Store
from headshots.store._models import CandidateRow
from tests.orders.conftest import add_photos, consent, tiny_params

pytestmark = pytest.mark.slow


@pytest.fixture
def store(tmp_path):
    s = Store(Settings(data_dir=tmp_path / "data",
                       database_url=f"sqlite:///{tmp_path / 'db' / 'headshots.db'}"))
    yield s
    s.close()


def delivered(workflow: Workflow, tiny, names) -> str:
    order_id = workflow.create_order(tiny_params(tiny["sd15"]), consent())
    add_photos(workflow, order_id, names)
    workflow.start(order_id)
    workflow.advance(order_id)
    workflow.approve(order_id, force=True)
    assert workflow.advance(order_id).status == "delivered"
    return order_id


def images(store: Store, order_id: str) -> dict[str, np.ndarray]:
    with store.db.session() as s:
        rows = list(s.scalars(select(CandidateRow).where(CandidateRow.order_id == order_id,
                                                         CandidateRow.area == "candidates")))
    return {r.request_id: decode_image(store.get(order_id, r.blob_key)).pixels for r in rows}


def test_second_order_reuses_the_pipeline_with_its_own_lora(store, tiny, backend):
    shared = Runtime(device="cpu", judge_workers=1, backend_factory=lambda: backend,
                     share_pipelines=True)
    workflow = Workflow(store, shared)
    first = delivered(workflow, tiny, ("obama", "obama2", "obama3"))
    second = delivered(workflow, tiny, ("biden", "obama3"))
    # two trainings load their own model; the four generation stages share one pipeline
    assert shared.loads == 3 and len(shared._pipelines) == 1
    (model,) = shared._pipelines.values()
    # the adapter stays for the next person's LoRA to swap into, with nothing of anyone in it
    lora = [p for n, p in model.pipe.unet.named_parameters() if "lora_" in n]
    assert lora and not any(p.any() for p in lora)
    mine = images(store, second)
    theirs = images(store, first)
    assert mine.keys() == theirs.keys() and len(mine) == 6  # same requests, other person
    assert any(not np.array_equal(mine[k], theirs[k]) for k in mine)
    # the same stage on a freshly loaded pipeline makes the very same images
    fresh = Runtime(device="cpu", judge_workers=1, backend_factory=lambda: backend)
    again = Workflow(store, fresh)
    again.rerun(second, "generate")
    assert again.advance(second).status == "delivered" and fresh.loads == 1
    remade = images(store, second)
    assert remade.keys() == mine.keys()
    assert all(np.array_equal(remade[k], mine[k]) for k in mine)

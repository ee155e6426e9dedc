"""Mixed precision through the whole chain on the CPU: bf16 training (checkpoints, scored
validation portraits), then bf16 generation with that LoRA, judging and delivery; a dtype bug
anywhere fails here (real GPUs run these paths in fp16/bf16)."""

import json

import pytest
from sqlalchemy import select

from headshots.store import blobkeys
from headshots.store._models import CandidateRow
from tests.orders.conftest import add_photos, consent, tiny_params


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("arch", ["sd15", "sdxl"])
def test_a_bf16_order_trains_validates_generates_and_delivers(workflow, store, tiny, arch):
    params = tiny_params(tiny[arch], mixed_precision="bf16", precision="bf16", candidates=2)
    order_id = workflow.create_order(params, consent())
    add_photos(workflow, order_id)
    workflow.start(order_id)
    workflow.advance(order_id)
    workflow.approve(order_id, force=True)
    assert workflow.advance(order_id).status == "delivered"
    runs = workflow.stage_runs(order_id)
    assert runs["train"].result["final_loss"] is not None
    assert runs["generate"].result["requests"] == 2 and runs["judge"].result["judged"] == 2
    report = json.loads(store.get(order_id, blobkeys.model(order_id, "train_report.json")))
    assert report["precision"] == "bf16" and len(report["checkpoints"]) == 2
    assert all(c["images"] == 1 for c in report["checkpoints"])  # validation portraits made
    with store.db.session() as s:
        made = [r.record["made_with"]["precision"] for r in s.scalars(
            select(CandidateRow).where(CandidateRow.order_id == order_id))]
    assert made == ["bf16"] * 4  # two preview images and two candidates

"""Deletion is verifiable: afterwards nothing under the data directory or in the database
shows the person's face, names their files or holds their face embeddings."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from headshots.errors import ConflictError, NotFoundError
from headshots.orders import delete_order, due_dates, purge, receipts
from headshots.orders._photos import result_from_bytes
from headshots.store import blobkeys
from tests.orders.conftest import NAMES, add_photos, consent, tiny_params
from tests.orders.privacy import PersonScanner

pytestmark = pytest.mark.slow


@pytest.fixture
def log_file(settings):
    """Everything headshots logs during the test goes to a file in the data directory."""
    path = settings.data_dir / "logs" / "headshots.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    logger = logging.getLogger("headshots")
    old = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield path
    logger.removeHandler(handler)
    logger.setLevel(old)
    handler.close()


def delivered(workflow, tiny, keep_model: bool = False) -> str:
    order_id = workflow.create_order(tiny_params(tiny["sd15"]), consent(keep_model))
    add_photos(workflow, order_id)
    workflow.start(order_id)
    workflow.advance(order_id)
    workflow.approve(order_id, force=True)
    assert workflow.advance(order_id).status == "delivered"
    return order_id


def scanner_for(store, order_id, backend, photos) -> PersonScanner:
    keys = [k for k in store.keys(order_id, blobkeys.group_prefix(order_id, "inputs"))
            if k.endswith(".npz")]
    embeddings = [result_from_bytes(store.get(order_id, k)).embedding for k in keys]
    assert len(embeddings) == 3 and all(e is not None for e in embeddings)
    return PersonScanner(backend, [photos["obama"], photos["obama2"]], list(NAMES.values()),
                         embeddings)


def test_delete_leaves_nothing_of_the_person(workflow, store, tiny, backend, photos, log_file):
    order_id = delivered(workflow, tiny)
    scanner = scanner_for(store, order_id, backend, photos)
    data_dir, url = store.data_dir, store.settings.resolved_database_url
    # the scanner is not blind: decrypted, the selfies and crops show the person...
    inputs = store.keys(order_id, blobkeys.group_prefix(order_id, "inputs"))
    plain = [store.get(order_id, k) for k in inputs if k.endswith((".jpg", ".png"))]
    assert len(plain) == 6 and all(scanner.scan_bytes(p, "decrypted") for p in plain)
    # ...while at rest only the file names on the photo rows are readable
    before = scanner.scan_dir(data_dir) + scanner.scan_database(url)
    assert before and all(f.startswith("file name") for f in before), before
    receipt = delete_order(store, order_id)
    assert scanner.scan_dir(data_dir) + scanner.scan_database(url) == []
    assert not [p for p in (data_dir / "blobs").rglob("*") if p.is_file()]
    order = workflow.get(order_id)
    assert order.status == "deleted" and order.wrapped_key is None and order.params == {}
    deleted = receipt["deleted"]
    assert deleted["inputs"]["selfie"]["count"] == 3 and deleted["inputs"]["crop"]["count"] == 3
    assert deleted["inputs"]["photo_check"]["count"] == 3
    assert deleted["model"]["lora"]["count"] >= 1 and deleted["results"]["candidate"]["count"] == 8
    assert all(len(h) == 64 for h in deleted["inputs"]["selfie"]["sha256"])
    assert receipt["key_destroyed"] and receipt["rows"]["photos"] == 3
    assert receipts(store, order_id) == [receipt]
    text = json.dumps(receipt)
    assert not any(n in text for n in NAMES.values())
    with pytest.raises(ConflictError, match="already deleted"):
        delete_order(store, order_id)
    with pytest.raises(NotFoundError):
        store.get(order_id, inputs[0])  # no key, no data


def test_purge_follows_the_published_schedule(workflow, store, tiny, backend, photos,
                                              log_file):
    order_id = delivered(workflow, tiny)
    scanner = scanner_for(store, order_id, backend, photos)
    at = workflow.get(order_id).delivered_at
    assert due_dates(workflow.get(order_id), store.settings.retention) == {
        "inputs": at + timedelta(days=7), "model": at + timedelta(days=30),
        "results": at + timedelta(days=30)}
    assert purge(store, as_of=at + timedelta(days=6, hours=23)) == []
    first = purge(store, as_of=at + timedelta(days=7, seconds=1))
    assert [r["deleted"].keys() for r in first] == [{"inputs": 0}.keys()]
    order = workflow.get(order_id)
    assert order.status == "delivered" and order.wrapped_key is not None  # results still kept
    assert not store.keys(order_id, blobkeys.group_prefix(order_id, "inputs"))
    assert store.keys(order_id, blobkeys.group_prefix(order_id, "model"))
    assert workflow.photos(order_id) == []
    assert scanner.scan_dir(store.data_dir) + scanner.scan_database(
        store.settings.resolved_database_url) == []
    second = purge(store, as_of=at + timedelta(days=30, seconds=1))
    assert set(second[0]["deleted"]) == {"model", "results"} and second[0]["key_destroyed"]
    assert workflow.get(order_id).status == "deleted"
    assert not [p for p in (store.data_dir / "blobs").rglob("*") if p.is_file()]
    assert len(receipts(store, order_id)) == 2
    assert purge(store, as_of=at + timedelta(days=400)) == []  # nothing twice


def test_a_kept_model_outlives_the_rest_until_its_limit(workflow, store, tiny):
    order_id = delivered(workflow, tiny, keep_model=True)
    order = workflow.get(order_id)
    purge(store, as_of=order.delivered_at + timedelta(days=31))
    assert store.keys(order_id, blobkeys.group_prefix(order_id, "model"))
    assert not store.keys(order_id, blobkeys.group_prefix(order_id, "results"))
    assert workflow.get(order_id).wrapped_key is not None
    last = workflow.get(order_id).last_activity_at
    assert purge(store, as_of=last + timedelta(days=3 * 365 - 1)) == []
    done = purge(store, as_of=last + timedelta(days=3 * 365, seconds=1))
    assert set(done[0]["deleted"]) == {"model"} and done[0]["key_destroyed"]


def test_an_unfinished_order_expires_after_its_last_activity(workflow, store, tiny):
    order_id = workflow.create_order(tiny_params(tiny["sd15"]), consent())
    add_photos(workflow, order_id, ("obama",))
    last = workflow.get(order_id).last_activity_at
    assert purge(store, as_of=last + timedelta(days=6)) == []
    purge(store, as_of=last + timedelta(days=7, seconds=1))
    order = workflow.get(order_id)
    assert order.status == "expired" and "deleted on schedule" in order.error["problem"]
    assert not store.keys(order_id, blobkeys.order_prefix(order_id))

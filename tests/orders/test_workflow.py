import json

import numpy as np
import pytest

from headshots.errors import ConflictError, ConsentError, NotFoundError, PhotoSetError
from headshots.orders import CONSENT_VERSION, STAGES, ConsentChoice, read_events
from headshots.store import blobkeys
from tests.orders.conftest import NAMES, add_photos, consent, photo_bytes, tiny_params


def test_a_whole_order_on_the_tiny_model(workflow, store, tiny):
    order_id = workflow.create_order(tiny_params(tiny["sd15"]), consent())
    photos = add_photos(workflow, order_id)
    assert all(p.accepted for p in photos) and all(p.id.startswith("ph_") for p in photos)
    bad = workflow.add_photo(order_id, "notes.jpg", b"not an image at all")
    assert not bad.accepted and bad.reasons == ("unreadable",)
    workflow.start(order_id)
    order = workflow.advance(order_id)
    # a tiny random model draws no faces: the preview honestly says NO-GO and waits
    assert order.status == "awaiting_approval" and order.preview["go"] is False
    with pytest.raises(ConflictError, match="NO-GO"):
        workflow.approve(order_id)
    workflow.approve(order_id, force=True)
    order = workflow.advance(order_id)
    assert order.status == "delivered" and order.delivered_at is not None
    runs = workflow.stage_runs(order_id)
    assert {s: r.status for s, r in runs.items()} == {s: "done" for s in STAGES}
    assert runs["prepare"].result["crops"] == 3 and runs["generate"].result["requests"] == 6
    assert runs["judge"].result["reasons"] == {"no_face": 6}
    keys = store.keys(order_id, blobkeys.order_prefix(order_id))
    assert any(k.endswith("model/lora.safetensors") for k in keys)
    assert sum("/results/candidates/" in k for k in keys) == 6
    assert any(k.endswith("delivery/report.json") for k in keys)
    # every stored blob is ciphertext: no PNG or JPEG signature anywhere in the blob files
    for f in (store.data_dir / "blobs").rglob("*"):
        if f.is_file():
            head = f.read_bytes()[:16]
            assert head.startswith(b"HSE1") and b"PNG" not in head and b"JFIF" not in head
    report = json.loads(store.get(order_id, blobkeys.result(order_id, "delivery",
                                                             "report.json")))
    assert len(report["candidates"]) == 6  # decrypts with the order's key; every candidate
    kinds = [e.kind for e in read_events(store, order_id)]
    assert kinds.count("stage_started") == 7 and kinds.count("stage_done") == 7
    assert "progress" in kinds
    # re-running a finished order does nothing
    assert workflow.advance(order_id).status == "delivered"
    assert not any(p.is_file() for p in (store.data_dir / "scratch").rglob("*"))


def test_photos_are_reencoded_without_metadata_and_named_only_on_their_row(workflow, store,
                                                                           tiny):
    from PIL import Image

    from tests.conftest import jpeg

    order_id = workflow.create_order(tiny_params(tiny["sd15"]), consent())
    im = Image.open(__import__("io").BytesIO(photo_bytes("obama")))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    buf = __import__("io").BytesIO()
    im.save(buf, "JPEG", exif=exif.tobytes())
    photo = workflow.add_photo(order_id, NAMES["obama"], buf.getvalue())
    stored = store.get(order_id, blobkeys.selfie(order_id, photo.id))
    assert b"SecretCam" not in stored and b"Exif" not in stored[:200]
    assert stored != buf.getvalue()
    report = workflow.intake_report(order_id)
    assert [p.file for p in report.photos] == [photo.id]  # ids, never the file name
    assert NAMES["obama"] not in report.to_json()
    assert jpeg  # the helper exists for other tests


def test_consent_comes_first_and_names_its_version(workflow, store, tiny):
    with pytest.raises(ConsentError, match="not the current one"):
        workflow.create_order(tiny_params(tiny["sd15"]), ConsentChoice(version="2020-01-01"))
    order_id = workflow.create_order(tiny_params(tiny["sd15"]), consent(keep_model=True))
    from sqlalchemy import delete, select

    from headshots.store._models import ConsentRow

    with store.db.session() as s:
        row = s.scalar(select(ConsentRow).where(ConsentRow.order_id == order_id))
        assert row.version == CONSENT_VERSION and row.keep_model is True
        assert len(row.text_sha256) == 64 and row.accepted_at is not None
        s.execute(delete(ConsentRow).where(ConsentRow.order_id == order_id))
    with pytest.raises(ConsentError, match="no consent record"):
        workflow.add_photo(order_id, "a.jpg", photo_bytes("obama"))
    assert workflow.photos(order_id) == []


def test_a_removed_selfie_is_not_trained_on(workflow, store, tiny):
    order_id = workflow.create_order(tiny_params(tiny["sd15"]), consent())
    photos = add_photos(workflow, order_id, ("obama", "obama2", "obama3"))
    workflow.remove_photo(order_id, photos[1].id)
    assert not store.keys(order_id, blobkeys.selfie(order_id, photos[1].id))
    workflow.start(order_id)
    workflow.advance(order_id)
    crops = store.keys(order_id, blobkeys.group_prefix(order_id, "inputs") + "crops/")
    assert sorted(k.rsplit("/", 1)[1] for k in crops if k.endswith(".png")) == sorted(
        f"{p.id}.png" for p in (photos[0], photos[2]))
    with pytest.raises(ConflictError, match="needs it to be collecting"):
        workflow.remove_photo(order_id, photos[0].id)
    with pytest.raises(ConflictError, match="collecting"):
        workflow.add_photo(order_id, "late.jpg", photo_bytes("obama"))


def test_an_unready_set_is_refused_before_any_work_and_stays_open(workflow, store, tiny):
    order_id = workflow.create_order(tiny_params(tiny["sd15"], allow_unready=False), consent())
    add_photos(workflow, order_id, ("obama",))
    with pytest.raises(PhotoSetError, match="not ready to train"):
        workflow.start(order_id)
    assert workflow.get(order_id).status == "collecting"
    add_photos(workflow, order_id, ("obama2",))  # still accepting photos
    assert "prepare" not in workflow.stage_runs(order_id)


def test_settings_are_checked_at_creation(workflow, tiny):
    from headshots.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown style"):
        workflow.create_order(tiny_params(tiny["sd15"], styles=("no-such-look",)), consent())
    with pytest.raises(ConfigError, match="train_overrides.rank"):
        workflow.create_order(tiny_params(tiny["sd15"], train_overrides={"rank": 0}), consent())


def test_unknown_orders_and_other_owners_are_not_found(workflow, tiny):
    order_id = workflow.create_order(tiny_params(tiny["sd15"]), consent(), owner="alice")
    with pytest.raises(NotFoundError):
        workflow.get(order_id, owner="bob")
    with pytest.raises(NotFoundError):
        workflow.get("ord_nope")


def test_changed_settings_never_match_an_earlier_order(workflow, tiny):
    a = tiny_params(tiny["sd15"])
    order_id = workflow.create_order(a, consent(), photos_hash="p1")
    assert workflow.find_resumable("local", a.digest(), "p1").id == order_id
    b = tiny_params(tiny["sd15"], candidates=7)
    assert a.digest() != b.digest() and b.changes(a) == ["candidates"]
    assert workflow.find_resumable("local", b.digest(), "p1") is None
    assert workflow.find_resumable("local", a.digest(), "p2") is None
    assert np.isfinite(1.0)


def test_candidates_stopped_early_are_in_every_report(workflow, store, tiny):
    order_id = workflow.create_order(tiny_params(tiny["sd15"], early_reject=True), consent())
    add_photos(workflow, order_id)
    workflow.start(order_id)
    workflow.advance(order_id)
    workflow.approve(order_id, force=True)
    assert workflow.advance(order_id).status == "delivered"
    gen = workflow.stage_runs(order_id)["generate"].result
    assert gen["stopped_early"] == 6 and gen["candidates"] == 0  # noise has no face
    report = json.loads(store.get(order_id, blobkeys.result(order_id, "delivery",
                                                             "report.json")))
    stopped = [c for c in report["candidates"] if c.get("stopped_early")]
    assert len(stopped) == 6 and {tuple(c["reasons"]) for c in stopped} == {("no_face",)}

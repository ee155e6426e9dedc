"""The whole flow through the HTTP API on the tiny model, on SQLite and PostgreSQL: consent,
create, upload, start, preview, approve (forced: the tiny model draws noise), live progress
by server-sent events, results, one image, the zip, and more of a style from the kept model."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from headshots.deliver import TRAINED_ALGORITHMIC_MEDIA, digital_source_type
from tests.api.conftest import account, new_order, upload_selfies, wait_status

pytestmark = pytest.mark.slow


def sse(client, headers, order_id: str, after: int = 0) -> list[tuple[str, dict]]:
    """Read the event stream until the server ends it (the order is final)."""
    frames, kind = [], None
    with client.stream("GET", f"/api/v1/orders/{order_id}/events/stream?after={after}",
                       headers=headers) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith(
            "text/event-stream")
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                frames.append((kind, json.loads(line[6:])))
    return frames


def test_whole_flow(client):
    a, b = account(client, "a@example.com"), account(client, "b@example.com")
    consent = client.get("/api/v1/consent").json()
    assert "biometric" in consent["text"] and consent["version"]
    order_id = new_order(client, a, keep_model=True)
    uploads = upload_selfies(client, a, order_id)
    assert all(u["photo"]["accepted"] for u in uploads)
    assert uploads[-1]["set"]["photos"] == 3 and uploads[-1]["set"]["accepted"] == 3
    assert uploads[0]["photo"]["name"] == "Zebulon-Quixote-beach-2019.jpg"

    r = client.post(f"/api/v1/orders/{order_id}/start", headers=a)
    assert r.status_code == 202, r.text
    order = wait_status(client, a, order_id, ("awaiting_approval",))
    assert order["preview"]["go"] is False  # noise: NO-GO, and it says why
    stages = [e["stage"] for e in order["events"] if e["kind"] == "stage_done"]
    assert {"check", "prepare", "train"} <= set(stages)  # every stage shows

    preview = client.get(f"/api/v1/orders/{order_id}/preview", headers=a).json()
    assert len(preview["images"]) == 2
    img = client.get(f"/api/v1/orders/{order_id}/images/{preview['images'][0]['image_id']}",
                     headers=a)
    assert img.status_code == 200 and img.headers["content-type"] == "image/png"
    assert digital_source_type(img.content) == TRAINED_ALGORITHMIC_MEDIA  # labelled

    refused = client.post(f"/api/v1/orders/{order_id}/approve", headers=a)
    assert refused.status_code == 409 and "NO-GO" in refused.json()["problem"]
    r = client.post(f"/api/v1/orders/{order_id}/approve", json={"force": True}, headers=a)
    assert r.status_code == 202, r.text

    frames = sse(client, a, order_id, after=order["events"][-1]["id"])
    kinds = [(k, d.get("stage")) for k, d in frames]
    assert ("stage_done", "generate") in kinds and ("stage_done", "deliver") in kinds
    assert any(k == "progress" for k, _ in kinds)
    assert frames[-1] == ("status", {"id": order_id, "status": "delivered", "error": None})

    results = client.get(f"/api/v1/orders/{order_id}/results", headers=a).json()
    assert results["ai_generated"] is True and "AI-generated" in results["usage_note"]
    cands = results["candidates"]
    assert len(cands) == 6 and all(not c["accepted"] for c in cands)
    assert all(c["reasons"] and c["reasons"][0]["explanation"] for c in cands)
    one = client.get(f"/api/v1/orders/{order_id}/images/{cands[0]['image_id']}", headers=a)
    assert digital_source_type(one.content) == TRAINED_ALGORITHMIC_MEDIA
    sheet = client.get(f"/api/v1/orders/{order_id}/images/{results['files']['contact_sheet']}",
                       headers=a)
    assert sheet.status_code == 200 and sheet.content.startswith(b"\x89PNG")

    z = client.get(f"/api/v1/orders/{order_id}/download", headers=a)
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert {f"headshots-{order_id}/{n}" for n in ("USAGE.md", "report.json",
                                                  "contact_sheet.png")} <= set(names)
    report = json.loads(zipfile.ZipFile(io.BytesIO(z.content)).read(
        f"headshots-{order_id}/report.json"))
    assert report["labels"]["ai_generated"] is True

    for path in ("results", f"images/{cands[0]['image_id']}", "download", "preview"):
        assert client.get(f"/api/v1/orders/{order_id}/{path}", headers=b).status_code == 404

    # more of one style from the kept model: a follow-up order, no new training
    r = client.post(f"/api/v1/orders/{order_id}/more", headers=a, json={
        "style": "navy-blazer", "count": 2, "consent_version": consent["version"]})
    assert r.status_code == 202, r.text
    child = r.json()["id"]
    assert child != order_id
    wait_status(client, a, child, ("delivered",))
    more = client.get(f"/api/v1/orders/{child}/results", headers=a).json()
    assert len(more["candidates"]) == 2
    assert {c["style"] for c in more["candidates"]} == {"navy-blazer"}
    runs = client.app.state.services.workflow.stage_runs(child)
    assert runs["train"].result == {"shared_from": order_id}

"""Orders through the API without running them: ownership on every route, consent, uploads
(limits and bad files, nothing accepted lost), idempotent start, readable errors."""

from __future__ import annotations

import io
import os
import re

from fastapi.routing import APIRoute
from PIL import Image

from headshots.orders import CONSENT_VERSION
from tests.api.conftest import (
    account,
    make_client,
    new_order,
    photo,
    service_settings,
    upload,
)
from tests.conftest import DATA

# a body each route accepts (so only ownership can refuse it)
BODIES = {
    ("PATCH", "/api/v1/orders/{order_id}"): {"keep_model": True},
    ("POST", "/api/v1/orders/{order_id}/approve"): {"force": True},
    ("POST", "/api/v1/orders/{order_id}/more"): {"style": "navy-blazer", "count": 2,
                                                 "consent_version": CONSENT_VERSION},
}


def api_routes(routes, prefix: str = ""):
    """Every (path, method) of the app, through included routers (FastAPI 0.165 keeps an
    included router as one entry)."""
    for r in routes:
        if isinstance(r, APIRoute):
            if not (prefix + r.path).startswith("/api/"):
                continue  # the web page's routes (tests/web checks them)
            for method in sorted(r.methods):
                yield prefix + r.path, method
        elif hasattr(r, "original_router"):
            yield from api_routes(r.original_router.routes, prefix + r.include_context.prefix)


def test_route_table_matches_the_openapi_document(lite):
    documented = {(path, m.upper()) for path, ops in lite.app.openapi()["paths"].items()
                  for m in ops}
    assert set(api_routes(lite.app.routes)) == documented


def test_every_route_answers_404_for_another_accounts_ids(client):
    a, b = account(client, "a@example.com"), account(client, "b@example.com")
    order_id = new_order(client, a)
    photo_id = upload(client, a, order_id, "me.jpg", photo("obama")).json()["photo"]["id"]
    token_id = client.post("/api/v1/me/tokens", json={"name": "ci"}, headers=a).json()["id"]
    webhook_id = client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"},
                             headers=a).json()["id"]
    ids = {"order_id": order_id, "photo_id": photo_id, "token_id": token_id,
           "webhook_id": webhook_id, "image_id": "img_" + "0" * 24}
    assert re.fullmatch(r"ord_[0-9a-f]{20}", order_id) and re.fullmatch(r"ph_[0-9a-f]{16}",
                                                                       photo_id)
    assert token_id.startswith("tok_") and webhook_id.startswith("wh_")
    checked = 0
    # every route of the app, so a new one cannot skip this test
    for path, method in api_routes(client.app.routes):
        if "{" not in path:
            continue
        params = set(re.findall(r"{(\w+)}", path))
        assert params <= set(ids), f"{path}: a new id kind; add it to this test"
        url = path.format(**ids)
        kwargs: dict = {"json": BODIES.get((method, path))}
        if path.endswith("/photos") and method == "POST":
            kwargs = {"files": {"file": ("x.jpg", photo("obama"), "image/jpeg")}}
        r = client.request(method, url, headers=b, **kwargs)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        body = r.json()
        assert body["error"] == "NotFoundError" and "does not exist" in body["problem"]
        # the same as for an id that never existed: nothing tells the two apart
        fake = {k: (v[:-4] + "beef") for k, v in ids.items()}
        r2 = client.request(method, path.format(**fake), headers=b, **kwargs)
        assert r2.status_code == 404 and r2.json()["error"] == body["error"]
        checked += 1
        if method == "GET" and "image_id" not in params:  # A itself is not refused
            assert client.get(url, headers=a, params={"timeout": 0.5} if path.endswith(
                "/stream") else None).status_code != 404, path
    assert checked >= 20
    assert client.get("/api/v1/orders", headers=b).json() == []  # lists hold only one's own
    assert client.get("/api/v1/webhooks", headers=b).json() == []
    # nothing of A's was touched
    assert client.get(f"/api/v1/orders/{order_id}/photos", headers=a).json()["set"][
        "photos"] == 1
    assert [t["id"] for t in client.get("/api/v1/me/tokens", headers=a).json()].count(
        token_id) == 1


def test_no_credentials_is_401_with_a_readable_body(lite):
    for method, path in (("GET", "/api/v1/orders"), ("POST", "/api/v1/orders"),
                         ("GET", "/api/v1/me"), ("DELETE", "/api/v1/me")):
        r = lite.request(method, path)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert set(r.json()) >= {"error", "problem", "fix"}
    r = lite.get("/api/v1/orders", headers={"Authorization": "Bearer hs_not-a-token"})
    assert r.status_code == 401 and "not valid" in r.json()["problem"]
    r = lite.get("/api/v1/orders", headers={"Authorization": "Basic dTpw"})
    assert r.status_code == 401 and "Bearer" in r.json()["fix"]


def test_consent_is_required_and_must_be_current(lite):
    a = account(lite, "a@example.com")
    r = lite.post("/api/v1/orders", json={"keep_model": False}, headers=a)
    assert r.status_code == 422 and "consent_version" in r.json()["problem"]
    r = lite.post("/api/v1/orders", json={"consent_version": "2020-01-01"}, headers=a)
    assert r.status_code == 422 and r.json()["error"] == "ConsentError"
    assert "GET /api/v1/consent" in r.json()["fix"]
    assert lite.get("/api/v1/orders", headers=a).json() == []  # nothing was made
    r = lite.post("/api/v1/orders", json={"consent_version": CONSENT_VERSION,
                                          "styles": ["no-such-style"]}, headers=a)
    assert r.status_code == 422 and "no-such-style" in r.json()["problem"]
    r = lite.post("/api/v1/orders", json={"consent_version": CONSENT_VERSION,
                                          "base_model": "/etc"}, headers=a)
    assert r.status_code == 422 and "not offered" in r.json()["problem"]
    order_id = new_order(lite, a, keep_model=True, class_word="woman")
    order = lite.get(f"/api/v1/orders/{order_id}", headers=a).json()
    assert order["keep_model"] and order["settings"]["class_word"] == "woman"
    assert order["status"] == "collecting" and order["kept_until"]["model"]


def no_face() -> bytes:
    """A readable photo without a face (the astronaut's shuttle)."""
    with Image.open(DATA / "astronaut.jpg") as im:
        buf = io.BytesIO()
        im.convert("RGB").crop((330, 0, im.width, 140)).resize((512, 256)).save(buf, "JPEG")
    return buf.getvalue()


def _image(fmt: str, size=(64, 64), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, 128).save(buf, fmt)
    return buf.getvalue()


def test_upload_limits_and_bad_files_lose_nothing(tmp_path, sqlite_url, tiny, backend):
    settings = service_settings(tmp_path, sqlite_url, tiny, max_upload_bytes=2_000_000,
                                max_photos=4)
    with make_client(settings, backend) as c:
        a = account(c, "a@example.com")
        order_id = new_order(c, a)
        kept = [upload(c, a, order_id, f"{n}.jpg", photo(n)).json() for n in ("obama",
                                                                              "obama2")]
        assert all(k["photo"]["accepted"] for k in kept)
        refused = {
            "oversize": (upload(c, a, order_id, "big.jpg", os.urandom(2_500_000)), 413),
            "oversize stream": (upload(c, a, order_id, "huge.jpg", os.urandom(3_500_000)),
                                413),
            "pixels": (upload(c, a, order_id, "wide.png", _image("PNG", (8000, 7000), "L")),
                       413),
            "gif": (upload(c, a, order_id, "anim.gif", _image("GIF"), "image/gif"), 415),
            "psd": (upload(c, a, order_id, "layers.psd", b"8BPS\x00\x01" + b"\x00" * 64), 415),
            "garbage": (upload(c, a, order_id, "junk.jpg", os.urandom(5000)), 422),
        }
        codes = {"oversize": "too_large", "oversize stream": "too_large", "pixels": "too_large",
                 "gif": "unsupported_format", "psd": "unsupported_format",
                 "garbage": "unreadable"}
        for what, (r, status) in refused.items():
            assert r.status_code == status, (what, r.status_code, r.text)
            body = r.json()
            assert body["reason"] == codes[what] and body["fix"], (what, body)
        # a readable photo that fails its check is kept and shown with its reason
        r = upload(c, a, order_id, "shuttle.jpg", no_face())
        assert r.status_code == 201 and not r.json()["photo"]["accepted"]
        assert r.json()["photo"]["reasons"][0]["explanation"]
        assert upload(c, a, order_id, "o3.jpg", photo("obama3")).status_code == 201
        r = upload(c, a, order_id, "one-more.jpg", photo("obama"))
        assert r.status_code == 409 and "4 photos" in r.json()["problem"]
        listed = c.get(f"/api/v1/orders/{order_id}/photos", headers=a).json()
        names = [p["name"] for p in listed["photos"]]
        assert names == ["obama.jpg", "obama2.jpg", "shuttle.jpg", "o3.jpg"]
        assert [p["accepted"] for p in listed["photos"]] == [True, True, False, True]
        # deleting one makes room again
        gone = listed["photos"][2]["id"]
        assert c.delete(f"/api/v1/orders/{order_id}/photos/{gone}", headers=a).status_code \
            == 204
        assert upload(c, a, order_id, "again.jpg", photo("obama3")).status_code == 201


def test_upload_rate_limit(tmp_path, sqlite_url, tiny, backend):
    settings = service_settings(tmp_path, sqlite_url, tiny, uploads_per_minute=2)
    with make_client(settings, backend) as c:
        a = account(c, "a@example.com")
        order_id = new_order(c, a)
        statuses = [upload(c, a, order_id, "x.jpg", b"junk").status_code for _ in range(3)]
        assert statuses[:2] == [422, 422] and statuses[2] == 429


def test_start_with_the_same_idempotency_key_starts_once(lite):
    a = account(lite, "a@example.com")
    order_id = new_order(lite, a)
    for name in ("obama", "obama2", "obama3"):
        assert upload(lite, a, order_id, f"{name}.jpg", photo(name)).status_code == 201
    url = f"/api/v1/orders/{order_id}/start"
    first = lite.post(url, headers={**a, "Idempotency-Key": "k-1"})
    again = lite.post(url, headers={**a, "Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    other = lite.post(url, headers={**a, "Idempotency-Key": "k-2"})
    assert other.status_code == 409  # a new key is a new request: the order is not collecting
    wf = lite.app.state.services.workflow
    assert wf.stage_runs(order_id)["check"].attempts == 1
    events = lite.get(f"/api/v1/orders/{order_id}/events", headers=a).json()
    assert sum(e["kind"] == "stage_started" and e["stage"] == "check" for e in events) == 1
    # the same key on another request is refused, not silently replayed
    r = lite.post(f"/api/v1/orders/{order_id}/approve", headers={**a, "Idempotency-Key": "k-1"})
    assert r.status_code == 422 and "another request" in r.json()["problem"]
    assert lite.post(f"/api/v1/orders/{order_id}/cancel", headers=a).status_code == 200


def test_a_set_that_is_not_ready_answers_the_advice(lite):
    a = account(lite, "a@example.com")
    order_id = new_order(lite, a)
    upload(lite, a, order_id, "shuttle.jpg", no_face())
    r = lite.post(f"/api/v1/orders/{order_id}/start", headers=a)
    assert r.status_code == 422 and r.json()["error"] == "PhotoSetError"
    assert "usable" in r.json()["problem"] and r.json()["fix"]
    assert lite.get(f"/api/v1/orders/{order_id}", headers=a).json()["status"] == "collecting"

"""The page through the real app (TestClient) on SQLite, the real face backend and the tiny
model; helpers to sign up and fill forms as a browser does (CSRF value from the cookie)."""

from __future__ import annotations

import io
import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.api.conftest import FINAL, make_client, service_settings

PASSWORD = "correct horse battery"


@pytest.fixture
def web(tmp_path, tiny, backend):
    url = f"sqlite:///{tmp_path / 'db' / 'headshots.db'}"
    with make_client(service_settings(tmp_path, url, tiny), backend) as c:
        c.follow_redirects = False
        yield c


def gif() -> bytes:
    """A real GIF: readable, but not a format the service takes."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 80, 80)).save(buf, "GIF")
    return buf.getvalue()


def csrf(client: TestClient, path: str = "/signin") -> str:
    """The form's CSRF value, as the page renders it."""
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def signup(client: TestClient, email: str) -> None:
    r = client.post("/signup", data={"email": email, "password": PASSWORD,
                                     "csrf_token": csrf(client, "/signup")})
    assert r.status_code == 303 and r.headers["location"] == "/orders/new", r.text


def post(client: TestClient, path: str, data: dict[str, Any] | None = None, **kw: Any):
    return client.post(path, data={"csrf_token": client.cookies.get("hs_csrf"), **(data or {})},
                       **kw)


def new_order(client: TestClient, keep: bool = False) -> str:
    from headshots.orders import CONSENT_VERSION

    data = {"consent_version": CONSENT_VERSION, "agree": "yes", "class_word": "man"}
    if keep:
        data["keep_model"] = "yes"
    r = post(client, "/orders/new", data)
    assert r.status_code == 303, r.text
    found = re.fullmatch(r"/orders/(ord_[0-9a-f]+)/photos", r.headers["location"])
    assert found
    return found.group(1)


def wait_page_status(client: TestClient, order_id: str, wanted: tuple[str, ...],
                     timeout: float = 240.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"/orders/{order_id}/progress")
        assert r.status_code == 200, r.text
        status = re.search(r'data-status="([a-z_]+)"', r.text).group(1)  # type: ignore[union-attr]
        if status in wanted:
            return status
        assert status not in FINAL, r.text
        assert time.monotonic() < deadline, f"still {status}"
        time.sleep(0.2)


def thousand_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service's results become a thousand made-up candidates (40 selected, 700
    accepted, alternating two styles): for paging, not for what the images show."""
    from headshots.api._service import OrderService

    styles = ("navy-blazer", "corporate-grey")
    made = [{"id": f"c{i}", "image_id": f"img_{i:04x}", "style": styles[i % 2],
             "selected": i < 40, "rank": i + 1 if i < 40 else None, "accepted": i < 700,
             "reasons": [] if i < 700 else [{"code": "no_face", "explanation": "no face"}],
             "scores": {}} for i in range(1000)]
    monkeypatch.setattr(OrderService, "results", lambda self, **kw: {
        "candidates": made, "files": {}, "usage_note": ""})

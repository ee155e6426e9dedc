"""Webhooks: signed (HMAC-SHA256 over timestamp and body), retried with backoff after a
failure, every attempt recorded; and never the only way: the order's state is always there
to poll."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from headshots.api import sign_webhook, verify_webhook
from tests.api.conftest import account, make_client, new_order, service_settings, upload_selfies


@pytest.fixture
def receiver():
    """A local endpoint that answers 500 to the first request and 204 after."""
    got: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((dict(self.headers), body))
            self.send_response(500 if len(got) == 1 else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    server.shutdown()
    server.server_close()


def test_webhooks_are_signed_retried_and_recorded(tmp_path, sqlite_url, tiny, backend,
                                                  receiver):
    url, got = receiver
    settings = service_settings(tmp_path, sqlite_url, tiny, webhook_backoff_seconds=0.05)
    with make_client(settings, backend) as c:
        hooks = c.app.state.services.webhooks
        a = account(c, "a@example.com")
        made = c.post("/api/v1/webhooks", json={"url": url}, headers=a).json()
        secret = made["secret"]
        assert secret.startswith("whsec_")
        assert "secret" not in c.get(f"/api/v1/webhooks/{made['id']}", headers=a).json()
        hooks.collect()  # the cursor starts at the present
        order_id = new_order(c, a)
        upload_selfies(c, a, order_id)
        assert c.post(f"/api/v1/orders/{order_id}/start", headers=a).status_code == 202
        assert c.post(f"/api/v1/orders/{order_id}/cancel", headers=a).status_code == 200
        assert hooks.collect() >= 1  # the check stage's end, from the event table
        first = len(got)
        hooks.send_due()
        assert len(got) > first
        deliveries = c.get(f"/api/v1/webhooks/{made['id']}/deliveries", headers=a).json()
        failed = [d for d in deliveries if d["last_status_code"] == 500]
        assert len(failed) == 1 and failed[0]["status"] == "pending"
        assert failed[0]["last_error"] == "answered HTTP 500"
        time.sleep(0.1)
        hooks.send_due()  # the retry after the backoff
        deliveries = c.get(f"/api/v1/webhooks/{made['id']}/deliveries", headers=a).json()
        assert all(d["status"] == "delivered" for d in deliveries), deliveries
        assert failed[0]["id"] in {d["id"] for d in deliveries if d["attempts"] == 2}
        events = {d["event"] for d in deliveries}
        assert {"order.updated", "order.cancelled"} <= events
        for headers, body in got:
            assert verify_webhook(secret, headers["Headshots-Signature"], body)
            assert not verify_webhook(secret, headers["Headshots-Signature"], body + b" ")
            payload = json.loads(body)
            assert payload["order"]["id"] == order_id
            assert "Zebulon" not in body.decode()  # ids and states, no personal data
        # a stale signature is refused by a receiver (replays)
        old = sign_webhook(secret, int(time.time()) - 3600, got[0][1])
        assert not verify_webhook(secret, old, got[0][1])
        # polling tells the same, webhook or not
        assert c.get(f"/api/v1/orders/{order_id}", headers=a).json()["status"] == "cancelled"


def test_webhook_urls_are_checked(lite):
    a = account(lite, "a@example.com")
    r = lite.post("/api/v1/webhooks", json={"url": "ftp://example.com/x"}, headers=a)
    assert r.status_code == 422 and "http(s)" in r.json()["problem"]

"""Accounts: sign-up and sign-in with a session cookie and CSRF, argon2 hashes, hashed API
tokens, sign-in rate limit, `headshots user add`, and deleting an account leaves nothing of
the person anywhere (files and every database row)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from headshots.cli import app as cli
from headshots.orders import CONSENT_VERSION
from headshots.orders._photos import result_from_bytes
from headshots.store import blobkeys
from tests.api.conftest import NAMES, account, new_order, upload_selfies, wait_status
from tests.orders.privacy import PersonScanner


def _rows(url: str, sql: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = list(conn.execute(text(sql)))
    engine.dispose()
    return rows


def test_sign_up_and_in_with_a_cookie_needs_the_csrf_token(lite):
    body = {"email": "Person@Example.com", "password": "correct horse battery"}
    r = lite.post("/api/v1/auth/signup", json=body)
    assert r.status_code == 403 and r.json()["error"] == "CsrfError"
    csrf = lite.get("/api/v1/auth/csrf").json()["csrf_token"]
    r = lite.post("/api/v1/auth/signup", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    cookie = r.headers["set-cookie"]
    assert "hs_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    csrf = r.json()["csrf_token"]
    assert lite.get("/api/v1/me").json()["email"] == "person@example.com"
    # a change made with the cookie needs the token; the token proves it came from our page
    new = {"consent_version": CONSENT_VERSION}
    assert lite.post("/api/v1/orders", json=new).status_code == 403
    assert lite.post("/api/v1/orders", json=new, headers={"X-CSRF-Token": "x.y"}).status_code \
        == 403
    r = lite.post("/api/v1/orders", json=new, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201
    # the password is stored as an argon2id hash, never as itself
    url = lite.app.state.services.settings.resolved_database_url
    [(stored,)] = _rows(url, "select password_hash from accounts")
    assert stored.startswith("$argon2id$") and "battery" not in stored
    assert lite.post("/api/v1/auth/signout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert lite.get("/api/v1/me").status_code == 401
    # sign in again; the wrong password is refused without saying which part was wrong
    lite.cookies.clear()
    csrf = lite.get("/api/v1/auth/csrf").json()["csrf_token"]
    r = lite.post("/api/v1/auth/signin", json={**body, "password": "wrong password!"},
                  headers={"X-CSRF-Token": csrf})
    assert r.status_code == 401 and "e-mail or password" in r.json()["problem"]
    r = lite.post("/api/v1/auth/signin", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and lite.get("/api/v1/me").status_code == 200
    assert len(lite.get("/api/v1/orders").json()) == 1


def test_sign_in_is_rate_limited(lite):
    lite.app.state.services.accounts.create(email="p@example.com", password="a long password")
    csrf = lite.get("/api/v1/auth/csrf").json()["csrf_token"]
    codes = [lite.post("/api/v1/auth/signin", headers={"X-CSRF-Token": csrf},
                       json={"email": "p@example.com", "password": "guess guess guess"}
                       ).status_code for _ in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429
    r = lite.post("/api/v1/auth/signin", headers={"X-CSRF-Token": csrf},
                  json={"email": "p@example.com", "password": "a long password"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0  # even the right one


def test_tokens_are_stored_hashed_and_can_be_revoked(lite):
    a = account(lite, "a@example.com")
    made = lite.post("/api/v1/me/tokens", json={"name": "zapier"}, headers=a).json()
    token = made["token"]
    url = lite.app.state.services.settings.resolved_database_url
    stored = _rows(url, "select token_sha256, name from api_tokens")
    assert len(stored) == 2 and all(token not in str(r) for r in stored)
    mine = {"Authorization": f"Bearer {token}"}
    assert lite.get("/api/v1/me", headers=mine).status_code == 200
    assert lite.delete(f"/api/v1/me/tokens/{made['id']}", headers=a).status_code == 204
    assert lite.get("/api/v1/me", headers=mine).status_code == 401


def test_user_add_prints_a_working_token(tmp_path, monkeypatch, lite):
    settings = lite.app.state.services.settings
    monkeypatch.setenv("HEADSHOTS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HEADSHOTS_DATABASE_URL", settings.resolved_database_url)
    result = CliRunner().invoke(cli, ["user", "add", "team@example.com"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("hs_")
    me = lite.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["email"] == "team@example.com" and me["has_password"] is False
    again = CliRunner().invoke(cli, ["user", "add", "team@example.com"])
    assert again.stdout.strip().splitlines()[-1] != token  # same account, a new token


@pytest.mark.slow
def test_deleting_the_account_leaves_nothing_of_it(client, backend, photos):
    a, b = account(client, "zebulon.quixote@example.com"), account(client, "b@example.com")
    svc = client.app.state.services
    store, url = svc.store, svc.settings.resolved_database_url
    trained = new_order(client, a, keep_model=True)
    upload_selfies(client, a, trained)
    assert client.post(f"/api/v1/orders/{trained}/start", headers=a).status_code == 202
    wait_status(client, a, trained, ("awaiting_approval",))  # selfies, crops, LoRA, preview
    collecting = new_order(client, a)
    upload_selfies(client, a, collecting)
    others = new_order(client, b)
    keys = [k for k in store.keys(trained, blobkeys.group_prefix(trained, "inputs"))
            if k.endswith(".npz")]
    embeddings = [result_from_bytes(store.get(trained, k)).embedding for k in keys]
    scanner = PersonScanner(backend, [photos["obama"], photos["obama2"]],
                            [*NAMES.values(), "zebulon.quixote@example.com"], embeddings)
    before = scanner.scan_dir(store.data_dir) + scanner.scan_database(url)
    assert any("file name" in f for f in before)  # the scanner is not blind

    r = client.delete("/api/v1/me", headers=a)
    assert r.status_code == 200, r.text
    gone = r.json()
    assert set(gone["orders"]) == {trained, collecting}
    assert all(rc["key_destroyed"] for rc in gone["receipts"])
    assert scanner.scan_dir(store.data_dir) + scanner.scan_database(url) == []
    assert not [p for p in (store.data_dir / "blobs" / "orders" / trained).rglob("*")
                if p.is_file()]
    assert client.get("/api/v1/me", headers=a).status_code == 401
    assert _rows(url, f"select count(*) from orders where owner = '{gone['account_id']}' "
                 "and status != 'deleted'") == [(0,)]
    # the other account is untouched
    assert client.get(f"/api/v1/orders/{others}", headers=b).json()["status"] == "collecting"

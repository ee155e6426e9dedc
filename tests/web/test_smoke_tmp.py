from tests.web.conftest import signup, new_order, post, wait_page_status
from tests.api.conftest import photo, NAMES

def test_smoke(web):
    print(web.get("/").text[:200])
    signup(web, "a@example.com")
    r = web.get("/orders/new"); assert r.status_code == 200, r.text
    oid = new_order(web)
    r = web.get(f"/orders/{oid}/photos"); assert r.status_code == 200, r.text
    files = [("files", (n, photo(k), "image/jpeg")) for k, n in NAMES.items()]
    files.append(("files", ("bad.gif", b"GIF89a" + b"\0" * 50, "image/gif")))
    r = post(web, f"/orders/{oid}/photos", files=files); print(r.status_code); 
    assert "refused" in r.text
    r = web.get(f"/orders/{oid}/styles"); assert r.status_code == 200, r.text
    r = post(web, f"/orders/{oid}/styles", {"styles": ["navy-blazer", "corporate-grey"]}); assert r.status_code == 303, r.text
    r = web.get(f"/orders/{oid}"); assert r.status_code == 200, r.text
    wait_page_status(web, oid, ("awaiting_approval",))
    r = web.get(f"/orders/{oid}/preview"); assert r.status_code == 200, r.text
    Path("/tmp/web_preview.html").write_text(r.text)
    r = post(web, f"/orders/{oid}/approve", {"force": "yes"}); assert r.status_code == 303, r.text
    wait_page_status(web, oid, ("delivered",))
    for p in ("", "/gallery", "/gallery?view=rejected", "/privacy"):
        r = web.get(f"/orders/{oid}{p}"); assert r.status_code == 200, r.text
        Path(f"/tmp/web_{p.strip('/').replace('?','_') or 'progress'}.html").write_text(r.text)
    r = post(web, f"/orders/{oid}/delete", {"confirm": "yes"}); assert r.status_code == 200, r.text
    Path("/tmp/web_deleted.html").write_text(r.text)
from pathlib import Path

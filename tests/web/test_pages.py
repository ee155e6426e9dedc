"""Every page and form through the real app (TestClient) on SQLite, the real face backend
and the tiny model: sign-in, CSRF, consent, photos and their reasons, ownership (404),
readable errors, and the whole order from consent to deletion."""

from __future__ import annotations

import re

import pytest

import headshots.web
from headshots.orders import CONSENT_VERSION
from tests.api.conftest import NAMES, photo
from tests.web.conftest import PASSWORD, csrf, gif, new_order, post, signup, wait_page_status


def readable(text: str) -> bool:
    return "Traceback" not in text and 'File "' not in text and "<html" in text


def test_public_names():
    assert headshots.web.__all__ == ["install_web"]
    assert callable(headshots.web.install_web)


def test_pages_ask_to_sign_in_first(web):
    r = web.get("/")
    assert r.status_code == 200 and "Create an account" in r.text
    for path in ("/orders/new", "/orders/ord_0123/photos", "/orders/ord_0123/gallery"):
        r = web.get(path)
        assert r.status_code == 303 and r.headers["location"] == f"/signin?next={path}"
    assert web.get("/static/app.css").status_code == 200
    assert web.get("/static/app.js").status_code == 200
    r = web.get("/no/such/page", headers={"Accept": "text/html"})
    assert r.status_code == 404 and "no page at this address" in r.text and readable(r.text)
    assert web.get("/api/v1/nope").json()["error"] == "HTTPError"  # the API answers JSON
    assert "frame-ancestors 'none'" in web.get("/").headers["content-security-policy"]
    paths = web.get("/openapi.json").json()["paths"]
    assert all(p.startswith("/api/v1/") for p in paths)  # the page is not the API


def test_sign_up_in_and_out(web):
    r = web.post("/signup", data={"email": "a@example.com", "password": "short",
                                  "csrf_token": csrf(web, "/signup")})
    assert r.status_code == 422 and "shorter than 10 characters" in r.text
    assert 'value="a@example.com"' in r.text and readable(r.text)  # the form keeps the e-mail
    signup(web, "a@example.com")
    assert "Your orders" in web.get("/").text
    r = post(web, "/signout")
    assert r.status_code == 303 and "Create an account" in web.get("/").text
    r = web.post("/signin", data={"email": "a@example.com", "password": "wrong password!",
                                  "csrf_token": csrf(web), "next": "/"})
    assert r.status_code == 401 and "e-mail or password is wrong" in r.text
    r = web.post("/signin", data={"email": "a@example.com", "password": PASSWORD,
                                  "csrf_token": csrf(web), "next": "https://evil.example/"})
    assert r.status_code == 303 and r.headers["location"] == "/"  # never to another site
    post(web, "/signout")
    r = web.post("/signin", data={"email": "A@example.com", "password": PASSWORD,
                                  "csrf_token": csrf(web), "next": "/orders/new"})
    assert r.status_code == 303 and r.headers["location"] == "/orders/new"
    r = web.post("/signup", data={"email": "a@example.com", "password": PASSWORD,
                                  "csrf_token": csrf(web, "/signup")})
    assert r.status_code == 409 and "already exists" in r.text


def test_every_form_refuses_a_missing_or_forged_csrf_token(web):
    r = web.post("/signup", data={"email": "a@example.com", "password": PASSWORD})
    assert r.status_code == 403 and "security token" in r.text and readable(r.text)
    signup(web, "a@example.com")
    order_id = new_order(web)
    forms = ["/orders/new", "/account/delete", f"/orders/{order_id}/photos",
             f"/orders/{order_id}/styles", f"/orders/{order_id}/more",
             f"/orders/{order_id}/photos/ph_x/delete", f"/orders/{order_id}/approve",
             f"/orders/{order_id}/cancel", f"/orders/{order_id}/keep",
             f"/orders/{order_id}/delete", "/signout", "/signin"]
    for path in forms:
        for token in (None, "forged.0000"):
            data = {"csrf_token": token} if token else {}
            r = web.post(path, data={**data, "confirm": "yes", "agree": "yes"})
            assert r.status_code == 403, (path, r.status_code)
            assert "reload the page" in r.text and readable(r.text)
    r = web.get(f"/orders/{order_id}/privacy")
    assert r.status_code == 200 and "deleted on schedule" in r.text  # nothing was changed


def test_consent_is_required_before_an_order(web):
    signup(web, "a@example.com")
    page = web.get("/orders/new")
    assert "biometric" in page.text and "Retention schedule" in page.text
    assert "7 days after your headshots are" in page.text  # the schedule in plain words
    assert 'name="keep_model"' in page.text and "checked" not in page.text  # opt-in, off
    r = post(web, "/orders/new", {"consent_version": CONSENT_VERSION})
    assert r.status_code == 422 and "have not agreed" in r.text and readable(r.text)
    r = post(web, "/orders/new", {"consent_version": "2001-01-01", "agree": "yes"})
    assert r.status_code == 422 and "not the current one" in r.text
    svc = web.app.state.services  # type: ignore[attr-defined]
    assert svc.workflow.list_orders() == []  # nothing was created


def test_photos_show_each_verdict_and_the_reason_of_a_bad_one(web):
    signup(web, "a@example.com")
    order_id = new_order(web)
    r = web.get(f"/orders/{order_id}/photos")
    assert r.status_code == 200 and 'id="upload-form"' in r.text
    files = [("files", ("beach.jpg", photo("obama"), "image/jpeg")),
             ("files", ("scan.gif", gif(), "image/gif")),
             ("files", ("notes.jpg", b"not an image at all", "image/jpeg")),
             ("files", ("moon.jpg", photo("astronaut"), "image/jpeg"))]
    r = post(web, f"/orders/{order_id}/photos", files=files)
    assert r.status_code == 422 and readable(r.text)
    assert "unsupported_format" in r.text and "use JPEG, PNG, WebP" in r.text
    assert "unreadable" in r.text and "export it again as JPEG or PNG" in r.text
    assert "ph_" not in r.text.split('id="photo-')[0]  # no internal ids in the reasons
    assert r.text.count('class="photo ok"') == 2  # the good ones are kept
    assert "Add 6 more usable photos" in r.text  # the set's advice
    photo_id = re.search(r'id="photo-(ph_[0-9a-f]+)"', r.text).group(1)  # type: ignore[union-attr]
    r = post(web, f"/orders/{order_id}/photos/{photo_id}/delete")
    assert r.status_code == 303
    assert web.get(f"/orders/{order_id}/photos").text.count('class="photo ok"') == 1


def page_routes(web) -> list[tuple[str, str]]:
    """Every (method, path) of the page that takes an order id, from the app itself, so a
    new page cannot skip the ownership test."""
    from headshots.web._pages import PageRoute

    found = []

    def walk(routes, prefix=""):
        for r in routes:
            if isinstance(r, PageRoute) and "{order_id}" in prefix + r.path:
                found.extend((m, prefix + r.path) for m in sorted(r.methods))
            elif hasattr(r, "original_router"):
                walk(r.original_router.routes, prefix + r.include_context.prefix)

    walk(web.app.routes)
    return found


def test_another_accounts_order_is_404_on_every_page_and_form(web):
    signup(web, "a@example.com")
    order_id = new_order(web)
    post(web, "/signout")
    signup(web, "b@example.com")
    routes = page_routes(web)
    assert len(routes) >= 14

    def send(method: str, path: str, ids: dict[str, str]):
        url = path.format(**ids)
        if method == "GET":
            return web.get(url)
        if path.endswith("/photos"):
            return post(web, url, files=[("files", ("a.jpg", photo("obama"), "image/jpeg"))])
        return post(web, url, {"styles": "navy-blazer", "style": "navy-blazer", "confirm": "yes",
                               "force": "yes", "consent_version": CONSENT_VERSION})

    for method, path in routes:
        r = send(method, path, {"order_id": order_id, "photo_id": "ph_0000"})
        assert r.status_code == 404, (method, path, r.status_code)
        assert f"order {order_id} does not exist" in r.text and readable(r.text)
        fake = send(method, path, {"order_id": "ord_" + "0" * 20, "photo_id": "ph_0"})
        assert fake.status_code == 404  # the same as an id that never existed
    assert f"/orders/{order_id}" not in web.get("/").text
    svc = web.app.state.services  # type: ignore[attr-defined]
    assert svc.workflow.get(order_id).status == "collecting" and not svc.workflow.photos(order_id)


def test_errors_are_readable_pages(web):
    signup(web, "a@example.com")
    order_id = new_order(web)
    r = web.get(f"/orders/{order_id}/gallery")
    assert r.status_code == 409 and "ready once it is delivered" in r.text and readable(r.text)
    r = post(web, f"/orders/{order_id}/styles", {"styles": "no-such-style"})
    assert r.status_code == 422 and "no-such-style" in r.text and readable(r.text)
    r = post(web, f"/orders/{order_id}/styles")
    assert r.status_code == 422 and "styles" in r.text and readable(r.text)
    r = post(web, f"/orders/{order_id}/styles", {"styles": "navy-blazer"})
    assert r.status_code == 422 and "only 0 of the photos are usable" in r.text
    r = post(web, f"/orders/{order_id}/approve")
    assert r.status_code == 409 and "collecting" in r.text
    r = post(web, f"/orders/{order_id}/delete")
    assert r.status_code == 422 and "not confirmed" in r.text
    assert web.get("/orders/ord_nope/preview").status_code == 404


@pytest.mark.slow
def test_a_whole_order_on_the_pages(web):
    signup(web, "a@example.com")
    order_id = new_order(web, keep=True)
    files = [("files", (name, photo(key), "image/jpeg")) for key, name in NAMES.items()]
    assert post(web, f"/orders/{order_id}/photos", files=files).status_code == 200
    page = web.get(f"/orders/{order_id}/styles").text
    assert 'value="corporate-grey"' in page and "checked" in page
    r = post(web, f"/orders/{order_id}/styles", {"styles": ["navy-blazer", "corporate-grey"]})
    assert r.status_code == 303 and r.headers["location"] == f"/orders/{order_id}"
    progress = web.get(f"/orders/{order_id}").text
    assert 'aria-live="polite"' in progress and "Train your model" in progress
    assert f'data-stream="/api/v1/orders/{order_id}/events/stream"' in progress

    wait_page_status(web, order_id, ("awaiting_approval",))
    preview = web.get(f"/orders/{order_id}/preview").text
    assert "NO-GO" in preview and "Likeness (median)" in preview
    assert preview.count('alt="AI-generated preview headshot') == 2
    r = post(web, f"/orders/{order_id}/approve")  # NO-GO needs the person's explicit yes
    assert r.status_code == 409 and "NO-GO" in r.text
    r = post(web, f"/orders/{order_id}/approve", {"force": "yes"})
    assert r.status_code == 303
    wait_page_status(web, order_id, ("delivered",))
    assert "See your headshots" in web.get(f"/orders/{order_id}").text

    gallery = web.get(f"/orders/{order_id}/gallery").text
    assert "not copyrightable as such" in gallery and "AI-generated" in gallery
    assert f'href="/api/v1/orders/{order_id}/download"' in gallery
    assert "none was selected" in gallery  # the tiny model's noise passes no check
    rejected = web.get(f"/orders/{order_id}/gallery?view=rejected").text
    assert rejected.count('class="shot"') == 6 and 'class="badge reason"' in rejected
    one = web.get(f"/orders/{order_id}/gallery?view=all&style=navy-blazer").text
    assert one.count('class="shot"') == 3
    img = re.search(r'src="(/api/v1/orders/[^"]+/images/img_[0-9a-f]+)"', rejected).group(1)  # type: ignore[union-attr]
    assert web.get(img).headers["content-type"] == "image/png"  # the cookie reads images
    assert web.get(f"/api/v1/orders/{order_id}/download").status_code == 200

    # more of a style from the kept model: a follow-up order, then its progress page
    assert gallery.count('action="/orders/' + order_id + '/more"') == 2
    assert ">More Navy blazer</button>" in gallery and "new order of\n  3 images" in gallery
    r = post(web, f"/orders/{order_id}/more", {"style": "navy-blazer",
                                               "consent_version": "2001-01-01"})
    assert r.status_code == 422 and "not the current one" in r.text  # what the page showed
    r = post(web, f"/orders/{order_id}/more", {"style": "navy-blazer",
                                               "consent_version": CONSENT_VERSION})
    assert r.status_code == 303
    child = re.fullmatch(r"/orders/(ord_[0-9a-f]+)", r.headers["location"]).group(1)  # type: ignore[union-attr]
    wait_page_status(web, child, ("delivered",))
    more = web.get(f"/orders/{child}/gallery?view=all").text
    assert more.count('class="shot"') == 3 and "Navy blazer style" in more
    assert "Your model is not kept: it is deleted on" in more and "/more" not in more

    privacy = web.get(f"/orders/{order_id}/privacy").text
    assert "Your selfies, crops and face measurements" in privacy and "UTC" in privacy
    assert 'id="keep" name="keep" type="checkbox" value="yes" checked' in privacy
    assert post(web, f"/orders/{order_id}/keep").status_code == 303
    assert "deleted on schedule" in web.get(f"/orders/{order_id}/privacy").text
    gallery = web.get(f"/orders/{order_id}/gallery").text  # no longer kept: no buttons
    assert 'id="no-more">Your model is not kept' in gallery and "/more" not in gallery
    r = post(web, f"/orders/{order_id}/more", {"style": "navy-blazer",
                                               "consent_version": CONSENT_VERSION})
    assert r.status_code == 409 and "no kept model" in r.text and readable(r.text)
    r = post(web, f"/orders/{order_id}/delete", {"confirm": "yes"})
    assert r.status_code == 303
    done = web.get(f"/orders/{order_id}/privacy").text
    assert "Deleted." in done and "Deleted at your request" in done and "records: photos" in done
    assert 'action="/orders/' + order_id + '/delete"' not in done
    assert "deleted" in web.get("/").text

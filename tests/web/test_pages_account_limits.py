"""More of the page through the real app (TestClient, SQLite, the real face backend, the tiny
model): deleting the account, an upload over the size cap without the script, the gallery's
pages, and the words when "more of a style" is not offered."""

from __future__ import annotations

import re

from tests.api.conftest import NAMES, photo
from tests.web.conftest import PASSWORD, csrf, new_order, post, signup, thousand_candidates
from tests.web.test_pages import readable


def test_more_of_a_style_says_why_it_is_not_offered():
    from headshots.web._present import more_offer

    ids = ["navy-blazer", "corporate-grey"]
    kept = {"inputs": "2026-01-08T00:00:00", "model": "2029-01-01T00:00:00",
            "results": "2026-01-31T00:00:00"}
    order = {"status": "delivered", "keep_model": True, "kept_until": kept,
             "settings": {"styles": ["navy-blazer", "custom"], "candidates": 40}}
    offer = more_offer(order, ids)
    assert offer == {"can": True, "why": "", "styles": ["navy-blazer"], "count": 40}
    assert more_offer({**order, "status": "generating"}, ids)["why"].endswith(
        "once the order is delivered.")
    no_inputs = more_offer({**order, "kept_until": {**kept, "inputs": "deleted"}}, ids)
    assert not no_inputs["can"] and "selfies were deleted" in no_inputs["why"]
    gone = more_offer({**order, "keep_model": False,
                       "kept_until": {**kept, "model": "deleted"}}, ids)
    assert gone["why"].startswith("Your model was deleted per the retention schedule (you did "
                                  "not ask to keep it)") and gone["styles"] == []
    assert "(you did not" not in more_offer(
        {**order, "kept_until": {**kept, "model": "deleted"}}, ids)["why"]
    later = more_offer({**order, "keep_model": False}, ids)
    assert "is deleted on 2029-01-01 per the retention schedule" in later["why"]
    assert "no style" in more_offer({**order, "settings": {"styles": ["custom"]}}, ids)["why"]


def test_deleting_the_account_on_the_page_leaves_nothing_of_it(web, backend, photos):
    from tests.orders.privacy import PersonScanner

    signup(web, "b@example.com")
    others = new_order(web)
    post(web, "/signout")
    signup(web, "zebulon.quixote@example.com")
    first, second = new_order(web, keep=True), new_order(web)
    for order_id in (first, second):
        files = [("files", (name, photo(key), "image/jpeg")) for key, name in NAMES.items()]
        assert post(web, f"/orders/{order_id}/photos", files=files).status_code == 200
    svc = web.app.state.services  # type: ignore[attr-defined]
    store, url = svc.store, svc.settings.resolved_database_url
    scanner = PersonScanner(backend, [photos["obama"], photos["obama2"]],
                            [*NAMES.values(), "zebulon.quixote@example.com"], [])
    before = scanner.scan_dir(store.data_dir) + scanner.scan_database(url)
    assert any("file name" in f for f in before)  # the scanner is not blind

    page = web.get("/account")
    assert "zebulon.quixote@example.com" in page.text and "2 order(s)" in page.text
    assert 'href="/account"' in web.get(f"/orders/{first}/privacy").text
    r = post(web, "/account/delete")  # not confirmed: nothing happens
    assert r.status_code == 422 and "not confirmed" in r.text and readable(r.text)
    assert web.get("/account").status_code == 200
    r = post(web, "/account/delete", {"confirm": "yes"})
    assert r.status_code == 200 and "Your account is deleted" in r.text and readable(r.text)
    assert f"Order {first}: Deleted at your request" in r.text
    assert f"Order {second}: Deleted at your request" in r.text and "records: photos" in r.text
    cleared = [c for c in r.headers.get_list("set-cookie")
               if c.startswith(("hs_session=", "hs_csrf=")) and "Max-Age=0" in c]
    assert len(cleared) == 2  # signed out

    assert scanner.scan_dir(store.data_dir) + scanner.scan_database(url) == []
    assert [o.id for o in svc.workflow.list_orders() if o.status != "deleted"] == [others]
    web.cookies.clear()
    assert web.get("/account").status_code == 303  # to the sign-in page
    r = web.post("/signin", data={"email": "zebulon.quixote@example.com", "password": PASSWORD,
                                  "csrf_token": csrf(web), "next": "/"})
    assert r.status_code == 401 and "e-mail or password is wrong" in r.text
    r = web.post("/signin", data={"email": "b@example.com", "password": PASSWORD,
                                  "csrf_token": csrf(web), "next": "/"})
    assert r.status_code == 303  # the other account is untouched
    assert web.get(f"/orders/{others}/photos").status_code == 200


def test_an_upload_over_the_cap_without_the_script_answers_the_photos_page(tmp_path, tiny,
                                                                          backend):
    """The no-script form sends every chosen photo in one request: over the cap, the person
    gets the photos page with the reason and the fix (HTML, declared length or not), while
    the API keeps its JSON 413; nothing already kept is lost."""
    import httpx

    from tests.api.conftest import make_client, service_settings

    url = f"sqlite:///{tmp_path / 'db' / 'headshots.db'}"
    settings = service_settings(tmp_path, url, tiny, max_upload_bytes=200_000)
    with make_client(settings, backend) as web:  # the cap: 0.2 MB + 1 MB for the form
        web.follow_redirects = False
        signup(web, "a@example.com")
        order_id = new_order(web)
        kept = [("files", ("beach.jpg", photo("obama"), "image/jpeg"))]
        assert post(web, f"/orders/{order_id}/photos", files=kept).status_code == 200
        big = [("files", (f"big{i}.jpg", bytes(400_000), "image/jpeg")) for i in range(3)]
        path = f"/orders/{order_id}/photos"
        r = post(web, path, files=big, headers={"Accept": "text/html"})
        assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
        assert readable(r.text) and 'id="form-error"' in r.text and 'id="upload-form"' in r.text
        assert "too large to send together: one upload takes about 0.2 MB" in r.text
        assert "Choose fewer photos at a time" in r.text
        assert r.text.count('class="photo ok"') == 1  # the photo kept before is still there

        # the same body sent without a length (chunked): the route's page again
        form = httpx.Request("POST", "http://x" + path, files=big,
                             data={"csrf_token": web.cookies.get("hs_csrf")})
        body = form.read()
        chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))
        r = web.post(path, content=chunks,
                     headers={"Content-Type": form.headers["content-type"]})
        assert "content-length" not in form.headers or r.request.headers.get(
            "content-length") is None
        assert r.status_code == 413 and "too large to send together" in r.text

        # a form that cannot be read at all: the photos page again, saying so
        r = web.post(path, content=b"--x\r\nnot a part", headers={
            "Content-Type": "multipart/form-data; boundary=x", "Accept": "text/html"})
        assert r.status_code == 400 and "The form could not be read" in r.text, r.text[-800:]
        assert 'id="upload-form"' in r.text and readable(r.text)

        r = web.post("/signup", data={"email": "x@example.com", "password": "p" * 1_200_000,
                                      "csrf_token": csrf(web, "/signup")})
        assert r.status_code == 413 and "too large" in r.text and readable(r.text)
        # the API keeps its JSON answer
        r = web.post(f"/api/v1/orders/{order_id}/photos", files=big,
                     headers={"X-CSRF-Token": web.cookies.get("hs_csrf") or ""})
        assert r.status_code == 413 and r.json()["reason"] == "too_large"
        # another account's order: the same 404 as ever, not its photos page
        post(web, "/signout")
        signup(web, "b@example.com")
        r = post(web, path, files=big)
        assert r.status_code == 404 and "does not exist" in r.text
        svc = web.app.state.services  # type: ignore[attr-defined]
        assert len(svc.workflow.photos(order_id)) == 1


def test_the_gallery_pages_a_thousand_candidates_keeping_the_filter(web, monkeypatch):
    """A thousand candidates are pages of 60 (the selected first), not one page of a
    thousand images; every page link keeps the tab and the style. The service's results
    are replaced by a thousand made-up candidates: paging is what is tested here."""
    from headshots.web._present import page_numbers

    thousand_candidates(monkeypatch)
    signup(web, "a@example.com")
    order_id = new_order(web)
    url = f"/orders/{order_id}/gallery"

    def shots(text: str) -> list[int]:
        return [int(n, 16) for n in re.findall(r'/images/img_([0-9a-f]{4})"', text)]

    first = web.get(f"{url}?view=all").text
    assert shots(first) == list(range(60))  # the 40 selected first, then the next 20
    assert "Images 1–60 of 1000 · page 1 of 17" in first
    assert first.count('aria-label="Pages of images') == 2  # above and below the images
    assert 'href="?page=2&amp;view=all" rel="next"' in first and 'rel="prev"' not in first
    last = web.get(f"{url}?view=all&page=17").text
    assert shots(last) == list(range(960, 1000)) and 'rel="next"' not in last
    assert web.get(f"{url}?view=all&page=99").text.count('class="shot"') == 40  # the last
    assert web.get(f"{url}?view=all&page=0").text.count('class="shot"') == 60

    one = web.get(f"{url}?view=rejected&style=corporate-grey&page=2").text
    assert shots(one) == list(range(701, 1000, 2))[60:120]  # rejected corporate-grey: odd
    assert "Images 61–120 of 150 · page 2 of 3" in one
    pager = re.search(r'<nav class="pager".*?</nav>', one, re.S).group(0)  # type: ignore[union-attr]
    assert set(re.findall(r'href="([^"]*)"', pager)) == {
        "?style=corporate-grey&amp;view=rejected",  # page 1 (Previous and "1")
        "?page=2&amp;style=corporate-grey&amp;view=rejected",
        "?page=3&amp;style=corporate-grey&amp;view=rejected"}
    tabs = re.search(r'<nav aria-label="Which images".*?</nav>', one, re.S).group(0)  # type: ignore[union-attr]
    assert "page=" not in tabs and tabs.count("style=corporate-grey") == 3  # a new tab: page 1
    selected = web.get(f"{url}").text
    assert shots(selected) == list(range(40)) and 'class="pager"' not in selected  # one page

    assert page_numbers(1, 1) == [1]
    assert page_numbers(9, 17) == [1, None, 7, 8, 9, 10, 11, None, 17]
    assert page_numbers(2, 17) == [1, 2, 3, 4, None, 17]

"""The page in a real browser (Playwright driving Debian's Chromium, headless) against a real
``headshots serve`` on the tiny model: sign-up → consent → upload (a refused file shows its
reason) → styles → progress (the server is killed mid-training and restarted; the reloaded
page follows the resumed order) → preview → start → progress → gallery → download → delete.

Set HEADSHOTS_SCREENS=docs/screens to also save every page at phone and desktop width."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.api.conftest import NAMES, TINY_DEFAULTS, photo
from tests.web.conftest import gif

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
PHONE, DESKTOP = 390, 1280
MAX_UPLOAD = 2_000_000  # the walk's server takes one request of 3 MB (2 MB + the form's 1 MB)


def _need_browser() -> Any:
    """Playwright's sync API; a missing Chromium skips here but fails in CI (CI=true)."""
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "playwright is not installed (pip install -e .[dev])"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {missing}")
        pytest.skip(missing)
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``headshots serve`` in a child process on a fixed port (kept across restarts)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env, self.port = env, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.child: subprocess.Popen[str] | None = None

    def start(self, delay: float) -> None:
        env = {**self.env, "HEADSHOTS_TEST_DELAY": str(delay)}
        self.child = subprocess.Popen([sys.executable, "-m", "tests.web._serve_driver",
                                       str(self.port)], cwd=ROOT, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.child.poll() is None, "the server stopped"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)

    def kill(self) -> None:
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGKILL)
            self.child.wait()


@pytest.fixture
def server(tmp_path, tiny) -> Iterator[Server]:
    defaults = {**TINY_DEFAULTS, "train_steps": 12,
                "train_overrides": {**TINY_DEFAULTS["train_overrides"], "checkpoint_every": 3}}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
           "HEADSHOTS_DATA_DIR": str(tmp_path / "data"),
           "HEADSHOTS_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'headshots.db'}",
           "HEADSHOTS_HEARTBEAT_SECONDS": "0.2", "HEADSHOTS_SERVICE__DEVICE": "cpu",
           "HEADSHOTS_SERVICE__BASE_MODELS": json.dumps({"tiny": str(tiny["sd15"])}),
           "HEADSHOTS_SERVICE__ORDER_DEFAULTS": json.dumps(defaults),
           "HEADSHOTS_SERVICE__MAX_UPLOAD_BYTES": str(MAX_UPLOAD),
           "HEADSHOTS_LOG": str(tmp_path / "serve.log")}
    s = Server(env)
    s.start(delay=0.5)
    try:
        yield s
    finally:
        s.kill()


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_playwright = _need_browser()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(server, browser) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": DESKTOP, "height": 900},
                                  accept_downloads=True)
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


# every visible text's contrast against the first opaque background behind it (WCAG 2.1:
# 4.5:1, or 3:1 for large text)
CONTRAST = """() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  const bg = (e) => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e)
    .backgroundColor); if (c.length === 3 || c[3] > 0.5) return c.slice(0, 3); }
    return [255, 255, 255]; };
  const out = [];
  for (const e of document.querySelectorAll("body *")) {
    const own = Array.from(e.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    const st = getComputedStyle(e);
    if (!own || !e.getClientRects().length || st.visibility === "hidden") continue;
    const [a, b] = [lum(rgb(st.color).slice(0, 3)), lum(bg(e))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const text = e.textContent.trim().slice(0, 30);
    if (ratio < need) out.push(`${e.tagName} "${text}" ${ratio.toFixed(2)}`);
  }
  return out;
}"""


def check_page(page: Any, name: str) -> None:
    """Every control has a name a screen reader can say, every image an alt text, text has
    AA contrast, nothing is wider than the phone screen; then (when asked) the page at both
    widths."""
    unnamed = page.evaluate("""() => Array.from(document.querySelectorAll(
        'input:not([type=hidden]), select, textarea, button, a[href], img')).filter(e => {
          if (e.tagName === 'IMG') return !e.getAttribute('alt');
          if (e.tagName === 'BUTTON' || e.tagName === 'A')
            return !(e.textContent.trim() || e.getAttribute('aria-label'));
          return !((e.labels && e.labels.length) || e.getAttribute('aria-label'));
        }).map(e => e.outerHTML.slice(0, 120))""")
    assert unnamed == [], f"{name}: unnamed controls {unnamed}"
    low = page.evaluate(CONTRAST)
    assert low == [], f"{name}: text below WCAG AA contrast {low}"
    folder = os.environ.get("HEADSHOTS_SCREENS")
    for width in (PHONE, DESKTOP):
        page.set_viewport_size({"width": width, "height": 900})
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{name}: {wide} px wide at {width} px"
        if folder:
            png = page.screenshot(full_page=True)
            with Image.open(io.BytesIO(png)) as im:
                im = im.convert("RGB")
                if im.height > 2400:
                    im = im.crop((0, 0, im.width, 2400))
                out = Path(folder) / f"{name}-{'phone' if width == PHONE else 'desktop'}.png"
                out.parent.mkdir(parents=True, exist_ok=True)
                im.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(out,
                                                                               optimize=True)
    page.set_viewport_size({"width": DESKTOP, "height": 900})


def test_the_whole_walk_in_a_browser(server, page, tmp_path):
    problems: list[str] = []  # script errors and refused resources (a CSP violation, a 404)
    page.on("pageerror", lambda exc: problems.append(f"error: {exc}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(server.url)
    check_page(page, "01-landing")
    page.get_by_role("link", name="Create an account").click()

    # sign-up by keyboard alone, with a visible focus ring
    page.focus("#email")
    page.keyboard.type("walk@example.com")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert page.evaluate("document.activeElement.id") == "password" and outline != "none"
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Enter")

    page.wait_for_url("**/orders/new")
    assert "biometric" in page.locator(".consent").inner_text()
    assert "Retention schedule" in page.locator(".consent").inner_text()
    check_page(page, "02-consent")
    page.get_by_label("Keep my model after delivery").check()
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="Agree and continue").click()

    page.wait_for_url("**/photos")
    files = [{"name": name, "mimeType": "image/jpeg", "buffer": photo(key)}
             for key, name in NAMES.items()]
    files.append({"name": "scan.gif", "mimeType": "image/gif", "buffer": gif()})
    page.set_input_files("#files", files)
    page.get_by_role("button", name="Upload").click()
    refused = page.locator("#photo-list li.refused")
    refused.wait_for()
    assert "unsupported_format" in refused.inner_text()
    assert "JPEG" in refused.inner_text()  # the fix names what works
    page.wait_for_function("document.querySelectorAll('#photo-list li.ok').length === 3")
    assert "3 of 3 photo(s) accepted" in page.locator("#set-live").inner_text()
    said = page.locator("#upload-live").text_content() or ""  # read aloud, photo by photo
    assert said.startswith("scan.gif: refused") and "not supported" in said
    check_page(page, "03-photos")

    # without scripts the form sends every chosen photo at once: over the cap, the photos
    # page says why and what to do (HTML from the drained request, not JSON, not a reset)
    nojs = page.context.browser.new_context(java_script_enabled=False,
                                            viewport={"width": DESKTOP, "height": 900})
    nojs.add_cookies(page.context.cookies())
    plain = nojs.new_page()
    plain.goto(page.url)
    big = [{"name": f"big{i}.jpg", "mimeType": "image/jpeg", "buffer": photo("obama") * 18}
           for i in range(2)]
    plain.set_input_files("#files", big)
    plain.get_by_role("button", name="Upload").click()
    alert = plain.get_by_role("alert").inner_text()
    assert "too large to send together" in alert and "Choose fewer photos" in alert, alert
    assert plain.locator("#photo-list li.ok").count() == 3  # nothing kept is lost
    check_page(plain, "03b-photos-too-large")
    nojs.close()

    page.get_by_role("link", name="Next: choose styles").click()
    page.wait_for_url("**/styles")
    page.get_by_label("Corporate, grey backdrop").uncheck()
    page.get_by_label("Navy blazer").check()
    check_page(page, "04-styles")
    page.get_by_role("button", name="Save styles and train my model").click()

    # training: kill the server mid-training, start it again, reload the page
    order_id = page.url.rstrip("/").rsplit("/", 1)[1]
    page.locator(".stage.running", has_text="Train your model").locator("progress").wait_for(
        timeout=90_000)  # the live page shows the stage's progress as it comes
    check_page(page, "05-progress")
    server.kill()
    server.start(delay=0)
    page.reload()
    assert "progress" in page.title().lower()
    page.get_by_role("link", name="See the preview and decide").wait_for(timeout=120_000)
    events = page.locator("details.events").text_content() or ""
    assert "attempt 2" in events  # the stage ran again after the restart

    page.get_by_role("link", name="See the preview and decide").click()
    page.wait_for_url("**/preview")
    assert "NO-GO" in page.locator(".verdict").inner_text()  # the tiny model draws noise
    assert page.locator(".gallery img[alt^='AI-generated']").count() == 2
    check_page(page, "06-preview")
    page.get_by_label("Go ahead although the preview said NO-GO").check()
    page.get_by_role("button", name="Start generating my headshots").click()

    page.wait_for_url(f"**/orders/{order_id}")
    page.get_by_role("link", name="See your headshots").wait_for(timeout=120_000)
    assert "Delivered" in page.locator("#live-status").inner_text()
    page.get_by_role("link", name="See your headshots").click()

    page.wait_for_url("**/gallery")
    assert "not copyrightable" in page.locator(".usage").inner_text()
    check_page(page, "07-gallery")
    page.get_by_role("link", name="Why rejected").click()
    badges = page.locator(".gallery .badge.reason")
    assert badges.count() >= 6 and page.locator(".gallery img").count() == 6
    check_page(page, "08-rejected")
    page.select_option("#style", "navy-blazer")
    page.get_by_role("button", name="Show").click()
    assert page.locator(".gallery li.shot").count() == 6  # one style ordered: all of them

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the selection (zip)").click()
    saved = tmp_path / "headshots.zip"
    download.value.save_as(saved)
    assert f"headshots-{order_id}/USAGE.md" in zipfile.ZipFile(saved).namelist()

    page.locator(".steps").get_by_role("link", name="Privacy").click()
    page.wait_for_url("**/privacy")
    assert page.get_by_label("Keep my model after delivery").is_checked()
    check_page(page, "09-privacy")
    page.get_by_label("Yes, delete everything of this order now").check()
    page.get_by_role("button", name="Delete now").click()
    page.get_by_text("Deleted.").wait_for()
    assert '"trigger": "request"' in (page.locator("pre.receipt").first.text_content() or "")
    check_page(page, "10-deleted")
    page.goto(server.url)
    assert "deleted" in page.locator(".orders").inner_text()
    check_page(page, "11-orders")
    # expected: the refused GIF (415), and the event stream cut by the killed server
    expected = ("status of 415", "ERR_INCOMPLETE_CHUNKED_ENCODING", "ERR_CONNECTION_REFUSED")
    assert [p for p in problems if not any(e in p for e in expected)] == []
    page.goto(f"{server.url}/orders/ord_{'0' * 20}/gallery")
    assert "does not exist" in page.get_by_role("alert").inner_text()
    check_page(page, "12-error")
    page.goto(server.url)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("E-mail").fill("walk@example.com")
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    assert "wrong" in page.get_by_role("alert").inner_text()
    check_page(page, "13-signin-error")

    # delete the account (with a second order holding a selfie): every order, the sign-in;
    # the old password no longer works
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="New order").click()
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="Agree and continue").click()
    page.wait_for_url("**/photos")
    page.set_input_files("#files", [{"name": "Zebulon-Quixote-late.jpg",
                                     "mimeType": "image/jpeg", "buffer": photo("obama")}])
    page.get_by_role("button", name="Upload").click()
    page.locator("#photo-list li.ok").wait_for()
    page.get_by_role("link", name="Account").click()
    page.wait_for_url("**/account")
    check_page(page, "14-account")
    page.get_by_label("Yes, delete my account and every order now").check()
    page.get_by_role("button", name="Delete my account").click()
    assert "walk@example.com" in page.get_by_role("status").inner_text()
    assert page.locator("table.receipt-table").count() == 1  # the order that held data
    check_page(page, "15-account-deleted")
    assert page.context.cookies() == [] or all(
        c["name"] not in ("hs_session", "hs_csrf") for c in page.context.cookies())
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("E-mail").fill("walk@example.com")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    assert "wrong" in page.get_by_role("alert").inner_text()


def test_the_gallery_pager_in_a_browser(web, browser, monkeypatch):
    """The pager at phone and desktop width: the app in this process (TestClient) behind
    Chromium's request routing, with a thousand made-up candidates (paging is what is
    shown; their images are flat colours)."""
    from tests.web.conftest import new_order, signup, thousand_candidates

    thousand_candidates(monkeypatch)
    signup(web, "pager@example.com")
    order_id = new_order(web)

    def answer(route: Any) -> None:
        path = route.request.url.removeprefix("http://web.test")
        if "/images/img_" in path:
            n = int(path.rsplit("_", 1)[1], 16)
            buf = io.BytesIO()
            Image.new("RGB", (64, 64), (40 + n % 180, 90, 160 - n % 120)).save(buf, "PNG")
            route.fulfill(status=200, body=buf.getvalue(), content_type="image/png")
            return
        r = web.get(path, headers={"Accept": "text/html"})
        route.fulfill(status=r.status_code, body=r.content,
                      headers={k: v for k, v in r.headers.items() if k != "content-length"})

    context = browser.new_context(viewport={"width": DESKTOP, "height": 900})
    try:
        context.route("http://web.test/**", answer)
        page = context.new_page()
        page.goto(f"http://web.test/orders/{order_id}/gallery?view=all&style=navy-blazer")
        assert page.locator(".gallery li.shot").count() == 60
        assert "page 1 of 9" in page.locator(".pager").first.inner_text()
        page.locator(".pager").first.get_by_role("link", name="Next").click()
        page.wait_for_url("**page=2**")
        assert "style=navy-blazer" in page.url and "view=all" in page.url
        assert "Images 61–120 of 500" in page.locator(".pager").first.inner_text()
        check_page(page, "16-gallery-pages")
    finally:
        context.close()

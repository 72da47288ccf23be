"""Browser tests: the real app served on a local port, driven by Debian's Chromium.

Every test in this folder is marked ``browser``. Playwright never downloads a browser
here: it drives ``/usr/bin/chromium``, and when that is missing or will not start the
tests are skipped with a message saying how to install it (``make browser-deps``).

Fixtures
    live_server   the test's ``app`` served on 127.0.0.1:<free port>; yields the base URL.
                  It is the same app and database as the ``app`` fixture, so rows made in
                  the test (``cast``...) are visible to the browser.
    browser       one headless Chromium for the whole session.
    new_page      ``new_page(locale="es", viewport=..., ...)``: a page in a fresh context.
    locale        "en" unless a test parametrizes ``locale``; ``phone_page`` uses it.
    phone_page    a page in a 360x780 phone context (scale 2, touch) in ``locale``.

Every context made here fails the test if the page asked for anything outside the
live server (UX.md: no external requests) or logged a JavaScript or CSP error.

Helpers (import them: ``from .conftest import check_axe, screenshot``)
    check_axe(page, name)    runs axe-core; fails on "serious" or "critical" violations.
    screenshot(page, name)   full-page PNG at build/screenshots/<name>.png.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
INSTALL_HINT = (
    "install Debian's `chromium` and `fonts-noto-cjk` to run the browser tests "
    "(`make browser-deps` does it, as root: apt-get install chromium fonts-noto-cjk)"
)
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCREENSHOTS = ROOT / "build" / "screenshots"

PHONE = {
    "viewport": {"width": 360, "height": 780},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DEFAULT_TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    """Mark every test collected from this folder ``browser``."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


# The server -------------------------------------------------------------------------


@pytest.fixture
def live_server(app):
    """Serve the test's app in a background thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# The browser ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"{CHROMIUM} is missing: {INSTALL_HINT}")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - requirements.txt installs it
        pytest.skip(f"Playwright is not installed ({exc}): pip install -r requirements.txt")

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except PlaywrightError as exc:
        playwright.stop()
        first_line = (str(exc).strip().splitlines() or ["unknown error"])[0]
        pytest.skip(f"Chromium at {CHROMIUM} would not start ({first_line}): {INSTALL_HINT}")
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


def html_lang(locale: str) -> str:
    return locale.replace("_", "-")


@pytest.fixture
def new_page(browser):
    """``new_page(locale="es", viewport={...}, ...)``: a page in a fresh browser context.

    Keyword arguments go to ``browser.new_context``. Contexts are closed after the test,
    which then fails if any page asked for something outside 127.0.0.1 or logged an error.
    """
    contexts = []
    problems: list[str] = []

    def _new(*, locale: str = "en", **options):
        context = browser.new_context(locale=html_lang(locale), **options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)

        def on_request(req):
            parts = urlsplit(req.url)
            if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != "127.0.0.1":
                problems.append(f"external request: {req.method} {req.url}")

        def on_console(msg):
            if msg.type == "error":
                problems.append(f"console error on {msg.location.get('url', '?')}: {msg.text}")

        context.on("request", on_request)
        context.on("console", on_console)
        context.on("weberror", lambda err: problems.append(f"page error: {err.error}"))
        contexts.append(context)
        return context.new_page()

    yield _new
    for context in contexts:
        context.close()
    if problems:
        pytest.fail("the browser saw problems:\n  " + "\n  ".join(problems))


@pytest.fixture
def locale():
    """The page's language; parametrize ``locale`` in a test to change it."""
    return "en"


@pytest.fixture
def phone_page(new_page, locale):
    """A phone-sized page (360x780 CSS px, scale 2, touch) whose browser speaks ``locale``."""
    return new_page(locale=locale, **PHONE)


# Helpers ----------------------------------------------------------------------------

FAIL_IMPACTS = ("serious", "critical")


def check_axe(page, name: str) -> list[dict]:
    """Run axe-core on the page as it is now; fail on serious or critical violations.

    Returns every violation (minor and moderate ones included) for tests that want more.
    """
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response["violations"]
    bad = [v for v in violations if v.get("impact") in FAIL_IMPACTS]
    if bad:
        lines = [f"axe found {len(bad)} serious/critical violation(s) on {name} ({page.url}):"]
        for v in bad:
            lines.append(f"- {v['id']} [{v['impact']}]: {v['help']} ({v['helpUrl']})")
            for node in v["nodes"]:
                target = " ".join(str(t) for t in node["target"])
                lines.append(f"    at {target}")
                summary = (node.get("failureSummary") or "").strip().replace("\n", " / ")
                if summary:
                    lines.append(f"       {summary}")
        pytest.fail("\n".join(lines), pytrace=False)
    return violations


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG at build/screenshots/<name>.png and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

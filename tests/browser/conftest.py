"""Browser tests: Playwright driving Debian's Chromium against a live portal and the live sandbox.

Fixtures: `portal` (a LivePortal per module, with the portal's own Content-Security-Policy; the
`page` fixture fails a test on any CSP violation or uncaught script error), `browser` (one headless
Chromium per session), `user` (a fresh sandbox user per test), `page` / `nojs_page` (a fresh page per
test, JavaScript on / off, in a context the worker's tests share in turn: see `contexts`),
`scriptless_page` (JavaScript on, the portal's own scripts refused: the pages a browser without
JavaScript gets, for checks such as axe that need a script engine) and `login` (log in through the
sandbox's real login and consent pages).
A failing test leaves a screenshot in `test-artifacts/` at the repository root (git-ignored); with
`pytest --pictures` the states the tests reach are kept there too (the `picture` fixture).
"""
from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.helpers import PASSWORD, log_in
from tests.live_portal import LivePortal
from tests.live_portal import log_in as http_log_in

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# How long a page may take to reach the state a test waits for (Playwright's actions, waits and `expect`).
STATE_TIMEOUT_MS = 15_000
expect.set_options(timeout=STATE_TIMEOUT_MS)
_users = itertools.count()


def pytest_collection_modifyitems(items):
    """Every test in this folder drives Chromium: the `browser` marker is given here, so `-m "not browser"`
    leaves out a new module too."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def picture(request, artifacts):
    """`picture(page_or_locator, name, full_page=False)`: a picture of a state the test reached, for a person
    to look at, kept in test-artifacts/ under `pytest --pictures` only (each costs the browser a render)."""
    def _picture(target, name: str, full_page: bool = False) -> None:
        if request.config.getoption("pictures"):
            options = {"full_page": True} if full_page else {}
            target.screenshot(path=str(artifacts / name), **options)

    return _picture


@pytest.fixture(scope="module")
def portal(sandbox, tmp_path_factory):
    live = LivePortal(sandbox, str(tmp_path_factory.mktemp("browser-sessions")), WTF_CSRF_ENABLED=True)
    yield live
    live.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # `make test` installs Debian's Chromium: its absence is a broken set-up, not a reason to skip.
    assert os.path.exists(CHROMIUM), f"no Chromium at {CHROMIUM}: run `make test-deps`"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def user(sandbox, request):
    """A fresh sandbox user for each test, so datapack names never collide between tests."""
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    name = f"{module}_{next(_users)}"
    sandbox.add_user(name, PASSWORD)
    return name


class PageWatch:
    """Collects what must not happen on a page: uncaught script errors and CSP violations."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("console", self._console)

    def _console(self, message):
        if message.type == "error" and "Content Security Policy" in message.text:
            self.errors.append(f"CSP: {message.text}")


@pytest.fixture(scope="session")
def contexts(browser, sandbox):
    """`contexts(javascript)`: the context each test's page opens in, one per JavaScript setting and
    worker. Each keeps a page open on 127.0.0.1, so the tests' pages (same site) share its renderer
    process instead of starting one each (a quarter of a second of CPU); a test's page is closed after
    it, and the context's cookies cleared, so no test sees another's login."""
    made = {}

    def context_for(javascript: bool):
        if javascript not in made:
            context = browser.new_context(viewport={"width": 1100, "height": 900}, java_script_enabled=javascript)
            context.set_default_timeout(STATE_TIMEOUT_MS)
            context.new_page().goto(sandbox.url + "/healthz")
            made[javascript] = context
        return made[javascript]

    yield context_for
    for context in made.values():
        context.close()


def _page_fixture(contexts, request, artifacts, javascript: bool = True):
    context = contexts(javascript)
    page = context.new_page()
    watch = PageWatch(page)
    try:
        yield page
        failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
        failure_shot = artifacts / f"FAILED-{request.node.name}.png"
        failure_shot.unlink(missing_ok=True)  # no stale picture from an earlier failing run
        if failed:
            try:
                page.screenshot(path=str(failure_shot), full_page=True)
            except Exception:  # the page may be gone; the failure itself matters more
                pass
    finally:
        page.close()
        context.clear_cookies()
    if not failed:
        assert not watch.errors, watch.errors


@pytest.fixture
def page(contexts, request, artifacts):
    """A page with JavaScript on (no cookies left from other tests)."""
    yield from _page_fixture(contexts, request, artifacts)


@pytest.fixture
def nojs_page(contexts, request, artifacts):
    """A page with JavaScript off: what the plain forms must handle on their own."""
    yield from _page_fixture(contexts, request, artifacts, javascript=False)


@pytest.fixture
def scriptless_page(contexts, request, artifacts):
    """The portal's pages as without JavaScript (its scripts are refused), yet `page.evaluate` works.

    A context with JavaScript off runs no evaluate at all; this one only keeps the portal's own
    scripts from loading, so forms post as plain forms and nothing is enhanced.
    """
    for page in _page_fixture(contexts, request, artifacts):
        page.route("**/static/*.js", lambda route: route.abort())
        yield page


@pytest.fixture
def login(portal):
    """Log a page in: the real OAuth flow through the sandbox's login and consent, driven over HTTP, then
    the portal's session cookie handed to the page's context (the pages themselves are driven in
    test_login_pages.py). Four page loads fewer per test."""
    def _login(page, username: str, next_path: str = "/upload"):
        http = requests.Session()
        http_log_in(http, portal.url, username, PASSWORD, next_path)
        page.context.add_cookies([{"name": "portal_session", "value": http.cookies["portal_session"],
                                   "url": portal.url, "httpOnly": True, "sameSite": "Lax"}])
        page.goto(portal.url + next_path)
        assert page.get_by_text(f"Logged in as {username}").is_visible()

    return _login

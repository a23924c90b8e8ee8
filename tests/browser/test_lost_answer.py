"""A file that reached repovizz2 although its answer was lost on the way back: the browser's retry meets
a 404 (the link is no longer pending), asks the portal what is still pending, and shows it uploaded."""
from __future__ import annotations

import re

import pytest

from tests.browser.helpers import EXAMPLE, REF, hold_final_post, references, wait_until_enhanced, wait_until_listed
from tests.live_portal import LivePortal


@pytest.fixture(scope="module")
def portal(sandbox, proxy, tmp_path_factory):
    """The portal talking to repovizz2 through the proxy, which can lose an answer on cue."""
    live = LivePortal(sandbox, str(tmp_path_factory.mktemp("lost-answer-sessions")), REPOVIZZ2_URL=proxy.url,
                      WTF_CSRF_ENABLED=True)
    yield live
    live.stop()


def others_than_the_picture(url: str) -> bool:
    return "/assets/" in url and "/assets/setup.png" not in url


class Held:
    """Requests kept in the browser until `release()`; one that comes after goes straight on."""

    def __init__(self):
        self.routes = []
        self.released = False

    def __call__(self, route):
        if self.released:
            route.continue_()
        else:
            self.routes.append(route)

    def release(self):
        self.released = True
        for route in self.routes:
            route.continue_()


def test_a_file_whose_answer_was_lost_shows_as_uploaded(page, login, user, proxy, picture):
    login(page, user)
    wait_until_enhanced(page)
    page.locator("#upload-form").evaluate("form => form.setAttribute('data-retry-delay', '20')")
    answers = []
    page.on("response", lambda response: answers.append((response.request.method, response.url, response.status)))
    held = Held()  # the other files wait in the browser until the picture's lost answer has been looked into
    page.route(others_than_the_picture, held)
    hold_final_post(page)
    proxy.fault, proxy.match, proxy.times, proxy.dropped = "drop-answer", "/content/setup.png", 1, 0
    try:
        with page.expect_response(lambda response: response.url.endswith("/pending")) as pending:
            page.set_input_files('input[name="folder"]', str(EXAMPLE))
            wait_until_listed(page)
            page.get_by_role("button", name="Check and upload").click()
    finally:
        proxy.fault, proxy.times = None, None
    assert proxy.dropped == 1  # repovizz2 stored the picture; the portal never heard back
    puts = [(url, status) for method, url, status in answers if method == "PUT"]
    assert [status for url, status in puts if "/assets/setup.png" in url] == [503, 404], puts  # lost, then not pending
    # Asked about the picture alone while the three others are still on their way, the portal finds no
    # pending link for it (422) and lists those that are: the picture's is not among them, so it arrived.
    checked = pending.value
    assert checked.request.method == "POST" and checked.status == 422, checked.text()
    assert checked.json()["pending_links"] == ["audio/tone.wav", "sensors/accelerometer.json", "sensors/emg 2.json"]

    held.release()
    page.wait_for_function("() => window.heldForm")
    states = page.locator("#transfer li").evaluate_all("rows => rows.map(row => row.dataset.state)")
    assert states == ["uploaded"] * 4
    assert page.locator("#transfer [role=status]").inner_text() == "All 4 files were uploaded."
    picture(page, "js-lost-answer.png", full_page=True)

    page.evaluate("() => window.releaseForm()")
    page.wait_for_url(re.compile(r"/datapacks/[0-9a-f-]+/result$"))
    assert page.get_by_role("heading", name="Portal example is in repovizz2").is_visible()
    refs = references(page)
    assert len(set(refs)) == 4 and all(REF.match(ref) for ref in refs), refs

"""A file that reached repovizz2 although its answer was lost on the way back: the browser's retry meets
a 404 (the link is no longer pending), asks the portal what is still pending, and shows it uploaded."""
from __future__ import annotations

import re

import pytest

from tests.browser.helpers import EXAMPLE, REF, hold_final_post, references
from tests.live_portal import LivePortal

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def portal(sandbox, proxy, tmp_path_factory):
    """The portal talking to repovizz2 through the proxy, which can lose an answer on cue."""
    live = LivePortal(sandbox, str(tmp_path_factory.mktemp("lost-answer-sessions")), REPOVIZZ2_URL=proxy.url,
                      WTF_CSRF_ENABLED=True)
    yield live
    live.stop()


def test_a_file_whose_answer_was_lost_shows_as_uploaded(page, login, user, proxy, picture):
    login(page, user)
    page.locator("#drop-zone").wait_for()  # the page's script is running
    form = page.locator("#upload-form")
    form.evaluate("form => { form.setAttribute('data-parallel', '1'); form.setAttribute('data-retry-delay', '20'); }")
    answers = []
    page.on("response", lambda response: answers.append((response.request.method, response.url, response.status)))
    hold_final_post(page)
    proxy.fault, proxy.match, proxy.times, proxy.dropped = "drop-answer", "/content/", 1, 0
    try:
        page.set_input_files('input[name="folder"]', str(EXAMPLE))
        page.get_by_role("button", name="Check and upload").click()
        page.wait_for_function("() => window.heldForm")
    finally:
        proxy.fault, proxy.times = None, None
    assert proxy.dropped == 1  # repovizz2 stored the first file; the portal never heard back

    puts = [(url, status) for method, url, status in answers if method == "PUT"]
    first = puts[0][0]
    assert [status for url, status in puts if url == first] == [503, 404], puts  # lost, then "not pending"
    assert any(method == "POST" and url.endswith("/pending") and status in (200, 422)
               for method, url, status in answers)
    states = page.locator("#transfer li").evaluate_all("rows => rows.map(row => row.dataset.state)")
    assert states == ["uploaded"] * 4
    assert page.locator("#transfer [role=status]").inner_text() == "All 4 files were uploaded."
    picture(page, "js-lost-answer.png", full_page=True)

    page.evaluate("() => window.releaseForm()")
    page.wait_for_url(re.compile(r"/datapacks/[0-9a-f-]+/result$"))
    assert page.get_by_role("heading", name="Portal example is in repovizz2").is_visible()
    refs = references(page)
    assert len(set(refs)) == 4 and all(REF.match(ref) for ref in refs), refs

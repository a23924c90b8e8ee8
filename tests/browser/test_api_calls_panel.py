"""With PORTAL_SHOW_API_CALLS (as in `make demo`), JavaScript on: the browser sends the files itself,
and the result page still lists every call made to repovizz2, in order, those of the browser's own
requests marked as reported by it; the panel passes axe."""
from __future__ import annotations

import json
import re

import pytest

from tests.browser.axe import assert_no_serious_violations, assert_tap_targets
from tests.browser.helpers import EXAMPLE, EXAMPLE_ASSETS, wait_until_enhanced, wait_until_listed
from tests.live_portal import LivePortal


@pytest.fixture(scope="module")
def portal(sandbox, tmp_path_factory):
    live = LivePortal(sandbox, str(tmp_path_factory.mktemp("browser-sessions")), WTF_CSRF_ENABLED=True,
                      SHOW_API_CALLS=True)
    yield live
    live.stop()


def test_the_result_page_shows_the_calls_in_order(page, login, user, picture):
    login(page, user)
    wait_until_enhanced(page)
    page.set_input_files('input[name="folder"]', str(EXAMPLE))
    wait_until_listed(page)
    page.get_by_role("button", name="Check and upload").click()
    page.wait_for_url(re.compile(r"/datapacks/[0-9a-f-]+/result$"))
    datapack_id = page.locator("#datapack-id").inner_text()
    panel = page.get_by_role("region", name="What happened in repovizz2")
    assert panel.get_by_role("heading", name="What happened in repovizz2").is_visible()

    calls = panel.locator("li.api-call")
    lines = [line.replace("\u00a0", " ").split() for line in calls.locator(".api-call-line").all_inner_texts()]
    here = f"/api/v1.0/datapacks/{datapack_id}"
    # The create and the content listed (its keys the links to upload), then one POST per file (in the
    # order they finished), all reported by the browser's requests; then this page's own: the content
    # listed again and the datapack read back.
    assert lines[0][:4] == ["POST", "/api/v1.0/datapacks", "→", "200"] and "reported" in " ".join(lines[0])
    assert lines[1][:2] == ["GET", f"{here}/content"] and "reported" in " ".join(lines[1])
    labels = calls.locator(".api-call-label").all_inner_texts()
    assert labels[0] == "1. Create the datapack" and labels[1].startswith("2. List its content")
    assert any(re.fullmatch(r"\d\. Send Set-up \(setup\.png\) → repovizz:[0-9a-f]{40}", label) for label in labels)
    # The listings before and after, side by side (on a desktop) above the calls.
    before_region = panel.get_by_role("region", name="The content listed before the files")
    after_region = panel.get_by_role("region", name="The content listed after the files")
    before = json.loads(before_region.inner_text())
    assert sorted(before) == sorted(EXAMPLE_ASSETS)
    left, right = before_region.bounding_box(), after_region.bounding_box()
    assert abs(left["y"] - right["y"]) < 2 and left["x"] + left["width"] <= right["x"]
    # Near the top: the panel starts within the first screen's height of the page's heading.
    heading = page.get_by_role("heading", level=1).bounding_box()
    assert panel.bounding_box()["y"] - heading["y"] < 700
    posted = sorted(line[1] for line in lines[2:6])
    assert posted == sorted(f"{here}/content/" + link.replace("/", "%2F").replace(" ", "%20")
                            for link in EXAMPLE_ASSETS)
    assert all(line[0] == "POST" and line[3] == "200" and "reported" in " ".join(line) for line in lines[2:6])
    assert [line[:2] for line in lines[6:]] == [["GET", f"{here}/content"], ["GET", here]]
    assert not any("reported" in " ".join(line) for line in lines[6:])

    listing = json.loads(after_region.inner_text())
    assert len(listing) == 4 and all(key.startswith("repovizz:") for key in listing)
    panel.get_by_text("The same in Python").click()
    snippet = panel.get_by_role("region", name="The same calls in Python").inner_text()
    assert "Bearer YOUR_ACCESS_TOKEN" in snippet and "datapack_id = answer.json()['item']['id']" in snippet
    picture(panel, "api-calls-panel.png")
    assert_no_serious_violations(page, "the result page with the calls to repovizz2")
    page.set_viewport_size({"width": 390, "height": 844})
    assert_no_serious_violations(page, "the result page with the calls to repovizz2, phone")
    assert_tap_targets(page, "the result page with the calls to repovizz2 at 390 px")


def test_the_example_opened_again_shows_the_panel(page, login, user, portal):
    login(page, user)
    example = page.get_by_role("button", name="Upload the example")
    example.click()
    page.get_by_role("heading", name="Portal example is in repovizz2").wait_for()
    page.goto(portal.url + "/upload")
    page.get_by_role("button", name="Upload the example").click()
    page.wait_for_url(re.compile(r"/datapacks/[0-9a-f-]+\?example=again$"))
    panel = page.get_by_role("region", name="What happened in repovizz2")
    labels = panel.locator(".api-call-label").all_inner_texts()
    assert labels[0] == "1. Create the datapack"
    assert sum(". Send " in label for label in labels) == 4
    assert panel.get_by_role("region", name="The content listed after the files").is_visible()
    assert_no_serious_violations(page, "the example opened again, with the calls panel")

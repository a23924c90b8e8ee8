"""Helpers shared by the browser tests."""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "portal" / "example"
EXAMPLE_ASSETS = ["setup.png", "audio/tone.wav", "sensors/accelerometer.json", "sensors/emg 2.json"]
PASSWORD = "browser pw"


def example_size(*names: str) -> str:
    """The size the pages show for these example files (all the assets, or with the document too)."""
    from portal.rules.assets import human_size

    return human_size(sum((EXAMPLE / name).stat().st_size for name in names or EXAMPLE_ASSETS))
REF = re.compile(r"^repovizz:[0-9a-f]{40}$")


def broken_example(folder: Path) -> Path:
    """The example's document with two mistakes (no author, a link to a file not sent), written to `folder`."""
    document = json.loads((EXAMPLE / "datapack.json").read_text())
    del document["info"]["author"]
    document["children"][0]["link"] = "missing.png"
    broken = folder / "datapack.json"
    broken.write_text(json.dumps(document))
    return broken


def log_in(page, portal_url: str, username: str, password: str = PASSWORD, next_path: str = "/upload") -> None:
    """Portal → the sandbox's login page → its consent page → back on the portal at `next_path`."""
    page.goto(f"{portal_url}/auth/login?next={next_path}")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(re.escape(portal_url) + re.escape(next_path) + r"$"))
    assert page.get_by_text(f"Logged in as {username}").is_visible()


UPLOAD_FORM = "#upload-form"  # the upload page's form (and the taken-name page's)
PENDING_FORM = "#pending-form"  # the datapack page's form for the files still to send
BUILDER = "#builder"  # the build page's section, whose forms its script posts, the chosen files held


def wait_until_listed(page) -> None:
    """The upload page has read and checked the files just chosen and drawn their list (`#chosen` no
    longer aria-busy). The list pushes down what is below it, the button among them: a press while it
    is being drawn may land where the button was."""
    page.locator("#chosen[aria-busy=false]").wait_for(state="attached")


def wait_until_enhanced(page, element: str = UPLOAD_FORM) -> None:
    """The page's script has taken over `element` (marked `data-enhanced`): before that, choosing files and
    pressing its button posts the plain form, and a datatype suggestion's editor opens with nobody listening."""
    page.locator(f"{element}[data-enhanced]").wait_for(state="attached")


def references(page) -> list[str]:
    """The repovizz: references shown in the result table."""
    return [text.strip() for text in page.locator("table.result code.ref").all_inner_texts()]


def drop_paths(page, selector: str, paths) -> None:
    """Drag files or folders from disk onto an element and drop them, as a user would.

    Goes through Chromium's own drag machinery (DevTools `Input.dispatchDragEvent`), so a dropped
    folder arrives as a real directory entry to walk with `webkitGetAsEntry()`.
    """
    target = page.locator(selector)
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    data = {"items": [], "files": [str(path) for path in paths], "dragOperationsMask": 1}
    cdp = page.context.new_cdp_session(page)
    try:
        for kind in ("dragEnter", "dragOver", "drop"):
            cdp.send("Input.dispatchDragEvent", {"type": kind, "x": x, "y": y, "data": data})
    finally:
        cdp.detach()


def hold_final_post(page):
    """Keep the page from leaving when the script posts its last form, so the finished progress
    bars can be looked at; `window.releaseForm()` sends it."""
    page.evaluate("""() => {
        const submit = HTMLFormElement.prototype.submit;
        HTMLFormElement.prototype.submit = function () { window.heldForm = this; };
        window.releaseForm = () => submit.call(window.heldForm);
    }""")

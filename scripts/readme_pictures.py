"""The README's pictures, taken from a running `make demo` with Debian's Chromium (Playwright).

    make demo                                   # in another terminal (PORTAL_PORT, SANDBOX_PORT as there)
    .venv/bin/python scripts/readme_pictures.py [--portal http://127.0.0.1:5000]

Logs in as demo / demo, presses "Upload the example" and saves its result page as
docs/images/result-page.png. The demo user must not have the example yet (else the button opens it):
start the demo on an empty data dir, e.g. SANDBOX_DATA_DIR=/tmp/pictures/sandbox.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from playwright.sync_api import sync_playwright

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portal", default=f"http://127.0.0.1:{os.environ.get('PORTAL_PORT', '5000')}")
    parser.add_argument("--width", type=int, default=1100)
    portal = parser.parse_args().portal.rstrip("/")
    IMAGES.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                             args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": parser.parse_args().width, "height": 760})
        page.goto(f"{portal}/auth/login")
        page.fill("input[name=username]", "demo")
        page.fill("input[name=password]", "demo")
        page.click("button[type=submit], input[type=submit]")
        if page.locator("button[name=confirm][value=yes]").count():
            page.click("button[name=confirm][value=yes]")
        page.goto(f"{portal}/upload")
        page.locator("form.example-start button[type=submit]").click()
        page.wait_for_selector("table.result")
        page.evaluate("document.activeElement.blur()")  # the heading keeps focus after a submission
        page.screenshot(path=str(IMAGES / "result-page.png"), full_page=False)
        browser.close()
    print(f"saved {IMAGES / 'result-page.png'}")


if __name__ == "__main__":
    main()

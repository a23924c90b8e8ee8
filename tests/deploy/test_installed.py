"""The portal as a lab installs it: wheels built from a copy of the checkout, the portal's installed into a
fresh virtual environment in a temporary folder (no checkout on its path, no sandbox in it), started with
`repovizz2-portal serve` behind Debian's nginx with docs/nginx-portal.conf, used through the sandbox's login.

The dependencies' wheels are fetched once with `pip download` into pytest's cache folder
(.pytest_cache/d/deploy-wheelhouse) and installed from there with `--no-index` on every later run.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from tests.live_nginx import LiveNginx, nginx_binary
from tests.live_portal import free_port, log_in

pytestmark = pytest.mark.nginx

ROOT = Path(__file__).resolve().parents[2]
# What a clean checkout does not hold; static/vendor/ (git-ignored, made by the npm build step) is kept.
NOT_IN_A_CHECKOUT = shutil.ignore_patterns(".git", ".venv", "node_modules", "instance", "build", "dist", "*.egg-info",
                                           "__pycache__", ".pytest_cache", "test-artifacts", ".env")


def run(*command, **options) -> subprocess.CompletedProcess:
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True, **options)
    assert done.returncode == 0, f"{command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def outside_env(**portal) -> dict:
    """The environment of a process on a server: nothing of this test run's Python or settings."""
    kept = {name: value for name, value in os.environ.items()
            if not name.startswith(("PORTAL_", "PYTHON", "VIRTUAL_ENV", "SANDBOX_"))}
    return {**kept, **portal}


@pytest.fixture(scope="module")
def installed(tmp_path_factory, request):
    """(venv folder, wheels folder): the portal's wheel installed in a fresh venv, outside the checkout."""
    top = tmp_path_factory.mktemp("installed")
    source, wheels, venv = top / "checkout", top / "wheels", top / "venv"
    shutil.copytree(ROOT, source, ignore=NOT_IN_A_CHECKOUT)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", wheels,
        source, source / "sandbox")
    shutil.rmtree(source)  # nothing left of the checkout for the installed portal to lean on
    (portal_wheel,) = wheels.glob("repovizz2_portal-*.whl")
    assert len(list(wheels.glob("repovizz2_sandbox-*.whl"))) == 1

    run(sys.executable, "-m", "venv", "--without-pip", venv)
    cache = getattr(request.config, "cache", None)  # none under `-p no:cacheprovider`: fetched every run then
    wheelhouse = cache.mkdir("deploy-wheelhouse") if cache else top / "wheelhouse"
    install = [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--quiet", "--no-compile",
               "--no-index", "--find-links", wheelhouse, portal_wheel]
    held = any(wheelhouse.glob("*.whl"))  # a first run has none: no install to try before fetching them
    first = subprocess.run([str(part) for part in install], capture_output=True, text=True) if held else None
    if first is None or first.returncode:  # a first run, or a dependency the wheelhouse does not hold yet
        run(sys.executable, "-m", "pip", "download", "--quiet", "--dest", wheelhouse, portal_wheel)
        run(*install)
    return venv


def test_the_installed_portal_is_the_wheel_and_has_no_sandbox(installed, tmp_path):
    python = installed / "bin" / "python"
    found = run(python, "-c", "import portal, sys; print(portal.__file__); print(sys.path)", cwd=tmp_path,
                env=outside_env())
    where, path = found.stdout.splitlines()
    assert where.startswith(str(installed)) and str(ROOT) not in path
    refused = subprocess.run([str(python), "-c", "import sandbox"], cwd=tmp_path, env=outside_env(),
                             capture_output=True, text=True)
    assert refused.returncode == 1 and "ModuleNotFoundError: No module named 'sandbox'" in refused.stderr
    version = run(installed / "bin" / "repovizz2-portal", "--version", cwd=tmp_path, env=outside_env())
    assert re.fullmatch(r"repovizz2-portal \d+\.\d+\.\d+\n", version.stdout)


@pytest.fixture(scope="module")
def site(installed, sandbox, tmp_path_factory):
    """`repovizz2-portal serve` from the fresh venv, behind nginx at https://127.0.0.1:<port>/portal/."""
    assert nginx_binary(), "these tests need nginx: `make test-deps` installs Debian's"
    workdir = tmp_path_factory.mktemp("served")
    nginx_port, portal_port = free_port(), free_port()
    client = sandbox.add_client(f"installed-{nginx_port}", [f"https://127.0.0.1:{nginx_port}/portal/auth/callback"])
    env = outside_env(PORTAL_REPOVIZZ2_URL=sandbox.url, PORTAL_CLIENT_ID=client["client_id"],
                      PORTAL_CLIENT_SECRET=client["client_secret"], PORTAL_SECRET_KEY="installed-test",
                      PORTAL_SESSION_DIR=str(workdir / "sessions"), PORTAL_BEHIND_PROXY="1")
    command = installed / "bin" / "repovizz2-portal"
    checked = subprocess.run([str(command), "check"], cwd=workdir, env=env, capture_output=True, text=True)
    log = open(workdir / "serve.log", "w")
    portal = subprocess.Popen([str(command), "serve", "--bind", f"127.0.0.1:{portal_port}", "--workers", "1",
                               "--threads", "8", "--log-level", "warning"], cwd=workdir, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    nginx = None
    try:
        wait_for_health(f"http://127.0.0.1:{portal_port}/healthz", portal, workdir / "serve.log")
        nginx = LiveNginx(workdir / "nginx", nginx_port, f"127.0.0.1:{portal_port}")
        nginx.checked = checked
        yield nginx
    finally:
        if nginx is not None:
            nginx.stop()
        portal.terminate()
        portal.wait(15)
        log.close()


def wait_for_health(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"repovizz2-portal serve did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)


def test_check_passes_against_the_sandbox(site):
    assert site.checked.returncode == 0, site.checked.stdout + site.checked.stderr
    assert site.checked.stdout.rstrip().endswith("All is well.")


# What a page names for the browser to load: stylesheets and icons, scripts, images.
PAGE_RESOURCES = re.compile(r"<link\b[^>]*\bhref=\"([^\"]+)\"|<script\b[^>]*\bsrc=\"([^\"]+)\"|<img\b[^>]*\bsrc=\"([^\"]+)\"")
# What a script or stylesheet loads in turn: ES module imports, CSS imports and url()s.
NESTED_RESOURCES = re.compile(r"""(?:\bimport\s*\(?|\bfrom)\s*["']([^"']+)["']|@import\s+["']([^"']+)["']|url\(\s*["']?([^"')]+)""")


def resources_of(page: requests.Response) -> set[str]:
    named = {next(filter(None, groups)) for groups in PAGE_RESOURCES.findall(page.text)}
    return {urljoin(page.url, name.replace("&amp;", "&")) for name in named if not name.startswith("data:")}


def load_all(http: requests.Session, urls: set[str], site) -> dict[str, requests.Response]:
    """Every URL, and whatever scripts and stylesheets import in turn, each fetched once through nginx."""
    loaded: dict[str, requests.Response] = {}
    waiting = set(urls)
    while waiting:
        url = waiting.pop()
        assert urlsplit(url).netloc == urlsplit(site.url).netloc, f"a page names {url}, not on the portal"
        answer = loaded[url] = http.get(url, timeout=10)
        assert answer.status_code == 200 and answer.content, f"{url}: {answer.status_code}"
        if url.split("?")[0].endswith((".js", ".mjs", ".css")):
            for groups in NESTED_RESOURCES.findall(answer.text):
                nested = next(filter(None, groups))
                if not nested.startswith(("data:", "#")):
                    full = urljoin(url, nested)
                    if full not in loaded:
                        waiting.add(full)
    return loaded


def referer_from(page: requests.Response) -> dict:
    """The Referer a browser sends with a form posted from `page` to its own site, as the page's policy allows."""
    sends = page.headers.get("Referrer-Policy", "strict-origin-when-cross-origin") != "no-referrer"
    return {"Referer": page.url} if sends else {}


def test_served_behind_nginx_log_in_upload_the_example_and_load_every_resource(site, sandbox):
    http = requests.Session()
    http.trust_env = False
    http.verify = str(site.cert)
    portal = site.url + "/portal"
    welcome = http.get(portal + "/", timeout=10)
    assert welcome.status_code == 200

    sandbox.add_user("installed-ida", "pw")
    log_in(http, portal, "installed-ida", "pw", next_path="/portal/")
    upload_page = http.get(portal + "/upload", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', upload_page.text).group(1)
    result = http.post(portal + "/upload/example", data={"csrf_token": token}, headers=referer_from(upload_page),
                       timeout=60)
    assert result.status_code == 200, result.text[:2000]
    assert "tone.wav" in result.text and "repovizz:" in result.text
    datapack_path = re.search(r'href="(/portal/datapacks/[0-9a-f-]{36})"', result.text).group(1)
    pages = [welcome, http.get(portal + "/", timeout=10), upload_page, result,
             http.get(site.url + datapack_path, timeout=10), http.get(portal + "/build", timeout=10)]
    assert [page.status_code for page in pages] == [200] * 6

    named = set().union(*(resources_of(page) for page in pages))
    loaded = load_all(http, named, site)
    kinds = {url.split("?")[0].rsplit(".", 1)[-1] for url in loaded}
    assert {"css", "js", "svg"} <= kinds, sorted(loaded)
    assert any("/content/" in url for url in loaded), "the datapack page shows the example's picture"
    assert loaded[f"{portal}/static/portal.css"].headers["Content-Type"].startswith("text/css")


UNIT = ROOT / "docs" / "repovizz2-portal.service"
DOCUMENTED_COMMAND = "/opt/repovizz2-portal/bin/repovizz2-portal"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_the_systemd_unit_verifies_with_the_installed_command(installed, tmp_path):
    """docs/repovizz2-portal.service as docs/deploy.md installs it, its ExecStart the fresh venv's command."""
    unit = UNIT.read_text()
    assert unit.count(DOCUMENTED_COMMAND) == 1
    (tmp_path / UNIT.name).write_text(unit.replace(DOCUMENTED_COMMAND, str(installed / "bin" / "repovizz2-portal")))
    verified = subprocess.run(["systemd-analyze", "verify", str(tmp_path / UNIT.name)], capture_output=True, text=True)
    assert (verified.returncode, verified.stderr) == (0, ""), verified.stderr
    serve = re.search(r"^ExecStart=\S+ (serve .*)$", unit, re.MULTILINE).group(1).split()
    accepted = subprocess.run([str(installed / "bin" / "repovizz2-portal"), *serve, "--help"], capture_output=True,
                              text=True, env=outside_env())
    assert accepted.returncode == 0, accepted.stderr


@pytest.mark.browser
def test_chromium_through_nginx_logs_in_uploads_the_example_and_every_resource_loads(site, sandbox):
    """The same journey in Debian's Chromium: over https, with the pages' own policies in force (CSP,
    Referrer-Policy), nothing the portal serves fails to load and no script fails."""
    sandbox.add_user("installed-eva", "pw")
    outcome: dict = {}
    # Playwright's sync API runs one event loop per thread, and the browser tests' session-wide Chromium
    # may still hold this thread's: this journey gets a thread of its own.
    journey = threading.Thread(target=chromium_journey, args=(site, "installed-eva", "pw", outcome))
    journey.start()
    journey.join()
    if "error" in outcome:
        raise outcome["error"]
    assert outcome["references"] == 4
    assert not outcome["failures"], "\n".join(outcome["failures"])


def chromium_journey(site, username: str, password: str, outcome: dict) -> None:
    """Log in through the sandbox, upload the example, open its page and the builder; record in `outcome`
    what failed to load from the portal and any script error (or the exception that stopped it)."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    portal = site.url + "/portal"
    failures = outcome["failures"] = []

    def on_portal(url: str) -> bool:
        return url.startswith(site.url)

    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                page = chromium.new_context(ignore_https_errors=True).new_page()
                page.on("response", lambda answer: failures.append(f"{answer.status} {answer.url}")
                        if answer.status >= 400 and on_portal(answer.url) else None)
                # A request the next navigation cancels (a media file still buffering) is aborted, not failed.
                page.on("requestfailed", lambda request: failures.append(f"{request.failure} {request.url}")
                        if on_portal(request.url) and request.failure != "net::ERR_ABORTED" else None)
                page.on("console", lambda message: failures.append(f"console: {message.text}")
                        if message.type == "error" and on_portal(page.url) else None)
                page.on("pageerror", lambda error: failures.append(f"script error: {error}"))

                page.goto(portal + "/")
                page.get_by_role("link", name="Log in with repovizz2").first.click()
                page.fill('input[name="username"]', username)
                page.fill('input[name="password"]', password)
                page.get_by_role("button", name="Log in").click()
                page.get_by_role("button", name="Authorize").click()
                page.wait_for_url(portal + "/")
                page.goto(portal + "/upload")
                page.locator("form.example-start button[type=submit]").click()
                page.wait_for_selector("table.result")
                outcome["references"] = page.locator("table.result code.ref").count()
                page.get_by_role("link", name="Open the datapack page").click()
                page.wait_for_load_state("networkidle")
                page.goto(portal + "/build", wait_until="networkidle")
            finally:
                chromium.close()
    except BaseException as error:  # raised again in the test's own thread
        outcome["error"] = error

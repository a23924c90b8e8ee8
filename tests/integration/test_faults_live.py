"""repovizz2 failing in the middle of an upload, for real: each time the user is told what happened,
the datapack page shows exactly what is uploaded and pending, and the upload can be finished."""
from __future__ import annotations

import os
import re
import sqlite3
import time

import pytest
import requests

from sandbox.testing import LiveSandbox
from tests.live_portal import LivePortal, log_in
from tests.waiting import wait_until

DOCUMENT = ('{"info": {"name": "%s", "author": "a", "description": "", "keywords": []}, "children": ['
            '{"class": "data", "name": "Small", "text": "", "link": "small.json"},'
            '{"class": "data", "name": "Big", "text": "", "link": "big.bin"}]}')
BIG = os.urandom(1024 * 1024)


def csrf(http, url):
    return re.search(r'name="csrf-token" content="([^"]+)"', http.get(url).text).group(1)


def upload(http, portal, name):
    token = csrf(http, portal.url + "/upload")
    return http.post(portal.url + "/upload", data={"csrf_token": token},
                     files=[("document", ("datapack.json", (DOCUMENT % name).encode())),
                            ("files", ("small.json", b"[1, 2, 3]")), ("files", ("big.bin", BIG))])


def finish(http, portal, datapack_id):
    token = csrf(http, f"{portal.url}/datapacks/{datapack_id}")
    return http.post(f"{portal.url}/datapacks/{datapack_id}", data={"csrf_token": token},
                     files=[("folder", ("again/small.json", b"[1, 2, 3]")), ("folder", ("again/big.bin", BIG))])


@pytest.fixture(scope="module")
def portal(sandbox, proxy, tmp_path_factory):
    live = LivePortal(sandbox, str(tmp_path_factory.mktemp("sessions")), REPOVIZZ2_URL=proxy.url,
                      WTF_CSRF_ENABLED=True, READ_TIMEOUT=1.5)
    yield live
    live.stop()


@pytest.fixture
def http(sandbox, portal, proxy):
    proxy.fault = None
    sandbox.add_user("faulty", "pw")
    session = requests.Session()
    log_in(session, portal.url, "faulty", "pw")
    yield session
    proxy.fault = None


def stored_files(sandbox) -> set[str]:
    return {name for name in os.listdir(os.path.join(sandbox.data_dir, "files"))}


@pytest.mark.parametrize(("fault", "message", "pending"), [
    ("cut", "repovizz2 cannot be reached", "1 file still to upload"),  # the small file passes, the big one is cut
    ("hang", "repovizz2 did not answer in time", "2 files still to upload"),
])
def test_failure_mid_upload_then_finish(sandbox, proxy, portal, http, fault, message, pending):
    proxy.fault = fault
    before = stored_files(sandbox)
    page = upload(http, portal, f"faults {fault}")
    assert page.status_code == 502
    assert "The upload stopped" in page.text and message in page.text
    datapack_id = re.search(r'id="datapack-id">([^<]+)<', page.text).group(1)

    proxy.fault = None
    page = http.get(f"{portal.url}/datapacks/{datapack_id}")
    assert pending in page.text
    assert "<code>big.bin</code>" in page.text
    # The sandbox notices the cut connection on its own thread and drops the part it had received.
    wait_until(lambda: not os.listdir(os.path.join(sandbox.data_dir, "tmp")), "cleaned up by the sandbox")
    assert len(stored_files(sandbox) - before) == (1 if fault == "cut" else 0)  # no half file kept
    page = finish(http, portal, datapack_id)
    assert page.status_code == 200, page.text
    assert "All 2 files were uploaded" in page.text


def test_refused_refresh_logs_in_again_and_comes_back_to_the_datapack(sandbox, proxy, portal, http):
    page = upload(http, portal, "refresh refused")
    datapack_id = re.search(r'id="datapack-id">([^<]+)<', page.text).group(1)
    with sqlite3.connect(os.path.join(sandbox.data_dir, "sandbox.db")) as db:
        db.execute("UPDATE tokens SET issued_at = issued_at - 100000, refresh_revoked = 1")
    page = http.get(f"{portal.url}/datapacks/{datapack_id}", allow_redirects=False)
    assert page.status_code == 302
    assert page.headers["Location"] == f"/auth/login?next=/datapacks/{datapack_id}"
    page = log_in(http, portal.url, "faulty", "pw", next_path=f"/datapacks/{datapack_id}")
    assert page.url == f"{portal.url}/datapacks/{datapack_id}"
    assert "Every file of this datapack is in repovizz2" in page.text


def test_token_expiring_during_a_long_upload_is_renewed(tmp_path):
    with LiveSandbox(tmp_path / "slow", token_expires_in=2, latency_ms=400) as slow:
        slow.add_user("patient", "pw")
        portal = LivePortal(slow, str(tmp_path / "sessions"), WTF_CSRF_ENABLED=True, TOKEN_LEEWAY=0)
        try:
            http = requests.Session()
            log_in(http, portal.url, "patient", "pw")
            started = time.monotonic()
            page = upload(http, portal, "long")
            assert time.monotonic() - started > 2  # the token expired while the upload went on
            assert page.status_code == 200, page.text
            assert "All 2 files were uploaded" in page.text
            with sqlite3.connect(os.path.join(slow.data_dir, "sandbox.db")) as db:
                assert db.execute("SELECT COUNT(*) FROM tokens").fetchone()[0] >= 2
        finally:
            portal.stop()

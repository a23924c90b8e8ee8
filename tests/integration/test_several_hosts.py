"""Two portal processes sharing login sessions through Redis: nothing else ties a user to one of them."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis
import requests

from tests.live_portal import LivePortal, free_port, log_in

EXAMPLE = Path(__file__).resolve().parents[2] / "portal" / "example"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed: `make test` installs it (Debian package redis-server)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                "no", "--dir", str(workdir)], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(5)


@pytest.fixture
def two_hosts(sandbox, redis_url, tmp_path):
    ports = free_port(), free_port()
    client = sandbox.add_client("portal behind a load balancer",
                                [f"http://127.0.0.1:{port}/auth/callback" for port in ports])
    hosts = [LivePortal(sandbox, str(tmp_path / f"unused-{port}"), port=port, client=client,
                        REDIS_URL=redis_url, SECRET_KEY="shared", WTF_CSRF_ENABLED=True) for port in ports]
    yield hosts
    for host in hosts:
        host.stop()


def test_log_in_on_one_upload_on_the_other_log_out_on_the_first(sandbox, two_hosts):
    first, second = two_hosts
    sandbox.add_user("roaming", "pw")
    http = requests.Session()
    log_in(http, first.url, "roaming", "pw")
    assert "Hello, roaming" in http.get(second.url + "/").text

    token = re.search(r'name="csrf-token" content="([^"]+)"', http.get(second.url + "/upload").text).group(1)
    files = [("folder", (f"example/{p.relative_to(EXAMPLE).as_posix()}", p.read_bytes()))
             for p in sorted(EXAMPLE.rglob("*")) if p.is_file()]
    page = http.post(second.url + "/upload", data={"csrf_token": token}, files=files)
    assert page.status_code == 200, page.text
    datapack_id = re.search(r'id="datapack-id">([^<]+)<', page.text).group(1)
    assert len(set(re.findall(r"repovizz:[0-9a-f]{40}", page.text))) == 4

    assert "complete" in http.get(f"{first.url}/datapacks/{datapack_id}").text
    document = http.get(f"{first.url}/datapacks/{datapack_id}/document.json").json()
    assert document["info"] == json.loads((EXAMPLE / "datapack.json").read_text())["info"]

    http.post(first.url + "/auth/logout", data={"csrf_token": token})
    assert http.get(second.url + "/upload", allow_redirects=False).status_code == 302

"""Uploads: the documented client flow, a large streamed upload in flat memory, an interrupted upload."""
from __future__ import annotations

import hashlib
import os
import re
import socket
import threading
import time
from urllib.parse import urlsplit

import psutil
import requests

from .helpers import API, StreamedMultipart, document, quote_link, sandbox_files

LARGE_UPLOAD_MB = int(os.environ.get("SANDBOX_TEST_LARGE_UPLOAD_MB", "300"))
ALLOWED_RSS_GROWTH = 50 * 1024 * 1024


def test_the_documented_client_flow(alice):
    files = {"video.mp4": os.urandom(3000), "accelerometer.json": b'{"x": [1, 2, 3]}', "emg 2.json": b"[]"}
    pack = alice.create_datapack(document())
    pending = alice.content(pack)
    assert set(pending) == set(files)
    ids = {}
    for link in pending:
        response = alice.upload(pack, link, files[link])
        assert response.status_code == 200, response.text
        ids[link] = response.json()["id"]
    listing = alice.content(pack)
    assert len(listing) == len(files)
    assert all(re.fullmatch(r"repovizz:[0-9a-f]{40}", key) for key in listing)
    for link, file_id in ids.items():
        assert listing[f"repovizz:{file_id}"]["link"] == f"repovizz:{file_id}"
        assert alice.get(f"/datapacks/{pack}/content/{file_id}").content == files[link]


def test_parallel_uploads_to_one_datapack_all_land(alice):
    links = [f"part {i}.bin" for i in range(8)]
    pack = alice.create_datapack(document(*links))
    results = {}

    def upload(link):
        results[link] = alice.upload(pack, link, link.encode() * 1000)

    threads = [threading.Thread(target=upload, args=(link,)) for link in links]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(response.status_code == 200 for response in results.values())
    listing = alice.content(pack)
    assert set(listing) == {f"repovizz:{response.json()['id']}" for response in results.values()}


def test_a_chunked_upload_is_received_too(sandbox, alice):
    pack = alice.create_datapack(document("chunked.bin"))
    body = StreamedMultipart(3 * 1024 * 1024)
    response = requests.post(f"{sandbox.url}{API}/datapacks/{pack}/content/chunked.bin", data=iter(body),
                             headers={**alice.headers, "Content-Type": body.content_type}, timeout=60)
    assert response.status_code == 200, response.text
    download = alice.get(f"/datapacks/{pack}/content/{response.json()['id']}")
    assert hashlib.sha256(download.content).hexdigest() == body.sha256


class PeakRss:
    """Samples a process's resident memory in a thread; `.peak` is the highest seen."""

    def __init__(self, pid: int, every: float = 0.02):
        self.process = psutil.Process(pid)
        self.every = every
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exc):
        self._stop.set()
        self._thread.join()


def test_a_large_upload_streams_to_disk_in_flat_memory(sandbox, alice):
    pack = alice.create_datapack(document("big recording.bin"))
    body = StreamedMultipart(LARGE_UPLOAD_MB * 1024 * 1024, filename="big recording.bin")
    with PeakRss(sandbox.pid) as memory:
        response = requests.post(
            f"{sandbox.url}{API}/datapacks/{pack}/content/{quote_link('big recording.bin')}",
            data=body, headers={**alice.headers, "Content-Type": body.content_type}, timeout=600,
        )
    assert response.status_code == 200, response.text
    growth = memory.peak - memory.baseline
    assert growth < ALLOWED_RSS_GROWTH, f"sandbox grew by {growth / 2**20:.0f} MiB during the upload"
    print(f"sandbox RSS grew by {growth / 2**20:.1f} MiB while receiving {LARGE_UPLOAD_MB} MiB")

    file_id = response.json()["id"]
    assert os.path.getsize(os.path.join(sandbox.data_dir, "files", file_id)) == body.size
    download = hashlib.sha256()
    received = 0
    with alice.get(f"/datapacks/{pack}/content/{file_id}", stream=True) as answer:
        assert answer.status_code == 200
        for chunk in answer.iter_content(1024 * 1024):
            download.update(chunk)
            received += len(chunk)
    assert received == body.size
    assert download.hexdigest() == body.sha256


def send_half_and_hang_up(sandbox, caller, path: str, body: StreamedMultipart) -> None:
    """Send the request line, headers and about half the body over a raw socket, then close it."""
    address = urlsplit(sandbox.url)
    head = (f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\nAuthorization: Bearer {caller.token}\r\n"
            f"Content-Type: {body.content_type}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(head)
        sent = 0
        for chunk in body:
            connection.sendall(chunk)
            sent += len(chunk)
            if sent >= len(body) // 2:
                break
        assert wait_for(lambda: tmp_files(sandbox)), "the partial upload should be written to tmp/ as it arrives"


def wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def tmp_files(sandbox) -> list[str]:
    return os.listdir(os.path.join(sandbox.data_dir, "tmp"))


def test_an_interrupted_upload_leaves_nothing_and_the_link_pending(sandbox, alice):
    pack = alice.create_datapack(document("cut short.bin"))
    stored_before = sandbox_files(sandbox)
    body = StreamedMultipart(16 * 1024 * 1024)
    send_half_and_hang_up(sandbox, alice, f"{API}/datapacks/{pack}/content/{quote_link('cut short.bin')}", body)
    assert wait_for(lambda: not tmp_files(sandbox)), f"left in tmp/: {tmp_files(sandbox)}"
    assert sandbox_files(sandbox) == stored_before
    assert list(alice.content(pack)) == ["cut short.bin"]


def test_an_interrupted_replacement_keeps_the_old_file(sandbox, alice):
    pack = alice.create_datapack(document("kept.bin"))
    old = alice.upload(pack, "kept.bin", b"the first version").json()["id"]
    body = StreamedMultipart(8 * 1024 * 1024)
    send_half_and_hang_up(sandbox, alice, f"{API}/datapacks/{pack}/content/repovizz:{old}", body)
    assert wait_for(lambda: not tmp_files(sandbox))
    assert list(alice.content(pack)) == [f"repovizz:{old}"]
    assert alice.get(f"/datapacks/{pack}/content/{old}").content == b"the first version"


def test_refused_uploads_still_get_their_answer(sandbox, alice, bob):
    """The sandbox reads what it refused, so a client sending megabytes sees the 401/403/404, not a reset."""
    pack = alice.create_datapack(document("real.bin"))
    data = os.urandom(8 * 1024 * 1024)
    url = f"{sandbox.url}{API}/datapacks/{pack}/content/"
    refused = [
        (requests.post(url + "real.bin", files={"file": data}, timeout=60), 401),
        (requests.post(url + "real.bin", files={"file": data}, headers={"Authorization": "Bearer nope"}, timeout=60),
         401),
        (bob.upload(pack, "real.bin", data), 403),
        (alice.upload(pack, "unknown.bin", data), 404),
    ]
    for response, status in refused:
        assert response.status_code == status
        assert response.json()["error"]

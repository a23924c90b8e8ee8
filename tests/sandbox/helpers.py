"""Shared pieces for the sandbox tests: documents, callers, the browser-like OAuth dance, streamed bodies."""
from __future__ import annotations

import copy
import hashlib
import io
import os
import re
import subprocess
import sys
import sqlite3
import uuid
from contextlib import closing, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from html import unescape
from unittest import mock
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import requests

from sandbox import cli
from sandbox.config import database_path
from sandbox.testing import PROJECT_ROOT

API = "/api/v1.0"
TIMEOUT = 30

DOCUMENT = {
    "info": {"name": "MYO_various", "author": "tester", "description": "two streams", "keywords": ["MYO", "video"]},
    "children": [
        {"class": "data", "name": "Video", "text": "Handheld camera", "link": "video.mp4",
         "mime": "video/mp4; charset=binary"},
        {"class": "container", "name": "IMU", "text": "Inertial data", "children": [
            {"class": "data", "name": "Accelerometer", "text": "XYZ acceleration", "link": "accelerometer.json",
             "meta": {"mime": "application/json"}},
            {"class": "data", "name": "EMG", "text": "Muscles", "link": "emg 2.json"},
        ]},
    ],
}


def document(*links: str) -> dict:
    """The sample document, or one whose data nodes (one per link, the last inside a container) use `links`."""
    if not links:
        return copy.deepcopy(DOCUMENT)
    nodes = [{"class": "data", "name": f"node {i}", "text": "", "link": link} for i, link in enumerate(links)]
    return {
        "info": {"name": "generated", "author": "tester", "description": "", "keywords": []},
        "children": nodes[:-1] + [{"class": "container", "name": "folder", "text": "", "children": nodes[-1:]}],
    }


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def quote_link(link: str) -> str:
    """How a client puts a link into the URL path: every reserved character encoded, `/` included."""
    return quote(link, safe="")


@dataclass
class Caller:
    """A sandbox user with a bearer token, making API calls over HTTP."""

    base_url: str
    id: int | str
    username: str
    token: str

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
        return requests.get(self.base_url + API + path, headers={**self.headers, **(headers or {})},
                            timeout=TIMEOUT, **kwargs)

    def post(self, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
        return requests.post(self.base_url + API + path, headers={**self.headers, **(headers or {})},
                             timeout=TIMEOUT, **kwargs)

    def create_datapack(self, structure: dict | None = None, name: str | None = None) -> str:
        response = self.post("/datapacks", json={"name": name or unique("pack"), "owner": self.id,
                                                 "structure": structure or document()})
        assert response.status_code == 200, response.text
        return response.json()["item"]["id"]

    def upload(self, datapack_id: str, link: str, data: bytes, field: str = "file") -> requests.Response:
        return self.post(f"/datapacks/{datapack_id}/content/{quote_link(link)}",
                         files={field: (link.rsplit("/", 1)[-1], data)})

    def content(self, datapack_id: str) -> dict:
        response = self.get(f"/datapacks/{datapack_id}/content")
        assert response.status_code == 200, response.text
        return response.json()


def make_caller(sandbox, username: str | None = None, expires_in: int | None = None) -> Caller:
    username = username or unique("user")
    user = sandbox.add_user(username, "password")
    return Caller(sandbox.url, user["id"], username, sandbox.issue_token(username, expires_in=expires_in))


def expire_token(sandbox, access_token: str) -> None:
    """Move the token's issue time back past its lifetime: the sandbox's clock says it has expired,
    with no test waiting for it."""
    with closing(sqlite3.connect(database_path(sandbox.data_dir))) as db, db:
        changed = db.execute("UPDATE tokens SET issued_at = issued_at - expires_in - 1 WHERE access_token = ?",
                             (access_token,)).rowcount
    assert changed == 1, "no such token"


def sandbox_files(sandbox) -> set[str]:
    """The ids of the files the sandbox keeps on disk."""
    return set(os.listdir(os.path.join(sandbox.data_dir, "files")))


def hidden_field(html: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name!r} in:\n{html}"
    return unescape(match.group(1))


def form_action(html: str) -> str:
    match = re.search(r'<form method="post" action="([^"]*)"', html)
    assert match, html
    return unescape(match.group(1))


def query_of(location: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def log_in_and_decide(session: requests.Session, base_url: str, params: dict, username: str, password: str,
                      decision: str = "yes") -> requests.Response:
    """What a person does in a browser: open the authorize URL, log in, press Authorize (or Deny).

    Returns the sandbox's last answer (normally a 302 to the client's redirect URI), not followed.
    """
    answer = session.get(base_url + "/oauth/authorize", params=params, allow_redirects=False, timeout=TIMEOUT)
    assert answer.status_code == 302, answer.text
    login_url = urljoin(base_url, answer.headers["Location"])
    assert urlsplit(login_url).path == "/login"
    page = session.get(login_url, timeout=TIMEOUT)
    assert "Username" in page.text and "Password" in page.text
    answer = session.post(base_url + "/login", allow_redirects=False, timeout=TIMEOUT, data={
        "username": username, "password": password,
        "csrf_token": hidden_field(page.text, "csrf_token"), "next": hidden_field(page.text, "next"),
    })
    assert answer.status_code == 302, answer.text
    consent = session.get(urljoin(base_url, answer.headers["Location"]), timeout=TIMEOUT)
    assert consent.status_code == 200, consent.text
    return session.post(urljoin(base_url, form_action(consent.text)), allow_redirects=False, timeout=TIMEOUT,
                        data={"csrf_token": hidden_field(consent.text, "csrf_token"), "confirm": decision})


class StreamedMultipart:
    """A multipart/form-data body with one file part of `size` generated bytes, never held in memory.

    requests streams an iterable with `__len__` chunk by chunk, with that exact Content-Length.
    `sha256` holds the digest of the file bytes once the body has been sent.
    """

    CHUNK = 1024 * 1024

    def __init__(self, size: int, field: str = "file", filename: str = "big.bin"):
        self.size = size
        self.boundary = uuid.uuid4().hex
        self.head = (f'--{self.boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                     "Content-Type: application/octet-stream\r\n\r\n").encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.hasher = hashlib.sha256()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def sha256(self) -> str:
        return self.hasher.hexdigest()

    def __len__(self) -> int:
        return len(self.head) + self.size + len(self.tail)

    def file_chunks(self):
        block = hashlib.sha256(b"seed").digest() * (self.CHUNK // 32)
        sent = 0
        counter = 0
        while sent < self.size:
            chunk = (counter.to_bytes(8, "big") + block[8:])[: self.size - sent]
            self.hasher.update(chunk)
            sent += len(chunk)
            counter += 1
            yield chunk

    def __iter__(self):
        yield self.head
        yield from self.file_chunks()
        yield self.tail


def run_script(*args: str) -> subprocess.CompletedProcess:
    """`python -m sandbox …` as a separate process, the way scripts call it."""
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run([sys.executable, "-m", "sandbox", *args], capture_output=True, text=True, timeout=60,
                          cwd=PROJECT_ROOT, env=environment)


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The same command line run in this process (the commands other than `serve` return at once)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, env or {}), redirect_stdout(stdout), redirect_stderr(stderr):
        try:
            returncode = cli.main(list(args))
        except SystemExit as exit_:  # argparse refusing the command line
            returncode = exit_.code
    return subprocess.CompletedProcess(["sandbox", *args], returncode, stdout.getvalue(), stderr.getvalue())

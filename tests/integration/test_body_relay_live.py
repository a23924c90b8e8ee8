"""File PUTs under gunicorn, whose bodies the portal reads from the client socket (portal/services/body_relay.py):
every byte arrives, and the connection stays usable for the requests that follow on it."""
from __future__ import annotations

import itertools
import json
import os
import socket
from urllib.parse import urlsplit

import pytest
import requests

_names = itertools.count()


@pytest.fixture
def user(sandbox):
    name = f"relay{next(_names)}"
    sandbox.add_user(name, "secret pw")
    return name


def plan(http, portal, user, sizes: dict[str, int]) -> dict:
    document = {"info": {"name": f"relay {os.urandom(4).hex()}", "author": user, "description": "", "keywords": []},
                "children": [{"class": "data", "name": link, "text": "", "link": link} for link in sizes]}
    files = [{"path": path, "size": size} for path, size in sizes.items()]
    created = http.post(portal.url + "/api/datapacks", json={"document": document, "files": files}, timeout=30)
    assert created.status_code == 201, created.text
    return created.json()


def stored(http, sandbox, datapack_id, ref) -> bytes:
    url = f"{sandbox.url}/api/v1.0/datapacks/{datapack_id}/content/{ref.removeprefix('repovizz:')}"
    return http.get(url, timeout=30).content


def test_several_puts_on_one_kept_alive_connection(gunicorn_portal, sandbox, user):
    """A body small enough to come with its headers, one larger than a socket read, one of several MiB."""
    files = {"tiny.bin": os.urandom(10), "medium.bin": os.urandom(300 * 1024), "large.bin": os.urandom(5 * 1024 * 1024)}
    http = requests.Session()
    http.headers["Authorization"] = "Bearer " + sandbox.issue_token(user)
    created = plan(http, gunicorn_portal, user, {name: len(data) for name, data in files.items()})
    for upload in created["uploads"]:
        sent = http.put(gunicorn_portal.url + upload["url"], data=files[upload["path"]], timeout=30)
        assert sent.status_code == 200, sent.text
        assert sent.headers.get("Connection", "keep-alive").lower() == "keep-alive"
        assert stored(http, sandbox, created["datapack_id"], sent.json()["ref"]) == files[upload["path"]]


def test_pipelined_puts_are_each_answered(gunicorn_portal, sandbox, user):
    """Two PUTs written at once on one connection: the first body ends exactly where the second request starts."""
    files = {"one.bin": os.urandom(200 * 1024), "two.bin": os.urandom(3000)}
    http = requests.Session()
    token = sandbox.issue_token(user)
    http.headers["Authorization"] = "Bearer " + token
    created = plan(http, gunicorn_portal, user, {name: len(data) for name, data in files.items()})
    address = urlsplit(gunicorn_portal.url)
    message = b"".join(
        (f"PUT {upload['url']} HTTP/1.1\r\nHost: {address.netloc}\r\nAuthorization: Bearer {token}\r\n"
         f"Content-Length: {len(files[upload['path']])}\r\n\r\n").encode() + files[upload["path"]]
        for upload in created["uploads"])
    with socket.create_connection((address.hostname, address.port), timeout=30) as raw:
        raw.sendall(message)
        answers = raw.makefile("rb")
        refs = []
        for _ in created["uploads"]:
            assert answers.readline().startswith(b"HTTP/1.1 200")
            length = 0
            while (line := answers.readline()) != b"\r\n":
                name, _, value = line.decode().partition(":")
                length = int(value) if name.lower() == "content-length" else length
            refs.append(json.loads(answers.read(length)))
    for upload, answer in zip(created["uploads"], refs):
        assert answer["link"] == upload["link"]
        assert stored(http, sandbox, created["datapack_id"], answer["ref"]) == files[upload["path"]]

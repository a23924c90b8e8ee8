"""Sample documents, files, constants and small helpers shared by the portal's unit tests."""
from __future__ import annotations

import copy
import io
import json
import os
import re
import time
import uuid

REPOVIZZ2 = "http://repovizz2.test"
USER = {"id": "u-1", "username": "ana", "email": "ana@example.org", "datapacks": [], "folders": [], "groups": [],
        "_links": {"self": "/api/v1.0/users/ana", "collection": "/api/v1.0/users"}}

DOCUMENT = {
    "info": {"name": "MYO", "author": "ana", "description": "test", "keywords": ["a"]},
    "children": [
        {"class": "data", "name": "Video", "text": "cam", "link": "video.mp4"},
        {"class": "container", "name": "IMU", "text": "imu", "children": [
            {"class": "data", "name": "EMG", "text": "emg", "link": "emg 2.json"},
        ]},
    ],
}


def doc_file(document=DOCUMENT, name="datapack.json"):
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    return (io.BytesIO(raw), name)


def files(*pairs):
    return [(io.BytesIO(data), name) for name, data in pairs]


GOOD_FILES = (("video.mp4", b"v" * 1000), ("emg 2.json", b"[1, 2, 3]"))


def assert_csp_clean(page: str):
    """No inline style, inline script or event handler attribute: what the CSP would block."""
    assert " style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert not re.search(r"\son[a-z]+=", page)


# A datapack as repovizz2 holds it after an upload: three files uploaded, one still pending.
VIDEO, EMG, WAV = "a" * 40, "b" * 40, "c" * 40
STORED_DOCUMENT = {
    "info": {"name": "MYO", "author": "ana", "description": "", "keywords": []},
    "children": [
        {"class": "data", "name": "Video", "text": "cam", "link": f"repovizz:{VIDEO}", "mime": "video/mp4"},
        {"class": "container", "name": "IMU", "text": "imu", "children": [
            {"class": "data", "name": "EMG", "text": "emg", "link": f"repovizz:{EMG}",
             "meta": {"mime": "application/json"}},
            {"class": "data", "name": "Gyro", "text": "", "link": "gyro.json"},
        ]},
        {"class": "data", "name": "Tone", "text": "", "link": f"repovizz:{WAV}", "mime": "audio/wav"},
    ],
}
STORED_FILES = {VIDEO: (b"v" * 300_000, "video.mp4"), EMG: (b"[1, 2, 3]", "imu/emg 2.json"), WAV: (b"RIFF....", "tone.wav")}


def seed(fake, name: str = "MYO") -> str:
    """STORED_DOCUMENT and its files, put into the in-memory repovizz2 as an uploaded datapack."""
    datapack_id = str(uuid.uuid4())
    fake.datapacks[datapack_id] = {"id": datapack_id, "name": name, "owner": "u-1", "folder": None,
                                   "structure": copy.deepcopy(STORED_DOCUMENT), "group_edit_permissions": []}
    for file_id, (data, uploaded_as) in STORED_FILES.items():
        fake.files[file_id] = data
        fake.file_datapack[file_id] = datapack_id
        fake.file_names[file_id] = uploaded_as
    return datapack_id


def structure(fake, datapack_id):
    return fake.datapacks[datapack_id]["structure"]


def session_files(app) -> list[str]:
    folder = app.config["SESSION_DIR"]
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def log_in(client):
    with client.session_transaction() as session:
        session["token"] = {"access_token": "access-1", "token_type": "Bearer", "refresh_token": "refresh-1",
                            "expires_at": int(time.time()) + 3600}
        session["user"] = {"id": USER["id"], "username": USER["username"]}
        session["login_at"] = int(time.time())


def nested_containers(depth: int) -> dict:
    """A container with containers nested `depth` deep, built without recursion: the public schema sets no
    depth limit, so repovizz2 may hold one deeper than Python's own json module reads."""
    top = node = {"class": "container", "name": "level", "text": "", "children": []}
    for _ in range(depth):
        child = {"class": "container", "name": "level", "text": "", "children": []}
        node["children"].append(child)
        node = child
    return top

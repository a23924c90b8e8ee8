"""Sample documents, files and constants shared by the portal's unit tests."""
from __future__ import annotations

import io
import json
import re

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

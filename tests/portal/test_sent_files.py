"""What a login session notes of the files it sent (portal/sent_files.py): bounded, merged, never for scripts."""
from __future__ import annotations

from flask import g, session

from portal.services.sent_files import KEEP, recall, remember

DOCUMENT = {"info": {"name": "x", "author": "a", "description": "", "keywords": []}, "children": [
    {"class": "data", "name": "Video", "text": "", "link": "video.mp4"},
    {"class": "container", "name": "IMU", "text": "", "children": [
        {"class": "data", "name": "EMG", "text": "", "link": "emg.json"},
        {"class": "data", "name": "Done", "text": "", "link": "repovizz:" + "a" * 40}]}]}


def test_each_waiting_node_is_noted_by_place_with_its_link_and_size(app):
    with app.test_request_context("/"):
        remember("d-1", DOCUMENT, {"video.mp4": 10})
        assert recall("d-1") == {"children[0]": ["Video", "video.mp4", 10],
                                 "children[1].children[0]": ["EMG", "emg.json", None]}
        # A resume plans the rest: what was noted keeps its size, the new plan adds its own.
        remember("d-1", DOCUMENT, {"emg.json": 3})
        assert recall("d-1") == {"children[0]": ["Video", "video.mp4", 10],
                                 "children[1].children[0]": ["EMG", "emg.json", 3]}
        assert recall("other") == {}


def test_only_the_last_few_datapacks_are_kept(app):
    with app.test_request_context("/"):
        for number in range(KEEP + 2):
            remember(f"d-{number}", DOCUMENT, {})
        remember("d-2", DOCUMENT, {})  # used again: the most recent
        kept = list(session["sent_files"])
        assert len(kept) == KEEP and kept[-1] == "d-2"
        assert recall("d-0") == {} and recall("d-1") == {}


def test_a_scripts_call_notes_nothing(app):
    with app.test_request_context("/"):
        g.script_token = "t"
        remember("d-1", DOCUMENT, {"video.mp4": 10})
        assert "sent_files" not in session

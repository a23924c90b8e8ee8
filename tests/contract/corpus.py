"""Datapack documents for the contract between the sandbox's validation and the portal's: each with the
verdict the public schema gives it (accepted or refused), as read from the public repovizz2 material."""
from __future__ import annotations

import copy

UUID = "0f1e2d3c-4b5a-4697-8877-665544332211"
INFO = {"name": "Trial", "author": "ana", "description": "", "keywords": ["emg"]}


def data(**extra) -> dict:
    return {"class": "data", "name": "EMG", "text": "", "link": "emg.json", **extra}


def container(*children, **extra) -> dict:
    return {"class": "container", "name": "IMU", "text": "", "children": list(children), **extra}


def document(*children, **info) -> dict:
    return {"info": {**INFO, **info}, "children": list(children)}


def nested(depth: int) -> dict:
    node = data()
    for _ in range(depth):
        node = container(node)
    return document(node)


def without(mapping: dict, key: str) -> dict:
    copied = copy.deepcopy(mapping)
    copied.pop(key)
    return copied


ACCEPTED = {
    "one data node": document(data()),
    "no children at all": document(),
    "a container with a data node": document(container(data())),
    "an empty container": document(container()),
    "an uploaded link": document(data(link="repovizz:" + "a" * 40)),
    "a link with a space and a folder": document(data(link="sensors/emg 2.json")),
    "mime a string": document(data(mime="application/json")),
    "mime null": document(data(mime=None)),
    "mime a number": document(data(mime=5)),
    "mime an object": document(data(mime={"type": "text/plain"})),
    "meta an object": document(data(meta={"mime": "video/mp4", "fps": 30})),
    "meta nested": document(data(meta={"a": {"b": {"c": [1, 2, 3]}}})),
    "type a UUID": document(data(type=UUID)),
    "type urn:uuid": document(data(type=f"urn:uuid:{UUID}")),
    "type with braces": document(data(type="{" + UUID + "}")),
    "node id a UUID": document(data(id=UUID)),
    "container id holding a UUID": document(container(id=f"node-{UUID}")),
    "info id a UUID": document(data(), id=UUID),
    "empty info name": document(data(), name=""),
    "no keywords": document(data(), keywords=[]),
    "unicode names": document(data(name="Électromyographie", text="前腕")),
    "extra keys on a node": document(data(colour="red")),
    "extra keys in info": document(data(), licence="CC-BY"),
    "extra top-level keys": {**document(data()), "version": 2},
    "40 nested containers": nested(40),
    "60 nested containers": nested(60),
    "two nodes with the same link": document(data(), data(name="EMG again")),
    "a data node with children too": document(data(children=[])),
}

REFUSED = {
    "not an object": [document(data())],
    "no info": without(document(data()), "info"),
    "no children": without(document(data()), "children"),
    "info not an object": {**document(data()), "info": "Trial"},
    "info without author": {**document(data()), "info": without(INFO, "author")},
    "info without keywords": {**document(data()), "info": without(INFO, "keywords")},
    "keywords not a list": document(data(), keywords="emg"),
    "repeated keywords": document(data(), keywords=["emg", "emg"]),
    "a keyword not a string": document(data(), keywords=[3]),
    "name a number": document(data(), name=3),
    "children not an array": {**document(), "children": {}},
    "a node not an object": document("emg.json"),
    "a node without class": document(without(data(), "class")),
    "an unknown class": document(data(**{"class": "file"})),
    "a node without text": document(without(data(), "text")),
    "a node name null": document(data(name=None)),
    "a data node without link": document(without(data(), "link")),
    "a link not a string": document(data(link=7)),
    "a container without children": document(without(container(), "children")),
    "container children not an array": document(container() | {"children": "none"}),
    "type not holding a UUID": document(data(type="accelerometer")),
    "type with an uppercase UUID": document(data(type=UUID.upper())),
    "type a number": document(data(type=42)),
    "meta not an object": document(data(meta="video/mp4")),
    "node id not holding a UUID": document(data(id="node-1")),
    "a deep node broken": nested(30) | {"children": [container(container(without(data(), "name")))]},
}

"""Changing a datapack document: nodes addressed by their place (``children[1].children[0]``).

Pure functions, no Flask. Each returns a changed copy and leaves its argument alone; each raises
an `EditError` (with a message meant for the user) when the place or the change does not fit.
An edit checks only what it changes: the rest of the document is whatever repovizz2 holds (any
document its public schema accepts), however deep; nothing here recurses.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata

from .datapack_rules import (
    control_character_reason,
    copy_json,
    is_uploaded,
    link_reason,
    place_of,
    unsafe_link_reason,
    walk_data_nodes,
    walk_nodes,
    without_surrogates,
)

_PLACE = re.compile(r"children\[(0|[1-9][0-9]{0,5})\](?:\.children\[(0|[1-9][0-9]{0,5})\])*")
# The deepest place an edit form can name: the datapack page draws (and offers edits for) nodes this
# deep, deeper than the portal creates (MAX_DEPTH), since repovizz2 may hold deeper trees. A longer
# place names no node that has a form, and is not repeated back in full.
MAX_PLACE_DEPTH = 100
_MAX_PLACE = MAX_PLACE_DEPTH * len("children[999999].")
_INDEX = re.compile(r"\[(\d+)\]")


class EditError(ValueError):
    """The edit cannot be made; the message says why, in words for the user."""


class NodeNotFound(EditError):
    pass


class LinkTaken(EditError):
    pass


def parse_place(place: str) -> list[int]:
    """``children[1].children[0]`` → ``[1, 0]``; EditError for anything else."""
    if not isinstance(place, str) or len(place) > _MAX_PLACE or not _PLACE.fullmatch(place):
        shown = repr(place[:60] + "…") if isinstance(place, str) and len(place) > 60 else repr(place)
        raise NodeNotFound(f"{shown} is not the place of a node")
    return [int(index) for index in _INDEX.findall(place)]


def place_from(indexes: list[int]) -> str:
    return place_of([part for index in indexes for part in ("children", index)])


def _siblings(document: dict, indexes: list[int]) -> list:
    """The node array holding the node at `indexes` (which must exist)."""
    nodes = document.get("children") if isinstance(document, dict) else None
    for depth, index in enumerate(indexes):
        if not isinstance(nodes, list) or not 0 <= index < len(nodes) or not isinstance(nodes[index], dict):
            break
        if depth == len(indexes) - 1:
            return nodes
        node = nodes[index]
        nodes = node.get("children") if node.get("class") == "container" else None
    raise NodeNotFound(f"there is no node at {place_from(indexes)}")


def node_at(document: dict, place: str) -> dict:
    """The node at `place` (the document's own object, not a copy)."""
    indexes = parse_place(place)
    return _siblings(document, indexes)[indexes[-1]]


def remove_node(document: dict, place: str) -> dict:
    """Without the node at `place` (a container goes with everything inside it)."""
    edited = copy_json(document)
    indexes = parse_place(place)
    del _siblings(edited, indexes)[indexes[-1]]
    return edited


def set_node_fields(document: dict, place: str, *, name: str | None = None, text: str | None = None) -> dict:
    """With the node's ``name`` and/or ``text`` replaced."""
    edited = copy_json(document)
    node = node_at(edited, place)
    for key, value in (("name", name), ("text", text)):
        if value is None:
            continue
        if not isinstance(value, str):
            raise EditError(f"the {key} must be text")
        reason = control_character_reason(value, multiline=key == "text")
        if reason:
            raise EditError(f"the {key} {reason}")
        node[key] = value
    return edited


def set_node_name(document: dict, place: str, name: str) -> dict:
    return set_node_fields(document, place, name=name)


def set_node_text(document: dict, place: str, text: str) -> dict:
    return set_node_fields(document, place, text=text)


def _copy_with_data_node(document: dict, place: str) -> tuple[dict, dict]:
    """A copy of `document` and, in it, the data node at `place` (EditError when it is no data node)."""
    edited = copy_json(document)
    node = node_at(edited, place)
    if node.get("class") != "data":
        raise EditError(f"{place} is not a data node")
    return edited, node


def set_node_mime(document: dict, place: str, mime: str) -> dict:
    """With the data node's MIME type replaced (also where the server moved it into ``meta``)."""
    edited, node = _copy_with_data_node(document, place)
    node["mime"] = mime
    if isinstance(node.get("meta"), dict) and "mime" in node["meta"]:
        node["meta"]["mime"] = mime
    return edited


def put_node(document: dict, place: str, node: dict) -> dict:
    """With the node at `place` replaced by (a copy of) `node`."""
    edited = copy_json(document)
    indexes = parse_place(place)
    _siblings(edited, indexes)[indexes[-1]] = copy_json(node)
    return edited


def set_node_link(document: dict, place: str, link: str) -> dict:
    """With the data node's ``link`` replaced (e.g. by a pending link of its own, to send it a new file)."""
    edited, node = _copy_with_data_node(document, place)
    node["link"] = link
    return edited


def set_node_type(document: dict, place: str, datatype_id: str) -> dict:
    """With the data node's ``type`` set to `datatype_id`, or removed when it is empty."""
    edited, node = _copy_with_data_node(document, place)
    if datatype_id:
        node["type"] = datatype_id
    else:
        node.pop("type", None)
    return edited


def shares_link(document: dict, place: str) -> bool:
    """Whether another data node has the same link as the one at `place` (with ids derived from the
    bytes, two nodes holding identical files both point at one ``repovizz:<id>``)."""
    node = node_at(document, place)
    link = node.get("link")
    return sum(1 for other in walk_data_nodes(document) if other.node.get("link") == link) > 1


def free_link(document: dict, filename: str) -> str:
    """A pending link that no data node has: the file's own name (no folders), made unique with
    " (2)", " (3)"… before its extension; "file" when the name is not usable as a link."""
    name = unicodedata.normalize("NFC", (filename or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()
    name = "".join(ch for ch in name if ord(ch) >= 32)
    if not name.strip(" .") or unsafe_link_reason(name) is not None or is_uploaded(name):
        name = "file"
    taken = {_same(other) for other in links(document) if isinstance(other, str)}
    stem, dot, extension = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
    candidate, number = name, 1
    while _same(candidate) in taken:
        number += 1
        candidate = f"{stem} ({number}){dot}{extension}"
    return candidate


def move_node(document: dict, place: str, offset: int) -> tuple[dict, str]:
    """Moved `offset` places among its siblings (clamped at either end); the copy and the node's new place."""
    edited = copy_json(document)
    indexes = parse_place(place)
    siblings = _siblings(edited, indexes)
    old = indexes[-1]
    new = max(0, min(len(siblings) - 1, old + offset))
    siblings.insert(new, siblings.pop(old))
    return edited, place_from(indexes[:-1] + [new])


def links(document: dict) -> list[str]:
    """Every data node's link, in document order."""
    return [node.link for node in walk_data_nodes(document)]


def container_places(document: dict) -> list[tuple[str, str]]:
    """(place, name) of every container: where a new node can go."""
    return [(node.place, node.name) for node in walk_nodes(document) if not node.is_data]


def data_node(name: str, text: str, link: str, mime: str = "") -> dict:
    node = {"class": "data", "name": name, "text": text, "link": link}
    if mime:
        node["mime"] = mime
    return node


def add_node(document: dict, node: dict, parent: str = "") -> tuple[dict, str]:
    """With `node` appended at the top level or to the container at place `parent`; the copy and the
    new node's place. Its name and text must be free of control characters, and a data node's link
    a safe file name that no other node has."""
    for key in ("name", "text"):
        reason = control_character_reason(node.get(key), multiline=key == "text")
        if reason:
            raise EditError(f"the {key} {reason}")
    if node.get("class") == "data":
        link = node.get("link")
        reason = unsafe_link_reason(link)
        if reason is None and not link.strip(" ./"):
            reason = "has no name"
        reason = reason or link_reason(link)
        if reason:
            raise EditError(f"the file name {link!r} {reason}")
        if is_uploaded(link):
            raise EditError(f"the file name {link!r} looks like an uploaded file's reference")
        if _same(link) in {_same(other) for other in links(document) if isinstance(other, str)}:
            raise LinkTaken(f"another node already waits for a file called {link!r}: "
                            "rename your file, or upload it from that node")
    edited = copy_json(document)
    if parent:
        container = node_at(edited, parent)
        if container.get("class") != "container":
            raise EditError(f"{parent} is not a container")
        siblings = container.setdefault("children", [])
        indexes = parse_place(parent)
    else:
        siblings = edited.setdefault("children", [])
        indexes = []
    siblings.append(copy_json(node))
    return edited, place_from(indexes + [len(siblings) - 1])


def _same(link: str) -> str:
    """Links compared as names: macOS gives decomposed (NFD) names, documents usually hold NFC."""
    return unicodedata.normalize("NFC", link)


def set_info(document: dict, **fields) -> dict:
    """With the given ``info`` keys replaced."""
    edited = copy_json(document)
    edited.setdefault("info", {}).update(fields)
    return edited


def describe(node: dict) -> str:
    """``data node "Tone"`` / ``container "Audio" with 3 data nodes``, for result messages."""
    name = node.get("name", "")
    if node.get("class") != "container":
        return f'data node "{name}"'
    inside = len(walk_data_nodes(node))
    return f'container "{name}"' + (f" with {inside} data node{'s' if inside != 1 else ''}" if inside else "")


def _count(number: int, what: str) -> str:
    return f"{number} {what}{'s' if number != 1 else ''}"


def removal_summary(node: dict) -> str:
    """What removing `node` takes away, for the confirmation: ``the data node "Tone" and its file`` /
    ``the container "Sensors" and the 3 nodes inside it (2 uploaded files)``."""
    name = node.get("name", "")
    if node.get("class") != "container":
        if is_uploaded(node.get("link")):
            return f'the data node "{name}" and its file'
        return f'the data node "{name}" (its file was never uploaded)'
    inside = list(walk_nodes(node))
    if not inside:
        return f'the empty container "{name}"'
    files = sum(1 for child in inside if child.is_data and child.uploaded)
    return (f'the container "{name}" and the {_count(len(inside), "node")} inside it '
            f'({_count(files, "uploaded file")})')


def node_fingerprint(node: dict) -> str:
    """What an edit form expects to find at its place: the link of a data node or the name of a
    container, and a digest of the whole node (its name, its text, everything inside a container).
    If the datapack changed in between (another tab), the edit is refused rather than made on another
    node, over the other tab's change, or to nodes the form never showed."""
    if node.get("class") == "data":
        label = "data:" + str(node.get("link", ""))
    else:
        label = "container:" + str(node.get("name", ""))
    return f"{without_surrogates(label)}#{_digest(node)[:16]}"


def _digest(value) -> str:
    """A digest of a JSON value, keys in sorted order, computed without recursion (a stored `meta`
    may be nested hundreds of levels deep). A lone surrogate counts as U+FFFD, so the node as stored
    and the node as shown on a page (where it had to be replaced) give the same digest."""
    digest = hashlib.sha256()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            token = "s" + json.dumps(without_surrogates(item))
        elif isinstance(item, dict):
            keys = sorted(item, key=str)
            token = f"{{{len(keys)}"
            for key in reversed(keys):
                stack.append(item[key])
                stack.append(str(key))
        elif isinstance(item, list):
            token = f"[{len(item)}"
            stack.extend(reversed(item))
        elif isinstance(item, float) and not math.isfinite(item):
            token = "n" + repr(item)
        else:
            token = "v" + json.dumps(item, default=str)
        digest.update(token.encode() + b"\x00")
    return digest.hexdigest()

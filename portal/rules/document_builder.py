"""Proposing a datapack document from a list of files, and reading back the builder's edit form.

Pure functions, no Flask: the views in portal/edit.py and the tests call them directly.

    propose_document([("pack/audio/tone.wav", "audio/wav"), ("pack/notes.csv", "")], {"author": "ana"})

gives one container per folder (the chosen folder itself is the datapack), one data node per file,
a readable ``name`` from the file name, ``mime`` from the type (or guessed from the extension) and
``link`` = the file's path inside the chosen folder. Whatever the paths, the document passes
`document_problems` and `link_problems`: unusable paths are skipped (and reported by `propose`).
"""
from __future__ import annotations

import mimetypes
import posixpath
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Collection, Iterable, Mapping

from .assets import is_ignored
from .datapack_rules import MAX_DEPTH, UPLOADED_PREFIX, copy_json, is_uploaded, normalize_path, unsafe_link_reason, \
    walk_nodes
from .tree_edits import EditError, move_node, node_at, remove_node

DEFAULT_NAME = "New datapack"
# A data node inside k containers sits at depth k + 1; the rules allow MAX_DEPTH.
MAX_FOLDER_LEVELS = MAX_DEPTH - 1

mimetypes.add_type("text/csv", ".csv")
mimetypes.add_type("application/json", ".json")


@dataclass
class Proposal:
    """What `propose` made of a file list: the document, the folder the files were chosen in
    (stripped from every link; "" when the files were chosen one by one) and the paths it skipped."""

    document: dict
    folder: str = ""
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    channels: dict[str, int] = field(default_factory=dict)  # link -> channels of a numeric stream, when read


def readable_name(filename: str, *, strip_extension: bool = True) -> str:
    """``emg_2.json`` → ``Emg 2``; ``Set-up.png`` → ``Set-up``; never empty."""
    stem = filename
    if strip_extension:
        root, ext = posixpath.splitext(filename)
        if root and ext:
            stem = root
    text = re.sub(r"[_\s]+", " ", stem).strip()
    if not text:
        return filename.strip() or "Unnamed"
    first = text.split(" ", 1)[0]
    if text[0].islower() and first == first.lower():
        text = text[0].upper() + text[1:]
    return text


def guess_mime(path: str, given: str = "") -> str:
    """The type the browser gave (without parameters), else a guess from the extension, else ""."""
    given = (given or "").strip()
    if given and "/" in given and given.split(";")[0].strip() != "application/octet-stream":
        return given
    return mimetypes.guess_type(path, strict=False)[0] or given


def keywords_from(value) -> list[str]:
    """Keywords from a list or a comma/semicolon separated string: stripped, unique, in order."""
    if isinstance(value, str):
        items = re.split(r"[,;\n]", value)
    elif isinstance(value, (list, tuple)):
        items = [item for item in value if isinstance(item, str)]
    else:
        items = []
    unique: list[str] = []
    for item in items:
        item = " ".join(item.split())
        if item and item not in unique:
            unique.append(item)
    return unique


def make_info(info: Mapping | None, *, default_name: str = DEFAULT_NAME, default_author: str = "") -> dict:
    """The ``info`` object of a document from loosely given fields (every key required by the rules)."""
    info = info or {}

    def text(key: str) -> str:
        value = info.get(key)
        return " ".join(value.split()) if isinstance(value, str) and key != "description" else (
            value.strip() if isinstance(value, str) else "")

    return {
        "name": text("name") or default_name,
        "author": text("author") or default_author,
        "description": text("description"),
        "keywords": keywords_from(info.get("keywords")),
    }


def _composed(raw_path) -> str:
    return unicodedata.normalize("NFC", normalize_path(raw_path if isinstance(raw_path, str) else ""))


def _usable(paths_and_types: Iterable[tuple[str, str]], documents: Collection[str] = ()) \
        -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    kept: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    documents = {_composed(path) for path in documents}
    for raw_path, mime in paths_and_types:
        raw_path = raw_path if isinstance(raw_path, str) else ""
        path = _composed(raw_path)
        reason = None
        if not path or path == ".":
            reason = "has no name"
        elif is_ignored(path):
            reason = "is a file the system adds by itself"
        elif path in documents:
            reason = "is a datapack document, not a data file (to upload it with its files as they are, use Upload)"
        else:
            reason = unsafe_link_reason(path)
            if reason is None and any(ord(ch) < 32 for ch in path):
                reason = "contains a control character"
        if reason is None and path in seen:
            reason = "was chosen twice"
        if reason is not None:
            skipped.append((raw_path, reason))
            continue
        seen.add(path)
        kept.append((path, mime if isinstance(mime, str) else ""))
    return kept, skipped


def _common_folder(paths: list[str]) -> str:
    """The one folder every path is inside (the folder the user chose), or ""."""
    if not paths or any("/" not in path for path in paths):
        return ""
    first = {path.split("/", 1)[0] for path in paths}
    return first.pop() if len(first) == 1 else ""


def _natural(text: str) -> tuple:
    """Sort key where ``trial 2`` comes before ``trial 10``."""
    parts = tuple((0, int(part), "") if part.isascii() and part.isdigit() else (1, 0, part.casefold())
                  for part in re.split(r"([0-9]+)", text) if part)
    return parts, text


def propose(paths_and_types: Iterable[tuple[str, str]], info: Mapping | None = None, *,
            default_author: str = "", documents: Collection[str] = (),
            channels: Mapping[str, int] | None = None) -> Proposal:
    """The proposed document for these files, with what was skipped and why; the paths in `documents`
    (datapack documents found among the files) are never data nodes; `channels` (by path) are kept by link."""
    kept, skipped = _usable(paths_and_types, documents)
    counted = {_composed(path): count for path, count in (channels or {}).items()}
    by_link: dict[str, int] = {}
    folder = _common_folder([path for path, _ in kept])
    tree: dict = {"folders": {}, "files": []}
    for path, mime in kept:
        link = path[len(folder) + 1:] if folder else path
        reason = unsafe_link_reason(link)  # e.g. a blank name once the folder is taken off
        if reason is None and is_uploaded(link):
            reason = f"has a name that starts with {UPLOADED_PREFIX!r}, like an uploaded file"
        if reason:
            skipped.append((path, reason))
            continue
        parts = link.split("/")
        folders, filename = parts[:-1], parts[-1]
        if len(folders) > MAX_FOLDER_LEVELS:
            folders = folders[:MAX_FOLDER_LEVELS - 1] + ["/".join(folders[MAX_FOLDER_LEVELS - 1:])]
        here = tree
        for name in folders:
            here = here["folders"].setdefault(name, {"folders": {}, "files": []})
        here["files"].append((filename, link, guess_mime(path, mime)))
        if path in counted:
            by_link[link] = counted[path]
    document = {
        "info": make_info(info, default_name=readable_name(folder, strip_extension=False) if folder else DEFAULT_NAME,
                          default_author=default_author),
        "children": _nodes(tree),
    }
    return Proposal(document, folder, skipped, by_link)


def _nodes(tree: dict) -> list[dict]:
    """Files first, then folders, each in natural order (recursion depth is bounded by MAX_FOLDER_LEVELS)."""
    nodes: list[dict] = []
    for filename, link, mime in sorted(tree["files"], key=lambda item: _natural(item[0])):
        node = {"class": "data", "name": readable_name(filename), "text": "", "link": link}
        if mime:
            node["mime"] = mime
        nodes.append(node)
    for name in sorted(tree["folders"], key=_natural):
        nodes.append({"class": "container", "name": readable_name(name, strip_extension=False), "text": "",
                      "children": _nodes(tree["folders"][name])})
    return nodes


def propose_document(paths_and_types: Iterable[tuple[str, str]], info: Mapping | None = None) -> dict:
    """The proposed datapack document for `paths_and_types` (pairs of relative path and MIME type)."""
    return propose(paths_and_types, info).document


# --- The edit form -------------------------------------------------------------------------------

NAME_FIELD = "node-name:"
TEXT_FIELD = "node-text:"
TYPE_FIELD = "node-type:"
ACTIONS = ("up", "down", "drop")


def apply_edits(document: dict, form: Mapping[str, str], datatype_ids: Iterable[str] | None = None) -> dict:
    """A copy of `document` with the edit form's fields applied: ``info-name``, ``info-author``,
    ``info-description``, ``info-keywords`` and, per node, ``node-name:<place>`` / ``node-text:<place>``
    and, for a data node, ``node-type:<place>`` (its datatype: one of `datatype_ids` when they are
    given, or empty for none; the node's own type as it is keeps it). Fields for places the document
    does not have, and datatypes not among `datatype_ids`, are ignored."""
    allowed = None if datatype_ids is None else set(datatype_ids)
    edited = copy_json(document)
    info = edited.setdefault("info", {})
    for key in ("name", "author", "description"):
        value = form.get(f"info-{key}")
        if isinstance(value, str):
            info[key] = value.strip() if key == "description" else " ".join(value.split())
    if not info.get("name"):
        info["name"] = document.get("info", {}).get("name") or DEFAULT_NAME  # repovizz2 needs a name
    if isinstance(form.get("info-keywords"), str):
        info["keywords"] = keywords_from(form["info-keywords"])
    for node in list(walk_nodes(edited)):
        name = form.get(NAME_FIELD + node.place)
        text = form.get(TEXT_FIELD + node.place)
        if isinstance(name, str):
            node.node["name"] = " ".join(name.split()) or node.node.get("name", "")
        if isinstance(text, str):
            node.node["text"] = text.strip()
        datatype = form.get(TYPE_FIELD + node.place)
        if node.is_data and isinstance(datatype, str) and datatype != node.node.get("type"):
            if not datatype:
                node.node.pop("type", None)
            elif allowed is None or datatype in allowed:
                node.node["type"] = datatype
    return edited


def apply_action(document: dict, action: str) -> tuple[dict, str | None]:
    """Apply ``up:<place>``, ``down:<place>`` or ``drop:<place>``; returns the document and the
    place of the moved node (None for a drop, or for an unknown action, which changes nothing)."""
    verb, _, place = (action or "").partition(":")
    if verb not in ACTIONS or not place:
        return document, None
    try:
        node_at(document, place)
        if verb == "drop":
            return remove_node(document, place), None
        return move_node(document, place, -1 if verb == "up" else 1)
    except EditError:
        return document, None

"""The datapack rules: parse, validate, walk data nodes and match links to files.

Pure functions with no Flask in them, shared by the portal's views and the sandbox.
"""
from __future__ import annotations

import json
import posixpath
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from jsonschema import Draft202012Validator

UPLOADED_PREFIX = "repovizz:"

# Deeper trees are refused before validation: checking them recursively would exhaust the stack.
MAX_DEPTH = 40

_UUID = {"type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}

# The project's own statement of the datapack rules (the README's 'Uploading a datapack' says them in words).
# Nodes branch on `class` with if/then so each problem is reported at the node that has it,
# rather than as one opaque "matches none of" error.
DATAPACK_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["info", "children"],
    "properties": {
        "info": {
            "type": "object",
            "required": ["name", "author", "description", "keywords"],
            "properties": {
                "name": {"type": "string"},
                "author": {"type": "string"},
                "description": {"type": "string"},
                "keywords": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                "id": _UUID,
            },
        },
        "children": {"$ref": "#/$defs/nodes"},
    },
    "$defs": {
        "nodes": {"type": "array", "items": {"$ref": "#/$defs/node"}},
        "node": {
            "type": "object",
            "required": ["class", "name", "text"],
            "properties": {
                "class": {"enum": ["container", "data"]},
                "name": {"type": "string"},
                "text": {"type": "string"},
                "id": _UUID,
            },
            "allOf": [
                {
                    "if": {"properties": {"class": {"const": "container"}}, "required": ["class"]},
                    "then": {"required": ["children"], "properties": {"children": {"$ref": "#/$defs/nodes"}}},
                },
                {
                    "if": {"properties": {"class": {"const": "data"}}, "required": ["class"]},
                    "then": {
                        "required": ["link"],
                        "properties": {
                            "link": {"type": "string"},
                            "type": _UUID,
                            "meta": {"type": "object"},
                            "mime": {"type": "string"},
                        },
                    },
                },
            ],
        },
    },
}

_VALIDATOR = Draft202012Validator(DATAPACK_SCHEMA)


class DatapackInvalid(ValueError):
    """The document (or the files sent with it) breaks the datapack rules."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def place_of(path: Iterable[str | int]) -> str:
    """Turn a JSON path into the place a user reads, e.g. ``children[1].children[0]``."""
    place = ""
    for part in path:
        if isinstance(part, int):
            place += f"[{part}]"
        else:
            place += f".{part}" if place else part
    return place or "document"


def _describe(error) -> str:
    if error.validator == "required":
        missing = [key for key in error.validator_value if key not in error.instance]
        return ", ".join(f"'{key}' is required" for key in missing)
    if error.validator == "type":
        return f"must be of type {error.validator_value}, not {_json_type(error.instance)}"
    if error.validator == "enum":
        allowed = " or ".join(json.dumps(v) for v in error.validator_value)
        return f"must be {allowed}, not {_show(error.instance)}"
    if error.validator == "uniqueItems":
        return "must not repeat a value"
    if error.validator == "pattern":
        return f"must be a UUID (lowercase hex, 8-4-4-4-12), not {_show(error.instance)}"
    return error.message


def _show(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _json_type(value) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def document_problems(document) -> list[str]:
    """Every way `document` breaks the datapack rules, each prefixed with its place; [] when valid.

    Problems come in document order: a node's own problems before those of its keys, and keys in
    the order the document gives them.
    """
    if not isinstance(document, dict):
        return [f"document: must be a JSON object, not {_json_type(document)}"]
    too_deep = _too_deep_place(document)
    if too_deep:
        return [f"{too_deep}: is nested more than {MAX_DEPTH} levels deep"]
    problems = []
    try:
        for error in _VALIDATOR.iter_errors(document):
            if error.validator in ("if", "then", "allOf", "$ref"):
                continue
            path = list(error.absolute_path)
            problems.append((_document_order(document, path), f"{place_of(path)}: {_describe(error)}"))
    except RecursionError:
        return ["document: is nested too deeply to check"]
    problems.sort(key=lambda item: item[0])
    unique = []
    for _, message in problems:
        if message not in unique:
            unique.append(message)
    return unique


def _document_order(document, path: list) -> tuple:
    """A sort key that puts `path` where it appears in the document (keys in their written order)."""
    key = []
    value = document
    for part in path:
        if isinstance(value, dict):
            keys = list(value)
            key.append(keys.index(part) if part in value else len(keys))
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int):
            key.append(part)
            value = value[part] if 0 <= part < len(value) else None
        else:
            key.append(0)
            value = None
    return tuple(key)


def _too_deep_place(document: dict) -> str | None:
    """The place of the first node (in document order) nested deeper than MAX_DEPTH, found without recursion."""
    stack = [(document.get("children"), [], 1)]
    while stack:
        nodes, path, depth = stack.pop()
        if not isinstance(nodes, list):
            continue
        if depth > MAX_DEPTH and any(isinstance(node, dict) for node in nodes):
            first = next(index for index, node in enumerate(nodes) if isinstance(node, dict))
            return place_of(path + ["children", first])
        for index in range(len(nodes) - 1, -1, -1):  # pushed last to first, so popped in document order
            node = nodes[index]
            if isinstance(node, dict) and node.get("class") == "container":
                stack.append((node.get("children"), path + ["children", index], depth + 1))
    return None


def load_document(text: str | bytes) -> dict:
    """Parse a document's JSON (no rules checked yet), raising DatapackInvalid when it is not JSON."""
    if isinstance(text, str):
        text = text.removeprefix("\ufeff")  # json.loads accepts a byte-order mark in bytes, not in str
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise DatapackInvalid(["document: is not UTF-8 text"]) from None
    except json.JSONDecodeError as exc:
        raise DatapackInvalid([f"document: is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"]) from None
    except RecursionError:
        raise DatapackInvalid(["document: is nested too deeply to read"]) from None
    if not isinstance(document, dict):
        raise DatapackInvalid([f"document: must be a JSON object, not {_json_type(document)}"])
    return document


def parse_document(text: str | bytes) -> dict:
    """Parse and validate a datapack document, raising DatapackInvalid with every problem."""
    document = load_document(text)
    problems = document_problems(document)
    if problems:
        raise DatapackInvalid(problems)
    return document


def _reject_constant(name: str):
    raise DatapackInvalid([f"document: is not valid JSON ({name} is not a JSON number)"])


@dataclass(frozen=True)
class TreeNode:
    """One node of a datapack tree, with its place and depth for display."""

    place: str
    depth: int
    node: dict = field(compare=False, repr=False)

    @property
    def is_data(self) -> bool:
        return self.node.get("class") == "data"

    @property
    def name(self) -> str:
        return self.node.get("name", "")

    @property
    def text(self) -> str:
        return self.node.get("text", "")

    @property
    def link(self) -> str:
        return self.node.get("link", "")

    @property
    def mime(self) -> str:
        meta = self.node.get("meta")
        return self.node.get("mime") or (meta.get("mime", "") if isinstance(meta, dict) else "")

    @property
    def uploaded(self) -> bool:
        return is_uploaded(self.link)


def walk_nodes(document: dict) -> Iterator[TreeNode]:
    """Every node of the tree in document order (depth first), however deep, without recursion."""
    stack = [(document.get("children"), "", 0, 0)]
    while stack:
        nodes, parent, depth, start = stack.pop()
        if not isinstance(nodes, list):
            continue
        for index in range(start, len(nodes)):
            node = nodes[index]
            if not isinstance(node, dict):
                continue
            place = f"{parent}.children[{index}]" if parent else f"children[{index}]"
            yield TreeNode(place, depth, node)
            if node.get("class") == "container":
                stack.append((nodes, parent, depth, index + 1))
                stack.append((node.get("children"), place, depth + 1, 0))
                break


def container_names(document: dict) -> dict[str, list[str]]:
    """For each node's place, the names of the containers it sits in, outermost first."""
    trail: list[str] = []
    names: dict[str, list[str]] = {}
    for node in walk_nodes(document):
        del trail[node.depth:]
        names[node.place] = list(trail)
        if not node.is_data:
            trail.append(node.name)
    return names


def walk_data_nodes(document: dict) -> list[TreeNode]:
    """The data nodes of the tree, in document order."""
    return [node for node in walk_nodes(document) if node.is_data]


def is_uploaded(link: str) -> bool:
    return isinstance(link, str) and link.startswith(UPLOADED_PREFIX)


def reference_id(link: str) -> str:
    """The opaque id behind ``repovizz:<id>``."""
    return link[len(UPLOADED_PREFIX):] if is_uploaded(link) else ""


def pending_links(content: dict) -> list[str]:
    """The links of a content listing that still wait for their file."""
    return [link for link in content if not is_uploaded(link)]


def normalize_path(path: str) -> str:
    """A file's relative path as the browser or zip gave it, with forward slashes and no ``./``."""
    return posixpath.normpath(path.replace("\\", "/")).lstrip("/") if path else ""


def unsafe_link_reason(link: str) -> str | None:
    """Why a link cannot name an asset file, or None when it can."""
    if not isinstance(link, str):
        return "is not a string"
    if not link.strip():
        return "is empty"
    if "\x00" in link:
        return "contains a NUL character"
    if link.startswith(("/", "\\")) or (len(link) > 1 and link[0].isalpha() and link[1] == ":"):
        return "is an absolute path"
    if ".." in link.replace("\\", "/").split("/"):
        return "goes up a folder with '..'"
    if len(link) > 1024:
        return "is longer than 1024 characters"
    return None


def link_problems(document: dict) -> list[str]:
    """Problems with the data-node links themselves: unsafe or duplicated."""
    nodes = [node for node in walk_data_nodes(document) if isinstance(node.node.get("link"), str) and not node.uploaded]
    problems = []
    safe = []
    for node in nodes:
        reason = unsafe_link_reason(node.link)
        if reason:
            problems.append(f"{node.place}: link {node.link!r} {reason}")
        else:
            safe.append(node)
    counts = Counter(node.link for node in safe)
    for link, count in counts.items():
        if count > 1:
            places = ", ".join(node.place for node in safe if node.link == link)
            problems.append(f"link {link!r} is used by {count} data nodes ({places}); each file can be uploaded once")
    return problems


@dataclass
class FileMatch:
    """How the links of a datapack pair up with the files sent beside it."""

    matched: dict[str, str]  # link -> file path
    missing: list[str]
    ambiguous: dict[str, list[str]]  # link -> the files it could mean
    contested: dict[str, list[str]]  # file path -> the links that all mean it
    unreferenced: list[str]

    @property
    def problems(self) -> list[str]:
        problems = [f"no file was sent for link {link!r}" for link in self.missing]
        problems += [
            f"link {link!r} matches several files: {', '.join(map(repr, paths))}"
            for link, paths in self.ambiguous.items()
        ]
        problems += [
            f"file {path!r} is matched by several links: {', '.join(map(repr, links))}"
            for path, links in self.contested.items()
        ]
        problems += [f"file {path!r} is not referenced by any data node" for path in self.unreferenced]
        return problems


def _same(path: str) -> str:
    """The form two paths are compared in: macOS hands out decomposed (NFD) names, documents say NFC."""
    return unicodedata.normalize("NFC", path)


def _candidates(link: str, paths: list[str]) -> list[str]:
    """The files a link could mean: the exact relative path; else the paths that end with "/" + link;
    else the files of the same name."""
    wanted = _same(normalize_path(link))
    if not wanted or wanted == ".":
        return []
    keyed = [(_same(path), path) for path in paths]
    exact = [path for key, path in keyed if key == wanted]
    if exact:
        return exact
    # A folder upload prefixes the chosen folder's name. Every such file is a candidate, however
    # deep: preferring the shallowest would pick a stray copy above a document kept in a subfolder.
    below = [path for key, path in keyed if key.endswith("/" + wanted)]
    if below:
        return below
    name = posixpath.basename(wanted)
    return [path for key, path in keyed if posixpath.basename(key) == name]


def match_links_to_files(links: Iterable[str], file_paths: Iterable[str]) -> FileMatch:
    """Pair each link with exactly one file: by relative path first, then by file name.

    A file that is some link's only candidate is taken by it and no longer a candidate of the links
    that could mean several files. A file taken by several links is contested (so is every file of
    a link whose candidates were all taken). Every file ends up exactly one of matched, contested,
    an ambiguous link's candidate, or unreferenced.
    """
    paths = sorted({normalize_path(path) for path in file_paths})
    # A link that is not a string, or is blank, names no file: that is the document's problem
    # (document_problems, link_problems), not a file to look for.
    unique_links = list(dict.fromkeys(link for link in links if isinstance(link, str) and link.strip()))
    original = {link: _candidates(link, paths) for link in unique_links}
    sole = {link: found[0] for link, found in original.items() if len(found) == 1}
    several = {link: found for link, found in original.items() if len(found) > 1}
    starved: dict[str, list[str]] = {}
    progress = True
    while progress:
        progress = False
        taken = set(sole.values())
        for link, found in list(several.items()):
            left = [path for path in found if path not in taken]
            if len(left) == len(found):
                continue
            progress = True
            del several[link]
            if len(left) == 1:
                sole[link] = left[0]
            elif left:
                several[link] = left
            else:
                starved[link] = original[link]
    claims: dict[str, list[str]] = {}
    for link in unique_links:
        for path in [sole[link]] if link in sole else starved.get(link, []):
            claims.setdefault(path, []).append(link)
    contested = {path: group for path, group in claims.items() if len(group) > 1}
    matched = {link: sole[link] for link in unique_links if link in sole and sole[link] not in contested}
    ambiguous = {link: several[link] for link in unique_links if link in several}
    missing = [link for link in unique_links if not original[link]]
    used = set(claims) | {path for group in ambiguous.values() for path in group}
    unreferenced = [path for path in paths if path not in used]
    return FileMatch(matched, missing, ambiguous, contested, unreferenced)

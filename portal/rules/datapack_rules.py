"""The datapack rules: parse, validate, walk data nodes and match links to files.

Two levels of rules, kept apart so that each problem says which it is:

- **the public schema's rules** (`schema_problems`): what repovizz2 itself accepts. The portal reads,
  shows, edits, resumes and downloads any document that passes them, and an edit checks only what
  it changes.
- **the portal's own rules** (`portal_problems`, `link_problems`): stricter, for the datapacks the
  portal creates: a non-empty name, a textual ``mime``, no control characters in names and texts,
  links that name a file safely, at most MAX_DEPTH levels of nodes.

Every problem is a `Problem`: one readable line (it is a ``str``) that also keeps its parts: the node
by its names from the root, its technical place, the message and its kind.

Pure functions with no Flask in them. Every walk is iterative: a document nested as deep as JSON
allows never raises RecursionError here.
"""
from __future__ import annotations

import json
import math
import posixpath
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Iterator

UPLOADED_PREFIX = "repovizz:"

# The portal's own limits (repovizz2 states none): levels of nodes in a datapack it creates, and
# levels of JSON nesting anywhere in it (a node's `meta`, say).
MAX_DEPTH = 40
MAX_NESTING = 200

# The public schema's UUID pattern, unanchored as it is there: any string that contains one passes.
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

DATAPACK_SHAPE = ('a datapack document is a JSON object with "info" (its "name", "author", "description" and '
                  '"keywords") and "children" (its nodes: containers, and data nodes that link to files)')

SCHEMA, PORTAL, FILE = "schema", "portal", "file"
_LEADS = {SCHEMA: "repovizz2 would refuse this: ", PORTAL: "the portal's own check: ", FILE: ""}
KIND_LABELS = {SCHEMA: "repovizz2 would refuse this", PORTAL: "the portal's own check", FILE: ""}

DOCUMENT_WHERE = "the document"
INFO_WHERE = "the datapack's info"
TOP_LEVEL = "the top level"


class Problem(str):
    """One problem with a datapack or its files.

    It *is* its readable line (``str(problem)``), so lists of problems stay lists of strings for the
    JSON API and for every caller that joins them; its parts are kept for the pages:

    - ``where``: the node by its names from the root ("IMU › Orientation"), or "the document",
      "the datapack's info", or "" for a file;
    - ``place``: the technical place (``children[2].children[2]``), "" when there is none;
    - ``message``: what is wrong, in words;
    - ``kind``: ``schema`` (repovizz2 itself would refuse it), ``portal`` (the portal's own,
      stricter rule for what it creates) or ``file`` (the files sent, or the document file itself).
    """

    where: str
    place: str
    message: str
    kind: str

    def __new__(cls, message: str, *, where: str = "", place: str = "", kind: str = FILE):
        lead = _LEADS.get(kind, "")
        subject = f"{where}: " if where else ""
        shown_place = f" ({place})" if place and place != where else ""
        self = super().__new__(cls, f"{lead}{subject}{message}{shown_place}")
        self.where, self.place, self.message, self.kind = where, place, message, kind
        return self

    def __reduce__(self):
        return (_rebuild_problem, (self.message, self.where, self.place, self.kind))

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, "")

    def as_dict(self) -> dict:
        return {"kind": self.kind, "where": self.where, "place": self.place, "message": self.message,
                "text": str(self)}


def _rebuild_problem(message, where, place, kind):
    return Problem(message, where=where, place=place, kind=kind)


def as_problem(value) -> Problem:
    """A Problem for `value` (a plain string becomes a problem of kind ``file`` with that message)."""
    return value if isinstance(value, Problem) else Problem(str(value))


# What one answer may carry, whatever was sent: the files or nodes one problem names, the characters
# of a path or link it quotes, and the problems of one answer (their JSON parts, summed).
SHOWN_PER_PROBLEM = 5
SHOWN_CHARS = 200
MAX_PROBLEMS_BYTES = 256 * 1024


def quoted(text) -> str:
    """A path or link as a message quotes it (``repr``-style), its first SHOWN_CHARS characters only."""
    text = str(text)
    if len(text) <= SHOWN_CHARS:
        return repr(text)
    return f"{text[:SHOWN_CHARS]!r}… ({len(text)} characters)"


def listed(items, shown: int = SHOWN_PER_PROBLEM, quote=quoted) -> str:
    """The first `shown` items, quoted and joined, then "… and 997 more" for the rest."""
    items = list(items)
    text = ", ".join(quote(item) for item in items[:shown])
    return text + (f" … and {len(items) - shown} more" if len(items) > shown else "")


def _problem_bytes(problem: Problem) -> int:
    """The size of a problem's parts as the API writes them (JSON, non-ASCII escaped)."""
    return len(json.dumps(problem.as_dict()))


class MoreProblems(Problem):
    """The last line of a bounded list: how many problems were left out of it."""

    def __new__(cls, count: int):
        self = super().__new__(cls, f"… and {count} more {'problem' if count == 1 else 'problems'}, not listed here")
        self.left_out = count
        return self

    def __reduce__(self):
        return (MoreProblems, (self.left_out,))


def bounded_problems(problems, max_bytes: int = MAX_PROBLEMS_BYTES) -> list[Problem]:
    """`problems` without repeats, in order, as many as fit in `max_bytes`; the rest counted in a last
    line (a list bounded before stays as it is)."""
    seen: set[str] = set()
    kept: list[Problem] = []
    used = left = 0
    for problem in map(as_problem, problems):
        if isinstance(problem, MoreProblems):
            left += problem.left_out
            continue
        if problem in seen:
            continue
        seen.add(problem)
        size = _problem_bytes(problem)
        if left or used + size > max_bytes:
            left += 1
            continue
        used += size
        kept.append(problem)
    if left:
        kept.append(MoreProblems(left))
    return kept


class DatapackInvalid(ValueError):
    """The document (or the files sent with it) breaks the rules; `problems` lists them (repeats
    dropped, bounded in size: see `bounded_problems`)."""

    def __init__(self, problems: list):
        self.problems: list[Problem] = bounded_problems(problems)
        super().__init__("; ".join(self.problems))

    @property
    def details(self) -> list[dict]:
        return [problem.as_dict() for problem in self.problems]


def place_of(path: Iterable[str | int]) -> str:
    """Turn a JSON path into its technical place, e.g. ``children[1].children[0]``."""
    place = ""
    for part in path:
        if isinstance(part, int):
            place += f"[{part}]"
        else:
            place += f".{part}" if place else part
    return place or "document"


def _json_type(value) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def _show(value) -> str:
    """A short JSON rendering of a value for a message (never the whole of a big or deep one)."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        text = json.dumps(value[:80] + ("…" if len(value) > 80 else ""), ensure_ascii=False)
    else:
        text = to_json_text(value)
    return without_surrogates(text)


# --- Names from the root ------------------------------------------------------------------------

_TRAIL_SHOWN = 6


def _display_name(node) -> str:
    """A node's name as a trail shows it: one line, readable, not too long; "(unnamed)" when it has none."""
    name = node.get("name") if isinstance(node, dict) else None
    name = without_surrogates(" ".join(_CONTROL.sub(" ", name).split())) if isinstance(name, str) else ""
    if not name:
        return "(unnamed)"
    return name if len(name) <= 60 else name[:59] + "…"


def trail_text(names: list[str]) -> str:
    """``IMU › Orientation``: a node by its names from the root (the middle of a very deep one elided)."""
    if len(names) > _TRAIL_SHOWN:
        names = names[:2] + ["…"] + names[-(_TRAIL_SHOWN - 3):]
    return " › ".join(names)


class _At:
    """Where a node sits: its parent's `_At`, its index among its siblings, and the node itself."""

    __slots__ = ("parent", "index", "node", "depth")

    def __init__(self, parent: _At | None, index: int, node):
        self.parent, self.index, self.node = parent, index, node
        self.depth = parent.depth + 1 if parent else 1

    def chain(self) -> list[_At]:
        chain, at = [], self
        while at is not None:
            chain.append(at)
            at = at.parent
        return chain[::-1]

    def place(self) -> str:
        return ".".join(f"children[{at.index}]" for at in self.chain())

    def where(self) -> str:
        return trail_text([_display_name(at.node) for at in self.chain()])

    def parent_where(self) -> str:
        return self.parent.where() if self.parent else TOP_LEVEL


# --- The public schema's rules: what repovizz2 accepts --------------------------------------------

def not_a_datapack(document) -> Problem:
    what = f"it is {_a(_json_type(document))}" if not isinstance(document, dict) else \
        'it is a JSON object without "info" or "children"'
    return Problem(f"this does not look like a datapack document ({what}); {DATAPACK_SHAPE}",
                   where=DOCUMENT_WHERE, kind=SCHEMA)


def _a(json_type: str) -> str:
    return {"array": "a JSON array", "object": "a JSON object", "integer": "a number", "number": "a number",
            "string": "a JSON string", "boolean": "true or false", "null": "null"}.get(json_type, json_type)


def looks_like_datapack(document) -> bool:
    return isinstance(document, dict) and ("info" in document or "children" in document)


def _type_problem(key: str, expected: str, value, where: str, place: str) -> Problem:
    return Problem(f"{key!s} must be of type {expected}, not {_json_type(value)}", where=where, place=place, kind=SCHEMA)


def _uuid_problem(key: str, value, where: str, place: str) -> Problem | None:
    if not isinstance(value, str):
        return _type_problem(f"'{key}'", "string", value, where, place)
    if not UUID_PATTERN.search(value):
        return Problem(f"'{key}' must contain a UUID (lowercase hex, 8-4-4-4-12), not {_show(value)}",
                       where=where, place=place, kind=SCHEMA)
    return None


def _required(mapping: dict, keys: tuple[str, ...], where: str, place: str) -> Problem | None:
    missing = [key for key in keys if key not in mapping]
    if not missing:
        return None
    return Problem(", ".join(f"'{key}' is required" for key in missing), where=where, place=place, kind=SCHEMA)


def _unique_key(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return (type(value) is bool, value)
    return (False, to_json_text(value))


def _info_problems(info) -> Iterator[Problem]:
    if not isinstance(info, dict):
        yield _type_problem("'info'", "object", info, DOCUMENT_WHERE, "info")
        return
    problem = _required(info, ("name", "author", "description", "keywords"), INFO_WHERE, "info")
    if problem:
        yield problem
    for key, value in info.items():
        place = f"info.{key}"
        if key in ("name", "author", "description") and not isinstance(value, str):
            yield _type_problem(f"'{key}'", "string", value, INFO_WHERE, place)
        elif key == "id":
            problem = _uuid_problem(key, value, INFO_WHERE, place)
            if problem:
                yield problem
        elif key == "keywords":
            if not isinstance(value, list):
                yield _type_problem("'keywords'", "array", value, INFO_WHERE, place)
                continue
            seen = set()
            repeated = False
            for index, keyword in enumerate(value):
                if not isinstance(keyword, str):
                    yield _type_problem(f"keyword {index + 1}", "string", keyword, INFO_WHERE, f"{place}[{index}]")
                marker = _unique_key(keyword)
                repeated = repeated or marker in seen
                seen.add(marker)
            if repeated:
                yield Problem("'keywords' must not repeat a value", where=INFO_WHERE, place=place, kind=SCHEMA)


class _Descend:
    __slots__ = ("at",)

    def __init__(self, at: _At):
        self.at = at


def _node_problems(at: _At) -> Iterator[Problem | _Descend]:
    """The schema's problems of one node, in the order its keys are written; `_Descend` for each child.
    Where the node is (its names, its place) is worked out only for a node that has a problem."""
    node = at.node
    if not isinstance(node, dict):
        yield Problem(f"node {at.index + 1} must be of type object, not {_json_type(node)}",
                      where=at.parent_where(), place=at.place(), kind=SCHEMA)
        return
    kind = node.get("class")
    keys = ("class", "name", "text") + {"container": ("children",), "data": ("link",)}.get(
        kind if isinstance(kind, str) else "", ())
    if any(key not in node for key in keys):
        yield _required(node, keys, at.where(), at.place())
    for key, value in node.items():
        if key == "class":
            if value not in ("container", "data") or not isinstance(value, str):
                yield Problem(f"'class' must be \"container\" or \"data\", not {_show(value)}",
                              where=at.where(), place=f"{at.place()}.{key}", kind=SCHEMA)
        elif key in ("name", "text"):
            if not isinstance(value, str):
                yield _type_problem(f"'{key}'", "string", value, at.where(), f"{at.place()}.{key}")
        elif key == "id" or (key == "type" and kind == "data"):
            if not (isinstance(value, str) and UUID_PATTERN.search(value)):
                yield _uuid_problem(key, value, at.where(), f"{at.place()}.{key}")
        elif kind == "data" and key == "link":
            if not isinstance(value, str):
                yield _type_problem("'link'", "string", value, at.where(), f"{at.place()}.{key}")
        elif kind == "data" and key == "meta":
            if not isinstance(value, dict):
                yield _type_problem("'meta'", "object", value, at.where(), f"{at.place()}.{key}")
        elif kind == "container" and key == "children":
            if not isinstance(value, list):
                yield _type_problem("'children'", "array", value, at.where(), f"{at.place()}.{key}")
            else:
                for index, child in enumerate(value):
                    yield _Descend(_At(at, index, child))


def _document_steps(document: dict) -> Iterator[Problem | _Descend]:
    problem = _required(document, ("info", "children"), DOCUMENT_WHERE, "")
    if problem:
        yield problem
    for key, value in document.items():
        if key == "info":
            yield from _info_problems(value)
        elif key == "children":
            if not isinstance(value, list):
                yield _type_problem("'children'", "array", value, DOCUMENT_WHERE, "children")
            else:
                for index, child in enumerate(value):
                    yield _Descend(_At(None, index, child))


def schema_problems(document) -> list[Problem]:
    """Every way `document` breaks the public schema's rules (what repovizz2 itself would refuse), in
    document order; [] when repovizz2 accepts it. No depth limit: the walk is iterative."""
    if not looks_like_datapack(document):
        return [not_a_datapack(document)]
    return _schema_pass(document)[0]


def _schema_pass(document: dict) -> tuple[list[Problem], set[int]]:
    """The schema's problems, and the ids of the nodes they are about (for the portal's rules to skip)."""
    problems: list[Problem] = []
    broken: set[int] = set()
    stack = [(_document_steps(document), None)]
    while stack:
        steps, node = stack[-1]
        step = next(steps, None)
        if step is None:
            stack.pop()
        elif isinstance(step, _Descend):
            stack.append((_node_problems(step.at), step.at.node))
        else:
            problems.append(step)
            if node is not None:
                broken.add(id(node))
    return problems, broken


# --- The portal's own rules, for the datapacks it creates ---------------------------------------

# C0 and C1 control characters and DEL; a text (a node's text, a description) may hold line breaks and tabs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


# Bidirectional embeddings, overrides and isolates: they make text display differently from what it is.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def neutralised(text: str) -> str:
    """`text` with each bidirectional control written as its code (``[U+202E]``), for a page to show."""
    return _BIDI.sub(lambda found: f"[U+{ord(found.group()):04X}]", text)


def control_character_reason(value, *, multiline: bool = False) -> str | None:
    """Why a name (or, with `multiline`, a text) cannot be stored as it is, or None."""
    if not isinstance(value, str):
        return None
    found = (_CONTROL_IN_TEXT if multiline else _CONTROL).search(value)
    if found:
        return f"contains a control character (U+{ord(found.group()):04X}); remove it"
    found = _BIDI.search(value)
    if found:
        return (f"contains a bidirectional control (U+{ord(found.group()):04X}), which makes it display "
                "differently from what it is; remove it")
    if _SURROGATE.search(value):
        return "contains a lone surrogate (half of a character); remove it"
    return None


def _nodes_in_order(document) -> Iterator[_At]:
    """Every node (objects only) in document order, with where it sits; iterative."""
    children = document.get("children") if isinstance(document, dict) else None
    stack = [(None, children, 0)]
    while stack:
        parent, nodes, start = stack.pop()
        if not isinstance(nodes, list):
            continue
        for index in range(start, len(nodes)):
            node = nodes[index]
            if not isinstance(node, dict):
                continue
            at = _At(parent, index, node)
            yield at
            if node.get("class") == "container":
                stack.append((parent, nodes, index + 1))
                stack.append((at, node.get("children"), 0))
                break


def _too_deep_value(value, limit: int) -> list | None:
    """The JSON path of the first value nested more than `limit` levels inside `value`, or None."""
    stack = [(value, 0, None)]
    while stack:
        item, depth, path = stack.pop()
        if depth > limit:
            parts = []
            while path is not None:
                path, part = path
                parts.append(part)
            return parts[::-1]
        if isinstance(item, dict):
            stack.extend((child, depth + 1, (path, key)) for key, child in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((child, depth + 1, (path, index)) for index, child in reversed(list(enumerate(item))))
    return None


def nesting_problem(document) -> Problem | None:
    """The portal's limit on JSON nesting (a `meta` nested hundreds of levels, say), as one problem."""
    path = _too_deep_value(document, MAX_NESTING)
    if path is None:
        return None
    at, value, used = None, document, 0
    while used + 1 < len(path) and path[used] == "children" and isinstance(path[used + 1], int):
        value = value["children"][path[used + 1]]
        if not isinstance(value, dict):
            break
        at = _At(at, path[used + 1], value)
        used += 2
    place = place_of(path[:used + 1])
    return Problem(f"is nested more than {MAX_NESTING} levels deep; the portal takes at most {MAX_NESTING} levels "
                   "of JSON (a limit of the portal, not of repovizz2)",
                   where=at.where() if at else DOCUMENT_WHERE, place=place, kind=PORTAL)


def portal_problems(document, skip: set[str] = frozenset(), skip_nodes: set[int] = frozenset()) -> list[Problem]:
    """The portal's own, stricter rules for a document it is about to create (links apart: see
    `link_problems`). Nodes already reported (their place in `skip`, or their id in `skip_nodes`)
    are left alone."""
    if not isinstance(document, dict):
        return []
    problems: list[Problem] = []
    info = document.get("info")
    if isinstance(info, dict):
        name = info.get("name")
        if isinstance(name, str) and not name.strip():
            problems.append(Problem("'name' must not be empty: repovizz2 lists the datapack under it",
                                    where=INFO_WHERE, place="info.name", kind=PORTAL))
        for key in ("name", "author", "description"):
            reason = control_character_reason(info.get(key), multiline=key == "description")
            if reason:
                problems.append(Problem(f"'{key}' {reason}", where=INFO_WHERE, place=f"info.{key}", kind=PORTAL))
    too_deep = None
    skip_depths = {place.count("[") for place in skip}  # a node's place is worked out only where it may match
    for at in _nodes_in_order(document):
        if id(at.node) in skip_nodes or (at.depth in skip_depths and at.place() in skip):
            continue
        if at.depth > MAX_DEPTH:
            too_deep = too_deep or Problem(
                f"is nested more than {MAX_DEPTH} levels deep; the portal creates datapacks of at most {MAX_DEPTH} "
                "levels (a limit of the portal, not of repovizz2)", where=at.where(), place=at.place(), kind=PORTAL)
            continue
        node = at.node
        for key in ("name", "text"):
            reason = control_character_reason(node.get(key), multiline=key == "text")
            if reason:
                problems.append(Problem(f"'{key}' {reason}", where=at.where(), place=f"{at.place()}.{key}",
                                        kind=PORTAL))
        if node.get("class") == "data" and "mime" in node:
            mime = node["mime"]
            reason = f"must be text such as \"video/mp4\", not {_json_type(mime)}" if not isinstance(mime, str) \
                else control_character_reason(mime)
            if reason:
                problems.append(Problem(f"'mime' {reason}", where=at.where(), place=f"{at.place()}.mime",
                                        kind=PORTAL))
    if too_deep:
        problems.append(too_deep)
    nesting = nesting_problem(document) if too_deep is None else None
    if nesting:
        problems.append(nesting)
    return problems


def broken_places(problems: list[Problem]) -> set[str]:
    """The places of the nodes `problems` are about (a problem at ``children[0].link`` breaks ``children[0]``)."""
    places = set()
    for problem in problems:
        place = problem.place
        match = _NODE_PLACE.match(place) if place else None
        if match:
            places.add(match.group())
    return places


_NODE_PLACE = re.compile(r"children\[\d+\](?:\.children\[\d+\])*")


def document_problems(document) -> list[Problem]:
    """Every way `document` breaks the rules for a new datapack, the links' own rules apart: the public
    schema's first, then the portal's own for the nodes the schema found nothing wrong with."""
    if not looks_like_datapack(document):
        return [not_a_datapack(document)]
    problems, broken = _schema_pass(document)
    return problems + portal_problems(document, skip_nodes=broken)


def upload_problems(document) -> list[Problem]:
    """Everything a new datapack's document must pass before its files are looked at: both levels of
    rules and the link rules; a node already reported is not reported again for its link."""
    problems = document_problems(document)
    if problems and not looks_like_datapack(document):
        return problems
    return problems + link_problems(document, broken_places(problems))


# --- Links ----------------------------------------------------------------------------------------

def unsafe_link_reason(link) -> str | None:
    """Why a path cannot name a file safely (a link, or a path in an archive, which is normalised
    afterwards), or None when it can. See `link_reason` for the stricter rule on a document's links."""
    if not isinstance(link, str):
        return "is not a string"
    if not link.strip():
        return "is empty"
    if "\x00" in link:
        return "contains a NUL character"
    control = _CONTROL.search(link)
    if control:
        return f"contains a control character (U+{ord(control.group()):04X})"
    if _SURROGATE.search(link):
        return "contains a lone surrogate (half of a character)"
    bidi = _BIDI.search(link)
    if bidi:
        return f"contains a bidirectional control (U+{ord(bidi.group()):04X})"
    if link.startswith(("/", "\\")) or (len(link) > 1 and link[0].isalpha() and link[1] == ":"):
        return "is an absolute path"
    parts = link.replace("\\", "/").split("/")
    if ".." in parts:
        return "goes up a folder with '..'"
    if len(link) > 1024:
        return "is longer than 1024 characters"
    return None


def link_reason(link) -> str | None:
    """Why a data node's link cannot wait for a file, or None when it can: `unsafe_link_reason`, and
    no empty or ``.`` part between slashes (``a//b``, ``./a``, ``a/``), which a file uploaded to it
    could never reach."""
    reason = unsafe_link_reason(link)
    if reason is None and {"", "."} & set(link.replace("\\", "/").split("/")):
        reason = "has an empty or '.' part between slashes: write 'a/b.json', not 'a//b.json', './b.json' or 'a/'"
    return reason


def link_problems(document, skip: set[str] = frozenset()) -> list[Problem]:
    """The portal's rules on the links of the files still to upload: each names a file safely, and
    no two nodes wait for the same file. Nodes whose place is in `skip` are left alone."""
    nodes = [node for node in walk_data_nodes(document)
             if isinstance(node.node.get("link"), str) and not node.uploaded and node.place not in skip]
    problems = []
    safe = []
    for node in nodes:
        reason = link_reason(node.link)
        if reason:
            problems.append(Problem(f"link {quoted(node.link)} {reason}", where=node.where, place=node.place,
                                    kind=PORTAL))
        else:
            safe.append(node)
    by_link: dict[str, list[TreeNode]] = {}
    for node in safe:
        by_link.setdefault(node.link, []).append(node)
    for link, group in by_link.items():
        if len(group) > 1:
            nodes_text = listed(group, quote=lambda node: f"{node.where} ({node.place})")
            problems.append(Problem(f"link {quoted(link)} is used by {len(group)} data nodes: {nodes_text}; "
                                    "each file can be uploaded once", kind=PORTAL))
    return problems


# --- Reading and writing JSON strictly ------------------------------------------------------------

class JSONRefused(ValueError):
    """Text that is not strict JSON: `reason` says why, in words (e.g. "is not UTF-8 text")."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _reject_constant(name: str):
    raise JSONRefused(f"is not valid JSON ({name} is not a JSON number)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONRefused(f"is not valid JSON ({text[:40]} is too large a number)")
    return value


def strict_json(text: str | bytes):
    """Parse JSON as the standard writes it: UTF-8, no NaN or Infinity (nor numbers so large they
    become one), no lone surrogate (``"\\ud800"``), nesting no deeper than Python can read.
    JSONRefused says what is wrong."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise JSONRefused("is not UTF-8 text") from None
    text = text.removeprefix("\ufeff")
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except JSONRefused:
        raise
    except json.JSONDecodeError as exc:
        message = exc.msg.removesuffix(" at")  # "Unterminated string starting at" ends in "at" itself
        raise JSONRefused(f"is not valid JSON ({message} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise JSONRefused("is nested too deeply to read") from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise JSONRefused(f"is not valid JSON ({exc})") from None
    # A lone surrogate comes from the text itself or from a \\uD800-\\uDFFF escape: without either (as in
    # almost every document) the parsed value is not walked for one.
    surrogate = _first_surrogate(value) if _SURROGATE.search(text) or _SURROGATE_ESCAPE.search(text) else None
    if surrogate:
        raise JSONRefused(f"contains a lone surrogate (\\u{ord(surrogate):04x}), which is not text")
    return value


def _strings(value) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str):
                    yield key
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)


def _first_surrogate(value) -> str | None:
    for text in _strings(value):
        found = _SURROGATE.search(text)
        if found:
            return found.group()
    return None


def load_document(text: str | bytes) -> dict:
    """Parse a document's JSON strictly (no rules checked yet), raising DatapackInvalid when it is not
    JSON or not even shaped like a datapack (a sensor file chosen by mistake, say)."""
    try:
        document = strict_json(text)
    except JSONRefused as refused:
        raise DatapackInvalid([Problem(refused.reason, where=DOCUMENT_WHERE)]) from None
    if not isinstance(document, dict):
        raise DatapackInvalid([not_a_datapack(document)])
    return document


def parse_document(text: str | bytes) -> dict:
    """Parse and check a new datapack document (both levels of rules), raising DatapackInvalid with every problem."""
    document = load_document(text)
    problems = document_problems(document)
    if problems:
        raise DatapackInvalid(problems)
    return document


def _safe_text(text: str, ensure_ascii: bool) -> str:
    if not ensure_ascii and _SURROGATE.search(text):
        ensure_ascii = True  # a lone surrogate is written as its \\u escape
    return json.dumps(text, ensure_ascii=ensure_ascii)


def _iterative_dumps(value, ensure_ascii: bool) -> str:
    """Compact JSON of any value, however deep, without recursion; NaN and infinities become null."""
    out: list[str] = []
    stack: list = [("value", value)]
    while stack:
        what, item = stack.pop()
        if what == "raw":
            out.append(item)
        elif isinstance(item, dict):
            out.append("{")
            entries = list(item.items())
            stack.append(("raw", "}"))
            for position in range(len(entries) - 1, -1, -1):
                key, child = entries[position]
                stack.append(("value", child))
                stack.append(("raw", ("," if position else "") + _safe_text(str(key), ensure_ascii) + ":"))
        elif isinstance(item, (list, tuple)):
            out.append("[")
            stack.append(("raw", "]"))
            for position in range(len(item) - 1, -1, -1):
                stack.append(("value", item[position]))
                if position:
                    stack.append(("raw", ","))
        elif isinstance(item, str):
            out.append(_safe_text(item, ensure_ascii))
        elif isinstance(item, bool) or item is None:
            out.append(json.dumps(item))
        elif isinstance(item, int):
            out.append(int.__repr__(item))
        elif isinstance(item, float):
            out.append(float.__repr__(item) if math.isfinite(item) else "null")
        else:
            out.append(_safe_text(str(item), ensure_ascii))
    return "".join(out)


def to_json_text(value, *, indent: int | None = None, ensure_ascii: bool = False) -> str:
    """`value` as strict JSON text, never raising: a lone surrogate is written as its ``\\u`` escape,
    NaN and infinities as null, and a value too deep for the standard encoder is written compactly
    by an iterative one. What the portal sends to a browser or a file always parses as JSON."""
    try:
        text = json.dumps(value, indent=indent, ensure_ascii=ensure_ascii, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        return _iterative_dumps(value, ensure_ascii)
    # A lone surrogate can only sit inside a string literal: its escape there means the same.
    return text if ensure_ascii else _SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def copy_json(value):
    """A deep copy of a JSON value, however deep, without recursion."""
    if not isinstance(value, (dict, list)):
        return value
    root = {} if isinstance(value, dict) else []
    stack = [(value, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, child in items:
            if isinstance(child, (dict, list)):
                copied = {} if isinstance(child, dict) else []
                stack.append((child, copied))
            else:
                copied = child
            if isinstance(target, dict):
                target[key] = copied
            else:
                target.append(copied)
    return root


def readable_copy(value):
    """A copy of a JSON value fit to show on a page: every lone surrogate in its strings (which no
    page can encode) replaced by U+FFFD. Values that need no change are returned as they are."""
    if _first_surrogate(value) is None:
        return value
    copied = copy_json(value)
    stack = [copied]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in list(item):
                child = item.pop(key)
                item[without_surrogates(key) if isinstance(key, str) else key] = without_surrogates(child) if isinstance(child, str) \
                    else child
                if isinstance(child, (dict, list)):
                    stack.append(child)
        elif isinstance(item, list):
            for index, child in enumerate(item):
                if isinstance(child, str):
                    item[index] = without_surrogates(child)
                elif isinstance(child, (dict, list)):
                    stack.append(child)
    return copied if not isinstance(value, str) else without_surrogates(value)


def without_surrogates(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD (the replacement character)."""
    return _SURROGATE.sub("\ufffd", text)


# --- Walking the tree -----------------------------------------------------------------------------

@dataclass(frozen=True)
class TreeNode:
    """One node of a datapack tree, with its place and depth for display."""

    place: str
    depth: int
    node: dict = field(compare=False, repr=False)
    names: tuple = field(default=(), compare=False, repr=False)  # the names from the root down to it

    @property
    def is_data(self) -> bool:
        return self.node.get("class") == "data"

    @property
    def name(self) -> str:
        name = self.node.get("name", "")
        return name if isinstance(name, str) else ""

    @property
    def text(self) -> str:
        text = self.node.get("text", "")
        return text if isinstance(text, str) else ""

    @property
    def link(self) -> str:
        link = self.node.get("link", "")
        return link if isinstance(link, str) else ""

    @property
    def mime(self) -> str:
        meta = self.node.get("meta")
        mime = self.node.get("mime") or (meta.get("mime", "") if isinstance(meta, dict) else "")
        return mime if isinstance(mime, str) else ""

    @property
    def uploaded(self) -> bool:
        return is_uploaded(self.link)

    @property
    def where(self) -> str:
        """The node by its names from the root: ``IMU › Orientation``."""
        return trail_text(list(self.names)) if self.names else _display_name(self.node)


def walk_nodes(document) -> Iterator[TreeNode]:
    """Every node of the tree in document order (depth first), however deep, without recursion."""
    trail: list[str] = []
    stack = [((document.get("children") if isinstance(document, dict) else None), "", 0, 0)]
    while stack:
        nodes, parent, depth, start = stack.pop()
        if not isinstance(nodes, list):
            continue
        for index in range(start, len(nodes)):
            node = nodes[index]
            if not isinstance(node, dict):
                continue
            place = f"{parent}.children[{index}]" if parent else f"children[{index}]"
            del trail[depth:]
            trail.append(_display_name(node))
            yield TreeNode(place, depth, node, tuple(trail))
            if node.get("class") == "container":
                stack.append((nodes, parent, depth, index + 1))
                stack.append((node.get("children"), place, depth + 1, 0))
                break


def container_names(document) -> dict[str, list[str]]:
    """For each node's place, the names of the containers it sits in, outermost first."""
    trail: list[str] = []
    names: dict[str, list[str]] = {}
    for node in walk_nodes(document):
        del trail[node.depth:]
        names[node.place] = list(trail)
        if not node.is_data:
            trail.append(node.name)
    return names


def walk_data_nodes(document) -> list[TreeNode]:
    """The data nodes of the tree, in document order."""
    return [node for node in walk_nodes(document) if node.is_data]


def tree_depth(document) -> int:
    """How many levels of nodes the tree has (0 when it has none)."""
    return max((node.depth + 1 for node in walk_nodes(document)), default=0)


def is_uploaded(link) -> bool:
    return isinstance(link, str) and link.startswith(UPLOADED_PREFIX)


def reference_id(link) -> str:
    """The opaque id behind ``repovizz:<id>``."""
    return link[len(UPLOADED_PREFIX):] if is_uploaded(link) else ""


def pending_links(content: dict) -> list[str]:
    """The links of a content listing that still wait for their file."""
    return [link for link in content if not is_uploaded(link)]


def normalize_path(path: str) -> str:
    """A file's relative path as the browser or zip gave it, with forward slashes and no ``./``."""
    return posixpath.normpath(path.replace("\\", "/")).lstrip("/") if path else ""


# --- Matching links to files ----------------------------------------------------------------------

@dataclass
class FileMatch:
    """How the links of a datapack pair up with the files sent beside it."""

    matched: dict[str, str]  # link -> file path
    missing: list[str]
    ambiguous: dict[str, list[str]]  # link -> the files it could mean
    contested: dict[str, list[str]]  # file path -> the links that all mean it
    unreferenced: list[str]  # files no link means: left out of an upload, not a problem

    @property
    def problems(self) -> list[Problem]:
        problems = [Problem(f"no file was sent for link {quoted(link)}") for link in self.missing]
        problems += [Problem(f"link {quoted(link)} matches several files: {listed(paths)}")
                     for link, paths in self.ambiguous.items()]
        problems += [Problem(f"file {quoted(path)} is matched by several links: {listed(links)}")
                     for path, links in self.contested.items()]
        return problems


def _same(path: str) -> str:
    """The form two paths are compared in: macOS hands out decomposed (NFD) names, documents say NFC."""
    return unicodedata.normalize("NFC", path)


class _FileIndex:
    """The files by exact path, by every tail after a "/" and by file name: each lookup a dictionary's."""

    def __init__(self, paths: list[str]):
        self.exact: dict[str, list[str]] = {}
        self.below: dict[str, list[str]] = {}
        self.named: dict[str, list[str]] = {}
        for path in paths:
            key = _same(path)
            self.exact.setdefault(key, []).append(path)
            tails = [key[index + 1:] for index, char in enumerate(key) if char == "/"]
            for tail in dict.fromkeys(tails):
                self.below.setdefault(tail, []).append(path)
            self.named.setdefault(posixpath.basename(key), []).append(path)

    def candidates(self, link: str) -> list[str]:
        """The files a link could mean: the exact relative path; else the paths that end with "/" + link;
        else the files of the same name."""
        wanted = _same(normalize_path(link))
        if not wanted or wanted == ".":
            return []
        # A folder upload prefixes the chosen folder's name. Every such file is a candidate, however
        # deep: preferring the shallowest would pick a stray copy above a document kept in a subfolder.
        return list(self.exact.get(wanted) or self.below.get(wanted) or self.named.get(posixpath.basename(wanted), []))


def match_links_to_files(links: Iterable[str], file_paths: Iterable[str]) -> FileMatch:
    """Pair each link with exactly one file: by relative path first, then by file name.

    A file that is some link's only candidate is taken by it and no longer a candidate of the links
    that could mean several files. A file taken by several links is contested (so is every file of
    a link whose candidates were all taken). Every file ends up exactly one of matched, contested,
    an ambiguous link's candidate, or unreferenced.

    Linear in the links and files (plus the candidates each link has): files are looked up in
    dictionaries, and each round of taking only revisits the links that lost a candidate.
    """
    paths = sorted({normalize_path(path) for path in file_paths})
    index = _FileIndex(paths)
    # A link that is not a string, or is blank, names no file: that is the document's problem
    # (document_problems, link_problems), not a file to look for.
    unique_links = list(dict.fromkeys(link for link in links if isinstance(link, str) and link.strip()))
    original = {link: index.candidates(link) for link in unique_links}
    sole = {link: found[0] for link, found in original.items() if len(found) == 1}
    several = {link: found for link, found in original.items() if len(found) > 1}
    wanted_by: dict[str, list[str]] = {}
    for link, found in several.items():
        for path in found:
            wanted_by.setdefault(path, []).append(link)
    starved: dict[str, list[str]] = {}
    taken: set[str] = set()
    newly = set(sole.values())
    while newly:
        taken |= newly
        touched = dict.fromkeys(link for path in sorted(newly) for link in wanted_by.get(path, ()) if link in several)
        newly = set()
        for link in touched:
            found = several.pop(link)
            left = [path for path in found if path not in taken]
            if len(left) == 1:
                sole[link] = left[0]
                newly.add(left[0])
            elif left:
                several[link] = left
            else:
                starved[link] = original[link]
        newly -= taken
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

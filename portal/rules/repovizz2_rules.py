"""repovizz2's rules: what repovizz2 itself accepts as a datapack document, written as the project's
own JSON Schema (`DATAPACK_SCHEMA`) and checked with `jsonschema`. The portal reads, shows, edits,
resumes and downloads any document that passes them; only what it creates meets stricter rules
(portal/rules/creation_rules.py).

jsonschema validates by recursion, and a tree may be nested deeper than Python's stack. So the
checker walks the tree itself, iteratively, and has jsonschema check one level at a time: the
document and its info, then each node, each against the schema with its list of child nodes checked
only for being a list (`SHALLOW`). Behind that depth guard, a value nested deeper than GUARD levels
is given to jsonschema as a stand-in of its JSON type (every rule on such a value is about its type,
and jsonschema compares and describes values by recursion). Each problem becomes one line, in the
order the document is written, saying where it is (`Problem`, kind ``schema``).
"""
from __future__ import annotations

import re
from typing import Iterator

from jsonschema import Draft202012Validator, ValidationError

from .datapack_tree import NodeAt
from .problems import DOCUMENT_WHERE, INFO_WHERE, SCHEMA, Problem, a_json_value, json_type, shown
from .strict_json import to_json_text, too_deep_path

# The UUID pattern is not anchored: any string that *contains* a lowercase UUID passes (`urn:uuid:…`).
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

DATAPACK_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "A repovizz2 datapack document, as repovizz2 accepts it",
    "type": "object",
    "required": ["info", "children"],
    "properties": {
        "info": {"$ref": "#/$defs/info"},
        "children": {"$ref": "#/$defs/nodes"},
    },
    "$defs": {
        "uuid_bearing": {"type": "string", "pattern": UUID},
        "info": {
            "description": "The datapack as a whole. Other keys are free.",
            "type": "object",
            "required": ["name", "author", "description", "keywords"],
            "properties": {
                "name": {"type": "string"},
                "author": {"type": "string"},
                "description": {"type": "string"},
                "keywords": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                "id": {"$ref": "#/$defs/uuid_bearing"},
            },
        },
        "nodes": {"type": "array", "items": {"$ref": "#/$defs/node"}},
        "node": {
            "description": "A container of nodes, or a data node that links to one file. Other keys "
                           "(`mime` among them) are free.",
            "type": "object",
            "required": ["class", "name", "text"],
            "properties": {
                "class": {"enum": ["container", "data"]},
                "name": {"type": "string"},
                "text": {"type": "string"},
                "id": {"$ref": "#/$defs/uuid_bearing"},
            },
            "allOf": [
                {"if": {"required": ["class"], "properties": {"class": {"const": "container"}}},
                 "then": {"required": ["children"], "properties": {"children": {"$ref": "#/$defs/nodes"}}}},
                {"if": {"required": ["class"], "properties": {"class": {"const": "data"}}},
                 "then": {"required": ["link"],
                          "properties": {"link": {"type": "string"}, "type": {"$ref": "#/$defs/uuid_bearing"},
                                         "meta": {"type": "object"}}}},
            ],
        },
    },
}
# The same rules, a list of nodes checked only for being a list: the walk below visits each node.
SHALLOW = {**DATAPACK_SCHEMA, "$defs": {**DATAPACK_SCHEMA["$defs"], "nodes": {"type": "array"}}}
_DOCUMENT = Draft202012Validator(SHALLOW)
_NODE = Draft202012Validator({"$defs": SHALLOW["$defs"], "$ref": "#/$defs/node"})
# The order a problem lists a level's missing keys in: the order the schema requires them in.
_NODE_DEF = DATAPACK_SCHEMA["$defs"]["node"]
DOCUMENT_KEYS = tuple(DATAPACK_SCHEMA["required"])
INFO_KEYS = tuple(DATAPACK_SCHEMA["$defs"]["info"]["required"])
NODE_KEYS = tuple(_NODE_DEF["required"]) + tuple(key for case in _NODE_DEF["allOf"] for key in case["then"]["required"])
# Values nested deeper than this reach jsonschema as stand-ins (see `_stand_in`).
GUARD = 100

DATAPACK_SHAPE = ('a datapack document is a JSON object with "info" (its "name", "author", "description" and '
                  '"keywords") and "children" (its nodes: containers, and data nodes that link to files)')


def looks_like_datapack(document) -> bool:
    return isinstance(document, dict) and ("info" in document or "children" in document)


def not_a_datapack(document) -> Problem:
    what = f"it is {a_json_value(json_type(document))}" if not isinstance(document, dict) else \
        'it is a JSON object without "info" or "children"'
    return Problem(f"this does not look like a datapack document ({what}); {DATAPACK_SHAPE}",
                   where=DOCUMENT_WHERE, kind=SCHEMA)


def schema_problems(document) -> list[Problem]:
    """Every way `document` breaks repovizz2's rules (what repovizz2 itself would refuse), in
    document order; [] when repovizz2 accepts it. No depth limit: the walk is iterative."""
    if not looks_like_datapack(document):
        return [not_a_datapack(document)]
    return schema_pass(document)[0]


def schema_pass(document: dict) -> tuple[list[Problem], set[int]]:
    """The schema's problems, and the ids of the nodes they are about (for the portal's rules to skip)."""
    problems: list[Problem] = []
    broken: set[int] = set()
    stack = [(_document_steps(document), None)]
    while stack:
        steps, node = stack[-1]
        step = next(steps, None)
        if step is None:
            stack.pop()
        elif isinstance(step, NodeAt):
            stack.append((_node_steps(step), step.node))
        else:
            problems.append(step)
            if node is not None:
                broken.add(id(node))
    return problems, broken


# --- jsonschema's verdicts, one level at a time -------------------------------------------------------

class _Verdicts:
    """What jsonschema found wrong with one level, by the path of the value it is about."""

    def __init__(self, errors: Iterator[ValidationError]):
        self.missing: dict[tuple, set[str]] = {}
        self.failed: dict[tuple, str] = {}  # path → the first keyword that failed there ("type", "pattern"…)
        for error in errors:
            path = tuple(error.absolute_path)
            if error.validator == "required":
                self.missing.setdefault(path, set()).update(
                    key for key in error.validator_value if key not in error.instance)
            else:
                self.failed.setdefault(path, error.validator)

    def required(self, path: tuple, order: tuple[str, ...], where: str, place: str) -> Problem | None:
        missing = sorted(self.missing.get(path, ()), key=order.index)
        if not missing:
            return None
        return Problem(", ".join(f"'{key}' is required" for key in missing), where=where, place=place, kind=SCHEMA)


def _type_problem(label: str, expected: str, value, where: str, place: str) -> Problem:
    return Problem(f"{label} must be of type {expected}, not {json_type(value)}", where=where, place=place, kind=SCHEMA)


def _uuid_problem(key: str, value, failed: str, where: str, place: str) -> Problem:
    if failed == "type":
        return _type_problem(f"'{key}'", "string", value, where, place)
    return Problem(f"'{key}' must contain a UUID (lowercase hex, 8-4-4-4-12), not {shown(value)}",
                   where=where, place=place, kind=SCHEMA)


EXPECTED = {"name": "string", "author": "string", "description": "string", "text": "string", "link": "string",
            "keywords": "array", "children": "array", "meta": "object", "info": "object"}


def _document_steps(document: dict) -> Iterator[Problem | NodeAt]:
    """The document's own problems and its info's, in the order its keys are written; a `NodeAt` for
    each top-level node, to be walked in its turn."""
    verdicts = _Verdicts(_DOCUMENT.iter_errors(_checkable_document(document)))
    problem = verdicts.required((), DOCUMENT_KEYS, DOCUMENT_WHERE, "")
    if problem:
        yield problem
    for key, value in document.items():
        if key == "info":
            yield from _info_problems(value, verdicts)
        elif key == "children":
            if ("children",) in verdicts.failed:
                yield _type_problem("'children'", "array", value, DOCUMENT_WHERE, "children")
            else:
                for index, child in enumerate(value):
                    yield NodeAt(None, index, child)


def _info_problems(info, verdicts: _Verdicts) -> Iterator[Problem]:
    if ("info",) in verdicts.failed:
        yield _type_problem("'info'", "object", info, DOCUMENT_WHERE, "info")
        return
    problem = verdicts.required(("info",), INFO_KEYS, INFO_WHERE, "info")
    if problem:
        yield problem
    for key, value in info.items():
        place = f"info.{key}"
        failed = verdicts.failed.get(("info", key))
        if key == "id" and failed:
            yield _uuid_problem(key, value, failed, INFO_WHERE, place)
        elif key == "keywords" and failed == "type":
            yield _type_problem("'keywords'", "array", value, INFO_WHERE, place)
        elif key == "keywords":
            for index, keyword in enumerate(value):
                if ("info", "keywords", index) in verdicts.failed:
                    yield _type_problem(f"keyword {index + 1}", "string", keyword, INFO_WHERE, f"{place}[{index}]")
            if failed == "uniqueItems":
                yield Problem("'keywords' must not repeat a value", where=INFO_WHERE, place=place, kind=SCHEMA)
        elif failed:
            yield _type_problem(f"'{key}'", EXPECTED[key], value, INFO_WHERE, place)


def _node_steps(at: NodeAt) -> Iterator[Problem | NodeAt]:
    """One node's problems, in the order its keys are written; a `NodeAt` for each child node. Where
    the node is (its names, its place) is worked out only for a node that has a problem."""
    node = at.node
    verdicts = _node_verdicts(node)
    if () in verdicts.failed:
        yield Problem(f"node {at.index + 1} must be of type object, not {json_type(node)}",
                      where=at.parent_where(), place=at.place(), kind=SCHEMA)
        return
    if verdicts.missing:
        yield verdicts.required((), NODE_KEYS, at.where(), at.place())
    container = node.get("class") == "container"
    for key, value in node.items():
        failed = verdicts.failed.get((key,))
        if failed is None:
            if key == "children" and container:
                for index, child in enumerate(value):
                    yield NodeAt(at, index, child)
            continue
        place = f"{at.place()}.{key}"
        if key == "class":
            yield Problem(f"'class' must be \"container\" or \"data\", not {shown(value)}",
                          where=at.where(), place=place, kind=SCHEMA)
        elif key in ("id", "type"):
            yield _uuid_problem(key, value, failed, at.where(), place)
        else:
            yield _type_problem(f"'{key}'", EXPECTED[key], value, at.where(), place)


# What the node schema's verdict on a node depends on, read from the schema: the keys whose values it
# names (enum, const) and the keys it matches against a pattern. Everything else it judges by type.
_DEFS = SHALLOW["$defs"]


def _resolved(schema: dict) -> dict:
    ref = schema.get("$ref")
    return _resolved(_DEFS[ref.rsplit("/", 1)[1]]) if ref else schema


def _node_properties() -> Iterator[dict]:
    node = _DEFS["node"]
    yield node["properties"]
    for case in node["allOf"]:
        yield case["if"]["properties"]
        yield case["then"]["properties"]


_VALUED = {key for properties in _node_properties() for key, rule in properties.items()
           if {"enum", "const"} & set(_resolved(rule))}
_PATTERNS = {key: _resolved(rule)["pattern"] for properties in _node_properties() for key, rule in properties.items()
             if "pattern" in _resolved(rule)}
_SCALARS = (str, int, float, bool, type(None))
_VERDICTS: dict = {}  # a node's shape → jsonschema's verdict on nodes of that shape
_VERDICTS_KEPT = 4096


def _shape(node) -> frozenset | str:
    """All the node schema's verdict on `node` depends on: each key with its value's JSON type, the
    value itself where the schema names values, and whether it matches where the schema has a pattern."""
    if not isinstance(node, dict):
        return type(node).__name__
    parts = []
    for key, value in node.items():
        if key in _VALUED and isinstance(value, _SCALARS):
            parts.append((key, type(value).__name__, value))
        elif key in _PATTERNS and isinstance(value, str):
            parts.append((key, "str", re.search(_PATTERNS[key], value) is not None))
        else:
            parts.append((key, type(value).__name__))
    return frozenset(parts)


def _node_verdicts(node) -> _Verdicts:
    """jsonschema's verdict on one node. Nodes of one shape (most of a document's) share it: it is asked
    of jsonschema once per shape, which keeps a document of thousands of nodes quick to check."""
    shape = _shape(node)
    verdicts = _VERDICTS.get(shape)
    if verdicts is None:
        verdicts = _Verdicts(_NODE.iter_errors(_checkable(node)))
        if len(_VERDICTS) >= _VERDICTS_KEPT:
            _VERDICTS.clear()
        _VERDICTS[shape] = verdicts
    return verdicts


def _stand_in(value):
    """`value`, or when it is nested deeper than GUARD, an empty value of its JSON type."""
    if isinstance(value, (dict, list)) and too_deep_path(value, GUARD) is not None:
        return {} if isinstance(value, dict) else []
    return value


def _checkable(node):
    """One level as jsonschema checks it: its values guarded, its child nodes left to the walk."""
    if not isinstance(node, dict):
        return _stand_in(node)
    return {key: [] if key == "children" and isinstance(value, list) else _stand_in(value)
            for key, value in node.items()}


def _checkable_document(document: dict) -> dict:
    """The document's level, its info included. A keyword nested too deeply stands in as an object
    holding its JSON text: two such keywords are the same when their texts are (uniqueness compares
    by recursion), and either still fails being a string."""
    checkable = _checkable(document)
    info = document.get("info")
    if isinstance(info, dict):
        checkable["info"] = {key: _keywords(value) if key == "keywords" else _stand_in(value)
                             for key, value in info.items()}
    return checkable


def _keywords(keywords):
    if not isinstance(keywords, list):
        return _stand_in(keywords)
    return [{"nested too deeply to compare": to_json_text(keyword)}
            if isinstance(keyword, (dict, list)) and too_deep_path(keyword, GUARD) is not None else keyword
            for keyword in keywords]
